/*
 * offer: v1 Offer JSON into struct offer (see offer.h), for the schedulers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dcos/offer.h"

/* {"value": "..."} into buf; 1 present, 0 absent, -1 malformed */
static int
id_value(const json_t *o, const char *base, const char *key, int flags,
    char *buf, size_t size, struct json_errs *e)
{
	char path[JSON_PATH_MAX];
	const json_t *id;
	const char *v;
	int rc;

	if ((rc = json_get_object(o, base, key, flags, &id, e)) != 1)
		return rc;
	json_path_key(path, sizeof(path), base, key);
	if ((rc = json_get_str(id, path, "value", JF_REQUIRED | JF_NONEMPTY, &v,
	    e)) != 1)
		return -1;
	snprintf(buf, size, "%s", v);
	return 1;
}

static void
attr_push(struct attributes *a, const struct attribute *at)
{
	a->v = realloc(a->v, (a->n + 1) * sizeof(*a->v));
	if (a->v == NULL)
		abort();
	a->v[a->n++] = *at;
}

int
attributes_from_v1(const json_t *arr, const char *path, struct attributes *out,
    struct json_errs *e)
{
	size_t i, before = json_errs_count(e);
	json_t *o;

	memset(out, 0, sizeof(*out));
	if (arr == NULL || json_is_null(arr))
		return 0;
	if (!json_is_array(arr)) {
		json_errs_add(e, path, "error.expected.jsarray");
		return -1;
	}
	json_array_foreach(arr, i, o) {
		char p[JSON_PATH_MAX], vp[JSON_PATH_MAX];
		struct attribute at;
		const char *name, *type, *text;
		const json_t *val;

		memset(&at, 0, sizeof(at));
		json_path_index(p, sizeof(p), path, i);
		if (json_get_str(o, p, "name", JF_REQUIRED | JF_NONEMPTY, &name, e) != 1 ||
		    json_get_str(o, p, "type", JF_REQUIRED, &type, e) != 1)
			continue;
		/* cut, a name or text could end mid-character: refused, as
		 * attributes_parse and resources_from_v1 refuse long ones */
		if (strlen(name) >= sizeof(at.name)) {
			json_errs_add(e, p, "attribute name too long");
			continue;
		}
		snprintf(at.name, sizeof(at.name), "%s", name);
		if (strcmp(type, "TEXT") == 0) {
			json_path_key(vp, sizeof(vp), p, "text");
			if (json_get_object(o, p, "text", JF_REQUIRED, &val, e) != 1 ||
			    json_get_str(val, vp, "value", JF_REQUIRED, &text, e) != 1)
				continue;
			if (strlen(text) >= sizeof(at.text)) {
				json_errs_add(e, vp, "attribute text too long");
				continue;
			}
			at.type = ATTR_TEXT;
			snprintf(at.text, sizeof(at.text), "%s", text);
		} else if (strcmp(type, "SCALAR") == 0) {
			json_path_key(vp, sizeof(vp), p, "scalar");
			if (json_get_object(o, p, "scalar", JF_REQUIRED, &val, e) != 1 ||
			    json_get_double(val, vp, "value", JF_REQUIRED, -1e15, 1e15,
			    &at.scalar, e) != 1)
				continue;
			at.type = ATTR_SCALAR;
		} else if (strcmp(type, "RANGES") == 0) {
			const json_t *list = NULL, *rg;
			size_t k;

			json_path_key(vp, sizeof(vp), p, "ranges");
			if (json_get_object(o, p, "ranges", JF_REQUIRED, &val, e) != 1 ||
			    json_get_array(val, vp, "range", 0, &list, e) == -1)
				continue;
			at.type = ATTR_RANGES;
			if (list) json_array_foreach(list, k, rg) {
				if (at.nranges == sizeof(at.ranges) / sizeof(at.ranges[0]))
					break;
				at.ranges[at.nranges].begin = (uint64_t)json_integer_value(
				    json_object_get(rg, "begin"));
				at.ranges[at.nranges].end = (uint64_t)json_integer_value(
				    json_object_get(rg, "end"));
				at.nranges++;
			}
		} else {
			char tp[JSON_PATH_MAX];

			json_path_key(tp, sizeof(tp), p, "type");
			json_errs_add(e, tp, "unknown attribute type '%s'", type);
			continue;
		}
		attr_push(out, &at);
	}
	if (json_errs_count(e) > before) {
		attributes_free(out);
		return -1;
	}
	return 0;
}

int
offer_from_v1(const json_t *o, const char *path, struct offer *out,
    struct json_errs *e)
{
	size_t before = json_errs_count(e);
	char p[JSON_PATH_MAX];
	const json_t *url, *addr, *domain, *fd, *ai, *sub;
	const char *s;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(o)) {
		json_errs_add(e, path, "error.expected.jsobject");
		return -1;
	}
	id_value(o, path, "id", JF_REQUIRED, out->id, sizeof(out->id), e);
	id_value(o, path, "agent_id", JF_REQUIRED, out->agent_id,
	    sizeof(out->agent_id), e);
	id_value(o, path, "framework_id", 0, out->framework_id,
	    sizeof(out->framework_id), e);
	if (json_get_str(o, path, "hostname", JF_REQUIRED, &s, e) == 1)
		snprintf(out->hostname, sizeof(out->hostname), "%s", s);
	if (json_get_object(o, path, "url", 0, &url, e) == 1 &&
	    (addr = json_object_get(url, "address")) != NULL) {
		char ap[JSON_PATH_MAX];
		json_int_t port;

		snprintf(out->ip, sizeof(out->ip), "%s",
		    json_str_or(addr, "ip", ""));
		/* a number of any size: cast to int unchecked, undefined */
		snprintf(ap, sizeof(ap), "%s/url/address", path);
		if (json_get_int(addr, ap, "port", 0, 0, 65535, &port, e) == 1)
			out->port = (int)port;
	}
	if (json_get_object(o, path, "domain", 0, &domain, e) == 1 &&
	    (fd = json_object_get(domain, "fault_domain")) != NULL) {
		if ((sub = json_object_get(fd, "region")) != NULL)
			snprintf(out->region, sizeof(out->region), "%s",
			    json_str_or(sub, "name", ""));
		if ((sub = json_object_get(fd, "zone")) != NULL)
			snprintf(out->zone, sizeof(out->zone), "%s",
			    json_str_or(sub, "name", ""));
	}
	if (json_get_object(o, path, "allocation_info", 0, &ai, e) == 1)
		snprintf(out->alloc_role, sizeof(out->alloc_role), "%s",
		    json_str_or(ai, "role", ""));
	json_path_key(p, sizeof(p), path, "resources");
	if (resources_from_v1(json_object_get(o, "resources"), p, &out->res,
	    e) == -1)
		resources_init(&out->res);
	json_path_key(p, sizeof(p), path, "attributes");
	attributes_from_v1(json_object_get(o, "attributes"), p, &out->attrs, e);
	if (json_errs_count(e) > before) {
		offer_free(out);
		return -1;
	}
	return 0;
}

void
offer_free(struct offer *o)
{
	resources_free(&o->res);
	attributes_free(&o->attrs);
	memset(&o->res, 0, sizeof(o->res));
	memset(&o->attrs, 0, sizeof(o->attrs));
}

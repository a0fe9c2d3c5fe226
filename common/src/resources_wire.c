/*
 * resources_wire: the wire forms of a resource set: the agent's
 * --resources text, the v1 JSON array of the Mesos APIs and the summary
 * object of /state ({"cpus": 2, "ports": "[31000-32000]"}).
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resources_int.h"

static int
parse_entry(const char *name, const char *role, const char *value,
    struct resources *out, char *err, size_t errlen)
{
	struct resource tmp = { 0 };
	char *end;

	snprintf(tmp.name, sizeof(tmp.name), "%s", name);
	snprintf(tmp.role, sizeof(tmp.role), "%s", role);
	if (value[0] == '[') {
		tmp.type = RES_RANGES;
		if (res_ranges_parse(value, &tmp) == -1) {
			res_clear(&tmp);
			snprintf(err, errlen, "bad ranges '%s' for resource '%s'",
			    value, name);
			return -1;
		}
	} else if (value[0] == '{') {
		char *copy = strdup(value + 1), *save = NULL, *item;
		size_t len = strlen(copy);

		tmp.type = RES_SET;
		if (len == 0 || copy[len - 1] != '}') {
			free(copy);
			snprintf(err, errlen, "bad set '%s' for resource '%s'",
			    value, name);
			return -1;
		}
		copy[len - 1] = '\0';
		for (item = strtok_r(copy, ",", &save); item;
		    item = strtok_r(NULL, ",", &save)) {
			while (isspace((unsigned char)*item))
				item++;
			if (!json_utf8_valid(item, strlen(item))) {
				free(copy);
				res_clear(&tmp);
				snprintf(err, errlen, "bad set item in resource "
				    "'%s': not UTF-8", name);
				return -1;
			}
			if (*item)
				res_set_add(&tmp, item);
		}
		free(copy);
	} else {
		errno = 0;
		tmp.type = RES_SCALAR;
		tmp.scalar = strtod(value, &end);
		if (errno || end == value || *end || !isfinite(tmp.scalar) ||
		    tmp.scalar < 0 || tmp.scalar > SCALAR_MAX) {
			snprintf(err, errlen, "bad value '%s' for resource '%s': "
			    "expected a number from 0 to %g, [a-b] ranges or {a,b}",
			    value, name, SCALAR_MAX);
			return -1;
		}
		tmp.scalar = res_fixed(tmp.scalar);
	}
	res_add_one(out, &tmp);
	res_clear(&tmp);
	return 0;
}

int
resources_parse(const char *text, const char *default_role,
    struct resources *out, char *err, size_t errlen)
{
	char *copy, *save = NULL, *tok;
	int rc = 0;

	resources_init(out);
	while (isspace((unsigned char)*text))
		text++;
	if (text[0] == '[') {
		struct json_errs e;
		json_t *arr = json_loads(text, 0, NULL);

		json_errs_init(&e);
		if (arr == NULL)
			json_errs_add(&e, "", "not valid JSON");
		else
			rc = resources_from_v1(arr, "", out, &e);
		if (arr == NULL || rc == -1) {
			json_errs_first(&e, err, errlen);
			rc = -1;
		}
		json_decref(arr);
		json_errs_free(&e);
		return rc;
	}
	if ((copy = strdup(text)) == NULL)
		abort();
	for (tok = strtok_r(copy, ";", &save); tok && rc == 0;
	    tok = strtok_r(NULL, ";", &save)) {
		char *colon = strchr(tok, ':'), *name = tok, *role, *paren;

		while (isspace((unsigned char)*name))
			name++;
		if (*name == '\0')
			continue;
		if (colon == NULL) {
			snprintf(err, errlen, "bad resource '%s': expected name:value",
			    name);
			rc = -1;
			break;
		}
		*colon = '\0';
		role = (char *)default_role;
		if ((paren = strchr(name, '(')) != NULL) {
			char *close = strchr(paren, ')');

			if (close == NULL || close[1] || close == paren + 1) {
				snprintf(err, errlen, "bad role in resource '%s'", name);
				rc = -1;
				break;
			}
			*paren = '\0';
			*close = '\0';
			role = paren + 1;
		}
		if (*name == '\0' || strlen(name) >= sizeof(out->v->name) ||
		    !json_utf8_valid(name, strlen(name))) {
			snprintf(err, errlen, "bad resource name '%s'", name);
			rc = -1;
			break;
		}
		if (!json_utf8_valid(role, strlen(role))) {
			snprintf(err, errlen, "bad role in resource '%s': not "
			    "UTF-8", name);
			rc = -1;
			break;
		}
		rc = parse_entry(name, role, colon + 1, out, err, errlen);
	}
	free(copy);
	if (rc == -1)
		resources_free(out);
	return rc;
}

/* --- JSON forms --- */

json_t *
resources_to_v1(const struct resources *r, const char *alloc_role)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < r->n; i++) {
		const struct resource *res = &r->v[i];
		json_t *o = json_pack("{s:s, s:s}", "name", res->name, "role",
		    res->role);

		switch (res->type) {
		case RES_SCALAR:
			if (res->scalar <= 0.0005) {
				json_decref(o);
				continue;
			}
			json_object_set_new(o, "type", json_string("SCALAR"));
			json_object_set_new(o, "scalar", json_pack("{s:f}", "value",
			    res->scalar));
			break;
		case RES_RANGES: {
			json_t *ranges = json_array();

			if (res->nranges == 0) {
				json_decref(ranges);
				json_decref(o);
				continue;
			}
			for (size_t k = 0; k < res->nranges; k++)
				json_array_append_new(ranges, json_pack("{s:I, s:I}",
				    "begin", (json_int_t)res->ranges[k].begin, "end",
				    (json_int_t)res->ranges[k].end));
			json_object_set_new(o, "type", json_string("RANGES"));
			json_object_set_new(o, "ranges", json_pack("{s:o}", "range",
			    ranges));
			break;
		}
		case RES_SET: {
			json_t *items = json_array();

			for (size_t k = 0; k < res->nitems; k++)
				json_array_append_new(items, json_string(res->items[k]));
			json_object_set_new(o, "type", json_string("SET"));
			json_object_set_new(o, "set", json_pack("{s:o}", "item", items));
			break;
		}
		}
		if (strcmp(res->role, "*") != 0)
			json_object_set_new(o, "reservations", json_pack("[{s:s, s:s}]",
			    "type", "STATIC", "role", res->role));
		if (alloc_role)
			json_object_set_new(o, "allocation_info", json_pack("{s:s}",
			    "role", alloc_role));
		json_array_append_new(arr, o);
	}
	return arr;
}

/* The role of a v1 resource: the last reservation's, else "role", else *. */
static const char *
v1_role(const json_t *o)
{
	const json_t *resv = json_object_get(o, "reservations");
	const char *role;

	if (json_is_array(resv) && json_array_size(resv) > 0) {
		role = json_string_value(json_object_get(json_array_get(resv,
		    json_array_size(resv) - 1), "role"));
		if (role)
			return role;
	}
	role = json_string_value(json_object_get(o, "role"));
	return role ? role : "*";
}

int
resources_from_v1(const json_t *arr, const char *path, struct resources *out,
    struct json_errs *e)
{
	size_t i, before = json_errs_count(e);
	json_t *o;

	resources_init(out);
	if (arr == NULL || json_is_null(arr))
		return 0;
	if (!json_is_array(arr)) {
		json_errs_add(e, path, "error.expected.jsarray");
		return -1;
	}
	json_array_foreach(arr, i, o) {
		char p[JSON_PATH_MAX], vp[JSON_PATH_MAX];
		struct resource tmp = { 0 };
		const char *name = NULL, *type = NULL;
		const json_t *val;

		json_path_index(p, sizeof(p), path, i);
		if (json_get_str(o, p, "name", JF_REQUIRED | JF_NONEMPTY, &name, e) != 1 ||
		    json_get_str(o, p, "type", JF_REQUIRED, &type, e) != 1)
			continue;
		if (strlen(name) >= sizeof(tmp.name)) {
			json_errs_add(e, p, "resource name too long");
			continue;
		}
		snprintf(tmp.name, sizeof(tmp.name), "%s", name);
		snprintf(tmp.role, sizeof(tmp.role), "%s", v1_role(o));
		if (!strcmp(type, "SCALAR")) {
			json_path_key(vp, sizeof(vp), p, "scalar");
			tmp.type = RES_SCALAR;
			if (json_get_object(o, p, "scalar", JF_REQUIRED, &val, e) != 1 ||
			    json_get_double(val, vp, "value", JF_REQUIRED, 0, SCALAR_MAX,
			    &tmp.scalar, e) != 1)
				continue;
			tmp.scalar = res_fixed(tmp.scalar);
		} else if (!strcmp(type, "RANGES")) {
			const json_t *list = NULL, *rg; /* absent: no ranges */
			size_t k;

			tmp.type = RES_RANGES;
			json_path_key(vp, sizeof(vp), p, "ranges");
			if (json_get_object(o, p, "ranges", JF_REQUIRED, &val, e) != 1)
				continue;
			if (json_get_array(val, vp, "range", 0, &list, e) == -1)
				continue;
			if (json_is_array(list)) json_array_foreach(list, k, rg) {
				char rp[JSON_PATH_MAX], lp[JSON_PATH_MAX];
				json_int_t b, en;

				json_path_key(lp, sizeof(lp), vp, "range");
				json_path_index(rp, sizeof(rp), lp, k);
				if (json_get_int(rg, rp, "begin", JF_REQUIRED, 0,
				    INT64_MAX, &b, e) == 1 &&
				    json_get_int(rg, rp, "end", JF_REQUIRED, b, INT64_MAX,
				    &en, e) == 1)
					res_ranges_push(&tmp, (uint64_t)b, (uint64_t)en);
			}
			res_ranges_normalize(&tmp);
		} else if (!strcmp(type, "SET")) {
			const json_t *items = NULL, *it; /* absent: no items */
			size_t k;

			tmp.type = RES_SET;
			json_path_key(vp, sizeof(vp), p, "set");
			if (json_get_object(o, p, "set", JF_REQUIRED, &val, e) != 1 ||
			    json_get_array(val, vp, "item", 0, &items, e) == -1)
				continue;
			if (json_is_array(items)) json_array_foreach(items, k, it)
				if (json_is_string(it))
					res_set_add(&tmp, json_string_value(it));
		} else {
			char tp[JSON_PATH_MAX];

			json_path_key(tp, sizeof(tp), p, "type");
			json_errs_add(e, tp, "unknown resource type '%s'", type);
			continue;
		}
		res_add_one(out, &tmp);
		res_clear(&tmp);
	}
	if (json_errs_count(e) > before) {
		resources_free(out);
		return -1;
	}
	return 0;
}

static void
summary_add(json_t *obj, const struct resource *res)
{
	char buf[4096];

	switch (res->type) {
	case RES_SCALAR: {
		double cur = json_number_value(json_object_get(obj, res->name));

		json_object_set_new(obj, res->name, json_real(res_fixed(cur + res->scalar)));
		break;
	}
	case RES_RANGES: {
		/* several roles of one range resource: merge before printing */
		struct resource merged = { .type = RES_RANGES };
		const char *prev = json_string_value(json_object_get(obj, res->name));

		if (prev)
			res_ranges_parse(prev, &merged);
		for (size_t i = 0; i < res->nranges; i++)
			res_ranges_push(&merged, res->ranges[i].begin, res->ranges[i].end);
		res_ranges_normalize(&merged);
		json_object_set_new(obj, res->name, json_string(ranges_format(
		    merged.ranges, merged.nranges, buf, sizeof(buf))));
		res_clear(&merged);
		break;
	}
	case RES_SET: {
		size_t used = (size_t)snprintf(buf, sizeof(buf), "{");

		for (size_t i = 0; i < res->nitems && used < sizeof(buf); i++)
			used += (size_t)snprintf(buf + used, sizeof(buf) - used,
			    "%s%s", i ? ", " : "", res->items[i]);
		if (used < sizeof(buf))
			snprintf(buf + used, sizeof(buf) - used, "}");
		json_object_set_new(obj, res->name, json_string(buf));
		break;
	}
	}
}

json_t *
resources_summary(const struct resources *r)
{
	json_t *obj = json_pack("{s:f, s:f, s:f, s:f}", "cpus", 0.0, "gpus", 0.0,
	    "mem", 0.0, "disk", 0.0);

	for (size_t i = 0; i < r->n; i++)
		summary_add(obj, &r->v[i]);
	return obj;
}

json_t *
resources_reserved_summary(const struct resources *r)
{
	json_t *out = json_object();

	for (size_t i = 0; i < r->n; i++) {
		const struct resource *res = &r->v[i];
		json_t *role;

		if (!strcmp(res->role, "*"))
			continue;
		if ((role = json_object_get(out, res->role)) == NULL) {
			role = json_pack("{s:f, s:f, s:f, s:f}", "cpus", 0.0, "gpus",
			    0.0, "mem", 0.0, "disk", 0.0);
			json_object_set_new(out, res->role, role);
		}
		summary_add(role, res);
	}
	return out;
}

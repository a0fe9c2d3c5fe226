/*
 * resources: sets of Mesos resources keyed by (name, role), their three
 * wire forms (agent flag text, v1 JSON, state summary JSON) and the
 * arithmetic of the allocator. Attributes live here too: they share the
 * value syntax.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dcos/resources.h"

static double
fixed(double v)
{
	return round(v * 1000.0) / 1000.0;
}

void
resources_init(struct resources *r)
{
	r->v = NULL;
	r->n = 0;
}

static void
resource_clear(struct resource *res)
{
	for (size_t i = 0; i < res->nitems; i++)
		free(res->items[i]);
	free(res->items);
	free(res->ranges);
	res->items = NULL;
	res->ranges = NULL;
	res->nitems = res->nranges = 0;
}

void
resources_free(struct resources *r)
{
	for (size_t i = 0; i < r->n; i++)
		resource_clear(&r->v[i]);
	free(r->v);
	resources_init(r);
}

static struct resource *
find_mut(struct resources *r, const char *name, const char *role)
{
	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->v[i].name, name) && !strcmp(r->v[i].role, role))
			return &r->v[i];
	return NULL;
}

const struct resource *
resources_find(const struct resources *r, const char *name, const char *role)
{
	return find_mut((struct resources *)r, name, role);
}

static struct resource *
entry(struct resources *r, const char *name, const char *role,
    enum res_type type)
{
	struct resource *res = find_mut(r, name, role);

	if (res)
		return res->type == type ? res : NULL;
	r->v = realloc(r->v, (r->n + 1) * sizeof(*r->v));
	if (r->v == NULL)
		abort();
	res = &r->v[r->n++];
	memset(res, 0, sizeof(*res));
	snprintf(res->name, sizeof(res->name), "%s", name);
	snprintf(res->role, sizeof(res->role), "%s", role);
	res->type = type;
	return res;
}

/* --- ranges --- */

static int
range_cmp(const void *a, const void *b)
{
	const struct res_range *x = a, *y = b;

	return x->begin < y->begin ? -1 : x->begin > y->begin;
}

static void
ranges_normalize(struct resource *res)
{
	size_t out = 0;

	if (res->nranges == 0)
		return;
	qsort(res->ranges, res->nranges, sizeof(*res->ranges), range_cmp);
	for (size_t i = 1; i < res->nranges; i++) {
		struct res_range *last = &res->ranges[out];

		if (res->ranges[i].begin <= last->end + 1) {
			if (res->ranges[i].end > last->end)
				last->end = res->ranges[i].end;
		} else {
			res->ranges[++out] = res->ranges[i];
		}
	}
	res->nranges = out + 1;
}

static void
ranges_push(struct resource *res, uint64_t begin, uint64_t end)
{
	res->ranges = realloc(res->ranges, (res->nranges + 1) * sizeof(*res->ranges));
	if (res->ranges == NULL)
		abort();
	res->ranges[res->nranges].begin = begin;
	res->ranges[res->nranges++].end = end;
}

static bool
ranges_contain(const struct resource *a, uint64_t begin, uint64_t end)
{
	for (size_t i = 0; i < a->nranges; i++)
		if (a->ranges[i].begin <= begin && end <= a->ranges[i].end)
			return true;
	return false;
}

/* Removes [begin, end] from res (which must contain it). */
static void
ranges_remove(struct resource *res, uint64_t begin, uint64_t end)
{
	for (size_t i = 0; i < res->nranges; i++) {
		struct res_range r = res->ranges[i];

		if (begin > r.end || end < r.begin)
			continue;
		memmove(&res->ranges[i], &res->ranges[i + 1],
		    (res->nranges - i - 1) * sizeof(r));
		res->nranges--;
		if (r.begin < begin)
			ranges_push(res, r.begin, begin - 1);
		if (end < r.end)
			ranges_push(res, end + 1, r.end);
		ranges_normalize(res);
		return;
	}
}

const char *
ranges_format(const struct res_range *v, size_t n, char *buf, size_t size)
{
	size_t used = (size_t)snprintf(buf, size, "[");

	for (size_t i = 0; i < n && used < size; i++)
		used += (size_t)snprintf(buf + used, size - used, "%s%llu-%llu",
		    i ? ", " : "", (unsigned long long)v[i].begin,
		    (unsigned long long)v[i].end);
	if (used < size)
		snprintf(buf + used, size - used, "]");
	return buf;
}

/* "[1-5,7-9]" or "[1-5, 7-9]"; 0 or -1 */
static int
parse_ranges(const char *s, struct resource *res)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	if (*s++ != '[')
		return -1;
	for (;;) {
		unsigned long long b, e;

		while (isspace((unsigned char)*s) || *s == ',')
			s++;
		if (*s == ']')
			break;
		errno = 0;
		b = strtoull(s, &end, 10);
		if (end == s || errno || *end != '-')
			return -1;
		s = end + 1;
		e = strtoull(s, &end, 10);
		if (end == s || errno || e < b)
			return -1;
		s = end;
		ranges_push(res, b, e);
	}
	s++;
	while (isspace((unsigned char)*s))
		s++;
	if (*s)
		return -1;
	ranges_normalize(res);
	return 0;
}

/* --- sets --- */

static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool
set_has(const struct resource *res, const char *item)
{
	return bsearch(&item, res->items, res->nitems, sizeof(char *),
	    str_cmp) != NULL;
}

static void
set_add(struct resource *res, const char *item)
{
	if (set_has(res, item))
		return;
	res->items = realloc(res->items, (res->nitems + 1) * sizeof(char *));
	if (res->items == NULL || (res->items[res->nitems] = strdup(item)) == NULL)
		abort();
	res->nitems++;
	qsort(res->items, res->nitems, sizeof(char *), str_cmp);
}

static void
set_remove(struct resource *res, const char *item)
{
	for (size_t i = 0; i < res->nitems; i++) {
		if (strcmp(res->items[i], item) == 0) {
			free(res->items[i]);
			memmove(&res->items[i], &res->items[i + 1],
			    (res->nitems - i - 1) * sizeof(char *));
			res->nitems--;
			return;
		}
	}
}

/* --- arithmetic --- */

void
resources_add_scalar(struct resources *r, const char *name, const char *role,
    double value)
{
	struct resource *res = entry(r, name, role, RES_SCALAR);

	if (res)
		res->scalar = fixed(res->scalar + value);
}

void
resources_add_range(struct resources *r, const char *name, const char *role,
    uint64_t begin, uint64_t end)
{
	struct resource *res = entry(r, name, role, RES_RANGES);

	if (res) {
		ranges_push(res, begin, end);
		ranges_normalize(res);
	}
}

static void
add_one(struct resources *dst, const struct resource *src)
{
	struct resource *res = entry(dst, src->name, src->role, src->type);

	if (res == NULL)
		return; /* same name with another type: ignored, as Mesos does */
	switch (src->type) {
	case RES_SCALAR:
		res->scalar = fixed(res->scalar + src->scalar);
		break;
	case RES_RANGES:
		for (size_t i = 0; i < src->nranges; i++)
			ranges_push(res, src->ranges[i].begin, src->ranges[i].end);
		ranges_normalize(res);
		break;
	case RES_SET:
		for (size_t i = 0; i < src->nitems; i++)
			set_add(res, src->items[i]);
		break;
	}
}

void
resources_add(struct resources *dst, const struct resources *src)
{
	for (size_t i = 0; i < src->n; i++)
		add_one(dst, &src->v[i]);
}

void
resources_copy(struct resources *dst, const struct resources *src)
{
	resources_init(dst);
	resources_add(dst, src);
}

static bool
contains_one(const struct resources *a, const struct resource *b)
{
	const struct resource *res = resources_find(a, b->name, b->role);

	switch (b->type) {
	case RES_SCALAR:
		return b->scalar <= 0.0005 ||
		    (res && res->type == RES_SCALAR && res->scalar + 0.0005 >= b->scalar);
	case RES_RANGES:
		for (size_t i = 0; i < b->nranges; i++)
			if (!res || res->type != RES_RANGES ||
			    !ranges_contain(res, b->ranges[i].begin, b->ranges[i].end))
				return false;
		return true;
	case RES_SET:
		for (size_t i = 0; i < b->nitems; i++)
			if (!res || res->type != RES_SET || !set_has(res, b->items[i]))
				return false;
		return true;
	}
	return false;
}

bool
resources_contains(const struct resources *a, const struct resources *b)
{
	for (size_t i = 0; i < b->n; i++)
		if (!contains_one(a, &b->v[i]))
			return false;
	return true;
}

int
resources_subtract(struct resources *dst, const struct resources *src)
{
	if (!resources_contains(dst, src))
		return -1;
	for (size_t i = 0; i < src->n; i++) {
		const struct resource *b = &src->v[i];
		struct resource *res = find_mut(dst, b->name, b->role);

		if (res == NULL)
			continue; /* zero scalar */
		switch (b->type) {
		case RES_SCALAR:
			res->scalar = fixed(res->scalar - b->scalar);
			if (res->scalar < 0)
				res->scalar = 0;
			break;
		case RES_RANGES:
			for (size_t k = 0; k < b->nranges; k++)
				ranges_remove(res, b->ranges[k].begin, b->ranges[k].end);
			break;
		case RES_SET:
			for (size_t k = 0; k < b->nitems; k++)
				set_remove(res, b->items[k]);
			break;
		}
	}
	return 0;
}

bool
resources_empty(const struct resources *r)
{
	for (size_t i = 0; i < r->n; i++) {
		const struct resource *res = &r->v[i];

		if ((res->type == RES_SCALAR && res->scalar > 0.0005) ||
		    (res->type == RES_RANGES && res->nranges) ||
		    (res->type == RES_SET && res->nitems))
			return false;
	}
	return true;
}

double
resources_scalar(const struct resources *r, const char *name)
{
	double sum = 0;

	for (size_t i = 0; i < r->n; i++)
		if (r->v[i].type == RES_SCALAR && !strcmp(r->v[i].name, name))
			sum += r->v[i].scalar;
	return fixed(sum);
}

void
resources_for_role(const struct resources *r, const char *role,
    struct resources *out)
{
	resources_init(out);
	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->v[i].role, "*") || !strcmp(r->v[i].role, role))
			add_one(out, &r->v[i]);
}

/* --- text form --- */

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
		if (parse_ranges(value, &tmp) == -1) {
			resource_clear(&tmp);
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
			if (*item)
				set_add(&tmp, item);
		}
		free(copy);
	} else {
		errno = 0;
		tmp.type = RES_SCALAR;
		tmp.scalar = strtod(value, &end);
		if (errno || end == value || *end || !isfinite(tmp.scalar) ||
		    tmp.scalar < 0) {
			snprintf(err, errlen, "bad value '%s' for resource '%s': "
			    "expected a non-negative number, [a-b] ranges or {a,b}",
			    value, name);
			return -1;
		}
		tmp.scalar = fixed(tmp.scalar);
	}
	add_one(out, &tmp);
	resource_clear(&tmp);
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
		if (*name == '\0' || strlen(name) >= sizeof(out->v->name)) {
			snprintf(err, errlen, "bad resource name '%s'", name);
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
			    json_get_double(val, vp, "value", JF_REQUIRED, 0, 1e15,
			    &tmp.scalar, e) != 1)
				continue;
			tmp.scalar = fixed(tmp.scalar);
		} else if (!strcmp(type, "RANGES")) {
			const json_t *list, *rg;
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
					ranges_push(&tmp, (uint64_t)b, (uint64_t)en);
			}
			ranges_normalize(&tmp);
		} else if (!strcmp(type, "SET")) {
			const json_t *items, *it;
			size_t k;

			tmp.type = RES_SET;
			json_path_key(vp, sizeof(vp), p, "set");
			if (json_get_object(o, p, "set", JF_REQUIRED, &val, e) != 1 ||
			    json_get_array(val, vp, "item", 0, &items, e) == -1)
				continue;
			if (json_is_array(items)) json_array_foreach(items, k, it)
				if (json_is_string(it))
					set_add(&tmp, json_string_value(it));
		} else {
			char tp[JSON_PATH_MAX];

			json_path_key(tp, sizeof(tp), p, "type");
			json_errs_add(e, tp, "unknown resource type '%s'", type);
			continue;
		}
		add_one(out, &tmp);
		resource_clear(&tmp);
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

		json_object_set_new(obj, res->name, json_real(fixed(cur + res->scalar)));
		break;
	}
	case RES_RANGES: {
		/* several roles of one range resource: merge before printing */
		struct resource merged = { .type = RES_RANGES };
		const char *prev = json_string_value(json_object_get(obj, res->name));

		if (prev)
			parse_ranges(prev, &merged);
		for (size_t i = 0; i < res->nranges; i++)
			ranges_push(&merged, res->ranges[i].begin, res->ranges[i].end);
		ranges_normalize(&merged);
		json_object_set_new(obj, res->name, json_string(ranges_format(
		    merged.ranges, merged.nranges, buf, sizeof(buf))));
		resource_clear(&merged);
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

/* --- attributes --- */

void
attributes_free(struct attributes *a)
{
	free(a->v);
	a->v = NULL;
	a->n = 0;
}

int
attributes_parse(const char *text, struct attributes *out, char *err,
    size_t errlen)
{
	char *copy = strdup(text), *save = NULL, *tok;

	if (copy == NULL)
		abort();
	out->v = NULL;
	out->n = 0;
	for (tok = strtok_r(copy, ";", &save); tok; tok = strtok_r(NULL, ";", &save)) {
		char *colon = strchr(tok, ':'), *end;
		struct attribute *at;

		while (isspace((unsigned char)*tok))
			tok++;
		if (*tok == '\0')
			continue;
		if (colon == NULL || colon == tok || colon[1] == '\0') {
			snprintf(err, errlen, "bad attribute '%s': expected name:value",
			    tok);
			goto fail;
		}
		*colon = '\0';
		if (strlen(tok) >= sizeof(at->name) || strlen(colon + 1) >=
		    sizeof(at->text)) {
			snprintf(err, errlen, "attribute '%s' is too long", tok);
			goto fail;
		}
		out->v = realloc(out->v, (out->n + 1) * sizeof(*out->v));
		if (out->v == NULL)
			abort();
		at = &out->v[out->n++];
		memset(at, 0, sizeof(*at));
		snprintf(at->name, sizeof(at->name), "%s", tok);
		snprintf(at->text, sizeof(at->text), "%s", colon + 1);
		at->type = ATTR_TEXT;
		if (colon[1] == '[') {
			struct resource tmp = { .type = RES_RANGES };

			if (parse_ranges(colon + 1, &tmp) == 0 &&
			    tmp.nranges <= sizeof(at->ranges) / sizeof(at->ranges[0])) {
				at->type = ATTR_RANGES;
				memcpy(at->ranges, tmp.ranges, tmp.nranges * sizeof(*tmp.ranges));
				at->nranges = tmp.nranges;
			}
			resource_clear(&tmp);
		} else {
			double v;

			errno = 0;
			v = strtod(colon + 1, &end);
			if (!errno && *end == '\0' && isfinite(v)) {
				at->type = ATTR_SCALAR;
				at->scalar = v;
			}
		}
	}
	free(copy);
	return 0;
fail:
	free(copy);
	attributes_free(out);
	return -1;
}

const char *
attribute_text(const struct attribute *at, char *buf, size_t size)
{
	if (at->type == ATTR_RANGES)
		return ranges_format(at->ranges, at->nranges, buf, size);
	if (at->type == ATTR_SCALAR) {
		snprintf(buf, size, "%g", at->scalar);
		return buf;
	}
	snprintf(buf, size, "%s", at->text);
	return buf;
}

const struct attribute *
attributes_find(const struct attributes *a, const char *name)
{
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->v[i].name, name) == 0)
			return &a->v[i];
	return NULL;
}

json_t *
attributes_summary(const struct attributes *a)
{
	json_t *obj = json_object();
	char buf[512];

	for (size_t i = 0; i < a->n; i++) {
		const struct attribute *at = &a->v[i];

		if (at->type == ATTR_SCALAR)
			json_object_set_new(obj, at->name, json_real(at->scalar));
		else
			json_object_set_new(obj, at->name,
			    json_string(attribute_text(at, buf, sizeof(buf))));
	}
	return obj;
}

json_t *
attributes_to_v1(const struct attributes *a)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < a->n; i++) {
		const struct attribute *at = &a->v[i];
		json_t *o = json_pack("{s:s}", "name", at->name);

		if (at->type == ATTR_SCALAR) {
			json_object_set_new(o, "type", json_string("SCALAR"));
			json_object_set_new(o, "scalar", json_pack("{s:f}", "value",
			    at->scalar));
		} else if (at->type == ATTR_RANGES) {
			json_t *ranges = json_array();

			for (size_t k = 0; k < at->nranges; k++)
				json_array_append_new(ranges, json_pack("{s:I, s:I}",
				    "begin", (json_int_t)at->ranges[k].begin, "end",
				    (json_int_t)at->ranges[k].end));
			json_object_set_new(o, "type", json_string("RANGES"));
			json_object_set_new(o, "ranges", json_pack("{s:o}", "range",
			    ranges));
		} else {
			json_object_set_new(o, "type", json_string("TEXT"));
			json_object_set_new(o, "text", json_pack("{s:s}", "value",
			    at->text));
		}
		json_array_append_new(arr, o);
	}
	return arr;
}

/*
 * resources: sets of Mesos resources keyed by (name, role) and the
 * arithmetic of the allocator. Their wire forms (agent flag text, v1 JSON,
 * state summary JSON) are in resources_wire.c, attributes in attributes.c.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resources_int.h"

double
res_fixed(double v)
{
	return round(v * 1000.0) / 1000.0;
}

void
resources_init(struct resources *r)
{
	r->v = NULL;
	r->n = 0;
}

void
res_clear(struct resource *res)
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
		res_clear(&r->v[i]);
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

void
res_ranges_normalize(struct resource *res)
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

void
res_ranges_push(struct resource *res, uint64_t begin, uint64_t end)
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
			res_ranges_push(res, r.begin, begin - 1);
		if (end < r.end)
			res_ranges_push(res, end + 1, r.end);
		res_ranges_normalize(res);
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

/* "[1-5,7-9]" or "[1-5, 7-9]"; 0 or -1. Bounds are plain decimal
 * numbers up to INT64_MAX (what the v1 JSON form carries): strtoull alone
 * would also take "-5" (as 2^64 - 5) and " +5". */
int
res_ranges_parse(const char *s, struct resource *res)
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
		if (!isdigit((unsigned char)*s))
			return -1;
		b = strtoull(s, &end, 10);
		if (errno || b > INT64_MAX || *end != '-')
			return -1;
		s = end + 1;
		if (!isdigit((unsigned char)*s))
			return -1;
		e = strtoull(s, &end, 10);
		if (errno || e > INT64_MAX || e < b)
			return -1;
		s = end;
		res_ranges_push(res, b, e);
	}
	s++;
	while (isspace((unsigned char)*s))
		s++;
	if (*s)
		return -1;
	res_ranges_normalize(res);
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
	return res->nitems > 0 && bsearch(&item, res->items, res->nitems,
	    sizeof(char *), str_cmp) != NULL;
}

void
res_set_add(struct resource *res, const char *item)
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
		res->scalar = res_fixed(res->scalar + value);
}

void
resources_add_range(struct resources *r, const char *name, const char *role,
    uint64_t begin, uint64_t end)
{
	struct resource *res = entry(r, name, role, RES_RANGES);

	if (res) {
		res_ranges_push(res, begin, end);
		res_ranges_normalize(res);
	}
}

void
res_add_one(struct resources *dst, const struct resource *src)
{
	struct resource *res = entry(dst, src->name, src->role, src->type);

	if (res == NULL)
		return; /* same name with another type: ignored, as Mesos does */
	switch (src->type) {
	case RES_SCALAR:
		res->scalar = res_fixed(res->scalar + src->scalar);
		break;
	case RES_RANGES:
		for (size_t i = 0; i < src->nranges; i++)
			res_ranges_push(res, src->ranges[i].begin, src->ranges[i].end);
		res_ranges_normalize(res);
		break;
	case RES_SET:
		for (size_t i = 0; i < src->nitems; i++)
			res_set_add(res, src->items[i]);
		break;
	}
}

void
resources_add(struct resources *dst, const struct resources *src)
{
	for (size_t i = 0; i < src->n; i++)
		res_add_one(dst, &src->v[i]);
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
			res->scalar = res_fixed(res->scalar - b->scalar);
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
	return res_fixed(sum);
}

void
resources_for_role(const struct resources *r, const char *role,
    struct resources *out)
{
	resources_init(out);
	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->v[i].role, "*") || !strcmp(r->v[i].role, role))
			res_add_one(out, &r->v[i]);
}

/*
 * fuzz/resources: the agent's --resources text (and its JSON-array form)
 * through resources_parse, and the same bytes through attributes_parse.
 *
 * Beyond "no crash, no leak": a parsed set keeps its invariants (one entry
 * per name and role, sorted and coalesced ranges, sorted unique set items,
 * non-negative finite scalars); it survives the v1 JSON round trip the
 * master and agents exchange it in; it contains itself, and subtracting it
 * from a copy leaves nothing. A failed parse says why and returns nothing.
 */
#include <math.h>

#include "dcos/resources.h"
#include "fuzz.h"

static void
check_set(const struct resources *r)
{
	for (size_t i = 0; i < r->n; i++) {
		const struct resource *a = &r->v[i];

		FZ_CHECK(a->name[0] && a->role[0], "empty name or role");
		for (size_t j = i + 1; j < r->n; j++)
			FZ_CHECK(strcmp(a->name, r->v[j].name) ||
			    strcmp(a->role, r->v[j].role), "%s(%s) twice",
			    a->name, a->role);
		switch (a->type) {
		case RES_SCALAR:
			FZ_CHECK(isfinite(a->scalar) && a->scalar >= 0,
			    "%s = %g", a->name, a->scalar);
			break;
		case RES_RANGES:
			for (size_t k = 0; k < a->nranges; k++) {
				FZ_CHECK(a->ranges[k].begin <= a->ranges[k].end,
				    "range %zu of %s reversed", k, a->name);
				FZ_CHECK(k == 0 || (a->ranges[k - 1].end <
				    UINT64_MAX && a->ranges[k].begin >
				    a->ranges[k - 1].end + 1),
				    "ranges %zu and %zu of %s not coalesced", k - 1,
				    k, a->name);
			}
			break;
		case RES_SET:
			for (size_t k = 1; k < a->nitems; k++)
				FZ_CHECK(strcmp(a->items[k - 1], a->items[k]) < 0,
				    "set %s not sorted/unique", a->name);
			break;
		}
	}
}

static void
check_v1_round_trip(const struct resources *r)
{
	json_t *v1 = resources_to_v1(r, NULL), *back;
	struct resources again;
	struct json_errs e;
	char *text;

	FZ_CHECK(v1 != NULL, "resources_to_v1 gave NULL");
	text = json_dumps(v1, JSON_DUMP_FLAGS);
	FZ_CHECK(text != NULL, "v1 form does not serialize");
	back = json_loads(text, 0, NULL);
	FZ_CHECK(back != NULL, "v1 form does not parse back: %s", text);
	json_errs_init(&e);
	FZ_CHECK(resources_from_v1(back, "", &again, &e) == 0,
	    "v1 form rejected: %s", text);
	FZ_CHECK(resources_contains(&again, r) && resources_contains(r, &again),
	    "v1 round trip changed the set: %s", text);
	json_errs_free(&e);
	resources_free(&again);
	json_decref(back);
	json_decref(v1);
	free(text);
}

static void
check_arithmetic(const struct resources *r)
{
	struct resources copy;
	json_t *s;

	FZ_CHECK(resources_contains(r, r), "does not contain itself");
	resources_copy(&copy, r);
	FZ_CHECK(resources_subtract(&copy, r) == 0, "cannot subtract itself");
	FZ_CHECK(resources_empty(&copy), "self - self is not empty");
	/* sets and ranges add as unions, scalars as sums */
	resources_add(&copy, r);
	resources_add(&copy, r);
	FZ_CHECK(resources_contains(&copy, r), "r + r does not contain r");
	FZ_CHECK(resources_subtract(&copy, r) == 0, "r + r - r failed");
	for (size_t i = 0; i < r->n; i++)
		FZ_CHECK(fabs(resources_scalar(&copy, r->v[i].name) -
		    resources_scalar(r, r->v[i].name)) < 0.0015,
		    "scalar %s: r + r - r != r", r->v[i].name);
	resources_free(&copy);

	s = resources_summary(r);
	FZ_CHECK(s != NULL, "no summary");
	json_decref(s);
	s = resources_reserved_summary(r);
	FZ_CHECK(s != NULL, "no reserved summary");
	json_decref(s);
}

static void
check_attributes(const char *text)
{
	struct attributes a;
	char err[256] = "", buf[512];
	json_t *s, *v1;

	if (attributes_parse(text, &a, err, sizeof(err)) == -1) {
		FZ_CHECK(err[0] != '\0', "attributes failed without a reason");
		FZ_CHECK(a.n == 0 && a.v == NULL, "attributes kept on failure");
		return;
	}
	s = attributes_summary(&a);
	v1 = attributes_to_v1(&a);
	FZ_CHECK(s && v1, "attribute JSON forms");
	for (size_t i = 0; i < a.n; i++) {
		FZ_CHECK(a.v[i].name[0], "empty attribute name");
		FZ_CHECK(attributes_find(&a, a.v[i].name) != NULL, "not found");
		attribute_text(&a.v[i], buf, sizeof(buf));
	}
	json_decref(s);
	json_decref(v1);
	attributes_free(&a);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fz_cstr(data, size), err[256] = "";
	struct resources r;

	if (resources_parse(text, size % 2 ? "*" : "slave_public", &r, err,
	    sizeof(err)) == -1) {
		FZ_CHECK(err[0] != '\0', "failed without a reason");
		FZ_CHECK(r.n == 0 && r.v == NULL, "kept resources on failure");
	} else {
		check_set(&r);
		check_v1_round_trip(&r);
		check_arithmetic(&r);
		resources_free(&r);
	}
	check_attributes(text);
	free(text);
	return 0;
}

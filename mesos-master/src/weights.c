/*
 * weights: the weight of each role in the allocator's DRF (a role of weight
 * 2 is entitled to twice the share of a role of weight 1). They come from
 * --weights and, as in Mesos, from the operator's UPDATE_WEIGHTS, which the
 * registry keeps so that the next leader has them too; an updated weight
 * wins over the flag's.
 */
#include <stdlib.h>
#include <string.h>

#include "dcos/strmap.h"
#include "master.h"

double
weights_get(const struct master *m, const char *role)
{
	const double *w = strmap_get(m->weights, role);

	return w ? *w : config_role_weight(m, role);
}

/* each role named in --weights, as role=weight text (checked at start) */
static void
flag_roles(const struct master *m, void (*fn)(const struct master *,
    const char *, void *), void *arg)
{
	for (const char *p = m->f.weights; p && *p;) {
		const char *eq = strchr(p, '='), *end = strchr(p, ',');
		char role[256];

		if (eq && (size_t)(eq - p) < sizeof(role)) {
			memcpy(role, p, (size_t)(eq - p));
			role[eq - p] = '\0';
			fn(m, role, arg);
		}
		p = end ? end + 1 : NULL;
	}
}

static void
apply_one(const struct master *m, const char *role, void *arg)
{
	alloc_set_weight(m->alloc, role, weights_get(m, role));
}

void
weights_apply(struct master *m)
{
	const char *role;

	flag_roles(m, apply_one, NULL);
	for (size_t it = 0; strmap_next(m->weights, &it, &role, NULL);)
		apply_one(m, role, NULL);
}

void
weights_set(struct master *m, const char *role, double weight)
{
	double *w = strmap_get(m->weights, role);

	if (w == NULL) {
		w = xcalloc(1, sizeof(*w));
		strmap_put(m->weights, role, w);
	}
	*w = weight;
	alloc_set_weight(m->alloc, role, weight);
}

void
weights_clear(struct master *m)
{
	void *w;

	for (size_t it = 0; strmap_next(m->weights, &it, NULL, &w);)
		free(w);
	strmap_free(m->weights);
	m->weights = strmap_new();
}

static void
add_info(const struct master *m, const char *role, void *arg)
{
	json_t *list = arg;

	if (strmap_get(m->weights, role) == NULL) /* listed below */
		json_array_append_new(list, json_pack("{s:s, s:f}", "role", role,
		    "weight", weights_get(m, role)));
}

json_t *
weights_json(const struct master *m)
{
	json_t *list = json_array();
	const char *role;
	void *w;

	flag_roles(m, add_info, list);
	for (size_t it = 0; strmap_next(m->weights, &it, &role, &w);)
		json_array_append_new(list, json_pack("{s:s, s:f}", "role", role,
		    "weight", *(double *)w));
	return json_pack("{s:o}", "weight_infos", list);
}

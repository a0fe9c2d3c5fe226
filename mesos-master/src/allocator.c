/*
 * allocator: who gets offered what, by Dominant Resource Fairness between
 * roles (weighted by --weights) and then between the frameworks of a role,
 * as Mesos' hierarchical DRF allocator does.
 *
 * For each agent with something available (in a rotating order), the roles
 * are taken in increasing weighted dominant share; within a role the
 * frameworks in increasing dominant share. The first framework that is
 * active, not suppressing the role and not filtering the agent gets all of
 * the agent's resources usable by that role (unreserved plus reserved to
 * it), if they are worth offering (0.01 cpus or 32 MB). Shares count what
 * is offered or used (the allocator does not tell the two apart: an offer
 * turned into tasks stays allocated). A pass visits every agent
 * (periodically) or only the agents whose resources changed since the
 * last pass (for the passes made at once, e.g. when an agent arrives).
 *
 * Pure logic over plain structs: no I/O, unit tested in
 * tests/test_allocator.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dcos/strmap.h"
#include "dcos/xalloc.h"
#include "master.h"

#define NSC 4
static const char *const sc_names[NSC] = { "cpus", "mem", "disk", "gpus" };

#define MIN_CPUS 0.01
#define MIN_MEM 32.0

struct alloc_role {
	char *name;
	double weight;
	double alloc[NSC];
	struct alloc_fw **fws;
	size_t nfws, cap;
	double share; /* scratch, while sorting */
};

struct fw_role {
	struct alloc_role *role;
	double alloc[NSC];
	bool suppressed;
};

struct alloc_filter {
	double until;
	struct resources res;
};

struct alloc_fw {
	void *owner;
	bool active;
	struct fw_role *roles;
	size_t nroles;
	struct strmap *filters; /* agent key -> alloc_filter */
	double share;           /* scratch, while sorting */
	size_t role_index;      /* scratch: the fw_role being sorted */
};

struct alloc_agent {
	void *owner;
	char key[32];
	struct resources avail;
	double total[NSC];
	bool dirty;
	size_t idx;
};

struct alloc {
	struct alloc_agent **agents;
	size_t nagents, cap;
	struct alloc_agent **dirty;
	size_t ndirty, dcap;
	struct strmap *roles;
	double total[NSC];
	unsigned long long next_key;
	size_t rotate;
};

struct alloc *
alloc_new(void)
{
	struct alloc *a = calloc(1, sizeof(*a));

	if (a == NULL)
		abort();
	a->roles = strmap_new();
	return a;
}

static void
filter_free(struct alloc_filter *f)
{
	resources_free(&f->res);
	free(f);
}

static void
filters_clear(struct alloc_fw *fw)
{
	void *v;

	for (size_t it = 0; strmap_next(fw->filters, &it, NULL, &v);)
		filter_free(v);
	strmap_free(fw->filters);
	fw->filters = strmap_new();
}

void
alloc_free(struct alloc *a)
{
	void *v;

	if (a == NULL)
		return;
	for (size_t i = 0; i < a->nagents; i++) {
		resources_free(&a->agents[i]->avail);
		free(a->agents[i]);
	}
	free(a->agents);
	free(a->dirty);
	for (size_t it = 0; strmap_next(a->roles, &it, NULL, &v);) {
		struct alloc_role *r = v;

		/* frameworks are reachable through their roles only once each:
		 * free them from the first role that lists them */
		for (size_t i = 0; i < r->nfws; i++) {
			struct alloc_fw *fw = r->fws[i];

			if (fw->roles && fw->roles[0].role == r) {
				filters_clear(fw);
				strmap_free(fw->filters);
				free(fw->roles);
				free(fw);
			}
		}
		free(r->fws);
		free(r->name);
		free(r);
	}
	strmap_free(a->roles);
	free(a);
}

static struct alloc_role *
role_get(struct alloc *a, const char *name)
{
	struct alloc_role *r = strmap_get(a->roles, name);

	if (r == NULL) {
		if ((r = calloc(1, sizeof(*r))) == NULL ||
		    (r->name = strdup(name)) == NULL)
			abort();
		r->weight = 1.0;
		strmap_put(a->roles, name, r);
	}
	return r;
}

void
alloc_set_weight(struct alloc *a, const char *role, double weight)
{
	role_get(a, role)->weight = weight > 0 ? weight : 1.0;
}

static void
scalars_of(const struct resources *res, double out[NSC])
{
	for (int k = 0; k < NSC; k++)
		out[k] = resources_scalar(res, sc_names[k]);
}

static void
mark_dirty(struct alloc *a, struct alloc_agent *ag)
{
	if (ag->dirty)
		return;
	ag->dirty = true;
	if (a->ndirty == a->dcap) {
		a->dcap = a->dcap ? a->dcap * 2 : 64;
		a->dirty = xrealloc(a->dirty, a->dcap * sizeof(*a->dirty));
	}
	a->dirty[a->ndirty++] = ag;
}

struct alloc_agent *
alloc_agent_add(struct alloc *a, void *owner, const struct resources *total,
    const struct resources *used)
{
	struct alloc_agent *ag = calloc(1, sizeof(*ag));

	if (ag == NULL)
		abort();
	ag->owner = owner;
	snprintf(ag->key, sizeof(ag->key), "A%llu", a->next_key++);
	resources_copy(&ag->avail, total);
	resources_subtract(&ag->avail, used);
	scalars_of(total, ag->total);
	for (int k = 0; k < NSC; k++)
		a->total[k] += ag->total[k];
	if (a->nagents == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 64;
		a->agents = xrealloc(a->agents, a->cap * sizeof(*a->agents));
	}
	ag->idx = a->nagents;
	a->agents[a->nagents++] = ag;
	mark_dirty(a, ag);
	return ag;
}

void
alloc_agent_remove(struct alloc *a, struct alloc_agent *ag)
{
	for (int k = 0; k < NSC; k++)
		a->total[k] -= ag->total[k];
	a->agents[ag->idx] = a->agents[--a->nagents];
	a->agents[ag->idx]->idx = ag->idx;
	for (size_t i = 0; i < a->ndirty; i++)
		if (a->dirty[i] == ag)
			a->dirty[i] = a->dirty[--a->ndirty];
	resources_free(&ag->avail);
	free(ag);
}

static void
role_add_fw(struct alloc_role *r, struct alloc_fw *fw)
{
	if (r->nfws == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 4;
		r->fws = xrealloc(r->fws, r->cap * sizeof(*r->fws));
	}
	r->fws[r->nfws++] = fw;
}

static void
role_del_fw(struct alloc_role *r, struct alloc_fw *fw)
{
	for (size_t i = 0; i < r->nfws; i++)
		if (r->fws[i] == fw) {
			r->fws[i] = r->fws[--r->nfws];
			return;
		}
}

static void
set_roles(struct alloc *a, struct alloc_fw *fw, const char *const *roles,
    size_t nroles)
{
	struct fw_role *old = fw->roles;
	size_t nold = fw->nroles;

	fw->roles = calloc(nroles ? nroles : 1, sizeof(*fw->roles));
	if (fw->roles == NULL)
		abort();
	fw->nroles = 0;
	for (size_t i = 0; i < nroles; i++) {
		struct fw_role *fr = &fw->roles[fw->nroles++];

		fr->role = role_get(a, roles[i]);
		/* keep what it already holds in a role it stays in */
		for (size_t j = 0; j < nold; j++)
			if (old[j].role == fr->role) {
				*fr = old[j];
				old[j].role = NULL;
			}
		if (fr->role)
			role_del_fw(fr->role, fw);
		role_add_fw(fr->role, fw);
	}
	for (size_t j = 0; j < nold; j++)
		if (old[j].role)
			role_del_fw(old[j].role, fw);
	free(old);
}

struct alloc_fw *
alloc_fw_add(struct alloc *a, void *owner, const char *const *roles,
    size_t nroles, bool active)
{
	struct alloc_fw *fw = calloc(1, sizeof(*fw));

	if (fw == NULL)
		abort();
	fw->owner = owner;
	fw->active = active;
	fw->filters = strmap_new();
	set_roles(a, fw, roles, nroles);
	return fw;
}

void
alloc_fw_set_roles(struct alloc *a, struct alloc_fw *fw,
    const char *const *roles, size_t nroles)
{
	set_roles(a, fw, roles, nroles);
}

void
alloc_fw_remove(struct alloc *a, struct alloc_fw *fw)
{
	for (size_t i = 0; i < fw->nroles; i++) {
		struct alloc_role *r = fw->roles[i].role;

		for (int k = 0; k < NSC; k++)
			r->alloc[k] -= fw->roles[i].alloc[k];
		role_del_fw(r, fw);
	}
	filters_clear(fw);
	strmap_free(fw->filters);
	free(fw->roles);
	free(fw);
}

void *
alloc_fw_owner(const struct alloc_fw *fw)
{
	return fw->owner;
}

static void
mark_all_dirty(struct alloc *a)
{
	for (size_t i = 0; i < a->nagents; i++)
		mark_dirty(a, a->agents[i]);
}

void
alloc_fw_activate(struct alloc *a, struct alloc_fw *fw, bool active)
{
	fw->active = active;
	if (active)
		mark_all_dirty(a);
}

static struct fw_role *
fw_role(struct alloc_fw *fw, const char *role)
{
	for (size_t i = 0; i < fw->nroles; i++)
		if (strcmp(fw->roles[i].role->name, role) == 0)
			return &fw->roles[i];
	return NULL;
}

void
alloc_suppress(struct alloc *a, struct alloc_fw *fw, const char *role)
{
	for (size_t i = 0; i < fw->nroles; i++)
		if (role == NULL || strcmp(fw->roles[i].role->name, role) == 0)
			fw->roles[i].suppressed = true;
}

void
alloc_revive(struct alloc *a, struct alloc_fw *fw, const char *role)
{
	for (size_t i = 0; i < fw->nroles; i++)
		if (role == NULL || strcmp(fw->roles[i].role->name, role) == 0)
			fw->roles[i].suppressed = false;
	filters_clear(fw);
	mark_all_dirty(a);
}

void
alloc_filter(struct alloc *a, struct alloc_fw *fw, struct alloc_agent *ag,
    const struct resources *res, double until)
{
	struct alloc_filter *f = strmap_get(fw->filters, ag->key);

	if (f == NULL) {
		if ((f = calloc(1, sizeof(*f))) == NULL)
			abort();
		strmap_put(fw->filters, ag->key, f);
	} else {
		resources_free(&f->res);
	}
	resources_copy(&f->res, res);
	f->until = until;
}

static void
account(struct alloc *a, struct alloc_fw *fw, const char *role,
    const struct resources *res, double sign)
{
	double s[NSC];
	struct fw_role *fr = fw ? fw_role(fw, role) : NULL;
	struct alloc_role *r = fr ? fr->role : role_get(a, role);

	scalars_of(res, s);
	for (int k = 0; k < NSC; k++) {
		r->alloc[k] += sign * s[k];
		if (fr)
			fr->alloc[k] += sign * s[k];
	}
}

void
alloc_recover(struct alloc *a, struct alloc_fw *fw, struct alloc_agent *ag,
    const char *role, const struct resources *res)
{
	if (ag) {
		resources_add(&ag->avail, res);
		mark_dirty(a, ag);
	}
	account(a, fw, role, res, -1);
}

void
alloc_use(struct alloc *a, struct alloc_fw *fw, struct alloc_agent *ag,
    const char *role, const struct resources *res)
{
	if (ag && resources_subtract(&ag->avail, res) == -1) {
		/* more than it has (an agent reporting more than it offers):
		 * nothing of it is available any more */
		resources_free(&ag->avail);
	}
	account(a, fw, role, res, +1);
}

static double
share_of(const double alloc[NSC], const double total[NSC])
{
	double s = 0;

	for (int k = 0; k < NSC; k++)
		if (total[k] > 0 && alloc[k] / total[k] > s)
			s = alloc[k] / total[k];
	return s;
}

double
alloc_role_share(const struct alloc *a, const char *role)
{
	const struct alloc_role *r = strmap_get(a->roles, role);

	return r ? share_of(r->alloc, a->total) / r->weight : 0;
}

static int
by_share_role(const void *x, const void *y)
{
	const struct alloc_role *a = *(struct alloc_role *const *)x;
	const struct alloc_role *b = *(struct alloc_role *const *)y;

	if (a->share != b->share)
		return a->share < b->share ? -1 : 1;
	return strcmp(a->name, b->name);
}

static int
by_share_fw(const void *x, const void *y)
{
	const struct alloc_fw *a = *(struct alloc_fw *const *)x;
	const struct alloc_fw *b = *(struct alloc_fw *const *)y;

	if (a->share != b->share)
		return a->share < b->share ? -1 : 1;
	return a < b ? -1 : a > b;
}

static bool
worth_offering(const struct resources *r)
{
	return resources_scalar(r, "cpus") >= MIN_CPUS ||
	    resources_scalar(r, "mem") >= MIN_MEM;
}

/* The agent's resources go to the first eligible framework of each role,
 * roles and frameworks in DRF order. */
static size_t
allocate_agent(struct alloc *a, struct alloc_agent *ag,
    struct alloc_role **roles, size_t nroles, double now, alloc_offer_fn fn,
    void *arg)
{
	size_t offers = 0;

	for (size_t i = 0; i < nroles; i++)
		roles[i]->share = share_of(roles[i]->alloc, a->total) /
		    roles[i]->weight;
	qsort(roles, nroles, sizeof(*roles), by_share_role);
	for (size_t i = 0; i < nroles && !resources_empty(&ag->avail); i++) {
		struct alloc_role *r = roles[i];
		struct resources res;

		resources_for_role(&ag->avail, r->name, &res);
		if (!worth_offering(&res)) {
			resources_free(&res);
			continue;
		}
		for (size_t j = 0; j < r->nfws; j++) {
			struct fw_role *fr = fw_role(r->fws[j], r->name);

			r->fws[j]->share = fr ? share_of(fr->alloc, a->total) : 0;
		}
		qsort(r->fws, r->nfws, sizeof(*r->fws), by_share_fw);
		for (size_t j = 0; j < r->nfws; j++) {
			struct alloc_fw *fw = r->fws[j];
			struct fw_role *fr = fw_role(fw, r->name);
			struct alloc_filter *f;

			if (!fw->active || fr == NULL || fr->suppressed)
				continue;
			if ((f = strmap_get(fw->filters, ag->key)) != NULL) {
				if (f->until > now && resources_contains(&f->res, &res))
					continue;
				strmap_del(fw->filters, ag->key);
				filter_free(f);
			}
			resources_subtract(&ag->avail, &res);
			account(a, fw, r->name, &res, +1);
			fn(fw->owner, ag->owner, r->name, &res, arg);
			offers++;
			break;
		}
		resources_free(&res);
	}
	return offers;
}

size_t
alloc_run(struct alloc *a, double now, bool all, alloc_offer_fn fn, void *arg)
{
	struct alloc_role **roles;
	size_t nroles = 0, offers = 0, n;
	void *v;

	roles = calloc(strmap_count(a->roles) + 1, sizeof(*roles));
	if (roles == NULL)
		abort();
	for (size_t it = 0; strmap_next(a->roles, &it, NULL, &v);) {
		struct alloc_role *r = v;

		for (size_t i = 0; i < r->nfws; i++)
			if (r->fws[i]->active) {
				roles[nroles++] = r;
				break;
			}
	}
	if (nroles > 0 && all) {
		n = a->nagents;
		for (size_t i = 0; i < n; i++) {
			struct alloc_agent *ag = a->agents[(a->rotate + i) % n];

			if (!resources_empty(&ag->avail))
				offers += allocate_agent(a, ag, roles, nroles, now, fn,
				    arg);
		}
		if (n)
			a->rotate = (a->rotate + 1) % n;
	} else if (nroles > 0) {
		for (size_t i = 0; i < a->ndirty; i++) {
			struct alloc_agent *ag = a->dirty[i];

			ag->dirty = false;
			if (!resources_empty(&ag->avail))
				offers += allocate_agent(a, ag, roles, nroles, now, fn,
				    arg);
		}
	}
	for (size_t i = 0; i < a->ndirty; i++)
		a->dirty[i]->dirty = false;
	a->ndirty = 0;
	free(roles);
	return offers;
}

bool
alloc_pending(const struct alloc *a)
{
	return a->ndirty > 0;
}

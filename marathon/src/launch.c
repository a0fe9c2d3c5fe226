/*
 * launch: offer matching. For each offer, the apps waiting for instances
 * (launch demand, backoff elapsed) are placed one instance at a time while
 * the offer's remaining resources fit: accepted resource roles, cpus, mem,
 * disk, host ports (any free ones, or the declared ones with requirePorts)
 * and placement constraints against the agents the app already uses.
 * New instances are stored before the ACCEPT goes out, so a failover
 * never forgets a launched task.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dcos/log.h"
#include "dcos/offer.h"
#include "dcos/store.h"

#include "marathon.h"

static bool
role_accepted(const char *role, char *const *roles, size_t nroles)
{
	return strv_has(roles, nroles, role);
}

bool
launch_take_scalar(const struct resources *remaining, const char *name,
    double need,
    char *const *roles, size_t nroles, struct resources *taken)
{
	double left = need;

	if (need <= 0)
		return true;
	for (size_t i = 0; i < remaining->n && left > 0.0005; i++) {
		const struct resource *r = &remaining->v[i];
		double got;

		if (r->type != RES_SCALAR || strcmp(r->name, name) ||
		    !role_accepted(r->role, roles, nroles))
			continue;
		got = r->scalar < left ? r->scalar : left;
		if (got <= 0)
			continue;
		resources_add_scalar(taken, name, r->role, got);
		left -= got;
	}
	return left <= 0.0005;
}

static bool
range_has(const struct resource *r, uint64_t p)
{
	for (size_t k = 0; k < r->nranges; k++)
		if (p >= r->ranges[k].begin && p <= r->ranges[k].end)
			return true;
	return false;
}

static bool
taken_has(const struct resources *taken, uint64_t p)
{
	for (size_t i = 0; i < taken->n; i++)
		if (strcmp(taken->v[i].name, "ports") == 0 &&
		    range_has(&taken->v[i], p))
			return true;
	return false;
}

bool
launch_take_port(const struct resources *remaining, uint64_t want,
    char *const *roles, size_t nroles, struct resources *taken, int *port)
{
	for (size_t i = 0; i < remaining->n; i++) {
		const struct resource *r = &remaining->v[i];

		if (r->type != RES_RANGES || strcmp(r->name, "ports") ||
		    !role_accepted(r->role, roles, nroles))
			continue;
		if (want) {
			if (!range_has(r, want) || taken_has(taken, want))
				continue;
			resources_add_range(taken, "ports", r->role, want, want);
			*port = (int)want;
			return true;
		}
		for (size_t rg = 0; rg < r->nranges; rg++) {
			for (uint64_t p = r->ranges[rg].begin; p <= r->ranges[rg].end;
			    p++) {
				if (taken_has(taken, p))
					continue;
				resources_add_range(taken, "ports", r->role, p, p);
				*port = (int)p;
				return true;
			}
		}
	}
	return false;
}

static bool
take_ports(const struct resources *remaining, const struct app *a,
    char *const *roles, size_t nroles, struct resources *taken, int *ports)
{
	size_t got = 0;

	for (size_t k = 0; k < a->nports; k++) {
		const struct port_def *pd = &a->ports[k];
		uint64_t want;

		if (a->has_port_defs)
			want = a->require_ports ? (uint64_t)pd->port : 0;
		else if (pd->host_port < 0)
			continue; /* container port only */
		else
			want = (uint64_t)pd->host_port;
		if (!launch_take_port(remaining, want, roles, nroles, taken,
		    &ports[got]))
			return false;
		got++;
	}
	return true;
}

int
launch_fit(const struct app *a, char *const *roles, size_t nroles,
    const struct resources *remaining, struct resources *taken, int *ports,
    enum reject *why)
{
	resources_init(taken);
	if (!launch_take_scalar(remaining, "cpus", a->cpus, roles, nroles,
	    taken)) {
		*why = REJECT_CPUS;
		goto fail;
	}
	if (!launch_take_scalar(remaining, "mem", a->mem, roles, nroles,
	    taken)) {
		*why = REJECT_MEM;
		goto fail;
	}
	if (!launch_take_scalar(remaining, "disk", a->disk, roles, nroles,
	    taken)) {
		*why = REJECT_DISK;
		goto fail;
	}
	if (!launch_take_scalar(remaining, "gpus", a->gpus, roles, nroles,
	    taken)) {
		*why = REJECT_GPUS;
		goto fail;
	}
	if (!take_ports(remaining, a, roles, nroles, taken, ports)) {
		*why = REJECT_PORTS;
		goto fail;
	}
	return 0;
fail:
	resources_free(taken);
	resources_init(taken);
	return -1;
}

bool
launch_constraints_ok(const struct app *a, const struct constraint_agent *ag,
    struct instance *const *inst, size_t ninst)
{
	const char **placed;
	bool ok = true;

	if (a->nconstraints == 0)
		return true;
	placed = xcalloc(ninst + 1, sizeof(*placed));
	for (size_t c = 0; c < a->nconstraints && ok; c++) {
		const struct constraint *con = &a->constraints[c];
		size_t n = 0;

		for (size_t k = 0; k < ninst; k++) {
			const struct instance *i = inst[k];
			struct constraint_agent ia = { i->host, i->region, i->zone,
				i->attrs, i->nattrs };

			if (!instance_active(i) || i->kill != KILL_NONE)
				continue;
			placed[n++] = constraint_agent_value(con, &ia);
		}
		ok = constraint_met(con, constraint_agent_value(con, ag), placed, n);
	}
	free(placed);
	return ok;
}

/* v1 resources of a task in the pre-reservation-refinement format our
 * offers come in (Marathon 1.6 is not RESERVATION_REFINEMENT capable):
 * "role" names the reservation, no "reservations" array. */
json_t *
launch_v1_resources(const struct resources *r)
{
	json_t *arr = resources_to_v1(r, NULL), *o;
	size_t i;

	json_array_foreach(arr, i, o)
		json_object_del(o, "reservations");
	return arr;
}

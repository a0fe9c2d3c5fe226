/*
 * offers: one OFFERS event. The apps waiting for instances are placed on
 * the offers (launch.c decides what fits); the new instances are written
 * to the store in one transaction, and only when it has committed do the
 * ACCEPTs (one LAUNCH per offer) go to the master. Unused offers are
 * declined at once with --decline_offer_duration; new demand REVIVEs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dcos/log.h"
#include "dcos/offer.h"
#include "dcos/store.h"

#include "marathon.h"

struct accepts {
	json_t *offer_ids;   /* per accept: [{"value": id}] */
	json_t *operations;  /* per accept: [{"type":"LAUNCH", ...}] */
	size_t tasks;
};

static void
accepted_stored(struct marathon *m, bool ok, bool current, void *arg)
{
	struct accepts *acc = arg;

	if (ok && current && m->st) {
		for (size_t k = 0; k < json_array_size(acc->offer_ids); k++)
			mesos_accept(m->st->mesos,
			    json_incref(json_array_get(acc->offer_ids, k)),
			    json_incref(json_array_get(acc->operations, k)));
		m->launched += acc->tasks;
		log_info("launching %zu instances on %zu offers", acc->tasks,
		    json_array_size(acc->offer_ids));
	}
	json_decref(acc->offer_ids);
	json_decref(acc->operations);
	free(acc);
}

/* v1 resources of a task in the pre-reservation-refinement format our
 * offers come in (Marathon 1.6 is not RESERVATION_REFINEMENT capable):
 * "role" names the reservation, no "reservations" array. */
static json_t *
task_resources(const struct resources *r)
{
	json_t *arr = resources_to_v1(r, NULL), *o;
	size_t i;

	json_array_foreach(arr, i, o)
		json_object_del(o, "reservations");
	return arr;
}

/* The apps that wait for offers, oldest demand first. */
static size_t
candidates(struct state *st, struct app_rt ***out)
{
	struct app_rt **v = NULL;
	size_t n = 0, it = 0;
	double now = util_mono();
	void *p;

	while (smap_next(&st->apps, &it, NULL, &p)) {
		struct app_rt *rt = p;

		if (rt->to_launch <= 0 || rt->app == NULL || rt->removed ||
		    rt->delay_until > now)
			continue;
		v = xrealloc(v, (n + 1) * sizeof(*v));
		v[n++] = rt;
	}
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && v[j - 1]->queued_since >
		    v[j]->queued_since; j--) {
			struct app_rt *t = v[j];

			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	*out = v;
	return n;
}

static void
split_roles(const char *spec, char ***roles, size_t *n)
{
	char *copy = xstrdup(spec), *save = NULL, *tok;

	*roles = NULL;
	*n = 0;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",",
	    &save)) {
		*roles = xrealloc(*roles, (*n + 1) * sizeof(char *));
		(*roles)[(*n)++] = xstrdup(tok);
	}
	free(copy);
}

static struct instance *
place(struct marathon *m, struct app_rt *rt, const struct offer *o,
    const struct constraint_agent *ag, const int *ports, size_t nports)
{
	const struct app *a = rt->app;
	char tid[TASKID_MAX];
	struct instance *i;

	pathid_new_task_id(a->id, tid, sizeof(tid));
	i = instance_new(tid, a->id);
	memcpy(i->version, a->version, sizeof(i->version));
	memcpy(i->config_version, a->last_config_change_at,
	    sizeof(i->config_version));
	i->agent_id = xstrdup(o->agent_id);
	i->host = xstrdup(o->hostname);
	i->agent_ip = xstrdup(o->ip[0] ? o->ip : NULL);
	i->region = xstrdup(o->region[0] ? o->region : NULL);
	i->zone = xstrdup(o->zone[0] ? o->zone : NULL);
	if (ag->nattrs) {
		i->attrs = xcalloc(ag->nattrs, sizeof(*i->attrs));
		for (size_t k = 0; k < ag->nattrs; k++) {
			i->attrs[k].name = xstrdup(ag->attrs[k].name);
			i->attrs[k].value = xstrdup(ag->attrs[k].value);
		}
		i->nattrs = ag->nattrs;
	}
	if (nports) {
		i->ports = xcalloc(nports, sizeof(int));
		memcpy(i->ports, ports, nports * sizeof(int));
		i->nports = nports;
	}
	i->staged_at = util_now();
	i->state = TASK_STAGING;
	state_add_instance(m->st, i);
	return i;
}

/* Places what fits of the candidates on one offer; returns the TaskInfos. */
static json_t *
fill_offer(struct marathon *m, const struct offer *o, struct app_rt **cands,
    size_t ncands, struct store_tx *tx, size_t *placed)
{
	struct constraint_attr *attrs = xcalloc(o->attrs.n + 1, sizeof(*attrs));
	char (*texts)[256] = xcalloc(o->attrs.n + 1, sizeof(*texts));
	struct constraint_agent ag = { o->hostname, o->region[0] ? o->region :
		NULL, o->zone[0] ? o->zone : NULL, attrs, o->attrs.n };
	struct resources remaining;
	json_t *tasks = json_array();
	char **defroles;
	size_t ndefroles;

	split_roles(m->f.default_roles, &defroles, &ndefroles);
	for (size_t k = 0; k < o->attrs.n; k++) {
		attrs[k].name = o->attrs.v[k].name;
		attrs[k].value = attribute_text(&o->attrs.v[k], texts[k],
		    sizeof(texts[k]));
	}
	resources_copy(&remaining, &o->res);
	for (size_t c = 0; c < ncands; c++) {
		struct app_rt *rt = cands[c];
		const struct app *a = rt->app;
		char *const *roles = a->has_roles ? a->roles : defroles;
		size_t nroles = a->has_roles ? a->nroles : ndefroles;
		bool first = true;

		while (rt->to_launch > 0 && *placed <
		    (size_t)m->f.max_instances_per_offer) {
			struct resources taken;
			int ports[64];
			enum reject why = REJECT_COUNT;
			struct instance *i;
			json_t *res;

			if (first)
				rt->offers.processed++;
			if (!launch_constraints_ok(a, &ag, rt->inst, rt->ninst))
				why = REJECT_CONSTRAINT;
			else if (app_host_ports(a) > 64)
				why = REJECT_PORTS;
			else
				launch_fit(a, roles, nroles, &remaining, &taken, ports,
				    &why);
			if (why != REJECT_COUNT) {
				if (first) {
					rt->offers.unused++;
					rt->offers.last_unused_at = util_now();
					rt->offers.reject[why]++;
				}
				break;
			}
			first = false;
			if (resources_subtract(&remaining, &taken) == -1) {
				resources_free(&taken);
				break; /* cannot happen: taken came from remaining */
			}
			i = place(m, rt, o, &ag, ports, app_host_ports(a));
			res = task_resources(&taken);
			json_array_append_new(tasks, taskinfo_build(m, a, i, res));
			json_decref(res);
			resources_free(&taken);
			smap_del(&m->st->dirty, i->id);
			tx_put_instance(tx, i);
			rt->to_launch--;
			rt->offers.last_used_at = util_now();
			(*placed)++;
		}
	}
	resources_free(&remaining);
	strv_free(defroles, ndefroles);
	free(attrs);
	free(texts);
	return tasks;
}

/* Per offer: its own transaction (so a large launch never holds the store
 * worker long enough to starve the lease renewals), then its ACCEPT. */
static void
launch_offer(struct marathon *m, const char *offer_id, json_t *tasks,
    size_t placed, struct store_tx *tx)
{
	struct accepts *acc = xcalloc(1, sizeof(*acc));

	acc->offer_ids = json_pack("[[{s:s}]]", "value", offer_id);
	acc->operations = json_pack("[[{s:s, s:{s:o}}]]", "type", "LAUNCH",
	    "launch", "task_infos", tasks);
	acc->tasks = placed;
	persist_submit(m, tx, accepted_stored, acc);
}

void
sched_offers(struct marathon *m, const json_t *offers)
{
	struct state *st = m->st;
	struct app_rt **cands = NULL;
	size_t ncands, i, placed_total = 0;
	json_t *declines = json_array(), *o;

	if (st == NULL || !json_is_array(offers))
		return;
	ncands = candidates(st, &cands);
	log_debug("%zu offers, %zu apps waiting for them", json_array_size(offers),
	    ncands);
	json_array_foreach(offers, i, o) {
		struct json_errs e;
		struct offer off;
		size_t placed = 0;
		struct store_tx *tx;
		json_t *tasks;

		m->offers_seen++;
		json_errs_init(&e);
		if (offer_from_v1(o, "", &off, &e) == -1) {
			char msg[600];

			log_warn("ignoring a malformed offer: %s",
			    json_errs_first(&e, msg, sizeof(msg)));
			json_errs_free(&e);
			if (json_is_object(json_object_get(o, "id")))
				json_array_append(declines, json_object_get(o, "id"));
			continue;
		}
		json_errs_free(&e);
		if (ncands == 0 || placed_total >= (size_t)m->f.max_launches) {
			json_array_append_new(declines, json_pack("{s:s}", "value",
			    off.id));
			offer_free(&off);
			continue;
		}
		tx = persist_tx(m);
		tasks = fill_offer(m, &off, cands, ncands, tx, &placed);
		if (placed) {
			launch_offer(m, off.id, tasks, placed, tx);
			placed_total += placed;
		} else {
			store_tx_free(tx);
			json_decref(tasks);
			json_array_append_new(declines, json_pack("{s:s}", "value",
			    off.id));
		}
		offer_free(&off);
	}
	free(cands);
	if (json_array_size(declines)) {
		m->offers_declined += json_array_size(declines);
		/* offers declined only because this batch was full come back
		 * at the next allocation */
		mesos_decline(st->mesos, declines, placed_total >=
		    (size_t)m->f.max_launches ? 0 : m->f.decline_offer_duration);
	} else {
		json_decref(declines);
	}
	if (placed_total)
		engine_kick(m);
}

/*
 * offers: one OFFERS event. The apps waiting for instances are placed on
 * the offers (launch.c decides what fits); the new instances are written
 * to the store in one transaction, and only when it has committed do the
 * ACCEPTs (one LAUNCH per offer for app tasks, one LAUNCH_GROUP per pod
 * instance) go to the master. Unused offers are declined at once with
 * --decline_offer_duration; new demand REVIVEs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dcos/ids.h"
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

/* The apps that wait for offers, oldest demand first. */
static size_t
candidates(struct state *st, struct app_rt ***out)
{
	struct app_rt **v = NULL;
	size_t n = 0, it = 0;
	double now = clock_mono();
	void *p;

	while (strmap_next(st->apps, &it, NULL, &p)) {
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

/* A new instance of rt on the offer's agent (not yet in the state): a
 * task id "<app>.<uuid>", or a pod instance id "<pod>.instance-<uuid>". */
static struct instance *
place(struct marathon *m, struct app_rt *rt, const struct offer *o,
    const struct constraint_agent *ag, const int *ports, size_t nports)
{
	const struct app *a = rt->app;
	char tid[TASKID_MAX], safe[PATHID_MAX], uuid[UUID_STR_LEN];
	struct instance *i;

	if (a->pod) {
		pathid_safe(a->id, safe, sizeof(safe));
		ids_uuid1(uuid);
		snprintf(tid, sizeof(tid), "%s.instance-%s", safe, uuid);
	} else {
		pathid_new_task_id(a->id, tid, sizeof(tid));
	}
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
	i->staged_at = i->since = clock_wall();
	i->state = TASK_STAGING;
	return i;
}

/* One offer while it is being filled. */
struct slot {
	struct offer off;
	struct constraint_attr *attrs;
	char (*texts)[256];
	struct constraint_agent ag;
	struct resources remaining;
	json_t *tasks;         /* TaskInfos of one LAUNCH */
	json_t *groups;        /* LAUNCH_GROUP operations (pods) */
	struct store_tx *tx;
	size_t placed;
	bool full;
	unsigned char *tried;  /* per candidate app: 1 tried, 2 got some */
};

static void
slot_init(struct slot *sl)
{
	const struct offer *o = &sl->off;

	sl->attrs = xcalloc(o->attrs.n + 1, sizeof(*sl->attrs));
	sl->texts = xcalloc(o->attrs.n + 1, sizeof(*sl->texts));
	for (size_t k = 0; k < o->attrs.n; k++) {
		sl->attrs[k].name = o->attrs.v[k].name;
		sl->attrs[k].value = attribute_text(&o->attrs.v[k], sl->texts[k],
		    sizeof(sl->texts[k]));
	}
	sl->ag = (struct constraint_agent){ o->hostname, o->region[0] ?
		o->region : NULL, o->zone[0] ? o->zone : NULL, sl->attrs, o->attrs.n };
	resources_copy(&sl->remaining, &o->res);
	sl->tasks = json_array();
	sl->groups = json_array();
}

static void
slot_free(struct slot *sl)
{
	offer_free(&sl->off);
	resources_free(&sl->remaining);
	free(sl->attrs);
	free(sl->texts);
	json_decref(sl->tasks);
	json_decref(sl->groups);
	free(sl->tried);
	if (sl->tx)
		store_tx_free(sl->tx);
}

/* Stores the new instance with the slot's transaction. */
static void
placed(struct marathon *m, struct slot *sl, struct app_rt *rt,
    struct instance *i)
{
	state_add_instance(m->st, i);
	strmap_del(m->st->dirty, i->id);
	if (sl->tx == NULL)
		sl->tx = persist_tx(m);
	tx_put_instance(sl->tx, i);
	rt->to_launch--;
	sl->placed++;
}

/* One pod instance: the whole group in this offer, or nothing. */
static bool
place_pod(struct marathon *m, struct slot *sl, struct app_rt *rt,
    char *const *roles, size_t nroles, enum reject *why)
{
	struct pod_fit fit;
	struct instance *i;

	if (pod_fit(rt->app, roles, nroles, &sl->remaining, &fit, why) == -1 ||
	    resources_subtract(&sl->remaining, &fit.total) == -1) {
		pod_fit_clear(&fit);
		return false;
	}
	i = place(m, rt, &sl->off, &sl->ag, fit.ports, fit.nports);
	pod_instance_tasks(i, rt->app, &fit);
	json_array_append_new(sl->groups, pod_launch_group(m, rt->app, i, &fit));
	pod_fit_clear(&fit);
	placed(m, sl, rt, i);
	return true;
}

/* Tries to place one instance of rt on the slot; why says what did not
 * fit when it returns false. */
static bool
place_one(struct marathon *m, struct slot *sl, struct app_rt *rt,
    char *const *defroles, size_t ndefroles, enum reject *out_why)
{
	const struct app *a = rt->app;
	char *const *roles = a->has_roles ? a->roles : defroles;
	size_t nroles = a->has_roles ? a->nroles : ndefroles;
	struct resources taken;
	enum reject why = REJECT_COUNT;
	int ports[64];
	struct instance *i;
	json_t *res;

	if (!launch_constraints_ok(a, &sl->ag, rt->inst, rt->ninst)) {
		*out_why = REJECT_CONSTRAINT;
		return false;
	}
	if (a->pod) {
		if (place_pod(m, sl, rt, roles, nroles, &why))
			return true;
		*out_why = why == REJECT_COUNT ? REJECT_CPUS : why;
		return false;
	}
	if (app_host_ports(a) > 64)
		why = REJECT_PORTS;
	else
		launch_fit(a, roles, nroles, &sl->remaining, &taken, ports, &why);
	if (why != REJECT_COUNT) {
		*out_why = why;
		return false;
	}
	if (resources_subtract(&sl->remaining, &taken) == -1) {
		resources_free(&taken);
		return false; /* cannot happen: taken came from remaining */
	}
	i = place(m, rt, &sl->off, &sl->ag, ports, app_host_ports(a));
	res = launch_v1_resources(&taken);
	json_array_append_new(sl->tasks, taskinfo_build(m, a, i, res));
	json_decref(res);
	resources_free(&taken);
	placed(m, sl, rt, i);
	return true;
}

/* Per offer: its own transaction (so a large launch never holds the store
 * worker long enough to starve the lease renewals), then its ACCEPT. */
static void
launch_offer(struct marathon *m, struct slot *sl)
{
	struct accepts *acc = xcalloc(1, sizeof(*acc));
	json_t *ops = json_array();

	if (json_array_size(sl->tasks))
		json_array_append_new(ops, json_pack("{s:s, s:{s:O}}", "type",
		    "LAUNCH", "launch", "task_infos", sl->tasks));
	json_array_extend(ops, sl->groups);
	acc->offer_ids = json_pack("[[{s:s}]]", "value", sl->off.id);
	acc->operations = json_pack("[o]", ops);
	acc->tasks = sl->placed;
	persist_submit(m, sl->tx, accepted_stored, acc);
	sl->tx = NULL;
}

void
sched_offers(struct marathon *m, const json_t *offers)
{
	struct state *st = m->st;
	struct app_rt **cands = NULL;
	size_t ncands, i, nslots = 0, placed_total = 0;
	struct slot *slots;
	json_t *declines = json_array(), *o;
	char **defroles;
	size_t ndefroles;
	bool progress = true;

	if (st == NULL || !json_is_array(offers))
		return;
	ncands = candidates(st, &cands);
	log_debug("%zu offers, %zu apps waiting for them", json_array_size(offers),
	    ncands);
	slots = xcalloc(json_array_size(offers) + 1, sizeof(*slots));
	json_array_foreach(offers, i, o) {
		struct json_errs e;

		m->offers_seen++;
		json_errs_init(&e);
		if (offer_from_v1(o, "", &slots[nslots].off, &e) == -1) {
			char msg[600];

			log_warn("ignoring a malformed offer: %s",
			    json_errs_first(&e, msg, sizeof(msg)));
			if (json_is_object(json_object_get(o, "id")))
				json_array_append(declines, json_object_get(o, "id"));
		} else {
			slot_init(&slots[nslots++]);
		}
		json_errs_free(&e);
	}
	/* round robin: one instance per app per offer per round, so a batch
	 * of offers spreads the instances over the agents */
	split_roles(m->f.default_roles, &defroles, &ndefroles);
	while (progress && ncands && placed_total < (size_t)m->f.max_launches) {
		progress = false;
		for (size_t k = 0; k < nslots; k++) {
			struct slot *sl = &slots[k];
			bool any = false;

			if (sl->full)
				continue;
			if (sl->tried == NULL)
				sl->tried = xcalloc(ncands, 1);
			for (size_t c = 0; c < ncands; c++) {
				struct app_rt *rt = cands[c];
				enum reject why = REJECT_COUNT;

				if (rt->to_launch <= 0 || sl->placed >=
				    (size_t)m->f.max_instances_per_offer ||
				    placed_total >= (size_t)m->f.max_launches)
					continue;
				if (!sl->tried[c])
					rt->offers.processed++; /* once per offer */
				if (place_one(m, sl, rt, defroles, ndefroles, &why)) {
					any = true;
					placed_total++;
					sl->tried[c] = 2;
					rt->offers.last_used_at = clock_wall();
				} else if (!sl->tried[c]) {
					/* the offer gave this app nothing */
					rt->offers.unused++;
					rt->offers.last_unused_at = clock_wall();
					rt->offers.reject[why]++;
				}
				if (!sl->tried[c])
					sl->tried[c] = 1;
			}
			if (any)
				progress = true;
			else
				sl->full = true;
		}
	}
	strv_free(defroles, ndefroles);
	free(cands);
	for (size_t k = 0; k < nslots; k++) {
		if (slots[k].placed)
			launch_offer(m, &slots[k]);
		else
			json_array_append_new(declines, json_pack("{s:s}", "value",
			    slots[k].off.id));
		slot_free(&slots[k]);
	}
	free(slots);
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

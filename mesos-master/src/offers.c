/*
 * offers: turning the allocator's decisions into Mesos offers, and taking
 * them back.
 *
 * As in Mesos, allocation runs in batches: every --allocation_interval a
 * pass over all agents offers what declines, ended tasks and unused parts
 * of accepted offers gave back. New agents, (re-)subscribing frameworks and
 * REVIVE get a pass at once (coalesced into one per loop turn, over the
 * agents that changed), so they need not wait for the tick. The offers a
 * pass makes for one
 * framework go out together in one OFFERS event, after the pass. An offer
 * ends when it is accepted or declined, rescinded (its agent is lost, its
 * framework disconnects, or --offer_timeout passes: the framework then gets
 * RESCIND), or when the master steps down.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "dcos/log.h"
#include "dcos/strmap.h"
#include "master.h"

struct offer *
offer_find(const struct master *m, const char *id)
{
	return id ? strmap_get(m->offers, id) : NULL;
}

void
offers_schedule(struct master *m)
{
	struct timeval now = { 0, 0 };

	if (m->role == ROLE_LEADER && m->alloc_soon &&
	    !evtimer_pending(m->alloc_soon, NULL))
		evtimer_add(m->alloc_soon, &now);
}

static void
on_offer_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct offer *o = arg;
	struct master *m = o->fw->m;

	log_info("offer %s to framework %s timed out after %gs; rescinding it",
	    o->id, o->fw->id, m->f.offer_timeout);
	m->metrics.offers_rescinded++;
	offer_remove(m, o, true, true);
}

struct pass {
	struct master *m;
	struct framework **batch;
	size_t nbatch, cap;
};

static void
on_alloc(void *fw_owner, void *agent_owner, const char *role,
    const struct resources *res, void *arg)
{
	struct pass *pass = arg;
	struct master *m = pass->m;
	struct framework *fw = fw_owner;
	struct agent *a = agent_owner;
	struct offer *o = calloc(1, sizeof(*o));

	if (o == NULL || (o->role = strdup(role)) == NULL)
		abort();
	ids_offer(o->id, sizeof(o->id), m->id, m->next_offer++);
	o->fw = fw;
	o->agent = a;
	resources_copy(&o->res, res);
	resources_add(&a->offered, res);
	resources_add(&fw->offered, res);
	TAILQ_INSERT_TAIL(&fw->offers, o, fw_link);
	TAILQ_INSERT_TAIL(&a->offers, o, agent_link);
	strmap_put(m->offers, o->id, o);
	if (m->f.offer_timeout > 0) {
		struct timeval tv = { (time_t)m->f.offer_timeout,
			(suseconds_t)((m->f.offer_timeout -
			(long)m->f.offer_timeout) * 1e6) };

		o->timeout = evtimer_new(m->base, on_offer_timeout, o);
		evtimer_add(o->timeout, &tv);
	}
	o->fresh = true;
	if (!fw->batched) {
		fw->batched = true;
		if (pass->nbatch == pass->cap) {
			pass->cap = pass->cap ? pass->cap * 2 : 8;
			pass->batch = realloc(pass->batch, pass->cap *
			    sizeof(*pass->batch));
			if (pass->batch == NULL)
				abort();
		}
		pass->batch[pass->nbatch++] = fw;
	}
}

json_t *
offer_json(const struct master *m, const struct offer *o)
{
	bool multi = o->fw->caps & FW_CAP_MULTI_ROLE;
	json_t *ex = json_array();
	struct executor *e;
	json_t *j;

	TAILQ_FOREACH(e, &o->agent->executors, agent_link)
		if (e->fw == o->fw)
			json_array_append_new(ex, v1_id(e->id));
	j = json_pack("{s:o, s:o, s:o, s:s, s:o, s:o, s:O, s:o}", "id",
	    v1_id(o->id), "framework_id", v1_id(o->fw->id), "agent_id",
	    v1_id(o->agent->id), "hostname", o->agent->hostname, "url",
	    agent_url_v1(o->agent), "resources", resources_to_v1(&o->res,
	    multi ? o->role : NULL), "attributes", o->agent->attributes,
	    "executor_ids", ex);
	if (multi)
		json_object_set_new(j, "allocation_info", json_pack("{s:s}",
		    "role", o->role));
	if (json_object_get(o->agent->info, "domain"))
		json_object_set(j, "domain", json_object_get(o->agent->info,
		    "domain"));
	return j;
}

static void
send_batch(struct master *m, struct framework *fw)
{
	json_t *list = json_array(), *ev;
	struct offer *o;

	fw->batched = false;
	TAILQ_FOREACH(o, &fw->offers, fw_link)
		if (o->fresh) {
			o->fresh = false;
			json_array_append_new(list, offer_json(m, o));
		}
	if (json_array_size(list) == 0) {
		json_decref(list);
		return;
	}
	m->metrics.offers_sent += json_array_size(list);
	ev = json_pack("{s:s, s:{s:o}}", "type", "OFFERS", "offers", "offers",
	    list);
	framework_send(fw, ev);
	json_decref(ev);
}

void
offers_allocate(struct master *m, bool all)
{
	struct pass pass = { .m = m };
	double t0 = clock_mono();

	alloc_run(m->alloc, t0, all, on_alloc, &pass);
	m->metrics.allocation_runs++;
	m->metrics.allocation_run_ms = (clock_mono() - t0) * 1000;
	/* events only after the pass: a send may disconnect a framework */
	for (size_t i = 0; i < pass.nbatch; i++)
		send_batch(m, pass.batch[i]);
	free(pass.batch);
}

void
offer_remove(struct master *m, struct offer *o, bool rescind, bool recover)
{
	struct framework *fw = o->fw;
	struct agent *a = o->agent;

	TAILQ_REMOVE(&fw->offers, o, fw_link);
	TAILQ_REMOVE(&a->offers, o, agent_link);
	strmap_del(m->offers, o->id);
	resources_subtract(&a->offered, &o->res);
	resources_subtract(&fw->offered, &o->res);
	if (recover && fw->alloc)
		alloc_recover(m->alloc, fw->alloc, a->alloc, o->role, &o->res);
	if (rescind && fw->connected && !o->fresh) {
		json_t *ev = json_pack("{s:s, s:{s:o}}", "type", "RESCIND",
		    "rescind", "offer_id", v1_id(o->id));

		framework_send(fw, ev);
		json_decref(ev);
	}
	if (o->timeout)
		event_free(o->timeout);
	resources_free(&o->res);
	free(o->role);
	free(o);
}

void
offers_rescind_agent(struct master *m, struct agent *a)
{
	struct offer *o;

	while ((o = TAILQ_FIRST(&a->offers)) != NULL) {
		m->metrics.offers_rescinded++;
		offer_remove(m, o, true, true);
	}
}

void
offers_rescind_framework(struct master *m, struct framework *fw, bool send)
{
	struct offer *o;

	while ((o = TAILQ_FIRST(&fw->offers)) != NULL)
		offer_remove(m, o, send, true);
}

/*
 * agents: the life of an agent as the leading master sees it.
 *
 *   REGISTER_AGENT    -> admitted in the registry -> ACTIVE (new id)
 *   REREGISTER_AGENT  -> admitted again -> ACTIVE, with the tasks,
 *                        executors and frameworks it reports
 *   missed pings      -> UNREACHABLE: tasks go TASK_UNREACHABLE (TASK_LOST
 *                        for frameworks that are not PARTITION_AWARE)
 *   failover          -> agents of the registry start RECOVERED; those that
 *                        have not re-registered by --agent_reregister_timeout
 *                        become UNREACHABLE
 *   unreachable for --registry_max_agent_age -> gone: forgotten, and told
 *                        to shut down if it ever comes back
 *
 * Nothing is applied in memory before the registry write has committed; a
 * second REGISTER from the same agent meanwhile waits for the same answer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dcos/ipc.h"
#include "dcos/log.h"
#include "dcos/strmap.h"
#include "master.h"

struct pending_reg {
	struct master *m;
	char *pid;
	struct agent *a;          /* not yet in m->agents */
	bool rereg;
	json_t *tasks, *executors, *frameworks; /* re-registration report */
	struct ipc_pending **waiters;
	size_t nwaiters;
};

struct agent *
agent_find(const struct master *m, const char *id)
{
	return id ? strmap_get(m->agents, id) : NULL;
}

static struct agent *
agent_alloc(struct master *m, const char *id)
{
	struct agent *a = calloc(1, sizeof(*a));

	if (a == NULL)
		abort();
	a->m = m;
	a->id = xstrdup(id);
	a->state = AGENT_RECOVERED;
	resources_init(&a->total);
	resources_init(&a->used);
	resources_init(&a->offered);
	TAILQ_INIT(&a->tasks);
	TAILQ_INIT(&a->executors);
	TAILQ_INIT(&a->offers);
	return a;
}

struct agent *
agent_new(struct master *m, const char *id)
{
	struct agent *a = agent_alloc(m, id);

	strmap_put(m->agents, id, a);
	return a;
}

/* "[a-b, c-d]" / "{x, y}" / number / text, as the state endpoints show */
static char *
attrs_summary(const json_t *attrs)
{
	struct jsonw w;
	size_t i;
	json_t *at;

	jw_init(&w);
	jw_obj_begin(&w);
	json_array_foreach(attrs, i, at) {
		const char *name = json_str_or(at, "name", NULL);
		const char *type = json_str_or(at, "type", "");

		if (name == NULL)
			continue;
		jw_key(&w, name);
		if (!strcmp(type, "SCALAR")) {
			jw_double(&w, json_num_or(json_object_get(at, "scalar"),
			    "value", 0));
		} else if (!strcmp(type, "RANGES")) {
			json_t *rs = json_object_get(json_object_get(at, "ranges"),
			    "range"), *r;
			char buf[1024];
			size_t k, used = (size_t)snprintf(buf, sizeof(buf), "[");

			json_array_foreach(rs, k, r)
				if (used < sizeof(buf))
					used += (size_t)snprintf(buf + used, sizeof(buf) -
					    used, "%s%lld-%lld", k ? ", " : "",
					    (long long)json_num_or(r, "begin", 0),
					    (long long)json_num_or(r, "end", 0));
			if (used < sizeof(buf))
				snprintf(buf + used, sizeof(buf) - used, "]");
			jw_str(&w, buf);
		} else if (!strcmp(type, "SET")) {
			json_t *items = json_object_get(json_object_get(at, "set"),
			    "item"), *it;
			char buf[1024];
			size_t k, used = (size_t)snprintf(buf, sizeof(buf), "{");

			json_array_foreach(items, k, it)
				if (used < sizeof(buf))
					used += (size_t)snprintf(buf + used, sizeof(buf) -
					    used, "%s%s", k ? ", " : "",
					    json_string_value(it) ? json_string_value(it) : "");
			if (used < sizeof(buf))
				snprintf(buf + used, sizeof(buf) - used, "}");
			jw_str(&w, buf);
		} else {
			jw_str(&w, json_str_or(json_object_get(at, "text"), "value",
			    ""));
		}
	}
	jw_obj_end(&w);
	return jw_steal(&w, NULL);
}

void
agent_apply_reg(struct agent *a, const struct agent_reg *reg)
{
	const char *at = reg->pid ? strchr(reg->pid, '@') : NULL;
	const char *colon = at ? strrchr(at, ':') : NULL;

	free(a->hostname);
	free(a->pid);
	free(a->channel);
	free(a->version);
	free(a->ip);
	free(a->attrs_summary);
	a->hostname = xstrdup(reg->hostname);
	a->pid = xstrdup(reg->pid);
	a->channel = xstrdup(reg->channel);
	a->version = xstrdup(reg->version ? reg->version : "");
	if (at && colon && colon > at + 1) {
		a->ip = strndup(at + 1, (size_t)(colon - at - 1));
		if (a->ip == NULL)
			abort();
	} else {
		a->ip = xstrdup(reg->hostname);
	}
	a->port = reg->port;
	json_decref(a->info);
	json_decref(a->capabilities);
	json_decref(a->attributes);
	a->info = json_deep_copy(reg->info ? reg->info : json_object());
	a->capabilities = reg->capabilities ? json_deep_copy(reg->capabilities) :
	    json_array();
	a->attributes = reg->attributes && json_is_array(reg->attributes) ?
	    json_deep_copy(reg->attributes) : json_array();
	/* the registry record and the state endpoints must agree on the id */
	json_object_set_new(a->info, "id", v1_id(a->id));
	a->attrs_summary = attrs_summary(a->attributes);
	resources_free(&a->total);
	resources_copy(&a->total, &reg->total);
}

void
agent_free(struct agent *a)
{
	struct executor *e;

	if (a == NULL)
		return;
	if (a->ping)
		ipc_call_cancel(a->ping);
	if (a->chan)
		chan_put(a->m, a->chan);
	while ((e = TAILQ_FIRST(&a->executors)) != NULL) {
		TAILQ_REMOVE(&a->executors, e, agent_link);
		free(e->id);
		json_decref(e->info);
		resources_free(&e->res);
		free(e);
	}
	free(a->id);
	free(a->hostname);
	free(a->pid);
	free(a->ip);
	free(a->channel);
	free(a->version);
	free(a->attrs_summary);
	json_decref(a->info);
	json_decref(a->capabilities);
	json_decref(a->attributes);
	resources_free(&a->total);
	resources_free(&a->used);
	resources_free(&a->offered);
	free(a);
}

json_t *
agent_url_v1(const struct agent *a)
{
	return json_pack("{s:s, s:{s:s, s:s, s:i}, s:s}", "scheme", "http",
	    "address", "hostname", a->hostname, "ip", a->ip, "port", a->port,
	    "path", "/slave(1)");
}

/* --- the allocator's view of an agent --- */

/* Takes the agent out of the allocator: what frameworks use or were
 * offered there is first given back so their shares stay right. */
void
agents_alloc_detach(struct master *m, struct agent *a)
{
	struct task *t;
	struct executor *e;

	if (a->alloc == NULL)
		return;
	offers_rescind_agent(m, a);
	TAILQ_FOREACH(t, &a->tasks, agent_link)
		if (!t->released && t->fw->alloc)
			alloc_recover(m->alloc, t->fw->alloc, a->alloc, t->role,
			    &t->res);
	TAILQ_FOREACH(e, &a->executors, agent_link)
		if (e->ntasks > 0 && e->fw->alloc)
			alloc_recover(m->alloc, e->fw->alloc, a->alloc,
			    framework_role_of(e->fw), &e->res);
	alloc_agent_remove(m->alloc, a->alloc);
	a->alloc = NULL;
}

static void
alloc_attach(struct master *m, struct agent *a)
{
	struct resources none;
	struct task *t;
	struct executor *e;

	resources_init(&none);
	a->alloc = alloc_agent_add(m->alloc, a, &a->total, &none);
	TAILQ_FOREACH(t, &a->tasks, agent_link)
		if (!t->released && t->fw->alloc)
			alloc_use(m->alloc, t->fw->alloc, a->alloc, t->role, &t->res);
	TAILQ_FOREACH(e, &a->executors, agent_link)
		if (e->ntasks > 0 && e->fw->alloc)
			alloc_use(m->alloc, e->fw->alloc, a->alloc,
			    framework_role_of(e->fw), &e->res);
}

void
agents_activate(struct master *m, struct agent *a)
{
	a->state = AGENT_ACTIVE;
	a->missed_pings = 0;
	strmap_put(m->agents_by_pid, a->pid, a);
	if (a->chan == NULL)
		a->chan = chan_get(m, a->channel);
	agents_alloc_detach(m, a);
	alloc_attach(m, a);
	offers_schedule(m);
}

/* --- registration --- */

static void
pending_free(struct pending_reg *pr)
{
	free(pr->pid);
	json_decref(pr->tasks);
	json_decref(pr->executors);
	json_decref(pr->frameworks);
	free(pr->waiters);
	free(pr);
}

void
agents_pending_free(struct master *m)
{
	void *v;

	for (size_t it = 0; strmap_next(m->registering, &it, NULL, &v);) {
		struct pending_reg *pr = v;

		strmap_del(m->registering, pr->pid);
		for (size_t i = 0; i < pr->nwaiters; i++)
			ipc_reply(pr->waiters[i], json_pack("{s:s, s:s}", "type",
			    "ERROR", "message", "the master stepped down; "
			    "register again"));
		if (pr->a && agent_find(m, pr->a->id) != pr->a)
			agent_free(pr->a);
		pending_free(pr);
	}
}

static void
wait_for(struct pending_reg *pr, struct ipc_pending *p)
{
	pr->waiters = realloc(pr->waiters, (pr->nwaiters + 1) *
	    sizeof(*pr->waiters));
	if (pr->waiters == NULL)
		abort();
	pr->waiters[pr->nwaiters++] = p;
}

static void
answer_all(struct pending_reg *pr, json_t *reply)
{
	for (size_t i = 0; i < pr->nwaiters; i++)
		ipc_reply(pr->waiters[i], json_incref(reply));
	pr->nwaiters = 0;
	json_decref(reply);
}

static json_t *
registered_reply(struct master *m, const struct agent *a, const char *type)
{
	return json_pack("{s:s, s:o, s:s, s:f, s:I}", "type", type, "agent_id",
	    v1_id(a->id), "master_id", m->id, "ping_interval_secs",
	    m->f.agent_ping_timeout, "max_ping_timeouts",
	    (json_int_t)m->f.max_agent_ping_timeouts);
}

static void
admitted(struct master *m, int code, void *arg)
{
	struct pending_reg *pr = arg;
	struct agent *a = pr->a;
	struct strmap *shutdown = strmap_new();
	const char *fid;

	strmap_del(m->registering, pr->pid);
	if (code != 0 || m->role != ROLE_LEADER) {
		log_warn("agent at %s: registration not committed (store error "
		    "%d); it will retry", pr->pid, code);
		answer_all(pr, json_pack("{s:s, s:s}", "type", "ERROR", "message",
		    "the registry could not admit the agent; retry"));
		if (agent_find(m, a->id) != a)
			agent_free(a);
		pending_free(pr);
		strmap_free(shutdown);
		return;
	}
	if (agent_find(m, a->id) != a)
		strmap_put(m->agents, a->id, a);
	if (pr->rereg) {
		/* out of the allocator while its tasks are rebuilt; back in,
		 * with what it really runs, in agents_activate */
		agents_alloc_detach(m, a);
		agent_apply_report(m, a, pr->tasks, pr->executors, pr->frameworks,
		    shutdown);
		a->reregistered_time = clock_wall();
		if (a->registered_time == 0)
			a->registered_time = a->reregistered_time;
		m->metrics.agent_reregistrations++;
	} else {
		a->registered_time = clock_wall();
		m->metrics.agent_registrations++;
	}
	agents_activate(m, a);
	log_info("agent %s at %s (%s) %s: %s", a->id, a->pid, a->hostname,
	    pr->rereg ? "re-registered" : "registered",
	    pr->rereg ? "its tasks are back" : "new resources to offer");
	answer_all(pr, registered_reply(m, a, pr->rereg ? "REREGISTERED" :
	    "REGISTERED"));
	events_agent_added(m, a, pr->rereg);
	for (size_t it = 0; strmap_next(shutdown, &it, &fid, NULL);) {
		log_info("agent %s still runs tasks of removed framework %s; "
		    "telling it to shut them down", a->id, fid);
		agent_send(m, a, json_pack("{s:s, s:o, s:o}", "type",
		    "SHUTDOWN_FRAMEWORK", "agent_id", v1_id(a->id), "framework_id",
		    v1_id(fid)), NULL, NULL);
	}
	strmap_free(shutdown);
	pending_free(pr);
}

static int
has_live_tasks(const struct agent *a)
{
	const struct task *t;

	TAILQ_FOREACH(t, &a->tasks, agent_link)
		if (!task_state_terminal(t->state))
			return 1;
	return 0;
}

void
agents_register(struct master *m, const struct agent_reg *reg,
    struct ipc_pending *p)
{
	struct agent *old = strmap_get(m->agents_by_pid, reg->pid);
	struct pending_reg *pr = strmap_get(m->registering, reg->pid);
	char id[MASTER_MAX_ID];

	if (pr) {
		wait_for(pr, p);
		return;
	}
	if (old && old->state == AGENT_ACTIVE) {
		if (!has_live_tasks(old) && resources_contains(&old->total,
		    &reg->total) && resources_contains(&reg->total, &old->total)) {
			/* a retry of a registration whose reply was lost */
			ipc_reply(p, registered_reply(m, old, "REGISTERED"));
			return;
		}
		log_warn("agent %s at %s registers anew (%s): the old agent is "
		    "gone", old->id, old->pid, has_live_tasks(old) ? "it lost its "
		    "state and its tasks" : "with other resources");
		agents_mark_gone(m, old, false);
	}
	if ((pr = calloc(1, sizeof(*pr))) == NULL)
		abort();
	pr->m = m;
	pr->pid = xstrdup(reg->pid);
	ids_agent(id, sizeof(id), m->id, m->next_agent++);
	pr->a = agent_alloc(m, id);
	agent_apply_reg(pr->a, reg);
	wait_for(pr, p);
	strmap_put(m->registering, pr->pid, pr);
	registry_admit_agent(m, pr->a, admitted, pr);
}

void
agents_reregister(struct master *m, const struct agent_reg *reg,
    struct ipc_pending *p)
{
	struct pending_reg *pr = strmap_get(m->registering, reg->pid);
	struct agent *a;

	if (strmap_get(m->gone_agents, reg->agent_id)) {
		log_warn("agent %s at %s tried to re-register but was marked gone; "
		    "telling it to shut down", reg->agent_id, reg->pid);
		ipc_reply(p, json_pack("{s:s, s:s}", "type", "SHUTDOWN", "message",
		    "this agent was marked gone by the master: kill its tasks and "
		    "register as a new agent"));
		return;
	}
	if (pr) {
		wait_for(pr, p);
		return;
	}
	if ((a = agent_find(m, reg->agent_id)) == NULL) {
		log_info("agent %s at %s is unknown to the registry; admitting it "
		    "again", reg->agent_id, reg->pid);
		a = agent_alloc(m, reg->agent_id);
	} else if (a->state == AGENT_ACTIVE && strcmp(a->pid, reg->pid) != 0) {
		strmap_del(m->agents_by_pid, a->pid);
	}
	if ((pr = calloc(1, sizeof(*pr))) == NULL)
		abort();
	pr->m = m;
	pr->pid = xstrdup(reg->pid);
	pr->a = a;
	pr->rereg = true;
	pr->tasks = json_incref((json_t *)reg->tasks);
	pr->executors = json_incref((json_t *)reg->executors);
	pr->frameworks = json_incref((json_t *)reg->frameworks);
	if (a->chan && strcmp(a->channel, reg->channel) != 0) {
		chan_put(m, a->chan);
		a->chan = NULL;
	}
	agent_apply_reg(a, reg);
	wait_for(pr, p);
	strmap_put(m->registering, pr->pid, pr);
	registry_admit_agent(m, a, admitted, pr);
}

/* --- losing agents --- */

static void
tasks_lose(struct master *m, struct agent *a, enum task_state state,
    const char *message)
{
	struct task *t, *next;

	for (t = TAILQ_FIRST(&a->tasks); t; t = next) {
		next = TAILQ_NEXT(t, agent_link);
		if (task_state_terminal(t->state))
			continue;
		if (state == TASK_UNREACHABLE) {
			t->unreachable = true;
			task_transition(m, t, TASK_UNREACHABLE,
			    "REASON_AGENT_REMOVED", message, "SOURCE_MASTER", true);
		} else {
			task_transition(m, t, state, "REASON_AGENT_REMOVED", message,
			    "SOURCE_MASTER", true);
		}
	}
}

static void
marked(struct master *m, int code, void *arg)
{
	if (code != 0)
		log_warn("registry: could not record an agent state change "
		    "(store error %d); it holds in memory", code);
}

void
agents_mark_unreachable(struct master *m, struct agent *a, const char *why)
{
	char msg[512];

	if (a->state == AGENT_UNREACHABLE)
		return;
	log_warn("agent %s at %s (%s) is unreachable: %s; %s", a->id, a->pid,
	    a->hostname, why, TAILQ_EMPTY(&a->tasks) ? "it had no tasks" :
	    "its tasks are now unreachable");
	agents_alloc_detach(m, a);
	if (a->ping) {
		ipc_call_cancel(a->ping);
		a->ping = NULL;
	}
	if (a->state == AGENT_ACTIVE)
		strmap_del(m->agents_by_pid, a->pid);
	a->state = AGENT_UNREACHABLE;
	a->unreachable_time = clock_wall();
	snprintf(msg, sizeof(msg), "Agent %s is unreachable", a->hostname);
	tasks_lose(m, a, TASK_UNREACHABLE, msg);
	m->metrics.agents_unreachable_completed++;
	registry_mark_agent(m, a->id, "unreachable", marked, NULL);
	events_agent_removed(m, a, "unreachable");
}

void
agents_mark_gone(struct master *m, struct agent *a, bool by_operator)
{
	char msg[512];
	struct task *t;

	log_warn("agent %s at %s (%s) is gone%s; its tasks are gone with it",
	    a->id, a->pid, a->hostname, by_operator ? " (marked by an operator)" :
	    "");
	agents_alloc_detach(m, a);
	if (a->state == AGENT_ACTIVE)
		strmap_del(m->agents_by_pid, a->pid);
	snprintf(msg, sizeof(msg), "Agent %s is gone", a->hostname);
	/* unreachable tasks (not terminal) end here too */
	tasks_lose(m, a, by_operator ? TASK_GONE_BY_OPERATOR : TASK_GONE, msg);
	/* forget the tasks: they are terminal now */
	while ((t = TAILQ_FIRST(&a->tasks)) != NULL) {
		TAILQ_REMOVE(&a->tasks, t, agent_link);
		t->agent = NULL;
		if (strmap_get(t->fw->tasks, t->id) == t) {
			strmap_del(t->fw->tasks, t->id);
			framework_complete_task(t->fw, t);
		}
	}
	strmap_put(m->gone_agents, a->id, (void *)1);
	registry_mark_agent(m, a->id, "gone", marked, NULL);
	events_agent_removed(m, a, by_operator ? "gone_by_operator" : "gone");
	m->metrics.agent_removals++;
	strmap_del(m->agents, a->id);
	agent_free(a);
}

void
agents_ping_all(struct master *m)
{
	void *v;

	for (size_t it = 0; strmap_next(m->agents, &it, NULL, &v);) {
		struct agent *a = v;

		if (a->state == AGENT_UNREACHABLE)
			continue;
		if (a->chan == NULL)
			a->chan = chan_get(m, a->channel);
		agent_ping(m, a);
	}
}

void
agents_reregister_deadline(struct master *m)
{
	void *v;

	for (size_t it = 0; strmap_next(m->agents, &it, NULL, &v);) {
		struct agent *a = v;

		if (a->state == AGENT_RECOVERED)
			agents_mark_unreachable(m, a, "it did not re-register within "
			    "--agent_reregister_timeout after the master failover");
	}
}

void
agents_gc(struct master *m)
{
	double now = clock_wall();
	void *v;

	for (size_t it = 0; strmap_next(m->agents, &it, NULL, &v);) {
		struct agent *a = v;

		if (a->state == AGENT_UNREACHABLE && a->unreachable_time > 0 &&
		    now - a->unreachable_time > m->f.registry_max_agent_age)
			agents_mark_gone(m, a, false);
	}
}

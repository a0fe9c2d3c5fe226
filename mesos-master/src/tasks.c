/*
 * tasks: task state as the master tracks it, and status updates.
 *
 * Updates from agents (STATUS_UPDATE) carry a uuid and are delivered at
 * least once: the master records the new state, forwards the TaskStatus to
 * the framework as an UPDATE event, and keeps it as "unacked" until the
 * framework ACKNOWLEDGEs that uuid (the agent resends it until then, and the
 * master resends it when the framework re-subscribes). A task in a terminal
 * state leaves the active set once its terminal update is acknowledged.
 * Updates the master makes itself (agent lost, reconciliation) carry no
 * uuid and need no acknowledgement.
 *
 * Resources go back to the allocator when a task reaches a terminal state
 * (and its executor's, when its last task ends).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dcos/ipc.h"
#include "dcos/log.h"
#include "dcos/strmap.h"
#include "master.h"

#define MAX_STATUSES 32 /* history kept per task (newest kept) */

static const char *const state_names[TASK_STATE_MAX] = {
	"TASK_STAGING", "TASK_STARTING", "TASK_RUNNING", "TASK_KILLING",
	"TASK_FINISHED", "TASK_FAILED", "TASK_KILLED", "TASK_ERROR",
	"TASK_LOST", "TASK_DROPPED", "TASK_UNREACHABLE", "TASK_GONE",
	"TASK_GONE_BY_OPERATOR", "TASK_UNKNOWN",
};

const char *
task_state_name(enum task_state s)
{
	return s < TASK_STATE_MAX ? state_names[s] : "TASK_UNKNOWN";
}

int
task_state_parse(const char *name)
{
	for (int i = 0; name && i < TASK_STATE_MAX; i++)
		if (strcmp(name, state_names[i]) == 0)
			return i;
	return -1;
}

bool
task_state_terminal(enum task_state s)
{
	switch (s) {
	case TASK_FINISHED: case TASK_FAILED: case TASK_KILLED: case TASK_ERROR:
	case TASK_LOST: case TASK_DROPPED: case TASK_GONE:
	case TASK_GONE_BY_OPERATOR:
		return true;
	default:
		return false;
	}
}

/* What a framework is told: the partition-aware states only to frameworks
 * that declared PARTITION_AWARE, TASK_LOST to the others (as Mesos). */
int
task_forward_state(const struct framework *fw, enum task_state s)
{
	if (fw->caps & FW_CAP_PARTITION_AWARE)
		return s;
	switch (s) {
	case TASK_DROPPED: case TASK_UNREACHABLE: case TASK_GONE:
	case TASK_GONE_BY_OPERATOR: case TASK_UNKNOWN:
		return TASK_LOST;
	case TASK_KILLING:
		return fw->caps & FW_CAP_TASK_KILLING_STATE ? s : TASK_RUNNING;
	default:
		return s;
	}
}

static char *
dump_or_null(const json_t *v)
{
	return v && !json_is_null(v) ? json_compact(v) : NULL;
}

struct task *
task_new(struct framework *fw, struct agent *a, const char *id)
{
	struct task *t = calloc(1, sizeof(*t));

	if (t == NULL)
		abort();
	t->id = xstrdup(id);
	t->name = xstrdup("");
	t->executor_id = xstrdup("");
	t->role = xstrdup(framework_role_of(fw));
	t->fw = fw;
	t->agent = a;
	t->agent_id = xstrdup(a ? a->id : "");
	t->state = TASK_STAGING;
	resources_init(&t->res);
	strmap_put(fw->tasks, id, t);
	if (a)
		TAILQ_INSERT_TAIL(&a->tasks, t, agent_link);
	return t;
}

void
task_free(struct task *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->nstatuses; i++) {
		free(t->statuses[i].labels);
		free(t->statuses[i].container_status);
	}
	free(t->statuses);
	free(t->id);
	free(t->name);
	free(t->executor_id);
	free(t->agent_id);
	free(t->role);
	free(t->labels);
	free(t->discovery);
	free(t->container);
	free(t->user);
	free(t->last);
	free(t->unacked);
	free(t->unacked_uuid);
	free(t->json);
	resources_free(&t->res);
	free(t);
}

/* Name, labels, discovery, container and user from a TaskInfo (v1); the
 * task-level labels are rendered as the bare array the v0 endpoints show. */
void
task_set_info(struct task *t, const json_t *ti)
{
	const json_t *labels = json_object_get(json_object_get(ti, "labels"),
	    "labels");
	const json_t *cmd = json_object_get(ti, "command");

	free(t->name);
	t->name = xstrdup(json_str_or(ti, "name", ""));
	free(t->labels);
	t->labels = labels && json_array_size(labels) ? json_compact(labels) :
	    NULL;
	free(t->discovery);
	t->discovery = dump_or_null(json_object_get(ti, "discovery"));
	free(t->container);
	t->container = dump_or_null(json_object_get(ti, "container"));
	free(t->user);
	t->user = cmd && json_str_or(cmd, "user", NULL) ?
	    xstrdup(json_str_or(cmd, "user", NULL)) : NULL;
}

static void
push_status(struct task *t, enum task_state state, double ts,
    const json_t *status)
{
	struct task_status *st;
	const json_t *labels = json_object_get(json_object_get(status, "labels"),
	    "labels");
	const json_t *healthy = json_object_get(status, "healthy");

	if (t->nstatuses == MAX_STATUSES) {
		free(t->statuses[0].labels);
		free(t->statuses[0].container_status);
		memmove(&t->statuses[0], &t->statuses[1],
		    (MAX_STATUSES - 1) * sizeof(*t->statuses));
		t->nstatuses--;
	} else if ((t->nstatuses & (t->nstatuses + 1)) == 0 || t->nstatuses == 0) {
		size_t cap = t->nstatuses ? (t->nstatuses + 1) * 2 : 2;

		if (cap > MAX_STATUSES)
			cap = MAX_STATUSES;
		t->statuses = realloc(t->statuses, cap * sizeof(*t->statuses));
		if (t->statuses == NULL)
			abort();
	}
	st = &t->statuses[t->nstatuses++];
	st->state = state;
	st->timestamp = ts;
	st->healthy = json_is_boolean(healthy) ? json_is_true(healthy) : -1;
	st->labels = labels && json_array_size(labels) ? json_compact(labels) :
	    NULL;
	st->container_status = dump_or_null(json_object_get(status,
	    "container_status"));
}

/* Records a status (v1 TaskStatus) as the task's latest; text is its
 * compact rendering (made here when NULL). */
static void
record_status(struct task *t, const json_t *status, const char *text)
{
	int state = task_state_parse(json_str_or(status, "state", ""));
	double ts = json_num_or(status, "timestamp", clock_wall());

	if (state < 0)
		return;
	push_status(t, (enum task_state)state, ts, status);
	task_touch(t);
	free(t->last);
	t->last = text ? strdup(text) : json_compact(status);
	if (t->last == NULL)
		abort();
}

void
task_add_status(struct master *m, struct task *t, const json_t *status)
{
	record_status(t, status, NULL);
}

/* A TaskStatus made by the master (no uuid: no acknowledgement needed). */
json_t *
task_status_json(const struct task *t, enum task_state state,
    const char *reason, const char *message, const char *source)
{
	json_t *st = json_pack("{s:o, s:s, s:s, s:f}", "task_id", v1_id(t->id),
	    "state", task_state_name(state), "source", source ? source :
	    "SOURCE_MASTER", "timestamp", clock_wall());

	if (t->agent)
		json_object_set_new(st, "agent_id", v1_id(t->agent->id));
	if (t->executor_id[0])
		json_object_set_new(st, "executor_id", v1_id(t->executor_id));
	if (reason)
		json_object_set_new(st, "reason", json_string(reason));
	if (message)
		json_object_set_new(st, "message", json_string(message));
	return st;
}

static void
executor_release(struct master *m, struct task *t)
{
	struct executor *e;

	if (t->executor_id[0] == '\0' || t->agent == NULL)
		return;
	TAILQ_FOREACH(e, &t->agent->executors, agent_link)
		if (e->fw == t->fw && strcmp(e->id, t->executor_id) == 0)
			break;
	if (e == NULL || e->ntasks == 0 || --e->ntasks > 0)
		return;
	/* its last task ended: the executor exits and frees its resources */
	resources_subtract(&t->agent->used, &e->res);
	resources_subtract(&t->fw->used, &e->res);
	if (t->agent->alloc && t->fw->alloc)
		alloc_recover(m->alloc, t->fw->alloc, t->agent->alloc,
		    framework_role_of(t->fw), &e->res);
	TAILQ_REMOVE(&t->agent->executors, e, agent_link);
	free(e->id);
	json_decref(e->info);
	resources_free(&e->res);
	free(e);
}

void
tasks_release_resources(struct master *m, struct task *t)
{
	if (t->released)
		return;
	t->released = true;
	if (t->agent) {
		resources_subtract(&t->agent->used, &t->res);
		if (t->agent->alloc && t->fw->alloc && !t->unreachable)
			alloc_recover(m->alloc, t->fw->alloc, t->agent->alloc,
			    t->role, &t->res);
	}
	resources_subtract(&t->fw->used, &t->res);
	executor_release(m, t);
}

/* Moves a task out of the active set (its agent and the framework's task
 * map) into the framework's completed tasks. */
static void
task_finish(struct task *t)
{
	if (t->agent)
		TAILQ_REMOVE(&t->agent->tasks, t, agent_link);
	t->agent = NULL;
	strmap_del(t->fw->tasks, t->id);
	framework_complete_task(t->fw, t);
}

/* Sends a status to the framework as an UPDATE event; text is the
 * status rendered, used as is unless the state must be translated for a
 * framework that is not PARTITION_AWARE. */
static void
forward(struct framework *fw, const json_t *status, const char *text,
    enum task_state state)
{
	char *ev, *translated = NULL;
	size_t len;

	if (!fw->connected)
		return;
	if (task_forward_state(fw, state) != (int)state) {
		json_t *st = json_deep_copy(status);

		json_object_set_new(st, "state", json_string(task_state_name(
		    task_forward_state(fw, state))));
		text = translated = json_compact(st);
		json_decref(st);
	}
	ev = update_event_text(text, &len);
	framework_send_text(fw, ev, len);
	free(ev);
	free(translated);
}

/* A transition the master decides (agent lost, kill of an unlaunched task,
 * framework removed). */
void
task_transition(struct master *m, struct task *t, enum task_state state,
    const char *reason, const char *message, const char *source,
    bool do_forward)
{
	json_t *st = task_status_json(t, state, reason, message, source);
	bool was_terminal = task_state_terminal(t->state);

	record_status(t, st, NULL);
	t->state = state;
	m->metrics.tasks_by_state[state]++;
	if (task_state_terminal(state) && !was_terminal)
		tasks_release_resources(m, t);
	events_task_updated(m, t);
	if (do_forward)
		forward(t->fw, st, t->last, state);
	json_decref(st);
	/* nothing to acknowledge: a terminal task is done with at once */
	if (task_state_terminal(state) && t->unacked == NULL)
		task_finish(t);
}

void
tasks_status_update(struct master *m, struct agent *a, const char *fw_id,
    json_t *status, int latest, struct ipc_pending *p)
{
	struct framework *fw = framework_find(m, fw_id);
	const char *task_id = json_str_or(json_object_get(status, "task_id"),
	    "value", "");
	int state = task_state_parse(json_str_or(status, "state", ""));
	struct task *t = fw ? strmap_get(fw->tasks, task_id) : NULL;
	const char *uuid = json_str_or(status, "uuid", NULL);
	bool resent = t && uuid && t->unacked_uuid &&
	    strcmp(uuid, t->unacked_uuid) == 0;
	char *text;

	if (json_object_get(status, "agent_id") == NULL)
		json_object_set_new(status, "agent_id", v1_id(a->id));
	text = json_compact(status);
	if (t) {
		bool was_terminal = task_state_terminal(t->state);
		enum task_state now = latest >= 0 ? (enum task_state)latest :
		    (enum task_state)state;

		/* a resent update is not history again, but its latest_state
		 * may be news */
		if (!resent)
			record_status(t, status, text);
		else
			task_touch(t);
		/* a terminal task does not come back to life through an older
		 * update; an unreachable one does when its agent speaks again */
		if (!was_terminal || t->unreachable) {
			t->unreachable = false;
			if (t->state != now)
				m->metrics.tasks_by_state[now]++;
			t->state = now;
			if (task_state_terminal(now) && !was_terminal)
				tasks_release_resources(m, t);
		}
		events_task_updated(m, t);
	}
	if (t && uuid && !resent) {
		free(t->unacked);
		free(t->unacked_uuid);
		t->unacked = strdup(text);
		t->unacked_uuid = strdup(uuid);
		t->unacked_state = (enum task_state)state;
	}
	m->metrics.valid_status_updates++;
	if (fw)
		forward(fw, status, text, (enum task_state)state);
	else
		log_debug("status update %s of task %s for unknown framework %s "
		    "dropped", task_state_name(state), task_id, fw_id);
	free(text);
	ipc_reply_text(p, "{\"type\":\"OK\"}", 13);
}

/* ACKNOWLEDGE from the framework: the terminal task can go. */
void
tasks_acknowledge(struct master *m, struct framework *fw,
    const char *agent_id, const char *task_id, const char *uuid)
{
	struct task *t = strmap_get(fw->tasks, task_id);
	struct agent *a = agent_find(m, agent_id);

	if (a && a->state == AGENT_ACTIVE) {
		struct jsonw w;

		jw_init(&w);
		jw_obj_begin(&w);
		jw_kstr(&w, "type", "ACKNOWLEDGE_UPDATE");
		jw_key(&w, "agent_id");
		jw_obj_begin(&w);
		jw_kstr(&w, "value", agent_id);
		jw_obj_end(&w);
		jw_key(&w, "framework_id");
		jw_obj_begin(&w);
		jw_kstr(&w, "value", fw->id);
		jw_obj_end(&w);
		jw_key(&w, "task_id");
		jw_obj_begin(&w);
		jw_kstr(&w, "value", task_id);
		jw_obj_end(&w);
		jw_kstr(&w, "uuid", uuid);
		jw_obj_end(&w);
		agent_send_text(m, a, jw_steal(&w, NULL), "ACKNOWLEDGE_UPDATE", NULL,
		    NULL);
	}
	if (t == NULL || t->unacked_uuid == NULL ||
	    strcmp(t->unacked_uuid, uuid) != 0)
		return;
	free(t->unacked);
	free(t->unacked_uuid);
	t->unacked = t->unacked_uuid = NULL;
	/* as Mesos: the task goes once its terminal update is acknowledged
	 * (not merely once the master knows it ended) */
	if (task_state_terminal(t->unacked_state))
		task_finish(t);
}

void
tasks_kill(struct master *m, struct framework *fw, const char *task_id,
    const char *agent_id, const json_t *kill_policy)
{
	struct task *t = strmap_get(fw->tasks, task_id);
	json_t *msg;

	if (t == NULL || task_state_terminal(t->state) || t->agent == NULL) {
		struct reconcile_item it = { task_id, agent_id };

		/* as Mesos: an unknown task is answered by reconciliation */
		reconcile_tasks(m, fw, &it, 1);
		return;
	}
	if (t->agent->state != AGENT_ACTIVE) {
		log_info("kill of task %s deferred: agent %s is %s", task_id,
		    t->agent->id, t->agent->state == AGENT_UNREACHABLE ?
		    "unreachable" : "not re-registered yet");
		return;
	}
	msg = json_pack("{s:s, s:o, s:o, s:o}", "type", "KILL_TASK", "agent_id",
	    v1_id(t->agent->id), "framework_id", v1_id(fw->id), "task_id",
	    v1_id(task_id));
	if (kill_policy)
		json_object_set(msg, "kill_policy", (json_t *)kill_policy);
	agent_send(m, t->agent, msg, NULL, NULL);
}

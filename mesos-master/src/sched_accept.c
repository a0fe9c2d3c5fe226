/*
 * sched_accept: ACCEPT with LAUNCH and LAUNCH_GROUP. The offers are checked
 * first and then each task against what they hold, as Mesos does: invalid
 * offers turn the call's tasks into TASK_DROPPED (TASK_LOST for frameworks
 * that are not PARTITION_AWARE, REASON_INVALID_OFFERS); an invalid task
 * gets TASK_ERROR (REASON_TASK_INVALID) with a message naming the problem,
 * without affecting the others; a task group launches whole or not at all.
 * What the tasks leave unused goes back to the allocator, filtered from the
 * framework for refuse_seconds (default 5).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dcos/http_server.h"
#include "dcos/log.h"
#include "dcos/strmap.h"
#include "master.h"

struct run_ref {
	char *fw_id, **task_ids;
	size_t ntasks;
};

static void
on_run_reply(struct master *m, json_t *reply, const char *err, void *arg)
{
	struct run_ref *ref = arg;
	struct framework *fw = framework_find(m, ref->fw_id);

	for (size_t i = 0; i < ref->ntasks; i++) {
		struct task *t = fw ? strmap_get(fw->tasks, ref->task_ids[i]) : NULL;

		if (t && reply && strcmp(json_str_or(reply, "type", ""), "OK") == 0) {
			t->launched = true;
		} else if (t && reply && !task_state_terminal(t->state)) {
			char msg[512];

			snprintf(msg, sizeof(msg), "The agent refused the task: %s",
			    json_str_or(reply, "message", "no reason given"));
			task_transition(m, t, TASK_ERROR, "REASON_TASK_INVALID", msg,
			    "SOURCE_AGENT", true);
		}
		free(ref->task_ids[i]);
	}
	free(ref->task_ids);
	free(ref->fw_id);
	free(ref);
}

static void
send_error_update(struct master *m, struct framework *fw, const char *task_id,
    const char *agent_id, enum task_state state, const char *reason,
    const char *message)
{
	json_t *st = json_pack("{s:o, s:s, s:s, s:s, s:s, s:f}", "task_id",
	    v1_id(task_id), "state", task_state_name(task_forward_state(fw,
	    state)), "source", "SOURCE_MASTER", "reason", reason, "message",
	    message, "timestamp", clock_wall());
	json_t *ev;

	if (agent_id)
		json_object_set_new(st, "agent_id", v1_id(agent_id));
	ev = json_pack("{s:s, s:{s:o}}", "type", "UPDATE", "update", "status",
	    st);
	m->metrics.tasks_by_state[state]++;
	framework_send(fw, ev);
	json_decref(ev);
}

static struct executor *
executor_on(struct agent *a, struct framework *fw, const char *id)
{
	struct executor *e;

	TAILQ_FOREACH(e, &a->executors, agent_link)
		if (e->fw == fw && strcmp(e->id, id) == 0)
			return e;
	return NULL;
}

static struct executor *
executor_add(struct master *m, struct agent *a, struct framework *fw,
    const json_t *info, const struct resources *res)
{
	struct executor *e = calloc(1, sizeof(*e));

	if (e == NULL)
		abort();
	e->id = strdup(json_str_or(json_object_get(info, "executor_id"), "value",
	    ""));
	e->fw = fw;
	e->agent = a;
	e->info = json_deep_copy(info);
	json_object_set_new(e->info, "framework_id", v1_id(fw->id));
	resources_copy(&e->res, res);
	resources_add(&a->used, res);
	resources_add(&fw->used, res);
	TAILQ_INSERT_TAIL(&a->executors, e, agent_link);
	return e;
}

/* Checks one task against the offered pool; on success takes what it needs
 * out of the pool. need: the task's resources plus a new executor's. */
static int
check_task(struct master *m, struct framework *fw, struct agent *a,
    const struct launch_task *lt, const struct resources *exec_res,
    struct resources *pool, char *msg, size_t msglen)
{
	struct resources need;
	char have[96], want[96];

	if (strmap_get(fw->tasks, lt->task_id)) {
		snprintf(msg, msglen, "Task has duplicate ID: %s", lt->task_id);
		return -1;
	}
	if (strcmp(lt->agent_id, a->id) != 0) {
		snprintf(msg, msglen, "Task uses agent %s but the offers are for "
		    "agent %s", lt->agent_id, a->id);
		return -1;
	}
	if (resources_empty(&lt->res)) {
		snprintf(msg, msglen, "Task uses no resources");
		return -1;
	}
	resources_copy(&need, &lt->res);
	if (exec_res)
		resources_add(&need, exec_res);
	if (!resources_contains(pool, &need)) {
		snprintf(have, sizeof(have), "cpus %.3g, mem %.6g, disk %.6g",
		    resources_scalar(pool, "cpus"), resources_scalar(pool, "mem"),
		    resources_scalar(pool, "disk"));
		snprintf(want, sizeof(want), "cpus %.3g, mem %.6g, disk %.6g",
		    resources_scalar(&need, "cpus"), resources_scalar(&need, "mem"),
		    resources_scalar(&need, "disk"));
		snprintf(msg, msglen, "Task uses more resources (%s) than available "
		    "(%s) in the offers (or ports/roles that are not offered)", want,
		    have);
		resources_free(&need);
		return -1;
	}
	resources_subtract(pool, &need);
	resources_free(&need);
	return 0;
}

static struct task *
create_task(struct master *m, struct framework *fw, struct agent *a,
    const struct launch_task *lt, const char *role, const char *executor_id)
{
	struct task *t = task_new(fw, a, lt->task_id);

	task_set_info(t, lt->info);
	free(t->role);
	t->role = strdup(role);
	if (executor_id) {
		free(t->executor_id);
		t->executor_id = strdup(executor_id);
	}
	resources_copy(&t->res, &lt->res);
	resources_add(&a->used, &t->res);
	resources_add(&fw->used, &t->res);
	t->launch_time = clock_mono();
	m->metrics.tasks_launched++;
	m->metrics.tasks_by_state[TASK_STAGING]++;
	events_task_added(m, t);
	return t;
}

/* {"type": <type>, "agent_id": {...}, "framework_info": {...}, ...}: the
 * beginning of RUN_TASK and RUN_TASK_GROUP, rendered once into w. */
static void
run_begin(struct jsonw *w, const char *type, const struct agent *a,
    const struct framework *fw)
{
	jw_init(w);
	jw_obj_begin(w);
	jw_kstr(w, "type", type);
	jw_key(w, "agent_id");
	jw_obj_begin(w);
	jw_kstr(w, "value", a->id);
	jw_obj_end(w);
	jw_kraw(w, "framework_info", fw->info_text);
}

static void
launch(struct master *m, struct framework *fw, struct agent *a,
    const struct launch_task *lt, const char *role, struct resources *pool)
{
	const char *eid = lt->executor ? json_str_or(json_object_get(lt->executor,
	    "executor_id"), "value", NULL) : NULL;
	struct executor *e = eid ? executor_on(a, fw, eid) : NULL;
	struct resources exec_res;
	struct run_ref *ref;
	char msg[512];
	struct task *t;
	struct json_errs errs;
	struct jsonw w;

	const json_t *cmd = json_object_get(lt->info, "command");
	bool has_cmd = cmd && !json_is_null(cmd);

	resources_init(&exec_res);
	if ((lt->executor != NULL) == has_cmd) {
		send_error_update(m, fw, lt->task_id, a->id, TASK_ERROR,
		    "REASON_TASK_INVALID", "Task should have at least one (but not "
		    "both) of CommandInfo or ExecutorInfo present");
		return;
	}
	if (lt->executor && e == NULL) {
		json_errs_init(&errs);
		resources_from_v1(json_object_get(lt->executor, "resources"),
		    "/executor/resources", &exec_res, &errs);
		json_errs_free(&errs);
	}
	if (check_task(m, fw, a, lt, lt->executor && e == NULL ? &exec_res :
	    NULL, pool, msg, sizeof(msg)) == -1) {
		send_error_update(m, fw, lt->task_id, a->id, TASK_ERROR,
		    "REASON_TASK_INVALID", msg);
		resources_free(&exec_res);
		return;
	}
	if (lt->executor && e == NULL)
		e = executor_add(m, a, fw, lt->executor, &exec_res);
	if (e)
		e->ntasks++;
	resources_free(&exec_res);
	t = create_task(m, fw, a, lt, role, eid);
	/* the TaskInfo goes as sent: its agent_id was checked to be this one */
	run_begin(&w, "RUN_TASK", a, fw);
	jw_kjson(&w, "task", lt->info);
	jw_obj_end(&w);
	if ((ref = calloc(1, sizeof(*ref))) == NULL ||
	    (ref->task_ids = calloc(1, sizeof(char *))) == NULL)
		abort();
	ref->fw_id = strdup(fw->id);
	ref->task_ids[ref->ntasks++] = strdup(t->id);
	agent_send_text(m, a, jw_steal(&w, NULL), "RUN_TASK", on_run_reply, ref);
}

static void
launch_group(struct master *m, struct framework *fw, struct agent *a,
    const struct operation *op, const char *role, struct resources *pool)
{
	const char *eid = json_str_or(json_object_get(op->group_executor,
	    "executor_id"), "value", "");
	struct executor *e = executor_on(a, fw, eid);
	struct resources trial;
	struct run_ref *ref;
	struct jsonw w;
	char msg[512] = "";
	size_t i;

	/* all or nothing: check the whole group on a copy of the pool */
	resources_copy(&trial, pool);
	if (e == NULL && !resources_contains(&trial, &op->group_executor_res))
		snprintf(msg, sizeof(msg), "The task group's executor uses more "
		    "resources than available in the offers");
	else if (e == NULL)
		resources_subtract(&trial, &op->group_executor_res);
	for (i = 0; msg[0] == '\0' && i < op->ntasks; i++) {
		if (json_object_get(op->tasks[i].info, "executor") &&
		    !json_is_null(json_object_get(op->tasks[i].info, "executor")))
			snprintf(msg, sizeof(msg), "Task %s in a task group must not "
			    "set an executor", op->tasks[i].task_id);
		else
			check_task(m, fw, a, &op->tasks[i], NULL, &trial, msg,
			    sizeof(msg));
		for (size_t k = 0; msg[0] == '\0' && k < i; k++)
			if (!strcmp(op->tasks[k].task_id, op->tasks[i].task_id))
				snprintf(msg, sizeof(msg), "Task has duplicate ID: %s",
				    op->tasks[i].task_id);
	}
	if (msg[0]) {
		for (i = 0; i < op->ntasks; i++)
			send_error_update(m, fw, op->tasks[i].task_id, a->id,
			    TASK_ERROR, "REASON_TASK_GROUP_INVALID", msg);
		resources_free(&trial);
		return;
	}
	resources_free(pool);
	*pool = trial;
	if (e == NULL)
		e = executor_add(m, a, fw, op->group_executor,
		    &op->group_executor_res);
	run_begin(&w, "RUN_TASK_GROUP", a, fw);
	jw_kjson(&w, "executor", e->info);
	jw_key(&w, "task_group");
	jw_obj_begin(&w);
	jw_key(&w, "tasks");
	jw_arr_begin(&w);
	if ((ref = calloc(1, sizeof(*ref))) == NULL ||
	    (ref->task_ids = calloc(op->ntasks, sizeof(char *))) == NULL)
		abort();
	ref->fw_id = strdup(fw->id);
	for (i = 0; i < op->ntasks; i++) {
		struct task *t = create_task(m, fw, a, &op->tasks[i], role, eid);

		e->ntasks++;
		jw_json(&w, op->tasks[i].info);
		ref->task_ids[ref->ntasks++] = strdup(t->id);
	}
	jw_arr_end(&w);
	jw_obj_end(&w);
	jw_obj_end(&w);
	agent_send_text(m, a, jw_steal(&w, NULL), "RUN_TASK_GROUP", on_run_reply,
	    ref);
}

static void
invalid_offers(struct master *m, struct framework *fw, struct sched_call *c,
    const char *why)
{
	char msg[600];

	snprintf(msg, sizeof(msg), "Task launched with invalid offers: %s", why);
	for (size_t i = 0; i < c->nops; i++)
		for (size_t k = 0; k < c->ops[i].ntasks; k++)
			send_error_update(m, fw, c->ops[i].tasks[k].task_id,
			    c->ops[i].tasks[k].agent_id, TASK_DROPPED,
			    "REASON_INVALID_OFFERS", msg);
}

void
sched_accept(struct master *m, struct framework *fw, struct sched_call *c)
{
	struct offer **offers = calloc(c->noffer_ids, sizeof(*offers));
	struct resources pool;
	struct agent *a = NULL;
	char why[512] = "", role[128] = "*";
	size_t i;

	if (offers == NULL)
		abort();
	for (i = 0; i < c->noffer_ids && !why[0]; i++) {
		offers[i] = offer_find(m, c->offer_ids[i]);
		if (offers[i] == NULL || offers[i]->fw != fw)
			snprintf(why, sizeof(why), "Offer %s is no longer valid",
			    c->offer_ids[i]);
		else if (a && offers[i]->agent != a)
			snprintf(why, sizeof(why), "Aggregated offers must belong to "
			    "the same agent");
		else
			a = offers[i]->agent;
		for (size_t k = 0; !why[0] && k < i; k++)
			if (offers[k] == offers[i])
				snprintf(why, sizeof(why), "Offer %s appears more than "
				    "once", c->offer_ids[i]);
	}
	if (why[0]) {
		/* valid offers among them go back, unfiltered */
		for (size_t k = 0; k < c->noffer_ids; k++) {
			struct offer *o = offer_find(m, c->offer_ids[k]);

			if (o && o->fw == fw)
				offer_remove(m, o, false, true);
		}
		invalid_offers(m, fw, c, why);
		free(offers);
		return;
	}
	resources_init(&pool);
	snprintf(role, sizeof(role), "%s", offers[0]->role);
	for (i = 0; i < c->noffer_ids; i++) {
		resources_add(&pool, &offers[i]->res);
		offer_remove(m, offers[i], false, false);
	}
	free(offers);
	for (i = 0; i < c->nops; i++) {
		struct operation *op = &c->ops[i];

		if (op->type == OP_LAUNCH_GROUP) {
			launch_group(m, fw, a, op, role, &pool);
			continue;
		}
		for (size_t k = 0; k < op->ntasks; k++)
			launch(m, fw, a, &op->tasks[k], role, &pool);
	}
	/* the rest goes back, filtered from this framework for a while */
	if (!resources_empty(&pool)) {
		alloc_recover(m->alloc, fw->alloc, a->alloc, role, &pool);
		if (c->refuse_seconds > 0)
			alloc_filter(m->alloc, fw->alloc, a->alloc, &pool,
			    clock_mono() + c->refuse_seconds);
	}
	resources_free(&pool);
}

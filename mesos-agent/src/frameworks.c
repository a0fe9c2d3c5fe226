/*
 * frameworks: the agent's model of its work: frameworks, their executors
 * (running and completed, bounded), and each executor's tasks, which move
 * from queued (executor not subscribed yet) to launched, terminated (a
 * terminal update arrived) and completed (the framework acknowledged it).
 * An executor retires once its process is gone and every update of its
 * tasks is acknowledged; a framework once it has no executors left.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "dcos/json.h"
#include "dcos/log.h"
#include "dcos/strmap.h"

#include "agent.h"

struct framework *
framework_find(struct agent *a, const char *id)
{
	struct framework *fw;

	TAILQ_FOREACH(fw, &a->frameworks, link)
		if (strcmp(fw->id, id) == 0)
			return fw;
	return NULL;
}

struct framework *
framework_new(const char *id, json_t *info)
{
	struct framework *fw = calloc(1, sizeof(*fw));

	if (fw == NULL || (fw->id = strdup(id)) == NULL)
		abort();
	fw->info = info;
	TAILQ_INIT(&fw->executors);
	TAILQ_INIT(&fw->completed);
	fw->executors_by_id = strmap_new();
	fw->tasks_by_id = strmap_new();
	return fw;
}

/* The framework and every executor it still holds; the caller has taken
 * it off its list. */
void
framework_free(struct framework *fw)
{
	struct executor *ex;

	while ((ex = TAILQ_FIRST(&fw->executors)) != NULL) {
		TAILQ_REMOVE(&fw->executors, ex, link);
		executor_free(ex);
	}
	while ((ex = TAILQ_FIRST(&fw->completed)) != NULL) {
		TAILQ_REMOVE(&fw->completed, ex, link);
		executor_free(ex);
	}
	strmap_free(fw->executors_by_id);
	strmap_free(fw->tasks_by_id);
	json_decref(fw->info);
	free(fw->id);
	free(fw);
}

struct framework *
framework_add(struct agent *a, const json_t *info)
{
	const char *id = mesos_id_get(info, "id");
	struct framework *fw = framework_find(a, id);

	if (fw == NULL) {
		fw = framework_new(id, NULL);
		TAILQ_INSERT_TAIL(&a->frameworks, fw, link);
	} else if (json_equal(fw->info, (json_t *)info)) {
		return fw;
	}
	json_decref(fw->info);
	fw->info = json_deep_copy(info);
	checkpoint_framework(a, fw);
	return fw;
}

void
framework_maybe_remove(struct agent *a, struct framework *fw)
{
	struct framework *old;

	if (!TAILQ_EMPTY(&fw->executors))
		return;
	TAILQ_REMOVE(&a->frameworks, fw, link);
	updates_forget_framework(a, fw->id);
	log_info("framework %s has no executors left on this agent", fw->id);
	TAILQ_INSERT_TAIL(&a->completed_frameworks, fw, link);
	if (++a->ncompleted_frameworks > (size_t)a->f.max_completed_frameworks &&
	    (old = TAILQ_FIRST(&a->completed_frameworks)) != NULL) {
		TAILQ_REMOVE(&a->completed_frameworks, old, link);
		a->ncompleted_frameworks--;
		framework_free(old);
	}
}

struct executor *
executor_find(struct framework *fw, const char *id)
{
	struct executor *ex;

	if (!fw->executor_ids_dup)
		return strmap_get(fw->executors_by_id, id);
	TAILQ_FOREACH(ex, &fw->executors, link)
		if (strcmp(ex->id, id) == 0)
			return ex;
	return NULL;
}

static struct task_list *
phase_list(struct executor *ex, enum task_phase phase)
{
	switch (phase) {
	case PHASE_QUEUED: return &ex->queued;
	case PHASE_LAUNCHED: return &ex->launched;
	case PHASE_TERMINATED: return &ex->terminated;
	case PHASE_COMPLETED: return &ex->completed;
	}
	abort();
}

struct task *
executor_task(struct executor *ex, const char *task_id)
{
	for (int p = PHASE_QUEUED; p <= PHASE_COMPLETED; p++) {
		struct task *t;

		TAILQ_FOREACH(t, phase_list(ex, (enum task_phase)p), link)
			if (strcmp(t->id, task_id) == 0)
				return t;
	}
	return NULL;
}

/* Any task with this id in the framework, completed ones included. */
struct task *
task_find(struct agent *a, const char *fw_id, const char *id)
{
	struct framework *fw = framework_find(a, fw_id);
	struct executor *ex;
	struct task *t;

	if (fw == NULL)
		return NULL;
	if (!fw->task_ids_dup)
		return strmap_get(fw->tasks_by_id, id);
	TAILQ_FOREACH(ex, &fw->executors, link)
		if ((t = executor_task(ex, id)) != NULL)
			return t;
	TAILQ_FOREACH(ex, &fw->completed, link)
		if ((t = executor_task(ex, id)) != NULL)
			return t;
	return NULL;
}

struct task *
task_new(struct executor *ex, const char *id, const json_t *info,
    enum task_phase phase)
{
	struct task *t = calloc(1, sizeof(*t));
	struct json_errs e;

	if (t == NULL || (t->id = strdup(id)) == NULL)
		abort();
	t->ex = ex;
	t->info = json_deep_copy(info);
	t->statuses = json_array();
	snprintf(t->state, sizeof(t->state), "TASK_STAGING");
	resources_init(&t->res);
	json_errs_init(&e);
	resources_from_v1(json_object_get(info, "resources"), "/resources",
	    &t->res, &e);
	json_errs_free(&e);
	t->phase = phase;
	TAILQ_INSERT_TAIL(phase_list(ex, phase), t, link);
	if (strmap_get(ex->fw->tasks_by_id, id) == NULL)
		strmap_put(ex->fw->tasks_by_id, id, t);
	else
		ex->fw->task_ids_dup = true;
	return t;
}

void
task_set_phase(struct task *t, enum task_phase phase)
{
	if (t->phase == phase)
		return;
	TAILQ_REMOVE(phase_list(t->ex, t->phase), t, link);
	t->phase = phase;
	TAILQ_INSERT_TAIL(phase_list(t->ex, phase), t, link);
	if (phase == PHASE_COMPLETED)
		t->ex->ncompleted++;
}

void
task_free(struct task *t)
{
	if (strmap_get(t->ex->fw->tasks_by_id, t->id) == t)
		strmap_del(t->ex->fw->tasks_by_id, t->id);
	free(t->id);
	json_decref(t->info);
	json_decref(t->statuses);
	json_decref(t->kill_policy);
	resources_free(&t->res);
	free(t);
}

void
executor_free(struct executor *ex)
{
	struct task *t;

	if (strmap_get(ex->fw->executors_by_id, ex->id) == ex)
		strmap_del(ex->fw->executors_by_id, ex->id);
	for (int p = PHASE_QUEUED; p <= PHASE_COMPLETED; p++) {
		struct task_list *l = phase_list(ex, (enum task_phase)p);

		while ((t = TAILQ_FIRST(l)) != NULL) {
			TAILQ_REMOVE(l, t, link);
			task_free(t);
		}
	}
	if (ex->exit_ev)
		event_free(ex->exit_ev);
	if (ex->timer)
		event_free(ex->timer);
	if (ex->pidfd >= 0)
		close(ex->pidfd);
	executor_stream_close(ex);
	json_decref(ex->info);
	json_decref(ex->container);
	resources_free(&ex->res);
	free(ex->directory);
	free(ex->meta);
	free(ex->id);
	free(ex);
}

void
executor_maybe_complete(struct executor *ex)
{
	struct agent *a = ex->a;
	struct framework *fw = ex->fw;
	struct task *t, *next;
	struct executor *old;

	if (ex->state != EXEC_TERMINATED || !TAILQ_EMPTY(&ex->queued) ||
	    !TAILQ_EMPTY(&ex->launched))
		return;
	TAILQ_FOREACH_SAFE(t, &ex->terminated, link, next) {
		if (!fw->terminating && updates_pending(a, fw->id, t->id))
			return;
		task_set_phase(t, PHASE_COMPLETED);
	}
	log_info("executor %s of framework %s is done; its sandbox %s is kept "
	    "for garbage collection", ex->id, fw->id, ex->directory);
	checkpoint_executor_done(a, ex);
	executor_retire(ex);
	if (fw->ncompleted > (size_t)a->f.max_completed_executors_per_framework &&
	    (old = TAILQ_FIRST(&fw->completed)) != NULL) {
		TAILQ_REMOVE(&fw->completed, old, link);
		fw->ncompleted--;
		executor_free(old);
	}
	framework_maybe_remove(a, fw);
}

/* From the framework's running executors to its completed ones. */
void
executor_retire(struct executor *ex)
{
	struct framework *fw = ex->fw;

	TAILQ_REMOVE(&fw->executors, ex, link);
	TAILQ_INSERT_TAIL(&fw->completed, ex, link);
	fw->ncompleted++;
	if (strmap_get(fw->executors_by_id, ex->id) == ex)
		strmap_del(fw->executors_by_id, ex->id);
}

struct executor *
executor_new(struct agent *a, struct framework *fw, const char *id,
    json_t *info /* stolen */, bool command, bool group,
    const char *container_id)
{
	struct executor *ex = calloc(1, sizeof(*ex));
	struct json_errs e;

	if (ex == NULL || (ex->id = strdup(id)) == NULL)
		abort();
	ex->a = a;
	ex->fw = fw;
	ex->info = info;
	ex->command = command;
	ex->group = group;
	ex->pidfd = -1;
	ex->state = EXEC_LAUNCHING;
	ex->start_time = mesos_now();
	if (container_id)
		snprintf(ex->container_id, sizeof(ex->container_id), "%s",
		    container_id);
	else
		ids_uuid4(ex->container_id);
	TAILQ_INIT(&ex->queued);
	TAILQ_INIT(&ex->launched);
	TAILQ_INIT(&ex->terminated);
	TAILQ_INIT(&ex->completed);
	resources_init(&ex->res);
	json_errs_init(&e);
	resources_from_v1(json_object_get(info, "resources"), "/resources",
	    &ex->res, &e);
	json_errs_free(&e);
	TAILQ_INSERT_TAIL(&fw->executors, ex, link);
	if (strmap_get(fw->executors_by_id, id) == NULL)
		strmap_put(fw->executors_by_id, id, ex);
	else
		fw->executor_ids_dup = true;
	return ex;
}


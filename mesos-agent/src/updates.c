/*
 * updates: reliable status updates, as the Mesos status update manager
 * does them. Each task has one stream: an update from the executor (or one
 * the agent makes up, e.g. when an executor dies) is appended to the
 * task's update log and fsynced before anyone hears of it; then the
 * executor gets ACKNOWLEDGED, and the head of the stream goes to the master
 * as STATUS_UPDATE, resent every --status_update_retry_interval and after
 * each re-registration until the framework's acknowledgement comes back
 * (ACKNOWLEDGE_UPDATE); only then does the next update of that task go
 * out, so a framework sees a task's updates in order. Duplicates (same
 * uuid, e.g. resent by a reconnecting executor) are acknowledged and
 * dropped. A restarted agent replays the logs.
 *
 * Log records (<run>/updates.<task id>), one JSON object per line:
 *   {"type":"UPDATE","update":{"framework_id":{...},"status":{...}}}
 *   {"type":"ACK","uuid":"..."}
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "dcos/json.h"
#include "dcos/log.h"
#include "dcos/strmap.h"

#include "agent.h"

static char *
stream_key(const char *fw_id, const char *task_id)
{
	char *k;

	if (asprintf(&k, "%s\n%s", fw_id, task_id) < 0)
		abort();
	return k;
}

struct update_stream *
updates_stream(struct agent *a, const char *fw_id, const char *task_id)
{
	char *k = stream_key(fw_id, task_id);
	struct update_stream *s = strmap_get(a->streams, k);

	free(k);
	return s;
}

static void forward(struct update_stream *s);

static void
on_retry(evutil_socket_t fd, short what, void *arg)
{
	struct update_stream *s = arg;

	if (json_array_size(s->pending) > 0) {
		log_debug("resending the unacknowledged update of task %s",
		    s->task_id);
		forward(s);
	}
}

static struct update_stream *
stream_new(struct agent *a, const char *fw_id, const char *task_id,
    const char *path)
{
	struct update_stream *s = calloc(1, sizeof(*s));

	if (s == NULL)
		abort();
	s->a = a;
	s->key = stream_key(fw_id, task_id);
	if ((s->fw_id = strdup(fw_id)) == NULL ||
	    (s->task_id = strdup(task_id)) == NULL)
		abort();
	s->pending = json_array();
	s->seen = json_object();
	s->fd = -1;
	if (path && (s->fd = open(path, O_WRONLY | O_APPEND | O_CREAT |
	    O_CLOEXEC, 0600)) == -1)
		log_warn("cannot open %s: %s; updates of task %s are not "
		    "checkpointed", path, strerror(errno), task_id);
	s->retry = evtimer_new(a->base, on_retry, s);
	strmap_put(a->streams, s->key, s);
	return s;
}

static void
stream_free(struct update_stream *s)
{
	if (s->fd >= 0)
		close(s->fd);
	event_free(s->retry);
	json_decref(s->pending);
	json_decref(s->seen);
	free(s->key);
	free(s->fw_id);
	free(s->task_id);
	free(s);
}

static void
stream_remove(struct update_stream *s)
{
	strmap_del(s->a->streams, s->key);
	stream_free(s);
}

void
updates_free_all(struct agent *a)
{
	const char *k;
	void *v;

	for (size_t it = 0; strmap_next(a->streams, &it, &k, &v);) {
		strmap_del(a->streams, k);
		stream_free(v);
	}
}

void
updates_forget_framework(struct agent *a, const char *fw_id)
{
	const char *k;
	void *v;

	for (size_t it = 0; strmap_next(a->streams, &it, &k, &v);) {
		struct update_stream *s = v;

		if (strcmp(s->fw_id, fw_id) == 0) {
			strmap_del(a->streams, k);
			stream_free(s);
		}
	}
}

bool
updates_pending(struct agent *a, const char *fw_id, const char *task_id)
{
	struct update_stream *s = updates_stream(a, fw_id, task_id);

	return s != NULL && json_array_size(s->pending) > 0;
}

/* Appends a record; an UPDATE is fsynced before anyone hears of it, an
 * ACK is not (losing one only means the update is sent once more). */
static int
append(struct update_stream *s, const json_t *record, bool sync, char *err,
    size_t errlen)
{
	char *text;
	size_t len;
	ssize_t n;

	if (s->fd < 0)
		return 0;
	text = json_compact(record);
	len = strlen(text);
	text[len++] = '\n'; /* replaces the NUL; length-counted from here */
	n = write(s->fd, text, len);
	free(text);
	if (n != (ssize_t)len || (sync && fdatasync(s->fd) == -1)) {
		snprintf(err, errlen, "cannot checkpoint a status update of task "
		    "%s: %s", s->task_id, strerror(errno));
		return -1;
	}
	return 0;
}

static void
forward(struct update_stream *s)
{
	struct agent *a = s->a;
	json_t *head = json_array_get(s->pending, 0);
	double r = a->f.status_update_retry_interval;
	struct timeval tv = { (time_t)r, (suseconds_t)((r - (long)r) * 1e6) };
	json_t *msg;
	struct task *t;

	if (head == NULL)
		return;
	msg = json_pack("{s:s, s:O, s:O}", "type", "STATUS_UPDATE",
	    "framework_id", json_object_get(head, "framework_id"), "status",
	    json_object_get(head, "status"));
	if ((t = task_find(a, s->fw_id, s->task_id)) != NULL)
		json_object_set_new(msg, "latest_state", json_string(t->state));
	log_debug("forwarding %s of task %s", json_str_or(json_object_get(head,
	    "status"), "state", "?"), s->task_id);
	master_send(a, msg, true);
	s->sent = true;
	evtimer_add(s->retry, &tv);
}

/* The task's view: latest state, status history, terminal phase. */
static void
apply_to_task(struct agent *a, struct task *t, const json_t *status)
{
	const char *state = json_string_value(json_object_get(status, "state"));

	snprintf(t->state, sizeof(t->state), "%s", state);
	json_array_append(t->statuses, (json_t *)status);
	if (task_state_terminal(state) && (t->phase == PHASE_QUEUED ||
	    t->phase == PHASE_LAUNCHED)) {
		task_set_phase(t, PHASE_TERMINATED);
		if (strcmp(state, "TASK_FINISHED") == 0)
			a->metrics.tasks_finished++;
		else if (strcmp(state, "TASK_FAILED") == 0)
			a->metrics.tasks_failed++;
		else if (strcmp(state, "TASK_KILLED") == 0)
			a->metrics.tasks_killed++;
		else
			a->metrics.tasks_lost++;
	}
}

static int
handle(struct agent *a, const char *fw_id, json_t *status,
    struct executor *ex, struct task *t, bool ack_executor, char *err,
    size_t errlen)
{
	const char *task_id = mesos_id_get(status, "task_id");
	const char *uuid = json_string_value(json_object_get(status, "uuid"));
	struct update_stream *s;
	json_t *update, *record;
	char path[PATH_MAX];

	if (t && t->phase == PHASE_COMPLETED) {
		/* already through: the executor missed our acknowledgement */
		goto ack;
	}
	s = updates_stream(a, fw_id, task_id);
	if (s == NULL) {
		bool keep = ex && ex->meta && paths_task_file(path, sizeof(path),
		    ex->meta, "updates", task_id) == 0;

		s = stream_new(a, fw_id, task_id, keep ? path : NULL);
	}
	if (json_object_get(s->seen, uuid))
		goto ack; /* a duplicate */
	if (!json_object_get(status, "agent_id") && a->id[0])
		json_object_set_new(status, "agent_id", mesos_id(a->id));
	if (!json_object_get(status, "executor_id") && ex && !ex->command)
		json_object_set_new(status, "executor_id", mesos_id(ex->id));
	if (!json_object_get(status, "timestamp"))
		json_object_set_new(status, "timestamp", json_real(mesos_now()));
	if (!json_object_get(status, "source"))
		json_object_set_new(status, "source", json_string("SOURCE_EXECUTOR"));
	update = json_pack("{s:o, s:O}", "framework_id", mesos_id(fw_id),
	    "status", status);
	record = json_pack("{s:s, s:O}", "type", "UPDATE", "update", update);
	if (append(s, record, true, err, errlen) == -1) {
		json_decref(record);
		json_decref(update);
		json_decref(status);
		return -1;
	}
	json_decref(record);
	json_object_set_new(s->seen, uuid, json_true());
	if (t)
		apply_to_task(a, t, status);
	log_debug("task %s of framework %s is %s", task_id, fw_id,
	    json_string_value(json_object_get(status, "state")));
	json_array_append_new(s->pending, update);
	if (json_array_size(s->pending) == 1)
		forward(s);
	a->metrics.valid_updates++;
ack:
	if (ack_executor && ex)
		executor_send(ex, json_pack("{s:s, s:{s:o, s:s}}", "type",
		    "ACKNOWLEDGED", "acknowledged", "task_id", mesos_id(task_id),
		    "uuid", uuid));
	json_decref(status);
	return 0;
}

int
updates_handle(struct agent *a, const char *fw_id, json_t *status,
    struct executor *ex, char *err, size_t errlen)
{
	const char *task_id = mesos_id_get(status, "task_id");
	struct task *t = ex && task_id ? executor_task(ex, task_id) : NULL;

	if (t == NULL) {
		snprintf(err, errlen, "task '%s' is not a task of executor '%s'",
		    task_id ? task_id : "?", ex ? ex->id : "?");
		json_decref(status);
		return -1;
	}
	return handle(a, fw_id, status, ex, t, true, err, errlen);
}

void
updates_synthesize(struct agent *a, const char *fw_id, struct executor *ex,
    struct task *t, const char *task_id, const char *state,
    const char *reason, const char *message)
{
	json_t *status = status_new(task_id, state, "SOURCE_AGENT", reason,
	    message, ex && !ex->command ? ex->id : NULL, a->id[0] ? a->id : NULL);
	char err[256];

	if (handle(a, fw_id, status, ex, t, false, err, sizeof(err)) == -1)
		log_error("%s", err);
}

void
updates_ack(struct agent *a, const char *fw_id, const char *task_id,
    const char *uuid)
{
	struct update_stream *s = updates_stream(a, fw_id, task_id);
	json_t *head = s ? json_array_get(s->pending, 0) : NULL;
	const char *huuid = head ? json_string_value(json_object_get(
	    json_object_get(head, "status"), "uuid")) : NULL;
	bool terminal;
	json_t *record;
	char err[256];
	struct task *t;

	log_debug("acknowledgement for task %s", task_id);
	if (huuid == NULL || strcmp(huuid, uuid) != 0) {
		log_debug("ignoring an acknowledgement for task %s of framework "
		    "%s: not the update waiting for one", task_id, fw_id);
		return;
	}
	record = json_pack("{s:s, s:s}", "type", "ACK", "uuid", uuid);
	if (append(s, record, false, err, sizeof(err)) == -1)
		log_error("%s", err); /* it will be acknowledged again */
	json_decref(record);
	terminal = task_state_terminal(json_string_value(json_object_get(
	    json_object_get(head, "status"), "state")));
	json_array_remove(s->pending, 0);
	evtimer_del(s->retry);
	if (json_array_size(s->pending) > 0) {
		forward(s);
		return;
	}
	if (!terminal)
		return;
	s->terminated = true;
	stream_remove(s);
	if ((t = task_find(a, fw_id, task_id)) != NULL &&
	    t->phase == PHASE_TERMINATED)
		executor_maybe_complete(t->ex);
}

void
updates_flush(struct agent *a)
{
	const char *k;
	void *v;

	for (size_t it = 0; strmap_next(a->streams, &it, &k, &v);) {
		struct update_stream *s = v;

		if (json_array_size(s->pending) > 0)
			forward(s);
	}
}

int
updates_recover(struct agent *a, const char *fw_id, const char *task_id,
    const char *path, struct task *t)
{
	size_t len = 0;
	char *log = fs_read_text(path, &len);
	char state[32] = "TASK_STAGING";
	json_t *all = json_array(), *pending, *st;
	struct update_stream *s;
	size_t i;

	if (log == NULL) {
		json_decref(all);
		return 0; /* no update yet */
	}
	s = stream_new(a, fw_id, task_id, path);
	pending = updates_replay(log, len, s->seen, state, sizeof(state), all);
	free(log);
	json_decref(s->pending);
	s->pending = pending;
	if (t) {
		json_array_foreach(all, i, st)
			apply_to_task(a, t, st);
	}
	json_decref(all);
	if (json_array_size(s->pending) == 0 && task_state_terminal(state))
		stream_remove(s); /* all done before the restart */
	return 0;
}

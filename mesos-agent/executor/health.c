/*
 * health: Mesos-native health checks of a task (TaskInfo.health_check),
 * run by its executor as Mesos' built-in executors do:
 *   COMMAND  `sh -c <value>` in the task's container (cgroups, user,
 *            environment, sandbox); exit 0 is healthy
 *   HTTP     GET <scheme>://127.0.0.1:<port><path>; 200-399 is healthy
 *   TCP      a connection to 127.0.0.1:<port> is healthy
 * after delay_seconds (15), every interval_seconds (10), each given
 * timeout_seconds (20). The first success, and every failure outside the
 * grace period (grace_period_seconds, 10, counted from the launch, over
 * once a check passed), is reported as TASK_RUNNING with `healthy` and
 * REASON_TASK_HEALTH_CHECK_STATUS_UPDATED; consecutive_failures (3)
 * failures in a row kill the task, which ends TASK_KILLED, unhealthy.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "dcos/json.h"
#include "dcos/log.h"

#include "executor.h"

enum hc_type { HC_COMMAND, HC_HTTP, HC_TCP };

struct health {
	struct executor *e;
	struct etask *t;
	enum hc_type type;
	double delay, interval, timeout, grace;
	long max_failures;
	int port;
	char path[512];
	double started;
	long failures;
	bool passed_once, reported_healthy, running;
	struct event *tick, *deadline, *io;
	pid_t pid;                       /* COMMAND check in flight */
	int fd;                          /* TCP check in flight */
	struct evhttp_connection *conn;  /* HTTP check in flight */
};

static double
num_or(const json_t *o, const char *k, double def)
{
	const json_t *v = json_object_get(o, k);

	return json_is_number(v) ? json_number_value(v) : def;
}

static void
arm(struct event *ev, double secs)
{
	struct timeval tv = { (time_t)secs,
		(suseconds_t)((secs - (long)secs) * 1e6) };

	evtimer_add(ev, &tv);
}

static void
stop_check(struct health *h)
{
	if (h->deadline)
		evtimer_del(h->deadline);
	if (h->io) {
		event_free(h->io);
		h->io = NULL;
	}
	if (h->fd >= 0) {
		close(h->fd);
		h->fd = -1;
	}
	if (h->conn) {
		evhttp_connection_free(h->conn);
		h->conn = NULL;
	}
	if (h->pid > 0) {
		kill(-h->pid, SIGKILL);
		kill(h->pid, SIGKILL);
		/* reaped by tasks_reap -> health_reaped, which ignores it */
	}
	h->running = false;
}

/* One check is over: report and decide. */
static void
result(struct health *h, bool ok, const char *why)
{
	struct executor *e = h->e;
	struct etask *t = h->t;
	bool in_grace = !h->passed_once &&
	    mesos_now() - h->started < h->grace;

	stop_check(h);
	if (ok) {
		h->failures = 0;
		h->passed_once = true;
		if (!h->reported_healthy) {
			h->reported_healthy = true;
			tasks_status(e, t, "TASK_RUNNING",
			    "REASON_TASK_HEALTH_CHECK_STATUS_UPDATED", NULL,
			    json_pack("{s:b}", "healthy", 1));
		}
	} else if (!in_grace) {
		char msg[512];

		h->failures++;
		h->reported_healthy = false;
		snprintf(msg, sizeof(msg), "Health check failed: %s", why);
		log_info("task %s: %s (%ld of %ld)", t->id, msg, h->failures,
		    h->max_failures);
		tasks_status(e, t, "TASK_RUNNING",
		    "REASON_TASK_HEALTH_CHECK_STATUS_UPDATED", msg,
		    json_pack("{s:b}", "healthy", 0));
		if (h->max_failures > 0 && h->failures >= h->max_failures) {
			log_warn("task %s failed %ld health checks in a row; killing "
			    "it", t->id, h->failures);
			t->killed_by_health = true;
			tasks_kill(e, t->id, NULL);
			return;
		}
	}
	arm(h->tick, h->interval);
}

static void
on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct health *h = arg;
	char why[64];

	snprintf(why, sizeof(why), "no answer within %gs", h->timeout);
	result(h, false, why);
}

static void
on_http(struct evhttp_request *req, void *arg)
{
	struct health *h = arg;
	int code = req ? evhttp_request_get_response_code(req) : 0;
	char why[64];

	/* the connection goes once the loop is back (we are inside it) */
	h->conn = NULL;
	snprintf(why, sizeof(why), code ? "HTTP %d" : "no HTTP answer", code);
	{
		struct evhttp_connection *c = req ?
		    evhttp_request_get_connection(req) : NULL;

		result(h, code >= 200 && code < 400, why);
		if (c)
			evhttp_connection_free_on_completion(c);
	}
}

static void
on_tcp(evutil_socket_t fd, short what, void *arg)
{
	struct health *h = arg;
	int err = 0;
	socklen_t len = sizeof(err);

	getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
	result(h, err == 0, err ? strerror(err) : "");
}

static int
start_command(struct health *h, char *err, size_t errlen)
{
	struct executor *e = h->e;
	const json_t *cmd = json_object_get(json_object_get(h->t->info,
	    "health_check"), "command");
	json_t *fake = json_pack("{s:O}", "command", cmd), *info;
	struct etask probe = *h->t;

	/* the task's launch info with the check's command, quietly */
	probe.info = fake;
	json_object_set(fake, "resources", json_object_get(h->t->info,
	    "resources"));
	info = spawn_launch_info(e, &probe, err, errlen);
	json_decref(fake);
	if (info == NULL)
		return -1;
	json_object_set_new(info, "pid_namespace", json_false());
	json_object_set_new(info, "stdout", json_string("/dev/null"));
	json_object_set_new(info, "stderr", json_string("/dev/null"));
	h->pid = spawn_launch(e, info, false, NULL, err, errlen);
	json_decref(info);
	return h->pid > 0 ? 0 : -1;
}

static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct health *h = arg;
	char err[256] = "";
	int rc = 0;

	if (h->t->exited || h->t->killing)
		return;
	h->running = true;
	if (h->type == HC_COMMAND) {
		rc = start_command(h, err, sizeof(err));
	} else if (h->type == HC_TCP) {
		struct sockaddr_in sin = { .sin_family = AF_INET,
			.sin_port = htons((uint16_t)h->port),
			.sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

		h->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
		if (h->fd < 0 || (connect(h->fd, (struct sockaddr *)&sin,
		    sizeof(sin)) == -1 && errno != EINPROGRESS)) {
			snprintf(err, sizeof(err), "%s", strerror(errno));
			rc = -1;
		} else {
			h->io = event_new(h->e->base, h->fd, EV_WRITE, on_tcp, h);
			event_add(h->io, NULL);
		}
	} else {
		struct evhttp_request *req;

		h->conn = evhttp_connection_base_new(h->e->base, NULL, "127.0.0.1",
		    (unsigned short)h->port);
		evhttp_connection_set_timeout(h->conn, (int)h->timeout + 1);
		evhttp_connection_set_retries(h->conn, 0);
		req = evhttp_request_new(on_http, h);
		evhttp_add_header(evhttp_request_get_output_headers(req), "Host",
		    "127.0.0.1");
		if (evhttp_make_request(h->conn, req, EVHTTP_REQ_GET,
		    h->path[0] ? h->path : "/") == -1) {
			snprintf(err, sizeof(err), "cannot send the request");
			rc = -1;
		}
	}
	if (rc == -1) {
		result(h, false, err);
		return;
	}
	arm(h->deadline, h->timeout);
}

void
health_start(struct executor *e, struct etask *t)
{
	const json_t *hc = json_object_get(t->info, "health_check");
	const char *type = json_string_value(json_object_get(hc, "type"));
	struct health *h;

	if (!json_is_object(hc))
		return;
	if ((h = calloc(1, sizeof(*h))) == NULL)
		abort();
	h->e = e;
	h->t = t;
	h->fd = -1;
	if (type && strcmp(type, "HTTP") == 0) {
		const json_t *http = json_object_get(hc, "http");

		h->type = HC_HTTP;
		h->port = (int)num_or(http, "port", 0);
		snprintf(h->path, sizeof(h->path), "%s", json_str_or(http, "path",
		    "/"));
		if (strcmp(json_str_or(http, "scheme", "http"), "http") != 0)
			log_warn("task %s: only http health checks are supported; "
			    "checking %s over http", t->id, json_str_or(http,
			    "scheme", ""));
	} else if (type && strcmp(type, "TCP") == 0) {
		h->type = HC_TCP;
		h->port = (int)num_or(json_object_get(hc, "tcp"), "port", 0);
	} else if (json_object_get(hc, "command") || (type && strcmp(type,
	    "COMMAND") == 0)) {
		h->type = HC_COMMAND;
	} else {
		log_warn("task %s: health check of unknown type '%s' ignored",
		    t->id, type ? type : "");
		free(h);
		return;
	}
	h->delay = num_or(hc, "delay_seconds", 15);
	h->interval = num_or(hc, "interval_seconds", 10);
	h->timeout = num_or(hc, "timeout_seconds", 20);
	h->grace = num_or(hc, "grace_period_seconds", 10);
	h->max_failures = (long)num_or(hc, "consecutive_failures", 3);
	h->started = mesos_now();
	h->tick = evtimer_new(e->base, on_tick, h);
	h->deadline = evtimer_new(e->base, on_deadline, h);
	t->health = h;
	arm(h->tick, h->delay);
	log_info("task %s: %s health check every %gs after %gs", t->id,
	    h->type == HC_HTTP ? "HTTP" : h->type == HC_TCP ? "TCP" : "command",
	    h->interval, h->delay);
}

bool
health_reaped(struct executor *e, pid_t pid, int wstatus)
{
	struct etask *t;

	TAILQ_FOREACH(t, &e->tasks, link) {
		struct health *h = t->health;
		char why[128];

		if (h == NULL || h->pid != pid)
			continue;
		h->pid = 0;
		if (!h->running)
			return true; /* a check we gave up on */
		status_describe_wait(wstatus, why, sizeof(why));
		result(h, WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0, why);
		return true;
	}
	return false;
}

void
health_stop(struct etask *t)
{
	struct health *h = t->health;

	if (h == NULL)
		return;
	stop_check(h);
	event_free(h->tick);
	event_free(h->deadline);
	free(h);
	t->health = NULL;
}

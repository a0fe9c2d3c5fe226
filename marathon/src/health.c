/*
 * health: the checks Marathon runs itself, from the leader: HTTP, HTTPS
 * and TCP health checks every intervalSeconds per running instance (at
 * most --max_concurrent_health_checks at once, so an overloaded leader
 * does not fail everything together, Marathon #3317), and HTTP(S)
 * readiness checks until an instance is ready.
 *
 * Failures during gracePeriodSeconds after the start do not count until
 * the first success. maxConsecutiveFailures failures in a row kill the
 * instance (unhealthy_instance_kill_event); the engine replaces it.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "dcos/http_client.h"
#include "dcos/log.h"

#include "marathon.h"

struct check {
	struct marathon *m;
	unsigned gen;
	char *task_id;
	size_t index;            /* health check index, or -1 for readiness */
	bool readiness;
	double started;          /* monotonic */
	int fd;                  /* TCP */
	struct event *ev;        /* TCP */
};

static size_t inflight;

static struct instance *
find(struct check *c, const struct app **app)
{
	struct instance *i;
	struct app_rt *rt;

	if (c->gen != c->m->gen || c->m->st == NULL)
		return NULL;
	i = strmap_get(c->m->st->instances, c->task_id);
	if (i == NULL || (rt = state_rt(c->m->st, i->app_id, false)) == NULL ||
	    rt->app == NULL)
		return NULL;
	*app = rt->app;
	return i;
}

static void
check_free(struct check *c)
{
	inflight--;
	if (c->ev)
		event_free(c->ev);
	if (c->fd >= 0)
		close(c->fd);
	free(c->task_id);
	free(c);
}

static void
hc_result(struct check *c, bool alive, const char *cause)
{
	struct marathon *m = c->m;
	const struct app *a;
	struct instance *i = find(c, &a);
	struct hc_status *h;
	const struct health_check *hc;
	double now = clock_wall();
	bool was;

	if (i == NULL || c->index >= i->nhc || c->index >= a->nhcs)
		return;
	h = &i->hc[c->index];
	hc = &a->hcs[c->index];
	h->inflight = false;
	was = h->has_result && h->alive;
	if (alive) {
		h->alive = true;
		h->consecutive_failures = 0;
		if (h->first_success == 0)
			h->first_success = now;
		h->last_success = now;
	} else {
		bool in_grace = h->first_success == 0 && i->started_at &&
		    now - i->started_at < hc->grace_period;

		if (in_grace && !h->has_result) {
			/* nothing counts before the first success in the grace
			 * period; no verdict yet */
			return;
		}
		if (in_grace)
			return;
		h->alive = false;
		h->consecutive_failures++;
		h->last_failure = now;
		free(h->last_failure_cause);
		h->last_failure_cause = xstrdup(cause);
		events_publish(m, "failed_health_check_event", json_pack("{s:s, "
		    "s:s, s:s, s:o}", "appId", i->app_id, "taskId", i->id,
		    "instanceId", i->id, "healthCheck", hc_to_json(hc)));
	}
	h->has_result = true;
	if (was != h->alive) {
		events_publish(m, "health_status_changed_event", json_pack("{s:s, "
		    "s:s, s:s, s:b}", "appId", i->app_id, "instanceId", i->id,
		    "version", i->version, "alive", h->alive));
		events_publish(m, "instance_health_changed_event", json_pack("{s:s,"
		    " s:s, s:b, s:s}", "instanceId", i->id, "runSpecId", i->app_id,
		    "healthy", h->alive, "runSpecVersion", i->version));
	}
	if (!h->alive && hc->max_failures > 0 &&
	    h->consecutive_failures >= hc->max_failures &&
	    i->kill == KILL_NONE) {
		struct app_rt *rt = state_rt(m->st, i->app_id, false);

		log_warn("instance %s failed %d health checks in a row (%s); "
		    "killing it", i->id, h->consecutive_failures, cause);
		events_publish(m, "unhealthy_instance_kill_event", json_pack("{s:s,"
		    " s:s, s:s, s:s, s:s, s:s, s:s}", "appId", i->app_id, "taskId",
		    i->id, "instanceId", i->id, "version", i->version, "reason",
		    cause, "host", i->host ? i->host : "", "slaveId",
		    i->agent_id ? i->agent_id : ""));
		sched_kill(m, i, KILL_UNHEALTHY);
		if (rt)
			sched_backoff(rt);
	}
	engine_kick(m);
}

static void
ready_result(struct check *c, long status, const struct http_client_resp *r)
{
	const struct app *a;
	struct instance *i = find(c, &a);
	int ready = 0;

	if (i == NULL || a->nrcs == 0)
		return;
	for (size_t k = 0; k < a->rcs[0].ncodes; k++)
		if (a->rcs[0].codes[k] == status)
			ready = 1;
	if (a->rcs[0].preserve_last_response && r) {
		char ct[128];

		json_decref(i->readiness_last);
		i->readiness_last = json_pack("{s:i, s:s, s:s}", "status",
		    (int)status, "contentType", http_client_resp_header(r,
		    "Content-Type", ct, sizeof(ct)) ? ct : "", "body",
		    r->body ? r->body : "");
	}
	if (ready != i->ready) {
		i->ready = ready;
		engine_kick(c->m);
	}
}

static void
http_done(const struct http_client_resp *resp, void *arg)
{
	struct check *c = arg;

	if (c->readiness) {
		ready_result(c, resp->status, resp);
	} else if (resp->status == 0) {
		hc_result(c, false, resp->error ? resp->error : "no response");
	} else {
		char cause[64];

		snprintf(cause, sizeof(cause), "HTTP %ld", resp->status);
		hc_result(c, resp->status >= 200 && resp->status < 400, cause);
	}
	check_free(c);
}

static void
tcp_done(evutil_socket_t fd, short what, void *arg)
{
	struct check *c = arg;
	int err = 0;
	socklen_t len = sizeof(err);

	if (what & EV_TIMEOUT) {
		hc_result(c, false, "connection timed out");
	} else {
		getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
		hc_result(c, err == 0, err ? strerror(err) : "connected");
	}
	check_free(c);
}

static void
tcp_check(struct check *c, const char *host, int port, int timeout)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST }, *ai = NULL;
	char portstr[16];
	struct timeval tv = { timeout, 0 };

	snprintf(portstr, sizeof(portstr), "%d", port);
	if (getaddrinfo(host, portstr, &hints, &ai) != 0 || ai == NULL) {
		hc_result(c, false, "cannot resolve the agent's address");
		check_free(c);
		return;
	}
	c->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (c->fd < 0 || (connect(c->fd, ai->ai_addr, ai->ai_addrlen) == -1 &&
	    errno != EINPROGRESS)) {
		char cause[128];

		snprintf(cause, sizeof(cause), "%s", strerror(errno));
		freeaddrinfo(ai);
		hc_result(c, false, cause);
		check_free(c);
		return;
	}
	freeaddrinfo(ai);
	c->ev = event_new(c->m->base, c->fd, EV_WRITE, tcp_done, c);
	event_add(c->ev, &tv);
}

static const char *
target_host(const struct instance *i)
{
	return i->agent_ip && i->agent_ip[0] ? i->agent_ip : i->host;
}

static void
start(struct marathon *m, struct instance *i, size_t index, bool readiness,
    const struct app *a)
{
	struct check *c = xcalloc(1, sizeof(*c));
	const char *host = target_host(i);
	char url[1024];
	int port = 0, timeout;
	const char *path, *scheme;

	c->m = m;
	c->gen = m->gen;
	c->task_id = xstrdup(i->id);
	c->index = index;
	c->readiness = readiness;
	c->fd = -1;
	c->started = clock_mono();
	inflight++;
	if (readiness) {
		const struct readiness_check *rc = &a->rcs[0];
		int pi = app_port_index(a, rc->port_name);

		port = pi >= 0 && (size_t)pi < i->nports ? i->ports[pi] : 0;
		path = rc->path;
		scheme = rc->https ? "https" : "http";
		timeout = rc->timeout;
	} else {
		const struct health_check *hc = &a->hcs[index];

		port = hc->port ? hc->port : (hc->port_index >= 0 &&
		    (size_t)hc->port_index < i->nports ? i->ports[hc->port_index] :
		    0);
		timeout = hc->timeout;
		if (hc->protocol == HC_TCP) {
			tcp_check(c, host ? host : "", port, timeout);
			return;
		}
		path = hc->path ? hc->path : "/";
		scheme = hc->protocol == HC_HTTPS ? "https" : "http";
	}
	snprintf(url, sizeof(url), "%s://%s%s%s:%d%s", scheme,
	    host && strchr(host, ':') ? "[" : "", host ? host : "",
	    host && strchr(host, ':') ? "]" : "", port, path);
	{
		struct http_client_req req = { .method = "GET", .url = url,
			.timeout = timeout, .insecure = 1 };

		http_client_request(m->client, &req, http_done, c);
	}
}

/* Starts the checks of one app's instances that are due. */
static bool
tick_app(struct marathon *m, struct app_rt *rt, double mono)
{
	const struct app *a = rt->app;

	for (size_t n = 0; n < rt->ninst; n++) {
		struct instance *i = rt->inst[n];

		if (i->state != TASK_RUNNING || i->kill != KILL_NONE)
			continue;
		instance_fit_checks(i, a);
		for (size_t k = 0; k < a->nhcs && k < i->nhc; k++) {
			struct hc_status *h = &i->hc[k];

			if (!hc_marathon_side(&a->hcs[k]) || h->inflight ||
			    h->next_check > mono)
				continue;
			if (inflight >= (size_t)m->f.max_health_checks)
				return false;
			h->inflight = true;
			h->next_check = mono + a->hcs[k].interval;
			start(m, i, k, false, a);
		}
		/* readiness: probed every intervalSeconds until ready */
		if (a->nrcs && i->ready != 1 && mono >= i->ready_next) {
			if (inflight >= (size_t)m->f.max_health_checks)
				return false;
			i->ready_next = mono + a->rcs[0].interval;
			start(m, i, (size_t)-1, true, a);
		}
	}
	return true;
}

/* Starts the checks that are due. Called every 250 ms on the leader; only
 * apps with Marathon-run checks are looked at. */
void
health_tick(struct marathon *m)
{
	struct state *st = m->st;
	double mono = clock_mono();
	size_t it = 0;
	void *v;

	if (st == NULL)
		return;
	while (strmap_next(st->apps, &it, NULL, &v)) {
		struct app_rt *rt = v;

		if (rt->app == NULL || (!app_has_marathon_hcs(rt->app) &&
		    rt->app->nrcs == 0))
			continue;
		if (!tick_app(m, rt, mono))
			return;
	}
}

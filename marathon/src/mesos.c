/*
 * mesos: the Mesos v1 scheduler HTTP API client: one SUBSCRIBE stream
 * (RecordIO events) and one POST per call with the Mesos-Stream-Id.
 *
 * --master is "host:port[,host:port...]" (an "http://" prefix and a path
 * are ignored). The driver tries the masters in turn, follows a
 * non-leader's 307 to the leader, resubscribes with backoff when the
 * stream ends or when 5 heartbeats are missed, and reuses the framework
 * id so the master keeps our tasks (failover_timeout). Events go to
 * sched.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "dcos/http_client.h"
#include "dcos/log.h"
#include "dcos/stream_decode.h"

#include "marathon.h"

#define MAX_MASTERS 16
#define MAX_EVENT (64 << 20)

/* Calls go out in two lanes. Those whose order matters (DECLINE, REVIVE,
 * SUPPRESS, ACCEPT) one at a time: parallel connections could let a
 * SUPPRESS overtake the REVIVE that followed it. Acknowledgements, kills
 * and reconciliation a few at a time, so thousands of status updates do
 * not become thousands of connections to the master. */
#define PARALLEL_CALLS 8

struct queued {
	char type[32];
	char *body;
	struct queued *next;
};

struct lane {
	struct queued *head, **tail;
	struct http_call *inflight[PARALLEL_CALLS];
	size_t max;
};

struct mesos {
	struct marathon *m;
	char *masters[MAX_MASTERS];
	size_t nmasters, next;
	char current[256];         /* "host:port" of the master we talk to */
	char stream_id[160];
	struct http_call *stream;
	struct recordio_decoder rio;
	bool subscribed;
	bool error_seen;
	double heartbeat;          /* seconds, from SUBSCRIBED */
	double last_event;         /* monotonic */
	double backoff;
	struct event *retry, *watchdog;
	bool suppressed;
	double last_revive;        /* monotonic */
	struct event *revive_later;
	struct lane lanes[2];        /* 0: ordered, 1: parallel */
};

static void send_next(struct mesos *ms, struct lane *lane);

static void subscribe(struct mesos *ms);

static void
parse_masters(struct mesos *ms, const char *spec)
{
	char *copy = xstrdup(spec), *save = NULL, *tok;

	for (tok = strtok_r(copy, ",", &save); tok && ms->nmasters < MAX_MASTERS;
	    tok = strtok_r(NULL, ",", &save)) {
		char buf[256], *slash;

		while (*tok == ' ')
			tok++;
		if (strncmp(tok, "http://", 7) == 0)
			tok += 7;
		snprintf(buf, sizeof(buf), "%s", tok);
		if ((slash = strchr(buf, '/')) != NULL)
			*slash = '\0';
		if (buf[0] == '\0')
			continue;
		if (strchr(buf, ':') == NULL)
			strncat(buf, ":5050", sizeof(buf) - strlen(buf) - 1);
		ms->masters[ms->nmasters++] = xstrdup(buf);
	}
	free(copy);
}

static void
drop_queue(struct mesos *ms)
{
	for (size_t l = 0; l < 2; l++) {
		struct lane *lane = &ms->lanes[l];

		while (lane->head) {
			struct queued *q = lane->head;

			lane->head = q->next;
			free(q->body);
			free(q);
		}
		lane->tail = &lane->head;
		for (size_t k = 0; k < PARALLEL_CALLS; k++) {
			if (lane->inflight[k])
				http_call_cancel(lane->inflight[k]);
			lane->inflight[k] = NULL;
		}
	}
}

static void
retry_later(struct mesos *ms, const char *why)
{
	struct timeval tv;

	drop_queue(ms);
	if (ms->subscribed)
		sched_disconnected(ms->m);
	ms->subscribed = false;
	ms->stream_id[0] = '\0';
	if (ms->backoff <= 0)
		ms->backoff = 0.25;
	log_warn("mesos master %s: %s; resubscribing in %.2f s", ms->current, why,
	    ms->backoff);
	tv.tv_sec = (time_t)ms->backoff;
	tv.tv_usec = (suseconds_t)((ms->backoff - (double)tv.tv_sec) * 1e6);
	event_add(ms->retry, &tv);
	ms->backoff = ms->backoff * 2 > 5 ? 5 : ms->backoff * 2;
}

static int
on_record(const char *data, size_t len, void *arg)
{
	struct mesos *ms = arg;
	json_error_t jerr;
	json_t *ev = json_loadb(data, len, 0, &jerr);
	const char *type;

	ms->last_event = clock_mono();
	if (ev == NULL) {
		log_warn("mesos master %s sent a malformed event: %s", ms->current,
		    jerr.text);
		return 0;
	}
	type = json_str_or(ev, "type", "");
	if (strcmp(type, "SUBSCRIBED") == 0) {
		const json_t *sub = json_object_get(ev, "subscribed");
		const char *fid = json_str_or(json_object_get(sub, "framework_id"),
		    "value", "");

		ms->subscribed = true;
		ms->backoff = 0;
		ms->heartbeat = json_num_or(sub, "heartbeat_interval_seconds", 15);
		log_notice("subscribed to mesos master %s as framework %s "
		    "(heartbeat %.0f s)", ms->current, fid, ms->heartbeat);
		ms->suppressed = false;
		sched_subscribed(ms->m, fid);
	} else if (strcmp(type, "OFFERS") == 0) {
		sched_offers(ms->m, json_object_get(json_object_get(ev, "offers"),
		    "offers"));
	} else if (strcmp(type, "UPDATE") == 0) {
		sched_update(ms->m, json_object_get(json_object_get(ev, "update"),
		    "status"));
	} else if (strcmp(type, "RESCIND") == 0) {
		log_debug("offer %s rescinded", json_str_or(json_object_get(
		    json_object_get(ev, "rescind"), "offer_id"), "value", "?"));
	} else if (strcmp(type, "ERROR") == 0) {
		const char *msg = json_str_or(json_object_get(ev, "error"),
		    "message", "");

		log_error("mesos master %s: ERROR event: %s", ms->current, msg);
		sched_error(ms->m, msg);
		json_decref(ev);
		ms->error_seen = true;
		return -1;
	} else if (strcmp(type, "FAILURE") == 0) {
		const json_t *f = json_object_get(ev, "failure");

		log_warn("mesos: agent %s executor %s failed (status %d)",
		    json_str_or(json_object_get(f, "agent_id"), "value", "?"),
		    json_str_or(json_object_get(f, "executor_id"), "value", "-"),
		    (int)json_num_or(f, "status", -1));
	} else if (strcmp(type, "HEARTBEAT") != 0) {
		log_debug("mesos: ignoring %s event", type);
	}
	json_decref(ev);
	return 0;
}

static void
on_headers(const struct http_client_resp *resp, void *arg)
{
	struct mesos *ms = arg;

	if (resp->status == 200)
		http_client_resp_header(resp, "Mesos-Stream-Id", ms->stream_id,
		    sizeof(ms->stream_id));
}

static void
on_data(const char *data, size_t len, void *arg)
{
	struct mesos *ms = arg;

	if (ms->stream == NULL)
		return;
	if (recordio_feed(&ms->rio, data, len) == -1) {
		http_call_cancel(ms->stream);
		ms->stream = NULL;
		recordio_free(&ms->rio);
		retry_later(ms, ms->error_seen ? "the master sent ERROR" :
		    "malformed RecordIO in the event stream");
	}
}

/* "//host:port/path" or "http://host:port/path" -> "host:port" */
static bool
location_master(const char *loc, char *out, size_t size)
{
	const char *p = loc;
	size_t n;

	if (strncmp(p, "http://", 7) == 0)
		p += 7;
	else if (strncmp(p, "//", 2) == 0)
		p += 2;
	else
		return false;
	n = strcspn(p, "/");
	if (n == 0 || n >= size)
		return false;
	memcpy(out, p, n);
	out[n] = '\0';
	return true;
}

static void
on_end(const struct http_client_resp *resp, void *arg)
{
	struct mesos *ms = arg;
	char loc[512], why[600];

	ms->stream = NULL;
	recordio_free(&ms->rio);
	if (resp->status == 307 && http_client_resp_header(resp, "Location", loc,
	    sizeof(loc)) && location_master(loc, ms->current,
	    sizeof(ms->current))) {
		log_info("mesos: following the redirect to the leading master %s",
		    ms->current);
		ms->backoff = 0;
		subscribe(ms);
		return;
	}
	if (resp->error)
		snprintf(why, sizeof(why), "%s", resp->error);
	else if (resp->status != 200)
		snprintf(why, sizeof(why), "SUBSCRIBE answered %ld: %.200s",
		    resp->status, resp->body ? resp->body : "");
	else
		snprintf(why, sizeof(why), "the event stream ended");
	/* try the next master next time */
	if (!ms->subscribed || resp->status != 200) {
		ms->next = (ms->next + 1) % ms->nmasters;
		snprintf(ms->current, sizeof(ms->current), "%s",
		    ms->masters[ms->next]);
	}
	retry_later(ms, why);
}

static json_t *
framework_info(struct mesos *ms)
{
	struct marathon *m = ms->m;
	json_t *fi = json_pack("{s:s, s:s, s:f, s:b, s:s, s:s, s:[{s:s}, {s:s}]}",
	    "user", m->f.mesos_user, "name", m->f.framework_name,
	    "failover_timeout", m->f.failover_timeout, "checkpoint", 1,
	    "role", m->f.mesos_role, "hostname", m->f.hostname,
	    "capabilities", "type", "PARTITION_AWARE", "type",
	    "TASK_KILLING_STATE");
	char url[400];

	if (m->st && m->st->framework_id[0])
		json_object_set_new(fi, "id", json_pack("{s:s}", "value",
		    m->st->framework_id));
	if (m->f.webui_url && m->f.webui_url[0])
		snprintf(url, sizeof(url), "%s", m->f.webui_url);
	else
		snprintf(url, sizeof(url), "http://%s", m->self);
	json_object_set_new(fi, "webui_url", json_string(url));
	if (m->f.principal && m->f.principal[0])
		json_object_set_new(fi, "principal", json_string(m->f.principal));
	return fi;
}

static void
subscribe(struct mesos *ms)
{
	static const struct http_client_stream_cbs cbs = { on_headers, on_data,
		on_end };
	static const char *const headers[] = { "Accept: application/json",
		NULL };
	json_t *call = json_pack("{s:s, s:{s:o}}", "type", "SUBSCRIBE",
	    "subscribe", "framework_info", framework_info(ms));
	char url[400], *body;
	struct http_client_req req = { .method = "POST", .url = url,
		.content_type = "application/json", .headers = headers,
		.timeout = 5 };

	if (ms->m->st && ms->m->st->framework_id[0])
		json_object_set_new(call, "framework_id", json_pack("{s:s}",
		    "value", ms->m->st->framework_id));
	body = json_compact(call);
	json_decref(call);
	snprintf(url, sizeof(url), "http://%s/api/v1/scheduler", ms->current);
	req.body = body;
	req.body_len = strlen(body);
	ms->stream_id[0] = '\0';
	ms->error_seen = false;
	recordio_init(&ms->rio, MAX_EVENT, on_record, ms);
	ms->last_event = clock_mono();
	log_info("subscribing to mesos master %s as '%s'", ms->current,
	    ms->m->f.framework_name);
	ms->stream = http_client_stream(ms->m->client, &req, &cbs, ms);
	free(body);
}

static void
on_retry(evutil_socket_t fd, short what, void *arg)
{
	subscribe(arg);
}

static void
on_watchdog(evutil_socket_t fd, short what, void *arg)
{
	struct mesos *ms = arg;

	if (ms->stream == NULL || !ms->subscribed)
		return;
	if (clock_mono() - ms->last_event > 5 * ms->heartbeat) {
		http_call_cancel(ms->stream);
		ms->stream = NULL;
		recordio_free(&ms->rio);
		retry_later(ms, "missed 5 heartbeats");
	}
}

struct mesos *
mesos_new(struct marathon *m)
{
	struct mesos *ms = xcalloc(1, sizeof(*ms));
	struct timeval tv = { 1, 0 };

	ms->m = m;
	parse_masters(ms, m->f.master);
	if (ms->nmasters == 0)
		ms->masters[ms->nmasters++] = xstrdup("127.0.0.1:5050");
	snprintf(ms->current, sizeof(ms->current), "%s", ms->masters[0]);
	ms->heartbeat = 15;
	for (size_t l = 0; l < 2; l++) {
		ms->lanes[l].tail = &ms->lanes[l].head;
		ms->lanes[l].max = l == 0 ? 1 : PARALLEL_CALLS;
	}
	ms->retry = evtimer_new(m->base, on_retry, ms);
	ms->watchdog = event_new(m->base, -1, EV_PERSIST, on_watchdog, ms);
	event_add(ms->watchdog, &tv);
	subscribe(ms);
	return ms;
}

void
mesos_free(struct mesos *ms)
{
	if (ms == NULL)
		return;
	if (ms->stream) {
		http_call_cancel(ms->stream);
		recordio_free(&ms->rio);
	}
	drop_queue(ms);
	event_free(ms->retry);
	event_free(ms->watchdog);
	if (ms->revive_later)
		event_free(ms->revive_later);
	for (size_t i = 0; i < ms->nmasters; i++)
		free(ms->masters[i]);
	free(ms);
}

bool
mesos_subscribed(const struct mesos *ms)
{
	return ms && ms->subscribed;
}

const char *
mesos_master(const struct mesos *ms)
{
	return ms ? ms->current : "";
}

struct call_ctx {
	char type[32];
	char master[256];
	struct mesos *ms;
	struct lane *lane;
	size_t slot;
};

static void
called(const struct http_client_resp *resp, void *arg)
{
	struct call_ctx *c = arg;

	log_debug("mesos %s call answered %ld", c->type, resp->status);
	if (resp->status != 202)
		log_warn("mesos %s call to %s failed: %s%ld %.200s", c->type,
		    c->master, resp->error ? resp->error : "HTTP ", resp->status,
		    resp->body ? resp->body : "");
	c->lane->inflight[c->slot] = NULL;
	send_next(c->ms, c->lane);
	free(c);
}

static void
send_next(struct mesos *ms, struct lane *lane)
{
	while (lane->head) {
		struct queued *q = lane->head;
		char url[400], sid[220];
		const char *headers[] = { sid, "Accept: application/json", NULL };
		struct http_client_req req = { .method = "POST", .url = url,
			.content_type = "application/json", .headers = headers,
			.timeout = 10, .body = q->body, .body_len = strlen(q->body) };
		struct call_ctx *c;
		size_t slot;

		for (slot = 0; slot < lane->max && lane->inflight[slot]; slot++)
			;
		if (slot == lane->max)
			return; /* all busy: called() sends the next */
		lane->head = q->next;
		if (lane->head == NULL)
			lane->tail = &lane->head;
		c = xcalloc(1, sizeof(*c));
		snprintf(url, sizeof(url), "http://%s/api/v1/scheduler", ms->current);
		snprintf(sid, sizeof(sid), "Mesos-Stream-Id: %s", ms->stream_id);
		snprintf(c->type, sizeof(c->type), "%s", q->type);
		snprintf(c->master, sizeof(c->master), "%s", ms->current);
		c->ms = ms;
		c->lane = lane;
		c->slot = slot;
		log_debug("mesos call %s to %s", q->type, ms->current);
		lane->inflight[slot] = http_client_request(ms->m->client, &req,
		    called, c);
		free(q->body);
		free(q);
	}
}

static bool
is_ordered(const char *type)
{
	return strcmp(type, "DECLINE") == 0 || strcmp(type, "REVIVE") == 0 ||
	    strcmp(type, "SUPPRESS") == 0 || strcmp(type, "ACCEPT") == 0;
}

void
mesos_call(struct mesos *ms, const char *type, json_t *payload)
{
	struct marathon *m = ms->m;
	struct lane *lane = &ms->lanes[is_ordered(type) ? 0 : 1];
	struct queued *q;
	char lower[32];
	json_t *call;
	size_t i;

	if (!ms->subscribed || m->st == NULL) {
		json_decref(payload);
		return;
	}
	for (i = 0; type[i] && i < sizeof(lower) - 1; i++)
		lower[i] = (char)(type[i] >= 'A' && type[i] <= 'Z' ?
		    type[i] - 'A' + 'a' : type[i]);
	lower[i] = '\0';
	call = json_pack("{s:{s:s}, s:s}", "framework_id", "value",
	    m->st->framework_id, "type", type);
	if (payload)
		json_object_set_new(call, lower, payload);
	q = xcalloc(1, sizeof(*q));
	snprintf(q->type, sizeof(q->type), "%s", type);
	if ((q->body = json_compact(call)) == NULL)
		abort();
	json_decref(call);
	*lane->tail = q;
	lane->tail = &q->next;
	send_next(ms, lane);
}

void
mesos_kill(struct mesos *ms, const char *task_id, const char *agent_id,
    double grace)
{
	json_t *k = json_pack("{s:{s:s}}", "task_id", "value", task_id);

	if (agent_id)
		json_object_set_new(k, "agent_id", json_pack("{s:s}", "value",
		    agent_id));
	if (grace >= 0)
		json_object_set_new(k, "kill_policy", json_pack("{s:{s:I}}",
		    "grace_period", "nanoseconds", (json_int_t)(grace * 1e9)));
	mesos_call(ms, "KILL", k);
}

void
mesos_decline(struct mesos *ms, json_t *offer_ids, double refuse)
{
	mesos_call(ms, "DECLINE", json_pack("{s:o, s:{s:f}}", "offer_ids",
	    offer_ids, "filters", "refuse_seconds", refuse));
}

void
mesos_accept(struct mesos *ms, json_t *offer_ids, json_t *operations)
{
	mesos_call(ms, "ACCEPT", json_pack("{s:o, s:o, s:{s:f}}", "offer_ids",
	    offer_ids, "operations", operations, "filters", "refuse_seconds",
	    0.0));
}

void
mesos_ack(struct mesos *ms, const json_t *status)
{
	const char *uuid = json_string_value(json_object_get(status, "uuid"));

	if (uuid == NULL || json_object_get(status, "agent_id") == NULL)
		return;
	mesos_call(ms, "ACKNOWLEDGE", json_pack("{s:O, s:O, s:s}", "agent_id",
	    json_object_get(status, "agent_id"), "task_id",
	    json_object_get(status, "task_id"), "uuid", uuid));
}

void
mesos_reconcile(struct mesos *ms, json_t *tasks)
{
	mesos_call(ms, "RECONCILE", json_pack("{s:o}", "tasks", tasks));
}

static void
on_revive_later(evutil_socket_t fd, short what, void *arg)
{
	struct mesos *ms = arg;

	ms->last_revive = 0;
	mesos_want_offers(ms, true);
}

void
mesos_want_offers(struct mesos *ms, bool want)
{
	double now = clock_mono();

	if (ms == NULL || !ms->subscribed)
		return;
	if (!want) {
		if (!ms->suppressed) {
			ms->suppressed = true;
			mesos_call(ms, "SUPPRESS", json_pack("{s:[]}", "roles"));
		}
		return;
	}
	if (!ms->suppressed)
		return;
	/* rate-limit revives (--revive_interval) */
	if (now - ms->last_revive < ms->m->f.revive_interval) {
		struct timeval tv;
		double wait = ms->m->f.revive_interval - (now - ms->last_revive);

		if (ms->revive_later == NULL)
			ms->revive_later = evtimer_new(ms->m->base, on_revive_later, ms);
		tv.tv_sec = (time_t)wait;
		tv.tv_usec = (suseconds_t)((wait - (double)tv.tv_sec) * 1e6);
		if (!evtimer_pending(ms->revive_later, NULL))
			evtimer_add(ms->revive_later, &tv);
		return;
	}
	ms->suppressed = false;
	ms->last_revive = now;
	mesos_call(ms, "REVIVE", json_pack("{s:[]}", "roles"));
}

/* New launch demand appeared: clear the filters of earlier declines. */
void
mesos_revive(struct mesos *ms)
{
	if (ms == NULL || !ms->subscribed)
		return;
	ms->suppressed = true; /* force the REVIVE through the rate limit */
	mesos_want_offers(ms, true);
}

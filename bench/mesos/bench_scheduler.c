/*
 * mesos-bench-scheduler: a Mesos framework written for measuring, speaking
 * the v1 scheduler HTTP API like any other framework (SUBSCRIBE stream,
 * ACCEPT, ACKNOWLEDGE, TEARDOWN).
 *
 * It launches --tasks tasks as fast as the offers allow (as many per offer
 * as fit, up to --per_offer) and reports, as one JSON line:
 *   placements_per_sec   tasks accepted by the master (ACCEPT answered 202)
 *                        per second, from the first ACCEPT to the last 202
 *   running_per_sec      tasks that reached TASK_RUNNING per second
 *   latency_ms           ACCEPT sent -> TASK_RUNNING received, p50/p90/p99
 * With --sequential it launches one task at a time (the next when the
 * previous one runs): the ACCEPT -> TASK_RUNNING latency without queueing.
 */
#include <math.h>
#include <stdio.h>
#include <sys/queue.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "dcos/daemon.h"
#include "dcos/flags.h"
#include "dcos/http_client.h"
#include "dcos/json.h"
#include "dcos/jsonw.h"
#include "dcos/log.h"
#include "dcos/stream_decode.h"

struct queued {
	struct bench *b;
	char *body;
	size_t len;
	http_client_done_fn done;
	void *arg;
	TAILQ_ENTRY(queued) link;
};

struct bench {
	struct event_base *base;
	TAILQ_HEAD(, queued) queue; /* calls waiting for a free slot */
	int inflight_calls;
	struct http_client *hc;
	struct http_call *stream;
	struct recordio_decoder rio;
	struct event *deadline;
	char url[512], stream_id[160], fw_id[256], hdr[200];
	double *launch_at, *running_at;
	json_t *held; /* offers waiting (sequential mode) */
	long long launched, placed, running, finished, failed, errors;
	long long accepts, declines, acks;
	int inflight; /* sequential: a task launched, not yet running */
	double t_sub, t_first, t_placed, t_running;
	bool done;
	struct {
		const char *master, *cmd, *name, *role, *log_level;
		long long tasks, per_offer, connections;
		double cpus, mem, timeout, failover_timeout;
		bool ack, sequential, teardown, wait_running;
	} f;
};

static double
now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
by_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void
report(struct bench *b)
{
	double *lat = calloc((size_t)b->f.tasks + 1, sizeof(double));
	size_t n = 0;
	double placing = b->t_placed - b->t_first;
	double to_running = b->t_running - b->t_first;

	for (long long i = 0; i < b->f.tasks; i++)
		if (b->running_at[i] > 0 && b->launch_at[i] > 0)
			lat[n++] = (b->running_at[i] - b->launch_at[i]) * 1000;
	qsort(lat, n, sizeof(double), by_double);
#define PCT(p) (n ? lat[(size_t)((n - 1) * (p))] : 0.0)
	printf("{\"tasks\":%lld,\"placed\":%lld,\"running\":%lld,"
	    "\"failed\":%lld,\"errors\":%lld,\"accepts\":%lld,"
	    "\"placement_secs\":%.3f,\"placements_per_sec\":%.0f,"
	    "\"all_running_secs\":%.3f,\"running_per_sec\":%.0f,"
	    "\"latency_ms\":{\"p50\":%.2f,\"p90\":%.2f,\"p99\":%.2f,"
	    "\"max\":%.2f}}\n", b->f.tasks, b->placed, b->running, b->failed,
	    b->errors, b->accepts, placing, placing > 0 ? b->placed / placing : 0,
	    b->t_running > 0 ? to_running : -1, b->t_running > 0 ?
	    b->running / to_running : 0, PCT(0.5), PCT(0.9), PCT(0.99),
	    n ? lat[n - 1] : 0.0);
#undef PCT
	fflush(stdout);
	free(lat);
}

static void
finish(struct bench *b)
{
	if (b->done)
		return;
	b->done = true;
	report(b);
	event_base_loopexit(b->base, NULL);
}

static void
call_done(const struct http_client_resp *resp, void *arg)
{
	struct bench *b = arg;

	if (resp->status != 202) {
		if (b->errors++ < 5)
			log_warn("call answered %ld: %s%s", resp->status, resp->body,
			    resp->error ? resp->error : "");
	}
}

struct accept_ctx {
	struct bench *b;
	long long n;
};

static void
accept_done(const struct http_client_resp *resp, void *arg)
{
	struct accept_ctx *ax = arg;
	struct bench *b = ax->b;

	if (resp->status == 202) {
		b->placed += ax->n;
		if (b->placed == b->f.tasks) {
			b->t_placed = now_mono();
			if (b->running == b->f.tasks || !b->f.wait_running)
				finish(b);
		}
	} else if (b->errors++ < 5) {
		log_warn("ACCEPT answered %ld: %s", resp->status, resp->body);
	}
	free(ax);
}

static void pump(struct bench *b);

/* Calls go out over at most --connections requests at a time, as a
 * framework with a connection pool does; the rest wait their turn. */
static void
on_call_done(const struct http_client_resp *resp, void *arg)
{
	struct queued *q = arg;
	struct bench *b = q->b;

	b->inflight_calls--;
	q->done(resp, q->arg);
	free(q);
	pump(b);
}

static void
pump(struct bench *b)
{
	struct queued *q;

	while (b->inflight_calls < b->f.connections &&
	    (q = TAILQ_FIRST(&b->queue)) != NULL) {
		const char *headers[] = { b->hdr, NULL };
		struct http_client_req req = { .method = "POST", .url = b->url,
			.body = q->body, .body_len = q->len,
			.content_type = "application/json", .headers = headers,
			.timeout = 60 };

		TAILQ_REMOVE(&b->queue, q, link);
		b->inflight_calls++;
		http_client_request(b->hc, &req, on_call_done, q);
		free(q->body);
		q->body = NULL;
	}
}

static void
post(struct bench *b, char *body, size_t len, http_client_done_fn done,
    void *arg)
{
	struct queued *q = calloc(1, sizeof(*q));

	if (q == NULL)
		abort();
	q->b = b;
	q->body = body;
	q->len = len;
	q->done = done;
	q->arg = arg;
	TAILQ_INSERT_TAIL(&b->queue, q, link);
	pump(b);
}

static void
simple_call(struct bench *b, struct jsonw *w)
{
	size_t len;
	char *body = jw_steal(w, &len);

	post(b, body, len, call_done, b);
}

static void
begin_call(struct jsonw *w, struct bench *b, const char *type)
{
	jw_init(w);
	jw_obj_begin(w);
	jw_kstr(w, "type", type);
	jw_key(w, "framework_id");
	jw_obj_begin(w);
	jw_kstr(w, "value", b->fw_id);
	jw_obj_end(w);
}

static double
scalar_of(const json_t *offer, const char *name)
{
	json_t *res = json_object_get(offer, "resources"), *r;
	size_t i;
	double sum = 0;

	json_array_foreach(res, i, r)
		if (!strcmp(json_str_or(r, "name", ""), name))
			sum += json_num_or(json_object_get(r, "scalar"), "value", 0);
	return sum;
}

static void
write_scalar(struct jsonw *w, const char *name, double v, const char *role)
{
	jw_obj_begin(w);
	jw_kstr(w, "name", name);
	jw_kstr(w, "type", "SCALAR");
	jw_kstr(w, "role", role);
	jw_key(w, "scalar");
	jw_obj_begin(w);
	jw_kdouble(w, "value", v);
	jw_obj_end(w);
	jw_obj_end(w);
}

static void
decline(struct bench *b, const json_t *offer, double refuse)
{
	struct jsonw w;

	begin_call(&w, b, "DECLINE");
	jw_key(&w, "decline");
	jw_obj_begin(&w);
	jw_key(&w, "offer_ids");
	jw_arr_begin(&w);
	jw_json(&w, json_object_get(offer, "id"));
	jw_arr_end(&w);
	jw_key(&w, "filters");
	jw_obj_begin(&w);
	jw_kdouble(&w, "refuse_seconds", refuse);
	jw_obj_end(&w);
	jw_obj_end(&w);
	jw_obj_end(&w);
	b->declines++;
	simple_call(b, &w);
}

/* Launches up to max tasks on an offer; returns how many. */
static long long
launch(struct bench *b, const json_t *offer, long long max)
{
	const char *agent = json_str_or(json_object_get(offer, "agent_id"),
	    "value", "");
	long long fit = (long long)floor(scalar_of(offer, "cpus") / b->f.cpus +
	    1e-9);
	long long fit_mem = (long long)floor(scalar_of(offer, "mem") / b->f.mem +
	    1e-9);
	long long n = fit < fit_mem ? fit : fit_mem;
	struct accept_ctx *ax;
	struct jsonw w;
	double t = now_mono();
	size_t len;
	char *body;

	if (n > max)
		n = max;
	if (n > b->f.tasks - b->launched)
		n = b->f.tasks - b->launched;
	if (n <= 0)
		return 0;
	begin_call(&w, b, "ACCEPT");
	jw_key(&w, "accept");
	jw_obj_begin(&w);
	jw_key(&w, "offer_ids");
	jw_arr_begin(&w);
	jw_json(&w, json_object_get(offer, "id"));
	jw_arr_end(&w);
	jw_key(&w, "operations");
	jw_arr_begin(&w);
	jw_obj_begin(&w);
	jw_kstr(&w, "type", "LAUNCH");
	jw_key(&w, "launch");
	jw_obj_begin(&w);
	jw_key(&w, "task_infos");
	jw_arr_begin(&w);
	for (long long i = 0; i < n; i++) {
		char id[64];
		long long k = b->launched++;

		snprintf(id, sizeof(id), "bench-%lld", k);
		b->launch_at[k] = t;
		jw_obj_begin(&w);
		jw_kstr(&w, "name", "bench");
		jw_key(&w, "task_id");
		jw_obj_begin(&w);
		jw_kstr(&w, "value", id);
		jw_obj_end(&w);
		jw_key(&w, "agent_id");
		jw_obj_begin(&w);
		jw_kstr(&w, "value", agent);
		jw_obj_end(&w);
		jw_key(&w, "resources");
		jw_arr_begin(&w);
		write_scalar(&w, "cpus", b->f.cpus, b->f.role);
		write_scalar(&w, "mem", b->f.mem, b->f.role);
		jw_arr_end(&w);
		jw_key(&w, "command");
		jw_obj_begin(&w);
		jw_kstr(&w, "value", b->f.cmd);
		jw_obj_end(&w);
		jw_obj_end(&w);
	}
	jw_arr_end(&w);
	jw_obj_end(&w);
	jw_obj_end(&w);
	jw_arr_end(&w);
	jw_key(&w, "filters");
	jw_obj_begin(&w);
	jw_kdouble(&w, "refuse_seconds", 0);
	jw_obj_end(&w);
	jw_obj_end(&w);
	jw_obj_end(&w);
	if (b->t_first == 0)
		b->t_first = t;
	b->accepts++;
	if ((ax = calloc(1, sizeof(*ax))) == NULL)
		abort();
	ax->b = b;
	ax->n = n;
	body = jw_steal(&w, &len);
	post(b, body, len, accept_done, ax);
	return n;
}

static void
on_offers(struct bench *b, const json_t *offers)
{
	size_t i;
	json_t *o;

	json_array_foreach(offers, i, o) {
		if (b->f.sequential) {
			if (b->inflight == 0 && b->launched < b->f.tasks &&
			    launch(b, o, 1) == 1)
				b->inflight = 1;
			else if (b->launched < b->f.tasks)
				json_array_append(b->held, o);
			else
				decline(b, o, 3600);
			continue;
		}
		if (b->launched >= b->f.tasks || launch(b, o, b->f.per_offer) == 0)
			decline(b, o, b->launched >= b->f.tasks ? 3600 : 1);
	}
}

static void
acknowledge(struct bench *b, const json_t *st)
{
	struct jsonw w;

	begin_call(&w, b, "ACKNOWLEDGE");
	jw_key(&w, "acknowledge");
	jw_obj_begin(&w);
	jw_kjson(&w, "agent_id", json_object_get(st, "agent_id"));
	jw_kjson(&w, "task_id", json_object_get(st, "task_id"));
	jw_kstr(&w, "uuid", json_str_or(st, "uuid", ""));
	jw_obj_end(&w);
	jw_obj_end(&w);
	b->acks++;
	simple_call(b, &w);
}

static void
on_update(struct bench *b, const json_t *st)
{
	const char *id = json_str_or(json_object_get(st, "task_id"), "value", "");
	const char *state = json_str_or(st, "state", "");
	long long k = strncmp(id, "bench-", 6) == 0 ? atoll(id + 6) : -1;

	if (b->f.ack && json_object_get(st, "uuid"))
		acknowledge(b, st);
	if (k < 0 || k >= b->f.tasks)
		return;
	if (!strcmp(state, "TASK_RUNNING") && b->running_at[k] == 0) {
		b->running_at[k] = now_mono();
		if (++b->running == b->f.tasks) {
			b->t_running = b->running_at[k];
			if (b->placed == b->f.tasks)
				finish(b);
			return;
		}
		if (b->f.sequential) {
			b->inflight = 0;
			while (json_array_size(b->held) > 0 && b->inflight == 0) {
				json_t *o = json_incref(json_array_get(b->held, 0));

				json_array_remove(b->held, 0);
				if (launch(b, o, 1) == 1)
					b->inflight = 1;
				else
					decline(b, o, 0);
				json_decref(o);
			}
		}
	} else if (!strcmp(state, "TASK_FAILED") || !strcmp(state, "TASK_ERROR") ||
	    !strcmp(state, "TASK_LOST") || !strcmp(state, "TASK_DROPPED")) {
		if (b->failed++ < 5)
			log_warn("task %s: %s %s", id, state, json_str_or(st, "message",
			    ""));
		if (b->f.sequential)
			b->inflight = 0;
	}
}

static int
on_record(const char *data, size_t len, void *arg)
{
	struct bench *b = arg;
	json_t *ev = json_loadb(data, len, 0, NULL);
	const char *type = json_str_or(ev, "type", "");

	if (!strcmp(type, "SUBSCRIBED")) {
		snprintf(b->fw_id, sizeof(b->fw_id), "%s", json_str_or(
		    json_object_get(json_object_get(ev, "subscribed"),
		    "framework_id"), "value", ""));
		b->t_sub = now_mono();
	} else if (!strcmp(type, "OFFERS")) {
		on_offers(b, json_object_get(json_object_get(ev, "offers"),
		    "offers"));
	} else if (!strcmp(type, "UPDATE")) {
		on_update(b, json_object_get(json_object_get(ev, "update"),
		    "status"));
	} else if (!strcmp(type, "ERROR")) {
		log_error("master sent ERROR: %s", json_str_or(json_object_get(ev,
		    "error"), "message", ""));
	}
	json_decref(ev);
	return 0;
}

static void
on_headers(const struct http_client_resp *resp, void *arg)
{
	struct bench *b = arg;
	char sid[128];

	if (resp->status != 200) {
		log_error("SUBSCRIBE answered %ld", resp->status);
		return;
	}
	http_client_resp_header(resp, "Mesos-Stream-Id", sid, sizeof(sid));
	snprintf(b->stream_id, sizeof(b->stream_id), "%s", sid);
	snprintf(b->hdr, sizeof(b->hdr), "Mesos-Stream-Id: %s", sid);
}

static void
on_data(const char *data, size_t len, void *arg)
{
	recordio_feed(&((struct bench *)arg)->rio, data, len);
}

static void
on_end(const struct http_client_resp *resp, void *arg)
{
	struct bench *b = arg;

	b->stream = NULL;
	log_error("the subscription stream ended: %s", resp->error ? resp->error :
	    "closed by the master");
	finish(b);
}

static void
on_deadline(evutil_socket_t fd, short what, void *arg)
{
	log_warn("timed out before every task was running");
	finish(arg);
}

static void
stop(void *arg)
{
	finish(arg);
}

int
main(int argc, char **argv)
{
	struct bench b = { 0 };
	const struct flag flags[] = {
		{ "master", FLAG_STR, &b.f.master, "http://127.0.0.1:5050",
		  "the leading master's HTTP address" },
		{ "tasks", FLAG_INT, &b.f.tasks, "10000", "tasks to launch" },
		{ "per_offer", FLAG_INT, &b.f.per_offer, "1000",
		  "most tasks launched from one offer" },
		{ "connections", FLAG_INT, &b.f.connections, "16",
		  "calls in flight at most (the framework's connection pool)" },
		{ "cpus", FLAG_DOUBLE, &b.f.cpus, "0.01", "cpus per task" },
		{ "mem", FLAG_DOUBLE, &b.f.mem, "8", "MB of memory per task" },
		{ "role", FLAG_STR, &b.f.role, "*", "role of the resources" },
		{ "cmd", FLAG_STR, &b.f.cmd, "sleep 3600", "the tasks' command" },
		{ "name", FLAG_STR, &b.f.name, "mesos-bench", "framework name" },
		{ "ack", FLAG_BOOL, &b.f.ack, "true",
		  "acknowledge status updates (as real frameworks must)" },
		{ "wait_running", FLAG_BOOL, &b.f.wait_running, "true", "wait for "
		  "every task to run (--no-wait_running: stop once all are placed, "
		  "e.g. against mesos-sim-agents --no-updates)" },
		{ "sequential", FLAG_BOOL, &b.f.sequential, "false",
		  "one task at a time: the next when the previous one runs" },
		{ "timeout", FLAG_DURATION, &b.f.timeout, "120secs",
		  "give up after this" },
		{ "failover_timeout", FLAG_DURATION, &b.f.failover_timeout, "0",
		  "the framework's failover timeout" },
		{ "teardown", FLAG_BOOL, &b.f.teardown, "true", "tear the framework "
		  "down at the end (--no-teardown: leave its tasks running, with "
		  "--failover_timeout, to measure a loaded master)" },
		{ "log_level", FLAG_STR, &b.f.log_level, "notice", "log level" },
	};
	const struct flags_spec spec = { "mesos-bench-scheduler",
		"a measuring Mesos framework (v1 scheduler API)", "BENCH_", flags,
		sizeof(flags) / sizeof(flags[0]) };
	struct http_client_stream_cbs cbs = { on_headers, on_data, on_end };
	struct http_client_req req = { .method = "POST",
		.content_type = "application/json", .timeout = 10 };
	struct timeval tv;
	struct daemon *d;
	char body[512];

	flags_parse_or_exit(&spec, argc, argv);
	log_init("mesos-bench-scheduler", LOG_LVL_NOTICE);
	if (log_level_parse(b.f.log_level) >= 0)
		log_set_level((enum log_level)log_level_parse(b.f.log_level));
	if (b.f.tasks <= 0 || b.f.cpus <= 0 || b.f.mem <= 0) {
		fprintf(stderr, "mesos-bench-scheduler: --tasks, --cpus and --mem "
		    "must be positive\n");
		return 2;
	}
	b.launch_at = calloc((size_t)b.f.tasks, sizeof(double));
	b.running_at = calloc((size_t)b.f.tasks, sizeof(double));
	b.held = json_array();
	TAILQ_INIT(&b.queue);
	b.base = event_base_new();
	d = daemon_new(b.base, stop, &b);
	b.hc = http_client_new(b.base);
	recordio_init(&b.rio, 64 << 20, on_record, &b);
	snprintf(b.url, sizeof(b.url), "%s/api/v1/scheduler", b.f.master);
	snprintf(body, sizeof(body), "{\"type\":\"SUBSCRIBE\",\"subscribe\":"
	    "{\"framework_info\":{\"user\":\"root\",\"name\":\"%s\","
	    "\"role\":\"%s\",\"failover_timeout\":%g,\"capabilities\":"
	    "[{\"type\":\"PARTITION_AWARE\"}]}}}", b.f.name, b.f.role,
	    b.f.failover_timeout);
	req.url = b.url;
	req.body = body;
	req.body_len = strlen(body);
	b.stream = http_client_stream(b.hc, &req, &cbs, &b);
	tv.tv_sec = (time_t)b.f.timeout;
	tv.tv_usec = 0;
	b.deadline = evtimer_new(b.base, on_deadline, &b);
	evtimer_add(b.deadline, &tv);
	event_base_dispatch(b.base);
	if (b.fw_id[0] && b.f.teardown) {
		/* leave nothing behind: the master kills the tasks */
		char td[512];
		struct http_client_resp resp = { 0 };
		const char *headers[] = { b.hdr, NULL };
		struct http_client_req r = { .method = "POST", .url = b.url,
			.content_type = "application/json", .headers = headers,
			.timeout = 10 };

		snprintf(td, sizeof(td), "{\"type\":\"TEARDOWN\",\"framework_id\":"
		    "{\"value\":\"%s\"}}", b.fw_id);
		r.body = td;
		r.body_len = strlen(td);
		http_fetch(&r, &resp);
		http_client_resp_free(&resp);
	}
	if (b.stream)
		http_call_cancel(b.stream);
	http_client_free(b.hc);
	recordio_free(&b.rio);
	event_free(b.deadline);
	daemon_free(d);
	event_base_free(b.base);
	json_decref(b.held);
	free(b.launch_at);
	free(b.running_at);
	return b.running == b.f.tasks || (!b.f.wait_running &&
	    b.placed == b.f.tasks) ? 0 : 1;
}

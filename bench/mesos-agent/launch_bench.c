/*
 * mesos-agent-bench: real task launches per second on one agent. A
 * framework on the v1 scheduler HTTP API (through the real master, like
 * any framework) launches --tasks tasks running --cmd, --batch per offer,
 * acknowledges every update, and reports when each task reached
 * TASK_RUNNING and TASK_FINISHED after its ACCEPT: the launch rate, the
 * completion rate, and ACCEPT -> TASK_RUNNING latency percentiles, as one
 * JSON line on stdout. Every task is a real executor, container and
 * process on the agent.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "dcos/flags.h"
#include "dcos/http_client.h"
#include "dcos/json.h"
#include "dcos/log.h"
#include "dcos/strmap.h"
#include "dcos/stream_decode.h"

struct btask {
	double accepted, running, finished;
	bool failed;
};

struct bench {
	struct event_base *base;
	struct http_client *http;
	struct recordio_decoder rio;
	char url[256], stream_id[128], fw_id[128];
	const char *master, *cmd;
	long long ntasks, batch;
	bool sequential;       /* next task only once the last one runs */
	json_t *held;          /* sequential: the offer kept for the next */
	double cpus, mem, timeout;
	long long launched, running, finished, failed, acks_in_flight;
	struct btask *tasks;
	struct strmap *ids;
	double t0, t_last_running, t_last_finished;
	struct event *deadline;
	int rc;
};

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
on_posted(const struct http_client_resp *resp, void *arg)
{
	struct bench *b = arg;

	b->acks_in_flight--;
	if (resp->status != 202)
		log_warn("call answered %ld: %s", resp->status, resp->error ?
		    resp->error : resp->body);
}

static void
post(struct bench *b, json_t *call)
{
	char *body;
	char sid[200];
	const char *hdrs[] = { sid, "Accept: application/json", NULL };
	struct http_client_req r = { .method = "POST", .url = b->url,
		.content_type = "application/json", .headers = hdrs,
		.timeout = 30 };

	json_object_set_new(call, "framework_id", json_pack("{s:s}", "value",
	    b->fw_id));
	snprintf(sid, sizeof(sid), "Mesos-Stream-Id: %s", b->stream_id);
	body = json_compact(call);
	json_decref(call);
	r.body = body;
	r.body_len = strlen(body);
	b->acks_in_flight++;
	http_client_request(b->http, &r, on_posted, b);
	free(body);
}

static int
cmp(const void *x, const void *y)
{
	double a = *(const double *)x, c = *(const double *)y;

	return a < c ? -1 : a > c;
}

static void
report(struct bench *b)
{
	double *lat = calloc((size_t)b->ntasks, sizeof(double));
	long long n = 0;

	for (long long i = 0; i < b->ntasks; i++)
		if (b->tasks[i].running > 0)
			lat[n++] = (b->tasks[i].running - b->tasks[i].accepted) * 1000;
	qsort(lat, (size_t)n, sizeof(double), cmp);
	printf("{\"tasks\":%lld,\"running\":%lld,\"finished\":%lld,"
	    "\"failed\":%lld,\"launch_secs\":%.3f,\"launches_per_sec\":%.1f,"
	    "\"finish_secs\":%.3f,\"finished_per_sec\":%.1f,"
	    "\"accept_to_running_ms\":{\"p50\":%.2f,\"p90\":%.2f,\"p99\":%.2f,"
	    "\"max\":%.2f}}\n", b->ntasks, b->running, b->finished, b->failed,
	    b->t_last_running - b->t0, b->running / (b->t_last_running - b->t0),
	    b->t_last_finished - b->t0,
	    b->finished / (b->t_last_finished - b->t0),
	    n ? lat[(long long)(0.5 * (double)(n - 1))] : 0,
	    n ? lat[(long long)(0.9 * (double)(n - 1))] : 0,
	    n ? lat[(long long)(0.99 * (double)(n - 1))] : 0,
	    n ? lat[n - 1] : 0);
	fflush(stdout);
	free(lat);
}

static void launch_on(struct bench *b, const json_t *o);

static void
handle_offers(struct bench *b, const json_t *offers)
{
	const json_t *o;
	size_t i;

	json_array_foreach(offers, i, o) {
		if (b->sequential) {
			if (b->held == NULL && b->launched == b->running &&
			    b->launched < b->ntasks) {
				launch_on(b, o);
			} else if (b->held == NULL && b->launched < b->ntasks) {
				b->held = json_incref((json_t *)o);
			} else {
				post(b, json_pack("{s:s, s:{s:[O]}}", "type", "DECLINE",
				    "decline", "offer_ids", json_object_get(o, "id")));
			}
			continue;
		}
		launch_on(b, o);
	}
}

static void
launch_on(struct bench *b, const json_t *o)
{
	{
		json_t *ids = json_pack("[O]", json_object_get(o, "id"));
		json_t *tasks = json_array();
		const char *role = "*";
		const json_t *r;
		size_t k;
		double cpus = 0, mem = 0;

		json_array_foreach(json_object_get(o, "resources"), k, r) {
			const char *name = json_str_or(r, "name", "");
			double v = json_number_value(json_object_get(json_object_get(r,
			    "scalar"), "value"));

			if (strcmp(name, "cpus") == 0)
				cpus += v;
			else if (strcmp(name, "mem") == 0)
				mem += v;
		}
		while (b->launched < b->ntasks &&
		    (long long)json_array_size(tasks) < (b->sequential ? 1 :
		    b->batch) &&
		    cpus >= b->cpus && mem >= b->mem) {
			char id[64];
			long long n = b->launched++;

			snprintf(id, sizeof(id), "bench-%lld", n);
			strmap_put(b->ids, id, &b->tasks[n]);
			b->tasks[n].accepted = now();
			if (b->t0 == 0)
				b->t0 = b->tasks[n].accepted;
			cpus -= b->cpus;
			mem -= b->mem;
			json_array_append_new(tasks, json_pack("{s:s, s:{s:s}, s:O, "
			    "s:[{s:s, s:s, s:s, s:{s:f}}, {s:s, s:s, s:s, s:{s:f}}], "
			    "s:{s:s}}", "name", id, "task_id", "value", id, "agent_id",
			    json_object_get(o, "agent_id"), "resources", "name", "cpus",
			    "type", "SCALAR", "role", role, "scalar", "value", b->cpus,
			    "name", "mem", "type", "SCALAR", "role", role, "scalar",
			    "value", b->mem, "command", "value", b->cmd));
		}
		if (json_array_size(tasks) == 0) {
			json_decref(tasks);
			post(b, json_pack("{s:s, s:{s:o, s:{s:f}}}", "type", "DECLINE",
			    "decline", "offer_ids", ids, "filters", "refuse_seconds",
			    b->launched < b->ntasks ? 0.0 : 3600.0));
			return;
		}
		post(b, json_pack("{s:s, s:{s:o, s:[{s:s, s:{s:o}}], s:{s:f}}}",
		    "type", "ACCEPT", "accept", "offer_ids", ids, "operations",
		    "type", "LAUNCH", "launch", "task_infos", tasks, "filters",
		    "refuse_seconds", 0.0));
	}
}

static void
handle_update(struct bench *b, const json_t *st)
{
	const char *id = json_string_value(json_object_get(json_object_get(st,
	    "task_id"), "value"));
	const char *state = json_str_or(st, "state", "");
	struct btask *t = id ? strmap_get(b->ids, id) : NULL;
	double tm = now();

	if (json_object_get(st, "uuid"))
		post(b, json_pack("{s:s, s:{s:O, s:O, s:O}}", "type", "ACKNOWLEDGE",
		    "acknowledge", "agent_id", json_object_get(st, "agent_id"),
		    "task_id", json_object_get(st, "task_id"), "uuid",
		    json_object_get(st, "uuid")));
	if (t == NULL)
		return;
	if ((strcmp(state, "TASK_RUNNING") == 0 ||
	    strcmp(state, "TASK_FINISHED") == 0) && t->running == 0) {
		t->running = tm;
		b->running++;
		b->t_last_running = tm;
		if (b->sequential && b->held && b->launched < b->ntasks) {
			json_t *o = b->held;

			b->held = NULL;
			launch_on(b, o);
			json_decref(o);
		}
	}
	if (strcmp(state, "TASK_FINISHED") == 0 || strcmp(state, "TASK_FAILED") ==
	    0 || strcmp(state, "TASK_LOST") == 0 || strcmp(state,
	    "TASK_KILLED") == 0 || strcmp(state, "TASK_ERROR") == 0 ||
	    strcmp(state, "TASK_DROPPED") == 0) {
		if (t->finished == 0) {
			t->finished = tm;
			if (strcmp(state, "TASK_FINISHED") == 0)
				b->finished++;
			else {
				b->failed++;
				log_warn("task %s: %s %s", id, state,
				    json_str_or(st, "message", ""));
			}
			b->t_last_finished = tm;
		}
	}
	if (b->finished + b->failed == b->ntasks) {
		report(b);
		b->rc = b->failed ? 1 : 0;
		event_base_loopexit(b->base, NULL);
	}
}

static int
on_event(const char *data, size_t len, void *arg)
{
	struct bench *b = arg;
	json_t *ev = json_loadb(data, len, 0, NULL);
	const char *type = json_str_or(ev, "type", "");

	if (strcmp(type, "SUBSCRIBED") == 0)
		snprintf(b->fw_id, sizeof(b->fw_id), "%s", json_str_or(
		    json_object_get(json_object_get(ev, "subscribed"),
		    "framework_id"), "value", ""));
	else if (strcmp(type, "OFFERS") == 0)
		handle_offers(b, json_object_get(json_object_get(ev, "offers"),
		    "offers"));
	else if (strcmp(type, "UPDATE") == 0)
		handle_update(b, json_object_get(json_object_get(ev, "update"),
		    "status"));
	json_decref(ev);
	return 0;
}

static void
on_headers(const struct http_client_resp *resp, void *arg)
{
	struct bench *b = arg;

	http_client_resp_header(resp, "Mesos-Stream-Id", b->stream_id,
	    sizeof(b->stream_id));
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

	log_error("subscription ended: %ld %s", resp->status, resp->error ?
	    resp->error : resp->body);
	b->rc = 2;
	event_base_loopexit(b->base, NULL);
}

static void
on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct bench *b = arg;

	log_error("timed out: %lld launched, %lld running, %lld finished",
	    b->launched, b->running, b->finished);
	report(b);
	b->rc = 3;
	event_base_loopexit(b->base, NULL);
}

int
main(int argc, char **argv)
{
	static struct bench b;
	const struct flag flags[] = {
		{ "master", FLAG_STR, &b.master, "127.0.0.1:5050", "master" },
		{ "tasks", FLAG_INT, &b.ntasks, "500", "tasks to launch" },
		{ "batch", FLAG_INT, &b.batch, "100", "tasks per ACCEPT" },
		{ "cmd", FLAG_STR, &b.cmd, "true", "each task's command" },
		{ "cpus", FLAG_DOUBLE, &b.cpus, "0.01", "cpus per task" },
		{ "mem", FLAG_DOUBLE, &b.mem, "8", "mem per task" },
		{ "timeout", FLAG_DURATION, &b.timeout, "5mins", "give up after" },
		{ "sequential", FLAG_BOOL, &b.sequential, "false", "launch the next "
		  "task only when the last one runs (latency, not throughput)" },
	};
	const struct flags_spec spec = { "mesos-agent-bench", "Real task "
	    "launches per second on one Mesos agent, through the master.",
	    "BENCH_", flags, sizeof(flags) / sizeof(flags[0]) };
	static const struct http_client_stream_cbs cbs = { on_headers, on_data,
		on_end };
	static const char *const hdrs[] = { "Accept: application/json", NULL };
	struct http_client_req r = { .method = "POST", .url = b.url,
		.content_type = "application/json", .headers = hdrs, .timeout = 5 };
	struct timeval dl;
	char *body;

	flags_parse_or_exit(&spec, argc, argv);
	log_init("mesos-agent-bench", LOG_LVL_INFO);
	snprintf(b.url, sizeof(b.url), "http://%s/api/v1/scheduler", b.master);
	b.tasks = calloc((size_t)b.ntasks, sizeof(*b.tasks));
	b.ids = strmap_new();
	b.base = event_base_new();
	b.http = http_client_new(b.base);
	recordio_init(&b.rio, 64 << 20, on_event, &b);
	{
		json_t *sub = json_pack("{s:s, s:{s:{s:s, s:s, s:b, s:f}}}", "type",
		    "SUBSCRIBE", "subscribe", "framework_info", "user", "root",
		    "name", "mesos-agent-bench", "checkpoint", 1,
		    "failover_timeout", 0.0);

		body = json_dumps(sub, JSON_COMPACT);
		json_decref(sub);
	}
	r.body = body;
	r.body_len = strlen(body);
	http_client_stream(b.http, &r, &cbs, &b);
	dl.tv_sec = (time_t)b.timeout;
	dl.tv_usec = 0;
	b.deadline = evtimer_new(b.base, on_deadline, &b);
	evtimer_add(b.deadline, &dl);
	event_base_dispatch(b.base);
	free(body);
	return b.rc;
}

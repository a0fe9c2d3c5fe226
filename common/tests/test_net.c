/* Unit tests for the loop-driven network modules talking to each other in
 * one process: http_server <-> http_client (requests, errors, limits,
 * retries, streams, cancellation) and ipc (REQ/REP, timeouts, PUB/SUB). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <nng/nng.h>
#include <event2/event.h>

#include "dcos/http_client.h"
#include "dcos/http_server.h"
#include "dcos/ipc.h"
#include "dcos/json.h"
#include "dcos/log.h"
#include "dcos/stream_decode.h"

static struct event_base *base;
static struct http_server *srv;
static struct http_client *cli;
static char root[64];
static int flaky_left;
static struct http_req *parked;

/* Runs the loop until *flag is set or 5 s pass; returns *flag. */
static int
run_until(const int *flag)
{
	struct timespec start, now;

	clock_gettime(CLOCK_MONOTONIC, &start);
	while (!*flag) {
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec > 5)
			break;
		if (!*flag) {
			struct timespec ts = { 0, 1000000 };

			nanosleep(&ts, NULL);
		}
	}
	return *flag;
}

static void
h_hello(struct http_req *req, void *arg)
{
	http_reply_json(req, 200, json_pack("{s:s}", "hello",
	    http_req_param(req, "name")));
}

static void
h_echo_json(struct http_req *req, void *arg)
{
	json_t *body = http_req_json(req);

	if (body)
		http_reply_json(req, 201, body);
}

static void
h_flaky(struct http_req *req, void *arg)
{
	if (flaky_left-- > 0)
		http_reply_error(req, 503, "try again");
	else
		http_reply(req, 200, "text/plain", "ok", 2);
}

static void
h_park(struct http_req *req, void *arg)
{
	parked = req; /* replied later by the test */
}

struct ticker {
	struct http_stream *s;
	int closed;
};

static struct ticker tick;

static void
tick_closed(struct http_stream *s, void *arg)
{
	((struct ticker *)arg)->closed = 1;
	((struct ticker *)arg)->s = NULL;
}

static void
h_stream(struct http_req *req, void *arg)
{
	tick.closed = 0;
	tick.s = http_stream_start(req, 200, "application/json",
	    HTTP_STREAM_RECORDIO, tick_closed, &tick);
	http_stream_record(tick.s, "{\"n\":1}", 7);
	http_stream_record(tick.s, "{\"n\":2}", 7);
}

static int
setup(void **state)
{
	char err[256];
	struct http_server_opts o = { .max_body = 1024 };

	log_init("test", LOG_LVL_ERROR);
	base = event_base_new();
	srv = http_server_new(base, &o);
	http_server_route(srv, "GET", "/hello/{name}", h_hello, NULL);
	http_server_route(srv, "POST", "/json", h_echo_json, NULL);
	http_server_route(srv, "GET", "/flaky", h_flaky, NULL);
	http_server_route(srv, "GET", "/park", h_park, NULL);
	http_server_route(srv, "GET", "/stream", h_stream, NULL);
	assert_int_equal(http_server_listen(srv, "127.0.0.1", 0, err,
	    sizeof(err)), 0);
	snprintf(root, sizeof(root), "http://127.0.0.1:%d", http_server_port(srv));
	cli = http_client_new(base);
	return 0;
}

static int
teardown(void **state)
{
	http_client_free(cli);
	http_server_free(srv);
	event_base_free(base);
	return 0;
}

struct got {
	int done;
	long status;
	char body[512];
	char error[256];
};

static void
on_resp(const struct http_client_resp *resp, void *arg)
{
	struct got *g = arg;

	g->status = resp->status;
	snprintf(g->body, sizeof(g->body), "%s", resp->body);
	snprintf(g->error, sizeof(g->error), "%s", resp->error ? resp->error : "");
	g->done = 1;
}

static void
fetch(struct got *g, const char *method, const char *path, const char *body,
    size_t len, int retries)
{
	char url[256];
	struct http_client_req r = { .method = method, .url = url, .body = body,
		.body_len = len, .retries = retries, .timeout = 2,
		.backoff = 0.01 };

	memset(g, 0, sizeof(*g));
	snprintf(url, sizeof(url), "%s%s", root, path);
	http_client_request(cli, &r, on_resp, g);
	assert_true(run_until(&g->done));
}

static void
test_routes_params_and_json_errors(void **state)
{
	struct got g;
	char big[2048];

	fetch(&g, NULL, "/hello/world", NULL, 0, 0);
	assert_int_equal(g.status, 200);
	assert_string_equal(g.body, "{\"hello\":\"world\"}");
	fetch(&g, NULL, "/nothing/here", NULL, 0, 0);
	assert_int_equal(g.status, 404);
	assert_string_equal(g.body, "{\"message\":\"no such endpoint: /nothing/here\"}");
	fetch(&g, "DELETE", "/hello/x", NULL, 0, 0);
	assert_int_equal(g.status, 405);
	fetch(&g, "POST", "/json", "{\"a\":[1,2]}", 11, 0);
	assert_int_equal(g.status, 201);
	assert_string_equal(g.body, "{\"a\":[1,2]}");
	fetch(&g, "POST", "/json", "{\"a\":", 5, 0);
	assert_int_equal(g.status, 400);
	assert_non_null(strstr(g.body, "Invalid JSON"));
	memset(big, 'x', sizeof(big));
	fetch(&g, "POST", "/json", big, sizeof(big), 0);
	assert_int_equal(g.status, 413);
}

static void
test_client_retries_503_then_succeeds(void **state)
{
	struct got g;

	flaky_left = 2;
	fetch(&g, NULL, "/flaky", NULL, 0, 3);
	assert_int_equal(g.status, 200);
	assert_string_equal(g.body, "ok");
	flaky_left = 5;
	fetch(&g, NULL, "/flaky", NULL, 0, 1);
	assert_int_equal(g.status, 503);
}

static void
test_client_reports_connection_errors_and_timeouts(void **state)
{
	struct got g;
	char err[256];
	struct http_client_req r = { .url = "http://127.0.0.1:1/", .timeout = 2 };
	char url[128];

	memset(&g, 0, sizeof(g));
	http_client_request(cli, &r, on_resp, &g);
	assert_true(run_until(&g.done));
	assert_int_equal(g.status, 0);
	assert_true(strlen(g.error) > 0);

	/* a parked request times out on the client, and the late reply to a
	 * client that has gone is harmless */
	snprintf(url, sizeof(url), "%s/park", root);
	r.url = url;
	r.timeout = 0.3;
	memset(&g, 0, sizeof(g));
	parked = NULL;
	http_client_request(cli, &r, on_resp, &g);
	assert_true(run_until(&g.done));
	assert_int_equal(g.status, 0);
	assert_non_null(strstr(g.error, "imed out"));
	assert_non_null(parked);
	http_reply_error(parked, 200, "too late");
	(void)err;
}

struct follow {
	struct recordio_decoder d;
	struct http_call *call;
	int records, ended, cancel_after;
	char stream_id[64];
};

static int
on_rec(const char *data, size_t len, void *arg)
{
	struct follow *f = arg;

	if (++f->records == f->cancel_after) {
		http_call_cancel(f->call);
		f->ended = 1;
	}
	return 0;
}

static void
on_data(const char *data, size_t len, void *arg)
{
	recordio_feed(&((struct follow *)arg)->d, data, len);
}

static void
on_end(const struct http_client_resp *resp, void *arg)
{
	((struct follow *)arg)->ended = 1;
}

static void
test_stream_records_cancel_and_server_notices(void **state)
{
	struct follow f = { .cancel_after = 3 };
	static const struct http_client_stream_cbs cbs = { NULL, on_data, on_end };
	char url[128];
	struct http_client_req r = { .url = url };

	snprintf(url, sizeof(url), "%s/stream", root);
	recordio_init(&f.d, 1024, on_rec, &f);
	f.call = http_client_stream(cli, &r, &cbs, &f);
	while (tick.s == NULL)
		event_base_loop(base, EVLOOP_ONCE);
	assert_int_equal(http_server_streams(srv), 1);
	while (f.records < 2)
		event_base_loop(base, EVLOOP_ONCE);
	/* the third record makes the client cancel from inside its callback */
	http_stream_record(tick.s, "{\"n\":3}", 7);
	assert_true(run_until(&f.ended));
	assert_int_equal(f.records, 3);
	/* the server sees the client go (or drops it on its next write) */
	assert_true(run_until(&tick.closed) ||
	    (http_stream_record(tick.s, "x", 1) == -1 && tick.closed));
	assert_int_equal(http_server_streams(srv), 0);
	recordio_free(&f.d);
}

struct ask {
	int done;
	char reply[256];
	char err[128];
};

static void
on_request(struct ipc_pending *p, json_t *msg, void *arg)
{
	ipc_reply(p, json_pack("{s:s, s:O}", "type", "PONG", "got", msg));
}

static void
on_reply(json_t *reply, const char *err, void *arg)
{
	struct ask *a = arg;
	char *text = reply ? json_compact(reply) : NULL;

	snprintf(a->reply, sizeof(a->reply), "%s", text ? text : "");
	snprintf(a->err, sizeof(a->err), "%s", err ? err : "");
	free(text);
	a->done = 1;
}

struct heard {
	int n;
	char topics[4][32];
};

static void
on_event(const char *topic, json_t *msg, void *arg)
{
	struct heard *h = arg;

	snprintf(h->topics[h->n++ % 4], 32, "%s", topic);
}

static void
test_ipc_request_reply_timeout_and_pubsub(void **state)
{
	char err[256], u1[64], u2[64], u3[64];
	struct ipc *rep, *req, *lonely, *pub, *sub;
	struct heard h = { 0 };

	/* per-process socket paths: concurrent test runs never collide */
	snprintf(u1, sizeof(u1), "ipc:///tmp/dcos-test-%d-rep", (int)getpid());
	snprintf(u2, sizeof(u2), "ipc:///tmp/dcos-test-%d-none", (int)getpid());
	snprintf(u3, sizeof(u3), "ipc:///tmp/dcos-test-%d-pub", (int)getpid());
	rep = ipc_rep_listen(base, u1, on_request, NULL, err, sizeof(err));
	req = ipc_req_dial(base, u1, err, sizeof(err));
	lonely = ipc_req_dial(base, u2, err, sizeof(err));
	pub = ipc_pub_listen(base, u3, err, sizeof(err));
	sub = ipc_sub_dial(base, u3, on_event, &h, err, sizeof(err));
	json_t *msg = json_pack("{s:s}", "type", "PING");
	struct ask a[3] = { 0 };
	char path[80];

	assert_non_null(rep);
	assert_non_null(req);
	/* several requests in flight on one socket, each gets its reply */
	ipc_request(req, msg, 2.0, on_reply, &a[0]);
	ipc_request(req, msg, 2.0, on_reply, &a[1]);
	assert_true(run_until(&a[0].done) && run_until(&a[1].done));
	assert_string_equal(a[0].reply, "{\"type\":\"PONG\",\"got\":{\"type\":\"PING\"}}");
	assert_string_equal(a[1].reply, a[0].reply);
	/* listening twice fails, naming the url. (Only once the requester is
	 * connected: nng's stale-socket check for ipc:// paths may unlink a
	 * live listener's path before anyone has connected to it.) */
	assert_null(ipc_rep_listen(base, u1, on_request, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, u1));
	/* nobody listening: a timeout, reported once */
	ipc_request(lonely, msg, 0.2, on_reply, &a[2]);
	assert_true(run_until(&a[2].done));
	assert_string_equal(a[2].reply, "");
	assert_non_null(strstr(a[2].err, "timed out"));

	ipc_subscribe(sub, "task.");
	/* subscriptions propagate asynchronously: publish until heard */
	for (int i = 0; i < 200 && h.n == 0; i++) {
		ipc_publish(pub, "agent.added", msg);
		ipc_publish(pub, "task.updated", msg);
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		struct timespec ts = { 0, 5000000 };
		nanosleep(&ts, NULL);
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	}
	assert_true(h.n > 0);
	assert_string_equal(h.topics[0], "task.updated");
	json_decref(msg);
	ipc_close(sub);
	ipc_close(pub);
	ipc_close(lonely);
	ipc_close(req);
	ipc_close(rep);
	snprintf(path, sizeof(path), "%s", u1 + 6);
	unlink(path);
	snprintf(path, sizeof(path), "%s", u3 + 6);
	unlink(path);
}

static void
test_ipc_frames(void **state)
{
	json_t *m = json_pack("{s:i}", "a", 1), *back;
	size_t len;
	char *data = ipc_frame("task.updated", m, &len), topic[64];

	assert_int_equal(len, strlen("task.updated\n{\"a\":1}"));
	back = ipc_unframe(data, len, topic, sizeof(topic));
	assert_non_null(back);
	assert_string_equal(topic, "task.updated");
	assert_true(json_equal(m, back));
	assert_null(ipc_unframe("no newline", 10, topic, sizeof(topic)));
	assert_null(ipc_unframe("t\n{bad", 6, topic, sizeof(topic)));
	assert_null(ipc_unframe(data, len, topic, 4)); /* topic too long */
	free(data);
	json_decref(m);
	json_decref(back);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_routes_params_and_json_errors),
		cmocka_unit_test(test_client_retries_503_then_succeeds),
		cmocka_unit_test(test_client_reports_connection_errors_and_timeouts),
		cmocka_unit_test(test_stream_records_cancel_and_server_notices),
		cmocka_unit_test(test_ipc_request_reply_timeout_and_pubsub),
		cmocka_unit_test(test_ipc_frames),
	};

	int failed = cmocka_run_group_tests(tests, setup, teardown);

	/* nng reaps closed sockets' pipes on its own threads: finish that
	 * before exit so LeakSanitizer does not report them */
	nng_fini();
	return failed;
}

/*
 * libdcos-probe: a small real program built only from libdcos, so the e2e
 * tests can exercise the shared library end to end: it serves HTTP routes
 * and streams (chunked, SSE, RecordIO), answers and sends nng requests,
 * publishes and subscribes to events, makes outgoing HTTP requests and
 * streams, writes to the store asynchronously and contends for a lease.
 * Nothing here is a DC/OS component; it is the library's test bench.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "dcos/daemon.h"
#include "dcos/flags.h"
#include "dcos/http_client.h"
#include "dcos/http_server.h"
#include "dcos/ids.h"
#include "dcos/ipc.h"
#include "dcos/json.h"
#include "dcos/lease.h"
#include "dcos/log.h"
#include "dcos/store.h"
#include "dcos/stream_decode.h"

struct probe {
	struct event_base *base;
	struct daemon *daemon;
	struct http_server *http;
	struct http_client *client;
	struct ipc *rep, *req, *pub, *sub;
	struct store *store;
	struct lease *lease;
	json_t *events;    /* received PUB/SUB events */
	int lease_changes; /* elected + lost callbacks seen */
	struct {
		const char *ip, *rep, *req, *pub, *sub, *store, *lease_name;
		const char *log_level;
		int port;
		double lease_ttl;
		long long max_body;
	} f;
};

/* --- HTTP: plain routes --- */

static void
h_health(struct http_req *req, void *arg)
{
	http_reply_json(req, 200, json_pack("{s:b}", "healthy", 1));
}

static void
h_echo(struct http_req *req, void *arg)
{
	const char *embeds[8];
	size_t n = http_req_query_all(req, "embed", embeds, 8);
	json_t *e = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(e, json_string(embeds[i]));
	http_reply_json(req, 200, json_pack("{s:s, s:s?, s:s?, s:o, s:s}",
	    "method", http_req_method(req), "id", http_req_param(req, "id"),
	    "task", http_req_param(req, "task"), "embed", e, "path",
	    http_req_path(req)));
}

/* Validates {"name": string, "count": int 0..10, "tags": [string]} and
 * answers Marathon-style 422 details. */
static void
h_validate(struct http_req *req, void *arg)
{
	json_t *body = http_req_json(req);
	struct json_errs errs;
	const char *name;
	json_int_t count;
	const json_t *tags;

	if (body == NULL)
		return;
	json_errs_init(&errs);
	json_get_str(body, "", "name", JF_REQUIRED | JF_NONEMPTY, &name, &errs);
	json_get_int(body, "", "count", 0, 0, 10, &count, &errs);
	if (json_get_array(body, "", "tags", 0, &tags, &errs) == 1) {
		size_t i;
		json_t *t;

		json_array_foreach(tags, i, t) {
			char path[JSON_PATH_MAX];

			json_path_index(path, sizeof(path), "/tags", i);
			if (!json_is_string(t))
				json_errs_add(&errs, path, "error.expected.jsstring");
		}
	}
	if (json_errs_count(&errs)) {
		http_reply_json(req, 422, json_pack("{s:s, s:O}", "message",
		    "Object is not valid", "details", errs.details));
	} else {
		http_reply_json(req, 200, json_incref(body));
	}
	json_errs_free(&errs);
	json_decref(body);
}

/* --- HTTP: streams --- */

struct ticker {
	struct probe *p;
	struct http_stream *s;
	struct event *ev;
	int left, sent;
	size_t pad; /* extra bytes per event, to fill a slow consumer fast */
	enum http_stream_kind kind;
};

static void
ticker_closed(struct http_stream *s, void *arg)
{
	struct ticker *t = arg;

	event_free(t->ev);
	free(t);
}

static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct ticker *t = arg;
	json_t *ev = json_pack("{s:s, s:i}", "type", "TICK", "n", t->sent);
	char *text, *pad = NULL;
	int rc;

	if (t->pad) {
		pad = malloc(t->pad + 1);
		if (pad == NULL)
			abort();
		memset(pad, 'x', t->pad);
		pad[t->pad] = '\0';
		json_object_set_new(ev, "pad", json_string(pad));
		free(pad);
	}
	text = json_compact(ev);
	json_decref(ev);
	if (t->kind == HTTP_STREAM_SSE)
		rc = http_stream_sse(t->s, "tick", text);
	else if (t->kind == HTTP_STREAM_RECORDIO)
		rc = http_stream_record(t->s, text, strlen(text));
	else
		rc = http_stream_write(t->s, text, strlen(text));
	free(text);
	if (rc == -1)
		return; /* dropped: ticker_closed has freed t */
	t->sent++;
	if (t->left > 0 && --t->left == 0) {
		struct http_stream *s = t->s;

		event_free(t->ev);
		free(t);
		http_stream_end(s);
	}
}

/* /stream/{kind}?n=N&every_ms=M&pad=B: N events (0 = until the client
 * leaves), each padded with B bytes */
static void
h_stream(struct http_req *req, void *arg)
{
	struct ticker *t = calloc(1, sizeof(*t));
	const char *kind = http_req_param(req, "kind");
	const char *n = http_req_query(req, "n"), *ms = http_req_query(req, "every_ms");
	long every = ms ? atol(ms) : 50;
	struct timeval tv = { every / 1000, (every % 1000) * 1000 };
	const char *ctype = "text/plain";

	if (t == NULL)
		abort();
	if (strcmp(kind, "sse") == 0) {
		t->kind = HTTP_STREAM_SSE;
		ctype = "text/event-stream";
	} else if (strcmp(kind, "recordio") == 0) {
		t->kind = HTTP_STREAM_RECORDIO;
		ctype = "application/json";
	} else if (strcmp(kind, "chunked") == 0) {
		t->kind = HTTP_STREAM_CHUNKED;
	} else {
		free(t);
		http_reply_error(req, 400, "unknown stream kind '%s'", kind);
		return;
	}
	t->p = arg;
	t->left = n ? atoi(n) : 0;
	t->pad = http_req_query(req, "pad") ? (size_t)atol(http_req_query(req,
	    "pad")) : 0;
	http_req_add_header(req, "Mesos-Stream-Id", "probe-stream");
	t->s = http_stream_start(req, 200, ctype, t->kind, ticker_closed, t);
	t->ev = event_new(t->p->base, -1, EV_PERSIST, on_tick, t);
	event_add(t->ev, &tv);
}

static void
h_streams(struct http_req *req, void *arg)
{
	struct probe *p = arg;

	http_reply_json(req, 200, json_pack("{s:I}", "open",
	    (json_int_t)http_server_streams(p->http)));
}

/* --- HTTP client --- */

static void
fetched(const struct http_client_resp *resp, void *arg)
{
	struct http_req *req = arg;
	json_t *out = json_pack("{s:i, s:s%}", "status", (int)resp->status,
	    "body", resp->body, resp->body_len);

	if (resp->error)
		json_object_set_new(out, "error", json_string(resp->error));
	http_reply_json(req, 200, out);
}

/* /fetch?url=U[&method=M][&retries=R][&timeout=S]: the body is forwarded */
static void
h_fetch(struct http_req *req, void *arg)
{
	struct probe *p = arg;
	size_t len;
	const char *body = http_req_body(req, &len);
	const char *url = http_req_query(req, "url");
	const char *retries = http_req_query(req, "retries");
	const char *timeout = http_req_query(req, "timeout");
	struct http_client_req r = {
		.url = url,
		.method = http_req_query(req, "method"),
		.body = len ? body : NULL,
		.body_len = len,
		.content_type = len ? "application/json" : NULL,
		.retries = retries ? atoi(retries) : 0,
		.timeout = timeout ? atof(timeout) : 5,
	};

	if (url == NULL) {
		http_reply_error(req, 400, "missing query parameter 'url'");
		return;
	}
	http_client_request(p->client, &r, fetched, req);
}

struct follower {
	struct http_req *req;
	struct http_call *call;
	struct recordio_decoder rio;
	struct sse_decoder sse;
	int is_sse, want, got;
	long status;
	char stream_id[64];
	json_t *events;
};

static void
follower_finish(struct follower *f, const char *error)
{
	json_t *out = json_pack("{s:i, s:s, s:o}", "status", (int)f->status,
	    "stream_id", f->stream_id, "events", f->events);

	if (error)
		json_object_set_new(out, "error", json_string(error));
	http_reply_json(f->req, 200, out);
	recordio_free(&f->rio);
	sse_free(&f->sse);
	free(f);
}

static int
follower_event(struct follower *f, const char *data, size_t len)
{
	json_array_append_new(f->events, json_stringn(data, len));
	if (++f->got == f->want) {
		http_call_cancel(f->call);
		follower_finish(f, NULL);
		return -1;
	}
	return 0;
}

static int
on_record(const char *data, size_t len, void *arg)
{
	return follower_event(arg, data, len);
}

static int
on_sse(const char *event, const char *data, void *arg)
{
	return follower_event(arg, data, strlen(data));
}

static void
follow_headers(const struct http_client_resp *resp, void *arg)
{
	struct follower *f = arg;

	f->status = resp->status;
	http_client_resp_header(resp, "Mesos-Stream-Id", f->stream_id,
	    sizeof(f->stream_id));
}

static void
follow_data(const char *data, size_t len, void *arg)
{
	struct follower *f = arg;

	if (f->is_sse)
		sse_feed(&f->sse, data, len);
	else
		recordio_feed(&f->rio, data, len);
}

static void
follow_end(const struct http_client_resp *resp, void *arg)
{
	struct follower *f = arg;

	f->status = resp->status;
	follower_finish(f, resp->error ? resp->error : "stream ended early");
}

/* /follow?url=U&kind=sse|recordio&n=N: reads N events from a stream */
static void
h_follow(struct http_req *req, void *arg)
{
	struct probe *p = arg;
	struct follower *f = calloc(1, sizeof(*f));
	const char *url = http_req_query(req, "url");
	const char *kind = http_req_query(req, "kind");
	const char *n = http_req_query(req, "n");
	static const struct http_client_stream_cbs cbs = { follow_headers,
		follow_data, follow_end };
	struct http_client_req r = { .url = url, .timeout = 5 };

	if (f == NULL)
		abort();
	if (url == NULL || n == NULL || atoi(n) <= 0) {
		free(f);
		http_reply_error(req, 400, "need url and n > 0");
		return;
	}
	f->req = req;
	f->want = atoi(n);
	f->events = json_array();
	f->is_sse = kind && strcmp(kind, "sse") == 0;
	recordio_init(&f->rio, 1 << 20, on_record, f);
	sse_init(&f->sse, 1 << 20, on_sse, f);
	f->call = http_client_stream(p->client, &r, &cbs, f);
}

/* --- nng --- */

static void
on_ipc_request(struct ipc_pending *pend, json_t *msg, void *arg)
{
	ipc_reply(pend, json_pack("{s:s, s:O}", "type", "ECHO", "request", msg));
}

static void
asked(json_t *reply, const char *err, void *arg)
{
	struct http_req *req = arg;

	if (reply == NULL)
		http_reply_error(req, 504, "nng request failed: %s", err);
	else
		http_reply_json(req, 200, json_incref(reply));
}

static void
h_ask(struct http_req *req, void *arg)
{
	struct probe *p = arg;
	json_t *body;

	if (p->req == NULL) {
		http_reply_error(req, 409, "started without --req");
		return;
	}
	if ((body = http_req_json(req)) == NULL)
		return;
	ipc_request(p->req, body, 2.0, asked, req);
	json_decref(body);
}

static void
h_publish(struct http_req *req, void *arg)
{
	struct probe *p = arg;
	const char *topic = http_req_query(req, "topic");
	json_t *body;

	if (p->pub == NULL || topic == NULL) {
		http_reply_error(req, 400, "need --pub and ?topic=");
		return;
	}
	if ((body = http_req_json(req)) == NULL)
		return;
	ipc_publish(p->pub, topic, body);
	json_decref(body);
	http_reply_empty(req, 204);
}

static void
on_ipc_event(const char *topic, json_t *msg, void *arg)
{
	struct probe *p = arg;

	json_array_append_new(p->events, json_pack("{s:s, s:O}", "topic", topic,
	    "msg", msg));
}

static void
h_events(struct http_req *req, void *arg)
{
	struct probe *p = arg;

	http_reply_json(req, 200, json_pack("{s:O}", "events", p->events));
}

/* --- store and lease --- */

static void
stored(const struct store_result *res, void *arg)
{
	struct http_req *req = arg;

	if (res->code != STORE_OK)
		http_reply_error(req, 503, "store: %s", res->err.msg);
	else
		http_reply_json(req, 201, json_pack("{s:I}", "changes",
		    (json_int_t)res->changes));
}

/* PUT /kv/{key} body = value; with ?fenced=1 only while holding the lease */
static void
h_kv_put(struct http_req *req, void *arg)
{
	struct probe *p = arg;
	size_t len;
	const char *body = http_req_body(req, &len);
	struct store_val v[2] = { SV_TEXT(http_req_param(req, "key")),
		SV_TEXT(body) };
	struct store_tx *tx = store_tx_new();

	if (http_req_query(req, "fenced")) {
		if (p->lease == NULL || !lease_is_leader(p->lease)) {
			store_tx_free(tx);
			http_reply_error(req, 409, "not the lease holder");
			return;
		}
		lease_guard(p->lease, tx);
	}
	store_tx_add(tx, "INSERT OR REPLACE INTO probe_kv (k, v) VALUES (?, ?)",
	    v, 2);
	store_tx_submit(p->store, tx, stored, req);
}

/* POST /kv/{key} body = text appended to the value (created if missing):
 * not idempotent, so a write applied twice shows */
static void
h_kv_append(struct http_req *req, void *arg)
{
	struct probe *p = arg;
	size_t len;
	const char *body = http_req_body(req, &len);
	struct store_val v[2] = { SV_TEXT(http_req_param(req, "key")),
		SV_TEXT(body) };
	struct store_tx *tx = store_tx_new();

	store_tx_add(tx, "INSERT INTO probe_kv (k, v) VALUES (?, ?) ON "
	    "CONFLICT (k) DO UPDATE SET v = v || excluded.v", v, 2);
	store_tx_submit(p->store, tx, stored, req);
}

static void
got_value(const struct store_result *res, void *arg)
{
	struct http_req *req = arg;

	if (res->code != STORE_OK)
		http_reply_error(req, 503, "store: %s", res->err.msg);
	else if (res->rows == NULL || res->rows->nrows == 0)
		http_reply_error(req, 404, "no such key");
	else
		http_reply_json(req, 200, json_pack("{s:s}", "value",
		    store_rows_text(res->rows, 0, 0)));
}

static void
h_kv_get(struct http_req *req, void *arg)
{
	struct probe *p = arg;
	struct store_val k = SV_TEXT(http_req_param(req, "key"));

	store_query_submit(p->store, "SELECT v FROM probe_kv WHERE k = ?", &k, 1,
	    got_value, req);
}

static void
h_lease(struct http_req *req, void *arg)
{
	struct probe *p = arg;

	if (p->lease == NULL) {
		http_reply_error(req, 409, "started without --lease_name");
		return;
	}
	http_reply_json(req, 200, json_pack("{s:b, s:I, s:s?, s:i}", "leader",
	    lease_is_leader(p->lease), "epoch", (json_int_t)lease_epoch(p->lease),
	    "current", lease_leader(p->lease), "changes", p->lease_changes));
}

static void
on_lease_change(struct lease *l, void *arg)
{
	struct probe *p = arg;

	p->lease_changes++;
}

static int
open_store(struct probe *p)
{
	const struct store_migration migrations[] = {
		{ 1, (const char *const[]){ "CREATE TABLE probe_kv (k TEXT PRIMARY "
		    "KEY, v TEXT NOT NULL)", NULL } },
	};
	struct store_err err;

	if ((p->store = store_open(p->f.store, &err)) == NULL ||
	    store_migrate(p->store, "probe", migrations, 1, &err) != STORE_OK ||
	    store_attach(p->store, p->base, &err) != STORE_OK) {
		log_error("store %s: %s", p->f.store, err.msg);
		return -1;
	}
	if (p->f.lease_name[0]) {
		char addr[128];
		struct lease_opts o = { .name = p->f.lease_name, .address = addr,
			.ttl = p->f.lease_ttl };

		snprintf(addr, sizeof(addr), "%s:%d", p->f.ip, p->f.port);
		p->lease = lease_start(p->store, p->base, &o, on_lease_change,
		    on_lease_change, NULL, p);
	}
	return 0;
}

static void
stop(void *arg)
{
	struct probe *p = arg;

	lease_stop(p->lease);
	p->lease = NULL;
	event_base_loopexit(p->base, NULL);
}

static int
setup(struct probe *p)
{
	char err[256];
	char url[128];
	struct http_server_opts o = { .max_body = (size_t)p->f.max_body };

	p->http = http_server_new(p->base, &o);
	http_server_route(p->http, "GET", "/health", h_health, p);
	http_server_route(p->http, "*", "/echo/{id*}/tasks/{task}", h_echo, p);
	http_server_route(p->http, "GET", "/echo/{id*}", h_echo, p);
	http_server_route(p->http, "POST", "/validate", h_validate, p);
	http_server_route(p->http, "GET", "/stream/{kind}", h_stream, p);
	http_server_route(p->http, "GET", "/streams", h_streams, p);
	http_server_route(p->http, "POST", "/fetch", h_fetch, p);
	http_server_route(p->http, "GET", "/follow", h_follow, p);
	http_server_route(p->http, "POST", "/ipc/ask", h_ask, p);
	http_server_route(p->http, "POST", "/ipc/publish", h_publish, p);
	http_server_route(p->http, "GET", "/ipc/events", h_events, p);
	http_server_route(p->http, "GET", "/lease", h_lease, p);
	if (http_server_listen(p->http, p->f.ip, p->f.port, err, sizeof(err))) {
		log_error("%s", err);
		return -1;
	}
	p->client = http_client_new(p->base);
	p->events = json_array();
	if (p->f.rep[0] && !(p->rep = ipc_rep_listen(p->base, p->f.rep,
	    on_ipc_request, p, err, sizeof(err))))
		goto fail;
	if (p->f.req[0] && !(p->req = ipc_req_dial(p->base, p->f.req, err,
	    sizeof(err))))
		goto fail;
	if (p->f.pub[0] && !(p->pub = ipc_pub_listen(p->base, p->f.pub, err,
	    sizeof(err))))
		goto fail;
	if (p->f.sub[0]) {
		if (!(p->sub = ipc_sub_dial(p->base, p->f.sub, on_ipc_event, p, err,
		    sizeof(err))))
			goto fail;
		ipc_subscribe(p->sub, "task.");
	}
	if (p->f.store[0]) {
		if (open_store(p) == -1)
			return -1;
		http_server_route(p->http, "PUT", "/kv/{key}", h_kv_put, p);
		http_server_route(p->http, "POST", "/kv/{key}", h_kv_append, p);
		http_server_route(p->http, "GET", "/kv/{key}", h_kv_get, p);
	}
	snprintf(url, sizeof(url), "http://%s:%d", p->f.ip,
	    http_server_port(p->http));
	log_info("probe serving on %s", url);
	return 0;
fail:
	log_error("%s", err);
	return -1;
}

int
main(int argc, char **argv)
{
	struct probe p = { 0 };
	const struct flag flags[] = {
		{ "ip", FLAG_STR, &p.f.ip, "127.0.0.1", "address to listen on" },
		{ "port", FLAG_PORT, &p.f.port, "0", "HTTP port (0: any)" },
		{ "rep", FLAG_STR, &p.f.rep, "", "nng REP listen url" },
		{ "req", FLAG_STR, &p.f.req, "", "nng REQ dial url" },
		{ "pub", FLAG_STR, &p.f.pub, "", "nng PUB listen url" },
		{ "sub", FLAG_STR, &p.f.sub, "", "nng SUB dial url (topic task.)" },
		{ "store", FLAG_STR, &p.f.store, "", "store url" },
		{ "lease_name", FLAG_STR, &p.f.lease_name, "", "lease to contend for" },
		{ "lease_ttl", FLAG_DURATION, &p.f.lease_ttl, "2secs", "lease ttl" },
		{ "max_body", FLAG_INT, &p.f.max_body, "1048576", "largest body" },
		{ "log_level", FLAG_STR, &p.f.log_level, "info", "log level" },
	};
	const struct flags_spec spec = { "libdcos-probe",
		"Exercises libdcos over HTTP, nng and the store (tests only).",
		"PROBE_", flags, sizeof(flags) / sizeof(flags[0]) };
	int level, rc = 1;

	flags_parse_or_exit(&spec, argc, argv);
	if ((level = log_level_parse(p.f.log_level)) < 0) {
		fprintf(stderr, "libdcos-probe: unknown --log_level '%s'\n",
		    p.f.log_level);
		return 2;
	}
	log_init("probe", (enum log_level)level);
	p.base = event_base_new();
	p.daemon = daemon_new(p.base, stop, &p);
	if (setup(&p) == 0) {
		daemon_ready(p.daemon, "serving");
		event_base_dispatch(p.base);
		rc = 0;
	}
	lease_stop(p.lease);
	ipc_close(p.rep);
	ipc_close(p.req);
	ipc_close(p.pub);
	ipc_close(p.sub);
	http_client_free(p.client);
	http_server_free(p.http);
	store_close(p.store);
	json_decref(p.events);
	daemon_free(p.daemon);
	event_base_free(p.base);
	return rc;
}

/*
 * http_client: outgoing HTTP from inside the event loop, on libcurl's multi
 * interface driven by libevent (one event per socket, one timer), so no
 * daemon blocks its loop on the network.
 *
 * A request calls its done function exactly once (unless cancelled), after
 * retrying transport errors and 502/503/504 answers `retries` times with
 * exponential backoff. A stream delivers body bytes as they arrive (feed
 * them to a RecordIO or SSE decoder from stream_decode.h) and ends with one
 * call to on_end. Cancelling is allowed from inside any callback.
 *
 * http_fetch is the blocking form, for the CLI, tools and tests.
 */
#ifndef DCOS_HTTP_CLIENT_H
#define DCOS_HTTP_CLIENT_H

#include <stddef.h>

struct event_base;
struct http_client;
struct http_call;

struct http_client_req {
	const char *method;          /* default GET, or POST with a body */
	const char *url;
	const char *body;            /* copied when the request starts */
	size_t body_len;
	const char *content_type;    /* e.g. "application/json" */
	const char *const *headers;  /* NULL-terminated "Name: value" */
	double timeout;              /* whole request, seconds; default 30.
	                                streams: connect timeout only */
	int retries;                 /* extra attempts; default 0 */
	double backoff;              /* first retry delay; default 0.1 s */
	int follow_redirects;
	int insecure;                /* HTTPS without certificate checks
	                                (health checks of tasks) */
	const char *unix_socket;     /* talk HTTP over this socket */
};

struct http_client_resp {
	long status;      /* 0 when no HTTP response arrived */
	char *body;       /* NUL-terminated; "" when none */
	size_t body_len;
	char *error;      /* NULL, or why the request failed */
	char *headers;    /* raw "Name: value\r\n" lines of the last response */
};

/* Value of a response header (case-insensitive), copied into buf; NULL if
 * absent. */
const char *http_client_resp_header(const struct http_client_resp *resp,
    const char *name, char *buf, size_t size);
void http_client_resp_free(struct http_client_resp *resp);

typedef void (*http_client_done_fn)(const struct http_client_resp *resp,
    void *arg);

struct http_client_stream_cbs {
	/* once, before the first body byte: status and headers, no body */
	void (*on_headers)(const struct http_client_resp *resp, void *arg);
	void (*on_data)(const char *data, size_t len, void *arg);
	/* once at the end: error set when the stream broke */
	void (*on_end)(const struct http_client_resp *resp, void *arg);
};

struct http_client *http_client_new(struct event_base *base);
/* Cancels every call in flight; no callbacks run. */
void http_client_free(struct http_client *c);

/* Returns a handle valid until the done callback returns or it is
 * cancelled. */
struct http_call *http_client_request(struct http_client *c,
    const struct http_client_req *req, http_client_done_fn done, void *arg);
struct http_call *http_client_stream(struct http_client *c,
    const struct http_client_req *req, const struct http_client_stream_cbs *cbs,
    void *arg);
void http_call_cancel(struct http_call *call);
size_t http_client_inflight(const struct http_client *c);

/* Blocking request. Returns 0 when an HTTP response arrived (any status),
 * -1 otherwise (resp->error says why). Caller frees resp. */
int http_fetch(const struct http_client_req *req, struct http_client_resp *resp);

#endif

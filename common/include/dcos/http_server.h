/*
 * http_server: the HTTP side of every daemon, on libevent's evhttp.
 *
 * Routes are method + pattern: "/v2/apps/{id*}/tasks" where "{name}" binds
 * one path segment and "{name*}" one or more (greedy, backtracking so the
 * literal tail still matches). The first registered route that matches wins;
 * a path that matches only under another method gets 405, nothing gets 404,
 * both as JSON {"message": "..."}. GET routes also answer HEAD.
 *
 * A handler replies before it returns, or keeps the request and replies
 * later (after a store write, say); a request is freed by its reply. If the
 * client went away meanwhile the reply is simply dropped.
 *
 * Streams (chunked, Server-Sent Events, Mesos RecordIO) write one HTTP chunk
 * per record or event and notice a client that went away. Each stream has
 * an output bound: a consumer that falls further behind is dropped rather
 * than buffered without limit.
 */
#ifndef DCOS_HTTP_SERVER_H
#define DCOS_HTTP_SERVER_H

#include <stddef.h>

#include <jansson.h>

struct event_base;
struct evhttp_request;
struct http_server;
struct http_req;
struct http_stream;

typedef void (*http_handler_fn)(struct http_req *req, void *arg);

struct http_server_opts {
	size_t max_body;         /* bytes; default 1 MiB; larger gets 413 */
	size_t max_headers;      /* bytes; default 64 KiB */
	int timeout_secs;        /* idle connection timeout; default 60 */
	size_t stream_max_queue; /* bytes queued per stream; default 4 MiB */
	const char *cors_origin; /* NULL: CORS off (the default) */
};

struct http_server *http_server_new(struct event_base *base,
    const struct http_server_opts *opts);
/* Closes listeners and open streams. */
void http_server_free(struct http_server *srv);

/* Each call adds a listener. Return 0, or -1 with the reason in err. */
int http_server_listen(struct http_server *srv, const char *ip, int port,
    char *err, size_t errlen);
int http_server_listen_unix(struct http_server *srv, const char *path,
    char *err, size_t errlen);
/* An already bound and listening socket (systemd socket activation). */
int http_server_listen_fd(struct http_server *srv, int fd, char *err,
    size_t errlen);
/* The port actually bound by the last listen (useful with port 0). */
int http_server_port(const struct http_server *srv);

/* method: "GET", "POST", ... or "*" for any. pattern is copied. */
void http_server_route(struct http_server *srv, const char *method,
    const char *pattern, http_handler_fn fn, void *arg);
/* Called for requests no route matched, instead of the 404/405 reply. */
void http_server_fallback(struct http_server *srv, http_handler_fn fn,
    void *arg);
/* Number of open streams (for health and metrics). */
size_t http_server_streams(const struct http_server *srv);

/* Request accessors; returned strings live as long as the request. */
const char *http_req_method(const struct http_req *req);
const char *http_req_path(const struct http_req *req);  /* decoded */
const char *http_req_uri(const struct http_req *req);   /* as sent */
const char *http_req_param(const struct http_req *req, const char *name);
const char *http_req_query(const struct http_req *req, const char *name);
/* All values of a repeated query key, up to max; returns the count. */
size_t http_req_query_all(const struct http_req *req, const char *name,
    const char **vals, size_t max);
const char *http_req_header(const struct http_req *req, const char *name);
/* The body, NUL-terminated; len may be NULL. */
const char *http_req_body(struct http_req *req, size_t *len);
/* The body as JSON. On failure replies 400 {"message": ...} and returns
 * NULL: the request is then finished. Returns a new reference. */
json_t *http_req_json(struct http_req *req);
/* "ip" of the client */
const char *http_req_peer(const struct http_req *req);
/* Adds a response header (before the reply). */
void http_req_add_header(struct http_req *req, const char *name,
    const char *value);
struct evhttp_request *http_req_ev(struct http_req *req);

/* Replies; each finishes and frees the request. */
void http_reply(struct http_req *req, int status, const char *content_type,
    const void *body, size_t len);
void http_reply_json(struct http_req *req, int status, json_t *body /* stolen */);
void http_reply_error(struct http_req *req, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void http_reply_empty(struct http_req *req, int status);
/* Replies with length bytes of the open file fd from offset, sent by the
 * kernel (sendfile) without copying it into memory; fd is consumed. */
void http_reply_file(struct http_req *req, int status,
    const char *content_type, int fd, long long offset, long long length);

enum http_stream_kind {
	HTTP_STREAM_CHUNKED,  /* raw chunks */
	HTTP_STREAM_SSE,      /* "event: x\ndata: y\n\n" */
	HTTP_STREAM_RECORDIO, /* "<length>\n<bytes>" */
};

/* Called once when the client goes away or is dropped as too slow; the
 * stream is freed right after it returns. Not called after http_stream_end. */
typedef void (*http_stream_closed_fn)(struct http_stream *s, void *arg);

/* Starts a streaming reply and consumes req. */
struct http_stream *http_stream_start(struct http_req *req, int status,
    const char *content_type, enum http_stream_kind kind,
    http_stream_closed_fn on_close, void *arg);
/* Each returns 0, or -1 when the stream was dropped (on_close has run and
 * the stream is freed: do not use it again). */
int http_stream_write(struct http_stream *s, const void *data, size_t len);
int http_stream_sse(struct http_stream *s, const char *event, const char *data);
int http_stream_record(struct http_stream *s, const void *data, size_t len);
int http_stream_record_json(struct http_stream *s, const json_t *v);
/* Ends the reply and frees the stream. */
void http_stream_end(struct http_stream *s);
void *http_stream_arg(const struct http_stream *s);

/* Pure route matching, exposed for unit tests: returns 1 on a match and
 * fills names/values (pointers into a copy in buf). */
int http_route_match(const char *pattern, const char *path, char *buf,
    size_t bufsize, const char **names, const char **values, int *nparams,
    int maxparams);

/* The reason phrase for a status code ("Not Found"). */
const char *http_status_reason(int status);

#endif

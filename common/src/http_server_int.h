/*
 * http_server_int: the structures shared by http_server.c (routing and
 * replies) and http_stream.c (streams). Not part of the public API.
 */
#ifndef DCOS_HTTP_SERVER_INT_H
#define DCOS_HTTP_SERVER_INT_H

#include <sys/queue.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "dcos/http_server.h"

#define MAX_PARAMS 8

struct route {
	char *method;
	char *pattern;
	http_handler_fn fn;
	void *arg;
	struct route *next;
};

struct http_server {
	struct event_base *base;
	struct evhttp *http;
	struct http_server_opts opts;
	struct route *routes, **routes_tail;
	http_handler_fn fallback;
	void *fallback_arg;
	struct http_stream *streams; /* open streams, to close on free */
	size_t nstreams;
	int port;
};

struct http_req {
	struct http_server *srv;
	struct evhttp_request *ev;
	const char *method;
	char *path;
	struct evkeyvalq query;
	char *body;
	size_t body_len;
	char params_buf[1024];
	const char *pnames[MAX_PARAMS], *pvalues[MAX_PARAMS];
	int nparams;
	char peer[64];
};

struct http_stream {
	struct http_server *srv;
	struct evhttp_request *ev;
	struct evhttp_connection *conn;
	enum http_stream_kind kind;
	http_stream_closed_fn on_close;
	void *arg;
	struct http_stream *prev, *next;
};

/* http_server.c */
/* frees the wrapper once a reply or a stream has taken the request */
void http_req_free(struct http_req *req);
/* the CORS headers, when the server has them on */
void http_add_cors(struct http_req *req);

/* http_stream.c */
/* drops the client (too slow, or the server is going away) */
void http_stream_drop(struct http_stream *s);

#endif

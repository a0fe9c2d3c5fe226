/*
 * http_server: routing and replies over evhttp (streams: http_stream.c).
 *
 * Ownership: a struct http_req wraps one evhttp_request from the moment the
 * generic callback sees it until a reply (or http_stream_start) consumes it.
 * evhttp keeps a request whose reply is pending even if the client has gone
 * (it detaches it from the connection), and frees it when we reply, so a
 * late reply is always safe.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <sys/queue.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>

#include "dcos/http_server.h"
#include "dcos/json.h"
#include "dcos/log.h"
#include "http_server_int.h"

static const char *
method_name(enum evhttp_cmd_type cmd)
{
	switch (cmd) {
	case EVHTTP_REQ_GET: return "GET";
	case EVHTTP_REQ_POST: return "POST";
	case EVHTTP_REQ_HEAD: return "HEAD";
	case EVHTTP_REQ_PUT: return "PUT";
	case EVHTTP_REQ_DELETE: return "DELETE";
	case EVHTTP_REQ_OPTIONS: return "OPTIONS";
	case EVHTTP_REQ_TRACE: return "TRACE";
	case EVHTTP_REQ_CONNECT: return "CONNECT";
	case EVHTTP_REQ_PATCH: return "PATCH";
	}
	return "UNKNOWN";
}

void
http_req_free(struct http_req *req)
{
	evhttp_clear_headers(&req->query);
	free(req->path);
	free(req->body);
	free(req);
}

void
http_add_cors(struct http_req *req)
{
	struct evkeyvalq *out = evhttp_request_get_output_headers(req->ev);

	if (req->srv->opts.cors_origin == NULL)
		return;
	evhttp_add_header(out, "Access-Control-Allow-Origin",
	    req->srv->opts.cors_origin);
	evhttp_add_header(out, "Access-Control-Allow-Methods",
	    "GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS");
	evhttp_add_header(out, "Access-Control-Allow-Headers",
	    "Content-Type, Accept, Authorization, Mesos-Stream-Id");
}

void
http_reply(struct http_req *req, int status, const char *content_type,
    const void *body, size_t len)
{
	struct evbuffer *buf = evbuffer_new();

	if (content_type)
		evhttp_add_header(evhttp_request_get_output_headers(req->ev),
		    "Content-Type", content_type);
	http_add_cors(req);
	if (len)
		evbuffer_add(buf, body, len);
	evhttp_send_reply(req->ev, status, http_status_reason(status), buf);
	evbuffer_free(buf);
	http_req_free(req);
}

void
http_reply_file(struct http_req *req, int status, const char *content_type,
    int fd, long long offset, long long length)
{
	struct evbuffer *buf = evbuffer_new();

	if (content_type)
		evhttp_add_header(evhttp_request_get_output_headers(req->ev),
		    "Content-Type", content_type);
	http_add_cors(req);
	if (length > 0) {
		if (evbuffer_add_file(buf, fd, (ev_off_t)offset,
		    (ev_off_t)length) == -1)
			close(fd);
	} else {
		close(fd);
	}
	evhttp_send_reply(req->ev, status, http_status_reason(status), buf);
	evbuffer_free(buf);
	http_req_free(req);
}

void
http_reply_empty(struct http_req *req, int status)
{
	http_reply(req, status, NULL, NULL, 0);
}

void
http_reply_json(struct http_req *req, int status, json_t *body)
{
	char *text = json_compact(body);

	json_decref(body);
	if (text == NULL)
		abort();
	http_reply(req, status, "application/json", text, strlen(text));
	free(text);
}

void
http_reply_error(struct http_req *req, int status, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* messages quote what clients sent (paths, ids, values): JSON takes
	 * only UTF-8, and json_pack would fail (and the reply abort) */
	json_utf8_repair(msg);
	http_reply_json(req, status, json_pack("{s:s}", "message", msg));
}

const char *
http_req_method(const struct http_req *req)
{
	return req->method;
}

const char *
http_req_path(const struct http_req *req)
{
	return req->path;
}

const char *
http_req_uri(const struct http_req *req)
{
	return evhttp_request_get_uri(req->ev);
}

const char *
http_req_param(const struct http_req *req, const char *name)
{
	for (int i = 0; i < req->nparams; i++)
		if (strcmp(req->pnames[i], name) == 0)
			return req->pvalues[i];
	return NULL;
}

const char *
http_req_query(const struct http_req *req, const char *name)
{
	return evhttp_find_header(&req->query, name);
}

size_t
http_req_query_all(const struct http_req *req, const char *name,
    const char **vals, size_t max)
{
	struct evkeyval *kv;
	size_t n = 0;

	TAILQ_FOREACH(kv, &req->query, next)
		if (n < max && strcmp(kv->key, name) == 0)
			vals[n++] = kv->value;
	return n;
}

const char *
http_req_header(const struct http_req *req, const char *name)
{
	return evhttp_find_header(evhttp_request_get_input_headers(req->ev),
	    name);
}

const char *
http_req_body(struct http_req *req, size_t *len)
{
	if (req->body == NULL) {
		struct evbuffer *in = evhttp_request_get_input_buffer(req->ev);

		req->body_len = evbuffer_get_length(in);
		req->body = malloc(req->body_len + 1);
		if (req->body == NULL)
			abort();
		evbuffer_copyout(in, req->body, req->body_len);
		req->body[req->body_len] = '\0';
	}
	if (len)
		*len = req->body_len;
	return req->body;
}

json_t *
http_req_json(struct http_req *req)
{
	struct json_errs errs;
	size_t len;
	const char *body = http_req_body(req, &len);
	json_t *v;
	char msg[600];

	json_errs_init(&errs);
	v = json_parse(body, len, &errs);
	if (v == NULL)
		http_reply_error(req, 400, "%s",
		    json_errs_first(&errs, msg, sizeof(msg)));
	json_errs_free(&errs);
	return v;
}

const char *
http_req_peer(const struct http_req *req)
{
	return req->peer;
}

void
http_req_add_header(struct http_req *req, const char *name, const char *value)
{
	evhttp_add_header(evhttp_request_get_output_headers(req->ev), name,
	    value);
}

struct evhttp_request *
http_req_ev(struct http_req *req)
{
	return req->ev;
}

static int
method_matches(const char *route, const char *method)
{
	return strcmp(route, "*") == 0 || strcmp(route, method) == 0 ||
	    (strcmp(method, "HEAD") == 0 && strcmp(route, "GET") == 0);
}

/* decoded: valid UTF-8; raw (as sent): no "%00" that decoding cut at */
static int
text_ok(const char *decoded, const char *raw)
{
	return json_utf8_valid(decoded, strlen(decoded)) &&
	    (raw == NULL || strstr(raw, "%00") == NULL);
}

static int
query_ok(const struct evkeyvalq *query, const char *raw)
{
	struct evkeyval *kv;

	TAILQ_FOREACH(kv, query, next)
		if (!text_ok(kv->key, NULL) || !text_ok(kv->value, NULL))
			return 0;
	return text_ok("", raw);
}

static void
on_request(struct evhttp_request *ev, void *arg)
{
	struct http_server *srv = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(ev);
	struct evhttp_connection *conn = evhttp_request_get_connection(ev);
	struct http_req *req = calloc(1, sizeof(*req));
	const char *raw_path = uri ? evhttp_uri_get_path(uri) : NULL;
	const char *raw_query = uri ? evhttp_uri_get_query(uri) : NULL;
	int path_matched = 0;
	char *peer_host = NULL;
	ev_uint16_t peer_port;

	if (req == NULL)
		abort();
	req->srv = srv;
	req->ev = ev;
	req->method = method_name(evhttp_request_get_command(ev));
	TAILQ_INIT(&req->query);
	req->path = evhttp_uridecode(raw_path && raw_path[0] ? raw_path : "/",
	    0, NULL);
	if (conn) {
		struct bufferevent *bev = evhttp_connection_get_bufferevent(conn);
		int one = 1;

		evhttp_connection_get_peer(conn, &peer_host, &peer_port);
		snprintf(req->peer, sizeof(req->peer), "%s",
		    peer_host ? peer_host : "");
		/* a reply goes out as headers then body: without TCP_NODELAY the
		 * body's last segment waits for the client's delayed ACK (40 ms
		 * per keep-alive request) */
		if (bev && bufferevent_getfd(bev) >= 0)
			setsockopt(bufferevent_getfd(bev), IPPROTO_TCP, TCP_NODELAY,
			    &one, sizeof(one));
	}
	if (req->path == NULL)
		abort();
	/* handlers put path parameters and query values into JSON replies
	 * and store rows: they are text, so UTF-8 without NUL bytes */
	if (!text_ok(req->path, raw_path)) {
		http_reply_error(req, 400, "malformed path: not UTF-8 text");
		return;
	}
	if (raw_query && (evhttp_parse_query_str(raw_query, &req->query) == -1 ||
	    !query_ok(&req->query, raw_query))) {
		http_reply_error(req, 400, "malformed query string");
		return;
	}
	if (srv->opts.cors_origin && strcmp(req->method, "OPTIONS") == 0) {
		http_reply_empty(req, 204);
		return;
	}

	for (struct route *r = srv->routes; r; r = r->next) {
		if (!http_route_match(r->pattern, req->path, req->params_buf,
		    sizeof(req->params_buf), req->pnames, req->pvalues,
		    &req->nparams, MAX_PARAMS))
			continue;
		if (!method_matches(r->method, req->method)) {
			path_matched = 1;
			continue;
		}
		r->fn(req, r->arg);
		return;
	}
	req->nparams = 0;
	if (srv->fallback) {
		srv->fallback(req, srv->fallback_arg);
		return;
	}
	if (path_matched)
		http_reply_error(req, 405, "method %s not allowed on %s",
		    req->method, req->path);
	else
		http_reply_error(req, 404, "no such endpoint: %s", req->path);
}

struct http_server *
http_server_new(struct event_base *base, const struct http_server_opts *opts)
{
	struct http_server *srv = calloc(1, sizeof(*srv));

	if (srv == NULL)
		abort();
	srv->base = base;
	if (opts)
		srv->opts = *opts;
	if (srv->opts.max_body == 0)
		srv->opts.max_body = 1 << 20;
	if (srv->opts.max_headers == 0)
		srv->opts.max_headers = 64 << 10;
	if (srv->opts.timeout_secs == 0)
		srv->opts.timeout_secs = 60;
	if (srv->opts.stream_max_queue == 0)
		srv->opts.stream_max_queue = 4 << 20;
	srv->routes_tail = &srv->routes;
	srv->http = evhttp_new(base);
	if (srv->http == NULL)
		abort();
	evhttp_set_max_body_size(srv->http, (ev_ssize_t)srv->opts.max_body);
	evhttp_set_max_headers_size(srv->http,
	    (ev_ssize_t)srv->opts.max_headers);
	evhttp_set_timeout(srv->http, srv->opts.timeout_secs);
	evhttp_set_allowed_methods(srv->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
	    EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
	evhttp_set_gencb(srv->http, on_request, srv);
	return srv;
}

void
http_server_free(struct http_server *srv)
{
	struct route *r, *next;

	if (srv == NULL)
		return;
	while (srv->streams)
		http_stream_drop(srv->streams);
	evhttp_free(srv->http);
	for (r = srv->routes; r; r = next) {
		next = r->next;
		free(r->method);
		free(r->pattern);
		free(r);
	}
	free(srv);
}

int
http_server_listen(struct http_server *srv, const char *ip, int port,
    char *err, size_t errlen)
{
	struct evhttp_bound_socket *bs;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	bs = evhttp_bind_socket_with_handle(srv->http, ip, (ev_uint16_t)port);
	if (bs == NULL) {
		snprintf(err, errlen, "cannot listen on %s:%d: %s", ip, port,
		    strerror(errno));
		return -1;
	}
	if (getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&ss,
	    &sl) == 0) {
		if (ss.ss_family == AF_INET)
			srv->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
		else if (ss.ss_family == AF_INET6)
			srv->port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	}
	return 0;
}

int
http_server_listen_fd(struct http_server *srv, int fd, char *err,
    size_t errlen)
{
	evutil_make_socket_nonblocking(fd);
	if (evhttp_accept_socket(srv->http, fd) == -1) {
		snprintf(err, errlen, "cannot accept on fd %d", fd);
		return -1;
	}
	return 0;
}

int
http_server_listen_unix(struct http_server *srv, const char *path, char *err,
    size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "socket path too long: %s", path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    listen(fd, 128) == -1) {
		snprintf(err, errlen, "cannot listen on %s: %s", path,
		    strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	return http_server_listen_fd(srv, fd, err, errlen);
}

int
http_server_port(const struct http_server *srv)
{
	return srv->port;
}

void
http_server_route(struct http_server *srv, const char *method,
    const char *pattern, http_handler_fn fn, void *arg)
{
	struct route *r = calloc(1, sizeof(*r));

	if (r == NULL || (r->method = strdup(method)) == NULL ||
	    (r->pattern = strdup(pattern)) == NULL)
		abort();
	r->fn = fn;
	r->arg = arg;
	*srv->routes_tail = r;
	srv->routes_tail = &r->next;
}

void
http_server_fallback(struct http_server *srv, http_handler_fn fn, void *arg)
{
	srv->fallback = fn;
	srv->fallback_arg = arg;
}

size_t
http_server_streams(const struct http_server *srv)
{
	return srv->nstreams;
}

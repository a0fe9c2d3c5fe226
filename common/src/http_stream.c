/*
 * http_stream: long-lived replies (chunked, Server-Sent Events, Mesos
 * RecordIO) of the http_server: one chunk per record, the client's going
 * away noticed through the connection's close callback, a slow consumer
 * dropped when its output passes the server's bound.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>

#include "dcos/http_server.h"
#include "dcos/json.h"
#include "dcos/log.h"
#include "http_server_int.h"

static void
stream_unlink(struct http_stream *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		s->srv->streams = s->next;
	if (s->next)
		s->next->prev = s->prev;
	s->srv->nstreams--;
	if (s->conn)
		evhttp_connection_set_closecb(s->conn, NULL, NULL);
}

/* The client went away: evhttp is freeing the connection and has detached
 * our request, which we still own and free with reply_end. */
static void
on_stream_conn_close(struct evhttp_connection *conn, void *arg)
{
	struct http_stream *s = arg;

	s->conn = NULL;
	stream_unlink(s);
	if (s->on_close)
		s->on_close(s, s->arg);
	evhttp_send_reply_end(s->ev);
	free(s);
}

/* We drop the client (too slow, or the server is going away). */
void
http_stream_drop(struct http_stream *s)
{
	struct evhttp_connection *conn = s->conn;

	stream_unlink(s);
	if (s->on_close)
		s->on_close(s, s->arg);
	/* freeing the connection frees the request still attached to it */
	if (conn)
		evhttp_connection_free(conn);
	else
		evhttp_send_reply_end(s->ev);
	free(s);
}

struct http_stream *
http_stream_start(struct http_req *req, int status, const char *content_type,
    enum http_stream_kind kind, http_stream_closed_fn on_close, void *arg)
{
	struct http_stream *s = calloc(1, sizeof(*s));
	struct evkeyvalq *out = evhttp_request_get_output_headers(req->ev);

	if (s == NULL)
		abort();
	s->srv = req->srv;
	s->ev = req->ev;
	s->conn = evhttp_request_get_connection(req->ev);
	s->kind = kind;
	s->on_close = on_close;
	s->arg = arg;
	if (content_type)
		evhttp_add_header(out, "Content-Type", content_type);
	if (kind == HTTP_STREAM_SSE)
		evhttp_add_header(out, "Cache-Control", "no-cache");
	http_add_cors(req);
	s->next = s->srv->streams;
	if (s->next)
		s->next->prev = s;
	s->srv->streams = s;
	s->srv->nstreams++;
	if (s->conn) {
		/* streams live long: no idle timeout, only the output bound */
		evhttp_connection_set_timeout(s->conn, 7 * 86400);
		evhttp_connection_set_closecb(s->conn, on_stream_conn_close, s);
	}
	evhttp_send_reply_start(req->ev, status, http_status_reason(status));
	http_req_free(req);
	return s;
}

int
http_stream_write(struct http_stream *s, const void *data, size_t len)
{
	struct evbuffer *buf;
	struct bufferevent *bev;

	if (s->conn == NULL) {
		http_stream_drop(s);
		return -1;
	}
	bev = evhttp_connection_get_bufferevent(s->conn);
	if (bev && evbuffer_get_length(bufferevent_get_output(bev)) >
	    s->srv->opts.stream_max_queue) {
		log_warn("dropping slow stream consumer %s: more than %zu bytes "
			 "queued", evhttp_request_get_uri(s->ev),
		    s->srv->opts.stream_max_queue);
		http_stream_drop(s);
		return -1;
	}
	buf = evbuffer_new();
	evbuffer_add(buf, data, len);
	evhttp_send_reply_chunk(s->ev, buf);
	evbuffer_free(buf);
	return 0;
}

int
http_stream_sse(struct http_stream *s, const char *event, const char *data)
{
	struct evbuffer *tmp = evbuffer_new();
	size_t len;
	int rc;

	if (event)
		evbuffer_add_printf(tmp, "event: %s\r\n", event);
	/* a multi-line payload is one data: field per line */
	while (data) {
		const char *nl = strchr(data, '\n');
		size_t n = nl ? (size_t)(nl - data) : strlen(data);

		evbuffer_add(tmp, "data: ", 6);
		evbuffer_add(tmp, data, n);
		evbuffer_add(tmp, "\r\n", 2);
		data = nl ? nl + 1 : NULL;
	}
	evbuffer_add(tmp, "\r\n", 2);
	len = evbuffer_get_length(tmp);
	rc = http_stream_write(s, evbuffer_pullup(tmp, -1), len);
	evbuffer_free(tmp);
	return rc;
}

int
http_stream_record(struct http_stream *s, const void *data, size_t len)
{
	char head[32];
	int n = snprintf(head, sizeof(head), "%zu\n", len);
	char *rec = malloc((size_t)n + len);
	int rc;

	if (rec == NULL)
		abort();
	memcpy(rec, head, (size_t)n);
	memcpy(rec + n, data, len);
	rc = http_stream_write(s, rec, (size_t)n + len);
	free(rec);
	return rc;
}

int
http_stream_record_json(struct http_stream *s, const json_t *v)
{
	char *text = json_compact(v);
	int rc;

	if (text == NULL)
		abort();
	rc = http_stream_record(s, text, strlen(text));
	free(text);
	return rc;
}

void
http_stream_end(struct http_stream *s)
{
	stream_unlink(s);
	evhttp_send_reply_end(s->ev);
	free(s);
}

void *
http_stream_arg(const struct http_stream *s)
{
	return s->arg;
}

/*
 * events: Marathon's event bus: GET /v2/events as Server-Sent Events.
 * Each subscriber may filter by event_type; each event is serialized once
 * and written as one "event: <type>" + "data: <json>" record. A slow
 * subscriber is dropped by the HTTP layer's output bound rather than
 * buffered without limit (Marathon PR #6657). A bare CRLF keep-alive goes
 * out every 10 s, as Jetty's EventSource servlet does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "dcos/http_server.h"
#include "dcos/log.h"

#include "marathon.h"

#define MAX_FILTERS 32
#define KEEPALIVE_SECS 10

struct subscriber {
	struct events *ev;
	struct http_stream *s;
	char *filters[MAX_FILTERS];
	size_t nfilters;
	bool light;
	char remote[64];
	struct subscriber *prev, *next;
};

struct events {
	struct marathon *m;
	struct subscriber *subs;
	size_t n;
	struct event *keepalive;
};

static void
sub_free(struct subscriber *sub)
{
	struct events *ev = sub->ev;

	if (sub->prev)
		sub->prev->next = sub->next;
	else
		ev->subs = sub->next;
	if (sub->next)
		sub->next->prev = sub->prev;
	ev->n--;
	for (size_t i = 0; i < sub->nfilters; i++)
		free(sub->filters[i]);
	free(sub);
}

static void
on_closed(struct http_stream *s, void *arg)
{
	struct subscriber *sub = arg;

	log_debug("event stream of %s closed", sub->remote);
	sub_free(sub);
}

static bool
wants(const struct subscriber *sub, const char *type)
{
	if (sub->nfilters == 0)
		return true;
	for (size_t i = 0; i < sub->nfilters; i++)
		if (strcmp(sub->filters[i], type) == 0)
			return true;
	return false;
}

static void
on_keepalive(evutil_socket_t fd, short what, void *arg)
{
	struct events *ev = arg;
	struct subscriber *sub, *next;

	for (sub = ev->subs; sub; sub = next) {
		next = sub->next;
		http_stream_write(sub->s, "\r\n", 2); /* may free sub */
	}
}

struct events *
events_new(struct marathon *m)
{
	struct events *ev = xcalloc(1, sizeof(*ev));
	struct timeval tv = { KEEPALIVE_SECS, 0 };

	ev->m = m;
	ev->keepalive = event_new(m->base, -1, EV_PERSIST, on_keepalive, ev);
	event_add(ev->keepalive, &tv);
	return ev;
}

void
events_close_all(struct events *ev)
{
	while (ev->subs) {
		struct subscriber *sub = ev->subs;
		struct http_stream *s = sub->s;

		sub_free(sub);
		http_stream_end(s);
	}
}

void
events_free(struct events *ev)
{
	if (ev == NULL)
		return;
	events_close_all(ev);
	event_free(ev->keepalive);
	free(ev);
}

size_t
events_subscribers(const struct events *ev)
{
	return ev->n;
}

static json_t *
stamp(const char *type, json_t *body)
{
	char ts[VERSION_LEN];

	json_object_set_new(body, "eventType", json_string(type));
	json_object_set_new(body, "timestamp",
	    json_string(util_iso8601(clock_wall(), ts)));
	return body;
}

void
events_publish(struct marathon *m, const char *type, json_t *body)
{
	struct events *ev = m->events;
	struct subscriber *sub, *next;
	char *text = NULL;

	if (ev == NULL || ev->n == 0) {
		json_decref(body);
		return;
	}
	stamp(type, body);
	for (sub = ev->subs; sub; sub = next) {
		next = sub->next;
		if (!wants(sub, type))
			continue;
		if (text == NULL && (text = json_compact(body)) == NULL)
			abort();
		http_stream_sse(sub->s, type, text); /* may free sub */
	}
	free(text);
	json_decref(body);
}

void
events_subscribe(struct marathon *m, struct http_req *req)
{
	struct events *ev = m->events;
	const char *accept = http_req_header(req, "Accept");
	const char *types[MAX_FILTERS];
	const char *fmt = http_req_query(req, "plan-format");
	struct subscriber *sub;
	size_t n;
	json_t *hello;
	char *text;

	if (accept == NULL || strstr(accept, "text/event-stream") == NULL) {
		static const char page[] = "<html><body><h2>405 Method Not "
		    "Allowed</h2><p>The event stream needs 'Accept: "
		    "text/event-stream'.</p></body></html>";

		http_reply(req, 405, "text/html", page, sizeof(page) - 1);
		return;
	}
	sub = xcalloc(1, sizeof(*sub));
	sub->ev = ev;
	n = http_req_query_all(req, "event_type", types, MAX_FILTERS);
	for (size_t i = 0; i < n; i++)
		sub->filters[sub->nfilters++] = xstrdup(types[i]);
	sub->light = fmt && strcmp(fmt, "light") == 0;
	snprintf(sub->remote, sizeof(sub->remote), "%s", http_req_peer(req));
	sub->next = ev->subs;
	if (sub->next)
		sub->next->prev = sub;
	ev->subs = sub;
	ev->n++;
	sub->s = http_stream_start(req, 200, "text/event-stream",
	    HTTP_STREAM_SSE, on_closed, sub);
	hello = stamp("event_stream_attached", json_pack("{s:s}",
	    "remoteAddress", sub->remote));
	if (wants(sub, "event_stream_attached")) {
		text = json_compact(hello);
		http_stream_sse(sub->s, "event_stream_attached", text);
		free(text);
	}
	json_decref(hello);
}

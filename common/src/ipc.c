/*
 * ipc: nng sockets in the libevent loop. See ipc.h for the model.
 *
 * Raw REQ: we put our own request id (high bit set, as nng's REQ does) in
 * the message header; the REP peer echoes the header back, so replies are
 * matched to calls by that id. Raw REP: the received header (the route
 * back to the requester) is kept and copied onto the reply.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <nng/nng.h>
#include <nng/protocol/pubsub0/pub.h>
#include <nng/protocol/pubsub0/sub.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>

#include "dcos/ids.h"
#include "dcos/ipc.h"
#include "dcos/json.h"
#include "dcos/log.h"

#define IPC_MAX_MSG (64u << 20)

enum ipc_kind { IPC_REP, IPC_REQ, IPC_PUB, IPC_SUB };

struct ipc_call {
	struct ipc *s;
	uint32_t id;
	nng_msg *unsent; /* waiting for the socket to accept it */
	struct event *timer;
	ipc_response_fn cb;
	void *arg;
	struct ipc_call *prev, *next;
};

struct ipc {
	struct event_base *base;
	enum ipc_kind kind;
	nng_socket sock;
	struct event *ev_recv, *ev_send;
	ipc_request_fn on_request;
	ipc_event_fn on_event;
	void *arg;
	struct ipc_call *calls; /* REQ: in flight, oldest last */
	uint32_t next_id;
	int npending;           /* REP: requests not yet answered */
	int closed;
};

struct ipc_pending {
	struct ipc *s;
	nng_msg *hdr; /* empty message holding the backtrace header */
	char peer[64];
};

char *
ipc_frame(const char *topic, const json_t *msg, size_t *len)
{
	char *json = json_compact(msg), *out;
	size_t tlen = strlen(topic), jlen;

	if (json == NULL)
		abort();
	jlen = strlen(json);
	out = malloc(tlen + 1 + jlen);
	if (out == NULL)
		abort();
	memcpy(out, topic, tlen);
	out[tlen] = '\n';
	memcpy(out + tlen + 1, json, jlen);
	free(json);
	*len = tlen + 1 + jlen;
	return out;
}

json_t *
ipc_unframe(const char *data, size_t len, char *topic, size_t size)
{
	const char *nl = memchr(data, '\n', len);
	size_t tlen;

	if (nl == NULL || (tlen = (size_t)(nl - data)) >= size)
		return NULL;
	memcpy(topic, data, tlen);
	topic[tlen] = '\0';
	return json_loadb(nl + 1, len - tlen - 1, JSON_DECODE_ANY, NULL);
}

static void
free_if_done(struct ipc *s)
{
	if (s->closed && s->npending == 0)
		free(s);
}

static void
call_free(struct ipc_call *call)
{
	struct ipc *s = call->s;

	if (call->prev)
		call->prev->next = call->next;
	else
		s->calls = call->next;
	if (call->next)
		call->next->prev = call->prev;
	if (call->unsent)
		nng_msg_free(call->unsent);
	event_free(call->timer);
	free(call);
}

static void
finish_call(struct ipc_call *call, json_t *reply, const char *err)
{
	ipc_response_fn cb = call->cb;
	void *arg = call->arg;

	call_free(call);
	if (cb)
		cb(reply, err, arg);
}

/* Sends queued REQ messages in order until the socket pushes back. */
static void
flush_unsent(struct ipc *s)
{
	struct ipc_call *call, *oldest = NULL;

	for (call = s->calls; call; call = call->next)
		oldest = call;
	for (call = oldest; call; call = call->prev) {
		int rv;

		if (call->unsent == NULL)
			continue;
		rv = nng_sendmsg(s->sock, call->unsent, NNG_FLAG_NONBLOCK);
		if (rv == NNG_EAGAIN)
			break;
		if (rv != 0) {
			finish_call(call, NULL, nng_strerror(rv));
			return; /* the list changed; the next send event retries */
		}
		call->unsent = NULL;
	}
	for (call = s->calls; call; call = call->next)
		if (call->unsent) {
			event_add(s->ev_send, NULL);
			return;
		}
	event_del(s->ev_send);
}

static void
on_send_ready(evutil_socket_t fd, short what, void *arg)
{
	flush_unsent(arg);
}

static void
handle_reply(struct ipc *s, nng_msg *msg)
{
	uint32_t id;
	struct ipc_call *call;
	json_t *reply;

	if (nng_msg_header_len(msg) < 4 || nng_msg_header_trim_u32(msg, &id))
		return;
	for (call = s->calls; call && call->id != id; call = call->next)
		;
	if (call == NULL)
		return; /* late reply to a call that timed out */
	reply = json_loadb(nng_msg_body(msg), nng_msg_len(msg), JSON_DECODE_ANY,
	    NULL);
	if (reply == NULL) {
		finish_call(call, NULL, "malformed reply (not JSON)");
		return;
	}
	finish_call(call, reply, NULL);
	json_decref(reply);
}

static void
handle_request(struct ipc *s, nng_msg *msg)
{
	struct ipc_pending *p = calloc(1, sizeof(*p));
	nng_pipe pipe = nng_msg_get_pipe(msg);
	nng_sockaddr sa;
	json_t *req;

	if (p == NULL || nng_msg_alloc(&p->hdr, 0) != 0)
		abort();
	p->s = s;
	nng_msg_header_append(p->hdr, nng_msg_header(msg),
	    nng_msg_header_len(msg));
	if (nng_pipe_get_addr(pipe, NNG_OPT_REMADDR, &sa) == 0 &&
	    sa.s_family == NNG_AF_INET) {
		uint8_t *a = (uint8_t *)&sa.s_in.sa_addr;

		snprintf(p->peer, sizeof(p->peer), "%u.%u.%u.%u:%u", a[0], a[1],
		    a[2], a[3], (unsigned)ntohs(sa.s_in.sa_port));
	}
	s->npending++;
	req = json_loadb(nng_msg_body(msg), nng_msg_len(msg), JSON_DECODE_ANY,
	    NULL);
	if (req == NULL || !json_is_object(req)) {
		log_warn("ipc: malformed request from %s (not a JSON object); "
			 "answering with an error", p->peer[0] ? p->peer : "peer");
		ipc_reply(p, json_pack("{s:s, s:s}", "type", "ERROR", "message",
		    "malformed request: expected a JSON object"));
		json_decref(req);
		return;
	}
	s->on_request(p, req, s->arg);
	json_decref(req);
}

static void
handle_event(struct ipc *s, nng_msg *msg)
{
	char topic[256];
	json_t *ev = ipc_unframe(nng_msg_body(msg), nng_msg_len(msg), topic,
	    sizeof(topic));

	if (ev == NULL) {
		log_warn("ipc: dropping malformed event (%zu bytes)",
		    nng_msg_len(msg));
		return;
	}
	s->on_event(topic, ev, s->arg);
	json_decref(ev);
}

static void
on_recv_ready(evutil_socket_t fd, short what, void *arg)
{
	struct ipc *s = arg;
	nng_msg *msg;

	while (!s->closed && nng_recvmsg(s->sock, &msg, NNG_FLAG_NONBLOCK) == 0) {
		switch (s->kind) {
		case IPC_REQ: handle_reply(s, msg); break;
		case IPC_REP: handle_request(s, msg); break;
		case IPC_SUB: handle_event(s, msg); break;
		case IPC_PUB: break;
		}
		nng_msg_free(msg);
	}
}

static struct ipc *
ipc_open(struct event_base *base, enum ipc_kind kind, const char *url,
    int listen, char *err, size_t errlen)
{
	struct ipc *s = calloc(1, sizeof(*s));
	int rv, fd;

	if (s == NULL)
		abort();
	s->base = base;
	s->kind = kind;
	ids_random_bytes(&s->next_id, sizeof(s->next_id));
	switch (kind) {
	case IPC_REP: rv = nng_rep0_open_raw(&s->sock); break;
	case IPC_REQ: rv = nng_req0_open_raw(&s->sock); break;
	case IPC_PUB: rv = nng_pub0_open(&s->sock); break;
	default: rv = nng_sub0_open(&s->sock); break;
	}
	if (rv != 0) {
		snprintf(err, errlen, "cannot open nng socket: %s", nng_strerror(rv));
		free(s);
		return NULL;
	}
	nng_socket_set_size(s->sock, NNG_OPT_RECVMAXSZ, IPC_MAX_MSG);
	nng_socket_set_int(s->sock, NNG_OPT_SENDBUF, 1024);
	nng_socket_set_int(s->sock, NNG_OPT_RECVBUF, 1024);
	nng_socket_set_ms(s->sock, NNG_OPT_RECONNMINT, 50);
	nng_socket_set_ms(s->sock, NNG_OPT_RECONNMAXT, 1000);
	rv = listen ? nng_listen(s->sock, url, NULL, 0) :
	    nng_dial(s->sock, url, NULL, NNG_FLAG_NONBLOCK);
	if (rv != 0) {
		snprintf(err, errlen, "cannot %s %s: %s", listen ? "listen on" :
		    "dial", url, nng_strerror(rv));
		nng_close(s->sock);
		free(s);
		return NULL;
	}
	if (kind != IPC_PUB) {
		nng_socket_get_int(s->sock, NNG_OPT_RECVFD, &fd);
		s->ev_recv = event_new(base, fd, EV_READ | EV_PERSIST,
		    on_recv_ready, s);
		event_add(s->ev_recv, NULL);
	}
	if (kind == IPC_REQ) {
		nng_socket_get_int(s->sock, NNG_OPT_SENDFD, &fd);
		s->ev_send = event_new(base, fd, EV_READ | EV_PERSIST,
		    on_send_ready, s);
	}
	return s;
}

struct ipc *
ipc_rep_listen(struct event_base *base, const char *url, ipc_request_fn fn,
    void *arg, char *err, size_t errlen)
{
	struct ipc *s = ipc_open(base, IPC_REP, url, 1, err, errlen);

	if (s) {
		s->on_request = fn;
		s->arg = arg;
	}
	return s;
}

void
ipc_reply(struct ipc_pending *p, json_t *reply)
{
	struct ipc *s = p->s;
	char *text = json_compact(reply);
	int rv;

	json_decref(reply);
	if (text == NULL)
		abort();
	if (!s->closed) {
		nng_msg_append(p->hdr, text, strlen(text));
		rv = nng_sendmsg(s->sock, p->hdr, NNG_FLAG_NONBLOCK);
		if (rv == 0)
			p->hdr = NULL; /* nng owns it now */
		else
			log_warn("ipc: reply to %s dropped: %s", p->peer,
			    nng_strerror(rv));
	}
	if (p->hdr)
		nng_msg_free(p->hdr);
	free(text);
	free(p);
	s->npending--;
	free_if_done(s);
}

const char *
ipc_pending_peer(const struct ipc_pending *p)
{
	return p->peer;
}

struct ipc *
ipc_req_dial(struct event_base *base, const char *url, char *err,
    size_t errlen)
{
	return ipc_open(base, IPC_REQ, url, 0, err, errlen);
}

static void
on_call_timeout(evutil_socket_t fd, short what, void *arg)
{
	finish_call(arg, NULL, "timed out waiting for a reply");
}

struct ipc_call *
ipc_request(struct ipc *s, const json_t *msg, double timeout,
    ipc_response_fn cb, void *arg)
{
	struct ipc_call *call = calloc(1, sizeof(*call));
	struct timeval tv = { (time_t)timeout,
		(suseconds_t)((timeout - (long)timeout) * 1e6) };
	char *text = json_compact(msg);

	if (call == NULL || text == NULL || nng_msg_alloc(&call->unsent, 0))
		abort();
	call->s = s;
	call->cb = cb;
	call->arg = arg;
	call->id = (s->next_id++ & 0x7fffffffu) | 0x80000000u;
	nng_msg_header_append_u32(call->unsent, call->id);
	nng_msg_append(call->unsent, text, strlen(text));
	free(text);
	call->timer = evtimer_new(s->base, on_call_timeout, call);
	evtimer_add(call->timer, &tv);
	call->next = s->calls;
	if (call->next)
		call->next->prev = call;
	s->calls = call;
	flush_unsent(s);
	return call;
}

void
ipc_call_cancel(struct ipc_call *call)
{
	call_free(call);
}

struct ipc *
ipc_pub_listen(struct event_base *base, const char *url, char *err,
    size_t errlen)
{
	return ipc_open(base, IPC_PUB, url, 1, err, errlen);
}

int
ipc_publish(struct ipc *s, const char *topic, const json_t *msg)
{
	size_t len;
	char *data = ipc_frame(topic, msg, &len);
	int rv = nng_send(s->sock, data, len, NNG_FLAG_NONBLOCK);

	free(data);
	return rv == 0 ? 0 : -1;
}

struct ipc *
ipc_sub_dial(struct event_base *base, const char *url, ipc_event_fn fn,
    void *arg, char *err, size_t errlen)
{
	struct ipc *s = ipc_open(base, IPC_SUB, url, 0, err, errlen);

	if (s) {
		s->on_event = fn;
		s->arg = arg;
	}
	return s;
}

int
ipc_subscribe(struct ipc *s, const char *topic_prefix)
{
	return nng_socket_set(s->sock, NNG_OPT_SUB_SUBSCRIBE, topic_prefix,
	    strlen(topic_prefix)) == 0 ? 0 : -1;
}

void
ipc_close(struct ipc *s)
{
	if (s == NULL)
		return;
	while (s->calls)
		call_free(s->calls);
	if (s->ev_recv)
		event_free(s->ev_recv);
	if (s->ev_send)
		event_free(s->ev_send);
	nng_close(s->sock);
	s->closed = 1;
	free_if_done(s);
}

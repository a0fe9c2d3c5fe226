/*
 * ipc: nng sockets in the libevent loop. See ipc.h for the model.
 *
 * REQ (raw): we put our own request id (high bit set, as nng's REQ does)
 * in the message header; the REP peer echoes it back, so replies are
 * matched to calls by that id through a hash of the calls in flight (ten
 * thousand outstanding requests cost no more per reply than one). Calls
 * the socket has not yet accepted wait in a FIFO and go out, in order, when
 * its send descriptor signals. REP lives in ipc_rep.c.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <unistd.h>

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
#include "ipc_int.h"

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

/* --- REQ: calls by id --- */

static void
bucket_insert(struct ipc *s, struct ipc_call *call)
{
	size_t b;

	if (s->ncalls + 1 > s->nbuckets) {
		size_t n = s->nbuckets ? s->nbuckets * 2 : 64;
		struct ipc_call **nb = calloc(n, sizeof(*nb));

		if (nb == NULL)
			abort();
		for (size_t i = 0; i < s->nbuckets; i++) {
			struct ipc_call *c = s->buckets[i], *next;

			for (; c; c = next) {
				next = c->hnext;
				c->hnext = nb[c->id & (n - 1)];
				nb[c->id & (n - 1)] = c;
			}
		}
		free(s->buckets);
		s->buckets = nb;
		s->nbuckets = n;
	}
	b = call->id & (s->nbuckets - 1);
	call->hnext = s->buckets[b];
	s->buckets[b] = call;
	s->ncalls++;
}

static struct ipc_call *
bucket_find(const struct ipc *s, uint32_t id)
{
	struct ipc_call *c;

	if (s->nbuckets == 0)
		return NULL;
	for (c = s->buckets[id & (s->nbuckets - 1)]; c && c->id != id;
	    c = c->hnext)
		;
	return c;
}

static void
bucket_remove(struct ipc *s, struct ipc_call *call)
{
	struct ipc_call **pp = &s->buckets[call->id & (s->nbuckets - 1)];

	while (*pp && *pp != call)
		pp = &(*pp)->hnext;
	if (*pp) {
		*pp = call->hnext;
		s->ncalls--;
	}
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
	bucket_remove(s, call);
	if (call->unsent) {
		TAILQ_REMOVE(&s->unsent, call, q);
		nng_msg_free(call->unsent);
	}
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

/* Sends queued requests in order until the socket pushes back. */
static void
flush_unsent(struct ipc *s)
{
	struct ipc_call *call;

	while ((call = TAILQ_FIRST(&s->unsent)) != NULL) {
		int rv = nng_sendmsg(s->sock, call->unsent, NNG_FLAG_NONBLOCK);

		if (rv == NNG_EAGAIN)
			break;
		if (rv != 0) {
			/* the rest go on the next send event; the callback may
			 * close the socket, so nothing touches s after it */
			event_add(s->ev_send, NULL);
			finish_call(call, NULL, nng_strerror(rv));
			return;
		}
		TAILQ_REMOVE(&s->unsent, call, q);
		call->unsent = NULL;
	}
	if (!TAILQ_EMPTY(&s->unsent))
		event_add(s->ev_send, NULL);
	else
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
	if ((call = bucket_find(s, id)) == NULL)
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

/* REQ replies and SUB events */
static void
on_recv_ready(evutil_socket_t fd, short what, void *arg)
{
	struct ipc *s = arg;
	nng_msg *msg;

	while (!s->closed && nng_recvmsg(s->sock, &msg, NNG_FLAG_NONBLOCK) == 0) {
		if (s->kind == IPC_REQ)
			handle_reply(s, msg);
		else
			handle_event(s, msg);
		nng_msg_free(msg);
	}
}

/* --- sockets --- */

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
	s->efd = -1;
	TAILQ_INIT(&s->unsent);
	ids_random_bytes(&s->next_id, sizeof(s->next_id));
	switch (kind) {
	case IPC_REP: rv = nng_rep0_open(&s->sock); break;
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
	if (kind == IPC_REP && ipc_rep_setup(s, err, errlen) == -1)
		goto fail;
	rv = listen ? nng_listen(s->sock, url, NULL, 0) :
	    nng_dial(s->sock, url, NULL, NNG_FLAG_NONBLOCK);
	if (rv != 0) {
		snprintf(err, errlen, "cannot %s %s: %s", listen ? "listen on" :
		    "dial", url, nng_strerror(rv));
		goto fail;
	}
	if (kind == IPC_REQ || kind == IPC_SUB) {
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
fail:
	s->closed = 1;
	ipc_close(s);
	return NULL;
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
ipc_request_text(struct ipc *s, const char *text, size_t len, double timeout,
    ipc_response_fn cb, void *arg)
{
	struct ipc_call *call = calloc(1, sizeof(*call));
	struct timeval tv = { (time_t)timeout,
		(suseconds_t)((timeout - (long)timeout) * 1e6) };

	if (call == NULL || nng_msg_alloc(&call->unsent, 0))
		abort();
	call->s = s;
	call->cb = cb;
	call->arg = arg;
	call->id = (s->next_id++ & 0x7fffffffu) | 0x80000000u;
	nng_msg_header_append_u32(call->unsent, call->id);
	nng_msg_append(call->unsent, text, len);
	call->timer = evtimer_new(s->base, on_call_timeout, call);
	evtimer_add(call->timer, &tv);
	call->next = s->calls;
	if (call->next)
		call->next->prev = call;
	s->calls = call;
	bucket_insert(s, call);
	TAILQ_INSERT_TAIL(&s->unsent, call, q);
	flush_unsent(s);
	return call;
}

struct ipc_call *
ipc_request(struct ipc *s, const json_t *msg, double timeout,
    ipc_response_fn cb, void *arg)
{
	char *text = json_compact(msg);
	struct ipc_call *call;

	if (text == NULL)
		abort();
	call = ipc_request_text(s, text, strlen(text), timeout, cb, arg);
	free(text);
	return call;
}

void
ipc_call_cancel(struct ipc_call *call)
{
	call_free(call);
}

/* nng thread: keep count of the subscribers connected to a PUB socket */
static void
on_pub_pipe(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	struct ipc *s = arg;

	if (ev == NNG_PIPE_EV_ADD_POST)
		atomic_fetch_add(&s->npipes, 1);
	else if (ev == NNG_PIPE_EV_REM_POST)
		atomic_fetch_sub(&s->npipes, 1);
}

struct ipc *
ipc_pub_listen(struct event_base *base, const char *url, char *err,
    size_t errlen)
{
	struct ipc *s = ipc_open(base, IPC_PUB, url, 1, err, errlen);

	if (s) {
		nng_pipe_notify(s->sock, NNG_PIPE_EV_ADD_POST, on_pub_pipe, s);
		nng_pipe_notify(s->sock, NNG_PIPE_EV_REM_POST, on_pub_pipe, s);
	}
	return s;
}

int
ipc_pub_subscribers(const struct ipc *s)
{
	return atomic_load(&((struct ipc *)s)->npipes);
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

int
ipc_publish_text(struct ipc *s, const char *topic, const char *json,
    size_t len)
{
	size_t tlen = strlen(topic);
	nng_msg *msg;

	if (nng_msg_alloc(&msg, 0) != 0)
		abort();
	nng_msg_append(msg, topic, tlen);
	nng_msg_append(msg, "\n", 1);
	nng_msg_append(msg, json, len);
	if (nng_sendmsg(s->sock, msg, NNG_FLAG_NONBLOCK) != 0) {
		nng_msg_free(msg);
		return -1;
	}
	return 0;
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
	s->closed = 1;
	while (s->calls)
		call_free(s->calls);
	free(s->buckets);
	s->buckets = NULL;
	s->nbuckets = 0;
	if (s->ev_recv)
		event_free(s->ev_recv);
	if (s->ev_send)
		event_free(s->ev_send);
	s->ev_recv = s->ev_send = NULL;
	ipc_rep_stop(s);
	nng_close(s->sock);
	ipc_free_if_done(s);
}

/*
 * ipc: nng messaging inside the libevent loop, JSON on the wire.
 *
 *   REQ/REP  a request gets exactly one reply or a timeout. Many requests
 *            may be in flight on one socket; a REP handler may reply later.
 *            A REP socket serves up to 256 unanswered requests at a time;
 *            further ones wait in nng (back-pressure), so a handler must
 *            not hold requests indefinitely. Replies are never dropped for
 *            a peer that is still connected, however many come at once.
 *   PUB/SUB  events with topics; a subscriber picks topics by prefix.
 *
 * Sockets are driven through nng's pollable descriptors (NNG_OPT_RECVFD and
 * NNG_OPT_SENDFD), which only signal; messages are received with
 * NNG_FLAG_NONBLOCK until NNG_EAGAIN. REQ uses nng's raw mode so the loop,
 * not nng's threads, matches replies to requests; REP uses contexts whose
 * completions are handed to the loop through an eventfd: no nng callback
 * ever touches loop state. Never call nng in a forked child (spawn to exec).
 *
 * Framing: a REQ/REP message body is one JSON document. A PUB message is
 * "<topic>\n<JSON>", so SUB's prefix filter works on topics ("task." gets
 * "task.updated").
 */
#ifndef DCOS_IPC_H
#define DCOS_IPC_H

#include <stddef.h>

#include <jansson.h>

struct event_base;
struct ipc;
struct ipc_pending;
struct ipc_call;

/* REP: msg is borrowed for the call. Reply now or later with ipc_reply. */
typedef void (*ipc_request_fn)(struct ipc_pending *p, json_t *msg, void *arg);
/* REQ: reply is NULL when err says why (timeout, socket closed). */
typedef void (*ipc_response_fn)(json_t *reply, const char *err, void *arg);
/* SUB: msg is borrowed for the call. */
typedef void (*ipc_event_fn)(const char *topic, json_t *msg, void *arg);

/* url: "tcp://127.0.0.1:5052", "ipc:///run/x.sock", "inproc://x". */
struct ipc *ipc_rep_listen(struct event_base *base, const char *url,
    ipc_request_fn fn, void *arg, char *err, size_t errlen);
/* Answers a request (reply is stolen) and frees p. */
void ipc_reply(struct ipc_pending *p, json_t *reply);
/* The same with the reply already rendered (len bytes, copied). */
void ipc_reply_text(struct ipc_pending *p, const char *text, size_t len);
/* The peer address of a pending request ("ip:port"), for logs. */
const char *ipc_pending_peer(const struct ipc_pending *p);

/* Dials in the background: requests wait (within their timeout) until the
 * peer is up, and the dialer reconnects after the peer restarts. */
struct ipc *ipc_req_dial(struct event_base *base, const char *url, char *err,
    size_t errlen);
/* msg is borrowed. cb runs exactly once unless the call is cancelled. */
struct ipc_call *ipc_request(struct ipc *s, const json_t *msg, double timeout,
    ipc_response_fn cb, void *arg);
/* The same with the JSON document already rendered (len bytes, copied). */
struct ipc_call *ipc_request_text(struct ipc *s, const char *text, size_t len,
    double timeout, ipc_response_fn cb, void *arg);
void ipc_call_cancel(struct ipc_call *call);

struct ipc *ipc_pub_listen(struct event_base *base, const char *url,
    char *err, size_t errlen);
/* Drops the message if no subscriber keeps up (PUB semantics). */
int ipc_publish(struct ipc *s, const char *topic, const json_t *msg);
/* The same with the JSON already rendered (one line of len bytes). */
int ipc_publish_text(struct ipc *s, const char *topic, const char *json,
    size_t len);
/* Subscribers connected to a PUB socket right now (publishers may skip
 * rendering events nobody would receive). */
int ipc_pub_subscribers(const struct ipc *s);

struct ipc *ipc_sub_dial(struct event_base *base, const char *url,
    ipc_event_fn fn, void *arg, char *err, size_t errlen);
int ipc_subscribe(struct ipc *s, const char *topic_prefix);

/* Closes the socket. Outstanding calls get no callback; replies to
 * pending requests are dropped. */
void ipc_close(struct ipc *s);

/* Framing helpers (pure, unit tested). ipc_frame returns malloc'd bytes. */
char *ipc_frame(const char *topic, const json_t *msg, size_t *len);
/* Splits "<topic>\n<json>": topic copied into buf. Returns a new reference
 * or NULL when malformed. */
json_t *ipc_unframe(const char *data, size_t len, char *topic, size_t size);

#endif

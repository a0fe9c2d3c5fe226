/*
 * ipc_rep: the REP side of ipc (ipc.c has the sockets, REQ and PUB/SUB).
 *
 * REP (cooked, with contexts): raw REP in nng 1.5 drops a reply when more
 * than 64 are queued for one peer, so a burst of answers would be lost.
 * Instead a pool of nng contexts each receives one request; the receive
 * completion (on an nng thread) only appends the context to a locked list
 * and signals an eventfd, and the loop does the rest: it parses and
 * dispatches the request, and sends the reply on the same context, which
 * waits for the peer's pipe instead of dropping. The send completion stays
 * on the nng thread: it only arms the context's next receive, so a request
 * costs the loop one wakeup, not two. When every context is busy, nng
 * stops reading from peers: back-pressure, not loss.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "dcos/json.h"
#include "dcos/log.h"
#include "ipc_int.h"

static void
peer_of(nng_msg *msg, char *buf, size_t size)
{
	nng_sockaddr sa;

	buf[0] = '\0';
	if (nng_pipe_get_addr(nng_msg_get_pipe(msg), NNG_OPT_REMADDR, &sa) == 0 &&
	    sa.s_family == NNG_AF_INET) {
		uint8_t *a = (uint8_t *)&sa.s_in.sa_addr;

		snprintf(buf, size, "%u.%u.%u.%u:%u", a[0], a[1], a[2], a[3],
		    (unsigned)ntohs(sa.s_in.sa_port));
	}
}

/* nng thread: hand the context to the loop */
static void
rep_aio_done(void *arg)
{
	struct rep_ctx *rc = arg;
	struct ipc *s = rc->s;
	int wake;

	pthread_mutex_lock(&s->mu);
	TAILQ_INSERT_TAIL(&s->done, rc, dq);
	wake = !s->signalled;
	s->signalled = 1;
	pthread_mutex_unlock(&s->mu);
	if (wake) {
		uint64_t one = 1;

		if (write(s->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
			log_warn("ipc: cannot signal the loop: %s", strerror(errno));
	}
}

static void
rep_recv(struct rep_ctx *rc)
{
	nng_ctx_recv(rc->ctx, rc->aio);
}

/* nng thread: the reply is on its way (or the peer is gone); the context
 * takes the next request */
static void
rep_send_done(void *arg)
{
	struct rep_ctx *rc = arg;

	if (nng_aio_result(rc->saio) != 0) {
		nng_msg_free(nng_aio_get_msg(rc->saio));
		nng_aio_set_msg(rc->saio, NULL);
	}
	if (!atomic_load(&rc->s->stopping))
		rep_recv(rc);
}

static void
rep_free(struct ipc *s)
{
	for (size_t i = 0; i < s->nctxs; i++) {
		nng_aio_free(s->ctxs[i].aio);
		nng_aio_free(s->ctxs[i].saio);
		nng_ctx_close(s->ctxs[i].ctx);
	}
	free(s->ctxs);
	if (s->efd >= 0)
		close(s->efd);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

void
ipc_free_if_done(struct ipc *s)
{
	if (s->closed && s->npending == 0 && !s->dispatching) {
		if (s->kind == IPC_REP)
			rep_free(s);
		else
			free(s);
	}
}

static void
rep_dispatch(struct ipc *s, struct rep_ctx *rc, nng_msg *msg)
{
	struct ipc_pending *p = calloc(1, sizeof(*p));
	json_t *req;

	if (p == NULL)
		abort();
	p->s = s;
	p->rc = rc;
	peer_of(msg, p->peer, sizeof(p->peer));
	s->npending++;
	req = json_loadb(nng_msg_body(msg), nng_msg_len(msg), JSON_DECODE_ANY,
	    NULL);
	nng_msg_free(msg);
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
on_rep_done(evutil_socket_t fd, short what, void *arg)
{
	struct ipc *s = arg;
	TAILQ_HEAD(, rep_ctx) ready = TAILQ_HEAD_INITIALIZER(ready);
	struct rep_ctx *rc;
	uint64_t n;

	if (read(s->efd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_warn("ipc: eventfd read: %s", strerror(errno));
	pthread_mutex_lock(&s->mu);
	TAILQ_CONCAT(&ready, &s->done, dq);
	s->signalled = 0;
	pthread_mutex_unlock(&s->mu);

	s->dispatching = 1;
	while ((rc = TAILQ_FIRST(&ready)) != NULL) {
		int rv = nng_aio_result(rc->aio);

		TAILQ_REMOVE(&ready, rc, dq);
		if (s->closed)
			continue;
		if (rv == 0) {
			nng_msg *msg = nng_aio_get_msg(rc->aio);

			nng_aio_set_msg(rc->aio, NULL);
			rep_dispatch(s, rc, msg);
		} else if (rv != NNG_ECLOSED && rv != NNG_ECANCELED) {
			rep_recv(rc);
		}
	}
	s->dispatching = 0;
	ipc_free_if_done(s);
}

void
ipc_reply_text(struct ipc_pending *p, const char *text, size_t len)
{
	struct ipc *s = p->s;
	struct rep_ctx *rc = p->rc;
	nng_msg *msg;

	if (!s->closed) {
		if (nng_msg_alloc(&msg, 0) != 0)
			abort();
		nng_msg_append(msg, text, len);
		nng_aio_set_msg(rc->saio, msg);
		nng_ctx_send(rc->ctx, rc->saio);
	}
	free(p);
	s->npending--;
	ipc_free_if_done(s);
}

void
ipc_reply(struct ipc_pending *p, json_t *reply)
{
	char *text = json_compact(reply);

	json_decref(reply);
	if (text == NULL)
		abort();
	ipc_reply_text(p, text, strlen(text));
	free(text);
}

const char *
ipc_pending_peer(const struct ipc_pending *p)
{
	return p->peer;
}

int
ipc_rep_setup(struct ipc *s, char *err, size_t errlen)
{
	int rv;

	TAILQ_INIT(&s->done);
	pthread_mutex_init(&s->mu, NULL);
	if ((s->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
		snprintf(err, errlen, "eventfd: %s", strerror(errno));
		return -1;
	}
	if ((s->ctxs = calloc(REP_CONTEXTS, sizeof(*s->ctxs))) == NULL)
		abort();
	for (size_t i = 0; i < REP_CONTEXTS; i++) {
		struct rep_ctx *rc = &s->ctxs[i];

		rc->s = s;
		if ((rv = nng_ctx_open(&rc->ctx, s->sock)) != 0 ||
		    (rv = nng_aio_alloc(&rc->aio, rep_aio_done, rc)) != 0 ||
		    (rv = nng_aio_alloc(&rc->saio, rep_send_done, rc)) != 0) {
			snprintf(err, errlen, "nng context: %s", nng_strerror(rv));
			return -1;
		}
		s->nctxs++;
	}
	s->ev_recv = event_new(s->base, s->efd, EV_READ | EV_PERSIST,
	    on_rep_done, s);
	event_add(s->ev_recv, NULL);
	for (size_t i = 0; i < s->nctxs; i++)
		rep_recv(&s->ctxs[i]);
	return 0;
}

/* After this no completion runs: every aio is stopped. Sends first: their
 * completions arm receives until stopping is seen; then the receives. */
void
ipc_rep_stop(struct ipc *s)
{
	atomic_store(&s->stopping, 1);
	for (size_t i = 0; i < s->nctxs; i++) {
		nng_msg *msg;

		nng_aio_stop(s->ctxs[i].saio);
		if ((msg = nng_aio_get_msg(s->ctxs[i].saio)) != NULL)
			nng_msg_free(msg);
		nng_aio_set_msg(s->ctxs[i].saio, NULL);
	}
	for (size_t i = 0; i < s->nctxs; i++) {
		nng_msg *msg;

		nng_aio_stop(s->ctxs[i].aio);
		/* a received request not yet dispatched */
		if ((msg = nng_aio_get_msg(s->ctxs[i].aio)) != NULL)
			nng_msg_free(msg);
		nng_aio_set_msg(s->ctxs[i].aio, NULL);
	}
}

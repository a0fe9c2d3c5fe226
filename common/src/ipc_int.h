/*
 * ipc_int: the socket structure shared by ipc.c (sockets, REQ, PUB/SUB) and
 * ipc_rep.c (REP contexts). Not part of the public API.
 */
#ifndef DCOS_IPC_INT_H
#define DCOS_IPC_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/queue.h>

#include <event2/event.h>
#include <nng/nng.h>

#include "dcos/ipc.h"

#define IPC_MAX_MSG (64u << 20)
#define REP_CONTEXTS 256

enum ipc_kind { IPC_REP, IPC_REQ, IPC_PUB, IPC_SUB };

struct ipc_call {
	struct ipc *s;
	uint32_t id;
	nng_msg *unsent; /* waiting for the socket to accept it */
	struct event *timer;
	ipc_response_fn cb;
	void *arg;
	struct ipc_call *prev, *next; /* all calls in flight */
	struct ipc_call *hnext;       /* hash bucket chain */
	TAILQ_ENTRY(ipc_call) q;      /* unsent FIFO, while unsent is set */
};

struct rep_ctx {
	struct ipc *s;
	nng_ctx ctx;
	nng_aio *aio;  /* receive: completes to the loop */
	nng_aio *saio; /* send: completes on the nng thread */
	TAILQ_ENTRY(rep_ctx) dq; /* received, waiting for the loop */
};

struct ipc {
	struct event_base *base;
	enum ipc_kind kind;
	nng_socket sock;
	struct event *ev_recv, *ev_send;
	ipc_request_fn on_request;
	ipc_event_fn on_event;
	void *arg;
	int closed;
	atomic_int npipes; /* PUB: connected subscribers (nng thread updates) */
	/* REQ */
	struct ipc_call *calls;    /* in flight */
	struct ipc_call **buckets; /* calls by id */
	size_t nbuckets, ncalls;
	TAILQ_HEAD(, ipc_call) unsent;
	uint32_t next_id;
	/* REP */
	struct rep_ctx *ctxs;
	size_t nctxs;
	int npending;    /* requests handed to the loop, not yet answered */
	int dispatching; /* inside the completion handler */
	int efd;
	atomic_int stopping; /* no more receives are armed */
	pthread_mutex_t mu;
	TAILQ_HEAD(, rep_ctx) done; /* under mu */
	int signalled;              /* under mu */
};

struct ipc_pending {
	struct ipc *s;
	struct rep_ctx *rc;
	char peer[64];
};

/* ipc_rep.c */
/* the pool of REP contexts and the eventfd that hands them to the loop */
int ipc_rep_setup(struct ipc *s, char *err, size_t errlen);
void ipc_rep_stop(struct ipc *s);
/* frees a closed socket once no request is pending or being dispatched */
void ipc_free_if_done(struct ipc *s);

#endif

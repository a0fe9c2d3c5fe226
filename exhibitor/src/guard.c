/*
 * guard: the store port (--ip:--client_port). The dqlite node itself only
 * listens on an abstract unix socket that accepts connections from this
 * process; everything from the network comes through here, on a thread
 * and event loop of its own:
 *
 *  1. the 8-byte protocol version must be 1;
 *  2. each request is read whole and checked (guard_check.c) before a
 *     byte of it reaches the node, then the connection waits for the
 *     node's complete answer (all row batches) before the next request is
 *     looked at: dqlite serves one request at a time per connection and
 *     asserts when a client overlaps them;
 *  3. a CONNECT request turns the connection into a Raft stream between
 *     members. Raft's own messages cannot be checked here, so CONNECT is
 *     only accepted from the address of a master in --master_list, naming
 *     a member address (members dial each other from their --ip, see
 *     member.c), and from then on bytes pass through unchanged. Requests
 *     that change the membership or move leadership (ADD, ASSIGN, REMOVE,
 *     TRANSFER) are taken from masters only too, and ADD only for members
 *     of the list, so no one else can make a stranger a member.
 * Anything else closes that one connection; the member carries on.
 */
#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "dcos/dqlite_wire.h"
#include "dcos/log.h"
#include "exhibitor.h"

#define GUARD_MAX_REQUEST (16u << 20) /* a request body */
#define GUARD_MAX_QUEUE (4u << 20)    /* bytes queued towards a slow peer */
#define GUARD_MAX_CONNS 4096

enum gstate { G_HELLO, G_REQUEST, G_AWAIT, G_PASS };

struct gconn {
	struct guard *g;
	struct bufferevent *client, *node;
	enum gstate state;
	char peer[INET_ADDRSTRLEN];
	LIST_ENTRY(gconn) entry;
};

struct guard {
	struct exhibitor *ex;
	struct event_base *base;
	struct evconnlistener *listener;
	struct event *ev_stop;
	int stop_fd;
	pthread_t thread;
	struct sockaddr_un node_sa;
	socklen_t node_salen;
	size_t nconns;
	LIST_HEAD(, gconn) conns;
};

static void client_read(struct bufferevent *bev, void *arg);

static void
gconn_free(struct gconn *gc)
{
	LIST_REMOVE(gc, entry);
	gc->g->nconns--;
	if (gc->client)
		bufferevent_free(gc->client);
	if (gc->node)
		bufferevent_free(gc->node);
	free(gc);
}

static void
gconn_reject(struct gconn *gc, const char *why)
{
	log_info("store port: closing the connection from %s: %s", gc->peer, why);
	gconn_free(gc);
}

/* Moves n bytes from one side to the other, pausing the source while the
 * destination has too much queued. */
static void
forward(struct bufferevent *from, struct bufferevent *to, size_t n)
{
	evbuffer_remove_buffer(bufferevent_get_input(from),
	    bufferevent_get_output(to), n);
	if (evbuffer_get_length(bufferevent_get_output(to)) > GUARD_MAX_QUEUE) {
		bufferevent_disable(from, EV_READ);
		bufferevent_setwatermark(to, EV_WRITE, GUARD_MAX_QUEUE / 2, 0);
	}
}

/* The destination drained: resume its source. */
static void
drained(struct bufferevent *bev, void *arg)
{
	struct gconn *gc = arg;
	struct bufferevent *src = bev == gc->client ? gc->node : gc->client;

	bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
	if (src)
		bufferevent_enable(src, EV_READ);
}

static void
on_event(struct bufferevent *bev, short what, void *arg)
{
	struct gconn *gc = arg;

	if (what & BEV_EVENT_CONNECTED)
		return;
	if (bev == gc->node && !(what & BEV_EVENT_EOF) && gc->state != G_PASS)
		log_debug("store port: cannot reach the local node for %s: %s",
		    gc->peer, strerror(EVUTIL_SOCKET_ERROR()));
	gconn_free(gc);
}

/* Responses: passed on whole; an exchange ends with any response but a
 * ROWS batch that says more batches follow. */
static void
node_read(struct bufferevent *bev, void *arg)
{
	struct gconn *gc = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	if (gc->state == G_PASS) {
		forward(bev, gc->client, evbuffer_get_length(in));
		return;
	}
	for (;;) {
		uint8_t hdr[DQLITE_WIRE_HEADER], tail[8];
		uint32_t words;
		uint8_t type;
		size_t size;
		int more;

		if (evbuffer_copyout(in, hdr, sizeof(hdr)) < (ssize_t)sizeof(hdr))
			return;
		if (dqlite_wire_header(hdr, &words, &type) == -1) {
			gconn_reject(gc, "the node sent an oversized response");
			return;
		}
		size = sizeof(hdr) + (size_t)words * 8;
		if (evbuffer_get_length(in) < size)
			return;
		more = 0;
		if (type == DQLITE_RESP_ROWS && words > 0) {
			struct evbuffer_ptr at;

			evbuffer_ptr_set(in, &at, size - 8, EVBUFFER_PTR_SET);
			evbuffer_copyout_from(in, &at, tail, sizeof(tail));
			more = memcmp(tail, "\xee\xee\xee\xee\xee\xee\xee\xee", 8) == 0;
		}
		forward(bev, gc->client, size);
		if (!more && gc->state == G_AWAIT) {
			gc->state = G_REQUEST;
			client_read(gc->client, gc); /* a request may be waiting */
			return;
		}
	}
}

static int
node_connect(struct gconn *gc)
{
	uint8_t hello[8];

	gc->node = bufferevent_socket_new(gc->g->base, -1,
	    BEV_OPT_CLOSE_ON_FREE);
	if (gc->node == NULL)
		return -1;
	bufferevent_setcb(gc->node, node_read, drained, on_event, gc);
	if (bufferevent_socket_connect(gc->node,
	    (struct sockaddr *)&gc->g->node_sa, (int)gc->g->node_salen) == -1)
		return -1;
	bufferevent_enable(gc->node, EV_READ);
	dqlite_wire_handshake(hello);
	bufferevent_write(gc->node, hello, sizeof(hello));
	return 0;
}

/* Raft streams and membership changes come from masters only, and name
 * members (address "" when the request names none). */
static int
from_master(struct gconn *gc, const char *address)
{
	struct exhibitor *ex = gc->g->ex;
	int from = 0, to = address[0] == '\0';

	for (size_t i = 0; i < ex->nmembers; i++) {
		from |= strcmp(ex->members[i].ip, gc->peer) == 0;
		to |= strcmp(ex->members[i].address, address) == 0;
	}
	return from && to;
}

/* Reads one whole request, checks it and passes it on. */
static int
take_request(struct gconn *gc, struct evbuffer *in)
{
	char why[256], address[DQLITE_CLIENT_ADDR_MAX];
	uint8_t hdr[DQLITE_WIRE_HEADER], type;
	uint32_t words;
	size_t size;
	int verdict;

	if (evbuffer_copyout(in, hdr, sizeof(hdr)) < (ssize_t)sizeof(hdr))
		return 0;
	if (dqlite_wire_header(hdr, &words, &type) == -1 || words == 0 ||
	    (size_t)words * 8 > GUARD_MAX_REQUEST) {
		gconn_reject(gc, "request of a bad size");
		return -1;
	}
	size = sizeof(hdr) + (size_t)words * 8;
	if (evbuffer_get_length(in) < size)
		return 0;
	verdict = guard_check(type, evbuffer_pullup(in, (ssize_t)size) +
	    sizeof(hdr), size - sizeof(hdr), address, sizeof(address), why,
	    sizeof(why));
	if ((verdict == GUARD_CONNECT || verdict == GUARD_MEMBERSHIP) &&
	    !from_master(gc, address)) {
		snprintf(why, sizeof(why), "%s%s from outside the master list",
		    verdict == GUARD_CONNECT ? "a member connection as " :
		    "a membership change ", address[0] ? address : "");
		verdict = GUARD_BAD;
	}
	if (verdict == GUARD_BAD) {
		gconn_reject(gc, why);
		return -1;
	}
	if (gc->node == NULL && node_connect(gc) == -1) {
		gconn_reject(gc, "cannot reach the local node");
		return -1;
	}
	forward(gc->client, gc->node, size);
	gc->state = verdict == GUARD_CONNECT ? G_PASS : G_AWAIT;
	return 1;
}

static void
client_read(struct bufferevent *bev, void *arg)
{
	struct gconn *gc = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	if (gc->state == G_HELLO) {
		uint8_t hello[8], want[8];

		if (evbuffer_get_length(in) < sizeof(hello))
			return;
		evbuffer_remove(in, hello, sizeof(hello));
		dqlite_wire_handshake(want);
		if (memcmp(hello, want, sizeof(hello)) != 0) {
			gconn_reject(gc, "not dqlite protocol version 1");
			return;
		}
		gc->state = G_REQUEST;
	}
	if (gc->state == G_REQUEST && take_request(gc, in) != 1)
		return;
	if (gc->state == G_PASS && evbuffer_get_length(in))
		forward(bev, gc->node, evbuffer_get_length(in));
}

static void
on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	struct guard *g = arg;
	struct gconn *gc;
	int one = 1;

	if (g->nconns >= GUARD_MAX_CONNS) {
		evutil_closesocket(fd);
		return;
	}
	if ((gc = calloc(1, sizeof(*gc))) == NULL)
		abort();
	gc->g = g;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)sa)->sin_addr,
		    gc->peer, sizeof(gc->peer));
	LIST_INSERT_HEAD(&g->conns, gc, entry);
	g->nconns++;
	/* small requests and answers, each waited for: no Nagle */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	gc->client = bufferevent_socket_new(g->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (gc->client == NULL) {
		evutil_closesocket(fd);
		gconn_free(gc);
		return;
	}
	bufferevent_setcb(gc->client, client_read, drained, on_event, gc);
	bufferevent_setwatermark(gc->client, EV_READ, 0,
	    GUARD_MAX_REQUEST + 2 * DQLITE_WIRE_HEADER);
	bufferevent_enable(gc->client, EV_READ);
}

static void
on_stop(evutil_socket_t fd, short what, void *arg)
{
	event_base_loopbreak(((struct guard *)arg)->base);
}

static void *
guard_main(void *arg)
{
	event_base_dispatch(((struct guard *)arg)->base);
	return NULL;
}

/* The abstract socket the node binds: "@dcos-exhibitor-<address>". */
const char *
guard_node_address(const struct exhibitor *ex, char *buf, size_t size)
{
	snprintf(buf, size, "@dcos-exhibitor-%s", ex->members[ex->self].address);
	return buf;
}

int
guard_start(struct exhibitor *ex, char *err, size_t errlen)
{
	struct guard *g = calloc(1, sizeof(*g));
	struct sockaddr_in sin = { .sin_family = AF_INET,
		.sin_port = htons((uint16_t)ex->f.client_port) };
	char name[sizeof(g->node_sa.sun_path)];

	if (g == NULL)
		abort();
	ex->guard = g;
	g->ex = ex;
	LIST_INIT(&g->conns);
	guard_node_address(ex, name, sizeof(name));
	g->node_sa.sun_family = AF_UNIX;
	memcpy(g->node_sa.sun_path + 1, name + 1, strlen(name) - 1);
	g->node_salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
	    strlen(name));
	inet_pton(AF_INET, ex->f.ip, &sin.sin_addr);
	g->base = event_base_new();
	g->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	g->listener = evconnlistener_new_bind(g->base, on_accept, g,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
	    128, (struct sockaddr *)&sin, sizeof(sin));
	if (g->listener == NULL) {
		snprintf(err, errlen, "cannot listen on %s:%d for the store: %s",
		    ex->f.ip, ex->f.client_port, strerror(errno));
		return -1;
	}
	g->ev_stop = event_new(g->base, g->stop_fd, EV_READ, on_stop, g);
	event_add(g->ev_stop, NULL);
	if (pthread_create(&g->thread, NULL, guard_main, g) != 0) {
		snprintf(err, errlen, "cannot start the store port thread");
		return -1;
	}
	return 0;
}

void
guard_stop(struct exhibitor *ex)
{
	struct guard *g = ex->guard;
	uint64_t one = 1;

	if (g == NULL)
		return;
	if (g->ev_stop) {
		if (write(g->stop_fd, &one, sizeof(one)) < 0)
			log_warn("cannot stop the store port thread: %s",
			    strerror(errno));
		pthread_join(g->thread, NULL);
		event_free(g->ev_stop);
	}
	while (!LIST_EMPTY(&g->conns))
		gconn_free(LIST_FIRST(&g->conns));
	if (g->listener)
		evconnlistener_free(g->listener);
	if (g->base)
		event_base_free(g->base);
	if (g->stop_fd >= 0)
		close(g->stop_fd);
	free(g);
	ex->guard = NULL;
}

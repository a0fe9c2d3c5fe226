/*
 * dqlite_client: one blocking connection to one dqlite member (see
 * dqlite_client.h). Sockets are non-blocking underneath and every wait is
 * a poll() against the request's deadline, so nothing here can hang on a
 * member that died, stopped, or sends nonsense. The requests about the
 * cluster (who leads, membership) are here too; databases and statements
 * are in dqlite_client_sql.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dcos/dqlite_client.h"
#include "dcos/dqlite_wire.h"
#include "dqlite_client_int.h"

/* where connections leave from (dqlite_client_set_source); a process-wide
 * setting made once at start-up */
static struct sockaddr_in source;

void
dqlite_client_set_source(const char *ip)
{
	memset(&source, 0, sizeof(source));
	if (ip && ip[0] && inet_pton(AF_INET, ip, &source.sin_addr) == 1)
		source.sin_family = AF_INET;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
dqlite_client_fail(struct dqlite_client_err *err, int kind, uint64_t code,
    const char *fmt, ...)
{
	va_list ap;

	if (err) {
		err->kind = kind;
		err->code = code;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return kind;
}

/* The connection is unusable from here on. */
int
dqlite_client_broken(struct dqlite_client *c, struct dqlite_client_err *err,
    const char *what)
{
	if (c->fd != -1) {
		close(c->fd);
		c->fd = -1;
	}
	return dqlite_client_fail(err, DQLITE_CLIENT_EIO, 0, "%s: %s", c->address, what);
}

/* Waits for fd to be ready for events before the deadline: 0 or -1. */
static int
wait_fd(int fd, short events, int64_t deadline)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = events };
		int64_t left = deadline - now_ms();
		int rc;

		if (left <= 0)
			return -1;
		rc = poll(&p, 1, (int)left);
		if (rc > 0)
			return 0;
		if (rc == 0 || errno != EINTR) {
			if (rc == 0)
				errno = ETIMEDOUT;
			return -1;
		}
	}
}

/* Splits "host:port" or "[v6]:port". */
static int
split_address(const char *address, char *host, size_t hsize, char *port,
    size_t psize)
{
	const char *colon = strrchr(address, ':');
	size_t hlen;

	if (colon == NULL || colon == address || colon[1] == '\0' ||
	    strlen(colon + 1) >= psize)
		return -1;
	hlen = (size_t)(colon - address);
	if (address[0] == '[' && hlen >= 2 && address[hlen - 1] == ']') {
		address++;
		hlen -= 2;
	}
	if (hlen == 0 || hlen >= hsize)
		return -1;
	memcpy(host, address, hlen);
	host[hlen] = '\0';
	snprintf(port, psize, "%s", colon + 1);
	return 0;
}

static int
connect_one(const struct addrinfo *ai, int64_t deadline)
{
	int fd, one = 1, soerr = 0;
	socklen_t len = sizeof(soerr);

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, ai->ai_protocol);
	if (fd == -1)
		return -1;
	if (ai->ai_family == AF_INET && source.sin_family == AF_INET &&
	    bind(fd, (struct sockaddr *)&source, sizeof(source)) == -1)
		goto fail;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == -1) {
		if (errno != EINPROGRESS || wait_fd(fd, POLLOUT, deadline) == -1)
			goto fail;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == -1)
			goto fail;
		if (soerr != 0) {
			errno = soerr;
			goto fail;
		}
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
fail:
	soerr = errno;
	close(fd);
	errno = soerr;
	return -1;
}

static int
send_all(struct dqlite_client *c, const void *data, size_t len)
{
	const uint8_t *p = data;

	while (len > 0) {
		ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);

		if (n > 0) {
			p += n;
			len -= (size_t)n;
		} else if (n == -1 && errno == EINTR) {
			continue;
		} else if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (wait_fd(c->fd, POLLOUT, c->deadline_ms) == -1)
				return -1;
		} else {
			return -1;
		}
	}
	return 0;
}

static int
recv_all(struct dqlite_client *c, void *data, size_t len)
{
	uint8_t *p = data;

	while (len > 0) {
		ssize_t n = recv(c->fd, p, len, 0);

		if (n > 0) {
			p += n;
			len -= (size_t)n;
		} else if (n == 0) {
			errno = ECONNRESET;
			return -1;
		} else if (errno == EINTR) {
			continue;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			if (wait_fd(c->fd, POLLIN, c->deadline_ms) == -1)
				return -1;
		} else {
			return -1;
		}
	}
	return 0;
}

struct dqlite_client *
dqlite_client_connect(const char *address, int timeout_ms,
    struct dqlite_client_err *err)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *res = NULL;
	struct dqlite_client *c;
	char host[DQLITE_CLIENT_ADDR_MAX], port[16];
	uint8_t hello[8];
	int rc, fd = -1, saved = 0;

	if (strlen(address) >= DQLITE_CLIENT_ADDR_MAX ||
	    split_address(address, host, sizeof(host), port, sizeof(port))) {
		dqlite_client_fail(err, DQLITE_CLIENT_EIO, 0, "bad member address '%s': "
		    "expected host:port", address);
		return NULL;
	}
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		dqlite_client_fail(err, DQLITE_CLIENT_EIO, 0, "%s: %s", address,
		    gai_strerror(rc));
		return NULL;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL)
		abort();
	snprintf(c->address, sizeof(c->address), "%s", address);
	c->timeout_ms = timeout_ms > 0 ? timeout_ms : 5000;
	c->deadline_ms = now_ms() + c->timeout_ms;
	for (struct addrinfo *ai = res; ai && fd == -1; ai = ai->ai_next)
		if ((fd = connect_one(ai, c->deadline_ms)) == -1)
			saved = errno;
	freeaddrinfo(res);
	c->fd = fd;
	if (fd == -1) {
		dqlite_client_fail(err, DQLITE_CLIENT_EIO, 0, "%s: %s", address,
		    strerror(saved ? saved : ECONNREFUSED));
		free(c);
		return NULL;
	}
	dqlite_wire_handshake(hello);
	if (send_all(c, hello, sizeof(hello)) == -1) {
		dqlite_client_broken(c, err, strerror(errno));
		dqlite_client_close(c);
		return NULL;
	}
	return c;
}

void
dqlite_client_close(struct dqlite_client *c)
{
	if (c == NULL)
		return;
	if (c->fd != -1)
		close(c->fd);
	dqlite_wire_buf_free(&c->out);
	free(c->in);
	free(c);
}

const char *
dqlite_client_address(const struct dqlite_client *c)
{
	return c->address;
}

void
dqlite_client_set_timeout(struct dqlite_client *c, int timeout_ms)
{
	c->timeout_ms = timeout_ms > 0 ? timeout_ms : 5000;
}

/* Reads one response message into c->in. */
int
dqlite_client_read(struct dqlite_client *c, struct dqlite_client_err *err)
{
	uint8_t hdr[DQLITE_WIRE_HEADER];
	uint32_t words;

	if (recv_all(c, hdr, sizeof(hdr)) == -1)
		return dqlite_client_broken(c, err, errno == ETIMEDOUT ?
		    "no answer in time" : strerror(errno));
	if (dqlite_wire_header(hdr, &words, &c->in_type) == -1)
		return dqlite_client_broken(c, err, "response too large");
	c->in_len = (size_t)words * 8;
	if (c->in_len > c->in_cap) {
		if ((c->in = realloc(c->in, c->in_len)) == NULL)
			abort();
		c->in_cap = c->in_len;
	}
	if (c->in_len && recv_all(c, c->in, c->in_len) == -1)
		return dqlite_client_broken(c, err, errno == ETIMEDOUT ?
		    "no answer in time" : strerror(errno));
	return DQLITE_CLIENT_OK;
}

struct dqlite_wire_cursor
dqlite_client_body(const struct dqlite_client *c)
{
	return (struct dqlite_wire_cursor){ c->in, c->in_len };
}

/* Checks a response: OK when it has the expected type, EFAIL (with the
 * server's code and message) for a FAILURE, EIO for anything else. */
int
dqlite_client_expect(struct dqlite_client *c, uint8_t type, struct dqlite_client_err *err)
{
	struct dqlite_wire_cursor cur = dqlite_client_body(c);
	uint64_t code;
	const char *msg;

	if (c->in_type == type)
		return DQLITE_CLIENT_OK;
	if (c->in_type != DQLITE_RESP_FAILURE) {
		char what[64];

		snprintf(what, sizeof(what), "unexpected response type %d "
		    "(wanted %d)", c->in_type, type);
		return dqlite_client_broken(c, err, what);
	}
	if (dqlite_wire_get_failure(&cur, &code, &msg) == -1)
		return dqlite_client_broken(c, err, "malformed failure response");
	return dqlite_client_fail(err, DQLITE_CLIENT_EFAIL, code, "%s", msg[0] ? msg :
	    "(no message)");
}

/* Sends c->out (already ended) and reads the response. */
int
dqlite_client_call(struct dqlite_client *c, uint8_t type, struct dqlite_client_err *err)
{
	if (c->fd == -1)
		return dqlite_client_fail(err, DQLITE_CLIENT_EIO, 0, "%s: connection closed",
		    c->address);
	c->deadline_ms = now_ms() + c->timeout_ms;
	dqlite_wire_end(&c->out);
	if (send_all(c, c->out.p, c->out.len) == -1)
		return dqlite_client_broken(c, err, errno == ETIMEDOUT ? "send timed out" :
		    strerror(errno));
	if (dqlite_client_read(c, err) != DQLITE_CLIENT_OK)
		return DQLITE_CLIENT_EIO;
	return dqlite_client_expect(c, type, err);
}

int
dqlite_client_leader(struct dqlite_client *c, uint64_t *id, char *address,
    size_t size, struct dqlite_client_err *err)
{
	struct dqlite_wire_cursor cur;
	const char *addr;
	int rc;

	dqlite_wire_begin(&c->out, DQLITE_REQ_LEADER);
	dqlite_wire_put_u64(&c->out, 0);
	if ((rc = dqlite_client_call(c, DQLITE_RESP_SERVER, err)) != DQLITE_CLIENT_OK)
		return rc;
	cur = dqlite_client_body(c);
	if (dqlite_wire_get_u64(&cur, id) == -1 ||
	    dqlite_wire_get_text(&cur, &addr) == -1)
		return dqlite_client_broken(c, err, "malformed leader response");
	snprintf(address, size, "%s", addr);
	return DQLITE_CLIENT_OK;
}

int
dqlite_client_cluster(struct dqlite_client *c, struct dqlite_member **members,
    size_t *n, struct dqlite_client_err *err)
{
	struct dqlite_wire_cursor cur;
	struct dqlite_member *m;
	uint64_t count;
	int rc;

	*members = NULL;
	*n = 0;
	dqlite_wire_begin(&c->out, DQLITE_REQ_CLUSTER);
	dqlite_wire_put_u64(&c->out, 1); /* format 1: id, address, role */
	if ((rc = dqlite_client_call(c, DQLITE_RESP_SERVERS, err)) != DQLITE_CLIENT_OK)
		return rc;
	cur = dqlite_client_body(c);
	/* each member takes at least three words */
	if (dqlite_wire_get_u64(&cur, &count) == -1 || count > cur.left / 24)
		return dqlite_client_broken(c, err, "malformed cluster response");
	if ((m = calloc(count ? count : 1, sizeof(*m))) == NULL)
		abort();
	for (size_t i = 0; i < count; i++) {
		const char *addr;
		uint64_t role;

		if (dqlite_wire_get_u64(&cur, &m[i].id) == -1 ||
		    dqlite_wire_get_text(&cur, &addr) == -1 ||
		    dqlite_wire_get_u64(&cur, &role) == -1) {
			free(m);
			return dqlite_client_broken(c, err, "malformed cluster response");
		}
		snprintf(m[i].address, sizeof(m[i].address), "%s", addr);
		m[i].role = (int)role;
	}
	*members = m;
	*n = (size_t)count;
	return DQLITE_CLIENT_OK;
}

static int
simple(struct dqlite_client *c, int type, uint64_t a, const char *text,
    const uint64_t *b, struct dqlite_client_err *err)
{
	dqlite_wire_begin(&c->out, type);
	dqlite_wire_put_u64(&c->out, a);
	if (text)
		dqlite_wire_put_text(&c->out, text);
	if (b)
		dqlite_wire_put_u64(&c->out, *b);
	return dqlite_client_call(c, DQLITE_RESP_EMPTY, err);
}

int
dqlite_client_add(struct dqlite_client *c, uint64_t id, const char *address,
    struct dqlite_client_err *err)
{
	return simple(c, DQLITE_REQ_ADD, id, address, NULL, err);
}

int
dqlite_client_assign(struct dqlite_client *c, uint64_t id, int role,
    struct dqlite_client_err *err)
{
	uint64_t r = (uint64_t)role;

	return simple(c, DQLITE_REQ_ASSIGN, id, NULL, &r, err);
}

int
dqlite_client_remove(struct dqlite_client *c, uint64_t id,
    struct dqlite_client_err *err)
{
	return simple(c, DQLITE_REQ_REMOVE, id, NULL, NULL, err);
}

int
dqlite_client_transfer(struct dqlite_client *c, uint64_t id,
    struct dqlite_client_err *err)
{
	return simple(c, DQLITE_REQ_TRANSFER, id, NULL, NULL, err);
}

static void
append(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
append(char *buf, size_t size, const char *fmt, ...)
{
	size_t len = strlen(buf);
	va_list ap;

	if (len + 1 >= size)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + len, size - len, fmt, ap);
	va_end(ap);
}

/* Connects to address and returns the connection if that member says it
 * leads; otherwise puts who it thinks leads in hint. */
static struct dqlite_client *
try_member(const char *address, int timeout_ms, char *hint, size_t hsize,
    char *why, size_t wsize)
{
	struct dqlite_client_err e;
	struct dqlite_client *c;
	uint64_t id;

	hint[0] = '\0';
	if ((c = dqlite_client_connect(address, timeout_ms, &e)) == NULL ||
	    dqlite_client_leader(c, &id, hint, hsize, &e) != DQLITE_CLIENT_OK) {
		append(why, wsize, "%s%s", why[0] ? "; " : "", e.msg);
		hint[0] = '\0';
		dqlite_client_close(c);
		return NULL;
	}
	if (strcmp(hint, address) == 0)
		return c;
	if (hint[0] == '\0')
		append(why, wsize, "%s%s: knows no leader", why[0] ? "; " : "",
		    address);
	dqlite_client_close(c);
	return NULL;
}

struct dqlite_client *
dqlite_client_connect_leader(const char *const *addresses, size_t n,
    int timeout_ms, struct dqlite_client_err *err)
{
	char why[sizeof(err->msg)] = "";

	for (size_t i = 0; i < n; i++) {
		char hint[DQLITE_CLIENT_ADDR_MAX], again[DQLITE_CLIENT_ADDR_MAX];
		struct dqlite_client *c;

		if ((c = try_member(addresses[i], timeout_ms, hint, sizeof(hint),
		    why, sizeof(why))) != NULL)
			return c;
		if (hint[0] == '\0')
			continue;
		/* that member named another as leader: ask it */
		if ((c = try_member(hint, timeout_ms, again, sizeof(again), why,
		    sizeof(why))) != NULL)
			return c;
		if (again[0])
			append(why, sizeof(why), "%s%s: says %s leads", why[0] ?
			    "; " : "", hint, again);
	}
	dqlite_client_fail(err, DQLITE_CLIENT_EIO, 0, "no leader: %s", why[0] ? why :
	    "no members given");
	return NULL;
}


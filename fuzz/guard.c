/*
 * fuzz/guard: the exhibitor's store-port guard (exhibitor/src/guard_check.c)
 * against the server it protects. libdqlite trusts its clients, so the
 * guard's promise is: whatever it lets through, a real dqlite node
 * survives. This fuzzer keeps that promise honest: it runs a one-member
 * dqlite node (Debian's libdqlite, as dcos-exhibitor does) in this
 * process, and sends it, one at a time and each after the whole previous
 * answer as the guard does, every request of the input that guard_check
 * lets through. A node that asserts or frees a bad pointer takes this
 * process down: a crash libFuzzer saves.
 *
 * Input: a list of requests, each [type][mode][words] and a body. Mode
 * bit 0 on PREPARE, EXEC_SQL or QUERY_SQL builds the body from SQL text
 * that follows (NUL-terminated), so SQL itself is fuzzed too; otherwise
 * the body is the next words * 8 bytes, as sent. Each connection opens
 * the database "fuzz" first (table t has a few rows). Membership requests
 * and CONNECT are taken from masters only and are not sent here (they
 * would take this lone member's cluster apart).
 *
 * guard_check's own properties are checked on every request: a verdict
 * that matches the request type, and an address that fits its buffer.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <dqlite.h>

#include "dcos/dqlite_wire.h"
#include "exhibitor.h"
#include "fuzz.h"

#define MAX_REQUESTS 6
#define ANSWER_MS 2000

static dqlite_node *node;
static char data_dir[64], bind_name[64];
static struct sockaddr_un node_sa;
static socklen_t node_salen;

static void
cleanup(void)
{
	char cmd[128];

	if (node) {
		dqlite_node_stop(node);
		dqlite_node_destroy(node);
		node = NULL;
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", data_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "fuzz-guard: could not remove %s\n", data_dir);
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
send_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Reads exactly n bytes before the deadline: 0, or -1. */
static int
recv_all(int fd, uint8_t *p, size_t n, int64_t deadline)
{
	while (n > 0) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		int64_t left = deadline - now_ms();
		ssize_t r;

		if (left <= 0 || poll(&pf, 1, (int)left) != 1)
			return -1;
		if ((r = recv(fd, p, n, 0)) <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* Reads one whole answer (every ROWS batch), as the guard waits for it.
 * Returns the last response type, or -1 when the node closed, went
 * silent, or sent something that is not a message. */
static int
read_answer(int fd)
{
	static uint8_t body[DQLITE_WIRE_MAX_BODY / 64];
	int64_t deadline = now_ms() + ANSWER_MS;

	for (;;) {
		uint8_t hdr[8];
		uint32_t words;
		uint8_t type;

		if (recv_all(fd, hdr, 8, deadline) == -1)
			return -1;
		FZ_CHECK(dqlite_wire_header(hdr, &words, &type) == 0,
		    "the node sent an oversized header");
		if ((size_t)words * 8 > sizeof(body))
			return -1;
		if (recv_all(fd, body, (size_t)words * 8, deadline) == -1)
			return -1;
		if (type != DQLITE_RESP_ROWS || words == 0 ||
		    memcmp(body + words * 8 - 8, "\xee\xee\xee\xee\xee\xee\xee\xee",
		    8) != 0)
			return type;
	}
}

/* Sends one request and reads its whole answer; -1 when the exchange
 * broke. */
static int
exchange(int fd, const struct dqlite_wire_buf *b)
{
	if (send_all(fd, b->p, b->len) == -1)
		return -1;
	return read_answer(fd);
}

static int
node_dial(void)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	uint8_t hello[8];

	if (fd == -1 || connect(fd, (struct sockaddr *)&node_sa, node_salen) == -1) {
		if (fd != -1)
			close(fd);
		return -1;
	}
	dqlite_wire_handshake(hello);
	if (send_all(fd, hello, 8) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Opens "fuzz" on fd: 0 or -1. */
static int
open_db(int fd, struct dqlite_wire_buf *b)
{
	dqlite_wire_begin(b, DQLITE_REQ_OPEN);
	dqlite_wire_put_text(b, "fuzz");
	dqlite_wire_put_u64(b, 0);
	dqlite_wire_put_text(b, "volatile");
	dqlite_wire_end(b);
	return exchange(fd, b) == DQLITE_RESP_DB ? 0 : -1;
}

static void
exec_sql(int fd, struct dqlite_wire_buf *b, const char *sql)
{
	char err[64];

	dqlite_wire_begin(b, DQLITE_REQ_EXEC_SQL);
	dqlite_wire_put_u64(b, 0);
	dqlite_wire_put_text(b, sql);
	dqlite_wire_put_params(b, NULL, 0, err, sizeof(err));
	dqlite_wire_end(b);
	exchange(fd, b);
}

static void
setup(void)
{
	struct dqlite_wire_buf b = { 0 };
	int fd = -1;

	snprintf(data_dir, sizeof(data_dir), "/tmp/dcos-fuzz-guard-%d",
	    (int)getpid());
	snprintf(bind_name, sizeof(bind_name), "@dcos-fuzz-guard-%d",
	    (int)getpid());
	mkdir(data_dir, 0700);
	/* as in dcos-exhibitor (daemon.c): the node writes to clients that
	 * may have gone */
	signal(SIGPIPE, SIG_IGN);
	if (dqlite_node_create(1, bind_name, data_dir, &node) != 0 ||
	    dqlite_node_set_bind_address(node, bind_name) != 0 ||
	    dqlite_node_start(node) != 0) {
		fprintf(stderr, "fuzz-guard: cannot start a dqlite node in %s\n",
		    data_dir);
		abort();
	}
	atexit(cleanup);
	node_sa.sun_family = AF_UNIX;
	memcpy(node_sa.sun_path + 1, bind_name + 1, strlen(bind_name) - 1);
	node_salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
	    strlen(bind_name));

	/* a lone member elects itself; then the database and its table */
	for (int64_t until = now_ms() + 20000; now_ms() < until; usleep(50000)) {
		if (fd != -1)
			close(fd);
		if ((fd = node_dial()) != -1 && open_db(fd, &b) == 0)
			break;
	}
	exec_sql(fd, &b, "CREATE TABLE IF NOT EXISTS t (a INTEGER, b TEXT)");
	exec_sql(fd, &b, "INSERT INTO t VALUES (1, 'one'), (2, 'two'), "
	    "(3, zeroblob(9000))");
	close(fd);
	dqlite_wire_buf_free(&b);
}

/* guard_check's own promises about its verdict. */
static void
check_verdict(uint8_t type, int verdict, const char *address, size_t asize)
{
	switch (verdict) {
	case GUARD_CONNECT:
		FZ_CHECK(type == DQLITE_REQ_CONNECT, "CONNECT verdict for %u", type);
		FZ_CHECK(address[0] && strlen(address) < asize, "address");
		break;
	case GUARD_MEMBERSHIP:
		FZ_CHECK(type == DQLITE_REQ_ADD || type == DQLITE_REQ_ASSIGN ||
		    type == DQLITE_REQ_REMOVE || type == DQLITE_REQ_TRANSFER,
		    "membership verdict for %u", type);
		FZ_CHECK(strlen(address) < asize, "address");
		FZ_CHECK((type == DQLITE_REQ_ADD) == (address[0] != '\0'),
		    "ADD names an address, the others none");
		break;
	case GUARD_REQUEST:
		FZ_CHECK(type != DQLITE_REQ_CONNECT && type != DQLITE_REQ_ADD &&
		    type != DQLITE_REQ_ASSIGN && type != DQLITE_REQ_REMOVE &&
		    type != DQLITE_REQ_TRANSFER && type != DQLITE_REQ_HEARTBEAT,
		    "type %u let through for anyone", type);
		break;
	default:
		FZ_CHECK(verdict == GUARD_BAD, "verdict %d", verdict);
	}
}

/* The next request of the input into b (header included). 0, or -1 at
 * the end of the input. */
static int
next_request(struct fz *f, struct dqlite_wire_buf *b)
{
	uint8_t type, mode, words;

	if (f->n < 3)
		return -1;
	type = fz_u8(f);
	mode = fz_u8(f);
	words = fz_u8(f);
	if ((mode & 1) && (type == DQLITE_REQ_PREPARE ||
	    type == DQLITE_REQ_EXEC_SQL || type == DQLITE_REQ_QUERY_SQL)) {
		char *sql = fz_str(f, 2000), err[64];

		dqlite_wire_begin(b, type);
		dqlite_wire_put_u64(b, 0);
		dqlite_wire_put_text(b, sql);
		if (type != DQLITE_REQ_PREPARE)
			dqlite_wire_put_params(b, NULL, 0, err, sizeof(err));
		free(sql);
	} else {
		dqlite_wire_begin(b, type);
		for (size_t i = 0; i < words; i++)
			dqlite_wire_put_u64(b, 0);
		for (size_t i = 0; i < (size_t)words * 8 && f->n > 0; i++)
			b->p[DQLITE_WIRE_HEADER + i] = fz_u8(f);
	}
	dqlite_wire_end(b);
	b->p[5] = mode >> 1; /* the schema byte: the guard passes it on */
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = fz_init(data, size);
	struct dqlite_wire_buf b = { 0 }, open = { 0 };
	int fd;

	if (node == NULL)
		setup();
	if ((fd = node_dial()) == -1)
		abort(); /* the node is gone */
	if (open_db(fd, &open) == -1)
		goto out; /* not the leader yet, or busy: next time */
	for (int i = 0; i < MAX_REQUESTS && next_request(&f, &b) == 0; i++) {
		char address[DQLITE_CLIENT_ADDR_MAX], why[256] = "";
		uint8_t type = b.p[4];
		int verdict;
		uint8_t *body = malloc(b.len - 8 ? b.len - 8 : 1);

		/* exactly the body, as the guard hands it over */
		memcpy(body, b.p + 8, b.len - 8);
		verdict = guard_check(type, body, b.len - 8, address,
		    sizeof(address), why, sizeof(why));
		free(body);
		check_verdict(type, verdict, address, sizeof(address));
		if (verdict == GUARD_BAD) {
			FZ_CHECK(why[0] != '\0', "refused without a reason");
			break; /* the guard closes the connection */
		}
		if (verdict != GUARD_REQUEST)
			continue; /* masters only; not sent here */
		if (b.len == 8)
			break; /* the guard refuses empty bodies first */
		if (exchange(fd, &b) == -1)
			break; /* the node dropped us or is slow: fine */
	}
out:
	close(fd);
	dqlite_wire_buf_free(&b);
	dqlite_wire_buf_free(&open);
	return 0;
}

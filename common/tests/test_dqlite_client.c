/* Unit tests for dqlite_client against a scripted stand-in for a dqlite
 * server on a loopback socket: answers, failures, row batches, and the
 * misbehaviour a client must survive (silence, oversized or malformed
 * answers, a closed port) within its timeout. The real server is covered
 * by the e2e tests. */
#include <arpa/inet.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "dcos/dqlite_client.h"
#include "dcos/dqlite_wire.h"

/* What the stand-in server answers to each request, in order. */
struct script {
	int fd;
	int port;
	const uint8_t *answers[4];
	size_t lens[4];
	size_t n;
	int hold; /* read requests but never answer */
	uint8_t last_type;
};

static void
le64(uint8_t *at, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		at[i] = (uint8_t)(v >> (8 * i));
}

static int
read_full(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t r = read(fd, p, len);

		if (r <= 0)
			return -1;
		p += r;
		len -= (size_t)r;
	}
	return 0;
}

static void *
serve(void *arg)
{
	struct script *s = arg;
	int c = accept(s->fd, NULL, NULL);
	uint8_t hello[8], hdr[8], body[4096];

	if (c == -1 || read_full(c, hello, 8) == -1)
		goto out;
	for (size_t i = 0; i < s->n || s->hold; i++) {
		uint32_t words;
		uint8_t type;

		if (read_full(c, hdr, 8) == -1)
			break;
		dqlite_wire_header(hdr, &words, &type);
		s->last_type = type;
		if (words * 8 > sizeof(body) || read_full(c, body, words * 8))
			break;
		if (s->hold)
			continue;
		if (write(c, s->answers[i], s->lens[i]) < 0)
			break;
	}
out:
	if (c != -1)
		close(c);
	return NULL;
}

static pthread_t
start(struct script *s)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	pthread_t t;

	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	s->fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(bind(s->fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(s->fd, 1), 0);
	getsockname(s->fd, (struct sockaddr *)&sin, &len);
	s->port = ntohs(sin.sin_port);
	pthread_create(&t, NULL, serve, s);
	return t;
}

static struct dqlite_client *
dial(struct script *s, int timeout_ms)
{
	char addr[64];
	struct dqlite_client_err e;
	struct dqlite_client *c;

	snprintf(addr, sizeof(addr), "127.0.0.1:%d", s->port);
	c = dqlite_client_connect(addr, timeout_ms, &e);
	assert_non_null(c);
	return c;
}

static void
finish(struct script *s, pthread_t t, struct dqlite_client *c)
{
	dqlite_client_close(c);
	pthread_join(t, NULL);
	close(s->fd);
}

static void
test_leader_answer_and_failure(void **state)
{
	uint8_t server[32] = { 3, 0, 0, 0, DQLITE_RESP_SERVER };
	uint8_t failure[32] = { 3, 0, 0, 0, DQLITE_RESP_FAILURE };
	struct script s = { .answers = { server, failure }, .lens = { 32, 32 },
		.n = 2 };
	pthread_t t;
	struct dqlite_client *c;
	struct dqlite_client_err e;
	char leader[64];
	uint64_t id;

	le64(server + 8, 1);
	memcpy(server + 16, "10.0.0.1:2181", 13);
	le64(failure + 8, DQLITE_CLIENT_NOT_LEADER);
	memcpy(failure + 16, "not leader", 10);
	t = start(&s);
	c = dial(&s, 2000);
	assert_int_equal(dqlite_client_leader(c, &id, leader, sizeof(leader),
	    &e), DQLITE_CLIENT_OK);
	assert_int_equal(id, 1);
	assert_string_equal(leader, "10.0.0.1:2181");
	assert_int_equal(dqlite_client_exec(c, "INSERT INTO t VALUES (1)", NULL,
	    0, NULL, NULL, &e), DQLITE_CLIENT_EFAIL);
	assert_int_equal(s.last_type, DQLITE_REQ_EXEC_SQL);
	assert_int_equal(e.code, DQLITE_CLIENT_NOT_LEADER);
	assert_string_equal(e.msg, "not leader");
	finish(&s, t, c);
}

/* A ROWS message: one column "n", one row holding n, then the marker. */
static void
one_row_batch(uint8_t msg[48], int64_t n, uint64_t marker)
{
	memset(msg, 0, 48);
	msg[0] = 5; /* words */
	msg[4] = DQLITE_RESP_ROWS;
	le64(msg + 8, 1);
	msg[16] = 'n';
	msg[24] = DQLITE_TYPE_INTEGER;
	le64(msg + 32, (uint64_t)n);
	le64(msg + 40, marker);
}

static void
test_rows_over_two_batches(void **state)
{
	static uint8_t both[96];
	struct script s = { .answers = { both }, .lens = { sizeof(both) },
		.n = 1 };
	struct dqlite_client_err e;
	struct store_rows *rows;
	struct dqlite_client *c;
	pthread_t t;

	/* the server sends every batch of one query on its own */
	one_row_batch(both, 1, DQLITE_WIRE_ROWS_PART);
	one_row_batch(both + 48, 3, DQLITE_WIRE_ROWS_DONE);
	t = start(&s);
	c = dial(&s, 2000);
	assert_int_equal(dqlite_client_query(c, "SELECT n FROM t", NULL, 0,
	    &rows, &e), DQLITE_CLIENT_OK);
	assert_int_equal(s.last_type, DQLITE_REQ_QUERY_SQL);
	assert_int_equal(rows->nrows, 2);
	assert_string_equal(rows->cols[0], "n");
	assert_int_equal(store_rows_int(rows, 0, 0), 1);
	assert_int_equal(store_rows_int(rows, 1, 0), 3);
	store_rows_free(rows);
	finish(&s, t, c);
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
test_a_silent_member_times_out(void **state)
{
	struct script s = { .hold = 1 };
	struct dqlite_client_err e;
	struct dqlite_client *c;
	char leader[64];
	uint64_t id;
	pthread_t t;
	double began;

	t = start(&s);
	c = dial(&s, 300);
	began = now();
	assert_int_equal(dqlite_client_leader(c, &id, leader, sizeof(leader),
	    &e), DQLITE_CLIENT_EIO);
	assert_true(now() - began < 5.0);
	assert_non_null(strstr(e.msg, "no answer in time"));
	/* the connection is now unusable, and says so */
	assert_int_equal(dqlite_client_leader(c, &id, leader, sizeof(leader),
	    &e), DQLITE_CLIENT_EIO);
	assert_non_null(strstr(e.msg, "connection closed"));
	shutdown(s.fd, SHUT_RDWR);
	finish(&s, t, c);
}

static void
test_malformed_answers_break_the_connection(void **state)
{
	uint8_t huge[8] = { 0xff, 0xff, 0xff, 0xff, DQLITE_RESP_SERVER };
	uint8_t wrong[16] = { 1, 0, 0, 0, DQLITE_RESP_DB };
	struct dqlite_client_err e;
	struct dqlite_client *c;
	char leader[64];
	uint64_t id;

	for (int i = 0; i < 2; i++) {
		struct script s = { .answers = { i ? wrong : huge },
			.lens = { i ? 16 : 8 }, .n = 1 };
		pthread_t t = start(&s);

		c = dial(&s, 2000);
		assert_int_equal(dqlite_client_leader(c, &id, leader,
		    sizeof(leader), &e), DQLITE_CLIENT_EIO);
		assert_non_null(strstr(e.msg, i ? "unexpected response type" :
		    "too large"));
		finish(&s, t, c);
	}
}

static void
test_nobody_listening(void **state)
{
	struct dqlite_client_err e;
	const char *members[2] = { "127.0.0.1:1", "not-an-address" };

	assert_null(dqlite_client_connect("127.0.0.1:1", 500, &e));
	assert_int_equal(e.kind, DQLITE_CLIENT_EIO);
	assert_null(dqlite_client_connect("nocolon", 500, &e));
	assert_non_null(strstr(e.msg, "expected host:port"));
	assert_null(dqlite_client_connect_leader(members, 2, 500, &e));
	assert_non_null(strstr(e.msg, "no leader: 127.0.0.1:1: "));
	assert_non_null(strstr(e.msg, "not-an-address"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_leader_answer_and_failure),
		cmocka_unit_test(test_rows_over_two_batches),
		cmocka_unit_test(test_a_silent_member_times_out),
		cmocka_unit_test(test_malformed_answers_break_the_connection),
		cmocka_unit_test(test_nobody_listening),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

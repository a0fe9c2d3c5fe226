/* Unit tests for the small pure modules: log formatting, ids, route
 * matching, the RecordIO / SSE decoders and xalloc. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dcos/http_server.h"
#include "dcos/ids.h"
#include "dcos/log.h"
#include "dcos/stream_decode.h"
#include "dcos/xalloc.h"

static int
fmt(char *buf, int size, int journal, enum log_level lvl, const char *f, ...)
{
	va_list ap;
	int n;

	va_start(ap, f);
	n = log_format(buf, size, journal, "marathon", lvl, 1700000000.25, f, ap);
	va_end(ap);
	return n;
}

static void
test_log_lines_plain_and_journal(void **state)
{
	char buf[256];

	fmt(buf, sizeof(buf), 0, LOG_LVL_WARN, "agent %s lost tasks=%d", "S1", 3);
	assert_string_equal(buf, "2023-11-14T22:13:20.250Z WARN marathon: agent "
	    "S1 lost tasks=3");
	fmt(buf, sizeof(buf), 1, LOG_LVL_WARN, "agent %s lost", "S1");
	assert_string_equal(buf, "<4>marathon: agent S1 lost");
	/* truncation keeps a terminated line */
	assert_int_equal(fmt(buf, 16, 1, LOG_LVL_INFO, "%s", "0123456789abcdef"), 15);
	assert_int_equal(strlen(buf), 15);
	assert_int_equal(log_level_parse("warning"), LOG_LVL_WARN);
	assert_int_equal(log_level_parse("DEBUG"), LOG_LVL_DEBUG);
	assert_int_equal(log_level_parse("loud"), -1);
}

static void
test_uuids_have_the_right_shape(void **state)
{
	char a[UUID_STR_LEN], b[UUID_STR_LEN];

	ids_uuid4(a);
	ids_uuid4(b);
	assert_true(ids_is_uuid(a));
	assert_string_not_equal(a, b);
	assert_int_equal(a[14], '4');
	assert_non_null(strchr("89ab", a[19]));
	ids_uuid1(a);
	ids_uuid1(b);
	assert_true(ids_is_uuid(a));
	assert_int_equal(a[14], '1');
	assert_string_not_equal(a, b);
	assert_false(ids_is_uuid("not-a-uuid"));
	assert_false(ids_is_uuid("9c7f1e0e-2b0e-4c5a-9d3e-0f6c1f2a3b4g"));
}

static void
test_mesos_id_formats(void **state)
{
	char buf[128], run[8];

	ids_framework(buf, sizeof(buf), "u", 1);
	assert_string_equal(buf, "u-0001");
	ids_agent(buf, sizeof(buf), "u", 3);
	assert_string_equal(buf, "u-S3");
	ids_offer(buf, sizeof(buf), "u", 42);
	assert_string_equal(buf, "u-O42");
	ids_random_alnum(run, 5);
	assert_int_equal(strlen(run), 5);
	for (int i = 0; i < 5; i++)
		assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", run[i]));
}

static int
route(const char *pattern, const char *path, const char **v0, const char **v1)
{
	static char buf[512];
	const char *names[4], *values[4];
	int n;

	if (!http_route_match(pattern, path, buf, sizeof(buf), names, values, &n, 4))
		return -1;
	*v0 = n > 0 ? values[0] : NULL;
	*v1 = n > 1 ? values[1] : NULL;
	return n;
}

static void
test_routes_match_params_and_greedy_tails(void **state)
{
	const char *a, *b;

	assert_int_equal(route("/v2/apps", "/v2/apps/", &a, &b), 0);
	assert_int_equal(route("/v2/apps/{id*}", "/v2/apps/shop/db", &a, &b), 1);
	assert_string_equal(a, "shop/db");
	assert_int_equal(route("/v2/apps/{id*}/tasks", "/v2/apps/shop/db/tasks",
	    &a, &b), 1);
	assert_string_equal(a, "shop/db");
	assert_int_equal(route("/v2/apps/{id*}/tasks/{task}",
	    "/v2/apps/a/b/tasks/a_b.1", &a, &b), 2);
	assert_string_equal(a, "a/b");
	assert_string_equal(b, "a_b.1");
	assert_int_equal(route("/v1/jobs/{id}", "/v1/jobs/a/b", &a, &b), -1);
	assert_int_equal(route("/v2/apps/{id*}/tasks", "/v2/apps/tasks", &a, &b), -1);
	assert_int_equal(route("/v2/apps/{id*}", "/v2/apps", &a, &b), -1);
	assert_int_equal(route("/", "/", &a, &b), 0);
	assert_int_equal(route("/x", "//x//", &a, &b), 0);
}

struct records {
	char got[8][64];
	int n;
	int stop_at;
};

static int
on_record(const char *data, size_t len, void *arg)
{
	struct records *r = arg;

	snprintf(r->got[r->n++], 64, "%.*s", (int)len, data);
	return r->n == r->stop_at ? -1 : 0;
}

static void
test_recordio_any_chunking(void **state)
{
	const char *stream = "20\n{\"type\":\"HEARTBEAT\"}5\nhello0\n";
	size_t len = strlen(stream);

	/* feed in every possible split into two chunks */
	for (size_t cut = 0; cut <= len; cut++) {
		struct recordio_decoder d;
		struct records r = { .stop_at = -1 };

		recordio_init(&d, 1024, on_record, &r);
		assert_int_equal(recordio_feed(&d, stream, cut), 0);
		assert_int_equal(recordio_feed(&d, stream + cut, len - cut), 0);
		assert_int_equal(r.n, 3);
		assert_string_equal(r.got[0], "{\"type\":\"HEARTBEAT\"}");
		assert_string_equal(r.got[1], "hello");
		assert_string_equal(r.got[2], "");
		recordio_free(&d);
	}
}

static void
test_recordio_rejects_garbage_and_oversize(void **state)
{
	struct recordio_decoder d;
	struct records r = { .stop_at = -1 };

	recordio_init(&d, 100, on_record, &r);
	assert_int_equal(recordio_feed(&d, "abc\n", 4), -1);
	assert_int_equal(recordio_feed(&d, "1\nx", 3), -1); /* stays failed */
	recordio_free(&d);
	recordio_init(&d, 100, on_record, &r);
	assert_int_equal(recordio_feed(&d, "101\n", 4), -1);
	recordio_free(&d);
	recordio_init(&d, 100, on_record, &r);
	assert_int_equal(recordio_feed(&d, "\n", 1), -1);
	recordio_free(&d);
	r.n = 0;
	r.stop_at = 1;
	recordio_init(&d, 100, on_record, &r);
	assert_int_equal(recordio_feed(&d, "1\na1\nb", 6), -1);
	assert_int_equal(r.n, 1);
	recordio_free(&d);
}

struct events {
	char ev[8][32], data[8][64];
	int n;
};

static int
on_sse(const char *event, const char *data, void *arg)
{
	struct events *e = arg;

	snprintf(e->ev[e->n], 32, "%s", event);
	snprintf(e->data[e->n++], 64, "%s", data);
	return 0;
}

static void
test_sse_lf_crlf_comments_and_multiline(void **state)
{
	const char *stream = ": keep-alive\r\n\r\nevent: status_update_event\r\n"
	    "data: {\"a\":1}\r\n\r\ndata: line1\ndata: line2\n\n"
	    "event: x\nid: 7\nretry: 10\ndata:nospace\n\n";
	size_t len = strlen(stream);

	for (size_t cut = 0; cut <= len; cut += 3) {
		struct sse_decoder d;
		struct events e = { 0 };

		sse_init(&d, 1024, on_sse, &e);
		assert_int_equal(sse_feed(&d, stream, cut), 0);
		assert_int_equal(sse_feed(&d, stream + cut, len - cut), 0);
		assert_int_equal(e.n, 3);
		assert_string_equal(e.ev[0], "status_update_event");
		assert_string_equal(e.data[0], "{\"a\":1}");
		assert_string_equal(e.ev[1], "message");
		assert_string_equal(e.data[1], "line1\nline2");
		assert_string_equal(e.data[2], "nospace");
		sse_free(&d);
	}
}

static void
test_sse_bounds_event_size(void **state)
{
	struct sse_decoder d;
	struct events e = { 0 };
	char big[300];

	memset(big, 'x', sizeof(big));
	sse_init(&d, 100, on_sse, &e);
	assert_int_equal(sse_feed(&d, big, sizeof(big)), -1);
	sse_free(&d);
}

static void
test_xalloc_copies_and_keeps_null(void **state)
{
	char *s = xstrdup("agent-1"), *z;
	int *v = xcalloc(0, 0);

	(void)state;
	assert_string_equal(s, "agent-1");
	assert_null(xstrdup(NULL));
	v = xrealloc(v, 4 * sizeof(*v));
	v[3] = 7;
	assert_int_equal(v[3], 7);
	z = xcalloc(8, 1);
	for (int i = 0; i < 8; i++)
		assert_int_equal(z[i], 0);
	free(s);
	free(v);
	free(z);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_log_lines_plain_and_journal),
		cmocka_unit_test(test_uuids_have_the_right_shape),
		cmocka_unit_test(test_mesos_id_formats),
		cmocka_unit_test(test_routes_match_params_and_greedy_tails),
		cmocka_unit_test(test_recordio_any_chunking),
		cmocka_unit_test(test_recordio_rejects_garbage_and_oversize),
		cmocka_unit_test(test_sse_lf_crlf_comments_and_multiline),
		cmocka_unit_test(test_sse_bounds_event_size),
		cmocka_unit_test(test_xalloc_copies_and_keeps_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

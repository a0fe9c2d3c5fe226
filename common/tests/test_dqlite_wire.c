/* Unit tests for dqlite_wire: requests byte for byte as the protocol
 * reference lays them out, responses decoded, and malformed or truncated
 * responses refused without reading past the end (ASan checks). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dcos/dqlite_wire.h"

static void
le64(uint8_t *at, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		at[i] = (uint8_t)(v >> (8 * i));
}

static void
test_handshake_and_leader_request(void **state)
{
	struct dqlite_wire_buf b = { 0 };
	uint8_t hello[8], want_hello[8] = { 1, 0, 0, 0, 0, 0, 0, 0 };
	uint8_t want[16] = { 1, 0, 0, 0, 0 /* LEADER */, 0, 0, 0 };

	dqlite_wire_handshake(hello);
	assert_memory_equal(hello, want_hello, 8);
	dqlite_wire_begin(&b, DQLITE_REQ_LEADER);
	dqlite_wire_put_u64(&b, 0);
	dqlite_wire_end(&b);
	assert_int_equal(b.len, 16);
	assert_memory_equal(b.p, want, 16);
	dqlite_wire_buf_free(&b);
}

static void
test_exec_sql_with_every_parameter_type(void **state)
{
	struct dqlite_wire_buf b = { 0 };
	struct store_val v[5] = { SV_INT(7), SV_FLOAT(0.5), SV_TEXT("hi"),
		SV_BLOB("ab\0c", 4), SV_NULL };
	uint8_t want[88] = { 0 };
	char err[128];
	double half = 0.5;
	uint64_t bits;

	want[0] = 10;                          /* words */
	want[4] = DQLITE_REQ_EXEC_SQL;
	memcpy(want + 16, "SELECT ?", 8);      /* db id 0 (8..15), sql padded */
	want[32] = 5;                          /* count, then the 5 types */
	want[33] = 1, want[34] = 2, want[35] = 3, want[36] = 4, want[37] = 5;
	le64(want + 40, 7);
	memcpy(&bits, &half, 8);
	le64(want + 48, bits);
	memcpy(want + 56, "hi", 2);
	le64(want + 64, 4);
	memcpy(want + 72, "ab\0c", 4);
	/* NULL is a zero word at 80 */

	dqlite_wire_begin(&b, DQLITE_REQ_EXEC_SQL);
	dqlite_wire_put_u64(&b, 0);
	dqlite_wire_put_text(&b, "SELECT ?");
	assert_int_equal(dqlite_wire_put_params(&b, v, 5, err, sizeof(err)), 0);
	dqlite_wire_end(&b);
	assert_int_equal(b.len, sizeof(want));
	assert_memory_equal(b.p, want, sizeof(want));
	dqlite_wire_buf_free(&b);
}

static void
test_bad_parameters_are_refused(void **state)
{
	struct dqlite_wire_buf b = { 0 };
	struct store_val many[256], nul = { .type = STORE_TEXT, .s = "a\0b",
		.len = 3 };
	char err[128];

	for (int i = 0; i < 256; i++)
		many[i] = SV_INT(i);
	dqlite_wire_begin(&b, DQLITE_REQ_EXEC_SQL);
	assert_int_equal(dqlite_wire_put_params(&b, many, 256, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "at most 255"));
	assert_int_equal(dqlite_wire_put_params(&b, &nul, 1, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "parameter 1 is TEXT with a NUL"));
	assert_int_equal(b.len, DQLITE_WIRE_HEADER); /* nothing appended */
	assert_int_equal(dqlite_wire_put_params(&b, many, 255, err,
	    sizeof(err)), 0);
	dqlite_wire_buf_free(&b);
}

/* ROWS body: columns a, b; rows (42, "x") and (NULL, blob "abc"). */
static size_t
rows_body(uint8_t *p, uint64_t eof)
{
	memset(p, 0, 112);
	le64(p, 2);
	memcpy(p + 8, "a", 1);
	memcpy(p + 16, "b", 1);
	p[24] = 1 | 3 << 4; /* INTEGER, TEXT */
	le64(p + 32, 42);
	memcpy(p + 40, "x", 1);
	p[48] = 5 | 4 << 4; /* NULL, BLOB */
	le64(p + 64, 3);
	memcpy(p + 72, "abc", 3);
	le64(p + 80, eof);
	return 88;
}

static void
test_rows_in_batches(void **state)
{
	uint8_t body[112];
	size_t len = rows_body(body, DQLITE_WIRE_ROWS_PART);
	struct dqlite_wire_cursor c = { body, len };
	struct store_rows *rows = NULL;
	uint64_t eof;
	char err[128];

	assert_int_equal(dqlite_wire_get_rows(&c, &rows, &eof, err,
	    sizeof(err)), 0);
	assert_true(eof == DQLITE_WIRE_ROWS_PART);
	assert_int_equal(c.left, 0);
	assert_int_equal(rows->ncols, 2);
	assert_string_equal(rows->cols[1], "b");
	assert_int_equal(rows->nrows, 2);
	assert_int_equal(store_rows_int(rows, 0, 0), 42);
	assert_string_equal(store_rows_text(rows, 0, 1), "x");
	assert_int_equal(store_rows_get(rows, 1, 0)->type, STORE_NULL);
	assert_int_equal(store_rows_get(rows, 1, 1)->type, STORE_BLOB);
	assert_int_equal(store_rows_get(rows, 1, 1)->len, 3);
	assert_memory_equal(store_rows_text(rows, 1, 1), "abc", 3);

	len = rows_body(body, DQLITE_WIRE_ROWS_DONE);
	c = (struct dqlite_wire_cursor){ body, len };
	assert_int_equal(dqlite_wire_get_rows(&c, &rows, &eof, err,
	    sizeof(err)), 0);
	assert_true(eof == DQLITE_WIRE_ROWS_DONE);
	assert_int_equal(rows->nrows, 4);

	le64(body, 3); /* a later batch with other columns */
	c = (struct dqlite_wire_cursor){ body, len };
	assert_int_equal(dqlite_wire_get_rows(&c, &rows, &eof, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "3 columns"));
	store_rows_free(rows);
}

static void
test_truncated_rows_are_errors(void **state)
{
	uint8_t full[112];
	size_t len = rows_body(full, DQLITE_WIRE_ROWS_DONE);
	char err[128];

	for (size_t n = 0; n < len; n++) {
		/* a copy of exactly n bytes, so ASan catches any overread */
		uint8_t *body = malloc(n ? n : 1);
		struct dqlite_wire_cursor c = { body, n };
		struct store_rows *rows = NULL;
		uint64_t eof;

		memcpy(body, full, n);
		assert_int_equal(dqlite_wire_get_rows(&c, &rows, &eof, err,
		    sizeof(err)), -1);
		store_rows_free(rows);
		free(body);
	}
}

static void
test_failure_text_and_header(void **state)
{
	uint8_t body[24] = { 0 }, hdr[8] = { 0 };
	struct dqlite_wire_cursor c = { body, sizeof(body) };
	const char *msg;
	uint64_t code;
	uint32_t words;
	uint8_t type;

	le64(body, 2067);
	memcpy(body + 8, "UNIQUE failed", 13);
	assert_int_equal(dqlite_wire_get_failure(&c, &code, &msg), 0);
	assert_int_equal(code, 2067);
	assert_string_equal(msg, "UNIQUE failed");

	memset(body + 8, 'z', 16); /* no NUL inside the body */
	c = (struct dqlite_wire_cursor){ body, sizeof(body) };
	assert_int_equal(dqlite_wire_get_failure(&c, &code, &msg), -1);

	le64(hdr, 3);
	hdr[4] = DQLITE_RESP_ROWS;
	assert_int_equal(dqlite_wire_header(hdr, &words, &type), 0);
	assert_int_equal(words, 3);
	assert_int_equal(type, DQLITE_RESP_ROWS);
	memset(hdr, 0xff, 4);
	assert_int_equal(dqlite_wire_header(hdr, &words, &type), -1);
}

static void
test_skip_params(void **state)
{
	struct dqlite_wire_buf b = { 0 };
	struct store_val v[3] = { SV_TEXT("hello world"), SV_BLOB("xyz", 3),
		SV_INT(-1) };
	struct dqlite_wire_cursor c;
	char err[64];

	dqlite_wire_put_params(&b, v, 3, err, sizeof(err));
	c = (struct dqlite_wire_cursor){ b.p, b.len };
	assert_int_equal(dqlite_wire_skip_params(&c), 0);
	assert_int_equal(c.left, 0);
	for (size_t n = 1; n < b.len; n++) {
		c = (struct dqlite_wire_cursor){ b.p, n };
		assert_int_equal(dqlite_wire_skip_params(&c), -1);
	}
	b.p[1] = DQLITE_TYPE_UNIXTIME; /* servers do not read it as a param */
	c = (struct dqlite_wire_cursor){ b.p, b.len };
	assert_int_equal(dqlite_wire_skip_params(&c), -1);
	dqlite_wire_buf_free(&b);
}

static void
test_random_bodies_never_overread(void **state)
{
	srand(42);
	for (int i = 0; i < 20000; i++) {
		size_t n = (size_t)(rand() % 96);
		uint8_t *body = malloc(n ? n : 1);
		struct dqlite_wire_cursor c = { body, n };
		struct store_rows *rows = NULL;
		const char *msg;
		uint64_t eof, code;
		char err[128];

		for (size_t k = 0; k < n; k++)
			body[k] = (uint8_t)(rand() % 4 ? rand() % 16 : rand());
		if (n >= 8 && i % 2)
			le64(body, (uint64_t)(rand() % 3 + 1)); /* plausible ncols */
		dqlite_wire_get_rows(&c, &rows, &eof, err, sizeof(err));
		store_rows_free(rows);
		c = (struct dqlite_wire_cursor){ body, n };
		dqlite_wire_get_failure(&c, &code, &msg);
		c = (struct dqlite_wire_cursor){ body, n };
		dqlite_wire_skip_params(&c);
		free(body);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handshake_and_leader_request),
		cmocka_unit_test(test_exec_sql_with_every_parameter_type),
		cmocka_unit_test(test_bad_parameters_are_refused),
		cmocka_unit_test(test_rows_in_batches),
		cmocka_unit_test(test_truncated_rows_are_errors),
		cmocka_unit_test(test_failure_text_and_header),
		cmocka_unit_test(test_skip_params),
		cmocka_unit_test(test_random_bodies_never_overread),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for dcos-exhibitor's pure parts: what the store port lets
 * through (guard_check.c) and the static ensemble (config.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dcos/dqlite_wire.h"
#include "../src/exhibitor.h"

/* A request body built with the wire encoder, header stripped. */
struct req {
	struct dqlite_wire_buf b;
};

static int
check(struct req *r, int type, char *address)
{
	char why[160], addr[DQLITE_CLIENT_ADDR_MAX];
	int v = guard_check((uint8_t)type, r->b.p + DQLITE_WIRE_HEADER,
	    r->b.len - DQLITE_WIRE_HEADER, addr, sizeof(addr), why, sizeof(why));

	if (address && (v == GUARD_CONNECT || v == GUARD_MEMBERSHIP))
		strcpy(address, addr);
	dqlite_wire_buf_free(&r->b);
	return v;
}

static void
test_well_formed_requests_pass(void **state)
{
	struct store_val p[2] = { SV_INT(1), SV_TEXT("x") };
	struct req r = { 0 };
	char err[64], addr[DQLITE_CLIENT_ADDR_MAX];

	dqlite_wire_begin(&r.b, DQLITE_REQ_LEADER);
	dqlite_wire_put_u64(&r.b, 0);
	assert_int_equal(check(&r, DQLITE_REQ_LEADER, NULL), GUARD_REQUEST);

	dqlite_wire_begin(&r.b, DQLITE_REQ_OPEN);
	dqlite_wire_put_text(&r.b, "dcos");
	dqlite_wire_put_u64(&r.b, 0);
	dqlite_wire_put_text(&r.b, "volatile");
	assert_int_equal(check(&r, DQLITE_REQ_OPEN, NULL), GUARD_REQUEST);

	dqlite_wire_begin(&r.b, DQLITE_REQ_EXEC_SQL);
	dqlite_wire_put_u64(&r.b, 0);
	dqlite_wire_put_text(&r.b, "INSERT INTO t VALUES (?, ?)");
	dqlite_wire_put_params(&r.b, p, 2, err, sizeof(err));
	assert_int_equal(check(&r, DQLITE_REQ_EXEC_SQL, NULL), GUARD_REQUEST);

	dqlite_wire_begin(&r.b, DQLITE_REQ_QUERY);
	dqlite_wire_put_u32(&r.b, 0);
	dqlite_wire_put_u32(&r.b, 3);
	dqlite_wire_put_params(&r.b, p, 1, err, sizeof(err));
	assert_int_equal(check(&r, DQLITE_REQ_QUERY, NULL), GUARD_REQUEST);

	dqlite_wire_begin(&r.b, DQLITE_REQ_ASSIGN);
	dqlite_wire_put_u64(&r.b, 5);
	dqlite_wire_put_u64(&r.b, DQLITE_CLIENT_VOTER);
	assert_int_equal(check(&r, DQLITE_REQ_ASSIGN, NULL), GUARD_MEMBERSHIP);

	dqlite_wire_begin(&r.b, DQLITE_REQ_ADD);
	dqlite_wire_put_u64(&r.b, 5);
	dqlite_wire_put_text(&r.b, "10.0.0.3:2181");
	assert_int_equal(check(&r, DQLITE_REQ_ADD, addr), GUARD_MEMBERSHIP);
	assert_string_equal(addr, "10.0.0.3:2181");
	dqlite_wire_begin(&r.b, DQLITE_REQ_TRANSFER);
	dqlite_wire_put_u64(&r.b, 0);
	assert_int_equal(check(&r, DQLITE_REQ_TRANSFER, NULL), GUARD_MEMBERSHIP);

	dqlite_wire_begin(&r.b, DQLITE_REQ_CONNECT);
	dqlite_wire_put_u64(&r.b, 9);
	dqlite_wire_put_text(&r.b, "10.0.0.2:2181");
	assert_int_equal(check(&r, DQLITE_REQ_CONNECT, addr), GUARD_CONNECT);
	assert_string_equal(addr, "10.0.0.2:2181");
}

static void
test_requests_libdqlite_cannot_take_are_refused(void **state)
{
	struct req r = { 0 };

	/* DESCRIBE with a format other than 0 makes it answer twice */
	dqlite_wire_begin(&r.b, DQLITE_REQ_DESCRIBE);
	dqlite_wire_put_u64(&r.b, 1);
	assert_int_equal(check(&r, DQLITE_REQ_DESCRIBE, NULL), GUARD_BAD);
	/* ADD of id 0 asserts in raft */
	dqlite_wire_begin(&r.b, DQLITE_REQ_ADD);
	dqlite_wire_put_u64(&r.b, 0);
	dqlite_wire_put_text(&r.b, "10.0.0.9:2181");
	assert_int_equal(check(&r, DQLITE_REQ_ADD, NULL), GUARD_BAD);
	dqlite_wire_begin(&r.b, DQLITE_REQ_ASSIGN);
	dqlite_wire_put_u64(&r.b, 5);
	dqlite_wire_put_u64(&r.b, 7);
	assert_int_equal(check(&r, DQLITE_REQ_ASSIGN, NULL), GUARD_BAD);
	dqlite_wire_begin(&r.b, DQLITE_REQ_CLUSTER);
	dqlite_wire_put_u64(&r.b, 2);
	assert_int_equal(check(&r, DQLITE_REQ_CLUSTER, NULL), GUARD_BAD);
	dqlite_wire_begin(&r.b, DQLITE_REQ_HEARTBEAT);
	dqlite_wire_put_u64(&r.b, 0);
	assert_int_equal(check(&r, DQLITE_REQ_HEARTBEAT, NULL), GUARD_BAD);
	dqlite_wire_begin(&r.b, 25);
	dqlite_wire_put_u64(&r.b, 0);
	assert_int_equal(check(&r, 25, NULL), GUARD_BAD);
	/* malformed: text without its NUL, truncated parameters, empty body */
	dqlite_wire_begin(&r.b, DQLITE_REQ_PREPARE);
	dqlite_wire_put_u64(&r.b, 0);
	dqlite_wire_put_u64(&r.b, 0x4141414141414141ULL);
	assert_int_equal(check(&r, DQLITE_REQ_PREPARE, NULL), GUARD_BAD);
	dqlite_wire_begin(&r.b, DQLITE_REQ_EXEC);
	dqlite_wire_put_u32(&r.b, 0);
	dqlite_wire_put_u32(&r.b, 1);
	dqlite_wire_put_u64(&r.b, 0x0101 | 3); /* 3 params, types 1 and 0 */
	assert_int_equal(check(&r, DQLITE_REQ_EXEC, NULL), GUARD_BAD);
	dqlite_wire_begin(&r.b, DQLITE_REQ_LEADER);
	assert_int_equal(check(&r, DQLITE_REQ_LEADER, NULL), GUARD_BAD);
}

static void
test_node_ids(void **state)
{
	uint64_t a = config_node_id("10.0.0.2:2181");

	assert_true(a > 1);
	assert_true(a == config_node_id("10.0.0.2:2181"));
	assert_true(a != config_node_id("10.0.0.3:2181"));
	assert_true(a < (1ULL << 63));
}

static void
test_master_list(void **state)
{
	struct exhibitor ex = { 0 };
	char err[256], spec[256];

	ex.f.ip = "10.0.0.2";
	ex.f.data_dir = "/var/lib/dcos/exhibitor";
	ex.f.port = 8181;
	ex.f.client_port = 2181;
	ex.f.election_timeout = 3;
	ex.f.check_interval = 1;
	ex.f.master_list = "10.0.0.10, 10.0.0.2,10.0.0.9";
	assert_int_equal(config_load(&ex, err, sizeof(err)), 0);
	assert_int_equal(ex.nmembers, 3);
	/* numeric order: .2 < .9 < .10 */
	assert_string_equal(ex.members[0].address, "10.0.0.2:2181");
	assert_string_equal(ex.members[2].ip, "10.0.0.10");
	assert_int_equal(ex.self, 0);
	assert_string_equal(config_servers_spec(&ex, spec, sizeof(spec)),
	    "S:1:10.0.0.2,S:2:10.0.0.9,S:3:10.0.0.10");

	ex.f.master_list = "[\"10.0.0.1\", \"10.0.0.2\"]";
	assert_int_equal(config_load(&ex, err, sizeof(err)), 0);
	assert_int_equal(ex.self, 1);

	ex.f.master_list = "[\"10.0.0.1\", 2]";
	assert_int_equal(config_load(&ex, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "entry 2 is not a string"));
	ex.f.master_list = "10.0.0.2,,10.0.0.3";
	assert_int_equal(config_load(&ex, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "empty or overlong entry"));
	ex.f.master_list = "10.0.0.1,10.0.0.3";
	assert_int_equal(config_load(&ex, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "--ip 10.0.0.2 is not in --master_list"));
	ex.f.master_list = "";
	assert_int_equal(config_load(&ex, err, sizeof(err)), 0);
	assert_int_equal(ex.nmembers, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_well_formed_requests_pass),
		cmocka_unit_test(test_requests_libdqlite_cannot_take_are_refused),
		cmocka_unit_test(test_node_ids),
		cmocka_unit_test(test_master_list),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

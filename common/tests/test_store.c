/* Unit tests for store (sqlite backend) and lease: transactions,
 * preconditions, migrations, async calls on a loop, and two lease
 * contenders sharing one database. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "dcos/lease.h"
#include "dcos/log.h"
#include "dcos/store.h"

static char dbpath[64];
static char url[80];

static int
setup(void **state)
{
	int fd;

	snprintf(dbpath, sizeof(dbpath), "/tmp/dcos-store-test-XXXXXX");
	fd = mkstemp(dbpath);
	close(fd);
	snprintf(url, sizeof(url), "sqlite:%s", dbpath);
	log_init("test", LOG_LVL_ERROR);
	return 0;
}

static int
teardown(void **state)
{
	char p[80];

	unlink(dbpath);
	snprintf(p, sizeof(p), "%s-wal", dbpath);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", dbpath);
	unlink(p);
	return 0;
}

static void
test_open_rejects_unknown_urls(void **state)
{
	struct store_err err;

	assert_null(store_open("mysql://x", &err));
	assert_non_null(strstr(err.msg, "unknown store url"));
	assert_null(store_open("sqlite:", &err));
	assert_null(store_open("sqlite:/nonexistent/dir/x.db", &err));
	assert_int_equal(err.code, STORE_ERR_IO);
}

static void
test_exec_query_and_types(void **state)
{
	struct store_err err;
	struct store *s = store_open(url, &err);
	struct store_rows *rows;
	struct store_val v[4] = { SV_INT(7), SV_FLOAT(0.5), SV_TEXT("hi"),
		SV_BLOB("\0b", 2) };
	int64_t changes;

	assert_non_null(s);
	assert_int_equal(store_exec(s, "CREATE TABLE t (i INTEGER, f REAL, s TEXT, "
	    "b BLOB)", NULL, 0, NULL, &err), STORE_OK);
	assert_int_equal(store_exec(s, "INSERT INTO t VALUES (?, ?, ?, ?)", v, 4,
	    &changes, &err), STORE_OK);
	assert_int_equal(changes, 1);
	/* a statement that changes no rows says so, even after an INSERT */
	assert_int_equal(store_exec(s, "CREATE TABLE u (x)", NULL, 0, &changes,
	    &err), STORE_OK);
	assert_int_equal(changes, 0);
	assert_int_equal(store_query(s, "SELECT i, f, s, b, NULL FROM t", NULL, 0,
	    &rows, &err), STORE_OK);
	assert_int_equal(rows->nrows, 1);
	assert_int_equal(store_rows_int(rows, 0, 0), 7);
	assert_true(store_rows_float(rows, 0, 1) == 0.5);
	assert_string_equal(store_rows_text(rows, 0, 2), "hi");
	assert_int_equal(store_rows_get(rows, 0, 3)->len, 2);
	assert_null(store_rows_text(rows, 0, 4));
	assert_string_equal(rows->cols[2], "s");
	store_rows_free(rows);
	/* errors name the problem */
	assert_int_equal(store_exec(s, "INSERT INTO nope VALUES (1)", NULL, 0,
	    NULL, &err), STORE_ERR_SQL);
	assert_non_null(strstr(err.msg, "no such table"));
	assert_int_equal(store_exec(s, "INSERT INTO t VALUES (?, ?, ?, ?)", v, 2,
	    NULL, &err), STORE_ERR_SQL);
	assert_non_null(strstr(err.msg, "parameters"));
	store_close(s);
}

static void
test_transaction_is_all_or_nothing(void **state)
{
	struct store_err err;
	struct store *s = store_open(url, &err);
	struct store_tx *tx = store_tx_new();
	struct store_result res;
	struct store_rows *rows;
	struct store_val a = SV_TEXT("a");

	store_exec(s, "CREATE TABLE u (k TEXT PRIMARY KEY)", NULL, 0, NULL, &err);
	store_tx_add(tx, "INSERT INTO u VALUES ('x')", NULL, 0);
	store_tx_add(tx, "INSERT INTO u VALUES (?)", &a, 1);
	store_tx_add(tx, "INSERT INTO u VALUES (?)", &a, 1); /* duplicate */
	assert_int_equal(store_tx_run(s, tx, &res), STORE_ERR_CONSTRAINT);
	assert_non_null(strstr(res.err.msg, "UNIQUE"));
	store_tx_free(tx);
	store_rows_free(res.rows);
	assert_int_equal(store_query(s, "SELECT count(*) FROM u", NULL, 0, &rows,
	    &err), STORE_OK);
	assert_int_equal(store_rows_int(rows, 0, 0), 0);
	store_rows_free(rows);

	/* a failed expectation rolls back too */
	tx = store_tx_new();
	store_tx_add(tx, "INSERT INTO u VALUES ('y')", NULL, 0);
	store_tx_expect(tx, "UPDATE u SET k = 'z' WHERE k = 'missing'", NULL, 0, 1);
	assert_int_equal(store_tx_run(s, tx, &res), STORE_ERR_CONFLICT);
	assert_non_null(strstr(res.err.msg, "precondition failed"));
	store_tx_free(tx);
	store_rows_free(res.rows);
	assert_int_equal(store_query(s, "SELECT count(*) FROM u", NULL, 0, &rows,
	    &err), STORE_OK);
	assert_int_equal(store_rows_int(rows, 0, 0), 0);
	store_rows_free(rows);

	/* and a good one commits, returning the last query's rows */
	tx = store_tx_new();
	store_tx_add(tx, "INSERT INTO u VALUES ('y')", NULL, 0);
	store_tx_expect(tx, "SELECT k FROM u", NULL, 0, 1);
	assert_int_equal(store_tx_run(s, tx, &res), STORE_OK);
	assert_string_equal(store_rows_text(res.rows, 0, 0), "y");
	store_rows_free(res.rows);
	store_tx_free(tx);
	store_close(s);
}

static void
test_migrations_run_once_in_order(void **state)
{
	struct store_err err;
	struct store *s = store_open(url, &err);
	const char *const v1[] = { "CREATE TABLE m (a INTEGER)", NULL };
	const char *const v2[] = { "ALTER TABLE m ADD COLUMN b TEXT",
		"INSERT INTO m VALUES (1, 'x')", NULL };
	const char *const bad[] = { "CREATE TABLE m (a)", NULL };
	const struct store_migration m[] = { { 1, v1 }, { 2, v2 } };
	const struct store_migration m3[] = { { 1, v1 }, { 2, v2 }, { 3, bad } };
	struct store_rows *rows;

	assert_int_equal(store_migrate(s, "comp", m, 2, &err), STORE_OK);
	assert_int_equal(store_migrate(s, "comp", m, 2, &err), STORE_OK);
	assert_int_equal(store_query(s, "SELECT count(*) FROM m", NULL, 0, &rows,
	    &err), STORE_OK);
	assert_int_equal(store_rows_int(rows, 0, 0), 1);
	store_rows_free(rows);
	assert_int_equal(store_migrate(s, "comp", m3, 3, &err), STORE_ERR_SQL);
	assert_non_null(strstr(err.msg, "version 3"));
	assert_int_equal(store_query(s, "SELECT version FROM schema_versions WHERE "
	    "component = 'comp'", NULL, 0, &rows, &err), STORE_OK);
	assert_int_equal(store_rows_int(rows, 0, 0), 2);
	store_rows_free(rows);
	store_close(s);
}

struct async_ctx {
	struct event_base *base;
	int done;
	int64_t value;
	int code;
};

static void
on_query(const struct store_result *res, void *arg)
{
	struct async_ctx *c = arg;

	c->code = res->code;
	c->value = store_rows_int(res->rows, 0, 0);
	if (++c->done == 2)
		event_base_loopexit(c->base, NULL);
}

static void
on_insert(const struct store_result *res, void *arg)
{
	struct async_ctx *c = arg;

	c->code = res->code;
	c->done++;
}

static void
test_async_calls_complete_on_the_loop_in_order(void **state)
{
	struct store_err err;
	struct store *s = store_open(url, &err);
	struct async_ctx c = { .base = event_base_new() };
	struct store_tx *tx = store_tx_new();
	struct store_val v = SV_INT(41);
	struct store_rows *rows;

	store_exec(s, "CREATE TABLE a (n INTEGER)", NULL, 0, NULL, &err);
	assert_int_equal(store_attach(s, c.base, &err), STORE_OK);
	store_tx_add(tx, "INSERT INTO a VALUES (? + 1)", &v, 1);
	store_tx_submit(s, tx, on_insert, &c);
	store_query_submit(s, "SELECT n FROM a", NULL, 0, on_query, &c);
	assert_int_equal(store_pending(s), 2);
	event_base_dispatch(c.base);
	assert_int_equal(c.done, 2);
	assert_int_equal(c.code, STORE_OK);
	assert_int_equal(c.value, 42);
	/* blocking calls still work while attached */
	assert_int_equal(store_query(s, "SELECT count(*) FROM a", NULL, 0, &rows,
	    &err), STORE_OK);
	assert_int_equal(store_rows_int(rows, 0, 0), 1);
	store_rows_free(rows);
	/* work still queued at close is finished, callbacks run */
	store_query_submit(s, "SELECT n FROM a", NULL, 0, on_query, &c);
	store_close(s);
	assert_int_equal(c.done, 3);
	event_base_free(c.base);
}

static int
is_leader(struct lease *l)
{
	return l ? lease_is_leader(l) : 0;
}

struct order {
	struct event_base *base;
	char seen[8];
	int n;
};

static void
record_a(const struct store_result *res, void *arg)
{
	struct order *o = arg;

	o->seen[o->n++] = 'a';
}

static void
record_b(const struct store_result *res, void *arg)
{
	struct order *o = arg;

	o->seen[o->n++] = 'b';
	event_base_loopexit(o->base, NULL);
}

static void
record_u(const struct store_result *res, void *arg)
{
	struct order *o = arg;

	o->seen[o->n++] = 'u';
}

static void
test_urgent_jobs_overtake_queued_ones(void **state)
{
	struct store_err err;
	struct store *s = store_open(url, &err);
	struct order o = { .base = event_base_new() };
	const char *slow = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT "
	    "x + 1 FROM c WHERE x < 300000) SELECT count(*) FROM c";

	assert_int_equal(store_attach(s, o.base, &err), STORE_OK);
	store_query_submit(s, slow, NULL, 0, record_a, &o);
	store_query_submit(s, "SELECT 1", NULL, 0, record_b, &o);
	{
		struct store_tx *tx = store_tx_new();

		store_tx_add(tx, "SELECT 2", NULL, 0);
		store_tx_submit_urgent(s, tx, record_u, &o);
	}
	event_base_dispatch(o.base);
	assert_int_equal(o.n, 3);
	/* a may already run when u arrives; u always runs before b */
	assert_true(strchr(o.seen, 'u') < strchr(o.seen, 'b'));
	store_close(s);
	event_base_free(o.base);
}

struct contenders {
	struct event_base *base;
	struct lease *l[2];
	int leaders_max, elected, lost, ticks;
	struct store *s[2];
};

static void
count(struct lease *l, void *arg)
{
	struct contenders *c = arg;
	int n = is_leader(c->l[0]) + is_leader(c->l[1]);

	if (n > c->leaders_max)
		c->leaders_max = n;
	if (lease_is_leader(l))
		c->elected++;
	else
		c->lost++;
}

static void
on_check(evutil_socket_t fd, short what, void *arg)
{
	struct contenders *c = arg;
	int n = is_leader(c->l[0]) + is_leader(c->l[1]);

	if (n > c->leaders_max)
		c->leaders_max = n;
	c->ticks++;
	/* once someone leads, stop it: the other must take over */
	if (c->elected == 1 && n == 1 && c->lost == 0) {
		int who = is_leader(c->l[0]) ? 0 : 1;

		lease_stop(c->l[who]);
		c->l[who] = NULL;
		c->lost = 1;
	}
	if (c->elected >= 2 || c->ticks > 400)
		event_base_loopexit(c->base, NULL);
}

static void
test_lease_one_holder_and_handover_on_stop(void **state)
{
	struct contenders c = { .base = event_base_new() };
	struct store_err err;
	struct lease_opts o = { .name = "test", .ttl = 1.0 };
	struct timeval tv = { 0, 10000 };
	struct event *check;
	char addr[2][32];
	int64_t epoch;
	char who[64];

	for (int i = 0; i < 2; i++) {
		c.s[i] = store_open(url, &err);
		assert_int_equal(store_attach(c.s[i], c.base, &err), STORE_OK);
		snprintf(addr[i], sizeof(addr[i]), "10.0.0.%d:5050", i + 1);
		o.address = addr[i];
		c.l[i] = lease_start(c.s[i], c.base, &o, count, count, NULL, &c);
	}
	check = event_new(c.base, -1, EV_PERSIST, on_check, &c);
	event_add(check, &tv);
	event_base_dispatch(c.base);
	assert_int_equal(c.leaders_max, 1);
	assert_int_equal(c.elected, 2);
	assert_int_equal(is_leader(c.l[0]) + is_leader(c.l[1]), 1);
	epoch = lease_epoch(c.l[0] ? c.l[0] : c.l[1]);
	assert_int_equal(epoch, 2);
	assert_int_equal(lease_read(c.s[0], "test", who, sizeof(who), &epoch), 0);
	assert_int_equal(epoch, 2);
	for (int i = 0; i < 2; i++) {
		lease_stop(c.l[i]);
		store_close(c.s[i]);
	}
	event_free(check);
	event_base_free(c.base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_rejects_unknown_urls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exec_query_and_types, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transaction_is_all_or_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrations_run_once_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_async_calls_complete_on_the_loop_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_urgent_jobs_overtake_queued_ones, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lease_one_holder_and_handover_on_stop, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

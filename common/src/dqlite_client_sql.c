/*
 * dqlite_client_sql: the database half of the dqlite client: open a
 * database on the connection, prepare, run and finalize statements, and
 * collect every batch of a query's rows (see dqlite_client.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dqlite_client_int.h"

int
dqlite_client_open(struct dqlite_client *c, const char *db,
    struct dqlite_client_err *err)
{
	dqlite_wire_begin(&c->out, DQLITE_REQ_OPEN);
	dqlite_wire_put_text(&c->out, db);
	dqlite_wire_put_u64(&c->out, 0);       /* flags */
	dqlite_wire_put_text(&c->out, "volatile"); /* vfs: ignored by servers */
	return dqlite_client_call(c, DQLITE_RESP_DB, err);
}

/* Starts an EXEC_SQL/QUERY_SQL (sql != NULL) or EXEC/QUERY request. */
static int
put_statement(struct dqlite_client *c, int type, const char *sql,
    uint32_t stmt, const struct store_val *params, size_t n,
    struct dqlite_client_err *err)
{
	char why[160];

	dqlite_wire_begin(&c->out, type);
	if (sql) {
		dqlite_wire_put_u64(&c->out, 0); /* the connection's database */
		dqlite_wire_put_text(&c->out, sql);
	} else {
		dqlite_wire_put_u32(&c->out, 0);
		dqlite_wire_put_u32(&c->out, stmt);
	}
	if (dqlite_wire_put_params(&c->out, params, n, why, sizeof(why)) == -1)
		return dqlite_client_fail(err, DQLITE_CLIENT_EFAIL, 25 /* SQLITE_RANGE */,
		    "%s", why);
	return DQLITE_CLIENT_OK;
}

static int
read_result(struct dqlite_client *c, uint64_t *last_insert_id,
    uint64_t *rows_affected, struct dqlite_client_err *err)
{
	struct dqlite_wire_cursor cur;
	uint64_t id, changes;
	int rc;

	if ((rc = dqlite_client_call(c, DQLITE_RESP_RESULT, err)) != DQLITE_CLIENT_OK)
		return rc;
	cur = dqlite_client_body(c);
	if (dqlite_wire_get_u64(&cur, &id) == -1 ||
	    dqlite_wire_get_u64(&cur, &changes) == -1)
		return dqlite_client_broken(c, err, "malformed result response");
	if (last_insert_id)
		*last_insert_id = id;
	if (rows_affected)
		*rows_affected = changes;
	return DQLITE_CLIENT_OK;
}

/* Reads every batch of a ROWS response into *rows. */
static int
read_rows(struct dqlite_client *c, struct store_rows **rows,
    struct dqlite_client_err *err)
{
	uint64_t eof = DQLITE_WIRE_ROWS_PART;
	char why[160];
	int rc;

	*rows = NULL;
	rc = dqlite_client_call(c, DQLITE_RESP_ROWS, err);
	while (rc == DQLITE_CLIENT_OK) {
		struct dqlite_wire_cursor cur = dqlite_client_body(c);

		if (dqlite_wire_get_rows(&cur, rows, &eof, why, sizeof(why))) {
			rc = dqlite_client_broken(c, err, why);
			break;
		}
		if (eof == DQLITE_WIRE_ROWS_DONE)
			return DQLITE_CLIENT_OK;
		/* the server sends the next batch on its own */
		if ((rc = dqlite_client_read(c, err)) == DQLITE_CLIENT_OK)
			rc = dqlite_client_expect(c, DQLITE_RESP_ROWS, err);
	}
	store_rows_free(*rows);
	*rows = NULL;
	return rc;
}

int
dqlite_client_prepare(struct dqlite_client *c, const char *sql,
    uint32_t *stmt, uint64_t *nparams, struct dqlite_client_err *err)
{
	struct dqlite_wire_cursor cur;
	uint32_t db;
	int rc;

	dqlite_wire_begin(&c->out, DQLITE_REQ_PREPARE);
	dqlite_wire_put_u64(&c->out, 0);
	dqlite_wire_put_text(&c->out, sql);
	if ((rc = dqlite_client_call(c, DQLITE_RESP_STMT, err)) != DQLITE_CLIENT_OK)
		return rc;
	cur = dqlite_client_body(c);
	if (dqlite_wire_get_u32(&cur, &db) == -1 ||
	    dqlite_wire_get_u32(&cur, stmt) == -1 ||
	    dqlite_wire_get_u64(&cur, nparams) == -1)
		return dqlite_client_broken(c, err, "malformed statement response");
	return DQLITE_CLIENT_OK;
}

int
dqlite_client_finalize(struct dqlite_client *c, uint32_t stmt,
    struct dqlite_client_err *err)
{
	dqlite_wire_begin(&c->out, DQLITE_REQ_FINALIZE);
	dqlite_wire_put_u32(&c->out, 0);
	dqlite_wire_put_u32(&c->out, stmt);
	return dqlite_client_call(c, DQLITE_RESP_EMPTY, err);
}

int
dqlite_client_exec_stmt(struct dqlite_client *c, uint32_t stmt,
    const struct store_val *params, size_t n, uint64_t *last_insert_id,
    uint64_t *rows_affected, struct dqlite_client_err *err)
{
	int rc;

	if ((rc = put_statement(c, DQLITE_REQ_EXEC, NULL, stmt, params, n,
	    err)) != DQLITE_CLIENT_OK)
		return rc;
	return read_result(c, last_insert_id, rows_affected, err);
}

int
dqlite_client_query_stmt(struct dqlite_client *c, uint32_t stmt,
    const struct store_val *params, size_t n, struct store_rows **rows,
    struct dqlite_client_err *err)
{
	int rc;

	*rows = NULL;
	if ((rc = put_statement(c, DQLITE_REQ_QUERY, NULL, stmt, params, n,
	    err)) != DQLITE_CLIENT_OK)
		return rc;
	return read_rows(c, rows, err);
}

int
dqlite_client_exec(struct dqlite_client *c, const char *sql,
    const struct store_val *params, size_t n, uint64_t *last_insert_id,
    uint64_t *rows_affected, struct dqlite_client_err *err)
{
	int rc;

	if ((rc = put_statement(c, DQLITE_REQ_EXEC_SQL, sql, 0, params, n,
	    err)) != DQLITE_CLIENT_OK)
		return rc;
	return read_result(c, last_insert_id, rows_affected, err);
}

int
dqlite_client_query(struct dqlite_client *c, const char *sql,
    const struct store_val *params, size_t n, struct store_rows **rows,
    struct dqlite_client_err *err)
{
	int rc;

	*rows = NULL;
	if ((rc = put_statement(c, DQLITE_REQ_QUERY_SQL, sql, 0, params, n,
	    err)) != DQLITE_CLIENT_OK)
		return rc;
	return read_rows(c, rows, err);
}


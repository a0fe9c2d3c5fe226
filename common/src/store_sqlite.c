/*
 * store_sqlite: the embedded single-master backend, "sqlite:PATH". WAL mode
 * with synchronous=FULL, so an acknowledged commit survives a crash or a
 * power cut; several daemons on one master may share the file (each owns
 * its tables), waiting on each other's locks for up to 5 s.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store_backend.h"

static int
sqlite_code(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_DONE:
	case SQLITE_ROW:
		return STORE_OK;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return STORE_ERR_UNAVAILABLE;
	case SQLITE_CONSTRAINT:
		return STORE_ERR_CONSTRAINT;
	case SQLITE_IOERR:
	case SQLITE_CORRUPT:
	case SQLITE_FULL:
	case SQLITE_CANTOPEN:
	case SQLITE_NOTADB:
	case SQLITE_READONLY:
		return STORE_ERR_IO;
	default:
		return STORE_ERR_SQL;
	}
}

static int
sqlite_open(const char *url, void **conn, struct store_err *err)
{
	const char *path = url + strlen("sqlite:");
	sqlite3 *db;
	int rc;

	if (*path == '\0')
		return store_fail(err, STORE_ERR_SQL, "store url '%s' has no path",
		    url);
	rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		store_fail(err, sqlite_code(rc), "cannot open %s: %s", path,
		    db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		sqlite3_close(db);
		return err ? err->code : STORE_ERR_IO;
	}
	sqlite3_busy_timeout(db, 5000);
	rc = sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
	    "PRAGMA foreign_keys=ON;", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		store_fail(err, sqlite_code(rc), "cannot set up %s: %s", path,
		    sqlite3_errmsg(db));
		sqlite3_close(db);
		return err ? err->code : STORE_ERR_IO;
	}
	*conn = db;
	return STORE_OK;
}

static void
sqlite_close(void *conn)
{
	sqlite3_close(conn);
}

static int
bind_all(sqlite3_stmt *st, const struct store_val *params, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct store_val *v = &params[i];
		int idx = (int)i + 1, rc;

		switch (v->type) {
		case STORE_INT: rc = sqlite3_bind_int64(st, idx, v->i); break;
		case STORE_FLOAT: rc = sqlite3_bind_double(st, idx, v->f); break;
		case STORE_TEXT:
			rc = sqlite3_bind_text(st, idx, v->s, v->len == SIZE_MAX ?
			    -1 : (int)v->len, SQLITE_TRANSIENT);
			break;
		case STORE_BLOB:
			rc = sqlite3_bind_blob(st, idx, v->s, (int)v->len,
			    SQLITE_TRANSIENT);
			break;
		default: rc = sqlite3_bind_null(st, idx); break;
		}
		if (rc != SQLITE_OK)
			return rc;
	}
	return SQLITE_OK;
}

static void
read_row(sqlite3_stmt *st, struct store_rows *rows, struct store_val *vals)
{
	for (size_t c = 0; c < rows->ncols; c++) {
		struct store_val *v = &vals[c];

		memset(v, 0, sizeof(*v));
		switch (sqlite3_column_type(st, (int)c)) {
		case SQLITE_INTEGER:
			v->type = STORE_INT;
			v->i = sqlite3_column_int64(st, (int)c);
			break;
		case SQLITE_FLOAT:
			v->type = STORE_FLOAT;
			v->f = sqlite3_column_double(st, (int)c);
			break;
		case SQLITE_TEXT:
			v->type = STORE_TEXT;
			v->s = (const char *)sqlite3_column_text(st, (int)c);
			v->len = (size_t)sqlite3_column_bytes(st, (int)c);
			break;
		case SQLITE_BLOB:
			v->type = STORE_BLOB;
			v->s = sqlite3_column_blob(st, (int)c);
			v->len = (size_t)sqlite3_column_bytes(st, (int)c);
			if (v->s == NULL)
				v->s = "";
			break;
		default:
			v->type = STORE_NULL;
		}
	}
	store_rows_add(rows, vals);
}

static int
sqlite_exec(void *conn, const char *sql, const struct store_val *params,
    size_t n, int want_rows, struct store_stmt_result *out,
    struct store_err *err)
{
	sqlite3 *db = conn;
	sqlite3_stmt *st = NULL;
	struct store_val *vals = NULL;
	sqlite3_int64 before = sqlite3_total_changes64(db);
	int rc, ncols;

	memset(out, 0, sizeof(*out));
	/* take the write lock up front: a deferred transaction that reads and
	 * then writes can fail with SQLITE_BUSY without waiting */
	if (strcmp(sql, "BEGIN") == 0)
		sql = "BEGIN IMMEDIATE";
	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return store_fail(err, sqlite_code(rc), "%s (in: %.120s)",
		    sqlite3_errmsg(db), sql);
	if ((size_t)sqlite3_bind_parameter_count(st) != n) {
		sqlite3_finalize(st);
		return store_fail(err, STORE_ERR_SQL,
		    "statement takes %d parameters, %zu given (in: %.120s)",
		    sqlite3_bind_parameter_count(st), n, sql);
	}
	if ((rc = bind_all(st, params, n)) != SQLITE_OK)
		goto fail;
	ncols = sqlite3_column_count(st);
	if (ncols > 0) {
		out->rows = store_rows_new((size_t)ncols);
		vals = calloc((size_t)ncols, sizeof(*vals));
		if (vals == NULL)
			abort();
		for (int c = 0; c < ncols; c++) {
			out->rows->cols[c] = strdup(sqlite3_column_name(st, c));
			if (out->rows->cols[c] == NULL)
				abort();
		}
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (out->rows)
			read_row(st, out->rows, vals);
	if (rc != SQLITE_DONE)
		goto fail;
	free(vals);
	if (!want_rows && out->rows) {
		store_rows_free(out->rows);
		out->rows = NULL;
	}
	/* sqlite3_changes() still holds the last INSERT/UPDATE/DELETE's
	 * count after a CREATE, BEGIN or COMMIT: count only what this
	 * statement changed */
	out->changes = ncols > 0 || sqlite3_total_changes64(db) == before ? 0 :
	    sqlite3_changes64(db);
	out->last_insert_id = sqlite3_last_insert_rowid(db);
	sqlite3_finalize(st);
	return STORE_OK;
fail:
	store_fail(err, sqlite_code(rc), "%s (in: %.120s)", sqlite3_errmsg(db),
	    sql);
	free(vals);
	store_rows_free(out->rows);
	out->rows = NULL;
	sqlite3_finalize(st);
	return err ? err->code : STORE_ERR_SQL;
}

const struct store_backend store_sqlite_backend = {
	.prefix = "sqlite:",
	.open = sqlite_open,
	.close = sqlite_close,
	.exec = sqlite_exec,
};

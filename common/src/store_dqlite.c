/*
 * store_dqlite: the replicated backend, "dqlite://h:p,h:p/db". It runs on
 * the store's worker thread, speaks dqlite's wire protocol through
 * dqlite_client, and always talks to the leader: it asks the members who
 * leads, connects there, and after a failover finds the new leader.
 *
 * Transactions. Every statement that may write runs inside BEGIN ... COMMIT
 * on one connection (a lone write is wrapped here; store.c wraps longer
 * transactions). BEGIN is sent as BEGIN IMMEDIATE: dqlite has one writer
 * at a time and no busy timeout, so a transaction takes the write lock
 * first, and while another client holds it BEGIN is retried here every
 * few milliseconds (for up to BUSY_SECS) instead of failing half-way
 * through. Nothing is replicated before COMMIT, so:
 *  - losing the connection (or the leader) before COMMIT means the server
 *    rolled the transaction back: STORE_ERR_UNAVAILABLE, and store.c runs
 *    the whole transaction again on the new leader;
 *  - losing it around COMMIT is ambiguous: the commit may have reached a
 *    quorum or not. So each COMMIT also records (client id, sequence) in
 *    the table dcos_store_commits, in the same transaction. After an
 *    ambiguous COMMIT this backend reconnects and, in one transaction on
 *    the new leader, looks for its sequence: found means committed
 *    (STORE_OK); not found, it commits a write of its own there, which
 *    makes sure the lost COMMIT can never be applied later, and answers
 *    STORE_ERR_UNAVAILABLE so store.c retries. If no leader answers for
 *    RESOLVE_SECS the outcome is STORE_ERR_UNKNOWN, never a guess.
 * So a transaction store.c reports committed was applied exactly once.
 *
 * Statements are prepared once per connection and cached (dqlite tells the
 * parameter count, so a wrong number of parameters is a clear error).
 * Transactions themselves are in store_dqlite_tx.c.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "dcos/dqlite_client.h"
#include "dcos/ids.h"
#include "dcos/log.h"
#include "store_dqlite.h"

enum stmt_kind { K_BEGIN, K_COMMIT, K_ROLLBACK, K_READ, K_WRITE, K_PRAGMA_SET };

/* --- url --- */

static int
parse_url(struct dq *d, const char *url, struct store_err *err)
{
	const char *p = url + strlen("dqlite://"), *slash = strchr(p, '/');
	char list[1024];

	if (slash == NULL || slash == p)
		return store_fail(err, STORE_ERR_SQL, "store url '%s' names no "
		    "members: expected dqlite://HOST:PORT[,HOST:PORT...]/DB", url);
	if (slash[1] == '\0' || strchr(slash + 1, '/') ||
	    strlen(slash + 1) >= sizeof(d->db))
		return store_fail(err, STORE_ERR_SQL, "store url '%s' needs a "
		    "database name after the members, like /dcos", url);
	if ((size_t)(slash - p) >= sizeof(list))
		return store_fail(err, STORE_ERR_SQL, "store url '%s' is too "
		    "long", url);
	snprintf(d->db, sizeof(d->db), "%s", slash + 1);
	memcpy(list, p, (size_t)(slash - p));
	list[slash - p] = '\0';
	for (char *save, *m = strtok_r(list, ",", &save); m;
	    m = strtok_r(NULL, ",", &save)) {
		const char *colon = strrchr(m, ':');
		char *end;
		long port = colon ? strtol(colon + 1, &end, 10) : 0;

		if (colon == NULL || colon == m || colon[1] == '\0' || *end ||
		    port < 1 || port > 65535)
			return store_fail(err, STORE_ERR_SQL, "store url '%s': "
			    "member '%s' is not HOST:PORT", url, m);
		if (d->nmembers == MAX_MEMBERS)
			return store_fail(err, STORE_ERR_SQL, "store url '%s' "
			    "lists more than %d members", url, MAX_MEMBERS);
		if ((d->members[d->nmembers++] = strdup(m)) == NULL)
			abort();
	}
	if (d->nmembers == 0)
		return store_fail(err, STORE_ERR_SQL, "store url '%s' names no "
		    "members", url);
	return STORE_OK;
}

/* --- errors --- */

int
dq_is_leadership(uint64_t code)
{
	return code == DQLITE_CLIENT_NOT_LEADER ||
	    code == DQLITE_CLIENT_LEADERSHIP_LOST;
}

/* What a failed call means for the caller. */
static int
map_code(const struct dqlite_client_err *e)
{
	if (e->kind == DQLITE_CLIENT_EIO || dq_is_leadership(e->code))
		return STORE_ERR_UNAVAILABLE;
	switch (e->code & 0xff) {
	case 4:  /* SQLITE_ABORT: the member is shutting down */
	case 5:  /* SQLITE_BUSY: another transaction holds the write lock */
	case 6:  /* SQLITE_LOCKED */
		return STORE_ERR_UNAVAILABLE;
	case 19: /* SQLITE_CONSTRAINT */
		return STORE_ERR_CONSTRAINT;
	case 8: case 10: case 11: case 13: case 14: case 26:
		return STORE_ERR_IO; /* READONLY IOERR CORRUPT FULL CANTOPEN NOTADB */
	default:
		return STORE_ERR_SQL;
	}
}

int
dq_fail(struct dq *d, const struct dqlite_client_err *e, const char *sql,
    struct store_err *err)
{
	return store_fail(err, map_code(e), "dqlite %s: %s%s%.120s%s",
	    d->db, e->msg, sql ? " (in: " : "", sql ? sql : "", sql ? ")" : "");
}

/* --- the connection --- */

void
dq_drop(struct dq *d)
{
	dqlite_client_close(d->c);
	d->c = NULL;
	for (size_t i = 0; i < STMT_CACHE; i++) {
		free(d->stmts[i].sql);
		d->stmts[i].sql = NULL;
	}
}

/* Finds the leader, opens the database there and makes sure the commit
 * table exists. */
int
dq_connect(struct dq *d, struct store_err *err)
{
	const char *order[MAX_MEMBERS + 1];
	struct dqlite_client_err e;
	size_t n = 0;

	if (d->c)
		return STORE_OK;
	if (d->leader[0])
		order[n++] = d->leader;
	for (size_t i = 0; i < d->nmembers; i++)
		if (strcmp(d->members[i], d->leader) != 0)
			order[n++] = d->members[i];
	d->c = dqlite_client_connect_leader(order, n, CONNECT_TIMEOUT_MS, &e);
	if (d->c == NULL)
		return store_fail(err, STORE_ERR_UNAVAILABLE, "dqlite %s: %s",
		    d->db, e.msg);
	dqlite_client_set_timeout(d->c, REQUEST_TIMEOUT_MS);
	if (dqlite_client_open(d->c, d->db, &e) != DQLITE_CLIENT_OK ||
	    dqlite_client_exec(d->c, COMMITS_TABLE, NULL, 0, NULL, NULL,
	    &e) != DQLITE_CLIENT_OK) {
		dq_drop(d);
		return store_fail(err, STORE_ERR_UNAVAILABLE, "dqlite %s: cannot "
		    "open the database on the leader: %s", d->db, e.msg);
	}
	if (strcmp(d->leader, dqlite_client_address(d->c)) != 0) {
		if (d->leader[0])
			log_notice("store dqlite %s: the leader is now %s (was %s)",
			    d->db, dqlite_client_address(d->c), d->leader);
		snprintf(d->leader, sizeof(d->leader), "%s",
		    dqlite_client_address(d->c));
	}
	if (!d->pruned) {
		/* housekeeping; a busy leader may refuse it, that is fine */
		dqlite_client_exec(d->c, COMMITS_PRUNE, NULL, 0, NULL, NULL, &e);
		d->pruned = 1;
	}
	return STORE_OK;
}

/* The cached prepared statement for sql, preparing it when needed. */
static int
dq_prepare(struct dq *d, const char *sql, struct dq_stmt **out,
    struct dqlite_client_err *e)
{
	struct dq_stmt *slot = &d->stmts[0];
	int rc;

	for (size_t i = 0; i < STMT_CACHE; i++) {
		struct dq_stmt *s = &d->stmts[i];

		if (s->sql && strcmp(s->sql, sql) == 0) {
			s->used = ++d->clock;
			*out = s;
			return DQLITE_CLIENT_OK;
		}
		if (slot->sql && (s->sql == NULL || s->used < slot->used))
			slot = s;
	}
	if (slot->sql) {
		if ((rc = dqlite_client_finalize(d->c, slot->id, e)) ==
		    DQLITE_CLIENT_EIO)
			return rc;
		free(slot->sql);
		slot->sql = NULL;
	}
	if ((rc = dqlite_client_prepare(d->c, sql, &slot->id, &slot->nparams,
	    e)) != DQLITE_CLIENT_OK)
		return rc;
	if ((slot->sql = strdup(sql)) == NULL)
		abort();
	slot->used = ++d->clock;
	*out = slot;
	return DQLITE_CLIENT_OK;
}

/* Runs one statement on the current connection. */
int
dq_run(struct dq *d, const char *sql, const struct store_val *params,
    size_t n, int want_rows, struct store_stmt_result *out,
    struct dqlite_client_err *e)
{
	struct dq_stmt *st;
	uint64_t id = 0, changes = 0;
	int rc;

	if (d->c == NULL) {
		e->kind = DQLITE_CLIENT_EIO;
		snprintf(e->msg, sizeof(e->msg), "not connected");
		return DQLITE_CLIENT_EIO;
	}
	if ((rc = dq_prepare(d, sql, &st, e)) != DQLITE_CLIENT_OK)
		return rc;
	if (st->nparams != n) {
		e->kind = DQLITE_CLIENT_EFAIL;
		e->code = 25; /* SQLITE_RANGE */
		snprintf(e->msg, sizeof(e->msg), "statement takes %llu "
		    "parameters, %zu given", (unsigned long long)st->nparams, n);
		return DQLITE_CLIENT_EFAIL;
	}
	if (want_rows)
		return dqlite_client_query_stmt(d->c, st->id, params, n,
		    &out->rows, e);
	rc = dqlite_client_exec_stmt(d->c, st->id, params, n, &id, &changes, e);
	out->last_insert_id = (int64_t)id;
	out->changes = (int64_t)changes;
	return rc;
}

/* Runs a statement that starts nothing and leaves nothing behind (BEGIN,
 * a read outside a transaction): safe to send again on a fresh connection
 * when the old one turned out dead or no longer on the leader. */
int
dq_run_fresh(struct dq *d, const char *sql, const struct store_val *params,
    size_t n, int want_rows, struct store_stmt_result *out,
    struct store_err *err)
{
	struct dqlite_client_err e;
	int rc;

	d->last_code = 0;
	for (int attempt = 0; attempt < 2; attempt++) {
		if ((rc = dq_connect(d, err)) != STORE_OK)
			return rc;
		rc = dq_run(d, sql, params, n, want_rows, out, &e);
		if (rc == DQLITE_CLIENT_OK)
			return STORE_OK;
		d->last_code = rc == DQLITE_CLIENT_EFAIL ? e.code : 0;
		if (rc == DQLITE_CLIENT_EFAIL && !dq_is_leadership(e.code))
			return dq_fail(d, &e, sql, err);
		dq_drop(d);
	}
	return dq_fail(d, &e, sql, err);
}

/* --- statements --- */

/* The first keyword of sql, upper-cased, and where it ends. */
static const char *
keyword(const char *sql, char *kw, size_t size)
{
	size_t n = 0;

	while (isspace((unsigned char)*sql) || *sql == '(')
		sql++;
	while (isalpha((unsigned char)*sql) && n + 1 < size)
		kw[n++] = (char)toupper((unsigned char)*sql++);
	kw[n] = '\0';
	return sql;
}

/* Whether a WITH statement writes: a DML keyword outside quotes. */
static int
with_writes(const char *sql)
{
	static const char *const dml[] = { "INSERT", "UPDATE", "DELETE",
		"REPLACE" };
	char quote = 0;

	for (const char *p = sql; *p; p++) {
		if (quote) {
			quote = *p == quote ? 0 : quote;
			continue;
		}
		if (*p == '\'' || *p == '"' || *p == '`') {
			quote = *p;
			continue;
		}
		if (p != sql && (isalnum((unsigned char)p[-1]) || p[-1] == '_'))
			continue;
		for (size_t i = 0; i < 4; i++) {
			size_t len = strlen(dml[i]);

			if (strncasecmp(p, dml[i], len) == 0 &&
			    !isalnum((unsigned char)p[len]) && p[len] != '_')
				return 1;
		}
	}
	return 0;
}

static enum stmt_kind
classify(const char *sql)
{
	char kw[16], next[16];
	const char *rest = keyword(sql, kw, sizeof(kw));

	if (strcmp(kw, "BEGIN") == 0)
		return K_BEGIN;
	if (strcmp(kw, "COMMIT") == 0 || strcmp(kw, "END") == 0)
		return K_COMMIT;
	if (strcmp(kw, "ROLLBACK") == 0) {
		keyword(rest, next, sizeof(next));
		return strcmp(next, "TO") == 0 ? K_WRITE : K_ROLLBACK;
	}
	if (strcmp(kw, "SELECT") == 0 || strcmp(kw, "VALUES") == 0 ||
	    strcmp(kw, "EXPLAIN") == 0)
		return K_READ;
	if (strcmp(kw, "WITH") == 0)
		return with_writes(rest) ? K_WRITE : K_READ;
	if (strcmp(kw, "PRAGMA") == 0)
		return strchr(rest, '=') ? K_PRAGMA_SET : K_READ;
	return K_WRITE;
}

/* dqlite answers sqlite3_changes() and the last rowid of the connection,
 * which are stale after anything but an INSERT, UPDATE or DELETE. */
static void
dml_result(const char *sql, struct store_stmt_result *out)
{
	char kw[16];
	int insert;

	keyword(sql, kw, sizeof(kw));
	insert = strcmp(kw, "INSERT") == 0 || strcmp(kw, "REPLACE") == 0;
	if (!insert)
		out->last_insert_id = 0;
	if (!insert && strcmp(kw, "UPDATE") != 0 && strcmp(kw, "DELETE") != 0)
		out->changes = 0;
}

static int
dq_exec(void *conn, const char *sql, const struct store_val *params, size_t n,
    int want_rows, struct store_stmt_result *out, struct store_err *err)
{
	struct dq *d = conn;
	enum stmt_kind kind = classify(sql);
	struct store_stmt_result ignored = { 0 };
	struct store_err rb;
	int rc;

	memset(out, 0, sizeof(*out));
	switch (kind) {
	case K_BEGIN:
		return dq_begin(d, err);
	case K_COMMIT:
		return dq_commit(d, err);
	case K_ROLLBACK:
		if (d->in_tx && !d->tx_lost && d->c)
			dq_in_tx(d, "ROLLBACK", NULL, 0, 0, &ignored, &rb);
		d->in_tx = d->tx_lost = 0;
		return STORE_OK;
	case K_READ:
		if (d->in_tx)
			return dq_in_tx(d, sql, params, n, 1, out, err);
		return dq_run_fresh(d, sql, params, n, 1, out, err);
	case K_PRAGMA_SET:
		/* connection settings, and no rows to return */
		if (d->in_tx)
			return dq_in_tx(d, sql, params, n, 0, out, err);
		return dq_run_fresh(d, sql, params, n, 0, out, err);
	case K_WRITE:
		break;
	}
	if (want_rows)
		return store_fail(err, STORE_ERR_SQL, "dqlite %s: a statement "
		    "that writes cannot return rows here (RETURNING is not "
		    "supported): %.120s", d->db, sql);
	if (d->in_tx) {
		d->tx_wrote = 1;
		rc = dq_in_tx(d, sql, params, n, 0, out, err);
		dml_result(sql, out);
		return rc;
	}
	/* a lone write: its own transaction, with the commit record */
	if ((rc = dq_begin(d, err)) != STORE_OK)
		return rc;
	d->tx_wrote = 1;
	if ((rc = dq_in_tx(d, sql, params, n, 0, out, err)) != STORE_OK) {
		if (d->in_tx && !d->tx_lost && d->c)
			dq_in_tx(d, "ROLLBACK", NULL, 0, 0, &ignored, &rb);
		d->in_tx = d->tx_lost = 0;
		return rc;
	}
	dml_result(sql, out);
	return dq_commit(d, err);
}

/* --- the backend --- */

static void
dq_close(void *conn)
{
	struct dq *d = conn;

	if (d == NULL)
		return;
	dq_drop(d);
	for (size_t i = 0; i < d->nmembers; i++)
		free(d->members[i]);
	free(d);
}

static int
dq_open(const char *url, void **conn, struct store_err *err)
{
	struct dq *d = calloc(1, sizeof(*d));
	struct store_err why;

	if (d == NULL)
		abort();
	if (parse_url(d, url, err) != STORE_OK) {
		dq_close(d);
		return err ? err->code : STORE_ERR_SQL;
	}
	ids_uuid4(d->client);
	/* no leader yet is not an error: calls retry until one is elected */
	if (dq_connect(d, &why) != STORE_OK)
		log_warn("store %s: %s; will retry", url, why.msg);
	*conn = d;
	return STORE_OK;
}

const struct store_backend store_dqlite_backend = {
	.prefix = "dqlite://",
	.open = dq_open,
	.close = dq_close,
	.exec = dq_exec,
};


/*
 * store_dqlite_tx: transactions on the dqlite backend (the why is at the
 * top of store_dqlite.c): BEGIN IMMEDIATE with short retries while another
 * writer holds the lock, statements inside the transaction, and COMMIT
 * with its commit record, resolving a COMMIT whose answer was lost.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dcos/log.h"
#include "store_dqlite.h"

/* --- commits --- */

/* After an ambiguous COMMIT of sequence seq: was it applied? STORE_OK if
 * so, STORE_ERR_UNAVAILABLE if it was not and never will be. */
static int
dq_resolve(struct dq *d, int64_t seq, const char *why, struct store_err *err)
{
	struct timespec start, now;
	double delay = 0.05;
	struct store_err last = { 0 };

	log_warn("store dqlite %s: commit outcome unknown (%s); asking the "
	    "leader", d->db, why);
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		struct store_val k[2] = { SV_TEXT(d->client), SV_INT(0) };
		struct store_stmt_result out = { 0 };
		struct dqlite_client_err e;
		int64_t found = -1;

		dq_drop(d);
		if (dq_connect(d, &last) == STORE_OK &&
		    dq_run(d, "BEGIN IMMEDIATE", NULL, 0, 0, &out, &e) == 0 &&
		    dq_run(d, "SELECT seq FROM dcos_store_commits WHERE client "
		    "= ?", k, 1, 1, &out, &e) == 0) {
			if (out.rows && out.rows->nrows == 1)
				found = store_rows_int(out.rows, 0, 0);
			store_rows_free(out.rows);
			if (found == seq) {
				dq_run(d, "ROLLBACK", NULL, 0, 0, &out, &e);
				log_notice("store dqlite %s: the commit was applied",
				    d->db);
				return STORE_OK;
			}
			/* a commit of our own on this leader fences the lost one */
			k[1] = SV_INT(found < 0 ? 0 : found);
			if (dqlite_client_exec(d->c, COMMIT_MARK "; COMMIT", k, 2,
			    NULL, NULL, &e) == DQLITE_CLIENT_OK)
				return store_fail(err, STORE_ERR_UNAVAILABLE,
				    "dqlite %s: the leader changed during COMMIT "
				    "and the transaction was not applied (%s)",
				    d->db, why);
			dq_fail(d, &e, NULL, &last);
		} else if (d->c) {
			store_rows_free(out.rows);
			dq_fail(d, &e, NULL, &last);
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((double)(now.tv_sec - start.tv_sec) + delay > RESOLVE_SECS) {
			dq_drop(d);
			return store_fail(err, STORE_ERR_UNKNOWN, "dqlite %s: the "
			    "connection to the leader was lost during COMMIT (%s) "
			    "and no leader could tell within %.0f s whether it "
			    "was applied: %s", d->db, why, RESOLVE_SECS, last.msg);
		}
		nanosleep(&(struct timespec){ 0, (long)(delay * 1e9) }, NULL);
		delay = delay * 2 > 0.001 ? 0.001 : delay * 2;
	}
}

int
dq_commit(struct dq *d, struct store_err *err)
{
	struct store_val k[2] = { SV_TEXT(d->client), SV_INT(++d->seq) };
	struct store_stmt_result out = { 0 };
	struct dqlite_client_err e;
	int rc;

	if (!d->in_tx)
		return store_fail(err, STORE_ERR_SQL, "dqlite %s: cannot commit "
		    "- no transaction is active", d->db);
	if (d->tx_lost || d->c == NULL) {
		d->in_tx = d->tx_lost = 0;
		return store_fail(err, STORE_ERR_UNAVAILABLE, "dqlite %s: the "
		    "connection to the leader was lost inside the transaction, "
		    "which was rolled back", d->db);
	}
	if (!d->tx_wrote) {
		rc = dq_run(d, "COMMIT", NULL, 0, 0, &out, &e);
		if (rc == DQLITE_CLIENT_OK || rc == DQLITE_CLIENT_EIO)
			d->in_tx = 0; /* nothing was written either way */
		if (rc == DQLITE_CLIENT_EIO)
			dq_drop(d);
		return rc == DQLITE_CLIENT_OK ? STORE_OK :
		    dq_fail(d, &e, "COMMIT", err);
	}
	rc = dqlite_client_exec(d->c, COMMIT_MARK "; COMMIT", k, 2, NULL, NULL,
	    &e);
	if (rc == DQLITE_CLIENT_OK) {
		d->in_tx = 0;
		return STORE_OK;
	}
	if (rc == DQLITE_CLIENT_EFAIL && e.code == DQLITE_CLIENT_NOT_LEADER) {
		/* refused before running: the transaction died with leadership */
		d->in_tx = 0;
		dq_drop(d);
		return dq_fail(d, &e, "COMMIT", err);
	}
	if (rc == DQLITE_CLIENT_EIO || (e.code & 0xff) == 10 /* IOERR */ ||
	    (e.code & 0xff) == 4 /* ABORT */) {
		d->in_tx = 0;
		return dq_resolve(d, d->seq, e.msg, err);
	}
	/* refused (busy, a deferred constraint): still open; store.c rolls back */
	return dq_fail(d, &e, "COMMIT", err);
}

int
dq_begin(struct dq *d, struct store_err *err)
{
	struct store_stmt_result out = { 0 };
	struct timespec start, now;
	double delay = 0.0002;
	int rc;

	if (d->in_tx && !d->tx_lost)
		return store_fail(err, STORE_ERR_SQL, "dqlite %s: cannot start "
		    "a transaction within a transaction", d->db);
	d->in_tx = d->tx_lost = d->tx_wrote = 0;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		rc = dq_run_fresh(d, "BEGIN IMMEDIATE", NULL, 0, 0, &out, err);
		if (rc == STORE_OK) {
			d->in_tx = 1;
			return STORE_OK;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((d->last_code & 0xff) != 5 /* SQLITE_BUSY */ ||
		    (double)(now.tv_sec - start.tv_sec) > BUSY_SECS)
			return rc;
		/* another writer holds the lock, briefly: try again soon */
		nanosleep(&(struct timespec){ 0, (long)(delay * 1e9) *
		    (50 + rand() % 100) / 100 }, NULL);
		delay = delay * 2 > 0.001 ? 0.001 : delay * 2;
	}
}

/* A statement inside the open transaction. */
int
dq_in_tx(struct dq *d, const char *sql, const struct store_val *params,
    size_t n, int want_rows, struct store_stmt_result *out,
    struct store_err *err)
{
	struct dqlite_client_err e;
	int rc;

	if (d->tx_lost || d->c == NULL)
		return store_fail(err, STORE_ERR_UNAVAILABLE, "dqlite %s: the "
		    "connection to the leader was lost inside the transaction, "
		    "which was rolled back", d->db);
	rc = dq_run(d, sql, params, n, want_rows, out, &e);
	if (rc == DQLITE_CLIENT_OK)
		return STORE_OK;
	if (rc == DQLITE_CLIENT_EIO || dq_is_leadership(e.code)) {
		d->tx_lost = 1;
		dq_drop(d);
	}
	return dq_fail(d, &e, sql, err);
}

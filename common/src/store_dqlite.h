/*
 * store_dqlite: what the two halves of the dqlite backend share:
 * store_dqlite.c (urls, the connection to the leader, statements) and
 * store_dqlite_tx.c (transactions and exactly-once commits).
 */
#ifndef DCOS_STORE_DQLITE_H
#define DCOS_STORE_DQLITE_H

#include "dcos/dqlite_client.h"
#include "dcos/ids.h"
#include "store_backend.h"

#define MAX_MEMBERS 16
#define CONNECT_TIMEOUT_MS 2000  /* asking one member who leads */
#define REQUEST_TIMEOUT_MS 5000 /* one statement, a quorum commit included */
#define RESOLVE_SECS 20.0
#define STMT_CACHE 32
#define BUSY_SECS 5.0 /* waiting for other writers before UNAVAILABLE */

#define COMMITS_TABLE "CREATE TABLE IF NOT EXISTS dcos_store_commits (" \
	"client TEXT PRIMARY KEY, seq INTEGER NOT NULL, at_ms INTEGER NOT NULL)"
#define COMMIT_MARK "INSERT OR REPLACE INTO dcos_store_commits (client, " \
	"seq, at_ms) VALUES (?, ?, " STORE_NOW_MS ")"
/* rows of clients gone for a week */
#define COMMITS_PRUNE "DELETE FROM dcos_store_commits WHERE at_ms < " \
	STORE_NOW_MS " - 604800000"

struct dq_stmt {
	char *sql;
	uint32_t id;
	uint64_t nparams, used;
};

struct dq {
	char *members[MAX_MEMBERS];
	size_t nmembers;
	char db[128];
	char leader[DQLITE_CLIENT_ADDR_MAX]; /* last known, asked first */
	char client[UUID_STR_LEN];           /* this store handle's commit id */
	int64_t seq;
	struct dqlite_client *c;
	struct dq_stmt stmts[STMT_CACHE];
	uint64_t clock;
	uint64_t last_code; /* SQLite code of dq_run_fresh's last failure */
	int in_tx, tx_lost, tx_wrote, pruned;
};


/* store_dqlite.c */
int dq_is_leadership(uint64_t code);
int dq_fail(struct dq *d, const struct dqlite_client_err *e, const char *sql,
    struct store_err *err);
void dq_drop(struct dq *d);
int dq_connect(struct dq *d, struct store_err *err);
int dq_run(struct dq *d, const char *sql, const struct store_val *params,
    size_t n, int want_rows, struct store_stmt_result *out,
    struct dqlite_client_err *e);
int dq_run_fresh(struct dq *d, const char *sql, const struct store_val *params,
    size_t n, int want_rows, struct store_stmt_result *out,
    struct store_err *err);

/* store_dqlite_tx.c */
int dq_begin(struct dq *d, struct store_err *err);
int dq_in_tx(struct dq *d, const char *sql, const struct store_val *params,
    size_t n, int want_rows, struct store_stmt_result *out,
    struct store_err *err);
int dq_commit(struct dq *d, struct store_err *err);

#endif

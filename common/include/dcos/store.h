/*
 * store: the state store client every component uses.
 *
 *   store_open("sqlite:/var/lib/dcos/state.db")     embedded, one master
 *   store_open("dqlite://10.0.0.1:2181,10.0.0.2:2181/dcos")  replicated
 *
 * The same API for both: SQL with bound parameters, transactions built as a
 * list of statements that commit together or not at all, blocking calls for
 * the CLI, tools, tests and start-up, and async calls for the event loop.
 * Async calls run on one worker thread per store (the backend connection is
 * only ever used by that thread); their callbacks run on the loop thread.
 *
 * A call that returns STORE_OK has committed (on a quorum, for dqlite),
 * exactly once. STORE_ERR_UNAVAILABLE means no leader or no connection and
 * nothing was applied: retry later. Blocking and async calls already retry
 * for up to 15 s before they return it.
 * Each component owns its tables and upgrades them with store_migrate.
 */
#ifndef DCOS_STORE_H
#define DCOS_STORE_H

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct store;
struct store_tx;

enum store_type { STORE_NULL, STORE_INT, STORE_FLOAT, STORE_TEXT, STORE_BLOB };

/* A bound parameter or a column value. TEXT/BLOB point at caller memory
 * when binding (len SIZE_MAX = strlen), at row memory when reading. */
struct store_val {
	enum store_type type;
	int64_t i;
	double f;
	const char *s;
	size_t len;
};

#define SV_NULL ((struct store_val){ .type = STORE_NULL })
#define SV_INT(x) ((struct store_val){ .type = STORE_INT, .i = (x) })
#define SV_FLOAT(x) ((struct store_val){ .type = STORE_FLOAT, .f = (x) })
#define SV_TEXT(x) ((struct store_val){ .type = (x) ? STORE_TEXT : STORE_NULL, \
	.s = (x), .len = SIZE_MAX })
#define SV_BLOB(p, n) ((struct store_val){ .type = STORE_BLOB, .s = (p), .len = (n) })

enum store_code {
	STORE_OK = 0,
	STORE_ERR_UNAVAILABLE = -1, /* no leader / connection: retry */
	STORE_ERR_CONSTRAINT = -2,  /* unique or check constraint failed */
	STORE_ERR_CONFLICT = -3,    /* a store_tx_expect did not hold */
	STORE_ERR_SQL = -4,         /* bad SQL or types */
	STORE_ERR_IO = -5,          /* disk or corruption */
	STORE_ERR_CLOSED = -6,      /* the store is closing */
	STORE_ERR_UNKNOWN = -7,     /* the connection was lost during COMMIT and
	                               no leader could tell whether it applied */
};

struct store_err {
	int code;
	char msg[256]; /* what failed and why */
};

/* Result rows, copied out of the backend. Values are row-major. */
struct store_rows {
	size_t ncols, nrows;
	char **cols;
	struct store_val *vals;
};

struct store_rows *store_rows_new(size_t ncols);
void store_rows_free(struct store_rows *rows);
/* Appends a row; values are copied. */
void store_rows_add(struct store_rows *rows, const struct store_val *vals);
const struct store_val *store_rows_get(const struct store_rows *rows,
    size_t row, size_t col);
int64_t store_rows_int(const struct store_rows *rows, size_t row, size_t col);
double store_rows_float(const struct store_rows *rows, size_t row, size_t col);
/* NULL for SQL NULL */
const char *store_rows_text(const struct store_rows *rows, size_t row,
    size_t col);

/* Opens the store. NULL (and err) when the url is malformed or an sqlite
 * file cannot be opened. A dqlite store connects to its leader at once when
 * one answers; when none does it still opens, and calls retry (then fail
 * with STORE_ERR_UNAVAILABLE) until a leader is elected. */
struct store *store_open(const char *url, struct store_err *err);
/* Finishes queued async work (callbacks get STORE_ERR_CLOSED if the loop
 * is gone), then closes. */
void store_close(struct store *s);
const char *store_url(const struct store *s);

/* Blocking calls. Return STORE_OK or an error code (also in err). */
int store_exec(struct store *s, const char *sql, const struct store_val *params,
    size_t n, int64_t *changes, struct store_err *err);
int store_query(struct store *s, const char *sql,
    const struct store_val *params, size_t n, struct store_rows **rows,
    struct store_err *err);

/* Transactions: statements run in order inside BEGIN/COMMIT. */
struct store_tx *store_tx_new(void);
void store_tx_free(struct store_tx *tx);
/* sql and params are copied. */
void store_tx_add(struct store_tx *tx, const char *sql,
    const struct store_val *params, size_t n);
/* Like store_tx_add, but the transaction fails with STORE_ERR_CONFLICT
 * (and rolls back) unless the statement changes exactly `changes` rows
 * (or, for a query, returns exactly that many rows). Used for fencing. */
void store_tx_expect(struct store_tx *tx, const char *sql,
    const struct store_val *params, size_t n, int64_t changes);
size_t store_tx_len(const struct store_tx *tx);

struct store_result {
	int code;
	struct store_err err;
	int64_t changes;         /* total rows changed */
	int64_t last_insert_id;
	struct store_rows *rows; /* of the last statement that returned rows */
};

/* Blocking; res may be NULL. The caller frees res->rows. */
int store_tx_run(struct store *s, struct store_tx *tx, struct store_result *res);

/* Async: attach once to the loop; the result and its rows belong to the
 * store and are valid only during the callback. */
typedef void (*store_done_fn)(const struct store_result *res, void *arg);
int store_attach(struct store *s, struct event_base *base,
    struct store_err *err);
/* tx is consumed. */
void store_tx_submit(struct store *s, struct store_tx *tx, store_done_fn cb,
    void *arg);
/* Like store_tx_submit, but runs before every queued ordinary job (after
 * the one running and earlier urgent ones): for work that must not wait
 * behind a burst of application writes, such as lease renewals. */
void store_tx_submit_urgent(struct store *s, struct store_tx *tx,
    store_done_fn cb, void *arg);
void store_query_submit(struct store *s, const char *sql,
    const struct store_val *params, size_t n, store_done_fn cb, void *arg);
/* Jobs queued or running on the worker. */
size_t store_pending(const struct store *s);

/* Versioned schema upgrades for one component. Each version's statements
 * run in one transaction and record the version in schema_versions, so a
 * restart resumes where it stopped. Versions must be increasing. */
struct store_migration {
	int version;
	const char *const *statements; /* NULL-terminated */
};
int store_migrate(struct store *s, const char *component,
    const struct store_migration *m, size_t n, struct store_err *err);

/* "milliseconds since the epoch" on the store's clock (the leader's, for
 * dqlite), for use inside SQL. */
#define STORE_NOW_MS "CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)"

#endif

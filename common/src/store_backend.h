/*
 * store_backend: what a store backend (sqlite, dqlite) provides to the
 * generic store (store.c). A backend runs one statement at a time on its
 * connection; transactions, retries, the worker thread and migrations are
 * the generic layer's.
 */
#ifndef DCOS_STORE_BACKEND_H
#define DCOS_STORE_BACKEND_H

#include "dcos/store.h"

struct store_stmt_result {
	int64_t changes;
	int64_t last_insert_id;
	struct store_rows *rows; /* set when want_rows; caller frees */
};

struct store_backend {
	const char *prefix; /* "sqlite:", "dqlite://" */
	/* url is the whole store url. */
	int (*open)(const char *url, void **conn, struct store_err *err);
	void (*close)(void *conn);
	/* One statement. want_rows: the statement returns rows (a query). */
	int (*exec)(void *conn, const char *sql, const struct store_val *params,
	    size_t n, int want_rows, struct store_stmt_result *out,
	    struct store_err *err);
};

extern const struct store_backend store_sqlite_backend;
extern const struct store_backend store_dqlite_backend;

/* Fills err and returns code. */
int store_fail(struct store_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* a deep copy (text and blobs duplicated) */
void store_val_copy(struct store_val *dst, const struct store_val *src);

#endif

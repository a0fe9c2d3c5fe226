/*
 * store: the backend-independent part of the state store client:
 * transactions as statement lists, the worker thread that runs async
 * calls off the loop, retries while the store is unavailable, and schema
 * migrations. Result rows are in store_rows.c.
 *
 * Threads: the loop thread submits jobs and receives completions through an
 * eventfd; the worker thread alone uses the backend connection once the
 * store is attached. Before attach, blocking calls use it directly.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "dcos/clock.h"
#include "dcos/log.h"
#include "dcos/store.h"
#include "store_backend.h"

#define RETRY_DEADLINE_SECS 15.0

struct tx_stmt {
	char *sql;
	struct store_val *params;
	size_t n;
	int64_t expect; /* -1: no expectation */
	int want_rows;
};

struct store_tx {
	struct tx_stmt *stmts;
	size_t n, cap;
};

struct store_job {
	struct store_tx *tx;
	store_done_fn cb;
	void *arg;
	struct store_result res;
	int sync, done;
	int urgent; /* runs before queued ordinary jobs (lease renewals) */
	struct store_job *next;
};

struct store {
	const struct store_backend *be;
	void *conn;
	char *url;
	/* async machinery, once attached */
	struct event_base *base;
	pthread_t worker;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct store_job *queue, **queue_tail;
	struct store_job *done, **done_tail;
	int efd;
	struct event *ev_done;
	int stopping;
	size_t pending;
};

int
store_fail(struct store_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (err) {
		err->code = code;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return code;
}

/* --- transactions --- */

struct store_tx *
store_tx_new(void)
{
	struct store_tx *tx = calloc(1, sizeof(*tx));

	if (tx == NULL)
		abort();
	return tx;
}

void
store_tx_free(struct store_tx *tx)
{
	if (tx == NULL)
		return;
	for (size_t i = 0; i < tx->n; i++) {
		for (size_t k = 0; k < tx->stmts[i].n; k++)
			free((char *)tx->stmts[i].params[k].s);
		free(tx->stmts[i].params);
		free(tx->stmts[i].sql);
	}
	free(tx->stmts);
	free(tx);
}

/* SELECT, WITH, PRAGMA, VALUES and EXPLAIN return rows. */
static int
sql_is_query(const char *sql)
{
	static const char *const words[] = { "SELECT", "WITH", "PRAGMA",
		"VALUES", "EXPLAIN" };

	while (isspace((unsigned char)*sql) || *sql == '(')
		sql++;
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strncasecmp(sql, words[i], strlen(words[i])) == 0)
			return 1;
	return 0;
}

void
store_tx_expect(struct store_tx *tx, const char *sql,
    const struct store_val *params, size_t n, int64_t changes)
{
	struct tx_stmt *st;

	if (tx->n == tx->cap) {
		tx->cap = tx->cap ? tx->cap * 2 : 4;
		tx->stmts = realloc(tx->stmts, tx->cap * sizeof(*tx->stmts));
		if (tx->stmts == NULL)
			abort();
	}
	st = &tx->stmts[tx->n++];
	st->sql = strdup(sql);
	st->params = calloc(n ? n : 1, sizeof(*st->params));
	if (st->sql == NULL || st->params == NULL)
		abort();
	for (size_t i = 0; i < n; i++)
		store_val_copy(&st->params[i], &params[i]);
	st->n = n;
	st->expect = changes;
	st->want_rows = sql_is_query(sql);
}

void
store_tx_add(struct store_tx *tx, const char *sql,
    const struct store_val *params, size_t n)
{
	store_tx_expect(tx, sql, params, n, -1);
}

size_t
store_tx_len(const struct store_tx *tx)
{
	return tx->n;
}

/* Runs tx once on the connection. */
static int
tx_run_once(struct store *s, struct store_tx *tx, struct store_result *res)
{
	int wrap = tx->n > 1 || (tx->n == 1 && tx->stmts[0].expect >= 0);
	struct store_stmt_result out;
	int rc;

	if (wrap && (rc = s->be->exec(s->conn, "BEGIN", NULL, 0, 0, &out,
	    &res->err)) != STORE_OK)
		return rc;
	for (size_t i = 0; i < tx->n; i++) {
		struct tx_stmt *st = &tx->stmts[i];
		int64_t got;

		memset(&out, 0, sizeof(out));
		rc = s->be->exec(s->conn, st->sql, st->params, st->n,
		    st->want_rows, &out, &res->err);
		if (rc != STORE_OK)
			goto rollback;
		res->changes += out.changes;
		if (out.last_insert_id)
			res->last_insert_id = out.last_insert_id;
		got = st->want_rows ? (int64_t)(out.rows ? out.rows->nrows : 0) :
		    out.changes;
		if (out.rows) {
			store_rows_free(res->rows);
			res->rows = out.rows;
		}
		if (st->expect >= 0 && got != st->expect) {
			rc = store_fail(&res->err, STORE_ERR_CONFLICT,
			    "precondition failed: expected %lld rows, got %lld "
			    "(statement %zu: %.80s)", (long long)st->expect,
			    (long long)got, i + 1, st->sql);
			goto rollback;
		}
	}
	if (wrap && (rc = s->be->exec(s->conn, "COMMIT", NULL, 0, 0, &out,
	    &res->err)) != STORE_OK)
		goto rollback;
	return STORE_OK;
rollback:
	if (wrap) {
		struct store_err ignored;

		s->be->exec(s->conn, "ROLLBACK", NULL, 0, 0, &out, &ignored);
	}
	return rc;
}

/* Runs tx, retrying while the store is unavailable (leader change) for up
 * to RETRY_DEADLINE_SECS with backoff. */
static int
tx_run(struct store *s, struct store_tx *tx, struct store_result *res)
{
	double deadline = clock_mono() + RETRY_DEADLINE_SECS, delay = 0.05;

	for (;;) {
		int rc;

		store_rows_free(res->rows);
		memset(res, 0, sizeof(*res));
		rc = tx_run_once(s, tx, res);
		res->code = rc;
		if (rc == STORE_OK)
			res->err.code = 0, res->err.msg[0] = '\0';
		if (rc != STORE_ERR_UNAVAILABLE || clock_mono() + delay > deadline)
			return rc;
		if (__atomic_load_n(&s->stopping, __ATOMIC_ACQUIRE))
			return rc;
		struct timespec ts = { (time_t)delay,
			(long)((delay - (long)delay) * 1e9) };
		nanosleep(&ts, NULL);
		delay = delay * 2 > 1.0 ? 1.0 : delay * 2;
	}
}

/* --- the worker --- */

static void *
worker_main(void *arg)
{
	struct store *s = arg;

	pthread_mutex_lock(&s->mu);
	for (;;) {
		struct store_job *job;

		while (s->queue == NULL && !s->stopping)
			pthread_cond_wait(&s->cv, &s->mu);
		if (s->queue == NULL)
			break; /* stopping and drained */
		job = s->queue;
		s->queue = job->next;
		if (s->queue == NULL)
			s->queue_tail = &s->queue;
		pthread_mutex_unlock(&s->mu);

		tx_run(s, job->tx, &job->res);

		pthread_mutex_lock(&s->mu);
		job->done = 1;
		if (job->sync) {
			pthread_cond_broadcast(&s->cv);
		} else {
			uint64_t one = 1;

			job->next = NULL;
			*s->done_tail = job;
			s->done_tail = &job->next;
			if (write(s->efd, &one, sizeof(one)) < 0) {
				/* the eventfd counter cannot overflow here */
			}
		}
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

static void
job_free(struct store_job *job)
{
	store_tx_free(job->tx);
	store_rows_free(job->res.rows);
	free(job);
}

/* Loop thread: deliver finished jobs. */
static void
dispatch_done(struct store *s)
{
	struct store_job *list, *job;

	pthread_mutex_lock(&s->mu);
	list = s->done;
	s->done = NULL;
	s->done_tail = &s->done;
	pthread_mutex_unlock(&s->mu);
	while ((job = list) != NULL) {
		list = job->next;
		s->pending--;
		if (job->cb)
			job->cb(&job->res, job->arg);
		job_free(job);
	}
}

static void
on_done(evutil_socket_t fd, short what, void *arg)
{
	uint64_t n;

	if (read(fd, &n, sizeof(n)) < 0) {
		/* spurious wake-up */
	}
	dispatch_done(arg);
}

static void
enqueue(struct store *s, struct store_job *job, int urgent)
{
	pthread_mutex_lock(&s->mu);
	if (urgent) {
		/* ahead of the queue, behind other urgent jobs */
		struct store_job **at = &s->queue;

		while (*at && (*at)->urgent)
			at = &(*at)->next;
		job->next = *at;
		*at = job;
		if (job->next == NULL)
			s->queue_tail = &job->next;
	} else {
		job->next = NULL;
		*s->queue_tail = job;
		s->queue_tail = &job->next;
	}
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

int
store_attach(struct store *s, struct event_base *base, struct store_err *err)
{
	if (s->base)
		return store_fail(err, STORE_ERR_SQL, "store already attached");
	s->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (s->efd == -1)
		return store_fail(err, STORE_ERR_IO, "eventfd: %s", strerror(errno));
	s->base = base;
	s->ev_done = event_new(base, s->efd, EV_READ | EV_PERSIST, on_done, s);
	event_add(s->ev_done, NULL);
	if (pthread_create(&s->worker, NULL, worker_main, s) != 0)
		abort();
	return STORE_OK;
}

static void
submit(struct store *s, struct store_tx *tx, store_done_fn cb, void *arg,
    int urgent)
{
	struct store_job *job = calloc(1, sizeof(*job));

	if (job == NULL)
		abort();
	if (s->base == NULL)
		abort(); /* programming error: store_attach first */
	job->tx = tx;
	job->cb = cb;
	job->arg = arg;
	job->urgent = urgent;
	s->pending++;
	enqueue(s, job, urgent);
}

void
store_tx_submit(struct store *s, struct store_tx *tx, store_done_fn cb,
    void *arg)
{
	submit(s, tx, cb, arg, 0);
}

void
store_tx_submit_urgent(struct store *s, struct store_tx *tx, store_done_fn cb,
    void *arg)
{
	submit(s, tx, cb, arg, 1);
}

void
store_query_submit(struct store *s, const char *sql,
    const struct store_val *params, size_t n, store_done_fn cb, void *arg)
{
	struct store_tx *tx = store_tx_new();

	store_tx_add(tx, sql, params, n);
	store_tx_submit(s, tx, cb, arg);
}

size_t
store_pending(const struct store *s)
{
	return s->pending;
}

/* --- blocking calls --- */

int
store_tx_run(struct store *s, struct store_tx *tx, struct store_result *res)
{
	struct store_result local = { 0 };
	int rc;

	if (res == NULL)
		res = &local;
	memset(res, 0, sizeof(*res));
	if (s->base == NULL) {
		rc = tx_run(s, tx, res);
	} else {
		struct store_job job = { .tx = tx, .sync = 1 };

		enqueue(s, &job, 0);
		pthread_mutex_lock(&s->mu);
		while (!job.done)
			pthread_cond_wait(&s->cv, &s->mu);
		pthread_mutex_unlock(&s->mu);
		*res = job.res;
		rc = res->code;
	}
	if (res == &local)
		store_rows_free(local.rows);
	return rc;
}

int
store_exec(struct store *s, const char *sql, const struct store_val *params,
    size_t n, int64_t *changes, struct store_err *err)
{
	struct store_tx *tx = store_tx_new();
	struct store_result res;
	int rc;

	store_tx_add(tx, sql, params, n);
	rc = store_tx_run(s, tx, &res);
	store_tx_free(tx);
	if (changes)
		*changes = res.changes;
	if (err)
		*err = res.err;
	store_rows_free(res.rows);
	return rc;
}

int
store_query(struct store *s, const char *sql, const struct store_val *params,
    size_t n, struct store_rows **rows, struct store_err *err)
{
	struct store_tx *tx = store_tx_new();
	struct store_result res;
	int rc;

	store_tx_add(tx, sql, params, n);
	tx->stmts[0].want_rows = 1;
	rc = store_tx_run(s, tx, &res);
	store_tx_free(tx);
	if (err)
		*err = res.err;
	if (rc == STORE_OK && res.rows == NULL)
		res.rows = store_rows_new(0);
	if (rc == STORE_OK)
		*rows = res.rows;
	else
		store_rows_free(res.rows);
	return rc;
}

/* --- open/close --- */

struct store *
store_open(const char *url, struct store_err *err)
{
	static const struct store_backend *const backends[] = {
		&store_sqlite_backend,
		&store_dqlite_backend,
	};
	struct store *s;

	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++) {
		const struct store_backend *be = backends[i];

		if (strncmp(url, be->prefix, strlen(be->prefix)) != 0)
			continue;
		s = calloc(1, sizeof(*s));
		if (s == NULL || (s->url = strdup(url)) == NULL)
			abort();
		s->be = be;
		s->efd = -1;
		s->queue_tail = &s->queue;
		s->done_tail = &s->done;
		pthread_mutex_init(&s->mu, NULL);
		pthread_cond_init(&s->cv, NULL);
		if (be->open(url, &s->conn, err) != STORE_OK) {
			free(s->url);
			free(s);
			return NULL;
		}
		return s;
	}
	store_fail(err, STORE_ERR_SQL,
	    "unknown store url '%s': expected sqlite:PATH or "
	    "dqlite://HOST:PORT[,HOST:PORT...]/DB", url);
	return NULL;
}

void
store_close(struct store *s)
{
	if (s == NULL)
		return;
	if (s->base) {
		pthread_mutex_lock(&s->mu);
		__atomic_store_n(&s->stopping, 1, __ATOMIC_RELEASE);
		pthread_cond_broadcast(&s->cv);
		pthread_mutex_unlock(&s->mu);
		pthread_join(s->worker, NULL);
		dispatch_done(s);
		event_free(s->ev_done);
		close(s->efd);
	}
	s->be->close(s->conn);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	free(s->url);
	free(s);
}

const char *
store_url(const struct store *s)
{
	return s->url;
}

/* --- migrations --- */

int
store_migrate(struct store *s, const char *component,
    const struct store_migration *m, size_t n, struct store_err *err)
{
	struct store_rows *rows = NULL;
	struct store_val key = SV_TEXT(component);
	int64_t current = 0;
	int rc;

	rc = store_exec(s, "CREATE TABLE IF NOT EXISTS schema_versions ("
	    "component TEXT PRIMARY KEY, version INTEGER NOT NULL)", NULL, 0,
	    NULL, err);
	if (rc != STORE_OK)
		return rc;
	rc = store_query(s, "SELECT version FROM schema_versions WHERE "
	    "component = ?", &key, 1, &rows, err);
	if (rc != STORE_OK)
		return rc;
	if (rows->nrows)
		current = store_rows_int(rows, 0, 0);
	store_rows_free(rows);

	for (size_t i = 0; i < n; i++) {
		struct store_tx *tx;
		struct store_result res;
		struct store_val vals[2];

		if (m[i].version <= current)
			continue;
		tx = store_tx_new();
		vals[0] = SV_TEXT(component);
		vals[1] = SV_INT(m[i].version);
		/* the same component on another master may be upgrading too:
		 * only one of them runs each version */
		store_tx_expect(tx, "SELECT 1 FROM schema_versions WHERE "
		    "component = ? AND version >= ?", vals, 2, 0);
		for (const char *const *st = m[i].statements; *st; st++)
			store_tx_add(tx, *st, NULL, 0);
		store_tx_add(tx, "INSERT OR REPLACE INTO schema_versions "
		    "(component, version) VALUES (?, ?)", vals, 2);
		rc = store_tx_run(s, tx, &res);
		store_tx_free(tx);
		store_rows_free(res.rows);
		if (rc == STORE_ERR_CONFLICT) {
			log_info("store schema of %s is already at version %d "
			    "(upgraded by another process)", component,
			    m[i].version);
			current = m[i].version;
			continue;
		}
		if (rc != STORE_OK) {
			store_fail(err, rc, "migrating %s to version %d: %s",
			    component, m[i].version, res.err.msg);
			return rc;
		}
		log_info("store schema of %s upgraded to version %d", component,
		    m[i].version);
		current = m[i].version;
	}
	return STORE_OK;
}

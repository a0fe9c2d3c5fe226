/*
 * lease: one row per named lease, taken and renewed by a transaction that
 * compares expiry on the store's clock. See lease.h for the guarantees.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "dcos/clock.h"
#include "dcos/ids.h"
#include "dcos/lease.h"
#include "dcos/log.h"
#include "dcos/store.h"

#define LEASE_TABLE "CREATE TABLE IF NOT EXISTS leases (" \
	"name TEXT PRIMARY KEY, holder TEXT NOT NULL, address TEXT NOT NULL, " \
	"epoch INTEGER NOT NULL, expires_ms INTEGER NOT NULL)"

/* Local step-down margin: we stop leading at this fraction of the ttl
 * after the start of the last successful renewal. */
#define LEASE_SAFETY 0.8

struct lease {
	struct store *s;
	struct event_base *base;
	char *name, *holder, *address;
	double ttl, renew;
	lease_fn elected, lost, changed;
	void *arg;
	struct event *tick, *expiry;
	int leader;
	int64_t epoch;
	char *leader_addr;
	double attempt_started;
	int inflight, stopped;
};

static void
lease_free(struct lease *l)
{
	event_free(l->tick);
	event_free(l->expiry);
	free(l->name);
	free(l->holder);
	free(l->address);
	free(l->leader_addr);
	free(l);
}

static void
set_leader_addr(struct lease *l, const char *addr)
{
	if ((addr == NULL && l->leader_addr == NULL) ||
	    (addr && l->leader_addr && strcmp(addr, l->leader_addr) == 0))
		return;
	free(l->leader_addr);
	l->leader_addr = addr ? strdup(addr) : NULL;
	log_info("lease %s: leader is now %s", l->name, addr ? addr : "(none)");
	if (l->changed)
		l->changed(l, l->arg);
}

static void
step_down(struct lease *l, const char *why)
{
	if (!l->leader)
		return;
	l->leader = 0;
	event_del(l->expiry);
	log_warn("lease %s: lost leadership (epoch %lld): %s", l->name,
	    (long long)l->epoch, why);
	if (l->lost)
		l->lost(l, l->arg);
}

static void
on_expiry(evutil_socket_t fd, short what, void *arg)
{
	struct lease *l = arg;

	step_down(l, "could not renew in time");
	set_leader_addr(l, NULL);
}

static void
on_result(const struct store_result *res, void *arg)
{
	struct lease *l = arg;
	const struct store_rows *rows = res->rows;
	const char *holder, *address;
	int64_t remaining;

	l->inflight = 0;
	if (l->stopped) {
		lease_free(l);
		return;
	}
	if (res->code != STORE_OK || rows == NULL || rows->nrows != 1) {
		log_warn("lease %s: cannot reach the store: %s; retrying", l->name,
		    res->code != STORE_OK ? res->err.msg : "no lease row");
		return;
	}
	holder = store_rows_text(rows, 0, 0);
	address = store_rows_text(rows, 0, 1);
	remaining = store_rows_int(rows, 0, 3);
	if (holder && strcmp(holder, l->holder) == 0) {
		struct timeval tv;
		double left = l->attempt_started + l->ttl * LEASE_SAFETY - clock_mono();

		l->epoch = store_rows_int(rows, 0, 2);
		tv = clock_tv(left > 0 ? left : 0);
		event_add(l->expiry, &tv);
		if (!l->leader) {
			l->leader = 1;
			log_notice("lease %s: elected leader (epoch %lld)", l->name,
			    (long long)l->epoch);
			set_leader_addr(l, l->address);
			if (l->elected)
				l->elected(l, l->arg);
		}
		return;
	}
	step_down(l, "another holder has it");
	set_leader_addr(l, remaining > 0 && address && address[0] ? address : NULL);
}

static void
attempt(struct lease *l)
{
	struct store_tx *tx = store_tx_new();
	struct store_val ins[1] = { SV_TEXT(l->name) };
	struct store_val upd[5] = { SV_TEXT(l->holder), SV_TEXT(l->holder),
		SV_TEXT(l->address), SV_INT((int64_t)(l->ttl * 1000)),
		SV_TEXT(l->name) };

	store_tx_add(tx, "INSERT OR IGNORE INTO leases (name, holder, address, "
	    "epoch, expires_ms) VALUES (?, '', '', 0, 0)", ins, 1);
	/* SET expressions all see the old row: epoch stays only for a holder
	 * renewing a lease that has not yet expired */
	store_tx_add(tx, "UPDATE leases SET "
	    "epoch = CASE WHEN holder = ?1 AND expires_ms >= " STORE_NOW_MS
	    " THEN epoch ELSE epoch + 1 END, "
	    "holder = ?2, address = ?3, expires_ms = " STORE_NOW_MS " + ?4 "
	    "WHERE name = ?5 AND (holder = ?1 OR expires_ms < " STORE_NOW_MS ")",
	    upd, 5);
	store_tx_add(tx, "SELECT holder, address, epoch, expires_ms - "
	    STORE_NOW_MS " FROM leases WHERE name = ?", ins, 1);
	l->inflight = 1;
	l->attempt_started = clock_mono();
	store_tx_submit_urgent(l->s, tx, on_result, l);
}

static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct lease *l = arg;

	if (!l->inflight)
		attempt(l);
}

struct lease *
lease_start(struct store *s, struct event_base *base,
    const struct lease_opts *opts, lease_fn elected, lease_fn lost,
    lease_fn changed, void *arg)
{
	struct lease *l = calloc(1, sizeof(*l));
	struct store_err err;
	struct timeval tv;
	char holder[256], uuid[UUID_STR_LEN];

	if (l == NULL)
		abort();
	if (store_exec(s, LEASE_TABLE, NULL, 0, NULL, &err) != STORE_OK)
		log_warn("lease %s: cannot create the lease table yet: %s",
		    opts->name, err.msg);
	ids_uuid4(uuid);
	snprintf(holder, sizeof(holder), "%s/%s", opts->address, uuid);
	l->s = s;
	l->base = base;
	l->name = strdup(opts->name);
	l->holder = strdup(opts->holder ? opts->holder : holder);
	l->address = strdup(opts->address);
	if (!l->name || !l->holder || !l->address)
		abort();
	l->ttl = opts->ttl > 0 ? opts->ttl : 10;
	l->renew = opts->renew > 0 ? opts->renew : l->ttl / 4;
	l->elected = elected;
	l->lost = lost;
	l->changed = changed;
	l->arg = arg;
	l->tick = event_new(base, -1, EV_PERSIST, on_tick, l);
	l->expiry = evtimer_new(base, on_expiry, l);
	tv = clock_tv(l->renew);
	event_add(l->tick, &tv);
	attempt(l);
	return l;
}

void
lease_stop(struct lease *l)
{
	if (l == NULL)
		return;
	if (l->leader) {
		struct store_tx *tx = store_tx_new();
		struct store_val v[2] = { SV_TEXT(l->name), SV_TEXT(l->holder) };

		/* let a follower take over now rather than after the ttl */
		store_tx_add(tx, "UPDATE leases SET expires_ms = 0 WHERE name = ? "
		    "AND holder = ?", v, 2);
		store_tx_submit_urgent(l->s, tx, NULL, NULL);
		log_notice("lease %s: released (epoch %lld)", l->name,
		    (long long)l->epoch);
	}
	l->leader = 0;
	event_del(l->tick);
	event_del(l->expiry);
	if (l->inflight)
		l->stopped = 1; /* freed by on_result */
	else
		lease_free(l);
}

int
lease_is_leader(const struct lease *l)
{
	return l->leader;
}

int64_t
lease_epoch(const struct lease *l)
{
	return l->epoch;
}

const char *
lease_leader(const struct lease *l)
{
	return l->leader_addr;
}

void
lease_guard(const struct lease *l, struct store_tx *tx)
{
	struct store_val v[3] = { SV_TEXT(l->name), SV_TEXT(l->holder),
		SV_INT(l->epoch) };

	store_tx_expect(tx, "UPDATE leases SET epoch = epoch WHERE name = ? AND "
	    "holder = ? AND epoch = ? AND expires_ms >= " STORE_NOW_MS, v, 3, 1);
}

int
lease_read(struct store *s, const char *name, char *address, size_t size,
    int64_t *epoch)
{
	struct store_val v = SV_TEXT(name);
	struct store_rows *rows;
	int rc;

	rc = store_query(s, "SELECT address, epoch FROM leases WHERE name = ? "
	    "AND expires_ms >= " STORE_NOW_MS, &v, 1, &rows, NULL);
	if (rc != STORE_OK)
		return rc == STORE_ERR_SQL ? 1 : rc; /* no table yet: free */
	rc = rows->nrows == 1 ? 0 : 1;
	if (rc == 0) {
		snprintf(address, size, "%s", store_rows_text(rows, 0, 0));
		*epoch = store_rows_int(rows, 0, 1);
	}
	store_rows_free(rows);
	return rc;
}

struct lease_read_ctx {
	lease_read_fn cb;
	void *arg;
};

static void
lease_read_done(const struct store_result *res, void *arg)
{
	struct lease_read_ctx *ctx = arg;

	if (res->code == STORE_ERR_SQL)
		ctx->cb(1, NULL, 0, ctx->arg); /* no table yet: free */
	else if (res->code != STORE_OK)
		ctx->cb(res->code, NULL, 0, ctx->arg);
	else if (res->rows == NULL || res->rows->nrows != 1)
		ctx->cb(1, NULL, 0, ctx->arg);
	else
		ctx->cb(0, store_rows_text(res->rows, 0, 0),
		    store_rows_int(res->rows, 0, 1), ctx->arg);
	free(ctx);
}

void
lease_read_submit(struct store *s, const char *name, lease_read_fn cb,
    void *arg)
{
	struct lease_read_ctx *ctx = malloc(sizeof(*ctx));
	struct store_val v = SV_TEXT(name);

	if (ctx == NULL)
		abort();
	ctx->cb = cb;
	ctx->arg = arg;
	store_query_submit(s, "SELECT address, epoch FROM leases WHERE name = ? "
	    "AND expires_ms >= " STORE_NOW_MS, &v, 1, lease_read_done, ctx);
}

/*
 * lease: leader election on top of the store.
 *
 * A named lease is one row (holder, address, epoch, expiry). Contenders
 * try to take or renew it every `renew` seconds in one transaction whose
 * expiry test runs on the store's clock (the dqlite leader's). The epoch
 * grows by one each time the lease changes hands or is re-taken after it
 * expired: a fencing token that writes can check with lease_guard.
 *
 * A holder steps down on its own (the lost callback) when it could not
 * renew within `ttl` of its last successful renewal's start, measured on
 * its monotonic clock, so it never believes it leads after others may have
 * taken over. At most one holder at a time, whatever dies.
 */
#ifndef DCOS_LEASE_H
#define DCOS_LEASE_H

#include <stdint.h>

struct event_base;
struct store;
struct store_tx;
struct lease;

struct lease_opts {
	const char *name;    /* "mesos-master", "marathon" */
	const char *holder;  /* unique per process; default address + uuid */
	const char *address; /* advertised to followers, e.g. "10.0.0.1:5050" */
	double ttl;          /* seconds; default 10 */
	double renew;        /* seconds between attempts; default ttl / 4 */
};

typedef void (*lease_fn)(struct lease *l, void *arg);

/* The store must be attached to base. elected runs when this process
 * becomes the holder, lost when it stops being it, changed whenever the
 * known leader address changes (also for followers). Any may be NULL. */
struct lease *lease_start(struct store *s, struct event_base *base,
    const struct lease_opts *opts, lease_fn elected, lease_fn lost,
    lease_fn changed, void *arg);
/* Stops contending; a holder releases the lease so others take over at
 * once. No callbacks run after this. */
void lease_stop(struct lease *l);

int lease_is_leader(const struct lease *l);
int64_t lease_epoch(const struct lease *l);
/* The current holder's address, or NULL when unknown / none. */
const char *lease_leader(const struct lease *l);

/* Adds to tx a statement that fails the transaction (STORE_ERR_CONFLICT)
 * unless this process still holds the lease with the same epoch. */
void lease_guard(const struct lease *l, struct store_tx *tx);

/* Blocking read, for tools and tests: 0 and the holder's address and epoch
 * when held and unexpired, 1 when free, <0 on store errors. */
int lease_read(struct store *s, const char *name, char *address, size_t size,
    int64_t *epoch);

/* The same read for the event loop (the store must be attached): cb runs
 * on the loop with rc as lease_read's and address NULL unless rc is 0. */
typedef void (*lease_read_fn)(int rc, const char *address, int64_t epoch,
    void *arg);
void lease_read_submit(struct store *s, const char *name, lease_read_fn cb,
    void *arg);

#endif

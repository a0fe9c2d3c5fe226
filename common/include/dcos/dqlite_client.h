/*
 * dqlite_client: a blocking client for one connection to one dqlite member,
 * speaking dqlite's wire protocol (version 1). The store's dqlite backend
 * runs it on the store's worker thread; dcos-exhibitor uses it to find the
 * leader, read the membership and add, promote or remove members.
 *
 * Every connect, read and write has a deadline (the timeout given at
 * connect, per request), so a dead or stopped member never hangs a caller.
 * Requests are never pipelined: one request, then its whole response.
 *
 * Errors: DQLITE_CLIENT_EFAIL is an answer from the server (code is
 * SQLite's extended result code, msg the server's message); the connection
 * is still usable. DQLITE_CLIENT_EIO means the connection is gone (refused,
 * timed out, closed, or a malformed response); every later call on it
 * fails the same way, and the caller closes it.
 */
#ifndef DCOS_DQLITE_CLIENT_H
#define DCOS_DQLITE_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "dcos/store.h"

struct dqlite_client;

enum {
	DQLITE_CLIENT_OK = 0,
	DQLITE_CLIENT_EFAIL = -1, /* the server answered with a failure */
	DQLITE_CLIENT_EIO = -2,   /* connection lost or unusable */
};

/* Member roles, as in dqlite's CLUSTER and ASSIGN requests. */
enum dqlite_client_role {
	DQLITE_CLIENT_VOTER = 0,
	DQLITE_CLIENT_STANDBY = 1,
	DQLITE_CLIENT_SPARE = 2,
};

/* SQLite extended codes dqlite uses for leadership problems. */
#define DQLITE_CLIENT_NOT_LEADER (10 | (40 << 8))       /* SQLITE_IOERR_NOT_LEADER */
#define DQLITE_CLIENT_LEADERSHIP_LOST (10 | (41 << 8))  /* SQLITE_IOERR_LEADERSHIP_LOST */

#define DQLITE_CLIENT_ADDR_MAX 128

struct dqlite_client_err {
	int kind;      /* DQLITE_CLIENT_EFAIL or DQLITE_CLIENT_EIO */
	uint64_t code; /* SQLite extended code, for EFAIL */
	char msg[256];
};

struct dqlite_member {
	uint64_t id;
	char address[DQLITE_CLIENT_ADDR_MAX];
	int role; /* enum dqlite_client_role */
};

/* Every later connection of this process leaves from this IPv4 address
 * (dcos-exhibitor: members accept membership requests from masters only).
 * NULL or "" for the kernel's choice. Call before any connect. */
void dqlite_client_set_source(const char *ip);

/* Connects to "host:port" and sends the protocol handshake. timeout_ms
 * bounds the connect and, later, each request. NULL on failure. */
struct dqlite_client *dqlite_client_connect(const char *address,
    int timeout_ms, struct dqlite_client_err *err);
void dqlite_client_close(struct dqlite_client *c);
const char *dqlite_client_address(const struct dqlite_client *c);
void dqlite_client_set_timeout(struct dqlite_client *c, int timeout_ms);

/* Asks addresses[0..n) in turn who leads, and returns a connection to the
 * member that says it is the leader. NULL when none could be found; err
 * then lists each member's answer. */
struct dqlite_client *dqlite_client_connect_leader(
    const char *const *addresses, size_t n, int timeout_ms,
    struct dqlite_client_err *err);

/* The leader this member knows: id 0 and "" when it knows none. */
int dqlite_client_leader(struct dqlite_client *c, uint64_t *id,
    char *address, size_t size, struct dqlite_client_err *err);
/* This member's view of the configuration; *members is malloc'ed. */
int dqlite_client_cluster(struct dqlite_client *c,
    struct dqlite_member **members, size_t *n, struct dqlite_client_err *err);
/* Membership changes; the member must be the leader. add makes a spare. */
int dqlite_client_add(struct dqlite_client *c, uint64_t id,
    const char *address, struct dqlite_client_err *err);
int dqlite_client_assign(struct dqlite_client *c, uint64_t id, int role,
    struct dqlite_client_err *err);
int dqlite_client_remove(struct dqlite_client *c, uint64_t id,
    struct dqlite_client_err *err);
/* Hands leadership to id (0: the member raft thinks best). */
int dqlite_client_transfer(struct dqlite_client *c, uint64_t id,
    struct dqlite_client_err *err);

/* Opens the named database on this connection (once per connection). */
int dqlite_client_open(struct dqlite_client *c, const char *db,
    struct dqlite_client_err *err);
/* Prepares one statement on the connection: its id and how many
 * parameters it takes. The id is valid until finalized or disconnected. */
int dqlite_client_prepare(struct dqlite_client *c, const char *sql,
    uint32_t *stmt, uint64_t *nparams, struct dqlite_client_err *err);
int dqlite_client_finalize(struct dqlite_client *c, uint32_t stmt,
    struct dqlite_client_err *err);
/* Runs a prepared statement that returns no rows / returns rows. */
int dqlite_client_exec_stmt(struct dqlite_client *c, uint32_t stmt,
    const struct store_val *params, size_t n, uint64_t *last_insert_id,
    uint64_t *rows_affected, struct dqlite_client_err *err);
int dqlite_client_query_stmt(struct dqlite_client *c, uint32_t stmt,
    const struct store_val *params, size_t n, struct store_rows **rows,
    struct dqlite_client_err *err);
/* Runs sql (one or more statements; params bind to the first). */
int dqlite_client_exec(struct dqlite_client *c, const char *sql,
    const struct store_val *params, size_t n, uint64_t *last_insert_id,
    uint64_t *rows_affected, struct dqlite_client_err *err);
/* Runs one query and collects every batch of rows; *rows is new. */
int dqlite_client_query(struct dqlite_client *c, const char *sql,
    const struct store_val *params, size_t n, struct store_rows **rows,
    struct dqlite_client_err *err);

#endif

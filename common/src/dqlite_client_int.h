/*
 * dqlite_client_int: what the two halves of the dqlite client share:
 * dqlite_client.c (the connection, its I/O and the cluster requests) and
 * dqlite_client_sql.c (databases, statements, rows).
 */
#ifndef DCOS_DQLITE_CLIENT_INT_H
#define DCOS_DQLITE_CLIENT_INT_H

#include "dcos/dqlite_client.h"
#include "dcos/dqlite_wire.h"

struct dqlite_client {
	int fd;
	int timeout_ms;
	char address[DQLITE_CLIENT_ADDR_MAX];
	struct dqlite_wire_buf out;
	uint8_t *in; /* body of the last response */
	size_t in_len, in_cap;
	uint8_t in_type;
	int64_t deadline_ms;
};

/* Fills err; returns kind. */
int dqlite_client_fail(struct dqlite_client_err *err, int kind, uint64_t code,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Closes the socket: the connection is unusable from here on. EIO. */
int dqlite_client_broken(struct dqlite_client *c, struct dqlite_client_err *err,
    const char *what);
/* Reads one response message into c->in. */
int dqlite_client_read(struct dqlite_client *c, struct dqlite_client_err *err);
/* A cursor over the last response's body. */
struct dqlite_wire_cursor dqlite_client_body(const struct dqlite_client *c);
/* OK when the last response has the expected type, EFAIL (with the
 * server's code and message) for a FAILURE, EIO for anything else. */
int dqlite_client_expect(struct dqlite_client *c, uint8_t type,
    struct dqlite_client_err *err);
/* Sends c->out (begun with dqlite_wire_begin) and reads the response. */
int dqlite_client_call(struct dqlite_client *c, uint8_t type,
    struct dqlite_client_err *err);

#endif

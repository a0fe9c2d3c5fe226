/*
 * dqlite_wire: encoding and decoding of dqlite's client wire protocol
 * (version 1), with no I/O, so it can be tested byte for byte.
 *
 * A connection starts with the client's protocol version as one 8-byte
 * word. Then every message, both ways, is an 8-byte header (body size in
 * 8-byte words, little endian, 4 bytes; type, 1 byte; schema, 1 byte; two
 * unused bytes) and a body that fills whole words. Integers are little
 * endian; text is NUL-terminated and zero-padded to a word boundary.
 *
 * Statement parameters are a tuple: one byte with the count, one type byte
 * per value, zero padding to a word, then the values. A row of a result is
 * a tuple with a 4-bit type per column (padded to a word) and the values.
 * A ROWS response is the column count, the column names, the rows, and a
 * word that says whether more batches follow (0xee..) or not (0xff..).
 *
 * Decoders check every length against what is left of the body, so a
 * malformed or hostile response is an error, never an overread.
 */
#ifndef DCOS_DQLITE_WIRE_H
#define DCOS_DQLITE_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "dcos/store.h"

#define DQLITE_WIRE_VERSION 1
#define DQLITE_WIRE_HEADER 8
/* Bodies larger than this are refused as malformed. */
#define DQLITE_WIRE_MAX_BODY (64u << 20)
/* Schema 0 carries the parameter count in one byte. */
#define DQLITE_WIRE_MAX_PARAMS 255

#define DQLITE_WIRE_ROWS_PART 0xeeeeeeeeeeeeeeeeULL
#define DQLITE_WIRE_ROWS_DONE 0xffffffffffffffffULL

enum dqlite_wire_request {
	DQLITE_REQ_LEADER = 0,
	DQLITE_REQ_CLIENT = 1,
	DQLITE_REQ_HEARTBEAT = 2,
	DQLITE_REQ_OPEN = 3,
	DQLITE_REQ_PREPARE = 4,
	DQLITE_REQ_EXEC = 5,
	DQLITE_REQ_QUERY = 6,
	DQLITE_REQ_FINALIZE = 7,
	DQLITE_REQ_EXEC_SQL = 8,
	DQLITE_REQ_QUERY_SQL = 9,
	DQLITE_REQ_INTERRUPT = 10,
	DQLITE_REQ_CONNECT = 11,
	DQLITE_REQ_ADD = 12,
	DQLITE_REQ_ASSIGN = 13,
	DQLITE_REQ_REMOVE = 14,
	DQLITE_REQ_DUMP = 15,
	DQLITE_REQ_CLUSTER = 16,
	DQLITE_REQ_TRANSFER = 17,
	DQLITE_REQ_DESCRIBE = 18,
	DQLITE_REQ_WEIGHT = 19,
};

enum dqlite_wire_response {
	DQLITE_RESP_FAILURE = 0,
	DQLITE_RESP_SERVER = 1,
	DQLITE_RESP_WELCOME = 2,
	DQLITE_RESP_SERVERS = 3,
	DQLITE_RESP_DB = 4,
	DQLITE_RESP_STMT = 5,
	DQLITE_RESP_RESULT = 6,
	DQLITE_RESP_ROWS = 7,
	DQLITE_RESP_EMPTY = 8,
};

/* Value type codes, as on the wire (the first five are SQLite's). */
enum dqlite_wire_type {
	DQLITE_TYPE_INTEGER = 1,
	DQLITE_TYPE_FLOAT = 2,
	DQLITE_TYPE_TEXT = 3,
	DQLITE_TYPE_BLOB = 4,
	DQLITE_TYPE_NULL = 5,
	DQLITE_TYPE_UNIXTIME = 9,
	DQLITE_TYPE_ISO8601 = 10,
	DQLITE_TYPE_BOOLEAN = 11,
};

/* A growing output buffer holding one request (header included). */
struct dqlite_wire_buf {
	uint8_t *p;
	size_t len, cap;
};

/* A read position inside a response body. */
struct dqlite_wire_cursor {
	const uint8_t *p;
	size_t left;
};

void dqlite_wire_buf_free(struct dqlite_wire_buf *b);

/* The 8-byte protocol version word a client sends first. */
void dqlite_wire_handshake(uint8_t out[8]);

/* Starts a request of the given type in b (emptying it first); finish with
 * dqlite_wire_end, which writes the header's size. */
void dqlite_wire_begin(struct dqlite_wire_buf *b, int type);
void dqlite_wire_end(struct dqlite_wire_buf *b);
void dqlite_wire_put_u64(struct dqlite_wire_buf *b, uint64_t v);
void dqlite_wire_put_u32(struct dqlite_wire_buf *b, uint32_t v);
void dqlite_wire_put_text(struct dqlite_wire_buf *b, const char *s);
/* Appends a parameter tuple. -1 (and nothing appended) when there are too
 * many values or a TEXT value holds a NUL byte; err says which. */
int dqlite_wire_put_params(struct dqlite_wire_buf *b,
    const struct store_val *vals, size_t n, char *err, size_t errlen);

/* Reads a message header: 0, or -1 when the size is over the limit. */
int dqlite_wire_header(const uint8_t hdr[8], uint32_t *words, uint8_t *type);

/* Each returns 0, or -1 when the body is too short or malformed. */
int dqlite_wire_get_u64(struct dqlite_wire_cursor *c, uint64_t *v);
int dqlite_wire_get_u32(struct dqlite_wire_cursor *c, uint32_t *v);
/* *s points into the body. */
int dqlite_wire_get_text(struct dqlite_wire_cursor *c, const char **s);

/* Skips over a parameter tuple (as a server reads one), checking its
 * count, type codes and every value's size: 0, or -1 when malformed. */
int dqlite_wire_skip_params(struct dqlite_wire_cursor *c);

/* FAILURE body: the SQLite (extended) error code and the message. */
int dqlite_wire_get_failure(struct dqlite_wire_cursor *c, uint64_t *code,
    const char **msg);

/* One ROWS batch. On the first batch *rows is NULL and is created with
 * the batch's column names; later batches must have the same columns and
 * append to it. *eof is DQLITE_WIRE_ROWS_PART or DQLITE_WIRE_ROWS_DONE.
 * On error *rows keeps what was decoded; the caller frees it. */
int dqlite_wire_get_rows(struct dqlite_wire_cursor *c,
    struct store_rows **rows, uint64_t *eof, char *err, size_t errlen);

#endif

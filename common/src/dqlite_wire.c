/*
 * dqlite_wire: the byte layout of dqlite's client protocol (see
 * dqlite_wire.h), written from the protocol reference: requests are built
 * into a buffer, responses are read through a bounds-checked cursor.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dcos/dqlite_wire.h"

#define MAX_COLUMNS 2000 /* SQLite's default SQLITE_MAX_COLUMN */

static size_t
pad8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

void
dqlite_wire_buf_free(struct dqlite_wire_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

/* Makes room for n more bytes and returns where they go (zeroed). */
static uint8_t *
buf_grow(struct dqlite_wire_buf *b, size_t n)
{
	uint8_t *at;

	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;

		while (cap < b->len + n)
			cap *= 2;
		if ((b->p = realloc(b->p, cap)) == NULL)
			abort();
		b->cap = cap;
	}
	at = b->p + b->len;
	memset(at, 0, n);
	b->len += n;
	return at;
}

static void
put_le(uint8_t *at, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		at[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t
get_le(const uint8_t *at, int bytes)
{
	uint64_t v = 0;

	for (int i = 0; i < bytes; i++)
		v |= (uint64_t)at[i] << (8 * i);
	return v;
}

void
dqlite_wire_handshake(uint8_t out[8])
{
	put_le(out, DQLITE_WIRE_VERSION, 8);
}

void
dqlite_wire_begin(struct dqlite_wire_buf *b, int type)
{
	uint8_t *hdr;

	b->len = 0;
	hdr = buf_grow(b, DQLITE_WIRE_HEADER);
	hdr[4] = (uint8_t)type;
}

void
dqlite_wire_end(struct dqlite_wire_buf *b)
{
	size_t body = b->len - DQLITE_WIRE_HEADER;

	/* every put keeps the body a whole number of words */
	put_le(b->p, body / 8, 4);
}

void
dqlite_wire_put_u64(struct dqlite_wire_buf *b, uint64_t v)
{
	put_le(buf_grow(b, 8), v, 8);
}

void
dqlite_wire_put_u32(struct dqlite_wire_buf *b, uint32_t v)
{
	put_le(buf_grow(b, 4), v, 4);
}

void
dqlite_wire_put_text(struct dqlite_wire_buf *b, const char *s)
{
	size_t len = strlen(s);

	memcpy(buf_grow(b, pad8(len + 1)), s, len);
}

static void
put_double(uint8_t *at, double f)
{
	uint64_t bits;

	memcpy(&bits, &f, sizeof(bits));
	put_le(at, bits, 8);
}

int
dqlite_wire_put_params(struct dqlite_wire_buf *b, const struct store_val *vals,
    size_t n, char *err, size_t errlen)
{
	size_t start = b->len;
	uint8_t *hdr;

	if (n > DQLITE_WIRE_MAX_PARAMS) {
		snprintf(err, errlen, "%zu parameters given; dqlite takes at "
		    "most %d", n, DQLITE_WIRE_MAX_PARAMS);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (vals[i].type == STORE_TEXT && vals[i].len != SIZE_MAX &&
		    memchr(vals[i].s, '\0', vals[i].len) != NULL) {
			snprintf(err, errlen, "parameter %zu is TEXT with a NUL "
			    "byte inside; bind it as a BLOB", i + 1);
			return -1;
		}
	}
	hdr = buf_grow(b, pad8(1 + n));
	hdr[0] = (uint8_t)n;
	for (size_t i = 0; i < n; i++) {
		const struct store_val *v = &vals[i];
		size_t len;
		uint8_t *at;

		switch (v->type) {
		case STORE_INT:
			b->p[start + 1 + i] = DQLITE_TYPE_INTEGER;
			put_le(buf_grow(b, 8), (uint64_t)v->i, 8);
			break;
		case STORE_FLOAT:
			b->p[start + 1 + i] = DQLITE_TYPE_FLOAT;
			put_double(buf_grow(b, 8), v->f);
			break;
		case STORE_TEXT:
			b->p[start + 1 + i] = DQLITE_TYPE_TEXT;
			len = v->len == SIZE_MAX ? strlen(v->s) : v->len;
			memcpy(buf_grow(b, pad8(len + 1)), v->s, len);
			break;
		case STORE_BLOB:
			b->p[start + 1 + i] = DQLITE_TYPE_BLOB;
			len = v->len;
			put_le(buf_grow(b, 8), len, 8);
			at = buf_grow(b, pad8(len));
			if (len)
				memcpy(at, v->s, len);
			break;
		default:
			b->p[start + 1 + i] = DQLITE_TYPE_NULL;
			buf_grow(b, 8);
			break;
		}
	}
	return 0;
}

int
dqlite_wire_header(const uint8_t hdr[8], uint32_t *words, uint8_t *type)
{
	*words = (uint32_t)get_le(hdr, 4);
	*type = hdr[4];
	return (uint64_t)*words * 8 > DQLITE_WIRE_MAX_BODY ? -1 : 0;
}

int
dqlite_wire_get_u64(struct dqlite_wire_cursor *c, uint64_t *v)
{
	if (c->left < 8)
		return -1;
	*v = get_le(c->p, 8);
	c->p += 8;
	c->left -= 8;
	return 0;
}

int
dqlite_wire_get_u32(struct dqlite_wire_cursor *c, uint32_t *v)
{
	if (c->left < 4)
		return -1;
	*v = (uint32_t)get_le(c->p, 4);
	c->p += 4;
	c->left -= 4;
	return 0;
}

int
dqlite_wire_get_text(struct dqlite_wire_cursor *c, const char **s)
{
	const uint8_t *nul = memchr(c->p, '\0', c->left);
	size_t used;

	if (nul == NULL)
		return -1;
	used = pad8((size_t)(nul - c->p) + 1);
	if (used > c->left)
		return -1;
	*s = (const char *)c->p;
	c->p += used;
	c->left -= used;
	return 0;
}

int
dqlite_wire_get_failure(struct dqlite_wire_cursor *c, uint64_t *code,
    const char **msg)
{
	if (dqlite_wire_get_u64(c, code) == -1)
		return -1;
	/* old servers may leave the message out */
	if (c->left == 0) {
		*msg = "";
		return 0;
	}
	return dqlite_wire_get_text(c, msg);
}

static int
get_blob(struct dqlite_wire_cursor *c, struct store_val *v)
{
	uint64_t len;

	if (dqlite_wire_get_u64(c, &len) == -1 || len > c->left ||
	    pad8((size_t)len) > c->left)
		return -1;
	v->type = STORE_BLOB;
	v->s = (const char *)c->p;
	v->len = (size_t)len;
	c->p += pad8((size_t)len);
	c->left -= pad8((size_t)len);
	return 0;
}

static int
get_value(struct dqlite_wire_cursor *c, int type, struct store_val *v)
{
	uint64_t u;

	memset(v, 0, sizeof(*v));
	switch (type) {
	case DQLITE_TYPE_INTEGER:
	case DQLITE_TYPE_UNIXTIME:
	case DQLITE_TYPE_BOOLEAN:
		if (dqlite_wire_get_u64(c, &u) == -1)
			return -1;
		v->type = STORE_INT;
		v->i = (int64_t)u;
		return 0;
	case DQLITE_TYPE_FLOAT:
		if (dqlite_wire_get_u64(c, &u) == -1)
			return -1;
		v->type = STORE_FLOAT;
		memcpy(&v->f, &u, sizeof(v->f));
		return 0;
	case DQLITE_TYPE_TEXT:
	case DQLITE_TYPE_ISO8601:
		if (dqlite_wire_get_text(c, &v->s) == -1)
			return -1;
		v->type = STORE_TEXT;
		v->len = strlen(v->s);
		return 0;
	case DQLITE_TYPE_BLOB:
		return get_blob(c, v);
	case DQLITE_TYPE_NULL:
		v->type = STORE_NULL;
		return dqlite_wire_get_u64(c, &u);
	default:
		return -1;
	}
}

int
dqlite_wire_skip_params(struct dqlite_wire_cursor *c)
{
	const uint8_t *types;
	size_t n, hdr;

	if (c->left == 0)
		return 0; /* no tuple at all: no parameters */
	n = c->p[0];
	hdr = pad8(1 + n);
	if (hdr > c->left)
		return -1;
	types = c->p + 1;
	c->p += hdr;
	c->left -= hdr;
	for (size_t i = 0; i < n; i++) {
		struct store_val v;

		/* servers read these parameter types (not UNIXTIME) */
		if (types[i] == DQLITE_TYPE_UNIXTIME ||
		    get_value(c, types[i], &v) == -1)
			return -1;
	}
	return 0;
}

/* Reads the column count and names, creating *rows or checking that they
 * match the previous batch. */
static int
get_columns(struct dqlite_wire_cursor *c, struct store_rows **rows,
    char *err, size_t errlen)
{
	uint64_t ncols;

	if (dqlite_wire_get_u64(c, &ncols) == -1 || ncols == 0 ||
	    ncols > MAX_COLUMNS || ncols > c->left / 8) {
		snprintf(err, errlen, "bad column count in rows response");
		return -1;
	}
	if (*rows != NULL && (*rows)->ncols != ncols) {
		snprintf(err, errlen, "rows batch has %llu columns, the first "
		    "had %zu", (unsigned long long)ncols, (*rows)->ncols);
		return -1;
	}
	if (*rows == NULL)
		*rows = store_rows_new((size_t)ncols);
	for (size_t i = 0; i < ncols; i++) {
		const char *name;

		if (dqlite_wire_get_text(c, &name) == -1) {
			snprintf(err, errlen, "bad column name in rows response");
			return -1;
		}
		if ((*rows)->cols[i] == NULL &&
		    ((*rows)->cols[i] = strdup(name)) == NULL)
			abort();
	}
	return 0;
}

int
dqlite_wire_get_rows(struct dqlite_wire_cursor *c, struct store_rows **rows,
    uint64_t *eof, char *err, size_t errlen)
{
	struct store_val *vals;
	size_t ncols, hdr;
	int rc = -1;

	if (get_columns(c, rows, err, errlen) == -1)
		return -1;
	ncols = (*rows)->ncols;
	hdr = pad8((ncols + 1) / 2);
	if ((vals = calloc(ncols, sizeof(*vals))) == NULL)
		abort();
	for (;;) {
		const uint8_t *types;

		if (c->left < 8) {
			snprintf(err, errlen, "rows response ends without a "
			    "done or more marker");
			goto out;
		}
		*eof = get_le(c->p, 8);
		if (*eof == DQLITE_WIRE_ROWS_DONE || *eof == DQLITE_WIRE_ROWS_PART) {
			c->p += 8;
			c->left -= 8;
			break;
		}
		if (hdr > c->left) {
			snprintf(err, errlen, "truncated row header");
			goto out;
		}
		types = c->p;
		c->p += hdr;
		c->left -= hdr;
		for (size_t i = 0; i < ncols; i++) {
			int type = (types[i / 2] >> (i % 2 ? 4 : 0)) & 0x0f;

			if (get_value(c, type, &vals[i]) == -1) {
				snprintf(err, errlen, "bad value in row %zu, "
				    "column %zu (type %d)", (*rows)->nrows + 1,
				    i + 1, type);
				goto out;
			}
		}
		store_rows_add(*rows, vals);
	}
	rc = 0;
out:
	free(vals);
	return rc;
}

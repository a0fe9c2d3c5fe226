/*
 * fuzz/dqlite_wire: dqlite wire decoding, as the store client reads a
 * member's responses and as the exhibitor's guard reads requests.
 *
 * The first byte picks a mode:
 *   0  a response body: headers, FAILURE, and ROWS batches (one after the
 *      other while they say more follow), then every value read back
 *      through store_rows_int/float/text as callers do;
 *   1  a request body: parameter tuples (dqlite_wire_skip_params), text;
 *   2  values built from the input, encoded with dqlite_wire_put_params
 *      and skipped again: the tuple must decode and be used up exactly;
 *   3  a ROWS response encoded here from the input, per the protocol
 *      reference, then decoded: the same columns and values must come out.
 * Bodies are copied into buffers of exactly their size, so an overread
 * shows, and no decoder may succeed by reading past what it was given.
 */
#include "dcos/dqlite_wire.h"
#include "fuzz.h"

static void
read_back(const struct store_rows *rows)
{
	for (size_t r = 0; r < rows->nrows; r++)
		for (size_t c = 0; c < rows->ncols; c++) {
			const struct store_val *v = store_rows_get(rows, r, c);

			(void)store_rows_int(rows, r, c);
			(void)store_rows_float(rows, r, c);
			if (v->type == STORE_TEXT)
				FZ_CHECK(store_rows_text(rows, r, c) != NULL &&
				    strlen(store_rows_text(rows, r, c)) == v->len,
				    "text length");
		}
}

static void
mode_response(struct fz *f)
{
	size_t len = f->n;
	uint8_t *body = malloc(len ? len : 1), hdr[8] = { 0 };
	struct dqlite_wire_cursor c;
	struct store_rows *rows = NULL;
	uint64_t code, eof;
	const char *msg;
	uint32_t words;
	uint8_t type;
	char err[160];

	memcpy(body, f->p, len);
	memcpy(hdr, body, len < 8 ? len : 8);
	if (dqlite_wire_header(hdr, &words, &type) == 0)
		FZ_CHECK((uint64_t)words * 8 <= DQLITE_WIRE_MAX_BODY, "size");

	c = (struct dqlite_wire_cursor){ body, len };
	if (dqlite_wire_get_failure(&c, &code, &msg) == 0)
		FZ_CHECK(msg[0] == '\0' || (msg >= (const char *)body &&
		    msg + strlen(msg) < (const char *)body + len), "message");

	c = (struct dqlite_wire_cursor){ body, len };
	do {
		size_t before = c.left;

		if (dqlite_wire_get_rows(&c, &rows, &eof, err, sizeof(err)) == -1)
			break;
		FZ_CHECK(c.left < before && c.left <= len, "rows used nothing");
		FZ_CHECK(rows != NULL && rows->ncols > 0, "rows without columns");
	} while (eof == DQLITE_WIRE_ROWS_PART && c.left > 0);
	if (rows)
		read_back(rows);
	store_rows_free(rows);
	free(body);
}

static void
mode_request(struct fz *f)
{
	size_t len = f->n;
	uint8_t *body = malloc(len ? len : 1);
	struct dqlite_wire_cursor c;
	const char *s;

	memcpy(body, f->p, len);
	c = (struct dqlite_wire_cursor){ body, len };
	if (dqlite_wire_skip_params(&c) == 0)
		FZ_CHECK(c.left <= len && c.left % 8 == len % 8, "params");
	c = (struct dqlite_wire_cursor){ body, len };
	if (dqlite_wire_get_text(&c, &s) == 0)
		FZ_CHECK(strlen(s) < len && (len - c.left) % 8 == 0, "text");
	free(body);
}

/* Values from the input: up to 300 of every type (past the 255 limit). */
static size_t
make_values(struct fz *f, struct store_val *v, char bytes[][16], size_t max)
{
	size_t n = fz_below(f, max);

	for (size_t i = 0; i < n; i++) {
		uint8_t t = fz_u8(f) % 5, l = fz_u8(f) % 16;

		memset(&v[i], 0, sizeof(v[i]));
		for (size_t k = 0; k < l; k++)
			bytes[i][k] = (char)fz_u8(f);
		switch (t) {
		case 0: v[i].type = STORE_NULL; break;
		case 1: v[i].type = STORE_INT; v[i].i = (int64_t)fz_u32(f) << 31; break;
		case 2: v[i].type = STORE_FLOAT; memcpy(&v[i].f, bytes[i], 8); break;
		case 3:
			v[i].type = STORE_TEXT;
			v[i].s = bytes[i];
			v[i].len = l;
			break;
		default:
			v[i].type = STORE_BLOB;
			v[i].s = bytes[i];
			v[i].len = l;
			break;
		}
	}
	return n;
}

static void
mode_params(struct fz *f)
{
	static struct store_val v[300];
	static char bytes[300][16];
	struct dqlite_wire_buf b = { 0 };
	struct dqlite_wire_cursor c;
	size_t n = make_values(f, v, bytes, 300);
	char err[160];
	uint8_t *copy;

	dqlite_wire_begin(&b, DQLITE_REQ_EXEC);
	dqlite_wire_put_u32(&b, 0);
	dqlite_wire_put_u32(&b, 7);
	if (dqlite_wire_put_params(&b, v, n, err, sizeof(err)) == -1) {
		int nul = 0;

		for (size_t i = 0; i < n; i++)
			nul |= v[i].type == STORE_TEXT && memchr(v[i].s, 0, v[i].len);
		FZ_CHECK(n > DQLITE_WIRE_MAX_PARAMS || nul, "params refused: %s",
		    err);
		FZ_CHECK(b.len == 16, "a refused tuple left bytes behind");
		dqlite_wire_buf_free(&b);
		return;
	}
	dqlite_wire_end(&b);
	FZ_CHECK(b.len % 8 == 0, "request not whole words");
	copy = malloc(b.len - 16 ? b.len - 16 : 1);
	memcpy(copy, b.p + 16, b.len - 16);
	c = (struct dqlite_wire_cursor){ copy, b.len - 16 };
	FZ_CHECK(dqlite_wire_skip_params(&c) == 0 && c.left == 0,
	    "%zu params do not skip cleanly", n);
	free(copy);
	dqlite_wire_buf_free(&b);
}

static void
put_le(uint8_t *at, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		at[i] = (uint8_t)(v >> (8 * i));
}

static void
mode_rows(struct fz *f)
{
	static struct store_val v[64];
	static char bytes[64][16];
	size_t ncols = 1 + fz_below(f, 7), nrows = fz_below(f, 8), len = 0;
	size_t n = make_values(f, v, bytes, 64);
	struct dqlite_wire_cursor c;
	struct store_rows *rows = NULL;
	uint8_t *body = calloc(1, 8 + ncols * 8 + nrows * (8 + ncols * 24) + 8);
	uint64_t eof;
	char err[160];

	if (body == NULL)
		abort();
	if (n < ncols * nrows)
		nrows = n / ncols;
	put_le(body, ncols);
	len = 8;
	for (size_t i = 0; i < ncols; i++) {
		body[len] = (uint8_t)('a' + i); /* "a", "b", ... then NUL */
		len += 8;
	}
	for (size_t r = 0; r < nrows; r++) {
		size_t hdr = ((ncols + 1) / 2 + 7) & ~(size_t)7;

		for (size_t i = 0; i < ncols; i++) {
			const struct store_val *x = &v[r * ncols + i];
			int t = x->type == STORE_INT ? DQLITE_TYPE_INTEGER :
			    x->type == STORE_FLOAT ? DQLITE_TYPE_FLOAT :
			    x->type == STORE_TEXT ? DQLITE_TYPE_TEXT :
			    x->type == STORE_BLOB ? DQLITE_TYPE_BLOB :
			    DQLITE_TYPE_NULL;

			body[len + i / 2] |= (uint8_t)(t << (i % 2 ? 4 : 0));
		}
		len += hdr;
		for (size_t i = 0; i < ncols; i++) {
			struct store_val *x = &v[r * ncols + i];
			size_t tl;

			switch (x->type) {
			case STORE_INT: put_le(body + len, (uint64_t)x->i); len += 8; break;
			case STORE_FLOAT: memcpy(body + len, &x->f, 8); len += 8; break;
			case STORE_TEXT:
				tl = strnlen(x->s, x->len);
				x->len = tl; /* text stops at a NUL */
				memcpy(body + len, x->s, tl);
				len += (tl + 1 + 7) & ~(size_t)7;
				break;
			case STORE_BLOB:
				put_le(body + len, x->len);
				memcpy(body + len + 8, x->s, x->len);
				len += 8 + ((x->len + 7) & ~(size_t)7);
				break;
			default: len += 8; break;
			}
		}
	}
	put_le(body + len, DQLITE_WIRE_ROWS_DONE);
	len += 8;

	c = (struct dqlite_wire_cursor){ body, len };
	FZ_CHECK(dqlite_wire_get_rows(&c, &rows, &eof, err, sizeof(err)) == 0,
	    "a well-formed ROWS response refused: %s", err);
	FZ_CHECK(c.left == 0 && eof == DQLITE_WIRE_ROWS_DONE, "not used up");
	FZ_CHECK(rows->ncols == ncols && rows->nrows == nrows, "shape");
	for (size_t r = 0; r < nrows; r++)
		for (size_t i = 0; i < ncols; i++) {
			const struct store_val *a = &v[r * ncols + i];
			const struct store_val *b = store_rows_get(rows, r, i);

			FZ_CHECK(a->type == b->type, "type of %zu,%zu", r, i);
			if (a->type == STORE_INT)
				FZ_CHECK(a->i == b->i, "int");
			if (a->type == STORE_FLOAT)
				FZ_CHECK(memcmp(&a->f, &b->f, 8) == 0, "float");
			if (a->type == STORE_TEXT || a->type == STORE_BLOB)
				FZ_CHECK(a->len == b->len &&
				    memcmp(a->s, b->s, a->len) == 0, "bytes");
		}
	read_back(rows);
	store_rows_free(rows);
	free(body);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = fz_init(data, size);

	switch (fz_u8(&f) % 4) {
	case 0: mode_response(&f); break;
	case 1: mode_request(&f); break;
	case 2: mode_params(&f); break;
	default: mode_rows(&f); break;
	}
	return 0;
}

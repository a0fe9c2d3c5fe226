/*
 * store_rows: the result rows of a query (typed values, copied in, read
 * back with conversions), shared by both backends.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dcos/store.h"
#include "store_backend.h"

struct store_rows *
store_rows_new(size_t ncols)
{
	struct store_rows *r = calloc(1, sizeof(*r));

	if (r == NULL || (r->cols = calloc(ncols ? ncols : 1, sizeof(char *))) == NULL)
		abort();
	r->ncols = ncols;
	return r;
}

void
store_rows_free(struct store_rows *rows)
{
	if (rows == NULL)
		return;
	for (size_t i = 0; i < rows->ncols; i++)
		free(rows->cols[i]);
	for (size_t i = 0; i < rows->nrows * rows->ncols; i++)
		free((char *)rows->vals[i].s);
	free(rows->cols);
	free(rows->vals);
	free(rows);
}

void
store_val_copy(struct store_val *dst, const struct store_val *src)
{
	*dst = *src;
	if (src->type == STORE_TEXT || src->type == STORE_BLOB) {
		size_t len = src->len == SIZE_MAX ? strlen(src->s) : src->len;
		char *p = malloc(len + 1);

		if (p == NULL)
			abort();
		memcpy(p, src->s, len);
		p[len] = '\0';
		dst->s = p;
		dst->len = len;
	} else {
		dst->s = NULL;
	}
}

void
store_rows_add(struct store_rows *rows, const struct store_val *vals)
{
	size_t base = rows->nrows * rows->ncols;

	/* grow by doubling: capacity is the next power of two of nrows */
	if ((rows->nrows & (rows->nrows - 1)) == 0) {
		size_t cap = rows->nrows ? rows->nrows * 2 : 1;

		rows->vals = realloc(rows->vals,
		    cap * (rows->ncols ? rows->ncols : 1) * sizeof(*rows->vals));
		if (rows->vals == NULL)
			abort();
	}
	for (size_t i = 0; i < rows->ncols; i++)
		store_val_copy(&rows->vals[base + i], &vals[i]);
	rows->nrows++;
}

const struct store_val *
store_rows_get(const struct store_rows *rows, size_t row, size_t col)
{
	static const struct store_val null_val = { .type = STORE_NULL };

	if (rows == NULL || row >= rows->nrows || col >= rows->ncols)
		return &null_val;
	return &rows->vals[row * rows->ncols + col];
}

int64_t
store_rows_int(const struct store_rows *rows, size_t row, size_t col)
{
	const struct store_val *v = store_rows_get(rows, row, col);

	switch (v->type) {
	case STORE_INT: return v->i;
	case STORE_FLOAT:
		/* as SQLite converts: saturated, NaN as 0 (a plain cast of an
		 * out-of-range double is undefined) */
		if (isnan(v->f))
			return 0;
		if (v->f <= -9223372036854775808.0)
			return INT64_MIN;
		if (v->f >= 9223372036854775807.0)
			return INT64_MAX;
		return (int64_t)v->f;
	case STORE_TEXT: return strtoll(v->s, NULL, 10);
	default: return 0;
	}
}

double
store_rows_float(const struct store_rows *rows, size_t row, size_t col)
{
	const struct store_val *v = store_rows_get(rows, row, col);

	switch (v->type) {
	case STORE_INT: return (double)v->i;
	case STORE_FLOAT: return v->f;
	case STORE_TEXT: return strtod(v->s, NULL);
	default: return 0;
	}
}

const char *
store_rows_text(const struct store_rows *rows, size_t row, size_t col)
{
	const struct store_val *v = store_rows_get(rows, row, col);

	return v->type == STORE_TEXT || v->type == STORE_BLOB ? v->s : NULL;
}

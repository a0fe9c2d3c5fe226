/*
 * jsonw: see jsonw.h. The buffer doubles as it grows; strings are escaped
 * as RFC 8259 requires (quote, backslash, control characters), everything
 * else (UTF-8 included) is copied as is; bytes that are not UTF-8 become
 * '?' (see check_utf8).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dcos/json.h"
#include "dcos/jsonw.h"

static void
reserve(struct jsonw *w, size_t more)
{
	size_t need = w->len + more + 1;

	if (need <= w->cap)
		return;
	while (w->cap < need)
		w->cap = w->cap ? w->cap * 2 : 4096;
	if ((w->buf = realloc(w->buf, w->cap)) == NULL)
		abort();
}

static void
put(struct jsonw *w, const char *s, size_t n)
{
	reserve(w, n);
	memcpy(w->buf + w->len, s, n);
	w->len += n;
	w->buf[w->len] = '\0';
}

static void
putc_(struct jsonw *w, char c)
{
	reserve(w, 1);
	w->buf[w->len++] = c;
	w->buf[w->len] = '\0';
}

/* Before any value: a comma unless it is the first in its container. */
static void
value_prefix(struct jsonw *w)
{
	if (w->after_key) {
		w->after_key = false;
		return;
	}
	if (w->depth > 0) {
		if (!w->first[w->depth])
			putc_(w, ',');
		w->first[w->depth] = false;
	}
}

void
jw_init(struct jsonw *w)
{
	memset(w, 0, sizeof(*w));
}

void
jw_free(struct jsonw *w)
{
	free(w->buf);
	jw_init(w);
}

char *
jw_steal(struct jsonw *w, size_t *len)
{
	char *out = w->buf;

	if (out == NULL && (out = strdup("")) == NULL)
		abort();
	if (len)
		*len = w->len;
	jw_init(w);
	return out;
}

static void
open_(struct jsonw *w, char c)
{
	value_prefix(w);
	putc_(w, c);
	if (w->depth + 1 >= JW_MAX_DEPTH)
		abort(); /* a programming error: documents are shallow */
	w->first[++w->depth] = true;
}

static void
close_(struct jsonw *w, char c)
{
	putc_(w, c);
	if (w->depth > 0)
		w->depth--;
}

void jw_obj_begin(struct jsonw *w) { open_(w, '{'); }
void jw_obj_end(struct jsonw *w) { close_(w, '}'); }
void jw_arr_begin(struct jsonw *w) { open_(w, '['); }
void jw_arr_end(struct jsonw *w) { close_(w, ']'); }

static void
put_string_escape(struct jsonw *w, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";
	char esc[7];

	switch (c) {
	case '"': put(w, "\\\"", 2); return;
	case '\\': put(w, "\\\\", 2); return;
	case '\n': put(w, "\\n", 2); return;
	case '\r': put(w, "\\r", 2); return;
	case '\t': put(w, "\\t", 2); return;
	case '\b': put(w, "\\b", 2); return;
	case '\f': put(w, "\\f", 2); return;
	}
	memcpy(esc, "\\u00", 4);
	esc[4] = hex[c >> 4];
	esc[5] = hex[c & 15];
	put(w, esc, 6);
}

/* A string's text must be UTF-8, or no client can read the document: text
 * from elsewhere (a hostname or path in another encoding) is repaired as
 * json_utf8_repairn does, in the output itself (the escapes are ASCII, so
 * the written bytes are valid exactly when the string was). Only strings
 * with bytes past ASCII pay for the check. */
static void
check_utf8(struct jsonw *w, size_t from, bool high)
{
	if (high && !json_utf8_valid(w->buf + from, w->len - from)) {
		w->len = from + json_utf8_repairn(w->buf + from, w->len - from);
		w->buf[w->len] = '\0';
	}
}

static void
put_string(struct jsonw *w, const char *s, size_t n)
{
	size_t start = 0, from;
	bool high = false;

	reserve(w, n + 2);
	putc_(w, '"');
	from = w->len;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		high |= c >= 0x80;
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		put(w, s + start, i - start);
		put_string_escape(w, c);
		start = i + 1;
	}
	put(w, s + start, n - start);
	check_utf8(w, from, high);
	putc_(w, '"');
}

void
jw_key(struct jsonw *w, const char *key)
{
	value_prefix(w);
	put_string(w, key, strlen(key));
	putc_(w, ':');
	w->after_key = true;
}

void
jw_str(struct jsonw *w, const char *s)
{
	const char *run;
	size_t from;
	bool high = false;

	if (s == NULL) {
		jw_null(w);
		return;
	}
	value_prefix(w);
	/* one pass: copy runs of plain characters, escape the rest */
	putc_(w, '"');
	from = w->len;
	for (run = s;; s++) {
		unsigned char c = (unsigned char)*s;

		high |= c >= 0x80;
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		put(w, run, (size_t)(s - run));
		if (c == '\0')
			break;
		put_string_escape(w, c);
		run = s + 1;
	}
	check_utf8(w, from, high);
	putc_(w, '"');
}

void
jw_strn(struct jsonw *w, const char *s, size_t n)
{
	value_prefix(w);
	put_string(w, s, n);
}

/* Decimal digits of v into buf (no NUL), returns the count. */
static size_t
utoa(uint64_t v, char *buf)
{
	char tmp[24];
	size_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	return n;
}

void
jw_int(struct jsonw *w, int64_t v)
{
	char buf[32];
	size_t n = 0;

	value_prefix(w);
	if (v < 0) {
		buf[n++] = '-';
		n += utoa(v == INT64_MIN ? (uint64_t)INT64_MAX + 1 : (uint64_t)-v,
		    buf + n);
	} else {
		n = utoa((uint64_t)v, buf);
	}
	put(w, buf, n);
}

/*
 * Doubles as "%.15g" prints them, with ".0" added to integral values so
 * they stay doubles for the reader. Numbers in [1e-4, 1e13) (the resources
 * and timestamps the daemons write) take a fast path: the integer part,
 * then the fraction rounded to the digits left of the 15 significant ones,
 * trailing zeros dropped. Others go through snprintf.
 */
static size_t
format_double(double v, char *buf)
{
	double a = fabs(v);
	uint64_t ip, frac, scale = 1;
	int fd;
	size_t n = 0, fl;
	char fbuf[24];

	if (a == 0) {
		memcpy(buf, "0.0", 3);
		return 3;
	}
	if (a < 1e15 && a == (double)(uint64_t)a) { /* integral: 32.0, 1024.0 */
		if (v < 0)
			buf[n++] = '-';
		n += utoa((uint64_t)a, buf + n);
		buf[n++] = '.';
		buf[n++] = '0';
		return n;
	}
	if (!(a >= 1e-4 && a < 1e13)) {
		int k = snprintf(buf, 48, "%.15g", v);

		/* within 5e292 of DBL_MAX, 15 digits round past it: the text
		 * would not read back (jansson: "real number overflow") */
		if (a > 1.797693134862315e308)
			k = snprintf(buf, 48, "%.17g", v);

		if (strpbrk(buf, ".en") == NULL) {
			memcpy(buf + k, ".0", 3);
			k += 2;
		}
		return (size_t)k;
	}
	ip = (uint64_t)a;
	fd = 15 - (ip ? (int)utoa(ip, fbuf) : 0);
	if (ip == 0) /* leading zeros of the fraction are not significant */
		for (double t = a * 10; t < 1 && fd < 18; t *= 10)
			fd++;
	if (fd > 18)
		fd = 18;
	for (int i = 0; i < fd; i++)
		scale *= 10;
	/* in long double (64-bit mantissa on x86) so the product is exact
	 * enough; ties go to even as printf does */
	frac = (uint64_t)nearbyintl((long double)(a - (double)ip) *
	    (long double)scale);
	if (frac >= scale) {
		ip++;
		frac -= scale;
	}
	if (v < 0)
		buf[n++] = '-';
	n += utoa(ip, buf + n);
	buf[n++] = '.';
	if (frac == 0) {
		buf[n++] = '0';
		return n;
	}
	fl = utoa(frac, fbuf);
	for (size_t i = fl; i < (size_t)fd; i++)
		buf[n++] = '0';
	while (fl > 0 && fbuf[fl - 1] == '0')
		fl--;
	memcpy(buf + n, fbuf, fl);
	return n + fl;
}

void
jw_double(struct jsonw *w, double v)
{
	char buf[64];

	value_prefix(w);
	if (!isfinite(v)) {
		put(w, "null", 4);
		return;
	}
	put(w, buf, format_double(v, buf));
}

void
jw_key_raw(struct jsonw *w, const char *quoted, size_t len)
{
	value_prefix(w);
	put(w, quoted, len);
	w->after_key = true;
}

void
jw_bool(struct jsonw *w, bool v)
{
	value_prefix(w);
	if (v)
		put(w, "true", 4);
	else
		put(w, "false", 5);
}

void
jw_null(struct jsonw *w)
{
	value_prefix(w);
	put(w, "null", 4);
}

void
jw_raw(struct jsonw *w, const char *json)
{
	if (json == NULL) {
		jw_null(w);
		return;
	}
	value_prefix(w);
	put(w, json, strlen(json));
}

void
jw_rawn(struct jsonw *w, const char *json, size_t len)
{
	value_prefix(w);
	put(w, json, len);
}

static int
dump_cb(const char *buffer, size_t size, void *data)
{
	put(data, buffer, size);
	return 0;
}

void
jw_json(struct jsonw *w, const json_t *v)
{
	if (v == NULL) {
		jw_null(w);
		return;
	}
	value_prefix(w);
	json_dump_callback(v, dump_cb, w, JSON_DUMP_FLAGS);
}

void jw_kstr(struct jsonw *w, const char *k, const char *s) { jw_key(w, k); jw_str(w, s); }
void jw_kint(struct jsonw *w, const char *k, int64_t v) { jw_key(w, k); jw_int(w, v); }
void jw_kdouble(struct jsonw *w, const char *k, double v) { jw_key(w, k); jw_double(w, v); }
void jw_kbool(struct jsonw *w, const char *k, bool v) { jw_key(w, k); jw_bool(w, v); }
void jw_kraw(struct jsonw *w, const char *k, const char *j) { jw_key(w, k); jw_raw(w, j); }
void jw_kjson(struct jsonw *w, const char *k, const json_t *v) { jw_key(w, k); jw_json(w, v); }

/*
 * util: small helpers the rest of dcos-marathon leans on: Marathon's
 * timestamps and versions, Scala-style number text for the task
 * environment, string buffers, ordered string maps (labels, secrets) and
 * string vectors.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "marathon.h"

char *
util_iso8601(double t, char out[VERSION_LEN])
{
	long long total = llround(t * 1000.0);
	time_t secs = (time_t)(total / 1000);
	int ms = (int)(total % 1000);
	struct tm tm;

	gmtime_r(&secs, &tm);
	strftime(out, VERSION_LEN, "%Y-%m-%dT%H:%M:%S", &tm);
	out[19] = '.';
	out[20] = (char)('0' + ms / 100);
	out[21] = (char)('0' + ms / 10 % 10);
	out[22] = (char)('0' + ms % 10);
	out[23] = 'Z';
	out[24] = '\0';
	return out;
}

int
util_parse_iso8601(const char *s, double *out)
{
	struct tm tm = { 0 };
	int n = 0;
	double frac = 0;

	if (s == NULL || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year,
	    &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6)
		return -1;
	s += n;
	if (*s == '.') {
		double scale = 0.1;

		for (s++; *s >= '0' && *s <= '9'; s++, scale /= 10)
			frac += (*s - '0') * scale;
	}
	if (*s != 'Z' && strcmp(s, "+00:00") != 0 && strcmp(s, "+0000") != 0)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*out = (double)timegm(&tm) + frac;
	return 0;
}

void
util_version_next(char out[VERSION_LEN])
{
	static long long last;
	long long now = (long long)(clock_wall() * 1000.0);

	if (now <= last)
		now = last + 1;
	last = now;
	util_iso8601((double)now / 1000.0, out);
}

void
util_scala_double(double v, char *out, size_t size)
{
	double a = fabs(v);

	if (v == floor(v) && a < 1e7) {
		snprintf(out, size, "%.1f", v);
	} else if (a >= 1e-3 && a < 1e7) {
		snprintf(out, size, "%.15g", v);
		/* %.15g may give 0.10000000000000001-free text already */
	} else {
		char mant[64];
		int exp = (int)floor(log10(a));
		double m = v / pow(10, exp);

		snprintf(mant, sizeof(mant), "%.15g", m);
		if (strchr(mant, '.') == NULL)
			snprintf(out, size, "%s.0E%d", mant, exp);
		else
			snprintf(out, size, "%sE%d", mant, exp);
	}
}

size_t
errs_total(const struct json_errs *e)
{
	size_t n = 0, i;
	json_t *d;

	json_array_foreach(e->details, i, d)
		n += json_array_size(json_object_get(d, "errors"));
	return n;
}

/* --- text buffers --- */

void
sbuf_add(struct sbuf *b, const char *data, size_t len)
{
	if (b->len + len + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;

		while (b->len + len + 1 > cap)
			cap *= 2;
		b->p = xrealloc(b->p, cap);
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, len);
	b->len += len;
	b->p[b->len] = '\0';
}

void
sbuf_adds(struct sbuf *b, const char *s)
{
	sbuf_add(b, s, strlen(s));
}

void
sbuf_addf(struct sbuf *b, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(tmp)) {
		sbuf_add(b, tmp, (size_t)n);
		return;
	}
	{
		char *big = xcalloc((size_t)n + 1, 1);

		va_start(ap, fmt);
		vsnprintf(big, (size_t)n + 1, fmt, ap);
		va_end(ap);
		sbuf_add(b, big, (size_t)n);
		free(big);
	}
}

static int
sbuf_dump(const char *data, size_t len, void *arg)
{
	sbuf_add(arg, data, len);
	return 0;
}

void
sbuf_add_json(struct sbuf *b, const json_t *v)
{
	json_dump_callback(v, sbuf_dump, b, JSON_DUMP_FLAGS);
}

void
sbuf_free(struct sbuf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

/* --- ordered string maps --- */

void
kv_set(struct kvlist *l, const char *key, const char *value)
{
	for (size_t i = 0; i < l->n; i++) {
		if (strcmp(l->v[i].key, key) == 0) {
			free(l->v[i].value);
			l->v[i].value = xstrdup(value);
			return;
		}
	}
	l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
	l->v[l->n].key = xstrdup(key);
	l->v[l->n].value = xstrdup(value);
	l->n++;
}

const char *
kv_get(const struct kvlist *l, const char *key)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i].key, key) == 0)
			return l->v[i].value;
	return NULL;
}

void
kv_free(struct kvlist *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].key);
		free(l->v[i].value);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

void
kv_copy(struct kvlist *dst, const struct kvlist *src)
{
	dst->v = NULL;
	dst->n = 0;
	for (size_t i = 0; i < src->n; i++)
		kv_set(dst, src->v[i].key, src->v[i].value);
}

char **
strv_dup(char *const *v, size_t n)
{
	char **out;

	if (n == 0)
		return NULL;
	out = xcalloc(n, sizeof(*out));
	for (size_t i = 0; i < n; i++)
		out[i] = xstrdup(v[i]);
	return out;
}

void
strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

bool
strv_has(char *const *v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}

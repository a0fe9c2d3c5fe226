/*
 * fuzz.h: what every fuzzer in fuzz/ shares: a small reader that turns the
 * fuzzer's bytes into choices, numbers and strings (like LLVM's
 * FuzzedDataProvider), and a check that aborts with a message, so a broken
 * property is a crash libFuzzer saves.
 *
 * Strings are copied into buffers of exactly their size, so ASan catches a
 * parser that reads one byte past the end.
 */
#ifndef DCOS_FUZZ_H
#define DCOS_FUZZ_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

struct fz {
	const uint8_t *p;
	size_t n;
};

static inline struct fz
fz_init(const uint8_t *data, size_t size)
{
	return (struct fz){ data, size };
}

static inline uint8_t
fz_u8(struct fz *f)
{
	if (f->n == 0)
		return 0;
	f->n--;
	return *f->p++;
}

static inline uint32_t
fz_u32(struct fz *f)
{
	uint32_t v = 0;

	for (int i = 0; i < 4; i++)
		v = v << 8 | fz_u8(f);
	return v;
}

/* A number in [0, max]. */
static inline size_t
fz_below(struct fz *f, size_t max)
{
	return max == 0 ? 0 : (max < 256 ? fz_u8(f) : fz_u32(f)) % (max + 1);
}

/* The next bytes up to a NUL (consumed) or at most max bytes, as a new
 * NUL-terminated string of exactly that size. */
static inline char *
fz_str(struct fz *f, size_t max)
{
	size_t len = 0;
	char *s;

	while (len < f->n && len < max && f->p[len] != '\0')
		len++;
	if ((s = malloc(len + 1)) == NULL)
		abort();
	memcpy(s, f->p, len);
	s[len] = '\0';
	f->p += len;
	f->n -= len;
	if (f->n && len < max) { /* the NUL */
		f->p++;
		f->n--;
	}
	return s;
}

/* Everything left, as a new NUL-terminated string (NULs kept). */
static inline char *
fz_rest(struct fz *f, size_t *len)
{
	char *s = malloc(f->n + 1);

	if (s == NULL)
		abort();
	memcpy(s, f->p, f->n);
	s[f->n] = '\0';
	if (len)
		*len = f->n;
	f->p += f->n;
	f->n = 0;
	return s;
}

/* A copy of data as a NUL-terminated string of exactly that size. */
static inline char *
fz_cstr(const uint8_t *data, size_t size)
{
	struct fz f = fz_init(data, size);

	return fz_rest(&f, NULL);
}

/* json_equal, but reals only to the 15 digits JSON_DUMP_FLAGS keeps. */
static inline int
fz_json_same(const json_t *a, const json_t *b)
{
	const char *key;
	json_t *m;
	size_t i;

	if (json_is_real(a) && json_is_real(b)) {
		double x = json_real_value(a), y = json_real_value(b);

		return x == y || fabs(x - y) <= 1e-14 * fmax(fabs(x), fabs(y));
	}
	if (json_typeof(a) != json_typeof(b))
		return 0;
	if (json_is_object(a)) {
		if (json_object_size(a) != json_object_size(b))
			return 0;
		json_object_foreach((json_t *)a, key, m)
			if (!json_object_get(b, key) || !fz_json_same(m, json_object_get(b, key)))
				return 0;
		return 1;
	}
	if (json_is_array(a)) {
		if (json_array_size(a) != json_array_size(b))
			return 0;
		json_array_foreach(a, i, m)
			if (!fz_json_same(m, json_array_get(b, i)))
				return 0;
		return 1;
	}
	return json_equal(a, b);
}

#define FZ_CHECK(cond, ...) do {                                        \
	if (!(cond)) {                                                  \
		fprintf(stderr, "%s:%d: property broken: %s: ", __FILE__, \
		    __LINE__, #cond);                                   \
		fprintf(stderr, __VA_ARGS__);                           \
		fputc('\n', stderr);                                    \
		abort();                                                \
	}                                                               \
} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif

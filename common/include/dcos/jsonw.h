/*
 * jsonw: a streaming JSON writer into one growing buffer, for the large
 * read-mostly documents (Mesos /master/state with 10,000 tasks) where
 * building a jansson tree first would cost most of the time.
 *
 * Commas are placed automatically: inside an object call jw_key (or a jw_k*
 * helper) before each value. Numbers are printed like jansson does with
 * JSON_REAL_PRECISION(15): doubles always carry a '.' or an exponent
 * ("128.0"), integers never. jw_raw inserts already rendered JSON text.
 */
#ifndef DCOS_JSONW_H
#define DCOS_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define JW_MAX_DEPTH 64

struct jsonw {
	char *buf;
	size_t len, cap;
	int depth;
	bool first[JW_MAX_DEPTH]; /* no element written yet at this depth */
	bool after_key;
};

void jw_init(struct jsonw *w);
void jw_free(struct jsonw *w);
/* Takes the NUL-terminated text (caller frees); the writer is reset. */
char *jw_steal(struct jsonw *w, size_t *len);

void jw_obj_begin(struct jsonw *w);
void jw_obj_end(struct jsonw *w);
void jw_arr_begin(struct jsonw *w);
void jw_arr_end(struct jsonw *w);
void jw_key(struct jsonw *w, const char *key);
/* A key given already quoted with its colon ("\"id\":"); see jw_key_lit. */
void jw_key_raw(struct jsonw *w, const char *quoted, size_t len);
/* A string-literal key that needs no escaping, without strlen at run time:
 * jw_key_lit(w, "framework_id") */
#define jw_key_lit(w, lit) jw_key_raw((w), "\"" lit "\":", sizeof(lit) + 2)

void jw_str(struct jsonw *w, const char *s);   /* NULL writes null */
void jw_strn(struct jsonw *w, const char *s, size_t n);
void jw_int(struct jsonw *w, int64_t v);
void jw_double(struct jsonw *w, double v);
void jw_bool(struct jsonw *w, bool v);
void jw_null(struct jsonw *w);
/* A complete JSON value as text (NULL writes null). */
void jw_raw(struct jsonw *w, const char *json);
void jw_rawn(struct jsonw *w, const char *json, size_t len);
/* A jansson value, dumped compactly. */
void jw_json(struct jsonw *w, const json_t *v);

/* key + value in one call */
void jw_kstr(struct jsonw *w, const char *key, const char *s);
void jw_kint(struct jsonw *w, const char *key, int64_t v);
void jw_kdouble(struct jsonw *w, const char *key, double v);
void jw_kbool(struct jsonw *w, const char *key, bool v);
void jw_kraw(struct jsonw *w, const char *key, const char *json);
void jw_kjson(struct jsonw *w, const char *key, const json_t *v);

/* The same with a string-literal key (no strlen or escaping at run time),
 * for the hot paths: jw_klstr(w, "id", id). */
#define jw_klstr(w, lit, s) (jw_key_lit(w, lit), jw_str((w), (s)))
#define jw_klint(w, lit, v) (jw_key_lit(w, lit), jw_int((w), (v)))
#define jw_kldouble(w, lit, v) (jw_key_lit(w, lit), jw_double((w), (v)))
#define jw_klbool(w, lit, v) (jw_key_lit(w, lit), jw_bool((w), (v)))
#define jw_klraw(w, lit, v) (jw_key_lit(w, lit), jw_raw((w), (v)))

#endif

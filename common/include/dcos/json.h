/*
 * json: helpers over jansson so every API can say exactly what is wrong.
 *
 * Field getters read one member of an object whose own path is `base` (""
 * for the document root) and record any problem under the member's full
 * path, e.g. "/upgradeStrategy/minimumHealthCapacity". Array elements are
 * written "/constraints(0)", as Marathon does. A JSON null counts as absent
 * (clients send unset optional fields as null).
 *
 * Getters return 1 when the member is present and valid (out is set), 0 when
 * it is absent (out untouched; an error is recorded if JF_REQUIRED), -1 when
 * it has the wrong type or range (error recorded).
 */
#ifndef DCOS_JSON_H
#define DCOS_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#define JSON_PATH_MAX 512

/* How every daemon writes JSON: compact, one line, 0.1 printed as 0.1. */
#define JSON_DUMP_FLAGS (JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15))

/* Validation errors in Marathon's 422 shape:
 * [{"path": "/id", "errors": ["error.path.missing"]}, ...] */
struct json_errs {
	json_t *details; /* owned array */
};

void json_errs_init(struct json_errs *e);
void json_errs_free(struct json_errs *e);
void json_errs_add(struct json_errs *e, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
size_t json_errs_count(const struct json_errs *e);
/* "path: message" of the first error, for one-line errors (Mesos, CLI) */
const char *json_errs_first(const struct json_errs *e, char *buf, size_t size);

enum {
	JF_REQUIRED = 1 << 0, /* absent is an error */
	JF_NONEMPTY = 1 << 1, /* strings: "" is an error */
};

/* out = base + "/" + key, or base + "(" + index + ")" */
void json_path_key(char *out, size_t size, const char *base, const char *key);
void json_path_index(char *out, size_t size, const char *base, size_t index);

int json_get_str(const json_t *obj, const char *base, const char *key,
    int flags, const char **out, struct json_errs *e);
int json_get_int(const json_t *obj, const char *base, const char *key,
    int flags, json_int_t min, json_int_t max, json_int_t *out,
    struct json_errs *e);
int json_get_double(const json_t *obj, const char *base, const char *key,
    int flags, double min, double max, double *out, struct json_errs *e);
int json_get_bool(const json_t *obj, const char *base, const char *key,
    int flags, bool *out, struct json_errs *e);
int json_get_object(const json_t *obj, const char *base, const char *key,
    int flags, const json_t **out, struct json_errs *e);
int json_get_array(const json_t *obj, const char *base, const char *key,
    int flags, const json_t **out, struct json_errs *e);

/* Parses a request body. On failure records "<where>: <jansson's reason>"
 * under path "" and returns NULL. Returns a new reference. */
json_t *json_parse(const char *buf, size_t len, struct json_errs *e);

/* Compact one-line text (no newlines: safe for SSE and RecordIO).
 * Caller frees with free(). */
char *json_compact(const json_t *v);

/* UTF-8, as JSON strings must be (jansson refuses anything else, so text
 * from the network or the command line is checked or repaired before it
 * goes into a JSON reply). json_utf8_valid: s[0..len) is well-formed
 * UTF-8 (no overlong forms, surrogates or code points past U+10FFFF).
 * json_utf8_repair: makes the NUL-terminated s well-formed in place, each
 * byte that is not part of a valid sequence becoming '?' (a sequence cut
 * short by truncation at the end is dropped). Returns s. */
bool json_utf8_valid(const char *s, size_t len);
char *json_utf8_repair(char *s);
/* The same for s[0..len) (NUL bytes allowed); returns the new length. */
size_t json_utf8_repairn(char *s, size_t len);

/* Member access without error collection; NULL/default when absent. */
const char *json_str_or(const json_t *obj, const char *key, const char *def);
double json_num_or(const json_t *obj, const char *key, double def);

#endif

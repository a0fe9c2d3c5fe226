/*
 * json: typed member access with path-named errors, and small jansson
 * conveniences used by every API edge.
 */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dcos/json.h"

void
json_errs_init(struct json_errs *e)
{
	e->details = json_array();
}

void
json_errs_free(struct json_errs *e)
{
	json_decref(e->details);
	e->details = NULL;
}

size_t
json_errs_count(const struct json_errs *e)
{
	return json_array_size(e->details);
}

void
json_errs_add(struct json_errs *e, const char *path, const char *fmt, ...)
{
	char msg[512], where[JSON_PATH_MAX];
	json_t *entry;
	size_t i;
	va_list ap;

	/* jansson takes only UTF-8, and a message can quote a truncated
	 * token (jansson's own error texts do) or be cut here: repaired, or
	 * the error would be silently lost */
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_utf8_repair(msg);
	snprintf(where, sizeof(where), "%s", path);
	json_utf8_repair(where);

	/* one entry per path; a second problem at the same path is appended */
	json_array_foreach(e->details, i, entry) {
		if (strcmp(json_string_value(json_object_get(entry, "path")),
		    where) == 0) {
			json_array_append_new(json_object_get(entry, "errors"),
			    json_string(msg));
			return;
		}
	}
	json_array_append_new(e->details, json_pack("{s:s, s:[s]}", "path",
	    where, "errors", msg));
}

const char *
json_errs_first(const struct json_errs *e, char *buf, size_t size)
{
	json_t *first = json_array_get(e->details, 0);
	const char *path, *msg;

	if (first == NULL) {
		snprintf(buf, size, "no error");
		return buf;
	}
	path = json_string_value(json_object_get(first, "path"));
	msg = json_string_value(json_array_get(json_object_get(first, "errors"), 0));
	if (path[0])
		snprintf(buf, size, "%s: %s", path, msg);
	else
		snprintf(buf, size, "%s", msg);
	return buf;
}

void
json_path_key(char *out, size_t size, const char *base, const char *key)
{
	snprintf(out, size, "%s/%s", base, key);
}

void
json_path_index(char *out, size_t size, const char *base, size_t index)
{
	snprintf(out, size, "%s(%zu)", base, index);
}

/* Looks up key; returns NULL when absent or null (and records a missing
 * required member). */
static const json_t *
member(const json_t *obj, const char *base, const char *key, int flags,
    char *path, struct json_errs *e)
{
	const json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;

	json_path_key(path, JSON_PATH_MAX, base, key);
	if (v == NULL || json_is_null(v)) {
		if (flags & JF_REQUIRED)
			json_errs_add(e, path, "error.path.missing");
		return NULL;
	}
	return v;
}

int
json_get_str(const json_t *obj, const char *base, const char *key, int flags,
    const char **out, struct json_errs *e)
{
	char path[JSON_PATH_MAX];
	const json_t *v = member(obj, base, key, flags, path, e);

	if (v == NULL)
		return 0;
	if (!json_is_string(v)) {
		json_errs_add(e, path, "error.expected.jsstring");
		return -1;
	}
	if ((flags & JF_NONEMPTY) && json_string_length(v) == 0) {
		json_errs_add(e, path, "must not be empty");
		return -1;
	}
	*out = json_string_value(v);
	return 1;
}

int
json_get_int(const json_t *obj, const char *base, const char *key, int flags,
    json_int_t min, json_int_t max, json_int_t *out, struct json_errs *e)
{
	char path[JSON_PATH_MAX];
	const json_t *v = member(obj, base, key, flags, path, e);
	json_int_t n;

	if (v == NULL)
		return 0;
	if (json_is_integer(v)) {
		n = json_integer_value(v);
	} else if (json_is_real(v) && floor(json_real_value(v)) ==
	    json_real_value(v) && fabs(json_real_value(v)) < 9e15) {
		n = (json_int_t)json_real_value(v);
	} else {
		json_errs_add(e, path, "error.expected.jsnumber");
		return -1;
	}
	if (n < min) {
		json_errs_add(e, path, "got %lld, expected %lld or more",
		    (long long)n, (long long)min);
		return -1;
	}
	if (n > max) {
		json_errs_add(e, path, "got %lld, expected %lld or less",
		    (long long)n, (long long)max);
		return -1;
	}
	*out = n;
	return 1;
}

int
json_get_double(const json_t *obj, const char *base, const char *key,
    int flags, double min, double max, double *out, struct json_errs *e)
{
	char path[JSON_PATH_MAX];
	const json_t *v = member(obj, base, key, flags, path, e);
	double d;

	if (v == NULL)
		return 0;
	if (!json_is_number(v)) {
		json_errs_add(e, path, "error.expected.jsnumber");
		return -1;
	}
	d = json_number_value(v);
	if (d < min) {
		json_errs_add(e, path, "got %g, expected %g or more", d, min);
		return -1;
	}
	if (d > max) {
		json_errs_add(e, path, "got %g, expected %g or less", d, max);
		return -1;
	}
	*out = d;
	return 1;
}

int
json_get_bool(const json_t *obj, const char *base, const char *key, int flags,
    bool *out, struct json_errs *e)
{
	char path[JSON_PATH_MAX];
	const json_t *v = member(obj, base, key, flags, path, e);

	if (v == NULL)
		return 0;
	if (!json_is_boolean(v)) {
		json_errs_add(e, path, "error.expected.jsboolean");
		return -1;
	}
	*out = json_is_true(v);
	return 1;
}

int
json_get_object(const json_t *obj, const char *base, const char *key,
    int flags, const json_t **out, struct json_errs *e)
{
	char path[JSON_PATH_MAX];
	const json_t *v = member(obj, base, key, flags, path, e);

	if (v == NULL)
		return 0;
	if (!json_is_object(v)) {
		json_errs_add(e, path, "error.expected.jsobject");
		return -1;
	}
	*out = v;
	return 1;
}

int
json_get_array(const json_t *obj, const char *base, const char *key,
    int flags, const json_t **out, struct json_errs *e)
{
	char path[JSON_PATH_MAX];
	const json_t *v = member(obj, base, key, flags, path, e);

	if (v == NULL)
		return 0;
	if (!json_is_array(v)) {
		json_errs_add(e, path, "error.expected.jsarray");
		return -1;
	}
	*out = v;
	return 1;
}

/* The length of the well-formed UTF-8 sequence at s (at most left bytes),
 * or 0 when there is none (RFC 3629, as jansson checks it). */
static size_t
utf8_seq(const unsigned char *s, size_t left)
{
	size_t n;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (n > left)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

bool
json_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;

	while (len > 0) {
		size_t n = utf8_seq(p, len);

		if (n == 0)
			return false;
		p += n;
		len -= n;
	}
	return true;
}

size_t
json_utf8_repairn(char *s, size_t len)
{
	unsigned char *p = (unsigned char *)s;
	size_t left = len;

	while (left > 0) {
		size_t n = utf8_seq(p, left);

		if (n == 0) {
			/* a lead byte whose sequence runs past the end: cut there */
			if (p[0] >= 0xc2 && p[0] <= 0xf4 && left < 4) {
				size_t i = 1;

				while (i < left && (p[i] & 0xc0) == 0x80)
					i++;
				if (i == left)
					return len - left;
			}
			*p = '?';
			n = 1;
		}
		p += n;
		left -= n;
	}
	return len;
}

char *
json_utf8_repair(char *s)
{
	s[json_utf8_repairn(s, strlen(s))] = '\0';
	return s;
}

json_t *
json_parse(const char *buf, size_t len, struct json_errs *e)
{
	json_error_t jerr;
	json_t *v;

	if (len == 0) {
		json_errs_add(e, "", "empty body: expected a JSON document");
		return NULL;
	}
	v = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY,
	    &jerr);
	if (v == NULL)
		json_errs_add(e, "", "Invalid JSON at line %d, column %d: %s",
		    jerr.line, jerr.column, jerr.text);
	return v;
}

char *
json_compact(const json_t *v)
{
	return json_dumps(v, JSON_DUMP_FLAGS);
}

const char *
json_str_or(const json_t *obj, const char *key, const char *def)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s ? s : def;
}

double
json_num_or(const json_t *obj, const char *key, double def)
{
	const json_t *v = json_object_get(obj, key);

	return json_is_number(v) ? json_number_value(v) : def;
}

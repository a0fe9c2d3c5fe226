/*
 * fuzz/json: request bodies through json_parse, then every typed getter on
 * every member of every object in them, as the API edges read bodies.
 *
 * Properties: a body that does not parse records exactly one error with a
 * message; each getter's answer agrees with the member's JSON type (1 set,
 * 0 absent or null, -1 wrong type or range) and records an error exactly
 * when it should, under the member's path; json_compact's text parses back
 * to the same document; json_utf8_valid agrees with jansson about every
 * byte string and json_utf8_repair always makes one jansson accepts.
 */
#include <math.h>

#include "dcos/json.h"
#include "fuzz.h"

#define MAX_DEPTH 24

/* One getter on obj[key]; checks the answer against the member. */
static void
check_member(const json_t *obj, const char *base, const char *key,
    unsigned pick, struct json_errs *e)
{
	const json_t *v = json_object_get(obj, key), *o = NULL;
	int flags = pick & (JF_REQUIRED | JF_NONEMPTY), rc, want;
	size_t before = json_errs_count(e);
	int absent = v == NULL || json_is_null(v);
	const char *s = NULL;
	json_int_t i = 0;
	double d = 0;
	bool b;

	switch ((pick >> 2) % 6) {
	case 0:
		rc = json_get_str(obj, base, key, flags, &s, e);
		want = absent ? 0 : !json_is_string(v) ? -1 :
		    (flags & JF_NONEMPTY) && json_string_length(v) == 0 ? -1 : 1;
		FZ_CHECK(rc != 1 || s == json_string_value(v), "str value");
		break;
	case 1: {
		json_int_t lo = (pick & 0x100) ? 0 : INT64_MIN;
		json_int_t hi = (pick & 0x200) ? 1000 : INT64_MAX;

		rc = json_get_int(obj, base, key, flags, lo, hi, &i, e);
		if (absent) {
			want = 0;
		} else if (json_is_integer(v)) {
			i = json_integer_value(v);
			want = i < lo || i > hi ? -1 : 1;
		} else if (json_is_real(v) && floor(json_real_value(v)) ==
		    json_real_value(v) && fabs(json_real_value(v)) < 9e15) {
			i = (json_int_t)json_real_value(v);
			want = i < lo || i > hi ? -1 : 1;
		} else {
			want = -1;
		}
		break;
	}
	case 2:
		rc = json_get_double(obj, base, key, flags, -1e6, 1e6, &d, e);
		want = absent ? 0 : !json_is_number(v) ? -1 :
		    json_number_value(v) < -1e6 || json_number_value(v) > 1e6 ?
		    -1 : 1;
		break;
	case 3:
		rc = json_get_bool(obj, base, key, flags, &b, e);
		want = absent ? 0 : json_is_boolean(v) ? 1 : -1;
		break;
	case 4:
		rc = json_get_object(obj, base, key, flags, &o, e);
		want = absent ? 0 : json_is_object(v) ? 1 : -1;
		break;
	default:
		rc = json_get_array(obj, base, key, flags, &o, e);
		want = absent ? 0 : json_is_array(v) ? 1 : -1;
		break;
	}
	FZ_CHECK(rc == want, "getter %u on '%s' answered %d, not %d",
	    (pick >> 2) % 6, key, rc, want);
	if (rc == -1 || (rc == 0 && (flags & JF_REQUIRED)))
		FZ_CHECK(json_errs_count(e) > before || before > 0,
		    "no error recorded for '%s'", key);
	else
		FZ_CHECK(json_errs_count(e) == before, "error for a good '%s'",
		    key);
}

static unsigned
hash(const char *s, unsigned seed)
{
	unsigned h = seed * 2654435761u;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

static void
walk(const json_t *v, const char *base, unsigned seed, int depth,
    struct json_errs *e)
{
	char path[JSON_PATH_MAX];
	const char *key;
	json_t *m;
	size_t i;

	if (depth > MAX_DEPTH)
		return;
	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, key, m) {
			struct json_errs one;

			/* each member against a fresh list, so the count
			 * tells exactly what this getter recorded */
			json_errs_init(&one);
			check_member(v, base, key, hash(key, seed), &one);
			json_errs_free(&one);
			check_member(v, base, key, hash(key, seed + 1), e);
			json_path_key(path, sizeof(path), base, key);
			walk(m, path, seed, depth + 1, e);
		}
		check_member(v, base, "absent-member", seed, e);
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, m) {
			json_path_index(path, sizeof(path), base, i);
			walk(m, path, seed, depth + 1, e);
		}
	} else if (json_is_string(v)) {
		FZ_CHECK(json_utf8_valid(json_string_value(v),
		    json_string_length(v)), "jansson string not valid UTF-8");
	}
}

static void
check_utf8(const uint8_t *data, size_t size)
{
	json_t *s = json_stringn((const char *)data, size);
	char *copy = fz_cstr(data, size);
	size_t len;

	FZ_CHECK(json_utf8_valid((const char *)data, size) == (s != NULL),
	    "json_utf8_valid disagrees with jansson");
	json_decref(s);
	json_utf8_repair(copy);
	len = strlen(copy);
	FZ_CHECK(json_utf8_valid(copy, len), "repair left invalid UTF-8");
	s = json_string(copy);
	FZ_CHECK(s != NULL, "jansson refuses the repaired string");
	json_decref(s);
	free(copy);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_errs e;
	char buf[600], *text;
	json_t *v, *back;
	unsigned seed = size ? data[0] : 0;

	check_utf8(data, size);
	json_errs_init(&e);
	v = json_parse((const char *)data, size, &e);
	if (v == NULL) {
		FZ_CHECK(json_errs_count(&e) == 1, "%zu errors for a bad body",
		    json_errs_count(&e));
		FZ_CHECK(strcmp(json_errs_first(&e, buf, sizeof(buf)),
		    "no error") != 0, "bad body without a message");
		json_errs_free(&e);
		return 0;
	}
	FZ_CHECK(json_errs_count(&e) == 0, "errors for a good body");
	walk(v, "", seed, 0, &e);
	json_errs_first(&e, buf, sizeof(buf));

	text = json_compact(v);
	FZ_CHECK(text != NULL, "json_compact failed");
	FZ_CHECK(strchr(text, '\n') == NULL, "compact text has a newline");
	back = json_loads(text, JSON_DECODE_ANY, NULL);
	FZ_CHECK(back != NULL && fz_json_same(v, back), "compact form differs: %s", text);
	json_decref(back);
	free(text);
	json_decref(v);
	json_errs_free(&e);
	return 0;
}

/*
 * fuzz/jsonw: documents written with the streaming writer (Mesos /state and
 * friends) from strings, numbers and structure taken from the input, next
 * to the same document built as a jansson tree.
 *
 * Properties: what jsonw writes always parses (whatever bytes a string
 * holds: hostnames, paths and labels come from outside), and it is the
 * same document jansson writes with JSON_DUMP_FLAGS, reals to the same 15
 * digits.
 */
#include "dcos/json.h"
#include "dcos/jsonw.h"
#include "fuzz.h"

#define MAX_DEPTH 40

struct level {
	json_t *v;     /* the container */
	char *key;     /* objects: the key waiting for its value */
};

/* Adds v (stolen) to the container on top, under its pending key. */
static void
tree_add(struct level *top, json_t *v)
{
	if (json_is_object(top->v)) {
		json_object_set_new(top->v, top->key, v);
		free(top->key);
		top->key = NULL;
	} else {
		json_array_append_new(top->v, v);
	}
}

/* A string from the input (NULs inside allowed) and its JSON form as
 * jansson would hold it: text that is not UTF-8 repaired. */
static char *
take_string(struct fz *f, size_t *len)
{
	size_t n = fz_below(f, 24);
	char *s = malloc(n + 1);

	if (s == NULL)
		abort();
	for (size_t i = 0; i < n; i++)
		s[i] = (char)fz_u8(f);
	s[n] = '\0';
	*len = n;
	return s;
}

static json_t *
tree_string(const char *s, size_t n)
{
	char *copy = malloc(n + 1);
	json_t *v;

	memcpy(copy, s, n);
	copy[n] = '\0';
	if ((v = json_stringn(copy, n)) == NULL) {
		n = json_utf8_repairn(copy, n);
		v = json_stringn(copy, n);
	}
	free(copy);
	FZ_CHECK(v != NULL, "repaired string refused by jansson");
	return v;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = fz_init(data, size);
	struct level stack[MAX_DEPTH + 1];
	int depth = 0;
	struct jsonw w;
	json_t *root = json_array(), *mine, *theirs;
	char *text, *want;
	size_t len;

	jw_init(&w);
	jw_arr_begin(&w);
	stack[0] = (struct level){ root, NULL };
	while (f.n > 0) {
		struct level *top = &stack[depth];
		uint8_t op = fz_u8(&f) % 10;
		size_t n;
		char *s;

		/* inside an object, a key comes before each value */
		if (json_is_object(top->v) && top->key == NULL && op != 9) {
			json_t *k;

			s = take_string(&f, &n);
			jw_key(&w, s); /* keys are C strings */
			k = tree_string(s, strlen(s));
			top->key = strdup(json_string_value(k));
			json_decref(k);
			free(s);
			continue;
		}
		switch (op) {
		case 0: /* a string, NUL-terminated or counted */
			s = take_string(&f, &n);
			if (fz_u8(&f) & 1) {
				jw_str(&w, s);
				tree_add(top, tree_string(s, strlen(s)));
			} else {
				jw_strn(&w, s, n);
				tree_add(top, tree_string(s, n));
			}
			free(s);
			break;
		case 1: {
			int64_t v = (int64_t)((uint64_t)fz_u32(&f) << 32 | fz_u32(&f));

			jw_int(&w, v);
			tree_add(top, json_integer(v));
			break;
		}
		case 2: {
			uint64_t bits = (uint64_t)fz_u32(&f) << 32 | fz_u32(&f);
			double d;

			memcpy(&d, &bits, sizeof(d));
			jw_double(&w, d);
			/* jansson has no NaN or infinity; jsonw writes null */
			tree_add(top, isfinite(d) ? json_real(d) : json_null());
			break;
		}
		case 3: {
			double d = (double)(int32_t)fz_u32(&f) / (1 + fz_u8(&f));

			jw_double(&w, d); /* the numbers daemons write */
			tree_add(top, json_real(d));
			break;
		}
		case 4: {
			bool b = fz_u8(&f) & 1;

			jw_bool(&w, b);
			tree_add(top, json_boolean(b));
			break;
		}
		case 5:
			jw_null(&w);
			tree_add(top, json_null());
			break;
		case 6:
		case 7:
			if (depth == MAX_DEPTH)
				break;
			if (op == 6)
				jw_obj_begin(&w);
			else
				jw_arr_begin(&w);
			{
				json_t *c = op == 6 ? json_object() : json_array();

				tree_add(top, json_incref(c));
				stack[++depth] = (struct level){ c, NULL };
				json_decref(c);
			}
			break;
		case 8: { /* a jansson value written whole */
			json_t *v = json_pack("{s:[i,f,s], s:n}", "a", 1, 0.1, "x",
			    "b");

			jw_json(&w, v);
			tree_add(top, v);
			break;
		}
		default: /* close the container on top */
			if (depth == 0)
				break;
			if (top->key) { /* a key without its value */
				jw_null(&w);
				tree_add(top, json_null());
			}
			if (json_is_object(top->v))
				jw_obj_end(&w);
			else
				jw_arr_end(&w);
			depth--;
			break;
		}
	}
	while (depth > 0) {
		struct level *top = &stack[depth];

		if (json_is_object(top->v)) {
			if (top->key) { /* a key without its value */
				jw_null(&w);
				tree_add(top, json_null());
			}
			jw_obj_end(&w);
		} else {
			jw_arr_end(&w);
		}
		depth--;
	}
	jw_arr_end(&w);

	text = jw_steal(&w, &len);
	FZ_CHECK(strlen(text) == len, "length");
	mine = json_loadb(text, len, JSON_ALLOW_NUL, NULL);
	FZ_CHECK(mine != NULL, "jsonw wrote what does not parse: %s", text);
	want = json_dumps(root, JSON_DUMP_FLAGS);
	theirs = json_loads(want, JSON_ALLOW_NUL, NULL);
	/* jansson's 15 digits of a double near DBL_MAX do not read back;
	 * jsonw writes 17 there */
	FZ_CHECK(theirs == NULL ? strstr(want, "e308") != NULL :
	    json_equal(mine, theirs), "jsonw wrote %s, jansson %s", text, want);
	json_decref(mine);
	json_decref(theirs);
	json_decref(root);
	free(text);
	free(want);
	return 0;
}

/*
 * attributes: an agent's --attributes ("rack:r1;zone:a;level:3"), which
 * share the value syntax of resources (scalar, [ranges] or text), and
 * their JSON forms.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resources_int.h"

void
attributes_free(struct attributes *a)
{
	free(a->v);
	a->v = NULL;
	a->n = 0;
}

int
attributes_parse(const char *text, struct attributes *out, char *err,
    size_t errlen)
{
	char *copy = strdup(text), *save = NULL, *tok;

	if (copy == NULL)
		abort();
	out->v = NULL;
	out->n = 0;
	for (tok = strtok_r(copy, ";", &save); tok; tok = strtok_r(NULL, ";", &save)) {
		char *colon = strchr(tok, ':'), *end;
		struct attribute *at;

		while (isspace((unsigned char)*tok))
			tok++;
		if (*tok == '\0')
			continue;
		if (colon == NULL || colon == tok || colon[1] == '\0') {
			snprintf(err, errlen, "bad attribute '%s': expected name:value",
			    tok);
			goto fail;
		}
		*colon = '\0';
		if (strlen(tok) >= sizeof(at->name) || strlen(colon + 1) >=
		    sizeof(at->text)) {
			snprintf(err, errlen, "attribute '%s' is too long", tok);
			goto fail;
		}
		if (!json_utf8_valid(tok, strlen(tok)) ||
		    !json_utf8_valid(colon + 1, strlen(colon + 1))) {
			snprintf(err, errlen, "attribute '%s' is not UTF-8", tok);
			goto fail;
		}
		out->v = realloc(out->v, (out->n + 1) * sizeof(*out->v));
		if (out->v == NULL)
			abort();
		at = &out->v[out->n++];
		memset(at, 0, sizeof(*at));
		snprintf(at->name, sizeof(at->name), "%s", tok);
		snprintf(at->text, sizeof(at->text), "%s", colon + 1);
		at->type = ATTR_TEXT;
		if (colon[1] == '[') {
			struct resource tmp = { .type = RES_RANGES };

			if (res_ranges_parse(colon + 1, &tmp) == 0 &&
			    tmp.nranges <= sizeof(at->ranges) / sizeof(at->ranges[0])) {
				at->type = ATTR_RANGES;
				if (tmp.nranges) /* "[]" has none */
					memcpy(at->ranges, tmp.ranges,
					    tmp.nranges * sizeof(*tmp.ranges));
				at->nranges = tmp.nranges;
			}
			res_clear(&tmp);
		} else {
			double v;

			errno = 0;
			v = strtod(colon + 1, &end);
			if (!errno && *end == '\0' && isfinite(v)) {
				at->type = ATTR_SCALAR;
				at->scalar = v;
			}
		}
	}
	free(copy);
	return 0;
fail:
	free(copy);
	attributes_free(out);
	return -1;
}

const char *
attribute_text(const struct attribute *at, char *buf, size_t size)
{
	if (at->type == ATTR_RANGES)
		return ranges_format(at->ranges, at->nranges, buf, size);
	if (at->type == ATTR_SCALAR) {
		snprintf(buf, size, "%g", at->scalar);
		return buf;
	}
	snprintf(buf, size, "%s", at->text);
	return buf;
}

const struct attribute *
attributes_find(const struct attributes *a, const char *name)
{
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->v[i].name, name) == 0)
			return &a->v[i];
	return NULL;
}

json_t *
attributes_summary(const struct attributes *a)
{
	json_t *obj = json_object();
	char buf[512];

	for (size_t i = 0; i < a->n; i++) {
		const struct attribute *at = &a->v[i];

		if (at->type == ATTR_SCALAR)
			json_object_set_new(obj, at->name, json_real(at->scalar));
		else
			json_object_set_new(obj, at->name,
			    json_string(attribute_text(at, buf, sizeof(buf))));
	}
	return obj;
}

json_t *
attributes_to_v1(const struct attributes *a)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < a->n; i++) {
		const struct attribute *at = &a->v[i];
		json_t *o = json_pack("{s:s}", "name", at->name);

		if (at->type == ATTR_SCALAR) {
			json_object_set_new(o, "type", json_string("SCALAR"));
			json_object_set_new(o, "scalar", json_pack("{s:f}", "value",
			    at->scalar));
		} else if (at->type == ATTR_RANGES) {
			json_t *ranges = json_array();

			for (size_t k = 0; k < at->nranges; k++)
				json_array_append_new(ranges, json_pack("{s:I, s:I}",
				    "begin", (json_int_t)at->ranges[k].begin, "end",
				    (json_int_t)at->ranges[k].end));
			json_object_set_new(o, "type", json_string("RANGES"));
			json_object_set_new(o, "ranges", json_pack("{s:o}", "range",
			    ranges));
		} else {
			json_object_set_new(o, "type", json_string("TEXT"));
			json_object_set_new(o, "text", json_pack("{s:s}", "value",
			    at->text));
		}
		json_array_append_new(arr, o);
	}
	return arr;
}

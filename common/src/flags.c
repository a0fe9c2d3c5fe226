/*
 * flags: table-driven command line and environment parsing for daemons.
 * Strings are not copied: argv, environ and the defaults live as long as the
 * process, so a FLAG_STR target points straight at them.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dcos/flags.h"
#include "dcos/json.h"

int
flags_parse_bool(const char *text, bool *out)
{
	if (!strcmp(text, "true") || !strcmp(text, "1") || !strcmp(text, "yes")) {
		*out = true;
		return 0;
	}
	if (!strcmp(text, "false") || !strcmp(text, "0") || !strcmp(text, "no")) {
		*out = false;
		return 0;
	}
	return -1;
}

#define DURATION_MAX_SECS (9223372036854775807.0 / 1e9)

int
flags_parse_duration(const char *text, double *secs)
{
	static const struct {
		const char *unit;
		double scale;
	} units[] = {
		{ "", 1 }, { "ns", 1e-9 }, { "us", 1e-6 }, { "ms", 1e-3 },
		{ "s", 1 }, { "sec", 1 }, { "secs", 1 }, { "m", 60 },
		{ "min", 60 }, { "mins", 60 }, { "h", 3600 }, { "hr", 3600 },
		{ "hrs", 3600 }, { "d", 86400 }, { "day", 86400 },
		{ "days", 86400 }, { "weeks", 604800 }, { "week", 604800 },
	};
	char *end;
	double v;

	errno = 0;
	if (!isdigit((unsigned char)text[0]) && text[0] != '.')
		return -1;
	v = strtod(text, &end);
	if (errno || end == text || !isfinite(v) || v < 0)
		return -1;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].unit) != 0)
			continue;
		/* as Mesos' Duration: int64 nanoseconds (about 292 years), so
		 * callers can turn any duration into a timeval or milliseconds */
		if (v * units[i].scale > DURATION_MAX_SECS)
			return -1;
		*secs = v * units[i].scale;
		return 0;
	}
	return -1;
}

static const char *
type_hint(enum flag_type type)
{
	switch (type) {
	case FLAG_INT: return "an integer";
	case FLAG_PORT: return "a port number 0-65535";
	case FLAG_DOUBLE: return "a number";
	case FLAG_BOOL: return "true or false";
	case FLAG_DURATION: return "a duration such as 15secs, 5mins or 250ms";
	default: return "text";
	}
}

/* Stores text into the flag's target; -1 when it does not parse. */
static int
flag_set(const struct flag *f, const char *text)
{
	char *end;

	switch (f->type) {
	case FLAG_STR:
		*(const char **)f->target = text;
		return 0;
	case FLAG_INT: {
		long long v;

		errno = 0;
		v = strtoll(text, &end, 10);
		if (errno || end == text || *end)
			return -1;
		*(long long *)f->target = v;
		return 0;
	}
	case FLAG_PORT: {
		long v;

		errno = 0;
		v = strtol(text, &end, 10);
		if (errno || end == text || *end || v < 0 || v > 65535)
			return -1;
		*(int *)f->target = (int)v;
		return 0;
	}
	case FLAG_DOUBLE: {
		double v;

		errno = 0;
		v = strtod(text, &end);
		if (errno || end == text || *end || !isfinite(v))
			return -1;
		*(double *)f->target = v;
		return 0;
	}
	case FLAG_BOOL:
		return flags_parse_bool(text, (bool *)f->target);
	case FLAG_DURATION:
		return flags_parse_duration(text, (double *)f->target);
	}
	return -1;
}

static const struct flag *
flag_find(const struct flags_spec *spec, const char *name, size_t len)
{
	for (size_t i = 0; i < spec->nflags; i++) {
		const struct flag *f = &spec->flags[i];

		if (strlen(f->name) == len && strncmp(f->name, name, len) == 0)
			return f;
	}
	return NULL;
}

static void
env_name(const struct flags_spec *spec, const struct flag *f, char *buf,
    size_t size)
{
	size_t n = (size_t)snprintf(buf, size, "%s", spec->env_prefix);

	for (const char *p = f->name; *p && n + 1 < size; p++)
		buf[n++] = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
	buf[n] = '\0';
}

int
flags_parse(const struct flags_spec *spec, int argc, char **argv, char *err,
    size_t errlen)
{
	char env[128];

	for (size_t i = 0; i < spec->nflags; i++) {
		const struct flag *f = &spec->flags[i];
		const char *v;

		if (f->def != NULL && flag_set(f, f->def) == -1) {
			snprintf(err, errlen, "bad default '%s' for --%s", f->def,
			    f->name);
			return FLAGS_ERROR;
		}
		env_name(spec, f, env, sizeof(env));
		if ((v = getenv(env)) != NULL && flag_set(f, v) == -1) {
			snprintf(err, errlen,
			    "invalid value '%s' for --%s (from %s): expected %s",
			    v, f->name, env, type_hint(f->type));
			return FLAGS_ERROR;
		}
	}

	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i], *name, *eq, *value;
		const struct flag *f;
		size_t len;

		if (!strcmp(arg, "--help") || !strcmp(arg, "-h"))
			return FLAGS_HELP;
		if (!strcmp(arg, "--version"))
			return FLAGS_VERSION;
		if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0') {
			snprintf(err, errlen, "unexpected argument '%s'", arg);
			return FLAGS_ERROR;
		}
		name = arg + 2;
		eq = strchr(name, '=');
		len = eq ? (size_t)(eq - name) : strlen(name);
		value = eq ? eq + 1 : NULL;

		f = flag_find(spec, name, len);
		if (f == NULL && value == NULL && len > 3 &&
		    strncmp(name, "no-", 3) == 0 &&
		    (f = flag_find(spec, name + 3, len - 3)) != NULL &&
		    f->type == FLAG_BOOL) {
			*(bool *)f->target = false;
			continue;
		}
		if (f == NULL) {
			snprintf(err, errlen, "unknown flag '--%.*s'", (int)len,
			    name);
			return FLAGS_ERROR;
		}
		if (value == NULL) {
			if (f->type == FLAG_BOOL) {
				*(bool *)f->target = true;
				continue;
			}
			snprintf(err, errlen, "flag --%s needs a value: --%s=VALUE",
			    f->name, f->name);
			return FLAGS_ERROR;
		}
		if (flag_set(f, value) == -1) {
			snprintf(err, errlen,
			    "invalid value '%s' for --%s: expected %s", value,
			    f->name, type_hint(f->type));
			return FLAGS_ERROR;
		}
	}
	return FLAGS_OK;
}

void
flags_usage(const struct flags_spec *spec, FILE *out)
{
	char env[128];

	fprintf(out, "Usage: %s [--flag=value ...]\n\n%s\n\nFlags:\n",
	    spec->prog, spec->summary);
	for (size_t i = 0; i < spec->nflags; i++) {
		const struct flag *f = &spec->flags[i];

		env_name(spec, f, env, sizeof(env));
		fprintf(out, "  --%s=%s\n      %s\n      (env %s", f->name,
		    f->type == FLAG_BOOL ? "true|false" : "VALUE", f->help, env);
		if (f->def != NULL)
			fprintf(out, "; default %s", f->def[0] ? f->def : "\"\"");
		fprintf(out, ")\n");
	}
	fprintf(out, "  --help\n      Print this help and exit.\n"
		     "  --version\n      Print the version and exit.\n");
}

void
flags_parse_or_exit(const struct flags_spec *spec, int argc, char **argv)
{
	char err[512];

	switch (flags_parse(spec, argc, argv, err, sizeof(err))) {
	case FLAGS_OK:
		return;
	case FLAGS_HELP:
		flags_usage(spec, stdout);
		exit(0);
	case FLAGS_VERSION:
		printf("%s %s\n", spec->prog, DCOS_VERSION);
		exit(0);
	default:
		fprintf(stderr, "%s: %s (see --help)\n", spec->prog, err);
		exit(2);
	}
}

json_t *
flags_to_json(const struct flags_spec *spec)
{
	json_t *out = json_object();
	char buf[64];

	for (size_t i = 0; i < spec->nflags; i++) {
		const struct flag *f = &spec->flags[i];
		const char *text = buf;

		switch (f->type) {
		case FLAG_STR:
			text = *(const char **)f->target;
			if (text == NULL)
				continue;
			break;
		case FLAG_INT:
			snprintf(buf, sizeof(buf), "%lld", *(long long *)f->target);
			break;
		case FLAG_PORT:
			snprintf(buf, sizeof(buf), "%d", *(int *)f->target);
			break;
		case FLAG_DOUBLE:
			snprintf(buf, sizeof(buf), "%.15g", *(double *)f->target);
			break;
		case FLAG_BOOL:
			text = *(bool *)f->target ? "true" : "false";
			break;
		case FLAG_DURATION:
			snprintf(buf, sizeof(buf), "%.15gsecs",
			    *(double *)f->target);
			break;
		}
		if (!json_utf8_valid(text, strlen(text))) {
			/* a path in another encoding: shown repaired, not
			 * silently left out (jansson takes only UTF-8) */
			char *copy = strdup(text);

			if (copy == NULL)
				abort();
			json_object_set_new(out, f->name,
			    json_string(json_utf8_repair(copy)));
			free(copy);
			continue;
		}
		json_object_set_new(out, f->name, json_string(text));
	}
	return out;
}

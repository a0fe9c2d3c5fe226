/*
 * flags: declare a daemon's flags once, in a table, and get parsing from
 * "--name=value" and from the environment, a generated --help, --version,
 * and one clear error line for anything unknown or malformed.
 *
 * Each flag is also read from the environment variable <env_prefix><NAME>
 * (upper-cased, '-' as '_'): Mesos style MESOS_WORK_DIR for --work_dir on the
 * Mesos daemons, <COMPONENT>_<NAME> elsewhere, so units can use
 * EnvironmentFile=. The command line wins over the environment, which wins
 * over the default.
 */
#ifndef DCOS_FLAGS_H
#define DCOS_FLAGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

enum flag_type {
	FLAG_STR,      /* const char **: points into argv/environ/default */
	FLAG_INT,      /* long long * */
	FLAG_PORT,     /* int *, 0..65535 */
	FLAG_DOUBLE,   /* double * */
	FLAG_BOOL,     /* bool *; --name, --no-name, --name=true|false */
	FLAG_DURATION, /* double * seconds; "15secs", "5mins", "250ms", "2" */
};

struct flag {
	const char *name; /* "work_dir" */
	enum flag_type type;
	void *target;
	const char *def; /* default as text; NULL leaves a FLAG_STR NULL */
	const char *help;
};

struct flags_spec {
	const char *prog;       /* "dcos-marathon" */
	const char *summary;    /* one line for --help */
	const char *env_prefix; /* "MARATHON_", "MESOS_" */
	const struct flag *flags;
	size_t nflags;
};

enum { FLAGS_OK = 0, FLAGS_HELP = 1, FLAGS_VERSION = 2, FLAGS_ERROR = -1 };

/* Sets every target (defaults, then environment, then argv). On error
 * writes one line naming the flag and the problem into err. */
int flags_parse(const struct flags_spec *spec, int argc, char **argv,
    char *err, size_t errlen);

/* flags_parse, then: --help prints usage and exits 0; --version prints the
 * version and exits 0; an error prints "prog: error" and exits 2. */
void flags_parse_or_exit(const struct flags_spec *spec, int argc, char **argv);

void flags_usage(const struct flags_spec *spec, FILE *out);

/* {"name": "value as text", ...} of the current values, for /flags.
 * Returns a new reference. */
json_t *flags_to_json(const struct flags_spec *spec);

/* Pure parsers, also used for API fields. Return 0, or -1 when malformed
 * (durations: also when longer than Mesos' Duration holds, ~292 years). */
int flags_parse_duration(const char *text, double *secs);
int flags_parse_bool(const char *text, bool *out);

#endif

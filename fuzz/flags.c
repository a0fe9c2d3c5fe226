/*
 * fuzz/flags: command lines (and the values units put in EnvironmentFile=)
 * through flags_parse with a table of every flag type, and durations and
 * booleans through the pure parsers the APIs use too.
 *
 * Input: NUL-separated arguments. Properties: an error says what is wrong;
 * every value parsed is in its type's range (ports 0-65535, durations
 * finite, non-negative and within what Mesos' Duration holds); /flags
 * (flags_to_json) lists every flag that has a value, and a duration's
 * text there parses back to the same duration.
 */
#include <math.h>

#include "dcos/flags.h"
#include "fuzz.h"

#define MAX_ARGS 16

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = fz_init(data, size);
	char *argv[MAX_ARGS + 2], err[512] = "";
	const char *s = NULL;
	long long i = 0;
	int port = 0, argc = 1, rc;
	double d = 0, dur = 0, back;
	bool b = false;
	const struct flag table[] = {
		{ "work_dir", FLAG_STR, &s, NULL, "a string" },
		{ "count", FLAG_INT, &i, "3", "an integer" },
		{ "port", FLAG_PORT, &port, "5050", "a port" },
		{ "ratio", FLAG_DOUBLE, &d, "0.5", "a number" },
		{ "checkpoint", FLAG_BOOL, &b, "false", "a boolean" },
		{ "executor_registration_timeout", FLAG_DURATION, &dur, "1mins",
		    "a duration" },
	};
	const struct flags_spec spec = { "fuzz", "fuzzing", "FUZZ_FLAGS_", table,
		sizeof(table) / sizeof(table[0]) };
	json_t *j;

	argv[0] = strdup("fuzz");
	while (f.n > 0 && argc <= MAX_ARGS)
		argv[argc++] = fz_str(&f, 256);
	argv[argc] = NULL;

	/* the pure parsers on each argument */
	for (int k = 1; k < argc; k++) {
		double secs = -1;
		bool v;

		if (flags_parse_duration(argv[k], &secs) == 0) {
			FZ_CHECK(isfinite(secs) && secs >= 0 && secs <= 9.3e9,
			    "duration '%s' is %g s", argv[k], secs);
		}
		if (flags_parse_bool(argv[k], &v) == 0)
			FZ_CHECK(v == true || v == false, "bool");
	}

	rc = flags_parse(&spec, argc, argv, err, sizeof(err));
	if (rc == FLAGS_ERROR) {
		FZ_CHECK(err[0] != '\0', "error without a message");
	} else if (rc == FLAGS_OK) {
		char text[64];

		FZ_CHECK(port >= 0 && port <= 65535, "port %d", port);
		FZ_CHECK(isfinite(d), "ratio %g", d);
		FZ_CHECK(isfinite(dur) && dur >= 0 && dur <= 9.3e9,
		    "duration %g", dur);
		j = flags_to_json(&spec);
		FZ_CHECK(j != NULL, "flags_to_json");
		FZ_CHECK(json_object_size(j) == sizeof(table) / sizeof(table[0]) -
		    (s == NULL), "/flags lists %zu flags", json_object_size(j));
		snprintf(text, sizeof(text), "%s", json_string_value(
		    json_object_get(j, "executor_registration_timeout")));
		FZ_CHECK(flags_parse_duration(text, &back) == 0 &&
		    fabs(back - dur) <= 1e-5 * fmax(1, dur),
		    "/flags shows duration %.17g as '%s'", dur, text);
		json_decref(j);
	}
	for (int k = 0; k < argc; k++)
		free(argv[k]);
	return 0;
}

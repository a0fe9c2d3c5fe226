/*
 * fuzz/http_route: request paths (and patterns) through http_route_match,
 * with buffers and parameter limits of every size.
 *
 * Input: one byte picks a pattern (the daemons' own, or one from the
 * input), one the buffer size, one maxparams; then the path. Properties:
 * no overread or overflow of buf; a match binds every parameter of the
 * pattern, in order, to non-empty values inside buf; putting the values
 * back into the pattern gives the path again (with empty segments
 * dropped, as matching drops them).
 */
#include "dcos/http_server.h"
#include "fuzz.h"

static const char *patterns[] = {
	"/health",
	"/v2/apps",
	"/v2/apps/{id*}",
	"/v2/apps/{id*}/tasks",
	"/v2/apps/{id*}/tasks/{taskId}",
	"/v2/apps/{id*}/versions/{version}",
	"/master/state",
	"/files/{path*}",
	"/{a}/{b}/{c}",
	"/{a*}/x/{b*}",
	"/{all*}",
	"/api/v1/scheduler",
	"/slave(1)/state",
};

/* Segments of p without empty ones, joined with '/'. */
static void
normalize(const char *p, char *out, size_t size)
{
	size_t n = 0;

	while (*p && n + 2 < size) {
		while (*p == '/')
			p++;
		if (*p == '\0')
			break;
		if (n)
			out[n++] = '/';
		while (*p && *p != '/' && n + 1 < size)
			out[n++] = *p++;
	}
	out[n] = '\0';
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = fz_init(data, size);
	uint8_t pick = fz_u8(&f);
	size_t npat = sizeof(patterns) / sizeof(patterns[0]);
	size_t bufsize = 1 + fz_u8(&f) * 8;
	int maxparams = fz_u8(&f) % 10;
	char *pattern = pick < npat ? strdup(patterns[pick]) : fz_str(&f, 256);
	char *path = fz_rest(&f, NULL), *buf = malloc(bufsize);
	const char *names[10], *values[10];
	char rebuilt[8192], want[8192], pnorm[8192];
	int n = -1, param;

	if (pattern == NULL || buf == NULL)
		abort();
	if (!http_route_match(pattern, path, buf, bufsize, names, values, &n,
	    maxparams))
		goto out;
	FZ_CHECK(n >= 0 && n <= maxparams, "nparams %d of %d", n, maxparams);

	/* rebuild the path from the pattern */
	normalize(pattern, pnorm, sizeof(pnorm));
	rebuilt[0] = '\0';
	{
		const char *p = pnorm;
		int k = 0;
		size_t used = 0;

		while (*p) {
			const char *end = strchr(p, '/');
			size_t len = end ? (size_t)(end - p) : strlen(p);

			if (used)
				rebuilt[used++] = '/';
			param = len >= 3 && p[0] == '{' && p[len - 1] == '}';
			if (param) {
				size_t nlen = len - 2 - (p[len - 2] == '*');

				FZ_CHECK(k < n, "parameter %d not bound", k);
				FZ_CHECK(names[k] >= buf && names[k] < buf + bufsize &&
				    values[k] >= buf && values[k] < buf + bufsize,
				    "parameter %d outside buf", k);
				FZ_CHECK(strlen(names[k]) == nlen &&
				    memcmp(names[k], p + 1, nlen) == 0,
				    "parameter %d named '%s'", k, names[k]);
				FZ_CHECK(values[k][0] != '\0', "empty value");
				used += (size_t)snprintf(rebuilt + used,
				    sizeof(rebuilt) - used, "%s", values[k]);
				k++;
			} else {
				memcpy(rebuilt + used, p, len);
				used += len;
			}
			rebuilt[used] = '\0';
			p += len;
			if (*p == '/')
				p++;
			if (used >= sizeof(rebuilt) - 300)
				goto out; /* too long to compare here */
		}
		FZ_CHECK(k == n, "%d parameters bound, pattern has %d", n, k);
	}
	normalize(path, want, sizeof(want));
	FZ_CHECK(strcmp(rebuilt, want) == 0, "'%s' rebuilt as '%s'", want,
	    rebuilt);
out:
	free(pattern);
	free(path);
	free(buf);
	return 0;
}

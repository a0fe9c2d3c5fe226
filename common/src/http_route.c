/*
 * http_route: matching request paths against route patterns such as
 * "/v2/apps/{id*}/tasks/{taskId}". Pure string logic, unit tested.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "dcos/http_server.h"

#define SEG_MAX 64

struct segs {
	const char *s[SEG_MAX];
	size_t len[SEG_MAX];
	int n;
};

/* Splits on '/', skipping empty segments ("//", trailing "/"). */
static int
split(const char *p, struct segs *out)
{
	out->n = 0;
	while (*p) {
		const char *start;

		while (*p == '/')
			p++;
		if (*p == '\0')
			break;
		if (out->n == SEG_MAX)
			return -1;
		start = p;
		while (*p && *p != '/')
			p++;
		out->s[out->n] = start;
		out->len[out->n++] = (size_t)(p - start);
	}
	return 0;
}

static int
is_param(const struct segs *pat, int i, int *greedy)
{
	size_t len = pat->len[i];
	const char *s = pat->s[i];

	if (len < 3 || s[0] != '{' || s[len - 1] != '}')
		return 0;
	*greedy = s[len - 2] == '*';
	return 1;
}

/* Records, per pattern segment, the [from, to) path segments it covers.
 * dead[pi] has bit si set once pattern segments pi.. are known not to
 * match path segments si..: without it, a pattern with several greedy
 * parameters backtracks exponentially in the path's segments. */
static int
match(const struct segs *pat, int pi, const struct segs *path, int si,
    int from[], int to[], uint64_t dead[])
{
	int greedy;

	if (pi == pat->n)
		return si == path->n;
	if (si < SEG_MAX && (dead[pi] >> si & 1))
		return 0;
	if (is_param(pat, pi, &greedy) && greedy) {
		for (int end = path->n; end > si; end--) {
			if (match(pat, pi + 1, path, end, from, to, dead)) {
				from[pi] = si;
				to[pi] = end;
				return 1;
			}
		}
		goto fail;
	}
	if (si == path->n)
		return 0;
	if (!is_param(pat, pi, &greedy) && (pat->len[pi] != path->len[si] ||
	    memcmp(pat->s[pi], path->s[si], pat->len[pi]) != 0))
		goto fail;
	if (!match(pat, pi + 1, path, si + 1, from, to, dead))
		goto fail;
	from[pi] = si;
	to[pi] = si + 1;
	return 1;
fail:
	if (si < SEG_MAX)
		dead[pi] |= (uint64_t)1 << si;
	return 0;
}

int
http_route_match(const char *pattern, const char *path, char *buf,
    size_t bufsize, const char **names, const char **values, int *nparams,
    int maxparams)
{
	struct segs pat, p;
	int from[SEG_MAX], to[SEG_MAX], greedy;
	uint64_t dead[SEG_MAX] = { 0 };
	size_t used = 0;

	*nparams = 0;
	if (split(pattern, &pat) == -1 || split(path, &p) == -1)
		return 0;
	if (!match(&pat, 0, &p, 0, from, to, dead))
		return 0;

	for (int i = 0; i < pat.n; i++) {
		size_t start;

		if (!is_param(&pat, i, &greedy))
			continue;
		if (*nparams == maxparams)
			return 0;
		/* the name, without braces and '*' */
		start = used;
		used += (size_t)snprintf(buf + used, bufsize - used, "%.*s",
		    (int)(pat.len[i] - 2 - (greedy ? 1 : 0)), pat.s[i] + 1) + 1;
		if (used > bufsize)
			return 0;
		names[*nparams] = buf + start;
		/* the value: the covered segments joined with '/' */
		start = used;
		for (int k = from[i]; k < to[i]; k++) {
			used += (size_t)snprintf(buf + used, bufsize - used, "%s%.*s",
			    k > from[i] ? "/" : "", (int)p.len[k], p.s[k]);
			if (used >= bufsize)
				return 0;
		}
		used++;
		values[*nparams] = buf + start;
		(*nparams)++;
	}
	return 1;
}

const char *
http_status_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 304: return "Not Modified";
	case 307: return "Temporary Redirect";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 406: return "Not Acceptable";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Entity";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "Unknown";
	}
}

/*
 * fuzz/small: the small parsers of bytes from outside: response headers
 * as libcurl hands them to http_client_resp_header (a follower's Location,
 * Mesos-Stream-Id), ids_is_uuid on ids from API requests, and
 * log_level_parse on --log_level and SET_LOGGING_LEVEL.
 *
 * Input: a header name (up to a NUL), then the raw header block.
 * Properties: a found value is a copy of the bytes after "Name:" and its
 * blanks on a line that starts with the name (any case), without the line
 * end, and fits the buffer; uuids are exactly 8-4-4-4-12 hex digits.
 */
#include <ctype.h>
#include <strings.h>

#include "dcos/http_client.h"
#include "dcos/ids.h"
#include "dcos/log.h"
#include "fuzz.h"

static int
is_uuid(const char *s)
{
	if (strlen(s) != 36)
		return 0;
	for (int i = 0; i < 36; i++)
		if (i == 8 || i == 13 || i == 18 || i == 23 ? s[i] != '-' :
		    !isxdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = fz_init(data, size);
	char *name = fz_str(&f, 64), *headers = fz_rest(&f, NULL);
	struct http_client_resp resp = { .headers = headers };
	size_t bufsize = 1 + (size % 97);
	char *buf = malloc(bufsize);
	const char *v = http_client_resp_header(&resp, name, buf, bufsize);
	int level;

	if (v != NULL) {
		const char *line = headers;
		size_t nlen = strlen(name);

		FZ_CHECK(v == buf && strlen(buf) < bufsize, "value fits");
		/* some line starts with "name:" */
		while (line && (strncasecmp(line, name, nlen) != 0 ||
		    line[nlen] != ':'))
			line = (line = strstr(line, "\r\n")) ? line + 2 : NULL;
		FZ_CHECK(line && line[nlen] == ':', "no such line for '%s'", name);
		FZ_CHECK(strstr(buf, "\r\n") == NULL, "value holds a line end");
	}
	FZ_CHECK(ids_is_uuid(name) == is_uuid(name), "uuid '%s'", name);
	FZ_CHECK(ids_is_uuid(headers) == is_uuid(headers), "uuid");
	level = log_level_parse(name);
	FZ_CHECK(level == -1 || (level >= LOG_LVL_ERROR &&
	    level <= LOG_LVL_DEBUG), "level %d", level);
	free(name);
	free(headers);
	free(buf);
	return 0;
}

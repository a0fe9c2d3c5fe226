/*
 * stream_decode: RecordIO and SSE decoders. Both keep only the bytes of the
 * record or line in progress and bound them, so a broken peer cannot make
 * us buffer without limit.
 */
#include <stdlib.h>
#include <string.h>

#include "dcos/stream_decode.h"

static void
append(char **buf, size_t *len, size_t *cap, const char *data, size_t n)
{
	if (*len + n + 1 > *cap) {
		size_t ncap = *cap ? *cap : 256;

		while (*len + n + 1 > ncap)
			ncap *= 2;
		*buf = realloc(*buf, ncap);
		if (*buf == NULL)
			abort();
		*cap = ncap;
	}
	memcpy(*buf + *len, data, n);
	*len += n;
	(*buf)[*len] = '\0';
}

void
recordio_init(struct recordio_decoder *d, size_t max_record, recordio_fn fn,
    void *arg)
{
	memset(d, 0, sizeof(*d));
	d->fn = fn;
	d->arg = arg;
	d->max_record = max_record;
}

void
recordio_free(struct recordio_decoder *d)
{
	free(d->buf);
	d->buf = NULL;
	d->len = d->cap = 0;
}

int
recordio_feed(struct recordio_decoder *d, const char *data, size_t len)
{
	size_t pos = 0;

	if (d->failed)
		return -1;
	append(&d->buf, &d->len, &d->cap, data, len);
	for (;;) {
		size_t size = 0, i;

		/* the length prefix: digits then '\n' */
		for (i = pos; i < d->len && d->buf[i] >= '0' && d->buf[i] <= '9'; i++) {
			size = size * 10 + (size_t)(d->buf[i] - '0');
			if (size > d->max_record || i - pos > 20)
				goto fail;
		}
		if (i == d->len)
			break; /* need more */
		if (d->buf[i] != '\n' || i == pos)
			goto fail;
		if (d->len - (i + 1) < size)
			break; /* need more */
		/* a callback that stops the stream may free the decoder: mark it
		 * failed first and touch it again only if it did not stop */
		d->failed = 1;
		if (d->fn(d->buf + i + 1, size, d->arg) == -1)
			return -1;
		d->failed = 0;
		pos = i + 1 + size;
	}
	memmove(d->buf, d->buf + pos, d->len - pos);
	d->len -= pos;
	return 0;
fail:
	d->failed = 1;
	return -1;
}

void
sse_init(struct sse_decoder *d, size_t max_event, sse_fn fn, void *arg)
{
	memset(d, 0, sizeof(*d));
	d->fn = fn;
	d->arg = arg;
	d->max_event = max_event;
}

void
sse_free(struct sse_decoder *d)
{
	free(d->line);
	free(d->event);
	free(d->data);
	memset(d, 0, sizeof(*d));
}

/* One complete line (without its line ending). */
static int
sse_line(struct sse_decoder *d, char *line, size_t len)
{
	const char *value;
	size_t vlen;

	if (len == 0) { /* dispatch */
		char *event = d->event, *data = d->data;
		int rc = 0;

		/* as in recordio_feed: the callback may free the decoder */
		d->event = d->data = NULL;
		d->data_len = d->data_cap = 0;
		d->failed = 1;
		if (data != NULL)
			rc = d->fn(event ? event : "message", data, d->arg);
		free(event);
		free(data);
		if (rc == -1)
			return -1;
		d->failed = 0;
		return 0;
	}
	if (line[0] == ':')
		return 0; /* comment */
	value = memchr(line, ':', len);
	if (value) {
		size_t flen = (size_t)(value - line);

		value++;
		if (*value == ' ')
			value++;
		vlen = len - (size_t)(value - line);
		line[flen] = '\0';
	} else {
		value = "";
		vlen = 0;
	}
	if (strcmp(line, "event") == 0) {
		free(d->event);
		d->event = strndup(value, vlen);
		if (d->event == NULL)
			abort();
	} else if (strcmp(line, "data") == 0) {
		if (d->data != NULL)
			append(&d->data, &d->data_len, &d->data_cap, "\n", 1);
		append(&d->data, &d->data_len, &d->data_cap, value, vlen);
		if (d->data_len > d->max_event) {
			d->failed = 1;
			return -1;
		}
	}
	return 0; /* id:, retry: and unknown fields are ignored */
}

int
sse_feed(struct sse_decoder *d, const char *data, size_t len)
{
	if (d->failed)
		return -1;
	for (size_t i = 0; i < len; i++) {
		char c = data[i];

		if (c == '\n') {
			size_t n = d->line_len;

			if (n > 0 && d->line[n - 1] == '\r')
				n--;
			if (d->line == NULL)
				append(&d->line, &d->line_len, &d->line_cap, "", 0);
			d->line[n] = '\0';
			d->line_len = 0;
			if (sse_line(d, d->line, n) == -1)
				return -1; /* d may be gone */
			continue;
		}
		append(&d->line, &d->line_len, &d->line_cap, &c, 1);
		if (d->line_len > d->max_event) {
			d->failed = 1;
			return -1;
		}
	}
	return 0;
}

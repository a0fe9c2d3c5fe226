/*
 * stream_decode: incremental decoders for the two streaming formats the
 * daemons consume: Mesos RecordIO ("<decimal length>\n<exactly that many
 * bytes>", chunk boundaries meaningless) and Server-Sent Events ("event: x",
 * "data: y" lines, a blank line ends an event; LF or CRLF).
 */
#ifndef DCOS_STREAM_DECODE_H
#define DCOS_STREAM_DECODE_H

#include <stddef.h>

/* Return 0 to go on, -1 to stop decoding: feed then returns -1 at once
 * without touching the decoder again, so a callback that returns -1 may
 * free the decoder (and whatever holds it). */
typedef int (*recordio_fn)(const char *data, size_t len, void *arg);
typedef int (*sse_fn)(const char *event, const char *data, void *arg);

struct recordio_decoder {
	recordio_fn fn;
	void *arg;
	size_t max_record;
	char *buf;       /* pending bytes */
	size_t len, cap;
	int failed;
};

/* max_record bounds one record (a longer or malformed length prefix fails
 * the stream). */
void recordio_init(struct recordio_decoder *d, size_t max_record,
    recordio_fn fn, void *arg);
/* 0, or -1 once the stream is malformed or a callback asked to stop. */
int recordio_feed(struct recordio_decoder *d, const char *data, size_t len);
void recordio_free(struct recordio_decoder *d);

struct sse_decoder {
	sse_fn fn;
	void *arg;
	size_t max_event;
	char *line;      /* the partial line */
	size_t line_len, line_cap;
	char *event;     /* current event name */
	char *data;      /* current data, lines joined with '\n' */
	size_t data_len, data_cap;
	int failed;
};

void sse_init(struct sse_decoder *d, size_t max_event, sse_fn fn, void *arg);
int sse_feed(struct sse_decoder *d, const char *data, size_t len);
void sse_free(struct sse_decoder *d);

#endif

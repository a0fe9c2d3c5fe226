/*
 * fuzz/stream_decode: bytes of a Mesos RecordIO stream and of a
 * Server-Sent Events stream, fed to the decoders in random chunks, as
 * libcurl hands them over (chunk boundaries mean nothing).
 *
 * The first byte picks the decoder and its bound, the next bytes the chunk
 * sizes; the rest is the stream. Properties: the same records/events, in
 * the same order, and the same failure, whether the stream comes in one
 * piece or in chunks; no record exceeds the bound; a decoder that failed
 * stays failed; a callback that stops the stream (and frees the decoder,
 * as the daemons do) is never followed by a touch of the decoder.
 */
#include "dcos/stream_decode.h"
#include "fuzz.h"

#define MAX_ITEMS 4096

struct seen {
	char *items[MAX_ITEMS];
	size_t lens[MAX_ITEMS];
	size_t n;
	size_t stop_at;        /* stop (return -1) at this item; 0: never */
	size_t max;
	struct recordio_decoder *rd; /* freed by the callback that stops */
	struct sse_decoder *sd;
};

/* Records a + b + c as one item. */
static void
seen_add(struct seen *s, const char *a, size_t alen, const char *b,
    size_t blen, const char *c, size_t clen)
{
	char *item;

	if (s->n == MAX_ITEMS)
		return;
	if ((item = malloc(alen + blen + clen + 1)) == NULL)
		abort();
	memcpy(item, a, alen);
	memcpy(item + alen, b, blen);
	memcpy(item + alen + blen, c, clen);
	item[alen + blen + clen] = '\0';
	s->items[s->n] = item;
	s->lens[s->n++] = alen + blen + clen;
}

static void
seen_free(struct seen *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->items[i]);
	s->n = 0;
}

static int
on_record(const char *data, size_t len, void *arg)
{
	struct seen *s = arg;

	FZ_CHECK(len <= s->max, "record of %zu bytes over the bound %zu", len,
	    s->max);
	seen_add(s, data, len, "", 0, "", 0);
	if (s->stop_at && s->n == s->stop_at) {
		recordio_free(s->rd);
		free(s->rd);
		s->rd = NULL;
		return -1;
	}
	return 0;
}

static int
on_event(const char *event, const char *data, void *arg)
{
	struct seen *s = arg;
	size_t elen = strlen(event), dlen = strlen(data);

	FZ_CHECK(dlen <= s->max, "event data over the bound");
	seen_add(s, event, elen, "\n", 1, data, dlen);
	if (s->stop_at && s->n == s->stop_at) {
		sse_free(s->sd);
		free(s->sd);
		s->sd = NULL;
		return -1;
	}
	return 0;
}

/* Feeds the stream in chunks taken from f; returns the first -1 or 0. */
static int
run(int sse, const uint8_t *p, size_t n, struct fz *chunks, size_t max,
    size_t stop_at, struct seen *s)
{
	int rc = 0;

	memset(s, 0, sizeof(*s));
	s->max = max;
	s->stop_at = stop_at;
	if (sse) {
		if ((s->sd = malloc(sizeof(*s->sd))) == NULL)
			abort();
		sse_init(s->sd, max, on_event, s);
	} else {
		if ((s->rd = malloc(sizeof(*s->rd))) == NULL)
			abort();
		recordio_init(s->rd, max, on_record, s);
	}
	while (n > 0 && rc == 0) {
		size_t c = chunks ? 1 + fz_below(chunks, 15) : n;
		char *copy;

		if (c > n)
			c = n;
		copy = malloc(c); /* exactly the chunk: overreads show */
		if (copy == NULL)
			abort();
		memcpy(copy, p, c);
		rc = sse ? sse_feed(s->sd, copy, c) : recordio_feed(s->rd, copy, c);
		free(copy);
		p += c;
		n -= c;
		if (rc == -1 && (sse ? s->sd : (void *)s->rd) != NULL) {
			/* failed, not stopped: it stays failed */
			FZ_CHECK((sse ? sse_feed(s->sd, "\n\n", 2) :
			    recordio_feed(s->rd, "0\n", 2)) == -1,
			    "a failed decoder took more input");
		}
	}
	if (s->sd) {
		sse_free(s->sd);
		free(s->sd);
	}
	if (s->rd) {
		recordio_free(s->rd);
		free(s->rd);
	}
	return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = fz_init(data, size);
	uint8_t mode = fz_u8(&f);
	int sse = mode & 1;
	size_t max = (mode >> 1) & 1 ? 64 : 1 << 20;
	size_t stop_at = (mode >> 2) & 7; /* 0: never */
	size_t nchunks = fz_u8(&f);
	struct fz chunks = fz_init(f.p, nchunks < f.n ? nchunks : f.n);
	struct seen whole, parts;
	int rc1, rc2;

	f.p += chunks.n;
	f.n -= chunks.n;
	rc1 = run(sse, f.p, f.n, NULL, max, stop_at, &whole);
	rc2 = run(sse, f.p, f.n, &chunks, max, stop_at, &parts);
	/* a chunk that ends a stream early can only make the whole-stream
	 * run see more, never different items */
	FZ_CHECK(rc1 == rc2, "whole %d, in chunks %d", rc1, rc2);
	FZ_CHECK(whole.n == parts.n, "whole gave %zu items, chunks %zu",
	    whole.n, parts.n);
	for (size_t i = 0; i < whole.n; i++)
		FZ_CHECK(whole.lens[i] == parts.lens[i] &&
		    memcmp(whole.items[i], parts.items[i], whole.lens[i]) == 0,
		    "item %zu differs", i);
	seen_free(&whole);
	seen_free(&parts);
	return 0;
}

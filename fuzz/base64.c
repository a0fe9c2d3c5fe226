/*
 * fuzz/base64: protobuf `bytes` fields as schedulers send them in JSON
 * (ACKNOWLEDGE's uuid, MESSAGE data) through base64_decode, and bytes
 * through base64_encode and back.
 *
 * Properties: decoding writes no more than the documented bound and
 * either refuses the text or gives bytes whose encoding is the text (up to
 * padding and the unused low bits of the last character); encoding then
 * decoding gives the bytes back.
 */
#include "dcos/base64.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t bound = 3 * (size / 4) + 3;
	uint8_t *out = malloc(bound), *back;
	char *text = malloc(base64_encoded_len(size) + 1);
	long n = base64_decode((const char *)data, size, out);

	if (out == NULL || text == NULL)
		abort();
	FZ_CHECK(n >= -1 && n <= (long)bound, "decoded %ld of at most %zu", n,
	    bound);
	if (n >= 0) {
		size_t stripped = size, elen;

		while (stripped > 0 && data[stripped - 1] == '=')
			stripped--;
		base64_encode(out, (size_t)n, text);
		elen = strlen(text);
		while (elen > 0 && text[elen - 1] == '=')
			elen--;
		FZ_CHECK(elen == stripped, "re-encoded to %zu characters, not %zu",
		    elen, stripped);
		/* all but the last character agree; the last may differ in the
		 * bits that carry nothing */
		FZ_CHECK(elen == 0 || memcmp(text, data, elen - 1) == 0,
		    "re-encoding differs");
	}
	/* the other way */
	base64_encode(data, size, text);
	FZ_CHECK(strlen(text) == base64_encoded_len(size), "encoded length");
	back = malloc(3 * (strlen(text) / 4) + 3);
	FZ_CHECK(base64_decode(text, strlen(text), back) == (long)size &&
	    memcmp(back, data, size) == 0, "round trip");
	free(back);
	free(out);
	free(text);
	return 0;
}

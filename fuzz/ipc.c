/*
 * fuzz/ipc: PUB/SUB event messages ("<topic>\n<JSON>", as they arrive off
 * an nng socket) through ipc_unframe, with topic buffers of every size.
 *
 * Properties: a topic that does not fit, a missing newline or a body that
 * is not JSON gives NULL; otherwise the topic is the bytes before the
 * first newline, NUL-terminated inside the buffer, and ipc_frame of the
 * result gives a message that unframes to the same topic and document.
 */
#include "dcos/ipc.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = fz_init(data, size);
	size_t tsize = 1 + fz_u8(&f), len, len2;
	char *topic = malloc(tsize), *topic2 = malloc(256), *framed;
	char *msg = malloc(f.n ? f.n : 1); /* exactly the message */
	const char *nl;
	json_t *v, *v2;

	if (topic == NULL || topic2 == NULL || msg == NULL)
		abort();
	len = f.n;
	memcpy(msg, f.p, len);
	v = ipc_unframe(msg, len, topic, tsize);
	nl = memchr(msg, '\n', len);
	if (v == NULL)
		goto out;
	FZ_CHECK(nl != NULL && (size_t)(nl - msg) < tsize, "topic fits");
	FZ_CHECK(memcmp(topic, msg, (size_t)(nl - msg)) == 0 &&
	    topic[nl - msg] == '\0', "topic is the bytes before the newline");
	if (strlen(topic) < 256) {
		framed = ipc_frame(topic, v, &len2);
		v2 = ipc_unframe(framed, len2, topic2, 256);
		FZ_CHECK(v2 != NULL && strcmp(topic, topic2) == 0 &&
		    fz_json_same(v, v2), "frame/unframe round trip");
		json_decref(v2);
		free(framed);
	}
	json_decref(v);
out:
	free(topic);
	free(topic2);
	free(msg);
	return 0;
}

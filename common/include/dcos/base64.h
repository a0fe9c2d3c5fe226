/*
 * base64: the standard alphabet with '=' padding (RFC 4648 section 4), as
 * protobuf's JSON mapping writes `bytes` fields: TaskStatus.uuid, the data
 * of framework messages, TaskInfo.data.
 */
#ifndef DCOS_BASE64_H
#define DCOS_BASE64_H

#include <stddef.h>

/* Encoded length of n bytes, without the NUL. */
size_t base64_encoded_len(size_t n);
/* Writes the text and a NUL into out (base64_encoded_len(n) + 1 bytes);
 * returns out. */
char *base64_encode(const void *data, size_t n, char *out);
/* Decodes text (padding optional, no whitespace) into out, which holds at
 * least 3 * (len / 4) + 3 bytes. Returns the decoded length, or -1 when the
 * text is not base64. */
long base64_decode(const char *text, size_t len, void *out);

#endif

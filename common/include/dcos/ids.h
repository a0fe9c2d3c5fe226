/*
 * ids: identifiers in the formats of the systems we are compatible with.
 *
 *   UUID v4                 "9c7f1e0e-2b0e-4c5a-9d3e-0f6c1f2a3b4c"
 *   UUID v1 (time based)    Marathon task ids "shop_db.564bd685-4c30-11e5-..."
 *   Mesos framework id      "<master uuid>-0001"
 *   Mesos agent id          "<master uuid>-S3"
 *   Mesos offer id          "<master uuid>-O42"
 */
#ifndef DCOS_IDS_H
#define DCOS_IDS_H

#include <stdbool.h>
#include <stddef.h>

#define UUID_STR_LEN 37 /* 36 characters and the NUL */

void ids_uuid4(char out[UUID_STR_LEN]);
void ids_uuid1(char out[UUID_STR_LEN]);
bool ids_is_uuid(const char *s);

/* Fills buf with len random characters from [A-Z0-9] and a NUL. */
void ids_random_alnum(char *buf, size_t len);
/* Fills buf with n random bytes (getrandom). */
void ids_random_bytes(void *buf, size_t n);

/* "<base>-<%04u>", "<base>-S<n>", "<base>-O<n>"; out holds >= 64 bytes */
void ids_framework(char *out, size_t size, const char *base, unsigned n);
void ids_agent(char *out, size_t size, const char *base, unsigned n);
void ids_offer(char *out, size_t size, const char *base, unsigned long long n);

#endif

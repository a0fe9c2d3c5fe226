/*
 * ids: UUIDs from the kernel's random source and the Mesos id formats.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "dcos/ids.h"

void
ids_random_bytes(void *buf, size_t n)
{
	unsigned char *p = buf;

	while (n > 0) {
		ssize_t got = getrandom(p, n, 0);

		if (got < 0)
			abort(); /* the kernel's random source is gone */
		p += got;
		n -= (size_t)got;
	}
}

static void
uuid_format(const uint8_t b[16], char out[UUID_STR_LEN])
{
	snprintf(out, UUID_STR_LEN,
	    "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x",
	    b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10],
	    b[11], b[12], b[13], b[14], b[15]);
}

void
ids_uuid4(char out[UUID_STR_LEN])
{
	uint8_t b[16];

	ids_random_bytes(b, sizeof(b));
	b[6] = (b[6] & 0x0f) | 0x40;
	b[8] = (b[8] & 0x3f) | 0x80;
	uuid_format(b, out);
}

/* RFC 4122 version 1: 100 ns ticks since 1582-10-15, a random clock
 * sequence and a random node with the multicast bit set (no MAC address).
 * Ticks are made strictly increasing within the process. */
void
ids_uuid1(char out[UUID_STR_LEN])
{
	static uint64_t last;
	static uint8_t node[6];
	static uint16_t clock_seq;
	struct timespec ts;
	uint64_t t;
	uint8_t b[16];

	if (last == 0) {
		ids_random_bytes(node, sizeof(node));
		node[0] |= 0x01;
		ids_random_bytes(&clock_seq, sizeof(clock_seq));
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	t = (uint64_t)ts.tv_sec * 10000000ULL + (uint64_t)ts.tv_nsec / 100 +
	    0x01B21DD213814000ULL;
	if (t <= last)
		t = last + 1;
	last = t;

	b[0] = (uint8_t)(t >> 24);
	b[1] = (uint8_t)(t >> 16);
	b[2] = (uint8_t)(t >> 8);
	b[3] = (uint8_t)t;
	b[4] = (uint8_t)(t >> 40);
	b[5] = (uint8_t)(t >> 32);
	b[6] = (uint8_t)(((t >> 56) & 0x0f) | 0x10);
	b[7] = (uint8_t)(t >> 48);
	b[8] = (uint8_t)(((clock_seq >> 8) & 0x3f) | 0x80);
	b[9] = (uint8_t)clock_seq;
	memcpy(b + 10, node, 6);
	uuid_format(b, out);
}

bool
ids_is_uuid(const char *s)
{
	static const char hex[] = "0123456789abcdefABCDEF";

	if (strlen(s) != 36)
		return false;
	for (int i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return false;
		} else if (strchr(hex, s[i]) == NULL) {
			return false;
		}
	}
	return true;
}

void
ids_random_alnum(char *buf, size_t len)
{
	static const char chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	uint8_t r;

	for (size_t i = 0; i < len; i++) {
		/* 252 = 7 * 36: reject the tail so every character is equally likely */
		do
			ids_random_bytes(&r, 1);
		while (r >= 252);
		buf[i] = chars[r % 36];
	}
	buf[len] = '\0';
}

void
ids_framework(char *out, size_t size, const char *base, unsigned n)
{
	snprintf(out, size, "%s-%04u", base, n);
}

void
ids_agent(char *out, size_t size, const char *base, unsigned n)
{
	snprintf(out, size, "%s-S%u", base, n);
}

void
ids_offer(char *out, size_t size, const char *base, unsigned long long n)
{
	snprintf(out, size, "%s-O%llu", base, n);
}

/*
 * strmap: open addressing with linear probing. A deleted slot becomes a
 * tombstone (key freed, marker left) so probe chains stay intact and an
 * iteration in progress is not disturbed; tombstones are dropped when the
 * table is rebuilt on growth.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dcos/strmap.h"

static char tombstone_mark;
#define TOMBSTONE (&tombstone_mark)

struct slot {
	char *key; /* NULL: empty; TOMBSTONE: deleted */
	uint64_t hash;
	void *val;
};

struct strmap {
	struct slot *slots;
	size_t cap;   /* power of two */
	size_t count; /* live entries */
	size_t used;  /* live entries + tombstones */
};

static uint64_t
hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */

	while (*s) {
		h ^= (unsigned char)*s++;
		h *= 1099511628211ULL;
	}
	return h ^ (h >> 29);
}

struct strmap *
strmap_new(void)
{
	struct strmap *m = calloc(1, sizeof(*m));

	if (m == NULL)
		abort();
	m->cap = 16;
	if ((m->slots = calloc(m->cap, sizeof(*m->slots))) == NULL)
		abort();
	return m;
}

void
strmap_free(struct strmap *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->cap; i++)
		if (m->slots[i].key && m->slots[i].key != TOMBSTONE)
			free(m->slots[i].key);
	free(m->slots);
	free(m);
}

static struct slot *
find(const struct strmap *m, const char *key, uint64_t h)
{
	size_t mask = m->cap - 1;

	for (size_t i = h & mask;; i = (i + 1) & mask) {
		struct slot *s = &m->slots[i];

		if (s->key == NULL)
			return NULL;
		if (s->key != TOMBSTONE && s->hash == h && strcmp(s->key, key) == 0)
			return s;
	}
}

static void
grow(struct strmap *m)
{
	struct slot *old = m->slots;
	size_t oldcap = m->cap;

	/* rebuild at a size where live entries fill at most a quarter */
	while (m->cap < 4 * (m->count + 1))
		m->cap *= 2;
	if ((m->slots = calloc(m->cap, sizeof(*m->slots))) == NULL)
		abort();
	m->used = m->count;
	for (size_t i = 0; i < oldcap; i++) {
		size_t mask = m->cap - 1, j;

		if (old[i].key == NULL || old[i].key == TOMBSTONE)
			continue;
		for (j = old[i].hash & mask; m->slots[j].key; j = (j + 1) & mask)
			;
		m->slots[j] = old[i];
	}
	free(old);
}

void *
strmap_get(const struct strmap *m, const char *key)
{
	struct slot *s = find(m, key, hash_str(key));

	return s ? s->val : NULL;
}

void *
strmap_put(struct strmap *m, const char *key, void *val)
{
	uint64_t h = hash_str(key);
	struct slot *s = find(m, key, h);
	size_t mask, i;

	if (s) {
		void *prev = s->val;

		s->val = val;
		return prev;
	}
	if ((m->used + 1) * 2 > m->cap)
		grow(m);
	mask = m->cap - 1;
	for (i = h & mask; m->slots[i].key && m->slots[i].key != TOMBSTONE;
	    i = (i + 1) & mask)
		;
	if (m->slots[i].key == NULL)
		m->used++;
	if ((m->slots[i].key = strdup(key)) == NULL)
		abort();
	m->slots[i].hash = h;
	m->slots[i].val = val;
	m->count++;
	return NULL;
}

void *
strmap_del(struct strmap *m, const char *key)
{
	struct slot *s = find(m, key, hash_str(key));
	void *val;

	if (s == NULL)
		return NULL;
	val = s->val;
	free(s->key);
	s->key = TOMBSTONE;
	s->val = NULL;
	m->count--;
	return val;
}

size_t
strmap_count(const struct strmap *m)
{
	return m->count;
}

int
strmap_next(const struct strmap *m, size_t *it, const char **key, void **val)
{
	for (; *it < m->cap; (*it)++) {
		struct slot *s = &m->slots[*it];

		if (s->key && s->key != TOMBSTONE) {
			if (key)
				*key = s->key;
			if (val)
				*val = s->val;
			(*it)++;
			return 1;
		}
	}
	return 0;
}

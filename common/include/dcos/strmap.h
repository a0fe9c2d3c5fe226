/*
 * strmap: a string-keyed hash map of pointers (open addressing, linear
 * probing, tombstones), for the in-memory indexes of the daemons: agents by
 * id, tasks by id, offers by id.
 *
 * Keys are copied; values are borrowed (the map never frees them).
 * Iteration visits every entry once; deleting the entry just visited (or
 * any other) during iteration is allowed, inserting is not.
 */
#ifndef DCOS_STRMAP_H
#define DCOS_STRMAP_H

#include <stddef.h>

struct strmap;

struct strmap *strmap_new(void);
/* Frees the map and its keys, not the values. */
void strmap_free(struct strmap *m);

void *strmap_get(const struct strmap *m, const char *key);
/* Inserts or replaces; returns the previous value or NULL. */
void *strmap_put(struct strmap *m, const char *key, void *val);
/* Removes; returns the removed value or NULL. */
void *strmap_del(struct strmap *m, const char *key);
size_t strmap_count(const struct strmap *m);

/* for (size_t it = 0; strmap_next(m, &it, &key, &val); ) { ... }
 * key points into the map (valid until the entry is deleted). */
int strmap_next(const struct strmap *m, size_t *it, const char **key,
    void **val);

#endif

/*
 * xalloc: allocation that cannot fail. The daemons keep small state and have
 * nothing sensible to do when malloc fails, so these abort instead of
 * returning NULL (which every caller would otherwise have to handle).
 */
#ifndef DCOS_XALLOC_H
#define DCOS_XALLOC_H

#include <stddef.h>

/* calloc/realloc; a zero count or size still returns a distinct pointer */
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t size);
/* strdup; NULL stays NULL */
char *xstrdup(const char *s);

#endif

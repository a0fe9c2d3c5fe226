/*
 * resources_int: helpers shared by the files of the resources module
 * (resources.c: the set and its arithmetic; resources_wire.c: the text and
 * JSON forms; attributes.c). Not part of the public API.
 */
#ifndef DCOS_RESOURCES_INT_H
#define DCOS_RESOURCES_INT_H

#include "dcos/resources.h"

/* The largest scalar either form takes (far past any machine, and small
 * enough that res_fixed() stays exact and finite). */
#define SCALAR_MAX 1e15

/* rounds to Mesos' fixed-point precision of 0.001 */
double res_fixed(double v);
void res_clear(struct resource *res);
void res_ranges_push(struct resource *res, uint64_t begin, uint64_t end);
/* sorts and coalesces */
void res_ranges_normalize(struct resource *res);
/* "[1-5,7-9]" or "[1-5, 7-9]" into res's ranges; 0 or -1. Bounds are plain
 * decimal numbers up to INT64_MAX. */
int res_ranges_parse(const char *s, struct resource *res);
void res_set_add(struct resource *res, const char *item);
/* adds one resource into the set (merging with its (name, role) entry) */
void res_add_one(struct resources *dst, const struct resource *src);

#endif

/*
 * resources: Mesos resources and attributes, shared by the master (allocator,
 * offers), the agent (--resources, detection) and the schedulers (offer
 * matching).
 *
 * Text form, as the agent's --resources flag takes it:
 *   "cpus:4;mem:8192;disk:1000;ports:[31000-32000,33000-33001];cpus(slave_public):2"
 * ("name(role):value"; a role-less entry takes the default role). A JSON
 * array of v1 Resource objects is accepted too.
 *
 * v1 JSON (scheduler API, offers):
 *   {"name":"ports","type":"RANGES","ranges":{"range":[{"begin":31000,"end":32000}]},
 *    "role":"*"}
 * Summary JSON (state endpoints): {"cpus":4.0,"gpus":0.0,"mem":8192.0,
 *   "disk":1000.0,"ports":"[31000-32000, 33000-33001]"}; cpus/gpus/mem/disk
 * always present.
 *
 * A set of resources keeps one entry per (name, role); scalars are kept at
 * Mesos' fixed-point precision of 0.001.
 */
#ifndef DCOS_RESOURCES_H
#define DCOS_RESOURCES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "dcos/json.h"

enum res_type { RES_SCALAR, RES_RANGES, RES_SET };

struct res_range {
	uint64_t begin, end; /* inclusive */
};

struct resource {
	char name[32];
	char role[64]; /* "*" when unreserved */
	enum res_type type;
	double scalar;
	struct res_range *ranges; /* sorted, coalesced */
	size_t nranges;
	char **items;             /* sorted, unique */
	size_t nitems;
};

struct resources {
	struct resource *v;
	size_t n;
};

void resources_init(struct resources *r);
void resources_free(struct resources *r);
void resources_copy(struct resources *dst, const struct resources *src);

/* Parses the text or JSON-array form. 0, or -1 with the problem in err. */
int resources_parse(const char *text, const char *default_role,
    struct resources *out, char *err, size_t errlen);

/* Parses a v1 JSON array of Resource (null = empty); problems are recorded
 * under path. 0 or -1. */
int resources_from_v1(const json_t *arr, const char *path,
    struct resources *out, struct json_errs *e);
/* New reference. alloc_role: when not NULL, each resource carries
 * "allocation_info":{"role":alloc_role} (offers to MULTI_ROLE frameworks). */
json_t *resources_to_v1(const struct resources *r, const char *alloc_role);
/* New reference; the summary object of the state endpoints. */
json_t *resources_summary(const struct resources *r);
/* role -> summary, for "reserved_resources" (unreserved ones skipped). */
json_t *resources_reserved_summary(const struct resources *r);

/* dst += src */
void resources_add(struct resources *dst, const struct resources *src);
/* dst -= src; -1 (dst unchanged) when dst does not contain src. */
int resources_subtract(struct resources *dst, const struct resources *src);
bool resources_contains(const struct resources *a, const struct resources *b);
bool resources_empty(const struct resources *r);
/* Sum of a scalar over all roles (0 when absent). */
double resources_scalar(const struct resources *r, const char *name);
/* The resources usable by role: unreserved ones plus those reserved to it. */
void resources_for_role(const struct resources *r, const char *role,
    struct resources *out);
/* Adds one scalar / one range / replaces nothing: building blocks. */
void resources_add_scalar(struct resources *r, const char *name,
    const char *role, double value);
void resources_add_range(struct resources *r, const char *name,
    const char *role, uint64_t begin, uint64_t end);
const struct resource *resources_find(const struct resources *r,
    const char *name, const char *role);

/* "[31000-31005, 31007-32000]" into buf; returns buf. */
const char *ranges_format(const struct res_range *v, size_t n, char *buf,
    size_t size);

/* Attributes: "rack:r1;zone:us-east-1a;level:10;ids:[1-5]". */
struct attribute {
	char name[64];
	enum { ATTR_TEXT, ATTR_SCALAR, ATTR_RANGES } type;
	char text[256];
	double scalar;
	struct res_range ranges[8];
	size_t nranges;
};

struct attributes {
	struct attribute *v;
	size_t n;
};

int attributes_parse(const char *text, struct attributes *out, char *err,
    size_t errlen);
void attributes_free(struct attributes *a);
/* {"rack":"r1","level":10.0,"ids":"[1-5]"} */
json_t *attributes_summary(const struct attributes *a);
/* [{"name":"rack","type":"TEXT","text":{"value":"r1"}}, ...] */
json_t *attributes_to_v1(const struct attributes *a);
/* The value as text (what constraints compare): "r1", "10", "[1-5]". */
const char *attribute_text(const struct attribute *at, char *buf, size_t size);
const struct attribute *attributes_find(const struct attributes *a,
    const char *name);

#endif

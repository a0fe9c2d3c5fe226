/*
 * offer: a Mesos v1 Offer (scheduler API, OFFERS event) as plain structs,
 * for the schedulers' offer matching: its ids, the agent's hostname and
 * address, fault domain, resources and attributes.
 *
 *   {"id":{"value":"...-O1"}, "framework_id":{...}, "agent_id":{...},
 *    "hostname":"a1", "url":{"scheme":"http","address":{"hostname":"a1",
 *    "ip":"10.0.0.1","port":5051},"path":"/slave(1)"},
 *    "domain":{"fault_domain":{"region":{"name":"r"},"zone":{"name":"z"}}},
 *    "resources":[Resource...], "attributes":[Attribute...],
 *    "allocation_info":{"role":"*"}}
 */
#ifndef DCOS_OFFER_H
#define DCOS_OFFER_H

#include <jansson.h>

#include "dcos/json.h"
#include "dcos/resources.h"

struct offer {
	char id[128];
	char agent_id[128];
	char framework_id[128];
	char hostname[256];
	char ip[64];        /* url.address.ip; "" when absent */
	int port;           /* url.address.port; 0 when absent */
	char region[128];   /* "" without a fault domain */
	char zone[128];
	char alloc_role[64]; /* allocation_info.role; "" when absent */
	struct resources res;
	struct attributes attrs;
};

/* Parses one v1 Offer; problems are recorded under path. 0, or -1 (out is
 * then empty). Free with offer_free. */
int offer_from_v1(const json_t *o, const char *path, struct offer *out,
    struct json_errs *e);
void offer_free(struct offer *o);

/* A v1 Attribute array ([{"name","type","text":{"value"}}|scalar|ranges])
 * into attributes. 0 or -1. */
int attributes_from_v1(const json_t *arr, const char *path,
    struct attributes *out, struct json_errs *e);

#endif

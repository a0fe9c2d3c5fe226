/*
 * config: the static ensemble. --master_list names every master (DC/OS's
 * master_discovery: static), as "10.0.0.1,10.0.0.2" or as the JSON array
 * DC/OS writes; --ip must be one of them. Members are kept sorted by
 * address, so every member agrees on which is the lowest (the one that
 * bootstraps a new cluster) and on each one's position.
 *
 * Node ids: the member that bootstraps a new cluster is id 1 (dqlite's
 * rule). Every other member's id is a hash of its "ip:port" address, so it
 * is the same on every start of that member and never 1.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "exhibitor.h"

/* dqlite bootstraps a node with this id too; never hand it out */
#define DQLITE_BOOTSTRAP_ID 0x2dc171858c3155beULL

uint64_t
config_node_id(const char *address)
{
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */

	for (const unsigned char *p = (const unsigned char *)address; *p; p++) {
		h ^= *p;
		h *= 0x100000001b3ULL;
	}
	h &= 0x7fffffffffffffffULL;
	if (h <= 1 || h == DQLITE_BOOTSTRAP_ID)
		h += 2;
	return h;
}

static int
add_member(struct exhibitor *ex, const char *text, char *err, size_t errlen)
{
	char ip[EX_IP_MAX];
	struct in_addr a;
	size_t len;

	while (*text == ' ' || *text == '\t')
		text++;
	len = strlen(text);
	while (len && (text[len - 1] == ' ' || text[len - 1] == '\t'))
		len--;
	if (len == 0 || len >= sizeof(ip)) {
		snprintf(err, errlen, "--master_list has an empty or overlong "
		    "entry");
		return -1;
	}
	memcpy(ip, text, len);
	ip[len] = '\0';
	if (inet_pton(AF_INET, ip, &a) != 1) {
		snprintf(err, errlen, "--master_list entry '%s' is not an IPv4 "
		    "address", ip);
		return -1;
	}
	for (size_t i = 0; i < ex->nmembers; i++)
		if (strcmp(ex->members[i].ip, ip) == 0) {
			snprintf(err, errlen, "--master_list names %s twice", ip);
			return -1;
		}
	if (ex->nmembers == EX_MAX_MEMBERS) {
		snprintf(err, errlen, "--master_list has more than %d masters",
		    EX_MAX_MEMBERS);
		return -1;
	}
	snprintf(ex->members[ex->nmembers].ip, EX_IP_MAX, "%s", ip);
	snprintf(ex->members[ex->nmembers].address, DQLITE_CLIENT_ADDR_MAX,
	    "%s:%d", ip, ex->f.client_port);
	ex->nmembers++;
	return 0;
}

static int
parse_list(struct exhibitor *ex, const char *list, char *err, size_t errlen)
{
	if (list[0] == '[') {
		json_error_t je;
		json_t *arr = json_loads(list, 0, &je), *v;
		size_t i;
		int rc = 0;

		if (!json_is_array(arr)) {
			snprintf(err, errlen, "--master_list is not a JSON array "
			    "of addresses: %s", arr ? "not an array" : je.text);
			json_decref(arr);
			return -1;
		}
		json_array_foreach(arr, i, v) {
			if (!json_is_string(v)) {
				snprintf(err, errlen, "--master_list entry %zu is "
				    "not a string", i + 1);
				rc = -1;
			} else if (rc == 0) {
				rc = add_member(ex, json_string_value(v), err, errlen);
			}
		}
		json_decref(arr);
		return rc;
	}
	char *copy = strdup(list), *rest, *tok;

	if ((rest = copy) == NULL)
		abort();
	while ((tok = strsep(&rest, ",")) != NULL) {
		if (add_member(ex, tok, err, errlen) == -1) {
			free(copy);
			return -1;
		}
	}
	free(copy);
	return 0;
}

static int
by_address(const void *a, const void *b)
{
	struct in_addr x, y;

	inet_pton(AF_INET, ((const struct ex_member *)a)->ip, &x);
	inet_pton(AF_INET, ((const struct ex_member *)b)->ip, &y);
	return ntohl(x.s_addr) < ntohl(y.s_addr) ? -1 :
	    ntohl(x.s_addr) > ntohl(y.s_addr);
}

int
config_load(struct exhibitor *ex, char *err, size_t errlen)
{
	struct in_addr a;
	const char *list = ex->f.master_list && ex->f.master_list[0] ?
	    ex->f.master_list : ex->f.ip;

	if (inet_pton(AF_INET, ex->f.ip, &a) != 1) {
		snprintf(err, errlen, "--ip '%s' is not an IPv4 address", ex->f.ip);
		return -1;
	}
	if (ex->f.client_port == 0 || ex->f.port == 0) {
		snprintf(err, errlen, "--port and --client_port cannot be 0");
		return -1;
	}
	if (ex->f.election_timeout < 0.1 || ex->f.election_timeout > 60) {
		snprintf(err, errlen, "--election_timeout must be between 100ms "
		    "and 60secs");
		return -1;
	}
	if (ex->f.check_interval < 0.1 || ex->f.check_interval > 60) {
		snprintf(err, errlen, "--check_interval must be between 100ms "
		    "and 60secs");
		return -1;
	}
	if (ex->f.data_dir[0] != '/') {
		snprintf(err, errlen, "--data_dir '%s' must be an absolute path",
		    ex->f.data_dir);
		return -1;
	}
	ex->nmembers = 0;
	if (parse_list(ex, list, err, errlen) == -1)
		return -1;
	if (ex->nmembers == 0) {
		snprintf(err, errlen, "--master_list names no masters");
		return -1;
	}
	qsort(ex->members, ex->nmembers, sizeof(ex->members[0]), by_address);
	for (ex->self = 0; ex->self < ex->nmembers; ex->self++)
		if (strcmp(ex->members[ex->self].ip, ex->f.ip) == 0)
			return 0;
	snprintf(err, errlen, "--ip %s is not in --master_list (%s): static "
	    "ensembles must include this master", ex->f.ip, list);
	return -1;
}

/* Exhibitor's "S:1:10.0.0.1,S:2:10.0.0.2" (positions, like ZooKeeper ids). */
const char *
config_servers_spec(const struct exhibitor *ex, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < ex->nmembers && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%sS:%zu:%s",
		    i ? "," : "", i + 1, ex->members[i].ip);
	return buf;
}

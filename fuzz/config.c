/*
 * fuzz/config: dcos-exhibitor's --master_list (the comma list or the JSON
 * array DC/OS writes into its config) through config_load, with --ip
 * taken from the input too.
 *
 * Properties: an error names the problem and loads no members; a loaded
 * ensemble has 1 to EX_MAX_MEMBERS distinct IPv4 members, sorted by
 * address, each "ip:client_port", with --ip among them at ex->self; node
 * ids are never 0, 1 or dqlite's bootstrap id; the servers spec lists
 * them in order.
 */
#include <arpa/inet.h>

#include "exhibitor.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = fz_init(data, size);
	static struct exhibitor ex;
	char *ip = fz_str(&f, 64), *list = fz_rest(&f, NULL), err[512] = "";
	char spec[1024];

	memset(&ex, 0, sizeof(ex));
	ex.f.ip = ip;
	ex.f.master_list = list;
	ex.f.data_dir = "/var/lib/dcos/exhibitor";
	ex.f.port = 8181;
	ex.f.client_port = 2181;
	ex.f.election_timeout = 1;
	ex.f.check_interval = 1;
	if (config_load(&ex, err, sizeof(err)) == -1) {
		FZ_CHECK(err[0] != '\0', "error without a message");
		goto out;
	}
	FZ_CHECK(ex.nmembers >= 1 && ex.nmembers <= EX_MAX_MEMBERS, "%zu members",
	    ex.nmembers);
	FZ_CHECK(ex.self < ex.nmembers && strcmp(ex.members[ex.self].ip, ip) == 0,
	    "--ip is not self");
	for (size_t i = 0; i < ex.nmembers; i++) {
		struct in_addr a, b;
		char want[DQLITE_CLIENT_ADDR_MAX];
		uint64_t id = config_node_id(ex.members[i].address);

		FZ_CHECK(inet_pton(AF_INET, ex.members[i].ip, &a) == 1, "ip");
		snprintf(want, sizeof(want), "%s:2181", ex.members[i].ip);
		FZ_CHECK(strcmp(want, ex.members[i].address) == 0, "address");
		FZ_CHECK(id > 1 && id != 0x2dc171858c3155beULL, "node id %llu",
		    (unsigned long long)id);
		if (i > 0) {
			inet_pton(AF_INET, ex.members[i - 1].ip, &b);
			FZ_CHECK(ntohl(b.s_addr) < ntohl(a.s_addr),
			    "members not sorted or not distinct");
		}
	}
	config_servers_spec(&ex, spec, sizeof(spec));
	FZ_CHECK(strstr(spec, ex.members[0].ip) == spec + 4, "spec %s", spec);
out:
	free(ip);
	free(list);
	return 0;
}

/*
 * config: the master's flags (Mesos names, each also read from MESOS_<NAME>)
 * and the checks that turn them into a consistent configuration: the role
 * whitelist and weights, addresses, and the timers' sanity.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dcos/flags.h"
#include "master.h"

const struct flags_spec *
config_spec(struct master_flags *f)
{
	static struct flag flags[32];
	static struct flags_spec spec;
	const struct flag table[] = {
		{ "ip", FLAG_STR, &f->ip, "127.0.0.1",
		  "address to listen on (HTTP, agent channel, event bus)" },
		{ "port", FLAG_PORT, &f->port, "5050", "HTTP port" },
		{ "advertise_ip", FLAG_STR, &f->advertise_ip, NULL,
		  "address advertised to agents and frameworks (default --ip)" },
		{ "hostname", FLAG_STR, &f->hostname, NULL,
		  "hostname advertised to others (default: the advertised ip)" },
		{ "cluster", FLAG_STR, &f->cluster, NULL,
		  "human readable name of the cluster" },
		{ "work_dir", FLAG_STR, &f->work_dir, "/var/lib/dcos/mesos/master",
		  "where the default sqlite store lives" },
		{ "store", FLAG_STR, &f->store, NULL,
		  "state store url: sqlite:PATH or dqlite://HOST:PORT,.../DB "
		  "(default sqlite:<work_dir>/registry.db)" },
		{ "quorum", FLAG_INT, &f->quorum, "1",
		  "masters needed for a quorum (informational: the store "
		  "replicates)" },
		{ "agent_port", FLAG_PORT, &f->agent_port, "5052",
		  "nng port of the agent channel (same on every master)" },
		{ "event_port", FLAG_PORT, &f->event_port, "5053",
		  "nng PUB port of the event bus" },
		{ "offer_timeout", FLAG_DURATION, &f->offer_timeout, "0",
		  "rescind offers not used within this time (0: never)" },
		{ "agent_ping_timeout", FLAG_DURATION, &f->agent_ping_timeout,
		  "15secs", "time to wait for a PONG before counting a miss" },
		{ "max_agent_ping_timeouts", FLAG_INT, &f->max_agent_ping_timeouts,
		  "5", "missed pings in a row that make an agent unreachable" },
		{ "agent_reregister_timeout", FLAG_DURATION,
		  &f->agent_reregister_timeout, "10mins",
		  "after a failover, agents that have not re-registered by then "
		  "are marked unreachable" },
		{ "registry_max_agent_age", FLAG_DURATION,
		  &f->registry_max_agent_age, "2weeks",
		  "unreachable agents are marked gone after this" },
		{ "allocation_interval", FLAG_DURATION, &f->allocation_interval,
		  "1secs", "period of full allocation passes (changes also "
		  "trigger one at once)" },
		{ "roles", FLAG_STR, &f->roles, NULL,
		  "comma-separated roles frameworks may use (default: any)" },
		{ "weights", FLAG_STR, &f->weights, NULL,
		  "role weights for DRF: role1=2,role2=3" },
		{ "max_completed_frameworks", FLAG_INT,
		  &f->max_completed_frameworks, "50",
		  "completed frameworks kept for the state endpoints" },
		{ "max_completed_tasks_per_framework", FLAG_INT,
		  &f->max_completed_tasks_per_framework, "1000",
		  "completed tasks kept per framework" },
		{ "heartbeat_interval", FLAG_DURATION, &f->heartbeat_interval,
		  "15secs", "HEARTBEAT period on scheduler and operator streams" },
		{ "lease_ttl", FLAG_DURATION, &f->lease_ttl, "10secs",
		  "leadership lease time to live (a dead leader is replaced "
		  "within about this)" },
		{ "log_level", FLAG_STR, &f->log_level, "info",
		  "error, warning, notice, info or debug" },
	};

	memcpy(flags, table, sizeof(table));
	spec.prog = "dcos-mesos-master";
	spec.summary = "Mesos master: agents, resources, offers, the v1 "
	    "scheduler and operator APIs";
	spec.env_prefix = "MESOS_";
	spec.flags = flags;
	spec.nflags = sizeof(table) / sizeof(table[0]);
	return &spec;
}

/* "a,b" contains role */
static int
list_has(const char *list, const char *item)
{
	size_t n = strlen(item);

	for (const char *p = list; p && *p;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len == n && strncmp(p, item, n) == 0)
			return 1;
		p = end ? end + 1 : NULL;
	}
	return 0;
}

int
config_role_allowed(const struct master *m, const char *role)
{
	if (role == NULL || role[0] == '\0')
		return 0;
	if (strcmp(role, "*") == 0 || m->f.roles == NULL || m->f.roles[0] == '\0')
		return 1;
	return list_has(m->f.roles, role);
}

double
config_role_weight(const struct master *m, const char *role)
{
	size_t n = strlen(role);

	for (const char *p = m->f.weights; p && *p;) {
		const char *eq = strchr(p, '='), *end = strchr(p, ',');

		if (eq && (end == NULL || eq < end) && (size_t)(eq - p) == n &&
		    strncmp(p, role, n) == 0)
			return atof(eq + 1);
		p = end ? end + 1 : NULL;
	}
	return 1.0;
}

int
config_check(struct master *m, char *err, size_t errlen)
{
	struct master_flags *f = &m->f;
	struct in_addr in;
	const char *adv = f->advertise_ip ? f->advertise_ip : f->ip;

	if (inet_pton(AF_INET, adv, &in) != 1) {
		snprintf(err, errlen, "--%s=%s is not an IPv4 address",
		    f->advertise_ip ? "advertise_ip" : "ip", adv);
		return -1;
	}
	if (strcmp(adv, "0.0.0.0") == 0) {
		snprintf(err, errlen, "--ip=0.0.0.0 needs --advertise_ip: agents "
		    "and frameworks must be told a reachable address");
		return -1;
	}
	m->ip_be = in.s_addr;
	if (f->agent_ping_timeout <= 0 || f->max_agent_ping_timeouts < 1) {
		snprintf(err, errlen, "--agent_ping_timeout must be positive and "
		    "--max_agent_ping_timeouts at least 1");
		return -1;
	}
	if (f->allocation_interval <= 0 || f->heartbeat_interval <= 0 ||
	    f->lease_ttl <= 0) {
		snprintf(err, errlen, "--allocation_interval, "
		    "--heartbeat_interval and --lease_ttl must be positive");
		return -1;
	}
	if (f->quorum < 1) {
		snprintf(err, errlen, "--quorum must be at least 1");
		return -1;
	}
	for (const char *p = f->weights; p && *p;) {
		const char *eq = strchr(p, '='), *end = strchr(p, ',');
		char *num_end;
		double w;

		if (eq == NULL || (end && eq > end) || eq == p) {
			snprintf(err, errlen, "--weights: expected role=weight in "
			    "'%s'", f->weights);
			return -1;
		}
		w = strtod(eq + 1, &num_end);
		if (num_end == eq + 1 || (*num_end && *num_end != ',') || w <= 0) {
			snprintf(err, errlen, "--weights: weight of '%.*s' must be "
			    "a positive number", (int)(eq - p), p);
			return -1;
		}
		p = end ? end + 1 : NULL;
	}
	snprintf(m->hostname, sizeof(m->hostname), "%s",
	    f->hostname ? f->hostname : adv);
	snprintf(m->pid, sizeof(m->pid), "master@%s:%d", adv, f->port);
	snprintf(m->address, sizeof(m->address), "%s:%d", m->hostname, f->port);
	return 0;
}

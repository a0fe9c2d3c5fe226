/*
 * config: the agent's flags (Mesos names, each also read from MESOS_<NAME>),
 * their validation, and what is derived from them at start: the advertised
 * address and hostname, the resources (from --resources or detected from
 * the host: cpus, memory minus a reserve, the work_dir's disk, the DC/OS
 * port ranges), attributes, the executor environment, and where the
 * executor binaries are.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "dcos/daemon.h"
#include "dcos/flags.h"
#include "dcos/log.h"

#include "agent.h"

/* DC/OS agents offer these ports (its default MESOS_RESOURCES) */
#define DCOS_PORTS "[1025-2180,2182-3887,3889-5049,5052-8079,8082-8180,8182-32000]"

void
config_spec(struct agent *a, struct flags_spec *spec)
{
	struct agent_flags *f = &a->f;
	const struct flag flags[] = {
		{ "master", FLAG_STR, &f->master, NULL, "the masters: "
		  "host:port[,host:port...] (their HTTP addresses) or "
		  "dqlite://host:port,.../db (find the leader through the store)" },
		{ "ip", FLAG_STR, &f->ip, "0.0.0.0", "address to listen on" },
		{ "port", FLAG_PORT, &f->port, "5051", "HTTP port" },
		{ "advertise_ip", FLAG_STR, &f->advertise_ip, NULL, "address "
		  "the master and executors reach this agent at (default: --ip, "
		  "or this host's address when --ip is 0.0.0.0)" },
		{ "hostname", FLAG_STR, &f->hostname, NULL, "hostname to "
		  "advertise (default: the advertised address, as DC/OS does)" },
		{ "work_dir", FLAG_STR, &f->work_dir, "/var/lib/mesos/slave",
		  "sandboxes and the checkpoint" },
		{ "resources", FLAG_STR, &f->resources, NULL, "total resources, "
		  "e.g. 'cpus:4;mem:8192;disk:10000;ports:[31000-32000]' or a "
		  "JSON array of v1 Resource (default: detected from the host)" },
		{ "attributes", FLAG_STR, &f->attributes, NULL,
		  "attributes, e.g. 'rack:r1;zone:us-east-1a'" },
		{ "default_role", FLAG_STR, &f->default_role, "*", "role of "
		  "resources without one (public agents: slave_public)" },
		{ "isolation", FLAG_STR, &f->isolation, "auto", "'auto' (cgroups "
		  "and a pid namespace where the host allows, else rlimits) or a "
		  "list of cgroups/cpu, cgroups/mem, namespaces/pid, "
		  "posix/rlimits, posix/cpu, posix/mem" },
		{ "cgroups_root", FLAG_STR, &f->cgroups_root, "mesos", "cgroup "
		  "(below the agent's own) that holds the containers" },
		{ "cgroups_enable_cfs", FLAG_BOOL, &f->cgroups_enable_cfs, "false",
		  "hard cpu limits (CFS quota) as well as shares" },
		{ "launcher_dir", FLAG_STR, &f->launcher_dir, NULL, "directory of "
		  "mesos-executor and mesos-containerizer (default: this binary's)" },
		{ "executor_environment_variables", FLAG_STR,
		  &f->executor_environment_variables, NULL, "JSON object of the "
		  "environment executors get (default: the agent's own)" },
		{ "executor_registration_timeout", FLAG_DURATION,
		  &f->executor_registration_timeout, "1mins",
		  "time for a new executor to subscribe" },
		{ "executor_reregistration_timeout", FLAG_DURATION,
		  &f->executor_reregistration_timeout, "2secs",
		  "time for recovered executors to subscribe again" },
		{ "executor_shutdown_grace_period", FLAG_DURATION,
		  &f->executor_shutdown_grace_period, "5secs",
		  "time an executor gets to shut down before it is killed" },
		{ "recovery_timeout", FLAG_DURATION, &f->recovery_timeout, "15mins",
		  "how long executors wait for a restarting agent" },
		{ "recover", FLAG_STR, &f->recover, "reconnect", "'reconnect' to "
		  "running executors after a restart, or 'cleanup' (kill them)" },
		{ "gc_delay", FLAG_DURATION, &f->gc_delay, "1weeks", "keep "
		  "finished sandboxes at most this long (less when the disk fills)" },
		{ "gc_disk_headroom", FLAG_DOUBLE, &f->gc_disk_headroom, "0.1",
		  "disk fraction to keep free when aging sandboxes" },
		{ "disk_watch_interval", FLAG_DURATION, &f->disk_watch_interval,
		  "1mins", "how often disk usage is checked for garbage collection" },
		{ "registration_backoff_factor", FLAG_DURATION,
		  &f->registration_backoff_factor, "1secs",
		  "first delay between registration attempts (doubling to 1min)" },
		{ "status_update_retry_interval", FLAG_DURATION,
		  &f->status_update_retry_interval, "10secs",
		  "resend unacknowledged status updates this often" },
		{ "switch_user", FLAG_BOOL, &f->switch_user, "true", "run tasks as "
		  "their user (CommandInfo.user or FrameworkInfo.user) when root" },
		{ "agent_channel_port", FLAG_PORT, &f->agent_channel_port, "5054",
		  "nng port for the master's requests" },
		{ "master_agent_port", FLAG_PORT, &f->master_agent_port, "5052",
		  "the masters' nng agent channel port" },
		{ "max_completed_executors_per_framework", FLAG_INT,
		  &f->max_completed_executors_per_framework, "150",
		  "completed executors kept per framework for /state" },
		{ "max_completed_frameworks", FLAG_INT, &f->max_completed_frameworks,
		  "50", "completed frameworks kept for /state" },
		{ "shutdown_executors_on_exit", FLAG_BOOL,
		  &f->shutdown_executors_on_exit, "false", "on SIGTERM, shut every "
		  "executor down before exiting (development clusters); by default "
		  "executors outlive the agent and are recovered" },
		{ "log_level", FLAG_STR, &f->log_level, "info",
		  "error, warning, notice, info or debug" },
	};
	static struct flag table[sizeof(flags) / sizeof(flags[0])];

	memcpy(table, flags, sizeof(flags));
	spec->prog = "dcos-mesos-slave";
	spec->summary = "Mesos agent: runs tasks in sandboxes for the master's "
	    "frameworks.";
	spec->env_prefix = "MESOS_";
	spec->flags = table;
	spec->nflags = sizeof(table) / sizeof(table[0]);
}

/* The first non-loopback IPv4 address, else 127.0.0.1. */
static void
host_address(char *buf, size_t size)
{
	struct ifaddrs *ifa, *i;

	snprintf(buf, size, "127.0.0.1");
	if (getifaddrs(&ifa) == -1)
		return;
	for (i = ifa; i; i = i->ifa_next) {
		struct sockaddr_in *sin = (struct sockaddr_in *)i->ifa_addr;

		if (sin == NULL || sin->sin_family != AF_INET ||
		    (ntohl(sin->sin_addr.s_addr) >> 24) == 127)
			continue;
		inet_ntop(AF_INET, &sin->sin_addr, buf, (socklen_t)size);
		break;
	}
	freeifaddrs(ifa);
}

int
config_detect_resources(const char *work_dir, const char *default_role,
    struct resources *out, char *err, size_t errlen)
{
	struct sysinfo si;
	struct statvfs vfs;
	double mem_mb, disk_mb, total;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	char text[512];

	if (sysinfo(&si) == -1 || statvfs(work_dir, &vfs) == -1) {
		snprintf(err, errlen, "cannot detect resources: %s",
		    strerror(errno));
		return -1;
	}
	/* as Mesos: leave 1 GB to the system (half of a small host) */
	total = (double)si.totalram * si.mem_unit / (1024.0 * 1024.0);
	mem_mb = total >= 2048 ? total - 1024 : total / 2;
	/* and 5 GB of disk (half of a small disk) */
	total = (double)vfs.f_blocks * vfs.f_frsize / (1024.0 * 1024.0);
	disk_mb = total >= 10240 ? total - 5120 : total / 2;
	snprintf(text, sizeof(text), "cpus:%ld;mem:%.0f;disk:%.0f;ports:%s",
	    cpus > 0 ? cpus : 1, mem_mb, disk_mb, DCOS_PORTS);
	return resources_parse(text, default_role, out, err, errlen);
}

/* As Mesos: cpus, mem, disk and ports not named in --resources are
 * detected from the host. */
int
config_fill_resources(const char *work_dir, const char *default_role,
    struct resources *r, char *err, size_t errlen)
{
	static const char *const names[] = { "cpus", "mem", "disk", "ports" };
	struct resources detected;

	resources_init(&detected);
	if (config_detect_resources(work_dir, default_role, &detected, err,
	    errlen) == -1)
		return -1;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		bool named = false;

		for (size_t k = 0; k < r->n; k++)
			if (strcmp(r->v[k].name, names[i]) == 0)
				named = true;
		if (named)
			continue;
		for (size_t k = 0; k < detected.n; k++)
			if (strcmp(detected.v[k].name, names[i]) == 0) {
				struct resources one = { .v = &detected.v[k], .n = 1 };

				resources_add(r, &one);
			}
	}
	resources_free(&detected);
	return 0;
}

static int
find_binaries(struct agent *a, char *err, size_t errlen)
{
	char self[PATH_MAX], dir[PATH_MAX];
	ssize_t n;

	if (a->f.launcher_dir) {
		snprintf(dir, sizeof(dir), "%s", a->f.launcher_dir);
	} else {
		if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) < 0) {
			snprintf(err, errlen, "cannot find my own binary: %s",
			    strerror(errno));
			return -1;
		}
		self[n] = '\0';
		snprintf(dir, sizeof(dir), "%s", self);
		*strrchr(dir, '/') = '\0';
	}
	if (snprintf(a->executor_bin, sizeof(a->executor_bin),
	    "%s/mesos-executor", dir) >= (int)sizeof(a->executor_bin) ||
	    snprintf(a->containerizer_bin, sizeof(a->containerizer_bin),
	    "%s/mesos-containerizer", dir) >= (int)sizeof(a->containerizer_bin) ||
	    access(a->executor_bin, X_OK) == -1 ||
	    access(a->containerizer_bin, X_OK) == -1) {
		snprintf(err, errlen, "mesos-executor, mesos-containerizer and "
		    "mesos-fetcher are not in %s (set --launcher_dir)", dir);
		return -1;
	}
	return 0;
}

int
config_setup(struct agent *a, char *err, size_t errlen)
{
	struct agent_flags *f = &a->f;
	char abs[PATH_MAX];

	if (f->master == NULL || f->master[0] == '\0') {
		snprintf(err, errlen, "--master is required (host:port of the "
		    "masters, or dqlite://...)");
		return -1;
	}
	if (strcmp(f->recover, "reconnect") != 0 &&
	    strcmp(f->recover, "cleanup") != 0) {
		snprintf(err, errlen, "--recover must be 'reconnect' or 'cleanup', "
		    "not '%s'", f->recover);
		return -1;
	}
	if (f->gc_disk_headroom < 0 || f->gc_disk_headroom > 1) {
		snprintf(err, errlen, "--gc_disk_headroom must be between 0 and 1");
		return -1;
	}
	if (daemon_mkdirs(f->work_dir, 0755, err, errlen) == -1)
		return -1;
	if (realpath(f->work_dir, abs) == NULL) {
		snprintf(err, errlen, "--work_dir %s: %s", f->work_dir,
		    strerror(errno));
		return -1;
	}
	f->work_dir = strdup(abs);
	if (f->advertise_ip)
		snprintf(a->ip, sizeof(a->ip), "%s", f->advertise_ip);
	else if (strcmp(f->ip, "0.0.0.0") == 0)
		host_address(a->ip, sizeof(a->ip));
	else
		snprintf(a->ip, sizeof(a->ip), "%s", f->ip);
	snprintf(a->hostname, sizeof(a->hostname), "%s",
	    f->hostname ? f->hostname : a->ip);
	snprintf(a->pid, sizeof(a->pid), "slave(1)@%s:%d", a->ip, f->port);
	snprintf(a->channel_url, sizeof(a->channel_url), "tcp://%s:%d", a->ip,
	    f->agent_channel_port);
	resources_init(&a->total);
	if (f->resources && f->resources[0]) {
		char perr[256];

		if (resources_parse(f->resources, f->default_role, &a->total, perr,
		    sizeof(perr)) == -1) {
			snprintf(err, errlen, "--resources: %s", perr);
			return -1;
		}
	}
	if (config_fill_resources(f->work_dir, f->default_role, &a->total, err,
	    errlen) == -1)
		return -1;
	if (f->attributes && f->attributes[0]) {
		char perr[256];

		if (attributes_parse(f->attributes, &a->attrs, perr,
		    sizeof(perr)) == -1) {
			snprintf(err, errlen, "--attributes: %s", perr);
			return -1;
		}
	}
	if (f->executor_environment_variables) {
		json_error_t jerr;

		a->exec_env = json_loads(f->executor_environment_variables, 0,
		    &jerr);
		if (!json_is_object(a->exec_env)) {
			snprintf(err, errlen, "--executor_environment_variables must "
			    "be a JSON object of strings");
			return -1;
		}
		{
			const char *k;
			json_t *v;

			json_object_foreach(a->exec_env, k, v)
				if (!json_is_string(v)) {
					snprintf(err, errlen, "--executor_environment_"
					    "variables: '%s' is not a string", k);
					return -1;
				}
		}
	}
	if (fs_boot_id(a->boot_id, sizeof(a->boot_id)) == -1)
		snprintf(a->boot_id, sizeof(a->boot_id), "unknown");
	return find_binaries(a, err, errlen);
}

/*
 * monitor: resource usage of running executors, /monitor/statistics (and
 * .json, /slave(1)/...) in the reference's shape, /slave(1)/containers,
 * and the agent's /metrics/snapshot ("slave/..." keys). Usage comes from
 * the container's cgroups when it has them, else from /proc for the
 * processes of the task sessions the executor recorded.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "dcos/http_server.h"
#include "dcos/json.h"

#include "agent.h"

struct usage {
	double user, system;
	uint64_t rss;
	int processes;
};

/* The sessions (= process groups) of the executor's tasks. */
static int
task_sessions(const struct executor *ex, long *sids, int max)
{
	char dir[PATH_MAX];
	DIR *d;
	struct dirent *de;
	int n = 0;

	if (ex->meta == NULL || snprintf(dir, sizeof(dir), "%s", ex->meta) >=
	    (int)sizeof(dir) || (d = opendir(dir)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL && n < max) {
		char f[PATH_MAX + 300], *text;
		long pid, pgid;
		size_t nl = strlen(de->d_name);

		if (strncmp(de->d_name, "task.", 5) != 0 || nl < 4 ||
		    strcmp(de->d_name + nl - 4, ".pid") != 0)
			continue;
		snprintf(f, sizeof(f), "%s/%s", dir, de->d_name);
		if ((text = fs_read_text(f, NULL)) == NULL)
			continue;
		if (sscanf(text, "%ld %ld", &pid, &pgid) == 2)
			sids[n++] = pgid;
		free(text);
	}
	closedir(d);
	return n;
}

/* Sums utime, stime and rss of the processes in these sessions. */
static void
proc_usage(const long *sids, int nsids, struct usage *u)
{
	long hz = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
	DIR *d = opendir("/proc");
	struct dirent *de;

	memset(u, 0, sizeof(*u));
	if (d == NULL || nsids == 0) {
		if (d)
			closedir(d);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		char f[300], *text, *p;
		long sid = 0, rss = 0;
		unsigned long ut = 0, st = 0;
		bool ours = false;

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(f, sizeof(f), "/proc/%s/stat", de->d_name);
		if ((text = fs_read_text(f, NULL)) == NULL)
			continue;
		/* after "(comm)": state ppid pgrp session ... utime(14) stime(15)
		 * ... rss(24) */
		if ((p = strrchr(text, ')')) != NULL &&
		    sscanf(p + 2, "%*c %*d %*d %ld %*d %*d %*u %*u %*u %*u %*u "
		    "%lu %lu %*d %*d %*d %*d %*d %*d %*u %*u %ld", &sid, &ut, &st,
		    &rss) == 4) {
			for (int i = 0; i < nsids; i++)
				if (sids[i] == sid)
					ours = true;
			if (ours) {
				u->user += (double)ut / (double)hz;
				u->system += (double)st / (double)hz;
				u->rss += (uint64_t)rss * (uint64_t)page;
				u->processes++;
			}
		}
		free(text);
	}
	closedir(d);
}

static json_t *
statistics(const struct executor *ex)
{
	struct resources total;
	const struct task *t;
	struct cg_config cg;
	struct cg_stats s;
	json_t *o;

	resources_init(&total);
	resources_copy(&total, &ex->res);
	TAILQ_FOREACH(t, &ex->launched, link)
		resources_add(&total, &t->res);
	TAILQ_FOREACH(t, &ex->queued, link)
		resources_add(&total, &t->res);
	o = json_pack("{s:f, s:f, s:I}", "timestamp", mesos_now(), "cpus_limit",
	    resources_scalar(&total, "cpus"), "mem_limit_bytes",
	    (json_int_t)(resources_scalar(&total, "mem") * 1024 * 1024));
	if (resources_scalar(&total, "disk") > 0)
		json_object_set_new(o, "disk_limit_bytes", json_integer(
		    (json_int_t)(resources_scalar(&total, "disk") * 1024 * 1024)));
	resources_free(&total);
	container_cg(ex->container, &cg);
	if (cg.version != CG_NONE && cg_stats(&cg, ex->container_id, &s) == 0) {
		json_object_set_new(o, "cpus_user_time_secs",
		    json_real(s.cpus_user_secs));
		json_object_set_new(o, "cpus_system_time_secs",
		    json_real(s.cpus_system_secs));
		json_object_set_new(o, "cpus_nr_periods",
		    json_integer((json_int_t)s.cpus_nr_periods));
		json_object_set_new(o, "cpus_nr_throttled",
		    json_integer((json_int_t)s.cpus_nr_throttled));
		json_object_set_new(o, "cpus_throttled_time_secs",
		    json_real(s.cpus_throttled_secs));
		json_object_set_new(o, "mem_total_bytes",
		    json_integer((json_int_t)s.mem_usage));
		json_object_set_new(o, "mem_rss_bytes",
		    json_integer((json_int_t)s.mem_rss));
		json_object_set_new(o, "mem_anon_bytes",
		    json_integer((json_int_t)s.mem_anon));
		json_object_set_new(o, "mem_file_bytes",
		    json_integer((json_int_t)s.mem_file));
		json_object_set_new(o, "mem_cache_bytes",
		    json_integer((json_int_t)s.mem_cache));
		json_object_set_new(o, "mem_mapped_file_bytes",
		    json_integer((json_int_t)s.mem_mapped_file));
		json_object_set_new(o, "mem_max_usage_bytes",
		    json_integer((json_int_t)s.mem_max_usage));
	} else {
		long sids[64];
		struct usage u;

		proc_usage(sids, task_sessions(ex, sids, 64), &u);
		json_object_set_new(o, "cpus_user_time_secs", json_real(u.user));
		json_object_set_new(o, "cpus_system_time_secs",
		    json_real(u.system));
		json_object_set_new(o, "mem_rss_bytes",
		    json_integer((json_int_t)u.rss));
		json_object_set_new(o, "processes", json_integer(u.processes));
	}
	if (ex->directory)
		json_object_set_new(o, "disk_used_bytes",
		    json_integer((json_int_t)fs_du(ex->directory)));
	return o;
}

/* one JSON entry per executor that has not terminated */
static json_t *
live_executors(struct agent *a, json_t *(*entry)(const struct framework *,
    const struct executor *))
{
	json_t *out = json_array();
	struct framework *fw;
	struct executor *ex;

	TAILQ_FOREACH(fw, &a->frameworks, link)
		TAILQ_FOREACH(ex, &fw->executors, link)
			if (ex->state != EXEC_TERMINATED)
				json_array_append_new(out, entry(fw, ex));
	return out;
}

static json_t *
statistics_entry(const struct framework *fw, const struct executor *ex)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:o}", "executor_id", ex->id,
	    "executor_name", json_str_or(ex->info, "name", ""), "framework_id",
	    fw->id, "source", json_str_or(ex->info, "source", ""),
	    "statistics", statistics(ex));
}

static json_t *
container_entry(const struct framework *fw, const struct executor *ex)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:{s:i}, s:o}",
	    "container_id", ex->container_id, "executor_id", ex->id,
	    "executor_name", json_str_or(ex->info, "name", ""), "framework_id",
	    fw->id, "source", json_str_or(ex->info, "source", ""), "status",
	    "executor_pid", (int)ex->pid, "statistics", statistics(ex));
}

static void
h_statistics(struct http_req *req, void *arg)
{
	http_reply_json(req, 200, live_executors(arg, statistics_entry));
}

static void
h_containers(struct http_req *req, void *arg)
{
	http_reply_json(req, 200, live_executors(arg, container_entry));
}

static void
count_tasks(const struct agent *a, json_t *m, struct resources *used)
{
	static const char *const states[] = { "staging", "starting", "running",
		"killing" };
	double n[4] = { 0 };
	double ex_running = 0, ex_registering = 0, ex_terminating = 0;
	const struct framework *fw;
	const struct executor *ex;
	const struct task *t;

	TAILQ_FOREACH(fw, &a->frameworks, link)
		TAILQ_FOREACH(ex, &fw->executors, link) {
			if (ex->state == EXEC_LAUNCHING)
				ex_registering++;
			else if (ex->state == EXEC_RUNNING)
				ex_running++;
			else if (ex->state == EXEC_TERMINATING)
				ex_terminating++;
			TAILQ_FOREACH(t, &ex->queued, link) {
				n[0]++;
				resources_add(used, &t->res);
			}
			TAILQ_FOREACH(t, &ex->launched, link) {
				const char *s = t->state + 5;

				for (int i = 0; i < 4; i++)
					if (strcasecmp(s, states[i]) == 0)
						n[i]++;
				resources_add(used, &t->res);
			}
		}
	for (int i = 0; i < 4; i++) {
		char k[64];

		snprintf(k, sizeof(k), "slave/tasks_%s", states[i]);
		json_object_set_new(m, k, json_real(n[i]));
	}
	json_object_set_new(m, "slave/executors_registering",
	    json_real(ex_registering));
	json_object_set_new(m, "slave/executors_running", json_real(ex_running));
	json_object_set_new(m, "slave/executors_terminating",
	    json_real(ex_terminating));
}

static void
h_metrics(struct http_req *req, void *arg)
{
	struct agent *a = arg;
	json_t *m = json_object();
	struct resources used;
	const char *names[] = { "cpus", "mem", "disk", "gpus" };
	size_t nfw = 0;
	const struct framework *fw;

	resources_init(&used);
	count_tasks(a, m, &used);
	TAILQ_FOREACH(fw, &a->frameworks, link)
		nfw++;
	for (int i = 0; i < 4; i++) {
		char k[64];
		double total = resources_scalar(&a->total, names[i]);
		double u = resources_scalar(&used, names[i]);

		snprintf(k, sizeof(k), "slave/%s_total", names[i]);
		json_object_set_new(m, k, json_real(total));
		snprintf(k, sizeof(k), "slave/%s_used", names[i]);
		json_object_set_new(m, k, json_real(u));
		snprintf(k, sizeof(k), "slave/%s_percent", names[i]);
		json_object_set_new(m, k, json_real(total > 0 ? u / total : 0));
	}
	resources_free(&used);
	json_object_set_new(m, "slave/registered",
	    json_real(a->state == AGENT_RUNNING ? 1 : 0));
	json_object_set_new(m, "slave/uptime_secs",
	    json_real(mesos_now() - a->start_time));
	json_object_set_new(m, "slave/frameworks_active", json_real((double)nfw));
	json_object_set_new(m, "slave/tasks_finished",
	    json_real((double)a->metrics.tasks_finished));
	json_object_set_new(m, "slave/tasks_failed",
	    json_real((double)a->metrics.tasks_failed));
	json_object_set_new(m, "slave/tasks_killed",
	    json_real((double)a->metrics.tasks_killed));
	json_object_set_new(m, "slave/tasks_lost",
	    json_real((double)a->metrics.tasks_lost));
	json_object_set_new(m, "slave/valid_status_updates",
	    json_real((double)a->metrics.valid_updates));
	json_object_set_new(m, "slave/invalid_status_updates",
	    json_real((double)a->metrics.invalid_updates));
	json_object_set_new(m, "slave/container_launch_errors",
	    json_real((double)a->metrics.launch_errors));
	json_object_set_new(m, "slave/registrations",
	    json_real((double)a->metrics.registrations));
	json_object_set_new(m, "gc/path_removals_succeeded",
	    json_real((double)a->metrics.gc_ok));
	json_object_set_new(m, "gc/path_removals_failed",
	    json_real((double)a->metrics.gc_failed));
	{
		size_t pending = 0;
		struct gc_entry *e;

		TAILQ_FOREACH(e, &a->gc, link)
			pending++;
		json_object_set_new(m, "gc/path_removals_pending",
		    json_real((double)pending));
	}
	http_reply_json(req, 200, m);
}

void
monitor_routes(struct agent *a)
{
	const char *stats[] = { "/monitor/statistics", "/monitor/statistics.json",
		"/slave(1)/monitor/statistics",
		"/slave(1)/monitor/statistics.json" };

	for (size_t i = 0; i < 4; i++)
		http_server_route(a->http, "GET", stats[i], h_statistics, a);
	http_server_route(a->http, "GET", "/containers", h_containers, a);
	http_server_route(a->http, "GET", "/slave(1)/containers", h_containers,
	    a);
	http_server_route(a->http, "GET", "/metrics/snapshot", h_metrics, a);
}

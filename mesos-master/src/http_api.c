/*
 * http_api: the master's HTTP port (5050): the route table, and the small
 * endpoints every master serves whether it leads or not: /health and
 * /master/health (200, empty), /version, /master/redirect (307 to the
 * leader), /metrics/snapshot, /master/flags. The large endpoints live in
 * state_json.c, operator_api.c and sched_http.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>

#include "dcos/flags.h"
#include "dcos/http_server.h"
#include "dcos/strmap.h"
#include "master.h"

json_t *metrics_snapshot(struct master *m);

static void
h_health(struct http_req *req, void *arg)
{
	http_reply_empty(req, 200);
}

static void
h_version(struct http_req *req, void *arg)
{
	http_reply_json(req, 200, json_pack("{s:s, s:s, s:f, s:s, s:s}",
	    "version", DCOS_MESOS_VERSION, "build_date", __DATE__ " " __TIME__,
	    "build_time", 0.0, "build_user", "dcos-c", "dcos_c_version",
	    DCOS_VERSION));
}

static void
h_redirect(struct http_req *req, void *arg)
{
	struct master *m = arg;
	const char *leader = leader_address(m);
	char loc[1024];

	if (leader == NULL || m->role == ROLE_RECOVERING) {
		http_reply_error(req, 503, "No leading master is elected");
		return;
	}
	snprintf(loc, sizeof(loc), "//%s", leader);
	http_req_add_header(req, "Location", loc);
	http_reply_empty(req, 307);
}

static void
h_redirect_loop(struct http_req *req, void *arg)
{
	http_reply_error(req, 404, "no such endpoint: %s", http_req_path(req));
}

static void
h_flags(struct http_req *req, void *arg)
{
	struct master *m = arg;

	http_reply_json(req, 200, json_pack("{s:o}", "flags",
	    flags_to_json(m->spec)));
}

static void
add(json_t *o, const char *k, double v)
{
	json_object_set_new(o, k, json_real(v));
}

json_t *
metrics_snapshot(struct master *m)
{
	json_t *o = json_object();
	struct master_metrics *mt = &m->metrics;
	double cpus_total = 0, cpus_used = 0, mem_total = 0, mem_used = 0;
	double disk_total = 0, disk_used = 0;
	int active = 0, unreachable = 0, fw_active = 0, fw_inactive = 0;
	int fw_conn = 0, fw_disconn = 0;
	struct sysinfo si;
	size_t tasks[TASK_STATE_MAX] = { 0 };
	void *v, *tv;
	static const char *const names[TASK_STATE_MAX] = {
		"staging", "starting", "running", "killing", "finished", "failed",
		"killed", "error", "lost", "dropped", "unreachable", "gone",
		"gone_by_operator", "unknown" };

	for (size_t it = 0; strmap_next(m->agents, &it, NULL, &v);) {
		struct agent *a = v;

		if (a->state != AGENT_ACTIVE) {
			unreachable += a->state == AGENT_UNREACHABLE;
			continue;
		}
		active++;
		cpus_total += resources_scalar(&a->total, "cpus");
		mem_total += resources_scalar(&a->total, "mem");
		disk_total += resources_scalar(&a->total, "disk");
		cpus_used += resources_scalar(&a->used, "cpus");
		mem_used += resources_scalar(&a->used, "mem");
		disk_used += resources_scalar(&a->used, "disk");
	}
	for (size_t it = 0; strmap_next(m->frameworks, &it, NULL, &v);) {
		struct framework *fw = v;

		fw->active ? fw_active++ : fw_inactive++;
		fw->connected ? fw_conn++ : fw_disconn++;
		for (size_t k = 0; strmap_next(fw->tasks, &k, NULL, &tv);) {
			struct task *t = tv;

			tasks[t->unreachable ? TASK_UNREACHABLE : t->state]++;
		}
	}
	add(o, "master/elected", m->role == ROLE_LEADER);
	add(o, "master/uptime_secs", clock_wall() - m->start_time);
	add(o, "master/cpus_total", cpus_total);
	add(o, "master/cpus_used", cpus_used);
	add(o, "master/cpus_percent", cpus_total > 0 ? cpus_used / cpus_total : 0);
	add(o, "master/mem_total", mem_total);
	add(o, "master/mem_used", mem_used);
	add(o, "master/mem_percent", mem_total > 0 ? mem_used / mem_total : 0);
	add(o, "master/disk_total", disk_total);
	add(o, "master/disk_used", disk_used);
	add(o, "master/disk_percent", disk_total > 0 ? disk_used / disk_total : 0);
	add(o, "master/gpus_total", 0);
	add(o, "master/gpus_used", 0);
	add(o, "master/gpus_percent", 0);
	add(o, "master/slaves_active", active);
	add(o, "master/slaves_inactive", 0);
	add(o, "master/slaves_connected", active);
	add(o, "master/slaves_disconnected", unreachable);
	add(o, "master/slaves_unreachable", unreachable);
	add(o, "master/slave_registrations", (double)mt->agent_registrations);
	add(o, "master/slave_reregistrations", (double)mt->agent_reregistrations);
	add(o, "master/slave_removals", (double)mt->agent_removals);
	add(o, "master/slave_unreachable_completed",
	    (double)mt->agents_unreachable_completed);
	add(o, "master/frameworks_active", fw_active);
	add(o, "master/frameworks_inactive", fw_inactive);
	add(o, "master/frameworks_connected", fw_conn);
	add(o, "master/frameworks_disconnected", fw_disconn);
	add(o, "master/outstanding_offers", (double)strmap_count(m->offers));
	for (int s = 0; s < TASK_STATE_MAX; s++) {
		char key[64];

		snprintf(key, sizeof(key), "master/tasks_%s", names[s]);
		/* current counts for live states, totals for terminal ones */
		add(o, key, task_state_terminal((enum task_state)s) ?
		    (double)mt->tasks_by_state[s] : (double)tasks[s]);
	}
	add(o, "master/valid_status_updates", (double)mt->valid_status_updates);
	add(o, "master/invalid_status_updates",
	    (double)mt->invalid_status_updates);
	add(o, "master/dropped_messages", (double)mt->dropped_messages);
	add(o, "master/messages_launch_tasks", (double)mt->tasks_launched);
	add(o, "master/messages_decline_offers", (double)mt->offers_declined);
	add(o, "master/messages_scheduler_calls",
	    (double)mt->messages_scheduler_calls);
	add(o, "master/messages_agent", (double)mt->messages_agent);
	add(o, "master/offers_sent", (double)mt->offers_sent);
	add(o, "master/offers_rescinded", (double)mt->offers_rescinded);
	add(o, "master/event_queue_messages", 0);
	add(o, "master/event_queue_dispatches", 0);
	add(o, "master/event_queue_http_requests", 0);
	add(o, "allocator/mesos/allocation_runs", (double)mt->allocation_runs);
	add(o, "allocator/mesos/allocation_run_ms", mt->allocation_run_ms);
	add(o, "allocator/mesos/resources/cpus/total", cpus_total);
	add(o, "allocator/mesos/resources/mem/total", mem_total);
	add(o, "allocator/mesos/resources/disk/total", disk_total);
	if (sysinfo(&si) == 0) {
		add(o, "system/cpus_total", get_nprocs());
		add(o, "system/mem_total_bytes", (double)si.totalram * si.mem_unit);
		add(o, "system/mem_free_bytes", (double)si.freeram * si.mem_unit);
		add(o, "system/load_1min", si.loads[0] / 65536.0);
		add(o, "system/load_5min", si.loads[1] / 65536.0);
		add(o, "system/load_15min", si.loads[2] / 65536.0);
	}
	add(o, "registrar/log/recovered", m->role == ROLE_LEADER);
	return o;
}

static void
h_metrics(struct http_req *req, void *arg)
{
	http_reply_json(req, 200, metrics_snapshot(arg));
}

static void
h_teardown(struct http_req *req, void *arg)
{
	struct master *m = arg;
	const char *body, *p;
	char id[MASTER_MAX_ID] = "";
	struct framework *fw;

	if (leader_guard_http(m, req) == -1)
		return;
	body = http_req_body(req, NULL);
	if ((p = strstr(body, "frameworkId=")) != NULL)
		sscanf(p + 12, "%255[^&\r\n ]", id);
	else if (http_req_query(req, "frameworkId"))
		snprintf(id, sizeof(id), "%s", http_req_query(req, "frameworkId"));
	if (id[0] == '\0') {
		http_reply_error(req, 400, "Missing 'frameworkId' parameter");
		return;
	}
	if ((fw = framework_find(m, id)) == NULL) {
		http_reply_error(req, 400, "No framework found with specified ID");
		return;
	}
	framework_remove(m, fw, "an operator asked for /master/teardown");
	http_reply_empty(req, 200);
}

int
http_api_listen(struct master *m, char *err, size_t errlen)
{
	struct http_server_opts o = { .max_body = 16 << 20 };
	struct http_server *srv = http_server_new(m->base, &o);

	m->http = srv;
	http_server_route(srv, "GET", "/health", h_health, m);
	http_server_route(srv, "GET", "/master/health", h_health, m);
	http_server_route(srv, "GET", "/version", h_version, m);
	http_server_route(srv, "GET", "/master/redirect", h_redirect, m);
	http_server_route(srv, "GET", "/master/redirect/{rest*}",
	    h_redirect_loop, m);
	http_server_route(srv, "GET", "/metrics/snapshot", h_metrics, m);
	http_server_route(srv, "GET", "/master/flags", h_flags, m);
	http_server_route(srv, "GET", "/flags", h_flags, m);
	http_server_route(srv, "POST", "/master/teardown", h_teardown, m);
	http_server_route(srv, "POST", "/teardown", h_teardown, m);
	state_route(m, srv);
	sched_http_route(m, srv);
	operator_route(m, srv);
	return http_server_listen(srv, m->f.ip, m->f.port, err, errlen);
}

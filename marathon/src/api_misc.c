/*
 * api_misc: the smaller endpoints: /v2/deployments (list, rollback,
 * cancel), /v2/queue (+ delay reset), /v2/info, /v2/leader (GET answered
 * by every node, DELETE abdicates), /v2/events, /ping and /metrics.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dcos/flags.h"
#include "dcos/http_server.h"
#include "dcos/lease.h"
#include "dcos/log.h"

#include "marathon.h"

static void
list_deployments(struct marathon *m, struct http_req *req)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < m->st->ndeps; i++) {
		json_t *d = deployment_to_json(m->st->deps[i]), *act;
		size_t k;

		json_array_foreach(json_object_get(d, "currentActions"), k, act)
			json_object_set_new(act, "readinessCheckResults",
			    api_readiness(m, json_str_or(act, "app", "")));
		json_array_append_new(arr, d);
	}
	http_reply_json(req, 200, arr);
}

static void
delete_deployment(struct marathon *m, struct http_req *req)
{
	struct deployment *d = state_deployment(m->st, http_req_param(req,
	    "id"));
	char version[VERSION_LEN];
	struct change_opts o = { .version = version, .force = true,
		.reverts = true };
	struct root *target;

	if (d == NULL) {
		http_reply_error(req, 404, "DeploymentPlan %s does not exist",
		    http_req_param(req, "id"));
		return;
	}
	if (api_flag(req, "force", false)) {
		change_cancel(m, req, d);
		return;
	}
	/* roll back: the affected apps return to their original definitions */
	util_version_next(version);
	target = root_copy(m->st->root);
	for (size_t k = 0; k < d->naffected; k++) {
		if (d->orig[k])
			root_put_app(target, app_ref(d->orig[k]));
		else
			root_del_app(target, d->affected[k]);
	}
	for (size_t k = 0; k < d->naffected_pods; k++) {
		if (d->orig_pods[k]) {
			d->orig_pods[k]->refs++;
			root_put_pod(target, d->orig_pods[k]);
		} else {
			root_del_pod(target, d->affected_pods[k]);
		}
	}
	change_submit(m, req, target, &o);
}

/* a pod in the queue: its definition */
static json_t *
queue_pod(struct marathon *m, const struct app_rt *rt)
{
	const struct pod *p = root_pod(m->st->root, rt->id);

	return p ? json_incref(p->def) : json_pack("{s:s}", "id", rt->id);
}

static json_t *
queue_entry(struct marathon *m, struct app_rt *rt)
{
	double left = rt->delay_until - clock_mono();
	char ts[VERSION_LEN];
	json_t *summary, *reasons = json_array();
	static const char *const names[REJECT_COUNT] = {
		[REJECT_ROLE] = "UnfulfilledRole",
		[REJECT_CONSTRAINT] = "UnfulfilledConstraint",
		[REJECT_CPUS] = "InsufficientCpus",
		[REJECT_MEM] = "InsufficientMemory",
		[REJECT_DISK] = "InsufficientDisk",
		[REJECT_GPUS] = "InsufficientGpus",
		[REJECT_PORTS] = "InsufficientPorts",
	};

	for (int k = 0; k < REJECT_COUNT; k++)
		json_array_append_new(reasons, json_pack("{s:s, s:I, s:I}",
		    "reason", names[k], "declined", (json_int_t)rt->offers.reject[k],
		    "processed", (json_int_t)rt->offers.processed));
	summary = json_pack("{s:I, s:I, s:o, s:[]}", "processedOffersCount",
	    (json_int_t)rt->offers.processed, "unusedOffersCount",
	    (json_int_t)rt->offers.unused, "rejectSummaryLastOffers", reasons,
	    "rejectSummaryLaunchAttempt");
	if (rt->offers.last_unused_at)
		json_object_set_new(summary, "lastUnusedOfferAt",
		    json_string(util_iso8601(rt->offers.last_unused_at, ts)));
	if (rt->offers.last_used_at)
		json_object_set_new(summary, "lastUsedOfferAt",
		    json_string(util_iso8601(rt->offers.last_used_at, ts)));
	return json_pack("{s:o, s:i, s:{s:I, s:b}, s:s, s:o}",
	    rt->app->pod ? "pod" : "app", rt->app->pod ? queue_pod(m, rt) :
	    api_app_json(m, rt->app, 0), "count", rt->to_launch,
	    "delay", "timeLeftSeconds", (json_int_t)(left > 0 ? left + 0.999 : 0),
	    "overdue", left <= 0, "since", util_iso8601(rt->queued_since ?
	    rt->queued_since : clock_wall(), ts), "processedOffersSummary", summary);
}

static void
get_queue(struct marathon *m, struct http_req *req)
{
	json_t *q = json_array();
	size_t it = 0;
	void *v;

	while (strmap_next(m->st->apps, &it, NULL, &v)) {
		struct app_rt *rt = v;

		if (rt->app && !rt->removed && rt->to_launch > 0)
			json_array_append_new(q, queue_entry(m, rt));
	}
	http_reply_json(req, 200, json_pack("{s:o}", "queue", q));
}

static void
reset_delay(struct marathon *m, struct http_req *req)
{
	char id[PATHID_MAX];
	struct app_rt *rt;

	if (!api_path_id(req, "id", false, id, sizeof(id)))
		return;
	rt = state_rt(m->st, id, false);
	if (rt == NULL || rt->app == NULL || rt->removed) {
		api_app_missing(req, id);
		return;
	}
	rt->backoff = 0;
	rt->delay_until = 0;
	mesos_revive(m->st->mesos);
	engine_kick(m);
	http_reply_empty(req, 204);
}

static void
get_info(struct marathon *m, struct http_req *req)
{
	const char *leader = leader_address(m);
	json_t *flags = flags_to_json(m->spec);

	http_reply_json(req, 200, json_pack("{s:s, s:s, s:s, s:b, s:s?, s:s?, "
	    "s:{s:s, s:s, s:s, s:s, s:b, s:b, s:f, s:I, s:s, s:s, s:I, s:I, "
	    "s:I, s:I, s:[], s:s, s:s}, s:{s:s, s:I, s:I, s:I, s:I}, "
	    "s:{s:i, s:i}, s:o}",
	    "name", "marathon", "version", "1.6.590-dcos-c-" DCOS_VERSION,
	    "buildref", "dcos-c", "elected", m->st != NULL,
	    "leader", leader, "frameworkId", m->st && m->st->framework_id[0] ?
	    m->st->framework_id : NULL,
	    "marathon_config",
	    "master", m->f.master, "mesos_role", m->f.mesos_role,
	    "mesos_user", m->f.mesos_user, "hostname", m->f.hostname,
	    "ha", 1, "checkpoint", 1, "failover_timeout", m->f.failover_timeout,
	    "decline_offer_duration", (json_int_t)(m->f.decline_offer_duration *
	    1000), "env_vars_prefix", m->f.env_vars_prefix, "executor", "//cmd",
	    "local_port_min", (json_int_t)m->f.local_port_min,
	    "local_port_max", (json_int_t)m->f.local_port_max,
	    "task_launch_timeout", (json_int_t)(m->f.task_launch_timeout * 1000),
	    "max_instances_per_offer", (json_int_t)m->f.max_instances_per_offer,
	    "features", "framework_name", m->f.framework_name,
	    "webui_url", m->f.webui_url,
	    "zookeeper_config", "zk", m->f.store,
	    "zk_timeout", (json_int_t)10000, "zk_session_timeout",
	    (json_int_t)(m->f.lease_ttl * 1000), "zk_max_versions",
	    (json_int_t)m->f.max_versions, "zk_max_node_size",
	    (json_int_t)1024000,
	    "http_config", "http_port", m->f.http_port, "https_port", 8443,
	    "flags", flags));
}

static void
get_leader(struct marathon *m, struct http_req *req)
{
	const char *leader = leader_address(m);

	if (leader == NULL) {
		http_reply_error(req, 404, "There is no leader");
		return;
	}
	http_reply_json(req, 200, json_pack("{s:s}", "leader", leader));
}

static void
delete_leader(struct marathon *m, struct http_req *req)
{
	http_reply_json(req, 200, json_pack("{s:s}", "message",
	    "Leadership abdicated"));
	leader_step_down(m, "abdicated through DELETE /v2/leader");
}

static void
get_events(struct marathon *m, struct http_req *req)
{
	events_subscribe(m, req);
}

static void
ping(struct marathon *m, struct http_req *req)
{
	const char *accept = http_req_header(req, "Accept");

	if (accept && strstr(accept, "application/json"))
		http_reply(req, 200, "application/json", "\"pong\"", 6);
	else
		http_reply(req, 200, "text/plain", "pong", 4);
}

static void
metrics(struct marathon *m, struct http_req *req)
{
	struct state *st = m->st;
	int c[4], staged = 0, running = 0, healthy = 0;
	size_t it = 0;
	void *v;
	json_t *g;

	if (st)
		while (strmap_next(st->apps, &it, NULL, &v)) {
			state_counts(v, c);
			staged += c[0];
			running += c[1];
			healthy += c[2];
		}
#define GAUGE(v) json_pack("{s:f}", "value", (double)(v))
#define COUNTER(v) json_pack("{s:I}", "count", (json_int_t)(v))
	g = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
	    "service.mesosphere.marathon.app.count",
	    GAUGE(st ? st->root->napps : 0),
	    "service.mesosphere.marathon.group.count",
	    GAUGE(st ? st->root->ngroups : 0),
	    "service.mesosphere.marathon.task.running.count", GAUGE(running),
	    "service.mesosphere.marathon.task.staged.count", GAUGE(staged),
	    "service.mesosphere.marathon.task.healthy.count", GAUGE(healthy),
	    "service.mesosphere.marathon.deployments.active",
	    GAUGE(st ? st->ndeps : 0),
	    "service.mesosphere.marathon.leaderDuration", GAUGE(st ?
	    clock_mono() - m->elected_at : 0),
	    "service.mesosphere.marathon.uptime", GAUGE(clock_wall() - m->started),
	    "service.mesosphere.marathon.event-stream.subscribers",
	    GAUGE(events_subscribers(m->events)));
	http_reply_json(req, 200, json_pack("{s:s, s:o, s:{s:o, s:o, s:o, s:o, "
	    "s:o, s:o}, s:{}, s:{}, s:{}}", "version", "4.0.0", "gauges", g,
	    "counters",
	    "service.mesosphere.marathon.api.requests", COUNTER(m->api_requests),
	    "service.mesosphere.marathon.mesos.status-updates",
	    COUNTER(m->status_updates),
	    "service.mesosphere.marathon.tasks.launched", COUNTER(m->launched),
	    "service.mesosphere.marathon.tasks.killed", COUNTER(m->killed),
	    "service.mesosphere.marathon.mesos.offers.seen",
	    COUNTER(m->offers_seen),
	    "service.mesosphere.marathon.mesos.offers.declined",
	    COUNTER(m->offers_declined),
	    "histograms", "meters", "timers"));
#undef GAUGE
#undef COUNTER
}

/* The daemon's own health: 200 when it can answer (as leader, or with a
 * known leader to proxy to), 503 otherwise. */
static void
health(struct marathon *m, struct http_req *req)
{
	const char *leader = leader_address(m);

	http_reply_json(req, leader ? 200 : 503, json_pack("{s:b, s:b, s:s?, "
	    "s:b}", "healthy", leader != NULL, "leader", m->st != NULL,
	    "leaderAddress", leader, "mesosSubscribed", m->st &&
	    mesos_subscribed(m->st->mesos)));
}

void
api_misc_routes(struct marathon *m)
{
	api_route(m, "GET", "/v2/deployments", list_deployments, 0);
	api_route(m, "DELETE", "/v2/deployments/{id}", delete_deployment, 0);
	api_route(m, "GET", "/v2/queue", get_queue, 0);
	api_route(m, "DELETE", "/v2/queue/{id*}/delay", reset_delay, 0);
	api_route(m, "GET", "/v2/info", get_info, 0);
	api_route(m, "GET", "/v2/leader", get_leader, API_LOCAL);
	api_route(m, "DELETE", "/v2/leader", delete_leader, 0);
	api_route(m, "GET", "/v2/events", get_events, 0);
	api_route(m, "GET", "/ping", ping, API_LOCAL);
	api_route(m, "GET", "/metrics", metrics, API_LOCAL);
	api_route(m, "GET", "/health", health, API_LOCAL);
}

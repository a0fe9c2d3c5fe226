/*
 * config: dcos-marathon's flags (Marathon's names where Marathon has the
 * flag; each also read from MARATHON_<NAME>), and building and tearing
 * down the daemon around them: HTTP server and routes, the store, timers,
 * leadership.
 */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "dcos/daemon.h"
#include "dcos/flags.h"
#include "dcos/http_client.h"
#include "dcos/http_server.h"
#include "dcos/log.h"
#include "dcos/store.h"

#include "marathon.h"

#define NFLAGS 32

static struct flag flag_table[NFLAGS];
static struct flags_spec spec;

const struct flags_spec *
config_flags(struct marathon *m)
{
	struct marathon_flags *f = &m->f;
	const struct flag table[] = {
		{ "ip", FLAG_STR, &f->ip, "0.0.0.0", "address to listen on" },
		{ "http_port", FLAG_PORT, &f->http_port, "8080", "REST API port" },
		{ "hostname", FLAG_STR, &f->hostname, "", "the name other nodes and "
		    "Mesos reach this one by (default: --ip, or the host name)" },
		{ "master", FLAG_STR, &f->master, "127.0.0.1:5050", "Mesos masters: "
		    "host:port[,host:port...]" },
		{ "store", FLAG_STR, &f->store, "sqlite:/var/lib/dcos/store.db",
		    "state store url (sqlite:PATH or dqlite://HOST:PORT,.../DB)" },
		{ "framework_name", FLAG_STR, &f->framework_name, "marathon",
		    "framework name registered with Mesos" },
		{ "mesos_role", FLAG_STR, &f->mesos_role, "slave_public",
		    "Mesos role of the framework (gets * and this role's resources)" },
		{ "default_accepted_resource_roles", FLAG_STR, &f->default_roles, "*",
		    "roles an app uses when it has no acceptedResourceRoles" },
		{ "mesos_user", FLAG_STR, &f->mesos_user, "", "user tasks run as "
		    "when the app sets none (default: this process's user)" },
		{ "mesos_authentication_principal", FLAG_STR, &f->principal, "",
		    "framework principal" },
		{ "failover_timeout", FLAG_DURATION, &f->failover_timeout, "7days",
		    "how long Mesos keeps our tasks while we are away" },
		{ "decline_offer_duration", FLAG_DURATION, &f->decline_offer_duration,
		    "120secs", "refuse_seconds of declined offers" },
		{ "min_revive_offers_interval", FLAG_DURATION, &f->revive_interval,
		    "100ms", "least time between two REVIVE calls" },
		{ "reconciliation_interval", FLAG_DURATION, &f->reconcile_interval,
		    "10mins", "how often tasks are reconciled with Mesos" },
		{ "task_launch_timeout", FLAG_DURATION, &f->task_launch_timeout,
		    "5mins", "a task not running after this is killed" },
		{ "kill_retry_timeout", FLAG_DURATION, &f->kill_retry, "10secs",
		    "a KILL is repeated after this" },
		{ "leader_lease_ttl", FLAG_DURATION, &f->lease_ttl, "6secs",
		    "leadership lease; a dead leader is replaced after about this" },
		{ "max_instances_per_offer", FLAG_INT, &f->max_instances_per_offer,
		    "1000", "most instances launched from one offer" },
		{ "max_launches_per_offer_cycle", FLAG_INT, &f->max_launches, "2000",
		    "most instances launched from one batch of offers" },
		{ "local_port_min", FLAG_INT, &f->local_port_min, "10000",
		    "lowest service port assigned to apps" },
		{ "local_port_max", FLAG_INT, &f->local_port_max, "20000",
		    "highest service port assigned to apps" },
		{ "max_versions", FLAG_INT, &f->max_versions, "50",
		    "app versions kept in the store" },
		{ "max_concurrent_health_checks", FLAG_INT, &f->max_health_checks,
		    "256", "Marathon-run health checks in flight at once" },
		{ "env_vars_prefix", FLAG_STR, &f->env_vars_prefix, "",
		    "prefix of the PORT/HOST variables tasks get" },
		{ "webui_url", FLAG_STR, &f->webui_url, "", "URL shown in Mesos" },
		{ "max_body", FLAG_INT, &f->max_body, "10485760",
		    "largest request body in bytes" },
		{ "access_control_allow_origin", FLAG_STR, &f->cors_origin, "",
		    "CORS origin allowed to call the API (empty: CORS off)" },
		{ "log_level", FLAG_STR, &f->log_level, "info",
		    "error, warning, notice, info or debug" },
	};

	memcpy(flag_table, table, sizeof(table));
	spec = (struct flags_spec){ "dcos-marathon",
		"Marathon: long-running apps on Mesos (REST API, deployments, "
		"health checks, event bus).", "MARATHON_", flag_table,
		sizeof(table) / sizeof(table[0]) };
	m->spec = &spec;
	return &spec;
}

static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct marathon *m = arg;
	static double last_reconcile;

	engine_tick(m);
	if (m->st && clock_mono() - last_reconcile > m->f.reconcile_interval) {
		if (last_reconcile)
			sched_reconcile(m);
		last_reconcile = clock_mono();
	}
}

static void
on_health(evutil_socket_t fd, short what, void *arg)
{
	health_tick(arg);
}

static void
stop(void *arg)
{
	struct marathon *m = arg;

	leader_stop(m);
	event_base_loopexit(m->base, NULL);
}

int
marathon_setup(struct marathon *m)
{
	struct http_server_opts o = { .max_body = (size_t)m->f.max_body,
		.cors_origin = m->f.cors_origin[0] ? m->f.cors_origin : NULL };
	struct timeval second = { 1, 0 }, quarter = { 0, 250000 };
	char err[512];
	int level = log_level_parse(m->f.log_level);

	if (level < 0) {
		fprintf(stderr, "dcos-marathon: unknown --log_level '%s'\n",
		    m->f.log_level);
		return -1;
	}
	log_init("marathon", (enum log_level)level);
	if (m->f.mesos_user[0] == '\0') {
		struct passwd *pw = getpwuid(geteuid());

		snprintf(m->user, sizeof(m->user), "%s", pw ? pw->pw_name : "root");
		m->f.mesos_user = m->user;
	}
	if (m->f.hostname[0] == '\0') {
		if (strcmp(m->f.ip, "0.0.0.0") != 0)
			m->f.hostname = m->f.ip;
		else if (gethostname(m->host, sizeof(m->host)) == 0 && m->host[0])
			m->f.hostname = m->host;
		else
			m->f.hostname = "localhost";
	}
	snprintf(m->self, sizeof(m->self), "%s:%d", m->f.hostname,
	    m->f.http_port);
	m->started = clock_wall();
	m->base = event_base_new();
	m->daemon = daemon_new(m->base, stop, m);
	m->client = http_client_new(m->base);
	m->http = http_server_new(m->base, &o);
	m->events = events_new(m);
	engine_init(m);
	api_apps_routes(m);
	api_tasks_routes(m);
	api_groups_routes(m);
	api_misc_routes(m);
	api_pods_routes(m);
	if (http_server_listen(m->http, m->f.ip, m->f.http_port, err,
	    sizeof(err)) == -1 || persist_open(m, err, sizeof(err)) == -1) {
		log_error("%s", err);
		return -1;
	}
	m->tick = event_new(m->base, -1, EV_PERSIST, on_tick, m);
	event_add(m->tick, &second);
	m->health_timer = event_new(m->base, -1, EV_PERSIST, on_health, m);
	event_add(m->health_timer, &quarter);
	leader_start(m);
	log_info("serving the Marathon API on http://%s:%d as %s (store %s, "
	    "mesos %s)", m->f.ip, m->f.http_port, m->self, m->f.store,
	    m->f.master);
	return 0;
}

void
marathon_teardown(struct marathon *m)
{
	leader_stop(m);
	if (m->tick)
		event_free(m->tick);
	if (m->health_timer)
		event_free(m->health_timer);
	if (m->kick)
		event_free(m->kick);
	events_free(m->events);
	http_server_free(m->http);
	http_client_free(m->client);
	store_close(m->store);
	api_free(m);
	daemon_free(m->daemon);
	if (m->base)
		event_base_free(m->base);
}

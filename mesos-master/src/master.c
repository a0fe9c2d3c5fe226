/*
 * master: the context of one dcos-mesos-master process and its life: it
 * opens the store and the listeners (HTTP 5050, agent channel 5052, event
 * bus 5053), contends for leadership, runs the periodic timers (allocation,
 * agent pings, registry garbage collection) while leading, and drops the
 * whole in-memory cluster state when it steps down or stops.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "dcos/daemon.h"
#include "dcos/http_server.h"
#include "dcos/ipc.h"
#include "dcos/lease.h"
#include "dcos/log.h"
#include "dcos/store.h"
#include "dcos/strmap.h"
#include "master.h"

/* MasterInfo: ip is the IPv4 address as a uint32 in network byte order */
json_t *
master_info_v1(const struct master *m)
{
	char ip[INET_ADDRSTRLEN];
	struct in_addr in = { .s_addr = m->ip_be };

	inet_ntop(AF_INET, &in, ip, sizeof(ip));
	return json_pack("{s:s, s:I, s:i, s:s, s:s, s:s, s:{s:s, s:s, s:i}}",
	    "id", m->id, "ip", (json_int_t)m->ip_be, "port", m->f.port, "pid",
	    m->pid, "hostname", m->hostname, "version", DCOS_MESOS_VERSION,
	    "address", "hostname", m->hostname, "ip", ip, "port", m->f.port);
}

static void
on_alloc_tick(evutil_socket_t fd, short what, void *arg)
{
	struct master *m = arg;

	if (m->role == ROLE_LEADER)
		offers_allocate(m, true);
}

static void
on_alloc_soon(evutil_socket_t fd, short what, void *arg)
{
	struct master *m = arg;

	if (m->role == ROLE_LEADER)
		offers_allocate(m, false);
}

static void
on_ping_tick(evutil_socket_t fd, short what, void *arg)
{
	struct master *m = arg;

	if (m->role == ROLE_LEADER)
		agents_ping_all(m);
}

static void
on_gc_tick(evutil_socket_t fd, short what, void *arg)
{
	struct master *m = arg;

	if (m->role == ROLE_LEADER)
		agents_gc(m);
}

static void
on_reregister_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct master *m = arg;

	if (m->role == ROLE_LEADER)
		agents_reregister_deadline(m);
}

struct master *
master_new(struct event_base *base, const struct flags_spec *spec,
    const struct master_flags *f)
{
	struct master *m = calloc(1, sizeof(*m));

	if (m == NULL)
		abort();
	m->base = base;
	m->spec = spec;
	m->f = *f;
	ids_uuid4(m->id);
	m->start_time = clock_wall();
	m->agents = strmap_new();
	m->agents_by_pid = strmap_new();
	m->gone_agents = strmap_new();
	m->frameworks = strmap_new();
	m->offers = strmap_new();
	m->channels = strmap_new();
	m->registering = strmap_new();
	TAILQ_INIT(&m->completed_frameworks);
	TAILQ_INIT(&m->outmsgs);
	m->weights = strmap_new();
	m->log_base = log_get_level();
	m->alloc = alloc_new();
	weights_apply(m);
	return m;
}

static int
open_store(struct master *m)
{
	char url[4096], err[512];
	struct store_err se;

	if (m->f.store) {
		snprintf(url, sizeof(url), "%s", m->f.store);
	} else {
		if (daemon_mkdirs(m->f.work_dir, 0750, err, sizeof(err)) == -1) {
			log_error("cannot create --work_dir: %s", err);
			return -1;
		}
		snprintf(url, sizeof(url), "sqlite:%s/registry.db", m->f.work_dir);
	}
	if ((m->store = store_open(url, &se)) == NULL) {
		log_error("cannot open the store %s: %s", url, se.msg);
		return -1;
	}
	if (registry_migrate(m->store, err, sizeof(err)) == -1) {
		log_error("%s", err);
		return -1;
	}
	if (store_attach(m->store, m->base, &se) != STORE_OK) {
		log_error("cannot attach the store: %s", se.msg);
		return -1;
	}
	m->reg = registry_new(m);
	return 0;
}

static struct event *
periodic(struct master *m, double secs, event_callback_fn fn)
{
	struct event *ev = event_new(m->base, -1, EV_PERSIST, fn, m);
	struct timeval tv = clock_tv(secs);

	event_add(ev, &tv);
	return ev;
}

int
master_start(struct master *m)
{
	char err[512];
	double gc_every;

	if (config_check(m, err, sizeof(err)) == -1) {
		log_error("%s", err);
		return -1;
	}
	if (open_store(m) == -1)
		return -1;
	if (http_api_listen(m, err, sizeof(err)) == -1 ||
	    channel_listen(m, err, sizeof(err)) == -1 ||
	    events_listen(m, err, sizeof(err)) == -1) {
		log_error("%s", err);
		return -1;
	}
	m->alloc_soon = evtimer_new(m->base, on_alloc_soon, m);
	m->reregister_deadline = evtimer_new(m->base, on_reregister_deadline, m);
	m->alloc_tick = periodic(m, m->f.allocation_interval, on_alloc_tick);
	m->ping_tick = periodic(m, m->f.agent_ping_timeout, on_ping_tick);
	gc_every = m->f.registry_max_agent_age / 10;
	m->gc_tick = periodic(m, gc_every < 1 ? 1 : gc_every > 60 ? 60 :
	    gc_every, on_gc_tick);
	leader_start(m);
	log_notice("master %s serving on http://%s:%d (agent channel %d, event "
	    "bus %d), store %s", m->id, m->f.ip, m->f.port, m->f.agent_port,
	    m->f.event_port, store_url(m->store));
	return 0;
}

/*
 * Drops every agent, framework, task and offer held in memory (on step
 * down and at exit). Nothing is written to the registry: the next leader
 * starts from it.
 */
void
master_reset(struct master *m)
{
	struct framework *fw;
	void *v;

	if (m->reregister_deadline)
		evtimer_del(m->reregister_deadline);
	events_opsub_close_all(m);
	agents_pending_free(m);
	for (size_t it = 0; strmap_next(m->offers, &it, NULL, &v);)
		offer_remove(m, v, false, false);
	for (size_t it = 0; strmap_next(m->frameworks, &it, NULL, &v);) {
		strmap_del(m->frameworks, ((struct framework *)v)->id);
		framework_free(v);
	}
	while ((fw = TAILQ_FIRST(&m->completed_frameworks)) != NULL) {
		TAILQ_REMOVE(&m->completed_frameworks, fw, done_link);
		framework_free(fw);
	}
	m->ncompleted_frameworks = 0;
	for (size_t it = 0; strmap_next(m->agents, &it, NULL, &v);) {
		strmap_del(m->agents, ((struct agent *)v)->id);
		agent_free(v);
	}
	strmap_free(m->agents_by_pid);
	m->agents_by_pid = strmap_new();
	strmap_free(m->gone_agents);
	m->gone_agents = strmap_new();
	weights_clear(m); /* the next leader reads them from the registry */
	alloc_free(m->alloc);
	m->alloc = alloc_new();
	weights_apply(m);
}

void
master_stop(void *arg)
{
	struct master *m = arg;

	log_notice("stopping: releasing leadership and closing listeners");
	if (m->lease) {
		lease_stop(m->lease);
		m->lease = NULL;
	}
	m->role = ROLE_FOLLOWER;
	master_reset(m);
	event_base_loopexit(m->base, NULL);
}

void
master_free(struct master *m)
{
	struct event *evs[] = { m->alloc_soon, m->alloc_tick, m->ping_tick,
		m->gc_tick, m->reregister_deadline };
	void *v;

	if (m->lease)
		lease_stop(m->lease);
	m->lease = NULL;
	m->role = ROLE_FOLLOWER;
	master_reset(m);
	for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++)
		if (evs[i])
			event_free(evs[i]);
	events_close(m);
	channel_close(m);
	for (size_t it = 0; strmap_next(m->channels, &it, NULL, &v);) {
		struct chan *c = v;

		ipc_close(c->req);
		free(c->url);
		free(c);
	}
	registry_free(m->reg);
	m->reg = NULL;
	if (m->store)
		store_close(m->store);
	http_server_free(m->http);
	alloc_free(m->alloc);
	strmap_free(m->agents);
	strmap_free(m->agents_by_pid);
	strmap_free(m->gone_agents);
	strmap_free(m->frameworks);
	strmap_free(m->offers);
	strmap_free(m->channels);
	strmap_free(m->registering);
	weights_clear(m);
	strmap_free(m->weights);
	operator_admin_close(m);
	free(m);
}

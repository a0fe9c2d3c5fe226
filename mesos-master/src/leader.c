/*
 * leader: leadership through the "mesos-master" lease. Every master
 * contends; the holder recovers the registry (RECOVERING: API calls get
 * 503) and then leads. Losing the lease, or a fenced registry write, means
 * stepping down at once: all in-memory cluster state is dropped, scheduler
 * streams are closed, and the master serves as a follower, which answers
 * leader-only requests with a 307 to the leader (503 when none is known).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "dcos/daemon.h"
#include "dcos/http_server.h"
#include "dcos/lease.h"
#include "dcos/log.h"
#include "dcos/store.h"
#include "dcos/strmap.h"
#include "master.h"

static void
recovered(struct master *m, int code)
{
	struct timeval tv;

	if (m->role != ROLE_RECOVERING)
		return;
	if (code != STORE_OK) {
		leader_step_down(m, "cannot read the registry");
		return;
	}
	m->role = ROLE_LEADER;
	log_notice("leading: registry recovered with %zu agents and %zu "
	    "frameworks; waiting up to %gs for agents to re-register",
	    strmap_count(m->agents), strmap_count(m->frameworks),
	    m->f.agent_reregister_timeout);
	daemon_status("leading (epoch %lld)", (long long)lease_epoch(m->lease));
	events_master_elected(m);
	/* recovered frameworks have until their failover timeout to return */
	for (size_t it = 0;;) {
		void *v;

		if (!strmap_next(m->frameworks, &it, NULL, &v))
			break;
		framework_start_failover(v, ((struct framework *)v)->failover_timeout);
	}
	/* tell every known agent about us now, rather than waiting for its
	 * own ping timeout */
	agents_ping_all(m);
	tv.tv_sec = (time_t)m->f.agent_reregister_timeout;
	tv.tv_usec = (suseconds_t)((m->f.agent_reregister_timeout -
	    (double)tv.tv_sec) * 1e6);
	evtimer_add(m->reregister_deadline, &tv);
	offers_schedule(m);
}

static void
on_elected(struct lease *l, void *arg)
{
	struct master *m = arg;

	master_reset(m);
	m->elections++;
	m->role = ROLE_RECOVERING;
	m->elected_time = clock_wall();
	log_notice("elected leading master (epoch %lld); recovering the registry",
	    (long long)lease_epoch(l));
	registry_recover(m, recovered);
}

static void
on_lost(struct lease *l, void *arg)
{
	leader_step_down(arg, "lost the leadership lease");
}

static void
on_changed(struct lease *l, void *arg)
{
	struct master *m = arg;
	const char *who = lease_leader(l);

	if (m->role == ROLE_FOLLOWER && !lease_is_leader(l))
		log_info("following; the leading master is %s",
		    who ? who : "(none yet)");
}

void
leader_start(struct master *m)
{
	struct lease_opts o = {
		.name = "mesos-master",
		.address = m->address,
		.ttl = m->f.lease_ttl,
	};

	m->lease = lease_start(m->store, m->base, &o, on_elected, on_lost,
	    on_changed, m);
}

void
leader_step_down(struct master *m, const char *why)
{
	if (m->role == ROLE_FOLLOWER)
		return;
	log_warn("stepping down as leading master: %s; dropping the in-memory "
	    "cluster state", why);
	master_reset(m);
	m->elections++;
	m->role = ROLE_FOLLOWER;
	m->elected_time = 0;
	daemon_status("following");
	if (m->lease && lease_is_leader(m->lease)) {
		/* the lease still names us (a fenced write, a failed recovery):
		 * give it up and contend again from scratch */
		lease_stop(m->lease);
		leader_start(m);
	}
}

const char *
leader_address(const struct master *m)
{
	if (m->role != ROLE_FOLLOWER)
		return m->address;
	return m->lease ? lease_leader(m->lease) : NULL;
}

int
leader_guard_http(struct master *m, struct http_req *req)
{
	const char *leader;
	char loc[2048];

	if (m->role == ROLE_LEADER)
		return 0;
	if (m->role == ROLE_RECOVERING) {
		http_req_add_header(req, "Retry-After", "1");
		http_reply_error(req, 503, "Master is recovering its registry");
		return -1;
	}
	if ((leader = leader_address(m)) == NULL) {
		http_req_add_header(req, "Retry-After", "1");
		http_reply_error(req, 503, "No leading master is elected");
		return -1;
	}
	snprintf(loc, sizeof(loc), "//%s%s", leader, http_req_uri(req));
	http_req_add_header(req, "Location", loc);
	http_reply_empty(req, 307);
	return -1;
}

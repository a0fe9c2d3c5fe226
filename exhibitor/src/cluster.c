/*
 * cluster: the cluster thread. It starts this member's node (bootstrapping
 * or joining, see join.c), keeps it a voter, and every --check_interval
 * asks each member of the master list who leads and, from the leader, the
 * configuration, to publish Exhibitor's view of the ensemble:
 *
 *   serving (3)      answers on its store port and is a voter under a leader
 *   not serving (2)  answers, but has no leader or is not (yet) a voter
 *   down (1)         does not answer
 *   latent (0)       not checked yet
 *
 * The loop thread only ever copies the published view (cluster_view), so
 * no HTTP request waits on the network.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "dcos/daemon.h"
#include "dcos/log.h"
#include "exhibitor.h"

#define CHECK_TIMEOUT_MS 1000

const char *
cluster_code_name(int code)
{
	static const char *const names[] = { "latent", "down", "not serving",
		"serving" };

	return code >= 0 && code <= 3 ? names[code] : "unknown";
}

void
cluster_view(struct exhibitor *ex, struct ex_view *out)
{
	pthread_mutex_lock(&ex->mu);
	*out = ex->view;
	pthread_mutex_unlock(&ex->mu);
}

/* One check of every member; fills v (phase and note are kept). */
static void
check_members(struct exhibitor *ex, struct ex_view *v)
{
	char claims[EX_MAX_MEMBERS][DQLITE_CLIENT_ADDR_MAX];
	int reachable[EX_MAX_MEMBERS] = { 0 };
	struct dqlite_member *m = NULL;
	size_t n = 0;

	v->leader[0] = '\0';
	for (size_t i = 0; i < ex->nmembers; i++) {
		struct dqlite_client_err e;
		struct dqlite_client *c;
		uint64_t id;

		claims[i][0] = '\0';
		c = dqlite_client_connect(ex->members[i].address,
		    CHECK_TIMEOUT_MS, &e);
		if (c && dqlite_client_leader(c, &id, claims[i],
		    sizeof(claims[i]), &e) == 0) {
			reachable[i] = 1;
			/* the leader's own word, and its configuration */
			if (strcmp(claims[i], ex->members[i].address) == 0 &&
			    v->leader[0] == '\0' &&
			    dqlite_client_cluster(c, &m, &n, &e) == 0)
				memcpy(v->leader, claims[i], sizeof(v->leader));
		}
		dqlite_client_close(c);
	}
	for (size_t i = 0; i < ex->nmembers; i++) {
		struct ex_member_status *st = &v->st[i];

		st->id = 0;
		st->role = -1;
		for (size_t k = 0; k < n; k++)
			if (strcmp(m[k].address, ex->members[i].address) == 0) {
				st->id = m[k].id;
				st->role = m[k].role;
			}
		st->is_leader = v->leader[0] &&
		    strcmp(v->leader, ex->members[i].address) == 0;
		if (!reachable[i])
			st->code = EX_DOWN;
		else if (v->leader[0] && st->role == DQLITE_CLIENT_VOTER &&
		    strcmp(claims[i], v->leader) == 0)
			st->code = EX_SERVING;
		else
			st->code = EX_NOT_SERVING;
	}
	free(m);
	v->checked = 1;
}

/* Logs what changed between two views, for operators. */
static void
log_changes(struct exhibitor *ex, const struct ex_view *a,
    const struct ex_view *b)
{
	if (strcmp(a->leader, b->leader) != 0)
		log_notice("store leader is now %s", b->leader[0] ? b->leader :
		    "(none: no quorum)");
	for (size_t i = 0; i < ex->nmembers; i++)
		if (a->st[i].code != b->st[i].code)
			log_info("member %s: %s", ex->members[i].address,
			    cluster_code_name(b->st[i].code));
	if (strcmp(a->note, b->note) != 0 && b->note[0])
		log_warn("%s", b->note);
	if (strcmp(a->note, b->note) != 0 || strcmp(a->leader, b->leader) != 0)
		daemon_status("%s%s%s%s", b->leader[0] ? "store leader " :
		    "no store leader", b->leader, b->note[0] ? "; " : "", b->note);
}

static void
publish(struct exhibitor *ex, const struct ex_view *v)
{
	struct ex_view old;

	pthread_mutex_lock(&ex->mu);
	old = ex->view;
	ex->view = *v;
	pthread_mutex_unlock(&ex->mu);
	log_changes(ex, &old, v);
}

/* Sleeps for the check interval; returns 1 when asked to stop. */
static int
pause_or_stop(struct exhibitor *ex)
{
	struct timespec until;
	int stopping;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += (time_t)ex->f.check_interval;
	until.tv_nsec += (long)((ex->f.check_interval -
	    (double)(time_t)ex->f.check_interval) * 1e9);
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&ex->mu);
	while (!ex->stopping && pthread_cond_timedwait(&ex->cv, &ex->mu,
	    &until) != ETIMEDOUT)
		;
	stopping = ex->stopping;
	pthread_mutex_unlock(&ex->mu);
	return stopping;
}

static void
fail_fatally(struct exhibitor *ex, struct ex_view *v, const char *why)
{
	uint64_t one = 1;

	log_error("%s", why);
	v->phase = EX_PHASE_FAILED;
	snprintf(v->note, sizeof(v->note), "%s", why);
	publish(ex, v);
	if (write(ex->wake_fd, &one, sizeof(one)) < 0)
		log_error("cannot wake the main loop: %s", strerror(errno));
}

static void *
cluster_main(void *arg)
{
	struct exhibitor *ex = arg;
	struct ex_view v;

	cluster_view(ex, &v);
	do {
		char note[sizeof(v.note)] = "";

		if (v.phase == EX_PHASE_STARTING) {
			uint64_t id;
			int rc = join_prepare(ex, &id, note, sizeof(note));

			if (rc == -1 || (rc == 1 &&
			    member_start(ex, id, note, sizeof(note)) == -1)) {
				fail_fatally(ex, &v, note);
				return NULL;
			}
			if (rc == 1) {
				v.phase = EX_PHASE_RUNNING;
				v.node_id = id;
			}
		}
		/* a serving member is a voter already */
		if (v.phase == EX_PHASE_RUNNING &&
		    v.st[ex->self].code != EX_SERVING)
			join_ensure_voter(ex, note, sizeof(note));
		snprintf(v.note, sizeof(v.note), "%s", note);
		check_members(ex, &v);
		publish(ex, &v);
	} while (!pause_or_stop(ex));
	join_step_down(ex);
	member_stop(ex);
	return NULL;
}

static void
on_wake(evutil_socket_t fd, short what, void *arg)
{
	struct exhibitor *ex = arg;
	uint64_t n;
	struct ex_view v;

	if (read(fd, &n, sizeof(n)) < 0)
		return;
	cluster_view(ex, &v);
	if (v.phase == EX_PHASE_FAILED) {
		log_error("the store member cannot run; exiting");
		ex->exit_code = 1;
		event_base_loopexit(ex->base, NULL);
	}
}

int
cluster_start(struct exhibitor *ex, char *err, size_t errlen)
{
	pthread_mutex_init(&ex->mu, NULL);
	pthread_cond_init(&ex->cv, NULL);
	ex->view.phase = EX_PHASE_STARTING;
	snprintf(ex->view.note, sizeof(ex->view.note), "starting");
	ex->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (ex->wake_fd == -1) {
		snprintf(err, errlen, "eventfd: %s", strerror(errno));
		return -1;
	}
	ex->ev_wake = event_new(ex->base, ex->wake_fd, EV_READ | EV_PERSIST,
	    on_wake, ex);
	event_add(ex->ev_wake, NULL);
	if (pthread_create(&ex->thread, NULL, cluster_main, ex) != 0) {
		snprintf(err, errlen, "cannot start the cluster thread");
		return -1;
	}
	ex->thread_started = 1;
	return 0;
}

void
cluster_stop(struct exhibitor *ex)
{
	if (ex->thread_started) {
		pthread_mutex_lock(&ex->mu);
		ex->stopping = 1;
		pthread_cond_broadcast(&ex->cv);
		pthread_mutex_unlock(&ex->mu);
		pthread_join(ex->thread, NULL);
		ex->thread_started = 0;
	}
	if (ex->ev_wake)
		event_free(ex->ev_wake);
	ex->ev_wake = NULL;
	if (ex->wake_fd >= 0)
		close(ex->wake_fd);
	ex->wake_fd = -1;
}

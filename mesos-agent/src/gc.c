/*
 * gc: sandbox garbage collection, as Mesos does it. Directories of
 * finished executors are scheduled with the time they finished; each is
 * removed once older than gc_delay * max(0, 1 - gc_disk_headroom -
 * disk usage), so a filling disk shortens their life. Usage is checked
 * every --disk_watch_interval, and a timer also fires when the next entry
 * would expire at the current usage. The same watch removes empty container
 * cgroups that executors killed outright (SIGKILL) could not remove.
 */
#include <stdio.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include <event2/event.h>

#include "dcos/log.h"
#include "dcos/strmap.h"

#include "agent.h"

static void
entry_free(struct agent *a, struct gc_entry *e)
{
	TAILQ_REMOVE(&a->gc, e, link);
	strmap_del(a->gc_paths, e->path);
	free(e->path);
	free(e);
}

double
gc_max_age(double delay, double headroom, double usage)
{
	double f = 1.0 - headroom - usage;

	return delay * (f > 0 ? f : 0);
}

static double
disk_usage(const char *dir)
{
	struct statvfs v;

	if (statvfs(dir, &v) == -1 || v.f_blocks == 0)
		return 0;
	return 1.0 - (double)v.f_bavail / (double)v.f_blocks;
}

static void arm(struct agent *a, double max_age);

static void
prune(struct agent *a)
{
	double usage = disk_usage(a->f.work_dir);
	double max_age = gc_max_age(a->f.gc_delay, a->f.gc_disk_headroom, usage);
	double now = mesos_now();
	struct gc_entry *e, *next;

	TAILQ_FOREACH_SAFE(e, &a->gc, link, next) {
		if (now - e->scheduled < max_age)
			continue;
		if (fs_rmtree(e->path) == 0) {
			a->metrics.gc_ok++;
			log_info("garbage collected %s (%.0fs old, disk %.0f%% used)",
			    e->path, now - e->scheduled, usage * 100);
		} else {
			a->metrics.gc_failed++;
			log_warn("cannot garbage collect %s", e->path);
		}
		entry_free(a, e);
	}
	arm(a, max_age);
}

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
	prune(arg);
}

/* Wake up when the oldest entry expires (entries are oldest first). */
static void
arm(struct agent *a, double max_age)
{
	struct gc_entry *e = TAILQ_FIRST(&a->gc);
	double wait;
	struct timeval tv;

	if (e == NULL) {
		evtimer_del(a->gc_timer);
		return;
	}
	wait = e->scheduled + max_age - mesos_now();
	if (wait < 0.01)
		wait = 0.01;
	if (wait > a->f.disk_watch_interval)
		wait = a->f.disk_watch_interval;
	tv.tv_sec = (time_t)wait;
	tv.tv_usec = (suseconds_t)((wait - (double)tv.tv_sec) * 1e6);
	evtimer_add(a->gc_timer, &tv);
}

/* Empty container cgroups older than this are leftovers. */
#define CGROUP_LEFTOVER_AGE 60.0

static void
prune_cgroups(struct agent *a)
{
	int n = cg_prune(&a->iso.cg, CGROUP_LEFTOVER_AGE);

	if (n > 0)
		log_info("removed %d empty container cgroup(s) left behind by "
		    "executors that were killed outright", n);
}

static void
on_watch(evutil_socket_t fd, short what, void *arg)
{
	prune(arg);
	prune_cgroups(arg);
	/* a burst of launches leaves freed heap behind: give it back */
	malloc_trim(0);
}

void
gc_start(struct agent *a)
{
	double w = a->f.disk_watch_interval;
	struct timeval tv = { (time_t)w, (suseconds_t)((w - (long)w) * 1e6) };

	a->gc_timer = evtimer_new(a->base, on_timer, a);
	a->gc_watch = event_new(a->base, -1, EV_PERSIST, on_watch, a);
	event_add(a->gc_watch, &tv);
	prune_cgroups(a);
}

void
gc_schedule(struct agent *a, const char *path, double when)
{
	struct gc_entry *e, *pos;

	gc_unschedule(a, path);
	if ((e = calloc(1, sizeof(*e))) == NULL ||
	    (e->path = strdup(path)) == NULL)
		abort();
	e->scheduled = when;
	/* keep the list oldest first; entries mostly come in time order, so
	 * look from the newest end */
	TAILQ_FOREACH_REVERSE(pos, &a->gc, gc_list, link)
		if (pos->scheduled <= when)
			break;
	if (pos)
		TAILQ_INSERT_AFTER(&a->gc, pos, e, link);
	else
		TAILQ_INSERT_HEAD(&a->gc, e, link);
	strmap_put(a->gc_paths, e->path, e);
	if (a->gc_timer)
		arm(a, gc_max_age(a->f.gc_delay, a->f.gc_disk_headroom,
		    disk_usage(a->f.work_dir)));
}

void
gc_unschedule(struct agent *a, const char *path)
{
	struct gc_entry *e;

	if (a->gc_paths == NULL)
		a->gc_paths = strmap_new();
	if ((e = strmap_get(a->gc_paths, path)) != NULL)
		entry_free(a, e);
}

void
gc_free(struct agent *a)
{
	struct gc_entry *e;

	while ((e = TAILQ_FIRST(&a->gc)) != NULL)
		entry_free(a, e);
	strmap_free(a->gc_paths);
	a->gc_paths = NULL;
	if (a->gc_timer)
		event_free(a->gc_timer);
	if (a->gc_watch)
		event_free(a->gc_watch);
	a->gc_timer = NULL;
	a->gc_watch = NULL;
}

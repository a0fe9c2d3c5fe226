/*
 * daemon: signals, readiness and the watchdog, all as libevent events so
 * nothing runs in signal context.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <systemd/sd-daemon.h>

#include "dcos/daemon.h"
#include "dcos/log.h"

struct daemon {
	struct event_base *base;
	daemon_stop_fn stop;
	void *arg;
	struct event *ev_term, *ev_int, *ev_watchdog;
	int stopping;
};

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;

	if (d->stopping) {
		log_warn("second signal %d; stopping now", (int)sig);
		event_base_loopbreak(d->base);
		return;
	}
	d->stopping = 1;
	log_notice("signal %d received; shutting down", (int)sig);
	sd_notify(0, "STOPPING=1");
	if (d->stop)
		d->stop(d->arg);
	else
		event_base_loopexit(d->base, NULL);
}

static void
on_watchdog(evutil_socket_t fd, short what, void *arg)
{
	sd_notify(0, "WATCHDOG=1");
}

struct daemon *
daemon_new(struct event_base *base, daemon_stop_fn stop, void *arg)
{
	struct daemon *d = calloc(1, sizeof(*d));
	uint64_t usec;

	if (d == NULL)
		abort();
	d->base = base;
	d->stop = stop;
	d->arg = arg;
	signal(SIGPIPE, SIG_IGN);
	d->ev_term = evsignal_new(base, SIGTERM, on_signal, d);
	d->ev_int = evsignal_new(base, SIGINT, on_signal, d);
	if (d->ev_term == NULL || d->ev_int == NULL ||
	    evsignal_add(d->ev_term, NULL) || evsignal_add(d->ev_int, NULL)) {
		log_error("cannot install signal handlers");
		daemon_free(d);
		return NULL;
	}
	if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
		struct timeval tv = { (time_t)(usec / 2000000),
			(suseconds_t)((usec / 2) % 1000000) };

		d->ev_watchdog = event_new(base, -1, EV_PERSIST, on_watchdog, d);
		event_add(d->ev_watchdog, &tv);
	}
	return d;
}

void
daemon_free(struct daemon *d)
{
	if (d == NULL)
		return;
	if (d->ev_term)
		event_free(d->ev_term);
	if (d->ev_int)
		event_free(d->ev_int);
	if (d->ev_watchdog)
		event_free(d->ev_watchdog);
	free(d);
}

void
daemon_ready(struct daemon *d, const char *status)
{
	if (status)
		sd_notifyf(0, "READY=1\nSTATUS=%s", status);
	else
		sd_notify(0, "READY=1");
}

void
daemon_status(const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	sd_notifyf(0, "STATUS=%s", buf);
}

int
daemon_stopping(const struct daemon *d)
{
	return d->stopping;
}

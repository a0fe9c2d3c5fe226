/*
 * daemon: what every dcos-c daemon does around its event loop: graceful
 * shutdown on SIGTERM/SIGINT, SIGPIPE ignored, systemd readiness and
 * watchdog notifications, and its state directories.
 *
 * The first SIGTERM or SIGINT sends STOPPING=1 and calls the daemon's stop
 * function, which closes listeners and finishes in-flight work and then
 * ends the loop (event_base_loopexit). A second signal ends the loop at once.
 */
#ifndef DCOS_DAEMON_H
#define DCOS_DAEMON_H

#include <stddef.h>
#include <sys/types.h>

struct event_base;
struct daemon;

typedef void (*daemon_stop_fn)(void *arg);

/* stop may be NULL: the loop then simply exits. Returns NULL on failure. */
struct daemon *daemon_new(struct event_base *base, daemon_stop_fn stop,
    void *arg);
void daemon_free(struct daemon *d);

/* READY=1 (and STATUS=status when given) for Type=notify units. */
void daemon_ready(struct daemon *d, const char *status);
/* STATUS=... shown by `systemctl status` */
void daemon_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* true once a stop signal arrived */
int daemon_stopping(const struct daemon *d);

/* mkdir -p; 0 or -1 with the failing path and reason in err */
int daemon_mkdirs(const char *path, mode_t mode, char *err, size_t errlen);

#endif

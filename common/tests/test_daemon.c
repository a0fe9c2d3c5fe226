/* Unit tests for daemon: directories, and a graceful stop on SIGTERM with
 * a forced one on the second signal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "dcos/daemon.h"
#include "dcos/log.h"

static void
test_mkdirs_creates_parents_and_reports_failures(void **state)
{
	char dir[64], deep[128], err[256];
	struct stat st;

	snprintf(dir, sizeof(dir), "/tmp/dcos-daemon-test-%d", (int)getpid());
	snprintf(deep, sizeof(deep), "%s/a/b/c", dir);
	assert_int_equal(daemon_mkdirs(deep, 0755, err, sizeof(err)), 0);
	assert_int_equal(stat(deep, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(daemon_mkdirs(deep, 0755, err, sizeof(err)), 0);
	assert_int_equal(daemon_mkdirs("/proc/nope/x", 0755, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/proc/nope"));
	assert_int_equal(daemon_mkdirs("", 0755, err, sizeof(err)), -1);
	for (int i = 0; i < 4; i++) {
		rmdir(deep);
		*strrchr(deep, '/') = '\0';
	}
}

struct ctx {
	struct event_base *base;
	int stops;
};

static void
on_stop(void *arg)
{
	struct ctx *c = arg;

	c->stops++;
	/* a slow shutdown: the loop goes on until a second signal */
}

static void
send_term(evutil_socket_t fd, short what, void *arg)
{
	raise(SIGTERM);
}

static void
test_first_signal_calls_stop_second_breaks_the_loop(void **state)
{
	struct ctx c = { .base = event_base_new() };
	struct daemon *d = daemon_new(c.base, on_stop, &c);
	struct event *t1 = evtimer_new(c.base, send_term, NULL);
	struct event *t2 = evtimer_new(c.base, send_term, NULL);
	struct timeval a = { 0, 10000 }, b = { 0, 50000 };

	assert_non_null(d);
	evtimer_add(t1, &a);
	evtimer_add(t2, &b);
	event_base_dispatch(c.base);
	assert_int_equal(c.stops, 1);
	assert_true(daemon_stopping(d));
	event_free(t1);
	event_free(t2);
	daemon_free(d);
	event_base_free(c.base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mkdirs_creates_parents_and_reports_failures),
		cmocka_unit_test(test_first_signal_calls_stop_second_breaks_the_loop),
	};

	log_init("test", LOG_LVL_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

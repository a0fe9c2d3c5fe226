/*
 * clock: the two clocks every daemon reads, as double seconds. Wall time
 * for what goes on the wire (Mesos timestamps are float seconds since the
 * epoch); monotonic time for timeouts, backoffs and lease validity, which
 * must not jump when the wall clock is set.
 */
#ifndef DCOS_CLOCK_H
#define DCOS_CLOCK_H

#include <sys/time.h>

/* seconds since the epoch */
double clock_wall(void);
/* seconds on CLOCK_MONOTONIC */
double clock_mono(void);
/* secs as a struct timeval for libevent timers (negative -> zero) */
struct timeval clock_tv(double secs);

#endif

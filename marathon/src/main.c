/*
 * dcos-marathon: Marathon for dcos-c. Long-running apps on Mesos: the /v2
 * REST API on 8080, deployments, health checks and the event bus, with
 * its state in the store and leadership through the "marathon" lease.
 * See marathon/README.md; the pieces are described in marathon.h.
 */
#include <stdlib.h>

#include <event2/event.h>

#include "dcos/daemon.h"
#include "dcos/flags.h"

#include "marathon.h"

int
main(int argc, char **argv)
{
	struct marathon m = { 0 };
	int rc = 1;

	flags_parse_or_exit(config_flags(&m), argc, argv);
	if (marathon_setup(&m) == 0) {
		daemon_ready(m.daemon, "follower");
		event_base_dispatch(m.base);
		rc = 0;
	}
	marathon_teardown(&m);
	return rc;
}

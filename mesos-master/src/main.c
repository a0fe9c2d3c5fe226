/*
 * dcos-mesos-master: the Mesos master of dcos-c. main parses the flags
 * (Mesos names, also from MESOS_<NAME>), sets up logging and the master
 * context, runs the loop until SIGTERM, and tears everything down.
 * Everything else starts in master.c.
 */
#include <stdio.h>
#include <stdlib.h>

#include <event2/event.h>

#include "dcos/daemon.h"
#include "dcos/flags.h"
#include "dcos/log.h"
#include "master.h"

int
main(int argc, char **argv)
{
	struct master_flags f = { 0 };
	const struct flags_spec *spec = config_spec(&f);
	struct event_base *base;
	struct daemon *d = NULL;
	struct master *m;
	int level, rc = 0;

	flags_parse_or_exit(spec, argc, argv);
	log_init("mesos-master", LOG_LVL_INFO);
	if ((level = log_level_parse(f.log_level)) < 0) {
		fprintf(stderr, "dcos-mesos-master: --log_level=%s: expected error, "
		    "warning, notice, info or debug\n", f.log_level);
		return 2;
	}
	log_set_level((enum log_level)level);
	if ((base = event_base_new()) == NULL) {
		log_error("cannot create the event loop");
		return 1;
	}
	m = master_new(base, spec, &f);
	if ((d = m->daemon = daemon_new(base, master_stop, m)) == NULL ||
	    master_start(m) == -1) {
		rc = 1;
		goto out;
	}
	daemon_ready(m->daemon, "following; contending for leadership");
	event_base_dispatch(base);
	log_notice("stopped");
out:
	master_free(m);
	daemon_free(d);
	event_base_free(base);
	return rc;
}

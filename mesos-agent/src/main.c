/*
 * dcos-mesos-slave: flags, logging, the agent's context, its loop.
 * Everything else starts in agent_setup (lifecycle.c).
 */
#include <stdio.h>
#include <stdlib.h>

#include <event2/event.h>

#include "dcos/daemon.h"
#include "dcos/flags.h"
#include "dcos/log.h"

#include "agent.h"

int
main(int argc, char **argv)
{
	static struct agent a;
	struct flags_spec spec;
	char err[1024];
	int level, rc = 1;

	config_spec(&a, &spec);
	flags_parse_or_exit(&spec, argc, argv);
	if ((level = log_level_parse(a.f.log_level)) < 0) {
		fprintf(stderr, "dcos-mesos-slave: unknown --log_level '%s'\n",
		    a.f.log_level);
		return 2;
	}
	log_init("mesos-agent", (enum log_level)level);
	a.spec = &spec;
	if ((a.base = event_base_new()) == NULL)
		abort();
	a.daemon = daemon_new(a.base, agent_stop, &a);
	if (agent_setup(&a, err, sizeof(err)) == 0) {
		daemon_ready(a.daemon, "agent serving");
		event_base_dispatch(a.base);
		rc = 0;
	} else {
		log_error("cannot start: %s", err);
	}
	agent_teardown(&a);
	daemon_free(a.daemon);
	event_base_free(a.base);
	return rc;
}

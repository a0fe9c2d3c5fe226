/*
 * dcos-exhibitor: runs this master's member of the replicated state store
 * (a dqlite node on --client_port) and serves Exhibitor's API on --port.
 * See README.md for the flags, the endpoints and how it fails.
 */
#include <stdio.h>
#include <stdlib.h>

#include <event2/event.h>

#include "dcos/daemon.h"
#include "dcos/dqlite_client.h"
#include "dcos/flags.h"
#include "dcos/http_server.h"
#include "dcos/log.h"
#include "exhibitor.h"

static void
stop(void *arg)
{
	struct exhibitor *ex = arg;

	event_base_loopexit(ex->base, NULL);
}

static int
setup(struct exhibitor *ex)
{
	char err[512];

	if (member_lock(ex->f.data_dir, err, sizeof(err)) == -1)
		goto fail;
	/* members take membership requests from masters' addresses only */
	dqlite_client_set_source(ex->f.ip);
	ex->http = http_server_new(ex->base, NULL);
	api_routes(ex);
	if (http_server_listen(ex->http, ex->f.ip, ex->f.port, err,
	    sizeof(err)) == -1 || guard_start(ex, err, sizeof(err)) == -1 ||
	    cluster_start(ex, err, sizeof(err)) == -1)
		goto fail;
	log_notice("exhibitor serving on http://%s:%d; store member %s, one of "
	    "%zu", ex->f.ip, ex->f.port, ex->members[ex->self].address,
	    ex->nmembers);
	return 0;
fail:
	log_error("%s", err);
	return -1;
}

int
main(int argc, char **argv)
{
	struct exhibitor ex = { .wake_fd = -1 };
	const struct flag flags[] = {
		{ "ip", FLAG_STR, &ex.f.ip, "127.0.0.1", "this master's address "
		    "(HTTP and store member)" },
		{ "port", FLAG_PORT, &ex.f.port, "8181", "HTTP port" },
		{ "client_port", FLAG_PORT, &ex.f.client_port, "2181",
		    "store member port (clients and replication)" },
		{ "master_list", FLAG_STR, &ex.f.master_list, "", "every master, "
		    "\"ip,ip\" or a JSON array (default: --ip alone)" },
		{ "data_dir", FLAG_STR, &ex.f.data_dir, "/var/lib/dcos/exhibitor",
		    "where the member keeps its data" },
		{ "election_timeout", FLAG_DURATION, &ex.f.election_timeout,
		    "3secs", "how long followers wait for a silent leader" },
		{ "check_interval", FLAG_DURATION, &ex.f.check_interval, "1secs",
		    "how often every member is checked" },
		{ "log_level", FLAG_STR, &ex.f.log_level, "info", "error, "
		    "warning, notice, info or debug" },
	};
	const struct flags_spec spec = { "dcos-exhibitor",
		"Hosts this master's replicated state store member (dqlite) and "
		"serves Exhibitor's API.", "EXHIBITOR_", flags,
		sizeof(flags) / sizeof(flags[0]) };
	char err[512];
	int level;

	flags_parse_or_exit(&spec, argc, argv);
	if ((level = log_level_parse(ex.f.log_level)) < 0) {
		fprintf(stderr, "dcos-exhibitor: unknown --log_level '%s'\n",
		    ex.f.log_level);
		return 2;
	}
	if (config_load(&ex, err, sizeof(err)) == -1) {
		fprintf(stderr, "dcos-exhibitor: %s\n", err);
		return 2;
	}
	log_init("exhibitor", (enum log_level)level);
	ex.base = event_base_new();
	ex.daemon = daemon_new(ex.base, stop, &ex);
	if (setup(&ex) == 0) {
		daemon_ready(ex.daemon, "store member starting");
		event_base_dispatch(ex.base);
	} else {
		ex.exit_code = 1;
	}
	http_server_free(ex.http);
	cluster_stop(&ex);
	guard_stop(&ex);
	daemon_free(ex.daemon);
	event_base_free(ex.base);
	return ex.exit_code;
}

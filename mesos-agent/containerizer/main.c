/*
 * mesos-containerizer: reads the launch info, sets the container up and
 * execs the command (or, in a pid namespace, becomes its init).
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "dcos/flags.h"
#include "dcos/json.h"
#include "dcos/log.h"

#include "containerizer.h"
#include "mesos_common.h"

static json_t *
read_info(const char *path, long long fd)
{
	json_error_t jerr;
	json_t *v;

	if (path && path[0])
		v = json_load_file(path, 0, &jerr);
	else
		v = json_loadfd((int)fd, 0, &jerr);
	if (v == NULL)
		fprintf(stderr, "mesos-containerizer: bad launch info: %s\n",
		    jerr.text);
	if (!path || !path[0])
		close((int)fd);
	return v;
}

int
main(int argc, char **argv)
{
	const char *path = NULL;
	long long fd = 3, status_fd = -1;
	const struct flag flags[] = {
		{ "launch_info", FLAG_STR, &path, NULL, "launch info JSON file" },
		{ "launch_info_fd", FLAG_INT, &fd, "3", "or a descriptor to read "
		  "it from" },
		{ "status_fd", FLAG_INT, &status_fd, "-1", "pid namespace: where "
		  "to write the command's wait status" },
	};
	const struct flags_spec spec = { "mesos-containerizer", "Puts one "
	    "process into its container and execs it (run by mesos-executor "
	    "and dcos-mesos-slave).", "MESOS_CONTAINERIZER_", flags,
	    sizeof(flags) / sizeof(flags[0]) };
	char err[1024];
	json_t *info;

	flags_parse_or_exit(&spec, argc, argv);
	log_init("mesos-containerizer", LOG_LVL_INFO);
	if ((info = read_info(path, fd)) == NULL)
		return 127;
	if (json_is_true(json_object_get(info, "pid_namespace")) &&
	    getpid() == 1)
		return launch_init(info, (int)status_fd);
	if (launch_setup(info, err, sizeof(err)) == -1) {
		fprintf(stderr, "mesos-containerizer: %s\n", err);
		return 127;
	}
	launch_exec(info, err, sizeof(err));
	fprintf(stderr, "mesos-containerizer: %s\n", err);
	return 127;
}

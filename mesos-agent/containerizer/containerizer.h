/*
 * mesos-containerizer: puts one process into its container and execs it.
 * Started by the agent for custom executors (mesos-executor does the same
 * steps itself in the child it forks for a task), never by hand. The launch info is one JSON object, read
 * from --launch_info_fd (a pipe) or --launch_info (a file):
 *
 *   argv          ["/bin/sh", "-c", "..."]   what to exec
 *   path          the program (PATH is searched, as execvp does)
 *   env           ["NAME=value", ...]        the whole environment
 *   working_dir   the sandbox
 *   stdout, stderr   files to append to (absent: keep ours)
 *   cgroups       cgroup.procs files to join
 *   pid_namespace true when we were cloned into a new pid namespace: we
 *                 stay as its init (pid 1), mount a private /proc, run the
 *                 command as our child, forward SIGTERM & co to it, and
 *                 report its wait status on --status_fd when it ends
 *   user, switch_user   run as this user (when root)
 *   rlimit_data   RLIMIT_DATA in bytes (0: none), the no-cgroups fallback
 *
 * Private header, grouped by file.
 */
#ifndef CONTAINERIZER_H
#define CONTAINERIZER_H

#include <jansson.h>

/* The launch steps themselves are in lib/launch.c (mesos_common.h), shared
 * with mesos-executor. */

#endif

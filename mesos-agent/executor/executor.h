/*
 * mesos-executor: the command executor (one task) and, for task groups,
 * the default executor (the group's tasks). It speaks the Mesos v1
 * executor HTTP API with the agent that started it (SUBSCRIBE stream,
 * UPDATE calls), fetches each task's URIs into its sandbox, starts each
 * task through mesos-containerizer in its container (cgroups, pid
 * namespace or rlimits, as the agent decided), reports TASK_STARTING,
 * TASK_RUNNING and a terminal state with the reference's reasons, kills
 * with SIGTERM, a grace period and SIGKILL, and outlives agent restarts:
 * it reconnects and resends what the agent has not acknowledged.
 *
 * Private header, prototypes grouped by file.
 */
#ifndef EXECUTOR_H
#define EXECUTOR_H

#include <limits.h>
#include <stdbool.h>
#include <sys/queue.h>
#include <sys/types.h>

#include <jansson.h>

#include "dcos/stream_decode.h"
#include "mesos_common.h"

struct event;
struct event_base;
struct evhttp_connection;
struct fetch;
struct health;

struct exec_flags {
	const char *framework_id, *executor_id, *directory, *sandbox;
	const char *agent_endpoint, *container_id, *isolation, *runtime_dir;
	const char *containerizer, *fetcher;
	const char *cgroups_mem, *cgroups_cpu, *cgroups_cpuacct;
	const char *log_level;
	long long cgroups_version;
	bool checkpoint, switch_user, cgroups_enable_cfs;
	double recovery_timeout, subscription_backoff_max;
	double executor_shutdown_grace_period;
};

struct etask {
	TAILQ_ENTRY(etask) link;
	struct executor *e;
	int index;               /* names its pid file: task.<index> */
	char *id;
	json_t *info;            /* TaskInfo */
	char state[32];          /* the latest state we reported */
	char sandbox[PATH_MAX];  /* MESOS_SANDBOX of the task */
	pid_t pid;               /* containerizer: the task, or its pid-1 init */
	int status_fd;           /* pid namespace: the task's wait status */
	bool group, started, exited, killing, oom, killed_by_health;
	struct health *health;   /* its health check, when it has one */
	double grace;            /* seconds between SIGTERM and SIGKILL */
	struct event *kill_timer;
	struct fetch *fetch;     /* mesos-fetcher running for it */
	long oom_base;           /* OOM kills in the container before us */
};
TAILQ_HEAD(etask_list, etask);

struct executor {
	struct event_base *base;
	struct exec_flags f;
	struct evhttp_connection *sub_conn, *call_conn;
	struct recordio_decoder rio;
	bool connected, ever_subscribed;
	long sub_status;
	char sub_error[512];
	size_t sub_error_len;
	struct event *reconnect, *shutdown_timer, *exit_timer, *oom_timer;
	struct event *sigchld, *sigterm;
	struct event *oom_ev;
	int oom_fd;
	double backoff, disconnected_at;
	json_t *framework_info, *executor_info;
	char agent_id[128];
	struct etask_list tasks;
	int next_index;
	json_t *unacked_updates; /* [{framework_id, status}] */
	json_t *unacked_tasks;   /* TaskInfo of tasks without an acked update */
	json_t *outbox;          /* statuses still to POST, in order */
	json_t *inflight;        /* the status being POSTed (one at a time) */
	struct cg_config cg;
	bool cg_created, pid_ns, rlimits, shutting_down, exiting;
	int exit_code;
};

/* connection.c */
void conn_start(struct executor *e);
void conn_send_update(struct executor *e, json_t *status /* stolen */);
void conn_stop(struct executor *e);

/* tasks.c */
void tasks_launch(struct executor *e, const json_t *task, bool group);
void tasks_kill(struct executor *e, const char *task_id,
    const json_t *kill_policy);
void tasks_shutdown(struct executor *e, const char *why);
void tasks_reap(struct executor *e);
void tasks_acknowledged(struct executor *e, const char *task_id,
    const char *uuid);
void tasks_maybe_exit(struct executor *e);
void tasks_status(struct executor *e, struct etask *t, const char *state,
    const char *reason, const char *message, json_t *extra);
bool tasks_framework_capable(const struct executor *e, const char *cap);
void tasks_free(struct executor *e);
void tasks_start_process(struct executor *e, struct etask *t);

/* health.c */
void health_start(struct executor *e, struct etask *t);
/* true when pid was a command health check (its end is handled) */
bool health_reaped(struct executor *e, pid_t pid, int wstatus);
void health_stop(struct etask *t);

/* spawn.c */
/* Forks (a new pid namespace with newpid) and execs path with argv: info
 * on its fd 3, and when result_fd is not NULL a pipe on its fd 4 whose
 * read end comes back there. */
pid_t spawn_helper(struct executor *e, const char *path, char *const argv[],
    const char *info, bool newpid, int *result_fd, char *err, size_t errlen);
/* Forks (a new pid namespace with newpid: the child is then its init and
 * reports the command's wait status on *status_fd) a child that becomes
 * the process info describes. */
pid_t spawn_launch(struct executor *e, const json_t *info, bool newpid,
    int *status_fd, char *err, size_t errlen);
pid_t spawn_task(struct executor *e, struct etask *t, int *status_fd,
    char *err, size_t errlen);
json_t *spawn_launch_info(struct executor *e, struct etask *t, char *err,
    size_t errlen);
void spawn_record_pid(struct executor *e, struct etask *t);
void spawn_forget_pid(struct executor *e, struct etask *t);
int spawn_container(struct executor *e, char *err, size_t errlen);
void spawn_destroy_container(struct executor *e);

/* fetch.c: runs mesos-fetcher for a task's URIs */
typedef void (*fetch_done_fn)(struct etask *t, const char *error);
struct fetch *fetch_start(struct executor *e, struct etask *t,
    const json_t *uris, const char *user, fetch_done_fn done);
/* true when pid was a fetcher (its end is handled) */
bool fetch_reaped(struct executor *e, pid_t pid, int wstatus);
void fetch_cancel(struct fetch *f);

#endif

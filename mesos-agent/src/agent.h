/*
 * dcos-mesos-slave: the Mesos agent. Registers this node's resources with
 * the leading master over the agent channel (mesos-master/AGENT_PROTOCOL.md),
 * starts one mesos-executor per task (or task group) in a Mesos sandbox,
 * speaks the v1 executor HTTP API with it, relays status updates reliably
 * (checkpointed until the framework acknowledges them), serves the agent
 * endpoints on 5051 (/state, /files, /monitor/statistics, ...), recovers
 * running executors after a restart, and garbage-collects old sandboxes.
 *
 * One libevent loop owns everything here. Prototypes are grouped by file.
 */
#ifndef AGENT_H
#define AGENT_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/queue.h>
#include <sys/types.h>

#include <jansson.h>

#include "dcos/ids.h"
#include "dcos/resources.h"
#include "mesos_common.h"

struct event;
struct event_base;
struct daemon;
struct http_server;
struct http_stream;
struct ipc;
struct ipc_call;
struct strmap;
struct store;
struct flags_spec;

struct agent_flags {
	const char *master, *ip, *hostname, *advertise_ip, *work_dir;
	const char *resources, *attributes, *default_role, *isolation;
	const char *cgroups_root, *launcher_dir, *executor_environment_variables;
	const char *log_level, *recover;
	int port, agent_channel_port, master_agent_port;
	double executor_registration_timeout, executor_reregistration_timeout;
	double executor_shutdown_grace_period, recovery_timeout;
	double gc_delay, disk_watch_interval, gc_disk_headroom;
	double registration_backoff_factor, status_update_retry_interval;
	bool switch_user, cgroups_enable_cfs, shutdown_executors_on_exit;
	long long max_completed_executors_per_framework;
	long long max_completed_frameworks;
};

/* Where a task is in its executor's life. */
enum task_phase { PHASE_QUEUED, PHASE_LAUNCHED, PHASE_TERMINATED,
	PHASE_COMPLETED };

struct task {
	TAILQ_ENTRY(task) link;
	struct executor *ex;
	char *id;
	json_t *info;       /* TaskInfo as the master sent it */
	char state[32];     /* the latest state the executor reported */
	json_t *statuses;   /* state-endpoint TaskStatus objects, oldest first */
	struct resources res;
	enum task_phase phase;
	bool kill_pending;  /* a KILL to send when the executor reconnects */
	bool killing;       /* a kill was asked for */
	json_t *kill_policy;
};
TAILQ_HEAD(task_list, task);

enum executor_state {
	EXEC_LAUNCHING,    /* spawned, not subscribed yet */
	EXEC_RUNNING,      /* subscribed (its stream may be down for a while) */
	EXEC_TERMINATING,  /* asked to shut down */
	EXEC_TERMINATED,   /* the process is gone */
};

struct executor {
	TAILQ_ENTRY(executor) link;
	struct agent *a;
	struct framework *fw;
	char *id;
	char container_id[UUID_STR_LEN];
	json_t *info;           /* ExecutorInfo (generated for command tasks) */
	json_t *container;      /* what the container was launched with */
	bool command;           /* our command executor, one task */
	bool group;             /* DEFAULT executor, one task group */
	char *directory;        /* the sandbox */
	char *meta;             /* its run directory under meta/ */
	enum executor_state state;
	bool recovered;         /* found at start, waiting to reconnect */
	enum { RECOVER_NONE, RECOVER_EXITED, RECOVER_DESTROY } recover_action;
	bool shutdown_pending;  /* SHUTDOWN to send when it subscribes */
	pid_t pid;
	unsigned long long pid_start; /* to tell the pid from a reused one */
	bool child;             /* ours to wait for */
	int pidfd;
	struct event *exit_ev;  /* pidfd readable, or a poll timer */
	struct event *timer;    /* registration / shutdown deadline */
	struct http_stream *stream;
	struct task_list queued, launched, terminated, completed;
	size_t ncompleted;
	struct resources res;   /* the executor's own resources */
	double start_time, end_time;
	int wstatus;            /* when it was our child */
	bool exited_known;
	const char *term_reason; /* REASON_* for synthesized updates */
	char term_message[256];
};
TAILQ_HEAD(executor_list, executor);

struct framework {
	TAILQ_ENTRY(framework) link;
	char *id;
	json_t *info;           /* FrameworkInfo */
	bool terminating;
	struct executor_list executors;
	struct executor_list completed; /* newest last, bounded */
	size_t ncompleted;
	/* indexes, so a burst of launches and updates does not scan lists:
	 * id -> running executor, id -> task (running or completed
	 * executors). An id met twice (only a recovery can do that) turns
	 * an index off: lookups then scan, as they did before indexes. */
	struct strmap *executors_by_id, *tasks_by_id;
	bool executor_ids_dup, task_ids_dup;
};
TAILQ_HEAD(framework_list, framework);

/* One task's status updates, relayed in order, one at a time, until the
 * framework acknowledges each (the Mesos status update manager). */
struct update_stream {
	struct agent *a;
	char *key;              /* "<framework id>\n<task id>" */
	char *fw_id, *task_id;
	int fd;                 /* task.updates, appended; -1 when not kept */
	json_t *pending;        /* StatusUpdate objects, oldest first */
	json_t *seen;           /* uuid -> true */
	struct event *retry;
	bool sent;              /* the head went out at least once */
	bool terminated;        /* a terminal update was acknowledged */
};

enum agent_state {
	AGENT_RECOVERING,       /* reading the checkpoint, waiting for executors */
	AGENT_DISCONNECTED,     /* looking for the leading master */
	AGENT_REGISTERING,
	AGENT_RUNNING,
	AGENT_TERMINATING,
};

struct gc_entry {
	TAILQ_ENTRY(gc_entry) link;
	char *path;
	double scheduled, due;
};
TAILQ_HEAD(gc_list, gc_entry);

struct agent {
	struct event_base *base;
	struct daemon *daemon;
	struct http_server *http;
	struct ipc *channel;            /* REP: the master's requests */
	struct agent_flags f;
	const struct flags_spec *spec;
	char id[128];                   /* "" until registered */
	char ip[64], hostname[256], pid[320], channel_url[128];
	char boot_id[64];
	struct resources total;
	struct attributes attrs;
	json_t *exec_env;               /* --executor_environment_variables */
	char executor_bin[PATH_MAX], containerizer_bin[PATH_MAX];
	struct {
		char isolation[256];    /* what is in effect */
		struct cg_config cg;
		bool pid_ns, rlimits;
		char notes[512];        /* why something is off */
	} iso;
	double start_time;
	enum agent_state state;
	struct {
		char **urls;            /* candidate channel urls */
		size_t n, idx;
		struct ipc *req;
		char url[256];          /* the one req dials */
		char master_id[128];
		char hostname[256];
		struct ipc_call *call;  /* registration in flight */
		struct event *retry, *watch;
		double backoff, ping_interval, last_ping;
		int max_pings;
		bool dqlite;
		struct store *store;
		bool registered_before;
		bool hinted;            /* url came from a NOT_LEADER hint */
	} m;
	struct framework_list frameworks;
	struct framework_list completed_frameworks;
	size_t ncompleted_frameworks;
	struct strmap *streams;         /* key -> update_stream */
	struct gc_list gc;              /* oldest first */
	struct strmap *gc_paths;        /* path -> gc_entry */
	struct event *gc_timer, *gc_watch;
	int recovering;                 /* executors still to reconnect */
	struct event *stop_timer;
	struct {
		unsigned long long valid_updates, invalid_updates;
		unsigned long long launch_errors, registrations;
		unsigned long long gc_ok, gc_failed;
		unsigned long long tasks_finished, tasks_failed, tasks_killed,
		    tasks_lost;
	} metrics;
};

/* lifecycle.c */
int agent_setup(struct agent *a, char *err, size_t errlen);
void agent_stop(void *arg);
void agent_teardown(struct agent *a);
void agent_shutdown_all(struct agent *a, const char *why);
void agent_check_stopped(struct agent *a);

/* config.c */
void config_spec(struct agent *a, struct flags_spec *spec);
int config_setup(struct agent *a, char *err, size_t errlen);
int config_detect_resources(const char *work_dir, const char *default_role,
    struct resources *out, char *err, size_t errlen);
int config_fill_resources(const char *work_dir, const char *default_role,
    struct resources *r, char *err, size_t errlen);

/* isolation.c */
int isolation_setup(struct agent *a, char *err, size_t errlen);

/* master.c */
int master_start(struct agent *a, char *err, size_t errlen);
void master_stop(struct agent *a);
void master_reregister(struct agent *a, const char *why);
void master_send(struct agent *a, json_t *msg /* stolen */, bool status);
void master_ping(struct agent *a, const char *master_id);
void master_follow(struct agent *a, const char *leader, const char *why);
void master_recovered(struct agent *a);

/* channel.c */
int channel_start(struct agent *a, char *err, size_t errlen);

/* frameworks.c */
struct framework *framework_find(struct agent *a, const char *id);
struct framework *framework_add(struct agent *a, const json_t *info);
struct framework *framework_new(const char *id, json_t *info /* stolen */);
void framework_free(struct framework *fw);
void framework_maybe_remove(struct agent *a, struct framework *fw);
struct executor *executor_find(struct framework *fw, const char *id);
struct executor *executor_new(struct agent *a, struct framework *fw,
    const char *id, json_t *info, bool command, bool group,
    const char *container_id);
struct task *executor_task(struct executor *ex, const char *task_id);
struct task *task_find(struct agent *a, const char *fw_id, const char *id);
struct task *task_new(struct executor *ex, const char *id, const json_t *info,
    enum task_phase phase);
void task_set_phase(struct task *t, enum task_phase phase);
void executor_maybe_complete(struct executor *ex);
void executor_retire(struct executor *ex);
void executor_free(struct executor *ex);
void task_free(struct task *t);

/* launch.c */
int launch_task(struct agent *a, const json_t *fw_info, const json_t *task,
    const json_t *executor, const json_t *group, char *err, size_t errlen);
void launch_kill_task(struct agent *a, const char *fw_id, const char *task_id,
    const json_t *kill_policy);
void launch_shutdown_framework(struct agent *a, const char *fw_id);
void launch_shutdown_executor(struct agent *a, struct executor *ex);
void launch_framework_message(struct agent *a, const char *fw_id,
    const char *ex_id, const char *data);

/* containers.c */
int container_spawn(struct agent *a, struct executor *ex, char *err,
    size_t errlen);
int container_watch(struct agent *a, struct executor *ex);
void container_destroy(struct agent *a, struct executor *ex);
void container_exited(struct agent *a, struct executor *ex);
void container_registration_timeout(int fd, short what, void *arg);
void container_cg(const json_t *container, struct cg_config *cg);

/* executor_api.c */
void executor_api_routes(struct agent *a);
void executor_send(struct executor *ex, json_t *event /* stolen */);
void executor_send_launch(struct executor *ex);
void executor_send_kill(struct executor *ex, struct task *t);
void executor_send_shutdown(struct executor *ex);
void executor_stream_close(struct executor *ex);

/* updates.c */
int updates_handle(struct agent *a, const char *fw_id, json_t *status,
    struct executor *ex, char *err, size_t errlen);
void updates_ack(struct agent *a, const char *fw_id, const char *task_id,
    const char *uuid);
void updates_flush(struct agent *a);
void updates_synthesize(struct agent *a, const char *fw_id,
    struct executor *ex, struct task *t, const char *task_id,
    const char *state, const char *reason, const char *message);
void updates_forget_framework(struct agent *a, const char *fw_id);
struct update_stream *updates_stream(struct agent *a, const char *fw_id,
    const char *task_id);
int updates_recover(struct agent *a, const char *fw_id, const char *task_id,
    const char *path, struct task *t);
void updates_free_all(struct agent *a);
bool updates_pending(struct agent *a, const char *fw_id, const char *task_id);

/* checkpoint.c */
int checkpoint_agent(struct agent *a, char *err, size_t errlen);
int checkpoint_framework(struct agent *a, struct framework *fw);
int checkpoint_run(struct agent *a, struct executor *ex, char *err,
    size_t errlen);
int checkpoint_task(struct agent *a, struct task *t, char *err, size_t errlen);
void checkpoint_executor_done(struct agent *a, struct executor *ex);
void checkpoint_gc_executor(struct agent *a, struct executor *ex);
void checkpoint_forget_agent(struct agent *a);

/* recover.c */
int recover_state(struct agent *a, char *err, size_t errlen);
void recover_executor_done(struct agent *a, struct executor *ex);

/* state.c */
void state_routes(struct agent *a);
json_t *state_task_json(const struct task *t);
json_t *state_v1_task(const struct agent *a, const struct task *t);
json_t *state_agent_info(const struct agent *a);
const char *state_name(enum agent_state s);

/* files.c */
void files_routes(struct agent *a);
/* Pure: does path stay inside root after normalisation? The normalised
 * relative part goes to rel. */
int files_normalize(const char *path, char *out, size_t size);

/* monitor.c */
void monitor_routes(struct agent *a);

/* gc.c */
void gc_start(struct agent *a);
void gc_schedule(struct agent *a, const char *path, double mtime);
void gc_unschedule(struct agent *a, const char *path);
void gc_free(struct agent *a);
/* Pure: how old a path may get when the disk is this full. */
double gc_max_age(double delay, double headroom, double usage);

#endif

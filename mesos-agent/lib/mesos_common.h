/*
 * mesos_common: what the three programs of the Mesos agent share:
 * dcos-mesos-slave (the agent), mesos-executor (one per task or task group)
 * and mesos-containerizer (puts one task process into its container and
 * execs it). Pure helpers, no event loop: the sandbox and checkpoint path
 * layout, small file utilities, TaskStatus construction, and the cgroups
 * (v1 or v2) operations for container memory and cpu limits.
 */
#ifndef MESOS_COMMON_H
#define MESOS_COMMON_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <sys/queue.h>

#include <jansson.h>

/* glibc's sys/queue.h lacks the BSD _SAFE iterators */
#ifndef TAILQ_FOREACH_SAFE
#define TAILQ_FOREACH_SAFE(var, head, field, tvar)			\
	for ((var) = TAILQ_FIRST((head));				\
	    (var) && ((tvar) = TAILQ_NEXT((var), field), 1);		\
	    (var) = (tvar))
#endif

/* paths.c: the Mesos work_dir layout
 *   <work_dir>/slaves/<agent>/frameworks/<fw>/executors/<ex>/runs/<container>
 *   <work_dir>/meta/slaves/<agent>/frameworks/<fw>/runs/<container>/...
 * Each returns 0, or -1 when the path does not fit. */
int mesos_id_valid(const char *id, char *err, size_t errlen);
int paths_sandbox(char *buf, size_t size, const char *work_dir,
    const char *agent, const char *fw, const char *ex, const char *container);
int paths_sandbox_runs(char *buf, size_t size, const char *work_dir,
    const char *agent, const char *fw, const char *ex);
int paths_meta_agent(char *buf, size_t size, const char *work_dir,
    const char *agent);
int paths_meta_framework(char *buf, size_t size, const char *work_dir,
    const char *agent, const char *fw);
int paths_meta_run(char *buf, size_t size, const char *work_dir,
    const char *agent, const char *fw, const char *container);
/* A task's file in its run's meta directory: "<run>/<kind>.<task id>". */
int paths_task_file(char *buf, size_t size, const char *run, const char *kind,
    const char *task);
int paths_join(char *buf, size_t size, const char *dir, const char *name);

/* fsutil.c */
/* Writes a file through a temporary and rename, fsynced. */
int fs_write_atomic(const char *path, const void *data, size_t len,
    char *err, size_t errlen);
/* The same without the fsync: survives the process, not the machine. */
int fs_write_file(const char *path, const void *data, size_t len,
    char *err, size_t errlen);
int fs_write_json(const char *path, const json_t *v, char *err, size_t errlen);
int fs_write_json_nosync(const char *path, const json_t *v, char *err,
    size_t errlen);
/* Returns a new reference, or NULL with the reason in err. */
json_t *fs_read_json(const char *path, char *err, size_t errlen);
/* Whole small file, NUL-terminated; caller frees. NULL on error. */
char *fs_read_text(const char *path, size_t *len);
/* Makes linkpath a symlink to target, replacing any old link atomically. */
int fs_symlink_replace(const char *target, const char *linkpath);
/* The target of a symlink (its last component), into buf. */
int fs_readlink(const char *linkpath, char *buf, size_t size);
/* rm -rf; 0, or -1 when something could not be removed. */
int fs_rmtree(const char *path);
/* Bytes used by the files under path (st_blocks), for disk statistics. */
uint64_t fs_du(const char *path);
/* Process start time in clock ticks since boot (field 22 of
 * /proc/<pid>/stat), to tell a pid from a reused one; 0 when gone. */
unsigned long long fs_proc_start_time(pid_t pid);
/* /proc/sys/kernel/random/boot_id into buf (37 bytes). */
int fs_boot_id(char *buf, size_t size);

/* status.c: TaskStatus JSON (v1 shapes) */
bool task_state_valid(const char *state);
bool task_state_terminal(const char *state);
double mesos_now(void);
/* 16 random bytes, base64: a status update's uuid. out holds 25 bytes. */
void status_uuid(char *out);
/* A new TaskStatus {task_id, state, source, reason?, message?, uuid,
 * timestamp}; executor_id and agent_id are added when not NULL. Returns a
 * new reference. */
json_t *status_new(const char *task_id, const char *state,
    const char *source, const char *reason, const char *message,
    const char *executor_id, const char *agent_id);
/* "Command exited with status 3", "Command terminated with signal
 * Killed" from a wait status. */
void status_describe_wait(int wstatus, char *buf, size_t size);
/* {"value": s} */
json_t *mesos_id(const char *s);
/* The "value" of an id object member, or NULL. */
const char *mesos_id_get(const json_t *obj, const char *key);

/* updates_log.c: replays a task.updates log: returns the updates not yet
 * acknowledged (new reference, oldest first), adds every uuid to seen and
 * every status to all (when not NULL), and leaves the latest state in
 * state. A torn last line (a write cut short) is ignored. */
json_t *updates_replay(const char *log, size_t len, json_t *seen,
    char *state, size_t size, json_t *all);

/* launch.c: a process becomes the task (see containerizer.h for the
 * launch info). launch_exec never returns on success; launch_setup joins
 * cgroups, applies rlimits and opens stdio; launch_init is pid 1 of a new
 * pid namespace: it runs the command as its child, forwards signals, reaps,
 * writes the command's wait status to status_fd, and returns our exit
 * code. */
void launch_exec(const json_t *info, char *err, size_t errlen);
int launch_setup(const json_t *info, char *err, size_t errlen);
int launch_init(const json_t *info, int status_fd);

/* cgroups.c: container limits. One base directory per controller, below
 * the agent's own cgroup: <mount><own cgroup>/<root>/<container id>. */
enum cg_version { CG_NONE = 0, CG_V1 = 1, CG_V2 = 2 };

struct cg_config {
	enum cg_version version;
	char mem[PATH_MAX];     /* "" when the controller is not usable */
	char cpu[PATH_MAX];
	char cpuacct[PATH_MAX]; /* v1 only */
};

struct cg_stats {
	double cpus_user_secs, cpus_system_secs, cpus_throttled_secs;
	uint64_t cpus_nr_periods, cpus_nr_throttled;
	uint64_t mem_limit, mem_usage, mem_max_usage, mem_rss, mem_cache,
	    mem_anon, mem_file, mem_mapped_file;
};

/* Finds the memory and cpu controllers (v2 unified, else v1) and creates
 * the base directories. 0, or -1 with the reason (cfg->version CG_NONE). */
int cg_setup(struct cg_config *cfg, const char *root, char *err,
    size_t errlen);
/* Pure: the mount of a controller from /proc/self/mountinfo text and the
 * process's path from /proc/self/cgroup text. ctl "" asks for cgroup2. */
int cg_find_mount(const char *mountinfo, const char *ctl, char *mnt,
    size_t mntsize, char *mroot, size_t mrootsize);
int cg_find_own(const char *proc_cgroup, const char *ctl, char *path,
    size_t size);

int cg_create(const struct cg_config *c, const char *cid, double cpus,
    double mem_mb, bool cfs, char *err, size_t errlen);
/* The cgroup.procs files a process writes "0" into to join. */
int cg_procs_files(const struct cg_config *c, const char *cid,
    char files[][PATH_MAX], int max);
/* OOM kills so far in the container; -1 when unknown. */
long cg_oom_kills(const struct cg_config *c, const char *cid);
/* v1: an eventfd that becomes readable on OOM; -1 otherwise. */
int cg_oom_eventfd(const struct cg_config *c, const char *cid);
/* Signals every process in the container; returns how many. */
int cg_kill_all(const struct cg_config *c, const char *cid, int sig);
/* Kills what is left and removes the container's directories. */
int cg_destroy(const struct cg_config *c, const char *cid);
int cg_stats(const struct cg_config *c, const char *cid, struct cg_stats *s);
/* Removes container cgroups that hold no process and are older than
 * max_age seconds (left by executors that were killed outright); returns
 * how many. Never touches a container being set up: that takes
 * milliseconds. */
int cg_prune(const struct cg_config *c, double max_age);

#endif

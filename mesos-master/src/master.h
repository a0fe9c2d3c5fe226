/*
 * dcos-mesos-master: the private header. The data model of the master and
 * the prototypes of every file, grouped by file.
 *
 * One loop thread owns everything below. Agents, frameworks, tasks and
 * offers live in memory (indexed by strmaps, linked with TAILQs); only the
 * registry (admitted agents and frameworks) is in the store, as in Mesos:
 * tasks are rebuilt from re-registering agents after a failover.
 */
#ifndef MESOS_MASTER_H
#define MESOS_MASTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include <jansson.h>

#include "dcos/clock.h"
#include "dcos/flags.h"
#include "dcos/ids.h"
#include "dcos/json.h"
#include "dcos/jsonw.h"
#include "dcos/log.h"
#include "dcos/resources.h"
#include "dcos/xalloc.h"

struct event;
struct event_base;
struct daemon;
struct http_server;
struct http_req;
struct http_stream;
struct ipc;
struct ipc_pending;
struct ipc_call;
struct store;
struct store_result;
struct store_tx;
struct lease;
struct strmap;
struct alloc;
struct alloc_agent;
struct alloc_fw;

#define MASTER_MAX_ID 256 /* ids longer than this are refused at the edge */
#define DCOS_MESOS_VERSION "1.5.3" /* the Mesos API version we speak */

/* TaskState, in the order of the names table in tasks.c */
enum task_state {
	TASK_STAGING, TASK_STARTING, TASK_RUNNING, TASK_KILLING, TASK_FINISHED,
	TASK_FAILED, TASK_KILLED, TASK_ERROR, TASK_LOST, TASK_DROPPED,
	TASK_UNREACHABLE, TASK_GONE, TASK_GONE_BY_OPERATOR, TASK_UNKNOWN,
	TASK_STATE_MAX
};

/* FrameworkInfo.Capability.type */
enum {
	FW_CAP_REVOCABLE_RESOURCES = 1 << 0,
	FW_CAP_TASK_KILLING_STATE = 1 << 1,
	FW_CAP_GPU_RESOURCES = 1 << 2,
	FW_CAP_SHARED_RESOURCES = 1 << 3,
	FW_CAP_PARTITION_AWARE = 1 << 4,
	FW_CAP_MULTI_ROLE = 1 << 5,
	FW_CAP_RESERVATION_REFINEMENT = 1 << 6,
	FW_CAP_REGION_AWARE = 1 << 7,
};

enum master_role { ROLE_FOLLOWER, ROLE_RECOVERING, ROLE_LEADER };

enum agent_state {
	AGENT_ACTIVE,      /* registered and answering pings */
	AGENT_RECOVERED,   /* in the registry, not yet re-registered with us */
	AGENT_UNREACHABLE, /* missed its pings, or never came back */
};

struct master_flags {
	const char *ip, *hostname, *cluster, *work_dir, *store, *roles;
	const char *weights, *log_level, *advertise_ip;
	int port, agent_port, event_port;
	long long quorum, max_agent_ping_timeouts, max_completed_frameworks;
	long long max_completed_tasks_per_framework;
	double offer_timeout, agent_ping_timeout, agent_reregister_timeout;
	double allocation_interval, registry_max_agent_age, heartbeat_interval;
	double lease_ttl;
};

/* One status of a task, as the state endpoints show it; the full
 * TaskStatus JSON of the latest one is kept (as text) in task->last. */
struct task_status {
	enum task_state state;
	double timestamp;
	int healthy;            /* -1 unset */
	char *labels;           /* bare JSON array, or NULL */
	char *container_status; /* JSON object, or NULL */
};

struct task {
	char *id, *name, *executor_id; /* executor_id "" for command tasks */
	char *agent_id;                /* kept after the agent is gone */
	char *role;
	struct framework *fw;
	struct agent *agent;
	enum task_state state;
	struct resources res;
	char *labels, *discovery, *container, *user; /* pre-rendered JSON */
	struct task_status *statuses;
	size_t nstatuses;
	char *last;           /* latest TaskStatus (compact v1 JSON), or NULL */
	char *unacked;        /* latest status with a uuid, not yet acked */
	char *unacked_uuid;   /* its uuid */
	enum task_state unacked_state; /* and its state */
	bool launched;        /* the agent accepted RUN_TASK */
	bool released;        /* its resources went back (terminal) */
	bool unreachable;     /* its agent is unreachable */
	bool recovered;       /* learned from a re-registering agent */
	double launch_time;   /* monotonic, for the latency metric */
	char *json;           /* its /master/state rendering, while valid */
	size_t json_len;
	TAILQ_ENTRY(task) agent_link;
	TAILQ_ENTRY(task) done_link; /* in fw->completed */
};
TAILQ_HEAD(task_list, task);

struct executor {
	char *id;
	struct framework *fw;
	struct agent *agent;
	json_t *info; /* ExecutorInfo */
	struct resources res;
	int ntasks;   /* non-terminal tasks */
	TAILQ_ENTRY(executor) agent_link;
};
TAILQ_HEAD(executor_list, executor);

struct offer {
	char id[128];
	struct framework *fw;
	struct agent *agent;
	char *role;
	struct resources res;
	struct event *timeout;
	bool fresh;           /* made in this allocation pass, not sent yet */
	TAILQ_ENTRY(offer) fw_link, agent_link;
};
TAILQ_HEAD(offer_list, offer);

struct agent {
	struct master *m;
	char *id, *hostname, *pid, *ip, *channel, *version;
	int port;
	enum agent_state state;
	json_t *info;         /* agent_info as registered */
	json_t *capabilities; /* array of strings */
	json_t *attributes;   /* v1 array */
	char *attrs_summary;  /* rendered summary object */
	struct resources total, used, offered;
	double registered_time, reregistered_time, unreachable_time;
	int missed_pings;
	struct ipc_call *ping;
	struct chan *chan;
	struct alloc_agent *alloc;
	struct task_list tasks;
	struct executor_list executors;
	struct offer_list offers;
	bool reregistering;   /* a REREGISTER is being committed */
};

struct framework {
	struct master *m;
	char *id, *name, *user, *principal, *hostname, *webui_url;
	json_t *info;         /* FrameworkInfo with id */
	char *info_text;      /* info, rendered once for RUN_TASK */
	char **roles;
	size_t nroles;
	unsigned caps;
	double failover_timeout;
	bool checkpoint, connected, active, recovered;
	double registered_time, reregistered_time, unregistered_time;
	struct http_stream *stream;
	char stream_id[UUID_STR_LEN];
	struct event *heartbeat, *failover;
	struct strmap *tasks; /* id -> task, non-terminal and unacknowledged */
	struct task_list completed; /* newest last, bounded */
	size_t ncompleted;
	struct offer_list offers;
	struct resources used, offered;
	struct alloc_fw *alloc;
	bool batched;         /* has fresh offers in this pass */
	TAILQ_ENTRY(framework) done_link; /* in m->completed_frameworks */
};
TAILQ_HEAD(framework_list, framework);

/* A shared nng dialer to one agent channel URL. */
struct chan {
	char *url;
	struct ipc *req;
	int refs;
};

struct master_metrics {
	uint64_t agent_registrations, agent_reregistrations, agent_removals;
	uint64_t agents_unreachable_completed;
	uint64_t valid_status_updates, invalid_status_updates;
	uint64_t tasks_launched, offers_sent, offers_declined, offers_rescinded;
	uint64_t tasks_by_state[TASK_STATE_MAX]; /* transitions into a state */
	uint64_t dropped_messages, allocation_runs;
	double allocation_run_ms; /* last run */
	uint64_t messages_scheduler_calls, messages_agent;
};

struct master {
	struct event_base *base;
	struct daemon *daemon;
	struct master_flags f;
	const struct flags_spec *spec;
	char id[UUID_STR_LEN];
	char pid[128], hostname[256], address[300]; /* address: host:port */
	uint32_t ip_be;
	double start_time, elected_time;
	enum master_role role;
	unsigned elections; /* grows at each election and step-down */
	struct http_server *http;
	struct ipc *chan_rep, *pub;
	struct store *store;
	struct lease *lease;
	struct registry *reg;
	struct strmap *agents;        /* id -> agent (all states) */
	struct strmap *agents_by_pid; /* pid -> agent (ACTIVE) */
	struct strmap *gone_agents;   /* id -> (void *)1 */
	struct strmap *frameworks;    /* id -> framework (not removed) */
	struct strmap *offers;        /* id -> offer */
	struct strmap *channels;      /* url -> chan */
	struct strmap *registering;   /* pid -> struct pending_reg */
	struct framework_list completed_frameworks;
	size_t ncompleted_frameworks;
	struct alloc *alloc;
	struct event *alloc_soon, *alloc_tick, *ping_tick, *gc_tick;
	struct event *reregister_deadline;
	unsigned next_agent, next_framework;
	unsigned long long next_offer;
	struct master_metrics metrics;
	TAILQ_HEAD(outmsg_list, outmsg) outmsgs; /* to agents, in flight */
	struct opsub *opsubs;         /* operator API SUBSCRIBE streams */
	size_t nopsubs;
	struct strmap *weights;       /* role -> double *: UPDATE_WEIGHTS */
	enum log_level log_base;      /* --log_level */
	struct event *log_revert;     /* ends a SET_LOGGING_LEVEL */
};

/* config.c */
const struct flags_spec *config_spec(struct master_flags *f);
int config_check(struct master *m, char *err, size_t errlen);
double config_role_weight(const struct master *m, const char *role);
int config_role_allowed(const struct master *m, const char *role);

/* weights.c: role weights for DRF: --weights, overridden by UPDATE_WEIGHTS
 * (kept in the registry) */
double weights_get(const struct master *m, const char *role);
/* gives the allocator every weight known (after it is made anew) */
void weights_apply(struct master *m);
void weights_set(struct master *m, const char *role, double weight);
void weights_clear(struct master *m);
/* {"weight_infos": [{"role", "weight"}]} */
json_t *weights_json(const struct master *m);

/* operator_admin.c: operator calls beyond the state reads */
void operator_admin_call(struct master *m, struct http_req *req,
    const char *type, const json_t *body);
/* answered by any master (logging level, files), not only the leader */
bool operator_admin_local(const char *type);
void operator_admin_close(struct master *m);

/* master.c */
struct master *master_new(struct event_base *base, const struct flags_spec *spec,
    const struct master_flags *f);
int master_start(struct master *m);
void master_stop(void *arg);
void master_free(struct master *m);
void master_reset(struct master *m);
json_t *master_info_v1(const struct master *m);

/* leader.c */
void leader_start(struct master *m);
void leader_step_down(struct master *m, const char *why);
/* 0 when this master may serve leader-only requests; otherwise replies
 * (307 to the leader, 503 without one or while recovering) and returns -1 */
int leader_guard_http(struct master *m, struct http_req *req);
const char *leader_address(const struct master *m);

/* registry.c */
struct registry *registry_new(struct master *m);
void registry_free(struct registry *r);
int registry_migrate(struct store *s, char *err, size_t errlen);
typedef void (*registry_done_fn)(struct master *m, int code, void *arg);
void registry_admit_agent(struct master *m, const struct agent *a,
    registry_done_fn cb, void *arg);
void registry_mark_agent(struct master *m, const char *agent_id,
    const char *state, registry_done_fn cb, void *arg);
void registry_remove_agent(struct master *m, const char *agent_id);
void registry_put_framework(struct master *m, const struct framework *fw,
    registry_done_fn cb, void *arg);
void registry_remove_framework(struct master *m, const char *fw_id);
/* weights: {"role": weight, ...}, written in one transaction */
void registry_put_weights(struct master *m, const json_t *weights,
    registry_done_fn cb, void *arg);
/* reads the registry: agents become RECOVERED, frameworks recovered */
void registry_recover(struct master *m, void (*done)(struct master *, int));

/* agents.c */
struct agent_reg {
	const char *agent_id, *hostname, *pid, *channel, *version;
	int port;
	struct resources total;
	const json_t *info, *attributes, *capabilities;
	const json_t *tasks, *executors, *frameworks; /* re-registration */
};
struct agent *agent_find(const struct master *m, const char *id);
struct agent *agent_new(struct master *m, const char *id);
void agent_free(struct agent *a);
void agent_apply_reg(struct agent *a, const struct agent_reg *reg);
void agents_register(struct master *m, const struct agent_reg *reg,
    struct ipc_pending *p);
void agents_reregister(struct master *m, const struct agent_reg *reg,
    struct ipc_pending *p);
void agents_activate(struct master *m, struct agent *a);
void agents_alloc_detach(struct master *m, struct agent *a);
void agents_mark_unreachable(struct master *m, struct agent *a,
    const char *why);
void agents_mark_gone(struct master *m, struct agent *a, bool by_operator);
void agents_ping_all(struct master *m);
void agents_reregister_deadline(struct master *m);
void agents_gc(struct master *m);
json_t *agent_url_v1(const struct agent *a);
void agents_pending_free(struct master *m);

/* agent_report.c */
/* Frameworks this master removed whose tasks the agent still runs are put
 * in shutdown (id -> 1): the caller tells the agent to shut them down. */
void agent_apply_report(struct master *m, struct agent *a,
    const json_t *tasks, const json_t *executors, const json_t *frameworks,
    struct strmap *shutdown);

/* channel.c */
int channel_listen(struct master *m, char *err, size_t errlen);
void channel_close(struct master *m);
/* An id of an agent message, written {"value": "..."} (v1) or as a bare
 * string; NULL when missing, empty or too long. */
const char *channel_id_of(const json_t *obj, const char *key);
struct chan *chan_get(struct master *m, const char *url);
void chan_put(struct master *m, struct chan *c);
typedef void (*agent_reply_fn)(struct master *m, json_t *reply,
    const char *err, void *arg);
/* Sends msg (stolen) to the agent, retrying while it stays active. */
void agent_send(struct master *m, struct agent *a, json_t *msg,
    agent_reply_fn cb, void *arg);
/* The same with the message already rendered (text is taken). */
void agent_send_text(struct master *m, struct agent *a, char *text,
    const char *type, agent_reply_fn cb, void *arg);
void agent_ping(struct master *m, struct agent *a);

/* frameworks.c */
struct framework *framework_find(const struct master *m, const char *id);
/* A framework this master removed (among the completed ones), or NULL. */
struct framework *framework_completed(const struct master *m, const char *id);
struct framework *framework_new(struct master *m, const char *id,
    const json_t *info);
void framework_free(struct framework *fw);
void framework_set_info(struct framework *fw, const json_t *info);
int framework_send(struct framework *fw, const json_t *event);
int framework_send_text(struct framework *fw, const char *text, size_t len);
/* {"type":"UPDATE","update":{"status":<status>}}; caller frees */
char *update_event_text(const char *status, size_t *len);
void framework_attach(struct framework *fw, struct http_stream *s,
    const char *stream_id);
void framework_stream_closed(struct http_stream *s, void *arg);
void framework_disconnect(struct framework *fw, const char *why);
void framework_start_failover(struct framework *fw, double timeout);
void framework_remove(struct master *m, struct framework *fw,
    const char *why);
void framework_complete_task(struct framework *fw, struct task *t);
void frameworks_resend_updates(struct framework *fw);
const char *framework_role_of(const struct framework *fw);
json_t *framework_caps_json(unsigned caps);
unsigned framework_caps_parse(const json_t *caps);

/* tasks.c */
const char *task_state_name(enum task_state s);
int task_state_parse(const char *name);
bool task_state_terminal(enum task_state s);
struct task *task_new(struct framework *fw, struct agent *a, const char *id);
void task_free(struct task *t);
void task_set_info(struct task *t, const json_t *taskinfo);
void task_add_status(struct master *m, struct task *t, const json_t *status);
void task_transition(struct master *m, struct task *t,
    enum task_state state, const char *reason, const char *message,
    const char *source, bool forward);
/* latest: the newest state the agent knows (-1 when not given): the
 * task's state as far as the master is concerned, even while older
 * updates still wait for acknowledgement (Mesos' latest_state). */
void tasks_status_update(struct master *m, struct agent *a,
    const char *fw_id, json_t *status, int latest, struct ipc_pending *p);
void tasks_release_resources(struct master *m, struct task *t);
void tasks_acknowledge(struct master *m, struct framework *fw,
    const char *agent_id, const char *task_id, const char *uuid);
void tasks_kill(struct master *m, struct framework *fw, const char *task_id,
    const char *agent_id, const json_t *kill_policy);
json_t *task_status_json(const struct task *t, enum task_state state,
    const char *reason, const char *message, const char *source);
int task_forward_state(const struct framework *fw, enum task_state s);

/* allocator.c: DRF over roles and frameworks; pure logic */
typedef void (*alloc_offer_fn)(void *fw_owner, void *agent_owner,
    const char *role, const struct resources *res, void *arg);
struct alloc *alloc_new(void);
void alloc_free(struct alloc *a);
void alloc_set_weight(struct alloc *a, const char *role, double weight);
struct alloc_agent *alloc_agent_add(struct alloc *a, void *owner,
    const struct resources *total, const struct resources *used);
void alloc_agent_remove(struct alloc *a, struct alloc_agent *ag);
struct alloc_fw *alloc_fw_add(struct alloc *a, void *owner,
    const char *const *roles, size_t nroles, bool active);
void alloc_fw_remove(struct alloc *a, struct alloc_fw *fw);
void alloc_fw_activate(struct alloc *a, struct alloc_fw *fw, bool active);
void alloc_fw_set_roles(struct alloc *a, struct alloc_fw *fw,
    const char *const *roles, size_t nroles);
void alloc_suppress(struct alloc *a, struct alloc_fw *fw, const char *role);
void alloc_revive(struct alloc *a, struct alloc_fw *fw, const char *role);
void alloc_filter(struct alloc *a, struct alloc_fw *fw, struct alloc_agent *ag,
    const struct resources *res, double until);
/* resources allocated to fw on ag go back to ag (offer declined or
 * rescinded, task ended) */
void alloc_recover(struct alloc *a, struct alloc_fw *fw, struct alloc_agent *ag,
    const char *role, const struct resources *res);
/* resources fw already uses on ag (re-registration after failover) */
void alloc_use(struct alloc *a, struct alloc_fw *fw, struct alloc_agent *ag,
    const char *role, const struct resources *res);
/* Offers what is available: all agents, or only those that changed. */
size_t alloc_run(struct alloc *a, double now, bool all, alloc_offer_fn fn,
    void *arg);
bool alloc_pending(const struct alloc *a);
double alloc_role_share(const struct alloc *a, const char *role);
void *alloc_fw_owner(const struct alloc_fw *fw);

/* offers.c */
void offers_schedule(struct master *m);
void offers_allocate(struct master *m, bool all);
void offer_remove(struct master *m, struct offer *o, bool rescind,
    bool recover);
void offers_rescind_agent(struct master *m, struct agent *a);
void offers_rescind_framework(struct master *m, struct framework *fw,
    bool send);
struct offer *offer_find(const struct master *m, const char *id);
json_t *offer_json(const struct master *m, const struct offer *o);

/* sched_http.c */
void sched_http_route(struct master *m, struct http_server *srv);

/* sched_parse.c: the Call JSON into plain structs */
enum call_type {
	CALL_SUBSCRIBE, CALL_TEARDOWN, CALL_ACCEPT, CALL_DECLINE, CALL_REVIVE,
	CALL_SUPPRESS, CALL_KILL, CALL_SHUTDOWN, CALL_ACKNOWLEDGE,
	CALL_RECONCILE, CALL_MESSAGE, CALL_REQUEST, CALL_ACCEPT_INVERSE_OFFERS,
	CALL_DECLINE_INVERSE_OFFERS, CALL_ACKNOWLEDGE_OPERATION_STATUS,
	CALL_RECONCILE_OPERATIONS, CALL_UNKNOWN
};
struct launch_task {
	const json_t *info; /* TaskInfo, validated shape */
	const char *task_id, *agent_id, *name;
	struct resources res;
	const json_t *executor; /* ExecutorInfo or NULL */
};
struct operation {
	enum { OP_LAUNCH, OP_LAUNCH_GROUP } type;
	struct launch_task *tasks;
	size_t ntasks;
	const json_t *group_executor; /* LAUNCH_GROUP */
	struct resources group_executor_res;
};
struct reconcile_item {
	const char *id; /* task id, or operation id for RECONCILE_OPERATIONS */
	const char *agent_id;
};
struct sched_call {
	enum call_type type;
	const char *framework_id;
	const json_t *framework_info; /* SUBSCRIBE */
	const json_t *suppressed_roles;
	const char **offer_ids;       /* ACCEPT, DECLINE */
	size_t noffer_ids;
	struct operation *ops;
	size_t nops;
	double refuse_seconds;
	const char **roles;           /* REVIVE, SUPPRESS; empty = all */
	size_t nroles;
	/* task_id: the operation id for ACKNOWLEDGE_OPERATION_STATUS */
	const char *task_id, *agent_id, *executor_id, *uuid, *data;
	const json_t *kill_policy;
	struct reconcile_item *recon;
	size_t nrecon;
};
const char *call_type_name(enum call_type t);
int sched_parse(const json_t *body, struct sched_call *c, char *err,
    size_t errlen);
void sched_call_free(struct sched_call *c);
int sched_parse_framework_info(const json_t *fi, char *err, size_t errlen);
/* a Mesos role name: "/"-separated parts, none empty, "." or ".." */
int sched_valid_role(const char *r);

/* sched_calls.c */
void sched_subscribe(struct master *m, struct http_req *req,
    struct sched_call *c);
/* Returns the HTTP status (202, or 4xx/501 with err filled). */
int sched_call(struct master *m, struct framework *fw, struct sched_call *c,
    char *err, size_t errlen);

/* sched_accept.c */
void sched_accept(struct master *m, struct framework *fw,
    struct sched_call *c);

/* reconcile.c */
void reconcile_tasks(struct master *m, struct framework *fw,
    const struct reconcile_item *items, size_t n);
/* RECONCILE_OPERATIONS: this master runs no offer operations with ids
 * (ACCEPT takes LAUNCH and LAUNCH_GROUP only), so every operation asked
 * about is answered from what is known of its agent, as for unknown tasks */
void reconcile_operations(struct master *m, struct framework *fw,
    const struct reconcile_item *items, size_t n);

/* events.c: the event bus and operator API subscribers */
int events_listen(struct master *m, char *err, size_t errlen);
void events_close(struct master *m);
void events_agent_added(struct master *m, const struct agent *a,
    bool reregistered);
void events_agent_removed(struct master *m, const struct agent *a,
    const char *reason);
void events_task_added(struct master *m, const struct task *t);
void events_task_updated(struct master *m, const struct task *t);
void events_framework_added(struct master *m, const struct framework *fw);
void events_framework_updated(struct master *m, const struct framework *fw);
void events_framework_removed(struct master *m, const struct framework *fw);
void events_master_elected(struct master *m);
void events_opsub_start(struct master *m, struct http_req *req);
/* false when nobody listens: event payloads need not be rendered */
bool events_wanted(const struct master *m);
void events_opsub_close_all(struct master *m);

/* http_api.c */
int http_api_listen(struct master *m, char *err, size_t errlen);
void http_reply_json_text(struct http_req *req, int status, char *text,
    size_t len);

/* state_render.c: the v0 shapes */
void state_write_resources(struct jsonw *w, const struct resources *r);
/* Writes a task as the state endpoints show it (cached in the task until
 * task_touch). */
void state_write_task(struct jsonw *w, const struct task *t);
void task_touch(struct task *t);
/* The fields of a slaves[] element, inside an object the caller opened. */
void state_agent_fields(struct jsonw *w, const struct agent *a, bool full);
void state_agents(struct jsonw *w, struct master *m, const char *only,
    bool full);
void state_recovered_agents(struct jsonw *w, struct master *m);
void state_caps(struct jsonw *w, const struct framework *fw);
void state_frameworks(struct jsonw *w, struct master *m, const char *only);
void state_completed_frameworks(struct jsonw *w, struct master *m,
    const char *only);

/* state_json.c: the v0 operator endpoints */
void state_route(struct master *m, struct http_server *srv);
void state_write(struct master *m, struct jsonw *w);

/* operator_api.c */
void operator_route(struct master *m, struct http_server *srv);

/* v1_json.c: v1 protobuf-JSON shapes for the operator API and events */
json_t *v1_task(const struct task *t);
json_t *v1_agent(const struct master *m, const struct agent *a);
json_t *v1_framework(const struct framework *fw);
json_t *v1_executor(const struct executor *e);
json_t *v1_get_state(struct master *m);
json_t *v1_get_agents(struct master *m);
json_t *v1_get_frameworks(struct master *m);
json_t *v1_get_tasks(struct master *m);
json_t *v1_get_executors(struct master *m);
json_t *v1_id(const char *value);

#endif

/*
 * marathon.h: the private header of dcos-marathon, grouped by source file.
 *
 * The daemon is one libevent loop. Data flows one way:
 *
 *   HTTP (api_*.c) --parse/validate (app_parse.c)--> struct app
 *        --> a target root group (root.c) --> a deployment plan (plan.c)
 *        --> store (persist.c), then memory, then the reply
 *   Mesos (mesos.c) --> offers / status updates (sched.c, launch.c)
 *        --> instances (instance.c) --> reconcile (deploy.c) --> kills,
 *        launch counts, deployment progress --> events (events.c)
 *
 * Only the leader (leader.c, lease "marathon") has runtime state; followers
 * proxy every /v2 call to it.
 */
#ifndef MARATHON_H
#define MARATHON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "dcos/clock.h"
#include "dcos/constraints.h"
#include "dcos/json.h"
#include "dcos/resources.h"
#include "dcos/strmap.h"
#include "dcos/xalloc.h"

struct event;
struct event_base;
struct daemon;
struct http_client;
struct http_req;
struct http_server;
struct http_stream;
struct lease;
struct store;
struct store_tx;

#define PATHID_MAX 512
#define VERSION_LEN 32  /* "2015-09-30T09:09:17.614Z" + NUL */
#define TASKID_MAX 600

/* --- util.c --- */

/* "2015-09-30T09:09:17.614Z"; returns out */
char *util_iso8601(double t, char out[VERSION_LEN]);
int util_parse_iso8601(const char *s, double *out);
/* A new version timestamp, strictly later than any issued before. */
void util_version_next(char out[VERSION_LEN]);
/* All error messages recorded so far (json_errs_count counts paths). */
size_t errs_total(const struct json_errs *e);
/* Scala's Double.toString: 128.0, 0.1, 1.0E-4 */
void util_scala_double(double v, char *out, size_t size);

/* An ordered string map (labels, secrets). */
struct kv {
	char *key;
	char *value;
};

struct kvlist {
	struct kv *v;
	size_t n;
};

void kv_set(struct kvlist *l, const char *key, const char *value);
const char *kv_get(const struct kvlist *l, const char *key);
void kv_free(struct kvlist *l);
void kv_copy(struct kvlist *dst, const struct kvlist *src);

char **strv_dup(char *const *v, size_t n);
void strv_free(char **v, size_t n);
bool strv_has(char *const *v, size_t n, const char *s);

/* A growable text buffer. */
struct sbuf {
	char *p;
	size_t len, cap;
};

void sbuf_add(struct sbuf *b, const char *data, size_t len);
void sbuf_adds(struct sbuf *b, const char *s);
void sbuf_addf(struct sbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Appends compact JSON (v is not consumed). */
void sbuf_add_json(struct sbuf *b, const json_t *v);
void sbuf_free(struct sbuf *b);

/* --- pathid.c --- */

/* Canonical absolute form of a path id relative to base ("/" or a group):
 * "a/b" under "/g" gives "/g/a/b"; ".." goes up. 0, or -1 with Marathon's
 * message in err. The root "/" is valid only when allow_root. */
int pathid_canonical(const char *in, const char *base, bool allow_root,
    char *out, size_t size, char *err, size_t errlen);
/* "/shop/db" -> "shop_db" (task id prefix) */
void pathid_safe(const char *id, char *out, size_t size);
/* "/shop/db" -> "db.shop" (Mesos task name, DNS) */
void pathid_task_name(const char *id, char *out, size_t size);
/* "/shop/db" -> "/shop"; "/x" -> "/" */
void pathid_parent(const char *id, char *out, size_t size);
/* true when id is group or lies inside it */
bool pathid_under(const char *id, const char *group);
/* "shop_db.<uuid>" -> "/shop/db"; 0 or -1 */
int pathid_of_task(const char *task_id, char *out, size_t size);
/* "<safe>.<uuid1>" */
void pathid_new_task_id(const char *app_id, char *out, size_t size);

/* --- app.c: the app definition model --- */

enum hc_protocol {
	HC_HTTP, HC_HTTPS, HC_TCP, HC_COMMAND, HC_MESOS_HTTP, HC_MESOS_HTTPS,
	HC_MESOS_TCP,
};

struct health_check {
	enum hc_protocol protocol;
	char *path;          /* HTTP kinds; NULL when absent */
	int port_index;      /* -1 when absent */
	int port;            /* 0 when absent */
	char *command;       /* COMMAND */
	int grace_period, interval, timeout, max_failures, delay;
	bool ignore_http1xx;
	bool ipv6;
};

struct readiness_check {
	char *name;
	bool https;
	char *path;
	char *port_name;
	int interval, timeout;
	int *codes;
	size_t ncodes;
	bool preserve_last_response;
};

/* A portDefinition (host networking) or a container portMapping. */
struct port_def {
	int port;            /* the service port (0 until assigned) */
	char *protocol;      /* "tcp", "udp", "udp,tcp" */
	char *name;          /* NULL when absent */
	struct kvlist labels;
	int container_port;  /* portMappings only; -1 otherwise */
	int host_port;       /* portMappings: -1 when absent (no host port) */
	char **network_names;
	size_t nnetwork_names;
};

struct fetch_uri {
	char *uri;
	bool extract, executable, cache;
	char *dest_path;
};

struct env_var {
	char *name;
	char *value;         /* or */
	char *secret;        /* the name of an app secret */
};

enum kill_selection { KILL_YOUNGEST_FIRST, KILL_OLDEST_FIRST };

/* One version of an app. Immutable once shared: copy with app_clone to
 * change. Reference counted (root groups and deployments share them). */
struct app {
	int refs;
	char *id;
	char *cmd;
	char **args;
	size_t nargs;
	bool has_args;
	char *user;
	int instances;
	double cpus, mem, disk;
	int gpus;
	struct env_var *env;
	size_t nenv;
	struct kvlist secrets;     /* name -> source */
	struct kvlist labels;
	char *executor;
	char **roles;              /* acceptedResourceRoles */
	size_t nroles;
	bool has_roles;
	struct constraint *constraints;
	size_t nconstraints;
	char **deps;
	size_t ndeps;
	struct fetch_uri *fetch;
	size_t nfetch;
	char **store_urls;
	size_t nstore_urls;
	struct port_def *ports;
	size_t nports;
	bool has_port_defs;        /* false on container networks */
	bool require_ports;
	json_t *container;         /* normalized, opaque; NULL when none */
	char *docker_image;        /* from the container, for the env */
	json_t *networks;          /* normalized array */
	bool host_network;
	struct health_check *hcs;
	size_t nhcs;
	struct readiness_check *rcs;
	size_t nrcs;
	double min_health, max_over;
	int backoff_seconds;
	double backoff_factor;
	int max_launch_delay;
	int kill_grace;            /* -1 when unset */
	enum kill_selection kill_selection;
	bool unreachable_disabled;
	int inactive_after, expunge_after;
	json_t *residency;         /* opaque; NULL when none */
	int tty;                   /* -1 unset, 0, 1 */
	struct pod_spec *pod;      /* a pod's run spec (owned); NULL for apps */
	char version[VERSION_LEN];
	char last_scaling_at[VERSION_LEN];
	char last_config_change_at[VERSION_LEN];
	json_t *json_cache;        /* app_to_json, once shared (api.c) */
	char *text_cache;          /* its compact text */
	size_t text_len;
};

struct app *app_new(void);                 /* refs = 1, defaults set */
struct app *app_ref(struct app *a);
void app_unref(struct app *a);
/* A deep copy with refs = 1. */
struct app *app_clone(const struct app *a);
/* Marathon-side checks (HTTP/HTTPS/TCP) vs executor-run ones */
bool hc_marathon_side(const struct health_check *hc);
const char *hc_protocol_name(enum hc_protocol p);
int hc_protocol_parse(const char *s);
/* Ports the app needs per instance on the agent. */
size_t app_host_ports(const struct app *a);
bool app_has_marathon_hcs(const struct app *a);
bool app_has_mesos_hc(const struct app *a);
/* The index of the port definition named name, or -1. */
int app_port_index(const struct app *a, const char *name);

/* --- app_parse.c: JSON -> struct app, validated (the API edge) --- */

/* Parses and validates an app definition. base: the group relative ids
 * are resolved against ("/" at the top level). Every problem is recorded
 * in e under its JSON path; returns NULL then. The result has no version
 * yet and service ports may still be 0. */
struct app *app_parse(const json_t *doc, const char *base, struct json_errs *e);
/* current overlaid with the fields present in patch (partial update), then
 * parsed as a whole. Returns a new reference or NULL with errors. */
struct app *app_parse_update(const struct app *current, const json_t *patch,
    struct json_errs *e);
/* A definition read back from the store (trusted, but checked). */
struct app *app_from_store(const char *text);
/* helpers shared with app_parse_ext.c */
int parse_str_array(const json_t *obj, const char *base, const char *key,
    char ***out, size_t *n, struct json_errs *e);
int parse_labels(const json_t *obj, const char *base, const char *key,
    struct kvlist *out, struct json_errs *e);

/* --- app_parse_ports.c: fetch and ports --- */

int parse_port(const json_t *o, const char *path, bool mapping,
    struct port_def *pd, struct json_errs *e);
void port_def_clear(struct port_def *pd);
void parse_fetch(const json_t *doc, struct app *a, struct json_errs *e);
void parse_port_definitions(const json_t *doc, struct app *a,
    struct json_errs *e);

/* --- app_parse_ext.c: health checks, readiness, container, networks --- */

void parse_health_checks(const json_t *doc, struct app *a,
    struct json_errs *e);
void parse_readiness_checks(const json_t *doc, struct app *a,
    struct json_errs *e);
/* Sets a->container, a->networks, a->host_network, a->docker_image and,
 * on container networks, a->ports from the port mappings. */
void parse_container_networks(const json_t *doc, struct app *a,
    struct json_errs *e);

/* --- app_json.c: struct app -> JSON --- */

/* The App object (new reference), as GET /v2/apps/{id} shows it without
 * the runtime extras. */
json_t *app_to_json(const struct app *a);
char *app_to_text(const struct app *a);    /* compact; caller frees */
/* true when a and b differ in more than instances and versions */
bool app_config_differs(const struct app *a, const struct app *b);
json_t *hc_to_json(const struct health_check *hc);

/* --- pod.c, pod_parse.c: pods (the containers of one run spec) --- */

struct pod_endpoint {
	char *name;
	int container_port;        /* -1 when absent */
	int host_port;             /* -1: none; 0: any free one */
	char **protocols;          /* "tcp", "udp" */
	size_t nprotocols;
	struct kvlist labels;
};

struct pod_container {
	char *name;
	double cpus, mem, disk;
	int gpus;
	char *shell;               /* exec.command.shell, or */
	char **argv;               /* exec.command.argv */
	size_t nargv;
	struct env_var *env;
	size_t nenv;
	struct kvlist labels;
	char *user;
	char *image;               /* image.id (kind DOCKER) */
	struct pod_endpoint *eps;
	size_t neps;
	struct fetch_uri *artifacts;
	size_t nartifacts;
	struct health_check *hc;   /* MESOS_HTTP(S), MESOS_TCP, COMMAND */
	char *hc_endpoint;         /* the endpoint an HTTP/TCP check uses */
	char **hc_argv;            /* a COMMAND check given as argv */
	size_t hc_nargv;
	double kill_grace;         /* lifecycle.killGracePeriodSeconds; -1 */
};

/* What a pod adds to its run spec (struct app): the containers, the
 * default executor's resources and the networking mode. */
struct pod_spec {
	struct pod_container *containers;
	size_t ncontainers;
	double exec_cpus, exec_mem, exec_disk;
	bool host_network;
};

/* Parses and validates a pod definition (the API edge): id_hint is the id
 * of the path (PUT) or NULL. Every problem is recorded in e under its
 * JSON path; returns NULL then. The result has no version yet. */
struct pod *pod_parse(const json_t *doc, const char *id_hint,
    struct json_errs *e);
/* pod_container.c: "environment" of obj (the pod or a container), and
 * the "containers" of a pod (norm: the normalized definition, whose
 * containers get their defaults) */
void pod_parse_env(const json_t *obj, const char *base, struct env_var **env,
    size_t *nenv, struct json_errs *e);
void pod_parse_containers(const json_t *doc, struct pod_spec *ps,
    json_t *norm, struct json_errs *e);
/* A pod read back from the store (text: pod_to_store); NULL when it does
 * not parse. */
struct pod *pod_from_store(const char *text);
/* {"def": ..., "lastConfigChangeAt": ..., "lastScalingAt": ...}; caller
 * frees */
char *pod_to_store(const struct pod *p);
/* Versions p against the pod it replaces (NULL when new). */
void pod_stamp(struct pod *p, const struct pod *old, const char *version);
void pod_spec_free(struct pod_spec *s);
/* Host ports one instance needs (endpoints with a host port). */
size_t pod_host_ports(const struct pod_spec *s);
/* "<safe>.instance-<uuid>" -> "instance-<safe>.<uuid>" */
void pod_executor_id(const char *instance_id, char *out, size_t size);
/* The container of a pod task id ("<instance>.<name>"), or NULL. */
const struct pod_container *pod_container_of(const struct pod_spec *s,
    const char *task_id);

/* --- root.c: the root group (apps, explicit groups, pods) --- */

struct group {
	char *id;
	char **deps;
	size_t ndeps;
	char version[VERSION_LEN];
};

/* A pod in the root group: its definition as served, and the run spec
 * the scheduler works with (an app whose pod member holds the containers). */
struct pod {
	int refs;
	char *id;
	json_t *def;       /* normalized definition, with version */
	int instances;
	char version[VERSION_LEN];
	struct app *app;   /* the run spec (a reference) */
};

struct root {
	struct app **apps;     /* sorted by id; each holds a reference */
	size_t napps;
	struct group *groups;  /* explicit groups, sorted by id */
	size_t ngroups;
	struct pod **pods;
	size_t npods;
	char version[VERSION_LEN];
};

struct root *root_new(void);
/* A copy sharing the apps (their references are taken). */
struct root *root_copy(const struct root *r);
void root_free(struct root *r);
struct app *root_app(const struct root *r, const char *id);
/* Inserts or replaces (a's reference is taken over). */
void root_put_app(struct root *r, struct app *a);
/* 0 when removed, -1 when absent */
int root_del_app(struct root *r, const char *id);
/* A group is an explicit one or any ancestor of an app or pod. */
bool root_has_group(const struct root *r, const char *id);
const struct group *root_group(const struct root *r, const char *id);
void root_put_group(struct root *r, const char *id, char *const *deps,
    size_t ndeps, const char *version);
/* Removes the group and everything under it. */
void root_del_group(struct root *r, const char *id);
struct pod *root_pod(const struct root *r, const char *id);
void root_put_pod(struct root *r, struct pod *p);
int root_del_pod(struct root *r, const char *id);
void pod_unref(struct pod *p);
/* The apps a dependency id stands for (an app, or all under a group). */
size_t root_apps_under(const struct root *r, const char *group,
    struct app **out, size_t max);
/* Checks a target root: unique service ports, an acyclic dependency graph,
 * no app id equal to a group id. Problems go to e (path "/"). */
int root_validate(const struct root *r, struct json_errs *e);
/* The longest dependency path of each app (depth[i] for r->apps[i]);
 * -1 when the graph has a cycle. */
int root_depths(const struct root *r, int *depth);
/* Assigns service ports (port 0 -> a free one in [min, max]) to a, taking
 * the ports of the other apps in r into account. 0 or -1 (none left). */
int root_assign_service_ports(const struct root *r, struct app *a, int min,
    int max);

/* --- plan.c: deployment plans --- */

enum action_type { ACT_START, ACT_SCALE, ACT_RESTART, ACT_STOP };

struct action {
	enum action_type type;
	char *app_id;            /* or the pod id */
	bool pod;                /* StartPod, ScalePod, RestartPod, StopPod */
	int scale_to;            /* START and SCALE */
	bool done;
};

struct step {
	struct action *actions;
	size_t n;
};

struct deployment {
	char id[40];
	char version[VERSION_LEN];
	struct step *steps;
	size_t nsteps;
	size_t current;          /* index of the running step */
	char **affected;         /* app ids, sorted */
	size_t naffected;
	struct app **orig;       /* per affected app; NULL when new */
	struct app **target;     /* per affected app; NULL when removed */
	char **affected_pods;
	size_t naffected_pods;
	struct pod **orig_pods;  /* per affected pod; NULL when new */
	struct pod **target_pods;  /* per affected pod; NULL when removed */
	bool reverts;            /* a rollback of another deployment */
};

/* The plan from one root to another (Marathon's order: stop removed apps,
 * start new ones at 0, then scale/restart by dependency depth). Apps whose
 * last_config_change_at differs are restarted; instance changes scale. */
struct deployment *plan_compute(const struct root *from, const struct root *to,
    const char *version);
void deployment_free(struct deployment *d);
bool deployment_affects(const struct deployment *d, const char *app_id);
const struct action *deployment_action(const struct deployment *d,
    const char *app_id);  /* the current step's action for app, or NULL */
const char *action_name(enum action_type t);
/* The deployment JSON of GET /v2/deployments (new reference). */
json_t *deployment_to_json(const struct deployment *d);
/* The store form (with the original and target apps) and back. */
char *deployment_to_text(const struct deployment *d);
struct deployment *deployment_from_text(const char *text);
/* {"id","version","steps":[...]} for events */
json_t *deployment_plan_json(const struct deployment *d);
json_t *deployment_step_json(const struct deployment *d, size_t step);

/* --- instance.c: instances (one Mesos task each) --- */

/* Mesos TaskState names, in the order of task_state_names */
enum task_state {
	TASK_STAGING, TASK_STARTING, TASK_RUNNING, TASK_KILLING, TASK_FINISHED,
	TASK_FAILED, TASK_KILLED, TASK_ERROR, TASK_LOST, TASK_DROPPED,
	TASK_UNREACHABLE, TASK_GONE, TASK_GONE_BY_OPERATOR, TASK_UNKNOWN,
};

const char *task_state_name(int state);
int task_state_parse(const char *name);     /* -1 when unknown */
bool task_state_terminal(int state);

struct hc_status {
	bool has_result;
	bool alive;
	int consecutive_failures;
	double first_success, last_success, last_failure;
	char *last_failure_cause;
	double next_check;       /* monotonic */
	bool inflight;
};

enum kill_reason {
	KILL_NONE, KILL_SCALE, KILL_DEPLOY, KILL_USER, KILL_UNHEALTHY,
	KILL_ORPHAN, KILL_OVERDUE, KILL_EXPUNGE,
};

struct instance {
	char *id;                  /* the Mesos task id */
	char *app_id;
	char version[VERSION_LEN];         /* app version it was launched with */
	char config_version[VERSION_LEN];  /* app last_config_change_at then */
	char *agent_id;
	char *host;                /* agent hostname */
	char *agent_ip;            /* offer url ip, for health checks */
	char *region, *zone;
	struct constraint_attr *attrs;  /* owned strings */
	size_t nattrs;
	int *ports;                /* host ports */
	size_t nports;
	int state;                 /* enum task_state */
	bool confirmed;            /* a status update arrived */
	bool confirmed_before;     /* ... before the one being handled */
	double staged_at, started_at;      /* wall clock; 0 when not yet */
	double unreachable_since;          /* wall clock; 0 when reachable */
	char **ips;                /* from container_status.network_infos */
	size_t nips;
	int mesos_healthy;         /* TaskStatus.healthy: -1 unknown */
	struct hc_status *hc;      /* one per app health check */
	size_t nhc;
	int ready;                 /* readiness: -1 unknown, 0, 1 */
	double ready_next;         /* monotonic: next readiness probe */
	json_t *readiness_last;    /* last response, when preserved */
	enum kill_reason kill;     /* KILL_NONE unless we asked Mesos to kill */
	double kill_sent;          /* monotonic, of the last KILL */
	bool wipe;                 /* expunge without a replacement */
	char *message;             /* of the last status */
	double since;              /* wall clock of the last state change */
	struct instance_task *tasks;   /* a pod instance: one per container */
	size_t ntasks;
};

/* One container of a pod instance: one Mesos task of its task group. */
struct instance_task {
	char *id;                  /* "<instance id>.<container name>" */
	char *name;                /* the container name */
	int state;                 /* enum task_state */
	int healthy;               /* TaskStatus.healthy: -1 unknown */
	int *ports;                /* host ports of its endpoints */
	size_t nports;
	double since, started_at;  /* wall clock */
	char *message;
};

struct instance *instance_new(const char *task_id, const char *app_id);
void instance_free(struct instance *i);
bool instance_active(const struct instance *i);   /* not terminal */
/* running, healthy (when the app has checks) and ready */
bool instance_ready(const struct instance *i, const struct app *a);
/* 1 healthy, 0 unhealthy, -1 no verdict yet (or no checks) */
int instance_health(const struct instance *i, const struct app *a);
/* The task JSON of /v2/tasks (new reference). */
json_t *instance_to_json(const struct instance *i, const struct app *a);
/* The store form and back. */
char *instance_to_text(const struct instance *i);
struct instance *instance_from_text(const char *text);
/* Sizes the health check results to the app's checks. */
void instance_fit_checks(struct instance *i, const struct app *a);
/* The container task of a pod instance, or NULL. */
struct instance_task *instance_task(const struct instance *i,
    const char *task_id);
/* A pod instance's state from its containers' (Marathon's instance
 * condition): a failed container fails it, all finished finish it;
 * otherwise the least advanced container's state. */
int instance_pod_state(const struct instance *i);

/* --- the daemon --- */

struct marathon_flags {
	const char *ip, *hostname, *master, *store, *framework_name;
	const char *mesos_role, *default_roles, *mesos_user, *env_vars_prefix;
	const char *webui_url, *log_level, *principal, *cors_origin;
	int http_port;
	double failover_timeout, decline_offer_duration, reconcile_interval;
	double task_launch_timeout, lease_ttl, kill_retry, revive_interval;
	double unreachable_check;
	long long max_instances_per_offer, max_launches;
	long long local_port_min, local_port_max;
	long long max_versions, max_health_checks, max_body;
};

/* What the scheduler knows about one app id. */
struct app_rt {
	char *id;
	struct app *app;           /* current definition (or the last one,
	                              while a removed app stops) */
	bool removed;
	struct instance **inst;
	size_t ninst;
	int to_launch;             /* instances waiting for offers */
	double delay_until;        /* monotonic; launch backoff */
	double backoff;            /* seconds of the current delay; 0: none */
	double queued_since;       /* wall clock */
	struct deployment *dep;    /* the deployment locking it, if any */
	bool dirty;
	/* lastTaskFailure */
	struct {
		char *task_id, *message, *state, *host, *agent_id;
		char version[VERSION_LEN];
		double at, started;
	} failure;
	/* processedOffersSummary */
	struct {
		unsigned long processed, unused;
		double last_unused_at, last_used_at;
		unsigned long reject[8], processed_by[8];
	} offers;
};

/* offer rejection reasons, as /v2/queue names them */
enum reject {
	REJECT_ROLE, REJECT_CONSTRAINT, REJECT_CPUS, REJECT_MEM, REJECT_DISK,
	REJECT_GPUS, REJECT_PORTS, REJECT_COUNT,
};

/* Leader-only state, built on election and dropped on losing it. */
struct state {
	struct root *root;
	struct deployment **deps;
	size_t ndeps;
	struct strmap *apps;       /* app id -> struct app_rt */
	struct strmap *instances;  /* instance id (app: task id) -> instance */
	struct strmap *tasks;      /* pod task id -> its instance */
	char framework_id[128];
	struct mesos *mesos;
	struct health *health;
	struct strmap *dirty;      /* task id -> instance (or NULL: deleted) */
	bool flush_inflight;
};

struct marathon {
	struct event_base *base;
	struct daemon *daemon;
	struct http_server *http;
	struct http_client *client;
	struct store *store;
	struct lease *lease;
	struct marathon_flags f;
	const struct flags_spec *spec;
	char self[300];            /* "host:port" this node advertises */
	char user[64];             /* --mesos_user when defaulted */
	char host[256];            /* --hostname when defaulted */
	double started;            /* wall clock */
	unsigned gen;              /* bumped on every leadership change */
	struct state *st;          /* NULL unless leading */
	struct events *events;
	struct event *kick;        /* deferred reconcile pass */
	struct event *tick;        /* 1 s housekeeping */
	bool kicked;
	double elected_at, loaded_ms;
	unsigned long api_requests, status_updates, launched, killed;
	unsigned long offers_seen, offers_declined;
	struct event *recontend;   /* leader.c: contend again after stepping
	                              down */
	struct event *health_timer;
	void **kept;               /* route contexts (api.c) */
	size_t nkept;
};

/* --- config.c --- */

struct flags_spec;

const struct flags_spec *config_flags(struct marathon *m);
int marathon_setup(struct marathon *m);
void marathon_teardown(struct marathon *m);

/* --- state.c: leader state and the per-app runtime --- */

struct state *state_new(void);
void state_free(struct state *st);
struct app_rt *state_rt(struct state *st, const char *app_id, bool create);
void state_add_instance(struct state *st, struct instance *i);
/* The instance a Mesos task id belongs to (app task or pod container). */
struct instance *state_find_task(const struct state *st, const char *task_id);
/* Unlinks and frees the instance. */
void state_del_instance(struct state *st, struct instance *i);
struct deployment *state_deployment(const struct state *st, const char *id);
void state_add_deployment(struct state *st, struct deployment *d);
/* Unlinks d (not freed), unlocking its apps. */
void state_remove_deployment(struct state *st, struct deployment *d);
/* Counts for the app JSON: staged, running, healthy, unhealthy. */
void state_counts(const struct app_rt *rt, int counts[4]);
/* Marks an instance for the next store flush. */
void state_touch(struct state *st, struct instance *i);
/* true for the dirty-set value of a deleted instance */
bool state_dirty_deleted(const void *v);

/* --- events.c: the event bus (/v2/events) --- */

struct events *events_new(struct marathon *m);
void events_free(struct events *ev);
void events_close_all(struct events *ev);
size_t events_subscribers(const struct events *ev);
/* Adds eventType and timestamp and sends to the interested subscribers
 * (body is stolen). */
void events_publish(struct marathon *m, const char *type, json_t *body);
/* GET /v2/events */
void events_subscribe(struct marathon *m, struct http_req *req);

/* --- mesos.c: the v1 scheduler API client --- */

struct mesos;

struct mesos *mesos_new(struct marathon *m);   /* starts subscribing */
void mesos_free(struct mesos *ms);
bool mesos_subscribed(const struct mesos *ms);
const char *mesos_master(const struct mesos *ms);
/* POSTs {"type": type, "<type>": payload (stolen)}; no-op unless
 * subscribed. */
void mesos_call(struct mesos *ms, const char *type, json_t *payload);
void mesos_kill(struct mesos *ms, const char *task_id, const char *agent_id,
    double grace);
void mesos_decline(struct mesos *ms, json_t *offer_ids, double refuse);
void mesos_accept(struct mesos *ms, json_t *offer_ids, json_t *operations);
void mesos_ack(struct mesos *ms, const json_t *status);
void mesos_reconcile(struct mesos *ms, json_t *tasks);
/* SUPPRESS when nothing waits for offers, REVIVE (rate limited) when
 * something does. */
void mesos_want_offers(struct mesos *ms, bool want);
void mesos_revive(struct mesos *ms);

/* --- launch.c: offer matching --- */

/* Fits one instance of a into remaining (roles: the accepted roles).
 * 0 with the resources in taken and the host ports in ports, or -1 with
 * the reason. */
int launch_fit(const struct app *a, char *const *roles, size_t nroles,
    const struct resources *remaining, struct resources *taken, int *ports,
    enum reject *why);
/* Whether the app's constraints allow one more instance on the agent,
 * given its instances (active ones count). */
bool launch_constraints_ok(const struct app *a,
    const struct constraint_agent *agent, struct instance *const *inst,
    size_t ninst);
/* Adds `need` of a scalar from the accepted roles of remaining to taken;
 * false when remaining does not hold that much. */
bool launch_take_scalar(const struct resources *remaining, const char *name,
    double need, char *const *roles, size_t nroles, struct resources *taken);
/* Adds one host port (want, or any free one when 0) to taken. */
bool launch_take_port(const struct resources *remaining, uint64_t want,
    char *const *roles, size_t nroles, struct resources *taken, int *port);
/* v1 resources of a task as our offers come (role names the reservation,
 * no "reservations"); new reference */
json_t *launch_v1_resources(const struct resources *r);

/* --- pod_launch.c: a pod instance as one LAUNCH_GROUP --- */

/* Where one instance of a pod goes in an offer. */
struct pod_fit {
	struct resources exec;     /* the executor's, with every host port */
	struct resources *cont;    /* per container */
	size_t ncont;
	struct resources total;    /* all of it, to take from the offer */
	int *ports;                /* host ports, in endpoint order */
	size_t nports;
};

/* Fits the executor and every container of pod a (all or nothing) into
 * remaining. 0, or -1 with the reason. fit is always to be cleared. */
int pod_fit(const struct app *a, char *const *roles, size_t nroles,
    const struct resources *remaining, struct pod_fit *fit,
    enum reject *why);
void pod_fit_clear(struct pod_fit *fit);
/* Gives the new instance i its container tasks and their ports. */
void pod_instance_tasks(struct instance *i, const struct app *a,
    const struct pod_fit *fit);
/* The LAUNCH_GROUP operation for i (new reference). */
json_t *pod_launch_group(struct marathon *m, const struct app *a,
    const struct instance *i, const struct pod_fit *fit);

/* --- pod_status.c: PodStatus --- */

/* The PodStatus of /v2/pods/{id}::status (new reference). */
json_t *pod_status_json(struct marathon *m, const struct pod *p);
/* The PodInstanceStatus of one instance (new reference). */
json_t *pod_instance_json(const struct app *a, const struct instance *i);
/* A pod container's status update: the container, then the instance's
 * state from its containers. Returns that instance state. */
int pod_task_update(struct instance *i, struct instance_task *t, int state,
    const char *message, const json_t *healthy);

/* --- taskinfo.c --- */

/* The TaskInfo for inst (placed on an agent, ports chosen) with the given
 * v1 resources. New reference. */
json_t *taskinfo_build(struct marathon *m, const struct app *a,
    const struct instance *inst, const json_t *resources);
/* Sets name=value in an Environment.variables array (later wins). */
void taskinfo_env_add(json_t *vars, const char *name, const char *value);
/* <prefix>CPUS, MEM, DISK (Scala number text) and GPUS */
void taskinfo_env_resources(json_t *vars, const char *prefix, double cpus,
    double mem, double disk, int gpus);
/* {"labels": [{"key", "value"}]} (new reference) */
json_t *taskinfo_labels(const struct kvlist *l);

/* --- deploy.c: the reconcile engine --- */

void engine_init(struct marathon *m);
/* Runs a reconcile pass soon (once per loop iteration). */
void engine_kick(struct marathon *m);
void engine_run(struct marathon *m);
/* Kill retries, launch timeouts, unreachable expunges, backoff ends. */
void engine_tick(struct marathon *m);

/* --- health.c: Marathon-run health and readiness checks --- */

/* Starts the checks that are due (called every 250 ms). */
void health_tick(struct marathon *m);

/* --- sched.c: scheduler events --- */

void sched_subscribed(struct marathon *m, const char *framework_id);
void sched_disconnected(struct marathon *m);
void sched_error(struct marathon *m, const char *message);
void sched_offers(struct marathon *m, const json_t *offers);
void sched_update(struct marathon *m, const json_t *status);
/* Asks Mesos to kill an instance (retried by the housekeeping tick). */
void sched_kill(struct marathon *m, struct instance *i, enum kill_reason why);
/* KILLs the instance's task, or each live container task of a pod
 * instance (grace -1: the task's own). */
void sched_kill_tasks(struct marathon *m, const struct instance *i,
    double grace);
/* Explicit reconciliation of every known task, then implicit. */
void sched_reconcile(struct marathon *m);
/* Delays the app's next launch (backoffSeconds x backoffFactor^n). */
void sched_backoff(struct app_rt *rt);
bool reason_is_health(const json_t *status);

/* --- change.c: every API write --- */

struct change_opts {
	const char *version;       /* of the new root */
	bool force;                /* cancel conflicting deployments */
	bool reverts;
	int status;                /* 200 (default), 201 */
	const char *location;      /* Location header */
	/* the reply body (new reference); NULL: {deploymentId, version} */
	json_t *(*body_fn)(struct marathon *m, const struct deployment *d,
	    void *arg);
	void *arg;
	json_t *api_event;         /* ["api_post_event", {...}] or NULL */
};

/* Versions a new definition against the old one (NULL when new). */
void change_stamp(struct app *a, const struct app *old, const char *version,
    bool restart);
/* Plans, locks, applies, stores and replies (target is consumed). */
void change_submit(struct marathon *m, struct http_req *req,
    struct root *target, const struct change_opts *o);
/* DELETE /v2/deployments/{id}?force=true: stop it where it is (202). */
void change_cancel(struct marathon *m, struct http_req *req,
    struct deployment *d);
/* 422 {"message":"Object is not valid","details":[...]} */
void api_reply_invalid(struct http_req *req, const struct json_errs *e);

/* --- api.c: routes and shared JSON --- */

typedef void (*api_fn)(struct marathon *m, struct http_req *req);

#define API_LOCAL 1     /* answered by every node, never proxied */

enum {
	EMB_TASKS = 1, EMB_COUNTS = 2, EMB_DEPLOYMENTS = 4, EMB_READINESS = 8,
	EMB_LAST_FAILURE = 16, EMB_TASK_STATS = 32,
};

void api_route(struct marathon *m, const char *method, const char *pattern,
    api_fn fn, int flags);
void api_keep(struct marathon *m, void *p);
void api_free(struct marathon *m);
bool api_flag(struct http_req *req, const char *name, bool def);
bool api_path_id(struct http_req *req, const char *param, bool allow_root,
    char *out, size_t size);
void api_app_missing(struct http_req *req, const char *id);
unsigned api_embeds(struct http_req *req, const char *prefix);
/* App+ (new reference): the app, its counts and deployments, embeds. */
json_t *api_app_json(struct marathon *m, const struct app *a, unsigned embed);
/* The same as text appended to b, from the app's cached text (fast path
 * of the app lists). */
void api_app_text(struct marathon *m, const struct app *a, unsigned embed,
    struct sbuf *b);
json_t *api_deployment_ids(const struct state *st, const char *app_id);
json_t *api_readiness(struct marathon *m, const char *app_id);
bool api_label_match(const char *selector, const struct kvlist *labels);
/* the route tables of the api_*.c files */
void api_apps_routes(struct marathon *m);
void api_tasks_routes(struct marathon *m);
void api_tasks_app_routes(struct marathon *m);
void api_groups_routes(struct marathon *m);
void api_misc_routes(struct marathon *m);
void api_pods_routes(struct marathon *m);

/* --- persist.c: the store --- */

/* ok: committed; current: the leadership that submitted it still holds */
typedef void (*persist_done_fn)(struct marathon *m, bool ok, bool current,
    void *arg);

int persist_open(struct marathon *m, char *err, size_t errlen);
/* Blocking: the leader's state from the store; NULL on errors. */
struct state *persist_load(struct marathon *m);
/* A transaction that starts with the lease guard. */
struct store_tx *persist_tx(struct marathon *m);
/* Submits tx (consumed); on failure the leader steps down. */
void persist_submit(struct marathon *m, struct store_tx *tx,
    persist_done_fn cb, void *arg);
/* Writes the instances touched since the last flush. */
void persist_flush(struct marathon *m);
void tx_put_app(struct marathon *m, struct store_tx *tx, const struct app *a);
void tx_del_app(struct store_tx *tx, const char *id);
void tx_put_groups(struct store_tx *tx, const struct root *r);
void tx_put_pod(struct store_tx *tx, const struct pod *p);
void tx_del_pod(struct store_tx *tx, const char *id);
void tx_put_deployment(struct store_tx *tx, const struct deployment *d);
void tx_del_deployment(struct store_tx *tx, const char *id);
void tx_put_instance(struct store_tx *tx, const struct instance *i);
void tx_del_instance(struct store_tx *tx, const char *id);
void tx_set_meta(struct store_tx *tx, const char *key, const char *value);

/* --- leader.c: leadership and proxying --- */

void leader_start(struct marathon *m);
void leader_stop(struct marathon *m);
/* Drops the leader state and gives the lease up for a while. */
void leader_step_down(struct marathon *m, const char *why);
bool leader_is(const struct marathon *m);
/* "host:port" of the leader, or NULL */
const char *leader_address(const struct marathon *m);
/* Forwards req to the leader and relays the answer (or a stream). */
void leader_proxy(struct marathon *m, struct http_req *req);

#endif

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

#include "dcos/constraints.h"
#include "dcos/json.h"
#include "dcos/resources.h"

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

void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t size);
char *xstrdup(const char *s);           /* NULL stays NULL */
double util_now(void);                   /* wall clock, seconds */
double util_mono(void);                  /* monotonic seconds */
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

/* A string-keyed hash map of pointers (open addressing). */
struct smap {
	char **keys;
	void **vals;
	size_t cap, n, tombs;
};

void smap_init(struct smap *m);
void smap_free(struct smap *m);          /* keys only; values are the caller's */
void *smap_get(const struct smap *m, const char *key);
void smap_put(struct smap *m, const char *key, void *val);
void *smap_del(struct smap *m, const char *key);
/* iterate: for (size_t i = 0; smap_next(m, &i, &k, &v);) */
bool smap_next(const struct smap *m, size_t *i, const char **key, void **val);

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
	char version[VERSION_LEN];
	char last_scaling_at[VERSION_LEN];
	char last_config_change_at[VERSION_LEN];
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
int parse_port(const json_t *o, const char *path, bool mapping,
    struct port_def *pd, struct json_errs *e);
void port_def_clear(struct port_def *pd);

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

/* --- root.c: the root group (apps, explicit groups, pods) --- */

struct group {
	char *id;
	char **deps;
	size_t ndeps;
	char version[VERSION_LEN];
};

struct pod {
	int refs;
	char *id;
	json_t *def;       /* validated definition, with version */
	int instances;
	char version[VERSION_LEN];
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
	char *app_id;
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

#endif

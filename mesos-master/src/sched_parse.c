/*
 * sched_parse: a v1 scheduler Call in JSON into a struct sched_call, with
 * every shape check at this edge so the logic never sees a malformed call.
 * Errors name the field ("accept.operations[0].launch.task_infos[1].task_id:
 * ..."). JSON nulls count as absent fields and enums are names, as the
 * clients in the wild send them. Semantic checks that need the master's
 * state (offers, duplicate task ids, resources) are made by sched_calls.c
 * and reported the Mesos way (TASK_ERROR updates, ignored offers).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "master.h"

static const char *const call_names[] = {
	"SUBSCRIBE", "TEARDOWN", "ACCEPT", "DECLINE", "REVIVE", "SUPPRESS",
	"KILL", "SHUTDOWN", "ACKNOWLEDGE", "RECONCILE", "MESSAGE", "REQUEST",
	"ACCEPT_INVERSE_OFFERS", "DECLINE_INVERSE_OFFERS",
	"ACKNOWLEDGE_OPERATION_STATUS", "RECONCILE_OPERATIONS",
};

#define REFUSE_DEFAULT 5.0
#define REFUSE_MAX 31536000.0

const char *
call_type_name(enum call_type t)
{
	return t < CALL_UNKNOWN ? call_names[t] : "UNKNOWN";
}

static int
fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static const json_t *
field(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);

	return json_is_null(v) ? NULL : v;
}

/* {"value": "..."}: 1 when present and valid, 0 when absent, -1 bad */
static int
get_id(const json_t *obj, const char *key, const char **out)
{
	const json_t *v = field(obj, key), *val;

	if (v == NULL)
		return 0;
	if (!json_is_object(v) || !json_is_string(val = json_object_get(v,
	    "value")) || json_string_length(val) == 0 ||
	    json_string_length(val) >= MASTER_MAX_ID)
		return -1;
	*out = json_string_value(val);
	return 1;
}

static int
need_id(const json_t *obj, const char *path, const char *key,
    const char **out, char *err, size_t errlen)
{
	int rc = get_id(obj, key, out);

	if (rc == 1)
		return 0;
	return fail(err, errlen, "%s%s%s: %s", path, path[0] ? "." : "", key,
	    rc == 0 ? "is required" : "expected {\"value\": \"<non-empty id "
	    "of at most 255 bytes>\"}");
}

static int
opt_id(const json_t *obj, const char *path, const char *key,
    const char **out, char *err, size_t errlen)
{
	if (get_id(obj, key, out) == -1)
		return fail(err, errlen, "%s.%s: expected {\"value\": "
		    "\"<non-empty id>\"}", path, key);
	return 0;
}

static int
opt_obj(const json_t *obj, const char *path, const char *key,
    const json_t **out, char *err, size_t errlen)
{
	const json_t *v = field(obj, key);

	*out = NULL;
	if (v && !json_is_object(v))
		return fail(err, errlen, "%s.%s: expected an object", path, key);
	*out = v;
	return 0;
}

static int
opt_arr(const json_t *obj, const char *path, const char *key,
    const json_t **out, char *err, size_t errlen)
{
	const json_t *v = field(obj, key);

	*out = NULL;
	if (v && !json_is_array(v))
		return fail(err, errlen, "%s.%s: expected an array", path, key);
	*out = v;
	return 0;
}

static int
parse_ids(const json_t *arr, const char *path, const char ***out, size_t *n,
    char *err, size_t errlen)
{
	size_t i;
	json_t *v;

	*n = 0;
	*out = calloc(json_array_size(arr) + 1, sizeof(char *));
	if (*out == NULL)
		abort();
	json_array_foreach(arr, i, v) {
		const json_t *val = json_is_object(v) ? json_object_get(v,
		    "value") : NULL;

		if (!json_is_string(val) || json_string_length(val) == 0)
			return fail(err, errlen, "%s[%zu]: expected {\"value\": "
			    "\"<id>\"}", path, i);
		(*out)[(*n)++] = json_string_value(val);
	}
	return 0;
}

static int
parse_filters(const json_t *obj, const char *path, double *refuse, char *err,
    size_t errlen)
{
	const json_t *filters, *rs;

	*refuse = REFUSE_DEFAULT;
	if (opt_obj(obj, path, "filters", &filters, err, errlen) == -1)
		return -1;
	if (filters && (rs = field(filters, "refuse_seconds")) != NULL) {
		if (!json_is_number(rs) || json_number_value(rs) < 0)
			return fail(err, errlen, "%s.filters.refuse_seconds: expected "
			    "a non-negative number", path);
		*refuse = json_number_value(rs);
		if (*refuse > REFUSE_MAX)
			*refuse = REFUSE_MAX;
	}
	return 0;
}

static int
check_resources(const json_t *obj, const char *path, struct resources *out,
    char *err, size_t errlen)
{
	struct json_errs e;
	char p[512], first[512];
	int rc;

	snprintf(p, sizeof(p), "%s.resources", path);
	json_errs_init(&e);
	rc = resources_from_v1(field(obj, "resources"), p, out, &e);
	if (rc == -1)
		fail(err, errlen, "%s", json_errs_first(&e, first, sizeof(first)));
	json_errs_free(&e);
	return rc;
}

static int
parse_task(const json_t *ti, const char *path, struct launch_task *lt,
    char *err, size_t errlen)
{
	const json_t *v;

	memset(lt, 0, sizeof(*lt));
	resources_init(&lt->res);
	if (!json_is_object(ti))
		return fail(err, errlen, "%s: expected a TaskInfo object", path);
	lt->info = ti;
	v = field(ti, "name");
	if (!json_is_string(v))
		return fail(err, errlen, "%s.name: is required (a string)", path);
	lt->name = json_string_value(v);
	if (need_id(ti, path, "task_id", &lt->task_id, err, errlen) == -1 ||
	    need_id(ti, path, "agent_id", &lt->agent_id, err, errlen) == -1)
		return -1;
	if (field(ti, "resources") && !json_is_array(field(ti, "resources")))
		return fail(err, errlen, "%s.resources: expected an array", path);
	if (check_resources(ti, path, &lt->res, err, errlen) == -1)
		return -1;
	if (opt_obj(ti, path, "executor", &lt->executor, err, errlen) == -1 ||
	    opt_obj(ti, path, "command", &v, err, errlen) == -1 ||
	    opt_obj(ti, path, "container", &v, err, errlen) == -1 ||
	    opt_obj(ti, path, "discovery", &v, err, errlen) == -1 ||
	    opt_obj(ti, path, "labels", &v, err, errlen) == -1 ||
	    opt_obj(ti, path, "kill_policy", &v, err, errlen) == -1 ||
	    opt_obj(ti, path, "health_check", &v, err, errlen) == -1)
		return -1;
	if (lt->executor) {
		const char *eid;
		char ep[600];
		struct resources er;

		snprintf(ep, sizeof(ep), "%s.executor", path);
		if (need_id(lt->executor, ep, "executor_id", &eid, err, errlen) == -1)
			return -1;
		if (check_resources(lt->executor, ep, &er, err, errlen) == -1)
			return -1;
		resources_free(&er);
	}
	return 0;
}

static void
free_ops(struct sched_call *c)
{
	for (size_t i = 0; i < c->nops; i++) {
		for (size_t k = 0; k < c->ops[i].ntasks; k++)
			resources_free(&c->ops[i].tasks[k].res);
		free(c->ops[i].tasks);
		resources_free(&c->ops[i].group_executor_res);
	}
	free(c->ops);
	c->ops = NULL;
	c->nops = 0;
}

static int
parse_tasks(const json_t *list, const char *path, struct operation *op,
    char *err, size_t errlen)
{
	size_t i;
	json_t *ti;

	op->tasks = calloc(json_array_size(list) + 1, sizeof(*op->tasks));
	if (op->tasks == NULL)
		abort();
	json_array_foreach(list, i, ti) {
		char tp[512];

		snprintf(tp, sizeof(tp), "%s[%zu]", path, i);
		if (parse_task(ti, tp, &op->tasks[op->ntasks], err, errlen) == -1) {
			resources_free(&op->tasks[op->ntasks].res);
			return -1;
		}
		op->ntasks++;
	}
	return 0;
}

static int
parse_operation(const json_t *o, const char *path, struct operation *op,
    char *err, size_t errlen)
{
	const char *type = json_str_or(o, "type", NULL);
	const json_t *body, *list;
	char p[512];

	resources_init(&op->group_executor_res);
	if (!json_is_object(o) || type == NULL)
		return fail(err, errlen, "%s.type: is required", path);
	/* as Mesos: no operation feedback for launches (so no operation with
	 * an id ever runs here; see reconcile_operations) */
	if (json_object_get(o, "id"))
		return fail(err, errlen, "%s.id: operation feedback is not "
		    "supported for LAUNCH and LAUNCH_GROUP operations", path);
	if (!strcmp(type, "LAUNCH")) {
		op->type = OP_LAUNCH;
		if (opt_obj(o, path, "launch", &body, err, errlen) == -1)
			return -1;
		if (body == NULL)
			return fail(err, errlen, "%s.launch: is required for a "
			    "LAUNCH operation", path);
		snprintf(p, sizeof(p), "%s.launch", path);
		if (opt_arr(body, p, "task_infos", &list, err, errlen) == -1)
			return -1;
		snprintf(p, sizeof(p), "%s.launch.task_infos", path);
		return parse_tasks(list, p, op, err, errlen);
	}
	if (!strcmp(type, "LAUNCH_GROUP")) {
		const json_t *ex, *group;
		const char *eid;

		op->type = OP_LAUNCH_GROUP;
		if (opt_obj(o, path, "launch_group", &body, err, errlen) == -1)
			return -1;
		if (body == NULL)
			return fail(err, errlen, "%s.launch_group: is required for a "
			    "LAUNCH_GROUP operation", path);
		snprintf(p, sizeof(p), "%s.launch_group", path);
		if (opt_obj(body, p, "executor", &ex, err, errlen) == -1 ||
		    opt_obj(body, p, "task_group", &group, err, errlen) == -1)
			return -1;
		if (ex == NULL || group == NULL)
			return fail(err, errlen, "%s: executor and task_group are "
			    "required", p);
		snprintf(p, sizeof(p), "%s.launch_group.executor", path);
		if (need_id(ex, p, "executor_id", &eid, err, errlen) == -1 ||
		    check_resources(ex, p, &op->group_executor_res, err,
		    errlen) == -1)
			return -1;
		op->group_executor = ex;
		snprintf(p, sizeof(p), "%s.launch_group.task_group", path);
		if (opt_arr(group, p, "tasks", &list, err, errlen) == -1)
			return -1;
		if (json_array_size(list) == 0)
			return fail(err, errlen, "%s.tasks: a task group needs at "
			    "least one task", p);
		snprintf(p, sizeof(p), "%s.launch_group.task_group.tasks", path);
		return parse_tasks(list, p, op, err, errlen);
	}
	return fail(err, errlen, "%s.type: operation %s is not supported by this "
	    "master (LAUNCH and LAUNCH_GROUP are)", path, type);
}

static int
parse_accept(const json_t *body, struct sched_call *c, char *err,
    size_t errlen)
{
	const json_t *ids, *ops;
	size_t i;
	json_t *o;

	if (body == NULL)
		return fail(err, errlen, "accept: is required for an ACCEPT call");
	if (opt_arr(body, "accept", "offer_ids", &ids, err, errlen) == -1 ||
	    opt_arr(body, "accept", "operations", &ops, err, errlen) == -1)
		return -1;
	if (parse_ids(ids, "accept.offer_ids", &c->offer_ids, &c->noffer_ids,
	    err, errlen) == -1)
		return -1;
	if (c->noffer_ids == 0)
		return fail(err, errlen, "accept.offer_ids: at least one offer id "
		    "is required");
	if (parse_filters(body, "accept", &c->refuse_seconds, err, errlen) == -1)
		return -1;
	c->ops = calloc(json_array_size(ops) + 1, sizeof(*c->ops));
	if (c->ops == NULL)
		abort();
	json_array_foreach(ops, i, o) {
		char p[64];

		snprintf(p, sizeof(p), "accept.operations[%zu]", i);
		c->nops++;
		if (parse_operation(o, p, &c->ops[i], err, errlen) == -1)
			return -1;
	}
	return 0;
}

static int
parse_roles(const json_t *body, const char *path, struct sched_call *c,
    char *err, size_t errlen)
{
	const json_t *roles;
	size_t i;
	json_t *r;

	if (body && !json_is_object(body))
		return fail(err, errlen, "%s: expected an object", path);
	if (opt_arr(body, path, "roles", &roles, err, errlen) == -1)
		return -1;
	c->roles = calloc(json_array_size(roles) + 1, sizeof(char *));
	if (c->roles == NULL)
		abort();
	json_array_foreach(roles, i, r) {
		if (!json_is_string(r))
			return fail(err, errlen, "%s.roles[%zu]: expected a string",
			    path, i);
		c->roles[c->nroles++] = json_string_value(r);
	}
	return 0;
}

/* A Mesos role: "/"-separated parts, none empty, ".", ".." or starting
 * with "-", and no whitespace, control characters or backslashes. */
int
sched_valid_role(const char *r)
{
	const char *part = r;

	if (r[0] == '\0')
		return 0;
	for (const char *p = r;; p++) {
		if (*p == '/' || *p == '\0') {
			size_t n = (size_t)(p - part);

			if (n == 0 || (n == 1 && part[0] == '.') ||
			    (n == 2 && part[0] == '.' && part[1] == '.') ||
			    part[0] == '-')
				return 0;
			if (*p == '\0')
				return 1;
			part = p + 1;
		} else if ((unsigned char)*p <= ' ' || *p == 0x7f || *p == '\\') {
			return 0;
		}
	}
}

int
sched_parse_framework_info(const json_t *fi, char *err, size_t errlen)
{
	const json_t *v, *caps, *roles;
	const char *id;
	size_t i;
	bool multi = false;

	if (!json_is_object(fi))
		return fail(err, errlen, "subscribe.framework_info: is required");
	if (!json_is_string(field(fi, "user")))
		return fail(err, errlen, "subscribe.framework_info.user: is "
		    "required (a string)");
	if (!json_is_string(field(fi, "name")))
		return fail(err, errlen, "subscribe.framework_info.name: is "
		    "required (a string)");
	if (opt_id(fi, "subscribe.framework_info", "id", &id, err, errlen) == -1)
		return -1;
	if ((v = field(fi, "failover_timeout")) && (!json_is_number(v) ||
	    json_number_value(v) < 0))
		return fail(err, errlen, "subscribe.framework_info.failover_timeout:"
		    " expected a non-negative number of seconds");
	if ((v = field(fi, "checkpoint")) && !json_is_boolean(v))
		return fail(err, errlen, "subscribe.framework_info.checkpoint: "
		    "expected a boolean");
	for (const char *const *k = (const char *const[]){ "hostname",
	    "principal", "webui_url", "role", NULL }; *k; k++)
		if ((v = field(fi, *k)) && !json_is_string(v))
			return fail(err, errlen, "subscribe.framework_info.%s: "
			    "expected a string", *k);
	if (opt_arr(fi, "subscribe.framework_info", "capabilities", &caps, err,
	    errlen) == -1 || opt_arr(fi, "subscribe.framework_info", "roles",
	    &roles, err, errlen) == -1)
		return -1;
	json_array_foreach(caps, i, v) {
		const char *t = json_str_or(v, "type", NULL);

		if (!json_is_object(v) || t == NULL)
			return fail(err, errlen, "subscribe.framework_info."
			    "capabilities[%zu]: expected {\"type\": \"<capability>\"}",
			    i);
		if (!strcmp(t, "MULTI_ROLE"))
			multi = true;
	}
	if (multi && field(fi, "role"))
		return fail(err, errlen, "subscribe.framework_info.role: must not "
		    "be set when the framework is MULTI_ROLE capable (use roles)");
	if (!multi && json_array_size(roles) > 0)
		return fail(err, errlen, "subscribe.framework_info.roles: needs the "
		    "MULTI_ROLE capability (otherwise use role)");
	if ((v = field(fi, "role")) && !sched_valid_role(json_string_value(v)))
		return fail(err, errlen, "subscribe.framework_info.role: '%s' is "
		    "not a valid role name", json_string_value(v));
	json_array_foreach(roles, i, v)
		if (!json_is_string(v) || !sched_valid_role(json_string_value(v)))
			return fail(err, errlen, "subscribe.framework_info.roles[%zu]:"
			    " expected a valid role name", i);
	return 0;
}

/* RECONCILE {"tasks": [{task_id, agent_id?}]} and RECONCILE_OPERATIONS
 * {"operations": [{operation_id, agent_id?}]}: the same list, by call */
static int
parse_reconcile(const json_t *body, const char *key, struct sched_call *c,
    char *err, size_t errlen)
{
	int ops = c->type == CALL_RECONCILE_OPERATIONS;
	const char *list = ops ? "operations" : "tasks";
	const json_t *items;
	size_t i;
	json_t *t;

	if (body && !json_is_object(body))
		return fail(err, errlen, "%s: expected an object", key);
	if (opt_arr(body, key, list, &items, err, errlen) == -1)
		return -1;
	c->recon = calloc(json_array_size(items) + 1, sizeof(*c->recon));
	if (c->recon == NULL)
		abort();
	json_array_foreach(items, i, t) {
		char p[128];
		struct reconcile_item *it = &c->recon[c->nrecon];

		snprintf(p, sizeof(p), "%s.%s[%zu]", key, list, i);
		if (!json_is_object(t))
			return fail(err, errlen, "%s: expected an object", p);
		if (need_id(t, p, ops ? "operation_id" : "task_id", &it->id, err,
		    errlen) == -1 ||
		    opt_id(t, p, "agent_id", &it->agent_id, err, errlen) == -1)
			return -1;
		c->nrecon++;
	}
	return 0;
}

/* base64 of exactly 16 bytes (a UUID), with or without padding */
static int
valid_uuid_b64(const char *s)
{
	size_t n = strlen(s), bits = 0;

	while (n > 0 && s[n - 1] == '=')
		n--;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];

		if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9') || ch == '+' || ch == '/' ||
		    ch == '-' || ch == '_'))
			return 0;
		bits += 6;
	}
	return bits / 8 == 16;
}

static int
parse_body(const json_t *root, struct sched_call *c, char *err, size_t errlen)
{
	const char *name = call_type_name(c->type);
	char key[64];
	const json_t *body;
	size_t i;

	for (i = 0; name[i] && i < sizeof(key) - 1; i++)
		key[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 :
		    name[i]);
	key[i] = '\0';
	body = field(root, key);
	switch (c->type) {
	case CALL_SUBSCRIBE:
		if (!json_is_object(body))
			return fail(err, errlen, "subscribe: is required for a "
			    "SUBSCRIBE call");
		c->framework_info = field(body, "framework_info");
		if (sched_parse_framework_info(c->framework_info, err, errlen) == -1)
			return -1;
		return opt_arr(body, "subscribe", "suppressed_roles",
		    &c->suppressed_roles, err, errlen);
	case CALL_ACCEPT:
		if (body && !json_is_object(body))
			return fail(err, errlen, "accept: expected an object");
		return parse_accept(body, c, err, errlen);
	case CALL_DECLINE: {
		const json_t *ids;

		if (!json_is_object(body))
			return fail(err, errlen, "decline: is required for a DECLINE "
			    "call");
		if (opt_arr(body, "decline", "offer_ids", &ids, err, errlen) == -1 ||
		    parse_ids(ids, "decline.offer_ids", &c->offer_ids,
		    &c->noffer_ids, err, errlen) == -1)
			return -1;
		return parse_filters(body, "decline", &c->refuse_seconds, err,
		    errlen);
	}
	case CALL_REVIVE:
	case CALL_SUPPRESS:
		return parse_roles(body, key, c, err, errlen);
	case CALL_KILL:
		if (!json_is_object(body))
			return fail(err, errlen, "kill: is required for a KILL call");
		if (need_id(body, "kill", "task_id", &c->task_id, err, errlen) == -1 ||
		    opt_id(body, "kill", "agent_id", &c->agent_id, err, errlen) == -1 ||
		    opt_obj(body, "kill", "kill_policy", &c->kill_policy, err,
		    errlen) == -1)
			return -1;
		return 0;
	case CALL_SHUTDOWN:
		if (!json_is_object(body))
			return fail(err, errlen, "shutdown: is required for a SHUTDOWN "
			    "call");
		if (need_id(body, "shutdown", "executor_id", &c->executor_id, err,
		    errlen) == -1 || need_id(body, "shutdown", "agent_id",
		    &c->agent_id, err, errlen) == -1)
			return -1;
		return 0;
	case CALL_ACKNOWLEDGE:
		if (!json_is_object(body))
			return fail(err, errlen, "acknowledge: is required for an "
			    "ACKNOWLEDGE call");
		if (need_id(body, "acknowledge", "agent_id", &c->agent_id, err,
		    errlen) == -1 || need_id(body, "acknowledge", "task_id",
		    &c->task_id, err, errlen) == -1)
			return -1;
		c->uuid = json_str_or(body, "uuid", NULL);
		if (c->uuid == NULL)
			return fail(err, errlen, "acknowledge.uuid: is required");
		if (!valid_uuid_b64(c->uuid))
			return fail(err, errlen, "acknowledge.uuid: '%s' is not a "
			    "base64 encoded UUID (16 bytes)", c->uuid);
		return 0;
	case CALL_RECONCILE:
	case CALL_RECONCILE_OPERATIONS:
		return parse_reconcile(body, key, c, err, errlen);
	case CALL_ACKNOWLEDGE_OPERATION_STATUS:
		if (!json_is_object(body))
			return fail(err, errlen, "acknowledge_operation_status: is "
			    "required for an ACKNOWLEDGE_OPERATION_STATUS call");
		if (opt_id(body, key, "agent_id", &c->agent_id, err, errlen) == -1 ||
		    need_id(body, key, "operation_id", &c->task_id, err,
		    errlen) == -1)
			return -1;
		c->uuid = json_str_or(body, "uuid", NULL);
		if (c->uuid == NULL || !valid_uuid_b64(c->uuid))
			return fail(err, errlen, "acknowledge_operation_status.uuid: "
			    "is required, a base64 encoded UUID (16 bytes)");
		return 0;
	case CALL_MESSAGE:
		if (!json_is_object(body))
			return fail(err, errlen, "message: is required for a MESSAGE "
			    "call");
		if (need_id(body, "message", "agent_id", &c->agent_id, err,
		    errlen) == -1 || need_id(body, "message", "executor_id",
		    &c->executor_id, err, errlen) == -1)
			return -1;
		if ((c->data = json_str_or(body, "data", NULL)) == NULL)
			return fail(err, errlen, "message.data: is required (base64)");
		return 0;
	default:
		return 0;
	}
}

int
sched_parse(const json_t *root, struct sched_call *c, char *err,
    size_t errlen)
{
	const json_t *type;

	memset(c, 0, sizeof(*c));
	c->type = CALL_UNKNOWN;
	if (!json_is_object(root))
		return fail(err, errlen, "the body must be a JSON object (a Call)");
	type = field(root, "type");
	if (type == NULL)
		return fail(err, errlen, "type: is required");
	if (!json_is_string(type))
		return fail(err, errlen, "type: expected the name of a call type");
	for (int i = 0; i < CALL_UNKNOWN; i++)
		if (!strcmp(json_string_value(type), call_names[i]))
			c->type = (enum call_type)i;
	if (c->type == CALL_UNKNOWN)
		return fail(err, errlen, "type: unknown call type '%s'",
		    json_string_value(type));
	if (opt_id(root, "", "framework_id", &c->framework_id, err, errlen) == -1)
		return fail(err, errlen, "framework_id: expected {\"value\": "
		    "\"<id>\"}");
	return parse_body(root, c, err, errlen);
}

void
sched_call_free(struct sched_call *c)
{
	free_ops(c);
	free(c->offer_ids);
	free(c->roles);
	free(c->recon);
	memset(c, 0, sizeof(*c));
}

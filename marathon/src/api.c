/*
 * api: the REST API's plumbing: the route table (every /v2 route is
 * proxied to the leader when this node is not it; /ping, /metrics and
 * GET /v2/leader are answered locally), query parameter helpers, and the
 * App+ JSON (an app with its counts, deployments and embeds) that several
 * endpoints share.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dcos/http_server.h"
#include "dcos/log.h"

#include "marathon.h"

struct route_ctx {
	struct marathon *m;
	api_fn fn;
	int flags;
};

static void
dispatch(struct http_req *req, void *arg)
{
	struct route_ctx *rc = arg;
	struct marathon *m = rc->m;
	char leader[320];

	m->api_requests++;
	if (!(rc->flags & API_LOCAL) && m->st == NULL) {
		leader_proxy(m, req);
		return;
	}
	if (m->st) {
		snprintf(leader, sizeof(leader), "http://%s", m->self);
		http_req_add_header(req, "X-Marathon-Leader", leader);
	}
	rc->fn(m, req);
}

void
api_route(struct marathon *m, const char *method, const char *pattern,
    api_fn fn, int flags)
{
	struct route_ctx *rc = xcalloc(1, sizeof(*rc));

	rc->m = m;
	rc->fn = fn;
	rc->flags = flags;
	/* route contexts live as long as the server */
	api_keep(m, rc);
	http_server_route(m->http, method, pattern, dispatch, rc);
}

void
api_keep(struct marathon *m, void *p)
{
	m->kept = xrealloc(m->kept, (m->nkept + 1) * sizeof(*m->kept));
	m->kept[m->nkept++] = p;
}

void
api_free(struct marathon *m)
{
	for (size_t i = 0; i < m->nkept; i++)
		free(m->kept[i]);
	free(m->kept);
	m->kept = NULL;
	m->nkept = 0;
}

bool
api_flag(struct http_req *req, const char *name, bool def)
{
	const char *v = http_req_query(req, name);

	if (v == NULL)
		return def;
	return strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0 || v[0] == '\0';
}

/* The app id of a route's {id*} parameter, canonical; replies 422/404 and
 * returns false when it is not a valid path id. */
bool
api_path_id(struct http_req *req, const char *param, bool allow_root,
    char *out, size_t size)
{
	const char *raw = http_req_param(req, param);
	char err[512];

	if (pathid_canonical(raw ? raw : "", "/", allow_root, out, size, err,
	    sizeof(err)) == -1) {
		struct json_errs e;

		json_errs_init(&e);
		json_errs_add(&e, "/id", "%s", err);
		api_reply_invalid(req, &e);
		json_errs_free(&e);
		return false;
	}
	return true;
}

void
api_app_missing(struct http_req *req, const char *id)
{
	http_reply_error(req, 404, "App '%s' does not exist", id);
}

/* embed=apps.tasks&embed=apps.counts ... with the given prefix */
unsigned
api_embeds(struct http_req *req, const char *prefix)
{
	static const struct { const char *name; unsigned flags; } names[] = {
		{ "tasks", EMB_TASKS | EMB_DEPLOYMENTS },
		{ "counts", EMB_COUNTS },
		{ "deployments", EMB_DEPLOYMENTS },
		{ "readiness", EMB_READINESS },
		{ "lastTaskFailure", EMB_LAST_FAILURE },
		{ "failures", EMB_TASKS | EMB_LAST_FAILURE | EMB_DEPLOYMENTS },
		{ "taskStats", EMB_TASK_STATS },
	};
	const char *vals[32];
	size_t n = http_req_query_all(req, "embed", vals, 32);
	size_t plen = strlen(prefix);
	unsigned flags = 0;

	for (size_t i = 0; i < n; i++) {
		if (strncmp(vals[i], prefix, plen) != 0)
			continue;
		for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++)
			if (strcmp(vals[i] + plen, names[k].name) == 0)
				flags |= names[k].flags;
	}
	return flags;
}

static json_t *
task_stats(const struct app_rt *rt)
{
	int c[4];
	double total = 0, now = clock_wall();
	size_t n = 0;
	json_t *stats;

	state_counts(rt, c);
	for (size_t k = 0; rt && k < rt->ninst; k++) {
		if (rt->inst[k]->started_at) {
			total += now - rt->inst[k]->started_at;
			n++;
		}
	}
	stats = json_pack("{s:{s:i, s:i, s:i, s:i}}", "counts", "staged", c[0],
	    "running", c[1], "healthy", c[2], "unhealthy", c[3]);
	if (n)
		json_object_set_new(stats, "lifeTime", json_pack("{s:f, s:f}",
		    "averageSeconds", total / (double)n, "medianSeconds",
		    total / (double)n));
	return json_pack("{s:{s:o}}", "totalSummary", "stats", stats);
}

/* readinessCheckResults of an app's instances that are being checked */
json_t *
api_readiness(struct marathon *m, const char *app_id)
{
	struct app_rt *rt = state_rt(m->st, app_id, false);
	json_t *arr = json_array();

	if (rt == NULL || rt->app == NULL || rt->app->nrcs == 0)
		return arr;
	for (size_t k = 0; k < rt->ninst; k++) {
		const struct instance *i = rt->inst[k];
		json_t *r;

		if (!instance_active(i) || i->state != TASK_RUNNING)
			continue;
		r = json_pack("{s:s, s:s, s:b}", "taskId", i->id, "name",
		    rt->app->rcs[0].name, "ready", i->ready == 1);
		if (i->readiness_last)
			json_object_set(r, "lastResponse", i->readiness_last);
		json_array_append_new(arr, r);
	}
	return arr;
}

json_t *
api_deployment_ids(const struct state *st, const char *app_id)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < st->ndeps; i++)
		if (deployment_affects(st->deps[i], app_id))
			json_array_append_new(arr, json_pack("{s:s}", "id",
			    st->deps[i]->id));
	return arr;
}

json_t *
api_app_json(struct marathon *m, const struct app *a, unsigned embed)
{
	struct state *st = m->st;
	struct app_rt *rt = state_rt(st, a->id, false);
	json_t *o;
	int c[4];

	if (a->json_cache == NULL)
		((struct app *)a)->json_cache = app_to_json(a);
	o = json_copy(a->json_cache);
	state_counts(rt, c);
	json_object_set_new(o, "tasksStaged", json_integer(c[0]));
	json_object_set_new(o, "tasksRunning", json_integer(c[1]));
	json_object_set_new(o, "tasksHealthy", json_integer(c[2]));
	json_object_set_new(o, "tasksUnhealthy", json_integer(c[3]));
	json_object_set_new(o, "deployments", api_deployment_ids(st, a->id));
	if (embed & EMB_READINESS)
		json_object_set_new(o, "readinessCheckResults",
		    api_readiness(m, a->id));
	if (embed & EMB_TASKS) {
		json_t *tasks = json_array();

		for (size_t k = 0; rt && k < rt->ninst; k++)
			if (instance_active(rt->inst[k]))
				json_array_append_new(tasks, instance_to_json(rt->inst[k],
				    a));
		json_object_set_new(o, "tasks", tasks);
	}
	if ((embed & EMB_LAST_FAILURE) && rt && rt->failure.task_id) {
		char ts[VERSION_LEN];

		json_object_set_new(o, "lastTaskFailure", json_pack("{s:s, s:s, "
		    "s:s, s:s, s:s, s:s, s:s, s:s}", "appId", a->id, "host",
		    rt->failure.host, "message", rt->failure.message, "state",
		    rt->failure.state, "taskId", rt->failure.task_id, "timestamp",
		    util_iso8601(rt->failure.at, ts), "version", rt->failure.version,
		    "slaveId", rt->failure.agent_id));
	}
	if (embed & EMB_TASK_STATS)
		json_object_set_new(o, "taskStats", task_stats(rt));
	return o;
}

static void
add_field(struct sbuf *b, const char *key, json_t *v /* stolen */)
{
	sbuf_addf(b, ",\"%s\":", key);
	sbuf_add_json(b, v);
	json_decref(v);
}

void
api_app_text(struct marathon *m, const struct app *a, unsigned embed,
    struct sbuf *b)
{
	struct app_rt *rt = state_rt(m->st, a->id, false);
	struct app *w = (struct app *)a;
	int c[4];

	if (w->text_cache == NULL) {
		if (w->json_cache == NULL)
			w->json_cache = app_to_json(a);
		if ((w->text_cache = json_compact(w->json_cache)) == NULL)
			abort();
		w->text_len = strlen(w->text_cache);
	}
	/* the cached object without its closing brace, then the extras */
	sbuf_add(b, w->text_cache, w->text_len - 1);
	state_counts(rt, c);
	sbuf_addf(b, ",\"tasksStaged\":%d,\"tasksRunning\":%d,"
	    "\"tasksHealthy\":%d,\"tasksUnhealthy\":%d", c[0], c[1], c[2], c[3]);
	add_field(b, "deployments", api_deployment_ids(m->st, a->id));
	if (embed & (EMB_READINESS | EMB_LAST_FAILURE | EMB_TASK_STATS)) {
		json_t *o = api_app_json(m, a, embed & ~EMB_TASKS);
		static const char *const keys[] = { "readinessCheckResults",
			"lastTaskFailure", "taskStats" };

		for (size_t k = 0; k < 3; k++)
			if (json_object_get(o, keys[k]))
				add_field(b, keys[k], json_incref(json_object_get(o,
				    keys[k])));
		json_decref(o);
	}
	if (embed & EMB_TASKS) {
		sbuf_adds(b, ",\"tasks\":[");
		for (size_t k = 0, n = 0; rt && k < rt->ninst; k++) {
			json_t *t;

			if (!instance_active(rt->inst[k]))
				continue;
			if (n++)
				sbuf_add(b, ",", 1);
			t = instance_to_json(rt->inst[k], a);
			sbuf_add_json(b, t);
			json_decref(t);
		}
		sbuf_add(b, "]", 1);
	}
	sbuf_add(b, "}", 1);
}

/* --- label selectors: "k", "k==v", "k!=v", "k in (a,b)", "k notin (a)" --- */

static char *
trim(char *s)
{
	char *e;

	while (*s == ' ')
		s++;
	e = s + strlen(s);
	while (e > s && e[-1] == ' ')
		*--e = '\0';
	return s;
}

static bool
in_set(const char *set, const char *v)
{
	char *copy = xstrdup(set), *save = NULL, *tok;
	bool hit = false;

	for (tok = strtok_r(copy, ",", &save); tok && !hit;
	    tok = strtok_r(NULL, ",", &save))
		hit = strcmp(trim(tok), v) == 0;
	free(copy);
	return hit;
}

static bool
term_matches(char *term, const struct kvlist *labels)
{
	char *op, *key, *val;
	const char *have;

	term = trim(term);
	if ((op = strstr(term, "!=")) != NULL) {
		*op = '\0';
		have = kv_get(labels, trim(term));
		return have == NULL || strcmp(have, trim(op + 2)) != 0;
	}
	if ((op = strstr(term, "==")) != NULL) {
		*op = '\0';
		have = kv_get(labels, trim(term));
		return have && strcmp(have, trim(op + 2)) == 0;
	}
	if ((op = strstr(term, " notin ")) != NULL ||
	    (op = strstr(term, " in ")) != NULL) {
		bool notin = strncmp(op, " notin ", 7) == 0;
		char *open = strchr(op, '('), *close = strrchr(op, ')');

		*op = '\0';
		key = trim(term);
		if (open == NULL || close == NULL || close < open)
			return false;
		*close = '\0';
		val = open + 1;
		have = kv_get(labels, key);
		return notin ? (have == NULL || !in_set(val, have)) :
		    (have && in_set(val, have));
	}
	return kv_get(labels, term) != NULL;
}

bool
api_label_match(const char *selector, const struct kvlist *labels)
{
	char *copy = xstrdup(selector), *p = copy, *start = copy;
	int depth = 0;
	bool ok = true;

	for (;; p++) {
		if (*p == '(')
			depth++;
		else if (*p == ')')
			depth--;
		if ((*p == ',' && depth == 0) || *p == '\0') {
			char end = *p;

			*p = '\0';
			if (*trim(start) && !term_matches(start, labels))
				ok = false;
			if (end == '\0')
				break;
			start = p + 1;
		}
	}
	free(copy);
	return ok;
}

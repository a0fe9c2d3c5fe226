/*
 * state_json: the unversioned ("v0") operator endpoints: /master/state (and
 * /state, /state.json, /master/state.json), /master/state-summary,
 * /master/slaves, /master/frameworks, /master/tasks, with their query
 * parameters and ?jsonp=. The shapes are in state_render.c.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dcos/flags.h"
#include "dcos/http_server.h"
#include "dcos/strmap.h"
#include "master.h"

/* --- the endpoints --- */

static void
count_agents(struct master *m, int *active, int *unreachable)
{
	void *v;

	*active = *unreachable = 0;
	for (size_t it = 0; strmap_next(m->agents, &it, NULL, &v);) {
		if (((struct agent *)v)->state == AGENT_ACTIVE)
			(*active)++;
		else if (((struct agent *)v)->state == AGENT_UNREACHABLE)
			(*unreachable)++;
	}
}

void
state_write(struct master *m, struct jsonw *w)
{
	int active, unreachable;
	json_t *flags = flags_to_json(m->spec);

	count_agents(m, &active, &unreachable);
	jw_obj_begin(w);
	jw_klstr(w, "version", DCOS_MESOS_VERSION);
	jw_klstr(w, "build_date", __DATE__ " " __TIME__);
	jw_klint(w, "build_time", (int64_t)m->start_time);
	jw_klstr(w, "build_user", "dcos-c " DCOS_VERSION);
	jw_kldouble(w, "start_time", m->start_time);
	if (m->role == ROLE_LEADER)
		jw_kldouble(w, "elected_time", m->elected_time);
	jw_klstr(w, "id", m->id);
	jw_klstr(w, "pid", m->pid);
	jw_klstr(w, "hostname", m->hostname);
	jw_key_lit(w, "capabilities");
	jw_arr_begin(w);
	jw_str(w, "AGENT_UPDATE");
	jw_arr_end(w);
	jw_klint(w, "activated_slaves", active);
	jw_klint(w, "deactivated_slaves", 0);
	jw_klint(w, "unreachable_slaves", unreachable);
	jw_klstr(w, "leader", m->pid);
	jw_key_lit(w, "leader_info");
	jw_obj_begin(w);
	jw_klstr(w, "id", m->id);
	jw_klstr(w, "pid", m->pid);
	jw_klint(w, "port", m->f.port);
	jw_klstr(w, "hostname", m->hostname);
	jw_obj_end(w);
	if (m->f.cluster)
		jw_klstr(w, "cluster", m->f.cluster);
	jw_kjson(w, "flags", flags);
	json_decref(flags);
	jw_key_lit(w, "slaves");
	state_agents(w, m, NULL, false);
	jw_key_lit(w, "recovered_slaves");
	state_recovered_agents(w, m);
	jw_key_lit(w, "frameworks");
	state_frameworks(w, m, NULL);
	jw_key_lit(w, "completed_frameworks");
	state_completed_frameworks(w, m, NULL);
	jw_key_lit(w, "orphan_tasks");
	jw_arr_begin(w);
	jw_arr_end(w);
	jw_key_lit(w, "unregistered_frameworks");
	jw_arr_begin(w);
	jw_arr_end(w);
	jw_obj_end(w);
}

/* Replies with the writer's document, wrapped for ?jsonp= when asked. */
static void
reply_doc(struct http_req *req, struct jsonw *w)
{
	const char *cb = http_req_query(req, "jsonp");
	size_t len;
	char *text = jw_steal(w, &len);

	if (cb && cb[0]) {
		size_t n = strlen(cb);
		char *wrapped = malloc(n + len + 4);

		if (wrapped == NULL)
			abort();
		memcpy(wrapped, cb, n);
		wrapped[n] = '(';
		memcpy(wrapped + n + 1, text, len);
		memcpy(wrapped + n + 1 + len, ");", 3);
		http_reply(req, 200, "text/javascript", wrapped, n + len + 3);
		free(wrapped);
	} else {
		http_reply(req, 200, "application/json", text, len);
	}
	free(text);
}

static void
h_state(struct http_req *req, void *arg)
{
	struct master *m = arg;
	struct jsonw w;

	if (leader_guard_http(m, req) == -1)
		return;
	jw_init(&w);
	state_write(m, &w);
	reply_doc(req, &w);
}

static void
count_task(int counts[TASK_STATE_MAX], const struct task *t)
{
	counts[t->unreachable ? TASK_UNREACHABLE : t->state]++;
}

static void
write_counts(struct jsonw *w, const int counts[TASK_STATE_MAX])
{
	static const enum task_state shown[] = { TASK_STAGING, TASK_STARTING,
		TASK_RUNNING, TASK_KILLING, TASK_FINISHED, TASK_KILLED,
		TASK_FAILED, TASK_LOST, TASK_ERROR, TASK_UNREACHABLE };

	for (size_t i = 0; i < sizeof(shown) / sizeof(shown[0]); i++)
		jw_kint(w, task_state_name(shown[i]), counts[shown[i]]);
}

static void
h_state_summary(struct http_req *req, void *arg)
{
	struct master *m = arg;
	struct jsonw w;
	void *v, *fv;

	if (leader_guard_http(m, req) == -1)
		return;
	jw_init(&w);
	jw_obj_begin(&w);
	jw_klstr(&w, "hostname", m->hostname);
	if (m->f.cluster)
		jw_klstr(&w, "cluster", m->f.cluster);
	jw_key_lit(&w, "slaves");
	jw_arr_begin(&w);
	for (size_t it = 0; strmap_next(m->agents, &it, NULL, &v);) {
		struct agent *a = v;
		int counts[TASK_STATE_MAX] = { 0 };
		struct strmap *fws = strmap_new();
		const struct task *t;

		if (a->state == AGENT_RECOVERED)
			continue;
		TAILQ_FOREACH(t, &a->tasks, agent_link) {
			count_task(counts, t);
			strmap_put(fws, t->fw->id, (void *)t->fw);
		}
		jw_obj_begin(&w);
		state_agent_fields(&w, a, false);
		write_counts(&w, counts);
		jw_key_lit(&w, "framework_ids");
		jw_arr_begin(&w);
		for (size_t k = 0; strmap_next(fws, &k, NULL, &fv);)
			jw_str(&w, ((struct framework *)fv)->id);
		jw_arr_end(&w);
		jw_obj_end(&w);
		strmap_free(fws);
	}
	jw_arr_end(&w);
	jw_key_lit(&w, "frameworks");
	jw_arr_begin(&w);
	for (size_t it = 0; strmap_next(m->frameworks, &it, NULL, &v);) {
		struct framework *fw = v;
		int counts[TASK_STATE_MAX] = { 0 };
		struct strmap *agents = strmap_new();
		const struct task *t;

		for (size_t k = 0; strmap_next(fw->tasks, &k, NULL, &fv);) {
			t = fv;
			count_task(counts, t);
			if (t->agent_id[0])
				strmap_put(agents, t->agent_id, (void *)1);
		}
		TAILQ_FOREACH(t, &fw->completed, done_link)
			count_task(counts, t);
		jw_obj_begin(&w);
		jw_klstr(&w, "id", fw->id);
		jw_klstr(&w, "name", fw->name);
		jw_key_lit(&w, "used_resources");
		state_write_resources(&w, &fw->used);
		jw_key_lit(&w, "offered_resources");
		state_write_resources(&w, &fw->offered);
		state_caps(&w, fw);
		jw_klstr(&w, "hostname", fw->hostname);
		jw_klstr(&w, "webui_url", fw->webui_url);
		jw_klbool(&w, "active", fw->active);
		jw_klbool(&w, "connected", fw->connected);
		jw_klbool(&w, "recovered", fw->recovered);
		write_counts(&w, counts);
		jw_key_lit(&w, "slave_ids");
		jw_arr_begin(&w);
		for (size_t k = 0; strmap_next(agents, &k, (const char **)&fv,
		    NULL);)
			jw_str(&w, (const char *)fv);
		jw_arr_end(&w);
		jw_obj_end(&w);
		strmap_free(agents);
	}
	jw_arr_end(&w);
	jw_obj_end(&w);
	reply_doc(req, &w);
}

static void
h_slaves(struct http_req *req, void *arg)
{
	struct master *m = arg;
	struct jsonw w;

	if (leader_guard_http(m, req) == -1)
		return;
	jw_init(&w);
	jw_obj_begin(&w);
	jw_key_lit(&w, "slaves");
	state_agents(&w, m, http_req_query(req, "slave_id"), true);
	jw_key_lit(&w, "recovered_slaves");
	state_recovered_agents(&w, m);
	jw_obj_end(&w);
	reply_doc(req, &w);
}

static void
h_frameworks(struct http_req *req, void *arg)
{
	struct master *m = arg;
	const char *only = http_req_query(req, "framework_id");
	struct jsonw w;

	if (leader_guard_http(m, req) == -1)
		return;
	jw_init(&w);
	jw_obj_begin(&w);
	jw_key_lit(&w, "frameworks");
	state_frameworks(&w, m, only);
	jw_key_lit(&w, "completed_frameworks");
	state_completed_frameworks(&w, m, only);
	jw_key_lit(&w, "unregistered_frameworks");
	jw_arr_begin(&w);
	jw_arr_end(&w);
	jw_obj_end(&w);
	reply_doc(req, &w);
}

static double
task_time(const struct task *t)
{
	return t->nstatuses ? t->statuses[t->nstatuses - 1].timestamp : 0;
}

static int
by_time_desc(const void *x, const void *y)
{
	double a = task_time(*(const struct task *const *)x);
	double b = task_time(*(const struct task *const *)y);

	return a < b ? 1 : a > b ? -1 : 0;
}

static void
h_tasks(struct http_req *req, void *arg)
{
	struct master *m = arg;
	const char *fw_only = http_req_query(req, "framework_id");
	const char *task_only = http_req_query(req, "task_id");
	const char *limit_s = http_req_query(req, "limit");
	const char *offset_s = http_req_query(req, "offset");
	const char *order = http_req_query(req, "order");
	long limit = limit_s ? strtol(limit_s, NULL, 10) : 100;
	long offset = offset_s ? strtol(offset_s, NULL, 10) : 0;
	const struct task **all = NULL;
	size_t n = 0, cap = 0;
	struct jsonw w;
	void *v, *tv;

	if (leader_guard_http(m, req) == -1)
		return;
	if ((limit_s && limit < 0) || (offset_s && offset < 0) ||
	    (order && strcmp(order, "asc") && strcmp(order, "desc"))) {
		http_reply_error(req, 400, "limit and offset must be non-negative "
		    "and order asc or desc");
		return;
	}
	for (size_t it = 0; strmap_next(m->frameworks, &it, NULL, &v);) {
		struct framework *fw = v;
		const struct task *t;

		if (fw_only && strcmp(fw_only, fw->id))
			continue;
#define PUSH(tt) do { \
	if (task_only && strcmp(task_only, (tt)->id)) break; \
	if (n == cap) { cap = cap ? cap * 2 : 256; \
	    all = realloc(all, cap * sizeof(*all)); if (!all) abort(); } \
	all[n++] = (tt); } while (0)
		for (size_t k = 0; strmap_next(fw->tasks, &k, NULL, &tv);)
			PUSH((const struct task *)tv);
		TAILQ_FOREACH(t, &fw->completed, done_link)
			PUSH(t);
#undef PUSH
	}
	qsort(all, n, sizeof(*all), by_time_desc);
	jw_init(&w);
	jw_obj_begin(&w);
	jw_key_lit(&w, "tasks");
	jw_arr_begin(&w);
	for (long i = offset; i < (long)n && i < offset + limit; i++)
		state_write_task(&w, all[order && !strcmp(order, "asc") ?
		    n - 1 - (size_t)i : (size_t)i]);
	jw_arr_end(&w);
	jw_obj_end(&w);
	free(all);
	reply_doc(req, &w);
}

void
state_route(struct master *m, struct http_server *srv)
{
	const char *states[] = { "/master/state", "/state", "/state.json",
		"/master/state.json" };

	for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++)
		http_server_route(srv, "GET", states[i], h_state, m);
	http_server_route(srv, "GET", "/master/state-summary", h_state_summary,
	    m);
	http_server_route(srv, "GET", "/master/slaves", h_slaves, m);
	http_server_route(srv, "GET", "/slaves", h_slaves, m);
	http_server_route(srv, "GET", "/master/frameworks", h_frameworks, m);
	http_server_route(srv, "GET", "/frameworks", h_frameworks, m);
	http_server_route(srv, "GET", "/master/tasks", h_tasks, m);
	http_server_route(srv, "GET", "/master/tasks.json", h_tasks, m);
	http_server_route(srv, "GET", "/tasks", h_tasks, m);
	http_server_route(srv, "GET", "/tasks.json", h_tasks, m);
}

/*
 * persist: Marathon's tables in the state store (component "marathon"),
 * loading the leader's state on election, and the statements every change
 * is written with. Every write the leader makes carries the lease guard,
 * so a deposed leader cannot write; a failed write makes it step down and
 * reload (memory may be ahead of the store).
 *
 *   marathon_meta          key -> value (framework_id, root_version)
 *   marathon_apps          the current definition of every app
 *   marathon_app_versions  up to --max_versions definitions per app
 *   marathon_groups        explicit groups (dependencies, version)
 *   marathon_pods          pod definitions (with their config version)
 *   marathon_deployments   running deployments (plan, progress, originals)
 *   marathon_instances     every instance (task) and where it runs
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dcos/lease.h"
#include "dcos/log.h"
#include "dcos/store.h"

#include "marathon.h"

static const char *const v1[] = {
	"CREATE TABLE marathon_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
	"CREATE TABLE marathon_apps (id TEXT PRIMARY KEY, version TEXT NOT NULL, "
	    "json TEXT NOT NULL)",
	"CREATE TABLE marathon_app_versions (id TEXT NOT NULL, version TEXT NOT "
	    "NULL, json TEXT NOT NULL, PRIMARY KEY (id, version))",
	"CREATE TABLE marathon_groups (id TEXT PRIMARY KEY, json TEXT NOT NULL)",
	"CREATE TABLE marathon_pods (id TEXT PRIMARY KEY, version TEXT NOT NULL, "
	    "json TEXT NOT NULL)",
	"CREATE TABLE marathon_deployments (id TEXT PRIMARY KEY, json TEXT NOT "
	    "NULL)",
	"CREATE TABLE marathon_instances (id TEXT PRIMARY KEY, app_id TEXT NOT "
	    "NULL, json TEXT NOT NULL)",
	NULL,
};

int
persist_open(struct marathon *m, char *err, size_t errlen)
{
	const struct store_migration migrations[] = { { 1, v1 } };
	struct store_err serr;

	if ((m->store = store_open(m->f.store, &serr)) == NULL ||
	    store_migrate(m->store, "marathon", migrations, 1, &serr) != STORE_OK ||
	    store_attach(m->store, m->base, &serr) != STORE_OK) {
		snprintf(err, errlen, "store %s: %s", m->f.store, serr.msg);
		return -1;
	}
	return 0;
}

static struct store_rows *
query(struct marathon *m, const char *sql)
{
	struct store_rows *rows = NULL;
	struct store_err err;

	if (store_query(m->store, sql, NULL, 0, &rows, &err) != STORE_OK) {
		log_error("loading state: %s: %s", sql, err.msg);
		return NULL;
	}
	return rows;
}

static int
load_groups(struct marathon *m, struct state *st)
{
	struct store_rows *rows = query(m, "SELECT id, json FROM marathon_groups");

	if (rows == NULL)
		return -1;
	for (size_t r = 0; r < rows->nrows; r++) {
		json_t *g = json_loads(store_rows_text(rows, r, 1), 0, NULL);
		char **deps = NULL;
		size_t ndeps = 0, i;
		json_t *d;

		json_array_foreach(json_object_get(g, "dependencies"), i, d) {
			deps = xrealloc(deps, (ndeps + 1) * sizeof(char *));
			deps[ndeps++] = xstrdup(json_string_value(d) ?
			    json_string_value(d) : "/");
		}
		root_put_group(st->root, store_rows_text(rows, r, 0), deps, ndeps,
		    json_str_or(g, "version", ""));
		strv_free(deps, ndeps);
		json_decref(g);
	}
	store_rows_free(rows);
	return 0;
}

static int
load_pods(struct marathon *m, struct state *st)
{
	struct store_rows *rows = query(m, "SELECT id, version, json FROM "
	    "marathon_pods");

	if (rows == NULL)
		return -1;
	for (size_t r = 0; r < rows->nrows; r++) {
		struct pod *p = pod_from_store(store_rows_text(rows, r, 2));

		if (p == NULL) {
			log_error("pod %s: the stored definition does not parse; "
			    "skipped", store_rows_text(rows, r, 0));
			continue;
		}
		state_rt(st, p->id, true)->app = app_ref(p->app);
		root_put_pod(st->root, p);
	}
	store_rows_free(rows);
	return 0;
}

struct state *
persist_load(struct marathon *m)
{
	struct state *st = state_new();
	struct store_rows *rows;
	double t0 = clock_mono();
	size_t ninst = 0;

	if ((rows = query(m, "SELECT json FROM marathon_apps")) == NULL)
		goto fail;
	for (size_t r = 0; r < rows->nrows; r++) {
		struct app *a = app_from_store(store_rows_text(rows, r, 0));

		if (a == NULL)
			continue;
		root_put_app(st->root, a);
		state_rt(st, a->id, true)->app = app_ref(a);
	}
	store_rows_free(rows);
	if (load_groups(m, st) == -1 || load_pods(m, st) == -1)
		goto fail;
	if ((rows = query(m, "SELECT json FROM marathon_deployments")) == NULL)
		goto fail;
	for (size_t r = 0; r < rows->nrows; r++) {
		struct deployment *d = deployment_from_text(store_rows_text(rows, r,
		    0));

		if (d == NULL)
			continue;
		/* apps and pods being stopped are no longer in the root */
		for (size_t k = 0; k < d->naffected; k++) {
			struct app_rt *rt = state_rt(st, d->affected[k], true);

			if (rt->app == NULL && d->orig[k]) {
				rt->app = app_ref(d->orig[k]);
				rt->removed = true;
			}
		}
		for (size_t k = 0; k < d->naffected_pods; k++) {
			struct app_rt *rt = state_rt(st, d->affected_pods[k], true);

			if (rt->app == NULL && d->orig_pods[k]) {
				rt->app = app_ref(d->orig_pods[k]->app);
				rt->removed = true;
			}
		}
		state_add_deployment(st, d);
	}
	store_rows_free(rows);
	if ((rows = query(m, "SELECT json FROM marathon_instances")) == NULL)
		goto fail;
	for (size_t r = 0; r < rows->nrows; r++) {
		struct instance *i = instance_from_text(store_rows_text(rows, r, 0));
		struct app_rt *rt;

		if (i == NULL)
			continue;
		rt = state_rt(st, i->app_id, true);
		if (rt->app == NULL) {
			/* an app deleted outside a deployment: kill what is left */
			rt->removed = true;
		}
		state_add_instance(st, i);
		ninst++;
	}
	store_rows_free(rows);
	strmap_free(st->dirty);
	st->dirty = strmap_new();
	if ((rows = query(m, "SELECT key, value FROM marathon_meta")) == NULL)
		goto fail;
	for (size_t r = 0; r < rows->nrows; r++) {
		const char *k = store_rows_text(rows, r, 0);
		const char *v = store_rows_text(rows, r, 1);

		if (strcmp(k, "framework_id") == 0)
			snprintf(st->framework_id, sizeof(st->framework_id), "%s", v);
		else if (strcmp(k, "root_version") == 0)
			snprintf(st->root->version, sizeof(st->root->version), "%s", v);
	}
	store_rows_free(rows);
	m->loaded_ms = (clock_mono() - t0) * 1000;
	log_info("loaded %zu apps, %zu deployments and %zu instances in %.1f ms",
	    st->root->napps, st->ndeps, ninst, m->loaded_ms);
	return st;
fail:
	state_free(st);
	return NULL;
}

/* --- writes --- */

struct store_tx *
persist_tx(struct marathon *m)
{
	struct store_tx *tx = store_tx_new();

	if (m->lease)
		lease_guard(m->lease, tx);
	return tx;
}

void
tx_put_app(struct marathon *m, struct store_tx *tx, const struct app *a)
{
	char *text = app_to_text(a);
	struct store_val v[3] = { SV_TEXT(a->id), SV_TEXT(a->version),
		SV_TEXT(text) };
	struct store_val p[3] = { SV_TEXT(a->id), SV_TEXT(a->id),
		SV_INT(m->f.max_versions) };

	store_tx_add(tx, "INSERT OR REPLACE INTO marathon_apps (id, version, json)"
	    " VALUES (?, ?, ?)", v, 3);
	store_tx_add(tx, "INSERT OR REPLACE INTO marathon_app_versions (id, "
	    "version, json) VALUES (?, ?, ?)", v, 3);
	store_tx_add(tx, "DELETE FROM marathon_app_versions WHERE id = ? AND "
	    "version NOT IN (SELECT version FROM marathon_app_versions WHERE "
	    "id = ? ORDER BY version DESC LIMIT ?)", p, 3);
	free(text);
}

void
tx_del_app(struct store_tx *tx, const char *id)
{
	struct store_val v = SV_TEXT(id);

	store_tx_add(tx, "DELETE FROM marathon_apps WHERE id = ?", &v, 1);
	store_tx_add(tx, "DELETE FROM marathon_app_versions WHERE id = ?", &v, 1);
}

void
tx_put_groups(struct store_tx *tx, const struct root *r)
{
	struct store_val meta[2] = { SV_TEXT("root_version"),
		SV_TEXT(r->version) };

	store_tx_add(tx, "DELETE FROM marathon_groups", NULL, 0);
	for (size_t i = 0; i < r->ngroups; i++) {
		const struct group *g = &r->groups[i];
		json_t *deps = json_array(), *o;
		char *text;

		for (size_t k = 0; k < g->ndeps; k++)
			json_array_append_new(deps, json_string(g->deps[k]));
		o = json_pack("{s:o, s:s}", "dependencies", deps, "version",
		    g->version);
		text = json_compact(o);
		{
			struct store_val v[2] = { SV_TEXT(g->id), SV_TEXT(text) };

			store_tx_add(tx, "INSERT INTO marathon_groups (id, json) "
			    "VALUES (?, ?)", v, 2);
		}
		free(text);
		json_decref(o);
	}
	store_tx_add(tx, "INSERT OR REPLACE INTO marathon_meta (key, value) "
	    "VALUES (?, ?)", meta, 2);
}

void
tx_put_pod(struct store_tx *tx, const struct pod *p)
{
	char *text = pod_to_store(p);
	struct store_val v[3] = { SV_TEXT(p->id), SV_TEXT(p->version),
		SV_TEXT(text) };

	store_tx_add(tx, "INSERT OR REPLACE INTO marathon_pods (id, version, json)"
	    " VALUES (?, ?, ?)", v, 3);
	free(text);
}

void
tx_del_pod(struct store_tx *tx, const char *id)
{
	struct store_val v = SV_TEXT(id);

	store_tx_add(tx, "DELETE FROM marathon_pods WHERE id = ?", &v, 1);
}

void
tx_put_deployment(struct store_tx *tx, const struct deployment *d)
{
	char *text = deployment_to_text(d);
	struct store_val v[2] = { SV_TEXT(d->id), SV_TEXT(text) };

	store_tx_add(tx, "INSERT OR REPLACE INTO marathon_deployments (id, json) "
	    "VALUES (?, ?)", v, 2);
	free(text);
}

void
tx_del_deployment(struct store_tx *tx, const char *id)
{
	struct store_val v = SV_TEXT(id);

	store_tx_add(tx, "DELETE FROM marathon_deployments WHERE id = ?", &v, 1);
}

void
tx_put_instance(struct store_tx *tx, const struct instance *i)
{
	char *text = instance_to_text(i);
	struct store_val v[3] = { SV_TEXT(i->id), SV_TEXT(i->app_id),
		SV_TEXT(text) };

	store_tx_add(tx, "INSERT OR REPLACE INTO marathon_instances (id, app_id, "
	    "json) VALUES (?, ?, ?)", v, 3);
	free(text);
}

void
tx_del_instance(struct store_tx *tx, const char *id)
{
	struct store_val v = SV_TEXT(id);

	store_tx_add(tx, "DELETE FROM marathon_instances WHERE id = ?", &v, 1);
}

void
tx_set_meta(struct store_tx *tx, const char *key, const char *value)
{
	struct store_val v[2] = { SV_TEXT(key), SV_TEXT(value) };

	store_tx_add(tx, "INSERT OR REPLACE INTO marathon_meta (key, value) "
	    "VALUES (?, ?)", v, 2);
}

struct submit {
	struct marathon *m;
	unsigned gen;
	persist_done_fn cb;
	void *arg;
};

static void
submitted(const struct store_result *res, void *arg)
{
	struct submit *s = arg;

	if (res->code != STORE_OK && s->gen == s->m->gen && s->m->st) {
		log_error("store write failed: %s; stepping down to reload",
		    res->err.msg);
		leader_step_down(s->m, "a store write failed");
	}
	if (s->cb)
		s->cb(s->m, res->code == STORE_OK, s->gen == s->m->gen, s->arg);
	free(s);
}

void
persist_submit(struct marathon *m, struct store_tx *tx, persist_done_fn cb,
    void *arg)
{
	struct submit *s;

	if (m->store == NULL) {
		/* no store (unit tests of the engine): nothing to write */
		store_tx_free(tx);
		if (cb)
			cb(m, true, true, arg);
		return;
	}
	s = xcalloc(1, sizeof(*s));
	s->m = m;
	s->gen = m->gen;
	s->cb = cb;
	s->arg = arg;
	store_tx_submit(m->store, tx, submitted, s);
}

static void
flushed(struct marathon *m, bool ok, bool current, void *arg)
{
	if (!current || m->st == NULL)
		return;
	m->st->flush_inflight = false;
	if (strmap_count(m->st->dirty))
		persist_flush(m);
}

void
persist_flush(struct marathon *m)
{
	struct state *st = m->st;
	struct store_tx *tx;
	const char *key;
	void *v;
	size_t it = 0;

	if (st == NULL || st->flush_inflight || strmap_count(st->dirty) == 0)
		return;
	if (m->store == NULL) {
		strmap_free(st->dirty);
		st->dirty = strmap_new();
		return;
	}
	tx = persist_tx(m);
	while (strmap_next(st->dirty, &it, &key, &v)) {
		if (state_dirty_deleted(v))
			tx_del_instance(tx, key);
		else
			tx_put_instance(tx, v);
	}
	strmap_free(st->dirty);
	st->dirty = strmap_new();
	st->flush_inflight = true;
	persist_submit(m, tx, flushed, NULL);
}

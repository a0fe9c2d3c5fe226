/*
 * registry: what the master keeps in the store so that a new leader knows
 * the cluster after a failover: the admitted agents (and which are
 * unreachable or gone), the frameworks with their FrameworkInfo
 * (failover timeout included) and the role weights set by UPDATE_WEIGHTS. Tasks are not stored: as in Mesos they are
 * rebuilt from re-registering agents.
 *
 * Writes are queued and committed in groups: while one transaction is in
 * flight the next writes wait and then go together in one transaction (so a
 * thousand agents registering at once cost a handful of fsyncs, not a
 * thousand). Every transaction starts with the lease guard: a master that
 * lost the lease cannot write, and learns it from STORE_ERR_CONFLICT.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dcos/json.h"
#include "dcos/lease.h"
#include "dcos/log.h"
#include "dcos/store.h"
#include "dcos/strmap.h"
#include "master.h"

static const char *const v1[] = {
	"CREATE TABLE mesos_master_agents ("
	" id TEXT PRIMARY KEY,"
	" info TEXT NOT NULL,"          /* {agent_info, pid, channel, ...} */
	" state TEXT NOT NULL,"         /* admitted | unreachable | gone */
	" registered_ms INTEGER NOT NULL,"
	" unreachable_ms INTEGER)",
	"CREATE TABLE mesos_master_frameworks ("
	" id TEXT PRIMARY KEY,"
	" info TEXT NOT NULL,"          /* FrameworkInfo */
	" registered_ms INTEGER NOT NULL)",
	NULL
};

static const char *const v2[] = {
	"CREATE TABLE mesos_master_weights ("
	" role TEXT PRIMARY KEY,"
	" weight REAL NOT NULL)",
	NULL
};

static const struct store_migration migrations[] = {
	{ 1, v1 },
	{ 2, v2 },
};

enum reg_kind { REG_ADMIT, REG_MARK, REG_REMOVE_AGENT, REG_PUT_FW,
	REG_REMOVE_FW, REG_PUT_WEIGHTS };

struct reg_op {
	enum reg_kind kind;
	char *id, *text;
	int64_t ms;
	registry_done_fn cb;
	void *arg;
	TAILQ_ENTRY(reg_op) link;
};
TAILQ_HEAD(reg_op_list, reg_op);

struct registry {
	struct master *m;
	struct reg_op_list queue, inflight;
	bool busy;
};

int
registry_migrate(struct store *s, char *err, size_t errlen)
{
	struct store_err e;

	if (store_migrate(s, "mesos-master", migrations,
	    sizeof(migrations) / sizeof(migrations[0]), &e) != STORE_OK) {
		snprintf(err, errlen, "registry schema: %s", e.msg);
		return -1;
	}
	return 0;
}

struct registry *
registry_new(struct master *m)
{
	struct registry *r = calloc(1, sizeof(*r));

	if (r == NULL)
		abort();
	r->m = m;
	TAILQ_INIT(&r->queue);
	TAILQ_INIT(&r->inflight);
	return r;
}

static void
op_free(struct reg_op *op)
{
	free(op->id);
	free(op->text);
	free(op);
}

/* Pending writes are abandoned (a reset freed their owners): their
 * callbacks never run. In-flight transactions still complete. */
static void
abandon(struct registry *r)
{
	struct reg_op *op;

	while ((op = TAILQ_FIRST(&r->queue)) != NULL) {
		TAILQ_REMOVE(&r->queue, op, link);
		op_free(op);
	}
	TAILQ_FOREACH(op, &r->inflight, link)
		op->cb = NULL;
}

void
registry_free(struct registry *r)
{
	if (r == NULL)
		return;
	abandon(r);
	if (r->busy)
		r->m = NULL; /* freed when the transaction completes */
	else
		free(r);
}

static void flush(struct registry *r);

static void
committed(const struct store_result *res, void *arg)
{
	struct registry *r = arg;
	struct master *m = r->m;
	struct reg_op *op;
	int code = res->code;

	r->busy = false;
	if (m == NULL) { /* the master went away meanwhile */
		while ((op = TAILQ_FIRST(&r->inflight)) != NULL) {
			TAILQ_REMOVE(&r->inflight, op, link);
			op_free(op);
		}
		free(r);
		return;
	}
	if (code != STORE_OK)
		log_warn("registry: write of %s failed: %s",
		    TAILQ_FIRST(&r->inflight) ? TAILQ_FIRST(&r->inflight)->id : "?",
		    res->err.msg);
	while ((op = TAILQ_FIRST(&r->inflight)) != NULL) {
		TAILQ_REMOVE(&r->inflight, op, link);
		if (op->cb)
			op->cb(m, code, op->arg);
		op_free(op);
	}
	if (code == STORE_ERR_CONFLICT) {
		abandon(r);
		leader_step_down(m, "a registry write was fenced off: another "
		    "master holds the lease");
		return;
	}
	flush(r);
}

static void
add_op(struct store_tx *tx, const struct reg_op *op)
{
	switch (op->kind) {
	case REG_ADMIT: {
		struct store_val v[3] = { SV_TEXT(op->id), SV_TEXT(op->text),
			SV_INT(op->ms) };

		store_tx_add(tx, "INSERT INTO mesos_master_agents (id, info, state, "
		    "registered_ms) VALUES (?1, ?2, 'admitted', ?3) ON CONFLICT(id) "
		    "DO UPDATE SET info = ?2, state = 'admitted', "
		    "unreachable_ms = NULL", v, 3);
		break;
	}
	case REG_MARK: {
		struct store_val v[3] = { SV_TEXT(op->text), SV_INT(op->ms),
			SV_TEXT(op->id) };

		store_tx_add(tx, "UPDATE mesos_master_agents SET state = ?1, "
		    "unreachable_ms = CASE WHEN ?1 = 'unreachable' THEN ?2 ELSE "
		    "unreachable_ms END WHERE id = ?3", v, 3);
		break;
	}
	case REG_REMOVE_AGENT: {
		struct store_val v = SV_TEXT(op->id);

		store_tx_add(tx, "DELETE FROM mesos_master_agents WHERE id = ?",
		    &v, 1);
		break;
	}
	case REG_PUT_FW: {
		struct store_val v[3] = { SV_TEXT(op->id), SV_TEXT(op->text),
			SV_INT(op->ms) };

		store_tx_add(tx, "INSERT INTO mesos_master_frameworks (id, info, "
		    "registered_ms) VALUES (?1, ?2, ?3) ON CONFLICT(id) DO UPDATE "
		    "SET info = ?2", v, 3);
		break;
	}
	case REG_REMOVE_FW: {
		struct store_val v = SV_TEXT(op->id);

		store_tx_add(tx, "DELETE FROM mesos_master_frameworks WHERE id = ?",
		    &v, 1);
		break;
	}
	case REG_PUT_WEIGHTS: { /* text: {"role": weight, ...} */
		json_t *w = json_loads(op->text, 0, NULL), *val;
		const char *role;

		json_object_foreach(w, role, val) {
			struct store_val v[2] = { SV_TEXT(role),
				SV_FLOAT(json_number_value(val)) };

			store_tx_add(tx, "INSERT INTO mesos_master_weights (role, "
			    "weight) VALUES (?1, ?2) ON CONFLICT(role) DO UPDATE "
			    "SET weight = ?2", v, 2);
		}
		json_decref(w);
		break;
	}
	}
}

static void
flush(struct registry *r)
{
	struct store_tx *tx;
	struct reg_op *op;

	if (r->busy || TAILQ_EMPTY(&r->queue))
		return;
	if (r->m->lease == NULL || r->m->role == ROLE_FOLLOWER) {
		abandon(r);
		return;
	}
	tx = store_tx_new();
	lease_guard(r->m->lease, tx);
	while ((op = TAILQ_FIRST(&r->queue)) != NULL) {
		TAILQ_REMOVE(&r->queue, op, link);
		add_op(tx, op);
		TAILQ_INSERT_TAIL(&r->inflight, op, link);
	}
	r->busy = true;
	store_tx_submit(r->m->store, tx, committed, r);
}

static void
submit(struct master *m, enum reg_kind kind, const char *id, char *text,
    registry_done_fn cb, void *arg)
{
	struct reg_op *op = calloc(1, sizeof(*op));

	if (op == NULL || (op->id = strdup(id)) == NULL)
		abort();
	op->kind = kind;
	op->text = text;
	op->ms = (int64_t)(clock_wall() * 1000);
	op->cb = cb;
	op->arg = arg;
	TAILQ_INSERT_TAIL(&m->reg->queue, op, link);
	flush(m->reg);
}

void
registry_admit_agent(struct master *m, const struct agent *a,
    registry_done_fn cb, void *arg)
{
	json_t *rec = json_pack("{s:O, s:s, s:s, s:s, s:O}", "agent_info",
	    a->info, "pid", a->pid, "channel", a->channel, "version",
	    a->version ? a->version : "", "capabilities", a->capabilities);
	char *text = json_compact(rec);

	json_decref(rec);
	submit(m, REG_ADMIT, a->id, text, cb, arg);
}

void
registry_mark_agent(struct master *m, const char *agent_id, const char *state,
    registry_done_fn cb, void *arg)
{
	char *text = strdup(state);

	if (text == NULL)
		abort();
	submit(m, REG_MARK, agent_id, text, cb, arg);
}

void
registry_remove_agent(struct master *m, const char *agent_id)
{
	submit(m, REG_REMOVE_AGENT, agent_id, NULL, NULL, NULL);
}

void
registry_put_framework(struct master *m, const struct framework *fw,
    registry_done_fn cb, void *arg)
{
	submit(m, REG_PUT_FW, fw->id, json_compact(fw->info), cb, arg);
}

void
registry_remove_framework(struct master *m, const char *fw_id)
{
	submit(m, REG_REMOVE_FW, fw_id, NULL, NULL, NULL);
}

void
registry_put_weights(struct master *m, const json_t *weights,
    registry_done_fn cb, void *arg)
{
	submit(m, REG_PUT_WEIGHTS, "weights", json_compact(weights), cb, arg);
}

/* --- recovery --- */

struct recovery {
	struct master *m;
	void (*done)(struct master *, int);
	unsigned election; /* m->elections when it started */
};

static void
recover_agent(struct master *m, const char *id, const char *info_text,
    const char *state, double registered, double unreachable_at)
{
	json_t *rec = json_loads(info_text, 0, NULL);
	struct agent_reg reg = { .agent_id = id };
	struct json_errs e;
	struct agent *a;

	if (strcmp(state, "gone") == 0) {
		strmap_put(m->gone_agents, id, (void *)1);
		json_decref(rec);
		return;
	}
	if (rec == NULL) {
		log_warn("registry: agent %s has an unreadable record; skipping",
		    id);
		return;
	}
	json_errs_init(&e);
	reg.info = json_object_get(rec, "agent_info");
	reg.pid = json_str_or(rec, "pid", "");
	reg.channel = json_str_or(rec, "channel", "");
	reg.version = json_str_or(rec, "version", "");
	reg.capabilities = json_object_get(rec, "capabilities");
	reg.hostname = json_str_or(reg.info, "hostname", "");
	reg.port = (int)json_num_or(reg.info, "port", 5051);
	reg.attributes = json_object_get(reg.info, "attributes");
	resources_from_v1(json_object_get(reg.info, "resources"), "/resources",
	    &reg.total, &e);
	json_errs_free(&e);
	a = agent_new(m, id);
	agent_apply_reg(a, &reg);
	a->state = strcmp(state, "unreachable") == 0 ? AGENT_UNREACHABLE :
	    AGENT_RECOVERED;
	a->registered_time = registered;
	a->unreachable_time = unreachable_at;
	resources_free(&reg.total);
	json_decref(rec);
}

static void
weights_loaded(const struct store_result *res, void *arg)
{
	struct recovery *rc = arg;
	struct master *m = rc->m;

	if (rc->election != m->elections) {
		free(rc);
		return;
	}
	if (res->code == STORE_OK && m->role == ROLE_RECOVERING)
		for (size_t i = 0; res->rows && i < res->rows->nrows; i++) {
			const char *role = store_rows_text(res->rows, i, 0);
			double w = store_rows_float(res->rows, i, 1);

			if (role && w > 0)
				weights_set(m, role, w);
		}
	rc->done(m, res->code);
	free(rc);
}

static void
frameworks_loaded(const struct store_result *res, void *arg)
{
	struct recovery *rc = arg;
	struct master *m = rc->m;
	int code = res->code;

	if (rc->election != m->elections) { /* stepped down meanwhile */
		free(rc);
		return;
	}
	if (code == STORE_OK && m->role == ROLE_RECOVERING) {
		for (size_t i = 0; res->rows && i < res->rows->nrows; i++) {
			const char *id = store_rows_text(res->rows, i, 0);
			json_t *info = json_loads(store_rows_text(res->rows, i, 1) ?
			    store_rows_text(res->rows, i, 1) : "", 0, NULL);
			struct framework *fw;

			if (info == NULL || id == NULL) {
				log_warn("registry: framework %s has an unreadable "
				    "record; skipping", id ? id : "?");
				json_decref(info);
				continue;
			}
			fw = framework_new(m, id, info);
			fw->recovered = true;
			fw->registered_time = store_rows_int(res->rows, i, 2) / 1000.0;
			json_decref(info);
		}
	}
	if (code != STORE_OK || m->role != ROLE_RECOVERING) {
		rc->done(m, code);
		free(rc);
		return;
	}
	store_query_submit(m->store, "SELECT role, weight FROM "
	    "mesos_master_weights", NULL, 0, weights_loaded, rc);
}

static void
agents_loaded(const struct store_result *res, void *arg)
{
	struct recovery *rc = arg;
	struct master *m = rc->m;

	if (rc->election != m->elections) {
		free(rc);
		return;
	}
	if (res->code != STORE_OK || m->role != ROLE_RECOVERING) {
		rc->done(m, res->code != STORE_OK ? res->code : STORE_ERR_CLOSED);
		free(rc);
		return;
	}
	for (size_t i = 0; res->rows && i < res->rows->nrows; i++) {
		const char *id = store_rows_text(res->rows, i, 0);
		const char *info = store_rows_text(res->rows, i, 1);
		const char *state = store_rows_text(res->rows, i, 2);

		if (id && info && state)
			recover_agent(m, id, info, state,
			    store_rows_int(res->rows, i, 3) / 1000.0,
			    store_rows_int(res->rows, i, 4) / 1000.0);
	}
	store_query_submit(m->store, "SELECT id, info, registered_ms FROM "
	    "mesos_master_frameworks", NULL, 0, frameworks_loaded, rc);
}

void
registry_recover(struct master *m, void (*done)(struct master *, int))
{
	struct recovery *rc = calloc(1, sizeof(*rc));

	if (rc == NULL)
		abort();
	rc->m = m;
	rc->done = done;
	rc->election = m->elections;
	store_query_submit(m->store, "SELECT id, info, state, registered_ms, "
	    "unreachable_ms FROM mesos_master_agents", NULL, 0, agents_loaded,
	    rc);
}

/*
 * change: the one path every API write takes. A target root group (built
 * by the API from the current one) is validated, planned into a
 * deployment, checked against the running deployments (409 unless
 * force, which cancels them), applied to memory, written to the store in
 * one transaction, and only then answered and announced on the event bus.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dcos/http_server.h"
#include "dcos/log.h"
#include "dcos/store.h"

#include "marathon.h"

struct pending {
	struct http_req *req;
	int status;
	json_t *body;
	char *location;
	char deployment_id[40];
	char version[VERSION_LEN];
	json_t *events;  /* [[type, body], ...] to publish on commit */
};

static void
committed(struct marathon *m, bool ok, bool current, void *arg)
{
	struct pending *p = arg;
	size_t i;
	json_t *ev;

	if (!ok) {
		http_reply_error(p->req, 503, "the change could not be stored; "
		    "this Marathon stepped down, retry");
	} else {
		if (p->location)
			http_req_add_header(p->req, "Location", p->location);
		if (p->deployment_id[0])
			http_req_add_header(p->req, "Marathon-Deployment-Id",
			    p->deployment_id);
		if (p->status == 202 && p->body == NULL)
			http_reply_empty(p->req, 202);
		else
			http_reply_json(p->req, p->status, p->body ? json_incref(p->body) :
			    json_pack("{s:s, s:s}", "deploymentId", p->deployment_id,
			    "version", p->version));
		if (current)
			json_array_foreach(p->events, i, ev)
				events_publish(m, json_string_value(json_array_get(ev, 0)),
				    json_incref(json_array_get(ev, 1)));
	}
	json_decref(p->body);
	json_decref(p->events);
	free(p->location);
	free(p);
}

void
change_stamp(struct app *a, const struct app *old, const char *version,
    bool restart)
{
	snprintf(a->version, sizeof(a->version), "%s", version);
	if (old == NULL || restart || app_config_differs(old, a)) {
		snprintf(a->last_config_change_at, sizeof(a->last_config_change_at),
		    "%s", version);
		snprintf(a->last_scaling_at, sizeof(a->last_scaling_at), "%s",
		    version);
		return;
	}
	memcpy(a->last_config_change_at, old->last_config_change_at,
	    sizeof(a->last_config_change_at));
	if (old->instances != a->instances)
		snprintf(a->last_scaling_at, sizeof(a->last_scaling_at), "%s",
		    version);
	else
		memcpy(a->last_scaling_at, old->last_scaling_at,
		    sizeof(a->last_scaling_at));
}

void
api_reply_invalid(struct http_req *req, const struct json_errs *e)
{
	http_reply_json(req, 422, json_pack("{s:s, s:O}", "message",
	    "Object is not valid", "details", e->details));
}

static void
reply_locked(struct http_req *req, struct deployment **v, size_t n)
{
	json_t *ids = json_array();
	char msg[512];

	for (size_t i = 0; i < n; i++)
		json_array_append_new(ids, json_pack("{s:s}", "id", v[i]->id));
	snprintf(msg, sizeof(msg), "App is locked by one or more deployments. "
	    "Override with the option '?force=true'. View details at "
	    "'/v2/deployments/%s'.", v[0]->id);
	http_reply_json(req, 409, json_pack("{s:s, s:o}", "message", msg,
	    "deployments", ids));
}

static void
cancel(struct marathon *m, struct deployment *d, struct store_tx *tx,
    json_t *events, const char *why)
{
	log_info("deployment %s cancelled: %s", d->id, why);
	state_remove_deployment(m->st, d);
	tx_del_deployment(tx, d->id);
	json_array_append_new(events, json_pack("[s, {s:s, s:o, s:s}]",
	    "deployment_failed", "id", d->id, "plan", deployment_plan_json(d),
	    "reason", why));
	deployment_free(d);
}

void
change_submit(struct marathon *m, struct http_req *req, struct root *target,
    const struct change_opts *o)
{
	struct state *st = m->st;
	struct deployment *d, **conflicts = NULL;
	struct json_errs e;
	struct store_tx *tx;
	struct pending *p;
	struct root *old;
	size_t nconf = 0;

	json_errs_init(&e);
	if (root_validate(target, &e) == -1) {
		api_reply_invalid(req, &e);
		json_errs_free(&e);
		root_free(target);
		return;
	}
	json_errs_free(&e);
	snprintf(target->version, sizeof(target->version), "%s", o->version);
	d = plan_compute(st->root, target, o->version);
	d->reverts = o->reverts;
	for (size_t i = 0; i < st->ndeps; i++) {
		struct deployment *x = st->deps[i];
		bool hit = false;

		for (size_t k = 0; k < d->naffected && !hit; k++)
			hit = deployment_affects(x, d->affected[k]);
		for (size_t k = 0; k < d->naffected_pods && !hit; k++)
			hit = deployment_affects(x, d->affected_pods[k]);
		if (hit) {
			conflicts = xrealloc(conflicts, (nconf + 1) * sizeof(*conflicts));
			conflicts[nconf++] = x;
		}
	}
	if (nconf && !o->force) {
		reply_locked(req, conflicts, nconf);
		free(conflicts);
		deployment_free(d);
		root_free(target);
		return;
	}
	p = xcalloc(1, sizeof(*p));
	p->req = req;
	p->status = o->status ? o->status : 200;
	p->events = json_array();
	snprintf(p->deployment_id, sizeof(p->deployment_id), "%s", d->id);
	snprintf(p->version, sizeof(p->version), "%s", o->version);
	tx = persist_tx(m);
	for (size_t i = 0; i < nconf; i++)
		cancel(m, conflicts[i], tx, p->events, "canceled by a forced "
		    "change");
	free(conflicts);

	/* memory */
	old = st->root;
	st->root = target;
	for (size_t k = 0; k < d->naffected; k++) {
		struct app_rt *rt = state_rt(st, d->affected[k], true);

		if (d->target[k]) {
			app_unref(rt->app);
			rt->app = app_ref(d->target[k]);
			rt->removed = false;
			rt->backoff = 0;
			rt->delay_until = 0;
			for (size_t i = 0; i < rt->ninst; i++)
				instance_fit_checks(rt->inst[i], rt->app);
			tx_put_app(m, tx, d->target[k]);
		} else {
			rt->removed = true;
			tx_del_app(tx, d->affected[k]);
		}
	}
	for (size_t k = 0; k < d->naffected_pods; k++) {
		struct app_rt *rt = state_rt(st, d->affected_pods[k], true);
		struct pod *pod = d->target_pods[k];

		if (pod) {
			app_unref(rt->app);
			rt->app = app_ref(pod->app);
			rt->removed = false;
			rt->backoff = 0;
			rt->delay_until = 0;
			tx_put_pod(tx, pod);
		} else {
			rt->removed = true;
			tx_del_pod(tx, d->affected_pods[k]);
		}
	}
	tx_put_groups(tx, target);
	tx_put_deployment(tx, d);
	state_add_deployment(st, d);
	root_free(old);

	if (o->body_fn)
		p->body = o->body_fn(m, d, o->arg);
	if (o->location)
		p->location = xstrdup(o->location);
	if (o->api_event)
		json_array_append(p->events, o->api_event);
	json_array_append_new(p->events, json_pack("[s, {s:s, s:s}]",
	    "group_change_success", "groupId", "/", "version", o->version));
	json_array_append_new(p->events, json_pack("[s, {s:o, s:o}]",
	    "deployment_info", "plan", deployment_plan_json(d), "currentStep",
	    deployment_step_json(d, 0)));
	log_info("deployment %s: %zu steps for %zu apps%s", d->id, d->nsteps,
	    d->naffected, nconf ? " (forced)" : "");
	persist_submit(m, tx, committed, p);
	engine_kick(m);
}

void
change_cancel(struct marathon *m, struct http_req *req, struct deployment *d)
{
	struct pending *p = xcalloc(1, sizeof(*p));
	struct store_tx *tx = persist_tx(m);

	p->req = req;
	p->status = 202;
	p->events = json_array();
	cancel(m, d, tx, p->events, "canceled by the user");
	persist_submit(m, tx, committed, p);
	engine_kick(m);
}

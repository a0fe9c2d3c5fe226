/*
 * app: the app definition model: defaults, reference counting, deep
 * copies, and the small questions the scheduler asks of a definition
 * (how many host ports, which health checks Marathon runs itself).
 */
#include <stdlib.h>
#include <string.h>

#include "marathon.h"

static const char *const hc_names[] = {
	[HC_HTTP] = "HTTP", [HC_HTTPS] = "HTTPS", [HC_TCP] = "TCP",
	[HC_COMMAND] = "COMMAND", [HC_MESOS_HTTP] = "MESOS_HTTP",
	[HC_MESOS_HTTPS] = "MESOS_HTTPS", [HC_MESOS_TCP] = "MESOS_TCP",
};

const char *
hc_protocol_name(enum hc_protocol p)
{
	return hc_names[p];
}

int
hc_protocol_parse(const char *s)
{
	for (size_t i = 0; i < sizeof(hc_names) / sizeof(hc_names[0]); i++)
		if (strcmp(s, hc_names[i]) == 0)
			return (int)i;
	return -1;
}

bool
hc_marathon_side(const struct health_check *hc)
{
	return hc->protocol == HC_HTTP || hc->protocol == HC_HTTPS ||
	    hc->protocol == HC_TCP;
}

struct app *
app_new(void)
{
	struct app *a = xcalloc(1, sizeof(*a));

	a->refs = 1;
	a->instances = 1;
	a->cpus = 1;
	a->mem = 128;
	a->executor = xstrdup("");
	a->host_network = true;
	a->has_port_defs = true;
	a->min_health = 1;
	a->max_over = 1;
	a->backoff_seconds = 1;
	a->backoff_factor = 1.15;
	a->max_launch_delay = 3600;
	a->kill_grace = -1;
	a->tty = -1;
	return a;
}

struct app *
app_ref(struct app *a)
{
	if (a)
		a->refs++;
	return a;
}

static void
app_destroy(struct app *a)
{
	free(a->id);
	free(a->cmd);
	strv_free(a->args, a->nargs);
	free(a->user);
	for (size_t i = 0; i < a->nenv; i++) {
		free(a->env[i].name);
		free(a->env[i].value);
		free(a->env[i].secret);
	}
	free(a->env);
	kv_free(&a->secrets);
	kv_free(&a->labels);
	free(a->executor);
	strv_free(a->roles, a->nroles);
	for (size_t i = 0; i < a->nconstraints; i++)
		constraint_free(&a->constraints[i]);
	free(a->constraints);
	strv_free(a->deps, a->ndeps);
	for (size_t i = 0; i < a->nfetch; i++) {
		free(a->fetch[i].uri);
		free(a->fetch[i].dest_path);
	}
	free(a->fetch);
	strv_free(a->store_urls, a->nstore_urls);
	for (size_t i = 0; i < a->nports; i++) {
		free(a->ports[i].protocol);
		free(a->ports[i].name);
		kv_free(&a->ports[i].labels);
		strv_free(a->ports[i].network_names, a->ports[i].nnetwork_names);
	}
	free(a->ports);
	json_decref(a->container);
	free(a->docker_image);
	json_decref(a->networks);
	for (size_t i = 0; i < a->nhcs; i++) {
		free(a->hcs[i].path);
		free(a->hcs[i].command);
	}
	free(a->hcs);
	for (size_t i = 0; i < a->nrcs; i++) {
		free(a->rcs[i].name);
		free(a->rcs[i].path);
		free(a->rcs[i].port_name);
		free(a->rcs[i].codes);
	}
	free(a->rcs);
	json_decref(a->residency);
	pod_spec_free(a->pod);
	json_decref(a->json_cache);
	free(a->text_cache);
	free(a);
}

void
app_unref(struct app *a)
{
	if (a && --a->refs == 0)
		app_destroy(a);
}

struct app *
app_clone(const struct app *src)
{
	struct app *a = xcalloc(1, sizeof(*a));
	char err[256];

	*a = *src;
	/* no pointer is shared: arrays with a count of 0 may still be
	 * allocated in src */
	a->env = NULL;
	a->constraints = NULL;
	a->fetch = NULL;
	a->ports = NULL;
	a->hcs = NULL;
	a->rcs = NULL;
	a->pod = NULL;  /* pods are never cloned: only apps are */
	a->refs = 1;
	a->id = xstrdup(src->id);
	a->cmd = xstrdup(src->cmd);
	a->args = strv_dup(src->args, src->nargs);
	a->user = xstrdup(src->user);
	if (src->nenv) {
		a->env = xcalloc(src->nenv, sizeof(*a->env));
		for (size_t i = 0; i < src->nenv; i++) {
			a->env[i].name = xstrdup(src->env[i].name);
			a->env[i].value = xstrdup(src->env[i].value);
			a->env[i].secret = xstrdup(src->env[i].secret);
		}
	}
	kv_copy(&a->secrets, &src->secrets);
	kv_copy(&a->labels, &src->labels);
	a->executor = xstrdup(src->executor);
	a->roles = strv_dup(src->roles, src->nroles);
	if (src->nconstraints) {
		a->constraints = xcalloc(src->nconstraints, sizeof(*a->constraints));
		for (size_t i = 0; i < src->nconstraints; i++) {
			const struct constraint *c = &src->constraints[i];

			/* it parsed once, so it parses again */
			if (constraint_init(&a->constraints[i], c->field,
			    constraint_op_name(c->op), c->value, err, sizeof(err)))
				abort();
		}
	}
	a->deps = strv_dup(src->deps, src->ndeps);
	a->store_urls = strv_dup(src->store_urls, src->nstore_urls);
	if (src->nfetch) {
		a->fetch = xcalloc(src->nfetch, sizeof(*a->fetch));
		for (size_t i = 0; i < src->nfetch; i++) {
			a->fetch[i] = src->fetch[i];
			a->fetch[i].uri = xstrdup(src->fetch[i].uri);
			a->fetch[i].dest_path = xstrdup(src->fetch[i].dest_path);
		}
	}
	if (src->nports) {
		a->ports = xcalloc(src->nports, sizeof(*a->ports));
		for (size_t i = 0; i < src->nports; i++) {
			a->ports[i] = src->ports[i];
			a->ports[i].network_names = strv_dup(src->ports[i].network_names,
			    src->ports[i].nnetwork_names);
			a->ports[i].protocol = xstrdup(src->ports[i].protocol);
			a->ports[i].name = xstrdup(src->ports[i].name);
			kv_copy(&a->ports[i].labels, &src->ports[i].labels);
		}
	}
	a->container = src->container ? json_deep_copy(src->container) : NULL;
	a->docker_image = xstrdup(src->docker_image);
	a->networks = src->networks ? json_deep_copy(src->networks) : NULL;
	if (src->nhcs) {
		a->hcs = xcalloc(src->nhcs, sizeof(*a->hcs));
		for (size_t i = 0; i < src->nhcs; i++) {
			a->hcs[i] = src->hcs[i];
			a->hcs[i].path = xstrdup(src->hcs[i].path);
			a->hcs[i].command = xstrdup(src->hcs[i].command);
		}
	}
	if (src->nrcs) {
		a->rcs = xcalloc(src->nrcs, sizeof(*a->rcs));
		for (size_t i = 0; i < src->nrcs; i++) {
			a->rcs[i] = src->rcs[i];
			a->rcs[i].name = xstrdup(src->rcs[i].name);
			a->rcs[i].path = xstrdup(src->rcs[i].path);
			a->rcs[i].port_name = xstrdup(src->rcs[i].port_name);
			a->rcs[i].codes = xcalloc(src->rcs[i].ncodes, sizeof(int));
			memcpy(a->rcs[i].codes, src->rcs[i].codes,
			    src->rcs[i].ncodes * sizeof(int));
		}
	}
	a->residency = src->residency ? json_deep_copy(src->residency) : NULL;
	a->json_cache = NULL;
	a->text_cache = NULL;
	a->text_len = 0;
	return a;
}

size_t
app_host_ports(const struct app *a)
{
	size_t n = 0;

	if (a->has_port_defs)
		return a->nports;
	for (size_t i = 0; i < a->nports; i++)
		if (a->ports[i].host_port >= 0)
			n++;
	return n;
}

bool
app_has_marathon_hcs(const struct app *a)
{
	for (size_t i = 0; i < a->nhcs; i++)
		if (hc_marathon_side(&a->hcs[i]))
			return true;
	return false;
}

bool
app_has_mesos_hc(const struct app *a)
{
	for (size_t i = 0; i < a->nhcs; i++)
		if (!hc_marathon_side(&a->hcs[i]))
			return true;
	return false;
}

int
app_port_index(const struct app *a, const char *name)
{
	for (size_t i = 0; i < a->nports; i++)
		if (a->ports[i].name && strcmp(a->ports[i].name, name) == 0)
			return (int)i;
	return -1;
}

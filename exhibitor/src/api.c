/*
 * api: Exhibitor's REST API where the reference gives its shape, our
 * /health, and the status page. Every handler answers from the view the
 * cluster thread last published; none waits on the network.
 *
 *   GET /exhibitor/v1/cluster/status   [{hostname, code, description, isLeader}]
 *   GET /exhibitor/v1/cluster/list     {servers, port} (or form-encoded)
 *   GET /exhibitor/v1/cluster/state    this member: {switches, state, ...}
 *   GET /exhibitor/v1/config/get-state {version, running, ..., config}
 *   GET /exhibitor/v1/ui/index.html    the status page
 *   GET /health                        200 while the member can run
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "dcos/http_server.h"
#include "exhibitor.h"

#define UI_PATH "/exhibitor/v1/ui/index.html"

static const char *
phase_name(int phase)
{
	switch (phase) {
	case EX_PHASE_STARTING: return "starting";
	case EX_PHASE_RUNNING: return "running";
	default: return "failed";
	}
}

static void
h_health(struct http_req *req, void *arg)
{
	struct exhibitor *ex = arg;
	struct ex_view v;
	const struct ex_member_status *me;
	json_t *body;

	cluster_view(ex, &v);
	me = &v.st[ex->self];
	body = json_pack("{s:b, s:s, s:b, s:s, s:I, s:s}",
	    "healthy", v.phase != EX_PHASE_FAILED, "member",
	    ex->members[ex->self].address, "serving", me->code == EX_SERVING,
	    "phase", phase_name(v.phase), "node_id", (json_int_t)v.node_id,
	    "leader", v.leader);
	if (v.note[0])
		json_object_set_new(body, "note", json_string(v.note));
	http_reply_json(req, v.phase == EX_PHASE_FAILED ? 503 : 200, body);
}

static void
h_status(struct http_req *req, void *arg)
{
	struct exhibitor *ex = arg;
	struct ex_view v;
	json_t *list = json_array();

	cluster_view(ex, &v);
	for (size_t i = 0; i < ex->nmembers; i++)
		json_array_append_new(list, json_pack("{s:s, s:i, s:s, s:b}",
		    "hostname", ex->members[i].ip, "code", v.st[i].code,
		    "description", cluster_code_name(v.st[i].code), "isLeader",
		    v.st[i].is_leader));
	http_reply_json(req, 200, list);
}

static void
h_list(struct http_req *req, void *arg)
{
	struct exhibitor *ex = arg;
	const char *accept = http_req_header(req, "Accept");
	json_t *servers;

	if (accept && strstr(accept, "application/x-www-form-urlencoded") &&
	    !strstr(accept, "application/json")) {
		char body[2048];
		size_t len = (size_t)snprintf(body, sizeof(body), "count=%zu",
		    ex->nmembers);

		for (size_t i = 0; i < ex->nmembers && len < sizeof(body); i++)
			len += (size_t)snprintf(body + len, sizeof(body) - len,
			    "&server%zu=%s", i, ex->members[i].ip);
		if (len < sizeof(body))
			len += (size_t)snprintf(body + len, sizeof(body) - len,
			    "&port=%d", ex->f.client_port);
		http_reply(req, 200, "application/x-www-form-urlencoded", body,
		    strlen(body));
		return;
	}
	servers = json_array();
	for (size_t i = 0; i < ex->nmembers; i++)
		json_array_append_new(servers, json_string(ex->members[i].ip));
	http_reply_json(req, 200, json_pack("{s:o, s:i}", "servers", servers,
	    "port", ex->f.client_port));
}

static void
h_state(struct http_req *req, void *arg)
{
	struct exhibitor *ex = arg;
	struct ex_view v;
	const struct ex_member_status *me;

	cluster_view(ex, &v);
	me = &v.st[ex->self];
	http_reply_json(req, 200, json_pack("{s:{s:b, s:b, s:b}, s:i, s:s, "
	    "s:b}", "switches", "restarts", 1, "cleanup", 0, "backups", 0,
	    "state", me->code, "description", cluster_code_name(me->code),
	    "isLeader", me->is_leader));
}

static void
h_get_state(struct http_req *req, void *arg)
{
	struct exhibitor *ex = arg;
	struct ex_view v;
	char spec[1024];
	json_t *config;

	cluster_view(ex, &v);
	config = json_pack("{s:b, s:s, s:i, s:s, s:I, s:s, s:i, s:i, s:i, "
	    "s:I, s:s, s:I, s:{}, s:{}, s:{}}",
	    "rollInProgress", 0, "rollStatus", "n/a", "rollPercentDone", 0,
	    "hostname", ex->f.ip, "serverId", (json_int_t)(ex->self + 1),
	    "serversSpec", config_servers_spec(ex, spec, sizeof(spec)),
	    "clientPort", ex->f.client_port, "connectPort", ex->f.client_port,
	    "electionPort", ex->f.client_port,
	    "checkMs", (json_int_t)(ex->f.check_interval * 1000),
	    "zookeeperDataDirectory", ex->f.data_dir,
	    "dqliteNodeId", (json_int_t)v.node_id,
	    "zooCfgExtra", "backupExtra", "controlPanel");
	http_reply_json(req, 200, json_pack("{s:s, s:b, s:b, s:b, s:s, s:b, "
	    "s:o}", "version", "dcos-c " DCOS_VERSION " (dqlite)", "running",
	    v.st[ex->self].code == EX_SERVING, "backupActive", 0,
	    "standaloneMode", ex->nmembers == 1, "extraHeadingText", "",
	    "nodeMutationsAllowed", 0, "config", config));
}

static void
h_ui(struct http_req *req, void *arg)
{
	struct exhibitor *ex = arg;
	struct ex_view v;
	char *html;

	cluster_view(ex, &v);
	html = ui_render(ex, &v);
	http_reply(req, 200, "text/html; charset=utf-8", html, strlen(html));
	free(html);
}

static void
h_to_ui(struct http_req *req, void *arg)
{
	http_req_add_header(req, "Location", UI_PATH);
	http_reply(req, 302, "text/plain", "", 0);
}

void
api_routes(struct exhibitor *ex)
{
	struct http_server *h = ex->http;

	http_server_route(h, "GET", "/health", h_health, ex);
	http_server_route(h, "GET", "/exhibitor/v1/cluster/status", h_status, ex);
	http_server_route(h, "GET", "/exhibitor/v1/cluster/list", h_list, ex);
	http_server_route(h, "GET", "/exhibitor/v1/cluster/state", h_state, ex);
	http_server_route(h, "GET", "/exhibitor/v1/config/get-state",
	    h_get_state, ex);
	http_server_route(h, "GET", UI_PATH, h_ui, ex);
	http_server_route(h, "GET", "/exhibitor/v1/ui/", h_to_ui, ex);
	http_server_route(h, "GET", "/exhibitor/", h_to_ui, ex);
	http_server_route(h, "GET", "/", h_to_ui, ex);
}

/*
 * sched_http: POST /api/v1/scheduler, the HTTP edge of the v1 scheduler
 * API. It checks what Mesos checks before a call reaches the logic, with
 * the same status codes: a follower redirects (307) and a recovering
 * master answers 503; Content-Type must be JSON (400 when missing, 415
 * otherwise); Accept must allow JSON (406); the body must parse into a
 * valid Call (400 naming the field); SUBSCRIBE must not carry
 * Mesos-Stream-Id (400); every other call must name a known framework
 * (400), which must be subscribed (403), and carry its current stream id
 * (400). Accepted calls get 202 with an empty body.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "dcos/http_server.h"
#include "dcos/log.h"
#include "master.h"

static int
media_is(const char *value, const char *type)
{
	size_t n = strlen(type);

	while (*value == ' ')
		value++;
	return strncasecmp(value, type, n) == 0 &&
	    (value[n] == '\0' || value[n] == ';' || value[n] == ' ');
}

/* Accept: application/json, any type, application/any, or a list */
static int
accepts_json(const char *accept)
{
	char buf[512], *tok, *save = NULL;

	snprintf(buf, sizeof(buf), "%s", accept);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",",
	    &save))
		if (media_is(tok, "application/json") || media_is(tok, "*/*") ||
		    media_is(tok, "application/*"))
			return 1;
	return 0;
}

static void
h_scheduler(struct http_req *req, void *arg)
{
	struct master *m = arg;
	const char *ctype = http_req_header(req, "Content-Type");
	const char *accept = http_req_header(req, "Accept");
	const char *sid = http_req_header(req, "Mesos-Stream-Id");
	struct sched_call c;
	struct framework *fw;
	char err[1024];
	json_t *body;
	int status;

	m->metrics.messages_scheduler_calls++;
	if (leader_guard_http(m, req) == -1)
		return;
	if (ctype == NULL) {
		http_reply_error(req, 400, "Expecting 'Content-Type' to be present");
		return;
	}
	if (!media_is(ctype, "application/json")) {
		http_reply_error(req, 415, "Expecting 'Content-Type' of "
		    "application/json (this master does not speak protobuf), got "
		    "'%s'", ctype);
		return;
	}
	if (accept && accept[0] && !accepts_json(accept)) {
		http_reply_error(req, 406, "Expecting 'Accept' to allow "
		    "application/json, got '%s'", accept);
		return;
	}
	if ((body = http_req_json(req)) == NULL)
		return;
	if (sched_parse(body, &c, err, sizeof(err)) == -1) {
		http_reply_error(req, 400, "Failed to validate scheduler::Call: %s",
		    err);
		goto out;
	}
	if (c.type == CALL_SUBSCRIBE) {
		if (sid) {
			http_reply_error(req, 400, "Subscribe calls should not include "
			    "the 'Mesos-Stream-Id' header");
			goto out;
		}
		sched_subscribe(m, req, &c);
		goto out;
	}
	if (c.framework_id == NULL) {
		http_reply_error(req, 400, "Expecting 'framework_id' to be present");
		goto out;
	}
	if ((fw = framework_find(m, c.framework_id)) == NULL) {
		http_reply_error(req, 400, "Framework '%s' cannot be found",
		    c.framework_id);
		goto out;
	}
	if (!fw->connected) {
		http_reply_error(req, 403, "Framework '%s' is not subscribed",
		    c.framework_id);
		goto out;
	}
	if (sid == NULL) {
		http_reply_error(req, 400, "All non-subscribe calls should include "
		    "the 'Mesos-Stream-Id' header");
		goto out;
	}
	if (strcmp(sid, fw->stream_id) != 0) {
		http_reply_error(req, 400, "The stream ID '%s' included in this "
		    "request didn't match the stream ID currently associated with "
		    "framework ID '%s'", sid, fw->id);
		goto out;
	}
	status = sched_call(m, fw, &c, err, sizeof(err));
	if (status == 202)
		http_reply_empty(req, 202);
	else
		http_reply_error(req, status, "%s", err);
out:
	sched_call_free(&c);
	json_decref(body);
}

void
sched_http_route(struct master *m, struct http_server *srv)
{
	http_server_route(srv, "POST", "/api/v1/scheduler", h_scheduler, m);
}

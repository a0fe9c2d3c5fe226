/*
 * leader: leadership through the "marathon" lease in the store, and what
 * followers do: proxy every /v2 call (and the event stream) to the
 * leader, adding X-Marathon-Leader and X-Marathon-Via, or answer 503
 * "Could not determine the current leader".
 *
 * Elected: load the state from the store, subscribe to Mesos, resume the
 * deployments. Lost (or stepping down after a failed write or DELETE
 * /v2/leader): drop all of it, close event streams, and contend again
 * after one lease ttl so another node can take over.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "dcos/daemon.h"
#include "dcos/http_client.h"
#include "dcos/http_server.h"
#include "dcos/lease.h"
#include "dcos/log.h"

#include "marathon.h"

static void
drop_state(struct marathon *m, const char *why)
{
	struct state *st = m->st;

	if (st == NULL)
		return;
	log_warn("no longer the leader (%s): dropping the scheduler state", why);
	m->gen++;
	m->st = NULL;
	mesos_free(st->mesos);
	state_free(st);
	events_close_all(m->events);
	daemon_status("follower");
}

static void
on_elected(struct lease *l, void *arg)
{
	struct marathon *m = arg;
	double t0 = clock_mono();
	struct state *st;

	m->gen++;
	if ((st = persist_load(m)) == NULL) {
		leader_step_down(m, "the state could not be loaded");
		return;
	}
	m->st = st;
	m->elected_at = clock_mono();
	st->mesos = mesos_new(m);
	log_notice("elected leader (epoch %lld): %zu apps, %zu deployments, "
	    "ready in %.1f ms", (long long)lease_epoch(l), st->root->napps,
	    st->ndeps, (clock_mono() - t0) * 1000);
	daemon_status("leader");
	engine_kick(m);
}

static void
on_lost(struct lease *l, void *arg)
{
	drop_state(arg, "the lease was lost");
}

static void
lease_begin(struct marathon *m)
{
	struct lease_opts o = { .name = "marathon", .address = m->self,
		.ttl = m->f.lease_ttl };

	m->lease = lease_start(m->store, m->base, &o, on_elected, on_lost, NULL,
	    m);
}

static void
on_recontend(evutil_socket_t fd, short what, void *arg)
{
	struct marathon *m = arg;

	if (m->lease == NULL)
		lease_begin(m);
}

void
leader_start(struct marathon *m)
{
	m->recontend = evtimer_new(m->base, on_recontend, m);
	lease_begin(m);
}

void
leader_stop(struct marathon *m)
{
	drop_state(m, "shutting down");
	if (m->lease)
		lease_stop(m->lease);
	m->lease = NULL;
	if (m->recontend)
		event_free(m->recontend);
	m->recontend = NULL;
}

void
leader_step_down(struct marathon *m, const char *why)
{
	struct timeval tv = { (time_t)m->f.lease_ttl,
		(suseconds_t)((m->f.lease_ttl - (double)(time_t)m->f.lease_ttl) *
		1e6) };

	drop_state(m, why);
	if (m->lease) {
		lease_stop(m->lease); /* releases it: others take over now */
		m->lease = NULL;
	}
	evtimer_add(m->recontend, &tv);
}

bool
leader_is(const struct marathon *m)
{
	return m->st != NULL;
}

const char *
leader_address(const struct marathon *m)
{
	if (m->st)
		return m->self;
	return m->lease ? lease_leader(m->lease) : NULL;
}

/* --- proxying --- */

struct proxy {
	struct marathon *m;
	struct http_req *req;
	struct http_stream *s;
	struct http_call *call;
	char leader[320];
	char *headers[6];
};

static void
proxy_free(struct proxy *p)
{
	for (size_t i = 0; i < 6; i++)
		free(p->headers[i]);
	free(p);
}

static void
copy_header(struct http_req *req, const struct http_client_resp *resp,
    const char *name)
{
	char buf[1024];

	if (http_client_resp_header(resp, name, buf, sizeof(buf)))
		http_req_add_header(req, name, buf);
}

static void
add_via(struct proxy *p)
{
	char via[400], leader[340];

	snprintf(via, sizeof(via), "1.1 %s", p->m->self);
	snprintf(leader, sizeof(leader), "http://%s", p->leader);
	http_req_add_header(p->req, "X-Marathon-Via", via);
	http_req_add_header(p->req, "X-Marathon-Leader", leader);
}

static void
proxied(const struct http_client_resp *resp, void *arg)
{
	struct proxy *p = arg;
	char ctype[256];

	if (resp->status == 0) {
		http_reply_error(p->req, 503, "Could not reach the leader %s: %s",
		    p->leader, resp->error ? resp->error : "no response");
		proxy_free(p);
		return;
	}
	add_via(p);
	copy_header(p->req, resp, "Location");
	copy_header(p->req, resp, "Marathon-Deployment-Id");
	http_reply(p->req, (int)resp->status, http_client_resp_header(resp,
	    "Content-Type", ctype, sizeof(ctype)) ? ctype : NULL, resp->body,
	    resp->body_len);
	proxy_free(p);
}

/* --- the event stream through a follower --- */

static void
stream_closed(struct http_stream *s, void *arg)
{
	struct proxy *p = arg;

	p->s = NULL;
	if (p->call)
		http_call_cancel(p->call);
	proxy_free(p);
}

static void
stream_headers(const struct http_client_resp *resp, void *arg)
{
	struct proxy *p = arg;
	char ctype[256];

	if (resp->status != 200)
		return; /* relayed whole by stream_end */
	add_via(p);
	p->s = http_stream_start(p->req, 200, http_client_resp_header(resp,
	    "Content-Type", ctype, sizeof(ctype)) ? ctype : "text/event-stream",
	    HTTP_STREAM_CHUNKED, stream_closed, p);
	p->req = NULL;
}

static void
stream_data(const char *data, size_t len, void *arg)
{
	struct proxy *p = arg;

	if (p->s)
		http_stream_write(p->s, data, len); /* may close: stream_closed */
}

static void
stream_end(const struct http_client_resp *resp, void *arg)
{
	struct proxy *p = arg;

	p->call = NULL;
	if (p->s) {
		struct http_stream *s = p->s;

		p->s = NULL;
		http_stream_end(s);
	} else if (p->req) {
		if (resp->status == 0)
			http_reply_error(p->req, 503, "Could not reach the leader %s",
			    p->leader);
		else
			http_reply(p->req, (int)resp->status, "application/json",
			    resp->body, resp->body_len);
	}
	proxy_free(p);
}

void
leader_proxy(struct marathon *m, struct http_req *req)
{
	const char *leader = leader_address(m);
	const char *ctype = http_req_header(req, "Content-Type");
	const char *accept = http_req_header(req, "Accept");
	struct proxy *p;
	size_t len, nh = 0;
	const char *body = http_req_body(req, &len);
	char url[2048];

	if (leader == NULL || strcmp(leader, m->self) == 0 ||
	    http_req_header(req, "X-Marathon-Via")) {
		http_reply_error(req, 503, "Could not determine the current leader");
		return;
	}
	p = xcalloc(1, sizeof(*p));
	p->m = m;
	p->req = req;
	snprintf(p->leader, sizeof(p->leader), "%s", leader);
	snprintf(url, sizeof(url), "http://%s%s", leader, http_req_uri(req));
	if (accept) {
		char h[1024];

		snprintf(h, sizeof(h), "Accept: %s", accept);
		p->headers[nh++] = xstrdup(h);
	}
	{
		char h[400];

		snprintf(h, sizeof(h), "X-Marathon-Via: 1.1 %s", m->self);
		p->headers[nh++] = xstrdup(h);
	}
	{
		struct http_client_req r = { .method = http_req_method(req),
			.url = url, .body = len ? body : NULL, .body_len = len,
			.content_type = ctype, .headers = (const char *const *)p->headers,
			.timeout = 30 };

		if (strcmp(http_req_path(req), "/v2/events") == 0) {
			static const struct http_client_stream_cbs cbs = {
				stream_headers, stream_data, stream_end };

			p->call = http_client_stream(m->client, &r, &cbs, p);
		} else {
			http_client_request(m->client, &r, proxied, p);
		}
	}
}

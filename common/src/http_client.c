/*
 * http_client: libcurl multi-socket API inside the libevent loop.
 *
 * curl tells us which sockets to watch (on_socket) and when to wake it
 * (on_timer); both feed curl_multi_socket_action and then we collect the
 * finished transfers. User callbacks can run inside curl's write callback
 * (stream data), where removing a handle is not allowed, so a cancel there
 * only marks the call; the transfer is then aborted and cleaned up after
 * curl returns.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <event2/event.h>

#include "dcos/http_client.h"
#include "dcos/log.h"

struct http_client {
	struct event_base *base;
	CURLM *multi;
	struct event *timer;
	struct http_call *calls;
	size_t ncalls;
	int in_curl; /* inside curl_multi_socket_action: no handle removal */
};

struct http_call {
	struct http_client *c;
	CURL *easy;
	struct curl_slist *headers;
	char *body;
	size_t body_len;
	int retries_left;
	double backoff;
	struct event *retry_timer;
	int streaming;
	int cancelled;
	int finishing; /* its done/on_end callback is running */
	int headers_sent;
	int deferred_add; /* started from inside a curl callback */
	http_client_done_fn done;
	struct http_client_stream_cbs cbs;
	void *arg;
	struct http_client_resp resp;
	size_t body_cap;
	size_t hdr_len, hdr_cap;
	char errbuf[CURL_ERROR_SIZE];
	struct http_call *prev, *next;
};

static void
buf_append(char **buf, size_t *len, size_t *cap, const char *data, size_t n)
{
	if (*len + n + 1 > *cap) {
		size_t ncap = *cap ? *cap : 1024;

		while (*len + n + 1 > ncap)
			ncap *= 2;
		*buf = realloc(*buf, ncap);
		if (*buf == NULL)
			abort();
		*cap = ncap;
	}
	memcpy(*buf + *len, data, n);
	*len += n;
	(*buf)[*len] = '\0';
}

void
http_client_resp_free(struct http_client_resp *resp)
{
	free(resp->body);
	free(resp->error);
	free(resp->headers);
	memset(resp, 0, sizeof(*resp));
}

const char *
http_client_resp_header(const struct http_client_resp *resp, const char *name,
    char *buf, size_t size)
{
	size_t nlen = strlen(name);
	const char *p = resp->headers;

	while (p && *p) {
		const char *eol = strstr(p, "\r\n");
		size_t len = eol ? (size_t)(eol - p) : strlen(p);

		if (len > nlen && p[nlen] == ':' && strncasecmp(p, name, nlen) == 0) {
			const char *v = p + nlen + 1;
			size_t vlen;

			while (*v == ' ' || *v == '\t')
				v++;
			vlen = len - (size_t)(v - p);
			snprintf(buf, size, "%.*s", (int)vlen, v);
			return buf;
		}
		p = eol ? eol + 2 : NULL;
	}
	return NULL;
}

static void
call_unlink_free(struct http_call *call)
{
	struct http_client *c = call->c;

	if (call->prev)
		call->prev->next = call->next;
	else
		c->calls = call->next;
	if (call->next)
		call->next->prev = call->prev;
	c->ncalls--;
	curl_multi_remove_handle(c->multi, call->easy);
	curl_easy_cleanup(call->easy);
	curl_slist_free_all(call->headers);
	if (call->retry_timer)
		event_free(call->retry_timer);
	free(call->body);
	http_client_resp_free(&call->resp);
	free(call);
}

static size_t
on_header(char *data, size_t size, size_t n, void *arg)
{
	struct http_call *call = arg;
	size_t len = size * n;

	/* a new status line starts a new response (redirects, 100-continue) */
	if (len >= 5 && strncmp(data, "HTTP/", 5) == 0)
		call->hdr_len = 0;
	buf_append(&call->resp.headers, &call->hdr_len, &call->hdr_cap, data, len);
	return len;
}

static void
stream_headers(struct http_call *call)
{
	if (call->headers_sent)
		return;
	call->headers_sent = 1;
	curl_easy_getinfo(call->easy, CURLINFO_RESPONSE_CODE, &call->resp.status);
	if (call->cbs.on_headers)
		call->cbs.on_headers(&call->resp, call->arg);
}

static size_t
on_write(char *data, size_t size, size_t n, void *arg)
{
	struct http_call *call = arg;
	size_t len = size * n;

	if (call->cancelled)
		return 0; /* aborts the transfer */
	if (!call->streaming) {
		buf_append(&call->resp.body, &call->resp.body_len,
		    &call->body_cap, data, len);
		return len;
	}
	stream_headers(call);
	if (!call->cancelled && call->cbs.on_data)
		call->cbs.on_data(data, len, call->arg);
	return call->cancelled ? 0 : len;
}

static int
should_retry(const struct http_call *call, CURLcode rc, long status)
{
	if (call->retries_left <= 0 || call->streaming)
		return 0;
	return rc != CURLE_OK || status == 502 || status == 503 || status == 504;
}

static void on_retry(evutil_socket_t fd, short what, void *arg);

/* A transfer ended: retry, or report and free. */
static void
call_finished(struct http_call *call, CURLcode rc)
{
	long status = 0;

	if (call->cancelled)
		return; /* freed by drive() */
	curl_easy_getinfo(call->easy, CURLINFO_RESPONSE_CODE, &status);
	if (should_retry(call, rc, status)) {
		struct timeval tv = { (time_t)call->backoff,
			(suseconds_t)((call->backoff - (long)call->backoff) * 1e6) };

		call->retries_left--;
		call->backoff *= 2;
		curl_multi_remove_handle(call->c->multi, call->easy);
		call->resp.body_len = 0;
		if (call->resp.body)
			call->resp.body[0] = '\0';
		if (call->retry_timer == NULL)
			call->retry_timer = evtimer_new(call->c->base, on_retry, call);
		evtimer_add(call->retry_timer, &tv);
		return;
	}
	call->resp.status = rc == CURLE_OK ? status : 0;
	if (rc != CURLE_OK) {
		char msg[CURL_ERROR_SIZE + 64];

		snprintf(msg, sizeof(msg), "%s", call->errbuf[0] ? call->errbuf :
		    curl_easy_strerror(rc));
		call->resp.error = strdup(msg);
	}
	if (call->resp.body == NULL)
		buf_append(&call->resp.body, &call->resp.body_len,
		    &call->body_cap, "", 0);
	call->finishing = 1;
	if (call->streaming) {
		if (rc == CURLE_OK)
			stream_headers(call);
		if (call->cbs.on_end)
			call->cbs.on_end(&call->resp, call->arg);
	} else if (call->done) {
		call->done(&call->resp, call->arg);
	}
	call_unlink_free(call);
}

static void
check_done(struct http_client *c)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(c->multi, &left)) != NULL) {
		struct http_call *call;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&call);
		call_finished(call, msg->data.result);
	}
}

/* Lets curl act, then reports finished transfers and frees the calls
 * cancelled while curl was running. */
static void
drive(struct http_client *c, curl_socket_t fd, int action)
{
	struct http_call *call, *next;
	int running;

	c->in_curl = 1;
	curl_multi_socket_action(c->multi, fd, action, &running);
	c->in_curl = 0;
	check_done(c);
	for (call = c->calls; call; call = next) {
		next = call->next;
		if (call->cancelled) {
			call_unlink_free(call);
		} else if (call->deferred_add) {
			/* curl refuses new handles from inside its callbacks */
			call->deferred_add = 0;
			curl_multi_add_handle(c->multi, call->easy);
		}
	}
}

static void
on_retry(evutil_socket_t fd, short what, void *arg)
{
	struct http_call *call = arg;

	call->errbuf[0] = '\0';
	curl_multi_add_handle(call->c->multi, call->easy);
}

static void
on_sock_event(evutil_socket_t fd, short what, void *arg)
{
	int action = 0;

	if (what & EV_READ)
		action |= CURL_CSELECT_IN;
	if (what & EV_WRITE)
		action |= CURL_CSELECT_OUT;
	drive(arg, fd, action);
}

static int
on_socket(CURL *easy, curl_socket_t fd, int what, void *clientp, void *sockp)
{
	struct http_client *c = clientp;
	struct event *ev = sockp;
	short kind = EV_PERSIST;

	if (ev) {
		event_free(ev);
		curl_multi_assign(c->multi, fd, NULL);
	}
	if (what == CURL_POLL_REMOVE)
		return 0;
	if (what & CURL_POLL_IN)
		kind |= EV_READ;
	if (what & CURL_POLL_OUT)
		kind |= EV_WRITE;
	ev = event_new(c->base, fd, kind, on_sock_event, c);
	event_add(ev, NULL);
	curl_multi_assign(c->multi, fd, ev);
	return 0;
}

static void
on_timeout(evutil_socket_t fd, short what, void *arg)
{
	drive(arg, CURL_SOCKET_TIMEOUT, 0);
}

static int
on_timer(CURLM *multi, long timeout_ms, void *arg)
{
	struct http_client *c = arg;
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };

	if (timeout_ms < 0)
		evtimer_del(c->timer);
	else
		evtimer_add(c->timer, &tv);
	return 0;
}

struct http_client *
http_client_new(struct event_base *base)
{
	struct http_client *c = calloc(1, sizeof(*c));
	static int curl_ready;

	if (c == NULL)
		abort();
	if (!curl_ready) {
		curl_global_init(CURL_GLOBAL_DEFAULT);
		curl_ready = 1;
	}
	c->base = base;
	c->multi = curl_multi_init();
	c->timer = evtimer_new(base, on_timeout, c);
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, on_timer);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
	return c;
}

void
http_client_free(struct http_client *c)
{
	if (c == NULL)
		return;
	while (c->calls)
		call_unlink_free(c->calls);
	curl_multi_cleanup(c->multi);
	event_free(c->timer);
	free(c);
}

/* Applies the request options to an easy handle; shared with http_fetch. */
static struct curl_slist *
setup_easy(CURL *easy, const struct http_client_req *req, const char *body,
    size_t body_len, int streaming)
{
	struct curl_slist *hdrs = NULL;
	char line[256];
	const char *method = req->method ? req->method : (body ? "POST" : "GET");
	double timeout = req->timeout > 0 ? req->timeout : 30;

	curl_easy_setopt(easy, CURLOPT_URL, req->url);
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	if (strcmp(method, "GET") == 0) {
		curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
	} else if (strcmp(method, "HEAD") == 0) {
		curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
	} else {
		curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, method);
	}
	if (body) {
		curl_easy_setopt(easy, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)body_len);
	}
	if (req->content_type) {
		snprintf(line, sizeof(line), "Content-Type: %s", req->content_type);
		hdrs = curl_slist_append(hdrs, line);
	}
	hdrs = curl_slist_append(hdrs, "Expect:");
	for (const char *const *h = req->headers; h && *h; h++)
		hdrs = curl_slist_append(hdrs, *h);
	curl_easy_setopt(easy, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, (long)(timeout * 1000));
	if (!streaming)
		curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, (long)(timeout * 1000));
	if (req->insecure) {
		curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (req->follow_redirects)
		curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 1L);
	if (req->unix_socket)
		curl_easy_setopt(easy, CURLOPT_UNIX_SOCKET_PATH, req->unix_socket);
	return hdrs;
}

static struct http_call *
call_start(struct http_client *c, const struct http_client_req *req,
    int streaming, void *arg)
{
	struct http_call *call = calloc(1, sizeof(*call));

	if (call == NULL || (call->easy = curl_easy_init()) == NULL)
		abort();
	call->c = c;
	call->arg = arg;
	call->streaming = streaming;
	call->retries_left = req->retries;
	call->backoff = req->backoff > 0 ? req->backoff : 0.1;
	if (req->body) {
		call->body = malloc(req->body_len + 1);
		if (call->body == NULL)
			abort();
		memcpy(call->body, req->body, req->body_len);
		call->body[req->body_len] = '\0';
		call->body_len = req->body_len;
	}
	call->headers = setup_easy(call->easy, req, call->body, call->body_len,
	    streaming);
	curl_easy_setopt(call->easy, CURLOPT_PRIVATE, call);
	curl_easy_setopt(call->easy, CURLOPT_ERRORBUFFER, call->errbuf);
	curl_easy_setopt(call->easy, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(call->easy, CURLOPT_WRITEDATA, call);
	curl_easy_setopt(call->easy, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(call->easy, CURLOPT_HEADERDATA, call);
	call->next = c->calls;
	if (call->next)
		call->next->prev = call;
	c->calls = call;
	c->ncalls++;
	if (c->in_curl)
		call->deferred_add = 1; /* drive() adds it when curl returns */
	else
		curl_multi_add_handle(c->multi, call->easy);
	return call;
}

struct http_call *
http_client_request(struct http_client *c, const struct http_client_req *req,
    http_client_done_fn done, void *arg)
{
	struct http_call *call = call_start(c, req, 0, arg);

	call->done = done;
	return call;
}

struct http_call *
http_client_stream(struct http_client *c, const struct http_client_req *req,
    const struct http_client_stream_cbs *cbs, void *arg)
{
	struct http_call *call = call_start(c, req, 1, arg);

	call->cbs = *cbs;
	return call;
}

void
http_call_cancel(struct http_call *call)
{
	call->done = NULL;
	memset(&call->cbs, 0, sizeof(call->cbs));
	if (call->finishing)
		return; /* its own callback is running; freed when it returns */
	call->cancelled = 1;
	/* inside curl a handle cannot be removed; drive() frees it after */
	if (!call->c->in_curl)
		call_unlink_free(call);
}

size_t
http_client_inflight(const struct http_client *c)
{
	return c->ncalls;
}

int
http_fetch(const struct http_client_req *req, struct http_client_resp *resp)
{
	struct http_call call = { 0 };
	CURLcode rc;
	int attempts = req->retries + 1;
	double backoff = req->backoff > 0 ? req->backoff : 0.1;

	memset(resp, 0, sizeof(*resp));
	call.easy = curl_easy_init();
	if (call.easy == NULL)
		abort();
	call.headers = setup_easy(call.easy, req, req->body, req->body_len, 0);
	curl_easy_setopt(call.easy, CURLOPT_ERRORBUFFER, call.errbuf);
	curl_easy_setopt(call.easy, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(call.easy, CURLOPT_WRITEDATA, &call);
	curl_easy_setopt(call.easy, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(call.easy, CURLOPT_HEADERDATA, &call);
	for (;;) {
		call.resp.body_len = 0;
		call.errbuf[0] = '\0';
		rc = curl_easy_perform(call.easy);
		curl_easy_getinfo(call.easy, CURLINFO_RESPONSE_CODE,
		    &call.resp.status);
		call.retries_left = --attempts;
		if (!should_retry(&call, rc, call.resp.status))
			break;
		struct timespec ts = { (time_t)backoff,
			(long)((backoff - (long)backoff) * 1e9) };
		nanosleep(&ts, NULL);
		backoff *= 2;
	}
	if (rc != CURLE_OK) {
		call.resp.status = 0;
		call.resp.error = strdup(call.errbuf[0] ? call.errbuf :
		    curl_easy_strerror(rc));
	}
	if (call.resp.body == NULL)
		buf_append(&call.resp.body, &call.resp.body_len, &call.body_cap,
		    "", 0);
	curl_slist_free_all(call.headers);
	curl_easy_cleanup(call.easy);
	*resp = call.resp;
	return rc == CURLE_OK ? 0 : -1;
}

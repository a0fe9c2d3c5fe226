/*
 * fuzz/http_server: raw request bytes into a libdcos HTTP server in this
 * process, through a real socket, as a client on the network would send
 * them: request lines, headers, bodies, pipelining, percent-encoding.
 *
 * The server has the routes a daemon has, written the way the daemons
 * write their handlers (path parameters and query values go into JSON
 * replies, bodies go through http_req_json, streams send a record and
 * end). Properties: the server neither crashes nor hangs a client that
 * has finished sending; every JSON reply it sends parses; each reply
 * starts with a status line.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "dcos/http_server.h"
#include "dcos/json.h"
#include "dcos/log.h"
#include "fuzz.h"

static struct event_base *base;
static struct http_server *srv;
static char sock_path[108];

static void
h_health(struct http_req *req, void *arg)
{
	http_reply_json(req, 200, json_pack("{s:b}", "healthy", 1));
}

/* Marathon-style: the app id from the path goes into the reply. */
static void
h_app_tasks(struct http_req *req, void *arg)
{
	http_reply_json(req, 200, json_pack("{s:s, s:[]}", "appId",
	    http_req_param(req, "id"), "tasks"));
}

static void
h_app_get(struct http_req *req, void *arg)
{
	http_reply_error(req, 404, "App '/%s' does not exist",
	    http_req_param(req, "id"));
}

static void
h_app_post(struct http_req *req, void *arg)
{
	json_t *body = http_req_json(req);
	struct json_errs e;
	const char *id = NULL;
	int n;

	if (body == NULL)
		return; /* 400 sent */
	json_errs_init(&e);
	n = json_get_str(body, "", "id", JF_REQUIRED | JF_NONEMPTY, &id, &e);
	if (n != 1) {
		json_t *reply = json_pack("{s:s, s:O}", "message",
		    "Object is not valid", "details", e.details);

		http_reply_json(req, 422, reply);
	} else {
		http_reply_json(req, 201, json_pack("{s:s, s:O}", "id", id,
		    "body", body));
	}
	json_errs_free(&e);
	json_decref(body);
}

static void
h_app_delete(struct http_req *req, void *arg)
{
	const char *force = http_req_query(req, "force");

	http_reply_json(req, 200, json_pack("{s:s, s:s?}", "deploymentId",
	    http_req_param(req, "id"), "force", force));
}

static void
h_query(struct http_req *req, void *arg)
{
	const char *vals[8];
	size_t n = http_req_query_all(req, "embed", vals, 8);
	json_t *arr = json_array();
	const char *agent = http_req_header(req, "User-Agent");

	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, json_string(vals[i]));
	/* header values are the client's bytes: daemons print them, not JSON */
	http_reply_json(req, 200, json_pack("{s:o, s:i, s:s, s:s}", "embed",
	    arr, "agent_len", agent ? (int)strlen(agent) : -1, "uri",
	    "(not echoed)", "peer", http_req_peer(req)));
}

static void
h_stream(struct http_req *req, void *arg)
{
	const char *kind = http_req_param(req, "kind");
	struct http_stream *s;

	if (strcmp(kind, "sse") == 0) {
		s = http_stream_start(req, 200, "text/event-stream",
		    HTTP_STREAM_SSE, NULL, NULL);
		if (http_stream_sse(s, "ping", "one\ntwo") == 0)
			http_stream_end(s);
	} else if (strcmp(kind, "recordio") == 0) {
		json_t *v = json_pack("{s:s}", "type", "HEARTBEAT");

		s = http_stream_start(req, 200, "application/recordio",
		    HTTP_STREAM_RECORDIO, NULL, NULL);
		if (http_stream_record_json(s, v) == 0)
			http_stream_end(s);
		json_decref(v);
	} else {
		http_reply_error(req, 400, "unknown stream kind '%s'", kind);
	}
}

static void
h_any(struct http_req *req, void *arg)
{
	size_t len;

	http_req_body(req, &len);
	http_reply(req, 200, "text/plain", http_req_method(req),
	    strlen(http_req_method(req)));
}

static void
quiet(int severity, const char *msg)
{
}

static void
setup(void)
{
	struct http_server_opts opts = { .max_body = 16 << 10,
		.max_headers = 8 << 10, .timeout_secs = 30 };
	char err[256];

	event_set_log_callback(quiet);
	log_init("fuzz", (enum log_level)0); /* nothing is printed */
	base = event_base_new();
	srv = http_server_new(base, &opts);
	http_server_route(srv, "GET", "/health", h_health, NULL);
	http_server_route(srv, "GET", "/v2/apps/{id*}/tasks", h_app_tasks, NULL);
	http_server_route(srv, "GET", "/v2/apps/{id*}", h_app_get, NULL);
	http_server_route(srv, "POST", "/v2/apps", h_app_post, NULL);
	http_server_route(srv, "DELETE", "/v2/apps/{id*}", h_app_delete, NULL);
	http_server_route(srv, "GET", "/query", h_query, NULL);
	http_server_route(srv, "GET", "/stream/{kind}", h_stream, NULL);
	http_server_route(srv, "*", "/any/{x}/{y*}", h_any, NULL);
	snprintf(sock_path, sizeof(sock_path), "/tmp/dcos-fuzz-http-%d.sock",
	    (int)getpid());
	if (http_server_listen_unix(srv, sock_path, err, sizeof(err)) == -1) {
		fprintf(stderr, "fuzz-http_server: %s\n", err);
		abort();
	}
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Checks each complete reply with a Content-Length in out. */
static void
check_replies(const char *out, size_t len)
{
	const char *p = out, *end = out + len;

	while (p < end) {
		const char *hdr_end = memmem(p, (size_t)(end - p), "\r\n\r\n", 4);
		const char *cl, *ct;
		char head[4096];
		size_t hlen, blen;
		json_t *v;

		/* evhttp answers in the request's version, even "HTTP/0.1" */
		FZ_CHECK(end - p >= 12 && memcmp(p, "HTTP/", 5) == 0,
		    "reply does not start with a status line: %.40s", p);
		if (hdr_end == NULL)
			return;
		hlen = (size_t)(hdr_end - p);
		if (hlen >= sizeof(head))
			return;
		memcpy(head, p, hlen);
		head[hlen] = '\0';
		cl = strcasestr(head, "\r\nContent-Length: ");
		ct = strcasestr(head, "\r\nContent-Type: application/json");
		if (cl == NULL)
			return; /* chunked streams, or a close-delimited body */
		blen = strtoul(cl + 18, NULL, 10);
		p = hdr_end + 4;
		if ((size_t)(end - p) < blen)
			return;
		if (ct) {
			v = json_loadb(p, blen, 0, NULL);
			FZ_CHECK(v != NULL, "JSON reply does not parse: %.*s",
			    (int)blen, p);
			json_decref(v);
		}
		p += blen;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	static char out[1 << 20];
	size_t sent = 0, got = 0;
	double deadline;
	int fd, eof = 0;

	if (base == NULL)
		setup();
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", sock_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (fd == -1 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		abort();
	deadline = now() + 10;
	while (!eof) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		size_t before = sent + got;
		ssize_t n;

		if (sent < size) {
			n = send(fd, data + sent, size - sent, MSG_NOSIGNAL);
			if (n > 0)
				sent += (size_t)n;
			else if (n == -1 && errno != EAGAIN)
				sent = size; /* the server closed: fine */
			if (sent == size)
				shutdown(fd, SHUT_WR);
		} else if (size == 0 && sent == 0) {
			shutdown(fd, SHUT_WR);
			sent = 1;
		}
		event_base_loop(base, EVLOOP_NONBLOCK);
		if (poll(&p, 1, 0) == 1) {
			n = recv(fd, out + got, sizeof(out) - got - 1, 0);
			if (n > 0)
				got += (size_t)n;
			else if (n == 0 || errno != EAGAIN)
				eof = 1;
			if (got == sizeof(out) - 1)
				eof = 1;
		}
		FZ_CHECK(now() < deadline, "the server did not close a finished "
		    "client within 10 s (%zu bytes answered)", got);
		if (!eof && sent + got == before)
			poll(&p, 1, 1);
	}
	close(fd);
	/* let the server see the close and free its side */
	for (int i = 0; i < 4; i++)
		event_base_loop(base, EVLOOP_NONBLOCK);
	/* replies to HEAD have a Content-Length but no body */
	if (memmem(data, size, "HEAD", 4) == NULL)
		check_replies(out, got);
	return 0;
}

/*
 * master: finding the leading master and staying registered with it over
 * the agent channel (mesos-master/AGENT_PROTOCOL.md).
 *
 * --master names the masters by their HTTP addresses ("10.0.0.1:5050,...");
 * their channels are tcp://<host>:<--master_agent_port>. With dqlite://
 * the leader is read from the `mesos-master` lease in the store. The agent
 * tries a candidate, follows NOT_LEADER hints, registers (or re-registers
 * with its tasks once it has an id), and then expects PINGs: after
 * ping_interval * max_ping_timeouts without one it looks for a leader
 * again. Registration attempts back off from --registration_backoff_factor
 * up to a minute, as Mesos does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "dcos/ids.h"
#include "dcos/ipc.h"
#include "dcos/lease.h"
#include "dcos/log.h"
#include "dcos/store.h"

#include "agent.h"

#define REQUEST_TIMEOUT 5.0
#define BACKOFF_MAX 60.0

static void detect(struct agent *a);
static void master_watch_cb(evutil_socket_t fd, short what, void *arg);

static void
add_url(struct agent *a, const char *host)
{
	char url[300];

	snprintf(url, sizeof(url), "tcp://%s:%d", host, a->f.master_agent_port);
	a->m.urls = realloc(a->m.urls, (a->m.n + 1) * sizeof(char *));
	if (a->m.urls == NULL || (a->m.urls[a->m.n] = strdup(url)) == NULL)
		abort();
	a->m.n++;
}

/* "host:port[,host:port]" with optional http:// and paths. */
static int
parse_masters(struct agent *a, const char *text, char *err, size_t errlen)
{
	char *copy = strdup(text), *save = NULL;

	if (copy == NULL)
		abort();
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",",
	    &save)) {
		char host[256];
		size_t hl;

		while (*t == ' ')
			t++;
		if (strncmp(t, "http://", 7) == 0)
			t += 7;
		if (t[0] == '[') { /* [v6]:port */
			hl = strcspn(t + 1, "]");
			snprintf(host, sizeof(host), "%.*s", (int)hl, t + 1);
		} else {
			hl = strcspn(t, ":/");
			snprintf(host, sizeof(host), "%.*s", (int)hl, t);
		}
		if (host[0] == '\0') {
			snprintf(err, errlen, "--master: empty host in '%s'", text);
			free(copy);
			return -1;
		}
		add_url(a, host);
	}
	free(copy);
	if (a->m.n == 0) {
		snprintf(err, errlen, "--master: no master in '%s'", text);
		return -1;
	}
	return 0;
}

int
master_start(struct agent *a, char *err, size_t errlen)
{
	const char *m = a->f.master;

	a->m.ping_interval = 15;
	a->m.max_pings = 5;
	a->m.backoff = a->f.registration_backoff_factor;
	if (strncmp(m, "zk://", 5) == 0 || strncmp(m, "file://", 7) == 0) {
		snprintf(err, errlen, "--master: %.*s masters are not supported; "
		    "give host:port,... or dqlite://...", (int)strcspn(m, ":"), m);
		return -1;
	}
	if (strncmp(m, "dqlite://", 9) == 0 || strncmp(m, "sqlite:", 7) == 0) {
		struct store_err serr;

		a->m.dqlite = true;
		if ((a->m.store = store_open(m, &serr)) == NULL ||
		    store_attach(a->m.store, a->base, &serr) != STORE_OK) {
			snprintf(err, errlen, "--master %s: %s", m, serr.msg);
			return -1;
		}
		return 0;
	}
	return parse_masters(a, m, err, errlen);
}

void
master_stop(struct agent *a)
{
	if (a->m.retry)
		event_free(a->m.retry);
	if (a->m.watch)
		event_free(a->m.watch);
	a->m.retry = a->m.watch = NULL;
	ipc_close(a->m.req);
	a->m.req = NULL;
	a->m.call = NULL;
	for (size_t i = 0; i < a->m.n; i++)
		free(a->m.urls[i]);
	free(a->m.urls);
	a->m.urls = NULL;
	a->m.n = 0;
	store_close(a->m.store);
	a->m.store = NULL;
}

static void
on_retry(evutil_socket_t fd, short what, void *arg)
{
	detect(arg);
}

static void
retry_in(struct agent *a, double secs)
{
	struct timeval tv = { (time_t)secs,
		(suseconds_t)((secs - (long)secs) * 1e6) };

	if (a->state == AGENT_TERMINATING)
		return;
	if (a->m.retry == NULL)
		a->m.retry = evtimer_new(a->base, on_retry, a);
	evtimer_add(a->m.retry, &tv);
}

/* A random delay in [0, backoff], the backoff doubling up to a minute. */
static void
retry_backoff(struct agent *a)
{
	unsigned r;
	double d;

	ids_random_bytes(&r, sizeof(r));
	d = a->m.backoff * ((double)(r % 1000) / 1000.0);
	a->m.backoff = a->m.backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX :
	    a->m.backoff * 2;
	retry_in(a, d);
}

static void
use_url(struct agent *a, const char *url)
{
	char err[256];

	if (a->m.req && strcmp(a->m.url, url) == 0)
		return;
	ipc_close(a->m.req);
	a->m.call = NULL;
	snprintf(a->m.url, sizeof(a->m.url), "%s", url);
	if ((a->m.req = ipc_req_dial(a->base, url, err, sizeof(err))) == NULL)
		log_warn("cannot dial master %s: %s", url, err);
}

static json_t *
register_message(struct agent *a)
{
	json_t *msg = json_pack("{s:s, s:o, s:s, s:[sss], s:s, s:s}",
	    "type", a->id[0] ? "REREGISTER_AGENT" : "REGISTER_AGENT",
	    "agent_info", state_agent_info(a), "version", "1.5.3",
	    "capabilities", "MULTI_ROLE", "HIERARCHICAL_ROLE",
	    "RESERVATION_REFINEMENT", "channel", a->channel_url, "pid", a->pid);
	json_t *tasks, *executors, *frameworks;
	struct framework *fw;
	struct executor *ex;
	struct task *t;

	if (a->id[0] == '\0')
		return msg;
	json_object_set_new(msg, "agent_id", mesos_id(a->id));
	tasks = json_array();
	executors = json_array();
	frameworks = json_array();
	TAILQ_FOREACH(fw, &a->frameworks, link) {
		json_array_append(frameworks, fw->info);
		TAILQ_FOREACH(ex, &fw->executors, link) {
			struct task_list *lists[] = { &ex->queued, &ex->launched,
				&ex->terminated };

			if (!ex->command) {
				json_t *e = json_deep_copy(ex->info);

				json_object_set_new(e, "framework_id",
				    mesos_id(fw->id));
				json_array_append_new(executors, e);
			}
			for (int i = 0; i < 3; i++)
				TAILQ_FOREACH(t, lists[i], link)
					json_array_append_new(tasks,
					    state_v1_task(a, t));
		}
	}
	json_object_set_new(msg, "tasks", tasks);
	json_object_set_new(msg, "executors", executors);
	json_object_set_new(msg, "frameworks", frameworks);
	return msg;
}

static void
registered(struct agent *a, const json_t *reply, bool re)
{
	const char *id = mesos_id_get(reply, "agent_id");
	const char *mid = json_string_value(json_object_get(reply, "master_id"));
	double pi = json_number_value(json_object_get(reply,
	    "ping_interval_secs"));
	json_int_t maxp = json_integer_value(json_object_get(reply,
	    "max_ping_timeouts"));
	char err[512];

	if (!re) {
		char verr[128];

		if (id == NULL || mesos_id_valid(id, verr, sizeof(verr)) == -1) {
			log_warn("master %s answered REGISTERED without a valid "
			    "agent_id; retrying", a->m.url);
			retry_backoff(a);
			return;
		}
		snprintf(a->id, sizeof(a->id), "%s", id);
		if (checkpoint_agent(a, err, sizeof(err)) == -1) {
			/* an id we cannot remember would orphan our tasks */
			log_error("cannot checkpoint agent id %s: %s; registering "
			    "again later", id, err);
			a->id[0] = '\0';
			retry_backoff(a);
			return;
		}
		a->metrics.registrations++;
	}
	if (mid)
		snprintf(a->m.master_id, sizeof(a->m.master_id), "%s", mid);
	if (pi > 0)
		a->m.ping_interval = pi;
	if (maxp > 0)
		a->m.max_pings = (int)maxp;
	a->state = AGENT_RUNNING;
	a->m.backoff = a->f.registration_backoff_factor;
	a->m.last_ping = mesos_now();
	a->m.registered_before = true;
	snprintf(a->m.hostname, sizeof(a->m.hostname), "%s", a->m.url + 6);
	*strrchr(a->m.hostname, ':') = '\0';
	log_notice("%s with master %s as agent %s", re ? "re-registered" :
	    "registered", a->m.url, a->id);
	{
		struct timeval tv = { (time_t)a->m.ping_interval, 0 };

		if (tv.tv_sec < 1)
			tv.tv_sec = 1;
		if (a->m.watch == NULL)
			a->m.watch = event_new(a->base, -1, EV_PERSIST,
			    master_watch_cb, a);
		event_add(a->m.watch, &tv);
	}
	updates_flush(a);
}

/* Returns true when it switched to a hinted leader. */
static bool
follow_leader(struct agent *a, const json_t *reply)
{
	const char *leader = json_string_value(json_object_get(reply, "leader"));

	if (leader == NULL || strncmp(leader, "tcp://", 6) != 0 ||
	    strcmp(leader, a->m.url) == 0)
		return false;
	log_info("master %s is not the leader; trying %s", a->m.url, leader);
	use_url(a, leader);
	a->m.hinted = true;
	return true;
}

static void
on_register_reply(json_t *reply, const char *err, void *arg)
{
	struct agent *a = arg;
	const char *type;

	a->m.call = NULL;
	if (a->state == AGENT_TERMINATING)
		return;
	if (reply == NULL) {
		log_info("no answer from master %s (%s); trying the next one",
		    a->m.url, err);
		a->m.hinted = false;
		a->m.idx++;
		a->state = AGENT_DISCONNECTED;
		retry_in(a, 0);
		return;
	}
	type = json_string_value(json_object_get(reply, "type"));
	if (type == NULL)
		type = "";
	if (strcmp(type, "REGISTERED") == 0 || strcmp(type, "REREGISTERED") == 0) {
		registered(a, reply, strcmp(type, "REREGISTERED") == 0);
	} else if (strcmp(type, "NOT_LEADER") == 0) {
		a->state = AGENT_DISCONNECTED;
		if (follow_leader(a, reply)) {
			retry_in(a, 0);
		} else {
			a->m.hinted = false;
			a->m.idx++;
			retry_in(a, 0.5);
		}
	} else if (strcmp(type, "SHUTDOWN") == 0) {
		const char *msg = json_string_value(json_object_get(reply,
		    "message"));

		log_warn("master %s told agent %s to shut down (%s): killing "
		    "every task and registering as a new agent", a->m.url, a->id,
		    msg ? msg : "no reason given");
		agent_shutdown_all(a, "the master removed this agent");
		checkpoint_forget_agent(a);
		a->id[0] = '\0';
		a->state = AGENT_DISCONNECTED;
		retry_in(a, 0.1);
	} else {
		const char *msg = json_string_value(json_object_get(reply,
		    "message"));

		log_warn("master %s refused %s: %s", a->m.url,
		    a->id[0] ? "re-registration" : "registration",
		    msg ? msg : type);
		a->state = AGENT_DISCONNECTED;
		retry_backoff(a);
	}
}

static void
send_register(struct agent *a)
{
	json_t *msg;

	if (a->m.req == NULL) {
		retry_backoff(a);
		return;
	}
	if (a->m.call)
		ipc_call_cancel(a->m.call);
	a->state = AGENT_REGISTERING;
	msg = register_message(a);
	log_info("%s with master %s", a->id[0] ? "re-registering" :
	    "registering", a->m.url);
	a->m.call = ipc_request(a->m.req, msg, REQUEST_TIMEOUT,
	    on_register_reply, a);
	json_decref(msg);
}

static void
on_leader(int rc, const char *address, int64_t epoch, void *arg)
{
	struct agent *a = arg;
	char host[256], url[300];

	if (a->state == AGENT_TERMINATING)
		return;
	if (rc != 0 || address == NULL) {
		log_info("no leading master in the store yet; retrying");
		retry_backoff(a);
		return;
	}
	log_info("the store names %s as the leading master", address);
	snprintf(host, sizeof(host), "%.*s", (int)strcspn(address, ":"), address);
	snprintf(url, sizeof(url), "tcp://%s:%d", host, a->f.master_agent_port);
	use_url(a, url);
	send_register(a);
}

static void
detect(struct agent *a)
{
	if (a->state == AGENT_TERMINATING || a->state == AGENT_RECOVERING ||
	    a->m.call != NULL)
		return;
	a->state = AGENT_DISCONNECTED;
	if (a->m.dqlite) {
		lease_read_submit(a->m.store, "mesos-master", on_leader, a);
		return;
	}
	/* a hinted leader is kept until it stops answering */
	if (!a->m.hinted || a->m.req == NULL)
		use_url(a, a->m.urls[a->m.idx % a->m.n]);
	send_register(a);
}

void
master_recovered(struct agent *a)
{
	if (a->state != AGENT_RECOVERING)
		return;
	a->state = AGENT_DISCONNECTED;
	log_info("recovery finished; looking for the leading master");
	detect(a);
}

static void
master_watch_cb(evutil_socket_t fd, short what, void *arg)
{
	struct agent *a = arg;
	double silent = mesos_now() - a->m.last_ping;

	if (a->state != AGENT_RUNNING)
		return;
	if (silent > a->m.ping_interval * a->m.max_pings) {
		log_warn("no ping from master %s for %.0fs; looking for the "
		    "leading master", a->m.url, silent);
		a->m.hinted = false;
		a->m.idx++;
		master_reregister(a, "master pings stopped");
	}
}

void
master_reregister(struct agent *a, const char *why)
{
	if (a->state == AGENT_TERMINATING || a->state == AGENT_RECOVERING)
		return;
	if (a->state == AGENT_REGISTERING && a->m.call)
		return; /* already at it */
	log_info("re-registering: %s", why);
	a->state = AGENT_DISCONNECTED;
	if (a->m.watch)
		event_del(a->m.watch);
	detect(a);
}

/* Switch to the leader a message named (if any) and re-register. */
void
master_follow(struct agent *a, const char *leader, const char *why)
{
	if (leader && strncmp(leader, "tcp://", 6) == 0 &&
	    strcmp(leader, a->m.url) != 0) {
		use_url(a, leader);
		a->m.hinted = true;
	}
	if (a->state == AGENT_RUNNING)
		master_reregister(a, why);
}

void
master_ping(struct agent *a, const char *master_id)
{
	a->m.last_ping = mesos_now();
	if (master_id && master_id[0])
		snprintf(a->m.master_id, sizeof(a->m.master_id), "%s", master_id);
}

static void
on_send_reply(json_t *reply, const char *err, void *arg)
{
	struct agent *a = arg;
	const char *type;

	if (reply == NULL || a->state != AGENT_RUNNING)
		return; /* the update stays pending and is resent */
	type = json_string_value(json_object_get(reply, "type"));
	if (type && strcmp(type, "NOT_LEADER") == 0) {
		if (!follow_leader(a, reply)) {
			a->m.hinted = false;
			a->m.idx++;
		}
		master_reregister(a, "the master is no longer the leader");
	} else if (type && strcmp(type, "ERROR") == 0) {
		const char *msg = json_string_value(json_object_get(reply,
		    "message"));

		if (json_is_true(json_object_get(reply, "reregister")))
			master_reregister(a, "the master does not know this agent");
		else
			log_warn("master refused a message: %s", msg ? msg : "?");
	}
}

void
master_send(struct agent *a, json_t *msg, bool status)
{
	if (a->state == AGENT_RUNNING && a->m.req) {
		json_object_set_new(msg, "agent_id", mesos_id(a->id));
		ipc_request(a->m.req, msg, REQUEST_TIMEOUT, on_send_reply, a);
	} else if (!status) {
		log_info("not registered: dropping a %s message",
		    json_string_value(json_object_get(msg, "type")));
	}
	json_decref(msg);
}

/*
 * mesos-sim-agents: many simulated Mesos agents in one process, for
 * measuring the master's scheduling path at 1,000+ agents on one box.
 *
 * Each simulated agent registers over the real agent channel
 * (mesos-master/AGENT_PROTOCOL.md) with its own pid (slave(1)@ip:port, a
 * distinct fake HTTP port per agent) and its resources; all of them share
 * one REP socket as their channel, which the protocol allows (master ->
 * agent messages carry agent_id). A RUN_TASK is answered at once, without
 * forking anything: OK, then STATUS_UPDATE TASK_RUNNING (and, with
 * --task_seconds, TASK_FINISHED later). PINGs get PONG, KILL_TASK a
 * TASK_KILLED, acknowledgements OK.
 *
 * This is a benchmark tool, not a test double: the e2e tests use the real
 * agent. It prints a one-line JSON summary of what it did every few
 * seconds and at exit (SIGTERM).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "dcos/daemon.h"
#include "dcos/flags.h"
#include "dcos/ids.h"
#include "dcos/ipc.h"
#include "dcos/json.h"
#include "dcos/log.h"
#include "dcos/resources.h"
#include "dcos/strmap.h"

struct sim;

struct sim_agent {
	struct sim *s;
	int idx;
	char id[128];
	bool registered;
};

struct sim_task {
	struct sim *s;
	char *agent_id, *fw_id, *task_id;
	struct event *finish;
};

struct sim {
	struct event_base *base;
	struct daemon *daemon;
	struct ipc *req, *rep;
	struct sim_agent *agents;
	struct strmap *by_id, *tasks;
	json_t *resources;
	struct event *stats;
	char channel[256];
	long long registered, run_tasks, updates_sent, updates_acked;
	long long acks, pings, kills, update_errors;
	struct {
		const char *master, *ip, *resources, *log_level;
		int port, http_port_base;
		long long agents;
		double task_seconds, stats_every;
		bool updates;
	} f;
};

static void send_update(struct sim *s, const char *agent_id,
    const char *fw_id, const char *task_id, const char *state);

static const char *
id_of(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);

	if (json_is_object(v))
		v = json_object_get(v, "value");
	return json_string_value(v);
}

/* --- registration --- */

static void register_agent(struct sim_agent *ag);

static void
on_retry_register(evutil_socket_t fd, short what, void *arg)
{
	register_agent(arg);
}

static void
on_registered(json_t *reply, const char *err, void *arg)
{
	struct sim_agent *ag = arg;
	struct sim *s = ag->s;
	const char *id = reply ? id_of(reply, "agent_id") : NULL;

	if (id == NULL || strcmp(json_str_or(reply, "type", ""), "REGISTERED")) {
		struct timeval tv = { 1, 0 };

		log_warn("agent %d: registration failed (%s); retrying", ag->idx,
		    err ? err : json_str_or(reply, "message", "?"));
		event_base_once(s->base, -1, EV_TIMEOUT, on_retry_register, ag,
		    &tv);
		return;
	}
	snprintf(ag->id, sizeof(ag->id), "%s", id);
	ag->registered = true;
	strmap_put(s->by_id, ag->id, ag);
	if (++s->registered == s->f.agents)
		log_notice("all %lld simulated agents registered",
		    s->f.agents);
}

static void
register_agent(struct sim_agent *ag)
{
	struct sim *s = ag->s;
	char pid[256];
	json_t *msg;

	snprintf(pid, sizeof(pid), "slave(1)@%s:%d", s->f.ip,
	    s->f.http_port_base + ag->idx);
	msg = json_pack("{s:s, s:{s:s, s:i, s:O, s:[]}, s:s, s:[s], s:s, s:s}",
	    "type", "REGISTER_AGENT", "agent_info", "hostname", s->f.ip, "port",
	    s->f.http_port_base + ag->idx, "resources", s->resources,
	    "attributes", "version", "1.5.3", "capabilities", "MULTI_ROLE",
	    "channel", s->channel, "pid", pid);
	ipc_request(s->req, msg, 30.0, on_registered, ag);
	json_decref(msg);
}

/* --- tasks --- */

static void
task_free(struct sim_task *t)
{
	if (t->finish)
		event_free(t->finish);
	free(t->agent_id);
	free(t->fw_id);
	free(t->task_id);
	free(t);
}

static void
on_finish(evutil_socket_t fd, short what, void *arg)
{
	struct sim_task *t = arg;
	char key[600];

	send_update(t->s, t->agent_id, t->fw_id, t->task_id, "TASK_FINISHED");
	snprintf(key, sizeof(key), "%s\n%s", t->fw_id, t->task_id);
	strmap_del(t->s->tasks, key);
	task_free(t);
}

static void
on_update_reply(json_t *reply, const char *err, void *arg)
{
	struct sim *s = arg;

	if (reply == NULL || strcmp(json_str_or(reply, "type", ""), "OK"))
		s->update_errors++;
}

static void
send_update(struct sim *s, const char *agent_id, const char *fw_id,
    const char *task_id, const char *state)
{
	unsigned char raw[16];
	char uuid[32];
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0;
	struct timespec ts;
	json_t *msg;

	ids_random_bytes(raw, sizeof(raw));
	for (size_t i = 0; i < 15; i += 3) {
		unsigned v = raw[i] << 16 | raw[i + 1] << 8 | raw[i + 2];

		uuid[o++] = b64[v >> 18];
		uuid[o++] = b64[(v >> 12) & 63];
		uuid[o++] = b64[(v >> 6) & 63];
		uuid[o++] = b64[v & 63];
	}
	uuid[o++] = b64[raw[15] >> 2];
	uuid[o++] = b64[(raw[15] & 3) << 4];
	uuid[o++] = '=';
	uuid[o++] = '=';
	uuid[o] = '\0';
	clock_gettime(CLOCK_REALTIME, &ts);
	msg = json_pack("{s:s, s:{s:s}, s:{s:s}, s:{s:{s:s}, s:s, s:s, s:s, "
	    "s:f, s:{s:s}, s:{s:s}}}", "type", "STATUS_UPDATE", "agent_id",
	    "value", agent_id, "framework_id", "value", fw_id, "status",
	    "task_id", "value", task_id, "state", state, "source",
	    "SOURCE_EXECUTOR", "uuid", uuid, "timestamp", ts.tv_sec +
	    ts.tv_nsec / 1e9, "agent_id", "value", agent_id, "executor_id",
	    "value", task_id);
	ipc_request(s->req, msg, 30.0, on_update_reply, s);
	json_decref(msg);
	s->updates_sent++;
}

static void
start_task(struct sim *s, const char *agent_id, const char *fw_id,
    const char *task_id)
{
	struct sim_task *t = calloc(1, sizeof(*t));
	char key[600];

	if (t == NULL)
		abort();
	t->s = s;
	t->agent_id = strdup(agent_id);
	t->fw_id = strdup(fw_id);
	t->task_id = strdup(task_id);
	s->run_tasks++;
	if (s->f.updates)
		send_update(s, agent_id, fw_id, task_id, "TASK_RUNNING");
	snprintf(key, sizeof(key), "%s\n%s", fw_id, task_id);
	{
		struct sim_task *old = strmap_put(s->tasks, key, t);

		if (old) /* a duplicate RUN_TASK: the first one is replaced */
			task_free(old);
	}
	if (s->f.task_seconds > 0) {
		struct timeval tv = { (time_t)s->f.task_seconds,
			(suseconds_t)((s->f.task_seconds -
			(long)s->f.task_seconds) * 1e6) };

		t->finish = evtimer_new(s->base, on_finish, t);
		evtimer_add(t->finish, &tv);
	}
}

static void
kill_task(struct sim *s, const char *agent_id, const char *fw_id,
    const char *task_id)
{
	char key[600];
	struct sim_task *t;

	snprintf(key, sizeof(key), "%s\n%s", fw_id, task_id);
	s->kills++;
	send_update(s, agent_id, fw_id, task_id, "TASK_KILLED");
	if ((t = strmap_del(s->tasks, key)) != NULL)
		task_free(t);
}

/* --- the channel --- */

static void
on_message(struct ipc_pending *p, json_t *msg, void *arg)
{
	struct sim *s = arg;
	const char *type = json_str_or(msg, "type", "");
	const char *agent_id = id_of(msg, "agent_id");
	const char *fw_id;
	json_t *reply = json_pack("{s:s}", "type", "OK");

	if (agent_id == NULL || strmap_get(s->by_id, agent_id) == NULL) {
		json_decref(reply);
		ipc_reply(p, json_pack("{s:s, s:b, s:s}", "type", "ERROR",
		    "reregister", 1, "message", "unknown agent"));
		return;
	}
	if (!strcmp(type, "PING")) {
		json_decref(reply);
		reply = json_pack("{s:s}", "type", "PONG");
		s->pings++;
	}
	ipc_reply(p, reply);
	if (!strcmp(type, "RUN_TASK")) {
		fw_id = id_of(json_object_get(msg, "framework_info"), "id");
		start_task(s, agent_id, fw_id ? fw_id : "",
		    id_of(json_object_get(msg, "task"), "task_id"));
	} else if (!strcmp(type, "RUN_TASK_GROUP")) {
		json_t *tasks = json_object_get(json_object_get(msg, "task_group"),
		    "tasks"), *t;
		size_t i;

		fw_id = id_of(json_object_get(msg, "framework_info"), "id");
		json_array_foreach(tasks, i, t)
			start_task(s, agent_id, fw_id ? fw_id : "", id_of(t,
			    "task_id"));
	} else if (!strcmp(type, "KILL_TASK")) {
		kill_task(s, agent_id, id_of(msg, "framework_id"), id_of(msg,
		    "task_id"));
	} else if (!strcmp(type, "ACKNOWLEDGE_UPDATE")) {
		s->acks++;
	}
}

static void
print_stats(struct sim *s)
{
	printf("{\"agents\":%lld,\"registered\":%lld,\"run_tasks\":%lld,"
	    "\"updates_sent\":%lld,\"update_errors\":%lld,\"acks\":%lld,"
	    "\"pings\":%lld,\"kills\":%lld,\"live_tasks\":%zu}\n", s->f.agents,
	    s->registered, s->run_tasks, s->updates_sent, s->update_errors,
	    s->acks, s->pings, s->kills, strmap_count(s->tasks));
	fflush(stdout);
}

static void
on_stats(evutil_socket_t fd, short what, void *arg)
{
	print_stats(arg);
}

static void
stop(void *arg)
{
	struct sim *s = arg;

	event_base_loopexit(s->base, NULL);
}

static int
setup(struct sim *s)
{
	char err[256], url[512];
	struct resources r;
	struct timeval tv = { (time_t)s->f.stats_every, 0 };

	if (resources_parse(s->f.resources, "*", &r, err, sizeof(err)) == -1) {
		log_error("--resources: %s", err);
		return -1;
	}
	s->resources = resources_to_v1(&r, NULL);
	resources_free(&r);
	snprintf(s->channel, sizeof(s->channel), "tcp://%s:%d", s->f.ip,
	    s->f.port);
	if ((s->rep = ipc_rep_listen(s->base, s->channel, on_message, s, err,
	    sizeof(err))) == NULL) {
		log_error("%s", err);
		return -1;
	}
	snprintf(url, sizeof(url), "tcp://%s", s->f.master);
	if ((s->req = ipc_req_dial(s->base, url, err, sizeof(err))) == NULL) {
		log_error("%s", err);
		return -1;
	}
	s->by_id = strmap_new();
	s->tasks = strmap_new();
	s->agents = calloc((size_t)s->f.agents, sizeof(*s->agents));
	if (s->agents == NULL)
		abort();
	for (long long i = 0; i < s->f.agents; i++) {
		s->agents[i].s = s;
		s->agents[i].idx = (int)i;
		register_agent(&s->agents[i]);
	}
	if (tv.tv_sec > 0) {
		s->stats = event_new(s->base, -1, EV_PERSIST, on_stats, s);
		event_add(s->stats, &tv);
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct sim s = { 0 };
	const struct flag flags[] = {
		{ "master", FLAG_STR, &s.f.master, "127.0.0.1:5052",
		  "the leading master's agent channel, host:port" },
		{ "ip", FLAG_STR, &s.f.ip, "127.0.0.1", "address of the agents" },
		{ "port", FLAG_PORT, &s.f.port, "5060",
		  "the agents' shared channel port" },
		{ "http_port_base", FLAG_PORT, &s.f.http_port_base, "20000",
		  "agent i claims HTTP port base+i (only in its pid)" },
		{ "agents", FLAG_INT, &s.f.agents, "1000", "agents to simulate" },
		{ "resources", FLAG_STR, &s.f.resources,
		  "cpus:32;mem:131072;disk:100000;ports:[31000-32000]",
		  "resources of each agent" },
		{ "task_seconds", FLAG_DURATION, &s.f.task_seconds, "0",
		  "tasks finish after this (0: they run until killed)" },
		{ "stats_every", FLAG_DURATION, &s.f.stats_every, "5secs",
		  "print a JSON line of counters this often (0: only at exit)" },
		{ "updates", FLAG_BOOL, &s.f.updates, "true", "send status updates "
		  "(--no-updates: only accept RUN_TASK, to time placement alone)" },
		{ "log_level", FLAG_STR, &s.f.log_level, "notice", "log level" },
	};
	const struct flags_spec spec = { "mesos-sim-agents",
		"simulated Mesos agents for benchmarking the master", "SIM_",
		flags, sizeof(flags) / sizeof(flags[0]) };
	int rc = 0;

	flags_parse_or_exit(&spec, argc, argv);
	log_init("mesos-sim-agents", LOG_LVL_NOTICE);
	if (log_level_parse(s.f.log_level) >= 0)
		log_set_level((enum log_level)log_level_parse(s.f.log_level));
	s.base = event_base_new();
	s.daemon = daemon_new(s.base, stop, &s);
	if (setup(&s) == -1) {
		rc = 1;
	} else {
		daemon_ready(s.daemon, "simulating agents");
		event_base_dispatch(s.base);
		print_stats(&s);
	}
	return rc;
}

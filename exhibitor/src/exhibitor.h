/*
 * dcos-exhibitor: hosts this master's member of the replicated state store
 * (one dqlite node) and reports on the ensemble over Exhibitor's REST API.
 *
 * Threads: the loop thread serves HTTP and owns everything but the node;
 * the cluster thread (cluster.c) owns the dqlite node, decides whether to
 * bootstrap or join, keeps this member a voter, and checks every member
 * each --check_interval; it publishes what it saw as a struct ex_view under
 * ex->mu, which HTTP handlers copy. The node runs its own thread inside
 * libdqlite.
 */
#ifndef EXHIBITOR_H
#define EXHIBITOR_H

#include <pthread.h>
#include <stdint.h>

#include "dcos/dqlite_client.h"

#define EX_MAX_MEMBERS 9
#define EX_IP_MAX 64

struct event_base;
struct event;
struct daemon;
struct http_server;
struct dqlite_node;
struct guard;

/* Exhibitor's member codes. */
enum ex_code {
	EX_LATENT = 0,      /* not checked yet */
	EX_DOWN = 1,        /* its store port does not answer */
	EX_NOT_SERVING = 2, /* answers, but is not a voter under a leader */
	EX_SERVING = 3,
};

enum ex_phase {
	EX_PHASE_STARTING, /* deciding whether to bootstrap or join */
	EX_PHASE_RUNNING,  /* the node runs */
	EX_PHASE_FAILED,   /* the node could not start: the daemon exits */
};

struct ex_member {
	char ip[EX_IP_MAX];
	char address[DQLITE_CLIENT_ADDR_MAX]; /* ip:client_port */
};

struct ex_member_status {
	int code;      /* enum ex_code */
	int is_leader;
	uint64_t id;   /* dqlite node id in the leader's configuration, or 0 */
	int role;      /* enum dqlite_client_role, or -1 when not a member */
};

/* What the cluster thread last saw. */
struct ex_view {
	int phase;
	char note[256];  /* what this member is doing or waiting for */
	uint64_t node_id;
	char leader[DQLITE_CLIENT_ADDR_MAX]; /* "" when none */
	int checked;     /* at least one full check done */
	struct ex_member_status st[EX_MAX_MEMBERS];
};

struct exhibitor {
	struct event_base *base;
	struct daemon *daemon;
	struct http_server *http;
	struct {
		const char *ip, *master_list, *data_dir, *log_level;
		int port, client_port;
		double election_timeout, check_interval;
	} f;
	struct ex_member members[EX_MAX_MEMBERS]; /* sorted by address */
	size_t nmembers, self;
	/* the cluster thread */
	pthread_t thread;
	int thread_started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stopping;                 /* under mu */
	struct ex_view view;          /* under mu */
	int wake_fd;                  /* the thread tells the loop of failure */
	struct event *ev_wake;
	struct guard *guard;          /* the store port (guard.c) */
	struct dqlite_node *node;     /* cluster thread only */
	uint64_t node_id;             /* cluster thread only */
	int exit_code;
};

/* config.c */
int config_load(struct exhibitor *ex, char *err, size_t errlen);
uint64_t config_node_id(const char *address);
const char *config_servers_spec(const struct exhibitor *ex, char *buf,
    size_t size);

/* member.c */
int member_read_id(const char *data_dir, const char *address, uint64_t *id,
    char *err, size_t errlen);
int member_data_empty(const char *data_dir);
int member_start(struct exhibitor *ex, uint64_t id, char *err,
    size_t errlen);
void member_stop(struct exhibitor *ex);
int member_lock(const char *data_dir, char *err, size_t errlen);

/* cluster.c */
int cluster_start(struct exhibitor *ex, char *err, size_t errlen);
void cluster_stop(struct exhibitor *ex);
void cluster_view(struct exhibitor *ex, struct ex_view *out);
const char *cluster_code_name(int code);

/* join.c (cluster thread) */
int join_prepare(struct exhibitor *ex, uint64_t *id, char *note,
    size_t size);
void join_ensure_voter(struct exhibitor *ex, char *note, size_t size);
void join_step_down(struct exhibitor *ex);

/* guard.c */
int guard_start(struct exhibitor *ex, char *err, size_t errlen);
void guard_stop(struct exhibitor *ex);
const char *guard_node_address(const struct exhibitor *ex, char *buf,
    size_t size);

/* guard_check.c */
enum {
	GUARD_BAD = -1,
	GUARD_REQUEST = 0,    /* anyone may send it */
	GUARD_CONNECT = 1,    /* a Raft stream: masters only, to a member */
	GUARD_MEMBERSHIP = 2, /* ADD (address set), ASSIGN, REMOVE, TRANSFER:
	                         masters only */
};
int guard_check(uint8_t type, const uint8_t *body, size_t len,
    char *address, size_t asize, char *why, size_t wsize);

/* api.c */
void api_routes(struct exhibitor *ex);

/* ui.c */
char *ui_render(const struct exhibitor *ex, const struct ex_view *v);

#endif

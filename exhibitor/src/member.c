/*
 * member: this master's dqlite node and its data directory.
 *
 *   <data_dir>/lock      flock'ed while a dcos-exhibitor uses the directory
 *   <data_dir>/node-id   "<id> <address>": written (durably) before the node
 *                        first starts, read on every later start, so a
 *                        restarted member comes back with the same id
 *   <data_dir>/dqlite/   the node's Raft log, snapshots and metadata
 *
 * A data directory without node-id is a new member (first start, or a
 * replaced machine with an empty disk); the cluster thread decides whether
 * it bootstraps or joins before calling member_start.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dqlite.h>

#include "dcos/daemon.h"
#include "dcos/log.h"
#include "exhibitor.h"

static int lock_fd = -1; /* held for the life of the process */

int
member_lock(const char *data_dir, char *err, size_t errlen)
{
	char path[4096];

	if (daemon_mkdirs(data_dir, 0700, err, errlen) == -1)
		return -1;
	snprintf(path, sizeof(path), "%s/lock", data_dir);
	lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lock_fd == -1) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(lock_fd, LOCK_EX | LOCK_NB) == -1) {
		snprintf(err, errlen, "%s is in use by another dcos-exhibitor "
		    "(%s is locked)", data_dir, path);
		close(lock_fd);
		lock_fd = -1;
		return -1;
	}
	return 0;
}

int
member_read_id(const char *data_dir, const char *address, uint64_t *id,
    char *err, size_t errlen)
{
	char path[4096], addr[DQLITE_CLIENT_ADDR_MAX];
	FILE *f;
	int n;

	snprintf(path, sizeof(path), "%s/node-id", data_dir);
	if ((f = fopen(path, "r")) == NULL) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	n = fscanf(f, "%" SCNu64 " %127s", id, addr);
	fclose(f);
	if (n != 2 || *id == 0) {
		snprintf(err, errlen, "%s is malformed; expected \"<id> "
		    "<address>\"", path);
		return -1;
	}
	if (strcmp(addr, address) != 0) {
		snprintf(err, errlen, "%s belongs to member %s, not %s: this data "
		    "directory was another master's (empty it to join as a new "
		    "member)", path, addr, address);
		return -1;
	}
	return 1;
}

int
member_data_empty(const char *data_dir)
{
	char path[4096];
	struct dirent *de;
	DIR *d;
	int empty = 1;

	snprintf(path, sizeof(path), "%s/dqlite", data_dir);
	if ((d = opendir(path)) == NULL)
		return 1;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			empty = 0;
	closedir(d);
	return empty;
}

/* Writes node-id through a temporary file, fsynced, then renamed. */
static int
write_id(const char *data_dir, uint64_t id, const char *address, char *err,
    size_t errlen)
{
	char path[4096], tmp[4200], text[256];
	int fd, len;

	snprintf(path, sizeof(path), "%s/node-id", data_dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	len = snprintf(text, sizeof(text), "%" PRIu64 " %s\n", id, address);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd == -1 || write(fd, text, (size_t)len) != len || fsync(fd) == -1 ||
	    close(fd) == -1 || rename(tmp, path) == -1) {
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	if ((fd = open(data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		fsync(fd);
		close(fd);
	}
	return 0;
}

/* How the node dials another member for Raft: from this master's --ip,
 * which is what the other member's store port lets through (guard.c). */
static int
connect_from_ip(void *arg, const char *address, int *fdp)
{
	struct exhibitor *ex = arg;
	struct sockaddr_in from = { .sin_family = AF_INET };
	struct sockaddr_in to = { .sin_family = AF_INET };
	char host[EX_IP_MAX];
	const char *colon = strrchr(address, ':');
	int fd, soerr = 0, flags, one = 1;
	socklen_t len = sizeof(soerr);
	struct pollfd p;

	if (colon == NULL || (size_t)(colon - address) >= sizeof(host))
		return -1;
	memcpy(host, address, (size_t)(colon - address));
	host[colon - address] = '\0';
	if (inet_pton(AF_INET, host, &to.sin_addr) != 1 ||
	    inet_pton(AF_INET, ex->f.ip, &from.sin_addr) != 1)
		return -1;
	to.sin_port = htons((uint16_t)atoi(colon + 1));
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1)
		return -1;
	if (bind(fd, (struct sockaddr *)&from, sizeof(from)) == -1)
		goto fail;
	if (connect(fd, (struct sockaddr *)&to, sizeof(to)) == -1) {
		if (errno != EINPROGRESS)
			goto fail;
		p = (struct pollfd){ .fd = fd, .events = POLLOUT };
		if (poll(&p, 1, 5000) != 1 || getsockopt(fd, SOL_SOCKET,
		    SO_ERROR, &soerr, &len) == -1 || soerr != 0)
			goto fail;
	}
	/* dqlite writes its handshake on a blocking socket; Raft messages are
	 * small and latency-bound: no Nagle */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	flags = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
	*fdp = fd;
	return 0;
fail:
	close(fd);
	return -1;
}

int
member_start(struct exhibitor *ex, uint64_t id, char *err, size_t errlen)
{
	const char *address = ex->members[ex->self].address;
	char dir[4096], bind_to[108];
	dqlite_node *node;
	int rc;

	snprintf(dir, sizeof(dir), "%s/dqlite", ex->f.data_dir);
	if (daemon_mkdirs(dir, 0700, err, errlen) == -1 ||
	    write_id(ex->f.data_dir, id, address, err, errlen) == -1)
		return -1;
	if ((rc = dqlite_node_create(id, address, dir, &node)) != 0) {
		snprintf(err, errlen, "cannot create the dqlite node: %s",
		    node ? dqlite_node_errmsg(node) : "out of memory");
		dqlite_node_destroy(node);
		return -1;
	}
	/* dqlite's heartbeat is 1/10 of the election timeout */
	/* the network reaches the node only through the store port (guard.c) */
	if (dqlite_node_set_bind_address(node, guard_node_address(ex, bind_to,
	    sizeof(bind_to))) != 0 ||
	    dqlite_node_set_connect_func(node, connect_from_ip, ex) != 0 ||
	    dqlite_node_set_network_latency_ms(node,
	    (unsigned)(ex->f.election_timeout * 1000 / 15)) != 0 ||
	    dqlite_node_start(node) != 0) {
		snprintf(err, errlen, "cannot start the dqlite node on %s: %s",
		    address, dqlite_node_errmsg(node));
		dqlite_node_destroy(node);
		return -1;
	}
	ex->node = node;
	ex->node_id = id;
	log_notice("store member %s started (node id %" PRIu64 "%s, data in %s)",
	    address, id, id == 1 ? ", bootstrapping a new cluster" : "", dir);
	return 0;
}

void
member_stop(struct exhibitor *ex)
{
	if (ex->node == NULL)
		return;
	dqlite_node_stop(ex->node);
	dqlite_node_destroy(ex->node);
	ex->node = NULL;
	log_notice("store member %s stopped", ex->members[ex->self].address);
}

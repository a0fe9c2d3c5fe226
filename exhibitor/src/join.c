/*
 * join: how this member becomes, and stays, a voter of the ensemble. Runs
 * on the cluster thread; every step is a short blocking dqlite request
 * with a timeout, retried on the next check when it fails.
 *
 * Before the node first starts (no node-id on disk), join_prepare asks the
 * other members for their configuration:
 *  - someone has one: a cluster exists, and this is a new or replaced
 *    member. Entries left under this address by a former incarnation (a
 *    replaced machine, empty disk) are removed through the leader first, so
 *    the new one joins cleanly with its own id instead of inheriting votes
 *    it never cast;
 *  - nobody has one: a new cluster. The lowest address bootstraps it as
 *    id 1, but only once a majority of the master list (itself included)
 *    answers, so a replaced first master whose peers are down cannot start
 *    a second, empty cluster. The others start empty and wait to be added.
 * Once running, join_ensure_voter asks the leader for the configuration
 * and adds this member (as a spare, then promoted to voter) if missing.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dcos/log.h"
#include "exhibitor.h"

#define SURVEY_TIMEOUT_MS 1000
#define PROMOTE_TIMEOUT_MS 20000 /* a new voter first catches up */

struct survey {
	size_t answered_empty; /* members that answered with no configuration */
	int existing;          /* someone has a configuration */
	uint64_t stale[EX_MAX_MEMBERS]; /* ids listed under our address */
	size_t nstale;
};

static void
survey_others(struct exhibitor *ex, struct survey *s)
{
	const char *self = ex->members[ex->self].address;

	memset(s, 0, sizeof(*s));
	for (size_t i = 0; i < ex->nmembers; i++) {
		struct dqlite_client_err e;
		struct dqlite_client *c;
		struct dqlite_member *m;
		size_t n;

		if (i == ex->self)
			continue;
		c = dqlite_client_connect(ex->members[i].address,
		    SURVEY_TIMEOUT_MS, &e);
		if (c == NULL || dqlite_client_cluster(c, &m, &n, &e) != 0) {
			dqlite_client_close(c);
			continue;
		}
		dqlite_client_close(c);
		if (n == 0)
			s->answered_empty++;
		else
			s->existing = 1;
		for (size_t k = 0; k < n; k++) {
			int known = 0;

			if (strcmp(m[k].address, self) != 0)
				continue;
			for (size_t j = 0; j < s->nstale; j++)
				known |= s->stale[j] == m[k].id;
			if (!known && s->nstale < EX_MAX_MEMBERS)
				s->stale[s->nstale++] = m[k].id;
		}
		free(m);
	}
}

static struct dqlite_client *
connect_leader(struct exhibitor *ex, char *note, size_t size)
{
	const char *addrs[EX_MAX_MEMBERS];
	struct dqlite_client_err e;
	struct dqlite_client *c;

	for (size_t i = 0; i < ex->nmembers; i++)
		addrs[i] = ex->members[i].address;
	c = dqlite_client_connect_leader(addrs, ex->nmembers, SURVEY_TIMEOUT_MS,
	    &e);
	if (c == NULL)
		snprintf(note, size, "waiting for a leader (%s)", e.msg);
	return c;
}

/* Removes ids from the configuration through the leader: 0 when done. */
static int
remove_ids(struct exhibitor *ex, const uint64_t *ids, size_t n, char *note,
    size_t size)
{
	struct dqlite_client_err e;
	struct dqlite_client *c = connect_leader(ex, note, size);

	if (c == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		log_notice("removing the old membership of %s (node id %" PRIu64
		    ") so this member can rejoin", ex->members[ex->self].address,
		    ids[i]);
		if (dqlite_client_remove(c, ids[i], &e) != 0) {
			snprintf(note, size, "cannot remove the old membership of "
			    "this address (node id %" PRIu64 ") yet: %s", ids[i],
			    e.msg);
			dqlite_client_close(c);
			return -1;
		}
	}
	dqlite_client_close(c);
	return 0;
}

int
join_prepare(struct exhibitor *ex, uint64_t *id, char *note, size_t size)
{
	const char *self = ex->members[ex->self].address;
	struct survey s;
	int rc;

	if ((rc = member_read_id(ex->f.data_dir, self, id, note, size)) != 0)
		return rc; /* a restart (1), or an unusable directory (-1) */
	if (!member_data_empty(ex->f.data_dir)) {
		snprintf(note, size, "%s/dqlite holds data but %s/node-id is "
		    "missing: refusing to guess this member's id (empty the "
		    "directory to rejoin as a new member)", ex->f.data_dir,
		    ex->f.data_dir);
		return -1;
	}
	survey_others(ex, &s);
	if (s.existing) {
		if (s.nstale && remove_ids(ex, s.stale, s.nstale, note, size))
			return 0;
		*id = config_node_id(self);
		return 1;
	}
	if (ex->self != 0) {
		/* a new cluster: the lowest address bootstraps it */
		*id = config_node_id(self);
		return 1;
	}
	if ((s.answered_empty + 1) * 2 > ex->nmembers) {
		*id = 1;
		return 1;
	}
	snprintf(note, size, "waiting for a majority of the %zu masters to "
	    "start before bootstrapping a new cluster (%zu answer)",
	    ex->nmembers, s.answered_empty + 1);
	return 0;
}

void
join_ensure_voter(struct exhibitor *ex, char *note, size_t size)
{
	const char *self = ex->members[ex->self].address;
	struct dqlite_client_err e;
	struct dqlite_client *c;
	struct dqlite_member *m;
	uint64_t stale[EX_MAX_MEMBERS];
	size_t n, nstale = 0;
	int role = -1;

	if ((c = connect_leader(ex, note, size)) == NULL)
		return;
	if (dqlite_client_cluster(c, &m, &n, &e) != 0) {
		snprintf(note, size, "cannot read the configuration: %s", e.msg);
		dqlite_client_close(c);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (m[i].id == ex->node_id)
			role = m[i].role;
		else if (strcmp(m[i].address, self) == 0 && nstale < EX_MAX_MEMBERS)
			stale[nstale++] = m[i].id;
	}
	free(m);
	if (role == DQLITE_CLIENT_VOTER) {
		dqlite_client_close(c);
		note[0] = '\0';
		return;
	}
	dqlite_client_close(c);
	if (role == -1 && nstale && remove_ids(ex, stale, nstale, note, size))
		return;
	if ((c = connect_leader(ex, note, size)) == NULL)
		return;
	if (role == -1) {
		log_notice("asking the leader %s to add %s (node id %" PRIu64 ")",
		    dqlite_client_address(c), self, ex->node_id);
		if (dqlite_client_add(c, ex->node_id, self, &e) != 0) {
			snprintf(note, size, "the leader did not add this member "
			    "yet: %s", e.msg);
			dqlite_client_close(c);
			return;
		}
	}
	log_notice("asking the leader %s to make %s a voter",
	    dqlite_client_address(c), self);
	dqlite_client_set_timeout(c, PROMOTE_TIMEOUT_MS);
	if (dqlite_client_assign(c, ex->node_id, DQLITE_CLIENT_VOTER, &e) != 0)
		snprintf(note, size, "the leader did not make this member a "
		    "voter yet: %s", e.msg);
	else
		log_notice("%s is a voter", self);
	dqlite_client_close(c);
}

/* On a clean stop, a leading member hands leadership over first, so the
 * store is unavailable for a moment instead of an election timeout. */
void
join_step_down(struct exhibitor *ex)
{
	const char *self = ex->members[ex->self].address;
	struct dqlite_client_err e;
	struct dqlite_client *c;
	char leader[DQLITE_CLIENT_ADDR_MAX];
	uint64_t id;

	if (ex->nmembers < 2 || ex->node == NULL)
		return;
	if ((c = dqlite_client_connect(self, SURVEY_TIMEOUT_MS, &e)) == NULL)
		return;
	if (dqlite_client_leader(c, &id, leader, sizeof(leader), &e) == 0 &&
	    strcmp(leader, self) == 0) {
		dqlite_client_set_timeout(c, 5000);
		if (dqlite_client_transfer(c, 0, &e) == 0)
			log_notice("handed the store leadership over before "
			    "stopping");
		else
			log_warn("could not hand the store leadership over: %s",
			    e.msg);
	}
	dqlite_client_close(c);
}

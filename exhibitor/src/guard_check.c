/*
 * guard_check: which requests the store port lets through to the dqlite
 * node (see guard.c). libdqlite 1.11 trusts its clients: some malformed
 * requests trip assertions or use ids it never checks (a DESCRIBE with a
 * bad format answers twice, an ADD of id 0 asserts). So every request is
 * decoded here first, field by field, as the server will read it, and
 * anything that does not decode or that the server cannot handle safely
 * closes the connection instead. Requests that change who is a member or
 * who leads (and CONNECT, which starts a Raft stream) are flagged so the
 * guard takes them from masters only.
 */
#include <stdio.h>
#include <string.h>

#include "dcos/dqlite_wire.h"
#include "exhibitor.h"

static int
u64(struct dqlite_wire_cursor *c, uint64_t *v)
{
	return dqlite_wire_get_u64(c, v);
}

static int
text(struct dqlite_wire_cursor *c, const char **s)
{
	return dqlite_wire_get_text(c, s);
}

int
guard_check(uint8_t type, const uint8_t *body, size_t len, char *address,
    size_t asize, char *why, size_t wsize)
{
	struct dqlite_wire_cursor c = { body, len };
	const char *s, *t;
	uint64_t a, b;
	uint32_t x, y;
	int bad = 1;

	switch (type) {
	case DQLITE_REQ_LEADER:
	case DQLITE_REQ_CLIENT:
	case DQLITE_REQ_INTERRUPT:
	case DQLITE_REQ_WEIGHT:
		bad = u64(&c, &a);
		break;
	case DQLITE_REQ_REMOVE:
	case DQLITE_REQ_TRANSFER:
		if (u64(&c, &a))
			break;
		address[0] = '\0';
		return GUARD_MEMBERSHIP;
	case DQLITE_REQ_OPEN:
		bad = text(&c, &s) || u64(&c, &a) || text(&c, &t);
		break;
	case DQLITE_REQ_PREPARE:
		bad = u64(&c, &a) || text(&c, &s);
		break;
	case DQLITE_REQ_EXEC:
	case DQLITE_REQ_QUERY:
		bad = dqlite_wire_get_u32(&c, &x) || dqlite_wire_get_u32(&c, &y) ||
		    dqlite_wire_skip_params(&c);
		break;
	case DQLITE_REQ_FINALIZE:
		bad = dqlite_wire_get_u32(&c, &x) || dqlite_wire_get_u32(&c, &y);
		break;
	case DQLITE_REQ_EXEC_SQL:
	case DQLITE_REQ_QUERY_SQL:
		bad = u64(&c, &a) || text(&c, &s) || dqlite_wire_skip_params(&c);
		break;
	case DQLITE_REQ_CONNECT:
	case DQLITE_REQ_ADD:
		bad = u64(&c, &a) || text(&c, &s) || a == 0 || s[0] == '\0';
		if (bad)
			break;
		if (strlen(s) >= asize) {
			snprintf(why, wsize, "address too long");
			return GUARD_BAD;
		}
		snprintf(address, asize, "%s", s);
		return type == DQLITE_REQ_CONNECT ? GUARD_CONNECT :
		    GUARD_MEMBERSHIP;
	case DQLITE_REQ_ASSIGN:
		bad = u64(&c, &a) || (c.left && (u64(&c, &b) ||
		    b > DQLITE_CLIENT_SPARE));
		if (bad)
			break;
		address[0] = '\0';
		return GUARD_MEMBERSHIP;
	case DQLITE_REQ_DUMP:
		bad = text(&c, &s);
		break;
	case DQLITE_REQ_CLUSTER:
		bad = u64(&c, &a) || a > 1;
		break;
	case DQLITE_REQ_DESCRIBE:
		bad = u64(&c, &a) || a != 0;
		break;
	default:
		snprintf(why, wsize, "request type %u is not served", type);
		return GUARD_BAD;
	}
	if (bad) {
		snprintf(why, wsize, "malformed request of type %u (%zu bytes)",
		    type, len);
		return GUARD_BAD;
	}
	return GUARD_REQUEST;
}

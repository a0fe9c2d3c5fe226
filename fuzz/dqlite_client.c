/*
 * fuzz/dqlite_client: the store client against a member that answers with
 * arbitrary bytes. The input is everything the "member" sends back; the
 * client runs a sequence of calls (picked by the input's first bytes)
 * over a real socket, reading those bytes as its answers.
 *
 * Properties: every call answers OK, EFAIL (with the server's message)
 * or EIO; after EIO the connection is closed and every later call fails
 * with EIO at once; a leader address and member addresses are strings
 * that fit their buffers; rows come back whole or not at all; nothing
 * leaks, whatever was half-read.
 */
#include <sys/socket.h>
#include <unistd.h>

#include "dqlite_client_int.h"
#include "fuzz.h"

#define NCALLS 8

static void
check_rc(struct dqlite_client *c, int rc, const struct dqlite_client_err *e,
    int *broken)
{
	FZ_CHECK(rc == DQLITE_CLIENT_OK || rc == DQLITE_CLIENT_EFAIL ||
	    rc == DQLITE_CLIENT_EIO, "rc %d", rc);
	if (*broken)
		FZ_CHECK(rc == DQLITE_CLIENT_EIO, "a broken connection answered");
	if (rc == DQLITE_CLIENT_EIO) {
		FZ_CHECK(c->fd == -1, "EIO left the socket open");
		*broken = 1;
	}
	if (rc != DQLITE_CLIENT_OK) {
		FZ_CHECK(e->kind == rc, "err kind %d for rc %d", e->kind, rc);
		FZ_CHECK(memchr(e->msg, '\0', sizeof(e->msg)) && e->msg[0],
		    "error without a message");
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = fz_init(data, size);
	uint8_t calls[NCALLS];
	struct dqlite_client *c;
	struct store_val params[2] = { SV_INT(7), SV_TEXT("x") };
	int sv[2], broken = 0;

	for (int i = 0; i < NCALLS; i++)
		calls[i] = fz_u8(&f);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
		abort();
	/* the member's whole answer, then it hangs up */
	if (f.n && write(sv[1], f.p, f.n) != (ssize_t)f.n)
		abort();
	shutdown(sv[1], SHUT_WR);

	if ((c = calloc(1, sizeof(*c))) == NULL)
		abort();
	c->fd = sv[0];
	c->timeout_ms = 1000;
	snprintf(c->address, sizeof(c->address), "fuzz-member:2181");

	for (int i = 0; i < NCALLS; i++) {
		struct dqlite_client_err e = { 0 };
		struct dqlite_member *members = NULL;
		struct store_rows *rows = NULL;
		char addr[DQLITE_CLIENT_ADDR_MAX] = "";
		uint64_t id = 0, n64 = 0, last = 0;
		uint32_t stmt = 0;
		size_t n = 0;
		int rc;

		switch (calls[i] % 12) {
		case 0:
			rc = dqlite_client_leader(c, &id, addr, sizeof(addr), &e);
			if (rc == DQLITE_CLIENT_OK)
				FZ_CHECK(memchr(addr, '\0', sizeof(addr)), "address");
			break;
		case 1:
			rc = dqlite_client_cluster(c, &members, &n, &e);
			if (rc == DQLITE_CLIENT_OK) {
				FZ_CHECK(members != NULL, "no member array");
				for (size_t k = 0; k < n; k++)
					FZ_CHECK(memchr(members[k].address, '\0',
					    sizeof(members[k].address)), "address");
			} else {
				FZ_CHECK(members == NULL && n == 0, "members on error");
			}
			free(members);
			break;
		case 2:
			rc = dqlite_client_open(c, "dcos", &e);
			break;
		case 3:
			rc = dqlite_client_prepare(c, "SELECT ?", &stmt, &n64, &e);
			break;
		case 4:
			rc = dqlite_client_exec(c, "INSERT INTO t VALUES (?, ?)",
			    params, 2, &last, &n64, &e);
			break;
		case 5:
			rc = dqlite_client_query(c, "SELECT * FROM t", params, 1,
			    &rows, &e);
			goto rows;
		case 6:
			rc = dqlite_client_query_stmt(c, 3, NULL, 0, &rows, &e);
rows:
			if (rc == DQLITE_CLIENT_OK) {
				FZ_CHECK(rows != NULL && rows->ncols > 0, "rows");
				for (size_t r = 0; r < rows->nrows; r++)
					for (size_t k = 0; k < rows->ncols; k++)
						(void)store_rows_int(rows, r, k);
			} else {
				FZ_CHECK(rows == NULL, "rows on error");
			}
			store_rows_free(rows);
			break;
		case 7:
			rc = dqlite_client_exec_stmt(c, 3, params, 2, NULL, NULL, &e);
			break;
		case 8:
			rc = dqlite_client_finalize(c, 3, &e);
			break;
		case 9:
			rc = dqlite_client_add(c, 5, "10.0.0.5:2181", &e);
			break;
		case 10:
			rc = dqlite_client_assign(c, 5, DQLITE_CLIENT_VOTER, &e);
			break;
		default:
			rc = dqlite_client_transfer(c, 0, &e);
			break;
		}
		check_rc(c, rc, &e, &broken);
	}
	dqlite_client_close(c);
	close(sv[1]);
	return 0;
}

/*
 * ui: the small status page at /exhibitor/v1/ui/index.html, rendered on
 * the server from the published view (no scripts), refreshing itself every
 * few seconds: one row per master with its state and who leads.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exhibitor.h"

struct page {
	char *p;
	size_t len, cap;
};

static void
put(struct page *pg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
put(struct page *pg, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(pg->p + pg->len, pg->cap - pg->len, fmt, ap);
		va_end(ap);
		if (n >= 0 && (size_t)n < pg->cap - pg->len) {
			pg->len += (size_t)n;
			return;
		}
		pg->cap = pg->cap * 2 + (size_t)(n > 0 ? n : 0);
		if ((pg->p = realloc(pg->p, pg->cap)) == NULL)
			abort();
	}
}

/* Text for HTML, escaped. */
static void
put_text(struct page *pg, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': put(pg, "&lt;"); break;
		case '>': put(pg, "&gt;"); break;
		case '&': put(pg, "&amp;"); break;
		case '"': put(pg, "&quot;"); break;
		default: put(pg, "%c", *s);
		}
	}
}

static const char *
role_name(int role)
{
	switch (role) {
	case DQLITE_CLIENT_VOTER: return "voter";
	case DQLITE_CLIENT_STANDBY: return "stand-by";
	case DQLITE_CLIENT_SPARE: return "spare";
	default: return "-";
	}
}

/* Returns a new string; the caller frees it. */
char *
ui_render(const struct exhibitor *ex, const struct ex_view *v)
{
	struct page pg = { malloc(4096), 0, 4096 };

	if (pg.p == NULL)
		abort();
	put(&pg, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
	    "<meta http-equiv=\"refresh\" content=\"5\">"
	    "<title>Exhibitor for ZooKeeper - dcos-c store (dqlite)</title>"
	    "<style>body{font-family:sans-serif;margin:2em}"
	    "table{border-collapse:collapse}td,th{border:1px solid #ccc;"
	    "padding:.3em .8em;text-align:left}.serving{color:#080}"
	    ".down{color:#b00}</style></head><body>\n"
	    "<h1>Exhibitor for ZooKeeper</h1>\n<p>The replicated state store "
	    "of this DC/OS cluster: one dqlite member per master.</p>\n");
	put(&pg, "<p>This member: <b>");
	put_text(&pg, ex->members[ex->self].address);
	put(&pg, "</b>, node id %" PRIu64 ". Leader: <b>", v->node_id);
	put_text(&pg, v->leader[0] ? v->leader : "none (no quorum)");
	put(&pg, "</b>.</p>\n");
	if (v->note[0]) {
		put(&pg, "<p><i>");
		put_text(&pg, v->note);
		put(&pg, "</i></p>\n");
	}
	put(&pg, "<table><tr><th>#</th><th>master</th><th>state</th>"
	    "<th>role</th><th>leader</th><th>node id</th></tr>\n");
	for (size_t i = 0; i < ex->nmembers; i++) {
		const struct ex_member_status *st = &v->st[i];
		const char *name = cluster_code_name(st->code);

		put(&pg, "<tr><td>%zu</td><td>", i + 1);
		put_text(&pg, ex->members[i].address);
		put(&pg, "</td><td class=\"%s\">%s</td><td>%s</td><td>%s</td>"
		    "<td>%" PRIu64 "</td></tr>\n", st->code == EX_SERVING ?
		    "serving" : st->code == EX_DOWN ? "down" : "", name,
		    role_name(st->role), st->is_leader ? "yes" : "",
		    st->id);
	}
	put(&pg, "</table>\n<p>API: <a href=\"/exhibitor/v1/cluster/status\">"
	    "cluster/status</a> &middot; <a href=\"/exhibitor/v1/cluster/list\">"
	    "cluster/list</a> &middot; <a href=\"/exhibitor/v1/config/get-state\">"
	    "config/get-state</a></p>\n</body></html>\n");
	return pg.p;
}

/* Unit tests for ipc: many REQ/REP calls in flight through one libevent
 * loop (replies matched by id, in any order), and timeouts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <nng/nng.h>
#include <event2/event.h>

#include "dcos/ipc.h"

#define NCALLS 10000

struct bench {
	struct event_base *base;
	int answered, errors, mismatched;
	struct ipc_pending *held[100];
	json_int_t ns[100];
	int nheld;
};

/* Holds requests in batches of 100 and answers each batch newest first,
 * so replies come back out of order (the REP side serves a bounded number
 * of unanswered requests at a time: the rest wait in nng). */
static void
on_request(struct ipc_pending *p, json_t *msg, void *arg)
{
	struct bench *b = arg;

	b->held[b->nheld % 100] = p;
	b->nheld++;
	b->ns[(b->nheld - 1) % 100] = json_integer_value(json_object_get(msg,
	    "n"));
	if (b->nheld % 100 == 0)
		for (int i = 99; i >= 0; i--) {
			json_t *m = json_object();

			json_object_set_new(m, "n", json_integer(b->ns[i]));
			ipc_reply(b->held[i], m);
		}
}

static void
on_reply(json_t *reply, const char *err, void *arg)
{
	struct bench *b = *(struct bench **)arg;
	intptr_t want = (intptr_t)((void **)arg)[1];

	if (reply == NULL)
		b->errors++;
	else if (json_integer_value(json_object_get(reply, "n")) != want)
		b->mismatched++;
	b->answered++;
	free(arg);
	if (b->answered == NCALLS)
		event_base_loopexit(b->base, NULL);
}

static void
test_ten_thousand_calls_in_flight_match_their_replies(void **state)
{
	struct bench b = { 0 };
	char err[256];
	struct ipc *rep, *req;
	struct timeval limit = { 60, 0 };

	b.base = event_base_new();
	rep = ipc_rep_listen(b.base, "inproc://test-ipc-many", on_request, &b,
	    err, sizeof(err));
	assert_non_null(rep);
	req = ipc_req_dial(b.base, "inproc://test-ipc-many", err, sizeof(err));
	assert_non_null(req);
	for (intptr_t i = 0; i < NCALLS; i++) {
		void **arg = malloc(2 * sizeof(void *));
		json_t *m = json_pack("{s:s, s:I}", "type", "PING", "n",
		    (json_int_t)i);

		arg[0] = &b;
		arg[1] = (void *)i;
		ipc_request(req, m, 30.0, on_reply, arg);
		json_decref(m);
	}
	event_base_loopexit(b.base, &limit);
	event_base_dispatch(b.base);
	assert_int_equal(b.answered, NCALLS);
	assert_int_equal(b.errors, 0);
	assert_int_equal(b.mismatched, 0);
	ipc_close(req);
	ipc_close(rep);
	event_base_free(b.base);
}

static void
on_silence(struct ipc_pending *p, json_t *msg, void *arg)
{
	struct ipc_pending **slot = arg;

	*slot = p; /* never answered in time */
}

static void
on_timeout(json_t *reply, const char *err, void *arg)
{
	char **out = arg;

	*out = strdup(err ? err : "replied");
}

static void
test_unanswered_call_times_out_with_a_reason(void **state)
{
	struct event_base *base = event_base_new();
	struct ipc_pending *pending = NULL;
	char err[256], *result = NULL;
	struct ipc *rep = ipc_rep_listen(base, "inproc://test-ipc-timeout",
	    on_silence, &pending, err, sizeof(err));
	struct ipc *req = ipc_req_dial(base, "inproc://test-ipc-timeout", err,
	    sizeof(err));
	json_t *m = json_pack("{s:s}", "type", "PING");
	struct timeval limit = { 10, 0 };

	ipc_request(req, m, 0.2, on_timeout, &result);
	json_decref(m);
	while (result == NULL && event_base_loopexit(base, &limit) == 0 &&
	    event_base_loop(base, EVLOOP_ONCE) == 0)
		;
	assert_non_null(result);
	assert_non_null(strstr(result, "timed out"));
	free(result);
	ipc_close(req);
	ipc_close(rep); /* kept alive by the request still held ... */
	assert_non_null(pending);
	ipc_reply(pending, json_object()); /* ... answered late: dropped */
	event_base_free(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ten_thousand_calls_in_flight_match_their_replies),
		cmocka_unit_test(test_unanswered_call_times_out_with_a_reason),
	};

	int failed = cmocka_run_group_tests(tests, NULL, NULL);

	/* nng reaps closed sockets' pipes on its own threads: finish that
	 * before exit so LeakSanitizer does not report them */
	nng_fini();
	return failed;
}

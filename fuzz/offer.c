/*
 * fuzz/offer: v1 Offer JSON, as a scheduler (Marathon, Metronome) receives
 * it in an OFFERS event from the master, through offer_from_v1 (which
 * takes in resources_from_v1 and attributes_from_v1).
 *
 * Properties: an offer that does not parse records errors and keeps
 * nothing; one that parses has its ids and hostname, a port in range, and
 * attributes the JSON forms (state, constraints) can carry again.
 */
#include "dcos/offer.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_errs e;
	struct offer o;
	json_t *v, *s, *a;

	json_errs_init(&e);
	v = json_loadb((const char *)data, size, 0, NULL);
	if (v == NULL)
		goto out;
	if (offer_from_v1(v, "/offers(0)", &o, &e) == -1) {
		FZ_CHECK(json_errs_count(&e) > 0, "refused without an error");
		FZ_CHECK(o.res.n == 0 && o.attrs.n == 0, "kept parts on error");
		goto out;
	}
	FZ_CHECK(o.id[0] && o.agent_id[0], "ids");
	FZ_CHECK(o.port >= 0 && o.port <= 65535, "port %d", o.port);
	s = attributes_summary(&o.attrs);
	a = attributes_to_v1(&o.attrs);
	FZ_CHECK(json_object_size(s) <= o.attrs.n &&
	    json_array_size(a) == o.attrs.n, "%zu attributes, %zu in v1",
	    o.attrs.n, json_array_size(a));
	for (size_t i = 0; i < o.attrs.n; i++) {
		char buf[512];

		attribute_text(&o.attrs.v[i], buf, sizeof(buf));
	}
	json_decref(s);
	json_decref(a);
	offer_free(&o);
out:
	json_decref(v);
	json_errs_free(&e);
	return 0;
}

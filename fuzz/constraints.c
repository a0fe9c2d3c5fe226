/*
 * fuzz/constraints: Marathon/Metronome placement constraints, as users
 * write them in app and job definitions (["hostname", "LIKE", "web.*"]),
 * through constraint_init, then evaluated against agent values.
 *
 * Input: field, operator, value (or none), an agent value and the values
 * of agents already used, NUL-separated. Properties: a refused constraint
 * says why; a LIKE matches exactly when its regular expression matches
 * the whole value, as Marathon's String.matches does (checked with the
 * expression compiled on its own), and UNLIKE is its opposite; MAX_PER
 * and UNIQUE count as they say.
 */
#include "dcos/constraints.h"
#include "fuzz.h"

#define MAX_PLACED 8

/* Whole-value match of re compiled alone: leftmost-longest from 0 must
 * reach the end. -1 when it does not compile alone. */
static int
full_match(const char *re, const char *value)
{
	regex_t r;
	regmatch_t m;
	int rc;

	if (regcomp(&r, re, REG_EXTENDED) != 0)
		return -1;
	rc = regexec(&r, value, 1, &m, 0) == 0 && m.rm_so == 0 &&
	    m.rm_eo == (regoff_t)strlen(value);
	regfree(&r);
	return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = fz_init(data, size);
	char *field = fz_str(&f, 32), *op = fz_str(&f, 16);
	char *value = (fz_u8(&f) & 1) ? fz_str(&f, 48) : NULL;
	char *agent = fz_str(&f, 64), *placed[MAX_PLACED];
	size_t nplaced = 0, same = 0;
	struct constraint c;
	char err[256] = "";
	bool met;

	while (f.n > 0 && nplaced < MAX_PLACED)
		placed[nplaced++] = fz_str(&f, 64);
	if (constraint_init(&c, field, op, value, err, sizeof(err)) == -1) {
		FZ_CHECK(err[0] != '\0', "refused without a reason");
		goto out;
	}
	met = constraint_met(&c, agent, (const char *const *)placed, nplaced);
	for (size_t i = 0; i < nplaced; i++)
		same += strcmp(placed[i], agent) == 0;
	switch (c.op) {
	case CONSTRAINT_LIKE:
	case CONSTRAINT_UNLIKE: {
		int want = full_match(value, agent);

		FZ_CHECK(want != -1, "LIKE '%s' taken, but it is not a regular "
		    "expression on its own", value);
		FZ_CHECK(met == (c.op == CONSTRAINT_LIKE ? want == 1 : want == 0),
		    "%s '%s' on '%s' gave %d", op, value, agent, met);
		break;
	}
	case CONSTRAINT_UNIQUE:
		FZ_CHECK(met == (same == 0), "UNIQUE");
		break;
	case CONSTRAINT_MAX_PER:
		FZ_CHECK(met == (same < (size_t)c.n), "MAX_PER %ld", c.n);
		break;
	case CONSTRAINT_IS:
		FZ_CHECK(met == (strcmp(agent, value) == 0), "IS");
		break;
	default:
		break;
	}
	/* an agent without the field */
	FZ_CHECK(constraint_met(&c, NULL, (const char *const *)placed, nplaced) ==
	    (c.op == CONSTRAINT_UNLIKE), "agent without the field");
	constraint_free(&c);
out:
	for (size_t i = 0; i < nplaced; i++)
		free(placed[i]);
	free(field);
	free(op);
	free(value);
	free(agent);
	return 0;
}

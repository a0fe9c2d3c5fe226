/*
 * constraints: placement constraints as Marathon and Metronome define them,
 * evaluated against an agent (its hostname, fault domain and attributes)
 * and the agents a run spec's instances already occupy.
 *
 *   ["hostname", "UNIQUE"]            one instance per distinct value
 *   ["rack", "CLUSTER", "r1"]         only agents whose rack is r1
 *   ["rack", "CLUSTER"]               all instances share the first value
 *   ["zone", "GROUP_BY", "3"]         spread evenly over the values
 *   ["hostname", "LIKE", "web.*"]     the value fully matches the regex
 *   ["hostname", "UNLIKE", "db.*"]    it does not
 *   ["rack", "MAX_PER", "2"]          at most 2 instances per value
 *   ["level", "IS", "10"]             exact match ("EQ" is Metronome's alias)
 *
 * The field is "hostname" or "@hostname", "@region", "@zone", or the name
 * of an agent attribute. An agent without the field fails every operator
 * but UNLIKE.
 */
#ifndef DCOS_CONSTRAINTS_H
#define DCOS_CONSTRAINTS_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>

enum constraint_op {
	CONSTRAINT_UNIQUE,
	CONSTRAINT_CLUSTER,
	CONSTRAINT_GROUP_BY,
	CONSTRAINT_LIKE,
	CONSTRAINT_UNLIKE,
	CONSTRAINT_MAX_PER,
	CONSTRAINT_IS,
};

struct constraint {
	char *field;
	enum constraint_op op;
	char *value; /* NULL when absent */
	long n;      /* GROUP_BY (0 when absent) and MAX_PER counts */
	regex_t re;  /* LIKE and UNLIKE; they match whole values */
	bool has_re;
};

/* An agent as constraints see it: attribute values as text ("r1", "10",
 * "[1-5]"); the strings are borrowed. */
struct constraint_attr {
	const char *name;
	const char *value;
};

struct constraint_agent {
	const char *hostname;
	const char *region; /* NULL when the agent has no fault domain */
	const char *zone;
	const struct constraint_attr *attrs;
	size_t nattrs;
};

/* "UNIQUE" -> CONSTRAINT_UNIQUE ("EQ" gives CONSTRAINT_IS); -1 if unknown */
int constraint_op_parse(const char *name);
const char *constraint_op_name(enum constraint_op op);

/* Checks and compiles one constraint. 0, or -1 with the problem in err
 * (e.g. "'abc' is not a valid number"). value may be NULL. */
int constraint_init(struct constraint *c, const char *field, const char *op,
    const char *value, char *err, size_t errlen);
void constraint_free(struct constraint *c);

/* The agent's value of the constraint's field (borrowed from a), or NULL
 * when it has none. */
const char *constraint_agent_value(const struct constraint *c,
    const struct constraint_agent *a);

/* Whether an instance may go on an agent whose field value is `value`
 * (NULL: the agent lacks the field), given the field values of the agents
 * the run spec's instances already occupy (placed[i] NULL for agents that
 * lack it). */
bool constraint_met(const struct constraint *c, const char *value,
    const char *const *placed, size_t nplaced);

#endif

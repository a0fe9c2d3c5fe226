/*
 * constraints: parsing and evaluation of placement constraints (see
 * constraints.h). Pure logic shared by the schedulers' offer matching.
 *
 * GROUP_BY follows Marathon: an agent whose value no instance uses yet is
 * always acceptable; otherwise its value must be one of the least used,
 * and only once at least N distinct values are in use.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dcos/constraints.h"
#include "dcos/xalloc.h"

static const char *const op_names[] = {
	[CONSTRAINT_UNIQUE] = "UNIQUE",
	[CONSTRAINT_CLUSTER] = "CLUSTER",
	[CONSTRAINT_GROUP_BY] = "GROUP_BY",
	[CONSTRAINT_LIKE] = "LIKE",
	[CONSTRAINT_UNLIKE] = "UNLIKE",
	[CONSTRAINT_MAX_PER] = "MAX_PER",
	[CONSTRAINT_IS] = "IS",
};

int
constraint_op_parse(const char *name)
{
	if (name == NULL)
		return -1;
	for (size_t i = 0; i < sizeof(op_names) / sizeof(op_names[0]); i++)
		if (strcmp(name, op_names[i]) == 0)
			return (int)i;
	if (strcmp(name, "EQ") == 0)
		return CONSTRAINT_IS;
	return -1;
}

const char *
constraint_op_name(enum constraint_op op)
{
	return op_names[op];
}

static int
parse_count(const char *value, long *out)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(value, &end, 10);
	if (errno || end == value || *end != '\0' || n < 0)
		return -1;
	*out = n;
	return 0;
}

/* Mesos text or float literals: [a-zA-Z0-9_/.-]* */
static int
literal_ok(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || strchr("_/.-", *s)))
			return 0;
	return 1;
}

/* A bound on the nodes glibc's regcomp builds for an ERE. It copies a
 * repeated piece once per count ("a{3,5}": five copies, "a+" as "aa*"), so
 * stacked or nested repetitions multiply ("web.++++++++...*" took
 * gigabytes), and its epsilon closures grow faster than the nodes (stacked
 * "a??+++" took seconds well under that). So more than two quantifiers in
 * a row ("a*?" is Java's lazy form; POSIX reads it as "(a*)?") count as
 * too large, and the bound is what host-name patterns need many times
 * over. Counts saturate just past RE_MAX_COST. */
#define RE_MAX_COST 1000

static size_t
re_add(size_t a, size_t b)
{
	return a + b > RE_MAX_COST ? RE_MAX_COST + 1 : a + b;
}

static size_t
re_mul(size_t a, size_t b)
{
	return b != 0 && a > RE_MAX_COST / b ? RE_MAX_COST + 1 : a * b;
}

/* The cost of the expression at *p up to an unmatched ')' or the end. */
static size_t
re_cost(const char **p, int depth)
{
	size_t total = 0, last = 0;
	int stacked = 0; /* quantifiers on the last atom */

	if (depth > 32)
		return RE_MAX_COST + 1;
	while (**p && **p != ')') {
		char ch = *(*p)++;
		size_t atom = 1, m = 0, n = 0;

		if ((ch == '+' || ch == '*' || ch == '?' || ch == '{') &&
		    ++stacked > 2)
			return RE_MAX_COST + 1;
		switch (ch) {
		case '(':
			atom = re_add(re_cost(p, depth + 1), 1);
			if (**p == ')')
				(*p)++;
			break;
		case '[': /* "[]x]", "[^]x]", "[[:alpha:]]" */
			if (**p == '^')
				(*p)++;
			if (**p == ']')
				(*p)++;
			while (**p && **p != ']') {
				if (**p == '[' && ((*p)[1] == ':' || (*p)[1] == '.' ||
				    (*p)[1] == '=')) {
					char close = (*p)[1];

					*p += 2;
					while (**p && !(**p == close && (*p)[1] == ']'))
						(*p)++;
					if (**p)
						*p += 2;
					continue;
				}
				(*p)++;
			}
			if (**p)
				(*p)++;
			break;
		case '\\':
			if (**p)
				(*p)++;
			break;
		case '|':
			total = re_add(total, last);
			last = 0;
			stacked = 0;
			continue;
		case '+':
			last = re_mul(last, 2);
			continue;
		case '*':
		case '?':
			continue;
		case '{':
			while (**p >= '0' && **p <= '9')
				m = re_add(re_mul(m, 10), (size_t)(*(*p)++ - '0'));
			n = m;
			if (**p == ',') {
				(*p)++;
				n = 0;
				while (**p >= '0' && **p <= '9')
					n = re_add(re_mul(n, 10), (size_t)(*(*p)++ - '0'));
				if (n < m)
					n = m;
			}
			if (**p == '}')
				(*p)++;
			last = re_mul(last, n + 1);
			continue;
		}
		total = re_add(total, last);
		last = atom;
		stacked = 0;
	}
	return re_add(total, last);
}

int
constraint_init(struct constraint *c, const char *field, const char *op,
    const char *value, char *err, size_t errlen)
{
	int kind = constraint_op_parse(op);

	memset(c, 0, sizeof(*c));
	if (field == NULL || field[0] == '\0') {
		snprintf(err, errlen, "missing field for constraint declaration");
		return -1;
	}
	if (kind < 0) {
		snprintf(err, errlen, "operator must be one of the following "
		    "UNIQUE, CLUSTER, GROUP_BY, LIKE, MAX_PER, UNLIKE or IS");
		return -1;
	}
	c->op = (enum constraint_op)kind;
	switch (c->op) {
	case CONSTRAINT_UNIQUE:
		if (value != NULL) {
			snprintf(err, errlen, "UNIQUE does not accept a value");
			return -1;
		}
		break;
	case CONSTRAINT_CLUSTER:
		if (value != NULL && value[0] == '\0') {
			snprintf(err, errlen, "CLUSTER requires a non-empty value");
			return -1;
		}
		break;
	case CONSTRAINT_GROUP_BY:
		if (value != NULL && parse_count(value, &c->n) == -1) {
			snprintf(err, errlen, "GROUP BY must define an integer value "
			    "or else no value at all");
			return -1;
		}
		break;
	case CONSTRAINT_MAX_PER:
		if (value == NULL || parse_count(value, &c->n) == -1) {
			snprintf(err, errlen, "MAX_PER requires an integer value");
			return -1;
		}
		break;
	case CONSTRAINT_LIKE:
	case CONSTRAINT_UNLIKE: {
		size_t cost = 0;
		int rc;

		if (value == NULL || value[0] == '\0') {
			snprintf(err, errlen, "LIKE and UNLIKE require a non-empty, "
			    "regular expression value");
			return -1;
		}
		/* compiled as given, not wrapped in "^(...)$": a ')' in the
		 * value (a literal in POSIX EREs when unmatched) would close
		 * the wrapper and change what matches; full_match anchors */
		for (const char *p = value; *p && cost <= RE_MAX_COST; ) {
			cost = re_add(cost, re_cost(&p, 0));
			if (*p == ')') /* unmatched: a literal */
				p++;
		}
		if (cost > RE_MAX_COST) {
			snprintf(err, errlen, "is a regular expression too large "
			    "to compile (its repetitions multiply)");
			return -1;
		}
		rc = regcomp(&c->re, value, REG_EXTENDED);
		if (rc != 0) {
			snprintf(err, errlen, "is not a valid regular expression");
			return -1;
		}
		c->has_re = true;
		break;
	}
	case CONSTRAINT_IS:
		if (value == NULL || !literal_ok(value)) {
			snprintf(err, errlen, "IS only supports Mesos text and float "
			    "values (see http://mesos.apache.org/documentation/latest/"
			    "attributes-resources/)");
			return -1;
		}
		break;
	}
	c->field = xstrdup(field);
	c->value = value ? xstrdup(value) : NULL;
	return 0;
}

void
constraint_free(struct constraint *c)
{
	if (c == NULL)
		return;
	if (c->has_re)
		regfree(&c->re);
	free(c->field);
	free(c->value);
	memset(c, 0, sizeof(*c));
}

const char *
constraint_agent_value(const struct constraint *c,
    const struct constraint_agent *a)
{
	if (strcmp(c->field, "hostname") == 0 ||
	    strcmp(c->field, "@hostname") == 0)
		return a->hostname;
	if (strcmp(c->field, "@region") == 0)
		return a->region;
	if (strcmp(c->field, "@zone") == 0)
		return a->zone;
	for (size_t i = 0; i < a->nattrs; i++)
		if (strcmp(a->attrs[i].name, c->field) == 0)
			return a->attrs[i].value;
	return NULL;
}

/* The whole value matches, as Java's String.matches (Marathon) asks: the
 * leftmost-longest match POSIX regexec reports starts at 0 and reaches the
 * end exactly when some match spans the whole value. */
static bool
full_match(const regex_t *re, const char *value)
{
	regmatch_t m;

	return regexec(re, value, 1, &m, 0) == 0 && m.rm_so == 0 &&
	    m.rm_eo == (regoff_t)strlen(value);
}

static size_t
count_equal(const char *value, const char *const *placed, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		if (placed[i] && strcmp(placed[i], value) == 0)
			k++;
	return k;
}

static bool
group_by_met(const struct constraint *c, const char *value,
    const char *const *placed, size_t n)
{
	size_t groups = 0, min = (size_t)-1, mine;

	mine = count_equal(value, placed, n);
	if (mine == 0)
		return true; /* a value not used yet */
	for (size_t i = 0; i < n; i++) {
		size_t k;
		size_t j;

		if (placed[i] == NULL)
			continue;
		for (j = 0; j < i; j++)
			if (placed[j] && strcmp(placed[j], placed[i]) == 0)
				break;
		if (j < i)
			continue; /* counted already */
		groups++;
		k = count_equal(placed[i], placed, n);
		if (k < min)
			min = k;
	}
	return groups >= (size_t)c->n && mine == min;
}

bool
constraint_met(const struct constraint *c, const char *value,
    const char *const *placed, size_t nplaced)
{
	if (value == NULL)
		return c->op == CONSTRAINT_UNLIKE;
	switch (c->op) {
	case CONSTRAINT_UNIQUE:
		return count_equal(value, placed, nplaced) == 0;
	case CONSTRAINT_CLUSTER:
		if (c->value)
			return strcmp(value, c->value) == 0;
		for (size_t i = 0; i < nplaced; i++)
			if (placed[i])
				return strcmp(placed[i], value) == 0;
		return true;
	case CONSTRAINT_GROUP_BY:
		return group_by_met(c, value, placed, nplaced);
	case CONSTRAINT_LIKE:
		return full_match(&c->re, value);
	case CONSTRAINT_UNLIKE:
		return !full_match(&c->re, value);
	case CONSTRAINT_MAX_PER:
		return count_equal(value, placed, nplaced) < (size_t)c->n;
	case CONSTRAINT_IS:
		return strcmp(value, c->value) == 0;
	}
	return false;
}

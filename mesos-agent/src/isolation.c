/*
 * isolation: decides at start what the host lets us enforce and reports it
 * (in /state "flags": isolation, cgroups_version, ...):
 *   cgroups/mem, cgroups/cpu   memory limit and cpu shares (v1 or v2)
 *   namespaces/pid             each task is pid 1 of its own namespace
 *   posix/rlimits              fallback: RLIMIT_DATA from the task's mem
 * --isolation=auto takes what works; an explicit list must all work.
 * Probing forks once, before any nng socket exists.
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dcos/log.h"

#include "agent.h"

static int
probe_child(void *arg)
{
	return getpid() == 1 ? 0 : 1;
}

/* Can we start a process in a new pid namespace? */
static bool
pid_ns_works(char *why, size_t size)
{
	/* static: nothing for the child to leak */
	static char stack[64 * 1024] __attribute__((aligned(16)));
	pid_t pid;
	int st = 0;

	pid = clone(probe_child, stack + sizeof(stack), CLONE_NEWPID | SIGCHLD,
	    NULL);
	if (pid == -1) {
		snprintf(why, size, "no pid namespaces (%s)", strerror(errno));
		return false;
	}
	while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
		;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		snprintf(why, size, "pid namespace probe failed");
		return false;
	}
	return true;
}

static bool
listed(const char *list, const char *item)
{
	size_t n = strlen(item);

	for (const char *p = list; *p;) {
		size_t l = strcspn(p, ",");

		if (l == n && strncmp(p, item, n) == 0)
			return true;
		p += l;
		if (*p == ',')
			p++;
	}
	return false;
}

int
isolation_setup(struct agent *a, char *err, size_t errlen)
{
	const char *want = a->f.isolation;
	bool autom = strcmp(want, "auto") == 0;
	bool want_cg = autom || listed(want, "cgroups/mem") ||
	    listed(want, "cgroups/cpu");
	bool want_pid = autom || listed(want, "namespaces/pid");
	char why[256] = "", notes[512] = "";
	static const char *const known[] = { "cgroups/mem", "cgroups/cpu",
		"namespaces/pid", "posix/rlimits", "posix/cpu", "posix/mem",
		"filesystem/posix" };

	if (!autom) {
		for (const char *p = want; *p;) {
			size_t l = strcspn(p, ",");
			bool ok = false;

			for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
				if (strlen(known[i]) == l &&
				    strncmp(p, known[i], l) == 0)
					ok = true;
			if (!ok) {
				snprintf(err, errlen, "--isolation: unknown isolator "
				    "'%.*s'", (int)l, p);
				return -1;
			}
			p += l;
			if (*p == ',')
				p++;
		}
	}
	a->iso.isolation[0] = '\0';
	if (want_cg) {
		if (geteuid() != 0) {
			snprintf(why, sizeof(why), "cgroups need root");
		} else if (cg_setup(&a->iso.cg, a->f.cgroups_root, why,
		    sizeof(why)) == 0) {
			snprintf(a->iso.isolation, sizeof(a->iso.isolation),
			    "cgroups/cpu,cgroups/mem");
		}
		if (a->iso.cg.version == CG_NONE) {
			if (!autom) {
				snprintf(err, errlen, "--isolation: cgroups "
				    "unavailable: %s", why);
				return -1;
			}
			snprintf(notes, sizeof(notes), "cgroups: %s; ", why);
		}
	}
	if (want_pid) {
		if (geteuid() == 0 && pid_ns_works(why, sizeof(why))) {
			a->iso.pid_ns = true;
			snprintf(a->iso.isolation + strlen(a->iso.isolation),
			    sizeof(a->iso.isolation) - strlen(a->iso.isolation),
			    "%snamespaces/pid", a->iso.isolation[0] ? "," : "");
		} else {
			if (geteuid() != 0)
				snprintf(why, sizeof(why), "pid namespaces need root");
			if (!autom) {
				snprintf(err, errlen, "--isolation: %s", why);
				return -1;
			}
			snprintf(notes + strlen(notes), sizeof(notes) - strlen(notes),
			    "namespaces/pid: %s; ", why);
		}
	}
	if ((autom && a->iso.cg.version == CG_NONE) ||
	    (!autom && listed(want, "posix/rlimits"))) {
		a->iso.rlimits = true;
		snprintf(a->iso.isolation + strlen(a->iso.isolation),
		    sizeof(a->iso.isolation) - strlen(a->iso.isolation),
		    "%sposix/rlimits", a->iso.isolation[0] ? "," : "");
	}
	if (a->iso.isolation[0] == '\0')
		snprintf(a->iso.isolation, sizeof(a->iso.isolation),
		    "posix/cpu,posix/mem");
	snprintf(a->iso.notes, sizeof(a->iso.notes), "%s", notes);
	log_info("isolation: %s%s%s", a->iso.isolation, notes[0] ? " (" : "",
	    notes[0] ? notes : "");
	if (notes[0])
		a->iso.notes[strlen(a->iso.notes) - 2] = '\0';
	if (a->iso.cg.version != CG_NONE)
		log_info("cgroups v%d: memory in %s, cpu in %s", a->iso.cg.version,
		    a->iso.cg.mem, a->iso.cg.cpu);
	return 0;
}

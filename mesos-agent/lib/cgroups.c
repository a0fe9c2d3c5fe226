/*
 * cgroups: memory and cpu limits for containers, on cgroup v2 (the unified
 * hierarchy) or v1 (one hierarchy per controller), whichever the host
 * mounts with the controllers enabled.
 *
 * Container cgroups live below the agent's own cgroup, in a base directory
 * named by --cgroups_root ("mesos"), so an agent running inside a service
 * or a container only ever touches its own subtree:
 *   v1: <memory mount><own memory cgroup>/mesos/<container id>, and the same
 *       for cpu and cpuacct;
 *   v2: <mount><own cgroup>/mesos/<container id>, with the memory and cpu
 *       controllers delegated down (the agent moves itself into a leaf
 *       "<own>/agent" when its cgroup must stay free of processes).
 * OOM kills are counted by the kernel (memory.oom_control / memory.events),
 * which is how the executor tells a memory limitation from any other kill.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dcos/daemon.h"
#include "mesos_common.h"

static int
write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd == -1)
		return -1;
	n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

static int
join(char *buf, size_t size, const char *a, const char *b)
{
	int n = snprintf(buf, size, "%s/%s", a, b);

	return n < 0 || (size_t)n >= size ? -1 : 0;
}

/* Does the comma-separated list contain word? */
static bool
has_word(const char *list, const char *word)
{
	size_t wl = strlen(word);

	for (const char *p = list; p && *p;) {
		size_t n = strcspn(p, ",");

		if (n == wl && strncmp(p, word, wl) == 0)
			return true;
		p += n;
		if (*p == ',')
			p++;
	}
	return false;
}

int
cg_find_mount(const char *mountinfo, const char *ctl, char *mnt,
    size_t mntsize, char *mroot, size_t mrootsize)
{
	const char *line = mountinfo;

	while (line && *line) {
		const char *eol = strchr(line, '\n');
		size_t len = eol ? (size_t)(eol - line) : strlen(line);
		char buf[4096], *f[24], *save = NULL;
		int nf = 0;

		if (len < sizeof(buf)) {
			memcpy(buf, line, len);
			buf[len] = '\0';
			for (char *t = strtok_r(buf, " ", &save); t && nf < 24;
			    t = strtok_r(NULL, " ", &save))
				f[nf++] = t;
			/* id parent dev root mountpoint opts [optional...] -
			 * type source superopts */
			for (int i = 6; i + 3 < nf; i++) {
				if (strcmp(f[i], "-") != 0)
					continue;
				if (ctl[0] == '\0' ? strcmp(f[i + 1], "cgroup2") == 0 :
				    strcmp(f[i + 1], "cgroup") == 0 &&
				    has_word(f[i + 3], ctl)) {
					snprintf(mnt, mntsize, "%s", f[4]);
					snprintf(mroot, mrootsize, "%s", f[3]);
					return 0;
				}
				break;
			}
		}
		line = eol ? eol + 1 : NULL;
	}
	return -1;
}

int
cg_find_own(const char *proc_cgroup, const char *ctl, char *path, size_t size)
{
	const char *line = proc_cgroup;

	while (line && *line) {
		const char *eol = strchr(line, '\n');
		size_t len = eol ? (size_t)(eol - line) : strlen(line);
		char buf[4096];
		char *c1, *c2;

		if (len < sizeof(buf)) {
			memcpy(buf, line, len);
			buf[len] = '\0';
			/* "hierarchy-id:controller-list:path" */
			if ((c1 = strchr(buf, ':')) != NULL &&
			    (c2 = strchr(c1 + 1, ':')) != NULL) {
				*c2 = '\0';
				if ((ctl[0] == '\0' && strcmp(buf, "0:") == 0) ||
				    (ctl[0] != '\0' && has_word(c1 + 1, ctl))) {
					snprintf(path, size, "%s", c2 + 1);
					return 0;
				}
			}
		}
		line = eol ? eol + 1 : NULL;
	}
	return -1;
}

/* <mount> + (own path relative to the mount's root) + "/" + root */
static int
base_dir(char *out, size_t size, const char *mnt, const char *mroot,
    const char *own, const char *root)
{
	const char *rel = own;
	size_t rl = strlen(mroot);
	int n;

	if (strcmp(mroot, "/") != 0 && strncmp(own, mroot, rl) == 0)
		rel = own + rl;
	if (strcmp(rel, "/") == 0)
		rel = "";
	n = snprintf(out, size, "%s%s/%s", mnt, rel, root);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

static int
setup_v1(struct cg_config *cfg, const char *mi, const char *pc,
    const char *root, char *err, size_t errlen)
{
	static const char *const ctls[] = { "memory", "cpu", "cpuacct" };
	char *dirs[] = { cfg->mem, cfg->cpu, cfg->cpuacct };

	for (int i = 0; i < 3; i++) {
		char mnt[PATH_MAX], mroot[PATH_MAX], own[PATH_MAX];

		if (cg_find_mount(mi, ctls[i], mnt, sizeof(mnt), mroot,
		    sizeof(mroot)) == -1 || cg_find_own(pc, ctls[i], own,
		    sizeof(own)) == -1) {
			if (i < 2) {
				snprintf(err, errlen, "cgroup v1 %s controller "
				    "not mounted", ctls[i]);
				return -1;
			}
			continue;
		}
		if (base_dir(dirs[i], PATH_MAX, mnt, mroot, own, root) == -1 ||
		    daemon_mkdirs(dirs[i], 0755, err, errlen) == -1) {
			if (i < 2)
				return -1;
			dirs[i][0] = '\0';
		}
	}
	cfg->version = CG_V1;
	return 0;
}

static int
setup_v2(struct cg_config *cfg, const char *mi, const char *pc,
    const char *root, char *err, size_t errlen)
{
	char mnt[PATH_MAX], mroot[PATH_MAX], own[PATH_MAX], owndir[PATH_MAX],
	    file[PATH_MAX + 32];
	char *ctls;

	if (cg_find_mount(mi, "", mnt, sizeof(mnt), mroot, sizeof(mroot)) == -1 ||
	    cg_find_own(pc, "", own, sizeof(own)) == -1) {
		snprintf(err, errlen, "no cgroup2 mount");
		return -1;
	}
	if (base_dir(owndir, sizeof(owndir), mnt, mroot, own, "") == -1)
		return -1;
	owndir[strlen(owndir) - 1] = '\0'; /* drop the trailing '/' */
	snprintf(file, sizeof(file), "%s/cgroup.controllers", owndir);
	ctls = fs_read_text(file, NULL);
	if (ctls == NULL || strstr(ctls, "memory") == NULL ||
	    strstr(ctls, "cpu") == NULL) {
		snprintf(err, errlen, "cgroup2: memory and cpu controllers are not "
		    "available in %s", owndir);
		free(ctls);
		return -1;
	}
	free(ctls);
	snprintf(file, sizeof(file), "%s/cgroup.subtree_control", owndir);
	if (write_file(file, "+memory +cpu") == -1 && errno == EBUSY) {
		/* our cgroup holds processes: move ourselves into a leaf */
		char leaf[PATH_MAX + 8], procs[PATH_MAX + 32];

		snprintf(leaf, sizeof(leaf), "%s/agent", owndir);
		snprintf(procs, sizeof(procs), "%s/cgroup.procs", leaf);
		if ((mkdir(leaf, 0755) == -1 && errno != EEXIST) ||
		    write_file(procs, "0") == -1 || write_file(file,
		    "+memory +cpu") == -1) {
			snprintf(err, errlen, "cgroup2: cannot delegate memory and "
			    "cpu below %s: %s", owndir, strerror(errno));
			return -1;
		}
	}
	if (join(cfg->mem, sizeof(cfg->mem), owndir, root) == -1 ||
	    daemon_mkdirs(cfg->mem, 0755, err, errlen) == -1)
		return -1;
	snprintf(file, sizeof(file), "%s/cgroup.subtree_control", cfg->mem);
	if (write_file(file, "+memory +cpu") == -1) {
		snprintf(err, errlen, "cgroup2: cannot enable memory and cpu in "
		    "%s: %s", cfg->mem, strerror(errno));
		return -1;
	}
	snprintf(cfg->cpu, sizeof(cfg->cpu), "%s", cfg->mem);
	cfg->cpuacct[0] = '\0';
	cfg->version = CG_V2;
	return 0;
}

int
cg_setup(struct cg_config *cfg, const char *root, char *err, size_t errlen)
{
	char *mi = fs_read_text("/proc/self/mountinfo", NULL);
	char *pc = fs_read_text("/proc/self/cgroup", NULL);
	char mnt[PATH_MAX], mroot[PATH_MAX];
	int rc = -1;

	memset(cfg, 0, sizeof(*cfg));
	if (mi == NULL || pc == NULL) {
		snprintf(err, errlen, "cannot read /proc/self/mountinfo or cgroup");
		goto out;
	}
	/* v1 wins when the memory controller is mounted as v1 (hybrid hosts
	 * keep an empty unified hierarchy next to the v1 ones) */
	if (cg_find_mount(mi, "memory", mnt, sizeof(mnt), mroot,
	    sizeof(mroot)) == 0)
		rc = setup_v1(cfg, mi, pc, root, err, errlen);
	else
		rc = setup_v2(cfg, mi, pc, root, err, errlen);
out:
	if (rc == -1)
		memset(cfg, 0, sizeof(*cfg));
	free(mi);
	free(pc);
	return rc;
}

static int
dir_of(char *buf, size_t size, const char *base, const char *cid)
{
	return base[0] == '\0' ? -1 : join(buf, size, base, cid);
}

int
cg_create(const struct cg_config *c, const char *cid, double cpus,
    double mem_mb, bool cfs, char *err, size_t errlen)
{
	char d[PATH_MAX], f[PATH_MAX + 64], v[64];
	uint64_t bytes = (uint64_t)(mem_mb * 1024 * 1024);
	unsigned long shares = (unsigned long)(cpus * 1024);

	if (shares < 2)
		shares = 2;
	if (c->version == CG_NONE)
		return 0;
	/* memory */
	if (dir_of(d, sizeof(d), c->mem, cid) == 0) {
		if (mkdir(d, 0755) == -1 && errno != EEXIST)
			goto fail;
		if (mem_mb > 0) {
			snprintf(v, sizeof(v), "%llu", (unsigned long long)bytes);
			if (c->version == CG_V1) {
				join(f, sizeof(f), d, "memory.limit_in_bytes");
				if (write_file(f, v) == -1)
					goto fail;
				join(f, sizeof(f), d, "memory.memsw.limit_in_bytes");
				write_file(f, v); /* absent without swap accounting */
				join(f, sizeof(f), d, "memory.soft_limit_in_bytes");
				write_file(f, v);
			} else {
				join(f, sizeof(f), d, "memory.max");
				if (write_file(f, v) == -1)
					goto fail;
				join(f, sizeof(f), d, "memory.swap.max");
				write_file(f, "0");
			}
		}
	}
	/* cpu */
	if (c->version == CG_V1 && dir_of(d, sizeof(d), c->cpu, cid) == 0) {
		if (mkdir(d, 0755) == -1 && errno != EEXIST)
			goto fail;
		snprintf(v, sizeof(v), "%lu", shares);
		join(f, sizeof(f), d, "cpu.shares");
		if (write_file(f, v) == -1)
			goto fail;
		if (cfs && cpus > 0) {
			join(f, sizeof(f), d, "cpu.cfs_period_us");
			write_file(f, "100000");
			snprintf(v, sizeof(v), "%ld", (long)(cpus * 100000));
			join(f, sizeof(f), d, "cpu.cfs_quota_us");
			write_file(f, v);
		}
	} else if (c->version == CG_V2) {
		/* the weight that matches v1 shares (as runc converts them) */
		unsigned long w = 1 + ((shares - 2) * 9999) / 262142;

		dir_of(d, sizeof(d), c->cpu, cid);
		snprintf(v, sizeof(v), "%lu", w);
		join(f, sizeof(f), d, "cpu.weight");
		write_file(f, v);
		if (cfs && cpus > 0) {
			snprintf(v, sizeof(v), "%ld 100000", (long)(cpus * 100000));
			join(f, sizeof(f), d, "cpu.max");
			write_file(f, v);
		}
	}
	if (c->version == CG_V1 && dir_of(d, sizeof(d), c->cpuacct, cid) == 0 &&
	    strcmp(c->cpuacct, c->cpu) != 0 && mkdir(d, 0755) == -1 &&
	    errno != EEXIST)
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "cannot set up cgroup %s: %s", d, strerror(errno));
	return -1;
}

int
cg_procs_files(const struct cg_config *c, const char *cid,
    char files[][PATH_MAX], int max)
{
	const char *bases[3] = { c->mem, c->cpu, c->cpuacct };
	int n = 0, nb = c->version == CG_V2 ? 1 : 3;

	if (c->version == CG_NONE)
		return 0;
	for (int i = 0; i < nb && n < max; i++) {
		char d[PATH_MAX];
		bool dup = false;

		if (bases[i][0] == '\0')
			continue;
		for (int j = 0; j < i; j++)
			if (strcmp(bases[i], bases[j]) == 0)
				dup = true;
		if (dup || dir_of(d, sizeof(d), bases[i], cid) == -1 ||
		    snprintf(files[n], PATH_MAX, "%s/cgroup.procs", d) >= PATH_MAX)
			continue;
		n++;
	}
	return n;
}

/* The value after "key " in a "key value" lines file; -1 when absent. */
static long long
keyed_value(const char *path, const char *key)
{
	char *text = fs_read_text(path, NULL);
	size_t kl = strlen(key);
	long long v = -1;

	for (char *l = text; l && *l;) {
		if (strncmp(l, key, kl) == 0 && l[kl] == ' ') {
			v = strtoll(l + kl + 1, NULL, 10);
			break;
		}
		l = strchr(l, '\n');
		if (l)
			l++;
	}
	free(text);
	return v;
}

static long long
single_value(const char *path)
{
	char *text = fs_read_text(path, NULL);
	long long v = -1;

	if (text) {
		v = strncmp(text, "max", 3) == 0 ? -1 : strtoll(text, NULL, 10);
		free(text);
	}
	return v;
}

long
cg_oom_kills(const struct cg_config *c, const char *cid)
{
	char d[PATH_MAX], f[PATH_MAX + 32];

	if (c->version == CG_NONE || dir_of(d, sizeof(d), c->mem, cid) == -1)
		return -1;
	if (c->version == CG_V1) {
		long long v;

		join(f, sizeof(f), d, "memory.oom_control");
		v = keyed_value(f, "oom_kill");
		if (v >= 0)
			return (long)v;
		/* older kernels: a failed charge at the limit */
		join(f, sizeof(f), d, "memory.failcnt");
		return single_value(f) > 0 ? 1 : 0;
	}
	join(f, sizeof(f), d, "memory.events");
	return (long)keyed_value(f, "oom_kill");
}

int
cg_oom_eventfd(const struct cg_config *c, const char *cid)
{
	char d[PATH_MAX], f[PATH_MAX + 32], line[64];
	int efd, ofd;

	if (c->version != CG_V1 || dir_of(d, sizeof(d), c->mem, cid) == -1)
		return -1;
	join(f, sizeof(f), d, "memory.oom_control");
	if ((ofd = open(f, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	if ((efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1) {
		close(ofd);
		return -1;
	}
	snprintf(line, sizeof(line), "%d %d", efd, ofd);
	join(f, sizeof(f), d, "cgroup.event_control");
	if (write_file(f, line) == -1) {
		close(efd);
		efd = -1;
	}
	close(ofd);
	return efd;
}

int
cg_kill_all(const struct cg_config *c, const char *cid, int sig)
{
	char files[3][PATH_MAX];
	int n = cg_procs_files(c, cid, files, 3), killed = 0;

	for (int i = 0; i < n; i++) {
		char *text = fs_read_text(files[i], NULL);

		for (char *l = text; l && *l;) {
			pid_t pid = (pid_t)strtol(l, NULL, 10);

			if (pid > 0 && kill(pid, sig) == 0)
				killed++;
			l = strchr(l, '\n');
			if (l)
				l++;
		}
		free(text);
		if (killed)
			break; /* the other hierarchies hold the same processes */
	}
	return killed;
}

int
cg_destroy(const struct cg_config *c, const char *cid)
{
	const char *bases[3] = { c->mem, c->cpu, c->cpuacct };
	int rc = 0;

	if (c->version == CG_NONE)
		return 0;
	for (int tries = 0; tries < 50 && cg_kill_all(c, cid, SIGKILL) > 0;
	    tries++)
		usleep(10000);
	for (int i = 0; i < 3; i++) {
		char d[PATH_MAX];
		bool dup = false;

		for (int j = 0; j < i; j++)
			if (strcmp(bases[i], bases[j]) == 0)
				dup = true;
		if (dup || dir_of(d, sizeof(d), bases[i], cid) == -1)
			continue;
		for (int tries = 0; rmdir(d) == -1 && errno == EBUSY; tries++) {
			if (tries == 50) {
				rc = -1;
				break;
			}
			usleep(10000);
		}
	}
	return rc;
}

int
cg_stats(const struct cg_config *c, const char *cid, struct cg_stats *s)
{
	char d[PATH_MAX], f[PATH_MAX + 32];
	long long v;

	memset(s, 0, sizeof(*s));
	if (c->version == CG_NONE || dir_of(d, sizeof(d), c->mem, cid) == -1)
		return -1;
	if (c->version == CG_V1) {
		long hz = sysconf(_SC_CLK_TCK);

		join(f, sizeof(f), d, "memory.limit_in_bytes");
		s->mem_limit = (uint64_t)single_value(f);
		join(f, sizeof(f), d, "memory.usage_in_bytes");
		s->mem_usage = (uint64_t)single_value(f);
		join(f, sizeof(f), d, "memory.max_usage_in_bytes");
		s->mem_max_usage = (uint64_t)single_value(f);
		join(f, sizeof(f), d, "memory.stat");
		s->mem_rss = (uint64_t)keyed_value(f, "total_rss");
		s->mem_cache = (uint64_t)keyed_value(f, "total_cache");
		s->mem_mapped_file = (uint64_t)keyed_value(f, "total_mapped_file");
		s->mem_anon = s->mem_rss;
		s->mem_file = s->mem_cache;
		if (c->cpuacct[0] && dir_of(d, sizeof(d), c->cpuacct, cid) == 0) {
			join(f, sizeof(f), d, "cpuacct.stat");
			if ((v = keyed_value(f, "user")) >= 0)
				s->cpus_user_secs = (double)v / (double)hz;
			if ((v = keyed_value(f, "system")) >= 0)
				s->cpus_system_secs = (double)v / (double)hz;
		}
		if (dir_of(d, sizeof(d), c->cpu, cid) == 0) {
			join(f, sizeof(f), d, "cpu.stat");
			s->cpus_nr_periods = (uint64_t)(keyed_value(f, "nr_periods") > 0 ?
			    keyed_value(f, "nr_periods") : 0);
			s->cpus_nr_throttled = (uint64_t)(keyed_value(f,
			    "nr_throttled") > 0 ? keyed_value(f, "nr_throttled") : 0);
			v = keyed_value(f, "throttled_time");
			s->cpus_throttled_secs = v > 0 ? (double)v / 1e9 : 0;
		}
		return 0;
	}
	join(f, sizeof(f), d, "memory.max");
	v = single_value(f);
	s->mem_limit = v > 0 ? (uint64_t)v : 0;
	join(f, sizeof(f), d, "memory.current");
	s->mem_usage = (uint64_t)single_value(f);
	join(f, sizeof(f), d, "memory.peak");
	v = single_value(f);
	s->mem_max_usage = v > 0 ? (uint64_t)v : s->mem_usage;
	join(f, sizeof(f), d, "memory.stat");
	s->mem_anon = (uint64_t)keyed_value(f, "anon");
	s->mem_file = (uint64_t)keyed_value(f, "file");
	s->mem_rss = s->mem_anon;
	s->mem_cache = s->mem_file;
	s->mem_mapped_file = (uint64_t)keyed_value(f, "file_mapped");
	join(f, sizeof(f), d, "cpu.stat");
	if ((v = keyed_value(f, "user_usec")) >= 0)
		s->cpus_user_secs = (double)v / 1e6;
	if ((v = keyed_value(f, "system_usec")) >= 0)
		s->cpus_system_secs = (double)v / 1e6;
	if ((v = keyed_value(f, "nr_periods")) > 0)
		s->cpus_nr_periods = (uint64_t)v;
	if ((v = keyed_value(f, "nr_throttled")) > 0)
		s->cpus_nr_throttled = (uint64_t)v;
	if ((v = keyed_value(f, "throttled_usec")) > 0)
		s->cpus_throttled_secs = (double)v / 1e6;
	return 0;
}

/* A container id: 36 characters of hex and dashes. */
static bool
looks_like_container(const char *name)
{
	if (strlen(name) != 36)
		return false;
	for (const char *p = name; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') ||
		    *p == '-'))
			return false;
	return true;
}

int
cg_prune(const struct cg_config *c, double max_age)
{
	const char *bases[3] = { c->mem, c->cpu, c->cpuacct };
	time_t now = time(NULL);
	int removed = 0;

	if (c->version == CG_NONE)
		return 0;
	for (int i = 0; i < 3; i++) {
		DIR *d;
		struct dirent *de;

		if (bases[i][0] == '\0' || (i > 0 && strcmp(bases[i],
		    bases[i - 1]) == 0) || (d = opendir(bases[i])) == NULL)
			continue;
		while ((de = readdir(d)) != NULL) {
			char dir[PATH_MAX], procs[PATH_MAX + 16];
			struct stat st;
			char *text;
			bool empty;

			if (!looks_like_container(de->d_name) ||
			    join(dir, sizeof(dir), bases[i], de->d_name) == -1 ||
			    stat(dir, &st) == -1 || !S_ISDIR(st.st_mode) ||
			    difftime(now, st.st_mtime) < max_age)
				continue;
			snprintf(procs, sizeof(procs), "%s/cgroup.procs", dir);
			text = fs_read_text(procs, NULL);
			empty = text != NULL && text[0] == '\0';
			free(text);
			if (empty && rmdir(dir) == 0)
				removed++;
		}
		closedir(d);
	}
	return removed;
}

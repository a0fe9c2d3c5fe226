/*
 * fetch: a task's URIs are fetched by mesos-fetcher (libcurl, libarchive),
 * a process of its own started here, so the executor itself stays small
 * and its loop never blocks on a download. Its logs land in the task's
 * stderr; its reason for failing comes back on a pipe; its end is seen by
 * the executor's SIGCHLD handler (tasks_reap -> fetch_reaped).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dcos/json.h"
#include "dcos/log.h"

#include "executor.h"

struct fetch {
	struct fetch *next;
	struct executor *e;
	struct etask *t;
	pid_t pid;
	int err_fd;
	fetch_done_fn done;
};

static struct fetch *running; /* the executor's fetches (a handful) */

struct fetch *
fetch_start(struct executor *e, struct etask *t, const json_t *uris,
    const char *user, fetch_done_fn done)
{
	char *const argv[] = { (char *)"mesos-fetcher", NULL };
	json_t *info = json_pack("{s:O, s:s, s:s?}", "uris", uris, "sandbox",
	    t->sandbox, "user", user && strcmp(user, "root") ? user : NULL);
	char *text = json_compact(info), err[512], out[PATH_MAX];
	struct fetch *f = calloc(1, sizeof(*f));
	int fd;

	json_decref(info);
	if (f == NULL)
		abort();
	f->e = e;
	f->t = t;
	f->done = done;
	/* its log goes to the task's stderr, as Mesos' fetcher's does */
	snprintf(out, sizeof(out), "%s/stderr", t->sandbox);
	if ((fd = open(out, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)) >= 0) {
		int saved = dup(2);

		dup2(fd, 2);
		f->pid = spawn_helper(e, e->f.fetcher, argv, text, false,
		    &f->err_fd, err, sizeof(err));
		dup2(saved, 2);
		close(saved);
		close(fd);
	} else {
		f->pid = spawn_helper(e, e->f.fetcher, argv, text, false,
		    &f->err_fd, err, sizeof(err));
	}
	free(text);
	if (f->pid <= 0) {
		free(f);
		done(t, err);
		return NULL;
	}
	f->next = running;
	running = f;
	log_info("fetching %zu URI(s) for task %s (mesos-fetcher pid %d)",
	    json_array_size(uris), t->id, (int)f->pid);
	return f;
}

static void
unlink_fetch(struct fetch *f)
{
	for (struct fetch **p = &running; *p; p = &(*p)->next)
		if (*p == f) {
			*p = f->next;
			return;
		}
}

bool
fetch_reaped(struct executor *e, pid_t pid, int wstatus)
{
	struct fetch *f;
	char msg[1024] = "";
	ssize_t n;

	for (f = running; f && f->pid != pid; f = f->next)
		;
	if (f == NULL)
		return false;
	unlink_fetch(f);
	n = read(f->err_fd, msg, sizeof(msg) - 1);
	msg[n > 0 ? n : 0] = '\0';
	close(f->err_fd);
	f->t->fetch = NULL;
	if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0)
		f->done(f->t, NULL);
	else {
		if (msg[0] == '\0')
			status_describe_wait(wstatus, msg, sizeof(msg));
		f->done(f->t, msg);
	}
	free(f);
	return true;
}

void
fetch_cancel(struct fetch *f)
{
	if (f == NULL)
		return;
	unlink_fetch(f);
	kill(f->pid, SIGKILL);
	waitpid(f->pid, NULL, 0);
	close(f->err_fd);
	f->t->fetch = NULL;
	free(f);
}

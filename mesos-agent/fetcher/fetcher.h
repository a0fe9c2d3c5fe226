/*
 * mesos-fetcher: downloads a task's URIs into its sandbox before the task
 * starts, as Mesos' fetcher does. Run by mesos-executor with the fetch
 * info on fd 3:
 *   {"uris": [CommandInfo.URI...], "sandbox": "/path", "user": "name"|null}
 * Logs go to stderr (the task's sandbox stderr); on failure the reason is
 * written to fd 4 and the exit status is 1.
 *
 * Private header, grouped by file.
 */
#ifndef FETCHER_H
#define FETCHER_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

/* fetch.c */
/* Pure: the file name a URI lands under (output_file, else the last path
 * segment without query); 0 or -1. */
int fetch_basename(const char *uri, const char *output_file, char *out,
    size_t size);
/* Pure: is this file name an archive we extract? */
bool fetch_is_archive(const char *name);
int fetch_extract(const char *archive, const char *dir, char *err,
    size_t errlen);
/* Fetches one URI into sandbox (blocking). 0, or -1 with the reason. */
int fetch_uri(const json_t *uri, const char *sandbox, const char *user,
    char *err, size_t errlen);

#endif

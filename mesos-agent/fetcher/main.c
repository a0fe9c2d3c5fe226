/*
 * mesos-fetcher: reads the fetch info from fd 3, fetches every URI in
 * order, reports the first failure on fd 4.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "fetcher.h"

int
main(int argc, char **argv)
{
	json_error_t jerr;
	json_t *info, *uri;
	const char *sandbox, *user;
	char err[1024];
	size_t i;
	int rc = 0;

	if (argc > 1 && (strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "--version") == 0)) {
		printf("mesos-fetcher %s: fetches a task's URIs into its sandbox "
		    "(run by mesos-executor: fetch info on fd 3, errors on fd 4)\n",
		    DCOS_VERSION);
		return 0;
	}
	if ((info = json_loadfd(3, 0, &jerr)) == NULL) {
		snprintf(err, sizeof(err), "bad fetch info: %s", jerr.text);
		(void)!write(4, err, strlen(err));
		return 1;
	}
	close(3);
	sandbox = json_string_value(json_object_get(info, "sandbox"));
	user = json_string_value(json_object_get(info, "user"));
	if (sandbox == NULL) {
		snprintf(err, sizeof(err), "fetch info without a sandbox");
		(void)!write(4, err, strlen(err));
		json_decref(info);
		return 1;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	json_array_foreach(json_object_get(info, "uris"), i, uri)
		if (fetch_uri(uri, sandbox, user, err, sizeof(err)) == -1) {
			fprintf(stderr, "mesos-fetcher: %s\n", err);
			(void)!write(4, err, strlen(err));
			rc = 1;
			break;
		}
	curl_global_cleanup();
	json_decref(info);
	return rc;
}

/*
 * updates_log: replaying a task's status update log (task.updates, one
 * JSON record per line, see src/updates.c) into what is still waiting for
 * an acknowledgement. Pure, so the agent's recovery is unit tested.
 */
#include <stdio.h>
#include <string.h>

#include "dcos/json.h"
#include "mesos_common.h"

json_t *
updates_replay(const char *log, size_t len, json_t *seen, char *state,
    size_t size, json_t *all)
{
	json_t *pending = json_array();
	const char *p = log, *end = log + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		json_t *rec;
		const char *type;

		if (nl == NULL)
			break; /* a torn last line: the write never finished */
		rec = json_loadb(p, (size_t)(nl - p), 0, NULL);
		p = nl + 1;
		type = json_string_value(json_object_get(rec, "type"));
		if (type && strcmp(type, "UPDATE") == 0) {
			json_t *u = json_object_get(rec, "update");
			json_t *st = json_object_get(u, "status");
			const char *uuid = json_string_value(json_object_get(st,
			    "uuid"));

			if (uuid && !json_object_get(seen, uuid)) {
				json_object_set_new(seen, uuid, json_true());
				json_array_append(pending, u);
				if (all)
					json_array_append(all, st);
				snprintf(state, size, "%s", json_str_or(st, "state",
				    "TASK_STAGING"));
			}
		} else if (type && strcmp(type, "ACK") == 0) {
			const char *uuid = json_string_value(json_object_get(rec,
			    "uuid"));
			size_t i;
			json_t *u;

			json_array_foreach(pending, i, u)
				if (uuid && strcmp(uuid, json_str_or(json_object_get(u,
				    "status"), "uuid", "")) == 0) {
					json_array_remove(pending, i);
					break;
				}
		}
		json_decref(rec);
	}
	return pending;
}


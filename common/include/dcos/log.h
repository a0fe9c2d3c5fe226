/*
 * log: leveled lines for operators on stderr.
 *
 * A line is "<time> <LEVEL> <component>: <message> key=value ...". When stderr
 * is the journal (systemd sets JOURNAL_STREAM to stderr's device:inode) lines
 * start with the syslog "<N>" prefix instead of a time and level, so
 * `journalctl -u dcos-x -p warning` filters them. Callers write the message
 * first, then key=value fields, in one printf-style format.
 */
#ifndef DCOS_LOG_H
#define DCOS_LOG_H

#include <stdarg.h>

/* syslog priorities, so they map straight onto the journal's "<N>" prefix */
enum log_level {
	LOG_LVL_ERROR = 3,
	LOG_LVL_WARN = 4,
	LOG_LVL_NOTICE = 5,
	LOG_LVL_INFO = 6,
	LOG_LVL_DEBUG = 7,
};

/* component is copied; level is the most verbose level printed */
void log_init(const char *component, enum log_level level);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* "error", "warning"/"warn", "notice", "info", "debug"; -1 when unknown */
int log_level_parse(const char *name);
/* true when lines go to the journal with "<N>" prefixes */
int log_to_journal(void);

void log_msg(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void log_vmsg(enum log_level level, const char *fmt, va_list ap);

#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_LVL_NOTICE, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

/* Formats one line (without the trailing newline) into buf; used by log_msg
 * and by tests. journal selects the "<N>" form. Returns the length written. */
int log_format(char *buf, int size, int journal, const char *component,
    enum log_level level, double now, const char *fmt, va_list ap);

#endif

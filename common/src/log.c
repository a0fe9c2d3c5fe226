/*
 * log: leveled stderr lines, with journald priority prefixes when stderr is
 * the journal. One line is written with one write(2) so lines from several
 * processes sharing a terminal or file do not interleave.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dcos/log.h"

#define LOG_LINE_MAX 4096

static struct {
	char component[64];
	enum log_level level;
	int journal;
} logger = { "dcos", LOG_LVL_INFO, 0 };

/* systemd sets JOURNAL_STREAM=<dev>:<ino> of the stream it connected to
 * stdout/stderr; it applies only if stderr is still that stream. */
static int
stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (js == NULL || sscanf(js, "%llu:%llu", &dev, &ino) != 2)
		return 0;
	if (fstat(STDERR_FILENO, &st) == -1)
		return 0;
	return (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino;
}

void
log_init(const char *component, enum log_level level)
{
	snprintf(logger.component, sizeof(logger.component), "%s", component);
	logger.level = level;
	logger.journal = stderr_is_journal();
}

void
log_set_level(enum log_level level)
{
	logger.level = level;
}

enum log_level
log_get_level(void)
{
	return logger.level;
}

int
log_to_journal(void)
{
	return logger.journal;
}

int
log_level_parse(const char *name)
{
	static const struct {
		const char *name;
		enum log_level level;
	} names[] = {
		{ "error", LOG_LVL_ERROR }, { "warning", LOG_LVL_WARN },
		{ "warn", LOG_LVL_WARN }, { "notice", LOG_LVL_NOTICE },
		{ "info", LOG_LVL_INFO }, { "debug", LOG_LVL_DEBUG },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcasecmp(name, names[i].name) == 0)
			return names[i].level;
	return -1;
}

static const char *
level_name(enum log_level level)
{
	switch (level) {
	case LOG_LVL_ERROR: return "ERROR";
	case LOG_LVL_WARN: return "WARN";
	case LOG_LVL_NOTICE: return "NOTICE";
	case LOG_LVL_INFO: return "INFO";
	default: return "DEBUG";
	}
}

int
log_format(char *buf, int size, int journal, const char *component,
    enum log_level level, double now, const char *fmt, va_list ap)
{
	int n, m;

	if (journal) {
		n = snprintf(buf, size, "<%d>%s: ", (int)level, component);
	} else {
		time_t secs = (time_t)now;
		struct tm tm;
		char ts[32];

		gmtime_r(&secs, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
		n = snprintf(buf, size, "%s.%03dZ %s %s: ", ts,
		    (int)((now - (double)secs) * 1000.0), level_name(level),
		    component);
	}
	if (n < 0 || n >= size)
		return size - 1;
	m = vsnprintf(buf + n, size - n, fmt, ap);
	if (m < 0)
		return n;
	if (n + m >= size)
		return size - 1;
	return n + m;
}

void
log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX + 1];
	struct timespec ts;
	int n;

	if (level > logger.level)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	n = log_format(line, LOG_LINE_MAX, logger.journal, logger.component,
	    level, (double)ts.tv_sec + ts.tv_nsec / 1e9, fmt, ap);
	/* one line per record: newlines inside a message become spaces */
	for (int i = 0; i < n; i++)
		if (line[i] == '\n')
			line[i] = ' ';
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, n) < 0) {
		/* nowhere left to report it */
	}
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

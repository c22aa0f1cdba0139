/* SPDX-License-Identifier: BSD-2-Clause */
#include "log.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

enum fdr_log_level fdr_log_threshold = FDR_LOG_INFO;

static const char *const level_names[] = {"err", "warn", "notice", "info", "debug"};

void fdr_log_set_level(enum fdr_log_level level)
{
	fdr_log_threshold = level;
}

int fdr_log_parse_level(const char *name)
{
	for (unsigned i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (strcmp(name, level_names[i]) == 0)
			return (int)i;
	return -1;
}

void fdr_vlog(enum fdr_log_level level, const char *fmt, va_list ap)
{
	if (level > fdr_log_threshold)
		return;
	struct timespec ts;
	struct tm tm;
	char line[1024];
	int n;

	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	n = snprintf(line, sizeof(line), "%02d:%02d:%02d.%03ld %-6s ", tm.tm_hour, tm.tm_min,
		     tm.tm_sec, ts.tv_nsec / 1000000, level_names[level]);
	if (n < 0)
		return;
	/* Keep a byte for the newline, so a long message still ends its line. */
	vsnprintf(line + n, sizeof(line) - 1 - (size_t)n, fmt, ap);
	/* One fputs per line so lines from different reactors never interleave. */
	size_t len = strlen(line);
	if (len + 1 < sizeof(line)) {
		line[len] = '\n';
		line[len + 1] = '\0';
	}
	fputs(line, stderr);
}

void fdr_log(enum fdr_log_level level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fdr_vlog(level, fmt, ap);
	va_end(ap);
}

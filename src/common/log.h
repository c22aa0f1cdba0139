/* SPDX-License-Identifier: BSD-2-Clause */
/* The drive's logger: one line per message on stderr, thread safe. */
#ifndef FDR_LOG_H
#define FDR_LOG_H

#include <stdarg.h>

enum fdr_log_level {
	FDR_LOG_ERR = 0,
	FDR_LOG_WARN = 1,
	FDR_LOG_NOTICE = 2,
	FDR_LOG_INFO = 3,
	FDR_LOG_DEBUG = 4,
};

extern enum fdr_log_level fdr_log_threshold;

void fdr_log_set_level(enum fdr_log_level level);
/* Parses "err", "warn", "notice", "info", "debug"; returns -1 if unknown. */
int fdr_log_parse_level(const char *name);
void fdr_vlog(enum fdr_log_level level, const char *fmt, va_list ap);
void fdr_log(enum fdr_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define fdr_err(...) fdr_log(FDR_LOG_ERR, __VA_ARGS__)
#define fdr_warn(...) fdr_log(FDR_LOG_WARN, __VA_ARGS__)
#define fdr_notice(...) fdr_log(FDR_LOG_NOTICE, __VA_ARGS__)
#define fdr_info(...) fdr_log(FDR_LOG_INFO, __VA_ARGS__)
#define fdr_debug(...)                                     \
	do {                                               \
		if (fdr_log_threshold >= FDR_LOG_DEBUG)    \
			fdr_log(FDR_LOG_DEBUG, __VA_ARGS__); \
	} while (0)

#endif

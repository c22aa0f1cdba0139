/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for src/common/log.h: level names and threshold filtering. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"

static const char *const level_tags[] = {"err", "warn", "notice", "info", "debug"};

/* ---- stderr capture ------------------------------------------------------ */

struct capture {
	FILE *file;
	int saved_fd;
	char text[8192];
};

static void capture_begin(struct capture *c)
{
	fflush(stderr);
	c->file = tmpfile();
	assert_non_null(c->file);
	c->saved_fd = dup(STDERR_FILENO);
	assert_true(c->saved_fd >= 0);
	assert_int_equal(dup2(fileno(c->file), STDERR_FILENO), STDERR_FILENO);
}

/* Restore stderr and read what was written meanwhile into c->text. */
static void capture_end(struct capture *c)
{
	fflush(stderr);
	assert_int_equal(dup2(c->saved_fd, STDERR_FILENO), STDERR_FILENO);
	close(c->saved_fd);
	rewind(c->file);
	size_t n = fread(c->text, 1, sizeof(c->text) - 1, c->file);
	c->text[n] = '\0';
	fclose(c->file);
}

/* The line holding msg, copied into line; false if there is none. */
static bool find_line(const char *text, const char *msg, char *line, size_t size)
{
	const char *hit = strstr(text, msg);

	if (!hit)
		return false;
	const char *start = hit;
	while (start > text && start[-1] != '\n')
		start--;
	const char *end = strchr(hit, '\n');
	assert_non_null(end); /* every message ends its line */
	size_t len = (size_t)(end - start);
	assert_true(len < size);
	memcpy(line, start, len);
	line[len] = '\0';
	return true;
}

/* The line carries tag as a word of its own, before the message. */
static void assert_tagged(const char *line, const char *tag, const char *msg)
{
	const char *m = strstr(line, msg);
	size_t tlen = strlen(tag);

	assert_non_null(m);
	for (const char *p = line; p < m; p++) {
		if (strncmp(p, tag, tlen) == 0 && (p == line || p[-1] == ' ') && p[tlen] == ' ')
			return;
	}
	fail_msg("no level tag \"%s\" before the message in \"%s\"", tag, line);
}

/* ---- Tests ----------------------------------------------------------------- */

static void test_parse_level(void **state)
{
	(void)state;
	assert_int_equal(fdr_log_parse_level("err"), FDR_LOG_ERR);
	assert_int_equal(fdr_log_parse_level("warn"), FDR_LOG_WARN);
	assert_int_equal(fdr_log_parse_level("notice"), FDR_LOG_NOTICE);
	assert_int_equal(fdr_log_parse_level("info"), FDR_LOG_INFO);
	assert_int_equal(fdr_log_parse_level("debug"), FDR_LOG_DEBUG);
	assert_int_equal(fdr_log_parse_level(""), -1);
	assert_int_equal(fdr_log_parse_level("verbose"), -1);
	assert_int_equal(fdr_log_parse_level("errors"), -1);
	assert_int_equal(fdr_log_parse_level("de"), -1);
	assert_int_equal(fdr_log_parse_level("info "), -1);
	assert_int_equal(fdr_log_parse_level("5"), -1);
}

static void test_set_level(void **state)
{
	enum fdr_log_level old = fdr_log_threshold;

	(void)state;
	for (int l = FDR_LOG_ERR; l <= FDR_LOG_DEBUG; l++) {
		fdr_log_set_level((enum fdr_log_level)l);
		assert_int_equal(fdr_log_threshold, l);
	}
	fdr_log_set_level(old);
}

static void test_threshold_filtering(void **state)
{
	enum fdr_log_level old = fdr_log_threshold;
	struct capture cap;
	char line[1024];

	(void)state;
	fdr_log_set_level(FDR_LOG_WARN);
	capture_begin(&cap);
	fdr_info("below threshold %d", 1);
	fdr_debug("debug below threshold %d", 2);
	fdr_notice("notice below threshold");
	fdr_warn("at threshold %s", "warn");
	fdr_err("above threshold %d", 3);
	capture_end(&cap);
	fdr_log_set_level(old);

	assert_null(strstr(cap.text, "below threshold"));
	assert_true(find_line(cap.text, "at threshold warn", line, sizeof(line)));
	assert_tagged(line, "warn", "at threshold warn");
	assert_true(find_line(cap.text, "above threshold 3", line, sizeof(line)));
	assert_tagged(line, "err", "above threshold 3");
	/* Exactly two lines, in order */
	const char *a = strstr(cap.text, "at threshold warn");
	const char *b = strstr(cap.text, "above threshold 3");
	assert_true(a < b);
	int lines = 0;
	for (const char *p = cap.text; *p; p++)
		lines += *p == '\n';
	assert_int_equal(lines, 2);
}

/* Each level against each threshold: printed exactly when level <= threshold. */
static void test_level_matrix(void **state)
{
	enum fdr_log_level old = fdr_log_threshold;

	(void)state;
	for (int t = FDR_LOG_ERR; t <= FDR_LOG_DEBUG; t++) {
		struct capture cap;
		char line[1024];
		char msg[64];

		fdr_log_set_level((enum fdr_log_level)t);
		capture_begin(&cap);
		for (int l = FDR_LOG_ERR; l <= FDR_LOG_DEBUG; l++)
			fdr_log((enum fdr_log_level)l, "matrix message %d/%d", t, l);
		capture_end(&cap);
		fdr_log_set_level(old);

		for (int l = FDR_LOG_ERR; l <= FDR_LOG_DEBUG; l++) {
			snprintf(msg, sizeof(msg), "matrix message %d/%d", t, l);
			bool found = find_line(cap.text, msg, line, sizeof(line));
			if (found != (l <= t))
				fail_msg("threshold %d level %d: printed %d", t, l, found);
			if (found)
				assert_tagged(line, level_tags[l], msg);
		}
	}
}

static int side_effects;

static int count_call(void)
{
	return ++side_effects;
}

/* fdr_debug() does not even evaluate its arguments below the threshold. */
static void test_debug_arguments_not_evaluated(void **state)
{
	enum fdr_log_level old = fdr_log_threshold;
	struct capture cap;

	(void)state;
	side_effects = 0;
	fdr_log_set_level(FDR_LOG_INFO);
	capture_begin(&cap);
	fdr_debug("skipped %d", count_call());
	capture_end(&cap);
	assert_int_equal(side_effects, 0);
	assert_null(strstr(cap.text, "skipped"));

	fdr_log_set_level(FDR_LOG_DEBUG);
	capture_begin(&cap);
	fdr_debug("evaluated %d", count_call());
	capture_end(&cap);
	fdr_log_set_level(old);
	assert_int_equal(side_effects, 1);
	assert_non_null(strstr(cap.text, "evaluated 1"));
}

/* A message longer than the line buffer is cut, not overflowed, and still one line. */
static void test_long_message(void **state)
{
	enum fdr_log_level old = fdr_log_threshold;
	static char big[4000];
	struct capture cap;

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	fdr_log_set_level(FDR_LOG_INFO);
	capture_begin(&cap);
	fdr_err("long %s", big);
	fdr_err("after the long one");
	capture_end(&cap);
	fdr_log_set_level(old);
	assert_non_null(strstr(cap.text, "long xxxx"));
	const char *after = strstr(cap.text, "after the long one");
	assert_non_null(after);
	/* The second message starts a line of its own. */
	const char *nl = strchr(cap.text, '\n');
	assert_non_null(nl);
	assert_true(nl < after);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_level),
		cmocka_unit_test(test_set_level),
		cmocka_unit_test(test_threshold_filtering),
		cmocka_unit_test(test_level_matrix),
		cmocka_unit_test(test_debug_arguments_not_evaluated),
		cmocka_unit_test(test_long_message),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

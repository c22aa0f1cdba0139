/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The flight recorder end to end: the drive records into its ring file,
 * nvmedump reads it back - after a clean stop, with filters, after the ring
 * wrapped, and after the drive was killed with SIGKILL in the middle of I/O.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "itest.h"

#define LBA 512

static const char *g_nvmedump;

/* Runs nvmedump -r RING ARGS... and returns its stdout (malloc'd);
 * stderr goes to *err_out if given. */
static char *dump(const char *ring, const char *args, char **err_out)
{
	char cmd[8192], errfile[] = "/tmp/fdr-dump-err.XXXXXX";
	size_t cap = 1 << 16, n = 0;
	char *out = malloc(cap);
	int fd = mkstemp(errfile);
	FILE *p;

	assert_non_null(out);
	assert_true(fd >= 0);
	close(fd);
	snprintf(cmd, sizeof(cmd), "'%s' -r '%s' %s 2>'%s'", g_nvmedump, ring, args, errfile);
	p = popen(cmd, "r");
	assert_non_null(p);
	for (size_t k; (k = fread(out + n, 1, cap - n - 1, p)) > 0;) {
		n += k;
		if (cap - n < 4096) {
			cap *= 2;
			out = realloc(out, cap);
			assert_non_null(out);
		}
	}
	out[n] = '\0';
	assert_int_equal(pclose(p), 0);
	if (err_out) {
		FILE *f = fopen(errfile, "r");
		size_t m;
		*err_out = calloc(1, 4096);
		assert_non_null(f);
		m = fread(*err_out, 1, 4095, f);
		(*err_out)[m] = '\0';
		fclose(f);
	}
	unlink(errfile);
	return out;
}

static unsigned count_lines(const char *text, const char *a, const char *b)
{
	unsigned n = 0;

	for (const char *l = text; l && *l;) {
		const char *e = strchr(l, '\n');
		size_t len = e ? (size_t)(e - l) : strlen(l);
		char line[1024];
		snprintf(line, sizeof(line), "%.*s", (int)(len < sizeof(line) ? len : sizeof(line) - 1), l);
		if (strstr(line, a) && (!b || strstr(line, b)))
			n++;
		l = e ? e + 1 : NULL;
	}
	return n;
}

/* The ring lives outside the drive's temporary directory, which
 * itest_drive_stop() removes. */
static char g_dir[64];

static const char *ring_file(void)
{
	static char path[128];

	if (!g_dir[0]) {
		snprintf(g_dir, sizeof(g_dir), "/tmp/fdr-rec.XXXXXX");
		assert_non_null(mkdtemp(g_dir));
	}
	snprintf(path, sizeof(path), "%s/ring", g_dir);
	return path;
}

static void write_lba(struct fdr_host_queue *q, uint64_t lba, uint64_t seed)
{
	uint8_t buf[LBA];

	itest_fill(buf, sizeof(buf), seed);
	assert_status(itest_write(q, 1, lba, 1, buf, sizeof(buf)), NVME_SC_SUCCESS);
}

static void test_after_clean_stop(void **state)
{
	const char *extra[] = {"-n", ITEST_NQN, "--record", ring_file(), "--ns", "ram,size=16M", NULL};
	struct itest_drive d;
	struct fdr_host_ctrl *c;
	char ring[PATH_MAX + 8];
	uint8_t buf[LBA];
	char *out;

	(void)state;
	assert_int_equal(itest_drive_start(&d, false, extra), 0);
	c = itest_connect(&d, 1, 32);
	assert_non_null(c);
	write_lba(fdr_host_ioq(c, 0), 7, 1);
	write_lba(fdr_host_ioq(c, 0), 8, 2);
	/* A read past the end fails: its completion carries the status. */
	assert_int_not_equal(itest_read(fdr_host_ioq(c, 0), 1, 1u << 30, 1, buf, sizeof(buf)),
			     NVME_SC_SUCCESS);
	fdr_host_disconnect(c);
	snprintf(ring, sizeof(ring), "%s", ring_file());
	assert_int_equal(itest_drive_stop(&d), 0);

	out = dump(ring, "", NULL);
	assert_true(count_lines(out, "OPC=Write", "LBA=7") >= 1);
	assert_true(count_lines(out, "OPC=Write", "LBA=8") >= 1);
	assert_true(count_lines(out, "OPC=Identify", NULL) >= 1);
	assert_true(count_lines(out, "REG ", NULL) >= 2); /* CAP, CC, CSTS ... */
	assert_true(count_lines(out, "CPL", "LBA OUT OF RANGE") == 1);
	free(out);

	/* Filters: only the failed completion; only writes. */
	out = dump(ring, "'status != 0'", NULL);
	assert_int_equal(count_lines(out, "CPL", NULL), 1);
	assert_int_equal(count_lines(out, "LBA OUT OF RANGE", NULL), 1);
	assert_int_equal(count_lines(out, "OPC=Write", NULL), 0);
	free(out);
	out = dump(ring, "kind cmd and opc write", NULL);
	assert_int_equal(count_lines(out, "OPC=Write", NULL), 2);
	assert_int_equal(count_lines(out, "OPC=", NULL), 2);
	free(out);
}

static void test_wrap_counts_lost(void **state)
{
	const char *extra[] = {"-n", ITEST_NQN, "--record", ring_file(), "--record-events", "16", "--ns",
			       "ram,size=16M", NULL};
	struct itest_drive d;
	struct fdr_host_ctrl *c;
	char ring[PATH_MAX + 8];
	char *out, *err;

	(void)state;
	assert_int_equal(itest_drive_start(&d, false, extra), 0);
	c = itest_connect(&d, 1, 32);
	assert_non_null(c);
	for (unsigned i = 0; i < 40; i++)
		write_lba(fdr_host_ioq(c, 0), i, i);
	fdr_host_disconnect(c);
	snprintf(ring, sizeof(ring), "%s", ring_file());
	assert_int_equal(itest_drive_stop(&d), 0);
	out = dump(ring, "", &err);
	/* Exactly the ring's 16 slots survive, and the loss is reported. */
	assert_int_equal(count_lines(out, "[", NULL), 16);
	assert_non_null(strstr(err, "lost"));
	free(out);
	free(err);
}

static void test_after_sigkill(void **state)
{
	/* Killed, the drive cannot remove its control socket: keep it off. */
	const char *extra[] = {"-n", ITEST_NQN, "--record", ring_file(), "--no-ctl", "--ns",
			       "ram,size=256M", NULL};
	struct itest_drive d;
	struct fdr_host_ctrl *c;
	char ring[PATH_MAX + 8], cmd[PATH_MAX + 32], lba[32];
	int status;
	char *out;

	(void)state;
	assert_int_equal(itest_drive_start(&d, false, extra), 0);
	c = itest_connect(&d, 1, 32);
	assert_non_null(c);
	for (unsigned i = 0; i < 200; i++)
		write_lba(fdr_host_ioq(c, 0), 1000 + i, i);
	/* The last command before the kill: a distinctive LBA. */
	write_lba(fdr_host_ioq(c, 0), 424242, 99);
	assert_int_equal(kill(d.pid, SIGKILL), 0);
	assert_int_equal(waitpid(d.pid, &status, 0), d.pid);
	assert_true(WIFSIGNALED(status));
	fdr_host_close(c);

	snprintf(ring, sizeof(ring), "%s", ring_file());
	out = dump(ring, "", NULL);
	snprintf(lba, sizeof(lba), "LBA=%u", 424242u);
	assert_int_equal(count_lines(out, "OPC=Write", lba), 1);
	/* ... and it is the last command in the ring (completion lines
	 * name the opcode too, but carry no LBA). */
	const char *last = NULL;
	for (const char *p = out; (p = strstr(p, " IO SQ=")); p++)
		last = p;
	assert_non_null(last);
	const char *eol = strchr(last, '\n');
	char line[512];
	snprintf(line, sizeof(line), "%.*s", (int)(eol ? eol - last : (long)strlen(last)), last);
	assert_non_null(strstr(line, lba));
	free(out);
	/* The drive could not clean up after itself. */
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d.tmpdir);
	assert_int_equal(system(cmd), 0);
}

static void test_no_record(void **state)
{
	char none[160];
	struct itest_drive d;
	struct stat st;

	(void)state;
	snprintf(none, sizeof(none), "%s.none", ring_file());
	const char *extra[] = {"--record", none, "--no-record", NULL};
	assert_int_equal(itest_drive_start(&d, false, extra), 0);
	assert_int_equal(stat(none, &st), -1);
	assert_int_equal(itest_drive_stop(&d), 0);
}

/* The run-time switch through the control socket. */
static void test_record_switch(void **state)
{
	char ctl[160], cmd[PATH_MAX + 512];
	struct itest_drive d;
	struct fdr_host_ctrl *c;
	char ring[PATH_MAX + 8];
	char *out;

	(void)state;
	snprintf(ctl, sizeof(ctl), "%s.ctl", ring_file());
	const char *extra[] = {"-n", ITEST_NQN, "--record", ring_file(), "--ctl", ctl, "--ns",
			       "ram,size=16M", NULL};
	assert_int_equal(itest_drive_start(&d, false, extra), 0);
	c = itest_connect(&d, 1, 32);
	assert_non_null(c);
	snprintf(cmd, sizeof(cmd), "'%s' ctl --socket '%s' record off >/dev/null", itest_drive_path(), ctl);
	assert_int_equal(system(cmd), 0);
	write_lba(fdr_host_ioq(c, 0), 11, 1); /* not recorded */
	snprintf(cmd, sizeof(cmd), "'%s' ctl --socket '%s' record on >/dev/null", itest_drive_path(), ctl);
	assert_int_equal(system(cmd), 0);
	write_lba(fdr_host_ioq(c, 0), 12, 2); /* recorded */
	fdr_host_disconnect(c);
	snprintf(ring, sizeof(ring), "%s", ring_file());
	assert_int_equal(itest_drive_stop(&d), 0);
	out = dump(ring, "kind cmd and opc write", NULL);
	assert_int_equal(count_lines(out, "OPC=Write", "LBA=11"), 0);
	assert_int_equal(count_lines(out, "OPC=Write", "LBA=12"), 1);
	free(out);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_after_clean_stop),
		cmocka_unit_test(test_wrap_counts_lost),
		cmocka_unit_test(test_after_sigkill),
		cmocka_unit_test(test_no_record),
		cmocka_unit_test(test_record_switch),
	};

	itest_init(argc, argv);
	g_nvmedump = getenv("FDR_NVMEDUMP");
	if (!g_nvmedump) {
		fprintf(stderr, "FDR_NVMEDUMP is not set\n");
		return 1;
	}
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	if (g_dir[0]) {
		char cmd[128];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g_dir);
		if (system(cmd) != 0)
			rc = 1;
	}
	return rc;
}

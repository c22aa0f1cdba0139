/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * nvmedump end to end: write a ring with the recorder's own writer, run the
 * built nvmedump (argv[1]) on it and check its output, exit codes, the lost
 * count and -f on a ring that grows.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "e2e_util.h"

#include "recorder/recorder.h"

static const char *nvmedump;
static char dir[64], ring[128], outf[128], errf[128];
static char out[65536], err[4096];

static void emit_pair(uint16_t i)
{
	struct fdr_rec_event *ev = fdr_rec_begin(FDR_REC_CMD);

	assert_non_null(ev);
	ev->wall_ns = 1700000000000000000ull + i * 1000ull;
	ev->qid = 1;
	ev->cntlid = 1;
	ev->cid = i;
	ev->u.cmd.sqe.opc = 0x02;
	ev->u.cmd.sqe.cid = i;
	ev->u.cmd.sqe.nsid = 1;
	ev->u.cmd.sqe.cdw10 = i * 8u;
	ev->u.cmd.sqe.cdw12 = 7;
	fdr_rec_commit(ev);
	ev = fdr_rec_begin(FDR_REC_CPL);
	assert_non_null(ev);
	ev->wall_ns = 1700000000000000000ull + i * 1000ull + 500;
	ev->qid = 1;
	ev->cntlid = 1;
	ev->cid = i;
	ev->u.cpl.cqe.cid = i;
	/* every third command fails with Unrecovered Read Error */
	ev->u.cpl.cqe.status = (uint16_t)((i % 3 == 0 ? 0x281u : 0u) << 1 | 1u);
	ev->u.cpl.latency_ns = 500;
	ev->u.cpl.opc = 0x02;
	fdr_rec_commit(ev);
}


/* Run nvmedump with args (shell words); exit code, stdout in out, stderr in err. */
static int run(const char *args)
{
	char cmd[1024];
	int st;

	snprintf(cmd, sizeof(cmd), "'%s' %s", nvmedump, args);
	st = e2e_system(cmd, outf, out, sizeof(out), errf, err, sizeof(err));
	assert_true(st >= 0);
	return st;
}

static int lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static int setup(void **state)
{
	struct fdr_rec_opts o = {.nr_slots = 16, .dev = "nqn.2024-01.test:e2e"};
	char e[256];

	strcpy(dir, "/tmp/nvmedump-e2e.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(ring, sizeof(ring), "%s/ring", dir);
	snprintf(outf, sizeof(outf), "%s/out", dir);
	snprintf(errf, sizeof(errf), "%s/err", dir);
	o.path = ring;
	if (fdr_rec_open(&o, e, sizeof(e)) != 0) {
		fprintf(stderr, "fdr_rec_open: %s\n", e);
		return -1;
	}
	/* 12 commands, 24 events, in 16 slots: the first 8 are lost */
	for (uint16_t i = 0; i < 12; i++)
		emit_pair(i);
	return 0;
}

static int teardown(void **state)
{
	char cmd[256];

	fdr_rec_close();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_all(void **state)
{
	char args[256];

	snprintf(args, sizeof(args), "-r '%s'", ring);
	assert_int_equal(run(args), 0);
	assert_int_equal(lines(out), 16);
	assert_true(!strncmp(out, "[8] 1700000000:000004000 ctrl1 IO SQ=1 CID=0004 OPC=Read "
				  "NSID=0x1 LBA=32 NLB=8 prp1=0 prp2=0\n"
				  "[9] 1700000000:000004500 ctrl1 CPL SQ=1 CID=0004 P=1 STS=0x0000 "
				  "CDW0=0 LAT=500ns OPC=Read\n",
			     strlen("[8] 1700000000:000004000 ctrl1 IO SQ=1 CID=0004 OPC=Read "
				    "NSID=0x1 LBA=32 NLB=8 prp1=0 prp2=0\n"
				    "[9] 1700000000:000004500 ctrl1 CPL SQ=1 CID=0004 P=1 STS=0x0000 "
				    "CDW0=0 LAT=500ns OPC=Read\n")));
	assert_non_null(strstr(err, "nqn.2024-01.test:e2e, 16 slots"));
	assert_non_null(strstr(err, "16 events shown, 8 lost (overwritten before read)\n"));
}

static void test_filter_count_lost(void **state)
{
	char args[256];

	/* failures among commands 4..11: 6 and 9 */
	snprintf(args, sizeof(args), "-r '%s' kind cpl and status", ring);
	assert_int_equal(run(args), 0);
	assert_int_equal(lines(out), 2);
	assert_non_null(strstr(out, "[13] 1700000000:000006500 ctrl1 CPL SQ=1 CID=0006 P=1 "
				    "STS=0x0281 CDW0=0 (UNRECOVERED READ ERROR) LAT=500ns OPC=Read\n"));
	assert_non_null(strstr(err, "2 events shown, 8 lost"));

	snprintf(args, sizeof(args), "-r '%s' 'lba 40-47 or (opc read and status == 0x281)'", ring);
	assert_int_equal(run(args), 0);
	assert_int_equal(lines(out), 3); /* cmd 5, cpl 6, cpl 9 */

	snprintf(args, sizeof(args), "-c 3 -r '%s'", ring);
	assert_int_equal(run(args), 0);
	assert_int_equal(lines(out), 3);
	assert_non_null(strstr(err, "3 events shown, 8 lost"));

	snprintf(args, sizeof(args), "--lost -c 1 -r '%s'", ring);
	assert_int_equal(run(args), 0);
	assert_true(!strncmp(out, "LOST 8 events (overwritten before read)\n[8] ", 44));
}

static void test_exit_codes(void **state)
{
	char args[256];

	/* Live capture with no drive there (tests/integration/test_live.c
	 * has the rest; no bare run(""): a drive on port 4420 would answer). */
	assert_int_equal(run("-i /nonexistent/fdr-ctl.sock"), 1);
	assert_non_null(strstr(err, "cannot connect to /nonexistent/fdr-ctl.sock"));
	assert_int_equal(run("--help"), 0);
	assert_non_null(strstr(out, "Exit status"));
	assert_non_null(strstr(out, "-w, --write FILE")); /* pcapng: test_pcapng_e2e.c */
	assert_int_equal(run("--bogus"), 2);
	assert_int_equal(run("-c 0 -r x"), 2);
	snprintf(args, sizeof(args), "-r '%s' -w '%s/out.pcapng'", ring, dir);
	assert_int_equal(run(args), 0);
	assert_non_null(strstr(err, "16 events shown, 8 lost"));
	snprintf(args, sizeof(args), "-r '%s' -s 64", ring);
	assert_int_equal(run(args), 0);
	snprintf(args, sizeof(args), "-r '%s' -s 64k", ring);
	assert_int_equal(run(args), 2);
	snprintf(args, sizeof(args), "-r '%s' qid 1 and frob", ring);
	assert_int_equal(run(args), 2);
	assert_non_null(strstr(err, "bad expression at column 11: unknown filter primitive 'frob'\n"
				    "  qid 1 and frob\n"
				    "            ^\n"));
	snprintf(args, sizeof(args), "-r '%s/nonexistent'", dir);
	assert_int_equal(run(args), 1);
	snprintf(args, sizeof(args), "-r '%s'", errf); /* not a ring */
	assert_int_equal(run(args), 1);
}

static void test_follow(void **state)
{
	int pfd[2];
	pid_t pid;
	char buf[8192];
	size_t got = 0;

	assert_int_equal(pipe(pfd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(pfd[1], 1);
		close(pfd[0]);
		close(pfd[1]);
		if (!freopen(errf, "w", stderr))
			_exit(127);
		execl(nvmedump, "nvmedump", "-f", "-r", ring, "kind", "cmd", "and", "lba", "96-103",
		      (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	usleep(100000);
	emit_pair(12); /* LBA 96: new, matches */
	emit_pair(13);
	while (got < sizeof(buf) - 1 && !memchr(buf, '\n', got)) {
		ssize_t n = read(pfd[0], buf + got, sizeof(buf) - 1 - got);

		if (n <= 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
	assert_non_null(strstr(buf, " IO SQ=1 CID=000c OPC=Read NSID=0x1 LBA=96 NLB=8"));
	kill(pid, SIGINT);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	close(pfd[0]);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	e2e_slurp(errf, err, sizeof(err));
	assert_non_null(strstr(err, "1 events shown, 8 lost"));
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all),
		cmocka_unit_test(test_filter_count_lost),
		cmocka_unit_test(test_exit_codes),
		cmocka_unit_test(test_follow),
	};

	if (argc < 2) {
		fprintf(stderr, "usage: %s NVMEDUMP\n", argv[0]);
		return 2;
	}
	nvmedump = argv[1];
	return cmocka_run_group_tests(tests, setup, teardown);
}

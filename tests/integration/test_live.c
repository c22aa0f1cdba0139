/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Live capture: nvmedump -i follows a running drive's recorder ring, handed
 * over by the control socket (`record attach`), while the host library
 * issues known I/O.  Filters show exactly the matching events; a reader
 * stopped with SIGSTOP behind a tiny ring reports what it lost, and what
 * it read and lost add up to what the drive recorded; nvmedump ends by
 * itself when the drive exits (cleanly or killed); and the errors: no
 * drive, recording off, no recorder, bad options.
 *
 * argv[1] is the drive, $FDR_NVMEDUMP nvmedump.
 */
#include "itest.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <frankendrive/recorder.h>

#define LBA 512u

static const char *g_nvmedump;
/* Files that outlive the drive's temporary directory (rings, outputs). */
static char g_dir[64];

static const char *dir_file(const char *name)
{
	static char path[4][256];
	static unsigned k;
	char *p = path[k++ % 4];

	if (!g_dir[0]) {
		snprintf(g_dir, sizeof(g_dir), "/tmp/fdr-live.XXXXXX");
		assert_non_null(mkdtemp(g_dir));
	}
	snprintf(p, sizeof(path[0]), "%s/%s", g_dir, name);
	return p;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- nvmedump in the background ----------------------------------------------- */

struct dump {
	pid_t pid;
	int status; /* exit status once waited for, -1 if killed by a signal */
	char out_path[256], err_path[256];
	char *out, *err; /* after dump_wait */
};

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap);

	assert_non_null(buf);
	if (f) {
		for (size_t k; (k = fread(buf + n, 1, cap - n - 1, f)) > 0;) {
			n += k;
			if (cap - n < 4096) {
				cap *= 2;
				buf = realloc(buf, cap);
				assert_non_null(buf);
			}
		}
		fclose(f);
	}
	buf[n] = '\0';
	return buf;
}

/* Start nvmedump ARGS... (NULL-terminated), stdout and stderr to files. */
static void dump_start(struct dump *d, const char *name, const char *const *args)
{
	const char *argv[32];
	int n = 0, fo, fe;

	memset(d, 0, sizeof(*d));
	snprintf(d->out_path, sizeof(d->out_path), "%s", dir_file(name));
	strncat(d->out_path, ".out", sizeof(d->out_path) - strlen(d->out_path) - 1);
	snprintf(d->err_path, sizeof(d->err_path), "%s", dir_file(name));
	strncat(d->err_path, ".err", sizeof(d->err_path) - strlen(d->err_path) - 1);
	argv[n++] = g_nvmedump;
	for (int i = 0; args[i] && n < 31; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	printf("# nvmedump");
	for (int i = 1; i < n; i++)
		printf(" %s", argv[i]);
	printf("\n");
	fo = open(d->out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	fe = open(d->err_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fo >= 0 && fe >= 0);
	fflush(stdout);
	fflush(stderr);
	d->pid = fork();
	assert_true(d->pid >= 0);
	if (d->pid == 0) {
		dup2(fo, 1);
		dup2(fe, 2);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(fo);
	close(fe);
}

/* Wait (timeout_ms) for nvmedump to exit; kill it if it does not.  Reads
 * its output.  Returns its exit status, -1 if it had to be killed. */
static int dump_wait(struct dump *d, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;
	int st = 0;
	pid_t w;

	while ((w = waitpid(d->pid, &st, WNOHANG)) == 0 && now_ms() < deadline)
		usleep(10000);
	if (w != d->pid) {
		fprintf(stderr, "nvmedump did not exit within %d ms; killing it\n", timeout_ms);
		kill(d->pid, SIGKILL);
		waitpid(d->pid, &st, 0);
		d->status = -1;
	} else {
		d->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	}
	d->pid = 0;
	d->out = slurp(d->out_path);
	d->err = slurp(d->err_path);
	printf("# nvmedump exit %d; stderr:\n%s", d->status, d->err);
	return d->status;
}

static void dump_free(struct dump *d)
{
	if (d->pid > 0) {
		kill(d->pid, SIGKILL);
		waitpid(d->pid, NULL, 0);
	}
	free(d->out);
	free(d->err);
	unlink(d->out_path);
	unlink(d->err_path);
}

/* Wait until nvmedump says it listens (it attached: events from now on
 * are seen).  Fails the test if it exits first. */
static void dump_wait_listening(struct dump *d)
{
	int64_t deadline = now_ms() + 10000;

	for (;;) {
		char *e = slurp(d->err_path);
		bool ok = strstr(e, "listening on") != NULL;
		int st;

		if (ok) {
			free(e);
			return;
		}
		if (waitpid(d->pid, &st, WNOHANG) == d->pid) {
			d->pid = 0;
			fail_msg("nvmedump exited (status %#x) before it attached: %s", st, e);
		}
		free(e);
		if (now_ms() > deadline)
			fail_msg("nvmedump did not attach within 10 s");
		usleep(10000);
	}
}

/* Run nvmedump ARGS... to its end (it must end by itself). */
static int dump_run(struct dump *d, const char *name, const char *const *args)
{
	dump_start(d, name, args);
	return dump_wait(d, 20000);
}

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

/* ---- Output checks ----------------------------------------------------------------- */

/* Lines of text containing a (and b, if given). */
static unsigned count_lines(const char *text, const char *a, const char *b)
{
	unsigned n = 0;

	for (const char *l = text; l && *l;) {
		const char *e = strchr(l, '\n');
		size_t len = e ? (size_t)(e - l) : strlen(l);
		char line[1024];

		snprintf(line, sizeof(line), "%.*s", (int)(len < sizeof(line) ? len : sizeof(line) - 1),
			 l);
		if (strstr(line, a) && (!b || strstr(line, b)))
			n++;
		l = e ? e + 1 : NULL;
	}
	return n;
}

static unsigned nr_lines(const char *text)
{
	unsigned n = 0;

	for (; *text; text++)
		n += *text == '\n';
	return n;
}

/* The numbers of "N events shown, M lost" and of "live: seq A to B
 * followed: R events read, L lost". */
struct summary {
	uint64_t shown, lost;
	uint64_t first, last, read, live_lost;
	bool live_line, exited;
};

static void parse_summary(const char *err, struct summary *s)
{
	const char *p;

	memset(s, 0, sizeof(*s));
	p = strstr(err, " events shown, ");
	if (!p)
		fail_msg("no summary line in: %s", err);
	while (p > err && p[-1] != '\n')
		p--;
	if (sscanf(p, "%" SCNu64 " events shown, %" SCNu64 " lost", &s->shown, &s->lost) != 2)
		fail_msg("bad summary line in: %s", err);
	p = strstr(err, "live: seq ");
	if (p) {
		s->live_line = sscanf(p, "live: seq %" SCNu64 " to %" SCNu64 " followed: %" SCNu64
				      " events read, %" SCNu64 " lost",
				      &s->first, &s->last, &s->read, &s->live_lost) == 4;
		if (!s->live_line)
			fail_msg("bad live line in: %s", err);
	}
	s->exited = strstr(err, "drive exited") != NULL;
}

/* The ring's head (events recorded) from its file. */
static uint64_t ring_head(const char *path)
{
	struct fdr_rec_file_hdr h;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &h, sizeof(h), 0), (ssize_t)sizeof(h));
	close(fd);
	assert_true(h.magic == FDR_REC_MAGIC);
	return h.head;
}

static void write_lba(struct fdr_host_queue *q, uint64_t lba)
{
	uint8_t *buf = itest_alloc(LBA);

	itest_fill(buf, LBA, lba);
	assert_status(itest_write(q, 1, lba, 1, buf, LBA), NVME_SC_SUCCESS);
	free(buf);
}

static void read_lba(struct fdr_host_queue *q, uint64_t lba, uint16_t want)
{
	uint8_t *buf = itest_alloc(LBA);

	assert_status(itest_read(q, 1, lba, 1, buf, LBA), want);
	free(buf);
}

static void ctl(const char *sock, const char *what)
{
	char cmd[PATH_MAX + 256];

	snprintf(cmd, sizeof(cmd), "'%s' ctl --socket '%s' %s >/dev/null", itest_drive_path(), sock,
		 what);
	assert_int_equal(system(cmd), 0);
}

/* ---- Tests ------------------------------------------------------------------------- */

/*
 * Two live readers with filters while the host writes and reads on two
 * queues: each shows exactly its events, and both end when the drive does.
 */
static void test_live_filters(void **state)
{
	const char *extra[] = {"-n", ITEST_NQN, "--ns", "ram,size=16M,lba=512", "--queues", "2",
			       "--ctl", "@TMP@/ctl.sock", NULL};
	struct itest_drive d;
	struct fdr_host_ctrl *c;
	struct dump w, s;
	struct summary sw, ss;
	char sock[PATH_MAX + 16], lba[32];

	(void)state;
	assert_int_equal(itest_drive_start(&d, false, extra), 0);
	snprintf(sock, sizeof(sock), "%s/ctl.sock", d.tmpdir);
	dump_start(&w, "writes", ARGS("-i", sock, "opc", "write", "and", "qid", "1"));
	dump_start(&s, "errors", ARGS("-i", sock, "status != 0"));
	dump_wait_listening(&w);
	dump_wait_listening(&s);

	c = itest_connect(&d, 2, 16);
	assert_non_null(c);
	for (unsigned i = 0; i < 10; i++)
		write_lba(fdr_host_ioq(c, 0), 100 + i); /* qid 1: shown by w */
	for (unsigned i = 0; i < 5; i++)
		write_lba(fdr_host_ioq(c, 1), 200 + i); /* qid 2 */
	for (unsigned i = 0; i < 5; i++)
		read_lba(fdr_host_ioq(c, 0), 100 + i, NVME_SC_SUCCESS);
	/* Past the end: the two failed completions, shown by s. */
	read_lba(fdr_host_ioq(c, 0), 1u << 30, NVME_SC_LBA_OUT_OF_RANGE);
	read_lba(fdr_host_ioq(c, 1), 1u << 30, NVME_SC_LBA_OUT_OF_RANGE);
	fdr_host_disconnect(c);

	/* The drive's exit ends both (after reading the ring to its end). */
	assert_int_equal(itest_drive_stop(&d), 0);
	assert_int_equal(dump_wait(&w, 20000), 0);
	assert_int_equal(dump_wait(&s, 20000), 0);

	/* w: the 10 writes of qid 1, command and completion, nothing else. */
	assert_int_equal(nr_lines(w.out), 20);
	assert_int_equal(count_lines(w.out, " IO SQ=1 ", "OPC=Write"), 10);
	assert_int_equal(count_lines(w.out, " CPL SQ=1 ", "OPC=Write"), 10);
	assert_int_equal(count_lines(w.out, "STS=0x0000", NULL), 10);
	for (unsigned i = 0; i < 10; i++) {
		snprintf(lba, sizeof(lba), "LBA=%u ", 100 + i);
		assert_int_equal(count_lines(w.out, "OPC=Write", lba), 1);
	}
	parse_summary(w.err, &sw);
	assert_int_equal(sw.shown, 20);
	assert_int_equal(sw.lost, 0);
	assert_true(sw.live_line && sw.exited);
	assert_int_equal(sw.live_lost, 0);

	/* s: the two failed reads' completions. */
	assert_int_equal(nr_lines(s.out), 2);
	assert_int_equal(count_lines(s.out, " CPL SQ=1 ", "LBA OUT OF RANGE"), 1);
	assert_int_equal(count_lines(s.out, " CPL SQ=2 ", "LBA OUT OF RANGE"), 1);
	assert_int_equal(count_lines(s.out, "OPC=Read", NULL), 2);
	parse_summary(s.err, &ss);
	assert_int_equal(ss.shown, 2);
	assert_int_equal(ss.lost, 0);
	/* Both followed the same stretch of the ring. */
	assert_int_equal(ss.first, sw.first);
	assert_int_equal(ss.last, sw.last);
	assert_int_equal(ss.read, sw.read);
	dump_free(&w);
	dump_free(&s);
}

/*
 * A reader stopped (SIGSTOP) behind a 64-event ring loses events, says so
 * (inline LOST lines and the summary), and read + lost is exactly what the
 * drive recorded from the attach on.  The drive is not held up.
 */
static void test_live_slow_reader(void **state)
{
	const char *ring = dir_file("slow.ring");
	const char *extra[] = {"-n", ITEST_NQN, "--ns", "ram,size=16M,lba=512", "--ctl",
			       "@TMP@/ctl.sock", "--record", ring, "--record-events", "64", NULL};
	struct itest_drive d;
	struct fdr_host_ctrl *c;
	struct dump r;
	struct summary sm;
	char sock[PATH_MAX + 16];
	uint64_t lost_lines = 0, head;
	int64_t t0;

	(void)state;
	assert_int_equal(itest_drive_start(&d, false, extra), 0);
	snprintf(sock, sizeof(sock), "%s/ctl.sock", d.tmpdir);
	dump_start(&r, "slow", ARGS("-i", sock, "--lost"));
	dump_wait_listening(&r);
	c = itest_connect(&d, 1, 16);
	assert_non_null(c);

	assert_int_equal(kill(r.pid, SIGSTOP), 0);
	t0 = now_ms();
	for (unsigned i = 0; i < 300; i++)
		write_lba(fdr_host_ioq(c, 0), i); /* 600+ events over a 64-slot ring */
	printf("# 300 writes with the reader stopped: %lld ms\n", (long long)(now_ms() - t0));
	assert_int_equal(kill(r.pid, SIGCONT), 0);
	for (unsigned i = 0; i < 20; i++)
		write_lba(fdr_host_ioq(c, 0), 1000 + i);
	fdr_host_disconnect(c);
	assert_int_equal(itest_drive_stop(&d), 0);
	assert_int_equal(dump_wait(&r, 20000), 0);

	head = ring_head(ring);
	parse_summary(r.err, &sm);
	printf("# drive recorded %" PRIu64 " events; seq %" PRIu64 "-%" PRIu64 ": %" PRIu64
	       " read, %" PRIu64 " lost\n",
	       head, sm.first, sm.last, sm.read, sm.live_lost);
	assert_true(sm.live_line && sm.exited);
	assert_true(sm.lost > 0);
	assert_true(sm.lost >= 600 - 64 - 64); /* most of what came while stopped */
	assert_int_equal(sm.live_lost, sm.lost);
	assert_int_equal(sm.read, sm.shown);
	/* Nothing unaccounted for: every event since the attach was read or
	 * counted lost, up to the drive's last. */
	assert_int_equal(sm.read + sm.lost, sm.last - sm.first + 1);
	assert_int_equal(sm.last + 1, head);
	/* The inline LOST lines add up to the same, the event lines to shown. */
	for (const char *p = r.out; (p = strstr(p, "LOST ")); p++) {
		if (p != r.out && p[-1] != '\n')
			continue;
		lost_lines += strtoull(p + 5, NULL, 10);
	}
	assert_int_equal(lost_lines, sm.lost);
	assert_int_equal(count_lines(r.out, "[", NULL), sm.shown);
	dump_free(&r);
	unlink(ring);
}

/* --oldest starts at the oldest event the ring holds; -c ends the capture;
 * -i PORT finds the drive's default socket. */
static void test_live_oldest_count_port(void **state)
{
	const char *extra[] = {"-n", ITEST_NQN, "--ns", "ram,size=16M,lba=512", NULL};
	struct itest_drive d;
	struct fdr_host_ctrl *c;
	struct dump r;
	struct summary sm;

	(void)state;
	/* No --ctl: the default socket for the drive's port. */
	assert_int_equal(itest_drive_start(&d, false, extra), 0);
	c = itest_connect(&d, 1, 16);
	assert_non_null(c);
	write_lba(fdr_host_ioq(c, 0), 777);
	write_lba(fdr_host_ioq(c, 0), 778);

	/* Already in the ring: --oldest shows it, -c 2 ends it. */
	assert_int_equal(dump_run(&r, "oldest", ARGS("-i", d.port, "--oldest", "-c", "2", "kind",
						      "cmd", "and", "opc", "write")),
			 0);
	assert_int_equal(nr_lines(r.out), 2);
	assert_int_equal(count_lines(r.out, "OPC=Write", "LBA=777 "), 1);
	assert_int_equal(count_lines(r.out, "OPC=Write", "LBA=778 "), 1);
	assert_non_null(strstr(r.err, "the oldest event in the ring"));
	parse_summary(r.err, &sm);
	assert_int_equal(sm.shown, 2);
	assert_false(sm.exited);
	dump_free(&r);

	/* Without --oldest: only what comes after the attach. */
	dump_start(&r, "new", ARGS("-i", d.port, "-c", "1", "kind cmd and opc write"));
	dump_wait_listening(&r);
	write_lba(fdr_host_ioq(c, 0), 779);
	assert_int_equal(dump_wait(&r, 20000), 0);
	assert_int_equal(nr_lines(r.out), 1);
	assert_int_equal(count_lines(r.out, "OPC=Write", "LBA=779 "), 1);
	dump_free(&r);

	fdr_host_disconnect(c);
	assert_int_equal(itest_drive_stop(&d), 0);
}

/* A drive killed under a live reader: the reader notices, reads what the
 * ring holds to the end and exits 0. */
static void test_live_drive_killed(void **state)
{
	const char *ring = dir_file("killed.ring");
	const char *extra[] = {"-n", ITEST_NQN, "--ns", "ram,size=16M,lba=512", "--ctl",
			       "@TMP@/ctl.sock", "--record", ring, NULL};
	struct itest_drive d;
	struct fdr_host_ctrl *c;
	struct dump r;
	struct summary sm;
	char sock[PATH_MAX + 16], cmd[PATH_MAX + 32];
	int st;

	(void)state;
	assert_int_equal(itest_drive_start(&d, false, extra), 0);
	snprintf(sock, sizeof(sock), "%s/ctl.sock", d.tmpdir);
	dump_start(&r, "killed", ARGS("-i", sock, "kind cmd and opc write"));
	dump_wait_listening(&r);
	c = itest_connect(&d, 1, 16);
	assert_non_null(c);
	for (unsigned i = 0; i < 5; i++)
		write_lba(fdr_host_ioq(c, 0), 4200 + i);
	assert_int_equal(kill(d.pid, SIGKILL), 0);
	assert_int_equal(waitpid(d.pid, &st, 0), d.pid);
	fdr_host_close(c);
	assert_int_equal(dump_wait(&r, 20000), 0);
	assert_int_equal(nr_lines(r.out), 5);
	parse_summary(r.err, &sm);
	assert_true(sm.exited);
	assert_int_equal(sm.lost, 0);
	assert_int_equal(sm.last + 1, ring_head(ring));
	dump_free(&r);
	/* Killed, the drive left its directory (and socket) behind. */
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d.tmpdir);
	assert_int_equal(system(cmd), 0);
	unlink(ring);
}

static void test_live_errors(void **state)
{
	const char *extra[] = {"-n", ITEST_NQN, "--ns", "ram,size=16M,lba=512", "--ctl",
			       "@TMP@/ctl.sock", NULL};
	const char *extra_norec[] = {"--ns", "null,size=1M", "--ctl", "@TMP@/ctl.sock",
				     "--no-record", NULL};
	struct itest_drive d;
	struct dump r;
	char sock[PATH_MAX + 16];

	(void)state;
	/* No drive there. */
	assert_int_equal(dump_run(&r, "nodrive", ARGS("-i", dir_file("nothing.sock"))), 1);
	assert_non_null(strstr(r.err, "cannot connect to"));
	assert_non_null(strstr(r.err, "nothing.sock"));
	assert_non_null(strstr(r.err, "is frankendrive running?"));
	assert_int_equal(nr_lines(r.out), 0);
	dump_free(&r);

	/* Usage errors. */
	assert_int_equal(dump_run(&r, "usage1", ARGS("-i", "x.sock", "-r", "x.ring")), 2);
	assert_non_null(strstr(r.err, "exclude each other"));
	dump_free(&r);
	assert_int_equal(dump_run(&r, "usage2", ARGS("-r", "x.ring", "--oldest")), 2);
	dump_free(&r);
	assert_int_equal(dump_run(&r, "usage3", ARGS("-i")), 2);
	dump_free(&r);

	/* Recording switched off: refused with the reason; on again: fine. */
	assert_int_equal(itest_drive_start(&d, false, extra), 0);
	snprintf(sock, sizeof(sock), "%s/ctl.sock", d.tmpdir);
	ctl(sock, "record off");
	assert_int_equal(dump_run(&r, "off", ARGS("-i", sock)), 1);
	assert_non_null(strstr(r.err, "recording is off"));
	assert_non_null(strstr(r.err, "record on"));
	dump_free(&r);
	ctl(sock, "record on");
	dump_start(&r, "on", ARGS("-i", sock, "-c", "1", "kind", "cmd"));
	dump_wait_listening(&r);
	{
		struct fdr_host_ctrl *c = itest_connect(&d, 1, 16);

		assert_non_null(c);
		assert_int_equal(dump_wait(&r, 20000), 0);
		assert_int_equal(nr_lines(r.out), 1);
		fdr_host_disconnect(c);
	}
	dump_free(&r);
	assert_int_equal(itest_drive_stop(&d), 0);

	/* A drive without a recorder. */
	assert_int_equal(itest_drive_start(&d, false, extra_norec), 0);
	snprintf(sock, sizeof(sock), "%s/ctl.sock", d.tmpdir);
	assert_int_equal(dump_run(&r, "norec", ARGS("-i", sock)), 1);
	assert_non_null(strstr(r.err, "without a flight recorder"));
	dump_free(&r);
	assert_int_equal(itest_drive_stop(&d), 0);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_live_filters),
		cmocka_unit_test(test_live_slow_reader),
		cmocka_unit_test(test_live_oldest_count_port),
		cmocka_unit_test(test_live_drive_killed),
		cmocka_unit_test(test_live_errors),
	};
	int rc;

	itest_init(argc, argv);
	g_nvmedump = getenv("FDR_NVMEDUMP");
	if (!g_nvmedump) {
		fprintf(stderr, "FDR_NVMEDUMP is not set\n");
		return 1;
	}
	rc = cmocka_run_group_tests_name("live", tests, NULL, NULL);
	if (g_dir[0]) {
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g_dir);
		if (system(cmd) != 0)
			rc = 1;
	}
	return rc;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The shipped plug-ins (plugins/NAME.so) loaded into the real drive with
 * --plugin and driven through the project's host library: ro_fail (silent,
 * mode=error, aen=1), temperamental, reincarnation, sum, trace, latency
 * and corrupt; and plug-ins the loader must refuse at start: one built for
 * another ABI, one without plugin_info, ones that attach to unknown taps,
 * bad arguments and a missing file.
 *
 * argv: [1] the drive, [2] the directory of the shipped plug-ins,
 * [3] the directory of the test plug-ins (plugin_bad_*.so); or the
 * environment variables FDR_DRIVE, FDR_PLUGIN_DIR, FDR_TEST_PLUGIN_DIR.
 * FDR_KEEP_TRACE=1 keeps the trace plug-in's file for a look.
 */
#include "itest.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define LBA 512u
#define NR_IOQ 2

static char g_plugin_dir[PATH_MAX];
static char g_test_plugin_dir[PATH_MAX];

/* A drive with one plug-in (or none) and a controller connected to it. */
struct pdrive {
	struct itest_drive d;
	struct fdr_host_ctrl *c;
	struct fdr_host_queue *q;
	char spec[PATH_MAX + 256];
	char spec2[PATH_MAX + 256];
};

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* "name.so,args" in the shipped plug-ins' directory ("" args: none) */
static void plugin_spec(char *buf, size_t len, const char *dir, const char *name,
			const char *args)
{
	int n = snprintf(buf, len, "%s/%s.so%s%s", dir, name, *args ? "," : "", args);

	if (n < 0 || (size_t)n >= len)
		fail_msg("plug-in spec too long");
}

/* The drive with plug-in name (NULL: none) and, if name2, a second one. */
static void pdrive_start2(struct pdrive *p, const char *name, const char *args,
			  const char *name2, const char *args2)
{
	const char *argv[16];
	int n = 0;

	argv[n++] = "--ns";
	argv[n++] = "ram,size=16M,lba=512";
	argv[n++] = "--queues";
	argv[n++] = "2";
	argv[n++] = "--cores";
	argv[n++] = "2";
	argv[n++] = "-n";
	argv[n++] = ITEST_NQN;
	if (name) {
		plugin_spec(p->spec, sizeof(p->spec), g_plugin_dir, name, args);
		argv[n++] = "--plugin";
		argv[n++] = p->spec;
	}
	if (name2) {
		plugin_spec(p->spec2, sizeof(p->spec2), g_plugin_dir, name2, args2);
		argv[n++] = "--plugin";
		argv[n++] = p->spec2;
	}
	argv[n] = NULL;
	if (itest_drive_start(&p->d, false, argv))
		fail_msg("the drive did not start with %s", name ? p->spec : "no plug-in");
	p->c = itest_connect(&p->d, NR_IOQ, 32);
	p->q = fdr_host_ioq(p->c, 0);
	assert_non_null(p->q);
	if (name && !itest_log_contains(&p->d, "loaded"))
		print_message("# (the drive log does not say the plug-in loaded)\n");
}

static void pdrive_start(struct pdrive *p, const char *name, const char *args)
{
	pdrive_start2(p, name, args, NULL, NULL);
}

static void pdrive_stop(struct pdrive *p)
{
	if (p->c && fdr_host_disconnect(p->c))
		fail_msg("orderly disconnect failed");
	p->c = NULL;
	if (itest_drive_stop(&p->d))
		fail_msg("the drive did not stop cleanly");
}

/* Write one block at lba filled from seed; the status. */
static uint16_t write_blk(struct pdrive *p, uint64_t lba, uint64_t seed, struct nvme_cqe *cqe)
{
	uint8_t buf[LBA];
	struct nvme_sqe cmd;

	itest_fill(buf, sizeof(buf), seed);
	itest_rw_cmd(&cmd, NVME_IO_WRITE, 1, lba, 1);
	return itest_io(p->q, &cmd, buf, sizeof(buf), cqe);
}

/* Read one block and say whether it holds seed's pattern (seed 0: zeros). */
static bool blk_is(struct pdrive *p, uint64_t lba, uint64_t seed)
{
	uint8_t buf[LBA], want[LBA];

	assert_status(itest_read(p->q, 1, lba, 1, buf, sizeof(buf)), NVME_SC_SUCCESS);
	if (seed == 0)
		return itest_is_zero(buf, sizeof(buf));
	itest_fill(want, sizeof(want), seed);
	return memcmp(buf, want, sizeof(buf)) == 0;
}

/* ---- ro_fail ---------------------------------------------------------------- */

/* n=5: five writes reach the media; the sixth "succeeds" and is lost. */
static void test_ro_fail_silent(void **state)
{
	struct pdrive p = {0};

	pdrive_start(&p, "ro_fail", "n=5");
	for (unsigned i = 0; i < 5; i++)
		assert_status(write_blk(&p, i, 100 + i, NULL), NVME_SC_SUCCESS);
	for (unsigned i = 0; i < 5; i++)
		assert_true(blk_is(&p, i, 100 + i));
	/* Overwrite LBA 0 and write a new LBA: both report success... */
	assert_status(write_blk(&p, 0, 200, NULL), NVME_SC_SUCCESS);
	assert_status(write_blk(&p, 10, 201, NULL), NVME_SC_SUCCESS);
	/* ...and neither reached the media. */
	assert_true(blk_is(&p, 0, 100));
	assert_true(blk_is(&p, 10, 0));
	assert_true(itest_log_contains(&p.d, "read only mode"));
	pdrive_stop(&p);
}

/* mode=error: 01h/82h with DNR, recorded in the error log. */
static void test_ro_fail_error(void **state)
{
	struct nvme_error_log_entry log[16];
	struct pdrive p = {0};
	struct nvme_cqe cqe;
	uint8_t buf[LBA];
	struct nvme_sqe cmd;

	pdrive_start(&p, "ro_fail", "n=5,mode=error");
	for (unsigned i = 0; i < 5; i++)
		assert_status(write_blk(&p, i, 100 + i, NULL), NVME_SC_SUCCESS);

	itest_fill(buf, sizeof(buf), 300);
	itest_rw_cmd(&cmd, NVME_IO_WRITE, 1, 7, 1);
	assert_status(itest_io(p.q, &cmd, buf, sizeof(buf), &cqe),
		      NVME_STATUS(NVME_SCT_COMMAND_SPECIFIC, NVME_SC_ATTEMPTED_WRITE_TO_RO_RANGE));
	assert_true(fdr_host_status(&cqe) & NVME_STATUS_DNR);
	assert_true(blk_is(&p, 7, 0));
	/* Reads still work; later writes keep failing. */
	assert_true(blk_is(&p, 4, 104));
	assert_status(write_blk(&p, 8, 301, NULL),
		      NVME_STATUS(NVME_SCT_COMMAND_SPECIFIC, NVME_SC_ATTEMPTED_WRITE_TO_RO_RANGE));

	/* Newest first: the second failure, then the first (cmd.cid). */
	assert_status(itest_get_log(p.c, NVME_LOG_ERROR, 0, 0, false, log, sizeof(log)),
		      NVME_SC_SUCCESS);
	assert_true(log[0].error_count >= 2);
	assert_int_equal(log[1].error_count, log[0].error_count - 1);
	assert_int_equal(log[1].sqid, fdr_host_queue_qid(p.q));
	assert_int_equal(log[1].cid, cmd.cid);
	assert_int_equal(log[1].nsid, 1);
	assert_int_equal((log[1].status >> 1) & 0x7ff,
			 NVME_STATUS(NVME_SCT_COMMAND_SPECIFIC, NVME_SC_ATTEMPTED_WRITE_TO_RO_RANGE));
	assert_true((log[1].status >> 1) & NVME_STATUS_DNR);
	pdrive_stop(&p);
}

struct aer_wait {
	bool done;
	struct nvme_cqe cqe;
};

static void aer_done(void *arg, const struct nvme_cqe *cqe)
{
	struct aer_wait *w = arg;

	w->cqe = *cqe;
	w->done = true;
}

/* aen=1: the SMART critical warning "read only" and one SMART event. */
static void test_ro_fail_aen(void **state)
{
	struct fdr_host_queue *aq;
	struct nvme_smart_log *smart = itest_alloc(512);
	struct aer_wait aer = {0}, aer2 = {0};
	struct nvme_sqe cmd;
	struct pdrive p = {0};
	int64_t deadline;

	pdrive_start(&p, "ro_fail", "n=3,aen=1");
	aq = fdr_host_admin_queue(p.c);
	assert_status(itest_set_feat(p.c, NVME_FEAT_ASYNC_EVENT, false, 0,
				     NVME_SMART_CRIT_READ_ONLY, NULL, 0, NULL),
		      NVME_SC_SUCCESS);
	assert_status(itest_get_log(p.c, NVME_LOG_SMART, NVME_NSID_ALL, 0, false, smart, 512),
		      NVME_SC_SUCCESS);
	assert_int_equal(smart->critical_warning & NVME_SMART_CRIT_READ_ONLY, 0);

	memset(&cmd, 0, sizeof(cmd));
	cmd.opc = NVME_ADM_ASYNC_EVENT_REQUEST;
	assert_int_equal(fdr_host_submit(aq, &cmd, NULL, 0, aer_done, &aer), 0);
	assert_true(fdr_host_flush(aq) >= 0);

	for (unsigned i = 0; i < 3; i++)
		assert_status(write_blk(&p, i, 10 + i, NULL), NVME_SC_SUCCESS);
	assert_true(fdr_host_poll(aq, 200) >= 0);
	assert_false(aer.done); /* nothing to report yet */

	assert_status(write_blk(&p, 3, 13, NULL), NVME_SC_SUCCESS); /* dropped */
	deadline = now_us() + 5000000;
	while (!aer.done && now_us() < deadline)
		assert_true(fdr_host_poll(aq, 100) >= 0);
	if (!aer.done)
		fail_msg("no asynchronous event within 5 s of the media turning read-only");
	print_message("# AER: cdw0 %#x status %#x\n", aer.cqe.cdw0, fdr_host_status(&aer.cqe));
	assert_int_equal(fdr_host_sct_sc(&aer.cqe), NVME_SC_SUCCESS);
	assert_int_equal(aer.cqe.cdw0 & 0x7, NVME_AER_TYPE_SMART);
	assert_int_equal((aer.cqe.cdw0 >> 8) & 0xff, NVME_AER_SMART_RELIABILITY);
	assert_int_equal((aer.cqe.cdw0 >> 16) & 0xff, NVME_LOG_SMART);

	assert_status(itest_get_log(p.c, NVME_LOG_SMART, NVME_NSID_ALL, 0, false, smart, 512),
		      NVME_SC_SUCCESS);
	assert_true(smart->critical_warning & NVME_SMART_CRIT_READ_ONLY);
	assert_false(blk_is(&p, 3, 13));

	/* Only once: a second AER stays outstanding after more writes. */
	memset(&cmd, 0, sizeof(cmd));
	cmd.opc = NVME_ADM_ASYNC_EVENT_REQUEST;
	assert_int_equal(fdr_host_submit(aq, &cmd, NULL, 0, aer_done, &aer2), 0);
	assert_true(fdr_host_flush(aq) >= 0);
	assert_status(write_blk(&p, 4, 14, NULL), NVME_SC_SUCCESS);
	assert_true(fdr_host_poll(aq, 300) >= 0);
	assert_false(aer2.done);
	free(smart);
	pdrive_stop(&p); /* aborts the outstanding AER */
}

/* ---- temperamental ------------------------------------------------------------ */

/* The number of the first Write that fails (1-based), checking that every
 * later one fails too. */
static unsigned temperamental_run(uint64_t seed)
{
	struct pdrive p = {0};
	char args[96];
	unsigned first = 0;

	snprintf(args, sizeof(args), "p=0.05,seed=%llu", (unsigned long long)seed);
	pdrive_start(&p, "temperamental", args);
	for (unsigned i = 1; i <= 600 && !first; i++) {
		uint16_t st = write_blk(&p, i % 64, i, NULL);

		if (st == NVME_SC_SUCCESS)
			continue;
		assert_status(st, NVME_STATUS(NVME_SCT_COMMAND_SPECIFIC,
					      NVME_SC_ATTEMPTED_WRITE_TO_RO_RANGE));
		first = i;
	}
	if (!first)
		fail_msg("seed %llu: no write failed in 600 at p=0.05", (unsigned long long)seed);
	for (unsigned i = 0; i < 5; i++)
		assert_status(write_blk(&p, i, 1000 + i, NULL),
			      NVME_STATUS(NVME_SCT_COMMAND_SPECIFIC,
					  NVME_SC_ATTEMPTED_WRITE_TO_RO_RANGE));
	/* Reads are not affected. */
	assert_status(itest_read(p.q, 1, 0, 1, (uint8_t[LBA]){0}, LBA), NVME_SC_SUCCESS);
	pdrive_stop(&p);
	print_message("# temperamental seed %llu: first failing write %u\n",
		      (unsigned long long)seed, first);
	return first;
}

static void test_temperamental(void **state)
{
	unsigned a = temperamental_run(42), b = temperamental_run(42), c = temperamental_run(7);

	assert_int_equal(a, b);
	/* Fixed seeds, so this is deterministic too. */
	assert_int_not_equal(a, c);
}

/* ---- reincarnation -------------------------------------------------------------- */

static void test_reincarnation(void **state)
{
	struct pdrive p = {0};

	pdrive_start(&p, "reincarnation", "n=5,k=2");
	for (unsigned i = 1; i <= 21; i++) {
		/* 1-5 ok, 6-7 fail, 8-12 ok, 13-14 fail, 15-19 ok, 20-21 fail */
		bool fails = (i - 1) % 7 >= 5;
		struct nvme_cqe cqe;
		uint16_t st = write_blk(&p, i, i, &cqe);

		if (fails) {
			assert_status(st, NVME_STATUS(NVME_SCT_COMMAND_SPECIFIC,
						      NVME_SC_ATTEMPTED_WRITE_TO_RO_RANGE));
			assert_false(fdr_host_status(&cqe) & NVME_STATUS_DNR);
		} else {
			assert_status(st, NVME_SC_SUCCESS);
		}
		assert_true(blk_is(&p, i, fails ? 0 : i));
	}
	pdrive_stop(&p);
}

/* ---- sum ---------------------------------------------------------------------- */

static uint16_t admin_80h(struct pdrive *p, uint32_t nsid, uint32_t cdw10, uint32_t cdw11,
			  uint32_t *cdw0)
{
	struct nvme_sqe cmd;
	struct nvme_cqe cqe;
	uint16_t st;

	memset(&cmd, 0, sizeof(cmd));
	cmd.opc = 0x80;
	cmd.nsid = nsid;
	cmd.cdw10 = cdw10;
	cmd.cdw11 = cdw11;
	st = itest_admin(p->c, &cmd, NULL, 0, &cqe);
	*cdw0 = cqe.cdw0;
	return st;
}

static void test_sum(void **state)
{
	struct pdrive p = {0};
	uint32_t cdw0;

	/* Without the plug-in 80h is Format NVM: with CDW10 = 0 (LBA format
	 * 0) it erases namespace 1.  That is what the plug-in must prevent. */
	pdrive_start(&p, NULL, "");
	assert_status(write_blk(&p, 0, 77, NULL), NVME_SC_SUCCESS);
	assert_status(admin_80h(&p, 1, 0, 7, &cdw0), NVME_SC_SUCCESS);
	assert_true(blk_is(&p, 0, 0));
	pdrive_stop(&p);

	pdrive_start(&p, "sum", "");
	for (unsigned i = 0; i < 4; i++)
		assert_status(write_blk(&p, i, 50 + i, NULL), NVME_SC_SUCCESS);
	/* nvme admin-passthru --opcode=0x80 --cdw10=10 --cdw11=5 -r: 0xf */
	assert_status(admin_80h(&p, 0, 10, 5, &cdw0), NVME_SC_SUCCESS);
	assert_int_equal(cdw0, 0xf);
	/* What would be a valid Format of namespace 1 */
	assert_status(admin_80h(&p, 1, 0, 7, &cdw0), NVME_SC_SUCCESS);
	assert_int_equal(cdw0, 7);
	assert_status(admin_80h(&p, NVME_NSID_ALL, 0xffffffffu, 2, &cdw0), NVME_SC_SUCCESS);
	assert_int_equal(cdw0, 1);
	for (unsigned i = 0; i < 4; i++)
		assert_true(blk_is(&p, i, 50 + i)); /* not formatted */
	pdrive_stop(&p);
}

/* ---- trace -------------------------------------------------------------------- */

static void test_trace(void **state)
{
	char path[] = "/tmp/fdr-trace-XXXXXX", args[PATH_MAX], line[1024];
	struct pdrive p = {0};
	uint8_t buf[2 * LBA];
	bool adm_identify = false, io_write = false, io_read = false, cpl_ok = false;
	bool cpl_err = false, reg_cc = false, reg_csts = false, adm_prop = false;
	unsigned long long prev_idx = 0, nlines = 0;
	long long prev_ns = 0;
	int fd = mkstemp(path);
	FILE *f;

	assert_true(fd >= 0);
	close(fd);
	snprintf(args, sizeof(args), "file=%s", path);
	pdrive_start(&p, "trace", args);
	itest_fill(buf, sizeof(buf), 5);
	assert_status(itest_write(p.q, 1, 3, 2, buf, sizeof(buf)), NVME_SC_SUCCESS);
	assert_status(itest_read(p.q, 1, 3, 2, buf, sizeof(buf)), NVME_SC_SUCCESS);
	/* A failing command: past the end of the 16 MiB namespace */
	assert_status(itest_read(p.q, 1, 1u << 20, 1, buf, LBA), NVME_SC_LBA_OUT_OF_RANGE);
	pdrive_stop(&p); /* teardown flushes the file */

	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		unsigned long long idx;
		long long sec, nsec;
		unsigned dev;
		int off = 0;

		if (sscanf(line, "[%llu] %lld:%lld ctrl%u %n", &idx, &sec, &nsec, &dev, &off) != 4 ||
		    !off)
			fail_msg("trace line %llu malformed: %s", nlines, line);
		if (nlines == 0)
			print_message("# first trace line: %s", line);
		if (nlines && idx != prev_idx + 1)
			fail_msg("index %llu after %llu: %s", idx, prev_idx, line);
		if (sec * 1000000000 + nsec < prev_ns)
			fail_msg("time goes back: %s", line);
		prev_idx = idx;
		prev_ns = sec * 1000000000 + nsec;
		nlines++;

		const char *ev = line + off;
		if (!strncmp(ev, "ADM SQ=0 ", 9) && strstr(ev, "OPC=Identify ") &&
		    strstr(ev, "CDW10=00000001"))
			adm_identify = true;
		if (!strncmp(ev, "ADM SQ=0 ", 9) && strstr(ev, "OPC=Property Get"))
			adm_prop = true;
		if (!strncmp(ev, "IO SQ=1 ", 8) && strstr(ev, "OPC=Write NSID=0x1 LBA=3 NLB=2"))
			io_write = true;
		if (!strncmp(ev, "IO SQ=1 ", 8) && strstr(ev, "OPC=Read NSID=0x1 LBA=3 NLB=2"))
			io_read = true;
		if (!strncmp(ev, "CPL SQ=", 7) && strstr(ev, "STS=0x0000 CDW0="))
			cpl_ok = true;
		if (!strncmp(ev, "CPL SQ=1 ", 9) && !strstr(ev, "STS=0x0000") &&
		    strstr(ev, "(LBA OUT OF RANGE)"))
			cpl_err = true;
		if (!strncmp(ev, "REG 0014 <- ", 12))
			reg_cc = true;
		if (!strncmp(ev, "REG 001c -> ", 12))
			reg_csts = true;
	}
	fclose(f);
	print_message("# %llu trace lines in %s\n", nlines, path);
	if (!(adm_identify && adm_prop && io_write && io_read && cpl_ok && cpl_err && reg_cc &&
	      reg_csts)) {
		char cmd[PATH_MAX + 16];

		snprintf(cmd, sizeof(cmd), "cat %s >&2", path);
		if (system(cmd))
			fprintf(stderr, "cannot show %s\n", path);
		fail_msg("missing: %s%s%s%s%s%s%s%s", adm_identify ? "" : "ADM Identify; ",
			 adm_prop ? "" : "ADM Property Get; ", io_write ? "" : "IO Write; ",
			 io_read ? "" : "IO Read; ", cpl_ok ? "" : "CPL STS=0; ",
			 cpl_err ? "" : "CPL LBA out of range; ", reg_cc ? "" : "REG CC write; ",
			 reg_csts ? "" : "REG CSTS read");
	}
	if (getenv("FDR_KEEP_TRACE"))
		print_message("# kept %s\n", path);
	else
		unlink(path);
}

/* ---- Two plug-ins, two queues, many writes in flight ------------------------------ */

#define CC_PER_Q 150
#define CC_QD 16

struct cc_queue {
	struct fdr_host_queue *q;
	unsigned submitted, done, ok, ro;
	uint8_t buf[CC_QD][LBA];
	bool busy[CC_QD];
};

struct cc_cb {
	struct cc_queue *cq;
	unsigned slot;
};

static void cc_done(void *arg, const struct nvme_cqe *cqe)
{
	struct cc_cb *cb = arg;
	struct cc_queue *cq = cb->cq;
	uint16_t st = fdr_host_sct_sc(cqe);

	cq->done++;
	cq->busy[cb->slot] = false;
	if (st == NVME_SC_SUCCESS)
		cq->ok++;
	else if (st == NVME_STATUS(NVME_SCT_COMMAND_SPECIFIC, NVME_SC_ATTEMPTED_WRITE_TO_RO_RANGE))
		cq->ro++;
	else
		print_error("unexpected write status %#x\n", st);
}

/*
 * trace and ro_fail (n=100, mode=error, aen=1) at once, with 2 x 150
 * Writes at queue depth 16 on two queues served by two reactors: exactly
 * 100 reach the media whatever the interleaving (the count is atomic),
 * one SMART event is raised, and the trace has a line for every command
 * and completion with increasing indices.
 */
static void test_two_plugins_concurrent(void **state)
{
	char path[] = "/tmp/fdr-trace-XXXXXX", args[PATH_MAX], line[1024];
	static struct cc_queue cq[NR_IOQ];
	struct cc_cb cbs[NR_IOQ][CC_QD];
	struct aer_wait aer = {0};
	struct nvme_sqe cmd;
	struct pdrive p = {0};
	unsigned long long prev_idx = 0, nlines = 0, io_write = 0, cpl_io = 0, cpl_ro = 0, aen = 0;
	int64_t deadline;
	int fd = mkstemp(path);
	FILE *f;

	assert_true(fd >= 0);
	close(fd);
	snprintf(args, sizeof(args), "file=%s", path);
	/* trace first: callbacks run in load order until one takes the
	 * command, so after ro_fail it would miss the writes ro_fail fails. */
	pdrive_start2(&p, "trace", args, "ro_fail", "n=100,mode=error,aen=1");
	assert_status(itest_set_feat(p.c, NVME_FEAT_ASYNC_EVENT, false, 0,
				     NVME_SMART_CRIT_READ_ONLY, NULL, 0, NULL),
		      NVME_SC_SUCCESS);
	memset(&cmd, 0, sizeof(cmd));
	cmd.opc = NVME_ADM_ASYNC_EVENT_REQUEST;
	assert_int_equal(fdr_host_submit(fdr_host_admin_queue(p.c), &cmd, NULL, 0, aer_done, &aer),
			 0);
	assert_true(fdr_host_flush(fdr_host_admin_queue(p.c)) >= 0);

	memset(cq, 0, sizeof(cq));
	for (unsigned i = 0; i < NR_IOQ; i++) {
		cq[i].q = fdr_host_ioq(p.c, i);
		assert_non_null(cq[i].q);
	}
	deadline = now_us() + 30000000;
	while ((cq[0].done < CC_PER_Q || cq[1].done < CC_PER_Q) && now_us() < deadline) {
		for (unsigned i = 0; i < NR_IOQ; i++) {
			for (unsigned s = 0; s < CC_QD && cq[i].submitted < CC_PER_Q; s++) {
				if (cq[i].busy[s])
					continue;
				unsigned k = cq[i].submitted;
				itest_fill(cq[i].buf[s], LBA, 1000 * (i + 1) + k);
				itest_rw_cmd(&cmd, NVME_IO_WRITE, 1, i * CC_PER_Q + k, 1);
				cbs[i][s] = (struct cc_cb){&cq[i], s};
				assert_int_equal(fdr_host_submit(cq[i].q, &cmd, cq[i].buf[s], LBA,
								 cc_done, &cbs[i][s]),
						 0);
				cq[i].busy[s] = true;
				cq[i].submitted++;
			}
			assert_true(fdr_host_poll(cq[i].q, 1) >= 0);
		}
	}
	print_message("# queue 1: %u ok %u read-only; queue 2: %u ok %u read-only\n", cq[0].ok,
		      cq[0].ro, cq[1].ok, cq[1].ro);
	assert_int_equal(cq[0].done + cq[1].done, NR_IOQ * CC_PER_Q);
	assert_int_equal(cq[0].ok + cq[1].ok, 100);
	assert_int_equal(cq[0].ro + cq[1].ro, NR_IOQ * CC_PER_Q - 100);

	deadline = now_us() + 5000000;
	while (!aer.done && now_us() < deadline)
		assert_true(fdr_host_poll(fdr_host_admin_queue(p.c), 100) >= 0);
	assert_true(aer.done);
	assert_int_equal(aer.cqe.cdw0, NVME_AER_CDW0(NVME_AER_TYPE_SMART,
						     NVME_AER_SMART_RELIABILITY, NVME_LOG_SMART));
	pdrive_stop(&p);

	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		unsigned long long idx;
		long long sec, nsec;
		unsigned dev;
		int off = 0;

		if (sscanf(line, "[%llu] %lld:%lld ctrl%u %n", &idx, &sec, &nsec, &dev, &off) != 4 ||
		    !off)
			fail_msg("trace line %llu malformed: %s", nlines, line);
		if (nlines && idx != prev_idx + 1)
			fail_msg("index %llu after %llu: %s", idx, prev_idx, line);
		prev_idx = idx;
		nlines++;
		const char *ev = line + off;
		io_write += !strncmp(ev, "IO SQ=", 6) && strstr(ev, "OPC=Write NSID=0x1 LBA=");
		if (!strncmp(ev, "CPL SQ=1 ", 9) || !strncmp(ev, "CPL SQ=2 ", 9)) {
			cpl_io++;
			cpl_ro += strstr(ev, "STS=0x4182 ") && strstr(ev, "(WRITE TO RO PAGE)");
		}
		aen += !strncmp(ev, "AEN CDW0=0x20001 ", 17);
	}
	fclose(f);
	unlink(path);
	print_message("# trace: %llu lines, %llu writes, %llu I/O completions (%llu read-only), "
		      "%llu AEN\n", nlines, io_write, cpl_io, cpl_ro, aen);
	assert_int_equal(io_write, NR_IOQ * CC_PER_Q);
	/* + the two I/O queue Connects */
	assert_int_equal(cpl_io, NR_IOQ * CC_PER_Q + NR_IOQ);
	assert_int_equal(cpl_ro, NR_IOQ * CC_PER_Q - 100);
	assert_int_equal(aen, 1);
}

/* ---- latency ------------------------------------------------------------------ */

static void test_latency(void **state)
{
	struct pdrive p = {0};
	uint8_t buf[LBA];
	int64_t t0, dt;

	pdrive_start(&p, "latency", "us=200000,opc=read");
	itest_fill(buf, sizeof(buf), 9);
	t0 = now_us();
	assert_status(itest_write(p.q, 1, 0, 1, buf, sizeof(buf)), NVME_SC_SUCCESS);
	dt = now_us() - t0;
	print_message("# write: %lld us\n", (long long)dt);
	assert_true(dt < 150000);
	for (unsigned i = 0; i < 2; i++) {
		t0 = now_us();
		assert_true(blk_is(&p, 0, 9));
		dt = now_us() - t0;
		print_message("# read: %lld us\n", (long long)dt);
		assert_true(dt >= 200000);
	}
	pdrive_stop(&p);

	/* A random range on writes; reads untouched. */
	pdrive_start(&p, "latency", "opc=write,min_us=20000,max_us=40000,seed=3");
	for (unsigned i = 0; i < 4; i++) {
		t0 = now_us();
		assert_status(write_blk(&p, i, 20 + i, NULL), NVME_SC_SUCCESS);
		dt = now_us() - t0;
		print_message("# write: %lld us\n", (long long)dt);
		assert_true(dt >= 20000);
	}
	t0 = now_us();
	assert_true(blk_is(&p, 3, 23));
	assert_true(now_us() - t0 < 20000 * 5);
	pdrive_stop(&p);
}

/* ---- stall: held commands finished from another thread ---------------------------- */

static void test_stall(void **state)
{
	struct pdrive p = {0};
	struct nvme_cqe cqe;
	int64_t t0, dt;

	/* Reads held for 300 ms, then let go: they run and return the data. */
	pdrive_start(&p, "stall", "opc=read,ms=300");
	assert_status(write_blk(&p, 7, 70, NULL), NVME_SC_SUCCESS);
	t0 = now_us();
	assert_true(blk_is(&p, 7, 70));
	dt = now_us() - t0;
	print_message("# held read: %lld us\n", (long long)dt);
	assert_true(dt >= 300000);
	pdrive_stop(&p);

	/* Every 2nd write held 200 ms, then completed by the plug-in's thread
	 * with 01h/82h: the write never happened. */
	pdrive_start(&p, "stall", "opc=write,every=2,ms=200,status=0x182");
	assert_status(write_blk(&p, 1, 11, NULL), NVME_SC_SUCCESS);
	t0 = now_us();
	assert_status(write_blk(&p, 2, 12, &cqe),
		      NVME_STATUS(NVME_SCT_COMMAND_SPECIFIC, NVME_SC_ATTEMPTED_WRITE_TO_RO_RANGE));
	dt = now_us() - t0;
	assert_true(dt >= 200000);
	assert_true(blk_is(&p, 1, 11));
	assert_false(blk_is(&p, 2, 12));
	pdrive_stop(&p);
}

/* ---- corrupt ------------------------------------------------------------------ */

static void test_corrupt(void **state)
{
	enum { NLB = 32, FIRST = 10, LAST = 19, NBYTES = 2, MASK = 0x5a };
	uint8_t *w = itest_alloc(NLB * LBA), *r = itest_alloc(NLB * LBA), *want = itest_alloc(NLB * LBA);
	struct pdrive p = {0};

	pdrive_start(&p, "corrupt", "lba=10-19,mask=0x5a,bytes=2");
	itest_fill(w, NLB * LBA, 31);
	assert_status(itest_write(p.q, 1, 0, NLB, w, NLB * LBA), NVME_SC_SUCCESS);
	memcpy(want, w, NLB * LBA);
	for (unsigned b = FIRST; b <= LAST; b++)
		for (unsigned i = 0; i < NBYTES; i++)
			want[b * LBA + i] ^= MASK;

	/* Twice: the media keeps the right data, the same bytes go wrong. */
	for (unsigned round = 0; round < 2; round++) {
		size_t ndiff = 0;

		assert_status(itest_read(p.q, 1, 0, NLB, r, NLB * LBA), NVME_SC_SUCCESS);
		for (size_t i = 0; i < NLB * LBA; i++)
			ndiff += r[i] != w[i];
		assert_int_equal(ndiff, (LAST - FIRST + 1) * NBYTES);
		assert_true(itest_same(r, want, NLB * LBA, "corrupted read"));
	}
	/* A read that starts inside the range */
	assert_status(itest_read(p.q, 1, 15, 10, r, 10 * LBA), NVME_SC_SUCCESS);
	assert_true(itest_same(r, want + 15 * LBA, 10 * LBA, "read of LBAs 15-24"));
	/* and one outside it */
	assert_status(itest_read(p.q, 1, 20, 12, r, 12 * LBA), NVME_SC_SUCCESS);
	assert_true(itest_same(r, w + 20 * LBA, 12 * LBA, "read of LBAs 20-31"));
	pdrive_stop(&p);
	free(w);
	free(r);
	free(want);
}

/* ---- Loading and unloading while I/O runs ---------------------------------------- */

struct io_loop {
	struct fdr_host_queue *q;
	uint64_t first_lba; /* each loop its own 4096 blocks: no overlapping I/O */
	bool stop;          /* atomic */
	unsigned long nr, errors; /* transport errors, or a status other than success */
};

/* Writes and reads on one queue until told to stop (no cmocka calls here:
 * not the test's thread). */
static void *io_loop_run(void *arg)
{
	struct io_loop *l = arg;
	uint8_t buf[8 * LBA];
	struct nvme_sqe cmd;
	struct nvme_cqe cqe;

	while (!__atomic_load_n(&l->stop, __ATOMIC_RELAXED)) {
		uint64_t lba = l->first_lba + (l->nr * 8) % 4096;

		itest_fill(buf, sizeof(buf), l->nr);
		itest_rw_cmd(&cmd, (l->nr & 1) ? NVME_IO_READ : NVME_IO_WRITE, 1, lba, 8);
		if (fdr_host_io(l->q, &cmd, buf, sizeof(buf), &cqe) || fdr_host_sct_sc(&cqe))
			l->errors++;
		l->nr++;
	}
	return NULL;
}

/* `frankendrive ctl -s sock ARGS...`: its exit status; output to the test log. */
static int ctl(const char *sock, const char *a1, const char *a2, const char *a3)
{
	pid_t pid;
	int st;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		execl(itest_drive_path(), itest_drive_path(), "ctl", "-s", sock, a1, a2, a3,
		      (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/*
 * trace, latency (with delays pending), corrupt and ro_fail loaded and
 * unloaded through the control socket, over and over, while two threads
 * keep I/O going on two queues: teardown() must be safe against callbacks
 * running on the reactors, and the drive must stay sanitizer-clean.
 */
static void test_load_unload_under_io(void **state)
{
	static const char *const names[] = {"trace", "latency", "corrupt", "ro_fail"};
	char trace_path[] = "/tmp/fdr-trace-XXXXXX", sock[PATH_MAX + 16], spec[4][PATH_MAX + 64];
	struct io_loop loops[NR_IOQ];
	pthread_t th[NR_IOQ];
	const char *argv[16];
	struct itest_drive d;
	struct fdr_host_ctrl *c;
	int fd = mkstemp(trace_path);

	assert_true(fd >= 0);
	close(fd);
	plugin_spec(spec[0], sizeof(spec[0]), g_plugin_dir, "trace", "");
	strncat(spec[0], ",file=", sizeof(spec[0]) - strlen(spec[0]) - 1);
	strncat(spec[0], trace_path, sizeof(spec[0]) - strlen(spec[0]) - 1);
	plugin_spec(spec[1], sizeof(spec[1]), g_plugin_dir, "latency", "min_us=0,max_us=3000");
	plugin_spec(spec[2], sizeof(spec[2]), g_plugin_dir, "corrupt", "lba=0-100");
	plugin_spec(spec[3], sizeof(spec[3]), g_plugin_dir, "ro_fail", "n=1000000");

	argv[0] = "--ns";
	argv[1] = "ram,size=16M,lba=512";
	argv[2] = "--queues";
	argv[3] = "2";
	argv[4] = "--cores";
	argv[5] = "2";
	argv[6] = "-n";
	argv[7] = ITEST_NQN;
	argv[8] = "--ctl";
	argv[9] = "@TMP@/ctl.sock";
	argv[10] = NULL;
	if (itest_drive_start(&d, false, argv))
		fail_msg("the drive did not start");
	snprintf(sock, sizeof(sock), "%s/ctl.sock", d.tmpdir);
	c = itest_connect(&d, NR_IOQ, 32);
	for (unsigned i = 0; i < NR_IOQ; i++) {
		loops[i] = (struct io_loop){.q = fdr_host_ioq(c, i), .first_lba = 4096 * i};
		assert_non_null(loops[i].q);
		assert_int_equal(pthread_create(&th[i], NULL, io_loop_run, &loops[i]), 0);
	}
	for (unsigned round = 0; round < 5; round++) {
		for (unsigned i = 0; i < 4; i++)
			assert_int_equal(ctl(sock, "plugin", "load", spec[i]), 0);
		usleep(50000);
		for (unsigned i = 0; i < 4; i++)
			assert_int_equal(ctl(sock, "plugin", "unload", names[i]), 0);
	}
	for (unsigned i = 0; i < NR_IOQ; i++) {
		__atomic_store_n(&loops[i].stop, true, __ATOMIC_RELAXED);
		pthread_join(th[i], NULL);
		print_message("# queue %u: %lu commands, %lu errors\n", i + 1, loops[i].nr,
			      loops[i].errors);
		assert_true(loops[i].nr > 0);
		assert_int_equal(loops[i].errors, 0);
	}
	if (fdr_host_disconnect(c))
		fail_msg("orderly disconnect failed");
	if (itest_drive_stop(&d))
		fail_msg("the drive did not stop cleanly");
	unlink(trace_path);
}

/* ---- Refused plug-ins ------------------------------------------------------------ */

/*
 * Start the drive with --plugin spec and expect it to refuse: exit non-zero
 * within 10 s, without listening, and with needle in its output.
 */
static void expect_refused(const char *spec, const char *needle)
{
	char out[] = "/tmp/fdr-plugin-refused-XXXXXX", listen[64], text[16384];
	int fd = mkstemp(out), st = 0, port = itest_free_port();
	int64_t deadline = now_us() + 10000000;
	ssize_t n;
	pid_t pid, w = 0;

	assert_true(fd >= 0 && port > 0);
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
	print_message("# expecting refusal: --plugin %s\n", spec);
	fflush(stdout);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fd, 1);
		dup2(fd, 2);
		execl(itest_drive_path(), itest_drive_path(), "-l", listen, "--discovery-port", "0",
		      "--ns", "ram,size=4M", "-n", ITEST_NQN, "--no-ctl", "--no-record", "--plugin", spec,
		      (char *)NULL);
		_exit(127);
	}
	while ((w = waitpid(pid, &st, WNOHANG)) == 0 && now_us() < deadline)
		usleep(10000);
	if (w != pid) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	n = pread(fd, text, sizeof(text) - 1, 0);
	text[n > 0 ? n : 0] = '\0';
	close(fd);
	unlink(out);
	print_message("# drive said: %s", text);
	if (w != pid)
		fail_msg("the drive accepted --plugin %s and kept running", spec);
	if (WIFSIGNALED(st))
		fail_msg("the drive died of signal %d with --plugin %s", WTERMSIG(st), spec);
	assert_int_not_equal(WEXITSTATUS(st), 0);
	if (!strstr(text, needle))
		fail_msg("the drive's refusal does not mention \"%s\"", needle);
	if (strstr(text, "Sanitizer") || strstr(text, "runtime error"))
		fail_msg("sanitizer report in the drive's output");
}

static void test_refuse_abi(void **state)
{
	char spec[PATH_MAX];

	plugin_spec(spec, sizeof(spec), g_test_plugin_dir, "plugin_bad_abi", "");
	expect_refused(spec, "ABI");
}

static void test_refuse_no_info(void **state)
{
	char spec[PATH_MAX];

	plugin_spec(spec, sizeof(spec), g_test_plugin_dir, "plugin_no_info", "");
	expect_refused(spec, "plugin_info");
}

/* setup() attaches to a good tap, then to an unknown one and fails */
static void test_refuse_unknown_tap(void **state)
{
	char spec[PATH_MAX];

	plugin_spec(spec, sizeof(spec), g_test_plugin_dir, "plugin_bad_tap", "");
	expect_refused(spec, "nvme:io:bogus");
}

/* setup() ignores the failed attach (an unknown PCIe tap) and returns 0: still refused */
static void test_refuse_unknown_tap_ignored(void **state)
{
	char spec[PATH_MAX];

	plugin_spec(spec, sizeof(spec), g_test_plugin_dir, "plugin_bad_tap_ignored", "");
	expect_refused(spec, "pci:bogus:writeback");
}

static void test_refuse_bad_args(void **state)
{
	char spec[PATH_MAX];

	plugin_spec(spec, sizeof(spec), g_plugin_dir, "ro_fail", "n=five");
	expect_refused(spec, "n=five");
	plugin_spec(spec, sizeof(spec), g_plugin_dir, "corrupt", "mask=3");
	expect_refused(spec, "lba=");
	plugin_spec(spec, sizeof(spec), g_plugin_dir, "latency", "opc=frobnicate");
	expect_refused(spec, "frobnicate");
}

static void test_refuse_missing(void **state)
{
	expect_refused("/nonexistent/plugin.so", "/nonexistent/plugin.so");
}

static void dir_arg(char *dst, int argc, char **argv, int i, const char *env)
{
	const char *v = argc > i && argv[i][0] ? argv[i] : getenv(env);

	if (!v) {
		fprintf(stderr, "test_plugins: no plug-in directory (argv[%d] or %s)\n", i, env);
		exit(77);
	}
	snprintf(dst, PATH_MAX, "%s", v);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ro_fail_silent),
		cmocka_unit_test(test_ro_fail_error),
		cmocka_unit_test(test_ro_fail_aen),
		cmocka_unit_test(test_temperamental),
		cmocka_unit_test(test_reincarnation),
		cmocka_unit_test(test_sum),
		cmocka_unit_test(test_trace),
		cmocka_unit_test(test_two_plugins_concurrent),
		cmocka_unit_test(test_latency),
		cmocka_unit_test(test_corrupt),
		cmocka_unit_test(test_stall),
		cmocka_unit_test(test_load_unload_under_io),
		cmocka_unit_test(test_refuse_abi),
		cmocka_unit_test(test_refuse_no_info),
		cmocka_unit_test(test_refuse_unknown_tap),
		cmocka_unit_test(test_refuse_unknown_tap_ignored),
		cmocka_unit_test(test_refuse_bad_args),
		cmocka_unit_test(test_refuse_missing),
	};

	itest_init(argc, argv);
	dir_arg(g_plugin_dir, argc, argv, 2, "FDR_PLUGIN_DIR");
	dir_arg(g_test_plugin_dir, argc, argv, 3, "FDR_TEST_PLUGIN_DIR");
	return cmocka_run_group_tests_name("plugins", tests, NULL, NULL);
}

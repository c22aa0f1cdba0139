/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fdr_pcie_bench: random read/write load on the drive's NVMe PCIe function
 * over vfio-user, driven by the project's own vfio-user client (no SPDK).
 * It is its own small NVMe PCIe driver: registers and config space through
 * REGION_READ/WRITE, queues and data in one memfd DMA-mapped at PB_IOVA (no
 * hugepages), polled CQs, doorbells stored into the mmap'd doorbell page
 * once per batch, as a real driver does.  One thread polls all queues.
 *
 *   fdr_pcie_bench [options] DIR        (the drive's --vfio-user DIR)
 *
 * Data pointers are PRPs: PRP1 alone up to 4 KiB, PRP1 + PRP2 up to 8 KiB,
 * a PRP list (one page, built once per slot) above; every slot's buffer is
 * page aligned and contiguous in IOVA.  Latency runs from writing the SQE
 * (its doorbell follows with the batch's) to the polling pass that finds
 * the CQE, one clock read per pass.  Any non-zero status is an error,
 * counted over the whole run and reported (the first few in detail).
 * The last line of output is machine readable:
 *   RESULT workload=.. bs=.. qd=.. queues=.. iops=.. mibs=.. mean_us=..
 *          p50_us=.. p99_us=.. p999_us=.. max_us=.. cpu_bench=.. cpu_target=..
 *          errors=.. miscompares=..
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bench_util.h"
#include "fdr_vfu_client.h"
#include "frankendrive/nvme.h"

#define PB_IOVA 0x10000000ull /* where the memfd sits in the drive's view */
#define PB_PAGE 4096u
#define PB_AQ 32u /* admin queue entries */
#define PB_BAR0 0u
#define PB_CONFIG 7u
#define PB_MAGIC 0x70626466u /* "fdbp": a verify header */
#define PB_GEN_UNKNOWN UINT32_MAX /* a failed write: contents undefined */
#define ROUNDUP(x, a) (((x) + (a)-1) / (a) * (a))

enum { W_READ, W_WRITE, W_RW };

struct pb_slot {
	uint64_t t_submit, blk;
	size_t data_off; /* in the memfd */
	uint64_t prp2;
	uint32_t gen; /* written or expected */
	bool write, busy;
};

struct pb_q {
	uint16_t qid, size, sq_tail, cq_head, acid;
	uint8_t phase;
	bool sq_dirty;
	uint32_t sq_off, cq_off, inflight;
	uint32_t *sq_db, *cq_db;
	struct pb_slot *slots;
};

static struct {
	/* options */
	const char *dir;
	int w, rwmix, cpu, target_pid;
	uint32_t bs, qd, nq, nsid, timeout_ms;
	double time_s, ramp_s;
	uint64_t range_slba, range_nlb;
	bool fill, verify;
	/* device */
	struct fdr_vfu_client *c;
	uint64_t cap;
	uint32_t dstrd, lbasz, lbas_per_io, npages;
	uint8_t *db_area;
	uint64_t db_area_off, db_area_size;
	int memfd;
	uint8_t *mem;
	size_t mem_size;
	bool enabled, gone; /* gone: the connection is dead, nothing more to ask */
	struct pb_q aq, *q;
	/* workload */
	uint64_t rng, nblocks, fill_next;
	uint32_t *gen;
	uint8_t *blk_busy;
	bool filling, measuring, stopping;
	/* results: ios and latencies of the measured window, errors of the whole run */
	uint64_t ios, errors, miscompares, lat_sum, lat_max, hist[BENCH_HBUCKETS];
	uint64_t t0, t1;
	double cpu0, cpu1, tcpu0, tcpu1;
} b;

static volatile sig_atomic_t g_sigint;

__attribute__((format(printf, 1, 2))) static int pb_err(const char *fmt, ...)
{
	va_list ap;

	fputs("fdr_pcie_bench: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

/* ---- Registers --------------------------------------------------------------------------- */

/* A transport failure (the client closes a stream it cannot follow) ends all talk. */
static void check_gone(int rc)
{
	if (rc == -EPIPE || rc == -ECONNRESET || fdr_vfu_client_fd(b.c) < 0)
		b.gone = true;
}

static int reg_rd(unsigned region, uint64_t off, uint32_t size, uint64_t *v)
{
	int rc;

	*v = 0;
	rc = fdr_vfu_client_region_read(b.c, region, off, v, size);
	check_gone(rc);
	if (rc != (int)size)
		return pb_err("%s read at %#" PRIx64 ": %s", region ? "config" : "BAR0", off,
			      rc < 0 ? fdr_vfu_client_error(b.c) : "short read");
	return 0;
}

static int reg_wr(unsigned region, uint64_t off, uint32_t size, uint64_t v)
{
	int rc = fdr_vfu_client_region_write(b.c, region, off, &v, size, false);

	check_gone(rc);
	if (rc != (int)size)
		return pb_err("%s write at %#" PRIx64 ": %s", region ? "config" : "BAR0", off,
			      rc < 0 ? fdr_vfu_client_error(b.c) : "short write");
	return 0;
}

/* Why commands stopped completing, if the controller can tell; NULL if it looks fine. */
static const char *ctrl_trouble(void)
{
	static char why[300];
	uint64_t csts = 0;
	int rc = fdr_vfu_client_region_read(b.c, PB_BAR0, NVME_REG_CSTS, &csts, 4);

	check_gone(rc);
	if (rc != 4)
		snprintf(why, sizeof(why), "the drive does not answer (%s)",
			 fdr_vfu_client_error(b.c));
	else if (csts & NVME_CSTS_CFS)
		snprintf(why, sizeof(why), "controller fatal status (CSTS %#" PRIx64 ")", csts);
	else
		return NULL;
	return why;
}

/* Waits for (CSTS & mask) == want within CAP.TO. */
static int wait_csts(uint32_t mask, uint32_t want, bool cfs_ok, const char *what)
{
	uint64_t csts, to_ms = ((b.cap >> NVME_CAP_TO_SHIFT) & 0xff) * 500;
	uint64_t deadline = bench_now_ns() + (to_ms < 1000 ? 1000 : to_ms) * 1000000ull;

	for (;;) {
		if (reg_rd(PB_BAR0, NVME_REG_CSTS, 4, &csts))
			return -1;
		if ((csts & mask) == want)
			return 0;
		if ((csts & NVME_CSTS_CFS) && !cfs_ok)
			return pb_err("controller fatal status (CSTS %#" PRIx64 ") waiting for %s",
				      csts, what);
		if (bench_now_ns() > deadline)
			return pb_err("timeout waiting for %s (CSTS %#" PRIx64 ")", what, csts);
		usleep(1000);
	}
}

static uint32_t *doorbell(uint16_t qid, bool cq)
{
	uint64_t off = NVME_REG_DBS + (2u * qid + cq) * (4u << b.dstrd);

	if (off < b.db_area_off || off + 4 > b.db_area_off + b.db_area_size)
		return NULL;
	return (uint32_t *)(b.db_area + (off - b.db_area_off));
}

/* ---- Queues ------------------------------------------------------------------------------ */

static void q_init(struct pb_q *q, uint16_t qid, uint16_t size, uint32_t sq_off, uint32_t cq_off)
{
	q->qid = qid;
	q->size = size;
	q->sq_off = sq_off;
	q->cq_off = cq_off;
	q->phase = 1;
	q->sq_db = doorbell(qid, false);
	q->cq_db = doorbell(qid, true);
}

static void sq_push(struct pb_q *q, const struct nvme_sqe *cmd)
{
	memcpy(b.mem + q->sq_off + (uint32_t)q->sq_tail * 64, cmd, 64);
	q->sq_tail = (uint16_t)((q->sq_tail + 1) % q->size);
	q->sq_dirty = true;
}

/* The next CQE if the controller posted it (phase tag), consumed; no doorbell yet. */
static bool cq_pop(struct pb_q *q, struct nvme_cqe *out)
{
	uint8_t *e = b.mem + q->cq_off + (uint32_t)q->cq_head * 16;

	if ((__atomic_load_n((uint16_t *)(e + 14), __ATOMIC_ACQUIRE) & 1) != q->phase)
		return false;
	memcpy(out, e, 16);
	if (++q->cq_head == q->size) {
		q->cq_head = 0;
		q->phase ^= 1;
	}
	return true;
}

/* One doorbell store each for the batch: the release orders the SQEs before it. */
static void q_ring(struct pb_q *q, bool cq)
{
	if (q->sq_dirty)
		__atomic_store_n(q->sq_db, q->sq_tail, __ATOMIC_RELEASE);
	q->sq_dirty = false;
	if (cq)
		__atomic_store_n(q->cq_db, q->cq_head, __ATOMIC_RELEASE);
}

/* One admin command, waited for; 0 with *cqe, or -1 said why. */
static int admin(uint8_t opc, uint32_t nsid, uint32_t cdw10, uint32_t cdw11, uint64_t prp1,
		 struct nvme_cqe *cqe, const char *what)
{
	uint64_t deadline = bench_now_ns() + (uint64_t)b.timeout_ms * 1000000ull;
	struct nvme_sqe cmd = { .opc = opc, .cid = b.aq.acid++, .nsid = nsid, .cdw10 = cdw10,
				.cdw11 = cdw11 };
	uint16_t st;

	cmd.dptr.prp1 = prp1;
	sq_push(&b.aq, &cmd);
	q_ring(&b.aq, false);
	while (!cq_pop(&b.aq, cqe)) {
		if (bench_now_ns() > deadline) {
			const char *why = ctrl_trouble();

			return pb_err("%s: no completion within %u ms%s%s", what, b.timeout_ms,
				      why ? ": " : "", why ? why : "");
		}
		usleep(20);
	}
	q_ring(&b.aq, true);
	st = (uint16_t)(cqe->status >> 1);
	if (cqe->cid != cmd.cid)
		return pb_err("%s: completion for CID %u, expected %u", what, cqe->cid, cmd.cid);
	if (st & 0x7ff)
		return pb_err("%s failed: SCT %#x SC %#x", what, NVME_STATUS_SCT(st),
			      NVME_STATUS_SC(st));
	return 0;
}

/* ---- Data pattern (--verify) -------------------------------------------------------------- */

/* Every LBA: its LBA and the block's generation, then words derived from both. */
static void pattern(uint8_t *buf, uint64_t slba, uint32_t gen)
{
	for (uint32_t l = 0; l < b.lbas_per_io; l++) {
		uint64_t *w = (uint64_t *)(buf + (size_t)l * b.lbasz), lba = slba + l;

		w[0] = lba;
		w[1] = (uint64_t)gen << 32 | PB_MAGIC;
		for (uint32_t i = 2; i < b.lbasz / 8; i++)
			w[i] = (lba * 0x9e3779b97f4a7c15ull) ^ ((uint64_t)gen << 40) ^ i;
	}
}

/* 0, or reports the first LBA that differs and returns -1. */
static int check(const uint8_t *buf, uint64_t slba, uint32_t gen)
{
	for (uint32_t l = 0; l < b.lbas_per_io; l++) {
		const uint64_t *w = (const uint64_t *)(buf + (size_t)l * b.lbasz);
		uint64_t lba = slba + l;
		uint32_t i = w[0] != lba ? 0 : w[1] != ((uint64_t)gen << 32 | PB_MAGIC) ? 1 : 2;

		for (; i >= 2 && i < b.lbasz / 8; i++)
			if (w[i] != ((lba * 0x9e3779b97f4a7c15ull) ^ ((uint64_t)gen << 40) ^ i))
				break;
		if (i == b.lbasz / 8)
			continue;
		if (b.miscompares < 5)
			pb_err("miscompare at LBA %" PRIu64 ": expected generation %u, found LBA %"
			       PRIu64 " generation %u magic %#x, first bad word %u", lba, gen, w[0],
			       (uint32_t)(w[1] >> 32), (uint32_t)w[1], i);
		return -1;
	}
	return 0;
}

/* ---- I/O --------------------------------------------------------------------------------- */

/* A random block; under --verify one with no command in flight, so data is defined. */
static uint64_t pick_block(void)
{
	uint64_t blk = bench_rnd(&b.rng) % b.nblocks;

	while (b.verify && b.blk_busy[blk])
		blk = blk + 1 < b.nblocks ? blk + 1 : 0;
	return blk;
}

static bool submit(struct pb_q *q, uint16_t i, uint64_t now)
{
	struct pb_slot *s = &q->slots[i];
	struct nvme_sqe cmd;
	uint64_t slba;

	if (b.filling) {
		if (b.fill_next >= b.nblocks)
			return false;
		s->blk = b.fill_next++;
		s->write = true;
	} else {
		s->blk = pick_block();
		s->write = b.w == W_WRITE || (b.w == W_RW && bench_rnd(&b.rng) % 100 >= (unsigned)b.rwmix);
	}
	slba = b.range_slba + s->blk * b.lbas_per_io;
	if (b.verify) {
		b.blk_busy[s->blk] = 1;
		if (s->write) {
			/* The generation is the block's once the write is submitted. */
			s->gen = b.gen[s->blk] + 1 >= PB_GEN_UNKNOWN ? 1 : b.gen[s->blk] + 1;
			b.gen[s->blk] = s->gen;
			pattern(b.mem + s->data_off, slba, s->gen);
		} else {
			s->gen = b.gen[s->blk];
		}
	}
	memset(&cmd, 0, sizeof(cmd));
	cmd.opc = s->write ? NVME_IO_WRITE : NVME_IO_READ;
	cmd.cid = i;
	cmd.nsid = b.nsid;
	cmd.dptr.prp1 = PB_IOVA + s->data_off;
	cmd.dptr.prp2 = s->prp2;
	cmd.cdw10 = (uint32_t)slba;
	cmd.cdw11 = (uint32_t)(slba >> 32);
	cmd.cdw12 = b.lbas_per_io - 1;
	s->t_submit = now;
	s->busy = true;
	sq_push(q, &cmd);
	q->inflight++;
	return true;
}

/* Reaps what q completed, resubmits, rings each doorbell once; completions or -1. */
static int poll_q(struct pb_q *q)
{
	uint64_t now = 0;
	struct nvme_cqe cqe;
	int n = 0;

	while (cq_pop(q, &cqe)) {
		struct pb_slot *s = cqe.cid < b.qd ? &q->slots[cqe.cid] : NULL;
		uint16_t st = (uint16_t)(cqe.status >> 1);
		uint64_t lat;

		if (!s || !s->busy || cqe.sqid != q->qid)
			return pb_err("queue %u: completion for CID %u SQID %u not in flight",
				      q->qid, cqe.cid, cqe.sqid);
		if (!n++)
			now = bench_now_ns(); /* one clock read per batch: its end-to-end latency */
		s->busy = false;
		q->inflight--;
		lat = now - s->t_submit;
		if (st & 0x7ff) {
			if (b.errors < 5)
				pb_err("queue %u: %s of LBA %" PRIu64 " failed: SCT %#x SC %#x%s",
				       q->qid, s->write ? "write" : "read",
				       b.range_slba + s->blk * b.lbas_per_io, NVME_STATUS_SCT(st),
				       NVME_STATUS_SC(st), st & NVME_STATUS_DNR ? " DNR" : "");
			b.errors++;
			if (b.verify && s->write)
				b.gen[s->blk] = PB_GEN_UNKNOWN;
		} else if (b.verify && !s->write && s->gen && s->gen != PB_GEN_UNKNOWN &&
			   check(b.mem + s->data_off, b.range_slba + s->blk * b.lbas_per_io,
				 s->gen)) {
			b.miscompares++;
		}
		if (b.verify)
			b.blk_busy[s->blk] = 0;
		if (b.measuring) {
			b.ios++;
			b.lat_sum += lat;
			b.hist[bench_hist_bucket(lat)]++;
			if (lat > b.lat_max)
				b.lat_max = lat;
		}
		if (!b.stopping)
			submit(q, cqe.cid, now);
	}
	if (n)
		q_ring(q, true);
	return n;
}

/*
 * Closed loop on every queue until the fill is through (b.filling) or the
 * ramp and measured time have passed.  0, or -1 when the controller or the
 * drive failed (commands may then be left in flight).
 */
static int run(void)
{
	uint64_t start = bench_now_ns(), last = start, checked = start, inflight;
	uint64_t meas0 = start + (uint64_t)(b.ramp_s * 1e9);
	uint64_t meas1 = meas0 + (uint64_t)(b.time_s * 1e9);

	b.stopping = b.measuring = false;
	for (uint32_t k = 0; k < b.nq; k++) {
		for (uint16_t i = 0; i < b.qd; i++)
			submit(&b.q[k], i, start);
		q_ring(&b.q[k], false);
	}
	for (;;) {
		uint64_t now = bench_now_ns();
		int got = 0;

		if (!b.filling && !b.stopping && !b.measuring && now >= meas0) {
			b.measuring = true;
			b.t0 = now;
			b.cpu0 = bench_self_cpu_s();
			b.tcpu0 = b.target_pid ? bench_proc_cpu_s(b.target_pid) : -1;
		}
		if (!b.stopping && (g_sigint || (!b.filling && now >= meas1))) {
			b.stopping = true;
			if (b.measuring) {
				b.measuring = false;
				b.t1 = now;
				b.cpu1 = bench_self_cpu_s();
				b.tcpu1 = b.target_pid ? bench_proc_cpu_s(b.target_pid) : -1;
			}
		}
		for (uint32_t k = 0; k < b.nq; k++) {
			int n = poll_q(&b.q[k]);

			if (n < 0)
				return -1;
			got += n;
		}
		inflight = 0;
		for (uint32_t k = 0; k < b.nq; k++)
			inflight += b.q[k].inflight;
		if (!inflight && (b.stopping || b.filling))
			return 0;
		if (got) {
			last = checked = now;
			continue;
		}
		/* Stalled: ask the controller once a second, give up after the timeout. */
		if (now - checked > 1000000000ull) {
			const char *why = ctrl_trouble();

			checked = now;
			if (why)
				return pb_err("%" PRIu64 " commands in flight: %s", inflight, why);
		}
		if (now - last > (uint64_t)b.timeout_ms * 1000000ull)
			return pb_err("%" PRIu64 " commands without completion for %u ms", inflight,
				      b.timeout_ms);
	}
}

/* ---- Bring-up and teardown ------------------------------------------------------------- */

static int connect_drive(void)
{
	uint64_t t0 = bench_now_ns();
	char err[256] = "";

	/* The previous host's departure may not be processed yet: retry briefly. */
	for (;;) {
		b.c = fdr_vfu_client_connect(b.dir, err, sizeof(err));
		if (b.c && fdr_vfu_client_version(b.c, 0, 1, NULL, NULL, NULL, NULL, 0) == 0)
			break;
		if (b.c) {
			snprintf(err, sizeof(err), "%s", fdr_vfu_client_error(b.c));
			fdr_vfu_client_close(b.c);
			b.c = NULL;
		}
		if (bench_now_ns() - t0 > 5000000000ull)
			return pb_err("no drive at %s: %s", b.dir, err);
		usleep(20000);
	}
	fdr_vfu_client_set_timeout(b.c, (int)b.timeout_ms);
	return 0;
}

static int map_doorbells(void)
{
	struct fdr_vfu_client_region ri;
	int fd = -1;

	if (fdr_vfu_client_region_info(b.c, PB_BAR0, 0, &ri, &fd) < 0)
		return pb_err("BAR0 region info: %s", fdr_vfu_client_error(b.c));
	if (!(ri.flags & FDR_VFUC_REGION_MMAP) || !ri.nr_areas || fd < 0) {
		if (fd >= 0)
			close(fd);
		return pb_err("BAR0 offers no mappable doorbell area");
	}
	b.db_area = fdr_vfu_client_map_area(&ri, fd, 0);
	if (!b.db_area)
		pb_err("mmap of the doorbell area: %s", strerror(errno));
	close(fd);
	if (!b.db_area)
		return -1;
	b.db_area_off = ri.areas[0].offset;
	b.db_area_size = ri.areas[0].size;
	return 0;
}

/* Queues, PRP lists and data in one memfd, DMA-mapped at PB_IOVA. */
static int setup_memory(uint16_t qsize)
{
	size_t off = 3 * PB_PAGE; /* ASQ, ACQ, Identify buffer */
	size_t sq_bytes = ROUNDUP((size_t)qsize * 64, PB_PAGE);
	size_t cq_bytes = ROUNDUP((size_t)qsize * 16, PB_PAGE);
	size_t prpl_off, data_off;

	b.q = calloc(b.nq, sizeof(*b.q));
	if (!b.q)
		return pb_err("out of memory");
	q_init(&b.aq, 0, PB_AQ, 0, PB_PAGE);
	for (uint32_t k = 0; k < b.nq; k++) {
		q_init(&b.q[k], (uint16_t)(k + 1), qsize, (uint32_t)off, (uint32_t)(off + sq_bytes));
		off += sq_bytes + cq_bytes;
		if (!b.q[k].sq_db || !b.q[k].cq_db)
			return pb_err("doorbells of queue %u outside the mapped area", k + 1);
		b.q[k].slots = calloc(b.qd, sizeof(struct pb_slot));
		if (!b.q[k].slots)
			return pb_err("out of memory");
	}
	if (!b.aq.sq_db || !b.aq.cq_db)
		return pb_err("admin doorbells outside the mapped area");
	prpl_off = off;
	if (b.npages > 2)
		off += (size_t)b.nq * b.qd * PB_PAGE;
	data_off = off;
	off += (size_t)b.nq * b.qd * b.npages * PB_PAGE;
	b.mem_size = off;
	b.memfd = memfd_create("fdr-pcie-bench", MFD_CLOEXEC);
	if (b.memfd < 0 || ftruncate(b.memfd, (off_t)b.mem_size))
		return pb_err("memfd of %zu bytes: %s", b.mem_size, strerror(errno));
	b.mem = mmap(NULL, b.mem_size, PROT_READ | PROT_WRITE, MAP_SHARED, b.memfd, 0);
	if (b.mem == MAP_FAILED) {
		b.mem = NULL;
		return pb_err("mmap of %zu bytes: %s", b.mem_size, strerror(errno));
	}
	for (uint32_t k = 0, n = 0; k < b.nq; k++) {
		for (uint32_t i = 0; i < b.qd; i++, n++) {
			struct pb_slot *s = &b.q[k].slots[i];

			s->data_off = data_off + (size_t)n * b.npages * PB_PAGE;
			/* Writes without --verify carry this; zeros might be special-cased. */
			memset(b.mem + s->data_off, 0x5a + (int)(n & 0x3f), (size_t)b.npages * PB_PAGE);
			if (b.npages == 2)
				s->prp2 = PB_IOVA + s->data_off + PB_PAGE;
			if (b.npages > 2) {
				uint64_t *list = (uint64_t *)(b.mem + prpl_off + (size_t)n * PB_PAGE);

				for (uint32_t p = 1; p < b.npages; p++)
					list[p - 1] = PB_IOVA + s->data_off + (uint64_t)p * PB_PAGE;
				s->prp2 = PB_IOVA + prpl_off + (uint64_t)n * PB_PAGE;
			}
		}
	}
	if (fdr_vfu_client_dma_map(b.c, PB_IOVA, b.mem_size, b.memfd, 0,
				   FDR_VFUC_DMA_READ | FDR_VFUC_DMA_WRITE))
		return pb_err("DMA_MAP of %zu bytes: %s", b.mem_size, fdr_vfu_client_error(b.c));
	return 0;
}

static int bring_up(void)
{
	struct nvme_cqe cqe;
	struct nvme_id_ctrl *idc;
	struct nvme_id_ns *idn;
	uint64_t v, nsze;
	uint32_t mqes, mdts_bytes, nq_got;
	uint16_t qsize;

	if (connect_drive() || map_doorbells() || reg_rd(PB_BAR0, NVME_REG_CAP, 8, &b.cap))
		return -1;
	b.dstrd = (uint32_t)(b.cap >> NVME_CAP_DSTRD_SHIFT) & 0xf;
	mqes = NVME_CAP_MQES(b.cap);
	if (((b.cap >> NVME_CAP_MPSMIN_SHIFT) & 0xf) != 0)
		return pb_err("CAP.MPSMIN is not 4 KiB pages (CAP %#" PRIx64 ")", b.cap);
	if (b.qd > mqes)
		return pb_err("--qd %u needs queues of %u entries, CAP.MQES allows %u", b.qd,
			      b.qd + 1, mqes + 1);
	/* As large as allowed: the queue size itself should not shape the result. */
	qsize = (uint16_t)(mqes + 1 < 1024 ? mqes + 1 : 1024);
	b.npages = ROUNDUP(b.bs, PB_PAGE) / PB_PAGE;
	if (b.npages - 1 > PB_PAGE / 8)
		return pb_err("--bs %u needs more than one PRP list page", b.bs);
	if (setup_memory(qsize))
		return -1;
	/* Bus master, or the function touches no host memory; memory space for BAR0. */
	if (reg_rd(PB_CONFIG, 0x04, 2, &v) || reg_wr(PB_CONFIG, 0x04, 2, v | 0x6))
		return -1;
	if (reg_rd(PB_BAR0, NVME_REG_CC, 4, &v))
		return -1;
	if (v & NVME_CC_EN) {
		if (reg_wr(PB_BAR0, NVME_REG_CC, 4, 0) ||
		    wait_csts(NVME_CSTS_RDY, 0, true, "CSTS.RDY=0 before enabling"))
			return -1;
	}
	if (reg_wr(PB_BAR0, NVME_REG_AQA, 4, (PB_AQ - 1) << 16 | (PB_AQ - 1)) ||
	    reg_wr(PB_BAR0, NVME_REG_ASQ, 8, PB_IOVA + b.aq.sq_off) ||
	    reg_wr(PB_BAR0, NVME_REG_ACQ, 8, PB_IOVA + b.aq.cq_off) ||
	    reg_wr(PB_BAR0, NVME_REG_CC, 4,
		   NVME_CC_EN | 6u << NVME_CC_IOSQES_SHIFT | 4u << NVME_CC_IOCQES_SHIFT))
		return -1;
	b.enabled = true;
	if (wait_csts(NVME_CSTS_RDY, NVME_CSTS_RDY, false, "CSTS.RDY=1"))
		return -1;

	if (admin(NVME_ADM_IDENTIFY, 0, NVME_CNS_CTRL, 0, PB_IOVA + 2 * PB_PAGE, &cqe,
		  "Identify Controller"))
		return -1;
	idc = (struct nvme_id_ctrl *)(b.mem + 2 * PB_PAGE);
	mdts_bytes = idc->mdts && idc->mdts < 20 ? PB_PAGE << idc->mdts : 0;
	if (mdts_bytes && b.bs > mdts_bytes)
		return pb_err("--bs %u is above the controller's MDTS (%u bytes)", b.bs, mdts_bytes);

	if (admin(NVME_ADM_IDENTIFY, b.nsid, NVME_CNS_NS, 0, PB_IOVA + 2 * PB_PAGE, &cqe,
		  "Identify Namespace"))
		return -1;
	idn = (struct nvme_id_ns *)(b.mem + 2 * PB_PAGE);
	nsze = idn->nsze;
	v = idn->lbaf[idn->flbas & 0xf].lbads;
	if (!nsze || v < 9 || v > 16)
		return pb_err("namespace %u is not active (NSZE %" PRIu64 ", LBADS %" PRIu64 ")",
			      b.nsid, nsze, v);
	b.lbasz = 1u << v;
	if (b.bs % b.lbasz)
		return pb_err("--bs %u is not a multiple of the LBA size %u", b.bs, b.lbasz);
	if (!b.range_nlb)
		b.range_nlb = nsze - b.range_slba;
	if (b.range_slba >= nsze || b.range_nlb > nsze - b.range_slba)
		return pb_err("--lba-range past the namespace's %" PRIu64 " LBAs", nsze);
	b.lbas_per_io = b.bs / b.lbasz;
	b.nblocks = b.range_nlb / b.lbas_per_io;
	if (b.nblocks < (b.verify ? 2ull * b.qd * b.nq : 1))
		return pb_err("--lba-range holds %" PRIu64 " blocks of %u bytes: too few", b.nblocks,
			      b.bs);

	/* Number of Queues, zero-based, as a driver asks before creating them. */
	if (admin(NVME_ADM_SET_FEATURES, 0, NVME_FEAT_NUM_QUEUES, (b.nq - 1) << 16 | (b.nq - 1), 0,
		  &cqe, "Set Features (Number of Queues)"))
		return -1;
	nq_got = 1 + ((cqe.cdw0 & 0xffff) < (cqe.cdw0 >> 16) ? cqe.cdw0 & 0xffff : cqe.cdw0 >> 16);
	if (nq_got < b.nq)
		return pb_err("the controller grants %u I/O queues, --queues is %u", nq_got, b.nq);
	for (uint32_t k = 0; k < b.nq; k++) {
		struct pb_q *q = &b.q[k];
		uint32_t cdw10 = q->qid | (uint32_t)(q->size - 1) << 16;

		/* CQ: physically contiguous, IEN=0 (polled); SQ: contiguous, on CQ qid. */
		if (admin(NVME_ADM_CREATE_IO_CQ, 0, cdw10, 1, PB_IOVA + q->cq_off, &cqe,
			  "Create I/O CQ") ||
		    admin(NVME_ADM_CREATE_IO_SQ, 0, cdw10, 1u | (uint32_t)q->qid << 16,
			  PB_IOVA + q->sq_off, &cqe, "Create I/O SQ"))
			return -1;
	}
	return 0;
}

/* Delete the queues (if drained), shut down, disable, unmap, close: what can be done. */
static int teardown(bool drained)
{
	struct nvme_cqe cqe;
	uint64_t cc;
	int rc = 0;

	if (b.gone)
		rc = -1; /* said already; the drive resets the controller when we go */
	if (b.c && !b.gone && b.enabled && drained) {
		for (uint32_t k = 0; k < b.nq && !rc; k++)
			rc = admin(NVME_ADM_DELETE_IO_SQ, 0, b.q[k].qid, 0, 0, &cqe, "Delete I/O SQ") ||
			     admin(NVME_ADM_DELETE_IO_CQ, 0, b.q[k].qid, 0, 0, &cqe, "Delete I/O CQ");
	}
	/* Normal shutdown (the drive flushes), then reset; commands still in
	 * flight end there, so memory stays mapped until RDY is 0. */
	if (b.c && !b.gone && b.enabled && !reg_rd(PB_BAR0, NVME_REG_CC, 4, &cc)) {
		if (drained && !rc &&
		    (reg_wr(PB_BAR0, NVME_REG_CC, 4,
			    (cc & ~NVME_CC_SHN_MASK) | NVME_CC_SHN_NORMAL << NVME_CC_SHN_SHIFT) ||
		     wait_csts(NVME_CSTS_SHST_MASK, NVME_CSTS_SHST_COMPLETE << NVME_CSTS_SHST_SHIFT,
			       false, "shutdown (CSTS.SHST complete)")))
			rc = -1;
		if (reg_wr(PB_BAR0, NVME_REG_CC, 4, 0) ||
		    wait_csts(NVME_CSTS_RDY, 0, true, "CSTS.RDY=0 after CC.EN=0"))
			rc = -1;
	} else if (b.c && b.enabled) {
		rc = -1;
	}
	if (b.c && b.mem && !b.gone &&
	    fdr_vfu_client_dma_unmap(b.c, PB_IOVA, b.mem_size, 0))
		rc = pb_err("DMA_UNMAP: %s", fdr_vfu_client_error(b.c));
	fdr_vfu_client_close(b.c);
	if (b.db_area)
		munmap(b.db_area, b.db_area_size);
	if (b.mem)
		munmap(b.mem, b.mem_size);
	if (b.memfd >= 0)
		close(b.memfd);
	for (uint32_t k = 0; b.q && k < b.nq; k++)
		free(b.q[k].slots);
	free(b.q);
	free(b.gen);
	free(b.blk_busy);
	return rc;
}

/* ---- Main -------------------------------------------------------------------------------- */

static void on_sigint(int sig)
{
	g_sigint = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: fdr_pcie_bench [options] DIR   (the drive's --vfio-user DIR)\n"
		"  --workload W        randread | randwrite | randrw (randread)\n"
		"  --rwmixread PCT     reads in randrw, percent (50)\n"
		"  --bs BYTES          I/O size, a multiple of the LBA size, up to MDTS (4096);\n"
		"                      PRP1 up to 4 KiB, PRP1+PRP2 up to 8 KiB, a PRP list above\n"
		"  --qd N              commands in flight per queue (32)\n"
		"  --queues N          I/O queue pairs, all polled by one thread (1)\n"
		"  --time S            measured seconds (10); 0 with --fill: only the fill\n"
		"  --ramp S            unmeasured seconds first (1)\n"
		"  --nsid N            namespace (1)\n"
		"  --lba-range S:N     use LBAs S..S+N-1 (the whole namespace)\n"
		"  --fill              write the range sequentially once first (unmeasured)\n"
		"  --verify            --fill with a pattern (LBA, generation) in every LBA,\n"
		"                      checked on every read; no two commands on a block at once\n"
		"  --cpu N             pin to CPU N\n"
		"  --target-pid PID    also report the CPU use of this process (the drive)\n"
		"  --timeout MS        a command or register wait this long fails the run (5000)\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "workload", required_argument, NULL, 'w' },
		{ "rwmixread", required_argument, NULL, 'M' },
		{ "bs", required_argument, NULL, 'b' },
		{ "qd", required_argument, NULL, 'q' },
		{ "queues", required_argument, NULL, 'Q' },
		{ "time", required_argument, NULL, 't' },
		{ "ramp", required_argument, NULL, 'r' },
		{ "nsid", required_argument, NULL, 'N' },
		{ "lba-range", required_argument, NULL, 'L' },
		{ "fill", no_argument, NULL, 'F' },
		{ "verify", no_argument, NULL, 'V' },
		{ "cpu", required_argument, NULL, 'c' },
		{ "target-pid", required_argument, NULL, 'T' },
		{ "timeout", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const wname[] = { "randread", "randwrite", "randrw" };
	double pct[3] = { 50.0, 99.0, 99.9 }, pv[3] = { 0, 0, 0 }, secs, iops, mean;
	int opt, rc = 0;

	b.qd = 32;
	b.nq = 1;
	b.bs = 4096;
	b.nsid = 1;
	b.rwmix = 50;
	b.cpu = -1;
	b.time_s = 10;
	b.ramp_s = 1;
	b.timeout_ms = 5000;
	b.memfd = -1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'w':
			for (b.w = 0; b.w < 3 && strcmp(optarg, wname[b.w]); b.w++)
				;
			if (b.w == 3)
				goto bad;
			break;
		case 'M': b.rwmix = atoi(optarg); break;
		case 'b': b.bs = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'q': b.qd = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'Q': b.nq = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 't': b.time_s = strtod(optarg, NULL); break;
		case 'r': b.ramp_s = strtod(optarg, NULL); break;
		case 'N': b.nsid = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'L':
			if (sscanf(optarg, "%" SCNu64 ":%" SCNu64, &b.range_slba, &b.range_nlb) != 2 ||
			    !b.range_nlb)
				goto bad;
			break;
		case 'F': b.fill = true; break;
		case 'V': b.verify = b.fill = true; break;
		case 'c': b.cpu = atoi(optarg); break;
		case 'T': b.target_pid = atoi(optarg); break;
		case 'o': b.timeout_ms = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'h': usage(stdout); return 0;
		default: goto bad;
		}
	}
	if (optind != argc - 1 || !b.bs || !b.qd || b.qd > 1023 || !b.nq || b.nq > 64 ||
	    b.time_s < 0 || (b.time_s == 0 && !b.fill) || b.ramp_s < 0 || b.rwmix < 0 ||
	    b.rwmix > 100 || !b.timeout_ms || b.timeout_ms > 600000)
		goto bad;
	b.dir = argv[optind];
	if (b.cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(b.cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set)) {
			pb_err("--cpu %d: %s", b.cpu, strerror(errno));
			return 1;
		}
	}
	signal(SIGINT, on_sigint);
	signal(SIGTERM, on_sigint);
	b.rng = 0x9e3779b97f4a7c15ull ^ bench_now_ns();
	if (bring_up())
		goto fail;
	if (b.verify) {
		b.gen = calloc(b.nblocks, sizeof(*b.gen));
		b.blk_busy = calloc(b.nblocks, 1);
		if (!b.gen || !b.blk_busy) {
			pb_err("out of memory for %" PRIu64 " blocks", b.nblocks);
			goto fail_drained;
		}
	}
	if (b.fill) {
		uint64_t t = bench_now_ns();

		b.filling = true;
		if (run())
			goto fail;
		b.filling = false;
		secs = (double)(bench_now_ns() - t) / 1e9;
		printf("fdr_pcie_bench: fill of %" PRIu64 " MiB in %.2f s, %.0f MiB/s, %" PRIu64
		       " errors\n",
		       b.nblocks * b.bs >> 20, secs, (double)(b.nblocks * b.bs) / 1048576.0 / secs,
		       b.errors);
		if (b.errors || g_sigint)
			goto fail_drained;
	}
	if (b.time_s > 0) {
		if (run())
			goto fail;
		if (!b.t1) /* interrupted during the ramp */
			goto fail_drained;
		secs = (double)(b.t1 - b.t0) / 1e9;
		for (int k = 0; k < 3; k++)
			pv[k] = bench_hist_pct_us(b.hist, b.ios, pct[k]);
		iops = (double)b.ios / secs;
		mean = b.ios ? (double)b.lat_sum / (double)b.ios / 1000.0 : 0;
		printf("fdr_pcie_bench: %s bs=%u qd=%u queues=%u time=%.1fs dir=%s nsid=%u "
		       "(%u-byte LBAs, range %" PRIu64 ":%" PRIu64 ")%s\n",
		       wname[b.w], b.bs, b.qd, b.nq, secs, b.dir, b.nsid, b.lbasz, b.range_slba,
		       b.range_nlb, b.verify ? " verify" : "");
		printf("  IOPS        %.0f\n", iops);
		printf("  bandwidth   %.1f MiB/s\n", iops * b.bs / 1048576.0);
		printf("  latency     mean %.1f us, p50 %.1f us, p99 %.1f us, p99.9 %.1f us, "
		       "max %.1f us\n", mean, pv[0], pv[1], pv[2], (double)b.lat_max / 1000.0);
		printf("  CPU bench   %.1f%% of one core\n", 100.0 * (b.cpu1 - b.cpu0) / secs);
		if (b.target_pid && b.tcpu0 >= 0 && b.tcpu1 >= 0)
			printf("  CPU target  %.1f%% of one core (pid %d)\n",
			       100.0 * (b.tcpu1 - b.tcpu0) / secs, b.target_pid);
		printf("  errors      %" PRIu64 "\n", b.errors);
		if (b.verify)
			printf("  miscompares %" PRIu64 "\n", b.miscompares);
		printf("RESULT workload=%s bs=%u qd=%u queues=%u iops=%.0f mibs=%.1f mean_us=%.1f "
		       "p50_us=%.1f p99_us=%.1f p999_us=%.1f max_us=%.1f cpu_bench=%.1f "
		       "cpu_target=%.1f errors=%" PRIu64 " miscompares=%" PRIu64 "\n",
		       wname[b.w], b.bs, b.qd, b.nq, iops, iops * b.bs / 1048576.0, mean, pv[0],
		       pv[1], pv[2], (double)b.lat_max / 1000.0, 100.0 * (b.cpu1 - b.cpu0) / secs,
		       b.target_pid && b.tcpu0 >= 0 && b.tcpu1 >= 0
			       ? 100.0 * (b.tcpu1 - b.tcpu0) / secs
			       : -1.0,
		       b.errors, b.miscompares);
		fflush(stdout);
	}
	if (b.errors || b.miscompares)
		rc = 1;
	if (teardown(true)) {
		pb_err("orderly shutdown of the controller failed");
		rc = 1;
	}
	return rc;
fail_drained:
	teardown(true);
	return 1;
fail:
	/* Commands may be in flight: no queue deletion, straight to CC.EN=0. */
	teardown(false);
	return 1;
bad:
	usage(stderr);
	return 2;
}

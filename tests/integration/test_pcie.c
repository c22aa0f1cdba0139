/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The NVMe PCIe function over vfio-user (src/transport/pcie), end to end:
 * the real drive started with --vfio-user, driven by the project's own
 * vfio-user client (src/host/vfu_client.c) acting as a minimal NVMe PCIe
 * driver: registers through REGION_READ/WRITE, queues and data in a memfd
 * the client DMA-maps, doorbells through the mmap'd doorbell page.
 */
#include "itest.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "fdr_vfu_client.h"

#define IOVA 0x10000000ull
#define MEM_SIZE (1u << 20)
#define ASQ_OFF 0x0000u
#define ACQ_OFF 0x1000u
#define SQ1_OFF 0x2000u
#define CQ1_OFF 0x3000u
#define IDBUF_OFF 0x4000u
#define PRPL_OFF 0x5000u
#define PRPL2_OFF 0x6000u
#define WBUF_OFF 0x10000u
#define RBUF_OFF 0x20000u
#define AQ_SIZE 32u
#define IOQ_SIZE 64u
#define REG_BAR0 0u
#define REG_CONFIG 7u
#define CC_ENABLE (1u | 6u << NVME_CC_IOSQES_SHIFT | 4u << NVME_CC_IOCQES_SHIFT)
#define SC_OF(cqe) ((uint16_t)(((cqe).status >> 1) & 0x7ff))

static struct itest_drive g_drive;
static char g_dir[PATH_MAX + 16];

static const char *const drive_args[] = {
	"--ns", "ram,size=16M,lba=512",
	"--queues", "4",
	"-n", ITEST_NQN,
	"--no-ctl",
	"--vfio-user", "@TMP@/vfu",
	NULL,
};

struct host_q {
	uint32_t off; /* in mem */
	uint16_t size, idx, qid;
	uint8_t phase;
};

struct env {
	struct fdr_vfu_client *c;
	int memfd;
	uint8_t *mem;
	void *db_area;
	volatile uint32_t *db;
	struct host_q asq, acq, sq1, cq1;
	uint16_t cid;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t bar_rd(struct env *e, uint64_t off, uint32_t size)
{
	uint64_t v = 0;

	assert_int_equal(fdr_vfu_client_region_read(e->c, REG_BAR0, off, &v, size), (int)size);
	return v;
}

static void bar_wr(struct env *e, uint64_t off, uint32_t size, uint64_t v)
{
	assert_int_equal(fdr_vfu_client_region_write(e->c, REG_BAR0, off, &v, size, false),
			 (int)size);
}

static uint32_t cfg_rd(struct env *e, uint64_t off, uint32_t size)
{
	uint32_t v = 0;

	assert_int_equal(fdr_vfu_client_region_read(e->c, REG_CONFIG, off, &v, size), (int)size);
	return v;
}

static void env_open(struct env *e)
{
	struct fdr_vfu_client_region ri;
	char err[256] = "";
	uint64_t t0 = now_ms();
	int fd = -1;

	memset(e, 0, sizeof(*e));
	/* The socket appears after the TCP listener, and a previous client's
	 * departure may not be processed yet (then we are refused). */
	for (;;) {
		e->c = fdr_vfu_client_connect(g_dir, err, sizeof(err));
		if (e->c && fdr_vfu_client_version(e->c, 0, 1, NULL, NULL, NULL, NULL, 0) == 0)
			break;
		if (e->c) {
			snprintf(err, sizeof(err), "%s", fdr_vfu_client_error(e->c));
			fdr_vfu_client_close(e->c);
			e->c = NULL;
		}
		if (now_ms() - t0 > 10000)
			fail_msg("connect %s: %s", g_dir, err);
		usleep(20000);
	}
	assert_true(fdr_vfu_client_region_info(e->c, REG_BAR0, 0, &ri, &fd) >= 0);
	assert_true(fd >= 0);
	assert_int_equal(ri.size, 0x4000);
	assert_true(ri.flags & FDR_VFUC_REGION_MMAP);
	assert_int_equal(ri.nr_areas, 1);
	assert_int_equal(ri.areas[0].offset, 0x1000);
	e->db_area = fdr_vfu_client_map_area(&ri, fd, 0);
	close(fd);
	assert_non_null(e->db_area);
	e->db = e->db_area;
	e->memfd = memfd_create("itest-host-mem", MFD_CLOEXEC);
	assert_true(e->memfd >= 0);
	assert_int_equal(ftruncate(e->memfd, MEM_SIZE), 0);
	e->mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, e->memfd, 0);
	assert_true(e->mem != MAP_FAILED);
	assert_int_equal(fdr_vfu_client_dma_map(e->c, IOVA, MEM_SIZE, e->memfd, 0,
						FDR_VFUC_DMA_READ | FDR_VFUC_DMA_WRITE), 0);
	e->cid = 1;
}

static void env_close(struct env *e)
{
	fdr_vfu_client_close(e->c);
	munmap(e->db_area, 0x1000);
	munmap(e->mem, MEM_SIZE);
	close(e->memfd);
}

static uint32_t csts(struct env *e)
{
	return (uint32_t)bar_rd(e, NVME_REG_CSTS, 4);
}

static void wait_rdy(struct env *e, bool rdy)
{
	uint64_t t0 = now_ms();

	while (((csts(e) & NVME_CSTS_RDY) != 0) != rdy) {
		assert_false(csts(e) & 2); /* CFS */
		if (now_ms() - t0 > 5000)
			fail_msg("CSTS.RDY did not become %d", rdy);
		usleep(1000);
	}
}

static void enable(struct env *e)
{
	memset(e->mem, 0, 0x4000);
	e->asq = (struct host_q){ .off = ASQ_OFF, .size = AQ_SIZE, .qid = 0 };
	e->acq = (struct host_q){ .off = ACQ_OFF, .size = AQ_SIZE, .qid = 0, .phase = 1 };
	bar_wr(e, NVME_REG_AQA, 4, (AQ_SIZE - 1) << 16 | (AQ_SIZE - 1));
	bar_wr(e, NVME_REG_ASQ, 8, IOVA + ASQ_OFF);
	bar_wr(e, NVME_REG_ACQ, 8, IOVA + ACQ_OFF);
	bar_wr(e, NVME_REG_CC, 4, CC_ENABLE);
	wait_rdy(e, true);
}

static void ring(struct env *e, unsigned idx, uint32_t v, bool via_msg)
{
	if (via_msg) {
		assert_int_equal(fdr_vfu_client_region_write(e->c, REG_BAR0, 0x1000 + idx * 4, &v, 4,
							     false),
				 4);
		return;
	}
	__atomic_store_n(&e->db[idx], v, __ATOMIC_RELEASE);
}

static uint16_t submit(struct env *e, struct host_q *sq, struct nvme_sqe *cmd, bool via_msg)
{
	cmd->cid = e->cid++;
	memcpy(e->mem + sq->off + (uint32_t)sq->idx * 64, cmd, 64);
	sq->idx = (uint16_t)((sq->idx + 1) % sq->size);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	ring(e, 2u * sq->qid, sq->idx, via_msg);
	return cmd->cid;
}

/* Next CQE of cq within ms; false on timeout. */
static bool reap(struct env *e, struct host_q *cq, struct nvme_cqe *out, unsigned ms)
{
	uint64_t t0 = now_ms();
	uint8_t *slot = e->mem + cq->off + (uint32_t)cq->idx * 16;

	for (;;) {
		uint16_t st = __atomic_load_n((uint16_t *)(slot + 14), __ATOMIC_ACQUIRE);

		if ((st & 1) == cq->phase)
			break;
		if (now_ms() - t0 > ms)
			return false;
		usleep(200);
	}
	memcpy(out, slot, 16);
	cq->idx = (uint16_t)((cq->idx + 1) % cq->size);
	if (cq->idx == 0)
		cq->phase ^= 1;
	ring(e, 2u * cq->qid + 1, cq->idx, false);
	return true;
}

static struct nvme_cqe cmd_sync(struct env *e, struct host_q *sq, struct host_q *cq,
				struct nvme_sqe *cmd)
{
	struct nvme_cqe cqe;
	uint16_t cid = submit(e, sq, cmd, false);

	if (!reap(e, cq, &cqe, 5000))
		fail_msg("no completion for opcode %#x", cmd->opc);
	assert_int_equal(cqe.cid, cid);
	assert_int_equal(cqe.sqid, sq->qid);
	assert_int_equal(cqe.sqhd, sq->idx);
	return cqe;
}

static struct nvme_cqe admin(struct env *e, struct nvme_sqe *cmd)
{
	return cmd_sync(e, &e->asq, &e->acq, cmd);
}

static void identify(struct env *e, struct nvme_id_ctrl *id)
{
	struct nvme_sqe c = { .opc = NVME_ADM_IDENTIFY, .cdw10 = NVME_CNS_CTRL };
	struct nvme_cqe cqe;

	c.dptr.prp1 = IOVA + IDBUF_OFF;
	memset(e->mem + IDBUF_OFF, 0xa5, 4096);
	cqe = admin(e, &c);
	assert_int_equal(SC_OF(cqe), 0);
	memcpy(id, e->mem + IDBUF_OFF, sizeof(*id));
}

static void create_ioq_sized(struct env *e, bool ien, uint16_t iv, uint16_t cq_size)
{
	struct nvme_sqe c = { .opc = NVME_ADM_CREATE_IO_CQ };
	struct nvme_cqe cqe;

	memset(e->mem + SQ1_OFF, 0, 0x2000);
	c.cdw10 = 1 | (uint32_t)(cq_size - 1) << 16;
	c.cdw11 = 1u | (ien ? 2u : 0) | (uint32_t)iv << 16;
	c.dptr.prp1 = IOVA + CQ1_OFF;
	cqe = admin(e, &c);
	assert_int_equal(SC_OF(cqe), 0);
	memset(&c, 0, sizeof(c));
	c.opc = NVME_ADM_CREATE_IO_SQ;
	c.cdw10 = 1 | (IOQ_SIZE - 1) << 16;
	c.cdw11 = 1u | 1u << 16;
	c.dptr.prp1 = IOVA + SQ1_OFF;
	cqe = admin(e, &c);
	assert_int_equal(SC_OF(cqe), 0);
	e->sq1 = (struct host_q){ .off = SQ1_OFF, .size = IOQ_SIZE, .qid = 1 };
	e->cq1 = (struct host_q){ .off = CQ1_OFF, .size = cq_size, .qid = 1, .phase = 1 };
}

static void create_ioq(struct env *e, bool ien, uint16_t iv)
{
	create_ioq_sized(e, ien, iv, IOQ_SIZE);
}

static struct nvme_cqe rw(struct env *e, uint8_t opc, uint64_t slba, uint32_t len, uint64_t prp1,
			  uint64_t prp2)
{
	struct nvme_sqe c = { .opc = opc, .nsid = 1 };

	c.cdw10 = (uint32_t)slba;
	c.cdw11 = (uint32_t)(slba >> 32);
	c.cdw12 = len / 512 - 1;
	c.dptr.prp1 = prp1;
	c.dptr.prp2 = prp2;
	return cmd_sync(e, &e->sq1, &e->cq1, &c);
}

/* The eventfd's count, waiting up to ms for it to be non-zero (the
 * interrupt may follow the CQE we already saw by a moment). */
static uint64_t efd_wait(int efd, int ms)
{
	struct pollfd pfd = { .fd = efd, .events = POLLIN };
	uint64_t cnt = 0;

	if (poll(&pfd, 1, ms) == 1 && read(efd, &cnt, 8) != 8)
		cnt = 0;
	return cnt;
}

/* ---- Tests ---------------------------------------------------------------------------- */

static void test_config_space(void **state)
{
	struct env e;
	uint8_t cfg[4096];
	unsigned ptr, found = 0;

	(void)state;
	env_open(&e);
	assert_int_equal(fdr_vfu_client_region_read(e.c, REG_CONFIG, 0, cfg, 4096), 4096);
	assert_int_not_equal(cfg[0] | cfg[1] << 8, 0xffff);
	assert_int_equal(cfg[0x0b] << 16 | cfg[0x0a] << 8 | cfg[0x09], 0x010802);
	assert_true(cfg[0x06] & 0x10); /* capability list */
	assert_int_equal(cfg[0x10] & 0x7, 0x4); /* 64-bit memory BAR */
	for (ptr = cfg[0x34]; ptr && found < 8; ptr = cfg[ptr + 1]) {
		if (cfg[ptr] == 0x01)
			found |= 1;
		if (cfg[ptr] == 0x11) {
			found |= 2;
			/* Table and PBA in BAR0 above the doorbells. */
			uint32_t tbl = (uint32_t)cfg[ptr + 4] | (uint32_t)cfg[ptr + 5] << 8 |
				       (uint32_t)cfg[ptr + 6] << 16;
			uint32_t pba = (uint32_t)cfg[ptr + 8] | (uint32_t)cfg[ptr + 9] << 8 |
				       (uint32_t)cfg[ptr + 10] << 16;
			assert_int_equal(tbl, 0x2000);
			assert_int_equal(pba, 0x3000);
			assert_true(((cfg[ptr + 2] | cfg[ptr + 3] << 8) & 0x7ff) + 1 >= 2);
		}
		if (cfg[ptr] == 0x10)
			found |= 4;
	}
	assert_int_equal(found, 7);
	/* SPDK's command register write: bus master + INTx disable stick;
	 * read-only fields do not change. */
	uint16_t cmd = (uint16_t)cfg_rd(&e, 4, 2) | 0x404;
	assert_int_equal(fdr_vfu_client_region_write(e.c, REG_CONFIG, 4, &cmd, 2, false), 2);
	assert_int_equal(cfg_rd(&e, 4, 2) & 0x404, 0x404);
	uint32_t junk = 0xffffffff;
	assert_int_equal(fdr_vfu_client_region_write(e.c, REG_CONFIG, 0, &junk, 4, false), 4);
	assert_int_equal(cfg_rd(&e, 0, 4), (uint32_t)(cfg[0] | cfg[1] << 8 | cfg[2] << 16 | cfg[3] << 24));
	/* BAR0 sizing. */
	assert_int_equal(fdr_vfu_client_region_write(e.c, REG_CONFIG, 0x10, &junk, 4, false), 4);
	assert_int_equal(cfg_rd(&e, 0x10, 4), 0xffffc004u);
	env_close(&e);
}

static void test_bringup_identify(void **state)
{
	struct env e;
	struct nvme_id_ctrl id;
	uint64_t cap;

	(void)state;
	env_open(&e);
	cap = bar_rd(&e, NVME_REG_CAP, 8);
	assert_int_equal((cap >> NVME_CAP_DSTRD_SHIFT) & 0xf, 0);
	assert_true(NVME_CAP_MQES(cap) >= IOQ_SIZE - 1);
	assert_int_equal(bar_rd(&e, NVME_REG_VS, 4), NVME_VS(1, 4, 0));
	assert_int_equal(csts(&e) & NVME_CSTS_RDY, 0);
	enable(&e);
	identify(&e, &id);
	assert_int_not_equal(id.cntlid, 0);
	assert_int_equal(id.vid, cfg_rd(&e, 0, 2));
	assert_true(id.mn[0] != 0 && id.mn[0] != ' ');
	/* The SQ head wraps around the admin queue. */
	for (unsigned i = 0; i < AQ_SIZE + 3; i++)
		identify(&e, &id);
	env_close(&e);
}

static void test_io_prp_msix(void **state)
{
	struct env e;
	struct nvme_cqe cqe;
	int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	uint64_t cnt = 0, *prpl = NULL;

	(void)state;
	assert_true(efd >= 0);
	env_open(&e);
	enable(&e);
	assert_int_equal(fdr_vfu_client_set_msix(e.c, 1, 1, &efd), 0);
	create_ioq(&e, true, 1);
	/* Write 16 KiB from an unaligned buffer: PRP1 with an offset, the
	 * other four pages through a PRP list. */
	itest_fill(e.mem + WBUF_OFF + 0x200, 16384, 42);
	prpl = (uint64_t *)(e.mem + PRPL_OFF);
	for (unsigned i = 0; i < 4; i++)
		prpl[i] = IOVA + WBUF_OFF + 0x1000 * (i + 1);
	cqe = rw(&e, NVME_IO_WRITE, 8, 16384, IOVA + WBUF_OFF + 0x200, IOVA + PRPL_OFF);
	assert_int_equal(SC_OF(cqe), 0);
	/* Read it back into four aligned pages, the list chained in two. */
	memset(e.mem + RBUF_OFF, 0, 16384);
	prpl = (uint64_t *)(e.mem + PRPL2_OFF + 4096 - 16); /* two entries left in this page */
	prpl[0] = IOVA + RBUF_OFF + 0x1000;
	prpl[1] = IOVA + PRPL_OFF + 0x800; /* chain */
	uint64_t *l2 = (uint64_t *)(e.mem + PRPL_OFF + 0x800);
	l2[0] = IOVA + RBUF_OFF + 0x2000;
	l2[1] = IOVA + RBUF_OFF + 0x3000;
	cqe = rw(&e, NVME_IO_READ, 8, 16384, IOVA + RBUF_OFF, IOVA + PRPL2_OFF + 4096 - 16);
	assert_int_equal(SC_OF(cqe), 0);
	assert_true(itest_same(e.mem + WBUF_OFF + 0x200, e.mem + RBUF_OFF, 16384, "read back"));
	/* Interrupts on vector 1. */
	cnt = efd_wait(efd, 2000);
	assert_true(cnt >= 1);
	assert_true(cnt <= 2);
	env_close(&e);
	close(efd);
}

static void test_reset_reenable(void **state)
{
	struct env e;
	struct nvme_id_ctrl id;
	struct nvme_sqe c = { .opc = NVME_ADM_IDENTIFY, .cdw10 = NVME_CNS_CTRL };
	struct nvme_cqe cqe;

	(void)state;
	env_open(&e);
	enable(&e);
	create_ioq(&e, false, 0);
	identify(&e, &id);
	bar_wr(&e, NVME_REG_CC, 4, CC_ENABLE & ~1u);
	wait_rdy(&e, false);
	enable(&e);
	/* This time the doorbell goes through REGION_WRITE, as QEMU's posted
	 * writes would without the mapping. */
	c.dptr.prp1 = IOVA + IDBUF_OFF;
	c.cid = submit(&e, &e.asq, &c, true);
	assert_true(reap(&e, &e.acq, &cqe, 5000));
	assert_int_equal(SC_OF(cqe), 0);
	assert_int_equal(cqe.cid, c.cid);
	/* The I/O queues are gone with the reset: create them again. */
	create_ioq(&e, false, 0);
	cqe = rw(&e, NVME_IO_READ, 0, 4096, IOVA + RBUF_OFF, 0);
	assert_int_equal(SC_OF(cqe), 0);
	/* DEVICE_RESET is a controller reset too. */
	assert_int_equal(fdr_vfu_client_reset(e.c), 0);
	assert_int_equal(csts(&e) & NVME_CSTS_RDY, 0);
	enable(&e);
	identify(&e, &id);
	env_close(&e);
}

static void test_invalid_doorbell_aen(void **state)
{
	struct env e;
	struct nvme_sqe aer = { .opc = NVME_ADM_ASYNC_EVENT_REQUEST };
	struct nvme_cqe cqe;
	struct nvme_id_ctrl id;
	uint16_t cid;

	(void)state;
	env_open(&e);
	enable(&e);
	create_ioq(&e, false, 0);
	cid = submit(&e, &e.asq, &aer, false);
	assert_false(reap(&e, &e.acq, &cqe, 100));
	/* SQ 9 does not exist. */
	ring(&e, 2 * 9, 1, false);
	assert_true(reap(&e, &e.acq, &cqe, 5000));
	assert_int_equal(cqe.cid, cid);
	assert_int_equal(SC_OF(cqe), 0);
	assert_int_equal(cqe.cdw0 & 0x7, NVME_AER_TYPE_ERROR);
	assert_int_equal((cqe.cdw0 >> 8) & 0xff, NVME_AER_ERR_INVALID_DB_REGISTER);
	assert_int_equal((cqe.cdw0 >> 16) & 0xff, NVME_LOG_ERROR);
	/* The same through REGION_WRITE (a CQ 7 head), with the event
	 * re-armed by reading the Error Information log. */
	struct nvme_sqe gl = { .opc = NVME_ADM_GET_LOG_PAGE, .cdw10 = NVME_LOG_ERROR | (64u / 4 - 1) << 16 };
	gl.dptr.prp1 = IOVA + IDBUF_OFF;
	assert_int_equal(SC_OF(admin(&e, &gl)), 0);
	cid = submit(&e, &e.asq, &aer, false);
	assert_false(reap(&e, &e.acq, &cqe, 50));
	ring(&e, 2 * 7 + 1, 0, true);
	assert_true(reap(&e, &e.acq, &cqe, 5000));
	assert_int_equal(cqe.cid, cid);
	assert_int_equal(cqe.cdw0 & 0x7, NVME_AER_TYPE_ERROR);
	assert_int_equal((cqe.cdw0 >> 8) & 0xff, NVME_AER_ERR_INVALID_DB_REGISTER);
	/* Ignored otherwise: the drive goes on. */
	assert_int_equal(csts(&e) & 3, NVME_CSTS_RDY);
	identify(&e, &id);
	struct nvme_cqe r = rw(&e, NVME_IO_READ, 0, 512, IOVA + RBUF_OFF, 0);
	assert_int_equal(SC_OF(r), 0);
	env_close(&e);
}

static void test_prp_outside_mapping(void **state)
{
	struct env e;
	struct nvme_cqe cqe;
	uint64_t *prpl;

	(void)state;
	env_open(&e);
	enable(&e);
	create_ioq(&e, false, 0);
	/* PRP1 outside every mapping. */
	cqe = rw(&e, NVME_IO_READ, 0, 4096, 0x70000000ull, 0);
	assert_int_equal(SC_OF(cqe), NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_DATA_TRANSFER_ERROR));
	cqe = rw(&e, NVME_IO_WRITE, 0, 4096, 0x70000000ull, 0);
	assert_int_equal(SC_OF(cqe), NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_DATA_TRANSFER_ERROR));
	/* Straddling the end of the mapping. */
	cqe = rw(&e, NVME_IO_READ, 0, 8192, IOVA + MEM_SIZE - 4096, IOVA + MEM_SIZE);
	assert_int_equal(SC_OF(cqe), NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_DATA_TRANSFER_ERROR));
	/* A PRP list that points outside. */
	cqe = rw(&e, NVME_IO_READ, 0, 16384, IOVA + RBUF_OFF, 0x70001000ull);
	assert_int_equal(SC_OF(cqe), NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_DATA_TRANSFER_ERROR));
	prpl = (uint64_t *)(e.mem + PRPL_OFF);
	prpl[0] = IOVA + RBUF_OFF + 0x1000;
	prpl[1] = 0x70002000ull;
	prpl[2] = IOVA + RBUF_OFF + 0x3000;
	cqe = rw(&e, NVME_IO_READ, 0, 16384, IOVA + RBUF_OFF, IOVA + PRPL_OFF);
	assert_int_equal(SC_OF(cqe), NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_DATA_TRANSFER_ERROR));
	/* A list entry with an offset. */
	prpl[1] = IOVA + RBUF_OFF + 0x2010;
	cqe = rw(&e, NVME_IO_READ, 0, 16384, IOVA + RBUF_OFF, IOVA + PRPL_OFF);
	assert_int_equal(SC_OF(cqe), NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INVALID_PRP_OFFSET));
	/* Still serving. */
	assert_int_equal(csts(&e) & 3, NVME_CSTS_RDY);
	prpl[1] = IOVA + RBUF_OFF + 0x2000;
	cqe = rw(&e, NVME_IO_READ, 0, 16384, IOVA + RBUF_OFF, IOVA + PRPL_OFF);
	assert_int_equal(SC_OF(cqe), 0);
	env_close(&e);
}

/* No MSI-X eventfd: INTx, which INTMS and the command register mask. */
static void test_intx(void **state)
{
	struct env e;
	struct nvme_id_ctrl id;
	int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	uint16_t cmd;

	(void)state;
	assert_true(efd >= 0);
	env_open(&e);
	assert_int_equal(fdr_vfu_client_set_irqs(e.c, 0, FDR_VFUC_IRQ_DATA_EVENTFD |
						 FDR_VFUC_IRQ_ACTION_TRIGGER, 0, 1, &efd, 1, NULL), 0);
	enable(&e);
	identify(&e, &id);
	assert_true(efd_wait(efd, 2000) >= 1);
	bar_wr(&e, NVME_REG_INTMS, 4, 1);
	identify(&e, &id);
	assert_int_equal(efd_wait(efd, 50), 0);
	bar_wr(&e, NVME_REG_INTMC, 4, 1);
	identify(&e, &id);
	assert_true(efd_wait(efd, 2000) >= 1);
	cmd = (uint16_t)(cfg_rd(&e, 4, 2) | 0x400);
	assert_int_equal(fdr_vfu_client_region_write(e.c, REG_CONFIG, 4, &cmd, 2, false), 2);
	identify(&e, &id);
	assert_int_equal(efd_wait(efd, 50), 0);
	env_close(&e);
	close(efd);
}

/* A tail beyond the SQ size: Invalid Doorbell Write Value, ignored. */
static void test_invalid_doorbell_value(void **state)
{
	struct env e;
	struct nvme_sqe aer = { .opc = NVME_ADM_ASYNC_EVENT_REQUEST };
	struct nvme_cqe cqe;
	uint16_t cid;

	(void)state;
	env_open(&e);
	enable(&e);
	create_ioq(&e, false, 0);
	cid = submit(&e, &e.asq, &aer, false);
	ring(&e, 2 * 1, IOQ_SIZE + 5, false);
	assert_true(reap(&e, &e.acq, &cqe, 5000));
	assert_int_equal(cqe.cid, cid);
	assert_int_equal(cqe.cdw0 & 0x7, NVME_AER_TYPE_ERROR);
	assert_int_equal((cqe.cdw0 >> 8) & 0xff, NVME_AER_ERR_INVALID_DB_VALUE);
	/* A valid tail again and the queue works. */
	ring(&e, 2 * 1, e.sq1.idx, false);
	cqe = rw(&e, NVME_IO_READ, 0, 512, IOVA + RBUF_OFF, 0);
	assert_int_equal(SC_OF(cqe), 0);
	env_close(&e);
}

/* More completions than the CQ holds: they wait for the host's head. */
static void test_cq_full(void **state)
{
	struct env e;
	struct nvme_cqe cqe;
	uint16_t cids[6];

	(void)state;
	env_open(&e);
	enable(&e);
	create_ioq_sized(&e, false, 0, 2); /* room for one entry */
	for (unsigned i = 0; i < 6; i++) {
		struct nvme_sqe c = { .opc = NVME_IO_READ, .nsid = 1 };

		c.dptr.prp1 = IOVA + RBUF_OFF + i * 512;
		cids[i] = submit(&e, &e.sq1, &c, false);
	}
	for (unsigned i = 0; i < 6; i++) {
		assert_true(reap(&e, &e.cq1, &cqe, 5000));
		assert_int_equal(SC_OF(cqe), 0);
		assert_int_equal(cqe.sqid, 1);
		bool known = false;
		for (unsigned j = 0; j < 6; j++)
			known |= cqe.cid == cids[j];
		assert_true(known);
	}
	assert_false(reap(&e, &e.cq1, &cqe, 50));
	env_close(&e);
}

/* The host unmaps the memory its queues live in: fatal, not a crash;
 * a reset brings the controller back. */
static void test_unmap_queue_memory(void **state)
{
	struct env e;
	struct nvme_id_ctrl id;
	uint64_t t0;

	(void)state;
	env_open(&e);
	enable(&e);
	create_ioq(&e, false, 0);
	assert_int_equal(fdr_vfu_client_dma_unmap(e.c, IOVA, MEM_SIZE, 0), 0);
	assert_true(csts(&e) & 2);
	/* Doorbells now go nowhere. */
	ring(&e, 0, (e.asq.idx + 1) % AQ_SIZE, false);
	usleep(20000);
	assert_true(itest_drive_alive(&g_drive));
	bar_wr(&e, NVME_REG_CC, 4, 0);
	t0 = now_ms();
	while (csts(&e) & 3) {
		assert_true(now_ms() - t0 < 5000);
		usleep(1000);
	}
	assert_int_equal(fdr_vfu_client_dma_map(e.c, IOVA, MEM_SIZE, e.memfd, 0,
						FDR_VFUC_DMA_READ | FDR_VFUC_DMA_WRITE), 0);
	enable(&e);
	identify(&e, &id);
	env_close(&e);
}

/* Garbage in every doorbell, the SQ and the registers: never a crash. */
static void test_garbage(void **state)
{
	struct env e;
	uint64_t x = 0x9e3779b97f4a7c15ull;

	(void)state;
	env_open(&e);
	enable(&e);
	create_ioq(&e, true, 3);
	for (int round = 0; round < 20; round++) {
		for (unsigned i = 0; i < 4096; i += 8) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			memcpy(e.mem + SQ1_OFF + i, &x, 8);
		}
		for (unsigned i = 0; i < 1024; i++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			ring(&e, i, (i & 3) == 2 ? (uint32_t)(x % IOQ_SIZE) : (uint32_t)(x >> 40),
			     false);
		}
		usleep(2000);
		for (unsigned i = 0; i < 8; i++) {
			uint32_t v;

			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			v = (uint32_t)(x >> 32);
			/* Registers, skipping CC/AQA/ASQ/ACQ half the time. */
			fdr_vfu_client_region_write(e.c, REG_BAR0, (x % 0x1000) & ~3ull, &v, 4, false);
			fdr_vfu_client_region_write(e.c, REG_BAR0, 0x1000 + ((x >> 8) % 0x1000 & ~3ull),
						    &v, 4, false);
			fdr_vfu_client_region_write(e.c, REG_CONFIG, (x >> 16) % 4096, &v,
						    1 + (uint32_t)(x % 4) > 4096 - (x >> 16) % 4096
							    ? 1 : 1 + (uint32_t)(x % 4),
						    false);
		}
	}
	assert_true(itest_drive_alive(&g_drive));
	env_close(&e);
}

/* The client leaving without a reset: the next one gets a fresh controller. */
static void test_reattach(void **state)
{
	struct env e;
	struct nvme_id_ctrl id;

	(void)state;
	env_open(&e);
	enable(&e);
	create_ioq(&e, false, 0);
	env_close(&e);
	env_open(&e);
	assert_int_equal(csts(&e) & 3, 0);
	enable(&e);
	identify(&e, &id);
	env_close(&e);
	assert_true(itest_drive_alive(&g_drive));
}

/* Left attached with queues and a command outstanding: the drive's
 * shutdown (teardown) must still be clean. */
static struct env g_left;
static bool g_left_open;

static void test_stop_while_attached(void **state)
{
	struct nvme_sqe c = { .opc = NVME_IO_READ, .nsid = 1, .cdw12 = 7 };
	struct nvme_sqe aer = { .opc = NVME_ADM_ASYNC_EVENT_REQUEST };

	(void)state;
	env_open(&g_left);
	g_left_open = true;
	enable(&g_left);
	create_ioq(&g_left, false, 0);
	submit(&g_left, &g_left.asq, &aer, false);
	c.dptr.prp1 = IOVA + RBUF_OFF;
	submit(&g_left, &g_left.sq1, &c, false);
}

static int setup(void **state)
{
	(void)state;
	if (itest_drive_start(&g_drive, false, drive_args))
		return -1;
	snprintf(g_dir, sizeof(g_dir), "%s/vfu", g_drive.tmpdir);
	return 0;
}

static int teardown(void **state)
{
	int rc;

	(void)state;
	rc = itest_drive_stop(&g_drive);
	if (g_left_open)
		env_close(&g_left);
	return rc;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_space),
		cmocka_unit_test(test_bringup_identify),
		cmocka_unit_test(test_io_prp_msix),
		cmocka_unit_test(test_reset_reenable),
		cmocka_unit_test(test_invalid_doorbell_aen),
		cmocka_unit_test(test_prp_outside_mapping),
		cmocka_unit_test(test_intx),
		cmocka_unit_test(test_invalid_doorbell_value),
		cmocka_unit_test(test_cq_full),
		cmocka_unit_test(test_unmap_queue_memory),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_reattach),
		cmocka_unit_test(test_stop_while_attached),
	};

	itest_init(argc, argv);
	return cmocka_run_group_tests_name("integration_pcie", tests, setup, teardown);
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The NVMe PCIe function over vfio-user (src/transport/pcie), end to end:
 * the real drive started with --vfio-user, driven by the project's own
 * vfio-user client (src/host/vfu_client.c) acting as a minimal NVMe PCIe
 * driver: registers through REGION_READ/WRITE, queues and data in a memfd
 * the client DMA-maps, doorbells through the mmap'd doorbell page.
 */
#include "pcie_host.h"

#include "transport/pcie/pcie.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>


static const char *const drive_args[] = {
	"--ns", "ram,size=16M,lba=512",
	"--queues", "4",
	"-n", ITEST_NQN,
	"--no-ctl",
	"--vfio-user", "@TMP@/vfu",
	NULL,
};


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
	/* MSI-X Enable; vector 1 unmasked in the table (masked at reset). */
	uint8_t mc = (uint8_t)(cfg_rd(&e, FDR_PCIE_CAP_MSIX + 3, 1) | 0x80);
	assert_int_equal(fdr_vfu_client_region_write(e.c, REG_CONFIG, FDR_PCIE_CAP_MSIX + 3, &mc, 1,
						     false), 1);
	bar_wr(&e, FDR_PCIE_MSIX_TABLE + 16 + 12, 4, 0);
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

/* Data that is contiguous in host memory moves without a bounce buffer
 * (reads and writes): one page, two pages with an offset, and the same
 * through non-consecutive pages (bounced) must all read back the same. */
static void test_direct_data(void **state)
{
	uint8_t *w, *r;
	struct env e;

	(void)state;
	env_ready(&e);
	w = e.mem + WBUF_OFF;
	r = e.mem + RBUF_OFF;
	itest_fill(w, 0x4000, 7);
	assert_int_equal(SC_OF(rw(&e, NVME_IO_WRITE, 64, 4096, IOVA + WBUF_OFF, 0)), 0);
	memset(r, 0, 0x4000);
	assert_int_equal(SC_OF(rw(&e, NVME_IO_READ, 64, 4096, IOVA + RBUF_OFF, 0)), 0);
	assert_true(itest_same(w, r, 4096, "one page"));
	/* 4 KiB from offset 0x200: PRP2 is the next page (contiguous). */
	assert_int_equal(SC_OF(rw(&e, NVME_IO_WRITE, 80, 4096, IOVA + WBUF_OFF + 0x200,
				  IOVA + WBUF_OFF + 0x1000)), 0);
	memset(r, 0, 0x4000);
	assert_int_equal(SC_OF(rw(&e, NVME_IO_READ, 80, 4096, IOVA + RBUF_OFF + 0x200,
				  IOVA + RBUF_OFF + 0x1000)), 0);
	assert_true(itest_same(w + 0x200, r + 0x200, 4096, "two pages"));
	/* The same read into pages in the other order (not contiguous). */
	memset(r, 0, 0x4000);
	assert_int_equal(SC_OF(rw(&e, NVME_IO_READ, 80, 4096, IOVA + RBUF_OFF + 0x2200,
				  IOVA + RBUF_OFF)), 0);
	assert_true(itest_same(w + 0x200, r + 0x2200, 0xe00, "split, first piece"));
	assert_true(itest_same(w + 0x1000, r, 0x200, "split, second piece"));
	env_close(&e);
}

static void test_reset_reenable(void **state)
{
	struct env e;
	struct nvme_id_ctrl id;
	struct nvme_sqe c = { .opc = NVME_ADM_IDENTIFY, .cdw10 = NVME_CNS_CTRL };
	struct nvme_cqe cqe;

	(void)state;
	env_ready(&e);
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
	env_ready(&e);
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
	env_ready(&e);
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

/* MSI-X disabled: INTx, which INTMS and the command register mask.  It
 * is automasked after each trigger: unmask it as VFIO clients do. */
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
	assert_int_equal(fdr_vfu_client_mask(e.c, 0, 0, 1, false), 0);
	bar_wr(&e, NVME_REG_INTMS, 4, 1);
	identify(&e, &id);
	assert_int_equal(efd_wait(efd, 50), 0);
	bar_wr(&e, NVME_REG_INTMC, 4, 1);
	identify(&e, &id);
	assert_true(efd_wait(efd, 2000) >= 1);
	assert_int_equal(fdr_vfu_client_mask(e.c, 0, 0, 1, false), 0);
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
	env_ready(&e);
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
	env_ready(&e);
	/* Unmapping alone is no error: a host may map it again, or leave
	 * after a shutdown (SPDK does). */
	assert_int_equal(fdr_vfu_client_dma_unmap(e.c, IOVA, MEM_SIZE, 0), 0);
	usleep(20000);
	assert_false(csts(&e) & 2);
	assert_int_equal(fdr_vfu_client_dma_map(e.c, IOVA, MEM_SIZE, e.memfd, 0,
						FDR_VFUC_DMA_READ | FDR_VFUC_DMA_WRITE), 0);
	identify(&e, &id);
	/* Used while unmapped: the SQ entry cannot be fetched, the
	 * controller is fatal. */
	assert_int_equal(fdr_vfu_client_dma_unmap(e.c, IOVA, MEM_SIZE, 0), 0);
	ring(&e, 0, (e.asq.idx + 1) % AQ_SIZE, false);
	t0 = now_ms();
	while (!(csts(&e) & 2)) {
		assert_true(now_ms() - t0 < 5000);
		usleep(1000);
	}
	assert_true(itest_drive_alive(&pcie_drive));
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
	assert_true(itest_drive_alive(&pcie_drive));
	env_close(&e);
}

/* The client leaving without a reset: the next one gets a fresh controller. */
static void test_reattach(void **state)
{
	struct env e;
	struct nvme_id_ctrl id;

	(void)state;
	env_ready(&e);
	env_close(&e);
	env_open(&e);
	assert_int_equal(csts(&e) & 3, 0);
	enable(&e);
	identify(&e, &id);
	env_close(&e);
	assert_true(itest_drive_alive(&pcie_drive));
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

static int teardown(void **state)
{
	int rc = pcie_host_teardown(state);

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
		cmocka_unit_test(test_direct_data),
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
	pcie_drive_args = drive_args;
	return cmocka_run_group_tests_name("integration_pcie", tests, pcie_host_setup, teardown);
}

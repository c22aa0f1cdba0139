/* SPDX-License-Identifier: BSD-2-Clause */
/* The integration tests' NVMe PCIe host: see pcie_host.h. */
#include "pcie_host.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

char pcie_host_dir[PATH_MAX + 16];

struct itest_drive pcie_drive;
const char *const *pcie_drive_args;

int pcie_host_setup(void **state)
{
	(void)state;
	if (itest_drive_start(&pcie_drive, false, pcie_drive_args))
		return -1;
	snprintf(pcie_host_dir, sizeof(pcie_host_dir), "%s/vfu", pcie_drive.tmpdir);
	return 0;
}

int pcie_host_teardown(void **state)
{
	(void)state;
	return itest_drive_stop(&pcie_drive);
}

uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t bar_rd(struct env *e, uint64_t off, uint32_t size)
{
	uint64_t v = 0;

	assert_int_equal(fdr_vfu_client_region_read(e->c, REG_BAR0, off, &v, size), (int)size);
	return v;
}

void bar_wr(struct env *e, uint64_t off, uint32_t size, uint64_t v)
{
	assert_int_equal(fdr_vfu_client_region_write(e->c, REG_BAR0, off, &v, size, false),
			 (int)size);
}

uint32_t cfg_rd(struct env *e, uint64_t off, uint32_t size)
{
	uint32_t v = 0;

	assert_int_equal(fdr_vfu_client_region_read(e->c, REG_CONFIG, off, &v, size), (int)size);
	return v;
}

void env_open(struct env *e)
{
	struct fdr_vfu_client_region ri;
	char err[256] = "";
	uint64_t t0 = now_ms();
	int fd = -1;

	memset(e, 0, sizeof(*e));
	/* The socket appears after the TCP listener, and a previous client's
	 * departure may not be processed yet (then we are refused). */
	for (;;) {
		e->c = fdr_vfu_client_connect(pcie_host_dir, err, sizeof(err));
		if (e->c && fdr_vfu_client_version(e->c, 0, 1, NULL, NULL, NULL, NULL, 0) == 0)
			break;
		if (e->c) {
			snprintf(err, sizeof(err), "%s", fdr_vfu_client_error(e->c));
			fdr_vfu_client_close(e->c);
			e->c = NULL;
		}
		if (now_ms() - t0 > 10000)
			fail_msg("connect %s: %s", pcie_host_dir, err);
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

void env_close(struct env *e)
{
	fdr_vfu_client_close(e->c);
	munmap(e->db_area, 0x1000);
	munmap(e->mem, MEM_SIZE);
	close(e->memfd);
}

uint32_t csts(struct env *e)
{
	return (uint32_t)bar_rd(e, NVME_REG_CSTS, 4);
}

void wait_rdy(struct env *e, bool rdy)
{
	uint64_t t0 = now_ms();

	while (((csts(e) & NVME_CSTS_RDY) != 0) != rdy) {
		assert_false(csts(e) & 2); /* CFS */
		if (now_ms() - t0 > 5000)
			fail_msg("CSTS.RDY did not become %d", rdy);
		usleep(1000);
	}
}

void cmd_reg(struct env *e, uint16_t v)
{
	assert_int_equal(fdr_vfu_client_region_write(e->c, REG_CONFIG, 0x04, &v, 2, false), 2);
}

void enable(struct env *e)
{
	memset(e->mem, 0, 0x4000);
	e->asq = (struct host_q){ .off = ASQ_OFF, .size = AQ_SIZE, .qid = 0 };
	e->acq = (struct host_q){ .off = ACQ_OFF, .size = AQ_SIZE, .qid = 0, .phase = 1 };
	bar_wr(e, NVME_REG_AQA, 4, (AQ_SIZE - 1) << 16 | (AQ_SIZE - 1));
	bar_wr(e, NVME_REG_ASQ, 8, IOVA + ASQ_OFF);
	bar_wr(e, NVME_REG_ACQ, 8, IOVA + ACQ_OFF);
	cmd_reg(e, cfg_rd(e, 0x04, 2) | 0x0006); /* memory space, bus master */
	bar_wr(e, NVME_REG_CC, 4, CC_ENABLE);
	wait_rdy(e, true);
}

void ring(struct env *e, unsigned idx, uint32_t v, bool via_msg)
{
	if (via_msg) {
		assert_int_equal(fdr_vfu_client_region_write(e->c, REG_BAR0, 0x1000 + idx * 4, &v, 4,
							     false),
				 4);
		return;
	}
	__atomic_store_n(&e->db[idx], v, __ATOMIC_RELEASE);
}

uint16_t submit(struct env *e, struct host_q *sq, struct nvme_sqe *cmd, bool via_msg)
{
	cmd->cid = e->cid++;
	memcpy(e->mem + sq->off + (uint32_t)sq->idx * 64, cmd, 64);
	sq->idx = (uint16_t)((sq->idx + 1) % sq->size);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	ring(e, 2u * sq->qid, sq->idx, via_msg);
	return cmd->cid;
}

/* Next CQE of cq within ms; false on timeout. */
bool reap(struct env *e, struct host_q *cq, struct nvme_cqe *out, unsigned ms)
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

struct nvme_cqe cmd_sync(struct env *e, struct host_q *sq, struct host_q *cq,
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

struct nvme_cqe admin(struct env *e, struct nvme_sqe *cmd)
{
	return cmd_sync(e, &e->asq, &e->acq, cmd);
}

void identify(struct env *e, struct nvme_id_ctrl *id)
{
	struct nvme_sqe c = { .opc = NVME_ADM_IDENTIFY, .cdw10 = NVME_CNS_CTRL };
	struct nvme_cqe cqe;

	c.dptr.prp1 = IOVA + IDBUF_OFF;
	memset(e->mem + IDBUF_OFF, 0xa5, 4096);
	cqe = admin(e, &c);
	assert_int_equal(SC_OF(cqe), 0);
	memcpy(id, e->mem + IDBUF_OFF, sizeof(*id));
}

void create_ioq_sized(struct env *e, bool ien, uint16_t iv, uint16_t cq_size)
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

void create_ioq(struct env *e, bool ien, uint16_t iv)
{
	create_ioq_sized(e, ien, iv, IOQ_SIZE);
}

void env_ready(struct env *e)
{
	env_open(e);
	enable(e);
	create_ioq(e, false, 0);
}

struct nvme_cqe rw(struct env *e, uint8_t opc, uint64_t slba, uint32_t len, uint64_t prp1,
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
uint64_t efd_wait(int efd, int ms)
{
	struct pollfd pfd = { .fd = efd, .events = POLLIN };
	uint64_t cnt = 0;

	if (poll(&pfd, 1, ms) == 1 && read(efd, &cnt, 8) != 8)
		cnt = 0;
	return cnt;
}

/* ---- Tests ---------------------------------------------------------------------------- */

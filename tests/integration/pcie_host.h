/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A minimal NVMe PCIe host for the integration tests: the project's
 * vfio-user client (src/host/vfu_client.c) with registers through
 * REGION_READ/WRITE, queues and data in a memfd it DMA-maps at IOVA, and
 * doorbells through the mmap'd doorbell page.  Failures are cmocka
 * failures.  The test program sets pcie_host_dir to DIR/cntrl's DIR.
 */
#ifndef PCIE_HOST_H
#define PCIE_HOST_H

#include "itest.h"

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

extern char pcie_host_dir[PATH_MAX + 16];

/* The test program's drive, and its extra arguments (as for
 * itest_drive_start, with "--vfio-user @TMP@/vfu" among them). */
extern struct itest_drive pcie_drive;
extern const char *const *pcie_drive_args;
/* cmocka group setup/teardown: start pcie_drive with pcie_drive_args and
 * aim the host at it; stop it. */
int pcie_host_setup(void **state);
int pcie_host_teardown(void **state);

uint64_t now_ms(void);
uint64_t bar_rd(struct env *e, uint64_t off, uint32_t size);
void bar_wr(struct env *e, uint64_t off, uint32_t size, uint64_t v);
uint32_t cfg_rd(struct env *e, uint64_t off, uint32_t size);
/* Connect (retrying while the drive starts), map doorbells and memory. */
void env_open(struct env *e);
void env_close(struct env *e);
/* env_open, enable, then I/O queue pair 1 without interrupts. */
void env_ready(struct env *e);
uint32_t csts(struct env *e);
void wait_rdy(struct env *e, bool rdy);
/* Write the config space command register. */
void cmd_reg(struct env *e, uint16_t v);
/* Admin queues at ASQ_OFF/ACQ_OFF, memory space and bus master on, CC.EN=1,
 * wait for RDY. */
void enable(struct env *e);
/* Doorbell dword idx (2*qid, +1 for a CQ head): mmap, or a REGION_WRITE. */
void ring(struct env *e, unsigned idx, uint32_t v, bool via_msg);
uint16_t submit(struct env *e, struct host_q *sq, struct nvme_sqe *cmd, bool via_msg);
/* Next CQE of cq within ms (rings its head doorbell); false on timeout. */
bool reap(struct env *e, struct host_q *cq, struct nvme_cqe *out, unsigned ms);
struct nvme_cqe cmd_sync(struct env *e, struct host_q *sq, struct host_q *cq,
			 struct nvme_sqe *cmd);
struct nvme_cqe admin(struct env *e, struct nvme_sqe *cmd);
void identify(struct env *e, struct nvme_id_ctrl *id);
/* I/O CQ 1 (cq_size entries, vector iv) and SQ 1 (IOQ_SIZE) at CQ1_OFF/SQ1_OFF. */
void create_ioq_sized(struct env *e, bool ien, uint16_t iv, uint16_t cq_size);
void create_ioq(struct env *e, bool ien, uint16_t iv);
/* Read or write len bytes at slba of namespace 1 (512-byte LBAs) on queue 1. */
struct nvme_cqe rw(struct env *e, uint8_t opc, uint64_t slba, uint32_t len, uint64_t prp1,
		   uint64_t prp2);
/* The eventfd's count, waiting up to ms for it to be non-zero. */
uint64_t efd_wait(int efd, int ms);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Interrupts of the NVMe PCIe function (src/transport/pcie/pcie_irq.c),
 * end to end over vfio-user: MSI-X per-vector and function masks with the
 * Pending Bit Array, INTx when MSI-X is disabled, Interrupt Coalescing
 * (threshold, time, Coalescing Disable, never the admin CQ), INTx as a
 * level over the automasked eventfd, polled CQs.
 *
 * Timing: nothing sleeps for an exact time.  Where an assertion depends on
 * the aggregation time not having passed yet, it is made only when the
 * test measured that it did not.
 */
#include "pcie_host.h"

#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "transport/pcie/pcie.h"

#define MSIX_MC (FDR_PCIE_CAP_MSIX + 3) /* Message Control, upper byte */
#define INTX 0u                          /* vfio-user INTx index */
#define IRQ_WAIT_MS 2000


static const char *const drive_args[] = {
	"--ns", "ram,size=16M,lba=512",
	"--queues", "4",
	"-n", ITEST_NQN,
	"--no-ctl",
	"--vfio-user", "@TMP@/vfu",
	NULL,
};

/* ---- Helpers ---------------------------------------------------------------------------- */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int new_efd(void)
{
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

	assert_true(fd >= 0);
	return fd;
}

static void msix_ctrl(struct env *e, bool enable, bool fmask)
{
	uint8_t mc = (uint8_t)((cfg_rd(e, MSIX_MC, 1) & 0x3f) | (enable ? 0x80 : 0) |
			       (fmask ? 0x40 : 0));

	assert_int_equal(fdr_vfu_client_region_write(e->c, REG_CONFIG, MSIX_MC, &mc, 1, false), 1);
	assert_int_equal(cfg_rd(e, MSIX_MC, 1) & 0xc0, mc & 0xc0);
}

static uint32_t vec_ctrl(struct env *e, unsigned v)
{
	return (uint32_t)bar_rd(e, FDR_PCIE_MSIX_TABLE + 16 * v + 12, 4);
}

static void vec_mask(struct env *e, unsigned v, bool masked)
{
	bar_wr(e, FDR_PCIE_MSIX_TABLE + 16 * v + 12, 4, masked);
}

static uint64_t pba(struct env *e)
{
	return bar_rd(e, FDR_PCIE_MSIX_PBA, 8);
}

static void set_msix_fd(struct env *e, unsigned v, int fd)
{
	assert_int_equal(fdr_vfu_client_set_msix(e->c, v, 1, &fd), 0);
}

static void set_intx_fd(struct env *e, int fd)
{
	assert_int_equal(fdr_vfu_client_set_irqs(e->c, INTX, FDR_VFUC_IRQ_DATA_EVENTFD |
						 FDR_VFUC_IRQ_ACTION_TRIGGER, 0, 1, &fd, 1, NULL), 0);
}

static void intx_unmask(struct env *e)
{
	assert_int_equal(fdr_vfu_client_mask(e->c, INTX, 0, 1, false), 0);
}

/* Wait until the k-th CQE past cq's head is posted, without consuming it. */
static bool cqe_posted(struct env *e, struct host_q *cq, unsigned k, unsigned ms)
{
	unsigned pos = cq->idx + k;
	uint8_t phase = pos >= cq->size ? cq->phase ^ 1 : cq->phase;
	uint8_t *slot = e->mem + cq->off + (pos % cq->size) * 16u;
	uint64_t t0 = now_ms();

	while ((__atomic_load_n((uint16_t *)(slot + 14), __ATOMIC_ACQUIRE) & 1) != phase) {
		if (now_ms() - t0 > ms)
			return false;
		usleep(100);
	}
	return true;
}

/* Consume n CQEs of cq (head doorbell after each). */
static void consume(struct env *e, struct host_q *cq, unsigned n)
{
	struct nvme_cqe cqe;

	for (unsigned i = 0; i < n; i++) {
		assert_true(reap(e, cq, &cqe, 5000));
		assert_int_equal(SC_OF(cqe), 0);
	}
}

static void submit_read(struct env *e)
{
	struct nvme_sqe c = { .opc = NVME_IO_READ, .nsid = 1 };

	c.dptr.prp1 = IOVA + RBUF_OFF;
	submit(e, &e->sq1, &c, false);
}

static void submit_identify(struct env *e)
{
	struct nvme_sqe c = { .opc = NVME_ADM_IDENTIFY, .cdw10 = NVME_CNS_CTRL };

	c.dptr.prp1 = IOVA + IDBUF_OFF;
	submit(e, &e->asq, &c, false);
}

static void set_feature(struct env *e, uint8_t fid, uint32_t cdw11)
{
	struct nvme_sqe c = { .opc = NVME_ADM_SET_FEATURES, .cdw10 = fid, .cdw11 = cdw11 };

	assert_int_equal(SC_OF(admin(e, &c)), 0);
}

/* The eventfd's count, summed until it reaches want or ms pass. */
static uint64_t efd_sum(int efd, uint64_t want, int ms)
{
	uint64_t t0 = now_ms(), sum = 0;

	while (sum < want && now_ms() - t0 < (uint64_t)ms)
		sum += efd_wait(efd, 10);
	return sum + efd_wait(efd, 0);
}

/* One read on queue 1, posted but not consumed, then n more likewise. */
static void read_posted(struct env *e, unsigned k)
{
	submit_read(e);
	assert_true(cqe_posted(e, &e->cq1, k, 5000));
}

/* MSI-X enabled, an eventfd on vector iv, I/O queue 1 on it (unmasked). */
static void msix_setup(struct env *e, int efd, unsigned iv)
{
	env_open(e);
	set_msix_fd(e, iv, efd);
	enable(e);
	msix_ctrl(e, true, false);
	vec_mask(e, iv, false);
	create_ioq(e, true, (uint16_t)iv);
}

/* ---- MSI-X ---------------------------------------------------------------------------- */

/* The table after attach and reset: every vector masked, entries stored. */
static void test_msix_table(void **state)
{
	struct env e;

	(void)state;
	env_open(&e);
	for (unsigned v = 0; v < FDR_PCIE_NR_VECTORS; v++)
		assert_int_equal(vec_ctrl(&e, v), 1);
	bar_wr(&e, FDR_PCIE_MSIX_TABLE + 16 * 5, 8, 0xfee01234abcd0000ull);
	bar_wr(&e, FDR_PCIE_MSIX_TABLE + 16 * 5 + 8, 4, 0x4041);
	bar_wr(&e, FDR_PCIE_MSIX_TABLE + 16 * 5 + 12, 4, 0xfffffffe); /* reserved bits stay 0 */
	assert_int_equal(bar_rd(&e, FDR_PCIE_MSIX_TABLE + 16 * 5, 8), 0xfee01234abcd0000ull);
	assert_int_equal(bar_rd(&e, FDR_PCIE_MSIX_TABLE + 16 * 5 + 8, 4), 0x4041);
	assert_int_equal(vec_ctrl(&e, 5), 0);
	assert_int_equal(vec_ctrl(&e, 4), 1);
	assert_int_equal(pba(&e), 0);
	/* DEVICE_RESET: MSI-X off, every vector masked again. */
	msix_ctrl(&e, true, true);
	assert_int_equal(fdr_vfu_client_reset(e.c), 0);
	assert_int_equal(cfg_rd(&e, MSIX_MC, 1) & 0xc0, 0);
	assert_int_equal(vec_ctrl(&e, 5), 1);
	env_close(&e);
}

/* A masked vector sets its Pending Bit; the unmask sends the message. */
static void test_msix_vector_mask(void **state)
{
	struct env e;
	int efd = new_efd();

	(void)state;
	msix_setup(&e, efd, 1);
	assert_int_equal(SC_OF(rw(&e, NVME_IO_READ, 0, 512, IOVA + RBUF_OFF, 0)), 0);
	assert_true(efd_wait(efd, IRQ_WAIT_MS) >= 1);

	vec_mask(&e, 1, true);
	assert_int_equal(vec_ctrl(&e, 1), 1);
	read_posted(&e, 0);
	assert_int_equal(efd_wait(efd, 50), 0);
	assert_true(pba(&e) & 2);
	/* The PBA is read-only. */
	bar_wr(&e, FDR_PCIE_MSIX_PBA, 8, 0);
	assert_true(pba(&e) & 2);
	vec_mask(&e, 1, false);
	assert_true(efd_wait(efd, IRQ_WAIT_MS) >= 1);
	assert_int_equal(pba(&e) & 2, 0);
	consume(&e, &e.cq1, 1);

	/* Consumed while masked: the Pending Bit clears, the unmask sends nothing. */
	vec_mask(&e, 1, true);
	read_posted(&e, 0);
	assert_true(pba(&e) & 2);
	consume(&e, &e.cq1, 1);
	assert_int_equal(pba(&e) & 2, 0);
	vec_mask(&e, 1, false);
	assert_int_equal(efd_wait(efd, 100), 0);
	env_close(&e);
	close(efd);
}

/* Function Mask masks every vector whatever their own Mask bits. */
static void test_msix_function_mask(void **state)
{
	struct env e;
	int efd = new_efd();

	(void)state;
	msix_setup(&e, efd, 2);
	msix_ctrl(&e, true, true);
	read_posted(&e, 0);
	assert_int_equal(efd_wait(efd, 50), 0);
	assert_true(pba(&e) & 4);
	assert_int_equal(vec_ctrl(&e, 2), 0); /* its own bit unchanged */
	msix_ctrl(&e, true, false);
	assert_true(efd_wait(efd, IRQ_WAIT_MS) >= 1);
	assert_int_equal(pba(&e) & 4, 0);
	consume(&e, &e.cq1, 1);
	/* Unmasked now: the next completion interrupts at once. */
	read_posted(&e, 0);
	assert_true(efd_wait(efd, IRQ_WAIT_MS) >= 1);
	consume(&e, &e.cq1, 1);
	env_close(&e);
	close(efd);
}

/* MSI-X Enable decides, not whether an eventfd is set. */
static void test_msix_enable_decides(void **state)
{
	struct env e;
	struct nvme_id_ctrl id;
	int mfd = new_efd(), ifd = new_efd();

	(void)state;
	env_open(&e);
	set_msix_fd(&e, 0, mfd);
	set_intx_fd(&e, ifd);
	enable(&e);
	vec_mask(&e, 0, false);
	identify(&e, &id);
	assert_true(efd_wait(ifd, IRQ_WAIT_MS) >= 1);
	assert_int_equal(efd_wait(mfd, 50), 0);
	intx_unmask(&e);

	msix_ctrl(&e, true, false);
	identify(&e, &id);
	assert_true(efd_wait(mfd, IRQ_WAIT_MS) >= 1);
	assert_int_equal(efd_wait(ifd, 50), 0);

	msix_ctrl(&e, false, false);
	identify(&e, &id);
	assert_true(efd_wait(ifd, IRQ_WAIT_MS) >= 1);
	assert_int_equal(efd_wait(mfd, 50), 0);
	env_close(&e);
	close(mfd);
	close(ifd);
}

/* ---- Interrupt Coalescing ------------------------------------------------------------------ */

/* THR = 3 (four entries), TIME = 25.5 ms. */
static void test_coalescing_threshold(void **state)
{
	struct env e;
	int efd = new_efd();
	uint64_t t0, n;

	(void)state;
	msix_setup(&e, efd, 1);
	set_feature(&e, NVME_FEAT_IRQ_COALESCE, 3 | 255u << 8);
	t0 = now_ns();
	for (unsigned k = 0; k < 3; k++)
		read_posted(&e, k);
	n = efd_wait(efd, 0);
	if (now_ns() - t0 < 25000000ull) /* else the time may have ended it */
		assert_int_equal(n, 0);
	read_posted(&e, 3);
	assert_true(n + efd_wait(efd, IRQ_WAIT_MS) >= 1);
	consume(&e, &e.cq1, 4);

	/* Fewer interrupts than completions, but at least one per four. */
	efd_wait(efd, 100);
	for (unsigned k = 0; k < 8; k++)
		read_posted(&e, k);
	n = efd_sum(efd, 8, 200);
	assert_true(n >= 2);
	assert_true(n < 8);
	consume(&e, &e.cq1, 8);
	env_close(&e);
	close(efd);
}

/* TIME = 5 ms, a threshold never reached: a lone completion still
 * interrupts, after the aggregation time. */
static void test_coalescing_time(void **state)
{
	struct env e;
	int efd = new_efd();
	uint64_t t0, dt;

	(void)state;
	msix_setup(&e, efd, 1);
	set_feature(&e, NVME_FEAT_IRQ_COALESCE, 255 | 50u << 8);
	t0 = now_ns();
	read_posted(&e, 0);
	assert_true(efd_wait(efd, IRQ_WAIT_MS) >= 1);
	dt = now_ns() - t0;
	assert_true(dt >= 5000000ull);
	consume(&e, &e.cq1, 1);

	/* Consumed before the time ends (the host polled): no interrupt. */
	set_feature(&e, NVME_FEAT_IRQ_COALESCE, 255 | 255u << 8);
	t0 = now_ns();
	read_posted(&e, 0);
	consume(&e, &e.cq1, 1);
	dt = now_ns() - t0;
	if (dt < 25000000ull)
		assert_int_equal(efd_wait(efd, 100), 0);

	/* Changing the settings ends an aggregation at once: the interrupt
	 * goes out before the Set Features completes. */
	t0 = now_ns();
	read_posted(&e, 0);
	set_feature(&e, NVME_FEAT_IRQ_COALESCE, 0);
	if (now_ns() - t0 < 25000000ull) /* else the time may have ended it */
		assert_int_equal(efd_wait(efd, 0), 1);
	assert_int_equal(efd_wait(efd, 100), 0);
	consume(&e, &e.cq1, 1);
	env_close(&e);
	close(efd);
}

/* Coalescing Disable on the vector: every completion interrupts. */
static void test_coalescing_cd(void **state)
{
	struct env e;
	int efd = new_efd();
	uint64_t n;

	(void)state;
	msix_setup(&e, efd, 1);
	set_feature(&e, NVME_FEAT_IRQ_COALESCE, 3 | 255u << 8);
	set_feature(&e, NVME_FEAT_IRQ_CONFIG, 1 | 1u << 16);
	for (unsigned k = 0; k < 8; k++)
		read_posted(&e, k);
	n = efd_sum(efd, 8, IRQ_WAIT_MS);
	assert_int_equal(n, 8);
	consume(&e, &e.cq1, 8);
	/* CD cleared: coalesced again. */
	set_feature(&e, NVME_FEAT_IRQ_CONFIG, 1);
	for (unsigned k = 0; k < 8; k++)
		read_posted(&e, k);
	n = efd_sum(efd, 8, 200);
	assert_true(n < 8);
	consume(&e, &e.cq1, 8);
	env_close(&e);
	close(efd);
}

/* The admin CQ is never coalesced. */
static void test_coalescing_not_admin(void **state)
{
	struct env e;
	int efd = new_efd();

	(void)state;
	env_open(&e);
	set_msix_fd(&e, 0, efd);
	enable(&e);
	msix_ctrl(&e, true, false);
	vec_mask(&e, 0, false);
	set_feature(&e, NVME_FEAT_IRQ_COALESCE, 3 | 255u << 8);
	efd_wait(efd, 100);
	for (unsigned k = 0; k < 8; k++) {
		submit_identify(&e);
		assert_true(cqe_posted(&e, &e.acq, k, 5000));
	}
	assert_int_equal(efd_sum(efd, 8, IRQ_WAIT_MS), 8);
	consume(&e, &e.acq, 8);
	env_close(&e);
	close(efd);
}

/* ---- INTx ---------------------------------------------------------------------------------- */

/* A level: one trigger, none until unmasked, again on unmask while entries
 * are unconsumed, none once the host consumed them. */
static void test_intx_level(void **state)
{
	struct env e;
	struct nvme_id_ctrl id;
	int efd = new_efd();

	(void)state;
	env_open(&e);
	set_intx_fd(&e, efd);
	enable(&e);
	submit_identify(&e);
	assert_true(cqe_posted(&e, &e.acq, 0, 5000));
	assert_int_equal(efd_wait(efd, IRQ_WAIT_MS), 1);
	submit_identify(&e);
	assert_true(cqe_posted(&e, &e.acq, 1, 5000));
	assert_int_equal(efd_wait(efd, 50), 0); /* automasked */
	intx_unmask(&e);
	assert_int_equal(efd_wait(efd, IRQ_WAIT_MS), 1); /* still asserted */
	consume(&e, &e.acq, 2);
	intx_unmask(&e);
	assert_int_equal(efd_wait(efd, 100), 0); /* the host consumed them */
	identify(&e, &id);
	assert_int_equal(efd_wait(efd, IRQ_WAIT_MS), 1);

	/* INTMS hides an asserted vector; INTMC shows it again. */
	intx_unmask(&e);
	bar_wr(&e, NVME_REG_INTMS, 4, 1);
	submit_identify(&e);
	assert_true(cqe_posted(&e, &e.acq, 0, 5000));
	assert_int_equal(efd_wait(efd, 50), 0);
	bar_wr(&e, NVME_REG_INTMC, 4, 1);
	assert_int_equal(efd_wait(efd, IRQ_WAIT_MS), 1);
	/* INTx Disable likewise. */
	uint16_t cmd = (uint16_t)(cfg_rd(&e, 4, 2) | 0x400);
	assert_int_equal(fdr_vfu_client_region_write(e.c, REG_CONFIG, 4, &cmd, 2, false), 2);
	intx_unmask(&e);
	assert_int_equal(efd_wait(efd, 50), 0);
	cmd &= (uint16_t)~0x400;
	assert_int_equal(fdr_vfu_client_region_write(e.c, REG_CONFIG, 4, &cmd, 2, false), 2);
	assert_int_equal(efd_wait(efd, IRQ_WAIT_MS), 1);
	consume(&e, &e.acq, 1);
	env_close(&e);
	close(efd);
}

/* Coalescing delays INTx too: a lone I/O completion asserts it later. */
static void test_intx_coalesced(void **state)
{
	struct env e;
	int efd = new_efd();
	uint64_t t0;

	(void)state;
	env_open(&e);
	set_intx_fd(&e, efd);
	enable(&e);
	create_ioq(&e, true, 0);
	set_feature(&e, NVME_FEAT_IRQ_COALESCE, 255 | 50u << 8);
	efd_wait(efd, 100);
	intx_unmask(&e);
	t0 = now_ns();
	read_posted(&e, 0);
	assert_int_equal(efd_wait(efd, IRQ_WAIT_MS), 1);
	assert_true(now_ns() - t0 >= 5000000ull);
	consume(&e, &e.cq1, 1);
	env_close(&e);
	close(efd);
}

/* ---- Polled CQs ------------------------------------------------------------------------------ */

static void test_polled_cq(void **state)
{
	struct env e;
	int efd[2] = {new_efd(), new_efd()}, ifd = new_efd();

	(void)state;
	env_open(&e);
	assert_int_equal(fdr_vfu_client_set_msix(e.c, 0, 2, efd), 0);
	set_intx_fd(&e, ifd);
	enable(&e);
	create_ioq(&e, false, 1);
	/* INTx first (MSI-X disabled), then MSI-X. */
	efd_wait(ifd, 100);
	intx_unmask(&e);
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(SC_OF(rw(&e, NVME_IO_READ, i, 512, IOVA + RBUF_OFF, 0)), 0);
	assert_int_equal(efd_wait(ifd, 100), 0);
	msix_ctrl(&e, true, false);
	vec_mask(&e, 0, false);
	vec_mask(&e, 1, false);
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(SC_OF(rw(&e, NVME_IO_READ, i, 512, IOVA + RBUF_OFF, 0)), 0);
	assert_int_equal(efd_wait(efd[0], 100), 0);
	assert_int_equal(efd_wait(efd[1], 0), 0);
	assert_int_equal(pba(&e), 0);
	env_close(&e);
	for (unsigned i = 0; i < 2; i++)
		close(efd[i]);
	close(ifd);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_msix_table),
		cmocka_unit_test(test_msix_vector_mask),
		cmocka_unit_test(test_msix_function_mask),
		cmocka_unit_test(test_msix_enable_decides),
		cmocka_unit_test(test_coalescing_threshold),
		cmocka_unit_test(test_coalescing_time),
		cmocka_unit_test(test_coalescing_cd),
		cmocka_unit_test(test_coalescing_not_admin),
		cmocka_unit_test(test_intx_level),
		cmocka_unit_test(test_intx_coalesced),
		cmocka_unit_test(test_polled_cq),
	};

	itest_init(argc, argv);
	pcie_drive_args = drive_args;
	return cmocka_run_group_tests_name("integration_pcie_irq", tests, pcie_host_setup,
					   pcie_host_teardown);
}

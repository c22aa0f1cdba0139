/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The PCIe function's firmware hooks and traces, end to end over
 * vfio-user: a plug-in on every PCIe tap (plugin_pcie_taps.c) whose
 * effects the host sees, a fault rule on PCIe-borne commands, Function
 * Level Reset, and the flight recorder's PCIe events read back from the
 * ring.  argv: the drive, then the directory of plugin_pcie_taps.so.
 */
#include "pcie_host.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include <frankendrive/recorder.h>

#include "recorder/recorder.h"

#define BDF (6u << 3) /* 00:06.0 */
/* The function's layout (src/transport/pcie/pcie.h), as a host learns it. */
#define MSIX_TABLE 0x2000u
#define CAP_MSIX 0x50u
#define CAP_EXP 0x60u
#define MSIX_EN 0x80u

static char g_plugin[PATH_MAX + 32];

static const char *drive_args[] = {
	"--ns", "ram,size=16M,lba=512",
	"--queues", "4",
	"-n", ITEST_NQN,
	"--no-ctl",
	"--record-snaplen", "512",
	"--vfio-user", "@TMP@/vfu,pci=00:06.0",
	"--inject", "opc=read,lba=100-107,status=media",
	"--inject", "opc=read,lba=200-207,tap=writeback,delay=50ms",
	"--inject", "opc=read,lba=300-307,corrupt=1:0x01@0",
	"--inject", "opc=write,lba=400-407,corrupt=1:0x01@0",
	"--plugin", g_plugin,
	NULL,
};

static void cfg_wr(struct env *e, uint64_t off, uint32_t size, uint32_t v)
{
	assert_int_equal(fdr_vfu_client_region_write(e->c, REG_CONFIG, off, &v, size, false),
			 (int)size);
}

static void read_lba(struct env *e, struct host_q *sq, uint64_t slba)
{
	struct nvme_sqe c = { .opc = NVME_IO_READ, .nsid = 1 };

	c.cdw10 = (uint32_t)slba;
	c.dptr.prp1 = IOVA + RBUF_OFF;
	submit(e, sq, &c, false);
}

static void delete_ioq(struct env *e)
{
	struct nvme_sqe d = { .opc = NVME_ADM_DELETE_IO_SQ, .cdw10 = 1 };

	assert_int_equal(SC_OF(admin(e, &d)), 0);
	d.opc = NVME_ADM_DELETE_IO_CQ;
	assert_int_equal(SC_OF(admin(e, &d)), 0);
}

/* ---- Taps ---------------------------------------------------------------------------- */

static void test_config_taps(void **state)
{
	struct env e;

	(void)state;
	env_open(&e);
	/* pci:regread:writeback changed the Subsystem Vendor ID, whatever
	 * the width of the read; the Subsystem ID beside it is untouched. */
	assert_int_equal(cfg_rd(&e, 0x2c, 2), 0xfd01);
	assert_int_equal(cfg_rd(&e, 0x2c, 4), 0x0010u << 16 | 0xfd01);
	assert_int_equal(cfg_rd(&e, 0x00, 2), 0x1b36);
	/* pci:regwrite:decode dropped the Interrupt Line write only. */
	cfg_wr(&e, 0x3c, 1, 0x55);
	assert_int_equal(cfg_rd(&e, 0x3c, 1), 0);
	cfg_wr(&e, 0x0d, 1, 0x40);
	assert_int_equal(cfg_rd(&e, 0x0d, 1), 0x40);
	env_close(&e);
}

static void test_register_taps(void **state)
{
	struct nvme_id_ctrl id;
	struct env e;

	(void)state;
	env_open(&e);
	assert_int_equal(bar_rd(&e, NVME_REG_VS, 4), 0x00020000);
	enable(&e);
	identify(&e, &id);
	assert_int_equal(id.ver, 0x00010400); /* Identify is not a register */
	env_close(&e);
}

/* The (first) SQ 1 Tail Doorbell value 5 never reaches the controller: the fifth
 * command waits for the next doorbell, which fetches both. */
static void test_doorbell_tap(void **state)
{
	struct nvme_cqe cqe;
	struct env e;

	(void)state;
	env_ready(&e);
	for (int i = 0; i < 4; i++)
		assert_int_equal(SC_OF(rw(&e, NVME_IO_READ, 0, 512, IOVA + RBUF_OFF, 0)), 0);
	uint16_t fifth = e.cid;

	read_lba(&e, &e.sq1, 0);
	assert_false(reap(&e, &e.cq1, &cqe, 300));
	read_lba(&e, &e.sq1, 1);
	assert_true(reap(&e, &e.cq1, &cqe, 5000));
	assert_int_equal(cqe.cid, fifth);
	assert_true(reap(&e, &e.cq1, &cqe, 5000));
	assert_int_equal(cqe.cid, fifth + 1);
	assert_int_equal(cqe.sqhd, 6);
	env_close(&e);
}

/* Rules and plug-ins meant for NVMe/TCP work on PCIe-borne commands. */
static void test_rule_on_pcie(void **state)
{
	struct env e;

	(void)state;
	env_ready(&e);
	assert_int_equal(SC_OF(rw(&e, NVME_IO_READ, 100, 512, IOVA + RBUF_OFF, 0)),
			 NVME_SCT_MEDIA_ERROR << 8 | NVME_SC_UNRECOVERED_READ_ERROR);
	assert_int_equal(SC_OF(rw(&e, NVME_IO_READ, 108, 512, IOVA + RBUF_OFF, 0)), 0);
	env_close(&e);
}

/* Reads land in host memory directly: a rule that corrupts read data
 * still reaches what the host gets, and one that holds the completion
 * (delay at writeback) still delivers the right data. */
static void test_read_data_rules(void **state)
{
	uint8_t *w, *r;
	struct env e;

	(void)state;
	env_ready(&e);
	w = e.mem + WBUF_OFF;
	r = e.mem + RBUF_OFF;
	for (unsigned i = 0; i < 4096; i++)
		w[i] = (uint8_t)(i * 7 + 3);
	assert_int_equal(SC_OF(rw(&e, NVME_IO_WRITE, 200, 4096, IOVA + WBUF_OFF, 0)), 0);
	assert_int_equal(SC_OF(rw(&e, NVME_IO_WRITE, 300, 4096, IOVA + WBUF_OFF, 0)), 0);
	memset(r, 0, 4096);
	assert_int_equal(SC_OF(rw(&e, NVME_IO_READ, 200, 4096, IOVA + RBUF_OFF, 0)), 0);
	assert_memory_equal(r, w, 4096);
	memset(r, 0, 4096);
	assert_int_equal(SC_OF(rw(&e, NVME_IO_READ, 300, 4096, IOVA + RBUF_OFF, 0)), 0);
	assert_int_equal(r[0], w[0] ^ 1);
	assert_memory_equal(r + 1, w + 1, 4095);
	/* A write corrupted on its way to the media: the host's buffer stays
	 * as it was, the media gets the flipped bit. */
	assert_int_equal(SC_OF(rw(&e, NVME_IO_WRITE, 400, 4096, IOVA + WBUF_OFF, 0)), 0);
	assert_int_equal(w[0], 3);
	memset(r, 0, 4096);
	assert_int_equal(SC_OF(rw(&e, NVME_IO_READ, 400, 4096, IOVA + RBUF_OFF, 0)), 0);
	assert_int_equal(r[0], w[0] ^ 1);
	assert_memory_equal(r + 1, w + 1, 4095);
	/* The host unmaps the read buffer while the completion is held: the
	 * data (recorded too: --record-snaplen) must not be touched through
	 * the gone mapping; the read ends in Data Transfer Error. */
	struct nvme_sqe c = { .opc = NVME_IO_READ, .nsid = 1, .cdw10 = 200, .cdw12 = 7 };
	const uint64_t iova2 = 0x50000000ull;
	struct nvme_cqe cqe;
	int fd2 = memfd_create("itest-buf", MFD_CLOEXEC);

	assert_true(fd2 >= 0);
	assert_int_equal(ftruncate(fd2, 1 << 16), 0);
	assert_int_equal(fdr_vfu_client_dma_map(e.c, iova2, 1 << 16, fd2, 0,
						FDR_VFUC_DMA_READ | FDR_VFUC_DMA_WRITE), 0);
	c.dptr.prp1 = iova2;
	submit(&e, &e.sq1, &c, false);
	usleep(10000);
	assert_int_equal(fdr_vfu_client_dma_unmap(e.c, iova2, 1 << 16, 0), 0);
	assert_true(reap(&e, &e.cq1, &cqe, 5000));
	assert_int_equal(SC_OF(cqe), NVME_SC_DATA_TRANSFER_ERROR);
	assert_true(itest_drive_alive(&pcie_drive));
	close(fd2);
	env_close(&e);
}

static void test_msix_table_taps(void **state)
{
	struct env e;

	(void)state;
	env_open(&e);
	/* nvme:msixwrite:decode dropped vector 3's entry, not vector 4's. */
	bar_wr(&e, MSIX_TABLE + 3 * 16, 4, 0xfee00000);
	bar_wr(&e, MSIX_TABLE + 4 * 16, 4, 0xfee00000);
	assert_int_equal(bar_rd(&e, MSIX_TABLE + 3 * 16, 4), 0);
	assert_int_equal(bar_rd(&e, MSIX_TABLE + 4 * 16, 4), 0xfee00000);
	/* nvme:msixread:writeback changed what vector 5's data reads as. */
	bar_wr(&e, MSIX_TABLE + 5 * 16 + 8, 4, 0x21);
	assert_int_equal(bar_rd(&e, MSIX_TABLE + 5 * 16 + 8, 4), 0xfeed);
	assert_int_equal(bar_rd(&e, MSIX_TABLE + 6 * 16 + 8, 4), 0);
	env_close(&e);
}

/* pci:msix:writeback loses vector 2's interrupts; vector 1's arrive. */
static void test_interrupt_tap(void **state)
{
	int efd[3];
	struct env e;

	(void)state;
	env_open(&e);
	for (int i = 0; i < 3; i++) {
		efd[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		assert_true(efd[i] >= 0);
	}
	assert_int_equal(fdr_vfu_client_set_msix(e.c, 0, 3, efd), 0);
	cfg_wr(&e, CAP_MSIX + 3, 1, MSIX_EN);
	for (int i = 0; i < 3; i++) /* vectors start masked */
		bar_wr(&e, MSIX_TABLE + 16 * i + 12, 4, 0);
	enable(&e);
	create_ioq(&e, true, 2);
	assert_int_equal(SC_OF(rw(&e, NVME_IO_READ, 0, 512, IOVA + RBUF_OFF, 0)), 0);
	assert_int_equal(efd_wait(efd[2], 300), 0);
	delete_ioq(&e);
	create_ioq(&e, true, 1);
	assert_int_equal(SC_OF(rw(&e, NVME_IO_READ, 0, 512, IOVA + RBUF_OFF, 0)), 0);
	assert_true(efd_wait(efd[1], 5000) >= 1);
	env_close(&e);
	for (int i = 0; i < 3; i++)
		close(efd[i]);
}

/* ---- Function Level Reset ---------------------------------------------------------------- */

static void test_flr(void **state)
{
	struct nvme_id_ctrl id;
	struct env e;

	(void)state;
	env_open(&e);
	cfg_wr(&e, 0x04, 2, 0x0006); /* memory space, bus master */
	cfg_wr(&e, 0x0d, 1, 0x20);
	enable(&e);
	create_ioq(&e, false, 0);
	/* Initiate FLR (Device Control bit 15): reads back as 0. */
	cfg_wr(&e, CAP_EXP + 8, 2, 0x8000 | cfg_rd(&e, CAP_EXP + 8, 2));
	assert_int_equal(cfg_rd(&e, CAP_EXP + 8, 2) & 0x8000, 0);
	wait_rdy(&e, false);
	assert_int_equal(bar_rd(&e, NVME_REG_CC, 4), 0);
	assert_int_equal(cfg_rd(&e, 0x04, 2), 0);
	assert_int_equal(cfg_rd(&e, 0x0d, 1), 0);
	assert_int_equal(cfg_rd(&e, 0x00, 2), 0x1b36);
	/* The host brings it up again. */
	cfg_wr(&e, 0x04, 2, 0x0006);
	enable(&e);
	identify(&e, &id);
	create_ioq(&e, false, 0);
	assert_int_equal(SC_OF(rw(&e, NVME_IO_READ, 0, 512, IOVA + RBUF_OFF, 0)), 0);
	env_close(&e);
}

/* One namespace, two transports: what a PCIe host writes an NVMe/TCP host
 * reads, and the other way round, while both are attached. */
static void test_same_namespace_over_tcp(void **state)
{
	struct fdr_host_ctrl *tcp = itest_connect(&pcie_drive, 1, 32);
	struct fdr_host_queue *q = fdr_host_ioq(tcp, 0); /* qid 1 */
	uint8_t *buf = itest_alloc(4096);
	struct env e;

	(void)state;
	env_ready(&e);
	itest_fill(e.mem + WBUF_OFF, 4096, 11);
	assert_int_equal(SC_OF(rw(&e, NVME_IO_WRITE, 600, 4096, IOVA + WBUF_OFF, 0)), 0);
	assert_status(itest_read(q, 1, 600, 8, buf, 4096), 0);
	assert_true(itest_same(buf, e.mem + WBUF_OFF, 4096, "PCIe write, TCP read"));
	itest_fill(buf, 4096, 12);
	assert_status(itest_write(q, 1, 608, 8, buf, 4096), 0);
	memset(e.mem + RBUF_OFF, 0, 4096);
	assert_int_equal(SC_OF(rw(&e, NVME_IO_READ, 608, 4096, IOVA + RBUF_OFF, 0)), 0);
	assert_true(itest_same(e.mem + RBUF_OFF, buf, 4096, "TCP write, PCIe read"));
	env_close(&e);
	assert_int_equal(fdr_host_disconnect(tcp), 0);
	free(buf);
}

/* Doorbell Buffer Config: a command announced only in the Shadow Doorbell
 * page is fetched, EventIdx shows what was taken, bad pages are refused,
 * and a controller reset ends it. */
static void test_shadow_doorbells(void **state)
{
	const uint32_t shadow_off = 0x8000, ei_off = 0x9000;
	struct nvme_sqe c = { .opc = NVME_ADM_DOORBELL_BUFFER_CONFIG };
	struct nvme_sqe r = { .opc = NVME_IO_READ, .nsid = 1 };
	volatile uint32_t *sh, *ei;
	struct nvme_id_ctrl id;
	struct nvme_cqe cqe;
	uint64_t t0;
	struct env e;

	(void)state;
	env_open(&e);
	enable(&e);
	identify(&e, &id);
	assert_true(id.oacs & NVME_OACS_DBBUF);
	memset(e.mem + shadow_off, 0, 0x2000);
	sh = (volatile uint32_t *)(e.mem + shadow_off);
	ei = (volatile uint32_t *)(e.mem + ei_off);
	c.dptr.prp1 = IOVA + shadow_off + 4;
	c.dptr.prp2 = IOVA + ei_off;
	assert_int_equal(SC_OF(admin(&e, &c)), NVME_SC_INVALID_FIELD);
	c.dptr.prp1 = IOVA + shadow_off;
	c.dptr.prp2 = 0x7000000000ull; /* not mapped */
	assert_int_equal(SC_OF(admin(&e, &c)), NVME_SC_INVALID_FIELD);
	c.dptr.prp2 = IOVA + ei_off;
	assert_int_equal(SC_OF(admin(&e, &c)), 0);
	create_ioq(&e, false, 0);
	assert_int_equal(ei[2], 0);
	/* Only the shadow SQ 1 tail (dword 2) says there is a command. */
	r.dptr.prp1 = IOVA + RBUF_OFF;
	r.cid = e.cid++;
	memcpy(e.mem + e.sq1.off + (uint32_t)e.sq1.idx * 64, &r, 64);
	e.sq1.idx = (uint16_t)((e.sq1.idx + 1) % e.sq1.size);
	__atomic_store_n(&sh[2], e.sq1.idx, __ATOMIC_RELEASE);
	assert_true(reap(&e, &e.cq1, &cqe, 5000));
	assert_int_equal(cqe.cid, r.cid);
	assert_int_equal(SC_OF(cqe), 0);
	t0 = now_ms();
	while (__atomic_load_n(&ei[2], __ATOMIC_ACQUIRE) != e.sq1.idx)
		assert_true(now_ms() - t0 < 2000);
	/* The register still works beside it. */
	assert_int_equal(SC_OF(rw(&e, NVME_IO_READ, 0, 512, IOVA + RBUF_OFF, 0)), 0);
	/* A controller reset ends shadow doorbells. */
	bar_wr(&e, NVME_REG_CC, 4, 0);
	wait_rdy(&e, false);
	enable(&e);
	create_ioq(&e, false, 0);
	r.cid = e.cid++;
	memcpy(e.mem + e.sq1.off, &r, 64);
	e.sq1.idx = 1;
	__atomic_store_n(&sh[2], 1, __ATOMIC_RELEASE);
	assert_false(reap(&e, &e.cq1, &cqe, 300));
	ring(&e, 2, 1, false);
	assert_true(reap(&e, &e.cq1, &cqe, 5000));
	assert_int_equal(cqe.cid, r.cid);
	env_close(&e);
}

/* Without Bus Master Enable the function touches no host memory: a rung
 * doorbell waits, and is served once the host sets it. */
static void test_bus_master(void **state)
{
	struct nvme_cqe cqe;
	struct env e;

	(void)state;
	env_ready(&e);
	assert_int_equal(SC_OF(rw(&e, NVME_IO_READ, 0, 512, IOVA + RBUF_OFF, 0)), 0);
	cmd_reg(&e, cfg_rd(&e, 0x04, 2) & ~0x0004);
	read_lba(&e, &e.sq1, 0);
	assert_false(reap(&e, &e.cq1, &cqe, 300));
	assert_int_equal(csts(&e) & 3, NVME_CSTS_RDY); /* registers still work */
	cmd_reg(&e, cfg_rd(&e, 0x04, 2) | 0x0004);
	assert_true(reap(&e, &e.cq1, &cqe, 5000));
	assert_int_equal(SC_OF(cqe), 0);
	env_close(&e);
}

/* ---- A client that shrinks its memory ------------------------------------------------------- */

/* The host truncates the memfd behind a DMA mapping: the drive must not
 * die of SIGBUS; commands using that memory then fail. */
static void test_shrunk_memory(void **state)
{
	const uint64_t iova2 = 0x40000000ull;
	struct nvme_cqe cqe;
	struct env e;
	uint8_t *mem2;
	int fd2;

	(void)state;
	env_ready(&e);
	fd2 = memfd_create("itest-shrink", MFD_CLOEXEC);
	assert_true(fd2 >= 0);
	assert_int_equal(ftruncate(fd2, 1 << 20), 0);
	mem2 = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_SHARED, fd2, 0);
	assert_true(mem2 != MAP_FAILED);
	memset(mem2, 0x5a, 4096);
	assert_int_equal(fdr_vfu_client_dma_map(e.c, iova2, 1 << 20, fd2, 0,
						FDR_VFUC_DMA_READ | FDR_VFUC_DMA_WRITE), 0);
	assert_int_equal(SC_OF(rw(&e, NVME_IO_WRITE, 8, 4096, iova2, 0)), 0);
	munmap(mem2, 1 << 20);
	assert_int_equal(ftruncate(fd2, 0), 0);
	/* The access that faults reads zeros; after it the mapping is refused. */
	cqe = rw(&e, NVME_IO_WRITE, 8, 4096, iova2, 0);
	(void)cqe;
	assert_int_equal(SC_OF(rw(&e, NVME_IO_WRITE, 8, 4096, iova2, 0)),
			 NVME_SC_DATA_TRANSFER_ERROR);
	assert_int_equal(SC_OF(rw(&e, NVME_IO_READ, 8, 4096, iova2, 0)),
			 NVME_SC_DATA_TRANSFER_ERROR);
	/* Other memory is fine. */
	assert_int_equal(SC_OF(rw(&e, NVME_IO_READ, 8, 4096, IOVA + RBUF_OFF, 0)), 0);
	assert_true(itest_drive_alive(&pcie_drive));
	assert_true(itest_log_contains(&pcie_drive, "shrank the file of DMA mapping"));
	env_close(&e);
	close(fd2);
}

/* ---- Recorder ---------------------------------------------------------------------------------- */

struct seen {
	uint32_t conn;
	uint64_t sq1_last;
	unsigned connects, cc_writes, sq0_db, sq1_gap, cfg_intline, cfg_0d, ssvid_reads;
	unsigned cmds, cpls, cmd_other_conn, msix_writes, media_errors, irq_sent1, irq_dropped2;
};

static void see(struct seen *s, const struct fdr_rec_event *ev)
{
	if (ev->xport != FDR_REC_XPORT_PCIE)
		return;
	if (ev->kind == FDR_REC_CONNECT) {
		assert_int_equal(FDR_REC_PCI_BDF(ev->conn), BDF);
		s->conn = ev->conn; /* the latest attach */
		s->sq1_last = 0;
		s->connects++;
		return;
	}
	assert_int_equal(FDR_REC_PCI_BDF(ev->conn), BDF);
	switch (ev->kind) {
	case FDR_REC_REG_WRITE:
		s->cc_writes += ev->u.reg.offset == NVME_REG_CC;
		s->sq0_db += ev->u.reg.offset == 0x1000 && ev->u.reg.value == 1;
		if (ev->u.reg.offset == 0x1008) {
			s->sq1_gap += s->sq1_last == 4 && ev->u.reg.value == 6;
			s->sq1_last = ev->u.reg.value;
		}
		s->msix_writes += ev->u.reg.offset >= MSIX_TABLE;
		break;
	case FDR_REC_CFG_WRITE:
		s->cfg_intline += ev->u.reg.offset == 0x3c;
		s->cfg_0d += ev->u.reg.offset == 0x0d && ev->u.reg.size == 1;
		break;
	case FDR_REC_IRQ:
		s->irq_sent1 += ev->u.irq.vector == 1 && ev->u.irq.what == FDR_REC_IRQ_SENT &&
				ev->u.irq.type == FDR_REC_IRQ_MSIX && ev->u.irq.cqid == 1;
		s->irq_dropped2 += ev->u.irq.vector == 2 && ev->u.irq.what == FDR_REC_IRQ_DROPPED;
		break;
	case FDR_REC_CFG_READ:
		s->ssvid_reads += ev->u.reg.offset == 0x2c && (ev->u.reg.value & 0xffff) == 0xfd01;
		break;
	case FDR_REC_CMD:
		s->cmds++;
		s->cmd_other_conn += ev->conn != s->conn;
		break;
	case FDR_REC_CPL:
		s->cpls++;
		s->media_errors += ((ev->u.cpl.cqe.status >> 1) & 0x7ff) ==
				   (NVME_SCT_MEDIA_ERROR << 8 | NVME_SC_UNRECOVERED_READ_ERROR);
		break;
	default:
		break;
	}
}

static void test_recorder_events(void **state)
{
	char path[PATH_MAX + 16], err[256] = "";
	struct fdr_rec_reader *r;
	struct fdr_rec_event ev;
	struct seen s = {0};
	int rc;

	(void)state;
	snprintf(path, sizeof(path), "%s/ring", pcie_drive.tmpdir);
	r = fdr_rec_reader_open(path, err, sizeof(err));
	if (!r)
		fail_msg("%s: %s", path, err);
	while ((rc = fdr_rec_reader_next(r, &ev)) == 1)
		see(&s, &ev);
	assert_int_equal(rc, 0);
	fdr_rec_reader_close(r);
	/* One attach per test so far, each named by the function's address. */
	assert_true(s.connects >= 5);
	assert_true(s.cc_writes >= 5);
	assert_true(s.sq0_db >= 5);
	/* The doorbell nvme:regwrite:decode dropped is not recorded: SQ 1's
	 * tail goes from 4 to 6 once. */
	assert_int_equal(s.sq1_gap, 1);
	/* Config space: the dropped write is not there, the others are, and
	 * reads show what the host got (after pci:regread:writeback). */
	assert_int_equal(s.cfg_intline, 0);
	assert_true(s.cfg_0d >= 2);
	assert_true(s.ssvid_reads >= 2);
	/* Every command of every test so far, each completed, all on the
	 * queues of the attach they belong to. */
	assert_true(s.cmds >= 19);
	assert_int_equal(s.cpls, s.cmds);
	assert_int_equal(s.cmd_other_conn, 0);
	assert_true(s.media_errors >= 1);
	assert_true(s.msix_writes >= 2);
	/* The interrupt pci:msix:writeback lost, and the one it let go. */
	assert_true(s.irq_dropped2 >= 1);
	assert_true(s.irq_sent1 >= 1);
}

/* nvmedump shows the ring as the seed's traces do. */
static void test_nvmedump_text(void **state)
{
	static const char *const want[] = {
		" 00:06.0 CONN 00:06.0 gen=1 ",
		" 00:06.0 REG 0014 <- 00460001 (CC)",
		" 00:06.0 REG 001c -> 00000001 (CSTS)",
		" 00:06.0 REG 1000 <- 00000001 (SQ 0 Tail Doorbell)",
		" 00:06.0 REG 1001 ",
		" 00:06.0 REG 1004 <- 00000001 (CQ 0 Head Doorbell)",
		" 00:06.0 ADM SQ=0 CID=0001 OPC=Identify NSID=0 prp1=",
		" 00:06.0 CPL SQ=0 CID=0001 P=1 STS=0x0000",
		" 00:06.0 CFG 002c -> 0010fd01 (Subsystem Vendor ID)",
		" 00:06.0 IO SQ=1 ",
		" 00:06.0 CPL SQ=1 ",
		" 00:06.0 IRQ MSI-X vector=1 CQ=1 entries=1 sent",
		" 00:06.0 IRQ MSI-X vector=2 CQ=1 entries=1 dropped",
	};
	const char *nvmedump = getenv("FDR_NVMEDUMP");
	char cmd[PATH_MAX * 2 + 64];
	size_t cap = 1 << 20, n = 0, k;
	char *out = malloc(cap);
	FILE *p;

	(void)state;
	assert_non_null(nvmedump);
	assert_non_null(out);
	snprintf(cmd, sizeof(cmd), "'%s' -r '%s/ring' pci 00:06.0", nvmedump, pcie_drive.tmpdir);
	p = popen(cmd, "r");
	assert_non_null(p);
	while ((k = fread(out + n, 1, cap - n - 1, p)) > 0)
		n += k;
	out[n] = '\0';
	assert_int_equal(pclose(p), 0);
	for (unsigned i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		bool found = strstr(out, want[i]) != NULL;

		if (i == 4) /* no access in the middle of a doorbell */
			found = !found;
		if (!found) {
			fprintf(stderr, "%.3000s\n", out);
			fail_msg("nvmedump: '%s' %s", want[i], i == 4 ? "present" : "missing");
		}
	}
	/* Only the function's events: no NVMe/TCP controller column. */
	assert_null(strstr(out, " ctrl"));
	free(out);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_taps),
		cmocka_unit_test(test_register_taps),
		cmocka_unit_test(test_doorbell_tap),
		cmocka_unit_test(test_rule_on_pcie),
		cmocka_unit_test(test_read_data_rules),
		cmocka_unit_test(test_msix_table_taps),
		cmocka_unit_test(test_interrupt_tap),
		cmocka_unit_test(test_flr),
		cmocka_unit_test(test_bus_master),
		cmocka_unit_test(test_shadow_doorbells),
		cmocka_unit_test(test_same_namespace_over_tcp),
		cmocka_unit_test(test_shrunk_memory),
		cmocka_unit_test(test_recorder_events),
		cmocka_unit_test(test_nvmedump_text),
	};

	if (argc < 3) {
		fprintf(stderr, "usage: %s FRANKENDRIVE PLUGIN_DIR\n", argv[0]);
		return 2;
	}
	snprintf(g_plugin, sizeof(g_plugin), "%s/plugin_pcie_taps.so", argv[2]);
	itest_init(argc, argv);
	pcie_drive_args = drive_args;
	return cmocka_run_group_tests_name("integration_pcie_fn", tests, pcie_host_setup,
					   pcie_host_teardown);
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * PCIe (local) controllers (pci.c), behind a fake PCIe function
 * (harness.c): BAR0 registers, the enable / reset / shutdown / NVM
 * subsystem reset sequences, Create/Delete I/O SQ/CQ with every error
 * status, I/O on a created queue, SQ deletion aborting what is
 * outstanding, interrupt features, Identify; and fabrics controllers
 * still refusing the queue commands.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"

#define T(fn) cmocka_unit_test_setup_teardown(fn, h_setup, h_teardown)

#define INVALID_OPCODE SC_DNR(GENERIC, INVALID_OPCODE)
#define INVALID_FIELD SC_DNR(GENERIC, INVALID_FIELD)
#define SEQ_ERR SC_DNR(GENERIC, COMMAND_SEQUENCE_ERROR)
#define ABORTED_SQ SC(GENERIC, ABORTED_SQ_DELETION)
#define PRP_OFFSET SC_DNR(GENERIC, INVALID_PRP_OFFSET)
#define INVALID_QID SC_DNR(COMMAND_SPECIFIC, INVALID_QUEUE_IDENTIFIER)
#define INVALID_QSIZE SC_DNR(COMMAND_SPECIFIC, INVALID_QUEUE_SIZE)
#define CQ_INVALID SC_DNR(COMMAND_SPECIFIC, COMPLETION_QUEUE_INVALID)
#define INVALID_IV SC_DNR(COMMAND_SPECIFIC, INVALID_INTERRUPT_VECTOR)
#define INVALID_DELETION SC_DNR(COMMAND_SPECIFIC, INVALID_QUEUE_DELETION)

#define NR_VECTORS 8
#define CC_SHN(v) ((uint32_t)(v) << NVME_CC_SHN_SHIFT)
#define CSTS_SHST(csts) (((csts) & NVME_CSTS_SHST_MASK) >> NVME_CSTS_SHST_SHIFT)
#define PAGE 4096ull

static uint32_t csts(struct h_pci *p)
{
	return (uint32_t)h_pci_rd(p, NVME_REG_CSTS, 4);
}

static uint16_t create_cq(struct fdr_queue *aq, uint16_t qid, uint16_t qsize0, bool pc, bool ien,
			  uint16_t iv, uint64_t prp1)
{
	struct nvme_sqe c = {
		.opc = NVME_ADM_CREATE_IO_CQ,
		.cdw10 = qid | (uint32_t)qsize0 << 16,
		.cdw11 = (pc ? 1u : 0) | (ien ? 2u : 0) | (uint32_t)iv << 16,
	};

	c.dptr.prp1 = prp1;
	return h_cmd(aq, &c, NULL, 0, NULL, 0, NULL);
}

static uint16_t create_sq(struct fdr_queue *aq, uint16_t qid, uint16_t qsize0, bool pc,
			  uint8_t qprio, uint16_t cqid, uint64_t prp1)
{
	struct nvme_sqe c = {
		.opc = NVME_ADM_CREATE_IO_SQ,
		.cdw10 = qid | (uint32_t)qsize0 << 16,
		.cdw11 = (pc ? 1u : 0) | (uint32_t)qprio << 1 | (uint32_t)cqid << 16,
	};

	c.dptr.prp1 = prp1;
	return h_cmd(aq, &c, NULL, 0, NULL, 0, NULL);
}

static struct nvme_sqe delete_cmd(uint8_t opc, uint16_t qid)
{
	return (struct nvme_sqe){ .opc = opc, .cdw10 = qid };
}

static uint16_t delete_q(struct fdr_queue *aq, uint8_t opc, uint16_t qid)
{
	struct nvme_sqe c = delete_cmd(opc, qid);

	return h_cmd(aq, &c, NULL, 0, NULL, 0, NULL);
}

/* An enabled PCIe controller with I/O CQ 1 (vector 1) and SQ 1. */
static struct h_pci *pci_with_ioq(struct harness *h)
{
	struct h_pci *p = h_pci_create(h, NR_VECTORS, 0);

	h_pci_enable(p, 32, 32);
	assert_int_equal(create_cq(h_pci_aq(p), 1, 63, true, true, 1, 0x100000), 0);
	assert_int_equal(create_sq(h_pci_aq(p), 1, 63, true, 0, 1, 0x200000), 0);
	return p;
}

static uint16_t rw(struct fdr_queue *q, uint8_t opc, uint64_t slba, void *buf, uint32_t len)
{
	struct nvme_sqe c = {
		.opc = opc, .nsid = 1,
		.cdw10 = (uint32_t)slba, .cdw11 = (uint32_t)(slba >> 32),
		.cdw12 = len / 512 - 1,
	};

	if (opc == NVME_IO_WRITE)
		return h_cmd(q, &c, buf, len, NULL, 0, NULL);
	return h_cmd(q, &c, NULL, 0, buf, len, NULL);
}

/* ---- Registers --------------------------------------------------------------- */

static void test_create_and_cap(void **state)
{
	struct harness *h = *state;
	struct h_pci *p = h_pci_create(h, NR_VECTORS, 0);
	uint64_t cap = h_pci_rd(p, NVME_REG_CAP, 8);

	assert_int_equal(NVME_CAP_MQES(cap), h->s->max_qdepth - 1);
	assert_true(cap & NVME_CAP_CQR);
	assert_int_equal((cap >> NVME_CAP_AMS_SHIFT) & 3, 0);
	assert_int_not_equal((cap >> NVME_CAP_TO_SHIFT) & 0xff, 0);
	assert_int_equal((cap >> NVME_CAP_DSTRD_SHIFT) & 0xf, 0);
	assert_true(cap & NVME_CAP_NSSRS);
	assert_true(cap & NVME_CAP_CSS_NVM);
	assert_int_equal((cap >> NVME_CAP_MPSMIN_SHIFT) & 0xf, 0);
	assert_int_equal((cap >> NVME_CAP_MPSMAX_SHIFT) & 0xf, 0);
	/* 32-bit halves, as a host without readq reads it. */
	assert_int_equal(h_pci_rd(p, NVME_REG_CAP, 4), (uint32_t)cap);
	assert_int_equal(h_pci_rd(p, NVME_REG_CAP + 4, 4), (uint32_t)(cap >> 32));
	assert_int_equal(h_pci_rd(p, NVME_REG_VS, 4), NVME_VS(1, 4, 0));
	assert_int_equal(h_pci_rd(p, NVME_REG_CC, 4), 0);
	assert_int_equal(csts(p), 0);
	assert_int_equal(h_pci_rd(p, NVME_REG_NSSR, 4), 0);
	assert_int_equal(h_pci_rd(p, 0x50, 4), 0); /* reserved */
	/* Writes to read-only registers are ignored. */
	h_pci_wr(p, NVME_REG_CAP, 8, 0);
	assert_int_equal(h_pci_rd(p, NVME_REG_CAP, 8), cap);
	h_pci_wr(p, NVME_REG_VS, 4, 0);
	assert_int_equal(h_pci_rd(p, NVME_REG_VS, 4), NVME_VS(1, 4, 0));
	/* Misaligned, odd sizes and doorbells are not the core's. */
	uint64_t v;
	assert_int_not_equal(fdr_ctrl_reg_read(p->ctrl, 2, 4, &v), 0);
	assert_int_not_equal(fdr_ctrl_reg_read(p->ctrl, NVME_REG_CC, 2, &v), 0);
	assert_int_not_equal(fdr_ctrl_reg_read(p->ctrl, NVME_REG_CSTS, 8, &v), 0);
	assert_int_not_equal(fdr_ctrl_reg_read(p->ctrl, NVME_REG_DBS, 4, &v), 0);
	assert_int_not_equal(fdr_ctrl_reg_write(p->ctrl, NVME_REG_DBS, 4, 1), 0);

	/* Its own controller ID; fixed host NQN; no keep-alive; no admin queue. */
	assert_int_not_equal(p->ctrl->cntlid, 0);
	assert_int_not_equal(p->ctrl->cntlid, h->ctrl->cntlid);
	assert_string_equal(p->ctrl->hostnqn, FDR_PCI_HOSTNQN);
	assert_int_equal(p->ctrl->kato_ms, 0);
	assert_false(p->ctrl->kato_timer.armed);
	assert_null(p->ctrl->admin_q);
	assert_int_equal(p->nr_create_cq + p->nr_create_sq, 0);
	h_pci_destroy(p);
}

static void test_admin_queue_regs(void **state)
{
	struct harness *h = *state;
	struct h_pci *p = h_pci_create(h, NR_VECTORS, 0);

	h_pci_wr(p, NVME_REG_AQA, 4, 0xffffffff);
	assert_int_equal(h_pci_rd(p, NVME_REG_AQA, 4), 0x0fff0fff); /* reserved bits */
	h_pci_wr(p, NVME_REG_ASQ, 8, 0x123456789000ull);
	assert_int_equal(h_pci_rd(p, NVME_REG_ASQ, 8), 0x123456789000ull);
	/* Halves, low then high. */
	h_pci_wr(p, NVME_REG_ACQ, 4, 0xabcde000);
	h_pci_wr(p, NVME_REG_ACQ + 4, 4, 0x12);
	assert_int_equal(h_pci_rd(p, NVME_REG_ACQ, 8), 0x12abcde000ull);
	assert_int_equal(h_pci_rd(p, NVME_REG_ACQ + 4, 4), 0x12);
	h_pci_destroy(p);
}

static void test_intms_intmc(void **state)
{
	struct harness *h = *state;
	struct h_pci *p = h_pci_create(h, NR_VECTORS, 0);

	h_pci_wr(p, NVME_REG_INTMS, 4, 0x5);
	assert_int_equal(h_pci_rd(p, NVME_REG_INTMS, 4), 0x5);
	assert_int_equal(h_pci_rd(p, NVME_REG_INTMC, 4), 0x5);
	assert_int_equal(p->last_intms, 0x5);
	assert_int_equal(fdr_ctrl_intms(p->ctrl), 0x5);
	h_pci_wr(p, NVME_REG_INTMS, 4, 0x8); /* sets, never clears */
	assert_int_equal(fdr_ctrl_intms(p->ctrl), 0xd);
	h_pci_wr(p, NVME_REG_INTMC, 4, 0x1); /* clears */
	assert_int_equal(fdr_ctrl_intms(p->ctrl), 0xc);
	assert_int_equal(p->last_intms, 0xc);
	assert_int_equal(p->nr_intm, 3);
	/* A controller reset unmasks everything. */
	h_pci_enable(p, 2, 2);
	h_pci_wr(p, NVME_REG_CC, 4, 0);
	assert_int_equal(fdr_ctrl_intms(p->ctrl), 0);
	h_pci_destroy(p);
}

/* ---- Enable -------------------------------------------------------------------- */

static void test_enable(void **state)
{
	struct harness *h = *state;
	struct h_pci *p = h_pci_create(h, NR_VECTORS, 0);
	struct nvme_id_ctrl id;

	/* CC without EN does nothing. */
	h_pci_wr(p, NVME_REG_CC, 4, H_CC_ENABLE & ~NVME_CC_EN);
	assert_int_equal(csts(p), 0);
	assert_int_equal(p->nr_create_cq, 0);
	h_pci_enable(p, 32, 16);
	/* The admin queues, as AQA/ASQ/ACQ describe them. */
	assert_int_equal(p->nr_create_cq, 1);
	assert_int_equal(p->nr_create_sq, 1);
	assert_int_equal(p->nr_enable, 1);
	assert_true(p->cq_live[0]);
	assert_int_equal(p->cq[0].size, 16);
	assert_int_equal(p->cq[0].base, 0x20000);
	assert_true(p->cq[0].ien);
	assert_int_equal(p->cq[0].iv, 0);
	assert_int_equal(p->sq[0].size, 32);
	assert_int_equal(p->sq[0].base, 0x10000);
	assert_int_equal(p->sq[0].cqid, 0);
	struct fdr_queue *aq = h_pci_aq(p);
	assert_ptr_equal(aq, p->sq_q[0]);
	assert_int_equal(aq->qid, 0);
	assert_int_equal(aq->depth, 32);
	assert_ptr_equal(aq->ctrl, p->ctrl);
	assert_true(fdr_ctrl_ready(p->ctrl));
	/* Admin commands run. */
	assert_int_equal(h_identify(aq, NVME_CNS_CTRL, 0, 0, &id), 0);
	assert_int_equal(id.cntlid, p->ctrl->cntlid);
	/* The SQ head advances per command, wrapping at the queue size. */
	assert_int_equal(h_cqe(h_last_cid())->sqhd, 1);
	assert_int_equal(h_cqe(h_last_cid())->sqid, 0);
	for (int i = 0; i < 31; i++)
		assert_int_equal(h_identify(aq, NVME_CNS_CTRL, 0, 0, &id), 0);
	assert_int_equal(h_cqe(h_last_cid())->sqhd, 0);
	/* No fabrics commands on PCIe. */
	struct nvme_fabrics_prop_cmd pg = { .opc = NVME_ADM_FABRICS,
					    .fctype = NVME_FCTYPE_PROPERTY_GET };
	assert_int_equal(h_cmd(aq, (const struct nvme_sqe *)&pg, NULL, 0, NULL, 0, NULL),
			 INVALID_OPCODE);
	/* Doorbell Buffer Config is not offered (yet). */
	struct nvme_sqe dbbuf = { .opc = NVME_ADM_DOORBELL_BUFFER_CONFIG };
	assert_int_equal(h_cmd(aq, &dbbuf, NULL, 0, NULL, 0, NULL), INVALID_OPCODE);
	/* EN written again while enabled: nothing new. */
	h_pci_wr(p, NVME_REG_CC, 4, H_CC_ENABLE);
	assert_int_equal(p->nr_create_sq, 1);
	h_pci_destroy(p);
}

static void test_enable_invalid(void **state)
{
	struct harness *h = *state;
	struct h_pci *p = h_pci_create(h, NR_VECTORS, 0);
	const struct {
		uint32_t cc, aqa;
		uint64_t asq, acq;
	} bad[] = {
		{ H_CC_ENABLE, 0x001f0000, 0x10000, 0x20000 },            /* ASQS 0 */
		{ H_CC_ENABLE, 0x0000001f, 0x10000, 0x20000 },            /* ACQS 0 */
		{ H_CC_ENABLE, 0x001f001f, 0x10008, 0x20000 },            /* ASQ unaligned */
		{ H_CC_ENABLE, 0x001f001f, 0x10000, 0x20800 },            /* ACQ unaligned */
		{ H_CC_ENABLE & ~(0xfu << NVME_CC_IOSQES_SHIFT), 0x001f001f, 0x10000, 0x20000 },
		{ H_CC_ENABLE & ~(0xfu << NVME_CC_IOCQES_SHIFT), 0x001f001f, 0x10000, 0x20000 },
		{ H_CC_ENABLE | 1u << NVME_CC_MPS_SHIFT, 0x001f001f, 0x10000, 0x20000 },
		{ H_CC_ENABLE | 1u << NVME_CC_CSS_SHIFT, 0x001f001f, 0x10000, 0x20000 },
		{ H_CC_ENABLE | 1u << NVME_CC_AMS_SHIFT, 0x001f001f, 0x10000, 0x20000 },
	};

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		h_pci_wr(p, NVME_REG_AQA, 4, bad[i].aqa);
		h_pci_wr(p, NVME_REG_ASQ, 8, bad[i].asq);
		h_pci_wr(p, NVME_REG_ACQ, 8, bad[i].acq);
		h_pci_wr(p, NVME_REG_CC, 4, bad[i].cc);
		assert_int_equal(csts(p), NVME_CSTS_CFS);
		assert_int_equal(p->nr_create_cq + p->nr_create_sq, 0);
		assert_null(p->ctrl->admin_q);
		/* The host's reset clears CFS. */
		h_pci_wr(p, NVME_REG_CC, 4, 0);
		assert_int_equal(csts(p), 0);
	}
	h_pci_enable(p, 2, 2); /* smallest admin queues */
	h_pci_destroy(p);
}

static void test_enable_transport_fails(void **state)
{
	struct harness *h = *state;
	struct h_pci *p = h_pci_create(h, NR_VECTORS, 0);
	const uint16_t internal = SC(GENERIC, INTERNAL);

	h_pci_wr(p, NVME_REG_AQA, 4, 0x001f001f);
	h_pci_wr(p, NVME_REG_ASQ, 8, 0x10000);
	h_pci_wr(p, NVME_REG_ACQ, 8, 0x20000);
	/* The CQ cannot be set up. */
	p->fail_create_cq = internal;
	h_pci_wr(p, NVME_REG_CC, 4, H_CC_ENABLE);
	assert_int_equal(csts(p), NVME_CSTS_CFS);
	assert_int_equal(p->nr_create_sq, 0);
	h_pci_wr(p, NVME_REG_CC, 4, 0);
	assert_int_equal(csts(p), 0);
	assert_int_equal(p->nr_delete_cq, 0);
	/* The SQ cannot: the reset takes the CQ down again. */
	p->fail_create_sq = internal;
	h_pci_wr(p, NVME_REG_CC, 4, H_CC_ENABLE);
	assert_int_equal(csts(p), NVME_CSTS_CFS);
	assert_null(p->ctrl->admin_q);
	h_pci_wr(p, NVME_REG_CC, 4, 0);
	assert_int_equal(p->nr_delete_cq, 1);
	assert_false(p->cq_live[0]);
	/* enable() refuses: both queues go at the reset. */
	p->fail_enable = internal;
	h_pci_wr(p, NVME_REG_CC, 4, H_CC_ENABLE);
	assert_int_equal(csts(p), NVME_CSTS_CFS);
	struct fdr_queue *aq = p->sq_q[0];
	h_pci_wr(p, NVME_REG_CC, 4, 0);
	assert_int_equal(csts(p), 0);
	assert_true(aq->drained);
	assert_int_equal(h_disconnects(aq), 1);
	assert_int_equal(p->nr_delete_cq, 2);
	/* And then it works. */
	h_pci_enable(p, 32, 32);
	h_pci_destroy(p);
}

/* ---- Reset, shutdown, NVM subsystem reset -------------------------------------------- */

static void test_reset(void **state)
{
	struct harness *h = *state;
	struct h_pci *p = pci_with_ioq(h);
	struct fdr_queue *aq = h_pci_aq(p), *ioq = p->sq_q[1];
	uint32_t cdw0 = 0;

	assert_int_equal(create_cq(aq, 2, 15, true, false, 0, 0x300000), 0);
	assert_int_equal(h_set_feat(aq, NVME_FEAT_ARBITRATION, 0, 0, 3, NULL, 0, NULL), 0);
	assert_int_equal(h_set_feat(aq, NVME_FEAT_IRQ_CONFIG, 0, 0, 1 | 1u << 16, NULL, 0, NULL),
			 0);
	/* An outstanding AER ends with the reset. */
	uint16_t aer = h_submit(aq, &(struct nvme_sqe){ .opc = NVME_ADM_ASYNC_EVENT_REQUEST });
	assert_false(h_done(aer, NULL, NULL));

	h_pci_wr(p, NVME_REG_CC, 4, H_CC_ENABLE & ~NVME_CC_EN);
	uint16_t st = 0;
	assert_true(h_done(aer, &st, NULL));
	assert_int_equal(st, ABORTED_SQ);
	assert_int_equal(csts(p), 0);
	assert_true(ioq->closing && ioq->drained);
	assert_true(aq->closing && aq->drained);
	assert_null(p->ctrl->admin_q);
	assert_null(p->ctrl->ioq[1]);
	assert_int_equal(p->nr_delete_cq, 3); /* CQ 2, CQ 1, admin CQ */
	for (unsigned i = 0; i <= FDR_MAX_IO_QUEUES; i++)
		assert_false(p->cq_live[i]);
	assert_int_equal(p->nr_disable, 1);
	/* AQA/ASQ/ACQ survive a controller reset; the rest re-enables. */
	assert_int_equal(h_pci_rd(p, NVME_REG_AQA, 4), 0x001f001f);
	h_pci_wr(p, NVME_REG_CC, 4, H_CC_ENABLE);
	assert_int_equal(csts(p), NVME_CSTS_RDY);
	aq = h_pci_aq(p);
	assert_int_not_equal(aq, p->sq_q[1]);
	/* Features are back to defaults; the old queue IDs are free. */
	assert_int_equal(h_get_feat(aq, NVME_FEAT_ARBITRATION, 0, 0, NULL, 0, &cdw0), 0);
	assert_int_equal(cdw0, 0);
	assert_int_equal(h_get_feat(aq, NVME_FEAT_IRQ_CONFIG, 0, 1, NULL, 0, &cdw0), 0);
	assert_int_equal(cdw0, 1);
	assert_int_equal(create_cq(aq, 1, 63, true, true, 1, 0x100000), 0);
	assert_int_equal(create_sq(aq, 1, 63, true, 0, 1, 0x200000), 0);
	h_pci_destroy(p);
}

/* A reset waits for commands the backend still has: RDY stays 1 until
 * they finished, and they end Aborted due to SQ Deletion. */
static void test_reset_waits_for_outstanding(void **state)
{
	struct harness *h = *state;
	struct h_pci *p = pci_with_ioq(h);
	struct h_spy *spy = h_spy_attach(h->s->ns[1]);
	struct fdr_queue *ioq = p->sq_q[1];
	uint16_t cid, st = 0;

	spy->defer = true;
	cid = h_submit(ioq, &(struct nvme_sqe){ .opc = NVME_IO_READ, .nsid = 1 });
	assert_false(h_done(cid, NULL, NULL));
	h_pci_wr(p, NVME_REG_CC, 4, 0);
	assert_int_equal(csts(p) & NVME_CSTS_RDY, NVME_CSTS_RDY);
	assert_true(ioq->closing);
	assert_false(ioq->drained);
	assert_int_equal(p->nr_disable, 0);
	/* EN=1 while it drains is taken once the reset is through. */
	h_pci_wr(p, NVME_REG_CC, 4, H_CC_ENABLE);
	assert_int_equal(p->nr_create_sq, 2);
	assert_int_equal(h_spy_run(spy), 1);
	assert_true(h_done(cid, &st, NULL));
	assert_int_equal(st, ABORTED_SQ);
	assert_true(ioq->drained);
	assert_int_equal(p->nr_disable, 1);
	assert_int_equal(p->nr_create_sq, 3); /* re-enabled: a new admin SQ */
	assert_int_equal(csts(p), NVME_CSTS_RDY);
	spy->defer = false;
	h_pci_destroy(p);
}

static void test_shutdown(void **state)
{
	struct harness *h = *state;
	struct h_pci *p = pci_with_ioq(h);
	struct h_spy *spy = h_spy_attach(h->s->ns[1]);

	h_pci_wr(p, NVME_REG_CC, 4, H_CC_ENABLE | CC_SHN(NVME_CC_SHN_NORMAL));
	assert_int_equal(CSTS_SHST(csts(p)), NVME_CSTS_SHST_COMPLETE);
	assert_int_equal(p->nr_shutdown, 1);
	assert_int_equal(spy->nr_flush_sync, 1);
	assert_true(csts(p) & NVME_CSTS_RDY);
	/* Then the host disables, and SHST goes back to normal operation. */
	h_pci_wr(p, NVME_REG_CC, 4, CC_SHN(NVME_CC_SHN_NORMAL));
	assert_int_equal(CSTS_SHST(csts(p)), 0);
	assert_int_equal(csts(p) & NVME_CSTS_RDY, 0);
	h_pci_wr(p, NVME_REG_CC, 4, 0);
	assert_int_equal(csts(p), 0);
	/* Abrupt shutdown too. */
	h_pci_enable(p, 4, 4);
	h_pci_wr(p, NVME_REG_CC, 4, H_CC_ENABLE | CC_SHN(NVME_CC_SHN_ABRUPT));
	assert_int_equal(CSTS_SHST(csts(p)), NVME_CSTS_SHST_COMPLETE);
	assert_int_equal(p->nr_shutdown, 2);
	h_pci_wr(p, NVME_REG_CC, 4, H_CC_ENABLE);
	assert_int_equal(CSTS_SHST(csts(p)), 0);
	h_pci_destroy(p);
}

static void test_nssr(void **state)
{
	struct harness *h = *state;
	struct h_pci *p = pci_with_ioq(h);
	struct fdr_queue *ioq = p->sq_q[1];

	/* Anything but "NVMe" does nothing. */
	h_pci_wr(p, NVME_REG_NSSR, 4, 0x4E564D64);
	assert_int_equal(csts(p), NVME_CSTS_RDY);
	h_pci_wr(p, NVME_REG_NSSR, 4, 0x4E564D65);
	assert_int_equal(csts(p), NVME_CSTS_NSSRO);
	assert_true(ioq->drained);
	assert_null(p->ctrl->admin_q);
	assert_int_equal(p->nr_disable, 1);
	assert_int_equal(p->nr_delete_cq, 2);
	/* Every register is back to its reset value. */
	assert_int_equal(h_pci_rd(p, NVME_REG_CC, 4), 0);
	assert_int_equal(h_pci_rd(p, NVME_REG_AQA, 4), 0);
	assert_int_equal(h_pci_rd(p, NVME_REG_ASQ, 8), 0);
	assert_int_equal(h_pci_rd(p, NVME_REG_ACQ, 8), 0);
	assert_int_equal(h_pci_rd(p, NVME_REG_NSSR, 4), 0);
	/* NSSRO is write-1-to-clear; the other CSTS bits are read-only. */
	h_pci_wr(p, NVME_REG_CSTS, 4, NVME_CSTS_RDY);
	assert_int_equal(csts(p), NVME_CSTS_NSSRO);
	h_pci_wr(p, NVME_REG_CSTS, 4, NVME_CSTS_NSSRO);
	assert_int_equal(csts(p), 0);
	/* It comes back up. */
	h_pci_enable(p, 8, 8);
	/* NSSR of a disabled controller: just NSSRO. */
	h_pci_wr(p, NVME_REG_CC, 4, 0);
	h_pci_wr(p, NVME_REG_NSSR, 4, 0x4E564D65);
	assert_int_equal(csts(p), NVME_CSTS_NSSRO);
	h_pci_destroy(p);
}

/* An NVM subsystem reset reaches every controller of the subsystem: the
 * other PCIe controller resets with NSSRO, a fabrics one loses its
 * association. */
static void test_nssr_subsystem(void **state)
{
	struct harness *h = *state;
	struct h_pci *p = pci_with_ioq(h);
	struct h_pci *p2 = pci_with_ioq(h);
	struct fdr_queue *aq = h_queue(h);

	assert_int_equal(h_connect(h, aq, H_SUBNQN, 0, 0xffff, H_HOSTNQN), 0);
	assert_int_equal(h_disconnects(aq), 0);
	h_pci_wr(p, NVME_REG_NSSR, 4, 0x4E564D65);
	h_poll(h);
	assert_int_equal(csts(p), NVME_CSTS_NSSRO);
	assert_int_equal(csts(p2), NVME_CSTS_NSSRO);
	assert_true(p2->sq_q[1]->drained);
	assert_int_equal(h_pci_rd(p2, NVME_REG_CC, 4), 0);
	assert_int_equal(h_disconnects(aq), 1);
	/* Each comes back up on its own. */
	h_pci_enable(p2, 8, 8);
	assert_int_equal(csts(p), NVME_CSTS_NSSRO);
	h_pci_destroy(p2);
	h_pci_destroy(p);
}

/* ---- Create / Delete I/O queues --------------------------------------------------------- */

static void test_io_on_created_queue(void **state)
{
	struct harness *h = *state;
	struct h_pci *p = pci_with_ioq(h);
	struct fdr_queue *ioq = p->sq_q[1];
	uint8_t wbuf[4096], rbuf[4096];

	/* What the transport was asked for. */
	assert_true(p->cq_live[1]);
	assert_int_equal(p->cq[1].size, 64);
	assert_int_equal(p->cq[1].base, 0x100000);
	assert_true(p->cq[1].ien);
	assert_int_equal(p->cq[1].iv, 1);
	assert_int_equal(p->sq[1].size, 64);
	assert_int_equal(p->sq[1].cqid, 1);
	assert_int_equal(p->sq[1].base, 0x200000);
	assert_ptr_equal(p->ctrl->ioq[1], ioq);
	assert_int_equal(ioq->qid, 1);
	assert_int_equal(ioq->depth, 64);

	for (unsigned i = 0; i < sizeof(wbuf); i++)
		wbuf[i] = (uint8_t)(i * 7 + 3);
	assert_int_equal(rw(ioq, NVME_IO_WRITE, 16, wbuf, sizeof(wbuf)), 0);
	assert_int_equal(h_cqe(h_last_cid())->sqid, 1);
	assert_int_equal(h_cqe(h_last_cid())->sqhd, 1);
	assert_int_equal(rw(ioq, NVME_IO_READ, 16, rbuf, sizeof(rbuf)), 0);
	assert_memory_equal(wbuf, rbuf, sizeof(wbuf));
	/* The same data over fabrics: one namespace, two transports. */
	struct fdr_queue *tcpq = h_io_queue(h, 1);
	memset(rbuf, 0, sizeof(rbuf));
	assert_int_equal(rw(tcpq, NVME_IO_READ, 16, rbuf, sizeof(rbuf)), 0);
	assert_memory_equal(wbuf, rbuf, sizeof(wbuf));
	/* A second SQ on the same CQ. */
	assert_int_equal(create_sq(h_pci_aq(p), 2, 7, true, 2, 1, 0x400000), 0);
	assert_int_equal(p->sq[2].qprio, 2);
	assert_int_equal(rw(p->sq_q[2], NVME_IO_READ, 16, rbuf, 512), 0);
	assert_int_equal(h_cqe(h_last_cid())->sqid, 2);
	/* Nor is a fabrics command (Connect) anything on a PCIe I/O queue. */
	struct nvme_sqe c = { .opc = NVME_ADM_FABRICS, .nsid = 1 };
	assert_int_equal(h_cmd(ioq, &c, NULL, 0, NULL, 0, NULL), INVALID_OPCODE);
	h_pci_destroy(p);
}

static void test_create_cq_errors(void **state)
{
	struct harness *h = *state;
	struct h_pci *p = h_pci_create(h, NR_VECTORS, 0);
	uint64_t mqes = NVME_CAP_MQES(h_pci_rd(p, NVME_REG_CAP, 8));
	uint32_t cdw0 = 0;

	h_pci_enable(p, 32, 32);
	struct fdr_queue *aq = h_pci_aq(p);
	/* Number of Queues: 4 CQs and 3 SQs granted. */
	assert_int_equal(h_set_feat(aq, NVME_FEAT_NUM_QUEUES, 0, 0, 2 | 3u << 16, NULL, 0, &cdw0),
			 0);
	assert_int_equal(cdw0, 2 | 3u << 16);
	assert_int_equal(create_cq(aq, 0, 15, true, true, 0, PAGE), INVALID_QID);
	assert_int_equal(create_cq(aq, 5, 15, true, true, 0, PAGE), INVALID_QID);
	assert_int_equal(create_cq(aq, 0xffff, 15, true, true, 0, PAGE), INVALID_QID);
	assert_int_equal(create_cq(aq, 1, 0, true, true, 0, PAGE), INVALID_QSIZE);
	assert_int_equal(create_cq(aq, 1, (uint16_t)(mqes + 1), true, true, 0, PAGE), INVALID_QSIZE);
	assert_int_equal(create_cq(aq, 1, 15, false, true, 0, PAGE), INVALID_FIELD); /* CAP.CQR */
	assert_int_equal(create_cq(aq, 1, 15, true, true, NR_VECTORS, PAGE), INVALID_IV);
	assert_int_equal(create_cq(aq, 1, 15, true, true, 0xffff, PAGE), INVALID_IV);
	assert_int_equal(create_cq(aq, 1, 15, true, true, 0, PAGE + 16), PRP_OFFSET);
	assert_int_equal(p->nr_create_cq, 1); /* only the admin CQ reached it */
	/* The transport's refusal is the command's status. */
	p->fail_create_cq = SC(GENERIC, INTERNAL);
	assert_int_equal(create_cq(aq, 1, 15, true, true, 0, PAGE), SC(GENERIC, INTERNAL));
	assert_false(p->ctrl->pci->cq[1].live);
	/* Good ones: the largest size, the last vector, the last QID; a
	 * polled CQ (IEN=0) does not name a vector. */
	assert_int_equal(create_cq(aq, 1, (uint16_t)mqes, true, true, NR_VECTORS - 1, PAGE), 0);
	assert_int_equal(create_cq(aq, 4, 1, true, false, 0xffff, 2 * PAGE), 0);
	assert_false(p->cq[4].ien);
	assert_int_equal(create_cq(aq, 1, 15, true, true, 0, PAGE), INVALID_QID); /* exists */
	/* Number of Queues is fixed now. */
	assert_int_equal(h_set_feat(aq, NVME_FEAT_NUM_QUEUES, 0, 0, 0, NULL, 0, NULL), SEQ_ERR);
	h_pci_destroy(p);
}

static void test_create_sq_errors(void **state)
{
	struct harness *h = *state;
	struct h_pci *p = h_pci_create(h, NR_VECTORS, 0);
	uint64_t mqes = NVME_CAP_MQES(h_pci_rd(p, NVME_REG_CAP, 8));

	h_pci_enable(p, 32, 32);
	struct fdr_queue *aq = h_pci_aq(p);
	assert_int_equal(h_set_feat(aq, NVME_FEAT_NUM_QUEUES, 0, 0, 2 | 3u << 16, NULL, 0, NULL), 0);
	assert_int_equal(create_cq(aq, 1, 15, true, true, 1, PAGE), 0);
	assert_int_equal(create_sq(aq, 0, 15, true, 0, 1, PAGE), INVALID_QID);
	assert_int_equal(create_sq(aq, 4, 15, true, 0, 1, PAGE), INVALID_QID); /* 3 SQs granted */
	assert_int_equal(create_sq(aq, 1, 15, true, 0, 0, PAGE), CQ_INVALID); /* the admin CQ */
	assert_int_equal(create_sq(aq, 1, 15, true, 0, 2, PAGE), CQ_INVALID); /* no such CQ */
	assert_int_equal(create_sq(aq, 1, 15, true, 0, 0xffff, PAGE), CQ_INVALID);
	assert_int_equal(create_sq(aq, 1, 0, true, 0, 1, PAGE), INVALID_QSIZE);
	assert_int_equal(create_sq(aq, 1, (uint16_t)(mqes + 1), true, 0, 1, PAGE), INVALID_QSIZE);
	assert_int_equal(create_sq(aq, 1, 15, false, 0, 1, PAGE), INVALID_FIELD);
	assert_int_equal(create_sq(aq, 1, 15, true, 0, 1, PAGE + 64), PRP_OFFSET);
	assert_int_equal(p->nr_create_sq, 1);
	p->fail_create_sq = SC(GENERIC, INTERNAL);
	assert_int_equal(create_sq(aq, 1, 15, true, 0, 1, PAGE), SC(GENERIC, INTERNAL));
	assert_null(p->ctrl->ioq[1]);
	assert_int_equal(create_sq(aq, 3, (uint16_t)mqes, true, 3, 1, PAGE), 0);
	assert_int_equal(create_sq(aq, 3, 15, true, 0, 1, PAGE), INVALID_QID); /* exists */
	assert_int_equal(create_sq(aq, 1, 15, true, 0, 1, PAGE), 0);
	h_pci_destroy(p);
}

static void test_delete_queues(void **state)
{
	struct harness *h = *state;
	struct h_pci *p = pci_with_ioq(h);
	struct fdr_queue *aq = h_pci_aq(p), *ioq = p->sq_q[1];

	assert_int_equal(delete_q(aq, NVME_ADM_DELETE_IO_SQ, 0), INVALID_QID);
	assert_int_equal(delete_q(aq, NVME_ADM_DELETE_IO_SQ, 2), INVALID_QID);
	assert_int_equal(delete_q(aq, NVME_ADM_DELETE_IO_SQ, 0xffff), INVALID_QID);
	assert_int_equal(delete_q(aq, NVME_ADM_DELETE_IO_CQ, 0), INVALID_QID);
	assert_int_equal(delete_q(aq, NVME_ADM_DELETE_IO_CQ, 2), INVALID_QID);
	assert_int_equal(delete_q(aq, NVME_ADM_DELETE_IO_CQ, 0xffff), INVALID_QID);
	/* SQ 1 still uses CQ 1. */
	assert_int_equal(delete_q(aq, NVME_ADM_DELETE_IO_CQ, 1), INVALID_DELETION);
	assert_true(p->cq_live[1]);
	assert_int_equal(delete_q(aq, NVME_ADM_DELETE_IO_SQ, 1), 0);
	assert_true(ioq->drained);
	assert_int_equal(h_disconnects(ioq), 1);
	assert_null(p->ctrl->ioq[1]);
	assert_int_equal(delete_q(aq, NVME_ADM_DELETE_IO_SQ, 1), INVALID_QID); /* gone */
	assert_int_equal(delete_q(aq, NVME_ADM_DELETE_IO_CQ, 1), 0);
	assert_false(p->cq_live[1]);
	assert_int_equal(p->nr_delete_cq, 1);
	assert_int_equal(delete_q(aq, NVME_ADM_DELETE_IO_CQ, 1), INVALID_QID);
	/* The IDs can be used again, and the count is no longer fixed. */
	assert_int_equal(h_set_feat(aq, NVME_FEAT_NUM_QUEUES, 0, 0, 1 | 1u << 16, NULL, 0, NULL), 0);
	assert_int_equal(create_cq(aq, 1, 15, true, true, 1, PAGE), 0);
	assert_int_equal(create_sq(aq, 1, 15, true, 0, 1, PAGE), 0);
	assert_int_equal(create_sq(aq, 2, 15, true, 0, 1, PAGE), 0);
	assert_int_equal(create_sq(aq, 3, 15, true, 0, 1, PAGE), INVALID_QID);
	h_pci_destroy(p);
}

/* Delete I/O SQ while a command is in the backend: it ends Aborted due to
 * SQ Deletion, and the Delete completes after it. */
static void test_delete_sq_aborts_outstanding(void **state)
{
	struct harness *h = *state;
	struct h_pci *p = pci_with_ioq(h);
	struct fdr_queue *aq = h_pci_aq(p), *ioq = p->sq_q[1];
	struct h_spy *spy = h_spy_attach(h->s->ns[1]);
	uint16_t io, del, st = 0;

	spy->defer = true;
	io = h_submit(ioq, &(struct nvme_sqe){ .opc = NVME_IO_WRITE, .nsid = 1 });
	assert_false(h_done(io, NULL, NULL));
	struct nvme_sqe d = delete_cmd(NVME_ADM_DELETE_IO_SQ, 1);
	del = h_submit(aq, &d);
	assert_false(h_done(del, NULL, NULL));
	assert_true(ioq->closing);
	assert_null(fdr_req_get(ioq)); /* nothing more is fetched from it */
	/* Meanwhile its CQ cannot go, and its QID is not free. */
	assert_int_equal(delete_q(aq, NVME_ADM_DELETE_IO_CQ, 1), INVALID_DELETION);
	assert_int_equal(create_sq(aq, 1, 15, true, 0, 1, PAGE), INVALID_QID);
	assert_int_equal(delete_q(aq, NVME_ADM_DELETE_IO_SQ, 1), INVALID_QID);
	assert_int_equal(h_spy_run(spy), 1);
	assert_true(h_done(io, &st, NULL));
	assert_int_equal(st, ABORTED_SQ);
	assert_true(h_done(del, &st, NULL));
	assert_int_equal(st, 0);
	assert_true(ioq->drained);
	assert_int_equal(delete_q(aq, NVME_ADM_DELETE_IO_CQ, 1), 0);
	spy->defer = false;
	h_pci_destroy(p);
}

/* The function goes away with queues up: everything drains. */
static void test_teardown_with_queues(void **state)
{
	struct harness *h = *state;
	struct h_pci *p = pci_with_ioq(h);
	struct fdr_queue *aq = h_pci_aq(p), *ioq = p->sq_q[1];
	uint16_t cntlid = p->ctrl->cntlid;

	h_pci_destroy(p);
	assert_true(aq->drained);
	assert_true(ioq->drained);
	for (unsigned i = 0; i < FDR_MAX_CTRLS; i++)
		assert_true(!h->s->ctrls[i] || h->s->ctrls[i]->cntlid != cntlid);
	/* The fabrics controller is untouched. */
	struct nvme_id_ctrl id;
	assert_int_equal(h_identify(h->aq, NVME_CNS_CTRL, 0, 0, &id), 0);
}

/* ---- Identify, features -------------------------------------------------------------------- */

static void test_identify(void **state)
{
	struct harness *h = *state;
	struct h_pci *p = h_pci_create(h, NR_VECTORS, NVME_SGLS_SUPPORTED);
	static struct nvme_id_ctrl id;

	h_pci_enable(p, 4, 4);
	assert_int_equal(h_identify(h_pci_aq(p), NVME_CNS_CTRL, 0, 0, &id), 0);
	assert_int_equal(id.cntrltype, NVME_CTRL_TYPE_IO);
	assert_int_equal(id.cntlid, p->ctrl->cntlid);
	assert_int_equal(id.vid, 0x1b36);
	assert_int_equal(id.ssvid, 0x1af4);
	assert_int_equal(id.sgls, NVME_SGLS_SUPPORTED);
	assert_int_equal(id.ioccsz, 0);
	assert_int_equal(id.iorcsz, 0);
	assert_int_equal(id.icdoff, 0);
	assert_int_equal(id.fcatt, 0);
	assert_int_equal(id.msdbd, 0);
	assert_int_equal(id.ofcs, 0);
	assert_int_equal(id.maxcmd, 0);
	assert_int_equal(id.oacs & NVME_OACS_DBBUF, 0);
	assert_true(id.oacs & NVME_OACS_FORMAT);
	assert_int_equal(id.sqes, 0x66);
	assert_int_equal(id.cqes, 0x44);
	assert_int_equal(id.nn, FDR_MAX_NS);
	assert_string_equal(id.subnqn, H_SUBNQN);
	h_pci_destroy(p);
	/* PRPs only */
	p = h_pci_create(h, NR_VECTORS, 0);
	h_pci_enable(p, 4, 4);
	assert_int_equal(h_identify(h_pci_aq(p), NVME_CNS_CTRL, 0, 0, &id), 0);
	assert_int_equal(id.sgls, 0);
	h_pci_destroy(p);
	/* Fabrics keeps its fields. */
	assert_int_equal(h_identify(h->aq, NVME_CNS_CTRL, 0, 0, &id), 0);
	assert_int_not_equal(id.ioccsz, 0);
	assert_int_not_equal(id.sgls, 0);
	assert_int_equal(id.msdbd, 1);
}

static void test_irq_features(void **state)
{
	struct harness *h = *state;
	struct h_pci *p = h_pci_create(h, NR_VECTORS, 0);
	uint32_t cdw0 = 0;
	uint8_t thr, tm;

	h_pci_enable(p, 4, 4);
	struct fdr_queue *aq = h_pci_aq(p);
	/* Interrupt Coalescing: stored, readable by the transport. */
	assert_int_equal(h_set_feat(aq, NVME_FEAT_IRQ_COALESCE, 0, 0, 0x0a07, NULL, 0, NULL), 0);
	assert_int_equal(p->nr_irq_cfg, 1);
	assert_int_equal(p->last_irq_iv, 0xffff);
	fdr_ctrl_irq_coalescing(p->ctrl, &thr, &tm);
	assert_int_equal(thr, 7);
	assert_int_equal(tm, 10);
	assert_int_equal(h_get_feat(aq, NVME_FEAT_IRQ_COALESCE, NVME_FEAT_SEL_CURRENT, 0, NULL, 0,
				    &cdw0), 0);
	assert_int_equal(cdw0, 0x0a07);
	assert_int_equal(h_get_feat(aq, NVME_FEAT_IRQ_COALESCE, NVME_FEAT_SEL_DEFAULT, 0, NULL, 0,
				    &cdw0), 0);
	assert_int_equal(cdw0, 0);
	/* Interrupt Vector Configuration: per vector CD. */
	for (uint16_t iv = 0; iv < NR_VECTORS; iv++) {
		assert_int_equal(h_get_feat(aq, NVME_FEAT_IRQ_CONFIG, 0, iv, NULL, 0, &cdw0), 0);
		assert_int_equal(cdw0, iv);
		assert_false(fdr_ctrl_irq_cd(p->ctrl, iv));
	}
	assert_int_equal(h_set_feat(aq, NVME_FEAT_IRQ_CONFIG, 0, 0, 3 | 1u << 16, NULL, 0, NULL), 0);
	assert_int_equal(p->last_irq_iv, 3);
	assert_true(fdr_ctrl_irq_cd(p->ctrl, 3));
	assert_false(fdr_ctrl_irq_cd(p->ctrl, 2));
	assert_int_equal(h_get_feat(aq, NVME_FEAT_IRQ_CONFIG, 0, 3, NULL, 0, &cdw0), 0);
	assert_int_equal(cdw0, 3 | 1u << 16);
	assert_int_equal(h_get_feat(aq, NVME_FEAT_IRQ_CONFIG, NVME_FEAT_SEL_DEFAULT, 3, NULL, 0,
				    &cdw0), 0);
	assert_int_equal(cdw0, 3);
	assert_int_equal(h_set_feat(aq, NVME_FEAT_IRQ_CONFIG, 0, 0, 3, NULL, 0, NULL), 0);
	assert_false(fdr_ctrl_irq_cd(p->ctrl, 3));
	/* A vector the function does not have. */
	assert_int_equal(h_set_feat(aq, NVME_FEAT_IRQ_CONFIG, 0, 0, NR_VECTORS | 1u << 16, NULL, 0,
				    NULL), INVALID_FIELD);
	assert_int_equal(h_get_feat(aq, NVME_FEAT_IRQ_CONFIG, 0, NR_VECTORS, NULL, 0, &cdw0),
			 INVALID_FIELD);
	assert_true(fdr_ctrl_irq_cd(p->ctrl, 0xffff)); /* out of range reads "disabled" */
	/* Fabrics controllers have no vectors. */
	assert_int_equal(h_get_feat(h->aq, NVME_FEAT_IRQ_CONFIG, 0, 0, NULL, 0, &cdw0),
			 INVALID_FIELD);
	assert_int_equal(h_set_feat(h->aq, NVME_FEAT_IRQ_CONFIG, 0, 0, 0, NULL, 0, NULL),
			 INVALID_FIELD);
	h_pci_destroy(p);
}

/* Keep-alive is off unless the host sets it; expiry is a fatal status on
 * PCIe (there is no connection to drop). */
static void test_keep_alive(void **state)
{
	struct harness *h = *state;
	struct h_pci *p = h_pci_create(h, NR_VECTORS, 0);

	h_pci_enable(p, 4, 4);
	assert_false(p->ctrl->kato_timer.armed);
	assert_int_equal(h_set_feat(h_pci_aq(p), NVME_FEAT_KATO, 0, 0, 20, NULL, 0, NULL), 0);
	assert_true(p->ctrl->kato_timer.armed);
	uint64_t t0 = fdr_now_ns();
	while (!(csts(p) & NVME_CSTS_CFS) && fdr_now_ns() - t0 < 2000000000ull)
		fdr_reactor_poll(h->r, 10);
	assert_int_equal(csts(p), NVME_CSTS_RDY | NVME_CSTS_CFS);
	assert_false(p->ctrl->dead);
	assert_non_null(p->ctrl->admin_q);
	/* The reset recovers. */
	h_pci_wr(p, NVME_REG_CC, 4, 0);
	assert_int_equal(csts(p), 0);
	assert_false(p->ctrl->kato_timer.armed); /* KATO back to 0 */
	h_pci_destroy(p);
}

static void test_fabrics_rejects_queue_commands(void **state)
{
	struct harness *h = *state;

	assert_int_equal(create_cq(h->aq, 1, 15, true, true, 0, PAGE), INVALID_OPCODE);
	assert_int_equal(create_sq(h->aq, 1, 15, true, 0, 1, PAGE), INVALID_OPCODE);
	assert_int_equal(delete_q(h->aq, NVME_ADM_DELETE_IO_SQ, 1), INVALID_OPCODE);
	assert_int_equal(delete_q(h->aq, NVME_ADM_DELETE_IO_CQ, 1), INVALID_OPCODE);
	struct nvme_sqe dbbuf = { .opc = NVME_ADM_DOORBELL_BUFFER_CONFIG };
	assert_int_equal(h_cmd(h->aq, &dbbuf, NULL, 0, NULL, 0, NULL), INVALID_OPCODE);
	/* Even with a PCIe controller in the same subsystem. */
	struct h_pci *p = h_pci_create(h, NR_VECTORS, 0);
	h_pci_enable(p, 4, 4);
	assert_int_equal(create_cq(h->aq, 1, 15, true, true, 0, PAGE), INVALID_OPCODE);
	/* Property Get on fabrics is unchanged (INTMS does not exist there). */
	uint64_t v = 0;
	assert_int_equal(h_prop_get(h->aq, NVME_REG_INTMS, 4, &v), INVALID_FIELD);
	assert_int_equal(h_prop_get(h->aq, NVME_REG_CAP, 4, &v), INVALID_FIELD);
	assert_int_equal(h_prop_get(h->aq, NVME_REG_CAP, 8, &v), 0);
	assert_int_equal(v & NVME_CAP_NSSRS, 0);
	h_pci_destroy(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_create_and_cap),
		T(test_admin_queue_regs),
		T(test_intms_intmc),
		T(test_enable),
		T(test_enable_invalid),
		T(test_enable_transport_fails),
		T(test_reset),
		T(test_reset_waits_for_outstanding),
		T(test_shutdown),
		T(test_nssr),
		T(test_nssr_subsystem),
		T(test_io_on_created_queue),
		T(test_create_cq_errors),
		T(test_create_sq_errors),
		T(test_delete_queues),
		T(test_delete_sq_aborts_outstanding),
		T(test_teardown_with_queues),
		T(test_identify),
		T(test_irq_features),
		T(test_keep_alive),
		T(test_fabrics_rejects_queue_commands),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

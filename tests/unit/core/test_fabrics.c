/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Fabrics commands (fabrics.c) and the pipeline's command sequencing:
 * Connect of admin and I/O queues, Property Get/Set, Disconnect, and
 * what a queue accepts before Connect and before CC.EN.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define SEQ_ERR SC_DNR(GENERIC, COMMAND_SEQUENCE_ERROR)
#define INVALID_FIELD SC_DNR(GENERIC, INVALID_FIELD)
#define INVALID_OPCODE SC_DNR(GENERIC, INVALID_OPCODE)
#define CONNECT_INVALID SC_DNR(COMMAND_SPECIFIC, CONNECT_INVALID_PARAMETERS)
#define CONNECT_FORMAT SC_DNR(COMMAND_SPECIFIC, CONNECT_INCOMPATIBLE_FORMAT)
#define CONNECT_HOST SC_DNR(COMMAND_SPECIFIC, CONNECT_INVALID_HOST)

/* Invalid parameter offsets (Connect response dword 0): bit 16 says "in the data". */
#define IPO_SQE(f) ((uint32_t)offsetof(struct nvme_fabrics_connect_cmd, f))
#define IPO_DATA(f) ((1u << 16) | (uint32_t)offsetof(struct nvme_fabrics_connect_data, f))

#define OTHER_HOSTNQN "nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-000000000002"

/* Connect with c/d as given; checks status and, for 82h, the IPO. */
static void expect_connect(struct fdr_queue *q, const struct nvme_fabrics_connect_cmd *c,
			   const struct nvme_fabrics_connect_data *d, uint16_t status, uint32_t ipo)
{
	uint32_t cdw0 = 0xdeadbeef;

	assert_int_equal(h_connect_raw(q, c, d, &cdw0), status);
	/* The response names the queue the host asked for, failed or not. */
	assert_int_equal(h_cqe(h_last_cid())->sqid, c->qid);
	if (status == CONNECT_INVALID)
		assert_int_equal(cdw0, ipo);
	if (status)
		assert_null(q->ctrl);
}

static uint16_t identify_ctrl(struct fdr_queue *q, struct nvme_id_ctrl *id)
{
	return h_identify(q, NVME_CNS_CTRL, 0, 0, id);
}

/* ---- Connect: admin queue ----------------------------------------------------------- */

static void test_connect_admin_errors(void **state)
{
	struct harness *h = *state;
	struct fdr_queue *q = h_queue(h);
	struct nvme_fabrics_connect_cmd c;
	struct nvme_fabrics_connect_data d;

	h_connect_fill(&c, &d, H_SUBNQN, 0, 0xffff, H_HOSTNQN);
	c.recfmt = 1;
	expect_connect(q, &c, &d, CONNECT_FORMAT, 0);
	c.recfmt = 0xffff;
	expect_connect(q, &c, &d, CONNECT_FORMAT, 0);

	/* SUBNQN: empty, unterminated, longer than an NQN may be. */
	h_connect_fill(&c, &d, H_SUBNQN, 0, 0xffff, H_HOSTNQN);
	memset(d.subnqn, 0, sizeof(d.subnqn));
	expect_connect(q, &c, &d, CONNECT_INVALID, IPO_DATA(subnqn));
	memset(d.subnqn, 'a', sizeof(d.subnqn));
	expect_connect(q, &c, &d, CONNECT_INVALID, IPO_DATA(subnqn));
	memset(d.subnqn, 0, sizeof(d.subnqn));
	memset(d.subnqn, 'a', NVME_NQN_MAX + 1);
	expect_connect(q, &c, &d, CONNECT_INVALID, IPO_DATA(subnqn));
	/* HOSTNQN the same. */
	h_connect_fill(&c, &d, H_SUBNQN, 0, 0xffff, H_HOSTNQN);
	memset(d.hostnqn, 0, sizeof(d.hostnqn));
	expect_connect(q, &c, &d, CONNECT_INVALID, IPO_DATA(hostnqn));
	memset(d.hostnqn, 'h', sizeof(d.hostnqn));
	expect_connect(q, &c, &d, CONNECT_INVALID, IPO_DATA(hostnqn));
	memset(d.hostnqn, 0, sizeof(d.hostnqn));
	memset(d.hostnqn, 'h', NVME_NQN_MAX + 1);
	expect_connect(q, &c, &d, CONNECT_INVALID, IPO_DATA(hostnqn));

	/* A subsystem that is not here, or differs only in case or by a suffix. */
	h_connect_fill(&c, &d, "nqn.2024-01.io.frankendrive.test:nope", 0, 0xffff, H_HOSTNQN);
	expect_connect(q, &c, &d, CONNECT_INVALID, IPO_DATA(subnqn));
	h_connect_fill(&c, &d, "NQN.2024-01.io.frankendrive.test:sub1", 0, 0xffff, H_HOSTNQN);
	expect_connect(q, &c, &d, CONNECT_INVALID, IPO_DATA(subnqn));
	h_connect_fill(&c, &d, H_SUBNQN "x", 0, 0xffff, H_HOSTNQN);
	expect_connect(q, &c, &d, CONNECT_INVALID, IPO_DATA(subnqn));

	/* Admin SQSIZE: 1..31 (zero-based; 32 entries at most). */
	h_connect_fill(&c, &d, H_SUBNQN, 0, 0xffff, H_HOSTNQN);
	c.sqsize = 0;
	expect_connect(q, &c, &d, CONNECT_INVALID, IPO_SQE(sqsize));
	c.sqsize = FDR_ADMIN_QDEPTH;
	expect_connect(q, &c, &d, CONNECT_INVALID, IPO_SQE(sqsize));
	c.sqsize = 0xffff;
	expect_connect(q, &c, &d, CONNECT_INVALID, IPO_SQE(sqsize));

	/* Dynamic controllers: CNTLID must be FFFFh. */
	static const uint16_t ids[] = { 0, 1, 0xfffe, 0xffef };
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		h_connect_fill(&c, &d, H_SUBNQN, 0, ids[i], H_HOSTNQN);
		expect_connect(q, &c, &d, CONNECT_INVALID, IPO_DATA(cntlid));
	}

	/* After all that the queue still takes a good Connect. */
	uint32_t cdw0 = 0;
	h_connect_fill(&c, &d, H_SUBNQN, 0, 0xffff, H_HOSTNQN);
	c.sqsize = 7;
	assert_int_equal(h_connect_raw(q, &c, &d, &cdw0), 0);
	assert_non_null(q->ctrl);
	assert_int_equal(cdw0, q->ctrl->cntlid);
	assert_int_not_equal(q->ctrl->cntlid, h->ctrl->cntlid);
	assert_int_equal(q->qid, 0);
	assert_int_equal(q->depth, 8);
	assert_string_equal(q->ctrl->hostnqn, H_HOSTNQN);
	assert_memory_equal(q->ctrl->hostid, d.hostid, 16);
}

static void test_allow_list(void **state)
{
	struct harness *h = *state;
	struct fdr_queue *q = h_queue(h);
	struct nvme_fabrics_connect_cmd c;
	struct nvme_fabrics_connect_data d;
	char **list = calloc(3, sizeof(*list));

	assert_non_null(list);
	list[0] = strdup(OTHER_HOSTNQN);
	h->s->allowed_hosts = list; /* freed by fdr_subsys_destroy */
	h_connect_fill(&c, &d, H_SUBNQN, 0, 0xffff, H_HOSTNQN);
	expect_connect(q, &c, &d, CONNECT_HOST, 0);
	/* The controller already connected is not affected, but new I/O
	 * queues of a host that is not allowed are refused too. */
	struct fdr_queue *io = h_queue(h);
	h_connect_fill(&c, &d, H_SUBNQN, 1, h->ctrl->cntlid, H_HOSTNQN);
	expect_connect(io, &c, &d, CONNECT_HOST, 0);
	/* Listed: fine. */
	list[1] = strdup(H_HOSTNQN);
	h_connect_fill(&c, &d, H_SUBNQN, 0, 0xffff, H_HOSTNQN);
	assert_int_equal(h_connect_raw(q, &c, &d, NULL), 0);
	/* The discovery subsystem has no allow-list. */
	struct fdr_queue *dq = h_queue(h);
	h_connect_fill(&c, &d, NVME_DISC_SUBSYS_NAME, 0, 0xffff, "nqn.2014-08.org.example:stranger");
	assert_int_equal(h_connect_raw(dq, &c, &d, NULL), 0);
}

static void test_connect_twice(void **state)
{
	struct harness *h = *state;
	struct nvme_fabrics_connect_cmd c;
	struct nvme_fabrics_connect_data d;
	struct fdr_ctrl *ctrl = h->ctrl;
	uint16_t cntlid = ctrl->cntlid;

	h_connect_fill(&c, &d, H_SUBNQN, 0, 0xffff, H_HOSTNQN);
	assert_int_equal(h_connect_raw(h->aq, &c, &d, NULL), SEQ_ERR);
	h_connect_fill(&c, &d, H_SUBNQN, 1, cntlid, H_HOSTNQN);
	assert_int_equal(h_connect_raw(h->aq, &c, &d, NULL), SEQ_ERR);
	assert_ptr_equal(h->aq->ctrl, ctrl);
	assert_int_equal(h->aq->qid, 0);
	/* An I/O queue, likewise. */
	struct fdr_queue *io = h_io_queue(h, 1);
	h_connect_fill(&c, &d, H_SUBNQN, 2, cntlid, H_HOSTNQN);
	assert_int_equal(h_connect_raw(io, &c, &d, NULL), SEQ_ERR);
	assert_int_equal(io->qid, 1);
	assert_null(h->ctrl->ioq[2]);
	/* Both still work. */
	struct nvme_id_ctrl id;
	assert_int_equal(identify_ctrl(h->aq, &id), 0);
	assert_int_equal(id.cntlid, cntlid);
}

static void test_before_connect(void **state)
{
	struct harness *h = *state;
	struct fdr_queue *q = h_queue(h);
	static const struct nvme_sqe cmds[] = {
		{ .opc = NVME_ADM_IDENTIFY, .cdw10 = NVME_CNS_CTRL },
		{ .opc = NVME_ADM_KEEP_ALIVE },
		{ .opc = NVME_ADM_GET_LOG_PAGE, .cdw10 = NVME_LOG_ERROR | 15u << 16 },
		{ .opc = NVME_ADM_ASYNC_EVENT_REQUEST },
		{ .opc = NVME_IO_READ, .nsid = 1 },
		{ .opc = 0xff },
	};
	uint8_t buf[4096];
	uint64_t v = 0;

	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		assert_int_equal(h_cmd(q, &cmds[i], NULL, 0, buf, sizeof(buf), NULL), SEQ_ERR);
	assert_int_equal(h_prop_get(q, NVME_REG_CSTS, 4, &v), SEQ_ERR);
	assert_int_equal(h_prop_get(q, NVME_REG_CAP, 8, &v), SEQ_ERR);
	assert_int_equal(h_prop_set(q, NVME_REG_CC, 4, H_CC_ENABLE), SEQ_ERR);
	struct nvme_fabrics_cmd disc = { .opc = NVME_ADM_FABRICS, .fctype = NVME_FCTYPE_DISCONNECT };
	assert_int_equal(h_cmd(q, (struct nvme_sqe *)&disc, NULL, 0, NULL, 0, NULL), SEQ_ERR);
	assert_null(q->ctrl);
	/* The admin queue of the harness did not get an error logged for them. */
	assert_int_equal(h->ctrl->errlog_count, 0);
}

static void test_before_enable(void **state)
{
	struct harness *h = *state;
	struct fdr_queue *q = h_queue(h);
	struct nvme_fabrics_connect_cmd c;
	struct nvme_fabrics_connect_data d;
	struct nvme_id_ctrl id;
	uint64_t v = 0xffff;
	uint16_t st = 0, cid;

	h_connect_fill(&c, &d, H_SUBNQN, 0, 0xffff, H_HOSTNQN);
	assert_int_equal(h_connect_raw(q, &c, &d, NULL), 0);
	assert_non_null(q->ctrl);
	/* Registers work, commands do not. */
	assert_int_equal(h_prop_get(q, NVME_REG_CSTS, 4, &v), 0);
	assert_int_equal(v & NVME_CSTS_RDY, 0);
	assert_int_equal(h_prop_get(q, NVME_REG_CC, 4, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(identify_ctrl(q, &id), SEQ_ERR);
	assert_int_equal(h_get_feat(q, NVME_FEAT_ARBITRATION, 0, 0, NULL, 0, NULL), SEQ_ERR);
	cid = h_submit(q, &(struct nvme_sqe){ .opc = NVME_ADM_ASYNC_EVENT_REQUEST });
	assert_true(h_done(cid, &st, NULL));
	assert_int_equal(st, SEQ_ERR);
	assert_int_equal(q->ctrl->nr_aer, 0);
	/* No I/O queue for a controller that is not ready. */
	struct fdr_queue *io = h_queue(h);
	h_connect_fill(&c, &d, H_SUBNQN, 1, q->ctrl->cntlid, H_HOSTNQN);
	expect_connect(io, &c, &d, CONNECT_INVALID, IPO_DATA(cntlid));

	assert_int_equal(h_prop_set(q, NVME_REG_CC, 4, H_CC_ENABLE), 0);
	assert_int_equal(identify_ctrl(q, &id), 0);
	assert_int_equal(id.cntlid, q->ctrl->cntlid);
	expect_connect(io, &c, &d, 0, 0);
	assert_ptr_equal(io->ctrl, q->ctrl);
}

/* ---- Connect: I/O queues ----------------------------------------------------------- */

static void test_connect_io_errors(void **state)
{
	struct harness *h = *state;
	struct fdr_queue *q = h_queue(h);
	struct nvme_fabrics_connect_cmd c;
	struct nvme_fabrics_connect_data d;
	uint16_t cntlid = h->ctrl->cntlid;

	/* Unknown controller. */
	static const uint16_t ids[] = { 0, 0xffff, 0xfffe, 2, 0xffef };
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		assert_int_not_equal(ids[i], cntlid);
		h_connect_fill(&c, &d, H_SUBNQN, 1, ids[i], H_HOSTNQN);
		expect_connect(q, &c, &d, CONNECT_INVALID, IPO_DATA(cntlid));
	}
	/* Another host's controller. */
	h_connect_fill(&c, &d, H_SUBNQN, 1, cntlid, OTHER_HOSTNQN);
	expect_connect(q, &c, &d, CONNECT_INVALID, IPO_DATA(cntlid));
	/* I/O queues of a discovery controller do not exist. */
	h_connect_fill(&c, &d, NVME_DISC_SUBSYS_NAME, 1, cntlid, H_HOSTNQN);
	expect_connect(q, &c, &d, CONNECT_INVALID, IPO_SQE(qid));
	/* More queues than offered (8 by default). */
	h_connect_fill(&c, &d, H_SUBNQN, h->s->max_io_queues + 1, cntlid, H_HOSTNQN);
	expect_connect(q, &c, &d, CONNECT_INVALID, IPO_SQE(qid));
	c.qid = FDR_MAX_IO_QUEUES + 1;
	expect_connect(q, &c, &d, CONNECT_INVALID, IPO_SQE(qid));
	c.qid = 0xffff;
	expect_connect(q, &c, &d, CONNECT_INVALID, IPO_SQE(qid));
	/* SQSIZE: at least 1, below MQES + 1 and the queue's request pool (64). */
	h_connect_fill(&c, &d, H_SUBNQN, 1, cntlid, H_HOSTNQN);
	c.sqsize = 0;
	expect_connect(q, &c, &d, CONNECT_INVALID, IPO_SQE(sqsize));
	c.sqsize = 64;
	expect_connect(q, &c, &d, CONNECT_INVALID, IPO_SQE(sqsize));
	struct fdr_queue *big = h_queue_on(h, h->port, 512);
	c.sqsize = h->s->max_qdepth;
	expect_connect(big, &c, &d, CONNECT_INVALID, IPO_SQE(sqsize));
	c.sqsize = h->s->max_qdepth - 1;
	c.qid = 3;
	expect_connect(big, &c, &d, 0, 0);
	assert_int_equal(big->depth, h->s->max_qdepth);
	assert_ptr_equal(h->ctrl->ioq[3], big);

	/* The highest queue offered is fine. */
	struct fdr_queue *top = h_io_queue(h, h->s->max_io_queues);
	assert_ptr_equal(h->ctrl->ioq[h->s->max_io_queues], top);

	/* Duplicate QID. */
	struct fdr_queue *q1 = h_io_queue(h, 1);
	h_connect_fill(&c, &d, H_SUBNQN, 1, cntlid, H_HOSTNQN);
	expect_connect(q, &c, &d, CONNECT_INVALID, IPO_SQE(qid));
	assert_ptr_equal(h->ctrl->ioq[1], q1);
	/* Once that queue is gone its QID is free again. */
	fdr_queue_close(q1);
	assert_null(h->ctrl->ioq[1]);
	expect_connect(q, &c, &d, 0, 0);
	assert_ptr_equal(h->ctrl->ioq[1], q);
	assert_int_equal(q->depth, 32);
}

static void test_connect_io_granted(void **state)
{
	struct harness *h = *state;
	struct fdr_queue *q = h_queue(h);
	struct nvme_fabrics_connect_cmd c;
	struct nvme_fabrics_connect_data d;
	uint32_t cdw0 = 0;

	/* The host asks for 2 queues (zero-based 1). */
	assert_int_equal(h_set_feat(h->aq, NVME_FEAT_NUM_QUEUES, 0, 0, 1 | 1u << 16, NULL, 0, &cdw0), 0);
	assert_int_equal(cdw0, 1 | 1u << 16);
	h_connect_fill(&c, &d, H_SUBNQN, 3, h->ctrl->cntlid, H_HOSTNQN);
	expect_connect(q, &c, &d, CONNECT_INVALID, IPO_SQE(qid));
	c.qid = 2;
	expect_connect(q, &c, &d, 0, 0);
	h_io_queue(h, 1);
}

static void test_discovery_only_port(void **state)
{
	struct harness *h = *state;
	struct fdr_port *p = fdr_target_add_port(h->t, NVMF_TRTYPE_TCP, "127.0.0.1", "8009");
	struct nvme_fabrics_connect_cmd c;
	struct nvme_fabrics_connect_data d;
	struct nvme_id_ctrl id;

	assert_non_null(p);
	p->discovery_only = true;
	struct fdr_queue *q = h_queue_on(h, p, 64);
	h_connect_fill(&c, &d, H_SUBNQN, 0, 0xffff, H_HOSTNQN);
	expect_connect(q, &c, &d, CONNECT_INVALID, IPO_DATA(subnqn));
	/* Nor an I/O queue of an existing controller through that port. */
	h_connect_fill(&c, &d, H_SUBNQN, 1, h->ctrl->cntlid, H_HOSTNQN);
	expect_connect(q, &c, &d, CONNECT_INVALID, IPO_DATA(subnqn));
	/* The discovery subsystem is served, with any CNTLID (static or dynamic). */
	h_connect_fill(&c, &d, NVME_DISC_SUBSYS_NAME, 0, 0xffff, H_HOSTNQN);
	expect_connect(q, &c, &d, 0, 0);
	assert_int_equal(q->ctrl->subsys->type, FDR_SUBSYS_DISCOVERY);
	assert_int_equal(h_prop_set(q, NVME_REG_CC, 4, H_CC_ENABLE), 0);
	assert_int_equal(identify_ctrl(q, &id), 0);
	assert_int_equal(id.cntrltype, NVME_CTRL_TYPE_DISCOVERY);
	struct fdr_queue *q2 = h_queue_on(h, p, 64);
	h_connect_fill(&c, &d, NVME_DISC_SUBSYS_NAME, 0, 0xfffe, H_HOSTNQN);
	expect_connect(q2, &c, &d, 0, 0);
}

/* ---- Property Get / Set ------------------------------------------------------------ */

static void test_property_get(void **state)
{
	struct harness *h = *state;
	uint64_t v = 0;

	assert_int_equal(h_prop_get(h->aq, NVME_REG_CAP, 8, &v), 0);
	assert_int_equal(v, h->ctrl->cap);
	assert_int_equal(NVME_CAP_MQES(v), h->s->max_qdepth - 1);
	assert_true(v & NVME_CAP_CQR);
	assert_true(v & NVME_CAP_CSS_NVM);
	assert_int_not_equal((v >> NVME_CAP_TO_SHIFT) & 0xff, 0);
	assert_int_equal((v >> NVME_CAP_MPSMIN_SHIFT) & 0xf, 0); /* 4 KiB pages */
	assert_int_equal(h_prop_get(h->aq, NVME_REG_CAP, 4, &v), INVALID_FIELD);
	assert_int_equal(h_prop_get(h->aq, NVME_REG_VS, 4, &v), 0);
	assert_int_equal(v, NVME_VS(1, 4, 0));
	assert_int_equal(h_prop_get(h->aq, NVME_REG_VS, 8, &v), INVALID_FIELD);
	assert_int_equal(h_prop_get(h->aq, NVME_REG_CC, 4, &v), 0);
	assert_int_equal(v, H_CC_ENABLE);
	assert_int_equal(h_prop_get(h->aq, NVME_REG_CSTS, 4, &v), 0);
	assert_int_equal(v, NVME_CSTS_RDY);
	assert_int_equal(h_prop_get(h->aq, NVME_REG_CSTS, 8, &v), INVALID_FIELD);
	assert_int_equal(h_prop_get(h->aq, NVME_REG_NSSR, 4, &v), 0);
	assert_int_equal(v, 0);
	/* No such properties on fabrics. */
	static const uint32_t none[] = { NVME_REG_INTMS, NVME_REG_INTMC, NVME_REG_AQA, NVME_REG_ASQ,
					 NVME_REG_ACQ,	 NVME_REG_CMBLOC, NVME_REG_DBS, 0x04, 0x16,
					 0xfff, 0xffffffff };
	for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
		assert_int_equal(h_prop_get(h->aq, none[i], 4, &v), INVALID_FIELD);
		assert_int_equal(h_prop_get(h->aq, none[i], 8, &v), INVALID_FIELD);
	}
	/* Only on the admin queue. */
	struct fdr_queue *io = h_io_queue(h, 1);
	assert_int_equal(h_prop_get(io, NVME_REG_CSTS, 4, &v), INVALID_FIELD);
	assert_int_equal(h_prop_set(io, NVME_REG_CC, 4, H_CC_ENABLE), INVALID_FIELD);
}

static void test_property_set(void **state)
{
	struct harness *h = *state;
	static const uint32_t ro[] = { NVME_REG_CAP, NVME_REG_VS, NVME_REG_CSTS, NVME_REG_NSSR,
				       NVME_REG_AQA, NVME_REG_ASQ, NVME_REG_ACQ, NVME_REG_INTMS,
				       NVME_REG_DBS, 0x15, 0x18 };
	uint64_t v = 0;

	for (size_t i = 0; i < sizeof(ro) / sizeof(ro[0]); i++) {
		assert_int_equal(h_prop_set(h->aq, ro[i], 4, 0), INVALID_FIELD);
		assert_int_equal(h_prop_set(h->aq, ro[i], 8, 0), INVALID_FIELD);
	}
	/* NSSR would be a subsystem reset: not supported (CAP.NSSRS is 0). */
	assert_int_equal(h_prop_set(h->aq, NVME_REG_NSSR, 4, NVME_NSSR_MAGIC), INVALID_FIELD);
	/* CC is 4 bytes; an 8-byte write (even of CC.EN=0) changes nothing. */
	assert_int_equal(h_prop_set(h->aq, NVME_REG_CC, 8, 0), INVALID_FIELD);
	assert_int_equal(h_prop_get(h->aq, NVME_REG_CC, 4, &v), 0);
	assert_int_equal(v, H_CC_ENABLE);
	assert_true(fdr_ctrl_ready(h->ctrl));
	assert_int_equal(h_prop_get(h->aq, NVME_REG_CAP, 8, &v), 0);
	assert_int_equal(v, h->ctrl->cap);
	/* Writing the same CC again is harmless. */
	assert_int_equal(h_prop_set(h->aq, NVME_REG_CC, 4, H_CC_ENABLE), 0);
	assert_true(fdr_ctrl_ready(h->ctrl));
}

/* ---- Other fabrics commands ---------------------------------------------------------- */

static void test_unknown_fctype(void **state)
{
	struct harness *h = *state;
	static const uint8_t types[] = { 0x02, 0x03, NVME_FCTYPE_AUTH_SEND, NVME_FCTYPE_AUTH_RECEIVE,
					 0x07, 0x09, 0x7f, 0x80, 0xc0, 0xff };
	struct fdr_queue *io = h_io_queue(h, 1);
	struct fdr_queue *fresh = h_queue(h);

	for (size_t i = 0; i < sizeof(types); i++) {
		struct nvme_fabrics_cmd c = { .opc = NVME_ADM_FABRICS, .fctype = types[i] };

		assert_int_equal(h_cmd(h->aq, (struct nvme_sqe *)&c, NULL, 0, NULL, 0, NULL),
				 INVALID_OPCODE);
		assert_int_equal(h_cmd(io, (struct nvme_sqe *)&c, NULL, 0, NULL, 0, NULL),
				 INVALID_OPCODE);
		assert_int_equal(h_cmd(fresh, (struct nvme_sqe *)&c, NULL, 0, NULL, 0, NULL),
				 INVALID_OPCODE);
	}
	assert_null(fresh->ctrl);
}

static void test_disconnect(void **state)
{
	struct harness *h = *state;
	struct fdr_queue *io = h_io_queue(h, 1);
	struct nvme_fabrics_cmd c = { .opc = NVME_ADM_FABRICS, .fctype = NVME_FCTYPE_DISCONNECT };

	assert_int_equal(h_cmd(io, (struct nvme_sqe *)&c, NULL, 0, NULL, 0, NULL), 0);
	assert_int_equal(h_cmd(h->aq, (struct nvme_sqe *)&c, NULL, 0, NULL, 0, NULL), 0);
	/* The host closes the connection itself; the core does not. */
	assert_int_equal(h_disconnects(io), 0);
	assert_int_equal(h_disconnects(h->aq), 0);
	fdr_queue_close(io);
	assert_null(h->ctrl->ioq[1]);
}

static void test_fuse(void **state)
{
	struct harness *h = *state;
	struct fdr_queue *io = h_io_queue(h, 1);
	uint8_t buf[4096];

	for (uint8_t fuse = 1; fuse <= 3; fuse++) {
		struct nvme_sqe id = { .opc = NVME_ADM_IDENTIFY, .flags = fuse, .cdw10 = NVME_CNS_CTRL };
		struct nvme_sqe rd = { .opc = NVME_IO_READ, .flags = fuse, .nsid = 1 };
		struct nvme_sqe cmp = { .opc = NVME_IO_COMPARE, .flags = fuse, .nsid = 1 };
		struct nvme_sqe wr = { .opc = NVME_IO_WRITE, .flags = fuse, .nsid = 1 };

		assert_int_equal(h_cmd(h->aq, &id, NULL, 0, buf, sizeof(buf), NULL), INVALID_FIELD);
		assert_int_equal(h_cmd(io, &rd, NULL, 0, buf, 512, NULL), INVALID_FIELD);
		assert_int_equal(h_cmd(io, &cmp, buf, 512, NULL, 0, NULL), INVALID_FIELD);
		assert_int_equal(h_cmd(io, &wr, buf, 512, NULL, 0, NULL), INVALID_FIELD);
	}
	/* The PSDT bits are not FUSE. */
	struct nvme_sqe rd = { .opc = NVME_IO_READ, .flags = NVME_PSDT_SGL_MPTR_CONTIG << NVME_CMD_FLAGS_PSDT_SHIFT,
			       .nsid = 1 };
	assert_int_equal(h_cmd(io, &rd, NULL, 0, buf, 512, NULL), 0);
}

/* SQHD in each CQE: the head after the command was taken, modulo the
 * queue size; FFFFh throughout once SQ flow control is off. */
static void test_sqhd(void **state)
{
	struct harness *h = *state;
	struct fdr_queue *q = h_queue(h), *nf = h_queue(h);
	struct nvme_fabrics_connect_cmd c;
	struct nvme_fabrics_connect_data d;
	struct nvme_sqe ka = { .opc = NVME_ADM_KEEP_ALIVE };

	h_connect_fill(&c, &d, H_SUBNQN, 0, 0xffff, H_HOSTNQN);
	c.sqsize = 3; /* 4 entries */
	assert_int_equal(h_connect_raw(q, &c, &d, NULL), 0);
	assert_int_equal(h_prop_set(q, NVME_REG_CC, 4, H_CC_ENABLE), 0);
	uint16_t prev = h_cqe(h_last_cid())->sqhd;
	for (unsigned i = 0; i < 10; i++) {
		assert_int_equal(h_cmd(q, &ka, NULL, 0, NULL, 0, NULL), 0);
		const struct nvme_cqe *e = h_cqe(h_last_cid());
		assert_int_equal(e->sqhd, (prev + 1) % 4);
		assert_int_equal(e->sqid, 0);
		prev = e->sqhd;
	}
	c.cattr = NVME_CONNECT_CATTR_SQ_FLOW_DISABLE;
	assert_int_equal(h_connect_raw(nf, &c, &d, NULL), 0);
	assert_int_equal(h_prop_set(nf, NVME_REG_CC, 4, H_CC_ENABLE), 0);
	for (unsigned i = 0; i < 5; i++) {
		assert_int_equal(h_cmd(nf, &ka, NULL, 0, NULL, 0, NULL), 0);
		assert_int_equal(h_cqe(h_last_cid())->sqhd, 0xffff);
	}
	/* I/O queues report their own QID. */
	struct fdr_queue *io = h_io_queue(h, 5);
	assert_int_equal(h_cmd(io, &(struct nvme_sqe){ .opc = NVME_IO_FLUSH, .nsid = 1 }, NULL, 0,
			       NULL, 0, NULL), 0);
	assert_int_equal(h_cqe(h_last_cid())->sqid, 5);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, h_setup, h_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_connect_admin_errors),
		T(test_allow_list),
		T(test_connect_twice),
		T(test_before_connect),
		T(test_before_enable),
		T(test_connect_io_errors),
		T(test_connect_io_granted),
		T(test_discovery_only_port),
		T(test_property_get),
		T(test_property_set),
		T(test_unknown_fctype),
		T(test_disconnect),
		T(test_fuse),
		T(test_sqhd),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

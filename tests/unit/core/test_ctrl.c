/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Controllers (ctrl.c): the CC/CSTS state machine (enable, invalid
 * enable, shutdown, reset), keep-alive expiry on a real reactor,
 * teardown, and controller ID allocation.
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
#define ABORTED_SQ SC(GENERIC, ABORTED_SQ_DELETION)

#define CC_SHN(v) ((uint32_t)(v) << NVME_CC_SHN_SHIFT)
#define CSTS_SHST(csts) (((csts) & NVME_CSTS_SHST_MASK) >> NVME_CSTS_SHST_SHIFT)

/* A new controller on a new admin queue, connected but not enabled. */
static struct fdr_queue *new_ctrl(struct harness *h, uint32_t kato_ms)
{
	struct fdr_queue *q = h_queue(h);
	struct nvme_fabrics_connect_cmd c;
	struct nvme_fabrics_connect_data d;

	h_connect_fill(&c, &d, H_SUBNQN, 0, 0xffff, H_HOSTNQN);
	c.kato = kato_ms;
	assert_int_equal(h_connect_raw(q, &c, &d, NULL), 0);
	assert_non_null(q->ctrl);
	return q;
}

static uint32_t csts(struct fdr_queue *q)
{
	uint64_t v = 0;

	assert_int_equal(h_prop_get(q, NVME_REG_CSTS, 4, &v), 0);
	return (uint32_t)v;
}

static uint32_t cc(struct fdr_queue *q)
{
	uint64_t v = 0;

	assert_int_equal(h_prop_get(q, NVME_REG_CC, 4, &v), 0);
	return (uint32_t)v;
}

static uint16_t identify_ctrl(struct fdr_queue *q)
{
	static struct nvme_id_ctrl id;

	return h_identify(q, NVME_CNS_CTRL, 0, 0, &id);
}

/* ---- CC.EN ------------------------------------------------------------------- */

static void test_enable(void **state)
{
	struct harness *h = *state;
	struct fdr_queue *q = new_ctrl(h, 0);

	assert_int_equal(csts(q), 0);
	assert_int_equal(cc(q), 0);
	/* Other CC fields written without EN do not make it ready. */
	assert_int_equal(h_prop_set(q, NVME_REG_CC, 4, H_CC_ENABLE & ~NVME_CC_EN), 0);
	assert_int_equal(csts(q), 0);
	assert_int_equal(identify_ctrl(q), SEQ_ERR);
	assert_int_equal(h_prop_set(q, NVME_REG_CC, 4, H_CC_ENABLE), 0);
	assert_int_equal(csts(q), NVME_CSTS_RDY);
	assert_int_equal(cc(q), H_CC_ENABLE);
	assert_true(fdr_ctrl_ready(q->ctrl));
	assert_int_equal(identify_ctrl(q), 0);
	/* Other controllers are independent. */
	assert_int_equal(csts(h->aq), NVME_CSTS_RDY);
}

static void test_enable_invalid_cc(void **state)
{
	struct harness *h = *state;
	static const uint32_t bad[] = {
		NVME_CC_EN | (7u << NVME_CC_IOSQES_SHIFT) | (4u << NVME_CC_IOCQES_SHIFT),
		NVME_CC_EN | (4u << NVME_CC_IOCQES_SHIFT),                /* IOSQES 0 */
		NVME_CC_EN | (6u << NVME_CC_IOSQES_SHIFT) | (5u << NVME_CC_IOCQES_SHIFT),
		H_CC_ENABLE | (1u << NVME_CC_MPS_SHIFT),                  /* 8 KiB pages */
		H_CC_ENABLE | (7u << NVME_CC_CSS_SHIFT),                  /* admin only: not offered */
		H_CC_ENABLE | (1u << NVME_CC_AMS_SHIFT),                  /* WRR: not offered */
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct fdr_queue *q = new_ctrl(h, 0);

		/* The write itself succeeds; the controller reports the failure. */
		assert_int_equal(h_prop_set(q, NVME_REG_CC, 4, bad[i]), 0);
		assert_true(csts(q) & NVME_CSTS_CFS);
		assert_false(csts(q) & NVME_CSTS_RDY);
		assert_false(fdr_ctrl_ready(q->ctrl));
		assert_int_equal(identify_ctrl(q), SEQ_ERR);
		fdr_queue_close(q);
	}
}

/*
 * After a fatal status the host resets the controller (CC.EN=0) and
 * enables it again; a good enable must leave CSTS as RDY alone, without
 * the stale CFS (Linux nvmet sets CSTS to exactly RDY on enable).
 */
static void test_reset_clears_cfs(void **state)
{
	struct harness *h = *state;
	struct fdr_queue *q = new_ctrl(h, 0);

	assert_int_equal(h_prop_set(q, NVME_REG_CC, 4,
				    NVME_CC_EN | (7u << NVME_CC_IOSQES_SHIFT) |
					    (4u << NVME_CC_IOCQES_SHIFT)), 0);
	assert_true(csts(q) & NVME_CSTS_CFS);
	assert_int_equal(h_prop_set(q, NVME_REG_CC, 4, 0), 0);
	assert_false(csts(q) & NVME_CSTS_RDY);
	assert_int_equal(h_prop_set(q, NVME_REG_CC, 4, H_CC_ENABLE), 0);
	assert_true(csts(q) & NVME_CSTS_RDY);
	assert_int_equal(identify_ctrl(q), 0);
	assert_int_equal(csts(q), NVME_CSTS_RDY);
}

/* ---- CC.SHN --------------------------------------------------------------------- */

static void test_shutdown(void **state)
{
	struct harness *h = *state;
	struct h_spy *s1 = h_spy_attach(h->s->ns[1]), *s3 = h_spy_attach(h->s->ns[3]);

	for (unsigned shn = NVME_CC_SHN_NORMAL; shn <= NVME_CC_SHN_ABRUPT; shn++) {
		struct fdr_queue *q = new_ctrl(h, 0);
		unsigned before1 = s1->nr_flush_sync, before3 = s3->nr_flush_sync;

		assert_int_equal(h_prop_set(q, NVME_REG_CC, 4, H_CC_ENABLE), 0);
		assert_int_equal(CSTS_SHST(csts(q)), NVME_CSTS_SHST_NORMAL);
		assert_int_equal(h_prop_set(q, NVME_REG_CC, 4, H_CC_ENABLE | CC_SHN(shn)), 0);
		/* Complete, and every namespace's backend was flushed first. */
		assert_int_equal(CSTS_SHST(csts(q)), NVME_CSTS_SHST_COMPLETE);
		assert_false(csts(q) & NVME_CSTS_CFS);
		assert_int_equal(s1->nr_flush_sync, before1 + 1);
		assert_int_equal(s3->nr_flush_sync, before3 + 1);
		assert_int_equal(s1->flush_sync_rc, 0);
		assert_int_equal(s3->flush_sync_rc, 0);
		/* Writing SHN again does not shut down twice. */
		assert_int_equal(h_prop_set(q, NVME_REG_CC, 4, H_CC_ENABLE | CC_SHN(shn)), 0);
		assert_int_equal(s1->nr_flush_sync, before1 + 1);
		/* Clearing SHN (with EN=0, as after a shutdown) clears SHST and RDY. */
		assert_int_equal(h_prop_set(q, NVME_REG_CC, 4, 0), 0);
		assert_int_equal(CSTS_SHST(csts(q)), NVME_CSTS_SHST_NORMAL);
		assert_false(csts(q) & NVME_CSTS_RDY);
		/* The controller may be enabled again. */
		assert_int_equal(h_prop_set(q, NVME_REG_CC, 4, H_CC_ENABLE), 0);
		assert_int_equal(csts(q), NVME_CSTS_RDY);
		assert_int_equal(identify_ctrl(q), 0);
	}
}

/* ---- CC.EN 1 -> 0 ------------------------------------------------------------------- */

static void test_disable_resets(void **state)
{
	struct harness *h = *state;
	uint16_t aer[2], st = 0;
	uint32_t cdw0 = 0;

	/* Number of Queues first: it is fixed once I/O queues exist. */
	assert_int_equal(h_set_feat(h->aq, NVME_FEAT_NUM_QUEUES, 0, 0, 1 | 1u << 16, NULL, 0, NULL), 0);
	struct fdr_queue *io = h_io_queue(h, 1);
	for (int i = 0; i < 2; i++)
		aer[i] = h_submit(h->aq, &(struct nvme_sqe){ .opc = NVME_ADM_ASYNC_EVENT_REQUEST });
	assert_false(h_done(aer[0], NULL, NULL));
	assert_int_equal(h->ctrl->nr_aer, 2);
	assert_int_equal(h_set_feat(h->aq, NVME_FEAT_ARBITRATION, 0, 0, 0x03020107, NULL, 0, NULL), 0);
	assert_int_equal(h_set_feat(h->aq, NVME_FEAT_ASYNC_EVENT, 0, 0, 0x100, NULL, 0, NULL), 0);
	assert_int_equal(h_set_feat(h->aq, NVME_FEAT_TEMP_THRESH, 0, 0, 350, NULL, 0, NULL), 0);
	uint16_t cntlid = h->ctrl->cntlid;

	assert_int_equal(h_prop_set(h->aq, NVME_REG_CC, 4, H_CC_ENABLE & ~NVME_CC_EN), 0);
	assert_false(csts(h->aq) & NVME_CSTS_RDY);
	/* Outstanding AERs come back aborted. */
	for (int i = 0; i < 2; i++) {
		assert_true(h_done(aer[i], &st, NULL));
		assert_int_equal(NVME_STATUS_NO_DNR(st), ABORTED_SQ);
	}
	assert_int_equal(h->ctrl->nr_aer, 0);
	/* I/O queues are told to go (through the reactor). */
	h_poll(h);
	assert_int_equal(h_disconnects(io), 1);
	assert_true(io->closing);
	assert_null(h->ctrl->ioq[1]);
	/* The admin queue and the controller stay. */
	assert_int_equal(h_disconnects(h->aq), 0);
	assert_ptr_equal(h->aq->ctrl, h->ctrl);
	assert_int_equal(h->ctrl->cntlid, cntlid);
	assert_int_equal(h_get_feat(h->aq, NVME_FEAT_ARBITRATION, 0, 0, NULL, 0, NULL), SEQ_ERR);

	/* Enabled again: features are back to their defaults. */
	assert_int_equal(h_prop_set(h->aq, NVME_REG_CC, 4, H_CC_ENABLE), 0);
	assert_int_equal(h_get_feat(h->aq, NVME_FEAT_ARBITRATION, 0, 0, NULL, 0, &cdw0), 0);
	assert_int_equal(cdw0, 0);
	assert_int_equal(h_get_feat(h->aq, NVME_FEAT_NUM_QUEUES, 0, 0, NULL, 0, &cdw0), 0);
	assert_int_equal(cdw0, (h->s->max_io_queues - 1u) * 0x10001u);
	assert_int_equal(h_get_feat(h->aq, NVME_FEAT_ASYNC_EVENT, 0, 0, NULL, 0, &cdw0), 0);
	assert_int_equal(cdw0, 0);
	assert_int_equal(h_get_feat(h->aq, NVME_FEAT_TEMP_THRESH, 0, 0, NULL, 0, &cdw0), 0);
	assert_int_equal(cdw0, 343);
	/* A new I/O queue may take QID 1 again. */
	h_io_queue(h, 1);
}

/* ---- Teardown and keep-alive ---------------------------------------------------------- */

static struct fdr_queue *io_queue_of(struct harness *h, struct fdr_queue *aq, uint16_t qid)
{
	struct fdr_queue *q = h_queue(h);

	assert_int_equal(h_connect(h, q, H_SUBNQN, qid, aq->ctrl->cntlid, H_HOSTNQN), 0);
	return q;
}

static bool ctrl_listed(struct harness *h, uint16_t cntlid)
{
	for (unsigned i = 0; i < FDR_MAX_CTRLS; i++)
		if (h->s->ctrls[i] && h->s->ctrls[i]->cntlid == cntlid)
			return true;
	return false;
}

static void test_admin_close_tears_down(void **state)
{
	struct harness *h = *state;
	struct fdr_queue *aq = new_ctrl(h, 0);
	uint16_t st = 0, cid, cntlid = aq->ctrl->cntlid;

	assert_int_equal(h_prop_set(aq, NVME_REG_CC, 4, H_CC_ENABLE), 0);
	struct fdr_queue *io1 = io_queue_of(h, aq, 1), *io2 = io_queue_of(h, aq, 2);
	cid = h_submit(aq, &(struct nvme_sqe){ .opc = NVME_ADM_ASYNC_EVENT_REQUEST });
	assert_true(ctrl_listed(h, cntlid));

	fdr_queue_close(aq); /* the host's admin connection went away */
	assert_true(h_done(cid, &st, NULL));
	assert_int_equal(NVME_STATUS_NO_DNR(st), ABORTED_SQ);
	assert_false(ctrl_listed(h, cntlid));
	h_poll(h);
	assert_int_equal(h_disconnects(io1), 1);
	assert_int_equal(h_disconnects(io2), 1);
	assert_true(io1->closing && io2->closing);
	/* The harness' own controller is untouched. */
	assert_int_equal(h_disconnects(h->aq), 0);
	assert_int_equal(identify_ctrl(h->aq), 0);
}

/* Poll the reactor until q's transport is asked to disconnect or ms pass;
 * returns the time that took, in ms. */
static uint64_t wait_disconnect(struct harness *h, struct fdr_queue *q, uint64_t ms)
{
	uint64_t t0 = fdr_now_ns();

	while (!h_disconnects(q) && fdr_now_ns() - t0 < ms * 1000000ull)
		fdr_reactor_poll(h->r, 5);
	return (fdr_now_ns() - t0) / 1000000ull;
}

static void test_keep_alive_timeout(void **state)
{
	struct harness *h = *state;
	struct fdr_queue *aq = new_ctrl(h, 100);
	struct nvme_sqe ka = { .opc = NVME_ADM_KEEP_ALIVE };
	uint16_t cntlid = aq->ctrl->cntlid;
	uint32_t cdw0 = 0;

	assert_int_equal(h_prop_set(aq, NVME_REG_CC, 4, H_CC_ENABLE), 0);
	assert_int_equal(h_get_feat(aq, NVME_FEAT_KATO, 0, 0, NULL, 0, &cdw0), 0);
	assert_int_equal(cdw0, 100);
	assert_true(aq->ctrl->kato_timer.armed);
	struct fdr_queue *io = io_queue_of(h, aq, 1);

	/* Keep Alive every 40 ms for 400 ms: the controller lives. */
	uint64_t t0 = fdr_now_ns();
	while (fdr_now_ns() - t0 < 400 * 1000000ull) {
		assert_int_equal(h_cmd(aq, &ka, NULL, 0, NULL, 0, NULL), 0);
		wait_disconnect(h, aq, 40);
		assert_int_equal(h_disconnects(aq), 0);
	}
	assert_true(ctrl_listed(h, cntlid));

	/* Then silence: gone after about 100 ms, surely within a second. */
	assert_int_equal(h_cmd(aq, &ka, NULL, 0, NULL, 0, NULL), 0);
	uint64_t took = wait_disconnect(h, aq, 1000);
	assert_int_equal(h_disconnects(aq), 1);
	assert_in_range(took, 90, 999);
	assert_true(aq->closing);
	assert_null(aq->ctrl);
	assert_false(ctrl_listed(h, cntlid));
	/* Its I/O queue follows. */
	h_poll(h);
	assert_int_equal(h_disconnects(io), 1);
	/* Other controllers (KATO 0) do not expire. */
	assert_int_equal(h_disconnects(h->aq), 0);
	assert_false(h->ctrl->kato_timer.armed);
}

/* KATO set later through Set Features starts the timer too; 0 stops it. */
static void test_keep_alive_feature(void **state)
{
	struct harness *h = *state;
	struct fdr_queue *aq = new_ctrl(h, 0);

	assert_int_equal(h_prop_set(aq, NVME_REG_CC, 4, H_CC_ENABLE), 0);
	assert_false(aq->ctrl->kato_timer.armed);
	assert_int_equal(h_set_feat(aq, NVME_FEAT_KATO, 0, 0, 200, NULL, 0, NULL), 0);
	wait_disconnect(h, aq, 100);
	assert_int_equal(h_disconnects(aq), 0);
	assert_int_equal(h_set_feat(aq, NVME_FEAT_KATO, 0, 0, 0, NULL, 0, NULL), 0);
	wait_disconnect(h, aq, 300);
	assert_int_equal(h_disconnects(aq), 0);
	assert_int_equal(h_set_feat(aq, NVME_FEAT_KATO, 0, 0, 100, NULL, 0, NULL), 0);
	uint64_t took = wait_disconnect(h, aq, 1000);
	assert_int_equal(h_disconnects(aq), 1);
	assert_in_range(took, 90, 999);
}

/* ---- Controller IDs -------------------------------------------------------------------- */

static void test_cntlid_unique(void **state)
{
	struct harness *h = *state;
	struct fdr_queue *q[FDR_MAX_CTRLS];
	uint16_t ids[FDR_MAX_CTRLS];
	unsigned n = 0;

	ids[n++] = h->ctrl->cntlid;
	/* Fill the subsystem: every live controller has its own ID. */
	while (n < FDR_MAX_CTRLS) {
		q[n] = new_ctrl(h, 0);
		ids[n] = q[n]->ctrl->cntlid;
		assert_in_range(ids[n], 1, 0xffef);
		for (unsigned j = 0; j < n; j++)
			assert_int_not_equal(ids[j], ids[n]);
		n++;
	}
	/* One more is refused: controller busy. */
	struct fdr_queue *extra = h_queue(h);
	struct nvme_fabrics_connect_cmd c;
	struct nvme_fabrics_connect_data d;
	h_connect_fill(&c, &d, H_SUBNQN, 0, 0xffff, H_HOSTNQN);
	uint16_t st = h_connect_raw(extra, &c, &d, NULL);
	assert_int_equal(NVME_STATUS_NO_DNR(st), SC(COMMAND_SPECIFIC, CONNECT_CONTROLLER_BUSY));
	assert_null(extra->ctrl);
	/* A freed slot takes a new controller, under an ID not seen before. */
	fdr_queue_close(q[5]);
	assert_int_equal(h_connect_raw(extra, &c, &d, NULL), 0);
	for (unsigned j = 0; j < n; j++)
		assert_int_not_equal(ids[j], extra->ctrl->cntlid);
}

static void test_cntlid_reuse_after_wrap(void **state)
{
	struct harness *h = *state;
	struct fdr_queue *a = new_ctrl(h, 0), *b = new_ctrl(h, 0), *c3 = new_ctrl(h, 0);
	uint16_t ia = a->ctrl->cntlid, ib = b->ctrl->cntlid, ic = c3->ctrl->cntlid;

	assert_int_equal(h->ctrl->cntlid, 1);
	assert_int_equal(ia, 2);
	assert_int_equal(ib, 3);
	assert_int_equal(ic, 4);
	/* b goes away: its ID is not handed out again soon. */
	fdr_queue_close(b);
	struct fdr_queue *d = new_ctrl(h, 0);
	assert_int_equal(d->ctrl->cntlid, 5);
	/* Near the top of the range (FFEFh is the last dynamic ID)... */
	h->s->next_cntlid = 0xffee;
	struct fdr_queue *e = new_ctrl(h, 0), *f = new_ctrl(h, 0);
	assert_int_equal(e->ctrl->cntlid, 0xffee);
	assert_int_equal(f->ctrl->cntlid, 0xffef);
	/* ... then it wraps to 1, skipping IDs in use (1, 2): 3 is reused. */
	struct fdr_queue *g = new_ctrl(h, 0);
	assert_int_equal(g->ctrl->cntlid, 3);
	struct fdr_queue *k = new_ctrl(h, 0);
	assert_int_equal(k->ctrl->cntlid, 6);
	/* I/O queues find their controller by the reused ID. */
	assert_int_equal(h_prop_set(g, NVME_REG_CC, 4, H_CC_ENABLE), 0);
	struct fdr_queue *io = io_queue_of(h, g, 1);
	assert_ptr_equal(io->ctrl, g->ctrl);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, h_setup, h_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_enable),
		T(test_enable_invalid_cc),
		T(test_shutdown),
		T(test_disable_resets),
		T(test_admin_close_tears_down),
		T(test_keep_alive_timeout),
		T(test_keep_alive_feature),
		T(test_cntlid_unique),
		T(test_cntlid_reuse_after_wrap),
		T(test_reset_clears_cfs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

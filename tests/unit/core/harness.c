/* SPDX-License-Identifier: BSD-2-Clause */
/* The fake transport and drive set-up behind the core unit tests. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "harness.h"

#define NR_CPL 4096 /* CIDs are handed out round robin below this */

struct cpl_slot {
	bool done;
	struct nvme_cqe cqe;
};

static struct cpl_slot g_cpl[NR_CPL];
static uint16_t g_next_cid = 1;
/* The one synchronous command in flight: its data buffers. */
static const uint8_t *g_in;
static uint32_t g_in_len;
static bool g_in_capsule; /* host data placed before submit, as NVMe/TCP does */
static uint8_t *g_out;
static uint32_t g_out_len;

static const uint8_t g_hostid[16] = { 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
				      0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xf0, 0x01 };

static uint16_t fake_prep(struct fdr_req *req)
{
	(void)req;
	return 0;
}

static void fake_data_in(struct fdr_req *req)
{
	uint32_t n = g_in_len < req->data_len ? g_in_len : req->data_len;

	if (g_in_capsule) {
		/* Already in the buffer since before decode. */
		fdr_req_data_in_done(req, 0);
		return;
	}
	memset(req->buf, 0, req->data_len);
	if (g_in && n)
		memcpy(req->buf, g_in, n);
	fdr_req_data_in_done(req, 0);
}

static void fake_complete(struct fdr_req *req)
{
	struct cpl_slot *c = &g_cpl[req->cpl.cid % NR_CPL];

	c->done = true;
	c->cqe = req->cpl;
	if (req->xfer == NVME_OPC_XFER_FROM_CTRL && !(req->cpl.status >> 1) && g_out) {
		uint32_t n = g_out_len < req->data_len ? g_out_len : req->data_len;
		memcpy(g_out, req->buf, n);
	}
	fdr_req_release(req);
}

static void fake_disconnect(struct fdr_queue *q, const char *reason)
{
	(void)reason;
	if (q->tctx)
		(*(unsigned *)q->tctx)++;
	fdr_queue_close(q);
}

static void fake_drained(struct fdr_queue *q)
{
	(void)q; /* h_teardown frees every queue */
}

static const struct fdr_transport_ops fake_ops = {
	.name = "fake",
	.prep_data = fake_prep,
	.data_in = fake_data_in,
	.complete = fake_complete,
	.disconnect = fake_disconnect,
	.queue_drained = fake_drained,
};

static uint16_t g_last_cid;

uint16_t h_last_cid(void)
{
	return g_last_cid;
}

static uint16_t next_cid(void)
{
	uint16_t cid = g_next_cid;

	g_last_cid = cid;
	g_next_cid = (uint16_t)(g_next_cid % (NR_CPL - 1) + 1);
	g_cpl[cid].done = false;
	return cid;
}

uint16_t h_submit(struct fdr_queue *q, const struct nvme_sqe *sqe)
{
	struct fdr_req *req = fdr_req_get(q);

	assert_non_null(req);
	req->cmd = *sqe;
	req->cmd.cid = next_cid();
	if (g_in_capsule && g_in && g_in_len) {
		assert_non_null(fdr_req_buf_reserve(req, g_in_len));
		memcpy(req->buf, g_in, g_in_len);
	}
	fdr_req_submit(req);
	return req->cmd.cid;
}

const struct nvme_cqe *h_cqe(uint16_t cid)
{
	return &g_cpl[cid % NR_CPL].cqe;
}

bool h_done(uint16_t cid, uint16_t *status, uint32_t *cdw0)
{
	struct cpl_slot *c = &g_cpl[cid % NR_CPL];

	if (!c->done)
		return false;
	if (status)
		*status = c->cqe.status >> 1;
	if (cdw0)
		*cdw0 = c->cqe.cdw0;
	return true;
}

uint16_t h_cmd(struct fdr_queue *q, const struct nvme_sqe *sqe, const void *in, uint32_t in_len,
	       void *out, uint32_t out_len, uint32_t *cdw0)
{
	uint16_t cid, status = 0xffff;

	g_in = in;
	g_in_len = in_len;
	g_out = out;
	g_out_len = out_len;
	if (out)
		memset(out, 0xa5, out_len); /* so that "zeroed" is really written */
	cid = h_submit(q, sqe);
	assert_true(h_done(cid, &status, cdw0));
	assert_int_equal(g_cpl[cid].cqe.cid, cid);
	g_in = NULL;
	g_out = NULL;
	return status;
}

void h_set_in_capsule(bool on)
{
	g_in_capsule = on;
}

void h_poll(struct harness *h)
{
	for (int i = 0; i < 4; i++)
		fdr_reactor_poll(h->r, 0);
}

struct fdr_queue *h_queue_on(struct harness *h, struct fdr_port *port, uint16_t nr_reqs)
{
	struct fdr_queue *q;

	assert_true(h->nr_extra < H_MAX_QUEUES);
	h->disc[h->nr_extra] = 0;
	q = fdr_queue_create(h->t, port, &fake_ops, &h->disc[h->nr_extra], h->r, nr_reqs, "test");
	assert_non_null(q);
	h->extra[h->nr_extra++] = q;
	return q;
}

struct fdr_queue *h_queue(struct harness *h)
{
	return h_queue_on(h, h->port, 64);
}

unsigned h_disconnects(const struct fdr_queue *q)
{
	return q->tctx ? *(const unsigned *)q->tctx : 0;
}

void h_connect_fill(struct nvme_fabrics_connect_cmd *c, struct nvme_fabrics_connect_data *d,
		    const char *subnqn, uint16_t qid, uint16_t cntlid, const char *hostnqn)
{
	memset(c, 0, sizeof(*c));
	memset(d, 0, sizeof(*d));
	c->opc = NVME_ADM_FABRICS;
	c->fctype = NVME_FCTYPE_CONNECT;
	c->qid = qid;
	c->sqsize = qid ? 31 : FDR_ADMIN_QDEPTH - 1;
	c->kato = 0;
	d->cntlid = cntlid;
	memcpy(d->hostid, g_hostid, sizeof(d->hostid));
	snprintf(d->subnqn, sizeof(d->subnqn), "%s", subnqn);
	snprintf(d->hostnqn, sizeof(d->hostnqn), "%s", hostnqn);
}

uint16_t h_connect_raw(struct fdr_queue *q, const struct nvme_fabrics_connect_cmd *c,
		       const struct nvme_fabrics_connect_data *d, uint32_t *cdw0)
{
	return h_cmd(q, (const struct nvme_sqe *)c, d, sizeof(*d), NULL, 0, cdw0);
}

uint16_t h_prop_get(struct fdr_queue *q, uint32_t ofst, unsigned size, uint64_t *val)
{
	struct nvme_fabrics_prop_cmd p = { .opc = NVME_ADM_FABRICS,
					   .fctype = NVME_FCTYPE_PROPERTY_GET,
					   .attrib = size == 8 ? 1 : 0,
					   .ofst = ofst };
	uint16_t cid, status;

	status = h_cmd(q, (const struct nvme_sqe *)&p, NULL, 0, NULL, 0, NULL);
	cid = h_last_cid();
	if (val)
		*val = (uint64_t)g_cpl[cid].cqe.cdw1 << 32 | g_cpl[cid].cqe.cdw0;
	return status;
}

uint16_t h_prop_set(struct fdr_queue *q, uint32_t ofst, unsigned size, uint64_t val)
{
	struct nvme_fabrics_prop_cmd p = { .opc = NVME_ADM_FABRICS,
					   .fctype = NVME_FCTYPE_PROPERTY_SET,
					   .attrib = size == 8 ? 1 : 0,
					   .ofst = ofst,
					   .value = val };

	return h_cmd(q, (const struct nvme_sqe *)&p, NULL, 0, NULL, 0, NULL);
}

uint16_t h_connect(struct harness *h, struct fdr_queue *q, const char *subnqn, uint16_t qid,
		   uint16_t cntlid, const char *hostnqn)
{
	struct nvme_fabrics_connect_cmd c;
	struct nvme_fabrics_connect_data d;
	uint16_t status;

	(void)h;
	h_connect_fill(&c, &d, subnqn, qid, cntlid, hostnqn);
	status = h_connect_raw(q, &c, &d, NULL);
	if (status || qid)
		return status;
	return h_prop_set(q, NVME_REG_CC, 4, H_CC_ENABLE);
}

struct fdr_queue *h_io_queue(struct harness *h, uint16_t qid)
{
	struct fdr_queue *q = h_queue(h);

	assert_int_equal(h_connect(h, q, H_SUBNQN, qid, h->ctrl->cntlid, H_HOSTNQN), 0);
	assert_int_equal(q->qid, qid);
	assert_ptr_equal(q->ctrl, h->ctrl);
	return q;
}

struct fdr_ns *h_add_ns(struct harness *h, uint32_t nsid, uint32_t lba_size, uint64_t bytes)
{
	char err[128];
	struct fdr_bdev *b = fdr_bdev_ram_create(bytes, err, sizeof(err));
	struct fdr_ns *ns;

	assert_non_null(b);
	ns = fdr_ns_create(nsid, b, lba_size, H_SUBNQN, err, sizeof(err));
	assert_non_null(ns);
	assert_int_equal(fdr_subsys_add_ns(h->s, ns, err, sizeof(err)), 0);
	return ns;
}

/* ---- Backend spy --------------------------------------------------------- */

static struct h_spy *g_spies[16];
static unsigned g_nr_spies;

static struct h_spy *spy_of(struct fdr_bdev *bdev)
{
	for (unsigned i = 0; i < g_nr_spies; i++)
		if (g_spies[i]->bdev == bdev)
			return g_spies[i];
	fail_msg("no spy for this backend");
	return NULL;
}

static int spy_submit(struct fdr_bdev *bdev, struct fdr_bdev_io *io)
{
	struct h_spy *spy = spy_of(bdev);

	if ((unsigned)io->op < 5)
		spy->nr_op[io->op]++;
	if (io->op == FDR_BDEV_WRITE) {
		spy->last_fua = io->fua;
		spy->nr_fua += io->fua;
	}
	if (spy->defer && !io->sync) {
		assert_true(spy->nr_held < sizeof(spy->held) / sizeof(spy->held[0]));
		spy->held[spy->nr_held++] = io;
		return 0;
	}
	return spy->orig->submit(bdev, io);
}

static int spy_flush_sync(struct fdr_bdev *bdev)
{
	struct h_spy *spy = spy_of(bdev);

	spy->nr_flush_sync++;
	spy->flush_sync_rc = spy->orig->flush_sync ? spy->orig->flush_sync(bdev) : 0;
	return spy->flush_sync_rc;
}

struct h_spy *h_spy_attach(struct fdr_ns *ns)
{
	struct h_spy *spy = calloc(1, sizeof(*spy));

	assert_non_null(spy);
	assert_true(g_nr_spies < sizeof(g_spies) / sizeof(g_spies[0]));
	spy->bdev = ns->bdev;
	spy->orig = ns->bdev->ops;
	spy->ops = *spy->orig;
	spy->ops.submit = spy_submit;
	spy->ops.flush_sync = spy_flush_sync;
	spy->flush_sync_rc = -1;
	ns->bdev->ops = &spy->ops;
	g_spies[g_nr_spies++] = spy;
	return spy;
}

unsigned h_spy_run(struct h_spy *spy)
{
	struct fdr_bdev_io *held[64];
	unsigned n = spy->nr_held;

	memcpy(held, spy->held, n * sizeof(held[0]));
	spy->nr_held = 0;
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(spy->orig->submit(spy->bdev, held[i]), 0);
	return n;
}

int h_setup(void **state)
{
	struct harness *h = calloc(1, sizeof(*h));
	char err[128];

	assert_non_null(h);
	fdr_log_set_level(FDR_LOG_ERR);
	h->r = fdr_reactor_create(0);
	h->t = fdr_target_create();
	assert_non_null(h->r);
	assert_non_null(h->t);
	h->s = fdr_subsys_create(h->t, FDR_SUBSYS_NVME, H_SUBNQN);
	assert_non_null(h->s);
	for (uint32_t nsid = 1; nsid <= 3; nsid += 2) {
		struct fdr_bdev *b = fdr_bdev_ram_create(H_NS_BYTES, err, sizeof(err));
		struct fdr_ns *ns;

		assert_non_null(b);
		ns = fdr_ns_create(nsid, b, 512, H_SUBNQN, err, sizeof(err));
		assert_non_null(ns);
		assert_int_equal(fdr_subsys_add_ns(h->s, ns, err, sizeof(err)), 0);
	}
	h->port = fdr_target_add_port(h->t, NVMF_TRTYPE_TCP, "127.0.0.1", "4420");
	assert_non_null(h->port);

	h->aq = h_queue(h);
	assert_int_equal(h_connect(h, h->aq, H_SUBNQN, 0, 0xffff, H_HOSTNQN), 0);
	h->ctrl = h->aq->ctrl;
	assert_non_null(h->ctrl);
	assert_true(fdr_ctrl_ready(h->ctrl));
	*state = h;
	return 0;
}

int h_teardown(void **state)
{
	struct harness *h = *state;

	/* I/O queues first, then admin queues, as a host would go. */
	for (int pass = 0; pass < 2; pass++)
		for (unsigned i = 0; i < h->nr_extra; i++) {
			struct fdr_queue *q = h->extra[i];
			if ((q->qid == 0) == (pass == 1) && !q->closing)
				fdr_queue_close(q);
		}
	h_poll(h);
	for (unsigned i = 0; i < h->nr_extra; i++)
		fdr_queue_free(h->extra[i]);
	fdr_target_destroy(h->t);
	fdr_reactor_destroy(h->r);
	/* Backends are gone: their spies (whose ops they used) may go too. */
	for (unsigned i = 0; i < g_nr_spies; i++)
		free(g_spies[i]);
	g_nr_spies = 0;
	free(h);
	return 0;
}

/* ---- Shorthands -------------------------------------------------------- */

uint16_t h_identify(struct fdr_queue *q, uint8_t cns, uint32_t nsid, uint32_t cdw11, void *out)
{
	struct nvme_sqe c = { .opc = NVME_ADM_IDENTIFY, .nsid = nsid, .cdw10 = cns, .cdw11 = cdw11 };

	return h_cmd(q, &c, NULL, 0, out, out ? 4096 : 0, NULL);
}

uint16_t h_get_log(struct fdr_queue *q, uint8_t lid, uint32_t nsid, bool rae, uint64_t off,
		   void *out, uint32_t len)
{
	uint32_t numd = len / 4 - 1;
	struct nvme_sqe c = { .opc = NVME_ADM_GET_LOG_PAGE,
			      .nsid = nsid,
			      .cdw10 = lid | (rae ? 1u << 15 : 0) | (numd & 0xffff) << 16,
			      .cdw11 = numd >> 16,
			      .cdw12 = (uint32_t)off,
			      .cdw13 = (uint32_t)(off >> 32) };

	return h_cmd(q, &c, NULL, 0, out, len, NULL);
}

uint16_t h_get_feat(struct fdr_queue *q, uint8_t fid, uint8_t sel, uint32_t cdw11, void *out,
		    uint32_t len, uint32_t *cdw0)
{
	struct nvme_sqe c = { .opc = NVME_ADM_GET_FEATURES,
			      .cdw10 = fid | (uint32_t)sel << 8,
			      .cdw11 = cdw11 };

	return h_cmd(q, &c, NULL, 0, out, len, cdw0);
}

uint16_t h_set_feat(struct fdr_queue *q, uint8_t fid, uint32_t nsid, uint32_t cdw10_hi,
		    uint32_t cdw11, const void *in, uint32_t len, uint32_t *cdw0)
{
	struct nvme_sqe c = { .opc = NVME_ADM_SET_FEATURES,
			      .nsid = nsid,
			      .cdw10 = fid | cdw10_hi,
			      .cdw11 = cdw11 };

	return h_cmd(q, &c, in, len, NULL, 0, cdw0);
}

/* ---- Fake PCIe function ------------------------------------------------- */

static uint16_t pci_create_cq(struct fdr_ctrl *ctrl, const struct fdr_cq_params *prm)
{
	struct h_pci *p = fdr_ctrl_tctx(ctrl);
	uint16_t st = p->fail_create_cq;

	p->nr_create_cq++;
	p->fail_create_cq = 0;
	if (st)
		return st;
	assert_false(p->cq_live[prm->qid]);
	p->cq_live[prm->qid] = true;
	p->cq[prm->qid] = *prm;
	return 0;
}

static uint16_t pci_create_sq(struct fdr_ctrl *ctrl, const struct fdr_sq_params *prm,
			      struct fdr_queue **q)
{
	struct h_pci *p = fdr_ctrl_tctx(ctrl);
	uint16_t st = p->fail_create_sq;

	p->nr_create_sq++;
	p->fail_create_sq = 0;
	if (st)
		return st;
	/* Its CQ exists (the core checked). */
	assert_true(p->cq_live[prm->cqid]);
	p->sq[prm->qid] = *prm;
	*q = h_queue_on(p->h, NULL, prm->size < 64 ? prm->size : 64);
	p->sq_q[prm->qid] = *q;
	return 0;
}

static void pci_delete_cq(struct fdr_ctrl *ctrl, uint16_t qid)
{
	struct h_pci *p = fdr_ctrl_tctx(ctrl);

	p->nr_delete_cq++;
	assert_true(p->cq_live[qid]);
	/* No SQ of ours still uses it. */
	for (unsigned i = 0; i <= FDR_MAX_IO_QUEUES; i++)
		if (p->sq_q[i] && !p->sq_q[i]->drained)
			assert_int_not_equal(p->sq[i].cqid, qid);
	p->cq_live[qid] = false;
}

static uint16_t pci_enable(struct fdr_ctrl *ctrl)
{
	struct h_pci *p = fdr_ctrl_tctx(ctrl);
	uint16_t st = p->fail_enable;

	p->nr_enable++;
	p->fail_enable = 0;
	return st;
}

static void pci_disable(struct fdr_ctrl *ctrl)
{
	((struct h_pci *)fdr_ctrl_tctx(ctrl))->nr_disable++;
}

static void pci_shutdown(struct fdr_ctrl *ctrl)
{
	((struct h_pci *)fdr_ctrl_tctx(ctrl))->nr_shutdown++;
}

static void pci_intm(struct fdr_ctrl *ctrl, uint32_t mask)
{
	struct h_pci *p = fdr_ctrl_tctx(ctrl);

	p->nr_intm++;
	p->last_intms = mask;
}

static void pci_irq_cfg(struct fdr_ctrl *ctrl, uint16_t iv)
{
	struct h_pci *p = fdr_ctrl_tctx(ctrl);

	p->nr_irq_cfg++;
	p->last_irq_iv = iv;
}

static const struct fdr_ctrl_ops fake_pci_ops = {
	.name = "fake-pci",
	.create_cq = pci_create_cq,
	.create_sq = pci_create_sq,
	.delete_cq = pci_delete_cq,
	.enable = pci_enable,
	.disable = pci_disable,
	.shutdown = pci_shutdown,
	.intm_changed = pci_intm,
	.irq_config_changed = pci_irq_cfg,
};

struct h_pci *h_pci_create(struct harness *h, uint16_t nr_vectors, uint32_t sgls)
{
	struct h_pci *p = calloc(1, sizeof(*p));
	struct fdr_ctrl_pci_params prm = {
		.nr_vectors = nr_vectors, .vid = 0x1b36, .ssvid = 0x1af4, .sgls = sgls,
	};

	assert_non_null(p);
	p->h = h;
	p->ctrl = fdr_ctrl_create_pci(h->s, h->r, &fake_pci_ops, p, &prm);
	assert_non_null(p->ctrl);
	return p;
}

void h_pci_destroy(struct h_pci *p)
{
	fdr_ctrl_teardown(p->ctrl, "function gone");
	h_poll(p->h);
	fdr_ctrl_put(p->ctrl);
	free(p);
}

uint64_t h_pci_rd(struct h_pci *p, uint32_t ofst, unsigned size)
{
	uint64_t v = 0;

	assert_int_equal(fdr_ctrl_reg_read(p->ctrl, ofst, size, &v), 0);
	return v;
}

void h_pci_wr(struct h_pci *p, uint32_t ofst, unsigned size, uint64_t val)
{
	assert_int_equal(fdr_ctrl_reg_write(p->ctrl, ofst, size, val), 0);
}

void h_pci_enable(struct h_pci *p, uint16_t sq_entries, uint16_t cq_entries)
{
	h_pci_wr(p, NVME_REG_AQA, 4, (uint32_t)(cq_entries - 1) << 16 | (uint32_t)(sq_entries - 1));
	h_pci_wr(p, NVME_REG_ASQ, 8, 0x10000);
	h_pci_wr(p, NVME_REG_ACQ, 8, 0x20000);
	h_pci_wr(p, NVME_REG_CC, 4, H_CC_ENABLE);
	assert_int_equal(h_pci_rd(p, NVME_REG_CSTS, 4) & (NVME_CSTS_RDY | NVME_CSTS_CFS),
			 NVME_CSTS_RDY);
}

struct fdr_queue *h_pci_aq(struct h_pci *p)
{
	assert_non_null(p->ctrl->admin_q);
	return p->ctrl->admin_q;
}

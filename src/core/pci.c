/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * PCIe (local) controllers: the BAR0 register map (INTMS/INTMC, CC, CSTS,
 * NSSR, AQA/ASQ/ACQ), the enable / reset / shutdown / NVM subsystem reset
 * sequences, and the queue commands Create/Delete I/O SQ/CQ.  The core
 * keeps the queue table and validates; the transport (struct
 * fdr_ctrl_ops) sets up and takes down the rings in host memory.  See
 * transport.h for the contract.
 *
 * Everything here runs on the controller's (admin) reactor, except the
 * queue-side halves of closing an SQ, which run on the SQ's reactor.
 */
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "common/log.h"
#include "pci.h"
#include "transport.h"

#define NSSR_MAGIC 0x4E564D65u /* "NVMe" */
#define AQA_MASK 0x0fff0fffu
#define CC_CSS(cc) (((cc) >> NVME_CC_CSS_SHIFT) & 0x7)
#define CC_MPS(cc) (((cc) >> NVME_CC_MPS_SHIFT) & 0xf)
#define CC_AMS(cc) (((cc) >> NVME_CC_AMS_SHIFT) & 0x7)
#define CC_IOSQES(cc) (((cc) >> NVME_CC_IOSQES_SHIFT) & 0xf)
#define CC_IOCQES(cc) (((cc) >> NVME_CC_IOCQES_SHIFT) & 0xf)
#define CAP_MPSMIN(cap) (((cap) >> NVME_CAP_MPSMIN_SHIFT) & 0xf)
#define CAP_MPSMAX(cap) (((cap) >> NVME_CAP_MPSMAX_SHIFT) & 0xf)

#define ABORTED_SQ_DELETION NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_ABORTED_SQ_DELETION)
#define INVALID_QID (ADM_CS(NVME_SC_INVALID_QUEUE_IDENTIFIER) | NVME_STATUS_DNR)
#define INVALID_QSIZE (ADM_CS(NVME_SC_INVALID_QUEUE_SIZE) | NVME_STATUS_DNR)
#define CQ_INVALID (ADM_CS(NVME_SC_COMPLETION_QUEUE_INVALID) | NVME_STATUS_DNR)
#define INVALID_IV (ADM_CS(NVME_SC_INVALID_INTERRUPT_VECTOR) | NVME_STATUS_DNR)
#define INVALID_DELETION (ADM_CS(NVME_SC_INVALID_QUEUE_DELETION) | NVME_STATUS_DNR)
#define INVALID_PRP_OFFSET (ADM_SC(NVME_SC_INVALID_PRP_OFFSET) | NVME_STATUS_DNR)

static void pci_enable(struct fdr_ctrl *ctrl);

static uint32_t csts_load(const struct fdr_ctrl *ctrl)
{
	return __atomic_load_n(&ctrl->csts, __ATOMIC_ACQUIRE);
}

static void csts_clear(struct fdr_ctrl *ctrl, uint32_t bits)
{
	__atomic_and_fetch(&ctrl->csts, ~bits, __ATOMIC_ACQ_REL);
}

static void csts_set(struct fdr_ctrl *ctrl, uint32_t bits)
{
	__atomic_or_fetch(&ctrl->csts, bits, __ATOMIC_ACQ_REL);
}

static uint32_t page_size(const struct fdr_ctrl *ctrl)
{
	return 4096u << CC_MPS(ctrl->cc);
}

bool fdr_pci_has_io_queues(const struct fdr_ctrl *ctrl)
{
	for (unsigned qid = 1; qid <= FDR_MAX_IO_QUEUES; qid++)
		if (ctrl->pci->cq[qid].live || ctrl->pci->sq[qid].state != FDR_PCI_SQ_FREE)
			return true;
	return false;
}

/* ---- SQs: bind, close, drained ----------------------------------------- */

static void sq_gone(struct fdr_ctrl *ctrl, uint16_t qid);

struct sq_gone_msg {
	struct fdr_ctrl *ctrl;
	uint16_t qid;
};

static void sq_gone_msg(void *arg)
{
	struct sq_gone_msg *m = arg;

	sq_gone(m->ctrl, m->qid);
	fdr_ctrl_put(m->ctrl);
	free(m);
}

/* q->core_drained, on the SQ's reactor: nothing of q is in flight any more.
 * The table entry is freed on the controller's reactor. */
static void sq_drained(struct fdr_queue *q)
{
	struct fdr_ctrl *ctrl = q->ctrl;
	struct sq_gone_msg *m;

	if (q->reactor == ctrl->reactor) {
		sq_gone(ctrl, q->qid);
		return;
	}
	m = malloc(sizeof(*m));
	if (!m) {
		fdr_err("ctrl %u: SQ %u drained, but no memory to say so", ctrl->cntlid, q->qid);
		return;
	}
	m->ctrl = ctrl;
	m->qid = q->qid;
	fdr_ctrl_get(ctrl);
	if (fdr_reactor_post(ctrl->reactor, sq_gone_msg, m) < 0) {
		fdr_ctrl_put(ctrl);
		free(m);
	}
}

static void bind_sq(struct fdr_ctrl *ctrl, struct fdr_queue *q, const struct fdr_sq_params *p)
{
	struct fdr_subsys *s = ctrl->subsys;
	struct fdr_pci_sq *sq = &ctrl->pci->sq[p->qid];

	q->ctrl = ctrl;
	q->qid = p->qid;
	q->depth = p->size;
	q->sqhd = 0;
	q->sq_flow_disabled = false;
	q->abort_status = 0;
	q->core_drained = sq_drained;
	fdr_ctrl_get(ctrl); /* the queue's, dropped once it drained */
	pthread_mutex_lock(&s->lock);
	if (p->qid == 0)
		ctrl->admin_q = q;
	else
		ctrl->ioq[p->qid] = q;
	fdr_subsys_link_queue(s, q);
	pthread_mutex_unlock(&s->lock);

	sq->state = FDR_PCI_SQ_LIVE;
	sq->qprio = p->qprio;
	sq->cqid = p->cqid;
	sq->size = p->size;
	sq->base = p->base;
	sq->q = q;
	sq->del_req = NULL;
	ctrl->pci->cq[p->cqid].nr_sq++;
}

struct sq_close_msg {
	struct fdr_ctrl *ctrl;
	struct fdr_queue *q;
	uint16_t qid;
	const char *reason;
};

/* On the SQ's reactor.  The queue is still there as long as the
 * controller still names it (the close that unlinks it runs here). */
static void sq_close_here(struct fdr_ctrl *ctrl, struct fdr_queue *q, uint16_t qid,
			  const char *reason)
{
	struct fdr_subsys *s = ctrl->subsys;
	bool still_ours;

	pthread_mutex_lock(&s->lock);
	still_ours = (qid ? ctrl->ioq[qid] : ctrl->admin_q) == q;
	pthread_mutex_unlock(&s->lock);
	if (!still_ours || q->closing)
		return;
	q->abort_status = ABORTED_SQ_DELETION;
	q->ops->disconnect(q, reason); /* ends in fdr_queue_close(q) */
}

static void sq_close_msg(void *arg)
{
	struct sq_close_msg *m = arg;

	sq_close_here(m->ctrl, m->q, m->qid, m->reason);
	fdr_ctrl_put(m->ctrl);
	free(m);
}

/* Start deleting a live SQ; sq_gone() follows once it drained. */
static void sq_close(struct fdr_ctrl *ctrl, uint16_t qid, const char *reason)
{
	struct fdr_pci_sq *sq = &ctrl->pci->sq[qid];
	struct fdr_queue *q = sq->q;
	struct sq_close_msg *m;

	if (sq->state != FDR_PCI_SQ_LIVE)
		return;
	sq->state = FDR_PCI_SQ_DELETING;
	if (q->reactor == ctrl->reactor) {
		sq_close_here(ctrl, q, qid, reason);
		return;
	}
	m = calloc(1, sizeof(*m));
	if (!m) {
		fdr_err("ctrl %u: no memory to delete SQ %u", ctrl->cntlid, qid);
		return;
	}
	m->ctrl = ctrl;
	m->q = q;
	m->qid = qid;
	m->reason = reason;
	fdr_ctrl_get(ctrl);
	if (fdr_reactor_post(q->reactor, sq_close_msg, m) < 0) {
		fdr_ctrl_put(ctrl);
		free(m);
	}
}

static void reset_finish(struct fdr_ctrl *ctrl);

/* Controller reactor: SQ qid drained; free its entry, answer a Delete I/O
 * SQ waiting for it, and move a reset on. */
static void sq_gone(struct fdr_ctrl *ctrl, uint16_t qid)
{
	struct fdr_ctrl_pci *pci = ctrl->pci;
	struct fdr_pci_sq *sq = &pci->sq[qid];
	struct fdr_req *req = sq->del_req;

	if (sq->state == FDR_PCI_SQ_FREE)
		return;
	if (pci->cq[sq->cqid].nr_sq)
		pci->cq[sq->cqid].nr_sq--;
	memset(sq, 0, sizeof(*sq));
	if (qid)
		fdr_info("ctrl %u: I/O SQ %u deleted", ctrl->cntlid, qid);
	if (req)
		fdr_req_complete(req, NVME_SC_SUCCESS);
	if (pci->resetting && pci->draining && --pci->draining == 0)
		reset_finish(ctrl);
}

/* ---- Enable, reset, shutdown ---------------------------------------------- */

static const char *enable_problem(const struct fdr_ctrl *ctrl)
{
	const struct fdr_ctrl_pci *pci = ctrl->pci;
	uint32_t cc = ctrl->cc;

	if (CC_CSS(cc) != 0)
		return "CC.CSS is not the NVM command set";
	if (CC_MPS(cc) < CAP_MPSMIN(ctrl->cap) || CC_MPS(cc) > CAP_MPSMAX(ctrl->cap))
		return "CC.MPS not supported";
	if (CC_AMS(cc) != 0)
		return "CC.AMS is not round robin";
	if (CC_IOSQES(cc) != 6 || CC_IOCQES(cc) != 4)
		return "CC.IOSQES/IOCQES are not 6/4";
	if ((pci->aqa & 0xfff) == 0 || ((pci->aqa >> 16) & 0xfff) == 0)
		return "AQA: admin queue of one entry";
	if ((pci->asq | pci->acq) & (page_size(ctrl) - 1))
		return "ASQ/ACQ not page aligned";
	return NULL;
}

static uint16_t admin_queues_up(struct fdr_ctrl *ctrl)
{
	struct fdr_ctrl_pci *pci = ctrl->pci;
	struct fdr_cq_params cp = {
		.qid = 0,
		.size = (uint16_t)(((pci->aqa >> 16) & 0xfff) + 1),
		.iv = 0,
		.ien = true,
		.base = pci->acq,
	};
	struct fdr_sq_params sp = {
		.qid = 0,
		.size = (uint16_t)((pci->aqa & 0xfff) + 1),
		.cqid = 0,
		.base = pci->asq,
	};
	struct fdr_queue *q = NULL;
	uint16_t status;

	status = pci->ops->create_cq(ctrl, &cp);
	if (status)
		return status;
	pci->cq[0] = (struct fdr_pci_cq){
		.live = true, .ien = true, .size = cp.size, .iv = 0, .base = cp.base,
	};
	status = pci->ops->create_sq(ctrl, &sp, &q);
	if (!status && !q)
		status = ADM_INTERNAL;
	if (status)
		return status; /* the host's reset (CC.EN=0) deletes the CQ */
	bind_sq(ctrl, q, &sp);
	return pci->ops->enable ? pci->ops->enable(ctrl) : NVME_SC_SUCCESS;
}

/* CC.EN 0 -> 1 */
static void pci_enable(struct fdr_ctrl *ctrl)
{
	const char *problem;
	uint16_t status;

	if (ctrl->pci->resetting)
		return; /* reset_finish() enables once the reset is through */
	if (csts_load(ctrl) & (NVME_CSTS_RDY | NVME_CSTS_CFS))
		return;
	problem = enable_problem(ctrl);
	if (problem) {
		fdr_warn("ctrl %u: enable refused: %s (CC %08x AQA %08x)", ctrl->cntlid, problem,
			 ctrl->cc, ctrl->pci->aqa);
		fdr_ctrl_set_fatal(ctrl);
		return;
	}
	status = admin_queues_up(ctrl);
	if (status) {
		fdr_warn("ctrl %u: the transport could not bring up the admin queues (%#x)",
			 ctrl->cntlid, status);
		fdr_ctrl_set_fatal(ctrl);
		return;
	}
	csts_set(ctrl, NVME_CSTS_RDY);
	fdr_info("ctrl %u: enabled (admin SQ %u, CQ %u entries)", ctrl->cntlid,
		 ctrl->pci->sq[0].size, ctrl->pci->cq[0].size);
}

/* Every SQ has drained: take down the CQs and come back to reset state. */
static void reset_finish(struct fdr_ctrl *ctrl)
{
	struct fdr_ctrl_pci *pci = ctrl->pci;

	for (int qid = FDR_MAX_IO_QUEUES; qid >= 0; qid--) {
		if (!pci->cq[qid].live)
			continue;
		if (!ctrl->dead)
			pci->ops->delete_cq(ctrl, (uint16_t)qid);
		memset(&pci->cq[qid], 0, sizeof(pci->cq[qid]));
	}
	if (!ctrl->dead && pci->ops->disable)
		pci->ops->disable(ctrl);
	fdr_ctrl_features_init(ctrl);
	__atomic_store_n(&pci->intms, 0, __ATOMIC_RELAXED);
	csts_clear(ctrl, NVME_CSTS_RDY | NVME_CSTS_SHST_MASK | NVME_CSTS_CFS);
	if (pci->nssr) {
		/* A subsystem reset resets every register; NSSRO tells so. */
		ctrl->cc = 0;
		pci->aqa = 0;
		pci->asq = pci->acq = 0;
		csts_set(ctrl, NVME_CSTS_NSSRO);
	}
	pci->resetting = false;
	pci->nssr = false;
	fdr_info("ctrl %u: reset done", ctrl->cntlid);
	/* The host set CC.EN again while the queues drained. */
	if ((ctrl->cc & NVME_CC_EN) && !ctrl->dead)
		pci_enable(ctrl);
}

/*
 * Controller reset (CC.EN 1 -> 0) or NVM subsystem reset: abort what is
 * outstanding by deleting every SQ (their commands end Aborted due to SQ
 * Deletion), then the CQs.  CSTS.RDY stays 1 until the last SQ drained.
 */
static void pci_reset(struct fdr_ctrl *ctrl, bool nssr)
{
	struct fdr_ctrl_pci *pci = ctrl->pci;
	const char *reason = nssr ? "NVM subsystem reset" : "controller reset (CC.EN=0)";

	pci->nssr |= nssr;
	if (pci->resetting)
		return;
	pci->resetting = true;
	fdr_ctrl_aer_abort_all(ctrl, ABORTED_SQ_DELETION);
	pci->draining = 1; /* held until every SQ was asked */
	for (unsigned qid = FDR_MAX_IO_QUEUES + 1; qid-- > 0;) {
		if (pci->sq[qid].state == FDR_PCI_SQ_FREE)
			continue;
		pci->draining++;
		sq_close(ctrl, (uint16_t)qid, reason);
	}
	if (--pci->draining == 0)
		reset_finish(ctrl);
}

static void nssr_msg(void *arg)
{
	struct fdr_ctrl *ctrl = arg;

	if (ctrl->dead)
		;
	else if (ctrl->pci)
		pci_reset(ctrl, true);
	else /* a fabrics controller loses its association */
		fdr_ctrl_teardown(ctrl, "NVM subsystem reset");
	fdr_ctrl_put(ctrl);
}

static void nssr_one(struct fdr_ctrl *ctrl, void *origin)
{
	if (ctrl == origin)
		return;
	fdr_ctrl_get(ctrl);
	if (fdr_reactor_post(ctrl->reactor, nssr_msg, ctrl) < 0)
		fdr_ctrl_put(ctrl);
}

/* An NVM subsystem reset resets every controller of the subsystem, each
 * on its own reactor. */
static void pci_nssr(struct fdr_ctrl *ctrl)
{
	fdr_info("ctrl %u: NVM subsystem reset", ctrl->cntlid);
	pci_reset(ctrl, true);
	fdr_subsys_for_each_ctrl(ctrl->subsys, nssr_one, ctrl);
}

static void pci_shutdown(struct fdr_ctrl *ctrl)
{
	if (ctrl->pci->ops->shutdown)
		ctrl->pci->ops->shutdown(ctrl);
	fdr_ctrl_shutdown_flush(ctrl);
}

/* ---- Registers ----------------------------------------------------------- */

static uint32_t reg32(const struct fdr_ctrl *ctrl, uint32_t ofst)
{
	const struct fdr_ctrl_pci *pci = ctrl->pci;

	switch (ofst) {
	case NVME_REG_CAP:
		return (uint32_t)ctrl->cap;
	case NVME_REG_CAP + 4:
		return (uint32_t)(ctrl->cap >> 32);
	case NVME_REG_VS:
		return ctrl->vs;
	case NVME_REG_INTMS:
	case NVME_REG_INTMC:
		return __atomic_load_n(&pci->intms, __ATOMIC_RELAXED);
	case NVME_REG_CC:
		return ctrl->cc;
	case NVME_REG_CSTS:
		return csts_load(ctrl);
	case NVME_REG_AQA:
		return pci->aqa;
	case NVME_REG_ASQ:
		return (uint32_t)pci->asq;
	case NVME_REG_ASQ + 4:
		return (uint32_t)(pci->asq >> 32);
	case NVME_REG_ACQ:
		return (uint32_t)pci->acq;
	case NVME_REG_ACQ + 4:
		return (uint32_t)(pci->acq >> 32);
	default:
		return 0; /* NSSR reads 0; reserved and absent (CMB, PMR) too */
	}
}

uint16_t fdr_pci_reg_read(struct fdr_ctrl *ctrl, uint32_t ofst, unsigned size, uint64_t *val)
{
	if ((size != 4 && size != 8) || ofst % size || ofst >= NVME_REG_DBS)
		return ADM_INVALID_FIELD;
	*val = reg32(ctrl, ofst);
	if (size == 8)
		*val |= (uint64_t)reg32(ctrl, ofst + 4) << 32;
	return 0;
}

static void set_intms(struct fdr_ctrl *ctrl, uint32_t mask)
{
	__atomic_store_n(&ctrl->pci->intms, mask, __ATOMIC_RELAXED);
	if (ctrl->pci->ops->intm_changed)
		ctrl->pci->ops->intm_changed(ctrl, mask);
}

static void cc_write(struct fdr_ctrl *ctrl, uint32_t cc)
{
	uint32_t old = ctrl->cc;

	ctrl->cc = cc;
	if ((cc & NVME_CC_EN) && !(old & NVME_CC_EN))
		pci_enable(ctrl);
	else if (!(cc & NVME_CC_EN) && (old & NVME_CC_EN))
		pci_reset(ctrl, false);
	if ((cc & NVME_CC_SHN_MASK) && !(old & NVME_CC_SHN_MASK))
		pci_shutdown(ctrl);
	else if (!(cc & NVME_CC_SHN_MASK))
		csts_clear(ctrl, NVME_CSTS_SHST_MASK);
}

static void reg_write32(struct fdr_ctrl *ctrl, uint32_t ofst, uint32_t v)
{
	struct fdr_ctrl_pci *pci = ctrl->pci;

	switch (ofst) {
	case NVME_REG_INTMS:
		set_intms(ctrl, __atomic_load_n(&pci->intms, __ATOMIC_RELAXED) | v);
		break;
	case NVME_REG_INTMC:
		set_intms(ctrl, __atomic_load_n(&pci->intms, __ATOMIC_RELAXED) & ~v);
		break;
	case NVME_REG_CC:
		cc_write(ctrl, v);
		break;
	case NVME_REG_CSTS:
		if (v & NVME_CSTS_NSSRO) /* write 1 to clear; the rest is read-only */
			csts_clear(ctrl, NVME_CSTS_NSSRO);
		break;
	case NVME_REG_NSSR:
		if (v == NSSR_MAGIC)
			pci_nssr(ctrl);
		break;
	case NVME_REG_AQA:
		pci->aqa = v & AQA_MASK;
		break;
	case NVME_REG_ASQ:
		pci->asq = (pci->asq & ~0xffffffffull) | v;
		break;
	case NVME_REG_ASQ + 4:
		pci->asq = (pci->asq & 0xffffffffull) | (uint64_t)v << 32;
		break;
	case NVME_REG_ACQ:
		pci->acq = (pci->acq & ~0xffffffffull) | v;
		break;
	case NVME_REG_ACQ + 4:
		pci->acq = (pci->acq & 0xffffffffull) | (uint64_t)v << 32;
		break;
	default:
		break; /* read-only (CAP, VS) or reserved: ignored */
	}
}

uint16_t fdr_pci_reg_write(struct fdr_ctrl *ctrl, uint32_t ofst, unsigned size, uint64_t val)
{
	if ((size != 4 && size != 8) || ofst % size || ofst >= NVME_REG_DBS)
		return ADM_INVALID_FIELD;
	reg_write32(ctrl, ofst, (uint32_t)val);
	if (size == 8)
		reg_write32(ctrl, ofst + 4, (uint32_t)(val >> 32));
	return 0;
}

/* ---- Create / Delete I/O queues ------------------------------------------ */

#define Q_QID(cdw10) ((uint16_t)((cdw10) & 0xffff))
#define Q_QSIZE(cdw10) ((uint16_t)((cdw10) >> 16))
#define Q_PC(cdw11) ((cdw11) & 1u)
#define CQ_IEN(cdw11) (((cdw11) >> 1) & 1u)
#define CQ_IV(cdw11) ((uint16_t)((cdw11) >> 16))
#define SQ_QPRIO(cdw11) ((uint8_t)(((cdw11) >> 1) & 3u))
#define SQ_CQID(cdw11) ((uint16_t)((cdw11) >> 16))

/* The highest I/O queue ID the host may use: Number of Queues granted. */
static unsigned max_qid(const struct fdr_ctrl *ctrl, bool sq)
{
	const struct fdr_features *f = &ctrl->feat;
	unsigned n = f->nr_queues_set ? (sq ? f->nr_io_sq : f->nr_io_cq) + 1u
				      : ctrl->subsys->max_io_queues;

	return n < FDR_MAX_IO_QUEUES ? n : FDR_MAX_IO_QUEUES;
}

static uint16_t check_qsize(const struct fdr_ctrl *ctrl, uint16_t qsize)
{
	/* Zero-based: a queue of one entry cannot be used. */
	if (qsize == 0 || qsize > NVME_CAP_MQES(ctrl->cap))
		return INVALID_QSIZE;
	return 0;
}

static void exec_create_cq(struct fdr_req *req)
{
	struct fdr_ctrl *ctrl = adm_ctrl(req);
	struct fdr_ctrl_pci *pci = ctrl->pci;
	uint32_t cdw10 = req->cmd.cdw10, cdw11 = req->cmd.cdw11;
	uint16_t qid = Q_QID(cdw10), status;
	struct fdr_cq_params p = {
		.qid = qid,
		.size = (uint16_t)(Q_QSIZE(cdw10) + 1u),
		.iv = CQ_IV(cdw11),
		.ien = CQ_IEN(cdw11),
		.base = req->cmd.dptr.prp1,
	};

	if (qid == 0 || qid > max_qid(ctrl, false) || pci->cq[qid].live)
		status = INVALID_QID;
	else if ((status = check_qsize(ctrl, Q_QSIZE(cdw10))))
		;
	else if (!Q_PC(cdw11)) /* CAP.CQR: physically contiguous only */
		status = ADM_INVALID_FIELD;
	else if (p.base & (page_size(ctrl) - 1))
		status = INVALID_PRP_OFFSET;
	else if (p.ien && p.iv >= pci->nr_vectors)
		status = INVALID_IV;
	else
		status = pci->ops->create_cq(ctrl, &p);
	if (!status) {
		pci->cq[qid] = (struct fdr_pci_cq){
			.live = true, .ien = p.ien, .size = p.size, .iv = p.iv, .base = p.base,
		};
		fdr_info("ctrl %u: I/O CQ %u created (%u entries, %s %u)", ctrl->cntlid, qid,
			 p.size, p.ien ? "vector" : "polled", p.iv);
	}
	fdr_req_complete(req, status);
}

static void exec_create_sq(struct fdr_req *req)
{
	struct fdr_ctrl *ctrl = adm_ctrl(req);
	struct fdr_ctrl_pci *pci = ctrl->pci;
	uint32_t cdw10 = req->cmd.cdw10, cdw11 = req->cmd.cdw11;
	uint16_t qid = Q_QID(cdw10), cqid = SQ_CQID(cdw11), status;
	struct fdr_sq_params p = {
		.qid = qid,
		.size = (uint16_t)(Q_QSIZE(cdw10) + 1u),
		.cqid = cqid,
		.qprio = SQ_QPRIO(cdw11),
		.base = req->cmd.dptr.prp1,
	};
	struct fdr_queue *q = NULL;

	if (qid == 0 || qid > max_qid(ctrl, true) || pci->sq[qid].state != FDR_PCI_SQ_FREE)
		status = INVALID_QID;
	else if (cqid == 0 || cqid > FDR_MAX_IO_QUEUES || !pci->cq[cqid].live)
		status = CQ_INVALID;
	else if ((status = check_qsize(ctrl, Q_QSIZE(cdw10))))
		;
	else if (!Q_PC(cdw11))
		status = ADM_INVALID_FIELD;
	else if (p.base & (page_size(ctrl) - 1))
		status = INVALID_PRP_OFFSET;
	else if ((status = pci->ops->create_sq(ctrl, &p, &q)) == 0 && !q)
		status = ADM_INTERNAL;
	if (!status) {
		bind_sq(ctrl, q, &p);
		fdr_info("ctrl %u: I/O SQ %u created (%u entries, CQ %u) on reactor %u",
			 ctrl->cntlid, qid, p.size, cqid, fdr_reactor_id(q->reactor));
	}
	fdr_req_complete(req, status);
}

static void exec_delete_sq(struct fdr_req *req)
{
	struct fdr_ctrl *ctrl = adm_ctrl(req);
	uint16_t qid = Q_QID(req->cmd.cdw10);
	struct fdr_pci_sq *sq;

	if (qid == 0 || qid > FDR_MAX_IO_QUEUES ||
	    ctrl->pci->sq[qid].state != FDR_PCI_SQ_LIVE) {
		fdr_req_complete(req, INVALID_QID);
		return;
	}
	/* Completed by sq_gone() once the SQ's outstanding commands ended. */
	sq = &ctrl->pci->sq[qid];
	sq->del_req = req;
	sq_close(ctrl, qid, "SQ deleted");
}

static void exec_delete_cq(struct fdr_req *req)
{
	struct fdr_ctrl *ctrl = adm_ctrl(req);
	struct fdr_ctrl_pci *pci = ctrl->pci;
	uint16_t qid = Q_QID(req->cmd.cdw10), status = 0;

	if (qid == 0 || qid > FDR_MAX_IO_QUEUES || !pci->cq[qid].live) {
		status = INVALID_QID;
	} else if (pci->cq[qid].nr_sq) {
		status = INVALID_DELETION; /* an SQ (maybe still draining) uses it */
	} else {
		pci->ops->delete_cq(ctrl, qid);
		memset(&pci->cq[qid], 0, sizeof(pci->cq[qid]));
		fdr_info("ctrl %u: I/O CQ %u deleted", ctrl->cntlid, qid);
	}
	fdr_req_complete(req, status);
}

/* Doorbell Buffer Config: two page-aligned host pages, PRP1 the Shadow
 * Doorbells, PRP2 the EventIdx values (NVMe Base 2.0, 5.9). */
static void exec_dbbuf_config(struct fdr_req *req)
{
	struct fdr_ctrl *ctrl = adm_ctrl(req);
	uint64_t shadow = req->cmd.dptr.prp1, eventidx = req->cmd.dptr.prp2;
	uint64_t mask = page_size(ctrl) - 1;
	uint16_t status = ADM_INVALID_FIELD;

	if (shadow && eventidx && !(shadow & mask) && !(eventidx & mask) && shadow != eventidx)
		status = ctrl->pci->ops->dbbuf_config(ctrl, shadow, eventidx);
	if (!status)
		fdr_info("ctrl %u: shadow doorbells at %#llx, EventIdx at %#llx", ctrl->cntlid,
			 (unsigned long long)shadow, (unsigned long long)eventidx);
	fdr_req_complete(req, status);
}

uint16_t fdr_pci_adm_decode(struct fdr_req *req)
{
	switch (req->cmd.opc) {
	case NVME_ADM_CREATE_IO_CQ:
		return adm_setup(req, exec_create_cq, 0);
	case NVME_ADM_CREATE_IO_SQ:
		return adm_setup(req, exec_create_sq, 0);
	case NVME_ADM_DELETE_IO_SQ:
		return adm_setup(req, exec_delete_sq, 0);
	case NVME_ADM_DELETE_IO_CQ:
		return adm_setup(req, exec_delete_cq, 0);
	case NVME_ADM_DOORBELL_BUFFER_CONFIG:
		if (!adm_ctrl(req)->pci->ops->dbbuf_config)
			return ADM_INVALID_OPCODE;
		return adm_setup(req, exec_dbbuf_config, 0);
	default:
		return ADM_INVALID_OPCODE;
	}
}

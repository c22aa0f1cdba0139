/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Controller lifetime and registers.  A controller lives on its admin
 * queue's reactor; its I/O queues live wherever their connections landed
 * and are told to go through posted messages.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <frankendrive/plugin.h>

#include "common/log.h"
#include "pci.h"
#include "record.h"
#include "tap.h"
#include "transport.h"

#define FDR_CAP_TO 20 /* CAP.TO: 10 s, in 500 ms units */

static void kato_expired(struct fdr_timer *t);

static uint16_t alloc_cntlid(struct fdr_subsys *s, unsigned *slot)
{
	for (unsigned i = 0; i < FDR_MAX_CTRLS; i++) {
		if (s->ctrls[i])
			continue;
		*slot = i;
		/* Dynamic controllers take IDs 1..FFEFh, not reused soon. */
		for (;;) {
			uint16_t id = s->next_cntlid;
			s->next_cntlid = (uint16_t)(id >= 0xffef ? 1 : id + 1);
			bool used = false;
			for (unsigned j = 0; j < FDR_MAX_CTRLS; j++)
				used |= s->ctrls[j] && s->ctrls[j]->cntlid == id;
			if (!used)
				return id;
		}
	}
	return 0;
}

static bool subsys_has_vwc(const struct fdr_subsys *s)
{
	for (unsigned i = 1; i <= FDR_MAX_NS; i++)
		if (s->ns[i] && s->ns[i]->bdev->volatile_wc)
			return true;
	return false;
}

void fdr_ctrl_features_init(struct fdr_ctrl *ctrl)
{
	struct fdr_features *f = &ctrl->feat;

	memset(f, 0, sizeof(*f));
	f->vwc_enabled = subsys_has_vwc(ctrl->subsys);
	f->temp_over[0] = 343; /* 70 C, as WCTEMP */
	for (unsigned i = 1; i < FDR_NR_TEMP_SENSORS; i++)
		f->temp_over[i] = 0xffff;
	f->nr_io_sq = f->nr_io_cq = (uint16_t)(ctrl->subsys->max_io_queues - 1);
	memcpy(f->hostid, ctrl->hostid, sizeof(f->hostid));
	f->hostid_ext = !ctrl->pci; /* PCIe: no Host Identifier (it is zero) */
}

struct fdr_ctrl *fdr_ctrl_create(struct fdr_subsys *s, struct fdr_queue *admin_q,
				 const char *hostnqn, const uint8_t hostid[16], uint32_t kato_ms,
				 uint16_t *status)
{
	struct fdr_ctrl *ctrl = calloc(1, sizeof(*ctrl));
	unsigned slot = 0;

	if (!ctrl) {
		*status = NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INTERNAL);
		return NULL;
	}
	ctrl->subsys = s;
	snprintf(ctrl->hostnqn, sizeof(ctrl->hostnqn), "%s", hostnqn);
	memcpy(ctrl->hostid, hostid, 16);
	ctrl->reactor = admin_q->reactor;
	ctrl->admin_q = admin_q;
	ctrl->refs = 1; /* the admin queue's */
	pthread_mutex_init(&ctrl->lock, NULL);

	/* On fabrics MQES bounds I/O queues only; a discovery controller has
	 * none, but hosts compare it with their queue size and complain. */
	unsigned mqes = (s->type == FDR_SUBSYS_DISCOVERY ? 128 : s->max_qdepth) - 1;
	ctrl->cap = mqes | NVME_CAP_CQR | ((uint64_t)FDR_CAP_TO << NVME_CAP_TO_SHIFT) |
		    NVME_CAP_CSS_NVM;
	ctrl->vs = NVME_VS(1, 4, 0);
	fdr_ctrl_features_init(ctrl);

	pthread_mutex_lock(&s->lock);
	ctrl->cntlid = alloc_cntlid(s, &slot);
	if (ctrl->cntlid) {
		s->ctrls[slot] = ctrl;
		fdr_subsys_link_queue(s, admin_q);
	}
	pthread_mutex_unlock(&s->lock);
	if (!ctrl->cntlid) {
		fdr_warn("%s: no controller slot left for %s", s->nqn, hostnqn);
		pthread_mutex_destroy(&ctrl->lock);
		free(ctrl);
		*status = NVME_STATUS(NVME_SCT_COMMAND_SPECIFIC, NVME_SC_CONNECT_CONTROLLER_BUSY);
		return NULL;
	}

	/* Discovery controllers may run without keep-alive (KATO 0). */
	ctrl->kato_ms = kato_ms;
	ctrl->kato_timer.fn = kato_expired;
	fdr_ctrl_keep_alive(ctrl);
	*status = 0;
	return ctrl;
}

/*
 * A PCIe controller: no Connect, no admin queue until CC.EN=1 (the
 * transport creates it through ops->create_sq), no keep-alive unless the
 * host sets KATO.  The reference returned is the transport's.
 */
struct fdr_ctrl *fdr_ctrl_create_pci(struct fdr_subsys *s, struct fdr_reactor *r,
				     const struct fdr_ctrl_ops *ops, void *tctx,
				     const struct fdr_ctrl_pci_params *p)
{
	struct fdr_ctrl *ctrl;
	unsigned slot = 0;

	if (s->type != FDR_SUBSYS_NVME)
		return NULL;
	ctrl = calloc(1, sizeof(*ctrl));
	if (!ctrl)
		return NULL;
	ctrl->pci = calloc(1, sizeof(*ctrl->pci));
	if (!ctrl->pci) {
		free(ctrl);
		return NULL;
	}
	ctrl->pci->ops = ops;
	ctrl->pci->tctx = tctx;
	ctrl->pci->nr_vectors = p->nr_vectors ? p->nr_vectors : 1;
	if (ctrl->pci->nr_vectors > FDR_PCI_MAX_VECTORS)
		ctrl->pci->nr_vectors = FDR_PCI_MAX_VECTORS;
	ctrl->pci->vid = p->vid;
	ctrl->pci->ssvid = p->ssvid;
	ctrl->pci->sgls = p->sgls;
	ctrl->pci->rec_conn = p->rec_conn;
	ctrl->subsys = s;
	snprintf(ctrl->hostnqn, sizeof(ctrl->hostnqn), "%s", FDR_PCI_HOSTNQN);
	ctrl->reactor = r;
	ctrl->refs = 1; /* the transport's */
	pthread_mutex_init(&ctrl->lock, NULL);

	/* MQES bounds every queue; CQR: contiguous queues only; AMS round
	 * robin only; DSTRD 0 (4-byte doorbells); NSSR supported; NVM
	 * command set; MPSMIN = MPSMAX = 0 (4 KiB pages). */
	ctrl->cap = (uint64_t)(s->max_qdepth - 1) | NVME_CAP_CQR |
		    ((uint64_t)FDR_CAP_TO << NVME_CAP_TO_SHIFT) | NVME_CAP_NSSRS | NVME_CAP_CSS_NVM;
	ctrl->vs = NVME_VS(1, 4, 0);
	fdr_ctrl_features_init(ctrl);

	pthread_mutex_lock(&s->lock);
	ctrl->cntlid = alloc_cntlid(s, &slot);
	if (ctrl->cntlid)
		s->ctrls[slot] = ctrl;
	pthread_mutex_unlock(&s->lock);
	if (!ctrl->cntlid) {
		fdr_warn("%s: no controller slot left for a PCIe function", s->nqn);
		pthread_mutex_destroy(&ctrl->lock);
		free(ctrl->pci);
		free(ctrl);
		return NULL;
	}
	ctrl->kato_timer.fn = kato_expired;
	fdr_info("ctrl %u: PCIe controller of %s (%s)", ctrl->cntlid, s->nqn,
		 ops->name ? ops->name : "?");
	return ctrl;
}

void fdr_ctrl_get(struct fdr_ctrl *ctrl)
{
	__atomic_add_fetch(&ctrl->refs, 1, __ATOMIC_ACQ_REL);
}

void fdr_ctrl_put(struct fdr_ctrl *ctrl)
{
	if (__atomic_sub_fetch(&ctrl->refs, 1, __ATOMIC_ACQ_REL) == 0) {
		pthread_mutex_destroy(&ctrl->lock);
		free(ctrl->pci);
		free(ctrl);
	}
}

void fdr_ctrl_keep_alive(struct fdr_ctrl *ctrl)
{
	ctrl->last_keep_alive_ns = fdr_now_ns();
	if (ctrl->kato_ms && !ctrl->dead)
		fdr_timer_arm(ctrl->reactor, &ctrl->kato_timer, (uint64_t)ctrl->kato_ms * 1000000ull);
	else
		fdr_timer_cancel(ctrl->reactor, &ctrl->kato_timer);
}

static void kato_expired(struct fdr_timer *t)
{
	struct fdr_ctrl *ctrl = (struct fdr_ctrl *)((char *)t - offsetof(struct fdr_ctrl, kato_timer));

	fdr_warn("ctrl %u: keep-alive timeout (%u ms) for %s", ctrl->cntlid, ctrl->kato_ms,
		 ctrl->hostnqn);
	if (ctrl->pci) {
		/* No connection to drop on PCIe: the controller stops being
		 * usable until the host resets it. */
		fdr_ctrl_set_fatal(ctrl);
		return;
	}
	fdr_ctrl_teardown(ctrl, "keep-alive timeout");
}

struct ioq_disconnect {
	struct fdr_ctrl *ctrl;
	struct fdr_queue *q;
	uint16_t qid;
	const char *reason;
};

/* Runs on the I/O queue's reactor, so the queue cannot vanish under us. */
static void ioq_disconnect_msg(void *arg)
{
	struct ioq_disconnect *m = arg;
	struct fdr_subsys *s = m->ctrl->subsys;
	bool still_ours;

	pthread_mutex_lock(&s->lock);
	still_ours = m->ctrl->ioq[m->qid] == m->q;
	pthread_mutex_unlock(&s->lock);
	if (still_ours && !m->q->closing)
		m->q->ops->disconnect(m->q, m->reason);
	fdr_ctrl_put(m->ctrl);
	free(m);
}

/* Ask every I/O queue of ctrl to disconnect. */
static void ctrl_drop_io_queues(struct fdr_ctrl *ctrl, const char *reason)
{
	struct fdr_subsys *s = ctrl->subsys;

	pthread_mutex_lock(&s->lock);
	for (unsigned qid = 1; qid <= FDR_MAX_IO_QUEUES; qid++) {
		struct fdr_queue *q = ctrl->ioq[qid];
		struct ioq_disconnect *m;

		if (!q || !(m = calloc(1, sizeof(*m))))
			continue;
		m->ctrl = ctrl;
		m->q = q;
		m->qid = (uint16_t)qid;
		m->reason = reason;
		fdr_ctrl_get(ctrl);
		if (fdr_reactor_post(q->reactor, ioq_disconnect_msg, m) < 0) {
			fdr_ctrl_put(ctrl);
			free(m);
		}
	}
	pthread_mutex_unlock(&s->lock);
}

void fdr_ctrl_teardown(struct fdr_ctrl *ctrl, const char *reason)
{
	struct fdr_subsys *s = ctrl->subsys;
	struct fdr_queue *admin_q;

	if (ctrl->dead)
		return;
	ctrl->dead = true;
	fdr_timer_cancel(ctrl->reactor, &ctrl->kato_timer);
	pthread_mutex_lock(&s->lock);
	for (unsigned i = 0; i < FDR_MAX_CTRLS; i++)
		if (s->ctrls[i] == ctrl)
			s->ctrls[i] = NULL;
	admin_q = ctrl->admin_q;
	pthread_mutex_unlock(&s->lock);

	fdr_info("ctrl %u: %s gone: %s", ctrl->cntlid, ctrl->hostnqn, reason);
	ctrl_drop_io_queues(ctrl, reason);
	fdr_ctrl_aer_abort_all(ctrl, NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_ABORTED_SQ_DELETION));
	if (admin_q && !admin_q->closing)
		admin_q->ops->disconnect(admin_q, reason);
}

void fdr_ctrl_set_fatal(struct fdr_ctrl *ctrl)
{
	__atomic_or_fetch(&ctrl->csts, NVME_CSTS_CFS, __ATOMIC_ACQ_REL);
}

/* ---- Registers ------------------------------------------------------- */

static const uint16_t invalid_field = NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INVALID_FIELD) |
				      NVME_STATUS_DNR;

static uint16_t reg_read(struct fdr_ctrl *ctrl, uint32_t ofst, unsigned size, uint64_t *val);

/* Register taps see every access, including ones the register map refuses. */
static int reg_tap(struct fdr_ctrl *ctrl, enum fdr_tap_id id, uint32_t ofst, unsigned size,
		   uint64_t *val)
{
	return fdr_tap_run_reg(id, ctrl->cntlid, ofst, size, val);
}

uint16_t fdr_ctrl_reg_read(struct fdr_ctrl *ctrl, uint32_t ofst, unsigned size, uint64_t *val)
{
	uint16_t status = ctrl->pci ? fdr_pci_reg_read(ctrl, ofst, size, val)
				    : reg_read(ctrl, ofst, size, val);

	if (!status && fdr_tap_on(FDR_TAP_REGREAD_WRITEBACK))
		reg_tap(ctrl, FDR_TAP_REGREAD_WRITEBACK, ofst, size, val);
	if (!status)
		FDR_RECORD(reg_slow(ctrl, false, ofst, size, *val));
	return status;
}

static uint16_t reg_read(struct fdr_ctrl *ctrl, uint32_t ofst, unsigned size, uint64_t *val)
{
	switch (ofst) {
	case NVME_REG_CAP:
		if (size != 8)
			return invalid_field;
		*val = ctrl->cap;
		return 0;
	case NVME_REG_VS:
		*val = ctrl->vs;
		break;
	case NVME_REG_CC:
		*val = ctrl->cc;
		break;
	case NVME_REG_CSTS:
		*val = __atomic_load_n(&ctrl->csts, __ATOMIC_ACQUIRE);
		break;
	case NVME_REG_NSSR:
		*val = 0;
		break;
	default:
		/* AQA/ASQ/ACQ, interrupt masks and doorbells don't exist on fabrics. */
		return invalid_field;
	}
	return size == 4 ? 0 : invalid_field;
}

/* CC.EN 1 -> 0: the controller resets; its I/O queues and AERs go away. */
static void ctrl_disable(struct fdr_ctrl *ctrl)
{
	ctrl_drop_io_queues(ctrl, "controller reset (CC.EN=0)");
	fdr_ctrl_aer_abort_all(ctrl, NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_ABORTED_SQ_DELETION));
	/* A reset is how the host recovers from a fatal status: CFS clears. */
	__atomic_and_fetch(&ctrl->csts, ~(NVME_CSTS_RDY | NVME_CSTS_SHST_MASK | NVME_CSTS_CFS),
			   __ATOMIC_ACQ_REL);
	fdr_ctrl_features_init(ctrl);
}

void fdr_ctrl_shutdown_flush(struct fdr_ctrl *ctrl)
{
	struct fdr_subsys *s = ctrl->subsys;

	/* Volatile caches reach the media before SHST says complete. */
	for (unsigned i = 1; i <= FDR_MAX_NS; i++) {
		struct fdr_ns *ns = s->ns[i];
		if (ns && ns->bdev->ops->flush_sync && ns->bdev->ops->flush_sync(ns->bdev) < 0)
			fdr_err("ctrl %u: flush of namespace %u at shutdown failed", ctrl->cntlid, i);
	}
	__atomic_and_fetch(&ctrl->csts, ~NVME_CSTS_SHST_MASK, __ATOMIC_ACQ_REL);
	__atomic_or_fetch(&ctrl->csts, NVME_CSTS_SHST_COMPLETE << NVME_CSTS_SHST_SHIFT,
			  __ATOMIC_ACQ_REL);
	fdr_info("ctrl %u: shutdown complete", ctrl->cntlid);
}

static bool cc_valid_for_enable(uint32_t cc)
{
	unsigned css = (cc >> NVME_CC_CSS_SHIFT) & 0x7;
	unsigned mps = (cc >> NVME_CC_MPS_SHIFT) & 0xf;
	unsigned ams = (cc >> NVME_CC_AMS_SHIFT) & 0x7;
	unsigned iosqes = (cc >> NVME_CC_IOSQES_SHIFT) & 0xf;
	unsigned iocqes = (cc >> NVME_CC_IOCQES_SHIFT) & 0xf;

	return css == 0 && mps == 0 && ams == 0 && iosqes == 6 && iocqes == 4;
}

uint16_t fdr_ctrl_reg_write(struct fdr_ctrl *ctrl, uint32_t ofst, unsigned size, uint64_t val)
{
	uint32_t old, cc;

	if (fdr_tap_on(FDR_TAP_REGWRITE_DECODE) &&
	    reg_tap(ctrl, FDR_TAP_REGWRITE_DECODE, ofst, size, &val) == PLUGIN_DROP)
		return 0; /* a callback swallowed the write */
	FDR_RECORD(reg_slow(ctrl, true, ofst, size, val));
	if (ctrl->pci)
		return fdr_pci_reg_write(ctrl, ofst, size, val);
	if (ofst != NVME_REG_CC || size != 4)
		return invalid_field;
	old = ctrl->cc;
	cc = (uint32_t)val;
	ctrl->cc = cc;

	if ((cc & NVME_CC_EN) && !(old & NVME_CC_EN)) {
		if (!cc_valid_for_enable(cc)) {
			fdr_warn("ctrl %u: enable with unsupported CC %08x", ctrl->cntlid, cc);
			fdr_ctrl_set_fatal(ctrl);
		} else {
			__atomic_or_fetch(&ctrl->csts, NVME_CSTS_RDY, __ATOMIC_ACQ_REL);
		}
	} else if (!(cc & NVME_CC_EN) && (old & NVME_CC_EN)) {
		ctrl_disable(ctrl);
	}
	if ((cc & NVME_CC_SHN_MASK) && !(old & NVME_CC_SHN_MASK))
		fdr_ctrl_shutdown_flush(ctrl);
	else if (!(cc & NVME_CC_SHN_MASK))
		__atomic_and_fetch(&ctrl->csts, ~NVME_CSTS_SHST_MASK, __ATOMIC_ACQ_REL);
	return 0;
}

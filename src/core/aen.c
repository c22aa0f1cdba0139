/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Asynchronous events: Asynchronous Event Request (0Ch), raising events
 * from any thread, masking each event type until the host reads the log
 * page of the event it was told about, and the Changed Namespace List.
 *
 * Events wait in ctrl->aen_pending (under ctrl->lock) until an AER is
 * outstanding; pairing runs on the admin reactor, where ctrl->aer[] lives.
 */
#include "admin.h"
#include "record.h"
#include "tap.h"

#include <frankendrive/names.h>
#include "common/log.h"

#define AEN_TYPE(cdw0) ((cdw0) & 0x7)
#define AEN_LID(cdw0) ((uint8_t)((cdw0) >> 16))
#define AEN_PENDING_MAX (sizeof(((struct fdr_ctrl *)0)->aen_pending) / sizeof(struct fdr_aen_event))

/* Does the Asynchronous Event Configuration feature let this one through? */
static bool aen_enabled(uint32_t aec, uint8_t type, uint8_t info)
{
	switch (type) {
	case NVME_AER_TYPE_SMART:
		/* AEC bits 7:0 follow the SMART critical warning bits. */
		if (info == NVME_AER_SMART_SPARE_THRESH)
			return aec & NVME_SMART_CRIT_SPARE;
		if (info == NVME_AER_SMART_TEMP_THRESH)
			return aec & NVME_SMART_CRIT_TEMPERATURE;
		return aec & (NVME_SMART_CRIT_RELIABILITY | NVME_SMART_CRIT_READ_ONLY |
			      NVME_SMART_CRIT_VOLATILE_BACKUP);
	case NVME_AER_TYPE_NOTICE:
		if (info == NVME_AER_NOTICE_NS_CHANGED)
			return aec & NVME_AEC_NS_ATTR;
		if (info == NVME_AER_NOTICE_FW_ACT_STARTING)
			return aec & NVME_AEC_FW_ACTIVATION;
		if (info == NVME_AER_NOTICE_DISC_CHANGED)
			return aec & NVME_AEC_DISC_CHANGE;
		return false; /* telemetry, ANA: not supported */
	default:
		/* Error, I/O command set and vendor events cannot be disabled. */
		return true;
	}
}

/* ---- Delivery (admin reactor) ---------------------------------------------- */

/* Under lock: the oldest pending event whose type is not masked. */
static bool take_event(struct fdr_ctrl *ctrl, uint32_t *cdw0)
{
	for (uint32_t i = 0; i < ctrl->aen_npending; i++) {
		uint32_t v = ctrl->aen_pending[i].cdw0, type = AEN_TYPE(v);

		if (ctrl->aen_masked & (1u << type))
			continue;
		memmove(&ctrl->aen_pending[i], &ctrl->aen_pending[i + 1],
			(ctrl->aen_npending - i - 1) * sizeof(ctrl->aen_pending[0]));
		ctrl->aen_npending--;
		/* Masked until the host reads the page this event points to. */
		ctrl->aen_masked |= 1u << type;
		ctrl->aen_mask_lid[type] = AEN_LID(v);
		*cdw0 = v;
		return true;
	}
	return false;
}

void fdr_adm_aen_kick(struct fdr_ctrl *ctrl)
{
	for (;;) {
		struct fdr_req *req = NULL;
		uint32_t cdw0 = 0;

		pthread_mutex_lock(&ctrl->lock);
		if (ctrl->nr_aer && take_event(ctrl, &cdw0)) {
			req = ctrl->aer[0]; /* FIFO: oldest request first */
			ctrl->nr_aer--;
			memmove(&ctrl->aer[0], &ctrl->aer[1], ctrl->nr_aer * sizeof(ctrl->aer[0]));
		}
		pthread_mutex_unlock(&ctrl->lock);
		if (!req)
			return;
		req->cpl.cdw0 = cdw0;
		if (fdr_tap_on(FDR_TAP_AEN_WRITEBACK)) {
			struct fdr_tap_ctx tc = {.dev = ctrl->cntlid, .req = req, .cpl = &req->cpl};
			fdr_tap_run(FDR_TAP_AEN_WRITEBACK, &tc);
		}
		FDR_RECORD(aen_slow(ctrl, req->cpl.cdw0));
		fdr_info("ctrl %u: asynchronous event %08x (%s) to the host", ctrl->cntlid,
			 req->cpl.cdw0, nvme_aen_type_name(req->cpl.cdw0 & 0x7));
		fdr_req_complete(req, NVME_SC_SUCCESS);
	}
}

static void aen_posted(void *arg)
{
	struct fdr_ctrl *ctrl = arg;

	fdr_adm_aen_kick(ctrl);
	fdr_ctrl_put(ctrl);
}

/* Get delivery going on the admin reactor.  Without a reactor (a test
 * driving the pipeline by hand) deliver right away. */
static void aen_schedule(struct fdr_ctrl *ctrl)
{
	if (!ctrl->reactor) {
		fdr_adm_aen_kick(ctrl);
		return;
	}
	fdr_ctrl_get(ctrl);
	if (fdr_reactor_post(ctrl->reactor, aen_posted, ctrl)) {
		/* The event stays pending; the next AER picks it up. */
		fdr_warn("ctrl %u: cannot post async event delivery", ctrl->cntlid);
		fdr_ctrl_put(ctrl);
	}
}

void fdr_adm_aer_exec(struct fdr_req *req)
{
	struct fdr_ctrl *ctrl = adm_ctrl(req);
	bool full;

	pthread_mutex_lock(&ctrl->lock);
	full = ctrl->nr_aer >= FDR_AERL;
	if (!full)
		ctrl->aer[ctrl->nr_aer++] = req;
	pthread_mutex_unlock(&ctrl->lock);
	if (full) {
		fdr_req_complete(req, ADM_CS(NVME_SC_ASYNC_EVENT_REQUEST_LIMIT_EXCEEDED));
		return;
	}
	fdr_adm_aen_kick(ctrl); /* an event may already be waiting */
}

void fdr_ctrl_aer_abort_all(struct fdr_ctrl *ctrl, uint16_t status)
{
	struct fdr_req *reqs[FDR_AERL];
	uint32_t n;

	pthread_mutex_lock(&ctrl->lock);
	n = ctrl->nr_aer;
	memcpy(reqs, ctrl->aer, n * sizeof(reqs[0]));
	ctrl->nr_aer = 0;
	pthread_mutex_unlock(&ctrl->lock);
	for (uint32_t i = 0; i < n; i++)
		fdr_req_complete(reqs[i], status);
}

/* ---- Raising and clearing (any thread) -------------------------------------- */

void fdr_ctrl_raise_aen(struct fdr_ctrl *ctrl, uint8_t type, uint8_t info, uint8_t lid)
{
	uint32_t cdw0 = NVME_AER_CDW0(type & 0x7, info, lid);
	bool queued = false;

	pthread_mutex_lock(&ctrl->lock);
	if (!aen_enabled(ctrl->feat.async_event_cfg, type, info))
		goto out;
	/* Already reported and not yet cleared: the host will find this one
	 * in the same log page when it reads it. */
	if ((ctrl->aen_masked & (1u << (type & 0x7))) && ctrl->aen_mask_lid[type & 0x7] == lid)
		goto out;
	for (uint32_t i = 0; i < ctrl->aen_npending; i++)
		if (ctrl->aen_pending[i].cdw0 == cdw0)
			goto out;
	if (ctrl->aen_npending >= AEN_PENDING_MAX) {
		fdr_warn("ctrl %u: async event 0x%x dropped, queue full", ctrl->cntlid, cdw0);
		goto out;
	}
	ctrl->aen_pending[ctrl->aen_npending++].cdw0 = cdw0;
	queued = true;
out:
	pthread_mutex_unlock(&ctrl->lock);
	if (queued)
		aen_schedule(ctrl);
}

bool fdr_adm_aen_unmask_locked(struct fdr_ctrl *ctrl, uint8_t lid)
{
	bool any = false;

	for (unsigned t = 0; t < 8; t++) {
		if ((ctrl->aen_masked & (1u << t)) && ctrl->aen_mask_lid[t] == lid) {
			ctrl->aen_masked &= ~(1u << t);
			any = true;
		}
	}
	return any && ctrl->aen_npending;
}

void fdr_ctrl_aen_log_read(struct fdr_ctrl *ctrl, uint8_t lid)
{
	bool kick;

	pthread_mutex_lock(&ctrl->lock);
	kick = fdr_adm_aen_unmask_locked(ctrl, lid);
	pthread_mutex_unlock(&ctrl->lock);
	if (kick)
		aen_schedule(ctrl);
}

void fdr_adm_ns_changed(struct fdr_ctrl *ctrl, uint32_t nsid)
{
	pthread_mutex_lock(&ctrl->lock);
	if (ctrl->nr_changed_ns <= NVME_CHANGED_NS_MAX) {
		bool dup = false;

		for (uint32_t i = 0; i < ctrl->nr_changed_ns && !dup; i++)
			dup = ctrl->changed_ns[i] == nsid;
		if (!dup && ctrl->nr_changed_ns < NVME_CHANGED_NS_MAX)
			ctrl->changed_ns[ctrl->nr_changed_ns++] = nsid;
		else if (!dup)
			ctrl->nr_changed_ns = NVME_CHANGED_NS_MAX + 1; /* overflow */
	}
	pthread_mutex_unlock(&ctrl->lock);
	fdr_ctrl_raise_aen(ctrl, NVME_AER_TYPE_NOTICE, NVME_AER_NOTICE_NS_CHANGED,
			   NVME_LOG_CHANGED_NS);
}

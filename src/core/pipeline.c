/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The command pipeline: fetch -> decode -> execute -> writeback.
 *
 * Each stage is a function of its own so that taps (plug-ins, rules, the
 * recorder) can hook it by name.  A request moves forward by the previous
 * stage calling the next one; the data phase (host-to-controller data) and
 * backends may suspend it in between, resuming on the same reactor.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <frankendrive/plugin.h>

#include "common/log.h"
#include "hold.h"
#include "record.h"
#include "tap.h"
#include "transport.h"

static void decode_body(struct fdr_req *req);
static void execute_body(struct fdr_req *req);
static void writeback_post(struct fdr_req *req);

/* The tap of a command stage with something attached: see stage_tap(). */
static __attribute__((noinline)) bool stage_tap_run(struct fdr_req *req, enum fdr_tap_id id,
						     enum fdr_stage stage,
						     void (*resume)(struct fdr_req *))
{
	struct fdr_queue *q = req->q;
	struct fdr_tap_ctx tc = {
		.dev = q->ctrl ? q->ctrl->cntlid : 0,
		.sqid = q->qid,
		.req = req,
		.cmd = &req->cmd,
		.cpl = &req->cpl,
	};
	int verdict;

	req->resume = resume;
#if FDR_HAVE_RECORDER
	uint16_t status_before = req->cpl.status;
#endif
	verdict = fdr_tap_run(id, &tc);
#if FDR_HAVE_RECORDER
	/* The trace shows why a command failed: who did what. */
	if (fdr_rec_on() && (verdict != PLUGIN_CONTINUE || req->cpl.status != status_before)) {
		const struct fdr_tap_entry *e = fdr_tap_last();
		char what[128];
		if (verdict == PLUGIN_HOLD)
			snprintf(what, sizeof(what), "held at %s", fdr_taps[id].name);
		else
			snprintf(what, sizeof(what), "%s at %s: status %#x", 
				 verdict == PLUGIN_COMPLETE && stage != FDR_STAGE_WRITEBACK ? "completed" : "changed",
				 fdr_taps[id].name, req->cpl.status >> 1);
		fdr_record_action_slow(req, e ? e->owner_name : NULL, what, (uint8_t)id);
	}
#endif
	if (verdict == PLUGIN_HOLD) {
		/* Held without a ticket still needs one, so that closing the
		 * queue can abort it. */
		fdr_hold(req);
		return true;
	}
	if (verdict == PLUGIN_COMPLETE && stage != FDR_STAGE_WRITEBACK) {
		fdr_req_complete(req, (uint16_t)(req->cpl.status >> 1));
		return true;
	}
	return false;
}

/*
 * Runs the tap of a command stage.  Returns true if a callback took the
 * command: completed it (PLUGIN_COMPLETE, with the status it left in the
 * CQE) or holds it (PLUGIN_HOLD, resumed later at resume).  With nothing
 * attached this is one load and one branch, inline.
 */
static inline bool stage_tap(struct fdr_req *req, enum fdr_stage stage,
			     void (*resume)(struct fdr_req *))
{
	enum fdr_tap_id id = (req->q->qid == 0 ? FDR_TAP_ADMIN_FETCH : FDR_TAP_IO_FETCH) + stage;

	if (!fdr_tap_on(id))
		return false;
	return stage_tap_run(req, id, stage, resume);
}

void fdr_req_submit(struct fdr_req *req)
{
	fdr_stage_fetch(req);
}

void fdr_stage_fetch(struct fdr_req *req)
{
	struct fdr_queue *q = req->q;

	req->t_fetch = fdr_record_stamp();
	req->t_done = 0;
	req->status = 0;
	memset(&req->cpl, 0, sizeof(req->cpl));
	req->data_len = 0;
	req->direct = NULL;
	req->xfer = NVME_OPC_XFER_NONE;
	req->ns = NULL;
	req->exec = NULL;
	req->slba = 0;
	req->nlb = 0;
	req->iter = 0;
	/* The fabrics SQ head advances as each capsule is taken in. */
	if (q->depth)
		q->sqhd = (uint16_t)((q->sqhd + 1) % q->depth);
	FDR_RECORD(cmd_slow(req));
	if (stage_tap(req, FDR_STAGE_FETCH, fdr_stage_decode))
		return;
	fdr_stage_decode(req);
}

static uint16_t decode_by_queue(struct fdr_req *req)
{
	struct fdr_queue *q = req->q;

	/* Fabrics commands do not exist on a PCIe controller's queues. */
	if (req->cmd.opc == NVME_ADM_FABRICS && !(q->ctrl && q->ctrl->pci))
		return fdr_fabrics_decode(req);
	if (!q->ctrl)
		return NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_COMMAND_SEQUENCE_ERROR) | NVME_STATUS_DNR;
	if (!fdr_ctrl_ready(q->ctrl))
		return NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_COMMAND_SEQUENCE_ERROR) | NVME_STATUS_DNR;
	if ((req->cmd.flags & NVME_CMD_FLAGS_FUSE_MASK) != 0)
		return NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INVALID_FIELD) | NVME_STATUS_DNR;
	return q->qid == 0 ? fdr_admin_decode(req) : fdr_io_decode(req);
}

void fdr_stage_decode(struct fdr_req *req)
{
	req->state = FDR_REQ_DECODE;
	/* The tap sees the command before it is decoded: it may change it,
	 * or complete it without it ever executing. */
	if (stage_tap(req, FDR_STAGE_DECODE, decode_body))
		return;
	decode_body(req);
}

/*
 * A Write whose data nothing can touch before the backend takes it (no
 * execute-stage callback, a backend that finishes at once) is written
 * from host memory directly, one copy less.  A callback attached after
 * this point still sees the data (fdr_hold() moves it to buf first).
 */
static bool write_direct(struct fdr_req *req)
{
	const struct fdr_queue *q = req->q;

	if (!q->ops->data_direct || req->cmd.opc != NVME_IO_WRITE || q->qid == 0 ||
	    !req->ns->bdev->sync || fdr_tap_on(FDR_TAP_IO_EXECUTE))
		return false;
	req->direct = q->ops->data_direct(req);
	return req->direct != NULL;
}

static void decode_body(struct fdr_req *req)
{
	struct fdr_queue *q = req->q;
	uint16_t status;

	status = decode_by_queue(req);
	if (status) {
		fdr_req_complete(req, status);
		return;
	}
	if (req->data_len) {
		status = q->ops->prep_data(req);
		if (status) {
			fdr_req_complete(req, status);
			return;
		}
		if (req->xfer == NVME_OPC_XFER_TO_CTRL) {
			if (write_direct(req)) {
				fdr_stage_execute(req);
				return;
			}
			req->state = FDR_REQ_DATA_IN;
			q->ops->data_in(req);
			return;
		}
	}
	fdr_stage_execute(req);
}

void fdr_req_data_in_done(struct fdr_req *req, uint16_t status)
{
	if (status)
		fdr_req_complete(req, status);
	else
		fdr_stage_execute(req);
}

void fdr_stage_execute(struct fdr_req *req)
{
	req->state = FDR_REQ_EXECUTE;
	if (stage_tap(req, FDR_STAGE_EXECUTE, execute_body))
		return;
	execute_body(req);
}

static void execute_body(struct fdr_req *req)
{
	req->exec(req);
}

void fdr_req_complete(struct fdr_req *req, uint16_t status)
{
	req->status = status;
	fdr_stage_writeback(req);
}

void fdr_stage_writeback(struct fdr_req *req)
{
	struct fdr_queue *q = req->q;

	req->state = FDR_REQ_WRITEBACK;
	/* A PCIe SQ being deleted: what was outstanding ends aborted. */
	if (__builtin_expect(q->abort_status != 0, 0))
		req->status = q->abort_status;
	req->t_done = fdr_record_stamp();
	req->cpl.sqhd = fdr_queue_sqhd(q);
	req->cpl.sqid = q->qid;
	req->cpl.cid = req->cmd.cid;
	req->cpl.status = (uint16_t)(req->status << 1);
	if (stage_tap(req, FDR_STAGE_WRITEBACK, writeback_post))
		return;
	writeback_post(req);
}

static void writeback_post(struct fdr_req *req)
{
	struct fdr_queue *q = req->q;
	struct fdr_ctrl *ctrl = q->ctrl;

	/* A writeback callback may have changed the status. */
	req->status = (uint16_t)(req->cpl.status >> 1);
	if (req->status && ctrl && !q->closing)
		fdr_ctrl_log_error(ctrl, req, req->slba, 0xffff);
	if (q->ops->cpl_phase)
		req->cpl.status = (uint16_t)((req->cpl.status & ~1u) | q->ops->cpl_phase(req));
	FDR_RECORD(cpl_slow(req));
	q->ops->complete(req);
}

void fdr_req_undirect(struct fdr_req *req)
{
	if (!req->direct)
		return;
	memcpy(req->buf, req->direct, req->data_len);
	req->direct = NULL;
}

uint8_t *fdr_req_buf_reserve(struct fdr_req *req, uint32_t len)
{
	uint32_t cap = 4096;
	void *p;

	if (len <= req->buf_cap)
		return req->buf;
	while (cap < len)
		cap <<= 1;
	/* Page aligned so that backends may use O_DIRECT on it. */
	if (posix_memalign(&p, 4096, cap))
		return NULL;
	/* Keep what is there: in-capsule data arrives before decode sizes
	 * the buffer (Compare wants twice the data length). */
	if (req->buf_cap)
		memcpy(p, req->buf, req->buf_cap);
	free(req->buf);
	req->buf = p;
	req->buf_cap = cap;
	return req->buf;
}

void fdr_req_copy_out(struct fdr_req *req, const void *src, size_t src_len, uint64_t offset)
{
	memset(req->buf, 0, req->data_len);
	if (offset >= src_len)
		return;
	size_t n = src_len - offset;
	if (n > req->data_len)
		n = req->data_len;
	memcpy(req->buf, (const uint8_t *)src + offset, n);
}

void fdr_strpad(char *dst, size_t width, const char *src)
{
	size_t n = strlen(src);

	if (n > width)
		n = width;
	memcpy(dst, src, n);
	memset(dst + n, ' ', width - n);
}

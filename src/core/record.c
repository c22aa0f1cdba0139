/* SPDX-License-Identifier: BSD-2-Clause */
/* Core-side events for the flight recorder (see record.h). */
#include "record.h"

#include <stdio.h>
#include <string.h>

#include "core.h"

/* The ring's header, loaded once: `ctl record off` may unpublish it
 * between the caller's check and here (the mapping itself stays). */
static const struct fdr_rec_file_hdr *ring_hdr(void)
{
	return __atomic_load_n(&fdr_rec_ring, __ATOMIC_ACQUIRE);
}

static void req_common(struct fdr_rec_event *ev, const struct fdr_req *req)
{
	ev->qid = req->q->qid;
	ev->cntlid = req->q->ctrl ? req->q->ctrl->cntlid : 0;
	ev->cid = req->cmd.cid;
	ev->admin = req->q->qid == 0;
	ev->conn = req->q->id;
}

void fdr_record_cmd_slow(const struct fdr_req *req)
{
	const struct fdr_rec_file_hdr *h = ring_hdr();
	struct fdr_rec_event *ev;

	if (!h || !(ev = fdr_rec_begin_at(FDR_REC_CMD, req->t_fetch)))
		return;
	req_common(ev, req);
	ev->u.cmd.sqe = req->cmd;
	/* Host memory addresses are the host's business (SGL keys too). */
	if (h->flags & FDR_REC_F_REDACT_ADDRS) {
		ev->u.cmd.sqe.mptr = 0;
		ev->u.cmd.sqe.dptr.sgl1.addr = 0;
		if ((req->cmd.flags >> NVME_CMD_FLAGS_PSDT_SHIFT) == NVME_PSDT_PRP)
			ev->u.cmd.sqe.dptr.prp2 = 0;
	}
	fdr_rec_commit(ev);
}

static void record_data(const struct fdr_req *req, uint32_t snap)
{
	uint32_t n = req->data_len < snap ? req->data_len : snap;
	const uint32_t chunk = sizeof(((struct fdr_rec_event *)0)->u.data.bytes);

	for (uint32_t off = 0; off < n; off += chunk) {
		struct fdr_rec_event *ev = fdr_rec_begin_at(FDR_REC_DATA, req->t_done);
		uint32_t len = n - off < chunk ? n - off : chunk;

		if (!ev)
			return;
		req_common(ev, req);
		ev->u.data.offset = off;
		ev->len = (uint16_t)len;
		memcpy(ev->u.data.bytes, req->buf + off, len);
		fdr_rec_commit(ev);
	}
}

void fdr_record_cpl_slow(const struct fdr_req *req)
{
	const struct fdr_rec_file_hdr *h = ring_hdr();
	struct fdr_rec_event *ev;

	if (!h)
		return;
	/* Data goes before its completion: write data arrived earlier,
	 * read data leaves with the completion. */
	if (h->snaplen && req->data_len && req->buf &&
	    (req->xfer == NVME_OPC_XFER_TO_CTRL || req->status == 0))
		record_data(req, h->snaplen);
	ev = fdr_rec_begin_at(FDR_REC_CPL, req->t_done);
	if (!ev)
		return;
	req_common(ev, req);
	ev->u.cpl.cqe = req->cpl;
	ev->u.cpl.latency_ns = req->t_done - req->t_fetch;
	ev->u.cpl.opc = req->cmd.opc;
	ev->u.cpl.fctype = ((const uint8_t *)&req->cmd)[4];
	fdr_rec_commit(ev);
}

void fdr_record_reg_slow(const struct fdr_ctrl *ctrl, bool write, uint32_t ofst, uint32_t size,
			 uint64_t value)
{
	struct fdr_rec_event *ev = fdr_rec_begin(write ? FDR_REC_REG_WRITE : FDR_REC_REG_READ);

	if (!ev)
		return;
	ev->cntlid = ctrl->cntlid;
	ev->admin = 1;
	ev->u.reg.offset = ofst;
	ev->u.reg.size = size;
	ev->u.reg.value = value;
	fdr_rec_commit(ev);
}

void fdr_record_aen_slow(const struct fdr_ctrl *ctrl, uint32_t cdw0)
{
	struct fdr_rec_event *ev = fdr_rec_begin(FDR_REC_AEN);

	if (!ev)
		return;
	ev->cntlid = ctrl->cntlid;
	ev->admin = 1;
	ev->u.cpl.cqe.cdw0 = cdw0;
	fdr_rec_commit(ev);
}

void fdr_record_pdu_slow(uint32_t conn, uint16_t qid, uint16_t cntlid, bool tx, const void *hdr,
			 uint32_t hlen)
{
	struct fdr_rec_event *ev = fdr_rec_begin(tx ? FDR_REC_PDU_TX : FDR_REC_PDU_RX);

	if (!ev)
		return;
	if (hlen > sizeof(ev->u.pdu.hdr))
		hlen = sizeof(ev->u.pdu.hdr);
	ev->conn = conn;
	ev->qid = qid;
	ev->cntlid = cntlid;
	ev->len = (uint16_t)hlen;
	memcpy(ev->u.pdu.hdr, hdr, hlen);
	fdr_rec_commit(ev);
}

void fdr_record_conn_slow(uint32_t conn, bool open, const char *text)
{
	struct fdr_rec_event *ev = fdr_rec_begin(open ? FDR_REC_CONNECT : FDR_REC_DISCONNECT);

	if (!ev)
		return;
	ev->conn = conn;
	snprintf(ev->u.text, sizeof(ev->u.text), "%s", text ? text : "");
	ev->len = (uint16_t)strlen(ev->u.text);
	fdr_rec_commit(ev);
}

void fdr_record_action_slow(const struct fdr_req *req, const char *who, const char *what,
			    uint8_t tap)
{
	struct fdr_rec_event *ev = fdr_rec_begin(FDR_REC_ACTION);

	if (!ev)
		return;
	req_common(ev, req);
	snprintf(ev->u.action.who, sizeof(ev->u.action.who), "%s", who ? who : "?");
	snprintf(ev->u.action.what, sizeof(ev->u.action.what), "%s", what);
	ev->u.action.tap = tap;
	fdr_rec_commit(ev);
}

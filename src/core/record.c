/* SPDX-License-Identifier: BSD-2-Clause */
/* Core-side events for the flight recorder (see record.h). */
#include "record.h"

#include <stdio.h>
#include <string.h>

#include "core.h"

/*
 * Each event says how many payload bytes it writes (fdr_rec_begin_n) and
 * writes all of them; the rest of the slot is left zero by the ring.  The
 * options are read from fdr_rec_w, not from the file's header, whose cache
 * line the head counter takes from core to core.  `ctl record off` between
 * the caller's check and fdr_rec_begin_n() makes it return NULL.
 */

static void req_common(struct fdr_rec_event *ev, const struct fdr_req *req)
{
	ev->qid = req->q->qid;
	ev->cntlid = req->q->ctrl ? req->q->ctrl->cntlid : 0;
	ev->cid = req->cmd.cid;
	ev->admin = req->q->qid == 0;
	ev->conn = req->q->id;
	ev->xport = req->q->xport;
}

/* An event of a PCIe function: conn names the function and its attach. */
static void pci_common(struct fdr_rec_event *ev, uint32_t conn, uint16_t cntlid)
{
	ev->xport = FDR_REC_XPORT_PCIE;
	ev->conn = conn;
	ev->cntlid = cntlid;
}

/* A controller's own event (admin side), marked with its function if it
 * has one. */
static void ctrl_common(struct fdr_rec_event *ev, const struct fdr_ctrl *ctrl)
{
	ev->cntlid = ctrl->cntlid;
	ev->admin = 1;
	if (ctrl->pci)
		pci_common(ev, ctrl->pci->rec_conn, ctrl->cntlid);
}

void fdr_record_cmd_slow(const struct fdr_req *req)
{
	struct fdr_rec_event *ev = fdr_rec_begin_n(FDR_REC_CMD, req->t_fetch, sizeof(ev->u.cmd));

	if (!ev)
		return;
	req_common(ev, req);
	ev->u.cmd.sqe = req->cmd;
	/* Host memory addresses are the host's business (SGL keys too). */
	if (fdr_rec_w.flags & FDR_REC_F_REDACT_ADDRS) {
		ev->u.cmd.sqe.mptr = 0;
		ev->u.cmd.sqe.dptr.sgl1.addr = 0;
		if ((req->cmd.flags >> NVME_CMD_FLAGS_PSDT_SHIFT) == NVME_PSDT_PRP)
			ev->u.cmd.sqe.dptr.prp2 = 0;
	}
	fdr_rec_commit(ev);
}

/* Out of line: with no snaplen (the default) the completion's path stays
 * short. */
static __attribute__((noinline)) void record_data(const struct fdr_req *req, uint32_t snap)
{
	uint32_t n = req->data_len < snap ? req->data_len : snap;
	const uint32_t chunk = sizeof(((struct fdr_rec_event *)0)->u.data.bytes);

	for (uint32_t off = 0; off < n; off += chunk) {
		uint32_t len = n - off < chunk ? n - off : chunk;
		struct fdr_rec_event *ev = fdr_rec_begin_n(FDR_REC_DATA, req->t_done,
							   (uint32_t)sizeof(ev->u.data.offset) + len);

		if (!ev)
			return;
		req_common(ev, req);
		ev->u.data.offset = off;
		ev->len = (uint16_t)len;
		memcpy(ev->u.data.bytes, fdr_req_data(req) + off, len);
		fdr_rec_commit(ev);
	}
}

void fdr_record_cpl_slow(const struct fdr_req *req)
{
	struct fdr_rec_event *ev;

	/* Data goes before its completion: write data arrived earlier,
	 * read data leaves with the completion. */
	if (fdr_rec_w.snaplen && req->data_len && req->buf &&
	    (req->xfer == NVME_OPC_XFER_TO_CTRL || req->status == 0))
		record_data(req, fdr_rec_w.snaplen);
	ev = fdr_rec_begin_n(FDR_REC_CPL, req->t_done, sizeof(ev->u.cpl));
	if (!ev)
		return;
	req_common(ev, req);
	ev->u.cpl.cqe = req->cpl;
	/* 0 if recording was switched on while the command ran. */
	ev->u.cpl.latency_ns = req->t_fetch && req->t_done > req->t_fetch ?
			       req->t_done - req->t_fetch : 0;
	ev->u.cpl.opc = req->cmd.opc;
	ev->u.cpl.fctype = ((const uint8_t *)&req->cmd)[4];
	fdr_rec_commit(ev);
}

void fdr_record_reg_slow(const struct fdr_ctrl *ctrl, bool write, uint32_t ofst, uint32_t size,
			 uint64_t value)
{
	struct fdr_rec_event *ev = fdr_rec_begin_n(write ? FDR_REC_REG_WRITE : FDR_REC_REG_READ, 0,
						   sizeof(ev->u.reg));

	if (!ev)
		return;
	ctrl_common(ev, ctrl);
	ev->u.reg.offset = ofst;
	ev->u.reg.size = size;
	ev->u.reg.value = value;
	fdr_rec_commit(ev);
}

void fdr_record_aen_slow(const struct fdr_ctrl *ctrl, uint32_t cdw0)
{
	struct fdr_rec_event *ev = fdr_rec_begin_n(FDR_REC_AEN, 0, sizeof(ev->u.cpl.cqe.cdw0));

	if (!ev)
		return;
	ctrl_common(ev, ctrl);
	ev->u.cpl.cqe.cdw0 = cdw0;
	fdr_rec_commit(ev);
}

void fdr_record_pdu_slow(uint32_t conn, uint16_t qid, uint16_t cntlid, bool tx, const void *hdr,
			 uint32_t hlen)
{
	struct fdr_rec_event *ev;

	if (hlen > sizeof(ev->u.pdu.hdr))
		hlen = sizeof(ev->u.pdu.hdr);
	ev = fdr_rec_begin_n(tx ? FDR_REC_PDU_TX : FDR_REC_PDU_RX, 0, hlen);
	if (!ev)
		return;
	ev->conn = conn;
	ev->qid = qid;
	ev->cntlid = cntlid;
	ev->len = (uint16_t)hlen;
	memcpy(ev->u.pdu.hdr, hdr, hlen);
	fdr_rec_commit(ev);
}

void fdr_record_conn_slow(uint32_t conn, uint8_t xport, bool open, const char *text)
{
	struct fdr_rec_event *ev;
	size_t n = text ? strnlen(text, sizeof(ev->u.text) - 1) : 0;

	/* The text and its NUL. */
	ev = fdr_rec_begin_n(open ? FDR_REC_CONNECT : FDR_REC_DISCONNECT, 0, (uint32_t)n + 1);
	if (!ev)
		return;
	ev->conn = conn;
	ev->xport = xport;
	memcpy(ev->u.text, text ? text : "", n);
	ev->u.text[n] = '\0';
	ev->len = (uint16_t)n;
	fdr_rec_commit(ev);
}

void fdr_record_action_slow(const struct fdr_req *req, const char *who, const char *what,
			    uint8_t tap)
{
	/* Rare: all of the payload is cleared (the strings are shorter). */
	struct fdr_rec_event *ev = fdr_rec_begin(FDR_REC_ACTION);

	if (!ev)
		return;
	req_common(ev, req);
	snprintf(ev->u.action.who, sizeof(ev->u.action.who), "%s", who ? who : "?");
	snprintf(ev->u.action.what, sizeof(ev->u.action.what), "%s", what);
	ev->u.action.tap = tap;
	fdr_rec_commit(ev);
}

void fdr_record_pci_slow(uint32_t conn, uint16_t cntlid, uint16_t kind, uint32_t ofst,
			 uint32_t size, uint64_t value)
{
	struct fdr_rec_event *ev = fdr_rec_begin_n(kind, 0, sizeof(ev->u.reg));

	if (!ev)
		return;
	pci_common(ev, conn, cntlid);
	ev->u.reg.offset = ofst;
	ev->u.reg.size = size;
	ev->u.reg.value = value;
	fdr_rec_commit(ev);
}

void fdr_record_irq_slow(uint32_t conn, uint16_t cntlid, uint16_t cqid, uint16_t vector,
			 uint8_t type, uint8_t what, uint16_t entries)
{
	struct fdr_rec_event *ev = fdr_rec_begin_n(FDR_REC_IRQ, 0, sizeof(ev->u.irq));

	if (!ev)
		return;
	pci_common(ev, conn, cntlid);
	ev->qid = cqid;
	ev->admin = cqid == 0;
	ev->u.irq.vector = vector;
	ev->u.irq.type = type;
	ev->u.irq.what = what;
	ev->u.irq.cqid = cqid;
	ev->u.irq.entries = entries;
	fdr_rec_commit(ev);
}

void fdr_record_dma_err_slow(uint32_t conn, uint16_t cntlid, uint16_t qid,
			     const struct fdr_req *req, uint64_t addr, uint32_t len, bool write,
			     uint8_t what)
{
	struct fdr_rec_event *ev = fdr_rec_begin_n(FDR_REC_DMA_ERR, 0, sizeof(ev->u.dma));

	if (!ev)
		return;
	if (req)
		req_common(ev, req);
	pci_common(ev, conn, cntlid);
	ev->qid = qid;
	ev->admin = qid == 0;
	ev->u.dma.addr = fdr_rec_w.flags & FDR_REC_F_REDACT_ADDRS ? 0 : addr;
	ev->u.dma.len = len;
	ev->u.dma.write = write;
	ev->u.dma.what = what;
	fdr_rec_commit(ev);
}

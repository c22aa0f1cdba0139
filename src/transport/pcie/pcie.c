/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NVMe PCIe function over vfio-user: see pcie.h.
 *
 * The core owns the controller registers and the queue table; this file
 * owns the rings in host memory, the doorbell page and the doorbell
 * poller; data pointers and interrupts are in pcie_dma.c and pcie_irq.c.
 * Nothing here keeps a pointer into host memory past one synchronous copy
 * (or a direct read or write, see data_direct): every access translates
 * through fdr_vfu_dma() again, so a DMA_UNMAP never leaves a stale
 * pointer behind.
 */
#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <frankendrive/plugin.h>

#include "common/log.h"
#include "core/record.h"
#include "core/tap.h"
#include "pcie_int.h"

/* ---- Helpers ------------------------------------------------------------------ */

static void db_clear(struct fdr_pcie *p, unsigned idx)
{
	__atomic_store_n(&p->db[idx], 0, __ATOMIC_RELAXED);
	if (idx < 2 * MAXQ)
		p->db_seen[idx] = p->db_val[idx] = 0;
}

/* A doorbell write the drive noticed: the register tap may change or drop
 * it, and the recorder sees what was accepted. */
static bool db_write(struct fdr_pcie *p, unsigned idx, uint64_t *v)
{
	uint32_t off = FDR_PCIE_DB_OFFSET + 4 * idx;

	if (fdr_tap_on(FDR_TAP_REGWRITE_DECODE) &&
	    fdr_tap_run_reg(FDR_TAP_REGWRITE_DECODE, pcie_cntlid(p), off, 4, v) == PLUGIN_DROP)
		return false;
	*v = (uint32_t)*v;
	FDR_RECORD(pci_slow(p->rec_conn, pcie_cntlid(p), FDR_REC_REG_WRITE, off, 4, *v));
	return true;
}

static void db_accept(struct fdr_pcie *p, unsigned idx, uint32_t v)
{
	uint64_t val = v;

	if (db_write(p, idx, &val))
		p->db_val[idx] = (uint32_t)val;
}

/* A host-memory dword of the Doorbell Buffer Config pages, or NULL. */
static uint32_t *dbbuf_slot(struct fdr_pcie *p, uint64_t page, unsigned idx, bool write)
{
	return fdr_vfu_dma(p->srv, page + 4ull * idx, 4, write);
}

/*
 * With shadow doorbells the host writes each new value into its Shadow
 * Doorbell page and rings the register only when the EventIdx we publish
 * says we may be waiting.  Both are looked at, the register first: the
 * host writes the shadow before the register, so the shadow is the newer.
 * EventIdx is the value last taken.
 */
static uint32_t db_load_shadow(struct fdr_pcie *p, unsigned idx, uint32_t mmio)
{
	uint32_t *sh = dbbuf_slot(p, p->dbbuf_shadow, idx, false);
	uint32_t *ei = dbbuf_slot(p, p->dbbuf_ei, idx, true);
	uint32_t s;

	if (mmio != p->db_seen[idx]) {
		p->db_seen[idx] = mmio;
		if (mmio != p->db_val[idx])
			db_accept(p, idx, mmio);
	}
	if (sh && (s = __atomic_load_n(sh, __ATOMIC_ACQUIRE)) != p->db_sh_seen[idx]) {
		p->db_sh_seen[idx] = s;
		if (s != p->db_val[idx])
			db_accept(p, idx, s);
	}
	if (ei && __atomic_load_n(ei, __ATOMIC_RELAXED) != p->db_val[idx])
		__atomic_store_n(ei, p->db_val[idx], __ATOMIC_RELEASE);
	return p->db_val[idx];
}

/* The doorbell of a live queue: its value once accepted. */
static uint32_t db_load(struct fdr_pcie *p, unsigned idx)
{
	uint32_t v = __atomic_load_n(&p->db[idx], __ATOMIC_ACQUIRE);

	if (__builtin_expect(p->dbbuf_shadow != 0, 0))
		return db_load_shadow(p, idx, v);
	if (__builtin_expect(v == p->db_seen[idx], 1))
		return p->db_val[idx];
	p->db_seen[idx] = v;
	db_accept(p, idx, v);
	return p->db_val[idx];
}

/* From now on only changes of doorbell idx's shadow count (what it holds
 * is old news), and its EventIdx is ei. */
static void dbbuf_track(struct fdr_pcie *p, unsigned idx, uint32_t ei_val)
{
	uint32_t *sh = dbbuf_slot(p, p->dbbuf_shadow, idx, false);
	uint32_t *ei = dbbuf_slot(p, p->dbbuf_ei, idx, true);

	p->db_sh_seen[idx] = sh ? __atomic_load_n(sh, __ATOMIC_ACQUIRE) : 0;
	if (ei)
		__atomic_store_n(ei, ei_val, __ATOMIC_RELEASE);
}

/* A new queue's doorbell starts at 0, and so does its EventIdx. */
static void db_start(struct fdr_pcie *p, unsigned idx)
{
	db_clear(p, idx);
	if (p->dbbuf_shadow)
		dbbuf_track(p, idx, 0);
}

static void fatal(struct fdr_pcie *p, const char *why)
{
	if (p->ctrl && !p->quiesced) {
		fdr_err("pcie %s: controller fatal: %s", fdr_pcie_path(p), why);
		fdr_ctrl_set_fatal(p->ctrl);
	}
	p->quiesced = true;
}

static void wait_push(struct pcie_cq *cq, struct fdr_req *req)
{
	req->tpriv[0] = 0;
	if (cq->wait_tail)
		cq->wait_tail->tpriv[0] = (uint64_t)(uintptr_t)req;
	else
		cq->wait_head = req;
	cq->wait_tail = req;
}

static struct fdr_req *wait_pop(struct pcie_cq *cq)
{
	struct fdr_req *req = cq->wait_head;

	if (req) {
		cq->wait_head = (struct fdr_req *)(uintptr_t)req->tpriv[0];
		if (!cq->wait_head)
			cq->wait_tail = NULL;
	}
	return req;
}

/* Release the waiting completions (of one SQ's queue, or all if q NULL). */
static void wait_flush(struct pcie_cq *cq, struct fdr_queue *q)
{
	struct fdr_req *keep_h = NULL, *keep_t = NULL, *req;

	while ((req = wait_pop(cq))) {
		if (q && req->q != q) {
			req->tpriv[0] = 0;
			if (keep_t)
				keep_t->tpriv[0] = (uint64_t)(uintptr_t)req;
			else
				keep_h = req;
			keep_t = req;
			continue;
		}
		fdr_req_release(req);
	}
	cq->wait_head = keep_h;
	cq->wait_tail = keep_t;
}


/* Post req's CQE; false if the CQ is full. */
static bool cq_post(struct fdr_pcie *p, struct pcie_cq *cq, struct fdr_req *req)
{
	uint16_t next = (uint16_t)((cq->tail + 1) % cq->size);
	uint8_t *e;

	if (next == cq->head || !pcie_bus_master(p))
		return false; /* it waits for room, or for Bus Master Enable */
	e = fdr_vfu_dma(p->srv, cq->base + (uint64_t)cq->tail * 16, 16, true);
	if (!e) {
		FDR_RECORD(dma_err_slow(p->rec_conn, pcie_cntlid(p), req->q->qid, req,
					cq->base + (uint64_t)cq->tail * 16, 16, true, FDR_REC_DMA_CQ));
		fatal(p, "CQ ring not mapped");
		return true; /* dropped */
	}
	memcpy(e, &req->cpl, 14);
	__atomic_store_n((uint16_t *)(e + 14), (uint16_t)((req->cpl.status & ~1u) | cq->phase),
			 __ATOMIC_RELEASE);
	cq->tail = next;
	if (next == 0)
		cq->phase ^= 1;
	pcie_irq_posted(p, cq);
	return true;
}


static void cq_drain_waiting(struct fdr_pcie *p, struct pcie_cq *cq)
{
	while (cq->wait_head && cq->live) {
		if (!cq_post(p, cq, cq->wait_head))
			return;
		fdr_req_release(wait_pop(cq));
	}
}

/* ---- Transport ops (SQs) ------------------------------------------------------- */

static bool sq_current(const struct pcie_sq *sq)
{
	struct fdr_ctrl *ctrl = sq->ctrl;

	return ctrl == sq->p->ctrl && !ctrl->dead && !ctrl->pci->resetting;
}

static uint16_t pcie_prep_data(struct fdr_req *req)
{
	struct pcie_sq *sq = req->q->tctx;

	if (req->data_len == 0)
		return 0;
	if (req->xfer != NVME_OPC_XFER_TO_CTRL && req->xfer != NVME_OPC_XFER_FROM_CTRL)
		return ST_INVALID_FIELD;
	if (!sq_current(sq))
		return ST_INTERNAL;
	return pcie_dma_walk(sq->p, req, PCIE_DMA_CHECK);
}

static void pcie_data_in(struct fdr_req *req)
{
	struct pcie_sq *sq = req->q->tctx;

	if (!sq_current(sq)) {
		fdr_req_data_in_done(req, ST_INTERNAL);
		return;
	}
	fdr_req_data_in_done(req, pcie_dma_walk(sq->p, req, PCIE_DMA_FROM_HOST));
}

/* The phase of the CQ slot the completion goes to (next, unless the CQ is
 * full and it has to wait: then a later pass may flip it). */
static uint8_t pcie_cpl_phase(const struct fdr_req *req)
{
	const struct pcie_sq *sq = req->q->tctx;

	return sq->p->cq[sq->cqid].phase;
}

static uint8_t *pcie_data_direct(struct fdr_req *req)
{
	struct pcie_sq *sq = req->q->tctx;

	return sq_current(sq) ? pcie_dma_contig(sq->p, req) : NULL;
}

static void pcie_complete(struct fdr_req *req)
{
	struct pcie_sq *sq = req->q->tctx;
	struct fdr_pcie *p = sq->p;
	struct pcie_cq *cq;

	if (!sq_current(sq) || p->quiesced) {
		fdr_req_release(req);
		return;
	}
	if (req->xfer == NVME_OPC_XFER_FROM_CTRL && req->data_len && !(req->status & 0x7ff) &&
	    !req->direct) {
		uint16_t st = pcie_dma_walk(p, req, PCIE_DMA_TO_HOST);

		if (st) {
			req->status = st;
			req->cpl.status = (uint16_t)(st << 1);
		}
	}
	cq = &p->cq[sq->cqid];
	if (!cq->live) {
		fdr_req_release(req);
		return;
	}
	if (cq->wait_head || !cq_post(p, cq, req)) {
		wait_push(cq, req);
		return;
	}
	fdr_req_release(req);
}

static void pcie_disconnect(struct fdr_queue *q, const char *reason)
{
	struct pcie_sq *sq = q->tctx;
	struct fdr_pcie *p = sq->p;

	(void)reason;
	if (p->sq[sq->qid] == sq) {
		p->sq[sq->qid] = NULL;
		db_clear(p, 2u * sq->qid);
	}
	if (sq->ctrl == p->ctrl)
		wait_flush(&p->cq[sq->cqid], q);
	if (!q->closing)
		fdr_queue_close(q);
}

/* The last step of destroy, in a later loop iteration than anything that
 * could have queued our deferred work. */
static void destroy_done(void *arg)
{
	struct fdr_pcie *p = arg;

	sem_post(&p->sem);
}

static void sq_free(struct fdr_defer *d)
{
	struct pcie_sq *sq = (struct pcie_sq *)((char *)d - offsetof(struct pcie_sq, defer));
	struct fdr_pcie *p = sq->p;

	fdr_queue_free(sq->q);
	free(sq);
	if (--p->nr_sq == 0 && p->destroying && fdr_reactor_post(p->r, destroy_done, p))
		sem_post(&p->sem);
}

static void pcie_queue_drained(struct fdr_queue *q)
{
	struct pcie_sq *sq = q->tctx;

	sq->defer.fn = sq_free;
	fdr_reactor_defer(sq->p->r, &sq->defer);
}

static const struct fdr_transport_ops pcie_ops = {
	.name = "pcie",
	.prep_data = pcie_prep_data,
	.data_in = pcie_data_in,
	.data_direct = pcie_data_direct,
	.cpl_phase = pcie_cpl_phase,
	.complete = pcie_complete,
	.disconnect = pcie_disconnect,
	.queue_drained = pcie_queue_drained,
};

/* ---- Controller ops ------------------------------------------------------------ */

static uint16_t pc_create_cq(struct fdr_ctrl *ctrl, const struct fdr_cq_params *prm)
{
	struct fdr_pcie *p = fdr_ctrl_tctx(ctrl);
	struct pcie_cq *cq = &p->cq[prm->qid];

	if (ctrl != p->ctrl || prm->qid >= MAXQ)
		return ST_INTERNAL;
	if (!fdr_vfu_dma(p->srv, prm->base, (uint64_t)prm->size * 16, true))
		return ST_INVALID_FIELD;
	memset(cq, 0, sizeof(*cq));
	cq->live = true;
	cq->ien = prm->ien;
	cq->iv = prm->iv;
	cq->size = prm->size;
	cq->base = prm->base;
	cq->phase = 1;
	p->cq_bad_head[prm->qid] = 0;
	db_start(p, 2u * prm->qid + 1);
	return 0;
}

static uint16_t pc_create_sq(struct fdr_ctrl *ctrl, const struct fdr_sq_params *prm,
			     struct fdr_queue **q)
{
	struct fdr_pcie *p = fdr_ctrl_tctx(ctrl);
	struct pcie_sq *sq;
	uint16_t nr = prm->size; /* the contract: at least the queue's size */

	if (ctrl != p->ctrl || prm->qid >= MAXQ || p->sq[prm->qid])
		return ST_INTERNAL;
	if (!fdr_vfu_dma(p->srv, prm->base, (uint64_t)prm->size * 64, false))
		return ST_INVALID_FIELD;
	sq = calloc(1, sizeof(*sq));
	if (!sq)
		return ST_INTERNAL;
	sq->p = p;
	sq->ctrl = ctrl;
	sq->qid = prm->qid;
	sq->cqid = prm->cqid;
	sq->size = prm->size;
	sq->base = prm->base;
	sq->q = fdr_queue_create(p->s->target, NULL, &pcie_ops, sq, p->r, nr, "vfio-user");
	if (!sq->q) {
		free(sq);
		return ST_INTERNAL;
	}
	sq->q->id = p->rec_conn;
	sq->q->xport = FDR_REC_XPORT_PCIE;
	p->nr_sq++;
	p->sq[prm->qid] = sq;
	db_start(p, 2u * prm->qid);
	*q = sq->q;
	return 0;
}

static void pc_delete_cq(struct fdr_ctrl *ctrl, uint16_t qid)
{
	struct fdr_pcie *p = fdr_ctrl_tctx(ctrl);

	if (ctrl != p->ctrl || qid >= MAXQ)
		return;
	wait_flush(&p->cq[qid], NULL);
	memset(&p->cq[qid], 0, sizeof(p->cq[qid]));
	db_clear(p, 2u * qid + 1);
}

static uint16_t pc_enable(struct fdr_ctrl *ctrl)
{
	struct fdr_pcie *p = fdr_ctrl_tctx(ctrl);

	p->quiesced = false;
	fdr_reactor_poller_add(p->r, &p->poller);
	return 0;
}

static void pc_disable(struct fdr_ctrl *ctrl)
{
	struct fdr_pcie *p = fdr_ctrl_tctx(ctrl);

	if (ctrl != p->ctrl)
		return;
	for (unsigned i = 0; i < MAXQ; i++) {
		wait_flush(&p->cq[i], NULL);
		memset(&p->cq[i], 0, sizeof(p->cq[i]));
	}
	memset((void *)p->db, 0, PAGE);
	p->dbbuf_shadow = p->dbbuf_ei = 0; /* a reset ends shadow doorbells */
	p->quiesced = false;
}

static uint16_t pc_dbbuf_config(struct fdr_ctrl *ctrl, uint64_t shadow, uint64_t eventidx)
{
	struct fdr_pcie *p = fdr_ctrl_tctx(ctrl);

	if (ctrl != p->ctrl)
		return ST_INTERNAL;
	if (!pcie_bus_master(p) || !fdr_vfu_dma(p->srv, shadow, PAGE, false) ||
	    !fdr_vfu_dma(p->srv, eventidx, PAGE, true))
		return ST_INVALID_FIELD;
	p->dbbuf_shadow = shadow;
	p->dbbuf_ei = eventidx;
	/* The queues that exist go on from their current values. */
	for (unsigned idx = 0; idx < 2 * MAXQ; idx++)
		dbbuf_track(p, idx, p->db_val[idx]);
	return 0;
}

static const struct fdr_ctrl_ops pcie_ctrl_ops = {
	.name = "pcie",
	.create_cq = pc_create_cq,
	.create_sq = pc_create_sq,
	.delete_cq = pc_delete_cq,
	.enable = pc_enable,
	.disable = pc_disable,
	.intm_changed = pcie_irq_intm_changed,
	.irq_config_changed = pcie_irq_config_changed,
	.dbbuf_config = pc_dbbuf_config,
};

/* ---- Doorbell poller ------------------------------------------------------------- */

static void invalid_db(struct fdr_pcie *p, uint8_t info)
{
	fdr_ctrl_raise_aen(p->ctrl, NVME_AER_TYPE_ERROR, info, NVME_LOG_ERROR);
}

/* Does doorbell dword idx belong to an existing queue? */
static bool db_live(const struct fdr_pcie *p, unsigned idx)
{
	unsigned qid = idx / 2;

	return qid < MAXQ && ((idx & 1) ? p->cq[qid].live : p->sq[qid] != NULL);
}

static int poll_cq_heads(struct fdr_pcie *p)
{
	int work = 0;

	for (unsigned qid = 0; qid < MAXQ; qid++) {
		struct pcie_cq *cq = &p->cq[qid];
		uint32_t v;

		if (!cq->live)
			continue;
		v = db_load(p, 2 * qid + 1);
		if (v == cq->head)
			continue;
		/* The new head must lie within what was posted. */
		uint32_t adv = (v + cq->size - cq->head) % cq->size;
		uint32_t posted = (uint32_t)(cq->tail + cq->size - cq->head) % cq->size;

		if (v >= cq->size || adv > posted) {
			if (p->cq_bad_head[qid] != v + 1) {
				p->cq_bad_head[qid] = v + 1;
				invalid_db(p, NVME_AER_ERR_INVALID_DB_VALUE);
			}
			continue;
		}
		cq->head = (uint16_t)v;
		pcie_irq_cq_head(p, cq);
		work++;
		cq_drain_waiting(p, cq);
	}
	return work;
}

static int poll_sq(struct fdr_pcie *p, struct pcie_sq *sq)
{
	uint32_t tail = db_load(p, 2u * sq->qid);
	int work = 0;

	if (tail == sq->head)
		return 0;
	if (tail >= sq->size) {
		if (sq->bad_tail != tail + 1) {
			sq->bad_tail = tail + 1;
			invalid_db(p, NVME_AER_ERR_INVALID_DB_VALUE);
		}
		return 0;
	}
	while (sq->head != tail && p->ctrl && !p->quiesced && p->sq[sq->qid] == sq) {
		const struct nvme_sqe *e;
		struct fdr_req *req;

		e = fdr_vfu_dma(p->srv, sq->base + (uint64_t)sq->head * 64, 64, false);
		if (!e) {
			FDR_RECORD(dma_err_slow(p->rec_conn, pcie_cntlid(p), sq->qid, NULL,
						sq->base + (uint64_t)sq->head * 64, 64, false,
						FDR_REC_DMA_SQ));
			fatal(p, "SQ ring not mapped");
			break;
		}
		req = fdr_req_get(sq->q);
		if (!req)
			break; /* all in flight: fetch more once some complete */
		memcpy(&req->cmd, e, sizeof(req->cmd));
		sq->head = (uint16_t)((sq->head + 1) % sq->size);
		work++;
		fdr_req_submit(req);
	}
	return work;
}

static int poll_fn(struct fdr_poller *pl)
{
	struct fdr_pcie *p = (struct fdr_pcie *)((char *)pl - offsetof(struct fdr_pcie, poller));
	int work = 0;

	if (!p->ctrl || p->quiesced || !fdr_ctrl_ready(p->ctrl) || p->ctrl->pci->resetting ||
	    !pcie_bus_master(p))
		return 0;
	work += poll_cq_heads(p);
	for (unsigned qid = 0; qid < MAXQ && p->ctrl && !p->quiesced; qid++) {
		struct pcie_sq *sq = p->sq[qid];

		if (sq && sq->q->ctrl)
			work += poll_sq(p, sq);
	}
	/* Doorbells of queues that do not exist: a host error, so the whole
	 * page is scanned every DB_SCAN_ROUNDS rounds, not on every one. */
	if (!p->ctrl || p->quiesced || (++p->db_scan_round & (DB_SCAN_ROUNDS - 1)))
		return work;
	for (unsigned i = 0; i < NR_DB; i++) {
		uint64_t v;

		if (db_live(p, i) || !p->db[i])
			continue;
		v = p->db[i];
		db_clear(p, i);
		if (db_write(p, i, &v))
			invalid_db(p, NVME_AER_ERR_INVALID_DB_REGISTER);
		work++;
	}
	return work;
}

/* ---- vfio-user device ------------------------------------------------------------ */

static int bar0_access(struct fdr_pcie *p, uint64_t off, uint8_t *buf, uint32_t count,
		       bool is_write)
{
	if (off < FDR_PCIE_DB_OFFSET) {
		uint64_t v = 0;

		if (!p->ctrl || (count != 4 && count != 8) || off + count > FDR_PCIE_DB_OFFSET)
			return -EINVAL;
		if (is_write) {
			memcpy(&v, buf, count);
			return fdr_ctrl_reg_write(p->ctrl, (uint32_t)off, count, v) ? -EINVAL : 0;
		}
		if (fdr_ctrl_reg_read(p->ctrl, (uint32_t)off, count, &v))
			return -EINVAL;
		memcpy(buf, &v, count);
		return 0;
	}
	if (off < FDR_PCIE_MSIX_TABLE) {
		uint8_t *db = (uint8_t *)p->db + (off - FDR_PCIE_DB_OFFSET);

		if (off + count > FDR_PCIE_MSIX_TABLE)
			return -EINVAL;
		if (is_write && p->ctrl && fdr_ctrl_ready(p->ctrl) && !p->ctrl->pci->resetting &&
		    !db_live(p, (unsigned)(off - FDR_PCIE_DB_OFFSET) / 4)) {
			/* Seen as it happens here: a write of any value to the
			 * doorbell of a queue that does not exist is ignored. */
			uint64_t v = 0;

			memcpy(&v, buf, count < 8 ? count : 8);
			if (db_write(p, (unsigned)(off - FDR_PCIE_DB_OFFSET) / 4, &v))
				invalid_db(p, NVME_AER_ERR_INVALID_DB_REGISTER);
			return 0;
		}
		if (is_write) {
			memcpy(db, buf, count);
			__atomic_thread_fence(__ATOMIC_RELEASE);
			fdr_reactor_poller_kick(p->r);
		} else {
			memcpy(buf, db, count);
		}
		return 0;
	}
	return pcie_msix_access(p, off, buf, count, is_write);
}

static void dev_reset(void *dev);
static void function_reset(struct fdr_pcie *p);

/* Bus Master Enable may have come on: completions that waited for it go
 * out, and the poller looks at the doorbells again at once. */
static void bus_master_check(struct fdr_pcie *p)
{
	if (!pcie_bus_master(p) || !p->ctrl)
		return;
	for (unsigned qid = 0; qid < MAXQ; qid++)
		if (p->cq[qid].live && p->cq[qid].wait_head)
			cq_drain_waiting(p, &p->cq[qid]);
	fdr_reactor_poller_kick(p->r);
}

/* One config access of 1, 2 or 4 bytes, through the pci: taps.  True if
 * it was a write that initiates a Function Level Reset. */
static bool cfg_piece(struct fdr_pcie *p, uint32_t off, uint8_t *buf, uint32_t n, bool is_write)
{
	const uint32_t flr_byte = FDR_PCIE_CAP_EXP + 9; /* Device Control bit 15 */
	uint64_t v = 0;

	if (is_write) {
		memcpy(&v, buf, n);
		if (fdr_tap_on(FDR_TAP_PCI_REGWRITE_DECODE) &&
		    fdr_tap_run_reg(FDR_TAP_PCI_REGWRITE_DECODE, pcie_cntlid(p), off, n, &v) ==
			    PLUGIN_DROP)
			return false;
		FDR_RECORD(pci_slow(p->rec_conn, pcie_cntlid(p), FDR_REC_CFG_WRITE, off, n, v));
		fdr_pcie_config_write(p->cfg, off, (const uint8_t *)&v, n);
		return off <= flr_byte && flr_byte < off + n &&
		       ((const uint8_t *)&v)[flr_byte - off] & 0x80;
	}
	memcpy(&v, p->cfg + off, n);
	if (fdr_tap_on(FDR_TAP_PCI_REGREAD_WRITEBACK))
		fdr_tap_run_reg(FDR_TAP_PCI_REGREAD_WRITEBACK, pcie_cntlid(p), off, n, &v);
	FDR_RECORD(pci_slow(p->rec_conn, pcie_cntlid(p), FDR_REC_CFG_READ, off, n, v));
	memcpy(buf, &v, n);
	return false;
}

/* Config space in naturally aligned pieces of at most 4 bytes, as a
 * root complex would issue them (the server checked the bounds). */
static void cfg_access(struct fdr_pcie *p, uint32_t off, uint8_t *buf, uint32_t count,
		       bool is_write)
{
	bool flr = false;

	while (count) {
		uint32_t n = (off & 3) == 0 && count >= 4 ? 4 : (off & 1) == 0 && count >= 2 ? 2 : 1;

		flr |= cfg_piece(p, off, buf, n, is_write);
		off += n;
		buf += n;
		count -= n;
	}
	if (flr) {
		function_reset(p);
	} else if (is_write) {
		pcie_irq_config_written(p);
		bus_master_check(p);
	}
}

static int dev_access(void *dev, unsigned region, uint64_t offset, void *buf, uint32_t count,
		      bool is_write)
{
	struct fdr_pcie *p = dev;

	if (region == FDR_VFU_REGION_CONFIG) {
		cfg_access(p, (uint32_t)offset, buf, count, is_write);
		return 0;
	}
	if (region == FDR_VFU_REGION_BAR0)
		return bar0_access(p, offset, buf, count, is_write);
	return -EINVAL;
}

static bool overlaps(uint64_t base, uint64_t len, uint64_t iova, uint64_t ilen)
{
	return base < iova + ilen && iova < base + len;
}

/* Nothing here holds a pointer into host memory, so an unmap needs no
 * action: a queue whose memory is gone fails (fatal) only when the
 * controller needs it, and works on if the host maps it again.  Hosts
 * unmap queues after a shutdown without disabling (SPDK does). */
static void dev_dma_unmap(void *dev, uint64_t iova, uint64_t len)
{
	struct fdr_pcie *p = dev;

	if (!p->ctrl)
		return;
	for (unsigned qid = 0; qid < MAXQ; qid++) {
		struct pcie_cq *cq = &p->cq[qid];
		struct pcie_sq *sq = p->sq[qid];

		if ((cq->live && overlaps(cq->base, (uint64_t)cq->size * 16, iova, len)) ||
		    (sq && overlaps(sq->base, (uint64_t)sq->size * 64, iova, len)))
			fdr_debug("pcie %s: queue %u's memory unmapped", fdr_pcie_path(p), qid);
	}
}

/* Function Level Reset: the controller resets and config space returns
 * to its initial state (the host restores BARs and MSI-X, as around any
 * FLR); DMA maps and eventfds are the client's and stay. */
static void function_reset(struct fdr_pcie *p)
{
	fdr_info("pcie %s: function level reset", fdr_pcie_path(p));
	dev_reset(p);
	fdr_pcie_config_init(p->cfg, &p->opts);
}

static void dev_reset(void *dev)
{
	struct fdr_pcie *p = dev;

	if (p->ctrl)
		fdr_ctrl_reg_write(p->ctrl, NVME_REG_CC, 4, 0);
	put16(p->cfg, 0x04, 0);
	pcie_irq_reset(p);
}

static void dev_attach(void *dev)
{
	struct fdr_pcie *p = dev;
	struct fdr_ctrl_pci_params prm = {
		.nr_vectors = FDR_PCIE_NR_VECTORS,
		.vid = get16(p->cfg, 0x00),
		.ssvid = get16(p->cfg, 0x2c),
		.sgls = PCIE_DMA_SGLS,
	};

	fdr_pcie_config_init(p->cfg, &p->opts);
	memset(p->msix_table, 0, sizeof(p->msix_table));
	memset((void *)p->db, 0, PAGE);
	memset(p->cq, 0, sizeof(p->cq));
	p->dbbuf_shadow = p->dbbuf_ei = 0;
	p->quiesced = false;
	p->rec_conn = FDR_REC_PCI_CONN(++p->attach_gen, p->opts.bdf);
	prm.rec_conn = p->rec_conn;
	FDR_RECORD(conn_slow(p->rec_conn, FDR_REC_XPORT_PCIE, true, fdr_pcie_path(p)));
	p->ctrl = fdr_ctrl_create_pci(p->s, p->r, &pcie_ctrl_ops, p, &prm);
	if (!p->ctrl)
		fdr_err("pcie %s: no controller slot left", fdr_pcie_path(p));
	fdr_reactor_poller_add(p->r, &p->poller);
}

static void dev_detach(void *dev)
{
	struct fdr_pcie *p = dev;
	struct fdr_ctrl *ctrl = p->ctrl;

	fdr_reactor_poller_del(p->r, &p->poller);
	if (!ctrl)
		return;
	FDR_RECORD(conn_slow(p->rec_conn, FDR_REC_XPORT_PCIE, false, "vfio-user client gone"));
	pcie_irq_detach(p);
	fdr_ctrl_teardown(ctrl, "vfio-user client gone");
	for (unsigned i = 0; i < MAXQ; i++) {
		wait_flush(&p->cq[i], NULL);
		memset(&p->cq[i], 0, sizeof(p->cq[i]));
	}
	p->ctrl = NULL;
	fdr_ctrl_put(ctrl);
}

static const struct fdr_vfu_ops dev_ops = {
	.access = dev_access,
	.dma_unmap = dev_dma_unmap,
	.reset = dev_reset,
	.irqs_changed = pcie_irq_vfu_changed,
	.attach = dev_attach,
	.detach = dev_detach,
};

/* ---- Life cycle -------------------------------------------------------------------- */

static void create_on_reactor(void *arg)
{
	struct fdr_pcie *p = arg;
	struct fdr_vfu_desc d;

	memset(&d, 0, sizeof(d));
	d.name = "nvme";
	d.regions[FDR_VFU_REGION_BAR0] = (struct fdr_vfu_region){
		.size = FDR_PCIE_BAR0_SIZE,
		.flags = FDR_VFU_R_READ | FDR_VFU_R_WRITE,
		.mmap_offset = FDR_PCIE_DB_OFFSET,
		.mmap_size = PAGE,
		.fd = p->db_fd,
		.fd_offset = 0,
	};
	d.regions[FDR_VFU_REGION_CONFIG] = (struct fdr_vfu_region){
		.size = FDR_PCIE_CONFIG_SIZE,
		.flags = FDR_VFU_R_READ | FDR_VFU_R_WRITE,
		.fd = -1,
	};
	for (unsigned i = 0; i < FDR_VFU_NUM_REGIONS; i++)
		if (i != FDR_VFU_REGION_BAR0)
			d.regions[i].fd = -1;
	d.irq_count[FDR_VFU_IRQ_INTX] = 1;
	d.irq_count[FDR_VFU_IRQ_MSIX] = FDR_PCIE_NR_VECTORS;
	p->srv = fdr_vfu_server_create(p->c_dir, p->r, &d, &dev_ops, p, p->c_err, p->c_errlen);
	p->c_rc = p->srv ? 0 : -1;
	sem_post(&p->sem);
}

struct fdr_pcie *fdr_pcie_create(const char *dir, struct fdr_subsys *s, struct fdr_reactor *r,
				 const struct fdr_pcie_opts *o, char *err, size_t errlen)
{
	struct fdr_pcie *p = calloc(1, sizeof(*p));

	if (!p) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	p->r = r;
	p->s = s;
	if (o)
		p->opts = *o;
	p->poller.fn = poll_fn;
	p->irq_defer.fn = pcie_irq_flush;
	fdr_pcie_config_init(p->cfg, &p->opts);
	sem_init(&p->sem, 0, 0);
	p->db_fd = memfd_create("frankendrive-doorbells", MFD_CLOEXEC);
	if (p->db_fd < 0 || ftruncate(p->db_fd, DB_FILE_SIZE) < 0) {
		snprintf(err, errlen, "doorbell memfd: %s", strerror(errno));
		goto fail;
	}
	p->db_map = mmap(NULL, DB_FILE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, p->db_fd, 0);
	if (p->db_map == MAP_FAILED) {
		p->db_map = NULL;
		snprintf(err, errlen, "doorbell mmap: %s", strerror(errno));
		goto fail;
	}
	p->db = (volatile uint32_t *)(p->db_map + FDR_PCIE_DB_OFFSET);
	p->c_dir = dir;
	p->c_err = err;
	p->c_errlen = errlen;
	if (fdr_reactor_post(r, create_on_reactor, p)) {
		snprintf(err, errlen, "cannot post to the reactor");
		goto fail;
	}
	while (sem_wait(&p->sem) && errno == EINTR)
		;
	if (p->c_rc)
		goto fail;
	return p;
fail:
	if (p->db_map)
		munmap(p->db_map, DB_FILE_SIZE);
	if (p->db_fd >= 0)
		close(p->db_fd);
	sem_destroy(&p->sem);
	free(p);
	return NULL;
}

static void destroy_on_reactor(void *arg)
{
	struct fdr_pcie *p = arg;

	p->destroying = true;
	fdr_vfu_server_destroy(p->srv); /* detaches: the controller goes */
	dev_detach(p);
	if (p->nr_sq == 0 && fdr_reactor_post(p->r, destroy_done, p))
		sem_post(&p->sem);
}

void fdr_pcie_destroy(struct fdr_pcie *p)
{
	if (!p)
		return;
	if (fdr_reactor_post(p->r, destroy_on_reactor, p) == 0)
		while (sem_wait(&p->sem) && errno == EINTR)
			;
	munmap(p->db_map, DB_FILE_SIZE);
	close(p->db_fd);
	sem_destroy(&p->sem);
	free(p);
}

const char *fdr_pcie_path(const struct fdr_pcie *p)
{
	return p->srv ? fdr_vfu_server_path(p->srv) : "?";
}

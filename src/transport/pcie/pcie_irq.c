/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Interrupts of the PCIe function, the MSI-X table and the PBA in BAR0.
 *
 * Posting CQEs marks the CQ; at the end of the reactor loop iteration each
 * vector with new entries is signalled once, unless Interrupt Coalescing
 * (Set Features 08h) holds it back: then it is signalled once THR + 1
 * entries have aggregated, or TIME x 100 us after the first one (a reactor
 * timer).  Never held back for the admin CQ, nor for a vector whose
 * Interrupt Vector Configuration (09h) has CD set; THR or TIME 0 turns
 * coalescing off.  An aggregation whose entries the host consumed
 * meanwhile (it polled) ends without an interrupt.
 *
 * MSI-X when Message Control's MSI-X Enable is set (PCI Local Bus 3.0,
 * 6.8.2): a vector masked by its table entry or by Function Mask gets its
 * Pending Bit instead, and the message goes out once it is unmasked, unless
 * the host consumed the vector's entries meanwhile (the bit then clears,
 * as 6.8.2.9 asks).  A vector without an eventfd loses the message (the
 * server counts it).
 *
 * Otherwise INTx, a level as in NVMe over PCIe 3.5.1: vector v's interrupt
 * status bit is set when v is signalled and clears once the host consumed
 * every entry of v's CQs; the line is asserted while a status bit INTMS
 * does not mask is set and the command register's INTx Disable is clear.
 * Over vfio-user the line is an eventfd the server automasks after each
 * trigger, as VFIO does: asserted and unmasked means a trigger, so an
 * unmask while still asserted triggers again.
 */
#include <stdlib.h>
#include <string.h>

#include <frankendrive/plugin.h>

#include "core/core.h"
#include "core/record.h"
#include "core/tap.h"
#include "pcie_int.h"

_Static_assert(FDR_PCIE_NR_VECTORS <= 32, "vector bitmaps are 32 bits");

#define MSIX_CTRL (FDR_PCIE_CAP_MSIX + 3) /* Message Control, upper byte */
#define MSIX_ENABLE 0x80u
#define MSIX_FMASK 0x40u
#define CMD_INTX_DISABLE 0x400u
#define VEC_CTRL 12u   /* Vector Control in a 16-byte table entry */
#define PBA_BYTES 8u   /* one QWORD holds the 32 Pending Bits */
#define ALL_VECTORS (~0u >> (32 - FDR_PCIE_NR_VECTORS))

/*
 * The aggregation timer is on the heap and holds a controller reference:
 * the function can be freed while it is armed (nothing tells this file of
 * a detach unless pcie.c calls pcie_irq_detach()), and a controller that
 * is not dead proves its function is still there.
 */
struct pcie_irq_timer {
	struct fdr_timer t;
	struct fdr_ctrl *ctrl;
};

static void vec_fire(struct fdr_pcie *p, unsigned v);

static unsigned next_bit(uint32_t *mask)
{
	unsigned v = (unsigned)__builtin_ctz(*mask);

	*mask &= *mask - 1;
	return v;
}

static void rec_irq(struct fdr_pcie *p, uint16_t cqid, uint16_t vector, uint8_t type,
		    uint8_t what, uint32_t entries)
{
	FDR_RECORD(irq_slow(p->rec_conn, pcie_cntlid(p), cqid, vector, type, what,
			    (uint16_t)(entries > 0xffff ? 0xffff : entries)));
	(void)p, (void)cqid, (void)vector, (void)type, (void)what, (void)entries;
}

/* pci:msix:writeback; false if a callback dropped the interrupt. */
static bool irq_tap(struct fdr_pcie *p, uint32_t vector, uint16_t cqid)
{
	if (!fdr_tap_on(FDR_TAP_PCI_MSIX_WRITEBACK))
		return true;
	struct fdr_tap_ctx tc = {.dev = pcie_cntlid(p), .offset = vector, .sqid = cqid};

	return fdr_tap_run(FDR_TAP_PCI_MSIX_WRITEBACK, &tc) != PLUGIN_DROP;
}

/* ---- State ------------------------------------------------------------------------ */

static void irq_state_clear(struct fdr_pcie *p)
{
	memset(p->vec, 0, sizeof(p->vec));
	p->irq_pba = p->irq_is = 0;
	p->irq_msix = p->intx_level = false;
}

/* A new client got a fresh controller: what the last one left is void
 * (its timer, holding the old controller, frees itself when it fires). */
static void irq_sync(struct fdr_pcie *p)
{
	if (p->irq_gen == p->attach_gen)
		return;
	irq_state_clear(p);
	p->irq_timer = NULL;
	p->irq_gen = p->attach_gen;
}

static bool msix_on(const struct fdr_pcie *p)
{
	return p->cfg[MSIX_CTRL] & MSIX_ENABLE;
}

static bool msix_masked(const struct fdr_pcie *p, unsigned v)
{
	/* The table keeps Mask inverted: all zeroes, as attach and reset
	 * leave it, is every vector masked (the PCI reset state). */
	return (p->cfg[MSIX_CTRL] & MSIX_FMASK) || !(p->msix_table[v * 16 + VEC_CTRL] & 1);
}

/* Entries of cq the host has not consumed, counting a head doorbell write
 * the poller has not picked up yet (a host unmasks INTx right after it). */
static uint32_t cq_unconsumed(const struct fdr_pcie *p, const struct pcie_cq *cq)
{
	unsigned qid = (unsigned)(cq - p->cq);
	uint32_t posted = (uint32_t)(cq->tail + cq->size - cq->head) % cq->size;
	uint32_t h = __atomic_load_n(&p->db[2 * qid + 1], __ATOMIC_ACQUIRE);

	if (h < cq->size && (h + cq->size - cq->head) % cq->size <= posted)
		return (uint32_t)(cq->tail + cq->size - h) % cq->size;
	return posted;
}

/* Which vectors of mask have entries the host has not consumed; their
 * number in *entries (if not NULL). */
static uint32_t busy_vectors(const struct fdr_pcie *p, uint32_t mask, uint32_t *entries)
{
	uint32_t busy = 0, n = 0;

	for (unsigned qid = 0; qid < MAXQ; qid++) {
		const struct pcie_cq *cq = &p->cq[qid];
		uint32_t u;

		if (!cq->live || !cq->ien || cq->iv >= FDR_PCIE_NR_VECTORS ||
		    !(mask & 1u << cq->iv))
			continue;
		u = cq_unconsumed(p, cq);
		if (u) {
			busy |= 1u << cq->iv;
			n += u;
		}
	}
	if (entries)
		*entries = n;
	return busy;
}

/* ---- INTx ------------------------------------------------------------------------- */

static uint32_t intx_live(const struct fdr_pcie *p)
{
	if (msix_on(p) || (get16(p->cfg, 0x04) & CMD_INTX_DISABLE) || !p->ctrl)
		return 0;
	return p->irq_is & ~fdr_ctrl_intms(p->ctrl);
}

/* Re-evaluate the line: asserted and not masked by the client (the server
 * automasks it after each trigger) means a trigger. */
static void intx_update(struct fdr_pcie *p)
{
	uint32_t live = intx_live(p), entries;
	uint16_t cqid;

	if (!live) {
		if (p->intx_level)
			rec_irq(p, 0, 0, FDR_REC_IRQ_INTX, FDR_REC_IRQ_DEASSERT, 0);
		p->intx_level = false;
		return;
	}
	p->intx_level = true;
	if (fdr_vfu_irq_masked(p->srv, FDR_VFU_IRQ_INTX, 0))
		return;
	cqid = p->vec[__builtin_ctz(live)].cqid;
	busy_vectors(p, live, &entries);
	if (!irq_tap(p, PLUGIN_IRQ_INTX, cqid)) {
		rec_irq(p, cqid, 0, FDR_REC_IRQ_INTX, FDR_REC_IRQ_DROPPED, entries);
		return;
	}
	fdr_vfu_irq_trigger(p->srv, FDR_VFU_IRQ_INTX, 0);
	rec_irq(p, cqid, 0, FDR_REC_IRQ_INTX, FDR_REC_IRQ_SENT, entries);
}

/* ---- MSI-X ------------------------------------------------------------------------ */

static void msix_send(struct fdr_pcie *p, unsigned v)
{
	struct pcie_vec *vec = &p->vec[v];
	uint16_t entries = vec->agg;

	vec->agg = 0;
	vec->deadline_ns = 0;
	if (!irq_tap(p, v, vec->cqid)) {
		rec_irq(p, vec->cqid, (uint16_t)v, FDR_REC_IRQ_MSIX, FDR_REC_IRQ_DROPPED, entries);
		return;
	}
	/* Without an eventfd the server counts it lost. */
	fdr_vfu_irq_trigger(p->srv, FDR_VFU_IRQ_MSIX, v);
	rec_irq(p, vec->cqid, (uint16_t)v, FDR_REC_IRQ_MSIX, FDR_REC_IRQ_SENT, entries);
}

static void msix_signal(struct fdr_pcie *p, unsigned v)
{
	if (!msix_masked(p, v)) {
		msix_send(p, v);
		return;
	}
	/* Entries keep aggregating into the pending message. */
	if (!(p->irq_pba & 1u << v))
		rec_irq(p, p->vec[v].cqid, (uint16_t)v, FDR_REC_IRQ_MSIX, FDR_REC_IRQ_PENDING,
			p->vec[v].agg);
	p->irq_pba |= 1u << v;
	p->vec[v].deadline_ns = 0;
}

/* Send what is pending and no longer masked; drop what the host has
 * consumed meanwhile. */
static void msix_deliver_pending(struct fdr_pcie *p)
{
	uint32_t ready = 0, busy, m;

	if (!p->irq_pba || !msix_on(p))
		return;
	for (m = p->irq_pba; m;) {
		unsigned v = next_bit(&m);

		if (!msix_masked(p, v))
			ready |= 1u << v;
	}
	if (!ready)
		return;
	busy = busy_vectors(p, ready, NULL);
	p->irq_pba &= ~ready;
	while (ready) {
		unsigned v = next_bit(&ready);

		if (busy & 1u << v)
			msix_send(p, v);
		else
			p->vec[v].agg = 0;
	}
}

/* The host consumed every entry of the vectors in mask: whatever they
 * had pending or asserted is satisfied. */
static void vec_serviced(struct fdr_pcie *p, uint32_t mask)
{
	uint32_t pba = p->irq_pba & mask;

	while (pba)
		p->vec[next_bit(&pba)].agg = 0;
	p->irq_pba &= ~mask;
	if (p->irq_is & mask) {
		p->irq_is &= ~mask;
		intx_update(p);
	}
}

/* ---- Signalling and coalescing ---------------------------------------------------- */

static void vec_fire(struct fdr_pcie *p, unsigned v)
{
	if (msix_on(p)) {
		msix_signal(p, v);
		return;
	}
	p->vec[v].agg = 0;
	p->vec[v].deadline_ns = 0;
	p->irq_is |= 1u << v;
	intx_update(p);
}

/* Aggregations in mask end now: signal those with unconsumed entries. */
static void vec_expire(struct fdr_pcie *p, uint32_t mask)
{
	uint32_t busy = mask ? busy_vectors(p, mask, NULL) : 0;

	while (mask) {
		unsigned v = next_bit(&mask);

		if (busy & 1u << v) {
			vec_fire(p, v);
		} else {
			p->vec[v].agg = 0;
			p->vec[v].deadline_ns = 0;
		}
	}
}

static void timer_fn(struct fdr_timer *t);

/* Have the timer fire by at (CLOCK_MONOTONIC ns); false without memory. */
static bool timer_want(struct fdr_pcie *p, uint64_t at)
{
	struct pcie_irq_timer *h = p->irq_timer;
	uint64_t now = fdr_now_ns();

	if (h && h->t.armed && h->t.deadline_ns <= at)
		return true;
	if (!h) {
		h = calloc(1, sizeof(*h));
		if (!h)
			return false;
		h->t.fn = timer_fn;
		h->ctrl = p->ctrl;
		fdr_ctrl_get(h->ctrl);
		p->irq_timer = h;
	}
	fdr_timer_arm(p->r, &h->t, at > now ? at - now : 0);
	return true;
}

static void irq_expire(struct fdr_pcie *p)
{
	uint64_t now = fdr_now_ns(), next = 0;
	uint32_t due = 0, later = 0;

	for (unsigned v = 0; v < FDR_PCIE_NR_VECTORS; v++) {
		uint64_t d = p->vec[v].deadline_ns;

		if (!d)
			continue;
		if (d <= now) {
			due |= 1u << v;
		} else {
			later |= 1u << v;
			if (!next || d < next)
				next = d;
		}
	}
	vec_expire(p, due);
	if (next && !timer_want(p, next))
		vec_expire(p, later); /* never leave an aggregation without an end */
}

static void timer_fn(struct fdr_timer *t)
{
	struct pcie_irq_timer *h =
		(struct pcie_irq_timer *)((char *)t - offsetof(struct pcie_irq_timer, t));
	struct fdr_ctrl *ctrl = h->ctrl;
	struct fdr_pcie *p = ctrl->dead ? NULL : fdr_ctrl_tctx(ctrl);

	if (p && p->ctrl == ctrl && p->irq_timer == h) {
		irq_expire(p);
		if (h->t.armed)
			return;
		p->irq_timer = NULL;
	}
	fdr_ctrl_put(ctrl);
	free(h);
}

/* New entries on vector v: signal now, or aggregate. */
static void vec_posted(struct fdr_pcie *p, unsigned v, bool coalesce, uint8_t thr, uint8_t time)
{
	struct pcie_vec *vec = &p->vec[v];

	/* Signalled and not serviced yet: that covers these entries too. */
	if (msix_on(p) ? p->irq_pba & 1u << v : p->irq_is & 1u << v) {
		if (!msix_on(p))
			vec->agg = 0;
		return;
	}
	if (!coalesce || vec->agg > thr) {
		vec_fire(p, v);
		return;
	}
	if (vec->deadline_ns)
		return;
	vec->deadline_ns = fdr_now_ns() + time * 100000ull;
	if (!timer_want(p, vec->deadline_ns))
		vec_fire(p, v);
}

void pcie_irq_flush(struct fdr_defer *d)
{
	struct fdr_pcie *p = (struct fdr_pcie *)((char *)d - offsetof(struct fdr_pcie, irq_defer));
	uint32_t touched = 0, urgent = 0;
	uint8_t thr = 0, time = 0;
	bool ok;

	irq_sync(p);
	ok = p->ctrl && !p->ctrl->dead;
	if (ok)
		fdr_ctrl_irq_coalescing(p->ctrl, &thr, &time);
	for (unsigned qid = 0; qid < MAXQ; qid++) {
		struct pcie_cq *cq = &p->cq[qid];
		struct pcie_vec *vec;
		uint32_t n;

		if (!cq->irq_pending)
			continue;
		n = cq->irq_new;
		cq->irq_pending = false;
		cq->irq_new = 0;
		if (!ok || !cq->live || !cq->ien || cq->iv >= FDR_PCIE_NR_VECTORS)
			continue;
		vec = &p->vec[cq->iv];
		vec->agg = (uint16_t)(vec->agg + n > 0xffff ? 0xffff : vec->agg + n);
		vec->cqid = (uint16_t)qid;
		touched |= 1u << cq->iv;
		/* Never coalesced: the admin CQ, a vector with CD set. */
		if (qid == 0 || !thr || !time || fdr_ctrl_irq_cd(p->ctrl, cq->iv))
			urgent |= 1u << cq->iv;
	}
	while (touched) {
		unsigned v = next_bit(&touched);

		vec_posted(p, v, !(urgent & 1u << v), thr, time);
	}
}

void pcie_irq_posted(struct fdr_pcie *p, struct pcie_cq *cq)
{
	if (!cq->ien)
		return;
	if (cq->irq_new != 0xffff)
		cq->irq_new++;
	if (!cq->irq_pending) {
		cq->irq_pending = true;
		fdr_reactor_defer(p->r, &p->irq_defer);
	}
}

/* ---- The MSI-X table and PBA ------------------------------------------------------- */

static uint8_t msix_get(const struct fdr_pcie *p, uint64_t off)
{
	if (off >= FDR_PCIE_MSIX_PBA) {
		off -= FDR_PCIE_MSIX_PBA;
		return off < 4 ? (uint8_t)(p->irq_pba >> (8 * off)) : 0;
	}
	off -= FDR_PCIE_MSIX_TABLE;
	if (off >= sizeof(p->msix_table) || off % 16 > VEC_CTRL)
		return 0; /* beyond the table; Vector Control's reserved bits */
	if (off % 16 == VEC_CTRL)
		return (uint8_t)(~p->msix_table[off] & 1);
	return p->msix_table[off];
}

static void msix_put(struct fdr_pcie *p, uint64_t off, uint8_t b)
{
	if (off >= FDR_PCIE_MSIX_PBA)
		return; /* the PBA is read-only */
	off -= FDR_PCIE_MSIX_TABLE;
	if (off >= sizeof(p->msix_table) || off % 16 > VEC_CTRL)
		return;
	p->msix_table[off] = off % 16 == VEC_CTRL ? (uint8_t)(~b & 1) : b;
}

static void msix_read(struct fdr_pcie *p, uint64_t off, uint8_t *buf, uint32_t n)
{
	uint64_t v = 0;

	/* Pending Bits whose entries the host has consumed read as clear. */
	if (p->irq_pba && off < FDR_PCIE_MSIX_PBA + PBA_BYTES && off + n > FDR_PCIE_MSIX_PBA)
		vec_serviced(p, p->irq_pba & ~busy_vectors(p, p->irq_pba, NULL));
	for (uint32_t i = 0; i < n; i++)
		v |= (uint64_t)msix_get(p, off + i) << (8 * i);
	if (fdr_tap_on(FDR_TAP_MSIXREAD_WRITEBACK))
		fdr_tap_run_reg(FDR_TAP_MSIXREAD_WRITEBACK, pcie_cntlid(p), (uint32_t)off, n, &v);
	FDR_RECORD(pci_slow(p->rec_conn, pcie_cntlid(p), FDR_REC_REG_READ, (uint32_t)off, n, v));
	for (uint32_t i = 0; i < n; i++)
		buf[i] = (uint8_t)(v >> (8 * i));
}

static void msix_write(struct fdr_pcie *p, uint64_t off, const uint8_t *buf, uint32_t n)
{
	uint64_t v = 0;

	for (uint32_t i = 0; i < n; i++)
		v |= (uint64_t)buf[i] << (8 * i);
	if (fdr_tap_on(FDR_TAP_MSIXWRITE_DECODE) &&
	    fdr_tap_run_reg(FDR_TAP_MSIXWRITE_DECODE, pcie_cntlid(p), (uint32_t)off, n, &v) == PLUGIN_DROP)
		return; /* a callback swallowed the write */
	FDR_RECORD(pci_slow(p->rec_conn, pcie_cntlid(p), FDR_REC_REG_WRITE, (uint32_t)off, n, v));
	for (uint32_t i = 0; i < n; i++)
		msix_put(p, off + i, (uint8_t)(v >> (8 * i)));
}

int pcie_msix_access(struct fdr_pcie *p, uint64_t off, uint8_t *buf, uint32_t count, bool is_write)
{
	irq_sync(p);
	/* Taps and the recorder see accesses of at most a QWORD. */
	for (uint32_t done = 0, n; done < count; done += n) {
		n = count - done < 8 ? count - done : 8;
		if (is_write)
			msix_write(p, off + done, buf + done, n);
		else
			msix_read(p, off + done, buf + done, n);
	}
	if (is_write)
		msix_deliver_pending(p);
	return 0;
}

/* ---- Hooks from pcie.c ------------------------------------------------------------- */

void pcie_irq_cq_head(struct fdr_pcie *p, struct pcie_cq *cq)
{
	uint32_t bit;

	irq_sync(p);
	if (!cq->ien || cq->head != cq->tail || cq->iv >= FDR_PCIE_NR_VECTORS)
		return;
	bit = 1u << cq->iv;
	if (!((p->irq_pba | p->irq_is) & bit) || busy_vectors(p, bit, NULL))
		return;
	vec_serviced(p, bit);
}

void pcie_irq_config_written(struct fdr_pcie *p)
{
	bool msix;

	irq_sync(p);
	msix = msix_on(p);
	if (msix != p->irq_msix) {
		/* INTx takes over what is still unconsumed; MSI-X starts clean. */
		p->irq_msix = msix;
		p->irq_is = msix ? 0 : busy_vectors(p, ALL_VECTORS, NULL);
	}
	msix_deliver_pending(p);
	intx_update(p);
}

void pcie_irq_vfu_changed(void *dev, unsigned index)
{
	struct fdr_pcie *p = dev;

	if (index != FDR_VFU_IRQ_INTX)
		return;
	/* Typically an unmask after the host serviced the line: drop the
	 * status it satisfied, trigger again if still asserted. */
	irq_sync(p);
	if (p->irq_is)
		p->irq_is &= busy_vectors(p, p->irq_is, NULL);
	intx_update(p);
}

static struct fdr_pcie *ctrl_pcie(struct fdr_ctrl *ctrl)
{
	struct fdr_pcie *p = fdr_ctrl_tctx(ctrl);

	if (!p || p->ctrl != ctrl)
		return NULL;
	irq_sync(p);
	return p;
}

void pcie_irq_intm_changed(struct fdr_ctrl *ctrl, uint32_t mask)
{
	struct fdr_pcie *p = ctrl_pcie(ctrl);

	(void)mask; /* intx_update() reads it */
	if (p)
		intx_update(p);
}

void pcie_irq_config_changed(struct fdr_ctrl *ctrl, uint16_t iv)
{
	struct fdr_pcie *p = ctrl_pcie(ctrl);
	uint32_t due = 0;

	if (!p)
		return;
	/* Aggregations under the old settings end now. */
	for (unsigned v = 0; v < FDR_PCIE_NR_VECTORS; v++)
		if (p->vec[v].deadline_ns && (iv == 0xffff || iv == v))
			due |= 1u << v;
	vec_expire(p, due);
}

void pcie_irq_reset(struct fdr_pcie *p)
{
	irq_sync(p);
	p->cfg[MSIX_CTRL] &= (uint8_t)~(MSIX_ENABLE | MSIX_FMASK);
	memset(p->msix_table, 0, sizeof(p->msix_table)); /* every vector masked */
	if (p->intx_level)
		rec_irq(p, 0, 0, FDR_REC_IRQ_INTX, FDR_REC_IRQ_DEASSERT, 0);
	irq_state_clear(p); /* an armed timer finds nothing to do */
}

/*
 * For dev_detach(), while p->ctrl is still set: without it the timer frees
 * itself when it next fires (within 25.5 ms), holding the dead controller
 * until then.
 */
void pcie_irq_detach(struct fdr_pcie *p)
{
	struct pcie_irq_timer *h = p->irq_timer;

	if (!p->ctrl || p->irq_gen != p->attach_gen || !h)
		return;
	fdr_timer_cancel(p->r, &h->t);
	fdr_ctrl_put(h->ctrl);
	free(h);
	p->irq_timer = NULL;
}

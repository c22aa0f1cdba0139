/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Interrupts of the PCIe function: MSI-X per completion queue vector, INTx
 * as the fallback, and the MSI-X table and PBA in BAR0.
 */
#include <string.h>

#include "core/core.h"
#include "pcie_int.h"

static void cq_irq(struct fdr_pcie *p, struct pcie_cq *cq)
{
	if (!cq->ien)
		return;
	if (fdr_vfu_irq_fd(p->srv, FDR_VFU_IRQ_MSIX, cq->iv) >= 0) {
		if (p->cfg[FDR_PCIE_CAP_MSIX + 3] & 0x40) /* function mask */
			return;
		fdr_vfu_irq_trigger(p->srv, FDR_VFU_IRQ_MSIX, cq->iv);
		return;
	}
	/* INTx fallback (edge on the eventfd): INTMS masks it, and so does
	 * the command register's INTx disable. */
	if (get16(p->cfg, 0x04) & 0x400)
		return;
	if (p->ctrl && (fdr_ctrl_intms(p->ctrl) & (1u << (cq->iv & 31))))
		return;
	if (fdr_vfu_irq_fd(p->srv, FDR_VFU_IRQ_INTX, 0) >= 0)
		fdr_vfu_irq_trigger(p->srv, FDR_VFU_IRQ_INTX, 0);
}

void pcie_irq_flush(struct fdr_defer *d)
{
	struct fdr_pcie *p = (struct fdr_pcie *)((char *)d - offsetof(struct fdr_pcie, irq_defer));

	for (unsigned qid = 0; qid < MAXQ; qid++) {
		struct pcie_cq *cq = &p->cq[qid];

		if (!cq->irq_pending)
			continue;
		cq->irq_pending = false;
		if (cq->live && p->ctrl)
			cq_irq(p, cq);
	}
}

void pcie_irq_posted(struct fdr_pcie *p, struct pcie_cq *cq)
{
	if (cq->ien && !cq->irq_pending) {
		cq->irq_pending = true;
		fdr_reactor_defer(p->r, &p->irq_defer);
	}
}

int pcie_msix_access(struct fdr_pcie *p, uint64_t off, uint8_t *buf, uint32_t count, bool is_write)
{
	if (off < FDR_PCIE_MSIX_PBA) {
		uint64_t t = off - FDR_PCIE_MSIX_TABLE;

		if (t + count > sizeof(p->msix_table)) {
			if (!is_write)
				memset(buf, 0, count);
			return 0;
		}
		if (is_write)
			memcpy(p->msix_table + t, buf, count);
		else
			memcpy(buf, p->msix_table + t, count);
		return 0;
	}
	/* PBA: nothing pending that the client does not track itself. */
	if (!is_write)
		memset(buf, 0, count);
	return 0;
}

void pcie_irq_cq_head(struct fdr_pcie *p, struct pcie_cq *cq)
{
	(void)p;
	(void)cq; /* edge-triggered for now: nothing to release */
}

void pcie_irq_config_written(struct fdr_pcie *p)
{
	(void)p;
}

void pcie_irq_vfu_changed(void *dev, unsigned index)
{
	(void)dev;
	(void)index;
}

void pcie_irq_intm_changed(struct fdr_ctrl *ctrl, uint32_t mask)
{
	(void)ctrl;
	(void)mask;
}

void pcie_irq_config_changed(struct fdr_ctrl *ctrl, uint16_t iv)
{
	(void)ctrl;
	(void)iv;
}

void pcie_irq_reset(struct fdr_pcie *p)
{
	p->cfg[FDR_PCIE_CAP_MSIX + 3] &= 0x3f;
	memset(p->msix_table, 0, sizeof(p->msix_table));
}

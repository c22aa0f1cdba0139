/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Data movement between a command's buffer and host memory: PRP1/PRP2 and
 * PRP lists.  Every piece is translated through fdr_vfu_dma(); an address
 * outside what the host mapped is a Data Transfer Error.
 */
#include <string.h>

#include "pcie_int.h"

static uint16_t prp_seg(struct fdr_pcie *p, uint64_t addr, uint8_t *buf, uint32_t n, enum pcie_dma_mode mode,
			bool write)
{
	void *h = fdr_vfu_dma(p->srv, addr, n, write);

	if (!h)
		return ST_DTE;
	if (mode == PCIE_DMA_FROM_HOST)
		memcpy(buf, h, n);
	else if (mode == PCIE_DMA_TO_HOST)
		memcpy(h, buf, n);
	return 0;
}

static uint16_t prp_walk(struct fdr_pcie *p, struct fdr_req *req, enum pcie_dma_mode mode)
{
	uint64_t prp1 = req->cmd.dptr.prp1, prp2 = req->cmd.dptr.prp2, list;
	uint32_t len = req->data_len, done, n;
	bool write = req->xfer == NVME_OPC_XFER_FROM_CTRL; /* device writes host memory */
	uint8_t *buf = mode == PCIE_DMA_CHECK ? NULL : req->buf;
	uint16_t st;

	if (prp1 & 3)
		return ST_PRP_OFFSET;
	n = PAGE - (uint32_t)(prp1 & (PAGE - 1));
	if (n > len)
		n = len;
	if ((st = prp_seg(p, prp1, buf, n, mode, write)))
		return st;
	done = n;
	if (done == len)
		return 0;
	if (len - done <= PAGE) {
		if (prp2 & (PAGE - 1))
			return ST_PRP_OFFSET;
		return prp_seg(p, prp2, buf ? buf + done : NULL, len - done, mode, write);
	}
	list = prp2;
	for (unsigned lists = 0; done < len; lists++) {
		uint32_t nent, pages, use;
		const uint64_t *ents;

		if ((list & 7) || lists > len / PAGE + 1)
			return ST_PRP_OFFSET;
		nent = (PAGE - (uint32_t)(list & (PAGE - 1))) / 8;
		pages = (len - done + PAGE - 1) / PAGE;
		use = pages <= nent ? pages : nent;
		ents = fdr_vfu_dma(p->srv, list, (uint64_t)use * 8, false);
		if (!ents)
			return ST_DTE;
		for (uint32_t i = 0; i < use; i++) {
			uint64_t e = __atomic_load_n(&ents[i], __ATOMIC_RELAXED);

			if (i == nent - 1 && pages > nent) {
				list = e; /* chained to the next list */
				break;
			}
			if (e & (PAGE - 1))
				return ST_PRP_OFFSET;
			n = len - done < PAGE ? len - done : PAGE;
			if ((st = prp_seg(p, e, buf ? buf + done : NULL, n, mode, write)))
				return st;
			done += n;
		}
	}
	return 0;
}

uint16_t pcie_dma_walk(struct fdr_pcie *p, struct fdr_req *req, enum pcie_dma_mode mode)
{
	if (req->cmd.flags >> 6)
		return ST_INVALID_FIELD; /* SGLs are not offered */
	return prp_walk(p, req, mode);
}

/* req's whole data as one pointer, if its PRPs describe host memory that
 * is contiguous in the drive's mappings (a 4 KiB read at a page, or
 * consecutive pages); else NULL. */
uint8_t *pcie_dma_contig(struct fdr_pcie *p, struct fdr_req *req)
{
	uint64_t prp1 = req->cmd.dptr.prp1, prp2 = req->cmd.dptr.prp2;
	uint32_t len = req->data_len, first;
	bool write = req->xfer == NVME_OPC_XFER_FROM_CTRL;
	uint8_t *h;

	if (req->cmd.flags >> 6 || (prp1 & 3) || !len)
		return NULL;
	first = PAGE - (uint32_t)(prp1 & (PAGE - 1));
	if (len <= first)
		return fdr_vfu_dma(p->srv, prp1, len, write);
	/* Two pieces: PRP2 must be the page right after PRP1's. */
	if (len - first > PAGE || (prp2 & (PAGE - 1)) || prp2 != prp1 + first)
		return NULL;
	h = fdr_vfu_dma(p->srv, prp1, len, write);
	return h;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Data movement between a command's buffer and host memory: PRP1/PRP2 and
 * PRP lists.  Every piece is translated through fdr_vfu_dma(); an address
 * outside what the host mapped is a Data Transfer Error, and the refused
 * access goes to the flight recorder.
 */
#include <string.h>

#include "core/record.h"
#include "pcie_int.h"

/* Host pointer for [addr, addr + len), or NULL with the refusal recorded. */
static void *dma_map(struct fdr_pcie *p, struct fdr_req *req, uint64_t addr, uint32_t len,
		     bool write, uint8_t what)
{
	void *h = fdr_vfu_dma(p->srv, addr, len, write);

	if (!h)
		FDR_RECORD(dma_err_slow(p->rec_conn, p->ctrl ? p->ctrl->cntlid : 0, req->q->qid, req,
					addr, len, write, what));
	return h;
}

/* n bytes of data at addr: checked only when buf is NULL (PCIE_DMA_CHECK). */
static uint16_t dma_data(struct fdr_pcie *p, struct fdr_req *req, uint64_t addr, uint8_t *buf,
			 uint32_t n, enum pcie_dma_mode mode, bool write)
{
	void *h = dma_map(p, req, addr, n, write, FDR_REC_DMA_DATA);

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
	if ((st = dma_data(p, req, prp1, buf, n, mode, write)))
		return st;
	done = n;
	if (done == len)
		return 0;
	if (len - done <= PAGE) {
		if (prp2 & (PAGE - 1))
			return ST_PRP_OFFSET;
		return dma_data(p, req, prp2, buf ? buf + done : NULL, len - done, mode, write);
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
		ents = dma_map(p, req, list, use * 8, false, FDR_REC_DMA_PRP_LIST);
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
			if ((st = dma_data(p, req, e, buf ? buf + done : NULL, n, mode, write)))
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

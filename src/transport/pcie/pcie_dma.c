/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Data movement between a command's buffer and host memory: PRP1/PRP2 and
 * PRP lists, or an SGL (NVMe Base 2.0, "Scatter Gather List (SGL)").
 * Every piece is translated through fdr_vfu_dma(); an address outside what
 * the host mapped is a Data Transfer Error, and the refused access goes to
 * the flight recorder.
 */
#include <string.h>

#include "core/record.h"
#include "pcie_int.h"

/* SGL statuses; all say the host built a bad SGL, so none is retryable. */
#define ST_SGL(sc) ((uint16_t)(NVME_STATUS(NVME_SCT_GENERIC, (sc)) | NVME_STATUS_DNR))
#define ST_SGL_SEG ST_SGL(NVME_SC_INVALID_SGL_SEG_DESC)
#define ST_SGL_NUM ST_SGL(NVME_SC_INVALID_NUM_SGL_DESCS)
#define ST_SGL_LEN ST_SGL(NVME_SC_DATA_SGL_LENGTH_INVALID)
#define ST_SGL_TYPE ST_SGL(NVME_SC_SGL_DESC_TYPE_INVALID)

/* Descriptors one command may fetch from host memory: far beyond what a
 * 128 KiB transfer needs, and what ends a segment chain that loops. */
#define SGL_MAX_DESC 8192u

/* Host pointer for [addr, addr + len), or NULL with the refusal recorded. */
static void *dma_map(struct fdr_pcie *p, struct fdr_req *req, uint64_t addr, uint32_t len,
		     bool write, uint8_t what)
{
	void *h = pcie_bus_master(p) ? fdr_vfu_dma(p->srv, addr, len, write) : NULL;

	if (!h)
		FDR_RECORD(dma_err_slow(p->rec_conn, pcie_cntlid(p), req->q->qid, req,
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

/* ---- PRPs ---------------------------------------------------------------------- */

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

/* ---- SGLs ---------------------------------------------------------------------- */

struct sgl_desc {
	uint64_t addr;
	uint32_t len;
	uint8_t type, sub;
};

struct sgl_walk {
	struct fdr_pcie *p;
	struct fdr_req *req;
	enum pcie_dma_mode mode;
	bool write;     /* controller to host: the SGL describes a destination */
	uint32_t done;  /* bytes of req->buf the SGL has described so far */
	uint32_t ndesc; /* descriptors fetched from host memory */
};

/* Descriptor i of a segment in host memory.  Segments are qword aligned
 * (checked), so two relaxed loads read it whatever the host does meanwhile. */
static struct sgl_desc sgl_load(const uint64_t *seg, uint32_t i)
{
	uint64_t lo = __atomic_load_n(&seg[2 * i], __ATOMIC_RELAXED);
	uint64_t hi = __atomic_load_n(&seg[2 * i + 1], __ATOMIC_RELAXED);

	return (struct sgl_desc){ .addr = lo, .len = (uint32_t)hi,
				  .type = (uint8_t)(hi >> 60), .sub = (uint8_t)(hi >> 56) & 0xf };
}

/* addr + len beyond 2^64: Data SGL Length Invalid, say the Data Block,
 * Segment and Last Segment descriptors alike. */
static bool sgl_wraps(const struct sgl_desc *d)
{
	return d->len && d->addr + (d->len - 1) < d->addr;
}

/* A Data Block or Bit Bucket descriptor. */
static uint16_t sgl_data(struct sgl_walk *w, const struct sgl_desc *d)
{
	uint8_t *buf = w->mode == PCIE_DMA_CHECK ? NULL : w->req->buf + w->done;
	uint16_t st;

	if (d->sub != NVME_SGL_SUBTYPE_ADDRESS)
		return ST_SGL_TYPE; /* Offset is reserved on PCIe; Bit Bucket takes 0h only */
	if (d->type == NVME_SGL_TYPE_BIT_BUCKET && !w->write)
		return 0; /* describing a source buffer it has no effect */
	/* No SGLS.LLDTS: the SGL may not describe more than the transfer. */
	if (d->len > w->req->data_len - w->done || sgl_wraps(d))
		return ST_SGL_LEN;
	if (d->type == NVME_SGL_TYPE_DATA_BLOCK && d->len &&
	    (st = dma_data(w->p, w->req, d->addr, buf, d->len, w->mode, w->write)))
		return st;
	w->done += d->len; /* a bit bucket's bytes are read data nobody gets */
	return 0;
}

/* A Segment or Last Segment descriptor: its segment, or NULL and *st. */
static const uint64_t *sgl_segment(struct sgl_walk *w, const struct sgl_desc *d, uint16_t *st)
{
	const uint64_t *seg;

	*st = ST_SGL_TYPE;
	if (d->sub != NVME_SGL_SUBTYPE_ADDRESS)
		return NULL;
	/* A non-zero multiple of 16 at a qword aligned address; and a bound
	 * on the whole SGL, which is what ends a chain that loops. */
	*st = ST_SGL_SEG;
	if (!d->len || d->len % 16 || d->addr & 7 || d->len / 16 > SGL_MAX_DESC - w->ndesc)
		return NULL;
	*st = ST_SGL_LEN;
	if (sgl_wraps(d))
		return NULL;
	w->ndesc += d->len / 16;
	seg = dma_map(w->p, w->req, d->addr, d->len, false, FDR_REC_DMA_SGL_SEG);
	*st = ST_DTE;
	return seg;
}

/*
 * SGL1 is a one-descriptor segment in the command.  Each segment is walked
 * to its end, also past the end of the data: without LLDTS in SGLS an SGL
 * longer than the transfer is Data SGL Length Invalid, as is a shorter one.
 */
static uint16_t sgl_walk(struct fdr_pcie *p, struct fdr_req *req, enum pcie_dma_mode mode)
{
	const struct nvme_sgl_desc *s1 = &req->cmd.dptr.sgl1;
	struct sgl_walk w = { .p = p, .req = req, .mode = mode,
			      .write = req->xfer == NVME_OPC_XFER_FROM_CTRL };
	struct sgl_desc d = { .addr = s1->addr, .len = s1->length,
			      .type = (uint8_t)(s1->type >> 4), .sub = s1->type & 0xf };
	const uint64_t *seg = NULL; /* NULL: SGL1 */
	uint32_t n = 1;
	bool last = false; /* in the segment a Last Segment descriptor named */
	uint16_t st;

	for (uint32_t i = 0; i < n;) {
		if (seg)
			d = sgl_load(seg, i);
		i++;
		switch (d.type) {
		case NVME_SGL_TYPE_DATA_BLOCK:
		case NVME_SGL_TYPE_BIT_BUCKET:
			if ((st = sgl_data(&w, &d)))
				return st;
			break;
		case NVME_SGL_TYPE_SEGMENT:
		case NVME_SGL_TYPE_LAST_SEGMENT:
			if (last)
				return ST_SGL_SEG;
			if (i != n)
				return ST_SGL_NUM;
			if (!(seg = sgl_segment(&w, &d, &st)))
				return st;
			last = d.type == NVME_SGL_TYPE_LAST_SEGMENT;
			n = d.len / 16;
			i = 0;
			break;
		default: /* Keyed and Transport Data Blocks are for fabrics */
			return ST_SGL_TYPE;
		}
	}
	return w.done == req->data_len ? 0 : ST_SGL_LEN;
}

uint16_t pcie_dma_walk(struct fdr_pcie *p, struct fdr_req *req, enum pcie_dma_mode mode)
{
	switch (req->cmd.flags >> NVME_CMD_FLAGS_PSDT_SHIFT) {
	case NVME_PSDT_PRP:
		return prp_walk(p, req, mode);
	case NVME_PSDT_SGL_MPTR_CONTIG:
	case NVME_PSDT_SGL_MPTR_SGL:
		/* No metadata, so MPTR is unused.  Admin commands on PCIe
		 * take PRPs only (PSDT in the common command format). */
		if (req->q->qid != 0)
			return sgl_walk(p, req, mode);
		return ST_INVALID_FIELD;
	default:
		return ST_INVALID_FIELD;
	}
}

/* req's whole data as one pointer, if its data pointer describes host
 * memory that is contiguous in the drive's mappings (PRP1 alone, PRP1 and
 * the page after it, or one SGL Data Block of exactly the length); else
 * NULL.  The pointer was checked already (prep_data). */
uint8_t *pcie_dma_contig(struct fdr_pcie *p, struct fdr_req *req)
{
	const struct nvme_sgl_desc *s1 = &req->cmd.dptr.sgl1;
	uint64_t prp1 = req->cmd.dptr.prp1, prp2 = req->cmd.dptr.prp2;
	uint32_t len = req->data_len, first;
	bool write = req->xfer == NVME_OPC_XFER_FROM_CTRL;

	if (!len || !pcie_bus_master(p))
		return NULL;
	switch (req->cmd.flags >> NVME_CMD_FLAGS_PSDT_SHIFT) {
	case NVME_PSDT_PRP:
		break;
	case NVME_PSDT_SGL_MPTR_CONTIG:
	case NVME_PSDT_SGL_MPTR_SGL:
		if (s1->type != NVME_SGL_TYPE_DATA_BLOCK << 4 || s1->length != len)
			return NULL;
		return fdr_vfu_dma(p->srv, s1->addr, len, write);
	default:
		return NULL;
	}
	if (prp1 & 3)
		return NULL;
	first = PAGE - (uint32_t)(prp1 & (PAGE - 1));
	if (len <= first)
		return fdr_vfu_dma(p->srv, prp1, len, write);
	/* Two pieces: PRP2 must be the page right after PRP1's. */
	if (len - first > PAGE || (prp2 & (PAGE - 1)) || prp2 != prp1 + first)
		return NULL;
	return fdr_vfu_dma(p->srv, prp1, len, write);
}

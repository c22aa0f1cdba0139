/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Private to the PCIe function (src/transport/pcie/): its state and what
 * its files share.  pcie.c: queues, doorbell poller, BAR0, life cycle;
 * pcie_cfg.c: config space; pcie_dma.c: data pointers (PRPs, SGLs); pcie_irq.c:
 * interrupts, the MSI-X table and PBA.  Everything runs on p->r.
 */
#ifndef FDR_PCIE_INT_H
#define FDR_PCIE_INT_H

#include <semaphore.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/reactor.h"
#include "core/transport.h"
#include "transport/vfio_user/vfu.h"
#include "pcie.h"


#define PAGE 4096u
#define DB_FILE_SIZE 0x2000u /* doorbells at file offset 0x1000 (region offset) */
#define NR_DB (PAGE / 4)     /* doorbell dwords in the page */
#define DB_SCAN_ROUNDS 64u   /* poller rounds between scans for stray doorbells */
#define MAXQ (FDR_MAX_IO_QUEUES + 1)

#define ST_DTE NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_DATA_TRANSFER_ERROR)
#define ST_PRP_OFFSET \
	((uint16_t)(NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INVALID_PRP_OFFSET) | NVME_STATUS_DNR))
#define ST_INVALID_FIELD \
	((uint16_t)(NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INVALID_FIELD) | NVME_STATUS_DNR))
#define ST_INTERNAL NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INTERNAL)

struct pcie_sq;
struct pcie_irq_timer;

struct pcie_cq {
	bool live;
	bool ien;
	bool irq_pending; /* CQEs posted this loop iteration, interrupt not sent */
	uint8_t phase;
	uint16_t irq_new; /* entries posted since the last flush (saturating) */
	uint16_t size, iv;
	uint16_t head, tail;
	uint64_t base;
	struct fdr_req *wait_head, *wait_tail; /* completions waiting for room */
};

struct pcie_sq {
	struct fdr_pcie *p;
	struct fdr_ctrl *ctrl; /* the controller it was created for */
	struct fdr_queue *q;
	uint16_t qid, cqid, size, head;
	uint32_t bad_tail; /* last invalid tail value reported (+1), 0: none */
	uint64_t base;
	struct fdr_defer defer;
};

/* One MSI-X vector (or INTx interrupt status bit): coalescing state. */
struct pcie_vec {
	uint16_t agg;         /* entries posted since its last interrupt */
	uint16_t cqid;        /* the CQ that posted last (taps, records) */
	uint64_t deadline_ns; /* aggregation time ends; 0: not aggregating */
};

struct fdr_pcie {
	struct fdr_reactor *r;
	struct fdr_subsys *s;
	struct fdr_vfu_server *srv;
	struct fdr_ctrl *ctrl; /* while a client is attached */
	struct fdr_pcie_opts opts;
	int db_fd;
	uint8_t *db_map;          /* DB_FILE_SIZE bytes */
	volatile uint32_t *db;    /* db_map + 0x1000 */
	uint8_t cfg[FDR_PCIE_CONFIG_SIZE];
	uint8_t msix_table[FDR_PCIE_NR_VECTORS * 16];
	struct pcie_cq cq[MAXQ];
	struct pcie_sq *sq[MAXQ];
	uint32_t cq_bad_head[MAXQ];
	unsigned nr_sq; /* allocated, including draining ones */
	uint32_t rec_conn; /* recorder: FDR_REC_PCI_CONN(attach generation, bdf) */
	uint16_t attach_gen;
	bool quiesced;  /* fatal: the poller stops until the host resets */
	bool destroying;
	/* Doorbells (dword index 2 * qid [+ 1]) as last seen in the page and
	 * as accepted after nvme:regwrite:decode. */
	uint32_t db_seen[2 * MAXQ];
	uint32_t db_val[2 * MAXQ];
	/* Doorbell Buffer Config: the host's Shadow Doorbell and EventIdx
	 * pages (0: not configured) and the shadow values last seen. */
	uint64_t dbbuf_shadow, dbbuf_ei;
	uint32_t db_sh_seen[2 * MAXQ];
	uint32_t db_scan_round; /* poller rounds, for the invalid-doorbell scan */
	struct fdr_poller poller;
	struct fdr_defer irq_defer; /* one interrupt per vector per loop iteration */
	/* Interrupt state (pcie_irq.c); it belongs to attach irq_gen. */
	struct pcie_vec vec[FDR_PCIE_NR_VECTORS];
	uint32_t irq_pba;        /* MSI-X Pending Bits */
	uint32_t irq_is;         /* INTx: interrupt status per vector */
	bool irq_msix;           /* MSI-X Enable as last seen */
	bool intx_level;         /* the INTx line as last evaluated */
	uint16_t irq_gen;
	struct pcie_irq_timer *irq_timer; /* the aggregation timer, or NULL */
	sem_t sem;
	/* create() on the reactor */
	const char *c_dir;
	char *c_err;
	size_t c_errlen;
	int c_rc;
};

static inline void put16(uint8_t *b, uint32_t off, uint16_t v)
{
	b[off] = (uint8_t)v;
	b[off + 1] = (uint8_t)(v >> 8);
}

static inline void put32(uint8_t *b, uint32_t off, uint32_t v)
{
	put16(b, off, (uint16_t)v);
	put16(b, off + 2, (uint16_t)(v >> 16));
}

static inline uint16_t get16(const uint8_t *b, uint32_t off)
{
	return (uint16_t)(b[off] | b[off + 1] << 8);
}

/* The controller ID taps and records name (0: no host attached). */
static inline uint16_t pcie_cntlid(const struct fdr_pcie *p)
{
	return p->ctrl ? p->ctrl->cntlid : 0;
}

/* Bus Master Enable (command register bit 2): without it the function
 * may not touch host memory, so it fetches nothing and posts nothing. */
static inline bool pcie_bus_master(const struct fdr_pcie *p)
{
	return p->cfg[0x04] & 0x04;
}

/* pcie_dma.c: walk req's data pointer (PRPs, or an SGL on I/O queues),
 * only checking it (PCIE_DMA_CHECK) or copying between req->buf and host
 * memory; 0 or an NVMe status.  Refused host accesses are recorded. */
enum pcie_dma_mode { PCIE_DMA_CHECK, PCIE_DMA_FROM_HOST, PCIE_DMA_TO_HOST };
/* Identify SGLS: SGLs with no alignment or granularity requirement (1:0 =
 * 01b) and Bit Bucket descriptors (bit 16); no LLDTS (bit 18), so an SGL
 * longer than the transfer is Data SGL Length Invalid. */
#define PCIE_DMA_SGLS (NVME_SGLS_SUPPORTED | 1u << 16)
uint16_t pcie_dma_walk(struct fdr_pcie *p, struct fdr_req *req, enum pcie_dma_mode mode);
/* The data as one host pointer, if contiguous; else NULL. */
uint8_t *pcie_dma_contig(struct fdr_pcie *p, struct fdr_req *req);

/* pcie_irq.c */
/* Entries were posted to cq: interrupt at the end of this loop iteration. */
void pcie_irq_posted(struct fdr_pcie *p, struct pcie_cq *cq);
void pcie_irq_flush(struct fdr_defer *d);
/* BAR0 accesses from FDR_PCIE_MSIX_TABLE up: the table and the PBA. */
int pcie_msix_access(struct fdr_pcie *p, uint64_t off, uint8_t *buf, uint32_t count, bool is_write);
/* The host moved cq's head (its CQ head doorbell). */
void pcie_irq_cq_head(struct fdr_pcie *p, struct pcie_cq *cq);
/* Config space was written (MSI-X enable/function mask, INTx disable). */
void pcie_irq_config_written(struct fdr_pcie *p);
/* The client changed eventfds or masks of vfio-user IRQ index. */
void pcie_irq_vfu_changed(void *dev, unsigned index);
/* Controller ops: INTMS/INTMC, Set Features 08h/09h. */
void pcie_irq_intm_changed(struct fdr_ctrl *ctrl, uint32_t mask);
void pcie_irq_config_changed(struct fdr_ctrl *ctrl, uint16_t iv);
/* Function reset: MSI-X off, every vector masked, nothing pending. */
void pcie_irq_reset(struct fdr_pcie *p);
/* The client is gone: stop the aggregation timer (see pcie_irq.c). */
void pcie_irq_detach(struct fdr_pcie *p);

#endif

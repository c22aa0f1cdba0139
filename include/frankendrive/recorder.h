/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The flight recorder's ring file: the on-disk (and in-memory) layout that
 * the drive writes and nvmedump reads.  Layout only.
 *
 * The file is a 4096-byte header followed by nr_slots fixed-size slots.
 * Writers claim sequence numbers with an atomic add on head; sequence s
 * lives in slot s % nr_slots.  A slot's seq field is 0 while it is being
 * written and s + 1 once complete, so a reader (even of the file of a
 * drive that was killed) takes a slot only if seq matches what it expects
 * and still matches after copying it.
 */
#ifndef FRANKENDRIVE_RECORDER_H
#define FRANKENDRIVE_RECORDER_H

#include <stdint.h>

#include "nvme.h"

#define FDR_REC_MAGIC 0x31474e4952524446ull /* "FDRRING1" */
#define FDR_REC_VERSION 1
#define FDR_REC_HDR_SIZE 4096
#define FDR_REC_SLOT_SIZE 256
#define FDR_REC_PAYLOAD (FDR_REC_SLOT_SIZE - 32)

/* fdr_rec_file_hdr.flags */
#define FDR_REC_F_REDACT_ADDRS (1u << 0) /* PRP/SGL addresses zeroed */
#define FDR_REC_F_NO_DATA (1u << 1)      /* data never recorded */
#define FDR_REC_F_PDUS (1u << 2)         /* NVMe/TCP PDU headers recorded */

struct fdr_rec_file_hdr {
	uint64_t magic;
	uint32_t version;
	uint32_t slot_size;
	uint64_t nr_slots;
	uint64_t head;            /* next sequence number to claim (atomic) */
	uint64_t created_wall_ns; /* CLOCK_REALTIME */
	uint32_t pid;
	uint32_t flags;
	uint32_t snaplen;         /* data bytes recorded per command, at most */
	uint32_t rsvd;
	char dev[64];             /* what is recorded, e.g. the subsystem NQN */
	uint8_t pad[FDR_REC_HDR_SIZE - 120];
} __attribute__((packed));
_Static_assert(sizeof(struct fdr_rec_file_hdr) == FDR_REC_HDR_SIZE, "rec hdr");

enum fdr_rec_kind {
	FDR_REC_CMD = 1,        /* a command fetched: u.cmd */
	FDR_REC_CPL = 2,        /* its completion posted: u.cpl */
	FDR_REC_PDU_RX = 3,     /* NVMe/TCP PDU header received: u.pdu (len bytes) */
	FDR_REC_PDU_TX = 4,     /* ... sent */
	FDR_REC_REG_READ = 5,   /* register (property) read: u.reg */
	FDR_REC_REG_WRITE = 6,
	FDR_REC_AEN = 7,        /* asynchronous event delivered: u.cpl (cqe.cdw0) */
	FDR_REC_CONNECT = 8,    /* connection opened: u.text (peer) */
	FDR_REC_DISCONNECT = 9, /* connection closed: u.text (reason) */
	FDR_REC_ACTION = 10,    /* a plug-in or rule acted on a command: u.action */
	FDR_REC_DATA = 11,      /* command data, a piece: u.data (len bytes) */
	/* PCIe functions (xport FDR_REC_XPORT_PCIE).  Their BAR0 accesses are
	 * REG_READ/REG_WRITE with BAR0 offsets: registers below 1000h,
	 * doorbells from 1000h (as the drive noticed them), the MSI-X table
	 * from 2000h and the PBA from 3000h. */
	FDR_REC_CFG_READ = 12,  /* PCI config space read: u.reg */
	FDR_REC_CFG_WRITE = 13,
	FDR_REC_IRQ = 14,       /* an interrupt for a CQ: u.irq */
	FDR_REC_DMA_ERR = 15,   /* host memory the host had not mapped: u.dma */
};

/* fdr_rec_event.xport: what conn means */
#define FDR_REC_XPORT_FABRICS 0 /* NVMe/TCP: the connection's id */
#define FDR_REC_XPORT_PCIE 1    /* PCIe function: FDR_REC_PCI_CONN() */
/* A PCIe function's conn: the host's attach generation and the PCI
 * address the drive was told (bus << 8 | device << 3 | function). */
#define FDR_REC_PCI_CONN(gen, bdf) ((uint32_t)(gen) << 16 | (uint16_t)(bdf))
#define FDR_REC_PCI_BDF(conn) ((uint16_t)((conn) & 0xffff))

/* u.irq.type, u.irq.what */
enum fdr_rec_irq_type { FDR_REC_IRQ_MSIX = 0, FDR_REC_IRQ_INTX = 1 };
enum fdr_rec_irq_what {
	FDR_REC_IRQ_SENT = 0,     /* signalled to the host */
	FDR_REC_IRQ_PENDING = 1,  /* masked: pending bit set, sent on unmask */
	FDR_REC_IRQ_DROPPED = 2,  /* a pci:msix:writeback callback dropped it */
	FDR_REC_IRQ_DEASSERT = 3, /* INTx level released */
};
/* u.dma.what: which host memory access failed */
enum fdr_rec_dma_what {
	FDR_REC_DMA_DATA = 0,     /* a data page (PRP entry or SGL data block) */
	FDR_REC_DMA_PRP_LIST = 1,
	FDR_REC_DMA_SGL_SEG = 2,  /* an SGL segment */
	FDR_REC_DMA_SQ = 3,       /* a submission queue entry */
	FDR_REC_DMA_CQ = 4,       /* a completion queue entry */
};

struct fdr_rec_event {
	uint64_t seq;     /* sequence + 1 when complete, 0 while written */
	uint64_t wall_ns; /* CLOCK_REALTIME */
	uint16_t kind;    /* enum fdr_rec_kind */
	uint16_t qid;
	uint16_t cntlid;
	uint16_t len;     /* payload bytes used (PDU, text, data) */
	uint32_t conn;    /* connection id, stable for its lifetime */
	uint16_t cid;     /* the command's CID where there is one */
	uint8_t admin;    /* command on an admin queue */
	uint8_t xport;    /* FDR_REC_XPORT_* */
	union {
		struct {
			struct nvme_sqe sqe;
		} cmd;
		struct {
			struct nvme_cqe cqe;
			uint64_t latency_ns; /* fetch to completion */
			uint8_t opc;         /* the command's opcode */
			uint8_t fctype;      /* and Fabrics type */
		} cpl;
		struct {
			uint32_t offset;
			uint32_t size;
			uint64_t value;
		} reg;
		struct {
			uint8_t hdr[128];
		} pdu;
		struct {
			uint16_t vector; /* MSI-X vector (0 for INTx) */
			uint8_t type;    /* enum fdr_rec_irq_type */
			uint8_t what;    /* enum fdr_rec_irq_what */
			uint16_t cqid;
			uint16_t entries; /* CQ entries it covers (coalesced) */
		} irq;
		struct {
			uint64_t addr;
			uint32_t len;
			uint8_t write; /* the drive was writing host memory */
			uint8_t what;  /* enum fdr_rec_dma_what */
		} dma;
		struct {
			char who[32];   /* plug-in name or "rule N" */
			char what[128]; /* e.g. "completed at decode with 01h/82h" */
			uint8_t tap;    /* index of the tap */
		} action;
		struct {
			uint32_t offset; /* within the command's data */
			uint8_t bytes[FDR_REC_PAYLOAD - 4];
		} data;
		char text[FDR_REC_PAYLOAD];
	} u;
} __attribute__((packed));
_Static_assert(sizeof(struct fdr_rec_event) == FDR_REC_SLOT_SIZE, "rec event");

#endif /* FRANKENDRIVE_RECORDER_H */

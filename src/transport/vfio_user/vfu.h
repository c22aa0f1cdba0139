/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vfio-user server: serves one PCI function to one client (QEMU's
 * vfio-user-pci, SPDK's userspace NVMe driver, tests/unit/vfio_user's
 * client) over the Unix socket DIR/cntrl.  Written from the protocol
 * specification (QEMU docs/interop/vfio-user.rst); see
 * docs/vfio-user.md for the layouts and what the clients expect.
 *
 * Device agnostic: a device describes its regions and interrupts
 * (struct fdr_vfu_desc) and implements struct fdr_vfu_ops.  The server
 * answers VERSION, DMA_MAP/UNMAP, DEVICE_GET_INFO/REGION_INFO/IRQ_INFO,
 * DEVICE_SET_IRQS, REGION_READ/WRITE and DEVICE_RESET itself, checks every
 * message before the device sees it, keeps the DMA map table and the
 * interrupt eventfds, and refuses migration, dirty tracking, fd-less DMA
 * messages and anything unknown with an error reply.
 *
 * Threads: everything (socket, callbacks, fdr_vfu_dma, fdr_vfu_irq_*) runs
 * on the reactor given at creation.  fdr_vfu_server_destroy() runs on that
 * reactor's thread or once the reactor no longer runs.
 */
#ifndef FDR_VFU_H
#define FDR_VFU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fdr_reactor;

/* PCI region indexes (linux/vfio.h VFIO_PCI_*_REGION_INDEX). */
enum {
	FDR_VFU_REGION_BAR0 = 0,
	FDR_VFU_REGION_BAR1,
	FDR_VFU_REGION_BAR2,
	FDR_VFU_REGION_BAR3,
	FDR_VFU_REGION_BAR4,
	FDR_VFU_REGION_BAR5,
	FDR_VFU_REGION_ROM,
	FDR_VFU_REGION_CONFIG,
	FDR_VFU_REGION_VGA,
	FDR_VFU_NUM_REGIONS, /* 9, what DEVICE_GET_INFO reports */
};

/* Interrupt indexes (VFIO_PCI_*_IRQ_INDEX). */
enum {
	FDR_VFU_IRQ_INTX = 0,
	FDR_VFU_IRQ_MSI,
	FDR_VFU_IRQ_MSIX,
	FDR_VFU_IRQ_ERR,
	FDR_VFU_IRQ_REQ,
	FDR_VFU_NUM_IRQS, /* 5 */
};

#define FDR_VFU_MAX_IRQS 2048u /* vectors per index (MSI-X allows 2048) */

/* Region flags. */
#define FDR_VFU_R_READ 0x1u
#define FDR_VFU_R_WRITE 0x2u

/* What the server offers (VERSION reply). */
#define FDR_VFU_MAX_MSG_FDS 8u
#define FDR_VFU_MAX_XFER (1024u * 1024)
#define FDR_VFU_MAX_DMA_MAPS 65535u
/* Largest message accepted: a REGION_WRITE of FDR_VFU_MAX_XFER bytes. */
#define FDR_VFU_MAX_MSG (16u + 16u + FDR_VFU_MAX_XFER)

/*
 * One region.  size 0: not implemented.  At most one directly mappable
 * area per region (QEMU takes one fd per region-info reply; SPDK maps fd i
 * for area i): [mmap_offset, mmap_offset + mmap_size) of the region is
 * file fd at fd_offset + mmap_offset.  Offsets and sizes of the area and
 * fd_offset are multiples of 4096.  The fd stays the device's: the server
 * sends copies of it and never closes it.  Accesses to the area may still
 * arrive as REGION_READ/WRITE (the spec allows both paths).
 */
struct fdr_vfu_region {
	uint64_t size;
	uint32_t flags; /* FDR_VFU_R_* */
	uint64_t mmap_offset;
	uint64_t mmap_size; /* 0: nothing mappable */
	int fd;             /* backing of the area when mmap_size != 0 */
	uint64_t fd_offset; /* file offset of the region's byte 0 */
};

struct fdr_vfu_desc {
	struct fdr_vfu_region regions[FDR_VFU_NUM_REGIONS];
	uint32_t irq_count[FDR_VFU_NUM_IRQS]; /* each <= FDR_VFU_MAX_IRQS; ERR, REQ <= 1 */
	const char *name;                     /* for logs; may be NULL */
};

/*
 * Device callbacks, all on the server's reactor; dev is the pointer given
 * to fdr_vfu_server_create().  Every pointer may be NULL except access.
 */
struct fdr_vfu_ops {
	/*
	 * REGION_READ/WRITE of count bytes at offset of region: the server has
	 * already checked that the region exists, allows the direction and
	 * holds [offset, offset + count) (count >= 1).  Returns 0 or -errno
	 * (sent to the client as an error reply).
	 */
	int (*access)(void *dev, unsigned region, uint64_t offset, void *buf, uint32_t count,
		      bool is_write);
	/*
	 * Called before the mapping [iova, iova + len) goes away (DMA_UNMAP,
	 * one call per mapping for UNMAP_ALL); the device must stop using
	 * pointers into it.  Not called on detach (see there).
	 */
	void (*dma_unmap)(void *dev, uint64_t iova, uint64_t len);
	/* DEVICE_RESET; DMA maps and eventfds stay (they are the client's). */
	void (*reset)(void *dev);
	/* After a SET_IRQS that changed eventfds or masks of index, and after
	 * INTx's unmask eventfd unmasked it. */
	void (*irqs_changed)(void *dev, unsigned index);
	/* A client connected. */
	void (*attach)(void *dev);
	/*
	 * The client went away (or was dropped).  Called first; then the
	 * server drops every DMA mapping and eventfd without further
	 * callbacks.  Device state stays for the next client.
	 */
	void (*detach)(void *dev);
};

struct fdr_vfu_stats {
	uint64_t clients;     /* connections accepted and attached */
	uint64_t refused;     /* connections refused while one was attached */
	uint64_t msgs;        /* commands handled */
	uint64_t errors;      /* error replies (or errors under NO_REPLY) */
	uint64_t dropped;     /* connections dropped for protocol violations */
	uint64_t dma_maps;    /* current mappings */
	uint64_t irqs_sent;   /* eventfd writes */
	uint64_t irqs_masked; /* triggers held back by a mask */
	uint64_t irqs_lost;   /* triggers with no eventfd set */
};

struct fdr_vfu_server;

/*
 * Listens on DIR/cntrl, created mode 0600 in DIR (created 0700 if
 * missing).  A stale socket left there is removed; a live one (something
 * answers) or any other file is an error.  desc is copied; ops and dev
 * must outlive the server.  Returns NULL with a reason in err.
 */
struct fdr_vfu_server *fdr_vfu_server_create(const char *dir, struct fdr_reactor *r,
					     const struct fdr_vfu_desc *desc,
					     const struct fdr_vfu_ops *ops, void *dev, char *err,
					     size_t errlen);

/*
 * Drops the client (detach is called), stops listening, removes the socket
 * if it is still ours.  On the server's reactor (e.g. from a posted
 * message) the memory is freed at the end of the loop iteration; from
 * another thread the reactor must not be running.
 */
void fdr_vfu_server_destroy(struct fdr_vfu_server *srv);

/* The socket path (DIR/cntrl). */
const char *fdr_vfu_server_path(const struct fdr_vfu_server *srv);
bool fdr_vfu_server_attached(const struct fdr_vfu_server *srv);
void fdr_vfu_server_stats(const struct fdr_vfu_server *srv, struct fdr_vfu_stats *out);

/*
 * Host pointer for device DMA to [iova, iova + len): the range must lie
 * wholly within one fd-backed mapping whose protection allows it (write:
 * the client granted WRITE; read: READ).  NULL otherwise (len 0 included):
 * never a pointer to memory the client did not map.
 */
void *fdr_vfu_dma(struct fdr_vfu_server *srv, uint64_t iova, uint64_t len, bool write);

/*
 * Signal vector of an interrupt index: writes its eventfd.  Returns false
 * if no eventfd is set or the vector is masked (then it is remembered as
 * pending and sent on unmask).  INTx is automasked as VFIO's: once
 * signalled it counts as masked until the client unmasks it (SET_IRQS
 * ACTION_UNMASK, or the unmask eventfd it gave with DATA_EVENTFD |
 * ACTION_UNMASK, e.g. QEMU's KVM resamplefd); a level-triggered device
 * checks fdr_vfu_irq_masked() and signals again from irqs_changed if its
 * line is still asserted.
 */
bool fdr_vfu_irq_trigger(struct fdr_vfu_server *srv, unsigned index, unsigned vector);
/* The eventfd of a vector, or -1. */
int fdr_vfu_irq_fd(const struct fdr_vfu_server *srv, unsigned index, unsigned vector);
bool fdr_vfu_irq_masked(const struct fdr_vfu_server *srv, unsigned index, unsigned vector);

#endif

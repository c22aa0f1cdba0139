/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The project's own small vfio-user client, for tests and bring-up: a
 * blocking, one-request-at-a-time client written from the protocol
 * specification (QEMU docs/interop/vfio-user.rst).  It shares no code with
 * the server in src/transport/vfio_user (its wire layouts are its own), so
 * tests built on it can catch the server's mistakes.
 *
 * Errors: functions returning int give >= 0 on success, -errno from the
 * server's error reply, or a negative errno for a local or transport
 * failure (-EPIPE / -ECONNRESET when the server hung up, -ETIMEDOUT after
 * the reply timeout, -EPROTO for a reply that breaks the protocol).
 * fdr_vfu_client_error() says what happened last.  Not thread safe.
 */
#ifndef FDR_VFU_CLIENT_H
#define FDR_VFU_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fdr_vfu_client;

/* Region info flags (VFIO_REGION_INFO_FLAG_*). */
#define FDR_VFUC_REGION_READ 0x1u
#define FDR_VFUC_REGION_WRITE 0x2u
#define FDR_VFUC_REGION_MMAP 0x4u
#define FDR_VFUC_REGION_CAPS 0x8u
/* DMA_MAP protection. */
#define FDR_VFUC_DMA_READ 0x1u
#define FDR_VFUC_DMA_WRITE 0x2u
/* SET_IRQS flags (VFIO_IRQ_SET_*). */
#define FDR_VFUC_IRQ_DATA_NONE 0x1u
#define FDR_VFUC_IRQ_DATA_BOOL 0x2u
#define FDR_VFUC_IRQ_DATA_EVENTFD 0x4u
#define FDR_VFUC_IRQ_ACTION_MASK 0x8u
#define FDR_VFUC_IRQ_ACTION_UNMASK 0x10u
#define FDR_VFUC_IRQ_ACTION_TRIGGER 0x20u
#define FDR_VFUC_IRQ_MSIX 2u
/* DMA_UNMAP flags. */
#define FDR_VFUC_UNMAP_ALL 0x2u

#define FDR_VFUC_MAX_AREAS 8

struct fdr_vfu_client_dev_info {
	uint32_t flags; /* bit 0 RESET, bit 1 PCI */
	uint32_t num_regions;
	uint32_t num_irqs;
};

struct fdr_vfu_client_region {
	uint32_t argsz; /* what the server says the full reply needs */
	uint32_t flags; /* FDR_VFUC_REGION_* */
	uint32_t index;
	uint64_t size;
	uint64_t offset; /* mmap offset of the region in the fd */
	unsigned nr_areas; /* from a sparse-mmap capability */
	struct {
		uint64_t offset, size;
	} areas[FDR_VFUC_MAX_AREAS];
};

/* Connects to DIR/cntrl (or to DIR itself if it is a socket).  NULL + err on failure. */
struct fdr_vfu_client *fdr_vfu_client_connect(const char *dir, char *err, size_t errlen);
void fdr_vfu_client_close(struct fdr_vfu_client *c);
const char *fdr_vfu_client_error(const struct fdr_vfu_client *c);
int fdr_vfu_client_fd(const struct fdr_vfu_client *c);
/* Reply timeout for every request (default 5000 ms, as QEMU). */
void fdr_vfu_client_set_timeout(struct fdr_vfu_client *c, int ms);

/*
 * VERSION.  json: capabilities to send (NUL-terminated, NULL: none, as SPDK).
 * The reply's version and JSON (NUL-terminated, truncated to rjson_len) come back.
 */
int fdr_vfu_client_version(struct fdr_vfu_client *c, uint16_t major, uint16_t minor,
			   const char *json, uint16_t *rmajor, uint16_t *rminor, char *rjson,
			   size_t rjson_len);
int fdr_vfu_client_get_info(struct fdr_vfu_client *c, struct fdr_vfu_client_dev_info *out);
/*
 * DEVICE_GET_REGION_INFO with the given argsz (0: 4064, as SPDK).  *fd gets
 * the descriptor sent with the reply or -1; the caller closes it.
 */
int fdr_vfu_client_region_info(struct fdr_vfu_client *c, unsigned index, uint32_t argsz,
			       struct fdr_vfu_client_region *out, int *fd);
/* mmap() sparse area i of a region with fd (MAP_SHARED); NULL on failure. */
void *fdr_vfu_client_map_area(const struct fdr_vfu_client_region *ri, int fd, unsigned area);
int fdr_vfu_client_irq_info(struct fdr_vfu_client *c, unsigned index, uint32_t *flags,
			    uint32_t *count);

/* REGION_READ / WRITE; return the byte count the server reports. */
int fdr_vfu_client_region_read(struct fdr_vfu_client *c, unsigned region, uint64_t offset,
			       void *buf, uint32_t count);
/* no_reply: sets NO_REPLY and returns 0 once sent. */
int fdr_vfu_client_region_write(struct fdr_vfu_client *c, unsigned region, uint64_t offset,
				const void *buf, uint32_t count, bool no_reply);

/* DMA_MAP: fd -1 maps without backing (then offset is 0). */
int fdr_vfu_client_dma_map(struct fdr_vfu_client *c, uint64_t iova, uint64_t size, int fd,
			   uint64_t offset, uint32_t prot);
int fdr_vfu_client_dma_unmap(struct fdr_vfu_client *c, uint64_t iova, uint64_t size,
			     uint32_t flags);

/* DEVICE_SET_IRQS as is: nfds descriptors, bools (count bytes) for DATA_BOOL. */
int fdr_vfu_client_set_irqs(struct fdr_vfu_client *c, unsigned index, uint32_t flags,
			    uint32_t start, uint32_t count, const int *fds, unsigned nfds,
			    const uint8_t *bools);
/* MSI-X eventfds for vectors start..start+count-1 (fds NULL: de-assign them). */
int fdr_vfu_client_set_msix(struct fdr_vfu_client *c, uint32_t start, uint32_t count,
			    const int *fds);
int fdr_vfu_client_mask(struct fdr_vfu_client *c, unsigned index, uint32_t start,
			uint32_t count, bool mask);
int fdr_vfu_client_reset(struct fdr_vfu_client *c);

/*
 * Raw traffic for malformed-message tests.  send_raw writes len bytes (one
 * sendmsg, fds attached to the first byte) and returns 0 or -errno.
 * recv_reply reads one message: header into hdr16 (16 bytes), up to max
 * payload bytes into payload (the rest is discarded), received fds are
 * closed; returns the payload length, or -errno (-EPIPE / -ECONNRESET on
 * EOF, -ETIMEDOUT).
 */
int fdr_vfu_client_send_raw(struct fdr_vfu_client *c, const void *msg, size_t len,
			    const int *fds, unsigned nfds);
int fdr_vfu_client_recv_reply(struct fdr_vfu_client *c, void *hdr16, void *payload, size_t max);

#endif

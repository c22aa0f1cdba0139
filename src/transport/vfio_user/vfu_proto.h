/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vfio-user wire layouts and numbers (QEMU docs/interop/vfio-user.rst,
 * with the VFIO structures it borrows from linux/vfio.h).  All fields are
 * host endian and every structure is packed.  Layouts only: see vfu.h for
 * the server and vfu_msg.c for the checks.
 */
#ifndef FDR_VFU_PROTO_H
#define FDR_VFU_PROTO_H

#include <stdint.h>

#define VFU_PACKED __attribute__((packed))

/* Commands (the reply carries the same number). */
enum vfu_cmd {
	VFU_CMD_VERSION = 1,
	VFU_CMD_DMA_MAP = 2,
	VFU_CMD_DMA_UNMAP = 3,
	VFU_CMD_DEVICE_GET_INFO = 4,
	VFU_CMD_DEVICE_GET_REGION_INFO = 5,
	VFU_CMD_DEVICE_GET_REGION_IO_FDS = 6,
	VFU_CMD_DEVICE_GET_IRQ_INFO = 7,
	VFU_CMD_DEVICE_SET_IRQS = 8,
	VFU_CMD_REGION_READ = 9,
	VFU_CMD_REGION_WRITE = 10,
	VFU_CMD_DMA_READ = 11,
	VFU_CMD_DMA_WRITE = 12,
	VFU_CMD_DEVICE_RESET = 13,
	VFU_CMD_DIRTY_PAGES = 14, /* legacy, removed from the spec */
	VFU_CMD_REGION_WRITE_MULTI = 15,
	VFU_CMD_DEVICE_FEATURE = 16,
	VFU_CMD_MIG_DATA_READ = 17,
	VFU_CMD_MIG_DATA_WRITE = 18,
};

/* Header flags. */
#define VFU_F_TYPE_MASK 0xfu
#define VFU_F_TYPE_COMMAND 0x0u
#define VFU_F_TYPE_REPLY 0x1u
#define VFU_F_NO_REPLY 0x10u
#define VFU_F_ERROR 0x20u

struct vfu_hdr {
	uint16_t msg_id;
	uint16_t cmd;
	uint32_t size; /* whole message, header included */
	uint32_t flags;
	uint32_t error_no;
} VFU_PACKED;

/* VERSION: then optional NUL-terminated JSON. */
struct vfu_version {
	uint16_t major;
	uint16_t minor;
} VFU_PACKED;

/* DMA_MAP */
#define VFU_DMA_READ 0x1u
#define VFU_DMA_WRITE 0x2u
struct vfu_dma_map {
	uint32_t argsz;
	uint32_t flags;
	uint64_t offset;
	uint64_t addr;
	uint64_t size;
} VFU_PACKED;

/* DMA_UNMAP */
#define VFU_UNMAP_GET_DIRTY_BITMAP 0x1u
#define VFU_UNMAP_ALL 0x2u
struct vfu_dma_unmap {
	uint32_t argsz;
	uint32_t flags;
	uint64_t addr;
	uint64_t size;
} VFU_PACKED;

/* DEVICE_GET_INFO: 16 bytes, not the kernel's 20. */
#define VFU_DEV_FLAGS_RESET 0x1u
#define VFU_DEV_FLAGS_PCI 0x2u
struct vfu_device_info {
	uint32_t argsz;
	uint32_t flags;
	uint32_t num_regions;
	uint32_t num_irqs;
} VFU_PACKED;

/* DEVICE_GET_REGION_INFO */
#define VFU_REGION_F_READ 0x1u
#define VFU_REGION_F_WRITE 0x2u
#define VFU_REGION_F_MMAP 0x4u
#define VFU_REGION_F_CAPS 0x8u
struct vfu_region_info {
	uint32_t argsz;
	uint32_t flags;
	uint32_t index;
	uint32_t cap_offset;
	uint64_t size;
	uint64_t offset;
} VFU_PACKED;

#define VFU_CAP_SPARSE_MMAP 1
struct vfu_cap_hdr {
	uint16_t id;
	uint16_t version;
	uint32_t next;
} VFU_PACKED;

struct vfu_sparse_area {
	uint64_t offset;
	uint64_t size;
} VFU_PACKED;

struct vfu_cap_sparse {
	struct vfu_cap_hdr hdr;
	uint32_t nr_areas;
	uint32_t reserved;
	struct vfu_sparse_area areas[];
} VFU_PACKED;

/* DEVICE_GET_IRQ_INFO */
#define VFU_IRQ_INFO_EVENTFD 0x1u
#define VFU_IRQ_INFO_MASKABLE 0x2u
#define VFU_IRQ_INFO_AUTOMASKED 0x4u
#define VFU_IRQ_INFO_NORESIZE 0x8u
struct vfu_irq_info {
	uint32_t argsz;
	uint32_t flags;
	uint32_t index;
	uint32_t count;
} VFU_PACKED;

/* DEVICE_SET_IRQS */
#define VFU_IRQ_DATA_NONE 0x1u
#define VFU_IRQ_DATA_BOOL 0x2u
#define VFU_IRQ_DATA_EVENTFD 0x4u
#define VFU_IRQ_DATA_MASK 0x7u
#define VFU_IRQ_ACTION_MASK 0x8u
#define VFU_IRQ_ACTION_UNMASK 0x10u
#define VFU_IRQ_ACTION_TRIGGER 0x20u
#define VFU_IRQ_ACTION_ALL 0x38u
struct vfu_irq_set {
	uint32_t argsz;
	uint32_t flags;
	uint32_t index;
	uint32_t start;
	uint32_t count;
	/* DATA_BOOL: count bytes follow */
} VFU_PACKED;

/* REGION_READ / REGION_WRITE */
struct vfu_region_access {
	uint64_t offset;
	uint32_t region;
	uint32_t count;
	/* data follows */
} VFU_PACKED;

_Static_assert(sizeof(struct vfu_hdr) == 16, "vfio-user header");
_Static_assert(sizeof(struct vfu_version) == 4, "version");
_Static_assert(sizeof(struct vfu_dma_map) == 32, "dma map");
_Static_assert(sizeof(struct vfu_dma_unmap) == 24, "dma unmap");
_Static_assert(sizeof(struct vfu_device_info) == 16, "device info");
_Static_assert(sizeof(struct vfu_region_info) == 32, "region info");
_Static_assert(sizeof(struct vfu_cap_sparse) == 16, "sparse cap");
_Static_assert(sizeof(struct vfu_sparse_area) == 16, "sparse area");
_Static_assert(sizeof(struct vfu_irq_info) == 16, "irq info");
_Static_assert(sizeof(struct vfu_irq_set) == 20, "irq set");
_Static_assert(sizeof(struct vfu_region_access) == 16, "region access");

#endif

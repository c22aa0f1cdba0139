/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NVMe PCIe function served over vfio-user (src/transport/vfio_user/vfu.h):
 * config space (region 7), BAR0 (registers through the core, doorbells in
 * a memfd page the client maps, MSI-X table and PBA), host-memory queues
 * polled on one reactor, PRP and SGL data movement, MSI-X / INTx
 * interrupts, Function Level Reset.
 *
 * BAR0 layout (16 KiB): 0x0000 registers, 0x1000 doorbells (DSTRD 0, the
 * one mmap area), 0x2000 MSI-X table, 0x3000 MSI-X PBA.
 *
 * Threads: everything runs on the reactor given at creation.
 * fdr_pcie_create() and fdr_pcie_destroy() are called from another thread
 * while that reactor runs (they post to it and wait): destroy before the
 * reactor stops.
 *
 * Interrupts (pcie_irq.c): MSI-X when enabled in config space, with the
 * table's mask bits and the PBA; otherwise INTx as a level; Interrupt
 * Coalescing per vector; at most one per vector per loop iteration.
 * Shadow doorbells (Doorbell Buffer Config) are read beside the registers.
 */
#ifndef FDR_PCIE_H
#define FDR_PCIE_H

#include <stddef.h>
#include <stdint.h>

struct fdr_subsys;
struct fdr_reactor;
struct fdr_pcie;

#define FDR_PCIE_BAR0_SIZE 0x4000u
#define FDR_PCIE_DB_OFFSET 0x1000u
#define FDR_PCIE_MSIX_TABLE 0x2000u
#define FDR_PCIE_MSIX_PBA 0x3000u
#define FDR_PCIE_NR_VECTORS 32u
#define FDR_PCIE_CONFIG_SIZE 4096u

/* Config-space offsets of the capabilities (for tests). */
#define FDR_PCIE_CAP_PM 0x40u
#define FDR_PCIE_CAP_MSIX 0x50u
#define FDR_PCIE_CAP_EXP 0x60u

struct fdr_pcie_opts {
	uint16_t vid, did;     /* 0: defaults */
	uint16_t ssvid, ssid;
	uint16_t bdf;          /* the PCI address traces show (bus << 8 | dev << 3 | fn) */
};

/* Serve a PCIe NVMe controller of subsystem s on DIR/cntrl.  NULL + err. */
struct fdr_pcie *fdr_pcie_create(const char *dir, struct fdr_subsys *s, struct fdr_reactor *r,
				 const struct fdr_pcie_opts *o, char *err, size_t errlen);
/* Tear the controller down, stop serving, free. */
void fdr_pcie_destroy(struct fdr_pcie *p);
const char *fdr_pcie_path(const struct fdr_pcie *p);

/* Config space emulation, exposed for unit tests: a 4 KiB image. */
void fdr_pcie_config_init(uint8_t *cfg, const struct fdr_pcie_opts *o);
/* A config write of count bytes at offset, applying read-only masks. */
void fdr_pcie_config_write(uint8_t *cfg, uint32_t offset, const uint8_t *buf, uint32_t count);

#endif

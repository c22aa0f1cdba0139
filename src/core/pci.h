/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Private to the core: PCIe (local) controllers (pci.c) and what they
 * share with ctrl.c and the admin command set.
 */
#ifndef FDR_CORE_PCI_H
#define FDR_CORE_PCI_H

#include "core.h"

/* BAR0 registers below the doorbells; the controller's reactor only. */
uint16_t fdr_pci_reg_read(struct fdr_ctrl *ctrl, uint32_t ofst, unsigned size, uint64_t *val);
uint16_t fdr_pci_reg_write(struct fdr_ctrl *ctrl, uint32_t ofst, unsigned size, uint64_t val);
/* Create/Delete I/O SQ/CQ (opcodes 00h, 01h, 04h, 05h). */
uint16_t fdr_pci_adm_decode(struct fdr_req *req);
/* Does the controller have any I/O SQ or CQ (Number of Queues is fixed then)? */
bool fdr_pci_has_io_queues(const struct fdr_ctrl *ctrl);

/* ctrl.c */
void fdr_ctrl_features_init(struct fdr_ctrl *ctrl);
/* Flush volatile caches and report CSTS.SHST complete. */
void fdr_ctrl_shutdown_flush(struct fdr_ctrl *ctrl);

#endif /* FDR_CORE_PCI_H */

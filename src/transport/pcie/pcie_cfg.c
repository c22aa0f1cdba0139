/* SPDX-License-Identifier: BSD-2-Clause */
/* The PCIe function's config space: IDs, BAR0, PM/MSI-X/PCIe capabilities. */
#include <string.h>

#include "pcie_int.h"

void fdr_pcie_config_init(uint8_t *cfg, const struct fdr_pcie_opts *o)
{
	uint16_t vid = o && o->vid ? o->vid : 0x1b36; /* as QEMU's NVMe, for lack of our own */
	uint16_t did = o && o->did ? o->did : 0x0010;

	memset(cfg, 0, FDR_PCIE_CONFIG_SIZE);
	put16(cfg, 0x00, vid);
	put16(cfg, 0x02, did);
	put16(cfg, 0x06, 0x0010); /* capabilities list */
	cfg[0x08] = 0x00;         /* revision */
	cfg[0x09] = 0x02;         /* NVM Express */
	cfg[0x0a] = 0x08;         /* non-volatile memory */
	cfg[0x0b] = 0x01;         /* mass storage */
	cfg[0x0e] = 0x00;         /* header type 0 */
	put32(cfg, 0x10, 0x4);    /* BAR0: memory, 64-bit, not prefetchable */
	put16(cfg, 0x2c, o && o->ssvid ? o->ssvid : vid);
	put16(cfg, 0x2e, o && o->ssid ? o->ssid : did);
	cfg[0x34] = FDR_PCIE_CAP_PM;
	cfg[0x3d] = 0x01; /* INTA# */
	/* Power management, version 3, no soft reset on D3hot -> D0. */
	cfg[FDR_PCIE_CAP_PM] = 0x01;
	cfg[FDR_PCIE_CAP_PM + 1] = FDR_PCIE_CAP_MSIX;
	put16(cfg, FDR_PCIE_CAP_PM + 2, 0x0003);
	put16(cfg, FDR_PCIE_CAP_PM + 4, 0x0008);
	/* MSI-X: table and PBA in BAR0. */
	cfg[FDR_PCIE_CAP_MSIX] = 0x11;
	cfg[FDR_PCIE_CAP_MSIX + 1] = FDR_PCIE_CAP_EXP;
	put16(cfg, FDR_PCIE_CAP_MSIX + 2, FDR_PCIE_NR_VECTORS - 1);
	put32(cfg, FDR_PCIE_CAP_MSIX + 4, FDR_PCIE_MSIX_TABLE | 0);
	put32(cfg, FDR_PCIE_CAP_MSIX + 8, FDR_PCIE_MSIX_PBA | 0);
	/* PCI Express, version 2, endpoint. */
	cfg[FDR_PCIE_CAP_EXP] = 0x10;
	cfg[FDR_PCIE_CAP_EXP + 1] = 0x00;
	put16(cfg, FDR_PCIE_CAP_EXP + 2, 0x0002);
	put32(cfg, FDR_PCIE_CAP_EXP + 4, 1u << 28 | 1u << 15); /* FLR, role-based error */
	put16(cfg, FDR_PCIE_CAP_EXP + 8, 0x2810); /* MRRS 512, relaxed ordering off, ... */
	put32(cfg, FDR_PCIE_CAP_EXP + 0x0c, 0x00000411); /* link: 2.5 GT/s, x1, ASPM none */
	put16(cfg, FDR_PCIE_CAP_EXP + 0x12, 0x0011);     /* link status: 2.5 GT/s x1 */
	/* 0x100: no extended capabilities (zero). */
}

/* Which bits of config byte off the host may change. */
static uint8_t cfg_wmask(uint32_t off)
{
	switch (off) {
	case 0x04: return 0x46; /* memory space, bus master, parity response */
	case 0x05: return 0x05; /* SERR#, INTx disable */
	case 0x0c: case 0x0d: case 0x3c: return 0xff;
	case 0x10: return 0x00;
	case 0x11: return (uint8_t)(~(FDR_PCIE_BAR0_SIZE - 1) >> 8) & 0xff;
	case 0x12: case 0x13: case 0x14: case 0x15: case 0x16: case 0x17: return 0xff;
	case FDR_PCIE_CAP_PM + 4: return 0x03; /* power state */
	case FDR_PCIE_CAP_MSIX + 3: return 0xc0; /* enable, function mask */
	case FDR_PCIE_CAP_EXP + 8: return 0xff;
	case FDR_PCIE_CAP_EXP + 9: return 0x7f; /* FLR initiate reads as 0 */
	case FDR_PCIE_CAP_EXP + 0x10: return 0xc3;
	default: return 0;
	}
}

void fdr_pcie_config_write(uint8_t *cfg, uint32_t offset, const uint8_t *buf, uint32_t count)
{
	for (uint32_t i = 0; i < count && offset + i < FDR_PCIE_CONFIG_SIZE; i++) {
		uint32_t off = offset + i;
		uint8_t m = cfg_wmask(off);

		cfg[off] = (uint8_t)((cfg[off] & ~m) | (buf[i] & m));
	}
}

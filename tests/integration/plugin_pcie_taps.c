/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A test plug-in on every tap of the PCIe function (test_pcie_fn.c), each
 * with an effect the host can see:
 *   pci:regread:writeback    Subsystem Vendor ID (2Ch) reads as FD01h
 *   pci:regwrite:decode      writes to Interrupt Line (3Ch) are dropped
 *   nvme:regread:writeback   VS reads as 2.0.0
 *   nvme:regwrite:decode     the first SQ 1 Tail Doorbell value 5 is dropped
 *   nvme:msixread:writeback  vector 5's Message Data reads as FEEDh
 *   nvme:msixwrite:decode    writes to vector 3's entry are dropped
 *   pci:msix:writeback       interrupts on vector 2 are lost
 */
#include <frankendrive/plugin.h>

PLUGIN_INFO("pcie_taps", "test: an effect on every PCIe tap");

#define SSVID 0x2c
#define INTLINE 0x3c
#define SQ1_TAIL 0x1008
#define MSIX_TABLE 0x2000

static DECL_NPLUGIN_REG(cfg_read)
{
	(void)dev;
	if (offset == SSVID && size >= 2)
		*value = (*value & ~0xffffull) | 0xfd01;
	return PLUGIN_CONTINUE;
}

static DECL_NPLUGIN_REG(cfg_write)
{
	(void)dev;
	(void)size;
	(void)value;
	return offset == INTLINE ? PLUGIN_DROP : PLUGIN_CONTINUE;
}

static DECL_NPLUGIN_REG(reg_read)
{
	(void)dev;
	(void)size;
	if (offset == NVME_REG_VS)
		*value = 0x00020000;
	return PLUGIN_CONTINUE;
}

static int dropped_db;

static DECL_NPLUGIN_REG(reg_write)
{
	(void)dev;
	(void)size;
	if (offset != SQ1_TAIL || *value != 5 || __atomic_exchange_n(&dropped_db, 1, __ATOMIC_RELAXED))
		return PLUGIN_CONTINUE;
	return PLUGIN_DROP;
}

static DECL_NPLUGIN_REG(msix_read)
{
	(void)dev;
	if (offset == MSIX_TABLE + 5 * 16 + 8 && size == 4)
		*value = 0xfeed;
	return PLUGIN_CONTINUE;
}

static DECL_NPLUGIN_REG(msix_write)
{
	(void)dev;
	(void)size;
	(void)value;
	return offset >= MSIX_TABLE + 3 * 16 && offset < MSIX_TABLE + 4 * 16 ? PLUGIN_DROP
									      : PLUGIN_CONTINUE;
}

static DECL_NPLUGIN_IRQ(irq)
{
	(void)dev;
	(void)cqid;
	return vector == 2 ? PLUGIN_DROP : PLUGIN_CONTINUE;
}

static const struct {
	const char *tap;
	void *cb;
} taps[] = {
	{"pci:regread:writeback", (void *)cfg_read},
	{"pci:regwrite:decode", (void *)cfg_write},
	{"nvme:regread:writeback", (void *)reg_read},
	{"nvme:regwrite:decode", (void *)reg_write},
	{"nvme:msixread:writeback", (void *)msix_read},
	{"nvme:msixwrite:decode", (void *)msix_write},
	{"pci:msix:writeback", (void *)irq},
};

int setup(void)
{
	for (unsigned i = 0; i < sizeof(taps) / sizeof(taps[0]); i++)
		if (plugin_tap_attach(taps[i].tap, taps[i].cb))
			return -1;
	return 0;
}

int teardown(void)
{
	for (unsigned i = 0; i < sizeof(taps) / sizeof(taps[0]); i++)
		plugin_tap_detach(taps[i].tap);
	return 0;
}

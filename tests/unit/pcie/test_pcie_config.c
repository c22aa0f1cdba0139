/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * PCIe config space of the NVMe function (fdr_pcie_config_init/write):
 * IDs and class, the capability list (PM, MSI-X in BAR0, PCI Express),
 * the 64-bit BAR0 sizing, and which fields the host may change.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "transport/pcie/pcie.h"

static uint16_t rd16(const uint8_t *c, unsigned off)
{
	return (uint16_t)(c[off] | c[off + 1] << 8);
}

static uint32_t rd32(const uint8_t *c, unsigned off)
{
	return (uint32_t)rd16(c, off) | (uint32_t)rd16(c, off + 2) << 16;
}

static void wr(uint8_t *c, unsigned off, uint32_t v, unsigned n)
{
	uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };

	fdr_pcie_config_write(c, off, b, n);
}

static unsigned find_cap(const uint8_t *c, uint8_t id)
{
	unsigned n = 0;

	for (unsigned p = c[0x34]; p && n < 48; p = c[p + 1], n++)
		if (c[p] == id)
			return p;
	return 0;
}

static void test_ids_and_class(void **state)
{
	uint8_t c[FDR_PCIE_CONFIG_SIZE];
	struct fdr_pcie_opts o = { .vid = 0x1234, .did = 0x5678, .ssvid = 0x9abc, .ssid = 0xdef0 };

	(void)state;
	fdr_pcie_config_init(c, &o);
	assert_int_equal(rd16(c, 0), 0x1234);
	assert_int_equal(rd16(c, 2), 0x5678);
	assert_int_equal(rd16(c, 0x2c), 0x9abc);
	assert_int_equal(rd16(c, 0x2e), 0xdef0);
	assert_int_equal(c[0x0b], 0x01);
	assert_int_equal(c[0x0a], 0x08);
	assert_int_equal(c[0x09], 0x02);
	assert_int_equal(c[0x0e], 0x00);
	assert_true(rd16(c, 6) & 0x10);
	assert_int_equal(c[0x3d], 1);
	assert_int_equal(rd32(c, 0x100), 0);
	/* Defaults. */
	fdr_pcie_config_init(c, NULL);
	assert_int_not_equal(rd16(c, 0), 0);
	assert_int_not_equal(rd16(c, 0), 0xffff);
}

static void test_capabilities(void **state)
{
	uint8_t c[FDR_PCIE_CONFIG_SIZE];
	unsigned pm, msix, exp;

	(void)state;
	fdr_pcie_config_init(c, NULL);
	pm = find_cap(c, 0x01);
	msix = find_cap(c, 0x11);
	exp = find_cap(c, 0x10);
	assert_int_not_equal(pm, 0);
	assert_int_not_equal(msix, 0);
	assert_int_not_equal(exp, 0);
	assert_int_equal((rd16(c, msix + 2) & 0x7ff) + 1, FDR_PCIE_NR_VECTORS);
	assert_int_equal(rd32(c, msix + 4), FDR_PCIE_MSIX_TABLE); /* BIR 0 */
	assert_int_equal(rd32(c, msix + 8), FDR_PCIE_MSIX_PBA);
	assert_true(FDR_PCIE_MSIX_TABLE + FDR_PCIE_NR_VECTORS * 16 <= FDR_PCIE_MSIX_PBA);
	assert_true(FDR_PCIE_MSIX_PBA + (FDR_PCIE_NR_VECTORS + 7) / 8 <= FDR_PCIE_BAR0_SIZE);
	assert_int_equal(rd16(c, exp + 2) & 0xf, 2);        /* version 2 */
	assert_int_equal((rd16(c, exp + 2) >> 4) & 0xf, 0); /* endpoint */
	assert_true(rd32(c, exp + 4) & (1u << 28));         /* FLR */
	/* MSI-X enable and function mask are the host's; the size is not. */
	wr(c, msix + 2, 0xffff, 2);
	assert_int_equal(rd16(c, msix + 2), 0xc000 | (FDR_PCIE_NR_VECTORS - 1));
	wr(c, msix + 4, 0xffffffff, 4);
	assert_int_equal(rd32(c, msix + 4), FDR_PCIE_MSIX_TABLE);
	/* PM power state. */
	wr(c, pm + 4, 0x3, 2);
	assert_int_equal(rd16(c, pm + 4) & 3, 3);
}

static void test_command_and_bar(void **state)
{
	uint8_t c[FDR_PCIE_CONFIG_SIZE], before[FDR_PCIE_CONFIG_SIZE];

	(void)state;
	fdr_pcie_config_init(c, NULL);
	memcpy(before, c, sizeof(c));
	/* SPDK: read command, write back | 0x404. */
	wr(c, 4, rd16(c, 4) | 0x404, 2);
	assert_int_equal(rd16(c, 4) & 0x404, 0x404);
	wr(c, 4, 0, 2);
	assert_int_equal(rd16(c, 4), 0);
	/* Status, IDs, class: read-only. */
	wr(c, 0, 0xffffffff, 4);
	wr(c, 6, 0xffff, 2);
	wr(c, 8, 0xffffffff, 4);
	assert_int_equal(rd32(c, 0), rd32(before, 0));
	assert_int_equal(rd16(c, 6), rd16(before, 6));
	assert_int_equal(rd32(c, 8), rd32(before, 8));
	/* BAR0 sizing: all ones reads back the size mask and the type bits. */
	wr(c, 0x10, 0xffffffff, 4);
	wr(c, 0x14, 0xffffffff, 4);
	assert_int_equal(rd32(c, 0x10), (uint32_t)~(FDR_PCIE_BAR0_SIZE - 1) | 0x4);
	assert_int_equal(rd32(c, 0x14), 0xffffffff);
	wr(c, 0x10, 0xfebf0000, 4);
	wr(c, 0x14, 0x1, 4);
	assert_int_equal(rd32(c, 0x10), 0xfebf0004);
	assert_int_equal(rd32(c, 0x14), 1);
	/* Other BARs are not implemented. */
	wr(c, 0x18, 0xffffffff, 4);
	assert_int_equal(rd32(c, 0x18), 0);
	/* Interrupt line is the host's, pin is not. */
	wr(c, 0x3c, 0xffff, 2);
	assert_int_equal(c[0x3c], 0xff);
	assert_int_equal(c[0x3d], 1);
	/* Writes past the end are cut. */
	wr(c, FDR_PCIE_CONFIG_SIZE - 2, 0xffffffff, 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ids_and_class),
		cmocka_unit_test(test_capabilities),
		cmocka_unit_test(test_command_and_bar),
	};

	return cmocka_run_group_tests_name("pcie_config", tests, NULL, NULL);
}

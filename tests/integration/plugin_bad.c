/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Plug-ins the loader must refuse (test_plugins), one per build flag:
 *   BAD_ABI             plugin_info for an ABI version this drive does not have
 *   NO_INFO             no plugin_info at all
 *   BAD_TAP             setup() attaches to a real tap, then to an unknown
 *                       one, and reports the failure
 *   BAD_TAP_IGNORED     setup() attaches to an unknown PCIe tap, ignores the
 *                       failure and returns 0
 */
#include <frankendrive/plugin.h>

#if defined(BAD_ABI)
__attribute__((visibility("default"))) const struct plugin_info plugin_info = {
	PLUGIN_ABI_VERSION + 1, "bad_abi", "built against another plugin.h"};
#elif defined(BAD_TAP)
PLUGIN_INFO("bad_tap", "attaches to a tap that does not exist");
#elif defined(BAD_TAP_IGNORED)
PLUGIN_INFO("bad_tap_ignored", "ignores a failed attach");
#elif !defined(NO_INFO)
#error "build with one of BAD_ABI, NO_INFO, BAD_TAP, BAD_TAP_IGNORED"
#endif

static int nop(uint32_t dev, struct nvme_sqe *cmd, struct nvme_cqe *cmp, uint32_t sqid)
{
	return PLUGIN_CONTINUE;
}

int setup(void)
{
#if defined(BAD_TAP)
	if (plugin_tap_attach("nvme:io:decode", nop) || plugin_tap_attach("nvme:io:bogus", nop))
		return -1;
#elif defined(BAD_TAP_IGNORED)
	plugin_tap_attach("nvme:io:decode", nop);
	plugin_tap_attach("pci:bogus:writeback", nop);
#else
	plugin_tap_attach("nvme:io:decode", nop);
#endif
	return 0;
}

int teardown(void)
{
	return 0;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sum: a vendor admin command.  Opcode 80h returns CDW10 + CDW11 in the
 * completion's Dword 0.  Port of the seed's "Sum Command":
 *
 *   # nvme admin-passthru /dev/nvme0 --opcode=0x80 --cdw10=10 --cdw11=5 -r
 *   NVMe command result:0000000f
 *
 * The seed answered at nvme:admin:writeback, after bhyve had already
 * turned the unknown opcode into an error.  In NVMe 80h is Format NVM,
 * which this drive implements, so completing at writeback would format
 * the namespace first and fix up the status afterwards.  Hence two
 * callbacks:
 *
 *   sum_claim (nvme:admin:decode) takes the command before it is decoded
 *   and completes it (PLUGIN_COMPLETE with cmp->cdw0 = the sum): Format
 *   NVM never runs.
 *
 *   sum (nvme:admin:writeback) is the seed's function as it was: it finds
 *   the command of the completion with find_cmd() and sets the result and
 *   status.  After sum_claim this only confirms what is there; on its own
 *   (without sum_claim) it shows the seed's style, at the price of a
 *   Format that already ran.
 */
#include <frankendrive/plugin.h>

PLUGIN_INFO("sum", "vendor admin opcode 80h: CDW0 = CDW10 + CDW11");

#define SUM_OPC 0x80

static DECL_NPLUGIN_ADMIN_DECODE(sum_claim);
static DECL_NPLUGIN_ADMIN_WRITEBACK(sum);

int setup(void)
{
	if (plugin_tap_attach("nvme:admin:decode", sum_claim) ||
	    plugin_tap_attach("nvme:admin:writeback", sum))
		return -1; /* the loader detaches whatever was attached */
	return 0;
}

int teardown(void)
{
	plugin_tap_detach("nvme:admin:decode");
	plugin_tap_detach("nvme:admin:writeback");
	return 0;
}

static int sum_claim(uint32_t dev, struct nvme_sqe *cmd, struct nvme_cqe *cmp, uint32_t sqid)
{
	if (cmd->opc != SUM_OPC)
		return PLUGIN_CONTINUE;
	cmp->cdw0 = cmd->cdw10 + cmd->cdw11;
	NVME_STATUS_SET(cmp->status, NVME_SCT_GENERIC, NVME_SC_SUCCESS);
	return PLUGIN_COMPLETE;
}

static int sum(uint32_t dev, struct nvme_cqe *cmp, uint32_t sqid)
{
	struct nvme_sqe *cmd = find_cmd(sqid, cmp->cid);

	if (cmd == NULL) {
		plugin_log(4, "%s: cache miss for CID=%04x", __func__, cmp->cid);
		return PLUGIN_CONTINUE;
	}

	if (cmd->opc == SUM_OPC) {
		uint32_t sum;

		sum = cmd->cdw10 + cmd->cdw11;
		cmp->cdw0 = sum;

		NVME_STATUS_SET(cmp->status, NVME_SCT_GENERIC, NVME_SC_SUCCESS);
		/* The seed returned 1 here.  At writeback the completion is
		 * posted either way, but a non-zero return also ends the
		 * tap's chain: callbacks attached after this one (a trace
		 * loaded later) would not see the completion. */
		return PLUGIN_CONTINUE;
	}
	return PLUGIN_CONTINUE;
}

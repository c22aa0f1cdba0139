/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * corrupt: silent data corruption on the way to the host.
 *
 * Successful Reads that touch an LBA range get bytes of those blocks
 * flipped in the data sent to the host; the media keeps the right data
 * (read twice, the same bytes are wrong the same way).  Done at
 * nvme:io:writeback, where the read data is in the command's buffer.
 *
 *   lba=START-END  blocks to corrupt, inclusive (or lba=N for one block);
 *                  required
 *   nsid=N         only this namespace (default: all)
 *   mask=X         XOR applied to each corrupted byte (default 0xff)
 *   bytes=N        bytes corrupted at the start of each block (default 1)
 *
 *   frankendrive --plugin plugins/corrupt.so,lba=2048-2055,mask=0x01
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include <frankendrive/plugin.h>

PLUGIN_INFO("corrupt", "flip bytes of read data in an LBA range");

static uint64_t first_lba, last_lba, nsid, nbytes;
static uint8_t mask;

static DECL_NPLUGIN_IO_WRITEBACK(corrupt_read);

int setup(void)
{
	const char *lba = plugin_arg("lba");
	uint64_t m;
	char *end;

	if (!lba || !*lba) {
		plugin_log(3, "lba=START-END is required");
		return -1;
	}
	errno = 0;
	first_lba = last_lba = strtoull(lba, &end, 0);
	if (*end == '-')
		last_lba = strtoull(end + 1, &end, 0);
	if (errno || *end || *lba == '-' || last_lba < first_lba) {
		plugin_log(3, "lba=%s: expected START-END", lba);
		return -1;
	}
	if (plugin_arg_u64("nsid", 0, &nsid) || plugin_arg_u64("mask", 0xff, &m) || plugin_arg_u64("bytes", 1, &nbytes))
		return -1;
	if (m > 0xff) {
		plugin_log(3, "mask=%s: expected one byte", plugin_arg("mask"));
		return -1;
	}
	mask = (uint8_t)m;
	plugin_log(6, "LBAs %" PRIu64 "-%" PRIu64 ", %" PRIu64 " byte(s) per block ^ 0x%02x",
		   first_lba, last_lba, nbytes, mask);
	return plugin_tap_attach("nvme:io:writeback", corrupt_read);
}

int teardown(void)
{
	plugin_tap_detach("nvme:io:writeback");
	return 0;
}

static int corrupt_read(uint32_t dev, struct nvme_cqe *cmp, uint32_t sqid)
{
	struct nvme_sqe *cmd = find_cmd(sqid, cmp->cid);
	plugin_cmd_t *c = plugin_cmd();
	uint64_t slba, elba, lba;
	uint32_t len, lbasz;
	uint8_t *data;

	if (!cmd || cmd->opc != NVME_OPC_READ || NVME_STATUS_GET(cmp->status) != 0)
		return PLUGIN_CONTINUE;
	if (nsid && cmd->nsid != nsid)
		return PLUGIN_CONTINUE;
	slba = (uint64_t)cmd->cdw10 | (uint64_t)cmd->cdw11 << 32;
	elba = slba + NVME_RW_NLB(cmd->cdw12) - 1;
	if (elba < first_lba || slba > last_lba)
		return PLUGIN_CONTINUE;

	data = plugin_cmd_data(c, &len);
	lbasz = plugin_cmd_lba_size(c);
	if (!data || !lbasz)
		return PLUGIN_CONTINUE;
	for (lba = slba > first_lba ? slba : first_lba; lba <= elba && lba <= last_lba; lba++) {
		uint64_t off = (lba - slba) * lbasz;

		for (uint64_t i = 0; i < nbytes && i < lbasz && off + i < len; i++)
			data[off + i] ^= mask;
	}
	return PLUGIN_CONTINUE;
}

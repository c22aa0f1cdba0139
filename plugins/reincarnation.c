/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * reincarnation: a drive that dies and comes back.
 *
 * n Writes go through, then the next k fail with Command Specific /
 * Attempted Write to Read Only Range (01h/82h), then the drive recovers and
 * the cycle repeats: with n=5,k=2 writes 1-5 succeed, 6-7 fail, 8-12
 * succeed, 13-14 fail, ...  Port of the seed's "Reincarnation" plug-in
 * (whose window was MAX_WRITES + 10 with a counter that skipped a beat;
 * here the window is exactly k).
 *
 *   n=N     writes per good period (default 5000)
 *   k=K     writes per bad period (default 10)
 *   dnr=1   set DNR on the failures (default clear, as in the seed: the
 *           condition is transient, so a retry may well succeed)
 *
 *   frankendrive --plugin plugins/reincarnation.so,n=1000,k=3
 */
#include <errno.h>
#include <stdlib.h>

#include <frankendrive/plugin.h>

PLUGIN_INFO("reincarnation", "writes fail for k writes after every n, then recover");

static uint64_t n_good = 5000, k_bad = 10;
static bool set_dnr;
static uint64_t n_writes; /* atomic */

static DECL_NPLUGIN_IO_DECODE(io_ro_fail);

int setup(void)
{
	uint64_t dnr;

	if (plugin_arg_u64("n", 5000, &n_good) || plugin_arg_u64("k", 10, &k_bad) || plugin_arg_u64("dnr", 0, &dnr))
		return -1;
	set_dnr = dnr != 0;
	plugin_log(6, "%llu good writes, then %llu failing, and again",
		   (unsigned long long)n_good, (unsigned long long)k_bad);
	return plugin_tap_attach("nvme:io:decode", io_ro_fail);
}

int teardown(void)
{
	plugin_tap_detach("nvme:io:decode");
	return 0;
}

static int io_ro_fail(uint32_t dev, struct nvme_sqe *cmd, struct nvme_cqe *cmp, uint32_t sqid)
{
	if (cmd->opc != NVME_OPC_WRITE || k_bad == 0)
		return PLUGIN_CONTINUE;

	uint64_t i = __atomic_fetch_add(&n_writes, 1, __ATOMIC_RELAXED);
	if (i % (n_good + k_bad) < n_good)
		return PLUGIN_CONTINUE;

	NVME_STATUS_SET(cmp->status, NVME_SCT_COMMAND_SPECIFIC, NVME_SC_ATTEMPTED_WRITE_TO_RO_PAGE);
	if (set_dnr)
		NVME_STATUS_SET_DNR(cmp->status);
	return PLUGIN_COMPLETE;
}

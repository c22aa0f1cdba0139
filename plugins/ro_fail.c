/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ro_fail: the drive that "entered read only mode and freaked out".
 *
 * After n Write commands (default 5000) every further Write completes
 * with success without being written: the host believes its data is on
 * the media, reading it back shows the old data.  Port of the seed's
 * "No Writes" plug-in.
 *
 *   n=N         writes that still reach the media (default 5000)
 *   mode=silent drop the writes and report success (the default)
 *   mode=error  fail the writes instead, with Command Specific / Attempted
 *               Write to Read Only Range (01h/82h) -- the seed's "No Writes
 *               + Errors"; DNR is set (the condition is permanent) unless
 *               dnr=0, which gives the seed's exact status
 *   aen=1       when turning read-only, set the SMART critical warning
 *               "media placed in read only mode" and raise a SMART /
 *               health asynchronous event, once
 *
 *   frankendrive --plugin plugins/ro_fail.so,n=100,mode=error,aen=1
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <frankendrive/plugin.h>

PLUGIN_INFO("ro_fail", "after n writes, writes are dropped (or fail with mode=error)");

static uint64_t n_writes = 5000; /* "Fail" after 5,000 Write commands */
static bool mode_error, set_dnr = true, raise_aen;

/* Callbacks run on several reactors at once: count with atomics. */
static uint64_t nr_seen;
static bool went_read_only;

static DECL_NPLUGIN_IO_DECODE(io_ro_fail);

/* A numeric argument, or def when absent.  -1 if it is not a number. */
int setup(void)
{
	const char *mode = plugin_arg("mode");
	uint64_t aen, dnr;

	if (plugin_arg_u64("n", 5000, &n_writes) || plugin_arg_u64("aen", 0, &aen) || plugin_arg_u64("dnr", 1, &dnr))
		return -1;
	if (mode && strcmp(mode, "error") && strcmp(mode, "silent")) {
		plugin_log(3, "mode=%s: expected silent or error", mode);
		return -1;
	}
	mode_error = mode && !strcmp(mode, "error");
	raise_aen = aen != 0;
	set_dnr = dnr != 0;
	plugin_log(6, "writes after the first %llu %s", (unsigned long long)n_writes,
		   mode_error ? "fail with 01h/82h" : "are silently dropped");
	return plugin_tap_attach("nvme:io:decode", io_ro_fail);
}

int teardown(void)
{
	plugin_tap_detach("nvme:io:decode");
	return 0;
}

/* What a drive does when its media goes read-only: say so in the SMART
 * log and tell the host with an asynchronous event. */
static void go_read_only(void)
{
	uint64_t crit = plugin_health_get(PLUGIN_HEALTH_CRITICAL_WARNING);

	plugin_health_set(PLUGIN_HEALTH_CRITICAL_WARNING, crit | NVME_SMART_CRIT_READ_ONLY);
	plugin_aen_raise(0, NVME_AER_TYPE_SMART, NVME_AER_SMART_RELIABILITY, NVME_LOG_SMART);
}

static int io_ro_fail(uint32_t dev, struct nvme_sqe *cmd, struct nvme_cqe *cmp, uint32_t sqid)
{
	if (cmd->opc != NVME_OPC_WRITE)
		return PLUGIN_CONTINUE;
	if (__atomic_fetch_add(&nr_seen, 1, __ATOMIC_RELAXED) < n_writes)
		return PLUGIN_CONTINUE;

	if (!__atomic_exchange_n(&went_read_only, true, __ATOMIC_ACQ_REL)) {
		plugin_log(5, "media placed in read only mode after %llu writes",
			   (unsigned long long)n_writes);
		if (raise_aen)
			go_read_only();
	}
	if (mode_error) {
		NVME_STATUS_SET(cmp->status, NVME_SCT_COMMAND_SPECIFIC,
				NVME_SC_ATTEMPTED_WRITE_TO_RO_PAGE);
		if (set_dnr)
			NVME_STATUS_SET_DNR(cmp->status);
	} else {
		NVME_STATUS_SET(cmp->status, NVME_SCT_GENERIC, NVME_SC_SUCCESS);
	}
	return PLUGIN_COMPLETE;
}

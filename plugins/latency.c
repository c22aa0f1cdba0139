/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * latency: slow media.  Matching commands wait a fixed or random time
 * before they go on, without blocking the reactor: the callback holds the
 * command with plugin_cmd_delay() and returns PLUGIN_HOLD; the drive
 * resumes it when the time is up.
 *
 *   us=N              fixed delay in microseconds (default 100)
 *   min_us=A,max_us=B uniform random delay in [A, B] instead
 *   opc=NAME          only this opcode: a name ("read", "write", "flush",
 *                     "identify", "admin:0x80") or a number; default: all
 *   set=io|admin      which queues (default io, or the set opc names)
 *   stage=S           decode (before the data transfer), execute (after
 *                     it, before the media: the default) or writeback
 *                     (after the media, before the completion is posted)
 *   seed=S            seed of the random delays (default 1)
 *
 *   frankendrive --plugin plugins/latency.so,opc=read,min_us=50,max_us=5000
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <frankendrive/plugin.h>

PLUGIN_INFO("latency", "fixed or random delay for matching commands");

static uint64_t min_ns, max_ns;
static bool any_opc = true, admin_set;
static uint8_t match_opc;
static uint64_t seed = 1, nr_draws; /* nr_draws atomic */
static char tap[32];
static bool warned; /* atomic */

static DECL_NPLUGIN_CMD(delay_cmd);
static DECL_NPLUGIN_CPL(delay_cpl);

int setup(void)
{
	const char *opc = plugin_arg("opc"), *set = plugin_arg("set"), *stage = plugin_arg("stage");
	uint64_t us, lo, hi;

	/* us= alone, or a range (min_us defaults to 0, max_us to min_us) */
	if (plugin_arg_u64("us", 100, &us) || plugin_arg_u64("seed", 1, &seed))
		return -1;
	if (plugin_arg("min_us") || plugin_arg("max_us")) {
		if (plugin_arg_u64("min_us", 0, &lo) || plugin_arg_u64("max_us", lo, &hi))
			return -1;
	} else {
		lo = hi = us;
	}
	if (lo > hi || hi > 3600ull * 1000000) {
		plugin_log(3, "want min_us <= max_us <= one hour");
		return -1;
	}
	min_ns = lo * 1000;
	max_ns = hi * 1000;

	if (set && strcmp(set, "io") && strcmp(set, "admin")) {
		plugin_log(3, "set=%s: expected io or admin", set);
		return -1;
	}
	admin_set = set && !strcmp(set, "admin");
	if (opc) {
		bool admin = admin_set;
		int rc = nvme_opc_parse(opc, &admin, &match_opc);

		if (rc < 0 || (rc == 0 && set && admin != admin_set)) {
			plugin_log(3, "opc=%s: not an opcode%s", opc,
				   rc < 0 ? "" : admin_set ? " of the admin set" : " of the I/O set");
			return -1;
		}
		admin_set = admin;
		any_opc = false;
	}
	if (!stage)
		stage = "execute";
	if (strcmp(stage, "decode") && strcmp(stage, "execute") && strcmp(stage, "writeback")) {
		plugin_log(3, "stage=%s: expected decode, execute or writeback", stage);
		return -1;
	}
	snprintf(tap, sizeof(tap), "nvme:%s:%s", admin_set ? "admin" : "io", stage);
	plugin_log(6, "%llu-%llu us at %s for %s", (unsigned long long)lo,
		   (unsigned long long)hi, tap, opc ? opc : "every command");
	return plugin_tap_attach(tap, strcmp(stage, "writeback") ? (void *)delay_cmd
								   : (void *)delay_cpl);
}

int teardown(void)
{
	/* Commands still waiting resume on their own: the drive owns the timers. */
	plugin_tap_detach(tap);
	return 0;
}

/* splitmix64 of (seed, k): lock-free and repeatable */
static uint64_t draw(uint64_t k)
{
	uint64_t z = seed + (k + 1) * 0x9e3779b97f4a7c15ull;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static int delay(uint8_t opc)
{
	uint64_t ns = min_ns;

	if (!any_opc && opc != match_opc)
		return PLUGIN_CONTINUE;
	if (max_ns > min_ns)
		ns += draw(__atomic_fetch_add(&nr_draws, 1, __ATOMIC_RELAXED)) % (max_ns - min_ns + 1);
	if (ns == 0)
		return PLUGIN_CONTINUE;
	if (plugin_cmd_delay(plugin_cmd(), ns)) {
		if (!__atomic_exchange_n(&warned, true, __ATOMIC_RELAXED))
			plugin_log(4, "cannot delay a command: %s", strerror(errno));
		return PLUGIN_CONTINUE;
	}
	return PLUGIN_HOLD;
}

static int delay_cmd(uint32_t dev, struct nvme_sqe *cmd, struct nvme_cqe *cmp, uint32_t sqid)
{
	return delay(cmd->opc);
}

static int delay_cpl(uint32_t dev, struct nvme_cqe *cmp, uint32_t sqid)
{
	struct nvme_sqe *cmd = find_cmd(sqid, cmp->cid);

	return cmd ? delay(cmd->opc) : PLUGIN_CONTINUE;
}

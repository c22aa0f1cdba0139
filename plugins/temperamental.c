/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * temperamental: a drive that turns read-only at a moment of its choosing.
 *
 * Every Write rolls the dice; once one comes up (probability p) the drive
 * is read-only for good and every later Write fails with Command Specific /
 * Attempted Write to Read Only Range (01h/82h).  Port of the seed's
 * "Temperamental" plug-in, made repeatable: the k-th Write's draw depends
 * only on the seed and k, so a given seed always turns read-only after the
 * same number of writes (which command is the k-th one still depends on how
 * the host's queues interleave).
 *
 *   p=P      probability per Write, 0..1 (default 0.01)
 *   seed=S   PRNG seed (default: from the clock, logged so a run can be
 *            repeated)
 *   dnr=0    leave DNR clear, as the seed did (default: DNR set)
 *
 *   frankendrive --plugin plugins/temperamental.so,p=0.001,seed=42
 */
#include <errno.h>
#include <stdlib.h>

#include <frankendrive/plugin.h>

PLUGIN_INFO("temperamental", "writes turn read-only at random (seeded), then fail with 01h/82h");

static double p = 0.01;
static uint64_t seed;
static bool set_dnr = true;

static uint64_t nr_writes; /* atomic: index of the next draw */
static bool is_readonly;   /* atomic */

static DECL_NPLUGIN_IO_DECODE(io_ro_fail);

/* splitmix64: a good 64-bit mix of (seed, k), so draws need no shared
 * state beyond the atomic counter -- no lock, no rand(). */
static uint64_t draw(uint64_t k)
{
	uint64_t z = seed + (k + 1) * 0x9e3779b97f4a7c15ull;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

int setup(void)
{
	const char *v;
	char *end;

	if ((v = plugin_arg("p"))) {
		errno = 0;
		p = strtod(v, &end);
		if (!*v || *end || errno || !(p >= 0 && p <= 1)) {
			plugin_log(3, "p=%s: expected a probability 0..1", v);
			return -1;
		}
	}
	if ((v = plugin_arg("seed"))) {
		errno = 0;
		seed = strtoull(v, &end, 0);
		if (!*v || *end || errno) {
			plugin_log(3, "seed=%s: expected a number", v);
			return -1;
		}
	} else {
		seed = plugin_now_ns();
	}
	if ((v = plugin_arg("dnr")))
		set_dnr = strtoul(v, NULL, 0) != 0;
	plugin_log(6, "p=%g seed=%llu", p, (unsigned long long)seed);
	return plugin_tap_attach("nvme:io:decode", io_ro_fail);
}

int teardown(void)
{
	plugin_tap_detach("nvme:io:decode");
	return 0;
}

static int io_ro_fail(uint32_t dev, struct nvme_sqe *cmd, struct nvme_cqe *cmp, uint32_t sqid)
{
	if (cmd->opc != NVME_OPC_WRITE)
		return PLUGIN_CONTINUE;
	if (__atomic_load_n(&is_readonly, __ATOMIC_RELAXED)) {
		NVME_STATUS_SET(cmp->status, NVME_SCT_COMMAND_SPECIFIC,
				NVME_SC_ATTEMPTED_WRITE_TO_RO_PAGE);
		if (set_dnr)
			NVME_STATUS_SET_DNR(cmp->status);
		return PLUGIN_COMPLETE;
	}

	/* As in the seed, the Write that rolls the fatal number still goes
	 * through; the ones after it fail.  The top 53 bits make a uniform
	 * double in [0, 1). */
	uint64_t k = __atomic_fetch_add(&nr_writes, 1, __ATOMIC_RELAXED);
	if ((double)(draw(k) >> 11) * 0x1p-53 < p &&
	    !__atomic_exchange_n(&is_readonly, true, __ATOMIC_RELAXED))
		plugin_log(5, "read-only after write %llu (seed %llu)",
			   (unsigned long long)k + 1, (unsigned long long)seed);
	return PLUGIN_CONTINUE;
}

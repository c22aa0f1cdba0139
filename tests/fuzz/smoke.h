/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What the fuzz targets' smoke drivers (built without libFuzzer, run in the
 * unit suite) share: repeatable pseudo-random numbers and the mutation of
 * an input that starts with two mode bytes.  Include once, after defining
 * FUZZ_RNG_SEED if the target wants its own sequence.
 */
#ifndef FDR_FUZZ_SMOKE_H
#define FDR_FUZZ_SMOKE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifndef FUZZ_RNG_SEED
#define FUZZ_RNG_SEED 0x9e3779b97f4a7c15ull
#endif

static uint64_t rng = FUZZ_RNG_SEED;

/* xorshift64: 0 <= result < n (0 for n == 0). */
static inline uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return n ? (uint32_t)(rng % n) : 0;
}

/*
 * Up to 7 mutations of buf[2..len) (the first two bytes choose the
 * target's mode): flipped bytes, values from vals, truncation, a stretch
 * duplicated at the end (within cap).  Returns the new length, at least 3.
 */
static inline size_t fuzz_mutate(uint8_t *buf, size_t len, size_t cap, const uint8_t *vals,
				 unsigned nvals)
{
	for (unsigned m = rnd(8); m; m--) {
		switch (rnd(4)) {
		case 0: /* flip a byte */
			buf[2 + rnd((uint32_t)len - 2)] ^= (uint8_t)(1 + rnd(255));
			break;
		case 1: /* an interesting value */
			buf[2 + rnd((uint32_t)len - 2)] = vals[rnd(nvals)];
			break;
		case 2: /* truncate */
			len = 2 + rnd((uint32_t)len - 2);
			break;
		default: /* duplicate a stretch */
			if (len * 2 < cap) {
				size_t from = 2 + rnd((uint32_t)len - 2);

				memcpy(buf + len, buf + from, len - from);
				len += len - from;
			}
			break;
		}
		if (len < 3)
			len = 3;
	}
	return len;
}

#endif

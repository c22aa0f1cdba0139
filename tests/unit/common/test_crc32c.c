/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for src/common/crc32c.h against a bit-at-a-time reference. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "common/crc32c.h"

/* CRC32C, reflected, polynomial 0x1EDC6F41 (reversed 0x82F63B78). */
static uint32_t ref_crc32c(const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint32_t crc = 0xffffffffu;

	for (size_t i = 0; i < len; i++) {
		crc ^= p[i];
		for (int bit = 0; bit < 8; bit++)
			crc = (crc >> 1) ^ (0x82f63b78u & (0u - (crc & 1u)));
	}
	return ~crc;
}

/* Deterministic pseudo-random bytes (xorshift32), independent of libc rand. */
static uint32_t rng_state = 0x12345678u;

static uint32_t rng(void)
{
	uint32_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	rng_state = x;
	return x;
}

static void fill_random(uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)rng();
}

static void test_known_vectors(void **state)
{
	uint8_t buf[32];

	(void)state;
	assert_int_equal(fdr_crc32c("123456789", 9), 0xE3069283u);
	assert_int_equal(ref_crc32c("123456789", 9), 0xE3069283u);

	/* iSCSI test vectors (RFC 3720, B.4) */
	memset(buf, 0, sizeof(buf));
	assert_int_equal(fdr_crc32c(buf, sizeof(buf)), 0x8A9136AAu);
	memset(buf, 0xff, sizeof(buf));
	assert_int_equal(fdr_crc32c(buf, sizeof(buf)), 0x62A8AB43u);
	for (unsigned i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)i;
	assert_int_equal(fdr_crc32c(buf, sizeof(buf)), 0x46DD794Eu);
	for (unsigned i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(31 - i);
	assert_int_equal(fdr_crc32c(buf, sizeof(buf)), 0x113FDB5Cu);
}

static void test_empty(void **state)
{
	uint8_t byte = 0xa5;

	(void)state;
	assert_int_equal(fdr_crc32c(&byte, 0), 0u);
	assert_int_equal(fdr_crc32c("", 0), ref_crc32c("", 0));
	/* An empty update leaves a running CRC as it was. */
	assert_int_equal(fdr_crc32c_update(FDR_CRC32C_INIT, &byte, 0), FDR_CRC32C_INIT);
	assert_int_equal(fdr_crc32c_update(0x1234abcdu, &byte, 0), 0x1234abcdu);
	assert_int_equal(fdr_crc32c_final(FDR_CRC32C_INIT), 0u);
}

/* Every length and alignment up to a few cache lines, against the reference. */
static void test_small_lengths_and_offsets(void **state)
{
	uint8_t buf[256 + 16];

	(void)state;
	fill_random(buf, sizeof(buf));
	for (size_t off = 0; off < 16; off++)
		for (size_t len = 0; len <= 256; len++)
			assert_int_equal(fdr_crc32c(buf + off, len), ref_crc32c(buf + off, len));
}

static void test_4k_against_reference(void **state)
{
	uint8_t *buf = malloc(4096);

	(void)state;
	assert_non_null(buf);
	for (int round = 0; round < 8; round++) {
		fill_random(buf, 4096);
		assert_int_equal(fdr_crc32c(buf, 4096), ref_crc32c(buf, 4096));
	}
	memset(buf, 0, 4096);
	assert_int_equal(fdr_crc32c(buf, 4096), ref_crc32c(buf, 4096));
	free(buf);
}

/* Running the CRC over pieces gives the one-shot value, wherever the cuts are. */
static void test_incremental(void **state)
{
	enum { LEN = 8192 + 13 };
	uint8_t *buf = malloc(LEN);

	(void)state;
	assert_non_null(buf);
	fill_random(buf, LEN);
	uint32_t whole = fdr_crc32c(buf, LEN);
	assert_int_equal(whole, ref_crc32c(buf, LEN));

	/* One cut at every position of a short prefix, and at random places. */
	for (size_t cut = 0; cut <= 300; cut++) {
		uint32_t c = fdr_crc32c_update(FDR_CRC32C_INIT, buf, cut);
		c = fdr_crc32c_update(c, buf + cut, LEN - cut);
		assert_int_equal(fdr_crc32c_final(c), whole);
	}
	for (int round = 0; round < 200; round++) {
		size_t cut = rng() % (LEN + 1);
		uint32_t c = fdr_crc32c_update(FDR_CRC32C_INIT, buf, cut);
		c = fdr_crc32c_update(c, buf + cut, LEN - cut);
		assert_int_equal(fdr_crc32c_final(c), whole);
	}
	/* Many random pieces, some empty. */
	for (int round = 0; round < 100; round++) {
		uint32_t c = FDR_CRC32C_INIT;
		size_t pos = 0;

		while (pos < LEN) {
			size_t n = rng() % 700;

			if (n > LEN - pos)
				n = LEN - pos;
			c = fdr_crc32c_update(c, buf + pos, n);
			pos += n;
		}
		assert_int_equal(fdr_crc32c_final(c), whole);
	}
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_vectors),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_small_lengths_and_offsets),
		cmocka_unit_test(test_4k_against_reference),
		cmocka_unit_test(test_incremental),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for the sparse RAM backend (src/backend/bdev_ram.c). */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "backend/bdev.h"

#define CHUNK (64u * 1024u) /* the backend's chunk size, for boundary tests */
#define MiB (1024u * 1024u)

struct done {
	int calls;
	int err;
};

static void on_done(struct fdr_bdev_io *io, int err)
{
	struct done *d = io->ctx;

	d->calls++;
	d->err = err;
}

/* Submits one request; the RAM backend must complete it before returning. */
static int do_io(struct fdr_bdev *b, enum fdr_bdev_op op, uint64_t off, uint64_t len, void *buf)
{
	struct done d = {0, 1};
	struct fdr_bdev_io io = {
		.op = op, .offset = off, .len = len, .buf = buf, .cb = on_done, .ctx = &d,
	};

	assert_int_equal(fdr_bdev_submit(b, &io), 0);
	assert_int_equal(d.calls, 1);
	return d.err;
}

static void fill(uint8_t *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed * 131u + i * 7u + (i >> 9));
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static struct fdr_bdev *make(uint64_t size)
{
	char err[256] = "";
	struct fdr_bdev *b = fdr_bdev_ram_create(size, err, sizeof(err));

	assert_non_null(b);
	return b;
}

static void test_create(void **state)
{
	char err[256] = "";
	struct fdr_bdev *b = make(UINT64_C(1) << 30);

	assert_string_equal(b->desc, "ram 1073741824");
	assert_string_equal(b->ops->name, "ram");
	assert_int_equal(b->size, UINT64_C(1) << 30);
	assert_false(b->volatile_wc);
	assert_int_equal(b->ops->flush_sync(b), 0);
	fdr_bdev_destroy(b);

	assert_null(fdr_bdev_ram_create(0, err, sizeof(err)));
	assert_true(err[0] != '\0');
	err[0] = '\0';
	/* Over the size limit: refused before any allocation. */
	assert_null(fdr_bdev_ram_create(UINT64_MAX, err, sizeof(err)));
	assert_true(err[0] != '\0');
	fdr_bdev_destroy(NULL); /* harmless */
}

static void test_roundtrip_unaligned(void **state)
{
	struct fdr_bdev *b = make(8 * CHUNK);
	/* Starts 1000 bytes before a chunk boundary, spans several chunks and
	 * ends in the middle of one. */
	const uint64_t off = CHUNK - 1000, len = 3 * CHUNK + 777;
	uint8_t *w = malloc(len), *r = malloc(len + 4096);

	fill(w, len, 1);
	assert_int_equal(do_io(b, FDR_BDEV_WRITE, off, len, w), 0);
	memset(r, 0xa5, len + 4096);
	assert_int_equal(do_io(b, FDR_BDEV_READ, off, len, r), 0);
	assert_memory_equal(r, w, len);

	/* A wider read: the bytes around the written range are still zero. */
	memset(r, 0xa5, len + 4096);
	assert_int_equal(do_io(b, FDR_BDEV_READ, off - 2048, len + 4096, r), 0);
	assert_true(all_zero(r, 2048));
	assert_memory_equal(r + 2048, w, len);
	assert_true(all_zero(r + 2048 + len, 2048));

	/* Overwrite a sliver across a boundary; its neighbours survive. */
	uint8_t s[10];
	fill(s, sizeof(s), 9);
	assert_int_equal(do_io(b, FDR_BDEV_WRITE, 2 * CHUNK - 5, sizeof(s), s), 0);
	memcpy(w + (2 * CHUNK - 5 - off), s, sizeof(s));
	assert_int_equal(do_io(b, FDR_BDEV_READ, off, len, r), 0);
	assert_memory_equal(r, w, len);

	/* Flush is accepted whatever its range. */
	assert_int_equal(do_io(b, FDR_BDEV_FLUSH, 0, 0, NULL), 0);
	free(w);
	free(r);
	fdr_bdev_destroy(b);
}

static void test_sparse_reads_zero(void **state)
{
	struct fdr_bdev *b = make(16 * CHUNK);
	uint8_t *r = malloc(4 * CHUNK);
	uint8_t w[512];

	memset(r, 0xff, 4 * CHUNK);
	assert_int_equal(do_io(b, FDR_BDEV_READ, 3, 4 * CHUNK, r), 0);
	assert_true(all_zero(r, 4 * CHUNK));

	/* One written sector leaves the rest of its chunk and others zero. */
	memset(w, 0x5a, sizeof(w));
	assert_int_equal(do_io(b, FDR_BDEV_WRITE, 5 * CHUNK + 512, sizeof(w), w), 0);
	memset(r, 0xff, 4 * CHUNK);
	assert_int_equal(do_io(b, FDR_BDEV_READ, 4 * CHUNK, 4 * CHUNK, r), 0);
	assert_true(all_zero(r, CHUNK + 512));
	assert_memory_equal(r + CHUNK + 512, w, sizeof(w));
	assert_true(all_zero(r + CHUNK + 1024, 3 * CHUNK - 1024));
	free(r);
	fdr_bdev_destroy(b);
}

/* A device whose size is not a multiple of the chunk size. */
static void test_partial_last_chunk(void **state)
{
	const uint64_t size = 2 * CHUNK + 4096;
	struct fdr_bdev *b = make(size);
	uint8_t w[4096], r[4096];

	fill(w, sizeof(w), 3);
	assert_int_equal(do_io(b, FDR_BDEV_WRITE, size - sizeof(w), sizeof(w), w), 0);
	assert_int_equal(do_io(b, FDR_BDEV_READ, size - sizeof(r), sizeof(r), r), 0);
	assert_memory_equal(r, w, sizeof(w));
	assert_int_equal(do_io(b, FDR_BDEV_WRITE, size - 1, 2, w), -EINVAL);
	fdr_bdev_destroy(b);
}

static void check_zeroing(enum fdr_bdev_op op)
{
	struct fdr_bdev *b = make(8 * CHUNK);
	const uint64_t len = 4 * CHUNK;
	uint8_t *w = malloc(len), *r = malloc(6 * CHUNK);

	fill(w, len, 4);
	assert_int_equal(do_io(b, FDR_BDEV_WRITE, 0, len, w), 0);
	/* Unaligned range across two boundaries, beyond the written data into
	 * never-allocated chunks too. */
	const uint64_t zoff = CHUNK + 123, zlen = 5 * CHUNK - 123 - 17;
	assert_int_equal(do_io(b, op, zoff, zlen, NULL), 0);
	memset(r, 0xee, 6 * CHUNK);
	assert_int_equal(do_io(b, FDR_BDEV_READ, 0, 6 * CHUNK, r), 0);
	assert_memory_equal(r, w, zoff);
	assert_true(all_zero(r + zoff, zlen));
	assert_true(all_zero(r + zoff + zlen, 6 * CHUNK - zoff - zlen));

	/* Zeroed chunks can be written again. */
	assert_int_equal(do_io(b, FDR_BDEV_WRITE, zoff, 512, w), 0);
	assert_int_equal(do_io(b, FDR_BDEV_READ, zoff - 1, 514, r), 0);
	assert_int_equal(r[0], w[zoff - 1]);
	assert_memory_equal(r + 1, w, 512);
	assert_int_equal(r[513], 0);
	/* An empty range is fine. */
	assert_int_equal(do_io(b, op, 3, 0, NULL), 0);
	free(w);
	free(r);
	fdr_bdev_destroy(b);
}

static void test_write_zeroes(void **state)
{
	check_zeroing(FDR_BDEV_WRITE_ZEROES);
}

static void test_discard(void **state)
{
	check_zeroing(FDR_BDEV_DISCARD);
}

static void test_bounds(void **state)
{
	const uint64_t size = 4 * CHUNK;
	struct fdr_bdev *b = make(size);
	uint8_t buf[1024];
	static const enum fdr_bdev_op ops[] = {FDR_BDEV_READ, FDR_BDEV_WRITE,
					       FDR_BDEV_WRITE_ZEROES, FDR_BDEV_DISCARD};

	memset(buf, 0x11, sizeof(buf));
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		enum fdr_bdev_op op = ops[i];

		assert_int_equal(do_io(b, op, size - 512, 513, buf), -EINVAL);
		assert_int_equal(do_io(b, op, size, 1, buf), -EINVAL);
		assert_int_equal(do_io(b, op, size + 1, 0, buf), -EINVAL);
		/* offset + len wraps to a small number */
		assert_int_equal(do_io(b, op, UINT64_MAX - 10, 100, buf), -EINVAL);
		assert_int_equal(do_io(b, op, 512, UINT64_MAX, buf), -EINVAL);
		assert_int_equal(do_io(b, op, UINT64_MAX, UINT64_MAX, buf), -EINVAL);
		/* the very end is fine */
		assert_int_equal(do_io(b, op, size - 512, 512, buf), 0);
		assert_int_equal(do_io(b, op, size, 0, buf), 0);
	}
	/* Data ops need a buffer; unknown ops are refused. */
	assert_int_equal(do_io(b, FDR_BDEV_READ, 0, 512, NULL), -EINVAL);
	assert_int_equal(do_io(b, FDR_BDEV_WRITE, 0, 512, NULL), -EINVAL);
	assert_int_equal(do_io(b, (enum fdr_bdev_op)77, 0, 512, buf), -EINVAL);
	fdr_bdev_destroy(b);
}

static long rss_kib(void)
{
	long pages = 0, resident = -1;
	FILE *f = fopen("/proc/self/statm", "r");

	assert_non_null(f);
	assert_int_equal(fscanf(f, "%ld %ld", &pages, &resident), 2);
	fclose(f);
	return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

/* Big devices cost (almost) nothing until written. */
static void test_large_is_sparse(void **state)
{
	const uint64_t sizes[] = {UINT64_C(1) << 30, UINT64_C(64) << 30};

	for (size_t i = 0; i < 2; i++) {
		long before = rss_kib();
		struct fdr_bdev *b = make(sizes[i]);
		uint8_t w[4096], r[4096];

		fill(w, sizeof(w), 6);
		assert_int_equal(do_io(b, FDR_BDEV_WRITE, sizes[i] - 4096, 4096, w), 0);
		assert_int_equal(do_io(b, FDR_BDEV_WRITE, sizes[i] / 2 + 7, 4096, w), 0);
		assert_int_equal(do_io(b, FDR_BDEV_READ, sizes[i] - 4096, 4096, r), 0);
		assert_memory_equal(r, w, sizeof(w));
		memset(r, 1, sizeof(r));
		assert_int_equal(do_io(b, FDR_BDEV_READ, sizes[i] / 4, 4096, r), 0);
		assert_true(all_zero(r, sizeof(r)));
		/* Two chunks touched (plus a few table pages), not gigabytes. */
		long grown = rss_kib() - before;
		assert_true(grown < 8 * 1024);
		fdr_bdev_destroy(b);
	}
}

/* ---- Concurrent writers --------------------------------------------- */

#define NTHREADS 8
#define NCHUNKS_RACE 16
#define SECTOR 512u
#define ROUNDS 100

struct race {
	struct fdr_bdev *b;
	pthread_barrier_t start;
};

struct race_arg {
	struct race *race;
	unsigned tid;
	int failures;
};

static uint8_t sector_byte(unsigned sector)
{
	return (uint8_t)(sector % 251u + 1u); /* never 0 */
}

/* Thread t owns every NTHREADS-th sector, so all threads hit every fresh
 * chunk at about the same moment and race to allocate it. */
static void *writer(void *p)
{
	struct race_arg *a = p;
	uint8_t buf[SECTOR];
	const unsigned nsect = NCHUNKS_RACE * CHUNK / SECTOR;

	pthread_barrier_wait(&a->race->start);
	for (unsigned s = a->tid; s < nsect; s += NTHREADS) {
		struct done d = {0, 1};
		struct fdr_bdev_io io = {
			.op = FDR_BDEV_WRITE, .offset = (uint64_t)s * SECTOR, .len = SECTOR,
			.buf = buf, .cb = on_done, .ctx = &d,
		};

		memset(buf, sector_byte(s), sizeof(buf));
		if (fdr_bdev_submit(a->race->b, &io) || d.calls != 1 || d.err)
			a->failures++;
	}
	return NULL;
}

/* Reads while the writers run: every byte is either still 0 or its final value. */
static void *reader(void *p)
{
	struct race_arg *a = p;
	uint8_t *buf = malloc(CHUNK);
	const unsigned nsect = NCHUNKS_RACE * CHUNK / SECTOR;

	pthread_barrier_wait(&a->race->start);
	for (int pass = 0; pass < 4; pass++) {
		for (unsigned c = 0; c < NCHUNKS_RACE; c++) {
			struct done d = {0, 1};
			struct fdr_bdev_io io = {
				.op = FDR_BDEV_READ, .offset = (uint64_t)c * CHUNK, .len = CHUNK,
				.buf = buf, .cb = on_done, .ctx = &d,
			};

			if (fdr_bdev_submit(a->race->b, &io) || d.calls != 1 || d.err) {
				a->failures++;
				continue;
			}
			for (unsigned i = 0; i < CHUNK; i++) {
				unsigned s = c * (CHUNK / SECTOR) + i / SECTOR;

				if (s < nsect && buf[i] != 0 && buf[i] != sector_byte(s))
					a->failures++;
			}
		}
	}
	free(buf);
	return NULL;
}

static void test_concurrent_writers(void **state)
{
	const uint64_t size = NCHUNKS_RACE * CHUNK;
	uint8_t *r = malloc(size);

	for (int round = 0; round < ROUNDS; round++) {
		struct race race = {.b = make(size)};
		pthread_t th[NTHREADS + 1];
		struct race_arg args[NTHREADS + 1];

		pthread_barrier_init(&race.start, NULL, NTHREADS + 1);
		for (unsigned t = 0; t <= NTHREADS; t++) {
			args[t] = (struct race_arg){.race = &race, .tid = t};
			assert_int_equal(pthread_create(&th[t], NULL, t < NTHREADS ? writer : reader,
							&args[t]),
					 0);
		}
		for (unsigned t = 0; t <= NTHREADS; t++) {
			pthread_join(th[t], NULL);
			assert_int_equal(args[t].failures, 0);
		}
		pthread_barrier_destroy(&race.start);

		/* A writer whose chunk lost the allocation race but was still used
		 * would show here as a sector of zeroes. */
		assert_int_equal(do_io(race.b, FDR_BDEV_READ, 0, size, r), 0);
		for (unsigned s = 0; s < size / SECTOR; s++) {
			const uint8_t *p = r + (size_t)s * SECTOR;

			for (unsigned i = 0; i < SECTOR; i++)
				if (p[i] != sector_byte(s))
					fail_msg("round %d sector %u byte %u: %u != %u", round, s, i,
						 p[i], sector_byte(s));
		}
		fdr_bdev_destroy(race.b);
	}
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create),
		cmocka_unit_test(test_roundtrip_unaligned),
		cmocka_unit_test(test_sparse_reads_zero),
		cmocka_unit_test(test_partial_last_chunk),
		cmocka_unit_test(test_write_zeroes),
		cmocka_unit_test(test_discard),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_large_is_sparse),
		cmocka_unit_test(test_concurrent_writers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The NVM I/O command set (io.c) through the real pipeline: data round
 * trips, LBA and namespace checks, Flush, Write Zeroes, Dataset
 * Management, Compare, Write Uncorrectable, MDTS, the SMART counters and
 * the write cache / FUA path.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define LBA_OOR SC_DNR(GENERIC, LBA_OUT_OF_RANGE)
#define INVALID_NS SC_DNR(GENERIC, INVALID_NAMESPACE_OR_FORMAT)
#define INVALID_FIELD SC_DNR(GENERIC, INVALID_FIELD)
#define INVALID_OPCODE SC_DNR(GENERIC, INVALID_OPCODE)
#define UNRECOVERED SC(MEDIA_ERROR, UNRECOVERED_READ_ERROR)
#define COMPARE_FAIL SC(MEDIA_ERROR, COMPARE_FAILURE)

#define NSZE_512 (H_NS_BYTES / 512) /* LBAs of namespaces 1 and 3 */

static uint8_t wbuf[2 * FDR_MAX_XFER];
static uint8_t rbuf[2 * FDR_MAX_XFER];

/* ---- Helpers -------------------------------------------------------------- */

static struct nvme_sqe rw_cmd(uint8_t opc, uint32_t nsid, uint64_t slba, uint32_t nlb,
			      uint32_t cdw12_flags)
{
	struct nvme_sqe c = { .opc = opc,
			      .nsid = nsid,
			      .cdw10 = (uint32_t)slba,
			      .cdw11 = (uint32_t)(slba >> 32),
			      .cdw12 = ((nlb - 1) & 0xffff) | cdw12_flags };
	return c;
}

/* Write nlb blocks of lba_size from buf. */
static uint16_t io_write(struct fdr_queue *q, uint32_t nsid, uint64_t slba, uint32_t nlb,
			 uint32_t lba_size, const void *buf, uint32_t flags)
{
	struct nvme_sqe c = rw_cmd(NVME_IO_WRITE, nsid, slba, nlb, flags);

	return h_cmd(q, &c, buf, nlb * lba_size, NULL, 0, NULL);
}

static uint16_t io_read(struct fdr_queue *q, uint32_t nsid, uint64_t slba, uint32_t nlb,
			uint32_t lba_size, void *buf)
{
	struct nvme_sqe c = rw_cmd(NVME_IO_READ, nsid, slba, nlb, 0);

	return h_cmd(q, &c, NULL, 0, buf, nlb * lba_size, NULL);
}

static uint16_t io_compare(struct fdr_queue *q, uint32_t nsid, uint64_t slba, uint32_t nlb,
			   uint32_t lba_size, const void *buf)
{
	struct nvme_sqe c = rw_cmd(NVME_IO_COMPARE, nsid, slba, nlb, 0);

	return h_cmd(q, &c, buf, nlb * lba_size, NULL, 0, NULL);
}

static uint16_t io_nodata(struct fdr_queue *q, uint8_t opc, uint32_t nsid, uint64_t slba,
			  uint32_t nlb, uint32_t flags)
{
	struct nvme_sqe c = rw_cmd(opc, nsid, slba, nlb, flags);

	return h_cmd(q, &c, NULL, 0, NULL, 0, NULL);
}

static uint16_t io_dsm(struct fdr_queue *q, uint32_t nsid, const struct nvme_dsm_range *r,
		       unsigned nr, uint32_t attrs)
{
	struct nvme_sqe c = { .opc = NVME_IO_DATASET_MANAGEMENT,
			      .nsid = nsid,
			      .cdw10 = nr - 1,
			      .cdw11 = attrs };

	return h_cmd(q, &c, r, nr * (uint32_t)sizeof(*r), NULL, 0, NULL);
}

/* A pattern that differs per LBA and per seed. */
static void fill(uint8_t *p, uint64_t slba, uint32_t nlb, uint32_t lba_size, uint8_t seed)
{
	for (uint32_t b = 0; b < nlb; b++)
		for (uint32_t i = 0; i < lba_size; i++)
			p[(size_t)b * lba_size + i] =
				(uint8_t)((slba + b) * 31u + i * 7u + seed * 13u + (i >> 8));
}

static bool is_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* The newest entry of the Error Information log. */
static struct nvme_error_log_entry newest_error(struct harness *h)
{
	struct nvme_error_log_entry e[2];

	assert_int_equal(h_get_log(h->aq, NVME_LOG_ERROR, NVME_NSID_ALL, true, 0, e, sizeof(e)), 0);
	assert_true(e[0].error_count > e[1].error_count);
	return e[0];
}

/* The failed command (the last one sent) is the newest error log entry. */
static void assert_error_logged(struct harness *h, struct fdr_queue *q, uint16_t status,
				uint32_t nsid, uint64_t lba)
{
	uint16_t cid = h_last_cid();
	struct nvme_error_log_entry e = newest_error(h);

	assert_int_equal(e.cid, cid);
	assert_int_equal(e.sqid, q->qid);
	assert_int_equal(e.status >> 1, status);
	assert_int_equal(e.nsid, nsid);
	assert_int_equal(e.lba, lba);
}

/* ---- Read / Write ----------------------------------------------------------- */

static void roundtrip(struct fdr_queue *q, uint32_t nsid, uint32_t lba_size, uint64_t slba,
		      uint32_t nlb, uint8_t seed)
{
	size_t len = (size_t)nlb * lba_size;

	fill(wbuf, slba, nlb, lba_size, seed);
	assert_int_equal(io_write(q, nsid, slba, nlb, lba_size, wbuf, 0), 0);
	assert_int_equal(io_read(q, nsid, slba, nlb, lba_size, rbuf), 0);
	assert_memory_equal(rbuf, wbuf, len);
}

static void test_rw_512(void **state)
{
	struct harness *h = *state;
	struct fdr_queue *q = h_io_queue(h, 1);
	const uint32_t max_nlb = FDR_MAX_XFER / 512;

	roundtrip(q, 1, 512, 0, 1, 1);
	roundtrip(q, 1, 512, 100, 8, 2);
	roundtrip(q, 1, 512, 1000, 17, 3);
	/* MDTS exactly, ending at the last LBA. */
	roundtrip(q, 1, 512, NSZE_512 - max_nlb, max_nlb, 4);
	roundtrip(q, 1, 512, NSZE_512 - 1, 1, 5);
	/* Neighbours untouched: LBA 99 and 108 were never written. */
	assert_int_equal(io_read(q, 1, 99, 1, 512, rbuf), 0);
	assert_true(is_zero(rbuf, 512));
	assert_int_equal(io_read(q, 1, 108, 1, 512, rbuf), 0);
	assert_true(is_zero(rbuf, 512));
	/* Earlier data survived later writes. */
	fill(wbuf, 100, 8, 512, 2);
	assert_int_equal(io_read(q, 1, 100, 8, 512, rbuf), 0);
	assert_memory_equal(rbuf, wbuf, 8 * 512);
	/* The other namespace is separate. */
	assert_int_equal(io_read(q, 3, 100, 8, 512, rbuf), 0);
	assert_true(is_zero(rbuf, 8 * 512));
	/* An I/O queue beyond the first works the same. */
	struct fdr_queue *q2 = h_io_queue(h, 2);
	fill(wbuf, 100, 8, 512, 2);
	assert_int_equal(io_read(q2, 1, 100, 8, 512, rbuf), 0);
	assert_memory_equal(rbuf, wbuf, 8 * 512);
}

static void test_rw_4k(void **state)
{
	struct harness *h = *state;
	struct fdr_ns *ns = h_add_ns(h, 2, 4096, H_NS_BYTES);
	struct fdr_queue *q = h_io_queue(h, 1);
	const uint32_t max_nlb = FDR_MAX_XFER / 4096, nsze = H_NS_BYTES / 4096;

	assert_int_equal(ns->nsze, nsze);
	roundtrip(q, 2, 4096, 0, 1, 1);
	roundtrip(q, 2, 4096, 10, 3, 2);
	roundtrip(q, 2, 4096, nsze - max_nlb, max_nlb, 3);
	/* One LBA over MDTS. */
	assert_int_equal(io_read(q, 2, 0, max_nlb + 1, 4096, rbuf), INVALID_FIELD);
	assert_int_equal(io_write(q, 2, 0, max_nlb + 1, 4096, wbuf, 0), INVALID_FIELD);
	/* The last LBA, and one past it. */
	assert_int_equal(io_read(q, 2, nsze - 1, 1, 4096, rbuf), 0);
	assert_int_equal(io_read(q, 2, nsze, 1, 4096, rbuf), LBA_OOR);
	assert_error_logged(h, q, LBA_OOR, 2, nsze);
	/* Same bytes seen from a 512-byte view would be 8 LBAs apart: the
	 * block size really is 4 KiB (LBA 10 starts at byte 40960). */
	fill(wbuf, 10, 1, 4096, 2);
	assert_int_equal(io_read(q, 2, 10, 1, 4096, rbuf), 0);
	assert_memory_equal(rbuf, wbuf, 4096);
}

static void test_lba_out_of_range(void **state)
{
	struct harness *h = *state;
	struct fdr_queue *q = h_io_queue(h, 1);
	static const struct {
		uint64_t slba;
		uint32_t nlb;
	} bad[] = {
		{ NSZE_512, 1 },              /* slba at nsze */
		{ NSZE_512 - 1, 2 },          /* runs past the end */
		{ NSZE_512 - 8, 9 },
		{ UINT64_MAX, 1 },            /* slba + nlb wraps to 0 */
		{ UINT64_MAX - 2, 8 },        /* ... to 5 */
		{ 1ull << 63, 16 },
		{ (1ull << 32) | 1, 1 },      /* only CDW11 out of range */
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint64_t slba = bad[i].slba;
		uint32_t nlb = bad[i].nlb;

		assert_int_equal(io_read(q, 1, slba, nlb, 512, rbuf), LBA_OOR);
		assert_error_logged(h, q, LBA_OOR, 1, slba);
		assert_int_equal(io_write(q, 1, slba, nlb, 512, wbuf, 0), LBA_OOR);
		assert_error_logged(h, q, LBA_OOR, 1, slba);
		assert_int_equal(io_compare(q, 1, slba, nlb, 512, wbuf), LBA_OOR);
		assert_error_logged(h, q, LBA_OOR, 1, slba);
		assert_int_equal(io_nodata(q, NVME_IO_WRITE_ZEROES, 1, slba, nlb, 0), LBA_OOR);
		assert_error_logged(h, q, LBA_OOR, 1, slba);
		assert_int_equal(io_nodata(q, NVME_IO_WRITE_UNCORRECTABLE, 1, slba, nlb, 0), LBA_OOR);
		assert_error_logged(h, q, LBA_OOR, 1, slba);
	}
	/* Nothing was marked uncorrectable by the refused commands. */
	assert_int_equal(h->s->ns[1]->unc_n, 0);
	/* Write Zeroes has no MDTS, but NLB 65536 still must fit. */
	assert_int_equal(io_nodata(q, NVME_IO_WRITE_ZEROES, 1, NSZE_512 - 65535, 65536, 0), LBA_OOR);
	assert_int_equal(io_nodata(q, NVME_IO_WRITE_ZEROES, 1, 0, NSZE_512, 0), 0);
}

static void test_invalid_nsid(void **state)
{
	struct harness *h = *state;
	struct fdr_queue *q = h_io_queue(h, 1);
	static const uint32_t nsids[] = { 0, 2, 4, FDR_MAX_NS, FDR_MAX_NS + 1, 0xfffffffe,
					  NVME_NSID_ALL };

	for (size_t i = 0; i < sizeof(nsids) / sizeof(nsids[0]); i++) {
		assert_int_equal(io_read(q, nsids[i], 0, 1, 512, rbuf), INVALID_NS);
		assert_error_logged(h, q, INVALID_NS, nsids[i], 0);
		assert_int_equal(io_write(q, nsids[i], 0, 1, 512, wbuf, 0), INVALID_NS);
		assert_int_equal(io_nodata(q, NVME_IO_WRITE_ZEROES, nsids[i], 0, 1, 0), INVALID_NS);
	}
	assert_int_equal(io_nodata(q, NVME_IO_FLUSH, 0, 0, 1, 0), INVALID_NS);
	assert_int_equal(io_nodata(q, NVME_IO_FLUSH, 2, 0, 1, 0), INVALID_NS);
}

static void test_flush(void **state)
{
	struct harness *h = *state;
	struct fdr_queue *q = h_io_queue(h, 1);
	struct h_spy *s1 = h_spy_attach(h->s->ns[1]), *s3 = h_spy_attach(h->s->ns[3]);

	assert_int_equal(io_nodata(q, NVME_IO_FLUSH, 1, 0, 1, 0), 0);
	assert_int_equal(s1->nr_op[FDR_BDEV_FLUSH], 1);
	assert_int_equal(s3->nr_op[FDR_BDEV_FLUSH], 0);
	assert_int_equal(io_nodata(q, NVME_IO_FLUSH, 3, 0, 1, 0), 0);
	assert_int_equal(s3->nr_op[FDR_BDEV_FLUSH], 1);
	/* FFFFFFFFh: every namespace once. */
	assert_int_equal(io_nodata(q, NVME_IO_FLUSH, NVME_NSID_ALL, 0, 1, 0), 0);
	assert_int_equal(s1->nr_op[FDR_BDEV_FLUSH], 2);
	assert_int_equal(s3->nr_op[FDR_BDEV_FLUSH], 2);
	/* Asynchronous backends: the command completes after the last one. */
	s1->defer = s3->defer = true;
	uint16_t cid = h_submit(q, &(struct nvme_sqe){ .opc = NVME_IO_FLUSH, .nsid = NVME_NSID_ALL });
	assert_false(h_done(cid, NULL, NULL));
	assert_int_equal(h_spy_run(s1), 1);
	assert_false(h_done(cid, NULL, NULL));
	assert_int_equal(h_spy_run(s3), 1);
	uint16_t st = 0xffff;
	assert_true(h_done(cid, &st, NULL));
	assert_int_equal(st, 0);
	assert_int_equal(q->nr_inflight, 0);
}

/*
 * A Flush of every namespace is in flight on an asynchronous backend when
 * the connection goes away (fdr_queue_close): the rest of the flush must
 * still finish (or fail) and the queue drain, without the controller.
 */
static void test_flush_all_survives_queue_close(void **state)
{
	struct harness *h = *state;
	struct fdr_queue *q = h_io_queue(h, 1);
	struct h_spy *s1 = h_spy_attach(h->s->ns[1]), *s3 = h_spy_attach(h->s->ns[3]);
	uint16_t st = 0xffff, cid;

	s1->defer = s3->defer = true;
	cid = h_submit(q, &(struct nvme_sqe){ .opc = NVME_IO_FLUSH, .nsid = NVME_NSID_ALL });
	assert_false(h_done(cid, NULL, NULL));
	fdr_queue_close(q);
	/* The controller stays reachable until the queue drains. */
	assert_true(q->closing);
	assert_non_null(q->ctrl);
	assert_false(q->drained);
	h_spy_run(s1); /* next namespace: flush_next() looks at q->ctrl */
	h_spy_run(s3);
	assert_true(h_done(cid, &st, NULL));
	assert_int_equal(q->nr_inflight, 0);
	assert_true(q->drained);
	assert_null(q->ctrl);
}

/* ---- Write Zeroes / DSM / Compare ------------------------------------------------- */

static void test_write_zeroes(void **state)
{
	struct harness *h = *state;
	struct fdr_queue *q = h_io_queue(h, 1);
	struct h_spy *spy = h_spy_attach(h->s->ns[1]);

	fill(wbuf, 10, 20, 512, 9);
	assert_int_equal(io_write(q, 1, 10, 20, 512, wbuf, 0), 0);
	/* Without DEAC: written zeroes. */
	assert_int_equal(io_nodata(q, NVME_IO_WRITE_ZEROES, 1, 12, 3, 0), 0);
	assert_int_equal(spy->nr_op[FDR_BDEV_WRITE_ZEROES], 1);
	/* With DEAC: deallocated, which reads as zeroes (DLFEAT). */
	assert_int_equal(io_nodata(q, NVME_IO_WRITE_ZEROES, 1, 20, 2, NVME_WZ_DEAC), 0);
	assert_int_equal(spy->nr_op[FDR_BDEV_DISCARD], 1);
	assert_int_equal(io_read(q, 1, 10, 20, 512, rbuf), 0);
	for (uint32_t b = 0; b < 20; b++) {
		uint64_t lba = 10 + b;
		bool zeroed = (lba >= 12 && lba < 15) || (lba >= 20 && lba < 22);

		if (zeroed)
			assert_true(is_zero(rbuf + b * 512, 512));
		else
			assert_memory_equal(rbuf + b * 512, wbuf + b * 512, 512);
	}
	/* Larger than MDTS is fine: no data moves. */
	fill(wbuf, 1024, 256, 512, 3);
	assert_int_equal(io_write(q, 1, 1024, 256, 512, wbuf, 0), 0);
	assert_int_equal(io_nodata(q, NVME_IO_WRITE_ZEROES, 1, 1000, 1000, 0), 0);
	assert_int_equal(io_read(q, 1, 1024, 256, 512, rbuf), 0);
	assert_true(is_zero(rbuf, 256 * 512));
}

static void test_dsm(void **state)
{
	struct harness *h = *state;
	struct fdr_queue *q = h_io_queue(h, 1);
	struct nvme_dsm_range r[4] = {
		{ .slba = 10, .nlb = 5 },
		{ .slba = 30, .nlb = 1 },
		{ .slba = 40, .nlb = 0 }, /* empty: nothing */
		{ .slba = 50, .nlb = 10 },
	};
	uint8_t before[64 * 512];

	fill(wbuf, 0, 64, 512, 5);
	memcpy(before, wbuf, sizeof(before));
	assert_int_equal(io_write(q, 1, 0, 64, 512, wbuf, 0), 0);

	/* Only hints (IDR, IDW): success, nothing changes. */
	assert_int_equal(io_dsm(q, 1, r, 4, NVME_DSM_IDR | NVME_DSM_IDW), 0);
	assert_int_equal(io_read(q, 1, 0, 64, 512, rbuf), 0);
	assert_memory_equal(rbuf, before, sizeof(before));

	/* One range out of range, the last: nothing deallocated at all. */
	struct nvme_dsm_range bad[3] = {
		{ .slba = 0, .nlb = 4 },
		{ .slba = 20, .nlb = 4 },
		{ .slba = NSZE_512 - 2, .nlb = 3 },
	};
	assert_int_equal(io_dsm(q, 1, bad, 3, NVME_DSM_AD), LBA_OOR);
	assert_error_logged(h, q, LBA_OOR, 1, NSZE_512 - 2);
	bad[2] = (struct nvme_dsm_range){ .slba = UINT64_MAX - 1, .nlb = 4 };
	assert_int_equal(io_dsm(q, 1, bad, 3, NVME_DSM_AD), LBA_OOR);
	assert_error_logged(h, q, LBA_OOR, 1, UINT64_MAX - 1);
	bad[2] = (struct nvme_dsm_range){ .slba = NSZE_512, .nlb = 1 };
	assert_int_equal(io_dsm(q, 1, bad, 3, NVME_DSM_AD), LBA_OOR);
	assert_int_equal(io_read(q, 1, 0, 64, 512, rbuf), 0);
	assert_memory_equal(rbuf, before, sizeof(before));

	/* Deallocate: those ranges read as zeroes, the rest is intact. */
	assert_int_equal(io_dsm(q, 1, r, 4, NVME_DSM_AD), 0);
	assert_int_equal(io_read(q, 1, 0, 64, 512, rbuf), 0);
	for (uint32_t lba = 0; lba < 64; lba++) {
		bool gone = (lba >= 10 && lba < 15) || lba == 30 || (lba >= 50 && lba < 60);

		if (gone)
			assert_true(is_zero(rbuf + lba * 512, 512));
		else
			assert_memory_equal(rbuf + lba * 512, before + lba * 512, 512);
	}
	/* 256 ranges, the most there may be; the whole namespace. */
	static struct nvme_dsm_range many[NVME_DSM_MAX_RANGES];
	for (unsigned i = 0; i < NVME_DSM_MAX_RANGES; i++)
		many[i] = (struct nvme_dsm_range){ .slba = i * (NSZE_512 / 256), .nlb = NSZE_512 / 256 };
	assert_int_equal(io_dsm(q, 1, many, NVME_DSM_MAX_RANGES, NVME_DSM_AD), 0);
	assert_int_equal(io_read(q, 1, 0, 64, 512, rbuf), 0);
	assert_true(is_zero(rbuf, 64 * 512));
	/* Namespace checks apply. */
	assert_int_equal(io_dsm(q, 2, r, 1, NVME_DSM_AD), INVALID_NS);
}

static void test_compare(void **state)
{
	struct harness *h = *state;
	struct fdr_queue *q = h_io_queue(h, 1);

	fill(wbuf, 200, 16, 512, 7);
	assert_int_equal(io_write(q, 1, 200, 16, 512, wbuf, 0), 0);
	assert_int_equal(io_compare(q, 1, 200, 16, 512, wbuf), 0);
	assert_int_equal(io_compare(q, 1, 204, 1, 512, wbuf + 4 * 512), 0);
	/* In-capsule data sits in a fresh buffer before decode sizes it for
	 * Compare (twice the data): growing it must keep the host's data. */
	struct fdr_queue *fresh = h_io_queue(h, 2);
	h_set_in_capsule(true);
	assert_int_equal(io_compare(fresh, 1, 200, 16, 512, wbuf), 0);
	h_set_in_capsule(false);
	/* One byte off, in the last block. */
	wbuf[16 * 512 - 1] ^= 1;
	uint16_t st = io_compare(q, 1, 200, 16, 512, wbuf);
	assert_int_equal(NVME_STATUS_NO_DNR(st), COMPARE_FAIL);
	/* Unwritten blocks compare equal to zeroes only. */
	memset(wbuf, 0, 512);
	assert_int_equal(io_compare(q, 1, 500, 1, 512, wbuf), 0);
	wbuf[0] = 1;
	st = io_compare(q, 1, 500, 1, 512, wbuf);
	assert_int_equal(NVME_STATUS_NO_DNR(st), COMPARE_FAIL);
	/* Compare moves data like a write: MDTS applies. */
	assert_int_equal(io_compare(q, 1, 0, FDR_MAX_XFER / 512 + 1, 512, wbuf), INVALID_FIELD);
	fill(wbuf, 0, FDR_MAX_XFER / 512, 512, 1);
	assert_int_equal(io_write(q, 1, 0, FDR_MAX_XFER / 512, 512, wbuf, 0), 0);
	assert_int_equal(io_compare(q, 1, 0, FDR_MAX_XFER / 512, 512, wbuf), 0);
}

/* ---- Write Uncorrectable ----------------------------------------------------------- */

static void test_write_uncorrectable(void **state)
{
	struct harness *h = *state;
	struct fdr_queue *q = h_io_queue(h, 1);
	struct fdr_io_stats st0, st1;
	uint16_t st;

	fill(wbuf, 0, 32, 512, 3);
	assert_int_equal(io_write(q, 1, 0, 32, 512, wbuf, 0), 0);
	assert_int_equal(io_nodata(q, NVME_IO_WRITE_UNCORRECTABLE, 1, 10, 10, 0), 0); /* [10,20) */
	fdr_subsys_io_stats(h->s, &st0);

	st = io_read(q, 1, 10, 10, 512, rbuf);
	assert_int_equal(NVME_STATUS_NO_DNR(st), UNRECOVERED);
	assert_error_logged(h, q, st, 1, 10);
	/* Partial overlap from below: the first bad LBA is 10. */
	st = io_read(q, 1, 5, 7, 512, rbuf);
	assert_int_equal(NVME_STATUS_NO_DNR(st), UNRECOVERED);
	assert_error_logged(h, q, st, 1, 10);
	/* ... from above, starting inside. */
	st = io_read(q, 1, 19, 4, 512, rbuf);
	assert_int_equal(NVME_STATUS_NO_DNR(st), UNRECOVERED);
	assert_error_logged(h, q, st, 1, 19);
	/* Compare reads too. */
	st = io_compare(q, 1, 15, 1, 512, wbuf);
	assert_int_equal(NVME_STATUS_NO_DNR(st), UNRECOVERED);
	assert_error_logged(h, q, st, 1, 15);
	fdr_subsys_io_stats(h->s, &st1);
	assert_int_equal(st1.media_errors - st0.media_errors, 4);
	assert_int_equal(st1.read_cmds, st0.read_cmds);

	/* Around it, data is intact. */
	assert_int_equal(io_read(q, 1, 0, 10, 512, rbuf), 0);
	assert_memory_equal(rbuf, wbuf, 10 * 512);
	assert_int_equal(io_read(q, 1, 20, 12, 512, rbuf), 0);
	assert_memory_equal(rbuf, wbuf + 20 * 512, 12 * 512);

	/* A write over part of it clears that part only. */
	fill(rbuf, 12, 2, 512, 44);
	assert_int_equal(io_write(q, 1, 12, 2, 512, rbuf, 0), 0);
	uint8_t exp[2 * 512];
	memcpy(exp, rbuf, sizeof(exp));
	assert_int_equal(io_read(q, 1, 12, 2, 512, rbuf), 0);
	assert_memory_equal(rbuf, exp, sizeof(exp));
	st = io_read(q, 1, 10, 2, 512, rbuf);
	assert_int_equal(NVME_STATUS_NO_DNR(st), UNRECOVERED);
	assert_error_logged(h, q, st, 1, 10);
	st = io_read(q, 1, 11, 5, 512, rbuf);
	assert_int_equal(NVME_STATUS_NO_DNR(st), UNRECOVERED);
	assert_error_logged(h, q, st, 1, 11);
	st = io_read(q, 1, 12, 8, 512, rbuf); /* 12, 13 fine; 14 bad */
	assert_int_equal(NVME_STATUS_NO_DNR(st), UNRECOVERED);
	assert_error_logged(h, q, st, 1, 14);
	st = io_read(q, 1, 19, 1, 512, rbuf);
	assert_int_equal(NVME_STATUS_NO_DNR(st), UNRECOVERED);

	/* Write Zeroes clears too, and reads back zero. */
	assert_int_equal(io_nodata(q, NVME_IO_WRITE_ZEROES, 1, 14, 2, 0), 0);
	assert_int_equal(io_read(q, 1, 14, 2, 512, rbuf), 0);
	assert_true(is_zero(rbuf, 2 * 512));
	st = io_read(q, 1, 16, 1, 512, rbuf);
	assert_int_equal(NVME_STATUS_NO_DNR(st), UNRECOVERED);
	/* The other namespace is not affected. */
	assert_int_equal(io_read(q, 3, 0, 32, 512, rbuf), 0);
	/* Marking again over a marked range and a clean one: one failure
	 * domain [16, 25), LBA 25 fine. */
	assert_int_equal(io_nodata(q, NVME_IO_WRITE_UNCORRECTABLE, 1, 18, 7, 0), 0);
	st = io_read(q, 1, 21, 5, 512, rbuf);
	assert_int_equal(NVME_STATUS_NO_DNR(st), UNRECOVERED);
	assert_error_logged(h, q, st, 1, 21);
	assert_int_equal(io_read(q, 1, 25, 1, 512, rbuf), 0);
	/* A full overwrite makes everything readable again. */
	assert_int_equal(io_write(q, 1, 0, 32, 512, wbuf, 0), 0);
	assert_int_equal(io_read(q, 1, 0, 32, 512, rbuf), 0);
	assert_memory_equal(rbuf, wbuf, 32 * 512);
	assert_int_equal(h->s->ns[1]->unc_n, 0);
}

/* ---- Decode errors ------------------------------------------------------------------ */

static void test_mdts(void **state)
{
	struct harness *h = *state;
	struct fdr_queue *q = h_io_queue(h, 1);
	const uint32_t max_nlb = FDR_MAX_XFER / 512;

	assert_int_equal(io_read(q, 1, 0, max_nlb + 1, 512, rbuf), INVALID_FIELD);
	assert_int_equal(io_write(q, 1, 0, max_nlb + 1, 512, wbuf, 0), INVALID_FIELD);
	/* The most NLB can say, on a namespace where it is in range. */
	h_add_ns(h, 2, 512, 64u << 20);
	struct nvme_sqe c = rw_cmd(NVME_IO_READ, 2, 0, 65536, 0);
	assert_int_equal(h_cmd(q, &c, NULL, 0, NULL, 0, NULL), INVALID_FIELD);
	c.opc = NVME_IO_WRITE;
	assert_int_equal(h_cmd(q, &c, NULL, 0, NULL, 0, NULL), INVALID_FIELD);
	assert_int_equal(io_read(q, 1, 0, max_nlb, 512, rbuf), 0);
	assert_int_equal(io_write(q, 1, 0, max_nlb, 512, wbuf, 0), 0);
}

static void test_unknown_opcode(void **state)
{
	struct harness *h = *state;
	struct fdr_queue *q = h_io_queue(h, 1);
	static const uint8_t opcs[] = { 0x03, 0x06, 0x07, 0x0a, 0x0b,
					NVME_IO_VERIFY, NVME_IO_RESERVATION_REGISTER,
					NVME_IO_RESERVATION_REPORT, NVME_IO_RESERVATION_ACQUIRE,
					NVME_IO_RESERVATION_RELEASE, NVME_IO_COPY, 0x7e, 0x80, 0x81,
					0xc0, 0xff };

	for (size_t i = 0; i < sizeof(opcs); i++) {
		struct nvme_sqe c = rw_cmd(opcs[i], 1, 0, 1, 0);

		assert_int_equal(h_cmd(q, &c, wbuf, 512, rbuf, 512, NULL), INVALID_OPCODE);
		assert_error_logged(h, q, INVALID_OPCODE, 1, 0);
	}
}

/* ---- Counters, cache ------------------------------------------------------------------ */

static void test_smart_counters(void **state)
{
	struct harness *h = *state;
	struct fdr_ns *ns4k = h_add_ns(h, 2, 4096, H_NS_BYTES);
	struct fdr_queue *q = h_io_queue(h, 1);
	struct fdr_io_stats a, b;
	struct nvme_smart_log sl;
	uint64_t v;

	(void)ns4k;
	fdr_subsys_io_stats(h->s, &a);
	fill(wbuf, 0, 256, 512, 1);
	assert_int_equal(io_write(q, 1, 0, 1, 512, wbuf, 0), 0);
	assert_int_equal(io_write(q, 1, 0, 8, 512, wbuf, 0), 0);
	assert_int_equal(io_write(q, 1, 0, 256, 512, wbuf, 0), 0);
	assert_int_equal(io_write(q, 2, 0, 3, 4096, wbuf, 0), 0);
	assert_int_equal(io_read(q, 1, 0, 4, 512, rbuf), 0);
	assert_int_equal(io_read(q, 2, 1, 2, 4096, rbuf), 0);
	assert_int_equal(io_compare(q, 1, 0, 2, 512, wbuf), 0);
	/* Things that are not host reads or writes, or failed. */
	assert_int_equal(io_nodata(q, NVME_IO_WRITE_ZEROES, 1, 0, 8, 0), 0);
	assert_int_equal(io_nodata(q, NVME_IO_FLUSH, 1, 0, 1, 0), 0);
	assert_int_equal(io_read(q, 1, NSZE_512, 1, 512, rbuf), LBA_OOR);
	assert_int_equal(io_write(q, 1, 0, 257, 512, wbuf, 0), INVALID_FIELD);
	assert_int_equal(io_read(q, 7, 0, 1, 512, rbuf), INVALID_NS);
	fdr_subsys_io_stats(h->s, &b);

	assert_int_equal(b.write_cmds - a.write_cmds, 4);
	assert_int_equal(b.write_bytes - a.write_bytes, (1 + 8 + 256) * 512 + 3 * 4096);
	assert_int_equal(b.read_cmds - a.read_cmds, 3);
	assert_int_equal(b.read_bytes - a.read_bytes, 4 * 512 + 2 * 4096 + 2 * 512);
	assert_int_equal(b.media_errors, a.media_errors);

	/* The health log reports the same. */
	assert_int_equal(h_get_log(h->aq, NVME_LOG_SMART, NVME_NSID_ALL, true, 0, &sl, sizeof(sl)), 0);
	memcpy(&v, sl.host_writes, 8);
	assert_int_equal(v, b.write_cmds);
	memcpy(&v, sl.host_reads, 8);
	assert_int_equal(v, b.read_cmds);
	memcpy(&v, sl.data_units_written, 8);
	assert_int_equal(v, (b.write_bytes + 511999) / 512000);

	/* Counters outlive the queue that counted them. */
	fdr_queue_close(q);
	fdr_subsys_io_stats(h->s, &a);
	assert_int_equal(a.read_cmds, b.read_cmds);
	assert_int_equal(a.write_cmds, b.write_cmds);
	assert_int_equal(a.read_bytes, b.read_bytes);
	assert_int_equal(a.write_bytes, b.write_bytes);
}

/*
 * The health log's counters only ever grow.  When a controller goes away
 * (its admin connection dropped, keep-alive expired) its I/O queues are
 * told to disconnect through the reactor; until they have, their counts
 * must still be in the subsystem's sum.
 */
static void test_smart_counters_monotonic(void **state)
{
	struct harness *h = *state;
	struct fdr_queue *aq = h_queue(h), *io = h_queue(h);
	struct fdr_io_stats a, b, c;

	assert_int_equal(h_connect(h, aq, H_SUBNQN, 0, 0xffff, H_HOSTNQN), 0);
	assert_int_equal(h_connect(h, io, H_SUBNQN, 1, aq->ctrl->cntlid, H_HOSTNQN), 0);
	fill(wbuf, 0, 4, 512, 1);
	assert_int_equal(io_write(io, 1, 0, 4, 512, wbuf, 0), 0);
	assert_int_equal(io_read(io, 1, 0, 4, 512, rbuf), 0);
	fdr_subsys_io_stats(h->s, &a);
	assert_int_equal(a.write_cmds, 1);
	assert_int_equal(a.read_cmds, 1);

	fdr_queue_close(aq);
	assert_false(io->closing); /* the disconnect is still on its way */
	fdr_subsys_io_stats(h->s, &b);
	h_poll(h);
	assert_true(io->closing);
	fdr_subsys_io_stats(h->s, &c);
	assert_int_equal(c.write_cmds, a.write_cmds);
	assert_int_equal(c.write_bytes, a.write_bytes);
	assert_int_equal(b.write_cmds, a.write_cmds);
	assert_int_equal(b.read_bytes, a.read_bytes);
}

static void test_fua_and_cache(void **state)
{
	struct harness *h = *state;
	struct fdr_queue *q = h_io_queue(h, 1);
	struct h_spy *spy = h_spy_attach(h->s->ns[1]);

	/* RAM: no volatile cache, so every write is written through. */
	assert_false(h->ctrl->feat.vwc_enabled);
	roundtrip(q, 1, 512, 0, 4, 1);
	assert_true(spy->last_fua);
	fill(wbuf, 8, 2, 512, 2);
	assert_int_equal(io_write(q, 1, 8, 2, 512, wbuf, NVME_RW_FUA), 0);
	assert_true(spy->last_fua);
	assert_int_equal(io_read(q, 1, 8, 2, 512, rbuf), 0);
	assert_memory_equal(rbuf, wbuf, 2 * 512);

	/* A backend with a cache: writes are cached unless FUA... */
	h->s->ns[1]->bdev->volatile_wc = true;
	assert_int_equal(h_set_feat(h->aq, NVME_FEAT_VOLATILE_WC, 0, 0, 1, NULL, 0, NULL), 0);
	roundtrip(q, 1, 512, 16, 2, 3);
	assert_false(spy->last_fua);
	fill(wbuf, 20, 1, 512, 4);
	assert_int_equal(io_write(q, 1, 20, 1, 512, wbuf, NVME_RW_FUA), 0);
	assert_true(spy->last_fua);
	assert_int_equal(io_read(q, 1, 20, 1, 512, rbuf), 0);
	assert_memory_equal(rbuf, wbuf, 512);
	/* ... and written through again once the host turns the cache off. */
	assert_int_equal(h_set_feat(h->aq, NVME_FEAT_VOLATILE_WC, 0, 0, 0, NULL, 0, NULL), 0);
	roundtrip(q, 1, 512, 24, 2, 5);
	assert_true(spy->last_fua);
	assert_int_equal(spy->nr_op[FDR_BDEV_WRITE], 5);
	assert_int_equal(spy->nr_fua, 4);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, h_setup, h_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_rw_512),
		T(test_rw_4k),
		T(test_lba_out_of_range),
		T(test_invalid_nsid),
		T(test_flush),
		T(test_write_zeroes),
		T(test_dsm),
		T(test_compare),
		T(test_write_uncorrectable),
		T(test_mdts),
		T(test_unknown_opcode),
		T(test_smart_counters),
		T(test_fua_and_cache),
		T(test_smart_counters_monotonic),
		T(test_flush_all_survives_queue_close),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

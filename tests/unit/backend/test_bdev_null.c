/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for the null backend (src/backend/bdev_null.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "backend/bdev.h"

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

/* Submits one request; the null backend must complete it before returning. */
static int do_io(struct fdr_bdev *b, enum fdr_bdev_op op, uint64_t off, uint64_t len, void *buf,
		 bool fua)
{
	struct done d = {0, 1};
	struct fdr_bdev_io io = {
		.op = op, .fua = fua, .offset = off, .len = len, .buf = buf,
		.cb = on_done, .ctx = &d,
	};

	assert_int_equal(fdr_bdev_submit(b, &io), 0);
	assert_int_equal(d.calls, 1);
	return d.err;
}

static void test_create(void **state)
{
	char err[256] = "";
	struct fdr_bdev *b = fdr_bdev_null_create(UINT64_C(1) << 30, err, sizeof(err));

	assert_non_null(b);
	assert_string_equal(b->desc, "null 1073741824");
	assert_string_equal(b->ops->name, "null");
	assert_int_equal(b->size, UINT64_C(1) << 30);
	assert_false(b->volatile_wc);
	assert_int_equal(b->ops->flush_sync(b), 0);
	fdr_bdev_destroy(b);

	assert_null(fdr_bdev_null_create(0, err, sizeof(err)));
	assert_true(err[0] != '\0');
}

/* Everything succeeds, and reads leave the buffer as it was (by design). */
static void test_ops_succeed(void **state)
{
	char err[256];
	struct fdr_bdev *b = fdr_bdev_null_create(1 << 20, err, sizeof(err));
	uint8_t buf[8192], copy[8192];

	assert_non_null(b);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 13 + 1);
	memcpy(copy, buf, sizeof(buf));
	assert_int_equal(do_io(b, FDR_BDEV_WRITE, 4096, sizeof(buf), buf, false), 0);
	assert_int_equal(do_io(b, FDR_BDEV_WRITE, 1, 3, buf, true), 0);
	assert_int_equal(do_io(b, FDR_BDEV_READ, 777, sizeof(buf), buf, false), 0);
	assert_memory_equal(buf, copy, sizeof(buf));
	assert_int_equal(do_io(b, FDR_BDEV_FLUSH, 0, 0, NULL, false), 0);
	assert_int_equal(do_io(b, FDR_BDEV_WRITE_ZEROES, 0, 1 << 20, NULL, false), 0);
	assert_int_equal(do_io(b, FDR_BDEV_DISCARD, 512, 4096, NULL, false), 0);
	assert_int_equal(do_io(b, FDR_BDEV_READ, (1 << 20) - 512, 512, buf, false), 0);
	assert_memory_equal(buf, copy, sizeof(buf));
	fdr_bdev_destroy(b);
}

static void test_bounds(void **state)
{
	char err[256];
	const uint64_t size = 1 << 20;
	struct fdr_bdev *b = fdr_bdev_null_create(size, err, sizeof(err));
	uint8_t buf[1024] = {0};
	static const enum fdr_bdev_op ops[] = {FDR_BDEV_READ, FDR_BDEV_WRITE,
					       FDR_BDEV_WRITE_ZEROES, FDR_BDEV_DISCARD};

	assert_non_null(b);
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		enum fdr_bdev_op op = ops[i];

		assert_int_equal(do_io(b, op, size - 512, 513, buf, false), -EINVAL);
		assert_int_equal(do_io(b, op, size + 1, 0, buf, false), -EINVAL);
		assert_int_equal(do_io(b, op, UINT64_MAX - 10, 100, buf, false), -EINVAL);
		assert_int_equal(do_io(b, op, 4096, UINT64_MAX - 4000, buf, false), -EINVAL);
		assert_int_equal(do_io(b, op, size - 1024, 1024, buf, false), 0);
		assert_int_equal(do_io(b, op, size, 0, buf, false), 0);
	}
	assert_int_equal(do_io(b, FDR_BDEV_READ, 0, 512, NULL, false), -EINVAL);
	assert_int_equal(do_io(b, (enum fdr_bdev_op)99, 0, 512, buf, false), -EINVAL);
	/* Flush covers the whole device: its range is not checked. */
	assert_int_equal(do_io(b, FDR_BDEV_FLUSH, UINT64_MAX, UINT64_MAX, NULL, false), 0);
	fdr_bdev_destroy(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create),
		cmocka_unit_test(test_ops_succeed),
		cmocka_unit_test(test_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Null backend for benchmarks: stores nothing, completes everything inline.
 * Reads deliberately leave the caller's buffer untouched (whatever it held
 * is returned) so that a benchmark measures the transport and core, not a
 * memset; nothing should depend on the data read from a null device.
 */
#include "bdev.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

static int null_submit(struct fdr_bdev *bdev, struct fdr_bdev_io *io)
{
	io->cb(io, fdr_bdev_check_io(bdev, io));
	return 0;
}

static int null_flush_sync(struct fdr_bdev *bdev)
{
	return 0;
}

static void null_destroy(struct fdr_bdev *bdev)
{
	free(bdev);
}

static const struct fdr_bdev_ops null_ops = {
	.name = "null",
	.submit = null_submit,
	.flush_sync = null_flush_sync,
	.destroy = null_destroy,
};

struct fdr_bdev *fdr_bdev_null_create(uint64_t size, char *err, size_t errlen)
{
	struct fdr_bdev *bdev;

	if (size == 0) {
		snprintf(err, errlen, "null: size must not be 0");
		return NULL;
	}
	bdev = calloc(1, sizeof(*bdev));
	if (!bdev) {
		snprintf(err, errlen, "null: out of memory");
		return NULL;
	}
	bdev->ops = &null_ops;
	bdev->size = size;
	bdev->volatile_wc = false;
	bdev->sync = true;
	snprintf(bdev->desc, sizeof(bdev->desc), "null %" PRIu64, size);
	return bdev;
}

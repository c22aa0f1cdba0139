/* SPDX-License-Identifier: BSD-2-Clause */
/* Backend-independent pieces: destruction and request validation. */
#include "bdev.h"

#include <errno.h>

void fdr_bdev_destroy(struct fdr_bdev *bdev)
{
	if (bdev)
		bdev->ops->destroy(bdev);
}

int fdr_bdev_check_io(const struct fdr_bdev *bdev, const struct fdr_bdev_io *io)
{
	switch (io->op) {
	case FDR_BDEV_FLUSH:
		return 0; /* whole device; range ignored */
	case FDR_BDEV_READ:
	case FDR_BDEV_WRITE:
		if (io->len && !io->buf)
			return -EINVAL;
		break;
	case FDR_BDEV_WRITE_ZEROES:
	case FDR_BDEV_DISCARD:
		break;
	default:
		return -EINVAL;
	}
	/* Written so that no sum can wrap: offset + len <= size. */
	if (io->offset > bdev->size || io->len > bdev->size - io->offset)
		return -EINVAL;
	return 0;
}

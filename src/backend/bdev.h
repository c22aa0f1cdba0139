/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Storage backends behind one ops table.  A backend stores bytes; LBAs and
 * NVMe semantics live in the core's namespace layer.  Submission happens on
 * a reactor thread; completion is a callback, either inline (RAM, null) or
 * later on the same reactor (file, through io_uring).
 */
#ifndef FDR_BDEV_H
#define FDR_BDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fdr_bdev;

enum fdr_bdev_op {
	FDR_BDEV_READ,
	FDR_BDEV_WRITE,
	FDR_BDEV_FLUSH,        /* make all completed writes durable */
	FDR_BDEV_WRITE_ZEROES, /* buf unused; range reads back as zeroes */
	FDR_BDEV_DISCARD,      /* buf unused; range reads back as zeroes afterwards */
};

struct fdr_bdev_io {
	enum fdr_bdev_op op;
	bool fua;        /* WRITE: durable before completion */
	bool sync;       /* complete before submit returns, even on a reactor
			  * (cold paths such as Format NVM) */
	uint64_t offset; /* bytes */
	uint64_t len;    /* bytes */
	void *buf;       /* READ/WRITE */
	/* err is 0 or a negative errno. */
	void (*cb)(struct fdr_bdev_io *io, int err);
	void *ctx;
};

struct fdr_bdev_ops {
	const char *name;
	/* Start io; io->cb runs exactly once, possibly before submit returns.
	 * Returns 0, or a negative errno if io was not started (no callback). */
	int (*submit)(struct fdr_bdev *bdev, struct fdr_bdev_io *io);
	/* Synchronous flush for shutdown; 0 or negative errno. */
	int (*flush_sync)(struct fdr_bdev *bdev);
	void (*destroy)(struct fdr_bdev *bdev);
};

struct fdr_bdev {
	const struct fdr_bdev_ops *ops;
	uint64_t size;    /* bytes */
	bool volatile_wc; /* has a volatile write cache that Flush empties */
	bool sync;        /* submit() always calls back before it returns */
	char desc[128];   /* e.g. "ram 1073741824", "file /var/tmp/x" */
	void *priv;
};

/*
 * Constructors return NULL and write a reason into err on failure.
 * RAM is sparse: memory is used only for written ranges.
 * file: size 0 means the file's size; a larger size extends the file;
 * create makes the file if missing.
 */
struct fdr_bdev *fdr_bdev_ram_create(uint64_t size, char *err, size_t errlen);
struct fdr_bdev *fdr_bdev_null_create(uint64_t size, char *err, size_t errlen);
struct fdr_bdev *fdr_bdev_file_create(const char *path, uint64_t size, char *err, size_t errlen);

static inline int fdr_bdev_submit(struct fdr_bdev *bdev, struct fdr_bdev_io *io)
{
	return bdev->ops->submit(bdev, io);
}

void fdr_bdev_destroy(struct fdr_bdev *bdev);

/*
 * For backends: 0 if io is well formed for bdev (known op, range inside
 * the device, buffer present for data), else -EINVAL.  Overflow safe.
 */
int fdr_bdev_check_io(const struct fdr_bdev *bdev, const struct fdr_bdev_io *io);

/*
 * Releases the calling thread's io_uring used by file backends, first
 * completing (and calling back) any file I/O still in flight on it.  A
 * thread that exits releases it by itself; call this on a thread that lives
 * on, before destroying the reactor it runs, e.g. in tests.
 */
void fdr_bdev_file_thread_release(void);

#endif

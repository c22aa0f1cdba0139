/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Sparse RAM backend.  The device is a table of fixed-size chunks, each
 * allocated on its first write; unwritten chunks read as zeroes.  Several
 * reactors may use one device at once without a lock: a chunk pointer is
 * published with a compare-and-swap, and once published it never changes
 * until destroy, so readers need only an acquire load.
 *
 * Chunks are carved in order from 2 MiB slabs that ask for transparent
 * huge pages: random I/O over a large device then misses the TLB far less
 * (the data copy is most of the cost of a RAM read), while a sparse device
 * still costs one chunk per chunk written, not one slab.
 */
#include "bdev.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define RAM_CHUNK_SHIFT 16
#define RAM_CHUNK_SIZE (UINT64_C(1) << RAM_CHUNK_SHIFT)
#define RAM_SLAB_SIZE (UINT64_C(2) << 20)
/* 1 PiB: its chunk table alone is 128 GiB of address space. */
#define RAM_MAX_SIZE (UINT64_C(1) << 50)

/* The table starts as zero pages, which must read as NULL pointers. */
_Static_assert(ATOMIC_POINTER_LOCK_FREE == 2, "chunk pointers must be lock free");

struct ram_bdev {
	struct fdr_bdev bdev;
	size_t nchunks;
	_Atomic(uint8_t *) *chunks; /* mmap()ed table of nchunks pointers */
	size_t table_bytes;
	pthread_mutex_t slab_lock; /* chunk allocation: once per chunk written */
	uint8_t *slab;             /* the slab chunks come from, slab_used so far */
	size_t slab_used;
	uint8_t **slabs;           /* every slab, for destroy */
	size_t nslabs, cap_slabs;
	uint8_t *spare;            /* a chunk that lost its compare-and-swap */
};

/* A zeroed, 2 MiB aligned slab, huge pages if the kernel gives them. */
static uint8_t *slab_map(void)
{
	size_t len = (size_t)(2 * RAM_SLAB_SIZE);
	uint8_t *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uintptr_t a;

	if (p == MAP_FAILED)
		return NULL;
	a = ((uintptr_t)p + RAM_SLAB_SIZE - 1) & ~(uintptr_t)(RAM_SLAB_SIZE - 1);
	if (a > (uintptr_t)p)
		munmap(p, a - (uintptr_t)p);
	munmap((uint8_t *)a + RAM_SLAB_SIZE, (uintptr_t)p + len - a - RAM_SLAB_SIZE);
	madvise((void *)a, RAM_SLAB_SIZE, MADV_HUGEPAGE); /* a hint: fine if refused */
	return (uint8_t *)a;
}

/* A zeroed chunk; NULL if out of memory. */
static uint8_t *chunk_alloc(struct ram_bdev *rb)
{
	uint8_t *c = NULL;

	pthread_mutex_lock(&rb->slab_lock);
	if (rb->spare) {
		c = rb->spare;
		rb->spare = NULL;
		goto out;
	}
	if (!rb->slab || rb->slab_used == RAM_SLAB_SIZE) {
		uint8_t *s;

		if (rb->nslabs == rb->cap_slabs) {
			size_t cap = rb->cap_slabs ? 2 * rb->cap_slabs : 16;
			uint8_t **n = realloc(rb->slabs, cap * sizeof(*n));

			if (!n)
				goto out;
			rb->slabs = n;
			rb->cap_slabs = cap;
		}
		if (!(s = slab_map()))
			goto out;
		rb->slabs[rb->nslabs++] = s;
		rb->slab = s;
		rb->slab_used = 0;
	}
	c = rb->slab + rb->slab_used;
	rb->slab_used += RAM_CHUNK_SIZE;
out:
	pthread_mutex_unlock(&rb->slab_lock);
	return c;
}

/* Back to the allocator, still zero (nobody else ever saw it). */
static void chunk_unused(struct ram_bdev *rb, uint8_t *c)
{
	pthread_mutex_lock(&rb->slab_lock);
	rb->spare = c;
	pthread_mutex_unlock(&rb->slab_lock);
}

static struct ram_bdev *to_ram(struct fdr_bdev *bdev)
{
	return (struct ram_bdev *)bdev;
}

static uint8_t *chunk_get(struct ram_bdev *rb, size_t idx)
{
	return atomic_load_explicit(&rb->chunks[idx], memory_order_acquire);
}

/* The chunk for a write, allocating it if nobody has yet; NULL if out of memory. */
static uint8_t *chunk_get_or_alloc(struct ram_bdev *rb, size_t idx)
{
	uint8_t *c = chunk_get(rb, idx);
	uint8_t *expected = NULL;

	if (c)
		return c;
	c = chunk_alloc(rb);
	if (!c)
		return NULL;
	/* acq_rel: publish our zeroed chunk, or see the winner's contents. */
	if (atomic_compare_exchange_strong_explicit(&rb->chunks[idx], &expected, c,
						    memory_order_acq_rel, memory_order_acquire))
		return c;
	chunk_unused(rb, c); /* another writer got there first */
	return expected;
}

static int ram_rw(struct ram_bdev *rb, const struct fdr_bdev_io *io)
{
	uint64_t off = io->offset;
	uint64_t left = io->len;
	uint8_t *buf = io->buf;

	while (left) {
		size_t idx = (size_t)(off >> RAM_CHUNK_SHIFT);
		uint64_t in = off & (RAM_CHUNK_SIZE - 1);
		size_t n = (size_t)(RAM_CHUNK_SIZE - in < left ? RAM_CHUNK_SIZE - in : left);
		uint8_t *c;

		switch (io->op) {
		case FDR_BDEV_READ:
			c = chunk_get(rb, idx);
			if (c)
				memcpy(buf, c + in, n);
			else
				memset(buf, 0, n);
			buf += n;
			break;
		case FDR_BDEV_WRITE:
			c = chunk_get_or_alloc(rb, idx);
			if (!c)
				return -ENOMEM;
			memcpy(c + in, buf, n);
			buf += n;
			break;
		default:
			/* Zeroing in place rather than freeing: a concurrent reader may
			 * hold the chunk pointer.  Unallocated chunks already read as 0. */
			c = chunk_get(rb, idx);
			if (c)
				memset(c + in, 0, n);
			break;
		}
		off += n;
		left -= n;
	}
	return 0;
}

static int ram_submit(struct fdr_bdev *bdev, struct fdr_bdev_io *io)
{
	int err = fdr_bdev_check_io(bdev, io);

	if (!err && io->op != FDR_BDEV_FLUSH)
		err = ram_rw(to_ram(bdev), io);
	io->cb(io, err);
	return 0;
}

static int ram_flush_sync(struct fdr_bdev *bdev)
{
	return 0;
}

static void ram_destroy(struct fdr_bdev *bdev)
{
	struct ram_bdev *rb = to_ram(bdev);

	for (size_t i = 0; i < rb->nslabs; i++)
		munmap(rb->slabs[i], RAM_SLAB_SIZE);
	free(rb->slabs);
	pthread_mutex_destroy(&rb->slab_lock);
	munmap(rb->chunks, rb->table_bytes);
	free(rb);
}

static const struct fdr_bdev_ops ram_ops = {
	.name = "ram",
	.submit = ram_submit,
	.flush_sync = ram_flush_sync,
	.destroy = ram_destroy,
};

struct fdr_bdev *fdr_bdev_ram_create(uint64_t size, char *err, size_t errlen)
{
	struct ram_bdev *rb;
	uint64_t nchunks;

	if (size == 0) {
		snprintf(err, errlen, "ram: size must not be 0");
		return NULL;
	}
	if (size > RAM_MAX_SIZE) {
		snprintf(err, errlen, "ram: size %" PRIu64 " is over the limit of %" PRIu64, size,
			 RAM_MAX_SIZE);
		return NULL;
	}
	nchunks = (size >> RAM_CHUNK_SHIFT) + ((size & (RAM_CHUNK_SIZE - 1)) != 0);
	if (nchunks > SIZE_MAX / sizeof(*rb->chunks)) {
		snprintf(err, errlen, "ram: size %" PRIu64 " too large for this machine", size);
		return NULL;
	}
	rb = calloc(1, sizeof(*rb));
	if (!rb) {
		snprintf(err, errlen, "ram: out of memory");
		return NULL;
	}
	/* The table from mmap, not calloc: its pages stay untouched (calloc may
	 * memset, e.g. under MALLOC_PERTURB_) so a huge device costs nothing
	 * until written.  Zero bytes are NULL for lock-free atomic pointers. */
	rb->nchunks = (size_t)nchunks;
	rb->table_bytes = rb->nchunks * sizeof(*rb->chunks);
	rb->chunks = mmap(NULL, rb->table_bytes, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (rb->chunks == MAP_FAILED) {
		snprintf(err, errlen, "ram: cannot map the chunk table for %" PRIu64 " bytes: %s",
			 size, strerror(errno));
		free(rb);
		return NULL;
	}
	pthread_mutex_init(&rb->slab_lock, NULL);
	rb->bdev.ops = &ram_ops;
	rb->bdev.size = size;
	rb->bdev.volatile_wc = false;
	rb->bdev.sync = true;
	rb->bdev.priv = rb;
	snprintf(rb->bdev.desc, sizeof(rb->bdev.desc), "ram %" PRIu64, size);
	return &rb->bdev;
}

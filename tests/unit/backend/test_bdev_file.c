/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests for the file backend (src/backend/bdev_file.c), both its
 * synchronous path (no reactor on the thread) and its io_uring path driven
 * by real reactors.  The source is included so that the tests can force the
 * fallocate fallbacks and look at the per-thread ring.
 */
#include "backend/bdev_file.c"

#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <time.h>

#include <cmocka.h>

#define KiB 1024u
#define MiB (1024u * 1024u)

static char tmpdir[64];

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(p);
}

static int group_setup(void **state)
{
	strcpy(tmpdir, "/tmp/fdr-test-bdev-file-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int group_teardown(void **state)
{
	return nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static const char *tpath(const char *name)
{
	static char p[256];

	snprintf(p, sizeof(p), "%s/%s", tmpdir, name);
	return p;
}

static void fill(uint8_t *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed * 131u + i * 7u + (i >> 9) + 1);
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static off_t file_size(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_size;
}

static struct fdr_bdev *make(const char *name, uint64_t size)
{
	char err[512] = "";
	struct fdr_bdev *b = fdr_bdev_file_create(tpath(name), size, err, sizeof(err));

	if (!b)
		fail_msg("create %s: %s", name, err);
	return b;
}

/* ---- Synchronous path --------------------------------------------------- */

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

/* With no reactor on the thread, I/O completes before submit returns. */
static int do_io(struct fdr_bdev *b, enum fdr_bdev_op op, uint64_t off, uint64_t len, void *buf,
		 bool fua)
{
	struct done d = {0, 1};
	struct fdr_bdev_io io = {
		.op = op, .fua = fua, .offset = off, .len = len, .buf = buf,
		.cb = on_done, .ctx = &d,
	};

	assert_null(fdr_reactor_self());
	assert_int_equal(fdr_bdev_submit(b, &io), 0);
	assert_int_equal(d.calls, 1);
	return d.err;
}

static void test_create_errors(void **state)
{
	char err[512] = "";

	assert_null(fdr_bdev_file_create(tpath("bad-size"), 1000, err, sizeof(err)));
	assert_non_null(strstr(err, "512"));
	assert_int_equal(access(tpath("bad-size"), F_OK), -1);

	/* A new, empty file with no size: refused, and not left behind. */
	err[0] = '\0';
	assert_null(fdr_bdev_file_create(tpath("empty"), 0, err, sizeof(err)));
	assert_true(err[0] != '\0');
	assert_int_equal(access(tpath("empty"), F_OK), -1);

	err[0] = '\0';
	assert_null(fdr_bdev_file_create(tmpdir, 4096, err, sizeof(err)));
	assert_true(err[0] != '\0');
	err[0] = '\0';
	assert_null(fdr_bdev_file_create(tpath("no/such/dir"), 4096, err, sizeof(err)));
	assert_true(err[0] != '\0');
	assert_null(fdr_bdev_file_create("", 4096, err, sizeof(err)));

	/* An existing file whose size is not a multiple of 512. */
	FILE *f = fopen(tpath("odd"), "w");
	assert_non_null(f);
	assert_int_equal(fwrite("abc", 1, 3, f), 3);
	fclose(f);
	err[0] = '\0';
	assert_null(fdr_bdev_file_create(tpath("odd"), 0, err, sizeof(err)));
	assert_non_null(strstr(err, "512"));
	assert_int_equal(access(tpath("odd"), F_OK), 0); /* not ours to remove */
}

static void test_create_and_extend(void **state)
{
	const char *p = tpath("extend");
	struct fdr_bdev *b = make("extend", 1 * MiB);
	uint8_t w[4096], r[4096];
	char want[300];

	assert_int_equal(b->size, 1 * MiB);
	assert_true(b->volatile_wc);
	assert_string_equal(b->ops->name, "file");
	snprintf(want, sizeof(want), "file %s", p);
	assert_string_equal(b->desc, want);
	assert_int_equal(file_size(p), 1 * MiB);
	fill(w, sizeof(w), 1);
	assert_int_equal(do_io(b, FDR_BDEV_WRITE, 1 * MiB - 4096, 4096, w, false), 0);
	fdr_bdev_destroy(b);

	/* Size 0 takes the file's size. */
	b = make("extend", 0);
	assert_int_equal(b->size, 1 * MiB);
	fdr_bdev_destroy(b);

	/* Larger: the file grows, the data stays, the new room reads zero. */
	b = make("extend", 3 * MiB);
	assert_int_equal(b->size, 3 * MiB);
	assert_int_equal(file_size(p), 3 * MiB);
	assert_int_equal(do_io(b, FDR_BDEV_READ, 1 * MiB - 4096, 4096, r, false), 0);
	assert_memory_equal(r, w, sizeof(w));
	memset(r, 0xff, sizeof(r));
	assert_int_equal(do_io(b, FDR_BDEV_READ, 3 * MiB - 4096, 4096, r, false), 0);
	assert_true(all_zero(r, sizeof(r)));
	fdr_bdev_destroy(b);

	/* Smaller: only the start is exposed; nothing is cut. */
	b = make("extend", 512 * KiB);
	assert_int_equal(b->size, 512 * KiB);
	assert_int_equal(file_size(p), 3 * MiB);
	assert_int_equal(do_io(b, FDR_BDEV_READ, 512 * KiB - 512, 1024, r, false), -EINVAL);
	fdr_bdev_destroy(b);
}

static void test_sync_roundtrip(void **state)
{
	struct fdr_bdev *b = make("sync-rt", 4 * MiB);
	const uint64_t off = 64 * KiB - 1000, len = 3 * 64 * KiB + 777;
	uint8_t *w = malloc(len), *r = malloc(len + 4096);

	fill(w, len, 2);
	assert_int_equal(do_io(b, FDR_BDEV_WRITE, off, len, w, false), 0);
	memset(r, 0xa5, len + 4096);
	assert_int_equal(do_io(b, FDR_BDEV_READ, off - 2048, len + 4096, r, false), 0);
	assert_true(all_zero(r, 2048));
	assert_memory_equal(r + 2048, w, len);
	assert_true(all_zero(r + 2048 + len, 2048));

	/* FUA write and flush. */
	fill(w, 4096, 3);
	assert_int_equal(do_io(b, FDR_BDEV_WRITE, 2 * MiB + 1, 4096, w, true), 0);
	assert_int_equal(do_io(b, FDR_BDEV_FLUSH, 0, 0, NULL, false), 0);
	assert_int_equal(b->ops->flush_sync(b), 0);
	assert_int_equal(do_io(b, FDR_BDEV_READ, 2 * MiB + 1, 4096, r, false), 0);
	assert_memory_equal(r, w, 4096);

	/* Never-written ranges read as zeroes. */
	memset(r, 0xa5, 4096);
	assert_int_equal(do_io(b, FDR_BDEV_READ, 3 * MiB + 5, 4096, r, false), 0);
	assert_true(all_zero(r, 4096));
	free(w);
	free(r);
	fdr_bdev_destroy(b);
}

static void test_persist(void **state)
{
	uint8_t w[8192], r[8192];
	struct fdr_bdev *b = make("persist", 1 * MiB);

	fill(w, sizeof(w), 4);
	assert_int_equal(do_io(b, FDR_BDEV_WRITE, 12345, sizeof(w), w, false), 0);
	fdr_bdev_destroy(b);
	b = make("persist", 0);
	assert_int_equal(do_io(b, FDR_BDEV_READ, 12345, sizeof(r), r, false), 0);
	assert_memory_equal(r, w, sizeof(w));
	fdr_bdev_destroy(b);
}

static blkcnt_t file_blocks(const char *name)
{
	struct stat st;

	assert_int_equal(stat(tpath(name), &st), 0);
	return st.st_blocks;
}

/* Writes a pattern over [0, 3 MiB), zeroes an unaligned middle range with op,
 * and checks both. */
static void sync_zero_case(const char *name, enum fdr_bdev_op op, bool no_punch, bool no_zr)
{
	struct fdr_bdev *b = make(name, 4 * MiB);
	struct file_bdev *fb = to_file(b);
	const uint64_t len = 3 * MiB, zoff = 4096 + 17, zlen = 2 * MiB + 333;
	uint8_t *w = malloc(len), *r = malloc(len);

	fb->no_punch = no_punch;
	fb->no_zero_range = no_zr;
	fill(w, len, 5);
	assert_int_equal(do_io(b, FDR_BDEV_WRITE, 0, len, w, false), 0);
	assert_int_equal(b->ops->flush_sync(b), 0);
	blkcnt_t before = file_blocks(name);
	assert_int_equal(do_io(b, op, zoff, zlen, NULL, false), 0);
	assert_int_equal(do_io(b, op, 100, 0, NULL, false), 0); /* empty range */
	memset(r, 0xee, len);
	assert_int_equal(do_io(b, FDR_BDEV_READ, 0, len, r, false), 0);
	assert_memory_equal(r, w, zoff);
	assert_true(all_zero(r + zoff, zlen));
	assert_memory_equal(r + zoff + zlen, w + zoff + zlen, len - zoff - zlen);
	/* Punching frees the blocks (true of ext4, xfs, btrfs and tmpfs). */
	if (!no_punch)
		assert_true(file_blocks(name) < before);
	free(w);
	free(r);
	fdr_bdev_destroy(b);
}

static void test_sync_write_zeroes(void **state)
{
	sync_zero_case("sync-wz", FDR_BDEV_WRITE_ZEROES, false, false);
}

static void test_sync_discard(void **state)
{
	sync_zero_case("sync-discard", FDR_BDEV_DISCARD, false, false);
}

/* The fallbacks for filesystems that refuse hole punching or ZERO_RANGE. */
static void test_sync_zero_fallbacks(void **state)
{
	sync_zero_case("sync-zr", FDR_BDEV_WRITE_ZEROES, true, false);
	sync_zero_case("sync-zw", FDR_BDEV_DISCARD, true, true);
}

static void test_stage_unsupported(void **state)
{
	struct fdr_bdev *b = make("stages", 1 * MiB);
	struct file_bdev *fb = to_file(b);

	assert_int_equal(first_stage(fb), ZS_PUNCH);
	assert_int_equal(stage_unsupported(fb, ZS_PUNCH), ZS_ZERO_RANGE);
	assert_true(fb->no_punch);
	assert_int_equal(first_stage(fb), ZS_ZERO_RANGE);
	assert_int_equal(stage_unsupported(fb, ZS_ZERO_RANGE), ZS_WRITE);
	assert_int_equal(first_stage(fb), ZS_WRITE);
	fdr_bdev_destroy(b);
}

static void check_bounds(struct fdr_bdev *b, int (*io_fn)(struct fdr_bdev *, enum fdr_bdev_op,
							 uint64_t, uint64_t, void *, bool))
{
	static const enum fdr_bdev_op ops[] = {FDR_BDEV_READ, FDR_BDEV_WRITE,
					       FDR_BDEV_WRITE_ZEROES, FDR_BDEV_DISCARD};
	uint8_t buf[1024] = {0};
	const uint64_t size = b->size;

	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		enum fdr_bdev_op op = ops[i];

		assert_int_equal(io_fn(b, op, size - 512, 513, buf, false), -EINVAL);
		assert_int_equal(io_fn(b, op, size + 1, 0, buf, false), -EINVAL);
		assert_int_equal(io_fn(b, op, UINT64_MAX - 10, 100, buf, false), -EINVAL);
		assert_int_equal(io_fn(b, op, 512, UINT64_MAX, buf, false), -EINVAL);
		assert_int_equal(io_fn(b, op, size - 1024, 1024, buf, false), 0);
		assert_int_equal(io_fn(b, op, size, 0, buf, false), 0);
	}
	assert_int_equal(io_fn(b, FDR_BDEV_READ, 0, 512, NULL, false), -EINVAL);
	assert_int_equal(io_fn(b, (enum fdr_bdev_op)42, 0, 512, buf, false), -EINVAL);
}

static void test_sync_bounds(void **state)
{
	struct fdr_bdev *b = make("sync-bounds", 1 * MiB);

	check_bounds(b, do_io);
	assert_int_equal(file_size(tpath("sync-bounds")), 1 * MiB); /* nothing grew */
	fdr_bdev_destroy(b);
}

/* The file shrinks behind the device's back: reads past EOF fail, not hang. */
static void test_sync_eof(void **state)
{
	struct fdr_bdev *b = make("sync-eof", 1 * MiB);
	uint8_t r[4096];

	assert_int_equal(truncate(tpath("sync-eof"), 8192), 0);
	assert_int_equal(do_io(b, FDR_BDEV_READ, 4096, 8192, r, false), -EIO);
	assert_int_equal(do_io(b, FDR_BDEV_READ, 0, 4096, r, false), 0);
	fdr_bdev_destroy(b);
}

/* ---- Asynchronous path ------------------------------------------------- */

struct aio {
	struct fdr_bdev_io io;
	int calls;
	int err;
};

struct batch {
	struct fdr_reactor *r;
	struct fdr_bdev *b;
	struct aio *a;
	size_t n;
	atomic_size_t done;
	bool in_submit;
	int inline_cbs;   /* callbacks run inside fdr_bdev_submit() */
	int wrong_thread; /* callbacks run off the submitting reactor */
	int submit_errs;
	/* Optional: runs in a's callback, e.g. to submit follow-up I/O. */
	void (*then)(struct batch *bt, struct aio *a);
};

static void on_aio(struct fdr_bdev_io *io, int err)
{
	struct batch *bt = io->ctx;
	struct aio *a = container_of(io, struct aio, io);

	a->calls++;
	a->err = err;
	if (bt->in_submit)
		bt->inline_cbs++;
	if (fdr_reactor_self() != bt->r)
		bt->wrong_thread++;
	if (bt->then)
		bt->then(bt, a);
	atomic_fetch_add(&bt->done, 1);
}

static void set_io(struct batch *bt, size_t i, enum fdr_bdev_op op, uint64_t off, uint64_t len,
		   void *buf, bool fua)
{
	bt->a[i] = (struct aio){
		.io = {.op = op, .fua = fua, .offset = off, .len = len, .buf = buf,
		       .cb = on_aio, .ctx = bt},
	};
}

static void batch_init(struct batch *bt, struct fdr_reactor *r, struct fdr_bdev *b, size_t n)
{
	memset(bt, 0, sizeof(*bt));
	bt->r = r;
	bt->b = b;
	bt->n = n;
	bt->a = calloc(n, sizeof(*bt->a));
	assert_non_null(bt->a);
}

/* Posted to the reactor: submits the whole batch from reactor context. */
static void batch_submit(void *arg)
{
	struct batch *bt = arg;

	if (fdr_reactor_self() != bt->r)
		bt->wrong_thread++;
	bt->in_submit = true;
	for (size_t i = 0; i < bt->n; i++)
		if (fdr_bdev_submit(bt->b, &bt->a[i].io))
			bt->submit_errs++;
	bt->in_submit = false;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Runs a batch on reactor r driven from this thread; expects it complete. */
static void run_batch(struct batch *bt)
{
	uint64_t deadline = now_ms() + 10000;

	assert_int_equal(fdr_reactor_post(bt->r, batch_submit, bt), 0);
	while (atomic_load(&bt->done) < bt->n && now_ms() < deadline)
		fdr_reactor_poll(bt->r, 50);
	assert_int_equal(atomic_load(&bt->done), bt->n);
	assert_int_equal(bt->submit_errs, 0);
	assert_int_equal(bt->wrong_thread, 0);
	for (size_t i = 0; i < bt->n; i++)
		assert_int_equal(bt->a[i].calls, 1);
}

/* Asserts every request of a completed batch succeeded, asynchronously. */
static void batch_ok(struct batch *bt)
{
	assert_int_equal(bt->inline_cbs, 0);
	for (size_t i = 0; i < bt->n; i++)
		if (bt->a[i].err)
			fail_msg("request %zu: %s", i, strerror(-bt->a[i].err));
	free(bt->a);
	bt->a = NULL;
}

static struct fdr_reactor *reactor_here(void)
{
	struct fdr_reactor *r = fdr_reactor_create(0);

	assert_non_null(r);
	return r;
}

static void reactor_done(struct fdr_reactor *r)
{
	fdr_bdev_file_thread_release();
	assert_null(tls_ring);
	fdr_reactor_destroy(r);
}

/* Pieces of varying, unaligned sizes written and read back by io_uring. */
static void test_async_roundtrip(void **state)
{
	struct fdr_reactor *r = reactor_here();
	struct fdr_bdev *b = make("async-rt", 4 * MiB);
	enum { N = 64 };
	uint64_t off[N + 1];
	struct batch bt;
	uint8_t *w, *rd;

	off[0] = 333;
	for (int i = 0; i < N; i++)
		off[i + 1] = off[i] + 1000 + (uint64_t)i * 997;
	const uint64_t total = off[N] - off[0];
	w = malloc(total);
	rd = malloc(total + 8192);
	fill(w, total, 6);

	batch_init(&bt, r, b, N);
	for (int i = 0; i < N; i++)
		set_io(&bt, (size_t)i, FDR_BDEV_WRITE, off[i], off[i + 1] - off[i], w + off[i] - off[0],
		       false);
	run_batch(&bt);
	batch_ok(&bt);
	/* The thread's ring belongs to this reactor. */
	assert_non_null(tls_ring);
	assert_ptr_equal(tls_ring->reactor, r);
	assert_int_equal(tls_ring->inflight, 0);

	/* Read back in other pieces, plus a never-written range. */
	memset(rd, 0xa5, total + 8192);
	batch_init(&bt, r, b, N + 1);
	for (int i = 0; i < N; i++)
		set_io(&bt, (size_t)i, FDR_BDEV_READ, off[N - 1 - i], off[N - i] - off[N - 1 - i],
		       rd + off[N - 1 - i] - off[0], false);
	set_io(&bt, N, FDR_BDEV_READ, 3 * MiB, 8192, rd + total, false);
	run_batch(&bt);
	batch_ok(&bt);
	assert_memory_equal(rd, w, total);
	assert_true(all_zero(rd + total, 8192));

	reactor_done(r);
	fdr_bdev_destroy(b);
	free(w);
	free(rd);
}

/* More requests than SQ entries and than the request pool's first slab. */
static void test_async_many(void **state)
{
	struct fdr_reactor *r = reactor_here();
	enum { N = 1000, BS = 4096 };
	struct fdr_bdev *b = make("async-many", N * BS);
	uint8_t *w = malloc(N * BS), *rd = malloc(N * BS);
	struct batch bt;

	fill(w, N * BS, 7);
	batch_init(&bt, r, b, N);
	for (size_t i = 0; i < N; i++)
		set_io(&bt, i, FDR_BDEV_WRITE, i * BS, BS, w + i * BS, false);
	run_batch(&bt);
	batch_ok(&bt);

	unsigned slabs = 0;
	for (struct req_slab *s = tls_ring->slabs; s; s = s->next)
		slabs++;
	assert_true(slabs >= (N + REQ_SLAB - 1) / REQ_SLAB);

	memset(rd, 0, N * BS);
	batch_init(&bt, r, b, N);
	for (size_t i = 0; i < N; i++)
		set_io(&bt, i, FDR_BDEV_READ, i * BS, BS, rd + i * BS, false);
	run_batch(&bt);
	batch_ok(&bt);
	assert_memory_equal(rd, w, N * BS);

	reactor_done(r);
	fdr_bdev_destroy(b);
	free(w);
	free(rd);
}

/* Flush, FUA writes, Write Zeroes and Discard through io_uring. */
static void async_zero_case(const char *name, bool no_punch, bool no_zr)
{
	struct fdr_reactor *r = reactor_here();
	struct fdr_bdev *b = make(name, 8 * MiB);
	struct file_bdev *fb = to_file(b);
	const uint64_t len = 6 * MiB;
	/* Zeroed ranges over 1 MiB need several writes in the write fallback. */
	const uint64_t z1 = 4096 + 17, z1len = 2 * MiB + 333;
	const uint64_t z2 = 3 * MiB + 511, z2len = 1 * MiB + 4097;
	const uint64_t fua_off = 5 * MiB + 3;
	uint8_t *w = malloc(len), *rd = malloc(len), f[4096];
	struct batch bt;

	fb->no_punch = no_punch;
	fb->no_zero_range = no_zr;
	fill(w, len, 8);
	assert_int_equal(do_io(b, FDR_BDEV_WRITE, 0, len, w, false), 0);

	fill(f, sizeof(f), 9);
	memcpy(w + fua_off, f, sizeof(f));
	memset(w + z1, 0, z1len);
	memset(w + z2, 0, z2len);
	batch_init(&bt, r, b, 4);
	set_io(&bt, 0, FDR_BDEV_WRITE_ZEROES, z1, z1len, NULL, false);
	set_io(&bt, 1, FDR_BDEV_DISCARD, z2, z2len, NULL, false);
	set_io(&bt, 2, FDR_BDEV_WRITE, fua_off, sizeof(f), f, true);
	set_io(&bt, 3, FDR_BDEV_FLUSH, 0, 0, NULL, false);
	run_batch(&bt);
	batch_ok(&bt);

	memset(rd, 0xee, len);
	batch_init(&bt, r, b, 1);
	set_io(&bt, 0, FDR_BDEV_READ, 0, len, rd, false);
	run_batch(&bt);
	batch_ok(&bt);
	assert_memory_equal(rd, w, len);
	/* Nothing learnt that was not forced: the filesystem does punch holes. */
	assert_int_equal(fb->no_punch, no_punch);

	reactor_done(r);
	fdr_bdev_destroy(b);
	free(w);
	free(rd);
}

static void test_async_flush_fua_zeroes(void **state)
{
	async_zero_case("async-z", false, false);
}

static void test_async_zero_fallbacks(void **state)
{
	async_zero_case("async-zr", true, false);
	async_zero_case("async-zw", true, true);
}

/* Callbacks that submit again: a write whose completion reads it back. */
static uint8_t chain_buf[2][4096];

static void then_read(struct batch *bt, struct aio *a)
{
	if (a->io.op != FDR_BDEV_WRITE)
		return;
	if (a->err)
		return;
	a->io.op = FDR_BDEV_READ;
	a->io.buf = chain_buf[1];
	a->calls = 0;
	/* Not done yet: on_aio counts this completion right after us. */
	atomic_fetch_sub(&bt->done, 1);
	if (fdr_bdev_submit(bt->b, &a->io))
		bt->submit_errs++;
}

static void test_async_chained(void **state)
{
	struct fdr_reactor *r = reactor_here();
	struct fdr_bdev *b = make("async-chain", 1 * MiB);
	struct batch bt;

	fill(chain_buf[0], 4096, 10);
	memset(chain_buf[1], 0, 4096);
	batch_init(&bt, r, b, 1);
	bt.then = then_read;
	set_io(&bt, 0, FDR_BDEV_WRITE, 8192 + 5, 4096, chain_buf[0], false);
	run_batch(&bt);
	assert_int_equal(bt.a[0].io.op, FDR_BDEV_READ);
	assert_memory_equal(chain_buf[1], chain_buf[0], 4096);
	batch_ok(&bt);
	reactor_done(r);
	fdr_bdev_destroy(b);
}

/* Errors on the async path: bad ranges at once, EOF as -EIO. */
static void test_async_errors(void **state)
{
	struct fdr_reactor *r = reactor_here();
	struct fdr_bdev *b = make("async-err", 1 * MiB);
	uint8_t buf[8192];
	struct batch bt;

	batch_init(&bt, r, b, 3);
	set_io(&bt, 0, FDR_BDEV_READ, 1 * MiB - 512, 1024, buf, false);
	set_io(&bt, 1, FDR_BDEV_WRITE, UINT64_MAX - 511, 1024, buf, false);
	set_io(&bt, 2, FDR_BDEV_DISCARD, 4096, UINT64_MAX, NULL, false);
	run_batch(&bt);
	assert_int_equal(bt.inline_cbs, 3); /* refused at submit */
	for (int i = 0; i < 3; i++)
		assert_int_equal(bt.a[i].err, -EINVAL);
	free(bt.a);

	assert_int_equal(truncate(tpath("async-err"), 4096), 0);
	batch_init(&bt, r, b, 2);
	set_io(&bt, 0, FDR_BDEV_READ, 0, 8192, buf, false);  /* short, then EOF */
	set_io(&bt, 1, FDR_BDEV_READ, 65536, 512, buf, false); /* all past EOF */
	run_batch(&bt);
	assert_int_equal(bt.inline_cbs, 0);
	assert_int_equal(bt.a[0].err, -EIO);
	assert_int_equal(bt.a[1].err, -EIO);
	free(bt.a);
	reactor_done(r);
	fdr_bdev_destroy(b);
}

/* io->sync on a reactor: done before submit returns, as Format NVM wants. */
static void test_async_sync_flag(void **state)
{
	struct fdr_reactor *r = reactor_here();
	struct fdr_bdev *b = make("sync-flag", 1 * MiB);
	uint8_t w[4096], rd[4096];
	struct batch bt;

	fill(w, sizeof(w), 13);
	assert_int_equal(do_io(b, FDR_BDEV_WRITE, 4096, sizeof(w), w, false), 0);
	memset(rd, 0, sizeof(rd));
	batch_init(&bt, r, b, 3);
	set_io(&bt, 0, FDR_BDEV_READ, 4096, sizeof(rd), rd, false);
	set_io(&bt, 1, FDR_BDEV_DISCARD, 0, 1 * MiB, NULL, false);
	set_io(&bt, 2, FDR_BDEV_FLUSH, 0, 0, NULL, false);
	for (int i = 0; i < 3; i++)
		bt.a[i].io.sync = true;
	run_batch(&bt);
	assert_int_equal(bt.inline_cbs, 3);
	for (int i = 0; i < 3; i++)
		assert_int_equal(bt.a[i].err, 0);
	assert_memory_equal(rd, w, sizeof(w));
	free(bt.a);
	assert_int_equal(do_io(b, FDR_BDEV_READ, 4096, sizeof(rd), rd, false), 0);
	assert_true(all_zero(rd, sizeof(rd)));
	reactor_done(r);
	fdr_bdev_destroy(b);
}

/* Release with requests in flight completes them first. */
static void test_release_drains(void **state)
{
	struct fdr_reactor *r = reactor_here();
	enum { N = 32 };
	struct fdr_bdev *b = make("drain", N * 4096);
	uint8_t *w = malloc(N * 4096), *rd = malloc(N * 4096);
	struct batch bt;

	fill(w, N * 4096, 11);
	batch_init(&bt, r, b, N);
	for (size_t i = 0; i < N; i++)
		set_io(&bt, i, FDR_BDEV_WRITE, i * 4096, 4096, w + i * 4096, i & 1);
	assert_int_equal(fdr_reactor_post(r, batch_submit, &bt), 0);
	/* One iteration: the post runs and the batch is sent, nothing reaped. */
	fdr_reactor_poll(r, 1000);
	assert_int_equal(bt.inline_cbs, 0);
	assert_int_equal(bt.submit_errs, 0);
	assert_true(atomic_load(&bt.done) < N);
	fdr_bdev_file_thread_release();
	assert_null(tls_ring);
	assert_int_equal(atomic_load(&bt.done), N);
	for (size_t i = 0; i < N; i++) {
		assert_int_equal(bt.a[i].calls, 1);
		assert_int_equal(bt.a[i].err, 0);
	}
	free(bt.a);
	fdr_reactor_destroy(r);

	assert_int_equal(do_io(b, FDR_BDEV_READ, 0, N * 4096, rd, false), 0);
	assert_memory_equal(rd, w, N * 4096);
	fdr_bdev_destroy(b);
	free(w);
	free(rd);
}

/* Two reactor threads on one device; their rings go away as they exit. */
static void test_async_reactor_threads(void **state)
{
	enum { T = 2, N = 200, BS = 4096 };
	struct fdr_bdev *b = make("threads", T * N * BS);
	uint8_t *w = malloc(T * N * BS), *rd = malloc(T * N * BS);
	struct fdr_reactor *r[T];
	struct batch bt[T];

	fill(w, T * N * BS, 12);
	for (unsigned t = 0; t < T; t++) {
		r[t] = fdr_reactor_create(t + 1);
		assert_non_null(r[t]);
		batch_init(&bt[t], r[t], b, N);
		/* Interleaved blocks, so both rings write into the same areas. */
		for (size_t i = 0; i < N; i++) {
			uint64_t blk = i * T + t;

			set_io(&bt[t], i, FDR_BDEV_WRITE, blk * BS, BS, w + blk * BS, false);
		}
		assert_int_equal(fdr_reactor_start(r[t], -1), 0);
		assert_int_equal(fdr_reactor_post(r[t], batch_submit, &bt[t]), 0);
	}
	uint64_t deadline = now_ms() + 10000;
	for (unsigned t = 0; t < T; t++) {
		while (atomic_load(&bt[t].done) < N && now_ms() < deadline)
			usleep(1000);
		assert_int_equal(atomic_load(&bt[t].done), N);
	}
	for (unsigned t = 0; t < T; t++) {
		fdr_reactor_stop(r[t]);
		fdr_reactor_join(r[t]);
		fdr_reactor_destroy(r[t]);
		assert_int_equal(bt[t].wrong_thread, 0);
		assert_int_equal(bt[t].submit_errs, 0);
		batch_ok(&bt[t]);
	}
	assert_null(tls_ring); /* this thread never had one */
	assert_int_equal(do_io(b, FDR_BDEV_READ, 0, T * N * BS, rd, false), 0);
	assert_memory_equal(rd, w, T * N * BS);
	fdr_bdev_destroy(b);
	free(w);
	free(rd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_errors),
		cmocka_unit_test(test_create_and_extend),
		cmocka_unit_test(test_sync_roundtrip),
		cmocka_unit_test(test_persist),
		cmocka_unit_test(test_sync_write_zeroes),
		cmocka_unit_test(test_sync_discard),
		cmocka_unit_test(test_sync_zero_fallbacks),
		cmocka_unit_test(test_stage_unsupported),
		cmocka_unit_test(test_sync_bounds),
		cmocka_unit_test(test_sync_eof),
		cmocka_unit_test(test_async_roundtrip),
		cmocka_unit_test(test_async_many),
		cmocka_unit_test(test_async_flush_fua_zeroes),
		cmocka_unit_test(test_async_zero_fallbacks),
		cmocka_unit_test(test_async_chained),
		cmocka_unit_test(test_async_errors),
		cmocka_unit_test(test_async_sync_flag),
		cmocka_unit_test(test_release_drains),
		cmocka_unit_test(test_async_reactor_threads),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

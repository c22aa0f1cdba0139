/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * File (or block device) backend.
 *
 * On a reactor thread I/O goes through that thread's own io_uring: submit()
 * only prepares SQEs, one io_uring_submit() per loop iteration (a deferred
 * call) sends the batch, and the ring's eventfd, watched by the reactor,
 * brings the completions back on the same thread.  A file device may be
 * used from several reactors at once; all it shares between them is the fd
 * and what it learnt about fallocate support.
 *
 * Off a reactor (tests, start-up, shutdown), or when the caller asks with
 * io->sync, I/O is synchronous and completes inline.  So does the rare
 * request that cannot get an SQE.
 */
#include "bdev.h"
#include "common/log.h"
#include "common/reactor.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <liburing.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define RING_ENTRIES 256
#define RING_CQ_ENTRIES 4096 /* room for deep queues before the CQ overflows */
#define RETRY_NS 1000000      /* after a refused io_uring_submit() */
#define REQ_SLAB 256
/* Largest single read/write: keeps counts inside ssize_t and the SQE's u32. */
#define MAX_RW (UINT64_C(1) << 30)

#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

/* Source for writing zeroes where fallocate cannot; never written to. */
static uint8_t zero_buf[1 << 20];

struct file_bdev {
	struct fdr_bdev bdev;
	int fd;
	/* Learnt from EOPNOTSUPP so later requests skip what cannot work. */
	atomic_bool no_punch;
	atomic_bool no_zero_range;
};

/* How WRITE_ZEROES and DISCARD are being carried out, best first. */
enum zero_stage {
	ZS_PUNCH,      /* fallocate PUNCH_HOLE: frees the blocks too */
	ZS_ZERO_RANGE, /* fallocate ZERO_RANGE */
	ZS_WRITE,      /* plain writes from zero_buf */
};

/* Backend state of one asynchronous request: the caller's io has no room. */
struct file_req {
	struct fdr_bdev_io *io;
	struct file_bdev *fb;
	uint64_t done; /* bytes finished (read, write, zero writes) */
	enum zero_stage stage;
	struct file_req *next_free;
};

struct req_slab {
	struct req_slab *next;
	struct file_req reqs[REQ_SLAB];
};

/* One per reactor thread, shared by every file device used there. */
struct uring_ctx {
	struct io_uring ring;
	struct fdr_reactor *reactor;
	struct fdr_handler ev;  /* the ring's completion eventfd */
	struct fdr_defer flush; /* submits the batch at the end of the iteration */
	struct fdr_timer retry; /* submits again after the kernel refused a batch */
	struct file_req *free_reqs;
	struct req_slab *slabs;
	unsigned inflight; /* requests taken from the pool */
	bool draining;     /* ring_drain() submits by itself: no defer */
};

static __thread struct uring_ctx *tls_ring;
/* The reactor for which making a ring failed: this thread stays synchronous. */
static __thread struct fdr_reactor *tls_ring_failed;

/* Releases a thread's ring when the thread exits. */
static pthread_key_t ring_key;
static pthread_once_t ring_key_once = PTHREAD_ONCE_INIT;
static bool ring_key_ok;

static struct file_bdev *to_file(struct fdr_bdev *bdev)
{
	return (struct file_bdev *)bdev;
}

/* ---- Synchronous engine ------------------------------------------------ */

static enum zero_stage first_stage(struct file_bdev *fb)
{
	if (!atomic_load_explicit(&fb->no_punch, memory_order_relaxed))
		return ZS_PUNCH;
	if (!atomic_load_explicit(&fb->no_zero_range, memory_order_relaxed))
		return ZS_ZERO_RANGE;
	return ZS_WRITE;
}

/* stage got EOPNOTSUPP: remember it and return the stage to try next. */
static enum zero_stage stage_unsupported(struct file_bdev *fb, enum zero_stage stage)
{
	if (stage == ZS_PUNCH && !atomic_exchange(&fb->no_punch, true))
		fdr_notice("%s: no hole punching, zeroing with ZERO_RANGE", fb->bdev.desc);
	if (stage == ZS_ZERO_RANGE && !atomic_exchange(&fb->no_zero_range, true))
		fdr_notice("%s: no ZERO_RANGE, zeroing with writes", fb->bdev.desc);
	return first_stage(fb);
}

static int zero_mode(enum zero_stage stage)
{
	/* KEEP_SIZE: never grow the file past the device size. */
	return (stage == ZS_PUNCH ? FALLOC_FL_PUNCH_HOLE : FALLOC_FL_ZERO_RANGE) |
	       FALLOC_FL_KEEP_SIZE;
}

static int sync_rw(int fd, bool write, bool fua, uint8_t *buf, uint64_t off, uint64_t len)
{
	while (len) {
		size_t n = (size_t)(len < MAX_RW ? len : MAX_RW);
		ssize_t r;

		if (write) {
			struct iovec iov = {.iov_base = buf, .iov_len = n};
			r = pwritev2(fd, &iov, 1, (off_t)off, fua ? RWF_DSYNC : 0);
		} else {
			r = pread(fd, buf, n, (off_t)off);
		}
		if (r < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -errno;
		}
		if (r == 0)
			return -EIO; /* EOF: the file shrank behind our back */
		buf += r;
		off += (uint64_t)r;
		len -= (uint64_t)r;
	}
	return 0;
}

static int sync_write_zeroes(int fd, uint64_t off, uint64_t len)
{
	while (len) {
		uint64_t n = len < sizeof(zero_buf) ? len : sizeof(zero_buf);
		int err = sync_rw(fd, true, false, zero_buf, off, n);

		if (err)
			return err;
		off += n;
		len -= n;
	}
	return 0;
}

static int sync_zero(struct file_bdev *fb, enum zero_stage stage, uint64_t off, uint64_t len)
{
	while (stage != ZS_WRITE) {
		if (fallocate(fb->fd, zero_mode(stage), (off_t)off, (off_t)len) == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno != EOPNOTSUPP)
			return -errno;
		stage = stage_unsupported(fb, stage);
	}
	return sync_write_zeroes(fb->fd, off, len);
}

/* Carries out io synchronously from byte done and stage on; 0 or -errno. */
static int sync_exec(struct file_bdev *fb, const struct fdr_bdev_io *io, uint64_t done,
		     enum zero_stage stage)
{
	uint64_t off = io->offset + done;
	uint64_t left = io->len - done;

	switch (io->op) {
	case FDR_BDEV_READ:
	case FDR_BDEV_WRITE:
		return sync_rw(fb->fd, io->op == FDR_BDEV_WRITE, io->fua, (uint8_t *)io->buf + done,
			       off, left);
	case FDR_BDEV_FLUSH:
		return fsync(fb->fd) ? -errno : 0;
	default:
		if (stage == ZS_WRITE)
			return sync_write_zeroes(fb->fd, off, left);
		return sync_zero(fb, stage, off, left);
	}
}

/* ---- Per-thread io_uring --------------------------------------------- */

static int slab_add(struct uring_ctx *uc)
{
	/* Grows only when more requests are in flight than ever before. */
	struct req_slab *s = malloc(sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->next = uc->slabs;
	uc->slabs = s;
	for (unsigned i = 0; i < REQ_SLAB; i++) {
		s->reqs[i].next_free = uc->free_reqs;
		uc->free_reqs = &s->reqs[i];
	}
	return 0;
}

static struct file_req *req_get(struct uring_ctx *uc)
{
	struct file_req *req = uc->free_reqs;

	if (!req) {
		if (slab_add(uc))
			return NULL;
		req = uc->free_reqs;
	}
	uc->free_reqs = req->next_free;
	uc->inflight++;
	return req;
}

static void req_put(struct uring_ctx *uc, struct file_req *req)
{
	req->next_free = uc->free_reqs;
	uc->free_reqs = req;
	uc->inflight--;
}

static void process_cqes(struct uring_ctx *uc);

/* Sends the prepared batch.  reap: completions may be run to make room. */
static void submit_pending(struct uring_ctx *uc, bool reap)
{
	for (int tries = 0; io_uring_sq_ready(&uc->ring) && tries < 8; tries++) {
		int ret = io_uring_submit(&uc->ring);

		if (ret >= 0 || ret == -EINTR)
			continue;
		if (ret == -EAGAIN || ret == -EBUSY) {
			/* Kernel short of resources or CQ overflowing: reaping helps. */
			if (!reap)
				break;
			process_cqes(uc);
			continue;
		}
		fdr_warn("file: io_uring_submit: %s", strerror(-ret));
		break;
	}
	/* Still refused: retry a little later rather than strand the SQEs (a
	 * defer would run again in this same pass and spin). */
	if (reap && io_uring_sq_ready(&uc->ring) && !uc->retry.armed)
		fdr_timer_arm(uc->reactor, &uc->retry, RETRY_NS);
}

static struct io_uring_sqe *sqe_get(struct uring_ctx *uc)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&uc->ring);

	if (sqe)
		return sqe;
	/* SQ ring full: send the batch now.  No reaping here, as that would run
	 * other requests' callbacks inside the caller's submit. */
	submit_pending(uc, false);
	return io_uring_get_sqe(&uc->ring);
}

/* Queues the next step of req; false if no SQE could be had. */
static bool req_prep(struct uring_ctx *uc, struct file_req *req)
{
	struct fdr_bdev_io *io = req->io;
	struct io_uring_sqe *sqe = sqe_get(uc);
	int fd = req->fb->fd;
	uint64_t off = io->offset + req->done;
	uint64_t left = io->len - req->done;

	if (!sqe)
		return false;
	if (left > MAX_RW)
		left = MAX_RW;
	switch (io->op) {
	case FDR_BDEV_READ:
		io_uring_prep_read(sqe, fd, (uint8_t *)io->buf + req->done, (unsigned)left, off);
		break;
	case FDR_BDEV_WRITE:
		io_uring_prep_write(sqe, fd, (uint8_t *)io->buf + req->done, (unsigned)left, off);
		if (io->fua)
			sqe->rw_flags = RWF_DSYNC;
		break;
	case FDR_BDEV_FLUSH:
		io_uring_prep_fsync(sqe, fd, 0);
		break;
	default:
		if (req->stage == ZS_WRITE)
			io_uring_prep_write(sqe, fd, zero_buf,
					    (unsigned)(left < sizeof(zero_buf) ? left : sizeof(zero_buf)),
					    off);
		else
			io_uring_prep_fallocate(sqe, fd, zero_mode(req->stage), (off_t)off,
						(off_t)(io->len - req->done));
		break;
	}
	io_uring_sqe_set_data(sqe, req);
	if (!uc->draining)
		fdr_reactor_defer(uc->reactor, &uc->flush);
	return true;
}

/* Byte-moving step finished with res: true if the request is over (*err set). */
static bool rw_step_done(struct file_req *req, int res, int *err)
{
	if (res == -EINTR || res == -EAGAIN)
		return false;
	if (res <= 0) {
		*err = res ? res : -EIO; /* 0: EOF, the file shrank behind our back */
		return true;
	}
	req->done += (uint64_t)res;
	*err = 0;
	return req->done >= req->io->len;
}

static void req_complete(struct uring_ctx *uc, struct file_req *req, int res)
{
	struct fdr_bdev_io *io = req->io;
	int err = 0;
	bool over;

	switch (io->op) {
	case FDR_BDEV_READ:
	case FDR_BDEV_WRITE:
		over = rw_step_done(req, res, &err);
		break;
	case FDR_BDEV_FLUSH:
		over = res != -EINTR;
		err = res < 0 ? res : 0;
		break;
	default:
		if (req->stage == ZS_WRITE) {
			over = rw_step_done(req, res, &err);
		} else if (res == -EOPNOTSUPP) {
			req->stage = stage_unsupported(req->fb, req->stage);
			over = false;
		} else {
			over = res != -EINTR;
			err = res < 0 ? res : 0;
		}
		break;
	}
	if (!over && !req_prep(uc, req)) {
		over = true;
		err = sync_exec(req->fb, io, req->done, req->stage);
	}
	if (over) {
		/* Back to the pool first: the callback may well submit again. */
		req_put(uc, req);
		io->cb(io, err);
	}
}

static void process_cqes(struct uring_ctx *uc)
{
	struct io_uring_cqe *cqe;

	while (io_uring_peek_cqe(&uc->ring, &cqe) == 0) {
		struct file_req *req = io_uring_cqe_get_data(cqe);
		int res = cqe->res;

		/* Seen before the callback, which may reenter the ring. */
		io_uring_cqe_seen(&uc->ring, cqe);
		req_complete(uc, req, res);
	}
}

static void on_eventfd(struct fdr_handler *h, uint32_t events)
{
	struct uring_ctx *uc = container_of(h, struct uring_ctx, ev);
	uint64_t count;
	/* Reset the counter before draining so that a CQE posted meanwhile
	 * signals again instead of being missed. */
	ssize_t n = read(h->fd, &count, sizeof(count));

	(void)n;
	process_cqes(uc);
}

static void on_flush(struct fdr_defer *d)
{
	submit_pending(container_of(d, struct uring_ctx, flush), true);
}

static void on_retry(struct fdr_timer *t)
{
	submit_pending(container_of(t, struct uring_ctx, retry), true);
}

/* Runs the ring until nothing is in flight; completions call back. */
static void ring_drain(struct uring_ctx *uc)
{
	uc->draining = true;
	while (uc->inflight) {
		struct io_uring_cqe *cqe;
		int ret;

		submit_pending(uc, false);
		ret = io_uring_wait_cqe(&uc->ring, &cqe);
		if (ret < 0 && ret != -EINTR) {
			fdr_err("file: waiting for io_uring completions: %s", strerror(-ret));
			break;
		}
		process_cqes(uc);
	}
	uc->draining = false;
}

/* Frees uc; reactor_alive: uc->reactor may be touched. */
static void ring_free(struct uring_ctx *uc, bool reactor_alive)
{
	if (reactor_alive) {
		fdr_reactor_del(uc->reactor, &uc->ev);
		fdr_timer_cancel(uc->reactor, &uc->retry);
	}
	if (uc->inflight || uc->flush.queued || uc->retry.armed) {
		/* The kernel or the reactor still points into uc: leak it. */
		fdr_warn("file: abandoning an io_uring with %u requests in flight", uc->inflight);
		return;
	}
	/* Closing the eventfd also drops it from the reactor's epoll set. */
	close(uc->ev.fd);
	io_uring_queue_exit(&uc->ring);
	while (uc->slabs) {
		struct req_slab *s = uc->slabs;

		uc->slabs = s->next;
		free(s);
	}
	free(uc);
}

static void ring_key_destroy(void *p)
{
	/* Thread exit: its reactor has stopped, and may be gone. */
	tls_ring = NULL;
	ring_free(p, false);
}

static void ring_key_init(void)
{
	ring_key_ok = pthread_key_create(&ring_key, ring_key_destroy) == 0;
}

static void tls_ring_set(struct uring_ctx *uc)
{
	tls_ring = uc;
	pthread_once(&ring_key_once, ring_key_init);
	if (ring_key_ok)
		pthread_setspecific(ring_key, uc);
}

static struct uring_ctx *ring_create(struct fdr_reactor *r)
{
	struct io_uring_params p = {
		.flags = IORING_SETUP_CQSIZE | IORING_SETUP_SUBMIT_ALL,
		.cq_entries = RING_CQ_ENTRIES,
	};
	struct uring_ctx *uc = calloc(1, sizeof(*uc));
	int ret;

	if (!uc) {
		ret = -ENOMEM;
		goto fail;
	}
	uc->ev.fd = -1;
	ret = io_uring_queue_init_params(RING_ENTRIES, &uc->ring, &p);
	if (ret == -EINVAL) {
		/* Kernels before 5.18 lack SUBMIT_ALL. */
		memset(&p, 0, sizeof(p));
		p.flags = IORING_SETUP_CQSIZE;
		p.cq_entries = RING_CQ_ENTRIES;
		ret = io_uring_queue_init_params(RING_ENTRIES, &uc->ring, &p);
	}
	if (ret < 0) {
		free(uc);
		goto fail;
	}
	uc->reactor = r;
	uc->ev.fn = on_eventfd;
	uc->flush.fn = on_flush;
	uc->retry.fn = on_retry;
	uc->ev.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (uc->ev.fd < 0) {
		ret = -errno;
		goto fail_ring;
	}
	ret = io_uring_register_eventfd(&uc->ring, uc->ev.fd);
	if (ret < 0)
		goto fail_ring;
	ret = slab_add(uc);
	if (ret < 0)
		goto fail_ring;
	ret = fdr_reactor_add(r, &uc->ev, EPOLLIN);
	if (ret < 0)
		goto fail_ring;
	return uc;

fail_ring:
	if (uc->ev.fd >= 0)
		close(uc->ev.fd);
	io_uring_queue_exit(&uc->ring);
	free(uc->slabs);
	free(uc);
fail:
	fdr_warn("file: no io_uring on reactor %u (%s); file I/O there is synchronous",
		 fdr_reactor_id(r), strerror(-ret));
	return NULL;
}

/* The calling thread's ring, or NULL for synchronous I/O. */
static struct uring_ctx *ring_for_thread(void)
{
	struct fdr_reactor *r = fdr_reactor_self();
	struct uring_ctx *uc = tls_ring;

	if (!r)
		return NULL;
	if (uc && uc->reactor == r)
		return uc;
	if (r == tls_ring_failed)
		return NULL;
	if (uc) {
		/* The thread now runs another reactor; the old one may be gone. */
		tls_ring_set(NULL);
		ring_free(uc, false);
	}
	uc = ring_create(r);
	if (!uc) {
		tls_ring_failed = r;
		return NULL;
	}
	tls_ring_set(uc);
	return uc;
}

void fdr_bdev_file_thread_release(void)
{
	struct uring_ctx *uc = tls_ring;

	tls_ring_failed = NULL;
	if (!uc)
		return;
	/* Drain first: callbacks may submit more, which must land on this ring. */
	ring_drain(uc);
	tls_ring_set(NULL);
	ring_free(uc, true);
}

/* ---- Device ----------------------------------------------------------- */

static int file_submit(struct fdr_bdev *bdev, struct fdr_bdev_io *io)
{
	struct file_bdev *fb = to_file(bdev);
	int err = fdr_bdev_check_io(bdev, io);
	struct uring_ctx *uc;
	struct file_req *req;

	/* Nothing to do for empty ranges; fallocate would refuse them anyway. */
	if (err || (io->len == 0 && io->op != FDR_BDEV_FLUSH)) {
		io->cb(io, err);
		return 0;
	}
	uc = io->sync ? NULL : ring_for_thread();
	req = uc ? req_get(uc) : NULL;
	if (!req) {
		io->cb(io, sync_exec(fb, io, 0, first_stage(fb)));
		return 0;
	}
	req->io = io;
	req->fb = fb;
	req->done = 0;
	req->stage = first_stage(fb);
	if (!req_prep(uc, req)) {
		req_put(uc, req);
		io->cb(io, sync_exec(fb, io, 0, first_stage(fb)));
	}
	return 0;
}

static int file_flush_sync(struct fdr_bdev *bdev)
{
	return fsync(to_file(bdev)->fd) ? -errno : 0;
}

static void file_destroy(struct fdr_bdev *bdev)
{
	struct file_bdev *fb = to_file(bdev);

	if (fsync(fb->fd))
		fdr_err("%s: fsync: %s", bdev->desc, strerror(errno));
	close(fb->fd);
	free(fb);
}

static const struct fdr_bdev_ops file_ops = {
	.name = "file",
	.submit = file_submit,
	.flush_sync = file_flush_sync,
	.destroy = file_destroy,
};

static int open_rw(const char *path, bool *created)
{
	*created = false;
	for (;;) {
		int fd = open(path, O_RDWR | O_CLOEXEC);

		if (fd >= 0 || errno != ENOENT)
			return fd;
		/* O_EXCL tells us we made it, so a failed create can remove it. */
		fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd >= 0) {
			*created = true;
			return fd;
		}
		if (errno != EEXIST)
			return -1;
		/* Someone created it in between: open theirs. */
	}
}

struct fdr_bdev *fdr_bdev_file_create(const char *path, uint64_t size, char *err, size_t errlen)
{
	struct file_bdev *fb;
	struct stat st;
	uint64_t cur;
	bool created;
	int fd;

	if (!path || !*path) {
		snprintf(err, errlen, "file: no path");
		return NULL;
	}
	if (size % 512 || size > INT64_MAX) {
		snprintf(err, errlen, "file %s: size %" PRIu64 " is not a multiple of 512", path,
			 size);
		return NULL;
	}
	fd = open_rw(path, &created);
	if (fd < 0) {
		snprintf(err, errlen, "file %s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st)) {
		snprintf(err, errlen, "file %s: stat: %s", path, strerror(errno));
		goto fail;
	}
	if (S_ISREG(st.st_mode)) {
		cur = (uint64_t)st.st_size;
	} else if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, &cur)) {
			snprintf(err, errlen, "file %s: BLKGETSIZE64: %s", path, strerror(errno));
			goto fail;
		}
	} else {
		snprintf(err, errlen, "file %s: not a regular file or block device", path);
		goto fail;
	}
	if (size == 0) {
		if (cur == 0) {
			snprintf(err, errlen, "file %s: empty; give a size", path);
			goto fail;
		}
		if (cur % 512) {
			snprintf(err, errlen,
				 "file %s: its size %" PRIu64 " is not a multiple of 512", path, cur);
			goto fail;
		}
		size = cur;
	} else if (size > cur) {
		if (!S_ISREG(st.st_mode)) {
			snprintf(err, errlen, "file %s: device has only %" PRIu64 " bytes", path,
				 cur);
			goto fail;
		}
		if (ftruncate(fd, (off_t)size)) {
			snprintf(err, errlen, "file %s: extending to %" PRIu64 ": %s", path, size,
				 strerror(errno));
			goto fail;
		}
	}
	/* A smaller size just exposes the start of the file; nothing is cut. */
	fb = calloc(1, sizeof(*fb));
	if (!fb) {
		snprintf(err, errlen, "file %s: out of memory", path);
		goto fail;
	}
	fb->fd = fd;
	fb->bdev.ops = &file_ops;
	fb->bdev.size = size;
	fb->bdev.volatile_wc = true; /* the page cache: Flush must fsync */
	fb->bdev.priv = fb;
	/* A long path is cut to fit: desc is for logs and Identify strings. */
	snprintf(fb->bdev.desc, sizeof(fb->bdev.desc), "file %.*s",
		 (int)sizeof(fb->bdev.desc) - 6, path);
	return &fb->bdev;

fail:
	close(fd);
	if (created)
		unlink(path);
	return NULL;
}

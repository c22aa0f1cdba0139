/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The flight recorder's writer side: the ring file is created and mapped
 * MAP_SHARED, so whatever was committed survives a crash of the drive (the
 * page cache holds it; the file is there after SIGKILL).
 *
 * The hot path (fdr_rec_begin/fdr_rec_commit) takes no lock, makes no
 * system call and allocates nothing: one atomic add on head claims a
 * sequence number, the slot's seq is cleared (release fence), the slot is
 * filled by the caller, and a release store of seq + 1 publishes it.
 *
 * A writer descheduled between begin and commit for a whole lap of the
 * ring shares its slot with the writer of seq + nr_slots; the slot may end
 * up torn, but its seq is then one no reader accepts (the reader only takes
 * seq s while s is within the last nr_slots of head).
 *
 * Lifetime: fdr_rec_open/fdr_rec_close are not safe against concurrent
 * writers.  Open before the reactors start; close after they stopped.
 * fdr_rec_set_enabled() may be called at any time: writers that already
 * hold a slot finish it (the mapping stays).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "rec_internal.h"
#include "recorder/recorder.h"

/* GCC refuses fences under -fsanitize=thread (TSan does not model them);
 * the accesses they order (slot contents) are outside its view anyway. */
#if defined(__SANITIZE_THREAD__)
#define rec_fence(order) ((void)(order))
#else
#define rec_fence(order) __atomic_thread_fence(order)
#endif

#define FDR_REC_DEFAULT_SLOTS 10000ull
/* 16 Mi slots = 4 GiB of ring: anything above is a typo, not a wish. */
#define FDR_REC_MAX_SLOTS (1ull << 24)

struct fdr_rec_file_hdr *fdr_rec_ring;

/* The mapping, kept while recording is switched off. */
static struct fdr_rec_file_hdr *g_map;
static size_t g_map_len;
/* Copied from the header before publishing (read on the hot path). */
static uint64_t g_nr_slots;

/* The sequence number of the slot this thread holds between begin and
 * commit (one pair at a time per thread). */
static __thread uint64_t tls_pending_seq __attribute__((tls_model("initial-exec")));

static inline uint64_t *head_ptr(struct fdr_rec_file_hdr *h)
{
	return (uint64_t *)(void *)((char *)h + offsetof(struct fdr_rec_file_hdr, head));
}

/* seq is the first field of a slot; slots are 256-aligned. */
static inline uint64_t *seq_ptr(void *ev)
{
	return ev;
}

void fdr_rec_errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Add bit 3 (file-backed shared mappings) to this process's coredump
 * filter, so that a core of the drive holds the ring.  Best effort. */
static void coredump_include_shared_files(void)
{
	char buf[32];
	ssize_t n;
	unsigned long v;
	int fd = open("/proc/self/coredump_filter", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n > 0) {
		buf[n] = '\0';
		v = strtoul(buf, NULL, 16);
		if (!(v & (1ul << 3))) {
			int len = snprintf(buf, sizeof(buf), "0x%lx", v | (1ul << 3));

			if (lseek(fd, 0, SEEK_SET) == 0 && write(fd, buf, (size_t)len) < 0) {
				/* ignored: best effort */
			}
		}
	}
	close(fd);
}

int fdr_rec_open(const struct fdr_rec_opts *o, char *err, size_t errlen)
{
	uint64_t nr;
	size_t len;
	int fd;
	void *p;
	struct fdr_rec_file_hdr *h;
	struct timespec ts;

	if (!o || !o->path || !o->path[0]) {
		fdr_rec_errf(err, errlen, "recorder: no ring file path");
		return -EINVAL;
	}
	if (g_map) {
		fdr_rec_errf(err, errlen, "recorder: a ring is already open");
		return -EBUSY;
	}
	nr = o->nr_slots ? o->nr_slots : FDR_REC_DEFAULT_SLOTS;
	if (nr > FDR_REC_MAX_SLOTS) {
		fdr_rec_errf(err, errlen,
			"recorder: %" PRIu64 " slots is too many (at most %llu, %llu MiB)",
			nr, FDR_REC_MAX_SLOTS,
			(FDR_REC_MAX_SLOTS * FDR_REC_SLOT_SIZE) >> 20);
		return -EINVAL;
	}
	len = FDR_REC_HDR_SIZE + (size_t)nr * FDR_REC_SLOT_SIZE;

	fd = open(o->path, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0) {
		int e = errno;

		fdr_rec_errf(err, errlen, "recorder: cannot open %s: %s", o->path, strerror(e));
		return -e;
	}
	/* Truncate to 0 first so that no slot of an older ring survives. */
	if (ftruncate(fd, 0) < 0 || ftruncate(fd, (off_t)len) < 0) {
		int e = errno;

		fdr_rec_errf(err, errlen, "recorder: cannot size %s to %zu bytes: %s",
			o->path, len, strerror(e));
		close(fd);
		return -e;
	}
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		int e = errno;

		fdr_rec_errf(err, errlen, "recorder: cannot map %s: %s", o->path, strerror(e));
		close(fd);
		return -e;
	}
	close(fd);

	h = p;
	/* The file is fresh (zero): fill the header, magic last. */
	h->version = FDR_REC_VERSION;
	h->slot_size = FDR_REC_SLOT_SIZE;
	h->nr_slots = nr;
	__atomic_store_n(head_ptr(h), 0, __ATOMIC_RELAXED);
	clock_gettime(CLOCK_REALTIME, &ts);
	h->created_wall_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	h->pid = (uint32_t)getpid();
	h->flags = (o->redact ? FDR_REC_F_REDACT_ADDRS : 0) | (o->pdus ? FDR_REC_F_PDUS : 0) |
		   (o->snaplen == 0 ? FDR_REC_F_NO_DATA : 0);
	h->snaplen = o->snaplen;
	if (o->dev) {
		size_t n = strnlen(o->dev, sizeof(h->dev) - 1);

		memcpy(h->dev, o->dev, n);
		h->dev[n] = '\0';
	}
	__atomic_store_n((uint64_t *)p, FDR_REC_MAGIC, __ATOMIC_RELEASE);

	coredump_include_shared_files();

	g_map = h;
	g_map_len = len;
	g_nr_slots = nr;
	__atomic_store_n(&fdr_rec_ring, h, __ATOMIC_RELEASE);
	return 0;
}

void fdr_rec_close(void)
{
	__atomic_store_n(&fdr_rec_ring, NULL, __ATOMIC_RELEASE);
	if (!g_map)
		return;
	msync(g_map, g_map_len, MS_ASYNC);
	munmap(g_map, g_map_len);
	g_map = NULL;
	g_map_len = 0;
}

void fdr_rec_set_enabled(bool on)
{
	__atomic_store_n(&fdr_rec_ring, on ? g_map : NULL, __ATOMIC_RELEASE);
}

bool fdr_rec_configured(void)
{
	return g_map != NULL;
}

struct fdr_rec_event *fdr_rec_begin(uint16_t kind)
{
	return fdr_rec_begin_at(kind, 0);
}

struct fdr_rec_event *fdr_rec_begin_at(uint16_t kind, uint64_t wall_ns)
{
	struct fdr_rec_file_hdr *h = __atomic_load_n(&fdr_rec_ring, __ATOMIC_ACQUIRE);
	struct fdr_rec_event *ev;
	struct timespec ts;
	uint64_t seq;

	if (!h)
		return NULL;
	seq = __atomic_fetch_add(head_ptr(h), 1, __ATOMIC_RELAXED);
	ev = (struct fdr_rec_event *)(void *)((char *)h + FDR_REC_HDR_SIZE +
					      (seq % g_nr_slots) * FDR_REC_SLOT_SIZE);
	__atomic_store_n(seq_ptr(ev), 0, __ATOMIC_RELAXED);
	rec_fence(__ATOMIC_RELEASE);
	memset((char *)ev + sizeof(uint64_t), 0, FDR_REC_SLOT_SIZE - sizeof(uint64_t));
	if (!wall_ns) {
		/* Half the cost of an event: callers that know the time say so. */
		clock_gettime(CLOCK_REALTIME, &ts); /* vDSO: no system call */
		wall_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	}
	ev->wall_ns = wall_ns;
	ev->kind = kind;
	tls_pending_seq = seq;
	return ev;
}

void fdr_rec_commit(struct fdr_rec_event *ev)
{
	if (!ev)
		return;
	__atomic_store_n(seq_ptr(ev), tls_pending_seq + 1, __ATOMIC_RELEASE);
}

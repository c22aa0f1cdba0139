/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The flight recorder's writer side: the ring file is created and mapped
 * MAP_SHARED, so whatever was committed survives a crash of the drive (the
 * page cache holds it; the file is there after SIGKILL).
 *
 * The hot path (fdr_rec_begin_n/fdr_rec_commit, inline in recorder.h)
 * takes no lock, makes no system call and allocates nothing: one atomic
 * add on head claims a sequence number (so head counts every event ever
 * claimed, and seq order is claim order across all threads: what the
 * reader's lost count rests on), the slot's seq is cleared together with
 * the new stamp (one 16-byte store, atomic on CPUs with AVX: a reader that
 * finds seq 0 judges by that stamp whether the writer died, so it should
 * not see the slot's older one), a release fence, the slot is filled by
 * the caller, and a release store of seq + 1 publishes it (the reader's
 * seqlock: it takes a slot only if seq is the one it expects before and
 * after copying it).  Nothing else on that path touches the file header's
 * cache line, which head makes travel between the writers' cores: what
 * they need of the header is copied into fdr_rec_w at open.
 *
 * Payload bytes an event does not use are zero, so a dump never shows
 * bytes of an older event: instead of clearing the whole slot each time,
 * the writer keeps (in process memory, not in the file) how many payload
 * bytes of each slot may be non-zero, and clears only those beyond what
 * the new event writes (fdr_rec_begin_n's used).  Commands and completions
 * use the first 26 to 64 bytes, so this is mostly little or nothing, and a
 * slot's last two cache lines are not touched at all.
 *
 * A writer descheduled between begin and commit for a whole lap of the
 * ring shares its slot with the writer of seq + nr_slots.  The reader
 * refuses the older event (it takes seq s only while head, loaded after
 * the copy, is within nr_slots of s), but the late writer's remaining
 * stores can still tear the newer event, or its commit can overwrite the
 * newer seq (the reader then counts that event lost after its stall
 * timeout).  Known limitation: preventing it needs a check per store or a
 * checksum per event; with the default 10000 slots it takes a reactor
 * thread stalled for 10000 events of the others.  Such a slot may also
 * keep stray payload bytes past what its next events use.
 *
 * Stamps come from fdr_rec_now(): the TSC, converted with a per-thread
 * base that is re-read from CLOCK_REALTIME every millisecond and a rate
 * measured against it over the last one to two seconds, where the kernel
 * itself keeps time with the TSC (within a few ns of clock_gettime() on
 * the machines measured); clock_gettime() itself elsewhere.  Commands and
 * completions carry the stamps the pipeline took for them with it
 * (fdr_record_stamp(), nothing at all with -Drecorder=false).
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

#define FDR_REC_DEFAULT_SLOTS 10000ull
/* 16 Mi slots = 4 GiB of ring: anything above is a typo, not a wish. */
#define FDR_REC_MAX_SLOTS (1ull << 24)

/* Each on a cache line of its own: read on every event, written only by
 * open, close and the run-time switch. */
struct fdr_rec_file_hdr *fdr_rec_ring __attribute__((aligned(64)));
struct fdr_rec_writer fdr_rec_w;
__thread struct fdr_rec_tclock fdr_rec_tls __attribute__((tls_model("initial-exec")));

/* The mapping, kept while recording is switched off. */
static struct fdr_rec_file_hdr *g_map;
static size_t g_map_len;

static inline uint64_t *head_ptr(struct fdr_rec_file_hdr *h)
{
	return (uint64_t *)(void *)((char *)h + offsetof(struct fdr_rec_file_hdr, head));
}

/* ---- the clock ---- */

/* A thread's base serves this long before it is read again. */
#define TSC_BASE_NS 1000000ull
/* The rate is measured over at least this long (until then, stamps are
 * clock_gettime() itself), and from a point one to two of these back. */
#define TSC_RATE_MIN_NS 1000000ull
#define TSC_RATE_SPAN_NS 1000000000ull
/* A TSC/CLOCK_REALTIME pair read within this many ticks is good enough
 * (the two reads take about 25 ns); one wider than TSC_PAIR_MAX (the
 * vCPU stalled in between) is no base, nor an anchor. */
#define TSC_PAIR_GOOD 256ull
#define TSC_PAIR_MAX 4096ull

static uint64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts); /* vDSO: no system call */
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Only where the kernel trusts the TSC (synchronised across CPUs,
 * invariant) enough to keep time with it. */
static bool tsc_usable(void)
{
#if defined(__x86_64__)
	char buf[32] = "";
	int fd = open("/sys/devices/system/clocksource/clocksource0/current_clocksource",
		      O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n >= 3 && strncmp(buf, "tsc\n", 4) == 0;
#else
	return false;
#endif
}

#if defined(__x86_64__)
/* The newer of the two rate anchors (the older is in fdr_rec_tls). */
static __thread uint64_t tls_tsc_b, tls_wall_b;

/* CLOCK_REALTIME and the TSC at the same moment, the closest pair of up to
 * three tries; returns the pair's width in ticks. */
static uint64_t read_pair(uint64_t *tsc, uint64_t *wall)
{
	uint64_t t1 = __rdtsc(), w = realtime_ns(), t2 = __rdtsc();
	uint64_t best = t2 - t1;

	*tsc = t1 + best / 2;
	*wall = w;
	for (int i = 1; i < 3 && best > TSC_PAIR_GOOD; i++) {
		t1 = __rdtsc();
		w = realtime_ns();
		t2 = __rdtsc();
		if (t2 - t1 < best) {
			best = t2 - t1;
			*tsc = t1 + best / 2;
			*wall = w;
		}
	}
	return best;
}

uint64_t fdr_rec_now_slow(void)
{
	struct fdr_rec_tclock *c = &fdr_rec_tls;
	uint64_t tsc, wall, ns, ticks, m;

	if (!__atomic_load_n(&fdr_rec_w.tsc, __ATOMIC_RELAXED)) {
		c->window = 0;
		return realtime_ns();
	}
	if (read_pair(&tsc, &wall) > TSC_PAIR_MAX)
		return wall; /* a new base next time */
	if (!c->wall_a || wall <= c->wall_a || tsc <= c->tsc_a) {
		/* First use on this thread, or the clock went back: measure
		 * the rate anew. */
		c->tsc_a = tls_tsc_b = tsc;
		c->wall_a = tls_wall_b = wall;
		c->window = 0;
		return wall;
	}
	ns = wall - c->wall_a;
	ticks = tsc - c->tsc_a;
	if (ns < TSC_RATE_MIN_NS) {
		c->window = 0;
		return wall;
	}
	m = (uint64_t)((double)ns / (double)ticks * 4294967296.0);
	if (c->mult && (m > c->mult + (c->mult >> 10) || m < c->mult - (c->mult >> 10))) {
		/* 0.1 % off: the wall clock was stepped.  Keep the rate,
		 * measure it again from here. */
		c->tsc_a = tls_tsc_b = tsc;
		c->wall_a = tls_wall_b = wall;
	} else {
		c->mult = m;
	}
	if (wall - tls_wall_b >= TSC_RATE_SPAN_NS) {
		c->tsc_a = tls_tsc_b;
		c->wall_a = tls_wall_b;
		tls_tsc_b = tsc;
		tls_wall_b = wall;
	}
	if (!c->mult) {
		c->window = 0;
		return wall;
	}
	c->tsc0 = tsc;
	c->wall0 = wall;
	c->window = (uint64_t)((double)TSC_BASE_NS * 4294967296.0 / (double)c->mult);
	return wall;
}
#else
uint64_t fdr_rec_now_slow(void)
{
	return realtime_ns();
}
#endif

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
	uint8_t *dirty;

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
	/* The file starts zero: nothing to clear in any slot. */
	dirty = calloc(nr, 1);
	if (!dirty) {
		fdr_rec_errf(err, errlen, "recorder: out of memory");
		return -ENOMEM;
	}

	fd = open(o->path, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0) {
		int e = errno;

		fdr_rec_errf(err, errlen, "recorder: cannot open %s: %s", o->path, strerror(e));
		free(dirty);
		return -e;
	}
	/* Truncate to 0 first so that no slot of an older ring survives. */
	if (ftruncate(fd, 0) < 0 || ftruncate(fd, (off_t)len) < 0) {
		int e = errno;

		fdr_rec_errf(err, errlen, "recorder: cannot size %s to %zu bytes: %s",
			o->path, len, strerror(e));
		close(fd);
		free(dirty);
		return -e;
	}
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		int e = errno;

		fdr_rec_errf(err, errlen, "recorder: cannot map %s: %s", o->path, strerror(e));
		close(fd);
		free(dirty);
		return -e;
	}
	close(fd);

	h = p;
	/* The file is fresh (zero): fill the header, magic last. */
	h->version = FDR_REC_VERSION;
	h->slot_size = FDR_REC_SLOT_SIZE;
	h->nr_slots = nr;
	__atomic_store_n(head_ptr(h), 0, __ATOMIC_RELAXED);
	h->created_wall_ns = realtime_ns();
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
	fdr_rec_w.slots = (char *)h + FDR_REC_HDR_SIZE;
	fdr_rec_w.nr_slots = nr;
	fdr_rec_w.mod_m = ~(unsigned __int128)0 / nr + 1;
	fdr_rec_w.dirty = dirty;
	fdr_rec_w.flags = h->flags;
	fdr_rec_w.snaplen = h->snaplen;
	fdr_rec_w.tsc = tsc_usable();
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
	free(fdr_rec_w.dirty);
	memset(&fdr_rec_w, 0, sizeof(fdr_rec_w));
}

void fdr_rec_set_enabled(bool on)
{
	__atomic_store_n(&fdr_rec_ring, on ? g_map : NULL, __ATOMIC_RELEASE);
}

bool fdr_rec_configured(void)
{
	return g_map != NULL;
}

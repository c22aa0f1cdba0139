/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The flight recorder: an always-on ring of the last N events, in a
 * memory-mapped file that outlives the drive (include/frankendrive/recorder.h
 * has the layout).  Writers on any reactor take no lock: one atomic add
 * claims a slot.  The reader side serves nvmedump.
 *
 * Built only with the meson option recorder=true (FDR_HAVE_RECORDER);
 * otherwise the emit calls below compile to nothing.
 */
#ifndef FDR_RECORDER_H
#define FDR_RECORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <frankendrive/recorder.h>

/* ---- Writing (the drive) ---- */

struct fdr_rec_opts {
	const char *path;  /* ring file; created or truncated */
	uint64_t nr_slots; /* events kept (default 10000) */
	uint32_t snaplen;  /* data bytes per command (0: none) */
	bool redact;       /* zero PRP/SGL addresses in recorded SQEs */
	bool pdus;         /* also record NVMe/TCP PDU headers */
	const char *dev;   /* written into the header */
};

#if FDR_HAVE_RECORDER
#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

/* Header words are written whole; the fields are read back by name. */
typedef uint64_t fdr_rec_u64a __attribute__((may_alias));

/* The global ring; NULL while none is open or recording is switched off. */
extern struct fdr_rec_file_hdr *fdr_rec_ring;

/* What the writers' hot path reads besides fdr_rec_ring, set at open and
 * left alone until close (a read-only cache line of its own: no writer
 * reads the file header's line, which head makes bounce between cores). */
struct fdr_rec_writer {
	char *slots;            /* slot 0 */
	uint64_t nr_slots;
	unsigned __int128 mod_m; /* seq % nr_slots by multiplication */
	uint8_t *dirty;         /* per slot: payload bytes that may be non-zero */
	uint32_t flags;         /* the header's flags */
	uint32_t snaplen;
	bool tsc;               /* the TSC is the kernel's clocksource too */
} __attribute__((aligned(64)));
extern struct fdr_rec_writer fdr_rec_w;

/* Per thread: the TSC-to-wall-clock conversion (see fdr_rec_now), and the
 * sequence number of the slot held between begin and commit. */
struct fdr_rec_tclock {
	uint64_t tsc0;    /* TSC at the base */
	uint64_t wall0;   /* CLOCK_REALTIME at the base, ns */
	uint64_t mult;    /* ns per TSC tick, 32.32 fixed point */
	uint64_t window;  /* ticks past tsc0 the base is used for (0: none) */
	uint64_t tsc_a;   /* where the rate was measured from */
	uint64_t wall_a;
	uint64_t pending_seq; /* the slot held between begin and commit */
};
extern __thread struct fdr_rec_tclock fdr_rec_tls __attribute__((tls_model("initial-exec")));

int fdr_rec_open(const struct fdr_rec_opts *o, char *err, size_t errlen);
void fdr_rec_close(void);
/* Run-time switch (recording stays configured, emit calls return early). */
void fdr_rec_set_enabled(bool on);
/* Is a ring open (whether or not recording is switched on)? */
bool fdr_rec_configured(void);

/* Out of line: the clock when the calling thread's TSC base is stale. */
uint64_t fdr_rec_now_slow(void);

/*
 * CLOCK_REALTIME in ns, for event stamps: from the TSC where the kernel
 * uses it as its clocksource, rebased on clock_gettime() every millisecond
 * per thread (within tens of ns of it), else clock_gettime() itself.
 */
static inline uint64_t fdr_rec_now(void)
{
#if defined(__x86_64__)
	struct fdr_rec_tclock *c = &fdr_rec_tls;
	uint64_t d = __rdtsc() - c->tsc0;

	if (__builtin_expect(d < c->window, 1))
		return c->wall0 + ((d * c->mult) >> 32);
#endif
	return fdr_rec_now_slow();
}

/*
 * The slot this many ahead is most likely one of this thread's next events
 * (or one no writer holds yet): its first two lines (the header, and the
 * rest of a command's SQE) are asked for in advance, so that filling it
 * does not wait for its lines, nor does the atomic add after it for those
 * stores.
 */
#define FDR_REC_PREFETCH 4

static inline void fdr_rec_prefetch_slot(const char *p)
{
#if defined(__x86_64__)
	/* PREFETCHW (a NOP on CPUs without it), whatever -march says. */
	__asm__("prefetchw %0" : : "m"(*p));
	__asm__("prefetchw %0" : : "m"(*(p + 64)));
#else
	__builtin_prefetch(p, 1, 3);
	__builtin_prefetch(p + 64, 1, 3);
#endif
}

static inline uint64_t fdr_rec_slot_index(uint64_t seq)
{
	/* Lemire's fastmod (exact for any 64-bit seq and nr_slots): a
	 * 64-bit division costs more than the four multiplications. */
	unsigned __int128 low = fdr_rec_w.mod_m * seq;
	unsigned __int128 d = fdr_rec_w.nr_slots;
	unsigned __int128 bottom = (((unsigned __int128)(uint64_t)low) * d) >> 64;
	unsigned __int128 top = (low >> 64) * d;

	return (uint64_t)((bottom + top) >> 64);
}

/*
 * Claim the next slot for an event of this kind stamped wall_ns (0: now),
 * whose payload (u) the caller writes in full up to `used` bytes: on return
 * the header is seq 0, wall_ns, kind and zeros, payload bytes from `used`
 * on are zero and those below hold whatever the slot held before.  NULL if
 * recording is off.  Finish with fdr_rec_commit().
 */
static inline struct fdr_rec_event *fdr_rec_begin_n(uint16_t kind, uint64_t wall_ns,
						    uint32_t used)
{
	struct fdr_rec_file_hdr *h = __atomic_load_n(&fdr_rec_ring, __ATOMIC_ACQUIRE);
	char *slot;
	uint64_t seq, idx, ahead;
	uint32_t dirty;

	if (!h)
		return NULL;
	if (!wall_ns)
		wall_ns = fdr_rec_now();
	seq = __atomic_fetch_add((uint64_t *)(void *)((char *)h +
				 __builtin_offsetof(struct fdr_rec_file_hdr, head)), 1,
				 __ATOMIC_RELAXED);
	idx = fdr_rec_slot_index(seq);
	slot = fdr_rec_w.slots + idx * FDR_REC_SLOT_SIZE;
	ahead = idx + FDR_REC_PREFETCH;
	if (ahead >= fdr_rec_w.nr_slots)
		ahead -= fdr_rec_w.nr_slots;
	if (ahead >= fdr_rec_w.nr_slots) /* a tiny ring: any slot in it will do */
		ahead = 0;
	fdr_rec_prefetch_slot(fdr_rec_w.slots + ahead * FDR_REC_SLOT_SIZE);
#if defined(__SSE2__) && !defined(__SANITIZE_THREAD__)
	/* seq 0 and the new stamp in one (atomic, on any CPU with AVX) store:
	 * a reader that sees seq 0 judges the writer by this stamp. */
	_mm_store_si128((__m128i *)(void *)slot, _mm_set_epi64x((long long)wall_ns, 0));
	__atomic_thread_fence(__ATOMIC_RELEASE);
#else
	__atomic_store_n((uint64_t *)(void *)slot, 0, __ATOMIC_RELAXED);
#if !defined(__SANITIZE_THREAD__)
	__atomic_thread_fence(__ATOMIC_RELEASE);
#endif
	((fdr_rec_u64a *)(void *)slot)[1] = wall_ns;
#endif
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	/* kind, qid, cntlid, len | conn, cid, admin, rsvd */
	((fdr_rec_u64a *)(void *)slot)[2] = kind;
	((fdr_rec_u64a *)(void *)slot)[3] = 0;
#else
	__builtin_memset(slot + 16, 0, 16);
	((struct fdr_rec_event *)(void *)slot)->kind = kind;
#endif
	/* Relaxed: writers share a slot only after a lap (see ring.c). */
	dirty = __atomic_load_n(&fdr_rec_w.dirty[idx], __ATOMIC_RELAXED);
	if (__builtin_expect(dirty > used, 0))
		__builtin_memset(slot + FDR_REC_SLOT_SIZE - FDR_REC_PAYLOAD + used, 0,
				 dirty - used);
	__atomic_store_n(&fdr_rec_w.dirty[idx], (uint8_t)used, __ATOMIC_RELAXED);
	fdr_rec_tls.pending_seq = seq;
	return (struct fdr_rec_event *)(void *)slot;
}

/* Claim the next slot: seq cleared, wall_ns/kind set, the rest zero.
 * NULL if recording is off.  Finish with fdr_rec_commit(). */
static inline struct fdr_rec_event *fdr_rec_begin_at(uint16_t kind, uint64_t wall_ns)
{
	struct fdr_rec_event *ev = fdr_rec_begin_n(kind, wall_ns, 0);

	/* The caller may write anywhere in the payload. */
	if (ev)
		__atomic_store_n(&fdr_rec_w.dirty[(uint64_t)((char *)ev - fdr_rec_w.slots) /
						  FDR_REC_SLOT_SIZE],
				 (uint8_t)FDR_REC_PAYLOAD, __ATOMIC_RELAXED);
	return ev;
}

/* The same, stamped now. */
static inline struct fdr_rec_event *fdr_rec_begin(uint16_t kind)
{
	return fdr_rec_begin_at(kind, 0);
}

/* Publish the slot (NULL: nothing). */
static inline void fdr_rec_commit(struct fdr_rec_event *ev)
{
	if (ev)
		__atomic_store_n((uint64_t *)(void *)ev, fdr_rec_tls.pending_seq + 1,
				 __ATOMIC_RELEASE);
}

static inline bool fdr_rec_on(void)
{
	return __atomic_load_n(&fdr_rec_ring, __ATOMIC_RELAXED) != NULL;
}
/* PDU headers are recorded only on request: commands and completions
 * already carry the NVMe content, and each event costs. */
static inline bool fdr_rec_pdus_on(void)
{
	return fdr_rec_on() && (fdr_rec_w.flags & FDR_REC_F_PDUS);
}
#else
static inline bool fdr_rec_pdus_on(void)
{
	return false;
}
static inline bool fdr_rec_on(void)
{
	return false;
}
#endif

/* ---- Reading (nvmedump) ---- */

struct fdr_rec_reader;

/* Open a ring file, or a core file of the drive (the ring is found by its
 * magic).  NULL with a reason in err. */
struct fdr_rec_reader *fdr_rec_reader_open(const char *path, char *err, size_t errlen);
/* The same for an open descriptor (a live drive's ring, handed over by its
 * control socket: `record attach`).  fd is only mapped (read-only,
 * MAP_SHARED), not closed; name is for messages. */
struct fdr_rec_reader *fdr_rec_reader_open_fd(int fd, const char *name, char *err,
					      size_t errlen);
void fdr_rec_reader_close(struct fdr_rec_reader *r);
const struct fdr_rec_file_hdr *fdr_rec_reader_hdr(const struct fdr_rec_reader *r);
/* Events that were overwritten before they could be read (so far). */
uint64_t fdr_rec_reader_lost(const struct fdr_rec_reader *r);
/* Next complete event in sequence order into *ev: 1, 0 at the end of what
 * is there now (a live ring may grow: call again), -1 on error.  Slots
 * found incomplete or overwritten while reading count as lost. */
int fdr_rec_reader_next(struct fdr_rec_reader *r, struct fdr_rec_event *ev);

/* Live reading.  A reader starts at sequence 0 (the oldest event still in
 * the ring; older ones count as lost); seek elsewhere first, e.g. to
 * fdr_rec_reader_head() to see only new events (what is skipped by a seek
 * is not lost).  tell: the sequence number next() looks at next. */
uint64_t fdr_rec_reader_head(const struct fdr_rec_reader *r);
uint64_t fdr_rec_reader_tell(const struct fdr_rec_reader *r);
void fdr_rec_reader_seek(struct fdr_rec_reader *r, uint64_t seq);
/* Cheap check for a poll loop after next() returned 0: is the next event
 * there?  (Reads its slot's seq only, never the busy head.) */
bool fdr_rec_reader_ready(const struct fdr_rec_reader *r);
/* The drive is gone: a slot begun and never finished is lost at once
 * instead of waited for. */
void fdr_rec_reader_writers_gone(struct fdr_rec_reader *r);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The flight recorder's reader side (nvmedump): a ring file, live or left
 * behind by a drive that died, or a core file of the drive in which the
 * ring is found by its magic at a page-aligned offset.
 *
 * The file is mapped read-only and MAP_SHARED, so a live ring is followed
 * as the drive writes it.  A slot is taken only if its seq is the one
 * expected and is unchanged after the copy (a seqlock read); everything
 * else is counted as lost.
 *
 * A live reader (nvmedump -i) gets the ring as a descriptor from the
 * drive's control socket (fdr_rec_reader_open_fd) and starts where it
 * likes (fdr_rec_reader_seek).  The drive never waits for a reader: one
 * that falls more than the ring's size behind loses what was overwritten,
 * and counts it.  head is written by every event; the reader loads it once
 * per event taken (the check against slots torn by a lapped writer needs a
 * head newer than the copy) and otherwise only when it needs to (fallen
 * behind, a slot being written, or every REFRESH_EVERY events), not per
 * poll of a reader that caught up.
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
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/reactor.h"
#include "rec_internal.h"
#include "recorder/recorder.h"

/* GCC refuses fences under -fsanitize=thread (TSan does not model them);
 * the accesses they order (slot contents) are outside its view anyway. */
#if defined(__SANITIZE_THREAD__)
#define rec_fence(order) ((void)(order))
#else
#define rec_fence(order) __atomic_thread_fence(order)
#endif

/* A slot claimed but not committed is waited for (next() returns 0) unless
 * the writer looks dead: the slot was begun longer than this ago, or the
 * reader has been stuck on it for this long. */
#define STALL_NS 1000000000ull
/* Reload head at least this often (events), to notice a lap early. */
#define REFRESH_EVERY 256u

struct fdr_rec_reader {
	void *map;
	size_t map_len;
	const struct fdr_rec_file_hdr *hdr; /* within map */
	const char *slots;
	uint64_t nr_slots;
	bool is_static; /* a core file: nothing is being written */
	uint64_t next_seq;
	uint64_t lost;
	uint64_t head_seen;     /* head as last loaded */
	unsigned since_refresh; /* events taken since */
	unsigned quiet_polls;   /* next() calls that found nothing, in a row */
	/* The incomplete slot we are waiting for, and since when. */
	uint64_t stall_seq;
	uint64_t stall_since_ns;
	bool stalled;
};


static inline uint64_t load_u64(const void *p, int order)
{
	return __atomic_load_n((const uint64_t *)p, order);
}

static uint64_t hdr_head(const struct fdr_rec_file_hdr *h)
{
	return load_u64((const char *)h + offsetof(struct fdr_rec_file_hdr, head),
			__ATOMIC_ACQUIRE);
}

/*
 * Copy a slot that a writer may be changing under us.  The copy is checked
 * afterwards (seq re-read), so the race is intended; keep the thread
 * sanitizer out of it and copy with plain word loads (no memcpy, which
 * sanitizers intercept).
 */
__attribute__((noinline, no_sanitize("thread")))
static void copy_slot_racy(void *dst, const void *src)
{
	const volatile uint64_t *s = src;
	uint64_t *d = dst;

	for (size_t i = 0; i < FDR_REC_SLOT_SIZE / sizeof(uint64_t); i++)
		d[i] = s[i];
}

__attribute__((noinline, no_sanitize("thread")))
static uint64_t slot_wall_ns_racy(const void *slot)
{
	return *(const volatile uint64_t *)((const char *)slot +
					    offsetof(struct fdr_rec_event, wall_ns));
}

/* Header checks; len is what the file holds from the header on. */
static int check_hdr(const struct fdr_rec_file_hdr *h, size_t len, char *err,
		     size_t errlen, const char *what)
{
	uint64_t magic = load_u64(h, __ATOMIC_RELAXED);
	uint64_t nr = h->nr_slots;

	if (magic != FDR_REC_MAGIC) {
		fdr_rec_errf(err, errlen, "%s: not a recorder ring (bad magic 0x%016" PRIx64 ")",
			what, magic);
		return -1;
	}
	if (h->version != FDR_REC_VERSION) {
		fdr_rec_errf(err, errlen, "%s: ring version %" PRIu32 " not supported (want %d)",
			what, h->version, FDR_REC_VERSION);
		return -1;
	}
	if (h->slot_size != FDR_REC_SLOT_SIZE) {
		fdr_rec_errf(err, errlen, "%s: slot size %" PRIu32 " not supported (want %d)",
			what, h->slot_size, FDR_REC_SLOT_SIZE);
		return -1;
	}
	if (nr == 0 || nr > (len - FDR_REC_HDR_SIZE) / FDR_REC_SLOT_SIZE) {
		if (nr == 0)
			fdr_rec_errf(err, errlen, "%s: ring has no slots", what);
		else
			fdr_rec_errf(err, errlen,
				"%s: truncated: header says %" PRIu64 " slots (%" PRIu64
				" bytes) but only %zu bytes are there",
				what, nr, (uint64_t)FDR_REC_HDR_SIZE + nr * FDR_REC_SLOT_SIZE, len);
		return -1;
	}
	return 0;
}

/* A core file: look for a plausible ring header at a page-aligned offset. */
static const struct fdr_rec_file_hdr *scan_core(const char *map, size_t len)
{
	for (size_t off = FDR_REC_HDR_SIZE; off + FDR_REC_HDR_SIZE <= len;
	     off += FDR_REC_HDR_SIZE) {
		const struct fdr_rec_file_hdr *h = (const void *)(map + off);

		if (load_u64(h, __ATOMIC_RELAXED) != FDR_REC_MAGIC)
			continue;
		if (check_hdr(h, len - off, NULL, 0, "") == 0)
			return h;
	}
	return NULL;
}

/* Map the file behind fd (not closed here) and find the ring in it. */
static struct fdr_rec_reader *reader_map(int fd, const char *path, char *err, size_t errlen)
{
	struct fdr_rec_reader *r;
	struct stat st;
	void *map;
	size_t len;
	const struct fdr_rec_file_hdr *h;
	bool is_static = false;

	if (fstat(fd, &st) < 0) {
		fdr_rec_errf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		fdr_rec_errf(err, errlen, "%s: not a regular file", path);
		return NULL;
	}
	if ((uint64_t)st.st_size < FDR_REC_HDR_SIZE) {
		fdr_rec_errf(err, errlen, "%s: too short for a ring (%lld bytes, header is %d)",
			path, (long long)st.st_size, FDR_REC_HDR_SIZE);
		return NULL;
	}
	len = (size_t)st.st_size;
	map = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		fdr_rec_errf(err, errlen, "%s: cannot map: %s", path, strerror(errno));
		return NULL;
	}

	h = map;
	if (load_u64(h, __ATOMIC_ACQUIRE) == FDR_REC_MAGIC) {
		if (check_hdr(h, len, err, errlen, path) < 0) {
			munmap(map, len);
			return NULL;
		}
	} else {
		h = scan_core(map, len);
		if (!h) {
			fdr_rec_errf(err, errlen,
				"%s: not a recorder ring (bad magic 0x%016" PRIx64
				") and no ring found in it as in a core file",
				path, load_u64(map, __ATOMIC_RELAXED));
			munmap(map, len);
			return NULL;
		}
		is_static = true;
	}

	r = calloc(1, sizeof(*r));
	if (!r) {
		fdr_rec_errf(err, errlen, "%s: out of memory", path);
		munmap(map, len);
		return NULL;
	}
	r->map = map;
	r->map_len = len;
	r->hdr = h;
	r->slots = (const char *)h + FDR_REC_HDR_SIZE;
	r->nr_slots = h->nr_slots;
	r->is_static = is_static;
	return r;
}

struct fdr_rec_reader *fdr_rec_reader_open(const char *path, char *err, size_t errlen)
{
	struct fdr_rec_reader *r;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fdr_rec_errf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	r = reader_map(fd, path, err, errlen);
	close(fd);
	return r;
}

struct fdr_rec_reader *fdr_rec_reader_open_fd(int fd, const char *name, char *err,
					      size_t errlen)
{
	if (fd < 0) {
		fdr_rec_errf(err, errlen, "%s: no descriptor", name ? name : "ring");
		return NULL;
	}
	return reader_map(fd, name ? name : "ring", err, errlen);
}

void fdr_rec_reader_close(struct fdr_rec_reader *r)
{
	if (!r)
		return;
	munmap(r->map, r->map_len);
	free(r);
}

const struct fdr_rec_file_hdr *fdr_rec_reader_hdr(const struct fdr_rec_reader *r)
{
	return r->hdr;
}

uint64_t fdr_rec_reader_lost(const struct fdr_rec_reader *r)
{
	return r->lost;
}

uint64_t fdr_rec_reader_head(const struct fdr_rec_reader *r)
{
	return hdr_head(r->hdr);
}

uint64_t fdr_rec_reader_tell(const struct fdr_rec_reader *r)
{
	return r->next_seq;
}

void fdr_rec_reader_seek(struct fdr_rec_reader *r, uint64_t seq)
{
	r->next_seq = seq;
	r->head_seen = 0;
	r->since_refresh = REFRESH_EVERY; /* load head before the next slot */
	r->stalled = false;
}

void fdr_rec_reader_writers_gone(struct fdr_rec_reader *r)
{
	r->is_static = true;
}

bool fdr_rec_reader_ready(const struct fdr_rec_reader *r)
{
	const char *slot = r->slots + (r->next_seq % r->nr_slots) * FDR_REC_SLOT_SIZE;

	return load_u64(slot, __ATOMIC_RELAXED) == r->next_seq + 1;
}

/* The slot of next_seq is claimed but not complete: is its writer gone? */
static bool writer_gone(struct fdr_rec_reader *r, const char *slot, uint64_t v)
{
	uint64_t now;

	if (r->is_static)
		return true;
	/* Cleared (seq 0) and stamped long ago: begun and never committed. */
	if (v == 0) {
		uint64_t w = slot_wall_ns_racy(slot);

		if (w && fdr_wall_ns() > w + STALL_NS)
			return true;
	}
	now = fdr_now_ns();
	if (!r->stalled || r->stall_seq != r->next_seq) {
		r->stalled = true;
		r->stall_seq = r->next_seq;
		r->stall_since_ns = now;
		return false;
	}
	return now - r->stall_since_ns > STALL_NS;
}

/* Load head; whatever fell out of the ring's window since is lost. */
static void refresh_head(struct fdr_rec_reader *r)
{
	uint64_t head = hdr_head(r->hdr), nr = r->nr_slots;

	r->head_seen = head;
	r->since_refresh = 0;
	if (head > nr && r->next_seq < head - nr) {
		r->lost += (head - nr) - r->next_seq;
		r->next_seq = head - nr;
	}
}

int fdr_rec_reader_next(struct fdr_rec_reader *r, struct fdr_rec_event *ev)
{
	uint64_t nr;

	if (!r || !ev)
		return -1;
	nr = r->nr_slots;
	for (;;) {
		const char *slot;
		uint64_t v, v2, before;

		if (r->since_refresh >= REFRESH_EVERY)
			refresh_head(r); /* a lap is noticed within this many */

		slot = r->slots + (r->next_seq % nr) * FDR_REC_SLOT_SIZE;
		v = load_u64(slot, __ATOMIC_ACQUIRE);
		if (v == r->next_seq + 1) {
			copy_slot_racy(ev, slot);
			rec_fence(__ATOMIC_ACQUIRE);
			v2 = load_u64(slot, __ATOMIC_RELAXED);
			r->next_seq++;
			r->since_refresh++;
			r->quiet_polls = 0;
			/* A writer lapped mid-event by the others shares its
			 * slot with the writer of seq + nr_slots, and may
			 * publish its own seq over a mix of both: an event
			 * counts only if head, loaded after the copy, says no
			 * writer of a later lap had claimed the slot. */
			if (v2 == v && !r->is_static && hdr_head(r->hdr) - (r->next_seq - 1) > nr) {
				r->lost++;
				continue;
			}
			if (v2 == v) {
				r->stalled = false;
				return 1;
			}
			r->lost++; /* overwritten while copied */
			continue;
		}
		/*
		 * Not the expected lap.  A slot that still holds an older lap,
		 * or was never written (seq 0 and no stamp: the ring's first
		 * lap), means the event is not committed yet and the ring has
		 * not lapped us: nothing new, no need to load head.  (seq 0
		 * with a stamp is a writer of some lap at work: look.)  Every
		 * 64th poll looks anyway, for a writer that died in between.
		 */
		if ((v ? v < r->next_seq + 1 : slot_wall_ns_racy(slot) == 0) && !r->is_static &&
		    (++r->quiet_polls & 63))
			return 0;
		/* See whether the ring left us behind. */
		before = r->next_seq;
		refresh_head(r);
		if (r->next_seq != before)
			continue;
		if (r->next_seq >= r->head_seen)
			return 0; /* nothing new */
		if (v > r->next_seq + 1) {
			/* Already reused by a later lap. */
			r->lost++;
			r->next_seq++;
			continue;
		}
		if (!writer_gone(r, slot, v))
			return 0; /* being written: try again later */
		/* Begun and never finished. */
		r->lost++;
		r->next_seq++;
		r->stalled = false;
	}
}

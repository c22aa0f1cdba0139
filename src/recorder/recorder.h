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
/* The global ring; NULL while none is open or recording is switched off. */
extern struct fdr_rec_file_hdr *fdr_rec_ring;

int fdr_rec_open(const struct fdr_rec_opts *o, char *err, size_t errlen);
void fdr_rec_close(void);
/* Run-time switch (recording stays configured, emit calls return early). */
void fdr_rec_set_enabled(bool on);
/* Is a ring open (whether or not recording is switched on)? */
bool fdr_rec_configured(void);

/* Claim the next slot: seq cleared, wall_ns/kind set, the rest zero.
 * NULL if recording is off.  Finish with fdr_rec_commit(). */
struct fdr_rec_event *fdr_rec_begin(uint16_t kind);
/* The same with a timestamp the caller already has (0: read the clock). */
struct fdr_rec_event *fdr_rec_begin_at(uint16_t kind, uint64_t wall_ns);
void fdr_rec_commit(struct fdr_rec_event *ev);
static inline bool fdr_rec_on(void)
{
	return __atomic_load_n(&fdr_rec_ring, __ATOMIC_RELAXED) != NULL;
}
/* PDU headers are recorded only on request: commands and completions
 * already carry the NVMe content, and each event costs. */
static inline bool fdr_rec_pdus_on(void)
{
	struct fdr_rec_file_hdr *h = __atomic_load_n(&fdr_rec_ring, __ATOMIC_RELAXED);
	return h && (h->flags & FDR_REC_F_PDUS);
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
void fdr_rec_reader_close(struct fdr_rec_reader *r);
const struct fdr_rec_file_hdr *fdr_rec_reader_hdr(const struct fdr_rec_reader *r);
/* Events that were overwritten before they could be read (so far). */
uint64_t fdr_rec_reader_lost(const struct fdr_rec_reader *r);
/* Next complete event in sequence order into *ev: 1, 0 at the end of what
 * is there now (a live ring may grow: call again), -1 on error.  Slots
 * found incomplete or overwritten while reading count as lost. */
int fdr_rec_reader_next(struct fdr_rec_reader *r, struct fdr_rec_event *ev);

#endif

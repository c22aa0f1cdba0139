/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * nvmedump -i: live capture from a running drive.  The drive's control
 * socket hands over its recorder ring (`record attach`, a descriptor by
 * SCM_RIGHTS); nvmedump maps it read-only and follows it by itself, with
 * an adaptive poll: spin briefly, then yield, then sleep 1 ms, backing off
 * while the drive is idle.  The drive never waits for nvmedump; what a
 * reader too slow for it misses is counted as lost.
 *
 * The connection stays open: when the drive exits it closes, and nvmedump
 * reads what the drive recorded to the end, then stops.
 */
#ifndef NVMEDUMP_LIVE_H
#define NVMEDUMP_LIVE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "recorder/recorder.h"

struct nvmedump_live;

/*
 * Attach to the drive DRIVE: a control socket path, or a port number
 * (the default socket of the drive listening on that port, as
 * `frankendrive ctl --port`); NULL: the default for port 4420.  Reading
 * starts at the drive's current head (new events only), or with
 * from_oldest at the oldest event still in the ring.  Writes a
 * "listening on ..." line to standard error.  NULL with the reason in err.
 */
struct nvmedump_live *nvmedump_live_open(const char *drive, bool from_oldest, char *err,
					 size_t errlen);
/* The reader of the drive's ring (owned by l). */
struct fdr_rec_reader *nvmedump_live_reader(struct nvmedump_live *l);
/* The control socket's path. */
const char *nvmedump_live_path(const struct nvmedump_live *l);

/*
 * Call when fdr_rec_reader_next() returned 0: waits a little (spins,
 * yields or sleeps, by how long the ring has been quiet) and returns 1:
 * read again; 0: the drive is gone and its ring read to the end; -1:
 * flushing out failed.  out (may be NULL) is flushed before sleeping, not
 * while events flow.  Returns early when *stop is set.
 */
int nvmedump_live_wait(struct nvmedump_live *l, volatile sig_atomic_t *stop, FILE *out);

/* One line about the capture for standard error: the sequence numbers
 * followed, how many events were read and lost, whether the drive exited. */
void nvmedump_live_summary(const struct nvmedump_live *l, FILE *f);
void nvmedump_live_close(struct nvmedump_live *l);

/* The control socket path for DRIVE (see nvmedump_live_open). */
void nvmedump_live_socket_path(const char *drive, char *buf, size_t len);

#endif

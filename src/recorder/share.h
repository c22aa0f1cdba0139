/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Handing the flight recorder's ring to live readers (nvmedump -i): the
 * drive keeps a read-only descriptor of its ring file, and the control
 * socket's `record attach` passes a duplicate of it with SCM_RIGHTS.  The
 * reader maps it read-only and follows the ring on its own; nothing on the
 * drive's side waits for it.
 *
 * Called from the drive's main thread (init, fini) and the control thread
 * (the rest), never from a reactor.  Built with the recorder only.
 */
#ifndef FDR_REC_SHARE_H
#define FDR_REC_SHARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Open path read-only and check that it is the ring fdr_rec_open() just
 * made (magic, this process, same creation time and size).  Call right
 * after fdr_rec_open(), while recording is on.  -1 with a reason. */
int fdr_rec_share_init(const char *path, char *err, size_t errlen);
void fdr_rec_share_fini(void);

struct fdr_rec_share_info {
	const char *path;  /* the ring file as the drive opened it */
	uint64_t nr_slots;
	uint64_t head;     /* events recorded so far (the next sequence number) */
	uint32_t flags;    /* FDR_REC_F_* */
	uint32_t snaplen;
	uint64_t created_wall_ns;
};

/* Whether there is a ring to share, and its header as it is now. */
bool fdr_rec_share_info(struct fdr_rec_share_info *info);
/* A new descriptor of the ring file (read-only, close-on-exec) for a
 * reader; the caller closes it.  -1 with errno set (ENOENT: none). */
int fdr_rec_share_fd(void);

#endif

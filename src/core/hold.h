/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Held commands: a tap callback may keep a command and finish it later,
 * from any thread, or never.  Each held command has a ticket; finishing
 * goes through the command's reactor.  When its queue closes, what is
 * still held completes as aborted and the tickets go stale.
 */
#ifndef FDR_HOLD_H
#define FDR_HOLD_H

#include <stdint.h>

struct fdr_req;
struct fdr_queue;

/* Hold req (on its reactor); returns its ticket, the same if already held. */
uint64_t fdr_hold(struct fdr_req *req);
/* Any thread.  0, or -ESTALE. */
int fdr_hold_complete(uint64_t ticket, uint16_t status, uint32_t cdw0);
int fdr_hold_resume(uint64_t ticket);
/* Hold req and resume it after delay_ns; on req's reactor.  0 or -errno. */
int fdr_hold_delay(struct fdr_req *req, uint64_t delay_ns);
/* Complete everything q holds as aborted; on q's reactor. */
void fdr_hold_abort_queue(struct fdr_queue *q);

#endif

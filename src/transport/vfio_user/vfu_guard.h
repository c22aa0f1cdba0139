/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Inside the vfio-user server: DMA mappings guarded against a client that
 * shrinks the file behind them.  Touching a shared mapping past its
 * file's end raises SIGBUS; for a guarded range the handler puts an
 * anonymous page there instead (reads see zeros, writes go nowhere) and
 * marks the range hit, so the server stops using it.  Without this a
 * client could kill the drive and every other host with one ftruncate().
 */
#ifndef FDR_VFU_GUARD_H
#define FDR_VFU_GUARD_H

#include <stdbool.h>
#include <stddef.h>

/* Guard [base, base + len), mapped with pages of pgsize; a slot number, or
 * -1 if every slot is taken (the range then stays unguarded). */
int vfu_guard_add(void *base, size_t len, size_t pgsize);
void vfu_guard_del(int slot);
/* Has the range faulted (its file shrank under it)? */
bool vfu_guard_hit(int slot);

#endif

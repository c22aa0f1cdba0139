/* SPDX-License-Identifier: BSD-2-Clause */
/* Shared by the recorder's writer and reader. */
#ifndef FDR_REC_INTERNAL_H
#define FDR_REC_INTERNAL_H

#include <stddef.h>

/* printf into err (if any), for the functions that report reasons. */
void fdr_rec_errf(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/* Shared by the tests that run the built nvmedump (and tshark) as programs. */
#ifndef NVMEDUMP_E2E_UTIL_H
#define NVMEDUMP_E2E_UTIL_H

#include <stddef.h>

/* A whole (small) file into buf, NUL-terminated, cut at len - 1 bytes;
 * a missing file reads as empty.  Returns the bytes read. */
size_t e2e_slurp(const char *path, char *buf, size_t len);

/* Run a shell command line with stdout into outf and stderr into errf,
 * then read both into out and err.  Returns the exit status, or -1 if the
 * command did not exit normally. */
int e2e_system(const char *cmd, const char *outf, char *out, size_t outlen, const char *errf,
	       char *err, size_t errlen);

#endif

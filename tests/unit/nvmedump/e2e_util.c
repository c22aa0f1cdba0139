/* SPDX-License-Identifier: BSD-2-Clause */
#include "e2e_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

size_t e2e_slurp(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "rb");
	size_t n = 0;

	if (f) {
		n = fread(buf, 1, len - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
	return n;
}

int e2e_system(const char *cmd, const char *outf, char *out, size_t outlen, const char *errf,
	       char *err, size_t errlen)
{
	size_t n = 0;
	char *line;
	int st;

	n = (size_t)snprintf(NULL, 0, "(%s) >'%s' 2>'%s'", cmd, outf, errf) + 1;
	line = malloc(n);
	if (!line)
		return -1;
	snprintf(line, n, "(%s) >'%s' 2>'%s'", cmd, outf, errf);
	st = system(line);
	free(line);
	e2e_slurp(outf, out, outlen);
	e2e_slurp(errf, err, errlen);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The drive's run-directory paths (control socket, ring file), computed
 * the same way by the drive and by its clients (frankendrive ctl,
 * nvmedump -i).  Apart from the server so that clients link only this.
 */
#include "ctl/ctl.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static bool writable_dir(const char *dir)
{
	struct stat st;

	return stat(dir, &st) == 0 && S_ISDIR(st.st_mode) && access(dir, W_OK | X_OK) == 0;
}

void fdr_ctl_default_path(const char *port, char *buf, size_t len)
{
	fdr_run_default_path(port, "sock", buf, len);
}

void fdr_run_default_path(const char *port, const char *ext, char *buf, size_t len)
{
	char p[32];
	size_t n = 0;
	const char *xdg = getenv("XDG_RUNTIME_DIR");

	if (!port || !*port)
		port = FDR_CTL_DEFAULT_PORT;
	/* A port is a number or a service name; keep the file name tame anyway. */
	for (; *port && n < sizeof(p) - 1; port++, n++) {
		bool tame = isalnum((unsigned char)*port) || *port == '-' || *port == '_' ||
			    (*port == '.' && n > 0);

		p[n] = tame ? *port : '_';
	}
	p[n] = '\0';

	if (writable_dir("/run/frankendrive") || writable_dir("/run"))
		snprintf(buf, len, "/run/frankendrive/%s.%s", p, ext);
	else if (xdg && xdg[0] == '/' && writable_dir(xdg))
		snprintf(buf, len, "%s/frankendrive/%s.%s", xdg, p, ext);
	else
		snprintf(buf, len, "/tmp/frankendrive-%s.%s", p, ext);
}


/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Listening Unix stream sockets for the drive's servers (the control
 * socket, vfio-user): created with mode 0600, replacing a stale socket file
 * that nobody listens on, never one that is served.
 */
#ifndef FDR_USOCK_H
#define FDR_USOCK_H

#include <stddef.h>
#include <sys/types.h>

struct fdr_usock {
	int fd;    /* non-blocking, close-on-exec */
	dev_t dev; /* the socket file, to remove only our own */
	ino_t ino;
};

/*
 * Listen on path.  Its directory is created with dir_mode if missing (one
 * level).  who names the server in the log; busy is the error text when
 * something already serves path.  Returns 0, or -1 with err set.
 */
int fdr_usock_listen(struct fdr_usock *u, const char *path, mode_t dir_mode, int backlog,
		     const char *who, const char *busy, char *err, size_t errlen);
/* Close the socket and remove path if it is still the file we created. */
void fdr_usock_close(struct fdr_usock *u, const char *path);

#endif

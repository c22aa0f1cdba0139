/* SPDX-License-Identifier: BSD-2-Clause */
#include "usock.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"

static int make_parent(const char *path, mode_t mode, char *err, size_t errlen)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;
	struct stat st;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	if (stat(dir, &st) == 0) {
		if (!S_ISDIR(st.st_mode)) {
			snprintf(err, errlen, "%s is not a directory", dir);
			return -1;
		}
		return 0;
	}
	if (errno != ENOENT || (mkdir(dir, mode) && errno != EEXIST)) {
		snprintf(err, errlen, "cannot create directory %s: %s", dir, strerror(errno));
		return -1;
	}
	return 0;
}

/* A socket file at path: removed if nothing listens on it. */
static int clear_stale(const char *path, const struct sockaddr_un *sa, const char *who,
		       const char *busy, char *err, size_t errlen)
{
	struct stat st;
	int fd, rc;

	if (lstat(path, &st)) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "%s exists and is not a socket", path);
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	rc = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	if (rc == 0 || errno == EAGAIN || errno == EINPROGRESS) {
		close(fd);
		snprintf(err, errlen, "%s", busy);
		return -1;
	}
	if (errno != ECONNREFUSED) {
		snprintf(err, errlen, "cannot check the existing socket %s: %s", path,
			 strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	if (unlink(path) && errno != ENOENT) {
		snprintf(err, errlen, "cannot remove the stale socket %s: %s", path, strerror(errno));
		return -1;
	}
	fdr_info("%s: removed the stale socket %s", who, path);
	return 0;
}

int fdr_usock_listen(struct fdr_usock *u, const char *path, mode_t dir_mode, int backlog,
		     const char *who, const char *busy, char *err, size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat st;

	u->fd = -1;
	if (!path || !*path) {
		snprintf(err, errlen, "no socket path");
		return -1;
	}
	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "socket path too long (at most %zu bytes): %s",
			 sizeof(sa.sun_path) - 1, path);
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (make_parent(path, dir_mode, err, errlen) ||
	    clear_stale(path, &sa, who, busy, err, errlen))
		return -1;
	u->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (u->fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	if (bind(u->fd, (struct sockaddr *)&sa, sizeof(sa))) {
		snprintf(err, errlen, "cannot bind %s: %s%s", path, strerror(errno),
			 errno == EADDRINUSE ? " (another server starting there?)" : "");
		goto fail;
	}
	/* Nobody can connect before listen(), so the mode is set in time. */
	if (chmod(path, 0600) || stat(path, &st)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		unlink(path);
		goto fail;
	}
	u->dev = st.st_dev;
	u->ino = st.st_ino;
	if (listen(u->fd, backlog)) {
		snprintf(err, errlen, "listen on %s: %s", path, strerror(errno));
		unlink(path);
		goto fail;
	}
	return 0;
fail:
	close(u->fd);
	u->fd = -1;
	return -1;
}

void fdr_usock_close(struct fdr_usock *u, const char *path)
{
	struct stat st;

	if (u->fd >= 0)
		close(u->fd);
	u->fd = -1;
	if (!lstat(path, &st) && st.st_dev == u->dev && st.st_ino == u->ino)
		unlink(path);
}

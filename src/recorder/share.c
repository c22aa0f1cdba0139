/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The ring file for live readers (see share.h).  The descriptor is opened
 * once, at start-up, not per request: the path may be renamed or removed
 * while the drive runs, the ring stays the one the drive writes.
 */
#include "recorder/share.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rec_internal.h"
#include "recorder/recorder.h"

static int g_fd = -1;
/* The header page, mapped read-only: head and the rest can be shown
 * while recording is switched off, when fdr_rec_ring is NULL. */
static const struct fdr_rec_file_hdr *g_hdr;
static char *g_path;

static uint64_t hdr_u64(const struct fdr_rec_file_hdr *h, size_t off, int order)
{
	return __atomic_load_n((const uint64_t *)(const void *)((const char *)h + off), order);
}

int fdr_rec_share_init(const char *path, char *err, size_t errlen)
{
	const struct fdr_rec_file_hdr *ring = __atomic_load_n(&fdr_rec_ring, __ATOMIC_ACQUIRE);
	struct stat st;
	void *map;
	uint64_t want;
	int fd;

	if (g_fd >= 0) {
		fdr_rec_errf(err, errlen, "the ring is shared already");
		return -1;
	}
	if (!ring) {
		fdr_rec_errf(err, errlen, "no ring is open");
		return -1;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fdr_rec_errf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	want = FDR_REC_HDR_SIZE + ring->nr_slots * FDR_REC_SLOT_SIZE;
	errno = 0;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || (uint64_t)st.st_size != want) {
		fdr_rec_errf(err, errlen, "%s is no longer the ring file (%s)", path,
			     errno ? strerror(errno) : "size or type changed");
		close(fd);
		return -1;
	}
	map = mmap(NULL, FDR_REC_HDR_SIZE, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		fdr_rec_errf(err, errlen, "%s: cannot map: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	g_hdr = map;
	/* The same file as the writer's mapping: its header says so. */
	if (hdr_u64(g_hdr, offsetof(struct fdr_rec_file_hdr, magic), __ATOMIC_ACQUIRE) !=
		    FDR_REC_MAGIC ||
	    g_hdr->pid != (uint32_t)getpid() || g_hdr->created_wall_ns != ring->created_wall_ns ||
	    g_hdr->nr_slots != ring->nr_slots) {
		fdr_rec_errf(err, errlen, "%s is not the ring this drive writes (replaced?)", path);
		munmap(map, FDR_REC_HDR_SIZE);
		g_hdr = NULL;
		close(fd);
		return -1;
	}
	g_path = strdup(path);
	if (!g_path) {
		fdr_rec_errf(err, errlen, "out of memory");
		munmap(map, FDR_REC_HDR_SIZE);
		g_hdr = NULL;
		close(fd);
		return -1;
	}
	g_fd = fd;
	return 0;
}

void fdr_rec_share_fini(void)
{
	if (g_fd < 0)
		return;
	munmap((void *)g_hdr, FDR_REC_HDR_SIZE);
	g_hdr = NULL;
	close(g_fd);
	g_fd = -1;
	free(g_path);
	g_path = NULL;
}

bool fdr_rec_share_info(struct fdr_rec_share_info *info)
{
	if (g_fd < 0)
		return false;
	info->path = g_path;
	info->nr_slots = g_hdr->nr_slots;
	info->head = hdr_u64(g_hdr, offsetof(struct fdr_rec_file_hdr, head), __ATOMIC_RELAXED);
	info->flags = g_hdr->flags;
	info->snaplen = g_hdr->snaplen;
	info->created_wall_ns = g_hdr->created_wall_ns;
	return true;
}

int fdr_rec_share_fd(void)
{
	if (g_fd < 0) {
		errno = ENOENT;
		return -1;
	}
	return fcntl(g_fd, F_DUPFD_CLOEXEC, 0);
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A small blocking vfio-user client (see fdr_vfu_client.h).  Layouts are
 * written here from the specification, independently of the server's.
 */
#include "fdr_vfu_client.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define HDR_LEN 16
#define F_REPLY 0x1u
#define F_NO_REPLY 0x10u
#define F_ERROR 0x20u
#define MAX_RX_FDS 8

enum {
	CMD_VERSION = 1,
	CMD_DMA_MAP = 2,
	CMD_DMA_UNMAP = 3,
	CMD_GET_INFO = 4,
	CMD_GET_REGION_INFO = 5,
	CMD_GET_IRQ_INFO = 7,
	CMD_SET_IRQS = 8,
	CMD_REGION_READ = 9,
	CMD_REGION_WRITE = 10,
	CMD_RESET = 13,
};

struct fdr_vfu_client {
	int fd;
	uint16_t next_id;
	int timeout_ms;
	char err[256];
	uint8_t *buf; /* requests and replies */
	size_t cap;
};

static void put16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}
static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}
static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}
static uint16_t get16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, 2);
	return v;
}
static uint32_t get32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}
static uint64_t get64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

__attribute__((format(printf, 3, 4))) static int fail(struct fdr_vfu_client *c, int rc,
						      const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
	return rc;
}

static int reserve(struct fdr_vfu_client *c, size_t len)
{
	if (len > c->cap) {
		uint8_t *n = realloc(c->buf, len);

		if (!n)
			return fail(c, -ENOMEM, "out of memory");
		c->buf = n;
		c->cap = len;
	}
	return 0;
}

struct fdr_vfu_client *fdr_vfu_client_connect(const char *dir, char *err, size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct fdr_vfu_client *c;
	struct stat st;
	int n;

	if (!stat(dir, &st) && S_ISSOCK(st.st_mode))
		n = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", dir);
	else
		n = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/cntrl", dir);
	if (n < 0 || (size_t)n >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "socket path too long: %s", dir);
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->timeout_ms = 5000;
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof(sa))) {
		snprintf(err, errlen, "cannot connect to %s: %s", sa.sun_path, strerror(errno));
		if (c->fd >= 0)
			close(c->fd);
		free(c);
		return NULL;
	}
	return c;
}

void fdr_vfu_client_close(struct fdr_vfu_client *c)
{
	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	free(c->buf);
	free(c);
}

const char *fdr_vfu_client_error(const struct fdr_vfu_client *c)
{
	return c->err;
}

int fdr_vfu_client_fd(const struct fdr_vfu_client *c)
{
	return c->fd;
}

void fdr_vfu_client_set_timeout(struct fdr_vfu_client *c, int ms)
{
	c->timeout_ms = ms;
}

int fdr_vfu_client_send_raw(struct fdr_vfu_client *c, const void *msg, size_t len,
			    const int *fds, unsigned nfds)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * 64)];
	} cm;
	const uint8_t *p = msg;

	if (nfds > 64)
		return fail(c, -EINVAL, "too many fds");
	while (len) {
		struct iovec iov = {(void *)(uintptr_t)p, len};
		struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
		ssize_t n;

		if (nfds) {
			struct cmsghdr *h;

			memset(&cm, 0, sizeof(cm));
			mh.msg_control = cm.buf;
			mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
			h = CMSG_FIRSTHDR(&mh);
			h->cmsg_level = SOL_SOCKET;
			h->cmsg_type = SCM_RIGHTS;
			h->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
			memcpy(CMSG_DATA(h), fds, sizeof(int) * nfds);
		}
		n = sendmsg(c->fd, &mh, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return fail(c, -errno, "send: %s", strerror(errno));
		}
		nfds = 0;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Reads exactly len bytes (p NULL: discard), collecting fds; -errno on failure. */
static int recv_exact(struct fdr_vfu_client *c, uint8_t *p, size_t len, int *fds,
		      unsigned *nfds, uint64_t deadline)
{
	uint8_t sink[4096];

	while (len) {
		union {
			struct cmsghdr align;
			char buf[CMSG_SPACE(sizeof(int) * MAX_RX_FDS)];
		} cm;
		struct iovec iov = {p ? p : sink, p ? len : (len < sizeof(sink) ? len : sizeof(sink))};
		struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.buf,
				    .msg_controllen = sizeof(cm.buf)};
		struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
		uint64_t now = now_ms();
		ssize_t n;

		if (now >= deadline)
			return fail(c, -ETIMEDOUT, "no reply within %d ms", c->timeout_ms);
		n = poll(&pfd, 1, (int)(deadline - now));
		if (n < 0 && errno != EINTR)
			return fail(c, -errno, "poll: %s", strerror(errno));
		if (n <= 0)
			continue;
		n = recvmsg(c->fd, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return fail(c, -errno, "receive: %s", strerror(errno));
		for (struct cmsghdr *h = CMSG_FIRSTHDR(&mh); h; h = CMSG_NXTHDR(&mh, h)) {
			if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS)
				continue;
			for (size_t i = 0; i < (h->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
				int fd;

				memcpy(&fd, CMSG_DATA(h) + i * sizeof(int), sizeof(fd));
				if (fds && *nfds < MAX_RX_FDS)
					fds[(*nfds)++] = fd;
				else
					close(fd);
			}
		}
		if (n == 0)
			return fail(c, -EPIPE, "the server closed the connection");
		if (p)
			p += n;
		len -= (size_t)n;
	}
	return 0;
}

int fdr_vfu_client_recv_reply(struct fdr_vfu_client *c, void *hdr16, void *payload, size_t max)
{
	uint64_t deadline = now_ms() + (uint64_t)c->timeout_ms;
	int fds[MAX_RX_FDS];
	unsigned nfds = 0;
	uint8_t *h = hdr16;
	uint32_t size = HDR_LEN;
	int rc;

	rc = recv_exact(c, h, HDR_LEN, fds, &nfds, deadline);
	if (!rc) {
		size = get32(h + 4);
		if (size < HDR_LEN)
			rc = fail(c, -EPROTO, "reply size %u below the header", size);
		else if ((rc = recv_exact(c, payload, size - HDR_LEN < max ? size - HDR_LEN : max,
					  fds, &nfds, deadline)) == 0 && size - HDR_LEN > max)
			rc = recv_exact(c, NULL, size - HDR_LEN - max, fds, &nfds, deadline);
	}
	for (unsigned i = 0; i < nfds; i++)
		close(fds[i]);
	return rc ? rc : (int)(size - HDR_LEN);
}

/*
 * One request, one reply.  The reply payload lands in c->buf + HDR_LEN
 * (at most rmax bytes are kept); rfd (if not NULL) gets the first fd sent
 * with it.  Returns the reply payload length or -errno.
 */
static int request(struct fdr_vfu_client *c, uint16_t cmd, const void *payload, size_t plen,
		   const int *fds, unsigned nfds, bool no_reply, size_t rmax, int *rfd)
{
	uint64_t deadline = now_ms() + (uint64_t)c->timeout_ms;
	int rx_fds[MAX_RX_FDS];
	unsigned rx_nfds = 0;
	uint16_t id = c->next_id++;
	uint32_t size, flags;
	size_t keep;
	int rc;

	if (rfd)
		*rfd = -1;
	if (c->fd < 0)
		return fail(c, -EPIPE, "not connected");
	rc = reserve(c, HDR_LEN + (plen > rmax ? plen : rmax));
	if (rc)
		return rc;
	put16(c->buf, id);
	put16(c->buf + 2, cmd);
	put32(c->buf + 4, (uint32_t)(HDR_LEN + plen));
	put32(c->buf + 8, no_reply ? F_NO_REPLY : 0);
	put32(c->buf + 12, 0);
	if (plen)
		memcpy(c->buf + HDR_LEN, payload, plen);
	rc = fdr_vfu_client_send_raw(c, c->buf, HDR_LEN + plen, fds, nfds);
	if (rc || no_reply)
		return rc;

	rc = recv_exact(c, c->buf, HDR_LEN, rx_fds, &rx_nfds, deadline);
	if (rc)
		goto out;
	size = get32(c->buf + 4);
	flags = get32(c->buf + 8);
	if (size < HDR_LEN || (flags & 0xf) != F_REPLY || get16(c->buf) != id ||
	    get16(c->buf + 2) != cmd) {
		rc = fail(c, -EPROTO, "bad reply header (id %u cmd %u size %u flags %#x)",
			  get16(c->buf), get16(c->buf + 2), size, flags);
		goto out;
	}
	if (flags & F_ERROR) {
		uint32_t e = get32(c->buf + 12);

		if (size != HDR_LEN) {
			rc = fail(c, -EPROTO, "error reply with a %u-byte payload", size - HDR_LEN);
			goto out;
		}
		rc = fail(c, e ? -(int)e : -EIO, "server error %u (%s)", e, strerror((int)e));
		goto out;
	}
	keep = size - HDR_LEN < rmax ? size - HDR_LEN : rmax;
	rc = recv_exact(c, c->buf + HDR_LEN, keep, rx_fds, &rx_nfds, deadline);
	if (!rc && size - HDR_LEN > keep)
		rc = fail(c, -EPROTO, "reply of %u bytes larger than the %zu expected", size - HDR_LEN,
			  rmax);
	if (!rc)
		rc = (int)(size - HDR_LEN);
out:
	for (unsigned i = 0; i < rx_nfds; i++) {
		if (rfd && *rfd < 0 && rc >= 0)
			*rfd = rx_fds[i];
		else
			close(rx_fds[i]);
	}
	/* A stream we cannot follow any more is dead. */
	if (rc == -EPROTO || rc == -EPIPE || rc == -ETIMEDOUT || rc == -ECONNRESET) {
		close(c->fd);
		c->fd = -1;
	}
	return rc;
}

int fdr_vfu_client_version(struct fdr_vfu_client *c, uint16_t major, uint16_t minor,
			   const char *json, uint16_t *rmajor, uint16_t *rminor, char *rjson,
			   size_t rjson_len)
{
	size_t jlen = json ? strlen(json) + 1 : 0;
	uint8_t *p = malloc(4 + jlen);
	int rc;

	if (!p)
		return fail(c, -ENOMEM, "out of memory");
	put16(p, major);
	put16(p + 2, minor);
	if (jlen)
		memcpy(p + 4, json, jlen);
	rc = request(c, CMD_VERSION, p, 4 + jlen, NULL, 0, false, 4096, NULL);
	free(p);
	if (rc < 0)
		return rc;
	if (rc < 4)
		return fail(c, -EPROTO, "VERSION reply of %d bytes", rc);
	if (rmajor)
		*rmajor = get16(c->buf + HDR_LEN);
	if (rminor)
		*rminor = get16(c->buf + HDR_LEN + 2);
	if (rjson && rjson_len) {
		size_t n = (size_t)rc - 4 < rjson_len - 1 ? (size_t)rc - 4 : rjson_len - 1;

		memcpy(rjson, c->buf + HDR_LEN + 4, n);
		rjson[n] = '\0';
	}
	return 0;
}

int fdr_vfu_client_get_info(struct fdr_vfu_client *c, struct fdr_vfu_client_dev_info *out)
{
	uint8_t p[16] = {0};
	int rc;

	put32(p, 16);
	rc = request(c, CMD_GET_INFO, p, 16, NULL, 0, false, 16, NULL);
	if (rc < 0)
		return rc;
	if (rc != 16)
		return fail(c, -EPROTO, "DEVICE_GET_INFO reply of %d bytes, not 16", rc);
	out->flags = get32(c->buf + HDR_LEN + 4);
	out->num_regions = get32(c->buf + HDR_LEN + 8);
	out->num_irqs = get32(c->buf + HDR_LEN + 12);
	return 0;
}

int fdr_vfu_client_region_info(struct fdr_vfu_client *c, unsigned index, uint32_t argsz,
			       struct fdr_vfu_client_region *out, int *fd)
{
	uint8_t *p, *r;
	uint32_t cap_off;
	int rc, rfd = -1;

	if (!argsz)
		argsz = 4064;
	if (argsz < 32)
		argsz = 32;
	p = calloc(1, argsz);
	if (!p)
		return fail(c, -ENOMEM, "out of memory");
	put32(p, argsz);
	put32(p + 8, index);
	rc = request(c, CMD_GET_REGION_INFO, p, argsz, NULL, 0, false, argsz, &rfd);
	free(p);
	if (fd)
		*fd = rfd;
	else if (rfd >= 0)
		close(rfd);
	if (rc < 0)
		return rc;
	if (rc < 32) {
		rc = fail(c, -EPROTO, "region info reply of %d bytes", rc);
		goto bad;
	}
	r = c->buf + HDR_LEN;
	memset(out, 0, sizeof(*out));
	out->argsz = get32(r);
	out->flags = get32(r + 4);
	out->index = get32(r + 8);
	cap_off = get32(r + 12);
	out->size = get64(r + 16);
	out->offset = get64(r + 24);
	if (!(out->flags & FDR_VFUC_REGION_CAPS))
		return rc;
	/* Walk the capability chain. */
	for (unsigned hops = 0; cap_off; hops++) {
		uint16_t id;
		uint32_t next;

		if (hops > 16 || cap_off < 32 || cap_off + 8 > (uint32_t)rc) {
			rc = fail(c, -EPROTO, "bad capability offset %u", cap_off);
			goto bad;
		}
		id = get16(r + cap_off);
		next = get32(r + cap_off + 4);
		if (id == 1) { /* sparse mmap */
			uint32_t n;

			if (cap_off + 16 > (uint32_t)rc) {
				rc = fail(c, -EPROTO, "truncated sparse-mmap capability");
				goto bad;
			}
			n = get32(r + cap_off + 8);
			if (n > FDR_VFUC_MAX_AREAS || cap_off + 16 + 16 * n > (uint32_t)rc) {
				rc = fail(c, -EPROTO, "sparse-mmap capability with %u areas", n);
				goto bad;
			}
			out->nr_areas = n;
			for (uint32_t i = 0; i < n; i++) {
				out->areas[i].offset = get64(r + cap_off + 16 + 16 * i);
				out->areas[i].size = get64(r + cap_off + 24 + 16 * i);
			}
		}
		cap_off = next;
	}
	return rc;
bad:
	if (fd && *fd >= 0) {
		close(*fd);
		*fd = -1;
	}
	return rc;
}

void *fdr_vfu_client_map_area(const struct fdr_vfu_client_region *ri, int fd, unsigned area)
{
	int prot = ((ri->flags & FDR_VFUC_REGION_READ) ? PROT_READ : 0) |
		   ((ri->flags & FDR_VFUC_REGION_WRITE) ? PROT_WRITE : 0);
	void *p;

	if (fd < 0 || area >= ri->nr_areas || !ri->areas[area].size)
		return NULL;
	p = mmap(NULL, ri->areas[area].size, prot, MAP_SHARED, fd,
		 (off_t)(ri->offset + ri->areas[area].offset));
	return p == MAP_FAILED ? NULL : p;
}

int fdr_vfu_client_irq_info(struct fdr_vfu_client *c, unsigned index, uint32_t *flags,
			    uint32_t *count)
{
	uint8_t p[16] = {0};
	int rc;

	put32(p, 16);
	put32(p + 8, index);
	rc = request(c, CMD_GET_IRQ_INFO, p, 16, NULL, 0, false, 16, NULL);
	if (rc < 0)
		return rc;
	if (rc != 16)
		return fail(c, -EPROTO, "IRQ info reply of %d bytes", rc);
	if (flags)
		*flags = get32(c->buf + HDR_LEN + 4);
	if (count)
		*count = get32(c->buf + HDR_LEN + 12);
	return 0;
}

int fdr_vfu_client_region_read(struct fdr_vfu_client *c, unsigned region, uint64_t offset,
			       void *buf, uint32_t count)
{
	uint8_t p[16];
	uint32_t got;
	int rc;

	put64(p, offset);
	put32(p + 8, region);
	put32(p + 12, count);
	rc = request(c, CMD_REGION_READ, p, 16, NULL, 0, false, 16 + (size_t)count, NULL);
	if (rc < 0)
		return rc;
	if (rc < 16)
		return fail(c, -EPROTO, "REGION_READ reply of %d bytes", rc);
	got = get32(c->buf + HDR_LEN + 12);
	if (got > count || (uint32_t)rc != 16 + got)
		return fail(c, -EPROTO, "REGION_READ reply count %u for %u asked, %d bytes", got,
			    count, rc);
	memcpy(buf, c->buf + HDR_LEN + 16, got);
	return (int)got;
}

int fdr_vfu_client_region_write(struct fdr_vfu_client *c, unsigned region, uint64_t offset,
				const void *buf, uint32_t count, bool no_reply)
{
	uint8_t *p = malloc(16 + (size_t)count);
	int rc;

	if (!p)
		return fail(c, -ENOMEM, "out of memory");
	put64(p, offset);
	put32(p + 8, region);
	put32(p + 12, count);
	memcpy(p + 16, buf, count);
	rc = request(c, CMD_REGION_WRITE, p, 16 + (size_t)count, NULL, 0, no_reply, 16, NULL);
	free(p);
	if (rc < 0 || no_reply)
		return rc;
	if (rc != 16)
		return fail(c, -EPROTO, "REGION_WRITE reply of %d bytes", rc);
	return (int)get32(c->buf + HDR_LEN + 12);
}

int fdr_vfu_client_dma_map(struct fdr_vfu_client *c, uint64_t iova, uint64_t size, int fd,
			   uint64_t offset, uint32_t prot)
{
	uint8_t p[32];
	int rc;

	put32(p, 32);
	put32(p + 4, prot);
	put64(p + 8, fd >= 0 ? offset : 0);
	put64(p + 16, iova);
	put64(p + 24, size);
	rc = request(c, CMD_DMA_MAP, p, 32, fd >= 0 ? &fd : NULL, fd >= 0, false, 0, NULL);
	return rc < 0 ? rc : 0;
}

int fdr_vfu_client_dma_unmap(struct fdr_vfu_client *c, uint64_t iova, uint64_t size,
			     uint32_t flags)
{
	uint8_t p[24];
	int rc;

	put32(p, 24);
	put32(p + 4, flags);
	put64(p + 8, iova);
	put64(p + 16, size);
	rc = request(c, CMD_DMA_UNMAP, p, 24, NULL, 0, false, 24, NULL);
	if (rc < 0)
		return rc;
	if (rc != 24)
		return fail(c, -EPROTO, "DMA_UNMAP reply of %d bytes, not 24", rc);
	return 0;
}

int fdr_vfu_client_set_irqs(struct fdr_vfu_client *c, unsigned index, uint32_t flags,
			    uint32_t start, uint32_t count, const int *fds, unsigned nfds,
			    const uint8_t *bools)
{
	size_t blen = (flags & FDR_VFUC_IRQ_DATA_BOOL) && bools ? count : 0;
	uint8_t *p = malloc(20 + blen);
	int rc;

	if (!p)
		return fail(c, -ENOMEM, "out of memory");
	put32(p, (uint32_t)(20 + blen));
	put32(p + 4, flags);
	put32(p + 8, index);
	put32(p + 12, start);
	put32(p + 16, count);
	if (blen)
		memcpy(p + 20, bools, blen);
	rc = request(c, CMD_SET_IRQS, p, 20 + blen, fds, nfds, false, 0, NULL);
	free(p);
	return rc < 0 ? rc : 0;
}

int fdr_vfu_client_set_msix(struct fdr_vfu_client *c, uint32_t start, uint32_t count,
			    const int *fds)
{
	return fdr_vfu_client_set_irqs(c, FDR_VFUC_IRQ_MSIX,
				       FDR_VFUC_IRQ_DATA_EVENTFD | FDR_VFUC_IRQ_ACTION_TRIGGER, start,
				       count, fds, fds ? count : 0, NULL);
}

int fdr_vfu_client_mask(struct fdr_vfu_client *c, unsigned index, uint32_t start,
			uint32_t count, bool mask)
{
	return fdr_vfu_client_set_irqs(c, index,
				       FDR_VFUC_IRQ_DATA_NONE |
					       (mask ? FDR_VFUC_IRQ_ACTION_MASK
						     : FDR_VFUC_IRQ_ACTION_UNMASK),
				       start, count, NULL, 0, NULL);
}

int fdr_vfu_client_reset(struct fdr_vfu_client *c)
{
	int rc = request(c, CMD_RESET, NULL, 0, NULL, 0, false, 0, NULL);

	return rc < 0 ? rc : 0;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The vfio-user server: the listening socket DIR/cntrl, one client
 * connection at a time, message framing with descriptor passing, and the
 * execution of commands that vfu_msg_parse() accepted.  Everything runs on
 * one reactor, non-blocking; a reply that does not fit the socket at once
 * stays queued and reading pauses until it is gone (replies keep request
 * order).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/log.h"
#include "common/reactor.h"
#include "common/usock.h"
#include "vfu_guard.h"
#include "vfu_internal.h"

#define MSGS_PER_WAKEUP 64
#define RX_MIN_BUF 4096

struct vfu_map {
	uint64_t iova, len;
	uint32_t prot;   /* VFU_DMA_READ | VFU_DMA_WRITE */
	uint8_t *host;   /* NULL: no fd, not directly accessible */
	void *base;      /* the mmap() of the fd, page aligned */
	size_t base_len;
	uint64_t fd_offset;
	dev_t fdev;
	ino_t fino;
	int guard;       /* vfu_guard slot of base, or -1 */
	bool shrunk;     /* its file shrank under it: no longer used */
};

struct vfu_irq {
	int fd;
	bool masked;
	bool pending;
};

struct fdr_vfu_server {
	struct fdr_reactor *r;
	struct fdr_handler lh; /* listening socket */
	struct fdr_handler ch; /* the client, fd -1 when none */
	struct fdr_defer free_later; /* destroy on the reactor: free after its events */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct fdr_usock ls; /* the socket file and its fd (lh.fd) */
	char name[64];
	struct fdr_vfu_desc desc;
	const struct fdr_vfu_ops *ops;
	void *dev;

	/* The connection. */
	bool versioned;
	uint32_t peer_max_fds;
	uint64_t peer_max_xfer;
	uint8_t *rx;
	size_t rx_cap, rx_have;
	int rx_fds[FDR_VFU_MAX_MSG_FDS];
	unsigned rx_nfds;
	uint8_t *tx;
	size_t tx_cap, tx_len, tx_off;
	int tx_fd; /* to send with the reply's first byte; the device's, never closed */
	bool reading; /* EPOLLIN (else EPOLLOUT: a reply is queued) */

	struct vfu_map *maps; /* sorted by iova, disjoint */
	unsigned nr_maps, cap_maps;
	struct vfu_irq *irqs[FDR_VFU_NUM_IRQS];
	struct fdr_handler intx_unmask; /* INTx vector 0's unmask eventfd, fd -1 when none */
	struct fdr_vfu_stats st;
};

static void conn_drop(struct fdr_vfu_server *srv, const char *why);

/* ---- DMA map table ------------------------------------------------------------ */

/* Index of the first mapping that ends after iova. */
static unsigned map_lower(const struct fdr_vfu_server *srv, uint64_t iova)
{
	unsigned lo = 0, hi = srv->nr_maps;

	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;
		const struct vfu_map *m = &srv->maps[mid];

		if (m->iova + m->len <= iova)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The client shrank the file of m: refuse it from now on (the access that
 * faulted saw zeros). */
static bool __attribute__((noinline)) map_shrunk(struct fdr_vfu_server *srv, struct vfu_map *m)
{
	if (!m->shrunk) {
		m->shrunk = true;
		fdr_err("vfio-user %s: the client shrank the file of DMA mapping %#" PRIx64
			"+%#" PRIx64 " under it; the mapping is no longer used",
			srv->name, m->iova, m->len);
	}
	return true;
}

void *fdr_vfu_dma(struct fdr_vfu_server *srv, uint64_t iova, uint64_t len, bool write)
{
	unsigned i;
	struct vfu_map *m;

	if (!len || !srv->nr_maps)
		return NULL;
	i = map_lower(srv, iova);
	if (i >= srv->nr_maps)
		return NULL;
	m = &srv->maps[i];
	if (iova < m->iova || len > m->len - (iova - m->iova) || !m->host)
		return NULL;
	if (!(m->prot & (write ? VFU_DMA_WRITE : VFU_DMA_READ)))
		return NULL;
	if (__builtin_expect(vfu_guard_hit(m->guard), 0) && map_shrunk(srv, m))
		return NULL;
	return m->host + (iova - m->iova);
}

static void map_release(struct vfu_map *m)
{
	vfu_guard_del(m->guard);
	m->guard = -1;
	if (m->base)
		munmap(m->base, m->base_len);
	m->base = NULL;
	m->host = NULL;
}

static void maps_drop_all(struct fdr_vfu_server *srv, bool notify)
{
	/* Newest last: tell the device in reverse order. */
	while (srv->nr_maps) {
		struct vfu_map *m = &srv->maps[srv->nr_maps - 1];

		if (notify && srv->ops->dma_unmap)
			srv->ops->dma_unmap(srv->dev, m->iova, m->len);
		map_release(m);
		srv->nr_maps--;
	}
	srv->st.dma_maps = 0;
}

static size_t map_pgsize(const struct stat *st)
{
	long sys = sysconf(_SC_PAGESIZE);
	size_t pg = sys > 0 ? (size_t)sys : 4096;
	size_t blk = st->st_blksize > 0 ? (size_t)st->st_blksize : 0;

	/* hugetlbfs reports its page size as st_blksize. */
	if (blk > pg && blk <= (1ul << 30) && !(blk & (blk - 1)))
		pg = blk;
	return pg;
}

static int do_dma_map(struct fdr_vfu_server *srv, const struct vfu_msg *msg, int fd,
		      const char **why)
{
	const struct vfu_dma_map *d = &msg->u.map;
	struct vfu_map nm = {.iova = d->addr, .len = d->size, .prot = d->flags,
			     .fd_offset = d->offset, .guard = -1};
	struct stat st;
	unsigned i = map_lower(srv, d->addr);

	if (fd >= 0) {
		if (fstat(fd, &st)) {
			*why = "cannot stat the DMA fd";
			return errno;
		}
		nm.fdev = st.st_dev;
		nm.fino = st.st_ino;
	}
	if (i < srv->nr_maps && srv->maps[i].iova < d->addr + d->size) {
		const struct vfu_map *o = &srv->maps[i];
		bool same_fd = fd < 0 ? !o->host
				      : o->host && o->fdev == nm.fdev && o->fino == nm.fino &&
						o->fd_offset == nm.fd_offset;

		/* An exact repeat is harmless (libvfio-user accepts it too). */
		if (o->iova == nm.iova && o->len == nm.len && o->prot == nm.prot && same_fd)
			return 0;
		*why = "DMA_MAP overlaps an existing mapping";
		return EEXIST;
	}
	if (srv->nr_maps >= FDR_VFU_MAX_DMA_MAPS) {
		*why = "too many DMA mappings";
		return ENOSPC;
	}
	if (fd >= 0) {
		size_t pg = map_pgsize(&st);
		uint64_t map_off = d->offset & ~(uint64_t)(pg - 1);
		uint64_t delta = d->offset - map_off;
		int prot = ((d->flags & VFU_DMA_READ) ? PROT_READ : 0) |
			   ((d->flags & VFU_DMA_WRITE) ? PROT_WRITE : 0);
		void *p;

		if (!S_ISREG(st.st_mode)) {
			*why = "DMA fd is not a regular file or memfd";
			return EINVAL;
		}
		if (d->offset > (uint64_t)st.st_size || d->size > (uint64_t)st.st_size - d->offset) {
			*why = "DMA range beyond the end of its file";
			return EINVAL;
		}
		if (d->size > SIZE_MAX - delta - pg || map_off > (uint64_t)INT64_MAX) {
			*why = "DMA mapping too large";
			return EINVAL;
		}
		nm.base_len = (size_t)((delta + d->size + pg - 1) & ~(uint64_t)(pg - 1));
		p = mmap(NULL, nm.base_len, prot, MAP_SHARED, fd, (off_t)map_off);
		if (p == MAP_FAILED) {
			*why = "mmap of the DMA fd failed";
			return errno;
		}
		nm.base = p;
		nm.host = (uint8_t *)p + delta;
		nm.guard = vfu_guard_add(p, nm.base_len, pg);
	}
	if (srv->nr_maps == srv->cap_maps) {
		unsigned cap = srv->cap_maps ? srv->cap_maps * 2 : 16;
		struct vfu_map *n = realloc(srv->maps, cap * sizeof(*n));

		if (!n) {
			map_release(&nm);
			*why = "out of memory";
			return ENOMEM;
		}
		srv->maps = n;
		srv->cap_maps = cap;
	}
	memmove(&srv->maps[i + 1], &srv->maps[i], (srv->nr_maps - i) * sizeof(nm));
	srv->maps[i] = nm;
	srv->nr_maps++;
	srv->st.dma_maps = srv->nr_maps;
	fdr_debug("vfio-user %s: DMA map %#" PRIx64 "+%#" PRIx64 " %s%s%s", srv->name, nm.iova,
		  nm.len, (nm.prot & VFU_DMA_READ) ? "r" : "", (nm.prot & VFU_DMA_WRITE) ? "w" : "",
		  nm.host ? "" : " (no fd)");
	return 0;
}

static int do_dma_unmap(struct fdr_vfu_server *srv, const struct vfu_msg *msg, const char **why)
{
	const struct vfu_dma_unmap *d = &msg->u.unmap;
	unsigned i;

	if (d->flags & VFU_UNMAP_ALL) {
		maps_drop_all(srv, true);
		return 0;
	}
	i = map_lower(srv, d->addr);
	if (i >= srv->nr_maps || srv->maps[i].iova != d->addr || srv->maps[i].len != d->size) {
		*why = "DMA_UNMAP does not match a mapping exactly";
		return ENOENT;
	}
	if (srv->ops->dma_unmap)
		srv->ops->dma_unmap(srv->dev, d->addr, d->size);
	map_release(&srv->maps[i]);
	memmove(&srv->maps[i], &srv->maps[i + 1], (srv->nr_maps - i - 1) * sizeof(srv->maps[0]));
	srv->nr_maps--;
	srv->st.dma_maps = srv->nr_maps;
	return 0;
}

/* ---- Interrupts -------------------------------------------------------------------- */

static struct vfu_irq *irq_get(const struct fdr_vfu_server *srv, unsigned index, unsigned vector)
{
	if (index >= FDR_VFU_NUM_IRQS || vector >= srv->desc.irq_count[index])
		return NULL;
	return &srv->irqs[index][vector];
}

static bool irq_fire(struct fdr_vfu_server *srv, unsigned index, struct vfu_irq *irq)
{
	uint64_t one = 1;

	if (irq->masked) {
		irq->pending = true;
		srv->st.irqs_masked++;
		return false;
	}
	if (irq->fd < 0) {
		srv->st.irqs_lost++;
		return false;
	}
	/* EAGAIN: the counter is saturated, the host has a wake-up coming anyway. */
	if (write(irq->fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		fdr_warn("vfio-user %s: interrupt eventfd write: %s", srv->name, strerror(errno));
	srv->st.irqs_sent++;
	/* VFIO's INTx: masked once signalled, until the client unmasks it. */
	if (index == FDR_VFU_IRQ_INTX)
		irq->masked = true;
	return true;
}

static void irq_unmask(struct fdr_vfu_server *srv, unsigned index, struct vfu_irq *irq)
{
	irq->masked = false;
	if (irq->pending) {
		irq->pending = false;
		irq_fire(srv, index, irq);
	}
}

bool fdr_vfu_irq_trigger(struct fdr_vfu_server *srv, unsigned index, unsigned vector)
{
	struct vfu_irq *irq = irq_get(srv, index, vector);

	return irq && irq_fire(srv, index, irq);
}

int fdr_vfu_irq_fd(const struct fdr_vfu_server *srv, unsigned index, unsigned vector)
{
	const struct vfu_irq *irq = irq_get(srv, index, vector);

	return irq ? irq->fd : -1;
}

bool fdr_vfu_irq_masked(const struct fdr_vfu_server *srv, unsigned index, unsigned vector)
{
	const struct vfu_irq *irq = irq_get(srv, index, vector);

	return irq && irq->masked;
}

/* Watch fd as INTx's unmask eventfd (-1: none). */
static void intx_unmask_fd_set(struct fdr_vfu_server *srv, int fd)
{
	int fl;

	if (srv->intx_unmask.fd >= 0) {
		fdr_reactor_del(srv->r, &srv->intx_unmask);
		close(srv->intx_unmask.fd);
	}
	srv->intx_unmask.fd = fd;
	if (fd < 0)
		return;
	fl = fcntl(fd, F_GETFL);
	if (fl >= 0 && !(fl & O_NONBLOCK))
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	if (fdr_reactor_add(srv->r, &srv->intx_unmask, EPOLLIN) < 0) {
		fdr_warn("vfio-user %s: INTx unmask eventfd: %s", srv->name, strerror(errno));
		close(fd);
		srv->intx_unmask.fd = -1;
	}
}

/* The client's INTx unmask eventfd fired (VFIO's resamplefd: KVM signals
 * it at the guest's end of interrupt). */
static void intx_unmask_event(struct fdr_handler *h, uint32_t events)
{
	struct fdr_vfu_server *srv =
		(struct fdr_vfu_server *)((char *)h - offsetof(struct fdr_vfu_server, intx_unmask));
	uint64_t cnt;

	(void)events;
	if (h->fd < 0 || read(h->fd, &cnt, sizeof(cnt)) != sizeof(cnt))
		return;
	irq_unmask(srv, FDR_VFU_IRQ_INTX, &srv->irqs[FDR_VFU_IRQ_INTX][0]);
	if (srv->ops->irqs_changed)
		srv->ops->irqs_changed(srv->dev, FDR_VFU_IRQ_INTX);
}

static void irqs_reset_index(struct fdr_vfu_server *srv, unsigned index)
{
	if (index == FDR_VFU_IRQ_INTX)
		intx_unmask_fd_set(srv, -1);
	for (uint32_t v = 0; v < srv->desc.irq_count[index]; v++) {
		struct vfu_irq *irq = &srv->irqs[index][v];

		if (irq->fd >= 0)
			close(irq->fd);
		irq->fd = -1;
		irq->masked = irq->pending = false;
	}
}

static void do_set_irqs(struct fdr_vfu_server *srv, const struct vfu_msg *msg, int *fds)
{
	uint32_t flags = msg->u.irqs.flags, index = msg->u.irqs.index;
	uint32_t start = msg->u.irqs.start, count = msg->u.irqs.count;
	uint32_t data = flags & VFU_IRQ_DATA_MASK, action = flags & VFU_IRQ_ACTION_ALL;
	bool changed = true;

	if (count == 0) { /* DATA_NONE | TRIGGER: switch the index off */
		irqs_reset_index(srv, index);
	} else if (action == VFU_IRQ_ACTION_TRIGGER && data == VFU_IRQ_DATA_EVENTFD) {
		for (uint32_t i = 0; i < count; i++) {
			struct vfu_irq *irq = &srv->irqs[index][start + i];

			if (irq->fd >= 0)
				close(irq->fd);
			irq->fd = -1;
			if (msg->nfds) {
				int fl = fcntl(fds[i], F_GETFL);

				/* Never block the reactor on a client's descriptor. */
				if (fl >= 0 && !(fl & O_NONBLOCK))
					fcntl(fds[i], F_SETFL, fl | O_NONBLOCK);
				irq->fd = fds[i];
				fds[i] = -1; /* kept */
			}
		}
	} else if (action == VFU_IRQ_ACTION_TRIGGER) { /* loopback: fire now */
		for (uint32_t i = 0; i < count; i++)
			if (data == VFU_IRQ_DATA_NONE || msg->u.irqs.bools[i])
				irq_fire(srv, index, &srv->irqs[index][start + i]);
		changed = false;
	} else if (data == VFU_IRQ_DATA_EVENTFD) {
		/* An unmask eventfd for INTx (as VFIO's; none passed: remove it).
		 * Mask eventfds are accepted and ignored, as VFIO has none. */
		changed = false;
		if (index == FDR_VFU_IRQ_INTX && action == VFU_IRQ_ACTION_UNMASK && start == 0 &&
		    count == 1) {
			intx_unmask_fd_set(srv, srv->rx_nfds ? fds[0] : -1);
			fds[0] = -1; /* kept (or none) */
		}
	} else {
		bool mask = action == VFU_IRQ_ACTION_MASK;

		for (uint32_t i = 0; i < count; i++) {
			struct vfu_irq *irq = &srv->irqs[index][start + i];

			if (data == VFU_IRQ_DATA_BOOL && !msg->u.irqs.bools[i])
				continue;
			if (mask)
				irq->masked = true;
			else
				irq_unmask(srv, index, irq);
		}
	}
	if (changed && srv->ops->irqs_changed)
		srv->ops->irqs_changed(srv->dev, index);
}

/* ---- Replies ------------------------------------------------------------------------- */

static int tx_reserve(struct fdr_vfu_server *srv, size_t len)
{
	if (len > srv->tx_cap) {
		uint8_t *n = realloc(srv->tx, len);

		if (!n)
			return -ENOMEM;
		srv->tx = n;
		srv->tx_cap = len;
	}
	return 0;
}

static void set_events(struct fdr_vfu_server *srv, bool reading)
{
	if (srv->reading == reading || srv->ch.fd < 0)
		return;
	srv->reading = reading;
	fdr_reactor_mod(srv->r, &srv->ch, reading ? EPOLLIN : EPOLLOUT);
}

/* Sends what is queued; false if the connection was dropped. */
static bool tx_flush(struct fdr_vfu_server *srv)
{
	while (srv->tx_off < srv->tx_len) {
		struct iovec iov = {srv->tx + srv->tx_off, srv->tx_len - srv->tx_off};
		union {
			struct cmsghdr align;
			char buf[CMSG_SPACE(sizeof(int))];
		} cm;
		struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
		ssize_t n;

		if (srv->tx_fd >= 0) {
			struct cmsghdr *c;

			memset(&cm, 0, sizeof(cm));
			mh.msg_control = cm.buf;
			mh.msg_controllen = sizeof(cm.buf);
			c = CMSG_FIRSTHDR(&mh);
			c->cmsg_level = SOL_SOCKET;
			c->cmsg_type = SCM_RIGHTS;
			c->cmsg_len = CMSG_LEN(sizeof(int));
			memcpy(CMSG_DATA(c), &srv->tx_fd, sizeof(int));
		}
		n = sendmsg(srv->ch.fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				set_events(srv, false);
				return true;
			}
			conn_drop(srv, errno == EPIPE || errno == ECONNRESET ? "client went away"
									      : "send failed");
			return false;
		}
		srv->tx_fd = -1; /* went with the first byte */
		srv->tx_off += (size_t)n;
	}
	srv->tx_off = srv->tx_len = 0;
	set_events(srv, true);
	return true;
}

/* Queues header + payload_len bytes already at tx + 16. */
static bool reply(struct fdr_vfu_server *srv, const struct vfu_msg *m, size_t payload_len,
		  int fd)
{
	struct vfu_hdr h = {
		.msg_id = m->hdr.msg_id,
		.cmd = m->hdr.cmd,
		.size = (uint32_t)(sizeof(h) + payload_len),
		.flags = VFU_F_TYPE_REPLY,
	};

	if (m->no_reply)
		return true;
	memcpy(srv->tx, &h, sizeof(h));
	srv->tx_len = sizeof(h) + payload_len;
	srv->tx_off = 0;
	srv->tx_fd = fd;
	return tx_flush(srv);
}

static bool reply_error(struct fdr_vfu_server *srv, const struct vfu_msg *m, int err)
{
	struct vfu_hdr h = {
		.msg_id = m->hdr.msg_id,
		.cmd = m->hdr.cmd,
		.size = sizeof(h),
		.flags = VFU_F_TYPE_REPLY | VFU_F_ERROR,
		.error_no = (uint32_t)(err > 0 && err < 4096 ? err : EINVAL),
	};

	srv->st.errors++;
	if (m->no_reply)
		return true;
	memcpy(srv->tx, &h, sizeof(h)); /* tx always holds RX_MIN_BUF */
	srv->tx_len = sizeof(h);
	srv->tx_off = 0;
	srv->tx_fd = -1;
	return tx_flush(srv);
}

/* ---- Commands ---------------------------------------------------------------------- */

static bool do_version(struct fdr_vfu_server *srv, const struct vfu_msg *m)
{
	struct vfu_version v = {
		.major = VFU_MAJOR,
		.minor = m->u.version.minor < VFU_MINOR ? m->u.version.minor : VFU_MINOR,
	};
	size_t n = vfu_version_json((char *)srv->tx + 16 + sizeof(v), RX_MIN_BUF - 16 - sizeof(v));

	srv->versioned = true;
	srv->peer_max_fds = m->u.version.max_fds;
	srv->peer_max_xfer = m->u.version.max_xfer;
	memcpy(srv->tx + 16, &v, sizeof(v));
	fdr_info("vfio-user %s: client speaks %u.%u%s, agreed on %u.%u", srv->name,
		 m->u.version.major, m->u.version.minor,
		 m->u.version.has_json ? " (with capabilities)" : "", v.major, v.minor);
	return reply(srv, m, sizeof(v) + n, -1);
}

static bool do_region_info(struct fdr_vfu_server *srv, const struct vfu_msg *m)
{
	const struct fdr_vfu_region *r = &srv->desc.regions[m->u.info.index];
	/* The area needs its fd in the reply: not for a client that takes none. */
	bool sparse = r->mmap_size && r->size && srv->peer_max_fds;
	struct vfu_region_info ri = {
		.argsz = sizeof(ri),
		.flags = r->flags & (VFU_REGION_F_READ | VFU_REGION_F_WRITE),
		.index = m->u.info.index,
		.size = r->size,
	};
	uint8_t cap[sizeof(struct vfu_cap_sparse) + sizeof(struct vfu_sparse_area)];
	struct vfu_cap_sparse *cs = (struct vfu_cap_sparse *)cap;
	struct vfu_sparse_area area = {r->mmap_offset, r->mmap_size};

	if (!sparse) {
		memcpy(srv->tx + 16, &ri, sizeof(ri));
		return reply(srv, m, sizeof(ri), -1);
	}
	ri.argsz = sizeof(ri) + sizeof(cap);
	if (m->u.info.argsz < ri.argsz) {
		/* Does not fit: say how much is needed; no caps, no fd. */
		memcpy(srv->tx + 16, &ri, sizeof(ri));
		return reply(srv, m, sizeof(ri), -1);
	}
	ri.flags |= VFU_REGION_F_MMAP | VFU_REGION_F_CAPS;
	ri.cap_offset = sizeof(ri);
	ri.offset = r->fd_offset;
	memset(cap, 0, sizeof(cap));
	cs->hdr.id = VFU_CAP_SPARSE_MMAP;
	cs->hdr.version = 1;
	cs->hdr.next = 0;
	cs->nr_areas = 1;
	memcpy(cap + sizeof(*cs), &area, sizeof(area));
	memcpy(srv->tx + 16, &ri, sizeof(ri));
	memcpy(srv->tx + 16 + sizeof(ri), cap, sizeof(cap));
	return reply(srv, m, ri.argsz, r->fd);
}

static bool do_access(struct fdr_vfu_server *srv, const struct vfu_msg *m)
{
	struct vfu_region_access a = {m->u.access.offset, m->u.access.region, m->u.access.count};
	bool write = m->hdr.cmd == VFU_CMD_REGION_WRITE;
	size_t payload = sizeof(a) + (write ? 0 : a.count);
	int rc = 0;

	if (tx_reserve(srv, 16 + payload))
		return reply_error(srv, m, ENOMEM);
	if (a.count) {
		void *buf = write ? (void *)(uintptr_t)m->u.access.data : srv->tx + 16 + sizeof(a);

		rc = srv->ops->access(srv->dev, a.region, a.offset, buf, a.count, write);
	}
	if (rc < 0) {
		fdr_info("vfio-user %s: %s region %u offset %#" PRIx64 " count %u: %s", srv->name,
			 write ? "write" : "read", a.region, a.offset, a.count, strerror(-rc));
		return reply_error(srv, m, -rc);
	}
	memcpy(srv->tx + 16, &a, sizeof(a));
	return reply(srv, m, payload, -1);
}

/* Runs one message from rx; false if the connection was dropped. */
static bool handle_msg(struct fdr_vfu_server *srv)
{
	struct vfu_parse_ctx ctx = {.desc = &srv->desc, .versioned = srv->versioned};
	struct vfu_msg m;
	const char *why = NULL;
	int err;

	srv->st.msgs++;
	err = vfu_msg_parse(&ctx, srv->rx, srv->rx_have, srv->rx_nfds, &m);
	if (err) {
		fdr_warn("vfio-user %s: %s (id %u, %u bytes, %u fds): %s -> %s%s", srv->name,
			 vfu_cmd_name(m.hdr.cmd), m.hdr.msg_id, m.hdr.size, srv->rx_nfds, m.why,
			 strerror(err), m.close ? ", disconnecting" : "");
		if (!reply_error(srv, &m, err))
			return false;
		if (m.close) {
			srv->st.dropped++;
			conn_drop(srv, m.why);
			return false;
		}
		return true;
	}
	switch (m.hdr.cmd) {
	case VFU_CMD_VERSION:
		return do_version(srv, &m);
	case VFU_CMD_DMA_MAP:
		err = do_dma_map(srv, &m, m.nfds ? srv->rx_fds[0] : -1, &why);
		break;
	case VFU_CMD_DMA_UNMAP:
		err = do_dma_unmap(srv, &m, &why);
		if (!err) {
			memcpy(srv->tx + 16, &m.u.unmap, sizeof(m.u.unmap));
			return reply(srv, &m, sizeof(m.u.unmap), -1);
		}
		break;
	case VFU_CMD_DEVICE_GET_INFO: {
		struct vfu_device_info di = {
			.argsz = sizeof(di),
			.flags = VFU_DEV_FLAGS_RESET | VFU_DEV_FLAGS_PCI,
			.num_regions = FDR_VFU_NUM_REGIONS,
			.num_irqs = FDR_VFU_NUM_IRQS,
		};
		memcpy(srv->tx + 16, &di, sizeof(di));
		return reply(srv, &m, sizeof(di), -1);
	}
	case VFU_CMD_DEVICE_GET_REGION_INFO:
		return do_region_info(srv, &m);
	case VFU_CMD_DEVICE_GET_IRQ_INFO: {
		struct vfu_irq_info ii = {
			.argsz = sizeof(ii),
			.flags = m.u.info.index == FDR_VFU_IRQ_INTX
					 ? VFU_IRQ_INFO_EVENTFD | VFU_IRQ_INFO_MASKABLE |
						   VFU_IRQ_INFO_AUTOMASKED
					 : VFU_IRQ_INFO_EVENTFD,
			.index = m.u.info.index,
			.count = srv->desc.irq_count[m.u.info.index],
		};
		memcpy(srv->tx + 16, &ii, sizeof(ii));
		return reply(srv, &m, sizeof(ii), -1);
	}
	case VFU_CMD_DEVICE_SET_IRQS:
		do_set_irqs(srv, &m, srv->rx_fds);
		break;
	case VFU_CMD_REGION_READ:
	case VFU_CMD_REGION_WRITE:
		return do_access(srv, &m);
	case VFU_CMD_DEVICE_RESET:
		fdr_info("vfio-user %s: device reset", srv->name);
		if (srv->ops->reset)
			srv->ops->reset(srv->dev);
		break;
	default: /* vfu_msg_parse() lets nothing else through */
		err = EINVAL;
		why = "unexpected command";
		break;
	}
	if (err) {
		fdr_warn("vfio-user %s: %s (id %u): %s -> %s", srv->name, vfu_cmd_name(m.hdr.cmd),
			 m.hdr.msg_id, why, strerror(err));
		return reply_error(srv, &m, err);
	}
	return reply(srv, &m, 0, -1);
}

/* ---- Connection ------------------------------------------------------------------ */

static void rx_close_fds(struct fdr_vfu_server *srv)
{
	for (unsigned i = 0; i < srv->rx_nfds; i++)
		if (srv->rx_fds[i] >= 0)
			close(srv->rx_fds[i]);
	srv->rx_nfds = 0;
}

static void conn_drop(struct fdr_vfu_server *srv, const char *why)
{
	if (srv->ch.fd < 0)
		return;
	fdr_info("vfio-user %s: client detached: %s", srv->name, why);
	fdr_reactor_del(srv->r, &srv->ch);
	close(srv->ch.fd);
	srv->ch.fd = -1;
	if (srv->ops->detach)
		srv->ops->detach(srv->dev);
	maps_drop_all(srv, false);
	for (unsigned i = 0; i < FDR_VFU_NUM_IRQS; i++)
		irqs_reset_index(srv, i);
	rx_close_fds(srv);
	srv->rx_have = 0;
	srv->tx_len = srv->tx_off = 0;
	srv->tx_fd = -1;
	srv->versioned = false;
}

/* Receives into rx; returns bytes, 0 on EAGAIN, -1 if the connection was dropped. */
static ssize_t conn_recv(struct fdr_vfu_server *srv, size_t want)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * FDR_VFU_MAX_MSG_FDS)];
	} cm;
	struct iovec iov = {srv->rx + srv->rx_have, want};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.buf,
			    .msg_controllen = sizeof(cm.buf)};
	bool too_many = false;
	ssize_t n;

	do
		n = recvmsg(srv->ch.fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EAGAIN)
		return 0;
	if (n <= 0) {
		conn_drop(srv, n == 0 ? "client closed the connection" : strerror(errno));
		return -1;
	}
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		size_t nfd;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		nfd = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < nfd; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(fd));
			if (srv->rx_nfds < FDR_VFU_MAX_MSG_FDS)
				srv->rx_fds[srv->rx_nfds++] = fd;
			else {
				close(fd);
				too_many = true;
			}
		}
	}
	if (too_many || (mh.msg_flags & MSG_CTRUNC)) {
		srv->st.dropped++;
		fdr_warn("vfio-user %s: more than %u file descriptors in one message, disconnecting",
			 srv->name, FDR_VFU_MAX_MSG_FDS);
		conn_drop(srv, "too many file descriptors");
		return -1;
	}
	return n;
}

static void conn_readable(struct fdr_vfu_server *srv)
{
	for (unsigned msgs = 0; srv->ch.fd >= 0 && srv->reading && msgs < MSGS_PER_WAKEUP;) {
		struct vfu_hdr h;
		size_t want;
		ssize_t n;

		if (srv->rx_have < sizeof(h)) {
			want = sizeof(h) - srv->rx_have;
		} else {
			memcpy(&h, srv->rx, sizeof(h));
			want = h.size - srv->rx_have;
		}
		if (want) {
			n = conn_recv(srv, want);
			if (n <= 0)
				return;
			srv->rx_have += (size_t)n;
			if (srv->rx_have < sizeof(h))
				continue;
		}
		memcpy(&h, srv->rx, sizeof(h));
		if (srv->rx_have == sizeof(h) && want) {
			const char *why = vfu_hdr_check(&h);

			if (why) {
				srv->st.dropped++;
				fdr_warn("vfio-user %s: bad message header (cmd %u, size %u, flags %#x): %s, disconnecting",
					 srv->name, h.cmd, h.size, h.flags, why);
				conn_drop(srv, why);
				return;
			}
			if (h.size > srv->rx_cap) {
				uint8_t *p = realloc(srv->rx, h.size);

				if (!p) {
					conn_drop(srv, "out of memory");
					return;
				}
				srv->rx = p;
				srv->rx_cap = h.size;
			}
		}
		if (srv->rx_have < h.size)
			continue;
		msgs++;
		if (!handle_msg(srv))
			return;
		rx_close_fds(srv);
		srv->rx_have = 0;
	}
}

static void conn_event(struct fdr_handler *hd, uint32_t events)
{
	struct fdr_vfu_server *srv =
		(struct fdr_vfu_server *)((char *)hd - offsetof(struct fdr_vfu_server, ch));

	if (srv->ch.fd < 0)
		return;
	if (!srv->reading) {
		if (!tx_flush(srv) || !srv->reading)
			return;
	}
	conn_readable(srv);
	(void)events;
}

static void listen_event(struct fdr_handler *hd, uint32_t events)
{
	struct fdr_vfu_server *srv =
		(struct fdr_vfu_server *)((char *)hd - offsetof(struct fdr_vfu_server, lh));

	(void)events;
	while (srv->lh.fd >= 0) {
		int fd = accept4(srv->lh.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN)
				fdr_warn("vfio-user %s: accept: %s", srv->name, strerror(errno));
			return;
		}
		if (srv->ch.fd >= 0) {
			/* One client per device (the spec forbids sharing). */
			fdr_warn("vfio-user %s: refusing a second client while one is attached",
				 srv->name);
			srv->st.refused++;
			close(fd);
			continue;
		}
		srv->ch.fd = fd;
		srv->reading = true;
		srv->versioned = false;
		srv->peer_max_fds = 1;
		srv->peer_max_xfer = FDR_VFU_MAX_XFER;
		if (fdr_reactor_add(srv->r, &srv->ch, EPOLLIN) < 0) {
			fdr_err("vfio-user %s: cannot watch the client socket", srv->name);
			close(fd);
			srv->ch.fd = -1;
			continue;
		}
		srv->st.clients++;
		fdr_info("vfio-user %s: client attached on %s", srv->name, srv->path);
		if (srv->ops->attach)
			srv->ops->attach(srv->dev);
	}
}

/* ---- Creation ------------------------------------------------------------------------ */

static bool desc_ok(const struct fdr_vfu_desc *d, char *err, size_t errlen)
{
	for (unsigned i = 0; i < FDR_VFU_NUM_REGIONS; i++) {
		const struct fdr_vfu_region *r = &d->regions[i];

		if (r->flags & ~(FDR_VFU_R_READ | FDR_VFU_R_WRITE)) {
			snprintf(err, errlen, "region %u: unknown flags", i);
			return false;
		}
		if (!r->mmap_size)
			continue;
		if (r->fd < 0 || (r->mmap_offset | r->mmap_size | r->fd_offset) & 4095 ||
		    r->mmap_offset > r->size || r->mmap_size > r->size - r->mmap_offset) {
			snprintf(err, errlen,
				 "region %u: the mappable area needs an fd, 4 KiB alignment and to lie inside the region",
				 i);
			return false;
		}
	}
	for (unsigned i = 0; i < FDR_VFU_NUM_IRQS; i++) {
		if (d->irq_count[i] > FDR_VFU_MAX_IRQS ||
		    ((i == FDR_VFU_IRQ_ERR || i == FDR_VFU_IRQ_REQ) && d->irq_count[i] > 1)) {
			snprintf(err, errlen, "interrupt index %u: too many vectors", i);
			return false;
		}
	}
	return true;
}

struct fdr_vfu_server *fdr_vfu_server_create(const char *dir, struct fdr_reactor *r,
					     const struct fdr_vfu_desc *desc,
					     const struct fdr_vfu_ops *ops, void *dev, char *err,
					     size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char busy[sizeof(sa.sun_path) + 32];
	struct fdr_vfu_server *srv;
	int n;

	if (!dir || !*dir || !r || !desc || !ops || !ops->access) {
		snprintf(err, errlen, "vfio-user: missing directory, reactor, description or access");
		return NULL;
	}
	if (!desc_ok(desc, err, errlen))
		return NULL;
	n = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/cntrl", dir);
	if (n < 0 || (size_t)n >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "vfio-user socket path too long (at most %zu bytes): %s/cntrl",
			 sizeof(sa.sun_path) - 1, dir);
		return NULL;
	}
	srv = calloc(1, sizeof(*srv));
	if (!srv) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	srv->r = r;
	srv->desc = *desc;
	srv->desc.name = NULL;
	srv->ops = ops;
	srv->dev = dev;
	srv->lh.fd = srv->ch.fd = srv->tx_fd = srv->intx_unmask.fd = -1;
	srv->lh.fn = listen_event;
	srv->ch.fn = conn_event;
	srv->intx_unmask.fn = intx_unmask_event;
	snprintf(srv->name, sizeof(srv->name), "%s", desc->name ? desc->name : dir);
	memcpy(srv->path, sa.sun_path, sizeof(srv->path));
	srv->rx = malloc(RX_MIN_BUF);
	srv->tx = malloc(RX_MIN_BUF);
	if (!srv->rx || !srv->tx) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	srv->rx_cap = srv->tx_cap = RX_MIN_BUF;
	for (unsigned i = 0; i < FDR_VFU_NUM_IRQS; i++) {
		uint32_t cnt = desc->irq_count[i];

		srv->irqs[i] = calloc(cnt ? cnt : 1, sizeof(struct vfu_irq));
		if (!srv->irqs[i]) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		for (uint32_t v = 0; v < cnt; v++)
			srv->irqs[i][v].fd = -1;
	}
	snprintf(busy, sizeof(busy), "something already serves %s", srv->path);
	/* A small backlog: a second client is accepted and closed at once. */
	if (fdr_usock_listen(&srv->ls, srv->path, 0700, 1, "vfio-user", busy, err, errlen))
		goto fail;
	srv->lh.fd = srv->ls.fd;
	if (fdr_reactor_add(r, &srv->lh, EPOLLIN) < 0) {
		snprintf(err, errlen, "listen on %s: %s", srv->path, strerror(errno));
		fdr_usock_close(&srv->ls, srv->path);
		srv->lh.fd = -1;
		goto fail;
	}
	fdr_info("vfio-user %s: serving on %s", srv->name, srv->path);
	return srv;
fail:
	for (unsigned i = 0; i < FDR_VFU_NUM_IRQS; i++)
		free(srv->irqs[i]);
	free(srv->rx);
	free(srv->tx);
	free(srv);
	return NULL;
}

static void server_free(struct fdr_defer *d)
{
	struct fdr_vfu_server *srv =
		(struct fdr_vfu_server *)((char *)d - offsetof(struct fdr_vfu_server, free_later));

	free(srv);
}

void fdr_vfu_server_destroy(struct fdr_vfu_server *srv)
{
	if (!srv)
		return;
	conn_drop(srv, "server shutting down");
	fdr_reactor_del(srv->r, &srv->lh);
	fdr_usock_close(&srv->ls, srv->path);
	srv->lh.fd = -1;
	for (unsigned i = 0; i < FDR_VFU_NUM_IRQS; i++)
		free(srv->irqs[i]);
	free(srv->maps);
	free(srv->rx);
	free(srv->tx);
	/*
	 * On the reactor, events of this iteration may still point at the
	 * handlers (both now see fd -1 and return): free after them.
	 */
	if (fdr_reactor_self() == srv->r) {
		srv->free_later.fn = server_free;
		fdr_reactor_defer(srv->r, &srv->free_later);
	} else {
		free(srv);
	}
}

const char *fdr_vfu_server_path(const struct fdr_vfu_server *srv)
{
	return srv->path;
}

bool fdr_vfu_server_attached(const struct fdr_vfu_server *srv)
{
	return srv->ch.fd >= 0;
}

void fdr_vfu_server_stats(const struct fdr_vfu_server *srv, struct fdr_vfu_stats *out)
{
	*out = srv->st;
}

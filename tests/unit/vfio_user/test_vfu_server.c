/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The vfio-user server end to end: a fake device (8 KiB BAR0 whose page at
 * 0x1000 is a memfd, a read-only BAR2, 4 KiB config space, 4 MSI-X vectors
 * an INTx pin and an ERR interrupt) served on a reactor thread, driven by the
 * project's own client and by raw malformed messages.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "common/log.h"
#include "common/reactor.h"
#include "fdr_vfu_client.h"
#include "vfu.h"
#include "vfu_proto.h"

/* ---- Fake device --------------------------------------------------------------- */

struct fake_dev {
	struct fdr_vfu_server *srv;
	int memfd;      /* BAR0 backing, 8 KiB; [0x1000, 0x2000) is mappable */
	uint8_t *bar0;  /* the device's own mapping of memfd */
	uint8_t cfg[4096];
	uint8_t bar2[4096];
	uint8_t *bar4; /* 2 MiB */
	unsigned accesses, resets, attaches, detaches, irq_changes;
	unsigned unmaps;
	uint64_t unmap_iova[8], unmap_len[8];
	bool unmap_was_mapped[8]; /* fdr_vfu_dma still worked inside the callback */
};

static int fake_access(void *dev, unsigned region, uint64_t offset, void *buf, uint32_t count,
		       bool is_write)
{
	struct fake_dev *d = dev;
	uint8_t *base;

	d->accesses++;
	switch (region) {
	case FDR_VFU_REGION_BAR0:
		if (offset == 0xff0)
			return -EIO; /* a register that fails */
		base = d->bar0;
		break;
	case 2:
		base = d->bar2;
		break;
	case 4:
		base = d->bar4;
		break;
	case FDR_VFU_REGION_CONFIG:
		base = d->cfg;
		break;
	default:
		return -EINVAL;
	}
	if (is_write)
		memcpy(base + offset, buf, count);
	else
		memcpy(buf, base + offset, count);
	return 0;
}

static void fake_dma_unmap(void *dev, uint64_t iova, uint64_t len)
{
	struct fake_dev *d = dev;

	if (d->unmaps < 8) {
		d->unmap_iova[d->unmaps] = iova;
		d->unmap_len[d->unmaps] = len;
		d->unmap_was_mapped[d->unmaps] = fdr_vfu_dma(d->srv, iova, 1, false) != NULL;
	}
	d->unmaps++;
}

static void fake_reset(void *dev)
{
	((struct fake_dev *)dev)->resets++;
}

static void fake_irqs_changed(void *dev, unsigned index)
{
	((struct fake_dev *)dev)->irq_changes++;
}

static void fake_attach(void *dev)
{
	((struct fake_dev *)dev)->attaches++;
}

static void fake_detach(void *dev)
{
	((struct fake_dev *)dev)->detaches++;
}

static const struct fdr_vfu_ops fake_ops = {
	.access = fake_access,
	.dma_unmap = fake_dma_unmap,
	.reset = fake_reset,
	.irqs_changed = fake_irqs_changed,
	.attach = fake_attach,
	.detach = fake_detach,
};

/* ---- Harness: server on a reactor thread -------------------------------------------------- */

struct env {
	char dir[64];
	struct fdr_reactor *r;
	struct fake_dev dev;
	struct fdr_vfu_server *srv;
};

static struct env *E;

struct call {
	void (*fn)(void *arg);
	void *arg;
	sem_t done;
};

static void call_trampoline(void *p)
{
	struct call *c = p;

	c->fn(c->arg);
	sem_post(&c->done);
}

/* Runs fn(arg) on the server's reactor and waits for it. */
static void on_reactor(void (*fn)(void *), void *arg)
{
	struct call c = {.fn = fn, .arg = arg};

	sem_init(&c.done, 0, 0);
	assert_int_equal(fdr_reactor_post(E->r, call_trampoline, &c), 0);
	while (sem_wait(&c.done) && errno == EINTR)
		;
	sem_destroy(&c.done);
}

struct snap {
	struct fdr_vfu_stats st;
	struct fake_dev dev;
	bool attached;
};

static void snap_fn(void *arg)
{
	struct snap *s = arg;

	fdr_vfu_server_stats(E->srv, &s->st);
	s->dev = E->dev;
	s->attached = fdr_vfu_server_attached(E->srv);
}

static struct snap snapshot(void)
{
	struct snap s;

	on_reactor(snap_fn, &s);
	return s;
}

/* Waits (bounded) until the server has no client. */
static void wait_detached(void)
{
	for (int i = 0; i < 500; i++) {
		if (!snapshot().attached)
			return;
		usleep(2000);
	}
	fail_msg("the server kept the client");
}

static unsigned count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	unsigned n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static int setup(void **state)
{
	static struct env env;
	struct fdr_vfu_desc desc = {.name = "fake"};
	char err[256];

	memset(&env, 0, sizeof(env));
	E = &env;
	snprintf(env.dir, sizeof(env.dir), "/tmp/fdr-vfu-XXXXXX");
	assert_non_null(mkdtemp(env.dir));
	env.dev.memfd = memfd_create("bar0", MFD_CLOEXEC);
	assert_true(env.dev.memfd >= 0);
	assert_int_equal(ftruncate(env.dev.memfd, 0x2000), 0);
	env.dev.bar0 = mmap(NULL, 0x2000, PROT_READ | PROT_WRITE, MAP_SHARED, env.dev.memfd, 0);
	assert_true(env.dev.bar0 != MAP_FAILED);
	for (unsigned i = 0; i < sizeof(env.dev.bar2); i++)
		env.dev.bar2[i] = (uint8_t)i;
	env.dev.cfg[0] = 0x86;
	env.dev.cfg[1] = 0x80;

	desc.regions[FDR_VFU_REGION_BAR0] = (struct fdr_vfu_region){
		.size = 0x2000, .flags = FDR_VFU_R_READ | FDR_VFU_R_WRITE,
		.mmap_offset = 0x1000, .mmap_size = 0x1000, .fd = env.dev.memfd, .fd_offset = 0};
	desc.regions[2] = (struct fdr_vfu_region){.size = 0x1000, .flags = FDR_VFU_R_READ, .fd = -1};
	desc.regions[FDR_VFU_REGION_CONFIG] = (struct fdr_vfu_region){
		.size = 0x1000, .flags = FDR_VFU_R_READ | FDR_VFU_R_WRITE, .fd = -1};
	desc.regions[4] = (struct fdr_vfu_region){.size = 2u << 20, .flags = FDR_VFU_R_READ | FDR_VFU_R_WRITE, .fd = -1};
	desc.irq_count[FDR_VFU_IRQ_INTX] = 1;
	desc.irq_count[FDR_VFU_IRQ_MSIX] = 4;
	desc.irq_count[FDR_VFU_IRQ_ERR] = 1;
	env.dev.bar4 = calloc(1, 2u << 20);
	assert_non_null(env.dev.bar4);

	env.r = fdr_reactor_create(0);
	assert_non_null(env.r);
	env.srv = fdr_vfu_server_create(env.dir, env.r, &desc, &fake_ops, &env.dev, err, sizeof(err));
	if (!env.srv)
		fail_msg("server: %s", err);
	env.dev.srv = env.srv;
	assert_int_equal(fdr_reactor_start(env.r, -1), 0);
	*state = &env;
	return 0;
}

static int teardown(void **state)
{
	struct env *env = *state;
	char path[128];

	fdr_reactor_stop(env->r);
	fdr_reactor_join(env->r);
	fdr_vfu_server_destroy(env->srv);
	fdr_reactor_destroy(env->r);
	munmap(env->dev.bar0, 0x2000);
	free(env->dev.bar4);
	close(env->dev.memfd);
	snprintf(path, sizeof(path), "%s/cntrl", env->dir);
	assert_int_equal(access(path, F_OK), -1); /* the socket went with the server */
	rmdir(env->dir);
	return 0;
}

static struct fdr_vfu_client *connect_client(bool version)
{
	char err[256];
	struct fdr_vfu_client *c = fdr_vfu_client_connect(E->dir, err, sizeof(err));

	if (!c)
		fail_msg("connect: %s", err);
	if (version)
		assert_int_equal(fdr_vfu_client_version(c, 0, 1, NULL, NULL, NULL, NULL, 0), 0);
	return c;
}

/* ---- Tests ---------------------------------------------------------------------------- */

static void test_version(void **state)
{
	struct fdr_vfu_client *c = connect_client(false);
	const char *qemu = "{\"capabilities\":{\"max_msg_fds\":16,\"max_data_xfer_size\":1048576,"
			   "\"pgsizes\":4096,\"max_dma_maps\":65535,\"write_multiple\":true,"
			   "\"migration\":{\"pgsize\":4096,\"max_bitmap_size\":268435456}}}";
	struct json_object *root, *caps, *v;
	uint16_t maj = 9, min = 9;
	char json[512];

	(void)state;
	/* SPDK's way: 0.1, no JSON; the reply still states our limits. */
	assert_int_equal(fdr_vfu_client_version(c, 0, 1, NULL, &maj, &min, json, sizeof(json)), 0);
	assert_int_equal(maj, 0);
	assert_int_equal(min, 1);
	root = json_tokener_parse(json);
	assert_non_null(root);
	assert_true(json_object_object_get_ex(root, "capabilities", &caps));
	assert_true(json_object_object_get_ex(caps, "max_msg_fds", &v));
	assert_int_equal(json_object_get_int(v), 8);
	assert_true(json_object_object_get_ex(caps, "max_data_xfer_size", &v));
	assert_int_equal(json_object_get_int(v), 1048576);
	assert_true(json_object_object_get_ex(caps, "pgsizes", &v));
	assert_int_equal(json_object_get_int(v), 4096);
	assert_true(json_object_object_get_ex(caps, "max_dma_maps", &v));
	assert_false(json_object_object_get_ex(caps, "write_multiple", &v));
	assert_false(json_object_object_get_ex(caps, "migration", &v));
	json_object_put(root);
	/* Twice on one connection: refused, connection kept. */
	assert_int_equal(fdr_vfu_client_version(c, 0, 1, NULL, NULL, NULL, NULL, 0), -EINVAL);
	fdr_vfu_client_close(c);
	wait_detached();

	/* QEMU's way: 0.0 with capabilities. */
	c = connect_client(false);
	assert_int_equal(fdr_vfu_client_version(c, 0, 0, qemu, &maj, &min, json, sizeof(json)), 0);
	assert_int_equal(min, 0);
	fdr_vfu_client_close(c);
	wait_detached();
	/* A newer minor than ours: ours. */
	c = connect_client(false);
	assert_int_equal(fdr_vfu_client_version(c, 0, 77, NULL, &maj, &min, NULL, 0), 0);
	assert_int_equal(min, 2);
	fdr_vfu_client_close(c);
}

static void test_get_info(void **state)
{
	struct fdr_vfu_client *c = connect_client(true);
	struct fdr_vfu_client_dev_info di;
	uint32_t flags, count;

	(void)state;
	assert_int_equal(fdr_vfu_client_get_info(c, &di), 0);
	assert_int_equal(di.flags, 3);
	assert_int_equal(di.num_regions, 9);
	assert_int_equal(di.num_irqs, 5);
	assert_int_equal(fdr_vfu_client_irq_info(c, FDR_VFU_IRQ_MSIX, &flags, &count), 0);
	assert_int_equal(flags, 1);
	assert_int_equal(count, 4);
	assert_int_equal(fdr_vfu_client_irq_info(c, FDR_VFU_IRQ_ERR, &flags, &count), 0);
	assert_int_equal(count, 1);
	assert_int_equal(fdr_vfu_client_irq_info(c, FDR_VFU_IRQ_MSI, &flags, &count), 0);
	assert_int_equal(count, 0);
	assert_int_equal(fdr_vfu_client_irq_info(c, 5, &flags, &count), -EINVAL);
	fdr_vfu_client_close(c);
}

static void test_region_info(void **state)
{
	struct fdr_vfu_client *c = connect_client(true);
	struct fdr_vfu_client_region ri;
	uint32_t v = 0xdeadbeef, back;
	uint8_t *area;
	int fd;

	(void)state;
	/* QEMU's first probe: 32 bytes, told to ask for 64, no fd. */
	assert_int_equal(fdr_vfu_client_region_info(c, 0, 32, &ri, &fd), 32);
	assert_int_equal(ri.argsz, 64);
	assert_int_equal(ri.flags & FDR_VFUC_REGION_CAPS, 0);
	assert_int_equal(fd, -1);
	/* With room (SPDK's 4064): caps, one sparse area, one fd. */
	assert_int_equal(fdr_vfu_client_region_info(c, 0, 0, &ri, &fd), 64);
	assert_int_equal(ri.flags, FDR_VFUC_REGION_READ | FDR_VFUC_REGION_WRITE |
					   FDR_VFUC_REGION_MMAP | FDR_VFUC_REGION_CAPS);
	assert_int_equal(ri.size, 0x2000);
	assert_int_equal(ri.offset, 0);
	assert_int_equal(ri.nr_areas, 1);
	assert_int_equal(ri.areas[0].offset, 0x1000);
	assert_int_equal(ri.areas[0].size, 0x1000);
	assert_true(fd >= 0);
	area = fdr_vfu_client_map_area(&ri, fd, 0);
	assert_non_null(area);
	close(fd);
	/* A doorbell store lands in the device's memory... */
	memcpy(area + 8, &v, 4);
	assert_memory_equal(E->dev.bar0 + 0x1008, &v, 4);
	/* ...and reads back through a message too. */
	assert_int_equal(fdr_vfu_client_region_read(c, 0, 0x1008, &back, 4), 4);
	assert_int_equal(back, v);
	munmap(area, 0x1000);
	/* Exactly 64 bytes is enough. */
	assert_int_equal(fdr_vfu_client_region_info(c, 0, 64, &ri, &fd), 64);
	assert_true(fd >= 0);
	close(fd);

	assert_int_equal(fdr_vfu_client_region_info(c, FDR_VFU_REGION_CONFIG, 0, &ri, &fd), 32);
	assert_int_equal(ri.flags, FDR_VFUC_REGION_READ | FDR_VFUC_REGION_WRITE);
	assert_int_equal(ri.size, 4096);
	assert_int_equal(fd, -1);
	assert_int_equal(fdr_vfu_client_region_info(c, 1, 0, &ri, &fd), 32);
	assert_int_equal(ri.size, 0);
	assert_int_equal(ri.flags, 0);
	assert_int_equal(fdr_vfu_client_region_info(c, 2, 0, &ri, &fd), 32);
	assert_int_equal(ri.flags, FDR_VFUC_REGION_READ);
	assert_int_equal(fdr_vfu_client_region_info(c, 9, 0, &ri, &fd), -EINVAL);
	assert_int_equal(fd, -1);
	fdr_vfu_client_close(c);
}

static void test_region_rw(void **state)
{
	struct fdr_vfu_client *c = connect_client(true);
	uint16_t cmd = 0, w = 0x0406;
	uint8_t big[4096], b2[16];
	uint64_t cap = 0x0123456789abcdefull, r64 = 0;
	struct snap s;

	(void)state;
	/* SPDK's command register dance. */
	assert_int_equal(fdr_vfu_client_region_read(c, FDR_VFU_REGION_CONFIG, 4, &cmd, 2), 2);
	assert_int_equal(fdr_vfu_client_region_write(c, FDR_VFU_REGION_CONFIG, 4, &w, 2, false), 2);
	assert_int_equal(fdr_vfu_client_region_read(c, FDR_VFU_REGION_CONFIG, 4, &cmd, 2), 2);
	assert_int_equal(cmd, 0x0406);
	/* QEMU's whole-config read. */
	assert_int_equal(fdr_vfu_client_region_read(c, FDR_VFU_REGION_CONFIG, 0, big, 4096), 4096);
	assert_int_equal(big[0], 0x86);
	assert_int_equal(big[4], 0x06);
	/* 8-byte register. */
	memcpy(E->dev.bar0, &cap, 8);
	assert_int_equal(fdr_vfu_client_region_read(c, 0, 0, &r64, 8), 8);
	assert_true(r64 == cap);
	/* Posted write (NO_REPLY), then a read sees it. */
	r64 = 0x1111;
	assert_int_equal(fdr_vfu_client_region_write(c, 0, 0x28, &r64, 8, true), 0);
	r64 = 0;
	assert_int_equal(fdr_vfu_client_region_read(c, 0, 0x28, &r64, 8), 8);
	assert_true(r64 == 0x1111);
	/* Out of range, wrong region, read-only, device error, zero count. */
	assert_int_equal(fdr_vfu_client_region_read(c, 0, 0x1ffc, b2, 8), -EINVAL);
	assert_int_equal(fdr_vfu_client_region_read(c, 0, 0x1ffc, b2, 4), 4);
	assert_int_equal(fdr_vfu_client_region_read(c, 1, 0, b2, 4), -EINVAL);
	assert_int_equal(fdr_vfu_client_region_read(c, 9, 0, b2, 4), -EINVAL);
	assert_int_equal(fdr_vfu_client_region_read(c, 2, 0x10, b2, 4), 4);
	assert_int_equal(b2[0], 0x10);
	assert_int_equal(fdr_vfu_client_region_write(c, 2, 0x10, b2, 4, false), -EINVAL);
	assert_int_equal(fdr_vfu_client_region_read(c, 0, 0xff0, b2, 4), -EIO);
	s = snapshot();
	unsigned before = s.dev.accesses;
	assert_int_equal(fdr_vfu_client_region_read(c, 0, 0, b2, 0), 0);
	assert_int_equal(snapshot().dev.accesses, before); /* count 0 never reaches the device */
	/* The connection is still in step. */
	assert_int_equal(fdr_vfu_client_region_read(c, FDR_VFU_REGION_CONFIG, 0, b2, 2), 2);
	fdr_vfu_client_close(c);
}

/* Transfers of max_data_xfer_size: more than a socket buffer each way. */
static void test_region_big(void **state)
{
	struct fdr_vfu_client *c = connect_client(true);
	uint32_t n = FDR_VFU_MAX_XFER;
	uint8_t *out = malloc(n + 1), *in = malloc(n + 1);

	(void)state;
	assert_non_null(out);
	assert_non_null(in);
	for (uint32_t i = 0; i < n; i++)
		out[i] = (uint8_t)(i * 13 + (i >> 12));
	assert_int_equal(fdr_vfu_client_region_write(c, 4, 0x10000, out, n, false), (int)n);
	assert_memory_equal(E->dev.bar4 + 0x10000, out, n);
	for (int round = 0; round < 3; round++) {
		memset(in, 0, n);
		assert_int_equal(fdr_vfu_client_region_read(c, 4, 0x10000, in, n), (int)n);
		assert_memory_equal(in, out, n);
	}
	assert_int_equal(fdr_vfu_client_region_read(c, 4, 0, in, n + 1), -EINVAL);
	assert_int_equal(fdr_vfu_client_region_read(c, 4, (2u << 20) - 4, in, 4), 4);
	free(out);
	free(in);
	fdr_vfu_client_close(c);
}

/* ---- DMA ---- */

struct dma_q {
	uint64_t iova, len;
	bool write;
	void *p;
};

static void dma_fn(void *arg)
{
	struct dma_q *q = arg;

	q->p = fdr_vfu_dma(E->srv, q->iova, q->len, q->write);
}

static void *dma(uint64_t iova, uint64_t len, bool write)
{
	struct dma_q q = {iova, len, write, NULL};

	on_reactor(dma_fn, &q);
	return q.p;
}

static void test_dma(void **state)
{
	struct fdr_vfu_client *c = connect_client(true);
	int mfd = memfd_create("guest", MFD_CLOEXEC);
	uint8_t *mem, *p;
	struct snap s;

	(void)state;
	assert_true(mfd >= 0);
	assert_int_equal(ftruncate(mfd, 0x10000), 0);
	mem = mmap(NULL, 0x10000, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	assert_true(mem != MAP_FAILED);
	for (unsigned i = 0; i < 0x10000; i++)
		mem[i] = (uint8_t)(i * 7);

	/* iova 1 MiB .. +32 KiB is file offset 0x4000. */
	assert_int_equal(fdr_vfu_client_dma_map(c, 0x100000, 0x8000, mfd, 0x4000,
						FDR_VFUC_DMA_READ | FDR_VFUC_DMA_WRITE), 0);
	p = dma(0x100000, 16, false);
	assert_non_null(p);
	assert_memory_equal(p, mem + 0x4000, 16);
	p = dma(0x100100, 4, true);
	assert_non_null(p);
	memcpy(p, "ABCD", 4);
	assert_memory_equal(mem + 0x4100, "ABCD", 4); /* shared with the client */
	assert_non_null(dma(0x107000, 0x1000, false));  /* ends at the mapping's end */
	assert_null(dma(0x107ff0, 0x20, false));        /* straddles the end */
	assert_null(dma(0x0ffff0, 0x20, false));        /* straddles the start */
	assert_null(dma(0x0fffff, 1, false));           /* below */
	assert_null(dma(0x108000, 1, false));           /* above */
	assert_null(dma(0x100000, 0, false));           /* empty */
	assert_null(dma(UINT64_MAX, 2, false));

	/* A read-only mapping at an unaligned file offset. */
	assert_int_equal(fdr_vfu_client_dma_map(c, 0x200000, 0x1000, mfd, 0x123, FDR_VFUC_DMA_READ), 0);
	p = dma(0x200000, 8, false);
	assert_non_null(p);
	assert_memory_equal(p, mem + 0x123, 8);
	assert_null(dma(0x200000, 8, true)); /* wrong protection */
	/* Adjacent mappings do not merge: a straddling access fails. */
	assert_int_equal(fdr_vfu_client_dma_map(c, 0x201000, 0x1000, mfd, 0x8000,
						FDR_VFUC_DMA_READ), 0);
	assert_non_null(dma(0x201000, 0x1000, false));
	assert_null(dma(0x200ff0, 0x20, false));
	/* Without an fd: legal, but not directly accessible. */
	assert_int_equal(fdr_vfu_client_dma_map(c, 0x300000, 0x1000, -1, 0, FDR_VFUC_DMA_READ), 0);
	assert_null(dma(0x300000, 4, false));

	/* Overlaps are refused; an exact repeat is accepted. */
	assert_int_equal(fdr_vfu_client_dma_map(c, 0x104000, 0x8000, mfd, 0, FDR_VFUC_DMA_READ), -EEXIST);
	assert_int_equal(fdr_vfu_client_dma_map(c, 0x0ff000, 0x2000, mfd, 0, FDR_VFUC_DMA_READ), -EEXIST);
	assert_int_equal(fdr_vfu_client_dma_map(c, 0x100000, 0x8000, mfd, 0x4000,
						FDR_VFUC_DMA_READ | FDR_VFUC_DMA_WRITE), 0);
	/* Beyond the file's end, zero size, bad flags. */
	assert_int_equal(fdr_vfu_client_dma_map(c, 0x400000, 0x2000, mfd, 0xf000, FDR_VFUC_DMA_READ), -EINVAL);
	assert_int_equal(fdr_vfu_client_dma_map(c, 0x400000, 0, mfd, 0, FDR_VFUC_DMA_READ), -EINVAL);
	assert_int_equal(fdr_vfu_client_dma_map(c, 0x400000, 0x1000, mfd, 0, 0x10), -EINVAL);
	s = snapshot();
	assert_int_equal(s.st.dma_maps, 4);

	/* Unmap: exact only; the device hears first, while the mapping still works. */
	assert_int_equal(fdr_vfu_client_dma_unmap(c, 0x100000, 0x1000, 0), -ENOENT);
	assert_int_equal(fdr_vfu_client_dma_unmap(c, 0x500000, 0x1000, 0), -ENOENT);
	assert_int_equal(fdr_vfu_client_dma_unmap(c, 0x100000, 0x8000, 0), 0);
	s = snapshot();
	assert_int_equal(s.dev.unmaps, 1);
	assert_true(s.dev.unmap_iova[0] == 0x100000 && s.dev.unmap_len[0] == 0x8000);
	assert_true(s.dev.unmap_was_mapped[0]);
	assert_null(dma(0x100000, 16, false));
	assert_non_null(dma(0x200000, 8, false));
	/* UNMAP_ALL. */
	assert_int_equal(fdr_vfu_client_dma_unmap(c, 0, 0, FDR_VFUC_UNMAP_ALL), 0);
	s = snapshot();
	assert_int_equal(s.dev.unmaps, 4);
	assert_int_equal(s.st.dma_maps, 0);
	assert_null(dma(0x200000, 8, false));
	/* The memory outlives the mappings on the client side. */
	assert_memory_equal(mem + 0x4100, "ABCD", 4);
	munmap(mem, 0x10000);
	close(mfd);
	fdr_vfu_client_close(c);
}

/* ---- Interrupts ---- */

static uint64_t efd_read(int fd)
{
	uint64_t v = 0;

	if (read(fd, &v, sizeof(v)) != sizeof(v))
		return 0;
	return v;
}

struct irq_q {
	unsigned index, vector;
	bool ok;
	int fd;
};

static void trig_fn(void *arg)
{
	struct irq_q *q = arg;

	q->ok = fdr_vfu_irq_trigger(E->srv, q->index, q->vector);
}

static bool trigger(unsigned index, unsigned vector)
{
	struct irq_q q = {index, vector, false, -1};

	on_reactor(trig_fn, &q);
	return q.ok;
}

static void fd_fn(void *arg)
{
	struct irq_q *q = arg;

	q->fd = fdr_vfu_irq_fd(E->srv, q->index, q->vector);
}

static int irq_fd(unsigned index, unsigned vector)
{
	struct irq_q q = {index, vector, false, -1};

	on_reactor(fd_fn, &q);
	return q.fd;
}

static void masked_fn(void *arg)
{
	struct irq_q *q = arg;

	q->ok = fdr_vfu_irq_masked(E->srv, q->index, q->vector);
}

static bool masked(unsigned index, unsigned vector)
{
	struct irq_q q = {index, vector, false, -1};

	on_reactor(masked_fn, &q);
	return q.ok;
}

/* INTx as VFIO's: automasked once signalled, until the client unmasks it
 * by SET_IRQS or through its unmask eventfd. */
static void test_intx_automask(void **state)
{
	struct fdr_vfu_client *c = connect_client(true);
	int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	int ufd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	uint64_t one = 1;
	uint32_t flags, count;
	unsigned changes;

	(void)state;
	assert_int_equal(fdr_vfu_client_irq_info(c, FDR_VFU_IRQ_INTX, &flags, &count), 0);
	assert_int_equal(flags, VFU_IRQ_INFO_EVENTFD | VFU_IRQ_INFO_MASKABLE | VFU_IRQ_INFO_AUTOMASKED);
	assert_int_equal(count, 1);
	assert_int_equal(fdr_vfu_client_set_irqs(c, FDR_VFU_IRQ_INTX, FDR_VFUC_IRQ_DATA_EVENTFD |
						 FDR_VFUC_IRQ_ACTION_TRIGGER, 0, 1, &efd, 1, NULL), 0);
	assert_false(masked(FDR_VFU_IRQ_INTX, 0));
	assert_true(trigger(FDR_VFU_IRQ_INTX, 0));
	assert_int_equal(efd_read(efd), 1);
	assert_true(masked(FDR_VFU_IRQ_INTX, 0));
	/* Held back while masked, sent on unmask, which masks it again. */
	assert_false(trigger(FDR_VFU_IRQ_INTX, 0));
	assert_int_equal(efd_read(efd), 0);
	changes = snapshot().dev.irq_changes;
	assert_int_equal(fdr_vfu_client_mask(c, FDR_VFU_IRQ_INTX, 0, 1, false), 0);
	assert_int_equal(snapshot().dev.irq_changes, changes + 1);
	assert_int_equal(efd_read(efd), 1);
	assert_true(masked(FDR_VFU_IRQ_INTX, 0));
	/* Nothing pending: an unmask sends nothing; the next trigger goes out. */
	assert_int_equal(fdr_vfu_client_mask(c, FDR_VFU_IRQ_INTX, 0, 1, false), 0);
	assert_int_equal(efd_read(efd), 0);
	assert_false(masked(FDR_VFU_IRQ_INTX, 0));
	assert_true(trigger(FDR_VFU_IRQ_INTX, 0));
	assert_int_equal(efd_read(efd), 1);
	/* MSI-X vectors are not automasked. */
	assert_int_equal(fdr_vfu_client_set_msix(c, 0, 1, &ufd), 0);
	assert_true(trigger(FDR_VFU_IRQ_MSIX, 0));
	assert_true(trigger(FDR_VFU_IRQ_MSIX, 0));
	assert_int_equal(efd_read(ufd), 2);
	assert_int_equal(fdr_vfu_client_set_msix(c, 0, 1, NULL), 0);

	/* The unmask eventfd: signalling it unmasks, and the device hears of it. */
	assert_int_equal(fdr_vfu_client_set_irqs(c, FDR_VFU_IRQ_INTX, FDR_VFUC_IRQ_DATA_EVENTFD |
						 FDR_VFUC_IRQ_ACTION_UNMASK, 0, 1, &ufd, 1, NULL), 0);
	assert_true(masked(FDR_VFU_IRQ_INTX, 0));
	changes = snapshot().dev.irq_changes;
	assert_int_equal(write(ufd, &one, sizeof(one)), sizeof(one));
	for (int i = 0; i < 500 && masked(FDR_VFU_IRQ_INTX, 0); i++)
		usleep(2000);
	assert_false(masked(FDR_VFU_IRQ_INTX, 0));
	assert_int_equal(snapshot().dev.irq_changes, changes + 1);
	assert_int_equal(efd_read(ufd), 0); /* the server consumed it */
	assert_true(trigger(FDR_VFU_IRQ_INTX, 0));
	assert_int_equal(efd_read(efd), 1);
	/* Removed (no descriptor): signalling it no longer unmasks. */
	assert_int_equal(fdr_vfu_client_set_irqs(c, FDR_VFU_IRQ_INTX, FDR_VFUC_IRQ_DATA_EVENTFD |
						 FDR_VFUC_IRQ_ACTION_UNMASK, 0, 1, NULL, 0, NULL), 0);
	assert_int_equal(write(ufd, &one, sizeof(one)), sizeof(one));
	usleep(20000);
	assert_true(masked(FDR_VFU_IRQ_INTX, 0));
	assert_int_equal(efd_read(ufd), 1);
	close(efd);
	close(ufd);
	fdr_vfu_client_close(c);
}

static void test_irqs(void **state)
{
	struct fdr_vfu_client *c = connect_client(true);
	int efd[4];
	uint8_t bools[2] = {0, 1};
	unsigned changes;

	(void)state;
	for (int i = 0; i < 4; i++)
		efd[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	changes = snapshot().dev.irq_changes;
	assert_int_equal(fdr_vfu_client_set_msix(c, 0, 2, efd), 0);
	assert_int_equal(snapshot().dev.irq_changes, changes + 1);
	assert_true(irq_fd(FDR_VFU_IRQ_MSIX, 0) >= 0);
	assert_true(trigger(FDR_VFU_IRQ_MSIX, 0));
	assert_int_equal(efd_read(efd[0]), 1);
	assert_int_equal(efd_read(efd[1]), 0);
	assert_true(trigger(FDR_VFU_IRQ_MSIX, 1));
	assert_true(trigger(FDR_VFU_IRQ_MSIX, 1));
	assert_int_equal(efd_read(efd[1]), 2);
	assert_false(trigger(FDR_VFU_IRQ_MSIX, 3)); /* no eventfd */
	assert_false(trigger(FDR_VFU_IRQ_MSIX, 4)); /* no such vector */
	assert_false(trigger(7, 0));

	/* Mask holds the interrupt back; unmask delivers it. */
	assert_int_equal(fdr_vfu_client_mask(c, FDR_VFU_IRQ_MSIX, 0, 1, true), 0);
	assert_false(trigger(FDR_VFU_IRQ_MSIX, 0));
	assert_int_equal(efd_read(efd[0]), 0);
	assert_true(trigger(FDR_VFU_IRQ_MSIX, 1)); /* others unaffected */
	assert_int_equal(efd_read(efd[1]), 1);
	assert_int_equal(fdr_vfu_client_mask(c, FDR_VFU_IRQ_MSIX, 0, 1, false), 0);
	assert_int_equal(efd_read(efd[0]), 1);
	assert_true(trigger(FDR_VFU_IRQ_MSIX, 0));
	assert_int_equal(efd_read(efd[0]), 1);

	/* Loopback triggers: DATA_NONE and DATA_BOOL. */
	assert_int_equal(fdr_vfu_client_set_irqs(c, FDR_VFU_IRQ_MSIX,
						 FDR_VFUC_IRQ_DATA_NONE | FDR_VFUC_IRQ_ACTION_TRIGGER, 0, 2,
						 NULL, 0, NULL), 0);
	assert_int_equal(efd_read(efd[0]), 1);
	assert_int_equal(efd_read(efd[1]), 1);
	assert_int_equal(fdr_vfu_client_set_irqs(c, FDR_VFU_IRQ_MSIX,
						 FDR_VFUC_IRQ_DATA_BOOL | FDR_VFUC_IRQ_ACTION_TRIGGER, 0, 2,
						 NULL, 0, bools), 0);
	assert_int_equal(efd_read(efd[0]), 0);
	assert_int_equal(efd_read(efd[1]), 1);
	/* Mask by DATA_BOOL. */
	assert_int_equal(fdr_vfu_client_set_irqs(c, FDR_VFU_IRQ_MSIX,
						 FDR_VFUC_IRQ_DATA_BOOL | FDR_VFUC_IRQ_ACTION_MASK, 0, 2,
						 NULL, 0, bools), 0);
	assert_true(trigger(FDR_VFU_IRQ_MSIX, 0));
	assert_false(trigger(FDR_VFU_IRQ_MSIX, 1));
	assert_int_equal(efd_read(efd[0]), 1);
	assert_int_equal(fdr_vfu_client_mask(c, FDR_VFU_IRQ_MSIX, 0, 4, false), 0);
	assert_int_equal(efd_read(efd[1]), 1);

	/* Replace vector 1, de-assign vector 0, then the ERR eventfd. */
	assert_int_equal(fdr_vfu_client_set_msix(c, 1, 1, &efd[2]), 0);
	assert_true(trigger(FDR_VFU_IRQ_MSIX, 1));
	assert_int_equal(efd_read(efd[2]), 1);
	assert_int_equal(efd_read(efd[1]), 0);
	assert_int_equal(fdr_vfu_client_set_msix(c, 0, 1, NULL), 0);
	assert_false(trigger(FDR_VFU_IRQ_MSIX, 0));
	assert_int_equal(fdr_vfu_client_set_irqs(c, FDR_VFU_IRQ_ERR,
						 FDR_VFUC_IRQ_DATA_EVENTFD | FDR_VFUC_IRQ_ACTION_TRIGGER, 0,
						 1, &efd[3], 1, NULL), 0);
	assert_true(trigger(FDR_VFU_IRQ_ERR, 0));
	assert_int_equal(efd_read(efd[3]), 1);

	/* Bad requests. */
	assert_int_equal(fdr_vfu_client_set_msix(c, 3, 2, efd), -EINVAL);
	assert_int_equal(fdr_vfu_client_set_irqs(c, FDR_VFU_IRQ_MSIX,
						 FDR_VFUC_IRQ_DATA_EVENTFD | FDR_VFUC_IRQ_ACTION_TRIGGER, 0,
						 1, efd, 2, NULL), -EINVAL);
	assert_int_equal(fdr_vfu_client_set_irqs(c, FDR_VFU_IRQ_MSIX,
						 FDR_VFUC_IRQ_DATA_EVENTFD | FDR_VFUC_IRQ_ACTION_TRIGGER, 0,
						 0, NULL, 0, NULL), -EINVAL);
	assert_int_equal(fdr_vfu_client_set_irqs(c, FDR_VFU_IRQ_MSI,
						 FDR_VFUC_IRQ_DATA_NONE | FDR_VFUC_IRQ_ACTION_TRIGGER, 0,
						 1, NULL, 0, NULL), -EINVAL);

	/* Disable the whole index. */
	assert_int_equal(fdr_vfu_client_set_irqs(c, FDR_VFU_IRQ_MSIX,
						 FDR_VFUC_IRQ_DATA_NONE | FDR_VFUC_IRQ_ACTION_TRIGGER, 0, 0,
						 NULL, 0, NULL), 0);
	assert_false(trigger(FDR_VFU_IRQ_MSIX, 1));
	assert_int_equal(irq_fd(FDR_VFU_IRQ_MSIX, 1), -1);
	assert_true(trigger(FDR_VFU_IRQ_ERR, 0)); /* other index untouched */
	assert_int_equal(efd_read(efd[3]), 1);
	for (int i = 0; i < 4; i++)
		close(efd[i]);
	fdr_vfu_client_close(c);
}

static void test_reset(void **state)
{
	struct fdr_vfu_client *c = connect_client(true);
	int mfd = memfd_create("guest", MFD_CLOEXEC);

	(void)state;
	assert_int_equal(ftruncate(mfd, 0x1000), 0);
	assert_int_equal(fdr_vfu_client_dma_map(c, 0x1000, 0x1000, mfd, 0, FDR_VFUC_DMA_READ), 0);
	assert_int_equal(fdr_vfu_client_reset(c), 0);
	assert_int_equal(fdr_vfu_client_reset(c), 0);
	assert_int_equal(snapshot().dev.resets, 2);
	assert_non_null(dma(0x1000, 4, false)); /* maps belong to the connection */
	close(mfd);
	fdr_vfu_client_close(c);
}

static void test_second_client(void **state)
{
	struct fdr_vfu_client *c1 = connect_client(true), *c2;
	struct fdr_vfu_client_dev_info di;
	char err[128];

	(void)state;
	c2 = fdr_vfu_client_connect(E->dir, err, sizeof(err));
	if (c2) { /* accepted by the kernel, then closed by the server */
		int rc = fdr_vfu_client_version(c2, 0, 1, NULL, NULL, NULL, NULL, 0);
		assert_true(rc == -EPIPE || rc == -ECONNRESET);
		fdr_vfu_client_close(c2);
	}
	assert_int_equal(snapshot().st.refused, 1);
	assert_int_equal(fdr_vfu_client_get_info(c1, &di), 0);
	assert_int_equal(snapshot().dev.attaches, 1);
	fdr_vfu_client_close(c1);
}

static void test_reconnect(void **state)
{
	struct fdr_vfu_client *c = connect_client(true);
	struct fdr_vfu_client_dev_info di;
	int mfd = memfd_create("guest", MFD_CLOEXEC);
	int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	unsigned fds_before;
	struct snap s;

	(void)state;
	assert_int_equal(ftruncate(mfd, 0x2000), 0);
	assert_int_equal(fdr_vfu_client_dma_map(c, 0x10000, 0x2000, mfd, 0, FDR_VFUC_DMA_READ), 0);
	assert_int_equal(fdr_vfu_client_set_msix(c, 2, 1, &efd), 0);
	assert_non_null(dma(0x10000, 4, false));
	assert_true(irq_fd(FDR_VFU_IRQ_MSIX, 2) >= 0);
	E->dev.cfg[0x40] = 0x5a; /* device state */
	fds_before = count_fds();
	fdr_vfu_client_close(c);
	wait_detached();
	s = snapshot();
	assert_int_equal(s.dev.detaches, 1);
	assert_int_equal(s.dev.unmaps, 0); /* detach says it all */
	assert_int_equal(s.st.dma_maps, 0);
	assert_null(dma(0x10000, 4, false));
	assert_int_equal(irq_fd(FDR_VFU_IRQ_MSIX, 2), -1);
	/* Our client socket and the server's copies of the eventfd are gone. */
	assert_int_equal(count_fds(), fds_before - 3);

	c = connect_client(true);
	assert_int_equal(fdr_vfu_client_get_info(c, &di), 0);
	uint8_t b;
	assert_int_equal(fdr_vfu_client_region_read(c, FDR_VFU_REGION_CONFIG, 0x40, &b, 1), 1);
	assert_int_equal(b, 0x5a);
	assert_int_equal(snapshot().dev.attaches, 2);
	fdr_vfu_client_close(c);
	close(mfd);
	close(efd);
}

/* ---- Malformed input ---- */

static size_t raw(uint8_t *buf, uint16_t id, uint16_t cmd, uint32_t flags, const void *payload,
		  size_t len)
{
	struct vfu_hdr h = {.msg_id = id, .cmd = cmd, .size = (uint32_t)(16 + len), .flags = flags};

	memcpy(buf, &h, 16);
	if (len)
		memcpy(buf + 16, payload, len);
	return 16 + len;
}

/* Sends a message and expects an error reply with err (0: a success reply). */
static void expect(struct fdr_vfu_client *c, const void *msg, size_t len, const int *fds,
		   unsigned nfds, uint16_t id, int err)
{
	struct vfu_hdr h;
	uint8_t payload[256];
	int rc;

	assert_int_equal(fdr_vfu_client_send_raw(c, msg, len, fds, nfds), 0);
	rc = fdr_vfu_client_recv_reply(c, &h, payload, sizeof(payload));
	if (rc < 0)
		fail_msg("message id %u: no reply: %s", id, fdr_vfu_client_error(c));
	assert_int_equal(h.msg_id, id);
	if (err) {
		assert_int_equal(h.flags, VFU_F_TYPE_REPLY | VFU_F_ERROR);
		assert_int_equal(h.error_no, err);
		assert_int_equal(h.size, 16);
	} else {
		assert_int_equal(h.flags, VFU_F_TYPE_REPLY);
	}
}

/* Sends a message and expects the server to hang up (after an optional error reply). */
static void expect_hangup(struct fdr_vfu_client *c, const void *msg, size_t len, const int *fds,
			  unsigned nfds)
{
	struct vfu_hdr h;
	uint8_t payload[64];
	int rc;

	assert_int_equal(fdr_vfu_client_send_raw(c, msg, len, fds, nfds), 0);
	rc = fdr_vfu_client_recv_reply(c, &h, payload, sizeof(payload));
	if (rc >= 0) {
		assert_true(h.flags & VFU_F_ERROR);
		rc = fdr_vfu_client_recv_reply(c, &h, payload, sizeof(payload));
	}
	assert_true(rc == -EPIPE || rc == -ECONNRESET);
	fdr_vfu_client_close(c);
	wait_detached();
}

static void test_malformed(void **state)
{
	uint8_t m[512], p[256];
	struct vfu_version v01 = {0, 1}, v10 = {1, 0};
	struct vfu_dma_map dmap = {.argsz = 32, .flags = 3, .addr = 0x1000, .size = 0x1000};
	struct vfu_dma_unmap dunmap = {.argsz = 24, .flags = 1};
	struct vfu_region_access acc = {.offset = UINT64_MAX - 1, .region = 7, .count = 4};
	struct vfu_irq_set irq = {.argsz = 20, .flags = VFU_IRQ_DATA_EVENTFD | VFU_IRQ_ACTION_TRIGGER,
				  .index = FDR_VFU_IRQ_MSIX, .start = 0, .count = 4};
	struct fdr_vfu_client *c;
	struct fdr_vfu_client_dev_info di;
	int fds[9];
	unsigned baseline, dropped;
	size_t n;

	(void)state;
	for (int i = 0; i < 9; i++)
		fds[i] = eventfd(0, EFD_CLOEXEC);
	baseline = count_fds();
	dropped = snapshot().st.dropped;

	/* Not VERSION first: error, then hang-up. */
	c = connect_client(false);
	memset(p, 0, sizeof(p));
	p[0] = 16;
	expect_hangup(c, m, raw(m, 1, VFU_CMD_DEVICE_GET_INFO, 0, p, 16), NULL, 0);
	/* Major 1. */
	c = connect_client(false);
	expect_hangup(c, m, raw(m, 2, VFU_CMD_VERSION, 0, &v10, 4), NULL, 0);
	/* VERSION with an fd, with unterminated JSON: errors, then a good VERSION works. */
	c = connect_client(false);
	expect(c, m, raw(m, 3, VFU_CMD_VERSION, 0, &v01, 4), fds, 1, 3, EINVAL);
	memcpy(p, &v01, 4);
	memcpy(p + 4, "{\"capabilities\":{}}", 19);
	expect(c, m, raw(m, 4, VFU_CMD_VERSION, 0, p, 23), NULL, 0, 4, EINVAL);
	memcpy(p + 4, "{\"capabilities\":[}", 19);
	expect(c, m, raw(m, 5, VFU_CMD_VERSION, 0, p, 23), NULL, 0, 5, EINVAL);
	expect(c, m, raw(m, 6, VFU_CMD_VERSION, 0, &v01, 4), NULL, 0, 6, 0);
	/* Unknown and refused commands: errors, the stream goes on. */
	expect(c, m, raw(m, 7, 99, 0, NULL, 0), NULL, 0, 7, EINVAL);
	expect(c, m, raw(m, 8, VFU_CMD_DEVICE_FEATURE, 0, p, 8), NULL, 0, 8, ENOTSUP);
	expect(c, m, raw(m, 9, VFU_CMD_MIG_DATA_READ, 0, p, 8), NULL, 0, 9, ENOTSUP);
	expect(c, m, raw(m, 10, VFU_CMD_DMA_READ, 0, p, 16), NULL, 0, 10, EINVAL);
	expect(c, m, raw(m, 11, VFU_CMD_REGION_WRITE_MULTI, 0, p, 8), NULL, 0, 11, ENOTSUP);
	/* Short payloads, bad argsz, bad counts. */
	expect(c, m, raw(m, 12, VFU_CMD_DMA_MAP, 0, &dmap, 16), NULL, 0, 12, EINVAL);
	expect(c, m, raw(m, 13, VFU_CMD_DMA_MAP, 0, &dmap, 32), fds, 2, 13, EINVAL);
	expect(c, m, raw(m, 14, VFU_CMD_DMA_UNMAP, 0, &dunmap, 24), fds, 1, 14, ENOTSUP);
	memset(p, 0, 32);
	p[0] = 8;
	expect(c, m, raw(m, 15, VFU_CMD_DEVICE_GET_REGION_INFO, 0, p, 32), NULL, 0, 15, EINVAL);
	expect(c, m, raw(m, 16, VFU_CMD_REGION_READ, 0, &acc, 16), NULL, 0, 16, EINVAL);
	acc.offset = 0;
	memcpy(p, &acc, 16);
	expect(c, m, raw(m, 17, VFU_CMD_REGION_WRITE, 0, p, 18), NULL, 0, 17, EINVAL);
	expect(c, m, raw(m, 18, VFU_CMD_DEVICE_SET_IRQS, 0, &irq, 20), fds, 3, 18, EINVAL);
	expect(c, m, raw(m, 19, VFU_CMD_DEVICE_RESET, VFU_F_ERROR, NULL, 0), NULL, 0, 19, EINVAL);
	expect(c, m, raw(m, 20, VFU_CMD_DEVICE_RESET, 0, NULL, 0), fds, 1, 20, EINVAL);
	/* NO_REPLY: an error is not answered; the next reply is the next command's. */
	n = raw(m, 21, 99, VFU_F_NO_REPLY, NULL, 0);
	assert_int_equal(fdr_vfu_client_send_raw(c, m, n, fds, 2), 0);
	p[0] = 16;
	expect(c, m, raw(m, 22, VFU_CMD_DEVICE_GET_INFO, 0, p, 16), NULL, 0, 22, 0);
	/* Pipelined: two commands in one send, two replies in order. */
	n = raw(m, 23, VFU_CMD_DEVICE_RESET, 0, NULL, 0);
	n += raw(m + n, 24, 99, 0, NULL, 0);
	assert_int_equal(fdr_vfu_client_send_raw(c, m, n, NULL, 0), 0);
	{
		struct vfu_hdr h;
		assert_int_equal(fdr_vfu_client_recv_reply(c, &h, p, sizeof(p)), 0);
		assert_int_equal(h.msg_id, 23);
		assert_int_equal(fdr_vfu_client_recv_reply(c, &h, p, sizeof(p)), 0);
		assert_int_equal(h.msg_id, 24);
		assert_int_equal(h.error_no, EINVAL);
	}
	/* Framing: size below the header. */
	n = raw(m, 25, VFU_CMD_DEVICE_RESET, 0, NULL, 0);
	((struct vfu_hdr *)m)->size = 8;
	expect_hangup(c, m, n, NULL, 0);
	/* Size above the maximum. */
	c = connect_client(true);
	n = raw(m, 26, VFU_CMD_REGION_WRITE, 0, NULL, 0);
	((struct vfu_hdr *)m)->size = FDR_VFU_MAX_MSG + 1;
	expect_hangup(c, m, n, NULL, 0);
	/* A reply from the client. */
	c = connect_client(true);
	expect_hangup(c, m, raw(m, 27, VFU_CMD_DEVICE_RESET, VFU_F_TYPE_REPLY, NULL, 0), NULL, 0);
	/* More fds than we take (8). */
	c = connect_client(true);
	irq.count = 4;
	expect_hangup(c, m, raw(m, 28, VFU_CMD_DEVICE_SET_IRQS, 0, &irq, 20), fds, 9);
	/* Half a message, then gone. */
	c = connect_client(true);
	n = raw(m, 29, VFU_CMD_DMA_MAP, 0, &dmap, 32);
	assert_int_equal(fdr_vfu_client_send_raw(c, m, 20, fds, 1), 0);
	fdr_vfu_client_close(c);
	wait_detached();
	/* Half a header, then gone. */
	c = connect_client(true);
	assert_int_equal(fdr_vfu_client_send_raw(c, m, 7, NULL, 0), 0);
	fdr_vfu_client_close(c);
	wait_detached();

	assert_true(snapshot().st.dropped >= dropped + 6);
	/* Every descriptor sent was closed by the server. */
	assert_int_equal(count_fds(), baseline);
	/* And it still serves. */
	c = connect_client(true);
	assert_int_equal(fdr_vfu_client_get_info(c, &di), 0);
	assert_int_equal(di.num_regions, 9);
	fdr_vfu_client_close(c);
	for (int i = 0; i < 9; i++)
		close(fds[i]);
}

static void destroy_fn(void *arg)
{
	fdr_vfu_server_destroy(E->srv);
	E->srv = NULL;
}

/* Destroyed from its own reactor with a client attached. */
static void test_destroy_on_reactor(void **state)
{
	struct fdr_vfu_client *c = connect_client(true);
	struct fdr_vfu_client_dev_info di;

	(void)state;
	on_reactor(destroy_fn, NULL);
	assert_int_equal(E->dev.detaches, 1);
	assert_true(fdr_vfu_client_get_info(c, &di) < 0);
	fdr_vfu_client_close(c);
	on_reactor(destroy_fn, NULL); /* NULL is fine */
}

static void test_create_errors(void **state)
{
	struct fdr_vfu_desc desc = {0};
	struct fdr_vfu_server *s2;
	char err[256], path[128];
	int fd;

	(void)state;
	/* Someone serves there already. */
	s2 = fdr_vfu_server_create(E->dir, E->r, &desc, &fake_ops, NULL, err, sizeof(err));
	assert_null(s2);
	assert_non_null(strstr(err, "already serves"));
	/* Bad description. */
	desc.regions[0] = (struct fdr_vfu_region){.size = 0x2000, .flags = 3, .mmap_offset = 0x800,
						  .mmap_size = 0x1000, .fd = 0};
	assert_null(fdr_vfu_server_create("/tmp", E->r, &desc, &fake_ops, NULL, err, sizeof(err)));
	memset(&desc, 0, sizeof(desc));
	desc.irq_count[FDR_VFU_IRQ_ERR] = 2;
	assert_null(fdr_vfu_server_create("/tmp", E->r, &desc, &fake_ops, NULL, err, sizeof(err)));
	/* A file where the socket goes. */
	memset(&desc, 0, sizeof(desc));
	snprintf(path, sizeof(path), "%s/sub", E->dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/sub/cntrl", E->dir);
	fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);
	snprintf(path, sizeof(path), "%s/sub", E->dir);
	assert_null(fdr_vfu_server_create(path, E->r, &desc, &fake_ops, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "not a socket"));
	snprintf(path, sizeof(path), "%s/sub/cntrl", E->dir);
	unlink(path);
	/* A stale socket is replaced; a missing directory is created. */
	{
		struct sockaddr_un sa = {.sun_family = AF_UNIX};
		struct fdr_reactor *r2 = fdr_reactor_create(1);

		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		assert_true(strlen(path) < sizeof(sa.sun_path));
		memcpy(sa.sun_path, path, strlen(path) + 1);
		assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
		close(fd); /* left behind, nobody listening */
		snprintf(path, sizeof(path), "%s/sub", E->dir);
		s2 = fdr_vfu_server_create(path, r2, &desc, &fake_ops, NULL, err, sizeof(err));
		if (!s2)
			fail_msg("%s", err);
		fdr_vfu_server_destroy(s2);
		rmdir(path);
		snprintf(path, sizeof(path), "%s/new", E->dir);
		s2 = fdr_vfu_server_create(path, r2, &desc, &fake_ops, NULL, err, sizeof(err));
		if (!s2)
			fail_msg("%s", err);
		fdr_vfu_server_destroy(s2);
		rmdir(path);
		fdr_reactor_destroy(r2);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_get_info, setup, teardown),
		cmocka_unit_test_setup_teardown(test_region_info, setup, teardown),
		cmocka_unit_test_setup_teardown(test_region_rw, setup, teardown),
		cmocka_unit_test_setup_teardown(test_region_big, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dma, setup, teardown),
		cmocka_unit_test_setup_teardown(test_irqs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_intx_automask, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_second_client, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reconnect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_destroy_on_reactor, setup, teardown),
	};

	fdr_log_set_level(getenv("FDR_TEST_DEBUG") ? FDR_LOG_DEBUG : FDR_LOG_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Fuzzes the vfio-user server's receive side.  The first input byte picks
 * the mode:
 *
 *   even  parse mode: the rest is a run of messages checked one by one by
 *         the pure vfu_hdr_check() / vfu_msg_parse() against a fixed device
 *         description, with nfds and "versioned" from the second byte;
 *         whatever is accepted is cross-checked against the description.
 *   odd   stream mode: the rest is a byte stream a client sends over the
 *         real socket to a server (vfu_server.c) on a reactor pumped by
 *         this thread, with a fake device; the second byte picks a
 *         VERSION handshake by the harness and the delivery chunking.  At
 *         the end the client hangs up and the server must be detached,
 *         its DMA maps and eventfds gone.
 *
 * Built with -fsanitize=fuzzer this is a libFuzzer target; otherwise a
 * main() runs a few thousand mutated seeds as a smoke test and checks that
 * no descriptor leaked.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/log.h"
#include "common/reactor.h"
#include "vfu_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct fdr_vfu_desc desc;
static bool desc_ready;

static void init_desc(void)
{
	if (desc_ready)
		return;
	desc.regions[0] = (struct fdr_vfu_region){.size = 0x2000, .flags = FDR_VFU_R_READ | FDR_VFU_R_WRITE};
	desc.regions[2] = (struct fdr_vfu_region){.size = 0x1000, .flags = FDR_VFU_R_READ};
	desc.regions[7] = (struct fdr_vfu_region){.size = 0x1000, .flags = FDR_VFU_R_READ | FDR_VFU_R_WRITE};
	desc.irq_count[FDR_VFU_IRQ_MSIX] = 8;
	desc.irq_count[FDR_VFU_IRQ_ERR] = 1;
	desc.name = "fuzz";
	desc_ready = true;
}

/* ---- Parse mode ----------------------------------------------------------------------- */

static void check_one(const uint8_t *buf, size_t len, unsigned nfds, bool versioned)
{
	struct vfu_parse_ctx ctx = {.desc = &desc, .versioned = versioned};
	struct vfu_msg m;
	int rc = vfu_msg_parse(&ctx, buf, len, nfds, &m);

	if (rc < 0 || rc >= 4096)
		abort();
	if (rc) {
		if (!m.why)
			abort();
		return;
	}
	if (m.nfds > nfds || m.hdr.size != len || (m.hdr.flags & VFU_F_TYPE_MASK))
		abort();
	if (!versioned && m.hdr.cmd != VFU_CMD_VERSION)
		abort();
	switch (m.hdr.cmd) {
	case VFU_CMD_VERSION:
		if (m.u.version.major != VFU_MAJOR || nfds)
			abort();
		break;
	case VFU_CMD_DMA_MAP:
		if (!m.u.map.size || m.u.map.addr + m.u.map.size < m.u.map.addr || nfds > 1)
			abort();
		break;
	case VFU_CMD_DEVICE_GET_REGION_INFO:
		if (m.u.info.index >= FDR_VFU_NUM_REGIONS || m.u.info.argsz < 32)
			abort();
		break;
	case VFU_CMD_DEVICE_GET_IRQ_INFO:
		if (m.u.info.index >= FDR_VFU_NUM_IRQS)
			abort();
		break;
	case VFU_CMD_DEVICE_SET_IRQS:
		if (m.u.irqs.index >= FDR_VFU_NUM_IRQS ||
		    (uint64_t)m.u.irqs.start + m.u.irqs.count > desc.irq_count[m.u.irqs.index])
			abort();
		if ((m.u.irqs.flags & VFU_IRQ_DATA_BOOL) &&
		    (!m.u.irqs.bools || m.u.irqs.bools + m.u.irqs.count > buf + len))
			abort();
		break;
	case VFU_CMD_REGION_READ:
	case VFU_CMD_REGION_WRITE: {
		const struct fdr_vfu_region *r;

		if (m.u.access.region >= FDR_VFU_NUM_REGIONS)
			abort();
		r = &desc.regions[m.u.access.region];
		if ((uint64_t)m.u.access.offset + m.u.access.count > r->size ||
		    m.u.access.offset > r->size || m.u.access.count > FDR_VFU_MAX_XFER)
			abort();
		if (m.hdr.cmd == VFU_CMD_REGION_WRITE &&
		    (!(r->flags & FDR_VFU_R_WRITE) || m.u.access.data + m.u.access.count != buf + len))
			abort();
		break;
	}
	case VFU_CMD_DMA_UNMAP:
	case VFU_CMD_DEVICE_GET_INFO:
	case VFU_CMD_DEVICE_RESET:
		break;
	default:
		abort(); /* nothing else may pass */
	}
}

static void run_parse(const uint8_t *data, size_t size, uint8_t cfg)
{
	unsigned nfds = cfg % 10;
	bool versioned = cfg & 0x80;

	while (size) {
		struct vfu_hdr h;
		size_t len;

		if (size < sizeof(h)) {
			check_one(data, size, nfds, versioned);
			return;
		}
		memcpy(&h, data, sizeof(h));
		if (vfu_hdr_check(&h)) {
			/* Framing fails: the parser must refuse it too. */
			check_one(data, size < 4096 ? size : 4096, nfds, versioned);
			return;
		}
		len = h.size <= size ? h.size : size;
		check_one(data, len, nfds, versioned);
		data += len;
		size -= len;
	}
}

/* ---- Stream mode ------------------------------------------------------------------------ */

static struct fdr_reactor *reactor;
static struct fdr_vfu_server *srv;
static char dir[64];
static uint8_t regs[3][0x2000];

static int fz_access(void *dev, unsigned region, uint64_t offset, void *buf, uint32_t count,
		     bool is_write)
{
	uint8_t *base = regs[region == 0 ? 0 : region == 2 ? 1 : 2];

	if (region != 0 && region != 2 && region != 7)
		abort(); /* the server let through a region we do not have */
	if (offset + count > (region == 0 ? 0x2000u : 0x1000u) || !count)
		abort();
	if (is_write)
		memcpy(base + offset, buf, count);
	else
		memcpy(buf, base + offset, count);
	return offset == 0x10 ? -EIO : 0;
}

static void fz_dma_unmap(void *dev, uint64_t iova, uint64_t len)
{
	if (!len)
		abort();
}

static const struct fdr_vfu_ops fz_ops = {.access = fz_access, .dma_unmap = fz_dma_unmap};

static void pump(int rounds)
{
	for (int i = 0; i < rounds; i++)
		fdr_reactor_poll(reactor, 0);
}

static void drain(int fd)
{
	uint8_t sink[65536];

	while (recv(fd, sink, sizeof(sink), MSG_DONTWAIT) > 0)
		;
}

static void send_all(int fd, const uint8_t *p, size_t len)
{
	int spins = 0;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return; /* the server hung up */
		pump(1);
		drain(fd);
		if (++spins > 10000)
			return;
	}
}

static void setup_server(void)
{
	char err[256];

	if (srv)
		return;
	snprintf(dir, sizeof(dir), "/tmp/fdr-fuzz-vfu-XXXXXX");
	if (!mkdtemp(dir) || !(reactor = fdr_reactor_create(0)))
		abort();
	srv = fdr_vfu_server_create(dir, reactor, &desc, &fz_ops, NULL, err, sizeof(err));
	if (!srv) {
		fprintf(stderr, "fuzz: %s\n", err);
		abort();
	}
}

static void run_stream(const uint8_t *data, size_t size, uint8_t cfg)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t chunk = (cfg & 2) ? 1 + (cfg >> 2) * 5 : 65536;
	struct fdr_vfu_stats st;
	int fd;

	setup_server();
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	memcpy(sa.sun_path, fdr_vfu_server_path(srv), strlen(fdr_vfu_server_path(srv)) + 1);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
		abort();
	pump(1);
	if (cfg & 1) {
		/* Start past VERSION so the input explores commands. */
		uint8_t v[20] = {0};
		struct vfu_hdr h = {.cmd = VFU_CMD_VERSION, .size = 20};

		memcpy(v, &h, 16);
		v[18] = 1;
		send_all(fd, v, sizeof(v));
		pump(1);
	}
	for (size_t off = 0; off < size; off += chunk) {
		size_t n = size - off < chunk ? size - off : chunk;

		send_all(fd, data + off, n);
		pump(2);
		drain(fd);
	}
	pump(2);
	drain(fd);
	close(fd);
	pump(3);
	fdr_vfu_server_stats(srv, &st);
	if (fdr_vfu_server_attached(srv) || st.dma_maps) {
		fprintf(stderr, "fuzz: the server kept the client (%s, %llu maps)\n",
			fdr_vfu_server_attached(srv) ? "attached" : "detached",
			(unsigned long long)st.dma_maps);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	fdr_log_set_level(getenv("FDR_FUZZ_DEBUG") ? FDR_LOG_DEBUG : FDR_LOG_ERR);
	init_desc();
	if (data[0] & 1)
		run_stream(data + 2, size - 2, data[1]);
	else
		run_parse(data + 2, size - 2, data[1]);
	return 0;
}

#ifndef FDR_LIBFUZZER
/* ---- Smoke driver: mutated seeds ----------------------------------------------------------- */

#include "smoke.h"

static size_t add(uint8_t *p, uint16_t cmd, uint32_t flags, const void *payload, size_t len)
{
	struct vfu_hdr h = {.msg_id = (uint16_t)rnd(65536), .cmd = cmd, .size = (uint32_t)(16 + len),
			    .flags = flags};

	memcpy(p, &h, 16);
	if (len)
		memcpy(p + 16, payload, len);
	return 16 + len;
}

/* A plausible session after VERSION (the harness sends it in stream mode). */
static size_t make_seed(uint8_t *p)
{
	struct vfu_dma_map map = {32, 3, 0, 0x100000, 0x2000};
	struct vfu_dma_unmap unmap = {24, 0, 0x100000, 0x2000};
	struct vfu_dma_unmap unmap_all = {24, VFU_UNMAP_ALL, 0, 0};
	uint32_t info[4] = {16, 0, 0, 0}, rinfo[8] = {64, 0, 0, 0, 0, 0, 0, 0};
	struct vfu_irq_set irq = {20, VFU_IRQ_DATA_NONE | VFU_IRQ_ACTION_TRIGGER, 2, 0, 2};
	uint8_t bools[24] = {0};
	struct {
		struct vfu_region_access a;
		uint8_t d[8];
	} wr = {{0x14, 0, 4}, {1, 0, 0, 0}};
	struct vfu_region_access rd = {0, 7, 64};
	size_t n = 0;

	p[n++] = 1; /* stream mode */
	p[n++] = 1; /* harness sends VERSION */
	n += add(p + n, VFU_CMD_DEVICE_GET_INFO, 0, info, 16);
	n += add(p + n, VFU_CMD_DMA_MAP, 0, &map, 32);
	n += add(p + n, VFU_CMD_DEVICE_GET_REGION_INFO, 0, rinfo, 32);
	info[2] = 2;
	n += add(p + n, VFU_CMD_DEVICE_GET_IRQ_INFO, 0, info, 16);
	n += add(p + n, VFU_CMD_DEVICE_SET_IRQS, 0, &irq, 20);
	irq.flags = VFU_IRQ_DATA_BOOL | VFU_IRQ_ACTION_MASK;
	irq.argsz = 22;
	memcpy(bools, &irq, 20);
	bools[20] = 1;
	n += add(p + n, VFU_CMD_DEVICE_SET_IRQS, 0, bools, 22);
	n += add(p + n, VFU_CMD_REGION_WRITE, 0, &wr, 20);
	n += add(p + n, VFU_CMD_REGION_WRITE, VFU_F_NO_REPLY, &wr, 20);
	n += add(p + n, VFU_CMD_REGION_READ, 0, &rd, 16);
	n += add(p + n, VFU_CMD_DEVICE_RESET, 0, NULL, 0);
	n += add(p + n, VFU_CMD_DMA_UNMAP, 0, &unmap, 24);
	n += add(p + n, VFU_CMD_DMA_MAP, 0, &map, 32);
	n += add(p + n, VFU_CMD_DMA_UNMAP, 0, &unmap_all, 24);
	n += add(p + n, VFU_CMD_DEVICE_FEATURE, 0, info, 8);
	return n;
}

static unsigned count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	unsigned n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

int main(int argc, char **argv)
{
	static uint8_t seed[16384], buf[16384];
	unsigned iters = argc > 1 ? (unsigned)atoi(argv[1]) : 3000;
	size_t seed_len = make_seed(seed);
	unsigned fds0;

	/* Create the server first so that its descriptors count in the baseline. */
	LLVMFuzzerTestOneInput(seed, seed_len);
	fds0 = count_fds();
	for (unsigned i = 0; i < iters; i++) {
		size_t len = seed_len;

		memcpy(buf, seed, len);
		buf[1] = (uint8_t)rnd(256);
		if (i % 3 == 2)
			buf[0] = 0; /* parse mode */
		len = fuzz_mutate(buf, len, sizeof(buf),
				  (const uint8_t[]){0, 1, 2, 7, 8, 9, 16, 0x10, 0x20, 0x7f, 0x80, 0xff}, 12);
		LLVMFuzzerTestOneInput(buf, len);
	}
	if (count_fds() != fds0) {
		fprintf(stderr, "fuzz: %u descriptors open, %u at the start\n", count_fds(), fds0);
		abort();
	}
	if (srv) {
		struct fdr_vfu_stats st;

		fdr_vfu_server_stats(srv, &st);
		printf("fuzz smoke: %llu clients, %llu commands, %llu errors, %llu dropped\n",
		       (unsigned long long)st.clients, (unsigned long long)st.msgs,
		       (unsigned long long)st.errors, (unsigned long long)st.dropped);
		fdr_vfu_server_destroy(srv);
		rmdir(dir);
	}
	if (reactor)
		fdr_reactor_destroy(reactor);
	printf("fuzz smoke: %u inputs ok\n", iters + 1);
	return 0;
}
#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Fuzzes the PCIe function's data-pointer walker (src/transport/pcie/
 * pcie_dma.c, built into the target): PRP1/PRP2, PRP lists and SGLs, read
 * from memory the host controls.  fdr_vfu_dma() is faked over "host
 * memory" from the input: one or two windows (the client's mappings), each
 * allocated with exactly its size so that ASan sees any access past what
 * the host mapped, each readable and/or writable.
 *
 * Input:
 *   [0]       bits 1:0 window 0 protection (1 read, 2 write, 0 both), 3:2
 *             window 1's, bit 4 controller to host (the device writes),
 *             bit 5 admin queue, bits 7:6 placement: window 1 after window
 *             0's pages, window 1 far away, window 0 at IOVA 0 and window 1
 *             ending at 2^64, no window 1
 *   [1]       bits 4:0 window 0 pages - 1, bits 6:5 bytes cut off its end
 *   [2]       bits 2:0 window 1 pages - 1, bits 4:3 its cut, bits 6:5 what
 *             fills the windows past the input (zeros, the input again, a
 *             PRP entry into window 0 in every qword, 0xff)
 *   [3]       the command's flags byte (PSDT)
 *   [4..20)   DPTR: PRP1 and PRP2, or SGL1
 *   [20..23)  data length - 1 (18 bits, little endian): 1 B to 256 KiB
 *   [23..)    host memory: window 0, then window 1
 *
 * What must hold, beyond memory safety:
 *   - the status is 0 or one the kind of data pointer allows; an invalid
 *     PSDT, or an SGL on the admin queue, is refused before any access;
 *   - Data Transfer Error exactly when a translation was refused, the last;
 *   - translations per walk are bounded (chains that loop end);
 *   - copying in either direction translates exactly what the check did
 *     and ends the same way (host memory does not change in between: what
 *     goes back to the host is what was read from it), and neither the
 *     check nor the reading writes host memory;
 *   - on success every byte of the buffer was read from the host (bit
 *     buckets aside);
 *   - pcie_dma_contig(), after a successful check, points into one window
 *     that allows the direction and holds the same bytes the walk read; a
 *     single piece (PRP1 alone, PRP1 + the next page in one window, one
 *     SGL Data Block of the length) is always found;
 *   - writing data to the host never changes a window it may not write.
 *
 * Built with -fsanitize=fuzzer this is a libFuzzer target; otherwise main()
 * runs built-in seeds (checking their statuses) and mutations of them, or
 * writes the seeds as a corpus (--seeds DIR), or replays files (--replay).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transport/pcie/pcie_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HDR 23
#define IOVA0 0x10000ull      /* window 0 unless placed at 0 */
#define IOVA_FAR 0x40000000ull
#define PAGES0_MAX 32u
#define PAGES1_MAX 8u
#define MAX_LEN (256u * 1024)
#define SGL_MAX_DESC 8192u    /* pcie_dma.c's bound on descriptors per command */
#define P_R 1u
#define P_W 2u

/* pcie_dma.c keeps its SGL statuses to itself. */
#define ST_SGL(sc) ((uint16_t)(NVME_STATUS(NVME_SCT_GENERIC, (sc)) | NVME_STATUS_DNR))
#define ST_SGL_SEG ST_SGL(NVME_SC_INVALID_SGL_SEG_DESC)
#define ST_SGL_NUM ST_SGL(NVME_SC_INVALID_NUM_SGL_DESCS)
#define ST_SGL_LEN ST_SGL(NVME_SC_DATA_SGL_LENGTH_INVALID)
#define ST_SGL_TYPE ST_SGL(NVME_SC_SGL_DESC_TYPE_INVALID)

static void fail_dump(void);

#define FUZZ_FAIL(...)                                                  \
	do {                                                            \
		fprintf(stderr, "fuzz_pcie_dma: " __VA_ARGS__);         \
		fprintf(stderr, "\n");                                  \
		fail_dump();                                            \
		abort();                                                \
	} while (0)

/* ---- Fake host memory ---------------------------------------------------------- */

struct win {
	uint64_t iova, size;
	unsigned prot;
	uint8_t *host; /* exactly size bytes */
};

static struct win win[2];
static unsigned nwin;
static uint8_t snap[(PAGES0_MAX + PAGES1_MAX) * PAGE]; /* the windows as filled */
static struct fdr_pcie pcie;

/* Translations of one walk; hash covers (iova, len, write, refused) of each. */
static struct {
	uint64_t calls, hash, refused, limit;
	bool last_refused;
} tr;

static const uint8_t *cur_in; /* the input being run, for fail_dump() */
static size_t cur_len;
static uint16_t last_st; /* its check's status */

static struct win *win_of(uint64_t iova, uint64_t len)
{
	for (unsigned i = 0; i < nwin; i++) {
		struct win *w = &win[i];

		if (len && iova >= w->iova && iova - w->iova <= w->size &&
		    len <= w->size - (iova - w->iova))
			return w;
	}
	return NULL;
}

/* What the real one promises: the whole range in one mapping that allows
 * the access, else NULL (len 0 included). */
static void *lookup(uint64_t iova, uint64_t len, bool write)
{
	struct win *w = win_of(iova, len);

	if (!w || !(w->prot & (write ? P_W : P_R)))
		return NULL;
	return w->host + (iova - w->iova);
}

static uint64_t mix(uint64_t h, uint64_t v)
{
	h = (h ^ v) * 0x9e3779b97f4a7c15ull;
	return h ^ (h >> 29);
}

void *fdr_vfu_dma(struct fdr_vfu_server *srv, uint64_t iova, uint64_t len, bool write)
{
	void *h = lookup(iova, len, write);

	if (srv != (struct fdr_vfu_server *)&win)
		FUZZ_FAIL("fdr_vfu_dma on server %p", (void *)srv);
	if (++tr.calls > tr.limit)
		FUZZ_FAIL("more than %llu translations in one walk", (unsigned long long)tr.limit);
	tr.hash = mix(mix(tr.hash, iova), len << 2 | (uint64_t)write << 1 | !h);
	tr.refused += !h;
	tr.last_refused = !h;
	return h;
}

static void fill(struct win *w, size_t base, const uint8_t *img, size_t img_len, unsigned how,
		 unsigned pages0)
{
	uint64_t o = 0;

	if (base < img_len) {
		o = img_len - base < w->size ? img_len - base : w->size;
		memcpy(w->host, img + base, o);
	}
	if (how == 0 || how == 3) {
		memset(w->host + o, how ? 0xff : 0, w->size - o);
		return;
	}
	for (; o < w->size; o++) {
		size_t k = base + o;

		if (how == 1)
			w->host[o] = img_len ? img[k % img_len] : 0;
		else /* a page-aligned address in window 0, valid as a PRP entry */
			w->host[o] = (uint8_t)((win[0].iova + (o / 8 % pages0) * PAGE) >> (o % 8 * 8));
	}
}

static void setup_windows(const uint8_t *data, size_t size)
{
	static const uint32_t cut[4] = { 0, 1, 8, 2047 };
	unsigned place = data[0] >> 6, pages0 = 1 + (data[1] & 31u), pages1 = 1 + (data[2] & 7u);

	nwin = place == 3 ? 1 : 2;
	win[0] = (struct win){ .iova = place == 2 ? 0 : IOVA0,
			       .size = pages0 * PAGE - cut[(data[1] >> 5) & 3],
			       .prot = data[0] & 3 ? data[0] & 3 : P_R | P_W };
	win[1] = (struct win){ .size = pages1 * PAGE - cut[(data[2] >> 3) & 3],
			       .prot = data[0] >> 2 & 3 ? data[0] >> 2 & 3 : P_R | P_W };
	win[1].iova = place == 0   ? IOVA0 + pages0 * PAGE
		      : place == 1 ? IOVA_FAR
				   : 0 - (uint64_t)pages1 * PAGE;
	for (unsigned i = 0; i < nwin; i++) {
		if (!(win[i].host = malloc(win[i].size)))
			abort();
		fill(&win[i], i ? win[0].size : 0, data + HDR, size - HDR, (data[2] >> 5) & 3, pages0);
	}
	memcpy(snap, win[0].host, win[0].size);
	if (nwin > 1)
		memcpy(snap + win[0].size, win[1].host, win[1].size);
}

/* Does window i hold what it was filled with? */
static bool win_same(unsigned i)
{
	return !memcmp(win[i].host, snap + (i ? win[0].size : 0), win[i].size);
}

static bool host_same(void)
{
	return win_same(0) && (nwin < 2 || win_same(1));
}

/* ---- The walks ---------------------------------------------------------------------- */

static struct {
	uint64_t inputs, ok, dte, prp_offset, sgl, invalid, contig;
} stats;

static bool st_allowed(uint16_t st, unsigned psdt, bool admin)
{
	if (psdt == 3 || (psdt && admin))
		return st == ST_INVALID_FIELD;
	if (st == 0 || st == ST_DTE)
		return true;
	if (psdt == NVME_PSDT_PRP)
		return st == ST_PRP_OFFSET;
	return st == ST_SGL_SEG || st == ST_SGL_NUM || st == ST_SGL_LEN || st == ST_SGL_TYPE;
}

static uint16_t walk(struct fdr_req *req, enum pcie_dma_mode mode, uint64_t limit)
{
	memset(&tr, 0, sizeof(tr));
	tr.limit = limit;
	return pcie_dma_walk(&pcie, req, mode);
}

/* The single pieces pcie_dma_contig() must find, and what it returns. */
static void check_contig(struct fdr_req *req, unsigned psdt, bool write, const uint8_t *read,
			 uint8_t *pattern)
{
	const struct nvme_sgl_desc *s1 = &req->cmd.dptr.sgl1;
	uint64_t prp1 = req->cmd.dptr.prp1, prp2 = req->cmd.dptr.prp2;
	uint32_t len = req->data_len, first = PAGE - (uint32_t)(prp1 & (PAGE - 1));
	const struct win *w = NULL;
	bool want;
	uint8_t *h;

	if (psdt == NVME_PSDT_PRP)
		want = len <= first || (len - first <= PAGE && prp2 == prp1 + first &&
					lookup(prp1, len, write));
	else
		want = s1->type == NVME_SGL_TYPE_DATA_BLOCK << 4 && s1->length == len;
	memset(&tr, 0, sizeof(tr));
	tr.limit = 1;
	h = pcie_dma_contig(&pcie, req);
	if (!h) {
		if (want)
			FUZZ_FAIL("contig: no pointer for a single piece (psdt %u, %u bytes)", psdt, len);
		return;
	}
	stats.contig++;
	for (unsigned i = 0; i < nwin; i++) {
		uintptr_t o = (uintptr_t)h - (uintptr_t)win[i].host; /* huge if below */

		if (o <= win[i].size && len <= win[i].size - o)
			w = &win[i];
	}
	if (!w)
		FUZZ_FAIL("contig: %u bytes not inside one window", len);
	if (!(w->prot & (write ? P_W : P_R)))
		FUZZ_FAIL("contig: window at %#llx does not allow %s", (unsigned long long)w->iova,
			  write ? "writes" : "reads");
	if (memcmp(h, read, len))
		FUZZ_FAIL("contig: %u bytes differ from what the walk read", len);
	if (!write)
		return;
	/* A single piece: writing it lands exactly there. */
	if (walk(req, PCIE_DMA_TO_HOST, 4) || memcmp(h, pattern, len))
		FUZZ_FAIL("contig: writing %u bytes did not land at the pointer", len);
}

static void run(struct fdr_req *req, bool admin)
{
	unsigned psdt = req->cmd.flags >> NVME_CMD_FLAGS_PSDT_SHIFT;
	uint32_t len = req->data_len;
	bool write = req->xfer == NVME_OPC_XFER_FROM_CTRL;
	uint64_t limit = psdt == NVME_PSDT_PRP ? 2 * (len / PAGE) + 4 : SGL_MAX_DESC + 1;
	uint8_t *a = malloc(len), *b = malloc(len);
	uint64_t calls, hash;
	uint16_t st, st2;

	if (!a || !b)
		abort();
	/* Check only: nothing copied, nothing written. */
	req->buf = NULL;
	last_st = st = walk(req, PCIE_DMA_CHECK, limit);
	calls = tr.calls;
	hash = tr.hash;
	if (!st_allowed(st, psdt, admin))
		FUZZ_FAIL("check: status %#x (psdt %u, %s queue)", st, psdt, admin ? "admin" : "I/O");
	if (st == ST_INVALID_FIELD && calls)
		FUZZ_FAIL("check: %llu translations for a refused PSDT", (unsigned long long)calls);
	if (tr.refused != (st == ST_DTE) || (st == ST_DTE && !tr.last_refused))
		FUZZ_FAIL("check: status %#x after %llu of %llu translations refused", st,
			  (unsigned long long)tr.refused, (unsigned long long)calls);
	if (!host_same())
		FUZZ_FAIL("check: host memory changed");

	/* Read twice, into buffers filled differently: a byte the walk
	 * skipped keeps its filling. */
	req->buf = a;
	req->buf_cap = len;
	memset(a, 0, len);
	if ((st2 = walk(req, PCIE_DMA_FROM_HOST, limit)) != st || tr.calls != calls || tr.hash != hash)
		FUZZ_FAIL("from host: status %#x after %llu translations, check %#x after %llu", st2,
			  (unsigned long long)tr.calls, st, (unsigned long long)calls);
	req->buf = b;
	memset(b, 0xff, len);
	if (walk(req, PCIE_DMA_FROM_HOST, limit) != st || tr.hash != hash)
		FUZZ_FAIL("from host: a second read went differently");
	if (!host_same())
		FUZZ_FAIL("from host: host memory changed");
	if (!st && (psdt == NVME_PSDT_PRP || !write) && memcmp(a, b, len))
		FUZZ_FAIL("from host: success, but bytes of the buffer were not read (psdt %u)", psdt);

	/* Back to the host what came from it: the same walk, no change. */
	req->buf = a;
	if ((st2 = walk(req, PCIE_DMA_TO_HOST, limit)) != st || tr.calls != calls || tr.hash != hash)
		FUZZ_FAIL("to host: status %#x after %llu translations, check %#x after %llu", st2,
			  (unsigned long long)tr.calls, st, (unsigned long long)calls);
	if (!host_same())
		FUZZ_FAIL("to host: writing back what was read changed host memory");

	if (st) {
		stats.dte += st == ST_DTE;
		stats.prp_offset += st == ST_PRP_OFFSET;
		stats.invalid += st == ST_INVALID_FIELD;
		stats.sgl += st != ST_DTE && st != ST_PRP_OFFSET && st != ST_INVALID_FIELD;
		goto out;
	}
	stats.ok++;
	for (uint32_t i = 0; i < len; i++)
		b[i] = (uint8_t)(i * 0x9d + 0x5b);
	req->buf = b;
	check_contig(req, psdt, write, a, b);
	if (write) {
		/* New data may rewrite lists and segments on the way: any
		 * ending will do, but only where the host allowed writes. */
		st2 = walk(req, PCIE_DMA_TO_HOST, limit);
		if (!st_allowed(st2, psdt, admin))
			FUZZ_FAIL("to host: status %#x writing new data", st2);
		for (unsigned i = 0; i < nwin; i++)
			if (!(win[i].prot & P_W) && !win_same(i))
				FUZZ_FAIL("to host: window at %#llx changed, not writable",
					  (unsigned long long)win[i].iova);
	}
out:
	req->buf = NULL;
	free(a);
	free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fdr_queue q;
	static struct fdr_req req;
	bool admin;

	if (size < HDR)
		return 0;
	cur_in = data;
	cur_len = size;
	stats.inputs++;
	pcie.srv = (struct fdr_vfu_server *)&win;
	pcie.cfg[0x04] = 0x06; /* memory space, bus master: DMA allowed */
	setup_windows(data, size);
	admin = data[0] & 0x20;
	q.qid = admin ? 0 : 1;
	memset(&req, 0, sizeof(req));
	req.q = &q;
	req.xfer = data[0] & 0x10 ? NVME_OPC_XFER_FROM_CTRL : NVME_OPC_XFER_TO_CTRL;
	req.cmd.flags = data[3];
	memcpy(&req.cmd.dptr, data + 4, 16);
	req.data_len = 1 + ((data[20] | (uint32_t)data[21] << 8 | (uint32_t)data[22] << 16) &
			    (MAX_LEN - 1));
	run(&req, admin);
	for (unsigned i = 0; i < nwin; i++)
		free(win[i].host);
	nwin = 0;
	cur_in = NULL;
	return 0;
}

#ifdef FDR_LIBFUZZER
static void fail_dump(void)
{
	/* libFuzzer saves the input itself. */
}
#else
/* ---- Smoke driver: seeds and mutations of them ------------------------------------------ */

#include "smoke.h"

/* Mode byte 0 */
#define M_RO0 0x01
#define M_RO1 0x04
#define M_WRITE 0x10
#define M_ADMIN 0x20
#define M_PLACE(x) ((x) << 6)
/* Mode byte 1 and byte 2 */
#define M_PAGES(n) ((n) - 1)
#define M_CUT0(c) ((c) << 5)
#define M_CUT1(c) ((c) << 3)
#define M_FILL(f) ((f) << 5)

#define PSDT_PRP 0
#define PSDT_SGL (NVME_PSDT_SGL_MPTR_CONTIG << NVME_CMD_FLAGS_PSDT_SHIFT)
#define PSDT_SGL2 (NVME_PSDT_SGL_MPTR_SGL << NVME_CMD_FLAGS_PSDT_SHIFT)

/* SGL descriptor types, identifier byte (type << 4, subtype 0) */
#define D_DATA 0x00
#define D_BUCKET 0x10
#define D_SEG 0x20
#define D_LAST 0x30

#define IMG_MAX 16384

struct seed {
	uint8_t b[HDR + IMG_MAX];
	size_t len;
	uint16_t want; /* status of the seed itself */
};

static void put64(struct seed *s, uint32_t off, uint64_t v)
{
	for (unsigned i = 0; i < 8; i++)
		s->b[HDR + off + i] = (uint8_t)(v >> (8 * i));
	if (s->len < HDR + off + 8)
		s->len = HDR + off + 8;
}

static void begin(struct seed *s, uint8_t m0, uint8_t m1, uint8_t m2, uint8_t flags, uint64_t d0,
		  uint64_t d1, uint32_t len, uint16_t want)
{
	memset(s, 0, sizeof(*s));
	s->b[0] = m0;
	s->b[1] = m1;
	s->b[2] = m2;
	s->b[3] = flags;
	for (unsigned i = 0; i < 8; i++) {
		s->b[4 + i] = (uint8_t)(d0 >> (8 * i));
		s->b[12 + i] = (uint8_t)(d1 >> (8 * i));
	}
	s->b[20] = (uint8_t)(len - 1);
	s->b[21] = (uint8_t)((len - 1) >> 8);
	s->b[22] = (uint8_t)((len - 1) >> 16);
	s->len = HDR;
	s->want = want;
}

/* SGL1 in the command. */
static void begin_sgl(struct seed *s, uint8_t m0, uint8_t m1, uint8_t m2, uint64_t addr,
		      uint32_t dlen, uint8_t type, uint32_t len, uint16_t want)
{
	begin(s, m0, m1, m2, PSDT_SGL, addr, dlen | (uint64_t)type << 56, len, want);
}

/* An SGL descriptor in window 0 at off. */
static void desc(struct seed *s, uint32_t off, uint64_t addr, uint32_t dlen, uint8_t type)
{
	put64(s, off, addr);
	put64(s, off + 8, dlen | (uint64_t)type << 56);
}

#define NR_SEEDS 27

static void make_seed(struct seed *s, unsigned which)
{
	const uint8_t m1 = M_PAGES(16), m2 = M_PAGES(4); /* windows 0 and 1: 64 and 16 KiB */
	const uint64_t w1 = IOVA0 + 16 * PAGE;

	switch (which) {
	case 0: /* PRP1 alone, admin queue */
		begin(s, M_ADMIN, m1, m2, PSDT_PRP, IOVA0 + 0x1200, 0, 512, 0);
		put64(s, 0x1200, 0x0123456789abcdefull);
		break;
	case 1: /* PRP1 and the page after it: one piece */
		begin(s, M_WRITE, m1, m2, PSDT_PRP, IOVA0 + 0x1800, IOVA0 + 0x2000, 4096, 0);
		break;
	case 2: /* PRP1 and PRP2 apart */
		begin(s, 0, m1, m2, PSDT_PRP, IOVA0 + 0x1000, IOVA0 + 0x5000, 8192, 0);
		break;
	case 3: /* PRP2 in read-only window 1, the device writes */
		begin(s, M_WRITE | M_RO1, m1, m2, PSDT_PRP, IOVA0 + 0xf000, w1, 6000, ST_DTE);
		break;
	case 4: { /* a PRP list chained from the end of page 0 to its middle */
		begin(s, 0, m1, m2, PSDT_PRP, IOVA0 + 0x1f00, IOVA0 + 0xfe0, 10 * PAGE + 100, 0);
		for (unsigned k = 0; k < 3; k++)
			put64(s, 0xfe0 + 8 * k, IOVA0 + (2 + k) * PAGE);
		put64(s, 0xff8, IOVA0 + 0x800);
		for (unsigned k = 3; k < 10; k++)
			put64(s, 0x800 + 8 * (k - 3), IOVA0 + (2 + k) * PAGE);
		break;
	}
	case 5: /* 256 KiB through one list; every qword is a valid entry */
		begin(s, M_WRITE, M_PAGES(32), M_PAGES(1) | M_FILL(2), PSDT_PRP, IOVA0,
		      IOVA0 + PAGE, MAX_LEN, 0);
		break;
	case 6: /* a list whose only entry chains to itself */
		begin(s, 0, m1, m2, PSDT_PRP, IOVA0 + PAGE, IOVA0 + 0xff8, 3 * PAGE, ST_PRP_OFFSET);
		put64(s, 0xff8, IOVA0 + 0xff8);
		break;
	case 7: /* PRP2 not page aligned */
		begin(s, 0, m1, m2, PSDT_PRP, IOVA0 + 0x1000, IOVA0 + 0x2010, 6000, ST_PRP_OFFSET);
		break;
	case 8: /* PRP1 in the last page of IOVA space, PRP2 at 0 */
		begin(s, M_PLACE(2) | M_WRITE, m1, m2, PSDT_PRP, 0 - 0x800ull, 0, 4096, 0);
		break;
	case 9: /* one Data Block, unaligned: one piece */
		begin_sgl(s, M_WRITE, m1, m2, IOVA0 + 0x3007, 5000, D_DATA, 5000, 0);
		break;
	case 10: /* one Data Block ending at the last byte of a cut window 0 */
		begin_sgl(s, 0, m1 | M_CUT0(2), m2, IOVA0 + 16 * PAGE - 8 - 100, 100, D_DATA, 100, 0);
		break;
	case 11: /* one Data Block from window 0 into window 1 */
		begin_sgl(s, 0, m1, m2, w1 - 16, 32, D_DATA, 32, ST_DTE);
		break;
	case 12: /* Segment, then Last Segment with a bit bucket: the device writes */
	case 13: /* ... the host writes: the bit bucket is ignored */
		begin_sgl(s, which == 12 ? M_WRITE : 0, m1, m2, IOVA0 + 0x100, 32, D_SEG,
			  which == 12 ? 3596 : 3500, 0);
		s->b[3] = PSDT_SGL2;
		desc(s, 0x100, IOVA0 + 0x2000, 1000, D_DATA);
		desc(s, 0x110, IOVA0 + 0x200, 48, D_LAST);
		desc(s, 0x200, IOVA0 + 0x3000, 2000, D_DATA);
		desc(s, 0x210, 0, 96, D_BUCKET);
		desc(s, 0x220, IOVA0 + 0x4000, 500, D_DATA);
		break;
	case 14: /* SGL1 a Last Segment; a zero-length Data Block in it */
		begin_sgl(s, 0, m1, m2, IOVA0 + 0x400, 48, D_LAST, 4096 + 17, 0);
		desc(s, 0x400, IOVA0 + 0x5000, 4096, D_DATA);
		desc(s, 0x410, IOVA0 + 0x9000, 0, D_DATA);
		desc(s, 0x420, IOVA0 + 0x6ff1, 17, D_DATA);
		break;
	case 15: /* a segment that names itself */
		begin_sgl(s, 0, m1, m2, IOVA0 + 0x300, 16, D_SEG, 4096, ST_SGL_SEG);
		desc(s, 0x300, IOVA0 + 0x300, 16, D_SEG);
		break;
	case 16: /* two segments that name each other, data in each */
		begin_sgl(s, M_WRITE, m1, m2, IOVA0 + 0x500, 32, D_SEG, 1000, ST_SGL_LEN);
		desc(s, 0x500, IOVA0 + 0x8000, 1, D_DATA);
		desc(s, 0x510, IOVA0 + 0x600, 32, D_SEG);
		desc(s, 0x600, IOVA0 + 0x8001, 1, D_DATA);
		desc(s, 0x610, IOVA0 + 0x500, 32, D_SEG);
		break;
	case 17: /* the largest segment: 8192 empty Data Blocks */
		begin_sgl(s, 0, M_PAGES(32), m2, IOVA0, SGL_MAX_DESC * 16, D_LAST, 512, ST_SGL_LEN);
		break;
	case 18: /* a Segment descriptor before the end of its segment */
		begin_sgl(s, 0, m1, m2, IOVA0 + 0x700, 32, D_SEG, 512, ST_SGL_NUM);
		desc(s, 0x700, IOVA0 + 0x800, 16, D_LAST);
		desc(s, 0x710, IOVA0 + 0x2000, 512, D_DATA);
		break;
	case 19: /* a Segment after a Last Segment */
		begin_sgl(s, 0, m1, m2, IOVA0 + 0x700, 16, D_LAST, 512, ST_SGL_SEG);
		desc(s, 0x700, IOVA0 + 0x800, 16, D_SEG);
		break;
	case 20: /* only a bit bucket: the device writes nothing */
		begin_sgl(s, M_WRITE, m1, m2, 0, 4096, D_BUCKET, 4096, 0);
		break;
	case 21: /* a bit bucket with an Offset subtype */
		begin_sgl(s, M_WRITE, m1, m2, 0, 4096, D_BUCKET | 1, 4096, ST_SGL_TYPE);
		break;
	case 22: /* a Keyed Data Block (fabrics only) */
		begin_sgl(s, 0, m1, m2, IOVA0, 4096, 0x40, 4096, ST_SGL_TYPE);
		break;
	case 23: /* an SGL on the admin queue */
		begin_sgl(s, M_ADMIN, m1, m2, IOVA0, 4096, D_DATA, 4096, ST_INVALID_FIELD);
		break;
	case 24: /* the device writes a segment in read-only window 0: data ok, list read */
		begin_sgl(s, M_WRITE | M_RO0 | M_PLACE(0), m1, m2, IOVA0 + 0x100, 32, D_LAST, 8192, 0);
		desc(s, 0x100, w1, 4096, D_DATA);
		desc(s, 0x110, w1 + 2 * PAGE, 4096, D_DATA);
		break;
	case 25: /* a segment past 2^64 */
		begin_sgl(s, M_PLACE(2), m1, m2, 0 - 16ull, 32, D_SEG, 512, ST_SGL_LEN);
		break;
	default: /* a Data Block longer than the command */
		begin_sgl(s, 0, m1, m2, IOVA0, 4097, D_DATA, 4096, ST_SGL_LEN);
		break;
	}
}

static void mutate(struct seed *s)
{
	static const uint8_t vals[] = { 0, 1, 7, 8, 0x10, 0x20, 0x30, 0x40, 0x80, 0xc0, 0xf0,
					0xf8, 0xff };
	static const int64_t deltas[] = { 1, -1, 8, -8, 16, -16, 0x800, PAGE, -(int64_t)PAGE };
	unsigned qwords = s->len > HDR + 8 ? (unsigned)(s->len - HDR) / 8 : 0;

	if (rnd(4) == 0)
		s->b[0] ^= (uint8_t)(1u << rnd(8));
	if (rnd(4) == 0)
		s->b[1] ^= (uint8_t)(1u << rnd(8));
	/* Addresses and lengths nearby: in the DPTR or a qword of host
	 * memory (an SGL descriptor's length is its second qword). */
	for (unsigned m = rnd(3); m; m--) {
		unsigned off = qwords && rnd(3) ? HDR + 8 * rnd(qwords) : 4 + 8 * rnd(2);
		uint64_t v;

		memcpy(&v, s->b + off, 8);
		v += (uint64_t)deltas[rnd(sizeof(deltas) / sizeof(deltas[0]))];
		memcpy(s->b + off, &v, 8);
	}
	if (rnd(4) == 0) { /* the data length */
		uint32_t len = s->b[20] | (uint32_t)s->b[21] << 8 | (uint32_t)s->b[22] << 16;

		len += (uint32_t)deltas[rnd(sizeof(deltas) / sizeof(deltas[0]))];
		s->b[20] = (uint8_t)len;
		s->b[21] = (uint8_t)(len >> 8);
		s->b[22] = (uint8_t)(len >> 16);
	}
	if (rnd(3) == 0)
		s->len = fuzz_mutate(s->b, s->len, sizeof(s->b), vals, (unsigned)sizeof(vals));
}

static void fail_dump(void)
{
	static const char path[] = "fuzz_pcie_dma-fail.bin";
	FILE *f;

	if (!cur_in || !(f = fopen(path, "wb")))
		return;
	if (fwrite(cur_in, 1, cur_len, f) == cur_len && !fclose(f))
		fprintf(stderr, "fuzz_pcie_dma: input saved as %s (replay with --replay)\n", path);
}

static int write_seeds(const char *dir)
{
	static struct seed s;

	for (unsigned i = 0; i < NR_SEEDS; i++) {
		char path[4096];
		FILE *f;

		snprintf(path, sizeof(path), "%s/seed-%u", dir, i);
		make_seed(&s, i);
		if (!(f = fopen(path, "wb")) || fwrite(s.b, 1, s.len, f) != s.len || fclose(f)) {
			perror(path);
			return 1;
		}
	}
	return 0;
}

static int replay(int n, char **files)
{
	static struct seed s;

	for (int i = 0; i < n; i++) {
		FILE *f = fopen(files[i], "rb");

		if (!f) {
			perror(files[i]);
			return 1;
		}
		s.len = fread(s.b, 1, sizeof(s.b), f);
		fclose(f);
		printf("%s: %zu bytes\n", files[i], s.len);
		fflush(stdout);
		LLVMFuzzerTestOneInput(s.b, s.len);
	}
	return 0;
}

/* fuzz_pcie_dma_smoke [iterations] | --seeds DIR | --replay FILE... */
int main(int argc, char **argv)
{
	static struct seed s;
	unsigned iters = argc > 1 ? (unsigned)atoi(argv[1]) : 3000;

	if (argc > 2 && strcmp(argv[1], "--seeds") == 0)
		return write_seeds(argv[2]);
	if (argc > 1 && strcmp(argv[1], "--replay") == 0)
		return replay(argc - 2, argv + 2);
	/* The seeds end as they should: the harness reaches what it means to. */
	for (unsigned i = 0; i < NR_SEEDS; i++) {
		make_seed(&s, i);
		LLVMFuzzerTestOneInput(s.b, s.len);
		if (last_st != s.want) {
			cur_in = s.b;
			cur_len = s.len;
			FUZZ_FAIL("seed %u: status %#x, expected %#x", i, last_st, s.want);
		}
	}
	for (unsigned i = 0; i < iters; i++) {
		make_seed(&s, rnd(NR_SEEDS));
		mutate(&s);
		LLVMFuzzerTestOneInput(s.b, s.len);
	}
	printf("fuzz_pcie_dma smoke: %llu inputs ok: %llu moved data (%llu contiguous), refused: "
	       "%llu DTE, %llu PRP offset, %llu SGL, %llu invalid field\n",
	       (unsigned long long)stats.inputs, (unsigned long long)stats.ok,
	       (unsigned long long)stats.contig, (unsigned long long)stats.dte,
	       (unsigned long long)stats.prp_offset, (unsigned long long)stats.sgl,
	       (unsigned long long)stats.invalid);
	return 0;
}
#endif

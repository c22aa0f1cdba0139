/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * SGLs on the NVMe PCIe function (src/transport/pcie/pcie_dma.c), end to
 * end through the shared test host (pcie_host.c): data blocks, segment
 * chains, bit buckets, the statuses for bad SGLs, memory the host did not
 * map, chains that loop, and the flight recorder's record of refusals.
 */
#include "pcie_host.h"

#include <stdio.h>
#include <string.h>

#if FDR_HAVE_RECORDER
#include "recorder/recorder.h"
#endif


static const char *const drive_args[] = {
	"--ns", "ram,size=16M,lba=512",
	"--queues", "4",
	"-n", ITEST_NQN,
	"--no-ctl",
	"--vfio-user", "@TMP@/vfu",
	"--record", "@TMP@/ring",
	NULL,
};

/* Host memory beside pcie_host.h's: segments and scattered buffers. */
#define SEG_A 0x7000u
#define SEG_B 0x8000u
#define SEG_C 0x9000u
#define SEG_D 0xa000u
#define SRC_OFF 0x30000u  /* 64 KiB of scattered source pieces */
#define DST_OFF 0x40000u  /* 64 KiB of scattered destination pieces */
#define SENT_OFF 0x50000u /* a sentinel page nothing may write */
#define REGION 0x10000u
#define UNMAPPED 0x70000000ull
#define POISON 0xee

#define DB NVME_SGL_TYPE_DATA_BLOCK
#define BB NVME_SGL_TYPE_BIT_BUCKET
#define SEG NVME_SGL_TYPE_SEGMENT
#define LAST NVME_SGL_TYPE_LAST_SEGMENT
#define ST(sc) NVME_STATUS(NVME_SCT_GENERIC, (sc))
#define DNR_OF(cqe) (((cqe).status >> 15) & 1)
#define A(off) (IOVA + (off))

static struct nvme_sgl_desc desc_sub(uint64_t addr, uint32_t len, uint8_t type, uint8_t sub)
{
	struct nvme_sgl_desc d;

	memset(&d, 0, sizeof(d));
	d.addr = addr;
	d.length = len;
	d.type = (uint8_t)(type << 4 | sub);
	return d;
}

static struct nvme_sgl_desc desc(uint64_t addr, uint32_t len, uint8_t type)
{
	return desc_sub(addr, len, type, NVME_SGL_SUBTYPE_ADDRESS);
}

static void put_seg(struct env *e, uint32_t off, const struct nvme_sgl_desc *d, unsigned n)
{
	memcpy(e->mem + off, d, n * sizeof(*d));
}

/* Read or write len bytes at slba of namespace 1 with SGL1 = sgl1. */
static struct nvme_cqe sgl_rw_psdt(struct env *e, uint8_t opc, uint64_t slba, uint32_t len,
				   struct nvme_sgl_desc sgl1, uint8_t psdt)
{
	struct nvme_sqe c = { .opc = opc, .nsid = 1 };

	c.flags = (uint8_t)(psdt << NVME_CMD_FLAGS_PSDT_SHIFT);
	c.cdw10 = (uint32_t)slba;
	c.cdw11 = (uint32_t)(slba >> 32);
	c.cdw12 = len / 512 - 1;
	c.dptr.sgl1 = sgl1;
	return cmd_sync(e, &e->sq1, &e->cq1, &c);
}

static struct nvme_cqe sgl_rw(struct env *e, uint8_t opc, uint64_t slba, uint32_t len,
			      struct nvme_sgl_desc sgl1)
{
	return sgl_rw_psdt(e, opc, slba, len, sgl1, NVME_PSDT_SGL_MPTR_CONTIG);
}

/* A refusal of a bad SGL: the status, with DNR. */
static void assert_sgl_error(struct nvme_cqe cqe, uint8_t sc)
{
	assert_int_equal(SC_OF(cqe), ST(sc));
	assert_int_equal(DNR_OF(cqe), 1);
}

/* The test's host, closed by close_env() even after a failed assertion,
 * so that the next test can attach. */
static struct env g_env;
static bool g_env_open;

static struct env *open_env(void)
{
	env_open(&g_env);
	g_env_open = true;
	enable(&g_env);
	return &g_env;
}

/* Enabled, I/O queue 1, the scattered buffers poisoned. */
static struct env *open_io(void)
{
	struct env *e = open_env();

	create_ioq(e, false, 0);
	memset(e->mem + SRC_OFF, POISON, 3 * REGION);
	return e;
}

static int close_env(void **state)
{
	(void)state;
	if (g_env_open)
		env_close(&g_env);
	g_env_open = false;
	return 0;
}

/* len bytes at slba through PRPs into RBUF_OFF (page aligned, a list). */
static void prp_read(struct env *e, uint64_t slba, uint32_t len)
{
	uint64_t *prpl = (uint64_t *)(e->mem + PRPL_OFF);
	struct nvme_cqe cqe;

	for (unsigned i = 1; i < len / 4096; i++)
		prpl[i - 1] = A(RBUF_OFF) + 4096ull * i;
	memset(e->mem + RBUF_OFF, 0, len);
	cqe = rw(e, NVME_IO_READ, slba, len, A(RBUF_OFF),
		 len <= 4096 ? 0 : len <= 8192 ? A(RBUF_OFF) + 4096 : A(PRPL_OFF));
	assert_int_equal(SC_OF(cqe), 0);
}

/* len bytes of known data at slba through PRPs; the data is left at WBUF_OFF. */
static void prp_write(struct env *e, uint64_t slba, uint32_t len, uint64_t seed)
{
	uint64_t *prpl = (uint64_t *)(e->mem + PRPL_OFF);
	struct nvme_cqe cqe;

	itest_fill(e->mem + WBUF_OFF, len, seed);
	for (unsigned i = 1; i < len / 4096; i++)
		prpl[i - 1] = A(WBUF_OFF) + 4096ull * i;
	cqe = rw(e, NVME_IO_WRITE, slba, len, A(WBUF_OFF),
		 len <= 4096 ? 0 : len <= 8192 ? A(WBUF_OFF) + 4096 : A(PRPL_OFF));
	assert_int_equal(SC_OF(cqe), 0);
}

static void test_identify_sgls(void **state)
{
	struct env *e;
	struct nvme_id_ctrl id;

	(void)state;
	e = open_env();
	identify(e, &id);
	/* SGLs with no alignment requirement (1:0 = 01b), Bit Bucket (16);
	 * not Keyed (2), LLDTS (18), MPTR SGLs (19), offsets (20, 21). */
	assert_int_equal(id.sgls & 3, 1);
	assert_int_equal(id.sgls, 1u << 16 | 1u);
}

/* One Data Block each way, at odd addresses, with both SGL PSDTs. */
static void test_one_data_block(void **state)
{
	struct env *e;
	struct nvme_cqe cqe;
	uint8_t *src, *dst;

	(void)state;
	e = open_io();
	src = e->mem + SRC_OFF + 0x123;
	dst = e->mem + DST_OFF + 0x7;
	itest_fill(src, 8192, 11);
	cqe = sgl_rw(e, NVME_IO_WRITE, 100, 8192, desc(A(SRC_OFF + 0x123), 8192, DB));
	assert_int_equal(SC_OF(cqe), 0);
	/* On the media: read back through PRPs. */
	prp_read(e, 100, 8192);
	assert_true(itest_same(src, e->mem + RBUF_OFF, 8192, "SGL write, PRP read"));
	cqe = sgl_rw_psdt(e, NVME_IO_READ, 100, 8192, desc(A(DST_OFF + 0x7), 8192, DB),
			  NVME_PSDT_SGL_MPTR_SGL);
	assert_int_equal(SC_OF(cqe), 0);
	assert_true(itest_same(src, dst, 8192, "SGL read"));
	/* Not a byte around it. */
	for (unsigned i = 0; i < 7; i++)
		assert_int_equal(e->mem[DST_OFF + i], POISON);
	for (unsigned i = 0; i < 64; i++)
		assert_int_equal(dst[8192 + i], POISON);
}

struct piece {
	uint32_t off; /* in host memory */
	uint32_t len;
};

/* Segment -> Last Segment, segments not page aligned, several
 * non-contiguous data blocks and a NULL descriptor. */
static void test_segment_chain_write(void **state)
{
	static const struct piece src[] = {
		{ SRC_OFF + 0x0001, 1000 }, { SRC_OFF + 0x2003, 3000 }, { SRC_OFF + 0x5000, 5000 },
		{ SRC_OFF + 0x8005, 2384 }, { SRC_OFF + 0xa000, 5000 },
	};
	static uint8_t want[16384];
	struct nvme_sgl_desc a[4], b[3];
	uint32_t at = 0;
	struct env *e;
	struct nvme_cqe cqe;

	(void)state;
	e = open_io();
	for (unsigned i = 0; i < 5; i++) {
		itest_fill(e->mem + src[i].off, src[i].len, 20 + i);
		memcpy(want + at, e->mem + src[i].off, src[i].len);
		at += src[i].len;
	}
	assert_int_equal(at, 16384);
	for (unsigned i = 0; i < 3; i++)
		a[i] = desc(A(src[i].off), src[i].len, DB);
	a[3] = desc(A(SEG_B + 0x128), sizeof(b), LAST);
	b[0] = desc(A(src[3].off), src[3].len, DB);
	b[1] = desc(0, 0, DB); /* NULL descriptor */
	b[2] = desc(A(src[4].off), src[4].len, DB);
	put_seg(e, SEG_A + 0x30, a, 4);
	put_seg(e, SEG_B + 0x128, b, 3);
	cqe = sgl_rw(e, NVME_IO_WRITE, 200, 16384, desc(A(SEG_A + 0x30), sizeof(a), SEG));
	assert_int_equal(SC_OF(cqe), 0);
	prp_read(e, 200, 16384);
	assert_true(itest_same(want, e->mem + RBUF_OFF, 16384, "chained SGL write"));
}

/* Segment -> Segment -> Last Segment into scattered destination pieces:
 * they get their slices, and nothing between them changes. */
static void test_segment_chain_read(void **state)
{
	static const struct piece dst[] = {
		{ DST_OFF + 0xf001, 1 },    { DST_OFF + 0xc003, 4095 }, { DST_OFF + 0x0010, 6000 },
		{ DST_OFF + 0x9000, 288 },  { DST_OFF + 0x3000, 6000 },
	};
	static uint8_t model[REGION];
	struct nvme_sgl_desc c[3], d[2], f[2];
	uint32_t at = 0;
	struct env *e;
	struct nvme_cqe cqe;

	(void)state;
	e = open_io();
	prp_write(e, 300, 16384, 33);
	memset(model, POISON, REGION);
	for (unsigned i = 0; i < 5; i++) {
		memcpy(model + dst[i].off - DST_OFF, e->mem + WBUF_OFF + at, dst[i].len);
		at += dst[i].len;
	}
	assert_int_equal(at, 16384);
	c[0] = desc(A(dst[0].off), dst[0].len, DB);
	c[1] = desc(A(dst[1].off), dst[1].len, DB);
	c[2] = desc(A(SEG_D + 0x8), sizeof(d), SEG);
	d[0] = desc(A(dst[2].off), dst[2].len, DB);
	d[1] = desc(A(SEG_C + 0x800), sizeof(f), LAST);
	f[0] = desc(A(dst[3].off), dst[3].len, DB);
	f[1] = desc(A(dst[4].off), dst[4].len, DB);
	put_seg(e, SEG_C + 0x10, c, 3);
	put_seg(e, SEG_D + 0x8, d, 2);
	put_seg(e, SEG_C + 0x800, f, 2);
	cqe = sgl_rw(e, NVME_IO_READ, 300, 16384, desc(A(SEG_C + 0x10), sizeof(c), SEG));
	assert_int_equal(SC_OF(cqe), 0);
	assert_true(itest_same(model, e->mem + DST_OFF, REGION, "chained SGL read"));
}

static void test_bit_bucket(void **state)
{
	static uint8_t model[REGION], data[4096], sent[4096];
	struct nvme_sgl_desc s[4];
	struct env *e;
	struct nvme_cqe cqe;

	(void)state;
	e = open_io();
	prp_write(e, 400, 4096, 44);
	memcpy(data, e->mem + WBUF_OFF, 4096);
	memset(sent, POISON, 4096);
	/* Read: 512 kept, 1024 discarded, 2048 kept, 512 discarded.  The
	 * buckets' reserved address fields point at the sentinel page. */
	s[0] = desc(A(DST_OFF + 0x10), 512, DB);
	s[1] = desc(A(SENT_OFF), 1024, BB);
	s[2] = desc(A(DST_OFF + 0x400), 2048, DB);
	s[3] = desc(A(SENT_OFF + 0x800), 512, BB);
	put_seg(e, SEG_A + 0x40, s, 4);
	cqe = sgl_rw(e, NVME_IO_READ, 400, 4096, desc(A(SEG_A + 0x40), sizeof(s), LAST));
	assert_int_equal(SC_OF(cqe), 0);
	memset(model, POISON, REGION);
	memcpy(model + 0x10, data, 512);
	memcpy(model + 0x400, data + 1536, 2048);
	assert_true(itest_same(model, e->mem + DST_OFF, REGION, "read around bit buckets"));
	assert_true(itest_same(sent, e->mem + SENT_OFF, 4096, "bit bucket sentinel"));
	/* All of it into one bucket: a valid SGL that moves nothing. */
	cqe = sgl_rw(e, NVME_IO_READ, 400, 4096, desc(A(SENT_OFF), 4096, BB));
	assert_int_equal(SC_OF(cqe), 0);
	assert_true(itest_same(sent, e->mem + SENT_OFF, 4096, "all in the bucket"));
	/* In a write a bucket has no effect and no length: 1024 + 1024. */
	itest_fill(e->mem + SRC_OFF, 1024, 45);
	itest_fill(e->mem + SRC_OFF + 0x2000, 1024, 46);
	s[0] = desc(A(SRC_OFF), 1024, DB);
	s[1] = desc(A(SENT_OFF), 4096, BB);
	s[2] = desc(A(SRC_OFF + 0x2000), 1024, DB);
	put_seg(e, SEG_A + 0x40, s, 3);
	cqe = sgl_rw(e, NVME_IO_WRITE, 410, 2048, desc(A(SEG_A + 0x40), 3 * 16, LAST));
	assert_int_equal(SC_OF(cqe), 0);
	prp_read(e, 410, 2048);
	assert_true(itest_same(e->mem + SRC_OFF, e->mem + RBUF_OFF, 1024, "write, first block"));
	assert_true(itest_same(e->mem + SRC_OFF + 0x2000, e->mem + RBUF_OFF + 1024, 1024,
			       "write, second block"));
	/* In a read a bucket counts: 4096 + 512 is too long for 4096. */
	s[0] = desc(A(DST_OFF), 4096, DB);
	s[1] = desc(0, 512, BB);
	put_seg(e, SEG_A + 0x40, s, 2);
	cqe = sgl_rw(e, NVME_IO_READ, 400, 4096, desc(A(SEG_A + 0x40), 2 * 16, LAST));
	assert_sgl_error(cqe, NVME_SC_DATA_SGL_LENGTH_INVALID);
}

static void test_data_block_unmapped(void **state)
{
	struct nvme_sgl_desc s[2];
	struct env *e;
	struct nvme_cqe cqe;

	(void)state;
	e = open_io();
	cqe = sgl_rw(e, NVME_IO_READ, 0, 4096, desc(UNMAPPED, 4096, DB));
	assert_int_equal(SC_OF(cqe), ST(NVME_SC_DATA_TRANSFER_ERROR));
	cqe = sgl_rw(e, NVME_IO_WRITE, 0, 4096, desc(UNMAPPED, 4096, DB));
	assert_int_equal(SC_OF(cqe), ST(NVME_SC_DATA_TRANSFER_ERROR));
	/* Straddling the end of the mapping. */
	cqe = sgl_rw(e, NVME_IO_READ, 0, 512, desc(IOVA + MEM_SIZE - 100, 512, DB));
	assert_int_equal(SC_OF(cqe), ST(NVME_SC_DATA_TRANSFER_ERROR));
	/* The second block of a segment: checked before anything moves. */
	s[0] = desc(A(DST_OFF), 512, DB);
	s[1] = desc(UNMAPPED + 0x1000, 512, DB);
	put_seg(e, SEG_A, s, 2);
	cqe = sgl_rw(e, NVME_IO_READ, 0, 1024, desc(A(SEG_A), sizeof(s), LAST));
	assert_int_equal(SC_OF(cqe), ST(NVME_SC_DATA_TRANSFER_ERROR));
	for (unsigned i = 0; i < 512; i++)
		assert_int_equal(e->mem[DST_OFF + i], POISON);
	/* Still serving. */
	assert_int_equal(csts(e) & 3, NVME_CSTS_RDY);
	cqe = sgl_rw(e, NVME_IO_READ, 0, 512, desc(A(DST_OFF), 512, DB));
	assert_int_equal(SC_OF(cqe), 0);
}

static void test_segment_unmapped(void **state)
{
	struct nvme_sgl_desc s[2];
	struct env *e;
	struct nvme_cqe cqe;

	(void)state;
	e = open_io();
	cqe = sgl_rw(e, NVME_IO_READ, 0, 1024, desc(UNMAPPED, 32, LAST));
	assert_int_equal(SC_OF(cqe), ST(NVME_SC_DATA_TRANSFER_ERROR));
	cqe = sgl_rw(e, NVME_IO_WRITE, 0, 1024, desc(UNMAPPED, 32, SEG));
	assert_int_equal(SC_OF(cqe), ST(NVME_SC_DATA_TRANSFER_ERROR));
	/* Half of the segment past the end of the mapping. */
	cqe = sgl_rw(e, NVME_IO_READ, 0, 1024, desc(IOVA + MEM_SIZE - 16, 32, LAST));
	assert_int_equal(SC_OF(cqe), ST(NVME_SC_DATA_TRANSFER_ERROR));
	/* The next segment of a chain. */
	s[0] = desc(A(DST_OFF), 512, DB);
	s[1] = desc(UNMAPPED + 0x2000, 16, LAST);
	put_seg(e, SEG_A + 0x10, s, 2);
	cqe = sgl_rw(e, NVME_IO_READ, 0, 1024, desc(A(SEG_A + 0x10), sizeof(s), SEG));
	assert_int_equal(SC_OF(cqe), ST(NVME_SC_DATA_TRANSFER_ERROR));
	for (unsigned i = 0; i < 512; i++)
		assert_int_equal(e->mem[DST_OFF + i], POISON);
	assert_int_equal(csts(e) & 3, NVME_CSTS_RDY);
}

static void test_length_mismatch(void **state)
{
	struct nvme_sgl_desc s[3];
	struct env *e;
	struct nvme_cqe cqe;

	(void)state;
	e = open_io();
	/* Shorter than the transfer: nothing moves. */
	cqe = sgl_rw(e, NVME_IO_READ, 0, 4096, desc(A(DST_OFF), 4095, DB));
	assert_sgl_error(cqe, NVME_SC_DATA_SGL_LENGTH_INVALID);
	for (unsigned i = 0; i < 4096; i++)
		assert_int_equal(e->mem[DST_OFF + i], POISON);
	s[0] = desc(A(SRC_OFF), 2048, DB);
	s[1] = desc(A(SRC_OFF + 0x1000), 1024, DB);
	put_seg(e, SEG_A, s, 2);
	cqe = sgl_rw(e, NVME_IO_WRITE, 0, 4096, desc(A(SEG_A), 2 * 16, LAST));
	assert_sgl_error(cqe, NVME_SC_DATA_SGL_LENGTH_INVALID);
	/* Longer: SGLS does not offer LLDTS. */
	cqe = sgl_rw(e, NVME_IO_WRITE, 0, 4096, desc(A(SRC_OFF), 4097, DB));
	assert_sgl_error(cqe, NVME_SC_DATA_SGL_LENGTH_INVALID);
	s[0] = desc(A(DST_OFF), 4096, DB);
	s[1] = desc(0, 0, DB);
	s[2] = desc(A(DST_OFF + 0x2000), 16, DB);
	put_seg(e, SEG_A, s, 3);
	cqe = sgl_rw(e, NVME_IO_READ, 0, 4096, desc(A(SEG_A), 3 * 16, LAST));
	assert_sgl_error(cqe, NVME_SC_DATA_SGL_LENGTH_INVALID);
	/* Trailing NULL descriptors are no length at all. */
	cqe = sgl_rw(e, NVME_IO_READ, 0, 4096, desc(A(SEG_A), 2 * 16, LAST));
	assert_int_equal(SC_OF(cqe), 0);
	/* Address + length beyond 2^64. */
	cqe = sgl_rw(e, NVME_IO_READ, 0, 4096, desc(~0ull - 0xff, 4096, DB));
	assert_sgl_error(cqe, NVME_SC_DATA_SGL_LENGTH_INVALID);
}

static void test_descriptor_types(void **state)
{
	static const uint8_t types[] = {
		NVME_SGL_TYPE_KEYED_DATA_BLOCK, NVME_SGL_TYPE_TRANSPORT_DATA_BLOCK, 0x6, 0xe, 0xf,
	};
	struct nvme_sgl_desc s[2];
	struct env *e;
	struct nvme_cqe cqe;

	(void)state;
	e = open_io();
	for (unsigned i = 0; i < sizeof(types); i++) {
		cqe = sgl_rw(e, NVME_IO_READ, 0, 512, desc(A(DST_OFF), 512, types[i]));
		assert_sgl_error(cqe, NVME_SC_SGL_DESC_TYPE_INVALID);
	}
	/* Keyed inside a segment. */
	s[0] = desc(A(DST_OFF), 512, DB);
	s[1] = desc(A(DST_OFF + 512), 512, NVME_SGL_TYPE_KEYED_DATA_BLOCK);
	put_seg(e, SEG_A, s, 2);
	cqe = sgl_rw(e, NVME_IO_READ, 0, 1024, desc(A(SEG_A), sizeof(s), LAST));
	assert_sgl_error(cqe, NVME_SC_SGL_DESC_TYPE_INVALID);
	/* Sub type Offset is reserved on PCIe; a Bit Bucket takes 0h only. */
	cqe = sgl_rw(e, NVME_IO_READ, 0, 512, desc_sub(0, 512, DB, NVME_SGL_SUBTYPE_OFFSET));
	assert_sgl_error(cqe, NVME_SC_SGL_DESC_TYPE_INVALID);
	cqe = sgl_rw(e, NVME_IO_READ, 0, 512, desc_sub(A(SEG_A), 32, LAST, NVME_SGL_SUBTYPE_OFFSET));
	assert_sgl_error(cqe, NVME_SC_SGL_DESC_TYPE_INVALID);
	cqe = sgl_rw(e, NVME_IO_READ, 0, 512, desc_sub(0, 512, BB, 1));
	assert_sgl_error(cqe, NVME_SC_SGL_DESC_TYPE_INVALID);
	cqe = sgl_rw(e, NVME_IO_READ, 0, 512, desc_sub(A(DST_OFF), 512, DB, 0xa));
	assert_sgl_error(cqe, NVME_SC_SGL_DESC_TYPE_INVALID);
}

static void test_segment_rules(void **state)
{
	struct nvme_sgl_desc s[3];
	struct nvme_sqe id = { .opc = NVME_ADM_IDENTIFY, .cdw10 = NVME_CNS_CTRL };
	struct env *e;
	struct nvme_cqe cqe;

	(void)state;
	e = open_io();
	s[0] = desc(A(DST_OFF), 512, DB);
	put_seg(e, SEG_B, s, 1);
	/* A segment pointer before the segment's last descriptor. */
	s[0] = desc(A(SEG_B), 16, LAST);
	s[1] = desc(A(DST_OFF + 512), 512, DB);
	put_seg(e, SEG_A, s, 2);
	cqe = sgl_rw(e, NVME_IO_READ, 0, 1024, desc(A(SEG_A), 2 * 16, SEG));
	assert_sgl_error(cqe, NVME_SC_INVALID_NUM_SGL_DESCS);
	/* A last segment that goes on. */
	s[0] = desc(A(DST_OFF + 512), 512, DB);
	s[1] = desc(A(SEG_B), 16, LAST);
	put_seg(e, SEG_A, s, 2);
	cqe = sgl_rw(e, NVME_IO_READ, 0, 1024, desc(A(SEG_A), 2 * 16, LAST));
	assert_sgl_error(cqe, NVME_SC_INVALID_SGL_SEG_DESC);
	/* ... which is fine from a Segment. */
	cqe = sgl_rw(e, NVME_IO_READ, 0, 1024, desc(A(SEG_A), 2 * 16, SEG));
	assert_int_equal(SC_OF(cqe), 0);
	/* Segment lengths: zero, not a multiple of 16; an address that is
	 * not qword aligned. */
	cqe = sgl_rw(e, NVME_IO_READ, 0, 512, desc(A(SEG_B), 0, LAST));
	assert_sgl_error(cqe, NVME_SC_INVALID_SGL_SEG_DESC);
	cqe = sgl_rw(e, NVME_IO_READ, 0, 512, desc(A(SEG_B), 24, SEG));
	assert_sgl_error(cqe, NVME_SC_INVALID_SGL_SEG_DESC);
	memmove(e->mem + SEG_B + 4, e->mem + SEG_B, 16);
	cqe = sgl_rw(e, NVME_IO_READ, 0, 512, desc(A(SEG_B + 4), 16, LAST));
	assert_sgl_error(cqe, NVME_SC_INVALID_SGL_SEG_DESC);
	/* PSDT 11b is reserved; admin commands on PCIe take PRPs only. */
	cqe = sgl_rw_psdt(e, NVME_IO_READ, 0, 512, desc(A(DST_OFF), 512, DB), 3);
	assert_int_equal(SC_OF(cqe), ST(NVME_SC_INVALID_FIELD));
	id.flags = NVME_PSDT_SGL_MPTR_CONTIG << NVME_CMD_FLAGS_PSDT_SHIFT;
	id.dptr.sgl1 = desc(A(IDBUF_OFF), 4096, DB);
	memset(e->mem + IDBUF_OFF, POISON, 4096);
	cqe = admin(e, &id);
	assert_int_equal(SC_OF(cqe), ST(NVME_SC_INVALID_FIELD));
	assert_int_equal(e->mem[IDBUF_OFF], POISON);
}

/* Chains that loop end with an error, in time, and the drive goes on. */
static void test_segment_loop(void **state)
{
	struct nvme_sgl_desc s[256];
	struct env *e;
	struct nvme_cqe cqe;
	uint64_t t0;

	(void)state;
	e = open_io();
	/* A segment that is only a pointer to itself. */
	s[0] = desc(A(SEG_A), 16, SEG);
	put_seg(e, SEG_A, s, 1);
	t0 = now_ms();
	cqe = sgl_rw(e, NVME_IO_READ, 0, 512, desc(A(SEG_A), 16, SEG));
	assert_sgl_error(cqe, NVME_SC_INVALID_SGL_SEG_DESC);
	/* A page of NULL descriptors, then back to its start. */
	for (unsigned i = 0; i < 255; i++)
		s[i] = desc(0, 0, DB);
	s[255] = desc(A(SEG_B), sizeof(s), SEG);
	put_seg(e, SEG_B, s, 256);
	cqe = sgl_rw(e, NVME_IO_WRITE, 0, 512, desc(A(SEG_B), sizeof(s), SEG));
	assert_sgl_error(cqe, NVME_SC_INVALID_SGL_SEG_DESC);
	/* Two segments with data, pointing at each other: too long. */
	s[0] = desc(A(DST_OFF), 512, DB);
	s[1] = desc(A(SEG_D + 0x20), 32, SEG);
	put_seg(e, SEG_C + 0x20, s, 2);
	s[1] = desc(A(SEG_C + 0x20), 32, SEG);
	put_seg(e, SEG_D + 0x20, s, 2);
	cqe = sgl_rw(e, NVME_IO_READ, 0, 4096, desc(A(SEG_C + 0x20), 32, SEG));
	assert_sgl_error(cqe, NVME_SC_DATA_SGL_LENGTH_INVALID);
	assert_true(now_ms() - t0 < 3000);
	assert_true(itest_drive_alive(&pcie_drive));
	assert_int_equal(csts(e) & 3, NVME_CSTS_RDY);
	cqe = sgl_rw(e, NVME_IO_READ, 0, 512, desc(A(DST_OFF), 512, DB));
	assert_int_equal(SC_OF(cqe), 0);
}

/* PRPs keep working beside SGLs, on the same queue. */
static void test_prp_unchanged(void **state)
{
	struct env *e;
	struct nvme_cqe cqe;

	(void)state;
	e = open_io();
	prp_write(e, 500, 16384, 55);
	prp_read(e, 500, 16384);
	assert_true(itest_same(e->mem + WBUF_OFF, e->mem + RBUF_OFF, 16384, "PRP read back"));
	cqe = sgl_rw(e, NVME_IO_READ, 500, 4096, desc(A(DST_OFF + 3), 4096, DB));
	assert_int_equal(SC_OF(cqe), 0);
	assert_true(itest_same(e->mem + WBUF_OFF, e->mem + DST_OFF + 3, 4096, "SGL read of PRP data"));
	cqe = rw(e, NVME_IO_READ, 0, 4096, UNMAPPED, 0);
	assert_int_equal(SC_OF(cqe), ST(NVME_SC_DATA_TRANSFER_ERROR));
	cqe = rw(e, NVME_IO_READ, 0, 8192, A(RBUF_OFF), A(RBUF_OFF) + 0x1010);
	assert_int_equal(SC_OF(cqe), ST(NVME_SC_INVALID_PRP_OFFSET));
}

#if FDR_HAVE_RECORDER
/* Each refused host access is one DMA_ERR event saying what it was. */
static void test_refusals_recorded(void **state)
{
	static const struct {
		uint64_t addr;
		uint32_t len;
		uint8_t write, what;
	} want[] = {
		{ UNMAPPED, 4096, 1, FDR_REC_DMA_DATA },
		{ UNMAPPED + 0x1000, 16, 0, FDR_REC_DMA_PRP_LIST },
		{ UNMAPPED + 0x2000, 512, 1, FDR_REC_DMA_DATA },
		{ UNMAPPED + 0x3000, 48, 0, FDR_REC_DMA_SGL_SEG },
		{ UNMAPPED + 0x4000, 1024, 0, FDR_REC_DMA_DATA },
	};
	char path[PATH_MAX + 16], err[256] = "";
	struct fdr_rec_reader *r;
	struct fdr_rec_event ev;
	unsigned n = 0;
	struct env *e;
	struct nvme_cqe cqe;

	(void)state;
	snprintf(path, sizeof(path), "%s/ring", pcie_drive.tmpdir);
	r = fdr_rec_reader_open(path, err, sizeof(err));
	if (!r)
		fail_msg("%s: %s", path, err);
	e = open_io();
	fdr_rec_reader_seek(r, fdr_rec_reader_head(r));
	cqe = rw(e, NVME_IO_READ, 0, 4096, UNMAPPED, 0);
	assert_int_equal(SC_OF(cqe), ST(NVME_SC_DATA_TRANSFER_ERROR));
	cqe = rw(e, NVME_IO_WRITE, 0, 12288, A(SRC_OFF), UNMAPPED + 0x1000);
	assert_int_equal(SC_OF(cqe), ST(NVME_SC_DATA_TRANSFER_ERROR));
	cqe = sgl_rw(e, NVME_IO_READ, 0, 512, desc(UNMAPPED + 0x2000, 512, DB));
	assert_int_equal(SC_OF(cqe), ST(NVME_SC_DATA_TRANSFER_ERROR));
	cqe = sgl_rw(e, NVME_IO_WRITE, 0, 512, desc(UNMAPPED + 0x3000, 48, LAST));
	assert_int_equal(SC_OF(cqe), ST(NVME_SC_DATA_TRANSFER_ERROR));
	cqe = sgl_rw(e, NVME_IO_WRITE, 0, 1024, desc(UNMAPPED + 0x4000, 1024, DB));
	assert_int_equal(SC_OF(cqe), ST(NVME_SC_DATA_TRANSFER_ERROR));
	/* The events are committed before the completions are posted. */
	while (fdr_rec_reader_next(r, &ev) == 1) {
		if (ev.kind != FDR_REC_DMA_ERR)
			continue;
		assert_true(n < 5);
		assert_int_equal(ev.xport, FDR_REC_XPORT_PCIE);
		assert_int_equal(ev.qid, 1);
		assert_int_equal(ev.u.dma.addr, want[n].addr);
		assert_int_equal(ev.u.dma.len, want[n].len);
		assert_int_equal(ev.u.dma.write, want[n].write);
		assert_int_equal(ev.u.dma.what, want[n].what);
		n++;
	}
	assert_int_equal(n, 5);
	fdr_rec_reader_close(r);
}
#endif

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_identify_sgls, close_env),
		cmocka_unit_test_teardown(test_one_data_block, close_env),
		cmocka_unit_test_teardown(test_segment_chain_write, close_env),
		cmocka_unit_test_teardown(test_segment_chain_read, close_env),
		cmocka_unit_test_teardown(test_bit_bucket, close_env),
		cmocka_unit_test_teardown(test_data_block_unmapped, close_env),
		cmocka_unit_test_teardown(test_segment_unmapped, close_env),
		cmocka_unit_test_teardown(test_length_mismatch, close_env),
		cmocka_unit_test_teardown(test_descriptor_types, close_env),
		cmocka_unit_test_teardown(test_segment_rules, close_env),
		cmocka_unit_test_teardown(test_segment_loop, close_env),
		cmocka_unit_test_teardown(test_prp_unchanged, close_env),
#if FDR_HAVE_RECORDER
		cmocka_unit_test_teardown(test_refusals_recorded, close_env),
#endif
	};

	itest_init(argc, argv);
	pcie_drive_args = drive_args;
	return cmocka_run_group_tests_name("integration_pcie_sgl", tests, pcie_host_setup,
					   pcie_host_teardown);
}

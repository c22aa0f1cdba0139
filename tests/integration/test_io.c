/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * I/O commands against the real drive over loopback: Read/Write round
 * trips of many sizes through in-capsule data and R2T, Flush, Write
 * Zeroes, Dataset Management, Compare, Write Uncorrectable, the error
 * statuses (LBA range, namespace, opcode, MDTS, SGL length), two
 * namespaces (RAM and file), digests, and a verified random mix at QD 32
 * over several queues.
 */
#include "itest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NS1_SIZE (64ull << 20)
#define NS1_LBA 512u
#define NS2_SIZE (64ull << 20)
#define NS2_LBA 4096u
#define NR_IOQ 4
#define QD 32

static struct itest_drive g_drive;
static struct fdr_host_ctrl *g_ctrl;
static struct nvme_id_ctrl g_id;
static uint64_t g_nsze[3];
static uint32_t g_lbasz[3];

static const char *const drive_args[] = {
	"--ns", "ram,size=64M,lba=512",
	"--ns", "file,path=@TMP@/ns2.img,size=64M,lba=4096",
	"--queues", "4",
	"-n", ITEST_NQN,
	NULL,
};

static struct fdr_host_queue *ioq(unsigned i)
{
	struct fdr_host_queue *q = fdr_host_ioq(g_ctrl, i);

	assert_non_null(q);
	return q;
}

static int setup(void **state)
{
	struct nvme_id_ns *ns;
	char err[512];
	struct fdr_host_opts o;

	if (itest_drive_start(&g_drive, false, drive_args))
		return -1;
	itest_opts(&g_drive, &o, NULL, NR_IOQ, QD);
	g_ctrl = fdr_host_connect(&o, err, sizeof(err));
	if (!g_ctrl) {
		fprintf(stderr, "connect: %s\n", err);
		itest_drive_stop(&g_drive);
		return -1;
	}
	g_id = *fdr_host_id_ctrl(g_ctrl);
	ns = itest_alloc(4096);
	for (uint32_t nsid = 1; nsid <= 2; nsid++) {
		struct nvme_sqe cmd;
		struct nvme_cqe cqe;

		memset(&cmd, 0, sizeof(cmd));
		cmd.opc = NVME_ADM_IDENTIFY;
		cmd.nsid = nsid;
		cmd.cdw10 = NVME_CNS_NS;
		if (fdr_host_admin(g_ctrl, &cmd, ns, 4096, &cqe) || fdr_host_sct_sc(&cqe)) {
			fprintf(stderr, "Identify Namespace %u failed\n", nsid);
			free(ns);
			return -1;
		}
		g_nsze[nsid] = ns->nsze;
		g_lbasz[nsid] = 1u << ns->lbaf[ns->flbas & 0xf].lbads;
	}
	free(ns);
	printf("# ns1 nsze %llu lba %u, ns2 nsze %llu lba %u, %u I/O queues, mdts %u bytes\n",
	       (unsigned long long)g_nsze[1], g_lbasz[1], (unsigned long long)g_nsze[2],
	       g_lbasz[2], fdr_host_nr_io_queues(g_ctrl), fdr_host_mdts_bytes(g_ctrl));
	return 0;
}

static int teardown(void **state)
{
	int rc = 0;

	if (g_ctrl && fdr_host_disconnect(g_ctrl)) {
		fprintf(stderr, "orderly disconnect failed\n");
		rc = -1;
	}
	g_ctrl = NULL;
	if (itest_drive_stop(&g_drive))
		rc = -1;
	return rc;
}

/* The namespaces are what the command line asked for. */
static void test_geometry(void **state)
{
	assert_int_equal(g_lbasz[1], NS1_LBA);
	assert_int_equal(g_nsze[1], NS1_SIZE / NS1_LBA);
	assert_int_equal(g_lbasz[2], NS2_LBA);
	assert_int_equal(g_nsze[2], NS2_SIZE / NS2_LBA);
	assert_int_equal(fdr_host_nr_io_queues(g_ctrl), NR_IOQ);
	assert_int_equal(fdr_host_mdts_bytes(g_ctrl), 128 * 1024);
}

static void roundtrip(struct fdr_host_queue *q, uint32_t nsid, uint64_t slba, uint32_t nlb,
		      uint64_t seed)
{
	uint32_t len = nlb * g_lbasz[nsid];
	uint8_t *w = itest_alloc(len), *r = itest_alloc(len);
	char what[128];

	itest_fill(w, len, seed);
	memset(r, 0xa5, len);
	assert_status(itest_write(q, nsid, slba, nlb, w, len), NVME_SC_SUCCESS);
	assert_status(itest_read(q, nsid, slba, nlb, r, len), NVME_SC_SUCCESS);
	snprintf(what, sizeof(what), "ns %u slba %llu nlb %u (%u bytes, qid %u)", nsid,
		 (unsigned long long)slba, nlb, len, fdr_host_queue_qid(q));
	if (!itest_same(w, r, len, what))
		fail_msg("read back differs: %s", what);
	free(w);
	free(r);
}

/* 1 block up to MDTS, crossing the in-capsule limit (8 KiB) both ways. */
static void test_rw_sizes(void **state)
{
	static const uint32_t nlbs[] = { 1, 2, 3, 7, 8, 15, 16, 17, 31, 32, 64, 100, 128, 255, 256 };
	uint64_t slba = 1000;

	for (unsigned i = 0; i < sizeof(nlbs) / sizeof(nlbs[0]); i++) {
		roundtrip(ioq(i % NR_IOQ), 1, slba, nlbs[i], 100 + i);
		slba += nlbs[i] + 3;
	}
	/* Overwrite in place with a different pattern: the new data must win. */
	roundtrip(ioq(0), 1, 1000, 256, 999);
}

/* Small writes through R2T instead of in-capsule data. */
static void test_r2t_forced(void **state)
{
	struct fdr_host_queue *q = ioq(1);
	uint32_t old = fdr_host_queue_incapsule(q);

	fdr_host_queue_set_incapsule(q, 0);
	roundtrip(q, 1, 5000, 1, 7);
	roundtrip(q, 1, 5008, 8, 8);
	roundtrip(q, 1, 5016, 16, 9);
	fdr_host_queue_set_incapsule(q, old);
}

/* Exactly the in-capsule size, and one block more. */
static void test_incapsule_boundary(void **state)
{
	struct fdr_host_queue *q = ioq(2);
	uint32_t icd = fdr_host_queue_incapsule(q);

	printf("# in-capsule data size %u (IOCCSZ %u), MAXH2CDATA %u\n", icd, g_id.ioccsz,
	       fdr_host_queue_maxh2cdata(q));
	assert_int_equal(icd, 8192); /* --inline-data default */
	roundtrip(q, 1, 6000, icd / NS1_LBA, 11);
	roundtrip(q, 1, 6100, icd / NS1_LBA + 1, 12);
}

static void test_mdts(void **state)
{
	struct fdr_host_queue *q = ioq(3);
	uint32_t mdts = fdr_host_mdts_bytes(g_ctrl), nlb = mdts / NS1_LBA;
	uint8_t *buf = itest_alloc(mdts + 4096);

	assert_true(mdts > 0);
	roundtrip(q, 1, 7000, nlb, 21);
	itest_fill(buf, mdts + NS1_LBA, 5);
	assert_status(itest_write(q, 1, 7000, nlb + 1, buf, mdts + NS1_LBA),
		      NVME_SC_INVALID_FIELD);
	assert_status(itest_read(q, 1, 7000, nlb + 1, buf, mdts + NS1_LBA),
		      NVME_SC_INVALID_FIELD);
	/* On the 4 KiB namespace too. */
	assert_status(itest_read(q, 2, 0, mdts / NS2_LBA + 1, buf, mdts + NS2_LBA),
		      NVME_SC_INVALID_FIELD);
	/* The queue still works. */
	roundtrip(q, 1, 7000, 8, 22);
	free(buf);
}

static void test_flush(void **state)
{
	struct nvme_sqe cmd;

	for (uint32_t nsid = 1; nsid <= 2; nsid++) {
		roundtrip(ioq(0), nsid, 8000, 4, 31);
		memset(&cmd, 0, sizeof(cmd));
		cmd.opc = NVME_IO_FLUSH;
		cmd.nsid = nsid;
		assert_status(itest_io(ioq(0), &cmd, NULL, 0, NULL), NVME_SC_SUCCESS);
	}
	/* Flush of a namespace that does not exist. */
	memset(&cmd, 0, sizeof(cmd));
	cmd.opc = NVME_IO_FLUSH;
	cmd.nsid = 77;
	assert_status(itest_io(ioq(0), &cmd, NULL, 0, NULL),
		      NVME_SC_INVALID_NAMESPACE_OR_FORMAT);
}

static void test_write_zeroes(void **state)
{
	struct fdr_host_queue *q = ioq(1);
	uint32_t len = 32 * NS1_LBA;
	uint8_t *w = itest_alloc(len), *r = itest_alloc(len);
	struct nvme_sqe cmd;

	assert_true(g_id.oncs & NVME_ONCS_WRITE_ZEROES);
	itest_fill(w, len, 41);
	assert_status(itest_write(q, 1, 9000, 32, w, len), NVME_SC_SUCCESS);
	itest_rw_cmd(&cmd, NVME_IO_WRITE_ZEROES, 1, 9008, 8);
	assert_status(itest_io(q, &cmd, NULL, 0, NULL), NVME_SC_SUCCESS);
	/* With DEAC too. */
	itest_rw_cmd(&cmd, NVME_IO_WRITE_ZEROES, 1, 9020, 4);
	cmd.cdw12 |= NVME_WZ_DEAC;
	assert_status(itest_io(q, &cmd, NULL, 0, NULL), NVME_SC_SUCCESS);
	assert_status(itest_read(q, 1, 9000, 32, r, len), NVME_SC_SUCCESS);
	assert_true(itest_same(w, r, 8 * NS1_LBA, "before zeroed range"));
	assert_true(itest_is_zero(r + 8 * NS1_LBA, 8 * NS1_LBA));
	assert_true(itest_same(w + 16 * NS1_LBA, r + 16 * NS1_LBA, 4 * NS1_LBA, "between"));
	assert_true(itest_is_zero(r + 20 * NS1_LBA, 4 * NS1_LBA));
	assert_true(itest_same(w + 24 * NS1_LBA, r + 24 * NS1_LBA, 8 * NS1_LBA, "after"));
	/* Out of range. */
	itest_rw_cmd(&cmd, NVME_IO_WRITE_ZEROES, 1, g_nsze[1] - 2, 4);
	assert_status(itest_io(q, &cmd, NULL, 0, NULL), NVME_SC_LBA_OUT_OF_RANGE);
	/* The file namespace. */
	itest_fill(w, 4 * NS2_LBA, 42);
	assert_status(itest_write(q, 2, 900, 4, w, 4 * NS2_LBA), NVME_SC_SUCCESS);
	itest_rw_cmd(&cmd, NVME_IO_WRITE_ZEROES, 2, 901, 2);
	assert_status(itest_io(q, &cmd, NULL, 0, NULL), NVME_SC_SUCCESS);
	assert_status(itest_read(q, 2, 900, 4, r, 4 * NS2_LBA), NVME_SC_SUCCESS);
	assert_true(itest_same(w, r, NS2_LBA, "ns2 block 900"));
	assert_true(itest_is_zero(r + NS2_LBA, 2 * NS2_LBA));
	assert_true(itest_same(w + 3 * NS2_LBA, r + 3 * NS2_LBA, NS2_LBA, "ns2 block 903"));
	free(w);
	free(r);
}

static void test_dsm_deallocate(void **state)
{
	struct fdr_host_queue *q = ioq(2);
	uint32_t len = 64 * NS1_LBA;
	uint8_t *w = itest_alloc(len), *r = itest_alloc(len);
	struct nvme_dsm_range ranges[2];
	struct nvme_sqe cmd;
	struct nvme_id_ns *ns = itest_alloc(4096);

	assert_true(g_id.oncs & NVME_ONCS_DSM);
	assert_status(itest_identify(g_ctrl, NVME_CNS_NS, 1, ns), NVME_SC_SUCCESS);
	/* Deallocated blocks must read as zeroes for the check below to hold. */
	assert_int_equal(ns->dlfeat & 7, NVME_DLFEAT_READ_ZEROES);

	itest_fill(w, len, 51);
	assert_status(itest_write(q, 1, 10000, 64, w, len), NVME_SC_SUCCESS);
	memset(ranges, 0, sizeof(ranges));
	ranges[0].slba = 10004;
	ranges[0].nlb = 4;
	ranges[1].slba = 10040;
	ranges[1].nlb = 16;
	memset(&cmd, 0, sizeof(cmd));
	cmd.opc = NVME_IO_DATASET_MANAGEMENT;
	cmd.nsid = 1;
	cmd.cdw10 = 2 - 1;
	cmd.cdw11 = NVME_DSM_AD;
	assert_status(itest_io(q, &cmd, ranges, sizeof(ranges), NULL), NVME_SC_SUCCESS);
	assert_status(itest_read(q, 1, 10000, 64, r, len), NVME_SC_SUCCESS);
	assert_true(itest_same(w, r, 4 * NS1_LBA, "dsm head"));
	assert_true(itest_is_zero(r + 4 * NS1_LBA, 4 * NS1_LBA));
	assert_true(itest_same(w + 8 * NS1_LBA, r + 8 * NS1_LBA, 32 * NS1_LBA, "dsm middle"));
	assert_true(itest_is_zero(r + 40 * NS1_LBA, 16 * NS1_LBA));
	assert_true(itest_same(w + 56 * NS1_LBA, r + 56 * NS1_LBA, 8 * NS1_LBA, "dsm tail"));

	/* A range past the end of the namespace. */
	ranges[0].slba = g_nsze[1] - 1;
	ranges[0].nlb = 8;
	cmd.cdw10 = 0;
	assert_status(itest_io(q, &cmd, ranges, sizeof(ranges[0]), NULL),
		      NVME_SC_LBA_OUT_OF_RANGE);
	free(ns);
	free(w);
	free(r);
}

static void test_compare(void **state)
{
	struct fdr_host_queue *q = ioq(3);
	uint32_t len = 16 * NS1_LBA, big = 128 * NS1_LBA;
	uint8_t *w = itest_alloc(big);
	struct nvme_sqe cmd;

	assert_true(g_id.oncs & NVME_ONCS_COMPARE);
	itest_fill(w, big, 61);
	assert_status(itest_write(q, 1, 11000, 128, w, big), NVME_SC_SUCCESS);
	itest_rw_cmd(&cmd, NVME_IO_COMPARE, 1, 11000, 16);
	assert_status(itest_io(q, &cmd, w, len, NULL), NVME_SC_SUCCESS);
	/* Large compare goes through R2T. */
	itest_rw_cmd(&cmd, NVME_IO_COMPARE, 1, 11000, 128);
	assert_status(itest_io(q, &cmd, w, big, NULL), NVME_SC_SUCCESS);
	/* One byte off in the last block. */
	w[len - 1] ^= 0x40;
	itest_rw_cmd(&cmd, NVME_IO_COMPARE, 1, 11000, 16);
	assert_status(itest_io(q, &cmd, w, len, NULL),
		      NVME_STATUS(NVME_SCT_MEDIA_ERROR, NVME_SC_COMPARE_FAILURE));
	w[len - 1] ^= 0x40;
	w[big - 100] ^= 1;
	itest_rw_cmd(&cmd, NVME_IO_COMPARE, 1, 11000, 128);
	assert_status(itest_io(q, &cmd, w, big, NULL),
		      NVME_STATUS(NVME_SCT_MEDIA_ERROR, NVME_SC_COMPARE_FAILURE));
	free(w);
}

static void test_write_uncorrectable(void **state)
{
	struct fdr_host_queue *q = ioq(0);
	uint32_t len = 16 * NS1_LBA;
	uint8_t *w = itest_alloc(len), *r = itest_alloc(len);
	struct nvme_sqe cmd;

	assert_true(g_id.oncs & NVME_ONCS_WRITE_UNCORRECTABLE);
	itest_fill(w, len, 71);
	assert_status(itest_write(q, 1, 12000, 16, w, len), NVME_SC_SUCCESS);
	itest_rw_cmd(&cmd, NVME_IO_WRITE_UNCORRECTABLE, 1, 12004, 2);
	assert_status(itest_io(q, &cmd, NULL, 0, NULL), NVME_SC_SUCCESS);
	/* Reads touching the marked blocks fail, others do not. */
	assert_status(itest_read(q, 1, 12000, 16, r, len),
		      NVME_STATUS(NVME_SCT_MEDIA_ERROR, NVME_SC_UNRECOVERED_READ_ERROR));
	assert_status(itest_read(q, 1, 12005, 1, r, NS1_LBA),
		      NVME_STATUS(NVME_SCT_MEDIA_ERROR, NVME_SC_UNRECOVERED_READ_ERROR));
	assert_status(itest_read(q, 1, 12000, 4, r, 4 * NS1_LBA), NVME_SC_SUCCESS);
	assert_true(itest_same(w, r, 4 * NS1_LBA, "before uncorrectable"));
	assert_status(itest_read(q, 1, 12006, 10, r, 10 * NS1_LBA), NVME_SC_SUCCESS);
	assert_true(itest_same(w + 6 * NS1_LBA, r, 10 * NS1_LBA, "after uncorrectable"));
	/* A write over one of them clears it; the other stays bad. */
	assert_status(itest_write(q, 1, 12004, 1, w + 4 * NS1_LBA, NS1_LBA), NVME_SC_SUCCESS);
	assert_status(itest_read(q, 1, 12004, 1, r, NS1_LBA), NVME_SC_SUCCESS);
	assert_true(itest_same(w + 4 * NS1_LBA, r, NS1_LBA, "rewritten block"));
	assert_status(itest_read(q, 1, 12005, 1, r, NS1_LBA),
		      NVME_STATUS(NVME_SCT_MEDIA_ERROR, NVME_SC_UNRECOVERED_READ_ERROR));
	/* Write Zeroes clears it too. */
	itest_rw_cmd(&cmd, NVME_IO_WRITE_ZEROES, 1, 12005, 1);
	assert_status(itest_io(q, &cmd, NULL, 0, NULL), NVME_SC_SUCCESS);
	assert_status(itest_read(q, 1, 12000, 16, r, len), NVME_SC_SUCCESS);
	assert_true(itest_is_zero(r + 5 * NS1_LBA, NS1_LBA));
	free(w);
	free(r);
}

static void test_lba_out_of_range(void **state)
{
	struct fdr_host_queue *q = ioq(1);
	uint8_t *buf = itest_alloc(8 * NS2_LBA);
	uint64_t n1 = g_nsze[1], n2 = g_nsze[2];

	/* The last block is fine. */
	assert_status(itest_write(q, 1, n1 - 1, 1, buf, NS1_LBA), NVME_SC_SUCCESS);
	assert_status(itest_read(q, 1, n1 - 1, 1, buf, NS1_LBA), NVME_SC_SUCCESS);
	assert_status(itest_read(q, 1, n1 - 1, 2, buf, 2 * NS1_LBA), NVME_SC_LBA_OUT_OF_RANGE);
	assert_status(itest_read(q, 1, n1, 1, buf, NS1_LBA), NVME_SC_LBA_OUT_OF_RANGE);
	assert_status(itest_write(q, 1, n1 - 3, 8, buf, 8 * NS1_LBA), NVME_SC_LBA_OUT_OF_RANGE);
	assert_status(itest_write(q, 1, n1, 1, buf, NS1_LBA), NVME_SC_LBA_OUT_OF_RANGE);
	/* slba + nlb wraps around 2^64. */
	assert_status(itest_read(q, 1, UINT64_MAX, 2, buf, 2 * NS1_LBA), NVME_SC_LBA_OUT_OF_RANGE);
	assert_status(itest_read(q, 1, UINT64_MAX - 2, 8, buf, 8 * NS1_LBA),
		      NVME_SC_LBA_OUT_OF_RANGE);
	assert_status(itest_write(q, 1, UINT64_MAX - 2, 8, buf, 8 * NS1_LBA),
		      NVME_SC_LBA_OUT_OF_RANGE);
	assert_status(itest_read(q, 1, 1ull << 63, 1, buf, NS1_LBA), NVME_SC_LBA_OUT_OF_RANGE);
	/* The 4 KiB namespace is smaller in blocks. */
	assert_status(itest_read(q, 2, n2 - 1, 1, buf, NS2_LBA), NVME_SC_SUCCESS);
	assert_status(itest_read(q, 2, n2, 1, buf, NS2_LBA), NVME_SC_LBA_OUT_OF_RANGE);
	assert_status(itest_read(q, 2, n2 - 1, 2, buf, 2 * NS2_LBA), NVME_SC_LBA_OUT_OF_RANGE);
	free(buf);
}

static void test_invalid_nsid(void **state)
{
	struct fdr_host_queue *q = ioq(2);
	uint8_t *buf = itest_alloc(NS2_LBA);
	static const uint32_t bad[] = { 0, 3, 1000, NVME_NSID_ALL };

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_status(itest_read(q, bad[i], 0, 1, buf, NS1_LBA),
			      NVME_SC_INVALID_NAMESPACE_OR_FORMAT);
		assert_status(itest_write(q, bad[i], 0, 1, buf, NS1_LBA),
			      NVME_SC_INVALID_NAMESPACE_OR_FORMAT);
	}
	free(buf);
}

static void test_invalid_opcode(void **state)
{
	static const uint8_t opcs[] = { 0x10, 0x20, 0x44, 0x7c, 0x80 };
	struct nvme_sqe cmd;

	for (unsigned i = 0; i < sizeof(opcs) / sizeof(opcs[0]); i++) {
		memset(&cmd, 0, sizeof(cmd));
		cmd.opc = opcs[i];
		cmd.nsid = 1;
		assert_status(itest_io(ioq(3), &cmd, NULL, 0, NULL), NVME_SC_INVALID_OPCODE);
	}
	/* Admin opcodes are not I/O opcodes: Identify (06h) on an I/O queue. */
	memset(&cmd, 0, sizeof(cmd));
	cmd.opc = 0x06;
	cmd.nsid = 1;
	cmd.cdw10 = NVME_CNS_CTRL;
	assert_status(itest_io(ioq(3), &cmd, NULL, 0, NULL), NVME_SC_INVALID_OPCODE);
	roundtrip(ioq(3), 1, 13000, 2, 81);
}

/* The SGL describes less data than NLB needs. */
static void test_sgl_length(void **state)
{
	struct fdr_host_queue *q = ioq(0);
	uint8_t *buf = itest_alloc(64 * 1024);

	assert_status(itest_read(q, 1, 14000, 8, buf, 4 * NS1_LBA),
		      NVME_SC_DATA_SGL_LENGTH_INVALID);
	assert_status(itest_write(q, 1, 14000, 8, buf, 4 * NS1_LBA),
		      NVME_SC_DATA_SGL_LENGTH_INVALID);
	/* Through R2T (more than the in-capsule size, still short). */
	assert_status(itest_write(q, 1, 14000, 64, buf, 48 * NS1_LBA),
		      NVME_SC_DATA_SGL_LENGTH_INVALID);
	/* No data at all for a read. */
	assert_status(itest_read(q, 1, 14000, 1, NULL, 0), NVME_SC_DATA_SGL_LENGTH_INVALID);
	/* The 4 KiB namespace: one 512-byte buffer for a 4 KiB block. */
	assert_status(itest_read(q, 2, 10, 1, buf, NS1_LBA), NVME_SC_DATA_SGL_LENGTH_INVALID);
	roundtrip(q, 1, 14000, 8, 91);
	free(buf);
}

static void test_two_namespaces(void **state)
{
	uint8_t *a = itest_alloc(NS2_LBA), *b = itest_alloc(NS2_LBA), *r = itest_alloc(NS2_LBA);

	itest_fill(a, NS2_LBA, 101);
	itest_fill(b, NS2_LBA, 102);
	/* Byte offset 4 MiB in both namespaces. */
	assert_status(itest_write(ioq(0), 1, 8192, 8, a, NS2_LBA), NVME_SC_SUCCESS);
	assert_status(itest_write(ioq(1), 2, 1024, 1, b, NS2_LBA), NVME_SC_SUCCESS);
	assert_status(itest_read(ioq(2), 1, 8192, 8, r, NS2_LBA), NVME_SC_SUCCESS);
	assert_true(itest_same(a, r, NS2_LBA, "ns1"));
	assert_status(itest_read(ioq(3), 2, 1024, 1, r, NS2_LBA), NVME_SC_SUCCESS);
	assert_true(itest_same(b, r, NS2_LBA, "ns2"));
	for (uint32_t nlb = 1; nlb <= 32; nlb *= 2)
		roundtrip(ioq(nlb % NR_IOQ), 2, 2000 + nlb * 2, nlb, 110 + nlb);
	/* FUA writes on the file namespace. */
	{
		struct nvme_sqe cmd;

		itest_rw_cmd(&cmd, NVME_IO_WRITE, 2, 3000, 1);
		cmd.cdw12 |= NVME_RW_FUA;
		assert_status(itest_io(ioq(0), &cmd, a, NS2_LBA, NULL), NVME_SC_SUCCESS);
		itest_rw_cmd(&cmd, NVME_IO_READ, 2, 3000, 1);
		cmd.cdw12 |= NVME_RW_FUA;
		assert_status(itest_io(ioq(0), &cmd, r, NS2_LBA, NULL), NVME_SC_SUCCESS);
		assert_true(itest_same(a, r, NS2_LBA, "ns2 fua"));
	}
	free(a);
	free(b);
	free(r);
}

static void test_digests(void **state)
{
	struct fdr_host_opts o;
	struct fdr_host_ctrl *c;
	struct fdr_host_queue *q;
	char err[512];
	uint32_t big = 128 * 1024;
	uint8_t *w = itest_alloc(big), *r = itest_alloc(big);
	static const uint32_t sizes[] = { 512, 4096, 8192, 8704, 65536, 131072 };

	itest_opts(&g_drive, &o, NULL, 2, 16);
	o.hdgst = o.ddgst = true;
	c = fdr_host_connect(&o, err, sizeof(err));
	if (!c)
		fail_msg("connect with digests: %s", err);
	q = fdr_host_ioq(c, 0);
	assert_non_null(q);
	assert_true(fdr_host_queue_hdgst(q));
	assert_true(fdr_host_queue_ddgst(q));
	assert_true(fdr_host_queue_hdgst(fdr_host_admin_queue(c)));
	for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint32_t nlb = sizes[i] / NS1_LBA;

		itest_fill(w, sizes[i], 200 + i);
		memset(r, 0, sizes[i]);
		assert_status(itest_write(q, 1, 15000, nlb, w, sizes[i]), NVME_SC_SUCCESS);
		assert_status(itest_read(q, 1, 15000, nlb, r, sizes[i]), NVME_SC_SUCCESS);
		assert_true(itest_same(w, r, sizes[i], "digest round trip"));
	}
	/* Admin data with digests too. */
	{
		struct nvme_id_ctrl *id = itest_alloc(4096);

		assert_status(itest_identify(c, NVME_CNS_CTRL, 0, id), NVME_SC_SUCCESS);
		assert_int_equal(id->cntlid, fdr_host_cntlid(c));
		free(id);
	}
	/* The other controller sees the data. */
	assert_status(itest_read(ioq(0), 1, 15000, 256, r, big), NVME_SC_SUCCESS);
	assert_true(itest_same(w, r, big, "digest data from a plain connection"));
	assert_int_equal(fdr_host_disconnect(c), 0);
	free(w);
	free(r);
}

/* ---- Random verified mix at QD 32 over all queues ------------------------- */

struct rslot {
	struct rmix *m;
	unsigned qi;
	bool busy, write;
	uint32_t nsid;
	uint64_t blk; /* index into the region (in the namespace's blocks) */
	uint32_t nlb;
	uint8_t *buf;
	struct nvme_cqe cqe;
};

#define RMIX_REGION (8ull << 20) /* bytes per namespace */
#define RMIX_BASE1 32768ull      /* first LBA used on ns 1 */
#define RMIX_BASE2 4096ull       /* first LBA used on ns 2 */
#define RMIX_MAXLEN (64u * 1024u)

struct rmix {
	uint8_t *shadow[3];
	uint8_t *lock[3];
	uint64_t nblk[3];
	struct rslot slots[NR_IOQ][QD];
	uint64_t rng;
	uint64_t done, reads, writes, errors, mismatches;
	char first_err[256];
};

static uint64_t rnd(struct rmix *m)
{
	m->rng ^= m->rng << 13;
	m->rng ^= m->rng >> 7;
	m->rng ^= m->rng << 17;
	return m->rng;
}

static uint64_t ns_base(uint32_t nsid)
{
	return nsid == 1 ? RMIX_BASE1 : RMIX_BASE2;
}

static void rmix_cb(void *arg, const struct nvme_cqe *cqe)
{
	struct rslot *s = arg;
	struct rmix *m = s->m;
	uint32_t lbasz = g_lbasz[s->nsid];
	uint32_t len = s->nlb * lbasz;

	s->busy = false;
	memset(m->lock[s->nsid] + s->blk, 0, s->nlb);
	m->done++;
	if (fdr_host_sct_sc(cqe)) {
		if (!m->errors++)
			snprintf(m->first_err, sizeof(m->first_err),
				 "%s ns %u lba %llu nlb %u: status %#x (%s)",
				 s->write ? "write" : "read", s->nsid,
				 (unsigned long long)(ns_base(s->nsid) + s->blk), s->nlb,
				 fdr_host_sct_sc(cqe), itest_status_name(fdr_host_sct_sc(cqe)));
		return;
	}
	if (!s->write &&
	    memcmp(s->buf, m->shadow[s->nsid] + s->blk * lbasz, len)) {
		if (!m->mismatches++)
			snprintf(m->first_err, sizeof(m->first_err),
				 "read ns %u lba %llu nlb %u returned data that differs from what was written",
				 s->nsid, (unsigned long long)(ns_base(s->nsid) + s->blk), s->nlb);
	}
}

static bool rmix_submit(struct rmix *m, unsigned qi, struct rslot *s)
{
	struct nvme_sqe cmd;
	uint32_t nsid = (rnd(m) & 1) + 1;
	uint32_t lbasz = g_lbasz[nsid];
	uint32_t maxnlb = RMIX_MAXLEN / lbasz;
	uint32_t nlb;
	uint64_t blk;
	int rc;

	/* Mostly small, sometimes up to 64 KiB. */
	nlb = (rnd(m) % 4 == 0) ? 1 + (uint32_t)(rnd(m) % maxnlb) : 1 + (uint32_t)(rnd(m) % (maxnlb / 8 ? maxnlb / 8 : 1));
	blk = rnd(m) % (m->nblk[nsid] - nlb + 1);
	for (uint32_t i = 0; i < nlb; i++)
		if (m->lock[nsid][blk + i])
			return false;
	memset(m->lock[nsid] + blk, 1, nlb);
	s->m = m;
	s->qi = qi;
	s->busy = true;
	s->write = rnd(m) & 1;
	s->nsid = nsid;
	s->blk = blk;
	s->nlb = nlb;
	if (s->write) {
		itest_fill(s->buf, nlb * lbasz, rnd(m));
		memcpy(m->shadow[nsid] + blk * lbasz, s->buf, nlb * lbasz);
		m->writes++;
	} else {
		memset(s->buf, 0xdb, nlb * lbasz);
		m->reads++;
	}
	itest_rw_cmd(&cmd, s->write ? NVME_IO_WRITE : NVME_IO_READ, nsid, ns_base(nsid) + blk, nlb);
	rc = fdr_host_submit(ioq(qi), &cmd, s->buf, nlb * lbasz, rmix_cb, s);
	if (rc)
		fail_msg("submit on queue %u: %d (%s)", qi, rc, fdr_host_queue_error(ioq(qi)));
	return true;
}

static void test_random_qd32(void **state)
{
	struct rmix *m = calloc(1, sizeof(*m));
	uint64_t target_ops = 100000;
	int64_t deadline;
	struct timespec t0, t1;
	const char *env = getenv("FDR_ITEST_SEED");

	assert_non_null(m);
	m->rng = env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL);
	printf("# random mix seed %llu (FDR_ITEST_SEED to repeat)\n", (unsigned long long)m->rng);
	if (!m->rng)
		m->rng = 1;
	for (uint32_t nsid = 1; nsid <= 2; nsid++) {
		uint8_t *buf = itest_alloc(RMIX_MAXLEN);

		m->nblk[nsid] = RMIX_REGION / g_lbasz[nsid];
		m->shadow[nsid] = itest_alloc(RMIX_REGION);
		m->lock[nsid] = itest_alloc(m->nblk[nsid]);
		itest_fill(m->shadow[nsid], RMIX_REGION, 1000 + nsid);
		/* Initial contents, 64 KiB at a time. */
		for (uint64_t off = 0; off < RMIX_REGION; off += RMIX_MAXLEN) {
			uint32_t nlb = RMIX_MAXLEN / g_lbasz[nsid];

			memcpy(buf, m->shadow[nsid] + off, RMIX_MAXLEN);
			assert_status(itest_write(ioq(0), nsid, ns_base(nsid) + off / g_lbasz[nsid],
						  nlb, buf, RMIX_MAXLEN),
				      NVME_SC_SUCCESS);
		}
		free(buf);
	}
	for (unsigned qi = 0; qi < NR_IOQ; qi++)
		for (unsigned k = 0; k < QD; k++)
			m->slots[qi][k].buf = itest_alloc(RMIX_MAXLEN);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	deadline = (int64_t)t0.tv_sec * 1000 + t0.tv_nsec / 1000000 + 90000;
	for (;;) {
		uint64_t submitted = m->reads + m->writes;
		unsigned busy = 0;
		int reaped = 0;

		for (unsigned qi = 0; qi < NR_IOQ; qi++) {
			for (unsigned k = 0; k < QD && submitted < target_ops; k++) {
				struct rslot *s = &m->slots[qi][k];

				if (!s->busy && rmix_submit(m, qi, s))
					submitted++;
			}
			for (unsigned k = 0; k < QD; k++)
				busy += m->slots[qi][k].busy;
		}
		if (!busy && submitted >= target_ops)
			break;
		for (unsigned qi = 0; qi < NR_IOQ; qi++) {
			int rc = fdr_host_poll(ioq(qi), 0);

			if (rc < 0)
				fail_msg("queue %u failed: %s", qi, fdr_host_queue_error(ioq(qi)));
			reaped += rc;
		}
		if (!reaped) {
			int rc = fdr_host_poll(ioq((unsigned)(m->done % NR_IOQ)), 1);

			if (rc < 0)
				fail_msg("queue failed: %s",
					 fdr_host_queue_error(ioq((unsigned)(m->done % NR_IOQ))));
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if ((int64_t)t1.tv_sec * 1000 + t1.tv_nsec / 1000000 > deadline)
			fail_msg("random mix timed out after %llu of %llu commands",
				 (unsigned long long)m->done, (unsigned long long)target_ops);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("# random mix: %llu commands (%llu reads, %llu writes) in %.2f s, %llu errors, %llu mismatches\n",
	       (unsigned long long)m->done, (unsigned long long)m->reads,
	       (unsigned long long)m->writes,
	       (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
	       (unsigned long long)m->errors, (unsigned long long)m->mismatches);
	if (m->errors || m->mismatches)
		fail_msg("random mix: %s", m->first_err);

	/* Finally, everything reads back as the shadow says (sequentially). */
	for (uint32_t nsid = 1; nsid <= 2; nsid++) {
		uint8_t *buf = itest_alloc(RMIX_MAXLEN);

		for (uint64_t off = 0; off < RMIX_REGION; off += RMIX_MAXLEN) {
			assert_status(itest_read(ioq(1), nsid, ns_base(nsid) + off / g_lbasz[nsid],
						 RMIX_MAXLEN / g_lbasz[nsid], buf, RMIX_MAXLEN),
				      NVME_SC_SUCCESS);
			if (!itest_same(m->shadow[nsid] + off, buf, RMIX_MAXLEN, "final check"))
				fail_msg("ns %u region offset %llu differs", nsid,
					 (unsigned long long)off);
		}
		free(buf);
		free(m->shadow[nsid]);
		free(m->lock[nsid]);
	}
	for (unsigned qi = 0; qi < NR_IOQ; qi++)
		for (unsigned k = 0; k < QD; k++)
			free(m->slots[qi][k].buf);
	free(m);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_geometry),
		cmocka_unit_test(test_rw_sizes),
		cmocka_unit_test(test_r2t_forced),
		cmocka_unit_test(test_incapsule_boundary),
		cmocka_unit_test(test_mdts),
		cmocka_unit_test(test_flush),
		cmocka_unit_test(test_write_zeroes),
		cmocka_unit_test(test_dsm_deallocate),
		cmocka_unit_test(test_compare),
		cmocka_unit_test(test_write_uncorrectable),
		cmocka_unit_test(test_lba_out_of_range),
		cmocka_unit_test(test_invalid_nsid),
		cmocka_unit_test(test_invalid_opcode),
		cmocka_unit_test(test_sgl_length),
		cmocka_unit_test(test_two_namespaces),
		cmocka_unit_test(test_digests),
		cmocka_unit_test(test_random_qd32),
	};

	itest_init(argc, argv);
	return cmocka_run_group_tests_name("integration_io", tests, setup, teardown);
}

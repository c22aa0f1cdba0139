/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Malformed NVMe/TCP input over raw sockets.  For every case the drive
 * must answer with a C2HTermReq carrying a sensible FES and/or close the
 * connection within a few seconds; afterwards a well-behaved controller
 * connection that stays open for the whole program still reads and writes,
 * and the drive process is still alive.  Most useful under ASan/UBSan.
 */
#include "itest.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <frankendrive/names.h>

#include "common/crc32c.h"

#define REACT_MS 5000

/* The identity fdr_host_raw_fabrics_connect() uses. */
static const uint8_t raw_hostid[16] = { 0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
					0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf };
#define RAW_HOSTNQN "nqn.2014-08.org.nvmexpress:uuid:a0a1a2a3-a4a5-a6a7-a8a9-aaabacadaeaf"

static struct itest_drive g_drive;
static struct fdr_host_ctrl *g_good;
static uint64_t g_seed = 1;

static const char *const drive_args[] = {
	"--ns", "ram,size=64M",
	"--queues", "8",
	"-n", ITEST_NQN,
	NULL,
};

static int setup(void **state)
{
	struct fdr_host_opts o;
	char err[512];

	if (itest_drive_start(&g_drive, false, drive_args))
		return -1;
	itest_opts(&g_drive, &o, NULL, 1, 16);
	g_good = fdr_host_connect(&o, err, sizeof(err));
	if (!g_good) {
		fprintf(stderr, "connect: %s\n", err);
		itest_drive_stop(&g_drive);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	int rc = 0;

	if (g_good && fdr_host_disconnect(g_good)) {
		fprintf(stderr, "orderly disconnect of the good controller failed\n");
		rc = -1;
	}
	g_good = NULL;
	if (itest_drive_stop(&g_drive))
		rc = -1;
	return rc;
}

/* The drive is alive and the good controller still does I/O. */
static void healthy(void)
{
	uint8_t w[4096], r[4096];
	struct fdr_host_queue *q = fdr_host_ioq(g_good, 0);
	struct nvme_cqe cqe;
	uint64_t slba = (g_seed % 1000) * 8;

	assert_true(itest_drive_alive(&g_drive));
	assert_false(fdr_host_queue_dead(q));
	itest_fill(w, sizeof(w), ++g_seed);
	memset(r, 0, sizeof(r));
	assert_status(itest_write(q, 1, slba, 8, w, sizeof(w)), NVME_SC_SUCCESS);
	assert_status(itest_read(q, 1, slba, 8, r, sizeof(r)), NVME_SC_SUCCESS);
	assert_memory_equal(w, r, sizeof(w));
	assert_int_equal(fdr_host_keep_alive(g_good, &cqe), 0);
	assert_status(fdr_host_sct_sc(&cqe), NVME_SC_SUCCESS);
}

static int raw_open(void)
{
	int fd = fdr_host_raw_connect(g_drive.addr, g_drive.port, REACT_MS);

	if (fd < 0)
		fail_msg("TCP connect: %s", strerror(-fd));
	return fd;
}

static int raw_open_ic(bool hd, bool dd)
{
	struct nvme_tcp_icresp resp;
	int fd = raw_open(), rc;

	rc = fdr_host_raw_icreq(fd, hd, dd, &resp, REACT_MS);
	if (rc)
		fail_msg("ICReq: %s", strerror(-rc));
	assert_int_equal(resp.digest, (hd ? NVME_TCP_HDGST_ENABLE : 0) | (dd ? NVME_TCP_DDGST_ENABLE : 0));
	return fd;
}

/* Sending may fail once the drive has given up on us; that is fine. */
static void send_any(int fd, const void *buf, size_t len)
{
	(void)fdr_host_raw_send(fd, buf, len);
}

/* FEI a C2HTermReq must carry for the next expectation (-1: not checked). */
static long g_expect_fei = -1;

enum reaction {
	R_TERM,
	R_CLOSE,
	R_RSP, /* a CapsuleResp (only where allowed) */
};

/*
 * Wait for the drive's reaction: a C2HTermReq whose FES is in allowed[]
 * followed by a close, or a plain close.  With rsp_ok a CapsuleResp with an
 * error status is accepted too (its status is stored in *status).
 */
static enum reaction expect_reaction(int fd, const char *what, const uint16_t *allowed,
				     unsigned nallowed, bool rsp_ok, uint16_t *status)
{
	uint8_t pdu[512];
	ssize_t n;

	for (;;) {
		struct nvme_tcp_hdr h;

		n = fdr_host_raw_recv_pdu(fd, pdu, sizeof(pdu), REACT_MS);
		if (n == 0 || n == -ECONNRESET) {
			printf("# %s: connection closed, no C2HTermReq\n", what);
			g_expect_fei = -1;
			return R_CLOSE;
		}
		if (n == -ETIMEDOUT)
			fail_msg("%s: no C2HTermReq and no close within %d ms", what, REACT_MS);
		if (n < 0)
			fail_msg("%s: receive failed: %s", what, strerror((int)-n));
		memcpy(&h, pdu, sizeof(h));
		if (h.type == NVME_TCP_C2H_TERM) {
			struct nvme_tcp_term t;
			bool ok = false;

			memcpy(&t, pdu, sizeof(t));
			printf("# %s: C2HTermReq fes %#x (%s) fei %#x plen %u\n", what, t.fes,
			       nvme_tcp_fes_name(t.fes), t.fei, h.plen);
			assert_int_equal(h.hlen, sizeof(struct nvme_tcp_term));
			assert_int_equal(h.pdo, 0);
			assert_in_range(h.plen, sizeof(struct nvme_tcp_term),
					sizeof(struct nvme_tcp_term) + NVME_TCP_TERM_MAX_DATA);
			for (unsigned i = 0; i < nallowed; i++)
				ok |= t.fes == allowed[i];
			if (!ok)
				fail_msg("%s: unexpected FES %#x", what, t.fes);
			/* For Invalid PDU Header Field, FEI is the offset of the bad field. */
			if (g_expect_fei >= 0 && t.fes == NVME_TCP_FES_INVALID_PDU_HDR &&
			    t.fei != (uint32_t)g_expect_fei)
				fail_msg("%s: FEI %#x, expected the field offset %#lx", what, t.fei,
					 g_expect_fei);
			g_expect_fei = -1;
			if (fdr_host_raw_wait_close(fd, REACT_MS))
				fail_msg("%s: connection still open %d ms after C2HTermReq", what,
					 REACT_MS);
			return R_TERM;
		}
		if (h.type == NVME_TCP_RSP && rsp_ok) {
			struct nvme_tcp_rsp r;

			memcpy(&r, pdu, sizeof(r));
			printf("# %s: CapsuleResp status %#x (%s)\n", what,
			       fdr_host_sct_sc(&r.cqe), itest_status_name(fdr_host_sct_sc(&r.cqe)));
			if (status)
				*status = fdr_host_sct_sc(&r.cqe);
			return R_RSP;
		}
		if (h.type == NVME_TCP_R2T && rsp_ok)
			continue; /* keep waiting for the verdict */
		fail_msg("%s: unexpected PDU type %#x (plen %u) instead of C2HTermReq or close", what,
			 h.type, h.plen);
	}
}

#define EXPECT(fd, what, ...)                                                              \
	do {                                                                               \
		static const uint16_t fes_[] = { __VA_ARGS__ };                            \
		expect_reaction((fd), (what), fes_, sizeof(fes_) / sizeof(fes_[0]), false,  \
				NULL);                                                     \
	} while (0)

/* ---- helpers to reach states that need a working queue ----------------------- */

struct victim {
	struct fdr_host_ctrl *c;
	int fd;
	bool hd, dd;
};

/* A controller of our own (admin queue through the library) plus a raw I/O queue 1. */
static void victim_open(struct victim *v, bool hd, bool dd)
{
	struct fdr_host_opts o;
	struct nvme_cqe cqe;
	uint32_t cdw0;
	char err[512];
	int rc;

	itest_opts(&g_drive, &o, NULL, 0, 8);
	o.hostid = raw_hostid;
	o.hostnqn = RAW_HOSTNQN;
	v->c = fdr_host_connect(&o, err, sizeof(err));
	if (!v->c)
		fail_msg("victim connect: %s", err);
	assert_status(itest_set_feat(v->c, NVME_FEAT_NUM_QUEUES, false, 0, 0, NULL, 0, &cdw0),
		      NVME_SC_SUCCESS);
	v->hd = hd;
	v->dd = dd;
	v->fd = raw_open_ic(hd, dd);
	rc = fdr_host_raw_fabrics_connect(v->fd, hd, dd, 1, fdr_host_cntlid(v->c), 15, 0,
					  ITEST_NQN, RAW_HOSTNQN, &cqe, REACT_MS);
	if (rc)
		fail_msg("raw I/O queue Connect: %s", strerror(-rc));
	assert_status(fdr_host_sct_sc(&cqe), NVME_SC_SUCCESS);
}

static void victim_close(struct victim *v)
{
	if (v->fd >= 0)
		close(v->fd);
	v->fd = -1;
	fdr_host_close(v->c);
	v->c = NULL;
}

/* A Write of len bytes at LBA 0 that asks for R2T (Transport SGL). */
static void send_r2t_write(struct victim *v, uint16_t cid, uint32_t len)
{
	struct nvme_sqe cmd;
	uint8_t pdu[128];
	ssize_t n;

	itest_rw_cmd(&cmd, NVME_IO_WRITE, 1, 0, len / 512);
	cmd.cid = cid;
	cmd.flags = NVME_PSDT_SGL_MPTR_CONTIG << NVME_CMD_FLAGS_PSDT_SHIFT;
	cmd.dptr.sgl1.type = NVME_SGL_TYPE_TRANSPORT_DATA_BLOCK << 4 | NVME_SGL_SUBTYPE_TRANSPORT;
	cmd.dptr.sgl1.length = len;
	n = fdr_host_raw_build_cmd(pdu, sizeof(pdu), &cmd, NULL, 0, v->hd, v->dd, 0);
	assert_true(n > 0);
	send_any(v->fd, pdu, (size_t)n);
}

static struct nvme_tcp_r2t recv_r2t(struct victim *v)
{
	uint8_t pdu[128];
	struct nvme_tcp_r2t r2t;
	ssize_t n = fdr_host_raw_recv_pdu(v->fd, pdu, sizeof(pdu), REACT_MS);

	if (n <= 0)
		fail_msg("no R2T: %zd", n);
	memcpy(&r2t, pdu, sizeof(r2t));
	if (r2t.hdr.type != NVME_TCP_R2T)
		fail_msg("expected R2T, got PDU type %#x", r2t.hdr.type);
	return r2t;
}

/* An H2CData PDU header (+ digest), data and data digest as asked. */
static size_t build_h2c(uint8_t *out, bool hd, bool dd, uint16_t cid, uint16_t ttag,
			uint32_t datao, uint32_t datal, const uint8_t *data, bool last,
			bool bad_ddgst)
{
	struct nvme_tcp_data *h = (struct nvme_tcp_data *)out;
	uint32_t pdo = sizeof(*h) + (hd ? 4 : 0);
	size_t len;

	memset(out, 0, pdo);
	h->hdr.type = NVME_TCP_H2C_DATA;
	h->hdr.flags = (uint8_t)((hd ? NVME_TCP_F_HDGST : 0) | (dd ? NVME_TCP_F_DDGST : 0) |
				 (last ? NVME_TCP_F_DATA_LAST : 0));
	h->hdr.hlen = sizeof(*h);
	h->hdr.pdo = (uint8_t)pdo;
	h->hdr.plen = pdo + datal + (dd ? 4 : 0);
	h->cccid = cid;
	h->ttag = ttag;
	h->datao = datao;
	h->datal = datal;
	if (hd)
		fdr_host_raw_set_hdgst(out);
	memcpy(out + pdo, data, datal);
	len = pdo + datal;
	if (dd) {
		uint32_t crc = fdr_crc32c(data, datal) ^ (bad_ddgst ? 0x1u : 0);

		memcpy(out + len, &crc, 4);
		len += 4;
	}
	return len;
}

/* ---- the cases ------------------------------------------------------------------ */

static void test_unknown_pdu_type(void **state)
{
	static const uint8_t types[] = { 0x08, 0x0b, 0x7f, 0xff };

	for (unsigned i = 0; i < sizeof(types); i++) {
		struct nvme_tcp_hdr h = { .type = types[i], .hlen = 24, .plen = 24 };
		uint8_t pdu[24];
		char what[64];
		int fd = raw_open_ic(false, false);

		memset(pdu, 0, sizeof(pdu));
		memcpy(pdu, &h, sizeof(h));
		send_any(fd, pdu, sizeof(pdu));
		snprintf(what, sizeof(what), "PDU type %#x", types[i]);
		g_expect_fei = 0;
		EXPECT(fd, what, NVME_TCP_FES_INVALID_PDU_HDR);
		close(fd);
		healthy();
	}
}

/* PDU types that only a controller sends. */
static void test_c2h_types_from_host(void **state)
{
	static const uint8_t types[] = { NVME_TCP_ICRESP, NVME_TCP_RSP, NVME_TCP_C2H_DATA,
					 NVME_TCP_R2T, NVME_TCP_C2H_TERM };
	static const uint8_t hlens[] = { 128, 24, 24, 24, 24 };

	for (unsigned i = 0; i < sizeof(types); i++) {
		uint8_t pdu[128];
		struct nvme_tcp_hdr h = { .type = types[i], .hlen = hlens[i], .plen = hlens[i] };
		char what[64];
		int fd = raw_open_ic(false, false);

		memset(pdu, 0, sizeof(pdu));
		memcpy(pdu, &h, sizeof(h));
		send_any(fd, pdu, hlens[i]);
		snprintf(what, sizeof(what), "host sends %s", nvme_tcp_pdu_name(types[i]));
		EXPECT(fd, what, NVME_TCP_FES_INVALID_PDU_HDR, NVME_TCP_FES_PDU_SEQ_ERR);
		close(fd);
		healthy();
	}
}

static void test_bad_hlen(void **state)
{
	uint8_t pdu[256];
	struct nvme_sqe cmd;
	struct nvme_tcp_hdr *h = (struct nvme_tcp_hdr *)pdu;
	int fd;

	/* CapsuleCmd with hlen 24. */
	memset(&cmd, 0, sizeof(cmd));
	cmd.opc = NVME_ADM_KEEP_ALIVE;
	fd = raw_open_ic(false, false);
	assert_int_equal(fdr_host_raw_build_cmd(pdu, sizeof(pdu), &cmd, NULL, 0, false, false, 0),
			 72);
	h->hlen = 24;
	send_any(fd, pdu, 72);
	g_expect_fei = 2;
	EXPECT(fd, "CapsuleCmd hlen 24", NVME_TCP_FES_INVALID_PDU_HDR);
	close(fd);
	healthy();

	/* CapsuleCmd with hlen 128 (and plen to match). */
	fd = raw_open_ic(false, false);
	memset(pdu, 0, sizeof(pdu));
	assert_int_equal(fdr_host_raw_build_cmd(pdu, sizeof(pdu), &cmd, NULL, 0, false, false, 0),
			 72);
	h->hlen = 128;
	h->plen = 128;
	send_any(fd, pdu, 128);
	EXPECT(fd, "CapsuleCmd hlen 128", NVME_TCP_FES_INVALID_PDU_HDR);
	close(fd);
	healthy();

	/* ICReq with hlen 64 as the first PDU. */
	{
		struct nvme_tcp_icreq ic;

		memset(&ic, 0, sizeof(ic));
		ic.hdr.type = NVME_TCP_ICREQ;
		ic.hdr.hlen = 64;
		ic.hdr.plen = 128;
		fd = raw_open();
		send_any(fd, &ic, sizeof(ic));
		EXPECT(fd, "ICReq hlen 64", NVME_TCP_FES_INVALID_PDU_HDR);
		close(fd);
		healthy();
	}
}

static void test_pdo_plen(void **state)
{
	uint8_t pdu[512];
	struct nvme_sqe cmd;
	struct nvme_tcp_hdr *h = (struct nvme_tcp_hdr *)pdu;
	uint8_t data[256];
	int fd;

	memset(&cmd, 0, sizeof(cmd));
	cmd.opc = NVME_ADM_SET_FEATURES;
	cmd.cdw10 = NVME_FEAT_TIMESTAMP;
	cmd.flags = NVME_PSDT_SGL_MPTR_CONTIG << NVME_CMD_FLAGS_PSDT_SHIFT;
	cmd.dptr.sgl1.type = NVME_SGL_TYPE_DATA_BLOCK << 4 | NVME_SGL_SUBTYPE_OFFSET;
	cmd.dptr.sgl1.length = 8;
	memset(data, 0, sizeof(data));

	/* pdo beyond plen. */
	fd = raw_open_ic(false, false);
	assert_int_equal(fdr_host_raw_build_cmd(pdu, sizeof(pdu), &cmd, data, 8, false, false, 0),
			 80);
	h->pdo = 200;
	send_any(fd, pdu, 80);
	EXPECT(fd, "pdo 200 > plen 80", NVME_TCP_FES_INVALID_PDU_HDR);
	close(fd);
	healthy();

	/* pdo inside the header. */
	fd = raw_open_ic(false, false);
	assert_int_equal(fdr_host_raw_build_cmd(pdu, sizeof(pdu), &cmd, data, 8, false, false, 0),
			 80);
	h->pdo = 40;
	send_any(fd, pdu, 80);
	EXPECT(fd, "pdo 40 < hlen 72", NVME_TCP_FES_INVALID_PDU_HDR);
	close(fd);
	healthy();

	/* plen below hlen. */
	fd = raw_open_ic(false, false);
	assert_int_equal(fdr_host_raw_build_cmd(pdu, sizeof(pdu), &cmd, NULL, 0, false, false, 0),
			 72);
	h->plen = 40;
	send_any(fd, pdu, 72);
	EXPECT(fd, "plen 40 < hlen 72", NVME_TCP_FES_INVALID_PDU_HDR);
	close(fd);
	healthy();

	/* plen below the 8-byte common header. */
	fd = raw_open_ic(false, false);
	h->plen = 4;
	send_any(fd, pdu, 72);
	EXPECT(fd, "plen 4", NVME_TCP_FES_INVALID_PDU_HDR);
	close(fd);
	healthy();

	/* Data announced (pdo/plen) but the SGL says none. */
	fd = raw_open_ic(false, false);
	cmd.dptr.sgl1.length = 0;
	cmd.dptr.sgl1.type = NVME_SGL_TYPE_TRANSPORT_DATA_BLOCK << 4 | NVME_SGL_SUBTYPE_TRANSPORT;
	assert_int_equal(fdr_host_raw_build_cmd(pdu, sizeof(pdu), &cmd, data, 8, false, false, 0),
			 80);
	send_any(fd, pdu, 80);
	{
		static const uint16_t fes[] = { NVME_TCP_FES_INVALID_PDU_HDR,
						NVME_TCP_FES_DATA_OUT_OF_RANGE };
		uint16_t st = 0;

		if (expect_reaction(fd, "in-capsule data with a transport SGL", fes, 2, true,
				    &st) == R_RSP)
			assert_int_not_equal(st, NVME_SC_SUCCESS);
	}
	close(fd);
	healthy();
}

static void test_cmd_before_icreq(void **state)
{
	uint8_t pdu[128];
	struct nvme_sqe cmd;
	int fd = raw_open();

	memset(&cmd, 0, sizeof(cmd));
	cmd.opc = NVME_ADM_KEEP_ALIVE;
	assert_int_equal(fdr_host_raw_build_cmd(pdu, sizeof(pdu), &cmd, NULL, 0, false, false, 0),
			 72);
	send_any(fd, pdu, 72);
	EXPECT(fd, "CapsuleCmd before ICReq", NVME_TCP_FES_PDU_SEQ_ERR,
	       NVME_TCP_FES_INVALID_PDU_HDR);
	close(fd);
	healthy();
}

static void test_icreq_bad_fields(void **state)
{
	struct nvme_tcp_icreq ic;
	int fd;

	memset(&ic, 0, sizeof(ic));
	ic.hdr.type = NVME_TCP_ICREQ;
	ic.hdr.hlen = sizeof(ic);
	ic.hdr.plen = sizeof(ic);

	ic.pfv = 1;
	fd = raw_open();
	send_any(fd, &ic, sizeof(ic));
	g_expect_fei = 8;
	EXPECT(fd, "ICReq pfv 1", NVME_TCP_FES_UNSUPPORTED_PARAM, NVME_TCP_FES_INVALID_PDU_HDR);
	close(fd);
	healthy();

	ic.pfv = 0;
	ic.hpda = 32; /* 0..31 */
	fd = raw_open();
	send_any(fd, &ic, sizeof(ic));
	g_expect_fei = 10;
	EXPECT(fd, "ICReq hpda 32", NVME_TCP_FES_UNSUPPORTED_PARAM, NVME_TCP_FES_INVALID_PDU_HDR);
	close(fd);
	healthy();

	/* ICReq with a header digest flag set on itself. */
	ic.hpda = 0;
	ic.hdr.flags = NVME_TCP_F_HDGST;
	fd = raw_open();
	send_any(fd, &ic, sizeof(ic));
	{
		uint8_t pdu[256];
		ssize_t n = fdr_host_raw_recv_pdu(fd, pdu, sizeof(pdu), REACT_MS);

		/* Ignoring the flag is acceptable; so is rejecting it. */
		if (n > 0 && pdu[0] == NVME_TCP_C2H_TERM) {
			struct nvme_tcp_term t;

			memcpy(&t, pdu, sizeof(t));
			printf("# ICReq with HDGST flag: C2HTermReq fes %#x\n", t.fes);
			assert_int_equal(t.fes, NVME_TCP_FES_INVALID_PDU_HDR);
		} else {
			printf("# ICReq with HDGST flag: %s\n",
			       n > 0 ? "answered with ICResp" : "closed");
		}
	}
	close(fd);
	healthy();

	/* A second ICReq on an initialized connection. */
	ic.hdr.flags = 0;
	fd = raw_open_ic(false, false);
	send_any(fd, &ic, sizeof(ic));
	EXPECT(fd, "second ICReq", NVME_TCP_FES_PDU_SEQ_ERR, NVME_TCP_FES_INVALID_PDU_HDR);
	close(fd);
	healthy();

	/* ICReq with plen shorter than its header. */
	ic.hdr.plen = 64;
	fd = raw_open();
	send_any(fd, &ic, sizeof(ic));
	EXPECT(fd, "ICReq plen 64", NVME_TCP_FES_INVALID_PDU_HDR);
	close(fd);
	healthy();
}

static void test_bad_header_digest(void **state)
{
	uint8_t pdu[128];
	struct nvme_sqe cmd;
	int fd;

	memset(&cmd, 0, sizeof(cmd));
	cmd.opc = NVME_ADM_KEEP_ALIVE;

	fd = raw_open_ic(true, false);
	assert_int_equal(fdr_host_raw_build_cmd(pdu, sizeof(pdu), &cmd, NULL, 0, true, false, 0),
			 76);
	pdu[73] ^= 0x10;
	send_any(fd, pdu, 76);
	EXPECT(fd, "wrong header digest", NVME_TCP_FES_HDR_DIGEST_ERR);
	close(fd);
	healthy();

	/* Digest negotiated, but the PDU says it has none. */
	fd = raw_open_ic(true, false);
	assert_int_equal(fdr_host_raw_build_cmd(pdu, sizeof(pdu), &cmd, NULL, 0, true, false, 0),
			 76);
	pdu[1] &= (uint8_t)~NVME_TCP_F_HDGST;
	send_any(fd, pdu, 76);
	EXPECT(fd, "HDGST flag missing", NVME_TCP_FES_INVALID_PDU_HDR,
	       NVME_TCP_FES_HDR_DIGEST_ERR);
	close(fd);
	healthy();

	/* A header digest that was never negotiated. */
	fd = raw_open_ic(false, false);
	assert_int_equal(fdr_host_raw_build_cmd(pdu, sizeof(pdu), &cmd, NULL, 0, true, false, 0),
			 76);
	send_any(fd, pdu, 76);
	EXPECT(fd, "HDGST without negotiation", NVME_TCP_FES_INVALID_PDU_HDR,
	       NVME_TCP_FES_HDR_DIGEST_ERR);
	close(fd);
	healthy();
}

static void test_bad_data_digest(void **state)
{
	static const uint16_t fes[] = { NVME_TCP_FES_INVALID_PDU_HDR, NVME_TCP_FES_PDU_SEQ_ERR,
					NVME_TCP_FES_DATA_OUT_OF_RANGE };
	struct nvme_fabrics_connect_cmd cc;
	struct nvme_fabrics_connect_data *cd = itest_alloc(1024);
	uint8_t *pdu = itest_alloc(32768), *data = itest_alloc(16384);
	struct victim v;
	uint16_t st = 0;
	ssize_t n;
	int fd;

	/* Connect capsule whose in-capsule data digest is wrong. */
	memset(&cc, 0, sizeof(cc));
	cc.opc = NVME_ADM_FABRICS;
	cc.fctype = NVME_FCTYPE_CONNECT;
	cc.flags = NVME_PSDT_SGL_MPTR_CONTIG << NVME_CMD_FLAGS_PSDT_SHIFT;
	cc.sgl1.type = NVME_SGL_TYPE_DATA_BLOCK << 4 | NVME_SGL_SUBTYPE_OFFSET;
	cc.sgl1.length = 1024;
	cc.sqsize = 31;
	memcpy(cd->hostid, raw_hostid, 16);
	cd->cntlid = 0xffff;
	snprintf(cd->subnqn, sizeof(cd->subnqn), "%s", ITEST_NQN);
	snprintf(cd->hostnqn, sizeof(cd->hostnqn), "%s", RAW_HOSTNQN);
	fd = raw_open_ic(true, true);
	n = fdr_host_raw_build_cmd(pdu, 32768, (struct nvme_sqe *)&cc, cd, 1024, true, true, 0);
	assert_int_equal(n, 76 + 1024 + 4);
	pdu[n - 1] ^= 0x80;
	send_any(fd, pdu, (size_t)n);
	if (expect_reaction(fd, "Connect with a wrong data digest", fes, 3, true, &st) == R_RSP)
		assert_int_not_equal(st, NVME_SC_SUCCESS);
	close(fd);
	healthy();

	/* H2CData with a wrong data digest. */
	victim_open(&v, true, true);
	send_r2t_write(&v, 3, 16384);
	{
		struct nvme_tcp_r2t r2t = recv_r2t(&v);
		size_t len;

		itest_fill(data, 16384, 5);
		assert_true(r2t.r2tl <= 16384);
		/* All the data the R2T asked for, in one PDU whose digest is wrong. */
		len = build_h2c(pdu, true, true, 3, r2t.ttag, r2t.r2to, r2t.r2tl, data, true, true);
		send_any(v.fd, pdu, len);
	}
	if (expect_reaction(v.fd, "H2CData with a wrong data digest", fes, 3, true, &st) == R_RSP)
		assert_int_not_equal(st, NVME_SC_SUCCESS);
	victim_close(&v);
	healthy();
	free(cd);
	free(pdu);
	free(data);
}

static void test_h2c_out_of_range(void **state)
{
	static const uint16_t fes[] = { NVME_TCP_FES_INVALID_PDU_HDR,
					NVME_TCP_FES_DATA_OUT_OF_RANGE,
					NVME_TCP_FES_R2T_LIMIT_EXCEEDED };
	uint8_t *pdu = itest_alloc(65536), *data = itest_alloc(32768);
	struct victim v;
	struct nvme_tcp_r2t r2t;
	size_t len;

	/* More data than the R2T asked for. */
	victim_open(&v, false, false);
	send_r2t_write(&v, 1, 16384);
	r2t = recv_r2t(&v);
	printf("# R2T: cccid %u ttag %u r2to %u r2tl %u\n", r2t.cccid, r2t.ttag, r2t.r2to, r2t.r2tl);
	assert_int_equal(r2t.cccid, 1);
	assert_int_equal(r2t.r2to, 0);
	assert_true(r2t.r2tl > 0 && r2t.r2tl <= 16384);
	len = build_h2c(pdu, false, false, 1, r2t.ttag, r2t.r2to, r2t.r2tl + 512, data, true,
			false);
	send_any(v.fd, pdu, len);
	expect_reaction(v.fd, "H2CData longer than the R2T", fes, 3, false, NULL);
	victim_close(&v);
	healthy();

	/* Data offset outside the command's buffer. */
	victim_open(&v, false, false);
	send_r2t_write(&v, 2, 16384);
	r2t = recv_r2t(&v);
	len = build_h2c(pdu, false, false, 2, r2t.ttag, 16384, 512, data, true, false);
	send_any(v.fd, pdu, len);
	expect_reaction(v.fd, "H2CData at datao 16384 of 16384", fes, 3, false, NULL);
	victim_close(&v);
	healthy();

	/* A datal near 2^32 (nothing that large follows). */
	victim_open(&v, false, false);
	send_r2t_write(&v, 4, 16384);
	r2t = recv_r2t(&v);
	len = build_h2c(pdu, false, false, 4, r2t.ttag, 0, 4096, data, true, false);
	((struct nvme_tcp_data *)pdu)->datal = 0xfffffff0u;
	send_any(v.fd, pdu, len);
	expect_reaction(v.fd, "H2CData datal 0xfffffff0", fes, 3, false, NULL);
	victim_close(&v);
	healthy();
	free(pdu);
	free(data);
}

static void test_h2c_bad_ttag(void **state)
{
	static const uint16_t fes[] = { NVME_TCP_FES_INVALID_PDU_HDR, NVME_TCP_FES_PDU_SEQ_ERR,
					NVME_TCP_FES_DATA_OUT_OF_RANGE };
	uint8_t *pdu = itest_alloc(8192), *data = itest_alloc(8192);
	struct victim v;
	struct nvme_tcp_r2t r2t;
	size_t len;

	victim_open(&v, false, false);
	send_r2t_write(&v, 7, 16384);
	r2t = recv_r2t(&v);
	len = build_h2c(pdu, false, false, 7, (uint16_t)(r2t.ttag ^ 0x5a5a), r2t.r2to, 4096, data,
			false, false);
	send_any(v.fd, pdu, len);
	g_expect_fei = 10; /* TTAG */
	expect_reaction(v.fd, "H2CData with a ttag never issued", fes, 3, false, NULL);
	victim_close(&v);
	healthy();

	/* H2CData without any command. */
	victim_open(&v, false, false);
	len = build_h2c(pdu, false, false, 9, 1, 0, 4096, data, true, false);
	send_any(v.fd, pdu, len);
	expect_reaction(v.fd, "H2CData with no command outstanding", fes, 3, false, NULL);
	victim_close(&v);
	healthy();

	/* H2CData for a command whose data came in the capsule. */
	victim_open(&v, false, false);
	{
		struct nvme_sqe cmd;
		uint8_t cap[2048];
		ssize_t n;

		itest_rw_cmd(&cmd, NVME_IO_WRITE, 1, 0, 1);
		cmd.cid = 11;
		cmd.flags = NVME_PSDT_SGL_MPTR_CONTIG << NVME_CMD_FLAGS_PSDT_SHIFT;
		cmd.dptr.sgl1.type = NVME_SGL_TYPE_DATA_BLOCK << 4 | NVME_SGL_SUBTYPE_OFFSET;
		cmd.dptr.sgl1.length = 512;
		n = fdr_host_raw_build_cmd(cap, sizeof(cap), &cmd, data, 512, false, false, 0);
		assert_true(n > 0);
		len = build_h2c(pdu, false, false, 11, 0, 0, 512, data, true, false);
		memcpy(cap + n, pdu, len);
		send_any(v.fd, cap, (size_t)n + len);
	}
	{
		uint16_t st = 0;

		/* The Write's own CapsuleResp may come first. */
		if (expect_reaction(v.fd, "H2CData after in-capsule data", fes, 3, true, &st) ==
		    R_RSP)
			expect_reaction(v.fd, "H2CData after in-capsule data (after its CQE)", fes,
					3, false, NULL);
	}
	victim_close(&v);
	healthy();
	free(pdu);
	free(data);
}

static void test_giant_plen(void **state)
{
	static const uint16_t fes[] = { NVME_TCP_FES_INVALID_PDU_HDR,
					NVME_TCP_FES_DATA_OUT_OF_RANGE,
					NVME_TCP_FES_R2T_LIMIT_EXCEEDED };
	uint8_t pdu[8192];
	static uint8_t wdata[4096];
	struct nvme_sqe cmd;
	struct nvme_tcp_hdr *h = (struct nvme_tcp_hdr *)pdu;
	int fd;

	memset(wdata, 0x33, sizeof(wdata));
	itest_rw_cmd(&cmd, NVME_IO_WRITE, 1, 0, 8);
	cmd.flags = NVME_PSDT_SGL_MPTR_CONTIG << NVME_CMD_FLAGS_PSDT_SHIFT;
	cmd.dptr.sgl1.type = NVME_SGL_TYPE_DATA_BLOCK << 4 | NVME_SGL_SUBTYPE_OFFSET;
	cmd.dptr.sgl1.length = 4096;
	memset(pdu + 72, 0x33, sizeof(pdu) - 72);

	fd = raw_open_ic(false, false);
	assert_int_equal(fdr_host_raw_build_cmd(pdu, sizeof(pdu), &cmd, wdata, 4096, false,
						false, 0),
			 72 + 4096);
	h->plen = 0xffffffffu;
	send_any(fd, pdu, sizeof(pdu));
	expect_reaction(fd, "CapsuleCmd plen 0xffffffff", fes, 3, false, NULL);
	close(fd);
	healthy();

	/* A plen just above what the in-capsule limit allows. */
	fd = raw_open_ic(false, false);
	assert_int_equal(fdr_host_raw_build_cmd(pdu, sizeof(pdu), &cmd, wdata, 4096, false,
						false, 0),
			 72 + 4096);
	h->plen = 72 + (1u << 20);
	send_any(fd, pdu, sizeof(pdu));
	expect_reaction(fd, "CapsuleCmd plen 1 MiB + 72", fes, 3, false, NULL);
	close(fd);
	healthy();

	/* Unknown PDU type with a giant plen. */
	fd = raw_open_ic(false, false);
	memset(pdu, 0, 64);
	h->type = 0x0c;
	h->hlen = 24;
	h->plen = 0x7fffffff;
	send_any(fd, pdu, 4096);
	EXPECT(fd, "unknown PDU type, plen 2 GiB", NVME_TCP_FES_INVALID_PDU_HDR);
	close(fd);
	healthy();
}

/* In-capsule data beyond what IOCCSZ allows on an I/O queue. */
static void test_incapsule_too_big(void **state)
{
	static const uint16_t fes[] = { NVME_TCP_FES_INVALID_PDU_HDR,
					NVME_TCP_FES_DATA_OUT_OF_RANGE,
					NVME_TCP_FES_R2T_LIMIT_EXCEEDED };
	uint32_t icd = fdr_host_id_ctrl(g_good)->ioccsz * 16u - 64u;
	uint32_t len = icd + 4096;
	uint8_t *pdu = itest_alloc(len + 256), *data = itest_alloc(len);
	struct victim v;
	struct nvme_sqe cmd;
	ssize_t n;
	uint16_t st = 0;

	victim_open(&v, false, false);
	itest_rw_cmd(&cmd, NVME_IO_WRITE, 1, 0, len / 512);
	cmd.cid = 5;
	cmd.flags = NVME_PSDT_SGL_MPTR_CONTIG << NVME_CMD_FLAGS_PSDT_SHIFT;
	cmd.dptr.sgl1.type = NVME_SGL_TYPE_DATA_BLOCK << 4 | NVME_SGL_SUBTYPE_OFFSET;
	cmd.dptr.sgl1.length = len;
	n = fdr_host_raw_build_cmd(pdu, len + 256, &cmd, data, len, false, false, 0);
	assert_true(n > 0);
	send_any(v.fd, pdu, (size_t)n);
	if (expect_reaction(v.fd, "in-capsule data larger than IOCCSZ", fes, 3, true, &st) == R_RSP)
		assert_int_not_equal(st, NVME_SC_SUCCESS);
	victim_close(&v);
	healthy();
	free(pdu);
	free(data);
}

static void test_half_header_then_close(void **state)
{
	struct nvme_tcp_icreq ic;
	uint8_t pdu[8192];
	struct nvme_sqe cmd;
	struct victim v;
	int fd;

	memset(&ic, 0, sizeof(ic));
	ic.hdr.type = NVME_TCP_ICREQ;
	ic.hdr.hlen = sizeof(ic);
	ic.hdr.plen = sizeof(ic);
	/* Half a common header. */
	fd = raw_open();
	send_any(fd, &ic, 5);
	close(fd);
	/* Half an ICReq. */
	fd = raw_open();
	send_any(fd, &ic, 64);
	close(fd);
	/* Half a CapsuleCmd. */
	memset(&cmd, 0, sizeof(cmd));
	cmd.opc = NVME_ADM_KEEP_ALIVE;
	fd = raw_open_ic(false, false);
	assert_int_equal(fdr_host_raw_build_cmd(pdu, sizeof(pdu), &cmd, NULL, 0, false, false, 0),
			 72);
	send_any(fd, pdu, 40);
	close(fd);
	healthy();
	/* Part of the in-capsule data of a Write on a live I/O queue. */
	victim_open(&v, false, false);
	itest_rw_cmd(&cmd, NVME_IO_WRITE, 1, 0, 8);
	cmd.flags = NVME_PSDT_SGL_MPTR_CONTIG << NVME_CMD_FLAGS_PSDT_SHIFT;
	cmd.dptr.sgl1.type = NVME_SGL_TYPE_DATA_BLOCK << 4 | NVME_SGL_SUBTYPE_OFFSET;
	cmd.dptr.sgl1.length = 4096;
	{
		static uint8_t wdata[4096];

		assert_true(fdr_host_raw_build_cmd(pdu, sizeof(pdu), &cmd, wdata, 4096, false,
						   false, 0) > 0);
	}
	send_any(v.fd, pdu, 1000);
	victim_close(&v);
	healthy();
	/* Close in the middle of an R2T exchange. */
	victim_open(&v, false, false);
	send_r2t_write(&v, 6, 65536);
	recv_r2t(&v);
	{
		uint8_t data[2048];
		size_t len;

		memset(data, 1, sizeof(data));
		len = build_h2c(pdu, false, false, 6, 0, 0, 2048, data, false, false);
		send_any(v.fd, pdu, len - 1000); /* not even the whole PDU */
	}
	victim_close(&v);
	healthy();
	/* Abrupt close of an admin queue while its I/O queue has a command waiting for data. */
	victim_open(&v, false, false);
	send_r2t_write(&v, 8, 65536);
	recv_r2t(&v);
	fdr_host_close(v.c);
	v.c = NULL;
	assert_int_equal(fdr_host_raw_wait_close(v.fd, REACT_MS + 5000), 0);
	close(v.fd);
	healthy();
}

static void test_garbage(void **state)
{
	size_t len = 1u << 20;
	uint8_t *junk = itest_alloc(len);
	int fd;

	itest_fill(junk, len, 0xbad);
	/* Before ICReq. */
	fd = raw_open();
	send_any(fd, junk, len);
	{
		static const uint16_t fes[] = { NVME_TCP_FES_INVALID_PDU_HDR,
						NVME_TCP_FES_PDU_SEQ_ERR,
						NVME_TCP_FES_UNSUPPORTED_PARAM,
						NVME_TCP_FES_DATA_OUT_OF_RANGE,
						NVME_TCP_FES_R2T_LIMIT_EXCEEDED };

		expect_reaction(fd, "1 MiB of garbage before ICReq", fes, 5, false, NULL);
	}
	close(fd);
	healthy();
	/* After ICReq. */
	fd = raw_open_ic(false, false);
	send_any(fd, junk, len);
	{
		static const uint16_t fes[] = { NVME_TCP_FES_INVALID_PDU_HDR,
						NVME_TCP_FES_PDU_SEQ_ERR,
						NVME_TCP_FES_HDR_DIGEST_ERR,
						NVME_TCP_FES_DATA_OUT_OF_RANGE,
						NVME_TCP_FES_R2T_LIMIT_EXCEEDED,
						NVME_TCP_FES_UNSUPPORTED_PARAM };

		expect_reaction(fd, "1 MiB of garbage after ICReq", fes, 6, false, NULL);
	}
	close(fd);
	healthy();
	/* Many random PDU-shaped headers, each on a new connection. */
	for (int i = 0; i < 64; i++) {
		uint8_t pdu[256];

		itest_fill(pdu, sizeof(pdu), 7000 + (uint64_t)i);
		pdu[0] = (uint8_t)(pdu[0] % 10);
		pdu[2] = (uint8_t)(8 + pdu[2] % 128);
		fd = raw_open_ic((i & 1) != 0, (i & 2) != 0);
		send_any(fd, pdu, sizeof(pdu));
		shutdown(fd, SHUT_WR);
		/* Whatever happens, the connection ends. */
		assert_int_equal(fdr_host_raw_wait_close(fd, REACT_MS), 0);
		close(fd);
	}
	healthy();
	free(junk);
}

static void test_h2c_term(void **state)
{
	uint8_t pdu[64];
	struct nvme_tcp_term *t = (struct nvme_tcp_term *)pdu;
	int fd = raw_open_ic(false, false);
	ssize_t n;

	memset(pdu, 0, sizeof(pdu));
	t->hdr.type = NVME_TCP_H2C_TERM;
	t->hdr.hlen = sizeof(*t);
	t->hdr.plen = sizeof(*t);
	t->fes = NVME_TCP_FES_INVALID_PDU_HDR;
	send_any(fd, pdu, sizeof(*t));
	/* The controller closes without answering. */
	n = fdr_host_raw_recv_pdu(fd, pdu, sizeof(pdu), REACT_MS);
	if (n > 0)
		fail_msg("controller sent PDU type %#x after H2CTermReq", pdu[0]);
	if (n == -ETIMEDOUT)
		fail_msg("connection still open %d ms after H2CTermReq", REACT_MS);
	close(fd);
	healthy();
}

static void test_many_connections(void **state)
{
	enum { N = 200 };
	int *fds = calloc(N, sizeof(int));

	assert_non_null(fds);
	for (int i = 0; i < N; i++)
		fds[i] = (i % 3) ? raw_open_ic(false, false) : raw_open();
	healthy();
	for (int i = 0; i < N; i++)
		close(fds[i]);
	healthy();
	free(fds);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unknown_pdu_type),
		cmocka_unit_test(test_c2h_types_from_host),
		cmocka_unit_test(test_bad_hlen),
		cmocka_unit_test(test_pdo_plen),
		cmocka_unit_test(test_cmd_before_icreq),
		cmocka_unit_test(test_icreq_bad_fields),
		cmocka_unit_test(test_bad_header_digest),
		cmocka_unit_test(test_bad_data_digest),
		cmocka_unit_test(test_h2c_out_of_range),
		cmocka_unit_test(test_h2c_bad_ttag),
		cmocka_unit_test(test_giant_plen),
		cmocka_unit_test(test_incapsule_too_big),
		cmocka_unit_test(test_half_header_then_close),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_h2c_term),
		cmocka_unit_test(test_many_connections),
	};

	itest_init(argc, argv);
	return cmocka_run_group_tests_name("integration_badinput", tests, setup, teardown);
}

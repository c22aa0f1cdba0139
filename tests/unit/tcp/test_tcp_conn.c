/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The NVMe/TCP connection state machine against a mock core: handshake,
 * in-capsule and R2T writes, C2HData reads, digests, every fatal error,
 * teardown with work in flight, slow sockets and byte-at-a-time delivery.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "common/log.h"
#include "mock_core.h"
#include "tcp_test_host.h"

#define PDU_MAX (160 * 1024)

static struct test_host host;
static uint8_t pdu[PDU_MAX];
static uint8_t out[PDU_MAX + 4096];

static int setup(void **state)
{
	(void)state;
	mock_reset();
	return 0;
}

/* Host goes away; everything must drain and be freed, with no violation. */
static int teardown(void **state)
{
	(void)state;
	if (host.fd > 0)
		close(host.fd);
	host.fd = -1;
	th_pump(&host, 3);
	mock_run_pending();
	th_pump(&host, 3);
	assert_int_equal(mock.errors, 0);
	assert_int_equal(mock.nr_freed, mock.nr_created);
	fdr_reactor_destroy(host.r);
	return 0;
}

static void open_ready(uint8_t digest, uint8_t hpda, const struct fdr_tcp_opts *opts)
{
	th_open(&host, opts);
	th_icreq(&host, digest, hpda, 0);
	assert_int_equal(mock.nr_created, 1);
}

static struct nvme_sqe sqe_make(uint8_t opc, uint16_t cid, uint32_t len, bool in_capsule)
{
	struct nvme_sqe s;

	memset(&s, 0, sizeof(s));
	s.opc = opc;
	s.cid = cid;
	s.flags = NVME_PSDT_SGL_MPTR_CONTIG << NVME_CMD_FLAGS_PSDT_SHIFT;
	s.cdw12 = len;
	s.dptr.sgl1.length = len;
	s.dptr.sgl1.type = in_capsule ? 0x01 : 0x5a;
	return s;
}

static void send_cmd(const struct nvme_sqe *s, const void *icd, uint32_t len, uint8_t pad)
{
	th_send(&host, out, th_build_cmd(&host, out, s, icd, len, pad));
}

static void expect_rsp(uint16_t cid, uint16_t status)
{
	struct nvme_tcp_rsp rsp;
	uint32_t n = th_recv_pdu(&host, pdu, sizeof(pdu));

	memcpy(&rsp, pdu, sizeof(rsp));
	assert_int_equal(rsp.hdr.type, NVME_TCP_RSP);
	assert_int_equal(n, 24 + (host.hdgst ? 4 : 0));
	th_check_hdgst(&host, pdu);
	assert_int_equal(rsp.cqe.cid, cid);
	assert_int_equal(rsp.cqe.status >> 1, status);
}

static void expect_term(uint16_t fes, uint32_t fei)
{
	struct nvme_tcp_term t;
	uint32_t n = th_recv_pdu(&host, pdu, sizeof(pdu));

	memcpy(&t, pdu, sizeof(t));
	assert_int_equal(t.hdr.type, NVME_TCP_C2H_TERM);
	assert_int_equal(t.hdr.hlen, 24);
	assert_true(n >= 24 && n <= 152);
	assert_int_equal(t.fes, fes);
	assert_int_equal(t.fei, fei);
	assert_true(th_eof(&host));
}

static struct nvme_tcp_r2t expect_r2t(uint16_t cid, uint32_t len)
{
	struct nvme_tcp_r2t r;

	th_recv_pdu(&host, pdu, sizeof(pdu));
	memcpy(&r, pdu, sizeof(r));
	assert_int_equal(r.hdr.type, NVME_TCP_R2T);
	th_check_hdgst(&host, pdu);
	assert_int_equal(r.cccid, cid);
	assert_int_equal(r.r2to, 0);
	assert_int_equal(r.r2tl, len);
	return r;
}

/* Receives len bytes of read data of command cid as C2HData PDUs, checking
 * offsets, flags, PDO alignment and digests, then the response. */
static void expect_read(uint16_t cid, uint32_t len)
{
	uint32_t off = 0;

	while (off < len) {
		struct nvme_tcp_data d;
		uint32_t n = th_recv_pdu(&host, pdu, sizeof(pdu));
		memcpy(&d, pdu, sizeof(d));
		assert_int_equal(d.hdr.type, NVME_TCP_C2H_DATA);
		th_check_hdgst(&host, pdu);
		assert_int_equal(d.cccid, cid);
		assert_int_equal(d.datao, off);
		assert_true(d.datal > 0 && d.datal <= len - off);
		assert_int_equal(d.hdr.pdo % ((host.hpda + 1) * 4), 0);
		assert_true(d.hdr.pdo >= 24 + (host.hdgst ? 4 : 0));
		for (uint32_t i = 24 + (host.hdgst ? 4 : 0); i < d.hdr.pdo; i++)
			assert_int_equal(pdu[i], 0);
		assert_int_equal(n, d.hdr.pdo + d.datal + (host.ddgst ? 4 : 0));
		assert_int_equal(!!(d.hdr.flags & NVME_TCP_F_DATA_LAST), off + d.datal == len);
		assert_false(d.hdr.flags & NVME_TCP_F_DATA_SUCCESS);
		for (uint32_t i = 0; i < d.datal; i++)
			if (pdu[d.hdr.pdo + i] != mock_pattern(cid, off + i))
				fail_msg("read data wrong at %u", off + i);
		if (host.ddgst)
			assert_int_equal(fdr_tcp_get_le32(pdu + d.hdr.pdo + d.datal),
					 fdr_crc32c(pdu + d.hdr.pdo, d.datal));
		off += d.datal;
	}
	expect_rsp(cid, 0);
}

static void fill(uint8_t *p, uint32_t len, uint8_t seed)
{
	for (uint32_t i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 13u + seed);
}

static void connect_io_queue(uint16_t qid)
{
	struct nvme_fabrics_connect_cmd c;
	struct nvme_sqe s;
	uint8_t data[1024];

	memset(&c, 0, sizeof(c));
	c.opc = NVME_ADM_FABRICS;
	c.fctype = NVME_FCTYPE_CONNECT;
	c.cid = 0x77;
	c.sgl1.type = 0x01;
	c.sgl1.length = sizeof(data);
	c.qid = qid;
	c.sqsize = 127;
	memcpy(&s, &c, sizeof(s));
	fill(data, sizeof(data), 3);
	send_cmd(&s, data, sizeof(data), 0);
	expect_rsp(0x77, 0);
	assert_memory_equal(mock.last_data, data, sizeof(data));
}

/* ---- Handshake ------------------------------------------------------------- */

static void test_icreq(void **state)
{
	struct fdr_tcp_opts o = {.maxh2cdata = 65536};

	(void)state;
	th_open(&host, &o);
	th_icreq(&host, 3, 0, 7);
	assert_int_equal(host.conn->maxr2t, 7);
	assert_true(host.conn->hdgst && host.conn->ddgst);
	assert_int_equal(host.conn->maxh2cdata, 65536);
}

static void test_first_pdu_not_icreq(void **state)
{
	struct nvme_sqe s = sqe_make(0, 1, 0, false);

	(void)state;
	th_open(&host, NULL);
	send_cmd(&s, NULL, 0, 0);
	expect_term(NVME_TCP_FES_PDU_SEQ_ERR, 0);
	assert_int_equal(mock.nr_created, 0);
}

static void test_icreq_bad_pfv(void **state)
{
	struct nvme_tcp_icreq ic = {.hdr = {.type = 0, .hlen = 128, .plen = 128}, .pfv = 1};

	(void)state;
	th_open(&host, NULL);
	th_send(&host, &ic, sizeof(ic));
	expect_term(NVME_TCP_FES_UNSUPPORTED_PARAM, offsetof(struct nvme_tcp_icreq, pfv));
}

static void test_icreq_twice(void **state)
{
	struct nvme_tcp_icreq ic = {.hdr = {.type = 0, .hlen = 128, .plen = 128}};

	(void)state;
	open_ready(0, 0, NULL);
	th_send(&host, &ic, sizeof(ic));
	expect_term(NVME_TCP_FES_PDU_SEQ_ERR, 0);
}

static void test_icreq_timeout(void **state)
{
	struct fdr_tcp_opts o = {.icreq_timeout_ms = 20};

	(void)state;
	th_open(&host, &o);
	usleep(30000);
	assert_true(th_eof(&host));
}

static void test_queue_create_fails(void **state)
{
	(void)state;
	mock.fail_queue_create = true;
	th_open(&host, NULL);
	struct nvme_tcp_icreq ic = {.hdr = {.type = 0, .hlen = 128, .plen = 128}};
	th_send(&host, &ic, sizeof(ic));
	assert_true(th_eof(&host));
}

static void test_host_term(void **state)
{
	struct nvme_tcp_term t = {.hdr = {.type = NVME_TCP_H2C_TERM, .hlen = 24, .plen = 24},
				  .fes = 2};

	(void)state;
	open_ready(0, 0, NULL);
	th_send(&host, &t, sizeof(t));
	assert_true(th_eof(&host));
	assert_int_equal(mock.nr_closed, 1);
}

/* ---- Commands ------------------------------------------------------------------ */

static void test_cmd_no_data(void **state)
{
	struct nvme_sqe s = sqe_make(0x00, 42, 0, false);

	(void)state;
	open_ready(0, 0, NULL);
	send_cmd(&s, NULL, 0, 0);
	expect_rsp(42, 0);
	assert_int_equal(mock.nr_executed, 1);
	assert_int_equal(mock.last_cmd.cid, 42);
}

static void test_connect_in_capsule(void **state)
{
	(void)state;
	open_ready(3, 0, NULL);
	connect_io_queue(0);
}

static void test_write_in_capsule_padded(void **state)
{
	uint8_t data[4096];
	struct nvme_sqe s = sqe_make(MOCK_OPC_WRITE, 5, sizeof(data), true);

	(void)state;
	open_ready(0, 0, NULL);
	fill(data, sizeof(data), 9);
	send_cmd(&s, data, sizeof(data), 8); /* PDO beyond the header */
	expect_rsp(5, 0);
	assert_int_equal(mock.last_len, sizeof(data));
	assert_memory_equal(mock.last_data, data, sizeof(data));
}

static void r2t_write(uint8_t digest, uint32_t len, uint32_t chunk)
{
	static uint8_t data[512 * 1024];
	struct fdr_tcp_opts o = {.maxh2cdata = chunk};
	struct nvme_sqe s = sqe_make(MOCK_OPC_WRITE, 0x1234, len, false);
	struct nvme_tcp_r2t r;

	open_ready(digest, 0, &o);
	fill(data, len, 1);
	send_cmd(&s, NULL, 0, 0);
	r = expect_r2t(0x1234, len);
	assert_int_equal(mock.nr_executed, 0);
	for (uint32_t off = 0; off < len; off += chunk) {
		uint32_t n = len - off < chunk ? len - off : chunk;
		th_send(&host, out,
			th_build_h2c(&host, out, 0x1234, r.ttag, off, data + off, n, off + n == len));
	}
	expect_rsp(0x1234, 0);
	assert_int_equal(mock.nr_executed, 1);
	assert_memory_equal(mock.last_data, data, len);
}

static void test_write_r2t(void **state)
{
	(void)state;
	r2t_write(0, 64 * 1024, 4096);
}

static void test_write_r2t_digests(void **state)
{
	(void)state;
	r2t_write(3, 300 * 1024, 128 * 1024);
}

static void test_read(void **state)
{
	struct nvme_sqe s = sqe_make(MOCK_OPC_READ, 9, 8192, false);

	(void)state;
	open_ready(0, 0, NULL);
	send_cmd(&s, NULL, 0, 0);
	expect_read(9, 8192);
}

static void test_read_multi_pdu_digests_hpda(void **state)
{
	struct nvme_sqe s = sqe_make(MOCK_OPC_READ, 10, 300 * 1024 + 5, false);

	(void)state;
	open_ready(3, 2, NULL); /* 12-byte alignment: PDO 36 */
	send_cmd(&s, NULL, 0, 0);
	expect_read(10, 300 * 1024 + 5);
}

static void test_read_error_sends_no_data(void **state)
{
	/* Transport SGL too short for the read: prep_data fails it. */
	struct nvme_sqe s = sqe_make(MOCK_OPC_READ, 11, 8192, false);

	(void)state;
	s.dptr.sgl1.length = 4096;
	open_ready(0, 0, NULL);
	send_cmd(&s, NULL, 0, 0);
	expect_rsp(11, NVME_SC_DATA_SGL_LENGTH_INVALID | NVME_STATUS_DNR);
}

static void test_many_commands_async(void **state)
{
	(void)state;
	mock.async = true;
	open_ready(1, 0, NULL);
	for (uint16_t cid = 0; cid < 200; cid++) {
		struct nvme_sqe s = sqe_make(cid & 1 ? MOCK_OPC_READ : 0x00, cid, cid & 1 ? 512 : 0,
					     false);
		send_cmd(&s, NULL, 0, 0);
	}
	th_pump(&host, 10);
	assert_int_equal(mock.npending, 200);
	mock_run_pending();
	for (uint16_t cid = 0; cid < 200; cid++) {
		if (cid & 1)
			expect_read(cid, 512);
		else
			expect_rsp(cid, 0);
	}
}

/* ---- SGL checks (prep_data) ---------------------------------------------------- */

static void sgl_case(struct nvme_sqe s, const void *icd, uint32_t icd_len, uint16_t status)
{
	send_cmd(&s, icd, icd_len, 0);
	expect_rsp(s.cid, status);
}

static void test_sgl_checks(void **state)
{
	uint8_t data[512];
	struct nvme_sqe s;
	const uint16_t dnr = NVME_STATUS_DNR;

	(void)state;
	open_ready(0, 0, NULL);
	memset(data, 1, sizeof(data));

	s = sqe_make(MOCK_OPC_WRITE, 1, sizeof(data), true);
	s.dptr.sgl1.addr = 16;
	sgl_case(s, data, sizeof(data), NVME_SC_INVALID_SGL_OFFSET | dnr);

	s = sqe_make(MOCK_OPC_WRITE, 2, sizeof(data), true);
	s.dptr.sgl1.length = 256; /* shorter than the command's data */
	sgl_case(s, data, sizeof(data), NVME_SC_DATA_SGL_LENGTH_INVALID | dnr);

	s = sqe_make(MOCK_OPC_WRITE, 3, 256, true);
	s.dptr.sgl1.length = 256; /* more in the capsule than the SGL says */
	sgl_case(s, data, sizeof(data), NVME_SC_DATA_SGL_LENGTH_INVALID | dnr);

	s = sqe_make(MOCK_OPC_WRITE, 4, 256, true);
	s.dptr.sgl1.length = 512; /* longer SGL than needed is fine */
	sgl_case(s, data, sizeof(data), 0);

	s = sqe_make(MOCK_OPC_WRITE, 5, 4096, false);
	s.dptr.sgl1.length = 8192; /* a write's transport SGL must match */
	sgl_case(s, NULL, 0, NVME_SC_DATA_SGL_LENGTH_INVALID | dnr);

	s = sqe_make(MOCK_OPC_READ, 6, 512, true); /* in-capsule SGL for a read */
	sgl_case(s, NULL, 0, NVME_SC_SGL_DESC_TYPE_INVALID | dnr);

	s = sqe_make(MOCK_OPC_READ, 7, 512, false);
	s.dptr.sgl1.type = 0x40; /* keyed: RDMA only */
	sgl_case(s, NULL, 0, NVME_SC_SGL_DESC_TYPE_INVALID | dnr);

	s = sqe_make(MOCK_OPC_WRITE, 8, 512, false); /* transport SGL plus in-capsule data */
	sgl_case(s, data, sizeof(data), NVME_SC_SGL_DESC_TYPE_INVALID | dnr);

	s = sqe_make(MOCK_OPC_READ, 9, 512, false);
	s.dptr.sgl1.length = 1024; /* a read may offer more room */
	send_cmd(&s, NULL, 0, 0);
	expect_read(9, 512);
}

/* ---- In-capsule limits ---------------------------------------------------------- */

static void test_icd_admin_limit(void **state)
{
	static uint8_t data[8193];
	struct nvme_sqe s = sqe_make(MOCK_OPC_WRITE, 1, 8192, true);

	(void)state;
	open_ready(0, 0, NULL);
	send_cmd(&s, data, 8192, 0);
	expect_rsp(1, 0);
	s.cdw12 = s.dptr.sgl1.length = 8193;
	send_cmd(&s, data, 8193, 0);
	expect_term(NVME_TCP_FES_R2T_LIMIT_EXCEEDED, 0);
}

static void test_icd_io_limit(void **state)
{
	static uint8_t data[8192];
	struct nvme_sqe s = sqe_make(MOCK_OPC_WRITE, 1, 4096, true);

	(void)state;
	mock.inline_data_size = 4096;
	open_ready(0, 0, NULL);
	connect_io_queue(1);
	send_cmd(&s, data, 4096, 0);
	expect_rsp(1, 0);
	s.cdw12 = s.dptr.sgl1.length = 4100;
	send_cmd(&s, data, 4100, 0);
	expect_term(NVME_TCP_FES_R2T_LIMIT_EXCEEDED, 0);
}

/* ---- Digests ---------------------------------------------------------------------- */

static void test_hdr_digest_error(void **state)
{
	struct nvme_sqe s = sqe_make(0, 1, 0, false);
	size_t n;

	(void)state;
	open_ready(NVME_TCP_HDGST_ENABLE, 0, NULL);
	n = th_build_cmd(&host, out, &s, NULL, 0, 0);
	out[72] ^= 0xff;
	th_send(&host, out, n);
	expect_term(NVME_TCP_FES_HDR_DIGEST_ERR, fdr_tcp_get_le32(out + 72));
}

static void test_data_digest_error_in_capsule(void **state)
{
	uint8_t data[1024];
	struct nvme_sqe s = sqe_make(MOCK_OPC_WRITE, 3, sizeof(data), true);
	size_t n;

	(void)state;
	open_ready(3, 0, NULL);
	n = th_build_cmd(&host, out, &s, data, sizeof(data), 0);
	out[n - 1] ^= 1;
	th_send(&host, out, n);
	expect_rsp(3, NVME_SC_TRANSIENT_TRANSPORT_ERROR);
	assert_int_equal(mock.nr_executed, 0);
	/* Not fatal: the connection carries on. */
	s.cid = 4;
	send_cmd(&s, data, sizeof(data), 0);
	expect_rsp(4, 0);
}

static void test_data_digest_error_h2c(void **state)
{
	uint8_t data[8192];
	struct nvme_sqe s = sqe_make(MOCK_OPC_WRITE, 3, sizeof(data), false);
	struct nvme_tcp_r2t r;
	size_t n;

	(void)state;
	open_ready(NVME_TCP_DDGST_ENABLE, 0, NULL);
	send_cmd(&s, NULL, 0, 0);
	r = expect_r2t(3, sizeof(data));
	n = th_build_h2c(&host, out, 3, r.ttag, 0, data, 4096, false);
	out[40] ^= 1; /* payload */
	th_send(&host, out, n);
	th_send(&host, out, th_build_h2c(&host, out, 3, r.ttag, 4096, data + 4096, 4096, true));
	expect_rsp(3, NVME_SC_TRANSIENT_TRANSPORT_ERROR);
	assert_int_equal(mock.nr_executed, 0);
}

/* ---- H2CData protocol errors --------------------------------------------------------- */

static struct nvme_tcp_r2t start_write(uint16_t cid, uint32_t len, const struct fdr_tcp_opts *o)
{
	struct nvme_sqe s = sqe_make(MOCK_OPC_WRITE, cid, len, false);

	open_ready(0, 0, o);
	send_cmd(&s, NULL, 0, 0);
	return expect_r2t(cid, len);
}

static void test_h2c_bad_ttag(void **state)
{
	uint8_t data[512] = {0};
	struct nvme_tcp_r2t r = start_write(1, 512, NULL);

	(void)state;
	th_send(&host, out, th_build_h2c(&host, out, 1, r.ttag + 1, 0, data, 512, true));
	expect_term(NVME_TCP_FES_INVALID_PDU_HDR, offsetof(struct nvme_tcp_data, ttag));
}

static void test_h2c_huge_ttag(void **state)
{
	uint8_t data[512] = {0};

	(void)state;
	start_write(1, 512, NULL);
	th_send(&host, out, th_build_h2c(&host, out, 1, 0xffff, 0, data, 512, true));
	expect_term(NVME_TCP_FES_INVALID_PDU_HDR, offsetof(struct nvme_tcp_data, ttag));
}

static void test_h2c_bad_cccid(void **state)
{
	uint8_t data[512] = {0};
	struct nvme_tcp_r2t r = start_write(1, 512, NULL);

	(void)state;
	th_send(&host, out, th_build_h2c(&host, out, 2, r.ttag, 0, data, 512, true));
	expect_term(NVME_TCP_FES_INVALID_PDU_HDR, offsetof(struct nvme_tcp_data, cccid));
}

static void test_h2c_out_of_order(void **state)
{
	uint8_t data[1024] = {0};
	struct nvme_tcp_r2t r = start_write(1, 1024, NULL);

	(void)state;
	th_send(&host, out, th_build_h2c(&host, out, 1, r.ttag, 512, data, 512, true));
	expect_term(NVME_TCP_FES_DATA_OUT_OF_RANGE, 0);
}

static void test_h2c_beyond_r2t(void **state)
{
	uint8_t data[1024] = {0};
	struct nvme_tcp_r2t r = start_write(1, 512, NULL);

	(void)state;
	th_send(&host, out, th_build_h2c(&host, out, 1, r.ttag, 0, data, 1024, true));
	expect_term(NVME_TCP_FES_DATA_OUT_OF_RANGE, 0);
}

static void test_h2c_last_flag(void **state)
{
	uint8_t data[1024] = {0};
	struct nvme_tcp_r2t r = start_write(1, 1024, NULL);

	(void)state;
	/* LAST on the first of two */
	th_send(&host, out, th_build_h2c(&host, out, 1, r.ttag, 0, data, 512, true));
	expect_term(NVME_TCP_FES_INVALID_PDU_HDR, offsetof(struct nvme_tcp_hdr, flags));
}

static void test_h2c_missing_last(void **state)
{
	uint8_t data[1024] = {0};
	struct nvme_tcp_r2t r = start_write(1, 1024, NULL);

	(void)state;
	th_send(&host, out, th_build_h2c(&host, out, 1, r.ttag, 0, data, 1024, false));
	expect_term(NVME_TCP_FES_INVALID_PDU_HDR, offsetof(struct nvme_tcp_hdr, flags));
}

static void test_h2c_over_maxh2cdata(void **state)
{
	static uint8_t data[8192];
	struct fdr_tcp_opts o = {.maxh2cdata = 4096};
	struct nvme_tcp_r2t r = start_write(1, 8192, &o);

	(void)state;
	th_send(&host, out, th_build_h2c(&host, out, 1, r.ttag, 0, data, 8192, true));
	expect_term(NVME_TCP_FES_R2T_LIMIT_EXCEEDED, 0);
}

static void test_h2c_after_done(void **state)
{
	uint8_t data[512] = {0};
	struct nvme_tcp_r2t r = start_write(1, 512, NULL);

	(void)state;
	th_send(&host, out, th_build_h2c(&host, out, 1, r.ttag, 0, data, 512, true));
	expect_rsp(1, 0);
	th_send(&host, out, th_build_h2c(&host, out, 1, r.ttag, 0, data, 512, true));
	expect_term(NVME_TCP_FES_INVALID_PDU_HDR, offsetof(struct nvme_tcp_data, ttag));
}

static void test_unknown_pdu_type(void **state)
{
	struct nvme_tcp_hdr ch = {.type = 0x0b, .hlen = 24, .plen = 24};
	uint8_t buf[24] = {0};

	(void)state;
	open_ready(0, 0, NULL);
	memcpy(buf, &ch, sizeof(ch));
	th_send(&host, buf, sizeof(buf));
	expect_term(NVME_TCP_FES_INVALID_PDU_HDR, 0);
	/* The offending header comes back in the C2HTermReq. */
	assert_memory_equal(pdu + 24, buf, 8);
}

/* ---- Teardown with work in flight -------------------------------------------------- */

static void test_overrun(void **state)
{
	(void)state;
	mock.async = true;
	open_ready(0, 0, NULL);
	for (unsigned i = 0; i <= FDR_MAX_QDEPTH; i++) {
		struct nvme_sqe s = sqe_make(0, (uint16_t)i, 0, false);
		send_cmd(&s, NULL, 0, 0);
		if (i % 64 == 0)
			th_pump(&host, 1);
	}
	expect_term(NVME_TCP_FES_PDU_SEQ_ERR, 0);
	assert_int_equal(mock.npending, FDR_MAX_QDEPTH);
	assert_int_equal(mock.nr_closed, 1);
	assert_int_equal(mock.nr_drained, 0);
	mock_run_pending();
	th_pump(&host, 2);
	assert_int_equal(mock.nr_drained, 1);
	assert_int_equal(mock.nr_freed, 1);
}

static void test_eof_with_commands_in_flight(void **state)
{
	(void)state;
	mock.async = true;
	open_ready(0, 0, NULL);
	for (uint16_t cid = 0; cid < 10; cid++) {
		struct nvme_sqe s = sqe_make(MOCK_OPC_READ, cid, 4096, false);
		send_cmd(&s, NULL, 0, 0);
	}
	th_pump(&host, 5);
	close(host.fd);
	host.fd = -1;
	th_pump(&host, 5);
	assert_int_equal(mock.nr_closed, 1);
	assert_int_equal(mock.nr_freed, 0);
	mock_run_pending();
	th_pump(&host, 2);
	assert_int_equal(mock.nr_freed, 1);
}

static void test_eof_waiting_for_h2c(void **state)
{
	(void)state;
	start_write(1, 4096, NULL);
	close(host.fd);
	host.fd = -1;
	th_pump(&host, 5);
	assert_int_equal(mock.nr_executed, 0);
	assert_int_equal(mock.nr_completed, 1); /* failed by the transport */
	assert_int_equal(mock.nr_freed, 1);
}

static void test_eof_mid_capsule(void **state)
{
	uint8_t data[4096] = {0};
	struct nvme_sqe s = sqe_make(MOCK_OPC_WRITE, 1, sizeof(data), true);
	size_t n;

	(void)state;
	open_ready(0, 0, NULL);
	n = th_build_cmd(&host, out, &s, data, sizeof(data), 0);
	th_send(&host, out, n / 2);
	th_pump(&host, 3);
	close(host.fd);
	host.fd = -1;
	th_pump(&host, 5);
	assert_int_equal(mock.nr_submitted, 0);
	assert_int_equal(mock.nr_freed, 1);
}

static void test_core_disconnects(void **state)
{
	struct nvme_sqe s = sqe_make(MOCK_OPC_DISCONNECT_ME, 1, 0, false);

	(void)state;
	open_ready(0, 0, NULL);
	send_cmd(&s, NULL, 0, 0);
	assert_true(th_eof(&host));
	assert_int_equal(mock.nr_closed, 1);
	assert_int_equal(mock.nr_freed, 1);
}

static void test_core_disconnects_with_responses_queued(void **state)
{
	struct nvme_sqe s;

	(void)state;
	open_ready(0, 0, NULL);
	/* Responses queued (flushed only at the end of the iteration) when
	 * the disconnect arrives in the same batch. */
	for (uint16_t cid = 0; cid < 8; cid++) {
		s = sqe_make(MOCK_OPC_READ, cid, 65536, false);
		th_build_cmd(&host, out, &s, NULL, 0, 0);
		th_send(&host, out, 72);
	}
	s = sqe_make(MOCK_OPC_DISCONNECT_ME, 99, 0, false);
	send_cmd(&s, NULL, 0, 0);
	assert_true(th_eof(&host));
	assert_int_equal(mock.nr_freed, 1);
}

/* ---- Delivery patterns ----------------------------------------------------------------- */

static void test_byte_at_a_time(void **state)
{
	static uint8_t stream[64 * 1024];
	uint8_t data[3000];
	size_t n = 0;
	struct nvme_tcp_icreq ic = {
		.hdr = {.type = 0, .hlen = 128, .plen = 128}, .digest = 3, .hpda = 1};
	struct nvme_sqe s;

	(void)state;
	th_open(&host, NULL);
	host.hdgst = host.ddgst = true;
	host.hpda = 1;
	memcpy(stream, &ic, sizeof(ic));
	n = sizeof(ic);
	fill(data, sizeof(data), 5);
	s = sqe_make(MOCK_OPC_WRITE, 1, sizeof(data), true);
	n += th_build_cmd(&host, stream + n, &s, data, sizeof(data), 4);
	s = sqe_make(0, 2, 0, false);
	n += th_build_cmd(&host, stream + n, &s, NULL, 0, 0);
	for (size_t i = 0; i < n; i++) {
		th_send(&host, stream + i, 1);
		th_pump(&host, 1);
	}
	assert_int_equal(th_recv_pdu(&host, pdu, sizeof(pdu)), 128);
	expect_rsp(1, 0);
	assert_memory_equal(mock.last_data, data, sizeof(data));
	expect_rsp(2, 0);
	/* and an R2T write whose H2CData trickles in */
	s = sqe_make(MOCK_OPC_WRITE, 3, sizeof(data), false);
	send_cmd(&s, NULL, 0, 0);
	struct nvme_tcp_r2t r = expect_r2t(3, sizeof(data));
	n = th_build_h2c(&host, stream, 3, r.ttag, 0, data, sizeof(data), true);
	for (size_t i = 0; i < n; i++) {
		th_send(&host, stream + i, 1);
		th_pump(&host, 1);
	}
	expect_rsp(3, 0);
	assert_memory_equal(mock.last_data, data, sizeof(data));
}

static void test_slow_reader(void **state)
{
	int small = 4096;
	const unsigned nr = 24;

	(void)state;
	open_ready(3, 0, NULL);
	/* A tiny send buffer forces partial writes and EPOLLOUT. */
	setsockopt(host.conn->h.fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
	for (uint16_t cid = 0; cid < nr; cid++) {
		struct nvme_sqe s = sqe_make(MOCK_OPC_READ, cid, 128 * 1024, false);
		send_cmd(&s, NULL, 0, 0);
	}
	th_pump(&host, 20);
	assert_true(host.conn->out_armed);
	for (uint16_t cid = 0; cid < nr; cid++)
		expect_read(cid, 128 * 1024);
	th_pump(&host, 2);
	assert_false(host.conn->out_armed);
	assert_int_equal(host.conn->tx_queued, 0);
}

static void test_batching(void **state)
{
	static uint8_t stream[100 * 96];
	size_t n = 0;

	(void)state;
	open_ready(0, 0, NULL);
	for (uint16_t cid = 0; cid < 100; cid++) {
		struct nvme_sqe s = sqe_make(0, cid, 0, false);
		n += th_build_cmd(&host, stream + n, &s, NULL, 0, 0);
	}
	uint64_t sends = host.conn->nr_send_calls, recvs = host.conn->nr_recv_calls;
	th_send(&host, stream, n);
	th_pump(&host, 1);
	/* One read took all 100 commands in, one write sent all 100 responses. */
	assert_int_equal(host.conn->nr_recv_calls - recvs, 1);
	assert_int_equal(host.conn->nr_send_calls - sends, 1);
	for (uint16_t cid = 0; cid < 100; cid++)
		expect_rsp(cid, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_icreq),
		T(test_first_pdu_not_icreq),
		T(test_icreq_bad_pfv),
		T(test_icreq_twice),
		T(test_icreq_timeout),
		T(test_queue_create_fails),
		T(test_host_term),
		T(test_cmd_no_data),
		T(test_connect_in_capsule),
		T(test_write_in_capsule_padded),
		T(test_write_r2t),
		T(test_write_r2t_digests),
		T(test_read),
		T(test_read_multi_pdu_digests_hpda),
		T(test_read_error_sends_no_data),
		T(test_many_commands_async),
		T(test_sgl_checks),
		T(test_icd_admin_limit),
		T(test_icd_io_limit),
		T(test_hdr_digest_error),
		T(test_data_digest_error_in_capsule),
		T(test_data_digest_error_h2c),
		T(test_h2c_bad_ttag),
		T(test_h2c_huge_ttag),
		T(test_h2c_bad_cccid),
		T(test_h2c_out_of_order),
		T(test_h2c_beyond_r2t),
		T(test_h2c_last_flag),
		T(test_h2c_missing_last),
		T(test_h2c_over_maxh2cdata),
		T(test_h2c_after_done),
		T(test_unknown_pdu_type),
		T(test_overrun),
		T(test_eof_with_commands_in_flight),
		T(test_eof_waiting_for_h2c),
		T(test_eof_mid_capsule),
		T(test_core_disconnects),
		T(test_core_disconnects_with_responses_queued),
		T(test_byte_at_a_time),
		T(test_slow_reader),
		T(test_batching),
#undef T
	};

	fdr_log_set_level(getenv("FDR_TEST_DEBUG") ? FDR_LOG_DEBUG : FDR_LOG_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

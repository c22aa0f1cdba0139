/* SPDX-License-Identifier: BSD-2-Clause */
/* NVMe/TCP PDU header validation and builders (tcp_pdu.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/crc32c.h"
#include "tcp_internal.h"

#define FEI_OF(type, field) ((uint32_t)offsetof(type, field))

static const struct fdr_tcp_rx_params ready = {
	.ic_done = true, .max_icd = 8192, .maxh2cdata = 131072};

static uint8_t buf[1024];

static int check(size_t len, const struct fdr_tcp_rx_params *p, struct fdr_tcp_pdu_info *info,
		 uint32_t *fei)
{
	return fdr_tcp_pdu_check_hdr(buf, len, p, info, fei);
}

static void put_hdr(uint8_t type, uint8_t flags, uint8_t hlen, uint8_t pdo, uint32_t plen)
{
	struct nvme_tcp_hdr ch = {.type = type, .flags = flags, .hlen = hlen, .pdo = pdo,
				  .plen = plen};
	memset(buf, 0, sizeof(buf));
	memcpy(buf, &ch, sizeof(ch));
}

static void put_hdgst(uint8_t hlen)
{
	fdr_tcp_put_le32(buf + hlen, fdr_crc32c(buf, hlen));
}

static void put_h2c(uint8_t flags, uint8_t pdo, uint32_t plen, uint32_t datal)
{
	struct nvme_tcp_data d;

	put_hdr(NVME_TCP_H2C_DATA, flags, 24, pdo, plen);
	memcpy(&d, buf, sizeof(d));
	d.cccid = 1;
	d.ttag = 2;
	d.datal = datal;
	memcpy(buf, &d, sizeof(d));
}

static void expect_err(size_t len, const struct fdr_tcp_rx_params *p, int fes, uint32_t fei)
{
	struct fdr_tcp_pdu_info info;
	uint32_t got_fei = 0xdead;

	assert_int_equal(check(len, p, &info, &got_fei), fes);
	assert_int_equal(got_fei, fei);
}

/* ---- Framing ------------------------------------------------------------------ */

static void test_short(void **state)
{
	struct fdr_tcp_pdu_info info;
	uint32_t fei;

	(void)state;
	put_hdr(NVME_TCP_CMD, 0, 72, 0, 72);
	for (size_t len = 0; len < 72; len++)
		assert_int_equal(check(len, &ready, &info, &fei), FDR_TCP_HDR_MORE);
	assert_int_equal(info.hdr_len, 72); /* known once the common header is in */
	assert_int_equal(check(72, &ready, &info, &fei), 0);
}

static void test_icreq(void **state)
{
	struct fdr_tcp_rx_params p = {.max_icd = 8192, .maxh2cdata = 4096};
	struct fdr_tcp_pdu_info info;
	uint32_t fei;

	(void)state;
	put_hdr(NVME_TCP_ICREQ, 0, 128, 0, 128);
	assert_int_equal(check(128, &p, &info, &fei), 0);
	assert_int_equal(info.type, NVME_TCP_ICREQ);
	assert_int_equal(info.hdr_len, 128);
	assert_int_equal(info.data_len, 0);

	put_hdr(NVME_TCP_ICREQ, 0, 128, 0, 132);
	expect_err(128, &p, NVME_TCP_FES_INVALID_PDU_HDR, FEI_OF(struct nvme_tcp_hdr, plen));
	put_hdr(NVME_TCP_ICREQ, 0, 127, 0, 128);
	expect_err(128, &p, NVME_TCP_FES_INVALID_PDU_HDR, FEI_OF(struct nvme_tcp_hdr, hlen));
	put_hdr(NVME_TCP_ICREQ, 0, 128, 0, 128);
	buf[8] = 1; /* PFV */
	expect_err(128, &p, NVME_TCP_FES_UNSUPPORTED_PARAM, FEI_OF(struct nvme_tcp_icreq, pfv));
	put_hdr(NVME_TCP_ICREQ, 0, 128, 0, 128);
	buf[10] = 32; /* HPDA */
	expect_err(128, &p, NVME_TCP_FES_INVALID_PDU_HDR, FEI_OF(struct nvme_tcp_icreq, hpda));
	buf[10] = 31;
	assert_int_equal(check(128, &p, &info, &fei), 0);
}

static void test_sequence(void **state)
{
	struct fdr_tcp_rx_params p = {.max_icd = 8192, .maxh2cdata = 4096};

	(void)state;
	/* Before ICReq only ICReq (or the host giving up) is allowed. */
	put_hdr(NVME_TCP_CMD, 0, 72, 0, 72);
	expect_err(72, &p, NVME_TCP_FES_PDU_SEQ_ERR, 0);
	put_h2c(NVME_TCP_F_DATA_LAST, 24, 28, 4);
	expect_err(28, &p, NVME_TCP_FES_PDU_SEQ_ERR, 0);
	put_hdr(NVME_TCP_H2C_TERM, 0, 24, 0, 24);
	expect_err(24, &p, 0, 0);
	/* ... and never again after. */
	put_hdr(NVME_TCP_ICREQ, 0, 128, 0, 128);
	expect_err(128, &ready, NVME_TCP_FES_PDU_SEQ_ERR, 0);
}

static void test_unknown_and_c2h_types(void **state)
{
	static const uint8_t types[] = {NVME_TCP_ICRESP, NVME_TCP_C2H_TERM, NVME_TCP_RSP,
					NVME_TCP_C2H_DATA, 0x08, NVME_TCP_R2T, 0x0a, 0x7f, 0xff};

	(void)state;
	for (size_t i = 0; i < sizeof(types); i++) {
		put_hdr(types[i], 0, 24, 0, 24);
		expect_err(24, &ready, NVME_TCP_FES_INVALID_PDU_HDR, 0);
	}
}

static void test_wrong_hlen(void **state)
{
	static const struct {
		uint8_t type, hlen;
	} cases[] = {
		{NVME_TCP_CMD, 0},	{NVME_TCP_CMD, 24},	 {NVME_TCP_CMD, 71},
		{NVME_TCP_CMD, 73},	{NVME_TCP_CMD, 255},	 {NVME_TCP_H2C_DATA, 23},
		{NVME_TCP_H2C_DATA, 72}, {NVME_TCP_H2C_TERM, 8}, {NVME_TCP_H2C_TERM, 128},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		put_hdr(cases[i].type, 0, cases[i].hlen, 0, 300);
		expect_err(300, &ready, NVME_TCP_FES_INVALID_PDU_HDR,
			   FEI_OF(struct nvme_tcp_hdr, hlen));
	}
}

/* ---- CapsuleCmd ----------------------------------------------------------------- */

static void test_cmd_ok(void **state)
{
	struct fdr_tcp_pdu_info info;
	uint32_t fei;

	(void)state;
	put_hdr(NVME_TCP_CMD, 0, 72, 0, 72);
	assert_int_equal(check(72, &ready, &info, &fei), 0);
	assert_int_equal(info.data_len, 0);

	put_hdr(NVME_TCP_CMD, 0, 72, 72, 72 + 1024);
	assert_int_equal(check(72, &ready, &info, &fei), 0);
	assert_int_equal(info.hdr_len, 72);
	assert_int_equal(info.pad, 0);
	assert_int_equal(info.data_len, 1024);
	assert_int_equal(info.ddgst_len, 0);

	/* padding between header and data */
	put_hdr(NVME_TCP_CMD, 0, 72, 128, 128 + 512);
	assert_int_equal(check(72, &ready, &info, &fei), 0);
	assert_int_equal(info.pad, 56);
	assert_int_equal(info.data_len, 512);

	/* exactly the in-capsule limit */
	put_hdr(NVME_TCP_CMD, 0, 72, 72, 72 + 8192);
	assert_int_equal(check(72, &ready, &info, &fei), 0);
}

static void test_cmd_pdo_plen(void **state)
{
	const uint32_t pdo = FEI_OF(struct nvme_tcp_hdr, pdo);
	const uint32_t plen = FEI_OF(struct nvme_tcp_hdr, plen);

	(void)state;
	put_hdr(NVME_TCP_CMD, 0, 72, 64, 72 + 512); /* pdo < hlen */
	expect_err(72, &ready, NVME_TCP_FES_INVALID_PDU_HDR, pdo);
	put_hdr(NVME_TCP_CMD, 0, 72, 200, 100); /* pdo > plen */
	expect_err(72, &ready, NVME_TCP_FES_INVALID_PDU_HDR, pdo);
	put_hdr(NVME_TCP_CMD, 0, 72, 0, 64); /* plen < hlen */
	expect_err(72, &ready, NVME_TCP_FES_INVALID_PDU_HDR, plen);
	put_hdr(NVME_TCP_CMD, 0, 72, 0, 72 + 16); /* data but no pdo */
	expect_err(72, &ready, NVME_TCP_FES_INVALID_PDU_HDR, pdo);
	put_hdr(NVME_TCP_CMD, 0, 72, 72, 72); /* pdo but no data */
	expect_err(72, &ready, NVME_TCP_FES_INVALID_PDU_HDR, plen);
	put_hdr(NVME_TCP_CMD, 0, 72, 72, 0xffffffffu); /* giant */
	expect_err(72, &ready, NVME_TCP_FES_R2T_LIMIT_EXCEEDED, 0);
	put_hdr(NVME_TCP_CMD, 0, 72, 72, 72 + 8193); /* one over the limit */
	expect_err(72, &ready, NVME_TCP_FES_R2T_LIMIT_EXCEEDED, 0);
}

static void test_cmd_cpda(void **state)
{
	struct fdr_tcp_rx_params p = ready;
	struct fdr_tcp_pdu_info info;
	uint32_t fei;

	(void)state;
	p.cpda = 1; /* 8-byte aligned data */
	put_hdr(NVME_TCP_CMD, 0, 72, 76, 76 + 8);
	expect_err(72, &p, NVME_TCP_FES_INVALID_PDU_HDR, FEI_OF(struct nvme_tcp_hdr, pdo));
	put_hdr(NVME_TCP_CMD, 0, 72, 80, 80 + 8);
	assert_int_equal(check(72, &p, &info, &fei), 0);
	assert_int_equal(info.pad, 8);
}

static void test_digest_flags(void **state)
{
	struct fdr_tcp_rx_params hd = ready, dd = ready;
	struct fdr_tcp_pdu_info info;
	uint32_t fei;
	const uint32_t flags = FEI_OF(struct nvme_tcp_hdr, flags);

	(void)state;
	hd.hdgst = true;
	dd.ddgst = true;
	/* HDGSTF set without header digests, and missing with them */
	put_hdr(NVME_TCP_CMD, NVME_TCP_F_HDGST, 72, 0, 76);
	expect_err(76, &ready, NVME_TCP_FES_INVALID_PDU_HDR, flags);
	put_hdr(NVME_TCP_CMD, 0, 72, 0, 72);
	expect_err(76, &hd, NVME_TCP_FES_INVALID_PDU_HDR, flags);
	/* DDGSTF: must match when there is data, clear when there is none */
	put_hdr(NVME_TCP_CMD, 0, 72, 72, 72 + 16 + 4);
	expect_err(72, &dd, NVME_TCP_FES_INVALID_PDU_HDR, flags);
	put_hdr(NVME_TCP_CMD, NVME_TCP_F_DDGST, 72, 72, 72 + 16);
	expect_err(72, &ready, NVME_TCP_FES_INVALID_PDU_HDR, flags);
	put_hdr(NVME_TCP_CMD, NVME_TCP_F_DDGST, 72, 0, 72);
	expect_err(72, &dd, NVME_TCP_FES_INVALID_PDU_HDR, flags);
	put_hdr(NVME_TCP_CMD, NVME_TCP_F_DDGST, 72, 72, 72 + 16 + 4);
	assert_int_equal(check(72, &dd, &info, &fei), 0);
	assert_int_equal(info.data_len, 16);
	assert_int_equal(info.ddgst_len, 4);
	put_h2c(NVME_TCP_F_DATA_LAST, 24, 24 + 16 + 4, 16);
	expect_err(24, &dd, NVME_TCP_FES_INVALID_PDU_HDR, flags);
}

static void test_hdr_digest(void **state)
{
	struct fdr_tcp_rx_params p = ready;
	struct fdr_tcp_pdu_info info;
	uint32_t fei;

	(void)state;
	p.hdgst = true;
	put_hdr(NVME_TCP_CMD, NVME_TCP_F_HDGST, 72, 0, 76);
	put_hdgst(72);
	assert_int_equal(check(72, &p, &info, &fei), FDR_TCP_HDR_MORE);
	assert_int_equal(info.hdr_len, 76);
	assert_int_equal(check(76, &p, &info, &fei), 0);
	/* digest checked before the fields it protects */
	buf[72] ^= 1;
	expect_err(76, &p, NVME_TCP_FES_HDR_DIGEST_ERR, fdr_tcp_get_le32(buf + 72));
	put_hdr(NVME_TCP_CMD, NVME_TCP_F_HDGST, 72, 0, 76);
	put_hdgst(72);
	buf[20] ^= 1; /* a bit of the SQE */
	expect_err(76, &p, NVME_TCP_FES_HDR_DIGEST_ERR, fdr_tcp_get_le32(buf + 72));
	/* with data: PDO counts the digest */
	put_hdr(NVME_TCP_CMD, NVME_TCP_F_HDGST, 72, 72, 72 + 4 + 32);
	put_hdgst(72);
	expect_err(76, &p, NVME_TCP_FES_INVALID_PDU_HDR, FEI_OF(struct nvme_tcp_hdr, pdo));
	put_hdr(NVME_TCP_CMD, NVME_TCP_F_HDGST, 72, 76, 76 + 32);
	put_hdgst(72);
	assert_int_equal(check(76, &p, &info, &fei), 0);
	assert_int_equal(info.data_len, 32);
	/* termination requests carry no digest even when negotiated */
	put_hdr(NVME_TCP_H2C_TERM, 0, 24, 0, 24);
	assert_int_equal(check(24, &p, &info, &fei), 0);
	assert_int_equal(info.hdr_len, 24);
}

/* ---- H2CData -------------------------------------------------------------------- */

static void test_h2c(void **state)
{
	struct fdr_tcp_rx_params small = ready;
	struct fdr_tcp_pdu_info info;
	uint32_t fei;

	(void)state;
	small.maxh2cdata = 4096;
	put_h2c(0, 24, 24 + 4096, 4096);
	assert_int_equal(check(24, &small, &info, &fei), 0);
	assert_int_equal(info.data_len, 4096);
	put_h2c(0, 24, 24 + 4097, 4097);
	expect_err(24, &small, NVME_TCP_FES_R2T_LIMIT_EXCEEDED, 0);
	put_h2c(0, 24, 24, 0);
	expect_err(24, &ready, NVME_TCP_FES_INVALID_PDU_HDR, FEI_OF(struct nvme_tcp_data, datal));
	put_h2c(0, 24, 24 + 100, 99); /* PLEN and DATAL disagree */
	expect_err(24, &ready, NVME_TCP_FES_INVALID_PDU_HDR, FEI_OF(struct nvme_tcp_hdr, plen));
	put_h2c(0, 24, 0xffffffffu, 0xffffffffu - 24);
	expect_err(24, &ready, NVME_TCP_FES_R2T_LIMIT_EXCEEDED, 0);
	put_h2c(0, 20, 20 + 64, 64); /* pdo inside the header */
	expect_err(24, &ready, NVME_TCP_FES_INVALID_PDU_HDR, FEI_OF(struct nvme_tcp_hdr, pdo));
	put_h2c(0, 255, 100, 64); /* pdo beyond plen */
	expect_err(24, &ready, NVME_TCP_FES_INVALID_PDU_HDR, FEI_OF(struct nvme_tcp_hdr, pdo));
	put_h2c(0, 32, 32 + 64, 64); /* padded */
	assert_int_equal(check(24, &ready, &info, &fei), 0);
	assert_int_equal(info.pad, 8);
}

static void test_h2c_term(void **state)
{
	struct fdr_tcp_pdu_info info;
	uint32_t fei;

	(void)state;
	put_hdr(NVME_TCP_H2C_TERM, 0, 24, 0, 24 + 72);
	assert_int_equal(check(24, &ready, &info, &fei), 0);
	assert_int_equal(info.data_len, 72);
	put_hdr(NVME_TCP_H2C_TERM, 0, 24, 0, 23);
	expect_err(24, &ready, NVME_TCP_FES_INVALID_PDU_HDR, FEI_OF(struct nvme_tcp_hdr, plen));
	put_hdr(NVME_TCP_H2C_TERM, 0, 24, 0, 153);
	expect_err(24, &ready, NVME_TCP_FES_INVALID_PDU_HDR, FEI_OF(struct nvme_tcp_hdr, plen));
}

/* ---- Builders --------------------------------------------------------------------- */

static void test_builders(void **state)
{
	struct fdr_tcp_rx_params p = ready;
	struct nvme_cqe cqe = {.cdw0 = 7, .cid = 9, .status = 2};
	struct nvme_tcp_data d;
	uint8_t hdr[64] = {1, 2, 3};
	size_t n;

	(void)state;
	assert_int_equal(fdr_tcp_build_icresp(buf, 3, 65536), 128);
	assert_int_equal(buf[0], NVME_TCP_ICRESP);
	assert_int_equal(buf[11], 3);
	assert_int_equal(fdr_tcp_get_le32(buf + 12), 65536);

	assert_int_equal(fdr_tcp_build_rsp(buf, true, &cqe), 28);
	assert_int_equal(fdr_tcp_get_le32(buf + 24), fdr_crc32c(buf, 24));
	assert_memory_equal(buf + 8, &cqe, 16);
	assert_int_equal(fdr_tcp_build_rsp(buf, false, &cqe), 24);
	assert_int_equal(buf[1], 0);

	assert_int_equal(fdr_tcp_build_r2t(buf, true, 5, 6, 0, 4096), 28);
	assert_int_equal(fdr_tcp_get_le32(buf + 4), 28); /* plen */

	assert_int_equal(fdr_tcp_c2h_pdo(false, 0), 24);
	assert_int_equal(fdr_tcp_c2h_pdo(true, 0), 28);
	assert_int_equal(fdr_tcp_c2h_pdo(true, 1), 32);
	assert_int_equal(fdr_tcp_c2h_pdo(false, 31), 128);
	assert_int_equal(fdr_tcp_c2h_pdo(true, 31), 128);
	memset(buf, 0xee, sizeof(buf));
	n = fdr_tcp_build_c2h(buf, true, true, 3, 9, 4096, 512, true);
	assert_int_equal(n, 32);
	memcpy(&d, buf, sizeof(d));
	assert_int_equal(d.hdr.pdo, 32);
	assert_int_equal(d.hdr.plen, 32 + 512 + 4);
	assert_int_equal(d.hdr.flags,
			 NVME_TCP_F_HDGST | NVME_TCP_F_DDGST | NVME_TCP_F_DATA_LAST);
	assert_int_equal(d.datao, 4096);
	assert_int_equal(fdr_tcp_get_le32(buf + 24), fdr_crc32c(buf, 24));
	assert_int_equal(buf[28] | buf[29] | buf[30] | buf[31], 0);

	/* The termination request quotes at most 128 bytes of the header. */
	assert_int_equal(fdr_tcp_build_term(buf, 1, 2, hdr, 24), 48);
	assert_int_equal(fdr_tcp_build_term(buf, 1, 2, buf + 512, 200), 152);
	p.ic_done = true;
	buf[0] = NVME_TCP_H2C_TERM; /* a C2HTermReq reads back as well formed */
	struct fdr_tcp_pdu_info info;
	uint32_t fei;
	assert_int_equal(fdr_tcp_pdu_check_hdr(buf, 152, &p, &info, &fei), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_short),
		cmocka_unit_test(test_icreq),
		cmocka_unit_test(test_sequence),
		cmocka_unit_test(test_unknown_and_c2h_types),
		cmocka_unit_test(test_wrong_hlen),
		cmocka_unit_test(test_cmd_ok),
		cmocka_unit_test(test_cmd_pdo_plen),
		cmocka_unit_test(test_cmd_cpda),
		cmocka_unit_test(test_digest_flags),
		cmocka_unit_test(test_hdr_digest),
		cmocka_unit_test(test_h2c),
		cmocka_unit_test(test_h2c_term),
		cmocka_unit_test(test_builders),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

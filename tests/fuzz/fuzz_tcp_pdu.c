/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Fuzzes the NVMe/TCP transport's receive side.  The first input byte
 * picks the mode:
 *
 *   even  header mode: the rest is one PDU header, checked by the pure
 *         fdr_tcp_pdu_check_hdr() under connection settings taken from the
 *         second byte; results are cross-checked for consistency.
 *   odd   stream mode: the rest is a byte stream a host sends over a
 *         socket pair into a real connection (tcp_conn.c) backed by the
 *         mock core; the second byte picks settings (a handshake sent by
 *         the harness, async execution, delivery chunking).  At the end
 *         the host hangs up and everything must drain and be freed with
 *         no contract violation.
 *
 * Built with -fsanitize=fuzzer this is a libFuzzer target; otherwise a
 * main() runs a few thousand mutated seeds as a smoke test.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/crc32c.h"
#include "common/log.h"
#include "mock_core.h"
#include "tcp_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_header(const uint8_t *data, size_t size, uint8_t cfg)
{
	struct fdr_tcp_rx_params p = {
		.ic_done = cfg & 1,
		.hdgst = cfg & 2,
		.ddgst = cfg & 4,
		.cpda = (cfg & 8) ? 1 : 0,
		.max_icd = (cfg & 16) ? 8192 : 4096,
		.maxh2cdata = (cfg & 32) ? 4096 : 131072,
	};
	struct fdr_tcp_pdu_info info;
	uint32_t fei;
	int rc = fdr_tcp_pdu_check_hdr(data, size, &p, &info, &fei);

	if (rc == FDR_TCP_HDR_MORE) {
		if (size >= 8 && (!info.hdr_len || size >= info.hdr_len))
			abort();
		return;
	}
	if (rc < 0 || rc > NVME_TCP_FES_UNSUPPORTED_PARAM)
		abort();
	if (rc)
		return;
	/* A valid header frames its PDU exactly. */
	if (info.hdr_len > size || info.hdr_len < 8)
		abort();
	if ((uint64_t)info.hdr_len + info.pad + info.data_len + info.ddgst_len != info.plen)
		abort();
	if (info.type == NVME_TCP_CMD && info.data_len > p.max_icd)
		abort();
	if (info.type == NVME_TCP_H2C_DATA && (info.data_len == 0 || info.data_len > p.maxh2cdata))
		abort();
}

/* ---- Stream mode ---------------------------------------------------------------- */

static struct fdr_reactor *reactor;

static void pump(int rounds)
{
	for (int i = 0; i < rounds; i++)
		fdr_reactor_poll(reactor, 0);
}

static void drain_output(int fd)
{
	uint8_t sink[65536];

	while (read(fd, sink, sizeof(sink)) > 0)
		;
}

static void send_all(int fd, const uint8_t *p, size_t len)
{
	int spins = 0;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return; /* the target hung up */
		pump(1);
		drain_output(fd);
		if (++spins > 10000)
			return;
	}
}

static void run_stream(const uint8_t *data, size_t size, uint8_t cfg)
{
	struct fdr_tcp_opts opts = {.maxh2cdata = (cfg & 4) ? 4096 : 0};
	size_t chunk = (cfg & 8) ? 1 + (cfg >> 4) * 7 : 65536;
	int sv[2];

	mock_reset();
	mock.async = cfg & 2;
	if (!reactor && !(reactor = fdr_reactor_create(0)))
		abort();
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	if (!fdr_tcp_conn_create(NULL, NULL, reactor, sv[0], "fuzz", &opts, NULL, 0))
		abort();
	if (cfg & 1) {
		/* Start past the handshake so the input explores commands. */
		struct nvme_tcp_icreq ic = {
			.hdr = {.type = NVME_TCP_ICREQ, .hlen = 128, .plen = 128}};
		send_all(sv[1], (const uint8_t *)&ic, sizeof(ic));
	}
	for (size_t off = 0; off < size; off += chunk) {
		size_t n = size - off < chunk ? size - off : chunk;
		send_all(sv[1], data + off, n);
		pump(2);
		drain_output(sv[1]);
		if (mock.async && (off / chunk) % 3 == 2)
			mock_run_pending();
	}
	pump(2);
	drain_output(sv[1]);
	close(sv[1]);
	pump(3);
	mock_run_pending();
	pump(3);
	if (mock.errors || mock.nr_freed != mock.nr_created) {
		fprintf(stderr, "fuzz: %u violations (%s), %u queues created, %u freed\n",
			mock.errors, mock.last_error, mock.nr_created, mock.nr_freed);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	fdr_log_set_level(FDR_LOG_ERR);
	if (data[0] & 1)
		run_stream(data + 2, size - 2, data[1]);
	else
		check_header(data + 2, size - 2, data[1]);
	return 0;
}

#ifndef FDR_LIBFUZZER
/* ---- Smoke driver: mutated seeds ---------------------------------------------------- */

#include "smoke.h"

static size_t add_cmd(uint8_t *p, uint8_t opc, uint16_t cid, uint32_t len, const void *icd,
		      uint32_t icd_len)
{
	struct nvme_tcp_cmd c;

	memset(&c, 0, sizeof(c));
	c.hdr.type = NVME_TCP_CMD;
	c.hdr.hlen = 72;
	c.hdr.pdo = icd_len ? 72 : 0;
	c.hdr.plen = 72 + icd_len;
	c.sqe.opc = opc;
	c.sqe.cid = cid;
	c.sqe.cdw12 = len;
	c.sqe.dptr.sgl1.length = len;
	c.sqe.dptr.sgl1.type = icd_len ? 0x01 : 0x5a;
	memcpy(p, &c, sizeof(c));
	if (icd_len)
		memcpy(p + 72, icd, icd_len);
	return 72 + icd_len;
}

static size_t add_h2c(uint8_t *p, uint16_t cid, uint16_t ttag, uint32_t off, uint32_t len,
		      bool last)
{
	struct nvme_tcp_data d;

	memset(&d, 0, sizeof(d));
	d.hdr.type = NVME_TCP_H2C_DATA;
	d.hdr.flags = last ? NVME_TCP_F_DATA_LAST : 0;
	d.hdr.hlen = 24;
	d.hdr.pdo = 24;
	d.hdr.plen = 24 + len;
	d.cccid = cid;
	d.ttag = ttag;
	d.datao = off;
	d.datal = len;
	memcpy(p, &d, sizeof(d));
	memset(p + 24, 0x5a, len);
	return 24 + len;
}

/* A plausible session after the harness' ICReq; the mock's request pool
 * hands out index 0 first, so the first R2T's tag is 0. */
static size_t make_seed(uint8_t *p)
{
	uint8_t icd[1024];
	size_t n = 0;

	memset(icd, 0x11, sizeof(icd));
	p[n++] = 1;   /* stream mode */
	p[n++] = 1;   /* harness sends ICReq */
	n += add_cmd(p + n, MOCK_OPC_WRITE, 1, 8192, NULL, 0);
	n += add_h2c(p + n, 1, 0, 0, 4096, false);
	n += add_h2c(p + n, 1, 0, 4096, 4096, true);
	n += add_cmd(p + n, MOCK_OPC_WRITE, 2, 1024, icd, sizeof(icd));
	n += add_cmd(p + n, MOCK_OPC_READ, 3, 4096, NULL, 0);
	n += add_cmd(p + n, 0, 4, 0, NULL, 0);
	return n;
}

int main(int argc, char **argv)
{
	static uint8_t seed[16384], buf[16384];
	unsigned iters = argc > 1 ? (unsigned)atoi(argv[1]) : 3000;
	size_t seed_len = make_seed(seed);

	for (unsigned i = 0; i < iters; i++) {
		size_t len = seed_len;
		memcpy(buf, seed, len);
		buf[1] = (uint8_t)(rnd(256) | 1);
		if (i % 4 == 3)
			buf[0] = 0; /* header mode on a slice of the seed */
		len = fuzz_mutate(buf, len, sizeof(buf),
				  (const uint8_t[]){0, 1, 0x7f, 0x80, 0xff, 24, 72, 128}, 8);
		LLVMFuzzerTestOneInput(buf, len);
	}
	LLVMFuzzerTestOneInput(seed, seed_len);
	if (reactor)
		fdr_reactor_destroy(reactor);
	printf("fuzz smoke: %u inputs ok\n", iters + 1);
	return 0;
}
#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A minimal NVMe/TCP host for the connection tests: one end of a socket
 * pair, the connection under test on the other, and a reactor the tests
 * turn by hand.  Header only; every helper fails the running cmocka test
 * on trouble.
 */
#ifndef TCP_TEST_HOST_H
#define TCP_TEST_HOST_H

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/crc32c.h"
#include "tcp_internal.h"

struct test_host {
	struct fdr_reactor *r;
	struct fdr_tcp_conn *conn;
	int fd;      /* host end */
	bool hdgst;
	bool ddgst;
	uint8_t hpda;
};

static inline void th_pump(struct test_host *h, int rounds)
{
	for (int i = 0; i < rounds; i++)
		fdr_reactor_poll(h->r, 0);
}

/* A connection to target t on reactor r (polled by the test thread). */
static inline void th_attach(struct test_host *h, struct fdr_reactor *r, struct fdr_target *t,
			     const struct fdr_tcp_opts *opts)
{
	int sv[2];

	memset(h, 0, sizeof(*h));
	h->r = r;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
	h->fd = sv[1];
	h->conn = fdr_tcp_conn_create(t, NULL, r, sv[0], "test-host", opts, NULL, 0);
	assert_non_null(h->conn);
}

static inline void th_open(struct test_host *h, const struct fdr_tcp_opts *opts)
{
	struct fdr_reactor *r = fdr_reactor_create(0);

	assert_non_null(r);
	th_attach(h, r, NULL, opts);
}

/* Writes everything, turning the reactor while the socket is full. */
static inline void th_send(struct test_host *h, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	int spins = 0;

	while (len) {
		ssize_t n = send(h->fd, p, len, MSG_NOSIGNAL);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		assert_true(n < 0 && (errno == EAGAIN || errno == EINTR));
		th_pump(h, 1);
		assert_true(++spins < 100000);
	}
}

/* Reads exactly len bytes; false on EOF (or nothing for ~2 s). */
static inline bool th_recv(struct test_host *h, void *buf, size_t len)
{
	uint8_t *p = buf;
	int idle = 0;

	while (len) {
		ssize_t n = read(h->fd, p, len);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			idle = 0;
			continue;
		}
		if (n == 0)
			return false;
		assert_true(errno == EAGAIN || errno == EINTR);
		th_pump(h, 1);
		if (++idle > 2000) {
			struct pollfd pfd = {.fd = h->fd, .events = POLLIN};
			poll(&pfd, 1, 1);
			if (idle > 4000)
				return false;
		}
	}
	return true;
}

/* Receives one whole PDU into buf (cap bytes); returns its length. */
static inline uint32_t th_recv_pdu(struct test_host *h, uint8_t *buf, size_t cap)
{
	struct nvme_tcp_hdr ch;

	assert_true(th_recv(h, buf, sizeof(ch)));
	memcpy(&ch, buf, sizeof(ch));
	assert_true(ch.plen >= sizeof(ch) && ch.plen <= cap);
	assert_true(th_recv(h, buf + sizeof(ch), ch.plen - sizeof(ch)));
	return ch.plen;
}

/* True once the target closed its end (after turning the reactor). */
static inline bool th_eof(struct test_host *h)
{
	uint8_t b[256];

	for (int i = 0; i < 4000; i++) {
		ssize_t n = read(h->fd, b, sizeof(b));
		if (n == 0)
			return true;
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return true; /* ECONNRESET */
		th_pump(h, 1);
	}
	return false;
}

static inline void th_icreq(struct test_host *h, uint8_t digest, uint8_t hpda, uint32_t maxr2t)
{
	struct nvme_tcp_icreq ic;
	struct nvme_tcp_icresp rsp;
	uint8_t buf[256];

	memset(&ic, 0, sizeof(ic));
	ic.hdr.type = NVME_TCP_ICREQ;
	ic.hdr.hlen = sizeof(ic);
	ic.hdr.plen = sizeof(ic);
	ic.pfv = 0;
	ic.hpda = hpda;
	ic.digest = digest;
	ic.maxr2t = maxr2t;
	th_send(h, &ic, sizeof(ic));
	assert_int_equal(th_recv_pdu(h, buf, sizeof(buf)), sizeof(rsp));
	memcpy(&rsp, buf, sizeof(rsp));
	assert_int_equal(rsp.hdr.type, NVME_TCP_ICRESP);
	assert_int_equal(rsp.hdr.hlen, 128);
	assert_int_equal(rsp.hdr.pdo, 0);
	assert_int_equal(rsp.pfv, 0);
	assert_int_equal(rsp.cpda, 0);
	assert_int_equal(rsp.digest, digest & 3);
	assert_true(rsp.maxdata >= 4096);
	h->hdgst = digest & NVME_TCP_HDGST_ENABLE;
	h->ddgst = digest & NVME_TCP_DDGST_ENABLE;
	h->hpda = hpda;
}

/* Builds a CapsuleCmd with len bytes of in-capsule data after pad bytes of
 * padding; returns its length in out. */
static inline size_t th_build_cmd(const struct test_host *h, uint8_t *out,
				  const struct nvme_sqe *sqe, const void *data, uint32_t len,
				  uint8_t pad)
{
	struct nvme_tcp_cmd pc;
	size_t hd = h->hdgst ? 4 : 0, dd = (h->ddgst && len) ? 4 : 0, n;

	memset(&pc, 0, sizeof(pc));
	pc.hdr.type = NVME_TCP_CMD;
	pc.hdr.flags = (uint8_t)((h->hdgst ? NVME_TCP_F_HDGST : 0) | (dd ? NVME_TCP_F_DDGST : 0));
	pc.hdr.hlen = sizeof(pc);
	pc.hdr.pdo = len ? (uint8_t)(sizeof(pc) + hd + pad) : 0;
	pc.hdr.plen = (uint32_t)(sizeof(pc) + hd + (len ? pad : 0) + len + dd);
	pc.sqe = *sqe;
	memcpy(out, &pc, sizeof(pc));
	n = sizeof(pc);
	if (hd) {
		fdr_tcp_put_le32(out + n, fdr_crc32c(out, sizeof(pc)));
		n += 4;
	}
	if (len) {
		memset(out + n, 0xa5, pad);
		n += pad;
		memcpy(out + n, data, len);
		n += len;
		if (dd) {
			fdr_tcp_put_le32(out + n, fdr_crc32c(data, len));
			n += 4;
		}
	}
	return n;
}

static inline size_t th_build_h2c(const struct test_host *h, uint8_t *out, uint16_t cccid,
				  uint16_t ttag, uint32_t datao, const void *data, uint32_t len,
				  bool last)
{
	struct nvme_tcp_data d;
	size_t hd = h->hdgst ? 4 : 0, dd = h->ddgst ? 4 : 0, n;

	memset(&d, 0, sizeof(d));
	d.hdr.type = NVME_TCP_H2C_DATA;
	d.hdr.flags = (uint8_t)((h->hdgst ? NVME_TCP_F_HDGST : 0) |
				(h->ddgst ? NVME_TCP_F_DDGST : 0) | (last ? NVME_TCP_F_DATA_LAST : 0));
	d.hdr.hlen = sizeof(d);
	d.hdr.pdo = (uint8_t)(sizeof(d) + hd);
	d.hdr.plen = (uint32_t)(sizeof(d) + hd + len + dd);
	d.cccid = cccid;
	d.ttag = ttag;
	d.datao = datao;
	d.datal = len;
	memcpy(out, &d, sizeof(d));
	n = sizeof(d);
	if (hd) {
		fdr_tcp_put_le32(out + n, fdr_crc32c(out, sizeof(d)));
		n += 4;
	}
	memcpy(out + n, data, len);
	n += len;
	if (dd) {
		fdr_tcp_put_le32(out + n, fdr_crc32c(data, len));
		n += 4;
	}
	return n;
}

/* Checks a received header digest where one is due. */
static inline void th_check_hdgst(const struct test_host *h, const uint8_t *pdu)
{
	struct nvme_tcp_hdr ch;

	memcpy(&ch, pdu, sizeof(ch));
	if (ch.type == NVME_TCP_C2H_TERM || ch.type == NVME_TCP_ICRESP)
		return;
	assert_int_equal(!!(ch.flags & NVME_TCP_F_HDGST), h->hdgst);
	if (h->hdgst)
		assert_int_equal(fdr_tcp_get_le32(pdu + ch.hlen), fdr_crc32c(pdu, ch.hlen));
}

/* Receives a CapsuleResp for cid; returns its CQE. */
static inline struct nvme_cqe th_expect_rsp(struct test_host *h, uint16_t cid, uint16_t status)
{
	uint8_t buf[64];
	struct nvme_tcp_rsp rsp;

	assert_int_equal(th_recv_pdu(h, buf, sizeof(buf)), 24 + (h->hdgst ? 4 : 0));
	th_check_hdgst(h, buf);
	memcpy(&rsp, buf, sizeof(rsp));
	assert_int_equal(rsp.hdr.type, NVME_TCP_RSP);
	assert_int_equal(rsp.cqe.cid, cid);
	if ((rsp.cqe.status >> 1) != status)
		fail_msg("cid %u: status %#x, expected %#x", cid, rsp.cqe.status >> 1, status);
	return rsp.cqe;
}

/* Receives the R2T for cid; returns its TTAG. */
static inline uint16_t th_expect_r2t(struct test_host *h, uint16_t cid, uint32_t len)
{
	uint8_t buf[64];
	struct nvme_tcp_r2t r;

	th_recv_pdu(h, buf, sizeof(buf));
	th_check_hdgst(h, buf);
	memcpy(&r, buf, sizeof(r));
	assert_int_equal(r.hdr.type, NVME_TCP_R2T);
	assert_int_equal(r.cccid, cid);
	assert_int_equal(r.r2to, 0);
	assert_int_equal(r.r2tl, len);
	return r.ttag;
}

/* Receives len bytes of C2HData for cid into out (digests checked). */
static inline void th_recv_c2h(struct test_host *h, uint16_t cid, uint8_t *out, uint32_t len)
{
	static uint8_t buf[160 * 1024];
	uint32_t off = 0;

	while (off < len) {
		struct nvme_tcp_data d;
		th_recv_pdu(h, buf, sizeof(buf));
		th_check_hdgst(h, buf);
		memcpy(&d, buf, sizeof(d));
		assert_int_equal(d.hdr.type, NVME_TCP_C2H_DATA);
		assert_int_equal(d.cccid, cid);
		assert_int_equal(d.datao, off);
		assert_true(d.datal <= len - off);
		memcpy(out + off, buf + d.hdr.pdo, d.datal);
		if (h->ddgst)
			assert_int_equal(fdr_tcp_get_le32(buf + d.hdr.pdo + d.datal),
					 fdr_crc32c(buf + d.hdr.pdo, d.datal));
		off += d.datal;
		assert_int_equal(!!(d.hdr.flags & NVME_TCP_F_DATA_LAST), off == len);
	}
}

#endif

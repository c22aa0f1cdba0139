/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libfdr_host: blocking socket helpers.  Used by the library to set up a
 * connection (TCP connect, ICReq/ICResp) and by the malformed-PDU tests to
 * speak raw NVMe/TCP.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/crc32c.h"
#include "host_internal.h"

static int wait_fd(int fd, short events, int64_t deadline)
{
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = events };
		int64_t rem = deadline - host_now_ms();
		int rc;

		if (rem <= 0)
			return -ETIMEDOUT;
		rc = poll(&pfd, 1, (int)rem);
		if (rc > 0)
			return 0;
		if (rc < 0 && errno != EINTR)
			return -errno;
	}
}

static int connect_one(const struct addrinfo *ai, int64_t deadline)
{
	int fd, one = 1, rc, soerr = 0;
	socklen_t sl = sizeof(soerr);

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
	if (fd < 0)
		return -errno;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		if (errno != EINPROGRESS) {
			rc = -errno;
			close(fd);
			return rc;
		}
		rc = wait_fd(fd, POLLOUT, deadline);
		if (rc) {
			close(fd);
			return rc;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
			soerr = errno;
		if (soerr) {
			close(fd);
			return -soerr;
		}
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* Back to blocking: the raw helpers use poll() for their timeouts. */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	return fd;
}

int fdr_host_raw_connect(const char *addr, const char *port, int timeout_ms)
{
	struct addrinfo hints, *res, *ai;
	int64_t deadline = host_now_ms() + timeout_ms;
	int rc, fd = -ECONNREFUSED;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	rc = getaddrinfo(addr ? addr : "127.0.0.1", port ? port : "4420", &hints, &res);
	if (rc)
		return -EHOSTUNREACH;
	for (ai = res; ai; ai = ai->ai_next) {
		fd = connect_one(ai, deadline);
		if (fd >= 0)
			break;
	}
	freeaddrinfo(res);
	return fd;
}

int fdr_host_raw_send(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				struct pollfd pfd = { .fd = fd, .events = POLLOUT };

				poll(&pfd, 1, 1000);
				continue;
			}
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

ssize_t fdr_host_raw_recv(int fd, void *buf, size_t len, int timeout_ms)
{
	int64_t deadline = host_now_ms() + timeout_ms;
	uint8_t *p = buf;
	size_t got = 0;

	while (got < len) {
		ssize_t n;
		int rc = wait_fd(fd, POLLIN, deadline);

		if (rc)
			return rc;
		n = recv(fd, p + got, len - got, MSG_DONTWAIT);
		if (n == 0)
			return 0;
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -errno;
		}
		got += (size_t)n;
	}
	return (ssize_t)len;
}

ssize_t fdr_host_raw_recv_pdu(int fd, void *buf, size_t cap, int timeout_ms)
{
	int64_t deadline = host_now_ms() + timeout_ms;
	struct nvme_tcp_hdr h;
	uint8_t *p = buf;
	ssize_t n;
	size_t keep;

	if (cap < sizeof(h))
		return -EINVAL;
	n = fdr_host_raw_recv(fd, &h, sizeof(h), timeout_ms);
	if (n <= 0)
		return n;
	if (h.plen < sizeof(h))
		return -EPROTO;
	memcpy(p, &h, sizeof(h));
	keep = h.plen < cap ? h.plen : cap;
	n = fdr_host_raw_recv(fd, p + sizeof(h), keep - sizeof(h),
			      (int)(deadline - host_now_ms()));
	if (n < 0 || (n == 0 && keep > sizeof(h)))
		return n;
	if (h.plen > cap) {
		/* Drain the rest so the stream stays in sync (bounded to 16 MiB). */
		size_t left = h.plen - cap;
		uint8_t tmp[4096];

		if (left > (16u << 20))
			return -EMSGSIZE;
		while (left) {
			size_t k = left < sizeof(tmp) ? left : sizeof(tmp);

			n = fdr_host_raw_recv(fd, tmp, k, (int)(deadline - host_now_ms()));
			if (n <= 0)
				return n;
			left -= k;
		}
		return -EMSGSIZE;
	}
	return h.plen;
}

int fdr_host_raw_wait_close(int fd, int timeout_ms)
{
	int64_t deadline = host_now_ms() + timeout_ms;
	uint8_t tmp[4096];

	for (;;) {
		ssize_t n;
		int rc = wait_fd(fd, POLLIN, deadline);

		if (rc)
			return rc == -ETIMEDOUT ? rc : 0;
		n = recv(fd, tmp, sizeof(tmp), MSG_DONTWAIT);
		if (n == 0)
			return 0;
		if (n < 0 && errno != EINTR && errno != EAGAIN)
			return 0; /* reset */
	}
}

int fdr_host_raw_icreq(int fd, bool hdgst, bool ddgst, struct nvme_tcp_icresp *resp,
		       int timeout_ms)
{
	struct nvme_tcp_icreq req;
	ssize_t n;
	int rc;

	memset(&req, 0, sizeof(req));
	req.hdr.type = NVME_TCP_ICREQ;
	req.hdr.hlen = sizeof(req);
	req.hdr.plen = sizeof(req);
	req.pfv = NVME_TCP_PFV_1_0;
	req.hpda = 0;
	req.digest = (uint8_t)((hdgst ? NVME_TCP_HDGST_ENABLE : 0) |
			       (ddgst ? NVME_TCP_DDGST_ENABLE : 0));
	req.maxr2t = 0;
	rc = fdr_host_raw_send(fd, &req, sizeof(req));
	if (rc)
		return rc;
	n = fdr_host_raw_recv_pdu(fd, resp, sizeof(*resp), timeout_ms);
	if (n < 0)
		return (int)n;
	if (n == 0)
		return -ECONNRESET;
	if (n != sizeof(*resp) || resp->hdr.type != NVME_TCP_ICRESP ||
	    resp->hdr.hlen != sizeof(*resp) || resp->hdr.pdo != 0)
		return -EPROTO;
	return 0;
}

void fdr_host_raw_set_hdgst(void *pdu)
{
	struct nvme_tcp_hdr *h = pdu;
	uint8_t *p = pdu;
	uint32_t crc = fdr_crc32c(p, h->hlen);

	p[h->hlen] = (uint8_t)crc;
	p[h->hlen + 1] = (uint8_t)(crc >> 8);
	p[h->hlen + 2] = (uint8_t)(crc >> 16);
	p[h->hlen + 3] = (uint8_t)(crc >> 24);
}

ssize_t fdr_host_raw_build_cmd(void *out, size_t cap, const struct nvme_sqe *sqe,
			       const void *data, uint32_t len, bool hdgst, bool ddgst,
			       uint8_t cpda)
{
	uint32_t hd = hdgst ? 4 : 0, dd = (ddgst && len) ? 4 : 0;
	uint32_t align = 4u * (cpda + 1u);
	uint32_t pdo = len ? (72 + hd + align - 1) / align * align : 0;
	uint32_t plen = len ? pdo + len + dd : 72 + hd;
	struct nvme_tcp_cmd *pdu = out;
	uint8_t *p = out;

	if (plen > cap)
		return -ENOSPC;
	memset(p, 0, len ? pdo : plen);
	pdu->hdr.type = NVME_TCP_CMD;
	pdu->hdr.flags = (uint8_t)((hd ? NVME_TCP_F_HDGST : 0) | (dd ? NVME_TCP_F_DDGST : 0));
	pdu->hdr.hlen = 72;
	pdu->hdr.pdo = (uint8_t)pdo;
	pdu->hdr.plen = plen;
	pdu->sqe = *sqe;
	if (hd)
		fdr_host_raw_set_hdgst(p);
	if (len) {
		memcpy(p + pdo, data, len);
		if (dd) {
			uint32_t crc = fdr_crc32c(data, len);

			p[pdo + len] = (uint8_t)crc;
			p[pdo + len + 1] = (uint8_t)(crc >> 8);
			p[pdo + len + 2] = (uint8_t)(crc >> 16);
			p[pdo + len + 3] = (uint8_t)(crc >> 24);
		}
	}
	return plen;
}

int fdr_host_raw_fabrics_connect(int fd, bool hdgst, bool ddgst, uint16_t qid, uint16_t cntlid,
				 uint16_t sqsize, uint32_t kato_ms, const char *subnqn,
				 const char *hostnqn, struct nvme_cqe *cqe, int timeout_ms)
{
	struct nvme_fabrics_connect_cmd cmd;
	struct nvme_fabrics_connect_data data;
	struct nvme_tcp_rsp rsp;
	uint8_t rbuf[256];
	uint8_t *pdu;
	ssize_t n;
	int rc;

	memset(&cmd, 0, sizeof(cmd));
	cmd.opc = NVME_ADM_FABRICS;
	cmd.flags = NVME_PSDT_SGL_MPTR_CONTIG << NVME_CMD_FLAGS_PSDT_SHIFT;
	cmd.cid = 0x1234 & 0x0fff;
	cmd.fctype = NVME_FCTYPE_CONNECT;
	cmd.qid = qid;
	cmd.sqsize = sqsize;
	cmd.kato = kato_ms;
	cmd.sgl1.length = sizeof(data);
	cmd.sgl1.type = NVME_SGL_TYPE_DATA_BLOCK << 4 | NVME_SGL_SUBTYPE_OFFSET;
	memset(&data, 0, sizeof(data));
	for (unsigned i = 0; i < sizeof(data.hostid); i++)
		data.hostid[i] = (uint8_t)(0xa0 + i);
	data.cntlid = cntlid;
	snprintf(data.subnqn, sizeof(data.subnqn), "%s", subnqn);
	snprintf(data.hostnqn, sizeof(data.hostnqn), "%s",
		 hostnqn ? hostnqn : "nqn.2014-08.org.nvmexpress:uuid:a0a1a2a3-a4a5-a6a7-a8a9-aaabacadaeaf");
	pdu = malloc(2048);
	if (!pdu)
		return -ENOMEM;
	n = fdr_host_raw_build_cmd(pdu, 2048, (struct nvme_sqe *)&cmd, &data, sizeof(data), hdgst,
				   ddgst, 0);
	rc = n < 0 ? (int)n : fdr_host_raw_send(fd, pdu, (size_t)n);
	free(pdu);
	if (rc)
		return rc;
	n = fdr_host_raw_recv_pdu(fd, rbuf, sizeof(rbuf), timeout_ms);
	if (n < 0)
		return (int)n;
	if (n == 0)
		return -ECONNRESET;
	memcpy(&rsp, rbuf, sizeof(rsp));
	if (n < (ssize_t)sizeof(rsp) || rsp.hdr.type != NVME_TCP_RSP)
		return -EPROTO;
	if (cqe)
		*cqe = rsp.cqe;
	return 0;
}

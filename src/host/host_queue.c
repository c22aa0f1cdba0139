/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libfdr_host: one queue = one NVMe/TCP connection.  Command submission,
 * the transmit batcher (sendmsg of header arena + caller buffers), the
 * receive state machine (CapsuleResp, C2HData, R2T, C2HTermReq) and the
 * synchronous wrappers.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/crc32c.h"
#include "host_internal.h"

void host_seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

uint8_t host_cmd_dir(const struct nvme_sqe *cmd)
{
	if (cmd->opc == NVME_ADM_FABRICS)
		return ((const struct nvme_fabrics_cmd *)cmd)->fctype & NVME_OPC_XFER_MASK;
	return cmd->opc & NVME_OPC_XFER_MASK;
}

/* ---- Completion ------------------------------------------------------------ */

static void req_put(struct fdr_host_queue *q, struct host_req *r)
{
	r->busy = false;
	r->next = q->free;
	q->free = r;
	q->inflight--;
}

/* Hand the completion to the owner; the request slot is free before cb runs. */
static void req_complete(struct fdr_host_queue *q, struct host_req *r, const struct nvme_cqe *cqe)
{
	fdr_host_cb cb = r->cb;
	void *arg = r->arg;
	struct nvme_cqe c = *cqe;
	bool was_in_cb = q->in_cb;

	req_put(q, r);
	q->reaped++;
	q->in_cb = true;
	if (cb)
		cb(arg, &c);
	q->in_cb = was_in_cb;
}

/* A CQE (real or derived from C2HData SUCCESS) arrived for r. */
static void req_finish(struct fdr_host_queue *q, struct host_req *r, const struct nvme_cqe *cqe)
{
	/* No more data for this command: drop it from the h2c FIFO. */
	if (r->h2c_active) {
		struct host_req **pp = &q->h2c_head, *prev = NULL;

		while (*pp && *pp != r) {
			prev = *pp;
			pp = &(*pp)->h2c_next;
		}
		if (*pp) {
			*pp = r->h2c_next;
			if (q->h2c_tail == r)
				q->h2c_tail = prev;
		}
		r->h2c_active = false;
	}
	if (r->tx_refs) {
		r->cqe = *cqe;
		r->done_pending = true;
		return;
	}
	req_complete(q, r, cqe);
}

void host_queue_fail(struct fdr_host_queue *q, int err, const char *fmt, ...)
{
	va_list ap;
	struct nvme_cqe cqe;

	if (q->dead)
		return;
	q->dead = true;
	q->err_errno = err ? err : EIO;
	va_start(ap, fmt);
	vsnprintf(q->errmsg, sizeof(q->errmsg), fmt, ap);
	va_end(ap);
	if (q->fd >= 0)
		shutdown(q->fd, SHUT_RDWR);

	/* Nothing will be sent any more: forget the batch and the FIFOs. */
	for (int i = 0; i < q->nbatch; i++)
		q->batch_reqs[i]->tx_refs = 0;
	q->nbatch = 0;
	q->niov = q->iov_pos = 0;
	q->cmd_head = q->cmd_tail = NULL;
	q->h2c_head = q->h2c_tail = NULL;
	q->rx_state = RX_HDR;
	q->rx_req = NULL;

	for (unsigned i = 0; i < q->depth; i++) {
		struct host_req *r = &q->reqs[i];

		if (!r->busy)
			continue;
		r->h2c_active = false;
		if (r->done_pending) {
			r->done_pending = false;
			req_complete(q, r, &r->cqe);
			continue;
		}
		memset(&cqe, 0, sizeof(cqe));
		cqe.cid = r->sqe.cid;
		cqe.sqid = q->qid;
		cqe.sqhd = 0xffff;
		cqe.status = (uint16_t)(FDR_HOST_STATUS_TRANSPORT << 1);
		req_complete(q, r, &cqe);
	}
}

/* ---- Transmit ---------------------------------------------------------------- */

static bool batch_room(const struct fdr_host_queue *q)
{
	return q->niov + 4 <= HOST_BATCH_IOV && q->arena_used + HOST_ARENA_PDU <= HOST_ARENA &&
	       q->nbatch < HOST_BATCH_IOV;
}

/* Reserve len arena bytes, merged with the previous iovec when contiguous. */
static uint8_t *batch_arena(struct fdr_host_queue *q, size_t len)
{
	uint8_t *p = q->arena + q->arena_used;

	q->arena_used += len;
	if (q->niov && (uint8_t *)q->iov[q->niov - 1].iov_base + q->iov[q->niov - 1].iov_len == p) {
		q->iov[q->niov - 1].iov_len += len;
	} else {
		q->iov[q->niov].iov_base = p;
		q->iov[q->niov].iov_len = len;
		q->niov++;
	}
	return p;
}

static void batch_data(struct fdr_host_queue *q, const void *data, size_t len)
{
	if (!len)
		return;
	q->iov[q->niov].iov_base = (void *)data;
	q->iov[q->niov].iov_len = len;
	q->niov++;
}

static uint32_t pdo_align(const struct fdr_host_queue *q, uint32_t off)
{
	uint32_t a = 4u * (q->cpda + 1u);

	return (off + a - 1) / a * a;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void batch_add_cmd(struct fdr_host_queue *q, struct host_req *r)
{
	uint32_t hd = q->hdgst ? NVME_TCP_DIGEST_LEN : 0;
	uint32_t datalen = r->incapsule ? r->len : 0;
	uint32_t dd = (datalen && q->ddgst) ? NVME_TCP_DIGEST_LEN : 0;
	uint32_t pdo = datalen ? pdo_align(q, sizeof(struct nvme_tcp_cmd) + hd) : 0;
	uint32_t hpart = datalen ? pdo : (uint32_t)sizeof(struct nvme_tcp_cmd) + hd;
	uint8_t *p = batch_arena(q, hpart);
	struct nvme_tcp_cmd *pdu = (struct nvme_tcp_cmd *)p;

	memset(p, 0, hpart);
	pdu->hdr.type = NVME_TCP_CMD;
	pdu->hdr.flags = (uint8_t)((hd ? NVME_TCP_F_HDGST : 0) | (dd ? NVME_TCP_F_DDGST : 0));
	pdu->hdr.hlen = sizeof(struct nvme_tcp_cmd);
	pdu->hdr.pdo = (uint8_t)pdo;
	pdu->hdr.plen = hpart + datalen + dd;
	pdu->sqe = r->sqe;
	if (hd)
		put_le32(p + sizeof(*pdu), fdr_crc32c(p, sizeof(*pdu)));
	if (datalen) {
		batch_data(q, r->buf, datalen);
		if (dd)
			put_le32(batch_arena(q, dd), fdr_crc32c(r->buf, datalen));
	}
	r->cmd_sent = true;
	r->tx_refs++;
	q->batch_reqs[q->nbatch++] = r;
}

/* One H2CData PDU of the R2T r is answering; true when the R2T is done. */
static bool batch_add_h2c(struct fdr_host_queue *q, struct host_req *r)
{
	uint32_t hd = q->hdgst ? NVME_TCP_DIGEST_LEN : 0;
	uint32_t dd = q->ddgst ? NVME_TCP_DIGEST_LEN : 0;
	uint32_t n = r->h2c_end - r->h2c_off;
	uint32_t pdo = pdo_align(q, sizeof(struct nvme_tcp_data) + hd);
	bool last;
	uint8_t *p;
	struct nvme_tcp_data *pdu;

	if (n > q->maxh2c)
		n = q->maxh2c;
	last = r->h2c_off + n == r->h2c_end;
	p = batch_arena(q, pdo);
	pdu = (struct nvme_tcp_data *)p;
	memset(p, 0, pdo);
	pdu->hdr.type = NVME_TCP_H2C_DATA;
	pdu->hdr.flags = (uint8_t)((hd ? NVME_TCP_F_HDGST : 0) | (dd ? NVME_TCP_F_DDGST : 0) |
				   (last ? NVME_TCP_F_DATA_LAST : 0));
	pdu->hdr.hlen = sizeof(*pdu);
	pdu->hdr.pdo = (uint8_t)pdo;
	pdu->hdr.plen = pdo + n + dd;
	pdu->cccid = r->sqe.cid;
	pdu->ttag = r->ttag;
	pdu->datao = r->h2c_off;
	pdu->datal = n;
	if (hd)
		put_le32(p + sizeof(*pdu), fdr_crc32c(p, sizeof(*pdu)));
	batch_data(q, r->buf + r->h2c_off, n);
	if (dd)
		put_le32(batch_arena(q, dd), fdr_crc32c(r->buf + r->h2c_off, n));
	r->h2c_off += n;
	r->h2c_sent += n;
	r->tx_refs++;
	q->batch_reqs[q->nbatch++] = r;
	return last;
}

static void batch_build(struct fdr_host_queue *q)
{
	q->niov = q->iov_pos = 0;
	q->arena_used = 0;
	q->nbatch = 0;
	/* Data answering R2Ts first: the target is waiting for it. */
	while (q->h2c_head && batch_room(q)) {
		struct host_req *r = q->h2c_head;

		if (batch_add_h2c(q, r)) {
			q->h2c_head = r->h2c_next;
			if (!q->h2c_head)
				q->h2c_tail = NULL;
			r->h2c_next = NULL;
			r->h2c_active = false;
		}
	}
	while (q->cmd_head && batch_room(q)) {
		struct host_req *r = q->cmd_head;

		q->cmd_head = r->next;
		if (!q->cmd_head)
			q->cmd_tail = NULL;
		r->next = NULL;
		batch_add_cmd(q, r);
	}
}

static void batch_done(struct fdr_host_queue *q)
{
	int n = q->nbatch;

	q->nbatch = 0;
	q->niov = q->iov_pos = 0;
	for (int i = 0; i < n; i++) {
		struct host_req *r = q->batch_reqs[i];

		if (r->tx_refs && --r->tx_refs == 0 && r->done_pending) {
			r->done_pending = false;
			req_complete(q, r, &r->cqe);
		}
	}
}

static bool tx_pending(const struct fdr_host_queue *q)
{
	return q->iov_pos < q->niov || q->cmd_head || q->h2c_head;
}

/* Send as much as the socket takes without blocking. */
static void tx_progress(struct fdr_host_queue *q)
{
	while (!q->dead) {
		struct msghdr msg;
		ssize_t n;

		if (q->iov_pos >= q->niov) {
			if (q->nbatch)
				batch_done(q);
			if (q->dead)
				return;
			batch_build(q);
			if (!q->niov)
				return;
		}
		memset(&msg, 0, sizeof(msg));
		msg.msg_iov = q->iov + q->iov_pos;
		msg.msg_iovlen = (size_t)(q->niov - q->iov_pos);
		n = sendmsg(q->fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			host_queue_fail(q, errno, "send: %s", strerror(errno));
			return;
		}
		while (n > 0) {
			struct iovec *v = &q->iov[q->iov_pos];

			if ((size_t)n >= v->iov_len) {
				n -= (ssize_t)v->iov_len;
				q->iov_pos++;
			} else {
				v->iov_base = (uint8_t *)v->iov_base + n;
				v->iov_len -= (size_t)n;
				n = 0;
			}
		}
	}
}

/* ---- Receive ------------------------------------------------------------------ */

static struct host_req *req_by_cid(struct fdr_host_queue *q, uint16_t cid)
{
	if (cid >= q->depth || !q->reqs[cid].busy)
		return NULL;
	return &q->reqs[cid];
}

static void rx_handle_rsp(struct fdr_host_queue *q, const uint8_t *p)
{
	const struct nvme_tcp_rsp *pdu = (const struct nvme_tcp_rsp *)p;
	struct nvme_cqe cqe = pdu->cqe;
	struct host_req *r = req_by_cid(q, cqe.cid);

	if (!r) {
		host_queue_fail(q, EPROTO, "CapsuleResp for unknown cid %u", cqe.cid);
		return;
	}
	if (!r->cmd_sent) {
		host_queue_fail(q, EPROTO, "CapsuleResp for cid %u before its command was sent",
				cqe.cid);
		return;
	}
	/* A failed Connect has no SQ yet: accept any SQID there. */
	if (cqe.sqid != q->qid &&
	    !(r->sqe.opc == NVME_ADM_FABRICS &&
	      ((const struct nvme_fabrics_cmd *)&r->sqe)->fctype == NVME_FCTYPE_CONNECT &&
	      (cqe.status >> 1) != 0)) {
		host_queue_fail(q, EPROTO, "CapsuleResp for cid %u has sqid %u on queue %u",
				cqe.cid, cqe.sqid, q->qid);
		return;
	}
	q->last_sqhd = cqe.sqhd;
	req_finish(q, r, &cqe);
}

static void rx_handle_r2t(struct fdr_host_queue *q, const uint8_t *p)
{
	const struct nvme_tcp_r2t *pdu = (const struct nvme_tcp_r2t *)p;
	struct host_req *r = req_by_cid(q, pdu->cccid);

	if (!r || !r->cmd_sent) {
		host_queue_fail(q, EPROTO, "R2T for unknown cid %u", pdu->cccid);
		return;
	}
	if (r->dir != NVME_OPC_XFER_TO_CTRL || r->incapsule) {
		host_queue_fail(q, EPROTO, "R2T for cid %u which has no data to send (incapsule %d)",
				pdu->cccid, r->incapsule);
		return;
	}
	if (r->h2c_active) {
		host_queue_fail(q, EPROTO, "R2T for cid %u while an R2T is outstanding (MAXR2T 1)",
				pdu->cccid);
		return;
	}
	if (pdu->r2tl == 0 || pdu->r2to > r->len || pdu->r2tl > r->len - pdu->r2to) {
		host_queue_fail(q, EPROTO, "R2T for cid %u out of range: r2to %u r2tl %u len %u",
				pdu->cccid, pdu->r2to, pdu->r2tl, r->len);
		return;
	}
	r->ttag = pdu->ttag;
	r->h2c_off = pdu->r2to;
	r->h2c_end = pdu->r2to + pdu->r2tl;
	r->h2c_active = true;
	r->h2c_next = NULL;
	if (q->h2c_tail)
		q->h2c_tail->h2c_next = r;
	else
		q->h2c_head = r;
	q->h2c_tail = r;
}

static void rx_handle_term(struct fdr_host_queue *q, const uint8_t *p)
{
	const struct nvme_tcp_term *pdu = (const struct nvme_tcp_term *)p;

	q->term_fes = pdu->fes ? pdu->fes : 0xffff;
	host_queue_fail(q, ECONNABORTED, "C2HTermReq received: fes %#x fei %#x", pdu->fes,
			pdu->fei);
}

static void rx_data_pdu_done(struct fdr_host_queue *q)
{
	struct host_req *r = q->rx_req;

	q->rx_state = RX_HDR;
	q->rx_req = NULL;
	if ((q->rx_flags & NVME_TCP_F_DATA_SUCCESS)) {
		struct nvme_cqe cqe;

		if (r->c2h_rcvd != r->len) {
			host_queue_fail(q, EPROTO,
					"C2HData SUCCESS for cid %u after %u of %u bytes",
					r->sqe.cid, r->c2h_rcvd, r->len);
			return;
		}
		memset(&cqe, 0, sizeof(cqe));
		cqe.cid = r->sqe.cid;
		cqe.sqid = q->qid;
		cqe.sqhd = q->last_sqhd;
		req_finish(q, r, &cqe);
	}
}

/* Header part of a C2HData PDU is complete at p; sets up the data phase. */
static void rx_handle_c2h(struct fdr_host_queue *q, const uint8_t *p)
{
	const struct nvme_tcp_data *pdu = (const struct nvme_tcp_data *)p;
	struct host_req *r = req_by_cid(q, pdu->cccid);
	uint32_t dd = (pdu->hdr.flags & NVME_TCP_F_DDGST) ? NVME_TCP_DIGEST_LEN : 0;

	if (!r || !r->cmd_sent) {
		host_queue_fail(q, EPROTO, "C2HData for unknown cid %u", pdu->cccid);
		return;
	}
	if (r->dir != NVME_OPC_XFER_FROM_CTRL) {
		host_queue_fail(q, EPROTO, "C2HData for cid %u which is not a read", pdu->cccid);
		return;
	}
	if (pdu->datao > r->len || pdu->datal > r->len - pdu->datao) {
		host_queue_fail(q, EPROTO, "C2HData for cid %u out of range: datao %u datal %u len %u",
				pdu->cccid, pdu->datao, pdu->datal, r->len);
		return;
	}
	if (pdu->datao != r->c2h_rcvd) {
		host_queue_fail(q, EPROTO, "C2HData for cid %u at datao %u, expected %u",
				pdu->cccid, pdu->datao, r->c2h_rcvd);
		return;
	}
	if ((q->ddgst && pdu->datal) != !!dd) {
		host_queue_fail(q, EPROTO, "C2HData DDGST flag %s but data digest %s",
				dd ? "set" : "clear", q->ddgst ? "negotiated" : "off");
		return;
	}
	if (pdu->hdr.plen != (uint64_t)pdu->hdr.pdo + pdu->datal + dd) {
		host_queue_fail(q, EPROTO, "C2HData plen %u != pdo %u + datal %u + ddgst %u",
				pdu->hdr.plen, pdu->hdr.pdo, pdu->datal, dd);
		return;
	}
	if ((pdu->hdr.flags & NVME_TCP_F_DATA_SUCCESS) && !(pdu->hdr.flags & NVME_TCP_F_DATA_LAST)) {
		host_queue_fail(q, EPROTO, "C2HData SUCCESS without LAST_PDU");
		return;
	}
	q->rx_req = r;
	q->rx_flags = pdu->hdr.flags;
	q->rx_dst = r->buf + pdu->datao;
	q->rx_left = pdu->datal;
	q->rx_crc = FDR_CRC32C_INIT;
	q->rx_dd_have = 0;
	r->c2h_rcvd += pdu->datal;
	if (pdu->datal)
		q->rx_state = RX_DATA;
	else
		rx_data_pdu_done(q);
}

/*
 * Validate a common header; returns the size of the header part (the
 * bytes up to the data, or the whole PDU) or 0 after failing the queue.
 */
static uint32_t rx_check_hdr(struct fdr_host_queue *q, const struct nvme_tcp_hdr *h)
{
	uint32_t hd = q->hdgst ? NVME_TCP_DIGEST_LEN : 0;
	uint32_t want_hlen;

	switch (h->type) {
	case NVME_TCP_C2H_TERM:
		if (h->hlen != sizeof(struct nvme_tcp_term) || h->plen < h->hlen ||
		    h->plen > (uint32_t)h->hlen + NVME_TCP_TERM_MAX_DATA) {
			host_queue_fail(q, EPROTO, "bad C2HTermReq header: hlen %u plen %u", h->hlen,
					h->plen);
			return 0;
		}
		return h->plen;
	case NVME_TCP_RSP:
		want_hlen = sizeof(struct nvme_tcp_rsp);
		break;
	case NVME_TCP_R2T:
		want_hlen = sizeof(struct nvme_tcp_r2t);
		break;
	case NVME_TCP_C2H_DATA:
		want_hlen = sizeof(struct nvme_tcp_data);
		break;
	default:
		host_queue_fail(q, EPROTO, "unexpected PDU type %#x (hlen %u plen %u)", h->type,
				h->hlen, h->plen);
		return 0;
	}
	if (h->hlen != want_hlen) {
		host_queue_fail(q, EPROTO, "PDU type %#x with hlen %u (want %u)", h->type, h->hlen,
				want_hlen);
		return 0;
	}
	if (!!(h->flags & NVME_TCP_F_HDGST) != !!hd) {
		host_queue_fail(q, EPROTO, "PDU type %#x HDGST flag %s but header digest %s",
				h->type, (h->flags & NVME_TCP_F_HDGST) ? "set" : "clear",
				hd ? "negotiated" : "off");
		return 0;
	}
	if (h->type == NVME_TCP_C2H_DATA) {
		if (h->pdo < want_hlen + hd || h->pdo > h->plen || h->pdo % 4) {
			host_queue_fail(q, EPROTO, "C2HData pdo %u (hlen %u hdgst %u plen %u)",
					h->pdo, h->hlen, hd, h->plen);
			return 0;
		}
		return h->pdo;
	}
	if (h->plen != want_hlen + hd || h->pdo != 0) {
		host_queue_fail(q, EPROTO, "PDU type %#x with plen %u pdo %u (want plen %u)",
				h->type, h->plen, h->pdo, want_hlen + hd);
		return 0;
	}
	return h->plen;
}

/* Process what is buffered in [rpos, wpos). */
static void rx_process(struct fdr_host_queue *q)
{
	while (!q->dead) {
		size_t avail = q->wpos - q->rpos;
		uint8_t *p = q->rxbuf + q->rpos;

		switch (q->rx_state) {
		case RX_HDR: {
			struct nvme_tcp_hdr h;
			uint32_t hpart;

			if (avail < sizeof(h))
				return;
			memcpy(&h, p, sizeof(h));
			hpart = rx_check_hdr(q, &h);
			if (!hpart)
				return;
			if (avail < hpart)
				return;
			if (h.type != NVME_TCP_C2H_TERM && (h.flags & NVME_TCP_F_HDGST)) {
				uint32_t want = fdr_crc32c(p, h.hlen);
				uint32_t got = get_le32(p + h.hlen);

				if (want != got) {
					host_queue_fail(q, EPROTO,
							"header digest mismatch on PDU type %#x: got %#x want %#x",
							h.type, got, want);
					return;
				}
			}
			q->rpos += hpart;
			switch (h.type) {
			case NVME_TCP_RSP:
				rx_handle_rsp(q, p);
				break;
			case NVME_TCP_R2T:
				rx_handle_r2t(q, p);
				break;
			case NVME_TCP_C2H_DATA:
				rx_handle_c2h(q, p);
				break;
			case NVME_TCP_C2H_TERM:
				rx_handle_term(q, p);
				break;
			}
			break;
		}
		case RX_DATA: {
			uint32_t n = avail < q->rx_left ? (uint32_t)avail : q->rx_left;

			if (!n)
				return;
			memcpy(q->rx_dst, p, n);
			if (q->rx_flags & NVME_TCP_F_DDGST)
				q->rx_crc = fdr_crc32c_update(q->rx_crc, p, n);
			q->rx_dst += n;
			q->rx_left -= n;
			q->rpos += n;
			if (!q->rx_left) {
				if (q->rx_flags & NVME_TCP_F_DDGST)
					q->rx_state = RX_DDGST;
				else
					rx_data_pdu_done(q);
			}
			break;
		}
		case RX_DDGST: {
			uint32_t n = 4 - q->rx_dd_have;

			if (avail < n)
				n = (uint32_t)avail;
			if (!n)
				return;
			memcpy(q->rx_dd + q->rx_dd_have, p, n);
			q->rx_dd_have += n;
			q->rpos += n;
			if (q->rx_dd_have == 4) {
				uint32_t want = fdr_crc32c_final(q->rx_crc);
				uint32_t got = get_le32(q->rx_dd);

				if (want != got) {
					host_queue_fail(q, EPROTO,
							"data digest mismatch on C2HData for cid %u: got %#x want %#x",
							q->rx_req->sqe.cid, got, want);
					return;
				}
				rx_data_pdu_done(q);
			}
			break;
		}
		}
	}
}

/* Read what the socket has and process it. */
static void rx_pump(struct fdr_host_queue *q)
{
	while (!q->dead) {
		ssize_t n;
		size_t room;

		if (q->rpos == q->wpos)
			q->rpos = q->wpos = 0;
		/* Large data with nothing buffered: straight into the caller's buffer. */
		if (q->rx_state == RX_DATA && q->rpos == q->wpos && q->rx_left >= 16384) {
			n = recv(q->fd, q->rx_dst, q->rx_left, MSG_DONTWAIT);
			if (n > 0) {
				if (q->rx_flags & NVME_TCP_F_DDGST)
					q->rx_crc = fdr_crc32c_update(q->rx_crc, q->rx_dst, (size_t)n);
				q->rx_dst += n;
				q->rx_left -= (uint32_t)n;
				if (!q->rx_left) {
					if (q->rx_flags & NVME_TCP_F_DDGST)
						q->rx_state = RX_DDGST;
					else
						rx_data_pdu_done(q);
				}
				continue;
			}
		} else {
			if (q->rx_state == RX_HDR && HOST_RXBUF - q->rpos < HOST_HDR_MAX) {
				memmove(q->rxbuf, q->rxbuf + q->rpos, q->wpos - q->rpos);
				q->wpos -= q->rpos;
				q->rpos = 0;
			}
			room = HOST_RXBUF - q->wpos;
			n = recv(q->fd, q->rxbuf + q->wpos, room, MSG_DONTWAIT);
			if (n > 0) {
				q->wpos += (size_t)n;
				rx_process(q);
				if ((size_t)n < room)
					return;
				continue;
			}
		}
		if (n == 0) {
			host_queue_fail(q, ECONNRESET, "connection closed by the target");
			return;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return;
		host_queue_fail(q, errno, "recv: %s", strerror(errno));
		return;
	}
}

/* ---- Public queue API -------------------------------------------------------- */

int fdr_host_submit(struct fdr_host_queue *q, struct nvme_sqe *cmd, void *buf, uint32_t len,
		    fdr_host_cb cb, void *arg)
{
	struct host_req *r;
	uint8_t dir = host_cmd_dir(cmd);

	if (q->dead)
		return -ENOTCONN;
	if (!buf)
		len = 0;
	if (dir == NVME_OPC_XFER_BIDIR || (dir == NVME_OPC_XFER_NONE && len))
		return -EINVAL;
	r = q->free;
	if (!r)
		return -EBUSY;
	q->free = r->next;
	q->inflight++;

	r->sqe = *cmd;
	r->sqe.cid = (uint16_t)(r - q->reqs);
	r->sqe.flags = (uint8_t)((cmd->flags & NVME_CMD_FLAGS_FUSE_MASK) |
				 (NVME_PSDT_SGL_MPTR_CONTIG << NVME_CMD_FLAGS_PSDT_SHIFT));
	r->buf = buf;
	r->len = len;
	r->dir = dir;
	r->busy = true;
	r->incapsule = dir == NVME_OPC_XFER_TO_CTRL && len && len <= q->icd;
	r->h2c_active = r->done_pending = r->cmd_sent = false;
	r->tx_refs = 0;
	r->c2h_rcvd = r->h2c_sent = 0;
	r->cb = cb;
	r->arg = arg;
	r->next = r->h2c_next = NULL;
	memset(&r->sqe.dptr, 0, sizeof(r->sqe.dptr));
	r->sqe.dptr.sgl1.length = len;
	if (r->incapsule)
		r->sqe.dptr.sgl1.type = NVME_SGL_TYPE_DATA_BLOCK << 4 | NVME_SGL_SUBTYPE_OFFSET;
	else
		r->sqe.dptr.sgl1.type =
			NVME_SGL_TYPE_TRANSPORT_DATA_BLOCK << 4 | NVME_SGL_SUBTYPE_TRANSPORT;
	cmd->cid = r->sqe.cid;

	if (q->cmd_tail)
		q->cmd_tail->next = r;
	else
		q->cmd_head = r;
	q->cmd_tail = r;
	return 0;
}

int fdr_host_poll(struct fdr_host_queue *q, int timeout_ms)
{
	uint64_t start = q->reaped;
	int64_t deadline = timeout_ms > 0 ? host_now_ms() + timeout_ms : 0;

	if (q->in_cb)
		return -EDEADLK; /* not from inside a completion callback */
	for (;;) {
		struct pollfd pfd;
		int wait, rc;

		if (!q->dead) {
			tx_progress(q);
			rx_pump(q);
			tx_progress(q);
		}
		if (q->reaped != start)
			return (int)(q->reaped - start);
		if (q->dead)
			return -q->err_errno;
		if (timeout_ms == 0)
			return 0;
		if (timeout_ms < 0) {
			wait = -1;
		} else {
			int64_t rem = deadline - host_now_ms();

			if (rem <= 0)
				return 0;
			wait = (int)rem;
		}
		pfd.fd = q->fd;
		pfd.events = (short)(POLLIN | (q->iov_pos < q->niov || q->cmd_head || q->h2c_head ?
						       POLLOUT : 0));
		pfd.revents = 0;
		rc = poll(&pfd, 1, wait);
		if (rc < 0 && errno != EINTR) {
			host_queue_fail(q, errno, "poll: %s", strerror(errno));
		}
	}
}

int fdr_host_flush(struct fdr_host_queue *q)
{
	int64_t deadline = host_now_ms() + q->timeout_ms;

	while (!q->dead) {
		struct pollfd pfd;
		int64_t rem;

		tx_progress(q);
		if (!tx_pending(q))
			return 0;
		rx_pump(q);
		rem = deadline - host_now_ms();
		if (rem <= 0)
			return -ETIMEDOUT;
		pfd.fd = q->fd;
		pfd.events = POLLIN | POLLOUT;
		pfd.revents = 0;
		poll(&pfd, 1, (int)rem);
	}
	return -q->err_errno;
}

struct sync_ctx {
	bool done;
	struct nvme_cqe cqe;
};

static void sync_cb(void *arg, const struct nvme_cqe *cqe)
{
	struct sync_ctx *s = arg;

	s->done = true;
	s->cqe = *cqe;
}

int fdr_host_io(struct fdr_host_queue *q, struct nvme_sqe *cmd, void *buf, uint32_t len,
		struct nvme_cqe *cqe)
{
	struct sync_ctx s = { .done = false };
	int64_t deadline;
	int rc;

	if (q->in_cb)
		return -EDEADLK;
	rc = fdr_host_submit(q, cmd, buf, len, sync_cb, &s);
	if (rc)
		return rc;
	deadline = host_now_ms() + q->timeout_ms;
	while (!s.done) {
		int64_t rem = deadline - host_now_ms();

		if (rem <= 0) {
			host_queue_fail(q, ETIMEDOUT,
					"timeout: no completion for opcode %#x cid %u after %d ms",
					cmd->opc, cmd->cid, q->timeout_ms);
			break;
		}
		fdr_host_poll(q, (int)rem);
	}
	if (cqe)
		*cqe = s.cqe;
	if (!s.done)
		return -EIO; /* not reached: failing the queue completes everything */
	if (q->dead && fdr_host_status(&s.cqe) == FDR_HOST_STATUS_TRANSPORT &&
	    s.cqe.sqhd == 0xffff)
		return -q->err_errno;
	return 0;
}

int fdr_host_queue_wait_dead(struct fdr_host_queue *q, int timeout_ms)
{
	int64_t deadline = host_now_ms() + timeout_ms;

	while (!q->dead) {
		int64_t rem = deadline - host_now_ms();

		if (rem <= 0)
			return -ETIMEDOUT;
		fdr_host_poll(q, (int)rem);
	}
	return 0;
}

unsigned fdr_host_queue_inflight(const struct fdr_host_queue *q)
{
	return q->inflight;
}

unsigned fdr_host_queue_depth(const struct fdr_host_queue *q)
{
	return q->depth;
}

uint16_t fdr_host_queue_qid(const struct fdr_host_queue *q)
{
	return q->qid;
}

void fdr_host_queue_set_incapsule(struct fdr_host_queue *q, uint32_t bytes)
{
	q->icd = bytes;
}

void fdr_host_queue_set_timeout(struct fdr_host_queue *q, int timeout_ms)
{
	q->timeout_ms = timeout_ms > 0 ? timeout_ms : HOST_DEFAULT_TIMEOUT;
}

uint32_t fdr_host_queue_incapsule(const struct fdr_host_queue *q)
{
	return q->icd;
}

uint32_t fdr_host_queue_maxh2cdata(const struct fdr_host_queue *q)
{
	return q->maxh2c;
}

bool fdr_host_queue_hdgst(const struct fdr_host_queue *q)
{
	return q->hdgst;
}

bool fdr_host_queue_ddgst(const struct fdr_host_queue *q)
{
	return q->ddgst;
}

bool fdr_host_queue_dead(const struct fdr_host_queue *q)
{
	return q->dead;
}

const char *fdr_host_queue_error(const struct fdr_host_queue *q)
{
	return q->errmsg;
}

uint16_t fdr_host_queue_term_fes(const struct fdr_host_queue *q)
{
	return q->term_fes;
}

/* ---- Opening and closing ---------------------------------------------------- */

static struct fdr_host_queue *queue_alloc(int fd, uint16_t qid, uint16_t entries, int timeout_ms)
{
	struct fdr_host_queue *q = calloc(1, sizeof(*q));

	if (!q)
		return NULL;
	q->fd = fd;
	q->qid = qid;
	q->entries = entries;
	q->depth = entries > 1 ? (uint16_t)(entries - 1) : 1;
	q->timeout_ms = timeout_ms;
	q->rxbuf = malloc(HOST_RXBUF);
	q->reqs = calloc(q->depth, sizeof(*q->reqs));
	if (!q->rxbuf || !q->reqs) {
		free(q->rxbuf);
		free(q->reqs);
		free(q);
		return NULL;
	}
	for (int i = q->depth - 1; i >= 0; i--) {
		q->reqs[i].next = q->free;
		q->free = &q->reqs[i];
	}
	return q;
}

void fdr_host_queue_close(struct fdr_host_queue *q)
{
	if (!q)
		return;
	if (!q->dead)
		host_queue_fail(q, ESHUTDOWN, "closed by the host");
	if (q->fd >= 0)
		close(q->fd);
	free(q->rxbuf);
	free(q->reqs);
	free(q);
}

struct fdr_host_queue *fdr_host_queue_open(const struct fdr_host_opts *o, uint16_t qid,
					   uint16_t cntlid, uint16_t entries, uint32_t kato_ms,
					   struct nvme_cqe *cqe, char *err, size_t errlen)
{
	int timeout = o->timeout_ms ? (int)o->timeout_ms : HOST_DEFAULT_TIMEOUT;
	const char *addr = o->addr ? o->addr : "127.0.0.1";
	const char *port = o->port ? o->port : "4420";
	struct nvme_tcp_icresp icresp;
	struct fdr_host_queue *q;
	struct nvme_fabrics_connect_cmd cmd;
	struct nvme_fabrics_connect_data *data;
	struct nvme_cqe c;
	uint8_t hostid[16];
	char hostnqn[NVME_NQN_MAX + 1];
	int fd, rc;
	unsigned dig;

	memset(&c, 0, sizeof(c));
	c.status = (uint16_t)(FDR_HOST_STATUS_TRANSPORT << 1);
	if (cqe)
		*cqe = c;
	if (!entries)
		entries = qid ? 33 : HOST_ADMIN_ENTRIES;
	if (!o->subnqn) {
		host_seterr(err, errlen, "no subsystem NQN");
		return NULL;
	}
	fd = fdr_host_raw_connect(addr, port, timeout);
	if (fd < 0) {
		host_seterr(err, errlen, "connect to %s:%s: %s", addr, port, strerror(-fd));
		return NULL;
	}
	rc = fdr_host_raw_icreq(fd, o->hdgst, o->ddgst, &icresp, timeout);
	if (rc) {
		host_seterr(err, errlen, "ICReq/ICResp with %s:%s: %s", addr, port, strerror(-rc));
		close(fd);
		return NULL;
	}
	dig = icresp.digest;
	if (icresp.pfv != NVME_TCP_PFV_1_0 || icresp.cpda > 31 || icresp.maxdata < 4096 ||
	    (icresp.maxdata % 4) || ((dig & NVME_TCP_HDGST_ENABLE) && !o->hdgst) ||
	    ((dig & NVME_TCP_DDGST_ENABLE) && !o->ddgst)) {
		host_seterr(err, errlen,
			    "bad ICResp: pfv %u cpda %u digest %#x (asked hdgst %d ddgst %d) maxh2cdata %u",
			    icresp.pfv, icresp.cpda, dig, o->hdgst, o->ddgst, icresp.maxdata);
		close(fd);
		return NULL;
	}
	q = queue_alloc(fd, qid, entries, timeout);
	if (!q) {
		host_seterr(err, errlen, "out of memory");
		close(fd);
		return NULL;
	}
	q->hdgst = dig & NVME_TCP_HDGST_ENABLE;
	q->ddgst = dig & NVME_TCP_DDGST_ENABLE;
	q->cpda = icresp.cpda;
	q->maxh2c = icresp.maxdata;
	q->icd = HOST_ADMIN_INCAPSULE;

	if (o->hostid)
		memcpy(hostid, o->hostid, sizeof(hostid));
	else if (getrandom(hostid, sizeof(hostid), 0) != (ssize_t)sizeof(hostid))
		memset(hostid, 0x5a, sizeof(hostid));
	if (o->hostnqn) {
		snprintf(hostnqn, sizeof(hostnqn), "%s", o->hostnqn);
	} else {
		snprintf(hostnqn, sizeof(hostnqn),
			 "nqn.2014-08.org.nvmexpress:uuid:%02x%02x%02x%02x-%02x%02x-%02x%02x-"
			 "%02x%02x-%02x%02x%02x%02x%02x%02x",
			 hostid[0], hostid[1], hostid[2], hostid[3], hostid[4], hostid[5],
			 hostid[6], hostid[7], hostid[8], hostid[9], hostid[10], hostid[11],
			 hostid[12], hostid[13], hostid[14], hostid[15]);
	}

	data = calloc(1, sizeof(*data));
	if (!data) {
		host_seterr(err, errlen, "out of memory");
		fdr_host_queue_close(q);
		return NULL;
	}
	memcpy(data->hostid, hostid, sizeof(hostid));
	data->cntlid = cntlid;
	snprintf(data->subnqn, sizeof(data->subnqn), "%s", o->subnqn);
	snprintf(data->hostnqn, sizeof(data->hostnqn), "%s", hostnqn);
	memset(&cmd, 0, sizeof(cmd));
	cmd.opc = NVME_ADM_FABRICS;
	cmd.fctype = NVME_FCTYPE_CONNECT;
	cmd.recfmt = 0;
	cmd.qid = qid;
	cmd.sqsize = (uint16_t)(entries - 1);
	cmd.kato = kato_ms;
	rc = fdr_host_io(q, (struct nvme_sqe *)&cmd, data, sizeof(*data), &c);
	free(data);
	if (cqe)
		*cqe = c;
	if (rc) {
		host_seterr(err, errlen, "Connect (qid %u): %s", qid, q->errmsg);
		fdr_host_queue_close(q);
		return NULL;
	}
	if (fdr_host_sct_sc(&c) != NVME_SC_SUCCESS) {
		host_seterr(err, errlen, "Connect (qid %u) failed: status %#x (SCT %u SC %#x) cdw0 %#x",
			    qid, fdr_host_status(&c), NVME_STATUS_SCT(fdr_host_status(&c)),
			    NVME_STATUS_SC(fdr_host_status(&c)), c.cdw0);
		fdr_host_queue_close(q);
		return NULL;
	}
	return q;
}

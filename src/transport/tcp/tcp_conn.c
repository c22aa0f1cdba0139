/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * One NVMe/TCP connection = one NVMe queue.  Everything here runs on the
 * connection's reactor.
 *
 * Receive: one recv per wake-up into a 64 KiB buffer, then every whole
 * PDU in it is parsed; payloads go to the request buffer, and while a
 * payload is incomplete and the buffer is empty the next read lands in the
 * request buffer directly (readv: destination first, the buffer after).
 *
 * Send: PDUs queue as descriptors pointing at per-request header space and
 * at req->buf (no copies); one sendmsg per loop iteration flushes them from
 * the reactor's deferred work.  A request is released only once its last
 * byte is in the socket.
 *
 * Teardown: the socket closes first, then fdr_queue_close(); the core
 * finishes what is in flight (we release), calls queue_drained(), and the
 * connection frees itself from deferred work, where no caller up the stack
 * can still hold it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <frankendrive/names.h>
#include <frankendrive/plugin.h>

#include "common/crc32c.h"
#include "core/record.h"
#include "core/tap.h"
#include "common/log.h"
#include "tcp_internal.h"

#define RBUF_SIZE (64u * 1024)
#define RX_COMPACT_ROOM 4096u   /* compact the receive buffer below this much room */
#define RX_READS_PER_WAKEUP 8   /* bound one connection's turn */
#define TX_IOV_MAX 256
#define TX_FLUSH_NOW (512u * 1024) /* queued bytes that flush without waiting */
#define C2H_MAX_DATA (128u * 1024) /* data per C2HData PDU */

#define STATUS_DNR(sc) (NVME_STATUS(NVME_SCT_GENERIC, (sc)) | NVME_STATUS_DNR)
#define STATUS_TRANSIENT NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_TRANSIENT_TRANSPORT_ERROR)

#define SGL_ID(type, sub) ((uint8_t)(((type) << 4) | (sub)))

#define conn_of(ptr, member) \
	((struct fdr_tcp_conn *)((char *)(ptr) - offsetof(struct fdr_tcp_conn, member)))

static void conn_close(struct fdr_tcp_conn *c, const char *reason);

static struct fdr_tcp_conn *req_conn(const struct fdr_req *req)
{
	return req->q->tctx;
}

static struct fdr_tcp_req *req_treq(const struct fdr_req *req)
{
	return &req_conn(req)->treqs[req->idx];
}

static uint32_t req_icd(const struct fdr_req *req)
{
	return (uint32_t)req->tpriv[0];
}

/* ---- Send ---------------------------------------------------------------- */

static size_t tx_len(const struct fdr_tcp_tx *tx)
{
	return (size_t)tx->hdr_len + tx->data_len + (tx->ddgst ? NVME_TCP_DIGEST_LEN : 0) +
	       tx->tail_len;
}

/* Appends tx's not yet written bytes (after skip) to iov; returns the count. */
static int tx_iov(const struct fdr_tcp_tx *tx, struct iovec *iov, size_t skip, size_t *bytes)
{
	const struct {
		const void *p;
		size_t n;
	} seg[4] = {
		{tx->hdr, tx->hdr_len},
		{tx->data, tx->data_len},
		{tx->ddgst_le, tx->ddgst ? NVME_TCP_DIGEST_LEN : 0},
		{tx->tail, tx->tail_len},
	};
	int n = 0;

	for (int i = 0; i < 4; i++) {
		if (skip >= seg[i].n) {
			skip -= seg[i].n;
			continue;
		}
		iov[n].iov_base = (uint8_t *)seg[i].p + skip;
		iov[n].iov_len = seg[i].n - skip;
		*bytes += iov[n].iov_len;
		skip = 0;
		n++;
	}
	return n;
}

static void tx_append(struct fdr_tcp_conn *c, struct fdr_tcp_tx *tx)
{
	tx->next = NULL;
	if (c->tx_tail)
		c->tx_tail->next = tx;
	else
		c->tx_head = tx;
	c->tx_tail = tx;
	c->tx_queued += tx_len(tx);
}

static void set_out_armed(struct fdr_tcp_conn *c, bool on)
{
	if (c->out_armed == on || c->state == FDR_TCP_CLOSED)
		return;
	if (fdr_reactor_mod(c->r, &c->h, EPOLLIN | (on ? EPOLLOUT : 0)) == 0)
		c->out_armed = on;
}

/* Frames the next piece of a response into treq->tx: a C2HData chunk
 * (with the CapsuleResp behind the last one) or just the CapsuleResp. */
static void resp_frame(struct fdr_tcp_conn *c, struct fdr_tcp_req *t)
{
	struct fdr_req *req = t->req;
	struct fdr_tcp_tx *tx = &t->tx;
	uint32_t left = req->data_len - t->c2h_off;

	tx->kind = FDR_TCP_TX_RESP;
	tx->ddgst = false;
	tx->data = NULL;
	tx->data_len = 0;
	tx->tail = NULL;
	tx->tail_len = 0;
	if (left == 0) {
		tx->hdr = t->rsp;
		tx->hdr_len = (uint8_t)fdr_tcp_build_rsp(t->rsp, c->hdgst, &req->cpl);
		return;
	}
	uint32_t n = left > C2H_MAX_DATA ? C2H_MAX_DATA : left;
	bool last = n == left;
	tx->hdr = t->hdr;
	tx->hdr_len = (uint8_t)fdr_tcp_build_c2h(t->hdr, c->hdgst, c->ddgst, c->hpda,
						 req->cmd.cid, t->c2h_off, n, last);
	tx->data = req->buf + t->c2h_off;
	tx->data_len = n;
	if (c->ddgst) {
		tx->ddgst = true;
		fdr_tcp_put_le32(tx->ddgst_le, fdr_crc32c(tx->data, n));
	}
	t->c2h_off += n;
	if (last) {
		tx->tail = t->rsp;
		tx->tail_len = (uint8_t)fdr_tcp_build_rsp(t->rsp, c->hdgst, &req->cpl);
	}
}

/* All of tx's bytes are in the socket. */
static void tx_sent(struct fdr_tcp_conn *c, struct fdr_tcp_tx *tx)
{
	struct fdr_tcp_req *t;

	if (tx->kind == FDR_TCP_TX_CONN)
		return;
	t = (struct fdr_tcp_req *)((char *)tx - offsetof(struct fdr_tcp_req, tx));
	t->tx_queued = false;
	if (tx->kind == FDR_TCP_TX_R2T) {
		t->r2t_sent = true;
		return;
	}
	if (tx->tail_len == 0 && tx->data_len) {
		/* More C2HData to go: to the back of the line, other commands'
		 * PDUs may go in between. */
		resp_frame(c, t);
		t->tx_queued = true;
		tx_append(c, tx);
		return;
	}
	struct fdr_req *req = t->req;
	t->req = NULL;
	fdr_req_release(req);
}

/* Accounts n written bytes against the first nitems queued PDUs. */
static void tx_consume(struct fdr_tcp_conn *c, size_t n, unsigned nitems)
{
	while (nitems-- && c->tx_head) {
		struct fdr_tcp_tx *tx = c->tx_head;
		size_t left = tx_len(tx) - c->tx_off;

		if (n < left) {
			c->tx_off += (uint32_t)n;
			c->tx_queued -= n;
			return;
		}
		n -= left;
		c->tx_queued -= left;
		c->tx_off = 0;
		c->tx_head = tx->next;
		if (!c->tx_head)
			c->tx_tail = NULL;
		tx->next = NULL;
		tx_sent(c, tx);
	}
}

/* Writes queued PDUs until done or the socket is full: 0, or -errno on a
 * dead socket. */
static int conn_flush(struct fdr_tcp_conn *c)
{
	while (c->tx_head) {
		struct iovec iov[TX_IOV_MAX];
		struct msghdr msg = {.msg_iov = iov};
		size_t bytes = 0, skip = c->tx_off;
		unsigned nitems = 0;
		int niov = 0;
		ssize_t n;

		for (struct fdr_tcp_tx *tx = c->tx_head; tx && niov + 4 <= TX_IOV_MAX;
		     tx = tx->next) {
			niov += tx_iov(tx, iov + niov, skip, &bytes);
			skip = 0;
			nitems++;
		}
		msg.msg_iovlen = (size_t)niov;
		c->nr_send_calls++;
		n = sendmsg(c->h.fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				set_out_armed(c, true);
				return 0;
			}
			return -errno;
		}
		tx_consume(c, (size_t)n, nitems);
		if ((size_t)n < bytes) {
			set_out_armed(c, true);
			return 0;
		}
	}
	set_out_armed(c, false);
	return 0;
}

static uint32_t conn_dev(const struct fdr_tcp_conn *c)
{
	return c->q && c->q->ctrl ? c->q->ctrl->cntlid : 0;
}

/* Runs the tcp:pdu:{recv,send} tap on one PDU header. */
static int pdu_tap(struct fdr_tcp_conn *c, enum fdr_tap_id id, uint8_t *hdr)
{
	struct fdr_tap_ctx tc = {
		.dev = conn_dev(c),
		.sqid = c->q ? c->q->qid : 0,
		.hdr = hdr,
		.hlen = hdr[2],
	};
	return fdr_tap_run(id, &tc);
}

/* The send tap: callbacks may change the headers of tx, or drop its PDUs
 * (a dropped PDU is accounted as sent) or the connection. */
static bool send_tap(struct fdr_tcp_conn *c, struct fdr_tcp_tx *tx)
{
	int v = pdu_tap(c, FDR_TAP_TCP_PDU_SEND, (uint8_t *)tx->hdr);

	if (v == PLUGIN_CLOSE) {
		conn_close(c, "closed by a tcp:pdu:send callback");
		return false;
	}
	if (v == PLUGIN_CONTINUE && tx->tail_len) {
		v = pdu_tap(c, FDR_TAP_TCP_PDU_SEND, (uint8_t *)tx->tail);
		if (v == PLUGIN_DROP)
			tx->tail_len = 0;
		else if (v == PLUGIN_CLOSE) {
			conn_close(c, "closed by a tcp:pdu:send callback");
			return false;
		}
		return true;
	}
	if (v == PLUGIN_DROP) {
		fdr_debug("nvme-tcp %s: %s dropped by a tcp:pdu:send callback", c->peer,
			  nvme_tcp_pdu_name(((const uint8_t *)tx->hdr)[0]));
		tx_sent(c, tx);
		return false;
	}
	return true;
}

/* Queues tx; the flush happens at the end of this loop iteration, or now
 * if a lot is waiting. */
static void conn_send(struct fdr_tcp_conn *c, struct fdr_tcp_tx *tx)
{
	if (fdr_tap_on(FDR_TAP_TCP_PDU_SEND) && !send_tap(c, tx))
		return;
	FDR_RECORD_PDU(pdu_slow(c->id, c->q ? c->q->qid : 0, (uint16_t)conn_dev(c), true, tx->hdr,
			    ((const uint8_t *)tx->hdr)[2]));
	if (tx->tail_len)
		FDR_RECORD_PDU(pdu_slow(c->id, c->q ? c->q->qid : 0, (uint16_t)conn_dev(c), true,
				    tx->tail, ((const uint8_t *)tx->tail)[2]));
	tx_append(c, tx);
	if (c->tx_queued >= TX_FLUSH_NOW && !c->out_armed) {
		/* A write error is handled by the deferred flush, not here
		 * deep inside a core callback. */
		if (conn_flush(c) == 0)
			return;
	}
	fdr_reactor_defer(c->r, &c->defer);
}

/* Sends a C2HTermReq for the PDU header at hdr and closes the connection. */
static void conn_fatal(struct fdr_tcp_conn *c, int fes, uint32_t fei, const void *hdr,
		       size_t hdr_len, const char *why)
{
	struct fdr_tcp_tx *tx = &c->ctl_tx[1];

	fdr_warn("nvme-tcp %s: %s (FES %#x, FEI %#x); terminating connection", c->peer, why, fes,
		 fei);
	if (c->state == FDR_TCP_CLOSED)
		return;
	memset(tx, 0, sizeof(*tx));
	tx->kind = FDR_TCP_TX_CONN;
	tx->hdr = c->term;
	tx->hdr_len = (uint8_t)fdr_tcp_build_term(c->term, (uint16_t)fes, fei, hdr, hdr_len);
	tx_append(c, tx);
	c->term_queued = true;
	conn_close(c, why);
}

/* ---- Transport ops ------------------------------------------------------- */

static uint16_t tcp_prep_data(struct fdr_req *req)
{
	struct fdr_tcp_req *t = req_treq(req);
	const struct nvme_sgl_desc *sgl = &req->cmd.dptr.sgl1;
	uint32_t icd = req_icd(req);

	if (t->err)
		return t->err;
	if (req->data_len == 0)
		return 0;
	switch (sgl->type) {
	case SGL_ID(NVME_SGL_TYPE_DATA_BLOCK, NVME_SGL_SUBTYPE_OFFSET):
		/* In-capsule data; only host-to-controller data can come that way. */
		if (req->xfer != NVME_OPC_XFER_TO_CTRL)
			return STATUS_DNR(NVME_SC_SGL_DESC_TYPE_INVALID);
		if (sgl->addr != 0) /* ICDOFF is 0 */
			return STATUS_DNR(NVME_SC_INVALID_SGL_OFFSET);
		if (sgl->length < req->data_len || sgl->length != icd)
			return STATUS_DNR(NVME_SC_DATA_SGL_LENGTH_INVALID);
		return 0;
	case SGL_ID(NVME_SGL_TYPE_TRANSPORT_DATA_BLOCK, NVME_SGL_SUBTYPE_TRANSPORT):
		/* Data through R2T/H2CData or C2HData. */
		if (icd)
			return STATUS_DNR(NVME_SC_SGL_DESC_TYPE_INVALID);
		if (req->xfer == NVME_OPC_XFER_FROM_CTRL)
			return sgl->length < req->data_len
				       ? STATUS_DNR(NVME_SC_DATA_SGL_LENGTH_INVALID)
				       : 0;
		if (req->xfer == NVME_OPC_XFER_TO_CTRL)
			return sgl->length != req->data_len
				       ? STATUS_DNR(NVME_SC_DATA_SGL_LENGTH_INVALID)
				       : 0;
		return STATUS_DNR(NVME_SC_INVALID_FIELD);
	default:
		return STATUS_DNR(NVME_SC_SGL_DESC_TYPE_INVALID);
	}
}

static void tcp_data_in(struct fdr_req *req)
{
	struct fdr_tcp_conn *c = req_conn(req);
	struct fdr_tcp_req *t = req_treq(req);
	struct fdr_tcp_tx *tx = &t->tx;

	if (t->err || req_icd(req)) {
		/* In-capsule data is in req->buf already (or failed to arrive). */
		fdr_req_data_in_done(req, t->err);
		return;
	}
	if (c->state == FDR_TCP_CLOSED) {
		fdr_req_data_in_done(req, STATUS_TRANSIENT);
		return;
	}
	/* One R2T for all of it: MAXR2T (outstanding R2Ts per command) is at
	 * least 1, and the host splits it into H2CData PDUs of MAXH2CDATA. */
	t->wait_h2c = true;
	t->r2t_sent = false;
	t->h2c_done = 0;
	memset(tx, 0, sizeof(*tx));
	tx->kind = FDR_TCP_TX_R2T;
	tx->hdr = t->hdr;
	tx->hdr_len = (uint8_t)fdr_tcp_build_r2t(t->hdr, c->hdgst, req->cmd.cid, req->idx, 0,
						 req->data_len);
	t->tx_queued = true;
	fdr_debug("nvme-tcp %s: R2T cid %u ttag %u len %u", c->peer, req->cmd.cid, req->idx,
		  req->data_len);
	conn_send(c, tx);
}

static void tcp_complete(struct fdr_req *req)
{
	struct fdr_tcp_conn *c = req_conn(req);
	struct fdr_tcp_req *t = req_treq(req);

	if (c->state == FDR_TCP_CLOSED) {
		fdr_req_release(req);
		return;
	}
	if (t->tx_queued) {
		/* Cannot happen: a command completes after its R2T went out. */
		fdr_err("nvme-tcp %s: cid %u completed while its R2T is queued", c->peer,
			req->cmd.cid);
		t->wait_h2c = false; /* so that closing does not fail it a second time */
		conn_close(c, "internal error");
		fdr_req_release(req);
		return;
	}
	fdr_debug("nvme-tcp %s: complete cid %u status %#x", c->peer, req->cmd.cid, req->status);
	t->wait_h2c = false;
	t->req = req;
	t->c2h_off = 0;
	/* Read data only goes out with a successful status; the data phase
	 * cannot be undone once sent. */
	if (req->xfer != NVME_OPC_XFER_FROM_CTRL || (req->status & 0x7ff) != 0)
		t->c2h_off = req->data_len;
	resp_frame(c, t);
	t->tx_queued = true;
	conn_send(c, &t->tx);
}

static void tcp_disconnect(struct fdr_queue *q, const char *reason)
{
	conn_close(q->tctx, reason);
}

static void tcp_queue_drained(struct fdr_queue *q)
{
	struct fdr_tcp_conn *c = q->tctx;

	c->free_pending = true;
	fdr_reactor_defer(c->r, &c->defer);
}

const struct fdr_transport_ops fdr_tcp_ops = {
	.name = "tcp",
	.prep_data = tcp_prep_data,
	.data_in = tcp_data_in,
	.complete = tcp_complete,
	.disconnect = tcp_disconnect,
	.queue_drained = tcp_queue_drained,
};

/* ---- Receive ------------------------------------------------------------- */

static uint32_t conn_max_icd(const struct fdr_tcp_conn *c)
{
	const struct fdr_queue *q = c->q;

	/* Before Connect the queue is unknown; Connect itself carries 1 KiB. */
	if (!q || !q->ctrl || q->qid == 0)
		return FDR_TCP_ADMIN_ICD;
	return q->ctrl->subsys->inline_data_size;
}

static void rx_params(const struct fdr_tcp_conn *c, struct fdr_tcp_rx_params *p)
{
	p->ic_done = c->state == FDR_TCP_READY;
	p->hdgst = c->hdgst;
	p->ddgst = c->ddgst;
	p->cpda = 0;
	p->max_icd = conn_max_icd(c);
	p->maxh2cdata = c->maxh2cdata;
}

/* Expect a payload of info->data_len bytes into dst (NULL: discard). */
static void rx_expect(struct fdr_tcp_conn *c, const struct fdr_tcp_pdu_info *info,
		      struct fdr_tcp_req *t, uint8_t *dst)
{
	c->rx_type = info->type;
	c->rx_treq = t;
	c->rx_dst = dst;
	c->rx_data_len = info->data_len;
	c->rx_has_ddgst = info->ddgst_len != 0;
	c->rx_crc = FDR_CRC32C_INIT;
	c->rx_ddgst_got = 0;
	if (info->pad) {
		c->rx_state = FDR_TCP_RX_PAD;
		c->rx_left = info->pad;
	} else {
		c->rx_state = FDR_TCP_RX_DATA;
		c->rx_left = info->data_len;
	}
}

/* A payload's bytes landed at p (already in place if direct). */
static void rx_landed(struct fdr_tcp_conn *c, const uint8_t *p, uint32_t n)
{
	if (c->rx_has_ddgst)
		c->rx_crc = fdr_crc32c_update(c->rx_crc, p, n);
	if (c->rx_dst)
		c->rx_dst += n;
	c->rx_left -= n;
}

static int conn_submit(struct fdr_tcp_conn *c, struct fdr_req *req)
{
	fdr_req_submit(req);
	/* The command may have run to completion, or torn us down. */
	return c->state == FDR_TCP_CLOSED ? -1 : 0;
}

static int handle_icreq(struct fdr_tcp_conn *c, const uint8_t *hdr)
{
	const struct nvme_tcp_icreq *ic = (const struct nvme_tcp_icreq *)hdr;
	struct fdr_tcp_tx *tx = &c->ctl_tx[0];

	c->hpda = ic->hpda;
	c->maxr2t = ic->maxr2t;
	/* We do CRC32C for both digests: grant whatever the host asks. */
	c->hdgst = ic->digest & NVME_TCP_HDGST_ENABLE;
	c->ddgst = ic->digest & NVME_TCP_DDGST_ENABLE;
	c->treqs = calloc(FDR_MAX_QDEPTH, sizeof(*c->treqs));
	if (c->treqs)
		c->q = fdr_queue_create(c->t, c->port, &fdr_tcp_ops, c, c->r, FDR_MAX_QDEPTH,
					c->peer);
	if (!c->q) {
		conn_close(c, "out of memory for the queue");
		return -1;
	}
	c->nr_treqs = FDR_MAX_QDEPTH;
	c->q->id = c->id;
	fdr_timer_cancel(c->r, &c->icreq_timer);
	c->state = FDR_TCP_READY;
	memset(tx, 0, sizeof(*tx));
	tx->kind = FDR_TCP_TX_CONN;
	tx->hdr = c->icresp;
	tx->hdr_len = (uint8_t)fdr_tcp_build_icresp(
		c->icresp, (uint8_t)((c->hdgst ? NVME_TCP_HDGST_ENABLE : 0) |
				     (c->ddgst ? NVME_TCP_DDGST_ENABLE : 0)),
		c->maxh2cdata);
	conn_send(c, tx);
	fdr_debug("nvme-tcp %s: ICReq hpda %u maxr2t %u hdgst %d ddgst %d", c->peer, c->hpda,
		  c->maxr2t, c->hdgst, c->ddgst);
	return 0;
}

static int handle_cmd(struct fdr_tcp_conn *c, const uint8_t *hdr,
		      const struct fdr_tcp_pdu_info *info)
{
	const struct nvme_tcp_cmd *pc = (const struct nvme_tcp_cmd *)hdr;
	struct fdr_req *req = fdr_req_get(c->q);
	struct fdr_tcp_req *t;

	if (!req) {
		conn_fatal(c, NVME_TCP_FES_PDU_SEQ_ERR, 0, hdr, info->hdr_len,
			   "command beyond the queue's depth");
		return -1;
	}
	t = &c->treqs[req->idx];
	t->req = req;
	t->err = 0;
	t->wait_h2c = false;
	t->r2t_sent = false;
	t->tx_queued = false;
	t->h2c_done = 0;
	t->c2h_off = 0;
	memcpy(&req->cmd, &pc->sqe, sizeof(req->cmd));
	req->tpriv[0] = info->data_len;
	fdr_debug("nvme-tcp %s: cmd opc %#x cid %u icd %u", c->peer, req->cmd.opc, req->cmd.cid,
		  info->data_len);
	if (info->data_len) {
		uint8_t *buf = fdr_req_buf_reserve(req, info->data_len);
		if (!buf)
			t->err = NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INTERNAL);
		rx_expect(c, info, t, buf);
		return 0;
	}
	return conn_submit(c, req);
}

static int handle_h2c_data(struct fdr_tcp_conn *c, const uint8_t *hdr,
			   const struct fdr_tcp_pdu_info *info)
{
	const struct nvme_tcp_data *d = (const struct nvme_tcp_data *)hdr;
	struct fdr_tcp_req *t;
	struct fdr_req *req;
	bool last;

	if (d->ttag >= c->nr_treqs || !c->treqs[d->ttag].wait_h2c) {
		conn_fatal(c, NVME_TCP_FES_INVALID_PDU_HDR, offsetof(struct nvme_tcp_data, ttag),
			   hdr, info->hdr_len, "H2CData without an R2T");
		return -1;
	}
	t = &c->treqs[d->ttag];
	req = t->req;
	if (d->cccid != req->cmd.cid) {
		conn_fatal(c, NVME_TCP_FES_INVALID_PDU_HDR, offsetof(struct nvme_tcp_data, cccid),
			   hdr, info->hdr_len, "H2CData CCCID does not match its R2T");
		return -1;
	}
	if (!t->r2t_sent) {
		conn_fatal(c, NVME_TCP_FES_PDU_SEQ_ERR, 0, hdr, info->hdr_len,
			   "H2CData before its R2T was sent");
		return -1;
	}
	/* In order, inside the R2T (which covers all of data_len from 0). */
	if (d->datao != t->h2c_done || d->datal > req->data_len - d->datao) {
		conn_fatal(c, NVME_TCP_FES_DATA_OUT_OF_RANGE, 0, hdr, info->hdr_len,
			   "H2CData outside the R2T");
		return -1;
	}
	last = d->datao + d->datal == req->data_len;
	if (!!(d->hdr.flags & NVME_TCP_F_DATA_LAST) != last) {
		conn_fatal(c, NVME_TCP_FES_INVALID_PDU_HDR, offsetof(struct nvme_tcp_hdr, flags),
			   hdr, info->hdr_len, "H2CData LAST flag wrong");
		return -1;
	}
	rx_expect(c, info, t, req->buf + d->datao);
	return 0;
}

static int handle_term(struct fdr_tcp_conn *c, const uint8_t *hdr)
{
	const struct nvme_tcp_term *term = (const struct nvme_tcp_term *)hdr;

	fdr_warn("nvme-tcp %s: host terminated the connection (FES %#x, FEI %#x)", c->peer,
		 term->fes, term->fei);
	conn_close(c, "H2CTermReq");
	return -1;
}

static int handle_hdr(struct fdr_tcp_conn *c, const uint8_t *hdr,
		      const struct fdr_tcp_pdu_info *info)
{
	c->nr_pdus_rx++;
	switch (info->type) {
	case NVME_TCP_ICREQ:
		return handle_icreq(c, hdr);
	case NVME_TCP_CMD:
		return handle_cmd(c, hdr, info);
	case NVME_TCP_H2C_DATA:
		return handle_h2c_data(c, hdr, info);
	default: /* NVME_TCP_H2C_TERM; fdr_tcp_pdu_check_hdr() let nothing else through */
		return handle_term(c, hdr);
	}
}

/* The payload and its digest are in. */
static int payload_done(struct fdr_tcp_conn *c)
{
	struct fdr_tcp_req *t = c->rx_treq;
	struct fdr_req *req = t->req;

	c->rx_state = FDR_TCP_RX_HDR;
	c->rx_treq = NULL;
	if (c->rx_has_ddgst &&
	    fdr_tcp_get_le32(c->rx_ddgst) != fdr_crc32c_final(c->rx_crc)) {
		/* Not fatal (the stream is intact): the command fails with
		 * Transient Transport Error and the host may retry. */
		fdr_warn("nvme-tcp %s: data digest error, cid %u", c->peer, req->cmd.cid);
		t->err = STATUS_TRANSIENT;
	}
	if (c->rx_type == NVME_TCP_CMD)
		return conn_submit(c, req);
	t->h2c_done += c->rx_data_len;
	if (t->h2c_done < req->data_len)
		return 0;
	t->wait_h2c = false;
	fdr_req_data_in_done(req, t->err);
	return c->state == FDR_TCP_CLOSED ? -1 : 0;
}

/* Parses what the receive buffer holds; -1 once the connection closed. */
static int conn_process(struct fdr_tcp_conn *c)
{
	while (c->state != FDR_TCP_CLOSED) {
		uint32_t avail = c->rlen - c->rpos;
		uint8_t *p = c->rbuf + c->rpos;

		switch (c->rx_state) {
		case FDR_TCP_RX_HDR: {
			struct fdr_tcp_rx_params params;
			struct fdr_tcp_pdu_info info;
			uint32_t fei;
			int rc;

			rx_params(c, &params);
			rc = fdr_tcp_pdu_check_hdr(p, avail, &params, &info, &fei);
			if (rc == FDR_TCP_HDR_MORE)
				return 0;
			if (!rc && fdr_tap_on(FDR_TAP_TCP_PDU_RECV)) {
				if (pdu_tap(c, FDR_TAP_TCP_PDU_RECV, p) == PLUGIN_CLOSE) {
					conn_close(c, "closed by a tcp:pdu:recv callback");
					return -1;
				}
				/* Whatever a callback changed is checked like
				 * anything else the host sent. */
				rc = fdr_tcp_pdu_check_hdr(p, avail, &params, &info, &fei);
			}
			if (rc) {
				conn_fatal(c, rc, fei, p,
					   avail < info.hlen || !info.hlen ? avail : info.hlen,
					   "invalid PDU header");
				return -1;
			}
			FDR_RECORD_PDU(pdu_slow(c->id, c->q ? c->q->qid : 0, (uint16_t)conn_dev(c), false,
					    p, info.hlen));
			c->rpos += info.hdr_len;
			if (handle_hdr(c, p, &info) < 0)
				return -1;
			/* A data-less PDU, e.g. a command without in-capsule data */
			break;
		}
		case FDR_TCP_RX_PAD: {
			uint32_t n = avail < c->rx_left ? avail : c->rx_left;
			if (!n)
				return 0;
			c->rpos += n;
			c->rx_left -= n;
			if (!c->rx_left) {
				c->rx_state = FDR_TCP_RX_DATA;
				c->rx_left = c->rx_data_len;
			}
			break;
		}
		case FDR_TCP_RX_DATA: {
			uint32_t n = avail < c->rx_left ? avail : c->rx_left;
			if (n) {
				if (c->rx_dst)
					memcpy(c->rx_dst, p, n);
				rx_landed(c, p, n);
				c->rpos += n;
			}
			if (c->rx_left)
				return 0;
			if (c->rx_has_ddgst) {
				c->rx_state = FDR_TCP_RX_DDGST;
				break;
			}
			if (payload_done(c) < 0)
				return -1;
			break;
		}
		default: { /* FDR_TCP_RX_DDGST */
			uint32_t need = NVME_TCP_DIGEST_LEN - c->rx_ddgst_got;
			uint32_t n = avail < need ? avail : need;
			memcpy(c->rx_ddgst + c->rx_ddgst_got, p, n);
			c->rx_ddgst_got += n;
			c->rpos += n;
			if (c->rx_ddgst_got < NVME_TCP_DIGEST_LEN)
				return 0;
			if (payload_done(c) < 0)
				return -1;
			break;
		}
		}
	}
	return -1;
}

static void conn_recv(struct fdr_tcp_conn *c)
{
	for (int i = 0; i < RX_READS_PER_WAKEUP && c->state != FDR_TCP_CLOSED; i++) {
		struct iovec iov[2];
		uint32_t direct = 0;
		size_t want = 0;
		int niov = 0;
		ssize_t n;

		if (c->rpos == c->rlen) {
			c->rpos = c->rlen = 0;
			/* A payload is pending and nothing is buffered: read it
			 * straight into the request buffer. */
			if (c->rx_state == FDR_TCP_RX_DATA && c->rx_dst && c->rx_left) {
				direct = c->rx_left;
				iov[niov].iov_base = c->rx_dst;
				iov[niov++].iov_len = direct;
			}
		} else if (RBUF_SIZE - c->rlen < RX_COMPACT_ROOM) {
			memmove(c->rbuf, c->rbuf + c->rpos, c->rlen - c->rpos);
			c->rlen -= c->rpos;
			c->rpos = 0;
		}
		iov[niov].iov_base = c->rbuf + c->rlen;
		iov[niov++].iov_len = RBUF_SIZE - c->rlen;
		for (int k = 0; k < niov; k++)
			want += iov[k].iov_len;

		c->nr_recv_calls++;
		n = readv(c->h.fd, iov, niov);
		if (n == 0) {
			conn_close(c, "connection closed by the host");
			return;
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				char why[96];
				snprintf(why, sizeof(why), "receive error: %s", strerror(errno));
				conn_close(c, why);
			}
			return;
		}
		if (direct) {
			uint32_t d = (size_t)n < direct ? (uint32_t)n : direct;
			rx_landed(c, c->rx_dst, d);
			c->rlen += (uint32_t)((size_t)n - d);
		} else {
			c->rlen += (uint32_t)n;
		}
		if (conn_process(c) < 0)
			return;
		if ((size_t)n < want)
			return; /* drained; epoll says when more arrives */
	}
}

/* ---- Lifecycle ----------------------------------------------------------- */

static void conn_free(struct fdr_tcp_conn *c)
{
	if (c->h.fd >= 0)
		close(c->h.fd);
	if (c->q)
		fdr_queue_free(c->q);
	if (c->l)
		fdr_tcp_listener_conn_gone(c->l, c);
	free(c->treqs);
	free(c->rbuf);
	free(c);
}

static void conn_event(struct fdr_handler *h, uint32_t events)
{
	struct fdr_tcp_conn *c = conn_of(h, h);

	if (c->state == FDR_TCP_CLOSED)
		return; /* an event collected before we closed */
	if (events & EPOLLOUT) {
		int rc = conn_flush(c);
		if (rc < 0) {
			char why[96];
			snprintf(why, sizeof(why), "send error: %s", strerror(-rc));
			conn_close(c, why);
			return;
		}
	}
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		conn_recv(c);
}

static void conn_deferred(struct fdr_defer *d)
{
	struct fdr_tcp_conn *c = conn_of(d, defer);
	int rc;

	if (c->free_pending) {
		conn_free(c);
		return;
	}
	if (c->state == FDR_TCP_CLOSED || c->out_armed)
		return;
	rc = conn_flush(c);
	if (rc < 0) {
		char why[96];
		snprintf(why, sizeof(why), "send error: %s", strerror(-rc));
		conn_close(c, why);
	}
}

static void conn_icreq_timeout(struct fdr_timer *tm)
{
	struct fdr_tcp_conn *c = conn_of(tm, icreq_timer);

	fdr_warn("nvme-tcp %s: no ICReq within %u ms", c->peer, c->icreq_timeout_ms);
	conn_close(c, "ICReq timeout");
}

/*
 * Closes the socket, gives the core the queue back and hands every
 * request we hold back to it.  Idempotent.
 */
static void conn_close(struct fdr_tcp_conn *c, const char *reason)
{
	struct fdr_tcp_tx *tx;
	struct fdr_tcp_req *rx_t = NULL;

	if (c->state == FDR_TCP_CLOSED)
		return;
	if (c->term_queued)
		(void)conn_flush(c); /* best effort: the C2HTermReq */
	c->state = FDR_TCP_CLOSED;
	fdr_info("nvme-tcp: connection from %s closed: %s", c->peer, reason);
	FDR_RECORD(conn_slow(c->id, FDR_REC_XPORT_FABRICS, false, reason));
	fdr_timer_cancel(c->r, &c->icreq_timer);
	fdr_reactor_del(c->r, &c->h);
	close(c->h.fd);
	c->h.fd = -1;

	tx = c->tx_head;
	c->tx_head = c->tx_tail = NULL;
	c->tx_queued = 0;
	c->tx_off = 0;
	if (c->rx_state != FDR_TCP_RX_HDR && c->rx_type == NVME_TCP_CMD)
		rx_t = c->rx_treq; /* taken from the pool but never submitted */
	c->rx_state = FDR_TCP_RX_HDR;
	c->rx_treq = NULL;

	if (!c->q) {
		c->free_pending = true;
		fdr_reactor_defer(c->r, &c->defer);
		return;
	}
	/* The core completes what is in flight; complete() now just releases,
	 * and the last release reports the queue drained. */
	fdr_queue_close(c->q);
	while (tx) {
		struct fdr_tcp_tx *next = tx->next;
		if (tx->kind == FDR_TCP_TX_RESP) {
			struct fdr_tcp_req *t =
				(struct fdr_tcp_req *)((char *)tx - offsetof(struct fdr_tcp_req, tx));
			struct fdr_req *req = t->req;
			t->tx_queued = false;
			t->req = NULL;
			fdr_req_release(req);
		}
		tx = next;
	}
	if (rx_t) {
		struct fdr_req *req = rx_t->req;
		rx_t->req = NULL;
		fdr_req_release(req);
	}
	/* Commands waiting for H2CData will not get it. */
	for (unsigned i = 0; i < c->nr_treqs; i++) {
		struct fdr_tcp_req *t = &c->treqs[i];
		if (t->wait_h2c) {
			t->wait_h2c = false;
			t->tx_queued = false;
			fdr_req_data_in_done(t->req, STATUS_TRANSIENT);
		}
	}
}

void fdr_tcp_conn_shutdown(struct fdr_tcp_conn *c, const char *reason)
{
	conn_close(c, reason);
}

struct fdr_tcp_conn *fdr_tcp_conn_create(struct fdr_target *t, struct fdr_port *port,
					 struct fdr_reactor *r, int fd, const char *peer,
					 const struct fdr_tcp_opts *opts,
					 struct fdr_tcp_listener *l, unsigned slot)
{
	struct fdr_tcp_conn *c = calloc(1, sizeof(*c));
	int rc;

	if (!c || !(c->rbuf = malloc(RBUF_SIZE))) {
		fdr_warn("nvme-tcp %s: out of memory for the connection", peer);
		free(c);
		close(fd);
		return NULL;
	}
	c->h.fn = conn_event;
	c->h.fd = fd;
	c->defer.fn = conn_deferred;
	c->icreq_timer.fn = conn_icreq_timeout;
	c->r = r;
	c->t = t;
	c->port = port;
	c->l = l;
	c->slot = slot;
	snprintf(c->peer, sizeof(c->peer), "%s", peer ? peer : "?");
	c->state = FDR_TCP_WAIT_ICREQ;
	c->rx_state = FDR_TCP_RX_HDR;
	c->maxh2cdata = opts && opts->maxh2cdata ? opts->maxh2cdata : FDR_TCP_DEFAULT_MAXH2CDATA;
	if (c->maxh2cdata < FDR_TCP_MIN_MAXH2CDATA)
		c->maxh2cdata = FDR_TCP_MIN_MAXH2CDATA;
	c->icreq_timeout_ms = opts && opts->icreq_timeout_ms ? opts->icreq_timeout_ms
							     : FDR_TCP_DEFAULT_ICREQ_TIMEOUT_MS;
	rc = fdr_reactor_add(r, &c->h, EPOLLIN);
	if (rc < 0) {
		fdr_warn("nvme-tcp %s: cannot watch the socket: %s", c->peer, strerror(-rc));
		close(fd);
		free(c->rbuf);
		free(c);
		return NULL;
	}
	fdr_timer_arm(r, &c->icreq_timer, (uint64_t)c->icreq_timeout_ms * 1000000ull);
	static uint32_t next_conn_id;
	c->id = __atomic_add_fetch(&next_conn_id, 1, __ATOMIC_RELAXED);
	fdr_info("nvme-tcp: connection from %s on reactor %u", c->peer, fdr_reactor_id(r));
	FDR_RECORD(conn_slow(c->id, FDR_REC_XPORT_FABRICS, true, c->peer));
	return c;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Self-test of the host library against a small scripted NVMe/TCP target
 * in a thread (no drive needed).  The fake target deliberately uses the
 * less common, legal shapes of the protocol -- CPDA padding, MAXH2CDATA of
 * 4 KiB, two R2Ts per command, C2HData split at odd sizes with padding
 * before the data, the SUCCESS flag instead of a CapsuleResp, PDUs sent a
 * byte at a time -- and, on request, specific violations that the library
 * must detect (bad data digest, data out of range, wrong SQID, C2HTermReq).
 */
#include "itest.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/crc32c.h"

#define FAKE_DISK (1u << 20)
#define FAKE_CPDA 7      /* host data aligned to 32 bytes */
#define FAKE_MAXH2C 4096
#define FAKE_C2H_CHUNK 777
#define DRIBBLE_LBA 999

enum fake_mode {
	MODE_OK,
	MODE_BAD_DDGST,
	MODE_C2H_RANGE,
	MODE_BAD_SQID,
	MODE_TERM,
};

static struct {
	int lfd;
	char port[16];
	pthread_t th;
	uint8_t disk[FAKE_DISK];
	atomic_int mode;
	atomic_int violations; /* host mistakes seen by the fake target */
	char violation[256];
	uint32_t cc, csts;
	pthread_mutex_t lock;
} F;

/* A command that arrived while the target waited for H2CData. */
struct backlog {
	struct backlog *next;
	uint32_t dlen;
	uint32_t doff;
	uint8_t pdu[];
};

struct fconn {
	int fd;
	bool hd, dd;
	uint16_t qid;
	uint16_t ttag;
	struct backlog *bl_head, *bl_tail;
};

static void violation(const char *fmt, const char *a, unsigned b, unsigned c)
{
	if (atomic_fetch_add(&F.violations, 1) == 0) {
		snprintf(F.violation, sizeof(F.violation), fmt, a, b, c);
		fprintf(stderr, "fake target: %s\n", F.violation);
	}
}

static int rd(int fd, void *buf, size_t len)
{
	return fdr_host_raw_recv(fd, buf, len, 10000) == (ssize_t)len ? 0 : -1;
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

/* Send a PDU, optionally one byte at a time. */
static void fsend(struct fconn *c, const uint8_t *p, size_t len, bool dribble)
{
	if (!dribble) {
		fdr_host_raw_send(c->fd, p, len);
		return;
	}
	for (size_t i = 0; i < len; i++) {
		fdr_host_raw_send(c->fd, p + i, 1);
		if (i % 16 == 0)
			usleep(200);
	}
}

static void send_rsp(struct fconn *c, uint16_t cid, uint16_t status, uint32_t cdw0,
		     uint32_t cdw1, bool dribble)
{
	uint8_t pdu[28];
	struct nvme_tcp_rsp *r = (struct nvme_tcp_rsp *)pdu;

	memset(pdu, 0, sizeof(pdu));
	r->hdr.type = NVME_TCP_RSP;
	r->hdr.flags = c->hd ? NVME_TCP_F_HDGST : 0;
	r->hdr.hlen = 24;
	r->hdr.plen = 24 + (c->hd ? 4 : 0);
	r->cqe.cdw0 = cdw0;
	r->cqe.cdw1 = cdw1;
	r->cqe.cid = cid;
	r->cqe.sqid = atomic_load(&F.mode) == MODE_BAD_SQID ? (uint16_t)(c->qid + 1) : c->qid;
	r->cqe.sqhd = 1;
	r->cqe.status = (uint16_t)(status << 1);
	if (c->hd)
		put32(pdu + 24, fdr_crc32c(pdu, 24));
	fsend(c, pdu, r->hdr.plen, dribble);
}

/* C2HData PDUs of FAKE_C2H_CHUNK bytes with 8 bytes of padding before the data. */
static void send_c2h(struct fconn *c, uint16_t cid, const uint8_t *data, uint32_t len,
		     bool success, bool dribble)
{
	uint8_t *pdu = malloc(FAKE_C2H_CHUNK + 64);
	uint32_t off = 0;

	while (off < len) {
		uint32_t n = len - off < FAKE_C2H_CHUNK ? len - off : FAKE_C2H_CHUNK;
		uint32_t pdo = 24 + (c->hd ? 4 : 0) + 8;
		struct nvme_tcp_data *h = (struct nvme_tcp_data *)pdu;
		bool last = off + n == len;
		size_t plen = pdo + n + (c->dd ? 4 : 0);

		memset(pdu, 0, pdo);
		h->hdr.type = NVME_TCP_C2H_DATA;
		h->hdr.flags = (uint8_t)((c->hd ? NVME_TCP_F_HDGST : 0) |
					 (c->dd ? NVME_TCP_F_DDGST : 0) |
					 (last ? NVME_TCP_F_DATA_LAST : 0) |
					 (last && success ? NVME_TCP_F_DATA_SUCCESS : 0));
		h->hdr.hlen = 24;
		h->hdr.pdo = (uint8_t)pdo;
		h->hdr.plen = (uint32_t)plen;
		h->cccid = cid;
		h->datao = off;
		h->datal = n;
		if (atomic_load(&F.mode) == MODE_C2H_RANGE && last)
			h->datao = off + 512;
		if (c->hd)
			put32(pdu + 24, fdr_crc32c(pdu, 24));
		memcpy(pdu + pdo, data + off, n);
		if (c->dd)
			put32(pdu + pdo + n, fdr_crc32c(data + off, n) ^
						     (atomic_load(&F.mode) == MODE_BAD_DDGST ? 1u : 0u));
		fsend(c, pdu, plen, dribble);
		off += n;
	}
	free(pdu);
}

/* Receive one host PDU into buf (header part + data); checks digests and alignment. */
static int recv_pdu(struct fconn *c, uint8_t *buf, size_t cap, uint8_t **data, uint32_t *dlen)
{
	struct nvme_tcp_hdr h;

	if (rd(c->fd, &h, 8))
		return -1;
	if (h.plen > cap || h.plen < 8)
		return -1;
	memcpy(buf, &h, 8);
	if (rd(c->fd, buf + 8, h.plen - 8))
		return -1;
	if (!!(h.flags & NVME_TCP_F_HDGST) != c->hd)
		violation("%s: HDGST flag %u on PDU type %u", "flags", h.flags, h.type);
	if (c->hd) {
		uint32_t got;

		memcpy(&got, buf + h.hlen, 4);
		if (got != fdr_crc32c(buf, h.hlen))
			violation("%s: bad header digest on type %u (%u)", "hdgst", h.type, 0);
	}
	*data = NULL;
	*dlen = 0;
	if (h.pdo) {
		uint32_t dd = (h.flags & NVME_TCP_F_DDGST) ? 4 : 0;

		if (h.pdo % (4u * (FAKE_CPDA + 1)))
			violation("%s: pdo %u not aligned for CPDA (type %u)", "cpda", h.pdo, h.type);
		if (!!dd != c->dd)
			violation("%s: DDGST flag %u on type %u", "flags", h.flags, h.type);
		*data = buf + h.pdo;
		*dlen = h.plen - h.pdo - dd;
		if (dd) {
			uint32_t got;

			memcpy(&got, buf + h.plen - 4, 4);
			if (got != fdr_crc32c(*data, *dlen))
				violation("%s: bad data digest on type %u (%u)", "ddgst", h.type, 0);
		}
	}
	return h.type;
}

static void send_r2t(struct fconn *c, uint16_t cid, uint32_t off, uint32_t len)
{
	uint8_t pdu[28];
	struct nvme_tcp_r2t *r = (struct nvme_tcp_r2t *)pdu;

	memset(pdu, 0, sizeof(pdu));
	r->hdr.type = NVME_TCP_R2T;
	r->hdr.flags = c->hd ? NVME_TCP_F_HDGST : 0;
	r->hdr.hlen = 24;
	r->hdr.plen = 24 + (c->hd ? 4 : 0);
	r->cccid = cid;
	r->ttag = ++c->ttag;
	r->r2to = off;
	r->r2tl = len;
	if (c->hd)
		put32(pdu + 24, fdr_crc32c(pdu, 24));
	fsend(c, pdu, r->hdr.plen, false);
}

/* Collect the H2CData answering one R2T into dst. */
static int recv_h2c(struct fconn *c, uint8_t *buf, size_t cap, uint16_t cid, uint32_t off,
		    uint32_t len, uint8_t *dst)
{
	uint32_t got = 0;

	while (got < len) {
		uint8_t *data;
		uint32_t dlen;
		struct nvme_tcp_data h;
		int t = recv_pdu(c, buf, cap, &data, &dlen);

		if (t == NVME_TCP_CMD) {
			/* The host may send new commands while we wait: keep them. */
			struct nvme_tcp_hdr ch;
			struct backlog *b;

			memcpy(&ch, buf, sizeof(ch));
			b = malloc(sizeof(*b) + ch.plen);
			memcpy(b->pdu, buf, ch.plen);
			b->dlen = dlen;
			b->doff = data ? (uint32_t)(data - buf) : 0;
			b->next = NULL;
			if (c->bl_tail)
				c->bl_tail->next = b;
			else
				c->bl_head = b;
			c->bl_tail = b;
			continue;
		}
		if (t != NVME_TCP_H2C_DATA) {
			violation("%s: expected H2CData, got type %u (%u)", "h2c", (unsigned)t, 0);
			return -1;
		}
		memcpy(&h, buf, sizeof(h));
		if (h.cccid != cid || h.ttag != c->ttag || h.datao != off + got || h.datal != dlen ||
		    h.datal > FAKE_MAXH2C || h.datao + h.datal > off + len)
			violation("%s: bad H2CData datao %u datal %u", "h2c", h.datao, h.datal);
		if (!!(h.hdr.flags & NVME_TCP_F_DATA_LAST) != (got + dlen == len))
			violation("%s: LAST flag wrong at datao %u (flags %u)", "h2c", h.datao,
				  h.hdr.flags);
		memcpy(dst + h.datao, data, dlen);
		got += dlen;
	}
	return 0;
}

static void handle_cmd(struct fconn *c, const struct nvme_sqe *sqe, uint8_t *data, uint32_t dlen,
		       uint8_t *buf, size_t cap)
{
	uint64_t slba = (uint64_t)sqe->cdw11 << 32 | sqe->cdw10;
	uint32_t len = sqe->dptr.sgl1.length;

	if (sqe->opc == NVME_ADM_FABRICS) {
		const struct nvme_fabrics_cmd *f = (const void *)sqe;
		const struct nvme_fabrics_prop_cmd *p = (const void *)sqe;

		switch (f->fctype) {
		case NVME_FCTYPE_CONNECT:
			c->qid = ((const struct nvme_fabrics_connect_cmd *)sqe)->qid;
			if (dlen != 1024)
				violation("%s: Connect data %u bytes (%u)", "connect", dlen, 0);
			send_rsp(c, sqe->cid, 0, 1, 0, false);
			return;
		case NVME_FCTYPE_PROPERTY_GET: {
			uint64_t v = 0;

			pthread_mutex_lock(&F.lock);
			if (p->ofst == NVME_REG_CAP)
				v = 127 | 1ull << NVME_CAP_TO_SHIFT | NVME_CAP_CSS_NVM;
			else if (p->ofst == NVME_REG_VS)
				v = NVME_VS(1, 4, 0);
			else if (p->ofst == NVME_REG_CC)
				v = F.cc;
			else if (p->ofst == NVME_REG_CSTS)
				v = F.csts;
			pthread_mutex_unlock(&F.lock);
			send_rsp(c, sqe->cid, 0, (uint32_t)v, (uint32_t)(v >> 32), false);
			return;
		}
		case NVME_FCTYPE_PROPERTY_SET:
			pthread_mutex_lock(&F.lock);
			F.cc = (uint32_t)p->value;
			F.csts = (F.cc & NVME_CC_EN) ? NVME_CSTS_RDY : 0;
			if ((F.cc & NVME_CC_SHN_MASK) >> NVME_CC_SHN_SHIFT)
				F.csts |= NVME_CSTS_SHST_COMPLETE << NVME_CSTS_SHST_SHIFT;
			pthread_mutex_unlock(&F.lock);
			send_rsp(c, sqe->cid, 0, 0, 0, false);
			return;
		}
		send_rsp(c, sqe->cid, NVME_SC_INVALID_OPCODE, 0, 0, false);
		return;
	}
	if (c->qid == 0) {
		if (sqe->opc == NVME_ADM_IDENTIFY) {
			struct nvme_id_ctrl *id = calloc(1, 4096);

			id->cntlid = 1;
			id->mdts = 5;
			id->sqes = 0x66;
			id->cqes = 0x44;
			id->ioccsz = (8192 + 64) / 16;
			id->iorcsz = 1;
			id->nn = 1;
			snprintf(id->subnqn, sizeof(id->subnqn), "%s", "nqn.fake");
			if (len != 4096)
				violation("%s: Identify SGL length %u (%u)", "identify", len, 0);
			/* Data in odd chunks, completed by the SUCCESS flag. */
			send_c2h(c, sqe->cid, (uint8_t *)id, 4096, true, false);
			free(id);
		} else if (sqe->opc == NVME_ADM_SET_FEATURES && (sqe->cdw10 & 0xff) == NVME_FEAT_NUM_QUEUES) {
			send_rsp(c, sqe->cid, 0, sqe->cdw11, 0, false);
		} else {
			send_rsp(c, sqe->cid, 0, 0, 0, false);
		}
		return;
	}
	if (slba * 512 + len > FAKE_DISK) {
		send_rsp(c, sqe->cid, NVME_SC_LBA_OUT_OF_RANGE, 0, 0, false);
		return;
	}
	if (sqe->opc == NVME_IO_READ) {
		bool dribble = slba == DRIBBLE_LBA;

		if (atomic_load(&F.mode) == MODE_TERM) {
			uint8_t t[24];
			struct nvme_tcp_term *tp = (struct nvme_tcp_term *)t;

			memset(t, 0, sizeof(t));
			tp->hdr.type = NVME_TCP_C2H_TERM;
			tp->hdr.hlen = 24;
			tp->hdr.plen = 24;
			tp->fes = NVME_TCP_FES_DATA_OUT_OF_RANGE;
			fsend(c, t, sizeof(t), false);
			shutdown(c->fd, SHUT_RDWR);
			return;
		}
		/* Even LBAs: SUCCESS flag; odd: a CapsuleResp after the data. */
		send_c2h(c, sqe->cid, F.disk + slba * 512, len, !(slba & 1) && !dribble, dribble);
		if ((slba & 1) || dribble)
			send_rsp(c, sqe->cid, 0, 0, 0, dribble);
		return;
	}
	if (sqe->opc == NVME_IO_WRITE) {
		if (sqe->dptr.sgl1.type == (NVME_SGL_TYPE_DATA_BLOCK << 4 | NVME_SGL_SUBTYPE_OFFSET)) {
			if (dlen != len || len > 8192)
				violation("%s: in-capsule %u bytes, SGL %u", "icd", dlen, len);
			memcpy(F.disk + slba * 512, data, dlen < len ? dlen : len);
		} else {
			/* Two R2Ts, one after the other. */
			uint32_t half = (len / 2 + 511) / 512 * 512;

			if (dlen)
				violation("%s: data in capsule (%u) with a transport SGL (%u)", "sgl",
					  dlen, len);
			send_r2t(c, sqe->cid, 0, half);
			if (recv_h2c(c, buf, cap, sqe->cid, 0, half, F.disk + slba * 512))
				return;
			if (len > half) {
				send_r2t(c, sqe->cid, half, len - half);
				if (recv_h2c(c, buf, cap, sqe->cid, half, len - half,
					     F.disk + slba * 512))
					return;
			}
		}
		send_rsp(c, sqe->cid, 0, 0, 0, false);
		return;
	}
	send_rsp(c, sqe->cid, NVME_SC_INVALID_OPCODE, 0, 0, false);
}

static void *conn_main(void *arg)
{
	struct fconn c = { .fd = (int)(intptr_t)arg };
	size_t cap = 256 * 1024;
	uint8_t *buf = malloc(cap);
	struct nvme_tcp_icreq ic;
	struct nvme_tcp_icresp resp;

	if (rd(c.fd, &ic, sizeof(ic)) || ic.hdr.type != NVME_TCP_ICREQ)
		goto out;
	memset(&resp, 0, sizeof(resp));
	resp.hdr.type = NVME_TCP_ICRESP;
	resp.hdr.hlen = sizeof(resp);
	resp.hdr.plen = sizeof(resp);
	resp.cpda = FAKE_CPDA;
	resp.digest = ic.digest;
	resp.maxdata = FAKE_MAXH2C;
	c.hd = ic.digest & NVME_TCP_HDGST_ENABLE;
	c.dd = ic.digest & NVME_TCP_DDGST_ENABLE;
	fdr_host_raw_send(c.fd, &resp, sizeof(resp));
	for (;;) {
		uint8_t *data;
		uint32_t dlen;
		struct nvme_sqe sqe;
		int t;

		if (c.bl_head) {
			struct backlog *b = c.bl_head;
			uint8_t *cmdbuf = malloc(cap);

			c.bl_head = b->next;
			if (!c.bl_head)
				c.bl_tail = NULL;
			memcpy(&sqe, b->pdu + 8, sizeof(sqe));
			handle_cmd(&c, &sqe, b->doff ? b->pdu + b->doff : NULL, b->dlen, cmdbuf,
				   cap);
			free(cmdbuf);
			free(b);
			continue;
		}
		t = recv_pdu(&c, buf, cap, &data, &dlen);
		if (t < 0)
			break;
		if (t != NVME_TCP_CMD) {
			violation("%s: unexpected PDU type %u (%u)", "seq", (unsigned)t, 0);
			break;
		}
		memcpy(&sqe, buf + 8, sizeof(sqe));
		if ((sqe.flags >> NVME_CMD_FLAGS_PSDT_SHIFT) != NVME_PSDT_SGL_MPTR_CONTIG)
			violation("%s: PSDT %u (%u)", "psdt", sqe.flags, 0);
		handle_cmd(&c, &sqe, data, dlen, buf, cap);
	}
out:
	while (c.bl_head) {
		struct backlog *b = c.bl_head;

		c.bl_head = b->next;
		free(b);
	}
	close(c.fd);
	free(buf);
	return NULL;
}

static void *accept_main(void *arg)
{
	for (;;) {
		int fd = accept(F.lfd, NULL, NULL), one = 1;
		pthread_t th;

		if (fd < 0)
			return NULL;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		pthread_create(&th, NULL, conn_main, (void *)(intptr_t)fd);
		pthread_detach(th);
	}
}

static int setup(void **state)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);

	pthread_mutex_init(&F.lock, NULL);
	F.lfd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(F.lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(F.lfd, 64) ||
	    getsockname(F.lfd, (struct sockaddr *)&sa, &sl))
		return -1;
	snprintf(F.port, sizeof(F.port), "%u", ntohs(sa.sin_port));
	itest_fill(F.disk, sizeof(F.disk), 42);
	return pthread_create(&F.th, NULL, accept_main, NULL);
}

static int teardown(void **state)
{
	shutdown(F.lfd, SHUT_RDWR);
	close(F.lfd);
	pthread_join(F.th, NULL);
	return atomic_load(&F.violations) ? -1 : 0;
}

static struct fdr_host_ctrl *fake_connect(bool digests, unsigned nr_ioq)
{
	struct fdr_host_opts o;
	struct fdr_host_ctrl *c;
	char err[512];

	memset(&o, 0, sizeof(o));
	o.addr = "127.0.0.1";
	o.port = F.port;
	o.subnqn = "nqn.fake";
	o.nr_io_queues = (uint16_t)nr_ioq;
	o.qdepth = 16;
	o.hdgst = o.ddgst = digests;
	o.timeout_ms = 5000;
	atomic_store(&F.mode, MODE_OK);
	c = fdr_host_connect(&o, err, sizeof(err));
	if (!c)
		fail_msg("connect to the fake target: %s", err);
	return c;
}

static void roundtrip(struct fdr_host_queue *q, uint64_t slba, uint32_t len, uint64_t seed)
{
	uint8_t *w = itest_alloc(len), *r = itest_alloc(len);

	itest_fill(w, len, seed);
	assert_status(itest_write(q, 1, slba, len / 512, w, len), NVME_SC_SUCCESS);
	assert_status(itest_read(q, 1, slba, len / 512, r, len), NVME_SC_SUCCESS);
	if (!itest_same(w, r, len, "fake target round trip"))
		fail_msg("data differs (slba %llu len %u)", (unsigned long long)slba, len);
	free(w);
	free(r);
}

static void run_roundtrips(bool digests)
{
	static const uint32_t sizes[] = { 512, 4096, 8192, 8704, 20480, 65536, 131072 };
	struct fdr_host_ctrl *c = fake_connect(digests, 2);
	struct fdr_host_queue *q = fdr_host_ioq(c, 1);

	assert_int_equal(fdr_host_queue_maxh2cdata(q), FAKE_MAXH2C);
	assert_int_equal(fdr_host_queue_incapsule(q), 8192);
	assert_int_equal(fdr_host_queue_hdgst(q), digests);
	assert_string_equal(fdr_host_id_ctrl(c)->subnqn, "nqn.fake");
	for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		roundtrip(q, 0, sizes[i], i);      /* even LBA: C2H SUCCESS flag */
		roundtrip(q, 301, sizes[i], i + 50); /* odd LBA: CapsuleResp */
	}
	/* Forced R2T for a small write. */
	fdr_host_queue_set_incapsule(q, 0);
	roundtrip(q, 5, 1024, 77);
	fdr_host_queue_set_incapsule(q, 8192);
	/* A response sent one byte at a time. */
	{
		uint8_t r[4096];

		assert_status(itest_read(q, 1, DRIBBLE_LBA, 8, r, sizeof(r)), NVME_SC_SUCCESS);
		assert_memory_equal(r, F.disk + DRIBBLE_LBA * 512, sizeof(r));
	}
	assert_int_equal(fdr_host_disconnect(c), 0);
	assert_int_equal(atomic_load(&F.violations), 0);
}

static void test_roundtrip_plain(void **state)
{
	run_roundtrips(false);
}

static void test_roundtrip_digests(void **state)
{
	run_roundtrips(true);
}

struct qd_state {
	unsigned done, bad;
};

static void qd_cb(void *arg, const struct nvme_cqe *cqe)
{
	struct qd_state *s = arg;

	s->done++;
	s->bad += fdr_host_sct_sc(cqe) != 0;
}

/* 16 commands in flight, mixed sizes, through the async API. */
static void test_async_qd(void **state)
{
	struct fdr_host_ctrl *c = fake_connect(true, 1);
	struct fdr_host_queue *q = fdr_host_ioq(c, 0);
	struct qd_state s = { 0, 0 };
	uint8_t *bufs = itest_alloc(16 * 16384);

	for (int round = 0; round < 20; round++) {
		s.done = 0;
		for (unsigned i = 0; i < 16; i++) {
			struct nvme_sqe cmd;
			uint32_t len = 512u << (i % 6);

			itest_rw_cmd(&cmd, (round & 1) ? NVME_IO_READ : NVME_IO_WRITE, 1,
				     1024 + i * 32, len / 512);
			if (!(round & 1))
				itest_fill(bufs + i * 16384, len, (uint64_t)round * 16 + i);
			assert_int_equal(fdr_host_submit(q, &cmd, bufs + i * 16384, len, qd_cb, &s),
					 0);
		}
		{
			struct nvme_sqe cmd;

			itest_rw_cmd(&cmd, NVME_IO_READ, 1, 0, 1);
			assert_int_equal(fdr_host_submit(q, &cmd, bufs, 512, qd_cb, &s), -EBUSY);
		}
		while (s.done < 16)
			assert_true(fdr_host_poll(q, 5000) > 0);
		assert_int_equal(s.bad, 0);
		if (round & 1)
			for (unsigned i = 0; i < 16; i++) {
				uint8_t want[16384];

				itest_fill(want, 512u << (i % 6), (uint64_t)(round - 1) * 16 + i);
				assert_memory_equal(bufs + i * 16384, want, 512u << (i % 6));
			}
	}
	assert_int_equal(fdr_host_disconnect(c), 0);
	free(bufs);
}

/* Each violation must kill the queue with a transport error, not return data. */
static void expect_failure(enum fake_mode mode, bool digests, const char *needle)
{
	struct fdr_host_ctrl *c = fake_connect(digests, 1);
	struct fdr_host_queue *q = fdr_host_ioq(c, 0);
	uint8_t r[4096];
	struct nvme_sqe cmd;
	struct nvme_cqe cqe;
	int rc;

	atomic_store(&F.mode, mode);
	/* An odd LBA: the fake target answers with C2HData and a CapsuleResp. */
	itest_rw_cmd(&cmd, NVME_IO_READ, 1, 9, 8);
	rc = fdr_host_io(q, &cmd, r, sizeof(r), &cqe);
	printf("# fake mode %d: rc %d, %s\n", mode, rc, fdr_host_queue_error(q));
	assert_true(rc < 0);
	assert_true(fdr_host_queue_dead(q));
	assert_non_null(strstr(fdr_host_queue_error(q), needle));
	assert_int_equal(fdr_host_status(&cqe), FDR_HOST_STATUS_TRANSPORT);
	if (mode == MODE_TERM)
		assert_int_equal(fdr_host_queue_term_fes(q), NVME_TCP_FES_DATA_OUT_OF_RANGE);
	/* Further commands fail at once. */
	assert_int_equal(fdr_host_io(q, &cmd, r, sizeof(r), &cqe), -ENOTCONN);
	atomic_store(&F.mode, MODE_OK);
	fdr_host_close(c);
}

static void test_detects_violations(void **state)
{
	expect_failure(MODE_BAD_DDGST, true, "data digest");
	expect_failure(MODE_C2H_RANGE, false, "C2HData");
	expect_failure(MODE_BAD_SQID, false, "sqid");
	expect_failure(MODE_TERM, false, "C2HTermReq");
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_plain),
		cmocka_unit_test(test_roundtrip_digests),
		cmocka_unit_test(test_async_qd),
		cmocka_unit_test(test_detects_violations),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests_name("host_library", tests, setup, teardown);
}

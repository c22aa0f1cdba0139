/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * nvmedump: flight recorder events to pcapng and back (see pcapng.h and
 * docs/recorder.md).  pcapng blocks and options are little-endian here
 * (we write one byte order and read only that one); exported-PDU tags are
 * big-endian, NVMe/TCP PDUs and ring slots little-endian.
 */
#include "pcapng.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <frankendrive/names.h>
#include <frankendrive/nvme.h>
#include <frankendrive/nvme_tcp.h>

#include "format.h"

/* PDUs and ring slots are copied as the structs lie in memory. */
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "nvmedump's pcapng code assumes a little-endian host"
#endif

/* Block types */
#define BT_IDB 1u
#define BT_PB 2u /* obsolete Packet Block */
#define BT_SPB 3u
#define BT_ISB 5u
#define BT_EPB 6u
#define BOM 0x1a2b3c4du
#define BOM_SWAPPED 0x4d3c2b1au

/* Options */
#define OPT_END 0
#define OPT_COMMENT 1
#define SHB_USERAPPL 4
#define IF_NAME 2
#define IF_DESCRIPTION 3
#define IF_TSRESOL 9
#define ISB_IFDROP 5

/* Exported-PDU tags (Wireshark's exported_pdu.h) */
#define EXP_END 0
#define EXP_PROTO_NAME 12
#define EXP_IPV4_SRC 20
#define EXP_IPV4_DST 21
#define EXP_IPV6_SRC 22
#define EXP_IPV6_DST 23
#define EXP_PORT_TYPE 24
#define EXP_SRC_PORT 25
#define EXP_DST_PORT 26
#define EXP_PT_TCP 2

#define PROTO_NVME_TCP "nvme-tcp"
#define SHB_NOTE "frankendrive flight recorder:"
#define MAX_BLOCK (16u << 20)
#define MAX_IFACES 4096
#define MAX_COMMENT 2048
#define DATA_CHUNK sizeof(((struct fdr_rec_event *)0)->u.data.bytes)
#define CMD_CACHE 8192 /* recent commands, by connection and CID */

_Static_assert(sizeof(struct fdr_rec_event) == 256, "a frankendrive record is one slot");

/* ---- Shared: queues and recent commands ---- */

/* A recorded queue: one NVMe/TCP connection, or one queue of a PCIe
 * function.  The writer keys them by queue_key(), the reader by host
 * address and port. */
struct conn {
	uint64_t key; /* key + 1; 0: a free slot */
	uint16_t port;
	uint16_t qid;
	uint16_t cntlid;
	uint16_t connect_cid;
	bool connect_pending;
};

struct conn_map {
	struct conn *v;
	size_t cap; /* a power of two, or 0 */
	size_t n;
};

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

static struct conn *conn_find(const struct conn_map *m, uint64_t key)
{
	if (!m->cap)
		return NULL;
	for (size_t i = mix(key) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		if (m->v[i].key == key + 1)
			return &m->v[i];
		if (!m->v[i].key)
			return NULL;
	}
}

static struct conn *conn_slot(struct conn_map *m, uint64_t key)
{
	size_t i = mix(key) & (m->cap - 1);

	while (m->v[i].key)
		i = (i + 1) & (m->cap - 1);
	return &m->v[i];
}

/* A new entry for key (not in the map), zeroed; NULL when out of memory. */
static struct conn *conn_add(struct conn_map *m, uint64_t key)
{
	struct conn *c;

	if ((m->n + 1) * 2 > m->cap) {
		struct conn_map g = {NULL, m->cap ? m->cap * 2 : 64, m->n};

		g.v = calloc(g.cap, sizeof(*g.v));
		if (!g.v)
			return NULL;
		for (size_t i = 0; i < m->cap; i++)
			if (m->v[i].key)
				*conn_slot(&g, m->v[i].key - 1) = m->v[i];
		free(m->v);
		*m = g;
	}
	c = conn_slot(m, key);
	memset(c, 0, sizeof(*c));
	c->key = key + 1;
	m->n++;
	return c;
}

/* Remove c (linear probing: shift the entries after it back). */
static void conn_del(struct conn_map *m, struct conn *c)
{
	size_t mask = m->cap - 1, i = (size_t)(c - m->v), j = i;

	c->key = 0;
	m->n--;
	for (;;) {
		j = (j + 1) & mask;
		if (!m->v[j].key)
			return;
		size_t home = mix(m->v[j].key - 1) & mask;
		/* j may move to i unless its home lies cyclically in (i, j] */
		bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);

		if (!stays) {
			m->v[i] = m->v[j];
			m->v[j].key = 0;
			i = j;
		}
	}
}

struct cmd_ent {
	uint64_t key; /* its queue's key + 1; 0: empty */
	uint64_t wall_ns;
	uint16_t cid;
	uint8_t opc;
	uint8_t fctype;
};

/* Direct-mapped: a collision forgets the older command (the reader then
 * falls back on the comment, the writer on C2HData). */
static struct cmd_ent *cmd_slot(struct cmd_ent *cache, uint64_t queue, uint16_t cid)
{
	return &cache[mix(mix(queue) ^ cid) & (CMD_CACHE - 1)];
}

static bool cmd_is(const struct cmd_ent *ce, uint64_t queue, uint16_t cid)
{
	return ce->key == queue + 1 && ce->cid == cid;
}

static void cmd_set(struct cmd_ent *ce, uint64_t queue, uint16_t cid, uint8_t opc, uint8_t fctype)
{
	ce->key = queue + 1;
	ce->cid = cid;
	ce->opc = opc;
	ce->fctype = fctype;
}

static uint16_t host_port(uint32_t qid)
{
	return (uint16_t)(qid > 65535u - NVMEDUMP_PCAPNG_HOST_PORT ? 65535u
								 : NVMEDUMP_PCAPNG_HOST_PORT + qid);
}

/* The host end of a queue's conversation (docs/recorder.md): 10.A.B.C for
 * NVMe/TCP (the connection ID's low 24 bits), 172.(16 + G).BB.DF for a
 * PCIe function (G the attach generation's low 4 bits, BB the bus, DF
 * device << 3 | function). */
static uint32_t host_addr(uint8_t xport, uint32_t conn)
{
	if (xport == FDR_REC_XPORT_PCIE)
		return NVMEDUMP_PCAPNG_PCI_NET | (conn >> 16 & 0xfu) << 16 | FDR_REC_PCI_BDF(conn);
	return NVMEDUMP_PCAPNG_TCP_NET | (conn & 0xffffffu);
}

static bool is_pci_host(uint32_t addr)
{
	return (addr & 0xfff00000u) == NVMEDUMP_PCAPNG_PCI_NET;
}

static uint8_t fctype_of(const struct nvme_sqe *sqe)
{
	return (uint8_t)(sqe->nsid & 0xff); /* byte 4 */
}

static bool is_connect(const struct nvme_sqe *sqe)
{
	return sqe->opc == NVME_ADM_FABRICS && fctype_of(sqe) == NVME_FCTYPE_CONNECT;
}

/* Printable ASCII, the rest '?': pcapng strings are UTF-8. */
static void clean_copy(char *dst, size_t dstlen, const char *src, size_t srclen)
{
	size_t n = 0;

	for (size_t i = 0; src && i < srclen && src[i] && n + 1 < dstlen; i++) {
		unsigned char ch = (unsigned char)src[i];

		dst[n++] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
	}
	if (dstlen)
		dst[n] = '\0';
}

/* ==== Writer ==== */

struct nvmedump_pcapng_writer {
	FILE *f;
	bool err;
	char dev[256];
	uint64_t last_ns;
	uint64_t lost;
	struct conn_map conns;
	struct cmd_ent *cmds;
	size_t n;   /* bytes of the block being built */
	size_t pkt; /* where its packet data starts */
	uint8_t b[8192];
};

static void put(struct nvmedump_pcapng_writer *w, const void *p, size_t n)
{
	if (n == 0)
		return;
	if (n > sizeof(w->b) - w->n) {
		w->err = true; /* cannot happen: blocks are bounded */
		return;
	}
	memcpy(w->b + w->n, p, n);
	w->n += n;
}

static void put8(struct nvmedump_pcapng_writer *w, uint8_t v)
{
	put(w, &v, 1);
}

static void put_le16(struct nvmedump_pcapng_writer *w, uint16_t v)
{
	uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};

	put(w, b, 2);
}

static void put_le32(struct nvmedump_pcapng_writer *w, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};

	put(w, b, 4);
}

static void put_le64(struct nvmedump_pcapng_writer *w, uint64_t v)
{
	put_le32(w, (uint32_t)v);
	put_le32(w, (uint32_t)(v >> 32));
}

static void patch_le32(struct nvmedump_pcapng_writer *w, size_t at, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};

	if (at + 4 <= w->n)
		memcpy(w->b + at, b, 4);
}

static void put_pad(struct nvmedump_pcapng_writer *w)
{
	while (w->n & 3)
		put8(w, 0);
}

static void put_opt(struct nvmedump_pcapng_writer *w, uint16_t code, const void *v, size_t len)
{
	put_le16(w, code);
	put_le16(w, (uint16_t)len);
	put(w, v, len);
	put_pad(w);
}

static void put_opt_str(struct nvmedump_pcapng_writer *w, uint16_t code, const char *s)
{
	size_t len = strlen(s);

	put_opt(w, code, s, len < MAX_COMMENT ? len : MAX_COMMENT);
}

static void block_begin(struct nvmedump_pcapng_writer *w, uint32_t type)
{
	w->n = 0;
	put_le32(w, type);
	put_le32(w, 0); /* total length, patched at the end */
}

static int block_end(struct nvmedump_pcapng_writer *w)
{
	uint32_t total = (uint32_t)w->n + 4;

	put_le32(w, total);
	patch_le32(w, 4, total);
	if (w->err)
		return -1;
	if (fwrite(w->b, 1, w->n, w->f) != w->n)
		w->err = true;
	return w->err ? -1 : 0;
}

/* An exported-PDU tag: 16-bit tag and length, big-endian, the value
 * unpadded (Wireshark 4.0 would take padding for payload). */
static void put_tag(struct nvmedump_pcapng_writer *w, uint16_t tag, const void *v, size_t len)
{
	uint8_t h[4] = {(uint8_t)(tag >> 8), (uint8_t)tag, (uint8_t)(len >> 8), (uint8_t)len};

	put(w, h, 4);
	put(w, v, len);
}

static void put_tag_be32(struct nvmedump_pcapng_writer *w, uint16_t tag, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};

	put_tag(w, tag, b, 4);
}

/* Start an EPB whose packet is an exported PDU for proto, between the
 * host of ev's queue (port hport) and the controller. */
static void epb_begin(struct nvmedump_pcapng_writer *w, const struct fdr_rec_event *ev,
		      const char *proto, uint16_t hport, bool to_ctrl)
{
	uint32_t h = host_addr(ev->xport, ev->conn), c = NVMEDUMP_PCAPNG_CTRL_ADDR;
	uint64_t ns = ev->wall_ns;

	block_begin(w, BT_EPB);
	put_le32(w, 0); /* interface */
	put_le32(w, (uint32_t)(ns >> 32));
	put_le32(w, (uint32_t)ns);
	put_le32(w, 0); /* captured length, patched */
	put_le32(w, 0); /* original length, patched */
	w->pkt = w->n;
	put_tag(w, EXP_PROTO_NAME, proto, strlen(proto));
	put_tag_be32(w, EXP_IPV4_SRC, to_ctrl ? h : c);
	put_tag_be32(w, EXP_IPV4_DST, to_ctrl ? c : h);
	put_tag_be32(w, EXP_PORT_TYPE, EXP_PT_TCP);
	put_tag_be32(w, EXP_SRC_PORT, to_ctrl ? hport : NVMEDUMP_PCAPNG_CTRL_PORT);
	put_tag_be32(w, EXP_DST_PORT, to_ctrl ? NVMEDUMP_PCAPNG_CTRL_PORT : hport);
	put_tag(w, EXP_END, NULL, 0);
}

static int epb_end(struct nvmedump_pcapng_writer *w, const char *comment)
{
	uint32_t caplen = (uint32_t)(w->n - w->pkt);

	patch_le32(w, w->pkt - 8, caplen);
	patch_le32(w, w->pkt - 4, caplen);
	put_pad(w);
	if (comment) {
		put_opt_str(w, OPT_COMMENT, comment);
		put_opt(w, OPT_END, NULL, 0);
	}
	return block_end(w);
}

static void pdu_hdr(struct nvme_tcp_hdr *h, uint8_t type, uint8_t hlen, uint8_t pdo, uint32_t plen)
{
	h->type = type;
	h->flags = 0;
	h->hlen = hlen;
	h->pdo = pdo;
	h->plen = plen;
}

static void put_cmd_pdu(struct nvmedump_pcapng_writer *w, const struct nvme_sqe *sqe,
			const void *icd, uint32_t icd_len)
{
	struct nvme_tcp_cmd c;

	memset(&c, 0, sizeof(c));
	pdu_hdr(&c.hdr, NVME_TCP_CMD, sizeof(c), icd_len ? sizeof(c) : 0, sizeof(c) + icd_len);
	memcpy(&c.sqe, sqe, sizeof(c.sqe));
	put(w, &c, sizeof(c));
	put(w, icd, icd_len);
}

static void put_rsp_pdu(struct nvmedump_pcapng_writer *w, const struct nvme_cqe *cqe)
{
	struct nvme_tcp_rsp r;

	memset(&r, 0, sizeof(r));
	pdu_hdr(&r.hdr, NVME_TCP_RSP, sizeof(r), 0, sizeof(r));
	memcpy(&r.cqe, cqe, sizeof(r.cqe));
	put(w, &r, sizeof(r));
}

struct nvmedump_pcapng_writer *nvmedump_pcapng_writer_open(FILE *f, const char *dev,
							   uint32_t snaplen, uint32_t flags)
{
	struct nvmedump_pcapng_writer *w = calloc(1, sizeof(*w));
	char note[128];
	const uint8_t tsresol = 9; /* nanoseconds */

	if (!w)
		return NULL;
	w->cmds = calloc(CMD_CACHE, sizeof(*w->cmds));
	if (!w->cmds) {
		free(w);
		return NULL;
	}
	w->f = f;
	clean_copy(w->dev, sizeof(w->dev), dev, dev ? strlen(dev) : 0);

	block_begin(w, NVMEDUMP_PCAPNG_SHB);
	put_le32(w, BOM);
	put_le16(w, 1); /* version 1.0 */
	put_le16(w, 0);
	put_le64(w, UINT64_MAX); /* section length: not given */
	put_opt_str(w, SHB_USERAPPL, "nvmedump (frankendrive)");
	snprintf(note, sizeof(note), SHB_NOTE " snaplen %u, flags 0x%x", snaplen, flags);
	put_opt_str(w, OPT_COMMENT, note);
	put_opt(w, OPT_END, NULL, 0);
	block_end(w);

	block_begin(w, BT_IDB);
	put_le16(w, NVMEDUMP_PCAPNG_LINKTYPE);
	put_le16(w, 0);
	put_le32(w, 0); /* snap length: none, packets are whole */
	put_opt_str(w, IF_NAME, "frankendrive");
	if (w->dev[0])
		put_opt_str(w, IF_DESCRIPTION, w->dev);
	put_opt(w, IF_TSRESOL, &tsresol, 1);
	put_opt(w, OPT_END, NULL, 0);
	block_end(w);
	return w;
}

/* The writer's key of an event's queue: an NVMe/TCP connection is one
 * queue (whose QID its Connect gives later), a PCIe function's queues
 * share its conn. */
static uint64_t queue_key(const struct fdr_rec_event *ev)
{
	if (ev->xport == FDR_REC_XPORT_PCIE)
		return 1ull << 48 | (uint64_t)ev->conn << 16 | ev->qid;
	return ev->conn;
}

/* Whose queue it is, for the synthetic records' comments. */
static void queue_owner(const struct fdr_rec_event *ev, char *buf, size_t len)
{
	if (ev->xport == FDR_REC_XPORT_PCIE) {
		size_t n = nvmedump_format_pci(ev->conn, buf, len);

		snprintf(buf + n, len - n, " gen %u", ev->conn >> 16);
	} else {
		snprintf(buf, len, "conn %u", ev->conn);
	}
}

/* The first NVMe/TCP event of a queue: remember the queue, and give
 * Wireshark the connection's start, which the ring does not hold: ICReq and
 * ICResp, and unless this event is the queue's own Connect, a Connect (and
 * its response) that says the queue ID. */
static struct conn *new_queue(struct nvmedump_pcapng_writer *w, const struct fdr_rec_event *ev)
{
	struct nvme_sqe sqe;
	bool real_connect = false;
	uint16_t qid = ev->qid;
	char note[160], who[32];
	struct conn *c;

	/* A PCIe host's Fabrics command is just a bad command. */
	if (ev->kind == FDR_REC_CMD && ev->xport != FDR_REC_XPORT_PCIE) {
		memcpy(&sqe, &ev->u.cmd.sqe, sizeof(sqe));
		real_connect = is_connect(&sqe);
		if (real_connect)
			qid = (uint16_t)(sqe.cdw10 >> 16); /* the queue it makes */
	}
	queue_owner(ev, who, sizeof(who));
	c = conn_add(&w->conns, queue_key(ev));
	if (!c) {
		w->err = true;
		return NULL;
	}
	c->qid = qid;
	c->port = host_port(qid);

	struct nvme_tcp_icreq icreq;
	struct nvme_tcp_icresp icresp;

	memset(&icreq, 0, sizeof(icreq));
	pdu_hdr(&icreq.hdr, NVME_TCP_ICREQ, sizeof(icreq), 0, sizeof(icreq));
	snprintf(note, sizeof(note),
		 NVMEDUMP_PCAPNG_SYNTHETIC " ICReq: the start of queue %u (%s), not recorded", qid,
		 who);
	epb_begin(w, ev, PROTO_NVME_TCP, c->port, true);
	put(w, &icreq, sizeof(icreq));
	epb_end(w, note);

	memset(&icresp, 0, sizeof(icresp));
	pdu_hdr(&icresp.hdr, NVME_TCP_ICRESP, sizeof(icresp), 0, sizeof(icresp));
	icresp.maxdata = 131072;
	epb_begin(w, ev, PROTO_NVME_TCP, c->port, false);
	put(w, &icresp, sizeof(icresp));
	epb_end(w, NVMEDUMP_PCAPNG_SYNTHETIC " ICResp");
	if (real_connect)
		return w->err ? NULL : c;

	/* A Connect tells Wireshark the queue ID (and the controller). */
	struct nvme_fabrics_connect_cmd cc;
	struct nvme_fabrics_connect_data cd;
	struct nvme_cqe cqe;

	memset(&cc, 0, sizeof(cc));
	cc.opc = NVME_ADM_FABRICS;
	cc.flags = NVME_PSDT_SGL_MPTR_CONTIG << NVME_CMD_FLAGS_PSDT_SHIFT;
	cc.cid = NVMEDUMP_PCAPNG_SYNTH_CID;
	cc.fctype = NVME_FCTYPE_CONNECT;
	cc.sgl1.length = sizeof(cd);
	cc.sgl1.type = 0x01; /* data block, offset (in-capsule) */
	cc.qid = qid;
	cc.sqsize = 127;
	memset(&cd, 0, sizeof(cd));
	cd.cntlid = qid ? ev->cntlid : 0xffff;
	memcpy(cd.subnqn, w->dev, strlen(w->dev));
	memcpy(&sqe, &cc, sizeof(sqe));
	snprintf(note, sizeof(note),
		 NVMEDUMP_PCAPNG_SYNTHETIC " Connect: queue %u of controller %u (%s)", qid,
		 ev->cntlid, who);
	epb_begin(w, ev, PROTO_NVME_TCP, c->port, true);
	put_cmd_pdu(w, &sqe, &cd, sizeof(cd));
	epb_end(w, note);

	memset(&cqe, 0, sizeof(cqe));
	cqe.cdw0 = ev->cntlid;
	cqe.sqid = qid;
	cqe.cid = NVMEDUMP_PCAPNG_SYNTH_CID;
	epb_begin(w, ev, PROTO_NVME_TCP, c->port, false);
	put_rsp_pdu(w, &cqe);
	epb_end(w, NVMEDUMP_PCAPNG_SYNTHETIC " Connect response");
	return w->err ? NULL : c;
}

static int write_nvme(struct nvmedump_pcapng_writer *w, const struct fdr_rec_event *ev,
		      const char *text)
{
	uint64_t q = queue_key(ev);
	struct conn *c = conn_find(&w->conns, q);
	struct cmd_ent *ce;

	if (!c && !(c = new_queue(w, ev)))
		return -1;
	if (ev->kind == FDR_REC_CMD) {
		struct nvme_sqe sqe;

		memcpy(&sqe, &ev->u.cmd.sqe, sizeof(sqe));
		cmd_set(cmd_slot(w->cmds, q, sqe.cid), q, sqe.cid, sqe.opc, fctype_of(&sqe));
		epb_begin(w, ev, PROTO_NVME_TCP, c->port, true);
		put_cmd_pdu(w, &sqe, NULL, 0);
	} else if (ev->kind == FDR_REC_CPL) {
		struct nvme_cqe cqe;

		memcpy(&cqe, &ev->u.cpl.cqe, sizeof(cqe));
		epb_begin(w, ev, PROTO_NVME_TCP, c->port, false);
		put_rsp_pdu(w, &cqe);
	} else {
		/* Data: the direction from the command, when we saw it. */
		struct nvme_tcp_data d;
		uint32_t n = ev->len < DATA_CHUNK ? ev->len : DATA_CHUNK;
		bool to_ctrl = false;

		ce = cmd_slot(w->cmds, q, ev->cid);
		if (cmd_is(ce, q, ev->cid)) {
			uint8_t x = ce->opc == NVME_ADM_FABRICS ? ce->fctype : ce->opc;

			to_ctrl = (x & NVME_OPC_XFER_MASK) == NVME_OPC_XFER_TO_CTRL;
		}
		memset(&d, 0, sizeof(d));
		pdu_hdr(&d.hdr, to_ctrl ? NVME_TCP_H2C_DATA : NVME_TCP_C2H_DATA, sizeof(d), sizeof(d),
			sizeof(d) + n);
		d.cccid = ev->cid;
		d.datao = ev->u.data.offset;
		d.datal = n;
		epb_begin(w, ev, PROTO_NVME_TCP, c->port, to_ctrl);
		put(w, &d, sizeof(d));
		put(w, ev->u.data.bytes, n);
	}
	return epb_end(w, text);
}

static int write_raw(struct nvmedump_pcapng_writer *w, const struct fdr_rec_event *ev,
		     const char *text)
{
	struct conn *c = conn_find(&w->conns, queue_key(ev));
	struct fdr_rec_event slot;
	/* what the controller sends, or does to host memory */
	bool to_ctrl = ev->kind != FDR_REC_PDU_TX && ev->kind != FDR_REC_AEN &&
		       ev->kind != FDR_REC_IRQ && ev->kind != FDR_REC_DMA_ERR;
	int rc;

	memcpy(&slot, ev, sizeof(slot));
	slot.seq = ev->seq ? ev->seq - 1 : 0; /* the index */
	epb_begin(w, ev, NVMEDUMP_PCAPNG_PROTO, c ? c->port : host_port(ev->qid), to_ctrl);
	put(w, &slot, sizeof(slot));
	rc = epb_end(w, text);
	/* Connection IDs are not reused; a PCIe function's next attach has
	 * another generation (and its queues are not one). */
	if (c && ev->kind == FDR_REC_DISCONNECT && ev->xport != FDR_REC_XPORT_PCIE)
		conn_del(&w->conns, c);
	return rc;
}

int nvmedump_pcapng_write_event(struct nvmedump_pcapng_writer *w, const struct fdr_rec_event *ev,
				const char *text)
{
	struct fdr_rec_event e;

	if (w->err)
		return -1;
	memcpy(&e, ev, sizeof(e));
	w->last_ns = e.wall_ns;
	if (e.kind == FDR_REC_CMD || e.kind == FDR_REC_CPL || e.kind == FDR_REC_DATA)
		return write_nvme(w, &e, text);
	return write_raw(w, &e, text);
}

int nvmedump_pcapng_write_lost(struct nvmedump_pcapng_writer *w, uint64_t lost)
{
	uint8_t v[8];

	if (w->err)
		return -1;
	if (lost == w->lost)
		return 0;
	w->lost = lost;
	for (int i = 0; i < 8; i++)
		v[i] = (uint8_t)(lost >> (8 * i));
	block_begin(w, BT_ISB);
	put_le32(w, 0); /* interface */
	put_le32(w, (uint32_t)(w->last_ns >> 32));
	put_le32(w, (uint32_t)w->last_ns);
	put_opt(w, ISB_IFDROP, v, sizeof(v));
	put_opt(w, OPT_END, NULL, 0);
	return block_end(w);
}

int nvmedump_pcapng_writer_close(struct nvmedump_pcapng_writer *w)
{
	int rc;

	if (!w)
		return 0;
	if (fflush(w->f) != 0 || ferror(w->f))
		w->err = true;
	rc = w->err ? -1 : 0;
	free(w->conns.v);
	free(w->cmds);
	free(w);
	return rc;
}

/* ==== Reader ==== */

struct iface {
	uint16_t linktype;
	uint8_t tsresol;
};

#define DEV_UNSET (-1)
#define DEV_NONE (-2) /* the comment says "-" */

/* The packet being turned into events. */
struct pkt {
	bool active;
	bool raw; /* a frankendrive record, not yet returned */
	const uint8_t *p; /* NVMe/TCP PDUs (within the block buffer) */
	size_t len, off;
	uint64_t ns;
	uint32_t src, dst; /* IPv4 addresses; of IPv6 the low 24 bits */
	uint16_t sport, dport;
	bool synthetic;
	bool first_taken; /* the comment's index went to an event */
	bool has_index;
	uint64_t index;
	int32_t dev;
	/* data still to be split into events (H2C/C2HData, in-capsule) */
	bool in_data;
	bool empty_data;   /* a PDU with no data: one event of length 0 */
	bool data_to_ctrl; /* which end is the host */
	const uint8_t *data;
	size_t data_len, data_pos;
	uint32_t datao;
	uint16_t data_cid;
	char comment[MAX_COMMENT];
};

struct nvmedump_pcapng_reader {
	FILE *f;
	bool follow;
	bool failed;
	bool any_index;
	char err[256];
	uint8_t *buf;
	size_t cap, have;
	bool ready;       /* a whole block is in buf, not yet processed */
	uint32_t blk_len; /* its length */
	uint64_t off;     /* its offset in the file */
	struct iface *ifs;
	size_t nifs;
	char dev[256];
	bool dev_set;
	uint32_t snaplen, flags;
	uint64_t lost, skipped;
	uint64_t last_index;
	struct conn_map conns;
	struct cmd_ent *cmds;
	struct pkt pk;
};

static uint16_t rd_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t rd_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd_le64(const uint8_t *p)
{
	return (uint64_t)rd_le32(p) | (uint64_t)rd_le32(p + 4) << 32;
}

static uint16_t rd_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

bool nvmedump_pcapng_magic(const void *buf, size_t len)
{
	return len >= 4 && rd_le32(buf) == NVMEDUMP_PCAPNG_SHB;
}

static int __attribute__((format(printf, 2, 3))) fail(struct nvmedump_pcapng_reader *r,
						      const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->err, sizeof(r->err), fmt, ap);
	va_end(ap);
	r->failed = true;
	return -1;
}

/* Have the first need bytes of the current block in buf: 1, 0 at the end
 * of the file (what was there is kept), -1 on error. */
static int fill(struct nvmedump_pcapng_reader *r, size_t need)
{
	while (r->have < need) {
		size_t want = need - r->have < 65536 ? need : r->have + 65536;

		if (want > r->cap) {
			uint8_t *nb = realloc(r->buf, want);

			if (!nb)
				return fail(r, "out of memory");
			r->buf = nb;
			r->cap = want;
		}
		size_t n = fread(r->buf + r->have, 1, want - r->have, r->f);

		r->have += n;
		if (n == 0) {
			if (ferror(r->f))
				return fail(r, "read error: %s", strerror(errno));
			clearerr(r->f); /* a growing file may have more later */
			return 0;
		}
	}
	return 1;
}

static int at_end(struct nvmedump_pcapng_reader *r, int rc)
{
	if (rc < 0)
		return -1;
	if (r->have == 0 || r->follow)
		return 0;
	return fail(r, "truncated block at offset %llu (%zu bytes, then the end of the file)",
		    (unsigned long long)r->off, r->have);
}

/* Read the next whole block into buf: 1, 0 at the end of the file, -1. */
static int read_block(struct nvmedump_pcapng_reader *r)
{
	int rc = fill(r, 8);
	uint32_t type, len;

	if (rc <= 0)
		return at_end(r, rc);
	type = rd_le32(r->buf);
	len = rd_le32(r->buf + 4);
	if (type == NVMEDUMP_PCAPNG_SHB) {
		if ((rc = fill(r, 12)) <= 0)
			return at_end(r, rc);
		if (rd_le32(r->buf + 8) == BOM_SWAPPED)
			return fail(r, "big-endian pcapng sections are not supported");
		if (rd_le32(r->buf + 8) != BOM)
			return fail(r, "bad byte-order magic at offset %llu", (unsigned long long)r->off);
		if (len < 28)
			return fail(r, "section header too short at offset %llu",
				    (unsigned long long)r->off);
	}
	if (len < 12 || len % 4 != 0 || len > MAX_BLOCK)
		return fail(r, "bad block length %u at offset %llu", len, (unsigned long long)r->off);
	if ((rc = fill(r, len)) <= 0)
		return at_end(r, rc);
	if (rd_le32(r->buf + len - 4) != len)
		return fail(r, "block at offset %llu: trailing length %u, expected %u",
			    (unsigned long long)r->off, rd_le32(r->buf + len - 4), len);
	r->blk_len = len;
	r->ready = true;
	return 1;
}

/* Done with the block in buf. */
static void consume(struct nvmedump_pcapng_reader *r)
{
	r->off += r->blk_len;
	r->have = 0;
	r->ready = false;
	r->pk.active = false;
}

/* Find the first option with this code in p[0..len): its value, length. */
static bool opt_find(const uint8_t *p, size_t len, uint16_t code, const uint8_t **v, size_t *vlen)
{
	while (len >= 4) {
		uint16_t c = rd_le16(p), l = rd_le16(p + 2);
		size_t padded = ((size_t)l + 3) & ~(size_t)3;

		if (c == OPT_END || l > len - 4)
			return false;
		if (c == code) {
			*v = p + 4;
			*vlen = l;
			return true;
		}
		if (padded > len - 4)
			return false;
		p += 4 + padded;
		len -= 4 + padded;
	}
	return false;
}

/* Decimal digits at *s (not more than fits): true if there was one. */
static bool parse_dec(const char **s, uint64_t *v)
{
	const char *p = *s;
	uint64_t x = 0;

	if (*p < '0' || *p > '9')
		return false;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (x > (UINT64_MAX - 9) / 10)
			return false;
		x = x * 10 + (uint64_t)(*p - '0');
	}
	*s = p;
	*v = x;
	return true;
}

static void parse_shb_note(struct nvmedump_pcapng_reader *r, const uint8_t *v, size_t len)
{
	char s[128];
	const char *p;
	uint64_t x;

	clean_copy(s, sizeof(s), (const char *)v, len);
	if (strncmp(s, SHB_NOTE, strlen(SHB_NOTE)) != 0)
		return;
	p = strstr(s, " snaplen ");
	if (p && (p += 9, parse_dec(&p, &x)) && x <= UINT32_MAX)
		r->snaplen = (uint32_t)x;
	p = strstr(s, " flags 0x");
	if (p) {
		uint32_t f = 0;
		int n = 0;

		for (p += 9; n < 8; p++, n++) {
			int d = *p >= '0' && *p <= '9' ? *p - '0'
			      : *p >= 'a' && *p <= 'f' ? *p - 'a' + 10
						       : -1;
			if (d < 0)
				break;
			f = f << 4 | (uint32_t)d;
		}
		r->flags = f;
	}
}

static int do_shb(struct nvmedump_pcapng_reader *r)
{
	const uint8_t *b = r->buf, *v;
	size_t vlen;

	if (rd_le16(b + 12) != 1)
		return fail(r, "pcapng version %u.%u is not supported", rd_le16(b + 12),
			    rd_le16(b + 14));
	r->nifs = 0; /* a new section has its own interfaces */
	if (opt_find(b + 24, r->blk_len - 28, OPT_COMMENT, &v, &vlen))
		parse_shb_note(r, v, vlen);
	return 0;
}

static int do_idb(struct nvmedump_pcapng_reader *r)
{
	const uint8_t *b = r->buf, *v;
	size_t vlen, olen;
	struct iface ifc;

	if (r->blk_len < 20)
		return fail(r, "interface block too short at offset %llu", (unsigned long long)r->off);
	if (r->nifs >= MAX_IFACES)
		return fail(r, "more than %d interfaces", MAX_IFACES);
	ifc.linktype = rd_le16(b + 8);
	ifc.tsresol = 6; /* the default: microseconds */
	olen = r->blk_len - 20;
	if (opt_find(b + 16, olen, IF_TSRESOL, &v, &vlen) && vlen >= 1)
		ifc.tsresol = v[0];
	if (ifc.linktype == NVMEDUMP_PCAPNG_LINKTYPE && !r->dev_set &&
	    opt_find(b + 16, olen, IF_DESCRIPTION, &v, &vlen)) {
		clean_copy(r->dev, sizeof(r->dev), (const char *)v, vlen);
		r->dev_set = true;
	}
	if ((r->nifs & (r->nifs - 1)) == 0) { /* 0, 1, 2, 4...: grow */
		struct iface *n = realloc(r->ifs, (r->nifs ? r->nifs * 2 : 1) * sizeof(*n));

		if (!n)
			return fail(r, "out of memory");
		r->ifs = n;
	}
	r->ifs[r->nifs++] = ifc;
	return 0;
}

static void do_isb(struct nvmedump_pcapng_reader *r)
{
	const uint8_t *b = r->buf, *v;
	size_t vlen;
	uint32_t ifid;

	if (r->blk_len < 24)
		return;
	ifid = rd_le32(b + 8);
	if (ifid < r->nifs && r->ifs[ifid].linktype == NVMEDUMP_PCAPNG_LINKTYPE &&
	    opt_find(b + 20, r->blk_len - 24, ISB_IFDROP, &v, &vlen) && vlen == 8)
		r->lost = rd_le64(v);
}

static uint64_t to_ns(uint64_t t, uint8_t res)
{
	unsigned e = res & 0x7f;

	if (res & 0x80)
		return (uint64_t)(((unsigned __int128)t * 1000000000u) >> e);
	for (; e < 9; e++)
		t *= 10;
	for (; e > 9 && t; e--)
		t /= 10;
	return t;
}

/* "[N] sec:nsec DEV ...": the index and the controller. */
static void parse_comment(struct pkt *pk)
{
	const char *s = pk->comment;
	uint64_t v;

	pk->synthetic = !strncmp(s, NVMEDUMP_PCAPNG_SYNTHETIC, strlen(NVMEDUMP_PCAPNG_SYNTHETIC));
	if (*s++ != '[' || !parse_dec(&s, &v) || *s++ != ']')
		return;
	pk->has_index = true;
	pk->index = v;
	if (*s++ != ' ')
		return;
	while (*s && *s != ' ')
		s++;
	if (*s++ != ' ')
		return;
	if (s[0] == '-' && s[1] == ' ')
		pk->dev = DEV_NONE;
	else if (!strncmp(s, "ctrl", 4) && (s += 4, parse_dec(&s, &v)) && v <= 0xffff && *s == ' ')
		pk->dev = (int32_t)v;
}

/* An address tag: IPv4 whole, IPv6 its low 24 bits (an NVMe/TCP host). */
static uint32_t host_of(const uint8_t *v, size_t len)
{
	if (len == 4)
		return rd_be32(v);
	return (uint32_t)v[len - 3] << 16 | (uint32_t)v[len - 2] << 8 | v[len - 1];
}

static int do_epb(struct nvmedump_pcapng_reader *r)
{
	const uint8_t *b = r->buf, *d, *v;
	struct pkt *pk = &r->pk;
	uint32_t ifid, caplen;
	size_t n, vlen, optoff;
	const uint8_t *proto = NULL;
	size_t proto_len = 0;

	if (r->blk_len < 32)
		return fail(r, "packet block too short at offset %llu", (unsigned long long)r->off);
	ifid = rd_le32(b + 8);
	caplen = rd_le32(b + 20);
	if (caplen > r->blk_len - 32)
		return fail(r, "packet at offset %llu: captured length %u does not fit its block",
			    (unsigned long long)r->off, caplen);
	if (ifid >= r->nifs)
		return fail(r, "packet at offset %llu for interface %u, which is not defined",
			    (unsigned long long)r->off, ifid);
	if (r->ifs[ifid].linktype != NVMEDUMP_PCAPNG_LINKTYPE) {
		r->skipped++;
		return 0;
	}
	memset(pk, 0, offsetof(struct pkt, comment));
	pk->comment[0] = '\0';
	pk->dev = DEV_UNSET;
	pk->ns = to_ns(rd_le32(b + 12) * (1ull << 32) + rd_le32(b + 16), r->ifs[ifid].tsresol);
	optoff = 28 + (((size_t)caplen + 3) & ~(size_t)3);
	if (opt_find(b + optoff, r->blk_len - 4 - optoff, OPT_COMMENT, &v, &vlen)) {
		size_t m = vlen < sizeof(pk->comment) - 1 ? vlen : sizeof(pk->comment) - 1;

		memcpy(pk->comment, v, m);
		pk->comment[m] = '\0';
		parse_comment(pk);
	}

	/* Exported-PDU tags */
	d = b + 28;
	n = caplen;
	for (;;) {
		uint16_t tag, tl;

		if (n < 4)
			goto skip;
		tag = rd_be16(d);
		tl = rd_be16(d + 2);
		d += 4;
		n -= 4;
		if (tl > n)
			goto skip;
		if (tag == EXP_END) {
			d += tl;
			n -= tl;
			break;
		}
		switch (tag) {
		case EXP_PROTO_NAME:
			proto = d;
			proto_len = tl;
			while (proto_len && !proto[proto_len - 1])
				proto_len--; /* others pad it with NULs */
			break;
		case EXP_IPV4_SRC:
		case EXP_IPV6_SRC:
			if (tl == 4 || tl == 16)
				pk->src = host_of(d, tl);
			break;
		case EXP_IPV4_DST:
		case EXP_IPV6_DST:
			if (tl == 4 || tl == 16)
				pk->dst = host_of(d, tl);
			break;
		case EXP_SRC_PORT:
			if (tl == 4)
				pk->sport = (uint16_t)rd_be32(d);
			break;
		case EXP_DST_PORT:
			if (tl == 4)
				pk->dport = (uint16_t)rd_be32(d);
			break;
		default:
			break;
		}
		d += tl;
		n -= tl;
	}
	if (proto_len == strlen(NVMEDUMP_PCAPNG_PROTO) &&
	    !memcmp(proto, NVMEDUMP_PCAPNG_PROTO, proto_len)) {
		if (n < sizeof(struct fdr_rec_event))
			goto skip;
		pk->p = d;
		pk->len = n;
		pk->raw = true;
		pk->active = true;
		return 0;
	}
	if (proto_len == strlen(PROTO_NVME_TCP) && !memcmp(proto, PROTO_NVME_TCP, proto_len)) {
		pk->p = d;
		pk->len = n;
		pk->active = true;
		return 0;
	}
skip:
	r->skipped++;
	return 0;
}

/* Process the block in buf; it stays there while its packet has events. */
static int process(struct nvmedump_pcapng_reader *r)
{
	uint32_t type = rd_le32(r->buf);
	int rc = 0;

	switch (type) {
	case NVMEDUMP_PCAPNG_SHB:
		rc = do_shb(r);
		break;
	case BT_IDB:
		rc = do_idb(r);
		break;
	case BT_ISB:
		do_isb(r);
		break;
	case BT_EPB:
		rc = do_epb(r);
		break;
	case BT_PB:
	case BT_SPB:
		r->skipped++;
		break;
	default:
		break; /* name resolution, journal, custom...: nothing for us */
	}
	if (rc < 0)
		return -1;
	if (!r->pk.active)
		consume(r);
	return 0;
}

struct nvmedump_pcapng_reader *nvmedump_pcapng_reader_open(FILE *f, bool follow, char *err,
							   size_t errlen)
{
	struct nvmedump_pcapng_reader *r = calloc(1, sizeof(*r));
	int rc;

	if (!r || !(r->cmds = calloc(CMD_CACHE, sizeof(*r->cmds)))) {
		free(r);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	r->f = f;
	r->follow = false; /* the section header must be there now */
	rc = fill(r, 4);
	if (rc == 0 || (rc > 0 && !nvmedump_pcapng_magic(r->buf, r->have)))
		fail(r, "not a pcapng file");
	else if (rc > 0 && read_block(r) > 0)
		process(r);
	if (r->failed) {
		snprintf(err, errlen, "%s", r->err);
		nvmedump_pcapng_reader_close(r);
		return NULL;
	}
	r->follow = follow;
	/* Interfaces and the rest, up to the first packet. */
	while (!r->failed && read_block(r) > 0) {
		uint32_t type = rd_le32(r->buf);

		if (type == BT_EPB || type == BT_SPB || type == BT_PB)
			break;
		if (process(r) < 0)
			break;
	}
	return r; /* an error after the section header is next()'s to report */
}

static void ev_common(struct nvmedump_pcapng_reader *r, struct fdr_rec_event *ev, uint16_t kind,
		      uint32_t host, const struct conn *c)
{
	memset(ev, 0, sizeof(*ev));
	ev->wall_ns = r->pk.ns;
	ev->kind = kind;
	if (is_pci_host(host)) { /* host_addr() backwards */
		ev->xport = FDR_REC_XPORT_PCIE;
		ev->conn = FDR_REC_PCI_CONN(host >> 16 & 0xf, host & 0xffff);
	} else {
		ev->conn = host & 0xffffff;
	}
	ev->qid = c->qid;
	ev->cntlid = c->cntlid;
	ev->admin = c->qid == 0;
}

/* The queue at the host end of this packet (created on first sight). */
static struct conn *queue_of(struct nvmedump_pcapng_reader *r, bool host_is_src)
{
	uint32_t host = host_is_src ? r->pk.src : r->pk.dst;
	uint16_t port = host_is_src ? r->pk.sport : r->pk.dport;
	uint64_t key = (uint64_t)host << 16 | port;
	struct conn *c = conn_find(&r->conns, key);

	if (!c && (c = conn_add(&r->conns, key))) {
		c->port = port;
		/* until a Connect says otherwise */
		if (port >= NVMEDUMP_PCAPNG_HOST_PORT && port < 65535)
			c->qid = (uint16_t)(port - NVMEDUMP_PCAPNG_HOST_PORT);
	}
	if (!c)
		fail(r, "out of memory");
	return c;
}

static uint64_t conn_key(const struct conn *c)
{
	return c->key - 1;
}

/* The last occurrence of needle in s. */
static const char *last_str(const char *s, const char *needle)
{
	const char *last = NULL;

	for (const char *p = s; (p = strstr(p, needle)); p++)
		last = p;
	return last;
}

/* "850ns", "12.3us", "4.56ms", "1.234s" back to nanoseconds. */
static bool parse_latency(const char *s, uint64_t *ns)
{
	uint64_t ip, frac = 0, unit, div = 1;

	if (!parse_dec(&s, &ip))
		return false;
	if (*s == '.') {
		s++;
		for (int n = 0; *s >= '0' && *s <= '9'; s++, n++) {
			if (n >= 9)
				return false;
			frac = frac * 10 + (uint64_t)(*s - '0');
			div *= 10;
		}
	}
	if (!strncmp(s, "ns", 2))
		unit = 1;
	else if (!strncmp(s, "us", 2))
		unit = 1000;
	else if (!strncmp(s, "ms", 2))
		unit = 1000000;
	else if (s[0] == 's')
		unit = 1000000000;
	else
		return false;
	*ns = ip * unit + frac * unit / div;
	return true;
}

static bool opc_by_name(bool admin, const char *name, uint8_t *opc, uint8_t *fctype)
{
	for (unsigned o = 0; o < 256; o++) {
		for (unsigned f = 0; f < (o == NVME_ADM_FABRICS ? 256u : 1u); f++) {
			if (!strcmp(nvme_opc_name(admin, (uint8_t)o, (uint8_t)f), name)) {
				*opc = (uint8_t)o;
				*fctype = (uint8_t)f;
				return true;
			}
		}
	}
	return false;
}

/* A completion's latency and opcode are the command's; where the command
 * is not in the file (or a different one had the CID), the comment has
 * them as nvmedump printed them. */
static void cpl_from_comment(struct fdr_rec_event *ev, const char *comment)
{
	const char *lat = last_str(comment, " LAT="), *op;
	char have[32], want[32];
	size_t n;
	uint64_t ns;

	if (!lat)
		return;
	lat += 5;
	n = strcspn(lat, " ");
	op = lat + n;
	if (n < sizeof(want)) {
		memcpy(want, lat, n);
		want[n] = '\0';
		nvmedump_format_latency(ev->u.cpl.latency_ns, have, sizeof(have));
		if (strcmp(have, want) != 0 && parse_latency(want, &ns))
			ev->u.cpl.latency_ns = ns;
	}
	if (strncmp(op, " OPC=", 5) != 0)
		return;
	op += 5;
	if (strcmp(nvme_opc_name(ev->admin, ev->u.cpl.opc, ev->u.cpl.fctype), op) != 0)
		opc_by_name(ev->admin, op, &ev->u.cpl.opc, &ev->u.cpl.fctype);
}

/* The index, and what the comment adds. */
static void finish(struct nvmedump_pcapng_reader *r, struct fdr_rec_event *ev)
{
	struct pkt *pk = &r->pk;
	uint64_t idx = r->any_index ? r->last_index + 1 : 0;
	bool first = !pk->first_taken;

	pk->first_taken = true;
	if (first && pk->has_index)
		idx = pk->index;
	ev->seq = idx + 1;
	r->last_index = idx;
	r->any_index = true;
	if (!first || !pk->comment[0])
		return;
	if (pk->dev == DEV_NONE && ev->cntlid != 0 && ev->cntlid != 0xffff)
		ev->cntlid = 0;
	else if (pk->dev >= 0)
		ev->cntlid = (uint16_t)pk->dev;
	if (ev->kind == FDR_REC_CPL)
		cpl_from_comment(ev, pk->comment);
}

static bool next_data(struct nvmedump_pcapng_reader *r, struct fdr_rec_event *ev)
{
	struct pkt *pk = &r->pk;
	size_t n = pk->data_len - pk->data_pos;
	struct conn *c;

	if (n == 0 && !pk->empty_data) {
		pk->in_data = false;
		return false;
	}
	if (n > DATA_CHUNK)
		n = DATA_CHUNK;
	if (!(c = queue_of(r, pk->data_to_ctrl)))
		return false;
	ev_common(r, ev, FDR_REC_DATA, pk->data_to_ctrl ? pk->src : pk->dst, c);
	ev->cid = pk->data_cid;
	ev->len = (uint16_t)n;
	ev->u.data.offset = pk->datao + (uint32_t)pk->data_pos;
	memcpy(ev->u.data.bytes, pk->data + pk->data_pos, n);
	pk->data_pos += n;
	pk->empty_data = false;
	return true;
}

static void start_data(struct pkt *pk, const uint8_t *data, size_t len, uint32_t datao,
		       uint16_t cid, bool to_ctrl, bool empty_is_event)
{
	pk->in_data = true;
	pk->data = data;
	pk->data_len = len;
	pk->data_pos = 0;
	pk->datao = datao;
	pk->data_cid = cid;
	pk->data_to_ctrl = to_ctrl;
	pk->empty_data = len == 0 && empty_is_event;
}

static bool on_cmd(struct nvmedump_pcapng_reader *r, const uint8_t *h, struct fdr_rec_event *ev)
{
	struct nvme_sqe sqe;
	struct conn *c = queue_of(r, true);
	struct cmd_ent *ce;
	bool connect;

	if (!c)
		return false;
	memcpy(&sqe, h + sizeof(struct nvme_tcp_hdr), sizeof(sqe));
	/* a PCIe host's Fabrics command connects nothing */
	connect = is_connect(&sqe) && (r->pk.synthetic || !is_pci_host(r->pk.src));
	if (connect) {
		c->qid = (uint16_t)(sqe.cdw10 >> 16);
		c->connect_cid = sqe.cid;
		c->connect_pending = true;
	}
	if (r->pk.synthetic)
		return false;
	ev_common(r, ev, FDR_REC_CMD, r->pk.src, c);
	if (connect) { /* fetched before its queue was connected */
		ev->qid = 0;
		ev->cntlid = 0;
		ev->admin = 1;
	}
	ev->cid = sqe.cid;
	memcpy(&ev->u.cmd.sqe, &sqe, sizeof(sqe));
	ce = cmd_slot(r->cmds, conn_key(c), sqe.cid);
	cmd_set(ce, conn_key(c), sqe.cid, sqe.opc, fctype_of(&sqe));
	ce->wall_ns = r->pk.ns;
	return true;
}

static bool on_rsp(struct nvmedump_pcapng_reader *r, const uint8_t *h, struct fdr_rec_event *ev)
{
	struct nvme_cqe cqe;
	struct conn *c = queue_of(r, false);
	struct cmd_ent *ce;

	if (!c)
		return false;
	memcpy(&cqe, h + sizeof(struct nvme_tcp_hdr), sizeof(cqe));
	if (c->connect_pending && cqe.cid == c->connect_cid) {
		c->connect_pending = false;
		if (((cqe.status >> 1) & 0x7ff) == 0)
			c->cntlid = (uint16_t)cqe.cdw0;
	}
	if (r->pk.synthetic)
		return false;
	ev_common(r, ev, FDR_REC_CPL, r->pk.dst, c);
	ev->cid = cqe.cid;
	memcpy(&ev->u.cpl.cqe, &cqe, sizeof(cqe));
	ce = cmd_slot(r->cmds, conn_key(c), cqe.cid);
	if (cmd_is(ce, conn_key(c), cqe.cid)) {
		ev->u.cpl.latency_ns = r->pk.ns >= ce->wall_ns ? r->pk.ns - ce->wall_ns : 0;
		ev->u.cpl.opc = ce->opc;
		ev->u.cpl.fctype = ce->fctype;
		ce->key = 0; /* done */
	}
	return true;
}

/* The next event from the NVMe/TCP PDUs of the current packet. */
static bool next_nvme(struct nvmedump_pcapng_reader *r, struct fdr_rec_event *ev)
{
	struct pkt *pk = &r->pk;

	while (!r->failed) {
		if (pk->in_data) {
			if (next_data(r, ev)) {
				if (pk->synthetic)
					continue;
				return true;
			}
			continue;
		}
		if (pk->len - pk->off < sizeof(struct nvme_tcp_hdr))
			break;

		const uint8_t *h = pk->p + pk->off;
		uint8_t type = h[0], flags = h[1], hlen = h[2], pdo = h[3];
		uint32_t plen = rd_le32(h + 4);
		size_t hend, dstart, dend;

		if (plen > pk->len - pk->off || hlen < sizeof(struct nvme_tcp_hdr) || hlen > plen) {
			r->skipped++; /* not a whole PDU: the rest of the packet too */
			break;
		}
		pk->off += plen;
		hend = hlen + ((flags & NVME_TCP_F_HDGST) ? NVME_TCP_DIGEST_LEN : 0);
		dstart = pdo ? pdo : hend;
		dend = plen;
		if ((flags & NVME_TCP_F_DDGST) && dend >= dstart + NVME_TCP_DIGEST_LEN)
			dend -= NVME_TCP_DIGEST_LEN;
		if (dstart > dend)
			dstart = dend;

		switch (type) {
		case NVME_TCP_CMD:
			if (hlen < sizeof(struct nvme_tcp_cmd))
				break;
			if (dend > dstart && !pk->synthetic)
				start_data(pk, h + dstart, dend - dstart, 0, rd_le16(h + 10), true,
					   false);
			if (on_cmd(r, h, ev))
				return true;
			break;
		case NVME_TCP_RSP:
			if (hlen < sizeof(struct nvme_tcp_rsp))
				break;
			if (on_rsp(r, h, ev))
				return true;
			break;
		case NVME_TCP_H2C_DATA:
		case NVME_TCP_C2H_DATA:
			if (hlen < sizeof(struct nvme_tcp_data))
				break;
			start_data(pk, h + dstart, dend - dstart, rd_le32(h + 12), rd_le16(h + 8),
				   type == NVME_TCP_H2C_DATA, true);
			break;
		default:
			break; /* ICReq/ICResp, R2T, termination: no event */
		}
	}
	return false;
}

int nvmedump_pcapng_reader_next(struct nvmedump_pcapng_reader *r, struct fdr_rec_event *ev)
{
	for (;;) {
		if (r->failed)
			return -1;
		if (r->pk.active) {
			bool got;

			if (r->pk.raw) {
				memcpy(ev, r->pk.p, sizeof(*ev));
				got = true;
				r->pk.raw = false;
				r->pk.len = 0;
				/* its seq field holds the index */
				r->last_index = ev->seq;
				r->any_index = true;
				ev->seq++;
				r->pk.first_taken = true;
				if (ev->kind == FDR_REC_DISCONNECT && /* sent by the host */
				    ev->xport != FDR_REC_XPORT_PCIE) { /* as the writer does */
					uint64_t key = (uint64_t)r->pk.src << 16 | r->pk.sport;
					struct conn *c = conn_find(&r->conns, key);

					if (c)
						conn_del(&r->conns, c);
				}
			} else {
				got = next_nvme(r, ev);
				if (got)
					finish(r, ev);
			}
			if (r->failed)
				return -1;
			if (got)
				return 1;
			consume(r);
		}
		if (!r->ready) {
			int rc = read_block(r);

			if (rc <= 0)
				return rc;
		}
		if (process(r) < 0)
			return -1;
	}
}

const char *nvmedump_pcapng_reader_error(const struct nvmedump_pcapng_reader *r)
{
	return r->err[0] ? r->err : "no error";
}

const char *nvmedump_pcapng_reader_dev(const struct nvmedump_pcapng_reader *r)
{
	return r->dev;
}

uint32_t nvmedump_pcapng_reader_snaplen(const struct nvmedump_pcapng_reader *r)
{
	return r->snaplen;
}

uint32_t nvmedump_pcapng_reader_flags(const struct nvmedump_pcapng_reader *r)
{
	return r->flags;
}

uint64_t nvmedump_pcapng_reader_lost(const struct nvmedump_pcapng_reader *r)
{
	return r->lost;
}

uint64_t nvmedump_pcapng_reader_skipped(const struct nvmedump_pcapng_reader *r)
{
	return r->skipped;
}

void nvmedump_pcapng_reader_close(struct nvmedump_pcapng_reader *r)
{
	if (!r)
		return;
	free(r->buf);
	free(r->ifs);
	free(r->conns.v);
	free(r->cmds);
	free(r);
}

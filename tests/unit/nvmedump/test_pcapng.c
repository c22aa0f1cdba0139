/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * nvmedump's pcapng writer and reader (tools/nvmedump/pcapng.c): the
 * blocks byte for byte, exported-PDU tags without padding, the synthetic
 * start of a queue, the NVMe/TCP PDUs, events back from what was written,
 * and input that is not right.
 */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <frankendrive/nvme.h>
#include <frankendrive/nvme_tcp.h>

#include "format.h"
#include "pcapng.h"

#define DEV "nqn.2024-01.io.frankendrive:unit"
#define T0 1700000000123456789ull

/* ---- Output in memory ---- */

static char *mem;
static size_t memlen;
static FILE *mf;

static struct nvmedump_pcapng_writer *wopen(uint32_t snaplen, uint32_t flags)
{
	struct nvmedump_pcapng_writer *w;

	mf = open_memstream(&mem, &memlen);
	assert_non_null(mf);
	w = nvmedump_pcapng_writer_open(mf, DEV, snaplen, flags);
	assert_non_null(w);
	return w;
}

static void wclose(struct nvmedump_pcapng_writer *w)
{
	assert_int_equal(nvmedump_pcapng_writer_close(w), 0);
	assert_int_equal(fclose(mf), 0);
}

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The n-th block (0-based) of the output: its start and length. */
static const uint8_t *block(unsigned n, uint32_t *len)
{
	size_t off = 0;

	for (;;) {
		assert_true(off + 12 <= memlen);
		*len = le32((const uint8_t *)mem + off + 4);
		assert_true(*len >= 12 && *len % 4 == 0 && off + *len <= memlen);
		assert_int_equal(le32((const uint8_t *)mem + off + *len - 4), *len);
		if (n-- == 0)
			return (const uint8_t *)mem + off;
		off += *len;
	}
}

static unsigned nblocks(void)
{
	size_t off = 0;
	unsigned n = 0;

	while (off < memlen) {
		off += le32((const uint8_t *)mem + off + 4);
		n++;
	}
	assert_int_equal(off, memlen);
	return n;
}

/* An EPB, taken apart. */
struct epb {
	uint64_t ts;
	uint32_t caplen;
	const uint8_t *pkt;     /* exported-PDU tags */
	const uint8_t *payload; /* after the end tag */
	size_t payload_len;
	char proto[32];
	uint32_t src, dst, sport, dport, ptype;
	char comment[2048];
};

static void take_epb(unsigned n, struct epb *e)
{
	uint32_t len, ol;
	const uint8_t *b = block(n, &len), *p, *end;

	memset(e, 0, sizeof(*e));
	assert_int_equal(le32(b), 6);
	assert_int_equal(le32(b + 8), 0); /* interface 0 */
	e->ts = (uint64_t)le32(b + 12) << 32 | le32(b + 16);
	e->caplen = le32(b + 20);
	assert_int_equal(le32(b + 24), e->caplen); /* whole packets */
	e->pkt = b + 28;
	/* tags: 16-bit big-endian tag and length, no padding */
	p = e->pkt;
	for (;;) {
		uint16_t tag = (uint16_t)(p[0] << 8 | p[1]), tl = (uint16_t)(p[2] << 8 | p[3]);

		p += 4;
		if (tag == 0) {
			assert_int_equal(tl, 0);
			break;
		}
		switch (tag) {
		case 12:
			assert_true(tl < sizeof(e->proto));
			memcpy(e->proto, p, tl);
			break;
		case 20:
			assert_int_equal(tl, 4);
			e->src = be32(p);
			break;
		case 21:
			assert_int_equal(tl, 4);
			e->dst = be32(p);
			break;
		case 24:
			assert_int_equal(tl, 4);
			e->ptype = be32(p);
			break;
		case 25:
			assert_int_equal(tl, 4);
			e->sport = be32(p);
			break;
		case 26:
			assert_int_equal(tl, 4);
			e->dport = be32(p);
			break;
		default:
			fail_msg("unexpected tag %u", tag);
		}
		p += tl;
	}
	e->payload = p;
	e->payload_len = e->caplen - (size_t)(p - e->pkt);
	/* options after the padded packet */
	p = e->pkt + ((e->caplen + 3) & ~3u);
	end = b + len - 4;
	while (p < end) {
		uint16_t code = le16(p);

		ol = le16(p + 2);
		if (code == 0)
			break;
		if (code == 1) {
			assert_true(ol < sizeof(e->comment));
			memcpy(e->comment, p + 4, ol);
		}
		p += 4 + ((ol + 3) & ~3u);
	}
}

static struct fdr_rec_event ev0(uint16_t kind, uint64_t seq, uint32_t conn, uint16_t qid,
				uint16_t cntlid)
{
	struct fdr_rec_event e;

	memset(&e, 0, sizeof(e));
	e.seq = seq + 1;
	e.wall_ns = T0 + seq * 1000;
	e.kind = kind;
	e.conn = conn;
	e.qid = qid;
	e.cntlid = cntlid;
	e.admin = qid == 0;
	return e;
}

static struct fdr_rec_event cmd_ev(uint64_t seq, uint32_t conn, uint16_t qid, uint16_t cntlid,
				   uint16_t cid, uint8_t opc)
{
	struct fdr_rec_event e = ev0(FDR_REC_CMD, seq, conn, qid, cntlid);

	e.cid = cid;
	e.u.cmd.sqe.opc = opc;
	e.u.cmd.sqe.cid = cid;
	e.u.cmd.sqe.nsid = 1;
	e.u.cmd.sqe.cdw10 = 0x1000 + cid;
	e.u.cmd.sqe.flags = 0x40;
	e.u.cmd.sqe.dptr.sgl1.type = 0x5a;
	e.u.cmd.sqe.dptr.sgl1.length = 4096;
	return e;
}

static void write_ev(struct nvmedump_pcapng_writer *w, const struct fdr_rec_event *e)
{
	char line[NVMEDUMP_LINE_MAX];

	nvmedump_format(e, line, sizeof(line));
	assert_int_equal(nvmedump_pcapng_write_event(w, e, line), 0);
}

static int teardown_mem(void **state)
{
	(void)state;
	free(mem);
	mem = NULL;
	memlen = 0;
	return 0;
}

/* ---- Writer ---- */

static void test_section_and_interface(void **state)
{
	struct nvmedump_pcapng_writer *w = wopen(64, FDR_REC_F_REDACT_ADDRS);
	uint32_t len;
	const uint8_t *b;
	static const uint8_t idb[] = {
		0x01, 0x00, 0x00, 0x00, 0x54, 0x00, 0x00, 0x00, /* IDB, 84 bytes */
		0xfc, 0x00, 0x00, 0x00,                         /* link type 252, reserved */
		0x00, 0x00, 0x00, 0x00,                         /* snap length: none */
		0x02, 0x00, 0x0c, 0x00, 'f', 'r', 'a', 'n', 'k', 'e', 'n', 'd', 'r', 'i', 'v', 'e',
		0x03, 0x00, 0x20, 0x00, 'n', 'q', 'n', '.', '2', '0', '2', '4', '-', '0', '1', '.',
		'i', 'o', '.', 'f', 'r', 'a', 'n', 'k', 'e', 'n', 'd', 'r', 'i', 'v', 'e', ':',
		'u', 'n', 'i', 't', 0x09, 0x00, 0x01, 0x00, 0x09, 0x00, 0x00, 0x00, /* tsresol 9 */
		0x00, 0x00, 0x00, 0x00,                         /* end of options */
		0x54, 0x00, 0x00, 0x00,
	};
	static const char note[] = "frankendrive flight recorder: snaplen 64, flags 0x1";

	(void)state;
	wclose(w);
	assert_int_equal(nblocks(), 2);

	b = block(0, &len);
	assert_true(nvmedump_pcapng_magic(b, 4));
	assert_int_equal(le32(b), 0x0a0d0d0a);
	assert_int_equal(le32(b + 8), 0x1a2b3c4d); /* written little-endian */
	assert_int_equal(le16(b + 12), 1);
	assert_int_equal(le16(b + 14), 0);
	assert_int_equal(le32(b + 16), 0xffffffff);
	assert_int_equal(le32(b + 20), 0xffffffff);
	assert_int_equal(le16(b + 24), 4); /* shb_userappl */
	assert_int_equal(le16(b + 26), 23);
	assert_memory_equal(b + 28, "nvmedump (frankendrive)\0", 24);
	assert_int_equal(le16(b + 52), 1); /* comment */
	assert_int_equal(le16(b + 54), strlen(note));
	assert_memory_equal(b + 56, note, strlen(note));
	assert_int_equal(len, 56 + ((strlen(note) + 3) & ~3u) + 4 + 4);

	b = block(1, &len);
	assert_int_equal(len, sizeof(idb));
	assert_memory_equal(b, idb, sizeof(idb));
}

static void test_frankendrive_record(void **state)
{
	struct nvmedump_pcapng_writer *w = wopen(0, 0);
	struct fdr_rec_event e = ev0(FDR_REC_REG_WRITE, 41, 0x123456, 0, 3), back;
	char line[NVMEDUMP_LINE_MAX];
	struct epb p;
	uint32_t len;
	const uint8_t *b;
	static const uint8_t tags[] = {
		0x00, 0x0c, 0x00, 0x0c, 'f', 'r', 'a', 'n', 'k', 'e', 'n', 'd', 'r', 'i', 'v', 'e',
		0x00, 0x14, 0x00, 0x04, 10, 0x12, 0x34, 0x56, /* host 10.18.52.86 */
		0x00, 0x15, 0x00, 0x04, 192, 0, 2, 1,         /* to the controller */
		0x00, 0x18, 0x00, 0x04, 0, 0, 0, 2,           /* TCP */
		0x00, 0x19, 0x00, 0x04, 0, 0, 0xc3, 0x50,     /* 50000 */
		0x00, 0x1a, 0x00, 0x04, 0, 0, 0x11, 0x44,     /* 4420 */
		0x00, 0x00, 0x00, 0x00,
	};

	(void)state;
	e.u.reg.offset = 0x14;
	e.u.reg.size = 4;
	e.u.reg.value = 0x460001;
	nvmedump_format(&e, line, sizeof(line));
	assert_int_equal(nvmedump_pcapng_write_event(w, &e, line), 0);
	wclose(w);
	assert_int_equal(nblocks(), 3);

	b = block(2, &len);
	assert_int_equal(le32(b), 6);
	assert_int_equal(le32(b + 12), (uint32_t)((T0 + 41000) >> 32)); /* ns */
	assert_int_equal(le32(b + 16), (uint32_t)(T0 + 41000));
	assert_int_equal(le32(b + 20), sizeof(tags) + 256);
	assert_memory_equal(b + 28, tags, sizeof(tags));
	take_epb(2, &p);
	assert_string_equal(p.proto, "frankendrive");
	assert_int_equal(p.payload_len, 256);
	memcpy(&back, p.payload, sizeof(back));
	assert_int_equal(back.seq, 41); /* the index */
	back.seq = e.seq;
	assert_memory_equal(&back, &e, sizeof(e));
	assert_string_equal(p.comment, line);
	assert_string_equal(p.comment, "[41] 1700000000:123497789 ctrl3 REG 0014 <- 00460001 (CC)");
	/* the comment option ends the block: code 1, its length, padding, end */
	assert_int_equal(len, 28 + sizeof(tags) + 256 + 4 + ((strlen(line) + 3) & ~3u) + 4 + 4);
}

static void test_synthetic_start(void **state)
{
	struct nvmedump_pcapng_writer *w = wopen(0, 0);
	struct fdr_rec_event c1 = cmd_ev(10, 7, 3, 2, 0x21, NVME_IO_READ);
	struct fdr_rec_event c2 = cmd_ev(11, 7, 3, 2, 0x22, NVME_IO_WRITE);
	const struct nvme_tcp_icreq *icreq;
	const struct nvme_tcp_icresp *icresp;
	const struct nvme_tcp_cmd *cmd;
	const struct nvme_fabrics_connect_cmd *cc;
	const struct nvme_fabrics_connect_data *cd;
	const struct nvme_tcp_rsp *rsp;
	struct epb p;

	(void)state;
	write_ev(w, &c1);
	write_ev(w, &c2);
	wclose(w);
	assert_int_equal(nblocks(), 2 + 4 + 2);

	take_epb(2, &p); /* ICReq, host to controller */
	assert_string_equal(p.proto, "nvme-tcp");
	assert_int_equal(p.src, 0x0a000007);
	assert_int_equal(p.dst, 0xc0000201);
	assert_int_equal(p.ptype, 2);
	assert_int_equal(p.sport, 50003);
	assert_int_equal(p.dport, 4420);
	assert_int_equal(p.ts, c1.wall_ns);
	assert_int_equal(p.payload_len, 128);
	icreq = (const void *)p.payload;
	assert_int_equal(icreq->hdr.type, NVME_TCP_ICREQ);
	assert_int_equal(icreq->hdr.hlen, 128);
	assert_int_equal(icreq->hdr.plen, 128);
	assert_int_equal(icreq->digest, 0);
	assert_true(!strncmp(p.comment, "frankendrive: synthetic ICReq", 29));

	take_epb(3, &p); /* ICResp, back */
	assert_int_equal(p.src, 0xc0000201);
	assert_int_equal(p.dst, 0x0a000007);
	assert_int_equal(p.sport, 4420);
	assert_int_equal(p.dport, 50003);
	icresp = (const void *)p.payload;
	assert_int_equal(icresp->hdr.type, NVME_TCP_ICRESP);
	assert_int_equal(icresp->digest, 0); /* no digests */
	assert_true(!strncmp(p.comment, "frankendrive: synthetic", 23));

	take_epb(4, &p); /* Connect for QID 3 with its data */
	assert_int_equal(p.payload_len, 72 + 1024);
	cmd = (const void *)p.payload;
	assert_int_equal(cmd->hdr.type, NVME_TCP_CMD);
	assert_int_equal(cmd->hdr.hlen, 72);
	assert_int_equal(cmd->hdr.pdo, 72);
	assert_int_equal(cmd->hdr.plen, 72 + 1024);
	cc = (const void *)&cmd->sqe;
	assert_int_equal(cc->opc, 0x7f);
	assert_int_equal(cc->fctype, NVME_FCTYPE_CONNECT);
	assert_int_equal(cc->cid, NVMEDUMP_PCAPNG_SYNTH_CID);
	assert_int_equal(cc->qid, 3);
	assert_int_equal(cc->sqsize, 127);
	assert_int_equal(cc->sgl1.length, 1024);
	cd = (const void *)(p.payload + 72);
	assert_int_equal(cd->cntlid, 2);
	assert_string_equal(cd->subnqn, DEV);
	assert_true(!strncmp(p.comment, "frankendrive: synthetic Connect", 31));

	take_epb(5, &p); /* its response: success, CNTLID */
	rsp = (const void *)p.payload;
	assert_int_equal(p.payload_len, 24);
	assert_int_equal(rsp->hdr.type, NVME_TCP_RSP);
	assert_int_equal(rsp->cqe.cid, NVMEDUMP_PCAPNG_SYNTH_CID);
	assert_int_equal(rsp->cqe.status, 0);
	assert_int_equal(rsp->cqe.cdw0, 2);
	assert_int_equal(p.sport, 4420);

	take_epb(6, &p); /* the command itself */
	cmd = (const void *)p.payload;
	assert_int_equal(p.payload_len, 72);
	assert_int_equal(cmd->hdr.hlen, 72);
	assert_int_equal(cmd->hdr.pdo, 0);
	assert_int_equal(cmd->hdr.plen, 72);
	assert_memory_equal(&cmd->sqe, &c1.u.cmd.sqe, 64);
	assert_true(!strncmp(p.comment, "[10] ", 5));
	take_epb(7, &p); /* the second: no new start */
	assert_true(!strncmp(p.comment, "[11] ", 5));
}

static void test_admin_and_connect_start(void **state)
{
	struct nvmedump_pcapng_writer *w = wopen(0, 0);
	struct fdr_rec_event a = cmd_ev(1, 1, 0, 5, 3, NVME_ADM_IDENTIFY);
	struct fdr_rec_event c = cmd_ev(2, 2, 0, 0, 1, NVME_ADM_FABRICS);
	const struct nvme_fabrics_connect_data *cd;
	const struct nvme_tcp_rsp *rsp;
	const struct nvme_tcp_cmd *cmd;
	struct epb p;

	(void)state;
	c.u.cmd.sqe.nsid = NVME_FCTYPE_CONNECT;
	c.u.cmd.sqe.cdw10 = 4u << 16; /* QID 4 */
	write_ev(w, &a);
	write_ev(w, &c);
	wclose(w);
	/* admin queue: the full start; the recorded Connect: ICReq/ICResp only */
	assert_int_equal(nblocks(), 2 + 5 + 3);
	take_epb(4, &p);
	cd = (const void *)(p.payload + 72);
	assert_int_equal(cd->cntlid, 0xffff); /* dynamic controller */
	assert_int_equal(p.sport, 50000);
	take_epb(5, &p);
	rsp = (const void *)p.payload;
	assert_int_equal(rsp->cqe.cdw0, 5); /* the controller it got */
	take_epb(7, &p);
	assert_true(!strncmp(p.comment, "frankendrive: synthetic ICReq", 29));
	assert_int_equal(p.sport, 50004); /* the QID the Connect asks for */
	take_epb(9, &p);
	cmd = (const void *)p.payload;
	assert_int_equal(cmd->sqe.opc, 0x7f);
	assert_int_equal(p.sport, 50004);
	assert_true(!strncmp(p.comment, "[2] ", 4));
}

static void test_pdus(void **state)
{
	struct nvmedump_pcapng_writer *w = wopen(0, 0);
	struct fdr_rec_event wr = cmd_ev(1, 9, 1, 1, 5, NVME_IO_WRITE);
	struct fdr_rec_event rd = cmd_ev(2, 9, 1, 1, 6, NVME_IO_READ);
	struct fdr_rec_event d1 = ev0(FDR_REC_DATA, 3, 9, 1, 1);
	struct fdr_rec_event d2 = ev0(FDR_REC_DATA, 4, 9, 1, 1);
	struct fdr_rec_event cpl = ev0(FDR_REC_CPL, 5, 9, 1, 1);
	struct fdr_rec_event big = ev0(FDR_REC_DATA, 6, 9, 1, 1);
	const struct nvme_tcp_data *d;
	const struct nvme_tcp_rsp *r;
	struct epb p;

	(void)state;
	d1.cid = 5;
	d1.len = 3;
	d1.u.data.offset = 440;
	memcpy(d1.u.data.bytes, "abc", 3);
	d2.cid = 6;
	d2.len = 220;
	memset(d2.u.data.bytes, 0x77, 220);
	cpl.cid = 6;
	cpl.u.cpl.cqe.cid = 6;
	cpl.u.cpl.cqe.sqid = 1;
	cpl.u.cpl.cqe.status = NVME_STATUS(2, 0x81) << 1 | 1;
	cpl.u.cpl.latency_ns = 3000;
	cpl.u.cpl.opc = NVME_IO_READ;
	big.cid = 77;
	big.len = 60000; /* more than a slot holds: cut to it */
	write_ev(w, &wr);
	write_ev(w, &rd);
	write_ev(w, &d1);
	write_ev(w, &d2);
	write_ev(w, &cpl);
	write_ev(w, &big);
	wclose(w);
	assert_int_equal(nblocks(), 2 + 4 + 6);

	take_epb(8, &p); /* Write data: H2CData, host to controller */
	d = (const void *)p.payload;
	assert_int_equal(p.payload_len, 24 + 3);
	assert_int_equal(d->hdr.type, NVME_TCP_H2C_DATA);
	assert_int_equal(d->hdr.hlen, 24);
	assert_int_equal(d->hdr.pdo, 24);
	assert_int_equal(d->hdr.plen, 27);
	assert_int_equal(d->cccid, 5);
	assert_int_equal(d->datao, 440);
	assert_int_equal(d->datal, 3);
	assert_memory_equal(p.payload + 24, "abc", 3);
	assert_int_equal(p.src, 0x0a000009);
	assert_int_equal(p.sport, 50001);

	take_epb(9, &p); /* Read data: C2HData, controller to host */
	d = (const void *)p.payload;
	assert_int_equal(d->hdr.type, NVME_TCP_C2H_DATA);
	assert_int_equal(d->cccid, 6);
	assert_int_equal(d->datal, 220);
	assert_int_equal(p.dst, 0x0a000009);
	assert_int_equal(p.dport, 50001);

	take_epb(10, &p); /* completion */
	r = (const void *)p.payload;
	assert_int_equal(p.payload_len, 24);
	assert_int_equal(r->hdr.type, NVME_TCP_RSP);
	assert_int_equal(r->hdr.hlen, 24);
	assert_int_equal(r->hdr.plen, 24);
	assert_memory_equal(&r->cqe, &cpl.u.cpl.cqe, 16);
	assert_int_equal(p.sport, 4420);

	take_epb(11, &p); /* data of a command never seen: C2HData */
	d = (const void *)p.payload;
	assert_int_equal(d->hdr.type, NVME_TCP_C2H_DATA);
	assert_int_equal(d->datal, 220);
}

static void test_lost_isb(void **state)
{
	struct nvmedump_pcapng_writer *w = wopen(0, 0);
	struct fdr_rec_event e = ev0(FDR_REC_AEN, 9, 0, 0, 1);
	uint32_t len;
	const uint8_t *b;

	(void)state;
	write_ev(w, &e);
	assert_int_equal(nvmedump_pcapng_write_lost(w, 0), 0); /* no change: nothing */
	assert_int_equal(nvmedump_pcapng_write_lost(w, 5), 0);
	assert_int_equal(nvmedump_pcapng_write_lost(w, 5), 0);
	wclose(w);
	assert_int_equal(nblocks(), 4);
	b = block(3, &len);
	assert_int_equal(le32(b), 5); /* ISB */
	assert_int_equal(len, 40);
	assert_int_equal(le32(b + 8), 0);
	assert_int_equal(le32(b + 16), (uint32_t)e.wall_ns);
	assert_int_equal(le16(b + 20), 5); /* isb_ifdrop */
	assert_int_equal(le16(b + 22), 8);
	assert_int_equal(le32(b + 24), 5);
	assert_int_equal(le32(b + 28), 0);
}

static void test_snap(void **state)
{
	struct fdr_rec_event d = ev0(FDR_REC_DATA, 1, 1, 1, 1), c = ev0(FDR_REC_CMD, 2, 1, 1, 1);

	(void)state;
	d.len = 220;
	memset(d.u.data.bytes, 0xaa, 220);
	d.u.data.offset = 220;
	assert_true(nvmedump_snap(&d, 1000));
	assert_int_equal(d.len, 220);
	assert_true(nvmedump_snap(&d, 300));
	assert_int_equal(d.len, 80);
	assert_int_equal(d.u.data.bytes[79], 0xaa);
	assert_int_equal(d.u.data.bytes[80], 0);
	assert_false(nvmedump_snap(&d, 220));
	assert_false(nvmedump_snap(&d, 0));
	assert_true(nvmedump_snap(&c, 0));
}

/* ---- Reader ---- */

static FILE *rin(void)
{
	FILE *f = fmemopen(mem, memlen, "rb");

	assert_non_null(f);
	return f;
}

/* The next n events of r are in[]: the same text and fields. */
static void expect_events(struct nvmedump_pcapng_reader *r, const struct fdr_rec_event *in,
			  unsigned n)
{
	char a[NVMEDUMP_LINE_MAX], b[NVMEDUMP_LINE_MAX];
	struct fdr_rec_event out;

	for (unsigned i = 0; i < n; i++) {
		assert_int_equal(nvmedump_pcapng_reader_next(r, &out), 1);
		nvmedump_format(&in[i], a, sizeof(a));
		nvmedump_format(&out, b, sizeof(b));
		assert_string_equal(b, a);
		assert_int_equal(out.kind, in[i].kind);
		assert_int_equal(out.seq, in[i].seq);
		assert_int_equal(out.wall_ns, in[i].wall_ns);
		assert_int_equal(out.xport, in[i].xport);
		assert_int_equal(out.conn, in[i].conn);
		assert_int_equal(out.qid, in[i].qid);
		assert_int_equal(out.cntlid, in[i].cntlid);
		assert_int_equal(out.admin, in[i].admin);
		assert_int_equal(out.cid, in[i].cid);
		/* a latency as precise as the text, when the command is not there */
		if (in[i].kind == FDR_REC_CPL)
			assert_int_equal(out.u.cpl.opc, in[i].u.cpl.opc);
	}
}

/* Everything written comes back, as the same text. */
static void test_read_back(void **state)
{
	struct nvmedump_pcapng_writer *w = wopen(256, FDR_REC_F_REDACT_ADDRS);
	struct fdr_rec_event in[12], out;
	struct nvmedump_pcapng_reader *r;
	unsigned n = 0, i;
	char err[256];
	FILE *f;

	(void)state;
	in[n] = cmd_ev(100, 4, 2, 7, 0x10, NVME_IO_WRITE);
	in[n].u.cmd.sqe.cdw12 = 7;
	n++;
	in[n] = ev0(FDR_REC_DATA, 101, 4, 2, 7);
	in[n].cid = 0x10;
	in[n].len = 5;
	memcpy(in[n].u.data.bytes, "hello", 5);
	n++;
	in[n] = ev0(FDR_REC_ACTION, 102, 4, 2, 7);
	in[n].cid = 0x10;
	strcpy(in[n].u.action.who, "rule 1");
	strcpy(in[n].u.action.what, "delayed 5 ms");
	n++;
	in[n] = ev0(FDR_REC_CPL, 105, 4, 2, 7);
	in[n].cid = 0x10;
	in[n].u.cpl.cqe.cid = 0x10;
	in[n].u.cpl.cqe.status = NVME_STATUS(1, 0x82) << 1;
	in[n].u.cpl.latency_ns = 5000;
	in[n].u.cpl.opc = NVME_IO_WRITE;
	in[n].u.cpl.fctype = 1; /* byte 4 of the command: its NSID */
	n++;
	in[n] = ev0(FDR_REC_CPL, 106, 4, 2, 7); /* its command not there */
	in[n].cid = 0x11;
	in[n].u.cpl.cqe.cid = 0x11;
	in[n].u.cpl.latency_ns = 1234567891;
	in[n].u.cpl.opc = NVME_IO_COMPARE;
	n++;
	in[n] = ev0(FDR_REC_CONNECT, 107, 5, 0, 0);
	strcpy(in[n].u.text, "10.0.0.1:4000");
	in[n].len = 13;
	n++;
	in[n] = ev0(FDR_REC_PDU_RX, 108, 5, 0, 0);
	in[n].len = 8;
	n++;
	in[n] = ev0(FDR_REC_AEN, 110, 0, 0, 7);
	in[n].u.cpl.cqe.cdw0 = 0x00040002;
	n++;
	in[n] = cmd_ev(200, 4, 2, 7, 0x12, NVME_IO_READ); /* a gap in the indexes */
	n++;
	for (i = 0; i < n; i++)
		write_ev(w, &in[i]);
	assert_int_equal(nvmedump_pcapng_write_lost(w, 3), 0);
	wclose(w);

	f = rin();
	r = nvmedump_pcapng_reader_open(f, false, err, sizeof(err));
	assert_non_null(r);
	assert_string_equal(nvmedump_pcapng_reader_dev(r), DEV);
	assert_int_equal(nvmedump_pcapng_reader_snaplen(r), 256);
	assert_int_equal(nvmedump_pcapng_reader_flags(r), FDR_REC_F_REDACT_ADDRS);
	expect_events(r, in, n);
	assert_int_equal(in[3].u.cpl.latency_ns, 5000); /* from the command's time */
	assert_int_equal(nvmedump_pcapng_reader_next(r, &out), 0);
	assert_int_equal(nvmedump_pcapng_reader_lost(r), 3);
	assert_int_equal(nvmedump_pcapng_reader_skipped(r), 0);
	nvmedump_pcapng_reader_close(r);
	fclose(f);
}

/* Without comments (a tool that dropped them): from the PDUs alone. */
static void test_read_no_comments(void **state)
{
	struct nvmedump_pcapng_writer *w = wopen(0, 0);
	struct fdr_rec_event c = cmd_ev(40, 3, 1, 9, 0x44, NVME_IO_READ);
	struct fdr_rec_event d = ev0(FDR_REC_DATA, 41, 3, 1, 9);
	struct fdr_rec_event p = ev0(FDR_REC_CPL, 42, 3, 1, 9), out;
	struct nvmedump_pcapng_reader *r;
	char err[256];
	FILE *f;

	(void)state;
	d.cid = 0x44;
	d.len = 1;
	p.cid = 0x44;
	p.u.cpl.cqe.cid = 0x44;
	c.wall_ns = 5000;
	d.wall_ns = 6000;
	p.wall_ns = 7500;
	assert_int_equal(nvmedump_pcapng_write_event(w, &c, NULL), 0);
	assert_int_equal(nvmedump_pcapng_write_event(w, &d, NULL), 0);
	assert_int_equal(nvmedump_pcapng_write_event(w, &p, NULL), 0);
	wclose(w);
	f = rin();
	r = nvmedump_pcapng_reader_open(f, false, err, sizeof(err));
	assert_non_null(r);
	assert_int_equal(nvmedump_pcapng_reader_next(r, &out), 1);
	assert_int_equal(out.kind, FDR_REC_CMD);
	assert_int_equal(out.seq, 1); /* index 0: counted */
	assert_int_equal(out.qid, 1);
	assert_int_equal(out.cntlid, 9); /* from the (synthetic) Connect */
	assert_int_equal(out.conn, 3);
	assert_int_equal(nvmedump_pcapng_reader_next(r, &out), 1);
	assert_int_equal(out.kind, FDR_REC_DATA);
	assert_int_equal(out.seq, 2);
	assert_int_equal(out.cid, 0x44);
	assert_int_equal(nvmedump_pcapng_reader_next(r, &out), 1);
	assert_int_equal(out.kind, FDR_REC_CPL);
	assert_int_equal(out.u.cpl.latency_ns, 2500);
	assert_int_equal(out.u.cpl.opc, NVME_IO_READ);
	assert_int_equal(out.cntlid, 9);
	assert_int_equal(nvmedump_pcapng_reader_next(r, &out), 0);
	nvmedump_pcapng_reader_close(r);
	fclose(f);
}

static const char *read_err(const void *buf, size_t len, int *events)
{
	static char err[256];
	struct nvmedump_pcapng_reader *r;
	struct fdr_rec_event ev;
	FILE *f = len ? fmemopen((void *)buf, len, "rb") : fopen("/dev/null", "rb");
	int rc;

	assert_non_null(f);
	*events = 0;
	err[0] = '\0';
	r = nvmedump_pcapng_reader_open(f, false, err, sizeof(err));
	if (r) {
		while ((rc = nvmedump_pcapng_reader_next(r, &ev)) > 0)
			(*events)++;
		snprintf(err, sizeof(err), "%s", rc < 0 ? nvmedump_pcapng_reader_error(r) : "");
		nvmedump_pcapng_reader_close(r);
	}
	fclose(f);
	return err;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void test_bad_input(void **state)
{
	struct nvmedump_pcapng_writer *w = wopen(0, 0);
	struct fdr_rec_event e = cmd_ev(1, 1, 1, 1, 1, NVME_IO_READ);
	uint8_t *buf;
	uint32_t len;
	size_t shb_idb, n;
	int events;

	(void)state;
	write_ev(w, &e);
	wclose(w);
	n = memlen;
	buf = malloc(n + 64);
	assert_non_null(buf);
	memcpy(buf, mem, n);
	assert_string_equal(read_err(buf, n, &events), "");
	assert_int_equal(events, 1);
	block(1, &len);
	shb_idb = (size_t)(block(2, &len) - (const uint8_t *)mem);

	assert_string_equal(read_err(buf, 0, &events), "not a pcapng file");
	assert_string_equal(read_err("hello, world", 12, &events), "not a pcapng file");
	assert_string_equal(read_err(buf, 3, &events), "not a pcapng file");
	assert_true(strstr(read_err(buf, 20, &events), "truncated block at offset 0"));
	/* every cut: an error after the events before it, never a crash; a
	 * cut between blocks is just the end */
	for (size_t cut = 4; cut < n; cut++) {
		const char *msg = read_err(buf, cut, &events);
		bool boundary = false;

		for (unsigned i = 0; i < nblocks(); i++)
			boundary |= block(i, &len) - (const uint8_t *)mem == (ptrdiff_t)cut;
		if (boundary ? msg[0] != '\0' : !strstr(msg, "truncated"))
			fail_msg("cut at %zu: '%s'", cut, msg);
	}

	/* big-endian */
	buf[8] = 0x1a, buf[9] = 0x2b, buf[10] = 0x3c, buf[11] = 0x4d;
	assert_string_equal(read_err(buf, n, &events),
			    "big-endian pcapng sections are not supported");
	memcpy(buf, mem, n);
	buf[9] = 0;
	assert_string_equal(read_err(buf, n, &events), "bad byte-order magic at offset 0");
	memcpy(buf, mem, n);
	buf[12] = 2; /* version 2.0 */
	assert_string_equal(read_err(buf, n, &events), "pcapng version 2.0 is not supported");

	/* block lengths */
	memcpy(buf, mem, n);
	put32(buf + shb_idb + 4, 13);
	assert_true(strstr(read_err(buf, n, &events), "bad block length 13 at offset"));
	put32(buf + shb_idb + 4, 0x7ffffff0);
	assert_true(strstr(read_err(buf, n, &events), "bad block length"));
	memcpy(buf, mem, n);
	put32(buf + n - 4, 12345); /* trailer */
	assert_true(strstr(read_err(buf, n, &events), "trailing length 12345"));

	/* a packet for an interface that does not exist, or too long for its block */
	memcpy(buf, mem, n);
	put32(buf + shb_idb + 8, 3);
	assert_true(strstr(read_err(buf, n, &events), "for interface 3, which is not defined"));
	memcpy(buf, mem, n);
	put32(buf + shb_idb + 20, 100000);
	assert_true(strstr(read_err(buf, n, &events), "does not fit its block"));

	/* garbage inside a packet is skipped, not an error */
	memcpy(buf, mem, n);
	memset(buf + shb_idb + 28, 0xff, 40); /* the tags */
	assert_string_equal(read_err(buf, n, &events), "");
	memcpy(buf, mem, n);
	put32(buf + n - 512, 0xffffffffu); /* a PDU length */
	assert_string_equal(read_err(buf, n, &events), "");
	free(buf);
}

/* -f on a file that grows: a block cut short is waited for. */
static void test_follow_partial(void **state)
{
	struct nvmedump_pcapng_writer *w = wopen(0, 0);
	struct fdr_rec_event e = ev0(FDR_REC_REG_READ, 3, 0, 0, 1), out;
	struct nvmedump_pcapng_reader *r;
	char path[] = "/tmp/nvmedump-pcapng-unit.XXXXXX", err[256];
	int fd = mkstemp(path);
	FILE *wf, *f;

	(void)state;
	assert_true(fd >= 0);
	write_ev(w, &e);
	wclose(w);
	wf = fdopen(fd, "wb");
	assert_non_null(wf);
	fwrite(mem, 1, memlen - 30, wf);
	fflush(wf);
	f = fopen(path, "rb");
	r = nvmedump_pcapng_reader_open(f, true, err, sizeof(err));
	assert_non_null(r);
	assert_int_equal(nvmedump_pcapng_reader_next(r, &out), 0);
	assert_int_equal(nvmedump_pcapng_reader_next(r, &out), 0);
	fwrite(mem + memlen - 30, 1, 30, wf);
	fflush(wf);
	assert_int_equal(nvmedump_pcapng_reader_next(r, &out), 1);
	assert_int_equal(out.seq, 4);
	assert_int_equal(nvmedump_pcapng_reader_next(r, &out), 0);
	nvmedump_pcapng_reader_close(r);
	fclose(f);
	fclose(wf);
	unlink(path);
}

/* ---- PCIe functions ---- */

#define PCI_06 FDR_REC_PCI_CONN(1, 0x30) /* 00:06.0, attach generation 1 */
#define PCI_HOST 0xac110030u             /* 172.(16 + 1).0.(6 << 3 | 0) */

static struct fdr_rec_event pci_ev(struct fdr_rec_event e)
{
	e.xport = FDR_REC_XPORT_PCIE;
	return e;
}

/* Each queue of a function its own conversation, apart from NVMe/TCP's. */
static void test_pci_queues(void **state)
{
	struct nvmedump_pcapng_writer *w = wopen(0, 0);
	struct fdr_rec_event a = pci_ev(cmd_ev(1, PCI_06, 0, 4, 3, NVME_ADM_IDENTIFY));
	struct fdr_rec_event r = pci_ev(cmd_ev(2, PCI_06, 1, 4, 3, NVME_IO_READ));
	struct fdr_rec_event r2 = pci_ev(cmd_ev(3, PCI_06, 1, 4, 4, NVME_IO_READ));
	struct fdr_rec_event t = cmd_ev(4, 0x30, 1, 4, 3, NVME_IO_READ); /* same low bits */
	const struct nvme_fabrics_connect_cmd *cc;
	const struct nvme_fabrics_connect_data *cd;
	const struct nvme_tcp_rsp *rsp;
	struct epb p;

	(void)state;
	write_ev(w, &a);
	write_ev(w, &r);
	write_ev(w, &r2);
	write_ev(w, &t);
	wclose(w);
	/* admin queue, I/O queue 1 and the TCP queue: a start each */
	assert_int_equal(nblocks(), 2 + 5 + 5 + 1 + 5);

	take_epb(2, &p); /* the admin queue's ICReq */
	assert_string_equal(p.proto, "nvme-tcp");
	assert_int_equal(p.src, PCI_HOST);
	assert_int_equal(p.sport, 50000);
	assert_int_equal(p.dst, 0xc0000201);
	assert_int_equal(p.dport, 4420);
	assert_string_equal(p.comment, "frankendrive: synthetic ICReq: the start of queue 0 "
				       "(00:06.0 gen 1), not recorded");
	take_epb(4, &p); /* its Connect: QID 0, a dynamic controller */
	cc = (const void *)(p.payload + 8);
	cd = (const void *)(p.payload + 72);
	assert_int_equal(cc->qid, 0);
	assert_int_equal(cd->cntlid, 0xffff);
	assert_string_equal(p.comment, "frankendrive: synthetic Connect: queue 0 of controller 4 "
				       "(00:06.0 gen 1)");
	take_epb(5, &p);
	rsp = (const void *)p.payload;
	assert_int_equal(rsp->cqe.cdw0, 4);
	assert_int_equal(p.dst, PCI_HOST);
	take_epb(6, &p); /* the Identify */
	assert_int_equal(p.src, PCI_HOST);
	assert_int_equal(p.sport, 50000);
	assert_true(!strncmp(p.comment, "[1] 1700000000:123457789 00:06.0 ADM SQ=0 CID=0003 ", 51));

	take_epb(7, &p); /* queue 1 of the same function: a start of its own */
	assert_true(!strncmp(p.comment, "frankendrive: synthetic ICReq: the start of queue 1 "
					"(00:06.0 gen 1)", 66));
	assert_int_equal(p.src, PCI_HOST);
	assert_int_equal(p.sport, 50001);
	take_epb(9, &p);
	cc = (const void *)(p.payload + 8);
	cd = (const void *)(p.payload + 72);
	assert_int_equal(cc->qid, 1);
	assert_int_equal(cd->cntlid, 4);
	take_epb(11, &p); /* its Read, then the next one: no new start */
	assert_int_equal(p.sport, 50001);
	assert_true(!strncmp(p.comment, "[2] ", 4));
	take_epb(12, &p);
	assert_int_equal(p.sport, 50001);
	assert_true(!strncmp(p.comment, "[3] ", 4));

	take_epb(13, &p); /* NVMe/TCP connection 30h, queue 1: 10.0.0.48 */
	assert_int_equal(p.src, 0x0a000030);
	assert_int_equal(p.sport, 50001);
	assert_true(!strncmp(p.comment, "frankendrive: synthetic ICReq: the start of queue 1 "
					"(conn 48)", 60));
	take_epb(17, &p);
	assert_int_equal(p.src, 0x0a000030);
	assert_true(!strncmp(p.comment, "[4] 1700000000:123460789 ctrl4 IO SQ=1 CID=0003 ", 48));
}

/* The other kinds: frankendrive records on their queue's conversation,
 * from the controller what it does to the host. */
static void test_pci_records(void **state)
{
	struct nvmedump_pcapng_writer *w = wopen(0, 0);
	struct fdr_rec_event ev[5];
	static const struct {
		uint16_t port;
		bool to_ctrl;
		const char *line;
	} want[] = {
		{50000, true, "[10] 1700000000:123466789 00:06.0 REG 1010 <- 00000021 (SQ 2 Tail Doorbell)"},
		{50000, true, "[11] 1700000000:123467789 00:06.0 CFG 0004 <- 0006 (Command)"},
		{50002, false, "[12] 1700000000:123468789 00:06.0 IRQ MSI-X vector=2 CQ=2 entries=1 sent"},
		{50001, false, "[13] 1700000000:123469789 00:06.0 DMA SQ=1 CID=0007 ERR read addr=1000 "
			       "len=512 (data)"},
		{50000, true, "[14] 1700000000:123470789 00:06.0 CONN 00:06.0 gen=1 /tmp/cntrl"},
	};
	struct epb p;

	(void)state;
	ev[0] = pci_ev(ev0(FDR_REC_REG_WRITE, 10, PCI_06, 0, 1));
	ev[0].u.reg.offset = 0x1010;
	ev[0].u.reg.size = 4;
	ev[0].u.reg.value = 0x21;
	ev[1] = pci_ev(ev0(FDR_REC_CFG_WRITE, 11, PCI_06, 0, 1));
	ev[1].u.reg.offset = 4;
	ev[1].u.reg.size = 2;
	ev[1].u.reg.value = 6;
	ev[2] = pci_ev(ev0(FDR_REC_IRQ, 12, PCI_06, 2, 1));
	ev[2].u.irq.vector = 2;
	ev[2].u.irq.cqid = 2;
	ev[2].u.irq.entries = 1;
	ev[3] = pci_ev(ev0(FDR_REC_DMA_ERR, 13, PCI_06, 1, 1));
	ev[3].cid = 7;
	ev[3].u.dma.addr = 0x1000;
	ev[3].u.dma.len = 512;
	ev[4] = pci_ev(ev0(FDR_REC_CONNECT, 14, PCI_06, 0, 0));
	strcpy(ev[4].u.text, "/tmp/cntrl");
	ev[4].len = 10;
	for (unsigned i = 0; i < 5; i++)
		write_ev(w, &ev[i]);
	wclose(w);
	assert_int_equal(nblocks(), 2 + 5);
	for (unsigned i = 0; i < 5; i++) {
		struct fdr_rec_event back;

		take_epb(2 + i, &p);
		assert_string_equal(p.proto, "frankendrive");
		assert_string_equal(p.comment, want[i].line);
		assert_int_equal(want[i].to_ctrl ? p.src : p.dst, PCI_HOST);
		assert_int_equal(want[i].to_ctrl ? p.sport : p.dport, want[i].port);
		assert_int_equal(want[i].to_ctrl ? p.dst : p.src, 0xc0000201);
		memcpy(&back, p.payload, sizeof(back));
		assert_int_equal(back.xport, FDR_REC_XPORT_PCIE);
		assert_int_equal(back.conn, PCI_06);
	}
}

/* A host leaving does not end its function's queues (the recorder may
 * complete their commands after it): no new start. */
static void test_pci_disconnect(void **state)
{
	struct nvmedump_pcapng_writer *w = wopen(0, 0);
	struct fdr_rec_event c = pci_ev(cmd_ev(1, PCI_06, 0, 4, 3, NVME_ADM_IDENTIFY));
	struct fdr_rec_event d = pci_ev(ev0(FDR_REC_DISCONNECT, 2, PCI_06, 0, 0));
	struct fdr_rec_event p = pci_ev(ev0(FDR_REC_CPL, 3, PCI_06, 0, 4));
	struct epb e;

	(void)state;
	p.cid = 3;
	p.u.cpl.cqe.cid = 3;
	write_ev(w, &c);
	write_ev(w, &d);
	write_ev(w, &p);
	wclose(w);
	assert_int_equal(nblocks(), 2 + 4 + 3);
	take_epb(8, &e);
	assert_true(!strncmp(e.comment, "[3] ", 4));
}

/* Read back: the same lines, events and queues; a TCP queue with the same
 * QID and CIDs and a later attach of the function stay apart. */
static void test_pci_read_back(void **state)
{
	struct nvmedump_pcapng_writer *w = wopen(256, 0);
	struct fdr_rec_event in[16], out;
	struct nvmedump_pcapng_reader *r;
	unsigned n = 0, i;
	char err[256];
	FILE *f;

	(void)state;
	in[n] = pci_ev(ev0(FDR_REC_CONNECT, 1, PCI_06, 0, 0));
	strcpy(in[n].u.text, "/tmp/fd/cntrl");
	in[n++].len = 13;
	in[n] = pci_ev(cmd_ev(2, PCI_06, 1, 4, 0x10, NVME_IO_READ));
	in[n].u.cmd.sqe.flags = 0; /* PRPs */
	in[n++].u.cmd.sqe.dptr.prp1 = 0xbffc7000;
	in[n] = cmd_ev(3, 0x30, 1, 4, 0x10, NVME_IO_WRITE); /* TCP, same QID and CID */
	n++;
	in[n] = pci_ev(ev0(FDR_REC_DATA, 4, PCI_06, 1, 4));
	in[n].cid = 0x10;
	in[n].len = 4;
	memcpy(in[n++].u.data.bytes, "\x01\x02\x03\x04", 4);
	in[n] = pci_ev(ev0(FDR_REC_CPL, 5, PCI_06, 1, 4));
	in[n].cid = 0x10;
	in[n].u.cpl.cqe.cid = 0x10;
	in[n].u.cpl.cqe.sqid = 1;
	in[n].u.cpl.cqe.status = 1;
	in[n].u.cpl.latency_ns = 3000; /* from its own command, not the TCP one */
	in[n++].u.cpl.opc = NVME_IO_READ;
	in[n] = pci_ev(ev0(FDR_REC_IRQ, 6, PCI_06, 1, 4));
	in[n].u.irq.vector = 1;
	in[n].u.irq.cqid = 1;
	in[n++].u.irq.entries = 1;
	/* a PCIe host's Fabrics Connect: a bad command, not a new queue */
	in[n] = pci_ev(cmd_ev(7, PCI_06, 0, 4, 0x20, NVME_ADM_FABRICS));
	in[n].u.cmd.sqe.nsid = NVME_FCTYPE_CONNECT;
	in[n++].u.cmd.sqe.cdw10 = 5u << 16;
	in[n] = pci_ev(cmd_ev(8, PCI_06, 0, 4, 0x21, NVME_ADM_IDENTIFY));
	n++;
	in[n] = pci_ev(ev0(FDR_REC_DISCONNECT, 9, PCI_06, 0, 0));
	strcpy(in[n].u.text, "gone");
	in[n++].len = 4;
	in[n] = pci_ev(ev0(FDR_REC_CPL, 10, PCI_06, 0, 4)); /* after it: aborted */
	in[n].cid = 0x21;
	in[n].u.cpl.cqe.cid = 0x21;
	in[n].u.cpl.cqe.status = NVME_STATUS(0, 0x08) << 1;
	in[n].u.cpl.latency_ns = 2000;
	in[n++].u.cpl.opc = NVME_ADM_IDENTIFY;
	/* the next attach, on another bus: controller 5 */
	in[n] = pci_ev(cmd_ev(11, FDR_REC_PCI_CONN(2, 0x0130), 1, 5, 0x10, NVME_IO_READ));
	n++;
	in[n] = pci_ev(ev0(FDR_REC_CPL, 12, FDR_REC_PCI_CONN(2, 0x0130), 1, 5));
	in[n].cid = 0x10;
	in[n].u.cpl.cqe.cid = 0x10;
	in[n].u.cpl.latency_ns = 1000;
	in[n++].u.cpl.opc = NVME_IO_READ;
	assert_true(n <= sizeof(in) / sizeof(in[0]));
	for (i = 0; i < n; i++)
		write_ev(w, &in[i]);
	wclose(w);

	f = rin();
	r = nvmedump_pcapng_reader_open(f, false, err, sizeof(err));
	assert_non_null(r);
	expect_events(r, in, n);
	assert_int_equal(nvmedump_pcapng_reader_next(r, &out), 0);
	assert_int_equal(nvmedump_pcapng_reader_skipped(r), 0);
	nvmedump_pcapng_reader_close(r);
	fclose(f);
}

/* Without comments: from the addresses alone; of the attach generation
 * the low 4 bits come back (docs/recorder.md). */
static void test_pci_read_no_comments(void **state)
{
	struct nvmedump_pcapng_writer *w = wopen(0, 0);
	struct fdr_rec_event c = pci_ev(cmd_ev(1, FDR_REC_PCI_CONN(0x12, 0xff3d), 7, 9, 1,
					       NVME_IO_WRITE));
	struct fdr_rec_event p = pci_ev(ev0(FDR_REC_CPL, 2, FDR_REC_PCI_CONN(0x12, 0xff3d), 7, 9));
	struct fdr_rec_event t = cmd_ev(2, 0xff3d, 7, 9, 1, NVME_IO_READ); /* the same, TCP */
	struct nvmedump_pcapng_reader *r;
	struct fdr_rec_event out;
	char err[256];
	struct epb e;
	FILE *f;

	(void)state;
	p.cid = 1;
	p.u.cpl.cqe.cid = 1;
	assert_int_equal(nvmedump_pcapng_write_event(w, &c, NULL), 0);
	assert_int_equal(nvmedump_pcapng_write_event(w, &t, NULL), 0);
	assert_int_equal(nvmedump_pcapng_write_event(w, &p, NULL), 0);
	wclose(w);
	take_epb(6, &e);
	assert_int_equal(e.src, 0xac12ff3d); /* 172.(16 + 2).255.61 */
	assert_int_equal(e.sport, 50007);
	f = rin();
	r = nvmedump_pcapng_reader_open(f, false, err, sizeof(err));
	assert_non_null(r);
	assert_int_equal(nvmedump_pcapng_reader_next(r, &out), 1);
	assert_int_equal(out.kind, FDR_REC_CMD);
	assert_int_equal(out.xport, FDR_REC_XPORT_PCIE);
	assert_int_equal(out.conn, FDR_REC_PCI_CONN(2, 0xff3d));
	assert_int_equal(out.qid, 7);
	assert_int_equal(out.cntlid, 9);
	assert_int_equal(out.admin, 0);
	assert_int_equal(nvmedump_pcapng_reader_next(r, &out), 1);
	assert_int_equal(out.kind, FDR_REC_CMD);
	assert_int_equal(out.xport, FDR_REC_XPORT_FABRICS);
	assert_int_equal(out.conn, 0xff3d);
	assert_int_equal(nvmedump_pcapng_reader_next(r, &out), 1);
	assert_int_equal(out.kind, FDR_REC_CPL);
	assert_int_equal(out.u.cpl.opc, NVME_IO_WRITE); /* its own queue's command */
	assert_int_equal(out.conn, FDR_REC_PCI_CONN(2, 0xff3d));
	assert_int_equal(nvmedump_pcapng_reader_next(r, &out), 0);
	nvmedump_pcapng_reader_close(r);
	fclose(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_section_and_interface, teardown_mem),
		cmocka_unit_test_teardown(test_frankendrive_record, teardown_mem),
		cmocka_unit_test_teardown(test_synthetic_start, teardown_mem),
		cmocka_unit_test_teardown(test_admin_and_connect_start, teardown_mem),
		cmocka_unit_test_teardown(test_pdus, teardown_mem),
		cmocka_unit_test_teardown(test_lost_isb, teardown_mem),
		cmocka_unit_test(test_snap),
		cmocka_unit_test_teardown(test_read_back, teardown_mem),
		cmocka_unit_test_teardown(test_read_no_comments, teardown_mem),
		cmocka_unit_test_teardown(test_bad_input, teardown_mem),
		cmocka_unit_test_teardown(test_follow_partial, teardown_mem),
		cmocka_unit_test_teardown(test_pci_queues, teardown_mem),
		cmocka_unit_test_teardown(test_pci_records, teardown_mem),
		cmocka_unit_test_teardown(test_pci_disconnect, teardown_mem),
		cmocka_unit_test_teardown(test_pci_read_back, teardown_mem),
		cmocka_unit_test_teardown(test_pci_read_no_comments, teardown_mem),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

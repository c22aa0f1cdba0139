/* SPDX-License-Identifier: BSD-2-Clause */
/* nvmedump filters: the parser (precedence, errors) and evaluation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "filter.h"

static struct fdr_rec_event cmd(bool admin, uint16_t qid, uint8_t opc, uint32_t nsid, uint64_t slba,
				uint16_t nlb0)
{
	struct fdr_rec_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.seq = 1;
	ev.kind = FDR_REC_CMD;
	ev.admin = admin;
	ev.qid = qid;
	ev.cntlid = 1;
	ev.u.cmd.sqe.opc = opc;
	ev.u.cmd.sqe.nsid = nsid;
	ev.u.cmd.sqe.cdw10 = (uint32_t)slba;
	ev.u.cmd.sqe.cdw11 = (uint32_t)(slba >> 32);
	ev.u.cmd.sqe.cdw12 = nlb0;
	return ev;
}

static struct fdr_rec_event cpl(bool admin, uint16_t qid, uint8_t opc, uint16_t status,
				uint64_t lat)
{
	struct fdr_rec_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.seq = 2;
	ev.kind = FDR_REC_CPL;
	ev.admin = admin;
	ev.qid = qid;
	ev.cntlid = 1;
	ev.u.cpl.cqe.status = (uint16_t)(status << 1 | 1);
	ev.u.cpl.opc = opc;
	ev.u.cpl.latency_ns = lat;
	return ev;
}

static struct fdr_rec_event other(uint16_t kind, uint16_t cntlid)
{
	struct fdr_rec_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.seq = 3;
	ev.kind = kind;
	ev.cntlid = cntlid;
	return ev;
}

static bool m(const char *expr, const struct fdr_rec_event *ev)
{
	struct nvmedump_filter_err err;
	struct nvmedump_filter *f = nvmedump_filter_parse(expr, &err);

	if (!f)
		fail_msg("'%s' did not parse: %zu: %s", expr, err.pos, err.msg);
	bool r = nvmedump_filter_match(f, ev);
	nvmedump_filter_free(f);
	return r;
}

/* Must fail at pos with msg containing want. */
static void bad(const char *expr, size_t pos, const char *want)
{
	struct nvmedump_filter_err err;
	struct nvmedump_filter *f = nvmedump_filter_parse(expr, &err);

	if (f) {
		nvmedump_filter_free(f);
		fail_msg("'%s' parsed", expr);
	}
	if (!strstr(err.msg, want) || err.pos != pos)
		fail_msg("'%s': got %zu '%s', want %zu '%s'", expr, err.pos, err.msg, pos, want);
}

static void test_empty_matches_all(void **state)
{
	struct fdr_rec_event ev = other(FDR_REC_CONNECT, 0);

	assert_true(m("", &ev));
	assert_true(m("   \t ", &ev));
	assert_true(nvmedump_filter_match(NULL, &ev));
}

static void test_errors(void **state)
{
	bad("qid", 3, "expected a number after 'qid', got the end");
	bad("qid x", 4, "expected a number after 'qid', got 'x'");
	bad("qid 65536", 4, "out of range");
	bad("ns 0x100000000", 3, "out of range");
	bad("frob 1", 0, "unknown filter primitive 'frob'");
	bad("qid 1 qid 2", 6, "expected 'and', 'or' or the end, got qid");
	bad("(qid 1", 6, "expected ')' to close the '(' at 1");
	bad("qid 1)", 5, "unmatched ')'");
	bad("qid 1 and", 9, "expected a filter primitive, got the end");
	bad("and qid 1", 0, "unknown filter primitive 'and'");
	bad("not", 3, "expected a filter primitive");
	bad("status > 1", 7, "status compares with == or != only");
	bad("status == x", 10, "expected a number after 'status =='");
	bad("latency 1ms", 8, "expected <, <=, >, >=, == or != after 'latency'");
	bad("latency > 1", 10, "bad duration '1'");
	bad("latency > 1 parsec", 10, "bad duration '1'");
	bad("latency > ms", 10, "bad duration 'ms'");
	bad("lba 5-2", 4, "ends before it starts");
	bad("lba 1-x", 4, "expected A-B or A after 'lba'");
	bad("opc frobnicate", 4, "unknown opcode 'frobnicate'");
	bad("kind pizza", 5, "after 'kind', got pizza");
	bad("opc 'get log page", 4, "unterminated quote");
	bad("qid 1 & qid 2", 6, "unexpected character '&'");
	bad("'qid' 1", 0, "unknown filter primitive 'qid'");

	char deep[400];
	memset(deep, '(', 100);
	strcpy(deep + 100, "qid 1");
	bad(deep, 64, "nested too deeply");
	memset(deep, '!', 100);
	bad(deep, 64, "nested too deeply");

	/* err may be NULL */
	assert_null(nvmedump_filter_parse("qid", NULL));
}

static void test_precedence(void **state)
{
	struct fdr_rec_event c1 = cmd(false, 1, 0x02, 1, 0, 0);
	struct fdr_rec_event c2 = cmd(false, 2, 0x02, 1, 0, 0);
	struct fdr_rec_event p2 = cpl(false, 2, 0x02, 0, 0);
	struct fdr_rec_event p1 = cpl(false, 1, 0x02, 0, 0);

	/* and binds tighter than or */
	assert_true(m("kind cmd or kind cpl and qid 2", &c1));
	assert_true(m("kind cmd or kind cpl and qid 2", &p2));
	assert_false(m("kind cmd or kind cpl and qid 2", &p1));
	assert_false(m("(kind cmd or kind cpl) and qid 2", &c1));
	assert_true(m("(kind cmd or kind cpl) and qid 2", &c2));
	/* not binds tighter than and */
	assert_true(m("not kind cmd and qid 1", &p1));
	assert_false(m("not kind cmd and qid 1", &c1));
	assert_false(m("not kind cmd and qid 1", &p2));
	assert_true(m("not (kind cmd and qid 1)", &p2));
	assert_true(m("! ! kind cmd", &c1));
	assert_true(m("not not not kind cpl", &c1));
	/* symbols and keywords, case and spacing */
	assert_true(m("kind cmd&&qid 1||kind cpl", &p2));
	assert_true(m("KIND CMD AND QID 1", &c1));
	assert_true(m("(((qid 1)))", &c1));
	assert_true(m("!(qid 2)", &c1));
	/* or is left to right: a or b or c */
	assert_true(m("qid 5 or qid 6 or qid 1", &c1));
	assert_false(m("qid 5 or qid 6 or qid 7", &c1));
}

static void test_qid_ns_ctrl(void **state)
{
	struct fdr_rec_event c = cmd(false, 3, 0x01, 7, 0, 0);
	struct fdr_rec_event p = cpl(false, 3, 0x01, 0, 0);
	struct fdr_rec_event r = other(FDR_REC_REG_WRITE, 1);

	assert_true(m("qid 3", &c));
	assert_true(m("qid 0x3", &p));
	assert_true(m("sq 3", &p));
	assert_false(m("qid 2", &c));
	assert_false(m("qid 0", &r)); /* registers have no queue */
	assert_true(m("ns 7", &c));
	assert_false(m("ns 7", &p)); /* a CPL does not record the namespace */
	assert_false(m("ns 8", &c));
	assert_true(m("ctrl 1", &r));
	assert_true(m("ctrl 1 and qid 3", &c));
	assert_false(m("ctrl 2", &c));
	assert_true(m("ctrl 0", &(struct fdr_rec_event){.kind = FDR_REC_CONNECT}));

	/* Fabrics commands: bytes 4-7 are not a namespace */
	struct fdr_rec_event f = cmd(true, 0, 0x7f, 0x01, 0, 0);
	assert_false(m("ns 1", &f));
}

static void test_opc(void **state)
{
	struct fdr_rec_event rd = cmd(false, 1, 0x02, 1, 0, 0);
	struct fdr_rec_event glp = cmd(true, 0, 0x02, 0, 0, 0); /* Get Log Page, same number */
	struct fdr_rec_event rdc = cpl(false, 1, 0x02, 0, 0);
	struct fdr_rec_event glpc = cpl(true, 0, 0x02, 0, 0);

	assert_true(m("opc read", &rd));
	assert_true(m("opc Read", &rdc)); /* a CPL by its recorded opcode */
	assert_false(m("opc read", &glp));
	assert_false(m("opc read", &glpc));
	assert_true(m("opc get-log-page", &glp));
	assert_true(m("opc 'Get Log Page'", &glpc));
	assert_true(m("opc \"get log page\"", &glp));
	assert_false(m("opc get-log-page", &rd));
	/* a bare number: either set */
	assert_true(m("opc 2", &rd));
	assert_true(m("opc 0x02", &glp));
	assert_true(m("opc io:0x02", &rd));
	assert_false(m("opc io:0x02", &glp));
	assert_true(m("opc admin:2", &glp));
	assert_false(m("opc write", &rd));
	assert_false(m("opc read", &(struct fdr_rec_event){.kind = FDR_REC_DATA, .qid = 1}));

	/* Fabrics: by command type, on admin and I/O queues alike */
	struct fdr_rec_event conn_io = cmd(false, 2, 0x7f, 0x01, 0, 0);
	struct fdr_rec_event pget = cmd(true, 0, 0x7f, 0x04, 0, 0);
	struct fdr_rec_event conn_cpl = cpl(false, 2, 0x7f, 0, 0);

	conn_cpl.u.cpl.fctype = 0x01;
	assert_true(m("opc connect", &conn_io));
	assert_true(m("opc connect", &conn_cpl));
	assert_false(m("opc connect", &pget));
	assert_true(m("opc property-get", &pget));
	assert_true(m("opc fabrics", &pget));
	assert_true(m("opc fabrics", &conn_io));
	assert_true(m("opc 0x7f", &conn_cpl));
	assert_false(m("opc fabrics", &rd));
}

static void test_admin_io_kind(void **state)
{
	struct fdr_rec_event a = cmd(true, 0, 0x06, 0, 0, 0);
	struct fdr_rec_event i = cpl(false, 1, 0x02, 0, 0);
	struct fdr_rec_event reg = other(FDR_REC_REG_READ, 1);
	struct fdr_rec_event act = other(FDR_REC_ACTION, 1);
	struct fdr_rec_event data = other(FDR_REC_DATA, 1);

	act.qid = 1;
	data.admin = 1;
	assert_true(m("admin", &a));
	assert_false(m("io", &a));
	assert_true(m("io", &i));
	assert_false(m("admin", &i));
	assert_false(m("admin", &reg));
	assert_false(m("io", &reg));
	assert_true(m("io", &act));
	assert_true(m("admin", &data));

	static const struct {
		const char *name;
		uint16_t kind;
		bool match;
	} k[] = {
		{"cmd", FDR_REC_CMD, true},          {"cmd", FDR_REC_CPL, false},
		{"cpl", FDR_REC_CPL, true},          {"pdu", FDR_REC_PDU_RX, true},
		{"pdu", FDR_REC_PDU_TX, true},       {"pdu-rx", FDR_REC_PDU_TX, false},
		{"pdu-tx", FDR_REC_PDU_TX, true},    {"reg", FDR_REC_REG_READ, true},
		{"reg", FDR_REC_REG_WRITE, true},    {"reg-read", FDR_REC_REG_WRITE, false},
		{"reg-write", FDR_REC_REG_WRITE, true}, {"aen", FDR_REC_AEN, true},
		{"conn", FDR_REC_CONNECT, true},     {"conn", FDR_REC_DISCONNECT, true},
		{"connect", FDR_REC_DISCONNECT, false}, {"disconnect", FDR_REC_DISCONNECT, true},
		{"disc", FDR_REC_DISCONNECT, true},  {"action", FDR_REC_ACTION, true},
		{"act", FDR_REC_ACTION, true},       {"data", FDR_REC_DATA, true},
		{"data", FDR_REC_CMD, false},        {"cmd", 200, false},
		{"cmd", 0, false},
		{"cfg", FDR_REC_CFG_READ, true},        {"cfg", FDR_REC_CFG_WRITE, true},
		{"cfg-read", FDR_REC_CFG_WRITE, false}, {"cfg-write", FDR_REC_CFG_WRITE, true},
		{"cfg-read", FDR_REC_CFG_READ, true},   {"cfg", FDR_REC_REG_READ, false},
		{"irq", FDR_REC_IRQ, true},             {"irq", FDR_REC_DMA_ERR, false},
		{"dma", FDR_REC_DMA_ERR, true},         {"dma-err", FDR_REC_DMA_ERR, true},
		{"dma", FDR_REC_DATA, false},           {"reg", FDR_REC_CFG_WRITE, false},
	};
	for (size_t n = 0; n < sizeof(k) / sizeof(k[0]); n++) {
		char expr[64];
		struct fdr_rec_event ev = other(k[n].kind, 0);

		snprintf(expr, sizeof(expr), "kind %s", k[n].name);
		if (m(expr, &ev) != k[n].match)
			fail_msg("'%s' on kind %u", expr, k[n].kind);
	}
}

static void test_status(void **state)
{
	struct fdr_rec_event ok = cpl(false, 1, 0x02, 0, 0);
	struct fdr_rec_event ro = cpl(false, 1, 0x01, 0x182, 0);
	struct fdr_rec_event ro_dnr = cpl(false, 1, 0x01, 0x4182, 0);
	struct fdr_rec_event c = cmd(false, 1, 0x02, 1, 0, 0);

	assert_false(m("status", &ok));
	assert_true(m("status", &ro));
	assert_true(m("status", &ro_dnr));
	assert_false(m("status", &c)); /* commands have no status */
	assert_true(m("status != 0", &ro));
	assert_false(m("status != 0", &ok));
	assert_true(m("status == 0", &ok));
	assert_false(m("status == 0", &c));
	assert_true(m("status == 0x182", &ro));
	assert_true(m("status == 0x182", &ro_dnr)); /* DNR ignored unless asked for */
	assert_true(m("status==386", &ro));
	assert_false(m("status == 0x4182", &ro));
	assert_true(m("status == 0x4182", &ro_dnr));
	assert_true(m("status != 0x182", &ok));
	assert_true(m("not status", &c)); /* documented: restrict with kind cpl */
	assert_false(m("kind cpl and not status", &ro));
	/* only DNR with success: not an error */
	struct fdr_rec_event dnr_only = cpl(false, 1, 0x02, 0x4000, 0);
	assert_false(m("status", &dnr_only));
}

static void test_lba(void **state)
{
	struct fdr_rec_event rd = cmd(false, 1, 0x02, 1, 100, 7); /* 100..107 */
	struct fdr_rec_event big = cmd(false, 1, 0x01, 1, UINT64_MAX - 1, 0xffff);

	assert_true(m("lba 100-100", &rd));
	assert_true(m("lba 107", &rd));
	assert_true(m("lba 0-100", &rd));
	assert_true(m("lba 104-200", &rd));
	assert_true(m("lba 0-0xffffffffffffffff", &rd));
	assert_false(m("lba 108-200", &rd));
	assert_false(m("lba 0-99", &rd));
	assert_true(m("lba 0xffffffffffffffff", &big)); /* no overflow at the top */
	assert_false(m("lba 0-10", &big));
	/* not for commands without an LBA, nor CPLs, nor admin commands */
	assert_false(m("lba 0-1000", &(struct fdr_rec_event){.kind = FDR_REC_CPL}));
	struct fdr_rec_event flush = cmd(false, 1, 0x00, 1, 100, 0);
	assert_false(m("lba 100", &flush));
	struct fdr_rec_event adm = cmd(true, 0, 0x02, 0, 100, 0);
	assert_false(m("lba 100", &adm));
	struct fdr_rec_event wz = cmd(false, 1, 0x08, 1, 100, 0);
	assert_true(m("lba 100", &wz));
}

static void test_latency(void **state)
{
	struct fdr_rec_event p = cpl(false, 1, 0x02, 0, 1500000); /* 1.5ms */
	struct fdr_rec_event c = cmd(false, 1, 0x02, 1, 0, 0);

	assert_true(m("latency > 1ms", &p));
	assert_false(m("latency > 2ms", &p));
	assert_true(m("latency >= 1.5ms", &p));
	assert_false(m("latency > 1.5ms", &p));
	assert_true(m("latency == 1500us", &p));
	assert_true(m("latency == 1500000ns", &p));
	assert_true(m("latency < 0.002s", &p));
	assert_true(m("latency <= 1.5 ms", &p)); /* the unit as its own word */
	assert_true(m("latency != 1s", &p));
	assert_true(m("lat>1ms", &p));
	assert_true(m("latency > 1.4999999999ms", &p)); /* fraction cut at ns */
	assert_false(m("latency > 1ms", &c)); /* commands have no latency */
}

static void test_join(void **state)
{
	char *argv[] = {"opc", "read", "and", "(status or latency > 1ms)"};
	char *s = nvmedump_filter_join(4, argv);

	assert_string_equal(s, "opc read and (status or latency > 1ms)");
	free(s);
	s = nvmedump_filter_join(0, argv);
	assert_string_equal(s, "");
	free(s);
}

/* ---- PCIe functions ---- */

#define PCI_06 FDR_REC_PCI_CONN(1, 0x30) /* 00:06.0 */
#define PCI_07 FDR_REC_PCI_CONN(1, 0x39) /* 00:07.1 */

static struct fdr_rec_event pci(uint16_t kind, uint32_t conn, uint16_t qid)
{
	struct fdr_rec_event ev = other(kind, 1);

	ev.xport = FDR_REC_XPORT_PCIE;
	ev.conn = conn;
	ev.qid = qid;
	ev.admin = qid == 0;
	return ev;
}

static struct fdr_rec_event bar0(uint16_t kind, uint32_t off)
{
	struct fdr_rec_event ev = pci(kind, PCI_06, 0);

	ev.u.reg.offset = off;
	ev.u.reg.size = 4;
	return ev;
}

static struct fdr_rec_event irq(uint8_t type, uint16_t vector, uint16_t cqid)
{
	struct fdr_rec_event ev = pci(FDR_REC_IRQ, PCI_06, cqid);

	ev.u.irq.type = type;
	ev.u.irq.vector = vector;
	ev.u.irq.cqid = cqid;
	return ev;
}

static void test_pci_errors(void **state)
{
	bad("pci 00:20.0", 4, "bad PCI address '00:20.0' after 'pci' (BB:DD.F in hex");
	bad("pci 00:06.8", 4, "bad PCI address '00:06.8'");
	bad("pci 00:06", 4, "bad PCI address '00:06'");
	bad("pci 100:06.0", 4, "bad PCI address '100:06.0'");
	bad("pci 0x:06.0", 4, "bad PCI address '0x:06.0'");
	bad("pci 00:06.0x", 4, "bad PCI address '00:06.0x'");
	bad("pci :06.0", 4, "bad PCI address ':06.0'");
	bad("pci 00:06.0 00:07.0", 12, "expected 'and', 'or' or the end, got 00:07.0");
	bad("pci 6", 4, "expected 'and', 'or' or the end, got 6");
	bad("vector", 6, "expected a number after 'vector', got the end");
	bad("vector 2048", 7, "vector 2048: out of range (at most 2047)");
	bad("vector x", 7, "expected a number after 'vector', got 'x'");
	bad("doorbell 2", 9, "expected 'and', 'or' or the end, got 2");
	bad("kind dma-error", 5, "irq, dma or doorbell after 'kind', got dma-error");
	bad("kind", 4, "after 'kind', got the end");
	bad("tcp 1", 4, "expected 'and', 'or' or the end, got 1");
}

static void test_xport(void **state)
{
	struct fdr_rec_event tcmd = cmd(false, 1, 0x02, 1, 0, 0);
	struct fdr_rec_event pcmd = tcmd;
	struct fdr_rec_event p7 = pci(FDR_REC_CFG_READ, PCI_07, 0);
	struct fdr_rec_event conn = pci(FDR_REC_CONNECT, FDR_REC_PCI_CONN(9, 0x30), 0);
	struct fdr_rec_event aen = other(FDR_REC_AEN, 1);

	pcmd.xport = FDR_REC_XPORT_PCIE;
	pcmd.conn = PCI_06;
	tcmd.conn = 0x30; /* a TCP connection ID with the same low bits */
	assert_true(m("pci", &pcmd));
	assert_false(m("pci", &tcmd));
	assert_true(m("tcp", &tcmd));
	assert_true(m("fabrics", &tcmd));
	assert_false(m("tcp", &pcmd));
	assert_true(m("tcp", &aen));
	assert_true(m("pci 00:06.0", &pcmd));
	assert_true(m("PCI 0:6.0", &pcmd));
	assert_false(m("pci 00:06.0", &tcmd));
	assert_false(m("pci 00:07.1", &pcmd));
	assert_true(m("pci 00:07.1", &p7));
	assert_true(m("pci 0:7.1 and kind cfg", &p7));
	assert_true(m("pci 00:06.0", &conn)); /* any attach generation */
	assert_true(m("pci and qid 1 and opc read", &pcmd));
	assert_true(m("pci or tcp", &tcmd));
	assert_true(m("not pci", &tcmd));
	assert_true(m("(pci)", &pcmd));
	/* an address bit by bit: bus, device, function */
	p7.conn = FDR_REC_PCI_CONN(1, 0xab << 8 | 0x1f << 3 | 7);
	assert_true(m("pci ab:1f.7", &p7));
	assert_true(m("pci AB:1F.7", &p7));
	assert_false(m("pci aa:1f.7", &p7));
	assert_false(m("pci ab:1e.7", &p7));
	assert_false(m("pci ab:1f.6", &p7));
}

static void test_doorbell(void **state)
{
	struct fdr_rec_event sq0 = bar0(FDR_REC_REG_WRITE, 0x1000);
	struct fdr_rec_event cq2 = bar0(FDR_REC_REG_WRITE, 0x1014);
	struct fdr_rec_event last = bar0(FDR_REC_REG_READ, 0x1fff);
	struct fdr_rec_event cc = bar0(FDR_REC_REG_WRITE, 0x14);
	struct fdr_rec_event msix = bar0(FDR_REC_REG_WRITE, 0x2000);
	struct fdr_rec_event tcp = bar0(FDR_REC_REG_WRITE, 0x1008);
	struct fdr_rec_event cfg = bar0(FDR_REC_CFG_WRITE, 0x1000);

	tcp.xport = FDR_REC_XPORT_FABRICS; /* no doorbells over NVMe/TCP */
	assert_true(m("doorbell", &sq0));
	assert_true(m("kind doorbell", &cq2));
	assert_true(m("doorbell", &last));
	assert_false(m("doorbell", &cc));
	assert_false(m("doorbell", &msix));
	assert_false(m("doorbell", &tcp));
	assert_false(m("doorbell", &cfg));
	assert_true(m("kind reg and not doorbell", &cc));
	/* a doorbell's queue: SQ y tail and CQ y head */
	assert_true(m("qid 0", &sq0));
	assert_false(m("qid 1", &sq0));
	assert_true(m("qid 2", &cq2));
	assert_false(m("qid 0", &cq2)); /* not the event's own qid field */
	assert_true(m("doorbell and qid 511", &last));
	assert_false(m("qid 0", &cc));
	assert_false(m("qid 0", &tcp));
	assert_false(m("admin", &sq0)); /* a register access, not a command */
}

static void test_pci_queue(void **state)
{
	struct fdr_rec_event i1 = irq(FDR_REC_IRQ_MSIX, 3, 1);
	struct fdr_rec_event i0 = irq(FDR_REC_IRQ_INTX, 0, 0);
	struct fdr_rec_event d = pci(FDR_REC_DMA_ERR, PCI_06, 2);
	struct fdr_rec_event c = pci(FDR_REC_CFG_READ, PCI_06, 0);

	assert_true(m("qid 1", &i1));
	assert_false(m("qid 3", &i1));
	assert_true(m("io", &i1));
	assert_false(m("admin", &i1));
	assert_true(m("admin", &i0));
	assert_true(m("qid 2 and io", &d));
	assert_false(m("admin", &d));
	assert_false(m("qid 0", &c)); /* config space belongs to no queue */
	assert_false(m("admin", &c));
	assert_false(m("io", &c));
}

static void test_vector(void **state)
{
	struct fdr_rec_event i3 = irq(FDR_REC_IRQ_MSIX, 3, 1);
	struct fdr_rec_event intx = irq(FDR_REC_IRQ_INTX, 0, 1);
	struct fdr_rec_event e3 = bar0(FDR_REC_REG_WRITE, 0x203c);   /* entry 3 */
	struct fdr_rec_event e3a = bar0(FDR_REC_REG_READ, 0x2030);   /* entry 3 */
	struct fdr_rec_event e4 = bar0(FDR_REC_REG_WRITE, 0x2040);   /* entry 4 */
	struct fdr_rec_event pba = bar0(FDR_REC_REG_READ, 0x3000);
	struct fdr_rec_event tcp = bar0(FDR_REC_REG_READ, 0x2030);
	struct fdr_rec_event cfg = bar0(FDR_REC_CFG_READ, 0x2030);

	tcp.xport = FDR_REC_XPORT_FABRICS;
	assert_true(m("vector 3", &i3));
	assert_false(m("vector 1", &i3)); /* its CQ is not its vector */
	assert_false(m("vector 0", &intx));
	assert_true(m("vector 3", &e3));
	assert_true(m("vector 0x3", &e3a));
	assert_false(m("vector 3", &e4));
	assert_true(m("vector 4", &e4));
	assert_false(m("vector 0", &pba));
	assert_false(m("vector 3", &tcp));
	assert_false(m("vector 3", &cfg));
	assert_true(m("vector 3 and kind irq", &i3));
	assert_false(m("vector 3 and kind irq", &e3));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_matches_all),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_precedence),
		cmocka_unit_test(test_qid_ns_ctrl),
		cmocka_unit_test(test_opc),
		cmocka_unit_test(test_admin_io_kind),
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_lba),
		cmocka_unit_test(test_latency),
		cmocka_unit_test(test_join),
		cmocka_unit_test(test_pci_errors),
		cmocka_unit_test(test_xport),
		cmocka_unit_test(test_doorbell),
		cmocka_unit_test(test_pci_queue),
		cmocka_unit_test(test_vector),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

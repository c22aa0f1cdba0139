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
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

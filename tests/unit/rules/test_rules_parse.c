/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Fault rules: the grammar.  What valid rules turn into (tap, filters,
 * triggers, action) and, for every kind of mistake, the exact message with
 * its column; a bad rule must leave the drive as it was.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "core/tap.h"
#include "rules/rules.h"
#include "rules/rules_internal.h"

static struct rule_spec spec;
static char err[2048];

static void parse_ok(const char *text)
{
	int rc = fdr_rule_parse(text, &spec, err, sizeof(err));

	if (rc)
		fail_msg("\"%s\" should parse, got: %s", text, err);
}

/* ---- Valid rules ---------------------------------------------------------------- */

static void test_defaults(void **state)
{
	(void)state;
	parse_ok("opc=write,status=1/0x82");
	assert_int_equal(spec.tap, FDR_TAP_IO_DECODE);
	assert_false(spec.admin);
	assert_false(spec.opc_any);
	assert_true(rule_opc_has(spec.opc, NVME_IO_WRITE));
	assert_false(rule_opc_has(spec.opc, NVME_IO_READ));
	assert_int_equal(spec.action, RULE_ACT_STATUS);
	assert_int_equal(spec.status, NVME_STATUS(1, 0x82));
	assert_int_equal(spec.every, 1);
	assert_int_equal(spec.after, 0);
	assert_int_equal(spec.times, 0);
	assert_false(spec.has_prob);

	/* No opc: every command of the set. */
	parse_ok("drop");
	assert_true(spec.opc_any);
	assert_int_equal(spec.tap, FDR_TAP_IO_DECODE);
	assert_int_equal(spec.action, RULE_ACT_DROP);

	/* Spaces around items are fine. */
	parse_ok(" opc = read , times = 3 , none ");
	assert_true(rule_opc_has(spec.opc, NVME_IO_READ));
	assert_int_equal(spec.times, 3);
	assert_int_equal(spec.action, RULE_ACT_NONE);
}

static void test_taps(void **state)
{
	(void)state;
	/* Admin commands go to the admin taps. */
	parse_ok("opc=identify,status=internal");
	assert_int_equal(spec.tap, FDR_TAP_ADMIN_DECODE);
	assert_true(spec.admin);
	parse_ok("opc=admin:0x80,drop");
	assert_int_equal(spec.tap, FDR_TAP_ADMIN_DECODE);
	assert_true(rule_opc_has(spec.opc, 0x80));
	parse_ok("set=admin,opc=0xc0,drop");
	assert_int_equal(spec.tap, FDR_TAP_ADMIN_DECODE);
	assert_true(rule_opc_has(spec.opc, 0xc0));
	parse_ok("opc=0x80,drop"); /* a bare number: I/O unless said */
	assert_int_equal(spec.tap, FDR_TAP_IO_DECODE);
	parse_ok("qid=0,cfs");
	assert_int_equal(spec.tap, FDR_TAP_ADMIN_DECODE);
	parse_ok("qid=2,cfs");
	assert_int_equal(spec.tap, FDR_TAP_IO_DECODE);
	/* Connect passes the admin taps, whatever queue it connects: qid=
	 * is that queue. */
	parse_ok("opc=connect,qid=1,delay=1s");
	assert_int_equal(spec.tap, FDR_TAP_ADMIN_DECODE);
	assert_true(spec.has_qid);
	assert_int_equal(spec.qid, 1);
	assert_true(rule_opc_has(spec.opc, NVME_ADM_FABRICS));
	assert_false(spec.fctype_any);
	assert_true(rule_opc_has(spec.fctype, NVME_FCTYPE_CONNECT));
	assert_false(rule_opc_has(spec.fctype, NVME_FCTYPE_PROPERTY_GET));
	parse_ok("opc=disconnect,drop"); /* I/O queues only */
	assert_int_equal(spec.tap, FDR_TAP_IO_DECODE);
	assert_true(rule_opc_has(spec.fctype, NVME_FCTYPE_DISCONNECT));
	parse_ok("opc=property-get,drop");
	assert_int_equal(spec.tap, FDR_TAP_ADMIN_DECODE); /* properties: admin queue only */
	assert_true(rule_opc_has(spec.fctype, NVME_FCTYPE_PROPERTY_GET));
	parse_ok("opc=admin:fabrics,drop");
	assert_int_equal(spec.tap, FDR_TAP_ADMIN_DECODE);
	assert_true(spec.fctype_any);

	/* corrupt: the data direction picks the stage. */
	parse_ok("opc=read,corrupt");
	assert_int_equal(spec.tap, FDR_TAP_IO_WRITEBACK);
	parse_ok("opc=write,corrupt");
	assert_int_equal(spec.tap, FDR_TAP_IO_EXECUTE);
	parse_ok("opc=write|compare,tap=nvme:io:execute,corrupt"); /* compare sends data */
	assert_int_equal(spec.tap, FDR_TAP_IO_EXECUTE);
	parse_ok("opc=get-log-page,corrupt=8");
	assert_int_equal(spec.tap, FDR_TAP_ADMIN_WRITEBACK);
	parse_ok("tap=writeback,corrupt");
	assert_int_equal(spec.tap, FDR_TAP_IO_WRITEBACK);

	/* tap= by full name or by stage */
	parse_ok("opc=write,tap=nvme:io:fetch,drop");
	assert_int_equal(spec.tap, FDR_TAP_IO_FETCH);
	parse_ok("opc=write,tap=execute,status=media");
	assert_int_equal(spec.tap, FDR_TAP_IO_EXECUTE);
	parse_ok("opc=write,tap=writeback,status=media");
	assert_int_equal(spec.tap, FDR_TAP_IO_WRITEBACK);
	parse_ok("set=admin,tap=writeback,delay=1ms");
	assert_int_equal(spec.tap, FDR_TAP_ADMIN_WRITEBACK);
	parse_ok("tap=nvme:admin:execute,aen=smart:ro");
	assert_int_equal(spec.tap, FDR_TAP_ADMIN_EXECUTE);
}

static void test_matches(void **state)
{
	(void)state;
	parse_ok("opc=read|write|compare,ns=3,qid=2,ctrl=7,lba=100-199,host=nqn.x:h,subsys=nqn.x:s,"
		 "drop");
	assert_true(rule_opc_has(spec.opc, NVME_IO_READ));
	assert_true(rule_opc_has(spec.opc, NVME_IO_WRITE));
	assert_true(rule_opc_has(spec.opc, NVME_IO_COMPARE));
	assert_false(rule_opc_has(spec.opc, NVME_IO_FLUSH));
	assert_true(spec.has_ns);
	assert_int_equal(spec.nsid, 3);
	assert_true(spec.has_qid);
	assert_int_equal(spec.qid, 2);
	assert_true(spec.has_ctrl);
	assert_int_equal(spec.cntlid, 7);
	assert_true(spec.has_lba);
	assert_int_equal(spec.lba_first, 100);
	assert_int_equal(spec.lba_last, 199);
	assert_string_equal(spec.host, "nqn.x:h");
	assert_string_equal(spec.subsys, "nqn.x:s");
	parse_ok("lba=0x10,drop");
	assert_int_equal(spec.lba_first, 16);
	assert_int_equal(spec.lba_last, 16);
	parse_ok("lba=1000-,drop");
	assert_int_equal(spec.lba_first, 1000);
	assert_int_equal(spec.lba_last, UINT64_MAX);
}

static void test_triggers(void **state)
{
	(void)state;
	parse_ok("name=w100,opc=write,after=99,times=1,action=none");
	assert_string_equal(spec.name, "w100");
	assert_int_equal(spec.after, 99);
	assert_int_equal(spec.times, 1);
	assert_int_equal(spec.action, RULE_ACT_NONE);
	parse_ok("opc=flush,when=w100,after=1,times=1,status=0/6");
	assert_string_equal(spec.when, "w100");
	assert_int_equal(spec.status, NVME_STATUS(0, 6));
	parse_ok("every=10,prob=0.01,seed=42,status=media");
	assert_int_equal(spec.every, 10);
	assert_true(spec.has_prob);
	assert_true(spec.prob == 0.01);
	assert_true(spec.has_seed);
	assert_int_equal(spec.seed, 42);
	parse_ok("prob=25%,drop");
	assert_true(spec.prob == 0.25);
	parse_ok("window=10:2,drop");
	assert_true(spec.has_window);
	assert_int_equal(spec.win_up_ns, 10000000000ull);
	assert_int_equal(spec.win_down_ns, 2000000000ull);
	parse_ok("window=1.5:250ms,drop");
	assert_int_equal(spec.win_up_ns, 1500000000ull);
	assert_int_equal(spec.win_down_ns, 250000000ull);
}

static void test_actions(void **state)
{
	(void)state;
	parse_ok("status=1/0x82/dnr");
	assert_int_equal(spec.status, NVME_STATUS(1, 0x82) | NVME_STATUS_DNR);
	parse_ok("status=2/129");
	assert_int_equal(spec.status, NVME_STATUS(2, 0x81));
	parse_ok("status=write-to-ro");
	assert_int_equal(spec.status, NVME_STATUS(1, 0x82));
	parse_ok("status=lba-out-of-range/dnr/more/crd=2");
	assert_int_equal(spec.status, NVME_STATUS(0, 0x80) | NVME_STATUS_DNR | NVME_STATUS_MORE |
					      (2u << 11));
	parse_ok("status=MEDIA");
	assert_int_equal(spec.status, NVME_STATUS(2, 0x81));
	parse_ok("success-no-write");
	assert_int_equal(spec.action, RULE_ACT_SUCCESS_NO_WRITE);
	assert_int_equal(spec.tap, FDR_TAP_IO_DECODE);
	parse_ok("delay=10ms");
	assert_int_equal(spec.delay_ns, 10000000);
	parse_ok("delay=2s");
	assert_int_equal(spec.delay_ns, 2000000000ull);
	parse_ok("delay=500us");
	assert_int_equal(spec.delay_ns, 500000);
	parse_ok("action=drop");
	assert_int_equal(spec.action, RULE_ACT_DROP);
	parse_ok("opc=read,corrupt");
	assert_int_equal(spec.corrupt_n, 1);
	assert_int_equal(spec.corrupt_mask, 0xff);
	assert_false(spec.corrupt_at);
	parse_ok("opc=read,corrupt=4:0x01@512");
	assert_int_equal(spec.corrupt_n, 4);
	assert_int_equal(spec.corrupt_mask, 1);
	assert_true(spec.corrupt_at);
	assert_int_equal(spec.corrupt_off, 512);
	parse_ok("opc=read,corrupt=@7");
	assert_int_equal(spec.corrupt_n, 1);
	assert_int_equal(spec.corrupt_off, 7);
	parse_ok("opc=read,corrupt=3,seed=9");
	assert_int_equal(spec.corrupt_n, 3);
	parse_ok("aen=smart:ro");
	assert_int_equal(spec.aen_type, NVME_AER_TYPE_SMART);
	assert_int_equal(spec.aen_info, NVME_AER_SMART_RELIABILITY);
	assert_int_equal(spec.aen_lid, NVME_LOG_SMART);
	assert_int_equal(spec.aen_crit, NVME_SMART_CRIT_READ_ONLY);
	assert_int_equal(spec.scope, RULE_SCOPE_SUBSYS);
	parse_ok("aen=notice:ns-changed,scope=ctrl");
	assert_true(spec.aen_ns_changed);
	assert_int_equal(spec.scope, RULE_SCOPE_CTRL);
	parse_ok("aen=7:0x10:0xc0");
	assert_int_equal(spec.aen_type, 7);
	assert_int_equal(spec.aen_info, 0x10);
	assert_int_equal(spec.aen_lid, 0xc0);
	parse_ok("cfs");
	assert_int_equal(spec.action, RULE_ACT_CFS);
	assert_int_equal(spec.scope, RULE_SCOPE_CTRL);
	parse_ok("cfs,scope=all");
	assert_int_equal(spec.scope, RULE_SCOPE_ALL);
}

/* ---- Errors ------------------------------------------------------------------------- */

static const struct {
	const char *text;
	const char *msg; /* the whole message, or its start if it ends in "..." */
} bad[] = {
	{"", "column 1: empty rule; expected key=value items separated by commas, e.g. "
	     "opc=write,after=2,times=1,status=write-to-ro"},
	{"opc=wrtie,status=media", "column 5: opc=wrtie: unknown opcode \"wrtie\"; expected a "
				   "command name (read, write, flush, ..."},
	{"opc=read|wrtie,drop", "column 10: opc=read|wrtie: unknown opcode \"wrtie\"..."},
	{"opc=read||write,drop", "column 5: opc=read||write: an empty opcode between '|'s; "
				 "expected OPC|OPC..."},
	{"opc=write,status=1//0x82", "column 18: status=1//0x82: an empty part between '/'s; "
				     "expected SCT/SC[/dnr], e.g. status=1/0x82/dnr"},
	{"opc=write,,drop", "column 11: empty item (two commas in a row, or a comma at the start "
			    "or end)"},
	{"opc=write,drop,", "column 16: empty item..."},
	{"opc=write", "column 10: the rule has no action; expected one of status=SCT/SC, "
		      "success-no-write, delay=TIME, drop, corrupt[=N], aen=EVENT, cfs or none"},
	{"opc=write,drop,status=media", "column 16: a second action (status); a rule has exactly "
					"one, and drop at column 11 is already it (to combine, "
					"add a second rule)"},
	{"opc=write,bogus=1,drop", "column 11: unknown key \"bogus\"; expected one of name, tap, "
				   "opc, ..."},
	{"=5,drop", "column 1: missing key before '='"},
	{"opc=write,opc=read,drop", "column 11: opc= given twice (first at column 1)"},
	{"opc=write,after=x,drop", "column 17: after=x: expected a whole number (decimal, or hex "
				   "with 0x)"},
	{"opc=write,after=-1,drop", "column 17: after=-1: expected a whole number..."},
	{"opc=write,every=0,drop", "column 17: every=0: out of range; expected 1 to ..."},
	{"opc=write,times=0,drop", "column 17: times=0: out of range; expected 1 to ..."},
	{"opc=write,ns=0x100000000,drop", "column 14: ns=0x100000000: out of range; expected 0 "
					  "to 4294967295"},
	{"opc=write,qid=70000,drop", "column 15: qid=70000: out of range; expected 0 to 65535"},
	{"opc=write,ns=,drop", "column 14: ns needs a value: ns=..."},
	{"opc=write,prob=1.5,drop", "column 16: prob=1.5: out of range; expected 0 to 1 (0% to "
				    "100%)"},
	{"opc=write,prob=abc,drop", "column 16: prob=abc: expected a probability from 0 to 1 (e.g. "
				    "prob=0.01) or a percentage (prob=1%)"},
	{"opc=write,status=9/1", "column 18: status=9/1: SCT 9 is out of range; expected 0-7"},
	{"opc=write,status=1/0x182", "column 18: status=1/0x182: SC 0x182 is out of range; "
				     "expected 0-255 (0xff)"},
	{"opc=write,status=1/x", "column 18: status=1/x: SC \"x\" is not a number; expected "
				 "0-255 (decimal, or hex with 0x)"},
	{"opc=write,status=1", "column 18: status=1: expected SCT/SC, e.g. status=1/0x82"},
	{"opc=write,status=bogus", "column 18: status=bogus: \"bogus\" is neither a status code "
				   "type nor a status name; expected SCT/SC[/dnr] (e.g. "
				   "status=1/0x82/dnr) or a name such as write-to-ro, media, "
				   "write-fault, internal, lba-out-of-range, invalid-field, aborted "
				   "(all in docs/rules.md)"},
	{"opc=write,status=1/0x82/xyz", "column 18: status=1/0x82/xyz: unknown flag \"xyz\"; "
					"expected dnr, more or crd=1..3"},
	{"opc=write,status", "column 11: status needs a value: status=SCT/SC[/dnr] or a name, "
			     "e.g. status=1/0x82/dnr"},
	{"opc=write,delay=10", "column 17: delay=10: expected a time above zero with its unit: "
			       "ns, us, ms, s or min (e.g. delay=10ms, delay=1.5s)"},
	{"opc=write,delay=0ms", "column 17: delay=0ms: expected a time above zero..."},
	{"opc=write,delay", "column 11: delay needs a value: delay=TIME, e.g. delay=10ms"},
	{"opc=write,drop=1", "column 16: drop takes no value (remove \"=1\")"},
	{"opc=write,action=delay", "column 18: action=delay: delay needs a value: delay=..."},
	{"opc=write,action=explode", "column 18: action=explode: unknown action; expected one of "
				     "status=SCT/SC, ..."},
	{"opc=flush,corrupt", "column 11: corrupt: Flush moves no data, so there is nothing to "
			      "corrupt"},
	{"opc=io:0x7f,corrupt", "column 13: corrupt: Fabrics moves data both ways; name the stage "
				"with tap=execute (data to the drive) or tap=writeback (data to the "
				"host)"},
	{"corrupt", "column 1: corrupt needs opc= (its data direction picks the stage), or "
		    "tap=execute to corrupt data the host sends or tap=writeback to corrupt data "
		    "the host reads"},
	{"opc=read|write,corrupt", "column 16: corrupt: Write moves data the other way than "
				   "Read; write two rules"},
	{"opc=read,tap=execute,corrupt", "column 10: tap=nvme:io:execute: at execute corrupt "
					 "changes data the host sent, but Read reads data from the "
					 "drive (leave tap= out: reads are corrupted at writeback)"},
	{"opc=write,tap=writeback,corrupt", "column 11: tap=nvme:io:writeback: at writeback "
					    "corrupt changes data the host reads, but Write sends "
					    "data to the drive (leave tap= out: writes are "
					    "corrupted at execute)"},
	{"opc=read,tap=decode,corrupt", "column 10: tap=nvme:io:decode: corrupt needs the data, "
					"which exists from execute on (data the host sends) or at "
					"writeback (data the host reads)"},
	{"opc=write,corrupt=0", "column 19: corrupt=0: \"0\" is not a byte count..."},
	{"opc=write,corrupt=1:0x100", "column 19: corrupt=1:0x100: mask \"0x100\" must be 1-255 "
				      "(0x01-0xff): the bits flipped in each byte"},
	{"opc=write,corrupt=1@x", "column 19: corrupt=1@x: \"@x\" is not a byte offset..."},
	{"opc=write,tap=writeback,success-no-write",
	 "column 11: tap=nvme:io:writeback: success-no-write skips the command, but at writeback "
	 "it has already run; use fetch, decode (the default) or execute"},
	{"opc=write,tap=nvme:admin:decode,drop", "column 15: tap=nvme:admin:decode is for admin "
						 "commands, but opc=write at column 5 is for I/O "
						 "commands"},
	{"set=admin,opc=write,drop", "column 15: opc=write is for I/O commands, but set=admin at "
				     "column 5 is for admin commands"},
	{"opc=identify,qid=1,drop", "column 18: qid=1 is for I/O commands, but opc=identify at "
				    "column 5 is for admin commands"},
	{"opc=connect,set=io,drop", "column 17: set=io is for I/O commands, but Connect "
				    "(opc=connect) passes the admin taps whatever queue it connects; "
				    "pick the queue with qid="},
	{"opc=connect|write,drop", "column 13: opc=write is for I/O commands, but Connect "
				   "(opc=connect|write) passes the admin taps whatever queue it "
				   "connects; pick the queue with qid="},
	{"opc=write,set=foo,drop", "column 15: set=foo: expected admin or io"},
	{"opc=write,tap=tcp:pdu:recv,drop", "column 15: tap=tcp:pdu:recv: rules attach to command "
					    "taps only: ..."},
	{"opc=write,tap=pci:msix:writeback,drop", "column 15: tap=pci:msix:writeback: rules attach "
						  "to command taps only: ..."},
	{"opc=write,tap=nosuch,drop", "column 15: tap=nosuch: no such tap; expected nvme:io:STAGE, "
				      "nvme:admin:STAGE or just STAGE, with STAGE one of fetch, "
				      "decode, execute, writeback"},
	{"set=admin,lba=1-2,drop", "column 15: lba= is for I/O commands, but set=admin at column "
				   "5 is for admin commands"},
	{"opc=flush,lba=1-2,drop", "column 11: lba= needs commands with an LBA range (read, "
				   "write, compare, write-zeroes, write-uncorrectable, verify), "
				   "but Flush has none"},
	{"opc=write,lba=200-100,drop", "column 15: lba=200-100: the range is backwards (200 > "
				       "100)"},
	{"opc=write,lba=a-b,drop", "column 15: lba=a-b: expected an LBA or a range FIRST-LAST..."},
	{"opc=write,window=10,drop", "column 18: window=10: expected UP:DOWN, the time healthy "
				     "then the time faulty, cycling (seconds, or with a unit), e.g. "
				     "window=10:2"},
	{"opc=write,window=10:0,drop", "column 21: window=10:0: DOWN must be above zero, or the "
				       "rule never fires"},
	{"opc=write,window=x:1,drop", "column 18: window=x:1: UP \"x\" is not a time..."},
	{"opc=write,seed=4,drop", "column 11: seed= seeds prob= (and where corrupt= flips bytes), "
				  "but the rule has neither"},
	{"opc=write,scope=all,drop", "column 11: scope= applies to aen= and cfs only, not to drop"},
	{"opc=write,scope=world,cfs", "column 17: scope=world: expected ctrl, subsys or all"},
	{"opc=write,name=1abc,drop", "column 16: name=1abc: expected a letter, then letters, "
				     "digits, '_', '-' or '.', at most 63 characters"},
	{"opc=write,name=a,when=a,drop", "column 23: when=a: a rule cannot wait for itself"},
	{"opc=write,when=no$,drop", "column 16: when=no$: expected the name= of another rule"},
	{"opc=write,aen=smart:foo", "column 15: aen=smart:foo: unknown event; expected one of "
				    "smart:reliability, ..."},
	{"opc=write,aen=9:0:2", "column 15: aen=9:0:2: event type 9 is out of range; expected "
				"0-7"},
};

static void test_errors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *m = bad[i].msg;
		size_t n = strlen(m);
		bool prefix = n > 3 && strcmp(m + n - 3, "...") == 0;
		int id;

		err[0] = 0;
		id = fdr_rule_add(bad[i].text, err, sizeof(err));
		if (id != -1)
			fail_msg("\"%s\" was accepted", bad[i].text);
		if (prefix ? strncmp(err, m, n - 3) != 0 : strcmp(err, m) != 0)
			fail_msg("\"%s\":\n got    \"%s\"\n wanted \"%s\"", bad[i].text, err, m);
		/* Fits the control socket's 512-byte error buffer. */
		if (strlen(err) >= 500)
			fail_msg("\"%s\": message of %zu bytes", bad[i].text, strlen(err));
	}
	/* Nothing was attached. */
	for (int t = 0; t < FDR_TAP_NR; t++)
		assert_false(fdr_tap_on((enum fdr_tap_id)t));
}

/* ---- The list ------------------------------------------------------------------------- */

struct seen {
	unsigned n;
	unsigned id[8];
	char text[8][128];
	char tap[8][32];
	bool armed[8];
};

static void collect(const struct fdr_rule_info *ri, void *arg)
{
	struct seen *s = arg;

	if (s->n < 8) {
		s->id[s->n] = ri->id;
		snprintf(s->text[s->n], sizeof(s->text[0]), "%s", ri->text);
		snprintf(s->tap[s->n], sizeof(s->tap[0]), "%s", ri->tap);
		s->armed[s->n] = ri->armed;
	}
	s->n++;
}

static void test_list(void **state)
{
	struct seen s = {0};
	int a, b, c;

	(void)state;
	a = fdr_rule_add("name=first,opc=write,after=9,times=1,none", err, sizeof(err));
	assert_true(a > 0);
	b = fdr_rule_add("opc=flush,when=first,status=internal", err, sizeof(err));
	assert_int_equal(b, a + 1);
	c = fdr_rule_add("opc=read,prob=0.5,drop", err, sizeof(err)); /* gets a seed */
	assert_int_equal(c, b + 1);
	assert_true(fdr_tap_on(FDR_TAP_IO_DECODE));

	/* Names are unique; when= needs an existing rule. */
	assert_int_equal(fdr_rule_add("name=first,opc=read,drop", err, sizeof(err)), -1);
	assert_string_equal(err, "column 6: name=first: rule 1 already has that name");
	assert_int_equal(fdr_rule_add("opc=read,when=nobody,drop", err, sizeof(err)), -1);
	assert_string_equal(err, "column 15: when=nobody: no rule is named nobody (add it first)");

	assert_int_equal(fdr_rule_find("first"), a);
	assert_int_equal(fdr_rule_find("second"), -ENOENT);

	fdr_rule_foreach(collect, &s);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.id[0], a);
	assert_string_equal(s.text[0], "name=first,opc=write,after=9,times=1,none");
	assert_string_equal(s.tap[0], "nvme:io:decode");
	assert_true(s.armed[0]);
	assert_false(s.armed[1]); /* waits for "first" */
	assert_int_equal(strncmp(s.text[2], "opc=read,prob=0.5,drop,seed=", 28), 0);

	assert_int_equal(fdr_rule_del(b), 0);
	assert_int_equal(fdr_rule_del(b), -ENOENT);
	assert_int_equal(fdr_rule_del(999), -ENOENT);
	fdr_rules_clear();
	s.n = 0;
	fdr_rule_foreach(collect, &s);
	assert_int_equal(s.n, 0);
	for (int t = 0; t < FDR_TAP_NR; t++)
		assert_false(fdr_tap_on((enum fdr_tap_id)t));
	/* Ids are not reused. */
	c = fdr_rule_add("drop", err, sizeof(err));
	assert_true(c > b + 1);
	fdr_rules_clear();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults), cmocka_unit_test(test_taps),
		cmocka_unit_test(test_matches),  cmocka_unit_test(test_triggers),
		cmocka_unit_test(test_actions),  cmocka_unit_test(test_errors),
		cmocka_unit_test(test_list),
	};

	fdr_log_set_level(FDR_LOG_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The Wireshark dissector tools/nvmedump/frankendrive.lua, end to end:
 * write a ring with the recorder's own writer, turn it into pcapng with the
 * built nvmedump (argv[1]: nvmedump -r RING -w FILE) and read that with
 * tshark and the dissector (argv[2]), checking the decoded fields and the
 * Info column.
 *
 * TAP (meson protocol 'tap', CMOCKA_MESSAGE_OUTPUT=TAP): without a tshark
 * that has Lua the whole test is skipped ("1..0 # SKIP"); set TSHARK to use
 * another tshark than the one on PATH.
 */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "e2e_util.h"

#include "recorder/recorder.h"

static const char *nvmedump, *lua, *tshark;
static char dir[64], ring[128], pcap[128], outf[128], errf[128];
static char out[65536], err[16384];


/* Run a shell command; exit code, stdout in out, stderr in err. */
static int run(const char *cmd)
{
	return e2e_system(cmd, outf, out, sizeof(out), errf, err, sizeof(err));
}

/*
 * tshark with the dissector on the pcapng file; args are the rest of its
 * command line.  HOME points into the test's directory so that a copy of
 * the dissector in the user's personal plug-in folder does not load twice.
 */
static void tshark_run(const char *args)
{
	char cmd[2048];

	snprintf(cmd, sizeof(cmd),
		 "HOME='%s' XDG_CONFIG_HOME='%s' '%s' -X 'lua_script:%s' -r '%s' %s", dir, dir,
		 tshark, lua, pcap, args);
	/* failed, or a script that did not load, or a Lua error while dissecting */
	if (run(cmd) != 0 || strstr(err, "Lua") || strstr(err, "lua")) {
		fprintf(stderr, "%s\nfailed or complained:\n%s\n", cmd, err);
		fail();
	}
	assert_null(strstr(out, "Lua Error"));
}

static void emit_reg(uint16_t kind, uint32_t offset, uint32_t size, uint64_t value)
{
	struct fdr_rec_event *ev = fdr_rec_begin(kind);

	assert_non_null(ev);
	ev->cntlid = 1;
	ev->u.reg.offset = offset;
	ev->u.reg.size = size;
	ev->u.reg.value = value;
	fdr_rec_commit(ev);
}

#define PCI_06 FDR_REC_PCI_CONN(1, 0x30) /* 00:06.0, attach generation 1 */

/* A PCIe function's event: its header. */
static struct fdr_rec_event *emit_pci(uint16_t kind, uint16_t qid)
{
	struct fdr_rec_event *ev = fdr_rec_begin(kind);

	assert_non_null(ev);
	ev->xport = FDR_REC_XPORT_PCIE;
	ev->conn = PCI_06;
	ev->cntlid = 2;
	ev->qid = qid;
	ev->admin = qid == 0;
	return ev;
}

static void emit_pci_access(uint16_t kind, uint32_t offset, uint32_t size, uint64_t value)
{
	struct fdr_rec_event *ev = emit_pci(kind, 0);

	ev->u.reg.offset = offset;
	ev->u.reg.size = size;
	ev->u.reg.value = value;
	fdr_rec_commit(ev);
}

/* An MSI-X interrupt for CQ cqid. */
static void emit_pci_irq(uint16_t cqid, uint16_t vector, uint16_t entries, uint8_t what)
{
	struct fdr_rec_event *ev = emit_pci(FDR_REC_IRQ, cqid);

	ev->u.irq.type = FDR_REC_IRQ_MSIX;
	ev->u.irq.vector = vector;
	ev->u.irq.cqid = cqid;
	ev->u.irq.entries = entries;
	ev->u.irq.what = what;
	fdr_rec_commit(ev);
}

/* [10]... a PCIe function's events */
static void emit_pci_events(void)
{
	struct fdr_rec_event *ev;

	/* [10] SQ 2 Tail Doorbell (1000h + 4 * 4), [11] CC, [12] an MSI-X
	 * table entry, [13] config space */
	emit_pci_access(FDR_REC_REG_WRITE, 0x1010, 4, 0x21);
	emit_pci_access(FDR_REC_REG_WRITE, 0x14, 4, 0x00460001);
	emit_pci_access(FDR_REC_REG_WRITE, 0x203c, 4, 1);
	emit_pci_access(FDR_REC_CFG_WRITE, 0x04, 2, 0x0006);
	/* [14] an interrupt, [15] a masked one, [16] a DMA error */
	emit_pci_irq(1, 1, 4, FDR_REC_IRQ_SENT);
	emit_pci_irq(2, 3, 1, FDR_REC_IRQ_PENDING);
	ev = emit_pci(FDR_REC_DMA_ERR, 1);
	ev->cid = 3;
	ev->u.dma.addr = 0x10001000;
	ev->u.dma.len = 4096;
	ev->u.dma.what = FDR_REC_DMA_DATA;
	fdr_rec_commit(ev);
	/* [17] the host that attached */
	ev = emit_pci(FDR_REC_CONNECT, 0);
	ev->cntlid = 0;
	strcpy(ev->u.text, "/tmp/fd/cntrl");
	ev->len = (uint16_t)strlen(ev->u.text);
	fdr_rec_commit(ev);
}

static void emit_text(uint16_t kind, uint32_t conn, const char *text)
{
	struct fdr_rec_event *ev = fdr_rec_begin(kind);

	assert_non_null(ev);
	ev->cntlid = 0xffff;
	ev->conn = conn;
	ev->len = (uint16_t)strlen(text);
	memcpy(ev->u.text, text, strlen(text));
	fdr_rec_commit(ev);
}

static int setup(void **state)
{
	struct fdr_rec_opts o = {.nr_slots = 64, .dev = "nqn.2024-01.test:lua"};
	struct fdr_rec_event *ev;
	char e[256], cmd[1024];

	(void)state;
	strcpy(dir, "/tmp/nvmedump-lua.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(ring, sizeof(ring), "%s/ring", dir);
	snprintf(pcap, sizeof(pcap), "%s/out.pcapng", dir);
	snprintf(outf, sizeof(outf), "%s/out", dir);
	snprintf(errf, sizeof(errf), "%s/err", dir);
	o.path = ring;
	if (fdr_rec_open(&o, e, sizeof(e)) != 0) {
		fprintf(stderr, "fdr_rec_open: %s\n", e);
		return -1;
	}
	/* [0] the host enables the controller, [1] waits for RDY */
	emit_reg(FDR_REC_REG_WRITE, 0x14, 4, 0x00460001);
	emit_reg(FDR_REC_REG_READ, 0x1c, 4, 0x1);
	/* [2] [3] doorbells: SQ 1 tail (1000h + 2*4), CQ 1 head (1000h + 3*4) */
	emit_reg(FDR_REC_REG_WRITE, 0x1008, 4, 5);
	emit_reg(FDR_REC_REG_WRITE, 0x100c, 4, 4);
	/* [4] CAP, 8 bytes */
	emit_reg(FDR_REC_REG_READ, 0x0, 8, 0x000000201401007full);
	/* [5] Notice: Namespace Attribute Changed, log page 04h */
	ev = fdr_rec_begin(FDR_REC_AEN);
	if (!ev)
		return -1;
	ev->cntlid = 1;
	ev->u.cpl.cqe.cdw0 = 0x00040002;
	fdr_rec_commit(ev);
	/* [6] a rule completed a command */
	ev = fdr_rec_begin(FDR_REC_ACTION);
	if (!ev)
		return -1;
	ev->cntlid = 1;
	ev->qid = 1;
	ev->cid = 3;
	strcpy(ev->u.action.who, "rule 3");
	strcpy(ev->u.action.what, "completed at decode with 02h/81h");
	ev->u.action.tap = 2;
	fdr_rec_commit(ev);
	/* [7] [8] a connection */
	emit_text(FDR_REC_CONNECT, 7, "192.0.2.1:51234");
	emit_text(FDR_REC_DISCONNECT, 7, "peer closed");
	/* [9] a kind from the future */
	ev = fdr_rec_begin(200);
	if (!ev)
		return -1;
	ev->cntlid = 1;
	ev->len = 4;
	memcpy(ev->u.text, "\xde\xad\xbe\xef", 4);
	fdr_rec_commit(ev);
	emit_pci_events();

	snprintf(cmd, sizeof(cmd), "'%s' -r '%s' -w '%s'", nvmedump, ring, pcap);
	if (run(cmd) != 0) {
		fprintf(stderr, "nvmedump -w failed:\n%s\n", err);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	char cmd[256];

	(void)state;
	fdr_rec_close();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Registers, Info column and Protocol column of every frankendrive record. */
static void test_info(void **state)
{
	static const char expect[] =
		"0|6|CC|0x0000000000460001|frankendrive|"
		"CC write: EN=1 CSS=0 MPS=0 AMS=0 SHN=0 IOSQES=6 IOCQES=4\n"
		"1|5|CSTS|0x0000000000000001|frankendrive|CSTS read: RDY=1 CFS=0 SHST=0\n"
		"2|6|SQ 1 Tail Doorbell|0x0000000000000005|frankendrive|SQ 1 Tail Doorbell write: 5\n"
		"3|6|CQ 1 Head Doorbell|0x0000000000000004|frankendrive|CQ 1 Head Doorbell write: 4\n"
		"4|5|CAP|0x000000201401007f|frankendrive|"
		"CAP read: MQES=127 CQR=1 AMS=0 TO=20 DSTRD=0 NSSRS=0 CSS=0x01 MPSMIN=0 MPSMAX=0\n"
		"5|7|||frankendrive|AEN cdw0=0x00040002 (Notice: Namespace Attribute Changed) LID=0x04\n"
		"6|10|||frankendrive|ACT SQ=1 CID=0003 tap=2 rule 3: completed at decode with 02h/81h\n"
		"7|8|||frankendrive|CONN conn=7 192.0.2.1:51234\n"
		"8|9|||frankendrive|DISC conn=7 peer closed\n"
		"9|200|||frankendrive|kind 200 len=4\n"
		"10|6|SQ 2 Tail Doorbell|0x0000000000000021|frankendrive|SQ 2 Tail Doorbell write: 33\n"
		"11|6|CC|0x0000000000460001|frankendrive|"
		"CC write: EN=1 CSS=0 MPS=0 AMS=0 SHN=0 IOSQES=6 IOCQES=4\n"
		"12|6|MSI-X 3 Vector Control|0x0000000000000001|frankendrive|"
		"MSI-X 3 Vector Control write: 0x00000001\n"
		"13|13|||frankendrive|CFG 0004 <- 0006 (Command)\n"
		"14|14|||frankendrive|IRQ MSI-X vector=1 CQ=1 entries=4 sent\n"
		"15|14|||frankendrive|IRQ MSI-X vector=3 CQ=2 entries=1 pending (masked)\n"
		"16|15|||frankendrive|DMA SQ=1 CID=0003 ERR read addr=10001000 len=4096 (data)\n"
		"17|8|||frankendrive|CONN 00:06.0 gen=1 /tmp/fd/cntrl\n";

	(void)state;
	tshark_run("-Y frankendrive -T fields -E separator='|' -e frankendrive.index "
		   "-e frankendrive.kind -e frankendrive.reg.name -e frankendrive.reg.value "
		   "-e _ws.col.Protocol -e _ws.col.Info");
	assert_string_equal(out, expect);
}

/* The decoded sub-fields. */
static void test_fields(void **state)
{
	(void)state;
	tshark_run("-Y 'frankendrive.reg.name == \"CC\"' -T fields -E separator='|' "
		   "-e frankendrive.reg.write -e frankendrive.reg.cc.en -e frankendrive.reg.cc.iosqes "
		   "-e frankendrive.reg.cc.iocqes -e frankendrive.cntlid");
	assert_string_equal(out, "1|1|6|4|1\n"
				 "1|1|6|4|2\n"); /* and the PCIe function's */

	tshark_run("-Y 'frankendrive.reg.name == \"CSTS\"' -T fields -E separator='|' "
		   "-e frankendrive.reg.write -e frankendrive.reg.csts.rdy -e frankendrive.reg.csts.cfs "
		   "-e frankendrive.reg.csts.shst");
	assert_string_equal(out, "0|1|0|0\n");

	tshark_run("-Y 'frankendrive.reg.db.qid' -T fields -E separator='|' "
		   "-e frankendrive.reg.offset -e frankendrive.reg.db.queue -e frankendrive.reg.db.qid "
		   "-e frankendrive.reg.db.value");
	assert_string_equal(out, "0x00001008|SQ Tail|1|5\n"
				 "0x0000100c|CQ Head|1|4\n"
				 "0x00001010|SQ Tail|2|33\n");

	tshark_run("-Y 'frankendrive.aen.cdw0' -T fields -E separator='|' "
		   "-e frankendrive.aen.type -e frankendrive.aen.type_name -e frankendrive.aen.info_name "
		   "-e frankendrive.aen.lid -e frankendrive.aen.lid_name");
	assert_string_equal(out, "2|Notice|Namespace Attribute Changed|0x04|Changed Namespace List\n");

	tshark_run("-Y 'frankendrive.action.who' -T fields -E separator='|' "
		   "-e frankendrive.qid -e frankendrive.cid -e frankendrive.action.who "
		   "-e frankendrive.action.what -e frankendrive.action.tap");
	assert_string_equal(out, "1|0x0003|rule 3|completed at decode with 02h/81h|2\n");

	tshark_run("-Y 'frankendrive.text' -T fields -E separator='|' "
		   "-e frankendrive.kind -e frankendrive.conn -e frankendrive.text");
	assert_string_equal(out, "8|7|192.0.2.1:51234\n"
				 "9|7|peer closed\n"
				 "8|65584|/tmp/fd/cntrl\n"); /* 00:06.0, generation 1 */

	tshark_run("-Y 'frankendrive.kind == 200' -T fields -E separator='|' "
		   "-e frankendrive.kind_name -e frankendrive.len -e frankendrive.payload");
	assert_true(!strncmp(out, "kind 200|4|deadbeef000000", 25));
}

/* A PCIe function's events: the transport, the PCI address, and the
 * fields of the kinds it adds. */
static void test_pci_fields(void **state)
{
	(void)state;
	tshark_run("-Y 'frankendrive.pci == \"00:06.0\"' -T fields -E separator='|' "
		   "-e frankendrive.index -e frankendrive.xport -e frankendrive.pci.bus "
		   "-e frankendrive.pci.dev -e frankendrive.pci.fn -e frankendrive.pci.gen "
		   "-e frankendrive.kind_name");
	assert_string_equal(out, "10|1|0x00|0x06|0|1|REG_WRITE\n"
				 "11|1|0x00|0x06|0|1|REG_WRITE\n"
				 "12|1|0x00|0x06|0|1|REG_WRITE\n"
				 "13|1|0x00|0x06|0|1|CFG_WRITE\n"
				 "14|1|0x00|0x06|0|1|IRQ\n"
				 "15|1|0x00|0x06|0|1|IRQ\n"
				 "16|1|0x00|0x06|0|1|DMA_ERR\n"
				 "17|1|0x00|0x06|0|1|CONNECT\n");
	tshark_run("-Y 'frankendrive.xport == 0' -T fields -e frankendrive.index");
	assert_string_equal(out, "0\n1\n2\n3\n4\n5\n6\n7\n8\n9\n");

	tshark_run("-Y 'frankendrive.reg.msix.vector' -T fields -E separator='|' "
		   "-e frankendrive.reg.msix.vector -e frankendrive.reg.name");
	assert_string_equal(out, "3|MSI-X 3 Vector Control\n");

	tshark_run("-Y 'frankendrive.cfg.name' -T fields -E separator='|' "
		   "-e frankendrive.cfg.offset -e frankendrive.cfg.size -e frankendrive.cfg.value "
		   "-e frankendrive.cfg.write -e frankendrive.cfg.name");
	assert_string_equal(out, "0x00000004|2|0x0000000000000006|1|Command\n");

	tshark_run("-Y 'frankendrive.kind == 14' -T fields -E separator='|' "
		   "-e frankendrive.irq.type -e frankendrive.irq.vector -e frankendrive.irq.cqid "
		   "-e frankendrive.irq.entries -e frankendrive.irq.what");
	assert_string_equal(out, "0|1|1|4|0\n"
				 "0|3|2|1|1\n");

	tshark_run("-Y 'frankendrive.dma.what == 0' -T fields -E separator='|' "
		   "-e frankendrive.qid -e frankendrive.cid -e frankendrive.dma.addr "
		   "-e frankendrive.dma.len -e frankendrive.dma.write");
	assert_string_equal(out, "1|0x0003|0x0000000010001000|4096|0\n");
}

/* Each record's comment is nvmedump's text line; for the kinds whose Info
 * follows nvmedump's text the two agree. */
static void test_comments(void **state)
{
	char *line, *save = NULL;
	int n = 0;

	(void)state;
	tshark_run("-Y 'frankendrive.kind in {7, 8, 9, 10, 13, 14, 15}' -T fields -E separator='|' "
		   "-e _ws.col.Info -e frame.comment");
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *sep = strchr(line, '|');

		assert_non_null(sep);
		*sep = '\0';
		if (!strstr(sep + 1, line)) {
			fprintf(stderr, "Info '%s' is not in the comment '%s'\n", line, sep + 1);
			fail();
		}
		n++;
	}
	assert_int_equal(n, 4 + 5);
}

/* Is there a tshark with Lua? */
static bool have_tshark(void)
{
	char cmd[512];
	int st;

	snprintf(cmd, sizeof(cmd), "'%s' -v 2>/dev/null | grep -q 'with Lua'", tshark);
	st = system(cmd);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_info),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_pci_fields),
		cmocka_unit_test(test_comments),
	};

	if (argc < 3) {
		fprintf(stderr, "usage: %s NVMEDUMP FRANKENDRIVE.LUA\n", argv[0]);
		return 2;
	}
	nvmedump = argv[1];
	lua = argv[2];
	tshark = getenv("TSHARK");
	if (!tshark || !*tshark)
		tshark = "tshark";
	if (!have_tshark()) {
		printf("1..0 # SKIP no tshark with Lua (%s)\n", tshark);
		return 0;
	}
	return cmocka_run_group_tests(tests, setup, teardown);
}

/* SPDX-License-Identifier: BSD-2-Clause */
/* nvmedump's text format: every kind of event against an exact line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <frankendrive/nvme_tcp.h>

#include "format.h"

#define WALL 1556804537200909267ull

static struct fdr_rec_event mkev(uint16_t kind, uint64_t seq, uint16_t cntlid)
{
	struct fdr_rec_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.kind = kind;
	ev.seq = seq;
	ev.wall_ns = WALL;
	ev.cntlid = cntlid;
	return ev;
}

static void expect_line(const struct fdr_rec_event *ev, const char *want)
{
	char buf[NVMEDUMP_LINE_MAX];
	size_t n = nvmedump_format(ev, buf, sizeof(buf));

	assert_string_equal(buf, want);
	assert_int_equal(n, strlen(want));
}

static void test_admin_identify(void **state)
{
	struct fdr_rec_event ev = mkev(FDR_REC_CMD, 590, 0);

	ev.admin = 1;
	ev.u.cmd.sqe.opc = NVME_ADM_IDENTIFY;
	ev.u.cmd.sqe.dptr.prp1 = 0xbfb24000;
	ev.u.cmd.sqe.cdw10 = 1;
	expect_line(&ev, "[589] 1556804537:200909267 - ADM SQ=0 CID=0000 OPC=Identify NSID=0 "
			 "prp1=bfb24000 prp2=0 CDW10=00000001 (Identify Controller)");
}

static void test_admin_features(void **state)
{
	struct fdr_rec_event ev = mkev(FDR_REC_CMD, 1, 3);

	ev.admin = 1;
	ev.u.cmd.sqe.opc = NVME_ADM_SET_FEATURES;
	ev.u.cmd.sqe.cid = 0x1a;
	ev.u.cmd.sqe.cdw10 = 0x06;
	ev.u.cmd.sqe.cdw11 = 1;
	expect_line(&ev, "[0] 1556804537:200909267 ctrl3 ADM SQ=0 CID=001a OPC=Set Features "
			 "NSID=0 prp1=0 prp2=0 CDW10=00000006 CDW11=00000001 (Volatile Write Cache)");
}

static void test_admin_unknown_opc(void **state)
{
	struct fdr_rec_event ev = mkev(FDR_REC_CMD, 2, 1);

	ev.admin = 1;
	ev.u.cmd.sqe.opc = 0xc1;
	expect_line(&ev, "[1] 1556804537:200909267 ctrl1 ADM SQ=0 CID=0000 OPC=Vendor Specific "
			 "(c1h) NSID=0 prp1=0 prp2=0 CDW10=00000000");
}

static void test_io_read(void **state)
{
	struct fdr_rec_event ev = mkev(FDR_REC_CMD, 607, 1);

	ev.qid = 1;
	ev.u.cmd.sqe.opc = NVME_IO_READ;
	ev.u.cmd.sqe.nsid = 1;
	ev.u.cmd.sqe.cdw10 = 0x10;
	ev.u.cmd.sqe.cdw11 = 0x1;
	ev.u.cmd.sqe.cdw12 = 7;
	ev.u.cmd.sqe.dptr.prp1 = 0xbffc7000;
	expect_line(&ev, "[606] 1556804537:200909267 ctrl1 IO SQ=1 CID=0000 OPC=Read NSID=0x1 "
			 "LBA=4294967312 NLB=8 prp1=bffc7000 prp2=0");
}

static void test_io_write_sgl(void **state)
{
	struct fdr_rec_event ev = mkev(FDR_REC_CMD, 10, 1);

	ev.qid = 2;
	ev.u.cmd.sqe.opc = NVME_IO_WRITE;
	ev.u.cmd.sqe.cid = 0xbeef;
	ev.u.cmd.sqe.nsid = 2;
	ev.u.cmd.sqe.flags = NVME_PSDT_SGL_MPTR_CONTIG << NVME_CMD_FLAGS_PSDT_SHIFT;
	ev.u.cmd.sqe.dptr.sgl1.addr = 0x1000;
	ev.u.cmd.sqe.dptr.sgl1.length = 4096;
	ev.u.cmd.sqe.dptr.sgl1.type = 0x5a;
	ev.u.cmd.sqe.cdw10 = 100;
	expect_line(&ev, "[9] 1556804537:200909267 ctrl1 IO SQ=2 CID=beef OPC=Write NSID=0x2 "
			 "LBA=100 NLB=1 SGL=5a addr=1000 len=4096");
}

static void test_io_write_zeroes_and_flush(void **state)
{
	struct fdr_rec_event ev = mkev(FDR_REC_CMD, 11, 1);

	ev.qid = 1;
	ev.u.cmd.sqe.opc = NVME_IO_WRITE_ZEROES;
	ev.u.cmd.sqe.nsid = 1;
	ev.u.cmd.sqe.cdw12 = 0xffff;
	expect_line(&ev, "[10] 1556804537:200909267 ctrl1 IO SQ=1 CID=0000 OPC=Write Zeroes "
			 "NSID=0x1 LBA=0 NLB=65536");
	ev.u.cmd.sqe.opc = NVME_IO_FLUSH;
	ev.u.cmd.sqe.cdw12 = 0;
	ev.u.cmd.sqe.nsid = 0xffffffff;
	expect_line(&ev, "[10] 1556804537:200909267 ctrl1 IO SQ=1 CID=0000 OPC=Flush "
			 "NSID=0xffffffff prp1=0 prp2=0 CDW10=00000000");
}

static void test_fabrics(void **state)
{
	struct fdr_rec_event ev = mkev(FDR_REC_CMD, 1, 0);

	ev.admin = 1;
	ev.u.cmd.sqe.opc = NVME_ADM_FABRICS;
	ev.u.cmd.sqe.nsid = NVME_FCTYPE_CONNECT;
	ev.u.cmd.sqe.cdw10 = 0u << 16 | 0;
	ev.u.cmd.sqe.cdw11 = 31;
	ev.u.cmd.sqe.cdw12 = 120000;
	ev.u.cmd.sqe.flags = NVME_PSDT_SGL_MPTR_CONTIG << NVME_CMD_FLAGS_PSDT_SHIFT;
	ev.u.cmd.sqe.dptr.sgl1.length = 1024;
	ev.u.cmd.sqe.dptr.sgl1.type = 0x01;
	expect_line(&ev, "[0] 1556804537:200909267 - ADM SQ=0 CID=0000 OPC=Connect FCTYPE=01 "
			 "RECFMT=0 QID=0 SQSIZE=31 CATTR=00 KATO=120000 SGL=01 addr=0 len=1024");

	ev = mkev(FDR_REC_CMD, 2, 1);
	ev.admin = 1;
	ev.u.cmd.sqe.opc = NVME_ADM_FABRICS;
	ev.u.cmd.sqe.nsid = NVME_FCTYPE_PROPERTY_SET;
	ev.u.cmd.sqe.cdw11 = NVME_REG_CC;
	ev.u.cmd.sqe.cdw12 = 0x00460001;
	expect_line(&ev, "[1] 1556804537:200909267 ctrl1 ADM SQ=0 CID=0000 OPC=Property Set "
			 "FCTYPE=00 OFST=0014 SIZE=4 VALUE=00460001 (CC)");

	ev.u.cmd.sqe.nsid = NVME_FCTYPE_PROPERTY_GET;
	ev.u.cmd.sqe.cdw10 = 1;
	ev.u.cmd.sqe.cdw11 = NVME_REG_CAP;
	expect_line(&ev, "[1] 1556804537:200909267 ctrl1 ADM SQ=0 CID=0000 OPC=Property Get "
			 "FCTYPE=04 OFST=0000 SIZE=8 (CAP)");
}

static void test_cpl_ok(void **state)
{
	struct fdr_rec_event ev = mkev(FDR_REC_CPL, 608, 1);

	ev.qid = 1;
	ev.u.cpl.cqe.status = 1; /* phase */
	ev.u.cpl.opc = NVME_IO_READ;
	ev.u.cpl.latency_ns = 12345;
	expect_line(&ev, "[607] 1556804537:200909267 ctrl1 CPL SQ=1 CID=0000 P=1 STS=0x0000 "
			 "CDW0=0 LAT=12.3us OPC=Read");
}

static void test_cpl_error(void **state)
{
	struct fdr_rec_event ev = mkev(FDR_REC_CPL, 5, 2);

	ev.qid = 1;
	ev.u.cpl.cqe.cid = 7;
	ev.u.cpl.cqe.cdw0 = 0xddbebac0;
	ev.u.cpl.cqe.status = (uint16_t)((NVME_STATUS(NVME_SCT_COMMAND_SPECIFIC, 0x82) |
					  NVME_STATUS_DNR) << 1);
	ev.u.cpl.opc = NVME_IO_WRITE;
	ev.u.cpl.latency_ns = 2500000;
	expect_line(&ev, "[4] 1556804537:200909267 ctrl2 CPL SQ=1 CID=0007 P=0 STS=0x4182 "
			 "CDW0=0xddbebac0 (WRITE TO RO PAGE) LAT=2.50ms OPC=Write");

	/* The same status for a Fabrics command has its Fabrics meaning */
	ev.admin = 1;
	ev.qid = 0;
	ev.u.cpl.opc = NVME_ADM_FABRICS;
	ev.u.cpl.fctype = NVME_FCTYPE_CONNECT;
	ev.u.cpl.cqe.cdw0 = 0;
	ev.u.cpl.cqe.cdw1 = 0x10;
	ev.u.cpl.latency_ns = 999;
	char buf[NVMEDUMP_LINE_MAX];
	nvmedump_format(&ev, buf, sizeof(buf));
	assert_non_null(strstr(buf, " CDW0=0 CDW1=0x10 ("));
	assert_null(strstr(buf, "WRITE TO RO PAGE"));
	assert_non_null(strstr(buf, ") LAT=999ns OPC=Connect"));
}

static void test_latency(void **state)
{
	char b[32];

	nvmedump_format_latency(0, b, sizeof(b));
	assert_string_equal(b, "0ns");
	nvmedump_format_latency(999, b, sizeof(b));
	assert_string_equal(b, "999ns");
	nvmedump_format_latency(1000, b, sizeof(b));
	assert_string_equal(b, "1.0us");
	nvmedump_format_latency(999999, b, sizeof(b));
	assert_string_equal(b, "999.9us");
	nvmedump_format_latency(1000000, b, sizeof(b));
	assert_string_equal(b, "1.00ms");
	nvmedump_format_latency(1234567890, b, sizeof(b));
	assert_string_equal(b, "1.234s");
	nvmedump_format_latency(UINT64_MAX, b, sizeof(b));
	assert_string_equal(b, "18446744073.709s");
}

static void test_reg(void **state)
{
	struct fdr_rec_event ev = mkev(FDR_REC_REG_WRITE, 587, 0);

	ev.u.reg.offset = 0x14;
	ev.u.reg.size = 4;
	ev.u.reg.value = 0x00460001;
	expect_line(&ev, "[586] 1556804537:200909267 - REG 0014 <- 00460001 (CC)");

	ev = mkev(FDR_REC_REG_READ, 588, 1);
	ev.u.reg.offset = 0x1c;
	ev.u.reg.size = 4;
	ev.u.reg.value = 1;
	expect_line(&ev, "[587] 1556804537:200909267 ctrl1 REG 001c -> 00000001 (CSTS)");

	ev.u.reg.offset = 0;
	ev.u.reg.size = 8;
	ev.u.reg.value = 0x0020002803ff07ffull;
	expect_line(&ev, "[587] 1556804537:200909267 ctrl1 REG 0000 -> 0020002803ff07ff (CAP)");
}

static void test_pdu(void **state)
{
	struct fdr_rec_event ev = mkev(FDR_REC_PDU_RX, 3, 1);
	struct nvme_tcp_hdr h = {.type = NVME_TCP_CMD, .flags = 0, .hlen = 72, .pdo = 0, .plen = 72};

	ev.conn = 4;
	ev.len = 72;
	memcpy(ev.u.pdu.hdr, &h, sizeof(h));
	ev.u.pdu.hdr[10] = 0x34; /* the SQE's CID */
	ev.u.pdu.hdr[11] = 0x12;
	expect_line(&ev, "[2] 1556804537:200909267 ctrl1 PDU RX CapsuleCmd conn=4 hlen=72 pdo=0 "
			 "plen=72 flags=0x00 CID=1234");

	ev = mkev(FDR_REC_PDU_TX, 4, 1);
	h = (struct nvme_tcp_hdr){.type = NVME_TCP_C2H_DATA, .flags = 0x0c, .hlen = 24, .pdo = 24,
				  .plen = 24 + 512};
	ev.conn = 4;
	ev.len = 24;
	memcpy(ev.u.pdu.hdr, &h, sizeof(h));
	ev.u.pdu.hdr[8] = 0x05;  /* cccid */
	ev.u.pdu.hdr[13] = 0x02; /* datao 512 */
	ev.u.pdu.hdr[17] = 0x02; /* datal 512 */
	expect_line(&ev, "[3] 1556804537:200909267 ctrl1 PDU TX C2HData conn=4 hlen=24 pdo=24 "
			 "plen=536 flags=0x0c CID=0005 TTAG=0000 off=512 len=512");

	ev.len = 5;
	expect_line(&ev, "[3] 1556804537:200909267 ctrl1 PDU TX short conn=4 len=5");
}

static void test_aen(void **state)
{
	struct fdr_rec_event ev = mkev(FDR_REC_AEN, 9, 1);

	ev.u.cpl.cqe.cdw0 = 0x00040002; /* Notice, NS attribute changed, log 04h */
	expect_line(&ev, "[8] 1556804537:200909267 ctrl1 AEN cdw0=0x00040002 "
			 "(Notice: Namespace Attribute Changed) LID=0x04");
}

static void test_conn_disc(void **state)
{
	struct fdr_rec_event ev = mkev(FDR_REC_CONNECT, 1, 0);

	ev.conn = 7;
	strcpy(ev.u.text, "192.0.2.1:51234");
	ev.len = (uint16_t)strlen(ev.u.text);
	expect_line(&ev, "[0] 1556804537:200909267 - CONN conn=7 192.0.2.1:51234");

	ev = mkev(FDR_REC_DISCONNECT, 2, 0);
	ev.conn = 7;
	strcpy(ev.u.text, "peer\tclosed\\\n");
	ev.len = (uint16_t)strlen(ev.u.text);
	expect_line(&ev, "[1] 1556804537:200909267 - DISC conn=7 peer\\x09closed\\\\\\x0a");

	/* len beyond the payload and no NUL: bounded */
	memset(ev.u.text, 'a', sizeof(ev.u.text));
	ev.len = 0xffff;
	char buf[NVMEDUMP_LINE_MAX];
	size_t n = nvmedump_format(&ev, buf, sizeof(buf));
	assert_int_equal(n, strlen("[1] 1556804537:200909267 - DISC conn=7 ") + FDR_REC_PAYLOAD);

	ev.len = 0;
	expect_line(&ev, "[1] 1556804537:200909267 - DISC conn=7 -");
}

static void test_action(void **state)
{
	struct fdr_rec_event ev = mkev(FDR_REC_ACTION, 12, 1);

	ev.qid = 1;
	ev.cid = 3;
	ev.u.action.tap = 2;
	strcpy(ev.u.action.who, "rule 3");
	strcpy(ev.u.action.what, "completed at decode with 01h/82h");
	expect_line(&ev, "[11] 1556804537:200909267 ctrl1 ACT SQ=1 CID=0003 tap=2 rule 3: "
			 "completed at decode with 01h/82h");
}

static void test_data(void **state)
{
	struct fdr_rec_event ev = mkev(FDR_REC_DATA, 13, 1);

	ev.qid = 1;
	ev.cid = 3;
	ev.u.data.offset = 220;
	ev.len = 4;
	memcpy(ev.u.data.bytes, "\xde\xad\xbe\xef", 4);
	expect_line(&ev, "[12] 1556804537:200909267 ctrl1 DATA SQ=1 CID=0003 off=220 len=4 deadbeef");

	for (int i = 0; i < 64; i++)
		ev.u.data.bytes[i] = (uint8_t)i;
	ev.len = 220;
	expect_line(&ev, "[12] 1556804537:200909267 ctrl1 DATA SQ=1 CID=0003 off=220 len=220 "
			 "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f...");
	ev.len = 0;
	expect_line(&ev, "[12] 1556804537:200909267 ctrl1 DATA SQ=1 CID=0003 off=220 len=0");
}

static void test_unknown_kind_and_truncation(void **state)
{
	struct fdr_rec_event ev = mkev(99, 1, 0xffff);
	char small[16];

	ev.len = 3;
	expect_line(&ev, "[0] 1556804537:200909267 - KIND99 len=3");
	size_t n = nvmedump_format(&ev, small, sizeof(small));
	assert_int_equal(n, strlen("[0] 1556804537:200909267 - KIND99 len=3"));
	assert_string_equal(small, "[0] 1556804537:");
	assert_int_equal(nvmedump_format(&ev, NULL, 0), n);
}

/* ---- PCIe functions: the PCI address instead of ctrlN ---- */

#define PCI_06 FDR_REC_PCI_CONN(1, 0x30) /* 00:06.0, attach generation 1 */

static struct fdr_rec_event mkpci(uint16_t kind, uint64_t seq, uint32_t conn)
{
	struct fdr_rec_event ev = mkev(kind, seq, 1);

	ev.xport = FDR_REC_XPORT_PCIE;
	ev.conn = conn;
	return ev;
}

static struct fdr_rec_event mkreg(uint16_t kind, uint32_t off, uint32_t size, uint64_t value)
{
	struct fdr_rec_event ev = mkpci(kind, 587, PCI_06);

	ev.u.reg.offset = off;
	ev.u.reg.size = size;
	ev.u.reg.value = value;
	return ev;
}

/* A PCIe access and the line's part after the location */
struct access {
	uint16_t kind;
	uint32_t off, size;
	uint64_t value;
	const char *body;
};

static void expect_accesses(const struct access *t, size_t n)
{
	char want[256];

	for (size_t i = 0; i < n; i++) {
		struct fdr_rec_event ev = mkreg(t[i].kind, t[i].off, t[i].size, t[i].value);

		snprintf(want, sizeof(want), "[586] 1556804537:200909267 00:06.0 %s", t[i].body);
		expect_line(&ev, want);
	}
}

static void test_pci_location(void **state)
{
	struct fdr_rec_event ev = mkreg(FDR_REC_REG_WRITE, 0x14, 4, 0x00460001);

	expect_line(&ev, "[586] 1556804537:200909267 00:06.0 REG 0014 <- 00460001 (CC)");
	/* bus, device and function from the low 16 bits, lspci's hex */
	ev.conn = FDR_REC_PCI_CONN(0xffff, 0xabcd);
	expect_line(&ev, "[586] 1556804537:200909267 ab:19.5 REG 0014 <- 00460001 (CC)");
	/* no controller (cntlid 0) or any: the address all the same */
	ev.cntlid = 0;
	ev.conn = FDR_REC_PCI_CONN(2, 0x0100);
	expect_line(&ev, "[586] 1556804537:200909267 01:00.0 REG 0014 <- 00460001 (CC)");

	/* commands and completions: the same fields as over NVMe/TCP */
	ev = mkpci(FDR_REC_CMD, 590, PCI_06);
	ev.admin = 1;
	ev.u.cmd.sqe.opc = NVME_ADM_IDENTIFY;
	ev.u.cmd.sqe.dptr.prp1 = 0xbfb24000;
	ev.u.cmd.sqe.cdw10 = 1;
	expect_line(&ev, "[589] 1556804537:200909267 00:06.0 ADM SQ=0 CID=0000 OPC=Identify NSID=0 "
			 "prp1=bfb24000 prp2=0 CDW10=00000001 (Identify Controller)");
	ev = mkpci(FDR_REC_CPL, 608, PCI_06);
	ev.qid = 1;
	ev.u.cpl.cqe.status = 1;
	ev.u.cpl.opc = NVME_IO_READ;
	ev.u.cpl.latency_ns = 106400;
	expect_line(&ev, "[607] 1556804537:200909267 00:06.0 CPL SQ=1 CID=0000 P=1 STS=0x0000 "
			 "CDW0=0 LAT=106.4us OPC=Read");
	ev = mkpci(FDR_REC_DATA, 13, PCI_06);
	ev.qid = 1;
	ev.cid = 3;
	ev.len = 1;
	expect_line(&ev, "[12] 1556804537:200909267 00:06.0 DATA SQ=1 CID=0003 off=0 len=1 00");

	/* the same event over NVMe/TCP: unchanged, a doorbell offset too */
	ev = mkreg(FDR_REC_REG_WRITE, 0x1008, 4, 1);
	ev.xport = FDR_REC_XPORT_FABRICS;
	expect_line(&ev, "[586] 1556804537:200909267 ctrl1 REG 1008 <- 00000001 (Doorbell)");
	ev.u.reg.size = 2; /* not a property size: 8 digits as always */
	expect_line(&ev, "[586] 1556804537:200909267 ctrl1 REG 1008 <- 00000001 (Doorbell)");
}

static void test_pci_bar0(void **state)
{
	static const struct access t[] = {
		{FDR_REC_REG_WRITE, 0x1000, 4, 1, "REG 1000 <- 00000001 (SQ 0 Tail Doorbell)"},
		{FDR_REC_REG_WRITE, 0x1004, 4, 1, "REG 1004 <- 00000001 (CQ 0 Head Doorbell)"},
		{FDR_REC_REG_WRITE, 0x1010, 4, 0x21, "REG 1010 <- 00000021 (SQ 2 Tail Doorbell)"},
		{FDR_REC_REG_WRITE, 0x1014, 4, 0x21, "REG 1014 <- 00000021 (CQ 2 Head Doorbell)"},
		{FDR_REC_REG_WRITE, 0x1016, 2, 0, "REG 1016 <- 0000 (CQ 2 Head Doorbell +2)"},
		{FDR_REC_REG_WRITE, 0x1ffc, 4, 0, "REG 1ffc <- 00000000 (CQ 511 Head Doorbell)"},
		{FDR_REC_REG_WRITE, 0x2000, 4, 0xfee00000,
		 "REG 2000 <- fee00000 (MSI-X 0 Message Address)"},
		{FDR_REC_REG_WRITE, 0x2034, 4, 0, "REG 2034 <- 00000000 (MSI-X 3 Message Upper Address)"},
		{FDR_REC_REG_WRITE, 0x2038, 4, 0x4023, "REG 2038 <- 00004023 (MSI-X 3 Message Data)"},
		{FDR_REC_REG_WRITE, 0x203c, 4, 1, "REG 203c <- 00000001 (MSI-X 3 Vector Control)"},
		{FDR_REC_REG_READ, 0x2010, 8, 0xfee01000,
		 "REG 2010 -> 00000000fee01000 (MSI-X 1 Message Address)"},
		{FDR_REC_REG_READ, 0x203d, 1, 0, "REG 203d -> 00 (MSI-X 3 Vector Control +1)"},
		{FDR_REC_REG_READ, 0x3000, 8, 0x4, "REG 3000 -> 0000000000000004 (MSI-X PBA)"},
		{FDR_REC_REG_READ, 0x3004, 4, 0, "REG 3004 -> 00000000 (MSI-X PBA +4)"},
		{FDR_REC_REG_READ, 0x4000, 4, 0, "REG 4000 -> 00000000 (Unknown)"},
		{FDR_REC_REG_READ, 0x0000, 8, 0x0020002803ff07ffull,
		 "REG 0000 -> 0020002803ff07ff (CAP)"},
		{FDR_REC_REG_READ, 0x001c, 4, 1, "REG 001c -> 00000001 (CSTS)"},
		{FDR_REC_REG_READ, 0x0fff, 3, 1, "REG 0fff -> 00000001 (Unknown)"},
	};
	expect_accesses(t, sizeof(t) / sizeof(t[0]));
}

static void test_pci_bar0_areas(void **state)
{
	uint32_t i;

	assert_int_equal(nvmedump_bar0(0xfff, &i), NVMEDUMP_BAR0_REG);
	assert_int_equal(nvmedump_bar0(0x1018, &i), NVMEDUMP_BAR0_SQ_DB);
	assert_int_equal(i, 3);
	assert_int_equal(nvmedump_bar0(0x101f, &i), NVMEDUMP_BAR0_CQ_DB);
	assert_int_equal(i, 3);
	assert_int_equal(nvmedump_bar0(0x2ff0, &i), NVMEDUMP_BAR0_MSIX);
	assert_int_equal(i, 255);
	assert_int_equal(nvmedump_bar0(0x3fff, &i), NVMEDUMP_BAR0_PBA);
	assert_int_equal(i, 0);
	assert_int_equal(nvmedump_bar0(0x4000, &i), NVMEDUMP_BAR0_BEYOND);
}

static void test_cfg(void **state)
{
	static const struct access t[] = {
		{FDR_REC_CFG_WRITE, 0x04, 2, 0x0006, "CFG 0004 <- 0006 (Command)"},
		{FDR_REC_CFG_READ, 0x00, 4, 0x00101b36, "CFG 0000 -> 00101b36 (Vendor ID)"},
		{FDR_REC_CFG_READ, 0x02, 2, 0x0010, "CFG 0002 -> 0010 (Device ID)"},
		{FDR_REC_CFG_READ, 0x06, 2, 0x0010, "CFG 0006 -> 0010 (Status)"},
		{FDR_REC_CFG_WRITE, 0x05, 1, 0x04, "CFG 0005 <- 04 (Command +1)"},
		{FDR_REC_CFG_READ, 0x0b, 1, 0x01, "CFG 000b -> 01 (Class Code)"},
		{FDR_REC_CFG_WRITE, 0x10, 4, 0xffffffff, "CFG 0010 <- ffffffff (BAR0)"},
		{FDR_REC_CFG_WRITE, 0x14, 4, 0xffffffff, "CFG 0014 <- ffffffff (BAR0 Upper)"},
		{FDR_REC_CFG_READ, 0x2c, 2, 0x1b36, "CFG 002c -> 1b36 (Subsystem Vendor ID)"},
		{FDR_REC_CFG_READ, 0x34, 1, 0x40, "CFG 0034 -> 40 (Capabilities Pointer)"},
		{FDR_REC_CFG_READ, 0x3d, 1, 0x01, "CFG 003d -> 01 (Interrupt Pin)"},
		{FDR_REC_CFG_READ, 0x40, 2, 0x5001, "CFG 0040 -> 5001 (PM Capability ID)"},
		{FDR_REC_CFG_WRITE, 0x44, 2, 0x0003, "CFG 0044 <- 0003 (PMCSR)"},
		{FDR_REC_CFG_READ, 0x50, 4, 0x001f6011, "CFG 0050 -> 001f6011 (MSI-X Capability ID)"},
		{FDR_REC_CFG_WRITE, 0x52, 2, 0x801f, "CFG 0052 <- 801f (MSI-X Message Control)"},
		{FDR_REC_CFG_WRITE, 0x53, 1, 0xc0, "CFG 0053 <- c0 (MSI-X Message Control +1)"},
		{FDR_REC_CFG_READ, 0x54, 4, 0x2000, "CFG 0054 -> 00002000 (MSI-X Table Offset)"},
		{FDR_REC_CFG_READ, 0x58, 4, 0x3000, "CFG 0058 -> 00003000 (MSI-X PBA Offset)"},
		{FDR_REC_CFG_READ, 0x62, 2, 0x0002, "CFG 0062 -> 0002 (PCIe Capabilities)"},
		{FDR_REC_CFG_WRITE, 0x68, 2, 0x2810, "CFG 0068 <- 2810 (Device Control)"},
		{FDR_REC_CFG_READ, 0x72, 2, 0x0011, "CFG 0072 -> 0011 (Link Status)"},
		{FDR_REC_CFG_READ, 0x9a, 2, 0, "CFG 009a -> 0000 (Slot Status 2)"},
		{FDR_REC_CFG_READ, 0x9c, 4, 0, "CFG 009c -> 00000000 (Unknown)"},
		{FDR_REC_CFG_READ, 0x100, 4, 0, "CFG 0100 -> 00000000 (Extended Capability Header)"},
		{FDR_REC_CFG_READ, 0x38, 8, 1, "CFG 0038 -> 0000000000000001 (Unknown)"},
	};
	expect_accesses(t, sizeof(t) / sizeof(t[0]));
}

static struct fdr_rec_event mkirq(uint8_t type, uint16_t vector, uint16_t cqid, uint16_t entries,
				  uint8_t what)
{
	struct fdr_rec_event ev = mkpci(FDR_REC_IRQ, 700, PCI_06);

	ev.qid = cqid;
	ev.u.irq.type = type;
	ev.u.irq.vector = vector;
	ev.u.irq.cqid = cqid;
	ev.u.irq.entries = entries;
	ev.u.irq.what = what;
	return ev;
}

static void test_irq(void **state)
{
	struct fdr_rec_event ev = mkirq(FDR_REC_IRQ_MSIX, 1, 1, 4, FDR_REC_IRQ_SENT);

	expect_line(&ev, "[699] 1556804537:200909267 00:06.0 IRQ MSI-X vector=1 CQ=1 entries=4 sent");
	ev = mkirq(FDR_REC_IRQ_MSIX, 3, 2, 1, FDR_REC_IRQ_PENDING);
	expect_line(&ev, "[699] 1556804537:200909267 00:06.0 IRQ MSI-X vector=3 CQ=2 entries=1 "
			 "pending (masked)");
	ev = mkirq(FDR_REC_IRQ_MSIX, 0, 0, 2, FDR_REC_IRQ_DROPPED);
	expect_line(&ev, "[699] 1556804537:200909267 00:06.0 IRQ MSI-X vector=0 CQ=0 entries=2 dropped");
	ev = mkirq(FDR_REC_IRQ_INTX, 0, 1, 3, FDR_REC_IRQ_SENT);
	expect_line(&ev, "[699] 1556804537:200909267 00:06.0 IRQ INTx CQ=1 entries=3 sent");
	ev = mkirq(FDR_REC_IRQ_INTX, 0, 1, 0, FDR_REC_IRQ_DEASSERT);
	expect_line(&ev, "[699] 1556804537:200909267 00:06.0 IRQ INTx CQ=1 deassert");
	/* values from a later drive: as numbers */
	ev = mkirq(7, 5, 1, 1, 9);
	expect_line(&ev, "[699] 1556804537:200909267 00:06.0 IRQ type=7 vector=5 CQ=1 entries=1 "
			 "what=9");
}

static struct fdr_rec_event mkdma(uint16_t qid, uint16_t cid, uint64_t addr, uint32_t len,
				  bool write, uint8_t what)
{
	struct fdr_rec_event ev = mkpci(FDR_REC_DMA_ERR, 800, PCI_06);

	ev.qid = qid;
	ev.cid = cid;
	ev.admin = qid == 0;
	ev.u.dma.addr = addr;
	ev.u.dma.len = len;
	ev.u.dma.write = write;
	ev.u.dma.what = what;
	return ev;
}

static void test_dma(void **state)
{
	struct fdr_rec_event ev = mkdma(1, 3, 0x10001000, 4096, false, FDR_REC_DMA_DATA);

	expect_line(&ev, "[799] 1556804537:200909267 00:06.0 DMA SQ=1 CID=0003 ERR read "
			 "addr=10001000 len=4096 (data)");
	ev = mkdma(1, 4, 0x20000, 512, true, FDR_REC_DMA_DATA);
	expect_line(&ev, "[799] 1556804537:200909267 00:06.0 DMA SQ=1 CID=0004 ERR write "
			 "addr=20000 len=512 (data)");
	ev = mkdma(0, 0x1f, 0xbfb00000, 4096, false, FDR_REC_DMA_PRP_LIST);
	expect_line(&ev, "[799] 1556804537:200909267 00:06.0 DMA SQ=0 CID=001f ERR read "
			 "addr=bfb00000 len=4096 (PRP list)");
	ev = mkdma(2, 9, 0x1000, 16, false, FDR_REC_DMA_SGL_SEG);
	expect_line(&ev, "[799] 1556804537:200909267 00:06.0 DMA SQ=2 CID=0009 ERR read "
			 "addr=1000 len=16 (SGL segment)");
	ev = mkdma(2, 0, 0xffffffffffffffc0ull, 64, false, FDR_REC_DMA_SQ);
	expect_line(&ev, "[799] 1556804537:200909267 00:06.0 DMA SQ=2 ERR read "
			 "addr=ffffffffffffffc0 len=64 (SQ entry)");
	/* a completion's entry: its command's SQ and CID (as pcie.c records it) */
	ev = mkdma(3, 0x12, 0x5000, 16, true, FDR_REC_DMA_CQ);
	expect_line(&ev, "[799] 1556804537:200909267 00:06.0 DMA SQ=3 CID=0012 ERR write addr=5000 "
			 "len=16 (CQ entry)");
	ev = mkdma(1, 2, 0, 1, false, 42);
	expect_line(&ev, "[799] 1556804537:200909267 00:06.0 DMA SQ=1 CID=0002 ERR read addr=0 len=1 "
			 "(what=42)");
}

static void test_pci_conn_disc(void **state)
{
	struct fdr_rec_event ev = mkpci(FDR_REC_CONNECT, 1, PCI_06);

	ev.cntlid = 0;
	strcpy(ev.u.text, "/run/fd/nvme0/cntrl");
	ev.len = (uint16_t)strlen(ev.u.text);
	expect_line(&ev, "[0] 1556804537:200909267 00:06.0 CONN 00:06.0 gen=1 /run/fd/nvme0/cntrl");
	ev = mkpci(FDR_REC_DISCONNECT, 2, FDR_REC_PCI_CONN(65535, 0x30));
	strcpy(ev.u.text, "vfio-user client gone");
	ev.len = (uint16_t)strlen(ev.u.text);
	expect_line(&ev, "[1] 1556804537:200909267 00:06.0 DISC 00:06.0 gen=65535 "
			 "vfio-user client gone");
	ev.len = 0;
	expect_line(&ev, "[1] 1556804537:200909267 00:06.0 DISC 00:06.0 gen=65535 -");
}

static void test_pci_address(void **state)
{
	char b[16];

	assert_int_equal(nvmedump_format_pci(FDR_REC_PCI_CONN(1, 0x30), b, sizeof(b)), 7);
	assert_string_equal(b, "00:06.0");
	nvmedump_format_pci(0xffffffff, b, sizeof(b));
	assert_string_equal(b, "ff:1f.7");
	assert_int_equal(nvmedump_format_pci(0, b, 4), 7); /* like snprintf */
	assert_string_equal(b, "00:");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_admin_identify),
		cmocka_unit_test(test_admin_features),
		cmocka_unit_test(test_admin_unknown_opc),
		cmocka_unit_test(test_io_read),
		cmocka_unit_test(test_io_write_sgl),
		cmocka_unit_test(test_io_write_zeroes_and_flush),
		cmocka_unit_test(test_fabrics),
		cmocka_unit_test(test_cpl_ok),
		cmocka_unit_test(test_cpl_error),
		cmocka_unit_test(test_latency),
		cmocka_unit_test(test_reg),
		cmocka_unit_test(test_pdu),
		cmocka_unit_test(test_aen),
		cmocka_unit_test(test_conn_disc),
		cmocka_unit_test(test_action),
		cmocka_unit_test(test_data),
		cmocka_unit_test(test_unknown_kind_and_truncation),
		cmocka_unit_test(test_pci_location),
		cmocka_unit_test(test_pci_bar0),
		cmocka_unit_test(test_pci_bar0_areas),
		cmocka_unit_test(test_cfg),
		cmocka_unit_test(test_irq),
		cmocka_unit_test(test_dma),
		cmocka_unit_test(test_pci_conn_disc),
		cmocka_unit_test(test_pci_address),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * nvmedump -w end to end: a ring written with the recorder's own writer
 * (admin queue with its real Connect, an I/O queue whose Connect the ring
 * does not reach back to, an I/O queue Connect, registers, data, actions, an
 * asynchronous event, a failed command, a completion whose command was
 * lost) and a PCIe function's (config space, registers, doorbells,
 * commands on the same QIDs with the same CIDs as the NVMe/TCP ones,
 * interrupts, a DMA error), then the built nvmedump (argv[1]):
 *
 *   - nvmedump -r RING and nvmedump -r (RING written with -w) print the
 *     same text, also filtered, with --lost, with -s, through a pipe;
 *   - stock tshark (no plug-in) decodes the commands with their queue IDs,
 *     statuses, latencies and request/response links (skipped if there is
 *     no tshark; $TSHARK names another one): argv[2] "tshark";
 *   - truncated, garbage and big-endian pcapng files are clean errors.
 */
#include <setjmp.h>
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

#include <frankendrive/nvme.h>
#include <frankendrive/nvme_tcp.h>

#include "recorder/recorder.h"

#define T0 1700000000000000000ull
#define NQN "nqn.2024-01.io.frankendrive:pcap"
#define FILLERS 3 /* overwritten before nvmedump reads the ring: lost */

static const char *nvmedump;
static char dir[64], ring[128], pcap[128], outf[128], errf[128];
static char out[262144], err[8192];

/* ---- The ring ---- */

static struct fdr_rec_event evs[96];
static unsigned nevs;

static struct fdr_rec_event *add(uint16_t kind, uint64_t t_us, uint32_t conn, uint16_t qid,
				 uint16_t cntlid)
{
	struct fdr_rec_event *e = &evs[nevs++];

	assert_true(nevs <= sizeof(evs) / sizeof(evs[0]));
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->wall_ns = T0 + t_us * 1000;
	e->conn = conn;
	e->qid = qid;
	e->cntlid = cntlid;
	e->admin = kind != FDR_REC_CONNECT && kind != FDR_REC_DISCONNECT && qid == 0;
	return e;
}

static void sgl(struct nvme_sqe *s, uint32_t len)
{
	s->flags = NVME_PSDT_SGL_MPTR_CONTIG << NVME_CMD_FLAGS_PSDT_SHIFT;
	s->dptr.sgl1.type = 0x5a;
	s->dptr.sgl1.length = len;
}

static struct fdr_rec_event *cmd(uint64_t t_us, uint32_t conn, uint16_t qid, uint16_t cntlid,
				 uint16_t cid, uint8_t opc, uint32_t nsid)
{
	struct fdr_rec_event *e = add(FDR_REC_CMD, t_us, conn, qid, cntlid);

	e->cid = cid;
	e->u.cmd.sqe.opc = opc;
	e->u.cmd.sqe.cid = cid;
	e->u.cmd.sqe.nsid = nsid;
	sgl(&e->u.cmd.sqe, 0);
	return e;
}

/* The completion of c, lat_us later, as the drive records it. */
static struct fdr_rec_event *cpl(const struct fdr_rec_event *c, uint64_t lat_us, uint16_t qid,
				 uint16_t cntlid, uint16_t status, uint32_t cdw0)
{
	struct fdr_rec_event *e = add(FDR_REC_CPL, (c->wall_ns - T0) / 1000 + lat_us, c->conn, qid,
				      cntlid);

	e->cid = c->cid;
	e->u.cpl.cqe.cid = c->cid;
	e->u.cpl.cqe.sqid = qid;
	e->u.cpl.cqe.cdw0 = cdw0;
	e->u.cpl.cqe.status = (uint16_t)(status << 1);
	e->u.cpl.latency_ns = lat_us * 1000;
	e->u.cpl.opc = c->u.cmd.sqe.opc;
	e->u.cpl.fctype = (uint8_t)c->u.cmd.sqe.nsid;
	return e;
}

static void data(const struct fdr_rec_event *c, uint64_t t_us, uint16_t qid, uint16_t cntlid,
		 uint32_t len, uint8_t seed)
{
	for (uint32_t off = 0; off < len; off += 220) {
		struct fdr_rec_event *e = add(FDR_REC_DATA, t_us, c->conn, qid, cntlid);

		e->cid = c->cid;
		e->len = (uint16_t)(len - off < 220 ? len - off : 220);
		e->u.data.offset = off;
		for (unsigned i = 0; i < e->len; i++)
			e->u.data.bytes[i] = (uint8_t)(seed + off + i);
	}
}

#define PCI_06 FDR_REC_PCI_CONN(1, 0x30) /* 00:06.0 */
#define PCI_HOST "172.17.0.48"          /* its queues' host in pcapng */

static struct fdr_rec_event *pci(uint16_t kind, uint64_t t_us, uint16_t qid)
{
	struct fdr_rec_event *e = add(kind, t_us, PCI_06, qid, 2);

	e->xport = FDR_REC_XPORT_PCIE;
	return e;
}

static void pci_access(uint16_t kind, uint64_t t_us, uint32_t off, uint32_t size, uint64_t value)
{
	struct fdr_rec_event *e = pci(kind, t_us, 0);

	e->u.reg.offset = off;
	e->u.reg.size = size;
	e->u.reg.value = value;
}

static void pci_irq(uint64_t t_us, uint16_t cqid, uint16_t entries)
{
	struct fdr_rec_event *e = pci(FDR_REC_IRQ, t_us, cqid);

	e->u.irq.vector = cqid;
	e->u.irq.cqid = cqid;
	e->u.irq.entries = entries;
}

static struct fdr_rec_event *pci_cmd(uint64_t t_us, uint16_t qid, uint16_t cid, uint8_t opc,
				     uint32_t nsid, uint32_t cdw10)
{
	struct fdr_rec_event *c = cmd(t_us, PCI_06, qid, 2, cid, opc, nsid);

	c->xport = FDR_REC_XPORT_PCIE;
	c->u.cmd.sqe.flags = 0; /* PRPs */
	c->u.cmd.sqe.dptr.prp1 = 0xbfb24000;
	c->u.cmd.sqe.dptr.prp2 = 0;
	c->u.cmd.sqe.cdw10 = cdw10;
	return c;
}

/* 00:06.0 attaches, enables its controller, identifies it, reads and
 * writes on I/O queue 1 (the write's data is not mapped), and leaves. */
static void build_pci_events(void)
{
	struct fdr_rec_event *e, *c;

	e = pci(FDR_REC_CONNECT, 500, 0);
	e->cntlid = 0;
	strcpy(e->u.text, "/tmp/fd/nvme0/cntrl");
	e->len = (uint16_t)strlen(e->u.text);
	pci_access(FDR_REC_CFG_WRITE, 501, 0x04, 2, 0x0006);
	pci_access(FDR_REC_REG_WRITE, 502, 0x14, 4, 0x00460001);
	pci_access(FDR_REC_REG_WRITE, 503, 0x1000, 4, 1);
	c = pci_cmd(504, 0, 3, NVME_ADM_IDENTIFY, 0, 1); /* the CID of conn 1's */
	e = cpl(c, 7, 0, 2, 0, 0);
	e->xport = FDR_REC_XPORT_PCIE;
	e->u.cpl.cqe.status |= 1; /* phase */
	pci_irq(512, 0, 1);
	pci_access(FDR_REC_REG_WRITE, 513, 0x1004, 4, 1);
	pci_access(FDR_REC_REG_WRITE, 520, 0x1008, 4, 2);
	c = pci_cmd(521, 1, 0x10, NVME_IO_READ, 1, 0x4000); /* the QID and CID of conn 7's */
	c->u.cmd.sqe.cdw12 = 7;
	data(c, 540, 1, 2, 64, 0x11);
	evs[nevs - 1].xport = FDR_REC_XPORT_PCIE;
	e = cpl(c, 20, 1, 2, 0, 0);
	e->xport = FDR_REC_XPORT_PCIE;
	c = pci_cmd(522, 1, 0x11, NVME_IO_WRITE, 1, 0x5000);
	e = pci(FDR_REC_DMA_ERR, 525, 1);
	e->cid = 0x11;
	e->u.dma.addr = 0x10001000;
	e->u.dma.len = 4096;
	e = cpl(c, 9, 1, 2, NVME_STATUS(0, 0x04), 0); /* Data Transfer Error */
	e->xport = FDR_REC_XPORT_PCIE;
	pci_irq(545, 1, 2);
	pci_access(FDR_REC_REG_WRITE, 546, 0x100c, 4, 2);
	e = pci(FDR_REC_DISCONNECT, 600, 0);
	e->cntlid = 0;
	strcpy(e->u.text, "vfio-user client gone");
	e->len = (uint16_t)strlen(e->u.text);
}

static void build_events(void)
{
	struct fdr_rec_event *e, *c;

	nevs = 0;
	/* conn 1: the admin queue, from its TCP connection on */
	e = add(FDR_REC_CONNECT, 0, 1, 0, 0);
	strcpy(e->u.text, "192.0.2.99:51000");
	e->len = (uint16_t)strlen(e->u.text);
	e = add(FDR_REC_PDU_RX, 1, 1, 0, 0);
	e->len = 8;
	e->u.pdu.hdr[0] = NVME_TCP_ICREQ;
	e->u.pdu.hdr[2] = 128;
	e->u.pdu.hdr[4] = 128;
	c = cmd(10, 1, 0, 0, 1, NVME_ADM_FABRICS, NVME_FCTYPE_CONNECT); /* Connect, QID 0 */
	c->u.cmd.sqe.cdw11 = 31;
	c->u.cmd.sqe.cdw12 = 5000;
	c->u.cmd.sqe.dptr.sgl1.type = 0x01;
	c->u.cmd.sqe.dptr.sgl1.length = 1024;
	data(c, 18, 0, 1, 256, 0x40); /* the Connect data, up to the snap length */
	cpl(c, 8, 0, 1, 0, 1);
	c = cmd(30, 1, 0, 1, 2, NVME_ADM_FABRICS, NVME_FCTYPE_PROPERTY_GET);
	c->u.cmd.sqe.cdw10 = 1; /* 8 bytes of CAP */
	e = add(FDR_REC_REG_READ, 31, 0, 0, 1);
	e->u.reg.size = 8;
	e->u.reg.value = 0x201401007full;
	cpl(c, 2, 0, 1, 0, 0x1401007f);
	e = add(FDR_REC_REG_WRITE, 40, 0, 0, 1);
	e->u.reg.offset = 0x14;
	e->u.reg.size = 4;
	e->u.reg.value = 0x00460001;
	c = cmd(50, 1, 0, 1, 3, NVME_ADM_IDENTIFY, 0);
	c->u.cmd.sqe.cdw10 = 1;
	sgl(&c->u.cmd.sqe, 4096);
	data(c, 52, 0, 1, 256, 0);
	cpl(c, 2, 0, 1, 0, 0);
	e = add(FDR_REC_AEN, 60, 0, 0, 1);
	e->u.cpl.cqe.cdw0 = 0x00040002;

	/* conn 7: I/O queue 1, connected before the ring begins */
	c = cmd(100, 7, 1, 1, 0x10, NVME_IO_READ, 1);
	c->u.cmd.sqe.cdw10 = 0x1234;
	c->u.cmd.sqe.cdw12 = 7;
	sgl(&c->u.cmd.sqe, 4096);
	data(c, 112, 1, 1, 300, 0x80);
	cpl(c, 12, 1, 1, 0, 0);
	c = cmd(120, 7, 1, 1, 0x11, NVME_IO_WRITE, 1);
	c->u.cmd.sqe.cdw10 = 0x2000;
	c->u.cmd.sqe.cdw12 = 0;
	sgl(&c->u.cmd.sqe, 512);
	data(c, 125, 1, 1, 100, 0xc0);
	cpl(c, 5, 1, 1, 0, 0);
	c = cmd(130, 7, 1, 1, 0x12, NVME_IO_READ, 1); /* fails */
	c->u.cmd.sqe.cdw10 = 0x3000;
	e = add(FDR_REC_ACTION, 131, 7, 1, 1);
	e->cid = 0x12;
	e->u.action.tap = 2;
	strcpy(e->u.action.who, "rule 3");
	strcpy(e->u.action.what, "completed at decode with 02h/81h");
	cpl(c, 3, 1, 1, NVME_STATUS(2, 0x81), 0);
	e = add(FDR_REC_PDU_TX, 134, 7, 1, 1);
	e->len = 24;
	e->u.pdu.hdr[0] = NVME_TCP_RSP;
	e->u.pdu.hdr[2] = 24;
	e->u.pdu.hdr[4] = 24;
	e->u.pdu.hdr[20] = 0x12;

	/* conn 9: I/O queue 2, its Connect recorded (before the queue is, so
	 * SQ 0 and no controller), then a Flush */
	c = cmd(200, 9, 0, 0, 0x20, NVME_ADM_FABRICS, NVME_FCTYPE_CONNECT);
	c->u.cmd.sqe.cdw10 = 2u << 16;
	c->u.cmd.sqe.cdw11 = 127;
	c->u.cmd.sqe.dptr.sgl1.type = 0x01;
	c->u.cmd.sqe.dptr.sgl1.length = 1024;
	data(c, 205, 2, 1, 64, 0x20);
	cpl(c, 5, 2, 1, 0, 1);
	c = cmd(210, 9, 2, 1, 0x21, NVME_IO_FLUSH, 1);
	cpl(c, 1500, 2, 1, 0, 0);

	/* conn 12: I/O queue 3: a completion whose command was lost */
	e = add(FDR_REC_CPL, 300, 12, 3, 1);
	e->cid = 0x30;
	e->u.cpl.cqe.cid = 0x30;
	e->u.cpl.cqe.sqid = 3;
	e->u.cpl.cqe.status = (uint16_t)(NVME_STATUS(0, NVME_SC_INVALID_FIELD) << 1 | 1);
	e->u.cpl.latency_ns = 4567891;
	e->u.cpl.opc = NVME_IO_DATASET_MANAGEMENT;
	e->u.cpl.fctype = 1;
	e = add(FDR_REC_DISCONNECT, 400, 7, 0, 0);
	strcpy(e->u.text, "host closed");
	e->len = (uint16_t)strlen(e->u.text);
	build_pci_events();
}

static int write_ring(void)
{
	struct fdr_rec_opts o = {.nr_slots = 0, .snaplen = 256, .dev = NQN};
	char e[256];

	build_events();
	o.path = ring;
	o.nr_slots = nevs;
	if (fdr_rec_open(&o, e, sizeof(e)) != 0) {
		fprintf(stderr, "fdr_rec_open: %s\n", e);
		return -1;
	}
	for (unsigned i = 0; i < FILLERS; i++) {
		struct fdr_rec_event *ev = fdr_rec_begin(FDR_REC_REG_READ);

		if (!ev)
			return -1;
		fdr_rec_commit(ev);
	}
	for (unsigned i = 0; i < nevs; i++) {
		struct fdr_rec_event *ev = fdr_rec_begin(evs[i].kind);

		if (!ev)
			return -1;
		memcpy((char *)ev + 8, (char *)&evs[i] + 8, sizeof(*ev) - 8); /* all but seq */
		fdr_rec_commit(ev);
	}
	fdr_rec_close();
	return 0;
}

/* ---- Running things ---- */


/* Run a shell command line; exit code, its stdout in out, stderr in err. */
static int __attribute__((format(printf, 1, 2))) sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = e2e_system(cmd, outf, out, sizeof(out), errf, err, sizeof(err));
	assert_true(st >= 0);
	return st;
}

static char *dup_out(void)
{
	char *s = strdup(out);

	assert_non_null(s);
	return s;
}

static int lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* The same text from the ring and from the ring written as pcapng with
 * the same options (and filter). */
static void same_both_ways(const char *opts)
{
	char *want, *want_err, *p;

	assert_int_equal(sh("'%s' -r '%s' %s", nvmedump, ring, opts), 0);
	want = dup_out();
	want_err = strdup(strstr(err, "\n") ? strstr(err, "\n") + 1 : err);
	assert_int_equal(sh("'%s' -r '%s' -w '%s' %s", nvmedump, ring, pcap, opts), 0);
	assert_string_equal(out, "");
	assert_int_equal(sh("'%s' -r '%s' %s", nvmedump, pcap, opts), 0);
	if (strcmp(out, want) != 0)
		fprintf(stderr, "# options: %s\n# from the ring:\n%s# from pcapng:\n%s", opts, want,
			out);
	assert_string_equal(out, want);
	/* the summary line too (the first line says what was read) */
	p = strstr(err, "\n");
	assert_non_null(p);
	assert_string_equal(p + 1, want_err);
	free(want);
	free(want_err);
}

/* ---- Tests ---- */

static void test_round_trip(void **state)
{
	(void)state;
	same_both_ways("");
	assert_int_equal(lines(out), (int)nevs);
	assert_non_null(strstr(err, NQN ", pcapng, snaplen 256\n"));
	assert_non_null(strstr(err, "events shown, 3 lost (overwritten before read)\n"));
	/* the lost completion keeps its latency and opcode (from the comment) */
	assert_non_null(strstr(out, " CPL SQ=3 CID=0030 P=1 STS=0x0002 CDW0=0 (INVALID FIELD) "
				    "LAT=4.56ms OPC=Dataset Management\n"));
	/* the I/O queue's Connect: before the queue, on SQ 0 */
	assert_non_null(strstr(out, " - ADM SQ=0 CID=0020 OPC=Connect FCTYPE=01 RECFMT=0 QID=2 "));
	assert_non_null(strstr(out, " ctrl1 DATA SQ=2 CID=0020 off=0 len=64 "));
	assert_non_null(strstr(out, " ctrl1 CPL SQ=2 CID=0020 P=0 STS=0x0000 CDW0=0x1 LAT=5.0us "
				    "OPC=Connect\n"));
	/* the PCIe function: its address, each queue's own latencies */
	assert_non_null(strstr(out, " 00:06.0 REG 1000 <- 00000001 (SQ 0 Tail Doorbell)\n"));
	assert_non_null(strstr(out, " 00:06.0 CPL SQ=0 CID=0003 P=1 STS=0x0000 CDW0=0 LAT=7.0us "
				    "OPC=Identify\n"));
	assert_non_null(strstr(out, " 00:06.0 CPL SQ=1 CID=0010 P=0 STS=0x0000 CDW0=0 LAT=20.0us "
				    "OPC=Read\n"));
	assert_non_null(strstr(out, " ctrl1 CPL SQ=1 CID=0010 P=0 STS=0x0000 CDW0=0 LAT=12.0us "
				    "OPC=Read\n"));
	assert_non_null(strstr(out, " 00:06.0 DATA SQ=1 CID=0010 off=0 len=64 1112"));
	assert_non_null(strstr(out, " 00:06.0 CONN 00:06.0 gen=1 /tmp/fd/nvme0/cntrl\n"));
	same_both_ways("--lost");
	assert_true(!strncmp(out, "LOST 3 events (overwritten before read)\n[3] ", 44));
}

static void test_filtered(void **state)
{
	(void)state;
	same_both_ways("qid 1");
	same_both_ways("kind cpl"); /* every completion without its command */
	same_both_ways("kind data or kind reg or kind action");
	same_both_ways("-c 5 io");
	assert_int_equal(lines(out), 5);
	same_both_ways("status");
	assert_int_equal(lines(out), 3);
}

/* The PCIe filters select the same events from pcapng as from the ring;
 * "ctrl 2" needs the controller, which PCIe lines do not show. */
static void test_filtered_pci(void **state)
{
	static const struct {
		const char *expr;
		int n;
	} t[] = {
		{"pci", 18},
		{"tcp", 33},
		{"pci 00:06.0 and qid 1", 9},
		{"ctrl 2", 16},
		{"doorbell", 4},
		{"kind irq or vector 1", 2},
		{"kind dma or kind cfg", 2},
		{"pci and io and kind cpl", 2},
	};
	char opts[128];

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(opts, sizeof(opts), "'%s'", t[i].expr);
		same_both_ways(opts);
		if (lines(out) != t[i].n)
			fail_msg("'%s': %d lines, want %d:\n%s", t[i].expr, lines(out), t[i].n, out);
	}
}

static void test_snaplen(void **state)
{
	(void)state;
	same_both_ways("-s 100");
	assert_non_null(strstr(out, " DATA SQ=1 CID=0010 off=0 len=100 "));
	assert_null(strstr(out, " off=220 "));
	assert_non_null(strstr(err, "snaplen 100\n") ? strstr(err, "snaplen 100\n")
						      : strstr(out, "nothing"));
	same_both_ways("-s 0");
	assert_null(strstr(out, " DATA "));
	same_both_ways("-s 1000000");
	assert_int_equal(sh("'%s' -r '%s' -s x", nvmedump, ring), 2);
	assert_int_equal(sh("'%s' -r '%s' -s -1", nvmedump, ring), 2);
}

static void test_pipe(void **state)
{
	char *want;

	(void)state;
	assert_int_equal(sh("'%s' -r '%s'", nvmedump, ring), 0);
	want = dup_out();
	assert_int_equal(sh("'%s' -r '%s' -w - | '%s' -r -", nvmedump, ring, nvmedump), 0);
	assert_string_equal(out, want);
	/* twice through pcapng: still the same */
	assert_int_equal(sh("'%s' -r '%s' -w - | '%s' -r - -w - | '%s' -r -", nvmedump, ring,
			    nvmedump, nvmedump),
			 0);
	assert_string_equal(out, want);
	free(want);
}

static void test_bad_files(void **state)
{
	char bad[160];
	size_t n;
	static char buf[65536];
	FILE *f;

	(void)state;
	assert_int_equal(sh("'%s' -r '%s' -w '%s'", nvmedump, ring, pcap), 0);
	n = e2e_slurp(pcap, buf, sizeof(buf));
	assert_true(n > 1000);
	snprintf(bad, sizeof(bad), "%s/bad.pcapng", dir);

	/* cut in the middle of a block: the events before it, then an error */
	f = fopen(bad, "wb");
	assert_non_null(f);
	fwrite(buf, 1, n - 100, f);
	fclose(f);
	assert_int_equal(sh("'%s' -r '%s'", nvmedump, bad), 1);
	assert_true(lines(out) > 10);
	assert_non_null(strstr(err, "truncated block at offset"));

	/* a bad block length */
	memcpy(buf + n, buf, n);
	f = fopen(bad, "wb");
	fwrite(buf, 1, 200, f);
	fwrite("\x06\0\0\0\x07\0\0\0garbage!", 1, 16, f);
	fclose(f);
	assert_int_equal(sh("'%s' -r '%s'", nvmedump, bad), 1);
	assert_non_null(strstr(err, "bad block length 7 at offset"));

	/* big-endian */
	f = fopen(bad, "wb");
	fwrite("\x0a\x0d\x0d\x0a\0\0\0\x1c\x1a\x2b\x3c\x4d\0\1\0\0\xff\xff\xff\xff\xff\xff\xff\xff"
	       "\0\0\0\x1c",
	       1, 28, f);
	fclose(f);
	assert_int_equal(sh("'%s' -r '%s'", nvmedump, bad), 1);
	assert_non_null(strstr(err, "big-endian pcapng sections are not supported"));

	/* just the magic */
	f = fopen(bad, "wb");
	fwrite("\x0a\x0d\x0d\x0a", 1, 4, f);
	fclose(f);
	assert_int_equal(sh("'%s' -r '%s'", nvmedump, bad), 1);
	assert_non_null(strstr(err, "truncated"));

	/* not pcapng on standard input */
	assert_int_equal(sh("echo hello | '%s' -r -", nvmedump), 1);
	assert_non_null(strstr(err, "not a pcapng file (standard input)"));

	/* -w to a place that cannot be written; and not to a terminal */
	assert_int_equal(sh("'%s' -r '%s' -w '%s/no/such/dir'", nvmedump, ring, dir), 1);
	assert_non_null(strstr(err, "No such file or directory"));
	if (isatty(STDERR_FILENO)) { /* "-w -" on the terminal we have */
		char cmd[512];

		snprintf(cmd, sizeof(cmd), "'%s' -r '%s' -w - >/dev/tty 2>/dev/null", nvmedump,
			 ring);
		assert_int_equal(WEXITSTATUS(system(cmd)), 2);
	}
}

/*
 * Stock tshark: the fields of every packet, two passes (-2) so that
 * commands link to their completions.  Per line: opcode, CID, NSID, SLBA,
 * CQE status, queue ID, latency (ms), the completion's frame (in a command),
 * the command's frame (in a completion), the source and destination
 * addresses.  Fabrics commands (Connect, Property Get) have fields of their
 * own, so only their CQE status and the queue ID show here.
 */
#define TSHARK_FIELDS                                                                        \
	"-e nvme.cmd.opc -e nvme.cmd.cid -e nvme.cmd.nsid -e nvme.cmd.slba -e nvme.cqe.status " \
	"-e nvme-tcp.cmd.qid -e nvme.cmd_latency -e nvme.cqe_pkt -e nvme.cmd_pkt "               \
	"-e exported_pdu.ipv4_src -e exported_pdu.ipv4_dst"
#define NFIELDS 11

static char tshark_out[sizeof(out)];

struct frame {
	char *f[NFIELDS];
};

static struct frame frames[160];
static int nframes;

static void split_tshark(void)
{
	char *save = NULL;

	strcpy(tshark_out, out);
	nframes = 0;
	for (char *p = strtok_r(tshark_out, "\n", &save); p; p = strtok_r(NULL, "\n", &save)) {
		struct frame *fr = &frames[nframes++];
		int nf = 0;

		assert_true(nframes < (int)(sizeof(frames) / sizeof(frames[0])));
		for (char *q = p; q && nf < NFIELDS;) {
			fr->f[nf++] = q;
			q = strchr(q, '|');
			if (q)
				*q++ = '\0';
		}
		assert_int_equal(nf, NFIELDS);
	}
}

/* The frame (1-based) of the command with this opcode and CID from host. */
static int find_cmd(const char *host, const char *opc, const char *cid)
{
	for (int i = 0; i < nframes; i++)
		if (!strcmp(frames[i].f[0], opc) && !strcmp(frames[i].f[1], cid) &&
		    !strcmp(frames[i].f[9], host))
			return i + 1;
	fail_msg("no command %s CID %s from %s", opc, cid, host);
	return 0;
}

/* Check a command of host's queue and its completion, sent to the same
 * host; returns the completion's frame. */
static int check_pair(const char *host, const char *opc, const char *cid, const char *nsid,
		      const char *slba, const char *qid, const char *status, const char *latency)
{
	int c = find_cmd(host, opc, cid), r;
	struct frame *fc = &frames[c - 1], *fr;

	assert_string_equal(fc->f[2], nsid);
	assert_string_equal(fc->f[3], slba);
	assert_string_equal(fc->f[5], qid);
	r = atoi(fc->f[7]); /* nvme.cqe_pkt */
	assert_true(r > c && r <= nframes);
	fr = &frames[r - 1];
	assert_int_equal(atoi(fr->f[8]), c); /* nvme.cmd_pkt */
	assert_string_equal(fr->f[4], status);
	assert_string_equal(fr->f[5], qid);
	assert_string_equal(fr->f[6], latency);
	assert_string_equal(fr->f[10], host);
	return r;
}

static const char *tshark;

static void test_tshark(void **state)
{
	(void)state;

	assert_int_equal(sh("'%s' -r '%s' -w '%s'", nvmedump, ring, pcap), 0);
	assert_int_equal(sh("'%s' -r '%s' -T fields " TSHARK_FIELDS " -2 -E separator='|'", tshark, pcap),
			 0);
	printf("# tshark -r F -T fields " TSHARK_FIELDS " -2 -E separator='|'\n");
	for (char *p = out; *p;) {
		char *nl = strchr(p, '\n');

		printf("#   %.*s\n", nl ? (int)(nl - p) : (int)strlen(p), p);
		if (!nl)
			break;
		p = nl + 1;
	}
	assert_null(strstr(err, "rror")); /* "Error", "error" */
	split_tshark();
	/* the events, and synthetic records: 2 for each NVMe/TCP queue with its
	 * Connect (conn 1 and 9), 4 for the others (7 and 12), 4 for each of
	 * the PCIe function's two queues */
	assert_int_equal(nframes, (int)nevs + 2 * 2 + 2 * 4 + 2 * 4);

	/* Identify on the admin queue; its real Connect said QID 0 */
	check_pair("10.0.0.1", "0x06", "0x0003", "0x00000000", "", "0x0000", "0x0000", "0.002");
	/* I/O queue 1, whose Connect the ring does not reach back to: a Read,
	 * a Write, and a Read that failed with 0x281 (the CQE's status field
	 * holds it shifted by the phase bit) */
	check_pair("10.0.0.7", "0x02", "0x0010", "0x00000001", "0x0000000000001234", "0x0001",
		   "0x0000", "0.012");
	check_pair("10.0.0.7", "0x01", "0x0011", "0x00000001", "0x0000000000002000", "0x0001",
		   "0x0000", "0.005");
	check_pair("10.0.0.7", "0x02", "0x0012", "0x00000001", "0x0000000000003000", "0x0001",
		   "0x0502", "0.003");
	/* I/O queue 2, its Connect recorded: a Flush of 1.5 ms */
	check_pair("10.0.0.9", "0x00", "0x0021", "0x00000001", "", "0x0002", "0x0000", "1.5");
	/* The PCIe function, whose queues share a conn but not a conversation,
	 * with the CIDs of the NVMe/TCP queues above: its Identify, a Read
	 * and a Write that failed with Data Transfer Error (04h); the Identify's
	 * CQE has the phase bit set */
	check_pair(PCI_HOST, "0x06", "0x0003", "0x00000000", "", "0x0000", "0x0001", "0.007");
	check_pair(PCI_HOST, "0x02", "0x0010", "0x00000001", "0x0000000000004000", "0x0001",
		   "0x0000", "0.02");
	check_pair(PCI_HOST, "0x01", "0x0011", "0x00000001", "0x0000000000005000", "0x0001",
		   "0x0008", "0.009");

	/* every event's line is its packet's comment, in order */
	assert_int_equal(sh("'%s' -r '%s' -T fields -e frame.comment "
			    "-Y 'not frame.comment contains \"frankendrive: synthetic\"'",
			    tshark, pcap),
			 0);
	strcpy(tshark_out, out);
	assert_int_equal(sh("'%s' -r '%s'", nvmedump, ring), 0);
	assert_string_equal(tshark_out, out);

	/* the other events: exported PDUs for "frankendrive", no dissector of
	 * that name in stock Wireshark: shown as bytes, no error */
	assert_int_equal(sh("'%s' -r '%s' -T fields -e frame.number -e _ws.malformed "
			    "-e _ws.expert.severity -Y 'exported_pdu.prot_name == \"frankendrive\"'",
			    tshark, pcap),
			 0);
	/* CONN, 2 PDU, 2 REG, AEN, ACT, DISC; of 00:06.0 CONN, CFG, 5 REG,
	 * 2 IRQ, DMA, DISC */
	assert_int_equal(lines(out), 8 + 11);
	for (char *p = out; *p; p = strchr(p, '\n') + 1) {
		/* not malformed, and no expert info above the comment's */
		size_t n = strcspn(p, "\t");

		assert_true(!strncmp(p + n, "\t\t1048576\n", 10)); /* PI_COMMENT */
	}
	/* Wireshark 4.0 decodes Identify data from the start of every C2HData
	 * PDU (not at its offset) and finds the first 220-byte piece short:
	 * that is the only malformed packet */
	assert_int_equal(sh("'%s' -r '%s' -T fields -e nvme-tcp.type -e nvme-tcp.cmd.qid "
			    "-Y _ws.malformed",
			    tshark, pcap),
			 0);
	assert_string_equal(out, "7\t0x0000\n");
}

static int setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/nvmedump-pcapng.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(ring, sizeof(ring), "%s/ring", dir);
	snprintf(pcap, sizeof(pcap), "%s/out.pcapng", dir);
	snprintf(outf, sizeof(outf), "%s/out", dir);
	snprintf(errf, sizeof(errf), "%s/err", dir);
	return write_ring();
}

static int teardown(void **state)
{
	char cmd[256];

	(void)state;
	if (getenv("NVMEDUMP_TEST_KEEP")) { /* to look at the files */
		fprintf(stderr, "# kept %s\n", dir);
		return 0;
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_filtered),
		cmocka_unit_test(test_filtered_pci),
		cmocka_unit_test(test_snaplen),
		cmocka_unit_test(test_pipe),
		cmocka_unit_test(test_bad_files),
	};
	const struct CMUnitTest tshark_tests[] = {
		cmocka_unit_test(test_tshark),
	};
	char probe[300];

	if (argc < 2) {
		fprintf(stderr, "usage: %s NVMEDUMP [tshark]\n", argv[0]);
		return 2;
	}
	nvmedump = argv[1];
	if (argc < 3 || strcmp(argv[2], "tshark") != 0)
		return cmocka_run_group_tests(tests, setup, teardown);

	/* The tshark part: skipped as a whole if there is none */
	tshark = getenv("TSHARK");
	if (!tshark || !*tshark)
		tshark = "tshark";
	snprintf(probe, sizeof(probe), "command -v '%s' >/dev/null 2>&1", tshark);
	if (system(probe) != 0) {
		printf("1..0 # SKIP no tshark (%s)\n", tshark);
		return 0;
	}
	return cmocka_run_group_tests(tshark_tests, setup, teardown);
}

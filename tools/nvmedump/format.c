/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * nvmedump: flight recorder events as text, one line each.  The field
 * layout is documented in docs/nvmedump.1; keep the two in step.
 */
#include "format.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <frankendrive/names.h>
#include <frankendrive/nvme.h>
#include <frankendrive/nvme_tcp.h>

#include "transport/pcie/pcie.h"

/* An snprintf that appends and keeps counting after the buffer is full. */
struct out {
	char *buf;
	size_t len;
	size_t pos;
};

static void __attribute__((format(printf, 2, 3))) put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	char *p = NULL;
	size_t room = 0;

	if (o->pos < o->len) {
		p = o->buf + o->pos;
		room = o->len - o->pos;
	}
	va_start(ap, fmt);
	int n = vsnprintf(p, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->pos += (size_t)n;
}

/* Text from the ring is untrusted: printable ASCII as is, the rest \xNN. */
static void put_text(struct out *o, const char *s, size_t n)
{
	bool any = false;

	for (size_t i = 0; i < n && s[i] != '\0'; i++) {
		unsigned char c = (unsigned char)s[i];

		any = true;
		if (c == '\\')
			put(o, "\\\\");
		else if (c >= 0x20 && c < 0x7f)
			put(o, "%c", c);
		else
			put(o, "\\x%02x", c);
	}
	if (!any)
		put(o, "-");
}

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

size_t nvmedump_format_latency(uint64_t ns, char *buf, size_t len)
{
	struct out o = {buf, len, 0};

	if (len > 0)
		buf[0] = '\0';
	if (ns < 1000ull)
		put(&o, "%lluns", (unsigned long long)ns);
	else if (ns < 1000000ull)
		put(&o, "%llu.%01lluus", (unsigned long long)(ns / 1000),
		    (unsigned long long)(ns % 1000 / 100));
	else if (ns < 1000000000ull)
		put(&o, "%llu.%02llums", (unsigned long long)(ns / 1000000),
		    (unsigned long long)(ns % 1000000 / 10000));
	else
		put(&o, "%llu.%03llus", (unsigned long long)(ns / 1000000000),
		    (unsigned long long)(ns % 1000000000 / 1000000));
	return o.pos;
}

static void put_dptr(struct out *o, const struct nvme_sqe *sqe)
{
	unsigned psdt = sqe->flags >> NVME_CMD_FLAGS_PSDT_SHIFT;

	if (psdt == NVME_PSDT_PRP)
		put(o, " prp1=%llx prp2=%llx", (unsigned long long)sqe->dptr.prp1,
		    (unsigned long long)sqe->dptr.prp2);
	else
		put(o, " SGL=%02x addr=%llx len=%u", sqe->dptr.sgl1.type,
		    (unsigned long long)sqe->dptr.sgl1.addr, sqe->dptr.sgl1.length);
}

static void put_fabrics_cmd(struct out *o, const struct nvme_sqe *sqe, uint8_t fctype)
{
	switch (fctype) {
	case NVME_FCTYPE_PROPERTY_GET:
	case NVME_FCTYPE_PROPERTY_SET:
		put(o, " OFST=%04x SIZE=%u", sqe->cdw11, (sqe->cdw10 & 0x7) ? 8 : 4);
		if (fctype == NVME_FCTYPE_PROPERTY_SET) {
			if (sqe->cdw10 & 0x7)
				put(o, " VALUE=%016llx",
				    (unsigned long long)sqe->cdw12 | (unsigned long long)sqe->cdw13 << 32);
			else
				put(o, " VALUE=%08x", sqe->cdw12);
		}
		put(o, " (%s)", nvme_reg_name(sqe->cdw11));
		break;
	case NVME_FCTYPE_CONNECT:
		put(o, " RECFMT=%u QID=%u SQSIZE=%u CATTR=%02x KATO=%u", sqe->cdw10 & 0xffff,
		    sqe->cdw10 >> 16, sqe->cdw11 & 0xffff, (sqe->cdw11 >> 16) & 0xff, sqe->cdw12);
		put_dptr(o, sqe);
		break;
	default:
		put_dptr(o, sqe);
		put(o, " CDW10=%08x CDW11=%08x", sqe->cdw10, sqe->cdw11);
		break;
	}
}

static void put_cmd(struct out *o, const struct fdr_rec_event *ev)
{
	struct nvme_sqe sqe;
	bool admin = ev->admin != 0;

	memcpy(&sqe, &ev->u.cmd.sqe, sizeof(sqe));
	put(o, "%s SQ=%u CID=%04x OPC=", admin ? "ADM" : "IO", ev->qid, sqe.cid);
	if (sqe.opc == NVME_ADM_FABRICS) {
		uint8_t fctype = (uint8_t)(sqe.nsid & 0xff);

		put(o, "%s FCTYPE=%02x", nvme_opc_name(admin, sqe.opc, fctype), fctype);
		put_fabrics_cmd(o, &sqe, fctype);
		return;
	}
	const char *name = admin ? nvme_admin_opc_name(sqe.opc) : nvme_io_opc_name(sqe.opc);

	put(o, "%s", name);
	if (!strcmp(name, "Unknown") || !strcmp(name, "Vendor Specific"))
		put(o, " (%02xh)", sqe.opc); /* the number too */
	put(o, " NSID=%#x", sqe.nsid);
	if (sqe.flags & NVME_CMD_FLAGS_FUSE_MASK)
		put(o, " FUSE=%u", sqe.flags & NVME_CMD_FLAGS_FUSE_MASK);
	if (!admin && nvme_io_opc_has_lba(sqe.opc)) {
		unsigned long long slba = (unsigned long long)sqe.cdw10 | (unsigned long long)sqe.cdw11 << 32;

		put(o, " LBA=%llu NLB=%u", slba, (sqe.cdw12 & 0xffff) + 1u);
		if (sqe.opc != NVME_IO_WRITE_ZEROES && sqe.opc != NVME_IO_WRITE_UNCORRECTABLE &&
		    sqe.opc != NVME_IO_VERIFY)
			put_dptr(o, &sqe);
		return;
	}
	put_dptr(o, &sqe);
	put(o, " CDW10=%08x", sqe.cdw10);
	if (sqe.cdw11)
		put(o, " CDW11=%08x", sqe.cdw11);
	if (!admin)
		return;
	switch (sqe.opc) {
	case NVME_ADM_IDENTIFY:
		put(o, " (%s)", nvme_cns_name((uint8_t)sqe.cdw10));
		break;
	case NVME_ADM_GET_LOG_PAGE:
		put(o, " (%s)", nvme_log_page_name((uint8_t)sqe.cdw10));
		break;
	case NVME_ADM_SET_FEATURES:
	case NVME_ADM_GET_FEATURES:
		put(o, " (%s)", nvme_feature_name((uint8_t)sqe.cdw10));
		break;
	default:
		break;
	}
}

static void put_cpl(struct out *o, const struct fdr_rec_event *ev)
{
	struct nvme_cqe cqe;
	bool admin = ev->admin != 0;
	uint8_t opc = ev->u.cpl.opc;
	uint16_t sts;
	char lat[32];

	memcpy(&cqe, &ev->u.cpl.cqe, sizeof(cqe));
	sts = (uint16_t)(cqe.status >> 1);
	put(o, "CPL SQ=%u CID=%04x P=%u STS=0x%04x CDW0=%#x", ev->qid, cqe.cid, cqe.status & 1u,
	    sts, cqe.cdw0);
	if (cqe.cdw1)
		put(o, " CDW1=%#x", cqe.cdw1);
	if (sts)
		put(o, " (%s)", nvme_status_name_ex(sts, admin, opc));
	nvmedump_format_latency(ev->u.cpl.latency_ns, lat, sizeof(lat));
	put(o, " LAT=%s OPC=%s", lat, nvme_opc_name(admin, opc, ev->u.cpl.fctype));
}

static void put_pdu(struct out *o, const struct fdr_rec_event *ev)
{
	const uint8_t *h = ev->u.pdu.hdr;
	size_t n = ev->len < sizeof(ev->u.pdu.hdr) ? ev->len : sizeof(ev->u.pdu.hdr);

	put(o, "PDU %s ", ev->kind == FDR_REC_PDU_RX ? "RX" : "TX");
	if (n < sizeof(struct nvme_tcp_hdr)) {
		put(o, "short conn=%u len=%u", ev->conn, ev->len);
		return;
	}
	put(o, "%s conn=%u hlen=%u pdo=%u plen=%u flags=0x%02x", nvme_tcp_pdu_name(h[0]), ev->conn,
	    h[2], h[3], le32(h + 4), h[1]);
	switch (h[0]) {
	case NVME_TCP_CMD:
		if (n >= 8 + 4)
			put(o, " CID=%04x", le16(h + 10));
		break;
	case NVME_TCP_RSP:
		if (n >= 8 + 16)
			put(o, " CID=%04x STS=0x%04x", le16(h + 20), (uint16_t)(le16(h + 22) >> 1));
		break;
	case NVME_TCP_H2C_DATA:
	case NVME_TCP_C2H_DATA:
	case NVME_TCP_R2T:
		if (n >= 8 + 12)
			put(o, " CID=%04x TTAG=%04x off=%u len=%u", le16(h + 8), le16(h + 10),
			    le32(h + 12), le32(h + 16));
		break;
	case NVME_TCP_H2C_TERM:
	case NVME_TCP_C2H_TERM:
		if (n >= 8 + 2)
			put(o, " FES=%#x (%s)", le16(h + 8), nvme_tcp_fes_name(le16(h + 8)));
		break;
	default:
		break;
	}
}

/* A value as wide as its access (1, 2, 4 or 8 bytes; 4 otherwise). */
static void put_sized(struct out *o, uint32_t size, uint64_t v)
{
	switch (size) {
	case 1:
		put(o, "%02x", (unsigned)(v & 0xff));
		break;
	case 2:
		put(o, "%04x", (unsigned)(v & 0xffff));
		break;
	case 8:
		put(o, "%016llx", (unsigned long long)v);
		break;
	default:
		put(o, "%08x", (uint32_t)v);
		break;
	}
}

size_t nvmedump_format_pci(uint32_t conn, char *buf, size_t len)
{
	uint16_t bdf = FDR_REC_PCI_BDF(conn);
	int n = snprintf(buf, len, "%02x:%02x.%x", bdf >> 8, (bdf >> 3) & 0x1f, bdf & 7);

	return n > 0 ? (size_t)n : 0;
}

static void put_pci(struct out *o, uint32_t conn)
{
	char b[16];

	nvmedump_format_pci(conn, b, sizeof(b));
	put(o, "%s", b);
}

/* Doorbells are 4 bytes apart (CAP.DSTRD 0), an MSI-X table entry 16. */
enum nvmedump_bar0 nvmedump_bar0(uint32_t offset, uint32_t *index)
{
	*index = 0;
	if (offset < FDR_PCIE_DB_OFFSET)
		return NVMEDUMP_BAR0_REG;
	if (offset < FDR_PCIE_MSIX_TABLE) {
		uint32_t i = (offset - FDR_PCIE_DB_OFFSET) / 4;

		*index = i / 2;
		return i % 2 ? NVMEDUMP_BAR0_CQ_DB : NVMEDUMP_BAR0_SQ_DB;
	}
	if (offset < FDR_PCIE_MSIX_PBA) {
		*index = (offset - FDR_PCIE_MSIX_TABLE) / 16;
		return NVMEDUMP_BAR0_MSIX;
	}
	return offset < FDR_PCIE_BAR0_SIZE ? NVMEDUMP_BAR0_PBA : NVMEDUMP_BAR0_BEYOND;
}

/* A BAR0 offset's name; an access that starts inside a register adds
 * "+N", N bytes into it. */
static void put_bar0_name(struct out *o, uint32_t off)
{
	static const char *const msix[] = {"Message Address", "Message Upper Address",
					   "Message Data", "Vector Control"};
	uint32_t idx, within = off & 3;

	switch (nvmedump_bar0(off, &idx)) {
	case NVMEDUMP_BAR0_REG:
		put(o, "%s", nvme_reg_name(off));
		return;
	case NVMEDUMP_BAR0_SQ_DB:
		put(o, "SQ %u Tail Doorbell", idx);
		break;
	case NVMEDUMP_BAR0_CQ_DB:
		put(o, "CQ %u Head Doorbell", idx);
		break;
	case NVMEDUMP_BAR0_MSIX:
		put(o, "MSI-X %u %s", idx, msix[(off >> 2) & 3]);
		break;
	case NVMEDUMP_BAR0_PBA:
		put(o, "MSI-X PBA");
		within = off - FDR_PCIE_MSIX_PBA;
		break;
	case NVMEDUMP_BAR0_BEYOND:
		put(o, "Unknown");
		return;
	}
	if (within)
		put(o, " +%u", within);
}

static void put_reg(struct out *o, const struct fdr_rec_event *ev)
{
	uint32_t off = ev->u.reg.offset;
	bool pci = ev->xport == FDR_REC_XPORT_PCIE;
	/* NVMe/TCP properties are 4 or 8 bytes; PCIe accesses any width */
	uint32_t size = pci || ev->u.reg.size == 8 ? ev->u.reg.size : 4;

	put(o, "REG %04x %s ", off, ev->kind == FDR_REC_REG_WRITE ? "<-" : "->");
	put_sized(o, size, ev->u.reg.value);
	put(o, " (");
	if (pci)
		put_bar0_name(o, off);
	else
		put(o, "%s", nvme_reg_name(off));
	put(o, ")");
}

/* Config space: the type 0 header and the capabilities at the offsets
 * pcie_cfg.c puts them (PM, MSI-X, PCI Express version 2). */
static const struct cfg_reg {
	uint16_t off;
	uint8_t len;
	const char *name;
} cfg_regs[] = {
	{0x00, 2, "Vendor ID"},
	{0x02, 2, "Device ID"},
	{0x04, 2, "Command"},
	{0x06, 2, "Status"},
	{0x08, 1, "Revision ID"},
	{0x09, 1, "Programming Interface"},
	{0x0a, 1, "Subclass"},
	{0x0b, 1, "Class Code"},
	{0x0c, 1, "Cache Line Size"},
	{0x0d, 1, "Latency Timer"},
	{0x0e, 1, "Header Type"},
	{0x0f, 1, "BIST"},
	{0x10, 4, "BAR0"},
	{0x14, 4, "BAR0 Upper"}, /* BAR0 is 64-bit */
	{0x18, 4, "BAR2"},
	{0x1c, 4, "BAR3"},
	{0x20, 4, "BAR4"},
	{0x24, 4, "BAR5"},
	{0x28, 4, "CardBus CIS Pointer"},
	{0x2c, 2, "Subsystem Vendor ID"},
	{0x2e, 2, "Subsystem ID"},
	{0x30, 4, "Expansion ROM"},
	{0x34, 1, "Capabilities Pointer"},
	{0x3c, 1, "Interrupt Line"},
	{0x3d, 1, "Interrupt Pin"},
	{0x3e, 1, "Min Grant"},
	{0x3f, 1, "Max Latency"},
	{FDR_PCIE_CAP_PM + 0x0, 1, "PM Capability ID"},
	{FDR_PCIE_CAP_PM + 0x1, 1, "PM Next Pointer"},
	{FDR_PCIE_CAP_PM + 0x2, 2, "PMC"},
	{FDR_PCIE_CAP_PM + 0x4, 2, "PMCSR"},
	{FDR_PCIE_CAP_PM + 0x6, 1, "PMCSR_BSE"},
	{FDR_PCIE_CAP_PM + 0x7, 1, "PM Data"},
	{FDR_PCIE_CAP_MSIX + 0x0, 1, "MSI-X Capability ID"},
	{FDR_PCIE_CAP_MSIX + 0x1, 1, "MSI-X Next Pointer"},
	{FDR_PCIE_CAP_MSIX + 0x2, 2, "MSI-X Message Control"},
	{FDR_PCIE_CAP_MSIX + 0x4, 4, "MSI-X Table Offset"},
	{FDR_PCIE_CAP_MSIX + 0x8, 4, "MSI-X PBA Offset"},
	{FDR_PCIE_CAP_EXP + 0x00, 1, "PCIe Capability ID"},
	{FDR_PCIE_CAP_EXP + 0x01, 1, "PCIe Next Pointer"},
	{FDR_PCIE_CAP_EXP + 0x02, 2, "PCIe Capabilities"},
	{FDR_PCIE_CAP_EXP + 0x04, 4, "Device Capabilities"},
	{FDR_PCIE_CAP_EXP + 0x08, 2, "Device Control"},
	{FDR_PCIE_CAP_EXP + 0x0a, 2, "Device Status"},
	{FDR_PCIE_CAP_EXP + 0x0c, 4, "Link Capabilities"},
	{FDR_PCIE_CAP_EXP + 0x10, 2, "Link Control"},
	{FDR_PCIE_CAP_EXP + 0x12, 2, "Link Status"},
	{FDR_PCIE_CAP_EXP + 0x14, 4, "Slot Capabilities"},
	{FDR_PCIE_CAP_EXP + 0x18, 2, "Slot Control"},
	{FDR_PCIE_CAP_EXP + 0x1a, 2, "Slot Status"},
	{FDR_PCIE_CAP_EXP + 0x1c, 2, "Root Control"},
	{FDR_PCIE_CAP_EXP + 0x1e, 2, "Root Capabilities"},
	{FDR_PCIE_CAP_EXP + 0x20, 4, "Root Status"},
	{FDR_PCIE_CAP_EXP + 0x24, 4, "Device Capabilities 2"},
	{FDR_PCIE_CAP_EXP + 0x28, 2, "Device Control 2"},
	{FDR_PCIE_CAP_EXP + 0x2a, 2, "Device Status 2"},
	{FDR_PCIE_CAP_EXP + 0x2c, 4, "Link Capabilities 2"},
	{FDR_PCIE_CAP_EXP + 0x30, 2, "Link Control 2"},
	{FDR_PCIE_CAP_EXP + 0x32, 2, "Link Status 2"},
	{FDR_PCIE_CAP_EXP + 0x34, 4, "Slot Capabilities 2"},
	{FDR_PCIE_CAP_EXP + 0x38, 2, "Slot Control 2"},
	{FDR_PCIE_CAP_EXP + 0x3a, 2, "Slot Status 2"},
	{0x100, 4, "Extended Capability Header"},
};

static void put_cfg_name(struct out *o, uint32_t off)
{
	for (size_t i = 0; i < sizeof(cfg_regs) / sizeof(cfg_regs[0]); i++) {
		const struct cfg_reg *r = &cfg_regs[i];

		if (off >= r->off && off < (uint32_t)r->off + r->len) {
			put(o, "%s", r->name);
			if (off != r->off)
				put(o, " +%u", off - r->off);
			return;
		}
	}
	put(o, "Unknown");
}

static void put_cfg(struct out *o, const struct fdr_rec_event *ev)
{
	put(o, "CFG %04x %s ", ev->u.reg.offset, ev->kind == FDR_REC_CFG_WRITE ? "<-" : "->");
	put_sized(o, ev->u.reg.size, ev->u.reg.value);
	put(o, " (");
	put_cfg_name(o, ev->u.reg.offset);
	put(o, ")");
}

static void put_irq(struct out *o, const struct fdr_rec_event *ev)
{
	static const char *const what[] = {"sent", "pending (masked)", "dropped", "deassert"};
	uint8_t w = ev->u.irq.what;

	if (ev->u.irq.type == FDR_REC_IRQ_MSIX)
		put(o, "IRQ MSI-X vector=%u", ev->u.irq.vector);
	else if (ev->u.irq.type == FDR_REC_IRQ_INTX)
		put(o, "IRQ INTx");
	else
		put(o, "IRQ type=%u vector=%u", ev->u.irq.type, ev->u.irq.vector);
	put(o, " CQ=%u", ev->u.irq.cqid);
	if (w != FDR_REC_IRQ_DEASSERT) /* releasing the level covers no entries */
		put(o, " entries=%u", ev->u.irq.entries);
	if (w < sizeof(what) / sizeof(what[0]))
		put(o, " %s", what[w]);
	else
		put(o, " what=%u", w);
}

static void put_dma(struct out *o, const struct fdr_rec_event *ev)
{
	static const char *const what[] = {"data", "PRP list", "SGL segment", "SQ entry",
					   "CQ entry"};
	uint8_t w = ev->u.dma.what;

	/* An SQ entry is not a command yet; a CQ entry is a command's
	 * completion (on its SQ), the rest its data. */
	if (w == FDR_REC_DMA_SQ)
		put(o, "DMA SQ=%u", ev->qid);
	else
		put(o, "DMA SQ=%u CID=%04x", ev->qid, ev->cid);
	put(o, " ERR %s addr=%llx len=%u", ev->u.dma.write ? "write" : "read",
	    (unsigned long long)ev->u.dma.addr, ev->u.dma.len);
	if (w < sizeof(what) / sizeof(what[0]))
		put(o, " (%s)", what[w]);
	else
		put(o, " (what=%u)", w);
}

static void put_conn(struct out *o, const struct fdr_rec_event *ev)
{
	size_t tlen = ev->len < sizeof(ev->u.text) ? ev->len : sizeof(ev->u.text);

	put(o, "%s ", ev->kind == FDR_REC_CONNECT ? "CONN" : "DISC");
	if (ev->xport == FDR_REC_XPORT_PCIE) {
		put_pci(o, ev->conn);
		put(o, " gen=%u ", ev->conn >> 16);
	} else {
		put(o, "conn=%u ", ev->conn);
	}
	put_text(o, ev->u.text, tlen);
}

static void put_aen(struct out *o, const struct fdr_rec_event *ev)
{
	uint32_t cdw0 = ev->u.cpl.cqe.cdw0;
	uint8_t type = cdw0 & 0x7;
	uint8_t info = (uint8_t)(cdw0 >> 8);

	put(o, "AEN cdw0=0x%08x (%s: %s) LID=0x%02x", cdw0, nvme_aen_type_name(type),
	    nvme_aen_info_name(type, info), (cdw0 >> 16) & 0xff);
}

static void put_action(struct out *o, const struct fdr_rec_event *ev)
{
	put(o, "ACT SQ=%u CID=%04x tap=%u ", ev->qid, ev->cid, ev->u.action.tap);
	put_text(o, ev->u.action.who, sizeof(ev->u.action.who));
	put(o, ": ");
	put_text(o, ev->u.action.what, sizeof(ev->u.action.what));
}

static void put_data(struct out *o, const struct fdr_rec_event *ev)
{
	size_t n = ev->len < sizeof(ev->u.data.bytes) ? ev->len : sizeof(ev->u.data.bytes);
	size_t show = n < 32 ? n : 32;

	put(o, "DATA SQ=%u CID=%04x off=%u len=%u", ev->qid, ev->cid, ev->u.data.offset, ev->len);
	if (show)
		put(o, " ");
	for (size_t i = 0; i < show; i++)
		put(o, "%02x", ev->u.data.bytes[i]);
	if (n > show)
		put(o, "...");
}

size_t nvmedump_format_body(const struct fdr_rec_event *ev, char *buf, size_t len)
{
	struct out o = {buf, len, 0};

	if (len > 0)
		buf[0] = '\0';
	switch (ev->kind) {
	case FDR_REC_CMD:
		put_cmd(&o, ev);
		break;
	case FDR_REC_CPL:
		put_cpl(&o, ev);
		break;
	case FDR_REC_PDU_RX:
	case FDR_REC_PDU_TX:
		put_pdu(&o, ev);
		break;
	case FDR_REC_REG_READ:
	case FDR_REC_REG_WRITE:
		put_reg(&o, ev);
		break;
	case FDR_REC_AEN:
		put_aen(&o, ev);
		break;
	case FDR_REC_CONNECT:
	case FDR_REC_DISCONNECT:
		put_conn(&o, ev);
		break;
	case FDR_REC_ACTION:
		put_action(&o, ev);
		break;
	case FDR_REC_DATA:
		put_data(&o, ev);
		break;
	case FDR_REC_CFG_READ:
	case FDR_REC_CFG_WRITE:
		put_cfg(&o, ev);
		break;
	case FDR_REC_IRQ:
		put_irq(&o, ev);
		break;
	case FDR_REC_DMA_ERR:
		put_dma(&o, ev);
		break;
	default:
		put(&o, "KIND%u len=%u", ev->kind, ev->len);
		break;
	}
	return o.pos;
}

size_t nvmedump_format(const struct fdr_rec_event *ev, char *buf, size_t len)
{
	struct out o = {buf, len, 0};
	unsigned long long idx = ev->seq ? (unsigned long long)ev->seq - 1 : 0;

	if (len > 0)
		buf[0] = '\0';
	put(&o, "[%llu] %llu:%09llu ", idx, (unsigned long long)(ev->wall_ns / 1000000000ull),
	    (unsigned long long)(ev->wall_ns % 1000000000ull));
	if (ev->xport == FDR_REC_XPORT_PCIE)
		put_pci(&o, ev->conn);
	else if (ev->cntlid == 0 || ev->cntlid == 0xffff)
		put(&o, "-");
	else
		put(&o, "ctrl%u", ev->cntlid);
	put(&o, " ");
	size_t head = o.pos;
	size_t body = nvmedump_format_body(ev, o.pos < len ? buf + o.pos : NULL,
					   o.pos < len ? len - o.pos : 0);
	return head + body;
}

bool nvmedump_snap(struct fdr_rec_event *ev, uint32_t snaplen)
{
	size_t n = ev->len < sizeof(ev->u.data.bytes) ? ev->len : sizeof(ev->u.data.bytes);

	if (ev->kind != FDR_REC_DATA)
		return true;
	if (ev->u.data.offset >= snaplen)
		return false;
	if ((uint64_t)ev->u.data.offset + ev->len > snaplen) {
		uint32_t keep = snaplen - ev->u.data.offset;

		if (keep < n)
			memset(ev->u.data.bytes + keep, 0, n - keep);
		ev->len = (uint16_t)keep;
	}
	return true;
}

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

static void put_reg(struct out *o, const struct fdr_rec_event *ev)
{
	uint32_t off = ev->u.reg.offset;
	const char *name = nvme_reg_name(off);

	put(o, "REG %04x %s ", off, ev->kind == FDR_REC_REG_WRITE ? "<-" : "->");
	if (ev->u.reg.size == 8)
		put(o, "%016llx", (unsigned long long)ev->u.reg.value);
	else
		put(o, "%08x", (uint32_t)ev->u.reg.value);
	put(o, " (%s)", name);
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
	size_t tlen = ev->len < sizeof(ev->u.text) ? ev->len : sizeof(ev->u.text);

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
		put(&o, "%s conn=%u ", ev->kind == FDR_REC_CONNECT ? "CONN" : "DISC", ev->conn);
		put_text(&o, ev->u.text, tlen);
		break;
	case FDR_REC_ACTION:
		put_action(&o, ev);
		break;
	case FDR_REC_DATA:
		put_data(&o, ev);
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
	if (ev->cntlid == 0 || ev->cntlid == 0xffff)
		put(&o, "- ");
	else
		put(&o, "ctrl%u ", ev->cntlid);
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

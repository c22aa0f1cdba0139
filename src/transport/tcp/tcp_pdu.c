/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NVMe/TCP PDU headers: validation of what the host sends and the
 * builders of what we send.  No connection state lives here, so the unit
 * tests and the fuzzer call these directly.
 */
#include <stddef.h>
#include <string.h>

#include "common/crc32c.h"
#include "tcp_internal.h"

#define FEI(type, field) ((uint32_t)offsetof(type, field))

static uint32_t align_up(uint32_t v, uint32_t a)
{
	return (v + a - 1) / a * a;
}

/* PDO checks shared by the PDU types that carry data. */
static int check_pdo(const struct nvme_tcp_hdr *ch, uint32_t hdr_len,
		     const struct fdr_tcp_rx_params *p, uint32_t *fei)
{
	if (ch->pdo < hdr_len || (p->cpda && ch->pdo % ((p->cpda + 1u) * 4u))) {
		*fei = FEI(struct nvme_tcp_hdr, pdo);
		return NVME_TCP_FES_INVALID_PDU_HDR;
	}
	if (ch->pdo > ch->plen) {
		*fei = FEI(struct nvme_tcp_hdr, pdo);
		return NVME_TCP_FES_INVALID_PDU_HDR;
	}
	return 0;
}

/* DDGSTF must say exactly whether the PDU carries a data digest. */
static int check_ddgst_flag(const struct nvme_tcp_hdr *ch, bool want, uint32_t *fei)
{
	if (!!(ch->flags & NVME_TCP_F_DDGST) != want) {
		*fei = FEI(struct nvme_tcp_hdr, flags);
		return NVME_TCP_FES_INVALID_PDU_HDR;
	}
	return 0;
}

static int check_cmd(const struct nvme_tcp_hdr *ch, struct fdr_tcp_pdu_info *info,
		     const struct fdr_tcp_rx_params *p, uint32_t *fei)
{
	int rc;

	if (ch->plen < info->hdr_len) {
		*fei = FEI(struct nvme_tcp_hdr, plen);
		return NVME_TCP_FES_INVALID_PDU_HDR;
	}
	if (ch->pdo == 0) {
		/* No in-capsule data: nothing may follow the header. */
		if (ch->plen != info->hdr_len) {
			*fei = FEI(struct nvme_tcp_hdr, pdo);
			return NVME_TCP_FES_INVALID_PDU_HDR;
		}
		return check_ddgst_flag(ch, false, fei);
	}
	if ((rc = check_pdo(ch, info->hdr_len, p, fei)) != 0)
		return rc;
	if ((rc = check_ddgst_flag(ch, p->ddgst, fei)) != 0)
		return rc;
	info->ddgst_len = p->ddgst ? NVME_TCP_DIGEST_LEN : 0;
	if (ch->plen <= (uint32_t)ch->pdo + info->ddgst_len) {
		/* PDO set but no data behind it */
		*fei = FEI(struct nvme_tcp_hdr, plen);
		return NVME_TCP_FES_INVALID_PDU_HDR;
	}
	info->pad = ch->pdo - info->hdr_len;
	info->data_len = ch->plen - ch->pdo - info->ddgst_len;
	if (info->data_len > p->max_icd)
		return NVME_TCP_FES_R2T_LIMIT_EXCEEDED; /* "Data Transfer Limit Exceeded" */
	return 0;
}

static int check_h2c_data(const uint8_t *b, const struct nvme_tcp_hdr *ch,
			  struct fdr_tcp_pdu_info *info, const struct fdr_tcp_rx_params *p,
			  uint32_t *fei)
{
	const struct nvme_tcp_data *d = (const struct nvme_tcp_data *)b;
	int rc;

	if ((rc = check_pdo(ch, info->hdr_len, p, fei)) != 0)
		return rc;
	if ((rc = check_ddgst_flag(ch, p->ddgst, fei)) != 0)
		return rc;
	info->ddgst_len = p->ddgst ? NVME_TCP_DIGEST_LEN : 0;
	if (d->datal == 0) {
		*fei = FEI(struct nvme_tcp_data, datal);
		return NVME_TCP_FES_INVALID_PDU_HDR;
	}
	if (d->datal > p->maxh2cdata)
		return NVME_TCP_FES_R2T_LIMIT_EXCEEDED; /* "Data Transfer Limit Exceeded" */
	/* PLEN must frame exactly DATAL bytes (64-bit: no wrap). */
	if ((uint64_t)ch->pdo + d->datal + info->ddgst_len != ch->plen) {
		*fei = FEI(struct nvme_tcp_hdr, plen);
		return NVME_TCP_FES_INVALID_PDU_HDR;
	}
	info->pad = ch->pdo - info->hdr_len;
	info->data_len = d->datal;
	return 0;
}

int fdr_tcp_pdu_check_hdr(const void *buf, size_t len, const struct fdr_tcp_rx_params *p,
			  struct fdr_tcp_pdu_info *info, uint32_t *fei)
{
	const uint8_t *b = buf;
	struct nvme_tcp_hdr ch;
	uint8_t want_hlen;
	bool hd = false;

	memset(info, 0, sizeof(*info));
	*fei = 0;
	if (len < sizeof(ch))
		return FDR_TCP_HDR_MORE;
	memcpy(&ch, b, sizeof(ch));
	info->type = ch.type;
	info->hlen = ch.hlen;
	info->plen = ch.plen;

	/* ICReq opens the connection, exactly once. */
	if (!p->ic_done && ch.type != NVME_TCP_ICREQ && ch.type != NVME_TCP_H2C_TERM)
		return NVME_TCP_FES_PDU_SEQ_ERR;
	if (p->ic_done && ch.type == NVME_TCP_ICREQ)
		return NVME_TCP_FES_PDU_SEQ_ERR;

	switch (ch.type) {
	case NVME_TCP_ICREQ:
		want_hlen = sizeof(struct nvme_tcp_icreq);
		break;
	case NVME_TCP_H2C_TERM:
		/* Termination requests never carry digests, so they stay
		 * readable whatever went wrong. */
		want_hlen = sizeof(struct nvme_tcp_term);
		break;
	case NVME_TCP_CMD:
		want_hlen = sizeof(struct nvme_tcp_cmd);
		hd = p->hdgst;
		break;
	case NVME_TCP_H2C_DATA:
		want_hlen = sizeof(struct nvme_tcp_data);
		hd = p->hdgst;
		break;
	default:
		/* Unknown, or a PDU only a controller sends. */
		*fei = FEI(struct nvme_tcp_hdr, type);
		return NVME_TCP_FES_INVALID_PDU_HDR;
	}
	if (ch.hlen != want_hlen) {
		*fei = FEI(struct nvme_tcp_hdr, hlen);
		return NVME_TCP_FES_INVALID_PDU_HDR;
	}
	if ((ch.type == NVME_TCP_CMD || ch.type == NVME_TCP_H2C_DATA) &&
	    !!(ch.flags & NVME_TCP_F_HDGST) != hd) {
		*fei = FEI(struct nvme_tcp_hdr, flags);
		return NVME_TCP_FES_INVALID_PDU_HDR;
	}
	info->hdr_len = ch.hlen + (hd ? NVME_TCP_DIGEST_LEN : 0u);
	if (len < info->hdr_len)
		return FDR_TCP_HDR_MORE;
	if (hd) {
		/* Verify before trusting any other field of the header. */
		uint32_t got = fdr_tcp_get_le32(b + ch.hlen);
		if (got != fdr_crc32c(b, ch.hlen)) {
			*fei = got;
			return NVME_TCP_FES_HDR_DIGEST_ERR;
		}
	}

	switch (ch.type) {
	case NVME_TCP_ICREQ: {
		const struct nvme_tcp_icreq *ic = (const struct nvme_tcp_icreq *)b;
		if (ch.plen != sizeof(struct nvme_tcp_icreq)) {
			*fei = FEI(struct nvme_tcp_hdr, plen);
			return NVME_TCP_FES_INVALID_PDU_HDR;
		}
		if (ic->pfv != NVME_TCP_PFV_1_0) {
			*fei = FEI(struct nvme_tcp_icreq, pfv);
			return NVME_TCP_FES_UNSUPPORTED_PARAM;
		}
		if (ic->hpda > FDR_TCP_MAX_HPDA) {
			*fei = FEI(struct nvme_tcp_icreq, hpda);
			return NVME_TCP_FES_INVALID_PDU_HDR;
		}
		return 0;
	}
	case NVME_TCP_H2C_TERM:
		if (ch.plen < sizeof(struct nvme_tcp_term) || ch.plen > FDR_TCP_TERM_MAX_PLEN) {
			*fei = FEI(struct nvme_tcp_hdr, plen);
			return NVME_TCP_FES_INVALID_PDU_HDR;
		}
		info->data_len = ch.plen - ch.hlen;
		return 0;
	case NVME_TCP_CMD:
		return check_cmd(&ch, info, p, fei);
	default: /* NVME_TCP_H2C_DATA */
		return check_h2c_data(b, &ch, info, p, fei);
	}
}

/* ---- Builders ---------------------------------------------------------- */

static void put_ch(uint8_t *buf, uint8_t type, uint8_t flags, uint8_t hlen, uint8_t pdo,
		   uint32_t plen)
{
	struct nvme_tcp_hdr ch = {
		.type = type, .flags = flags, .hlen = hlen, .pdo = pdo, .plen = plen};
	memcpy(buf, &ch, sizeof(ch));
}

static size_t finish_hdgst(uint8_t *buf, size_t hlen, bool hdgst)
{
	if (!hdgst)
		return hlen;
	fdr_tcp_put_le32(buf + hlen, fdr_crc32c(buf, hlen));
	return hlen + NVME_TCP_DIGEST_LEN;
}

size_t fdr_tcp_build_icresp(uint8_t *buf, uint8_t digest, uint32_t maxdata)
{
	struct nvme_tcp_icresp r;

	memset(&r, 0, sizeof(r));
	r.hdr.type = NVME_TCP_ICRESP;
	r.hdr.hlen = sizeof(r);
	r.hdr.plen = sizeof(r);
	r.pfv = NVME_TCP_PFV_1_0;
	r.cpda = 0;
	r.digest = digest;
	r.maxdata = maxdata;
	memcpy(buf, &r, sizeof(r));
	return sizeof(r);
}

size_t fdr_tcp_build_term(uint8_t *buf, uint16_t fes, uint32_t fei, const void *pdu_hdr,
			  size_t hdr_len)
{
	struct nvme_tcp_term t;

	if (hdr_len > NVME_TCP_TERM_MAX_DATA)
		hdr_len = NVME_TCP_TERM_MAX_DATA;
	memset(&t, 0, sizeof(t));
	t.hdr.type = NVME_TCP_C2H_TERM;
	t.hdr.hlen = sizeof(t);
	t.hdr.plen = (uint32_t)(sizeof(t) + hdr_len);
	t.fes = fes;
	t.fei = fei;
	memcpy(buf, &t, sizeof(t));
	if (hdr_len)
		memcpy(buf + sizeof(t), pdu_hdr, hdr_len);
	return sizeof(t) + hdr_len;
}

size_t fdr_tcp_build_r2t(uint8_t *buf, bool hdgst, uint16_t cccid, uint16_t ttag, uint32_t r2to,
			 uint32_t r2tl)
{
	struct nvme_tcp_r2t r;
	uint8_t hd = hdgst ? NVME_TCP_DIGEST_LEN : 0;

	memset(&r, 0, sizeof(r));
	r.hdr.type = NVME_TCP_R2T;
	r.hdr.flags = hdgst ? NVME_TCP_F_HDGST : 0;
	r.hdr.hlen = sizeof(r);
	r.hdr.plen = sizeof(r) + hd;
	r.cccid = cccid;
	r.ttag = ttag;
	r.r2to = r2to;
	r.r2tl = r2tl;
	memcpy(buf, &r, sizeof(r));
	return finish_hdgst(buf, sizeof(r), hdgst);
}

size_t fdr_tcp_build_rsp(uint8_t *buf, bool hdgst, const struct nvme_cqe *cqe)
{
	uint8_t hd = hdgst ? NVME_TCP_DIGEST_LEN : 0;

	put_ch(buf, NVME_TCP_RSP, hdgst ? NVME_TCP_F_HDGST : 0, sizeof(struct nvme_tcp_rsp), 0,
	       sizeof(struct nvme_tcp_rsp) + hd);
	memcpy(buf + sizeof(struct nvme_tcp_hdr), cqe, sizeof(*cqe));
	return finish_hdgst(buf, sizeof(struct nvme_tcp_rsp), hdgst);
}

uint32_t fdr_tcp_c2h_pdo(bool hdgst, uint8_t hpda)
{
	uint32_t hdr = sizeof(struct nvme_tcp_data) + (hdgst ? NVME_TCP_DIGEST_LEN : 0);

	return align_up(hdr, ((uint32_t)(hpda & FDR_TCP_MAX_HPDA) + 1u) * 4u);
}

size_t fdr_tcp_build_c2h(uint8_t *buf, bool hdgst, bool ddgst, uint8_t hpda, uint16_t cccid,
			 uint32_t datao, uint32_t datal, bool last)
{
	struct nvme_tcp_data d;
	uint32_t pdo = fdr_tcp_c2h_pdo(hdgst, hpda);
	size_t n;

	memset(&d, 0, sizeof(d));
	d.hdr.type = NVME_TCP_C2H_DATA;
	d.hdr.flags = (uint8_t)((hdgst ? NVME_TCP_F_HDGST : 0) | (ddgst ? NVME_TCP_F_DDGST : 0) |
				(last ? NVME_TCP_F_DATA_LAST : 0));
	d.hdr.hlen = sizeof(d);
	d.hdr.pdo = (uint8_t)pdo;
	d.hdr.plen = pdo + datal + (ddgst ? NVME_TCP_DIGEST_LEN : 0);
	d.cccid = cccid;
	d.datao = datao;
	d.datal = datal;
	memcpy(buf, &d, sizeof(d));
	n = finish_hdgst(buf, sizeof(d), hdgst);
	memset(buf + n, 0, pdo - n);
	return pdo;
}

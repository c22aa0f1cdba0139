/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Identify (06h): controller, namespace, active namespace list and
 * namespace identification descriptors, as a fabrics I/O or discovery
 * controller, or a PCIe controller, presents them.
 */
#include <stdio.h>

#include "admin.h"
#include "transport.h"

#define ID_CNS(cdw10) ((uint8_t)((cdw10) & 0xff))
#define ID_CSI(cdw11) ((uint8_t)((cdw11) >> 24))
#define NVME_CSI_NVM 0

/* SGLS bit 21: Transport SGL Data Block descriptors (what NVMe/TCP uses
 * for data outside the capsule); bit 20 covers in-capsule data. */
#define ADM_SGLS_TRANSPORT_DB (1u << 21)
/* CTRATT bit 0: 128-bit Host Identifier, the only kind fabrics has. */
#define ADM_CTRATT_HID128 (1u << 0)
/* OFCS bit 0: Disconnect command supported. */
#define ADM_OFCS_DISCONNECT (1u << 0)
/* CMIC bit 1: the subsystem may have more than one controller. */
#define ADM_CMIC_MULTI_CTRL (1u << 1)
/* FRMW: slot 1 read-only, one slot. */
#define ADM_FRMW 0x03
/* Relative performance of the LBA formats: 4 KiB best, 512 B good. */
#define ADM_RP_BEST 0
#define ADM_RP_GOOD 2

bool fdr_adm_has_vwc(const struct fdr_subsys *s)
{
	for (uint32_t id = 1; id <= FDR_MAX_NS; id++) {
		const struct fdr_ns *ns = fdr_subsys_ns(s, id);

		if (ns && ns->bdev->volatile_wc)
			return true;
	}
	return false;
}

/* Fields discovery and I/O controllers share. */
static void id_ctrl_common(struct fdr_ctrl *ctrl, struct nvme_id_ctrl *id)
{
	struct fdr_subsys *s = ctrl->subsys;

	/* No PCI vendor on fabrics: a software target has no ID of its own
	 * to report; a PCIe function reports the IDs of its config space. */
	id->vid = ctrl->pci ? ctrl->pci->vid : 0;
	id->ssvid = ctrl->pci ? ctrl->pci->ssvid : 0;
	fdr_strpad(id->sn, sizeof(id->sn), s->sn);
	fdr_strpad(id->mn, sizeof(id->mn), s->mn);
	fdr_strpad(id->fr, sizeof(id->fr), s->fr);
	id->cmic = ADM_CMIC_MULTI_CTRL;
	id->mdts = FDR_MDTS;
	id->cntlid = ctrl->cntlid;
	id->ver = ctrl->vs;
	id->ctratt = ADM_CTRATT_HID128;
	id->aerl = FDR_AERL - 1;
	id->elpe = FDR_ERROR_LOG_ENTRIES - 1;
	id->kas = FDR_KAS_MS / 100;
	id->sqes = 0x66;
	id->cqes = 0x44;
	snprintf(id->subnqn, sizeof(id->subnqn), "%s", s->nqn);
	id->npss = ADM_NPSS;
	id->psd[0].mp = 1000; /* 10 W, in centiwatts */
	if (ctrl->pci) {
		/* MAXCMD, IOCCSZ, IORCSZ, ICDOFF, FCATT, MSDBD, OFCS are
		 * fabrics only (zero); SGLs as far as the transport walks them. */
		id->sgls = ctrl->pci->sgls;
		return;
	}
	id->maxcmd = s->max_qdepth ? s->max_qdepth : FDR_ADMIN_QDEPTH;
	/* Linux nvme-tcp refuses a controller without SGL support. */
	id->sgls = NVME_SGLS_SUPPORTED | NVME_SGLS_OFFSET | ADM_SGLS_TRANSPORT_DB;
	id->iorcsz = 1;
	id->icdoff = 0;
	id->fcatt = 0; /* dynamic controller model */
	id->msdbd = 1;
	id->ofcs = ADM_OFCS_DISCONNECT;
}

static void id_ctrl_io(struct fdr_ctrl *ctrl, struct nvme_id_ctrl *id)
{
	struct fdr_subsys *s = ctrl->subsys;

	id->rab = 6;
	id->oaes = NVME_OAES_NS_ATTR | NVME_OAES_FW_ACTIVATION;
	id->cntrltype = NVME_CTRL_TYPE_IO;
	id->oacs = NVME_OACS_FORMAT;
	if (ctrl->pci && ctrl->pci->ops->dbbuf_config)
		id->oacs |= NVME_OACS_DBBUF;
	id->acl = 3;
	id->frmw = ADM_FRMW;
	id->lpa = NVME_LPA_SMART_PER_NS | NVME_LPA_CMD_EFFECTS | NVME_LPA_EXTENDED_DATA;
	id->wctemp = ADM_WCTEMP;
	id->cctemp = ADM_CCTEMP;
	id->nn = FDR_MAX_NS;
	id->oncs = NVME_ONCS_COMPARE | NVME_ONCS_WRITE_UNCORRECTABLE | NVME_ONCS_DSM |
		   NVME_ONCS_WRITE_ZEROES | NVME_ONCS_TIMESTAMP;
	id->fna = 0; /* Format NVM applies per namespace; no crypto erase */
	id->vwc = fdr_adm_has_vwc(s) ? 1 : 0;
	if (!ctrl->pci)
		id->ioccsz = (64 + s->inline_data_size) / 16;
}

static void id_ctrl_discovery(struct nvme_id_ctrl *id)
{
	id->oaes = NVME_AEC_DISC_CHANGE; /* same bit as in the AEC feature */
	id->cntrltype = NVME_CTRL_TYPE_DISCOVERY;
	id->lpa = NVME_LPA_EXTENDED_DATA;
	id->nn = 0;
	id->ioccsz = 64 / 16;
}

static void exec_id_ctrl(struct fdr_req *req)
{
	struct fdr_ctrl *ctrl = adm_ctrl(req);
	struct nvme_id_ctrl *id = (struct nvme_id_ctrl *)req->buf;

	memset(id, 0, sizeof(*id));
	id_ctrl_common(ctrl, id);
	if (adm_is_discovery(ctrl))
		id_ctrl_discovery(id);
	else
		id_ctrl_io(ctrl, id);
	fdr_req_complete(req, NVME_SC_SUCCESS);
}

/* The LBA format table every namespace offers. */
static void id_ns_lbafs(struct nvme_id_ns *id)
{
	id->nlbaf = FDR_NR_LBAF - 1;
	for (unsigned i = 0; i < FDR_NR_LBAF; i++) {
		id->lbaf[i].ms = 0;
		id->lbaf[i].lbads = fdr_lbaf_lbads[i];
		id->lbaf[i].rp = fdr_lbaf_lbads[i] >= 12 ? ADM_RP_BEST : ADM_RP_GOOD;
	}
}

static void exec_id_ns(struct fdr_req *req)
{
	struct nvme_id_ns *id = (struct nvme_id_ns *)req->buf;
	struct fdr_ns *ns = fdr_subsys_ns(adm_ctrl(req)->subsys, req->cmd.nsid);

	memset(id, 0, sizeof(*id));
	/* An inactive NSID reads as zeroes (NCAP 0 tells the host so). */
	if (ns) {
		id->nsze = ns->nsze;
		id->ncap = ns->nsze;
		id->nuse = ns->nsze;
		id->flbas = ns->flbas;
		id->nmic = 1; /* may be attached to several controllers */
		id->dlfeat = NVME_DLFEAT_READ_ZEROES | NVME_DLFEAT_WZ_DEALLOC;
		adm_put_u128(id->nvmcap, ns->nsze << ns->lbads);
		memcpy(id->nguid, ns->nguid, sizeof(id->nguid));
		memcpy(id->eui64, ns->eui64, sizeof(id->eui64));
		id_ns_lbafs(id);
	}
	fdr_req_complete(req, NVME_SC_SUCCESS);
}

static void exec_active_ns_list(struct fdr_req *req)
{
	uint32_t *list = (uint32_t *)req->buf;
	struct fdr_subsys *s = adm_ctrl(req)->subsys;
	unsigned n = 0;

	memset(req->buf, 0, req->data_len);
	/* IDs greater than the one given, ascending; at most 1024 fit. */
	for (uint32_t id = req->cmd.nsid + 1; id <= FDR_MAX_NS && n < 1024; id++) {
		if (fdr_subsys_ns(s, id))
			list[n++] = id;
	}
	fdr_req_complete(req, NVME_SC_SUCCESS);
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* Append one descriptor; identifiers that are all zeroes do not exist. */
static size_t put_desc(uint8_t *buf, size_t pos, uint8_t nidt, const void *val, uint8_t len)
{
	struct nvme_ns_id_desc d = { .nidt = nidt, .nidl = len };

	if (nidt != NVME_NIDT_CSI && all_zero(val, len))
		return pos;
	memcpy(buf + pos, &d, sizeof(d));
	memcpy(buf + pos + sizeof(d), val, len);
	return pos + sizeof(d) + len;
}

static void exec_ns_desc_list(struct fdr_req *req)
{
	struct fdr_ns *ns = fdr_subsys_ns(adm_ctrl(req)->subsys, req->cmd.nsid);
	const uint8_t csi = NVME_CSI_NVM;
	size_t pos = 0;

	if (!ns) {
		fdr_req_complete(req, ADM_INVALID_NS);
		return;
	}
	memset(req->buf, 0, req->data_len);
	pos = put_desc(req->buf, pos, NVME_NIDT_EUI64, ns->eui64, NVME_NIDT_EUI64_LEN);
	pos = put_desc(req->buf, pos, NVME_NIDT_NGUID, ns->nguid, NVME_NIDT_NGUID_LEN);
	pos = put_desc(req->buf, pos, NVME_NIDT_UUID, ns->uuid, NVME_NIDT_UUID_LEN);
	put_desc(req->buf, pos, NVME_NIDT_CSI, &csi, NVME_NIDT_CSI_LEN);
	fdr_req_complete(req, NVME_SC_SUCCESS);
}

/* I/O Command Set specific Identify Controller for NVM: all limits (VSL,
 * WZSL, WUSL, DMRL, DMRSL, DMSL) zero, i.e. none beyond MDTS. */
static void exec_zeroes(struct fdr_req *req)
{
	memset(req->buf, 0, req->data_len);
	fdr_req_complete(req, NVME_SC_SUCCESS);
}

uint16_t fdr_adm_identify_decode(struct fdr_req *req)
{
	struct fdr_ctrl *ctrl = adm_ctrl(req);
	uint8_t cns = ID_CNS(req->cmd.cdw10);
	uint32_t nsid = req->cmd.nsid;

	if (adm_is_discovery(ctrl) && cns != NVME_CNS_CTRL)
		return ADM_INVALID_FIELD;

	switch (cns) {
	case NVME_CNS_NS:
		/* FFFFFFFFh (capabilities common to all namespaces) is only
		 * defined with Namespace Management, which we lack. */
		if (nsid == 0 || nsid > FDR_MAX_NS)
			return ADM_INVALID_NS;
		return adm_setup(req, exec_id_ns, 4096);
	case NVME_CNS_CTRL:
		return adm_setup(req, exec_id_ctrl, 4096);
	case NVME_CNS_ACTIVE_NS_LIST:
		if (nsid >= 0xfffffffeu)
			return ADM_INVALID_NS;
		return adm_setup(req, exec_active_ns_list, 4096);
	case NVME_CNS_NS_DESC_LIST:
		if (!fdr_subsys_ns(ctrl->subsys, nsid))
			return ADM_INVALID_NS;
		return adm_setup(req, exec_ns_desc_list, 4096);
	case NVME_CNS_CSI_CTRL:
		if (ID_CSI(req->cmd.cdw11) != NVME_CSI_NVM)
			return ADM_INVALID_FIELD;
		return adm_setup(req, exec_zeroes, 4096);
	default:
		return ADM_INVALID_FIELD;
	}
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Get Features (0Ah) and Set Features (09h).  Nothing is saveable, so
 * "saved" reads as "default".  No feature is namespace specific.
 */
#include "admin.h"
#include "pci.h"
#include "transport.h"

#define FEAT_FID(cdw10) ((uint8_t)((cdw10) & 0xff))
#define FEAT_SEL(cdw10) (((cdw10) >> 8) & 0x7)
#define FEAT_SV (1u << 31)
#define FEAT_EXHID 1u

/* Temperature Threshold CDW11 */
#define TEMP_TMPTH(v) ((uint16_t)((v) & 0xffff))
#define TEMP_TMPSEL(v) (((v) >> 16) & 0xf)
#define TEMP_THSEL(v) (((v) >> 20) & 0x3)
#define TEMP_TMPSEL_ALL 0xf
#define TEMP_THSEL_OVER 0
#define TEMP_THSEL_UNDER 1

#define ERR_REC_DULBE (1u << 16)
#define TIMESTAMP_ORIGIN_SET (1u << 1) /* byte 6 bits 3:1 = 001b */
#define HOST_BEHAVIOR_LEN 512

static uint16_t io_queues_max0(const struct fdr_ctrl *ctrl)
{
	uint16_t n = ctrl->subsys->max_io_queues;

	return n ? n - 1 : 0;
}

static bool feat_supported(const struct fdr_ctrl *ctrl, uint8_t fid)
{
	if (adm_is_discovery(ctrl))
		return fid == NVME_FEAT_ASYNC_EVENT || fid == NVME_FEAT_KATO;

	switch (fid) {
	case NVME_FEAT_ARBITRATION:
	case NVME_FEAT_POWER_MGMT:
	case NVME_FEAT_TEMP_THRESH:
	case NVME_FEAT_ERR_RECOVERY:
	case NVME_FEAT_NUM_QUEUES:
	case NVME_FEAT_IRQ_COALESCE:
	case NVME_FEAT_WRITE_ATOMIC:
	case NVME_FEAT_ASYNC_EVENT:
	case NVME_FEAT_TIMESTAMP:
	case NVME_FEAT_KATO:
	case NVME_FEAT_HOST_BEHAVIOR:
	case NVME_FEAT_SW_PROGRESS:
	case NVME_FEAT_HOST_ID:
		return true;
	case NVME_FEAT_VOLATILE_WC:
		return fdr_adm_has_vwc(ctrl->subsys);
	case NVME_FEAT_IRQ_CONFIG:
		/* A fabrics controller has no interrupt vector to name. */
		return ctrl->pci != NULL;
	default:
		return false;
	}
}

/* Bytes of the data buffer; Host Identifier only comes 128 bits wide
 * on fabrics (a 64-bit request is a size we do not support). */
static uint16_t feat_data_len(uint8_t fid, uint32_t cdw11, uint32_t *len)
{
	switch (fid) {
	case NVME_FEAT_TIMESTAMP:
		*len = 8;
		break;
	case NVME_FEAT_HOST_BEHAVIOR:
		*len = HOST_BEHAVIOR_LEN;
		break;
	case NVME_FEAT_HOST_ID:
		if (!(cdw11 & FEAT_EXHID))
			return ADM_INVALID_FIELD;
		*len = 16;
		break;
	default:
		*len = 0;
		break;
	}
	return NVME_SC_SUCCESS;
}

/* ---- Get ---------------------------------------------------------------- */

static uint64_t get_le48(const uint8_t *p)
{
	uint64_t v = 0;

	memcpy(&v, p, 6);
	return v;
}

static void put_timestamp(const struct fdr_features *f, uint8_t *buf)
{
	uint64_t now = fdr_now_ns(), ms;
	uint8_t attr = 0;

	if (f->timestamp_set_ns) {
		ms = f->timestamp_ms + (now - f->timestamp_set_ns) / 1000000;
		attr = TIMESTAMP_ORIGIN_SET;
	} else {
		/* Never set: counts from zero at controller reset, origin 000b. */
		ms = (now - f->reset_ns) / 1000000;
	}
	memset(buf, 0, 8);
	memcpy(buf, &ms, 6);
	buf[6] = attr;
}

static uint16_t get_temp(const struct fdr_features *f, uint32_t cdw11, uint32_t *val)
{
	unsigned sel = TEMP_TMPSEL(cdw11), th = TEMP_THSEL(cdw11);

	/* Only the composite sensor exists. */
	if (sel != 0 || th > TEMP_THSEL_UNDER)
		return ADM_INVALID_FIELD;
	*val = (th == TEMP_THSEL_OVER ? f->temp_over[0] : f->temp_under[0]) | (cdw11 & 0x3f0000);
	return NVME_SC_SUCCESS;
}

/* Interrupt Vector Configuration CDW11: IV (15:0), CD (16). */
#define IRQ_CFG_IV(v) ((uint16_t)((v) & 0xffff))
#define IRQ_CFG_CD (1u << 16)

static uint16_t get_irq_config(const struct fdr_ctrl *ctrl, const struct fdr_features *f,
			       uint32_t cdw11, uint32_t *val)
{
	uint16_t iv = IRQ_CFG_IV(cdw11);

	if (iv >= ctrl->pci->nr_vectors)
		return ADM_INVALID_FIELD;
	*val = iv;
	if (__atomic_load_n(&f->irq_cd[iv / 32], __ATOMIC_RELAXED) & (1u << (iv % 32)))
		*val |= IRQ_CFG_CD;
	return NVME_SC_SUCCESS;
}

static uint32_t feat_caps(uint8_t fid)
{
	/* The Host Identifier comes from Connect and cannot be changed. */
	return fid == NVME_FEAT_HOST_ID ? 0 : NVME_FEAT_CAP_CHANGEABLE;
}

static void exec_get_features(struct fdr_req *req)
{
	struct fdr_ctrl *ctrl = adm_ctrl(req);
	uint8_t fid = FEAT_FID(req->cmd.cdw10);
	unsigned sel = FEAT_SEL(req->cmd.cdw10);
	uint32_t cdw11 = req->cmd.cdw11, val = 0;
	struct fdr_features def, *f = &ctrl->feat;
	uint16_t status = NVME_SC_SUCCESS;

	if (sel == NVME_FEAT_SEL_SUPPORTED) {
		req->cpl.cdw0 = feat_caps(fid);
		fdr_req_complete(req, NVME_SC_SUCCESS);
		return;
	}
	if (sel != NVME_FEAT_SEL_CURRENT) {
		/* Default (and saved, since nothing is saveable). */
		def = ctrl->feat;
		f = &def;
		f->arbitration = f->power_mgmt = f->err_recovery = 0;
		f->temp_over[0] = ADM_WCTEMP;
		f->temp_under[0] = 0;
		f->vwc_enabled = fdr_adm_has_vwc(ctrl->subsys);
		f->nr_queues_set = false;
		f->irq_coalesce = f->write_atomic = f->async_event_cfg = 0;
		memset(f->irq_cd, 0, sizeof(f->irq_cd));
		f->sw_progress = f->host_behavior = 0;
		f->timestamp_set_ns = 0;
	}

	switch (fid) {
	case NVME_FEAT_ARBITRATION:
		val = f->arbitration;
		break;
	case NVME_FEAT_POWER_MGMT:
		val = f->power_mgmt;
		break;
	case NVME_FEAT_TEMP_THRESH:
		status = get_temp(f, cdw11, &val);
		break;
	case NVME_FEAT_ERR_RECOVERY:
		val = f->err_recovery;
		break;
	case NVME_FEAT_VOLATILE_WC:
		val = __atomic_load_n(&f->vwc_enabled, __ATOMIC_RELAXED) ? 1 : 0;
		break;
	case NVME_FEAT_NUM_QUEUES:
		if (f->nr_queues_set)
			val = f->nr_io_sq | (uint32_t)f->nr_io_cq << 16;
		else
			val = io_queues_max0(ctrl) | (uint32_t)io_queues_max0(ctrl) << 16;
		break;
	case NVME_FEAT_IRQ_COALESCE:
		val = __atomic_load_n(&f->irq_coalesce, __ATOMIC_RELAXED);
		break;
	case NVME_FEAT_IRQ_CONFIG:
		status = get_irq_config(ctrl, f, cdw11, &val);
		break;
	case NVME_FEAT_WRITE_ATOMIC:
		val = f->write_atomic;
		break;
	case NVME_FEAT_ASYNC_EVENT:
		pthread_mutex_lock(&ctrl->lock);
		val = f->async_event_cfg;
		pthread_mutex_unlock(&ctrl->lock);
		break;
	case NVME_FEAT_TIMESTAMP:
		put_timestamp(f, req->buf);
		break;
	case NVME_FEAT_KATO:
		val = sel == NVME_FEAT_SEL_CURRENT ? ctrl->kato_ms : FDR_KATO_DEFAULT_MS;
		break;
	case NVME_FEAT_HOST_BEHAVIOR:
		memset(req->buf, 0, req->data_len);
		req->buf[0] = (uint8_t)f->host_behavior; /* ACRE */
		break;
	case NVME_FEAT_SW_PROGRESS:
		val = f->sw_progress;
		break;
	case NVME_FEAT_HOST_ID:
		memcpy(req->buf, ctrl->hostid, 16);
		break;
	default:
		status = ADM_INVALID_FIELD; /* decode let through only the above */
		break;
	}
	req->cpl.cdw0 = val;
	fdr_req_complete(req, status);
}

uint16_t fdr_adm_get_features_decode(struct fdr_req *req)
{
	uint8_t fid = FEAT_FID(req->cmd.cdw10);
	unsigned sel = FEAT_SEL(req->cmd.cdw10);
	uint32_t len = 0;
	uint16_t status;

	if (sel > NVME_FEAT_SEL_SUPPORTED || !feat_supported(adm_ctrl(req), fid))
		return ADM_INVALID_FIELD;
	/* Supported capabilities come in CDW0 alone. */
	if (sel != NVME_FEAT_SEL_SUPPORTED) {
		status = feat_data_len(fid, req->cmd.cdw11, &len);
		if (status)
			return status;
	}
	return adm_setup(req, exec_get_features, len);
}

/* ---- Set ---------------------------------------------------------------- */

uint16_t fdr_adm_temperature(const struct fdr_subsys *s)
{
	uint16_t t = __atomic_load_n(&s->temperature, __ATOMIC_RELAXED);

	return t ? t : ADM_TEMP_DEFAULT;
}

bool fdr_adm_temp_crossed(const struct fdr_ctrl *ctrl)
{
	uint16_t t = fdr_adm_temperature(ctrl->subsys);

	return t >= ctrl->feat.temp_over[0] || t <= ctrl->feat.temp_under[0];
}

static uint16_t set_temp(struct fdr_ctrl *ctrl, uint32_t cdw11)
{
	unsigned sel = TEMP_TMPSEL(cdw11), th = TEMP_THSEL(cdw11);
	uint16_t *slot;

	/* The composite sensor, or "all implemented sensors" (the same). */
	if ((sel != 0 && sel != TEMP_TMPSEL_ALL) || th > TEMP_THSEL_UNDER)
		return ADM_INVALID_FIELD;
	slot = th == TEMP_THSEL_OVER ? &ctrl->feat.temp_over[0] : &ctrl->feat.temp_under[0];
	*slot = TEMP_TMPTH(cdw11);
	/* A threshold now crossed is a SMART temperature event. */
	if (fdr_adm_temp_crossed(ctrl))
		fdr_ctrl_raise_aen(ctrl, NVME_AER_TYPE_SMART, NVME_AER_SMART_TEMP_THRESH,
				   NVME_LOG_SMART);
	return NVME_SC_SUCCESS;
}

static uint16_t set_num_queues(struct fdr_ctrl *ctrl, uint32_t cdw11, uint32_t *cdw0)
{
	uint16_t nsqr = cdw11 & 0xffff, ncqr = cdw11 >> 16, max0 = io_queues_max0(ctrl);

	if (nsqr == 0xffff || ncqr == 0xffff)
		return ADM_INVALID_FIELD;
	/* The count is fixed once I/O queues exist, until the next reset. */
	bool have_ioq = false;
	pthread_mutex_lock(&ctrl->subsys->lock);
	for (unsigned qid = 1; qid <= FDR_MAX_IO_QUEUES; qid++)
		have_ioq |= ctrl->ioq[qid] != NULL;
	pthread_mutex_unlock(&ctrl->subsys->lock);
	if (ctrl->pci)
		have_ioq |= fdr_pci_has_io_queues(ctrl);
	if (have_ioq)
		return ADM_SC(NVME_SC_COMMAND_SEQUENCE_ERROR) | NVME_STATUS_DNR;
	ctrl->feat.nr_io_sq = nsqr < max0 ? nsqr : max0;
	ctrl->feat.nr_io_cq = ncqr < max0 ? ncqr : max0;
	ctrl->feat.nr_queues_set = true;
	*cdw0 = ctrl->feat.nr_io_sq | (uint32_t)ctrl->feat.nr_io_cq << 16;
	return NVME_SC_SUCCESS;
}

static uint16_t set_irq_config(struct fdr_ctrl *ctrl, uint32_t cdw11)
{
	uint16_t iv = IRQ_CFG_IV(cdw11);
	uint32_t bit = 1u << (iv % 32);

	if (iv >= ctrl->pci->nr_vectors)
		return ADM_INVALID_FIELD;
	if (cdw11 & IRQ_CFG_CD)
		__atomic_or_fetch(&ctrl->feat.irq_cd[iv / 32], bit, __ATOMIC_RELAXED);
	else
		__atomic_and_fetch(&ctrl->feat.irq_cd[iv / 32], ~bit, __ATOMIC_RELAXED);
	if (ctrl->pci->ops->irq_config_changed)
		ctrl->pci->ops->irq_config_changed(ctrl, iv);
	return NVME_SC_SUCCESS;
}

static void exec_set_features(struct fdr_req *req)
{
	struct fdr_ctrl *ctrl = adm_ctrl(req);
	struct fdr_features *f = &ctrl->feat;
	uint32_t cdw11 = req->cmd.cdw11, cdw0 = 0;
	uint16_t status = NVME_SC_SUCCESS;

	switch (FEAT_FID(req->cmd.cdw10)) {
	case NVME_FEAT_ARBITRATION:
		f->arbitration = cdw11; /* round robin only: weights are kept, unused */
		break;
	case NVME_FEAT_POWER_MGMT:
		if ((cdw11 & 0x1f) > ADM_NPSS)
			status = ADM_INVALID_FIELD;
		else
			f->power_mgmt = cdw11 & 0xff;
		break;
	case NVME_FEAT_TEMP_THRESH:
		status = set_temp(ctrl, cdw11);
		break;
	case NVME_FEAT_ERR_RECOVERY:
		/* DULBE needs deallocated-block errors, which we never raise. */
		if (cdw11 & ERR_REC_DULBE)
			status = ADM_INVALID_FIELD;
		else
			f->err_recovery = cdw11 & 0xffff;
		break;
	case NVME_FEAT_VOLATILE_WC:
		__atomic_store_n(&f->vwc_enabled, (cdw11 & 1) != 0, __ATOMIC_RELAXED);
		break;
	case NVME_FEAT_NUM_QUEUES:
		status = set_num_queues(ctrl, cdw11, &cdw0);
		break;
	case NVME_FEAT_IRQ_COALESCE:
		__atomic_store_n(&f->irq_coalesce, cdw11 & 0xffff, __ATOMIC_RELAXED);
		if (ctrl->pci && ctrl->pci->ops->irq_config_changed)
			ctrl->pci->ops->irq_config_changed(ctrl, 0xffff);
		break;
	case NVME_FEAT_IRQ_CONFIG:
		status = set_irq_config(ctrl, cdw11);
		break;
	case NVME_FEAT_WRITE_ATOMIC:
		f->write_atomic = cdw11 & 1;
		break;
	case NVME_FEAT_ASYNC_EVENT:
		pthread_mutex_lock(&ctrl->lock);
		f->async_event_cfg = cdw11 & (adm_is_discovery(ctrl) ? ADM_AEC_DISC : ADM_AEC_IO);
		pthread_mutex_unlock(&ctrl->lock);
		break;
	case NVME_FEAT_TIMESTAMP:
		f->timestamp_ms = get_le48(req->buf);
		f->timestamp_set_ns = fdr_now_ns();
		break;
	case NVME_FEAT_KATO:
		ctrl->kato_ms = cdw11;
		fdr_ctrl_keep_alive(ctrl); /* re-arms with the new timeout */
		break;
	case NVME_FEAT_HOST_BEHAVIOR:
		f->host_behavior = req->buf[0] & 1; /* ACRE; no CRD is ever set */
		break;
	case NVME_FEAT_SW_PROGRESS:
		f->sw_progress = cdw11 & 0xff;
		break;
	default:
		status = ADM_INVALID_FIELD; /* decode let through only the above */
		break;
	}
	req->cpl.cdw0 = cdw0;
	fdr_req_complete(req, status);
}

uint16_t fdr_adm_set_features_decode(struct fdr_req *req)
{
	uint8_t fid = FEAT_FID(req->cmd.cdw10);
	uint32_t nsid = req->cmd.nsid, len;
	uint16_t status;

	if (!feat_supported(adm_ctrl(req), fid))
		return ADM_INVALID_FIELD;
	if (req->cmd.cdw10 & FEAT_SV)
		return ADM_CS(NVME_SC_FEATURE_NOT_SAVEABLE) | NVME_STATUS_DNR;
	if (nsid != 0 && nsid != NVME_NSID_ALL) {
		/* Error Recovery is namespace specific since NVMe 1.4 (DULBE);
		 * one setting serves all our namespaces. */
		if (nsid > FDR_MAX_NS || (fid == NVME_FEAT_ERR_RECOVERY &&
					  !fdr_subsys_ns(adm_ctrl(req)->subsys, nsid)))
			return ADM_INVALID_NS;
		if (fid != NVME_FEAT_ERR_RECOVERY)
			return ADM_CS(NVME_SC_FEATURE_NOT_NS_SPECIFIC) | NVME_STATUS_DNR;
	}
	/* On fabrics the Host Identifier is the one Connect carried. */
	if (fid == NVME_FEAT_HOST_ID)
		return ADM_SC(NVME_SC_COMMAND_SEQUENCE_ERROR) | NVME_STATUS_DNR;
	status = feat_data_len(fid, req->cmd.cdw11, &len);
	if (status)
		return status;
	return adm_setup(req, exec_set_features, len);
}

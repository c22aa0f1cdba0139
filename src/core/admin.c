/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Admin command decode (fabrics and PCIe controllers), and the small
 * commands: Abort, Keep Alive, Format NVM, Asynchronous Event Request.
 * Identify, Get Log Page and Get/Set Features live in their own files.
 */
#include <errno.h>

#include "admin.h"
#include "common/log.h"
#include "pci.h"

/* ---- Abort ----------------------------------------------------------- */

/*
 * Commands here complete quickly and there is no way to pull one back out
 * of a backend, so every Abort reports "command not aborted" (CDW0 bit 0),
 * which the spec allows for any command.
 */
static void exec_abort(struct fdr_req *req)
{
	req->cpl.cdw0 = 1;
	fdr_req_complete(req, NVME_SC_SUCCESS);
}

/* ---- Keep Alive ---------------------------------------------------- */

static void exec_keep_alive(struct fdr_req *req)
{
	fdr_ctrl_keep_alive(adm_ctrl(req));
	fdr_req_complete(req, NVME_SC_SUCCESS);
}

/* ---- Format NVM ----------------------------------------------------- */

static uint16_t format_one(struct fdr_ns *ns, uint8_t lbaf)
{
	int rc = fdr_ns_format(ns, lbaf);

	if (rc == -EBUSY)
		return ADM_SC(NVME_SC_FORMAT_IN_PROGRESS);
	/* The device size is not a whole number of LBAs of that format. */
	if (rc == -EINVAL)
		return ADM_CS(NVME_SC_INVALID_FORMAT) | NVME_STATUS_DNR;
	if (rc) {
		fdr_err("format of nsid %u failed: %d", ns->nsid, rc);
		return ADM_INTERNAL;
	}
	return NVME_SC_SUCCESS;
}

/* Every controller of the subsystem sees the new LBA format. */
static void ns_changed_one(struct fdr_ctrl *ctrl, void *arg)
{
	fdr_adm_ns_changed(ctrl, *(uint32_t *)arg);
}

static void format_notify(struct fdr_subsys *s, uint32_t nsid)
{
	fdr_subsys_for_each_ctrl(s, ns_changed_one, &nsid);
}

static void exec_format(struct fdr_req *req)
{
	struct fdr_subsys *s = adm_ctrl(req)->subsys;
	uint8_t lbaf = NVME_FORMAT_LBAF(req->cmd.cdw10);
	uint32_t nsid = req->cmd.nsid;
	uint16_t status = NVME_SC_SUCCESS;
	bool found = false;

	for (uint32_t id = 1; id <= FDR_MAX_NS && !status; id++) {
		struct fdr_ns *ns = fdr_subsys_ns(s, id);

		if (!ns || (nsid != NVME_NSID_ALL && id != nsid))
			continue;
		found = true;
		status = format_one(ns, lbaf);
		if (!status)
			format_notify(s, id);
	}
	/* The namespace went away between decode and execute. */
	if (!found && nsid != NVME_NSID_ALL)
		status = ADM_INVALID_NS;
	fdr_req_complete(req, status);
}

static uint16_t decode_format(struct fdr_req *req)
{
	uint32_t cdw10 = req->cmd.cdw10;
	uint32_t nsid = req->cmd.nsid;

	if (nsid != NVME_NSID_ALL && !fdr_subsys_ns(adm_ctrl(req)->subsys, nsid))
		return ADM_INVALID_NS;
	/* LBAF, and the upper LBAF bits of NVMe 2.0 (13:12) which we lack. */
	if (NVME_FORMAT_LBAF(cdw10) >= FDR_NR_LBAF || (cdw10 & (3u << 12)))
		return ADM_CS(NVME_SC_INVALID_FORMAT) | NVME_STATUS_DNR;
	/* No LBA format has metadata or protection information. */
	if ((cdw10 & NVME_FORMAT_MSET) || NVME_FORMAT_PI(cdw10))
		return ADM_CS(NVME_SC_INVALID_FORMAT) | NVME_STATUS_DNR;
	/* User data erase is what a format does here anyway; no crypto erase. */
	if (NVME_FORMAT_SES(cdw10) > 1)
		return ADM_INVALID_FIELD;
	return adm_setup(req, exec_format, 0);
}

/* ---- Dispatch -------------------------------------------------------- */

uint16_t fdr_admin_decode(struct fdr_req *req)
{
	struct fdr_ctrl *ctrl = adm_ctrl(req);

	/* The Timestamp feature counts from the controller's last reset
	 * (creation or CC.EN=0 zeroes feat); the first admin command after
	 * it is when we notice. */
	if (!ctrl->feat.reset_ns)
		ctrl->feat.reset_ns = fdr_now_ns();

	/* A discovery controller has the same set minus Abort and Format. */
	bool io_ctrl = !adm_is_discovery(ctrl);

	switch (req->cmd.opc) {
	case NVME_ADM_GET_LOG_PAGE:
		return fdr_adm_get_log_decode(req);
	case NVME_ADM_IDENTIFY:
		return fdr_adm_identify_decode(req);
	case NVME_ADM_SET_FEATURES:
		return fdr_adm_set_features_decode(req);
	case NVME_ADM_GET_FEATURES:
		return fdr_adm_get_features_decode(req);
	case NVME_ADM_ASYNC_EVENT_REQUEST:
		return adm_setup(req, fdr_adm_aer_exec, 0);
	case NVME_ADM_KEEP_ALIVE:
		return adm_setup(req, exec_keep_alive, 0);
	case NVME_ADM_ABORT:
		if (io_ctrl)
			return adm_setup(req, exec_abort, 0);
		break;
	case NVME_ADM_FORMAT_NVM:
		if (io_ctrl)
			return decode_format(req);
		break;
	case NVME_ADM_CREATE_IO_CQ:
	case NVME_ADM_CREATE_IO_SQ:
	case NVME_ADM_DELETE_IO_SQ:
	case NVME_ADM_DELETE_IO_CQ:
	case NVME_ADM_DOORBELL_BUFFER_CONFIG:
		if (ctrl->pci)
			return fdr_pci_adm_decode(req);
		break;
	default:
		break;
	}
	/* Queue creation/deletion exist on PCIe controllers only.  Doorbell
	 * Buffer Config (shadow doorbells) is not offered yet, on any
	 * controller; the optional rest is not implemented (OACS says so). */
	return ADM_INVALID_OPCODE;
}

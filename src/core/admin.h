/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Private to the admin command set (admin.c, identify.c, features.c,
 * log_page.c, aen.c): shared decode helpers and the per-command entry
 * points that fdr_admin_decode() dispatches to.
 */
#ifndef FDR_ADMIN_H
#define FDR_ADMIN_H

#include <string.h>

#include "core.h"

/* Statuses used all over the admin set. */
#define ADM_SC(sc) NVME_STATUS(NVME_SCT_GENERIC, sc)
#define ADM_CS(sc) NVME_STATUS(NVME_SCT_COMMAND_SPECIFIC, sc)
#define ADM_INVALID_FIELD (ADM_SC(NVME_SC_INVALID_FIELD) | NVME_STATUS_DNR)
#define ADM_INVALID_OPCODE (ADM_SC(NVME_SC_INVALID_OPCODE) | NVME_STATUS_DNR)
#define ADM_INVALID_NS (ADM_SC(NVME_SC_INVALID_NAMESPACE_OR_FORMAT) | NVME_STATUS_DNR)
#define ADM_INTERNAL ADM_SC(NVME_SC_INTERNAL)

/* Identify Controller values other parts of the admin set must agree with. */
#define ADM_NPSS 0          /* one power state (zero-based) */
#define ADM_WCTEMP 343      /* Kelvin: 70 C */
#define ADM_CCTEMP 358      /* Kelvin: 85 C */
#define ADM_TEMP_DEFAULT 308 /* Kelvin: 35 C, if the subsystem reports none */
#define ADM_AEC_IO (NVME_AEC_SMART_MASK | NVME_AEC_NS_ATTR | NVME_AEC_FW_ACTIVATION)
#define ADM_AEC_DISC NVME_AEC_DISC_CHANGE

static inline struct fdr_ctrl *adm_ctrl(const struct fdr_req *req)
{
	return req->q->ctrl;
}

static inline bool adm_is_discovery(const struct fdr_ctrl *ctrl)
{
	return ctrl->subsys->type == FDR_SUBSYS_DISCOVERY;
}

/*
 * Common tail of every decode: choose the handler and the data phase.
 * The direction comes from the opcode's low bits (NVMe opcode encoding).
 */
static inline uint16_t adm_setup(struct fdr_req *req, void (*exec)(struct fdr_req *),
				 uint32_t len)
{
	req->exec = exec;
	req->data_len = len;
	req->xfer = len ? (req->cmd.opc & NVME_OPC_XFER_MASK) : NVME_OPC_XFER_NONE;
	if (len > FDR_MAX_XFER)
		return ADM_INVALID_FIELD;
	if (len && !fdr_req_buf_reserve(req, len))
		return ADM_INTERNAL;
	return NVME_SC_SUCCESS;
}

/* 128-bit little endian counters of the SMART log and Identify. */
static inline void adm_put_u128(uint8_t dst[16], uint64_t v)
{
	memset(dst, 0, 16);
	memcpy(dst, &v, sizeof(v));
}

/* Per-command decode, one per opcode family (each file owns one). */
uint16_t fdr_adm_identify_decode(struct fdr_req *req);
uint16_t fdr_adm_get_log_decode(struct fdr_req *req);
uint16_t fdr_adm_get_features_decode(struct fdr_req *req);
uint16_t fdr_adm_set_features_decode(struct fdr_req *req);
void fdr_adm_aer_exec(struct fdr_req *req);

/* identify.c: any namespace of the subsystem behind a volatile write cache? */
bool fdr_adm_has_vwc(const struct fdr_subsys *s);
/* features.c: composite temperature (Kelvin), and whether it crosses a threshold. */
uint16_t fdr_adm_temperature(const struct fdr_subsys *s);
bool fdr_adm_temp_crossed(const struct fdr_ctrl *ctrl);

/* aen.c */
/* Record nsid in the Changed Namespace List and raise the notice. */
void fdr_adm_ns_changed(struct fdr_ctrl *ctrl, uint32_t nsid);
/* Under ctrl->lock: the host read log lid; unmask the types it clears.
 * Returns true if something was unmasked (then call fdr_adm_aen_kick). */
bool fdr_adm_aen_unmask_locked(struct fdr_ctrl *ctrl, uint8_t lid);
/* Admin reactor: pair pending events with outstanding AERs. */
void fdr_adm_aen_kick(struct fdr_ctrl *ctrl);

#endif /* FDR_ADMIN_H */

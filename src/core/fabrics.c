/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Fabrics commands (opcode 7Fh): Connect creates controllers and binds
 * queues to them; Property Get/Set are the fabrics form of register access.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "transport.h"

#define CONNECT_SQE_IPO(field) ((uint32_t)offsetof(struct nvme_fabrics_connect_cmd, field))
#define CONNECT_DATA_IPO(field) \
	((1u << 16) | (uint32_t)offsetof(struct nvme_fabrics_connect_data, field))

static uint16_t connect_invalid(struct fdr_req *req, uint32_t ipo)
{
	req->cpl.cdw0 = ipo;
	return NVME_STATUS(NVME_SCT_COMMAND_SPECIFIC, NVME_SC_CONNECT_INVALID_PARAMETERS) |
	       NVME_STATUS_DNR;
}

/* Copies a 256-byte NQN field, refusing one that is unterminated or empty. */
static bool nqn_copy(char dst[FDR_NQN_SIZE], const char src[256])
{
	size_t n = strnlen(src, 256);

	if (n == 0 || n >= FDR_NQN_SIZE)
		return false;
	memcpy(dst, src, n);
	dst[n] = '\0';
	return true;
}

static uint16_t connect_admin(struct fdr_req *req, struct fdr_subsys *s,
			      const struct nvme_fabrics_connect_cmd *c,
			      const struct nvme_fabrics_connect_data *d, const char *hostnqn)
{
	struct fdr_queue *q = req->q;
	uint16_t status = 0;
	unsigned max_depth = FDR_ADMIN_QDEPTH;

	if (c->sqsize < 1 || c->sqsize >= max_depth)
		return connect_invalid(req, CONNECT_SQE_IPO(sqsize));
	if (d->cntlid != 0xffff && s->type == FDR_SUBSYS_NVME)
		/* Dynamic controller model: the host must ask for any controller. */
		return connect_invalid(req, CONNECT_DATA_IPO(cntlid));

	struct fdr_ctrl *ctrl = fdr_ctrl_create(s, q, hostnqn, d->hostid, c->kato, &status);
	if (!ctrl)
		return status;
	q->ctrl = ctrl;
	q->qid = 0;
	q->depth = (uint16_t)(c->sqsize + 1);
	q->sq_flow_disabled = c->cattr & NVME_CONNECT_CATTR_SQ_FLOW_DISABLE;
	req->cpl.cdw0 = ctrl->cntlid;
	fdr_info("ctrl %u: %s connected to %s from %s (kato %u ms)", ctrl->cntlid, hostnqn,
		 s->nqn, q->peer, c->kato);
	return 0;
}

static uint16_t connect_io(struct fdr_req *req, struct fdr_subsys *s,
			   const struct nvme_fabrics_connect_cmd *c,
			   const struct nvme_fabrics_connect_data *d, const char *hostnqn)
{
	struct fdr_queue *q = req->q;
	struct fdr_ctrl *ctrl = NULL;
	uint16_t status = 0;

	if (s->type != FDR_SUBSYS_NVME)
		return connect_invalid(req, CONNECT_SQE_IPO(qid));
	if (c->sqsize < 1 || c->sqsize >= s->max_qdepth || c->sqsize >= q->nr_reqs)
		return connect_invalid(req, CONNECT_SQE_IPO(sqsize));

	pthread_mutex_lock(&s->lock);
	for (unsigned i = 0; i < FDR_MAX_CTRLS; i++) {
		struct fdr_ctrl *cand = s->ctrls[i];
		if (cand && cand->cntlid == d->cntlid && !cand->dead) {
			ctrl = cand;
			break;
		}
	}
	if (!ctrl || strcmp(ctrl->hostnqn, hostnqn) != 0 || !fdr_ctrl_ready(ctrl)) {
		status = connect_invalid(req, CONNECT_DATA_IPO(cntlid));
	} else {
		unsigned granted = ctrl->feat.nr_queues_set ? ctrl->feat.nr_io_sq + 1u
							     : s->max_io_queues;
		if (c->qid > granted || c->qid > FDR_MAX_IO_QUEUES || ctrl->ioq[c->qid]) {
			status = connect_invalid(req, CONNECT_SQE_IPO(qid));
		} else {
			ctrl->ioq[c->qid] = q;
			fdr_subsys_link_queue(s, q);
			fdr_ctrl_get(ctrl);
			q->ctrl = ctrl;
			q->qid = c->qid;
			q->depth = (uint16_t)(c->sqsize + 1);
			q->sq_flow_disabled = c->cattr & NVME_CONNECT_CATTR_SQ_FLOW_DISABLE;
		}
	}
	pthread_mutex_unlock(&s->lock);
	if (!status)
		fdr_info("ctrl %u: I/O queue %u (depth %u) connected from %s on reactor %u",
			 ctrl->cntlid, q->qid, q->depth, q->peer, fdr_reactor_id(q->reactor));
	return status;
}

static void connect_exec(struct fdr_req *req)
{
	const struct nvme_fabrics_connect_cmd *c = (const void *)&req->cmd;
	const struct nvme_fabrics_connect_data *d = (const void *)req->buf;
	struct fdr_queue *q = req->q;
	char subnqn[FDR_NQN_SIZE], hostnqn[FDR_NQN_SIZE];
	struct fdr_subsys *s;
	uint16_t status;

	/* The response names the queue the host asked to connect. */
	q->qid = c->qid;
	if (c->recfmt != 0) {
		status = NVME_STATUS(NVME_SCT_COMMAND_SPECIFIC, NVME_SC_CONNECT_INCOMPATIBLE_FORMAT) |
			 NVME_STATUS_DNR;
		goto out;
	}
	if (!nqn_copy(subnqn, d->subnqn)) {
		status = connect_invalid(req, CONNECT_DATA_IPO(subnqn));
		goto out;
	}
	if (!nqn_copy(hostnqn, d->hostnqn)) {
		status = connect_invalid(req, CONNECT_DATA_IPO(hostnqn));
		goto out;
	}
	s = fdr_target_find_subsys(q->target, subnqn);
	if (!s || (q->port && q->port->discovery_only && s->type != FDR_SUBSYS_DISCOVERY)) {
		fdr_warn("connect from %s (%s): no subsystem %s here", q->peer, hostnqn, subnqn);
		status = connect_invalid(req, CONNECT_DATA_IPO(subnqn));
		goto out;
	}
	if (!fdr_subsys_host_allowed(s, hostnqn)) {
		fdr_warn("connect from %s: host %s is not allowed on %s", q->peer, hostnqn, subnqn);
		status = NVME_STATUS(NVME_SCT_COMMAND_SPECIFIC, NVME_SC_CONNECT_INVALID_HOST) |
			 NVME_STATUS_DNR;
		goto out;
	}
	status = c->qid == 0 ? connect_admin(req, s, c, d, hostnqn)
			     : connect_io(req, s, c, d, hostnqn);
out:
	fdr_req_complete(req, status);
}

static void prop_get_exec(struct fdr_req *req)
{
	const struct nvme_fabrics_prop_cmd *c = (const void *)&req->cmd;
	uint64_t val = 0;
	uint16_t status = fdr_ctrl_reg_read(req->q->ctrl, c->ofst, (c->attrib & 1) ? 8 : 4, &val);

	req->cpl.cdw0 = (uint32_t)val;
	req->cpl.cdw1 = (uint32_t)(val >> 32);
	fdr_req_complete(req, status);
}

static void prop_set_exec(struct fdr_req *req)
{
	const struct nvme_fabrics_prop_cmd *c = (const void *)&req->cmd;
	uint64_t val = (c->attrib & 1) ? c->value : (uint32_t)c->value;

	fdr_req_complete(req, fdr_ctrl_reg_write(req->q->ctrl, c->ofst, (c->attrib & 1) ? 8 : 4, val));
}

static void disconnect_exec(struct fdr_req *req)
{
	/* The host closes the connection after the response; nothing to undo. */
	fdr_req_complete(req, 0);
}

uint16_t fdr_fabrics_decode(struct fdr_req *req)
{
	const struct nvme_fabrics_cmd *c = (const void *)&req->cmd;
	struct fdr_queue *q = req->q;
	const uint16_t seq_err =
		NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_COMMAND_SEQUENCE_ERROR) | NVME_STATUS_DNR;

	switch (c->fctype) {
	case NVME_FCTYPE_CONNECT:
		if (q->ctrl)
			return seq_err;
		req->xfer = NVME_OPC_XFER_TO_CTRL;
		req->data_len = sizeof(struct nvme_fabrics_connect_data);
		req->exec = connect_exec;
		break;
	case NVME_FCTYPE_PROPERTY_GET:
	case NVME_FCTYPE_PROPERTY_SET:
		if (!q->ctrl)
			return seq_err;
		if (q->qid != 0)
			return NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INVALID_FIELD) | NVME_STATUS_DNR;
		req->exec = c->fctype == NVME_FCTYPE_PROPERTY_GET ? prop_get_exec : prop_set_exec;
		return 0;
	case NVME_FCTYPE_DISCONNECT:
		if (!q->ctrl)
			return seq_err;
		req->exec = disconnect_exec;
		return 0;
	default:
		/* No in-band authentication: its commands are not supported. */
		return NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INVALID_OPCODE) | NVME_STATUS_DNR;
	}
	if (!fdr_req_buf_reserve(req, req->data_len))
		return NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INTERNAL);
	return 0;
}

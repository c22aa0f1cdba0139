/* SPDX-License-Identifier: BSD-2-Clause */
/* See mock_core.h. */
#include "mock_core.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct mock_core mock;

static void violation(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void violation(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(mock.last_error, sizeof(mock.last_error), fmt, ap);
	va_end(ap);
	fprintf(stderr, "mock core: contract violation: %s\n", mock.last_error);
	mock.errors++;
}

void mock_reset(void)
{
	memset(&mock, 0, offsetof(struct mock_core, last_data));
	mock.npending = 0;
	mock.inline_data_size = 8192;
	memset(&mock.ctrl, 0, sizeof(mock.ctrl));
	memset(&mock.subsys, 0, sizeof(mock.subsys));
	mock.ctrl.subsys = &mock.subsys;
}

struct fdr_queue *fdr_queue_create(struct fdr_target *t, struct fdr_port *port,
				   const struct fdr_transport_ops *ops, void *tctx,
				   struct fdr_reactor *r, uint16_t nr_reqs, const char *peer)
{
	struct fdr_queue *q;

	if (mock.fail_queue_create)
		return NULL;
	q = calloc(1, sizeof(*q));
	if (!q)
		return NULL;
	q->reqs = calloc(nr_reqs, sizeof(*q->reqs));
	if (!q->reqs) {
		free(q);
		return NULL;
	}
	q->target = t;
	q->port = port;
	q->ops = ops;
	q->tctx = tctx;
	q->reactor = r;
	q->nr_reqs = nr_reqs;
	snprintf(q->peer, sizeof(q->peer), "%s", peer ? peer : "?");
	for (int i = nr_reqs - 1; i >= 0; i--) {
		q->reqs[i].q = q;
		q->reqs[i].idx = (uint16_t)i;
		q->reqs[i].next_free = q->free_list;
		q->free_list = &q->reqs[i];
	}
	mock.q = q;
	mock.nr_created++;
	return q;
}

static void maybe_drained(struct fdr_queue *q)
{
	if (q->closing && !q->in_close && q->nr_inflight == 0 && !q->drained) {
		q->drained = true;
		mock.nr_drained++;
		q->ops->queue_drained(q);
	}
}

void fdr_queue_close(struct fdr_queue *q)
{
	if (q->closing) {
		violation("fdr_queue_close called twice");
		return;
	}
	mock.nr_closed++;
	q->closing = true;
	q->in_close = true;
	q->ctrl = NULL;
	q->in_close = false;
	maybe_drained(q);
}

void fdr_queue_free(struct fdr_queue *q)
{
	if (!q->drained)
		violation("queue freed before it drained");
	for (unsigned i = 0; i < q->nr_reqs; i++)
		free(q->reqs[i].buf);
	/* Held-back requests of this queue are gone with it. */
	for (unsigned i = 0; i < mock.npending; i++)
		if (mock.pending[i]->q == q)
			violation("queue freed with a request pending");
	if (mock.q == q)
		mock.q = NULL;
	free(q->reqs);
	free(q);
	mock.nr_freed++;
}

struct fdr_req *fdr_req_get(struct fdr_queue *q)
{
	struct fdr_req *req = q->free_list;

	if (!req || q->closing)
		return NULL;
	q->free_list = req->next_free;
	req->next_free = NULL;
	req->state = FDR_REQ_FETCH;
	q->nr_inflight++;
	return req;
}

void fdr_req_release(struct fdr_req *req)
{
	struct fdr_queue *q = req->q;

	if (req->state == FDR_REQ_FREE) {
		violation("request %u released twice", req->idx);
		return;
	}
	if (req->state != FDR_REQ_WRITEBACK && req->state != FDR_REQ_FETCH)
		violation("request %u released in state %u", req->idx, req->state);
	mock.nr_released++;
	req->state = FDR_REQ_FREE;
	req->next_free = q->free_list;
	q->free_list = req;
	q->nr_inflight--;
	maybe_drained(q);
}

uint8_t *fdr_req_buf_reserve(struct fdr_req *req, uint32_t len)
{
	uint32_t cap = 4096;
	void *p;

	if (len <= req->buf_cap)
		return req->buf;
	while (cap < len)
		cap <<= 1;
	if (posix_memalign(&p, 4096, cap))
		return NULL;
	free(req->buf);
	req->buf = p;
	req->buf_cap = cap;
	return req->buf;
}

static void mock_complete(struct fdr_req *req, uint16_t status)
{
	struct fdr_queue *q = req->q;

	mock.nr_completed++;
	req->status = status;
	req->state = FDR_REQ_WRITEBACK;
	req->cpl.sqhd = fdr_queue_sqhd(q);
	req->cpl.sqid = q->qid;
	req->cpl.cid = req->cmd.cid;
	req->cpl.status = (uint16_t)(status << 1);
	q->ops->complete(req);
}

static void mock_execute(struct fdr_req *req)
{
	struct fdr_queue *q = req->q;

	req->state = FDR_REQ_EXECUTE;
	mock.nr_executed++;
	mock.last_cmd = req->cmd;
	mock.last_len = req->data_len;
	if (req->xfer == NVME_OPC_XFER_TO_CTRL && req->data_len && req->data_len <= MOCK_DATA_MAX)
		memcpy(mock.last_data, req->buf, req->data_len);
	if (req->xfer == NVME_OPC_XFER_FROM_CTRL)
		for (uint32_t i = 0; i < req->data_len; i++)
			req->buf[i] = mock_pattern(req->cmd.cid, i);
	if (req->cmd.opc == NVME_ADM_FABRICS && req->data_len) {
		const struct nvme_fabrics_connect_cmd *c = (const void *)&req->cmd;
		q->qid = c->qid;
		q->depth = (uint16_t)(c->sqsize + 1);
		mock.subsys.inline_data_size = mock.inline_data_size;
		q->ctrl = &mock.ctrl;
	}
	if (req->cmd.opc == MOCK_OPC_DISCONNECT_ME && !q->closing)
		q->ops->disconnect(q, "mock asked");
	mock_complete(req, 0);
}

static void execute_or_hold(struct fdr_req *req)
{
	if (!mock.async) {
		mock_execute(req);
		return;
	}
	if (mock.npending == MOCK_MAX_PENDING) {
		violation("too many pending");
		mock_complete(req, NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INTERNAL));
		return;
	}
	req->state = FDR_REQ_EXECUTE;
	mock.pending[mock.npending++] = req;
}

void mock_run_pending(void)
{
	while (mock.npending) {
		struct fdr_req *req = mock.pending[0];
		memmove(mock.pending, mock.pending + 1, --mock.npending * sizeof(mock.pending[0]));
		mock_execute(req);
	}
}

void fdr_req_submit(struct fdr_req *req)
{
	struct fdr_queue *q = req->q;
	uint16_t status;

	if (req->state != FDR_REQ_FETCH)
		violation("submit of request %u in state %u", req->idx, req->state);
	mock.nr_submitted++;
	req->state = FDR_REQ_DECODE;
	req->status = 0;
	memset(&req->cpl, 0, sizeof(req->cpl));
	req->data_len = 0;
	req->xfer = NVME_OPC_XFER_NONE;
	switch (req->cmd.opc) {
	case MOCK_OPC_WRITE:
		req->xfer = NVME_OPC_XFER_TO_CTRL;
		req->data_len = req->cmd.cdw12;
		break;
	case MOCK_OPC_READ:
		req->xfer = NVME_OPC_XFER_FROM_CTRL;
		req->data_len = req->cmd.cdw12;
		break;
	case NVME_ADM_FABRICS:
		if (((const struct nvme_fabrics_cmd *)&req->cmd)->fctype == NVME_FCTYPE_CONNECT) {
			req->xfer = NVME_OPC_XFER_TO_CTRL;
			req->data_len = sizeof(struct nvme_fabrics_connect_data);
		}
		break;
	default:
		break;
	}
	if (req->data_len > MOCK_DATA_MAX) {
		mock_complete(req, NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INVALID_FIELD));
		return;
	}
	if (req->data_len) {
		if (!fdr_req_buf_reserve(req, req->data_len)) {
			mock_complete(req, NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INTERNAL));
			return;
		}
		status = q->ops->prep_data(req);
		if (status) {
			mock_complete(req, status);
			return;
		}
		if (req->xfer == NVME_OPC_XFER_TO_CTRL) {
			req->state = FDR_REQ_DATA_IN;
			q->ops->data_in(req);
			return;
		}
	}
	execute_or_hold(req);
}

void fdr_req_data_in_done(struct fdr_req *req, uint16_t status)
{
	if (req->state != FDR_REQ_DATA_IN)
		violation("data_in_done of request %u in state %u", req->idx, req->state);
	if (status)
		mock_complete(req, status);
	else
		execute_or_hold(req);
}

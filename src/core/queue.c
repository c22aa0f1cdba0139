/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Queues and their request pools.  A queue lives on one reactor; its
 * requests are preallocated at creation so the I/O path never allocates.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "hold.h"
#include "transport.h"

struct fdr_queue *fdr_queue_create(struct fdr_target *t, struct fdr_port *port,
				   const struct fdr_transport_ops *ops, void *tctx,
				   struct fdr_reactor *r, uint16_t nr_reqs, const char *peer)
{
	struct fdr_queue *q = calloc(1, sizeof(*q));

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
		struct fdr_req *req = &q->reqs[i];
		req->q = q;
		req->idx = (uint16_t)i;
		req->next_free = q->free_list;
		q->free_list = req;
	}
	return q;
}

void fdr_queue_free(struct fdr_queue *q)
{
	if (!q)
		return;
	for (unsigned i = 0; i < q->nr_reqs; i++)
		free(q->reqs[i].buf);
	free(q->reqs);
	free(q);
}

struct fdr_req *fdr_req_get(struct fdr_queue *q)
{
	struct fdr_req *req = q->free_list;

	if (!req || q->closing)
		return NULL;
	q->free_list = req->next_free;
	req->next_free = NULL;
	req->state = FDR_REQ_FETCH;
	if (q->nr_inflight++ == 0)
		q->busy_since_ns = fdr_now_ns();
	return req;
}

static void fold_stats(struct fdr_io_stats *dst, const struct fdr_io_stats *src);

/*
 * The controller reference is dropped only here, once nothing is in
 * flight: handlers finishing after the connection closed still see
 * q->ctrl, and the queue's counters reach the subsystem's in one step.
 */
static void queue_release_ctrl(struct fdr_queue *q)
{
	struct fdr_ctrl *ctrl = q->ctrl;
	struct fdr_subsys *s;

	if (!ctrl)
		return;
	s = ctrl->subsys;
	pthread_mutex_lock(&s->lock);
	if (q->s_pprev) {
		*q->s_pprev = q->s_next;
		if (q->s_next)
			q->s_next->s_pprev = q->s_pprev;
		q->s_next = NULL;
		q->s_pprev = NULL;
	}
	fold_stats(&s->closed_stats, &q->stats);
	pthread_mutex_unlock(&s->lock);
	q->ctrl = NULL;
	fdr_ctrl_put(ctrl);
}

static void queue_maybe_drained(struct fdr_queue *q)
{
	if (q->closing && !q->in_close && q->nr_inflight == 0 && !q->drained) {
		q->drained = true;
		if (q->core_drained && q->ctrl)
			q->core_drained(q);
		queue_release_ctrl(q);
		q->ops->queue_drained(q); /* may free q */
	}
}

void fdr_req_release(struct fdr_req *req)
{
	struct fdr_queue *q = req->q;

	req->state = FDR_REQ_FREE;
	req->next_free = q->free_list;
	q->free_list = req;
	if (--q->nr_inflight == 0)
		fdr_stat_add(&q->stats.busy_ns, fdr_now_ns() - q->busy_since_ns);
	queue_maybe_drained(q);
}

static void fold_stats(struct fdr_io_stats *dst, const struct fdr_io_stats *src)
{
	dst->read_cmds += fdr_stat_read(&src->read_cmds);
	dst->write_cmds += fdr_stat_read(&src->write_cmds);
	dst->read_bytes += fdr_stat_read(&src->read_bytes);
	dst->write_bytes += fdr_stat_read(&src->write_bytes);
	dst->media_errors += fdr_stat_read(&src->media_errors);
	dst->busy_ns += fdr_stat_read(&src->busy_ns);
}

void fdr_io_stats_add(struct fdr_io_stats *dst, const struct fdr_io_stats *src)
{
	fold_stats(dst, src);
}

void fdr_subsys_link_queue(struct fdr_subsys *s, struct fdr_queue *q)
{
	q->s_next = s->queues;
	if (s->queues)
		s->queues->s_pprev = &q->s_next;
	q->s_pprev = &s->queues;
	s->queues = q;
}

/* Detach q from its controller; the admin queue takes the controller down. */
static void queue_detach(struct fdr_queue *q)
{
	struct fdr_ctrl *ctrl = q->ctrl;
	struct fdr_subsys *s;

	if (!ctrl)
		return;
	s = ctrl->subsys;
	/* A PCIe controller outlives its admin queue (reset deletes it). */
	if (q->qid == 0 && !ctrl->pci) {
		fdr_ctrl_teardown(ctrl, "admin queue closed");
	}
	pthread_mutex_lock(&s->lock);
	if (q->qid && q->qid <= FDR_MAX_IO_QUEUES && ctrl->ioq[q->qid] == q)
		ctrl->ioq[q->qid] = NULL;
	if (q->qid == 0 && ctrl->admin_q == q)
		ctrl->admin_q = NULL;
	pthread_mutex_unlock(&s->lock);
	if (q->qid)
		fdr_info("ctrl %u: I/O queue %u from %s closed", ctrl->cntlid, q->qid, q->peer);
}

void fdr_queue_close(struct fdr_queue *q)
{
	if (q->closing)
		return;
	q->closing = true;
	q->in_close = true;
	fdr_hold_abort_queue(q);
	queue_detach(q);
	q->in_close = false;
	queue_maybe_drained(q);
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The contract between the core and a transport (NVMe/TCP today,
 * PCIe/vfio-user later).  Transports include this header; the core never
 * includes a transport's.
 *
 * One command's life, seen from a transport:
 *   req = fdr_req_get(q)            a free request, or NULL if the host overran the queue
 *   fill req->cmd (and in-capsule data via fdr_req_buf_reserve)
 *   fdr_req_submit(req)             the pipeline runs: fetch, decode, ...
 *     ops->prep_data(req)           check the data pointer for req->data_len bytes
 *     ops->data_in(req)             host-to-controller data into req->buf; then
 *       fdr_req_data_in_done(req, status)
 *     ... execute ...
 *     ops->complete(req)            send data (reads) and the CQE; then
 *       fdr_req_release(req)        once the transport no longer needs req
 *
 * Queue teardown: the transport calls fdr_queue_close(q) once, when its
 * connection is gone.  The core finishes what is in flight (complete()
 * is still called; the transport just releases) and then calls
 * ops->queue_drained(q), after which the transport frees its connection
 * and calls fdr_queue_free(q).  The core asks for a disconnect through
 * ops->disconnect(q, reason).
 */
#ifndef FDR_TRANSPORT_H
#define FDR_TRANSPORT_H

#include "core.h"

struct fdr_transport_ops {
	const char *name;
	/* Validate the command's data pointer for req->data_len bytes in
	 * direction req->xfer.  Returns NVME_SC_SUCCESS or a status. */
	uint16_t (*prep_data)(struct fdr_req *req);
	/* Bring req->data_len bytes from the host into req->buf. */
	void (*data_in)(struct fdr_req *req);
	/* Post the completion (after the read data, if any and successful). */
	void (*complete)(struct fdr_req *req);
	/* Drop the connection of q; it must end in fdr_queue_close(q). */
	void (*disconnect)(struct fdr_queue *q, const char *reason);
	/* Nothing of q is in flight any more after fdr_queue_close(). */
	void (*queue_drained)(struct fdr_queue *q);
};

/* Create a queue for a new connection, on reactor r; nr_reqs bounds the
 * commands in flight (the transport refuses more). */
struct fdr_queue *fdr_queue_create(struct fdr_target *t, struct fdr_port *port,
				   const struct fdr_transport_ops *ops, void *tctx,
				   struct fdr_reactor *r, uint16_t nr_reqs, const char *peer);
void fdr_queue_close(struct fdr_queue *q);
void fdr_queue_free(struct fdr_queue *q);

struct fdr_req *fdr_req_get(struct fdr_queue *q);
void fdr_req_submit(struct fdr_req *req);
void fdr_req_data_in_done(struct fdr_req *req, uint16_t status);
void fdr_req_release(struct fdr_req *req);

/* The command's SQ head as the CQE reports it. */
static inline uint16_t fdr_queue_sqhd(const struct fdr_queue *q)
{
	return q->sq_flow_disabled ? 0xffff : q->sqhd;
}

#endif /* FDR_TRANSPORT_H */

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
	/* Optional.  Where the command's req->data_len bytes are in host
	 * memory, as one contiguous range the controller may access in
	 * direction req->xfer, or NULL: use req->buf.  Asked for a read as it
	 * executes and for a write instead of data_in; valid until the
	 * command waits or completes (the core calls fdr_req_undirect()
	 * before it can wait, and asks only with synchronous backends). */
	uint8_t *(*data_direct)(struct fdr_req *req);
	/* Optional.  The phase tag the completion will carry (PCIe), so that
	 * it is recorded as the host sees it. */
	uint8_t (*cpl_phase)(const struct fdr_req *req);
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

/* ---- PCIe (local) controllers --------------------------------------------
 *
 * A PCIe transport has no Connect: it creates the controller itself with
 * fdr_ctrl_create_pci() when its function comes up, feeds BAR0 register
 * accesses (below the doorbells; 4 or 8 bytes, naturally aligned) to
 * fdr_ctrl_reg_read/write() on the controller's reactor, and implements struct fdr_ctrl_ops so that the
 * core can have it set up and take down the host-memory queues.
 *
 * The core owns the queue table and all validation (CC at enable, Create
 * and Delete I/O SQ/CQ statuses); the transport owns the rings, doorbells,
 * data movement and interrupts.  Each SQ is an ordinary struct fdr_queue
 * that the transport creates in create_sq() (fdr_queue_create with its
 * struct fdr_transport_ops, on the reactor of its choice, port NULL,
 * nr_reqs at least p->size) and the core binds to the controller (sets
 * q->ctrl, qid, depth) right after create_sq returns, on the controller's
 * reactor, before the Create command completes: the transport submits on
 * q only once the host rang its doorbell after that.  An SQ
 * goes away exactly like a fabrics queue: the core calls
 * q->ops->disconnect(q, reason), which must end in fdr_queue_close(q);
 * commands finishing after that complete with Aborted due to SQ Deletion
 * (the CQ is still there to post them to); then q->ops->queue_drained(q),
 * after which the transport frees it.  Admin SQ and CQ are qid 0.
 *
 * Controller reset (CC.EN 1 -> 0, NSSR): every SQ (admin included) is
 * closed as above; once all drained, delete_cq() for every CQ, disable(),
 * features back to defaults, CSTS.RDY = 0.  With nothing in flight that
 * happens inside the register write.  Teardown of the whole function (the
 * host went away): fdr_ctrl_teardown(ctrl, reason), then fdr_ctrl_put().
 */
struct fdr_cq_params {
	uint16_t qid;
	uint16_t size;  /* entries */
	uint16_t iv;    /* interrupt vector, < nr_vectors when ien */
	bool ien;
	uint64_t base;  /* physically contiguous (PC=1), MPS aligned */
};

struct fdr_sq_params {
	uint16_t qid;
	uint16_t size;  /* entries */
	uint16_t cqid;  /* an existing CQ */
	uint8_t qprio;
	uint64_t base;  /* physically contiguous (PC=1), MPS aligned */
};

struct fdr_ctrl_ops {
	const char *name;
	/* Set up the host-memory CQ / SQ described by p; return
	 * NVME_SC_SUCCESS or a status (an admin queue that fails to come
	 * up sets CSTS.CFS).  create_sq returns the bound-to-be queue in *q. */
	uint16_t (*create_cq)(struct fdr_ctrl *ctrl, const struct fdr_cq_params *p);
	uint16_t (*create_sq)(struct fdr_ctrl *ctrl, const struct fdr_sq_params *p,
			      struct fdr_queue **q);
	/* The CQ is gone from the table: no SQ uses it, nothing posts to it. */
	void (*delete_cq)(struct fdr_ctrl *ctrl, uint16_t qid);
	/* Optional.  After the admin queues exist, before CSTS.RDY = 1
	 * (e.g. start the doorbell poller); a status sets CSTS.CFS. */
	uint16_t (*enable)(struct fdr_ctrl *ctrl);
	/* Optional.  A controller reset finished: no queue is left. */
	void (*disable)(struct fdr_ctrl *ctrl);
	/* Optional.  CC.SHN was set; the core flushed the namespaces and
	 * reports CSTS.SHST complete after this returns. */
	void (*shutdown)(struct fdr_ctrl *ctrl);
	/* Optional.  INTMS/INTMC changed the interrupt mask. */
	void (*intm_changed)(struct fdr_ctrl *ctrl, uint32_t mask);
	/* Optional.  Set Features Interrupt Coalescing (iv = 0xffff) or
	 * Interrupt Vector Configuration (iv) changed. */
	void (*irq_config_changed)(struct fdr_ctrl *ctrl, uint16_t iv);
	/* Optional (offered in Identify OACS when set).  Doorbell Buffer
	 * Config: the host's Shadow Doorbell and EventIdx pages (page
	 * aligned, checked by the core); a status if they are unusable.  A
	 * controller reset ends their use (disable). */
	uint16_t (*dbbuf_config)(struct fdr_ctrl *ctrl, uint64_t shadow, uint64_t eventidx);
};

struct fdr_ctrl_pci_params {
	uint16_t nr_vectors; /* MSI-X table size (0 counts as 1: pin/MSI) */
	uint16_t vid, ssvid; /* the function's PCI IDs, for Identify */
	uint32_t sgls;       /* Identify SGLS the transport can walk (0: PRPs only) */
	uint32_t rec_conn;   /* the recorder's conn for its events (FDR_REC_PCI_CONN) */
};

/*
 * A PCIe controller of subsystem s, living on reactor r, not yet enabled.
 * Its host NQN is FDR_PCI_HOSTNQN (there is no Connect to carry one), its
 * Host Identifier zero, KATO 0 (no keep-alive timer unless the host sets
 * the feature; expiry then sets CSTS.CFS).  The allow-list does not apply.
 * Returns NULL if the subsystem has no controller slot (or memory) left.
 */
#define FDR_PCI_HOSTNQN "nqn.2014-08.io.frankendrive:pcie-host"
struct fdr_ctrl *fdr_ctrl_create_pci(struct fdr_subsys *s, struct fdr_reactor *r,
				     const struct fdr_ctrl_ops *ops, void *tctx,
				     const struct fdr_ctrl_pci_params *p);
static inline void *fdr_ctrl_tctx(const struct fdr_ctrl *ctrl)
{
	return ctrl->pci ? ctrl->pci->tctx : NULL;
}
/* Interrupt state for the transport; any thread. */
static inline uint32_t fdr_ctrl_intms(const struct fdr_ctrl *ctrl)
{
	return __atomic_load_n(&ctrl->pci->intms, __ATOMIC_RELAXED);
}
/* Interrupt Coalescing: aggregation threshold (entries, zero-based) and
 * time (100 us units). */
static inline void fdr_ctrl_irq_coalescing(const struct fdr_ctrl *ctrl, uint8_t *thr,
					   uint8_t *time)
{
	uint32_t v = __atomic_load_n(&ctrl->feat.irq_coalesce, __ATOMIC_RELAXED);

	*thr = (uint8_t)v;
	*time = (uint8_t)(v >> 8);
}
/* Interrupt Vector Configuration: is coalescing disabled for vector iv? */
static inline bool fdr_ctrl_irq_cd(const struct fdr_ctrl *ctrl, uint16_t iv)
{
	if (iv >= FDR_PCI_MAX_VECTORS)
		return true;
	return __atomic_load_n(&ctrl->feat.irq_cd[iv / 32], __ATOMIC_RELAXED) & (1u << (iv % 32));
}

/* The command's SQ head as the CQE reports it. */
static inline uint16_t fdr_queue_sqhd(const struct fdr_queue *q)
{
	return q->sq_flow_disabled ? 0xffff : q->sqhd;
}

#endif /* FDR_TRANSPORT_H */

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A drive without a network: the real core (pipeline, controllers,
 * namespaces on RAM) behind a fake transport that captures completions.
 * Commands run synchronously on the test thread; posted work (async event
 * delivery) runs when the test polls the reactor.
 */
#ifndef FDR_TEST_HARNESS_H
#define FDR_TEST_HARNESS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/transport.h"

#define H_SUBNQN "nqn.2024-01.io.frankendrive.test:sub1"
#define H_HOSTNQN "nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-000000000001"
#define H_NS_BYTES (1u << 20) /* each RAM namespace */
#define H_MAX_QUEUES 256
/* CC for enabling: EN, IOSQES 6, IOCQES 4. */
#define H_CC_ENABLE (NVME_CC_EN | (6u << NVME_CC_IOSQES_SHIFT) | (4u << NVME_CC_IOCQES_SHIFT))

struct harness {
	struct fdr_target *t;
	struct fdr_subsys *s;
	struct fdr_port *port;
	struct fdr_reactor *r;
	struct fdr_queue *aq;  /* admin queue of a live, enabled controller */
	struct fdr_ctrl *ctrl;
	struct fdr_queue *extra[H_MAX_QUEUES]; /* more queues a test opened */
	unsigned disc[H_MAX_QUEUES]; /* disconnect() calls per queue (tctx points here) */
	unsigned nr_extra;
};

/* cmocka group fixtures: namespaces 1 and 3 (512 B LBAs), one TCP port. */
int h_setup(void **state);
int h_teardown(void **state);

/* A new queue on the harness' port; freed by h_teardown. */
struct fdr_queue *h_queue(struct harness *h);
/* A new queue on any port with nr_reqs requests; freed by h_teardown. */
struct fdr_queue *h_queue_on(struct harness *h, struct fdr_port *port, uint16_t nr_reqs);
/* How many times the core asked q's transport to disconnect. */
unsigned h_disconnects(const struct fdr_queue *q);
/* Fabrics Connect (+ CC.EN=1 for admin queues); returns the status. */
uint16_t h_connect(struct harness *h, struct fdr_queue *q, const char *subnqn, uint16_t qid,
		   uint16_t cntlid, const char *hostnqn);

/* The Connect command and data h_connect sends (KATO 0), for tests to alter. */
void h_connect_fill(struct nvme_fabrics_connect_cmd *c, struct nvme_fabrics_connect_data *d,
		    const char *subnqn, uint16_t qid, uint16_t cntlid, const char *hostnqn);
/* Connect as given, nothing more (no CC write); *cdw0 gets CQE dword 0. */
uint16_t h_connect_raw(struct fdr_queue *q, const struct nvme_fabrics_connect_cmd *c,
		       const struct nvme_fabrics_connect_data *d, uint32_t *cdw0);
/* An I/O queue connected to h->ctrl; asserts success. */
struct fdr_queue *h_io_queue(struct harness *h, uint16_t qid);
/* Property Get / Set (size 4 or 8); return the status. */
uint16_t h_prop_get(struct fdr_queue *q, uint32_t ofst, unsigned size, uint64_t *val);
uint16_t h_prop_set(struct fdr_queue *q, uint32_t ofst, unsigned size, uint64_t val);
/* Add a RAM namespace of bytes with lba_size LBAs to h->s. */
struct fdr_ns *h_add_ns(struct harness *h, uint32_t nsid, uint32_t lba_size, uint64_t bytes);

/*
 * A spy between a namespace and its backend: counts what reaches the
 * backend and, with defer set, holds each I/O (except sync ones) until
 * h_spy_run() completes it, as an asynchronous backend (io_uring) would.
 */
struct h_spy {
	struct fdr_bdev *bdev;
	const struct fdr_bdev_ops *orig;
	struct fdr_bdev_ops ops;
	unsigned nr_op[5]; /* by enum fdr_bdev_op */
	unsigned nr_fua;   /* writes with fua set */
	unsigned nr_flush_sync;
	int flush_sync_rc; /* what the real flush_sync returned last */
	bool last_fua;
	bool defer;
	struct fdr_bdev_io *held[64];
	unsigned nr_held;
};
struct h_spy *h_spy_attach(struct fdr_ns *ns);
/* Complete the held I/Os, in order; returns how many. */
unsigned h_spy_run(struct h_spy *spy);

/* One command, run to completion: in (host-to-controller) and out
 * (controller-to-host) buffers may be NULL.  Returns the status field
 * (no phase bit); *cdw0 gets CQE dword 0 if non-NULL. */
uint16_t h_cmd(struct fdr_queue *q, const struct nvme_sqe *sqe, const void *in, uint32_t in_len,
	       void *out, uint32_t out_len, uint32_t *cdw0);
/* The CID the last command went out with. */
uint16_t h_last_cid(void);
/* Submit without expecting completion (AER); returns the CID used. */
uint16_t h_submit(struct fdr_queue *q, const struct nvme_sqe *sqe);
/* Place host data in the request before submitting it (in-capsule data),
 * instead of in the data-in step after decode. */
void h_set_in_capsule(bool on);
/* The CQE CID completed with (valid once h_done(cid) is true). */
const struct nvme_cqe *h_cqe(uint16_t cid);
/* Has CID completed?  Then *status and *cdw0 get its CQE fields. */
bool h_done(uint16_t cid, uint16_t *status, uint32_t *cdw0);
/* Run what was posted to the reactor. */
void h_poll(struct harness *h);

/* Shorthands */
uint16_t h_identify(struct fdr_queue *q, uint8_t cns, uint32_t nsid, uint32_t cdw11, void *out);
uint16_t h_get_log(struct fdr_queue *q, uint8_t lid, uint32_t nsid, bool rae, uint64_t off,
		   void *out, uint32_t len);
uint16_t h_get_feat(struct fdr_queue *q, uint8_t fid, uint8_t sel, uint32_t cdw11, void *out,
		    uint32_t len, uint32_t *cdw0);
uint16_t h_set_feat(struct fdr_queue *q, uint8_t fid, uint32_t nsid, uint32_t cdw10_hi,
		    uint32_t cdw11, const void *in, uint32_t len, uint32_t *cdw0);

/*
 * A fake PCIe function (struct fdr_ctrl_ops): counts what the core asks of
 * it, keeps the queue parameters it was given, and makes each SQ an
 * ordinary harness queue (h_cmd works on it).  fail_* make the next call
 * of that hook return the status.
 */
struct h_pci {
	struct harness *h;
	struct fdr_ctrl *ctrl;
	unsigned nr_create_cq, nr_create_sq, nr_delete_cq;
	unsigned nr_enable, nr_disable, nr_shutdown, nr_intm, nr_irq_cfg;
	uint32_t last_intms;
	uint16_t last_irq_iv;
	bool cq_live[FDR_MAX_IO_QUEUES + 1];
	struct fdr_cq_params cq[FDR_MAX_IO_QUEUES + 1];
	struct fdr_sq_params sq[FDR_MAX_IO_QUEUES + 1];
	struct fdr_queue *sq_q[FDR_MAX_IO_QUEUES + 1]; /* the latest per qid */
	uint16_t fail_create_cq, fail_create_sq, fail_enable;
	bool ctrl_gone; /* h_pci_destroy ran */
};
/* A PCIe controller of h->s with nr_vectors interrupt vectors, not enabled. */
struct h_pci *h_pci_create(struct harness *h, uint16_t nr_vectors, uint32_t sgls);
/* Tear the controller down (the function went away) and drop it. */
void h_pci_destroy(struct h_pci *p);
/* BAR0 register access, as MMIO: asserts the core took it. */
uint64_t h_pci_rd(struct h_pci *p, uint32_t ofst, unsigned size);
void h_pci_wr(struct h_pci *p, uint32_t ofst, unsigned size, uint64_t val);
/* AQA/ASQ/ACQ for admin queues of sq/cq entries, CC = H_CC_ENABLE; asserts RDY. */
void h_pci_enable(struct h_pci *p, uint16_t sq_entries, uint16_t cq_entries);
/* The admin SQ of the enabled controller. */
struct fdr_queue *h_pci_aq(struct h_pci *p);

#define SC(sct, sc) NVME_STATUS(NVME_SCT_##sct, NVME_SC_##sc)
#define SC_DNR(sct, sc) (SC(sct, sc) | NVME_STATUS_DNR)

#endif

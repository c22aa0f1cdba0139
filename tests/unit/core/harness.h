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

struct harness {
	struct fdr_target *t;
	struct fdr_subsys *s;
	struct fdr_port *port;
	struct fdr_reactor *r;
	struct fdr_queue *aq;  /* admin queue of a live, enabled controller */
	struct fdr_ctrl *ctrl;
	struct fdr_queue *extra[4]; /* more queues a test opened */
	unsigned nr_extra;
};

/* cmocka group fixtures: namespaces 1 and 3 (512 B LBAs), one TCP port. */
int h_setup(void **state);
int h_teardown(void **state);

/* A new queue on the harness' port; freed by h_teardown. */
struct fdr_queue *h_queue(struct harness *h);
/* Fabrics Connect (+ CC.EN=1 for admin queues); returns the status. */
uint16_t h_connect(struct harness *h, struct fdr_queue *q, const char *subnqn, uint16_t qid,
		   uint16_t cntlid, const char *hostnqn);

/* One command, run to completion: in (host-to-controller) and out
 * (controller-to-host) buffers may be NULL.  Returns the status field
 * (no phase bit); *cdw0 gets CQE dword 0 if non-NULL. */
uint16_t h_cmd(struct fdr_queue *q, const struct nvme_sqe *sqe, const void *in, uint32_t in_len,
	       void *out, uint32_t out_len, uint32_t *cdw0);
/* The CID the last command went out with. */
uint16_t h_last_cid(void);
/* Submit without expecting completion (AER); returns the CID used. */
uint16_t h_submit(struct fdr_queue *q, const struct nvme_sqe *sqe);
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

#define SC(sct, sc) NVME_STATUS(NVME_SCT_##sct, NVME_SC_##sc)
#define SC_DNR(sct, sc) (SC(sct, sc) | NVME_STATUS_DNR)

#endif

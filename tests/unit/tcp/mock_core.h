/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A stand-in for the core's transport-facing API (transport.h), so the
 * NVMe/TCP connection state machine can be driven alone and
 * deterministically.  It keeps the core's rules (request pool, drain on
 * close, complete() then release) and counts every violation.
 *
 * Commands it understands (the test's own convention, not NVMe's):
 *   opc 01h  write: host-to-controller, CDW12 = byte count
 *   opc 02h  read:  controller-to-host, CDW12 = byte count, data = pattern
 *   opc 7Fh  Fabrics; FCTYPE 01h Connect (1 KiB in), binds QID from the SQE
 *   opc EEh  asks the transport to disconnect while executing
 *   other    no data, success
 */
#ifndef MOCK_CORE_H
#define MOCK_CORE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/transport.h"

#define MOCK_OPC_WRITE 0x01
#define MOCK_OPC_READ 0x02
#define MOCK_OPC_DISCONNECT_ME 0xee
#define MOCK_MAX_PENDING 4096
#define MOCK_DATA_MAX (1024 * 1024)

struct mock_core {
	/* Settings */
	bool async;                /* execute only in mock_run_pending() */
	bool fail_queue_create;
	uint32_t inline_data_size; /* of the fake subsystem I/O queues bind to */

	/* Observations */
	struct fdr_queue *q;       /* the last queue created */
	unsigned nr_created, nr_closed, nr_drained, nr_freed;
	unsigned nr_submitted, nr_executed, nr_completed, nr_released;
	unsigned errors;           /* contract violations seen */
	char last_error[160];
	struct nvme_sqe last_cmd;  /* last executed command */
	uint32_t last_len;
	uint8_t last_data[MOCK_DATA_MAX]; /* what the last write delivered */

	/* Internal */
	struct fdr_req *pending[MOCK_MAX_PENDING];
	unsigned npending;
	struct fdr_ctrl ctrl;
	struct fdr_subsys subsys;
};

extern struct mock_core mock;

void mock_reset(void);
/* Execute (and complete) every command held back in async mode. */
void mock_run_pending(void);
/* The read pattern byte at offset off of command cid. */
static inline uint8_t mock_pattern(uint16_t cid, uint32_t off)
{
	return (uint8_t)(off * 7u + cid);
}

#endif

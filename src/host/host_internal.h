/* SPDX-License-Identifier: BSD-2-Clause */
/* Internals of libfdr_host shared between its source files. */
#ifndef FDR_HOST_INTERNAL_H
#define FDR_HOST_INTERNAL_H

#include <stdarg.h>
#include <sys/uio.h>
#include <time.h>

#include "fdr_host.h"

#define HOST_BATCH_IOV 128   /* iovecs per sendmsg batch */
#define HOST_ARENA 16384     /* header bytes per batch */
#define HOST_ARENA_PDU 320   /* most arena bytes one PDU needs */
#define HOST_RXBUF (256u * 1024u)
#define HOST_HDR_MAX 512     /* largest PDU header part accepted */
#define HOST_ADMIN_ENTRIES 32
#define HOST_ADMIN_INCAPSULE 8192
#define HOST_DEFAULT_TIMEOUT 10000

struct host_req {
	struct nvme_sqe sqe;
	uint8_t *buf;
	uint32_t len;
	uint8_t dir;
	bool busy;
	bool incapsule;
	bool h2c_active;   /* an R2T is being answered (in the h2c FIFO) */
	bool done_pending; /* CQE arrived while PDUs still reference buf */
	bool cmd_sent;     /* capsule handed to the batch */
	uint16_t ttag;
	uint16_t tx_refs;  /* PDUs of the current batch that use this request */
	uint32_t h2c_off, h2c_end;
	uint32_t c2h_rcvd; /* C2HData bytes received */
	uint32_t h2c_sent; /* H2CData bytes sent in total */
	struct nvme_cqe cqe;
	fdr_host_cb cb;
	void *arg;
	struct host_req *next;     /* free list / command FIFO */
	struct host_req *h2c_next; /* h2c FIFO */
};

enum host_rx_state {
	RX_HDR,
	RX_DATA,
	RX_DDGST,
};

struct fdr_host_queue {
	int fd;
	uint16_t qid;
	uint16_t entries; /* SQ entries (1-based) */
	uint16_t depth;   /* commands in flight at most */
	bool hdgst, ddgst;
	uint8_t cpda;
	uint32_t maxh2c;
	uint32_t icd; /* in-capsule data limit */
	int timeout_ms;

	struct host_req *reqs;
	struct host_req *free;
	unsigned inflight;
	uint64_t reaped;
	bool in_cb;

	/* transmit */
	struct host_req *cmd_head, *cmd_tail;
	struct host_req *h2c_head, *h2c_tail;
	struct iovec iov[HOST_BATCH_IOV];
	int niov, iov_pos;
	size_t arena_used;
	struct host_req *batch_reqs[HOST_BATCH_IOV];
	int nbatch;
	uint8_t arena[HOST_ARENA];

	/* receive */
	uint8_t *rxbuf;
	size_t rpos, wpos;
	enum host_rx_state rx_state;
	struct host_req *rx_req;
	uint8_t rx_flags;
	uint8_t *rx_dst;
	uint32_t rx_left;
	uint32_t rx_crc;
	uint8_t rx_dd[4];
	unsigned rx_dd_have;

	/* failure */
	bool dead;
	int err_errno;
	uint16_t term_fes;
	uint16_t last_sqhd;
	char errmsg[256];
};

static inline int64_t host_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void host_seterr(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The direction of a command's data transfer (NVME_OPC_XFER_*). */
uint8_t host_cmd_dir(const struct nvme_sqe *cmd);
/* Mark q dead and fail its commands. */
void host_queue_fail(struct fdr_host_queue *q, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif

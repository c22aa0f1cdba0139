/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libfdr_host: the project's own NVMe/TCP host (initiator).
 *
 * A small, self-contained implementation of the host side of NVMe over
 * TCP, written from the NVMe Base, NVMe over Fabrics and NVMe/TCP
 * transport specifications.  It shares nothing with the drive's core or
 * transport code (only the layout headers in include/frankendrive and the
 * CRC32C helper), so the integration tests and benchmarks built on it can
 * catch the target's mistakes instead of repeating them.
 *
 * Model
 * -----
 * A controller (struct fdr_host_ctrl) is one admin queue plus zero or more
 * I/O queues.  Each queue (struct fdr_host_queue) is one TCP connection
 * with its own command identifiers.  A queue is not thread safe: use each
 * queue from one thread at a time (different queues may be driven from
 * different threads concurrently; the admin queue belongs to whoever calls
 * fdr_host_admin()).
 *
 * Data transfer
 * -------------
 * The direction of a command's data comes from its opcode's two low bits
 * (01b host to controller, 10b controller to host); for a Fabrics command
 * (opcode 7Fh) from the low two bits of fctype.  A command with len == 0
 * (or buf == NULL) transfers nothing.  The library fills CID, PSDT and the
 * SGL descriptor of the command; everything else is the caller's:
 *   - host-to-controller data of at most the queue's in-capsule size is
 *     sent in the command capsule (SGL Data Block, offset 0, type 01h);
 *     larger data uses a Transport SGL Data Block (5Ah) and the library
 *     answers each R2T with H2CData PDUs of at most MAXH2CDATA bytes;
 *   - controller-to-host data arrives in C2HData PDUs straight into the
 *     caller's buffer (ranges checked), then a CapsuleResp; a C2HData PDU
 *     with the LAST and SUCCESS flags completes the command by itself.
 * The in-capsule size is 8192 bytes on the admin queue and IOCCSZ * 16 - 64
 * on I/O queues (see fdr_host_queue_set_incapsule() to change it).
 *
 * Digests: with hdgst/ddgst requested in the options (and granted in
 * ICResp) every PDU sent carries them and every PDU received is checked; a
 * mismatch is a fatal transport error on that queue.
 *
 * Errors
 * ------
 * Functions returning int give 0 or a positive count on success and a
 * negative errno on failure.  A queue whose connection fails (peer closed,
 * protocol violation by the target, digest error, C2HTermReq received,
 * timeout of a synchronous call) becomes dead: its commands in flight
 * complete with the synthetic status FDR_HOST_STATUS_TRANSPORT (SCT 3 "Host
 * Pathing Error", DNR), synchronous calls return a negative errno, and
 * fdr_host_queue_error() tells what happened.
 *
 * Status in a CQE: cqe->status holds the phase bit in bit 0; use
 * fdr_host_status(cqe) to get the project's NVME_STATUS(sct, sc) form.
 *
 * Keep alive: the library never sends Keep Alive on its own; a caller that
 * connects with kato_ms != 0 calls fdr_host_keep_alive() often enough.
 */
#ifndef FDR_HOST_H
#define FDR_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <frankendrive/nvme.h>
#include <frankendrive/nvme_tcp.h>

#ifdef __cplusplus
extern "C" {
#endif

struct fdr_host_opts {
	const char *addr;     /* target address (IPv4/IPv6 literal or name); default 127.0.0.1 */
	const char *port;     /* service, default "4420" */
	const char *subnqn;   /* subsystem NQN (required) */
	const char *hostnqn;  /* NULL: nqn.2014-08.org.nvmexpress:uuid:<hostid> */
	const uint8_t *hostid; /* 16 bytes, NULL: random */
	uint16_t nr_io_queues; /* I/O queues to connect (0: admin only) */
	uint16_t qdepth;      /* commands in flight per I/O queue (default 32) */
	bool hdgst, ddgst;    /* request header / data digests */
	uint32_t kato_ms;     /* Keep Alive Timeout for the admin Connect (0 = off) */
	uint32_t timeout_ms;  /* bound for each synchronous step (default 10000) */
};

struct fdr_host_ctrl;
struct fdr_host_queue;

typedef void (*fdr_host_cb)(void *arg, const struct nvme_cqe *cqe);

/* Synthetic status of commands lost with their connection (NVME_STATUS form). */
#define FDR_HOST_STATUS_TRANSPORT \
	((uint16_t)(NVME_STATUS(NVME_SCT_PATH, NVME_SC_HOST_PATHING_ERROR) | NVME_STATUS_DNR))

/* Status field of a CQE without the phase bit: NVME_STATUS(sct, sc) | DNR | M | CRD. */
static inline uint16_t fdr_host_status(const struct nvme_cqe *cqe)
{
	return (uint16_t)(cqe->status >> 1);
}
/* SCT and SC of a CQE only (DNR, More, CRD dropped): compare with NVME_STATUS(). */
static inline uint16_t fdr_host_sct_sc(const struct nvme_cqe *cqe)
{
	return (uint16_t)((cqe->status >> 1) & 0x7ff);
}

/* ---- Controller ---------------------------------------------------------- */

/*
 * Connect a controller: TCP connection, ICReq/ICResp, Fabrics Connect of
 * the admin queue (qid 0, 32 entries), Property Get CAP and VS, Property
 * Set CC (EN=1, IOSQES=6, IOCQES=4), wait for CSTS.RDY (bounded by
 * CAP.TO), Identify Controller, then, when nr_io_queues > 0, Set Features
 * Number of Queues and one TCP connection + Connect (with the cntlid) per
 * I/O queue.  The number of I/O queues may end up lower than requested if
 * the controller grants fewer (fdr_host_nr_io_queues()).
 * Returns NULL on failure with a message in err.
 */
struct fdr_host_ctrl *fdr_host_connect(const struct fdr_host_opts *o, char *err, size_t errlen);

/*
 * Orderly shutdown: close the I/O queues, set CC.SHN = normal, wait for
 * CSTS.SHST = complete (bounded), close the admin queue, free everything.
 * Returns 0, or a negative errno if the shutdown handshake failed (the
 * controller is freed either way).  NULL is accepted.
 */
int fdr_host_disconnect(struct fdr_host_ctrl *c);

/* Close all connections without any shutdown handshake and free. */
void fdr_host_close(struct fdr_host_ctrl *c);

/* Synchronous admin command; see fdr_host_io(). */
int fdr_host_admin(struct fdr_host_ctrl *c, struct nvme_sqe *cmd, void *buf, uint32_t len,
		   struct nvme_cqe *cqe);

/* Fabrics Property Get / Set; size8 selects an 8-byte property (CAP). */
int fdr_host_prop_get(struct fdr_host_ctrl *c, uint32_t ofst, bool size8, uint64_t *val,
		      struct nvme_cqe *cqe);
int fdr_host_prop_set(struct fdr_host_ctrl *c, uint32_t ofst, bool size8, uint64_t val,
		      struct nvme_cqe *cqe);
/* Keep Alive admin command. */
int fdr_host_keep_alive(struct fdr_host_ctrl *c, struct nvme_cqe *cqe);

struct fdr_host_queue *fdr_host_admin_queue(struct fdr_host_ctrl *c);
/* I/O queue idx (0-based, qid idx + 1), NULL if out of range. */
struct fdr_host_queue *fdr_host_ioq(struct fdr_host_ctrl *c, unsigned idx);
unsigned fdr_host_nr_io_queues(const struct fdr_host_ctrl *c);
uint16_t fdr_host_cntlid(const struct fdr_host_ctrl *c);
uint64_t fdr_host_cap(const struct fdr_host_ctrl *c);
uint32_t fdr_host_vs(const struct fdr_host_ctrl *c);
/* The Identify Controller data read while connecting. */
const struct nvme_id_ctrl *fdr_host_id_ctrl(const struct fdr_host_ctrl *c);
/* Largest transfer in bytes from MDTS and CAP.MPSMIN (0: no limit). */
uint32_t fdr_host_mdts_bytes(const struct fdr_host_ctrl *c);

/* ---- Queues ----------------------------------------------------------------- */

/*
 * Synchronous command on a queue: submit, then poll until it completes
 * (other completions reaped meanwhile get their callbacks).  *cqe receives
 * the completion.  Returns 0 when the exchange happened (check
 * cqe->status), a negative errno on transport error or timeout (the
 * queue is then dead).
 */
int fdr_host_io(struct fdr_host_queue *q, struct nvme_sqe *cmd, void *buf, uint32_t len,
		struct nvme_cqe *cqe);

/*
 * Asynchronous submission.  The command is copied; buf must stay valid
 * until cb runs.  Queued commands go out on the wire at the next
 * fdr_host_poll() (or fdr_host_flush()), so several submissions are sent
 * with one system call.  Returns 0, -EBUSY when qdepth commands are in
 * flight, -ENOTCONN if the queue is dead.  cb may submit again.
 */
int fdr_host_submit(struct fdr_host_queue *q, struct nvme_sqe *cmd, void *buf, uint32_t len,
		    fdr_host_cb cb, void *arg);

/*
 * Send what is queued, receive and process what arrived, and run the
 * callbacks of completed commands.  Waits up to timeout_ms (0: do not
 * wait, <0: forever) for at least one completion.  Returns the number of
 * completions reaped (0 on timeout), or a negative errno once the queue is
 * dead and nothing more is to be reaped.  Not to be called from a callback
 * (-EDEADLK), nor is fdr_host_io().
 */
int fdr_host_poll(struct fdr_host_queue *q, int timeout_ms);

/* Send queued PDUs without waiting for completions (may block briefly). */
int fdr_host_flush(struct fdr_host_queue *q);

/* Commands in flight, and the most a queue accepts. */
unsigned fdr_host_queue_inflight(const struct fdr_host_queue *q);
unsigned fdr_host_queue_depth(const struct fdr_host_queue *q);
uint16_t fdr_host_queue_qid(const struct fdr_host_queue *q);
/* Override the in-capsule data limit (0 forces R2T for every write). */
void fdr_host_queue_set_incapsule(struct fdr_host_queue *q, uint32_t bytes);
uint32_t fdr_host_queue_incapsule(const struct fdr_host_queue *q);
/* Bound for synchronous calls on q (default: the options' timeout_ms). */
void fdr_host_queue_set_timeout(struct fdr_host_queue *q, int timeout_ms);
uint32_t fdr_host_queue_maxh2cdata(const struct fdr_host_queue *q);
bool fdr_host_queue_hdgst(const struct fdr_host_queue *q);
bool fdr_host_queue_ddgst(const struct fdr_host_queue *q);
/* Whether the connection failed, and why ("" while healthy). */
bool fdr_host_queue_dead(const struct fdr_host_queue *q);
const char *fdr_host_queue_error(const struct fdr_host_queue *q);
/* FES of a C2HTermReq received on the queue, 0 if none. */
uint16_t fdr_host_queue_term_fes(const struct fdr_host_queue *q);

/*
 * Wait until the target closes the connection (or sends C2HTermReq).
 * Returns 0 when it did, -ETIMEDOUT otherwise.
 */
int fdr_host_queue_wait_dead(struct fdr_host_queue *q, int timeout_ms);

/*
 * A stand-alone queue connection: TCP connect, ICReq/ICResp, Fabrics
 * Connect with the given qid, cntlid (0xffff for a new admin queue's
 * dynamic controller), entries (SQ size, 1-based; qid 0: 32 if 0) and
 * kato.  The options supply address, NQNs, hostid, digests and timeout.
 * On a Connect that completed with an error status the queue is closed,
 * NULL returned and *cqe (if not NULL) holds the response; on transport
 * failure NULL is returned, cqe->status is FDR_HOST_STATUS_TRANSPORT << 1
 * and err says why.  On success the CQE of the Connect is in *cqe (the
 * cntlid in cdw0 for an admin queue).
 */
struct fdr_host_queue *fdr_host_queue_open(const struct fdr_host_opts *o, uint16_t qid,
					   uint16_t cntlid, uint16_t entries, uint32_t kato_ms,
					   struct nvme_cqe *cqe, char *err, size_t errlen);
void fdr_host_queue_close(struct fdr_host_queue *q);

/* ---- Raw helpers for malformed-PDU tests ------------------------------------ */

/*
 * Blocking TCP connection with TCP_NODELAY, bounded by timeout_ms.
 * Returns the socket or a negative errno.
 */
int fdr_host_raw_connect(const char *addr, const char *port, int timeout_ms);
/* Send all of buf (blocking, MSG_NOSIGNAL).  0 or a negative errno. */
int fdr_host_raw_send(int fd, const void *buf, size_t len);
/*
 * Receive exactly len bytes within timeout_ms.  Returns len, 0 if the
 * peer closed first (partial data dropped), -ETIMEDOUT, or -errno.
 */
ssize_t fdr_host_raw_recv(int fd, void *buf, size_t len, int timeout_ms);
/*
 * Receive one PDU: the 8-byte common header, then the rest up to plen
 * (at most cap bytes kept; a larger PDU is drained and -EMSGSIZE
 * returned).  Returns plen, 0 on orderly close, -ETIMEDOUT or -errno.
 */
ssize_t fdr_host_raw_recv_pdu(int fd, void *buf, size_t cap, int timeout_ms);
/*
 * Wait until the peer closes (reading and discarding what arrives).
 * Returns 0 on close/reset, -ETIMEDOUT otherwise.
 */
int fdr_host_raw_wait_close(int fd, int timeout_ms);
/*
 * Send ICReq (pfv 0, hpda 0, maxr2t 0, digests as asked) and read ICResp
 * into *resp.  Returns 0 or a negative errno (-EPROTO if the answer is not
 * a 128-byte ICResp).
 */
int fdr_host_raw_icreq(int fd, bool hdgst, bool ddgst, struct nvme_tcp_icresp *resp,
		       int timeout_ms);
/*
 * Build a CapsuleCmd PDU for sqe with optional in-capsule data into out
 * (cap bytes), with the digests given and PDO aligned for cpda.  Returns
 * its length or -ENOSPC.  The SGL of sqe is not touched.
 */
ssize_t fdr_host_raw_build_cmd(void *out, size_t cap, const struct nvme_sqe *sqe,
			       const void *data, uint32_t len, bool hdgst, bool ddgst,
			       uint8_t cpda);
/*
 * Fill the common header digest of a PDU whose header (hlen bytes) is at
 * pdu: the 4 bytes after the header receive CRC32C of the header.
 */
void fdr_host_raw_set_hdgst(void *pdu);
/*
 * Fabrics Connect over a raw socket (after fdr_host_raw_icreq): in-capsule
 * 1024-byte connect data, waits for the CapsuleResp.  Returns 0 with *cqe
 * filled, or a negative errno.
 */
int fdr_host_raw_fabrics_connect(int fd, bool hdgst, bool ddgst, uint16_t qid, uint16_t cntlid,
				 uint16_t sqsize, uint32_t kato_ms, const char *subnqn,
				 const char *hostnqn, struct nvme_cqe *cqe, int timeout_ms);

#ifdef __cplusplus
}
#endif

#endif /* FDR_HOST_H */

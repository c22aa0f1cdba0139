/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NVMe/TCP transport internals, shared by its files, the unit tests and
 * the fuzzer.  Not for the rest of the drive.
 */
#ifndef FDR_TCP_INTERNAL_H
#define FDR_TCP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <frankendrive/nvme_tcp.h>

#include "core/transport.h"
#include "tcp.h"

/* ---- PDUs (tcp_pdu.c) ------------------------------------------------- */

#define FDR_TCP_ADMIN_ICD 8192u  /* in-capsule data before Connect and on admin queues */
#define FDR_TCP_MAX_HPDA 31u
#define FDR_TCP_TERM_MAX_PLEN (sizeof(struct nvme_tcp_term) + NVME_TCP_TERM_MAX_DATA)
/* Largest header plus header digest plus padding we ever send (C2HData at HPDA 31). */
#define FDR_TCP_MAX_PDO 128u

/* What the header check needs to know about the connection. */
struct fdr_tcp_rx_params {
	bool ic_done;        /* ICReq/ICResp exchanged: the digest settings apply */
	bool hdgst;          /* header digest negotiated */
	bool ddgst;          /* data digest negotiated */
	uint8_t cpda;        /* the CPDA we announced */
	uint32_t max_icd;    /* in-capsule data limit of the queue */
	uint32_t maxh2cdata; /* the MAXH2CDATA we announced */
};

/* Layout of a PDU, from its header. */
struct fdr_tcp_pdu_info {
	uint8_t type;
	uint8_t hlen;
	uint32_t hdr_len;   /* hlen plus header digest: bytes to have before the check completes */
	uint32_t pad;       /* bytes between hdr_len and the data (PDO - hdr_len) */
	uint32_t data_len;  /* PDU data bytes */
	uint32_t ddgst_len; /* 0 or NVME_TCP_DIGEST_LEN, after the data */
	uint32_t plen;
};

#define FDR_TCP_HDR_MORE (-1)

/*
 * Validates a received PDU header (the first len bytes of buf) against the
 * connection's state.  Returns 0 when the header (hdr_len bytes, header
 * digest included) is valid and info describes the PDU; FDR_TCP_HDR_MORE
 * when len is too short to tell (info->hdr_len, if nonzero, says how many
 * bytes are needed); or a fatal error status (enum nvme_tcp_fes) with *fei
 * set to the value a C2HTermReq reports: the byte offset of the bad field
 * for FES 01h, the received digest for FES 03h, 0 otherwise.
 * Pure: reads nothing but its arguments.
 */
int fdr_tcp_pdu_check_hdr(const void *buf, size_t len, const struct fdr_tcp_rx_params *p,
			  struct fdr_tcp_pdu_info *info, uint32_t *fei);

/* PDU builders: write a complete header (plus header digest and padding
 * where the PDU has them) into buf and return its length. */
size_t fdr_tcp_build_icresp(uint8_t *buf, uint8_t digest, uint32_t maxdata);
size_t fdr_tcp_build_term(uint8_t *buf, uint16_t fes, uint32_t fei, const void *pdu_hdr,
			  size_t hdr_len);
size_t fdr_tcp_build_r2t(uint8_t *buf, bool hdgst, uint16_t cccid, uint16_t ttag, uint32_t r2to,
			 uint32_t r2tl);
size_t fdr_tcp_build_rsp(uint8_t *buf, bool hdgst, const struct nvme_cqe *cqe);
/* Returns the PDO: header, header digest and zero padding up to HPDA. */
size_t fdr_tcp_build_c2h(uint8_t *buf, bool hdgst, bool ddgst, uint8_t hpda, uint16_t cccid,
			 uint32_t datao, uint32_t datal, bool last);
/* PDO of a C2HData PDU for the given settings. */
uint32_t fdr_tcp_c2h_pdo(bool hdgst, uint8_t hpda);

static inline void fdr_tcp_put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static inline uint32_t fdr_tcp_get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
	       ((uint32_t)p[3] << 24);
}

/* ---- Connections (tcp_conn.c) ---------------------------------------- */

enum fdr_tcp_conn_state {
	FDR_TCP_WAIT_ICREQ,
	FDR_TCP_READY,
	FDR_TCP_CLOSED, /* socket gone; waiting for the core to drain the queue */
};

enum fdr_tcp_rx_state {
	FDR_TCP_RX_HDR,
	FDR_TCP_RX_PAD,
	FDR_TCP_RX_DATA,
	FDR_TCP_RX_DDGST,
};

enum fdr_tcp_tx_kind {
	FDR_TCP_TX_CONN, /* ICResp, C2HTermReq: connection-owned bytes */
	FDR_TCP_TX_R2T,
	FDR_TCP_TX_RESP, /* C2HData PDU(s), then CapsuleResp */
};

/* One queued PDU (or a C2HData chunk followed by the CapsuleResp). */
struct fdr_tcp_tx {
	struct fdr_tcp_tx *next;
	uint8_t kind;
	uint8_t hdr_len;   /* bytes at hdr */
	uint8_t tail_len;  /* bytes at tail, after the data */
	bool ddgst;        /* ddgst_le follows the data */
	uint32_t data_len;
	const uint8_t *data;
	const uint8_t *hdr;
	const uint8_t *tail;
	uint8_t ddgst_le[NVME_TCP_DIGEST_LEN];
};

/* Transport state of one request, indexed like the queue's pool. */
struct fdr_tcp_req {
	struct fdr_tcp_tx tx;
	struct fdr_req *req;
	uint16_t err;      /* status the data phase ends with (digest error, no memory) */
	bool wait_h2c;     /* R2T issued; H2CData outstanding */
	bool r2t_sent;     /* ... and fully written, so the host may answer it */
	bool tx_queued;
	uint32_t h2c_done; /* H2CData bytes received */
	uint32_t c2h_off;  /* read data bytes framed so far */
	uint8_t hdr[FDR_TCP_MAX_PDO];
	uint8_t rsp[sizeof(struct nvme_tcp_rsp) + NVME_TCP_DIGEST_LEN];
};

struct fdr_tcp_listener;

struct fdr_tcp_conn {
	struct fdr_handler h;
	struct fdr_defer defer; /* flush, or free once the queue drained */
	struct fdr_timer icreq_timer;
	struct fdr_reactor *r;
	struct fdr_target *t;
	struct fdr_port *port;
	struct fdr_queue *q; /* after ICReq */
	char peer[64];
	uint32_t id;         /* connection id, unique in this process */
	uint8_t state;
	bool free_pending;
	bool out_armed;      /* EPOLLOUT registered: the socket is full */
	bool term_queued;

	/* Negotiated at ICReq */
	bool hdgst;
	bool ddgst;
	uint8_t hpda;
	uint32_t maxr2t;
	uint32_t maxh2cdata;
	uint32_t icreq_timeout_ms;

	/* Receive */
	uint8_t *rbuf;
	uint32_t rpos, rlen;
	uint8_t rx_state;
	uint8_t rx_type;          /* PDU type of the payload being received */
	struct fdr_tcp_req *rx_treq;
	uint8_t *rx_dst;          /* NULL: discard */
	uint32_t rx_left;         /* payload (or pad) bytes still to come */
	uint32_t rx_data_len;     /* this PDU's data length */
	uint32_t rx_crc;
	bool rx_has_ddgst;
	uint8_t rx_ddgst[NVME_TCP_DIGEST_LEN];
	uint32_t rx_ddgst_got;

	/* Send */
	struct fdr_tcp_tx *tx_head, *tx_tail;
	uint32_t tx_off;      /* bytes of tx_head already written */
	size_t tx_queued;     /* bytes queued */
	struct fdr_tcp_req *treqs;
	uint16_t nr_treqs;
	struct fdr_tcp_tx ctl_tx[2]; /* ICResp, C2HTermReq */
	uint8_t icresp[sizeof(struct nvme_tcp_icresp)];
	uint8_t term[FDR_TCP_TERM_MAX_PLEN];

	/* Listener bookkeeping (tcp_listen.c), touched on r only */
	struct fdr_tcp_listener *l;
	unsigned slot;
	struct fdr_tcp_conn *lprev, *lnext;

	/* Counters, for tests and debugging */
	uint64_t nr_pdus_rx;
	uint64_t nr_recv_calls;
	uint64_t nr_send_calls;
};

extern const struct fdr_transport_ops fdr_tcp_ops;

/*
 * Creates a connection on reactor r (call on r's thread) for the connected,
 * nonblocking socket fd, which it then owns.  l may be NULL.  Returns NULL
 * (fd closed) on failure.
 */
struct fdr_tcp_conn *fdr_tcp_conn_create(struct fdr_target *t, struct fdr_port *port,
					 struct fdr_reactor *r, int fd, const char *peer,
					 const struct fdr_tcp_opts *opts,
					 struct fdr_tcp_listener *l, unsigned slot);
/* Drops the connection (on its reactor); it frees itself once drained. */
void fdr_tcp_conn_shutdown(struct fdr_tcp_conn *c, const char *reason);

/* Called by a connection being freed (tcp_listen.c). */
void fdr_tcp_listener_conn_gone(struct fdr_tcp_listener *l, struct fdr_tcp_conn *c);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NVMe/TCP transport definitions (NVM Express TCP Transport Specification
 * 1.0): PDU types, headers and flags.  Layout only.
 */
#ifndef FRANKENDRIVE_NVME_TCP_H
#define FRANKENDRIVE_NVME_TCP_H

#include <stdint.h>

#include "nvme.h"

#define NVME_TCP_PFV_1_0 0
#define NVME_TCP_DIGEST_LEN 4
#define NVME_TCP_DEFAULT_PORT 4420
#define NVME_TCP_DISC_PORT 8009

enum nvme_tcp_pdu_type {
	NVME_TCP_ICREQ = 0x00,
	NVME_TCP_ICRESP = 0x01,
	NVME_TCP_H2C_TERM = 0x02,
	NVME_TCP_C2H_TERM = 0x03,
	NVME_TCP_CMD = 0x04,
	NVME_TCP_RSP = 0x05,
	NVME_TCP_H2C_DATA = 0x06,
	NVME_TCP_C2H_DATA = 0x07,
	NVME_TCP_R2T = 0x09,
};

/* Common header flags */
#define NVME_TCP_F_HDGST (1u << 0)
#define NVME_TCP_F_DDGST (1u << 1)
#define NVME_TCP_F_DATA_LAST (1u << 2) /* H2CData, C2HData */
#define NVME_TCP_F_DATA_SUCCESS (1u << 3) /* C2HData */

/* ICReq/ICResp digest bits */
#define NVME_TCP_HDGST_ENABLE (1u << 0)
#define NVME_TCP_DDGST_ENABLE (1u << 1)

/* Fatal error status of a termination request */
enum nvme_tcp_fes {
	NVME_TCP_FES_INVALID_PDU_HDR = 0x01,
	NVME_TCP_FES_PDU_SEQ_ERR = 0x02,
	NVME_TCP_FES_HDR_DIGEST_ERR = 0x03,
	NVME_TCP_FES_DATA_OUT_OF_RANGE = 0x04,
	NVME_TCP_FES_R2T_LIMIT_EXCEEDED = 0x05, /* also "data transfer limit exceeded" */
	NVME_TCP_FES_UNSUPPORTED_PARAM = 0x06,
};

struct nvme_tcp_hdr {
	uint8_t type;
	uint8_t flags;
	uint8_t hlen;
	uint8_t pdo;
	uint32_t plen;
} __attribute__((packed));
_Static_assert(sizeof(struct nvme_tcp_hdr) == 8, "ch");

struct nvme_tcp_icreq {
	struct nvme_tcp_hdr hdr;
	uint16_t pfv;
	uint8_t hpda;
	uint8_t digest;
	uint32_t maxr2t; /* zero-based */
	uint8_t rsvd[112];
} __attribute__((packed));
_Static_assert(sizeof(struct nvme_tcp_icreq) == 128, "icreq");

struct nvme_tcp_icresp {
	struct nvme_tcp_hdr hdr;
	uint16_t pfv;
	uint8_t cpda;
	uint8_t digest;
	uint32_t maxdata; /* MAXH2CDATA */
	uint8_t rsvd[112];
} __attribute__((packed));
_Static_assert(sizeof(struct nvme_tcp_icresp) == 128, "icresp");

struct nvme_tcp_term {
	struct nvme_tcp_hdr hdr;
	uint16_t fes;
	uint32_t fei; /* field offset, or parameter, or zero */
	uint8_t rsvd[10];
	/* the offending PDU header follows, up to 128 bytes */
} __attribute__((packed));
_Static_assert(sizeof(struct nvme_tcp_term) == 24, "term");
#define NVME_TCP_TERM_MAX_DATA 128

struct nvme_tcp_cmd {
	struct nvme_tcp_hdr hdr;
	struct nvme_sqe sqe;
} __attribute__((packed));
_Static_assert(sizeof(struct nvme_tcp_cmd) == 72, "capsule cmd");

struct nvme_tcp_rsp {
	struct nvme_tcp_hdr hdr;
	struct nvme_cqe cqe;
} __attribute__((packed));
_Static_assert(sizeof(struct nvme_tcp_rsp) == 24, "capsule rsp");

/* H2CData and C2HData share one layout. */
struct nvme_tcp_data {
	struct nvme_tcp_hdr hdr;
	uint16_t cccid;
	uint16_t ttag; /* H2CData only */
	uint32_t datao;
	uint32_t datal;
	uint8_t rsvd[4];
} __attribute__((packed));
_Static_assert(sizeof(struct nvme_tcp_data) == 24, "data pdu");

struct nvme_tcp_r2t {
	struct nvme_tcp_hdr hdr;
	uint16_t cccid;
	uint16_t ttag;
	uint32_t r2to;
	uint32_t r2tl;
	uint8_t rsvd[4];
} __attribute__((packed));
_Static_assert(sizeof(struct nvme_tcp_r2t) == 24, "r2t");

#endif /* FRANKENDRIVE_NVME_TCP_H */

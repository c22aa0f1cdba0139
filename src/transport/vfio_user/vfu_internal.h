/* SPDX-License-Identifier: BSD-2-Clause */
/* Inside the vfio-user server: the message checker (pure, fuzzed). */
#ifndef FDR_VFU_INTERNAL_H
#define FDR_VFU_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vfu.h"
#include "vfu_proto.h"

/* Our protocol version: 0.2 (the reply's minor is min(client's, ours)). */
#define VFU_MAJOR 0
#define VFU_MINOR 2

/*
 * Framing check of a received header, before its body is read.  Returns
 * NULL if the stream can go on (the body is msg_size - 16 bytes), else why
 * the connection must be dropped (size < 16 or > FDR_VFU_MAX_MSG, a reply
 * or unknown message type from the client).
 */
const char *vfu_hdr_check(const struct vfu_hdr *h);

struct vfu_parse_ctx {
	const struct fdr_vfu_desc *desc;
	bool versioned; /* VERSION was negotiated on this connection */
};

/* A checked command; pointers go into the message buffer. */
struct vfu_msg {
	struct vfu_hdr hdr;
	bool no_reply;
	bool close;     /* drop the connection after the (error) reply */
	unsigned nfds;  /* fds the command consumes (others are closed) */
	const char *why; /* when vfu_msg_parse() fails: for the log */
	union {
		struct {
			uint16_t major, minor;
			uint32_t max_fds;  /* client can receive; default 1 */
			uint64_t max_xfer; /* default FDR_VFU_MAX_XFER */
			bool has_json;
		} version;
		struct vfu_dma_map map;
		struct vfu_dma_unmap unmap;
		struct {
			uint32_t argsz;
			uint32_t index;
		} info; /* GET_INFO (index unused), GET_REGION_INFO, GET_IRQ_INFO */
		struct {
			uint32_t flags, index, start, count;
			const uint8_t *bools; /* DATA_BOOL: count bytes */
		} irqs;
		struct {
			uint64_t offset;
			uint32_t region, count;
			const uint8_t *data; /* REGION_WRITE */
		} access;
	} u;
};

/*
 * Checks one whole message (header + body, len == msg_size, after a good
 * vfu_hdr_check()) that arrived with nfds descriptors.  Pure: no I/O, no
 * state but ctx.  Returns 0 if it can be executed, else the positive errno
 * for the error reply (m->why says why; m->close if the connection must go
 * after it).  On success m->nfds tells how many of the fds (the first
 * ones) the command uses.
 */
int vfu_msg_parse(const struct vfu_parse_ctx *ctx, const uint8_t *buf, size_t len,
		  unsigned nfds, struct vfu_msg *m);

/* Human name of a command number, "?" if unknown. */
const char *vfu_cmd_name(unsigned cmd);

/* The VERSION reply's JSON (NUL included in the length returned). */
size_t vfu_version_json(char *buf, size_t len);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * nvmedump: flight recorder events as pcapng (nvmedump -w) and back
 * (nvmedump -r FILE.pcapng).  docs/recorder.md describes the format; in
 * short:
 *
 *   - one little-endian section, one interface of link type 252
 *     (LINKTYPE_WIRESHARK_UPPER_PDU, "exported PDU"), nanosecond
 *     timestamps (the events' wall clock);
 *   - commands, completions and data become whole NVMe/TCP PDUs
 *     (CapsuleCmd, CapsuleResp, H2CData/C2HData) behind the exported-PDU
 *     tags for Wireshark's "nvme-tcp" dissector, one conversation per
 *     recorded queue: host 10.A.B.C (A.B.C the low 24 bits of the
 *     connection ID) or, for a PCIe function's queue, 172.(16 + G).BB.DF
 *     (G the attach generation's low 4 bits, BB.DF the PCI address), port
 *     50000 + QID, controller 192.0.2.1 port 4420;
 *   - the first time a queue shows up, synthetic ICReq/ICResp and (unless
 *     that first event is its real Connect) a synthetic Connect and its
 *     response tell Wireshark the queue ID; their comments start
 *     "frankendrive: synthetic";
 *   - every other event is an exported PDU for a dissector named
 *     "frankendrive" whose payload is the 256-byte ring slot with its seq
 *     field holding the event's index;
 *   - every event's record carries its nvmedump line as comment.
 *
 * The writer streams (each event is written as it comes); the reader takes
 * untrusted input and reports what it cannot parse as an error, never by
 * crashing.
 */
#ifndef NVMEDUMP_PCAPNG_H
#define NVMEDUMP_PCAPNG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <frankendrive/recorder.h>

#define NVMEDUMP_PCAPNG_SHB 0x0a0d0d0au
#define NVMEDUMP_PCAPNG_LINKTYPE 252 /* LINKTYPE_WIRESHARK_UPPER_PDU */
#define NVMEDUMP_PCAPNG_CTRL_ADDR 0xc0000201u /* 192.0.2.1 */
#define NVMEDUMP_PCAPNG_CTRL_PORT 4420
#define NVMEDUMP_PCAPNG_HOST_PORT 50000 /* + QID, at most 65535 */
/* Hosts: 10.0.0.0/8 NVMe/TCP connections, 172.16.0.0/12 PCIe functions */
#define NVMEDUMP_PCAPNG_TCP_NET 0x0a000000u
#define NVMEDUMP_PCAPNG_PCI_NET 0xac100000u
#define NVMEDUMP_PCAPNG_PROTO "frankendrive"
#define NVMEDUMP_PCAPNG_SYNTHETIC "frankendrive: synthetic"
/* The CID of the synthetic Connect commands */
#define NVMEDUMP_PCAPNG_SYNTH_CID 0xffff

/* ---- Writing ---- */

struct nvmedump_pcapng_writer;

/*
 * Start a pcapng stream on f (the caller keeps f, and closes it): the
 * section header and the interface are written at once.  dev is what the
 * ring records (its header's dev; may be NULL or empty), snaplen the data
 * bytes per command the output holds at most, flags the ring's
 * FDR_REC_F_* flags.  NULL when out of memory.
 */
struct nvmedump_pcapng_writer *nvmedump_pcapng_writer_open(FILE *f, const char *dev,
							   uint32_t snaplen, uint32_t flags);

/*
 * One event, with its nvmedump line text (nvmedump_format(); NULL: no
 * comment).  0, or -1 if the output failed or memory ran out.
 */
int nvmedump_pcapng_write_event(struct nvmedump_pcapng_writer *w, const struct fdr_rec_event *ev,
				const char *text);

/*
 * Events lost so far (a running total): written as an Interface
 * Statistics Block (isb_ifdrop) when it changed.  0 or -1 as above.
 */
int nvmedump_pcapng_write_lost(struct nvmedump_pcapng_writer *w, uint64_t lost);

/* Flush and free.  0, or -1 if any write failed. */
int nvmedump_pcapng_writer_close(struct nvmedump_pcapng_writer *w);

/* ---- Reading ---- */

struct nvmedump_pcapng_reader;

/* Do these first bytes of a file start a pcapng section? (len >= 4) */
bool nvmedump_pcapng_magic(const void *buf, size_t len);

/*
 * Read events back from f, a pcapng stream (the caller keeps f).  The
 * section header is read at once (and, if there, the interfaces and
 * anything else before the first packet).  With follow, an incomplete
 * block at the end of the file is waited for (next() returns 0 and
 * reads on the next call), otherwise it is an error.  NULL with a reason
 * in err.
 */
struct nvmedump_pcapng_reader *nvmedump_pcapng_reader_open(FILE *f, bool follow, char *err,
							   size_t errlen);

/*
 * The next event into *ev: 1, 0 at the end of the file (for now), -1 on a
 * read error or a malformed file (nvmedump_pcapng_reader_error() says
 * which; the reader is then done).  Records that are not ours (other link
 * types, other protocols, ICReq/ICResp/R2T/termination PDUs, synthetic
 * records) are skipped.
 */
int nvmedump_pcapng_reader_next(struct nvmedump_pcapng_reader *r, struct fdr_rec_event *ev);

const char *nvmedump_pcapng_reader_error(const struct nvmedump_pcapng_reader *r);
/* The first exported-PDU interface's description (the ring's dev), or "". */
const char *nvmedump_pcapng_reader_dev(const struct nvmedump_pcapng_reader *r);
/* The snap length and ring flags the writer noted in the section header
 * (0 when not there). */
uint32_t nvmedump_pcapng_reader_snaplen(const struct nvmedump_pcapng_reader *r);
uint32_t nvmedump_pcapng_reader_flags(const struct nvmedump_pcapng_reader *r);
/* Events lost before they were written (isb_ifdrop, so far). */
uint64_t nvmedump_pcapng_reader_lost(const struct nvmedump_pcapng_reader *r);
/* Packets skipped as not understood (not counting synthetic ones). */
uint64_t nvmedump_pcapng_reader_skipped(const struct nvmedump_pcapng_reader *r);
void nvmedump_pcapng_reader_close(struct nvmedump_pcapng_reader *r);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What the core and the transports tell the flight recorder.  Each call
 * is one relaxed load and a branch while recording is off, and nothing at
 * all when the recorder is compiled out (meson -Drecorder=false).
 */
#ifndef FDR_CORE_RECORD_H
#define FDR_CORE_RECORD_H

#include <stdint.h>

#include "recorder/recorder.h"

struct fdr_req;
struct fdr_ctrl;

#if FDR_HAVE_RECORDER
void fdr_record_cmd_slow(const struct fdr_req *req);
void fdr_record_cpl_slow(const struct fdr_req *req);
void fdr_record_reg_slow(const struct fdr_ctrl *ctrl, bool write, uint32_t ofst, uint32_t size,
			 uint64_t value);
void fdr_record_aen_slow(const struct fdr_ctrl *ctrl, uint32_t cdw0);
void fdr_record_pdu_slow(uint32_t conn, uint16_t qid, uint16_t cntlid, bool tx, const void *hdr,
			 uint32_t hlen);
void fdr_record_conn_slow(uint32_t conn, uint8_t xport, bool open, const char *text);
/* A PCIe function's access (kind FDR_REC_CFG_* or, for BAR0 outside the
 * controller registers, FDR_REC_REG_*). */
void fdr_record_pci_slow(uint32_t conn, uint16_t cntlid, uint16_t kind, uint32_t ofst,
			 uint32_t size, uint64_t value);
void fdr_record_irq_slow(uint32_t conn, uint16_t cntlid, uint16_t cqid, uint16_t vector,
			 uint8_t type, uint8_t what, uint16_t entries);
/* A refused host memory access; req is the command it was for, or NULL
 * (queue entries: qid tells which queue). */
void fdr_record_dma_err_slow(uint32_t conn, uint16_t cntlid, uint16_t qid,
			     const struct fdr_req *req, uint64_t addr, uint32_t len, bool write,
			     uint8_t what);
void fdr_record_action_slow(const struct fdr_req *req, const char *who, const char *what,
			    uint8_t tap);
/* The stamps of a command's fetch and completion (req->t_fetch, t_done),
 * taken for its events only: 0 while recording is off. */
static inline uint64_t fdr_record_stamp(void)
{
	return fdr_rec_on() ? fdr_rec_now() : 0;
}
#define FDR_RECORD(call) \
	do { \
		if (fdr_rec_on()) \
			fdr_record_##call; \
	} while (0)
#define FDR_RECORD_PDU(call) \
	do { \
		if (fdr_rec_pdus_on()) \
			fdr_record_##call; \
	} while (0)
#else
static inline uint64_t fdr_record_stamp(void)
{
	return 0;
}
#define FDR_RECORD(call) do { } while (0)
#define FDR_RECORD_PDU(call) do { } while (0)
#endif

#endif

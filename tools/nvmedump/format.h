/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * nvmedump: one flight recorder event as one line of text.
 *
 *   [index] sec:nsec dev KIND fields...
 *
 * index is the event's sequence number (seq - 1), sec:nsec its
 * CLOCK_REALTIME time, dev "ctrlN" (the controller ID) or "-" when the
 * event belongs to no controller (cntlid 0 or FFFFh); for an event of a
 * PCIe function (xport FDR_REC_XPORT_PCIE) dev is its PCI address,
 * "BB:DD.F" as lspci writes it.  docs/nvmedump.1 lists the fields of every
 * KIND.  The output is meant to stay stable: scripts grep it.
 */
#ifndef NVMEDUMP_FORMAT_H
#define NVMEDUMP_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <frankendrive/recorder.h>

/* Long enough for any event (the longest, ACT, is below 400 bytes). */
#define NVMEDUMP_LINE_MAX 1024

/*
 * Format ev into buf (NUL-terminated, no newline).  Returns the length of
 * the full line, like snprintf: a result >= len means it was cut short.
 */
size_t nvmedump_format(const struct fdr_rec_event *ev, char *buf, size_t len);

/* Just the decoded part, without "[index] sec:nsec dev ". */
size_t nvmedump_format_body(const struct fdr_rec_event *ev, char *buf, size_t len);

/* The PCI address in a PCIe function's conn, "00:06.0". */
size_t nvmedump_format_pci(uint32_t conn, char *buf, size_t len);

/* What lies at an offset of a PCIe function's BAR0 (recorder.h). */
enum nvmedump_bar0 {
	NVMEDUMP_BAR0_REG,     /* a controller register */
	NVMEDUMP_BAR0_SQ_DB,   /* SQ y Tail Doorbell, y the index */
	NVMEDUMP_BAR0_CQ_DB,   /* CQ y Head Doorbell */
	NVMEDUMP_BAR0_MSIX,    /* an MSI-X table entry, the vector the index */
	NVMEDUMP_BAR0_PBA,     /* the MSI-X Pending Bit Array */
	NVMEDUMP_BAR0_BEYOND,  /* past the end of BAR0 */
};
enum nvmedump_bar0 nvmedump_bar0(uint32_t offset, uint32_t *index);

/* A latency as the CPL lines show it: "850ns", "12.3us", "4.56ms",
 * "1.234s" (truncated, not rounded). */
size_t nvmedump_format_latency(uint64_t ns, char *buf, size_t len);

/*
 * nvmedump -s: keep at most snaplen bytes of each command's data.  A DATA
 * event that starts at or beyond snaplen is dropped (returns false), one
 * that crosses it is cut to end there; every other event is left alone
 * (returns true).
 */
bool nvmedump_snap(struct fdr_rec_event *ev, uint32_t snaplen);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * nvmedump filters: a small tcpdump-like expression over recorder events.
 *
 *   expr    := term { ("or" | "||") term }
 *   term    := factor { ("and" | "&&") factor }
 *   factor  := ("not" | "!") factor | "(" expr ")" | pred
 *   pred    := "qid" N | "ns" N | "ctrl" N
 *            | "opc" NAME          (nvme_opc_parse: "read", "0x02", "io:0x80")
 *            | "admin" | "io"
 *            | "status" [ ("==" | "!=") N ]
 *            | "lba" A [ "-" B ]
 *            | "latency" ("<" | "<=" | ">" | ">=" | "==" | "!=") DURATION
 *            | "kind" KIND       (KIND "doorbell": as "doorbell")
 *            | "pci" [ BB:DD.F ] | "tcp" | "fabrics"
 *            | "doorbell"
 *            | "vector" N
 *
 * "not" binds tightest, then "and", then "or".  Numbers are decimal or 0x
 * hex; durations need a unit (ns, us, ms, s) and may have a fraction
 * ("1.5ms").  A word may be quoted ('get log page').  A predicate about a
 * field an event does not have is false for that event (so "ns 1" never
 * matches a CPL, which does not record the namespace, and "not status"
 * matches every event that is not a CPL).  "pci" and "tcp" select by the
 * event's transport (pci with an address, one PCIe function); "qid N" also
 * takes a PCIe function's interrupts and DMA errors (by their queue) and
 * doorbell accesses (by the doorbell's queue), "vector N" its MSI-X
 * interrupts and table entries.  docs/nvmedump.1 has the details.
 */
#ifndef NVMEDUMP_FILTER_H
#define NVMEDUMP_FILTER_H

#include <stdbool.h>
#include <stddef.h>

#include <frankendrive/recorder.h>

struct nvmedump_filter;

struct nvmedump_filter_err {
	size_t pos;     /* byte offset into the expression (0-based) */
	char msg[256];  /* without the position */
};

/*
 * Parse an expression.  An empty (or all blank) expression matches every
 * event.  NULL on error with err filled in (err may be NULL), or on ENOMEM.
 */
struct nvmedump_filter *nvmedump_filter_parse(const char *expr, struct nvmedump_filter_err *err);
bool nvmedump_filter_match(const struct nvmedump_filter *f, const struct fdr_rec_event *ev);
void nvmedump_filter_free(struct nvmedump_filter *f);

/* Join argv words with single spaces into a malloc'd string (tcpdump does
 * the same), so "nvmedump opc read and status" and
 * "nvmedump 'opc read and status'" are one expression.  NULL on ENOMEM. */
char *nvmedump_filter_join(int argc, char *const argv[]);

#endif

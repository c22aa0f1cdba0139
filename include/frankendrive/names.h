/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Human readable names for NVMe and NVMe/TCP numbers: opcodes, status
 * codes, features, log pages, CNS values, PDU types, registers and
 * asynchronous event types.  Used by the drive's log messages, the trace
 * plug-in and the nvmedump tool.
 *
 * Every lookup returns a pointer to a static constant string and never
 * NULL: a value this table does not know gets a fixed fallback ("Unknown",
 * "Vendor Specific", or for status codes one of the uppercase "... UNKNOWN"
 * texts).  Nothing here allocates or keeps state, so all functions are
 * thread safe and may be called from any reactor.
 *
 * Names of commands, features, log pages and the like are in mixed case,
 * following the NVMe specification and nvme-cli ("Get Log Page",
 * "Volatile Write Cache").  Status texts are uppercase, in the style of
 * FreeBSD's nvme(4) driver ("INVALID FIELD", "LBA OUT OF RANGE").
 */
#ifndef FRANKENDRIVE_NAMES_H
#define FRANKENDRIVE_NAMES_H

#include <stdbool.h>
#include <stdint.h>

#include "nvme.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Opcodes ---------------------------------------------------------- */

/*
 * Admin command opcode, e.g. 0x06 -> "Identify", 0x7f -> "Fabrics".
 * Unknown opcodes: "Vendor Specific" for C0h-FFh, "Unknown" otherwise.
 */
const char *nvme_admin_opc_name(uint8_t opc);

/*
 * NVM command set (I/O queue) opcode, e.g. 0x01 -> "Write".  0x7f is
 * "Fabrics" here too: a Connect for an I/O queue travels on that queue.
 * Unknown opcodes: "Vendor Specific" for 80h-FFh, "Unknown" otherwise.
 */
const char *nvme_io_opc_name(uint8_t opc);

/* Does this NVM command set opcode carry an SLBA/NLB range (Read, Write,
 * Compare, Write Zeroes, Write Uncorrectable, Verify)? */
bool nvme_io_opc_has_lba(uint8_t opc);

/* Fabrics command type (FCTYPE), e.g. 0x01 -> "Connect". */
const char *nvme_fabrics_type_name(uint8_t fctype);

/*
 * The name to show for a command: the admin or I/O opcode name, except for
 * a Fabrics command (opcode 7Fh, on either kind of queue) where it is the
 * name of the command type fctype ("Connect", "Property Get", ...); an
 * unknown fctype gives "Fabrics".  fctype is ignored for other opcodes.
 */
const char *nvme_opc_name(bool admin, uint8_t opc, uint8_t fctype);

/*
 * Parse an opcode given by name or number.  Case is ignored.
 *
 * Accepted names are the display names above ("Get Log Page"), the same
 * with the spaces, '-', '_' and '/' left out or changed ("get-log-page",
 * "getlogpage", "GET_LOG_PAGE", "write_zeroes"), and a few nvme-cli style
 * short forms ("dsm", "get-log", "format", "fw-commit", "resv-report", ...).
 * Each name belongs to one command set, so *admin is set from the name and
 * 0 returned.  The one name in both sets, "Fabrics", resolves to the admin
 * opcode.  The Fabrics command types ("connect", "property-get", ...) are
 * accepted as well and give opcode 7Fh, admin (the command type itself is
 * not reported; use nvme_fabrics_type_parse() for it).
 *
 * Numbers may be decimal ("128"), hexadecimal with a 0x prefix ("0x80") or
 * with an h suffix as the specification writes them ("80h"), at most 255;
 * a leading 0 does not mean octal ("010" is ten).
 * A number alone does not say which command set it belongs to: then *opc
 * is set, *admin is left untouched (so the caller's default applies) and
 * the function returns 1.
 *
 * To choose the set explicitly, prefix either form with "admin:" or "io:"
 * ("admin:0x80", "io:0x00", "io:fabrics"): then *admin is set and 0 is
 * returned, or -1 if the name does not exist in that set.
 *
 * Returns 0 (set known), 1 (bare number, set unknown), or -1 if the text is
 * not an opcode; *admin and *opc are only written on success.  admin and opc
 * must not be NULL; name may be NULL (returns -1).
 */
int nvme_opc_parse(const char *name, bool *admin, uint8_t *opc);

/*
 * Parse a Fabrics command type by name ("connect", "Property Get",
 * "property_set", "auth-send", ...) or number.  Returns 0 or -1.
 */
int nvme_fabrics_type_parse(const char *name, uint8_t *fctype);

/* ---- Status ------------------------------------------------------------ */

/*
 * Status as the project passes it: NVME_STATUS(sct, sc), possibly with the
 * DNR, More and CRD bits, which are ignored (no phase bit).  For SCT 1 the
 * codes 80h-84h mean different things for Fabrics commands and NVM
 * commands; this function uses the NVM command set meaning (for 80h-84h
 * only: codes only Fabrics defines, such as 91h "AUTHENTICATION REQUIRED",
 * are named anyway).  Unknown codes give "GENERIC UNKNOWN", "COMMAND
 * SPECIFIC UNKNOWN", "MEDIA ERROR UNKNOWN", "PATH UNKNOWN", "VENDOR
 * SPECIFIC" (SCT 7, or SC C0h-FFh of any type) or "UNKNOWN" (reserved SCT).
 */
const char *nvme_status_name(uint16_t status);

/*
 * Same, in the context of the command that completed: for opcode 7Fh (a
 * Fabrics command, on an admin or I/O queue) SCT 1 codes 80h-84h get their
 * Fabrics meaning ("CONNECT INVALID PARAMETERS"), for every other command
 * the NVM command set meaning ("WRITE TO RO PAGE").
 */
const char *nvme_status_name_ex(uint16_t status, bool admin, uint8_t opc);

/* Status code type: "GENERIC", "COMMAND SPECIFIC", "MEDIA ERROR",
 * "PATH RELATED", "VENDOR SPECIFIC", "RESERVED" (4-6), "UNKNOWN" (above 7). */
const char *nvme_sct_name(uint8_t sct);

/* ---- Admin command arguments --------------------------------------------- */

/* Feature identifier, e.g. 0x06 -> "Volatile Write Cache". */
const char *nvme_feature_name(uint8_t fid);

/* Log page identifier, e.g. 0x02 -> "SMART / Health Information". */
const char *nvme_log_page_name(uint8_t lid);

/* Identify CNS value, e.g. 0x01 -> "Identify Controller". */
const char *nvme_cns_name(uint8_t cns);

/* Asynchronous event type, e.g. 2 -> "Notice". */
const char *nvme_aen_type_name(uint8_t type);

/* Asynchronous event information for a given event type, e.g.
 * (2, 0x00) -> "Namespace Attribute Changed". */
const char *nvme_aen_info_name(uint8_t type, uint8_t info);

/* ---- Transport and registers -------------------------------------------- */

/* NVMe/TCP PDU type, e.g. 0x04 -> "CapsuleCmd". */
const char *nvme_tcp_pdu_name(uint8_t type);

/* NVMe/TCP termination request fatal error status, e.g. 0x03 ->
 * "Header Digest Error". */
const char *nvme_tcp_fes_name(uint16_t fes);

/*
 * Controller register (property) at a byte offset, e.g. 0x14 -> "CC".
 * Only the offset a register starts at is named; offsets from 1000h on are
 * "Doorbell"; anything else is "Unknown".
 */
const char *nvme_reg_name(uint32_t offset);

#ifdef __cplusplus
}
#endif

#endif /* FRANKENDRIVE_NAMES_H */

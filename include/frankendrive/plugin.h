/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The frankendrive plug-in ABI: the one header a plug-in author needs.
 *
 * A plug-in is a shared library that exports
 *
 *	PLUGIN_INFO("name", "what it does");
 *	int setup(void);     attach callbacks to taps; 0 = ok
 *	int teardown(void);  detach and free; 0 = ok
 *
 * and is loaded with `frankendrive --plugin path.so[,key=value...]` or at
 * run time through the control socket (`frankendrive ctl plugin load`).
 * Every command passes through the pipeline stages fetch, decode, execute
 * and writeback; each stage is a named tap ("nvme:io:decode") to which
 * callbacks attach.  See docs/plugins.md for every tap, its callback and
 * what its return value means.
 *
 * Callbacks run on the reactor thread of the command's queue, so they must
 * not block; several reactors may run the same callback at once.
 */
#ifndef FRANKENDRIVE_PLUGIN_H
#define FRANKENDRIVE_PLUGIN_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "names.h"
#include "nvme.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped on any incompatible change; the loader refuses other versions. */
#define PLUGIN_ABI_VERSION 1

struct plugin_info {
	uint32_t abi_version;
	const char *name;
	const char *description;
};

#define PLUGIN_INFO(name_, desc_)                                               \
	__attribute__((visibility("default"))) const struct plugin_info plugin_info = { \
		PLUGIN_ABI_VERSION, (name_), (desc_)}

int setup(void);
int teardown(void);

/* ---- Taps ---------------------------------------------------------------- */

/* Attach cb (of the tap's callback type, below) to a tap.  Several
 * callbacks may share a tap; they run in attach order.  0, or -1 with
 * errno: ENOENT unknown tap, EEXIST already attached by this plug-in,
 * EINVAL outside setup()/teardown(), EDEADLK from a callback (attach
 * and detach wait for every reactor; do them in setup/teardown). */
int plugin_tap_attach(const char *name, void *cb);
/* Detach this plug-in's callback from the tap. */
int plugin_tap_detach(const char *name);

/* What a callback returns. */
#define PLUGIN_CONTINUE 0 /* carry on: next callback, then the stage itself */
#define PLUGIN_COMPLETE 1 /* complete the command now with *cmp as left (seed: "return (1)") */
#define PLUGIN_HOLD 2     /* the plug-in keeps the command: see plugin_cmd_hold() */

/* For register and PDU taps */
#define PLUGIN_DROP 1  /* regwrite: ignore the write; pdu:send: don't send it */
#define PLUGIN_CLOSE 2 /* pdu taps: drop the connection */

/*
 * nvme:{admin,io}:{fetch,decode,execute}
 * dev is the controller ID, sqid the queue.  cmd may be changed (before
 * decode: it is then decoded as changed).  Returning PLUGIN_COMPLETE
 * completes it with cmp's status (NVME_STATUS_SET) and cdw0, skipping the
 * later stages; execute means the data phase already happened.
 */
typedef int (*plugin_cmd_cb_t)(uint32_t dev, struct nvme_sqe *cmd, struct nvme_cqe *cmp,
			       uint32_t sqid);
/*
 * nvme:{admin,io}:writeback
 * cmp is the completion about to be posted; change it at will.  The
 * command is find_cmd(sqid, cmp->cid).  Every callback of the tap runs;
 * the return value is ignored except PLUGIN_HOLD (which also stops the
 * callbacks after it).
 */
typedef int (*plugin_cpl_cb_t)(uint32_t dev, struct nvme_cqe *cmp, uint32_t sqid);
/*
 * nvme:regread:writeback: *value is what the host will read (change it).
 * nvme:regwrite:decode:   *value is what the host writes (change it, or
 * return PLUGIN_DROP to ignore the write).  offset as in the NVMe register
 * map (CAP 00h, CC 14h, CSTS 1Ch, ...), size 4 or 8.
 */
typedef int (*plugin_reg_cb_t)(uint32_t dev, uint32_t offset, uint32_t size, uint64_t *value);
/*
 * The same callback type serves the PCIe function's other accesses:
 * - nvme:regwrite:decode also sees doorbell writes (offset 1000h +
 *   4 * (2 * qid + 1 for a CQ head), size 4), once per new value the drive
 *   notices; PLUGIN_DROP ignores the new value as if never written.
 * - pci:regread:writeback, pci:regwrite:decode: config space (offset in
 *   config space, size 1, 2 or 4).
 * - nvme:msixread:writeback, nvme:msixwrite:decode: the MSI-X table and
 *   PBA in BAR0 (offset from BAR0: table at 2000h, PBA at 3000h).
 * dev is the function's current controller ID (0 before the host attached).
 */
/*
 * pci:msix:writeback: the function is about to send an interrupt for
 * completion queue cqid: MSI-X vector, or PLUGIN_IRQ_INTX for the INTx
 * pin.  PLUGIN_DROP loses it (the entries stay posted).
 */
typedef int (*plugin_irq_cb_t)(uint32_t dev, uint32_t vector, uint32_t cqid);
#define PLUGIN_IRQ_INTX 0xffffffffu
/* nvme:aen:writeback: cmp->cdw0 is the event (NVME_AER_CDW0); change it. */
typedef int (*plugin_aen_cb_t)(uint32_t dev, struct nvme_cqe *cmp);
/*
 * tcp:pdu:recv, tcp:pdu:send: the PDU header (common header + PDU specific
 * header, hlen bytes); change bytes in place, or return PLUGIN_DROP (send
 * only) or PLUGIN_CLOSE.  A received header is checked again after the
 * callbacks, so a corrupted one gets the transport's error handling.
 */
typedef int (*plugin_pdu_cb_t)(uint32_t dev, uint16_t qid, uint8_t *hdr, uint32_t hlen);

/* Declarations in the seed's style: static DECL_NPLUGIN_IO_DECODE(fn); */
#define DECL_NPLUGIN_CMD(fn) int fn(uint32_t dev, struct nvme_sqe *cmd, struct nvme_cqe *cmp, uint32_t sqid)
#define DECL_NPLUGIN_CPL(fn) int fn(uint32_t dev, struct nvme_cqe *cmp, uint32_t sqid)
#define DECL_NPLUGIN_ADMIN_FETCH(fn) DECL_NPLUGIN_CMD(fn)
#define DECL_NPLUGIN_ADMIN_DECODE(fn) DECL_NPLUGIN_CMD(fn)
#define DECL_NPLUGIN_ADMIN_EXECUTE(fn) DECL_NPLUGIN_CMD(fn)
#define DECL_NPLUGIN_ADMIN_WRITEBACK(fn) DECL_NPLUGIN_CPL(fn)
#define DECL_NPLUGIN_IO_FETCH(fn) DECL_NPLUGIN_CMD(fn)
#define DECL_NPLUGIN_IO_DECODE(fn) DECL_NPLUGIN_CMD(fn)
#define DECL_NPLUGIN_IO_EXECUTE(fn) DECL_NPLUGIN_CMD(fn)
#define DECL_NPLUGIN_IO_WRITEBACK(fn) DECL_NPLUGIN_CPL(fn)
#define DECL_NPLUGIN_REG(fn) int fn(uint32_t dev, uint32_t offset, uint32_t size, uint64_t *value)
#define DECL_NPLUGIN_IRQ(fn) int fn(uint32_t dev, uint32_t vector, uint32_t cqid)
#define DECL_NPLUGIN_AEN(fn) int fn(uint32_t dev, struct nvme_cqe *cmp)
#define DECL_NPLUGIN_PDU(fn) int fn(uint32_t dev, uint16_t qid, uint8_t *hdr, uint32_t hlen)

/* Set the status field of a CQE's status word (keeps the phase bit). */
#define NVME_STATUS_SET(st, sct, sc) \
	((st) = (uint16_t)(((st)&1u) | (uint16_t)(NVME_STATUS((sct), (sc)) << 1)))
#define NVME_STATUS_SET_DNR(st) ((st) = (uint16_t)((st) | (NVME_STATUS_DNR << 1)))
#define NVME_STATUS_GET(st) ((uint16_t)((st) >> 1))

/* Seed spellings, so ported plug-ins need fewer edits. */
#define NVME_OPC_FLUSH NVME_IO_FLUSH
#define NVME_OPC_WRITE NVME_IO_WRITE
#define NVME_OPC_READ NVME_IO_READ
#define NVME_SC_ATTEMPTED_WRITE_TO_RO_PAGE NVME_SC_ATTEMPTED_WRITE_TO_RO_RANGE

/* ---- The command of the running callback ---------------------------------- */

typedef struct plugin_cmd plugin_cmd_t;

/* The command whose callback is running, or NULL (register/PDU taps). */
plugin_cmd_t *plugin_cmd(void);
/* The SQE of an outstanding command on queue sqid of the running
 * callback's controller; NULL if unknown.  At writeback, the command of
 * the completion being posted. */
struct nvme_sqe *find_cmd(uint32_t sqid, uint16_t cid);

/* Data of the command: host-to-controller data from the execute stage on,
 * controller-to-host data at writeback.  NULL if it has none (yet). */
void *plugin_cmd_data(plugin_cmd_t *c, uint32_t *len);
/* LBA size of the command's namespace, 0 if none. */
uint32_t plugin_cmd_lba_size(plugin_cmd_t *c);
/* The host NQN of the command's controller ("" before Connect). */
const char *plugin_cmd_hostnqn(plugin_cmd_t *c);

/*
 * Keep a command: call from a command or writeback callback that then
 * returns PLUGIN_HOLD.  The returned ticket (never 0) lets any thread
 * finish it later, or never (the host's timeout and abort paths then run).
 * If the connection goes away first, the ticket goes stale.
 */
uint64_t plugin_cmd_hold(plugin_cmd_t *c);
/* Complete a held command with status (NVME_STATUS(...) | NVME_STATUS_DNR)
 * and cdw0; any thread.  0, or -1 with errno ESTALE. */
int plugin_ticket_complete(uint64_t ticket, uint16_t status, uint32_t cdw0);
/* Let a held command go on with the next stage (at writeback: post it);
 * any thread.  0, or -1 with errno ESTALE. */
int plugin_ticket_resume(uint64_t ticket);
/* Hold the command and resume it after delay_ns; the callback then
 * returns PLUGIN_HOLD.  0, or -1 with errno. */
int plugin_cmd_delay(plugin_cmd_t *c, uint64_t delay_ns);

/* ---- The drive ------------------------------------------------------------------- */

/* Raise an asynchronous event on controller dev (0: every controller),
 * e.g. plugin_aen_raise(0, NVME_AER_TYPE_SMART, NVME_AER_SMART_RELIABILITY,
 * NVME_LOG_SMART) after setting a critical warning. */
int plugin_aen_raise(uint32_t dev, uint8_t type, uint8_t info, uint8_t lid);
/* Set CSTS.CFS (controller fatal status) on controller dev (0: all). */
int plugin_set_fatal(uint32_t dev);

enum plugin_health {
	PLUGIN_HEALTH_CRITICAL_WARNING, /* NVME_SMART_CRIT_* bits */
	PLUGIN_HEALTH_TEMPERATURE,      /* Kelvin */
	PLUGIN_HEALTH_AVAIL_SPARE,      /* percent */
	PLUGIN_HEALTH_PERCENT_USED,
	PLUGIN_HEALTH_MEDIA_ERRORS,     /* added to the drive's own count */
	PLUGIN_HEALTH_UNSAFE_SHUTDOWNS,
};
/* Read or change the health (SMART) log of the drive's subsystems. */
int plugin_health_set(enum plugin_health field, uint64_t value);
uint64_t plugin_health_get(enum plugin_health field);

/* The drive's logger; level as syslog: 3 err, 4 warning, 5 notice, 6 info, 7 debug. */
void plugin_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Arguments from --plugin path.so,key=value,...: the value, "" for a bare
 * key, or NULL.  Valid during setup() and for the plug-in's lifetime. */
const char *plugin_arg(const char *key);
/* A numeric argument (decimal, or hex with 0x): *out = its value, or def
 * if the key is absent.  0, or -1 after logging what is wrong with it. */
int plugin_arg_u64(const char *key, uint64_t def, uint64_t *out);
/* CLOCK_MONOTONIC nanoseconds */
uint64_t plugin_now_ns(void);

#ifdef __cplusplus
}
#endif

#endif /* FRANKENDRIVE_PLUGIN_H */

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Taps: named hook points of the pipeline ("nvme:io:decode", ...) where
 * plug-in callbacks, fault rules and the recorder attach.  With nothing
 * attached a tap costs one load and one predictable branch.
 *
 * Readers (reactors) see an immutable list through one pointer; writers
 * (setup, the control socket) publish a new list and free the old one
 * after every reactor has passed a quiescent point.
 */
#ifndef FDR_TAP_H
#define FDR_TAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <frankendrive/nvme.h>

struct fdr_req;
struct fdr_reactor;

enum fdr_tap_id {
	FDR_TAP_ADMIN_FETCH,
	FDR_TAP_ADMIN_DECODE,
	FDR_TAP_ADMIN_EXECUTE,
	FDR_TAP_ADMIN_WRITEBACK,
	FDR_TAP_IO_FETCH,
	FDR_TAP_IO_DECODE,
	FDR_TAP_IO_EXECUTE,
	FDR_TAP_IO_WRITEBACK,
	FDR_TAP_REGREAD_WRITEBACK,
	FDR_TAP_REGWRITE_DECODE,
	FDR_TAP_AEN_WRITEBACK,
	FDR_TAP_TCP_PDU_RECV,
	FDR_TAP_TCP_PDU_SEND,
	/* The PCIe function's, named as in the seed.  New taps go last: the
	 * recorder stores tap indexes. */
	FDR_TAP_PCI_REGREAD_WRITEBACK,
	FDR_TAP_PCI_REGWRITE_DECODE,
	FDR_TAP_PCI_MSIX_WRITEBACK,
	FDR_TAP_MSIXREAD_WRITEBACK,
	FDR_TAP_MSIXWRITE_DECODE,
	FDR_TAP_NR
};

/* The stage offsets within the admin and I/O groups above. */
enum fdr_stage { FDR_STAGE_FETCH, FDR_STAGE_DECODE, FDR_STAGE_EXECUTE, FDR_STAGE_WRITEBACK };

enum fdr_tap_kind {
	FDR_TAP_KIND_CMD, /* fetch, decode, execute */
	FDR_TAP_KIND_CPL, /* writeback */
	FDR_TAP_KIND_REG,
	FDR_TAP_KIND_AEN,
	FDR_TAP_KIND_PDU,
	FDR_TAP_KIND_IRQ,
};

/* Everything a tap shows its callbacks; which fields are set depends on the kind. */
struct fdr_tap_ctx {
	enum fdr_tap_id id;
	uint32_t dev;  /* controller ID */
	uint32_t sqid;
	struct fdr_req *req;    /* CMD/CPL */
	struct nvme_sqe *cmd;   /* CMD/CPL */
	struct nvme_cqe *cpl;   /* CMD/CPL/AEN */
	uint32_t offset;        /* REG; IRQ: the vector */
	uint32_t size;          /* REG */
	uint64_t *value;        /* REG */
	uint8_t *hdr;           /* PDU */
	uint32_t hlen;          /* PDU */
};

/*
 * One attached callback.  Plug-ins attach their seed-style function (cb);
 * the project's own hooks (rules, recorder) attach hook + ctx instead.
 * owner identifies who attached it, for detach and for traces.
 */
struct fdr_tap_entry {
	void *cb;
	int (*hook)(void *ctx, struct fdr_tap_ctx *tc);
	void *ctx;
	const void *owner;
	const char *owner_name;
};

struct fdr_tap_list {
	unsigned n;
	struct fdr_tap_entry e[];
};

struct fdr_tap {
	const char *name;
	enum fdr_tap_kind kind;
	struct fdr_tap_list *list; /* NULL: nothing attached */
};

extern struct fdr_tap fdr_taps[FDR_TAP_NR];

static inline bool fdr_tap_on(enum fdr_tap_id id)
{
	return __builtin_expect(__atomic_load_n(&fdr_taps[id].list, __ATOMIC_RELAXED) != NULL, 0);
}

/* Tap by name; -1 if unknown. */
int fdr_tap_lookup(const char *name);
/* Run a register-kind tap (REG: offset, size, *value); the verdict. */
int fdr_tap_run_reg(enum fdr_tap_id id, uint32_t dev, uint32_t offset, uint32_t size,
		    uint64_t *value);
/* 0, or -ENOENT (unknown tap), -EEXIST (owner already attached), -ENOMEM. */
int fdr_tap_attach(enum fdr_tap_id id, const struct fdr_tap_entry *e);
/* 0 or -ENOENT (owner not attached). */
int fdr_tap_detach(enum fdr_tap_id id, const void *owner);
/* Detach every entry of owner from every tap. */
void fdr_tap_detach_owner(const void *owner);
/* Names of the taps owner is attached to (at most max); returns the count. */
unsigned fdr_tap_owner_taps(const void *owner, const char **names, unsigned max);
/* Run the tap's callbacks in attach order until one returns non-zero;
 * returns that verdict or 0. */
int fdr_tap_run(enum fdr_tap_id id, struct fdr_tap_ctx *tc);
/* The entry that ran last in the latest fdr_tap_run() on this thread
 * (the one whose verdict stopped it, if any). */
const struct fdr_tap_entry *fdr_tap_last(void);
/* Entry running on this thread right now (its owner), or NULL. */
const struct fdr_tap_entry *fdr_tap_current(void);
/* The request of the command tap running on this thread, or NULL. */
struct fdr_req *fdr_tap_current_req(void);

/* Reactors to wait for before freeing replaced lists (NULL/0: none). */
void fdr_tap_set_reactors(struct fdr_reactor **r, unsigned n);
/* Wait until no reactor can still be running a callback attached before. */
void fdr_tap_synchronize(void);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/* Fault rules: what the parser makes of a rule's text (rules_parse.c) and
 * what rules.c attaches. */
#ifndef FDR_RULES_INTERNAL_H
#define FDR_RULES_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/core.h"
#include "core/tap.h"

#define RULE_NAME_MAX 64     /* with the NUL */
#define RULE_MAX_OPCS 16     /* opc=a|b|... */

enum rule_action {
	RULE_ACT_NONE,
	RULE_ACT_STATUS,
	RULE_ACT_SUCCESS_NO_WRITE,
	RULE_ACT_DELAY,
	RULE_ACT_DROP,
	RULE_ACT_CORRUPT,
	RULE_ACT_AEN,
	RULE_ACT_CFS,
};

/* Which controllers aen= and cfs reach. */
enum rule_scope {
	RULE_SCOPE_CTRL,   /* the command's controller */
	RULE_SCOPE_SUBSYS, /* every controller of the command's subsystem */
	RULE_SCOPE_ALL,    /* every controller of the target */
};

struct rule_spec {
	char name[RULE_NAME_MAX]; /* "" if none */
	unsigned name_col;
	enum fdr_tap_id tap;
	bool admin;          /* admin tap group */
	enum fdr_stage stage;

	/* ---- Match ---- */
	bool opc_any;        /* no opc=: every command but Fabrics ones */
	uint8_t opc[32];     /* bitmap of opcodes */
	bool fctype_any;     /* opcode 7Fh: any Fabrics command type ... */
	uint8_t fctype[32];  /* ... or these */
	bool has_ns;
	uint32_t nsid;
	bool has_qid;
	uint16_t qid;
	bool has_ctrl;
	uint16_t cntlid;
	bool has_lba;
	uint64_t lba_first, lba_last; /* inclusive */
	char host[FDR_NQN_SIZE];      /* "" if any */
	char subsys[FDR_NQN_SIZE];

	/* ---- Trigger ---- */
	uint64_t after;
	uint64_t every;      /* >= 1 */
	uint64_t times;      /* 0: unlimited */
	bool has_prob;
	double prob;
	bool has_seed;
	uint64_t seed;
	bool has_window;
	uint64_t win_up_ns, win_down_ns;
	char when[RULE_NAME_MAX]; /* "" if none */
	unsigned when_col;

	/* ---- Action ---- */
	enum rule_action action;
	uint16_t status;        /* NVME_STATUS() | DNR...: RULE_ACT_STATUS */
	uint64_t delay_ns;
	uint32_t corrupt_n;     /* bytes */
	uint8_t corrupt_mask;   /* XORed into each */
	bool corrupt_at;        /* at corrupt_off, else spread at random */
	uint32_t corrupt_off;
	uint8_t aen_type, aen_info, aen_lid;
	uint8_t aen_crit;       /* SMART critical warning bits to set */
	bool aen_ns_changed;    /* also note the namespace in the Changed NS log */
	enum rule_scope scope;
	char action_desc[96];   /* for the log: "status 01h/82h dnr" */
};

/* Parse text into *s.  0, or -1 with "column N: ..." in err. */
int fdr_rule_parse(const char *text, struct rule_spec *s, char *err, size_t errlen);

static inline bool rule_opc_has(const uint8_t *map, uint8_t opc)
{
	return map[opc >> 3] & (1u << (opc & 7));
}

#endif

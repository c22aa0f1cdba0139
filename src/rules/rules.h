/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Fault rules: faults described in one line of text, with no C.
 *
 *   frankendrive --inject 'opc=write,after=2,times=1,status=write-to-ro'
 *   frankendrive ctl rule add 'opc=read,lba=100-199,prob=0.01,seed=42,status=media'
 *
 * A rule is a comma-separated list of key=value items: what commands it
 * matches (opc=, ns=, qid=, lba=, host=...), when it fires (after=,
 * every=, prob=, times=, window=, when=) and the one thing it then does
 * (status=, success-no-write, delay=, drop, corrupt, aen=, cfs, none).
 * docs/rules.md has the grammar with examples.
 *
 * Each rule is one entry on one pipeline tap (nvme:io:decode unless the
 * action needs another stage).  Rules run on the reactors; adding, removing
 * and listing them may happen on any other thread at the same time (not
 * from inside a tap callback: removal waits for every reactor).
 */
#ifndef FDR_RULES_H
#define FDR_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fdr_target;

/*
 * Parse and attach a rule; returns its id (> 0), or -1 with a precise
 * message in err ("column 5: opc=wrtie: unknown opcode; expected ...").
 * A bad rule changes nothing.
 */
int fdr_rule_add(const char *text, char *err, size_t errlen);
/* Detach and forget rule id.  0 or -ENOENT. */
int fdr_rule_del(unsigned id);
/* The id of the rule named name, or -ENOENT. */
int fdr_rule_find(const char *name);
/* Detach and forget every rule. */
void fdr_rules_clear(void);

struct fdr_rule_info {
	unsigned id;
	const char *name;  /* name= or NULL */
	const char *text;  /* as given to fdr_rule_add */
	const char *tap;   /* the tap it is attached to, "nvme:io:decode" */
	uint64_t matches;  /* commands that matched its filters */
	uint64_t fired;    /* times its action ran */
	bool armed;        /* would fire on an eligible match now: its when=
			      rule has fired, its window is in the faulty
			      phase and times= is not used up */
};
/* Calls fn for every rule in id order.  fn must not add or remove rules;
 * the strings are valid during the call only. */
void fdr_rule_foreach(void (*fn)(const struct fdr_rule_info *ri, void *arg), void *arg);

/* The target whose controllers aen=/cfs with scope=all reach.  Rules work
 * without it; scope=all then reaches the command's subsystem only. */
void fdr_rules_init(struct fdr_target *t);

/* Tests: the clock window= and the log rate limit use (CLOCK_MONOTONIC
 * nanoseconds); NULL restores the real one. */
void fdr_rules_set_clock(uint64_t (*now_ns)(void));

#endif

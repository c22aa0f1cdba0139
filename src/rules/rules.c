/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Fault rules: the list of rules, and what one does on its tap.
 *
 * Each rule is an entry of its own on one command tap, with the rule as
 * the hook's context: the tap registry publishes and retires entries safely
 * while reactors run, so once fdr_tap_detach() returns no reactor can be
 * in the rule's hook and it may be freed.
 *
 * On the reactors a rule is touched through atomics only: its counters,
 * the random draws, the log rate limit.  The list itself, names, ids and
 * when= references change under g_lock, on the control path.  A rule named
 * by another rule's when= stays allocated (refs) until the last rule using
 * it is gone; once deleted it counts as never having fired.
 */
#include "rules.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <frankendrive/names.h>
#include <frankendrive/plugin.h>

#include "common/log.h"
#include "core/admin.h"
#include "core/hold.h"
#include "rules_internal.h"

#define RULE_LOG_PER_SEC 10

struct rule {
	struct rule_spec s;
	unsigned id;
	char *text;
	char owner_name[RULE_NAME_MAX + 16];
	uint64_t seed;       /* seed=, or one chosen at random */
	uint64_t created_ns; /* window= counts from here */
	struct rule *dep;    /* when= */
	int refs;            /* under g_lock: 1 while listed, + 1 per rule naming it */
	struct rule *next;   /* g_rules, by id; under g_lock */

	/* Atomics: the reactors */
	uint64_t matches;  /* matched the filters */
	uint64_t eligible; /* ... with when= and window= open: after=/every= count these */
	uint64_t fired;
	uint64_t draws;         /* prob= draws taken */
	uint64_t corrupt_draws; /* corrupt position draws taken */
	uint64_t log_sec;       /* the second log_n counts in */
	uint64_t log_n;
	uint64_t suppressed;    /* fire lines not logged since the last one */
	int deleted;
};

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static struct rule *g_rules;
static unsigned g_next_id = 1;
static struct fdr_target *g_target; /* atomic */
static uint64_t (*g_clock)(void) = fdr_now_ns; /* atomic */

void fdr_rules_init(struct fdr_target *t)
{
	__atomic_store_n(&g_target, t, __ATOMIC_RELEASE);
}

void fdr_rules_set_clock(uint64_t (*now_ns)(void))
{
	__atomic_store_n(&g_clock, now_ns ? now_ns : fdr_now_ns, __ATOMIC_RELEASE);
}

static uint64_t now_ns(void)
{
	return __atomic_load_n(&g_clock, __ATOMIC_ACQUIRE)();
}

/* ---- Random numbers: counter based, so several reactors may draw at once
 * and a seed gives the same sequence of draws every run. -------------------- */

static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t draw(const struct rule *r, uint64_t *ctr, uint64_t stream)
{
	uint64_t i = __atomic_fetch_add(ctr, 1, __ATOMIC_RELAXED);

	return mix64((r->seed ^ (stream * 0xd1b54a32d192ed03ull)) + (i + 1) * 0x9e3779b97f4a7c15ull);
}

/* ---- Triggers ------------------------------------------------------------------- */

/* when= and window=: may the rule count this match at all? */
static bool gates_open(const struct rule *r, uint64_t now)
{
	const struct rule *d = r->dep;

	if (d && (__atomic_load_n(&d->deleted, __ATOMIC_ACQUIRE) ||
		  __atomic_load_n(&d->fired, __ATOMIC_ACQUIRE) == 0))
		return false;
	if (r->s.has_window) {
		uint64_t period = r->s.win_up_ns + r->s.win_down_ns;
		uint64_t t = now >= r->created_ns ? now - r->created_ns : 0;

		if (t % period < r->s.win_up_ns)
			return false; /* the healthy part of the cycle */
	}
	return true;
}

/* Count one firing unless times= is used up. */
static bool take_fire(struct rule *r, uint64_t *nth)
{
	uint64_t cur;

	if (!r->s.times) {
		*nth = __atomic_add_fetch(&r->fired, 1, __ATOMIC_ACQ_REL);
		return true;
	}
	cur = __atomic_load_n(&r->fired, __ATOMIC_ACQUIRE);
	do {
		if (cur >= r->s.times)
			return false;
	} while (!__atomic_compare_exchange_n(&r->fired, &cur, cur + 1, false, __ATOMIC_ACQ_REL,
					      __ATOMIC_ACQUIRE));
	*nth = cur + 1;
	return true;
}

static bool rule_armed(const struct rule *r, uint64_t now)
{
	return gates_open(r, now) &&
	       (!r->s.times || __atomic_load_n(&r->fired, __ATOMIC_RELAXED) < r->s.times);
}

/* ---- Matching -------------------------------------------------------------------- */

static bool rule_match(const struct rule *r, const struct fdr_tap_ctx *tc)
{
	const struct rule_spec *s = &r->s;
	const struct nvme_sqe *cmd = tc->cmd;
	const struct fdr_req *req = tc->req;
	const struct fdr_ctrl *ctrl = req ? req->q->ctrl : NULL;
	uint8_t opc;

	/* A closing queue completes what it has as aborted: faults there
	 * make no sense, and a hold taken now would never be released. */
	if (!cmd || !req || req->q->closing)
		return false;
	opc = cmd->opc;
	if (opc == NVME_ADM_FABRICS) {
		/* Only when named: a rule on "every command" must not break
		 * Connect and the property accesses. */
		if (s->opc_any || !rule_opc_has(s->opc, opc))
			return false;
		if (!s->fctype_any &&
		    !rule_opc_has(s->fctype, ((const struct nvme_fabrics_cmd *)cmd)->fctype))
			return false;
	} else if (!s->opc_any && !rule_opc_has(s->opc, opc)) {
		return false;
	}
	if (s->has_ns && cmd->nsid != s->nsid)
		return false;
	if (s->has_qid) {
		/* A Connect has no queue yet: the one it connects. */
		uint16_t qid = opc == NVME_ADM_FABRICS &&
					       ((const struct nvme_fabrics_cmd *)cmd)->fctype ==
						       NVME_FCTYPE_CONNECT
				       ? ((const struct nvme_fabrics_connect_cmd *)cmd)->qid
				       : (uint16_t)tc->sqid;
		if (qid != s->qid)
			return false;
	}
	if (s->has_ctrl && (!ctrl || ctrl->cntlid != s->cntlid))
		return false;
	if (s->has_lba) {
		uint64_t slba = cmd->cdw10 | (uint64_t)cmd->cdw11 << 32;
		uint64_t last = slba + NVME_RW_NLB(cmd->cdw12) - 1;

		if (!nvme_io_opc_has_lba(opc))
			return false;
		if (last < slba)
			last = UINT64_MAX;
		if (slba > s->lba_last || last < s->lba_first)
			return false;
	}
	if (s->host[0] && (!ctrl || strcmp(ctrl->hostnqn, s->host) != 0))
		return false;
	if (s->subsys[0] && (!ctrl || strcmp(ctrl->subsys->nqn, s->subsys) != 0))
		return false;
	if (s->action == RULE_ACT_CORRUPT) {
		/* Only commands whose data is there to corrupt. */
		if (!req->data_len || !req->buf)
			return false;
		if (s->stage == FDR_STAGE_EXECUTE && !(req->xfer & NVME_OPC_XFER_TO_CTRL))
			return false;
		if (s->stage == FDR_STAGE_WRITEBACK &&
		    (!(req->xfer & NVME_OPC_XFER_FROM_CTRL) || NVME_STATUS_GET(tc->cpl->status)))
			return false;
	}
	return true;
}

/* ---- Logging ------------------------------------------------------------------------ */

/* At most RULE_LOG_PER_SEC lines a second per rule; *missed gets how many
 * were left out since the last line. */
static bool log_ok(struct rule *r, uint64_t now, uint64_t *missed)
{
	uint64_t sec = now / 1000000000ull;
	uint64_t cur = __atomic_load_n(&r->log_sec, __ATOMIC_RELAXED);

	if (cur != sec &&
	    __atomic_compare_exchange_n(&r->log_sec, &cur, sec, false, __ATOMIC_RELAXED,
					__ATOMIC_RELAXED))
		__atomic_store_n(&r->log_n, 0, __ATOMIC_RELAXED);
	if (__atomic_fetch_add(&r->log_n, 1, __ATOMIC_RELAXED) >= RULE_LOG_PER_SEC) {
		__atomic_fetch_add(&r->suppressed, 1, __ATOMIC_RELAXED);
		return false;
	}
	*missed = __atomic_exchange_n(&r->suppressed, 0, __ATOMIC_RELAXED);
	return true;
}

static void log_fire(struct rule *r, const struct fdr_tap_ctx *tc, uint64_t nth, uint64_t now,
		     const char *extra)
{
	const struct nvme_sqe *cmd = tc->cmd;
	uint64_t missed = 0;
	char more[48] = "";

	if (fdr_log_threshold < FDR_LOG_INFO || !log_ok(r, now, &missed))
		return;
	if (missed)
		snprintf(more, sizeof(more), " (%" PRIu64 " more not logged)", missed);
	fdr_info("rule %u%s%s%s fired (#%" PRIu64 "): ctrl %u qid %u cid %u %s nsid %u: %s%s%s",
		 r->id, r->s.name[0] ? " (" : "", r->s.name, r->s.name[0] ? ")" : "", nth, tc->dev,
		 tc->sqid, cmd->cid,
		 nvme_opc_name(tc->sqid == 0, cmd->opc, ((const struct nvme_fabrics_cmd *)cmd)->fctype),
		 cmd->nsid, r->s.action_desc, extra ? extra : "", more);
}

/* ---- Actions ------------------------------------------------------------------------ */

static unsigned gcd(unsigned a, unsigned b)
{
	while (b) {
		unsigned t = a % b;
		a = b;
		b = t;
	}
	return a;
}

/* XOR the mask into corrupt_n bytes of buf; returns how many. */
static uint32_t corrupt(struct rule *r, uint8_t *buf, uint32_t len, uint32_t *first)
{
	const struct rule_spec *s = &r->s;
	uint32_t n = s->corrupt_n < len ? s->corrupt_n : len;

	if (s->corrupt_at) {
		if (s->corrupt_off >= len)
			return 0;
		if (n > len - s->corrupt_off)
			n = len - s->corrupt_off;
		for (uint32_t i = 0; i < n; i++)
			buf[s->corrupt_off + i] ^= s->corrupt_mask;
		*first = s->corrupt_off;
		return n;
	}
	if (n == len) {
		for (uint32_t i = 0; i < len; i++)
			buf[i] ^= s->corrupt_mask;
		*first = 0;
		return n;
	}
	/* n distinct positions: start + i * stride (mod len) with stride
	 * coprime to len visits each byte once per len steps. */
	uint32_t start = (uint32_t)(draw(r, &r->corrupt_draws, 1) % len);
	uint32_t stride = len > 1 ? 1 + (uint32_t)(draw(r, &r->corrupt_draws, 1) % (len - 1)) : 1;

	while (gcd(stride, len) != 1)
		stride = stride + 1 < len ? stride + 1 : 1;
	for (uint32_t i = 0; i < n; i++)
		buf[(uint32_t)(((uint64_t)start + (uint64_t)i * stride) % len)] ^= s->corrupt_mask;
	*first = start;
	return n;
}

struct raise_args {
	const struct rule *r;
	struct fdr_ctrl *only;
	uint32_t nsid;
};

static void raise_one(struct fdr_ctrl *c, void *arg)
{
	const struct raise_args *a = arg;
	const struct rule_spec *s = &a->r->s;

	if (a->only && c != a->only)
		return;
	if (s->action == RULE_ACT_CFS) {
		fdr_warn("ctrl %u: controller fatal status set by rule %u", c->cntlid, a->r->id);
		fdr_ctrl_set_fatal(c);
	} else if (s->aen_ns_changed && a->nsid >= 1 && a->nsid <= FDR_MAX_NS) {
		fdr_adm_ns_changed(c, a->nsid); /* also raises the event */
	} else {
		fdr_ctrl_raise_aen(c, s->aen_type, s->aen_info, s->aen_lid);
	}
}

/* Critical warning bits and events for one subsystem's controllers (or just
 * one controller). */
static void raise_in_subsys(const struct rule *r, struct fdr_subsys *subsys,
			    struct fdr_ctrl *only, uint32_t nsid)
{
	struct raise_args a = {r, only, nsid};

	if (r->s.action == RULE_ACT_AEN && r->s.aen_crit)
		__atomic_or_fetch(&subsys->critical_warning, r->s.aen_crit, __ATOMIC_RELAXED);
	fdr_subsys_for_each_ctrl(subsys, raise_one, &a);
}

static void raise_scoped(const struct rule *r, const struct fdr_tap_ctx *tc)
{
	struct fdr_ctrl *ctrl = tc->req->q->ctrl;
	struct fdr_target *t = __atomic_load_n(&g_target, __ATOMIC_ACQUIRE);
	uint32_t nsid = r->s.has_ns ? r->s.nsid : tc->cmd->nsid;

	switch (r->s.scope) {
	case RULE_SCOPE_CTRL:
		if (ctrl)
			raise_in_subsys(r, ctrl->subsys, ctrl, nsid);
		break;
	case RULE_SCOPE_ALL:
		if (t) {
			for (unsigned i = 0; i < t->nr_subsys; i++)
				if (t->subsys[i])
					raise_in_subsys(r, t->subsys[i], NULL, nsid);
			break;
		}
		/* Without the target: the command's subsystem. */
		/* fall through */
	case RULE_SCOPE_SUBSYS:
		if (ctrl)
			raise_in_subsys(r, ctrl->subsys, NULL, nsid);
		break;
	}
}

static int act(struct rule *r, struct fdr_tap_ctx *tc, uint64_t nth, uint64_t now)
{
	const struct rule_spec *s = &r->s;
	struct fdr_req *req = tc->req;
	char extra[64] = "";
	int rc;

	switch (s->action) {
	case RULE_ACT_STATUS:
		log_fire(r, tc, nth, now, NULL);
		if (s->stage == FDR_STAGE_WRITEBACK) {
			/* Already executed: only the reported status changes. */
			tc->cpl->status = (uint16_t)((tc->cpl->status & 1u) | (uint16_t)(s->status << 1));
			return PLUGIN_CONTINUE;
		}
		tc->cpl->cdw0 = 0;
		tc->cpl->status = (uint16_t)(s->status << 1);
		return PLUGIN_COMPLETE;
	case RULE_ACT_SUCCESS_NO_WRITE:
		log_fire(r, tc, nth, now, NULL);
		tc->cpl->cdw0 = 0;
		tc->cpl->status = 0;
		return PLUGIN_COMPLETE;
	case RULE_ACT_DELAY:
		rc = fdr_hold_delay(req, s->delay_ns);
		if (rc) {
			snprintf(extra, sizeof(extra), " failed (%s): not delayed", strerror(-rc));
			log_fire(r, tc, nth, now, extra);
			return PLUGIN_CONTINUE;
		}
		log_fire(r, tc, nth, now, NULL);
		return PLUGIN_HOLD;
	case RULE_ACT_DROP:
		log_fire(r, tc, nth, now, NULL);
		fdr_hold(req);
		return PLUGIN_HOLD;
	case RULE_ACT_CORRUPT: {
		uint32_t first = 0, n = corrupt(r, fdr_req_data(req), req->data_len, &first);

		snprintf(extra, sizeof(extra), ": %u of %u bytes from offset %u", n, req->data_len,
			 first);
		log_fire(r, tc, nth, now, extra);
		return PLUGIN_CONTINUE;
	}
	case RULE_ACT_AEN:
	case RULE_ACT_CFS:
		log_fire(r, tc, nth, now, NULL);
		raise_scoped(r, tc);
		return PLUGIN_CONTINUE;
	case RULE_ACT_NONE:
		log_fire(r, tc, nth, now, NULL);
		return PLUGIN_CONTINUE;
	}
	return PLUGIN_CONTINUE;
}

static int rule_hook(void *ctx, struct fdr_tap_ctx *tc)
{
	struct rule *r = ctx;
	const struct rule_spec *s = &r->s;
	uint64_t now, k, nth;

	if (!rule_match(r, tc))
		return PLUGIN_CONTINUE;
	__atomic_fetch_add(&r->matches, 1, __ATOMIC_RELAXED);
	now = now_ns();
	if (!gates_open(r, now))
		return PLUGIN_CONTINUE;
	k = __atomic_add_fetch(&r->eligible, 1, __ATOMIC_ACQ_REL);
	if (k <= s->after || (k - s->after) % s->every != 0)
		return PLUGIN_CONTINUE;
	/* 53 random bits as a double in [0, 1) */
	if (s->has_prob && (double)(draw(r, &r->draws, 0) >> 11) * 0x1.0p-53 >= s->prob)
		return PLUGIN_CONTINUE;
	if (!take_fire(r, &nth))
		return PLUGIN_CONTINUE;
	return act(r, tc, nth, now);
}

/* ---- The list ------------------------------------------------------------------------ */

static struct rule *find_name_locked(const char *name)
{
	for (struct rule *r = g_rules; r; r = r->next)
		if (strcmp(r->s.name, name) == 0)
			return r;
	return NULL;
}

/* Under g_lock */
static void rule_put(struct rule *r)
{
	while (r && --r->refs == 0) {
		struct rule *dep = r->dep;

		free(r->text);
		free(r);
		r = dep;
	}
}

static int errf(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

int fdr_rule_add(const char *text, char *err, size_t errlen)
{
	struct rule *r = calloc(1, sizeof(*r)), *dep = NULL, **pp;
	bool random_seed;
	int rc;

	if (!r)
		return errf(err, errlen, "out of memory");
	if (fdr_rule_parse(text, &r->s, err, errlen)) {
		free(r);
		return -1;
	}
	random_seed = !r->s.has_seed && (r->s.has_prob ||
					 (r->s.action == RULE_ACT_CORRUPT && !r->s.corrupt_at));
	pthread_mutex_lock(&g_lock);
	if (r->s.name[0] && (dep = find_name_locked(r->s.name))) {
		errf(err, errlen, "column %u: name=%s: rule %u already has that name",
		     r->s.name_col, r->s.name, dep->id);
		goto fail;
	}
	dep = NULL;
	if (r->s.when[0] && !(dep = find_name_locked(r->s.when))) {
		errf(err, errlen, "column %u: when=%s: no rule is named %s (add it first)",
		     r->s.when_col, r->s.when, r->s.when);
		goto fail;
	}
	r->id = g_next_id;
	r->seed = r->s.seed;
	if (random_seed)
		r->seed = mix64(fdr_wall_ns() ^ ((uint64_t)r->id << 48) ^ (uintptr_t)r);
	/* A seed chosen here goes into the text, so that listing the rule
	 * shows how to repeat the run. */
	if (random_seed ? asprintf(&r->text, "%s,seed=%" PRIu64, text, r->seed) < 0
			: !(r->text = strdup(text))) {
		r->text = NULL;
		errf(err, errlen, "out of memory");
		goto fail;
	}
	snprintf(r->owner_name, sizeof(r->owner_name), "rule %u%s%s%s", r->id,
		 r->s.name[0] ? " (" : "", r->s.name, r->s.name[0] ? ")" : "");
	r->created_ns = now_ns();
	r->dep = dep;
	r->refs = 1;
	struct fdr_tap_entry e = {.hook = rule_hook, .ctx = r, .owner = r, .owner_name = r->owner_name};
	rc = fdr_tap_attach(r->s.tap, &e);
	if (rc) {
		errf(err, errlen, "cannot attach to %s: %s", fdr_taps[r->s.tap].name, strerror(-rc));
		goto fail;
	}
	if (dep)
		dep->refs++;
	for (pp = &g_rules; *pp; pp = &(*pp)->next)
		;
	*pp = r;
	g_next_id++;
	pthread_mutex_unlock(&g_lock);
	fdr_info("rule %u added on %s: %s", r->id, fdr_taps[r->s.tap].name, r->text);
	return (int)r->id;
fail:
	pthread_mutex_unlock(&g_lock);
	free(r->text);
	free(r);
	return -1;
}

/* Under g_lock; r is unlinked already. */
static void rule_remove(struct rule *r)
{
	/* Dependents see it as never fired from now on. */
	__atomic_store_n(&r->deleted, 1, __ATOMIC_RELEASE);
	/* Waits until no reactor is in r's hook. */
	fdr_tap_detach(r->s.tap, r);
	fdr_info("rule %u removed (matched %" PRIu64 ", fired %" PRIu64 ")", r->id,
		 __atomic_load_n(&r->matches, __ATOMIC_RELAXED),
		 __atomic_load_n(&r->fired, __ATOMIC_RELAXED));
	rule_put(r);
}

int fdr_rule_del(unsigned id)
{
	struct rule **pp, *r = NULL;

	pthread_mutex_lock(&g_lock);
	for (pp = &g_rules; *pp; pp = &(*pp)->next) {
		if ((*pp)->id == id) {
			r = *pp;
			*pp = r->next;
			break;
		}
	}
	if (r)
		rule_remove(r);
	pthread_mutex_unlock(&g_lock);
	return r ? 0 : -ENOENT;
}

int fdr_rule_find(const char *name)
{
	struct rule *r;
	int id;

	if (!name)
		return -ENOENT;
	pthread_mutex_lock(&g_lock);
	r = name[0] ? find_name_locked(name) : NULL;
	id = r ? (int)r->id : -ENOENT;
	pthread_mutex_unlock(&g_lock);
	return id;
}

void fdr_rules_clear(void)
{
	pthread_mutex_lock(&g_lock);
	while (g_rules) {
		struct rule *r = g_rules;
		g_rules = r->next;
		rule_remove(r);
	}
	pthread_mutex_unlock(&g_lock);
}

void fdr_rule_foreach(void (*fn)(const struct fdr_rule_info *ri, void *arg), void *arg)
{
	uint64_t now = now_ns();

	pthread_mutex_lock(&g_lock);
	for (struct rule *r = g_rules; r; r = r->next) {
		struct fdr_rule_info ri = {
			.id = r->id,
			.name = r->s.name[0] ? r->s.name : NULL,
			.text = r->text,
			.tap = fdr_taps[r->s.tap].name,
			.matches = __atomic_load_n(&r->matches, __ATOMIC_RELAXED),
			.fired = __atomic_load_n(&r->fired, __ATOMIC_RELAXED),
			.armed = rule_armed(r, now),
		};
		fn(&ri, arg);
	}
	pthread_mutex_unlock(&g_lock);
}

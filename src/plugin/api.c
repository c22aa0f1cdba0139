/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What plugin.h promises plug-ins, on top of the core.  The drive's
 * executable exports these symbols; plug-ins resolve them when loaded.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <frankendrive/plugin.h>

#include "common/log.h"
#include "core/core.h"
#include "core/hold.h"
#include "core/tap.h"
#include "plugin_internal.h"

#define PLUGIN_EXPORT __attribute__((visibility("default")))

static struct fdr_target *g_target;

void fdr_plugins_init(struct fdr_target *t)
{
	g_target = t;
}

static struct fdr_req *req_of(plugin_cmd_t *c)
{
	return (struct fdr_req *)c;
}

/* ---- Taps ---- */

PLUGIN_EXPORT int plugin_tap_attach(const char *name, void *cb)
{
	struct fdr_plugin *p = fdr_plugin_self();
	int id, rc;

	if (!p || !name || !cb) {
		errno = EINVAL;
		return -1;
	}
	id = fdr_tap_lookup(name);
	if (id < 0) {
		const char *why = "no such tap";
		fdr_err("plug-in %s: tap '%s': %s", p->name, name, why);
		if (!p->attach_error[0])
			snprintf(p->attach_error, sizeof(p->attach_error), "tap '%s': %s", name, why);
		errno = ENOENT;
		return -1;
	}
	if (fdr_reactor_self()) {
		/* Attaching waits for every reactor; two callbacks attaching
		 * at once would wait for each other.  Attach in setup(). */
		errno = EDEADLK;
		return -1;
	}
	struct fdr_tap_entry e = {.cb = cb, .owner = p, .owner_name = p->name};
	rc = fdr_tap_attach((enum fdr_tap_id)id, &e);
	if (rc < 0) {
		errno = -rc;
		return -1;
	}
	return 0;
}

PLUGIN_EXPORT int plugin_tap_detach(const char *name)
{
	struct fdr_plugin *p = fdr_plugin_self();
	int id = name ? fdr_tap_lookup(name) : -1;
	int rc;

	if (!p) {
		errno = EINVAL;
		return -1;
	}
	if (id < 0) {
		errno = ENOENT;
		return -1;
	}
	if (fdr_reactor_self()) {
		/* Detaching waits for every reactor; from a callback that
		 * would wait for ourselves.  Defer it to the control path. */
		errno = EDEADLK;
		return -1;
	}
	rc = fdr_tap_detach((enum fdr_tap_id)id, p);
	if (rc < 0) {
		errno = -rc;
		return -1;
	}
	return 0;
}

/* ---- The running command ---- */

PLUGIN_EXPORT plugin_cmd_t *plugin_cmd(void)
{
	return (plugin_cmd_t *)fdr_tap_current_req();
}

PLUGIN_EXPORT struct nvme_sqe *find_cmd(uint32_t sqid, uint16_t cid)
{
	struct fdr_req *cur = fdr_tap_current_req();
	struct fdr_queue *q = NULL;
	struct fdr_ctrl *ctrl;

	if (!cur)
		return NULL;
	if (cur->q->qid == sqid && cur->cmd.cid == cid && cur->state != FDR_REQ_FREE)
		return &cur->cmd;
	ctrl = cur->q->ctrl;
	if (!ctrl || sqid > FDR_MAX_IO_QUEUES)
		return NULL;
	pthread_mutex_lock(&ctrl->subsys->lock);
	q = sqid == 0 ? ctrl->admin_q : ctrl->ioq[sqid];
	pthread_mutex_unlock(&ctrl->subsys->lock);
	/* Another reactor's queue changes under us: only our own is safe. */
	if (!q || q->reactor != cur->q->reactor)
		return NULL;
	for (unsigned i = 0; i < q->nr_reqs; i++) {
		struct fdr_req *r = &q->reqs[i];
		if (r->state >= FDR_REQ_DECODE && r->cmd.cid == cid)
			return &r->cmd;
	}
	return NULL;
}

PLUGIN_EXPORT void *plugin_cmd_data(plugin_cmd_t *c, uint32_t *len)
{
	struct fdr_req *req = req_of(c);
	bool ready;

	if (!req || !req->data_len || !req->buf)
		return NULL;
	if (req->xfer == NVME_OPC_XFER_TO_CTRL)
		ready = req->state >= FDR_REQ_EXECUTE;
	else
		ready = req->state == FDR_REQ_WRITEBACK && req->status == 0;
	if (!ready)
		return NULL;
	if (len)
		*len = req->data_len;
	return fdr_req_data(req);
}

PLUGIN_EXPORT uint32_t plugin_cmd_lba_size(plugin_cmd_t *c)
{
	struct fdr_req *req = req_of(c);
	struct fdr_ns *ns;

	if (!req)
		return 0;
	ns = req->ns;
	if (!ns && req->q->qid && req->q->ctrl)
		ns = fdr_subsys_ns(req->q->ctrl->subsys, req->cmd.nsid);
	return ns ? fdr_ns_lba_size(ns) : 0;
}

PLUGIN_EXPORT const char *plugin_cmd_hostnqn(plugin_cmd_t *c)
{
	struct fdr_req *req = req_of(c);

	return req && req->q->ctrl ? req->q->ctrl->hostnqn : "";
}

PLUGIN_EXPORT uint64_t plugin_cmd_hold(plugin_cmd_t *c)
{
	return c ? fdr_hold(req_of(c)) : 0;
}

PLUGIN_EXPORT int plugin_ticket_complete(uint64_t ticket, uint16_t status, uint32_t cdw0)
{
	int rc = fdr_hold_complete(ticket, status, cdw0);

	if (rc < 0) {
		errno = -rc;
		return -1;
	}
	return 0;
}

PLUGIN_EXPORT int plugin_ticket_resume(uint64_t ticket)
{
	int rc = fdr_hold_resume(ticket);

	if (rc < 0) {
		errno = -rc;
		return -1;
	}
	return 0;
}

PLUGIN_EXPORT int plugin_cmd_delay(plugin_cmd_t *c, uint64_t delay_ns)
{
	int rc = c ? fdr_hold_delay(req_of(c), delay_ns) : -EINVAL;

	if (rc < 0) {
		errno = -rc;
		return -1;
	}
	return 0;
}

/* ---- The drive ---- */

struct ctrl_visit {
	uint32_t dev;
	void (*fn)(struct fdr_ctrl *c, void *arg);
	void *arg;
	int n;
};

static void visit_one(struct fdr_ctrl *c, void *arg)
{
	struct ctrl_visit *v = arg;

	if (v->dev == 0 || c->cntlid == v->dev) {
		v->fn(c, v->arg);
		v->n++;
	}
}

/* Calls fn on every live controller dev (0: all) of every subsystem. */
static int for_each_ctrl(uint32_t dev, void (*fn)(struct fdr_ctrl *c, void *arg), void *arg)
{
	struct ctrl_visit v = {dev, fn, arg, 0};

	for (unsigned i = 0; g_target && i < g_target->nr_subsys; i++)
		fdr_subsys_for_each_ctrl(g_target->subsys[i], visit_one, &v);
	return v.n;
}

struct aen_args {
	uint8_t type, info, lid;
};

static void raise_one(struct fdr_ctrl *c, void *arg)
{
	struct aen_args *a = arg;
	fdr_ctrl_raise_aen(c, a->type, a->info, a->lid);
}

PLUGIN_EXPORT int plugin_aen_raise(uint32_t dev, uint8_t type, uint8_t info, uint8_t lid)
{
	struct aen_args a = {type, info, lid};

	if (for_each_ctrl(dev, raise_one, &a) == 0 && dev) {
		errno = ENOENT;
		return -1;
	}
	return 0;
}

static void fatal_one(struct fdr_ctrl *c, void *arg)
{
	(void)arg;
	fdr_warn("ctrl %u: controller fatal status set by %s", c->cntlid,
		 fdr_plugin_self() ? fdr_plugin_self()->name : "a plug-in");
	fdr_ctrl_set_fatal(c);
}

PLUGIN_EXPORT int plugin_set_fatal(uint32_t dev)
{
	if (for_each_ctrl(dev, fatal_one, NULL) == 0 && dev) {
		errno = ENOENT;
		return -1;
	}
	return 0;
}

PLUGIN_EXPORT int plugin_health_set(enum plugin_health field, uint64_t value)
{
	if (!g_target) {
		errno = ENODEV;
		return -1;
	}
	for (unsigned i = 0; i < g_target->nr_subsys; i++) {
		struct fdr_subsys *s = g_target->subsys[i];
		switch (field) {
		case PLUGIN_HEALTH_CRITICAL_WARNING:
			__atomic_store_n(&s->critical_warning, (uint8_t)value, __ATOMIC_RELAXED);
			break;
		case PLUGIN_HEALTH_TEMPERATURE:
			__atomic_store_n(&s->temperature, (uint16_t)value, __ATOMIC_RELAXED);
			break;
		case PLUGIN_HEALTH_AVAIL_SPARE:
			__atomic_store_n(&s->avail_spare, (uint8_t)(value > 100 ? 100 : value), __ATOMIC_RELAXED);
			break;
		case PLUGIN_HEALTH_PERCENT_USED:
			__atomic_store_n(&s->percent_used, (uint8_t)(value > 255 ? 255 : value), __ATOMIC_RELAXED);
			break;
		case PLUGIN_HEALTH_MEDIA_ERRORS:
			__atomic_store_n(&s->extra_media_errors, value, __ATOMIC_RELAXED);
			break;
		case PLUGIN_HEALTH_UNSAFE_SHUTDOWNS:
			__atomic_store_n(&s->unsafe_shutdowns, value, __ATOMIC_RELAXED);
			break;
		default:
			errno = EINVAL;
			return -1;
		}
	}
	return 0;
}

PLUGIN_EXPORT uint64_t plugin_health_get(enum plugin_health field)
{
	struct fdr_subsys *s = g_target && g_target->nr_subsys ? g_target->subsys[0] : NULL;

	if (!s)
		return 0;
	switch (field) {
	case PLUGIN_HEALTH_CRITICAL_WARNING:
		return __atomic_load_n(&s->critical_warning, __ATOMIC_RELAXED);
	case PLUGIN_HEALTH_TEMPERATURE:
		return __atomic_load_n(&s->temperature, __ATOMIC_RELAXED);
	case PLUGIN_HEALTH_AVAIL_SPARE:
		return __atomic_load_n(&s->avail_spare, __ATOMIC_RELAXED);
	case PLUGIN_HEALTH_PERCENT_USED:
		return __atomic_load_n(&s->percent_used, __ATOMIC_RELAXED);
	case PLUGIN_HEALTH_MEDIA_ERRORS:
		return __atomic_load_n(&s->extra_media_errors, __ATOMIC_RELAXED);
	case PLUGIN_HEALTH_UNSAFE_SHUTDOWNS:
		return __atomic_load_n(&s->unsafe_shutdowns, __ATOMIC_RELAXED);
	}
	return 0;
}

PLUGIN_EXPORT void plugin_log(int level, const char *fmt, ...)
{
	struct fdr_plugin *p = fdr_plugin_self();
	enum fdr_log_level l;
	char msg[896];
	va_list ap;

	/* syslog levels to ours */
	l = level <= 3 ? FDR_LOG_ERR : level == 4 ? FDR_LOG_WARN : level == 5 ? FDR_LOG_NOTICE
			 : level == 6 ? FDR_LOG_INFO : FDR_LOG_DEBUG;
	if (l > fdr_log_threshold)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fdr_log(l, "[%s] %s", p ? p->name : "plug-in", msg);
}

PLUGIN_EXPORT const char *plugin_arg(const char *key)
{
	struct fdr_plugin *p = fdr_plugin_self();

	return p && key ? fdr_plugin_arg(p, key) : NULL;
}

PLUGIN_EXPORT int plugin_arg_u64(const char *key, uint64_t def, uint64_t *out)
{
	const char *v = plugin_arg(key);
	char *end;

	*out = def;
	if (!v)
		return 0;
	errno = 0;
	*out = strtoull(v, &end, 0);
	if (!*v || *end || errno || *v == '-') {
		plugin_log(3, "%s=%s: expected a number", key, v);
		return -1;
	}
	return 0;
}

PLUGIN_EXPORT uint64_t plugin_now_ns(void)
{
	return fdr_now_ns();
}

/* SPDX-License-Identifier: BSD-2-Clause */
#include "tap.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <frankendrive/plugin.h>

#include "common/reactor.h"

struct fdr_tap fdr_taps[FDR_TAP_NR] = {
	[FDR_TAP_ADMIN_FETCH] = {"nvme:admin:fetch", FDR_TAP_KIND_CMD, NULL},
	[FDR_TAP_ADMIN_DECODE] = {"nvme:admin:decode", FDR_TAP_KIND_CMD, NULL},
	[FDR_TAP_ADMIN_EXECUTE] = {"nvme:admin:execute", FDR_TAP_KIND_CMD, NULL},
	[FDR_TAP_ADMIN_WRITEBACK] = {"nvme:admin:writeback", FDR_TAP_KIND_CPL, NULL},
	[FDR_TAP_IO_FETCH] = {"nvme:io:fetch", FDR_TAP_KIND_CMD, NULL},
	[FDR_TAP_IO_DECODE] = {"nvme:io:decode", FDR_TAP_KIND_CMD, NULL},
	[FDR_TAP_IO_EXECUTE] = {"nvme:io:execute", FDR_TAP_KIND_CMD, NULL},
	[FDR_TAP_IO_WRITEBACK] = {"nvme:io:writeback", FDR_TAP_KIND_CPL, NULL},
	[FDR_TAP_REGREAD_WRITEBACK] = {"nvme:regread:writeback", FDR_TAP_KIND_REG, NULL},
	[FDR_TAP_REGWRITE_DECODE] = {"nvme:regwrite:decode", FDR_TAP_KIND_REG, NULL},
	[FDR_TAP_AEN_WRITEBACK] = {"nvme:aen:writeback", FDR_TAP_KIND_AEN, NULL},
	[FDR_TAP_TCP_PDU_RECV] = {"tcp:pdu:recv", FDR_TAP_KIND_PDU, NULL},
	[FDR_TAP_TCP_PDU_SEND] = {"tcp:pdu:send", FDR_TAP_KIND_PDU, NULL},
	[FDR_TAP_PCI_REGREAD_WRITEBACK] = {"pci:regread:writeback", FDR_TAP_KIND_REG, NULL},
	[FDR_TAP_PCI_REGWRITE_DECODE] = {"pci:regwrite:decode", FDR_TAP_KIND_REG, NULL},
	[FDR_TAP_PCI_MSIX_WRITEBACK] = {"pci:msix:writeback", FDR_TAP_KIND_IRQ, NULL},
	[FDR_TAP_MSIXREAD_WRITEBACK] = {"nvme:msixread:writeback", FDR_TAP_KIND_REG, NULL},
	[FDR_TAP_MSIXWRITE_DECODE] = {"nvme:msixwrite:decode", FDR_TAP_KIND_REG, NULL},
};

static pthread_mutex_t tap_lock = PTHREAD_MUTEX_INITIALIZER;
static struct fdr_reactor **tap_reactors;
static unsigned tap_nr_reactors;
static __thread const struct fdr_tap_entry *tap_running;
static __thread struct fdr_req *tap_running_req;
static __thread const struct fdr_tap_entry *tap_last;

int fdr_tap_lookup(const char *name)
{
	for (int i = 0; i < FDR_TAP_NR; i++)
		if (strcmp(fdr_taps[i].name, name) == 0)
			return i;
	return -1;
}

int fdr_tap_run_reg(enum fdr_tap_id id, uint32_t dev, uint32_t offset, uint32_t size,
		    uint64_t *value)
{
	struct fdr_tap_ctx tc = {
		.dev = dev,
		.offset = offset,
		.size = size,
		.value = value,
	};
	return fdr_tap_run(id, &tc);
}

void fdr_tap_set_reactors(struct fdr_reactor **r, unsigned n)
{
	pthread_mutex_lock(&tap_lock);
	tap_reactors = r;
	tap_nr_reactors = n;
	pthread_mutex_unlock(&tap_lock);
}

struct barrier {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned pending;
};

static void barrier_msg(void *arg)
{
	struct barrier *b = arg;

	pthread_mutex_lock(&b->lock);
	if (--b->pending == 0)
		pthread_cond_signal(&b->cond);
	pthread_mutex_unlock(&b->lock);
}

void fdr_tap_synchronize(void)
{
	struct fdr_reactor *self = fdr_reactor_self();
	struct barrier b = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};

	/* A message runs between two events of its reactor, where no
	 * callback can be running; once every reactor ran one, any list
	 * replaced before is unused. */
	pthread_mutex_lock(&b.lock);
	for (unsigned i = 0; i < tap_nr_reactors; i++) {
		if (tap_reactors[i] == self)
			continue; /* we are between callbacks on our own */
		if (fdr_reactor_post(tap_reactors[i], barrier_msg, &b) == 0)
			b.pending++;
	}
	while (b.pending)
		pthread_cond_wait(&b.cond, &b.lock);
	pthread_mutex_unlock(&b.lock);
}

/* Publish a new list for tap id and free the old one when safe.
 * Called with tap_lock held; drops and retakes it while waiting. */
static void publish(enum fdr_tap_id id, struct fdr_tap_list *nl)
{
	struct fdr_tap_list *old = fdr_taps[id].list;

	if (nl && nl->n == 0) {
		free(nl);
		nl = NULL;
	}
	__atomic_store_n(&fdr_taps[id].list, nl, __ATOMIC_RELEASE);
	if (!old)
		return;
	pthread_mutex_unlock(&tap_lock);
	fdr_tap_synchronize();
	pthread_mutex_lock(&tap_lock);
	free(old);
}

int fdr_tap_attach(enum fdr_tap_id id, const struct fdr_tap_entry *e)
{
	struct fdr_tap_list *old, *nl;
	unsigned n;

	if ((unsigned)id >= FDR_TAP_NR)
		return -ENOENT;
	pthread_mutex_lock(&tap_lock);
	old = fdr_taps[id].list;
	n = old ? old->n : 0;
	for (unsigned i = 0; i < n; i++) {
		if (old->e[i].owner == e->owner) {
			pthread_mutex_unlock(&tap_lock);
			return -EEXIST;
		}
	}
	nl = malloc(sizeof(*nl) + (n + 1) * sizeof(nl->e[0]));
	if (!nl) {
		pthread_mutex_unlock(&tap_lock);
		return -ENOMEM;
	}
	nl->n = n + 1;
	if (n)
		memcpy(nl->e, old->e, n * sizeof(nl->e[0]));
	nl->e[n] = *e;
	publish(id, nl);
	pthread_mutex_unlock(&tap_lock);
	return 0;
}

int fdr_tap_detach(enum fdr_tap_id id, const void *owner)
{
	struct fdr_tap_list *old, *nl;
	unsigned n, k = 0;

	if ((unsigned)id >= FDR_TAP_NR)
		return -ENOENT;
	pthread_mutex_lock(&tap_lock);
	old = fdr_taps[id].list;
	n = old ? old->n : 0;
	nl = malloc(sizeof(*nl) + (n ? n : 1) * sizeof(nl->e[0]));
	if (!nl) {
		pthread_mutex_unlock(&tap_lock);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < n; i++)
		if (old->e[i].owner != owner)
			nl->e[k++] = old->e[i];
	if (k == n) {
		free(nl);
		pthread_mutex_unlock(&tap_lock);
		return -ENOENT;
	}
	nl->n = k;
	publish(id, nl);
	pthread_mutex_unlock(&tap_lock);
	return 0;
}

void fdr_tap_detach_owner(const void *owner)
{
	for (int i = 0; i < FDR_TAP_NR; i++)
		fdr_tap_detach((enum fdr_tap_id)i, owner);
}

unsigned fdr_tap_owner_taps(const void *owner, const char **names, unsigned max)
{
	unsigned n = 0;

	pthread_mutex_lock(&tap_lock);
	for (int t = 0; t < FDR_TAP_NR && n < max; t++) {
		const struct fdr_tap_list *l = fdr_taps[t].list;
		for (unsigned i = 0; l && i < l->n; i++)
			if (l->e[i].owner == owner) {
				names[n++] = fdr_taps[t].name;
				break;
			}
	}
	pthread_mutex_unlock(&tap_lock);
	return n;
}

const struct fdr_tap_entry *fdr_tap_current(void)
{
	return tap_running;
}

const struct fdr_tap_entry *fdr_tap_last(void)
{
	return tap_last;
}

struct fdr_req *fdr_tap_current_req(void)
{
	return tap_running_req;
}

static int invoke(const struct fdr_tap_entry *e, struct fdr_tap_ctx *tc)
{
	if (e->hook)
		return e->hook(e->ctx, tc);
	switch (fdr_taps[tc->id].kind) {
	case FDR_TAP_KIND_CMD:
		return ((plugin_cmd_cb_t)e->cb)(tc->dev, tc->cmd, tc->cpl, tc->sqid);
	case FDR_TAP_KIND_CPL:
		return ((plugin_cpl_cb_t)e->cb)(tc->dev, tc->cpl, tc->sqid);
	case FDR_TAP_KIND_REG:
		return ((plugin_reg_cb_t)e->cb)(tc->dev, tc->offset, tc->size, tc->value);
	case FDR_TAP_KIND_AEN:
		return ((plugin_aen_cb_t)e->cb)(tc->dev, tc->cpl);
	case FDR_TAP_KIND_PDU:
		return ((plugin_pdu_cb_t)e->cb)(tc->dev, (uint16_t)tc->sqid, tc->hdr, tc->hlen);
	case FDR_TAP_KIND_IRQ:
		return ((plugin_irq_cb_t)e->cb)(tc->dev, tc->offset, tc->sqid);
	}
	return PLUGIN_CONTINUE;
}

int fdr_tap_run(enum fdr_tap_id id, struct fdr_tap_ctx *tc)
{
	const struct fdr_tap_list *l = __atomic_load_n(&fdr_taps[id].list, __ATOMIC_ACQUIRE);
	const struct fdr_tap_entry *prev = tap_running;
	struct fdr_req *prev_req = tap_running_req;
	int verdict = PLUGIN_CONTINUE;

	if (!l)
		return PLUGIN_CONTINUE;
	tc->id = id;
	tap_running_req = tc->req;
	/* On command and PDU taps (and register writes) the first verdict
	 * decides.  Where the event has already happened (writeback, register
	 * reads, AENs) every callback sees it, unless one holds it. */
	bool all = fdr_taps[id].kind == FDR_TAP_KIND_CPL || fdr_taps[id].kind == FDR_TAP_KIND_AEN ||
		   id == FDR_TAP_REGREAD_WRITEBACK || id == FDR_TAP_PCI_REGREAD_WRITEBACK ||
		   id == FDR_TAP_MSIXREAD_WRITEBACK;
	for (unsigned i = 0; i < l->n && verdict == PLUGIN_CONTINUE; i++) {
		tap_running = &l->e[i];
		tap_last = &l->e[i];
		verdict = invoke(&l->e[i], tc);
		if (all && verdict != PLUGIN_HOLD)
			verdict = PLUGIN_CONTINUE;
	}
	tap_running = prev;
	tap_running_req = prev_req;
	return verdict;
}

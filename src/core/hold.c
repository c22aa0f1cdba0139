/* SPDX-License-Identifier: BSD-2-Clause */
#include "hold.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "common/log.h"
#include "core.h"

struct hold {
	uint64_t ticket;
	struct fdr_req *req;
	struct fdr_timer timer; /* delays */
	struct hold *next;
	/* What a posted finish does */
	bool complete;
	uint16_t status;
	uint32_t cdw0;
};

/* Holds are rare (fault injection), so one list under one lock will do. */
static pthread_mutex_t hold_lock = PTHREAD_MUTEX_INITIALIZER;
static struct hold *holds;
static uint64_t next_ticket = 1;

static struct hold *find_locked(uint64_t ticket, bool unlink)
{
	for (struct hold **pp = &holds; *pp; pp = &(*pp)->next) {
		struct hold *h = *pp;
		if (h->ticket != ticket)
			continue;
		if (unlink)
			*pp = h->next;
		return h;
	}
	return NULL;
}

uint64_t fdr_hold(struct fdr_req *req)
{
	struct hold *h;
	uint64_t t;

	fdr_req_undirect(req);
	pthread_mutex_lock(&hold_lock);
	for (h = holds; h; h = h->next)
		if (h->req == req)
			break;
	if (!h && (h = calloc(1, sizeof(*h)))) {
		h->ticket = next_ticket++;
		h->req = req;
		h->next = holds;
		holds = h;
	}
	t = h ? h->ticket : 0;
	pthread_mutex_unlock(&hold_lock);
	if (!t)
		fdr_err("out of memory holding a command; it stays held for good");
	return t;
}

/* On the request's reactor. */
static void finish(struct hold *h)
{
	struct fdr_req *req = h->req;

	/* Timers belong to the reactor: only here may a delay be cancelled. */
	if (h->timer.armed)
		fdr_timer_cancel(req->q->reactor, &h->timer);
	if (h->complete) {
		req->cpl.cdw0 = h->cdw0;
		fdr_req_complete(req, h->status);
	} else {
		req->resume(req);
	}
	free(h);
}

static void finish_msg(void *arg)
{
	finish(arg);
}

static int post_finish(uint64_t ticket, bool complete, uint16_t status, uint32_t cdw0)
{
	struct hold *h;

	pthread_mutex_lock(&hold_lock);
	h = find_locked(ticket, true);
	pthread_mutex_unlock(&hold_lock);
	if (!h)
		return -ESTALE;
	h->complete = complete;
	h->status = status;
	h->cdw0 = cdw0;
	/* Always through the reactor, even from its own thread: the caller
	 * may be a callback still inside the stage that held the command. */
	if (fdr_reactor_post(h->req->q->reactor, finish_msg, h) < 0) {
		pthread_mutex_lock(&hold_lock);
		h->next = holds;
		holds = h;
		pthread_mutex_unlock(&hold_lock);
		return -ENOMEM;
	}
	return 0;
}

int fdr_hold_complete(uint64_t ticket, uint16_t status, uint32_t cdw0)
{
	return post_finish(ticket, true, status, cdw0);
}

int fdr_hold_resume(uint64_t ticket)
{
	return post_finish(ticket, false, 0, 0);
}

static void delay_expired(struct fdr_timer *t)
{
	struct hold *h = (struct hold *)((char *)t - offsetof(struct hold, timer));
	struct hold *found;

	pthread_mutex_lock(&hold_lock);
	found = find_locked(h->ticket, true);
	pthread_mutex_unlock(&hold_lock);
	if (found)
		finish(found);
}

int fdr_hold_delay(struct fdr_req *req, uint64_t delay_ns)
{
	struct fdr_reactor *r = req->q->reactor;
	uint64_t ticket;
	struct hold *h;

	if (fdr_reactor_self() != r)
		return -EINVAL;
	ticket = fdr_hold(req);
	if (!ticket)
		return -ENOMEM;
	pthread_mutex_lock(&hold_lock);
	h = find_locked(ticket, false);
	if (h) {
		h->timer.fn = delay_expired;
		fdr_timer_arm(r, &h->timer, delay_ns);
	}
	pthread_mutex_unlock(&hold_lock);
	return h ? 0 : -ESTALE;
}

void fdr_hold_abort_queue(struct fdr_queue *q)
{
	struct hold *mine = NULL;

	pthread_mutex_lock(&hold_lock);
	for (struct hold **pp = &holds; *pp;) {
		struct hold *h = *pp;
		if (h->req->q == q) {
			*pp = h->next;
			h->next = mine;
			mine = h;
		} else {
			pp = &h->next;
		}
	}
	pthread_mutex_unlock(&hold_lock);
	while (mine) {
		struct hold *h = mine;
		mine = h->next;
		h->complete = true;
		h->status = NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_ABORTED_SQ_DELETION);
		h->cdw0 = 0;
		finish(h);
	}
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Reactors: one event loop per core.  Every queue is pinned to one reactor
 * and all its work runs there, so the I/O path takes no lock.  Work for
 * another reactor travels as a posted message.
 */
#ifndef FDR_REACTOR_H
#define FDR_REACTOR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>

struct fdr_reactor;

/* A file descriptor watched by a reactor; embed it in the owner. */
struct fdr_handler {
	void (*fn)(struct fdr_handler *h, uint32_t events);
	int fd;
};

/* A one-shot timer; embed it in the owner.  Re-arm from the callback. */
struct fdr_timer {
	void (*fn)(struct fdr_timer *t);
	uint64_t deadline_ns; /* CLOCK_MONOTONIC */
	struct fdr_timer *next;
	bool armed;
};

/*
 * Work deferred to the end of the current loop iteration, after every ready
 * descriptor was handled: where sockets flush their batched sends and
 * io_uring submits its batch.  Adding it twice in one iteration is a no-op.
 */
struct fdr_defer {
	void (*fn)(struct fdr_defer *d);
	struct fdr_defer *next;
	bool queued;
};

/*
 * A poller: called once per loop iteration, for work nothing signals
 * (doorbells in shared memory).  fn returns how much work it found; 0 is
 * idle.  While some poller found work in the last FDR_POLL_IDLE_NS the
 * loop does not sleep (epoll with timeout 0); after that it sleeps in
 * epoll, FDR_POLL_SLEEP_MIN_NS at first, doubling on every idle round up
 * to FDR_POLL_SLEEP_MAX_NS, so an idle poller costs little CPU but the
 * first work after a pause waits up to the current sleep.  The first
 * sleeps are short because a busy host often pauses for a moment (its
 * thread was descheduled): a long sleep then would stall it.  A
 * descriptor, a posted message or fdr_reactor_poller_kick() ends a sleep
 * and makes the loop busy again.  Reactor thread only (kick: any thread
 * through fdr_reactor_post, or the reactor's own).
 */
#define FDR_POLL_IDLE_NS 200000ull
#define FDR_POLL_SLEEP_MIN_NS 20000ull
#define FDR_POLL_SLEEP_MAX_NS 8000000ull
struct fdr_poller {
	int (*fn)(struct fdr_poller *p);
	struct fdr_poller *next;
	bool added;
};

struct fdr_reactor *fdr_reactor_create(unsigned id);
void fdr_reactor_destroy(struct fdr_reactor *r);
unsigned fdr_reactor_id(const struct fdr_reactor *r);
/* The reactor running on the calling thread, or NULL. */
struct fdr_reactor *fdr_reactor_self(void);

int fdr_reactor_add(struct fdr_reactor *r, struct fdr_handler *h, uint32_t events);
int fdr_reactor_mod(struct fdr_reactor *r, struct fdr_handler *h, uint32_t events);
void fdr_reactor_del(struct fdr_reactor *r, struct fdr_handler *h);

/* Thread safe: run fn(arg) on reactor r's thread.  Never on the I/O path. */
int fdr_reactor_post(struct fdr_reactor *r, void (*fn)(void *arg), void *arg);

void fdr_timer_arm(struct fdr_reactor *r, struct fdr_timer *t, uint64_t delay_ns);
void fdr_timer_cancel(struct fdr_reactor *r, struct fdr_timer *t);

void fdr_reactor_defer(struct fdr_reactor *r, struct fdr_defer *d);

/* Adding one already added, or deleting one not added, is a no-op; a
 * poller may delete itself (or another) from its callback. */
void fdr_reactor_poller_add(struct fdr_reactor *r, struct fdr_poller *p);
void fdr_reactor_poller_del(struct fdr_reactor *r, struct fdr_poller *p);
/* Count now as busy (e.g. a doorbell write seen another way). */
void fdr_reactor_poller_kick(struct fdr_reactor *r);
/* Counters, for tests and CPU accounting: poller rounds, and how many of
 * them found work. */
void fdr_reactor_poller_stats(const struct fdr_reactor *r, uint64_t *rounds, uint64_t *busy);

/* Run one iteration, waiting at most timeout_ms (-1: until something happens). */
int fdr_reactor_poll(struct fdr_reactor *r, int timeout_ms);
/* Loop until fdr_reactor_stop(); runs on the calling thread. */
void fdr_reactor_run(struct fdr_reactor *r);
/* Thread safe. */
void fdr_reactor_stop(struct fdr_reactor *r);
/* Start a thread running the loop, pinned to cpu (or unpinned if cpu < 0). */
int fdr_reactor_start(struct fdr_reactor *r, int cpu);
/* Wait for the thread started by fdr_reactor_start(). */
void fdr_reactor_join(struct fdr_reactor *r);

uint64_t fdr_now_ns(void); /* CLOCK_MONOTONIC */
uint64_t fdr_wall_ns(void); /* CLOCK_REALTIME */

#endif

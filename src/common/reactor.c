/* SPDX-License-Identifier: BSD-2-Clause */
#include "reactor.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define REACTOR_MAX_EVENTS 128

struct post_msg {
	void (*fn)(void *arg);
	void *arg;
	struct post_msg *next;
};

struct fdr_reactor {
	unsigned id;
	int epfd;
	struct fdr_handler wake; /* eventfd: posted messages and stop */
	pthread_mutex_t post_lock;
	struct post_msg *post_head;
	struct post_msg *post_tail;
	struct fdr_timer *timers; /* sorted by deadline */
	struct fdr_defer *defer_head;
	struct fdr_defer *defer_tail;
	struct fdr_poller *pollers;
	struct fdr_poller *poll_next; /* iteration cursor, moved by del */
	bool poll_kicked;        /* work (or a kick) since the last timeout */
	uint64_t poll_idle_since; /* first round without work; 0: busy */
	uint64_t poll_sleep_ns; /* current idle sleep; 0: busy */
	uint64_t poll_rounds;
	uint64_t poll_busy;
	volatile int stop;
	pthread_t thread;
	bool has_thread;
};

static __thread struct fdr_reactor *current_reactor;

uint64_t fdr_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t fdr_wall_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void run_posted(struct fdr_reactor *r)
{
	struct post_msg *m;

	pthread_mutex_lock(&r->post_lock);
	m = r->post_head;
	r->post_head = r->post_tail = NULL;
	pthread_mutex_unlock(&r->post_lock);
	while (m) {
		struct post_msg *next = m->next;
		m->fn(m->arg);
		free(m);
		m = next;
	}
}

static void wake_handler(struct fdr_handler *h, uint32_t events)
{
	struct fdr_reactor *r = (struct fdr_reactor *)((char *)h - offsetof(struct fdr_reactor, wake));
	uint64_t v;

	(void)events;
	while (read(h->fd, &v, sizeof(v)) < 0 && errno == EINTR)
		;
	run_posted(r);
}

struct fdr_reactor *fdr_reactor_create(unsigned id)
{
	struct fdr_reactor *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->id = id;
	r->epfd = epoll_create1(EPOLL_CLOEXEC);
	r->wake.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	r->wake.fn = wake_handler;
	pthread_mutex_init(&r->post_lock, NULL);
	if (r->epfd < 0 || r->wake.fd < 0 || fdr_reactor_add(r, &r->wake, EPOLLIN) < 0) {
		fdr_reactor_destroy(r);
		return NULL;
	}
	return r;
}

void fdr_reactor_destroy(struct fdr_reactor *r)
{
	if (!r)
		return;
	/* Messages still queued hold references; run them so they release. */
	run_posted(r);
	if (r->wake.fd >= 0)
		close(r->wake.fd);
	if (r->epfd >= 0)
		close(r->epfd);
	pthread_mutex_destroy(&r->post_lock);
	free(r);
}

unsigned fdr_reactor_id(const struct fdr_reactor *r)
{
	return r->id;
}

struct fdr_reactor *fdr_reactor_self(void)
{
	return current_reactor;
}

int fdr_reactor_add(struct fdr_reactor *r, struct fdr_handler *h, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = h};
	return epoll_ctl(r->epfd, EPOLL_CTL_ADD, h->fd, &ev) < 0 ? -errno : 0;
}

int fdr_reactor_mod(struct fdr_reactor *r, struct fdr_handler *h, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = h};
	return epoll_ctl(r->epfd, EPOLL_CTL_MOD, h->fd, &ev) < 0 ? -errno : 0;
}

void fdr_reactor_del(struct fdr_reactor *r, struct fdr_handler *h)
{
	epoll_ctl(r->epfd, EPOLL_CTL_DEL, h->fd, NULL);
}

int fdr_reactor_post(struct fdr_reactor *r, void (*fn)(void *arg), void *arg)
{
	struct post_msg *m = malloc(sizeof(*m));
	uint64_t one = 1;

	if (!m)
		return -ENOMEM;
	m->fn = fn;
	m->arg = arg;
	m->next = NULL;
	pthread_mutex_lock(&r->post_lock);
	if (r->post_tail)
		r->post_tail->next = m;
	else
		r->post_head = m;
	r->post_tail = m;
	pthread_mutex_unlock(&r->post_lock);
	if (write(r->wake.fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		fdr_err("reactor %u: wake-up write failed: %s", r->id, strerror(errno));
	return 0;
}

void fdr_timer_cancel(struct fdr_reactor *r, struct fdr_timer *t)
{
	struct fdr_timer **pp;

	if (!t->armed)
		return;
	for (pp = &r->timers; *pp; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	}
	t->armed = false;
	t->next = NULL;
}

void fdr_timer_arm(struct fdr_reactor *r, struct fdr_timer *t, uint64_t delay_ns)
{
	struct fdr_timer **pp;

	fdr_timer_cancel(r, t);
	t->deadline_ns = fdr_now_ns() + delay_ns;
	/* Few timers exist (keep-alive, handshakes): a sorted list is enough. */
	for (pp = &r->timers; *pp && (*pp)->deadline_ns <= t->deadline_ns; pp = &(*pp)->next)
		;
	t->next = *pp;
	*pp = t;
	t->armed = true;
}

void fdr_reactor_defer(struct fdr_reactor *r, struct fdr_defer *d)
{
	if (d->queued)
		return;
	d->queued = true;
	d->next = NULL;
	if (r->defer_tail)
		r->defer_tail->next = d;
	else
		r->defer_head = d;
	r->defer_tail = d;
}

static void run_timers(struct fdr_reactor *r)
{
	uint64_t now;

	if (!r->timers)
		return; /* no clock read: a polling loop turns a million times a second */
	now = fdr_now_ns();
	while (r->timers && r->timers->deadline_ns <= now) {
		struct fdr_timer *t = r->timers;
		r->timers = t->next;
		t->next = NULL;
		t->armed = false;
		t->fn(t);
	}
}

static void run_deferred(struct fdr_reactor *r)
{
	/* Run a snapshot: work deferred meanwhile waits for the next
	 * iteration, which then does not sleep (see timeout_for). */
	struct fdr_defer *d = r->defer_head;

	r->defer_head = r->defer_tail = NULL;
	while (d) {
		struct fdr_defer *next = d->next;
		d->queued = false;
		d->next = NULL;
		d->fn(d);
		d = next;
	}
}

void fdr_reactor_poller_add(struct fdr_reactor *r, struct fdr_poller *p)
{
	if (p->added)
		return;
	p->added = true;
	p->next = r->pollers;
	r->pollers = p;
	fdr_reactor_poller_kick(r);
}

void fdr_reactor_poller_del(struct fdr_reactor *r, struct fdr_poller *p)
{
	if (!p->added)
		return;
	for (struct fdr_poller **pp = &r->pollers; *pp; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	}
	if (r->poll_next == p)
		r->poll_next = p->next;
	p->added = false;
	p->next = NULL;
}

void fdr_reactor_poller_kick(struct fdr_reactor *r)
{
	r->poll_kicked = true;
	r->poll_sleep_ns = 0;
}

void fdr_reactor_poller_stats(const struct fdr_reactor *r, uint64_t *rounds, uint64_t *busy)
{
	*rounds = __atomic_load_n(&r->poll_rounds, __ATOMIC_RELAXED);
	*busy = __atomic_load_n(&r->poll_busy, __ATOMIC_RELAXED);
}

static void run_pollers(struct fdr_reactor *r)
{
	int work = 0;

	if (!r->pollers)
		return;
	for (struct fdr_poller *p = r->pollers; p; p = r->poll_next) {
		r->poll_next = p->next;
		int n = p->fn(p);
		if (n > 0)
			work += n;
	}
	r->poll_next = NULL;
	__atomic_store_n(&r->poll_rounds, r->poll_rounds + 1, __ATOMIC_RELAXED);
	if (work) {
		__atomic_store_n(&r->poll_busy, r->poll_busy + 1, __ATOMIC_RELAXED);
		fdr_reactor_poller_kick(r);
	}
}

/* How long (ns) the loop may sleep for the pollers' sake; -1: forever. */
static int64_t poll_timeout(struct fdr_reactor *r)
{
	uint64_t now;

	if (!r->pollers)
		return -1;
	/* Busy: no clock read.  The idle period starts at the first round
	 * that found nothing. */
	if (r->poll_kicked) {
		r->poll_kicked = false;
		r->poll_idle_since = 0;
		return 0;
	}
	now = fdr_now_ns();
	if (!r->poll_idle_since)
		r->poll_idle_since = now;
	if (now - r->poll_idle_since < FDR_POLL_IDLE_NS)
		return 0;
	/* Idle: sleep, longer each round that finds nothing. */
	if (r->poll_sleep_ns == 0)
		r->poll_sleep_ns = FDR_POLL_SLEEP_MIN_NS;
	else if (r->poll_sleep_ns < FDR_POLL_SLEEP_MAX_NS)
		r->poll_sleep_ns = r->poll_sleep_ns * 2 < FDR_POLL_SLEEP_MAX_NS ?
				   r->poll_sleep_ns * 2 : FDR_POLL_SLEEP_MAX_NS;
	return (int64_t)r->poll_sleep_ns;
}

/* The epoll timeout in ns (-1: none) from the caller's (ms), the
 * pollers' and the next timer's. */
static int64_t timeout_for(struct fdr_reactor *r, int timeout_ms)
{
	int64_t t = timeout_ms < 0 ? -1 : (int64_t)timeout_ms * 1000000;
	int64_t pt;

	if (r->defer_head)
		return 0;
	pt = poll_timeout(r);
	if (pt >= 0 && (t < 0 || pt < t))
		t = pt;
	if (!r->timers)
		return t;
	uint64_t now = fdr_now_ns();
	if (r->timers->deadline_ns <= now)
		return 0;
	uint64_t left = r->timers->deadline_ns - now;
	if (left > 60000000000ull)
		left = 60000000000ull;
	return t >= 0 && (uint64_t)t < left ? t : (int64_t)left;
}

static int wait_events(struct fdr_reactor *r, struct epoll_event *evs, int64_t ns)
{
	struct timespec ts = {(time_t)(ns / 1000000000), (long)(ns % 1000000000)};

	return epoll_pwait2(r->epfd, evs, REACTOR_MAX_EVENTS, ns < 0 ? NULL : &ts, NULL);
}

int fdr_reactor_poll(struct fdr_reactor *r, int timeout_ms)
{
	struct epoll_event evs[REACTOR_MAX_EVENTS];
	struct fdr_reactor *prev = current_reactor;
	int n;

	current_reactor = r;
	n = wait_events(r, evs, timeout_for(r, timeout_ms));
	if (n < 0 && errno != EINTR) {
		fdr_err("reactor %u: epoll_wait: %s", r->id, strerror(errno));
		current_reactor = prev;
		return -errno;
	}
	for (int i = 0; i < n; i++) {
		struct fdr_handler *h = evs[i].data.ptr;
		h->fn(h, evs[i].events);
	}
	/* Something woke us: the host is likely active; poll eagerly. */
	if (n > 0 && r->pollers)
		fdr_reactor_poller_kick(r);
	run_pollers(r);
	run_timers(r);
	run_deferred(r);
	current_reactor = prev;
	return n < 0 ? 0 : n;
}

void fdr_reactor_run(struct fdr_reactor *r)
{
	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE))
		fdr_reactor_poll(r, -1);
}

static void stop_msg(void *arg)
{
	(void)arg;
}

void fdr_reactor_stop(struct fdr_reactor *r)
{
	__atomic_store_n(&r->stop, 1, __ATOMIC_RELEASE);
	fdr_reactor_post(r, stop_msg, NULL); /* wake it up */
}

static void *reactor_thread(void *p)
{
	struct fdr_reactor *r = p;
	fdr_reactor_run(r);
	return NULL;
}

int fdr_reactor_start(struct fdr_reactor *r, int cpu)
{
	int rc = pthread_create(&r->thread, NULL, reactor_thread, r);
	if (rc)
		return -rc;
	r->has_thread = true;
	if (cpu >= 0) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		pthread_setaffinity_np(r->thread, sizeof(set), &set);
	}
	char name[16];
	snprintf(name, sizeof(name), "reactor%u", r->id);
	pthread_setname_np(r->thread, name);
	return 0;
}

void fdr_reactor_join(struct fdr_reactor *r)
{
	if (r->has_thread) {
		pthread_join(r->thread, NULL);
		r->has_thread = false;
	}
}

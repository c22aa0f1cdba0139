/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests for src/common/reactor.h: timers, posted messages, deferred
 * work, descriptor handlers and the reactor thread's life cycle.  Written
 * against the header's contract.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/reactor.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

#define MS 1000000ull

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Wait up to timeout_ms for *v to reach at least want; true if it did. */
static bool wait_for(int *v, int want, unsigned timeout_ms)
{
	uint64_t end = fdr_now_ns() + timeout_ms * MS;

	while (__atomic_load_n(v, __ATOMIC_ACQUIRE) < want) {
		if (fdr_now_ns() > end)
			return false;
		sleep_ms(1);
	}
	return true;
}

/* Poll r from this thread until *v reaches want or timeout_ms passes. */
static bool poll_for(struct fdr_reactor *r, int *v, int want, unsigned timeout_ms)
{
	uint64_t end = fdr_now_ns() + timeout_ms * MS;

	while (*v < want) {
		if (fdr_now_ns() > end)
			return false;
		assert_true(fdr_reactor_poll(r, 10) >= 0);
	}
	return true;
}

/* ---- Clocks and basics ------------------------------------------------------ */

static void test_create_and_clocks(void **state)
{
	(void)state;
	struct fdr_reactor *r = fdr_reactor_create(7);

	assert_non_null(r);
	assert_int_equal(fdr_reactor_id(r), 7);
	assert_null(fdr_reactor_self()); /* not on a reactor thread */
	/* Nothing to do: a zero timeout poll returns at once. */
	uint64_t p0 = fdr_now_ns();
	assert_true(fdr_reactor_poll(r, 0) >= 0);
	assert_true(fdr_now_ns() - p0 < 500 * MS);
	fdr_reactor_destroy(r);

	uint64_t prev = fdr_now_ns();
	for (int i = 0; i < 1000; i++) {
		uint64_t now = fdr_now_ns();
		assert_true(now >= prev);
		prev = now;
	}
	uint64_t t0 = fdr_now_ns();
	sleep_ms(10);
	assert_true(fdr_now_ns() - t0 >= 10 * MS);

	uint64_t wall = fdr_wall_ns();
	uint64_t secs = (uint64_t)time(NULL);
	assert_true(wall / 1000000000ull + 1 >= secs && wall / 1000000000ull <= secs + 1);
}

/* ---- Timers ------------------------------------------------------------------ */

struct rec_timer {
	struct fdr_timer t;
	int id;
	int fired;
	bool late_enough; /* fired at or after its deadline */
};

static int fire_log[128];
static int fire_count;

static void rec_timer_fn(struct fdr_timer *t)
{
	struct rec_timer *rt = container_of(t, struct rec_timer, t);

	rt->late_enough = fdr_now_ns() >= t->deadline_ns;
	if (fire_count < (int)ARRAY_SIZE(fire_log))
		fire_log[fire_count] = rt->id;
	/* Release: a waiting thread may read the log once it sees the count. */
	__atomic_add_fetch(&fire_count, 1, __ATOMIC_RELEASE);
	__atomic_add_fetch(&rt->fired, 1, __ATOMIC_RELEASE);
}

static void test_timer_order_and_cancel(void **state)
{
	(void)state;
	struct fdr_reactor *r = fdr_reactor_create(0);
	struct rec_timer a = {.t.fn = rec_timer_fn, .id = 'A'};
	struct rec_timer b = {.t.fn = rec_timer_fn, .id = 'B'};
	struct rec_timer c = {.t.fn = rec_timer_fn, .id = 'C'};
	struct rec_timer d = {.t.fn = rec_timer_fn, .id = 'D'};
	struct rec_timer never = {.t.fn = rec_timer_fn, .id = 'N'};

	assert_non_null(r);
	fire_count = 0;
	fdr_timer_arm(r, &a.t, 40 * MS);
	fdr_timer_arm(r, &b.t, 10 * MS);
	fdr_timer_arm(r, &c.t, 30 * MS);
	fdr_timer_arm(r, &d.t, 20 * MS);
	assert_true(a.t.armed && b.t.armed && c.t.armed && d.t.armed);
	fdr_timer_cancel(r, &d.t);
	assert_false(d.t.armed);
	fdr_timer_cancel(r, &d.t);     /* twice: no-op */
	fdr_timer_cancel(r, &never.t); /* never armed: no-op */

	assert_true(poll_for(r, &fire_count, 3, 2000));
	/* Give the cancelled one time to misbehave. */
	for (int i = 0; i < 5; i++)
		fdr_reactor_poll(r, 5);

	assert_int_equal(fire_count, 3);
	assert_int_equal(fire_log[0], 'B');
	assert_int_equal(fire_log[1], 'C');
	assert_int_equal(fire_log[2], 'A');
	assert_int_equal(a.fired, 1);
	assert_int_equal(b.fired, 1);
	assert_int_equal(c.fired, 1);
	assert_int_equal(d.fired, 0);
	assert_true(a.late_enough && b.late_enough && c.late_enough);
	assert_false(a.t.armed || b.t.armed || c.t.armed || d.t.armed);
	fdr_reactor_destroy(r);
}

/* Many timers with random delays fire in deadline order, each once. */
static void test_timer_many_random(void **state)
{
	(void)state;
	enum { N = 64 };
	struct fdr_reactor *r = fdr_reactor_create(0);
	static struct rec_timer t[N];
	unsigned seed = 12345;

	assert_non_null(r);
	fire_count = 0;
	for (int i = 0; i < N; i++) {
		t[i] = (struct rec_timer){.t.fn = rec_timer_fn, .id = i};
		seed = seed * 1103515245u + 12345u;
		fdr_timer_arm(r, &t[i].t, ((seed >> 16) % 20000) * 1000ull);
	}
	/* Cancel every eighth one. */
	for (int i = 0; i < N; i += 8)
		fdr_timer_cancel(r, &t[i].t);
	assert_true(poll_for(r, &fire_count, N - N / 8, 2000));
	fdr_reactor_poll(r, 30);
	assert_int_equal(fire_count, N - N / 8);
	for (int i = 1; i < fire_count; i++)
		assert_true(t[fire_log[i - 1]].t.deadline_ns <= t[fire_log[i]].t.deadline_ns);
	for (int i = 0; i < N; i++)
		assert_int_equal(t[i].fired, i % 8 == 0 ? 0 : 1);
	fdr_reactor_destroy(r);
}

struct timer_ctx {
	struct fdr_timer t;
	struct fdr_reactor *r;
	struct fdr_timer *victim; /* cancelled from the callback */
	int fired;
	int rearm; /* re-arm this many more times */
};

static void ctx_timer_fn(struct fdr_timer *t)
{
	struct timer_ctx *c = container_of(t, struct timer_ctx, t);

	c->fired++;
	if (c->victim)
		fdr_timer_cancel(c->r, c->victim);
	if (c->rearm > 0) {
		c->rearm--;
		fdr_timer_arm(c->r, t, 1 * MS);
	}
}

/* Re-arm from the callback, cancel another timer from a callback, re-arm
 * an armed timer to move it. */
static void test_timer_rearm_and_cancel_from_callback(void **state)
{
	(void)state;
	struct fdr_reactor *r = fdr_reactor_create(0);
	struct timer_ctx rep = {.t.fn = ctx_timer_fn, .rearm = 3};
	struct timer_ctx killer = {.t.fn = ctx_timer_fn};
	struct timer_ctx victim = {.t.fn = ctx_timer_fn};
	struct timer_ctx moved = {.t.fn = ctx_timer_fn};

	assert_non_null(r);
	rep.r = killer.r = victim.r = moved.r = r;
	killer.victim = &victim.t;
	fdr_timer_arm(r, &rep.t, 1 * MS);
	fdr_timer_arm(r, &killer.t, 5 * MS);
	fdr_timer_arm(r, &victim.t, 40 * MS);
	fdr_timer_arm(r, &moved.t, 10000 * MS);
	fdr_timer_arm(r, &moved.t, 2 * MS); /* re-arming moves it */

	uint64_t end = fdr_now_ns() + 80 * MS;
	while (fdr_now_ns() < end)
		assert_true(fdr_reactor_poll(r, 10) >= 0);

	assert_int_equal(rep.fired, 4);
	assert_false(rep.t.armed);
	assert_int_equal(killer.fired, 1);
	assert_int_equal(victim.fired, 0);
	assert_false(victim.t.armed);
	assert_int_equal(moved.fired, 1);
	assert_false(moved.t.armed);
	fdr_reactor_destroy(r);
}

/* An unbounded poll still wakes up for the next timer. */
static void test_timer_bounds_infinite_poll(void **state)
{
	(void)state;
	struct fdr_reactor *r = fdr_reactor_create(0);
	struct rec_timer t = {.t.fn = rec_timer_fn, .id = 1};

	assert_non_null(r);
	fire_count = 0;
	uint64_t t0 = fdr_now_ns();
	fdr_timer_arm(r, &t.t, 20 * MS);
	for (int i = 0; i < 10 && !t.fired; i++)
		assert_true(fdr_reactor_poll(r, -1) >= 0);
	assert_int_equal(t.fired, 1);
	assert_true(fdr_now_ns() - t0 >= 20 * MS);
	assert_true(fdr_now_ns() - t0 < 2000 * MS);
	fdr_reactor_destroy(r);
}

/* ---- Deferred work and descriptor handlers ------------------------------------ */

static char order_log[64];
static int order_len;

static void order_note(char c)
{
	if (order_len < (int)sizeof(order_log) - 1)
		order_log[order_len++] = c;
	order_log[order_len] = '\0';
}

struct defer_ctx {
	struct fdr_defer d;
	int runs;
	char tag;
};

static void defer_fn(struct fdr_defer *d)
{
	struct defer_ctx *c = container_of(d, struct defer_ctx, d);

	c->runs++;
	order_note(c->tag);
}

static void test_defer_once_per_iteration(void **state)
{
	(void)state;
	struct fdr_reactor *r = fdr_reactor_create(0);
	struct defer_ctx a = {.d.fn = defer_fn, .tag = 'a'};
	struct defer_ctx b = {.d.fn = defer_fn, .tag = 'b'};

	assert_non_null(r);
	order_len = 0;
	fdr_reactor_defer(r, &a.d);
	fdr_reactor_defer(r, &a.d); /* queued twice: still once */
	fdr_reactor_defer(r, &b.d);
	assert_true(fdr_reactor_poll(r, 0) >= 0);
	assert_int_equal(a.runs, 1);
	assert_int_equal(b.runs, 1);

	/* Not queued again: nothing more runs. */
	assert_true(fdr_reactor_poll(r, 0) >= 0);
	assert_int_equal(a.runs, 1);
	assert_int_equal(b.runs, 1);

	/* Queued anew after it ran: runs again, once. */
	fdr_reactor_defer(r, &a.d);
	fdr_reactor_defer(r, &a.d);
	fdr_reactor_defer(r, &a.d);
	assert_true(fdr_reactor_poll(r, 0) >= 0);
	assert_int_equal(a.runs, 2);
	assert_int_equal(b.runs, 1);

	/* Pending deferred work does not let an unbounded poll block. */
	uint64_t t0 = fdr_now_ns();
	fdr_reactor_defer(r, &b.d);
	assert_true(fdr_reactor_poll(r, -1) >= 0);
	assert_int_equal(b.runs, 2);
	assert_true(fdr_now_ns() - t0 < 1000 * MS);
	fdr_reactor_destroy(r);
}

struct pipe_ctx {
	struct fdr_handler h;
	struct fdr_reactor *r;
	struct defer_ctx *defer; /* queued (twice) from the handler */
	int wfd;
	int fired; /* atomic: read by other threads */
	uint32_t events;
	struct fdr_reactor *self;
	pthread_t thread;
	char last;
};

static void pipe_fn(struct fdr_handler *h, uint32_t events)
{
	struct pipe_ctx *c = container_of(h, struct pipe_ctx, h);
	char buf[16];
	ssize_t n = read(h->fd, buf, sizeof(buf));

	if (n > 0)
		c->last = buf[n - 1];
	c->events = events;
	c->self = fdr_reactor_self();
	c->thread = pthread_self();
	order_note('h');
	if (c->defer) {
		fdr_reactor_defer(c->r, &c->defer->d);
		fdr_reactor_defer(c->r, &c->defer->d);
	}
	__atomic_add_fetch(&c->fired, 1, __ATOMIC_RELEASE);
}

static void pipe_open(struct pipe_ctx *c)
{
	int fds[2];

	assert_int_equal(pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
	c->h.fd = fds[0];
	c->h.fn = pipe_fn;
	c->wfd = fds[1];
}

static void pipe_close(struct pipe_ctx *c)
{
	close(c->h.fd);
	close(c->wfd);
}

static void pipe_write(struct pipe_ctx *c, char byte)
{
	assert_int_equal(write(c->wfd, &byte, 1), 1);
}

static void test_fd_handler(void **state)
{
	(void)state;
	struct fdr_reactor *r = fdr_reactor_create(3);
	struct defer_ctx d = {.d.fn = defer_fn, .tag = 'd'};
	struct pipe_ctx p = {.defer = &d};

	assert_non_null(r);
	p.r = r;
	pipe_open(&p);
	assert_int_equal(fdr_reactor_add(r, &p.h, EPOLLIN), 0);

	/* Nothing to read: no call. */
	assert_true(fdr_reactor_poll(r, 0) >= 0);
	assert_int_equal(p.fired, 0);

	order_len = 0;
	pipe_write(&p, 'x');
	assert_true(fdr_reactor_poll(r, 1000) >= 0);
	assert_int_equal(p.fired, 1);
	assert_true(p.events & EPOLLIN);
	assert_int_equal(p.last, 'x');
	assert_ptr_equal(p.self, r); /* the polling reactor is "self" inside */
	assert_null(fdr_reactor_self());
	/* The deferred work queued by the handler ran once, after it, same iteration. */
	assert_int_equal(d.runs, 1);
	assert_string_equal(order_log, "hd");

	/* Drained: no more calls. */
	assert_true(fdr_reactor_poll(r, 0) >= 0);
	assert_int_equal(p.fired, 1);

	/* Disabled by mod: data waits. */
	assert_int_equal(fdr_reactor_mod(r, &p.h, 0), 0);
	pipe_write(&p, 'y');
	assert_true(fdr_reactor_poll(r, 20) >= 0);
	assert_int_equal(p.fired, 1);
	assert_int_equal(fdr_reactor_mod(r, &p.h, EPOLLIN), 0);
	assert_true(fdr_reactor_poll(r, 1000) >= 0);
	assert_int_equal(p.fired, 2);
	assert_int_equal(p.last, 'y');

	/* Removed: no more calls. */
	fdr_reactor_del(r, &p.h);
	pipe_write(&p, 'z');
	assert_true(fdr_reactor_poll(r, 20) >= 0);
	assert_int_equal(p.fired, 2);

	/* Adding a descriptor twice is an error. */
	assert_int_equal(fdr_reactor_add(r, &p.h, EPOLLIN), 0);
	assert_true(fdr_reactor_add(r, &p.h, EPOLLIN) < 0);
	fdr_reactor_del(r, &p.h);

	pipe_close(&p);
	fdr_reactor_destroy(r);
}

/* ---- Reactor thread: post, start, stop, join ---------------------------------- */

struct probe {
	struct fdr_reactor *self;
	pthread_t thread;
	int cpu;
	int done; /* atomic */
};

static void probe_fn(void *arg)
{
	struct probe *p = arg;

	p->self = fdr_reactor_self();
	p->thread = pthread_self();
	p->cpu = sched_getcpu();
	__atomic_store_n(&p->done, 1, __ATOMIC_RELEASE);
}

static void test_start_stop_join(void **state)
{
	(void)state;
	struct fdr_reactor *r = fdr_reactor_create(1);
	struct probe p = {0};

	assert_non_null(r);
	assert_int_equal(fdr_reactor_start(r, -1), 0);
	assert_int_equal(fdr_reactor_post(r, probe_fn, &p), 0);
	assert_true(wait_for(&p.done, 1, 5000));
	assert_ptr_equal(p.self, r);
	assert_false(pthread_equal(p.thread, pthread_self()));
	fdr_reactor_stop(r);
	fdr_reactor_join(r);
	assert_null(fdr_reactor_self());
	fdr_reactor_destroy(r);

	/* Stopped at once, before doing anything. */
	r = fdr_reactor_create(2);
	assert_non_null(r);
	assert_int_equal(fdr_reactor_start(r, -1), 0);
	fdr_reactor_stop(r);
	fdr_reactor_join(r);
	fdr_reactor_destroy(r);
}

/* Messages posted before the thread starts run once it does. */
static void test_post_before_start(void **state)
{
	(void)state;
	struct fdr_reactor *r = fdr_reactor_create(4);
	struct probe p = {0};

	assert_non_null(r);
	assert_int_equal(fdr_reactor_post(r, probe_fn, &p), 0);
	sleep_ms(5);
	assert_int_equal(__atomic_load_n(&p.done, __ATOMIC_ACQUIRE), 0);
	assert_int_equal(fdr_reactor_start(r, -1), 0);
	assert_true(wait_for(&p.done, 1, 5000));
	assert_ptr_equal(p.self, r);
	fdr_reactor_stop(r);
	fdr_reactor_join(r);
	fdr_reactor_destroy(r);
}

static void stop_self_fn(void *arg)
{
	int *ran = arg;

	fdr_reactor_stop(fdr_reactor_self());
	__atomic_store_n(ran, 1, __ATOMIC_RELEASE);
}

/* The loop can be stopped from its own thread. */
static void test_stop_from_reactor(void **state)
{
	(void)state;
	struct fdr_reactor *r = fdr_reactor_create(5);
	int ran = 0;

	assert_non_null(r);
	assert_int_equal(fdr_reactor_start(r, -1), 0);
	assert_int_equal(fdr_reactor_post(r, stop_self_fn, &ran), 0);
	fdr_reactor_join(r); /* returns because the reactor stopped itself */
	assert_int_equal(ran, 1);
	fdr_reactor_destroy(r);
}

/* Pinned to a CPU, the loop runs there. */
static void test_start_pinned(void **state)
{
	(void)state;
	cpu_set_t set;
	int cpu = -1;

	assert_int_equal(sched_getaffinity(0, sizeof(set), &set), 0);
	for (int i = CPU_SETSIZE - 1; i >= 0; i--) {
		if (CPU_ISSET(i, &set)) {
			cpu = i;
			break;
		}
	}
	assert_true(cpu >= 0);

	struct fdr_reactor *r = fdr_reactor_create(6);
	struct probe p = {0};

	assert_non_null(r);
	assert_int_equal(fdr_reactor_start(r, cpu), 0);
	assert_int_equal(fdr_reactor_post(r, probe_fn, &p), 0);
	assert_true(wait_for(&p.done, 1, 5000));
	assert_int_equal(p.cpu, cpu);
	fdr_reactor_stop(r);
	fdr_reactor_join(r);
	fdr_reactor_destroy(r);
}

/* Many threads post at once: every message runs exactly once, on the reactor
 * thread, and each sender's messages run in the order it posted them. */
enum { SENDERS = 4, PER_SENDER = 500 };

struct post_state {
	struct fdr_reactor *r;
	pthread_t reactor_thread;
	int next_seq[SENDERS]; /* touched on the reactor thread only */
	int total;             /* atomic */
	int bad_self;
	int bad_order;
};

struct post_msg_arg {
	struct post_state *st;
	int sender;
	int seq;
};

static void counted_fn(void *arg)
{
	struct post_msg_arg *m = arg;
	struct post_state *st = m->st;

	if (fdr_reactor_self() != st->r || !pthread_equal(pthread_self(), st->reactor_thread))
		st->bad_self++;
	if (m->seq != st->next_seq[m->sender])
		st->bad_order++;
	st->next_seq[m->sender] = m->seq + 1;
	__atomic_add_fetch(&st->total, 1, __ATOMIC_RELEASE);
}

struct sender {
	pthread_t thread;
	struct post_state *st;
	struct post_msg_arg msgs[PER_SENDER];
	int id;
	int failures;
};

static void *sender_main(void *arg)
{
	struct sender *s = arg;

	for (int i = 0; i < PER_SENDER; i++) {
		s->msgs[i] = (struct post_msg_arg){.st = s->st, .sender = s->id, .seq = i};
		if (fdr_reactor_post(s->st->r, counted_fn, &s->msgs[i]) != 0)
			s->failures++;
	}
	return NULL;
}

static void test_post_from_threads(void **state)
{
	(void)state;
	static struct sender senders[SENDERS];
	struct post_state st = {0};
	struct probe p = {0};

	st.r = fdr_reactor_create(8);
	assert_non_null(st.r);
	assert_int_equal(fdr_reactor_start(st.r, -1), 0);
	/* Learn the reactor thread's identity first. */
	assert_int_equal(fdr_reactor_post(st.r, probe_fn, &p), 0);
	assert_true(wait_for(&p.done, 1, 5000));
	st.reactor_thread = p.thread;

	for (int i = 0; i < SENDERS; i++) {
		senders[i].st = &st;
		senders[i].id = i;
		senders[i].failures = 0;
		assert_int_equal(pthread_create(&senders[i].thread, NULL, sender_main, &senders[i]), 0);
	}
	for (int i = 0; i < SENDERS; i++) {
		assert_int_equal(pthread_join(senders[i].thread, NULL), 0);
		assert_int_equal(senders[i].failures, 0);
	}
	assert_true(wait_for(&st.total, SENDERS * PER_SENDER, 10000));
	fdr_reactor_stop(st.r);
	fdr_reactor_join(st.r);
	assert_int_equal(st.total, SENDERS * PER_SENDER);
	assert_int_equal(st.bad_self, 0);
	assert_int_equal(st.bad_order, 0);
	fdr_reactor_destroy(st.r);
}

/* On a running reactor: a handler added from the reactor thread fires there
 * when another thread makes the pipe readable; timers armed there fire in order. */
struct live_ctx {
	struct fdr_reactor *r;
	struct pipe_ctx pipe;
	struct rec_timer t1, t2;
	int added; /* atomic */
	int add_rc;
};

static void live_setup_fn(void *arg)
{
	struct live_ctx *c = arg;

	/* No cmocka assertions here: they must run on the test's thread. */
	c->add_rc = fdr_reactor_add(c->r, &c->pipe.h, EPOLLIN);
	fdr_timer_arm(c->r, &c->t1.t, 20 * MS);
	fdr_timer_arm(c->r, &c->t2.t, 5 * MS);
	__atomic_store_n(&c->added, 1, __ATOMIC_RELEASE);
}

static void live_teardown_fn(void *arg)
{
	struct live_ctx *c = arg;

	fdr_reactor_del(c->r, &c->pipe.h);
	__atomic_store_n(&c->added, 2, __ATOMIC_RELEASE);
}

static void test_live_reactor(void **state)
{
	(void)state;
	struct live_ctx c = {0};

	c.r = fdr_reactor_create(9);
	assert_non_null(c.r);
	c.pipe.r = c.r;
	pipe_open(&c.pipe);
	c.t1 = (struct rec_timer){.t.fn = rec_timer_fn, .id = 1};
	c.t2 = (struct rec_timer){.t.fn = rec_timer_fn, .id = 2};
	fire_count = 0;
	order_len = 0;

	assert_int_equal(fdr_reactor_start(c.r, -1), 0);
	assert_int_equal(fdr_reactor_post(c.r, live_setup_fn, &c), 0);
	assert_true(wait_for(&c.added, 1, 5000));
	assert_int_equal(c.add_rc, 0);
	pipe_write(&c.pipe, 'q');
	assert_true(wait_for(&c.pipe.fired, 1, 5000));
	assert_true(wait_for(&c.t1.fired, 1, 5000));
	assert_int_equal(c.t2.fired, 1);
	assert_int_equal(fire_log[0], 2);
	assert_int_equal(fire_log[1], 1);

	assert_int_equal(fdr_reactor_post(c.r, live_teardown_fn, &c), 0);
	assert_true(wait_for(&c.added, 2, 5000));
	fdr_reactor_stop(c.r);
	fdr_reactor_join(c.r);

	assert_int_equal(c.pipe.last, 'q');
	assert_ptr_equal(c.pipe.self, c.r);
	assert_false(pthread_equal(c.pipe.thread, pthread_self()));
	pipe_close(&c.pipe);
	fdr_reactor_destroy(c.r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_and_clocks),
		cmocka_unit_test(test_timer_order_and_cancel),
		cmocka_unit_test(test_timer_many_random),
		cmocka_unit_test(test_timer_rearm_and_cancel_from_callback),
		cmocka_unit_test(test_timer_bounds_infinite_poll),
		cmocka_unit_test(test_defer_once_per_iteration),
		cmocka_unit_test(test_fd_handler),
		cmocka_unit_test(test_start_stop_join),
		cmocka_unit_test(test_post_before_start),
		cmocka_unit_test(test_stop_from_reactor),
		cmocka_unit_test(test_start_pinned),
		cmocka_unit_test(test_post_from_threads),
		cmocka_unit_test(test_live_reactor),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

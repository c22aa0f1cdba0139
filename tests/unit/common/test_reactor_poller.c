/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Reactor pollers (src/common/reactor.h): work is picked up promptly,
 * a busy poller keeps the loop from sleeping, an idle one backs off so
 * that it costs little CPU, and pollers may remove themselves.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "common/reactor.h"

#define MS 1000000ull
#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static uint64_t cpu_ns(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ((uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec) * 1000000000ull +
	       ((uint64_t)ru.ru_utime.tv_usec + (uint64_t)ru.ru_stime.tv_usec) * 1000ull;
}

/* A "doorbell": the test thread rings it, the poller takes what is there. */
struct bell {
	struct fdr_poller p;
	int rung;      /* atomic: written by the test thread */
	int taken;     /* atomic: work the poller found */
	unsigned calls;
	bool always_busy;
	struct fdr_reactor *r;
	struct bell *del_other; /* delete this one, and itself, when called */
};

static int bell_poll(struct fdr_poller *p)
{
	struct bell *b = container_of(p, struct bell, p);
	int n;

	__atomic_add_fetch(&b->calls, 1, __ATOMIC_RELAXED);
	if (b->del_other) {
		fdr_reactor_poller_del(b->r, &b->del_other->p);
		fdr_reactor_poller_del(b->r, p);
		return 0;
	}
	if (b->always_busy)
		return 1;
	n = __atomic_exchange_n(&b->rung, 0, __ATOMIC_ACQ_REL);
	if (n)
		__atomic_add_fetch(&b->taken, n, __ATOMIC_RELEASE);
	return n;
}

static void bell_init(struct bell *b, struct fdr_reactor *r)
{
	memset(b, 0, sizeof(*b));
	b->p.fn = bell_poll;
	b->r = r;
}

static void test_work_picked_up(void **state)
{
	struct fdr_reactor *r = fdr_reactor_create(0);
	struct bell b;

	(void)state;
	assert_non_null(r);
	bell_init(&b, r);
	fdr_reactor_poller_add(r, &b.p);
	assert_int_equal(fdr_reactor_start(r, -1), 0);
	/* Rings after the poller went idle and after it backed off fully
	 * are each taken within the longest sleep (plus slack). */
	for (int round = 0; round < 5; round++) {
		sleep_ms(round == 0 ? 1 : 30);
		uint64_t t0 = fdr_now_ns();
		__atomic_add_fetch(&b.rung, 1, __ATOMIC_RELEASE);
		while (__atomic_load_n(&b.taken, __ATOMIC_ACQUIRE) < round + 1 &&
		       fdr_now_ns() - t0 < 2000 * MS)
			sleep_ms(0);
		assert_int_equal(__atomic_load_n(&b.taken, __ATOMIC_ACQUIRE), round + 1);
		assert_true(fdr_now_ns() - t0 < FDR_POLL_SLEEP_MAX_NS + 100 * MS);
	}
	fdr_reactor_stop(r);
	fdr_reactor_join(r);
	fdr_reactor_destroy(r);
}

static void test_idle_cpu_low(void **state)
{
	struct fdr_reactor *r = fdr_reactor_create(0);
	uint64_t rounds0, rounds1, busy, c0, c1, t0, t1;
	struct bell b;

	(void)state;
	assert_non_null(r);
	bell_init(&b, r);
	fdr_reactor_poller_add(r, &b.p);
	assert_int_equal(fdr_reactor_start(r, -1), 0);
	sleep_ms(20); /* past the idle period and the back-off */
	fdr_reactor_poller_stats(r, &rounds0, &busy);
	c0 = cpu_ns();
	t0 = fdr_now_ns();
	sleep_ms(200);
	c1 = cpu_ns();
	t1 = fdr_now_ns();
	fdr_reactor_poller_stats(r, &rounds1, &busy);
	fdr_reactor_stop(r);
	fdr_reactor_join(r);
	fdr_reactor_destroy(r);

	double cpu = (double)(c1 - c0) / (double)(t1 - t0);
	print_message("idle poller: %.1f %% of a core, %llu rounds in %llu ms\n", cpu * 100,
		      (unsigned long long)(rounds1 - rounds0),
		      (unsigned long long)((t1 - t0) / MS));
	assert_true(cpu < 0.10); /* a busy poll would be ~100 % */
	/* It still polls while idle, at the longest sleep or faster. */
	assert_true(rounds1 - rounds0 >= 200 * MS / (FDR_POLL_SLEEP_MAX_NS * 2));
	assert_true(rounds1 - rounds0 < 2000);
	assert_int_equal(busy, 0);
}

/* With work every round the loop never sleeps, even told to wait forever. */
static void test_busy_does_not_sleep(void **state)
{
	struct fdr_reactor *r = fdr_reactor_create(0);
	uint64_t rounds, busy, t0;
	struct bell b;

	(void)state;
	assert_non_null(r);
	bell_init(&b, r);
	b.always_busy = true;
	fdr_reactor_poller_add(r, &b.p);
	t0 = fdr_now_ns();
	for (int i = 0; i < 2000; i++)
		fdr_reactor_poll(r, -1);
	assert_true(fdr_now_ns() - t0 < 1000 * MS); /* 2000 sleeps would be >= 2 s */
	fdr_reactor_poller_stats(r, &rounds, &busy);
	assert_int_equal(rounds, 2000);
	assert_int_equal(busy, 2000);
	assert_int_equal(b.calls, 2000);
	fdr_reactor_poller_del(r, &b.p);
	fdr_reactor_destroy(r);
}

/* Idle, a wait-forever iteration still returns (to poll again), and the
 * sleeps grow: the first ones are short. */
static void test_idle_backoff(void **state)
{
	struct fdr_reactor *r = fdr_reactor_create(0);
	struct bell b;
	uint64_t t0, first, total;

	(void)state;
	assert_non_null(r);
	bell_init(&b, r);
	fdr_reactor_poller_add(r, &b.p);
	t0 = fdr_now_ns();
	while (fdr_now_ns() - t0 < FDR_POLL_IDLE_NS + 50000) /* busy period */
		fdr_reactor_poll(r, -1);
	t0 = fdr_now_ns();
	fdr_reactor_poll(r, -1);
	first = fdr_now_ns() - t0;
	for (int i = 0; i < 9; i++)
		fdr_reactor_poll(r, -1);
	total = fdr_now_ns() - t0;
	assert_true(first < FDR_POLL_SLEEP_MIN_NS + 20 * MS);
	/* The ten sleeps, each twice the last up to the longest. */
	uint64_t want = 0, s = FDR_POLL_SLEEP_MIN_NS;

	for (int i = 0; i < 10; i++, s = s * 2 < FDR_POLL_SLEEP_MAX_NS ? s * 2 : FDR_POLL_SLEEP_MAX_NS)
		want += s;
	assert_true(total >= want);
	assert_true(total < 10 * FDR_POLL_SLEEP_MAX_NS + 200 * MS);
	/* A rung bell makes it busy again. */
	b.rung = 1;
	fdr_reactor_poll(r, -1);
	assert_int_equal(b.taken, 1);
	t0 = fdr_now_ns();
	fdr_reactor_poll(r, -1);
	assert_true(fdr_now_ns() - t0 < 1 * MS / 2 + FDR_POLL_SLEEP_MIN_NS);
	fdr_reactor_poller_del(r, &b.p);
	fdr_reactor_destroy(r);
}

static void test_del_from_callback(void **state)
{
	struct fdr_reactor *r = fdr_reactor_create(0);
	struct bell a, b, c;

	(void)state;
	assert_non_null(r);
	bell_init(&a, r);
	bell_init(&b, r);
	bell_init(&c, r);
	c.always_busy = true;
	fdr_reactor_poller_add(r, &c.p);
	fdr_reactor_poller_add(r, &b.p);
	fdr_reactor_poller_add(r, &a.p); /* runs first: added last */
	fdr_reactor_poller_add(r, &a.p); /* twice is once */
	a.del_other = &b;
	fdr_reactor_poll(r, 0);
	assert_int_equal(a.calls, 1);
	assert_int_equal(b.calls, 0); /* deleted before its turn */
	assert_int_equal(c.calls, 1);
	fdr_reactor_poll(r, 0);
	assert_int_equal(a.calls, 1);
	assert_int_equal(b.calls, 0);
	assert_int_equal(c.calls, 2);
	fdr_reactor_poller_del(r, &a.p); /* not added: no-op */
	fdr_reactor_poller_del(r, &c.p);
	fdr_reactor_poll(r, 0);
	assert_int_equal(c.calls, 2);
	fdr_reactor_destroy(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_work_picked_up),
		cmocka_unit_test(test_idle_cpu_low),
		cmocka_unit_test(test_busy_does_not_sleep),
		cmocka_unit_test(test_idle_backoff),
		cmocka_unit_test(test_del_from_callback),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

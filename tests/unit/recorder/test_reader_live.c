/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The recorder's reader as a live reader (nvmedump -i) uses it: opened
 * from a descriptor, started at the head or the oldest event, polled with
 * fdr_rec_reader_ready(), told when the writers are gone; and a reader
 * following a writer thread that laps it: nothing torn is ever returned,
 * sequence numbers only grow, and read + lost is exactly what was written.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "recorder/recorder.h"

static char g_dir[64];
static char g_path[128];
static char g_err[256];

static int setup(void **state)
{
	snprintf(g_dir, sizeof(g_dir), "/tmp/fdr-rec-live-XXXXXX");
	if (!mkdtemp(g_dir))
		return -1;
	snprintf(g_path, sizeof(g_path), "%s/ring", g_dir);
	return 0;
}

static int teardown(void **state)
{
	fdr_rec_close();
	unlink(g_path);
	rmdir(g_dir);
	return 0;
}

static void open_ring(uint64_t nr)
{
	struct fdr_rec_opts o = {.path = g_path, .nr_slots = nr, .dev = "nqn.test:live"};

	assert_int_equal(fdr_rec_open(&o, g_err, sizeof(g_err)), 0);
}

/* Event i: a DATA event whose offset and every byte derive from i. */
static void emit(uint32_t i)
{
	struct fdr_rec_event *ev = fdr_rec_begin(FDR_REC_DATA);

	assert_non_null(ev);
	ev->cid = (uint16_t)i;
	ev->len = sizeof(ev->u.data.bytes);
	ev->u.data.offset = i;
	memset(ev->u.data.bytes, (int)(i * 7 + 3), sizeof(ev->u.data.bytes));
	fdr_rec_commit(ev);
}

/* Whole: every field as emit() wrote it for its sequence number. */
static bool intact(const struct fdr_rec_event *ev)
{
	uint32_t i = (uint32_t)(ev->seq - 1);
	uint8_t b = (uint8_t)(i * 7 + 3);

	if (ev->kind != FDR_REC_DATA || ev->cid != (uint16_t)i || ev->u.data.offset != i)
		return false;
	for (size_t k = 0; k < sizeof(ev->u.data.bytes); k++)
		if (ev->u.data.bytes[k] != b)
			return false;
	return true;
}

static struct fdr_rec_reader *open_fd_reader(void)
{
	int fd = open(g_path, O_RDONLY | O_CLOEXEC);
	struct fdr_rec_reader *r;

	assert_true(fd >= 0);
	r = fdr_rec_reader_open_fd(fd, "ring-fd", g_err, sizeof(g_err));
	close(fd); /* the mapping stays */
	if (!r)
		print_error("%s\n", g_err);
	assert_non_null(r);
	return r;
}

static void test_open_fd_errors(void **state)
{
	int fd;

	assert_null(fdr_rec_reader_open_fd(-1, "x", g_err, sizeof(g_err)));
	assert_non_null(strstr(g_err, "no descriptor"));
	fd = open("/dev/null", O_RDONLY);
	assert_true(fd >= 0);
	assert_null(fdr_rec_reader_open_fd(fd, "devnull", g_err, sizeof(g_err)));
	assert_non_null(strstr(g_err, "devnull: not a regular file"));
	close(fd);
}

static void test_seek_head_and_oldest(void **state)
{
	struct fdr_rec_reader *r;
	struct fdr_rec_event ev;

	open_ring(16);
	for (uint32_t i = 0; i < 40; i++)
		emit(i);
	r = open_fd_reader();
	assert_int_equal(fdr_rec_reader_head(r), 40);
	assert_int_equal(fdr_rec_reader_tell(r), 0);

	/* At the head: nothing yet, nothing lost; then only what follows. */
	fdr_rec_reader_seek(r, fdr_rec_reader_head(r));
	assert_false(fdr_rec_reader_ready(r));
	assert_int_equal(fdr_rec_reader_next(r, &ev), 0);
	emit(40);
	emit(41);
	assert_true(fdr_rec_reader_ready(r));
	assert_int_equal(fdr_rec_reader_next(r, &ev), 1);
	assert_int_equal(ev.seq, 41);
	assert_true(intact(&ev));
	assert_int_equal(fdr_rec_reader_next(r, &ev), 1);
	assert_int_equal(ev.seq, 42);
	assert_int_equal(fdr_rec_reader_next(r, &ev), 0);
	assert_int_equal(fdr_rec_reader_lost(r), 0);
	assert_int_equal(fdr_rec_reader_tell(r), 42);

	/* The oldest the ring holds: 16 events, none lost (a seek is no loss). */
	fdr_rec_reader_seek(r, fdr_rec_reader_head(r) - 16);
	for (uint64_t s = 42 - 16; s < 42; s++) {
		assert_int_equal(fdr_rec_reader_next(r, &ev), 1);
		assert_int_equal(ev.seq, s + 1);
		assert_true(intact(&ev));
	}
	assert_int_equal(fdr_rec_reader_next(r, &ev), 0);
	assert_int_equal(fdr_rec_reader_lost(r), 0);

	/* Lapped while not looking: the overwritten ones count as lost. */
	for (uint32_t i = 42; i < 42 + 20; i++)
		emit(i);
	assert_int_equal(fdr_rec_reader_next(r, &ev), 1);
	assert_int_equal(ev.seq, 62 - 16 + 1);
	assert_int_equal(fdr_rec_reader_lost(r), 4);
	fdr_rec_reader_close(r);
}

/* A slot begun and never committed (its writer died): waited for while
 * the writer may come back, lost at once after writers_gone(). */
static void test_writers_gone(void **state)
{
	struct fdr_rec_reader *r;
	struct fdr_rec_event ev, *held;

	open_ring(16);
	emit(0);
	held = fdr_rec_begin(FDR_REC_DATA); /* seq 1, never committed */
	assert_non_null(held);
	r = open_fd_reader();
	assert_int_equal(fdr_rec_reader_next(r, &ev), 1);
	assert_int_equal(fdr_rec_reader_next(r, &ev), 0); /* waits for seq 1 */
	assert_int_equal(fdr_rec_reader_lost(r), 0);
	fdr_rec_reader_writers_gone(r);
	assert_int_equal(fdr_rec_reader_next(r, &ev), 0);
	assert_int_equal(fdr_rec_reader_lost(r), 1);
	assert_int_equal(fdr_rec_reader_tell(r), 2);
	fdr_rec_reader_close(r);
}

/* ---- A writer thread lapping a live reader ---- */

#define NR_EVENTS 400000u

static volatile int g_writer_done;

static void *writer(void *arg)
{
	(void)arg;
	for (uint32_t i = 0; i < NR_EVENTS; i++) {
		emit(i);
		if (i % 4096 == 0)
			sched_yield(); /* let the reader fall behind and catch up */
	}
	__atomic_store_n(&g_writer_done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void test_follow_writer(void **state)
{
	struct fdr_rec_reader *r;
	struct fdr_rec_event ev;
	uint64_t read = 0, last = 0, torn = 0;
	pthread_t t;

	open_ring(1024);
	r = open_fd_reader();
	fdr_rec_reader_seek(r, fdr_rec_reader_head(r));
	g_writer_done = 0;
	assert_int_equal(pthread_create(&t, NULL, writer, NULL), 0);
	for (;;) {
		int n = fdr_rec_reader_next(r, &ev);

		assert_true(n >= 0);
		if (n == 1) {
			assert_true(ev.seq > last); /* only forward */
			last = ev.seq;
			torn += !intact(&ev);
			read++;
			continue;
		}
		if (__atomic_load_n(&g_writer_done, __ATOMIC_ACQUIRE) &&
		    fdr_rec_reader_tell(r) == fdr_rec_reader_head(r))
			break;
	}
	pthread_join(t, NULL);
	printf("# %u events written, %llu read, %llu lost\n", NR_EVENTS,
	       (unsigned long long)read, (unsigned long long)fdr_rec_reader_lost(r));
	assert_int_equal(torn, 0);
	assert_int_equal(read + fdr_rec_reader_lost(r), NR_EVENTS);
	assert_int_equal(last, NR_EVENTS);
	fdr_rec_reader_close(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_fd_errors),
		cmocka_unit_test_setup_teardown(test_seek_head_and_oldest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_writers_gone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_follow_writer, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

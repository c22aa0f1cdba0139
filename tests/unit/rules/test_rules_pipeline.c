/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Fault rules through the real pipeline (the core tests' harness: real
 * controllers and RAM namespaces behind a fake transport): every trigger
 * (after, every, prob with its seed, times, window on a fake clock, when),
 * every action (status at each stage, success-no-write, corrupt on reads
 * and writes, delay, drop, aen, cfs, none), the filters, removal, the log
 * rate limit, and rules changing while a reactor runs commands.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "core/core.h"
#include "core/tap.h"
#include "harness.h"
#include "rules/rules.h"

#define MEDIA SC(MEDIA_ERROR, UNRECOVERED_READ_ERROR)
#define INTERNAL SC(GENERIC, INTERNAL)
#define WRITE_TO_RO NVME_STATUS(NVME_SCT_COMMAND_SPECIFIC, NVME_SC_ATTEMPTED_WRITE_TO_RO_RANGE)

static uint8_t wbuf[64 * 1024];
static uint8_t rbuf[64 * 1024];
static uint8_t ref[64 * 1024];

/* ---- Helpers ---------------------------------------------------------------------- */

static uint64_t fake_now;

static uint64_t fake_clock(void)
{
	return fake_now;
}

static int add(const char *text)
{
	char e[1024];
	int id = fdr_rule_add(text, e, sizeof(e));

	if (id <= 0)
		fail_msg("rule \"%s\" refused: %s", text, e);
	return id;
}

struct info_q {
	unsigned id;
	bool found;
	struct fdr_rule_info ri;
};

static void info_cb(const struct fdr_rule_info *ri, void *arg)
{
	struct info_q *q = arg;

	if (ri->id == q->id) {
		q->found = true;
		q->ri = *ri;
		q->ri.text = NULL; /* valid during the call only */
		q->ri.name = NULL;
		q->ri.tap = NULL;
	}
}

static struct fdr_rule_info info(int id)
{
	struct info_q q = {.id = (unsigned)id};

	fdr_rule_foreach(info_cb, &q);
	assert_true(q.found);
	return q.ri;
}

static struct nvme_sqe rw(uint8_t opc, uint32_t nsid, uint64_t slba, uint32_t nlb)
{
	struct nvme_sqe c = {.opc = opc,
			     .nsid = nsid,
			     .cdw10 = (uint32_t)slba,
			     .cdw11 = (uint32_t)(slba >> 32),
			     .cdw12 = (nlb - 1) & 0xffff};
	return c;
}

/* 512-byte LBAs on namespaces 1 and 3 */
static uint16_t wr(struct fdr_queue *q, uint32_t nsid, uint64_t slba, uint32_t nlb, const void *buf)
{
	struct nvme_sqe c = rw(NVME_IO_WRITE, nsid, slba, nlb);

	return h_cmd(q, &c, buf, nlb * 512, NULL, 0, NULL);
}

static uint16_t rd(struct fdr_queue *q, uint32_t nsid, uint64_t slba, uint32_t nlb, void *buf)
{
	struct nvme_sqe c = rw(NVME_IO_READ, nsid, slba, nlb);

	return h_cmd(q, &c, NULL, 0, buf, nlb * 512, NULL);
}

static uint16_t flush(struct fdr_queue *q, uint32_t nsid)
{
	struct nvme_sqe c = {.opc = NVME_IO_FLUSH, .nsid = nsid};

	return h_cmd(q, &c, NULL, 0, NULL, 0, NULL);
}

static void fill(uint8_t *buf, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(i * 7 + seed * 13 + (i >> 8));
}

static uint32_t csts(struct fdr_queue *aq)
{
	uint64_t v = 0;

	assert_int_equal(h_prop_get(aq, NVME_REG_CSTS, 4, &v), 0);
	return (uint32_t)v;
}

static uint16_t submit_aer(struct fdr_queue *aq)
{
	struct nvme_sqe c = {.opc = NVME_ADM_ASYNC_EVENT_REQUEST};

	return h_submit(aq, &c);
}

/* Submitting from a message makes the reactor the current one, as it is
 * for a real transport: delays need it. */
struct sub {
	struct fdr_queue *q;
	struct nvme_sqe sqe;
	uint16_t cid;
};

static void sub_msg(void *arg)
{
	struct sub *s = arg;

	s->cid = h_submit(s->q, &s->sqe);
}

static uint16_t submit_on_reactor(struct harness *h, struct fdr_queue *q,
				  const struct nvme_sqe *sqe)
{
	struct sub s = {.q = q, .sqe = *sqe};

	assert_int_equal(fdr_reactor_post(h->r, sub_msg, &s), 0);
	for (int i = 0; i < 100 && !s.cid; i++)
		fdr_reactor_poll(h->r, 10);
	assert_true(s.cid != 0);
	return s.cid;
}

static int r_setup(void **state)
{
	fake_now = 1000ull * 1000000000ull;
	return h_setup(state);
}

static int r_teardown(void **state)
{
	fdr_rules_clear();
	fdr_rules_set_clock(NULL);
	fdr_rules_init(NULL);
	fdr_tap_set_reactors(NULL, 0);
	h_set_in_capsule(false);
	fdr_log_set_level(FDR_LOG_ERR);
	return h_teardown(state);
}

/* ---- Triggers ------------------------------------------------------------------------ */

/* Fail the 3rd write only. */
static void test_after_times(void **state)
{
	struct harness *h = *state;
	struct fdr_queue *q = h_io_queue(h, 1);
	struct fdr_rule_info ri;
	int id = add("opc=write,after=2,times=1,status=1/0x82");

	fill(wbuf, 4096, 1);
	for (unsigned i = 1; i <= 5; i++)
		assert_int_equal(wr(q, 1, i * 8, 8, wbuf), i == 3 ? WRITE_TO_RO : 0);
	ri = info(id);
	assert_int_equal(ri.matches, 5);
	assert_int_equal(ri.fired, 1);
	assert_false(ri.armed); /* times used up */
	/* The failed write never reached the media. */
	assert_int_equal(rd(q, 1, 24, 8, rbuf), 0);
	memset(ref, 0, 4096);
	assert_memory_equal(rbuf, ref, 4096);
	assert_int_equal(rd(q, 1, 32, 8, rbuf), 0);
	assert_memory_equal(rbuf, wbuf, 4096);
	/* Reads do not match. */
	assert_int_equal(info(id).matches, 5);
}

static void test_every(void **state)
{
	struct harness *h = *state;
	struct fdr_queue *q = h_io_queue(h, 1);
	int id = add("opc=write,every=3,status=media");

	for (unsigned i = 1; i <= 9; i++)
		assert_int_equal(wr(q, 1, i, 1, wbuf), i % 3 == 0 ? MEDIA : 0);
	assert_int_equal(info(id).fired, 3);
	fdr_rules_clear();

	/* after= skips first, every= counts from there: 3rd, 5th, 7th. */
	id = add("opc=read,after=1,every=2,status=media");
	for (unsigned i = 1; i <= 7; i++)
		assert_int_equal(rd(q, 1, 0, 1, rbuf), (i == 3 || i == 5 || i == 7) ? MEDIA : 0);
	assert_int_equal(info(id).fired, 3);
	assert_int_equal(info(id).matches, 7);
}

static uint64_t prob_pattern(struct fdr_queue *q, const char *rule, unsigned *count)
{
	int id = add(rule);
	uint64_t bits[2] = {0, 0};

	*count = 0;
	for (unsigned i = 0; i < 128; i++) {
		uint16_t st = rd(q, 1, i, 1, rbuf);
		assert_true(st == 0 || st == MEDIA);
		if (st) {
			bits[i / 64] |= 1ull << (i % 64);
			(*count)++;
		}
	}
	assert_int_equal(info(id).fired, *count);
	assert_int_equal(info(id).matches, 128);
	assert_int_equal(fdr_rule_del((unsigned)id), 0);
	return bits[0] ^ (bits[1] * 0x9e3779b97f4a7c15ull);
}

static void test_prob_seed(void **state)
{
	struct harness *h = *state;
	struct fdr_queue *q = h_io_queue(h, 1);
	unsigned n1, n2, n3, n;
	uint64_t p1, p2, p3;

	p1 = prob_pattern(q, "opc=read,prob=0.3,seed=42,status=media", &n1);
	p2 = prob_pattern(q, "opc=read,prob=0.3,seed=42,status=media", &n2);
	p3 = prob_pattern(q, "opc=read,prob=30%,seed=43,status=media", &n3);
	assert_int_equal(n1, n2);
	assert_true(p1 == p2); /* the same seed: the same commands fail */
	assert_true(p1 != p3);
	/* 128 draws at 0.3: 38 expected; far outside 20..60 means broken. */
	assert_in_range(n1, 20, 60);
	assert_in_range(n3, 20, 60);
	prob_pattern(q, "opc=read,prob=0,seed=1,status=media", &n);
	assert_int_equal(n, 0);
	prob_pattern(q, "opc=read,prob=1,status=media", &n);
	assert_int_equal(n, 128);
}

static void test_times(void **state)
{
	struct harness *h = *state;
	struct fdr_queue *q = h_io_queue(h, 1);
	int id = add("opc=flush,times=2,status=internal");

	assert_true(info(id).armed);
	assert_int_equal(flush(q, 1), INTERNAL);
	assert_int_equal(flush(q, 1), INTERNAL);
	assert_int_equal(flush(q, 1), 0);
	assert_int_equal(flush(q, 1), 0);
	assert_int_equal(info(id).fired, 2);
	assert_int_equal(info(id).matches, 4);
	assert_false(info(id).armed);
}

static void test_window(void **state)
{
	struct harness *h = *state;
	struct fdr_queue *q = h_io_queue(h, 1);
	const uint64_t s = 1000000000ull, t0 = fake_now;
	int id;

	fdr_rules_set_clock(fake_clock);
	id = add("opc=write,window=10:5,status=media");
	/* healthy 10 s, faulty 5 s, again and again, from the rule's creation */
	static const struct {
		uint64_t at_ms;
		bool faulty;
	} steps[] = {{0, false},     {9999, false}, {10000, true}, {14999, true},
		     {15000, false}, {24999, false}, {25000, true}, {29999, true},
		     {30000, false}, {100000, true}};
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		fake_now = t0 + steps[i].at_ms * (s / 1000);
		assert_int_equal(info(id).armed, steps[i].faulty);
		assert_int_equal(wr(q, 1, 0, 1, wbuf), steps[i].faulty ? MEDIA : 0);
	}
	assert_int_equal(info(id).fired, 5);
	assert_int_equal(info(id).matches, 10);
	fdr_rules_clear();

	/* Windows count like the other triggers: only faulty-phase matches
	 * count for after= (the first faulty write is skipped). */
	fake_now = t0;
	id = add("opc=write,window=100ms:100ms,after=1,status=media");
	assert_int_equal(wr(q, 1, 0, 1, wbuf), 0);
	fake_now = t0 + 150 * (s / 1000);
	assert_int_equal(wr(q, 1, 0, 1, wbuf), 0);
	assert_int_equal(wr(q, 1, 0, 1, wbuf), MEDIA);
	fake_now = t0 + 250 * (s / 1000);
	assert_int_equal(wr(q, 1, 0, 1, wbuf), 0);
}

/* Fail only the 2nd flush after the 3rd write (docs: the 100th). */
static void test_when_chain(void **state)
{
	struct harness *h = *state;
	struct fdr_queue *q = h_io_queue(h, 1);
	int w3 = add("name=w3,opc=write,after=2,times=1,action=none");
	int f = add("opc=flush,when=w3,after=1,times=1,status=0/6");

	assert_false(info(f).armed);
	assert_int_equal(flush(q, 1), 0); /* w3 has not fired: not counted */
	assert_int_equal(wr(q, 1, 0, 1, wbuf), 0);
	assert_int_equal(wr(q, 1, 0, 1, wbuf), 0);
	assert_int_equal(flush(q, 1), 0);
	assert_int_equal(info(w3).fired, 0);
	assert_int_equal(wr(q, 1, 0, 1, wbuf), 0); /* none: counts, arms, nothing else */
	assert_int_equal(info(w3).fired, 1);
	assert_true(info(f).armed);
	assert_int_equal(flush(q, 1), 0); /* 1st after: skipped */
	assert_int_equal(flush(q, 1), INTERNAL);
	assert_int_equal(flush(q, 1), 0);
	assert_int_equal(wr(q, 1, 0, 1, wbuf), 0);
	assert_int_equal(info(f).fired, 1);
	assert_int_equal(info(f).matches, 5);
	fdr_rules_clear();

	/* Removing the rule named by when= disarms its dependents. */
	int gate = add("name=gate,opc=read,times=1,none");
	f = add("opc=flush,when=gate,status=internal");
	assert_int_equal(flush(q, 1), 0);
	assert_int_equal(rd(q, 1, 0, 1, rbuf), 0);
	assert_int_equal(flush(q, 1), INTERNAL);
	assert_int_equal(fdr_rule_del((unsigned)gate), 0);
	assert_false(info(f).armed);
	assert_int_equal(flush(q, 1), 0);
	/* A new rule of the same name is another rule: still disarmed. */
	gate = add("name=gate,opc=read,none");
	assert_int_equal(rd(q, 1, 0, 1, rbuf), 0);
	assert_int_equal(flush(q, 1), 0);
}

/* ---- Actions --------------------------------------------------------------------------- */

static void test_status_stages(void **state)
{
	struct harness *h = *state;
	struct fdr_queue *q = h_io_queue(h, 1);

	/* fetch and execute: the command fails and nothing is written
	 * (at execute the data has arrived already). */
	fill(wbuf, 4096, 2);
	add("opc=write,tap=fetch,times=1,status=internal/dnr");
	assert_int_equal(wr(q, 1, 300, 8, wbuf), INTERNAL | NVME_STATUS_DNR);
	fdr_rules_clear();
	add("opc=write,tap=execute,times=1,status=write-fault");
	assert_int_equal(wr(q, 1, 300, 8, wbuf), SC(MEDIA_ERROR, WRITE_FAULT));
	assert_int_equal(rd(q, 1, 300, 8, rbuf), 0);
	memset(ref, 0, 4096);
	assert_memory_equal(rbuf, ref, 4096);
	fdr_rules_clear();

	/* writeback: the write happened, the host is told it failed. */
	add("opc=write,tap=writeback,times=1,status=write-fault");
	assert_int_equal(wr(q, 1, 300, 8, wbuf), SC(MEDIA_ERROR, WRITE_FAULT));
	assert_int_equal(rd(q, 1, 300, 8, rbuf), 0);
	assert_memory_equal(rbuf, wbuf, 4096);
	fdr_rules_clear();

	/* ... or that an error was a success. */
	add("opc=read,tap=writeback,times=1,status=success");
	assert_int_equal(rd(q, 1, 0xffffff, 1, rbuf), 0);
	assert_int_equal(rd(q, 1, 0xffffff, 1, rbuf), SC_DNR(GENERIC, LBA_OUT_OF_RANGE));
}

/* The seed's silent failure: success, and nothing written. */
static void test_success_no_write(void **state)
{
	struct harness *h = *state;
	struct fdr_queue *q = h_io_queue(h, 1);
	int id;

	fill(wbuf, 4096, 3);
	assert_int_equal(wr(q, 1, 40, 8, wbuf), 0);
	id = add("opc=write,lba=40-47,success-no-write");
	fill(wbuf + 4096, 4096, 4);
	assert_int_equal(wr(q, 1, 40, 8, wbuf + 4096), 0);
	assert_int_equal(rd(q, 1, 40, 8, rbuf), 0);
	assert_memory_equal(rbuf, wbuf, 4096); /* the old data */
	/* Outside the range: written. */
	assert_int_equal(wr(q, 1, 100, 8, wbuf + 4096), 0);
	assert_int_equal(rd(q, 1, 100, 8, rbuf), 0);
	assert_memory_equal(rbuf, wbuf + 4096, 4096);
	assert_int_equal(info(id).fired, 1);
}

/* Which bytes differ, and by what. */
static unsigned diff(const uint8_t *a, const uint8_t *b, size_t len, uint8_t mask, unsigned *first)
{
	unsigned n = 0;

	for (size_t i = 0; i < len; i++) {
		if (a[i] == b[i])
			continue;
		assert_int_equal(a[i] ^ b[i], mask);
		if (!n)
			*first = (unsigned)i;
		n++;
	}
	return n;
}

static void test_corrupt_read(void **state)
{
	struct harness *h = *state;
	struct fdr_queue *q = h_io_queue(h, 1);
	unsigned first = 0, n;
	uint8_t r2[4096];

	fill(wbuf, 4096, 5);
	assert_int_equal(wr(q, 1, 0, 8, wbuf), 0);
	int id = add("opc=read,times=1,corrupt=4:0x01@100");
	assert_int_equal(rd(q, 1, 0, 8, rbuf), 0);
	assert_int_equal(diff(rbuf, wbuf, 4096, 0x01, &first), 4);
	assert_int_equal(first, 100);
	for (unsigned i = 100; i < 104; i++)
		assert_int_equal(rbuf[i], wbuf[i] ^ 0x01);
	assert_int_equal(info(id).fired, 1);
	/* Only what the host saw: the media is intact. */
	assert_int_equal(rd(q, 1, 0, 8, rbuf), 0);
	assert_memory_equal(rbuf, wbuf, 4096);
	fdr_rules_clear();

	/* Spread at random: exactly N bytes, the same ones for the same seed. */
	add("opc=read,times=1,corrupt=5,seed=7");
	assert_int_equal(rd(q, 1, 0, 8, rbuf), 0);
	n = diff(rbuf, wbuf, 4096, 0xff, &first);
	assert_int_equal(n, 5);
	fdr_rules_clear();
	add("opc=read,times=1,corrupt=5,seed=7");
	assert_int_equal(rd(q, 1, 0, 8, r2), 0);
	assert_memory_equal(rbuf, r2, 4096);
	fdr_rules_clear();

	/* A failed read has no data: no match. */
	id = add("opc=read,corrupt");
	assert_int_equal(rd(q, 1, 0xffffff, 1, rbuf), SC_DNR(GENERIC, LBA_OUT_OF_RANGE));
	assert_int_equal(info(id).matches, 0);
	/* More bytes than the data: all of it. */
	fdr_rules_clear();
	add("opc=read,times=1,corrupt=100000:0x80");
	assert_int_equal(rd(q, 1, 0, 1, rbuf), 0);
	assert_int_equal(diff(rbuf, wbuf, 512, 0x80, &first), 512);
}

static void test_corrupt_write(void **state)
{
	struct harness *h = *state;
	struct fdr_queue *q = h_io_queue(h, 1);
	unsigned first = 0;

	fill(wbuf, 4096, 6);
	int id = add("opc=write,times=2,corrupt=2@0");
	assert_int_equal(wr(q, 1, 200, 8, wbuf), 0);
	assert_int_equal(rd(q, 1, 200, 8, rbuf), 0);
	assert_int_equal(diff(rbuf, wbuf, 4096, 0xff, &first), 2);
	assert_int_equal(first, 0);
	/* In-capsule data is corrupted the same way. */
	h_set_in_capsule(true);
	assert_int_equal(wr(q, 1, 208, 8, wbuf), 0);
	h_set_in_capsule(false);
	assert_int_equal(rd(q, 1, 208, 8, rbuf), 0);
	assert_int_equal(diff(rbuf, wbuf, 4096, 0xff, &first), 2);
	assert_int_equal(info(id).fired, 2);
	/* times used up: clean again */
	assert_int_equal(wr(q, 1, 216, 8, wbuf), 0);
	assert_int_equal(rd(q, 1, 216, 8, rbuf), 0);
	assert_memory_equal(rbuf, wbuf, 4096);
}

static void test_delay(void **state)
{
	struct harness *h = *state;
	struct fdr_queue *q = h_io_queue(h, 1);
	struct nvme_sqe c = rw(NVME_IO_READ, 1, 0, 1);
	uint16_t cid, status = 0xffff;
	uint64_t t0, t;
	int id = add("opc=read,delay=30ms");

	t0 = fdr_now_ns();
	cid = submit_on_reactor(h, q, &c);
	assert_false(h_done(cid, NULL, NULL));
	fdr_reactor_poll(h->r, 0);
	assert_false(h_done(cid, NULL, NULL));
	while (!h_done(cid, &status, NULL) && fdr_now_ns() - t0 < 5000000000ull)
		fdr_reactor_poll(h->r, 100);
	t = fdr_now_ns() - t0;
	assert_true(h_done(cid, &status, NULL));
	assert_int_equal(status, 0);
	assert_true(t >= 30000000ull);
	assert_int_equal(info(id).fired, 1);

	/* A write delayed at decode gets its data afterwards and is written. */
	fdr_rules_clear();
	add("opc=flush,delay=1ms");
	c = (struct nvme_sqe){.opc = NVME_IO_FLUSH, .nsid = 1};
	cid = submit_on_reactor(h, q, &c);
	assert_false(h_done(cid, NULL, NULL));
	t0 = fdr_now_ns();
	while (!h_done(cid, &status, NULL) && fdr_now_ns() - t0 < 5000000000ull)
		fdr_reactor_poll(h->r, 10);
	assert_int_equal(status, 0);
}

static void test_drop(void **state)
{
	struct harness *h = *state;
	struct fdr_queue *q = h_io_queue(h, 1);
	struct nvme_sqe c = rw(NVME_IO_WRITE, 1, 0, 1);
	uint16_t cid, status = 0xffff;
	int id = add("opc=write,times=1,drop");

	cid = h_submit(q, &c);
	h_poll(h);
	assert_false(h_done(cid, NULL, NULL));
	assert_int_equal(info(id).fired, 1);
	/* Others go by. */
	assert_int_equal(wr(q, 1, 0, 1, wbuf), 0);
	assert_int_equal(flush(q, 1), 0);
	assert_false(h_done(cid, NULL, NULL));
	/* The host gives up on the connection: aborted. */
	fdr_queue_close(q);
	assert_true(h_done(cid, &status, NULL));
	assert_int_equal(status, SC(GENERIC, ABORTED_SQ_DELETION));

	/* Dropped at writeback: executed, never reported; the abort on
	 * close is not dropped again. */
	fdr_rules_clear();
	q = h_io_queue(h, 2);
	fill(wbuf, 512, 9);
	assert_int_equal(wr(q, 1, 7, 1, wbuf), 0);
	id = add("opc=write,tap=writeback,drop");
	c = rw(NVME_IO_WRITE, 1, 7, 1);
	cid = h_submit(q, &c); /* the harness sends zeros for h_submit */
	assert_false(h_done(cid, NULL, NULL));
	assert_int_equal(rd(q, 1, 7, 1, rbuf), 0);
	memset(ref, 0, 512);
	assert_memory_equal(rbuf, ref, 512); /* written */
	fdr_queue_close(q);
	assert_true(h_done(cid, &status, NULL));
	assert_int_equal(status, SC(GENERIC, ABORTED_SQ_DELETION));
	assert_int_equal(info(id).fired, 1);
}

static void test_aen(void **state)
{
	struct harness *h = *state;
	struct fdr_queue *q = h_io_queue(h, 1);
	struct fdr_queue *aq2 = h_queue(h);
	static struct nvme_smart_log smart;
	static struct nvme_changed_ns_log changed;
	uint32_t cdw0 = 0;
	uint16_t a1, a2, b1, status = 0xffff;

	fdr_rules_init(h->t);
	/* A second controller of the same subsystem */
	assert_int_equal(h_connect(h, aq2, H_SUBNQN, 0, 0xffff, H_HOSTNQN), 0);
	assert_ptr_not_equal(aq2->ctrl, h->ctrl);
	assert_int_equal(h_set_feat(h->aq, NVME_FEAT_ASYNC_EVENT, 0, 0,
				    NVME_AEC_SMART_MASK | NVME_AEC_NS_ATTR, NULL, 0, NULL), 0);
	assert_int_equal(h_set_feat(aq2, NVME_FEAT_ASYNC_EVENT, 0, 0, NVME_AEC_SMART_MASK, NULL,
				    0, NULL), 0);
	a1 = submit_aer(h->aq);
	b1 = submit_aer(aq2);
	h_poll(h);
	assert_false(h_done(a1, NULL, NULL));

	/* Media gone read-only: every controller of the subsystem hears it,
	 * and the SMART log says why. */
	int id = add("opc=write,times=1,aen=smart:ro");
	assert_int_equal(wr(q, 1, 0, 1, wbuf), 0); /* the command itself goes on */
	h_poll(h);
	assert_true(h_done(a1, &status, &cdw0));
	assert_int_equal(status, 0);
	assert_int_equal(cdw0, NVME_AER_CDW0(NVME_AER_TYPE_SMART, NVME_AER_SMART_RELIABILITY,
					     NVME_LOG_SMART));
	assert_true(h_done(b1, &status, &cdw0));
	assert_int_equal(cdw0, NVME_AER_CDW0(NVME_AER_TYPE_SMART, NVME_AER_SMART_RELIABILITY,
					     NVME_LOG_SMART));
	assert_int_equal(h_get_log(h->aq, NVME_LOG_SMART, 0xffffffff, false, 0, &smart,
				   sizeof(smart)), 0);
	assert_true(smart.critical_warning & NVME_SMART_CRIT_READ_ONLY);
	assert_int_equal(info(id).fired, 1);

	/* A namespace change, on this controller only: the Changed Namespace
	 * List names it. */
	fdr_rules_clear();
	a2 = submit_aer(h->aq);
	b1 = submit_aer(aq2);
	add("opc=flush,ns=3,times=1,aen=notice:ns-changed,scope=ctrl");
	assert_int_equal(flush(q, 1), 0);
	assert_int_equal(flush(q, 3), 0);
	h_poll(h);
	assert_true(h_done(a2, &status, &cdw0));
	assert_int_equal(cdw0, NVME_AER_CDW0(NVME_AER_TYPE_NOTICE, NVME_AER_NOTICE_NS_CHANGED,
					     NVME_LOG_CHANGED_NS));
	assert_false(h_done(b1, NULL, NULL));
	assert_int_equal(h_get_log(h->aq, NVME_LOG_CHANGED_NS, 0, false, 0, &changed,
				   sizeof(changed)), 0);
	assert_int_equal(changed.nsid[0], 3);
	assert_int_equal(changed.nsid[1], 0);

	/* In numbers, to every controller of the target. */
	fdr_rules_clear();
	a2 = submit_aer(h->aq);
	add("opc=read,times=1,aen=0:0x04:0x01,scope=all");
	assert_int_equal(rd(q, 1, 0, 1, rbuf), 0);
	h_poll(h);
	assert_true(h_done(b1, &status, &cdw0));
	assert_int_equal(cdw0, NVME_AER_CDW0(NVME_AER_TYPE_ERROR, NVME_AER_ERR_TRANSIENT_INTERNAL,
					     NVME_LOG_ERROR));
	assert_true(h_done(a2, &status, &cdw0));
	assert_int_equal(cdw0, NVME_AER_CDW0(NVME_AER_TYPE_ERROR, NVME_AER_ERR_TRANSIENT_INTERNAL,
					     NVME_LOG_ERROR));
}

static void test_cfs(void **state)
{
	struct harness *h = *state;
	struct fdr_queue *q = h_io_queue(h, 1);
	struct fdr_queue *aq2 = h_queue(h);

	assert_int_equal(h_connect(h, aq2, H_SUBNQN, 0, 0xffff, H_HOSTNQN), 0);
	assert_int_equal(csts(h->aq) & NVME_CSTS_CFS, 0);
	int id = add("opc=flush,times=1,cfs");
	assert_int_equal(flush(q, 1), 0);
	assert_int_equal(info(id).fired, 1);
	/* The command's controller only */
	assert_true(csts(h->aq) & NVME_CSTS_CFS);
	assert_int_equal(csts(aq2) & NVME_CSTS_CFS, 0);
	fdr_rules_clear();
	add("opc=property-get,times=1,cfs,scope=subsys");
	csts(aq2);
	assert_true(csts(aq2) & NVME_CSTS_CFS);
}

static void test_none_counts(void **state)
{
	struct harness *h = *state;
	struct fdr_queue *q = h_io_queue(h, 1);
	int id = add("opc=write|read,every=2,none");

	for (unsigned i = 0; i < 5; i++) {
		assert_int_equal(wr(q, 1, i, 1, wbuf), 0);
		assert_int_equal(rd(q, 1, i, 1, rbuf), 0);
	}
	assert_int_equal(info(id).matches, 10);
	assert_int_equal(info(id).fired, 5);
}

/* ---- Filters ------------------------------------------------------------------------------ */

static void test_filters(void **state)
{
	struct harness *h = *state;
	struct fdr_queue *q = h_io_queue(h, 1);
	struct fdr_queue *q2;
	static uint8_t id_buf[4096];

	/* lba= intersects the command's range */
	add("lba=100-199,status=media");
	assert_int_equal(wr(q, 1, 50, 10, wbuf), 0);
	assert_int_equal(wr(q, 1, 91, 9, wbuf), 0);  /* 91..99 */
	assert_int_equal(wr(q, 1, 95, 10, wbuf), MEDIA); /* 95..104 */
	assert_int_equal(rd(q, 1, 199, 1, rbuf), MEDIA);
	assert_int_equal(wr(q, 1, 200, 8, wbuf), 0);
	assert_int_equal(flush(q, 1), 0); /* no LBAs: no match */
	fdr_rules_clear();

	add("opc=write,ns=3,status=media");
	assert_int_equal(wr(q, 1, 0, 1, wbuf), 0);
	assert_int_equal(wr(q, 3, 0, 1, wbuf), MEDIA);
	fdr_rules_clear();

	add("opc=write,host=nqn.2014-08.org.nvmexpress:uuid:someone-else,status=media");
	assert_int_equal(wr(q, 1, 0, 1, wbuf), 0);
	fdr_rules_clear();
	add("opc=write,host=" H_HOSTNQN ",subsys=" H_SUBNQN ",status=media");
	assert_int_equal(wr(q, 1, 0, 1, wbuf), MEDIA);
	fdr_rules_clear();

	add("opc=write,qid=2,status=media");
	q2 = h_io_queue(h, 2);
	assert_int_equal(wr(q, 1, 0, 1, wbuf), 0);
	assert_int_equal(wr(q2, 1, 0, 1, wbuf), MEDIA);
	fdr_rules_clear();

	char rule[64];
	snprintf(rule, sizeof(rule), "opc=write,ctrl=%u,status=media", h->ctrl->cntlid + 1);
	add(rule);
	assert_int_equal(wr(q, 1, 0, 1, wbuf), 0);
	fdr_rules_clear();
	snprintf(rule, sizeof(rule), "opc=write,ctrl=%u,status=media", h->ctrl->cntlid);
	add(rule);
	assert_int_equal(wr(q, 1, 0, 1, wbuf), MEDIA);
	fdr_rules_clear();

	/* Every admin command, but not the Fabrics ones (Connect, properties) */
	add("set=admin,status=internal");
	assert_int_equal(h_identify(h->aq, NVME_CNS_CTRL, 0, 0, id_buf), INTERNAL);
	assert_true(csts(h->aq) & NVME_CSTS_RDY);
	assert_int_equal(wr(q, 1, 0, 1, wbuf), 0);
	fdr_rules_clear();
	/* ... unless named */
	add("opc=property-get,times=1,status=internal");
	assert_int_equal(h_prop_get(h->aq, NVME_REG_CSTS, 4, NULL), INTERNAL);
	assert_true(csts(h->aq) & NVME_CSTS_RDY);
	fdr_rules_clear();
	/* Connect: qid= is the queue it connects */
	add("opc=connect,qid=3,status=1/0x82/dnr");
	assert_int_equal(h_connect(h, h_queue(h), H_SUBNQN, 3, h->ctrl->cntlid, H_HOSTNQN),
			 NVME_STATUS(1, 0x82) | NVME_STATUS_DNR);
	assert_int_equal(h_connect(h, h_queue(h), H_SUBNQN, 4, h->ctrl->cntlid, H_HOSTNQN), 0);
	assert_int_equal(h_connect(h, h_queue(h), H_SUBNQN, 0, 0xffff, H_HOSTNQN), 0);
	fdr_rules_clear();
	add("opc=connect,qid=0,times=1,status=1/0x82/dnr");
	assert_int_equal(h_connect(h, h_queue(h), H_SUBNQN, 5, h->ctrl->cntlid, H_HOSTNQN), 0);
	assert_int_equal(h_connect(h, h_queue(h), H_SUBNQN, 0, 0xffff, H_HOSTNQN),
			 NVME_STATUS(1, 0x82) | NVME_STATUS_DNR);
}

/* ---- Removal ------------------------------------------------------------------------------ */

static void test_del_clear(void **state)
{
	struct harness *h = *state;
	struct fdr_queue *q = h_io_queue(h, 1);
	int id = add("opc=write,status=media");

	assert_int_equal(wr(q, 1, 0, 1, wbuf), MEDIA);
	assert_int_equal(fdr_rule_del((unsigned)id), 0);
	assert_false(fdr_tap_on(FDR_TAP_IO_DECODE));
	assert_int_equal(wr(q, 1, 0, 1, wbuf), 0);

	add("opc=write,status=media");
	add("opc=read,status=media");
	add("opc=read,tap=writeback,corrupt");
	assert_int_equal(wr(q, 1, 0, 1, wbuf), MEDIA);
	assert_int_equal(rd(q, 1, 0, 1, rbuf), MEDIA);
	fdr_rules_clear();
	for (int t = 0; t < FDR_TAP_NR; t++)
		assert_false(fdr_tap_on((enum fdr_tap_id)t));
	assert_int_equal(wr(q, 1, 0, 1, wbuf), 0);
	assert_int_equal(rd(q, 1, 0, 1, rbuf), 0);
	assert_memory_equal(rbuf, wbuf, 512);
}

/* ---- Logging ------------------------------------------------------------------------------- */

static void test_log_rate_limit(void **state)
{
	struct harness *h = *state;
	struct fdr_queue *q = h_io_queue(h, 1);
	FILE *tmp = tmpfile();
	char line[512], want[64];
	int saved, id;
	unsigned fired_lines = 0;
	bool summary = false, names_cmd = false;

	assert_non_null(tmp);
	fdr_rules_set_clock(fake_clock);
	id = add("name=hot,opc=flush,none");
	fflush(stderr);
	saved = dup(2);
	assert_true(saved >= 0);
	assert_true(dup2(fileno(tmp), 2) >= 0);
	fdr_log_set_level(FDR_LOG_INFO);
	for (unsigned i = 0; i < 50; i++)
		assert_int_equal(flush(q, 1), 0);
	fake_now += 1000000000ull;
	assert_int_equal(flush(q, 1), 0);
	fdr_log_set_level(FDR_LOG_ERR);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);

	assert_int_equal(info(id).fired, 51);
	snprintf(want, sizeof(want), "rule %d (hot) fired", id);
	rewind(tmp);
	while (fgets(line, sizeof(line), tmp)) {
		if (!strstr(line, want))
			continue;
		fired_lines++;
		names_cmd |= strstr(line, "qid 1 cid ") && strstr(line, "Flush nsid 1") != NULL;
		summary |= strstr(line, "(#51)") && strstr(line, "(40 more not logged)") != NULL;
	}
	fclose(tmp);
	assert_int_equal(fired_lines, 11); /* 10 in the first second, 1 in the next */
	assert_true(names_cmd);
	assert_true(summary);
}

/* ---- Concurrency --------------------------------------------------------------------------- */

struct churn {
	int stop;
	int done;
	unsigned rounds;
};

static void count_cb(const struct fdr_rule_info *ri, void *arg)
{
	(*(unsigned *)arg) += ri->fired > 0 || ri->matches > 0 || ri->armed;
}

static void *churn_thread(void *arg)
{
	struct churn *c = arg;
	char e[256];

	while (!__atomic_load_n(&c->stop, __ATOMIC_ACQUIRE)) {
		int a = fdr_rule_add("name=a,opc=write,every=2,status=internal", e, sizeof(e));
		int b = fdr_rule_add("opc=read,when=a,prob=0.5,seed=1,none", e, sizeof(e));
		int d = fdr_rule_add("opc=write,tap=execute,corrupt=1@0", e, sizeof(e));
		unsigned n = 0;

		usleep(100); /* let some commands meet them */
		fdr_rule_foreach(count_cb, &n);
		if (a > 0)
			fdr_rule_del((unsigned)a); /* before b: b keeps it alive */
		if (b > 0)
			fdr_rule_del((unsigned)b);
		if (d > 0)
			fdr_rule_del((unsigned)d);
		__atomic_fetch_add(&c->rounds, 1, __ATOMIC_RELAXED);
	}
	__atomic_store_n(&c->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

struct io_msg {
	struct fdr_queue *q;
	unsigned i;
	uint16_t cid;
};

static void io_msg(void *arg)
{
	struct io_msg *m = arg;
	struct nvme_sqe c = rw(m->i & 1 ? NVME_IO_READ : NVME_IO_WRITE, 1, m->i % 64, 1);

	m->cid = h_submit(m->q, &c);
}

static void test_concurrent_changes(void **state)
{
	struct harness *h = *state;
	struct fdr_queue *q = h_io_queue(h, 1);
	struct churn c = {0};
	pthread_t t;
	unsigned fails = 0;

	/* This thread is the reactor; detaching waits for it to pass a
	 * quiescent point, which it does between messages. */
	fdr_tap_set_reactors(&h->r, 1);
	assert_int_equal(pthread_create(&t, NULL, churn_thread, &c), 0);
	/* At least 4000 commands and 50 rounds of rule changes */
	for (unsigned i = 0;
	     i < 4000 || (__atomic_load_n(&c.rounds, __ATOMIC_RELAXED) < 50 && i < 1000000); i++) {
		struct io_msg m = {.q = q, .i = i};
		uint16_t status = 0xffff;

		assert_int_equal(fdr_reactor_post(h->r, io_msg, &m), 0);
		while (!m.cid)
			fdr_reactor_poll(h->r, 1);
		assert_true(h_done(m.cid, &status, NULL));
		assert_true(status == 0 || status == INTERNAL);
		fails += status != 0;
	}
	__atomic_store_n(&c.stop, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&c.done, __ATOMIC_ACQUIRE))
		fdr_reactor_poll(h->r, 1);
	pthread_join(t, NULL);
	fdr_tap_set_reactors(NULL, 0);
	assert_true(c.rounds > 0);
	print_message("%u rule rounds, %u failed commands\n", c.rounds, fails);
	fdr_rules_clear();
	assert_int_equal(wr(q, 1, 0, 1, wbuf), 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, r_setup, r_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_after_times),
		T(test_every),
		T(test_prob_seed),
		T(test_times),
		T(test_window),
		T(test_when_chain),
		T(test_status_stages),
		T(test_success_no_write),
		T(test_corrupt_read),
		T(test_corrupt_write),
		T(test_delay),
		T(test_drop),
		T(test_aen),
		T(test_cfs),
		T(test_none_counts),
		T(test_filters),
		T(test_del_clear),
		T(test_log_rate_limit),
		T(test_concurrent_changes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

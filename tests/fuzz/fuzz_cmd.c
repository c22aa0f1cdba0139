/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Fuzzes command decode and execution in the core: arbitrary 64-byte SQEs
 * (with up to a few KiB of host data) go through the real pipeline on the
 * admin queue of a connected, enabled controller and on its I/O queues,
 * behind a fake transport that checks the transport contract:
 *
 *   - every submitted command completes exactly once (an Asynchronous
 *     Event Request may stay outstanding until its controller goes away);
 *   - completions carry the submitted CID and the queue's QID, no phase
 *     bit, and a data buffer at least as large as the data phase;
 *   - every queue drains (queue_drained) after it is closed, and nothing
 *     is left in flight or leaked once all queues are gone.
 *
 * Input: byte 0 configures the drive (LBA size, asynchronous backend and
 * data phase, cache); then records follow.  A record starts with one byte:
 *
 *   bit 7 clear: a command.  Bits 2:0 pick the queue, bit 3 makes the
 *       transport refuse the data pointer, bit 4 fails the data transfer,
 *       bits 6:5 the host data length: none, 16 bytes, a 2-byte length
 *       (at most 8 KiB), or 1024 (Connect data).  The 64-byte SQE and
 *       then the data follow.
 *   bit 7 set: an event (bits 6:0): poll the reactor, complete held
 *       backend I/O or data transfers, open and connect new queues, or
 *       close one (the host's connection going away).  Arguments follow.
 *
 * Known core bugs: with FUZZ_CMD_SKIP_KNOWN=1 in the environment, inputs
 * are steered around those listed at skip_known() so that a long run can
 * find something new.
 *
 * Built with -fsanitize=fuzzer this is a libFuzzer target; otherwise main()
 * replays built-in inputs and random ones for a bounded time (a smoke
 * test), or writes the built-in inputs as a seed corpus (--seeds DIR).
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "core/transport.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SUBNQN "nqn.2024-01.io.frankendrive.fuzz:sub1"
#define HOSTNQN "nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-0000000000f1"
#define HOSTNQN2 "nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-0000000000f2"
#define NS_BYTES (1u << 20)
#define MAX_QUEUES 8
#define MAX_CMDS 4000
#define MAX_DATA 8192
#define MAX_HELD 256
#define CC_ENABLE (NVME_CC_EN | (6u << NVME_CC_IOSQES_SHIFT) | (4u << NVME_CC_IOCQES_SHIFT))

/* Config byte */
#define CFG_NS1_4K 0x01
#define CFG_ASYNC_BDEV 0x02
#define CFG_ASYNC_DATA 0x04
#define CFG_NS3 0x08
#define CFG_VWC 0x10
#define CFG_SQFLOW_OFF 0x20

/* Record byte, commands */
#define REC_EVENT 0x80
#define REC_QUEUE(b) ((b)&0x7)
#define REC_FAIL_PREP 0x08
#define REC_FAIL_DATA 0x10
#define REC_LEN(b) (((b) >> 5) & 0x3)

/* Events */
enum {
	EV_POLL,
	EV_RUN_BDEV,
	EV_RUN_DATA,
	EV_NEW_ADMIN,   /* args: sqsize, kato (0-255 ms), flags (bit0 enable, bit1 other host) */
	EV_NEW_IO,      /* args: admin queue index, qid, sqsize */
	EV_CLOSE,       /* args: queue index */
	EV_NEW_RAW,     /* a queue nobody connected */
	EV_NEW_DISC,    /* discovery controller */
	EV_COUNT,
};

#define FUZZ_FAIL(...)                                                  \
	do {                                                            \
		fprintf(stderr, "fuzz_cmd: " __VA_ARGS__);              \
		fprintf(stderr, "\n");                                  \
		abort();                                                \
	} while (0)

/* ---- State of one input ------------------------------------------------------ */

struct fqueue {
	struct fdr_queue *q;
	unsigned drained;
	unsigned disconnects;
};

enum { CMD_FREE = 0, CMD_PENDING, CMD_DONE };

struct cmd_track {
	uint8_t state;
	uint8_t opc;
	uint8_t qi;
};

struct held_io {
	struct fdr_bdev *bdev;
	struct fdr_bdev_io *io;
};

/* A backend that holds I/O until told, as io_uring completes later. */
struct async_bdev {
	struct fdr_bdev *bdev;
	const struct fdr_bdev_ops *orig;
	struct fdr_bdev_ops ops;
};

static struct {
	uint8_t cfg;
	struct fdr_target *t;
	struct fdr_subsys *s;
	struct fdr_port *port;
	struct fqueue fq[MAX_QUEUES];
	unsigned nq;
	struct cmd_track cmd[MAX_CMDS];
	unsigned ncmd;
	/* The data of the command being submitted (synchronous data phase). */
	const uint8_t *in;
	uint32_t in_len;
	bool fail_prep, fail_data;
	/* Held data phases and backend I/O. */
	struct fdr_req *held_data[MAX_HELD];
	unsigned nheld_data;
	struct held_io held_io[MAX_HELD];
	unsigned nheld_io;
	struct async_bdev abdev[2];
	unsigned nabdev;
} F;

static struct fdr_reactor *reactor;
/* Over all inputs: completions, and those that succeeded, by queue kind. */
static uint64_t nr_done, nr_ok_admin, nr_ok_io;

static struct fqueue *fq_of(struct fdr_queue *q)
{
	for (unsigned i = 0; i < F.nq; i++)
		if (F.fq[i].q == q)
			return &F.fq[i];
	FUZZ_FAIL("callback for a queue we do not know");
}

/* ---- Fake transport ------------------------------------------------------------- */

static uint16_t fz_prep(struct fdr_req *req)
{
	if (req->state != FDR_REQ_DECODE)
		FUZZ_FAIL("prep_data in state %u", req->state);
	if (!req->data_len || !req->buf || req->buf_cap < req->data_len)
		FUZZ_FAIL("prep_data: %u bytes, buffer %p of %u", req->data_len, (void *)req->buf,
			  req->buf_cap);
	if (req->data_len > FDR_MAX_XFER && req->cmd.opc != NVME_ADM_FABRICS)
		FUZZ_FAIL("data phase of %u bytes beyond MDTS (opc %#x)", req->data_len, req->cmd.opc);
	if (req->xfer == NVME_OPC_XFER_NONE)
		FUZZ_FAIL("data length without a direction (opc %#x)", req->cmd.opc);
	if (F.fail_prep)
		return NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_DATA_SGL_LENGTH_INVALID) | NVME_STATUS_DNR;
	return 0;
}

static void fz_data_in(struct fdr_req *req)
{
	uint32_t n = F.in_len < req->data_len ? F.in_len : req->data_len;

	if (req->state != FDR_REQ_DATA_IN || req->xfer != NVME_OPC_XFER_TO_CTRL)
		FUZZ_FAIL("data_in in state %u xfer %u", req->state, req->xfer);
	memset(req->buf, 0, req->data_len);
	if (n)
		memcpy(req->buf, F.in, n);
	if ((F.cfg & CFG_ASYNC_DATA) && F.nheld_data < MAX_HELD) {
		F.held_data[F.nheld_data++] = req;
		return;
	}
	fdr_req_data_in_done(req, F.fail_data ? NVME_STATUS(NVME_SCT_GENERIC,
							    NVME_SC_DATA_TRANSFER_ERROR)
					      : 0);
}

static void fz_complete(struct fdr_req *req)
{
	uint16_t cid = req->cmd.cid;
	struct cmd_track *t;

	if (cid >= F.ncmd)
		FUZZ_FAIL("completion of cid %u never submitted", cid);
	t = &F.cmd[cid];
	if (t->state != CMD_PENDING)
		FUZZ_FAIL("cid %u (opc %#x, queue %u) completed twice", cid, t->opc, t->qi);
	if (F.fq[t->qi].q != req->q)
		FUZZ_FAIL("cid %u completed on another queue", cid);
	t->state = CMD_DONE;
	nr_done++;
	if (!req->status)
		*(req->q->qid ? &nr_ok_io : &nr_ok_admin) += 1;
	if (req->state != FDR_REQ_WRITEBACK)
		FUZZ_FAIL("complete in state %u", req->state);
	if (req->cpl.cid != cid || req->cpl.sqid != req->q->qid || (req->cpl.status & 1))
		FUZZ_FAIL("bad CQE: cid %u/%u sqid %u/%u status %#x", req->cpl.cid, cid,
			  req->cpl.sqid, req->q->qid, req->cpl.status);
	if ((req->cpl.status >> 1) != req->status)
		FUZZ_FAIL("CQE status %#x, request status %#x", req->cpl.status >> 1, req->status);
	if (req->xfer == NVME_OPC_XFER_FROM_CTRL && !req->status && req->data_len) {
		volatile uint8_t sum = 0;

		if (!req->buf || req->buf_cap < req->data_len)
			FUZZ_FAIL("read data of %u bytes in a buffer of %u", req->data_len, req->buf_cap);
		for (uint32_t i = 0; i < req->data_len; i += 64)
			sum ^= req->buf[i];
		sum ^= req->buf[req->data_len - 1];
		(void)sum;
	}
	fdr_req_release(req);
}

/* Like NVMe/TCP: data that was still to come from the host never will. */
static void fail_held_data_of(struct fdr_queue *q)
{
	for (unsigned i = 0; i < F.nheld_data;) {
		struct fdr_req *req = F.held_data[i];

		if (req->q != q) {
			i++;
			continue;
		}
		F.held_data[i] = F.held_data[--F.nheld_data];
		fdr_req_data_in_done(req, NVME_STATUS(NVME_SCT_GENERIC,
						      NVME_SC_TRANSIENT_TRANSPORT_ERROR));
	}
}

static void close_queue(struct fdr_queue *q)
{
	if (q->closing)
		return;
	fdr_queue_close(q);
	fail_held_data_of(q);
}

static void fz_disconnect(struct fdr_queue *q, const char *reason)
{
	(void)reason;
	fq_of(q)->disconnects++;
	close_queue(q);
}

static void fz_drained(struct fdr_queue *q)
{
	struct fqueue *f = fq_of(q);

	if (!q->closing || q->nr_inflight)
		FUZZ_FAIL("queue_drained with closing %d, %u in flight", q->closing, q->nr_inflight);
	if (f->drained++)
		FUZZ_FAIL("queue_drained twice");
}

static const struct fdr_transport_ops fz_ops = {
	.name = "fuzz",
	.prep_data = fz_prep,
	.data_in = fz_data_in,
	.complete = fz_complete,
	.disconnect = fz_disconnect,
	.queue_drained = fz_drained,
};

/* ---- Asynchronous backend ------------------------------------------------------------ */

static struct async_bdev *abdev_of(struct fdr_bdev *b)
{
	for (unsigned i = 0; i < F.nabdev; i++)
		if (F.abdev[i].bdev == b)
			return &F.abdev[i];
	FUZZ_FAIL("unknown backend");
}

static int async_submit(struct fdr_bdev *b, struct fdr_bdev_io *io)
{
	struct async_bdev *a = abdev_of(b);

	if (io->sync || F.nheld_io >= MAX_HELD)
		return a->orig->submit(b, io);
	for (unsigned i = 0; i < F.nheld_io; i++)
		if (F.held_io[i].io == io)
			FUZZ_FAIL("backend I/O submitted again while in flight");
	F.held_io[F.nheld_io++] = (struct held_io){ b, io };
	return 0;
}

static void make_async(struct fdr_ns *ns)
{
	struct async_bdev *a = &F.abdev[F.nabdev++];

	a->bdev = ns->bdev;
	a->orig = ns->bdev->ops;
	a->ops = *a->orig;
	a->ops.submit = async_submit;
	ns->bdev->ops = &a->ops;
}

static bool run_held_io(void)
{
	struct held_io batch[MAX_HELD];
	unsigned n = F.nheld_io;

	memcpy(batch, F.held_io, n * sizeof(batch[0]));
	F.nheld_io = 0;
	for (unsigned i = 0; i < n; i++)
		if (abdev_of(batch[i].bdev)->orig->submit(batch[i].bdev, batch[i].io) < 0)
			FUZZ_FAIL("RAM backend refused to start an I/O");
	return n;
}

static bool run_held_data(void)
{
	struct fdr_req *batch[MAX_HELD];
	unsigned n = F.nheld_data;

	memcpy(batch, F.held_data, n * sizeof(batch[0]));
	F.nheld_data = 0;
	for (unsigned i = 0; i < n; i++)
		fdr_req_data_in_done(batch[i], 0);
	return n;
}

/* ---- Set-up and commands ---------------------------------------------------------------- */

static int new_queue(void)
{
	struct fdr_queue *q;

	if (F.nq >= MAX_QUEUES)
		return -1;
	q = fdr_queue_create(F.t, F.port, &fz_ops, NULL, reactor, 64, "fuzz");
	if (!q)
		FUZZ_FAIL("queue_create");
	F.fq[F.nq] = (struct fqueue){ .q = q };
	return (int)F.nq++;
}

/*
 * Steer around core bugs already reported, when asked to:
 *  - io.c flush_next(): Flush of NSID FFFFFFFFh on an asynchronous backend
 *    dereferences q->ctrl after the queue was closed (NULL): flush one
 *    namespace instead.
 */
static void skip_known(struct nvme_sqe *sqe, const struct fdr_queue *q)
{
	static int skip = -1;

	if (skip < 0) {
		const char *e = getenv("FUZZ_CMD_SKIP_KNOWN");
		skip = e && *e == '1';
	}
	if (!skip)
		return;
	if (q->qid && sqe->opc == NVME_IO_FLUSH && sqe->nsid == NVME_NSID_ALL &&
	    (F.cfg & CFG_ASYNC_BDEV))
		sqe->nsid = 1;
}

/* Submit one command on queue qi; returns its CID or -1 if not taken. */
static int submit(unsigned qi, const struct nvme_sqe *sqe, const uint8_t *in, uint32_t in_len,
		  bool fail_prep, bool fail_data)
{
	struct fdr_queue *q = F.fq[qi].q;
	struct fdr_req *req;
	uint16_t cid;

	if (F.ncmd >= MAX_CMDS || !(req = fdr_req_get(q)))
		return -1;
	cid = (uint16_t)F.ncmd++;
	F.cmd[cid] = (struct cmd_track){ .state = CMD_PENDING, .opc = sqe->opc, .qi = (uint8_t)qi };
	req->cmd = *sqe;
	req->cmd.cid = cid;
	skip_known(&req->cmd, q);
	F.in = in;
	F.in_len = in_len;
	F.fail_prep = fail_prep;
	F.fail_data = fail_data;
	fdr_req_submit(req);
	F.in = NULL;
	F.in_len = 0;
	F.fail_prep = F.fail_data = false;
	/* Synchronous everything: only an AER may still be outstanding. */
	if (!(F.cfg & (CFG_ASYNC_BDEV | CFG_ASYNC_DATA)) && F.cmd[cid].state != CMD_DONE &&
	    sqe->opc != NVME_ADM_ASYNC_EVENT_REQUEST)
		FUZZ_FAIL("cid %u (opc %#x on queue %u) did not complete", cid, sqe->opc, q->qid);
	return cid;
}

static void connect_queue(unsigned qi, const char *subnqn, const char *hostnqn, uint16_t qid,
			  uint16_t cntlid, uint16_t sqsize, uint32_t kato, uint8_t cattr, bool enable)
{
	struct nvme_fabrics_connect_cmd c = { .opc = NVME_ADM_FABRICS,
					      .fctype = NVME_FCTYPE_CONNECT,
					      .qid = qid,
					      .sqsize = sqsize,
					      .cattr = cattr,
					      .kato = kato };
	struct nvme_fabrics_connect_data d = { .cntlid = cntlid };
	struct nvme_fabrics_prop_cmd p = { .opc = NVME_ADM_FABRICS,
					   .fctype = NVME_FCTYPE_PROPERTY_SET,
					   .ofst = NVME_REG_CC,
					   .value = CC_ENABLE };

	memset(d.hostid, 0xf1, sizeof(d.hostid));
	snprintf(d.subnqn, sizeof(d.subnqn), "%s", subnqn);
	snprintf(d.hostnqn, sizeof(d.hostnqn), "%s", hostnqn);
	bool async = F.cfg & CFG_ASYNC_DATA;
	F.cfg &= (uint8_t)~CFG_ASYNC_DATA; /* set-up runs synchronously */
	submit(qi, (const struct nvme_sqe *)&c, (const uint8_t *)&d, sizeof(d), false, false);
	if (enable && qid == 0 && F.fq[qi].q->ctrl)
		submit(qi, (const struct nvme_sqe *)&p, NULL, 0, false, false);
	if (async)
		F.cfg |= CFG_ASYNC_DATA;
}

static void setup(uint8_t cfg)
{
	char err[128];

	memset(&F, 0, sizeof(F));
	F.cfg = cfg;
	F.t = fdr_target_create();
	if (!F.t || !(F.s = fdr_subsys_create(F.t, FDR_SUBSYS_NVME, SUBNQN)))
		FUZZ_FAIL("target");
	F.s->max_io_queues = 4;
	for (uint32_t nsid = 1; nsid <= 3; nsid += 2) {
		if (nsid == 3 && !(cfg & CFG_NS3))
			continue;
		struct fdr_bdev *b = fdr_bdev_ram_create(NS_BYTES, err, sizeof(err));
		uint32_t lba = nsid == 1 && (cfg & CFG_NS1_4K) ? 4096 : 512;
		struct fdr_ns *ns = b ? fdr_ns_create(nsid, b, lba, SUBNQN, err, sizeof(err)) : NULL;

		if (!ns || fdr_subsys_add_ns(F.s, ns, err, sizeof(err)))
			FUZZ_FAIL("namespace: %s", err);
		if (nsid == 1 && (cfg & CFG_VWC))
			b->volatile_wc = true;
		if (cfg & CFG_ASYNC_BDEV)
			make_async(ns);
	}
	F.port = fdr_target_add_port(F.t, NVMF_TRTYPE_TCP, "127.0.0.1", "4420");
	/* Queue 0: admin queue of an enabled controller; queue 1: its I/O queue 1. */
	new_queue();
	connect_queue(0, SUBNQN, HOSTNQN, 0, 0xffff, FDR_ADMIN_QDEPTH - 1, 0,
		      (cfg & CFG_SQFLOW_OFF) ? NVME_CONNECT_CATTR_SQ_FLOW_DISABLE : 0, true);
	if (!F.fq[0].q->ctrl || !fdr_ctrl_ready(F.fq[0].q->ctrl))
		FUZZ_FAIL("admin queue set-up");
	new_queue();
	connect_queue(1, SUBNQN, HOSTNQN, 1, F.fq[0].q->ctrl->cntlid, 31, 0, 0, false);
	if (F.fq[1].q->ctrl != F.fq[0].q->ctrl)
		FUZZ_FAIL("I/O queue set-up");
}

static void pump(void)
{
	for (int i = 0; i < 3; i++)
		fdr_reactor_poll(reactor, 0);
}

/* Run everything held until nothing moves. */
static void drain(void)
{
	for (int round = 0; round < 1000; round++) {
		bool moved = run_held_io();
		moved |= run_held_data();
		pump();
		if (!moved && !F.nheld_io && !F.nheld_data)
			return;
	}
	FUZZ_FAIL("held work does not finish");
}

static void finish(void)
{
	drain();
	/* The host goes away: I/O queues first, then admin queues. */
	for (int pass = 0; pass < 2; pass++)
		for (unsigned i = 0; i < F.nq; i++) {
			struct fdr_queue *q = F.fq[i].q;
			if ((q->ctrl && q->qid == 0) == (pass == 1))
				close_queue(q);
		}
	drain();
	for (unsigned i = 0; i < F.nq; i++) {
		struct fdr_queue *q = F.fq[i].q;

		if (!q->closing || q->nr_inflight || !q->drained || F.fq[i].drained != 1)
			FUZZ_FAIL("queue %u: closing %d, %u in flight, drained %d/%u", i, q->closing,
				  q->nr_inflight, q->drained, F.fq[i].drained);
		if (q->ctrl)
			FUZZ_FAIL("queue %u still attached to a controller", i);
	}
	for (unsigned cid = 0; cid < F.ncmd; cid++)
		if (F.cmd[cid].state != CMD_DONE)
			FUZZ_FAIL("cid %u (opc %#x, queue %u) never completed", cid, F.cmd[cid].opc,
				  F.cmd[cid].qi);
	for (unsigned s = 0; s < FDR_MAX_CTRLS; s++)
		if (F.s->ctrls[s] || F.t->disc->ctrls[s])
			FUZZ_FAIL("a controller outlived all its queues");
	for (unsigned i = 0; i < F.nq; i++)
		fdr_queue_free(F.fq[i].q);
	fdr_target_destroy(F.t);
	F.t = NULL;
}

/* ---- Input decoding -------------------------------------------------------------------------- */

struct input {
	const uint8_t *p;
	size_t left;
};

static uint8_t take8(struct input *in)
{
	if (!in->left)
		return 0;
	in->left--;
	return *in->p++;
}

static void event(struct input *in, uint8_t ev)
{
	switch (ev % EV_COUNT) {
	case EV_POLL:
		pump();
		break;
	case EV_RUN_BDEV:
		run_held_io();
		break;
	case EV_RUN_DATA:
		run_held_data();
		break;
	case EV_NEW_ADMIN: {
		uint8_t sqsize = take8(in), kato = take8(in), flags = take8(in);
		int qi = new_queue();

		if (qi >= 0)
			connect_queue((unsigned)qi, SUBNQN, (flags & 2) ? HOSTNQN2 : HOSTNQN, 0, 0xffff,
				      sqsize, kato, flags & NVME_CONNECT_CATTR_SQ_FLOW_DISABLE,
				      flags & 1);
		break;
	}
	case EV_NEW_IO: {
		uint8_t ai = take8(in), qid = take8(in), sqsize = take8(in);
		struct fdr_queue *aq = F.fq[ai % F.nq].q;
		uint16_t cntlid = aq->ctrl ? aq->ctrl->cntlid : (uint16_t)(ai | 0xff00);
		int qi = new_queue();

		if (qi >= 0)
			connect_queue((unsigned)qi, SUBNQN, HOSTNQN, qid ? qid : 1, cntlid, sqsize, 0, 0,
				      false);
		break;
	}
	case EV_CLOSE:
		close_queue(F.fq[take8(in) % F.nq].q);
		break;
	case EV_NEW_RAW:
		new_queue();
		break;
	case EV_NEW_DISC: {
		int qi = new_queue();

		if (qi >= 0)
			connect_queue((unsigned)qi, NVME_DISC_SUBSYS_NAME, HOSTNQN, 0, 0xffff, 31, 0, 0,
				      true);
		break;
	}
	}
}

static void command(struct input *in, uint8_t rec)
{
	static const uint32_t fixed_len[4] = { 0, 16, 0, 1024 };
	struct nvme_sqe sqe;
	uint32_t len;

	if (in->left < sizeof(sqe)) {
		in->left = 0;
		return;
	}
	memcpy(&sqe, in->p, sizeof(sqe));
	in->p += sizeof(sqe);
	in->left -= sizeof(sqe);
	if (REC_LEN(rec) == 2) {
		len = take8(in);
		len |= (uint32_t)take8(in) << 8;
		len %= MAX_DATA + 1;
	} else {
		len = fixed_len[REC_LEN(rec)];
	}
	if (len > in->left)
		len = (uint32_t)in->left;
	const uint8_t *data = in->p;
	in->p += len;
	in->left -= len;
	submit(REC_QUEUE(rec) % F.nq, &sqe, data, len, rec & REC_FAIL_PREP, rec & REC_FAIL_DATA);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in;

	if (size < 1)
		return 0;
	in.p = data + 1;
	in.left = size - 1;
	fdr_log_set_level(FDR_LOG_ERR);
	if (!reactor && !(reactor = fdr_reactor_create(0)))
		FUZZ_FAIL("reactor");
	setup(data[0]);
	while (in.left) {
		uint8_t rec = take8(&in);

		if (rec & REC_EVENT)
			event(&in, rec & 0x7f);
		else
			command(&in, rec);
		/* Posted work (event delivery, queue teardown) runs between commands. */
		pump();
	}
	finish();
	return 0;
}

#ifndef FDR_LIBFUZZER
/* ---- Smoke driver ------------------------------------------------------------------------------ */

#define FUZZ_RNG_SEED 0x2545f4914f6cdd1dull
#include "smoke.h"

struct gen {
	uint8_t buf[32768];
	size_t len;
};

static void put(struct gen *g, const void *p, size_t n)
{
	if (g->len + n > sizeof(g->buf))
		return;
	memcpy(g->buf + g->len, p, n);
	g->len += n;
}

static void put8(struct gen *g, uint8_t v)
{
	put(g, &v, 1);
}

static void cmd(struct gen *g, unsigned qi, const struct nvme_sqe *sqe, const void *data,
		uint16_t len, uint8_t flags)
{
	put8(g, (uint8_t)(qi | flags | (len ? 2u << 5 : 0)));
	put(g, sqe, sizeof(*sqe));
	if (len) {
		put8(g, (uint8_t)len);
		put8(g, (uint8_t)(len >> 8));
		put(g, data, len);
	}
}

static void ev(struct gen *g, uint8_t e, int a, int b, int c)
{
	put8(g, REC_EVENT | e);
	if (a >= 0)
		put8(g, (uint8_t)a);
	if (b >= 0)
		put8(g, (uint8_t)b);
	if (c >= 0)
		put8(g, (uint8_t)c);
}

static struct nvme_sqe rw(uint8_t opc, uint32_t nsid, uint64_t slba, uint32_t nlb, uint32_t flags)
{
	return (struct nvme_sqe){ .opc = opc,
				  .nsid = nsid,
				  .cdw10 = (uint32_t)slba,
				  .cdw11 = (uint32_t)(slba >> 32),
				  .cdw12 = ((nlb - 1) & 0xffff) | flags };
}

/* A command worth trying: opcodes and fields near what the core checks. */
static struct nvme_sqe random_sqe(bool admin)
{
	static const uint8_t adm[] = { 0x02, 0x06, 0x08, 0x09, 0x0a, 0x0c, 0x18, 0x80, 0x7f,
				       0x00, 0x01, 0x04, 0x05, 0x0d, 0x10, 0x11, 0x81, 0x84 };
	static const uint8_t io[] = { 0x00, 0x01, 0x02, 0x04, 0x05, 0x08, 0x09, 0x0c, 0x7f, 0x0d };
	static const uint32_t nsids[] = { 0, 1, 1, 1, 2, 3, 32, 33, NVME_NSID_ALL };
	static const uint32_t vals[] = { 0, 1, 2, 3, 4, 7, 0x0f, 0x14, 0x1c, 0xff, 0x100, 0x3ff,
					 0xfff, 0xffff, 0x10000, 0x8000, 0x80000000, 0xffffffff };
	struct nvme_sqe s;

	memset(&s, 0, sizeof(s));
	s.opc = admin ? adm[rnd(sizeof(adm))] : io[rnd(sizeof(io))];
	if (rnd(20) == 0)
		s.opc = (uint8_t)rnd(256);
	s.nsid = nsids[rnd(sizeof(nsids) / sizeof(nsids[0]))];
	s.flags = rnd(16) == 0 ? (uint8_t)rnd(256) : 0;
	uint32_t dw[6];
	for (int i = 0; i < 6; i++)
		dw[i] = rnd(3) ? rnd(64) : vals[rnd(sizeof(vals) / sizeof(vals[0]))];
	memcpy((uint8_t *)&s + offsetof(struct nvme_sqe, cdw10), dw, sizeof(dw));
	if (s.opc == NVME_ADM_FABRICS) {
		struct nvme_fabrics_prop_cmd *p = (void *)&s;
		static const uint8_t ft[] = { 0, 1, 4, 5, 8, 0x7f };
		static const uint32_t ofs[] = { 0, 8, 0x14, 0x1c, 0x20, 0x24, 0x1000 };
		p->fctype = ft[rnd(sizeof(ft))];
		p->attrib = (uint8_t)rnd(2);
		p->ofst = ofs[rnd(sizeof(ofs) / sizeof(ofs[0]))];
		p->value = rnd(4) ? CC_ENABLE | (rnd(3) << NVME_CC_SHN_SHIFT) : rnd(3) ? 0 : rng;
	}
	if (s.opc == NVME_ADM_GET_LOG_PAGE || s.opc == NVME_ADM_IDENTIFY ||
	    s.opc == NVME_ADM_SET_FEATURES || s.opc == NVME_ADM_GET_FEATURES)
		s.cdw10 = rnd(256) | (rnd(4) ? rnd(1024) << 16 : rnd(65536) << 16);
	return s;
}

static size_t random_input(struct gen *g)
{
	static uint8_t data[MAX_DATA];

	g->len = 0;
	put8(g, (uint8_t)rnd(64));
	for (unsigned n = 1 + rnd(60); n; n--) {
		if (rnd(6) == 0) {
			uint8_t e = (uint8_t)rnd(EV_COUNT);
			ev(g, e, (int)rnd(256), (int)rnd(8), rnd(2) ? 31 : (int)rnd(256));
			continue;
		}
		unsigned qi = rnd(4) == 0 ? 0 : rnd(3);
		struct nvme_sqe s = random_sqe(qi == 0);
		uint16_t len = 0;
		if (rnd(2)) {
			len = (uint16_t)(rnd(3) ? 16 * (1 + rnd(4)) : rnd(MAX_DATA + 1));
			for (unsigned i = 0; i < len; i++)
				data[i] = (uint8_t)(rnd(4) ? 0 : rnd(256));
		}
		uint8_t flags = rnd(30) == 0 ? REC_FAIL_PREP : rnd(30) == 0 ? REC_FAIL_DATA : 0;
		cmd(g, qi, &s, data, len, flags);
	}
	return g->len;
}

/* Built-in inputs: a plausible session each. */
static size_t seed_input(struct gen *g, unsigned which)
{
	static uint8_t data[MAX_DATA];
	struct nvme_dsm_range r[2] = { { .slba = 4, .nlb = 4 }, { .slba = 100, .nlb = 1 } };

	memset(data, 0x5a, sizeof(data));
	g->len = 0;
	switch (which) {
	case 0: /* admin basics */
		put8(g, CFG_NS3);
		cmd(g, 0, &(struct nvme_sqe){ .opc = NVME_ADM_IDENTIFY, .cdw10 = 1 }, NULL, 0, 0);
		cmd(g, 0, &(struct nvme_sqe){ .opc = NVME_ADM_IDENTIFY, .nsid = 1 }, NULL, 0, 0);
		cmd(g, 0, &(struct nvme_sqe){ .opc = NVME_ADM_IDENTIFY, .cdw10 = 3, .nsid = 1 }, NULL, 0, 0);
		cmd(g, 0, &(struct nvme_sqe){ .opc = NVME_ADM_ASYNC_EVENT_REQUEST }, NULL, 0, 0);
		cmd(g, 0, &(struct nvme_sqe){ .opc = NVME_ADM_GET_LOG_PAGE, .nsid = NVME_NSID_ALL,
					      .cdw10 = 2 | 127u << 16 }, NULL, 0, 0);
		cmd(g, 0, &(struct nvme_sqe){ .opc = NVME_ADM_SET_FEATURES, .cdw10 = 0x0b, .cdw11 = 0x1ff },
		    NULL, 0, 0);
		cmd(g, 0, &(struct nvme_sqe){ .opc = NVME_ADM_SET_FEATURES, .cdw10 = 0x0e }, data, 8, 0);
		cmd(g, 0, &(struct nvme_sqe){ .opc = NVME_ADM_KEEP_ALIVE }, NULL, 0, 0);
		cmd(g, 0, &(struct nvme_sqe){ .opc = NVME_ADM_FORMAT_NVM, .nsid = 3, .cdw10 = 1 }, NULL, 0, 0);
		cmd(g, 0, &(struct nvme_sqe){ .opc = NVME_ADM_GET_LOG_PAGE, .cdw10 = 4 | 1023u << 16 },
		    NULL, 0, 0);
		break;
	case 1: /* the NVM command set */
	case 2: /* ... on asynchronous backends and data phases */
		put8(g, which == 1 ? (CFG_NS3 | CFG_VWC) : (CFG_NS3 | CFG_ASYNC_BDEV | CFG_ASYNC_DATA));
		{
			struct nvme_sqe w = rw(NVME_IO_WRITE, 1, 0, 8, 0);
			cmd(g, 1, &w, data, 4096, 0);
		}
		cmd(g, 1, (struct nvme_sqe[]){ rw(NVME_IO_READ, 1, 0, 8, 0) }, NULL, 0, 0);
		cmd(g, 1, (struct nvme_sqe[]){ rw(NVME_IO_COMPARE, 1, 0, 2, 0) }, data, 1024, 0);
		cmd(g, 1, (struct nvme_sqe[]){ rw(NVME_IO_WRITE_UNCORRECTABLE, 1, 2, 2, 0) }, NULL, 0, 0);
		cmd(g, 1, (struct nvme_sqe[]){ rw(NVME_IO_READ, 1, 0, 8, 0) }, NULL, 0, 0);
		cmd(g, 1, (struct nvme_sqe[]){ rw(NVME_IO_WRITE_ZEROES, 1, 0, 3, NVME_WZ_DEAC) }, NULL, 0, 0);
		cmd(g, 1, &(struct nvme_sqe){ .opc = NVME_IO_DATASET_MANAGEMENT, .nsid = 1, .cdw10 = 1,
					      .cdw11 = NVME_DSM_AD }, r, sizeof(r), 0);
		cmd(g, 1, &(struct nvme_sqe){ .opc = NVME_IO_FLUSH, .nsid = 1 }, NULL, 0, 0);
		if (which == 2)
			ev(g, EV_RUN_DATA, -1, -1, -1);
		ev(g, EV_RUN_BDEV, -1, -1, -1);
		cmd(g, 1, &(struct nvme_sqe){ .opc = NVME_IO_FLUSH, .nsid = NVME_NSID_ALL }, NULL, 0, 0);
		ev(g, EV_RUN_BDEV, -1, -1, -1);
		ev(g, EV_RUN_BDEV, -1, -1, -1);
		cmd(g, 0, &(struct nvme_sqe){ .opc = NVME_ADM_GET_LOG_PAGE, .nsid = NVME_NSID_ALL,
					      .cdw10 = 1 | 255u << 16 }, NULL, 0, 0);
		break;
	case 3: { /* more controllers and queues, resets, shutdown */
		struct nvme_fabrics_prop_cmd p = { .opc = NVME_ADM_FABRICS,
						   .fctype = NVME_FCTYPE_PROPERTY_SET,
						   .ofst = NVME_REG_CC };
		put8(g, 0);
		ev(g, EV_NEW_ADMIN, 15, 0, 1);
		ev(g, EV_NEW_IO, 2, 2, 15);
		ev(g, EV_NEW_DISC, -1, -1, -1);
		cmd(g, 3, &(struct nvme_sqe){ .opc = NVME_ADM_GET_LOG_PAGE, .cdw10 = 0x70 | 255u << 16 },
		    NULL, 0, 0);
		cmd(g, 2, &(struct nvme_sqe){ .opc = NVME_ADM_ASYNC_EVENT_REQUEST }, NULL, 0, 0);
		p.value = 0;
		cmd(g, 2, (struct nvme_sqe *)&p, NULL, 0, 0);
		ev(g, EV_POLL, -1, -1, -1);
		p.value = CC_ENABLE;
		cmd(g, 2, (struct nvme_sqe *)&p, NULL, 0, 0);
		p.value = CC_ENABLE | NVME_CC_SHN_NORMAL << NVME_CC_SHN_SHIFT;
		cmd(g, 0, (struct nvme_sqe *)&p, NULL, 0, 0);
		ev(g, EV_CLOSE, 0, -1, -1);
		cmd(g, 1, (struct nvme_sqe[]){ rw(NVME_IO_READ, 1, 0, 1, 0) }, NULL, 0, 0);
		break;
	}
	case 5: /* regression: Flush of every namespace in flight when the host
		 * drops the I/O connection (io.c flush_next() used q->ctrl) */
		put8(g, CFG_ASYNC_BDEV);
		cmd(g, 1, &(struct nvme_sqe){ .opc = NVME_IO_FLUSH, .nsid = NVME_NSID_ALL }, NULL, 0, 0);
		ev(g, EV_CLOSE, 1, -1, -1);
		break;
	default: /* raw queue: Connect through the fuzzed path */
		put8(g, 0);
		ev(g, EV_NEW_RAW, -1, -1, -1);
		{
			struct nvme_fabrics_connect_cmd c = { .opc = NVME_ADM_FABRICS,
							      .fctype = NVME_FCTYPE_CONNECT,
							      .sqsize = 31 };
			struct nvme_fabrics_connect_data d = { .cntlid = 0xffff };
			snprintf(d.subnqn, sizeof(d.subnqn), "%s", SUBNQN);
			snprintf(d.hostnqn, sizeof(d.hostnqn), "%s", HOSTNQN);
			cmd(g, 2, (struct nvme_sqe *)&c, &d, sizeof(d), 0);
		}
		break;
	}
	return g->len;
}
#define NR_SEEDS 6

static void mutate(struct gen *g)
{
	for (unsigned m = 1 + rnd(6); m; m--) {
		size_t at = 1 + rnd((uint32_t)g->len - 1);
		switch (rnd(4)) {
		case 0:
			g->buf[at] ^= (uint8_t)(1u << rnd(8));
			break;
		case 1:
			g->buf[at] = (uint8_t[]){ 0, 1, 2, 0x7f, 0x80, 0xff, 0x0c, 0x7f }[rnd(8)];
			break;
		case 2:
			g->buf[0] = (uint8_t)rnd(64);
			break;
		default:
			g->len = at + 1;
			break;
		}
	}
}

static int write_seeds(const char *dir)
{
	static struct gen g;

	for (unsigned i = 0; i < NR_SEEDS; i++) {
		char path[4096];
		FILE *f;

		snprintf(path, sizeof(path), "%s/seed-%u", dir, i);
		seed_input(&g, i);
		if (!(f = fopen(path, "wb")) || fwrite(g.buf, 1, g.len, f) != g.len || fclose(f)) {
			perror(path);
			return 1;
		}
	}
	return 0;
}

static int replay(int n, char **files)
{
	static struct gen g;

	for (int i = 0; i < n; i++) {
		FILE *f = fopen(files[i], "rb");

		if (!f) {
			perror(files[i]);
			return 1;
		}
		g.len = fread(g.buf, 1, sizeof(g.buf), f);
		fclose(f);
		printf("%s: %zu bytes\n", files[i], g.len);
		fflush(stdout);
		LLVMFuzzerTestOneInput(g.buf, g.len);
	}
	if (reactor)
		fdr_reactor_destroy(reactor);
	return 0;
}

/* fuzz_cmd_smoke [iterations [seconds]] | --seeds DIR | --replay FILE... */
int main(int argc, char **argv)
{
	static struct gen g;
	unsigned iters = argc > 1 ? (unsigned)atoi(argv[1]) : 2000;
	unsigned secs = argc > 2 ? (unsigned)atoi(argv[2]) : 20;
	time_t t0 = time(NULL);
	unsigned i;

	if (argc > 2 && strcmp(argv[1], "--seeds") == 0)
		return write_seeds(argv[2]);
	if (argc > 1 && strcmp(argv[1], "--replay") == 0)
		return replay(argc - 2, argv + 2);
	for (i = 0; i < NR_SEEDS; i++)
		LLVMFuzzerTestOneInput(g.buf, seed_input(&g, i));
	for (i = 0; i < iters && (unsigned)(time(NULL) - t0) < secs; i++) {
		if (i % 2) {
			seed_input(&g, rnd(NR_SEEDS));
			mutate(&g);
		} else {
			random_input(&g);
		}
		LLVMFuzzerTestOneInput(g.buf, g.len);
	}
	if (reactor)
		fdr_reactor_destroy(reactor);
	printf("fuzz_cmd smoke: %u built-in and %u generated inputs ok; %llu commands completed, "
	       "%llu admin and %llu I/O successfully\n", NR_SEEDS, i, (unsigned long long)nr_done,
	       (unsigned long long)nr_ok_admin, (unsigned long long)nr_ok_io);
	return 0;
}
#endif

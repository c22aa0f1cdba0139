/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Fuzzes nvmedump's pcapng reader (tools/nvmedump/pcapng.c), which takes
 * files from anywhere: the input is a pcapng file.  Every event read is
 * formatted (as nvmedump prints it) and written again with the pcapng
 * writer; reading that back must give as many events, and no error.
 *
 * Built with -fsanitize=fuzzer this is a libFuzzer target; otherwise a
 * main() runs mutations of a file the writer made (a smoke test).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <frankendrive/nvme.h>
#include <frankendrive/nvme_tcp.h>

#include "format.h"
#include "pcapng.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_EVENTS 5000

/* Read all events of f, formatting each and, with w, writing it.
 * The number read; *err: whether reading ended in an error. */
static unsigned read_all(FILE *f, struct nvmedump_pcapng_writer *w, bool *err)
{
	char line[NVMEDUMP_LINE_MAX];
	struct nvmedump_pcapng_reader *r;
	struct fdr_rec_event ev;
	unsigned n = 0;
	int rc = 0;

	r = nvmedump_pcapng_reader_open(f, false, line, sizeof(line));
	*err = !r;
	if (!r)
		return 0;
	if (w)
		nvmedump_pcapng_write_lost(w, nvmedump_pcapng_reader_lost(r));
	while (n < MAX_EVENTS && (rc = nvmedump_pcapng_reader_next(r, &ev)) > 0) {
		nvmedump_format(&ev, line, sizeof(line));
		if (w && nvmedump_pcapng_write_event(w, &ev, line) != 0)
			abort();
		n++;
	}
	*err = rc < 0;
	if (rc < 0 && !nvmedump_pcapng_reader_error(r)[0])
		abort(); /* an error says what it is */
	nvmedump_pcapng_reader_close(r);
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *in, *out, *again;
	struct nvmedump_pcapng_writer *w;
	unsigned n1, n2;
	bool err;

	if (size == 0)
		return 0;
	in = fmemopen((void *)data, size, "rb");
	out = open_memstream(&buf, &len);
	if (!in || !out)
		abort();
	w = nvmedump_pcapng_writer_open(out, "nqn.fuzz", 64, 0);
	if (!w)
		abort();
	n1 = read_all(in, w, &err);
	fclose(in);
	if (nvmedump_pcapng_writer_close(w) != 0 || fclose(out) != 0)
		abort();

	/* what we wrote reads back whole */
	again = fmemopen(buf, len, "rb");
	if (!again)
		abort();
	n2 = read_all(again, NULL, &err);
	fclose(again);
	if (err || n2 != n1) {
		fprintf(stderr, "fuzz_pcapng: %u events read, %u after writing them%s\n", n1, n2,
			err ? " (and an error)" : "");
		abort();
	}
	free(buf);
	return 0;
}

#ifndef FDR_LIBFUZZER
/* ---- Smoke driver: mutations of a file the writer made ---- */

#define FUZZ_RNG_SEED 0x2545f4914f6cdd1dull
#include "smoke.h"

static struct fdr_rec_event mk(uint16_t kind, uint64_t seq, uint32_t conn, uint16_t qid)
{
	struct fdr_rec_event e;

	memset(&e, 0, sizeof(e));
	e.seq = seq + 1;
	e.wall_ns = 1700000000000000000ull + seq * 1000;
	e.kind = kind;
	e.conn = conn;
	e.qid = qid;
	e.cntlid = 1;
	e.admin = qid == 0;
	return e;
}

static size_t make_seed(char **seed)
{
	struct fdr_rec_event ev[14];
	char line[NVMEDUMP_LINE_MAX];
	size_t len = 0;
	FILE *f = open_memstream(seed, &len);
	struct nvmedump_pcapng_writer *w = f ? nvmedump_pcapng_writer_open(f, "nqn.seed", 64, 1) : NULL;
	unsigned n = 0;

	if (!w)
		abort();
	ev[n] = mk(FDR_REC_CMD, 0, 1, 0); /* a Connect, then a Read with data */
	ev[n].u.cmd.sqe.opc = NVME_ADM_FABRICS;
	ev[n].u.cmd.sqe.nsid = NVME_FCTYPE_CONNECT;
	ev[n].u.cmd.sqe.cdw10 = 1u << 16;
	ev[n++].cntlid = 0;
	ev[n] = mk(FDR_REC_CPL, 1, 1, 1);
	ev[n++].u.cpl.cqe.cdw0 = 1;
	ev[n] = mk(FDR_REC_CMD, 2, 1, 1);
	ev[n].cid = 7;
	ev[n].u.cmd.sqe.opc = NVME_IO_READ;
	ev[n++].u.cmd.sqe.cid = 7;
	ev[n] = mk(FDR_REC_DATA, 3, 1, 1);
	ev[n].cid = 7;
	ev[n++].len = 40;
	ev[n] = mk(FDR_REC_CPL, 4, 1, 1);
	ev[n].u.cpl.cqe.cid = 7;
	ev[n].u.cpl.cqe.status = 0x502;
	ev[n++].u.cpl.latency_ns = 4000;
	ev[n] = mk(FDR_REC_CPL, 5, 2, 3); /* a queue seen first by a completion */
	ev[n].u.cpl.cqe.cid = 9;
	ev[n++].u.cpl.latency_ns = 1234;
	ev[n] = mk(FDR_REC_REG_READ, 6, 0, 0);
	ev[n++].u.reg.size = 8;
	ev[n] = mk(FDR_REC_ACTION, 7, 1, 1);
	strcpy(ev[n++].u.action.who, "rule 1");
	ev[n++] = mk(FDR_REC_DISCONNECT, 8, 1, 0);
	/* a PCIe function (00:06.0): a Read, its completion, an interrupt */
	ev[n] = mk(FDR_REC_CMD, 9, FDR_REC_PCI_CONN(1, 0x30), 1);
	ev[n].xport = FDR_REC_XPORT_PCIE;
	ev[n].cid = 7;
	ev[n].u.cmd.sqe.opc = NVME_IO_READ;
	ev[n++].u.cmd.sqe.cid = 7;
	ev[n] = mk(FDR_REC_CPL, 10, FDR_REC_PCI_CONN(1, 0x30), 1);
	ev[n].xport = FDR_REC_XPORT_PCIE;
	ev[n++].u.cpl.cqe.cid = 7;
	ev[n] = mk(FDR_REC_IRQ, 11, FDR_REC_PCI_CONN(1, 0x30), 1);
	ev[n].xport = FDR_REC_XPORT_PCIE;
	ev[n++].u.irq.cqid = 1;
	for (unsigned i = 0; i < n; i++) {
		nvmedump_format(&ev[i], line, sizeof(line));
		if (nvmedump_pcapng_write_event(w, &ev[i], line) != 0)
			abort();
		if (i == 4 && nvmedump_pcapng_write_lost(w, 2) != 0)
			abort();
	}
	if (nvmedump_pcapng_writer_close(w) != 0 || fclose(f) != 0)
		abort();
	return len;
}

int main(int argc, char **argv)
{
	static uint8_t buf[65536];
	unsigned iters = argc > 1 ? (unsigned)atoi(argv[1]) : 3000;
	char *seed;
	size_t seed_len = make_seed(&seed);

	if (seed_len * 2 > sizeof(buf))
		abort();
	for (unsigned i = 0; i < iters; i++) {
		size_t len = seed_len;

		memcpy(buf, seed, len);
		for (unsigned m = 1 + rnd(6); m; m--) {
			size_t at = rnd((uint32_t)len);

			switch (rnd(5)) {
			case 0: /* flip a byte */
				buf[at] ^= (uint8_t)(1 + rnd(255));
				break;
			case 1: /* an interesting value */
				buf[at] = (uint8_t[]){0, 1, 4, 7, 12, 24, 72, 0x7f, 0x80, 0xff}[rnd(10)];
				break;
			case 2: /* an interesting 32-bit length */
				if (at + 4 <= len) {
					uint32_t v = (uint32_t[]){0, 8, 12, 13, 28, 0xffff, 0x7fffffff,
								  0xffffffff}[rnd(8)];

					memcpy(buf + at, &v, 4);
				}
				break;
			case 3: /* truncate */
				len = 1 + rnd((uint32_t)len);
				break;
			default: /* duplicate a stretch */
				if (len * 2 <= sizeof(buf)) {
					memcpy(buf + len, buf + at, len - at);
					len += len - at;
				}
				break;
			}
		}
		LLVMFuzzerTestOneInput(buf, len);
	}
	LLVMFuzzerTestOneInput((const uint8_t *)seed, seed_len);
	free(seed);
	printf("fuzz smoke: %u inputs ok\n", iters + 1);
	return 0;
}
#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fdr_bench: random read/write load over NVMe/TCP with the project's host
 * library.  One thread per I/O queue (pinned), QD commands in flight per
 * queue, latency histogram without allocation per I/O, CPU use of itself
 * and optionally of the target process.
 *
 *   fdr_bench [--addr A] [--port P] [--nqn N] [--workload randread|randwrite|randrw]
 *             [--bs BYTES] [--qd N] [--queues N] [--time S] [--ramp S] [--nsid N]
 *             [--range-mb M] [--cpus LIST] [--target-pid PID] [--hdgst] [--ddgst]
 *             [--busy-poll]
 *
 * The last line of output is machine readable:
 *   RESULT workload=.. bs=.. qd=.. queues=.. iops=.. mibs=.. p50_us=.. p99_us=..
 *          p999_us=.. cpu_bench=.. cpu_target=.. errors=..
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_util.h"
#include "fdr_host.h"

/* Log-linear histogram: 2^HSUB sub-buckets per power of two, in ns. */

enum workload { W_READ, W_WRITE, W_RW };

struct cfg {
	const char *addr, *port, *nqn;
	enum workload w;
	uint32_t bs, qd, nq;
	double time_s, ramp_s;
	uint32_t nsid;
	uint64_t range_mb;
	int cpus[256];
	int ncpus;
	int target_pid;
	bool hdgst, ddgst, busy;
};

struct slot {
	struct worker *w;
	uint8_t *buf;
	uint64_t t_submit;
	bool write;
};

struct worker {
	pthread_t th;
	unsigned idx;
	struct fdr_host_queue *q;
	struct slot *slots;
	uint64_t rng;
	uint64_t nblocks; /* in units of bs */
	uint32_t lbas_per_io, lba_shift;
	uint64_t ios, errors;
	uint64_t hist[BENCH_HBUCKETS];
	uint64_t lat_max;
	bool measuring, stop;
	char err[256];
};

static struct cfg g_cfg;
static atomic_int g_phase; /* 0 ramp, 1 measure, 2 stop */

static void io_done(void *arg, const struct nvme_cqe *cqe);

static int submit(struct worker *w, struct slot *s)
{
	struct nvme_sqe cmd;
	uint64_t blk = bench_rnd(&w->rng) % w->nblocks;
	uint64_t slba = blk * w->lbas_per_io;

	switch (g_cfg.w) {
	case W_READ:
		s->write = false;
		break;
	case W_WRITE:
		s->write = true;
		break;
	default:
		s->write = bench_rnd(&w->rng) & 1;
	}
	memset(&cmd, 0, sizeof(cmd));
	cmd.opc = s->write ? NVME_IO_WRITE : NVME_IO_READ;
	cmd.nsid = g_cfg.nsid;
	cmd.cdw10 = (uint32_t)slba;
	cmd.cdw11 = (uint32_t)(slba >> 32);
	cmd.cdw12 = w->lbas_per_io - 1;
	s->t_submit = bench_now_ns();
	return fdr_host_submit(w->q, &cmd, s->buf, g_cfg.bs, io_done, s);
}

static void io_done(void *arg, const struct nvme_cqe *cqe)
{
	struct slot *s = arg;
	struct worker *w = s->w;
	uint64_t lat = bench_now_ns() - s->t_submit;
	int rc;

	if (fdr_host_sct_sc(cqe)) {
		if (!w->errors++)
			snprintf(w->err, sizeof(w->err), "%s failed: status %#x",
				 s->write ? "write" : "read", fdr_host_sct_sc(cqe));
	}
	if (w->measuring) {
		w->ios++;
		w->hist[bench_hist_bucket(lat)]++;
		if (lat > w->lat_max)
			w->lat_max = lat;
	}
	if (w->stop)
		return;
	rc = submit(w, s);
	if (rc && !w->errors++)
		snprintf(w->err, sizeof(w->err), "resubmit: %s", strerror(-rc));
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	if (g_cfg.ncpus) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(g_cfg.cpus[w->idx % (unsigned)g_cfg.ncpus], &set);
		pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	}
	for (unsigned i = 0; i < g_cfg.qd; i++) {
		int rc = submit(w, &w->slots[i]);

		if (rc) {
			snprintf(w->err, sizeof(w->err), "submit: %s", strerror(-rc));
			w->errors++;
			return NULL;
		}
	}
	for (;;) {
		int phase = atomic_load_explicit(&g_phase, memory_order_relaxed);
		int rc;

		if (phase == 1 && !w->measuring)
			w->measuring = true;
		if (phase == 2 && !w->stop) {
			w->stop = true;
			w->measuring = false;
		}
		if (w->stop && !fdr_host_queue_inflight(w->q))
			break;
		rc = fdr_host_poll(w->q, g_cfg.busy ? 0 : 1);
		if (rc < 0) {
			snprintf(w->err, sizeof(w->err), "queue failed: %s",
				 fdr_host_queue_error(w->q));
			w->errors++;
			break;
		}
	}
	return NULL;
}

static int parse_cpus(const char *s)
{
	char *copy = strdup(s), *tok, *save = NULL;

	g_cfg.ncpus = 0;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int a, b;

		if (sscanf(tok, "%d-%d", &a, &b) == 2) {
			for (int i = a; i <= b && g_cfg.ncpus < 256; i++)
				g_cfg.cpus[g_cfg.ncpus++] = i;
		} else if (sscanf(tok, "%d", &a) == 1 && g_cfg.ncpus < 256) {
			g_cfg.cpus[g_cfg.ncpus++] = a;
		} else {
			free(copy);
			return -1;
		}
	}
	free(copy);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: fdr_bench [options]\n"
		"  --addr A            target address (127.0.0.1)\n"
		"  --port P            target port (4420)\n"
		"  --nqn N             subsystem NQN (nqn.2026-11.io.frankendrive:drive0)\n"
		"  --workload W        randread | randwrite | randrw (randread)\n"
		"  --bs BYTES          block size (4096)\n"
		"  --qd N              commands in flight per queue (32)\n"
		"  --queues N          I/O queues, one thread each (1)\n"
		"  --time S            measured seconds (10)\n"
		"  --ramp S            unmeasured seconds first (1)\n"
		"  --nsid N            namespace (1)\n"
		"  --range-mb M        limit offsets to the first M MiB (whole namespace)\n"
		"  --cpus LIST         pin threads round robin, e.g. 1 or 2-5 (no pinning)\n"
		"  --target-pid PID    also report the CPU use of this process\n"
		"  --hdgst --ddgst     request digests\n"
		"  --busy-poll         never sleep in poll()\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "addr", required_argument, NULL, 'a' },
		{ "port", required_argument, NULL, 'p' },
		{ "nqn", required_argument, NULL, 'n' },
		{ "workload", required_argument, NULL, 'w' },
		{ "bs", required_argument, NULL, 'b' },
		{ "qd", required_argument, NULL, 'q' },
		{ "queues", required_argument, NULL, 'Q' },
		{ "time", required_argument, NULL, 't' },
		{ "ramp", required_argument, NULL, 'r' },
		{ "nsid", required_argument, NULL, 'N' },
		{ "range-mb", required_argument, NULL, 'R' },
		{ "cpus", required_argument, NULL, 'c' },
		{ "target-pid", required_argument, NULL, 'T' },
		{ "hdgst", no_argument, NULL, 'H' },
		{ "ddgst", no_argument, NULL, 'D' },
		{ "busy-poll", no_argument, NULL, 'B' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct fdr_host_opts o;
	struct fdr_host_ctrl *c;
	struct worker *ws;
	struct nvme_id_ns *ns;
	struct nvme_sqe cmd;
	struct nvme_cqe cqe;
	char err[512];
	int opt, rc = 0;
	uint32_t lbasz;
	uint64_t nsbytes, total = 0, errors = 0, lat_max = 0;
	static uint64_t hist[BENCH_HBUCKETS];
	double t0, t1, cpu0, cpu1, tcpu0 = -1, tcpu1 = -1, secs, iops;
	double pct[3] = { 50.0, 99.0, 99.9 }, pv[3] = { 0, 0, 0 };

	g_cfg.addr = "127.0.0.1";
	g_cfg.port = "4420";
	g_cfg.nqn = "nqn.2026-11.io.frankendrive:drive0";
	g_cfg.w = W_READ;
	g_cfg.bs = 4096;
	g_cfg.qd = 32;
	g_cfg.nq = 1;
	g_cfg.time_s = 10;
	g_cfg.ramp_s = 1;
	g_cfg.nsid = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'a': g_cfg.addr = optarg; break;
		case 'p': g_cfg.port = optarg; break;
		case 'n': g_cfg.nqn = optarg; break;
		case 'w':
			if (!strcmp(optarg, "randread"))
				g_cfg.w = W_READ;
			else if (!strcmp(optarg, "randwrite"))
				g_cfg.w = W_WRITE;
			else if (!strcmp(optarg, "randrw"))
				g_cfg.w = W_RW;
			else {
				usage(stderr);
				return 2;
			}
			break;
		case 'b': g_cfg.bs = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'q': g_cfg.qd = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'Q': g_cfg.nq = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 't': g_cfg.time_s = strtod(optarg, NULL); break;
		case 'r': g_cfg.ramp_s = strtod(optarg, NULL); break;
		case 'N': g_cfg.nsid = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'R': g_cfg.range_mb = strtoull(optarg, NULL, 0); break;
		case 'c':
			if (parse_cpus(optarg)) {
				fprintf(stderr, "bad --cpus list\n");
				return 2;
			}
			break;
		case 'T': g_cfg.target_pid = atoi(optarg); break;
		case 'H': g_cfg.hdgst = true; break;
		case 'D': g_cfg.ddgst = true; break;
		case 'B': g_cfg.busy = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!g_cfg.bs || !g_cfg.qd || !g_cfg.nq || g_cfg.qd > 1024 || g_cfg.nq > 256 ||
	    g_cfg.time_s <= 0) {
		usage(stderr);
		return 2;
	}

	memset(&o, 0, sizeof(o));
	o.addr = g_cfg.addr;
	o.port = g_cfg.port;
	o.subnqn = g_cfg.nqn;
	o.nr_io_queues = (uint16_t)g_cfg.nq;
	o.qdepth = (uint16_t)g_cfg.qd;
	o.hdgst = g_cfg.hdgst;
	o.ddgst = g_cfg.ddgst;
	o.timeout_ms = 10000;
	c = fdr_host_connect(&o, err, sizeof(err));
	if (!c) {
		fprintf(stderr, "fdr_bench: connect: %s\n", err);
		return 1;
	}
	if (fdr_host_nr_io_queues(c) < g_cfg.nq ||
	    fdr_host_queue_depth(fdr_host_ioq(c, 0)) < g_cfg.qd) {
		fprintf(stderr, "fdr_bench: got %u queues of depth %u, wanted %u of %u\n",
			fdr_host_nr_io_queues(c), fdr_host_queue_depth(fdr_host_ioq(c, 0)),
			g_cfg.nq, g_cfg.qd);
		fdr_host_disconnect(c);
		return 1;
	}
	ns = aligned_alloc(4096, 4096);
	memset(&cmd, 0, sizeof(cmd));
	cmd.opc = NVME_ADM_IDENTIFY;
	cmd.nsid = g_cfg.nsid;
	cmd.cdw10 = NVME_CNS_NS;
	if (fdr_host_admin(c, &cmd, ns, 4096, &cqe) || fdr_host_sct_sc(&cqe) || !ns->nsze) {
		fprintf(stderr, "fdr_bench: Identify Namespace %u failed\n", g_cfg.nsid);
		fdr_host_disconnect(c);
		return 1;
	}
	lbasz = 1u << ns->lbaf[ns->flbas & 0xf].lbads;
	nsbytes = ns->nsze * lbasz;
	free(ns);
	if (g_cfg.bs % lbasz) {
		fprintf(stderr, "fdr_bench: --bs %u is not a multiple of the LBA size %u\n",
			g_cfg.bs, lbasz);
		fdr_host_disconnect(c);
		return 1;
	}
	if (g_cfg.range_mb && g_cfg.range_mb << 20 < nsbytes)
		nsbytes = g_cfg.range_mb << 20;

	ws = calloc(g_cfg.nq, sizeof(*ws));
	for (unsigned i = 0; i < g_cfg.nq; i++) {
		struct worker *w = &ws[i];

		w->idx = i;
		w->q = fdr_host_ioq(c, i);
		w->rng = 0x9e3779b97f4a7c15ull * (i + 1) ^ (uint64_t)bench_now_ns();
		if (!w->rng)
			w->rng = 1;
		w->nblocks = nsbytes / g_cfg.bs;
		w->lbas_per_io = g_cfg.bs / lbasz;
		w->slots = calloc(g_cfg.qd, sizeof(*w->slots));
		for (unsigned k = 0; k < g_cfg.qd; k++) {
			w->slots[k].w = w;
			w->slots[k].buf = aligned_alloc(4096, (g_cfg.bs + 4095) / 4096 * 4096);
			memset(w->slots[k].buf, (int)(0x5a + k), g_cfg.bs);
		}
	}
	atomic_store(&g_phase, g_cfg.ramp_s > 0 ? 0 : 1);
	for (unsigned i = 0; i < g_cfg.nq; i++)
		pthread_create(&ws[i].th, NULL, worker_main, &ws[i]);
	if (g_cfg.ramp_s > 0) {
		usleep((useconds_t)(g_cfg.ramp_s * 1e6));
		atomic_store(&g_phase, 1);
	}
	t0 = (double)bench_now_ns() / 1e9;
	cpu0 = bench_self_cpu_s();
	if (g_cfg.target_pid)
		tcpu0 = bench_proc_cpu_s(g_cfg.target_pid);
	usleep((useconds_t)(g_cfg.time_s * 1e6));
	/* Counters are read after the threads stop; the measured window ends here. */
	t1 = (double)bench_now_ns() / 1e9;
	cpu1 = bench_self_cpu_s();
	if (g_cfg.target_pid)
		tcpu1 = bench_proc_cpu_s(g_cfg.target_pid);
	atomic_store(&g_phase, 2);
	for (unsigned i = 0; i < g_cfg.nq; i++)
		pthread_join(ws[i].th, NULL);
	secs = t1 - t0;

	for (unsigned i = 0; i < g_cfg.nq; i++) {
		total += ws[i].ios;
		errors += ws[i].errors;
		if (ws[i].lat_max > lat_max)
			lat_max = ws[i].lat_max;
		for (unsigned b = 0; b < BENCH_HBUCKETS; b++)
			hist[b] += ws[i].hist[b];
		if (ws[i].errors)
			fprintf(stderr, "fdr_bench: queue %u: %llu errors, first: %s\n", i,
				(unsigned long long)ws[i].errors, ws[i].err);
	}
	for (int k = 0; k < 3; k++)
		pv[k] = bench_hist_pct_us(hist, total, pct[k]);
	iops = (double)total / secs;
	printf("fdr_bench: %s bs=%u qd=%u queues=%u time=%.1fs target=%s:%s %s\n",
	       g_cfg.w == W_READ ? "randread" : g_cfg.w == W_WRITE ? "randwrite" : "randrw",
	       g_cfg.bs, g_cfg.qd, g_cfg.nq, secs, g_cfg.addr, g_cfg.port, g_cfg.nqn);
	printf("  IOPS        %.0f\n", iops);
	printf("  bandwidth   %.1f MiB/s\n", iops * g_cfg.bs / 1048576.0);
	printf("  latency     p50 %.1f us, p99 %.1f us, p99.9 %.1f us, max %.1f us\n", pv[0], pv[1],
	       pv[2], (double)lat_max / 1000.0);
	printf("  CPU bench   %.1f%% of one core\n", 100.0 * (cpu1 - cpu0) / secs);
	if (g_cfg.target_pid && tcpu0 >= 0 && tcpu1 >= 0)
		printf("  CPU target  %.1f%% of one core (pid %d)\n",
		       100.0 * (tcpu1 - tcpu0) / secs, g_cfg.target_pid);
	printf("  errors      %llu\n", (unsigned long long)errors);
	printf("RESULT workload=%s bs=%u qd=%u queues=%u iops=%.0f mibs=%.1f p50_us=%.1f p99_us=%.1f p999_us=%.1f cpu_bench=%.1f cpu_target=%.1f errors=%llu\n",
	       g_cfg.w == W_READ ? "randread" : g_cfg.w == W_WRITE ? "randwrite" : "randrw",
	       g_cfg.bs, g_cfg.qd, g_cfg.nq, iops, iops * g_cfg.bs / 1048576.0, pv[0], pv[1], pv[2],
	       100.0 * (cpu1 - cpu0) / secs,
	       (g_cfg.target_pid && tcpu0 >= 0 && tcpu1 >= 0) ? 100.0 * (tcpu1 - tcpu0) / secs : -1.0,
	       (unsigned long long)errors);
	if (errors)
		rc = 1;
	if (fdr_host_disconnect(c))
		fprintf(stderr, "fdr_bench: orderly disconnect failed\n");
	for (unsigned i = 0; i < g_cfg.nq; i++) {
		for (unsigned k = 0; k < g_cfg.qd; k++)
			free(ws[i].slots[k].buf);
		free(ws[i].slots);
	}
	free(ws);
	return rc;
}

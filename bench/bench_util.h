/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What the benchmarks share: a clock, a PRNG, CPU accounting and a latency
 * histogram (log-linear: 2^BENCH_HSUB sub-buckets per power of two of ns).
 */
#ifndef FDR_BENCH_UTIL_H
#define FDR_BENCH_UTIL_H

#include <stdint.h>

#define BENCH_HSUB 5
#define BENCH_HBUCKETS (64 << BENCH_HSUB)

/* CLOCK_MONOTONIC in ns. */
uint64_t bench_now_ns(void);
/* xorshift64: *s must start non-zero. */
uint64_t bench_rnd(uint64_t *s);
/* This process's utime + stime in seconds. */
double bench_self_cpu_s(void);
/* utime + stime of process pid from /proc, in seconds; -1 if it is gone. */
double bench_proc_cpu_s(int pid);
/* The histogram bucket of v ns. */
unsigned bench_hist_bucket(uint64_t v);
/* The value of percentile pct (0-100) of the total samples in hist, in
 * us (the upper edge of its bucket); 0 without samples. */
double bench_hist_pct_us(const uint64_t *hist, uint64_t total, double pct);

#endif

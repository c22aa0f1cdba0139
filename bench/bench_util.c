/* SPDX-License-Identifier: BSD-2-Clause */
/* Helpers shared by the benchmarks: see bench_util.h. */
#include "bench_util.h"

#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t bench_rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

double bench_self_cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

double bench_proc_cpu_s(int pid)
{
	char path[64], buf[4096], *p;
	unsigned long long ut = 0, st = 0;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	p = strrchr(buf, ')');
	if (!p)
		return -1;
	/* After ")": state(3) ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime(14) stime(15) */
	if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

unsigned bench_hist_bucket(uint64_t v)
{
	unsigned msb, shift;

	if (v < (1u << BENCH_HSUB))
		return (unsigned)v;
	msb = 63u - (unsigned)__builtin_clzll(v);
	shift = msb - BENCH_HSUB;
	return ((shift + 1) << BENCH_HSUB) + (unsigned)((v >> shift) & ((1u << BENCH_HSUB) - 1));
}

/* The upper edge of bucket b's range. */
static uint64_t hist_value(unsigned b)
{
	unsigned shift;

	if (b < (1u << BENCH_HSUB))
		return b;
	shift = (b >> BENCH_HSUB) - 1;
	return ((uint64_t)((1u << BENCH_HSUB) | (b & ((1u << BENCH_HSUB) - 1))) << shift) +
	       ((1ull << shift) - 1);
}

double bench_hist_pct_us(const uint64_t *hist, uint64_t total, double pct)
{
	uint64_t want = (uint64_t)((double)total * pct / 100.0), acc = 0;

	for (unsigned b = 0; b < BENCH_HBUCKETS && total; b++) {
		acc += hist[b];
		if (acc > want || acc == total)
			return (double)hist_value(b) / 1000.0;
	}
	return 0;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * nvmedump: print the flight recorder's events, filtered, one per line.
 * See docs/nvmedump.1.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "filter.h"
#include "format.h"
#include "recorder/recorder.h"

#ifndef FDR_VERSION
#define FDR_VERSION "unknown"
#endif

/* Exit codes (docs/nvmedump.1) */
#define EXIT_OK 0
#define EXIT_RUNTIME 1 /* the file could not be read, or output failed */
#define EXIT_USAGE 2   /* bad option or filter, or not implemented yet */

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: nvmedump [OPTIONS] -r FILE [EXPRESSION...]\n"
		"Print the frankendrive flight recorder's events, one line each.\n"
		"\n"
		"  -r, --read FILE     read a ring file (the drive's --record file) or a\n"
		"                      core file of the drive\n"
		"  -c, --count N       stop after N events are printed\n"
		"  -f, --follow        keep reading a live ring for new events until\n"
		"                      interrupted (Ctrl-C)\n"
		"      --lost          also print a LOST line where events were\n"
		"                      overwritten before they could be read\n"
		"  -h, --help          this text\n"
		"  -V, --version       the version\n"
		"\n"
		"EXPRESSION selects events (all words are joined into one):\n"
		"  qid N | ns N | ctrl N | opc NAME | admin | io\n"
		"  status | status == N | status != N     (CPL; N is SCT<<8|SC, e.g. 0x182)\n"
		"  lba A-B | lba A                        (Read/Write/Compare/... commands)\n"
		"  latency OP DURATION                    (CPL; OP < <= > >= == !=;\n"
		"                                          DURATION e.g. 500us, 1.5ms, 2s)\n"
		"  kind cmd|cpl|pdu|pdu-rx|pdu-tx|reg|reg-read|reg-write|aen|conn|\n"
		"       connect|disconnect|action|data\n"
		"  joined by not (!), and (&&), or (||) and parentheses; not binds\n"
		"  tightest, then and, then or.  A primitive about a field an event does\n"
		"  not have is false (CPLs carry no namespace or LBA: filter the command).\n"
		"  Example: nvmedump -r /var/tmp/fdr.ring 'io and (status or latency > 10ms)'\n"
		"\n"
		"Line format: [index] sec:nsec dev KIND fields...  (see nvmedump(1))\n"
		"At the end, \"N events shown, M lost (overwritten before read)\" goes to\n"
		"standard error.\n"
		"\n"
		"Exit status: 0 success; 1 the file could not be read or output failed;\n"
		"2 usage error (bad option or expression, no -r).\n");
}

static bool parse_count(const char *s, uint64_t *out)
{
	char *end;

	errno = 0;
	if (s[0] < '0' || s[0] > '9')
		return false;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end != '\0' || v == 0)
		return false;
	*out = v;
	return true;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {0, ms * 1000000L};

	nanosleep(&ts, NULL); /* EINTR ends it early: fine, stop is checked */
}

static void print_filter_error(const char *expr, const struct nvmedump_filter_err *e)
{
	fprintf(stderr, "nvmedump: bad expression at column %zu: %s\n", e->pos + 1, e->msg);
	fprintf(stderr, "  %s\n  %*s^\n", expr, (int)e->pos, "");
}

int main(int argc, char **argv)
{
	enum { OPT_LOST = 256 };
	static const struct option longopts[] = {
		{"read", required_argument, NULL, 'r'},
		{"count", required_argument, NULL, 'c'},
		{"follow", no_argument, NULL, 'f'},
		{"lost", no_argument, NULL, OPT_LOST},
		{"write", required_argument, NULL, 'w'},
		{"snaplen", required_argument, NULL, 's'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	const char *file = NULL, *wfile = NULL;
	uint64_t count = 0, shown = 0, lost_seen = 0;
	bool follow = false, show_lost = false, snaplen_given = false;
	int c, rc = EXIT_OK;

	while ((c = getopt_long(argc, argv, "+r:c:fw:s:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'r':
			file = optarg;
			break;
		case 'c':
			if (!parse_count(optarg, &count)) {
				fprintf(stderr, "nvmedump: -c %s: expected a positive number\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'f':
			follow = true;
			break;
		case OPT_LOST:
			show_lost = true;
			break;
		case 'w':
			wfile = optarg;
			break;
		case 's':
			snaplen_given = true;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case 'V':
			printf("nvmedump (frankendrive) %s\n", FDR_VERSION);
			return EXIT_OK;
		default:
			fprintf(stderr, "Try 'nvmedump --help'.\n");
			return EXIT_USAGE;
		}
	}
	if (wfile || snaplen_given) {
		fprintf(stderr, "nvmedump: -w/-s (pcapng output): not yet\n");
		return EXIT_USAGE;
	}

	char *expr = nvmedump_filter_join(argc - optind, argv + optind);
	struct nvmedump_filter_err ferr;
	struct nvmedump_filter *filter;

	if (!expr) {
		fprintf(stderr, "nvmedump: out of memory\n");
		return EXIT_RUNTIME;
	}
	filter = nvmedump_filter_parse(expr, &ferr);
	if (!filter) {
		if (ferr.msg[0])
			print_filter_error(expr, &ferr);
		else
			fprintf(stderr, "nvmedump: out of memory\n");
		free(expr);
		return EXIT_USAGE;
	}
	if (!file) {
		fprintf(stderr, "nvmedump: live capture through the control socket: not yet (use -r)\n");
		nvmedump_filter_free(filter);
		free(expr);
		return EXIT_USAGE;
	}

	char err[256] = "";
	struct fdr_rec_reader *r = fdr_rec_reader_open(file, err, sizeof(err));

	if (!r) {
		fprintf(stderr, "nvmedump: %s\n", err[0] ? err : file);
		nvmedump_filter_free(filter);
		free(expr);
		return EXIT_RUNTIME;
	}
	const struct fdr_rec_file_hdr *h = fdr_rec_reader_hdr(r);
	char dev[sizeof(h->dev) + 1];

	memcpy(dev, h->dev, sizeof(h->dev));
	dev[sizeof(h->dev)] = '\0';
	fprintf(stderr, "reading from %s: %s, %" PRIu64 " slots, snaplen %" PRIu32 "%s\n", file,
		dev[0] ? dev : "-", (uint64_t)h->nr_slots, (uint32_t)h->snaplen,
		(h->flags & FDR_REC_F_REDACT_ADDRS) ? ", addresses redacted" : "");

	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART: interrupt the sleep */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN); /* a closed pipe shows as a write error */

	struct fdr_rec_event ev;
	char line[NVMEDUMP_LINE_MAX];

	while (!stop && (count == 0 || shown < count)) {
		int n = fdr_rec_reader_next(r, &ev);
		uint64_t lost = fdr_rec_reader_lost(r);

		if (show_lost && lost > lost_seen)
			printf("LOST %" PRIu64 " events (overwritten before read)\n", lost - lost_seen);
		lost_seen = lost;
		if (n < 0) {
			fprintf(stderr, "nvmedump: %s: read error\n", file);
			rc = EXIT_RUNTIME;
			break;
		}
		if (n == 0) {
			if (!follow)
				break;
			if (fflush(stdout) != 0)
				break;
			sleep_ms(20);
			continue;
		}
		if (!nvmedump_filter_match(filter, &ev))
			continue;
		nvmedump_format(&ev, line, sizeof(line));
		if (puts(line) == EOF)
			break;
		shown++;
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		if (errno != EPIPE) {
			fprintf(stderr, "nvmedump: writing output: %s\n", strerror(errno));
			rc = EXIT_RUNTIME;
		}
	}
	lost_seen = fdr_rec_reader_lost(r);
	fprintf(stderr, "%" PRIu64 " events shown, %" PRIu64 " lost (overwritten before read)\n",
		shown, lost_seen);
	fdr_rec_reader_close(r);
	nvmedump_filter_free(filter);
	free(expr);
	return rc;
}

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
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "filter.h"
#include "format.h"
#include "live.h"
#include "pcapng.h"
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
		"Usage: nvmedump [OPTIONS] [-r FILE | -i DRIVE] [EXPRESSION...]\n"
		"Print the frankendrive flight recorder's events, one line each.\n"
		"\n"
		"  -r, --read FILE     read a ring file (the drive's --record file), a\n"
		"                      core file of the drive, or a pcapng file that -w\n"
		"                      wrote (\"-\": standard input)\n"
		"  -i, --interface DRIVE\n"
		"                      capture live from a running drive until Ctrl-C\n"
		"                      (or -c, or the drive exits): DRIVE is its control\n"
		"                      socket (its --ctl PATH) or its port (the default\n"
		"                      socket, as frankendrive ctl --port).  Without -r\n"
		"                      and -i: the drive on port 4420\n"
		"      --oldest        live: start at the oldest event the ring still\n"
		"                      holds (default: new events only)\n"
		"  -c, --count N       stop after N events are printed\n"
		"  -f, --follow        keep reading a live ring for new events until\n"
		"                      interrupted (Ctrl-C)\n"
		"      --lost          also print a LOST line where events were\n"
		"                      overwritten before they could be read\n"
		"  -w, --write FILE    write pcapng (Wireshark, tshark) instead of text\n"
		"                      to FILE (\"-\": standard output), after filtering\n"
		"  -s, --snaplen N     at most N data bytes per command in the output\n"
		"                      (DATA events beyond are cut or dropped; 0: none)\n"
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
		"       connect|disconnect|action|data|cfg|cfg-read|cfg-write|irq|dma|\n"
		"       doorbell\n"
		"  pci [BB:DD.F] | tcp                    (by transport; PCIe: one function)\n"
		"  doorbell | vector N                    (PCIe doorbells; MSI-X vector N)\n"
		"  joined by not (!), and (&&), or (||) and parentheses; not binds\n"
		"  tightest, then and, then or.  A primitive about a field an event does\n"
		"  not have is false (CPLs carry no namespace or LBA: filter the command).\n"
		"  Example: nvmedump -r /var/tmp/fdr.ring 'io and (status or latency > 10ms)'\n"
		"\n"
		"Line format: [index] sec:nsec dev KIND fields...  (see nvmedump(1))\n"
		"At the end, \"N events shown, M lost (overwritten before read)\" goes to\n"
		"standard error (live: after a \"live: seq A to B followed: ...\" line).\n"
		"\n"
		"pcapng (-w): commands, completions and data become NVMe/TCP PDUs that\n"
		"Wireshark's own nvme-tcp dissector decodes, one TCP conversation per\n"
		"queue: host 10.A.B.C port 50000+QID (A.B.C: the low 24 bits of the\n"
		"connection ID; a PCIe function's 172.(16+G).BB.DF, G its attach\n"
		"generation mod 16), controller 192.0.2.1 port 4420.  Every other event\n"
		"is an exported PDU for a \"frankendrive\" dissector (the raw 256-byte\n"
		"event).\n"
		"Each packet's comment is the event's line (frame.comment).\n"
		"\n"
		"Exit status: 0 success; 1 the file could not be read, no drive to attach\n"
		"to (or it refused), or output failed; 2 usage error (bad option or\n"
		"expression).\n");
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

/* -s: a byte count, 0 included. */
static bool parse_snaplen(const char *s, uint32_t *out)
{
	char *end;

	errno = 0;
	if (s[0] < '0' || s[0] > '9')
		return false;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end != '\0' || v > UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

/*
 * -r of a pcapng file (nvmedump -w wrote it): "-", a pipe or anything
 * else that is not a regular file must be one; a regular file is one if
 * it starts with a section header.  1 with *pr and *pf set, 0 if the file
 * is not pcapng (a ring or core file), -1 with a reason in err.
 */
static int open_pcapng(const char *file, bool follow, struct nvmedump_pcapng_reader **pr,
		       FILE **pf, char *err, size_t errlen)
{
	bool is_stdin = !strcmp(file, "-");
	struct stat st;
	uint8_t magic[4];
	FILE *f;

	if (!is_stdin && stat(file, &st) == 0 && S_ISREG(st.st_mode)) {
		f = fopen(file, "rb");
		if (!f)
			return 0; /* the ring reader says why */
		if (fread(magic, 1, sizeof(magic), f) != sizeof(magic) ||
		    !nvmedump_pcapng_magic(magic, sizeof(magic)) || fseek(f, 0, SEEK_SET) != 0) {
			fclose(f);
			return 0;
		}
	} else if (is_stdin) {
		f = stdin;
	} else if (!(f = fopen(file, "rb"))) {
		return 0;
	}
	*pr = nvmedump_pcapng_reader_open(f, follow, err, errlen);
	if (!*pr) {
		size_t n = strlen(err);

		snprintf(err + n, errlen - n, " (%s)", is_stdin ? "standard input" : file);
		if (f != stdin)
			fclose(f);
		return -1;
	}
	*pf = f;
	return 1;
}

/* -w: the file, or standard output for "-" (not a terminal). */
static FILE *open_output(const char *wfile)
{
	FILE *f;

	if (!strcmp(wfile, "-")) {
		if (isatty(STDOUT_FILENO)) {
			fprintf(stderr, "nvmedump: not writing pcapng to a terminal (-w -)\n");
			return NULL;
		}
		return stdout;
	}
	f = fopen(wfile, "wb");
	if (!f)
		fprintf(stderr, "nvmedump: %s: %s\n", wfile, strerror(errno));
	return f;
}

/* Flush (and close, unless it is standard output) the output: 0 or -1. */
static int close_output(FILE *out)
{
	int rc = fflush(out) != 0 || ferror(out) ? -1 : 0;

	if (out != stdout && fclose(out) != 0)
		rc = -1;
	return rc;
}

int main(int argc, char **argv)
{
	enum { OPT_LOST = 256, OPT_OLDEST };
	static const struct option longopts[] = {
		{"read", required_argument, NULL, 'r'},
		{"count", required_argument, NULL, 'c'},
		{"follow", no_argument, NULL, 'f'},
		{"interface", required_argument, NULL, 'i'},
		{"oldest", no_argument, NULL, OPT_OLDEST},
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
	uint32_t snaplen = 0; /* -s */
	bool quiet = false;   /* no summary: nothing was read */
	int c, rc = EXIT_OK;
	const char *live_drive = NULL; /* -i */
	bool live_oldest = false, live_given = false;

	while ((c = getopt_long(argc, argv, "+r:c:fi:w:s:hV", longopts, NULL)) != -1) {
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
		case 'i':
			live_drive = optarg;
			live_given = true;
			break;
		case OPT_OLDEST:
			live_oldest = true;
			break;
		case OPT_LOST:
			show_lost = true;
			break;
		case 'w':
			wfile = optarg;
			break;
		case 's':
			if (!parse_snaplen(optarg, &snaplen)) {
				fprintf(stderr, "nvmedump: -s %s: expected a number of bytes\n", optarg);
				return EXIT_USAGE;
			}
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
	if (file && live_given) {
		fprintf(stderr, "nvmedump: -r and -i exclude each other\n");
		return EXIT_USAGE;
	}
	if (file && live_oldest) {
		fprintf(stderr, "nvmedump: --oldest is for live capture (-i)\n");
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
	char err[512] = "";
	struct nvmedump_live *live = NULL;

	/* Neither -r nor -i: the drive on the default port, like tcpdump. */
	if (!file) {
		live = nvmedump_live_open(live_drive, live_oldest, err, sizeof(err));
		if (!live) {
			fprintf(stderr, "nvmedump: %s\n", err);
			nvmedump_filter_free(filter);
			free(expr);
			return EXIT_RUNTIME;
		}
		follow = true;
	}
	struct nvmedump_pcapng_reader *pr = NULL; /* -r of a pcapng file */
	FILE *pf = NULL;

	if (file && open_pcapng(file, follow, &pr, &pf, err, sizeof(err)) < 0) {
		fprintf(stderr, "nvmedump: %s\n", err);
		nvmedump_filter_free(filter);
		free(expr);
		return EXIT_RUNTIME;
	}
	struct fdr_rec_reader *r = live ? nvmedump_live_reader(live)
				   : pr	  ? NULL
					  : fdr_rec_reader_open(file, err, sizeof(err));

	if (!r && !pr) {
		fprintf(stderr, "nvmedump: %s\n", err[0] ? err : file);
		nvmedump_filter_free(filter);
		free(expr);
		return EXIT_RUNTIME;
	}
	const struct fdr_rec_file_hdr *h = r ? fdr_rec_reader_hdr(r) : NULL;
	char dev[256];

	if (pr) {
		snprintf(dev, sizeof(dev), "%s", nvmedump_pcapng_reader_dev(pr));
		fprintf(stderr, "reading from %s: %s, pcapng, snaplen %" PRIu32 "%s\n", file,
			dev[0] ? dev : "-", nvmedump_pcapng_reader_snaplen(pr),
			(nvmedump_pcapng_reader_flags(pr) & FDR_REC_F_REDACT_ADDRS)
				? ", addresses redacted"
				: "");
	} else {
		memcpy(dev, h->dev, sizeof(h->dev));
		dev[sizeof(h->dev)] = '\0';
	}
	if (!live && !pr) /* live: nvmedump_live_open() said where it listens */
		fprintf(stderr, "reading from %s: %s, %" PRIu64 " slots, snaplen %" PRIu32 "%s\n",
			file, dev[0] ? dev : "-", (uint64_t)h->nr_slots, (uint32_t)h->snaplen,
			(h->flags & FDR_REC_F_REDACT_ADDRS) ? ", addresses redacted" : "");

	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART: interrupt the sleep */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN); /* a closed pipe shows as a write error */

	/* -w: pcapng instead of text (opened only now: a bad input leaves no
	 * empty output file behind). */
	FILE *out = stdout;
	struct nvmedump_pcapng_writer *w = NULL;

	if (wfile) {
		uint32_t in_snaplen = h ? h->snaplen : nvmedump_pcapng_reader_snaplen(pr);
		uint32_t in_flags = h ? h->flags : nvmedump_pcapng_reader_flags(pr);

		out = open_output(wfile);
		if (out && !(w = nvmedump_pcapng_writer_open(
				     out, dev, snaplen_given && snaplen < in_snaplen ? snaplen : in_snaplen,
				     in_flags)))
			fprintf(stderr, "nvmedump: out of memory\n");
		if (!w) {
			if (out)
				close_output(out);
			out = stdout;
			rc = wfile[0] == '-' && !wfile[1] ? EXIT_USAGE : EXIT_RUNTIME;
			stop = 1; /* nothing to do: clean up below */
			quiet = true;
		}
	}

	struct fdr_rec_event ev;
	char line[NVMEDUMP_LINE_MAX];

	while (!stop && (count == 0 || shown < count)) {
		int n = pr ? nvmedump_pcapng_reader_next(pr, &ev) : fdr_rec_reader_next(r, &ev);
		uint64_t lost = pr ? nvmedump_pcapng_reader_lost(pr) : fdr_rec_reader_lost(r);

		if (w && lost > lost_seen) { /* pcapng: an interface statistics block */
			if (nvmedump_pcapng_write_lost(w, lost) != 0)
				break;
		} else if (show_lost && lost > lost_seen) {
			printf("LOST %" PRIu64 " events (overwritten before read)\n", lost - lost_seen);
		}
		lost_seen = lost;
		if (n < 0) {
			fprintf(stderr, "nvmedump: %s: %s\n", file,
				pr ? nvmedump_pcapng_reader_error(pr) : "read error");
			rc = EXIT_RUNTIME;
			break;
		}
		if (n == 0) {
			if (live) {
				/* Adaptive wait; 0 when the drive exited and all is read. */
				if (nvmedump_live_wait(live, &stop, out) <= 0)
					break;
				continue;
			}
			if (!follow)
				break;
			if (fflush(out) != 0)
				break;
			sleep_ms(20);
			continue;
		}
		if (!nvmedump_filter_match(filter, &ev))
			continue;
		if (snaplen_given && !nvmedump_snap(&ev, snaplen))
			continue;
		nvmedump_format(&ev, line, sizeof(line));
		if (w ? nvmedump_pcapng_write_event(w, &ev, line) != 0 : puts(line) == EOF)
			break;
		shown++;
	}
	if (w) { /* the final lost count, then the end of the pcapng */
		nvmedump_pcapng_write_lost(w, pr ? nvmedump_pcapng_reader_lost(pr)
						 : fdr_rec_reader_lost(r));
		nvmedump_pcapng_writer_close(w); /* errors show in out */
	}
	if (close_output(out) != 0) {
		if (errno != EPIPE) {
			fprintf(stderr, "nvmedump: writing output: %s\n", strerror(errno));
			rc = EXIT_RUNTIME;
		}
	}
	lost_seen = pr ? nvmedump_pcapng_reader_lost(pr) : fdr_rec_reader_lost(r);
	if (live)
		nvmedump_live_summary(live, stderr);
	if (!quiet)
		fprintf(stderr, "%" PRIu64 " events shown, %" PRIu64 " lost (overwritten before read)\n",
			shown, lost_seen);
	if (live)
		nvmedump_live_close(live);
	else if (r)
		fdr_rec_reader_close(r);
	nvmedump_pcapng_reader_close(pr);
	if (pf && pf != stdin)
		fclose(pf);
	nvmedump_filter_free(filter);
	free(expr);
	return rc;
}

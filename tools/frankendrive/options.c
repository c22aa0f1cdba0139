/* SPDX-License-Identifier: BSD-2-Clause */
#include "options.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"

#define DEFAULT_NQN "nqn.2026-11.io.frankendrive:drive0"
#define FDR_MAX_SNAPLEN (128u * 1024)

void fdr_options_usage(FILE *f, const char *prog)
{
	fprintf(f,
		"Usage: %s [OPTION]...\n"
		"Serve an emulated NVMe drive over NVMe/TCP (and, with --vfio-user, as an\n"
		"NVMe PCIe function over vfio-user).\n"
		"\n"
		"With no option: subsystem " DEFAULT_NQN " with one 1 GiB RAM\n"
		"namespace (512-byte LBAs) on 127.0.0.1:4420, discovery also on port 8009.\n"
		"\n"
		"Transport:\n"
		"  -l, --listen ADDR:PORT     NVMe/TCP listener (IPv6 as [ADDR]:PORT); repeatable;\n"
		"                             default 127.0.0.1:4420\n"
		"      --discovery-port PORT  discovery-only listener on the first listen address\n"
		"                             (default 8009, 0 = none)\n"
		"      --allow-host NQN       admit only these host NQNs; repeatable (default: any)\n"
		"      --maxh2cdata BYTES     largest H2CData PDU the host may send (default 128K)\n"
		"      --vfio-user DIR[,KEY=VALUE...]\n"
		"                             also serve the subsystem as an NVMe PCIe function over\n"
		"                             vfio-user on the socket DIR/cntrl (QEMU vfio-user-pci,\n"
		"                             SPDK); one controller per DIR; repeatable.  Keys:\n"
		"                             vid, did, ssvid, ssid (PCI IDs), pci=BB:DD.F (the\n"
		"                             address traces show; default 00:04.0, 00:05.0, ...)\n"
		"Subsystem:\n"
		"  -n, --nqn NQN              subsystem NQN (default " DEFAULT_NQN ")\n"
		"      --serial STR           serial number (up to 20 characters)\n"
		"      --model STR            model number (up to 40 characters)\n"
		"      --firmware STR         firmware revision (up to 8 characters)\n"
		"      --ns SPEC              namespace; repeatable, IDs follow the order:\n"
		"                               ram,size=SIZE[,lba=512|4096]\n"
		"                               file,path=PATH[,size=SIZE][,lba=512|4096]\n"
		"                               null,size=SIZE[,lba=512|4096]\n"
		"                             SIZE takes K, M, G, T suffixes (powers of 1024)\n"
		"Firmware (plug-ins and fault rules, see docs/plugins.md, docs/rules.md):\n"
		"      --plugin PATH[,KEY=VALUE...]  load a plug-in (repeatable)\n"
		"      --inject RULE          add a fault rule (repeatable)\n"
		"      --ctl PATH             control socket for `frankendrive ctl` (default\n"
		"                             /run/frankendrive/PORT.sock, PORT the first\n"
		"                             listen port; see docs/ctl.md)\n"
		"      --no-ctl               no control socket\n"
		"Flight recorder (see docs/recorder.md):\n"
		"      --record PATH          ring file (default /run/frankendrive/PORT.ring, PORT\n"
		"                             the first listen port); read it with nvmedump -r\n"
		"      --record-events N      events kept (default 10000)\n"
		"      --record-size BYTES    or: the ring file's size, e.g. 64M (events of\n"
		"                             256 bytes after a 4 KiB header)\n"
		"      --record-snaplen BYTES data bytes recorded per command (default 0: none)\n"
		"      --record-redact        zero host memory addresses (PRP/SGL) in records\n"
		"      --record-pdus          also record NVMe/TCP PDU headers\n"
		"      --no-record            no flight recorder\n"
		"Queues and threads:\n"
		"      --queues N             I/O queues per controller (1-64, default 8)\n"
		"      --queue-depth N        entries per I/O queue (2-1024, default 128)\n"
		"      --inline-data BYTES    in-capsule data for I/O queues (0-131072, default 8192)\n"
		"      --cores N              reactor threads (default: number of CPUs)\n"
		"Other:\n"
		"      --log-level LEVEL      err, warn, notice, info (default), debug\n"
		"  -h, --help                 show this help\n"
		"  -V, --version              show the version\n"
		"\n"
		"SIGINT or SIGTERM shut the drive down cleanly, flushing file namespaces.\n",
		prog);
}

int fdr_parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	if (!s || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	switch (toupper((unsigned char)*end)) {
	case '\0':
		break;
	case 'K':
		shift = 10;
		break;
	case 'M':
		shift = 20;
		break;
	case 'G':
		shift = 30;
		break;
	case 'T':
		shift = 40;
		break;
	default:
		return -1;
	}
	if (*end) {
		end++;
		/* Accept "1G", "1GB", "1GiB". */
		if (*end == 'i' || *end == 'I')
			end++;
		if (*end == 'b' || *end == 'B')
			end++;
		if (*end)
			return -1;
	}
	if (shift && v > (UINT64_MAX >> shift))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

static int parse_uint(const char *s, unsigned lo, unsigned hi, unsigned *out)
{
	char *end;
	unsigned long v;

	if (!s || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || *end || v < lo || v > hi)
		return -1;
	*out = (unsigned)v;
	return 0;
}

static int parse_listen(const char *arg, struct opt_listen *l)
{
	const char *colon;
	size_t alen;

	if (arg[0] == '[') {
		const char *close = strchr(arg, ']');
		if (!close || close[1] != ':')
			return -1;
		alen = (size_t)(close - arg - 1);
		colon = close + 1;
		arg++;
	} else {
		colon = strrchr(arg, ':');
		if (!colon)
			return -1;
		alen = (size_t)(colon - arg);
	}
	if (alen == 0 || alen >= sizeof(l->addr))
		return -1;
	memcpy(l->addr, arg, alen);
	l->addr[alen] = '\0';
	unsigned port;
	if (parse_uint(colon + 1, 0, 65535, &port))
		return -1;
	snprintf(l->port, sizeof(l->port), "%u", port);
	return 0;
}

static int parse_ns(const char *arg, struct opt_ns *ns, char *err, size_t errlen)
{
	char *copy = strdup(arg), *save = NULL, *tok;
	int rc = -1;
	bool have_size = false;

	if (!copy) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	memset(ns, 0, sizeof(*ns));
	ns->lba_size = 512;
	tok = strtok_r(copy, ",", &save);
	if (!tok) {
		snprintf(err, errlen, "--ns: empty namespace spec");
		goto out;
	}
	if (strcmp(tok, "ram") == 0)
		ns->backend = OPT_BACKEND_RAM;
	else if (strcmp(tok, "file") == 0)
		ns->backend = OPT_BACKEND_FILE;
	else if (strcmp(tok, "null") == 0)
		ns->backend = OPT_BACKEND_NULL;
	else {
		snprintf(err, errlen, "--ns %s: unknown backend '%s' (ram, file or null)", arg, tok);
		goto out;
	}
	while ((tok = strtok_r(NULL, ",", &save))) {
		char *eq = strchr(tok, '=');
		if (!eq) {
			snprintf(err, errlen, "--ns %s: '%s' is not key=value", arg, tok);
			goto out;
		}
		*eq++ = '\0';
		if (strcmp(tok, "size") == 0) {
			if (fdr_parse_size(eq, &ns->size) || ns->size == 0) {
				snprintf(err, errlen, "--ns %s: bad size '%s'", arg, eq);
				goto out;
			}
			have_size = true;
		} else if (strcmp(tok, "lba") == 0) {
			if (parse_uint(eq, 512, 4096, &ns->lba_size) ||
			    (ns->lba_size != 512 && ns->lba_size != 4096)) {
				snprintf(err, errlen, "--ns %s: LBA size must be 512 or 4096", arg);
				goto out;
			}
		} else if (strcmp(tok, "path") == 0 && ns->backend == OPT_BACKEND_FILE) {
			if (!*eq || strlen(eq) >= sizeof(ns->path)) {
				snprintf(err, errlen, "--ns %s: bad path", arg);
				goto out;
			}
			strcpy(ns->path, eq);
		} else {
			snprintf(err, errlen, "--ns %s: unknown key '%s'", arg, tok);
			goto out;
		}
	}
	if (ns->backend == OPT_BACKEND_FILE && !ns->path[0]) {
		snprintf(err, errlen, "--ns %s: a file namespace needs path=", arg);
		goto out;
	}
	if (ns->backend != OPT_BACKEND_FILE && !have_size) {
		snprintf(err, errlen, "--ns %s: size= is required", arg);
		goto out;
	}
	if (ns->size % ns->lba_size) {
		snprintf(err, errlen, "--ns %s: size is not a multiple of the LBA size %u", arg,
			 ns->lba_size);
		goto out;
	}
	rc = 0;
out:
	free(copy);
	return rc;
}

static int parse_bdf(const char *s, uint16_t *bdf)
{
	unsigned bus, dev, fn;
	char end;

	if (sscanf(s, "%2x:%2x.%1x%c", &bus, &dev, &fn, &end) != 3 || dev > 31 || fn > 7)
		return -1;
	*bdf = (uint16_t)(bus << 8 | dev << 3 | fn);
	return 0;
}

/* DIR[,vid=..][,did=..][,ssvid=..][,ssid=..][,pci=BB:DD.F] */
static int parse_vfu(const char *arg, unsigned idx, struct opt_vfu *v, char *err, size_t errlen)
{
	static const char *const id_keys[] = {"vid", "did", "ssvid", "ssid"};
	uint16_t *ids[] = {&v->vid, &v->did, &v->ssvid, &v->ssid};
	char *copy = strdup(arg), *save = NULL, *tok;
	int rc = -1;

	if (!copy) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	memset(v, 0, sizeof(*v));
	v->bdf = (uint16_t)((4 + idx) << 3);
	tok = strtok_r(copy, ",", &save);
	/* DIR/cntrl must fit a sockaddr_un. */
	if (!tok || arg[0] == ',' || strlen(tok) + sizeof("/cntrl") > sizeof(v->dir)) {
		snprintf(err, errlen, "--vfio-user: bad or too long directory '%s'", arg);
		goto out;
	}
	strcpy(v->dir, tok);
	while ((tok = strtok_r(NULL, ",", &save))) {
		char *eq = strchr(tok, '=');
		unsigned k, val;

		if (!eq) {
			snprintf(err, errlen, "--vfio-user %s: '%s' is not key=value", arg, tok);
			goto out;
		}
		*eq++ = '\0';
		if (strcmp(tok, "pci") == 0) {
			if (parse_bdf(eq, &v->bdf)) {
				snprintf(err, errlen, "--vfio-user %s: pci=%s: expected BB:DD.F", arg, eq);
				goto out;
			}
			continue;
		}
		for (k = 0; k < 4 && strcmp(tok, id_keys[k]); k++)
			;
		if (k == 4) {
			snprintf(err, errlen,
				 "--vfio-user %s: unknown key '%s' (vid, did, ssvid, ssid, pci)", arg,
				 tok);
			goto out;
		}
		if (parse_uint(eq, 1, 0xfffe, &val)) {
			snprintf(err, errlen, "--vfio-user %s: %s=%s: expected 1..0xfffe", arg, tok, eq);
			goto out;
		}
		*ids[k] = (uint16_t)val;
	}
	rc = 0;
out:
	free(copy);
	return rc;
}

static int copy_str(char *dst, size_t dstlen, size_t max, const char *src, const char *what,
		    char *err, size_t errlen)
{
	size_t n = strlen(src);

	if (n == 0 || n > max || n >= dstlen) {
		snprintf(err, errlen, "%s must be 1 to %zu characters", what, max);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (!isprint((unsigned char)src[i])) {
			snprintf(err, errlen, "%s must be printable ASCII", what);
			return -1;
		}
	}
	memcpy(dst, src, n + 1);
	return 0;
}

enum {
	OPT_DISC_PORT = 256,
	OPT_NS,
	OPT_SERIAL,
	OPT_MODEL,
	OPT_FIRMWARE,
	OPT_QUEUES,
	OPT_QDEPTH,
	OPT_INLINE,
	OPT_ALLOW_HOST,
	OPT_CORES,
	OPT_LOG_LEVEL,
	OPT_MAXH2C,
	OPT_PLUGIN,
	OPT_INJECT,
	OPT_RECORD,
	OPT_NO_RECORD,
	OPT_RECORD_EVENTS,
	OPT_RECORD_SIZE,
	OPT_RECORD_SNAPLEN,
	OPT_RECORD_REDACT,
	OPT_RECORD_PDUS,
	OPT_CTL,
	OPT_NO_CTL,
	OPT_VFIO_USER,
};

static const struct option long_opts[] = {
	{"listen", required_argument, NULL, 'l'},
	{"discovery-port", required_argument, NULL, OPT_DISC_PORT},
	{"nqn", required_argument, NULL, 'n'},
	{"ns", required_argument, NULL, OPT_NS},
	{"serial", required_argument, NULL, OPT_SERIAL},
	{"model", required_argument, NULL, OPT_MODEL},
	{"firmware", required_argument, NULL, OPT_FIRMWARE},
	{"queues", required_argument, NULL, OPT_QUEUES},
	{"queue-depth", required_argument, NULL, OPT_QDEPTH},
	{"inline-data", required_argument, NULL, OPT_INLINE},
	{"allow-host", required_argument, NULL, OPT_ALLOW_HOST},
	{"cores", required_argument, NULL, OPT_CORES},
	{"log-level", required_argument, NULL, OPT_LOG_LEVEL},
	{"maxh2cdata", required_argument, NULL, OPT_MAXH2C},
	{"plugin", required_argument, NULL, OPT_PLUGIN},
	{"inject", required_argument, NULL, OPT_INJECT},
	{"record", required_argument, NULL, OPT_RECORD},
	{"no-record", no_argument, NULL, OPT_NO_RECORD},
	{"record-events", required_argument, NULL, OPT_RECORD_EVENTS},
	{"record-size", required_argument, NULL, OPT_RECORD_SIZE},
	{"record-snaplen", required_argument, NULL, OPT_RECORD_SNAPLEN},
	{"record-redact", no_argument, NULL, OPT_RECORD_REDACT},
	{"record-pdus", no_argument, NULL, OPT_RECORD_PDUS},
	{"ctl", required_argument, NULL, OPT_CTL},
	{"no-ctl", no_argument, NULL, OPT_NO_CTL},
	{"vfio-user", required_argument, NULL, OPT_VFIO_USER},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{NULL, 0, NULL, 0},
};

int fdr_options_parse(struct fdr_options *o, int argc, char **argv, char *err, size_t errlen)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	uint64_t sz;
	int c, lvl;

	memset(o, 0, sizeof(*o));
	o->discovery_port = 8009;
	snprintf(o->nqn, sizeof(o->nqn), "%s", DEFAULT_NQN);
	snprintf(o->serial, sizeof(o->serial), "%s", "FDR0000000001");
	snprintf(o->model, sizeof(o->model), "%s", "frankendrive");
	snprintf(o->firmware, sizeof(o->firmware), "%s", "0.1.0");
	o->queues = 8;
	o->queue_depth = 128;
	o->inline_data = 8192;
	o->maxh2cdata = 128 * 1024;
	o->cores = ncpu > 0 ? (unsigned)ncpu : 1;
	o->log_level = FDR_LOG_INFO;
	o->record_events = 10000;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":l:n:hV", long_opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			if (o->nr_listen >= OPT_MAX_LISTEN) {
				snprintf(err, errlen, "at most %d --listen options", OPT_MAX_LISTEN);
				return -1;
			}
			if (parse_listen(optarg, &o->listen[o->nr_listen])) {
				snprintf(err, errlen, "--listen %s: expected ADDR:PORT or [ADDR]:PORT", optarg);
				return -1;
			}
			o->nr_listen++;
			break;
		case OPT_DISC_PORT:
			if (parse_uint(optarg, 0, 65535, &o->discovery_port)) {
				snprintf(err, errlen, "--discovery-port %s: expected 0-65535", optarg);
				return -1;
			}
			break;
		case 'n':
			if (strncmp(optarg, "nqn.", 4) != 0 || strlen(optarg) > 223 ||
			    strcmp(optarg, "nqn.2014-08.org.nvmexpress.discovery") == 0) {
				snprintf(err, errlen, "--nqn %s: expected an NQN (nqn.yyyy-mm.domain:name, up to 223 bytes)", optarg);
				return -1;
			}
			snprintf(o->nqn, sizeof(o->nqn), "%s", optarg);
			break;
		case OPT_NS:
			if (o->nr_ns >= OPT_MAX_NS) {
				snprintf(err, errlen, "at most %d namespaces", OPT_MAX_NS);
				return -1;
			}
			if (parse_ns(optarg, &o->ns[o->nr_ns], err, errlen))
				return -1;
			o->nr_ns++;
			break;
		case OPT_SERIAL:
			if (copy_str(o->serial, sizeof(o->serial), 20, optarg, "--serial", err, errlen))
				return -1;
			break;
		case OPT_MODEL:
			if (copy_str(o->model, sizeof(o->model), 40, optarg, "--model", err, errlen))
				return -1;
			break;
		case OPT_FIRMWARE:
			if (copy_str(o->firmware, sizeof(o->firmware), 8, optarg, "--firmware", err, errlen))
				return -1;
			break;
		case OPT_QUEUES:
			if (parse_uint(optarg, 1, 64, &o->queues)) {
				snprintf(err, errlen, "--queues %s: expected 1-64", optarg);
				return -1;
			}
			break;
		case OPT_QDEPTH:
			if (parse_uint(optarg, 2, 1024, &o->queue_depth)) {
				snprintf(err, errlen, "--queue-depth %s: expected 2-1024", optarg);
				return -1;
			}
			break;
		case OPT_INLINE:
			if (fdr_parse_size(optarg, &sz) || sz > 131072 || sz % 16) {
				snprintf(err, errlen, "--inline-data %s: expected 0-128K, a multiple of 16", optarg);
				return -1;
			}
			o->inline_data = (unsigned)sz;
			break;
		case OPT_MAXH2C:
			if (fdr_parse_size(optarg, &sz) || sz < 4096 || sz > (1u << 24) || sz % 4) {
				snprintf(err, errlen, "--maxh2cdata %s: expected 4K-16M, a multiple of 4", optarg);
				return -1;
			}
			o->maxh2cdata = (unsigned)sz;
			break;
		case OPT_ALLOW_HOST:
			if (o->nr_hosts >= OPT_MAX_HOSTS || strlen(optarg) > 223 ||
			    strncmp(optarg, "nqn.", 4) != 0) {
				snprintf(err, errlen, "--allow-host %s: expected an NQN (at most %d hosts)", optarg, OPT_MAX_HOSTS);
				return -1;
			}
			o->hosts[o->nr_hosts] = strdup(optarg);
			if (!o->hosts[o->nr_hosts]) {
				snprintf(err, errlen, "out of memory");
				return -1;
			}
			o->nr_hosts++;
			break;
		case OPT_PLUGIN:
			if (o->nr_plugins >= OPT_MAX_PLUGINS || !*optarg) {
				snprintf(err, errlen, "--plugin: expected PATH[,KEY=VALUE...] (at most %d)", OPT_MAX_PLUGINS);
				return -1;
			}
			if (!(o->plugins[o->nr_plugins++] = strdup(optarg))) {
				snprintf(err, errlen, "out of memory");
				return -1;
			}
			break;
		case OPT_CTL:
			if (!*optarg || strlen(optarg) >= sizeof(o->ctl_path)) {
				snprintf(err, errlen, "--ctl %s: expected a socket path of 1-%zu bytes", optarg,
					 sizeof(o->ctl_path) - 1);
				return -1;
			}
			snprintf(o->ctl_path, sizeof(o->ctl_path), "%s", optarg);
			break;
		case OPT_NO_CTL:
			o->no_ctl = true;
			break;
		case OPT_VFIO_USER:
			if (o->nr_vfio_user >= OPT_MAX_VFU) {
				snprintf(err, errlen, "at most %d --vfio-user", OPT_MAX_VFU);
				return -1;
			}
			if (parse_vfu(optarg, o->nr_vfio_user, &o->vfio_user[o->nr_vfio_user], err,
				      errlen))
				return -1;
			o->nr_vfio_user++;
			break;
		case OPT_INJECT:
			if (o->nr_rules >= OPT_MAX_RULES || !*optarg) {
				snprintf(err, errlen, "--inject: expected a rule (at most %d)", OPT_MAX_RULES);
				return -1;
			}
			if (!(o->rules[o->nr_rules++] = strdup(optarg))) {
				snprintf(err, errlen, "out of memory");
				return -1;
			}
			break;
		case OPT_RECORD:
			if (!*optarg || strlen(optarg) >= sizeof(o->record_path)) {
				snprintf(err, errlen, "--record: expected a file path");
				return -1;
			}
			snprintf(o->record_path, sizeof(o->record_path), "%s", optarg);
			break;
		case OPT_NO_RECORD:
			o->no_record = true;
			break;
		case OPT_RECORD_EVENTS:
			if (fdr_parse_size(optarg, &sz) || sz < 16 || sz > (1ull << 26)) {
				snprintf(err, errlen, "--record-events %s: expected 16 to 64M", optarg);
				return -1;
			}
			o->record_events = sz;
			break;
		case OPT_RECORD_SIZE:
			/* The ring file: a 4 KiB header and 256-byte slots
			 * (include/frankendrive/recorder.h); what is left over
			 * below a whole slot is not used. */
			if (fdr_parse_size(optarg, &sz) || sz < 4096 + 16 * 256ull ||
			    (sz - 4096) / 256 > (1ull << 24)) {
				snprintf(err, errlen, "--record-size %s: expected 8K to 4G", optarg);
				return -1;
			}
			o->record_events = (sz - 4096) / 256;
			break;
		case OPT_RECORD_SNAPLEN:
			if (fdr_parse_size(optarg, &sz) || sz > FDR_MAX_SNAPLEN) {
				snprintf(err, errlen, "--record-snaplen %s: expected 0 to 128K", optarg);
				return -1;
			}
			o->record_snaplen = (unsigned)sz;
			break;
		case OPT_RECORD_REDACT:
			o->record_redact = true;
			break;
		case OPT_RECORD_PDUS:
			o->record_pdus = true;
			break;
		case OPT_CORES:
			if (parse_uint(optarg, 1, 256, &o->cores)) {
				snprintf(err, errlen, "--cores %s: expected 1-256", optarg);
				return -1;
			}
			break;
		case OPT_LOG_LEVEL:
			lvl = fdr_log_parse_level(optarg);
			if (lvl < 0) {
				snprintf(err, errlen, "--log-level %s: expected err, warn, notice, info or debug", optarg);
				return -1;
			}
			o->log_level = lvl;
			break;
		case 'h':
			o->help = true;
			break;
		case 'V':
			o->version = true;
			break;
		case ':':
			snprintf(err, errlen, "option %s needs an argument", argv[optind - 1]);
			return -1;
		default:
			snprintf(err, errlen, "unknown option %s (see --help)", argv[optind - 1]);
			return -1;
		}
	}
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument '%s' (see --help)", argv[optind]);
		return -1;
	}
	if (o->nr_listen == 0) {
		snprintf(o->listen[0].addr, sizeof(o->listen[0].addr), "127.0.0.1");
		snprintf(o->listen[0].port, sizeof(o->listen[0].port), "4420");
		o->nr_listen = 1;
	}
	if (o->nr_ns == 0) {
		o->ns[0].backend = OPT_BACKEND_RAM;
		o->ns[0].size = 1ull << 30;
		o->ns[0].lba_size = 512;
		o->nr_ns = 1;
	}
	return 0;
}

void fdr_options_free(struct fdr_options *o)
{
	for (unsigned i = 0; i < o->nr_hosts; i++)
		free(o->hosts[i]);
	o->nr_hosts = 0;
	for (unsigned i = 0; i < o->nr_plugins; i++)
		free(o->plugins[i]);
	o->nr_plugins = 0;
	for (unsigned i = 0; i < o->nr_rules; i++)
		free(o->rules[i]);
	o->nr_rules = 0;
}

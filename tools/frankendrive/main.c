/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * frankendrive: wires options into a target (subsystem, namespaces),
 * reactors, NVMe/TCP listeners and NVMe PCIe functions over vfio-user,
 * then waits for SIGINT/SIGTERM.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "ctl/ctl.h"
#include "ctl_client.h"
#include "core/core.h"
#include "core/tap.h"
#include "options.h"
#include "plugin/plugin_host.h"
#include "recorder/recorder.h"
#include "recorder/share.h"
#include "rules/rules.h"
#include "transport/pcie/pcie.h"
#include "transport/tcp/tcp.h"

struct drive {
	struct fdr_options opt;
	struct fdr_target *target;
	struct fdr_reactor *reactors[256];
	unsigned nr_reactors;
	struct fdr_tcp_listener *listeners[OPT_MAX_LISTEN + 1];
	unsigned nr_listeners;
	struct fdr_ctl *ctl;
	struct fdr_subsys *subsys;
	struct fdr_pcie *pcie[OPT_MAX_VFU];
	unsigned nr_pcie;
};

static const char *backend_name(enum opt_backend b)
{
	return b == OPT_BACKEND_RAM ? "ram" : b == OPT_BACKEND_FILE ? "file" : "null";
}

static void human_size(uint64_t bytes, char *buf, size_t len)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	unsigned u = 0;

	while (u < 4 && bytes >= 1024 && bytes % 1024 == 0) {
		bytes /= 1024;
		u++;
	}
	snprintf(buf, len, "%llu %s", (unsigned long long)bytes, units[u]);
}

static int setup_subsystem(struct drive *d, char *err, size_t errlen)
{
	struct fdr_options *o = &d->opt;
	struct fdr_subsys *s = fdr_subsys_create(d->target, FDR_SUBSYS_NVME, o->nqn);

	if (!s) {
		snprintf(err, errlen, "cannot create subsystem %s", o->nqn);
		return -1;
	}
	/* Lengths were checked when parsing the options. */
	memcpy(s->sn, o->serial, sizeof(s->sn) - 1);
	memcpy(s->mn, o->model, sizeof(s->mn) - 1);
	memcpy(s->fr, o->firmware, sizeof(s->fr) - 1);
	s->max_io_queues = (uint16_t)o->queues;
	s->max_qdepth = (uint16_t)o->queue_depth;
	s->inline_data_size = o->inline_data;
	if (o->nr_hosts) {
		s->allowed_hosts = calloc(o->nr_hosts + 1, sizeof(char *));
		if (!s->allowed_hosts) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		for (unsigned i = 0; i < o->nr_hosts; i++) {
			s->allowed_hosts[i] = o->hosts[i];
			o->hosts[i] = NULL; /* the subsystem owns them now */
		}
	}

	for (unsigned i = 0; i < o->nr_ns; i++) {
		struct opt_ns *on = &o->ns[i];
		struct fdr_bdev *bdev = NULL;
		char berr[256] = "";
		char sz[32];

		switch (on->backend) {
		case OPT_BACKEND_RAM:
			bdev = fdr_bdev_ram_create(on->size, berr, sizeof(berr));
			break;
		case OPT_BACKEND_NULL:
			bdev = fdr_bdev_null_create(on->size, berr, sizeof(berr));
			break;
		case OPT_BACKEND_FILE:
			bdev = fdr_bdev_file_create(on->path, on->size, berr, sizeof(berr));
			break;
		}
		if (!bdev) {
			snprintf(err, errlen, "namespace %u (%s): %s", i + 1, backend_name(on->backend), berr);
			return -1;
		}
		struct fdr_ns *ns = fdr_ns_create(i + 1, bdev, on->lba_size, s->nqn, berr, sizeof(berr));
		if (!ns) {
			fdr_bdev_destroy(bdev);
			snprintf(err, errlen, "namespace %u: %s", i + 1, berr);
			return -1;
		}
		if (fdr_subsys_add_ns(s, ns, berr, sizeof(berr))) {
			fdr_ns_destroy(ns);
			snprintf(err, errlen, "namespace %u: %s", i + 1, berr);
			return -1;
		}
		human_size(bdev->size, sz, sizeof(sz));
		fdr_info("namespace %u: %s, %s, %u-byte LBAs (%llu blocks)", i + 1, bdev->desc, sz,
			 on->lba_size, (unsigned long long)ns->nsze);
	}
	d->subsys = s;
	return 0;
}

static int start_reactors(struct drive *d, char *err, size_t errlen)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	for (unsigned i = 0; i < d->opt.cores; i++) {
		struct fdr_reactor *r = fdr_reactor_create(i);
		if (!r) {
			snprintf(err, errlen, "cannot create reactor %u: %s", i, strerror(errno));
			return -1;
		}
		d->reactors[d->nr_reactors++] = r;
		/* Pin only when there is a core per reactor. */
		int rc = fdr_reactor_start(r, (long)d->opt.cores <= ncpu ? (int)i : -1);
		if (rc < 0) {
			snprintf(err, errlen, "cannot start reactor %u: %s", i, strerror(-rc));
			return -1;
		}
	}
	return 0;
}

static int add_listener(struct drive *d, const char *addr, const char *port, bool discovery_only,
			char *err, size_t errlen)
{
	struct fdr_port *p = fdr_target_add_port(d->target, NVMF_TRTYPE_TCP, addr, port);
	struct fdr_tcp_opts topts = {.maxh2cdata = d->opt.maxh2cdata};
	char lerr[256] = "";

	if (!p) {
		snprintf(err, errlen, "too many listeners");
		return -1;
	}
	p->discovery_only = discovery_only;
	struct fdr_tcp_listener *l =
		fdr_tcp_listen(d->target, p, d->reactors, d->nr_reactors, &topts, lerr, sizeof(lerr));
	if (!l) {
		snprintf(err, errlen, "listen on %s:%s: %s", addr, port, lerr);
		return -1;
	}
	d->listeners[d->nr_listeners++] = l;
	return 0;
}

static int start_listeners(struct drive *d, char *err, size_t errlen)
{
	struct fdr_options *o = &d->opt;

	for (unsigned i = 0; i < o->nr_listen; i++) {
		if (add_listener(d, o->listen[i].addr, o->listen[i].port, false, err, errlen))
			return -1;
		fdr_info("serving %s on %s:%s (NVMe/TCP)", o->nqn, o->listen[i].addr, o->listen[i].port);
	}
	if (o->discovery_port) {
		char port[16];
		snprintf(port, sizeof(port), "%u", o->discovery_port);
		if (add_listener(d, o->listen[0].addr, port, true, err, errlen))
			return -1;
		fdr_info("discovery controller on %s:%s", o->listen[0].addr, port);
	}
	return 0;
}

/* Plug-ins come after the reactors (taps synchronize with them) and
 * before the listeners (the first command already sees them). */
static int load_plugins(struct drive *d, char *err, size_t errlen)
{
	fdr_plugins_init(d->target);
	fdr_tap_set_reactors(d->reactors, d->nr_reactors);
	for (unsigned i = 0; i < d->opt.nr_plugins; i++) {
		char perr[384];
		if (fdr_plugin_load(d->opt.plugins[i], perr, sizeof(perr))) {
			snprintf(err, errlen, "--plugin %s: %s", d->opt.plugins[i], perr);
			return -1;
		}
	}
	fdr_rules_init(d->target);
	for (unsigned i = 0; i < d->opt.nr_rules; i++) {
		char rerr[384];
		if (fdr_rule_add(d->opt.rules[i], rerr, sizeof(rerr)) < 0) {
			snprintf(err, errlen, "--inject %s: %s", d->opt.rules[i], rerr);
			return -1;
		}
	}
	return 0;
}

/* The control socket comes before the listeners: once the drive accepts
 * hosts, `frankendrive ctl` works too. */
static int start_ctl(struct drive *d, char *err, size_t errlen)
{
	char path[4096], cerr[384];

	if (d->opt.no_ctl)
		return 0;
	if (d->opt.ctl_path[0])
		snprintf(path, sizeof(path), "%s", d->opt.ctl_path);
	else
		fdr_ctl_default_path(d->opt.listen[0].port, path, sizeof(path));
	d->ctl = fdr_ctl_start(path, cerr, sizeof(cerr));
	if (!d->ctl) {
		snprintf(err, errlen, "control socket: %s (--ctl PATH or --no-ctl)", cerr);
		return -1;
	}
	return 0;
}

#if FDR_HAVE_RECORDER
/* The recorder starts before anything can happen worth recording. */
static int start_recorder(struct drive *d, char *err, size_t errlen)
{
	char path[4096], rerr[384];
	struct fdr_rec_opts ro = {
		.path = path,
		.nr_slots = d->opt.record_events,
		.snaplen = d->opt.record_snaplen,
		.redact = d->opt.record_redact,
		.pdus = d->opt.record_pdus,
		.dev = d->opt.nqn,
	};

	if (d->opt.no_record)
		return 0;
	if (d->opt.record_path[0])
		snprintf(path, sizeof(path), "%s", d->opt.record_path);
	else
		fdr_run_default_path(d->opt.listen[0].port, "ring", path, sizeof(path));
	/* The default lives in the run directory the control socket makes;
	 * make it here too, the socket may be off. */
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		mkdir(dir, 0755);
	}
	if (fdr_rec_open(&ro, rerr, sizeof(rerr))) {
		snprintf(err, errlen, "flight recorder: %s (--record PATH or --no-record)", rerr);
		return -1;
	}
	fdr_info("flight recorder: last %llu events in %s", (unsigned long long)ro.nr_slots, path);
	/* Live readers (nvmedump -i) get the ring through the control socket. */
	if (fdr_rec_share_init(path, rerr, sizeof(rerr)))
		fdr_warn("flight recorder: live readers cannot attach: %s", rerr);
	return 0;
}
#else
static int start_recorder(struct drive *d, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	if (d->opt.record_path[0] && !d->opt.no_record)
		fdr_warn("built without the flight recorder (-Drecorder=false): --record ignored");
	return 0;
}
#endif

/* PCIe functions over vfio-user: each on its own reactor, round robin. */
static int start_vfio_user(struct drive *d, char *err, size_t errlen)
{
	for (unsigned i = 0; i < d->opt.nr_vfio_user; i++) {
		char perr[256];
		struct fdr_reactor *r = d->reactors[i % d->nr_reactors];
		const struct opt_vfu *v = &d->opt.vfio_user[i];
		struct fdr_pcie_opts po = {
			.vid = v->vid, .did = v->did, .ssvid = v->ssvid, .ssid = v->ssid, .bdf = v->bdf,
		};
		struct fdr_pcie *p = fdr_pcie_create(v->dir, d->subsys, r, &po, perr, sizeof(perr));

		if (!p) {
			snprintf(err, errlen, "vfio-user %s: %s", v->dir, perr);
			return -1;
		}
		d->pcie[d->nr_pcie++] = p;
		fdr_info("serving %s on %s (NVMe PCIe over vfio-user)", d->opt.nqn,
			 fdr_pcie_path(p));
	}
	return 0;
}

static void shutdown_drive(struct drive *d)
{
	/* No plug-in or rule changes from here on. */
	fdr_ctl_stop(d->ctl);
	d->ctl = NULL;
	/* Each listener closes its connections on their reactors and waits
	 * for their queues to drain, so the reactors must still run here. */
	for (unsigned i = 0; i < d->nr_listeners; i++)
		fdr_tcp_listener_close(d->listeners[i]);
	for (unsigned i = 0; i < d->nr_pcie; i++)
		fdr_pcie_destroy(d->pcie[i]);
	d->nr_pcie = 0;
	/* Rules and plug-ins go while the reactors still run: detaching
	 * waits for each reactor to pass a quiescent point. */
	fdr_plugin_unload_all();
	fdr_rules_clear();
	fdr_tap_set_reactors(NULL, 0);
	for (unsigned i = 0; i < d->nr_reactors; i++)
		fdr_reactor_stop(d->reactors[i]);
	for (unsigned i = 0; i < d->nr_reactors; i++) {
		fdr_reactor_join(d->reactors[i]);
		fdr_reactor_destroy(d->reactors[i]);
	}
#if FDR_HAVE_RECORDER
	fdr_rec_close(); /* no reactor can write any more */
	fdr_rec_share_fini(); /* the control socket is gone */
#endif
	/* Destroying the namespaces flushes file backends to stable storage. */
	fdr_target_destroy(d->target);
}

int main(int argc, char **argv)
{
	static struct drive d;
	char err[512] = "";
	sigset_t sigs;
	int sig = 0, rc = 1;

	if (argc > 1 && !strcmp(argv[1], "ctl"))
		return fdr_ctl_main(argc - 1, argv + 1);
	if (fdr_options_parse(&d.opt, argc, argv, err, sizeof(err))) {
		fprintf(stderr, "frankendrive: %s\n", err);
		fdr_options_free(&d.opt);
		return 2;
	}
	if (d.opt.help) {
		fdr_options_usage(stdout, "frankendrive");
		fdr_options_free(&d.opt);
		return 0;
	}
	if (d.opt.version) {
		printf("frankendrive %s\n", FDR_VERSION);
		fdr_options_free(&d.opt);
		return 0;
	}
	fdr_log_set_level((enum fdr_log_level)d.opt.log_level);

	/* Every thread inherits this mask; the main thread takes the signals. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	d.target = fdr_target_create();
	if (!d.target) {
		fprintf(stderr, "frankendrive: out of memory\n");
		return 1;
	}
	if (setup_subsystem(&d, err, sizeof(err)) || start_recorder(&d, err, sizeof(err)) ||
	    start_reactors(&d, err, sizeof(err)) ||
	    load_plugins(&d, err, sizeof(err)) || start_ctl(&d, err, sizeof(err)) ||
	    start_listeners(&d, err, sizeof(err)) || start_vfio_user(&d, err, sizeof(err))) {
		fdr_err("%s", err);
		goto out;
	}
	fdr_info("frankendrive %s ready: %u reactor(s), %u I/O queues of up to %u entries per controller",
		 FDR_VERSION, d.nr_reactors, d.opt.queues, d.opt.queue_depth);

	while (sigwait(&sigs, &sig) != 0)
		;
	fdr_info("%s received, shutting down", strsignal(sig));
	rc = 0;
out:
	shutdown_drive(&d);
	fdr_options_free(&d.opt);
	if (rc == 0)
		fdr_info("clean shutdown");
	return rc;
}

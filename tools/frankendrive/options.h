/* SPDX-License-Identifier: BSD-2-Clause */
/* Command line of the frankendrive program. */
#ifndef FDR_TOOL_OPTIONS_H
#define FDR_TOOL_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define OPT_MAX_LISTEN 4
#define OPT_MAX_VFU 4
#define OPT_MAX_NS 32
#define OPT_MAX_HOSTS 64
#define OPT_MAX_PLUGINS 16
#define OPT_MAX_RULES 64

enum opt_backend {
	OPT_BACKEND_RAM,
	OPT_BACKEND_FILE,
	OPT_BACKEND_NULL,
};

struct opt_ns {
	enum opt_backend backend;
	uint64_t size; /* bytes; 0 for file = file's size */
	uint32_t lba_size;
	char path[4096];
};

struct opt_listen {
	char addr[64];
	char port[16];
};

struct opt_vfu {
	char dir[108];
	uint16_t vid, did, ssvid, ssid; /* 0: the function's defaults */
	uint16_t bdf;                   /* the PCI address traces show */
};

struct fdr_options {
	struct opt_listen listen[OPT_MAX_LISTEN];
	unsigned nr_listen;
	unsigned discovery_port; /* 0: none */
	struct opt_vfu vfio_user[OPT_MAX_VFU]; /* --vfio-user DIR[,key=value...] */
	unsigned nr_vfio_user;
	char nqn[256];
	struct opt_ns ns[OPT_MAX_NS];
	unsigned nr_ns;
	char serial[32];
	char model[64];
	char firmware[16];
	unsigned queues;
	unsigned queue_depth;
	unsigned inline_data;
	unsigned maxh2cdata;
	char *hosts[OPT_MAX_HOSTS];
	unsigned nr_hosts;
	char *plugins[OPT_MAX_PLUGINS]; /* path.so[,key=value...] */
	unsigned nr_plugins;
	char ctl_path[108];   /* --ctl; "" = the default for the first port */
	bool no_ctl;          /* --no-ctl */
	char *rules[OPT_MAX_RULES];     /* --inject */
	unsigned nr_rules;
	char record_path[4096]; /* "" = default under the run directory */
	bool no_record;
	uint64_t record_events;
	unsigned record_snaplen;
	bool record_redact;
	bool record_pdus;
	unsigned cores;
	int log_level;
	bool help;
	bool version;
};

/* Fill o from argv.  Returns 0, or -1 with a message in err. */
int fdr_options_parse(struct fdr_options *o, int argc, char **argv, char *err, size_t errlen);
void fdr_options_free(struct fdr_options *o);
/* "1G", "512M", "4096", "1.5G" is refused; returns -1 if invalid. */
int fdr_parse_size(const char *s, uint64_t *out);
void fdr_options_usage(FILE *f, const char *prog);

#endif

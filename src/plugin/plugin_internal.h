/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef FDR_PLUGIN_INTERNAL_H
#define FDR_PLUGIN_INTERNAL_H

#include "plugin_host.h"

#define FDR_PLUGIN_MAX_ARGS 32

struct fdr_plugin {
	char name[64];
	char path[4096];
	const char *description;
	char *spec;           /* as given */
	const char *args_raw; /* within spec */
	struct {
		char *key;
		const char *val;
	} args[FDR_PLUGIN_MAX_ARGS];
	unsigned nargs;
	void *dl;
	int (*setup)(void);
	int (*teardown)(void);
	char attach_error[256]; /* first failed plugin_tap_attach() in setup */
	struct fdr_plugin *next;
};

/* The plug-in in setup()/teardown() or whose callback runs on this thread. */
struct fdr_plugin *fdr_plugin_self(void);
const char *fdr_plugin_arg(const struct fdr_plugin *p, const char *key);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The drive's side of the plug-in ABI: loading, unloading and listing
 * plug-ins, and the services plugin.h promises them.
 */
#ifndef FDR_PLUGIN_HOST_H
#define FDR_PLUGIN_HOST_H

#include <stddef.h>

struct fdr_target;

/* The target whose controllers plug-ins reach (AENs, CFS, health). */
void fdr_plugins_init(struct fdr_target *t);
/*
 * Load "path.so[,key=value,...]": check its ABI version, run its setup().
 * Returns 0, or -1 with the reason in err (the drive is left as it was:
 * anything the failed setup attached is detached again).
 */
int fdr_plugin_load(const char *spec, char *err, size_t errlen);
/* Run teardown(), detach what is left, unload.  0 or -1 with err. */
int fdr_plugin_unload(const char *name, char *err, size_t errlen);
void fdr_plugin_unload_all(void);

struct fdr_plugin_desc {
	const char *name;
	const char *description;
	const char *path;
	const char *args;   /* as given, "" if none */
	unsigned nr_taps;   /* taps it has callbacks on */
	const char *taps[16];
};
/* Calls fn for every loaded plug-in, in load order. */
void fdr_plugin_foreach(void (*fn)(const struct fdr_plugin_desc *d, void *arg), void *arg);

#endif

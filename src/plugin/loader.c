/* SPDX-License-Identifier: BSD-2-Clause */
/* Loading and unloading plug-ins (shared libraries with setup/teardown). */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <frankendrive/plugin.h>

#include "common/log.h"
#include "core/tap.h"
#include "plugin_internal.h"

static pthread_mutex_t plugins_lock = PTHREAD_MUTEX_INITIALIZER;
static struct fdr_plugin *plugins; /* in load order */
static __thread struct fdr_plugin *plugin_in_lifecycle;

struct fdr_plugin *fdr_plugin_self(void)
{
	const struct fdr_tap_entry *e;

	if (plugin_in_lifecycle)
		return plugin_in_lifecycle;
	/* Inside a callback: the plug-in that attached it (entries that
	 * plug-ins attach carry cb, the project's own carry hook). */
	e = fdr_tap_current();
	return e && e->cb ? (struct fdr_plugin *)e->owner : NULL;
}

static void plugin_free(struct fdr_plugin *p)
{
	if (!p)
		return;
	for (unsigned i = 0; i < p->nargs; i++)
		free(p->args[i].key);
	free(p->spec);
	free(p);
}

/* "path.so,key=value,flag" -> path and arguments (values may be empty). */
static struct fdr_plugin *parse_spec(const char *spec, char *err, size_t errlen)
{
	struct fdr_plugin *p = calloc(1, sizeof(*p));
	char *save = NULL, *tok;

	if (!p || !(p->spec = strdup(spec))) {
		snprintf(err, errlen, "out of memory");
		plugin_free(p);
		return NULL;
	}
	p->args_raw = strchr(p->spec, ',') ? strchr(p->spec, ',') + 1 : "";
	char *copy = strdup(spec);
	if (!copy) {
		snprintf(err, errlen, "out of memory");
		plugin_free(p);
		return NULL;
	}
	tok = strtok_r(copy, ",", &save);
	if (!tok || !*tok) {
		snprintf(err, errlen, "no plug-in path in '%s'", spec);
		goto fail;
	}
	snprintf(p->path, sizeof(p->path), "%s", tok);
	while ((tok = strtok_r(NULL, ",", &save))) {
		if (p->nargs == FDR_PLUGIN_MAX_ARGS) {
			snprintf(err, errlen, "more than %d plug-in arguments", FDR_PLUGIN_MAX_ARGS);
			goto fail;
		}
		char *eq = strchr(tok, '=');
		if (eq == tok) {
			snprintf(err, errlen, "argument '%s' has no key", tok);
			goto fail;
		}
		char *key = strdup(tok);
		if (!key) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		p->args[p->nargs].key = key;
		if (eq) {
			key[eq - tok] = '\0';
			p->args[p->nargs].val = key + (eq - tok) + 1;
		} else {
			p->args[p->nargs].val = key + strlen(key); /* "" */
		}
		p->nargs++;
	}
	free(copy);
	return p;
fail:
	free(copy);
	plugin_free(p);
	return NULL;
}

static struct fdr_plugin *find_locked(const char *name)
{
	for (struct fdr_plugin *p = plugins; p; p = p->next)
		if (strcmp(p->name, name) == 0)
			return p;
	return NULL;
}

int fdr_plugin_load(const char *spec, char *err, size_t errlen)
{
	struct fdr_plugin *p = parse_spec(spec, err, errlen);
	const struct plugin_info *info;
	int rc;

	if (!p)
		return -1;
	p->dl = dlopen(p->path, RTLD_NOW | RTLD_LOCAL);
	if (!p->dl) {
		snprintf(err, errlen, "cannot load %s: %s", p->path, dlerror());
		goto fail;
	}
	info = dlsym(p->dl, "plugin_info");
	p->setup = (int (*)(void))dlsym(p->dl, "setup");
	p->teardown = (int (*)(void))dlsym(p->dl, "teardown");
	if (!info) {
		snprintf(err, errlen, "%s is not a frankendrive plug-in: no plugin_info (use PLUGIN_INFO())",
			 p->path);
		goto fail;
	}
	if (info->abi_version != PLUGIN_ABI_VERSION) {
		snprintf(err, errlen,
			 "%s was built for plug-in ABI %u, this drive has ABI %u: rebuild it against "
			 "this drive's frankendrive/plugin.h",
			 p->path, info->abi_version, PLUGIN_ABI_VERSION);
		goto fail;
	}
	if (!p->setup || !p->teardown) {
		snprintf(err, errlen, "%s does not export %s", p->path,
			 !p->setup ? "int setup(void)" : "int teardown(void)");
		goto fail;
	}
	{
		const char *nm = info->name && *info->name ? info->name : p->path;
		size_t n = strnlen(nm, sizeof(p->name) - 1);
		memcpy(p->name, nm, n);
		p->name[n] = '\0';
	}
	p->description = info->description ? info->description : "";

	pthread_mutex_lock(&plugins_lock);
	if (find_locked(p->name)) {
		pthread_mutex_unlock(&plugins_lock);
		snprintf(err, errlen, "a plug-in named '%s' is already loaded", p->name);
		goto fail;
	}
	pthread_mutex_unlock(&plugins_lock);

	plugin_in_lifecycle = p;
	p->attach_error[0] = '\0';
	rc = p->setup();
	plugin_in_lifecycle = NULL;
	if (rc != 0 || p->attach_error[0]) {
		snprintf(err, errlen, "%s: setup() %s%s%s", p->name,
			 rc ? "failed" : "attached to a tap that does not exist",
			 p->attach_error[0] ? ": " : "", p->attach_error);
		/* Leave the drive as it was. */
		fdr_tap_detach_owner(p);
		goto fail;
	}

	pthread_mutex_lock(&plugins_lock);
	struct fdr_plugin **pp = &plugins;
	while (*pp)
		pp = &(*pp)->next;
	*pp = p;
	pthread_mutex_unlock(&plugins_lock);
	fdr_info("plug-in %s loaded from %s%s%s", p->name, p->path, *p->args_raw ? " with " : "",
		 p->args_raw);
	return 0;
fail:
	if (p->dl)
		dlclose(p->dl);
	plugin_free(p);
	return -1;
}

static void unload(struct fdr_plugin *p)
{
	int rc;

	plugin_in_lifecycle = p;
	rc = p->teardown();
	plugin_in_lifecycle = NULL;
	if (rc)
		fdr_warn("plug-in %s: teardown() returned %d", p->name, rc);
	/* Whatever it left attached goes; afterwards no reactor can be in
	 * its code, so unmapping it is safe. */
	fdr_tap_detach_owner(p);
	dlclose(p->dl);
	fdr_info("plug-in %s unloaded", p->name);
	plugin_free(p);
}

int fdr_plugin_unload(const char *name, char *err, size_t errlen)
{
	struct fdr_plugin *p, **pp;

	pthread_mutex_lock(&plugins_lock);
	for (pp = &plugins; (p = *pp); pp = &p->next)
		if (strcmp(p->name, name) == 0)
			break;
	if (p)
		*pp = p->next;
	pthread_mutex_unlock(&plugins_lock);
	if (!p) {
		snprintf(err, errlen, "no plug-in named '%s' is loaded", name);
		return -1;
	}
	unload(p);
	return 0;
}

void fdr_plugin_unload_all(void)
{
	for (;;) {
		struct fdr_plugin *p, **pp;

		/* Last loaded first, as a stack of changes. */
		pthread_mutex_lock(&plugins_lock);
		for (pp = &plugins; *pp && (*pp)->next; pp = &(*pp)->next)
			;
		p = *pp;
		if (p)
			*pp = NULL;
		pthread_mutex_unlock(&plugins_lock);
		if (!p)
			return;
		unload(p);
	}
}

void fdr_plugin_foreach(void (*fn)(const struct fdr_plugin_desc *d, void *arg), void *arg)
{
	pthread_mutex_lock(&plugins_lock);
	for (struct fdr_plugin *p = plugins; p; p = p->next) {
		struct fdr_plugin_desc d = {
			.name = p->name,
			.description = p->description,
			.path = p->path,
			.args = p->args_raw,
		};
		d.nr_taps = fdr_tap_owner_taps(p, d.taps, 16);
		fn(&d, arg);
	}
	pthread_mutex_unlock(&plugins_lock);
}

const char *fdr_plugin_arg(const struct fdr_plugin *p, const char *key)
{
	for (unsigned i = 0; i < p->nargs; i++)
		if (strcmp(p->args[i].key, key) == 0)
			return p->args[i].val;
	return NULL;
}

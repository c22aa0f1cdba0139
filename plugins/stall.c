/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * stall: a controller that sits on commands.  Matching commands are held
 * at decode and finished later by the plug-in's own thread: resumed (they
 * then execute normally), completed with a chosen status, or never, so
 * the host's timeout, abort and reset paths run.  Unloading the plug-in
 * resumes whatever it still holds.
 *
 *   opc=NAME     only this opcode ("read", "write", "admin:0x80", ...);
 *                default: every I/O command
 *   every=N      hold every Nth matching command (default 1)
 *   ms=N         finish it after N milliseconds; 0 = never (default 1000)
 *   status=S     complete with this status (NVME_STATUS value, e.g. 0x182
 *                for 01h/82h, 0x4004 for a Data Transfer Error with DNR)
 *                instead of letting the command run
 *
 *   frankendrive --plugin plugins/stall.so,opc=flush,ms=0
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <frankendrive/plugin.h>

PLUGIN_INFO("stall", "hold commands and finish them later from a thread");

#define MAX_HELD 4096

struct held {
	uint64_t ticket;
	uint64_t due_ns;
};

static bool any_opc = true, admin_set;
static uint8_t match_opc;
static uint64_t every = 1, ms = 1000, nr_match; /* nr_match atomic */
static bool complete_it;
static uint16_t status;

static pthread_t worker;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static struct held held[MAX_HELD];
static unsigned nr_held;
static bool stopping;

/* Finish one held command: with the status, or by letting it go on. */
static void finish(uint64_t ticket)
{
	int rc = complete_it ? plugin_ticket_complete(ticket, status, 0) : plugin_ticket_resume(ticket);

	if (rc < 0 && errno != ESTALE) /* stale: the host went away first */
		plugin_log(4, "finishing ticket %llu: %s", (unsigned long long)ticket, strerror(errno));
}

static void *worker_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&lock);
	while (!stopping) {
		uint64_t now = plugin_now_ns(), next = UINT64_MAX;

		for (unsigned i = 0; i < nr_held;) {
			if (held[i].due_ns && held[i].due_ns <= now) {
				uint64_t t = held[i].ticket;
				held[i] = held[--nr_held];
				pthread_mutex_unlock(&lock);
				finish(t);
				pthread_mutex_lock(&lock);
				continue;
			}
			if (held[i].due_ns && held[i].due_ns < next)
				next = held[i].due_ns;
			i++;
		}
		if (next == UINT64_MAX) {
			pthread_cond_wait(&cond, &lock);
		} else {
			/* The condition variable's clock is CLOCK_REALTIME. */
			struct timespec ts;
			uint64_t wait_ns = next - now;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += (time_t)(wait_ns / 1000000000u);
			ts.tv_nsec += (long)(wait_ns % 1000000000u);
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&cond, &lock, &ts);
		}
	}
	pthread_mutex_unlock(&lock);
	return NULL;
}

static DECL_NPLUGIN_CMD(stall_cmd);

static int stall_cmd(uint32_t dev, struct nvme_sqe *cmd, struct nvme_cqe *cmp, uint32_t sqid)
{
	uint64_t n, ticket;

	(void)dev;
	(void)cmp;
	if (!any_opc && cmd->opc != match_opc)
		return PLUGIN_CONTINUE;
	if (cmd->opc == NVME_ADM_FABRICS)
		return PLUGIN_CONTINUE; /* never stall Connect or properties */
	n = __atomic_add_fetch(&nr_match, 1, __ATOMIC_RELAXED);
	if (n % every)
		return PLUGIN_CONTINUE;
	pthread_mutex_lock(&lock);
	if (nr_held == MAX_HELD) {
		pthread_mutex_unlock(&lock);
		return PLUGIN_CONTINUE;
	}
	ticket = plugin_cmd_hold(plugin_cmd());
	held[nr_held].ticket = ticket;
	held[nr_held].due_ns = ms ? plugin_now_ns() + ms * 1000000u : 0;
	nr_held++;
	pthread_cond_signal(&cond);
	pthread_mutex_unlock(&lock);
	plugin_log(7, "holding CID %u on queue %u (ticket %llu)", cmd->cid, sqid,
		   (unsigned long long)ticket);
	return PLUGIN_HOLD;
}

int setup(void)
{
	const char *opc = plugin_arg("opc"), *st = plugin_arg("status");
	uint64_t v;

	if (plugin_arg_u64("every", 1, &every) || plugin_arg_u64("ms", 1000, &ms))
		return -1;
	if (every == 0) {
		plugin_log(3, "every=0: expected at least 1");
		return -1;
	}
	if (opc) {
		bool admin = false;
		if (nvme_opc_parse(opc, &admin, &match_opc) < 0) {
			plugin_log(3, "opc=%s: unknown opcode", opc);
			return -1;
		}
		any_opc = false;
		admin_set = admin;
	}
	if (st) {
		if (plugin_arg_u64("status", 0, &v) || v > 0x7fff) {
			plugin_log(3, "status=%s: expected a status value up to 0x7fff", st);
			return -1;
		}
		complete_it = true;
		status = (uint16_t)v;
	}
	if (pthread_create(&worker, NULL, worker_main, NULL)) {
		plugin_log(3, "cannot start the worker thread");
		return -1;
	}
	return plugin_tap_attach(admin_set ? "nvme:admin:decode" : "nvme:io:decode", stall_cmd);
}

int teardown(void)
{
	plugin_tap_detach(admin_set ? "nvme:admin:decode" : "nvme:io:decode");
	pthread_mutex_lock(&lock);
	stopping = true;
	pthread_cond_signal(&cond);
	pthread_mutex_unlock(&lock);
	pthread_join(worker, NULL);
	/* Nothing stays stuck once the plug-in is gone. */
	complete_it = false;
	for (unsigned i = 0; i < nr_held; i++)
		finish(held[i].ticket);
	nr_held = 0;
	return 0;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/* SIGBUS guard for DMA mappings: see vfu_guard.h. */
#include "vfu_guard.h"

#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "common/log.h"

#define GUARD_SLOTS 1024

/* Read by the signal handler without locks: a slot is published by
 * storing end last and retired by clearing end first. */
struct guard_slot {
	uintptr_t start, end;
	size_t pgsize;
	int hit;
};

static struct guard_slot slots[GUARD_SLOTS];
static pthread_mutex_t slots_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t install_once = PTHREAD_ONCE_INIT;
static struct sigaction prev_action;

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	uintptr_t a = (uintptr_t)si->si_addr;

	for (unsigned i = 0; i < GUARD_SLOTS; i++) {
		uintptr_t end = __atomic_load_n(&slots[i].end, __ATOMIC_ACQUIRE);
		uintptr_t start = slots[i].start;
		size_t pg = slots[i].pgsize;

		if (!end || a < start || a >= end)
			continue;
		/* Returning retries the access, which now hits the new page. */
		if (mmap((void *)(a & ~(uintptr_t)(pg - 1)), pg, PROT_READ | PROT_WRITE,
			 MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) != MAP_FAILED) {
			__atomic_store_n(&slots[i].hit, 1, __ATOMIC_RELEASE);
			return;
		}
		break;
	}
	/* Not ours: whoever handled SIGBUS before, or the default action
	 * (the access is retried and faults again). */
	if ((prev_action.sa_flags & SA_SIGINFO) && prev_action.sa_sigaction)
		prev_action.sa_sigaction(sig, si, uc);
	else if (prev_action.sa_handler != SIG_DFL && prev_action.sa_handler != SIG_IGN)
		prev_action.sa_handler(sig);
	else
		signal(SIGBUS, SIG_DFL);
}

static void install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigbus;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGBUS, &sa, &prev_action))
		fdr_warn("vfio-user: cannot install the SIGBUS guard: %m");
}

int vfu_guard_add(void *base, size_t len, size_t pgsize)
{
	int slot = -1;

	pthread_once(&install_once, install);
	pthread_mutex_lock(&slots_lock);
	for (unsigned i = 0; i < GUARD_SLOTS && slot < 0; i++) {
		if (__atomic_load_n(&slots[i].end, __ATOMIC_RELAXED))
			continue;
		slots[i].start = (uintptr_t)base;
		slots[i].pgsize = pgsize;
		__atomic_store_n(&slots[i].hit, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&slots[i].end, (uintptr_t)base + len, __ATOMIC_RELEASE);
		slot = (int)i;
	}
	pthread_mutex_unlock(&slots_lock);
	if (slot < 0)
		fdr_warn("vfio-user: no SIGBUS guard slot left for a DMA mapping");
	return slot;
}

void vfu_guard_del(int slot)
{
	if (slot < 0 || slot >= GUARD_SLOTS)
		return;
	pthread_mutex_lock(&slots_lock);
	__atomic_store_n(&slots[slot].end, 0, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&slots_lock);
}

bool vfu_guard_hit(int slot)
{
	return slot >= 0 && __atomic_load_n(&slots[slot].hit, __ATOMIC_ACQUIRE);
}

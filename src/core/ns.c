/* SPDX-License-Identifier: BSD-2-Clause */
/* Namespaces: LBA geometry over a backend, identifiers, bad-block ranges. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "core.h"

const uint8_t fdr_lbaf_lbads[FDR_NR_LBAF] = {9, 12};

/* FNV-1a, so that identifiers are stable across restarts of one config:
 * hosts (multipath, udev by-id links) key on them. */
static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static void make_ids(struct fdr_ns *ns, const char *subnqn)
{
	uint64_t h1 = fnv1a(0xcbf29ce484222325ull, subnqn, strlen(subnqn));
	h1 = fnv1a(h1, &ns->nsid, sizeof(ns->nsid));
	uint64_t h2 = fnv1a(h1 ^ 0x5bd1e995ull, "nguid", 5);
	uint64_t h3 = fnv1a(h1 ^ 0x27d4eb2full, "uuid", 4);
	uint64_t h4 = fnv1a(h3, "uuid2", 5);

	memcpy(ns->eui64, &h1, 8);
	memcpy(ns->nguid, &h2, 8);
	memcpy(ns->nguid + 8, &h1, 8);
	memcpy(ns->uuid, &h3, 8);
	memcpy(ns->uuid + 8, &h4, 8);
	ns->uuid[6] = (uint8_t)((ns->uuid[6] & 0x0f) | 0x40); /* version 4 layout */
	ns->uuid[8] = (uint8_t)((ns->uuid[8] & 0x3f) | 0x80); /* RFC 4122 variant */
}

static int lbaf_index(uint32_t lba_size)
{
	for (int i = 0; i < FDR_NR_LBAF; i++)
		if ((1u << fdr_lbaf_lbads[i]) == lba_size)
			return i;
	return -1;
}

struct fdr_ns *fdr_ns_create(uint32_t nsid, struct fdr_bdev *bdev, uint32_t lba_size,
			     const char *subnqn, char *err, size_t errlen)
{
	int lbaf = lbaf_index(lba_size);
	struct fdr_ns *ns;

	if (lbaf < 0) {
		snprintf(err, errlen, "LBA size %u not supported (512 or 4096)", lba_size);
		return NULL;
	}
	if (bdev->size < lba_size || bdev->size % lba_size) {
		snprintf(err, errlen, "size %llu is not a multiple of the LBA size %u",
			 (unsigned long long)bdev->size, lba_size);
		return NULL;
	}
	ns = calloc(1, sizeof(*ns));
	if (!ns) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	ns->nsid = nsid;
	ns->bdev = bdev;
	ns->flbas = (uint8_t)lbaf;
	ns->lbads = fdr_lbaf_lbads[lbaf];
	ns->nsze = bdev->size >> ns->lbads;
	pthread_mutex_init(&ns->unc_lock, NULL);
	make_ids(ns, subnqn);
	return ns;
}

void fdr_ns_destroy(struct fdr_ns *ns)
{
	if (!ns)
		return;
	fdr_bdev_destroy(ns->bdev);
	pthread_mutex_destroy(&ns->unc_lock);
	free(ns->unc);
	free(ns);
}

static void format_done(struct fdr_bdev_io *io, int err)
{
	*(int *)io->ctx = err;
}

int fdr_ns_format(struct fdr_ns *ns, uint8_t lbaf)
{
	struct fdr_bdev_io io = {
		.op = FDR_BDEV_DISCARD,
		.offset = 0,
		.len = ns->bdev->size,
		.sync = true,
		.cb = format_done,
	};
	int err = -EINPROGRESS;
	uint32_t lba_size;

	if (lbaf >= FDR_NR_LBAF)
		return -EINVAL;
	lba_size = 1u << fdr_lbaf_lbads[lbaf];
	if (ns->bdev->size % lba_size)
		return -EINVAL;
	io.ctx = &err;
	int rc = fdr_bdev_submit(ns->bdev, &io);
	if (rc < 0)
		return rc;
	if (err)
		return err == -EINPROGRESS ? -EIO : err;
	pthread_mutex_lock(&ns->unc_lock);
	__atomic_store_n(&ns->unc_n, 0, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&ns->unc_lock);
	ns->flbas = lbaf;
	ns->lbads = fdr_lbaf_lbads[lbaf];
	ns->nsze = ns->bdev->size >> ns->lbads;
	return 0;
}

/* ---- Write Uncorrectable ranges (cold: sorted, disjoint, merged) ---- */

static int unc_grow_locked(struct fdr_ns *ns)
{
	uint32_t cap;
	void *p;

	if (ns->unc_n < ns->unc_cap)
		return 0;
	cap = ns->unc_cap ? ns->unc_cap * 2 : 8;
	p = realloc(ns->unc, cap * sizeof(*ns->unc));
	if (!p)
		return -ENOMEM;
	ns->unc = p;
	ns->unc_cap = cap;
	return 0;
}

static void unc_remove_locked(struct fdr_ns *ns, uint64_t slba, uint64_t nlb)
{
	uint64_t end = slba + nlb;

	for (uint32_t i = 0; i < ns->unc_n;) {
		struct fdr_lba_range *r = &ns->unc[i];
		uint64_t rend = r->slba + r->nlb;

		if (rend <= slba || r->slba >= end) {
			i++;
			continue;
		}
		if (r->slba < slba && rend > end) {
			/* Split in two; without memory keep the whole range, so
			 * reads of it keep failing rather than succeed wrongly. */
			if (unc_grow_locked(ns) < 0)
				return;
			r = &ns->unc[i];
			memmove(&ns->unc[i + 2], &ns->unc[i + 1], (ns->unc_n - i - 1) * sizeof(*r));
			ns->unc[i + 1] = (struct fdr_lba_range){end, rend - end};
			r->nlb = slba - r->slba;
			ns->unc_n++;
			return;
		}
		if (r->slba < slba) {
			r->nlb = slba - r->slba;
			i++;
		} else if (rend > end) {
			r->nlb = rend - end;
			r->slba = end;
			i++;
		} else {
			memmove(r, r + 1, (ns->unc_n - i - 1) * sizeof(*r));
			ns->unc_n--;
		}
	}
}

int fdr_ns_unc_mark(struct fdr_ns *ns, uint64_t slba, uint64_t nlb)
{
	uint32_t i;

	pthread_mutex_lock(&ns->unc_lock);
	unc_remove_locked(ns, slba, nlb);
	if (unc_grow_locked(ns) < 0) {
		pthread_mutex_unlock(&ns->unc_lock);
		return -ENOMEM;
	}
	for (i = 0; i < ns->unc_n && ns->unc[i].slba < slba; i++)
		;
	memmove(&ns->unc[i + 1], &ns->unc[i], (ns->unc_n - i) * sizeof(*ns->unc));
	ns->unc[i] = (struct fdr_lba_range){slba, nlb};
	ns->unc_n++;
	/* Merge with touching neighbours so marking block by block stays small. */
	if (i + 1 < ns->unc_n && ns->unc[i].slba + ns->unc[i].nlb == ns->unc[i + 1].slba) {
		ns->unc[i].nlb += ns->unc[i + 1].nlb;
		memmove(&ns->unc[i + 1], &ns->unc[i + 2], (ns->unc_n - i - 2) * sizeof(*ns->unc));
		ns->unc_n--;
	}
	if (i > 0 && ns->unc[i - 1].slba + ns->unc[i - 1].nlb == ns->unc[i].slba) {
		ns->unc[i - 1].nlb += ns->unc[i].nlb;
		memmove(&ns->unc[i], &ns->unc[i + 1], (ns->unc_n - i - 1) * sizeof(*ns->unc));
		ns->unc_n--;
	}
	__atomic_store_n(&ns->unc_n, ns->unc_n, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&ns->unc_lock);
	return 0;
}

void fdr_ns_unc_clear(struct fdr_ns *ns, uint64_t slba, uint64_t nlb)
{
	if (__atomic_load_n(&ns->unc_n, __ATOMIC_ACQUIRE) == 0)
		return;
	pthread_mutex_lock(&ns->unc_lock);
	unc_remove_locked(ns, slba, nlb);
	pthread_mutex_unlock(&ns->unc_lock);
}

uint64_t fdr_ns_unc_find(struct fdr_ns *ns, uint64_t slba, uint64_t nlb)
{
	uint64_t hit = UINT64_MAX, end = slba + nlb;

	/* The common case, no bad blocks at all, costs one load. */
	if (__atomic_load_n(&ns->unc_n, __ATOMIC_ACQUIRE) == 0)
		return UINT64_MAX;
	pthread_mutex_lock(&ns->unc_lock);
	for (uint32_t i = 0; i < ns->unc_n; i++) {
		const struct fdr_lba_range *r = &ns->unc[i];
		if (r->slba < end && r->slba + r->nlb > slba) {
			hit = r->slba > slba ? r->slba : slba;
			break;
		}
	}
	pthread_mutex_unlock(&ns->unc_lock);
	return hit;
}

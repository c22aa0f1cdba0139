/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Admin commands against the real drive: Identify (CNS 0/1/2/3), Get/Set
 * Features, Get Log Page (error, SMART, firmware slot, changed namespaces,
 * command effects), Asynchronous Event Requests, Abort, Keep Alive,
 * Format NVM and the error statuses.  SMART counters and Format run on
 * drives of their own so that their results are exact.
 */
#include "itest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define SERIAL "FDRSN-ITEST-0042"
#define MODEL "Frankendrive Integration Model"
#define FIRMWARE "FW9.1"
#define NR_IOQ 4

static const uint8_t g_hostid[16] = { 0x10, 0x32, 0x54, 0x76, 0x98, 0xba, 0xdc, 0xfe,
				      0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef };

static struct itest_drive g_drive;
static struct fdr_host_ctrl *g_ctrl;
static struct nvme_id_ctrl g_id;

static const char *const drive_args[] = {
	"--serial", SERIAL,
	"--model", MODEL,
	"--firmware", FIRMWARE,
	"--ns", "ram,size=64M,lba=512",
	"--ns", "file,path=@TMP@/ns2.img,size=32M,lba=4096",
	"--queues", "4",
	"-n", ITEST_NQN,
	NULL,
};

static struct fdr_host_ctrl *connect_to(const struct itest_drive *d, unsigned nr_ioq)
{
	struct fdr_host_opts o;
	struct fdr_host_ctrl *c;
	char err[512];

	itest_opts(d, &o, NULL, nr_ioq, 16);
	o.hostid = g_hostid;
	c = fdr_host_connect(&o, err, sizeof(err));
	if (!c)
		fail_msg("connect: %s", err);
	return c;
}

static int setup(void **state)
{
	struct fdr_host_opts o;
	char err[512];

	if (itest_drive_start(&g_drive, false, drive_args))
		return -1;
	itest_opts(&g_drive, &o, NULL, NR_IOQ, 16);
	o.hostid = g_hostid;
	g_ctrl = fdr_host_connect(&o, err, sizeof(err));
	if (!g_ctrl) {
		fprintf(stderr, "connect: %s\n", err);
		itest_drive_stop(&g_drive);
		return -1;
	}
	g_id = *fdr_host_id_ctrl(g_ctrl);
	return 0;
}

static int teardown(void **state)
{
	int rc = 0;

	if (g_ctrl && fdr_host_disconnect(g_ctrl)) {
		fprintf(stderr, "orderly disconnect failed\n");
		rc = -1;
	}
	g_ctrl = NULL;
	if (itest_drive_stop(&g_drive))
		rc = -1;
	return rc;
}

static struct fdr_host_queue *ioq(unsigned i)
{
	struct fdr_host_queue *q = fdr_host_ioq(g_ctrl, i);

	assert_non_null(q);
	return q;
}

/* ---- Identify ---------------------------------------------------------------- */

static void test_identify_ctrl(void **state)
{
	struct nvme_id_ctrl *id = itest_alloc(4096);

	assert_status(itest_identify(g_ctrl, NVME_CNS_CTRL, 0, id), NVME_SC_SUCCESS);
	printf("# sn '%.20s' mn '%.40s' fr '%.8s' ver %#x mdts %u nn %u oncs %#x oacs %#x vwc %#x sgls %#x ioccsz %u iorcsz %u kas %u aerl %u elpe %u lpa %#x maxcmd %u\n",
	       id->sn, id->mn, id->fr, id->ver, id->mdts, id->nn, id->oncs, id->oacs, id->vwc,
	       id->sgls, id->ioccsz, id->iorcsz, id->kas, id->aerl, id->elpe, id->lpa, id->maxcmd);
	assert_true(itest_padded_eq(id->sn, sizeof(id->sn), SERIAL));
	assert_true(itest_padded_eq(id->mn, sizeof(id->mn), MODEL));
	assert_true(itest_padded_eq(id->fr, sizeof(id->fr), FIRMWARE));
	assert_string_equal(id->subnqn, ITEST_NQN);
	assert_int_equal(id->cntlid, fdr_host_cntlid(g_ctrl));
	assert_int_equal(id->ver, fdr_host_vs(g_ctrl));
	assert_int_equal(id->cntrltype, NVME_CTRL_TYPE_IO);
	assert_int_equal(id->nn >= 2, 1);
	assert_int_equal(id->mdts, 5); /* 128 KiB with 4 KiB pages */
	assert_int_equal(id->sqes, 0x66);
	assert_int_equal(id->cqes, 0x44);
	/* Fabrics: capsule sizes from --inline-data 8192, no in-capsule offset. */
	assert_int_equal(id->ioccsz, (8192 + 64) / 16);
	assert_int_equal(id->iorcsz, 1);
	assert_int_equal(id->icdoff, 0);
	assert_int_equal(id->fcatt & 1, 0); /* dynamic controller model */
	assert_true((id->sgls & 3) != 0);
	assert_int_equal(id->sgls & NVME_SGLS_KEYED, 0);
	assert_true(id->sgls & NVME_SGLS_OFFSET);
	assert_true(id->kas != 0);
	assert_true(id->maxcmd != 0);
	/* What the other tests rely on is advertised. */
	assert_true(id->oacs & NVME_OACS_FORMAT);
	assert_true(id->lpa & NVME_LPA_CMD_EFFECTS);
	assert_true(id->oncs & NVME_ONCS_TIMESTAMP);
	assert_true(id->oaes & NVME_OAES_NS_ATTR);
	/* A file namespace has a volatile write cache. */
	assert_int_equal(id->vwc & 1, 1);
	/* Same data as during the connect. */
	assert_memory_equal(id, &g_id, 4096);
	free(id);
}

static void test_identify_ns(void **state)
{
	struct nvme_id_ns *ns = itest_alloc(4096), *ns2 = itest_alloc(4096);
	unsigned f;
	bool has4k = false;

	assert_status(itest_identify(g_ctrl, NVME_CNS_NS, 1, ns), NVME_SC_SUCCESS);
	f = ns->flbas & 0xf;
	printf("# ns1 nsze %llu ncap %llu nuse %llu nlbaf %u flbas %#x lbads %u nsfeat %#x dlfeat %#x\n",
	       (unsigned long long)ns->nsze, (unsigned long long)ns->ncap,
	       (unsigned long long)ns->nuse, ns->nlbaf, ns->flbas, ns->lbaf[f].lbads, ns->nsfeat,
	       ns->dlfeat);
	assert_int_equal(ns->nsze, (64u << 20) / 512);
	assert_int_equal(ns->ncap, ns->nsze);
	assert_true(ns->nuse <= ns->nsze);
	assert_true(f <= ns->nlbaf);
	assert_int_equal(ns->lbaf[f].lbads, 9);
	assert_int_equal(ns->lbaf[f].ms, 0);
	for (unsigned i = 0; i <= ns->nlbaf && i < 16; i++)
		has4k |= ns->lbaf[i].lbads == 12;
	assert_true(has4k);
	assert_false(itest_is_zero(ns->nguid, 16) && itest_is_zero(ns->eui64, 8));

	assert_status(itest_identify(g_ctrl, NVME_CNS_NS, 2, ns2), NVME_SC_SUCCESS);
	f = ns2->flbas & 0xf;
	assert_int_equal(ns2->nsze, (32u << 20) / 4096);
	assert_int_equal(ns2->lbaf[f].lbads, 12);
	/* Distinct identifiers per namespace. */
	assert_false(memcmp(ns->nguid, ns2->nguid, 16) == 0 && memcmp(ns->eui64, ns2->eui64, 8) == 0);

	/* NSID 0 and (without namespace management) FFFFFFFFh are invalid here. */
	assert_status(itest_identify(g_ctrl, NVME_CNS_NS, 0, ns), NVME_SC_INVALID_NAMESPACE_OR_FORMAT);
	if (!(g_id.oacs & NVME_OACS_NS_MGMT))
		assert_status(itest_identify(g_ctrl, NVME_CNS_NS, NVME_NSID_ALL, ns),
			      NVME_SC_INVALID_NAMESPACE_OR_FORMAT);
	/* An inactive NSID within NN gives zeroes; one above NN is invalid. */
	if (g_id.nn > 2) {
		assert_status(itest_identify(g_ctrl, NVME_CNS_NS, 3, ns), NVME_SC_SUCCESS);
		assert_true(itest_is_zero(ns, 4096));
	}
	if (g_id.nn < 0xfffffffe)
		assert_status(itest_identify(g_ctrl, NVME_CNS_NS, g_id.nn + 1, ns),
			      NVME_SC_INVALID_NAMESPACE_OR_FORMAT);
	free(ns);
	free(ns2);
}

static void test_identify_ns_list(void **state)
{
	uint32_t *list = itest_alloc(4096);

	assert_status(itest_identify(g_ctrl, NVME_CNS_ACTIVE_NS_LIST, 0, list), NVME_SC_SUCCESS);
	assert_int_equal(list[0], 1);
	assert_int_equal(list[1], 2);
	assert_true(itest_is_zero(list + 2, 4096 - 8));
	/* Only NSIDs greater than the one given. */
	assert_status(itest_identify(g_ctrl, NVME_CNS_ACTIVE_NS_LIST, 1, list), NVME_SC_SUCCESS);
	assert_int_equal(list[0], 2);
	assert_true(itest_is_zero(list + 1, 4096 - 4));
	assert_status(itest_identify(g_ctrl, NVME_CNS_ACTIVE_NS_LIST, 2, list), NVME_SC_SUCCESS);
	assert_true(itest_is_zero(list, 4096));
	assert_status(itest_identify(g_ctrl, NVME_CNS_ACTIVE_NS_LIST, 0xfffffffe, list),
		      NVME_SC_INVALID_NAMESPACE_OR_FORMAT);
	assert_status(itest_identify(g_ctrl, NVME_CNS_ACTIVE_NS_LIST, NVME_NSID_ALL, list),
		      NVME_SC_INVALID_NAMESPACE_OR_FORMAT);
	free(list);
}

struct descs {
	bool eui64, nguid, uuid;
	uint8_t eui64_v[8], nguid_v[16], uuid_v[16];
};

static void parse_descs(const uint8_t *p, struct descs *d)
{
	size_t off = 0;

	memset(d, 0, sizeof(*d));
	while (off + 4 <= 4096) {
		const struct nvme_ns_id_desc *x = (const void *)(p + off);

		if (!x->nidt)
			break;
		assert_true(off + 4 + x->nidl <= 4096);
		switch (x->nidt) {
		case NVME_NIDT_EUI64:
			assert_int_equal(x->nidl, NVME_NIDT_EUI64_LEN);
			d->eui64 = true;
			memcpy(d->eui64_v, p + off + 4, 8);
			break;
		case NVME_NIDT_NGUID:
			assert_int_equal(x->nidl, NVME_NIDT_NGUID_LEN);
			d->nguid = true;
			memcpy(d->nguid_v, p + off + 4, 16);
			break;
		case NVME_NIDT_UUID:
			assert_int_equal(x->nidl, NVME_NIDT_UUID_LEN);
			d->uuid = true;
			memcpy(d->uuid_v, p + off + 4, 16);
			break;
		case NVME_NIDT_CSI:
			assert_int_equal(x->nidl, NVME_NIDT_CSI_LEN);
			assert_int_equal(p[off + 4], 0); /* NVM command set */
			break;
		default:
			fail_msg("unknown namespace identifier type %u", x->nidt);
		}
		off += 4 + x->nidl;
	}
}

static void test_identify_ns_descs(void **state)
{
	uint8_t *buf = itest_alloc(4096);
	struct nvme_id_ns *ns = itest_alloc(4096);
	struct descs d1, d2;

	assert_status(itest_identify(g_ctrl, NVME_CNS_NS_DESC_LIST, 1, buf), NVME_SC_SUCCESS);
	parse_descs(buf, &d1);
	assert_true(d1.eui64 && d1.nguid && d1.uuid);
	assert_false(itest_is_zero(d1.nguid_v, 16));
	assert_false(itest_is_zero(d1.uuid_v, 16));
	assert_status(itest_identify(g_ctrl, NVME_CNS_NS, 1, ns), NVME_SC_SUCCESS);
	assert_memory_equal(d1.nguid_v, ns->nguid, 16);
	assert_memory_equal(d1.eui64_v, ns->eui64, 8);

	assert_status(itest_identify(g_ctrl, NVME_CNS_NS_DESC_LIST, 2, buf), NVME_SC_SUCCESS);
	parse_descs(buf, &d2);
	assert_true(d2.eui64 && d2.nguid && d2.uuid);
	assert_memory_not_equal(d1.nguid_v, d2.nguid_v, 16);
	assert_memory_not_equal(d1.uuid_v, d2.uuid_v, 16);
	assert_memory_not_equal(d1.eui64_v, d2.eui64_v, 8);
	assert_status(itest_identify(g_ctrl, NVME_CNS_NS_DESC_LIST, 99, buf),
		      NVME_SC_INVALID_NAMESPACE_OR_FORMAT);
	free(buf);
	free(ns);
}

static void test_identify_invalid_cns(void **state)
{
	uint8_t *buf = itest_alloc(4096);

	assert_status(itest_identify(g_ctrl, 0x55, 0, buf), NVME_SC_INVALID_FIELD);
	assert_status(itest_identify(g_ctrl, 0xff, 1, buf), NVME_SC_INVALID_FIELD);
	/* A too short buffer for Identify. */
	{
		struct nvme_sqe cmd;

		memset(&cmd, 0, sizeof(cmd));
		cmd.opc = NVME_ADM_IDENTIFY;
		cmd.cdw10 = NVME_CNS_CTRL;
		assert_status(itest_admin(g_ctrl, &cmd, buf, 1024, NULL),
			      NVME_SC_DATA_SGL_LENGTH_INVALID);
	}
	free(buf);
}

/* ---- Features ------------------------------------------------------------------ */

static uint32_t get_cur(uint8_t fid, uint32_t nsid, uint32_t cdw11)
{
	uint32_t v = 0;

	assert_status(itest_get_feat(g_ctrl, fid, NVME_FEAT_SEL_CURRENT, nsid, cdw11, NULL, 0, &v),
		      NVME_SC_SUCCESS);
	return v;
}

static void set_ok(uint8_t fid, uint32_t nsid, uint32_t cdw11)
{
	assert_status(itest_set_feat(g_ctrl, fid, false, nsid, cdw11, NULL, 0, NULL),
		      NVME_SC_SUCCESS);
}

static void test_feat_arbitration(void **state)
{
	uint32_t cur = get_cur(NVME_FEAT_ARBITRATION, 0, 0), caps = 0;

	set_ok(NVME_FEAT_ARBITRATION, 0, (cur & ~7u) | 3);
	assert_int_equal(get_cur(NVME_FEAT_ARBITRATION, 0, 0) & 7, 3);
	set_ok(NVME_FEAT_ARBITRATION, 0, (cur & ~7u) | 7);
	assert_int_equal(get_cur(NVME_FEAT_ARBITRATION, 0, 0) & 7, 7);
	set_ok(NVME_FEAT_ARBITRATION, 0, cur);
	assert_int_equal(get_cur(NVME_FEAT_ARBITRATION, 0, 0), cur);
	/* Supported capabilities: changeable; saveable only if ONCS says so. */
	assert_status(itest_get_feat(g_ctrl, NVME_FEAT_ARBITRATION, NVME_FEAT_SEL_SUPPORTED, 0, 0,
				     NULL, 0, &caps),
		      NVME_SC_SUCCESS);
	assert_true(caps & NVME_FEAT_CAP_CHANGEABLE);
	assert_int_equal(!!(caps & NVME_FEAT_CAP_SAVEABLE),
			 !!(g_id.oncs & NVME_ONCS_SAVE_FEATURES));
	assert_int_equal(caps & NVME_FEAT_CAP_NS_SPECIFIC, 0);
}

static void test_feat_power_mgmt(void **state)
{
	set_ok(NVME_FEAT_POWER_MGMT, 0, 0);
	assert_int_equal(get_cur(NVME_FEAT_POWER_MGMT, 0, 0) & 0x1f, 0);
	/* Only power states 0..NPSS exist. */
	assert_status(itest_set_feat(g_ctrl, NVME_FEAT_POWER_MGMT, false, 0, g_id.npss + 1u, NULL,
				     0, NULL),
		      NVME_SC_INVALID_FIELD);
	assert_int_equal(get_cur(NVME_FEAT_POWER_MGMT, 0, 0) & 0x1f, 0);
}

static void test_feat_temp_threshold(void **state)
{
	uint32_t over = get_cur(NVME_FEAT_TEMP_THRESH, 0, 0) & 0xffff;
	uint32_t under = get_cur(NVME_FEAT_TEMP_THRESH, 0, 1u << 20) & 0xffff;
	uint32_t def = 0;
	struct nvme_smart_log *smart = itest_alloc(512);

	printf("# temperature thresholds: over %u K, under %u K (WCTEMP %u)\n", over, under,
	       g_id.wctemp);
	set_ok(NVME_FEAT_TEMP_THRESH, 0, 356);
	set_ok(NVME_FEAT_TEMP_THRESH, 0, 1u << 20 | 250);
	assert_int_equal(get_cur(NVME_FEAT_TEMP_THRESH, 0, 0) & 0xffff, 356);
	assert_int_equal(get_cur(NVME_FEAT_TEMP_THRESH, 0, 1u << 20) & 0xffff, 250);
	/* The default does not move with the current value. */
	assert_status(itest_get_feat(g_ctrl, NVME_FEAT_TEMP_THRESH, NVME_FEAT_SEL_DEFAULT, 0, 0,
				     NULL, 0, &def),
		      NVME_SC_SUCCESS);
	assert_int_equal(def & 0xffff, over);
	/* A sensor that the SMART log does not report is invalid. */
	assert_status(itest_get_log(g_ctrl, NVME_LOG_SMART, NVME_NSID_ALL, 0, false, smart, 512),
		      NVME_SC_SUCCESS);
	if (!smart->temp_sensor[0])
		assert_status(itest_set_feat(g_ctrl, NVME_FEAT_TEMP_THRESH, false, 0,
					     1u << 16 | 300, NULL, 0, NULL),
			      NVME_SC_INVALID_FIELD);
	/* THSEL 3 is reserved. */
	assert_status(itest_set_feat(g_ctrl, NVME_FEAT_TEMP_THRESH, false, 0, 3u << 20 | 300,
				     NULL, 0, NULL),
		      NVME_SC_INVALID_FIELD);
	set_ok(NVME_FEAT_TEMP_THRESH, 0, over);
	set_ok(NVME_FEAT_TEMP_THRESH, 0, 1u << 20 | under);
	assert_int_equal(get_cur(NVME_FEAT_TEMP_THRESH, 0, 0) & 0xffff, over);
	free(smart);
}

static void test_feat_error_recovery(void **state)
{
	uint32_t cur = get_cur(NVME_FEAT_ERR_RECOVERY, 1, 0);
	struct nvme_id_ns *ns;

	set_ok(NVME_FEAT_ERR_RECOVERY, 1, 100);
	ns = itest_alloc(4096);
	assert_int_equal(get_cur(NVME_FEAT_ERR_RECOVERY, 1, 0) & 0x1ffff, 100);
	assert_status(itest_identify(g_ctrl, NVME_CNS_NS, 1, ns), NVME_SC_SUCCESS);
	/* DULBE needs NSFEAT bit 2. */
	if (!(ns->nsfeat & NVME_NSFEAT_DEALLOC_ERROR))
		assert_status(itest_set_feat(g_ctrl, NVME_FEAT_ERR_RECOVERY, false, 1,
					     1u << 16 | 100, NULL, 0, NULL),
			      NVME_SC_INVALID_FIELD);
	set_ok(NVME_FEAT_ERR_RECOVERY, 1, cur);
	assert_int_equal(get_cur(NVME_FEAT_ERR_RECOVERY, 1, 0), cur);
	free(ns);
}

static void test_feat_vwc(void **state)
{
	uint32_t cur = get_cur(NVME_FEAT_VOLATILE_WC, 0, 0);
	struct nvme_sqe cmd;
	uint8_t buf[4096];

	assert_int_equal(g_id.vwc & 1, 1);
	set_ok(NVME_FEAT_VOLATILE_WC, 0, 0);
	assert_int_equal(get_cur(NVME_FEAT_VOLATILE_WC, 0, 0) & 1, 0);
	/* Writes still work with the cache off, and Flush too. */
	itest_fill(buf, sizeof(buf), 3);
	assert_status(itest_write(ioq(0), 2, 10, 1, buf, sizeof(buf)), NVME_SC_SUCCESS);
	memset(&cmd, 0, sizeof(cmd));
	cmd.opc = NVME_IO_FLUSH;
	cmd.nsid = 2;
	assert_status(itest_io(ioq(0), &cmd, NULL, 0, NULL), NVME_SC_SUCCESS);
	set_ok(NVME_FEAT_VOLATILE_WC, 0, 1);
	assert_int_equal(get_cur(NVME_FEAT_VOLATILE_WC, 0, 0) & 1, 1);
	set_ok(NVME_FEAT_VOLATILE_WC, 0, cur & 1);
}

static void test_feat_num_queues(void **state)
{
	uint32_t v = get_cur(NVME_FEAT_NUM_QUEUES, 0, 0);
	struct fdr_host_ctrl *c;
	uint32_t cdw0 = 0;

	printf("# Number of Queues: %#x\n", v);
	assert_int_equal((v & 0xffff) + 1, 4); /* --queues 4 */
	assert_int_equal((v >> 16) + 1, 4);
	/* Not after I/O queues exist. */
	assert_status(itest_set_feat(g_ctrl, NVME_FEAT_NUM_QUEUES, false, 0, 1 | 1 << 16, NULL, 0,
				     NULL),
		      NVME_SC_COMMAND_SEQUENCE_ERROR);
	/* 65535 (0-based) is invalid; more than supported is capped. */
	c = connect_to(&g_drive, 0);
	assert_status(itest_set_feat(c, NVME_FEAT_NUM_QUEUES, false, 0, 0xffffffff, NULL, 0, NULL),
		      NVME_SC_INVALID_FIELD);
	assert_status(itest_set_feat(c, NVME_FEAT_NUM_QUEUES, false, 0, 63 | 63 << 16, NULL, 0,
				     &cdw0),
		      NVME_SC_SUCCESS);
	assert_int_equal(cdw0, 3 | 3 << 16);
	assert_int_equal(fdr_host_disconnect(c), 0);
}

static void test_feat_irq_coalescing(void **state)
{
	uint32_t cur = get_cur(NVME_FEAT_IRQ_COALESCE, 0, 0);

	set_ok(NVME_FEAT_IRQ_COALESCE, 0, 0x0a05);
	assert_int_equal(get_cur(NVME_FEAT_IRQ_COALESCE, 0, 0) & 0xffff, 0x0a05);
	set_ok(NVME_FEAT_IRQ_COALESCE, 0, cur);
	assert_int_equal(get_cur(NVME_FEAT_IRQ_COALESCE, 0, 0), cur);
}

static void test_feat_async_event_cfg(void **state)
{
	uint32_t cur = get_cur(NVME_FEAT_ASYNC_EVENT, 0, 0);

	set_ok(NVME_FEAT_ASYNC_EVENT, 0, NVME_AEC_NS_ATTR | 0x1f);
	assert_int_equal(get_cur(NVME_FEAT_ASYNC_EVENT, 0, 0) & (NVME_AEC_NS_ATTR | 0x1f),
			 NVME_AEC_NS_ATTR | 0x1f);
	set_ok(NVME_FEAT_ASYNC_EVENT, 0, 0);
	assert_int_equal(get_cur(NVME_FEAT_ASYNC_EVENT, 0, 0) & (NVME_AEC_NS_ATTR | 0x1f), 0);
	set_ok(NVME_FEAT_ASYNC_EVENT, 0, cur);
	assert_int_equal(get_cur(NVME_FEAT_ASYNC_EVENT, 0, 0), cur);
}

static void test_feat_keep_alive(void **state)
{
	uint32_t cur = get_cur(NVME_FEAT_KATO, 0, 0), v;

	assert_int_equal(cur, 0); /* we connected with KATO 0 */
	set_ok(NVME_FEAT_KATO, 0, 30000);
	v = get_cur(NVME_FEAT_KATO, 0, 0);
	/* May be rounded up to the KAS granularity (100 ms units). */
	assert_true(v >= 30000 && v < 30000 + g_id.kas * 100u + 1);
	{
		struct nvme_cqe cqe;

		assert_int_equal(fdr_host_keep_alive(g_ctrl, &cqe), 0);
		assert_status(fdr_host_sct_sc(&cqe), NVME_SC_SUCCESS);
	}
	set_ok(NVME_FEAT_KATO, 0, 0);
	assert_int_equal(get_cur(NVME_FEAT_KATO, 0, 0), 0);
}

static void test_feat_host_id(void **state)
{
	uint8_t hostid[16];

	memset(hostid, 0, sizeof(hostid));
	/* Extended (128-bit) host identifier, as given in Connect. */
	assert_status(itest_get_feat(g_ctrl, NVME_FEAT_HOST_ID, NVME_FEAT_SEL_CURRENT, 0, 1, hostid,
				     16, NULL),
		      NVME_SC_SUCCESS);
	assert_memory_equal(hostid, g_hostid, 16);
	/* Fabrics needs the 128-bit form. */
	assert_status(itest_get_feat(g_ctrl, NVME_FEAT_HOST_ID, NVME_FEAT_SEL_CURRENT, 0, 0, hostid,
				     8, NULL),
		      NVME_SC_INVALID_FIELD);
	/* The host identifier comes from Connect; it cannot be set over Fabrics. */
	{
		uint8_t other[16];

		memset(other, 0x42, sizeof(other));
		assert_int_not_equal(itest_set_feat(g_ctrl, NVME_FEAT_HOST_ID, false, 0, 1, other,
						    16, NULL),
				     NVME_SC_SUCCESS);
		assert_status(itest_get_feat(g_ctrl, NVME_FEAT_HOST_ID, NVME_FEAT_SEL_CURRENT, 0, 1,
					     hostid, 16, NULL),
			      NVME_SC_SUCCESS);
		assert_memory_equal(hostid, g_hostid, 16);
	}
}

static uint64_t wall_ms(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (uint64_t)tv.tv_sec * 1000 + (uint64_t)tv.tv_usec / 1000;
}

static void test_feat_timestamp(void **state)
{
	uint8_t ts[8];
	uint64_t set = 1234567890123ull, got;

	memset(ts, 0, sizeof(ts));
	for (int i = 0; i < 6; i++)
		ts[i] = (uint8_t)(set >> (8 * i));
	assert_status(itest_set_feat(g_ctrl, NVME_FEAT_TIMESTAMP, false, 0, 0, ts, 8, NULL),
		      NVME_SC_SUCCESS);
	usleep(300000);
	memset(ts, 0, sizeof(ts));
	assert_status(itest_get_feat(g_ctrl, NVME_FEAT_TIMESTAMP, NVME_FEAT_SEL_CURRENT, 0, 0, ts,
				     8, NULL),
		      NVME_SC_SUCCESS);
	got = 0;
	for (int i = 5; i >= 0; i--)
		got = got << 8 | ts[i];
	printf("# timestamp set %llu, read %llu after ~300 ms, attributes %#x\n",
	       (unsigned long long)set, (unsigned long long)got, ts[6]);
	assert_true(got >= set + 250 && got < set + 5000);
	/* Timestamp origin (bits 3:1) = 001b: set by Set Features. */
	assert_int_equal((ts[6] >> 1) & 7, 1);
	/* Back to wall-clock time. */
	set = wall_ms();
	for (int i = 0; i < 6; i++)
		ts[i] = (uint8_t)(set >> (8 * i));
	ts[6] = ts[7] = 0;
	assert_status(itest_set_feat(g_ctrl, NVME_FEAT_TIMESTAMP, false, 0, 0, ts, 8, NULL),
		      NVME_SC_SUCCESS);
}

static void test_feat_save_and_unknown(void **state)
{
	uint32_t cur = get_cur(NVME_FEAT_ARBITRATION, 0, 0);

	if (!(g_id.oncs & NVME_ONCS_SAVE_FEATURES)) {
		assert_status(itest_set_feat(g_ctrl, NVME_FEAT_ARBITRATION, true, 0, cur, NULL, 0,
					     NULL),
			      NVME_STATUS(NVME_SCT_COMMAND_SPECIFIC, NVME_SC_FEATURE_NOT_SAVEABLE));
		assert_status(itest_set_feat(g_ctrl, NVME_FEAT_TEMP_THRESH, true, 0, 350, NULL, 0,
					     NULL),
			      NVME_STATUS(NVME_SCT_COMMAND_SPECIFIC, NVME_SC_FEATURE_NOT_SAVEABLE));
		/* Nothing was changed by the failed Set. */
		assert_int_not_equal(get_cur(NVME_FEAT_TEMP_THRESH, 0, 0) & 0xffff, 350);
	}
	assert_status(itest_get_feat(g_ctrl, 0x00, 0, 0, 0, NULL, 0, NULL), NVME_SC_INVALID_FIELD);
	assert_status(itest_get_feat(g_ctrl, 0x7d, 0, 0, 0, NULL, 0, NULL), NVME_SC_INVALID_FIELD);
	assert_status(itest_set_feat(g_ctrl, 0x7d, false, 0, 1, NULL, 0, NULL),
		      NVME_SC_INVALID_FIELD);
	/* SEL 4..7 are reserved. */
	assert_status(itest_get_feat(g_ctrl, NVME_FEAT_ARBITRATION, 5, 0, 0, NULL, 0, NULL),
		      NVME_SC_INVALID_FIELD);
}

/* ---- Log pages ------------------------------------------------------------------ */

static void test_log_error(void **state)
{
	struct nvme_smart_log *smart = itest_alloc(512);
	unsigned nent = g_id.elpe + 1u > 64 ? 64 : g_id.elpe + 1u;
	struct nvme_error_log_entry *log = itest_alloc(64 * nent);
	uint64_t before_max = 0, before_smart, after_smart;
	const struct nvme_error_log_entry *e = NULL;
	struct nvme_sqe cmd;
	uint8_t buf[512];
	uint64_t bad = 0xfffffff0ull;

	assert_status(itest_get_log(g_ctrl, NVME_LOG_ERROR, 0, 0, false, log, 64 * nent),
		      NVME_SC_SUCCESS);
	for (unsigned i = 0; i < nent; i++)
		if (log[i].error_count > before_max)
			before_max = log[i].error_count;
	assert_status(itest_get_log(g_ctrl, NVME_LOG_SMART, NVME_NSID_ALL, 0, false, smart, 512),
		      NVME_SC_SUCCESS);
	before_smart = itest_le128(smart->num_err_log_entries);

	/* A read past the end of namespace 1 on I/O queue 2. */
	itest_rw_cmd(&cmd, NVME_IO_READ, 1, bad, 1);
	assert_status(itest_io(ioq(1), &cmd, buf, sizeof(buf), NULL), NVME_SC_LBA_OUT_OF_RANGE);

	assert_status(itest_get_log(g_ctrl, NVME_LOG_ERROR, 0, 0, false, log, 64 * nent),
		      NVME_SC_SUCCESS);
	for (unsigned i = 0; i < nent; i++)
		if (log[i].error_count > before_max && (!e || log[i].error_count > e->error_count))
			e = &log[i];
	if (!e)
		fail_msg("no new error log entry (previous highest error count %llu)",
			 (unsigned long long)before_max);
	printf("# error log: count %llu sqid %u cid %u status %#x lba %#llx nsid %u\n",
	       (unsigned long long)e->error_count, e->sqid, e->cid, e->status,
	       (unsigned long long)e->lba, e->nsid);
	assert_int_equal(e->sqid, 2);
	assert_int_equal(e->cid, cmd.cid);
	assert_int_equal((e->status >> 1) & 0x7ff, NVME_SC_LBA_OUT_OF_RANGE);
	assert_int_equal(e->nsid, 1);
	/* The LBA is reported "if applicable": when it is, it must be right. */
	if (e->lba)
		assert_int_equal(e->lba, bad);
	assert_status(itest_get_log(g_ctrl, NVME_LOG_SMART, NVME_NSID_ALL, 0, false, smart, 512),
		      NVME_SC_SUCCESS);
	after_smart = itest_le128(smart->num_err_log_entries);
	assert_true(after_smart > before_smart);
	assert_int_equal(after_smart, e->error_count);
	free(smart);
	free(log);
}

static void test_log_smart_basic(void **state)
{
	struct nvme_smart_log *a = itest_alloc(512), *b = itest_alloc(512);
	unsigned temp;

	assert_status(itest_get_log(g_ctrl, NVME_LOG_SMART, NVME_NSID_ALL, 0, false, a, 512),
		      NVME_SC_SUCCESS);
	temp = a->temperature[0] | a->temperature[1] << 8;
	printf("# SMART: warn %#x temp %u K spare %u/%u used %u%% power cycles %llu poh %llu\n",
	       a->critical_warning, temp, a->avail_spare, a->spare_thresh, a->percent_used,
	       (unsigned long long)itest_le128(a->power_cycles),
	       (unsigned long long)itest_le128(a->power_on_hours));
	assert_in_range(temp, 273, 373);
	assert_true(a->avail_spare <= 100 && a->avail_spare >= a->spare_thresh);
	assert_int_equal(a->critical_warning, 0);
	/* NSID 0 means the controller as a whole too. */
	assert_status(itest_get_log(g_ctrl, NVME_LOG_SMART, 0, 0, false, b, 512), NVME_SC_SUCCESS);
	assert_memory_equal(a->data_units_read, b->data_units_read, 16 * 4);
	/* An offset past the page is invalid. */
	assert_status(itest_get_log(g_ctrl, NVME_LOG_SMART, NVME_NSID_ALL, 1024, false, b, 512),
		      NVME_SC_INVALID_FIELD);
	free(a);
	free(b);
}

static void test_log_fw_slot(void **state)
{
	struct nvme_fw_slot_log *fw = itest_alloc(512);

	assert_status(itest_get_log(g_ctrl, NVME_LOG_FW_SLOT, NVME_NSID_ALL, 0, false, fw, 512),
		      NVME_SC_SUCCESS);
	printf("# fw slot: afi %#x slot1 '%.8s'\n", fw->afi, fw->frs[0]);
	assert_int_equal(fw->afi & 7, 1);
	assert_true(itest_padded_eq(fw->frs[0], 8, FIRMWARE) ||
		    (strlen(FIRMWARE) < 8 && !memcmp(fw->frs[0], FIRMWARE, strlen(FIRMWARE)) &&
		     itest_is_zero(fw->frs[0] + strlen(FIRMWARE), 8 - strlen(FIRMWARE))));
	free(fw);
}

static void test_log_changed_ns_empty(void **state)
{
	uint32_t *list = itest_alloc(4096);

	assert_status(itest_get_log(g_ctrl, NVME_LOG_CHANGED_NS, 0, 0, false, list, 4096),
		      NVME_SC_SUCCESS);
	assert_true(itest_is_zero(list, 4096));
	free(list);
}

static void test_log_cmd_effects(void **state)
{
	struct nvme_cmd_effects_log *ef = itest_alloc(4096);

	assert_status(itest_get_log(g_ctrl, NVME_LOG_CMD_EFFECTS, 0, 0, false, ef, 4096),
		      NVME_SC_SUCCESS);
	printf("# effects: identify %#x format %#x write %#x read %#x\n", ef->acs[0x06],
	       ef->acs[0x80], ef->iocs[0x01], ef->iocs[0x02]);
	assert_true(ef->acs[NVME_ADM_IDENTIFY] & NVME_CMD_EFFECTS_CSUPP);
	assert_true(ef->acs[NVME_ADM_GET_LOG_PAGE] & NVME_CMD_EFFECTS_CSUPP);
	assert_true(ef->acs[NVME_ADM_SET_FEATURES] & NVME_CMD_EFFECTS_CSUPP);
	assert_true(ef->acs[NVME_ADM_KEEP_ALIVE] & NVME_CMD_EFFECTS_CSUPP);
	assert_int_equal(ef->acs[NVME_ADM_FORMAT_NVM] & (NVME_CMD_EFFECTS_CSUPP | NVME_CMD_EFFECTS_LBCC),
			 NVME_CMD_EFFECTS_CSUPP | NVME_CMD_EFFECTS_LBCC);
	/* Not on Fabrics. */
	assert_int_equal(ef->acs[NVME_ADM_CREATE_IO_SQ], 0);
	assert_int_equal(ef->acs[NVME_ADM_DOORBELL_BUFFER_CONFIG], 0);
	if (!(g_id.oacs & NVME_OACS_NS_MGMT))
		assert_int_equal(ef->acs[NVME_ADM_NS_MANAGEMENT], 0);
	assert_int_equal(ef->acs[0x3c], 0);
	assert_int_equal(ef->iocs[NVME_IO_WRITE] & (NVME_CMD_EFFECTS_CSUPP | NVME_CMD_EFFECTS_LBCC),
			 NVME_CMD_EFFECTS_CSUPP | NVME_CMD_EFFECTS_LBCC);
	assert_int_equal(ef->iocs[NVME_IO_READ] & (NVME_CMD_EFFECTS_CSUPP | NVME_CMD_EFFECTS_LBCC),
			 NVME_CMD_EFFECTS_CSUPP);
	assert_true(ef->iocs[NVME_IO_FLUSH] & NVME_CMD_EFFECTS_CSUPP);
	assert_true(ef->iocs[NVME_IO_WRITE_ZEROES] & NVME_CMD_EFFECTS_LBCC);
	assert_true(ef->iocs[NVME_IO_DATASET_MANAGEMENT] & NVME_CMD_EFFECTS_CSUPP);
	assert_int_equal(ef->iocs[0x44], 0);
	free(ef);
}

static void test_log_invalid(void **state)
{
	uint8_t *buf = itest_alloc(4096);

	assert_status(itest_get_log(g_ctrl, 0x50, 0, 0, false, buf, 512),
		      NVME_STATUS(NVME_SCT_COMMAND_SPECIFIC, NVME_SC_INVALID_LOG_PAGE));
	assert_status(itest_get_log(g_ctrl, 0xbf, 0, 0, false, buf, 512),
		      NVME_STATUS(NVME_SCT_COMMAND_SPECIFIC, NVME_SC_INVALID_LOG_PAGE));
	/* The discovery log page belongs to discovery controllers. */
	assert_int_not_equal(itest_get_log(g_ctrl, NVME_LOG_DISCOVERY, 0, 0, false, buf, 1024),
			     NVME_SC_SUCCESS);
	/* Get Log Page with a buffer shorter than NUMD says. */
	{
		struct nvme_sqe cmd;

		memset(&cmd, 0, sizeof(cmd));
		cmd.opc = NVME_ADM_GET_LOG_PAGE;
		cmd.nsid = NVME_NSID_ALL;
		cmd.cdw10 = NVME_LOG_SMART | (512 / 4 - 1) << 16;
		assert_status(itest_admin(g_ctrl, &cmd, buf, 256, NULL),
			      NVME_SC_DATA_SGL_LENGTH_INVALID);
	}
	free(buf);
}

/* ---- Other admin commands ------------------------------------------------------- */

struct aer_state {
	bool done;
	struct nvme_cqe cqe;
};

static void aer_cb(void *arg, const struct nvme_cqe *cqe)
{
	struct aer_state *s = arg;

	s->done = true;
	s->cqe = *cqe;
}

static uint16_t submit_aer(struct fdr_host_ctrl *c, struct aer_state *s)
{
	struct nvme_sqe cmd;

	memset(&cmd, 0, sizeof(cmd));
	memset(s, 0, sizeof(*s));
	cmd.opc = NVME_ADM_ASYNC_EVENT_REQUEST;
	assert_int_equal(fdr_host_submit(fdr_host_admin_queue(c), &cmd, NULL, 0, aer_cb, s), 0);
	return cmd.cid;
}

static void poll_admin(struct fdr_host_ctrl *c, int ms, const bool *until)
{
	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		int rc = fdr_host_poll(fdr_host_admin_queue(c), 20);

		if (rc < 0)
			fail_msg("admin queue failed: %s",
				 fdr_host_queue_error(fdr_host_admin_queue(c)));
		if (until && *until)
			return;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if ((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 >= ms)
			return;
	}
}

static void test_aer_limit(void **state)
{
	struct fdr_host_ctrl *c = connect_to(&g_drive, 0);
	unsigned n = fdr_host_id_ctrl(c)->aerl + 1u;
	struct aer_state *s = calloc(n + 1, sizeof(*s));

	assert_non_null(s);
	assert_true(n + 1 < 31);
	for (unsigned i = 0; i < n; i++)
		submit_aer(c, &s[i]);
	poll_admin(c, 300, NULL);
	for (unsigned i = 0; i < n; i++)
		assert_false(s[i].done);
	/* One more than AERL+1 fails at once. */
	submit_aer(c, &s[n]);
	poll_admin(c, 3000, &s[n].done);
	assert_true(s[n].done);
	assert_status(fdr_host_sct_sc(&s[n].cqe),
		      NVME_STATUS(NVME_SCT_COMMAND_SPECIFIC,
				  NVME_SC_ASYNC_EVENT_REQUEST_LIMIT_EXCEEDED));
	for (unsigned i = 0; i < n; i++)
		assert_false(s[i].done);
	/* The admin queue keeps working with the requests outstanding. */
	{
		struct nvme_cqe cqe;

		assert_int_equal(fdr_host_keep_alive(c, &cqe), 0);
		assert_status(fdr_host_sct_sc(&cqe), NVME_SC_SUCCESS);
	}
	fdr_host_close(c);
	free(s);
}

static void test_abort(void **state)
{
	struct fdr_host_ctrl *c = connect_to(&g_drive, 1);
	struct nvme_sqe cmd;
	struct nvme_cqe cqe;
	struct aer_state aer;
	uint16_t cid;

	/* A command that is not outstanding: success, "not aborted" (bit 0 set). */
	memset(&cmd, 0, sizeof(cmd));
	cmd.opc = NVME_ADM_ABORT;
	cmd.cdw10 = 1 | 0x0abcu << 16;
	assert_status(itest_admin(c, &cmd, NULL, 0, &cqe), NVME_SC_SUCCESS);
	assert_int_equal(cqe.cdw0 & 1, 1);
	/* An outstanding AER: either aborted (and then it completes with Abort
	 * Requested) or not (and it stays outstanding). */
	cid = submit_aer(c, &aer);
	poll_admin(c, 100, NULL);
	memset(&cmd, 0, sizeof(cmd));
	cmd.opc = NVME_ADM_ABORT;
	cmd.cdw10 = 0 | (uint32_t)cid << 16;
	assert_status(itest_admin(c, &cmd, NULL, 0, &cqe), NVME_SC_SUCCESS);
	poll_admin(c, 1000, &aer.done);
	printf("# Abort of AER cid %u: cdw0 %#x, AER %s (status %#x)\n", cid, cqe.cdw0,
	       aer.done ? "completed" : "outstanding", fdr_host_sct_sc(&aer.cqe));
	if (!(cqe.cdw0 & 1)) {
		assert_true(aer.done);
		assert_status(fdr_host_sct_sc(&aer.cqe), NVME_SC_ABORT_REQUESTED);
	} else {
		assert_false(aer.done);
	}
	fdr_host_close(c);
}

static void test_keep_alive_cmd(void **state)
{
	struct nvme_cqe cqe;

	for (int i = 0; i < 3; i++) {
		assert_int_equal(fdr_host_keep_alive(g_ctrl, &cqe), 0);
		assert_status(fdr_host_sct_sc(&cqe), NVME_SC_SUCCESS);
	}
}

static void test_invalid_admin_opcode(void **state)
{
	static const uint8_t unknown[] = { 0x3c, 0x44, 0x78, 0xb8 };
	static const uint8_t not_fabrics[] = { NVME_ADM_DELETE_IO_SQ, NVME_ADM_CREATE_IO_SQ,
					       NVME_ADM_DELETE_IO_CQ, NVME_ADM_CREATE_IO_CQ,
					       NVME_ADM_DOORBELL_BUFFER_CONFIG };
	struct nvme_sqe cmd;

	for (unsigned i = 0; i < sizeof(unknown); i++) {
		memset(&cmd, 0, sizeof(cmd));
		cmd.opc = unknown[i];
		assert_status(itest_admin(g_ctrl, &cmd, NULL, 0, NULL), NVME_SC_INVALID_OPCODE);
	}
	for (unsigned i = 0; i < sizeof(not_fabrics); i++) {
		memset(&cmd, 0, sizeof(cmd));
		cmd.opc = not_fabrics[i];
		cmd.cdw10 = 1 | 15 << 16;
		assert_status(itest_admin(g_ctrl, &cmd, NULL, 0, NULL), NVME_SC_INVALID_OPCODE);
	}
	/* An unknown Fabrics command type. */
	{
		struct nvme_fabrics_cmd f;

		memset(&f, 0, sizeof(f));
		f.opc = NVME_ADM_FABRICS;
		f.fctype = 0x7c;
		assert_status(itest_admin(g_ctrl, (struct nvme_sqe *)&f, NULL, 0, NULL),
			      NVME_SC_INVALID_OPCODE);
	}
}

/* ---- SMART counters on a fresh drive ------------------------------------------- */

static void test_smart_counters(void **state)
{
	static const char *const args[] = { "--ns", "ram,size=16M", "-n", ITEST_NQN, NULL };
	struct itest_drive d;
	struct fdr_host_ctrl *c;
	struct fdr_host_queue *q;
	struct nvme_smart_log *s = itest_alloc(512);
	uint8_t *buf = itest_alloc(128 * 1024);
	struct nvme_sqe cmd;

	assert_int_equal(itest_drive_start(&d, false, args), 0);
	c = connect_to(&d, 1);
	q = fdr_host_ioq(c, 0);
	assert_status(itest_get_log(c, NVME_LOG_SMART, NVME_NSID_ALL, 0, false, s, 512),
		      NVME_SC_SUCCESS);
	assert_int_equal(itest_le128(s->host_reads), 0);
	assert_int_equal(itest_le128(s->host_writes), 0);
	assert_int_equal(itest_le128(s->data_units_read), 0);
	assert_int_equal(itest_le128(s->data_units_written), 0);
	assert_int_equal(itest_le128(s->media_errors), 0);

	/* 10 x 128 KiB + 3 x 512 B written = 2563 units -> 3 (thousands, rounded up). */
	itest_fill(buf, 128 * 1024, 9);
	for (int i = 0; i < 10; i++)
		assert_status(itest_write(q, 1, (uint64_t)i * 256, 256, buf, 128 * 1024),
			      NVME_SC_SUCCESS);
	for (int i = 0; i < 3; i++)
		assert_status(itest_write(q, 1, 4000 + (uint64_t)i, 1, buf, 512), NVME_SC_SUCCESS);
	/* 1 x 4 KiB read = 8 units -> 1. */
	assert_status(itest_read(q, 1, 0, 8, buf, 4096), NVME_SC_SUCCESS);
	assert_status(itest_get_log(c, NVME_LOG_SMART, NVME_NSID_ALL, 0, false, s, 512),
		      NVME_SC_SUCCESS);
	printf("# SMART after I/O: units read %llu written %llu, commands read %llu written %llu\n",
	       (unsigned long long)itest_le128(s->data_units_read),
	       (unsigned long long)itest_le128(s->data_units_written),
	       (unsigned long long)itest_le128(s->host_reads),
	       (unsigned long long)itest_le128(s->host_writes));
	assert_int_equal(itest_le128(s->host_writes), 13);
	assert_int_equal(itest_le128(s->host_reads), 1);
	assert_int_equal(itest_le128(s->data_units_written), 3);
	assert_int_equal(itest_le128(s->data_units_read), 1);

	/* 1000 more 512-byte reads: 1008 units -> 2. */
	for (int i = 0; i < 1000; i++)
		assert_status(itest_read(q, 1, (uint64_t)i, 1, buf, 512), NVME_SC_SUCCESS);
	assert_status(itest_get_log(c, NVME_LOG_SMART, NVME_NSID_ALL, 0, false, s, 512),
		      NVME_SC_SUCCESS);
	assert_int_equal(itest_le128(s->host_reads), 1001);
	assert_int_equal(itest_le128(s->data_units_read), 2);
	assert_int_equal(itest_le128(s->data_units_written), 3);

	/* Compare counts as a read command (LBA 4000 holds the start of the pattern). */
	itest_fill(buf, 128 * 1024, 9);
	itest_rw_cmd(&cmd, NVME_IO_COMPARE, 1, 4000, 1);
	assert_status(itest_io(q, &cmd, buf, 512, NULL), NVME_SC_SUCCESS);
	assert_status(itest_get_log(c, NVME_LOG_SMART, NVME_NSID_ALL, 0, false, s, 512),
		      NVME_SC_SUCCESS);
	assert_int_equal(itest_le128(s->host_reads), 1002);
	assert_int_equal(itest_le128(s->host_writes), 13);
	/* Another controller sees the same (controller-wide means subsystem-wide here). */
	assert_int_equal(fdr_host_disconnect(c), 0);
	c = connect_to(&d, 0);
	assert_status(itest_get_log(c, NVME_LOG_SMART, NVME_NSID_ALL, 0, false, s, 512),
		      NVME_SC_SUCCESS);
	printf("# SMART from a second controller: reads %llu writes %llu\n",
	       (unsigned long long)itest_le128(s->host_reads),
	       (unsigned long long)itest_le128(s->host_writes));
	assert_int_equal(fdr_host_disconnect(c), 0);
	free(s);
	free(buf);
	assert_int_equal(itest_drive_stop(&d), 0);
}

/* ---- Format NVM and the namespace-changed event ---------------------------------- */

static void test_format_and_aen(void **state)
{
	static const char *const args[] = { "--ns", "ram,size=16M,lba=512", "--ns",
					    "ram,size=16M,lba=512", "-n", ITEST_NQN, NULL };
	struct itest_drive d;
	struct fdr_host_ctrl *c;
	struct fdr_host_queue *q;
	struct nvme_id_ns *ns = itest_alloc(4096);
	uint8_t *w1 = itest_alloc(4096), *w2 = itest_alloc(4096), *r = itest_alloc(4096);
	uint32_t *list = itest_alloc(4096);
	struct aer_state aer;
	struct nvme_sqe cmd;
	unsigned lbaf4k = 16, lbaf512;

	assert_int_equal(itest_drive_start(&d, false, args), 0);
	c = connect_to(&d, 1);
	q = fdr_host_ioq(c, 0);
	assert_status(itest_set_feat(c, NVME_FEAT_ASYNC_EVENT, false, 0, NVME_AEC_NS_ATTR, NULL, 0,
				     NULL),
		      NVME_SC_SUCCESS);
	submit_aer(c, &aer);
	poll_admin(c, 300, NULL);
	assert_false(aer.done);

	itest_fill(w1, 4096, 1);
	itest_fill(w2, 4096, 2);
	assert_status(itest_write(q, 1, 0, 8, w1, 4096), NVME_SC_SUCCESS);
	assert_status(itest_write(q, 2, 0, 8, w2, 4096), NVME_SC_SUCCESS);

	assert_status(itest_identify(c, NVME_CNS_NS, 1, ns), NVME_SC_SUCCESS);
	lbaf512 = ns->flbas & 0xf;
	for (unsigned i = 0; i <= ns->nlbaf && i < 16; i++)
		if (ns->lbaf[i].lbads == 12 && ns->lbaf[i].ms == 0 && lbaf4k == 16)
			lbaf4k = i;
	assert_true(lbaf4k < 16);
	/* An LBA format that does not exist. */
	memset(&cmd, 0, sizeof(cmd));
	cmd.opc = NVME_ADM_FORMAT_NVM;
	cmd.nsid = 1;
	cmd.cdw10 = ns->nlbaf + 1u;
	assert_status(itest_admin(c, &cmd, NULL, 0, NULL),
		      NVME_STATUS(NVME_SCT_COMMAND_SPECIFIC, NVME_SC_INVALID_FORMAT));
	/* Format of a namespace that does not exist. */
	cmd.nsid = 9;
	cmd.cdw10 = lbaf4k;
	assert_status(itest_admin(c, &cmd, NULL, 0, NULL), NVME_SC_INVALID_NAMESPACE_OR_FORMAT);
	poll_admin(c, 100, NULL);
	assert_false(aer.done);

	/* Namespace 1 to 4 KiB blocks. */
	cmd.nsid = 1;
	cmd.cdw10 = lbaf4k;
	assert_status(itest_admin(c, &cmd, NULL, 0, NULL), NVME_SC_SUCCESS);
	poll_admin(c, 5000, &aer.done);
	assert_true(aer.done);
	printf("# AEN after Format: status %#x cdw0 %#x\n", fdr_host_sct_sc(&aer.cqe),
	       aer.cqe.cdw0);
	assert_status(fdr_host_sct_sc(&aer.cqe), NVME_SC_SUCCESS);
	assert_int_equal(aer.cqe.cdw0 & 0xffffff,
			 NVME_AER_CDW0(NVME_AER_TYPE_NOTICE, NVME_AER_NOTICE_NS_CHANGED,
				       NVME_LOG_CHANGED_NS));

	assert_status(itest_identify(c, NVME_CNS_NS, 1, ns), NVME_SC_SUCCESS);
	assert_int_equal(ns->flbas & 0xf, lbaf4k);
	assert_int_equal(ns->lbaf[lbaf4k].lbads, 12);
	assert_int_equal(ns->nsze, (16u << 20) / 4096);
	assert_int_equal(ns->ncap, ns->nsze);
	/* Data erased, the new block size in use. */
	memset(r, 0xcc, 4096);
	assert_status(itest_read(q, 1, 0, 1, r, 4096), NVME_SC_SUCCESS);
	assert_true(itest_is_zero(r, 4096));
	assert_status(itest_read(q, 1, 0, 1, r, 512), NVME_SC_DATA_SGL_LENGTH_INVALID);
	assert_status(itest_read(q, 1, 4096, 1, r, 4096), NVME_SC_LBA_OUT_OF_RANGE);
	assert_status(itest_write(q, 1, 4095, 1, w1, 4096), NVME_SC_SUCCESS);
	assert_status(itest_read(q, 1, 4095, 1, r, 4096), NVME_SC_SUCCESS);
	assert_memory_equal(w1, r, 4096);
	/* The other namespace is untouched. */
	assert_status(itest_read(q, 2, 0, 8, r, 4096), NVME_SC_SUCCESS);
	assert_memory_equal(w2, r, 4096);
	assert_status(itest_identify(c, NVME_CNS_NS, 2, ns), NVME_SC_SUCCESS);
	assert_int_equal(ns->lbaf[ns->flbas & 0xf].lbads, 9);

	/* Changed namespace list: namespace 1, then cleared by the read. */
	assert_status(itest_get_log(c, NVME_LOG_CHANGED_NS, 0, 0, false, list, 4096),
		      NVME_SC_SUCCESS);
	assert_int_equal(list[0], 1);
	assert_true(itest_is_zero(list + 1, 4096 - 4));
	assert_status(itest_get_log(c, NVME_LOG_CHANGED_NS, 0, 0, false, list, 4096),
		      NVME_SC_SUCCESS);
	assert_true(itest_is_zero(list, 4096));

	/* The event is re-armed: formatting back raises it again. */
	submit_aer(c, &aer);
	cmd.nsid = 1;
	cmd.cdw10 = lbaf512;
	assert_status(itest_admin(c, &cmd, NULL, 0, NULL), NVME_SC_SUCCESS);
	poll_admin(c, 5000, &aer.done);
	assert_true(aer.done);
	assert_int_equal(aer.cqe.cdw0 & 0xffffff,
			 NVME_AER_CDW0(NVME_AER_TYPE_NOTICE, NVME_AER_NOTICE_NS_CHANGED,
				       NVME_LOG_CHANGED_NS));
	assert_status(itest_identify(c, NVME_CNS_NS, 1, ns), NVME_SC_SUCCESS);
	assert_int_equal(ns->nsze, (16u << 20) / 512);
	assert_status(itest_read(q, 1, 0, 8, r, 4096), NVME_SC_SUCCESS);
	assert_true(itest_is_zero(r, 4096));

	assert_int_equal(fdr_host_disconnect(c), 0);
	assert_int_equal(itest_drive_stop(&d), 0);
	free(ns);
	free(w1);
	free(w2);
	free(r);
	free(list);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identify_ctrl),
		cmocka_unit_test(test_identify_ns),
		cmocka_unit_test(test_identify_ns_list),
		cmocka_unit_test(test_identify_ns_descs),
		cmocka_unit_test(test_identify_invalid_cns),
		cmocka_unit_test(test_feat_arbitration),
		cmocka_unit_test(test_feat_power_mgmt),
		cmocka_unit_test(test_feat_temp_threshold),
		cmocka_unit_test(test_feat_error_recovery),
		cmocka_unit_test(test_feat_vwc),
		cmocka_unit_test(test_feat_num_queues),
		cmocka_unit_test(test_feat_irq_coalescing),
		cmocka_unit_test(test_feat_async_event_cfg),
		cmocka_unit_test(test_feat_keep_alive),
		cmocka_unit_test(test_feat_host_id),
		cmocka_unit_test(test_feat_timestamp),
		cmocka_unit_test(test_feat_save_and_unknown),
		cmocka_unit_test(test_log_error),
		cmocka_unit_test(test_log_smart_basic),
		cmocka_unit_test(test_log_fw_slot),
		cmocka_unit_test(test_log_changed_ns_empty),
		cmocka_unit_test(test_log_cmd_effects),
		cmocka_unit_test(test_log_invalid),
		cmocka_unit_test(test_aer_limit),
		cmocka_unit_test(test_abort),
		cmocka_unit_test(test_keep_alive_cmd),
		cmocka_unit_test(test_invalid_admin_opcode),
		cmocka_unit_test(test_smart_counters),
		cmocka_unit_test(test_format_and_aen),
	};

	itest_init(argc, argv);
	return cmocka_run_group_tests_name("integration_admin", tests, setup, teardown);
}

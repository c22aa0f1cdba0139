/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Connection management against the real drive: Connect / disconnect,
 * properties, CC.EN and CC.SHN, reconnects, the discovery controller and
 * its log page, Connect rejections (host not allowed, unknown subsystem,
 * bad cntlid, bad queue sizes), keep-alive expiry and several hosts at
 * once.
 */
#include "itest.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static struct itest_drive g_drive;

static const char *const drive_args[] = {
	"--ns", "ram,size=16M",
	"--queues", "4",
	"-n", ITEST_NQN,
	NULL,
};

static int setup(void **state)
{
	return itest_drive_start(&g_drive, true, drive_args);
}

static int teardown(void **state)
{
	return itest_drive_stop(&g_drive);
}

static int64_t ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void io_check(struct fdr_host_ctrl *c, uint64_t slba, uint64_t seed)
{
	uint8_t w[4096], r[4096];
	struct fdr_host_queue *q = fdr_host_ioq(c, 0);

	assert_non_null(q);
	itest_fill(w, sizeof(w), seed);
	memset(r, 0, sizeof(r));
	assert_status(itest_write(q, 1, slba, 8, w, sizeof(w)), NVME_SC_SUCCESS);
	assert_status(itest_read(q, 1, slba, 8, r, sizeof(r)), NVME_SC_SUCCESS);
	assert_memory_equal(w, r, sizeof(w));
}

static uint64_t prop_get(struct fdr_host_ctrl *c, uint32_t ofst, bool size8)
{
	struct nvme_cqe cqe;
	uint64_t v = 0;

	if (fdr_host_prop_get(c, ofst, size8, &v, &cqe))
		fail_msg("Property Get %#x: transport error", ofst);
	assert_status(fdr_host_sct_sc(&cqe), NVME_SC_SUCCESS);
	return v;
}

static void test_connect_properties(void **state)
{
	struct fdr_host_ctrl *c = itest_connect(&g_drive, 2, 16);
	const struct nvme_id_ctrl *id = fdr_host_id_ctrl(c);
	uint64_t cap = prop_get(c, NVME_REG_CAP, true);
	uint32_t vs = (uint32_t)prop_get(c, NVME_REG_VS, false);
	uint32_t cc = (uint32_t)prop_get(c, NVME_REG_CC, false);
	uint32_t csts = (uint32_t)prop_get(c, NVME_REG_CSTS, false);
	struct nvme_cqe cqe;
	uint64_t v;

	printf("# cntlid %u CAP %#llx VS %#x CC %#x CSTS %#x\n", fdr_host_cntlid(c),
	       (unsigned long long)cap, vs, cc, csts);
	/* Dynamic controller IDs are 1..FFEFh. */
	assert_in_range(fdr_host_cntlid(c), 1, 0xffef);
	assert_int_equal(id->cntlid, fdr_host_cntlid(c));
	/* Same CAP as read during the connect; MQES from --queue-depth (128 entries). */
	assert_true(cap == fdr_host_cap(c));
	assert_int_equal(NVME_CAP_MQES(cap), 127);
	assert_true(cap & NVME_CAP_CSS_NVM);
	assert_true((cap >> NVME_CAP_TO_SHIFT & 0xff) != 0);
	assert_int_equal((cap >> NVME_CAP_MPSMIN_SHIFT) & 0xf, 0);
	/* VS: 1.x with x >= 3, and Identify VER agrees. */
	assert_int_equal(vs >> 16, 1);
	assert_true(((vs >> 8) & 0xff) >= 3);
	assert_int_equal(id->ver, vs);
	/* CC as we set it, CSTS ready without fatal status or shutdown. */
	assert_int_equal(cc & NVME_CC_EN, NVME_CC_EN);
	assert_int_equal((cc >> NVME_CC_IOSQES_SHIFT) & 0xf, 6);
	assert_int_equal((cc >> NVME_CC_IOCQES_SHIFT) & 0xf, 4);
	assert_int_equal(csts & (NVME_CSTS_RDY | NVME_CSTS_CFS | NVME_CSTS_SHST_MASK),
			 NVME_CSTS_RDY);
	/* 8-byte read of a 4-byte property, and a property that does not exist. */
	assert_int_equal(fdr_host_prop_get(c, 0x3000, false, &v, &cqe), 0);
	assert_status(fdr_host_sct_sc(&cqe), NVME_SC_INVALID_FIELD);
	/* CAP is read-only: a Property Set must not change it. */
	assert_int_equal(fdr_host_prop_set(c, NVME_REG_CAP, true, 0, &cqe), 0);
	assert_true(fdr_host_sct_sc(&cqe) != NVME_SC_SUCCESS ||
		    prop_get(c, NVME_REG_CAP, true) == cap);
	io_check(c, 0, 1);
	assert_int_equal(fdr_host_nr_io_queues(c), 2);
	assert_int_equal(fdr_host_disconnect(c), 0);
}

/* CC.SHN by hand: SHST moves to complete; new controllers work afterwards. */
static void test_shutdown(void **state)
{
	struct fdr_host_ctrl *c = itest_connect(&g_drive, 1, 8);
	uint32_t cc = (uint32_t)prop_get(c, NVME_REG_CC, false);
	uint32_t csts = 0;
	struct nvme_cqe cqe;
	int64_t deadline;
	uint8_t buf[512];

	io_check(c, 64, 2);
	assert_int_equal((prop_get(c, NVME_REG_CSTS, false) & NVME_CSTS_SHST_MASK) >>
				 NVME_CSTS_SHST_SHIFT,
			 NVME_CSTS_SHST_NORMAL);
	assert_int_equal(fdr_host_prop_set(c, NVME_REG_CC, false,
					   (cc & ~NVME_CC_SHN_MASK) |
						   NVME_CC_SHN_NORMAL << NVME_CC_SHN_SHIFT,
					   &cqe),
			 0);
	assert_status(fdr_host_sct_sc(&cqe), NVME_SC_SUCCESS);
	deadline = ms_now() + 5000;
	do {
		csts = (uint32_t)prop_get(c, NVME_REG_CSTS, false);
		if (((csts & NVME_CSTS_SHST_MASK) >> NVME_CSTS_SHST_SHIFT) == NVME_CSTS_SHST_COMPLETE)
			break;
		assert_int_not_equal((csts & NVME_CSTS_SHST_MASK) >> NVME_CSTS_SHST_SHIFT, 3);
		usleep(10000);
	} while (ms_now() < deadline);
	printf("# CSTS after shutdown %#x\n", csts);
	assert_int_equal((csts & NVME_CSTS_SHST_MASK) >> NVME_CSTS_SHST_SHIFT,
			 NVME_CSTS_SHST_COMPLETE);
	/* After a shutdown the controller does not process I/O (or drops the queue). */
	{
		struct nvme_sqe cmd;
		int rc;

		itest_rw_cmd(&cmd, NVME_IO_READ, 1, 0, 1);
		/* Ignoring it is allowed too: do not wait long. */
		fdr_host_queue_set_timeout(fdr_host_ioq(c, 0), 2000);
		rc = fdr_host_io(fdr_host_ioq(c, 0), &cmd, buf, sizeof(buf), &cqe);
		/* The specification leaves this undefined: just show what happened. */
		if (rc == 0)
			printf("# read after shutdown: status %#x\n", fdr_host_sct_sc(&cqe));
		else
			printf("# read after shutdown: %s\n",
			       fdr_host_queue_error(fdr_host_ioq(c, 0)));
	}
	fdr_host_close(c);
	/* The drive keeps running and takes new controllers. */
	c = itest_connect(&g_drive, 1, 8);
	io_check(c, 64, 3);
	assert_int_equal(fdr_host_disconnect(c), 0);
}

/* CC.EN = 0 resets the controller: CSTS.RDY drops; EN = 1 brings it back. */
static void test_disable_enable(void **state)
{
	struct fdr_host_ctrl *c = itest_connect(&g_drive, 0, 8);
	uint32_t cc = (uint32_t)prop_get(c, NVME_REG_CC, false), csts = 0;
	struct nvme_cqe cqe;
	int64_t deadline;

	assert_int_equal(fdr_host_prop_set(c, NVME_REG_CC, false, cc & ~NVME_CC_EN, &cqe), 0);
	assert_status(fdr_host_sct_sc(&cqe), NVME_SC_SUCCESS);
	deadline = ms_now() + 5000;
	do {
		csts = (uint32_t)prop_get(c, NVME_REG_CSTS, false);
		if (!(csts & NVME_CSTS_RDY))
			break;
		usleep(10000);
	} while (ms_now() < deadline);
	assert_int_equal(csts & NVME_CSTS_RDY, 0);
	/* Admin commands other than Fabrics ones are refused while disabled. */
	{
		struct nvme_sqe cmd;
		uint8_t *buf = itest_alloc(4096);

		memset(&cmd, 0, sizeof(cmd));
		cmd.opc = NVME_ADM_IDENTIFY;
		cmd.cdw10 = NVME_CNS_CTRL;
		assert_int_not_equal(itest_admin(c, &cmd, buf, 4096, NULL), NVME_SC_SUCCESS);
		free(buf);
	}
	assert_int_equal(fdr_host_prop_set(c, NVME_REG_CC, false, cc, &cqe), 0);
	assert_status(fdr_host_sct_sc(&cqe), NVME_SC_SUCCESS);
	deadline = ms_now() + 5000;
	do {
		csts = (uint32_t)prop_get(c, NVME_REG_CSTS, false);
		if (csts & NVME_CSTS_RDY)
			break;
		usleep(10000);
	} while (ms_now() < deadline);
	assert_int_equal(csts & NVME_CSTS_RDY, NVME_CSTS_RDY);
	assert_int_equal(fdr_host_disconnect(c), 0);
}

static void test_reconnect(void **state)
{
	uint16_t prev = 0;

	for (int i = 0; i < 6; i++) {
		struct fdr_host_ctrl *c = itest_connect(&g_drive, 2, 8);

		io_check(c, 128 + (uint64_t)i * 8, 10 + (uint64_t)i);
		if (i)
			printf("# reconnect %d: cntlid %u (previous %u)\n", i, fdr_host_cntlid(c),
			       prev);
		prev = fdr_host_cntlid(c);
		/* Half orderly, half abrupt. */
		if (i & 1)
			fdr_host_close(c);
		else
			assert_int_equal(fdr_host_disconnect(c), 0);
	}
	assert_true(itest_drive_alive(&g_drive));
}

static const struct nvmf_disc_log_entry *find_entry(const uint8_t *log, uint64_t numrec,
						    const char *nqn)
{
	for (uint64_t i = 0; i < numrec; i++) {
		const struct nvmf_disc_log_entry *e =
			(const struct nvmf_disc_log_entry *)(log + 1024 * (i + 1));

		if (!strncmp(e->subnqn, nqn, sizeof(e->subnqn)))
			return e;
	}
	return NULL;
}

static void check_discovery(const char *port)
{
	struct fdr_host_opts o;
	struct fdr_host_ctrl *c;
	char err[512];
	struct nvmf_disc_log_hdr *hdr = itest_alloc(1024);
	uint8_t *log, *part;
	const struct nvme_id_ctrl *id;
	const struct nvmf_disc_log_entry *e;
	uint64_t numrec;
	size_t len;

	itest_opts(&g_drive, &o, NVME_DISC_SUBSYS_NAME, 0, 0);
	o.port = port;
	c = fdr_host_connect(&o, err, sizeof(err));
	if (!c)
		fail_msg("discovery connect on port %s: %s", port, err);
	id = fdr_host_id_ctrl(c);
	assert_string_equal(id->subnqn, NVME_DISC_SUBSYS_NAME);
	assert_int_equal(id->cntrltype, NVME_CTRL_TYPE_DISCOVERY);
	assert_int_equal(id->nn, 0);

	assert_status(itest_get_log(c, NVME_LOG_DISCOVERY, 0, 0, false, hdr, 1024),
		      NVME_SC_SUCCESS);
	numrec = hdr->numrec;
	printf("# discovery on port %s: genctr %llu numrec %llu recfmt %u\n", port,
	       (unsigned long long)hdr->genctr, (unsigned long long)numrec, hdr->recfmt);
	assert_int_equal(hdr->recfmt, 0);
	assert_in_range(numrec, 1, 64);
	len = 1024 * (numrec + 1);
	log = itest_alloc(len);
	assert_status(itest_get_log(c, NVME_LOG_DISCOVERY, 0, 0, false, log, (uint32_t)len),
		      NVME_SC_SUCCESS);
	assert_int_equal(((struct nvmf_disc_log_hdr *)log)->numrec, numrec);
	assert_int_equal(((struct nvmf_disc_log_hdr *)log)->genctr, hdr->genctr);
	e = find_entry(log, numrec, ITEST_NQN);
	if (!e)
		fail_msg("no discovery log entry for %s", ITEST_NQN);
	printf("# entry: trtype %u adrfam %u subtype %u treq %#x portid %u cntlid %#x asqsz %u traddr '%.32s' trsvcid '%.32s'\n",
	       e->trtype, e->adrfam, e->subtype, e->treq, e->portid, e->cntlid, e->asqsz,
	       e->traddr, e->trsvcid);
	assert_int_equal(e->trtype, NVMF_TRTYPE_TCP);
	assert_int_equal(e->adrfam, NVMF_ADRFAM_IPV4);
	assert_int_equal(e->subtype, NVMF_SUBTYPE_NVME);
	assert_int_equal(e->cntlid, 0xffff); /* dynamic controller model */
	assert_true(e->asqsz >= 32);
	assert_true(itest_padded_eq(e->traddr, strnlen(e->traddr, 256), "127.0.0.1"));
	/* traddr/trsvcid are ASCII, space padded or NUL terminated. */
	{
		char svc[33];
		size_t n = 0;

		while (n < 32 && e->trsvcid[n] && e->trsvcid[n] != ' ') {
			svc[n] = e->trsvcid[n];
			n++;
		}
		svc[n] = 0;
		assert_string_equal(svc, g_drive.port);
	}
	/* The discovery-only listener itself is not advertised as an NVM port. */
	for (uint64_t i = 0; i < numrec; i++) {
		const struct nvmf_disc_log_entry *x =
			(const struct nvmf_disc_log_entry *)(log + 1024 * (i + 1));

		if (x->subtype == NVMF_SUBTYPE_NVME)
			assert_int_equal(strncmp(x->trsvcid, g_drive.disc_port,
						 strlen(g_drive.disc_port)) == 0 &&
						 (x->trsvcid[strlen(g_drive.disc_port)] == 0 ||
						  x->trsvcid[strlen(g_drive.disc_port)] == ' '),
					 0);
	}
	/* Reading the entries with a log page offset gives the same bytes. */
	part = itest_alloc(len - 1024);
	assert_status(itest_get_log(c, NVME_LOG_DISCOVERY, 0, 1024, false, part,
				    (uint32_t)(len - 1024)),
		      NVME_SC_SUCCESS);
	assert_memory_equal(part, log + 1024, len - 1024);
	/* A discovery controller has no I/O command set: Identify Namespace fails. */
	{
		uint8_t *buf = itest_alloc(4096);

		assert_int_not_equal(itest_identify(c, NVME_CNS_NS, 1, buf), NVME_SC_SUCCESS);
		free(buf);
	}
	assert_int_equal(fdr_host_disconnect(c), 0);
	free(part);
	free(log);
	free(hdr);
}

static void test_discovery(void **state)
{
	struct fdr_host_opts o;
	struct nvme_cqe cqe;
	struct fdr_host_queue *q;
	char err[512];

	check_discovery(g_drive.disc_port);
	/* The NVM port serves the discovery subsystem too. */
	check_discovery(g_drive.port);
	/* The discovery-only port does not give access to the NVM subsystem. */
	itest_opts(&g_drive, &o, NULL, 0, 0);
	o.port = g_drive.disc_port;
	q = fdr_host_queue_open(&o, 0, 0xffff, 32, 0, &cqe, err, sizeof(err));
	printf("# NVM connect on discovery port: %s\n", q ? "accepted" : err);
	assert_null(q);
}

/* Connect Invalid Parameters must point at the offending field. */
#define check_invalid_param(cqe, in_data, offset) \
	do { \
		printf("# -> %s\n", err); \
		check_invalid_param_((cqe), (in_data), (offset)); \
	} while (0)
static void check_invalid_param_(const struct nvme_cqe *cqe, bool in_data, uint16_t offset)
{
	assert_status(fdr_host_sct_sc(cqe),
		      NVME_STATUS(NVME_SCT_COMMAND_SPECIFIC, NVME_SC_CONNECT_INVALID_PARAMETERS));
	printf("# Connect Invalid Parameters: IATTR %u IPO %u\n", (cqe->cdw0 >> 16) & 0xff,
	       cqe->cdw0 & 0xffff);
	assert_int_equal((cqe->cdw0 >> 16) & 1, in_data ? 1 : 0);
	assert_int_equal(cqe->cdw0 & 0xffff, offset);
}

static void test_wrong_subnqn(void **state)
{
	struct fdr_host_opts o;
	struct nvme_cqe cqe;
	char err[512];

	itest_opts(&g_drive, &o, "nqn.2026-11.io.frankendrive:does-not-exist", 0, 0);
	assert_null(fdr_host_queue_open(&o, 0, 0xffff, 32, 0, &cqe, err, sizeof(err)));
	check_invalid_param(&cqe, true, 256);
	/* Empty subsystem NQN. */
	itest_opts(&g_drive, &o, "", 0, 0);
	assert_null(fdr_host_queue_open(&o, 0, 0xffff, 32, 0, &cqe, err, sizeof(err)));
	assert_status(fdr_host_sct_sc(&cqe),
		      NVME_STATUS(NVME_SCT_COMMAND_SPECIFIC, NVME_SC_CONNECT_INVALID_PARAMETERS));
}

static void test_bad_queue_params(void **state)
{
	static const uint8_t hostid[16] = { 0xb0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
	struct fdr_host_opts o;
	struct nvme_cqe cqe;
	struct fdr_host_ctrl *c;
	struct fdr_host_queue *q;
	char err[512];
	uint32_t cdw0 = 0;
	uint8_t w[512], r[512];

	itest_opts(&g_drive, &o, NULL, 0, 8);
	o.hostid = hostid;
	/* Admin SQSIZE 0 (one entry) is not a valid queue. */
	assert_null(fdr_host_queue_open(&o, 0, 0xffff, 1, 0, &cqe, err, sizeof(err)));
	check_invalid_param(&cqe, false, 44);
	/* Admin Connect that asks for a specific controller ID (static model). */
	q = fdr_host_queue_open(&o, 0, 1, 32, 0, &cqe, err, sizeof(err));
	printf("# admin Connect with cntlid 1: %s\n", q ? "accepted" : err);
	fdr_host_queue_close(q);

	/* A controller with 4 I/O queues granted and none connected yet. */
	c = fdr_host_connect(&o, err, sizeof(err));
	if (!c)
		fail_msg("%s", err);
	assert_status(itest_set_feat(c, NVME_FEAT_NUM_QUEUES, false, 0, 3 | 3 << 16, NULL, 0, &cdw0),
		      NVME_SC_SUCCESS);
	assert_true((cdw0 & 0xffff) >= 3 && (cdw0 >> 16) >= 3);

	/* I/O queue Connect naming a controller that does not exist. */
	assert_null(fdr_host_queue_open(&o, 2, (uint16_t)(fdr_host_cntlid(c) + 100), 8, 0, &cqe,
					err, sizeof(err)));
	check_invalid_param(&cqe, true, 16);
	assert_null(fdr_host_queue_open(&o, 2, 0xffff, 8, 0, &cqe, err, sizeof(err)));
	assert_status(fdr_host_sct_sc(&cqe),
		      NVME_STATUS(NVME_SCT_COMMAND_SPECIFIC, NVME_SC_CONNECT_INVALID_PARAMETERS));
	/* Right cntlid, but another host: the controller belongs to someone else. */
	o.hostnqn = "nqn.2014-08.org.nvmexpress:uuid:99999999-2222-3333-4444-555555555555";
	assert_null(fdr_host_queue_open(&o, 2, fdr_host_cntlid(c), 8, 0, &cqe, err, sizeof(err)));
	printf("# I/O Connect from another host NQN: %s\n", err);
	assert_int_not_equal(fdr_host_sct_sc(&cqe), NVME_SC_SUCCESS);
	o.hostnqn = ITEST_HOSTNQN;
	/* I/O queue larger than CAP.MQES allows (128 entries). */
	assert_null(fdr_host_queue_open(&o, 2, fdr_host_cntlid(c), 129, 0, &cqe, err,
					sizeof(err)));
	check_invalid_param(&cqe, false, 44);
	/* QID beyond the queues granted by Set Features Number of Queues. */
	assert_null(fdr_host_queue_open(&o, 200, fdr_host_cntlid(c), 8, 0, &cqe, err,
					sizeof(err)));
	printf("# I/O Connect of qid 200: %s\n", err);
	assert_int_not_equal(fdr_host_sct_sc(&cqe), NVME_SC_SUCCESS);
	/* A good I/O queue Connect still works, and its queue carries I/O. */
	q = fdr_host_queue_open(&o, 2, fdr_host_cntlid(c), 8, 0, &cqe, err, sizeof(err));
	if (!q)
		fail_msg("I/O Connect of qid 2: %s", err);
	itest_fill(w, sizeof(w), 77);
	assert_status(itest_write(q, 1, 700, 1, w, sizeof(w)), NVME_SC_SUCCESS);
	assert_status(itest_read(q, 1, 700, 1, r, sizeof(r)), NVME_SC_SUCCESS);
	assert_memory_equal(w, r, sizeof(w));
	/* Connecting the same qid twice is refused. */
	assert_null(fdr_host_queue_open(&o, 2, fdr_host_cntlid(c), 8, 0, &cqe, err, sizeof(err)));
	printf("# second Connect of qid 2: %s\n", err);
	assert_int_not_equal(fdr_host_sct_sc(&cqe), NVME_SC_SUCCESS);
	fdr_host_queue_close(q);
	assert_int_equal(fdr_host_disconnect(c), 0);
}

static void test_keep_alive_timeout(void **state)
{
	struct fdr_host_opts o;
	struct fdr_host_ctrl *c;
	char err[512];
	int64_t t0, t_dead;
	uint32_t kato = 0;

	/* With keep alives every 200 ms the controller stays up past its 1 s KATO. */
	itest_opts(&g_drive, &o, NULL, 1, 8);
	o.kato_ms = 1000;
	c = fdr_host_connect(&o, err, sizeof(err));
	if (!c)
		fail_msg("%s", err);
	assert_status(itest_get_feat(c, NVME_FEAT_KATO, 0, 0, 0, NULL, 0, &kato), NVME_SC_SUCCESS);
	printf("# KATO feature after Connect with 1000 ms: %u\n", kato);
	assert_true(kato >= 1000 && kato <= 2000);
	t0 = ms_now();
	while (ms_now() - t0 < 3000) {
		struct nvme_cqe cqe;

		assert_int_equal(fdr_host_keep_alive(c, &cqe), 0);
		assert_status(fdr_host_sct_sc(&cqe), NVME_SC_SUCCESS);
		usleep(200000);
	}
	io_check(c, 512, 30);
	assert_int_equal(fdr_host_disconnect(c), 0);

	/* Silent host: the drive drops the controller within a few seconds. */
	c = fdr_host_connect(&o, err, sizeof(err));
	if (!c)
		fail_msg("%s", err);
	t0 = ms_now();
	assert_int_equal(fdr_host_queue_wait_dead(fdr_host_admin_queue(c), 8000), 0);
	t_dead = ms_now() - t0;
	printf("# admin queue dropped %lld ms after the last command (%s)\n", (long long)t_dead,
	       fdr_host_queue_error(fdr_host_admin_queue(c)));
	assert_true(t_dead >= 900);
	/* The I/O queue goes with it. */
	assert_int_equal(fdr_host_queue_wait_dead(fdr_host_ioq(c, 0), 5000), 0);
	fdr_host_close(c);
	assert_true(itest_drive_alive(&g_drive));
	c = itest_connect(&g_drive, 1, 8);
	io_check(c, 520, 31);
	assert_int_equal(fdr_host_disconnect(c), 0);
}

#define NR_HOSTS 6

static void test_many_hosts(void **state)
{
	struct fdr_host_ctrl *c[NR_HOSTS];
	char nqn[NR_HOSTS][128];
	uint8_t *w = itest_alloc(8192), *r = itest_alloc(8192);

	for (int i = 0; i < NR_HOSTS; i++) {
		struct fdr_host_opts o;
		char err[512];

		snprintf(nqn[i], sizeof(nqn[i]),
			 "nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-0000000000%02d", i);
		itest_opts(&g_drive, &o, NULL, 2, 16);
		o.hostnqn = nqn[i];
		c[i] = fdr_host_connect(&o, err, sizeof(err));
		if (!c[i])
			fail_msg("host %d: %s", i, err);
		for (int j = 0; j < i; j++)
			assert_int_not_equal(fdr_host_cntlid(c[i]), fdr_host_cntlid(c[j]));
	}
	/* Each host writes its own range through its second queue... */
	for (int i = 0; i < NR_HOSTS; i++) {
		itest_fill(w, 8192, 500 + (uint64_t)i);
		assert_status(itest_write(fdr_host_ioq(c[i], 1), 1, 1024 + 16 * (uint64_t)i, 16, w,
					  8192),
			      NVME_SC_SUCCESS);
	}
	/* ...and every host sees every other host's data (one shared namespace). */
	for (int i = 0; i < NR_HOSTS; i++) {
		int j = (i + 1) % NR_HOSTS;

		itest_fill(w, 8192, 500 + (uint64_t)j);
		assert_status(itest_read(fdr_host_ioq(c[i], 0), 1, 1024 + 16 * (uint64_t)j, 16, r,
					 8192),
			      NVME_SC_SUCCESS);
		assert_memory_equal(w, r, 8192);
	}
	for (int i = 0; i < NR_HOSTS; i++)
		assert_int_equal(fdr_host_disconnect(c[i]), 0);
	free(w);
	free(r);
}

/* A separate drive with --allow-host and the default subsystem NQN. */
static void test_allow_host(void **state)
{
	static const char allowed[] = "nqn.2014-08.org.nvmexpress:uuid:aaaaaaaa-0000-0000-0000-000000000001";
	static const char *const args[] = { "--ns", "null,size=1G", "--allow-host", allowed, NULL };
	static const char def_nqn[] = "nqn.2026-11.io.frankendrive:drive0";
	struct itest_drive d;
	struct fdr_host_opts o;
	struct fdr_host_ctrl *c;
	struct nvme_cqe cqe;
	char err[512];

	assert_int_equal(itest_drive_start(&d, false, args), 0);
	itest_opts(&d, &o, def_nqn, 1, 8);
	/* Not on the list. */
	assert_null(fdr_host_queue_open(&o, 0, 0xffff, 32, 0, &cqe, err, sizeof(err)));
	printf("# not allowed host: %s\n", err);
	assert_status(fdr_host_sct_sc(&cqe),
		      NVME_STATUS(NVME_SCT_COMMAND_SPECIFIC, NVME_SC_CONNECT_INVALID_HOST));
	/* On the list. */
	o.hostnqn = allowed;
	c = fdr_host_connect(&o, err, sizeof(err));
	if (!c) {
		itest_drive_stop(&d);
		fail_msg("allowed host: %s", err);
	}
	assert_string_equal(fdr_host_id_ctrl(c)->subnqn, def_nqn);
	{
		uint8_t buf[4096];

		assert_status(itest_read(fdr_host_ioq(c, 0), 1, 0, 8, buf, sizeof(buf)),
			      NVME_SC_SUCCESS);
	}
	assert_int_equal(fdr_host_disconnect(c), 0);
	/* Discovery is allowed for anyone, but only lists what the host may access. */
	{
		struct nvmf_disc_log_hdr *hdr = itest_alloc(4096);

		itest_opts(&d, &o, NVME_DISC_SUBSYS_NAME, 0, 0);
		c = fdr_host_connect(&o, err, sizeof(err));
		if (c) {
			assert_status(itest_get_log(c, NVME_LOG_DISCOVERY, 0, 0, false, hdr, 4096),
				      NVME_SC_SUCCESS);
			printf("# discovery numrec for a host not allowed: %llu\n",
			       (unsigned long long)hdr->numrec);
			assert_null(find_entry((uint8_t *)hdr,
					       hdr->numrec < 3 ? hdr->numrec : 3, def_nqn));
			assert_int_equal(fdr_host_disconnect(c), 0);
		} else {
			printf("# discovery connect for a host not allowed refused: %s\n", err);
		}
		free(hdr);
	}
	assert_int_equal(itest_drive_stop(&d), 0);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_connect_properties),
		cmocka_unit_test(test_shutdown),
		cmocka_unit_test(test_disable_enable),
		cmocka_unit_test(test_reconnect),
		cmocka_unit_test(test_discovery),
		cmocka_unit_test(test_wrong_subnqn),
		cmocka_unit_test(test_bad_queue_params),
		cmocka_unit_test(test_keep_alive_timeout),
		cmocka_unit_test(test_many_hosts),
		cmocka_unit_test(test_allow_host),
	};

	itest_init(argc, argv);
	return cmocka_run_group_tests_name("integration_connect", tests, setup, teardown);
}

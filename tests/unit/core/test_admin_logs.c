/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Get Log Page, the error log, SMART counters, asynchronous events and
 * the discovery controller, through the real pipeline.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define INVALID_FIELD SC_DNR(GENERIC, INVALID_FIELD)
#define INVALID_LOG SC_DNR(COMMAND_SPECIFIC, INVALID_LOG_PAGE)

static uint8_t buf[8192];

static uint64_t u128_lo(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	for (int i = 8; i < 16; i++)
		assert_int_equal(p[i], 0);
	return v;
}

/* ---- Get Log Page fields ------------------------------------------------ */

static void test_log_errors(void **state)
{
	struct harness *h = *state;
	static const uint8_t lids[] = { 0x00, 0x06, 0x07, 0x08, 0x0c, 0x70, 0x80, 0x81, 0xc0, 0xff };
	struct nvme_sqe c = { .opc = NVME_ADM_GET_LOG_PAGE, .nsid = NVME_NSID_ALL };

	for (size_t i = 0; i < sizeof(lids); i++)
		assert_int_equal(h_get_log(h->aq, lids[i], NVME_NSID_ALL, false, 0, buf, 512),
				 INVALID_LOG);
	/* Offsets must be dword aligned and inside the page. */
	assert_int_equal(h_get_log(h->aq, NVME_LOG_SMART, NVME_NSID_ALL, false, 2, buf, 512),
			 INVALID_FIELD);
	assert_int_equal(h_get_log(h->aq, NVME_LOG_SMART, NVME_NSID_ALL, false, 516, buf, 4),
			 INVALID_FIELD);
	assert_int_equal(h_get_log(h->aq, NVME_LOG_SMART, NVME_NSID_ALL, false, 1ull << 32, buf, 4),
			 INVALID_FIELD);
	/* Exactly at the end: nothing left, zeroes. */
	assert_int_equal(h_get_log(h->aq, NVME_LOG_SMART, NVME_NSID_ALL, false, 512, buf, 8), 0);
	assert_int_equal(buf[0] | buf[7], 0);
	/* More than MDTS in one go. */
	c.cdw10 = NVME_LOG_SMART | 0xffffu << 16;
	c.cdw11 = 0xffff;
	assert_int_equal(h_cmd(h->aq, &c, NULL, 0, NULL, 0, NULL), INVALID_FIELD);
	c.cdw10 = NVME_LOG_SMART | ((FDR_MAX_XFER / 4) & 0xffff) << 16;
	c.cdw11 = (FDR_MAX_XFER / 4) >> 16;
	assert_int_equal(h_cmd(h->aq, &c, NULL, 0, NULL, 0, NULL), INVALID_FIELD);
	/* SMART of an inactive or invalid namespace. */
	assert_int_equal(h_get_log(h->aq, NVME_LOG_SMART, 2, false, 0, buf, 512),
			 SC_DNR(GENERIC, INVALID_NAMESPACE_OR_FORMAT));
	assert_int_equal(h_get_log(h->aq, NVME_LOG_SMART, 1000, false, 0, buf, 512),
			 SC_DNR(GENERIC, INVALID_NAMESPACE_OR_FORMAT));
	assert_int_equal(h_get_log(h->aq, NVME_LOG_SMART, 1, false, 0, buf, 512), 0);
	assert_int_equal(h_get_log(h->aq, NVME_LOG_SMART, 0, false, 0, buf, 512), 0);
}

static void test_error_log(void **state)
{
	struct harness *h = *state;
	struct nvme_error_log_entry *e = (struct nvme_error_log_entry *)buf;
	struct nvme_sqe bad = { .opc = 0xc1, .nsid = 7 };
	uint16_t cids[70];

	for (unsigned i = 0; i < 70; i++) {
		assert_int_equal(h_cmd(h->aq, &bad, NULL, 0, NULL, 0, NULL),
				 SC_DNR(GENERIC, INVALID_OPCODE));
		cids[i] = h_last_cid();
	}
	assert_int_equal(h_get_log(h->aq, NVME_LOG_ERROR, NVME_NSID_ALL, false, 0, buf, 4096), 0);
	/* Newest first; only the last 64 survive. */
	for (unsigned i = 0; i < FDR_ERROR_LOG_ENTRIES; i++) {
		assert_int_equal(e[i].error_count, 70 - i);
		assert_int_equal(e[i].sqid, 0);
		assert_int_equal(e[i].cid, cids[69 - i]);
		assert_int_equal(e[i].status, SC_DNR(GENERIC, INVALID_OPCODE) << 1);
		assert_int_equal(e[i].nsid, 7);
		assert_int_equal(e[i].parm_error_location, 0xffff);
	}
	/* A window of it: the second entry onwards, and past the end. */
	assert_int_equal(h_get_log(h->aq, NVME_LOG_ERROR, NVME_NSID_ALL, false, 64, buf, 8192), 0);
	assert_int_equal(e[0].error_count, 69);
	assert_int_equal(e[62].error_count, 7);
	for (unsigned i = 4096 - 64; i < 8192; i++)
		assert_int_equal(buf[i], 0);
}

static void test_error_log_fresh(void **state)
{
	struct harness *h = *state;
	struct nvme_error_log_entry *e = (struct nvme_error_log_entry *)buf;
	struct nvme_sqe bad = { .opc = NVME_ADM_IDENTIFY, .nsid = 0, .cdw10 = NVME_CNS_NS };

	assert_int_equal(h_get_log(h->aq, NVME_LOG_ERROR, NVME_NSID_ALL, false, 0, buf, 4096), 0);
	for (unsigned i = 0; i < 4096; i++)
		assert_int_equal(buf[i], 0);
	assert_int_equal(h_cmd(h->aq, &bad, NULL, 0, NULL, 0, NULL),
			 SC_DNR(GENERIC, INVALID_NAMESPACE_OR_FORMAT));
	assert_int_equal(h_get_log(h->aq, NVME_LOG_ERROR, NVME_NSID_ALL, false, 0, buf, 128), 0);
	assert_int_equal(e[0].error_count, 1);
	assert_int_equal(e[0].status >> 1, SC_DNR(GENERIC, INVALID_NAMESPACE_OR_FORMAT));
	assert_int_equal(e[1].error_count, 0);
}

/* ---- SMART / health ----------------------------------------------------- */

static uint16_t rw(struct fdr_queue *q, uint8_t opc, uint64_t slba, uint32_t nlb, void *data)
{
	struct nvme_sqe c = { .opc = opc,
			      .nsid = 1,
			      .cdw10 = (uint32_t)slba,
			      .cdw11 = (uint32_t)(slba >> 32),
			      .cdw12 = nlb - 1 };

	if (opc == NVME_IO_READ)
		return h_cmd(q, &c, NULL, 0, data, nlb * 512, NULL);
	return h_cmd(q, &c, data, nlb * 512, NULL, 0, NULL);
}

static void test_smart(void **state)
{
	struct harness *h = *state;
	struct nvme_smart_log *sl = (struct nvme_smart_log *)buf;
	struct fdr_queue *ioq = h_queue(h);
	static uint8_t data[64 * 512];
	struct nvme_sqe bad = { .opc = 0xc1 };
	uint16_t temp;

	assert_int_equal(h_connect(h, ioq, H_SUBNQN, 1, h->ctrl->cntlid, H_HOSTNQN), 0);
	memset(data, 0x5a, sizeof(data));
	assert_int_equal(rw(ioq, NVME_IO_WRITE, 0, 64, data), 0);	/* 32 KiB */
	assert_int_equal(rw(ioq, NVME_IO_WRITE, 1000, 1, data), 0);	/* 512 B */
	assert_int_equal(rw(ioq, NVME_IO_READ, 0, 8, data), 0);
	assert_int_equal(h_cmd(h->aq, &bad, NULL, 0, NULL, 0, NULL), SC_DNR(GENERIC, INVALID_OPCODE));

	assert_int_equal(h_get_log(h->aq, NVME_LOG_SMART, NVME_NSID_ALL, false, 0, buf, 512), 0);
	assert_int_equal(sl->critical_warning, 0);
	memcpy(&temp, sl->temperature, 2);
	assert_int_equal(temp, 308);
	assert_int_equal(sl->avail_spare, 100);
	assert_int_equal(sl->spare_thresh, 10);
	assert_int_equal(sl->percent_used, 0);
	/* Thousands of 512-byte units, rounded up. */
	assert_int_equal(u128_lo(sl->data_units_written), 1);
	assert_int_equal(u128_lo(sl->data_units_read), 1);
	assert_int_equal(u128_lo(sl->host_writes), 2);
	assert_int_equal(u128_lo(sl->host_reads), 1);
	assert_int_equal(u128_lo(sl->power_cycles), 1);
	assert_int_equal(u128_lo(sl->power_on_hours), 0);
	assert_int_equal(u128_lo(sl->media_errors), 0);
	assert_int_equal(u128_lo(sl->num_err_log_entries), 1);

	/* 1000 units of 512 bytes are 1, 1001 make 2. */
	for (int i = 0; i < 15; i++)
		assert_int_equal(rw(ioq, NVME_IO_WRITE, 64 * (uint64_t)i, 64, data), 0);
	/* 65 + 960 = 1025 units written so far. */
	assert_int_equal(h_get_log(h->aq, NVME_LOG_SMART, 1, false, 0, buf, 512), 0);
	assert_int_equal(u128_lo(sl->data_units_written), 2);
	assert_int_equal(u128_lo(sl->host_writes), 17);

	/* A crossed temperature threshold is a critical warning. */
	assert_int_equal(h_set_feat(h->aq, NVME_FEAT_TEMP_THRESH, 0, 0, 300, NULL, 0, NULL), 0);
	assert_int_equal(h_get_log(h->aq, NVME_LOG_SMART, NVME_NSID_ALL, false, 0, buf, 512), 0);
	assert_int_equal(sl->critical_warning, NVME_SMART_CRIT_TEMPERATURE);
	/* And so is what the subsystem reports. */
	h->s->critical_warning = NVME_SMART_CRIT_SPARE;
	assert_int_equal(h_get_log(h->aq, NVME_LOG_SMART, NVME_NSID_ALL, false, 0, buf, 512), 0);
	assert_int_equal(sl->critical_warning, NVME_SMART_CRIT_SPARE | NVME_SMART_CRIT_TEMPERATURE);
}

/* ---- Firmware slots, command effects -------------------------------------- */

static void test_fw_and_effects(void **state)
{
	struct harness *h = *state;
	struct nvme_fw_slot_log *fw = (struct nvme_fw_slot_log *)buf;
	struct nvme_cmd_effects_log *fx = (struct nvme_cmd_effects_log *)buf;

	assert_int_equal(h_get_log(h->aq, NVME_LOG_FW_SLOT, NVME_NSID_ALL, false, 0, buf, 512), 0);
	assert_int_equal(fw->afi, 1);
	assert_memory_equal(fw->frs[0], "0.1.0   ", 8);
	assert_int_equal(fw->frs[1][0], 0);

	assert_int_equal(h_get_log(h->aq, NVME_LOG_CMD_EFFECTS, 0, false, 0, buf, 4096), 0);
	assert_int_equal(fx->acs[NVME_ADM_IDENTIFY], NVME_CMD_EFFECTS_CSUPP);
	assert_int_equal(fx->acs[NVME_ADM_KEEP_ALIVE], NVME_CMD_EFFECTS_CSUPP);
	assert_true(fx->acs[NVME_ADM_FORMAT_NVM] & NVME_CMD_EFFECTS_LBCC);
	assert_true(fx->acs[NVME_ADM_FORMAT_NVM] & NVME_CMD_EFFECTS_NCC);
	assert_int_equal(fx->acs[NVME_ADM_CREATE_IO_SQ], 0);
	assert_int_equal(fx->acs[NVME_ADM_FIRMWARE_COMMIT], 0);
	assert_int_equal(fx->iocs[NVME_IO_READ], NVME_CMD_EFFECTS_CSUPP);
	assert_int_equal(fx->iocs[NVME_IO_WRITE], NVME_CMD_EFFECTS_CSUPP | NVME_CMD_EFFECTS_LBCC);
	assert_int_equal(fx->iocs[NVME_IO_DATASET_MANAGEMENT],
			 NVME_CMD_EFFECTS_CSUPP | NVME_CMD_EFFECTS_LBCC);
	assert_int_equal(fx->iocs[NVME_IO_VERIFY], 0);
	assert_int_equal(fx->iocs[NVME_IO_RESERVATION_REGISTER], 0);
}

/* ---- Asynchronous events ---------------------------------------------------- */

static uint16_t aer(struct harness *h)
{
	struct nvme_sqe c = { .opc = NVME_ADM_ASYNC_EVENT_REQUEST };

	return h_submit(h->aq, &c);
}

static void test_aer_delivery_and_masking(void **state)
{
	struct harness *h = *state;
	uint32_t *changed = (uint32_t *)buf, cdw0 = 0;
	uint16_t status = 0xffff, a1, a2;

	assert_int_equal(h_set_feat(h->aq, NVME_FEAT_ASYNC_EVENT, 0, 0,
				    NVME_AEC_NS_ATTR | NVME_AEC_FW_ACTIVATION, NULL, 0, NULL), 0);
	a1 = aer(h);
	h_poll(h);
	assert_false(h_done(a1, NULL, NULL));

	/* A namespace change: list entry, then the notice. */
	{
		struct nvme_sqe fmt = { .opc = NVME_ADM_FORMAT_NVM, .nsid = 3, .cdw10 = 1 };
		assert_int_equal(h_cmd(h->aq, &fmt, NULL, 0, NULL, 0, NULL), 0);
	}
	assert_false(h_done(a1, NULL, NULL)); /* delivered from the reactor */
	h_poll(h);
	assert_true(h_done(a1, &status, &cdw0));
	assert_int_equal(status, 0);
	assert_int_equal(cdw0, NVME_AER_CDW0(NVME_AER_TYPE_NOTICE, NVME_AER_NOTICE_NS_CHANGED,
					     NVME_LOG_CHANGED_NS));

	/* Notices are now masked: a firmware notice waits... */
	a2 = aer(h);
	fdr_ctrl_raise_aen(h->ctrl, NVME_AER_TYPE_NOTICE, NVME_AER_NOTICE_FW_ACT_STARTING,
			   NVME_LOG_FW_SLOT);
	h_poll(h);
	assert_false(h_done(a2, NULL, NULL));
	/* ... a read that retains the event changes nothing... */
	assert_int_equal(h_get_log(h->aq, NVME_LOG_CHANGED_NS, NVME_NSID_ALL, true, 0, buf, 4096), 0);
	assert_int_equal(changed[0], 3);
	h_poll(h);
	assert_false(h_done(a2, NULL, NULL));
	/* ... reading another page does not clear this event... */
	assert_int_equal(h_get_log(h->aq, NVME_LOG_FW_SLOT, NVME_NSID_ALL, false, 0, buf, 512), 0);
	h_poll(h);
	assert_false(h_done(a2, NULL, NULL));
	/* ... the page of the event does; it is emptied, the next one goes out. */
	assert_int_equal(h_get_log(h->aq, NVME_LOG_CHANGED_NS, NVME_NSID_ALL, false, 0, buf, 4096), 0);
	assert_int_equal(changed[0], 3);
	assert_int_equal(changed[1], 0);
	h_poll(h);
	assert_true(h_done(a2, &status, &cdw0));
	assert_int_equal(status, 0);
	assert_int_equal(cdw0, NVME_AER_CDW0(NVME_AER_TYPE_NOTICE, NVME_AER_NOTICE_FW_ACT_STARTING,
					     NVME_LOG_FW_SLOT));
	assert_int_equal(h_get_log(h->aq, NVME_LOG_CHANGED_NS, NVME_NSID_ALL, false, 0, buf, 4096), 0);
	assert_int_equal(changed[0], 0);

	/* Raised before any AER: kept until one comes. */
	assert_int_equal(h_get_log(h->aq, NVME_LOG_FW_SLOT, NVME_NSID_ALL, false, 0, buf, 512), 0);
	fdr_ctrl_raise_aen(h->ctrl, NVME_AER_TYPE_ERROR, NVME_AER_ERR_PERSISTENT_INTERNAL,
			   NVME_LOG_ERROR);
	h_poll(h);
	a1 = aer(h);
	assert_true(h_done(a1, &status, &cdw0));
	assert_int_equal(cdw0, NVME_AER_CDW0(NVME_AER_TYPE_ERROR, NVME_AER_ERR_PERSISTENT_INTERNAL,
					     NVME_LOG_ERROR));
}

static void test_aer_disabled_events(void **state)
{
	struct harness *h = *state;
	uint32_t *changed = (uint32_t *)buf;
	uint16_t a = aer(h);

	/* AEC is 0 after Connect: notices are off, but the list still fills. */
	fdr_ctrl_raise_aen(h->ctrl, NVME_AER_TYPE_SMART, NVME_AER_SMART_TEMP_THRESH, NVME_LOG_SMART);
	{
		struct nvme_sqe fmt = { .opc = NVME_ADM_FORMAT_NVM, .nsid = 1, .cdw10 = 0 };
		assert_int_equal(h_cmd(h->aq, &fmt, NULL, 0, NULL, 0, NULL), 0);
	}
	h_poll(h);
	assert_false(h_done(a, NULL, NULL));
	assert_int_equal(h_get_log(h->aq, NVME_LOG_CHANGED_NS, NVME_NSID_ALL, true, 0, buf, 4096), 0);
	assert_int_equal(changed[0], 1);

	/* Temperature warnings on: setting a crossed threshold raises one. */
	assert_int_equal(h_set_feat(h->aq, NVME_FEAT_ASYNC_EVENT, 0, 0, NVME_SMART_CRIT_TEMPERATURE,
				    NULL, 0, NULL), 0);
	assert_int_equal(h_set_feat(h->aq, NVME_FEAT_TEMP_THRESH, 0, 0, 300, NULL, 0, NULL), 0);
	h_poll(h);
	uint32_t cdw0 = 0;
	assert_true(h_done(a, NULL, &cdw0));
	assert_int_equal(cdw0, NVME_AER_CDW0(NVME_AER_TYPE_SMART, NVME_AER_SMART_TEMP_THRESH,
					     NVME_LOG_SMART));
}

static void test_aer_limit_and_abort(void **state)
{
	struct harness *h = *state;
	uint16_t a[FDR_AERL], extra, status = 0;

	for (unsigned i = 0; i < FDR_AERL; i++)
		a[i] = aer(h);
	extra = aer(h);
	assert_true(h_done(extra, &status, NULL));
	assert_int_equal(status, SC(COMMAND_SPECIFIC, ASYNC_EVENT_REQUEST_LIMIT_EXCEEDED));
	for (unsigned i = 0; i < FDR_AERL; i++)
		assert_false(h_done(a[i], NULL, NULL));
	/* Oldest request first. */
	fdr_ctrl_raise_aen(h->ctrl, NVME_AER_TYPE_ERROR, NVME_AER_ERR_TRANSIENT_INTERNAL, NVME_LOG_ERROR);
	h_poll(h);
	assert_true(h_done(a[0], &status, NULL));
	assert_false(h_done(a[1], NULL, NULL));
	/* A controller reset takes the others back. */
	fdr_ctrl_aer_abort_all(h->ctrl, SC(GENERIC, ABORTED_SQ_DELETION));
	for (unsigned i = 1; i < FDR_AERL; i++) {
		assert_true(h_done(a[i], &status, NULL));
		assert_int_equal(status, SC(GENERIC, ABORTED_SQ_DELETION));
	}
	assert_int_equal(h->ctrl->nr_aer, 0);
}

static void test_aer_at_teardown(void **state)
{
	struct harness *h = *state;
	uint16_t a = aer(h), status = 0;

	fdr_queue_close(h->aq);
	assert_true(h_done(a, &status, NULL));
	assert_int_equal(status, SC(GENERIC, ABORTED_SQ_DELETION));
}

/* ---- Discovery controller ------------------------------------------------------ */

static struct fdr_queue *disc_connect(struct harness *h, const char *hostnqn)
{
	struct fdr_queue *q = h_queue(h);

	assert_int_equal(h_connect(h, q, NVME_DISC_SUBSYS_NAME, 0, 0xffff, hostnqn), 0);
	return q;
}

static void test_discovery_identify_and_opcodes(void **state)
{
	struct harness *h = *state;
	struct fdr_queue *dq = disc_connect(h, H_HOSTNQN);
	struct nvme_id_ctrl *id = (struct nvme_id_ctrl *)buf;
	static const uint8_t io_only[] = { NVME_ADM_ABORT, NVME_ADM_FORMAT_NVM, 0x01, 0x10 };
	uint32_t cdw0 = 0;

	assert_int_equal(h_identify(dq, NVME_CNS_CTRL, 0, 0, buf), 0);
	assert_int_equal(id->cntrltype, NVME_CTRL_TYPE_DISCOVERY);
	assert_string_equal(id->subnqn, NVME_DISC_SUBSYS_NAME);
	assert_int_equal(id->nn, 0);
	assert_int_equal(id->cntlid, dq->ctrl->cntlid);
	assert_true(id->sgls & NVME_SGLS_SUPPORTED);
	assert_true(id->maxcmd > 0);
	assert_int_equal(id->oaes, NVME_AEC_DISC_CHANGE);
	assert_int_equal(id->oacs, 0);
	assert_int_equal(id->oncs, 0);
	for (unsigned cns = 0; cns < 0x20; cns++)
		if (cns != NVME_CNS_CTRL)
			assert_int_equal(h_identify(dq, (uint8_t)cns, 1, 0, buf), INVALID_FIELD);
	for (size_t i = 0; i < sizeof(io_only); i++) {
		struct nvme_sqe c = { .opc = io_only[i], .nsid = 1 };
		assert_int_equal(h_cmd(dq, &c, NULL, 0, NULL, 0, NULL),
				 SC_DNR(GENERIC, INVALID_OPCODE));
	}
	assert_int_equal(h_get_log(dq, NVME_LOG_SMART, NVME_NSID_ALL, false, 0, buf, 512), INVALID_LOG);
	assert_int_equal(h_get_log(dq, NVME_LOG_ERROR, NVME_NSID_ALL, false, 0, buf, 512), 0);
	/* Features: keep-alive and the discovery change notice only. */
	assert_int_equal(h_get_feat(dq, NVME_FEAT_NUM_QUEUES, 0, 0, NULL, 0, NULL), INVALID_FIELD);
	assert_int_equal(h_set_feat(dq, NVME_FEAT_KATO, 0, 0, 30000, NULL, 0, NULL), 0);
	assert_int_equal(h_get_feat(dq, NVME_FEAT_KATO, 0, 0, NULL, 0, &cdw0), 0);
	assert_int_equal(cdw0, 30000);
	assert_int_equal(h_set_feat(dq, NVME_FEAT_ASYNC_EVENT, 0, 0, 0xffffffff, NULL, 0, NULL), 0);
	assert_int_equal(h_get_feat(dq, NVME_FEAT_ASYNC_EVENT, 0, 0, NULL, 0, &cdw0), 0);
	assert_int_equal(cdw0, NVME_AEC_DISC_CHANGE);
	struct nvme_sqe ka = { .opc = NVME_ADM_KEEP_ALIVE };
	assert_int_equal(h_cmd(dq, &ka, NULL, 0, NULL, 0, NULL), 0);
}

static void assert_padded(const char *field, size_t width, const char *want)
{
	size_t n = strlen(want);

	assert_memory_equal(field, want, n);
	for (size_t i = n; i < width; i++)
		assert_int_equal(field[i], ' ');
}

static void test_discovery_log(void **state)
{
	struct harness *h = *state;
	struct fdr_port *p2 = fdr_target_add_port(h->t, NVMF_TRTYPE_TCP, "::1", "4421");
	struct fdr_port *p3 = fdr_target_add_port(h->t, NVMF_TRTYPE_TCP, "127.0.0.1", "8009");
	struct fdr_subsys *s2 = fdr_subsys_create(h->t, FDR_SUBSYS_NVME, "nqn.2024-01.test:sub2");
	struct fdr_queue *dq;
	struct nvmf_disc_log_hdr *hdr = (struct nvmf_disc_log_hdr *)buf;
	struct nvmf_disc_log_entry *e = (struct nvmf_disc_log_entry *)(buf + 1024);
	char **allow = calloc(2, sizeof(*allow));

	assert_non_null(p2);
	assert_non_null(p3);
	assert_non_null(s2);
	assert_non_null(allow);
	allow[0] = strdup("nqn.2024-01.test:somebody-else");
	p3->discovery_only = true;
	s2->allowed_hosts = allow; /* not ours to see */
	dq = disc_connect(h, H_HOSTNQN);

	/* The header first, as hosts do. */
	assert_int_equal(h_get_log(dq, NVME_LOG_DISCOVERY, 0, false, 0, buf, 1024), 0);
	assert_int_equal(hdr->genctr, h->t->disc_genctr);
	assert_int_equal(hdr->recfmt, 0);
	/* Itself (on the port it came in on), then sub1 on the two I/O ports. */
	assert_int_equal(hdr->numrec, 3);

	assert_int_equal(h_get_log(dq, NVME_LOG_DISCOVERY, 0, false, 0, buf, 5 * 1024), 0);
	assert_int_equal(e[0].subtype, NVMF_SUBTYPE_DISCOVERY);
	assert_string_equal(e[0].subnqn, NVME_DISC_SUBSYS_NAME);
	assert_int_equal(e[0].eflags & 1, 1); /* DUPRETINFO: no loop in connect-all */
	assert_int_equal(e[0].portid, h->port->portid);
	for (int i = 1; i <= 2; i++) {
		const struct fdr_port *p = i == 1 ? h->port : p2;

		assert_int_equal(e[i].subtype, NVMF_SUBTYPE_NVME);
		assert_int_equal(e[i].trtype, NVMF_TRTYPE_TCP);
		assert_int_equal(e[i].adrfam, i == 1 ? NVMF_ADRFAM_IPV4 : NVMF_ADRFAM_IPV6);
		assert_int_equal(e[i].portid, p->portid);
		assert_int_equal(e[i].cntlid, 0xffff);
		assert_int_equal(e[i].asqsz, FDR_ADMIN_QDEPTH);
		assert_int_equal(e[i].treq, NVMF_TREQ_NOT_SPECIFIED | NVMF_TREQ_DISABLE_SQFLOW);
		assert_int_equal(e[i].eflags, 0);
		assert_string_equal(e[i].subnqn, H_SUBNQN);
		assert_padded(e[i].trsvcid, sizeof(e[i].trsvcid), p->trsvcid);
		assert_padded(e[i].traddr, sizeof(e[i].traddr), p->traddr);
		assert_int_equal(e[i].tsas[0], NVMF_TCP_SECTYPE_NONE);
	}
	for (unsigned i = 4 * 1024; i < 5 * 1024; i++) /* past the end */
		assert_int_equal(buf[i], 0);

	/* A window at an offset; past the end is refused. */
	assert_int_equal(h_get_log(dq, NVME_LOG_DISCOVERY, 0, false, 2048, buf, 1024), 0);
	assert_int_equal(((struct nvmf_disc_log_entry *)buf)->portid, h->port->portid);
	assert_int_equal(((struct nvmf_disc_log_entry *)buf)->subtype, NVMF_SUBTYPE_NVME);
	assert_int_equal(h_get_log(dq, NVME_LOG_DISCOVERY, 0, false, 5 * 1024, buf, 1024),
			 INVALID_FIELD);

	/* Allowed now: two more entries. */
	free(allow[0]);
	allow[0] = strdup(H_HOSTNQN);
	assert_int_equal(h_get_log(dq, NVME_LOG_DISCOVERY, 0, false, 0, buf, 1024), 0);
	assert_int_equal(hdr->numrec, 5);
}

static void test_discovery_change_notice(void **state)
{
	struct harness *h = *state;
	struct fdr_queue *dq = disc_connect(h, H_HOSTNQN);
	struct nvme_sqe c = { .opc = NVME_ADM_ASYNC_EVENT_REQUEST };
	uint16_t a, status = 0xffff;
	uint32_t cdw0 = 0;

	assert_int_equal(h_set_feat(dq, NVME_FEAT_ASYNC_EVENT, 0, 0, NVME_AEC_DISC_CHANGE, NULL, 0, NULL), 0);
	a = h_submit(dq, &c);
	fdr_ctrl_raise_aen(dq->ctrl, NVME_AER_TYPE_NOTICE, NVME_AER_NOTICE_DISC_CHANGED,
			   NVME_LOG_DISCOVERY);
	h_poll(h);
	assert_true(h_done(a, &status, &cdw0));
	assert_int_equal(status, 0);
	assert_int_equal(cdw0, NVME_AER_CDW0(NVME_AER_TYPE_NOTICE, NVME_AER_NOTICE_DISC_CHANGED,
					     NVME_LOG_DISCOVERY));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, h_setup, h_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_log_errors),
		T(test_error_log),
		T(test_error_log_fresh),
		T(test_smart),
		T(test_fw_and_effects),
		T(test_aer_delivery_and_masking),
		T(test_aer_disabled_events),
		T(test_aer_limit_and_abort),
		T(test_aer_at_teardown),
		T(test_discovery_identify_and_opcodes),
		T(test_discovery_log),
		T(test_discovery_change_notice),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

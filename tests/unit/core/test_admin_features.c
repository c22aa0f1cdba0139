/* SPDX-License-Identifier: BSD-2-Clause */
/* Get Features / Set Features through the real pipeline. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "harness.h"

#define SV (1u << 31)
#define INVALID_FIELD SC_DNR(GENERIC, INVALID_FIELD)

static uint8_t buf[4096];

static void test_num_queues(void **state)
{
	struct harness *h = *state;
	uint32_t cdw0 = 0, max0 = h->s->max_io_queues - 1u;

	/* Never set: the maximum, zero-based, for both. */
	assert_int_equal(h_get_feat(h->aq, NVME_FEAT_NUM_QUEUES, 0, 0, NULL, 0, &cdw0), 0);
	assert_int_equal(cdw0, max0 | max0 << 16);
	/* Granted as asked when within the maximum... */
	assert_int_equal(h_set_feat(h->aq, NVME_FEAT_NUM_QUEUES, 0, 0, 2 | 1u << 16, NULL, 0, &cdw0), 0);
	assert_int_equal(cdw0, 2 | 1u << 16);
	assert_int_equal(h_get_feat(h->aq, NVME_FEAT_NUM_QUEUES, 0, 0, NULL, 0, &cdw0), 0);
	assert_int_equal(cdw0, 2 | 1u << 16);
	/* ... capped above it; setting again is fine on fabrics. */
	assert_int_equal(h_set_feat(h->aq, NVME_FEAT_NUM_QUEUES, 0, 0, 500 | 500u << 16, NULL, 0, &cdw0), 0);
	assert_int_equal(cdw0, max0 | max0 << 16);
	/* 65535 is not a count. */
	assert_int_equal(h_set_feat(h->aq, NVME_FEAT_NUM_QUEUES, 0, 0, 0xffff, NULL, 0, NULL),
			 INVALID_FIELD);
	assert_int_equal(h_set_feat(h->aq, NVME_FEAT_NUM_QUEUES, 0, 0, 0xffffu << 16, NULL, 0, NULL),
			 INVALID_FIELD);
	/* Default and supported capabilities. */
	assert_int_equal(h_get_feat(h->aq, NVME_FEAT_NUM_QUEUES, NVME_FEAT_SEL_DEFAULT, 0, NULL, 0, &cdw0), 0);
	assert_int_equal(cdw0, max0 | max0 << 16);
	assert_int_equal(h_get_feat(h->aq, NVME_FEAT_NUM_QUEUES, NVME_FEAT_SEL_SAVED, 0, NULL, 0, &cdw0), 0);
	assert_int_equal(cdw0, max0 | max0 << 16);
	assert_int_equal(h_get_feat(h->aq, NVME_FEAT_NUM_QUEUES, NVME_FEAT_SEL_SUPPORTED, 0, NULL, 0, &cdw0), 0);
	assert_int_equal(cdw0, NVME_FEAT_CAP_CHANGEABLE);
}

static void test_common_errors(void **state)
{
	struct harness *h = *state;

	/* Nothing is saveable. */
	assert_int_equal(h_set_feat(h->aq, NVME_FEAT_ARBITRATION, 0, SV, 0, NULL, 0, NULL),
			 SC_DNR(COMMAND_SPECIFIC, FEATURE_NOT_SAVEABLE));
	/* Nothing is namespace specific. */
	assert_int_equal(h_set_feat(h->aq, NVME_FEAT_ARBITRATION, 1, 0, 0, NULL, 0, NULL),
			 SC_DNR(COMMAND_SPECIFIC, FEATURE_NOT_NS_SPECIFIC));
	assert_int_equal(h_set_feat(h->aq, NVME_FEAT_ARBITRATION, 99, 0, 0, NULL, 0, NULL),
			 SC_DNR(GENERIC, INVALID_NAMESPACE_OR_FORMAT));
	assert_int_equal(h_set_feat(h->aq, NVME_FEAT_ARBITRATION, NVME_NSID_ALL, 0, 7, NULL, 0, NULL), 0);
	/* Unknown and unsupported features: LBA range, IV config (no
	 * interrupts on fabrics), APST, HMB, reservations, vendor. */
	static const uint8_t fids[] = { 0x00, 0x03, 0x09, 0x0c, 0x0d, 0x10, 0x11, 0x12,
					0x13, 0x17, 0x7f, 0x82, 0x83, 0x84, 0xc0, 0xff };
	for (size_t i = 0; i < sizeof(fids); i++) {
		assert_int_equal(h_get_feat(h->aq, fids[i], 0, 0, buf, sizeof(buf), NULL), INVALID_FIELD);
		assert_int_equal(h_get_feat(h->aq, fids[i], 3, 0, NULL, 0, NULL), INVALID_FIELD);
		assert_int_equal(h_set_feat(h->aq, fids[i], 0, 0, 0, buf, sizeof(buf), NULL), INVALID_FIELD);
	}
	/* SEL values 4..7 are reserved. */
	assert_int_equal(h_get_feat(h->aq, NVME_FEAT_ARBITRATION, 4, 0, NULL, 0, NULL), INVALID_FIELD);
	assert_int_equal(h_get_feat(h->aq, NVME_FEAT_ARBITRATION, 7, 0, NULL, 0, NULL), INVALID_FIELD);
}

static void test_simple_values(void **state)
{
	struct harness *h = *state;
	static const struct {
		uint8_t fid;
		uint32_t set, get;
	} cases[] = {
		{ NVME_FEAT_ARBITRATION, 0x01020307, 0x01020307 },
		{ NVME_FEAT_POWER_MGMT, 0, 0 },
		{ NVME_FEAT_ERR_RECOVERY, 0x1234, 0x1234 },
		{ NVME_FEAT_IRQ_COALESCE, 0x0a05, 0x0a05 },
		{ NVME_FEAT_WRITE_ATOMIC, 1, 1 },
		{ NVME_FEAT_SW_PROGRESS, 0x42, 0x42 },
		{ NVME_FEAT_ASYNC_EVENT, 0x31f, 0x31f },
		/* The discovery change bit means nothing on an I/O controller. */
		{ NVME_FEAT_ASYNC_EVENT, 0x80000100, 0x100 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t cdw0 = 0xdead;

		assert_int_equal(h_set_feat(h->aq, cases[i].fid, 0, 0, cases[i].set, NULL, 0, NULL), 0);
		assert_int_equal(h_get_feat(h->aq, cases[i].fid, 0, 0, NULL, 0, &cdw0), 0);
		assert_int_equal(cdw0, cases[i].get);
		assert_int_equal(h_get_feat(h->aq, cases[i].fid, NVME_FEAT_SEL_DEFAULT, 0, NULL, 0, &cdw0), 0);
		assert_int_equal(cdw0, 0);
		assert_int_equal(h_get_feat(h->aq, cases[i].fid, NVME_FEAT_SEL_SUPPORTED, 0, NULL, 0, &cdw0), 0);
		assert_int_equal(cdw0, NVME_FEAT_CAP_CHANGEABLE);
	}
	/* One power state only; DULBE is not supported. */
	assert_int_equal(h_set_feat(h->aq, NVME_FEAT_POWER_MGMT, 0, 0, 1, NULL, 0, NULL), INVALID_FIELD);
	assert_int_equal(h_set_feat(h->aq, NVME_FEAT_ERR_RECOVERY, 0, 0, 1u << 16, NULL, 0, NULL),
			 INVALID_FIELD);
}

static void test_temperature(void **state)
{
	struct harness *h = *state;
	uint32_t cdw0 = 0;

	assert_int_equal(h_get_feat(h->aq, NVME_FEAT_TEMP_THRESH, 0, 0, NULL, 0, &cdw0), 0);
	assert_int_equal(cdw0 & 0xffff, 343);
	assert_int_equal(h_get_feat(h->aq, NVME_FEAT_TEMP_THRESH, 0, 1u << 20, NULL, 0, &cdw0), 0);
	assert_int_equal(cdw0 & 0xffff, 0);
	/* Over and under thresholds of the composite sensor. */
	assert_int_equal(h_set_feat(h->aq, NVME_FEAT_TEMP_THRESH, 0, 0, 350, NULL, 0, NULL), 0);
	assert_int_equal(h_set_feat(h->aq, NVME_FEAT_TEMP_THRESH, 0, 0, 270 | 1u << 20, NULL, 0, NULL), 0);
	assert_int_equal(h_get_feat(h->aq, NVME_FEAT_TEMP_THRESH, 0, 0, NULL, 0, &cdw0), 0);
	assert_int_equal(cdw0, 350);
	assert_int_equal(h_get_feat(h->aq, NVME_FEAT_TEMP_THRESH, 0, 1u << 20, NULL, 0, &cdw0), 0);
	assert_int_equal(cdw0, 270 | 1u << 20);
	assert_int_equal(h_get_feat(h->aq, NVME_FEAT_TEMP_THRESH, NVME_FEAT_SEL_DEFAULT, 0, NULL, 0, &cdw0), 0);
	assert_int_equal(cdw0, 343);
	/* "All sensors" is the composite one. */
	assert_int_equal(h_set_feat(h->aq, NVME_FEAT_TEMP_THRESH, 0, 0, 360 | 0xfu << 16, NULL, 0, NULL), 0);
	assert_int_equal(h_get_feat(h->aq, NVME_FEAT_TEMP_THRESH, 0, 0, NULL, 0, &cdw0), 0);
	assert_int_equal(cdw0, 360);
	/* Sensors 1-8 are not implemented; THSEL 2 and 3 are reserved. */
	assert_int_equal(h_set_feat(h->aq, NVME_FEAT_TEMP_THRESH, 0, 0, 300 | 1u << 16, NULL, 0, NULL),
			 INVALID_FIELD);
	assert_int_equal(h_set_feat(h->aq, NVME_FEAT_TEMP_THRESH, 0, 0, 300 | 2u << 20, NULL, 0, NULL),
			 INVALID_FIELD);
	assert_int_equal(h_get_feat(h->aq, NVME_FEAT_TEMP_THRESH, 0, 1u << 16, NULL, 0, NULL),
			 INVALID_FIELD);
	assert_int_equal(h_get_feat(h->aq, NVME_FEAT_TEMP_THRESH, 0, 0xfu << 16, NULL, 0, NULL),
			 INVALID_FIELD);
}

static uint64_t ts_ms(const uint8_t *b)
{
	uint64_t v = 0;

	memcpy(&v, b, 6);
	return v;
}

static void test_timestamp(void **state)
{
	struct harness *h = *state;
	uint8_t ts[8] = { 0 };
	uint64_t set = 1700000000123ull;

	/* Never set: counting from the reset, origin 000b. */
	assert_int_equal(h_get_feat(h->aq, NVME_FEAT_TIMESTAMP, 0, 0, ts, sizeof(ts), NULL), 0);
	assert_true(ts_ms(ts) < 60000);
	assert_int_equal(ts[6], 0);

	memcpy(ts, &set, 6);
	ts[6] = 0xff; /* attributes are the controller's: ignored on Set */
	assert_int_equal(h_set_feat(h->aq, NVME_FEAT_TIMESTAMP, 0, 0, 0, ts, sizeof(ts), NULL), 0);
	memset(ts, 0, sizeof(ts));
	assert_int_equal(h_get_feat(h->aq, NVME_FEAT_TIMESTAMP, 0, 0, ts, sizeof(ts), NULL), 0);
	assert_true(ts_ms(ts) >= set && ts_ms(ts) < set + 60000);
	assert_int_equal(ts[6], 1u << 1); /* origin 001b: set by the host */
	assert_int_equal(ts[7], 0);
}

static void test_kato(void **state)
{
	struct harness *h = *state;
	uint32_t cdw0 = 0;

	assert_int_equal(h_get_feat(h->aq, NVME_FEAT_KATO, 0, 0, NULL, 0, &cdw0), 0);
	assert_int_equal(cdw0, 0); /* as Connect asked */
	assert_int_equal(h_set_feat(h->aq, NVME_FEAT_KATO, 0, 0, 15000, NULL, 0, NULL), 0);
	assert_int_equal(h->ctrl->kato_ms, 15000);
	assert_true(h->ctrl->kato_timer.armed);
	assert_int_equal(h_get_feat(h->aq, NVME_FEAT_KATO, 0, 0, NULL, 0, &cdw0), 0);
	assert_int_equal(cdw0, 15000);
	assert_int_equal(h_set_feat(h->aq, NVME_FEAT_KATO, 0, 0, 0, NULL, 0, NULL), 0);
	assert_false(h->ctrl->kato_timer.armed);
}

static void test_host_id(void **state)
{
	struct harness *h = *state;
	uint8_t id[16] = { 0 };

	assert_int_equal(h_get_feat(h->aq, NVME_FEAT_HOST_ID, 0, 1, id, sizeof(id), NULL), 0);
	assert_memory_equal(id, h->ctrl->hostid, 16);
	/* Fabrics host identifiers are 128 bits: no 64-bit form. */
	assert_int_equal(h_get_feat(h->aq, NVME_FEAT_HOST_ID, 0, 0, id, 8, NULL), INVALID_FIELD);
	/* It comes from Connect only. */
	assert_int_equal(h_set_feat(h->aq, NVME_FEAT_HOST_ID, 0, 0, 1, id, sizeof(id), NULL),
			 SC_DNR(GENERIC, COMMAND_SEQUENCE_ERROR));
	uint32_t cdw0 = 0xffff;
	assert_int_equal(h_get_feat(h->aq, NVME_FEAT_HOST_ID, NVME_FEAT_SEL_SUPPORTED, 0, NULL, 0, &cdw0), 0);
	assert_int_equal(cdw0, 0); /* not changeable */
}

static void test_host_behavior(void **state)
{
	struct harness *h = *state;
	static uint8_t hb[512];

	hb[0] = 1; /* ACRE */
	assert_int_equal(h_set_feat(h->aq, NVME_FEAT_HOST_BEHAVIOR, 0, 0, 0, hb, sizeof(hb), NULL), 0);
	memset(hb, 0, sizeof(hb));
	assert_int_equal(h_get_feat(h->aq, NVME_FEAT_HOST_BEHAVIOR, 0, 0, hb, sizeof(hb), NULL), 0);
	assert_int_equal(hb[0], 1);
	assert_int_equal(hb[1], 0);
}

static void test_vwc(void **state)
{
	struct harness *h = *state;
	uint32_t cdw0 = 0;

	/* RAM namespaces have no volatile cache: the feature does not exist. */
	assert_int_equal(h_get_feat(h->aq, NVME_FEAT_VOLATILE_WC, 0, 0, NULL, 0, NULL), INVALID_FIELD);
	assert_int_equal(h_set_feat(h->aq, NVME_FEAT_VOLATILE_WC, 0, 0, 1, NULL, 0, NULL), INVALID_FIELD);

	h->s->ns[1]->bdev->volatile_wc = true;
	assert_int_equal(h_set_feat(h->aq, NVME_FEAT_VOLATILE_WC, 0, 0, 0, NULL, 0, NULL), 0);
	assert_false(h->ctrl->feat.vwc_enabled);
	assert_int_equal(h_get_feat(h->aq, NVME_FEAT_VOLATILE_WC, 0, 0, NULL, 0, &cdw0), 0);
	assert_int_equal(cdw0, 0);
	assert_int_equal(h_set_feat(h->aq, NVME_FEAT_VOLATILE_WC, 0, 0, 1, NULL, 0, NULL), 0);
	assert_int_equal(h_get_feat(h->aq, NVME_FEAT_VOLATILE_WC, 0, 0, NULL, 0, &cdw0), 0);
	assert_int_equal(cdw0, 1);
	assert_int_equal(h_get_feat(h->aq, NVME_FEAT_VOLATILE_WC, NVME_FEAT_SEL_DEFAULT, 0, NULL, 0, &cdw0), 0);
	assert_int_equal(cdw0, 1);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, h_setup, h_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_num_queues), T(test_common_errors), T(test_simple_values),
		T(test_temperature), T(test_timestamp),	   T(test_kato),
		T(test_host_id),     T(test_host_behavior), T(test_vwc),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

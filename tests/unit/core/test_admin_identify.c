/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Admin command set through the real pipeline: decode, Identify, Abort,
 * Keep Alive, Format NVM.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "harness.h"

static uint8_t buf[4096];

static void test_unsupported_opcodes(void **state)
{
	struct harness *h = *state;
	/* Queue management, doorbell buffers, NS management, firmware,
	 * self-test, directives, sanitize, security, vendor specific. */
	static const uint8_t opcs[] = { 0x00, 0x01, 0x04, 0x05, 0x0d, 0x10, 0x11, 0x14,
					0x15, 0x19, 0x1a, 0x7c, 0x81, 0x82, 0x84, 0xc0 };

	for (size_t i = 0; i < sizeof(opcs); i++) {
		struct nvme_sqe c = { .opc = opcs[i] };
		assert_int_equal(h_cmd(h->aq, &c, NULL, 0, NULL, 0, NULL),
				 SC_DNR(GENERIC, INVALID_OPCODE));
	}
}

static void test_identify_ctrl(void **state)
{
	struct harness *h = *state;
	struct nvme_id_ctrl *id = (struct nvme_id_ctrl *)buf;

	assert_int_equal(h_identify(h->aq, NVME_CNS_CTRL, 0, 0, buf), 0);
	assert_int_equal(id->cntlid, h->ctrl->cntlid);
	assert_int_equal(id->ver, NVME_VS(1, 4, 0));
	assert_int_equal(id->cntrltype, NVME_CTRL_TYPE_IO);
	assert_memory_equal(id->mn, "frankendrive", 12);
	assert_int_equal(id->mn[12], ' '); /* space padded, no NUL */
	assert_int_equal(id->mn[39], ' ');
	assert_string_equal(id->subnqn, H_SUBNQN);
	assert_int_equal(id->mdts, FDR_MDTS);
	assert_true(id->sgls & NVME_SGLS_SUPPORTED);
	assert_true(id->sgls & NVME_SGLS_OFFSET);
	assert_int_equal(id->nn, FDR_MAX_NS);
	assert_int_equal(id->oacs, NVME_OACS_FORMAT);
	assert_int_equal(id->oncs, NVME_ONCS_COMPARE | NVME_ONCS_WRITE_UNCORRECTABLE |
					   NVME_ONCS_DSM | NVME_ONCS_WRITE_ZEROES |
					   NVME_ONCS_TIMESTAMP);
	assert_int_equal(id->lpa, NVME_LPA_SMART_PER_NS | NVME_LPA_CMD_EFFECTS |
					  NVME_LPA_EXTENDED_DATA);
	assert_int_equal(id->aerl, FDR_AERL - 1);
	assert_int_equal(id->elpe, FDR_ERROR_LOG_ENTRIES - 1);
	assert_int_equal(id->kas, 1);
	assert_int_equal(id->sqes, 0x66);
	assert_int_equal(id->cqes, 0x44);
	assert_int_equal(id->maxcmd, h->s->max_qdepth);
	assert_int_equal(id->ioccsz, (64 + h->s->inline_data_size) / 16);
	assert_int_equal(id->iorcsz, 1);
	assert_int_equal(id->icdoff, 0);
	assert_int_equal(id->msdbd, 1);
	assert_int_equal(id->ofcs & 1, 1);
	assert_int_equal(id->oaes, NVME_OAES_NS_ATTR | NVME_OAES_FW_ACTIVATION);
	assert_int_equal(id->cmic & 0x08, 0); /* no ANA reporting */
	assert_int_equal(id->vwc, 0); /* RAM has no volatile cache */
	assert_int_equal(id->wctemp, 343);
	assert_int_equal(id->cctemp, 358);
	assert_int_equal(id->npss, 0);
	assert_true(id->psd[0].mp > 0);
}

static void test_identify_ctrl_vwc(void **state)
{
	struct harness *h = *state;
	struct nvme_id_ctrl *id = (struct nvme_id_ctrl *)buf;

	h->s->ns[3]->bdev->volatile_wc = true;
	assert_int_equal(h_identify(h->aq, NVME_CNS_CTRL, 0, 0, buf), 0);
	assert_int_equal(id->vwc & 1, 1);
}

static void test_identify_ns(void **state)
{
	struct harness *h = *state;
	struct nvme_id_ns *id = (struct nvme_id_ns *)buf;
	struct fdr_ns *ns = h->s->ns[1];
	uint64_t bytes;

	assert_int_equal(h_identify(h->aq, NVME_CNS_NS, 1, 0, buf), 0);
	assert_int_equal(id->nsze, H_NS_BYTES / 512);
	assert_int_equal(id->ncap, id->nsze);
	assert_int_equal(id->nuse, id->nsze);
	assert_int_equal(id->nlbaf, FDR_NR_LBAF - 1);
	assert_int_equal(id->flbas, 0);
	assert_int_equal(id->lbaf[0].lbads, 9);
	assert_int_equal(id->lbaf[1].lbads, 12);
	assert_int_equal(id->lbaf[0].ms, 0);
	assert_int_equal(id->nmic, 1);
	assert_int_equal(id->dlfeat, NVME_DLFEAT_READ_ZEROES | NVME_DLFEAT_WZ_DEALLOC);
	memcpy(&bytes, id->nvmcap, sizeof(bytes));
	assert_int_equal(bytes, H_NS_BYTES);
	assert_memory_equal(id->nguid, ns->nguid, 16);
	assert_memory_equal(id->eui64, ns->eui64, 8);
}

static void test_identify_ns_inactive_and_invalid(void **state)
{
	struct harness *h = *state;
	static const uint8_t zero[4096];

	/* Valid but inactive: success, all zeroes. */
	assert_int_equal(h_identify(h->aq, NVME_CNS_NS, 2, 0, buf), 0);
	assert_memory_equal(buf, zero, sizeof(zero));
	assert_int_equal(h_identify(h->aq, NVME_CNS_NS, FDR_MAX_NS, 0, buf), 0);
	assert_memory_equal(buf, zero, sizeof(zero));
	/* Invalid: 0, beyond NN, and the broadcast value (no NS management). */
	assert_int_equal(h_identify(h->aq, NVME_CNS_NS, 0, 0, buf),
			 SC_DNR(GENERIC, INVALID_NAMESPACE_OR_FORMAT));
	assert_int_equal(h_identify(h->aq, NVME_CNS_NS, FDR_MAX_NS + 1, 0, buf),
			 SC_DNR(GENERIC, INVALID_NAMESPACE_OR_FORMAT));
	assert_int_equal(h_identify(h->aq, NVME_CNS_NS, NVME_NSID_ALL, 0, buf),
			 SC_DNR(GENERIC, INVALID_NAMESPACE_OR_FORMAT));
}

static void test_identify_active_list(void **state)
{
	struct harness *h = *state;
	uint32_t *list = (uint32_t *)buf;

	assert_int_equal(h_identify(h->aq, NVME_CNS_ACTIVE_NS_LIST, 0, 0, buf), 0);
	assert_int_equal(list[0], 1);
	assert_int_equal(list[1], 3);
	assert_int_equal(list[2], 0);
	/* Strictly greater than the NSID given. */
	assert_int_equal(h_identify(h->aq, NVME_CNS_ACTIVE_NS_LIST, 1, 0, buf), 0);
	assert_int_equal(list[0], 3);
	assert_int_equal(list[1], 0);
	assert_int_equal(h_identify(h->aq, NVME_CNS_ACTIVE_NS_LIST, 3, 0, buf), 0);
	assert_int_equal(list[0], 0);
	assert_int_equal(h_identify(h->aq, NVME_CNS_ACTIVE_NS_LIST, 0xfffffffe, 0, buf),
			 SC_DNR(GENERIC, INVALID_NAMESPACE_OR_FORMAT));
	assert_int_equal(h_identify(h->aq, NVME_CNS_ACTIVE_NS_LIST, NVME_NSID_ALL, 0, buf),
			 SC_DNR(GENERIC, INVALID_NAMESPACE_OR_FORMAT));
}

static void test_identify_desc_list(void **state)
{
	struct harness *h = *state;
	struct fdr_ns *ns = h->s->ns[3];
	size_t pos = 0;
	bool seen[5] = { false };

	assert_int_equal(h_identify(h->aq, NVME_CNS_NS_DESC_LIST, 3, 0, buf), 0);
	while (pos + 4 <= sizeof(buf) && buf[pos + 1]) {
		uint8_t nidt = buf[pos], nidl = buf[pos + 1];
		const uint8_t *v = buf + pos + 4;

		assert_true(nidt >= 1 && nidt <= 4);
		assert_false(seen[nidt]);
		seen[nidt] = true;
		switch (nidt) {
		case NVME_NIDT_EUI64:
			assert_int_equal(nidl, 8);
			assert_memory_equal(v, ns->eui64, 8);
			break;
		case NVME_NIDT_NGUID:
			assert_int_equal(nidl, 16);
			assert_memory_equal(v, ns->nguid, 16);
			break;
		case NVME_NIDT_UUID:
			assert_int_equal(nidl, 16);
			assert_memory_equal(v, ns->uuid, 16);
			break;
		case NVME_NIDT_CSI:
			assert_int_equal(nidl, 1);
			assert_int_equal(v[0], 0); /* NVM */
			break;
		}
		pos += 4 + nidl;
	}
	assert_true(seen[1] && seen[2] && seen[3] && seen[4]);
	assert_int_equal(h_identify(h->aq, NVME_CNS_NS_DESC_LIST, 2, 0, buf),
			 SC_DNR(GENERIC, INVALID_NAMESPACE_OR_FORMAT));
	assert_int_equal(h_identify(h->aq, NVME_CNS_NS_DESC_LIST, 0, 0, buf),
			 SC_DNR(GENERIC, INVALID_NAMESPACE_OR_FORMAT));
}

static void test_identify_other_cns(void **state)
{
	struct harness *h = *state;
	static const uint8_t zero[4096];

	/* NVM command set specific Identify Controller: no extra limits. */
	assert_int_equal(h_identify(h->aq, NVME_CNS_CSI_CTRL, 0, 0, buf), 0);
	assert_memory_equal(buf, zero, sizeof(zero));
	assert_int_equal(h_identify(h->aq, NVME_CNS_CSI_CTRL, 0, 2u << 24, buf),
			 SC_DNR(GENERIC, INVALID_FIELD));
	for (unsigned cns = 0x04; cns < 0x100; cns++) {
		if (cns == NVME_CNS_CSI_CTRL)
			continue;
		assert_int_equal(h_identify(h->aq, (uint8_t)cns, 1, 0, buf),
				 SC_DNR(GENERIC, INVALID_FIELD));
	}
}

static void test_abort_and_keep_alive(void **state)
{
	struct harness *h = *state;
	struct nvme_sqe abort_cmd = { .opc = NVME_ADM_ABORT, .cdw10 = 0x12340001 };
	struct nvme_sqe ka = { .opc = NVME_ADM_KEEP_ALIVE };
	uint32_t cdw0 = 0;
	uint64_t before = h->ctrl->last_keep_alive_ns;

	assert_int_equal(h_cmd(h->aq, &abort_cmd, NULL, 0, NULL, 0, &cdw0), 0);
	assert_int_equal(cdw0 & 1, 1); /* not aborted */
	assert_int_equal(h_cmd(h->aq, &ka, NULL, 0, NULL, 0, NULL), 0);
	assert_true(h->ctrl->last_keep_alive_ns >= before);
}

static uint16_t format(struct harness *h, uint32_t nsid, uint32_t cdw10)
{
	struct nvme_sqe c = { .opc = NVME_ADM_FORMAT_NVM, .nsid = nsid, .cdw10 = cdw10 };

	return h_cmd(h->aq, &c, NULL, 0, NULL, 0, NULL);
}

static void test_format(void **state)
{
	struct harness *h = *state;
	struct nvme_id_ns *id = (struct nvme_id_ns *)buf;
	uint32_t *changed = (uint32_t *)buf;

	/* 4 KiB LBAs, user data erase. */
	assert_int_equal(format(h, 1, 1 | 1u << 9), 0);
	assert_int_equal(h_identify(h->aq, NVME_CNS_NS, 1, 0, buf), 0);
	assert_int_equal(id->flbas, 1);
	assert_int_equal(id->nsze, H_NS_BYTES / 4096);
	assert_int_equal(h->s->ns[3]->flbas, 0); /* the other one untouched */

	/* The LBA format change shows in the Changed Namespace List. */
	assert_int_equal(h_get_log(h->aq, NVME_LOG_CHANGED_NS, NVME_NSID_ALL, false, 0, buf, 4096), 0);
	assert_int_equal(changed[0], 1);
	assert_int_equal(changed[1], 0);

	/* All namespaces. */
	assert_int_equal(format(h, NVME_NSID_ALL, 0), 0);
	assert_int_equal(h->s->ns[1]->flbas, 0);
	assert_int_equal(h->s->ns[3]->flbas, 0);
	assert_int_equal(h_get_log(h->aq, NVME_LOG_CHANGED_NS, NVME_NSID_ALL, false, 0, buf, 4096), 0);
	assert_int_equal(changed[0], 1);
	assert_int_equal(changed[1], 3);
	assert_int_equal(changed[2], 0);
}

static void test_format_errors(void **state)
{
	struct harness *h = *state;

	assert_int_equal(format(h, 1, FDR_NR_LBAF), SC_DNR(COMMAND_SPECIFIC, INVALID_FORMAT));
	assert_int_equal(format(h, 1, 0xf), SC_DNR(COMMAND_SPECIFIC, INVALID_FORMAT));
	assert_int_equal(format(h, 1, NVME_FORMAT_MSET), SC_DNR(COMMAND_SPECIFIC, INVALID_FORMAT));
	assert_int_equal(format(h, 1, 1u << 5), SC_DNR(COMMAND_SPECIFIC, INVALID_FORMAT)); /* PI 1 */
	assert_int_equal(format(h, 1, 2u << 9), SC_DNR(GENERIC, INVALID_FIELD)); /* crypto erase */
	assert_int_equal(format(h, 1, 7u << 9), SC_DNR(GENERIC, INVALID_FIELD));
	assert_int_equal(format(h, 0, 0), SC_DNR(GENERIC, INVALID_NAMESPACE_OR_FORMAT));
	assert_int_equal(format(h, 2, 0), SC_DNR(GENERIC, INVALID_NAMESPACE_OR_FORMAT));
	assert_int_equal(format(h, FDR_MAX_NS + 1, 0), SC_DNR(GENERIC, INVALID_NAMESPACE_OR_FORMAT));
	assert_int_equal(h->s->ns[1]->flbas, 0);
}

static void test_fused_rejected(void **state)
{
	struct harness *h = *state;
	struct nvme_sqe c = { .opc = NVME_ADM_IDENTIFY, .flags = 1, .cdw10 = NVME_CNS_CTRL };

	assert_int_equal(h_cmd(h->aq, &c, NULL, 0, buf, sizeof(buf), NULL),
			 SC_DNR(GENERIC, INVALID_FIELD));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, h_setup, h_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_unsupported_opcodes),
		T(test_identify_ctrl),
		T(test_identify_ctrl_vwc),
		T(test_identify_ns),
		T(test_identify_ns_inactive_and_invalid),
		T(test_identify_active_list),
		T(test_identify_desc_list),
		T(test_identify_other_cns),
		T(test_abort_and_keep_alive),
		T(test_format),
		T(test_format_errors),
		T(test_fused_rejected),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

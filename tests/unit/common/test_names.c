/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for the NVMe name tables (include/frankendrive/names.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "frankendrive/names.h"
#include "frankendrive/nvme.h"
#include "frankendrive/nvme_tcp.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Every value nvme.h / nvme_tcp.h defines, listed by hand. */
static const uint8_t admin_opcodes[] = {
	NVME_ADM_DELETE_IO_SQ,
	NVME_ADM_CREATE_IO_SQ,
	NVME_ADM_GET_LOG_PAGE,
	NVME_ADM_DELETE_IO_CQ,
	NVME_ADM_CREATE_IO_CQ,
	NVME_ADM_IDENTIFY,
	NVME_ADM_ABORT,
	NVME_ADM_SET_FEATURES,
	NVME_ADM_GET_FEATURES,
	NVME_ADM_ASYNC_EVENT_REQUEST,
	NVME_ADM_NS_MANAGEMENT,
	NVME_ADM_FIRMWARE_COMMIT,
	NVME_ADM_FIRMWARE_IMAGE_DOWNLOAD,
	NVME_ADM_DEVICE_SELF_TEST,
	NVME_ADM_NS_ATTACHMENT,
	NVME_ADM_KEEP_ALIVE,
	NVME_ADM_DIRECTIVE_SEND,
	NVME_ADM_DIRECTIVE_RECEIVE,
	NVME_ADM_VIRTUALIZATION_MANAGEMENT,
	NVME_ADM_NVME_MI_SEND,
	NVME_ADM_NVME_MI_RECEIVE,
	NVME_ADM_DOORBELL_BUFFER_CONFIG,
	NVME_ADM_FABRICS,
	NVME_ADM_FORMAT_NVM,
	NVME_ADM_SECURITY_SEND,
	NVME_ADM_SECURITY_RECEIVE,
	NVME_ADM_SANITIZE,
	NVME_ADM_GET_LBA_STATUS,
};

static const uint8_t io_opcodes[] = {
	NVME_IO_FLUSH,
	NVME_IO_WRITE,
	NVME_IO_READ,
	NVME_IO_WRITE_UNCORRECTABLE,
	NVME_IO_COMPARE,
	NVME_IO_WRITE_ZEROES,
	NVME_IO_DATASET_MANAGEMENT,
	NVME_IO_VERIFY,
	NVME_IO_RESERVATION_REGISTER,
	NVME_IO_RESERVATION_REPORT,
	NVME_IO_RESERVATION_ACQUIRE,
	NVME_IO_RESERVATION_RELEASE,
	NVME_IO_COPY,
};

static const uint8_t fabrics_types[] = {
	NVME_FCTYPE_PROPERTY_SET, NVME_FCTYPE_CONNECT,      NVME_FCTYPE_PROPERTY_GET,
	NVME_FCTYPE_AUTH_SEND,    NVME_FCTYPE_AUTH_RECEIVE, NVME_FCTYPE_DISCONNECT,
};

struct status_case {
	uint16_t status;
	bool fabrics; /* meaning only for a Fabrics command */
};

static const struct status_case statuses[] = {
	{NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_SUCCESS), false},
	{NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INVALID_OPCODE), false},
	{NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INVALID_FIELD), false},
	{NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_CID_CONFLICT), false},
	{NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_DATA_TRANSFER_ERROR), false},
	{NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_ABORTED_POWER_LOSS), false},
	{NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INTERNAL), false},
	{NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_ABORT_REQUESTED), false},
	{NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_ABORTED_SQ_DELETION), false},
	{NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_ABORTED_FAILED_FUSED), false},
	{NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_ABORTED_MISSING_FUSED), false},
	{NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INVALID_NAMESPACE_OR_FORMAT), false},
	{NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_COMMAND_SEQUENCE_ERROR), false},
	{NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INVALID_SGL_SEG_DESC), false},
	{NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INVALID_NUM_SGL_DESCS), false},
	{NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_DATA_SGL_LENGTH_INVALID), false},
	{NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_METADATA_SGL_LENGTH_INVALID), false},
	{NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_SGL_DESC_TYPE_INVALID), false},
	{NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INVALID_CMB_USE), false},
	{NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INVALID_PRP_OFFSET), false},
	{NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_ATOMIC_WRITE_UNIT_EXCEEDED), false},
	{NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_OPERATION_DENIED), false},
	{NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INVALID_SGL_OFFSET), false},
	{NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_HOSTID_INCONSISTENT_FORMAT), false},
	{NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_KEEP_ALIVE_EXPIRED), false},
	{NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_KEEP_ALIVE_INVALID), false},
	{NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_ABORTED_PREEMPT), false},
	{NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_SANITIZE_FAILED), false},
	{NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_SANITIZE_IN_PROGRESS), false},
	{NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_SGL_DATA_BLOCK_GRANULARITY_INVALID), false},
	{NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_CMD_NOT_SUPPORTED_IN_CMB), false},
	{NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_NS_WRITE_PROTECTED), false},
	{NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_COMMAND_INTERRUPTED), false},
	{NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_TRANSIENT_TRANSPORT_ERROR), false},
	{NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_LBA_OUT_OF_RANGE), false},
	{NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_CAPACITY_EXCEEDED), false},
	{NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_NS_NOT_READY), false},
	{NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_RESERVATION_CONFLICT), false},
	{NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_FORMAT_IN_PROGRESS), false},
	{NVME_STATUS(NVME_SCT_COMMAND_SPECIFIC, NVME_SC_COMPLETION_QUEUE_INVALID), false},
	{NVME_STATUS(NVME_SCT_COMMAND_SPECIFIC, NVME_SC_INVALID_QUEUE_IDENTIFIER), false},
	{NVME_STATUS(NVME_SCT_COMMAND_SPECIFIC, NVME_SC_INVALID_QUEUE_SIZE), false},
	{NVME_STATUS(NVME_SCT_COMMAND_SPECIFIC, NVME_SC_ABORT_COMMAND_LIMIT_EXCEEDED), false},
	{NVME_STATUS(NVME_SCT_COMMAND_SPECIFIC, NVME_SC_ASYNC_EVENT_REQUEST_LIMIT_EXCEEDED), false},
	{NVME_STATUS(NVME_SCT_COMMAND_SPECIFIC, NVME_SC_INVALID_FIRMWARE_SLOT), false},
	{NVME_STATUS(NVME_SCT_COMMAND_SPECIFIC, NVME_SC_INVALID_FIRMWARE_IMAGE), false},
	{NVME_STATUS(NVME_SCT_COMMAND_SPECIFIC, NVME_SC_INVALID_INTERRUPT_VECTOR), false},
	{NVME_STATUS(NVME_SCT_COMMAND_SPECIFIC, NVME_SC_INVALID_LOG_PAGE), false},
	{NVME_STATUS(NVME_SCT_COMMAND_SPECIFIC, NVME_SC_INVALID_FORMAT), false},
	{NVME_STATUS(NVME_SCT_COMMAND_SPECIFIC, NVME_SC_FW_ACTIVATION_REQUIRES_RESET), false},
	{NVME_STATUS(NVME_SCT_COMMAND_SPECIFIC, NVME_SC_INVALID_QUEUE_DELETION), false},
	{NVME_STATUS(NVME_SCT_COMMAND_SPECIFIC, NVME_SC_FEATURE_NOT_SAVEABLE), false},
	{NVME_STATUS(NVME_SCT_COMMAND_SPECIFIC, NVME_SC_FEATURE_NOT_CHANGEABLE), false},
	{NVME_STATUS(NVME_SCT_COMMAND_SPECIFIC, NVME_SC_FEATURE_NOT_NS_SPECIFIC), false},
	{NVME_STATUS(NVME_SCT_COMMAND_SPECIFIC, NVME_SC_NS_ID_UNAVAILABLE), false},
	{NVME_STATUS(NVME_SCT_COMMAND_SPECIFIC, NVME_SC_NS_ALREADY_ATTACHED), false},
	{NVME_STATUS(NVME_SCT_COMMAND_SPECIFIC, NVME_SC_NS_NOT_ATTACHED), false},
	{NVME_STATUS(NVME_SCT_COMMAND_SPECIFIC, NVME_SC_INVALID_CTRL_ID), false},
	{NVME_STATUS(NVME_SCT_COMMAND_SPECIFIC, NVME_SC_CONFLICTING_ATTRIBUTES), false},
	{NVME_STATUS(NVME_SCT_COMMAND_SPECIFIC, NVME_SC_INVALID_PROTECTION_INFO), false},
	{NVME_STATUS(NVME_SCT_COMMAND_SPECIFIC, NVME_SC_ATTEMPTED_WRITE_TO_RO_RANGE), false},
	{NVME_STATUS(NVME_SCT_COMMAND_SPECIFIC, NVME_SC_CONNECT_INCOMPATIBLE_FORMAT), true},
	{NVME_STATUS(NVME_SCT_COMMAND_SPECIFIC, NVME_SC_CONNECT_CONTROLLER_BUSY), true},
	{NVME_STATUS(NVME_SCT_COMMAND_SPECIFIC, NVME_SC_CONNECT_INVALID_PARAMETERS), true},
	{NVME_STATUS(NVME_SCT_COMMAND_SPECIFIC, NVME_SC_CONNECT_RESTART_DISCOVERY), true},
	{NVME_STATUS(NVME_SCT_COMMAND_SPECIFIC, NVME_SC_CONNECT_INVALID_HOST), true},
	{NVME_STATUS(NVME_SCT_COMMAND_SPECIFIC, NVME_SC_DISCOVER_RESTART), true},
	{NVME_STATUS(NVME_SCT_COMMAND_SPECIFIC, NVME_SC_AUTH_REQUIRED), true},
	{NVME_STATUS(NVME_SCT_MEDIA_ERROR, NVME_SC_WRITE_FAULT), false},
	{NVME_STATUS(NVME_SCT_MEDIA_ERROR, NVME_SC_UNRECOVERED_READ_ERROR), false},
	{NVME_STATUS(NVME_SCT_MEDIA_ERROR, NVME_SC_GUARD_CHECK_ERROR), false},
	{NVME_STATUS(NVME_SCT_MEDIA_ERROR, NVME_SC_APPLICATION_TAG_CHECK_ERROR), false},
	{NVME_STATUS(NVME_SCT_MEDIA_ERROR, NVME_SC_REFERENCE_TAG_CHECK_ERROR), false},
	{NVME_STATUS(NVME_SCT_MEDIA_ERROR, NVME_SC_COMPARE_FAILURE), false},
	{NVME_STATUS(NVME_SCT_MEDIA_ERROR, NVME_SC_ACCESS_DENIED), false},
	{NVME_STATUS(NVME_SCT_MEDIA_ERROR, NVME_SC_DEALLOCATED_OR_UNWRITTEN_BLOCK), false},
	{NVME_STATUS(NVME_SCT_PATH, NVME_SC_INTERNAL_PATH_ERROR), false},
	{NVME_STATUS(NVME_SCT_PATH, NVME_SC_ASYMMETRIC_ACCESS_PERSISTENT_LOSS), false},
	{NVME_STATUS(NVME_SCT_PATH, NVME_SC_ASYMMETRIC_ACCESS_INACCESSIBLE), false},
	{NVME_STATUS(NVME_SCT_PATH, NVME_SC_ASYMMETRIC_ACCESS_TRANSITION), false},
	{NVME_STATUS(NVME_SCT_PATH, NVME_SC_CONTROLLER_PATHING_ERROR), false},
	{NVME_STATUS(NVME_SCT_PATH, NVME_SC_HOST_PATHING_ERROR), false},
	{NVME_STATUS(NVME_SCT_PATH, NVME_SC_ABORTED_BY_HOST), false},
};

static const uint8_t feature_ids[] = {
	NVME_FEAT_ARBITRATION,  NVME_FEAT_POWER_MGMT,     NVME_FEAT_LBA_RANGE,
	NVME_FEAT_TEMP_THRESH,  NVME_FEAT_ERR_RECOVERY,   NVME_FEAT_VOLATILE_WC,
	NVME_FEAT_NUM_QUEUES,   NVME_FEAT_IRQ_COALESCE,   NVME_FEAT_IRQ_CONFIG,
	NVME_FEAT_WRITE_ATOMIC, NVME_FEAT_ASYNC_EVENT,    NVME_FEAT_AUTO_PST,
	NVME_FEAT_HOST_MEM_BUF, NVME_FEAT_TIMESTAMP,      NVME_FEAT_KATO,
	NVME_FEAT_HCTM,         NVME_FEAT_NOPSC,          NVME_FEAT_RRL,
	NVME_FEAT_PLM_CONFIG,   NVME_FEAT_PLM_WINDOW,     NVME_FEAT_HOST_BEHAVIOR,
	NVME_FEAT_SANITIZE,     NVME_FEAT_ENDURANCE_EVT,  NVME_FEAT_SW_PROGRESS,
	NVME_FEAT_HOST_ID,      NVME_FEAT_RESV_MASK,      NVME_FEAT_RESV_PERSIST,
	NVME_FEAT_WRITE_PROTECT,
};

static const uint8_t log_ids[] = {
	NVME_LOG_SUPPORTED,        NVME_LOG_ERROR,          NVME_LOG_SMART,
	NVME_LOG_FW_SLOT,          NVME_LOG_CHANGED_NS,     NVME_LOG_CMD_EFFECTS,
	NVME_LOG_DEVICE_SELF_TEST, NVME_LOG_TELEMETRY_HOST, NVME_LOG_TELEMETRY_CTRL,
	NVME_LOG_ENDURANCE_GROUP,  NVME_LOG_ANA,            NVME_LOG_DISCOVERY,
	NVME_LOG_RESERVATION,      NVME_LOG_SANITIZE,
};

static const uint8_t cns_values[] = {
	NVME_CNS_NS,           NVME_CNS_CTRL,          NVME_CNS_ACTIVE_NS_LIST,
	NVME_CNS_NS_DESC_LIST, NVME_CNS_NVMSET_LIST,   NVME_CNS_CSI_NS,
	NVME_CNS_CSI_CTRL,     NVME_CNS_CSI_ACTIVE_NS_LIST, NVME_CNS_ALLOCATED_NS_LIST,
	NVME_CNS_ALLOCATED_NS, NVME_CNS_NS_CTRL_LIST,  NVME_CNS_CTRL_LIST,
};

static const uint8_t pdu_types[] = {
	NVME_TCP_ICREQ, NVME_TCP_ICRESP,   NVME_TCP_H2C_TERM, NVME_TCP_C2H_TERM, NVME_TCP_CMD,
	NVME_TCP_RSP,   NVME_TCP_H2C_DATA, NVME_TCP_C2H_DATA, NVME_TCP_R2T,
};

static const uint32_t registers[] = {
	NVME_REG_CAP, NVME_REG_VS,  NVME_REG_INTMS, NVME_REG_INTMC,  NVME_REG_CC,
	NVME_REG_CSTS, NVME_REG_NSSR, NVME_REG_AQA, NVME_REG_ASQ, NVME_REG_ACQ,
	NVME_REG_CMBLOC, NVME_REG_CMBSZ, NVME_REG_DBS,
};

static const uint8_t aen_types[] = {
	NVME_AER_TYPE_ERROR, NVME_AER_TYPE_SMART, NVME_AER_TYPE_NOTICE,
	NVME_AER_TYPE_IO_CMD_SET, NVME_AER_TYPE_VENDOR,
};

static const uint16_t tcp_fes_values[] = {
	NVME_TCP_FES_INVALID_PDU_HDR,   NVME_TCP_FES_PDU_SEQ_ERR,
	NVME_TCP_FES_HDR_DIGEST_ERR,    NVME_TCP_FES_DATA_OUT_OF_RANGE,
	NVME_TCP_FES_R2T_LIMIT_EXCEEDED, NVME_TCP_FES_UNSUPPORTED_PARAM,
};

static bool is_known(const char *name)
{
	return name && name[0] && strcmp(name, "Unknown") != 0 &&
	       strcmp(name, "Vendor Specific") != 0;
}

static bool is_known_status(const char *name)
{
	return name && name[0] && !strstr(name, "UNKNOWN") && strcmp(name, "VENDOR SPECIFIC") != 0;
}

/* ---- Every defined value has a name ----------------------------------- */

static void test_defined_values_named(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(admin_opcodes); i++) {
		const char *n = nvme_admin_opc_name(admin_opcodes[i]);

		if (!is_known(n))
			fail_msg("admin opcode 0x%02x unnamed (%s)", admin_opcodes[i], n);
	}
	for (size_t i = 0; i < ARRAY_SIZE(io_opcodes); i++) {
		const char *n = nvme_io_opc_name(io_opcodes[i]);

		if (!is_known(n))
			fail_msg("io opcode 0x%02x unnamed (%s)", io_opcodes[i], n);
	}
	for (size_t i = 0; i < ARRAY_SIZE(fabrics_types); i++) {
		if (!is_known(nvme_fabrics_type_name(fabrics_types[i])))
			fail_msg("fctype 0x%02x unnamed", fabrics_types[i]);
		if (!is_known(nvme_opc_name(true, NVME_ADM_FABRICS, fabrics_types[i])))
			fail_msg("fabrics opc name for fctype 0x%02x", fabrics_types[i]);
	}
	for (size_t i = 0; i < ARRAY_SIZE(statuses); i++) {
		uint16_t s = statuses[i].status;
		const char *n = statuses[i].fabrics ? nvme_status_name_ex(s, true, NVME_ADM_FABRICS)
						    : nvme_status_name(s);

		if (!is_known_status(n))
			fail_msg("status 0x%03x unnamed (%s)", s, n);
		/* Status texts are uppercase. */
		for (const char *p = n; *p; p++)
			assert_false(islower((unsigned char)*p));
	}
	for (size_t i = 0; i < ARRAY_SIZE(feature_ids); i++)
		if (!is_known(nvme_feature_name(feature_ids[i])))
			fail_msg("feature 0x%02x unnamed", feature_ids[i]);
	for (size_t i = 0; i < ARRAY_SIZE(log_ids); i++)
		if (!is_known(nvme_log_page_name(log_ids[i])))
			fail_msg("log page 0x%02x unnamed", log_ids[i]);
	for (size_t i = 0; i < ARRAY_SIZE(cns_values); i++)
		if (!is_known(nvme_cns_name(cns_values[i])))
			fail_msg("cns 0x%02x unnamed", cns_values[i]);
	for (size_t i = 0; i < ARRAY_SIZE(pdu_types); i++)
		if (!is_known(nvme_tcp_pdu_name(pdu_types[i])))
			fail_msg("pdu type 0x%02x unnamed", pdu_types[i]);
	for (size_t i = 0; i < ARRAY_SIZE(registers); i++)
		if (!is_known(nvme_reg_name(registers[i])))
			fail_msg("register 0x%x unnamed", registers[i]);
	for (size_t i = 0; i < ARRAY_SIZE(aen_types); i++)
		assert_true(strcmp(nvme_aen_type_name(aen_types[i]), "Unknown") != 0);
	for (size_t i = 0; i < ARRAY_SIZE(tcp_fes_values); i++)
		if (!is_known(nvme_tcp_fes_name(tcp_fes_values[i])))
			fail_msg("fes 0x%x unnamed", tcp_fes_values[i]);
	assert_true(is_known(nvme_aen_info_name(NVME_AER_TYPE_NOTICE, NVME_AER_NOTICE_DISC_CHANGED)));
	assert_true(is_known(nvme_aen_info_name(NVME_AER_TYPE_ERROR, NVME_AER_ERR_FW_IMAGE_LOAD)));
	assert_true(is_known(nvme_aen_info_name(NVME_AER_TYPE_SMART, NVME_AER_SMART_SPARE_THRESH)));
}

/* No lookup ever returns NULL or an empty string, whatever the input. */
static void test_never_null(void **state)
{
	(void)state;
	for (unsigned v = 0; v < 256; v++) {
		uint8_t b = (uint8_t)v;
		const char *all[] = {
			nvme_admin_opc_name(b),        nvme_io_opc_name(b),
			nvme_fabrics_type_name(b),     nvme_opc_name(true, b, b),
			nvme_opc_name(false, b, b),    nvme_opc_name(true, NVME_ADM_FABRICS, b),
			nvme_sct_name(b),              nvme_feature_name(b),
			nvme_log_page_name(b),         nvme_cns_name(b),
			nvme_tcp_pdu_name(b),          nvme_aen_type_name(b),
			nvme_aen_info_name(b, b),      nvme_tcp_fes_name(b),
			nvme_reg_name(v),              nvme_reg_name(v * 0x1000001u),
		};
		for (size_t i = 0; i < ARRAY_SIZE(all); i++) {
			assert_non_null(all[i]);
			assert_true(all[i][0] != '\0');
		}
	}
	for (uint32_t s = 0; s <= 0xffff; s++) {
		assert_non_null(nvme_status_name((uint16_t)s));
		assert_non_null(nvme_status_name_ex((uint16_t)s, true, NVME_ADM_FABRICS));
		assert_non_null(nvme_status_name_ex((uint16_t)s, false, NVME_IO_WRITE));
	}
	assert_string_equal(nvme_reg_name(UINT32_MAX), "Doorbell");
	assert_string_equal(nvme_tcp_fes_name(UINT16_MAX), "Unknown");
}

/* ---- Exact strings ------------------------------------------------------- */

static void test_opcode_strings(void **state)
{
	(void)state;
	assert_string_equal(nvme_io_opc_name(NVME_IO_WRITE), "Write");
	assert_string_equal(nvme_io_opc_name(NVME_IO_READ), "Read");
	assert_string_equal(nvme_io_opc_name(NVME_IO_FLUSH), "Flush");
	assert_string_equal(nvme_io_opc_name(NVME_IO_WRITE_ZEROES), "Write Zeroes");
	assert_string_equal(nvme_io_opc_name(NVME_IO_DATASET_MANAGEMENT), "Dataset Management");
	assert_string_equal(nvme_io_opc_name(NVME_IO_COMPARE), "Compare");
	assert_string_equal(nvme_io_opc_name(NVME_IO_WRITE_UNCORRECTABLE), "Write Uncorrectable");
	assert_string_equal(nvme_admin_opc_name(NVME_ADM_IDENTIFY), "Identify");
	assert_string_equal(nvme_admin_opc_name(NVME_ADM_GET_LOG_PAGE), "Get Log Page");
	assert_string_equal(nvme_admin_opc_name(NVME_ADM_FABRICS), "Fabrics");
	assert_string_equal(nvme_admin_opc_name(NVME_ADM_FORMAT_NVM), "Format NVM");
	assert_string_equal(nvme_admin_opc_name(NVME_ADM_CREATE_IO_SQ), "Create IO SQ");
	assert_string_equal(nvme_admin_opc_name(NVME_ADM_CREATE_IO_CQ), "Create IO CQ");

	/* Unknown and vendor specific ranges */
	assert_string_equal(nvme_admin_opc_name(0x03), "Unknown");
	assert_string_equal(nvme_admin_opc_name(0xbf), "Unknown");
	assert_string_equal(nvme_admin_opc_name(0xc0), "Vendor Specific");
	assert_string_equal(nvme_admin_opc_name(0xff), "Vendor Specific");
	assert_string_equal(nvme_io_opc_name(0x03), "Unknown");
	assert_string_equal(nvme_io_opc_name(0x80), "Vendor Specific");
	assert_string_equal(nvme_io_opc_name(0xff), "Vendor Specific");

	/* Fabrics */
	assert_string_equal(nvme_fabrics_type_name(NVME_FCTYPE_CONNECT), "Connect");
	assert_string_equal(nvme_fabrics_type_name(NVME_FCTYPE_PROPERTY_GET), "Property Get");
	assert_string_equal(nvme_fabrics_type_name(NVME_FCTYPE_PROPERTY_SET), "Property Set");
	assert_string_equal(nvme_fabrics_type_name(NVME_FCTYPE_DISCONNECT), "Disconnect");
	assert_string_equal(nvme_fabrics_type_name(NVME_FCTYPE_AUTH_SEND), "Authentication Send");
	assert_string_equal(nvme_fabrics_type_name(NVME_FCTYPE_AUTH_RECEIVE),
			    "Authentication Receive");
	assert_string_equal(nvme_fabrics_type_name(0x02), "Unknown");
	assert_string_equal(nvme_opc_name(true, NVME_ADM_FABRICS, NVME_FCTYPE_CONNECT), "Connect");
	assert_string_equal(nvme_opc_name(false, NVME_ADM_FABRICS, NVME_FCTYPE_CONNECT), "Connect");
	assert_string_equal(nvme_opc_name(true, NVME_ADM_FABRICS, NVME_FCTYPE_PROPERTY_GET),
			    "Property Get");
	assert_string_equal(nvme_opc_name(true, NVME_ADM_FABRICS, 0x42), "Fabrics");
	assert_string_equal(nvme_opc_name(true, NVME_ADM_IDENTIFY, NVME_FCTYPE_CONNECT), "Identify");
	assert_string_equal(nvme_opc_name(false, NVME_IO_WRITE, 0), "Write");
	assert_string_equal(nvme_opc_name(true, 0x01, 0), "Create IO SQ");
	assert_string_equal(nvme_opc_name(false, 0x01, 0), "Write");
}

static void test_status_strings(void **state)
{
	(void)state;
	assert_string_equal(nvme_status_name(0), "SUCCESS");
	assert_string_equal(nvme_status_name(NVME_STATUS(0, NVME_SC_INVALID_OPCODE)),
			    "INVALID OPCODE");
	assert_string_equal(nvme_status_name(NVME_STATUS(0, NVME_SC_INVALID_FIELD)),
			    "INVALID FIELD");
	assert_string_equal(nvme_status_name(NVME_STATUS(0, NVME_SC_DATA_TRANSFER_ERROR)),
			    "DATA TRANSFER ERROR");
	assert_string_equal(nvme_status_name(NVME_STATUS(0, NVME_SC_INVALID_NAMESPACE_OR_FORMAT)),
			    "INVALID NAMESPACE OR FORMAT");
	assert_string_equal(nvme_status_name(NVME_STATUS(0, NVME_SC_LBA_OUT_OF_RANGE)),
			    "LBA OUT OF RANGE");
	assert_string_equal(nvme_status_name(NVME_STATUS(1, 0x82)), "WRITE TO RO PAGE");
	assert_string_equal(nvme_status_name(NVME_STATUS(1, NVME_SC_INVALID_LOG_PAGE)),
			    "INVALID LOG PAGE");
	assert_string_equal(nvme_status_name(NVME_STATUS(1, NVME_SC_INVALID_QUEUE_IDENTIFIER)),
			    "INVALID QUEUE IDENTIFIER");
	assert_string_equal(nvme_status_name(NVME_STATUS(2, NVME_SC_COMPARE_FAILURE)),
			    "COMPARE FAILURE");
	assert_string_equal(nvme_status_name(NVME_STATUS(2, NVME_SC_UNRECOVERED_READ_ERROR)),
			    "UNRECOVERED READ ERROR");

	/* SCT 1, 80h-84h: the command decides. */
	uint16_t s82 = NVME_STATUS(NVME_SCT_COMMAND_SPECIFIC, 0x82);
	assert_string_equal(nvme_status_name_ex(s82, true, NVME_ADM_FABRICS),
			    "CONNECT INVALID PARAMETERS");
	assert_string_equal(nvme_status_name_ex(s82, false, NVME_ADM_FABRICS),
			    "CONNECT INVALID PARAMETERS");
	assert_string_equal(nvme_status_name_ex(s82, false, NVME_IO_WRITE), "WRITE TO RO PAGE");
	assert_string_equal(nvme_status_name_ex(s82, true, NVME_ADM_IDENTIFY), "WRITE TO RO PAGE");
	assert_string_equal(nvme_status_name_ex(NVME_STATUS(1, 0x80), true, NVME_ADM_FABRICS),
			    "CONNECT INCOMPATIBLE FORMAT");
	assert_string_equal(nvme_status_name_ex(NVME_STATUS(1, 0x80), false, NVME_IO_WRITE),
			    "CONFLICTING ATTRIBUTES");
	assert_string_equal(nvme_status_name_ex(NVME_STATUS(1, 0x84), true, NVME_ADM_FABRICS),
			    "CONNECT INVALID HOST");
	/* 84h has no NVM meaning: it must not borrow the Fabrics one. */
	assert_string_equal(nvme_status_name_ex(NVME_STATUS(1, 0x84), false, NVME_IO_WRITE),
			    "COMMAND SPECIFIC UNKNOWN");
	assert_string_equal(nvme_status_name(NVME_STATUS(1, 0x84)), "COMMAND SPECIFIC UNKNOWN");
	/* Codes below 80h are the same for every command. */
	assert_string_equal(
		nvme_status_name_ex(NVME_STATUS(1, NVME_SC_INVALID_QUEUE_IDENTIFIER), true,
				    NVME_ADM_FABRICS),
		"INVALID QUEUE IDENTIFIER");
	/* A generic status is not affected by the Fabrics context. */
	assert_string_equal(nvme_status_name_ex(NVME_STATUS(0, NVME_SC_INVALID_FIELD), true,
					       NVME_ADM_FABRICS),
			    "INVALID FIELD");

	/* Unknown codes, per status code type */
	assert_string_equal(nvme_status_name(NVME_STATUS(0, 0x7e)), "GENERIC UNKNOWN");
	assert_string_equal(nvme_status_name(NVME_STATUS(1, 0x7e)), "COMMAND SPECIFIC UNKNOWN");
	assert_string_equal(nvme_status_name(NVME_STATUS(2, 0x00)), "MEDIA ERROR UNKNOWN");
	assert_string_equal(nvme_status_name(NVME_STATUS(3, 0x50)), "PATH UNKNOWN");
	assert_string_equal(nvme_status_name(NVME_STATUS(7, 0x00)), "VENDOR SPECIFIC");
	assert_string_equal(nvme_status_name(NVME_STATUS(0, 0xc5)), "VENDOR SPECIFIC");
	assert_string_equal(nvme_status_name(NVME_STATUS(4, 0x01)), "UNKNOWN");

	assert_string_equal(nvme_sct_name(NVME_SCT_GENERIC), "GENERIC");
	assert_string_equal(nvme_sct_name(NVME_SCT_COMMAND_SPECIFIC), "COMMAND SPECIFIC");
	assert_string_equal(nvme_sct_name(NVME_SCT_MEDIA_ERROR), "MEDIA ERROR");
	assert_string_equal(nvme_sct_name(NVME_SCT_PATH), "PATH RELATED");
	assert_string_equal(nvme_sct_name(NVME_SCT_VENDOR), "VENDOR SPECIFIC");
	assert_string_equal(nvme_sct_name(5), "RESERVED");
	assert_string_equal(nvme_sct_name(8), "UNKNOWN");
}

/* DNR, More and CRD bits never change the name. */
static void test_status_flags_ignored(void **state)
{
	(void)state;
	const uint16_t flags[] = {
		NVME_STATUS_DNR,
		NVME_STATUS_MORE,
		(uint16_t)(3u << 11), /* CRD */
		(uint16_t)(NVME_STATUS_DNR | NVME_STATUS_MORE | (1u << 11)),
	};

	assert_string_equal(nvme_status_name(NVME_STATUS(0, NVME_SC_INVALID_FIELD) | NVME_STATUS_DNR),
			    "INVALID FIELD");
	for (size_t i = 0; i < ARRAY_SIZE(statuses); i++) {
		uint16_t s = statuses[i].status;

		for (size_t f = 0; f < ARRAY_SIZE(flags); f++) {
			uint16_t sf = (uint16_t)(s | flags[f]);

			assert_string_equal(nvme_status_name(sf), nvme_status_name(s));
			assert_string_equal(nvme_status_name_ex(sf, true, NVME_ADM_FABRICS),
					    nvme_status_name_ex(s, true, NVME_ADM_FABRICS));
			assert_string_equal(nvme_status_name_ex(sf, false, NVME_IO_READ),
					    nvme_status_name_ex(s, false, NVME_IO_READ));
		}
	}
	assert_string_equal(
		nvme_status_name_ex(NVME_STATUS(1, NVME_SC_CONNECT_INVALID_PARAMETERS) |
					    NVME_STATUS_DNR,
				    true, NVME_ADM_FABRICS),
		"CONNECT INVALID PARAMETERS");
}

static void test_other_strings(void **state)
{
	(void)state;
	assert_string_equal(nvme_feature_name(NVME_FEAT_ARBITRATION), "Arbitration");
	assert_string_equal(nvme_feature_name(NVME_FEAT_VOLATILE_WC), "Volatile Write Cache");
	assert_string_equal(nvme_feature_name(NVME_FEAT_NUM_QUEUES), "Number of Queues");
	assert_string_equal(nvme_feature_name(NVME_FEAT_ASYNC_EVENT), "Async Event Configuration");
	assert_string_equal(nvme_feature_name(NVME_FEAT_KATO), "Keep Alive Timer");
	assert_string_equal(nvme_feature_name(NVME_FEAT_HOST_ID), "Host Identifier");
	assert_string_equal(nvme_feature_name(NVME_FEAT_SW_PROGRESS), "Software Progress Marker");
	assert_string_equal(nvme_feature_name(0x00), "Unknown");
	assert_string_equal(nvme_feature_name(0xc0), "Vendor Specific");

	assert_string_equal(nvme_log_page_name(NVME_LOG_ERROR), "Error Information");
	assert_string_equal(nvme_log_page_name(NVME_LOG_SMART), "SMART / Health Information");
	assert_string_equal(nvme_log_page_name(NVME_LOG_FW_SLOT), "Firmware Slot Information");
	assert_string_equal(nvme_log_page_name(NVME_LOG_CHANGED_NS), "Changed Namespace List");
	assert_string_equal(nvme_log_page_name(NVME_LOG_CMD_EFFECTS),
			    "Commands Supported and Effects");
	assert_string_equal(nvme_log_page_name(NVME_LOG_DISCOVERY), "Discovery");
	assert_string_equal(nvme_log_page_name(0x60), "Unknown");
	assert_string_equal(nvme_log_page_name(0xd0), "Vendor Specific");

	assert_string_equal(nvme_cns_name(NVME_CNS_CTRL), "Identify Controller");
	assert_string_equal(nvme_cns_name(NVME_CNS_NS), "Identify Namespace");
	assert_string_equal(nvme_cns_name(0xff), "Unknown");

	assert_string_equal(nvme_tcp_pdu_name(NVME_TCP_ICREQ), "ICReq");
	assert_string_equal(nvme_tcp_pdu_name(NVME_TCP_ICRESP), "ICResp");
	assert_string_equal(nvme_tcp_pdu_name(NVME_TCP_H2C_TERM), "H2CTermReq");
	assert_string_equal(nvme_tcp_pdu_name(NVME_TCP_C2H_TERM), "C2HTermReq");
	assert_string_equal(nvme_tcp_pdu_name(NVME_TCP_CMD), "CapsuleCmd");
	assert_string_equal(nvme_tcp_pdu_name(NVME_TCP_RSP), "CapsuleResp");
	assert_string_equal(nvme_tcp_pdu_name(NVME_TCP_H2C_DATA), "H2CData");
	assert_string_equal(nvme_tcp_pdu_name(NVME_TCP_C2H_DATA), "C2HData");
	assert_string_equal(nvme_tcp_pdu_name(NVME_TCP_R2T), "R2T");
	assert_string_equal(nvme_tcp_pdu_name(0x08), "Unknown");
	assert_string_equal(nvme_tcp_pdu_name(0xff), "Unknown");

	assert_string_equal(nvme_reg_name(NVME_REG_CAP), "CAP");
	assert_string_equal(nvme_reg_name(NVME_REG_VS), "VS");
	assert_string_equal(nvme_reg_name(NVME_REG_INTMS), "INTMS");
	assert_string_equal(nvme_reg_name(NVME_REG_INTMC), "INTMC");
	assert_string_equal(nvme_reg_name(NVME_REG_CC), "CC");
	assert_string_equal(nvme_reg_name(NVME_REG_CSTS), "CSTS");
	assert_string_equal(nvme_reg_name(NVME_REG_NSSR), "NSSR");
	assert_string_equal(nvme_reg_name(NVME_REG_AQA), "AQA");
	assert_string_equal(nvme_reg_name(NVME_REG_ASQ), "ASQ");
	assert_string_equal(nvme_reg_name(NVME_REG_ACQ), "ACQ");
	assert_string_equal(nvme_reg_name(0x04), "Unknown");
	assert_string_equal(nvme_reg_name(0x1008), "Doorbell");

	assert_string_equal(nvme_aen_type_name(NVME_AER_TYPE_NOTICE), "Notice");
	assert_string_equal(nvme_aen_type_name(3), "Unknown");
	assert_string_equal(nvme_aen_info_name(NVME_AER_TYPE_NOTICE, NVME_AER_NOTICE_NS_CHANGED),
			    "Namespace Attribute Changed");
	assert_string_equal(nvme_aen_info_name(NVME_AER_TYPE_NOTICE, 0x80), "Unknown");
	assert_string_equal(nvme_tcp_fes_name(NVME_TCP_FES_HDR_DIGEST_ERR), "Header Digest Error");
	assert_string_equal(nvme_tcp_fes_name(0), "Unknown");
}

/* ---- Parsing --------------------------------------------------------------- */

/* Parse text expecting (admin, opc) with return value 0. */
static void expect_parse(const char *text, bool want_admin, uint8_t want_opc)
{
	bool admin = !want_admin;
	uint8_t opc = (uint8_t)~want_opc;
	int rc = nvme_opc_parse(text, &admin, &opc);

	if (rc != 0 || admin != want_admin || opc != want_opc)
		fail_msg("parse \"%s\": rc %d admin %d opc 0x%02x, want admin %d opc 0x%02x", text,
			 rc, admin, opc, want_admin, want_opc);
}

static void expect_parse_fails(const char *text)
{
	bool admin = true;
	uint8_t opc = 0x5a;
	int rc = nvme_opc_parse(text, &admin, &opc);

	if (rc != -1)
		fail_msg("parse \"%s\" should fail, got rc %d opc 0x%02x", text ? text : "(null)",
			 rc, opc);
	/* Outputs untouched on failure */
	assert_true(admin);
	assert_int_equal(opc, 0x5a);
}

/* Rewrite a display name: lowercase, separators replaced by sep (0: dropped). */
static void compact(const char *name, char sep, char *out, size_t size)
{
	size_t n = 0;

	for (; *name && n + 1 < size; name++) {
		if (*name == ' ' || *name == '-' || *name == '/') {
			if (sep)
				out[n++] = sep;
		} else {
			out[n++] = (char)tolower((unsigned char)*name);
		}
	}
	out[n] = '\0';
}

static void round_trip(bool admin, uint8_t opc, const char *name)
{
	char buf[96];

	expect_parse(name, admin, opc);
	compact(name, 0, buf, sizeof(buf));
	expect_parse(buf, admin, opc);
	compact(name, '-', buf, sizeof(buf));
	expect_parse(buf, admin, opc);
	compact(name, '_', buf, sizeof(buf));
	expect_parse(buf, admin, opc);
	for (char *p = buf; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	expect_parse(buf, admin, opc);
	snprintf(buf, sizeof(buf), "%s:%s", admin ? "admin" : "io", name);
	expect_parse(buf, admin, opc);
}

static void test_parse_round_trip(void **state)
{
	unsigned admin_count = 0, io_count = 0;

	(void)state;
	for (unsigned v = 0; v < 256; v++) {
		const char *name = nvme_admin_opc_name((uint8_t)v);

		if (!is_known(name))
			continue;
		round_trip(true, (uint8_t)v, name);
		admin_count++;
	}
	for (unsigned v = 0; v < 256; v++) {
		const char *name = nvme_io_opc_name((uint8_t)v);

		if (!is_known(name))
			continue;
		io_count++;
		if (v == NVME_ADM_FABRICS) {
			/* The one name in both sets resolves to admin unless told. */
			expect_parse(name, true, NVME_ADM_FABRICS);
			expect_parse("io:fabrics", false, NVME_ADM_FABRICS);
			continue;
		}
		round_trip(false, (uint8_t)v, name);
	}
	/* Every listed opcode took part. */
	assert_true(admin_count >= ARRAY_SIZE(admin_opcodes));
	assert_true(io_count >= ARRAY_SIZE(io_opcodes));
	for (size_t i = 0; i < ARRAY_SIZE(admin_opcodes); i++)
		expect_parse(nvme_admin_opc_name(admin_opcodes[i]), true, admin_opcodes[i]);
	for (size_t i = 0; i < ARRAY_SIZE(io_opcodes); i++)
		expect_parse(nvme_io_opc_name(io_opcodes[i]), false, io_opcodes[i]);
}

static void test_parse_forms(void **state)
{
	(void)state;
	expect_parse("write", false, NVME_IO_WRITE);
	expect_parse("WRITE", false, NVME_IO_WRITE);
	expect_parse("Read", false, NVME_IO_READ);
	expect_parse("flush", false, NVME_IO_FLUSH);
	expect_parse("identify", true, NVME_ADM_IDENTIFY);
	expect_parse("get-log-page", true, NVME_ADM_GET_LOG_PAGE);
	expect_parse("getlogpage", true, NVME_ADM_GET_LOG_PAGE);
	expect_parse("Get Log Page", true, NVME_ADM_GET_LOG_PAGE);
	expect_parse("get-log", true, NVME_ADM_GET_LOG_PAGE);
	expect_parse("write_zeroes", false, NVME_IO_WRITE_ZEROES);
	expect_parse("dsm", false, NVME_IO_DATASET_MANAGEMENT);
	expect_parse("DSM", false, NVME_IO_DATASET_MANAGEMENT);
	expect_parse("format", true, NVME_ADM_FORMAT_NVM);
	expect_parse("create-io-cq", true, NVME_ADM_CREATE_IO_CQ);
	expect_parse("write-uncor", false, NVME_IO_WRITE_UNCORRECTABLE);
	expect_parse("resv-report", false, NVME_IO_RESERVATION_REPORT);
	expect_parse("fabrics", true, NVME_ADM_FABRICS);

	/* Fabrics command types name opcode 7Fh */
	expect_parse("connect", true, NVME_ADM_FABRICS);
	expect_parse("Property Get", true, NVME_ADM_FABRICS);
	expect_parse("io:connect", false, NVME_ADM_FABRICS);

	/* Explicit command set */
	expect_parse("admin:identify", true, NVME_ADM_IDENTIFY);
	expect_parse("ADMIN:Identify", true, NVME_ADM_IDENTIFY);
	expect_parse("io:write", false, NVME_IO_WRITE);
	expect_parse("admin:0x80", true, NVME_ADM_FORMAT_NVM);
	expect_parse("io:0x80", false, 0x80);
	expect_parse("io:0", false, NVME_IO_FLUSH);
	expect_parse("admin:0", true, NVME_ADM_DELETE_IO_SQ);
	expect_parse("admin:7Fh", true, NVME_ADM_FABRICS);
	expect_parse("io:255", false, 0xff);
	expect_parse_fails("admin:flush");
	expect_parse_fails("io:identify");
	expect_parse_fails("io:get-log-page");
	expect_parse_fails("admin:dsm");
}

static void test_parse_numbers(void **state)
{
	struct {
		const char *text;
		uint8_t opc;
	} nums[] = {
		{"0x80", 0x80}, {"128", 0x80}, {"80h", 0x80}, {"0X7F", 0x7f}, {"7fH", 0x7f},
		{"0", 0x00},    {"0x0", 0x00}, {"255", 0xff}, {"0xff", 0xff}, {"010", 10},
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(nums); i++) {
		bool admin = true;
		uint8_t opc = 0x5a;

		/* A bare number: 1, *opc set, *admin left as the caller had it. */
		assert_int_equal(nvme_opc_parse(nums[i].text, &admin, &opc), 1);
		assert_int_equal(opc, nums[i].opc);
		assert_true(admin);
		admin = false;
		assert_int_equal(nvme_opc_parse(nums[i].text, &admin, &opc), 1);
		assert_false(admin);
	}
	expect_parse_fails("256");
	expect_parse_fails("0x100");
	expect_parse_fails("0x");
	expect_parse_fails("h");
	expect_parse_fails("-1");
	expect_parse_fails("+1");
	expect_parse_fails("12a");
	expect_parse_fails("0x1g");
	expect_parse_fails(" 1");
	expect_parse_fails("1 ");
	expect_parse_fails("99999999999999999999");
	expect_parse_fails("admin:256");
	expect_parse_fails("admin:");
	expect_parse_fails("io:");
}

static void test_parse_unknown(void **state)
{
	(void)state;
	expect_parse_fails(NULL);
	expect_parse_fails("");
	expect_parse_fails(" ");
	expect_parse_fails("---");
	expect_parse_fails("frobnicate");
	expect_parse_fails("writes");
	expect_parse_fails("wri");
	expect_parse_fails("read write");
	expect_parse_fails("Unknown");
	expect_parse_fails("Vendor Specific");
	expect_parse_fails("write!");
	expect_parse_fails("identify\n");
	expect_parse_fails("other:write");
	expect_parse_fails("admin");
	expect_parse_fails("a very long name that cannot possibly be any opcode at all, really");
}

static void test_fabrics_type_parse(void **state)
{
	uint8_t t = 0xee;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(fabrics_types); i++) {
		t = 0xee;
		assert_int_equal(nvme_fabrics_type_parse(nvme_fabrics_type_name(fabrics_types[i]), &t),
				 0);
		assert_int_equal(t, fabrics_types[i]);
	}
	assert_int_equal(nvme_fabrics_type_parse("property_get", &t), 0);
	assert_int_equal(t, NVME_FCTYPE_PROPERTY_GET);
	assert_int_equal(nvme_fabrics_type_parse("auth-recv", &t), 0);
	assert_int_equal(t, NVME_FCTYPE_AUTH_RECEIVE);
	assert_int_equal(nvme_fabrics_type_parse("0x08", &t), 0);
	assert_int_equal(t, NVME_FCTYPE_DISCONNECT);
	t = 0xee;
	assert_int_equal(nvme_fabrics_type_parse("identify", &t), -1);
	assert_int_equal(nvme_fabrics_type_parse(NULL, &t), -1);
	assert_int_equal(nvme_fabrics_type_parse("", &t), -1);
	assert_int_equal(t, 0xee);
}

static void test_io_opc_has_lba(void **state)
{
	(void)state;
	assert_true(nvme_io_opc_has_lba(NVME_IO_READ));
	assert_true(nvme_io_opc_has_lba(NVME_IO_WRITE));
	assert_true(nvme_io_opc_has_lba(NVME_IO_COMPARE));
	assert_true(nvme_io_opc_has_lba(NVME_IO_WRITE_ZEROES));
	assert_true(nvme_io_opc_has_lba(NVME_IO_WRITE_UNCORRECTABLE));
	assert_false(nvme_io_opc_has_lba(NVME_IO_FLUSH));
	assert_false(nvme_io_opc_has_lba(NVME_IO_DATASET_MANAGEMENT));
	assert_false(nvme_io_opc_has_lba(0x7f));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_io_opc_has_lba),
		cmocka_unit_test(test_defined_values_named),
		cmocka_unit_test(test_never_null),
		cmocka_unit_test(test_opcode_strings),
		cmocka_unit_test(test_status_strings),
		cmocka_unit_test(test_status_flags_ignored),
		cmocka_unit_test(test_other_strings),
		cmocka_unit_test(test_parse_round_trip),
		cmocka_unit_test(test_parse_forms),
		cmocka_unit_test(test_parse_numbers),
		cmocka_unit_test(test_parse_unknown),
		cmocka_unit_test(test_fabrics_type_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

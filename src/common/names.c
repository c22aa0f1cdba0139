/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Name tables for NVMe numbers.  Dense code spaces are arrays indexed by the
 * code (a NULL slot means "no name"); sparse ones are small tables searched
 * linearly.  Everything is const data; nothing allocates.
 */
#include "frankendrive/names.h"

#include <ctype.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "frankendrive/nvme_tcp.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const char unknown[] = "Unknown";
static const char vendor_specific[] = "Vendor Specific";

/* ---- Opcodes ---------------------------------------------------------- */

static const char *const admin_opc_names[256] = {
	[NVME_ADM_DELETE_IO_SQ] = "Delete IO SQ",
	[NVME_ADM_CREATE_IO_SQ] = "Create IO SQ",
	[NVME_ADM_GET_LOG_PAGE] = "Get Log Page",
	[NVME_ADM_DELETE_IO_CQ] = "Delete IO CQ",
	[NVME_ADM_CREATE_IO_CQ] = "Create IO CQ",
	[NVME_ADM_IDENTIFY] = "Identify",
	[NVME_ADM_ABORT] = "Abort",
	[NVME_ADM_SET_FEATURES] = "Set Features",
	[NVME_ADM_GET_FEATURES] = "Get Features",
	[NVME_ADM_ASYNC_EVENT_REQUEST] = "Async Event Request",
	[NVME_ADM_NS_MANAGEMENT] = "Namespace Management",
	[NVME_ADM_FIRMWARE_COMMIT] = "Firmware Commit",
	[NVME_ADM_FIRMWARE_IMAGE_DOWNLOAD] = "Firmware Image Download",
	[NVME_ADM_DEVICE_SELF_TEST] = "Device Self-test",
	[NVME_ADM_NS_ATTACHMENT] = "Namespace Attachment",
	[NVME_ADM_KEEP_ALIVE] = "Keep Alive",
	[NVME_ADM_DIRECTIVE_SEND] = "Directive Send",
	[NVME_ADM_DIRECTIVE_RECEIVE] = "Directive Receive",
	[NVME_ADM_VIRTUALIZATION_MANAGEMENT] = "Virtualization Management",
	[NVME_ADM_NVME_MI_SEND] = "NVMe-MI Send",
	[NVME_ADM_NVME_MI_RECEIVE] = "NVMe-MI Receive",
	[0x20] = "Capacity Management",
	[0x24] = "Lockdown",
	[NVME_ADM_DOORBELL_BUFFER_CONFIG] = "Doorbell Buffer Config",
	[NVME_ADM_FABRICS] = "Fabrics",
	[NVME_ADM_FORMAT_NVM] = "Format NVM",
	[NVME_ADM_SECURITY_SEND] = "Security Send",
	[NVME_ADM_SECURITY_RECEIVE] = "Security Receive",
	[NVME_ADM_SANITIZE] = "Sanitize",
	[NVME_ADM_GET_LBA_STATUS] = "Get LBA Status",
};

static const char *const io_opc_names[256] = {
	[NVME_IO_FLUSH] = "Flush",
	[NVME_IO_WRITE] = "Write",
	[NVME_IO_READ] = "Read",
	[NVME_IO_WRITE_UNCORRECTABLE] = "Write Uncorrectable",
	[NVME_IO_COMPARE] = "Compare",
	[NVME_IO_WRITE_ZEROES] = "Write Zeroes",
	[NVME_IO_DATASET_MANAGEMENT] = "Dataset Management",
	[NVME_IO_VERIFY] = "Verify",
	[NVME_IO_RESERVATION_REGISTER] = "Reservation Register",
	[NVME_IO_RESERVATION_REPORT] = "Reservation Report",
	[NVME_IO_RESERVATION_ACQUIRE] = "Reservation Acquire",
	[NVME_IO_RESERVATION_RELEASE] = "Reservation Release",
	[NVME_IO_COPY] = "Copy",
	/* A Connect for an I/O queue is submitted on that queue. */
	[NVME_ADM_FABRICS] = "Fabrics",
};

static const char *const fabrics_type_names[256] = {
	[NVME_FCTYPE_PROPERTY_SET] = "Property Set",
	[NVME_FCTYPE_CONNECT] = "Connect",
	[NVME_FCTYPE_PROPERTY_GET] = "Property Get",
	[NVME_FCTYPE_AUTH_SEND] = "Authentication Send",
	[NVME_FCTYPE_AUTH_RECEIVE] = "Authentication Receive",
	[NVME_FCTYPE_DISCONNECT] = "Disconnect",
};

const char *nvme_admin_opc_name(uint8_t opc)
{
	if (admin_opc_names[opc])
		return admin_opc_names[opc];
	return opc >= 0xc0 ? vendor_specific : unknown;
}

const char *nvme_io_opc_name(uint8_t opc)
{
	if (io_opc_names[opc])
		return io_opc_names[opc];
	return opc >= 0x80 ? vendor_specific : unknown;
}

const char *nvme_fabrics_type_name(uint8_t fctype)
{
	if (fabrics_type_names[fctype])
		return fabrics_type_names[fctype];
	return fctype >= 0xc0 ? vendor_specific : unknown;
}

const char *nvme_opc_name(bool admin, uint8_t opc, uint8_t fctype)
{
	if (opc == NVME_ADM_FABRICS)
		return fabrics_type_names[fctype] ? fabrics_type_names[fctype] : "Fabrics";
	return admin ? nvme_admin_opc_name(opc) : nvme_io_opc_name(opc);
}

/* ---- Opcode parsing ---------------------------------------------------- */

/* Characters a name may contain that matching ignores. */
static bool is_separator(char c)
{
	return c == ' ' || c == '-' || c == '_' || c == '/';
}

/*
 * Reduce a name to its key: lowercase letters and digits only.  Returns
 * false for an empty key, a character that is neither alphanumeric nor a
 * separator, or a key that does not fit.
 */
static bool name_key(const char *name, char *key, size_t size)
{
	size_t n = 0;

	for (; *name; name++) {
		unsigned char c = (unsigned char)*name;

		if (is_separator((char)c))
			continue;
		if (!isalnum(c) || n + 1 >= size)
			return false;
		key[n++] = (char)tolower(c);
	}
	key[n] = '\0';
	return n > 0;
}

/* Does the display name reduce to key? */
static bool key_matches(const char *key, const char *name)
{
	for (; *name; name++) {
		if (is_separator(*name))
			continue;
		if (*key++ != (char)tolower((unsigned char)*name))
			return false;
	}
	return *key == '\0';
}

static bool table_find(const char *const table[256], const char *key, uint8_t *code)
{
	for (unsigned i = 0; i < 256; i++) {
		if (table[i] && key_matches(key, table[i])) {
			*code = (uint8_t)i;
			return true;
		}
	}
	return false;
}

struct opc_alias {
	const char *key; /* already reduced */
	bool admin;
	uint8_t opc;
};

/* Short forms in the style of nvme-cli's subcommands. */
static const struct opc_alias opc_aliases[] = {
	{"createsq", true, NVME_ADM_CREATE_IO_SQ},
	{"deletesq", true, NVME_ADM_DELETE_IO_SQ},
	{"createcq", true, NVME_ADM_CREATE_IO_CQ},
	{"deletecq", true, NVME_ADM_DELETE_IO_CQ},
	{"getlog", true, NVME_ADM_GET_LOG_PAGE},
	{"getfeature", true, NVME_ADM_GET_FEATURES},
	{"setfeature", true, NVME_ADM_SET_FEATURES},
	{"aer", true, NVME_ADM_ASYNC_EVENT_REQUEST},
	{"nsmgmt", true, NVME_ADM_NS_MANAGEMENT},
	{"nsattach", true, NVME_ADM_NS_ATTACHMENT},
	{"fwcommit", true, NVME_ADM_FIRMWARE_COMMIT},
	{"fwactivate", true, NVME_ADM_FIRMWARE_COMMIT},
	{"fwdownload", true, NVME_ADM_FIRMWARE_IMAGE_DOWNLOAD},
	{"selftest", true, NVME_ADM_DEVICE_SELF_TEST},
	{"dirsend", true, NVME_ADM_DIRECTIVE_SEND},
	{"dirrecv", true, NVME_ADM_DIRECTIVE_RECEIVE},
	{"dirreceive", true, NVME_ADM_DIRECTIVE_RECEIVE},
	{"virtmgmt", true, NVME_ADM_VIRTUALIZATION_MANAGEMENT},
	{"dbbuf", true, NVME_ADM_DOORBELL_BUFFER_CONFIG},
	{"format", true, NVME_ADM_FORMAT_NVM},
	{"securityrecv", true, NVME_ADM_SECURITY_RECEIVE},
	{"dsm", false, NVME_IO_DATASET_MANAGEMENT},
	{"writeuncor", false, NVME_IO_WRITE_UNCORRECTABLE},
	{"resvregister", false, NVME_IO_RESERVATION_REGISTER},
	{"resvreport", false, NVME_IO_RESERVATION_REPORT},
	{"resvacquire", false, NVME_IO_RESERVATION_ACQUIRE},
	{"resvrelease", false, NVME_IO_RESERVATION_RELEASE},
};

struct fctype_alias {
	const char *key;
	uint8_t fctype;
};

static const struct fctype_alias fctype_aliases[] = {
	{"propset", NVME_FCTYPE_PROPERTY_SET},
	{"propget", NVME_FCTYPE_PROPERTY_GET},
	{"authsend", NVME_FCTYPE_AUTH_SEND},
	{"authrecv", NVME_FCTYPE_AUTH_RECEIVE},
	{"authreceive", NVME_FCTYPE_AUTH_RECEIVE},
};

/* "128", "0x80", "80h"; at most 255, nothing else around it. */
static bool parse_u8(const char *s, uint8_t *out)
{
	unsigned v = 0;
	unsigned base = 10;
	size_t len = strlen(s);
	size_t digits = 0;

	if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
		len -= 2;
	} else if (len > 1 && (s[len - 1] == 'h' || s[len - 1] == 'H')) {
		base = 16;
		len--;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		unsigned d;

		if (isdigit(c))
			d = (unsigned)(c - '0');
		else if (base == 16 && isxdigit(c))
			d = (unsigned)(tolower(c) - 'a' + 10);
		else
			return false;
		v = v * base + d;
		if (v > 0xff)
			return false;
		digits++;
	}
	if (digits == 0)
		return false;
	*out = (uint8_t)v;
	return true;
}

static bool fctype_find(const char *key, uint8_t *fctype)
{
	if (table_find(fabrics_type_names, key, fctype))
		return true;
	for (size_t i = 0; i < ARRAY_SIZE(fctype_aliases); i++) {
		if (strcmp(key, fctype_aliases[i].key) == 0) {
			*fctype = fctype_aliases[i].fctype;
			return true;
		}
	}
	return false;
}

/* want: 1 admin only, 0 I/O only, -1 either (admin first). */
static bool opc_find(const char *key, int want, bool *admin, uint8_t *opc)
{
	uint8_t code;

	if (want != 0 && table_find(admin_opc_names, key, &code)) {
		*admin = true;
		*opc = code;
		return true;
	}
	if (want != 1 && table_find(io_opc_names, key, &code)) {
		*admin = false;
		*opc = code;
		return true;
	}
	for (size_t i = 0; i < ARRAY_SIZE(opc_aliases); i++) {
		const struct opc_alias *a = &opc_aliases[i];

		if (want >= 0 && a->admin != (want == 1))
			continue;
		if (strcmp(key, a->key) == 0) {
			*admin = a->admin;
			*opc = a->opc;
			return true;
		}
	}
	/* A Fabrics command type names opcode 7Fh on either queue. */
	if (fctype_find(key, &code)) {
		*admin = want != 0;
		*opc = NVME_ADM_FABRICS;
		return true;
	}
	return false;
}

int nvme_opc_parse(const char *name, bool *admin, uint8_t *opc)
{
	int want = -1;
	char key[48];
	uint8_t code;
	bool is_admin;

	if (!name)
		return -1;
	if (strncasecmp(name, "admin:", 6) == 0) {
		want = 1;
		name += 6;
	} else if (strncasecmp(name, "io:", 3) == 0) {
		want = 0;
		name += 3;
	}
	if (parse_u8(name, &code)) {
		*opc = code;
		if (want < 0)
			return 1;
		*admin = want == 1;
		return 0;
	}
	if (!name_key(name, key, sizeof(key)) || !opc_find(key, want, &is_admin, &code))
		return -1;
	*admin = is_admin;
	*opc = code;
	return 0;
}

int nvme_fabrics_type_parse(const char *name, uint8_t *fctype)
{
	char key[48];
	uint8_t code;

	if (!name)
		return -1;
	if (!parse_u8(name, &code) &&
	    (!name_key(name, key, sizeof(key)) || !fctype_find(key, &code)))
		return -1;
	*fctype = code;
	return 0;
}

/* ---- Status ------------------------------------------------------------- */

/* SCT 0: generic command status, including the NVM command set's 80h-84h. */
static const char *const sc_generic_names[256] = {
	[NVME_SC_SUCCESS] = "SUCCESS",
	[NVME_SC_INVALID_OPCODE] = "INVALID OPCODE",
	[NVME_SC_INVALID_FIELD] = "INVALID FIELD",
	[NVME_SC_CID_CONFLICT] = "COMMAND ID CONFLICT",
	[NVME_SC_DATA_TRANSFER_ERROR] = "DATA TRANSFER ERROR",
	[NVME_SC_ABORTED_POWER_LOSS] = "ABORTED - POWER LOSS",
	[NVME_SC_INTERNAL] = "INTERNAL DEVICE ERROR",
	[NVME_SC_ABORT_REQUESTED] = "ABORTED - BY REQUEST",
	[NVME_SC_ABORTED_SQ_DELETION] = "ABORTED - SQ DELETION",
	[NVME_SC_ABORTED_FAILED_FUSED] = "ABORTED - FAILED FUSED",
	[NVME_SC_ABORTED_MISSING_FUSED] = "ABORTED - MISSING FUSED",
	[NVME_SC_INVALID_NAMESPACE_OR_FORMAT] = "INVALID NAMESPACE OR FORMAT",
	[NVME_SC_COMMAND_SEQUENCE_ERROR] = "COMMAND SEQUENCE ERROR",
	[NVME_SC_INVALID_SGL_SEG_DESC] = "INVALID SGL SEGMENT DESCRIPTOR",
	[NVME_SC_INVALID_NUM_SGL_DESCS] = "INVALID NUMBER OF SGL DESCRIPTORS",
	[NVME_SC_DATA_SGL_LENGTH_INVALID] = "DATA SGL LENGTH INVALID",
	[NVME_SC_METADATA_SGL_LENGTH_INVALID] = "METADATA SGL LENGTH INVALID",
	[NVME_SC_SGL_DESC_TYPE_INVALID] = "SGL DESCRIPTOR TYPE INVALID",
	[NVME_SC_INVALID_CMB_USE] = "INVALID USE OF CONTROLLER MEMORY BUFFER",
	[NVME_SC_INVALID_PRP_OFFSET] = "PRP OFFSET INVALID",
	[NVME_SC_ATOMIC_WRITE_UNIT_EXCEEDED] = "ATOMIC WRITE UNIT EXCEEDED",
	[NVME_SC_OPERATION_DENIED] = "OPERATION DENIED",
	[NVME_SC_INVALID_SGL_OFFSET] = "SGL OFFSET INVALID",
	[NVME_SC_HOSTID_INCONSISTENT_FORMAT] = "HOST IDENTIFIER INCONSISTENT FORMAT",
	[NVME_SC_KEEP_ALIVE_EXPIRED] = "KEEP ALIVE TIMEOUT EXPIRED",
	[NVME_SC_KEEP_ALIVE_INVALID] = "KEEP ALIVE TIMEOUT INVALID",
	[NVME_SC_ABORTED_PREEMPT] = "COMMAND ABORTED DUE TO PREEMPT AND ABORT",
	[NVME_SC_SANITIZE_FAILED] = "SANITIZE FAILED",
	[NVME_SC_SANITIZE_IN_PROGRESS] = "SANITIZE IN PROGRESS",
	[NVME_SC_SGL_DATA_BLOCK_GRANULARITY_INVALID] = "SGL DATA BLOCK GRANULARITY INVALID",
	[NVME_SC_CMD_NOT_SUPPORTED_IN_CMB] = "COMMAND NOT SUPPORTED FOR QUEUE IN CMB",
	[NVME_SC_NS_WRITE_PROTECTED] = "NAMESPACE IS WRITE PROTECTED",
	[NVME_SC_COMMAND_INTERRUPTED] = "COMMAND INTERRUPTED",
	[NVME_SC_TRANSIENT_TRANSPORT_ERROR] = "TRANSIENT TRANSPORT ERROR",
	[0x23] = "PROHIBITED BY COMMAND AND FEATURE LOCKDOWN",
	[0x24] = "ADMIN COMMAND MEDIA NOT READY",
	[NVME_SC_LBA_OUT_OF_RANGE] = "LBA OUT OF RANGE",
	[NVME_SC_CAPACITY_EXCEEDED] = "CAPACITY EXCEEDED",
	[NVME_SC_NS_NOT_READY] = "NAMESPACE NOT READY",
	[NVME_SC_RESERVATION_CONFLICT] = "RESERVATION CONFLICT",
	[NVME_SC_FORMAT_IN_PROGRESS] = "FORMAT IN PROGRESS",
};

/* SCT 1: command specific status, NVM command set meaning of 80h and up. */
static const char *const sc_cmd_specific_names[256] = {
	[NVME_SC_COMPLETION_QUEUE_INVALID] = "INVALID COMPLETION QUEUE",
	[NVME_SC_INVALID_QUEUE_IDENTIFIER] = "INVALID QUEUE IDENTIFIER",
	[NVME_SC_INVALID_QUEUE_SIZE] = "INVALID QUEUE SIZE",
	[NVME_SC_ABORT_COMMAND_LIMIT_EXCEEDED] = "ABORT COMMAND LIMIT EXCEEDED",
	[NVME_SC_ASYNC_EVENT_REQUEST_LIMIT_EXCEEDED] = "ASYNC EVENT REQUEST LIMIT EXCEEDED",
	[NVME_SC_INVALID_FIRMWARE_SLOT] = "INVALID FIRMWARE SLOT",
	[NVME_SC_INVALID_FIRMWARE_IMAGE] = "INVALID FIRMWARE IMAGE",
	[NVME_SC_INVALID_INTERRUPT_VECTOR] = "INVALID INTERRUPT VECTOR",
	[NVME_SC_INVALID_LOG_PAGE] = "INVALID LOG PAGE",
	[NVME_SC_INVALID_FORMAT] = "INVALID FORMAT",
	[NVME_SC_FW_ACTIVATION_REQUIRES_RESET] = "FIRMWARE REQUIRES RESET",
	[NVME_SC_INVALID_QUEUE_DELETION] = "INVALID QUEUE DELETION",
	[NVME_SC_FEATURE_NOT_SAVEABLE] = "FEATURE NOT SAVEABLE",
	[NVME_SC_FEATURE_NOT_CHANGEABLE] = "FEATURE NOT CHANGEABLE",
	[NVME_SC_FEATURE_NOT_NS_SPECIFIC] = "FEATURE NOT NAMESPACE SPECIFIC",
	[0x10] = "FIRMWARE ACTIVATION REQUIRES NVM SUBSYSTEM RESET",
	[0x11] = "FIRMWARE ACTIVATION REQUIRES CONTROLLER RESET",
	[0x12] = "FIRMWARE ACTIVATION REQUIRES MAXIMUM TIME VIOLATION",
	[0x13] = "FIRMWARE ACTIVATION PROHIBITED",
	[0x14] = "OVERLAPPING RANGE",
	[0x15] = "NAMESPACE INSUFFICIENT CAPACITY",
	[NVME_SC_NS_ID_UNAVAILABLE] = "NAMESPACE IDENTIFIER UNAVAILABLE",
	[NVME_SC_NS_ALREADY_ATTACHED] = "NAMESPACE ALREADY ATTACHED",
	[0x19] = "NAMESPACE IS PRIVATE",
	[NVME_SC_NS_NOT_ATTACHED] = "NAMESPACE NOT ATTACHED",
	[0x1b] = "THIN PROVISIONING NOT SUPPORTED",
	[0x1c] = "CONTROLLER LIST INVALID",
	[0x1d] = "DEVICE SELF-TEST IN PROGRESS",
	[0x1e] = "BOOT PARTITION WRITE PROHIBITED",
	[NVME_SC_INVALID_CTRL_ID] = "INVALID CONTROLLER IDENTIFIER",
	[0x20] = "INVALID SECONDARY CONTROLLER STATE",
	[0x21] = "INVALID NUMBER OF CONTROLLER RESOURCES",
	[0x22] = "INVALID RESOURCE IDENTIFIER",
	[0x23] = "SANITIZE PROHIBITED WHILE PMR ENABLED",
	[0x24] = "ANA GROUP IDENTIFIER INVALID",
	[0x25] = "ANA ATTACH FAILED",
	[0x26] = "INSUFFICIENT CAPACITY",
	[0x27] = "NAMESPACE ATTACHMENT LIMIT EXCEEDED",
	[0x28] = "PROHIBITION OF COMMAND EXECUTION NOT SUPPORTED",
	[0x29] = "I/O COMMAND SET NOT SUPPORTED",
	[0x2a] = "I/O COMMAND SET NOT ENABLED",
	[0x2b] = "I/O COMMAND SET COMBINATION REJECTED",
	[0x2c] = "INVALID I/O COMMAND SET",
	[0x2d] = "IDENTIFIER UNAVAILABLE",
	[NVME_SC_CONFLICTING_ATTRIBUTES] = "CONFLICTING ATTRIBUTES",
	[NVME_SC_INVALID_PROTECTION_INFO] = "INVALID PROTECTION INFO",
	[NVME_SC_ATTEMPTED_WRITE_TO_RO_RANGE] = "WRITE TO RO PAGE",
	[0x83] = "COMMAND SIZE LIMIT EXCEEDED",
	/* Zoned Namespace command set */
	[0xb8] = "ZONE BOUNDARY ERROR",
	[0xb9] = "ZONE IS FULL",
	[0xba] = "ZONE IS READ ONLY",
	[0xbb] = "ZONE IS OFFLINE",
	[0xbc] = "ZONE INVALID WRITE",
	[0xbd] = "TOO MANY ACTIVE ZONES",
	[0xbe] = "TOO MANY OPEN ZONES",
	[0xbf] = "INVALID ZONE STATE TRANSITION",
};

/* SCT 1 for Fabrics commands (opcode 7Fh). */
static const char *const sc_fabrics_names[256] = {
	[NVME_SC_CONNECT_INCOMPATIBLE_FORMAT] = "CONNECT INCOMPATIBLE FORMAT",
	[NVME_SC_CONNECT_CONTROLLER_BUSY] = "CONNECT CONTROLLER BUSY",
	[NVME_SC_CONNECT_INVALID_PARAMETERS] = "CONNECT INVALID PARAMETERS",
	[NVME_SC_CONNECT_RESTART_DISCOVERY] = "CONNECT RESTART DISCOVERY",
	[NVME_SC_CONNECT_INVALID_HOST] = "CONNECT INVALID HOST",
	[NVME_SC_DISCOVER_RESTART] = "DISCOVER RESTART",
	[NVME_SC_AUTH_REQUIRED] = "AUTHENTICATION REQUIRED",
};

/* The SCT 1 codes whose meaning depends on the command. */
#define SC_FABRICS_CONFLICT_FIRST 0x80
#define SC_FABRICS_CONFLICT_LAST 0x84

/* SCT 2: media and data integrity errors. */
static const char *const sc_media_names[256] = {
	[NVME_SC_WRITE_FAULT] = "WRITE FAULT",
	[NVME_SC_UNRECOVERED_READ_ERROR] = "UNRECOVERED READ ERROR",
	[NVME_SC_GUARD_CHECK_ERROR] = "GUARD CHECK ERROR",
	[NVME_SC_APPLICATION_TAG_CHECK_ERROR] = "APPLICATION TAG CHECK ERROR",
	[NVME_SC_REFERENCE_TAG_CHECK_ERROR] = "REFERENCE TAG CHECK ERROR",
	[NVME_SC_COMPARE_FAILURE] = "COMPARE FAILURE",
	[NVME_SC_ACCESS_DENIED] = "ACCESS DENIED",
	[NVME_SC_DEALLOCATED_OR_UNWRITTEN_BLOCK] = "DEALLOCATED OR UNWRITTEN LOGICAL BLOCK",
	[0x88] = "STORAGE TAG CHECK ERROR",
};

/* SCT 3: path related status. */
static const char *const sc_path_names[256] = {
	[NVME_SC_INTERNAL_PATH_ERROR] = "INTERNAL PATH ERROR",
	[NVME_SC_ASYMMETRIC_ACCESS_PERSISTENT_LOSS] = "ASYMMETRIC ACCESS PERSISTENT LOSS",
	[NVME_SC_ASYMMETRIC_ACCESS_INACCESSIBLE] = "ASYMMETRIC ACCESS INACCESSIBLE",
	[NVME_SC_ASYMMETRIC_ACCESS_TRANSITION] = "ASYMMETRIC ACCESS TRANSITION",
	[NVME_SC_CONTROLLER_PATHING_ERROR] = "CONTROLLER PATHING ERROR",
	[NVME_SC_HOST_PATHING_ERROR] = "HOST PATHING ERROR",
	[NVME_SC_ABORTED_BY_HOST] = "COMMAND ABORTED BY HOST",
};

static const char *status_lookup(uint16_t status, bool fabrics)
{
	uint8_t sct = NVME_STATUS_SCT(status);
	uint8_t sc = NVME_STATUS_SC(status);
	const char *name = NULL;

	if (sct == NVME_SCT_VENDOR)
		return "VENDOR SPECIFIC";
	if (sct > NVME_SCT_PATH)
		return "UNKNOWN";
	if (sc >= 0xc0)
		return "VENDOR SPECIFIC";

	switch (sct) {
	case NVME_SCT_GENERIC:
		name = sc_generic_names[sc];
		return name ? name : "GENERIC UNKNOWN";
	case NVME_SCT_COMMAND_SPECIFIC:
		if (fabrics)
			name = sc_fabrics_names[sc];
		if (!name)
			name = sc_cmd_specific_names[sc];
		/* Codes only Fabrics defines need no context. */
		if (!name && (sc < SC_FABRICS_CONFLICT_FIRST || sc > SC_FABRICS_CONFLICT_LAST))
			name = sc_fabrics_names[sc];
		return name ? name : "COMMAND SPECIFIC UNKNOWN";
	case NVME_SCT_MEDIA_ERROR:
		name = sc_media_names[sc];
		return name ? name : "MEDIA ERROR UNKNOWN";
	default:
		name = sc_path_names[sc];
		return name ? name : "PATH UNKNOWN";
	}
}

const char *nvme_status_name(uint16_t status)
{
	return status_lookup(status, false);
}

const char *nvme_status_name_ex(uint16_t status, bool admin, uint8_t opc)
{
	(void)admin; /* Fabrics commands use 7Fh on admin and I/O queues alike */
	return status_lookup(status, opc == NVME_ADM_FABRICS);
}

const char *nvme_sct_name(uint8_t sct)
{
	switch (sct) {
	case NVME_SCT_GENERIC:
		return "GENERIC";
	case NVME_SCT_COMMAND_SPECIFIC:
		return "COMMAND SPECIFIC";
	case NVME_SCT_MEDIA_ERROR:
		return "MEDIA ERROR";
	case NVME_SCT_PATH:
		return "PATH RELATED";
	case NVME_SCT_VENDOR:
		return "VENDOR SPECIFIC";
	case 4:
	case 5:
	case 6:
		return "RESERVED";
	default:
		return "UNKNOWN";
	}
}

/* ---- Features, log pages, CNS ------------------------------------------ */

static const char *const feature_names[256] = {
	[NVME_FEAT_ARBITRATION] = "Arbitration",
	[NVME_FEAT_POWER_MGMT] = "Power Management",
	[NVME_FEAT_LBA_RANGE] = "LBA Range Type",
	[NVME_FEAT_TEMP_THRESH] = "Temperature Threshold",
	[NVME_FEAT_ERR_RECOVERY] = "Error Recovery",
	[NVME_FEAT_VOLATILE_WC] = "Volatile Write Cache",
	[NVME_FEAT_NUM_QUEUES] = "Number of Queues",
	[NVME_FEAT_IRQ_COALESCE] = "Interrupt Coalescing",
	[NVME_FEAT_IRQ_CONFIG] = "Interrupt Vector Configuration",
	[NVME_FEAT_WRITE_ATOMIC] = "Write Atomicity Normal",
	[NVME_FEAT_ASYNC_EVENT] = "Async Event Configuration",
	[NVME_FEAT_AUTO_PST] = "Autonomous Power State Transition",
	[NVME_FEAT_HOST_MEM_BUF] = "Host Memory Buffer",
	[NVME_FEAT_TIMESTAMP] = "Timestamp",
	[NVME_FEAT_KATO] = "Keep Alive Timer",
	[NVME_FEAT_HCTM] = "Host Controlled Thermal Management",
	[NVME_FEAT_NOPSC] = "Non-Operational Power State Config",
	[NVME_FEAT_RRL] = "Read Recovery Level Config",
	[NVME_FEAT_PLM_CONFIG] = "Predictable Latency Mode Config",
	[NVME_FEAT_PLM_WINDOW] = "Predictable Latency Mode Window",
	[0x15] = "LBA Status Information Report Interval",
	[NVME_FEAT_HOST_BEHAVIOR] = "Host Behavior Support",
	[NVME_FEAT_SANITIZE] = "Sanitize Config",
	[NVME_FEAT_ENDURANCE_EVT] = "Endurance Group Event Configuration",
	[0x19] = "I/O Command Set Profile",
	[0x1a] = "Spinup Control",
	[0x7d] = "Enhanced Controller Metadata",
	[0x7e] = "Controller Metadata",
	[0x7f] = "Namespace Metadata",
	[NVME_FEAT_SW_PROGRESS] = "Software Progress Marker",
	[NVME_FEAT_HOST_ID] = "Host Identifier",
	[NVME_FEAT_RESV_MASK] = "Reservation Notification Mask",
	[NVME_FEAT_RESV_PERSIST] = "Reservation Persistence",
	[NVME_FEAT_WRITE_PROTECT] = "Namespace Write Protection Config",
};

const char *nvme_feature_name(uint8_t fid)
{
	if (feature_names[fid])
		return feature_names[fid];
	return fid >= 0xc0 ? vendor_specific : unknown;
}

static const char *const log_page_names[256] = {
	[NVME_LOG_SUPPORTED] = "Supported Log Pages",
	[NVME_LOG_ERROR] = "Error Information",
	[NVME_LOG_SMART] = "SMART / Health Information",
	[NVME_LOG_FW_SLOT] = "Firmware Slot Information",
	[NVME_LOG_CHANGED_NS] = "Changed Namespace List",
	[NVME_LOG_CMD_EFFECTS] = "Commands Supported and Effects",
	[NVME_LOG_DEVICE_SELF_TEST] = "Device Self-test",
	[NVME_LOG_TELEMETRY_HOST] = "Telemetry Host-Initiated",
	[NVME_LOG_TELEMETRY_CTRL] = "Telemetry Controller-Initiated",
	[NVME_LOG_ENDURANCE_GROUP] = "Endurance Group Information",
	[0x0a] = "Predictable Latency Per NVM Set",
	[0x0b] = "Predictable Latency Event Aggregate",
	[NVME_LOG_ANA] = "Asymmetric Namespace Access",
	[0x0d] = "Persistent Event Log",
	[0x0e] = "LBA Status Information",
	[0x0f] = "Endurance Group Event Aggregate",
	[0x10] = "Media Unit Status",
	[0x11] = "Supported Capacity Configuration List",
	[0x12] = "Feature Identifiers Supported and Effects",
	[0x13] = "NVMe-MI Commands Supported and Effects",
	[0x14] = "Command and Feature Lockdown",
	[0x15] = "Boot Partition",
	[0x16] = "Rotational Media Information",
	[NVME_LOG_DISCOVERY] = "Discovery",
	[NVME_LOG_RESERVATION] = "Reservation Notification",
	[NVME_LOG_SANITIZE] = "Sanitize Status",
	[0xbf] = "Changed Zone List",
};

const char *nvme_log_page_name(uint8_t lid)
{
	if (log_page_names[lid])
		return log_page_names[lid];
	return lid >= 0xc0 ? vendor_specific : unknown;
}

static const char *const cns_names[256] = {
	[NVME_CNS_NS] = "Identify Namespace",
	[NVME_CNS_CTRL] = "Identify Controller",
	[NVME_CNS_ACTIVE_NS_LIST] = "Active Namespace ID List",
	[NVME_CNS_NS_DESC_LIST] = "Namespace Identification Descriptor List",
	[NVME_CNS_NVMSET_LIST] = "NVM Set List",
	[NVME_CNS_CSI_NS] = "I/O Command Set Specific Namespace",
	[NVME_CNS_CSI_CTRL] = "I/O Command Set Specific Controller",
	[NVME_CNS_CSI_ACTIVE_NS_LIST] = "I/O Command Set Specific Active Namespace ID List",
	[0x08] = "I/O Command Set Independent Namespace",
	[NVME_CNS_ALLOCATED_NS_LIST] = "Allocated Namespace ID List",
	[NVME_CNS_ALLOCATED_NS] = "Identify Allocated Namespace",
	[NVME_CNS_NS_CTRL_LIST] = "Namespace Attached Controller List",
	[NVME_CNS_CTRL_LIST] = "Controller List",
	[0x14] = "Primary Controller Capabilities",
	[0x15] = "Secondary Controller List",
	[0x16] = "Namespace Granularity List",
	[0x17] = "UUID List",
	[0x18] = "Domain List",
	[0x19] = "Endurance Group List",
	[0x1a] = "I/O Command Set Specific Allocated Namespace ID List",
	[0x1b] = "I/O Command Set Specific Allocated Namespace",
	[0x1c] = "I/O Command Set Data Structure",
};

const char *nvme_cns_name(uint8_t cns)
{
	return cns_names[cns] ? cns_names[cns] : unknown;
}

/* ---- Asynchronous events ------------------------------------------------ */

static const char *const aen_type_names[8] = {
	[NVME_AER_TYPE_ERROR] = "Error Status",
	[NVME_AER_TYPE_SMART] = "SMART / Health Status",
	[NVME_AER_TYPE_NOTICE] = "Notice",
	[NVME_AER_TYPE_IO_CMD_SET] = "I/O Command Set Specific Status",
	[NVME_AER_TYPE_VENDOR] = "Vendor Specific",
};

const char *nvme_aen_type_name(uint8_t type)
{
	if (type < ARRAY_SIZE(aen_type_names) && aen_type_names[type])
		return aen_type_names[type];
	return unknown;
}

static const char *const aen_error_names[] = {
	[NVME_AER_ERR_INVALID_DB_REGISTER] = "Write to Invalid Doorbell Register",
	[NVME_AER_ERR_INVALID_DB_VALUE] = "Invalid Doorbell Write Value",
	[NVME_AER_ERR_DIAG_FAILURE] = "Diagnostic Failure",
	[NVME_AER_ERR_PERSISTENT_INTERNAL] = "Persistent Internal Error",
	[NVME_AER_ERR_TRANSIENT_INTERNAL] = "Transient Internal Error",
	[NVME_AER_ERR_FW_IMAGE_LOAD] = "Firmware Image Load Error",
};

static const char *const aen_smart_names[] = {
	[NVME_AER_SMART_RELIABILITY] = "NVM Subsystem Reliability",
	[NVME_AER_SMART_TEMP_THRESH] = "Temperature Threshold",
	[NVME_AER_SMART_SPARE_THRESH] = "Spare Below Threshold",
};

static const char *const aen_notice_names[256] = {
	[NVME_AER_NOTICE_NS_CHANGED] = "Namespace Attribute Changed",
	[NVME_AER_NOTICE_FW_ACT_STARTING] = "Firmware Activation Starting",
	[NVME_AER_NOTICE_TELEMETRY] = "Telemetry Log Changed",
	[NVME_AER_NOTICE_ANA_CHANGE] = "Asymmetric Namespace Access Change",
	[0x04] = "Predictable Latency Event Aggregate Log Change",
	[0x05] = "LBA Status Information Alert",
	[0x06] = "Endurance Group Event Aggregate Log Page Change",
	[NVME_AER_NOTICE_DISC_CHANGED] = "Discovery Log Page Change",
};

static const char *const aen_io_cmd_set_names[] = {
	[0x00] = "Reservation Log Page Available",
	[0x01] = "Sanitize Operation Completed",
	[0x02] = "Sanitize Operation Completed With Unexpected Deallocation",
};

const char *nvme_aen_info_name(uint8_t type, uint8_t info)
{
	const char *name = NULL;

	switch (type) {
	case NVME_AER_TYPE_ERROR:
		if (info < ARRAY_SIZE(aen_error_names))
			name = aen_error_names[info];
		break;
	case NVME_AER_TYPE_SMART:
		if (info < ARRAY_SIZE(aen_smart_names))
			name = aen_smart_names[info];
		break;
	case NVME_AER_TYPE_NOTICE:
		name = aen_notice_names[info];
		break;
	case NVME_AER_TYPE_IO_CMD_SET:
		if (info < ARRAY_SIZE(aen_io_cmd_set_names))
			name = aen_io_cmd_set_names[info];
		break;
	case NVME_AER_TYPE_VENDOR:
		return vendor_specific;
	default:
		break;
	}
	return name ? name : unknown;
}

/* ---- NVMe/TCP ------------------------------------------------------------- */

static const char *const tcp_pdu_names[] = {
	[NVME_TCP_ICREQ] = "ICReq",
	[NVME_TCP_ICRESP] = "ICResp",
	[NVME_TCP_H2C_TERM] = "H2CTermReq",
	[NVME_TCP_C2H_TERM] = "C2HTermReq",
	[NVME_TCP_CMD] = "CapsuleCmd",
	[NVME_TCP_RSP] = "CapsuleResp",
	[NVME_TCP_H2C_DATA] = "H2CData",
	[NVME_TCP_C2H_DATA] = "C2HData",
	[NVME_TCP_R2T] = "R2T",
};

const char *nvme_tcp_pdu_name(uint8_t type)
{
	if (type < ARRAY_SIZE(tcp_pdu_names) && tcp_pdu_names[type])
		return tcp_pdu_names[type];
	return unknown;
}

static const char *const tcp_fes_names[] = {
	[NVME_TCP_FES_INVALID_PDU_HDR] = "Invalid PDU Header Field",
	[NVME_TCP_FES_PDU_SEQ_ERR] = "PDU Sequence Error",
	[NVME_TCP_FES_HDR_DIGEST_ERR] = "Header Digest Error",
	[NVME_TCP_FES_DATA_OUT_OF_RANGE] = "Data Transfer Out of Range",
	[NVME_TCP_FES_R2T_LIMIT_EXCEEDED] = "Data Transfer Limit Exceeded",
	[NVME_TCP_FES_UNSUPPORTED_PARAM] = "Unsupported Parameter",
};

const char *nvme_tcp_fes_name(uint16_t fes)
{
	if (fes < ARRAY_SIZE(tcp_fes_names) && tcp_fes_names[fes])
		return tcp_fes_names[fes];
	return unknown;
}

/* ---- Controller registers ------------------------------------------------- */

struct reg_name {
	uint32_t offset;
	const char *name;
};

static const struct reg_name reg_names[] = {
	{NVME_REG_CAP, "CAP"},
	{NVME_REG_VS, "VS"},
	{NVME_REG_INTMS, "INTMS"},
	{NVME_REG_INTMC, "INTMC"},
	{NVME_REG_CC, "CC"},
	{NVME_REG_CSTS, "CSTS"},
	{NVME_REG_NSSR, "NSSR"},
	{NVME_REG_AQA, "AQA"},
	{NVME_REG_ASQ, "ASQ"},
	{NVME_REG_ACQ, "ACQ"},
	{NVME_REG_CMBLOC, "CMBLOC"},
	{NVME_REG_CMBSZ, "CMBSZ"},
	{0x40, "BPINFO"},
	{0x44, "BPRSEL"},
	{0x48, "BPMBL"},
	{0x50, "CMBMSC"},
	{0x58, "CMBSTS"},
	{0x5c, "CMBEBS"},
	{0x60, "CMBSWTP"},
	{0x64, "NSSD"},
	{0x68, "CRTO"},
	{0xe00, "PMRCAP"},
	{0xe04, "PMRCTL"},
	{0xe08, "PMRSTS"},
	{0xe0c, "PMREBS"},
	{0xe10, "PMRSWTP"},
	{0xe14, "PMRMSCL"},
	{0xe18, "PMRMSCU"},
};

const char *nvme_reg_name(uint32_t offset)
{
	if (offset >= NVME_REG_DBS)
		return "Doorbell";
	for (size_t i = 0; i < ARRAY_SIZE(reg_names); i++)
		if (reg_names[i].offset == offset)
			return reg_names[i].name;
	return unknown;
}

bool nvme_io_opc_has_lba(uint8_t opc)
{
	switch (opc) {
	case NVME_IO_READ:
	case NVME_IO_WRITE:
	case NVME_IO_WRITE_UNCORRECTABLE:
	case NVME_IO_COMPARE:
	case NVME_IO_WRITE_ZEROES:
	case NVME_IO_VERIFY:
		return true;
	default:
		return false;
	}
}

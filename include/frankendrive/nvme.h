/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NVM Express definitions: structures and constants from the NVMe Base
 * Specification (1.4/2.0), the NVM Command Set and NVMe over Fabrics.
 * Only layout and numbers live here, no behaviour; every part of the
 * project (and every plug-in) may include it.
 */
#ifndef FRANKENDRIVE_NVME_H
#define FRANKENDRIVE_NVME_H

#include <stdbool.h>
#include <stdint.h>

#if defined(__cplusplus) && !defined(_Static_assert)
#define _Static_assert static_assert
#endif

/* ---- Submission and completion queue entries ---------------------- */

/* SGL descriptor type (upper nibble of the identifier byte) */
enum nvme_sgl_type {
	NVME_SGL_TYPE_DATA_BLOCK = 0x0,
	NVME_SGL_TYPE_BIT_BUCKET = 0x1,
	NVME_SGL_TYPE_SEGMENT = 0x2,
	NVME_SGL_TYPE_LAST_SEGMENT = 0x3,
	NVME_SGL_TYPE_KEYED_DATA_BLOCK = 0x4,
	NVME_SGL_TYPE_TRANSPORT_DATA_BLOCK = 0x5,
};

/* SGL descriptor subtype (lower nibble) */
enum nvme_sgl_subtype {
	NVME_SGL_SUBTYPE_ADDRESS = 0x0,
	NVME_SGL_SUBTYPE_OFFSET = 0x1,
	NVME_SGL_SUBTYPE_TRANSPORT = 0xa,
};

struct nvme_sgl_desc {
	uint64_t addr;
	uint32_t length;
	uint8_t rsvd[3];
	uint8_t type; /* type << 4 | subtype */
} __attribute__((packed));
_Static_assert(sizeof(struct nvme_sgl_desc) == 16, "sgl desc");

/* PSDT field of the command flags byte */
#define NVME_CMD_FLAGS_FUSE_MASK 0x03
#define NVME_CMD_FLAGS_PSDT_SHIFT 6
#define NVME_PSDT_PRP 0
#define NVME_PSDT_SGL_MPTR_CONTIG 1
#define NVME_PSDT_SGL_MPTR_SGL 2

/* Submission queue entry: 64 bytes, command dwords 0-15. */
struct nvme_sqe {
	uint8_t opc;
	uint8_t flags; /* FUSE (1:0), PSDT (7:6) */
	uint16_t cid;
	uint32_t nsid;
	uint32_t cdw2;
	uint32_t cdw3;
	uint64_t mptr;
	union {
		struct {
			uint64_t prp1;
			uint64_t prp2;
		};
		struct nvme_sgl_desc sgl1;
	} dptr;
	uint32_t cdw10;
	uint32_t cdw11;
	uint32_t cdw12;
	uint32_t cdw13;
	uint32_t cdw14;
	uint32_t cdw15;
} __attribute__((packed));
_Static_assert(sizeof(struct nvme_sqe) == 64, "sqe");

/* Completion queue entry: 16 bytes. */
struct nvme_cqe {
	uint32_t cdw0;
	uint32_t cdw1;
	uint16_t sqhd;
	uint16_t sqid;
	uint16_t cid;
	uint16_t status; /* P (bit 0) and the status field (15:1) */
} __attribute__((packed));
_Static_assert(sizeof(struct nvme_cqe) == 16, "cqe");

/*
 * Status field, without the phase bit, as this project passes it around:
 * SC (7:0), SCT (10:8), CRD (12:11), M (13), DNR (14).  The CQE holds
 * it shifted left by one.
 */
#define NVME_STATUS(sct, sc) ((uint16_t)((((sct)&0x7) << 8) | ((sc)&0xff)))
#define NVME_STATUS_SC(s) ((uint8_t)((s)&0xff))
#define NVME_STATUS_SCT(s) ((uint8_t)(((s) >> 8) & 0x7))
#define NVME_STATUS_CRD(s) ((uint8_t)(((s) >> 11) & 0x3))
#define NVME_STATUS_MORE (1u << 13)
#define NVME_STATUS_DNR (1u << 14)
#define NVME_STATUS_NO_DNR(s) ((uint16_t)((s) & ~NVME_STATUS_DNR))

/* Status code types */
enum nvme_sct {
	NVME_SCT_GENERIC = 0x0,
	NVME_SCT_COMMAND_SPECIFIC = 0x1,
	NVME_SCT_MEDIA_ERROR = 0x2,
	NVME_SCT_PATH = 0x3,
	NVME_SCT_VENDOR = 0x7,
};

/* Generic command status (SCT 0) */
enum nvme_sc_generic {
	NVME_SC_SUCCESS = 0x00,
	NVME_SC_INVALID_OPCODE = 0x01,
	NVME_SC_INVALID_FIELD = 0x02,
	NVME_SC_CID_CONFLICT = 0x03,
	NVME_SC_DATA_TRANSFER_ERROR = 0x04,
	NVME_SC_ABORTED_POWER_LOSS = 0x05,
	NVME_SC_INTERNAL = 0x06,
	NVME_SC_ABORT_REQUESTED = 0x07,
	NVME_SC_ABORTED_SQ_DELETION = 0x08,
	NVME_SC_ABORTED_FAILED_FUSED = 0x09,
	NVME_SC_ABORTED_MISSING_FUSED = 0x0a,
	NVME_SC_INVALID_NAMESPACE_OR_FORMAT = 0x0b,
	NVME_SC_COMMAND_SEQUENCE_ERROR = 0x0c,
	NVME_SC_INVALID_SGL_SEG_DESC = 0x0d,
	NVME_SC_INVALID_NUM_SGL_DESCS = 0x0e,
	NVME_SC_DATA_SGL_LENGTH_INVALID = 0x0f,
	NVME_SC_METADATA_SGL_LENGTH_INVALID = 0x10,
	NVME_SC_SGL_DESC_TYPE_INVALID = 0x11,
	NVME_SC_INVALID_CMB_USE = 0x12,
	NVME_SC_INVALID_PRP_OFFSET = 0x13,
	NVME_SC_ATOMIC_WRITE_UNIT_EXCEEDED = 0x14,
	NVME_SC_OPERATION_DENIED = 0x15,
	NVME_SC_INVALID_SGL_OFFSET = 0x16,
	NVME_SC_HOSTID_INCONSISTENT_FORMAT = 0x18,
	NVME_SC_KEEP_ALIVE_EXPIRED = 0x19,
	NVME_SC_KEEP_ALIVE_INVALID = 0x1a,
	NVME_SC_ABORTED_PREEMPT = 0x1b,
	NVME_SC_SANITIZE_FAILED = 0x1c,
	NVME_SC_SANITIZE_IN_PROGRESS = 0x1d,
	NVME_SC_SGL_DATA_BLOCK_GRANULARITY_INVALID = 0x1e,
	NVME_SC_CMD_NOT_SUPPORTED_IN_CMB = 0x1f,
	NVME_SC_NS_WRITE_PROTECTED = 0x20,
	NVME_SC_COMMAND_INTERRUPTED = 0x21,
	NVME_SC_TRANSIENT_TRANSPORT_ERROR = 0x22,
	/* NVM command set specific, still SCT 0 */
	NVME_SC_LBA_OUT_OF_RANGE = 0x80,
	NVME_SC_CAPACITY_EXCEEDED = 0x81,
	NVME_SC_NS_NOT_READY = 0x82,
	NVME_SC_RESERVATION_CONFLICT = 0x83,
	NVME_SC_FORMAT_IN_PROGRESS = 0x84,
};

/* Command specific status (SCT 1) */
enum nvme_sc_cmd_specific {
	NVME_SC_COMPLETION_QUEUE_INVALID = 0x00,
	NVME_SC_INVALID_QUEUE_IDENTIFIER = 0x01,
	NVME_SC_INVALID_QUEUE_SIZE = 0x02,
	NVME_SC_ABORT_COMMAND_LIMIT_EXCEEDED = 0x03,
	NVME_SC_ASYNC_EVENT_REQUEST_LIMIT_EXCEEDED = 0x05,
	NVME_SC_INVALID_FIRMWARE_SLOT = 0x06,
	NVME_SC_INVALID_FIRMWARE_IMAGE = 0x07,
	NVME_SC_INVALID_INTERRUPT_VECTOR = 0x08,
	NVME_SC_INVALID_LOG_PAGE = 0x09,
	NVME_SC_INVALID_FORMAT = 0x0a,
	NVME_SC_FW_ACTIVATION_REQUIRES_RESET = 0x0b,
	NVME_SC_INVALID_QUEUE_DELETION = 0x0c,
	NVME_SC_FEATURE_NOT_SAVEABLE = 0x0d,
	NVME_SC_FEATURE_NOT_CHANGEABLE = 0x0e,
	NVME_SC_FEATURE_NOT_NS_SPECIFIC = 0x0f,
	NVME_SC_NS_ID_UNAVAILABLE = 0x16,
	NVME_SC_NS_ALREADY_ATTACHED = 0x18,
	NVME_SC_NS_NOT_ATTACHED = 0x1a,
	NVME_SC_INVALID_CTRL_ID = 0x1f,
	/* NVM command set */
	NVME_SC_CONFLICTING_ATTRIBUTES = 0x80,
	NVME_SC_INVALID_PROTECTION_INFO = 0x81,
	NVME_SC_ATTEMPTED_WRITE_TO_RO_RANGE = 0x82,
	/* Fabrics commands */
	NVME_SC_CONNECT_INCOMPATIBLE_FORMAT = 0x80,
	NVME_SC_CONNECT_CONTROLLER_BUSY = 0x81,
	NVME_SC_CONNECT_INVALID_PARAMETERS = 0x82,
	NVME_SC_CONNECT_RESTART_DISCOVERY = 0x83,
	NVME_SC_CONNECT_INVALID_HOST = 0x84,
	NVME_SC_DISCOVER_RESTART = 0x90,
	NVME_SC_AUTH_REQUIRED = 0x91,
};

/* Media and data integrity errors (SCT 2) */
enum nvme_sc_media {
	NVME_SC_WRITE_FAULT = 0x80,
	NVME_SC_UNRECOVERED_READ_ERROR = 0x81,
	NVME_SC_GUARD_CHECK_ERROR = 0x82,
	NVME_SC_APPLICATION_TAG_CHECK_ERROR = 0x83,
	NVME_SC_REFERENCE_TAG_CHECK_ERROR = 0x84,
	NVME_SC_COMPARE_FAILURE = 0x85,
	NVME_SC_ACCESS_DENIED = 0x86,
	NVME_SC_DEALLOCATED_OR_UNWRITTEN_BLOCK = 0x87,
};

/* Path related status (SCT 3) */
enum nvme_sc_path {
	NVME_SC_INTERNAL_PATH_ERROR = 0x00,
	NVME_SC_ASYMMETRIC_ACCESS_PERSISTENT_LOSS = 0x01,
	NVME_SC_ASYMMETRIC_ACCESS_INACCESSIBLE = 0x02,
	NVME_SC_ASYMMETRIC_ACCESS_TRANSITION = 0x03,
	NVME_SC_CONTROLLER_PATHING_ERROR = 0x60,
	NVME_SC_HOST_PATHING_ERROR = 0x70,
	NVME_SC_ABORTED_BY_HOST = 0x71,
};

/* ---- Opcodes ------------------------------------------------------- */

enum nvme_admin_opcode {
	NVME_ADM_DELETE_IO_SQ = 0x00,
	NVME_ADM_CREATE_IO_SQ = 0x01,
	NVME_ADM_GET_LOG_PAGE = 0x02,
	NVME_ADM_DELETE_IO_CQ = 0x04,
	NVME_ADM_CREATE_IO_CQ = 0x05,
	NVME_ADM_IDENTIFY = 0x06,
	NVME_ADM_ABORT = 0x08,
	NVME_ADM_SET_FEATURES = 0x09,
	NVME_ADM_GET_FEATURES = 0x0a,
	NVME_ADM_ASYNC_EVENT_REQUEST = 0x0c,
	NVME_ADM_NS_MANAGEMENT = 0x0d,
	NVME_ADM_FIRMWARE_COMMIT = 0x10,
	NVME_ADM_FIRMWARE_IMAGE_DOWNLOAD = 0x11,
	NVME_ADM_DEVICE_SELF_TEST = 0x14,
	NVME_ADM_NS_ATTACHMENT = 0x15,
	NVME_ADM_KEEP_ALIVE = 0x18,
	NVME_ADM_DIRECTIVE_SEND = 0x19,
	NVME_ADM_DIRECTIVE_RECEIVE = 0x1a,
	NVME_ADM_VIRTUALIZATION_MANAGEMENT = 0x1c,
	NVME_ADM_NVME_MI_SEND = 0x1d,
	NVME_ADM_NVME_MI_RECEIVE = 0x1e,
	NVME_ADM_DOORBELL_BUFFER_CONFIG = 0x7c,
	NVME_ADM_FABRICS = 0x7f,
	NVME_ADM_FORMAT_NVM = 0x80,
	NVME_ADM_SECURITY_SEND = 0x81,
	NVME_ADM_SECURITY_RECEIVE = 0x82,
	NVME_ADM_SANITIZE = 0x84,
	NVME_ADM_GET_LBA_STATUS = 0x86,
};

enum nvme_io_opcode {
	NVME_IO_FLUSH = 0x00,
	NVME_IO_WRITE = 0x01,
	NVME_IO_READ = 0x02,
	NVME_IO_WRITE_UNCORRECTABLE = 0x04,
	NVME_IO_COMPARE = 0x05,
	NVME_IO_WRITE_ZEROES = 0x08,
	NVME_IO_DATASET_MANAGEMENT = 0x09,
	NVME_IO_VERIFY = 0x0c,
	NVME_IO_RESERVATION_REGISTER = 0x0d,
	NVME_IO_RESERVATION_REPORT = 0x0e,
	NVME_IO_RESERVATION_ACQUIRE = 0x11,
	NVME_IO_RESERVATION_RELEASE = 0x15,
	NVME_IO_COPY = 0x19,
};

/* Fabrics command type (byte 4 of a Fabrics command, opcode 7Fh) */
enum nvme_fabrics_type {
	NVME_FCTYPE_PROPERTY_SET = 0x00,
	NVME_FCTYPE_CONNECT = 0x01,
	NVME_FCTYPE_PROPERTY_GET = 0x04,
	NVME_FCTYPE_AUTH_SEND = 0x05,
	NVME_FCTYPE_AUTH_RECEIVE = 0x06,
	NVME_FCTYPE_DISCONNECT = 0x08,
};

/* The data transfer direction is in the opcode's two low bits. */
#define NVME_OPC_XFER_MASK 0x3
#define NVME_OPC_XFER_NONE 0x0
#define NVME_OPC_XFER_TO_CTRL 0x1   /* host to controller (write) */
#define NVME_OPC_XFER_FROM_CTRL 0x2 /* controller to host (read) */
#define NVME_OPC_XFER_BIDIR 0x3

/* ---- Fabrics commands ------------------------------------------------ */

struct nvme_fabrics_cmd {
	uint8_t opc; /* 7Fh */
	uint8_t flags;
	uint16_t cid;
	uint8_t fctype;
	uint8_t rsvd1[35];
	uint8_t fs[24]; /* fabrics-type specific */
} __attribute__((packed));
_Static_assert(sizeof(struct nvme_fabrics_cmd) == 64, "fabrics cmd");

struct nvme_fabrics_connect_cmd {
	uint8_t opc;
	uint8_t flags;
	uint16_t cid;
	uint8_t fctype;
	uint8_t rsvd1[19];
	struct nvme_sgl_desc sgl1;
	uint16_t recfmt;
	uint16_t qid;
	uint16_t sqsize; /* zero-based */
	uint8_t cattr;
	uint8_t rsvd2;
	uint32_t kato; /* milliseconds */
	uint8_t rsvd3[12];
} __attribute__((packed));
_Static_assert(sizeof(struct nvme_fabrics_connect_cmd) == 64, "connect");

#define NVME_CONNECT_CATTR_SQ_FLOW_DISABLE 0x04

struct nvme_fabrics_connect_data {
	uint8_t hostid[16];
	uint16_t cntlid;
	uint8_t rsvd1[238];
	char subnqn[256];
	char hostnqn[256];
	uint8_t rsvd2[256];
} __attribute__((packed));
_Static_assert(sizeof(struct nvme_fabrics_connect_data) == 1024, "connect data");

struct nvme_fabrics_prop_cmd {
	uint8_t opc;
	uint8_t flags;
	uint16_t cid;
	uint8_t fctype;
	uint8_t rsvd1[35];
	uint8_t attrib; /* bit 0: 0 = 4 bytes, 1 = 8 bytes */
	uint8_t rsvd2[3];
	uint32_t ofst;
	uint64_t value; /* Property Set only */
	uint8_t rsvd3[8];
} __attribute__((packed));
_Static_assert(sizeof(struct nvme_fabrics_prop_cmd) == 64, "prop cmd");

/* ---- Controller registers (properties) ------------------------------ */

enum nvme_reg {
	NVME_REG_CAP = 0x00,
	NVME_REG_VS = 0x08,
	NVME_REG_INTMS = 0x0c,
	NVME_REG_INTMC = 0x10,
	NVME_REG_CC = 0x14,
	NVME_REG_CSTS = 0x1c,
	NVME_REG_NSSR = 0x20,
	NVME_REG_AQA = 0x24,
	NVME_REG_ASQ = 0x28,
	NVME_REG_ACQ = 0x30,
	NVME_REG_CMBLOC = 0x38,
	NVME_REG_CMBSZ = 0x3c,
	NVME_REG_DBS = 0x1000,
};

#define NVME_CAP_MQES(cap) ((uint32_t)((cap)&0xffff))
#define NVME_CAP_CQR (1ull << 16)
#define NVME_CAP_AMS_SHIFT 17
#define NVME_CAP_TO_SHIFT 24 /* 500 ms units */
#define NVME_CAP_DSTRD_SHIFT 32
#define NVME_CAP_NSSRS (1ull << 36)
#define NVME_CAP_CSS_SHIFT 37
#define NVME_CAP_CSS_NVM (1ull << 37)
#define NVME_CAP_MPSMIN_SHIFT 48
#define NVME_CAP_MPSMAX_SHIFT 52

#define NVME_VS(maj, min, ter) (((uint32_t)(maj) << 16) | ((uint32_t)(min) << 8) | (ter))

#define NVME_CC_EN (1u << 0)
#define NVME_CC_CSS_SHIFT 4
#define NVME_CC_MPS_SHIFT 7
#define NVME_CC_AMS_SHIFT 11
#define NVME_CC_SHN_SHIFT 14
#define NVME_CC_SHN_MASK (3u << 14)
#define NVME_CC_SHN_NONE 0
#define NVME_CC_SHN_NORMAL 1
#define NVME_CC_SHN_ABRUPT 2
#define NVME_CC_IOSQES_SHIFT 16
#define NVME_CC_IOCQES_SHIFT 20

#define NVME_CSTS_RDY (1u << 0)
#define NVME_CSTS_CFS (1u << 1)
#define NVME_CSTS_SHST_SHIFT 2
#define NVME_CSTS_SHST_MASK (3u << 2)
#define NVME_CSTS_SHST_NORMAL 0
#define NVME_CSTS_SHST_OCCURRING 1
#define NVME_CSTS_SHST_COMPLETE 2
#define NVME_CSTS_NSSRO (1u << 4)
#define NVME_CSTS_PP (1u << 5)

#define NVME_NSSR_MAGIC 0x4e564d65 /* "NVMe" */

/* ---- Identify ------------------------------------------------------- */

enum nvme_identify_cns {
	NVME_CNS_NS = 0x00,
	NVME_CNS_CTRL = 0x01,
	NVME_CNS_ACTIVE_NS_LIST = 0x02,
	NVME_CNS_NS_DESC_LIST = 0x03,
	NVME_CNS_NVMSET_LIST = 0x04,
	NVME_CNS_CSI_NS = 0x05,
	NVME_CNS_CSI_CTRL = 0x06,
	NVME_CNS_CSI_ACTIVE_NS_LIST = 0x07,
	NVME_CNS_ALLOCATED_NS_LIST = 0x10,
	NVME_CNS_ALLOCATED_NS = 0x11,
	NVME_CNS_NS_CTRL_LIST = 0x12,
	NVME_CNS_CTRL_LIST = 0x13,
};

struct nvme_power_state {
	uint16_t mp; /* centiwatts */
	uint8_t rsvd2;
	uint8_t flags;
	uint32_t enlat;
	uint32_t exlat;
	uint8_t rrt;
	uint8_t rrl;
	uint8_t rwt;
	uint8_t rwl;
	uint16_t idlp;
	uint8_t ips;
	uint8_t rsvd19;
	uint16_t actp;
	uint8_t apws;
	uint8_t rsvd23[9];
} __attribute__((packed));
_Static_assert(sizeof(struct nvme_power_state) == 32, "psd");

struct nvme_id_ctrl {
	uint16_t vid;
	uint16_t ssvid;
	char sn[20];
	char mn[40];
	char fr[8];
	uint8_t rab;
	uint8_t ieee[3];
	uint8_t cmic;
	uint8_t mdts;
	uint16_t cntlid;
	uint32_t ver;
	uint32_t rtd3r;
	uint32_t rtd3e;
	uint32_t oaes;
	uint32_t ctratt;
	uint16_t rrls;
	uint8_t rsvd102[9];
	uint8_t cntrltype;
	uint8_t fguid[16];
	uint16_t crdt1;
	uint16_t crdt2;
	uint16_t crdt3;
	uint8_t rsvd134[122];
	uint16_t oacs;
	uint8_t acl;
	uint8_t aerl;
	uint8_t frmw;
	uint8_t lpa;
	uint8_t elpe;
	uint8_t npss;
	uint8_t avscc;
	uint8_t apsta;
	uint16_t wctemp;
	uint16_t cctemp;
	uint16_t mtfa;
	uint32_t hmpre;
	uint32_t hmmin;
	uint8_t tnvmcap[16];
	uint8_t unvmcap[16];
	uint32_t rpmbs;
	uint16_t edstt;
	uint8_t dsto;
	uint8_t fwug;
	uint16_t kas;
	uint16_t hctma;
	uint16_t mntmt;
	uint16_t mxtmt;
	uint32_t sanicap;
	uint32_t hmminds;
	uint16_t hmmaxd;
	uint16_t nsetidmax;
	uint16_t endgidmax;
	uint8_t anatt;
	uint8_t anacap;
	uint32_t anagrpmax;
	uint32_t nanagrpid;
	uint32_t pels;
	uint8_t rsvd356[156];
	uint8_t sqes;
	uint8_t cqes;
	uint16_t maxcmd;
	uint32_t nn;
	uint16_t oncs;
	uint16_t fuses;
	uint8_t fna;
	uint8_t vwc;
	uint16_t awun;
	uint16_t awupf;
	uint8_t nvscc;
	uint8_t nwpc;
	uint16_t acwu;
	uint8_t rsvd534[2];
	uint32_t sgls;
	uint32_t mnan;
	uint8_t rsvd544[224];
	char subnqn[256];
	uint8_t rsvd1024[768];
	/* Fabrics */
	uint32_t ioccsz;
	uint32_t iorcsz;
	uint16_t icdoff;
	uint8_t fcatt;
	uint8_t msdbd;
	uint16_t ofcs;
	uint8_t rsvd1806[242];
	struct nvme_power_state psd[32];
	uint8_t vs[1024];
} __attribute__((packed));
_Static_assert(sizeof(struct nvme_id_ctrl) == 4096, "id ctrl");
_Static_assert(__builtin_offsetof(struct nvme_id_ctrl, oacs) == 256, "oacs");
_Static_assert(__builtin_offsetof(struct nvme_id_ctrl, sqes) == 512, "sqes");
_Static_assert(__builtin_offsetof(struct nvme_id_ctrl, subnqn) == 768, "subnqn");
_Static_assert(__builtin_offsetof(struct nvme_id_ctrl, ioccsz) == 1792, "ioccsz");
_Static_assert(__builtin_offsetof(struct nvme_id_ctrl, psd) == 2048, "psd");

/* OACS bits */
#define NVME_OACS_SECURITY (1u << 0)
#define NVME_OACS_FORMAT (1u << 1)
#define NVME_OACS_FW (1u << 2)
#define NVME_OACS_NS_MGMT (1u << 3)
#define NVME_OACS_SELF_TEST (1u << 4)
#define NVME_OACS_DIRECTIVES (1u << 5)
#define NVME_OACS_DBBUF (1u << 8)
/* ONCS bits */
#define NVME_ONCS_COMPARE (1u << 0)
#define NVME_ONCS_WRITE_UNCORRECTABLE (1u << 1)
#define NVME_ONCS_DSM (1u << 2)
#define NVME_ONCS_WRITE_ZEROES (1u << 3)
#define NVME_ONCS_SAVE_FEATURES (1u << 4)
#define NVME_ONCS_RESERVATIONS (1u << 5)
#define NVME_ONCS_TIMESTAMP (1u << 6)
#define NVME_ONCS_VERIFY (1u << 7)
/* LPA bits */
#define NVME_LPA_SMART_PER_NS (1u << 0)
#define NVME_LPA_CMD_EFFECTS (1u << 1)
#define NVME_LPA_EXTENDED_DATA (1u << 2)
/* OAES bits */
#define NVME_OAES_NS_ATTR (1u << 8)
#define NVME_OAES_FW_ACTIVATION (1u << 9)
/* SGLS bits */
#define NVME_SGLS_SUPPORTED (1u << 0)
#define NVME_SGLS_KEYED (1u << 2)
#define NVME_SGLS_OFFSET (1u << 20)
/* CNTRLTYPE */
#define NVME_CTRL_TYPE_IO 1
#define NVME_CTRL_TYPE_DISCOVERY 2
#define NVME_CTRL_TYPE_ADMIN 3

struct nvme_lbaf {
	uint16_t ms;
	uint8_t lbads; /* log2 of the LBA data size */
	uint8_t rp;
} __attribute__((packed));
_Static_assert(sizeof(struct nvme_lbaf) == 4, "lbaf");

struct nvme_id_ns {
	uint64_t nsze;
	uint64_t ncap;
	uint64_t nuse;
	uint8_t nsfeat;
	uint8_t nlbaf; /* zero-based */
	uint8_t flbas;
	uint8_t mc;
	uint8_t dpc;
	uint8_t dps;
	uint8_t nmic;
	uint8_t rescap;
	uint8_t fpi;
	uint8_t dlfeat;
	uint16_t nawun;
	uint16_t nawupf;
	uint16_t nacwu;
	uint16_t nabsn;
	uint16_t nabo;
	uint16_t nabspf;
	uint16_t noiob;
	uint8_t nvmcap[16];
	uint16_t npwg;
	uint16_t npwa;
	uint16_t npdg;
	uint16_t npda;
	uint16_t nows;
	uint8_t rsvd74[18];
	uint32_t anagrpid;
	uint8_t rsvd96[3];
	uint8_t nsattr;
	uint16_t nvmsetid;
	uint16_t endgid;
	uint8_t nguid[16];
	uint8_t eui64[8];
	struct nvme_lbaf lbaf[16];
	uint8_t rsvd192[192];
	uint8_t vs[3712];
} __attribute__((packed));
_Static_assert(sizeof(struct nvme_id_ns) == 4096, "id ns");
_Static_assert(__builtin_offsetof(struct nvme_id_ns, nguid) == 104, "nguid");
_Static_assert(__builtin_offsetof(struct nvme_id_ns, lbaf) == 128, "lbaf");

#define NVME_NSFEAT_THIN (1u << 0)
#define NVME_NSFEAT_DEALLOC_ERROR (1u << 2)
#define NVME_NSFEAT_OPT_PERF (1u << 4)
/* DLFEAT: deallocated blocks read as zeroes, write zeroes may deallocate */
#define NVME_DLFEAT_READ_ZEROES 0x01
#define NVME_DLFEAT_WZ_DEALLOC (1u << 3)

/* Namespace identification descriptor (CNS 03h) */
enum nvme_nidt {
	NVME_NIDT_EUI64 = 0x01,
	NVME_NIDT_NGUID = 0x02,
	NVME_NIDT_UUID = 0x03,
	NVME_NIDT_CSI = 0x04,
};
#define NVME_NIDT_EUI64_LEN 8
#define NVME_NIDT_NGUID_LEN 16
#define NVME_NIDT_UUID_LEN 16
#define NVME_NIDT_CSI_LEN 1

struct nvme_ns_id_desc {
	uint8_t nidt;
	uint8_t nidl;
	uint16_t rsvd;
	/* nidl bytes of identifier follow */
} __attribute__((packed));
_Static_assert(sizeof(struct nvme_ns_id_desc) == 4, "ns id desc");

/* ---- Log pages --------------------------------------------------------- */

enum nvme_log_id {
	NVME_LOG_SUPPORTED = 0x00,
	NVME_LOG_ERROR = 0x01,
	NVME_LOG_SMART = 0x02,
	NVME_LOG_FW_SLOT = 0x03,
	NVME_LOG_CHANGED_NS = 0x04,
	NVME_LOG_CMD_EFFECTS = 0x05,
	NVME_LOG_DEVICE_SELF_TEST = 0x06,
	NVME_LOG_TELEMETRY_HOST = 0x07,
	NVME_LOG_TELEMETRY_CTRL = 0x08,
	NVME_LOG_ENDURANCE_GROUP = 0x09,
	NVME_LOG_ANA = 0x0c,
	NVME_LOG_DISCOVERY = 0x70,
	NVME_LOG_RESERVATION = 0x80,
	NVME_LOG_SANITIZE = 0x81,
};

struct nvme_error_log_entry {
	uint64_t error_count;
	uint16_t sqid;
	uint16_t cid;
	uint16_t status; /* phase (bit 0) + status field, as in a CQE */
	uint16_t parm_error_location;
	uint64_t lba;
	uint32_t nsid;
	uint8_t vs;
	uint8_t trtype;
	uint8_t rsvd30[2];
	uint64_t cs;
	uint16_t trtype_spec_info;
	uint8_t rsvd42[22];
} __attribute__((packed));
_Static_assert(sizeof(struct nvme_error_log_entry) == 64, "error log entry");

/* SMART critical warning bits */
#define NVME_SMART_CRIT_SPARE (1u << 0)
#define NVME_SMART_CRIT_TEMPERATURE (1u << 1)
#define NVME_SMART_CRIT_RELIABILITY (1u << 2)
#define NVME_SMART_CRIT_READ_ONLY (1u << 3)
#define NVME_SMART_CRIT_VOLATILE_BACKUP (1u << 4)
#define NVME_SMART_CRIT_PMR_RO (1u << 5)

/* 128-bit counters are little endian byte arrays in the spec. */
struct nvme_smart_log {
	uint8_t critical_warning;
	uint8_t temperature[2]; /* Kelvin */
	uint8_t avail_spare;
	uint8_t spare_thresh;
	uint8_t percent_used;
	uint8_t endu_grp_crit_warn;
	uint8_t rsvd7[25];
	uint8_t data_units_read[16]; /* thousands of 512-byte units */
	uint8_t data_units_written[16];
	uint8_t host_reads[16];
	uint8_t host_writes[16];
	uint8_t ctrl_busy_time[16];
	uint8_t power_cycles[16];
	uint8_t power_on_hours[16];
	uint8_t unsafe_shutdowns[16];
	uint8_t media_errors[16];
	uint8_t num_err_log_entries[16];
	uint32_t warning_temp_time;
	uint32_t critical_comp_time;
	uint16_t temp_sensor[8];
	uint32_t thm_temp1_trans_count;
	uint32_t thm_temp2_trans_count;
	uint32_t thm_temp1_total_time;
	uint32_t thm_temp2_total_time;
	uint8_t rsvd232[280];
} __attribute__((packed));
_Static_assert(sizeof(struct nvme_smart_log) == 512, "smart log");
_Static_assert(__builtin_offsetof(struct nvme_smart_log, data_units_read) == 32, "dur");
_Static_assert(__builtin_offsetof(struct nvme_smart_log, warning_temp_time) == 192, "wtt");

struct nvme_fw_slot_log {
	uint8_t afi;
	uint8_t rsvd1[7];
	char frs[7][8];
	uint8_t rsvd64[448];
} __attribute__((packed));
_Static_assert(sizeof(struct nvme_fw_slot_log) == 512, "fw log");

#define NVME_CHANGED_NS_MAX 1024
struct nvme_changed_ns_log {
	uint32_t nsid[NVME_CHANGED_NS_MAX];
} __attribute__((packed));
_Static_assert(sizeof(struct nvme_changed_ns_log) == 4096, "changed ns");

/* Commands Supported and Effects entry bits */
#define NVME_CMD_EFFECTS_CSUPP (1u << 0)
#define NVME_CMD_EFFECTS_LBCC (1u << 1)
#define NVME_CMD_EFFECTS_NCC (1u << 2)
#define NVME_CMD_EFFECTS_NIC (1u << 3)
#define NVME_CMD_EFFECTS_CCC (1u << 4)
#define NVME_CMD_EFFECTS_CSE_SHIFT 16

struct nvme_cmd_effects_log {
	uint32_t acs[256];
	uint32_t iocs[256];
	uint8_t rsvd[2048];
} __attribute__((packed));
_Static_assert(sizeof(struct nvme_cmd_effects_log) == 4096, "effects");

/* Discovery log page (70h) */
enum nvmf_trtype {
	NVMF_TRTYPE_RDMA = 1,
	NVMF_TRTYPE_FC = 2,
	NVMF_TRTYPE_TCP = 3,
	NVMF_TRTYPE_LOOP = 254,
};
enum nvmf_adrfam {
	NVMF_ADRFAM_IPV4 = 1,
	NVMF_ADRFAM_IPV6 = 2,
};
enum nvmf_subtype {
	NVMF_SUBTYPE_REFERRAL = 1,
	NVMF_SUBTYPE_NVME = 2,
	NVMF_SUBTYPE_DISCOVERY = 3,
};
#define NVMF_TREQ_NOT_SPECIFIED 0x0
#define NVMF_TREQ_NOT_REQUIRED 0x2
#define NVMF_TREQ_DISABLE_SQFLOW 0x4
#define NVMF_TCP_SECTYPE_NONE 0

#define NVME_DISC_SUBSYS_NAME "nqn.2014-08.org.nvmexpress.discovery"
#define NVME_NQN_MAX 223 /* bytes, without the terminating NUL */

struct nvmf_disc_log_entry {
	uint8_t trtype;
	uint8_t adrfam;
	uint8_t subtype;
	uint8_t treq;
	uint16_t portid;
	uint16_t cntlid;
	uint16_t asqsz;
	uint16_t eflags;
	uint8_t rsvd12[20];
	char trsvcid[32];
	uint8_t rsvd64[192];
	char subnqn[256];
	char traddr[256];
	uint8_t tsas[256];
} __attribute__((packed));
_Static_assert(sizeof(struct nvmf_disc_log_entry) == 1024, "disc entry");

struct nvmf_disc_log_hdr {
	uint64_t genctr;
	uint64_t numrec;
	uint16_t recfmt;
	uint8_t rsvd[1006];
} __attribute__((packed));
_Static_assert(sizeof(struct nvmf_disc_log_hdr) == 1024, "disc hdr");

/* ---- Features --------------------------------------------------------- */

enum nvme_feat_id {
	NVME_FEAT_ARBITRATION = 0x01,
	NVME_FEAT_POWER_MGMT = 0x02,
	NVME_FEAT_LBA_RANGE = 0x03,
	NVME_FEAT_TEMP_THRESH = 0x04,
	NVME_FEAT_ERR_RECOVERY = 0x05,
	NVME_FEAT_VOLATILE_WC = 0x06,
	NVME_FEAT_NUM_QUEUES = 0x07,
	NVME_FEAT_IRQ_COALESCE = 0x08,
	NVME_FEAT_IRQ_CONFIG = 0x09,
	NVME_FEAT_WRITE_ATOMIC = 0x0a,
	NVME_FEAT_ASYNC_EVENT = 0x0b,
	NVME_FEAT_AUTO_PST = 0x0c,
	NVME_FEAT_HOST_MEM_BUF = 0x0d,
	NVME_FEAT_TIMESTAMP = 0x0e,
	NVME_FEAT_KATO = 0x0f,
	NVME_FEAT_HCTM = 0x10,
	NVME_FEAT_NOPSC = 0x11,
	NVME_FEAT_RRL = 0x12,
	NVME_FEAT_PLM_CONFIG = 0x13,
	NVME_FEAT_PLM_WINDOW = 0x14,
	NVME_FEAT_HOST_BEHAVIOR = 0x16,
	NVME_FEAT_SANITIZE = 0x17,
	NVME_FEAT_ENDURANCE_EVT = 0x18,
	NVME_FEAT_SW_PROGRESS = 0x80,
	NVME_FEAT_HOST_ID = 0x81,
	NVME_FEAT_RESV_MASK = 0x82,
	NVME_FEAT_RESV_PERSIST = 0x83,
	NVME_FEAT_WRITE_PROTECT = 0x84,
};

/* Get Features SEL field (CDW10 bits 10:8) */
enum nvme_feat_sel {
	NVME_FEAT_SEL_CURRENT = 0,
	NVME_FEAT_SEL_DEFAULT = 1,
	NVME_FEAT_SEL_SAVED = 2,
	NVME_FEAT_SEL_SUPPORTED = 3,
};
#define NVME_FEAT_CAP_SAVEABLE (1u << 0)
#define NVME_FEAT_CAP_NS_SPECIFIC (1u << 1)
#define NVME_FEAT_CAP_CHANGEABLE (1u << 2)

/* ---- Asynchronous events ---------------------------------------------- */

enum nvme_aen_type {
	NVME_AER_TYPE_ERROR = 0,
	NVME_AER_TYPE_SMART = 1,
	NVME_AER_TYPE_NOTICE = 2,
	NVME_AER_TYPE_IO_CMD_SET = 6,
	NVME_AER_TYPE_VENDOR = 7,
};
/* Async event information for the error type */
enum nvme_aen_info_error {
	NVME_AER_ERR_INVALID_DB_REGISTER = 0x00,
	NVME_AER_ERR_INVALID_DB_VALUE = 0x01,
	NVME_AER_ERR_DIAG_FAILURE = 0x02,
	NVME_AER_ERR_PERSISTENT_INTERNAL = 0x03,
	NVME_AER_ERR_TRANSIENT_INTERNAL = 0x04,
	NVME_AER_ERR_FW_IMAGE_LOAD = 0x05,
};
/* ... for SMART / health */
enum nvme_aen_info_smart {
	NVME_AER_SMART_RELIABILITY = 0x00,
	NVME_AER_SMART_TEMP_THRESH = 0x01,
	NVME_AER_SMART_SPARE_THRESH = 0x02,
};
/* ... for notices */
enum nvme_aen_info_notice {
	NVME_AER_NOTICE_NS_CHANGED = 0x00,
	NVME_AER_NOTICE_FW_ACT_STARTING = 0x01,
	NVME_AER_NOTICE_TELEMETRY = 0x02,
	NVME_AER_NOTICE_ANA_CHANGE = 0x03,
	NVME_AER_NOTICE_DISC_CHANGED = 0xf0,
};
/* Async Event Configuration feature (0Bh) bits */
#define NVME_AEC_SMART_MASK 0xffu
#define NVME_AEC_NS_ATTR (1u << 8)
#define NVME_AEC_FW_ACTIVATION (1u << 9)
#define NVME_AEC_DISC_CHANGE (1u << 31)

/* CQE Dword 0 of a completed Asynchronous Event Request */
#define NVME_AER_CDW0(type, info, lid) \
	((uint32_t)(type) | ((uint32_t)(info) << 8) | ((uint32_t)(lid) << 16))

/* ---- NVM command set fields ---------------------------------------------- */

/* Read/Write/Compare/Write Zeroes: SLBA in CDW10-11, NLB (0-based) in CDW12 15:0 */
#define NVME_RW_NLB(cdw12) (((cdw12)&0xffffu) + 1u)
#define NVME_RW_FUA (1u << 30)
#define NVME_RW_LR (1u << 31)
#define NVME_WZ_DEAC (1u << 25)

/* Dataset Management */
#define NVME_DSM_IDR (1u << 0)
#define NVME_DSM_IDW (1u << 1)
#define NVME_DSM_AD (1u << 2)
#define NVME_DSM_MAX_RANGES 256
struct nvme_dsm_range {
	uint32_t cattr;
	uint32_t nlb; /* not zero-based */
	uint64_t slba;
} __attribute__((packed));
_Static_assert(sizeof(struct nvme_dsm_range) == 16, "dsm range");

/* Format NVM CDW10 fields */
#define NVME_FORMAT_LBAF(cdw10) ((cdw10)&0xfu)
#define NVME_FORMAT_MSET (1u << 4)
#define NVME_FORMAT_PI(cdw10) (((cdw10) >> 5) & 0x7u)
#define NVME_FORMAT_SES(cdw10) (((cdw10) >> 9) & 0x7u)

#define NVME_NSID_ALL 0xffffffffu

#endif /* FRANKENDRIVE_NVME_H */

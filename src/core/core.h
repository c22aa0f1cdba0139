/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The controller core: subsystems, namespaces, controllers, queues and the
 * request object that travels the pipeline.  Nothing here knows a
 * transport; transports see the core through transport.h.
 */
#ifndef FDR_CORE_H
#define FDR_CORE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <frankendrive/nvme.h>

#include "backend/bdev.h"
#include "common/reactor.h"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
	       "NVMe structures are little endian; so must the host be");

#define FDR_MAX_NS 32          /* namespaces per subsystem */
#define FDR_MAX_CTRLS 64       /* live controllers per subsystem */
#define FDR_MAX_IO_QUEUES 64   /* I/O queues per controller */
#define FDR_MAX_QDEPTH 1024    /* entries per queue (MQES + 1) */
#define FDR_ADMIN_QDEPTH 32    /* admin queue entries we accept */
#define FDR_AERL 4             /* outstanding AERs (ACL/AERL are zero-based) */
#define FDR_ERROR_LOG_ENTRIES 64
#define FDR_PAGE_SIZE 4096u
#define FDR_MDTS 5             /* 2^5 pages = 128 KiB per command */
#define FDR_MAX_XFER (FDR_PAGE_SIZE << FDR_MDTS)
#define FDR_NQN_SIZE 224       /* NVME_NQN_MAX + NUL */
#define FDR_KATO_DEFAULT_MS 120000
#define FDR_KAS_MS 100         /* Identify KAS granularity: 100 ms units */
#define FDR_PCI_MAX_VECTORS 128 /* interrupt vectors a PCIe controller may name */

struct fdr_req;
struct fdr_queue;
struct fdr_ctrl;
struct fdr_subsys;
struct fdr_target;
struct fdr_transport_ops;
struct fdr_ctrl_ops;

/* Relaxed stores keep per-queue counters race free to read from another
 * reactor without costing the owner more than a plain add. */
static inline void fdr_stat_add(uint64_t *p, uint64_t v)
{
	__atomic_store_n(p, __atomic_load_n(p, __ATOMIC_RELAXED) + v, __ATOMIC_RELAXED);
}
static inline uint64_t fdr_stat_read(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

/* What the SMART / health log counts. */
struct fdr_io_stats {
	uint64_t read_cmds;
	uint64_t write_cmds;
	uint64_t read_bytes;
	uint64_t write_bytes;
	uint64_t media_errors;
	uint64_t busy_ns; /* time with commands outstanding (approximate) */
};

/* ---- Request ------------------------------------------------------- */

enum fdr_req_state {
	FDR_REQ_FREE = 0,
	FDR_REQ_FETCH,
	FDR_REQ_DECODE,
	FDR_REQ_DATA_IN, /* waiting for host data */
	FDR_REQ_EXECUTE,
	FDR_REQ_WRITEBACK, /* handed to the transport to post */
};

struct fdr_req {
	struct nvme_sqe cmd;
	struct nvme_cqe cpl; /* cdw0/cdw1 set by execute; the rest at writeback */
	uint16_t status;     /* NVME_STATUS(...) | DNR..., no phase bit */
	uint8_t state;       /* enum fdr_req_state */
	uint8_t xfer;        /* NVME_OPC_XFER_* of the data phase */
	uint16_t idx;        /* index in the queue's pool */
	uint16_t rsvd;
	uint32_t data_len;   /* bytes the data phase moves */
	uint32_t buf_cap;
	uint8_t *buf;        /* data buffer, at least data_len bytes */
	/* A read's data lands in host memory itself (the transport's
	 * data_direct), not in buf: see fdr_req_data(). */
	uint8_t *direct;
	struct fdr_queue *q;
	struct fdr_ns *ns;   /* I/O commands, after decode */
	uint64_t t_fetch;    /* fdr_record_stamp() at fetch (0: not recording) */
	uint64_t t_done;     /* ... at writeback */
	/* The execute stage's handler, chosen at decode. */
	void (*exec)(struct fdr_req *req);
	/* Where a command held by a tap callback goes on when resumed. */
	void (*resume)(struct fdr_req *req);
	/* Execution scratch for handlers. */
	uint64_t slba;
	uint32_t nlb;
	uint32_t iter; /* e.g. DSM range index */
	struct fdr_bdev_io bio;
	/* Transport scratch: the transport's own per-request state. */
	uint64_t tpriv[4];
	struct fdr_req *next_free;
};

/* ---- Namespace ------------------------------------------------------- */

/* Ranges marked by Write Uncorrectable; reads of them fail. */
struct fdr_lba_range {
	uint64_t slba;
	uint64_t nlb;
};

struct fdr_ns {
	uint32_t nsid;
	uint8_t lbads;       /* log2 of the LBA size: 9 or 12 */
	uint8_t flbas;       /* index into the LBA formats we offer */
	uint64_t nsze;       /* in LBAs */
	struct fdr_bdev *bdev;
	uint8_t eui64[8];
	uint8_t nguid[16];
	uint8_t uuid[16];
	/* Write Uncorrectable ranges: cold path, under lock; n is read without. */
	pthread_mutex_t unc_lock;
	struct fdr_lba_range *unc;
	uint32_t unc_n;
	uint32_t unc_cap;
};

/* LBA formats offered in Identify Namespace: index 0 = 512 B, 1 = 4 KiB. */
#define FDR_NR_LBAF 2
extern const uint8_t fdr_lbaf_lbads[FDR_NR_LBAF];

struct fdr_ns *fdr_ns_create(uint32_t nsid, struct fdr_bdev *bdev, uint32_t lba_size,
			     const char *subnqn, char *err, size_t errlen);
void fdr_ns_destroy(struct fdr_ns *ns);
/* Change the LBA format (Format NVM); the backend's contents are erased. */
int fdr_ns_format(struct fdr_ns *ns, uint8_t lbaf);
static inline uint32_t fdr_ns_lba_size(const struct fdr_ns *ns)
{
	return 1u << ns->lbads;
}
/* Write Uncorrectable bookkeeping */
int fdr_ns_unc_mark(struct fdr_ns *ns, uint64_t slba, uint64_t nlb);
void fdr_ns_unc_clear(struct fdr_ns *ns, uint64_t slba, uint64_t nlb);
/* First uncorrectable LBA within [slba, slba+nlb), or UINT64_MAX. */
uint64_t fdr_ns_unc_find(struct fdr_ns *ns, uint64_t slba, uint64_t nlb);

/* ---- Features (per controller) ---------------------------------------- */

#define FDR_NR_TEMP_SENSORS 9 /* composite + 8 */
struct fdr_features {
	uint32_t arbitration;
	uint32_t power_mgmt;
	uint16_t temp_over[FDR_NR_TEMP_SENSORS];  /* Kelvin */
	uint16_t temp_under[FDR_NR_TEMP_SENSORS];
	uint32_t err_recovery;
	bool vwc_enabled;
	uint16_t nr_io_sq; /* granted, zero-based; valid if nr_queues_set */
	uint16_t nr_io_cq;
	bool nr_queues_set;
	uint32_t irq_coalesce; /* atomic: the PCIe transport reads it */
	/* Interrupt Vector Configuration, PCIe only: CD (coalescing disabled)
	 * per vector, atomic (the transport reads it from any reactor). */
	uint32_t irq_cd[FDR_PCI_MAX_VECTORS / 32];
	uint32_t write_atomic;
	uint32_t async_event_cfg;
	uint32_t auto_pst;
	uint32_t sw_progress;
	uint32_t host_behavior;
	uint8_t hostid[16];
	bool hostid_ext; /* 128-bit host identifier */
	uint64_t timestamp_ms;    /* host's value at the time it set it */
	uint64_t timestamp_set_ns; /* fdr_now_ns() when set, 0 if never */
	uint64_t reset_ns; /* timestamp base after a reset (admin.c sets it if 0) */
};

/* ---- Controller --------------------------------------------------------- */

struct fdr_aen_event {
	uint32_t cdw0; /* NVME_AER_CDW0(type, info, lid) */
};

/*
 * A PCIe (local) controller's own state: what the host put in the
 * registers and the queue table.  Fabrics controllers have none
 * (ctrl->pci == NULL).  Admin reactor only, unless said otherwise.
 */
struct fdr_pci_cq {
	bool live;
	bool ien;        /* interrupts enabled */
	uint16_t size;   /* entries (QSIZE + 1) */
	uint16_t iv;     /* interrupt vector */
	uint16_t nr_sq;  /* SQs bound to it (including ones still draining) */
	uint64_t base;   /* PRP1: physically contiguous ring */
};

enum fdr_pci_sq_state {
	FDR_PCI_SQ_FREE = 0,
	FDR_PCI_SQ_LIVE,
	FDR_PCI_SQ_DELETING, /* closing; the queue drains, then it is free */
};

struct fdr_pci_sq {
	uint8_t state;   /* enum fdr_pci_sq_state */
	uint8_t qprio;
	uint16_t cqid;
	uint16_t size;   /* entries */
	uint64_t base;
	struct fdr_queue *q;
	struct fdr_req *del_req; /* the Delete I/O SQ waiting for the drain */
};

struct fdr_ctrl_pci {
	const struct fdr_ctrl_ops *ops;
	void *tctx;           /* the transport's function */
	uint16_t nr_vectors;  /* interrupt vectors the function offers (>= 1) */
	uint16_t vid, ssvid;  /* Identify VID/SSVID */
	uint32_t sgls;        /* Identify SGLS (0: PRPs only) */
	uint32_t rec_conn;    /* recorder events: FDR_REC_PCI_CONN(gen, bdf) */
	uint32_t intms;       /* interrupt mask (INTMS/INTMC); atomic */
	uint32_t aqa;
	uint64_t asq, acq;
	struct fdr_pci_cq cq[FDR_MAX_IO_QUEUES + 1]; /* [0]: admin CQ */
	struct fdr_pci_sq sq[FDR_MAX_IO_QUEUES + 1]; /* [0]: admin SQ */
	unsigned draining;    /* SQs closing for a reset, not yet drained */
	bool resetting;       /* controller reset under way (RDY still 1) */
	bool nssr;            /* ... and it is an NVM subsystem reset */
};

struct fdr_ctrl {
	struct fdr_subsys *subsys;
	struct fdr_ctrl_pci *pci; /* PCIe controllers only; NULL on fabrics */
	uint16_t cntlid;
	char hostnqn[FDR_NQN_SIZE];
	uint8_t hostid[16];
	struct fdr_reactor *reactor; /* the admin queue's reactor */

	/* Controller registers, as Property Get/Set see them */
	uint64_t cap;
	uint32_t vs;
	uint32_t cc;
	uint32_t csts; /* written from any thread (CFS): use atomics */

	uint32_t kato_ms; /* 0: disabled */
	struct fdr_timer kato_timer;
	uint64_t last_keep_alive_ns;

	struct fdr_features feat;

	struct fdr_queue *admin_q;
	/* Under subsys->lock: */
	struct fdr_queue *ioq[FDR_MAX_IO_QUEUES + 1];

	/* Admin-reactor only: outstanding Asynchronous Event Requests */
	struct fdr_req *aer[FDR_AERL];
	uint32_t nr_aer;

	/* Under lock: cold, shared state */
	pthread_mutex_t lock;
	struct nvme_error_log_entry errlog[FDR_ERROR_LOG_ENTRIES]; /* ring */
	uint64_t errlog_count; /* total errors recorded; newest has this count */
	struct fdr_aen_event aen_pending[16];
	uint32_t aen_npending;
	uint32_t aen_masked; /* bit per event type: waiting for the log read */
	uint8_t aen_mask_lid[8]; /* per masked type: the log page that clears it */
	uint32_t changed_ns[NVME_CHANGED_NS_MAX];
	uint32_t nr_changed_ns; /* > NVME_CHANGED_NS_MAX means overflowed */

	int refs; /* atomic: queues and messages holding it */
	bool dead; /* torn down; no new queues */
};

/*
 * Controller lifetime: created by an admin Connect, torn down when its
 * admin queue goes away, keep-alive expires, or the host disables it.
 */
struct fdr_ctrl *fdr_ctrl_create(struct fdr_subsys *subsys, struct fdr_queue *admin_q,
				 const char *hostnqn, const uint8_t hostid[16], uint32_t kato_ms,
				 uint16_t *status);
void fdr_ctrl_get(struct fdr_ctrl *ctrl);
void fdr_ctrl_put(struct fdr_ctrl *ctrl);
/* Disconnect every queue of ctrl and forget it; admin reactor only. */
void fdr_ctrl_teardown(struct fdr_ctrl *ctrl, const char *reason);
/* Register access (Property Get/Set on fabrics, MMIO on PCIe). */
uint16_t fdr_ctrl_reg_read(struct fdr_ctrl *ctrl, uint32_t ofst, unsigned size, uint64_t *val);
uint16_t fdr_ctrl_reg_write(struct fdr_ctrl *ctrl, uint32_t ofst, unsigned size, uint64_t val);
/* Keep-alive: a command that counts as host liveness. */
void fdr_ctrl_keep_alive(struct fdr_ctrl *ctrl);
/* Set CSTS.CFS; any thread. */
void fdr_ctrl_set_fatal(struct fdr_ctrl *ctrl);
static inline bool fdr_ctrl_ready(const struct fdr_ctrl *ctrl)
{
	return __atomic_load_n(&ctrl->csts, __ATOMIC_ACQUIRE) & NVME_CSTS_RDY;
}

/* Error information log: record a failed command; any thread. */
void fdr_ctrl_log_error(struct fdr_ctrl *ctrl, const struct fdr_req *req, uint64_t lba,
			uint16_t param_loc);
/* Raise an asynchronous event; any thread.  Delivered on the admin reactor
 * to an outstanding AER, or kept until one arrives. */
void fdr_ctrl_raise_aen(struct fdr_ctrl *ctrl, uint8_t type, uint8_t info, uint8_t lid);
/* A log page the host read with RAE=0 re-enables its event type. */
void fdr_ctrl_aen_log_read(struct fdr_ctrl *ctrl, uint8_t lid);
/* Complete pending AERs with status (reset/teardown). */
void fdr_ctrl_aer_abort_all(struct fdr_ctrl *ctrl, uint16_t status);

/* ---- Subsystem and target ------------------------------------------------ */

enum fdr_subsys_type {
	FDR_SUBSYS_NVME,
	FDR_SUBSYS_DISCOVERY,
};

struct fdr_subsys {
	enum fdr_subsys_type type;
	char nqn[FDR_NQN_SIZE];
	char sn[21];
	char mn[41];
	char fr[9];
	uint16_t max_io_queues;  /* offered per controller */
	uint16_t max_qdepth;     /* MQES + 1 */
	uint32_t inline_data_size; /* in-capsule data for I/O queues (bytes) */
	struct fdr_ns *ns[FDR_MAX_NS + 1]; /* by nsid; [0] unused */
	uint32_t nr_ns;
	/* NULL-terminated allow-list of host NQNs; NULL means any host. */
	char **allowed_hosts;

	pthread_mutex_t lock;
	struct fdr_ctrl *ctrls[FDR_MAX_CTRLS];
	uint16_t next_cntlid;
	struct fdr_io_stats closed_stats; /* folded in from drained queues, under lock */
	struct fdr_queue *queues;         /* connected queues, under lock */
	uint8_t critical_warning;         /* atomic */
	uint16_t temperature;             /* Kelvin, atomic */
	uint8_t avail_spare;              /* percent, atomic */
	uint8_t percent_used;             /* atomic */
	uint64_t extra_media_errors;      /* added by plug-ins, atomic */
	uint64_t created_ns;
	uint64_t unsafe_shutdowns;
	struct fdr_target *target;
};

struct fdr_subsys *fdr_subsys_create(struct fdr_target *t, enum fdr_subsys_type type,
				     const char *nqn);
void fdr_subsys_destroy(struct fdr_subsys *s);
int fdr_subsys_add_ns(struct fdr_subsys *s, struct fdr_ns *ns, char *err, size_t errlen);
bool fdr_subsys_host_allowed(const struct fdr_subsys *s, const char *hostnqn);
/* Call fn on every live controller of s, holding a reference, outside
 * s->lock (so fn may raise events, which can complete AERs). */
void fdr_subsys_for_each_ctrl(struct fdr_subsys *s, void (*fn)(struct fdr_ctrl *c, void *arg),
			      void *arg);
/* Link a connected queue into s->queues; call with s->lock held. */
void fdr_subsys_link_queue(struct fdr_subsys *s, struct fdr_queue *q);
/* dst += src, reading src's counters atomically. */
void fdr_io_stats_add(struct fdr_io_stats *dst, const struct fdr_io_stats *src);
/* Sum of closed and live queues' counters. */
void fdr_subsys_io_stats(struct fdr_subsys *s, struct fdr_io_stats *out);
/* Namespace by nsid, or NULL. */
static inline struct fdr_ns *fdr_subsys_ns(const struct fdr_subsys *s, uint32_t nsid)
{
	return (nsid >= 1 && nsid <= FDR_MAX_NS) ? s->ns[nsid] : NULL;
}

/* A listening address, as the discovery log reports it. */
struct fdr_port {
	uint16_t portid;
	uint8_t trtype; /* NVMF_TRTYPE_* */
	uint8_t adrfam; /* NVMF_ADRFAM_* */
	char traddr[64];
	char trsvcid[32];
	bool discovery_only; /* e.g. 8009: serves only the discovery subsystem */
};

#define FDR_MAX_SUBSYS 16
#define FDR_MAX_PORTS 8

struct fdr_target {
	struct fdr_subsys *subsys[FDR_MAX_SUBSYS];
	uint32_t nr_subsys;
	struct fdr_subsys *disc; /* the discovery subsystem */
	struct fdr_port ports[FDR_MAX_PORTS];
	uint32_t nr_ports;
	uint64_t disc_genctr;
	uint64_t start_ns;
};

struct fdr_target *fdr_target_create(void);
void fdr_target_destroy(struct fdr_target *t);
struct fdr_subsys *fdr_target_find_subsys(struct fdr_target *t, const char *nqn);
struct fdr_port *fdr_target_add_port(struct fdr_target *t, uint8_t trtype, const char *addr,
				     const char *svcid);

/* ---- Queues ---------------------------------------------------------------- */

struct fdr_queue {
	struct fdr_ctrl *ctrl; /* NULL until Connect */
	struct fdr_target *target;
	struct fdr_port *port;
	uint16_t qid;
	uint16_t depth;  /* entries (sqsize + 1) once connected */
	uint16_t sqhd;
	bool sq_flow_disabled;
	bool closing;  /* fdr_queue_close() was called */
	bool in_close; /* inside fdr_queue_close(): drained is reported after */
	bool drained;  /* queue_drained() was called */
	/* PCIe SQ deletion: the status commands finishing after close get
	 * (Aborted due to SQ Deletion), and the core's own drain hook, run
	 * just before ops->queue_drained() while q->ctrl is still set. */
	uint16_t abort_status;
	void (*core_drained)(struct fdr_queue *q);
	struct fdr_reactor *reactor;
	const struct fdr_transport_ops *ops;
	void *tctx; /* the transport's connection */
	char peer[64]; /* "ip:port", for logs */
	uint32_t id;   /* the transport's connection id (traces, recorder) */
	uint8_t xport; /* FDR_REC_XPORT_*: what id means to the recorder */

	struct fdr_req *reqs;
	uint16_t nr_reqs;
	uint16_t nr_inflight;
	struct fdr_req *free_list;
	uint64_t busy_since_ns;

	struct fdr_io_stats stats; /* fdr_stat_add() only */
	/* In the subsystem's list of connected queues, under subsys->lock,
	 * from Connect until drained: the health log sums them. */
	struct fdr_queue *s_next;
	struct fdr_queue **s_pprev;
};

/* ---- Pipeline ----------------------------------------------------------- */

/* Stage entry points, in pipeline order.  Each runs on the queue's reactor. */
void fdr_stage_fetch(struct fdr_req *req);
void fdr_stage_decode(struct fdr_req *req);
void fdr_stage_execute(struct fdr_req *req);
void fdr_stage_writeback(struct fdr_req *req);

/* Handlers finish the execute stage with this; status is NVME_STATUS()... */
void fdr_req_complete(struct fdr_req *req, uint16_t status);
/* Where the command's data is: host memory for a direct read, else buf. */
static inline uint8_t *fdr_req_data(const struct fdr_req *req)
{
	return req->direct ? req->direct : req->buf;
}
/* Move a direct read's data into buf (before the command may wait: host
 * memory can be unmapped meanwhile); the transport then copies it out. */
void fdr_req_undirect(struct fdr_req *req);

/* Ensure req->buf holds len bytes, keeping its contents; NULL on
 * allocation failure (the old buffer stays). */
uint8_t *fdr_req_buf_reserve(struct fdr_req *req, uint32_t len);
static inline bool fdr_req_is_admin(const struct fdr_req *req)
{
	return req->q->qid == 0;
}

/* Command set decode: set req->exec, data_len, xfer; return a status. */
uint16_t fdr_admin_decode(struct fdr_req *req);
uint16_t fdr_io_decode(struct fdr_req *req);
uint16_t fdr_fabrics_decode(struct fdr_req *req);

/* Copy bytes of a controller-to-host structure into the data buffer,
 * honouring the log/identify offset rules (callers zero-fill the rest). */
void fdr_req_copy_out(struct fdr_req *req, const void *src, size_t src_len, uint64_t offset);

/* Fixed-width, space padded string field (SN, MN, FR, trsvcid). */
void fdr_strpad(char *dst, size_t width, const char *src);

#endif /* FDR_CORE_H */

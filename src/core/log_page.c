/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Get Log Page (02h) and the Error Information log it reports.  Every
 * page is built whole, then the host's window (offset, length) of it is
 * copied out; bytes past the end of a page read as zero.
 */
#include <stdio.h>
#include <stdlib.h>

#include "admin.h"

#define LOG_LID(cdw10) ((uint8_t)((cdw10) & 0xff))
#define LOG_RAE (1u << 15)
#define LOG_PAGE_MAX 4096 /* largest fixed-size page */

/* Discovery log entry flags (EFLAGS) */
#define DISC_EFLAGS_DUPRETINFO (1u << 0) /* returns this same log */
#define DISC_EFLAGS_EPCSD (1u << 1)      /* persistent connections supported */
/* Commands Supported and Effects: CSE 001b, nothing else to that namespace. */
#define EFFECTS_CSE_NS (1u << NVME_CMD_EFFECTS_CSE_SHIFT)

/* ---- Error information ------------------------------------------------ */

void fdr_ctrl_log_error(struct fdr_ctrl *ctrl, const struct fdr_req *req, uint64_t lba,
			uint16_t param_loc)
{
	struct nvme_error_log_entry *e;

	pthread_mutex_lock(&ctrl->lock);
	ctrl->errlog_count++;
	e = &ctrl->errlog[(ctrl->errlog_count - 1) % FDR_ERROR_LOG_ENTRIES];
	memset(e, 0, sizeof(*e));
	e->error_count = ctrl->errlog_count;
	e->sqid = req->q->qid;
	e->cid = req->cmd.cid;
	e->status = (uint16_t)(req->status << 1); /* phase bit 0 */
	e->parm_error_location = param_loc;
	e->lba = lba;
	e->nsid = req->cmd.nsid;
	/* TRTYPE stays 0: these errors are not transport errors. */
	pthread_mutex_unlock(&ctrl->lock);
}

/* Newest first; slots never written stay zero (error count 0). */
static size_t build_error_log(struct fdr_ctrl *ctrl, uint8_t *page)
{
	struct nvme_error_log_entry *out = (struct nvme_error_log_entry *)page;

	memset(page, 0, FDR_ERROR_LOG_ENTRIES * sizeof(*out));
	pthread_mutex_lock(&ctrl->lock);
	for (uint64_t i = 0; i < FDR_ERROR_LOG_ENTRIES && i < ctrl->errlog_count; i++) {
		uint64_t count = ctrl->errlog_count - i;

		out[i] = ctrl->errlog[(count - 1) % FDR_ERROR_LOG_ENTRIES];
	}
	pthread_mutex_unlock(&ctrl->lock);
	return FDR_ERROR_LOG_ENTRIES * sizeof(*out);
}

/* ---- SMART / health ---------------------------------------------------- */

/* "Thousands of 512-byte units, rounded up." */
static uint64_t data_units(uint64_t bytes)
{
	return (bytes + 512 * 1000 - 1) / (512 * 1000);
}

/*
 * Counters are subsystem wide: I/O statistics are kept per queue, not
 * per namespace, so a per-namespace request (LPA bit 0) gets the same
 * numbers.  Error entries are this controller's, as the spec defines.
 */
static size_t build_smart_log(struct fdr_ctrl *ctrl, uint8_t *page)
{
	struct nvme_smart_log *sl = (struct nvme_smart_log *)page;
	struct fdr_subsys *s = ctrl->subsys;
	struct fdr_io_stats st = { 0 };
	uint64_t now = fdr_now_ns(), errors;
	uint16_t temp = fdr_adm_temperature(s);

	fdr_subsys_io_stats(s, &st);
	pthread_mutex_lock(&ctrl->lock);
	errors = ctrl->errlog_count;
	pthread_mutex_unlock(&ctrl->lock);

	memset(sl, 0, sizeof(*sl));
	sl->critical_warning = __atomic_load_n(&s->critical_warning, __ATOMIC_RELAXED);
	if (fdr_adm_temp_crossed(ctrl))
		sl->critical_warning |= NVME_SMART_CRIT_TEMPERATURE;
	memcpy(sl->temperature, &temp, sizeof(temp));
	sl->avail_spare = __atomic_load_n(&s->avail_spare, __ATOMIC_RELAXED);
	sl->spare_thresh = 10;
	sl->percent_used = __atomic_load_n(&s->percent_used, __ATOMIC_RELAXED);
	adm_put_u128(sl->data_units_read, data_units(st.read_bytes));
	adm_put_u128(sl->data_units_written, data_units(st.write_bytes));
	adm_put_u128(sl->host_reads, st.read_cmds);
	adm_put_u128(sl->host_writes, st.write_cmds);
	adm_put_u128(sl->ctrl_busy_time, st.busy_ns / (60ull * 1000000000ull));
	adm_put_u128(sl->power_cycles, 1);
	adm_put_u128(sl->power_on_hours,
		     now > s->created_ns ? (now - s->created_ns) / (3600ull * 1000000000ull) : 0);
	adm_put_u128(sl->unsafe_shutdowns, __atomic_load_n(&s->unsafe_shutdowns, __ATOMIC_RELAXED));
	adm_put_u128(sl->media_errors,
		     st.media_errors + __atomic_load_n(&s->extra_media_errors, __ATOMIC_RELAXED));
	adm_put_u128(sl->num_err_log_entries, errors);
	return sizeof(*sl);
}

/* ---- Firmware slots, changed namespaces, command effects ---------------- */

static size_t build_fw_log(struct fdr_ctrl *ctrl, uint8_t *page)
{
	struct nvme_fw_slot_log *fw = (struct nvme_fw_slot_log *)page;

	memset(fw, 0, sizeof(*fw));
	fw->afi = 1; /* running from slot 1; no other slot is to activate */
	fdr_strpad(fw->frs[0], sizeof(fw->frs[0]), ctrl->subsys->fr);
	return sizeof(*fw);
}

/* Reading with RAE cleared empties the list and re-arms the notice, in
 * one step so a namespace change in between is neither lost nor hidden. */
static size_t build_changed_ns_log(struct fdr_ctrl *ctrl, uint8_t *page, bool clear)
{
	struct nvme_changed_ns_log *cl = (struct nvme_changed_ns_log *)page;
	bool kick = false;

	memset(cl, 0, sizeof(*cl));
	pthread_mutex_lock(&ctrl->lock);
	if (ctrl->nr_changed_ns > NVME_CHANGED_NS_MAX)
		cl->nsid[0] = NVME_NSID_ALL; /* overflowed: "rescan everything" */
	else
		memcpy(cl->nsid, ctrl->changed_ns, ctrl->nr_changed_ns * sizeof(uint32_t));
	if (clear) {
		ctrl->nr_changed_ns = 0;
		kick = fdr_adm_aen_unmask_locked(ctrl, NVME_LOG_CHANGED_NS);
	}
	pthread_mutex_unlock(&ctrl->lock);
	if (kick)
		fdr_adm_aen_kick(ctrl);
	return sizeof(*cl);
}

static size_t build_effects_log(uint8_t *page)
{
	struct nvme_cmd_effects_log *fx = (struct nvme_cmd_effects_log *)page;
	static const uint8_t admin_plain[] = {
		NVME_ADM_GET_LOG_PAGE,	 NVME_ADM_IDENTIFY,		NVME_ADM_ABORT,
		NVME_ADM_SET_FEATURES,	 NVME_ADM_GET_FEATURES,		NVME_ADM_ASYNC_EVENT_REQUEST,
		NVME_ADM_KEEP_ALIVE,
	};
	static const uint8_t io_read[] = { NVME_IO_FLUSH, NVME_IO_READ, NVME_IO_COMPARE };
	static const uint8_t io_write[] = { NVME_IO_WRITE, NVME_IO_WRITE_UNCORRECTABLE,
					    NVME_IO_WRITE_ZEROES, NVME_IO_DATASET_MANAGEMENT };

	memset(fx, 0, sizeof(*fx));
	for (size_t i = 0; i < sizeof(admin_plain); i++)
		fx->acs[admin_plain[i]] = NVME_CMD_EFFECTS_CSUPP;
	/* Format changes the contents and the LBA size of the namespace. */
	fx->acs[NVME_ADM_FORMAT_NVM] = NVME_CMD_EFFECTS_CSUPP | NVME_CMD_EFFECTS_LBCC |
				       NVME_CMD_EFFECTS_NCC | EFFECTS_CSE_NS;
	for (size_t i = 0; i < sizeof(io_read); i++)
		fx->iocs[io_read[i]] = NVME_CMD_EFFECTS_CSUPP;
	for (size_t i = 0; i < sizeof(io_write); i++)
		fx->iocs[io_write[i]] = NVME_CMD_EFFECTS_CSUPP | NVME_CMD_EFFECTS_LBCC;
	return sizeof(*fx);
}

/* ---- Discovery ------------------------------------------------------------ */

static void disc_entry(struct nvmf_disc_log_entry *e, const struct fdr_port *p,
		       uint8_t subtype, const char *nqn)
{
	e->trtype = p->trtype;
	e->adrfam = p->adrfam;
	e->subtype = subtype;
	/* SQ flow control may be turned off.  The secure channel field stays
	 * "not specified" (there is no TLS to require): Debian 12's libnvme
	 * cannot print "not required" together with the SQ flow bit. */
	e->treq = NVMF_TREQ_NOT_SPECIFIED | NVMF_TREQ_DISABLE_SQFLOW;
	e->portid = p->portid;
	e->cntlid = 0xffff; /* dynamic controller model */
	e->asqsz = FDR_ADMIN_QDEPTH;
	/* TRSVCID and TRADDR are ASCII strings (20h-7Eh): space padded. */
	fdr_strpad(e->trsvcid, sizeof(e->trsvcid), p->trsvcid);
	fdr_strpad(e->traddr, sizeof(e->traddr), p->traddr);
	snprintf(e->subnqn, sizeof(e->subnqn), "%s", nqn);
	/* TSAS: for TCP, SECTYPE 0 (no security) - already zero. */
}

static bool disc_lists(const struct fdr_subsys *s, const char *hostnqn)
{
	return s && s->type == FDR_SUBSYS_NVME && fdr_subsys_host_allowed(s, hostnqn);
}

/* Ports an NVM subsystem is reachable through (not discovery-only ones). */
static uint32_t io_ports(const struct fdr_target *t)
{
	uint32_t n = 0;

	for (uint32_t p = 0; p < t->nr_ports; p++)
		n += !t->ports[p].discovery_only;
	return n;
}

/*
 * The entry for the discovery subsystem itself (subtype 3) describes the
 * port the host came in on; then every NVM subsystem that admits the host,
 * at every port that serves NVM subsystems.
 */
static uint8_t *build_disc_log(struct fdr_req *req, size_t *size)
{
	struct fdr_ctrl *ctrl = adm_ctrl(req);
	struct fdr_target *t = ctrl->subsys->target;
	const struct fdr_port *self = req->q->port;
	struct nvmf_disc_log_entry *e;
	struct nvmf_disc_log_hdr *hdr;
	uint64_t n = self ? 1 : 0;
	uint8_t *page;

	for (uint32_t i = 0; t && i < t->nr_subsys; i++)
		if (disc_lists(t->subsys[i], ctrl->hostnqn))
			n += io_ports(t);
	*size = (1 + n) * sizeof(*e);
	page = calloc(1, *size);
	if (!page)
		return NULL;
	hdr = (struct nvmf_disc_log_hdr *)page;
	e = (struct nvmf_disc_log_entry *)(page + sizeof(*hdr));
	if (self) {
		disc_entry(e, self, NVMF_SUBTYPE_DISCOVERY, ctrl->subsys->nqn);
		e->eflags = DISC_EFLAGS_DUPRETINFO | DISC_EFLAGS_EPCSD;
		e++;
	}
	for (uint32_t i = 0; t && i < t->nr_subsys; i++) {
		if (!disc_lists(t->subsys[i], ctrl->hostnqn))
			continue;
		for (uint32_t p = 0; p < t->nr_ports; p++)
			if (!t->ports[p].discovery_only)
				disc_entry(e++, &t->ports[p], NVMF_SUBTYPE_NVME, t->subsys[i]->nqn);
	}
	hdr->genctr = t ? __atomic_load_n(&t->disc_genctr, __ATOMIC_RELAXED) : 0;
	hdr->numrec = n;
	hdr->recfmt = 0;
	return page;
}

/* ---- Get Log Page ----------------------------------------------------------- */

static uint64_t log_offset(const struct fdr_req *req)
{
	return (uint64_t)req->cmd.cdw13 << 32 | req->cmd.cdw12;
}

static void exec_get_log(struct fdr_req *req)
{
	struct fdr_ctrl *ctrl = adm_ctrl(req);
	uint8_t lid = LOG_LID(req->cmd.cdw10);
	bool rae = req->cmd.cdw10 & LOG_RAE;
	uint64_t off = log_offset(req);
	uint8_t small[LOG_PAGE_MAX] __attribute__((aligned(8)));
	uint8_t *page = small, *heap = NULL;
	size_t size = 0;

	switch (lid) {
	case NVME_LOG_ERROR:
		size = build_error_log(ctrl, small);
		break;
	case NVME_LOG_SMART:
		size = build_smart_log(ctrl, small);
		break;
	case NVME_LOG_FW_SLOT:
		size = build_fw_log(ctrl, small);
		break;
	case NVME_LOG_CHANGED_NS:
		size = build_changed_ns_log(ctrl, small, !rae && off <= sizeof(small));
		break;
	case NVME_LOG_CMD_EFFECTS:
		size = build_effects_log(small);
		break;
	case NVME_LOG_DISCOVERY:
		page = heap = build_disc_log(req, &size);
		if (!page) {
			fdr_req_complete(req, ADM_INTERNAL);
			return;
		}
		break;
	}

	if (off > size) {
		free(heap);
		fdr_req_complete(req, ADM_INVALID_FIELD);
		return;
	}
	fdr_req_copy_out(req, page, size, off);
	free(heap);
	if (!rae && lid != NVME_LOG_CHANGED_NS)
		fdr_ctrl_aen_log_read(ctrl, lid);
	fdr_req_complete(req, NVME_SC_SUCCESS);
}

static bool log_supported(const struct fdr_ctrl *ctrl, uint8_t lid)
{
	if (adm_is_discovery(ctrl))
		return lid == NVME_LOG_DISCOVERY || lid == NVME_LOG_ERROR;
	switch (lid) {
	case NVME_LOG_ERROR:
	case NVME_LOG_SMART:
	case NVME_LOG_FW_SLOT:
	case NVME_LOG_CHANGED_NS:
	case NVME_LOG_CMD_EFFECTS:
		return true;
	default:
		return false;
	}
}

uint16_t fdr_adm_get_log_decode(struct fdr_req *req)
{
	struct fdr_ctrl *ctrl = adm_ctrl(req);
	uint8_t lid = LOG_LID(req->cmd.cdw10);
	uint64_t numd = ((uint64_t)(req->cmd.cdw11 & 0xffff) << 16 | req->cmd.cdw10 >> 16) + 1;
	uint32_t nsid = req->cmd.nsid;

	if (!log_supported(ctrl, lid))
		return ADM_CS(NVME_SC_INVALID_LOG_PAGE) | NVME_STATUS_DNR;
	if (numd * 4 > FDR_MAX_XFER || (log_offset(req) & 3))
		return ADM_INVALID_FIELD;
	/* SMART is per namespace too (LPA bit 0): the NSID must be active. */
	if (lid == NVME_LOG_SMART && nsid != 0 && nsid != NVME_NSID_ALL &&
	    !fdr_subsys_ns(ctrl->subsys, nsid))
		return ADM_INVALID_NS;
	return adm_setup(req, exec_get_log, (uint32_t)(numd * 4));
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The NVM I/O command set: decode checks the command against the namespace
 * and sizes the data phase; the handlers turn LBAs into backend byte ranges.
 */
#include <errno.h>
#include <string.h>

#include "common/log.h"
#include "core.h"
#include "transport.h"

#define STATUS_DNR(sct, sc) (NVME_STATUS(sct, sc) | NVME_STATUS_DNR)

static inline uint64_t cmd_slba(const struct nvme_sqe *c)
{
	return (uint64_t)c->cdw10 | ((uint64_t)c->cdw11 << 32);
}

static uint16_t errno_to_status(int err, bool is_read)
{
	switch (err) {
	case 0:
		return 0;
	case -EIO:
		return is_read ? NVME_STATUS(NVME_SCT_MEDIA_ERROR, NVME_SC_UNRECOVERED_READ_ERROR)
			       : NVME_STATUS(NVME_SCT_MEDIA_ERROR, NVME_SC_WRITE_FAULT);
	case -ENOSPC:
		return STATUS_DNR(NVME_SCT_GENERIC, NVME_SC_CAPACITY_EXCEEDED);
	case -EINVAL:
		return STATUS_DNR(NVME_SCT_GENERIC, NVME_SC_LBA_OUT_OF_RANGE);
	default:
		/* Transient (e.g. -ENOMEM): the host may retry. */
		return NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INTERNAL);
	}
}

static void submit_bio(struct fdr_req *req, enum fdr_bdev_op op, uint64_t slba, uint64_t nlb,
		       void *buf, void (*cb)(struct fdr_bdev_io *, int))
{
	struct fdr_bdev_io *io = &req->bio;
	int rc;

	io->op = op;
	io->fua = false;
	io->sync = false;
	io->offset = slba << req->ns->lbads;
	io->len = nlb << req->ns->lbads;
	io->buf = buf;
	io->cb = cb;
	io->ctx = req;
	if (op == FDR_BDEV_WRITE) {
		bool wc = __atomic_load_n(&req->q->ctrl->feat.vwc_enabled, __ATOMIC_RELAXED);
		io->fua = (req->cmd.cdw12 & NVME_RW_FUA) || !wc;
	}
	rc = fdr_bdev_submit(req->ns->bdev, io);
	if (rc < 0)
		cb(io, rc);
}

static void media_error(struct fdr_req *req, uint64_t lba, uint16_t status)
{
	req->slba = lba; /* the error log reports the first bad LBA */
	fdr_stat_add(&req->q->stats.media_errors, 1);
	fdr_req_complete(req, status);
}

/* ---- Read / Write / Compare ---- */

/* A read reached the media: account it, or fail with the media error.
 * Returns whether it succeeded. */
static bool read_accounted(struct fdr_bdev_io *io, int err)
{
	struct fdr_req *req = io->ctx;

	if (err) {
		media_error(req, req->slba, errno_to_status(err, true));
		return false;
	}
	fdr_stat_add(&req->q->stats.read_cmds, 1);
	fdr_stat_add(&req->q->stats.read_bytes, io->len);
	return true;
}

static void read_done(struct fdr_bdev_io *io, int err)
{
	if (read_accounted(io, err))
		fdr_req_complete(io->ctx, 0);
}

/* Reads the command's blocks into buf, unless Write Uncorrectable marked
 * one of them: then it fails with the first bad LBA, before the media. */
static void read_blocks(struct fdr_req *req, void *buf, void (*done)(struct fdr_bdev_io *, int))
{
	uint64_t bad = fdr_ns_unc_find(req->ns, req->slba, req->nlb);

	if (bad != UINT64_MAX) {
		media_error(req, bad, NVME_STATUS(NVME_SCT_MEDIA_ERROR, NVME_SC_UNRECOVERED_READ_ERROR));
		return;
	}
	submit_bio(req, FDR_BDEV_READ, req->slba, req->nlb, buf, done);
}

static void exec_read(struct fdr_req *req)
{
	/* Straight into host memory when the transport can (one copy less);
	 * only with a backend that finishes before we return, so the data
	 * is in place before anything can wait (see data_direct). */
	if (req->q->ops->data_direct && req->ns->bdev->sync)
		req->direct = req->q->ops->data_direct(req);
	read_blocks(req, fdr_req_data(req), read_done);
}

static void write_done(struct fdr_bdev_io *io, int err)
{
	struct fdr_req *req = io->ctx;

	if (err) {
		media_error(req, req->slba, errno_to_status(err, false));
		return;
	}
	fdr_stat_add(&req->q->stats.write_cmds, 1);
	fdr_stat_add(&req->q->stats.write_bytes, io->len);
	fdr_req_complete(req, 0);
}

static void exec_write(struct fdr_req *req)
{
	/* Writing a block makes it readable again. */
	fdr_ns_unc_clear(req->ns, req->slba, req->nlb);
	submit_bio(req, FDR_BDEV_WRITE, req->slba, req->nlb, fdr_req_data(req), write_done);
}

static void compare_done(struct fdr_bdev_io *io, int err)
{
	struct fdr_req *req = io->ctx;

	if (!read_accounted(io, err))
		return;
	if (memcmp(req->buf, req->buf + req->data_len, req->data_len) != 0)
		fdr_req_complete(req, STATUS_DNR(NVME_SCT_MEDIA_ERROR, NVME_SC_COMPARE_FAILURE));
	else
		fdr_req_complete(req, 0);
}

static void exec_compare(struct fdr_req *req)
{
	/* The stored data goes to the second half of the buffer. */
	read_blocks(req, req->buf + req->data_len, compare_done);
}

/* ---- Write Zeroes / Write Uncorrectable / Flush ---- */

static void simple_done(struct fdr_bdev_io *io, int err)
{
	struct fdr_req *req = io->ctx;

	if (err)
		media_error(req, req->slba, errno_to_status(err, false));
	else
		fdr_req_complete(req, 0);
}

static void exec_write_zeroes(struct fdr_req *req)
{
	/* Deallocated blocks read as zeroes (DLFEAT), so DEAC may discard. */
	enum fdr_bdev_op op = (req->cmd.cdw12 & NVME_WZ_DEAC) ? FDR_BDEV_DISCARD : FDR_BDEV_WRITE_ZEROES;

	fdr_ns_unc_clear(req->ns, req->slba, req->nlb);
	submit_bio(req, op, req->slba, req->nlb, NULL, simple_done);
}

static void exec_write_unc(struct fdr_req *req)
{
	if (fdr_ns_unc_mark(req->ns, req->slba, req->nlb) < 0)
		fdr_req_complete(req, NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INTERNAL));
	else
		fdr_req_complete(req, 0);
}

/*
 * Commands done in steps (Flush of every namespace, DSM ranges): req->exec
 * is switched to the step function, and each backend completion moves
 * req->iter on and calls it again.
 */
static void step_done(struct fdr_bdev_io *io, int err)
{
	struct fdr_req *req = io->ctx;

	if (err) {
		fdr_req_complete(req, errno_to_status(err, false));
		return;
	}
	req->iter++;
	req->exec(req);
}

/* Flush with NSID FFFFFFFFh flushes every namespace, one after another. */
static void flush_next(struct fdr_req *req)
{
	struct fdr_subsys *s = req->q->ctrl->subsys;

	while (req->iter <= FDR_MAX_NS && !s->ns[req->iter])
		req->iter++;
	if (req->iter > FDR_MAX_NS) {
		fdr_req_complete(req, 0);
		return;
	}
	req->ns = s->ns[req->iter];
	submit_bio(req, FDR_BDEV_FLUSH, 0, 0, NULL, step_done);
}

static void exec_flush(struct fdr_req *req)
{
	if (req->ns) {
		submit_bio(req, FDR_BDEV_FLUSH, 0, 0, NULL, simple_done);
		return;
	}
	req->iter = 1;
	req->exec = flush_next;
	flush_next(req);
}

/* ---- Dataset Management ---- */

static void dsm_next(struct fdr_req *req)
{
	const struct nvme_dsm_range *r = (const void *)req->buf;
	uint32_t nr = (req->cmd.cdw10 & 0xff) + 1;

	while (req->iter < nr && r[req->iter].nlb == 0)
		req->iter++;
	if (req->iter >= nr) {
		fdr_req_complete(req, 0);
		return;
	}
	r += req->iter;
	req->slba = r->slba;
	fdr_ns_unc_clear(req->ns, r->slba, r->nlb);
	submit_bio(req, FDR_BDEV_DISCARD, r->slba, r->nlb, NULL, step_done);
}

static void exec_dsm(struct fdr_req *req)
{
	const struct nvme_dsm_range *r = (const void *)req->buf;
	uint32_t nr = (req->cmd.cdw10 & 0xff) + 1;

	/* Check every range before touching any, so a bad one changes nothing. */
	for (uint32_t i = 0; i < nr; i++) {
		if (r[i].slba >= req->ns->nsze || r[i].nlb > req->ns->nsze - r[i].slba) {
			req->slba = r[i].slba;
			fdr_req_complete(req, STATUS_DNR(NVME_SCT_GENERIC, NVME_SC_LBA_OUT_OF_RANGE));
			return;
		}
	}
	if (!(req->cmd.cdw11 & NVME_DSM_AD)) {
		/* Only access hints (IDR/IDW): nothing to do. */
		fdr_req_complete(req, 0);
		return;
	}
	req->iter = 0;
	req->exec = dsm_next;
	dsm_next(req);
}

/* ---- Decode ---- */

static uint16_t check_lba_range(struct fdr_req *req, uint64_t slba, uint64_t nlb)
{
	if (slba >= req->ns->nsze || nlb > req->ns->nsze - slba) {
		req->slba = slba;
		return STATUS_DNR(NVME_SCT_GENERIC, NVME_SC_LBA_OUT_OF_RANGE);
	}
	req->slba = slba;
	req->nlb = (uint32_t)nlb;
	return 0;
}

static uint16_t decode_rw(struct fdr_req *req, uint8_t xfer, void (*exec)(struct fdr_req *),
			  unsigned buf_factor)
{
	const struct nvme_sqe *c = &req->cmd;
	uint64_t nlb = NVME_RW_NLB(c->cdw12);
	uint64_t bytes = nlb << req->ns->lbads;
	uint16_t st = check_lba_range(req, cmd_slba(c), nlb);

	if (st)
		return st;
	if (bytes > FDR_MAX_XFER)
		return STATUS_DNR(NVME_SCT_GENERIC, NVME_SC_INVALID_FIELD);
	req->xfer = xfer;
	req->data_len = (uint32_t)bytes;
	req->exec = exec;
	if (!fdr_req_buf_reserve(req, req->data_len * buf_factor))
		return NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INTERNAL);
	return 0;
}

uint16_t fdr_io_decode(struct fdr_req *req)
{
	const struct nvme_sqe *c = &req->cmd;
	struct fdr_subsys *s = req->q->ctrl->subsys;

	if (c->opc == NVME_IO_FLUSH && c->nsid == NVME_NSID_ALL) {
		req->exec = exec_flush;
		return 0;
	}
	req->ns = fdr_subsys_ns(s, c->nsid);
	if (!req->ns)
		return STATUS_DNR(NVME_SCT_GENERIC, NVME_SC_INVALID_NAMESPACE_OR_FORMAT);

	switch (c->opc) {
	case NVME_IO_READ:
		return decode_rw(req, NVME_OPC_XFER_FROM_CTRL, exec_read, 1);
	case NVME_IO_WRITE:
		return decode_rw(req, NVME_OPC_XFER_TO_CTRL, exec_write, 1);
	case NVME_IO_COMPARE:
		return decode_rw(req, NVME_OPC_XFER_TO_CTRL, exec_compare, 2);
	case NVME_IO_WRITE_ZEROES:
		req->exec = exec_write_zeroes;
		return check_lba_range(req, cmd_slba(c), NVME_RW_NLB(c->cdw12));
	case NVME_IO_WRITE_UNCORRECTABLE:
		req->exec = exec_write_unc;
		return check_lba_range(req, cmd_slba(c), NVME_RW_NLB(c->cdw12));
	case NVME_IO_FLUSH:
		req->exec = exec_flush;
		return 0;
	case NVME_IO_DATASET_MANAGEMENT:
		req->xfer = NVME_OPC_XFER_TO_CTRL;
		req->data_len = ((c->cdw10 & 0xff) + 1) * (uint32_t)sizeof(struct nvme_dsm_range);
		req->exec = exec_dsm;
		if (!fdr_req_buf_reserve(req, req->data_len))
			return NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INTERNAL);
		return 0;
	default:
		return STATUS_DNR(NVME_SCT_GENERIC, NVME_SC_INVALID_OPCODE);
	}
}

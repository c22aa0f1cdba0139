/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libfdr_host: controller bring-up and shutdown over Fabrics (Connect,
 * Property Get/Set, CC.EN / CSTS.RDY, Identify, Number of Queues, I/O
 * queue connections, CC.SHN).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "host_internal.h"

struct fdr_host_ctrl {
	struct fdr_host_opts o;
	char subnqn[NVME_NQN_MAX + 1];
	char hostnqn[NVME_NQN_MAX + 1];
	char addr[256];
	char port[32];
	uint8_t hostid[16];
	struct fdr_host_queue *admin;
	struct fdr_host_queue **ioq;
	unsigned nr_ioq;
	uint16_t cntlid;
	uint64_t cap;
	uint32_t vs;
	struct nvme_id_ctrl id;
};

int fdr_host_admin(struct fdr_host_ctrl *c, struct nvme_sqe *cmd, void *buf, uint32_t len,
		   struct nvme_cqe *cqe)
{
	return fdr_host_io(c->admin, cmd, buf, len, cqe);
}

int fdr_host_prop_get(struct fdr_host_ctrl *c, uint32_t ofst, bool size8, uint64_t *val,
		      struct nvme_cqe *cqe)
{
	struct nvme_fabrics_prop_cmd cmd;
	struct nvme_cqe tmp;
	int rc;

	if (!cqe)
		cqe = &tmp;
	memset(&cmd, 0, sizeof(cmd));
	cmd.opc = NVME_ADM_FABRICS;
	cmd.fctype = NVME_FCTYPE_PROPERTY_GET;
	cmd.attrib = size8 ? 1 : 0;
	cmd.ofst = ofst;
	rc = fdr_host_io(c->admin, (struct nvme_sqe *)&cmd, NULL, 0, cqe);
	if (rc)
		return rc;
	if (val)
		*val = size8 ? ((uint64_t)cqe->cdw1 << 32 | cqe->cdw0) : cqe->cdw0;
	return 0;
}

int fdr_host_prop_set(struct fdr_host_ctrl *c, uint32_t ofst, bool size8, uint64_t val,
		      struct nvme_cqe *cqe)
{
	struct nvme_fabrics_prop_cmd cmd;
	struct nvme_cqe tmp;

	if (!cqe)
		cqe = &tmp;
	memset(&cmd, 0, sizeof(cmd));
	cmd.opc = NVME_ADM_FABRICS;
	cmd.fctype = NVME_FCTYPE_PROPERTY_SET;
	cmd.attrib = size8 ? 1 : 0;
	cmd.ofst = ofst;
	cmd.value = val;
	return fdr_host_io(c->admin, (struct nvme_sqe *)&cmd, NULL, 0, cqe);
}

int fdr_host_keep_alive(struct fdr_host_ctrl *c, struct nvme_cqe *cqe)
{
	struct nvme_sqe cmd;
	struct nvme_cqe tmp;

	memset(&cmd, 0, sizeof(cmd));
	cmd.opc = NVME_ADM_KEEP_ALIVE;
	return fdr_host_io(c->admin, &cmd, NULL, 0, cqe ? cqe : &tmp);
}

/* Property Get that must succeed; 0 or a negative errno with err set. */
static int prop_get_ok(struct fdr_host_ctrl *c, uint32_t ofst, bool size8, uint64_t *val,
		       const char *name, char *err, size_t errlen)
{
	struct nvme_cqe cqe;
	int rc = fdr_host_prop_get(c, ofst, size8, val, &cqe);

	if (rc) {
		host_seterr(err, errlen, "Property Get %s: %s", name, c->admin->errmsg);
		return rc;
	}
	if (fdr_host_sct_sc(&cqe)) {
		host_seterr(err, errlen, "Property Get %s failed: status %#x", name,
			    fdr_host_status(&cqe));
		return -EIO;
	}
	return 0;
}

static int prop_set_ok(struct fdr_host_ctrl *c, uint32_t ofst, uint64_t val, const char *name,
		       char *err, size_t errlen)
{
	struct nvme_cqe cqe;
	int rc = fdr_host_prop_set(c, ofst, false, val, &cqe);

	if (rc) {
		host_seterr(err, errlen, "Property Set %s: %s", name, c->admin->errmsg);
		return rc;
	}
	if (fdr_host_sct_sc(&cqe)) {
		host_seterr(err, errlen, "Property Set %s=%#llx failed: status %#x", name,
			    (unsigned long long)val, fdr_host_status(&cqe));
		return -EIO;
	}
	return 0;
}

/* Poll CSTS until (CSTS & mask) == want or timeout. */
static int wait_csts(struct fdr_host_ctrl *c, uint32_t mask, uint32_t want, int64_t timeout_ms,
		     uint32_t *last, char *err, size_t errlen)
{
	int64_t deadline = host_now_ms() + timeout_ms;
	unsigned sleep_us = 200;

	for (;;) {
		uint64_t v;
		int rc = prop_get_ok(c, NVME_REG_CSTS, false, &v, "CSTS", err, errlen);

		if (rc)
			return rc;
		*last = (uint32_t)v;
		if (((uint32_t)v & mask) == want)
			return 0;
		if (v & NVME_CSTS_CFS) {
			host_seterr(err, errlen, "CSTS.CFS set (CSTS %#x)", (uint32_t)v);
			return -EIO;
		}
		if (host_now_ms() >= deadline) {
			host_seterr(err, errlen, "timeout waiting for CSTS & %#x == %#x (CSTS %#x)",
				    mask, want, (uint32_t)v);
			return -ETIMEDOUT;
		}
		usleep(sleep_us);
		if (sleep_us < 20000)
			sleep_us *= 2;
	}
}

static void ctrl_free(struct fdr_host_ctrl *c)
{
	for (unsigned i = 0; i < c->nr_ioq; i++)
		fdr_host_queue_close(c->ioq[i]);
	free(c->ioq);
	fdr_host_queue_close(c->admin);
	free(c);
}

struct fdr_host_ctrl *fdr_host_connect(const struct fdr_host_opts *o, char *err, size_t errlen)
{
	struct fdr_host_ctrl *c = calloc(1, sizeof(*c));
	struct nvme_cqe cqe;
	struct nvme_sqe cmd;
	uint64_t v;
	uint32_t csts;
	int64_t to_ms;
	unsigned want;

	if (!c) {
		host_seterr(err, errlen, "out of memory");
		return NULL;
	}
	if (!o->subnqn) {
		host_seterr(err, errlen, "no subsystem NQN");
		free(c);
		return NULL;
	}
	c->o = *o;
	snprintf(c->subnqn, sizeof(c->subnqn), "%s", o->subnqn);
	snprintf(c->addr, sizeof(c->addr), "%s", o->addr ? o->addr : "127.0.0.1");
	snprintf(c->port, sizeof(c->port), "%s", o->port ? o->port : "4420");
	if (o->hostid)
		memcpy(c->hostid, o->hostid, sizeof(c->hostid));
	else if (getrandom(c->hostid, sizeof(c->hostid), 0) != (ssize_t)sizeof(c->hostid))
		memset(c->hostid, 0x5a, sizeof(c->hostid));
	if (o->hostnqn) {
		snprintf(c->hostnqn, sizeof(c->hostnqn), "%s", o->hostnqn);
	} else {
		const uint8_t *h = c->hostid;

		snprintf(c->hostnqn, sizeof(c->hostnqn),
			 "nqn.2014-08.org.nvmexpress:uuid:%02x%02x%02x%02x-%02x%02x-%02x%02x-"
			 "%02x%02x-%02x%02x%02x%02x%02x%02x",
			 h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7], h[8], h[9], h[10], h[11],
			 h[12], h[13], h[14], h[15]);
	}
	c->o.subnqn = c->subnqn;
	c->o.hostnqn = c->hostnqn;
	c->o.addr = c->addr;
	c->o.port = c->port;
	c->o.hostid = c->hostid;
	if (!c->o.timeout_ms)
		c->o.timeout_ms = HOST_DEFAULT_TIMEOUT;
	if (!c->o.qdepth)
		c->o.qdepth = 32;

	c->admin = fdr_host_queue_open(&c->o, 0, 0xffff, HOST_ADMIN_ENTRIES, o->kato_ms, &cqe,
				       err, errlen);
	if (!c->admin)
		goto fail;
	c->cntlid = (uint16_t)cqe.cdw0;

	if (prop_get_ok(c, NVME_REG_CAP, true, &c->cap, "CAP", err, errlen) ||
	    prop_get_ok(c, NVME_REG_VS, false, &v, "VS", err, errlen))
		goto fail;
	c->vs = (uint32_t)v;
	if (prop_set_ok(c, NVME_REG_CC,
			NVME_CC_EN | 6u << NVME_CC_IOSQES_SHIFT | 4u << NVME_CC_IOCQES_SHIFT, "CC",
			err, errlen))
		goto fail;
	to_ms = (int64_t)((c->cap >> NVME_CAP_TO_SHIFT) & 0xff) * 500;
	if (to_ms < 1000)
		to_ms = 1000;
	if (wait_csts(c, NVME_CSTS_RDY, NVME_CSTS_RDY, to_ms, &csts, err, errlen))
		goto fail;

	memset(&cmd, 0, sizeof(cmd));
	cmd.opc = NVME_ADM_IDENTIFY;
	cmd.cdw10 = NVME_CNS_CTRL;
	if (fdr_host_admin(c, &cmd, &c->id, sizeof(c->id), &cqe)) {
		host_seterr(err, errlen, "Identify Controller: %s", c->admin->errmsg);
		goto fail;
	}
	if (fdr_host_sct_sc(&cqe)) {
		host_seterr(err, errlen, "Identify Controller failed: status %#x",
			    fdr_host_status(&cqe));
		goto fail;
	}

	want = o->nr_io_queues;
	if (want) {
		unsigned granted, mqes = NVME_CAP_MQES(c->cap) + 1u;
		unsigned entries = c->o.qdepth + 1u;

		memset(&cmd, 0, sizeof(cmd));
		cmd.opc = NVME_ADM_SET_FEATURES;
		cmd.cdw10 = NVME_FEAT_NUM_QUEUES;
		cmd.cdw11 = (want - 1u) | (want - 1u) << 16;
		if (fdr_host_admin(c, &cmd, NULL, 0, &cqe)) {
			host_seterr(err, errlen, "Set Features Number of Queues: %s",
				    c->admin->errmsg);
			goto fail;
		}
		if (fdr_host_sct_sc(&cqe)) {
			host_seterr(err, errlen, "Set Features Number of Queues failed: status %#x",
				    fdr_host_status(&cqe));
			goto fail;
		}
		granted = (cqe.cdw0 & 0xffff) < (cqe.cdw0 >> 16) ? (cqe.cdw0 & 0xffff) :
								  (cqe.cdw0 >> 16);
		granted++;
		if (want > granted)
			want = granted;
		if (entries > mqes)
			entries = mqes;
		if (entries > 65535)
			entries = 65535;
		c->ioq = calloc(want, sizeof(*c->ioq));
		if (!c->ioq) {
			host_seterr(err, errlen, "out of memory");
			goto fail;
		}
		for (unsigned i = 0; i < want; i++) {
			struct fdr_host_queue *q;

			q = fdr_host_queue_open(&c->o, (uint16_t)(i + 1), c->cntlid,
						(uint16_t)entries, 0, &cqe, err, errlen);
			if (!q)
				goto fail;
			if (c->id.ioccsz >= 4)
				q->icd = c->id.ioccsz * 16u - 64u;
			else
				q->icd = 0;
			c->ioq[c->nr_ioq++] = q;
		}
	}
	return c;

fail:
	ctrl_free(c);
	return NULL;
}

void fdr_host_close(struct fdr_host_ctrl *c)
{
	if (c)
		ctrl_free(c);
}

int fdr_host_disconnect(struct fdr_host_ctrl *c)
{
	uint64_t cc;
	uint32_t csts;
	char err[256];
	int rc;
	int64_t to_ms;

	if (!c)
		return 0;
	for (unsigned i = 0; i < c->nr_ioq; i++)
		fdr_host_queue_close(c->ioq[i]);
	c->nr_ioq = 0;
	rc = prop_get_ok(c, NVME_REG_CC, false, &cc, "CC", err, sizeof(err));
	if (!rc) {
		cc = (cc & ~(uint64_t)NVME_CC_SHN_MASK) |
		     (uint64_t)NVME_CC_SHN_NORMAL << NVME_CC_SHN_SHIFT;
		rc = prop_set_ok(c, NVME_REG_CC, cc, "CC", err, sizeof(err));
	}
	if (!rc) {
		to_ms = (int64_t)((c->cap >> NVME_CAP_TO_SHIFT) & 0xff) * 500;
		if (to_ms < 2000)
			to_ms = 2000;
		rc = wait_csts(c, NVME_CSTS_SHST_MASK,
			       NVME_CSTS_SHST_COMPLETE << NVME_CSTS_SHST_SHIFT, to_ms, &csts, err,
			       sizeof(err));
	}
	ctrl_free(c);
	return rc;
}

struct fdr_host_queue *fdr_host_admin_queue(struct fdr_host_ctrl *c)
{
	return c->admin;
}

struct fdr_host_queue *fdr_host_ioq(struct fdr_host_ctrl *c, unsigned idx)
{
	return idx < c->nr_ioq ? c->ioq[idx] : NULL;
}

unsigned fdr_host_nr_io_queues(const struct fdr_host_ctrl *c)
{
	return c->nr_ioq;
}

uint16_t fdr_host_cntlid(const struct fdr_host_ctrl *c)
{
	return c->cntlid;
}

uint64_t fdr_host_cap(const struct fdr_host_ctrl *c)
{
	return c->cap;
}

uint32_t fdr_host_vs(const struct fdr_host_ctrl *c)
{
	return c->vs;
}

const struct nvme_id_ctrl *fdr_host_id_ctrl(const struct fdr_host_ctrl *c)
{
	return &c->id;
}

uint32_t fdr_host_mdts_bytes(const struct fdr_host_ctrl *c)
{
	unsigned mpsmin = (unsigned)((c->cap >> NVME_CAP_MPSMIN_SHIFT) & 0xf);

	if (!c->id.mdts)
		return 0;
	if (12u + mpsmin + c->id.mdts >= 32)
		return 0;
	return 1u << (12u + mpsmin + c->id.mdts);
}

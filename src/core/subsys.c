/* SPDX-License-Identifier: BSD-2-Clause */
/* Subsystems, ports and the target that holds them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "core.h"

struct fdr_subsys *fdr_subsys_create(struct fdr_target *t, enum fdr_subsys_type type,
				     const char *nqn)
{
	struct fdr_subsys *s;

	if (strlen(nqn) > NVME_NQN_MAX || t->nr_subsys >= FDR_MAX_SUBSYS)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->type = type;
	snprintf(s->nqn, sizeof(s->nqn), "%s", nqn);
	snprintf(s->sn, sizeof(s->sn), "%s", "FDR0000000001");
	snprintf(s->mn, sizeof(s->mn), "%s", "frankendrive");
	snprintf(s->fr, sizeof(s->fr), "%s", "0.1.0");
	s->max_io_queues = 8;
	s->max_qdepth = 128;
	s->inline_data_size = 8192;
	s->next_cntlid = 1;
	s->temperature = 308; /* 35 C */
	s->avail_spare = 100;
	s->created_ns = fdr_now_ns();
	s->target = t;
	pthread_mutex_init(&s->lock, NULL);
	if (type == FDR_SUBSYS_DISCOVERY)
		t->disc = s;
	else
		t->subsys[t->nr_subsys++] = s;
	return s;
}

void fdr_subsys_destroy(struct fdr_subsys *s)
{
	if (!s)
		return;
	for (unsigned i = 1; i <= FDR_MAX_NS; i++)
		fdr_ns_destroy(s->ns[i]);
	if (s->allowed_hosts) {
		for (char **h = s->allowed_hosts; *h; h++)
			free(*h);
		free(s->allowed_hosts);
	}
	pthread_mutex_destroy(&s->lock);
	free(s);
}

int fdr_subsys_add_ns(struct fdr_subsys *s, struct fdr_ns *ns, char *err, size_t errlen)
{
	if (ns->nsid < 1 || ns->nsid > FDR_MAX_NS) {
		snprintf(err, errlen, "namespace ID %u out of range 1..%u", ns->nsid, FDR_MAX_NS);
		return -1;
	}
	if (s->ns[ns->nsid]) {
		snprintf(err, errlen, "namespace ID %u already in use", ns->nsid);
		return -1;
	}
	s->ns[ns->nsid] = ns;
	s->nr_ns++;
	return 0;
}

bool fdr_subsys_host_allowed(const struct fdr_subsys *s, const char *hostnqn)
{
	if (!s->allowed_hosts)
		return true;
	for (char **h = s->allowed_hosts; *h; h++)
		if (strcmp(*h, hostnqn) == 0)
			return true;
	return false;
}

void fdr_subsys_for_each_ctrl(struct fdr_subsys *s, void (*fn)(struct fdr_ctrl *c, void *arg),
			      void *arg)
{
	struct fdr_ctrl *ctrls[FDR_MAX_CTRLS];
	unsigned n = 0;

	pthread_mutex_lock(&s->lock);
	for (unsigned i = 0; i < FDR_MAX_CTRLS; i++) {
		struct fdr_ctrl *c = s->ctrls[i];
		if (c && !c->dead) {
			fdr_ctrl_get(c);
			ctrls[n++] = c;
		}
	}
	pthread_mutex_unlock(&s->lock);
	for (unsigned i = 0; i < n; i++) {
		fn(ctrls[i], arg);
		fdr_ctrl_put(ctrls[i]);
	}
}

void fdr_subsys_io_stats(struct fdr_subsys *s, struct fdr_io_stats *out)
{
	pthread_mutex_lock(&s->lock);
	*out = s->closed_stats;
	for (struct fdr_queue *q = s->queues; q; q = q->s_next)
		fdr_io_stats_add(out, &q->stats);
	pthread_mutex_unlock(&s->lock);
}

struct fdr_target *fdr_target_create(void)
{
	struct fdr_target *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->start_ns = fdr_now_ns();
	t->disc_genctr = 1;
	if (!fdr_subsys_create(t, FDR_SUBSYS_DISCOVERY, NVME_DISC_SUBSYS_NAME)) {
		free(t);
		return NULL;
	}
	return t;
}

void fdr_target_destroy(struct fdr_target *t)
{
	if (!t)
		return;
	for (unsigned i = 0; i < t->nr_subsys; i++)
		fdr_subsys_destroy(t->subsys[i]);
	fdr_subsys_destroy(t->disc);
	free(t);
}

struct fdr_subsys *fdr_target_find_subsys(struct fdr_target *t, const char *nqn)
{
	if (t->disc && strcmp(nqn, t->disc->nqn) == 0)
		return t->disc;
	for (unsigned i = 0; i < t->nr_subsys; i++)
		if (strcmp(nqn, t->subsys[i]->nqn) == 0)
			return t->subsys[i];
	return NULL;
}

struct fdr_port *fdr_target_add_port(struct fdr_target *t, uint8_t trtype, const char *addr,
				     const char *svcid)
{
	struct fdr_port *p;

	if (t->nr_ports >= FDR_MAX_PORTS)
		return NULL;
	p = &t->ports[t->nr_ports];
	memset(p, 0, sizeof(*p));
	p->portid = (uint16_t)(t->nr_ports + 1);
	p->trtype = trtype;
	p->adrfam = strchr(addr, ':') ? NVMF_ADRFAM_IPV6 : NVMF_ADRFAM_IPV4;
	snprintf(p->traddr, sizeof(p->traddr), "%s", addr);
	snprintf(p->trsvcid, sizeof(p->trsvcid), "%s", svcid);
	t->nr_ports++;
	t->disc_genctr++;
	return p;
}

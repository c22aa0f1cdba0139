/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The NVMe/TCP transport on the real core, in process: a target with one
 * RAM namespace, connections on socket pairs, one reactor the test turns.
 * Covers the contract end to end: Connect, Property Get/Set, Identify
 * (C2HData), R2T and in-capsule writes, reads, digests, and teardown of
 * an I/O queue when its controller's admin queue goes away.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "backend/bdev.h"
#include "common/log.h"
#include "tcp_test_host.h"

#define NQN "nqn.2026-11.io.frankendrive:tcp-core-test"
#define HOSTNQN "nqn.2014-08.org.nvmexpress:uuid:00000000-1111-2222-3333-444444444444"

static struct fdr_target *target;
static struct fdr_reactor *reactor;
static uint8_t out[64 * 1024];

static int setup(void **state)
{
	char err[256];
	struct fdr_subsys *s;
	struct fdr_bdev *bdev;
	struct fdr_ns *ns;

	(void)state;
	target = fdr_target_create();
	assert_non_null(target);
	s = fdr_subsys_create(target, FDR_SUBSYS_NVME, NQN);
	assert_non_null(s);
	bdev = fdr_bdev_ram_create(16u << 20, err, sizeof(err));
	assert_non_null(bdev);
	ns = fdr_ns_create(1, bdev, 512, s->nqn, err, sizeof(err));
	assert_non_null(ns);
	assert_int_equal(fdr_subsys_add_ns(s, ns, err, sizeof(err)), 0);
	reactor = fdr_reactor_create(0);
	assert_non_null(reactor);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (int i = 0; i < 10; i++)
		fdr_reactor_poll(reactor, 0);
	fdr_reactor_destroy(reactor);
	fdr_target_destroy(target);
	return 0;
}

static void send_cmd(struct test_host *h, const void *sqe, const void *icd, uint32_t len)
{
	th_send(h, out, th_build_cmd(h, out, sqe, icd, len, 0));
}

/* Fabrics Connect; returns the controller ID. */
static uint16_t connect_queue(struct test_host *h, uint16_t qid, uint16_t cntlid)
{
	struct nvme_fabrics_connect_cmd c;
	struct nvme_fabrics_connect_data d;
	struct nvme_cqe cqe;

	memset(&c, 0, sizeof(c));
	c.opc = NVME_ADM_FABRICS;
	c.flags = NVME_PSDT_SGL_MPTR_CONTIG << NVME_CMD_FLAGS_PSDT_SHIFT;
	c.cid = 100 + qid;
	c.fctype = NVME_FCTYPE_CONNECT;
	c.sgl1.type = NVME_SGL_TYPE_DATA_BLOCK << 4 | NVME_SGL_SUBTYPE_OFFSET;
	c.sgl1.length = sizeof(d);
	c.qid = qid;
	c.sqsize = qid ? 15 : 31;
	memset(&d, 0, sizeof(d));
	memset(d.hostid, 0x42, sizeof(d.hostid));
	d.cntlid = cntlid;
	snprintf(d.subnqn, sizeof(d.subnqn), "%s", NQN);
	snprintf(d.hostnqn, sizeof(d.hostnqn), "%s", HOSTNQN);
	send_cmd(h, &c, &d, sizeof(d));
	cqe = th_expect_rsp(h, c.cid, 0);
	return qid ? cntlid : (uint16_t)cqe.cdw0;
}

static struct nvme_cqe prop(struct test_host *h, uint8_t fctype, uint32_t ofst, uint64_t val)
{
	struct nvme_fabrics_prop_cmd p;

	memset(&p, 0, sizeof(p));
	p.opc = NVME_ADM_FABRICS;
	p.cid = 7;
	p.fctype = fctype;
	p.ofst = ofst;
	p.value = val;
	send_cmd(h, &p, NULL, 0);
	return th_expect_rsp(h, 7, 0);
}

static void enable_ctrl(struct test_host *h)
{
	prop(h, NVME_FCTYPE_PROPERTY_SET, NVME_REG_CC,
	     NVME_CC_EN | 6u << NVME_CC_IOSQES_SHIFT | 4u << NVME_CC_IOCQES_SHIFT);
	for (int i = 0; i < 100; i++) {
		if (prop(h, NVME_FCTYPE_PROPERTY_GET, NVME_REG_CSTS, 0).cdw0 & NVME_CSTS_RDY)
			return;
		th_pump(h, 1);
	}
	fail_msg("CSTS.RDY never set");
}

static struct nvme_sqe rw_cmd(uint8_t opc, uint16_t cid, uint64_t slba, uint32_t nlb,
			      bool in_capsule)
{
	struct nvme_sqe s;

	memset(&s, 0, sizeof(s));
	s.opc = opc;
	s.cid = cid;
	s.nsid = 1;
	s.flags = NVME_PSDT_SGL_MPTR_CONTIG << NVME_CMD_FLAGS_PSDT_SHIFT;
	s.cdw10 = (uint32_t)slba;
	s.cdw11 = (uint32_t)(slba >> 32);
	s.cdw12 = nlb - 1;
	s.dptr.sgl1.length = nlb * 512;
	s.dptr.sgl1.type = in_capsule ? 0x01 : 0x5a;
	return s;
}

static void test_admin_and_io(void **state)
{
	static uint8_t wdata[12288], rdata[12288];
	static struct nvme_id_ctrl id;
	struct test_host admin, io;
	struct nvme_sqe s;
	uint16_t cntlid, ttag;

	(void)state;
	th_attach(&admin, reactor, target, NULL);
	th_icreq(&admin, NVME_TCP_HDGST_ENABLE, 0, 0);
	cntlid = connect_queue(&admin, 0, 0xffff);
	enable_ctrl(&admin);

	/* Identify Controller: 4 KiB of C2HData */
	memset(&s, 0, sizeof(s));
	s.opc = NVME_ADM_IDENTIFY;
	s.cid = 9;
	s.flags = NVME_PSDT_SGL_MPTR_CONTIG << NVME_CMD_FLAGS_PSDT_SHIFT;
	s.cdw10 = NVME_CNS_CTRL;
	s.dptr.sgl1.type = 0x5a;
	s.dptr.sgl1.length = sizeof(id);
	send_cmd(&admin, &s, NULL, 0);
	th_recv_c2h(&admin, 9, (uint8_t *)&id, sizeof(id));
	th_expect_rsp(&admin, 9, 0);
	assert_string_equal(id.subnqn, NQN);
	assert_int_equal(id.cntlid, cntlid);

	/* An I/O queue with both digests, on the same reactor */
	th_attach(&io, reactor, target, NULL);
	th_icreq(&io, NVME_TCP_HDGST_ENABLE | NVME_TCP_DDGST_ENABLE, 1, 0);
	connect_queue(&io, 1, cntlid);

	for (size_t i = 0; i < sizeof(wdata); i++)
		wdata[i] = (uint8_t)(i * 31 + 7);
	/* 8 KiB through R2T + two H2CData PDUs */
	s = rw_cmd(NVME_IO_WRITE, 1, 0, 16, false);
	send_cmd(&io, &s, NULL, 0);
	ttag = th_expect_r2t(&io, 1, 8192);
	th_send(&io, out, th_build_h2c(&io, out, 1, ttag, 0, wdata, 4096, false));
	th_send(&io, out, th_build_h2c(&io, out, 1, ttag, 4096, wdata + 4096, 4096, true));
	th_expect_rsp(&io, 1, 0);
	/* 4 KiB in-capsule */
	s = rw_cmd(NVME_IO_WRITE, 2, 16, 8, true);
	send_cmd(&io, &s, wdata + 8192, 4096);
	th_expect_rsp(&io, 2, 0);
	/* all 12 KiB back */
	s = rw_cmd(NVME_IO_READ, 3, 0, 24, false);
	send_cmd(&io, &s, NULL, 0);
	th_recv_c2h(&io, 3, rdata, sizeof(rdata));
	th_expect_rsp(&io, 3, 0);
	assert_memory_equal(rdata, wdata, sizeof(wdata));

	/* A read the core fails sends no data, just the status. */
	s = rw_cmd(NVME_IO_READ, 4, (16u << 20) / 512, 8, false);
	send_cmd(&io, &s, NULL, 0);
	th_expect_rsp(&io, 4, NVME_SC_LBA_OUT_OF_RANGE | NVME_STATUS_DNR);

	/* The admin queue goes: the controller takes its I/O queue along. */
	close(admin.fd);
	assert_true(th_eof(&io));
	close(io.fd);
}

static void test_write_waiting_for_data_when_host_leaves(void **state)
{
	struct test_host admin, io;
	struct nvme_sqe s;
	uint16_t cntlid;

	(void)state;
	th_attach(&admin, reactor, target, NULL);
	th_icreq(&admin, 0, 0, 0);
	cntlid = connect_queue(&admin, 0, 0xffff);
	enable_ctrl(&admin);
	th_attach(&io, reactor, target, NULL);
	th_icreq(&io, 0, 0, 0);
	connect_queue(&io, 1, cntlid);
	s = rw_cmd(NVME_IO_WRITE, 1, 0, 64, false);
	send_cmd(&io, &s, NULL, 0);
	th_expect_r2t(&io, 1, 32768);
	/* Gone with the write's data still owed: the queue must drain anyway. */
	close(io.fd);
	th_pump(&io, 5);
	close(admin.fd);
	th_pump(&admin, 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_admin_and_io, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_waiting_for_data_when_host_leaves, setup,
						teardown),
	};

	fdr_log_set_level(getenv("FDR_TEST_DEBUG") ? FDR_LOG_DEBUG : FDR_LOG_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

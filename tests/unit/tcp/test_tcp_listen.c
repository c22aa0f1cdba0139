/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The NVMe/TCP listener over real loopback sockets, with reactor threads
 * and the mock core: address parsing, ephemeral ports, round robin
 * placement, and closing with live connections.  The test drives one
 * connection at a time, so the (single-threaded) mock is never used from
 * two reactors at once.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "common/log.h"
#include "mock_core.h"
#include "tcp_test_host.h"

#define NR_REACTORS 2

static struct fdr_reactor *reactors[NR_REACTORS];

static int group_setup(void **state)
{
	(void)state;
	for (unsigned i = 0; i < NR_REACTORS; i++) {
		reactors[i] = fdr_reactor_create(i);
		assert_non_null(reactors[i]);
		assert_int_equal(fdr_reactor_start(reactors[i], -1), 0);
	}
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	for (unsigned i = 0; i < NR_REACTORS; i++) {
		fdr_reactor_stop(reactors[i]);
		fdr_reactor_join(reactors[i]);
		fdr_reactor_destroy(reactors[i]);
	}
	return 0;
}

static struct fdr_port make_port(const char *addr, const char *svc)
{
	struct fdr_port p;

	memset(&p, 0, sizeof(p));
	p.trtype = NVMF_TRTYPE_TCP;
	snprintf(p.traddr, sizeof(p.traddr), "%s", addr);
	snprintf(p.trsvcid, sizeof(p.trsvcid), "%s", svc);
	return p;
}

/* A blocking-ish client: the reactors run in their own threads, so the
 * test host just waits on the socket (th_pump on a NULL reactor is not
 * used: host.r stays NULL and th_recv polls). */
static int client_connect(int family, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK, 0);

	assert_true(fd >= 0);
	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;
		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sl = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		in6->sin6_addr = in6addr_loopback;
		sl = sizeof(*in6);
	}
	if (connect(fd, (struct sockaddr *)&ss, sl) < 0)
		assert_int_equal(errno, EINPROGRESS);
	return fd;
}

/* th_* helpers turn host->r; with reactors in threads there is nothing to
 * turn, so give them a private idle reactor. */
static void host_init(struct test_host *h, int fd)
{
	memset(h, 0, sizeof(*h));
	h->r = fdr_reactor_create(99);
	assert_non_null(h->r);
	h->fd = fd;
}

static void host_fini(struct test_host *h)
{
	if (h->fd >= 0)
		close(h->fd);
	fdr_reactor_destroy(h->r);
}

static void roundtrip_cmd(struct test_host *h, uint16_t cid)
{
	uint8_t buf[256];
	struct nvme_sqe s;
	struct nvme_tcp_rsp rsp;
	size_t n;

	memset(&s, 0, sizeof(s));
	s.cid = cid;
	n = th_build_cmd(h, buf, &s, NULL, 0, 0);
	th_send(h, buf, n);
	assert_int_equal(th_recv_pdu(h, buf, sizeof(buf)), 24);
	memcpy(&rsp, buf, sizeof(rsp));
	assert_int_equal(rsp.hdr.type, NVME_TCP_RSP);
	assert_int_equal(rsp.cqe.cid, cid);
}

static void test_listen_and_serve(void **state)
{
	struct fdr_port port = make_port("127.0.0.1", "0");
	struct test_host h[2];
	struct fdr_reactor *placed[2];
	struct fdr_tcp_listener *l;
	char err[128] = "";

	(void)state;
	mock_reset();
	l = fdr_tcp_listen(NULL, &port, reactors, NR_REACTORS, NULL, err, sizeof(err));
	assert_non_null(l);
	assert_true(fdr_tcp_listener_port(l) != 0);
	/* the discovery log must show the real port */
	assert_int_equal(atoi(port.trsvcid), fdr_tcp_listener_port(l));

	for (int i = 0; i < 2; i++) {
		host_init(&h[i], client_connect(AF_INET, fdr_tcp_listener_port(l)));
		th_icreq(&h[i], 0, 0, 0);
		assert_int_equal(mock.nr_created, (unsigned)i + 1);
		placed[i] = mock.q->reactor;
		assert_memory_equal(mock.q->peer, "127.0.0.1:", 10);
		roundtrip_cmd(&h[i], (uint16_t)(10 + i));
	}
	/* round robin */
	assert_ptr_not_equal(placed[0], placed[1]);

	/* Closing from a non-reactor thread waits for both to drain. */
	fdr_tcp_listener_close(l);
	assert_int_equal(mock.nr_closed, 2);
	assert_int_equal(mock.nr_freed, 2);
	for (int i = 0; i < 2; i++) {
		assert_true(th_eof(&h[i]));
		host_fini(&h[i]);
	}
	assert_int_equal(mock.errors, 0);
	/* and the port is free again */
	struct fdr_port again = make_port("127.0.0.1", port.trsvcid);
	l = fdr_tcp_listen(NULL, &again, reactors, 1, NULL, err, sizeof(err));
	assert_non_null(l);
	fdr_tcp_listener_close(l);
}

static void test_listen_ipv6(void **state)
{
	struct fdr_port port = make_port("[::1]", "0"); /* bracketed form */
	struct fdr_tcp_listener *l;
	struct test_host h;
	char err[128] = "";
	int probe = socket(AF_INET6, SOCK_STREAM, 0);
	struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};

	(void)state;
	if (probe < 0 || bind(probe, (struct sockaddr *)&a, sizeof(a)) < 0) {
		if (probe >= 0)
			close(probe);
		skip(); /* no IPv6 loopback here */
	}
	close(probe);
	mock_reset();
	l = fdr_tcp_listen(NULL, &port, reactors, NR_REACTORS, NULL, err, sizeof(err));
	assert_non_null(l);
	host_init(&h, client_connect(AF_INET6, fdr_tcp_listener_port(l)));
	th_icreq(&h, 0, 0, 0);
	assert_memory_equal(mock.q->peer, "[::1]:", 6);
	roundtrip_cmd(&h, 1);
	fdr_tcp_listener_close(l);
	assert_true(th_eof(&h));
	host_fini(&h);
	assert_int_equal(mock.nr_freed, 1);
}

static void test_listen_errors(void **state)
{
	struct fdr_port bad_addr = make_port("localhost", "4420");
	struct fdr_port bad_port = make_port("127.0.0.1", "44x");
	struct fdr_port big_port = make_port("127.0.0.1", "70000");
	struct fdr_port any = make_port("127.0.0.1", "0");
	struct fdr_tcp_opts small = {.maxh2cdata = 1024};
	struct fdr_tcp_listener *l;
	char err[128];

	(void)state;
	assert_null(fdr_tcp_listen(NULL, &bad_addr, reactors, 1, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "localhost"));
	assert_null(fdr_tcp_listen(NULL, &bad_port, reactors, 1, NULL, err, sizeof(err)));
	assert_null(fdr_tcp_listen(NULL, &big_port, reactors, 1, NULL, err, sizeof(err)));
	assert_null(fdr_tcp_listen(NULL, &any, reactors, 1, &small, err, sizeof(err)));
	assert_null(fdr_tcp_listen(NULL, &any, reactors, 0, NULL, err, sizeof(err)));

	/* A port in use */
	l = fdr_tcp_listen(NULL, &any, reactors, 1, NULL, err, sizeof(err));
	assert_non_null(l);
	struct fdr_port same = make_port("127.0.0.1", any.trsvcid);
	assert_null(fdr_tcp_listen(NULL, &same, reactors, 1, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "bind"));
	fdr_tcp_listener_close(l);
}

static void test_close_idle_before_icreq(void **state)
{
	struct fdr_port port = make_port("127.0.0.1", "0");
	struct fdr_tcp_listener *l;
	struct test_host h;
	char err[128];

	(void)state;
	mock_reset();
	l = fdr_tcp_listen(NULL, &port, reactors, NR_REACTORS, NULL, err, sizeof(err));
	assert_non_null(l);
	host_init(&h, client_connect(AF_INET, fdr_tcp_listener_port(l)));
	usleep(50000); /* accepted, no ICReq yet */
	fdr_tcp_listener_close(l);
	assert_true(th_eof(&h));
	host_fini(&h);
	assert_int_equal(mock.nr_created, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_listen_and_serve),
		cmocka_unit_test(test_listen_ipv6),
		cmocka_unit_test(test_listen_errors),
		cmocka_unit_test(test_close_idle_before_icreq),
	};

	fdr_log_set_level(getenv("FDR_TEST_DEBUG") ? FDR_LOG_DEBUG : FDR_LOG_ERR);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

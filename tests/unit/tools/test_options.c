/* SPDX-License-Identifier: BSD-2-Clause */
/* The frankendrive command line: defaults, every option, and bad input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "options.h"

static int parse(struct fdr_options *o, char *err, size_t errlen, ...)
{
	char *argv[64] = {"frankendrive"};
	int argc = 1;
	va_list ap;

	va_start(ap, errlen);
	for (char *a; (a = va_arg(ap, char *)) && argc < 63;)
		argv[argc++] = a;
	va_end(ap);
	return fdr_options_parse(o, argc, argv, err, errlen);
}

static void test_defaults(void **state)
{
	struct fdr_options o;
	char err[256] = "";

	(void)state;
	assert_int_equal(parse(&o, err, sizeof(err), NULL), 0);
	assert_int_equal(o.nr_listen, 1);
	assert_string_equal(o.listen[0].addr, "127.0.0.1");
	assert_string_equal(o.listen[0].port, "4420");
	assert_int_equal(o.discovery_port, 8009);
	assert_string_equal(o.nqn, "nqn.2026-11.io.frankendrive:drive0");
	assert_int_equal(o.nr_ns, 1);
	assert_int_equal(o.ns[0].backend, OPT_BACKEND_RAM);
	assert_true(o.ns[0].size == (1ull << 30));
	assert_int_equal(o.ns[0].lba_size, 512);
	assert_int_equal(o.nr_hosts, 0);
	fdr_options_free(&o);
}

static void test_all_options(void **state)
{
	struct fdr_options o;
	char err[256] = "";

	(void)state;
	assert_int_equal(parse(&o, err, sizeof(err), "-l", "0.0.0.0:5000", "--listen", "[::1]:4421",
			       "--discovery-port", "0", "-n", "nqn.2026-01.org.example:x", "--ns",
			       "ram,size=64M,lba=4096", "--ns", "file,path=/tmp/a b.img,size=1G",
			       "--ns", "null,size=2T", "--serial", "SER1", "--model", "Model X",
			       "--firmware", "FW2", "--queues", "4", "--queue-depth", "256",
			       "--inline-data", "16K", "--allow-host", "nqn.h1", "--allow-host",
			       "nqn.h2", "--cores", "3", "--log-level", "debug", NULL),
			 0);
	assert_int_equal(o.nr_listen, 2);
	assert_string_equal(o.listen[0].addr, "0.0.0.0");
	assert_string_equal(o.listen[0].port, "5000");
	assert_string_equal(o.listen[1].addr, "::1");
	assert_string_equal(o.listen[1].port, "4421");
	assert_int_equal(o.discovery_port, 0);
	assert_string_equal(o.nqn, "nqn.2026-01.org.example:x");
	assert_int_equal(o.nr_ns, 3);
	assert_int_equal(o.ns[0].lba_size, 4096);
	assert_true(o.ns[0].size == 64ull << 20);
	assert_int_equal(o.ns[1].backend, OPT_BACKEND_FILE);
	assert_string_equal(o.ns[1].path, "/tmp/a b.img");
	assert_int_equal(o.ns[2].backend, OPT_BACKEND_NULL);
	assert_true(o.ns[2].size == 2ull << 40);
	assert_string_equal(o.serial, "SER1");
	assert_string_equal(o.model, "Model X");
	assert_string_equal(o.firmware, "FW2");
	assert_int_equal(o.queues, 4);
	assert_int_equal(o.queue_depth, 256);
	assert_int_equal(o.inline_data, 16384);
	assert_int_equal(o.nr_hosts, 2);
	assert_string_equal(o.hosts[1], "nqn.h2");
	assert_int_equal(o.cores, 3);
	assert_int_equal(o.log_level, 4);
	fdr_options_free(&o);
}

static void expect_error(const char *needle, ...)
{
	char *argv[16] = {"frankendrive"};
	int argc = 1;
	struct fdr_options o;
	char err[256] = "";
	va_list ap;

	va_start(ap, needle);
	for (char *a; (a = va_arg(ap, char *)) && argc < 15;)
		argv[argc++] = a;
	va_end(ap);
	assert_int_equal(fdr_options_parse(&o, argc, argv, err, sizeof(err)), -1);
	if (!strstr(err, needle))
		fail_msg("error '%s' does not mention '%s'", err, needle);
	fdr_options_free(&o);
}

static void test_bad_input(void **state)
{
	(void)state;
	expect_error("--listen", "-l", "127.0.0.1", NULL);
	expect_error("--listen", "-l", "127.0.0.1:99999", NULL);
	expect_error("--listen", "-l", ":4420", NULL);
	expect_error("unknown backend", "--ns", "tape,size=1G", NULL);
	expect_error("size= is required", "--ns", "ram", NULL);
	expect_error("bad size", "--ns", "ram,size=12Q", NULL);
	expect_error("bad size", "--ns", "ram,size=0", NULL);
	expect_error("LBA size", "--ns", "ram,size=1M,lba=1024", NULL);
	expect_error("multiple of the LBA size", "--ns", "ram,size=1000,lba=512", NULL);
	expect_error("needs path=", "--ns", "file,size=1G", NULL);
	expect_error("unknown key", "--ns", "ram,size=1G,colour=red", NULL);
	expect_error("not key=value", "--ns", "ram,size=1G,fast", NULL);
	expect_error("--queues", "--queues", "0", NULL);
	expect_error("--queues", "--queues", "65", NULL);
	expect_error("--queue-depth", "--queue-depth", "1", NULL);
	expect_error("--nqn", "--nqn", "drive0", NULL);
	expect_error("--nqn", "--nqn", "nqn.2014-08.org.nvmexpress.discovery", NULL);
	expect_error("--serial", "--serial", "012345678901234567890", NULL);
	expect_error("--log-level", "--log-level", "loud", NULL);
	expect_error("unknown option", "--frobnicate", NULL);
	expect_error("needs an argument", "--ns", NULL);
	expect_error("unexpected argument", "extra", NULL);
	expect_error("--inline-data", "--inline-data", "1G", NULL);
}

static void test_vfio_user(void **state)
{
	struct fdr_options o;
	char err[256] = "";
	char longdir[200];

	(void)state;
	assert_int_equal(parse(&o, err, sizeof(err), NULL), 0);
	assert_int_equal(o.nr_vfio_user, 0);
	fdr_options_free(&o);
	assert_int_equal(parse(&o, err, sizeof(err), "--vfio-user", "/tmp/a", "--vfio-user",
			       "/run/b", NULL),
			 0);
	assert_int_equal(o.nr_vfio_user, 2);
	assert_string_equal(o.vfio_user[0].dir, "/tmp/a");
	assert_string_equal(o.vfio_user[1].dir, "/run/b");
	assert_int_equal(o.vfio_user[0].vid, 0);
	assert_int_equal(o.vfio_user[0].bdf, 4 << 3); /* 00:04.0 */
	assert_int_equal(o.vfio_user[1].bdf, 5 << 3);
	assert_int_equal(o.nr_listen, 1); /* NVMe/TCP stays */
	fdr_options_free(&o);
	assert_int_equal(parse(&o, err, sizeof(err), "--vfio-user",
			       "/tmp/a,vid=0x1af4,did=4660,ssvid=0x10,ssid=0x11,pci=01:1f.7", NULL),
			 0);
	assert_string_equal(o.vfio_user[0].dir, "/tmp/a");
	assert_int_equal(o.vfio_user[0].vid, 0x1af4);
	assert_int_equal(o.vfio_user[0].did, 4660);
	assert_int_equal(o.vfio_user[0].ssvid, 0x10);
	assert_int_equal(o.vfio_user[0].ssid, 0x11);
	assert_int_equal(o.vfio_user[0].bdf, 1 << 8 | 0x1f << 3 | 7);
	fdr_options_free(&o);
	static const char *const bad[] = {
		"/tmp/a,vid=0", "/tmp/a,vid=0xffff", "/tmp/a,vid=x", "/tmp/a,pci=00:20.0",
		"/tmp/a,pci=00:01.8", "/tmp/a,pci=zz", "/tmp/a,foo=1", "/tmp/a,vid", ",vid=1",
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		assert_int_equal(parse(&o, err, sizeof(err), "--vfio-user", bad[i], NULL), -1);
		assert_true(strstr(err, "--vfio-user") != NULL);
		fdr_options_free(&o);
	}
	assert_int_equal(parse(&o, err, sizeof(err), "--vfio-user", "", NULL), -1);
	fdr_options_free(&o);
	memset(longdir, 'x', sizeof(longdir) - 1);
	longdir[sizeof(longdir) - 1] = 0;
	assert_int_equal(parse(&o, err, sizeof(err), "--vfio-user", longdir, NULL), -1);
	fdr_options_free(&o);
	assert_int_equal(parse(&o, err, sizeof(err), "--vfio-user", "1", "--vfio-user", "2",
			       "--vfio-user", "3", "--vfio-user", "4", "--vfio-user", "5", NULL),
			 -1);
	fdr_options_free(&o);
}

static void test_sizes(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(fdr_parse_size("4096", &v), 0);
	assert_true(v == 4096);
	assert_int_equal(fdr_parse_size("1GiB", &v), 0);
	assert_true(v == 1ull << 30);
	assert_int_equal(fdr_parse_size("3k", &v), 0);
	assert_true(v == 3072);
	assert_int_equal(fdr_parse_size("1.5G", &v), -1);
	assert_int_equal(fdr_parse_size("-1", &v), -1);
	assert_int_equal(fdr_parse_size("99999999999999999999", &v), -1);
	assert_int_equal(fdr_parse_size("20000000T", &v), -1);
	assert_int_equal(fdr_parse_size("", &v), -1);
}

/* The ring by count or by bytes: the last of the two wins. */
static void test_record_size(void **state)
{
	struct fdr_options o;
	char err[256] = "";

	(void)state;
	assert_int_equal(parse(&o, err, sizeof(err), NULL), 0);
	assert_true(o.record_events == 10000);
	fdr_options_free(&o);
	assert_int_equal(parse(&o, err, sizeof(err), "--record-size", "64M", NULL), 0);
	assert_true(o.record_events == ((64ull << 20) - 4096) / 256);
	fdr_options_free(&o);
	assert_int_equal(parse(&o, err, sizeof(err), "--record-size", "1M", "--record-events", "500",
			       NULL), 0);
	assert_true(o.record_events == 500);
	fdr_options_free(&o);
	assert_int_equal(parse(&o, err, sizeof(err), "--record-size", "4K", NULL), -1);
	assert_non_null(strstr(err, "--record-size 4K"));
	assert_int_equal(parse(&o, err, sizeof(err), "--record-size", "8T", NULL), -1);
	assert_int_equal(parse(&o, err, sizeof(err), "--record-size", "lots", NULL), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_all_options),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_vfio_user),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_record_size),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

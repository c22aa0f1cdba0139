/* SPDX-License-Identifier: BSD-2-Clause */
/* The vfio-user message checker (vfu_msg.c): framing and per-command checks. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vfu_internal.h"

static struct fdr_vfu_desc desc;

static void setup_desc(void)
{
	memset(&desc, 0, sizeof(desc));
	desc.regions[0] = (struct fdr_vfu_region){.size = 0x2000, .flags = FDR_VFU_R_READ | FDR_VFU_R_WRITE};
	desc.regions[2] = (struct fdr_vfu_region){.size = 0x1000, .flags = FDR_VFU_R_READ};
	desc.regions[7] = (struct fdr_vfu_region){.size = 0x1000, .flags = FDR_VFU_R_READ | FDR_VFU_R_WRITE};
	desc.irq_count[FDR_VFU_IRQ_MSIX] = 4;
	desc.irq_count[FDR_VFU_IRQ_ERR] = 1;
}

static uint8_t buf[8192];

/* Builds header + payload into buf; returns the length. */
static size_t msg(uint16_t cmd, uint32_t flags, const void *payload, size_t len)
{
	struct vfu_hdr h = {.msg_id = 7, .cmd = cmd, .size = (uint32_t)(16 + len), .flags = flags};

	memcpy(buf, &h, 16);
	if (len)
		memcpy(buf + 16, payload, len);
	return 16 + len;
}

static int parse(bool versioned, size_t len, unsigned nfds, struct vfu_msg *m)
{
	struct vfu_parse_ctx ctx = {.desc = &desc, .versioned = versioned};

	return vfu_msg_parse(&ctx, buf, len, nfds, m);
}

static void test_header(void **state)
{
	struct vfu_hdr h = {.size = 15};

	(void)state;
	assert_non_null(vfu_hdr_check(&h));
	h.size = 16;
	assert_null(vfu_hdr_check(&h));
	h.size = FDR_VFU_MAX_MSG + 1;
	assert_non_null(vfu_hdr_check(&h));
	h.size = FDR_VFU_MAX_MSG;
	assert_null(vfu_hdr_check(&h));
	h.flags = VFU_F_TYPE_REPLY;
	assert_non_null(vfu_hdr_check(&h));
	h.flags = 5;
	assert_non_null(vfu_hdr_check(&h));
	h.flags = VFU_F_NO_REPLY;
	assert_null(vfu_hdr_check(&h));
}

static void test_version(void **state)
{
	struct vfu_msg m;
	uint8_t p[256];
	const char *json = "{\"capabilities\":{\"max_msg_fds\":16,\"max_data_xfer_size\":65536,"
			   "\"pgsizes\":4096,\"max_dma_maps\":65535,\"write_multiple\":true,"
			   "\"migration\":{\"pgsize\":4096}}}";

	(void)state;
	/* SPDK: 0.1, no JSON. */
	memcpy(p, &(struct vfu_version){0, 1}, 4);
	assert_int_equal(parse(false, msg(VFU_CMD_VERSION, 0, p, 4), 0, &m), 0);
	assert_int_equal(m.u.version.minor, 1);
	assert_int_equal(m.u.version.max_fds, 1);
	assert_false(m.u.version.has_json);
	/* QEMU: 0.0 with capabilities. */
	memcpy(p + 4, json, strlen(json) + 1);
	assert_int_equal(parse(false, msg(VFU_CMD_VERSION, 0, p, 4 + strlen(json) + 1), 0, &m), 0);
	assert_int_equal(m.u.version.max_fds, 16);
	assert_int_equal(m.u.version.max_xfer, 65536);
	/* No NUL, embedded NUL, bad JSON, not an object, bad types. */
	assert_int_equal(parse(false, msg(VFU_CMD_VERSION, 0, p, 4 + strlen(json)), 0, &m), EINVAL);
	memcpy(p + 4, "{}\0{}", 6);
	assert_int_equal(parse(false, msg(VFU_CMD_VERSION, 0, p, 10), 0, &m), EINVAL);
	memcpy(p + 4, "{\"capab", 8);
	assert_int_equal(parse(false, msg(VFU_CMD_VERSION, 0, p, 12), 0, &m), EINVAL);
	memcpy(p + 4, "[1]", 4);
	assert_int_equal(parse(false, msg(VFU_CMD_VERSION, 0, p, 8), 0, &m), EINVAL);
	memcpy(p + 4, "{\"capabilities\":{\"max_msg_fds\":\"x\"}}", 37);
	assert_int_equal(parse(false, msg(VFU_CMD_VERSION, 0, p, 41), 0, &m), EINVAL);
	memcpy(p + 4, "{\"capabilities\":{\"max_msg_fds\":-1}}", 36);
	assert_int_equal(parse(false, msg(VFU_CMD_VERSION, 0, p, 40), 0, &m), EINVAL);
	memcpy(p + 4, "{} x", 5);
	assert_int_equal(parse(false, msg(VFU_CMD_VERSION, 0, p, 9), 0, &m), EINVAL);
	/* Empty JSON string (just the NUL) is accepted. */
	p[4] = 0;
	assert_int_equal(parse(false, msg(VFU_CMD_VERSION, 0, p, 5), 0, &m), 0);
	/* Major 1: error and close; with an fd; too short; twice. */
	memcpy(p, &(struct vfu_version){1, 0}, 4);
	assert_int_equal(parse(false, msg(VFU_CMD_VERSION, 0, p, 4), 0, &m), ENOTSUP);
	assert_true(m.close);
	memcpy(p, &(struct vfu_version){0, 0}, 4);
	assert_int_equal(parse(false, msg(VFU_CMD_VERSION, 0, p, 4), 1, &m), EINVAL);
	assert_int_equal(parse(false, msg(VFU_CMD_VERSION, 0, p, 3), 0, &m), EINVAL);
	assert_int_equal(parse(true, msg(VFU_CMD_VERSION, 0, p, 4), 0, &m), EINVAL);
	assert_false(m.close);
	/* Anything else first: error and close. */
	assert_int_equal(parse(false, msg(VFU_CMD_DEVICE_RESET, 0, NULL, 0), 0, &m), EINVAL);
	assert_true(m.close);
}

static void test_dma(void **state)
{
	struct vfu_msg m;
	struct vfu_dma_map d = {.argsz = 32, .flags = 3, .offset = 0, .addr = 0x1000, .size = 0x1000};
	struct vfu_dma_unmap u = {.argsz = 24, .addr = 0x1000, .size = 0x1000};

	(void)state;
	assert_int_equal(parse(true, msg(VFU_CMD_DMA_MAP, 0, &d, 32), 1, &m), 0);
	assert_int_equal(m.nfds, 1);
	assert_int_equal(parse(true, msg(VFU_CMD_DMA_MAP, 0, &d, 32), 0, &m), 0);
	assert_int_equal(parse(true, msg(VFU_CMD_DMA_MAP, 0, &d, 32), 2, &m), EINVAL);
	assert_int_equal(parse(true, msg(VFU_CMD_DMA_MAP, 0, &d, 31), 0, &m), EINVAL);
	d.flags = 4;
	assert_int_equal(parse(true, msg(VFU_CMD_DMA_MAP, 0, &d, 32), 0, &m), EINVAL);
	d.flags = 0;
	assert_int_equal(parse(true, msg(VFU_CMD_DMA_MAP, 0, &d, 32), 0, &m), EINVAL);
	d.flags = 1;
	d.size = 0;
	assert_int_equal(parse(true, msg(VFU_CMD_DMA_MAP, 0, &d, 32), 0, &m), EINVAL);
	d.size = 2;
	d.addr = UINT64_MAX;
	assert_int_equal(parse(true, msg(VFU_CMD_DMA_MAP, 0, &d, 32), 0, &m), EINVAL);
	d.addr = 0;
	d.argsz = 8;
	assert_int_equal(parse(true, msg(VFU_CMD_DMA_MAP, 0, &d, 32), 0, &m), EINVAL);

	assert_int_equal(parse(true, msg(VFU_CMD_DMA_UNMAP, 0, &u, 24), 0, &m), 0);
	assert_int_equal(parse(true, msg(VFU_CMD_DMA_UNMAP, 0, &u, 24), 1, &m), 0); /* SPDK */
	assert_int_equal(m.nfds, 0);
	u.flags = VFU_UNMAP_GET_DIRTY_BITMAP;
	assert_int_equal(parse(true, msg(VFU_CMD_DMA_UNMAP, 0, &u, 24), 0, &m), ENOTSUP);
	u.flags = VFU_UNMAP_ALL;
	assert_int_equal(parse(true, msg(VFU_CMD_DMA_UNMAP, 0, &u, 24), 0, &m), EINVAL);
	u.addr = u.size = 0;
	assert_int_equal(parse(true, msg(VFU_CMD_DMA_UNMAP, 0, &u, 24), 0, &m), 0);
	u.flags = 0;
	assert_int_equal(parse(true, msg(VFU_CMD_DMA_UNMAP, 0, &u, 24), 0, &m), EINVAL);
}

static void test_info(void **state)
{
	struct vfu_msg m;
	uint8_t p[4064] = {0};
	uint32_t argsz = 4064, idx = 8;

	(void)state;
	memcpy(p, &argsz, 4);
	assert_int_equal(parse(true, msg(VFU_CMD_DEVICE_GET_REGION_INFO, 0, p, sizeof(p)), 0, &m), 0);
	assert_int_equal(m.u.info.argsz, 4064);
	memcpy(p + 8, &idx, 4);
	assert_int_equal(parse(true, msg(VFU_CMD_DEVICE_GET_REGION_INFO, 0, p, 32), 0, &m), 0);
	idx = 9;
	memcpy(p + 8, &idx, 4);
	assert_int_equal(parse(true, msg(VFU_CMD_DEVICE_GET_REGION_INFO, 0, p, 32), 0, &m), EINVAL);
	assert_int_equal(parse(true, msg(VFU_CMD_DEVICE_GET_REGION_INFO, 0, p, 31), 0, &m), EINVAL);
	argsz = 16;
	memcpy(p, &argsz, 4);
	idx = 0;
	memcpy(p + 8, &idx, 4);
	assert_int_equal(parse(true, msg(VFU_CMD_DEVICE_GET_REGION_INFO, 0, p, 32), 0, &m), EINVAL);
	assert_int_equal(parse(true, msg(VFU_CMD_DEVICE_GET_INFO, 0, p, 16), 0, &m), 0);
	assert_int_equal(parse(true, msg(VFU_CMD_DEVICE_GET_INFO, 0, p, 16), 1, &m), EINVAL);
	idx = 5;
	memcpy(p + 8, &idx, 4);
	assert_int_equal(parse(true, msg(VFU_CMD_DEVICE_GET_IRQ_INFO, 0, p, 16), 0, &m), EINVAL);
}

static void test_set_irqs(void **state)
{
	struct vfu_msg m;
	uint8_t p[64] = {0};
	struct vfu_irq_set s = {.argsz = 20, .flags = VFU_IRQ_DATA_EVENTFD | VFU_IRQ_ACTION_TRIGGER,
				.index = FDR_VFU_IRQ_MSIX, .start = 1, .count = 3};

	(void)state;
	memcpy(p, &s, 20);
	assert_int_equal(parse(true, msg(VFU_CMD_DEVICE_SET_IRQS, 0, p, 20), 3, &m), 0);
	assert_int_equal(m.nfds, 3);
	assert_int_equal(parse(true, msg(VFU_CMD_DEVICE_SET_IRQS, 0, p, 20), 0, &m), 0);
	assert_int_equal(parse(true, msg(VFU_CMD_DEVICE_SET_IRQS, 0, p, 20), 2, &m), EINVAL);
	s.count = 4; /* 1 + 4 > 4 */
	memcpy(p, &s, 20);
	assert_int_equal(parse(true, msg(VFU_CMD_DEVICE_SET_IRQS, 0, p, 20), 0, &m), EINVAL);
	s.start = UINT32_MAX;
	s.count = 2;
	memcpy(p, &s, 20);
	assert_int_equal(parse(true, msg(VFU_CMD_DEVICE_SET_IRQS, 0, p, 20), 0, &m), EINVAL);
	/* count 0 only for DATA_NONE|TRIGGER, start 0. */
	s.start = 0;
	s.count = 0;
	memcpy(p, &s, 20);
	assert_int_equal(parse(true, msg(VFU_CMD_DEVICE_SET_IRQS, 0, p, 20), 0, &m), EINVAL);
	s.flags = VFU_IRQ_DATA_NONE | VFU_IRQ_ACTION_TRIGGER;
	memcpy(p, &s, 20);
	assert_int_equal(parse(true, msg(VFU_CMD_DEVICE_SET_IRQS, 0, p, 20), 0, &m), 0);
	assert_int_equal(parse(true, msg(VFU_CMD_DEVICE_SET_IRQS, 0, p, 20), 1, &m), EINVAL);
	/* Two DATA or two ACTION bits, unknown bits. */
	s.flags = VFU_IRQ_DATA_NONE | VFU_IRQ_DATA_BOOL | VFU_IRQ_ACTION_TRIGGER;
	s.count = 1;
	memcpy(p, &s, 20);
	assert_int_equal(parse(true, msg(VFU_CMD_DEVICE_SET_IRQS, 0, p, 20), 0, &m), EINVAL);
	s.flags = VFU_IRQ_DATA_NONE | VFU_IRQ_ACTION_MASK | VFU_IRQ_ACTION_UNMASK;
	memcpy(p, &s, 20);
	assert_int_equal(parse(true, msg(VFU_CMD_DEVICE_SET_IRQS, 0, p, 20), 0, &m), EINVAL);
	s.flags = VFU_IRQ_DATA_NONE | VFU_IRQ_ACTION_MASK | 0x100;
	memcpy(p, &s, 20);
	assert_int_equal(parse(true, msg(VFU_CMD_DEVICE_SET_IRQS, 0, p, 20), 0, &m), EINVAL);
	/* DATA_BOOL needs count bytes. */
	s.flags = VFU_IRQ_DATA_BOOL | VFU_IRQ_ACTION_TRIGGER;
	s.count = 3;
	s.argsz = 23;
	memcpy(p, &s, 20);
	assert_int_equal(parse(true, msg(VFU_CMD_DEVICE_SET_IRQS, 0, p, 22), 0, &m), EINVAL);
	assert_int_equal(parse(true, msg(VFU_CMD_DEVICE_SET_IRQS, 0, p, 23), 0, &m), 0);
	assert_non_null(m.u.irqs.bools);
	/* ERR has one vector; MSI none. */
	s.flags = VFU_IRQ_DATA_EVENTFD | VFU_IRQ_ACTION_TRIGGER;
	s.index = FDR_VFU_IRQ_ERR;
	s.count = 1;
	memcpy(p, &s, 20);
	assert_int_equal(parse(true, msg(VFU_CMD_DEVICE_SET_IRQS, 0, p, 20), 1, &m), 0);
	s.index = FDR_VFU_IRQ_MSI;
	memcpy(p, &s, 20);
	assert_int_equal(parse(true, msg(VFU_CMD_DEVICE_SET_IRQS, 0, p, 20), 1, &m), EINVAL);
	s.index = 5;
	memcpy(p, &s, 20);
	assert_int_equal(parse(true, msg(VFU_CMD_DEVICE_SET_IRQS, 0, p, 20), 1, &m), EINVAL);
	/* Mask notifier fds: accepted, not consumed. */
	s.index = FDR_VFU_IRQ_MSIX;
	s.flags = VFU_IRQ_DATA_EVENTFD | VFU_IRQ_ACTION_UNMASK;
	memcpy(p, &s, 20);
	assert_int_equal(parse(true, msg(VFU_CMD_DEVICE_SET_IRQS, 0, p, 20), 1, &m), 0);
	assert_int_equal(m.nfds, 0);
}

static void test_access(void **state)
{
	struct vfu_msg m;
	uint8_t p[64] = {0};
	struct vfu_region_access a = {.offset = 0x1ffc, .region = 0, .count = 4};

	(void)state;
	memcpy(p, &a, 16);
	assert_int_equal(parse(true, msg(VFU_CMD_REGION_READ, 0, p, 16), 0, &m), 0);
	assert_int_equal(parse(true, msg(VFU_CMD_REGION_WRITE, 0, p, 20), 0, &m), 0);
	assert_non_null(m.u.access.data);
	assert_int_equal(parse(true, msg(VFU_CMD_REGION_WRITE, 0, p, 21), 0, &m), EINVAL);
	assert_int_equal(parse(true, msg(VFU_CMD_REGION_WRITE, 0, p, 19), 0, &m), EINVAL);
	assert_int_equal(parse(true, msg(VFU_CMD_REGION_READ, 0, p, 16), 1, &m), EINVAL);
	a.offset = 0x1ffd;
	memcpy(p, &a, 16);
	assert_int_equal(parse(true, msg(VFU_CMD_REGION_READ, 0, p, 16), 0, &m), EINVAL);
	a.offset = UINT64_MAX - 1;
	memcpy(p, &a, 16);
	assert_int_equal(parse(true, msg(VFU_CMD_REGION_READ, 0, p, 16), 0, &m), EINVAL);
	a.offset = 0;
	a.region = 9;
	memcpy(p, &a, 16);
	assert_int_equal(parse(true, msg(VFU_CMD_REGION_READ, 0, p, 16), 0, &m), EINVAL);
	a.region = 1; /* size 0 */
	memcpy(p, &a, 16);
	assert_int_equal(parse(true, msg(VFU_CMD_REGION_READ, 0, p, 16), 0, &m), EINVAL);
	a.region = 2; /* read only */
	memcpy(p, &a, 16);
	assert_int_equal(parse(true, msg(VFU_CMD_REGION_READ, 0, p, 16), 0, &m), 0);
	assert_int_equal(parse(true, msg(VFU_CMD_REGION_WRITE, 0, p, 20), 0, &m), EINVAL);
	a.region = 7;
	a.count = FDR_VFU_MAX_XFER + 1;
	memcpy(p, &a, 16);
	assert_int_equal(parse(true, msg(VFU_CMD_REGION_READ, 0, p, 16), 0, &m), EINVAL);
	a.count = 0;
	memcpy(p, &a, 16);
	assert_int_equal(parse(true, msg(VFU_CMD_REGION_READ, 0, p, 16), 0, &m), 0);
}

static void test_other(void **state)
{
	struct vfu_msg m;

	(void)state;
	assert_int_equal(parse(true, msg(VFU_CMD_DEVICE_RESET, 0, NULL, 0), 0, &m), 0);
	assert_int_equal(parse(true, msg(VFU_CMD_DEVICE_RESET, 0, NULL, 0), 1, &m), EINVAL);
	assert_int_equal(parse(true, msg(VFU_CMD_DEVICE_RESET, VFU_F_NO_REPLY, NULL, 0), 0, &m), 0);
	assert_true(m.no_reply);
	assert_int_equal(parse(true, msg(VFU_CMD_DEVICE_RESET, VFU_F_ERROR, NULL, 0), 0, &m), EINVAL);
	assert_int_equal(parse(true, msg(VFU_CMD_DEVICE_RESET, 0x100, NULL, 0), 0, &m), EINVAL);
	for (unsigned c = 14; c <= 18; c++)
		assert_int_equal(parse(true, msg((uint16_t)c, 0, NULL, 0), 0, &m), ENOTSUP);
	assert_int_equal(parse(true, msg(VFU_CMD_DEVICE_GET_REGION_IO_FDS, 0, NULL, 0), 0, &m), ENOTSUP);
	assert_int_equal(parse(true, msg(VFU_CMD_DMA_READ, 0, NULL, 0), 0, &m), EINVAL);
	assert_int_equal(parse(true, msg(0, 0, NULL, 0), 0, &m), EINVAL);
	assert_int_equal(parse(true, msg(0xffff, 0, NULL, 0), 0, &m), EINVAL);
	assert_non_null(m.why);
	/* Length and header disagree: framing. */
	assert_int_equal(parse(true, msg(VFU_CMD_DEVICE_RESET, 0, NULL, 0) - 1, 0, &m), EINVAL);
	assert_true(m.close);
	assert_string_equal(vfu_cmd_name(VFU_CMD_DMA_MAP), "DMA_MAP");
	assert_string_equal(vfu_cmd_name(999), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header),  cmocka_unit_test(test_version),
		cmocka_unit_test(test_dma),     cmocka_unit_test(test_info),
		cmocka_unit_test(test_set_irqs), cmocka_unit_test(test_access),
		cmocka_unit_test(test_other),
	};

	setup_desc();
	return cmocka_run_group_tests(tests, NULL, NULL);
}

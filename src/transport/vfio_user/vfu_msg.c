/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The vfio-user message checker: framing of headers and the validation of
 * every command's payload against the device description.  Pure functions
 * over bytes, so the fuzz target drives them without a socket.  The
 * server executes only what passes here.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "vfu_internal.h"

const char *vfu_cmd_name(unsigned cmd)
{
	static const char *const names[] = {
		[VFU_CMD_VERSION] = "VERSION",
		[VFU_CMD_DMA_MAP] = "DMA_MAP",
		[VFU_CMD_DMA_UNMAP] = "DMA_UNMAP",
		[VFU_CMD_DEVICE_GET_INFO] = "DEVICE_GET_INFO",
		[VFU_CMD_DEVICE_GET_REGION_INFO] = "DEVICE_GET_REGION_INFO",
		[VFU_CMD_DEVICE_GET_REGION_IO_FDS] = "DEVICE_GET_REGION_IO_FDS",
		[VFU_CMD_DEVICE_GET_IRQ_INFO] = "DEVICE_GET_IRQ_INFO",
		[VFU_CMD_DEVICE_SET_IRQS] = "DEVICE_SET_IRQS",
		[VFU_CMD_REGION_READ] = "REGION_READ",
		[VFU_CMD_REGION_WRITE] = "REGION_WRITE",
		[VFU_CMD_DMA_READ] = "DMA_READ",
		[VFU_CMD_DMA_WRITE] = "DMA_WRITE",
		[VFU_CMD_DEVICE_RESET] = "DEVICE_RESET",
		[VFU_CMD_DIRTY_PAGES] = "DIRTY_PAGES",
		[VFU_CMD_REGION_WRITE_MULTI] = "REGION_WRITE_MULTI",
		[VFU_CMD_DEVICE_FEATURE] = "DEVICE_FEATURE",
		[VFU_CMD_MIG_DATA_READ] = "MIG_DATA_READ",
		[VFU_CMD_MIG_DATA_WRITE] = "MIG_DATA_WRITE",
	};

	if (cmd < sizeof(names) / sizeof(names[0]) && names[cmd])
		return names[cmd];
	return "?";
}

size_t vfu_version_json(char *buf, size_t len)
{
	int n = snprintf(buf, len,
			 "{\"capabilities\":{\"max_msg_fds\":%u,\"max_data_xfer_size\":%u,"
			 "\"pgsizes\":4096,\"max_dma_maps\":%u}}",
			 FDR_VFU_MAX_MSG_FDS, FDR_VFU_MAX_XFER, FDR_VFU_MAX_DMA_MAPS);

	return n < 0 || (size_t)n >= len ? 0 : (size_t)n + 1;
}

const char *vfu_hdr_check(const struct vfu_hdr *h)
{
	if (h->size < sizeof(struct vfu_hdr))
		return "message size below the 16-byte header";
	if (h->size > FDR_VFU_MAX_MSG)
		return "message larger than the largest accepted";
	if ((h->flags & VFU_F_TYPE_MASK) == VFU_F_TYPE_REPLY)
		return "reply from the client to a request never sent";
	if ((h->flags & VFU_F_TYPE_MASK) != VFU_F_TYPE_COMMAND)
		return "unknown message type";
	return NULL;
}

static int fail(struct vfu_msg *m, int err, const char *why)
{
	m->why = why;
	return err;
}

/* Capabilities of a VERSION request: every key optional, unknown ones ignored. */
static int parse_caps(const char *json, size_t len, struct vfu_msg *m)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *root, *caps, *v;
	size_t end;
	int rc = 0;

	if (!tok)
		return fail(m, ENOMEM, "out of memory parsing the capabilities");
	root = json_tokener_parse_ex(tok, json, (int)len);
	end = json_tokener_get_parse_end(tok);
	if (!root || json_tokener_get_error(tok) != json_tokener_success) {
		rc = fail(m, EINVAL, "capabilities are not valid JSON");
		goto out;
	}
	for (; end < len; end++) {
		if (json[end] != ' ' && json[end] != '\n' && json[end] != '\t' && json[end] != '\r') {
			rc = fail(m, EINVAL, "text after the capabilities object");
			goto out;
		}
	}
	if (!json_object_is_type(root, json_type_object)) {
		rc = fail(m, EINVAL, "capabilities JSON is not an object");
		goto out;
	}
	if (!json_object_object_get_ex(root, "capabilities", &caps))
		goto out;
	if (!json_object_is_type(caps, json_type_object)) {
		rc = fail(m, EINVAL, "\"capabilities\" is not an object");
		goto out;
	}
	if (json_object_object_get_ex(caps, "max_msg_fds", &v)) {
		int64_t n = json_object_get_int64(v);

		if (!json_object_is_type(v, json_type_int) || n < 0 || n > 1024) {
			rc = fail(m, EINVAL, "bad max_msg_fds");
			goto out;
		}
		m->u.version.max_fds = (uint32_t)n;
	}
	if (json_object_object_get_ex(caps, "max_data_xfer_size", &v)) {
		int64_t n = json_object_get_int64(v);

		if (!json_object_is_type(v, json_type_int) || n <= 0) {
			rc = fail(m, EINVAL, "bad max_data_xfer_size");
			goto out;
		}
		m->u.version.max_xfer = (uint64_t)n;
	}
	if (json_object_object_get_ex(caps, "pgsizes", &v)) {
		int64_t n = json_object_get_int64(v);

		if (!json_object_is_type(v, json_type_int) || !(n & 4096)) {
			rc = fail(m, EINVAL, "pgsizes without 4096");
			goto out;
		}
	}
	if (json_object_object_get_ex(caps, "max_dma_maps", &v) &&
	    !json_object_is_type(v, json_type_int)) {
		rc = fail(m, EINVAL, "bad max_dma_maps");
		goto out;
	}
out:
	if (root)
		json_object_put(root);
	json_tokener_free(tok);
	return rc;
}

static int parse_version(const uint8_t *p, size_t plen, unsigned nfds, struct vfu_msg *m)
{
	struct vfu_version v;

	m->u.version.max_fds = 1;
	m->u.version.max_xfer = FDR_VFU_MAX_XFER;
	if (nfds)
		return fail(m, EINVAL, "VERSION with file descriptors");
	if (plen < sizeof(v))
		return fail(m, EINVAL, "VERSION payload shorter than 4 bytes");
	memcpy(&v, p, sizeof(v));
	m->u.version.major = v.major;
	m->u.version.minor = v.minor;
	if (v.major != VFU_MAJOR) {
		m->close = true;
		return fail(m, ENOTSUP, "unsupported major version");
	}
	if (plen > sizeof(v)) {
		const char *json = (const char *)p + sizeof(v);
		size_t jlen = plen - sizeof(v);

		if (json[jlen - 1] != '\0' || strnlen(json, jlen) != jlen - 1)
			return fail(m, EINVAL, "capabilities not one NUL-terminated string");
		m->u.version.has_json = true;
		if (jlen > 1)
			return parse_caps(json, jlen - 1, m);
	}
	return 0;
}

static int parse_dma_map(const uint8_t *p, size_t plen, unsigned nfds, struct vfu_msg *m)
{
	struct vfu_dma_map *d = &m->u.map;

	if (plen < sizeof(*d))
		return fail(m, EINVAL, "DMA_MAP payload shorter than 32 bytes");
	memcpy(d, p, sizeof(*d));
	if (d->argsz < sizeof(*d))
		return fail(m, EINVAL, "DMA_MAP argsz below 32");
	if (nfds > 1)
		return fail(m, EINVAL, "DMA_MAP with more than one fd");
	if (d->flags & ~(VFU_DMA_READ | VFU_DMA_WRITE))
		return fail(m, EINVAL, "DMA_MAP with unknown flags");
	if (!(d->flags & (VFU_DMA_READ | VFU_DMA_WRITE)))
		return fail(m, EINVAL, "DMA_MAP with neither READ nor WRITE");
	if (d->size == 0)
		return fail(m, EINVAL, "DMA_MAP of size 0");
	if (d->addr + d->size < d->addr)
		return fail(m, EINVAL, "DMA_MAP range wraps around");
	if (nfds && d->offset + d->size < d->offset)
		return fail(m, EINVAL, "DMA_MAP file range wraps around");
	m->nfds = nfds;
	return 0;
}

static int parse_dma_unmap(const uint8_t *p, size_t plen, unsigned nfds, struct vfu_msg *m)
{
	struct vfu_dma_unmap *d = &m->u.unmap;

	if (plen < sizeof(*d))
		return fail(m, EINVAL, "DMA_UNMAP payload shorter than 24 bytes");
	memcpy(d, p, sizeof(*d));
	/* SPDK attaches the region's fd to its unmaps: tolerated, closed. */
	if (nfds > 1)
		return fail(m, EINVAL, "DMA_UNMAP with more than one fd");
	if (d->argsz < sizeof(*d))
		return fail(m, EINVAL, "DMA_UNMAP argsz below 24");
	if (d->flags & VFU_UNMAP_GET_DIRTY_BITMAP)
		return fail(m, ENOTSUP, "DMA_UNMAP dirty bitmaps are not supported");
	if (d->flags & ~VFU_UNMAP_ALL)
		return fail(m, EINVAL, "DMA_UNMAP with unknown flags");
	if ((d->flags & VFU_UNMAP_ALL) && (d->addr || d->size))
		return fail(m, EINVAL, "DMA_UNMAP ALL with an address or size");
	if (!(d->flags & VFU_UNMAP_ALL) && d->size == 0)
		return fail(m, EINVAL, "DMA_UNMAP of size 0");
	return 0;
}

/* The three 16-byte info requests share {argsz, flags, index, ...}. */
static int parse_info(const uint8_t *p, size_t plen, unsigned nfds, size_t min,
		      unsigned nr_index, struct vfu_msg *m)
{
	uint32_t w[3];

	if (nfds)
		return fail(m, EINVAL, "info request with file descriptors");
	if (plen < min)
		return fail(m, EINVAL, "info request payload too short");
	memcpy(w, p, sizeof(w));
	m->u.info.argsz = w[0];
	m->u.info.index = w[2];
	if (w[0] < min)
		return fail(m, EINVAL, "info request argsz too small");
	if (nr_index && w[2] >= nr_index)
		return fail(m, EINVAL, "no such region or interrupt index");
	return 0;
}

static int parse_set_irqs(const struct fdr_vfu_desc *desc, const uint8_t *p, size_t plen,
			  unsigned nfds, struct vfu_msg *m)
{
	struct vfu_irq_set s;
	uint32_t data, action, n;

	if (plen < sizeof(s))
		return fail(m, EINVAL, "SET_IRQS payload shorter than 20 bytes");
	memcpy(&s, p, sizeof(s));
	m->u.irqs.flags = s.flags;
	m->u.irqs.index = s.index;
	m->u.irqs.start = s.start;
	m->u.irqs.count = s.count;
	data = s.flags & VFU_IRQ_DATA_MASK;
	action = s.flags & VFU_IRQ_ACTION_ALL;
	if (s.argsz < sizeof(s))
		return fail(m, EINVAL, "SET_IRQS argsz below 20");
	if (s.flags & ~(VFU_IRQ_DATA_MASK | VFU_IRQ_ACTION_ALL))
		return fail(m, EINVAL, "SET_IRQS with unknown flags");
	if (__builtin_popcount(data) != 1 || __builtin_popcount(action) != 1)
		return fail(m, EINVAL, "SET_IRQS needs exactly one DATA and one ACTION flag");
	if (s.index >= FDR_VFU_NUM_IRQS)
		return fail(m, EINVAL, "SET_IRQS: no such interrupt index");
	if (data != VFU_IRQ_DATA_EVENTFD && nfds)
		return fail(m, EINVAL, "SET_IRQS: file descriptors without DATA_EVENTFD");
	n = desc->irq_count[s.index];
	if (s.count == 0) {
		if (data != VFU_IRQ_DATA_NONE || action != VFU_IRQ_ACTION_TRIGGER)
			return fail(m, EINVAL, "SET_IRQS count 0 is only DATA_NONE|TRIGGER");
		if (s.start)
			return fail(m, EINVAL, "SET_IRQS disable with start != 0");
		return 0;
	}
	if (s.start >= n || s.count > n - s.start)
		return fail(m, EINVAL, "SET_IRQS vectors beyond the index's count");
	if (data == VFU_IRQ_DATA_EVENTFD) {
		if (nfds && nfds != s.count)
			return fail(m, EINVAL, "SET_IRQS: fd count differs from count");
		/* Trigger fds are the command's; the server itself takes the
		 * INTx unmask notifier (QEMU's resamplefd) from the message's
		 * fds, and other mask/unmask notifiers are closed. */
		if (action == VFU_IRQ_ACTION_TRIGGER)
			m->nfds = nfds;
	}
	if (data == VFU_IRQ_DATA_BOOL) {
		if (plen - sizeof(s) < s.count || s.argsz < sizeof(s) + s.count)
			return fail(m, EINVAL, "SET_IRQS: DATA_BOOL shorter than count");
		m->u.irqs.bools = p + sizeof(s);
	}
	return 0;
}

static int parse_access(const struct fdr_vfu_desc *desc, const uint8_t *p, size_t plen,
			unsigned nfds, bool write, struct vfu_msg *m)
{
	struct vfu_region_access a;
	const struct fdr_vfu_region *r;

	if (nfds)
		return fail(m, EINVAL, "region access with file descriptors");
	if (plen < sizeof(a))
		return fail(m, EINVAL, "region access payload shorter than 16 bytes");
	memcpy(&a, p, sizeof(a));
	m->u.access.offset = a.offset;
	m->u.access.region = a.region;
	m->u.access.count = a.count;
	if (a.region >= FDR_VFU_NUM_REGIONS)
		return fail(m, EINVAL, "region access: no such region");
	if (a.count > FDR_VFU_MAX_XFER)
		return fail(m, EINVAL, "region access larger than max_data_xfer_size");
	if (write && plen - sizeof(a) != a.count)
		return fail(m, EINVAL, "REGION_WRITE payload length differs from count");
	r = &desc->regions[a.region];
	if (!(r->flags & (write ? FDR_VFU_R_WRITE : FDR_VFU_R_READ)))
		return fail(m, EINVAL, write ? "region is not writable" : "region is not readable");
	if (a.offset > r->size || a.count > r->size - a.offset)
		return fail(m, EINVAL, "region access beyond the region's end");
	if (write)
		m->u.access.data = p + sizeof(a);
	return 0;
}

int vfu_msg_parse(const struct vfu_parse_ctx *ctx, const uint8_t *buf, size_t len,
		  unsigned nfds, struct vfu_msg *m)
{
	const uint8_t *p = buf + sizeof(struct vfu_hdr);
	size_t plen;

	memset(m, 0, sizeof(*m));
	if (len < sizeof(struct vfu_hdr)) {
		m->close = true;
		return fail(m, EINVAL, "short message");
	}
	memcpy(&m->hdr, buf, sizeof(m->hdr));
	m->no_reply = m->hdr.flags & VFU_F_NO_REPLY;
	if (m->hdr.size != len || vfu_hdr_check(&m->hdr)) {
		m->close = true;
		return fail(m, EINVAL, "bad framing");
	}
	plen = len - sizeof(struct vfu_hdr);
	if (!ctx->versioned && m->hdr.cmd != VFU_CMD_VERSION) {
		m->close = true;
		return fail(m, EINVAL, "first message is not VERSION");
	}
	if (m->hdr.flags & ~(VFU_F_TYPE_MASK | VFU_F_NO_REPLY))
		return fail(m, EINVAL, "command with reserved or ERROR flags");
	if (m->hdr.error_no)
		return fail(m, EINVAL, "command with a non-zero error_no");

	switch (m->hdr.cmd) {
	case VFU_CMD_VERSION:
		if (ctx->versioned)
			return fail(m, EINVAL, "VERSION already negotiated");
		return parse_version(p, plen, nfds, m);
	case VFU_CMD_DMA_MAP:
		return parse_dma_map(p, plen, nfds, m);
	case VFU_CMD_DMA_UNMAP:
		return parse_dma_unmap(p, plen, nfds, m);
	case VFU_CMD_DEVICE_GET_INFO:
		return parse_info(p, plen, nfds, sizeof(struct vfu_device_info), 0, m);
	case VFU_CMD_DEVICE_GET_REGION_INFO:
		return parse_info(p, plen, nfds, sizeof(struct vfu_region_info),
				  FDR_VFU_NUM_REGIONS, m);
	case VFU_CMD_DEVICE_GET_IRQ_INFO:
		return parse_info(p, plen, nfds, sizeof(struct vfu_irq_info), FDR_VFU_NUM_IRQS, m);
	case VFU_CMD_DEVICE_SET_IRQS:
		return parse_set_irqs(ctx->desc, p, plen, nfds, m);
	case VFU_CMD_REGION_READ:
	case VFU_CMD_REGION_WRITE:
		return parse_access(ctx->desc, p, plen, nfds, m->hdr.cmd == VFU_CMD_REGION_WRITE, m);
	case VFU_CMD_DEVICE_RESET:
		if (nfds)
			return fail(m, EINVAL, "DEVICE_RESET with file descriptors");
		return 0;
	case VFU_CMD_DEVICE_GET_REGION_IO_FDS:
		return fail(m, ENOTSUP, "region I/O fds are not offered");
	case VFU_CMD_DIRTY_PAGES:
	case VFU_CMD_DEVICE_FEATURE:
	case VFU_CMD_MIG_DATA_READ:
	case VFU_CMD_MIG_DATA_WRITE:
		return fail(m, ENOTSUP, "migration and dirty tracking are not supported");
	case VFU_CMD_REGION_WRITE_MULTI:
		return fail(m, ENOTSUP, "REGION_WRITE_MULTI was not offered");
	case VFU_CMD_DMA_READ:
	case VFU_CMD_DMA_WRITE:
		return fail(m, EINVAL, "DMA_READ/WRITE go from server to client");
	default:
		return fail(m, EINVAL, "unknown command");
	}
}

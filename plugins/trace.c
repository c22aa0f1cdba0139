/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * trace: a text trace of register accesses, commands and completions, one
 * line per event, as in the seed's "The Trace Plug-in":
 *
 *   [586]  1556804537:200909267  ctrl1  REG 0014 <- 00460001
 *   [587]  1556804537:200915971  ctrl1  REG 001c -> 00000001
 *   [589]  1556804537:200926382  ctrl1  ADM SQ=0 CID=0000 OPC=Identify NSID=0 CDW10=00000001 CDW11=00000000
 *   [590]  1556804537:200928002  ctrl1  CPL SQ=0 CID=0000 P=0 STS=0x0000 CDW0=0
 *   [606]  1556804538:517281875  ctrl1  IO SQ=1 CID=0000 OPC=Read NSID=0x1 LBA=0 NLB=8
 *   [612]  1556804538:517388326  ctrl1  CPL SQ=1 CID=0003 P=0 STS=0x4182 CDW0=0 (WRITE TO RO PAGE)
 *   [630]  1556804538:601211902  ctrl1  AEN CDW0=0x20001 (SMART / Health Status: ...)
 *
 * Columns are separated by tabs: index, wall clock seconds:nanoseconds,
 * controller ID, event.  Register offsets are those of the NVMe register
 * map; over NVMe/TCP they are the Property Get/Set commands, which also
 * show up as ADM lines of their own.  STS is the status field without the
 * phase bit (DNR is 0x4000).
 *
 *   file=PATH  where to append (default /tmp/frankendrive.trace)
 *   flush=1    flush after every line (default: when the buffer fills and
 *              at unload; the drive exiting normally flushes it too)
 *
 *   frankendrive --plugin plugins/trace.so,file=/tmp/boot.trace
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <frankendrive/plugin.h>

PLUGIN_INFO("trace", "text trace of registers, commands and completions");

static FILE *out;
static bool flush_each;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER; /* one line at a time */
static uint64_t idx; /* under lock */

static const char *const taps[] = {
	"nvme:regread:writeback", "nvme:regwrite:decode", "nvme:admin:decode",
	"nvme:admin:writeback",   "nvme:io:decode",       "nvme:io:writeback",
	"nvme:aen:writeback",
};

static DECL_NPLUGIN_REG(regprd);
static DECL_NPLUGIN_REG(regwr);
static DECL_NPLUGIN_ADMIN_DECODE(admin_cmd);
static DECL_NPLUGIN_IO_DECODE(io_cmd);
static DECL_NPLUGIN_CPL(cpl);
static DECL_NPLUGIN_AEN(aen);

int setup(void)
{
	static void *const cbs[] = {regprd, regwr, admin_cmd, cpl, io_cmd, cpl, aen};
	const char *path = plugin_arg("file");
	const char *fl = plugin_arg("flush");

	if (!path || !*path)
		path = "/tmp/frankendrive.trace";
	flush_each = fl && strcmp(fl, "0") != 0;
	out = fopen(path, "a");
	if (!out) {
		plugin_log(3, "%s: %s", path, strerror(errno));
		return -1;
	}
	setvbuf(out, NULL, _IOFBF, 1 << 16);
	for (unsigned i = 0; i < sizeof(taps) / sizeof(taps[0]); i++) {
		if (plugin_tap_attach(taps[i], cbs[i])) {
			plugin_log(3, "cannot attach %s: %s", taps[i], strerror(errno));
			fclose(out);
			out = NULL;
			return -1;
		}
	}
	plugin_log(6, "writing to %s", path);
	return 0;
}

int teardown(void)
{
	/* Once detached, no callback can still be writing: safe to close. */
	for (unsigned i = 0; i < sizeof(taps) / sizeof(taps[0]); i++)
		plugin_tap_detach(taps[i]);
	if (out)
		fclose(out);
	out = NULL;
	return 0;
}

/*
 * One event: the text is formatted outside the lock, then the index and
 * the time are taken and the line written under it, so lines never mix
 * and their indices and times increase down the file.  (The stream's own
 * flockfile() would do as well, but sanitizers do not see it as a lock.)
 */
__attribute__((format(printf, 2, 3))) static void emit(uint32_t dev, const char *fmt, ...)
{
	char ev[400], pre[64];
	struct timespec ts;
	va_list ap;
	int n, m;

	va_start(ap, fmt);
	n = vsnprintf(ev, sizeof(ev) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof(ev) - 2)
		n = (int)sizeof(ev) - 2;
	ev[n++] = '\n';

	pthread_mutex_lock(&lock);
	clock_gettime(CLOCK_REALTIME, &ts);
	m = snprintf(pre, sizeof(pre), "[%llu]\t%lld:%09ld\tctrl%u\t", (unsigned long long)idx++,
		     (long long)ts.tv_sec, ts.tv_nsec, dev);
	fwrite_unlocked(pre, 1, (size_t)m, out);
	fwrite_unlocked(ev, 1, (size_t)n, out);
	if (flush_each)
		fflush_unlocked(out);
	pthread_mutex_unlock(&lock);
}

static int regprd(uint32_t dev, uint32_t offset, uint32_t size, uint64_t *value)
{
	if (size == 8)
		emit(dev, "REG %04x -> %016llx", offset, (unsigned long long)*value);
	else
		emit(dev, "REG %04x -> %08x", offset, (uint32_t)*value);
	return PLUGIN_CONTINUE;
}

static int regwr(uint32_t dev, uint32_t offset, uint32_t size, uint64_t *value)
{
	if (size == 8)
		emit(dev, "REG %04x <- %016llx", offset, (unsigned long long)*value);
	else
		emit(dev, "REG %04x <- %08x", offset, (uint32_t)*value);
	return PLUGIN_CONTINUE;
}

/* A Fabrics command (7Fh) carries its command type in byte 4. */
static const char *cmd_name(bool admin, const struct nvme_sqe *cmd)
{
	return nvme_opc_name(admin, cmd->opc, (uint8_t)(cmd->nsid & 0xff));
}

static int admin_cmd(uint32_t dev, struct nvme_sqe *cmd, struct nvme_cqe *cmp, uint32_t sqid)
{
	emit(dev, "ADM SQ=%u CID=%04x OPC=%s NSID=%#x CDW10=%08x CDW11=%08x", sqid, cmd->cid,
	     cmd_name(true, cmd), cmd->opc == NVME_ADM_FABRICS ? 0 : cmd->nsid, cmd->cdw10,
	     cmd->cdw11);
	return PLUGIN_CONTINUE;
}

static int io_cmd(uint32_t dev, struct nvme_sqe *cmd, struct nvme_cqe *cmp, uint32_t sqid)
{
	switch (cmd->opc) {
	case NVME_IO_READ:
	case NVME_IO_WRITE:
	case NVME_IO_COMPARE:
	case NVME_IO_WRITE_ZEROES:
	case NVME_IO_WRITE_UNCORRECTABLE:
	case NVME_IO_VERIFY:
		emit(dev, "IO SQ=%u CID=%04x OPC=%s NSID=%#x LBA=%llu NLB=%u", sqid, cmd->cid,
		     cmd_name(false, cmd), cmd->nsid,
		     (unsigned long long)cmd->cdw10 | (unsigned long long)cmd->cdw11 << 32,
		     NVME_RW_NLB(cmd->cdw12));
		break;
	default:
		emit(dev, "IO SQ=%u CID=%04x OPC=%s NSID=%#x CDW10=%08x CDW11=%08x", sqid, cmd->cid,
		     cmd_name(false, cmd), cmd->opc == NVME_ADM_FABRICS ? 0 : cmd->nsid,
		     cmd->cdw10, cmd->cdw11);
	}
	return PLUGIN_CONTINUE;
}

/* nvme:admin:writeback and nvme:io:writeback */
static int cpl(uint32_t dev, struct nvme_cqe *cmp, uint32_t sqid)
{
	uint16_t sts = NVME_STATUS_GET(cmp->status);
	const struct nvme_sqe *cmd;

	if (!(sts & 0x7ff)) {
		emit(dev, "CPL SQ=%u CID=%04x P=%u STS=0x%04x CDW0=%#x", sqid, cmp->cid,
		     cmp->status & 1u, sts, cmp->cdw0);
		return PLUGIN_CONTINUE;
	}
	/* Status codes 80h-84h mean different things for Fabrics commands. */
	cmd = find_cmd(sqid, cmp->cid);
	emit(dev, "CPL SQ=%u CID=%04x P=%u STS=0x%04x CDW0=%#x (%s)", sqid, cmp->cid,
	     cmp->status & 1u, sts, cmp->cdw0,
	     cmd ? nvme_status_name_ex(sts, sqid == 0, cmd->opc) : nvme_status_name(sts));
	return PLUGIN_CONTINUE;
}

static int aen(uint32_t dev, struct nvme_cqe *cmp)
{
	uint8_t type = cmp->cdw0 & 0x7, info = (uint8_t)(cmp->cdw0 >> 8);

	emit(dev, "AEN CDW0=%#x (%s: %s, log page %02xh)", cmp->cdw0, nvme_aen_type_name(type),
	     nvme_aen_info_name(type, info), (cmp->cdw0 >> 16) & 0xff);
	return PLUGIN_CONTINUE;
}

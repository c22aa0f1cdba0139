/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Integration test harness: start the real drive binary on a free
 * loopback port, talk to it with libfdr_host, stop it with SIGTERM and
 * check a clean exit and a sanitizer-clean log.
 *
 * The drive binary comes from argv[1] (meson passes frankendrive_exe) or
 * the FDR_DRIVE environment variable.  FDR_ITEST_VERBOSE=1 prints the
 * drive's log after every stop.
 */
#ifndef FDR_ITEST_H
#define FDR_ITEST_H

#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <cmocka.h>

#include "fdr_host.h"

#define ITEST_NQN "nqn.2026-11.io.frankendrive:itest"
#define ITEST_HOSTNQN "nqn.2014-08.org.nvmexpress:uuid:11111111-2222-3333-4444-555555555555"
#define ITEST_TIMEOUT_MS 15000

struct itest_drive {
	pid_t pid;
	char addr[64];
	char port[16];
	char disc_port[16]; /* "" when the drive has no discovery listener */
	char tmpdir[PATH_MAX];
	char log_path[PATH_MAX + 16];
	int exit_status; /* after stop */
};

/* Call first from main(). */
void itest_init(int argc, char **argv);
const char *itest_drive_path(void);
/* A TCP port on 127.0.0.1 that was free a moment ago. */
int itest_free_port(void);

/*
 * Start the drive listening on 127.0.0.1:<free port> with
 * --discovery-port 0 unless disc is true (then a second free port), plus
 * the NULL-terminated extra arguments.  "@TMP@" inside an argument is
 * replaced by the drive's temporary directory.  Waits (10 s at most) until
 * the port accepts connections.  Returns 0, or -1 after printing why.
 */
int itest_drive_start(struct itest_drive *d, bool disc, const char *const *extra);
/* SIGTERM, wait (10 s), then check exit status 0 and a clean log.  0 or -1. */
int itest_drive_stop(struct itest_drive *d);
bool itest_drive_alive(struct itest_drive *d);
void itest_drive_dump_log(const struct itest_drive *d);
/* Whether the drive log contains a string. */
bool itest_log_contains(const struct itest_drive *d, const char *needle);

/* Options for a connection to d (NQN ITEST_NQN unless subnqn given). */
void itest_opts(const struct itest_drive *d, struct fdr_host_opts *o, const char *subnqn,
		unsigned nr_ioq, unsigned qdepth);
/* fdr_host_connect that fails the test on error. */
struct fdr_host_ctrl *itest_connect(const struct itest_drive *d, unsigned nr_ioq,
				    unsigned qdepth);

/* Fail the test unless the status (SCT/SC, NVME_STATUS form) is as expected. */
#define assert_status(got, want) itest_assert_status((got), (want), #got, __FILE__, __LINE__)
void itest_assert_status(uint16_t got, uint16_t want, const char *expr, const char *file,
			 int line);
const char *itest_status_name(uint16_t st);

/* Synchronous commands that fail the test on transport errors; they return
 * the SCT/SC status (NVME_STATUS form, DNR etc. dropped). */
uint16_t itest_admin(struct fdr_host_ctrl *c, struct nvme_sqe *cmd, void *buf, uint32_t len,
		     struct nvme_cqe *cqe);
uint16_t itest_io(struct fdr_host_queue *q, struct nvme_sqe *cmd, void *buf, uint32_t len,
		  struct nvme_cqe *cqe);
void itest_rw_cmd(struct nvme_sqe *cmd, uint8_t opc, uint32_t nsid, uint64_t slba, uint32_t nlb);
uint16_t itest_write(struct fdr_host_queue *q, uint32_t nsid, uint64_t slba, uint32_t nlb,
		     void *buf, uint32_t len);
uint16_t itest_read(struct fdr_host_queue *q, uint32_t nsid, uint64_t slba, uint32_t nlb,
		    void *buf, uint32_t len);
uint16_t itest_identify(struct fdr_host_ctrl *c, uint8_t cns, uint32_t nsid, void *buf);
/* Get Log Page of len bytes at offset off (len a multiple of 4). */
uint16_t itest_get_log(struct fdr_host_ctrl *c, uint8_t lid, uint32_t nsid, uint64_t off,
		       bool rae, void *buf, uint32_t len);
uint16_t itest_get_feat(struct fdr_host_ctrl *c, uint8_t fid, uint8_t sel, uint32_t nsid,
			uint32_t cdw11, void *buf, uint32_t len, uint32_t *cdw0);
uint16_t itest_set_feat(struct fdr_host_ctrl *c, uint8_t fid, bool save, uint32_t nsid,
			uint32_t cdw11, void *buf, uint32_t len, uint32_t *cdw0);

/* Deterministic fill: every 8-byte word depends on seed and its offset. */
void itest_fill(void *buf, size_t len, uint64_t seed);
bool itest_is_zero(const void *buf, size_t len);
/* Compare and, on mismatch, print the first differing offset. */
bool itest_same(const void *a, const void *b, size_t len, const char *what);
/* 128-bit little-endian SMART counter, low 64 bits. */
uint64_t itest_le128(const uint8_t *p);
/* Compare a space-padded identify string with a C string. */
bool itest_padded_eq(const char *field, size_t fieldlen, const char *want);
void *itest_alloc(size_t len);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
#include "itest.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <frankendrive/names.h>

static const char *g_drive_path;

/* Drives started and not yet stopped, killed at exit (a failed assertion
 * longjmps out of a test that started a drive of its own). */
#define MAX_LIVE 16
static pid_t g_live[MAX_LIVE];
static char g_live_dir[MAX_LIVE][PATH_MAX];

static void live_add(pid_t pid, const char *dir)
{
	for (int i = 0; i < MAX_LIVE; i++)
		if (!g_live[i]) {
			g_live[i] = pid;
			snprintf(g_live_dir[i], sizeof(g_live_dir[i]), "%s", dir);
			return;
		}
}

static void live_del(pid_t pid)
{
	for (int i = 0; i < MAX_LIVE; i++)
		if (g_live[i] == pid)
			g_live[i] = 0;
}

static void rm_tree(const char *dir);

static void kill_live(void)
{
	for (int i = 0; i < MAX_LIVE; i++)
		if (g_live[i] > 0) {
			kill(g_live[i], SIGKILL);
			waitpid(g_live[i], NULL, 0);
			g_live[i] = 0;
			rm_tree(g_live_dir[i]);
		}
}

void itest_init(int argc, char **argv)
{
	if (argc > 1 && argv[1][0])
		g_drive_path = argv[1];
	else
		g_drive_path = getenv("FDR_DRIVE");
	if (!g_drive_path) {
		fprintf(stderr, "itest: no drive binary (argv[1] or FDR_DRIVE)\n");
		exit(77);
	}
	if (access(g_drive_path, X_OK)) {
		fprintf(stderr, "itest: %s: %s\n", g_drive_path, strerror(errno));
		exit(77);
	}
	signal(SIGPIPE, SIG_IGN);
	atexit(kill_live);
	if (getenv("FDR_ITEST_FILTER"))
		cmocka_set_test_filter(getenv("FDR_ITEST_FILTER"));
	setvbuf(stdout, NULL, _IOLBF, 0);
}

const char *itest_drive_path(void)
{
	return g_drive_path;
}

int itest_free_port(void)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	if (fd < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (!bind(fd, (struct sockaddr *)&sa, sizeof(sa)) &&
	    !getsockname(fd, (struct sockaddr *)&sa, &sl))
		port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static char *subst_tmp(const char *arg, const char *tmp)
{
	const char *at = strstr(arg, "@TMP@");
	char *out;

	if (!at)
		return strdup(arg);
	out = malloc(strlen(arg) + strlen(tmp) + 1);
	if (!out)
		return NULL;
	memcpy(out, arg, (size_t)(at - arg));
	strcpy(out + (at - arg), tmp);
	strcat(out, at + 5);
	return out;
}

static int drive_start_once(struct itest_drive *d, bool disc, const char *const *extra,
			    bool *early_exit);

int itest_drive_start(struct itest_drive *d, bool disc, const char *const *extra)
{
	/* The free port may be taken between the check and the drive's bind:
	 * when the drive exits during start-up, try again with new ports. */
	for (int attempt = 0;; attempt++) {
		bool early_exit = false;
		int rc = drive_start_once(d, disc, extra, &early_exit);

		if (!rc || !early_exit || attempt == 2)
			return rc;
		fprintf(stderr, "retrying the drive start with other ports\n");
		rm_tree(d->tmpdir);
	}
}

static int drive_start_once(struct itest_drive *d, bool disc, const char *const *extra,
			    bool *early_exit)
{
	char *argv[96];
	char listen[96];
	int argc = 0, nextra = 0, port, dport = 0, logfd;
	int64_t deadline;

	memset(d, 0, sizeof(*d));
	d->pid = -1;
	snprintf(d->tmpdir, sizeof(d->tmpdir), "/tmp/fdr-itest-XXXXXX");
	if (!mkdtemp(d->tmpdir)) {
		fprintf(stderr, "mkdtemp: %s\n", strerror(errno));
		return -1;
	}
	snprintf(d->log_path, sizeof(d->log_path), "%s/drive.log", d->tmpdir);
	port = itest_free_port();
	if (disc) {
		do
			dport = itest_free_port();
		while (dport == port);
	}
	if (port <= 0 || dport < 0)
		return -1;
	snprintf(d->addr, sizeof(d->addr), "127.0.0.1");
	snprintf(d->port, sizeof(d->port), "%d", port);
	if (disc)
		snprintf(d->disc_port, sizeof(d->disc_port), "%d", dport);
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);

	argv[argc++] = strdup(g_drive_path);
	argv[argc++] = strdup("-l");
	argv[argc++] = strdup(listen);
	argv[argc++] = strdup("--discovery-port");
	argv[argc++] = strdup(disc ? d->disc_port : "0");
	bool has_record = false;
	while (extra && extra[nextra] && argc < 92) {
		has_record |= !strcmp(extra[nextra], "--record") || !strcmp(extra[nextra], "--no-record");
		argv[argc++] = subst_tmp(extra[nextra++], d->tmpdir);
	}
	/* The flight recorder's ring stays in the drive's temporary directory
	 * (removed at stop), not in /run; and every test records, so the
	 * sanitizers see the recorder at work. */
	if (!has_record) {
		argv[argc++] = strdup("--record");
		argv[argc++] = subst_tmp("@TMP@/ring", d->tmpdir);
	}
	argv[argc] = NULL;

	printf("# starting:");
	for (int i = 0; i < argc; i++)
		printf(" %s", argv[i]);
	printf("\n");

	logfd = open(d->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (logfd < 0) {
		fprintf(stderr, "open %s: %s\n", d->log_path, strerror(errno));
		return -1;
	}
	fflush(stdout);
	fflush(stderr);
	d->pid = fork();
	if (d->pid == 0) {
		/* Never outlive a test program that crashed or failed half-way. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() == 1)
			_exit(127);
		dup2(logfd, 2);
		dup2(logfd, 1);
		execv(argv[0], argv);
		_exit(127);
	}
	close(logfd);
	for (int i = 0; i < argc; i++)
		free(argv[i]);
	if (d->pid < 0) {
		fprintf(stderr, "fork: %s\n", strerror(errno));
		return -1;
	}
	live_add(d->pid, d->tmpdir);

	/* Wait until the listener accepts connections. */
	deadline = now_ms() + 10000;
	for (;;) {
		int fd, st;

		if (waitpid(d->pid, &st, WNOHANG) == d->pid) {
			fprintf(stderr, "drive exited during start-up (status %#x)\n", st);
			*early_exit = true;
			live_del(d->pid);
			d->pid = -1;
			itest_drive_dump_log(d);
			return -1;
		}
		fd = fdr_host_raw_connect(d->addr, d->port, 500);
		if (fd >= 0) {
			close(fd);
			break;
		}
		if (now_ms() > deadline) {
			fprintf(stderr, "drive did not accept on %s:%s within 10 s\n", d->addr,
				d->port);
			itest_drive_dump_log(d);
			kill(d->pid, SIGKILL);
			waitpid(d->pid, NULL, 0);
			live_del(d->pid);
			d->pid = -1;
			return -1;
		}
		usleep(20000);
	}
	return 0;
}

bool itest_drive_alive(struct itest_drive *d)
{
	int st;

	if (d->pid <= 0)
		return false;
	if (waitpid(d->pid, &st, WNOHANG) == d->pid) {
		fprintf(stderr, "drive died: %s %d\n", WIFSIGNALED(st) ? "signal" : "exit",
			WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
		live_del(d->pid);
		d->pid = -1;
		itest_drive_dump_log(d);
		return false;
	}
	return true;
}

void itest_drive_dump_log(const struct itest_drive *d)
{
	FILE *f = fopen(d->log_path, "r");
	char line[1024];
	long n = 0;

	fprintf(stderr, "----- drive log (%s) -----\n", d->log_path);
	if (!f) {
		fprintf(stderr, "(none)\n");
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		if (++n > 4000) {
			fprintf(stderr, "... (truncated)\n");
			break;
		}
		fputs(line, stderr);
	}
	fclose(f);
	fprintf(stderr, "----- end of drive log -----\n");
}

bool itest_log_contains(const struct itest_drive *d, const char *needle)
{
	FILE *f = fopen(d->log_path, "r");
	char line[4096];
	bool found = false;

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, needle) != NULL;
	fclose(f);
	return found;
}

static void rm_tree(const char *dir)
{
	char cmd[PATH_MAX + 32];

	if (strncmp(dir, "/tmp/fdr-itest-", 15))
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd))
		fprintf(stderr, "could not remove %s\n", dir);
}

int itest_drive_stop(struct itest_drive *d)
{
	static const char *bad[] = { "ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
				     "runtime error", "ThreadSanitizer", NULL };
	int64_t deadline;
	int st = 0, rc = 0;
	pid_t w = 0;

	if (d->pid <= 0) {
		fprintf(stderr, "drive was not running at stop\n");
		itest_drive_dump_log(d);
		rm_tree(d->tmpdir);
		return -1;
	}
	kill(d->pid, SIGTERM);
	deadline = now_ms() + 10000;
	while ((w = waitpid(d->pid, &st, WNOHANG)) == 0 && now_ms() < deadline)
		usleep(10000);
	if (w != d->pid) {
		fprintf(stderr, "drive did not exit within 10 s of SIGTERM; killing it\n");
		kill(d->pid, SIGABRT);
		usleep(500000);
		kill(d->pid, SIGKILL);
		waitpid(d->pid, &st, 0);
		rc = -1;
	} else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "drive did not exit cleanly after SIGTERM: %s %d\n",
			WIFSIGNALED(st) ? "signal" : "exit status",
			WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
		rc = -1;
	}
	d->exit_status = st;
	live_del(d->pid);
	d->pid = -1;
	for (int i = 0; bad[i]; i++) {
		if (itest_log_contains(d, bad[i])) {
			fprintf(stderr, "drive log contains \"%s\"\n", bad[i]);
			rc = -1;
		}
	}
	if (rc || getenv("FDR_ITEST_VERBOSE"))
		itest_drive_dump_log(d);
	rm_tree(d->tmpdir);
	return rc;
}

void itest_opts(const struct itest_drive *d, struct fdr_host_opts *o, const char *subnqn,
		unsigned nr_ioq, unsigned qdepth)
{
	memset(o, 0, sizeof(*o));
	o->addr = d->addr;
	o->port = d->port;
	o->subnqn = subnqn ? subnqn : ITEST_NQN;
	o->hostnqn = ITEST_HOSTNQN;
	o->nr_io_queues = (uint16_t)nr_ioq;
	o->qdepth = (uint16_t)qdepth;
	o->timeout_ms = ITEST_TIMEOUT_MS;
}

struct fdr_host_ctrl *itest_connect(const struct itest_drive *d, unsigned nr_ioq,
				    unsigned qdepth)
{
	struct fdr_host_opts o;
	struct fdr_host_ctrl *c;
	char err[512];

	itest_opts(d, &o, NULL, nr_ioq, qdepth);
	c = fdr_host_connect(&o, err, sizeof(err));
	if (!c)
		fail_msg("connect to %s:%s failed: %s", d->addr, d->port, err);
	return c;
}

const char *itest_status_name(uint16_t st)
{
	/* SCT 1 codes 80h-84h: say both meanings (NVM / Fabrics). */
	static __thread char buf[128];

	if (NVME_STATUS_SCT(st) == NVME_SCT_COMMAND_SPECIFIC && NVME_STATUS_SC(st) >= 0x80 &&
	    NVME_STATUS_SC(st) <= 0x84) {
		snprintf(buf, sizeof(buf), "%s / Fabrics: %s", nvme_status_name(st),
			 nvme_status_name_ex(st, true, NVME_ADM_FABRICS));
		return buf;
	}
	return nvme_status_name(st);
}

void itest_assert_status(uint16_t got, uint16_t want, const char *expr, const char *file,
			 int line)
{
	got &= 0x7ff;
	if (got != want) {
		print_error("%s: status %#x (SCT %u SC %#x, %s), expected %#x (SCT %u SC %#x, %s)\n",
			    expr, got, NVME_STATUS_SCT(got), NVME_STATUS_SC(got),
			    itest_status_name(got), want, NVME_STATUS_SCT(want),
			    NVME_STATUS_SC(want), itest_status_name(want));
		_fail(file, line);
	}
}

uint16_t itest_admin(struct fdr_host_ctrl *c, struct nvme_sqe *cmd, void *buf, uint32_t len,
		     struct nvme_cqe *cqe)
{
	struct nvme_cqe tmp;
	int rc = fdr_host_admin(c, cmd, buf, len, &tmp);

	if (rc)
		fail_msg("admin opcode %#x: transport error %d: %s", cmd->opc, rc,
			 fdr_host_queue_error(fdr_host_admin_queue(c)));
	if (cqe)
		*cqe = tmp;
	return fdr_host_sct_sc(&tmp);
}

uint16_t itest_io(struct fdr_host_queue *q, struct nvme_sqe *cmd, void *buf, uint32_t len,
		  struct nvme_cqe *cqe)
{
	struct nvme_cqe tmp;
	int rc = fdr_host_io(q, cmd, buf, len, &tmp);

	if (rc)
		fail_msg("I/O opcode %#x on qid %u: transport error %d: %s", cmd->opc,
			 fdr_host_queue_qid(q), rc, fdr_host_queue_error(q));
	if (cqe)
		*cqe = tmp;
	return fdr_host_sct_sc(&tmp);
}

void itest_rw_cmd(struct nvme_sqe *cmd, uint8_t opc, uint32_t nsid, uint64_t slba, uint32_t nlb)
{
	memset(cmd, 0, sizeof(*cmd));
	cmd->opc = opc;
	cmd->nsid = nsid;
	cmd->cdw10 = (uint32_t)slba;
	cmd->cdw11 = (uint32_t)(slba >> 32);
	cmd->cdw12 = (nlb - 1) & 0xffff;
}

uint16_t itest_write(struct fdr_host_queue *q, uint32_t nsid, uint64_t slba, uint32_t nlb,
		     void *buf, uint32_t len)
{
	struct nvme_sqe cmd;

	itest_rw_cmd(&cmd, NVME_IO_WRITE, nsid, slba, nlb);
	return itest_io(q, &cmd, buf, len, NULL);
}

uint16_t itest_read(struct fdr_host_queue *q, uint32_t nsid, uint64_t slba, uint32_t nlb,
		    void *buf, uint32_t len)
{
	struct nvme_sqe cmd;

	itest_rw_cmd(&cmd, NVME_IO_READ, nsid, slba, nlb);
	return itest_io(q, &cmd, buf, len, NULL);
}

uint16_t itest_identify(struct fdr_host_ctrl *c, uint8_t cns, uint32_t nsid, void *buf)
{
	struct nvme_sqe cmd;

	memset(&cmd, 0, sizeof(cmd));
	cmd.opc = NVME_ADM_IDENTIFY;
	cmd.nsid = nsid;
	cmd.cdw10 = cns;
	memset(buf, 0xee, 4096);
	return itest_admin(c, &cmd, buf, 4096, NULL);
}

uint16_t itest_get_log(struct fdr_host_ctrl *c, uint8_t lid, uint32_t nsid, uint64_t off,
		       bool rae, void *buf, uint32_t len)
{
	struct nvme_sqe cmd;
	uint32_t numd = len / 4 - 1;

	memset(&cmd, 0, sizeof(cmd));
	cmd.opc = NVME_ADM_GET_LOG_PAGE;
	cmd.nsid = nsid;
	cmd.cdw10 = lid | (rae ? 1u << 15 : 0) | (numd & 0xffff) << 16;
	cmd.cdw11 = numd >> 16;
	cmd.cdw12 = (uint32_t)off;
	cmd.cdw13 = (uint32_t)(off >> 32);
	return itest_admin(c, &cmd, buf, len, NULL);
}

uint16_t itest_get_feat(struct fdr_host_ctrl *c, uint8_t fid, uint8_t sel, uint32_t nsid,
			uint32_t cdw11, void *buf, uint32_t len, uint32_t *cdw0)
{
	struct nvme_sqe cmd;
	struct nvme_cqe cqe;
	uint16_t st;

	memset(&cmd, 0, sizeof(cmd));
	cmd.opc = NVME_ADM_GET_FEATURES;
	cmd.nsid = nsid;
	cmd.cdw10 = fid | (uint32_t)(sel & 7) << 8;
	cmd.cdw11 = cdw11;
	st = itest_admin(c, &cmd, buf, len, &cqe);
	if (cdw0)
		*cdw0 = cqe.cdw0;
	return st;
}

uint16_t itest_set_feat(struct fdr_host_ctrl *c, uint8_t fid, bool save, uint32_t nsid,
			uint32_t cdw11, void *buf, uint32_t len, uint32_t *cdw0)
{
	struct nvme_sqe cmd;
	struct nvme_cqe cqe;
	uint16_t st;

	memset(&cmd, 0, sizeof(cmd));
	cmd.opc = NVME_ADM_SET_FEATURES;
	cmd.nsid = nsid;
	cmd.cdw10 = fid | (save ? 1u << 31 : 0);
	cmd.cdw11 = cdw11;
	st = itest_admin(c, &cmd, buf, len, &cqe);
	if (cdw0)
		*cdw0 = cqe.cdw0;
	return st;
}

void itest_fill(void *buf, size_t len, uint64_t seed)
{
	uint8_t *p = buf;
	uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;

	for (size_t i = 0; i < len; i += 8) {
		uint64_t v;
		size_t n = len - i < 8 ? len - i : 8;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		v = x + i;
		memcpy(p + i, &v, n);
	}
}

bool itest_is_zero(const void *buf, size_t len)
{
	const uint8_t *p = buf;

	for (size_t i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

bool itest_same(const void *a, const void *b, size_t len, const char *what)
{
	const uint8_t *x = a, *y = b;

	for (size_t i = 0; i < len; i++) {
		if (x[i] != y[i]) {
			fprintf(stderr, "%s: data differs at byte %zu of %zu (%#x vs %#x)\n", what,
				i, len, x[i], y[i]);
			return false;
		}
	}
	return true;
}

uint64_t itest_le128(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	for (int i = 8; i < 16; i++)
		if (p[i])
			return UINT64_MAX;
	return v;
}

bool itest_padded_eq(const char *field, size_t fieldlen, const char *want)
{
	size_t n = strlen(want);

	if (n > fieldlen || memcmp(field, want, n))
		return false;
	for (size_t i = n; i < fieldlen; i++)
		if (field[i] != ' ')
			return false;
	return true;
}

void *itest_alloc(size_t len)
{
	void *p = NULL;

	if (posix_memalign(&p, 4096, len ? len : 1))
		fail_msg("out of memory");
	memset(p, 0, len);
	return p;
}

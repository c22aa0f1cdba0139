/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The control socket against the real drive: help, fault rules added,
 * listed, deleted and cleared while I/O runs (the counters move and the
 * fault really applies), bad rules and plug-ins refused with the drive
 * untouched, plug-ins loaded, listed and unloaded at run time, garbage,
 * over-long lines, clients that vanish mid-line, several clients at once,
 * the socket file's life cycle, and `frankendrive ctl` itself (output and
 * exit statuses).
 *
 * argv[1] is the drive; the shipped plug-ins are looked for in
 * $FDR_PLUGIN_DIR, else <drive's dir>/../plugins.
 */
#include "itest.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include <frankendrive/recorder.h>

/* snprintf into an array, failing the test if it does not fit. */
#define FMT(buf, ...)                                                              \
	do {                                                                       \
		if (snprintf((buf), sizeof(buf), __VA_ARGS__) >= (int)sizeof(buf)) \
			fail_msg("%s: too long", #buf);                            \
	} while (0)

#define NS_SIZE (16ull << 20)
#define LBA 512u

static struct itest_drive g_drive;
static char g_sock[PATH_MAX];
static char g_plugin_dir[PATH_MAX];

static const char *const drive_args[] = {
	"--ns", "ram,size=16M,lba=512",
	"--queues", "2",
	"-n", ITEST_NQN,
	"--ctl", "@TMP@/ctl.sock",
	NULL,
};

/* ---- Talking to the socket ----------------------------------------------------- */

static int sock_connect(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct timeval tv = {.tv_sec = 20};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	FMT(sa.sun_path, "%s", path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
		fail_msg("connect %s: %s", path, strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return fd;
}

static void send_raw(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t w = send(fd, p, len, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			fail_msg("send: %s", strerror(errno));
		p += w;
		len -= (size_t)w;
	}
}

/* One reply line, parsed; fails the test unless it is a JSON object with
 * a boolean "ok".  A byte at a time: later replies stay in the socket. */
static struct json_object *recv_reply(int fd)
{
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap);
	struct json_object *j, *ok;

	assert_non_null(buf);
	for (;;) {
		ssize_t r = recv(fd, buf + len, 1, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			fail_msg("no reply from the control socket (%s)",
				 r ? strerror(errno) : "closed");
		if (buf[len] == '\n')
			break;
		if (++len == cap - 1) {
			cap *= 2;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
	}
	buf[len] = '\0';
	j = json_tokener_parse(buf);
	if (!j || !json_object_is_type(j, json_type_object) ||
	    !json_object_object_get_ex(j, "ok", &ok) || !json_object_is_type(ok, json_type_boolean))
		fail_msg("reply is not a JSON object with \"ok\": %s", buf);
	free(buf);
	return j;
}

static struct json_object *req_on(int fd, const char *line)
{
	send_raw(fd, line, strlen(line));
	send_raw(fd, "\n", 1);
	return recv_reply(fd);
}

/* One request on a connection of its own. */
static struct json_object *req(const char *line)
{
	int fd = sock_connect(g_sock);
	struct json_object *j = req_on(fd, line);

	close(fd);
	return j;
}

static bool j_ok(struct json_object *j)
{
	struct json_object *ok;

	return json_object_object_get_ex(j, "ok", &ok) && json_object_get_boolean(ok);
}

static const char *j_str(struct json_object *j, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(j, key, &v) || !v)
		return NULL;
	return json_object_get_string(v);
}

static int64_t j_int(struct json_object *j, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(j, key, &v) || !v)
		fail_msg("no \"%s\" in %s", key, json_object_to_json_string(j));
	return json_object_get_int64(v);
}

static struct json_object *j_arr(struct json_object *j, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(j, key, &v) || !json_object_is_type(v, json_type_array))
		fail_msg("no array \"%s\" in %s", key, json_object_to_json_string(j));
	return v;
}

#define assert_reply_ok(j)                                                              \
	do {                                                                            \
		if (!j_ok(j))                                                           \
			fail_msg("expected ok, got %s", json_object_to_json_string(j)); \
	} while (0)

/* An error reply whose message contains want. */
#define assert_reply_err(j, want)                                                         \
	do {                                                                              \
		const char *e_ = j_str((j), "error");                                     \
		if (j_ok(j) || !e_ || !strstr(e_, (want)))                                \
			fail_msg("expected an error with \"%s\", got %s", (want),        \
				 json_object_to_json_string(j));                          \
	} while (0)

static void expect_ok(const char *line)
{
	struct json_object *j = req(line);

	assert_reply_ok(j);
	json_object_put(j);
}

static void expect_err(const char *line, const char *want)
{
	struct json_object *j = req(line);

	assert_reply_err(j, want);
	json_object_put(j);
}

/* The rule list as one string ("id:text;..."): to compare before/after. */
static void rules_snapshot(char *buf, size_t len)
{
	struct json_object *j = req("rule list"), *a;
	size_t o = 0;

	assert_reply_ok(j);
	a = j_arr(j, "rules");
	buf[0] = '\0';
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		struct json_object *r = json_object_array_get_idx(a, i);
		int w = snprintf(buf + o, len - o, "%lld:%s;", (long long)j_int(r, "id"),
				 j_str(r, "text"));
		assert_true(w > 0 && (size_t)w < len - o);
		o += (size_t)w;
	}
	json_object_put(j);
}

/* The rule with id, or fail. */
static struct json_object *rule_get(struct json_object *list, int64_t id)
{
	struct json_object *a = j_arr(list, "rules");

	for (size_t i = 0; i < json_object_array_length(a); i++) {
		struct json_object *r = json_object_array_get_idx(a, i);

		if (j_int(r, "id") == id)
			return r;
	}
	fail_msg("rule %lld not listed: %s", (long long)id, json_object_to_json_string(list));
	return NULL;
}

static unsigned nr_rules(void)
{
	struct json_object *j = req("rule list");
	unsigned n;

	assert_reply_ok(j);
	n = (unsigned)json_object_array_length(j_arr(j, "rules"));
	json_object_put(j);
	return n;
}

static unsigned nr_plugins(void)
{
	struct json_object *j = req("plugin list");
	unsigned n;

	assert_reply_ok(j);
	n = (unsigned)json_object_array_length(j_arr(j, "plugins"));
	json_object_put(j);
	return n;
}

static void assert_alive(void)
{
	if (!itest_drive_alive(&g_drive))
		fail_msg("the drive died");
	expect_ok("help");
}

/* ---- Running `frankendrive ctl` --------------------------------------------------- */

struct cli {
	int status; /* exit status, or -1 */
	char out[16384];
	char err[4096];
};

static void read_into(int fd, char *buf, size_t cap, size_t *len)
{
	ssize_t r = read(fd, buf + *len, cap - 1 - *len);

	if (r > 0)
		*len += (size_t)r;
	buf[*len] = '\0';
}

/* frankendrive ctl ARGS... (NULL-terminated); stdout and stderr captured. */
static void run_cli(struct cli *c, const char *const *args)
{
	int po[2], pe[2];
	size_t lo = 0, le = 0;
	const char *argv[32];
	int n = 0, st;
	pid_t pid;

	memset(c, 0, sizeof(*c));
	argv[n++] = itest_drive_path();
	argv[n++] = "ctl";
	for (int i = 0; args[i] && n < 31; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	assert_int_equal(pipe2(po, O_CLOEXEC), 0);
	assert_int_equal(pipe2(pe, O_CLOEXEC), 0);
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(po[1], 1);
		dup2(pe[1], 2);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	for (bool oo = true, eo = true; oo || eo;) {
		struct pollfd p[2] = {{.fd = oo ? po[0] : -1, .events = POLLIN},
				      {.fd = eo ? pe[0] : -1, .events = POLLIN}};

		if (poll(p, 2, 30000) <= 0)
			break;
		if (p[0].revents) {
			size_t before = lo;
			read_into(po[0], c->out, sizeof(c->out), &lo);
			oo = lo != before && lo < sizeof(c->out) - 1;
		}
		if (p[1].revents) {
			size_t before = le;
			read_into(pe[0], c->err, sizeof(c->err), &le);
			eo = le != before && le < sizeof(c->err) - 1;
		}
	}
	close(po[0]);
	close(pe[0]);
	waitpid(pid, &st, 0);
	c->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	printf("# ctl");
	for (int i = 2; i < n; i++)
		printf(" %s", argv[i]);
	printf(" -> %d\n", c->status);
}

#define CLI(c, ...) run_cli((c), (const char *const[]){__VA_ARGS__, NULL})

/* ---- Set-up ------------------------------------------------------------------------ */

static int setup(void **state)
{
	if (itest_drive_start(&g_drive, false, drive_args))
		return -1;
	if (snprintf(g_sock, sizeof(g_sock), "%s/ctl.sock", g_drive.tmpdir) >= (int)sizeof(g_sock))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	return itest_drive_stop(&g_drive) ? -1 : 0;
}

/* Every test leaves no rules and no plug-ins behind. */
static int test_clean(void **state)
{
	struct json_object *j = req("rule clear");
	struct json_object *pl = req("plugin list"), *a;

	json_object_put(j);
	a = j_arr(pl, "plugins");
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		char line[256];

		snprintf(line, sizeof(line), "plugin unload %s",
			 j_str(json_object_array_get_idx(a, i), "name"));
		json_object_put(req(line));
	}
	json_object_put(pl);
	return 0;
}

/* ---- Tests -------------------------------------------------------------------------- */

static void test_socket_file(void **state)
{
	struct stat st;

	assert_int_equal(lstat(g_sock, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_true(itest_log_contains(&g_drive, "control socket on"));
}

static void test_help(void **state)
{
	struct json_object *j = req("help"), *cmds;
	bool found = false;
	struct cli c;

	assert_reply_ok(j);
	cmds = j_arr(j, "commands");
	assert_true(json_object_array_length(cmds) >= 8);
	for (size_t i = 0; i < json_object_array_length(cmds); i++) {
		const char *u = j_str(json_object_array_get_idx(cmds, i), "command");

		assert_non_null(u);
		assert_non_null(j_str(json_object_array_get_idx(cmds, i), "description"));
		found |= !strcmp(u, "rule add RULE");
	}
	assert_true(found);
	json_object_put(j);

	CLI(&c, "--socket", g_sock, "help");
	assert_int_equal(c.status, 0);
	assert_non_null(strstr(c.out, "plugin load"));
	assert_non_null(strstr(c.out, "rule clear"));

	CLI(&c, "--socket", g_sock, "--json", "help");
	assert_int_equal(c.status, 0);
	assert_true(!strncmp(c.out, "{\"ok\":true", 10));

	CLI(&c, "--help");
	assert_int_equal(c.status, 0);
	assert_non_null(strstr(c.out, "Usage: frankendrive ctl"));
}

static void test_cli_errors(void **state)
{
	char path[PATH_MAX + 32];
	struct cli c;

	/* No drive there: exit 2, a clear message. */
	snprintf(path, sizeof(path), "%s/nothing.sock", g_drive.tmpdir);
	CLI(&c, "--socket", path, "help");
	assert_int_equal(c.status, 2);
	assert_non_null(strstr(c.err, "cannot connect to"));
	assert_non_null(strstr(c.err, "nothing.sock"));
	assert_non_null(strstr(c.err, "No such file or directory"));
	assert_non_null(strstr(c.err, "is frankendrive running?"));

	/* Usage errors: exit 2. */
	CLI(&c, "--socket", g_sock);
	assert_int_equal(c.status, 2);
	assert_non_null(strstr(c.err, "no command"));
	CLI(&c, "--frob", "help");
	assert_int_equal(c.status, 2);
	assert_non_null(strstr(c.err, "unknown option --frob"));
	CLI(&c, "--socket", g_sock, "--port", "4420", "help");
	assert_int_equal(c.status, 2);
	CLI(&c, "--socket");
	assert_int_equal(c.status, 2);
	CLI(&c, "--socket", g_sock, "rule", "add", "opc=write\nrule clear");
	assert_int_equal(c.status, 2);

	/* The drive refuses: exit 1 with its reason. */
	CLI(&c, "--socket", g_sock, "frobnicate");
	assert_int_equal(c.status, 1);
	assert_non_null(strstr(c.err, "unknown command 'frobnicate'"));
	CLI(&c, "--socket", g_sock, "rule", "del", "12345");
	assert_int_equal(c.status, 1);
	assert_non_null(strstr(c.err, "no rule 12345"));
	CLI(&c, "--socket", g_sock, "--json", "rule", "del", "12345");
	assert_int_equal(c.status, 1);
	assert_true(!strncmp(c.out, "{\"ok\":false", 11));
}

/* Writes of one block at LBA i, i = 0.., their statuses in st. */
static void do_writes(struct fdr_host_queue *q, unsigned n, uint16_t *st)
{
	void *buf = itest_alloc(LBA);

	for (unsigned i = 0; i < n; i++) {
		itest_fill(buf, LBA, i);
		st[i] = itest_write(q, 1, i, 1, buf, LBA);
	}
	free(buf);
}

static void test_rule_round_trip(void **state)
{
	struct fdr_host_ctrl *ctrl = itest_connect(&g_drive, 1, 16);
	struct fdr_host_queue *q = fdr_host_ioq(ctrl, 0);
	struct json_object *j, *r;
	uint16_t st[8];
	int64_t id, id2, id3;
	struct cli c;
	char line[64];

	assert_non_null(q);
	assert_int_equal(nr_rules(), 0);

	j = req("rule add opc=write,after=5,status=1/0x82");
	assert_reply_ok(j);
	id = j_int(j, "id");
	assert_true(id > 0);
	json_object_put(j);

	j = req("rule list");
	assert_reply_ok(j);
	assert_int_equal(json_object_array_length(j_arr(j, "rules")), 1);
	r = rule_get(j, id);
	assert_string_equal(j_str(r, "text"), "opc=write,after=5,status=1/0x82");
	assert_int_equal(j_int(r, "matches"), 0);
	assert_int_equal(j_int(r, "fired"), 0);
	json_object_put(j);

	/* The first five writes pass, then the rule fires on every one. */
	do_writes(q, 8, st);
	for (unsigned i = 0; i < 5; i++)
		assert_status(st[i], NVME_STATUS(0, 0));
	for (unsigned i = 5; i < 8; i++)
		assert_status(st[i], NVME_STATUS(NVME_SCT_COMMAND_SPECIFIC, 0x82));
	j = req("rule list");
	r = rule_get(j, id);
	assert_int_equal(j_int(r, "matches"), 8);
	assert_int_equal(j_int(r, "fired"), 3);
	json_object_put(j);

	/* Reads do not match. */
	{
		void *buf = itest_alloc(LBA);

		assert_status(itest_read(q, 1, 0, 1, buf, LBA), NVME_STATUS(0, 0));
		free(buf);
	}
	j = req("rule list");
	assert_int_equal(j_int(rule_get(j, id), "matches"), 8);
	json_object_put(j);

	/* The human-readable table. */
	CLI(&c, "--socket", g_sock, "rule", "list");
	assert_int_equal(c.status, 0);
	assert_non_null(strstr(c.out, "MATCHES"));
	assert_non_null(strstr(c.out, "opc=write,after=5,status=1/0x82"));

	/* Deleted: writes pass again. */
	snprintf(line, sizeof(line), "rule del %lld", (long long)id);
	expect_ok(line);
	assert_int_equal(nr_rules(), 0);
	expect_err(line, "no rule");
	do_writes(q, 3, st);
	for (unsigned i = 0; i < 3; i++)
		assert_status(st[i], NVME_STATUS(0, 0));

	/* Through the client, then clear. */
	CLI(&c, "--socket", g_sock, "rule", "add", "opc=read,status=0/0x6");
	assert_int_equal(c.status, 0);
	assert_non_null(strstr(c.out, "added rule"));
	j = req("rule add opc=flush,after=1000,status=0/0x6");
	assert_reply_ok(j);
	id2 = j_int(j, "id");
	json_object_put(j);
	j = req("rule add name=w,opc=write,after=1000,status=0/0x6");
	assert_reply_ok(j);
	id3 = j_int(j, "id");
	assert_true(id3 > id2 && id2 > id);
	json_object_put(j);
	assert_int_equal(nr_rules(), 3);
	{
		void *buf = itest_alloc(LBA);

		assert_status(itest_read(q, 1, 0, 1, buf, LBA), NVME_STATUS(0, 0x6));
		free(buf);
	}
	/* By name. */
	expect_ok("rule del w");
	assert_int_equal(nr_rules(), 2);
	expect_err("rule del w", "no rule named 'w'");

	j = req("rule clear");
	assert_reply_ok(j);
	assert_int_equal(j_int(j, "removed"), 2);
	json_object_put(j);
	assert_int_equal(nr_rules(), 0);
	{
		void *buf = itest_alloc(LBA);

		assert_status(itest_read(q, 1, 0, 1, buf, LBA), NVME_STATUS(0, 0));
		free(buf);
	}
	assert_int_equal(fdr_host_disconnect(ctrl), 0);
	assert_true(itest_log_contains(&g_drive, "ctl: added rule"));
	assert_true(itest_log_contains(&g_drive, "ctl: deleted rule"));
}

static void test_bad_rule(void **state)
{
	static const char *const bad[] = {
		"rule add opc=wrtie,status=1/0x82",
		"rule add opc=write,after=five",
		"rule add opc=write,frob=1",
		"rule add opc=write,status=9/0x82",
		"rule add ,,,",
		"rule add =",
	};
	char before[4096], after[4096];
	struct json_object *j;
	struct cli c;

	expect_ok("rule add opc=write,after=100000,status=1/0x82");
	rules_snapshot(before, sizeof(before));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *e;

		j = req(bad[i]);
		e = j_str(j, "error");
		printf("# %s -> %s\n", bad[i], e ? e : "(none)");
		if (j_ok(j) || !e || strncmp(e, "rule add: ", 10) || strlen(e) < 16)
			fail_msg("%s: expected a precise error, got %s", bad[i],
				 json_object_to_json_string(j));
		json_object_put(j);
		rules_snapshot(after, sizeof(after));
		assert_string_equal(before, after);
	}
	/* The misspelt opcode is named in the error. */
	expect_err("rule add opc=wrtie,status=1/0x82", "wrtie");
	expect_err("rule add", "expected a rule");
	expect_err("rule del", "expected a rule id");
	expect_err("rule del 0", "expected a rule id");
	expect_err("rule del 1x", "expected a rule id");
	expect_err("rule del 99999999999999999999", "expected a rule id");
	expect_err("rule list all", "takes no arguments");
	expect_err("rule clear now", "takes no arguments");
	expect_err("rule frob", "unknown subcommand 'frob'");
	expect_err("rule", "expected list, add, del or clear");

	CLI(&c, "--socket", g_sock, "rule", "add", "opc=wrtie");
	assert_int_equal(c.status, 1);
	assert_non_null(strstr(c.err, "wrtie"));
	rules_snapshot(after, sizeof(after));
	assert_string_equal(before, after);
	assert_alive();
}

static void test_plugin_missing(void **state)
{
	char line[PATH_MAX + 32];
	struct json_object *j;
	unsigned n = nr_plugins();
	struct cli c;

	snprintf(line, sizeof(line), "plugin load %s/no-such-plugin.so", g_drive.tmpdir);
	j = req(line);
	assert_reply_err(j, "no-such-plugin.so");
	printf("# %s\n", j_str(j, "error"));
	json_object_put(j);
	assert_int_equal(nr_plugins(), n);

	/* Not a shared object. */
	snprintf(line, sizeof(line), "%s/drive.log", g_drive.tmpdir);
	CLI(&c, "--socket", g_sock, "plugin", "load", line);
	assert_int_equal(c.status, 1);
	assert_non_null(strstr(c.err, "plugin load: "));
	assert_int_equal(nr_plugins(), n);

	expect_err("plugin load", "expected PATH");
	expect_err("plugin unload", "expected a plug-in name");
	expect_err("plugin unload no_such_plugin", "plugin unload: ");
	expect_err("plugin list x", "takes no arguments");
	expect_err("plugin", "expected list, load or unload");
	expect_err("plugin frob x", "unknown subcommand 'frob'");
	assert_alive();
}

static bool plugin_path(const char *name, char *buf, size_t len)
{
	return snprintf(buf, len, "%s/%s.so", g_plugin_dir, name) < (int)len &&
	       access(buf, R_OK) == 0;
}

static uint16_t sum_cmd(struct fdr_host_ctrl *ctrl, uint32_t a, uint32_t b, uint32_t *cdw0)
{
	struct nvme_sqe cmd;
	struct nvme_cqe cqe;
	uint16_t st;

	/* 80h is Format NVM too: LBA format 10 does not exist, so without
	 * the plug-in this fails rather than formats. */
	memset(&cmd, 0, sizeof(cmd));
	cmd.opc = 0x80;
	cmd.nsid = 1;
	cmd.cdw10 = a;
	cmd.cdw11 = b;
	st = itest_admin(ctrl, &cmd, NULL, 0, &cqe);
	*cdw0 = cqe.cdw0;
	return st;
}

static void test_plugin_sum(void **state)
{
	struct fdr_host_ctrl *ctrl;
	struct json_object *j, *p, *taps;
	char path[PATH_MAX], line[PATH_MAX + 32];
	uint32_t cdw0 = 0;
	struct cli c;

	if (!plugin_path("sum", path, sizeof(path))) {
		printf("# %s not built: skipped\n", path);
		skip();
	}
	ctrl = itest_connect(&g_drive, 1, 16);
	assert_int_not_equal(sum_cmd(ctrl, 10, 5, &cdw0), NVME_STATUS(0, 0));

	snprintf(line, sizeof(line), "plugin load %s", path);
	j = req(line);
	assert_reply_ok(j);
	assert_true(json_object_object_get_ex(j, "plugin", &p));
	assert_string_equal(j_str(p, "name"), "sum");
	json_object_put(j);

	j = req("plugin list");
	assert_reply_ok(j);
	assert_int_equal(json_object_array_length(j_arr(j, "plugins")), 1);
	p = json_object_array_get_idx(j_arr(j, "plugins"), 0);
	assert_string_equal(j_str(p, "name"), "sum");
	assert_string_equal(j_str(p, "path"), path);
	assert_string_equal(j_str(p, "args"), "");
	assert_non_null(j_str(p, "description"));
	taps = j_arr(p, "taps");
	assert_true(json_object_array_length(taps) >= 1);
	json_object_put(j);

	assert_status(sum_cmd(ctrl, 10, 5, &cdw0), NVME_STATUS(0, 0));
	assert_int_equal(cdw0, 15);
	assert_status(sum_cmd(ctrl, 0xfffffff0, 0x20, &cdw0), NVME_STATUS(0, 0));
	assert_int_equal(cdw0, 0x10);

	/* Loaded twice: refused, the first stays. */
	j = req(line);
	assert_false(j_ok(j));
	printf("# second load: %s\n", j_str(j, "error"));
	json_object_put(j);
	assert_int_equal(nr_plugins(), 1);
	assert_status(sum_cmd(ctrl, 1, 2, &cdw0), NVME_STATUS(0, 0));
	assert_int_equal(cdw0, 3);

	CLI(&c, "--socket", g_sock, "plugin", "list");
	assert_int_equal(c.status, 0);
	assert_non_null(strstr(c.out, "NAME"));
	assert_non_null(strstr(c.out, "sum.so"));

	CLI(&c, "--socket", g_sock, "plugin", "unload", "sum");
	assert_int_equal(c.status, 0);
	assert_non_null(strstr(c.out, "unloaded plug-in sum"));
	assert_int_equal(nr_plugins(), 0);
	assert_int_not_equal(sum_cmd(ctrl, 10, 5, &cdw0), NVME_STATUS(0, 0));
	expect_err("plugin unload sum", "plugin unload: ");

	/* And back again, with arguments. */
	snprintf(line, sizeof(line), "plugin load %s,x=1", path);
	j = req(line);
	assert_reply_ok(j);
	json_object_put(j);
	j = req("plugin list");
	assert_string_equal(j_str(json_object_array_get_idx(j_arr(j, "plugins"), 0), "args"),
			    "x=1");
	json_object_put(j);
	assert_status(sum_cmd(ctrl, 7, 8, &cdw0), NVME_STATUS(0, 0));
	assert_int_equal(cdw0, 15);
	expect_ok("plugin unload sum");
	assert_int_equal(fdr_host_disconnect(ctrl), 0);
	assert_true(itest_log_contains(&g_drive, "ctl: loaded plug-in sum"));
	assert_true(itest_log_contains(&g_drive, "ctl: unloaded plug-in sum"));
}

static void test_garbage(void **state)
{
	static const char *const lines[] = {
		"", " ", "\t", "frob", "HELP", "help me", "rule", "rule  add", "plugin",
		"plugin load", "rule del -1", "rule del 0x10", "\x01\x02\x03", "\xff\xfe\xc0\x80",
		"rule add \xff\xff", "{\"ok\":true}", "rule del \xe2\x82",
		"\x1b[2J", "rule del \xf4\x90\x80\x80",
	};
	char before[4096], after[4096];
	int fd = sock_connect(g_sock);

	rules_snapshot(before, sizeof(before));
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		struct json_object *j = req_on(fd, lines[i]);

		assert_false(j_ok(j));
		assert_non_null(j_str(j, "error"));
		json_object_put(j);
	}
	/* A NUL inside a line, CRLF, many lines in one write. */
	{
		static const char nul[] = "help\0 rule clear\n";
		struct json_object *j;

		send_raw(fd, nul, sizeof(nul) - 1);
		j = recv_reply(fd);
		assert_reply_err(j, "NUL");
		json_object_put(j);

		send_raw(fd, "help\r\n", 6);
		j = recv_reply(fd);
		assert_reply_ok(j);
		json_object_put(j);

		send_raw(fd, "help\nfrob\nrule list\n", 20);
		j = recv_reply(fd);
		assert_reply_ok(j);
		json_object_put(j);
		j = recv_reply(fd);
		assert_reply_err(j, "unknown command");
		json_object_put(j);
		j = recv_reply(fd);
		assert_reply_ok(j);
		json_object_put(j);
	}
	/* Random bytes, cut into lines. */
	srand(12345);
	for (int round = 0; round < 50; round++) {
		char buf[512];
		size_t n = 1 + (size_t)rand() % sizeof(buf);
		int lines_sent = 0;

		for (size_t i = 0; i + 1 < n; i++)
			buf[i] = (char)(rand() & 0xff);
		buf[n - 1] = '\n';
		for (size_t i = 0; i < n; i++)
			lines_sent += buf[i] == '\n';
		send_raw(fd, buf, n);
		for (int i = 0; i < lines_sent; i++)
			json_object_put(recv_reply(fd));
	}
	close(fd);
	rules_snapshot(after, sizeof(after));
	assert_string_equal(before, after);
	assert_alive();
}

static void test_long_line(void **state)
{
	size_t big = 64 * 1024;
	char *buf = malloc(big + 1);
	struct json_object *j;
	int fd = sock_connect(g_sock);

	assert_non_null(buf);
	/* 4096 bytes are fine (an unknown command), 4097 are not. */
	memset(buf, 'x', big);
	buf[4096] = '\0';
	j = req_on(fd, buf);
	assert_reply_err(j, "unknown command");
	json_object_put(j);
	buf[4096] = 'x';
	buf[4097] = '\0';
	j = req_on(fd, buf);
	assert_reply_err(j, "too long");
	json_object_put(j);

	/* 64 KiB: one error, the connection goes on. */
	memcpy(buf, "rule add opc=write,", 19);
	buf[big] = '\0';
	j = req_on(fd, buf);
	assert_reply_err(j, "too long");
	json_object_put(j);
	j = req_on(fd, "help");
	assert_reply_ok(j);
	json_object_put(j);
	assert_int_equal(nr_rules(), 0);

	/* A long line sent slowly, in pieces. */
	for (int i = 0; i < 10; i++)
		send_raw(fd, buf, 1000);
	send_raw(fd, "\nhelp\n", 6);
	j = recv_reply(fd);
	assert_reply_err(j, "too long");
	json_object_put(j);
	j = recv_reply(fd);
	assert_reply_ok(j);
	json_object_put(j);
	close(fd);
	free(buf);
	assert_alive();
}

static void test_close_mid_line(void **state)
{
	int fd;

	/* A request without its newline is never executed. */
	fd = sock_connect(g_sock);
	send_raw(fd, "rule add opc=write,status=1/0x82", 32);
	close(fd);

	fd = sock_connect(g_sock);
	send_raw(fd, "rule add opc=read,status=1/0x82", 31);
	shutdown(fd, SHUT_WR);
	{
		char c;
		assert_int_equal(recv(fd, &c, 1, 0), 0); /* closed, no reply */
	}
	close(fd);

	/* In the middle of an over-long line. */
	fd = sock_connect(g_sock);
	{
		char buf[6000];

		memset(buf, 'y', sizeof(buf));
		send_raw(fd, buf, sizeof(buf));
	}
	close(fd);

	/* Requests sent, replies never read: the drive drops them. */
	fd = sock_connect(g_sock);
	{
		static char many[2000 * 5 + 1];

		for (int i = 0; i < 2000; i++)
			memcpy(many + i * 5, "help\n", 5);
		send_raw(fd, many, 2000 * 5);
	}
	close(fd);

	/* Connected and gone at once. */
	for (int i = 0; i < 50; i++)
		close(sock_connect(g_sock));

	assert_int_equal(nr_rules(), 0);
	assert_alive();
}

static void test_two_clients(void **state)
{
	int a = sock_connect(g_sock), b = sock_connect(g_sock);
	struct json_object *j;
	int64_t id;

	/* A half line on one connection holds up nobody. */
	send_raw(a, "rule ad", 7);
	j = req_on(b, "rule add opc=write,after=100000,status=0/0x6");
	assert_reply_ok(j);
	id = j_int(j, "id");
	json_object_put(j);
	send_raw(a, "d opc=read,after=100000,status=0/0x6\n", 37);
	j = recv_reply(a);
	assert_reply_ok(j);
	assert_true(j_int(j, "id") > id);
	json_object_put(j);

	/* Both see both. */
	j = req_on(a, "rule list");
	assert_int_equal(json_object_array_length(j_arr(j, "rules")), 2);
	json_object_put(j);
	j = req_on(b, "rule list");
	assert_int_equal(json_object_array_length(j_arr(j, "rules")), 2);
	json_object_put(j);
	j = req_on(a, "rule clear");
	assert_reply_ok(j);
	json_object_put(j);
	close(a);
	close(b);
}

static void test_many_clients(void **state)
{
	/* 32 connections at once are served; one more is told why not. */
	int fd[32], extra;
	struct json_object *j;

	for (int i = 0; i < 32; i++)
		fd[i] = sock_connect(g_sock);
	for (int i = 0; i < 32; i++) {
		j = req_on(fd[i], "help");
		assert_reply_ok(j);
		json_object_put(j);
	}
	extra = sock_connect(g_sock);
	j = recv_reply(extra);
	assert_reply_err(j, "too many control connections");
	json_object_put(j);
	close(extra);
	/* One leaves: room again. */
	close(fd[0]);
	j = req("help");
	assert_reply_ok(j);
	json_object_put(j);
	for (int i = 1; i < 32; i++)
		close(fd[i]);
	assert_alive();
}

struct worker {
	int n;
	int failures;
};

static void *worker_fn(void *arg)
{
	struct worker *w = arg;
	int fd = sock_connect(g_sock);

	for (int i = 0; i < w->n; i++) {
		char line[64];
		struct json_object *j = req_on(fd, "rule add opc=flush,after=1000000,status=0/0x6");
		int64_t id;

		if (!j_ok(j)) {
			w->failures++;
			json_object_put(j);
			continue;
		}
		id = j_int(j, "id");
		json_object_put(j);
		j = req_on(fd, "plugin list");
		w->failures += !j_ok(j);
		json_object_put(j);
		snprintf(line, sizeof(line), "rule del %lld", (long long)id);
		j = req_on(fd, line);
		w->failures += !j_ok(j);
		json_object_put(j);
	}
	close(fd);
	return NULL;
}

static void test_concurrent_clients(void **state)
{
	enum { NW = 6 };
	pthread_t t[NW];
	struct worker w[NW];
	struct fdr_host_ctrl *ctrl = itest_connect(&g_drive, 1, 16);
	uint16_t st[16];

	for (int i = 0; i < NW; i++) {
		w[i] = (struct worker){.n = 60};
		assert_int_equal(pthread_create(&t[i], NULL, worker_fn, &w[i]), 0);
	}
	/* I/O meanwhile. */
	for (int i = 0; i < 10; i++) {
		do_writes(fdr_host_ioq(ctrl, 0), 16, st);
		for (int k = 0; k < 16; k++)
			assert_status(st[k], NVME_STATUS(0, 0));
	}
	for (int i = 0; i < NW; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(w[i].failures, 0);
	}
	assert_int_equal(nr_rules(), 0);
	assert_int_equal(fdr_host_disconnect(ctrl), 0);
	assert_alive();
}

/* ---- The socket file's life cycle (drives of their own) -------------------------- */

/* Run the drive with extra args until it exits or timeout_ms passes;
 * returns its exit status (-1 if it had to be killed), log in log. */
static int run_drive_briefly(const char *const *extra, int timeout_ms, char *log, size_t loglen)
{
	char port[16], listen[64];
	const char *argv[32];
	int n = 0, pe[2], st = 0;
	size_t len = 0;
	pid_t pid;

	snprintf(port, sizeof(port), "%d", itest_free_port());
	snprintf(listen, sizeof(listen), "127.0.0.1:%s", port);
	argv[n++] = itest_drive_path();
	argv[n++] = "-l";
	argv[n++] = listen;
	argv[n++] = "--discovery-port";
	argv[n++] = "0";
	argv[n++] = "--ns";
	argv[n++] = "null,size=1M";
	argv[n++] = "--no-record"; /* no ring left behind in the run directory */
	for (int i = 0; extra[i] && n < 31; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	assert_int_equal(pipe2(pe, O_CLOEXEC), 0);
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(pe[1], 2);
		dup2(pe[1], 1);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(pe[1]);
	for (;;) {
		struct pollfd p = {.fd = pe[0], .events = POLLIN};
		ssize_t r;

		if (poll(&p, 1, timeout_ms) <= 0) {
			kill(pid, SIGKILL);
			break;
		}
		r = read(pe[0], log + len, loglen - 1 - len);
		if (r <= 0)
			break;
		len += (size_t)r;
		if (len == loglen - 1)
			break;
	}
	log[len] = '\0';
	close(pe[0]);
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* One reply line and the descriptor passed with it (*pfd, -1 if none),
 * a byte at a time like recv_reply. */
static struct json_object *recv_reply_fd(int fd, int *pfd)
{
	char buf[8192];
	size_t len = 0;
	struct json_object *j, *ok;

	*pfd = -1;
	for (;;) {
		union {
			char b[CMSG_SPACE(sizeof(int) * 4)];
			struct cmsghdr align;
		} ctrl;
		struct iovec iov = {.iov_base = buf + len, .iov_len = 1};
		struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1,
				    .msg_control = ctrl.b, .msg_controllen = sizeof(ctrl.b)};
		ssize_t r = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			fail_msg("no reply (%s)", r ? strerror(errno) : "closed");
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
			assert_int_equal(cm->cmsg_level, SOL_SOCKET);
			assert_int_equal(cm->cmsg_type, SCM_RIGHTS);
			/* One descriptor, on the reply's first byte. */
			assert_int_equal(cm->cmsg_len, CMSG_LEN(sizeof(int)));
			assert_int_equal(len, 0);
			assert_int_equal(*pfd, -1);
			memcpy(pfd, CMSG_DATA(cm), sizeof(int));
		}
		if (buf[len] == '\n')
			break;
		if (++len == sizeof(buf) - 1)
			fail_msg("reply too long");
	}
	buf[len] = '\0';
	j = json_tokener_parse(buf);
	if (!j || !json_object_object_get_ex(j, "ok", &ok))
		fail_msg("not a reply: %s", buf);
	return j;
}

/* The mapped ring's head. */
static uint64_t mapped_head(const void *map)
{
	return __atomic_load_n((const uint64_t *)(const void *)((const char *)map +
			       offsetof(struct fdr_rec_file_hdr, head)), __ATOMIC_ACQUIRE);
}

/* `record attach`: the ring file's descriptor (read-only) for live readers. */
static void test_record_attach(void **state)
{
	struct fdr_host_ctrl *ctrl;
	struct json_object *j, *st;
	struct stat sb;
	uint64_t slots, head0, head1;
	void *map;
	size_t len;
	int fd, rfd, rfd2, nofd;
	struct cli c;
	uint16_t wst[4];

	fd = sock_connect(g_sock);
	send_raw(fd, "record attach\n", 14);
	j = recv_reply_fd(fd, &rfd);
	if (!j_ok(j) && strstr(j_str(j, "error"), "built without the flight recorder")) {
		/* -Drecorder=false: refused, and no descriptor. */
		assert_int_equal(rfd, -1);
		json_object_put(j);
		close(fd);
		return;
	}
	assert_reply_ok(j);
	if (rfd < 0)
		fail_msg("no descriptor with %s", json_object_to_json_string(j));
	slots = (uint64_t)j_int(j, "slots");
	head0 = (uint64_t)j_int(j, "head");
	assert_int_equal(slots, 10000); /* the default */
	assert_int_equal(j_int(j, "slot_size"), FDR_REC_SLOT_SIZE);
	assert_int_equal(j_int(j, "pid"), g_drive.pid);
	assert_non_null(strstr(j_str(j, "path"), "/ring"));
	assert_non_null(strstr(j_str(j, "message"), "10000 slots"));
	json_object_put(j);

	/* The ring file, read-only: it maps for reading, never for writing. */
	assert_int_equal(fstat(rfd, &sb), 0);
	assert_true(S_ISREG(sb.st_mode));
	len = FDR_REC_HDR_SIZE + slots * FDR_REC_SLOT_SIZE;
	assert_int_equal((uint64_t)sb.st_size, len);
	assert_int_equal(fcntl(rfd, F_GETFL) & O_ACCMODE, O_RDONLY);
	assert_true(fcntl(rfd, F_GETFD) & FD_CLOEXEC);
	assert_true(mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, rfd, 0) == MAP_FAILED);
	assert_int_equal(errno, EACCES);
	map = mmap(NULL, len, PROT_READ, MAP_SHARED, rfd, 0);
	assert_true(map != MAP_FAILED);
	assert_true(((const struct fdr_rec_file_hdr *)map)->magic == FDR_REC_MAGIC);
	assert_int_equal(((const struct fdr_rec_file_hdr *)map)->pid, g_drive.pid);
	assert_true(mapped_head(map) >= head0);

	/* The drive writes on, the mapping follows, `record status` agrees. */
	ctrl = itest_connect(&g_drive, 1, 16);
	do_writes(fdr_host_ioq(ctrl, 0), 4, wst);
	fdr_host_disconnect(ctrl);
	head1 = mapped_head(map);
	assert_true(head1 >= head0 + 8); /* 4 commands, 4 completions at least */
	st = req("record status");
	assert_reply_ok(st);
	assert_int_equal((uint64_t)j_int(st, "head"), mapped_head(map));
	assert_int_equal((uint64_t)j_int(st, "slots"), slots);
	json_object_put(st);
	munmap(map, len);
	close(rfd);

	/* Pipelined on one connection: each attach its own descriptor, other
	 * replies none. */
	send_raw(fd, "record attach\nhelp\nrecord attach\n", 33);
	j = recv_reply_fd(fd, &rfd);
	assert_reply_ok(j);
	json_object_put(j);
	j = recv_reply_fd(fd, &nofd);
	assert_reply_ok(j);
	assert_int_equal(nofd, -1);
	json_object_put(j);
	j = recv_reply_fd(fd, &rfd2);
	assert_reply_ok(j);
	json_object_put(j);
	assert_true(rfd >= 0 && rfd2 >= 0 && rfd != rfd2);
	close(rfd);
	close(rfd2);

	/* Errors carry no descriptor. */
	send_raw(fd, "record attach now\n", 18);
	j = recv_reply_fd(fd, &nofd);
	assert_reply_err(j, "takes no arguments");
	assert_int_equal(nofd, -1);
	json_object_put(j);
	expect_ok("record off");
	send_raw(fd, "record attach\n", 14);
	j = recv_reply_fd(fd, &nofd);
	assert_reply_err(j, "recording is off");
	assert_int_equal(nofd, -1);
	json_object_put(j);
	st = req("record status");
	assert_false(json_object_get_boolean(json_object_object_get(st, "recording")));
	assert_int_equal((uint64_t)j_int(st, "slots"), slots); /* still shown */
	json_object_put(st);
	expect_ok("record on");
	expect_err("record frob", "expected on, off, status or attach");
	close(fd);

	/* The client prints the message; the descriptor goes nowhere. */
	CLI(&c, "--socket", g_sock, "record", "attach");
	assert_int_equal(c.status, 0);
	assert_non_null(strstr(c.out, "ring of 10000 slots passed"));
	assert_alive();
}

static void test_socket_taken(void **state)
{
	char arg[PATH_MAX + 8], log[8192];
	const char *extra[] = {"--ctl", arg, NULL};
	struct stat st;
	int rc;

	/* Another drive already serves it: refused, the first one unharmed. */
	snprintf(arg, sizeof(arg), "%s", g_sock);
	rc = run_drive_briefly(extra, 10000, log, sizeof(log));
	printf("# second drive on the same socket: exit %d\n", rc);
	assert_true(rc > 0);
	if (!strstr(log, "already"))
		fail_msg("no clear error: %s", log);
	assert_int_equal(lstat(g_sock, &st), 0);
	assert_alive();

	/* Something that is not a socket is left alone. */
	FMT(arg, "%s/not-a-socket", g_drive.tmpdir);
	{
		FILE *f = fopen(arg, "w");
		assert_non_null(f);
		fputs("keep me\n", f);
		fclose(f);
	}
	rc = run_drive_briefly(extra, 10000, log, sizeof(log));
	assert_true(rc > 0);
	if (!strstr(log, "not a socket"))
		fail_msg("no clear error: %s", log);
	assert_int_equal(lstat(arg, &st), 0);
	assert_true(S_ISREG(st.st_mode));
}

static void test_socket_stale(void **state)
{
	struct itest_drive d;
	char dir[PATH_MAX] = "/tmp/fdr-ctl-XXXXXX", path[PATH_MAX + 16];
	char arg[PATH_MAX + 16];
	const char *extra[] = {"--ctl", arg, "--ns", "null,size=1M", NULL};
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat st;
	int fd;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/ctl.sock", dir);
	snprintf(arg, sizeof(arg), "%s", path);

	/* A socket file nobody listens on, as a killed drive leaves it. */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	FMT(sa.sun_path, "%s", path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	assert_int_equal(lstat(path, &st), 0);

	assert_int_equal(itest_drive_start(&d, false, extra), 0);
	assert_true(itest_log_contains(&d, "stale"));
	{
		char *save = strdup(g_sock);
		struct json_object *j;

		FMT(g_sock, "%s", path);
		j = req("help");
		snprintf(g_sock, sizeof(g_sock), "%s", save);
		free(save);
		assert_reply_ok(j);
		json_object_put(j);
	}
	assert_int_equal(itest_drive_stop(&d), 0);
	/* Removed at a clean shutdown. */
	assert_int_not_equal(lstat(path, &st), 0);
	assert_int_equal(errno, ENOENT);
	rmdir(dir);
}

static void test_default_path(void **state)
{
	/* The drive without --ctl serves <run dir>/frankendrive/<port>.sock, or
	 * /tmp/frankendrive-<port>.sock; the client finds it with --port. */
	struct itest_drive d;
	const char *extra[] = {"--ns", "null,size=1M", NULL};
	struct cli c;

	assert_int_equal(itest_drive_start(&d, false, extra), 0);
	CLI(&c, "--port", d.port, "rule", "list");
	assert_int_equal(c.status, 0);
	assert_non_null(strstr(c.out, "no rules"));
	assert_true(itest_log_contains(&d, d.port));
	assert_int_equal(itest_drive_stop(&d), 0);
	CLI(&c, "--port", d.port, "help");
	assert_int_equal(c.status, 2);
	assert_non_null(strstr(c.err, "is frankendrive running?"));

	/* --no-ctl: none. */
	{
		const char *extra2[] = {"--ns", "null,size=1M", "--no-ctl", NULL};

		assert_int_equal(itest_drive_start(&d, false, extra2), 0);
		CLI(&c, "--port", d.port, "help");
		assert_int_equal(c.status, 2);
		assert_false(itest_log_contains(&d, "control socket on"));
		assert_int_equal(itest_drive_stop(&d), 0);
	}
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_socket_file, test_clean),
		cmocka_unit_test_teardown(test_help, test_clean),
		cmocka_unit_test_teardown(test_cli_errors, test_clean),
		cmocka_unit_test_teardown(test_rule_round_trip, test_clean),
		cmocka_unit_test_teardown(test_bad_rule, test_clean),
		cmocka_unit_test_teardown(test_plugin_missing, test_clean),
		cmocka_unit_test_teardown(test_plugin_sum, test_clean),
		cmocka_unit_test_teardown(test_garbage, test_clean),
		cmocka_unit_test_teardown(test_long_line, test_clean),
		cmocka_unit_test_teardown(test_close_mid_line, test_clean),
		cmocka_unit_test_teardown(test_two_clients, test_clean),
		cmocka_unit_test_teardown(test_concurrent_clients, test_clean),
		cmocka_unit_test_teardown(test_many_clients, test_clean),
		cmocka_unit_test_teardown(test_record_attach, test_clean),
		cmocka_unit_test_teardown(test_socket_taken, test_clean),
		cmocka_unit_test(test_socket_stale),
		cmocka_unit_test(test_default_path),
	};
	const char *pd = getenv("FDR_PLUGIN_DIR");

	itest_init(argc, argv);
	if (pd && *pd) {
		snprintf(g_plugin_dir, sizeof(g_plugin_dir), "%s", pd);
	} else {
		char tmp[PATH_MAX];

		snprintf(tmp, sizeof(tmp), "%s", itest_drive_path());
		snprintf(g_plugin_dir, sizeof(g_plugin_dir), "%s/../plugins", dirname(tmp));
	}
	return cmocka_run_group_tests_name("ctl", tests, setup, teardown);
}

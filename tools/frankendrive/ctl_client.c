/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * `frankendrive ctl [--socket PATH | --port PORT] [--json] COMMAND ARGS...`
 *
 * Joins COMMAND ARGS... into one request line, sends it to the drive's
 * control socket and prints the one-line JSON reply: human-readably
 * (tables for lists) or, with --json, as it came.
 */
#include "ctl_client.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "ctl/ctl.h"

#define CTL_EXIT_OK 0
#define CTL_EXIT_ERROR 1
#define CTL_EXIT_USAGE 2
#define CTL_DEFAULT_TIMEOUT_S 30
/* A reply larger than this is not believed. */
#define CTL_MAX_REPLY (256u * 1024 * 1024)

static void ctl_usage(FILE *f)
{
	char path[PATH_MAX];

	fdr_ctl_default_path(FDR_CTL_DEFAULT_PORT, path, sizeof(path));
	fprintf(f,
		"Usage: frankendrive ctl [OPTION]... COMMAND [ARG]...\n"
		"Change a running drive's plug-ins and fault rules through its control socket.\n"
		"\n"
		"Commands:\n"
		"  help                             the commands the drive knows\n"
		"  plugin list                      loaded plug-ins and their taps\n"
		"  plugin load PATH[,key=value...]  load a plug-in (runs its setup())\n"
		"  plugin unload NAME               unload a plug-in (runs its teardown())\n"
		"  rule list                        fault rules and their hit counters\n"
		"  rule add RULE                    add a rule, e.g. opc=write,after=5,status=1/0x82\n"
		"  rule del ID|NAME                 remove a rule (by id or name=)\n"
		"  rule clear                       remove every rule\n"
		"  record on|off|status             switch the flight recorder, or show it\n"
		"  record attach                    pass the recorder's ring to a live reader\n"
		"                                   (nvmedump -i does; here it is only shown)\n"
		"\n"
		"Options:\n"
		"  -s, --socket PATH   the drive's control socket (its --ctl PATH)\n"
		"  -p, --port PORT     the drive whose first listener is on PORT: its default\n"
		"                      socket (without either: port " FDR_CTL_DEFAULT_PORT ", %s)\n"
		"      --json          print the drive's JSON reply as it is\n"
		"      --timeout SEC   wait this long for the reply (default %d)\n"
		"  -h, --help          show this help\n"
		"\n"
		"Exit status: 0 done, 1 the drive refused (the reason is printed), 2 usage or\n"
		"connection error.  See docs/ctl.md.\n",
		path, CTL_DEFAULT_TIMEOUT_S);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- Printing -------------------------------------------------------------- */

static const char *jget_str(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !v)
		return "";
	return json_object_get_string(v);
}

/* Column widths (at least the heading's), capped so one long path does not
 * push every other column off the screen. */
#define COL_CAP 48

static int colw(int cur, const char *s)
{
	int n = (int)strlen(s);

	if (n > COL_CAP)
		n = COL_CAP;
	return n > cur ? n : cur;
}

static void print_rules(struct json_object *rules)
{
	size_t n = json_object_array_length(rules);
	int wid = 2, wm = 7, wf = 5;
	char buf[32];

	if (!n) {
		printf("no rules\n");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct json_object *r = json_object_array_get_idx(rules, i);

		wid = colw(wid, jget_str(r, "id"));
		wm = colw(wm, jget_str(r, "matches"));
		wf = colw(wf, jget_str(r, "fired"));
	}
	printf("%*s  %-5s  %*s  %*s  %s\n", wid, "ID", "ARMED", wm, "MATCHES", wf, "FIRED", "RULE");
	for (size_t i = 0; i < n; i++) {
		struct json_object *r = json_object_array_get_idx(rules, i), *armed = NULL;

		json_object_object_get_ex(r, "armed", &armed);
		snprintf(buf, sizeof(buf), "%s", armed && json_object_get_boolean(armed) ? "yes" : "no");
		printf("%*s  %-5s  %*s  %*s  %s\n", wid, jget_str(r, "id"), buf, wm,
		       jget_str(r, "matches"), wf, jget_str(r, "fired"), jget_str(r, "text"));
	}
}

static void taps_str(struct json_object *p, char *buf, size_t len)
{
	struct json_object *taps;
	size_t o = 0;

	buf[0] = '\0';
	if (!json_object_object_get_ex(p, "taps", &taps) ||
	    !json_object_is_type(taps, json_type_array))
		return;
	for (size_t i = 0; i < json_object_array_length(taps) && o < len; i++) {
		int w = snprintf(buf + o, len - o, "%s%s", i ? "," : "",
				 json_object_get_string(json_object_array_get_idx(taps, i)));
		if (w < 0)
			break;
		o += (size_t)w;
	}
	if (!buf[0])
		snprintf(buf, len, "-");
}

static void print_plugins(struct json_object *plugins)
{
	size_t n = json_object_array_length(plugins);
	int wn = 4, wa = 4, wt = 4;
	char taps[1024];

	if (!n) {
		printf("no plug-ins loaded\n");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct json_object *p = json_object_array_get_idx(plugins, i);

		taps_str(p, taps, sizeof(taps));
		wn = colw(wn, jget_str(p, "name"));
		wa = colw(wa, *jget_str(p, "args") ? jget_str(p, "args") : "-");
		wt = colw(wt, taps);
	}
	printf("%-*s  %-*s  %-*s  %s\n", wn, "NAME", wa, "ARGS", wt, "TAPS", "PATH");
	for (size_t i = 0; i < n; i++) {
		struct json_object *p = json_object_array_get_idx(plugins, i);
		const char *args = jget_str(p, "args");

		taps_str(p, taps, sizeof(taps));
		printf("%-*s  %-*s  %-*s  %s\n", wn, jget_str(p, "name"), wa, *args ? args : "-", wt,
		       taps, jget_str(p, "path"));
		if (*jget_str(p, "description"))
			printf("%-*s  %s\n", wn, "", jget_str(p, "description"));
	}
}

static void print_help(struct json_object *cmds)
{
	size_t n = json_object_array_length(cmds);
	int w = 0;

	for (size_t i = 0; i < n; i++)
		w = colw(w, jget_str(json_object_array_get_idx(cmds, i), "command"));
	for (size_t i = 0; i < n; i++) {
		struct json_object *c = json_object_array_get_idx(cmds, i);

		printf("  %-*s  %s\n", w, jget_str(c, "command"), jget_str(c, "description"));
	}
}

static int print_reply(const char *line, bool raw)
{
	struct json_object *r = json_tokener_parse(line), *v, *ok;
	int rc;

	if (!r || !json_object_is_type(r, json_type_object) ||
	    !json_object_object_get_ex(r, "ok", &ok) || !json_object_is_type(ok, json_type_boolean)) {
		fprintf(stderr, "frankendrive ctl: the drive sent something that is not a reply: %.200s\n",
			line);
		json_object_put(r);
		return CTL_EXIT_USAGE;
	}
	if (raw)
		printf("%s\n", line);
	if (!json_object_get_boolean(ok)) {
		fprintf(stderr, "frankendrive ctl: %s\n",
			*jget_str(r, "error") ? jget_str(r, "error") : "the drive refused");
		rc = CTL_EXIT_ERROR;
		goto out;
	}
	rc = CTL_EXIT_OK;
	if (raw)
		goto out;
	if (json_object_object_get_ex(r, "rules", &v) && json_object_is_type(v, json_type_array)) {
		print_rules(v);
	} else if (json_object_object_get_ex(r, "plugins", &v) &&
		   json_object_is_type(v, json_type_array)) {
		print_plugins(v);
	} else if (json_object_object_get_ex(r, "commands", &v) &&
		   json_object_is_type(v, json_type_array)) {
		print_help(v);
	} else if (*jget_str(r, "message")) {
		printf("%s\n", jget_str(r, "message"));
		if (json_object_object_get_ex(r, "plugin", &v) &&
		    json_object_is_type(v, json_type_object)) {
			char taps[1024];

			taps_str(v, taps, sizeof(taps));
			printf("  %s\n  path: %s\n  taps: %s\n", jget_str(v, "description"),
			       jget_str(v, "path"), taps);
		}
	} else {
		printf("ok\n");
	}
out:
	json_object_put(r);
	return rc;
}

/* ---- Talking to the drive ------------------------------------------------------ */

static int ctl_connect(const char *path, int timeout_ms)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "frankendrive ctl: socket path too long (at most %zu bytes): %s\n",
			sizeof(sa.sun_path) - 1, path);
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "frankendrive ctl: socket: %s\n", strerror(errno));
		return -1;
	}
	/* Bounds connect() too when the drive's backlog is full. */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int e = errno;

		fprintf(stderr, "frankendrive ctl: cannot connect to %s: %s%s\n", path, strerror(e),
			e == ENOENT || e == ECONNREFUSED ? " (is frankendrive running?)"
			: e == EACCES			  ? " (the socket is its owner's only)"
							  : "");
		close(fd);
		return -1;
	}
	return fd;
}

static int send_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t w = send(fd, buf, len, MSG_NOSIGNAL);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Read one line (without its newline) into a malloc'ed string.  NULL with
 * a message on errors. */
static char *recv_line(int fd, const char *path, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);

	if (!buf) {
		fprintf(stderr, "frankendrive ctl: out of memory\n");
		return NULL;
	}
	for (;;) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		int64_t left = deadline - now_ms();
		ssize_t r;
		char *nl;

		if (left <= 0) {
			fprintf(stderr, "frankendrive ctl: no reply from %s within %d s\n", path,
				timeout_ms / 1000);
			break;
		}
		r = poll(&pfd, 1, (int)left);
		if (r < 0 && errno != EINTR) {
			fprintf(stderr, "frankendrive ctl: poll: %s\n", strerror(errno));
			break;
		}
		if (r <= 0)
			continue;
		if (cap - len < 4096) {
			char *b;

			if (cap >= CTL_MAX_REPLY) {
				fprintf(stderr, "frankendrive ctl: reply larger than %u bytes\n",
					CTL_MAX_REPLY);
				break;
			}
			b = realloc(buf, cap * 2);
			if (!b) {
				fprintf(stderr, "frankendrive ctl: out of memory\n");
				break;
			}
			buf = b;
			cap *= 2;
		}
		r = recv(fd, buf + len, cap - len - 1, 0);
		if (r < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			fprintf(stderr, "frankendrive ctl: reading from %s: %s\n", path,
				strerror(errno));
			break;
		}
		if (r == 0) {
			fprintf(stderr, "frankendrive ctl: %s closed the connection without a reply\n",
				path);
			break;
		}
		nl = memchr(buf + len, '\n', (size_t)r);
		len += (size_t)r;
		if (nl) {
			*nl = '\0';
			return buf;
		}
	}
	free(buf);
	return NULL;
}

/* ---- Entry point ------------------------------------------------------------------ */

static bool opt_arg(int argc, char **argv, int *i, const char *lng, const char *shrt,
		    const char **val, bool *bad)
{
	size_t n = strlen(lng);

	if (!strcmp(argv[*i], lng) || (shrt && !strcmp(argv[*i], shrt))) {
		if (*i + 1 >= argc) {
			fprintf(stderr, "frankendrive ctl: %s needs an argument\n", lng);
			*bad = true;
			return true;
		}
		*val = argv[++*i];
		return true;
	}
	if (!strncmp(argv[*i], lng, n) && argv[*i][n] == '=') {
		*val = argv[*i] + n + 1;
		return true;
	}
	return false;
}

int fdr_ctl_main(int argc, char **argv)
{
	const char *sock = NULL, *port = NULL, *tmo = NULL;
	char path[PATH_MAX], line[FDR_CTL_MAX_LINE + 2], *reply;
	bool raw = false, bad = false;
	int i, fd, rc, timeout_s = CTL_DEFAULT_TIMEOUT_S;
	size_t len = 0;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--")) {
			i++;
			break;
		}
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			ctl_usage(stdout);
			return CTL_EXIT_OK;
		}
		if (!strcmp(argv[i], "--json")) {
			raw = true;
			continue;
		}
		if (opt_arg(argc, argv, &i, "--socket", "-s", &sock, &bad) ||
		    opt_arg(argc, argv, &i, "--port", "-p", &port, &bad) ||
		    opt_arg(argc, argv, &i, "--timeout", NULL, &tmo, &bad)) {
			if (bad)
				return CTL_EXIT_USAGE;
			continue;
		}
		fprintf(stderr, "frankendrive ctl: unknown option %s (see frankendrive ctl --help)\n",
			argv[i]);
		return CTL_EXIT_USAGE;
	}
	if (sock && port) {
		fprintf(stderr, "frankendrive ctl: --socket and --port exclude each other\n");
		return CTL_EXIT_USAGE;
	}
	if (sock && !*sock) {
		fprintf(stderr, "frankendrive ctl: --socket needs a path\n");
		return CTL_EXIT_USAGE;
	}
	if (port && (!*port || strlen(port) > 15 || strchr(port, '/'))) {
		fprintf(stderr, "frankendrive ctl: --port %s: expected a port number\n", port);
		return CTL_EXIT_USAGE;
	}
	if (tmo) {
		char *end;
		long v = strtol(tmo, &end, 10);

		if (!*tmo || *end || v < 1 || v > 86400) {
			fprintf(stderr, "frankendrive ctl: --timeout %s: expected 1-86400 seconds\n", tmo);
			return CTL_EXIT_USAGE;
		}
		timeout_s = (int)v;
	}
	if (i >= argc) {
		fprintf(stderr, "frankendrive ctl: no command (try frankendrive ctl --help)\n");
		return CTL_EXIT_USAGE;
	}
	for (; i < argc; i++) {
		size_t n = strlen(argv[i]);

		if (strpbrk(argv[i], "\r\n")) {
			fprintf(stderr, "frankendrive ctl: arguments cannot contain line breaks\n");
			return CTL_EXIT_USAGE;
		}
		if (len + n + 1 > FDR_CTL_MAX_LINE) {
			fprintf(stderr, "frankendrive ctl: request longer than %d bytes\n",
				FDR_CTL_MAX_LINE);
			return CTL_EXIT_USAGE;
		}
		if (len)
			line[len++] = ' ';
		memcpy(line + len, argv[i], n);
		len += n;
	}
	line[len++] = '\n';
	line[len] = '\0';

	if (sock)
		snprintf(path, sizeof(path), "%s", sock);
	else
		fdr_ctl_default_path(port, path, sizeof(path));
	fd = ctl_connect(path, timeout_s * 1000);
	if (fd < 0)
		return CTL_EXIT_USAGE;
	if (send_all(fd, line, len)) {
		fprintf(stderr, "frankendrive ctl: sending to %s: %s\n", path, strerror(errno));
		close(fd);
		return CTL_EXIT_USAGE;
	}
	reply = recv_line(fd, path, timeout_s * 1000);
	close(fd);
	if (!reply)
		return CTL_EXIT_USAGE;
	rc = print_reply(reply, raw);
	free(reply);
	return rc;
}

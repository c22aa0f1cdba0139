/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The control socket server.  One thread polls the listening socket and
 * every client; requests are executed one at a time, in the order their
 * lines complete, so plug-in and rule changes never race each other.
 * Client sockets are non-blocking with an output buffer each: a client
 * that stops reading holds up nobody but itself.
 *
 * A reply may carry a descriptor (`record attach`: the recorder's ring for
 * a live reader).  It is queued with the reply and goes out with SCM_RIGHTS
 * on the reply's first byte, by the same non-blocking sends.
 */
#include "ctl/ctl.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <json-c/json.h>

#include "recorder/recorder.h"
#include "recorder/share.h"

#include "common/log.h"
#include "common/usock.h"
#include "plugin/plugin_host.h"
#include "rules/rules.h"

#define CTL_MAX_CLIENTS 32
/* Stop reading a client's requests while this much of its output waits. */
#define CTL_OUT_PAUSE (256u * 1024)
/* Drop a client that lets this much output pile up. */
#define CTL_OUT_MAX (64u * 1024 * 1024)
/* How much of a bad request is quoted back in an error. */
#define CTL_QUOTE_MAX 64
/* Descriptors that may wait to be sent on one connection. */
#define CTL_MAX_PASS 4

#ifndef JSON_C_TO_STRING_NOSLASHESCAPE
#define JSON_C_TO_STRING_NOSLASHESCAPE 0
#endif

struct ctl_client {
	int fd;
	unsigned id;
	char in[FDR_CTL_MAX_LINE + 2]; /* a line, a '\r' and the newline */
	size_t in_len;
	bool discarding; /* skipping the rest of an over-long line */
	bool eof;        /* no more requests; close once the output is out */
	char *out;
	size_t out_len, out_off, out_cap;
	/* Bytes of output queued and sent since the connection began, and the
	 * descriptors to send with the byte at stream position at. */
	uint64_t out_queued, out_sent;
	struct {
		uint64_t at;
		int fd;
	} pass[CTL_MAX_PASS];
	unsigned nr_pass;
};

struct fdr_ctl {
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct fdr_usock ls; /* the listening socket */
	int wakefd;
	pthread_t thread;
	struct ctl_client *clients[CTL_MAX_CLIENTS];
	unsigned nr_clients;
	unsigned next_id;
};

/* ---- JSON helpers ----------------------------------------------------------- */

/*
 * Copy n bytes of s to out (n bytes too), replacing each byte that is not
 * part of a valid UTF-8 sequence with '?'.  json-c copies string bytes as
 * they are, so this keeps every reply valid JSON and every log line text.
 */
static void utf8_clean(const char *s, size_t n, char *out)
{
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)s[i];
		size_t need = c < 0x80 ? 0 : (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2
					   : (c & 0xf8) == 0xf0 ? 3 : 4;
		bool ok = need < 4 && i + need < n;

		if (need == 1 && c < 0xc2)
			ok = false; /* overlong */
		for (size_t k = 1; ok && k <= need; k++)
			ok = ((unsigned char)s[i + k] & 0xc0) == 0x80;
		if (ok && need == 2) {
			unsigned char c1 = (unsigned char)s[i + 1];
			ok = !(c == 0xe0 && c1 < 0xa0) && !(c == 0xed && c1 >= 0xa0);
		}
		if (ok && need == 3) {
			unsigned char c1 = (unsigned char)s[i + 1];
			ok = c <= 0xf4 && !(c == 0xf0 && c1 < 0x90) && !(c == 0xf4 && c1 >= 0x90);
		}
		if (!ok) {
			out[i++] = '?';
			continue;
		}
		memcpy(out + i, s + i, need + 1);
		i += need + 1;
	}
}

/* s made fit for a log line: valid UTF-8, at most len - 1 bytes. */
static const char *logsafe(const char *s, char *buf, size_t len)
{
	size_t n = s ? strnlen(s, len - 1) : 0;

	utf8_clean(s, n, buf);
	buf[n] = '\0';
	return buf;
}

/* A JSON string from arbitrary bytes (see utf8_clean); max > 0 truncates
 * (with "...") after that many bytes. */
static struct json_object *jstr_n(const char *s, size_t max)
{
	size_t n = s ? strlen(s) : 0;
	bool cut = max && n > max;
	struct json_object *j;
	char *b;

	if (cut)
		n = max;
	b = malloc(n + 4);
	if (!b)
		return json_object_new_string("");
	utf8_clean(s, n, b);
	if (cut) {
		memcpy(b + n, "...", 3);
		n += 3;
	}
	j = json_object_new_string_len(b, (int)n);
	free(b);
	return j;
}

static struct json_object *jstr(const char *s)
{
	return jstr_n(s, 0);
}

static struct json_object *ju64(uint64_t v)
{
#if defined(JSON_C_VERSION_NUM) && JSON_C_VERSION_NUM >= ((0 << 16) | (14 << 8))
	return json_object_new_uint64(v);
#else
	return json_object_new_int64(v > INT64_MAX ? INT64_MAX : (int64_t)v);
#endif
}

static struct json_object *reply_ok(void)
{
	struct json_object *r = json_object_new_object();

	json_object_object_add(r, "ok", json_object_new_boolean(1));
	return r;
}

static struct json_object *reply_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static struct json_object *reply_err(const char *fmt, ...)
{
	struct json_object *r = json_object_new_object();
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_object_object_add(r, "ok", json_object_new_boolean(0));
	json_object_object_add(r, "error", jstr(msg));
	return r;
}

/* Quote a piece of the request in an error message: printable, bounded. */
static const char *quote(const char *s, char *buf, size_t len)
{
	size_t o = 0;

	for (; *s && o + 4 < len; s++) {
		if (o >= CTL_QUOTE_MAX) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		buf[o++] = isprint((unsigned char)*s) ? *s : '?';
	}
	buf[o] = '\0';
	return buf;
}

/* ---- Commands ---------------------------------------------------------------- */

static const struct {
	const char *usage;
	const char *description;
} ctl_commands[] = {
	{"help", "list the commands"},
	{"plugin list", "list the loaded plug-ins"},
	{"plugin load PATH[,key=value...]", "load a plug-in and run its setup()"},
	{"plugin unload NAME", "run a plug-in's teardown() and unload it"},
	{"rule list", "list the fault rules with their counters"},
	{"rule add RULE", "add a fault rule, e.g. opc=write,after=5,status=1/0x82"},
	{"rule del ID|NAME", "remove a fault rule"},
	{"rule clear", "remove every fault rule"},
	{"record on|off|status", "switch the flight recorder on or off, or show it"},
	{"record attach", "hand the recorder's ring file to a live reader (nvmedump -i)"},
};

static struct json_object *cmd_help(void)
{
	struct json_object *r = reply_ok(), *a = json_object_new_array();

	for (size_t i = 0; i < sizeof(ctl_commands) / sizeof(ctl_commands[0]); i++) {
		struct json_object *c = json_object_new_object();

		json_object_object_add(c, "command", json_object_new_string(ctl_commands[i].usage));
		json_object_object_add(c, "description",
				       json_object_new_string(ctl_commands[i].description));
		json_object_array_add(a, c);
	}
	json_object_object_add(r, "commands", a);
	return r;
}

static struct json_object *plugin_json(const struct fdr_plugin_desc *d)
{
	struct json_object *p = json_object_new_object(), *taps = json_object_new_array();
	unsigned nt = d->nr_taps;

	if (nt > sizeof(d->taps) / sizeof(d->taps[0]))
		nt = sizeof(d->taps) / sizeof(d->taps[0]);
	json_object_object_add(p, "name", jstr(d->name));
	json_object_object_add(p, "path", jstr(d->path));
	json_object_object_add(p, "description", jstr(d->description));
	json_object_object_add(p, "args", jstr(d->args));
	for (unsigned i = 0; i < nt; i++)
		json_object_array_add(taps, jstr(d->taps[i]));
	json_object_object_add(p, "taps", taps);
	return p;
}

static void plugin_list_cb(const struct fdr_plugin_desc *d, void *arg)
{
	json_object_array_add(arg, plugin_json(d));
}

struct plugin_count {
	unsigned n;
	struct json_object *last;
};

static void plugin_last_cb(const struct fdr_plugin_desc *d, void *arg)
{
	struct plugin_count *pc = arg;

	pc->n++;
	if (pc->last)
		json_object_put(pc->last);
	pc->last = plugin_json(d);
}

static struct json_object *cmd_plugin(const char *verb, const char *rest)
{
	char q[CTL_QUOTE_MAX + 8], err[512] = "", lr[384], le[384];

	if (!strcmp(verb, "list")) {
		struct json_object *r, *a;

		if (*rest)
			return reply_err("plugin list takes no arguments");
		r = reply_ok();
		a = json_object_new_array();
		fdr_plugin_foreach(plugin_list_cb, a);
		json_object_object_add(r, "plugins", a);
		return r;
	}
	if (!strcmp(verb, "load")) {
		struct plugin_count before = {0, NULL}, after = {0, NULL};
		struct json_object *r;

		if (!*rest)
			return reply_err("plugin load: expected PATH[,key=value...]");
		fdr_plugin_foreach(plugin_last_cb, &before);
		if (before.last)
			json_object_put(before.last);
		if (fdr_plugin_load(rest, err, sizeof(err))) {
			fdr_notice("ctl: plugin load %s refused: %s", logsafe(rest, lr, sizeof(lr)),
				   logsafe(err[0] ? err : "failed", le, sizeof(le)));
			return reply_err("plugin load: %s", err[0] ? err : "failed");
		}
		/* Plug-ins are listed in load order: the new one is the last. */
		fdr_plugin_foreach(plugin_last_cb, &after);
		r = reply_ok();
		if (after.last && after.n > before.n) {
			struct json_object *name = NULL;
			char msg[512];

			json_object_object_get_ex(after.last, "name", &name);
			snprintf(msg, sizeof(msg), "loaded plug-in %s", json_object_get_string(name));
			fdr_info("ctl: loaded plug-in %s (%s)", json_object_get_string(name),
				 logsafe(rest, lr, sizeof(lr)));
			json_object_object_add(r, "message", json_object_new_string(msg));
			json_object_object_add(r, "plugin", after.last);
		} else {
			if (after.last)
				json_object_put(after.last);
			fdr_info("ctl: loaded plug-in %s", logsafe(rest, lr, sizeof(lr)));
			json_object_object_add(r, "message", json_object_new_string("plug-in loaded"));
		}
		return r;
	}
	if (!strcmp(verb, "unload")) {
		struct json_object *r;
		char msg[512];

		if (!*rest)
			return reply_err("plugin unload: expected a plug-in name");
		if (strpbrk(rest, " \t"))
			return reply_err("plugin unload: expected one plug-in name, got '%s'",
					 quote(rest, q, sizeof(q)));
		if (fdr_plugin_unload(rest, err, sizeof(err))) {
			fdr_notice("ctl: plugin unload %s refused: %s", logsafe(rest, lr, sizeof(lr)),
				   logsafe(err[0] ? err : "failed", le, sizeof(le)));
			return reply_err("plugin unload: %s", err[0] ? err : "failed");
		}
		fdr_info("ctl: unloaded plug-in %s", logsafe(rest, lr, sizeof(lr)));
		r = reply_ok();
		snprintf(msg, sizeof(msg), "unloaded plug-in %s", rest);
		json_object_object_add(r, "message", jstr(msg));
		return r;
	}
	if (!*verb)
		return reply_err("plugin: expected list, load or unload");
	return reply_err("plugin: unknown subcommand '%s' (expected list, load or unload)",
			 quote(verb, q, sizeof(q)));
}

static void rule_list_cb(const struct fdr_rule_info *ri, void *arg)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "id", json_object_new_int64(ri->id));
	json_object_object_add(o, "name", ri->name ? jstr(ri->name) : NULL);
	json_object_object_add(o, "text", jstr(ri->text));
	json_object_object_add(o, "tap", jstr(ri->tap));
	json_object_object_add(o, "matches", ju64(ri->matches));
	json_object_object_add(o, "fired", ju64(ri->fired));
	json_object_object_add(o, "armed", json_object_new_boolean(ri->armed));
	json_object_array_add(arg, o);
}

static void rule_count_cb(const struct fdr_rule_info *ri, void *arg)
{
	(void)ri;
	(*(unsigned *)arg)++;
}

static int parse_rule_id(const char *s, unsigned *id)
{
	unsigned long v;
	char *end;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v == 0 || v > UINT_MAX)
		return -1;
	*id = (unsigned)v;
	return 0;
}

static struct json_object *cmd_rule(const char *verb, const char *rest)
{
	char q[CTL_QUOTE_MAX + 8], err[512] = "", msg[128], lr[384], le[384];
	struct json_object *r;

	if (!strcmp(verb, "list")) {
		struct json_object *a;

		if (*rest)
			return reply_err("rule list takes no arguments");
		r = reply_ok();
		a = json_object_new_array();
		fdr_rule_foreach(rule_list_cb, a);
		json_object_object_add(r, "rules", a);
		return r;
	}
	if (!strcmp(verb, "add")) {
		int id;

		if (!*rest)
			return reply_err("rule add: expected a rule, e.g. opc=write,after=5,status=1/0x82");
		id = fdr_rule_add(rest, err, sizeof(err));
		if (id <= 0) {
			fdr_notice("ctl: rule add %s refused: %s", logsafe(rest, lr, sizeof(lr)),
				   logsafe(err[0] ? err : "invalid rule", le, sizeof(le)));
			return reply_err("rule add: %s", err[0] ? err : "invalid rule");
		}
		fdr_info("ctl: added rule %d: %s", id, logsafe(rest, lr, sizeof(lr)));
		r = reply_ok();
		json_object_object_add(r, "id", json_object_new_int64(id));
		snprintf(msg, sizeof(msg), "added rule %d", id);
		json_object_object_add(r, "message", json_object_new_string(msg));
		return r;
	}
	if (!strcmp(verb, "del")) {
		unsigned id;
		int rc;

		if (!*rest)
			return reply_err("rule del: expected a rule id or name");
		if (isdigit((unsigned char)*rest)) {
			if (parse_rule_id(rest, &id))
				return reply_err("rule del: expected a rule id (a number from 1) or name, got '%s'",
						 quote(rest, q, sizeof(q)));
		} else {
			rc = fdr_rule_find(rest);
			if (rc <= 0)
				return reply_err("rule del: no rule named '%s'", quote(rest, q, sizeof(q)));
			id = (unsigned)rc;
		}
		rc = fdr_rule_del(id);
		if (rc == -ENOENT)
			return reply_err("rule del: no rule %u", id);
		if (rc)
			return reply_err("rule del %u: %s", id, strerror(rc < 0 ? -rc : rc));
		fdr_info("ctl: deleted rule %u", id);
		r = reply_ok();
		json_object_object_add(r, "id", json_object_new_int64(id));
		snprintf(msg, sizeof(msg), "deleted rule %u", id);
		json_object_object_add(r, "message", json_object_new_string(msg));
		return r;
	}
	if (!strcmp(verb, "clear")) {
		unsigned n = 0;

		if (*rest)
			return reply_err("rule clear takes no arguments");
		fdr_rule_foreach(rule_count_cb, &n);
		fdr_rules_clear();
		fdr_info("ctl: cleared the rules (%u removed)", n);
		r = reply_ok();
		json_object_object_add(r, "removed", json_object_new_int64(n));
		snprintf(msg, sizeof(msg), "removed %u rule%s", n, n == 1 ? "" : "s");
		json_object_object_add(r, "message", json_object_new_string(msg));
		return r;
	}
	if (!*verb)
		return reply_err("rule: expected list, add, del or clear");
	return reply_err("rule: unknown subcommand '%s' (expected list, add, del or clear)",
			 quote(verb, q, sizeof(q)));
}

#if FDR_HAVE_RECORDER
/* The ring's figures, where the drive could open it for readers. */
static void record_fields(struct json_object *r)
{
	struct fdr_rec_share_info si;

	if (!fdr_rec_share_info(&si))
		return;
	json_object_object_add(r, "slots", ju64(si.nr_slots));
	json_object_object_add(r, "head", ju64(si.head));
}

/* `record attach`: a descriptor of the ring file for a live reader, which
 * maps it read-only and follows the ring on its own (the drive never
 * waits for it). */
static struct json_object *record_attach(int *pass_fd)
{
	struct fdr_rec_share_info si;
	struct json_object *r;
	char msg[160];
	int fd;

	if (!fdr_rec_on())
		return reply_err("record attach: recording is off (frankendrive ctl record on)");
	if (!fdr_rec_share_info(&si))
		return reply_err("record attach: the drive could not open its ring file for "
				 "readers (see its log)");
	fd = fdr_rec_share_fd();
	if (fd < 0)
		return reply_err("record attach: %s", strerror(errno));
	r = reply_ok();
	json_object_object_add(r, "recording", json_object_new_boolean(1));
	json_object_object_add(r, "slots", ju64(si.nr_slots));
	json_object_object_add(r, "slot_size", json_object_new_int(FDR_REC_SLOT_SIZE));
	json_object_object_add(r, "head", ju64(si.head));
	json_object_object_add(r, "snaplen", ju64(si.snaplen));
	json_object_object_add(r, "flags", ju64(si.flags));
	json_object_object_add(r, "created_ns", ju64(si.created_wall_ns));
	json_object_object_add(r, "pid", json_object_new_int64((int64_t)getpid()));
	json_object_object_add(r, "path", jstr(si.path));
	snprintf(msg, sizeof(msg), "ring of %" PRIu64 " slots passed, head %" PRIu64, si.nr_slots,
		 si.head);
	json_object_object_add(r, "message", json_object_new_string(msg));
	*pass_fd = fd;
	fdr_debug("ctl: ring handed to a live reader (head %" PRIu64 ")", si.head);
	return r;
}
#endif

/* The flight recorder's run-time switch (the ring file stays), and the
 * ring for live readers. */
static struct json_object *cmd_record(const char *verb, const char *rest, int *pass_fd)
{
#if FDR_HAVE_RECORDER
	struct json_object *r;
	bool on;

	if (*rest)
		return reply_err("record %s takes no arguments", verb);
	if (!fdr_rec_configured())
		return reply_err("record: the drive runs without a flight recorder (--no-record)");
	if (!strcmp(verb, "attach"))
		return record_attach(pass_fd);
	if (!strcmp(verb, "on") || !strcmp(verb, "off")) {
		on = !strcmp(verb, "on");
		fdr_rec_set_enabled(on);
		fdr_info("ctl: flight recorder %s", on ? "on" : "off");
	} else if (strcmp(verb, "status") != 0) {
		return reply_err("record: expected on, off, status or attach");
	}
	r = reply_ok();
	on = fdr_rec_on();
	json_object_object_add(r, "recording", json_object_new_boolean(on));
	record_fields(r);
	json_object_object_add(r, "message", json_object_new_string(on ? "recording" : "not recording"));
	return r;
#else
	(void)verb;
	(void)rest;
	(void)pass_fd;
	return reply_err("record: built without the flight recorder (-Drecorder=false)");
#endif
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* Split off the next word of *s (at most wlen-1 bytes; longer words are
 * cut, which makes them unknown anyway); *s moves past it and its spaces. */
static void next_word(const char **s, char *w, size_t wlen)
{
	const char *p = *s;
	size_t n = 0;

	while (*p && !is_space(*p)) {
		if (n + 1 < wlen)
			w[n++] = *p;
		p++;
	}
	w[n] = '\0';
	while (is_space(*p))
		p++;
	*s = p;
}

/* Execute one request line (NUL-terminated, no newline).  *pass_fd is
 * set to a descriptor that goes out with the reply (else left alone). */
static struct json_object *ctl_execute(char *line, int *pass_fd)
{
	char word[40], verb[40], q[CTL_QUOTE_MAX + 8];
	const char *p = line;
	size_t n;

	for (const char *c = line; *c; c++)
		if ((unsigned char)*c < 0x20 && *c != '\t')
			return reply_err("request contains control character 0x%02x",
					 (unsigned char)*c);
	/* Trailing blanks would otherwise end up in rule texts and names. */
	n = strlen(line);
	while (n && is_space(line[n - 1]))
		line[--n] = '\0';
	while (is_space(*p))
		p++;
	if (!*p)
		return reply_err("empty request (try help)");
	next_word(&p, word, sizeof(word));
	if (!strcmp(word, "help")) {
		if (*p)
			return reply_err("help takes no arguments");
		return cmd_help();
	}
	if (!strcmp(word, "plugin")) {
		next_word(&p, verb, sizeof(verb));
		return cmd_plugin(verb, p);
	}
	if (!strcmp(word, "rule")) {
		next_word(&p, verb, sizeof(verb));
		return cmd_rule(verb, p);
	}
	if (!strcmp(word, "record")) {
		next_word(&p, verb, sizeof(verb));
		return cmd_record(verb, p, pass_fd);
	}
	return reply_err("unknown command '%s' (try help)", quote(word, q, sizeof(q)));
}

/* ---- Clients ----------------------------------------------------------------- */

static void client_close(struct fdr_ctl *c, unsigned i)
{
	struct ctl_client *cl = c->clients[i];

	fdr_debug("ctl: client %u disconnected%s", cl->id,
		  cl->in_len || cl->discarding ? " in the middle of a request" : "");
	for (unsigned k = 0; k < cl->nr_pass; k++)
		close(cl->pass[k].fd);
	close(cl->fd);
	free(cl->out);
	free(cl);
	c->clients[i] = c->clients[--c->nr_clients];
	c->clients[c->nr_clients] = NULL;
}

/* Append a reply and its newline to the client's output, with descriptor
 * fd (or -1) to pass on its first byte; the client owns fd from here on.
 * -1: drop the client. */
static int client_queue_fd(struct ctl_client *cl, struct json_object *reply, int fd)
{
	const char *s;
	size_t n;
	int rc = 0;

	if (fd >= 0 && cl->nr_pass == CTL_MAX_PASS) {
		close(fd);
		fd = -1;
		json_object_put(reply);
		reply = reply_err("%u descriptors already wait to be read on this connection",
				  CTL_MAX_PASS);
	}
	s = json_object_to_json_string_ext(reply, JSON_C_TO_STRING_PLAIN |
							  JSON_C_TO_STRING_NOSLASHESCAPE);
	n = s ? strlen(s) : 0;
	if (!s) {
		s = "{\"ok\":false,\"error\":\"out of memory\"}";
		n = strlen(s);
	}
	if (cl->out_off == cl->out_len) {
		cl->out_off = cl->out_len = 0;
	} else if (cl->out_off && cl->out_len + n + 1 > cl->out_cap) {
		memmove(cl->out, cl->out + cl->out_off, cl->out_len - cl->out_off);
		cl->out_len -= cl->out_off;
		cl->out_off = 0;
	}
	if (cl->out_len + n + 1 > CTL_OUT_MAX) {
		rc = -1;
	} else {
		if (cl->out_len + n + 1 > cl->out_cap) {
			size_t cap = cl->out_cap ? cl->out_cap : 4096;
			char *o;

			while (cap < cl->out_len + n + 1)
				cap *= 2;
			o = realloc(cl->out, cap);
			if (!o) {
				rc = -1;
				goto out;
			}
			cl->out = o;
			cl->out_cap = cap;
		}
		memcpy(cl->out + cl->out_len, s, n);
		cl->out[cl->out_len + n] = '\n';
		cl->out_len += n + 1;
		if (fd >= 0) {
			cl->pass[cl->nr_pass].at = cl->out_queued;
			cl->pass[cl->nr_pass++].fd = fd;
			fd = -1;
		}
		cl->out_queued += n + 1;
	}
out:
	if (fd >= 0)
		close(fd);
	json_object_put(reply);
	return rc;
}

static int client_queue(struct ctl_client *cl, struct json_object *reply)
{
	return client_queue_fd(cl, reply, -1);
}

/* send(), with fd passed on the first byte. */
static ssize_t send_with_fd(int sock, const char *buf, size_t len, int fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctrl;
	struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
	struct msghdr mh = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = ctrl.buf,
		.msg_controllen = sizeof(ctrl.buf),
	};
	struct cmsghdr *cm;

	memset(&ctrl, 0, sizeof(ctrl));
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* Send what the socket takes.  -1: the client is gone. */
static int client_flush(struct ctl_client *cl)
{
	while (cl->out_off < cl->out_len) {
		size_t len = cl->out_len - cl->out_off;
		bool with_fd = cl->nr_pass && cl->pass[0].at == cl->out_sent;
		unsigned next = with_fd ? 1 : 0;
		ssize_t w;

		/* A send stops where the next descriptor goes. */
		if (next < cl->nr_pass && cl->pass[next].at - cl->out_sent < len)
			len = (size_t)(cl->pass[next].at - cl->out_sent);
		if (with_fd)
			w = send_with_fd(cl->fd, cl->out + cl->out_off, len, cl->pass[0].fd);
		else
			w = send(cl->fd, cl->out + cl->out_off, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return -1;
		}
		if (with_fd && w > 0) {
			/* The peer holds its own reference now. */
			close(cl->pass[0].fd);
			memmove(&cl->pass[0], &cl->pass[1], (cl->nr_pass - 1) * sizeof(cl->pass[0]));
			cl->nr_pass--;
		}
		cl->out_off += (size_t)w;
		cl->out_sent += (uint64_t)w;
	}
	cl->out_off = cl->out_len = 0;
	/* Give back what a big reply took. */
	if (cl->out_cap > 65536) {
		free(cl->out);
		cl->out = NULL;
		cl->out_cap = 0;
	}
	return 0;
}

/* Handle the complete lines in the input buffer.  -1: drop the client. */
static int client_lines(struct ctl_client *cl)
{
	char lr[256];
	size_t start = 0;

	for (;;) {
		char *nl = memchr(cl->in + start, '\n', cl->in_len - start);
		char *line = cl->in + start;
		struct json_object *reply;
		int pass_fd = -1;
		size_t len;

		if (!nl)
			break;
		len = (size_t)(nl - line);
		start += len + 1;
		if (cl->discarding) {
			/* The end of an over-long line, already answered. */
			cl->discarding = false;
			continue;
		}
		if (len && line[len - 1] == '\r')
			len--;
		line[len] = '\0';
		if (len > FDR_CTL_MAX_LINE) {
			if (client_queue(cl, reply_err("request too long (more than %u bytes)",
						       FDR_CTL_MAX_LINE)))
				return -1;
			continue;
		}
		if (memchr(line, '\0', len)) {
			if (client_queue(cl, reply_err("request contains a NUL byte")))
				return -1;
			continue;
		}
		fdr_debug("ctl: client %u: %s", cl->id, logsafe(line, lr, sizeof(lr)));
		reply = ctl_execute(line, &pass_fd);
		if (client_queue_fd(cl, reply, pass_fd))
			return -1;
	}
	if (start) {
		memmove(cl->in, cl->in + start, cl->in_len - start);
		cl->in_len -= start;
	}
	if (cl->discarding) {
		cl->in_len = 0;
	} else if (cl->in_len == sizeof(cl->in)) {
		/* No newline within the limit. */
		cl->in_len = 0;
		cl->discarding = true;
		fdr_notice("ctl: client %u: request longer than %u bytes refused", cl->id,
			   FDR_CTL_MAX_LINE);
		if (client_queue(cl, reply_err("request too long (more than %u bytes)",
					       FDR_CTL_MAX_LINE)))
			return -1;
	}
	return 0;
}

/* Read what the client sent.  -1: drop it. */
static int client_read(struct ctl_client *cl)
{
	for (;;) {
		size_t room = sizeof(cl->in) - cl->in_len;
		ssize_t r = recv(cl->fd, cl->in + cl->in_len, room, MSG_DONTWAIT);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return -1;
		}
		if (r == 0) {
			/* A request without its newline is dropped, not guessed at. */
			if (cl->in_len && !cl->discarding)
				fdr_debug("ctl: client %u closed in the middle of a request",
					  cl->id);
			cl->in_len = 0;
			cl->discarding = false;
			cl->eof = true;
			return 0;
		}
		cl->in_len += (size_t)r;
		if (client_lines(cl))
			return -1;
		if (cl->out_len - cl->out_off >= CTL_OUT_PAUSE)
			return 0;
	}
}

static void ctl_accept(struct fdr_ctl *c);

/* Serve client i after poll said rev.  Returns true if it was closed. */
static bool client_service(struct fdr_ctl *c, unsigned i, short rev)
{
	struct ctl_client *cl = c->clients[i];
	bool drop = false;

	if (rev & (POLLIN | POLLHUP | POLLERR)) {
		if (!cl->eof && client_read(cl))
			drop = true;
		else if ((rev & (POLLHUP | POLLERR)) && !(rev & POLLIN))
			drop = true; /* nothing more can arrive or leave */
	}
	if (!drop && client_flush(cl))
		drop = true;
	if (!drop && cl->eof && cl->out_off == cl->out_len)
		drop = true;
	if (drop)
		client_close(c, i);
	return drop;
}

static short client_events(const struct ctl_client *cl)
{
	short ev = 0;

	if (!cl->eof && cl->out_len - cl->out_off < CTL_OUT_PAUSE)
		ev |= POLLIN;
	if (cl->out_off < cl->out_len)
		ev |= POLLOUT;
	return ev;
}

/* Wait (timeout_ms, -1: until something happens) and serve the clients
 * that are ready, then accept new ones (unless timeout_ms is 0: that is
 * the sweep ctl_accept makes).  *stop is set when fdr_ctl_stop() asks.
 * Clients are served from the back: closing one moves the last into its
 * slot, which was served already. */
static void serve_ready(struct fdr_ctl *c, int timeout_ms, bool *stop)
{
	struct pollfd pfd[CTL_MAX_CLIENTS + 2];
	unsigned n = 0, nc = c->nr_clients;

	pfd[n++] = (struct pollfd){.fd = c->wakefd, .events = POLLIN};
	pfd[n++] = (struct pollfd){.fd = c->ls.fd, .events = POLLIN};
	for (unsigned i = 0; i < nc; i++)
		pfd[n++] = (struct pollfd){.fd = c->clients[i]->fd,
					   .events = client_events(c->clients[i])};
	if (poll(pfd, n, timeout_ms) < 0) {
		if (errno != EINTR) {
			fdr_err("ctl: poll: %s", strerror(errno));
			*stop = true;
		}
		return;
	}
	if (pfd[0].revents) {
		*stop = true;
		return;
	}
	for (unsigned i = nc; i-- > 0;)
		if (pfd[2 + i].revents)
			client_service(c, i, pfd[2 + i].revents);
	if (timeout_ms && (pfd[1].revents & POLLIN))
		ctl_accept(c);
}

static void ctl_accept(struct fdr_ctl *c)
{
	for (;;) {
		struct ctl_client *cl;
		struct ucred cred;
		socklen_t cl_len = sizeof(cred);
		bool stop = false;
		int fd;

		fd = accept4(c->ls.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				fdr_warn("ctl: accept: %s", strerror(errno));
			return;
		}
		/* Full: first let go of clients that are gone already (a burst
		 * of connect-and-close fills every slot before it is seen).
		 * Only after accept: a client that closed before this one
		 * connected is then sure to show as gone. */
		if (c->nr_clients >= CTL_MAX_CLIENTS)
			serve_ready(c, 0, &stop);
		if (c->nr_clients >= CTL_MAX_CLIENTS) {
			static const char busy[] =
				"{\"ok\":false,\"error\":\"too many control connections\"}\n";

			fdr_notice("ctl: refusing a client: %u connections already",
				   c->nr_clients);
			/* Best effort: it goes away anyway. */
			(void)!send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
			close(fd);
			continue;
		}
		cl = calloc(1, sizeof(*cl));
		if (!cl) {
			close(fd);
			continue;
		}
		cl->fd = fd;
		cl->id = ++c->next_id;
		if (!getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl_len))
			fdr_debug("ctl: client %u connected (pid %d, uid %u)", cl->id, (int)cred.pid,
				  (unsigned)cred.uid);
		c->clients[c->nr_clients++] = cl;
	}
}

static void *ctl_thread(void *arg)
{
	struct fdr_ctl *c = arg;
	bool stop = false;

	while (!stop)
		serve_ready(c, -1, &stop);
	while (c->nr_clients)
		client_close(c, c->nr_clients - 1);
	return NULL;
}

/* ---- Start and stop ---------------------------------------------------------- */

struct fdr_ctl *fdr_ctl_start(const char *path, char *err, size_t errlen)
{
	struct fdr_ctl *c;
	char busy[sizeof(((struct sockaddr_un *)0)->sun_path) + 64];
	sigset_t all, old;
	int rc;

	if (!path || !*path) {
		snprintf(err, errlen, "no control socket path");
		return NULL;
	}
	if (strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		snprintf(err, errlen, "control socket path too long (at most %zu bytes): %s",
			 sizeof(((struct sockaddr_un *)0)->sun_path) - 1, path);
		return NULL;
	}
	snprintf(busy, sizeof(busy), "another drive is already serving %s (use --ctl PATH or stop it)",
		 path);
	c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(c->path, sizeof(c->path), "%s", path);
	c->ls.fd = c->wakefd = -1;

	if (fdr_usock_listen(&c->ls, path, 0755, 16, "ctl", busy, err, errlen))
		goto fail;
	c->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (c->wakefd < 0) {
		snprintf(err, errlen, "eventfd: %s", strerror(errno));
		goto fail;
	}
	/* Signals belong to the main thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(&c->thread, NULL, ctl_thread, c);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		snprintf(err, errlen, "cannot start the control thread: %s", strerror(rc));
		goto fail;
	}
	pthread_setname_np(c->thread, "fdr-ctl");
	fdr_info("control socket on %s", path);
	return c;
fail:
	if (c->ls.fd >= 0)
		fdr_usock_close(&c->ls, path);
	if (c->wakefd >= 0)
		close(c->wakefd);
	free(c);
	return NULL;
}

void fdr_ctl_stop(struct fdr_ctl *c)
{
	uint64_t one = 1;

	if (!c)
		return;
	while (write(c->wakefd, &one, sizeof(one)) < 0 && errno == EINTR)
		;
	pthread_join(c->thread, NULL);
	fdr_usock_close(&c->ls, c->path);
	close(c->wakefd);
	free(c);
}

const char *fdr_ctl_path(const struct fdr_ctl *c)
{
	return c->path;
}

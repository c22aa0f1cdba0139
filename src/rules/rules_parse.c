/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The rule grammar (docs/rules.md): comma-separated items, each "key" or
 * "key=value".  Every error names the column (1-based) of the item or value
 * at fault and says what was expected there.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <frankendrive/names.h>
#include <frankendrive/nvme.h>

#include "rules_internal.h"

#define VAL_MAX 256

enum key {
	K_NAME,
	K_TAP,
	K_OPC,
	K_SET,
	K_NS,
	K_QID,
	K_CTRL,
	K_LBA,
	K_HOST,
	K_SUBSYS,
	K_AFTER,
	K_EVERY,
	K_PROB,
	K_SEED,
	K_TIMES,
	K_WINDOW,
	K_WHEN,
	K_SCOPE,
	K_ACTION, /* the action items below share one slot */
	K_NR
};

/* Action items: bare words or key=value. */
enum val_rule { VAL_NONE, VAL_REQUIRED, VAL_OPTIONAL };

static const struct {
	const char *word;
	enum rule_action act;
	enum val_rule val;
} actions[] = {
	{"status", RULE_ACT_STATUS, VAL_REQUIRED},
	{"success-no-write", RULE_ACT_SUCCESS_NO_WRITE, VAL_NONE},
	{"delay", RULE_ACT_DELAY, VAL_REQUIRED},
	{"drop", RULE_ACT_DROP, VAL_NONE},
	{"corrupt", RULE_ACT_CORRUPT, VAL_OPTIONAL},
	{"aen", RULE_ACT_AEN, VAL_REQUIRED},
	{"cfs", RULE_ACT_CFS, VAL_NONE},
	{"none", RULE_ACT_NONE, VAL_NONE},
};

static const char *const key_names[K_NR] = {
	[K_NAME] = "name",   [K_TAP] = "tap",     [K_OPC] = "opc",     [K_SET] = "set",
	[K_NS] = "ns",       [K_QID] = "qid",     [K_CTRL] = "ctrl",   [K_LBA] = "lba",
	[K_HOST] = "host",   [K_SUBSYS] = "subsys", [K_AFTER] = "after", [K_EVERY] = "every",
	[K_PROB] = "prob",   [K_SEED] = "seed",   [K_TIMES] = "times", [K_WINDOW] = "window",
	[K_WHEN] = "when",   [K_SCOPE] = "scope", [K_ACTION] = "action",
};

#define EXPECT_KEYS                                                                    \
	"name, tap, opc, set, ns, qid, ctrl, lba, host, subsys, after, every, prob, seed, " \
	"times, window, when, scope, or an action: status=, success-no-write, delay=, "     \
	"drop, corrupt, aen=, cfs, none"
#define EXPECT_ACTION \
	"status=SCT/SC, success-no-write, delay=TIME, drop, corrupt[=N], aen=EVENT, cfs or none"

struct parser {
	const char *text;
	struct rule_spec *s;
	char *err;
	size_t errlen;
	unsigned col[K_NR];          /* where each key was given; 0 if not */
	char action_word[24];        /* for messages: "status=" */
	/* opc= */
	unsigned nr_opc;
	struct {
		uint8_t opc;
		int set;    /* 1 admin, 0 I/O, -1 not said (a bare number) */
		int fctype; /* -1: any */
	} opcs[RULE_MAX_OPCS];
	char opc_text[VAL_MAX];
	/* The command set, once something chose it. */
	int set;
	unsigned set_col;
	char set_why[VAL_MAX + 8];
	bool tap_given;
	bool corrupt_random;
	char qid_what[VAL_MAX + 8];
	unsigned qid_col;
	bool has_connect; /* opc= names Connect */
};

static int perr(struct parser *p, unsigned col, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int perr(struct parser *p, unsigned col, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!p->err || !p->errlen)
		return -1;
	n = snprintf(p->err, p->errlen, "column %u: ", col);
	if (n < 0 || (size_t)n >= p->errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

/* ---- Value parsers ---------------------------------------------------------- */

/* Decimal, or hexadecimal with 0x; the whole string. */
static bool parse_u64(const char *v, uint64_t *out)
{
	char *end;
	unsigned long long x;

	if (!isdigit((unsigned char)v[0]))
		return false;
	errno = 0;
	if (v[0] == '0' && (v[1] == 'x' || v[1] == 'X'))
		x = strtoull(v + 2, &end, 16);
	else
		x = strtoull(v, &end, 10);
	if (errno || *end || end == v || (v[0] == '0' && (v[1] == 'x' || v[1] == 'X') && end == v + 2))
		return false;
	*out = x;
	return true;
}

static int parse_uint(struct parser *p, unsigned col, const char *key, const char *v,
		      uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t x;

	if (!parse_u64(v, &x))
		return perr(p, col, "%s=%s: expected a whole number (decimal, or hex with 0x)", key,
			    v);
	if (x < min || x > max)
		return perr(p, col, "%s=%s: out of range; expected %llu to %llu", key, v,
			    (unsigned long long)min, (unsigned long long)max);
	*out = x;
	return 0;
}

/* "10ms", "2s", "1.5s", "500us", "100ns"; without a unit, default_unit_ns
 * applies (0: a unit is required). */
static bool parse_duration(const char *v, uint64_t default_unit_ns, uint64_t *out)
{
	static const struct {
		const char *u;
		uint64_t ns;
	} units[] = {{"ns", 1}, {"us", 1000}, {"ms", 1000000}, {"s", 1000000000ull},
		     {"min", 60000000000ull}};
	char *end;
	double x;
	uint64_t unit = default_unit_ns;

	if (!isdigit((unsigned char)v[0]) && v[0] != '.')
		return false;
	errno = 0;
	x = strtod(v, &end);
	if (errno || end == v || !isfinite(x) || x < 0)
		return false;
	if (*end) {
		unit = 0;
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (strcmp(end, units[i].u) == 0)
				unit = units[i].ns;
	}
	if (!unit)
		return false;
	x *= (double)unit;
	if (x > 86400e9 * 365) /* a year: anything longer is a typo */
		return false;
	*out = (uint64_t)llround(x);
	return true;
}

/* Bounded copy; callers checked the length already. */
static void copy_str(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);

	if (n >= size)
		n = size - 1;
	memcpy(dst, src, n);
	dst[n] = 0;
}

static bool valid_name(const char *v)
{
	if (!isalpha((unsigned char)v[0]))
		return false;
	for (const char *c = v; *c; c++)
		if (!isalnum((unsigned char)*c) && *c != '_' && *c != '-' && *c != '.')
			return false;
	return strlen(v) < RULE_NAME_MAX;
}

/* ---- The command set --------------------------------------------------------- */

static int claim_set(struct parser *p, bool admin, unsigned col, const char *why)
{
	if (p->set < 0) {
		p->set = admin;
		p->set_col = col;
		snprintf(p->set_why, sizeof(p->set_why), "%s", why);
		return 0;
	}
	if (p->set == (int)admin)
		return 0;
	return perr(p, col, "%s is for %s commands, but %s at column %u is for %s commands", why,
		    admin ? "admin" : "I/O", p->set_why, p->set_col, admin ? "I/O" : "admin");
}

/* ---- Status ---------------------------------------------------------------------- */

static const struct {
	const char *name;
	uint8_t sct, sc;
} status_names[] = {
	{"success", NVME_SCT_GENERIC, NVME_SC_SUCCESS},
	{"invalid-opcode", NVME_SCT_GENERIC, NVME_SC_INVALID_OPCODE},
	{"invalid-field", NVME_SCT_GENERIC, NVME_SC_INVALID_FIELD},
	{"data-transfer-error", NVME_SCT_GENERIC, NVME_SC_DATA_TRANSFER_ERROR},
	{"power-loss", NVME_SCT_GENERIC, NVME_SC_ABORTED_POWER_LOSS},
	{"internal", NVME_SCT_GENERIC, NVME_SC_INTERNAL},
	{"aborted", NVME_SCT_GENERIC, NVME_SC_ABORT_REQUESTED},
	{"sq-deleted", NVME_SCT_GENERIC, NVME_SC_ABORTED_SQ_DELETION},
	{"invalid-ns", NVME_SCT_GENERIC, NVME_SC_INVALID_NAMESPACE_OR_FORMAT},
	{"sequence-error", NVME_SCT_GENERIC, NVME_SC_COMMAND_SEQUENCE_ERROR},
	{"sanitize-in-progress", NVME_SCT_GENERIC, NVME_SC_SANITIZE_IN_PROGRESS},
	{"write-protected", NVME_SCT_GENERIC, NVME_SC_NS_WRITE_PROTECTED},
	{"interrupted", NVME_SCT_GENERIC, NVME_SC_COMMAND_INTERRUPTED},
	{"transient-transport", NVME_SCT_GENERIC, NVME_SC_TRANSIENT_TRANSPORT_ERROR},
	{"lba-out-of-range", NVME_SCT_GENERIC, NVME_SC_LBA_OUT_OF_RANGE},
	{"capacity-exceeded", NVME_SCT_GENERIC, NVME_SC_CAPACITY_EXCEEDED},
	{"ns-not-ready", NVME_SCT_GENERIC, NVME_SC_NS_NOT_READY},
	{"reservation-conflict", NVME_SCT_GENERIC, NVME_SC_RESERVATION_CONFLICT},
	{"format-in-progress", NVME_SCT_GENERIC, NVME_SC_FORMAT_IN_PROGRESS},
	{"conflicting-attributes", NVME_SCT_COMMAND_SPECIFIC, NVME_SC_CONFLICTING_ATTRIBUTES},
	{"invalid-pi", NVME_SCT_COMMAND_SPECIFIC, NVME_SC_INVALID_PROTECTION_INFO},
	{"write-to-ro", NVME_SCT_COMMAND_SPECIFIC, NVME_SC_ATTEMPTED_WRITE_TO_RO_RANGE},
	{"write-fault", NVME_SCT_MEDIA_ERROR, NVME_SC_WRITE_FAULT},
	{"media", NVME_SCT_MEDIA_ERROR, NVME_SC_UNRECOVERED_READ_ERROR},
	{"read-error", NVME_SCT_MEDIA_ERROR, NVME_SC_UNRECOVERED_READ_ERROR},
	{"guard-check", NVME_SCT_MEDIA_ERROR, NVME_SC_GUARD_CHECK_ERROR},
	{"apptag-check", NVME_SCT_MEDIA_ERROR, NVME_SC_APPLICATION_TAG_CHECK_ERROR},
	{"reftag-check", NVME_SCT_MEDIA_ERROR, NVME_SC_REFERENCE_TAG_CHECK_ERROR},
	{"compare-failure", NVME_SCT_MEDIA_ERROR, NVME_SC_COMPARE_FAILURE},
	{"access-denied", NVME_SCT_MEDIA_ERROR, NVME_SC_ACCESS_DENIED},
	{"unwritten", NVME_SCT_MEDIA_ERROR, NVME_SC_DEALLOCATED_OR_UNWRITTEN_BLOCK},
	{"path-error", NVME_SCT_PATH, NVME_SC_INTERNAL_PATH_ERROR},
	{"ana-inaccessible", NVME_SCT_PATH, NVME_SC_ASYMMETRIC_ACCESS_INACCESSIBLE},
	{"ana-transition", NVME_SCT_PATH, NVME_SC_ASYMMETRIC_ACCESS_TRANSITION},
};

/* SCT/SC[/dnr][/more][/crd=N] or NAME[/dnr]... */
static int parse_status(struct parser *p, unsigned col, const char *v)
{
	char buf[VAL_MAX], *parts[8], *save = NULL;
	unsigned n = 0, i = 0;
	uint64_t sct = 0, sc = 0;
	uint16_t st;
	bool named = false;

	if (v[0] == '/' || v[strlen(v) - 1] == '/' || strstr(v, "//"))
		return perr(p, col, "status=%s: an empty part between '/'s; expected "
				    "SCT/SC[/dnr], e.g. status=1/0x82/dnr",
			    v);
	snprintf(buf, sizeof(buf), "%s", v);
	for (char *t = strtok_r(buf, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
		if (n == 8)
			return perr(p, col, "status=%s: too many parts; expected "
					    "SCT/SC[/dnr][/more][/crd=N]",
				    v);
		parts[n++] = t;
	}
	if (n == 0)
		return perr(p, col, "status=: expected SCT/SC (e.g. 1/0x82) or a status name");
	for (size_t k = 0; k < sizeof(status_names) / sizeof(status_names[0]); k++) {
		if (strcasecmp(parts[0], status_names[k].name) == 0) {
			sct = status_names[k].sct;
			sc = status_names[k].sc;
			named = true;
			i = 1;
			break;
		}
	}
	if (!named) {
		if (!parse_u64(parts[0], &sct))
			return perr(p, col,
				    "status=%s: \"%s\" is neither a status code type nor a status "
				    "name; expected SCT/SC[/dnr] (e.g. status=1/0x82/dnr) or a name "
				    "such as write-to-ro, media, write-fault, internal, "
				    "lba-out-of-range, invalid-field, aborted (all in docs/rules.md)",
				    v, parts[0]);
		if (sct > 7)
			return perr(p, col, "status=%s: SCT %s is out of range; expected 0-7", v,
				    parts[0]);
		if (n < 2)
			return perr(p, col, "status=%s: expected SCT/SC, e.g. status=%s/0x82", v,
				    parts[0]);
		if (!parse_u64(parts[1], &sc))
			return perr(p, col,
				    "status=%s: SC \"%s\" is not a number; expected 0-255 (decimal, "
				    "or hex with 0x)",
				    v, parts[1]);
		if (sc > 0xff)
			return perr(p, col, "status=%s: SC %s is out of range; expected 0-255 (0xff)",
				    v, parts[1]);
		i = 2;
	}
	st = NVME_STATUS(sct, sc);
	for (; i < n; i++) {
		uint64_t crd;

		if (strcasecmp(parts[i], "dnr") == 0)
			st |= NVME_STATUS_DNR;
		else if (strcasecmp(parts[i], "more") == 0)
			st |= NVME_STATUS_MORE;
		else if (strncasecmp(parts[i], "crd=", 4) == 0 && parse_u64(parts[i] + 4, &crd) &&
			 crd >= 1 && crd <= 3)
			st |= (uint16_t)(crd << 11);
		else
			return perr(p, col,
				    "status=%s: unknown flag \"%s\"; expected dnr, more or crd=1..3", v,
				    parts[i]);
	}
	p->s->status = st;
	snprintf(p->s->action_desc, sizeof(p->s->action_desc), "status %xh/%02xh%s%s (%s)",
		 NVME_STATUS_SCT(st), NVME_STATUS_SC(st), (st & NVME_STATUS_DNR) ? " dnr" : "",
		 (st & NVME_STATUS_MORE) ? " more" : "", nvme_status_name(st));
	return 0;
}

/* ---- Asynchronous events ------------------------------------------------------------ */

static const struct {
	const char *name;
	uint8_t type, info, lid, crit;
	bool ns_changed;
} aen_names[] = {
	{"smart:reliability", NVME_AER_TYPE_SMART, NVME_AER_SMART_RELIABILITY, NVME_LOG_SMART,
	 NVME_SMART_CRIT_RELIABILITY, false},
	{"smart:ro", NVME_AER_TYPE_SMART, NVME_AER_SMART_RELIABILITY, NVME_LOG_SMART,
	 NVME_SMART_CRIT_READ_ONLY, false},
	{"smart:read-only", NVME_AER_TYPE_SMART, NVME_AER_SMART_RELIABILITY, NVME_LOG_SMART,
	 NVME_SMART_CRIT_READ_ONLY, false},
	{"smart:volatile-backup", NVME_AER_TYPE_SMART, NVME_AER_SMART_RELIABILITY,
	 NVME_LOG_SMART, NVME_SMART_CRIT_VOLATILE_BACKUP, false},
	{"smart:temperature", NVME_AER_TYPE_SMART, NVME_AER_SMART_TEMP_THRESH, NVME_LOG_SMART,
	 NVME_SMART_CRIT_TEMPERATURE, false},
	{"smart:spare", NVME_AER_TYPE_SMART, NVME_AER_SMART_SPARE_THRESH, NVME_LOG_SMART,
	 NVME_SMART_CRIT_SPARE, false},
	{"notice:ns-changed", NVME_AER_TYPE_NOTICE, NVME_AER_NOTICE_NS_CHANGED,
	 NVME_LOG_CHANGED_NS, 0, true},
	{"notice:fw-activation", NVME_AER_TYPE_NOTICE, NVME_AER_NOTICE_FW_ACT_STARTING,
	 NVME_LOG_FW_SLOT, 0, false},
	{"error:persistent", NVME_AER_TYPE_ERROR, NVME_AER_ERR_PERSISTENT_INTERNAL, NVME_LOG_ERROR,
	 0, false},
	{"error:transient", NVME_AER_TYPE_ERROR, NVME_AER_ERR_TRANSIENT_INTERNAL, NVME_LOG_ERROR,
	 0, false},
	{"error:diag-failure", NVME_AER_TYPE_ERROR, NVME_AER_ERR_DIAG_FAILURE, NVME_LOG_ERROR, 0,
	 false},
	{"error:fw-image-load", NVME_AER_TYPE_ERROR, NVME_AER_ERR_FW_IMAGE_LOAD, NVME_LOG_ERROR, 0,
	 false},
};

static int parse_aen(struct parser *p, unsigned col, const char *v)
{
	struct rule_spec *s = p->s;
	char buf[VAL_MAX], *a, *b, *c;
	uint64_t type, info, lid;

	for (size_t i = 0; i < sizeof(aen_names) / sizeof(aen_names[0]); i++) {
		if (strcasecmp(v, aen_names[i].name) == 0) {
			s->aen_type = aen_names[i].type;
			s->aen_info = aen_names[i].info;
			s->aen_lid = aen_names[i].lid;
			s->aen_crit = aen_names[i].crit;
			s->aen_ns_changed = aen_names[i].ns_changed;
			snprintf(s->action_desc, sizeof(s->action_desc), "aen %s",
				 aen_names[i].name);
			return 0;
		}
	}
	/* TYPE:INFO:LID in numbers */
	snprintf(buf, sizeof(buf), "%s", v);
	a = buf;
	b = strchr(a, ':');
	c = b ? strchr(b + 1, ':') : NULL;
	if (b && c) {
		*b++ = 0;
		*c++ = 0;
		if (parse_u64(a, &type) && parse_u64(b, &info) && parse_u64(c, &lid)) {
			if (type > 7)
				return perr(p, col, "aen=%s: event type %s is out of range; expected 0-7",
					    v, a);
			if (info > 0xff || lid > 0xff)
				return perr(p, col,
					    "aen=%s: event information and log page are 0-255", v);
			s->aen_type = (uint8_t)type;
			s->aen_info = (uint8_t)info;
			s->aen_lid = (uint8_t)lid;
			snprintf(s->action_desc, sizeof(s->action_desc),
				 "aen type %u info %02xh log %02xh", (unsigned)type, (unsigned)info,
				 (unsigned)lid);
			return 0;
		}
	}
	{
		char list[512];
		size_t n = 0;

		list[0] = 0;
		for (size_t i = 0; i < sizeof(aen_names) / sizeof(aen_names[0]); i++) {
			int w = snprintf(list + n, sizeof(list) - n, "%s%s", i ? ", " : "",
					 aen_names[i].name);
			if (w < 0 || (size_t)w >= sizeof(list) - n)
				break;
			n += (size_t)w;
		}
		return perr(p, col, "aen=%s: unknown event; expected one of %s, or TYPE:INFO:LOG "
				    "in numbers (e.g. aen=1:0:2)",
			    v, list);
	}
}

/* ---- corrupt=N[:MASK][@OFFSET] ------------------------------------------------------- */

static int parse_corrupt(struct parser *p, unsigned col, const char *v)
{
	struct rule_spec *s = p->s;
	char buf[VAL_MAX], *at, *colon;
	uint64_t n = 1, mask = 0xff, off = 0;

	s->corrupt_n = 1;
	s->corrupt_mask = 0xff;
	if (v) {
		snprintf(buf, sizeof(buf), "%s", v);
		at = strchr(buf, '@');
		if (at) {
			*at++ = 0;
			if (!parse_u64(at, &off) || off > UINT32_MAX)
				return perr(p, col,
					    "corrupt=%s: \"@%s\" is not a byte offset; expected "
					    "corrupt=N[:MASK][@OFFSET], e.g. corrupt=4:0x01@512",
					    v, at);
			s->corrupt_at = true;
			s->corrupt_off = (uint32_t)off;
		}
		colon = strchr(buf, ':');
		if (colon) {
			*colon++ = 0;
			if (!parse_u64(colon, &mask) || mask == 0 || mask > 0xff)
				return perr(p, col,
					    "corrupt=%s: mask \"%s\" must be 1-255 (0x01-0xff): the "
					    "bits flipped in each byte",
					    v, colon);
		}
		if (buf[0] && (!parse_u64(buf, &n) || n == 0 || n > FDR_MAX_XFER * 2))
			return perr(p, col,
				    "corrupt=%s: \"%s\" is not a byte count; expected "
				    "corrupt=N[:MASK][@OFFSET] with N from 1 to %u",
				    v, buf, FDR_MAX_XFER * 2);
		s->corrupt_n = (uint32_t)n;
		s->corrupt_mask = (uint8_t)mask;
	}
	p->corrupt_random = !s->corrupt_at;
	if (s->corrupt_at)
		snprintf(s->action_desc, sizeof(s->action_desc), "corrupt %u byte(s) ^%02xh at %u",
			 s->corrupt_n, s->corrupt_mask, s->corrupt_off);
	else
		snprintf(s->action_desc, sizeof(s->action_desc), "corrupt %u byte(s) ^%02xh",
			 s->corrupt_n, s->corrupt_mask);
	return 0;
}

/* ---- opc=A|B|... ------------------------------------------------------------------- */

static int parse_opc(struct parser *p, unsigned col, const char *v)
{
	char buf[VAL_MAX], *save = NULL;
	unsigned off = 0;

	if (v[0] == '|' || v[strlen(v) - 1] == '|' || strstr(v, "||"))
		return perr(p, col, "opc=%s: an empty opcode between '|'s; expected OPC|OPC...", v);
	snprintf(buf, sizeof(buf), "%s", v);
	snprintf(p->opc_text, sizeof(p->opc_text), "opc=%s", v);
	for (char *t = strtok_r(buf, "|", &save); t; t = strtok_r(NULL, "|", &save)) {
		const char *bare = t;
		bool admin = false, prefixed = false;
		uint8_t opc, fct;
		int rc;
		char what[VAL_MAX + 8];

		off = (unsigned)(t - buf);
		if (strncasecmp(t, "admin:", 6) == 0 || strncasecmp(t, "io:", 3) == 0) {
			prefixed = true;
			bare = strchr(t, ':') + 1;
		}
		rc = nvme_opc_parse(t, &admin, &opc);
		if (rc < 0)
			return perr(p, col + off,
				    "opc=%s: unknown opcode \"%s\"; expected a command name (read, "
				    "write, flush, write-zeroes, dsm, identify, get-log-page, "
				    "set-features, ...), a number 0-255 (0x80, 80h), either with "
				    "admin: or io: before it, several joined by |",
				    v, t);
		if (p->nr_opc == RULE_MAX_OPCS)
			return perr(p, col + off, "opc=%s: at most %u opcodes in one rule", v,
				    RULE_MAX_OPCS);
		p->opcs[p->nr_opc].opc = opc;
		p->opcs[p->nr_opc].fctype = -1;
		p->opcs[p->nr_opc].set = rc == 0 ? admin : -1;
		if (opc == NVME_ADM_FABRICS) {
			/* Fabrics commands travel on either queue: the name alone
			 * does not choose the set.  A command type narrows it. */
			if (!prefixed)
				p->opcs[p->nr_opc].set = -1;
			if (!isdigit((unsigned char)bare[0]) && strcasecmp(bare, "fabrics") != 0 &&
			    nvme_fabrics_type_parse(bare, &fct) == 0) {
				p->opcs[p->nr_opc].fctype = fct;
				/* Properties exist on the admin queue only; a
				 * Connect passes the admin taps whatever queue
				 * it connects (that queue has no ID before). */
				if (!prefixed && (fct == NVME_FCTYPE_PROPERTY_GET ||
						  fct == NVME_FCTYPE_PROPERTY_SET))
					p->opcs[p->nr_opc].set = 1;
				if (fct == NVME_FCTYPE_CONNECT) {
					p->opcs[p->nr_opc].set = -1;
					p->has_connect = true;
				}
			}
		}
		if (p->opcs[p->nr_opc].set >= 0) {
			snprintf(what, sizeof(what), "opc=%s", t);
			if (claim_set(p, p->opcs[p->nr_opc].set, col + off, what))
				return -1;
		}
		p->nr_opc++;
	}
	if (p->nr_opc == 0)
		return perr(p, col, "opc=: expected an opcode name or number");
	return 0;
}

/* ---- tap= ------------------------------------------------------------------------- */

static const char *const stage_names[] = {"fetch", "decode", "execute", "writeback"};

static int parse_tap(struct parser *p, unsigned col, const char *v)
{
	int id;
	char what[VAL_MAX + 8];

	for (int st = 0; st < 4; st++) {
		if (strcasecmp(v, stage_names[st]) == 0) {
			p->s->stage = (enum fdr_stage)st;
			p->tap_given = true;
			return 0;
		}
	}
	id = fdr_tap_lookup(v);
	if (id < 0) {
		return perr(p, col, "tap=%s: no such tap; expected nvme:io:STAGE, "
				    "nvme:admin:STAGE or just STAGE, with STAGE one of fetch, "
				    "decode, execute, writeback",
			    v);
	}
	if (id > FDR_TAP_IO_WRITEBACK)
		return perr(p, col, "tap=%s: rules attach to command taps only: nvme:io:STAGE or "
				    "nvme:admin:STAGE (STAGE: fetch, decode, execute, writeback)",
			    v);
	p->s->stage = (enum fdr_stage)(id >= FDR_TAP_IO_FETCH ? id - FDR_TAP_IO_FETCH : id);
	p->tap_given = true;
	snprintf(what, sizeof(what), "tap=%s", v);
	return claim_set(p, id < FDR_TAP_IO_FETCH, col, what);
}

/* ---- Items -------------------------------------------------------------------------- */

static int item(struct parser *p, unsigned col, const char *key, const char *v, unsigned vcol)
{
	struct rule_spec *s = p->s;
	uint64_t x;
	int k;

	for (k = 0; k < K_NR; k++)
		if (strcasecmp(key, key_names[k]) == 0)
			break;
	if (k == K_ACTION) {
		/* action=WORD: the same as the bare word. */
		if (!v || !*v)
			return perr(p, vcol, "action=: expected one of %s", EXPECT_ACTION);
		for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
			if (strcasecmp(v, actions[i].word) == 0) {
				if (actions[i].val == VAL_REQUIRED)
					return perr(p, vcol, "action=%s: %s needs a value: %s=...",
						    v, v, v);
				return item(p, vcol, v, NULL, vcol);
			}
		return perr(p, vcol, "action=%s: unknown action; expected one of %s", v,
			    EXPECT_ACTION);
	}
	if (k == K_NR) {
		size_t i;

		for (i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
			if (strcasecmp(key, actions[i].word) == 0)
				break;
		if (i == sizeof(actions) / sizeof(actions[0]))
			return perr(p, col, "unknown key \"%s\"; expected one of " EXPECT_KEYS,
				    key);
		if (p->col[K_ACTION])
			return perr(p, col,
				    "a second action (%s); a rule has exactly one, and %s at column "
				    "%u is already it (to combine, add a second rule)",
				    key, p->action_word, p->col[K_ACTION]);
		if (actions[i].val == VAL_NONE && v)
			return perr(p, vcol, "%s takes no value (remove \"=%s\")", actions[i].word,
				    v);
		if (actions[i].val == VAL_REQUIRED && (!v || !*v)) {
			const char *how = "aen=EVENT, e.g. aen=smart:ro";

			if (actions[i].act == RULE_ACT_STATUS)
				how = "status=SCT/SC[/dnr] or a name, e.g. status=1/0x82/dnr";
			else if (actions[i].act == RULE_ACT_DELAY)
				how = "delay=TIME, e.g. delay=10ms";
			return perr(p, col, "%s needs a value: %s", actions[i].word, how);
		}
		p->col[K_ACTION] = col;
		snprintf(p->action_word, sizeof(p->action_word), "%s%s", actions[i].word,
			 actions[i].val == VAL_REQUIRED ? "=" : "");
		s->action = actions[i].act;
		snprintf(s->action_desc, sizeof(s->action_desc), "%s", actions[i].word);
		switch (s->action) {
		case RULE_ACT_STATUS:
			return parse_status(p, vcol, v);
		case RULE_ACT_DELAY:
			if (!parse_duration(v, 0, &s->delay_ns) || s->delay_ns == 0)
				return perr(p, vcol,
					    "delay=%s: expected a time above zero with its unit: ns, "
					    "us, ms, s or min (e.g. delay=10ms, delay=1.5s)",
					    v);
			snprintf(s->action_desc, sizeof(s->action_desc), "delay %s", v);
			return 0;
		case RULE_ACT_CORRUPT:
			return parse_corrupt(p, vcol, v);
		case RULE_ACT_AEN:
			return parse_aen(p, vcol, v);
		default:
			return 0;
		}
	}
	if (p->col[k])
		return perr(p, col, "%s= given twice (first at column %u)", key_names[k], p->col[k]);
	p->col[k] = col;
	if (!v || !*v)
		return perr(p, v ? vcol : col, "%s needs a value: %s=...", key_names[k],
			    key_names[k]);

	switch ((enum key)k) {
	case K_NAME:
		if (!valid_name(v))
			return perr(p, vcol,
				    "name=%s: expected a letter, then letters, digits, '_', '-' or "
				    "'.', at most %d characters",
				    v, RULE_NAME_MAX - 1);
		copy_str(s->name, sizeof(s->name), v);
		s->name_col = vcol;
		return 0;
	case K_TAP:
		return parse_tap(p, vcol, v);
	case K_OPC:
		s->opc_any = false;
		return parse_opc(p, vcol, v);
	case K_SET: {
		char what[VAL_MAX + 8];

		if (strcasecmp(v, "admin") != 0 && strcasecmp(v, "io") != 0)
			return perr(p, vcol, "set=%s: expected admin or io", v);
		snprintf(what, sizeof(what), "set=%s", v);
		return claim_set(p, strcasecmp(v, "admin") == 0, vcol, what);
	}
	case K_NS:
		if (parse_uint(p, vcol, "ns", v, 0, UINT32_MAX, &x))
			return -1;
		s->has_ns = true;
		s->nsid = (uint32_t)x;
		return 0;
	case K_QID: {
		if (parse_uint(p, vcol, "qid", v, 0, UINT16_MAX, &x))
			return -1;
		s->has_qid = true;
		s->qid = (uint16_t)x;
		/* The set it implies is claimed in finish(): for Connect,
		 * qid= is the queue being connected, on the admin taps. */
		snprintf(p->qid_what, sizeof(p->qid_what), "qid=%s", v);
		p->qid_col = vcol;
		return 0;
	}
	case K_CTRL:
		if (parse_uint(p, vcol, "ctrl", v, 0, UINT16_MAX, &x))
			return -1;
		s->has_ctrl = true;
		s->cntlid = (uint16_t)x;
		return 0;
	case K_LBA: {
		char buf[VAL_MAX], *dash;
		uint64_t a, b;

		snprintf(buf, sizeof(buf), "%s", v);
		dash = strchr(buf, '-');
		if (dash)
			*dash++ = 0;
		if (!parse_u64(buf, &a) || (dash && *dash && !parse_u64(dash, &b)))
			return perr(p, vcol,
				    "lba=%s: expected an LBA or a range FIRST-LAST (inclusive), e.g. "
				    "lba=100-199; FIRST- means to the end",
				    v);
		if (!dash)
			b = a;
		else if (!*dash)
			b = UINT64_MAX;
		if (b < a)
			return perr(p, vcol, "lba=%s: the range is backwards (%llu > %llu)", v,
				    (unsigned long long)a, (unsigned long long)b);
		s->has_lba = true;
		s->lba_first = a;
		s->lba_last = b;
		return claim_set(p, false, vcol, "lba=");
	}
	case K_HOST:
	case K_SUBSYS:
		if (strlen(v) >= FDR_NQN_SIZE)
			return perr(p, vcol, "%s=: an NQN has at most %d characters", key_names[k],
				    FDR_NQN_SIZE - 1);
		copy_str(k == K_HOST ? s->host : s->subsys, FDR_NQN_SIZE, v);
		return 0;
	case K_AFTER:
		return parse_uint(p, vcol, "after", v, 0, UINT64_MAX / 2, &s->after);
	case K_EVERY:
		return parse_uint(p, vcol, "every", v, 1, UINT64_MAX / 2, &s->every);
	case K_TIMES:
		return parse_uint(p, vcol, "times", v, 1, UINT64_MAX / 2, &s->times);
	case K_SEED:
		s->has_seed = true;
		return parse_uint(p, vcol, "seed", v, 0, UINT64_MAX, &s->seed);
	case K_PROB: {
		char *end;
		double d;

		errno = 0;
		d = strtod(v, &end);
		if (end != v && *end == '%' && end[1] == 0) {
			d /= 100;
			end++;
		}
		if (errno || end == v || *end || !isfinite(d) || !isdigit((unsigned char)v[0]))
			return perr(p, vcol,
				    "prob=%s: expected a probability from 0 to 1 (e.g. prob=0.01) "
				    "or a percentage (prob=1%%)",
				    v);
		if (d < 0 || d > 1)
			return perr(p, vcol, "prob=%s: out of range; expected 0 to 1 (0%% to 100%%)",
				    v);
		s->has_prob = true;
		s->prob = d;
		return 0;
	}
	case K_WINDOW: {
		char buf[VAL_MAX], *colon;

		snprintf(buf, sizeof(buf), "%s", v);
		colon = strchr(buf, ':');
		if (!colon)
			return perr(p, vcol,
				    "window=%s: expected UP:DOWN, the time healthy then the time "
				    "faulty, cycling (seconds, or with a unit), e.g. window=10:2",
				    v);
		*colon++ = 0;
		if (!parse_duration(buf, 1000000000ull, &s->win_up_ns))
			return perr(p, vcol, "window=%s: UP \"%s\" is not a time; expected seconds "
					     "or a time with its unit (ns, us, ms, s, min)",
				    v, buf);
		if (!parse_duration(colon, 1000000000ull, &s->win_down_ns))
			return perr(p, vcol + (unsigned)(colon - buf),
				    "window=%s: DOWN \"%s\" is not a time; expected seconds or a "
				    "time with its unit (ns, us, ms, s, min)",
				    v, colon);
		if (s->win_down_ns == 0)
			return perr(p, vcol + (unsigned)(colon - buf),
				    "window=%s: DOWN must be above zero, or the rule never fires", v);
		s->has_window = true;
		return 0;
	}
	case K_WHEN:
		if (!valid_name(v))
			return perr(p, vcol, "when=%s: expected the name= of another rule", v);
		copy_str(s->when, sizeof(s->when), v);
		s->when_col = vcol;
		return 0;
	case K_SCOPE:
		if (strcasecmp(v, "ctrl") == 0)
			s->scope = RULE_SCOPE_CTRL;
		else if (strcasecmp(v, "subsys") == 0)
			s->scope = RULE_SCOPE_SUBSYS;
		else if (strcasecmp(v, "all") == 0)
			s->scope = RULE_SCOPE_ALL;
		else
			return perr(p, vcol, "scope=%s: expected ctrl, subsys or all", v);
		return 0;
	case K_ACTION:
	case K_NR:
		break;
	}
	return perr(p, col, "internal error: key %s", key);
}

/* "Write", "Identify"; "Fabrics" for 7Fh whatever its type */
static const char *opc_label(bool admin, uint8_t opc)
{
	return opc == NVME_ADM_FABRICS ? "Fabrics" : nvme_opc_name(admin, opc, 0);
}

/* NVMe opcodes say their data direction in bits 1:0. */
static const char *dir_name(unsigned dir)
{
	switch (dir) {
	case NVME_OPC_XFER_TO_CTRL:
		return "sends data to the drive";
	case NVME_OPC_XFER_FROM_CTRL:
		return "reads data from the drive";
	case NVME_OPC_XFER_BIDIR:
		return "moves data both ways";
	default:
		return "moves no data";
	}
}

/* Everything that depends on more than one item. */
static int finish(struct parser *p)
{
	struct rule_spec *s = p->s;
	unsigned end = (unsigned)strlen(p->text) + 1;
	unsigned acol = p->col[K_ACTION];

	if (!acol)
		return perr(p, end, "the rule has no action; expected one of " EXPECT_ACTION);

	/* The command set and its opcodes.  Connect passes the admin taps
	 * (its queue has no ID yet); qid= then means the queue it connects. */
	if (p->has_connect) {
		if (p->set == 0)
			return perr(p, p->set_col,
				    "%s is for I/O commands, but Connect (%s) passes the admin taps "
				    "whatever queue it connects; pick the queue with qid=",
				    p->set_why, p->opc_text);
		if (claim_set(p, true, p->col[K_OPC], p->opc_text))
			return -1;
	} else if (s->has_qid && claim_set(p, s->qid == 0, p->qid_col, p->qid_what)) {
		return -1;
	}
	s->admin = p->set == 1;
	if (p->nr_opc) {
		s->opc_any = false;
		for (unsigned i = 0; i < p->nr_opc; i++) {
			s->opc[p->opcs[i].opc >> 3] |= (uint8_t)(1u << (p->opcs[i].opc & 7));
			if (p->opcs[i].opc == NVME_ADM_FABRICS) {
				if (p->opcs[i].fctype < 0)
					s->fctype_any = true;
				else
					s->fctype[p->opcs[i].fctype >> 3] |=
						(uint8_t)(1u << (p->opcs[i].fctype & 7));
			}
		}
	}
	if (s->has_lba) {
		if (s->admin)
			return perr(p, p->col[K_LBA], "lba= applies to I/O commands, but %s at column "
						      "%u chose admin commands",
				    p->set_why, p->set_col);
		for (unsigned i = 0; i < p->nr_opc; i++)
			if (!nvme_io_opc_has_lba(p->opcs[i].opc))
				return perr(p, p->col[K_LBA],
					    "lba= needs commands with an LBA range (read, write, "
					    "compare, write-zeroes, write-uncorrectable, verify), but "
					    "%s has none",
					    nvme_io_opc_name(p->opcs[i].opc));
	}

	/* The stage */
	if (!p->tap_given) {
		s->stage = FDR_STAGE_DECODE;
		if (s->action == RULE_ACT_CORRUPT) {
			unsigned dir = 0;

			if (!p->nr_opc)
				return perr(p, acol,
					    "corrupt needs opc= (its data direction picks the stage), "
					    "or tap=execute to corrupt data the host sends or "
					    "tap=writeback to corrupt data the host reads");
			for (unsigned i = 0; i < p->nr_opc; i++) {
				unsigned d = p->opcs[i].opc & NVME_OPC_XFER_MASK;
				if (d == NVME_OPC_XFER_NONE)
					return perr(p, acol,
						    "corrupt: %s moves no data, so there is nothing "
						    "to corrupt",
						    opc_label(s->admin, p->opcs[i].opc));
				if (d == NVME_OPC_XFER_BIDIR)
					return perr(p, acol,
						    "corrupt: %s %s; name the stage with "
						    "tap=execute (data to the drive) or tap=writeback "
						    "(data to the host)",
						    opc_label(s->admin, p->opcs[i].opc),
						    dir_name(d));
				if (dir && d != dir)
					return perr(p, acol,
						    "corrupt: %s moves data the other way than %s; "
						    "write two rules",
						    opc_label(s->admin, p->opcs[i].opc),
						    opc_label(s->admin, p->opcs[0].opc));
				dir = d;
			}
			s->stage = dir == NVME_OPC_XFER_TO_CTRL ? FDR_STAGE_EXECUTE
								: FDR_STAGE_WRITEBACK;
		}
	}
	s->tap = (s->admin ? FDR_TAP_ADMIN_FETCH : FDR_TAP_IO_FETCH) + s->stage;

	/* The action at that stage */
	switch (s->action) {
	case RULE_ACT_SUCCESS_NO_WRITE:
		if (s->stage == FDR_STAGE_WRITEBACK)
			return perr(p, p->col[K_TAP],
				    "tap=%s: success-no-write skips the command, but at writeback it "
				    "has already run; use fetch, decode (the default) or execute",
				    fdr_taps[s->tap].name);
		break;
	case RULE_ACT_CORRUPT:
		if (s->stage == FDR_STAGE_FETCH || s->stage == FDR_STAGE_DECODE)
			return perr(p, p->col[K_TAP],
				    "tap=%s: corrupt needs the data, which exists from execute on "
				    "(data the host sends) or at writeback (data the host reads)",
				    fdr_taps[s->tap].name);
		for (unsigned i = 0; i < p->nr_opc; i++) {
			unsigned d = p->opcs[i].opc & NVME_OPC_XFER_MASK;
			bool ok = s->stage == FDR_STAGE_EXECUTE ? (d & NVME_OPC_XFER_TO_CTRL)
								: (d & NVME_OPC_XFER_FROM_CTRL);
			if (!ok)
				return perr(p, p->col[K_TAP],
					    "tap=%s: at %s corrupt changes data the %s, but %s %s%s",
					    fdr_taps[s->tap].name,
					    stage_names[s->stage],
					    s->stage == FDR_STAGE_EXECUTE ? "host sent" : "host reads",
					    opc_label(s->admin, p->opcs[i].opc),
					    dir_name(d),
					    d == NVME_OPC_XFER_NONE ? ""
					    : s->stage == FDR_STAGE_EXECUTE
						    ? " (leave tap= out: reads are corrupted at writeback)"
						    : " (leave tap= out: writes are corrupted at execute)");
		}
		break;
	default:
		break;
	}
	if (p->col[K_SCOPE] && s->action != RULE_ACT_AEN && s->action != RULE_ACT_CFS)
		return perr(p, p->col[K_SCOPE], "scope= applies to aen= and cfs only, not to %s",
			    p->action_word);
	if (!p->col[K_SCOPE])
		s->scope = s->action == RULE_ACT_AEN ? RULE_SCOPE_SUBSYS : RULE_SCOPE_CTRL;
	if (s->has_seed && !s->has_prob && !(s->action == RULE_ACT_CORRUPT && p->corrupt_random))
		return perr(p, p->col[K_SEED],
			    "seed= seeds prob= (and where corrupt= flips bytes), but the rule has "
			    "neither");
	if (s->when[0] && s->name[0] && strcmp(s->when, s->name) == 0)
		return perr(p, s->when_col, "when=%s: a rule cannot wait for itself", s->when);
	return 0;
}

int fdr_rule_parse(const char *text, struct rule_spec *s, char *err, size_t errlen)
{
	struct parser p = {.text = text, .s = s, .err = err, .errlen = errlen, .set = -1};
	size_t len;
	const char *c;

	if (err && errlen)
		err[0] = 0;
	memset(s, 0, sizeof(*s));
	s->opc_any = true;
	s->every = 1;
	if (!text)
		return perr(&p, 1, "no rule");
	len = strlen(text);
	if (len == 0 || strspn(text, " \t") == len)
		return perr(&p, 1, "empty rule; expected key=value items separated by commas, "
				   "e.g. opc=write,after=2,times=1,status=write-to-ro");
	c = text;
	for (;;) {
		const char *end = strchr(c, ',');
		const char *a = c, *b = end ? end : c + strlen(c), *eq;
		char key[32], val[VAL_MAX];
		unsigned col, vcol;

		while (a < b && isspace((unsigned char)*a))
			a++;
		while (b > a && isspace((unsigned char)b[-1]))
			b--;
		col = (unsigned)(a - text) + 1;
		if (a == b)
			return perr(&p, col, "empty item (two commas in a row, or a comma at the "
					     "start or end)");
		eq = memchr(a, '=', (size_t)(b - a));
		{
			const char *ke = eq ? eq : b;
			while (ke > a && isspace((unsigned char)ke[-1]))
				ke--;
			if (ke == a)
				return perr(&p, col, "missing key before '='");
			if ((size_t)(ke - a) >= sizeof(key))
				return perr(&p, col, "unknown key \"%.*s\"; expected one of " EXPECT_KEYS,
					    (int)(ke - a), a);
			memcpy(key, a, (size_t)(ke - a));
			key[ke - a] = 0;
		}
		vcol = col;
		if (eq) {
			const char *va = eq + 1;
			while (va < b && isspace((unsigned char)*va))
				va++;
			vcol = (unsigned)(va - text) + 1;
			if ((size_t)(b - va) >= sizeof(val))
				return perr(&p, vcol, "value too long (at most %zu characters)",
					    sizeof(val) - 1);
			memcpy(val, va, (size_t)(b - va));
			val[b - va] = 0;
		}
		if (item(&p, col, key, eq ? val : NULL, vcol))
			return -1;
		if (!end)
			break;
		c = end + 1;
	}
	return finish(&p);
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * nvmedump filters: a recursive descent parser into a small tree, and its
 * evaluation against one event.  The grammar is in filter.h.
 */
#include "filter.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <frankendrive/names.h>
#include <frankendrive/nvme.h>

#include "format.h"

#define MAX_DEPTH 64
#define WORD_MAX 128

enum node_type {
	N_TRUE,
	N_AND,
	N_OR,
	N_NOT,
	N_QID,
	N_NS,
	N_CTRL,
	N_OPC,
	N_ADMIN,
	N_IO,
	N_STATUS,
	N_LBA,
	N_LATENCY,
	N_KIND,
	N_XPORT,    /* pci [BB:DD.F], tcp */
	N_DOORBELL, /* a PCIe doorbell access */
	N_VECTOR,   /* an MSI-X vector's interrupt or table entry */
};

enum cmp { C_EQ, C_NE, C_LT, C_LE, C_GT, C_GE };

struct nvmedump_filter {
	enum node_type type;
	struct nvmedump_filter *l, *r;
	union {
		uint64_t num; /* qid, ns, ctrl */
		struct {
			bool admin_known, admin, fctype_known;
			uint8_t opc, fctype;
		} opc;
		struct {
			enum cmp cmp; /* C_NE with value 0 for "status" alone */
			uint16_t value, mask;
		} status;
		struct {
			uint64_t a, b;
		} lba;
		struct {
			enum cmp cmp;
			uint64_t ns;
		} lat;
		uint32_t kinds; /* bit (1 << enum fdr_rec_kind) */
		struct {
			uint8_t xport;
			bool any; /* no PCI address given */
			uint16_t bdf;
		} xport;
	} u;
};

/* ---- Lexer ---- */

enum tok_type { T_END, T_WORD, T_LP, T_RP, T_NOT, T_AND, T_OR, T_CMP };

struct tok {
	enum tok_type type;
	size_t pos;
	bool quoted;
	enum cmp cmp;
	char text[WORD_MAX];
};

struct parser {
	const char *s;
	size_t pos;   /* where the lexer continues */
	struct tok t; /* current token */
	struct nvmedump_filter_err *err;
	bool failed;
	int depth;
};

static void __attribute__((format(printf, 3, 4))) fail(struct parser *p, size_t pos, const char *fmt, ...)
{
	va_list ap;

	if (p->failed)
		return;
	p->failed = true;
	if (!p->err)
		return;
	p->err->pos = pos;
	va_start(ap, fmt);
	vsnprintf(p->err->msg, sizeof(p->err->msg), fmt, ap);
	va_end(ap);
}

static bool is_word_char(char c)
{
	return c != '\0' && !isspace((unsigned char)c) && !strchr("()!<>=&|'\"", c);
}

static void next(struct parser *p)
{
	const char *s = p->s;
	size_t i = p->pos;
	struct tok *t = &p->t;

	while (isspace((unsigned char)s[i]))
		i++;
	memset(t, 0, sizeof(*t));
	t->pos = i;
	if (p->failed || s[i] == '\0') {
		t->type = T_END;
		p->pos = i;
		return;
	}
	char c = s[i], d = s[i + 1];

	if (c == '(' || c == ')') {
		t->type = c == '(' ? T_LP : T_RP;
		i++;
	} else if (c == '&' && d == '&') {
		t->type = T_AND;
		i += 2;
	} else if (c == '|' && d == '|') {
		t->type = T_OR;
		i += 2;
	} else if ((c == '=' || c == '!') && d == '=') {
		t->type = T_CMP;
		t->cmp = c == '=' ? C_EQ : C_NE;
		i += 2;
	} else if (c == '!') {
		t->type = T_NOT;
		i++;
	} else if (c == '<' || c == '>') {
		t->type = T_CMP;
		if (d == '=') {
			t->cmp = c == '<' ? C_LE : C_GE;
			i += 2;
		} else {
			t->cmp = c == '<' ? C_LT : C_GT;
			i++;
		}
	} else if (c == '\'' || c == '"') {
		const char *end = strchr(s + i + 1, c);
		size_t n;

		if (!end) {
			fail(p, i, "unterminated quote");
			t->type = T_END;
			return;
		}
		n = (size_t)(end - (s + i + 1));
		if (n >= WORD_MAX) {
			fail(p, i, "word too long");
			t->type = T_END;
			return;
		}
		memcpy(t->text, s + i + 1, n);
		t->type = T_WORD;
		t->quoted = true;
		i += n + 2;
	} else if (is_word_char(c)) {
		size_t n = 0;

		while (is_word_char(s[i + n]))
			n++;
		if (n >= WORD_MAX) {
			fail(p, i, "word too long");
			t->type = T_END;
			return;
		}
		memcpy(t->text, s + i, n);
		t->type = T_WORD;
		i += n;
	} else {
		fail(p, i, "unexpected character '%c'", c);
		t->type = T_END;
		return;
	}
	p->pos = i;
}

static bool is_kw(const struct tok *t, const char *kw)
{
	return t->type == T_WORD && !t->quoted && !strcasecmp(t->text, kw);
}

static const char *tok_desc(const struct tok *t)
{
	switch (t->type) {
	case T_END:
		return "the end";
	case T_LP:
		return "'('";
	case T_RP:
		return "')'";
	case T_NOT:
		return "'!'";
	case T_AND:
		return "'&&'";
	case T_OR:
		return "'||'";
	case T_CMP:
		return "a comparison";
	case T_WORD:
		break;
	}
	return t->text;
}

/* ---- Numbers ---- */

/* Decimal or 0x hex, the whole string, no sign. */
static bool parse_u64(const char *s, uint64_t *out)
{
	int base = 10;
	uint64_t v = 0;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	if (*s == '\0')
		return false;
	for (; *s; s++) {
		unsigned d;

		if (isdigit((unsigned char)*s))
			d = (unsigned)(*s - '0');
		else if (base == 16 && isxdigit((unsigned char)*s))
			d = (unsigned)(tolower((unsigned char)*s) - 'a' + 10);
		else
			return false;
		if (v > (UINT64_MAX - d) / (uint64_t)base)
			return false;
		v = v * (uint64_t)base + d;
	}
	*out = v;
	return true;
}

/* "1.5ms" -> 1500000.  unit may be NULL if s carries it.  */
static bool parse_duration(const char *s, const char *unit, uint64_t *out)
{
	uint64_t ip = 0, fv = 0, fscale = 1, mul;
	size_t i = 0;
	bool digits = false;

	for (; isdigit((unsigned char)s[i]); i++, digits = true) {
		if (ip > (UINT64_MAX - 9) / 10)
			return false;
		ip = ip * 10 + (uint64_t)(s[i] - '0');
	}
	if (s[i] == '.') {
		i++;
		for (; isdigit((unsigned char)s[i]); i++, digits = true) {
			if (fscale < 1000000000ull) {
				fv = fv * 10 + (uint64_t)(s[i] - '0');
				fscale *= 10;
			}
		}
	}
	if (!digits)
		return false;
	if (!unit)
		unit = s + i;
	else if (s[i] != '\0')
		return false;
	if (!strcasecmp(unit, "ns"))
		mul = 1;
	else if (!strcasecmp(unit, "us"))
		mul = 1000;
	else if (!strcasecmp(unit, "ms"))
		mul = 1000000;
	else if (!strcasecmp(unit, "s"))
		mul = 1000000000;
	else
		return false;
	if (ip > UINT64_MAX / mul)
		return false;
	*out = ip * mul + fv * mul / fscale;
	return true;
}

/* ---- Parser ---- */

static struct nvmedump_filter *node(struct parser *p, enum node_type type)
{
	struct nvmedump_filter *n = calloc(1, sizeof(*n));

	if (!n)
		fail(p, p->t.pos, "out of memory");
	else
		n->type = type;
	return n;
}

static struct nvmedump_filter *parse_or(struct parser *p);

/* The word after a predicate's name, as a number at most max. */
static bool arg_number(struct parser *p, const char *what, uint64_t max, uint64_t *v)
{
	if (p->t.type != T_WORD) {
		fail(p, p->t.pos, "expected a number after '%s', got %s", what, tok_desc(&p->t));
		return false;
	}
	if (!parse_u64(p->t.text, v)) {
		fail(p, p->t.pos, "expected a number after '%s', got '%s'", what, p->t.text);
		return false;
	}
	if (*v > max) {
		fail(p, p->t.pos, "%s %s: out of range (at most %llu)", what, p->t.text,
		     (unsigned long long)max);
		return false;
	}
	next(p);
	return true;
}

static const struct {
	const char *name;
	uint32_t kinds;
} kind_names[] = {
	{"cmd", 1u << FDR_REC_CMD},
	{"cpl", 1u << FDR_REC_CPL},
	{"pdu", 1u << FDR_REC_PDU_RX | 1u << FDR_REC_PDU_TX},
	{"pdu-rx", 1u << FDR_REC_PDU_RX},
	{"pdu-tx", 1u << FDR_REC_PDU_TX},
	{"reg", 1u << FDR_REC_REG_READ | 1u << FDR_REC_REG_WRITE},
	{"reg-read", 1u << FDR_REC_REG_READ},
	{"reg-write", 1u << FDR_REC_REG_WRITE},
	{"aen", 1u << FDR_REC_AEN},
	{"conn", 1u << FDR_REC_CONNECT | 1u << FDR_REC_DISCONNECT},
	{"connect", 1u << FDR_REC_CONNECT},
	{"disconnect", 1u << FDR_REC_DISCONNECT},
	{"disc", 1u << FDR_REC_DISCONNECT},
	{"action", 1u << FDR_REC_ACTION},
	{"act", 1u << FDR_REC_ACTION},
	{"data", 1u << FDR_REC_DATA},
	{"cfg", 1u << FDR_REC_CFG_READ | 1u << FDR_REC_CFG_WRITE},
	{"cfg-read", 1u << FDR_REC_CFG_READ},
	{"cfg-write", 1u << FDR_REC_CFG_WRITE},
	{"irq", 1u << FDR_REC_IRQ},
	{"dma", 1u << FDR_REC_DMA_ERR},
	{"dma-err", 1u << FDR_REC_DMA_ERR},
};

/* "kind doorbell" is a kind of REG event: its own node. */
static void parse_kind(struct parser *p, struct nvmedump_filter *n)
{
	if (p->t.type == T_WORD && !strcasecmp(p->t.text, "doorbell")) {
		n->type = N_DOORBELL;
		next(p);
		return;
	}
	for (size_t i = 0; p->t.type == T_WORD && i < sizeof(kind_names) / sizeof(kind_names[0]);
	     i++) {
		if (!strcasecmp(p->t.text, kind_names[i].name)) {
			n->u.kinds = kind_names[i].kinds;
			next(p);
			return;
		}
	}
	fail(p, p->t.pos,
	     "expected cmd, cpl, pdu, pdu-rx, pdu-tx, reg, reg-read, reg-write, aen, conn, "
	     "connect, disconnect, action, data, cfg, cfg-read, cfg-write, irq, dma or doorbell "
	     "after 'kind', got %s",
	     p->t.type == T_WORD ? p->t.text : tok_desc(&p->t));
}

/* Up to max hex digits at *s, moving past them: the value, or -1. */
static int hex_field(const char **s, int max)
{
	int v = 0, n = 0;

	for (; n < max && isxdigit((unsigned char)**s); n++, (*s)++)
		v = v * 16 + (isdigit((unsigned char)**s) ? **s - '0'
							 : tolower((unsigned char)**s) - 'a' + 10);
	return n ? v : -1;
}

/* "BB:DD.F" (hex, as lspci writes it) into bus << 8 | dev << 3 | fn. */
static bool parse_bdf(const char *s, uint16_t *bdf)
{
	int bus = hex_field(&s, 2), dev, fn;

	if (bus < 0 || *s++ != ':')
		return false;
	dev = hex_field(&s, 2);
	if (dev < 0 || dev > 0x1f || *s++ != '.')
		return false;
	fn = hex_field(&s, 1);
	if (fn < 0 || fn > 7 || *s != '\0')
		return false;
	*bdf = (uint16_t)(bus << 8 | dev << 3 | fn);
	return true;
}

/* "pci" may be followed by a PCI address: a word with a colon. */
static void parse_pci(struct parser *p, struct nvmedump_filter *n)
{
	if (p->t.type != T_WORD || !strchr(p->t.text, ':'))
		return;
	if (!parse_bdf(p->t.text, &n->u.xport.bdf)) {
		fail(p, p->t.pos, "bad PCI address '%s' after 'pci' (BB:DD.F in hex, e.g. 00:06.0)",
		     p->t.text);
		return;
	}
	n->u.xport.any = false;
	next(p);
}

static void parse_opc(struct parser *p, struct nvmedump_filter *n)
{
	const char *w = p->t.text;
	bool admin = false;
	uint8_t opc = 0;
	int r;

	if (p->t.type != T_WORD) {
		fail(p, p->t.pos, "expected an opcode name or number after 'opc', got %s", tok_desc(&p->t));
		return;
	}
	r = nvme_opc_parse(w, &admin, &opc);
	if (r < 0) {
		fail(p, p->t.pos, "unknown opcode '%s'", w);
		return;
	}
	n->u.opc.opc = opc;
	n->u.opc.admin = admin;
	n->u.opc.admin_known = r == 0;
	if (opc == NVME_ADM_FABRICS && r == 0) {
		const char *rest = w;
		uint8_t fct;

		if (!strncasecmp(rest, "admin:", 6))
			rest += 6;
		else if (!strncasecmp(rest, "io:", 3))
			rest += 3;
		if (isalpha((unsigned char)rest[0]) && nvme_fabrics_type_parse(rest, &fct) == 0) {
			n->u.opc.fctype_known = true;
			n->u.opc.fctype = fct;
		}
	}
	next(p);
}

static void parse_lba(struct parser *p, struct nvmedump_filter *n)
{
	char a[WORD_MAX], *dash;

	if (p->t.type != T_WORD) {
		fail(p, p->t.pos, "expected A-B or A after 'lba', got %s", tok_desc(&p->t));
		return;
	}
	memcpy(a, p->t.text, sizeof(a));
	dash = strchr(a, '-');
	if (dash)
		*dash = '\0';
	if (!parse_u64(a, &n->u.lba.a) || (dash && !parse_u64(dash + 1, &n->u.lba.b))) {
		fail(p, p->t.pos, "expected A-B or A after 'lba' (numbers, no spaces), got '%s'",
		     p->t.text);
		return;
	}
	if (!dash)
		n->u.lba.b = n->u.lba.a;
	if (n->u.lba.b < n->u.lba.a) {
		fail(p, p->t.pos, "lba %s: the range ends before it starts", p->t.text);
		return;
	}
	next(p);
}

static void parse_latency(struct parser *p, struct nvmedump_filter *n)
{
	if (p->t.type != T_CMP) {
		fail(p, p->t.pos, "expected <, <=, >, >=, == or != after 'latency', got %s",
		     tok_desc(&p->t));
		return;
	}
	n->u.lat.cmp = p->t.cmp;
	next(p);
	if (p->t.type != T_WORD) {
		fail(p, p->t.pos, "expected a duration (e.g. 1ms) after 'latency', got %s",
		     tok_desc(&p->t));
		return;
	}
	size_t pos = p->t.pos;
	char num[WORD_MAX];

	if (parse_duration(p->t.text, NULL, &n->u.lat.ns)) {
		next(p);
		return;
	}
	/* "latency > 1 ms": the unit as a word of its own */
	memcpy(num, p->t.text, sizeof(num));
	next(p);
	if (p->t.type == T_WORD && parse_duration(num, p->t.text, &n->u.lat.ns)) {
		next(p);
		return;
	}
	fail(p, pos, "bad duration '%s' (a number with a unit: ns, us, ms or s)", num);
}

static void parse_status(struct parser *p, struct nvmedump_filter *n)
{
	uint64_t v;

	n->u.status.cmp = C_NE;
	n->u.status.mask = 0x7ff;
	n->u.status.value = 0;
	if (p->t.type != T_CMP)
		return; /* "status" alone: non-zero */
	if (p->t.cmp != C_EQ && p->t.cmp != C_NE) {
		fail(p, p->t.pos, "status compares with == or != only");
		return;
	}
	n->u.status.cmp = p->t.cmp;
	next(p);
	if (!arg_number(p, n->u.status.cmp == C_EQ ? "status ==" : "status !=", 0x7fff, &v))
		return;
	n->u.status.value = (uint16_t)v;
	/* SCT and SC only, unless the value asks for CRD, More or DNR too */
	n->u.status.mask = v > 0x7ff ? 0x7fff : 0x7ff;
}

static struct nvmedump_filter *parse_pred(struct parser *p)
{
	struct tok t = p->t;
	struct nvmedump_filter *n;
	uint64_t v;

	if (t.type != T_WORD) {
		fail(p, t.pos, "expected a filter primitive, got %s", tok_desc(&t));
		return NULL;
	}
	if (t.quoted) {
		fail(p, t.pos, "unknown filter primitive '%s'", t.text);
		return NULL;
	}
#define IS(w) (!strcasecmp(t.text, (w)))
	if (IS("qid") || IS("sq"))
		n = node(p, N_QID);
	else if (IS("ns") || IS("nsid"))
		n = node(p, N_NS);
	else if (IS("ctrl") || IS("cntlid"))
		n = node(p, N_CTRL);
	else if (IS("opc"))
		n = node(p, N_OPC);
	else if (IS("admin"))
		n = node(p, N_ADMIN);
	else if (IS("io"))
		n = node(p, N_IO);
	else if (IS("status"))
		n = node(p, N_STATUS);
	else if (IS("lba"))
		n = node(p, N_LBA);
	else if (IS("latency") || IS("lat"))
		n = node(p, N_LATENCY);
	else if (IS("kind"))
		n = node(p, N_KIND);
	else if (IS("pci") || IS("tcp") || IS("fabrics")) {
		n = node(p, N_XPORT);
		if (n) {
			n->u.xport.xport = IS("pci") ? FDR_REC_XPORT_PCIE : FDR_REC_XPORT_FABRICS;
			n->u.xport.any = true;
		}
	} else if (IS("doorbell"))
		n = node(p, N_DOORBELL);
	else if (IS("vector"))
		n = node(p, N_VECTOR);
	else {
		fail(p, t.pos, "unknown filter primitive '%s'", t.text);
		return NULL;
	}
#undef IS
	if (!n)
		return NULL;
	next(p);
	switch (n->type) {
	case N_QID:
	case N_CTRL:
		if (arg_number(p, t.text, 0xffff, &v))
			n->u.num = v;
		break;
	case N_NS:
		if (arg_number(p, t.text, 0xffffffff, &v))
			n->u.num = v;
		break;
	case N_OPC:
		parse_opc(p, n);
		break;
	case N_STATUS:
		parse_status(p, n);
		break;
	case N_LBA:
		parse_lba(p, n);
		break;
	case N_LATENCY:
		parse_latency(p, n);
		break;
	case N_KIND:
		parse_kind(p, n);
		break;
	case N_XPORT:
		if (n->u.xport.xport == FDR_REC_XPORT_PCIE)
			parse_pci(p, n);
		break;
	case N_VECTOR:
		if (arg_number(p, t.text, 2047, &v)) /* the MSI-X table's largest */
			n->u.num = v;
		break;
	default:
		break;
	}
	return n;
}

static struct nvmedump_filter *binary(struct parser *p, enum node_type type,
				      struct nvmedump_filter *l, struct nvmedump_filter *r)
{
	struct nvmedump_filter *n = node(p, type);

	if (!n) {
		nvmedump_filter_free(l);
		nvmedump_filter_free(r);
		return NULL;
	}
	n->l = l;
	n->r = r;
	return n;
}

static struct nvmedump_filter *parse_factor(struct parser *p)
{
	struct nvmedump_filter *n;

	if (++p->depth > MAX_DEPTH) {
		fail(p, p->t.pos, "nested too deeply (more than %d levels)", MAX_DEPTH);
		return NULL;
	}
	if (p->t.type == T_NOT || is_kw(&p->t, "not")) {
		next(p);
		n = parse_factor(p);
		n = binary(p, N_NOT, n, NULL);
	} else if (p->t.type == T_LP) {
		size_t open = p->t.pos;

		next(p);
		n = parse_or(p);
		if (p->t.type != T_RP)
			fail(p, p->t.pos, "expected ')' to close the '(' at %zu, got %s", open + 1,
			     tok_desc(&p->t));
		else
			next(p);
	} else {
		n = parse_pred(p);
	}
	p->depth--;
	return n;
}

static struct nvmedump_filter *parse_and(struct parser *p)
{
	struct nvmedump_filter *n = parse_factor(p);

	while (!p->failed && (p->t.type == T_AND || is_kw(&p->t, "and"))) {
		next(p);
		n = binary(p, N_AND, n, parse_factor(p));
	}
	return n;
}

static struct nvmedump_filter *parse_or(struct parser *p)
{
	struct nvmedump_filter *n = parse_and(p);

	while (!p->failed && (p->t.type == T_OR || is_kw(&p->t, "or"))) {
		next(p);
		n = binary(p, N_OR, n, parse_and(p));
	}
	return n;
}

struct nvmedump_filter *nvmedump_filter_parse(const char *expr, struct nvmedump_filter_err *err)
{
	struct parser p = {.s = expr ? expr : "", .err = err};
	struct nvmedump_filter *n;

	if (err) {
		err->pos = 0;
		err->msg[0] = '\0';
	}
	next(&p);
	if (p.t.type == T_END && !p.failed) {
		n = node(&p, N_TRUE);
		return n;
	}
	n = parse_or(&p);
	if (!p.failed && p.t.type != T_END) {
		if (p.t.type == T_RP)
			fail(&p, p.t.pos, "unmatched ')'");
		else
			fail(&p, p.t.pos, "expected 'and', 'or' or the end, got %s", tok_desc(&p.t));
	}
	if (p.failed) {
		nvmedump_filter_free(n);
		return NULL;
	}
	return n;
}

void nvmedump_filter_free(struct nvmedump_filter *f)
{
	while (f) {
		struct nvmedump_filter *r = f->r;

		nvmedump_filter_free(f->l);
		free(f);
		f = r;
	}
}

char *nvmedump_filter_join(int argc, char *const argv[])
{
	size_t len = 1;
	char *s, *q;

	for (int i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	s = malloc(len);
	if (!s)
		return NULL;
	q = s;
	for (int i = 0; i < argc; i++) {
		size_t n = strlen(argv[i]);

		if (i)
			*q++ = ' ';
		memcpy(q, argv[i], n);
		q += n;
	}
	*q = '\0';
	return s;
}

/* ---- Evaluation ---- */

#define CMD_KINDS (1u << FDR_REC_CMD | 1u << FDR_REC_CPL | 1u << FDR_REC_ACTION | 1u << FDR_REC_DATA)
/* and those of a PCIe queue that belong to no command */
#define QUEUE_KINDS (CMD_KINDS | 1u << FDR_REC_IRQ | 1u << FDR_REC_DMA_ERR)
#define REG_KINDS (1u << FDR_REC_REG_READ | 1u << FDR_REC_REG_WRITE)

static bool has(const struct fdr_rec_event *ev, uint32_t kinds)
{
	return ev->kind < 32 && (kinds & (1u << ev->kind));
}

static bool compare(enum cmp c, uint64_t a, uint64_t b)
{
	switch (c) {
	case C_EQ:
		return a == b;
	case C_NE:
		return a != b;
	case C_LT:
		return a < b;
	case C_LE:
		return a <= b;
	case C_GT:
		return a > b;
	case C_GE:
		return a >= b;
	}
	return false;
}

/* Where a PCIe function's BAR0 access lies (NVMEDUMP_BAR0_BEYOND for
 * every other event), and its doorbell's queue or MSI-X vector. */
static enum nvmedump_bar0 bar0_of(const struct fdr_rec_event *ev, uint32_t *index)
{
	*index = 0;
	if (!has(ev, REG_KINDS) || ev->xport != FDR_REC_XPORT_PCIE)
		return NVMEDUMP_BAR0_BEYOND;
	return nvmedump_bar0(ev->u.reg.offset, index);
}

static bool is_doorbell(enum nvmedump_bar0 a)
{
	return a == NVMEDUMP_BAR0_SQ_DB || a == NVMEDUMP_BAR0_CQ_DB;
}

static bool match_qid(const struct nvmedump_filter *f, const struct fdr_rec_event *ev)
{
	uint32_t idx;

	if (is_doorbell(bar0_of(ev, &idx)))
		return idx == f->u.num;
	return has(ev, QUEUE_KINDS | 1u << FDR_REC_PDU_RX | 1u << FDR_REC_PDU_TX) &&
	       ev->qid == f->u.num;
}

static bool match_vector(const struct nvmedump_filter *f, const struct fdr_rec_event *ev)
{
	uint32_t idx;

	if (ev->kind == FDR_REC_IRQ)
		return ev->u.irq.type == FDR_REC_IRQ_MSIX && ev->u.irq.vector == f->u.num;
	return bar0_of(ev, &idx) == NVMEDUMP_BAR0_MSIX && idx == f->u.num;
}

static bool match_opc(const struct nvmedump_filter *f, const struct fdr_rec_event *ev)
{
	uint8_t opc, fctype;

	if (ev->kind == FDR_REC_CMD) {
		opc = ev->u.cmd.sqe.opc;
		fctype = (uint8_t)(ev->u.cmd.sqe.nsid & 0xff);
	} else if (ev->kind == FDR_REC_CPL) {
		opc = ev->u.cpl.opc;
		fctype = ev->u.cpl.fctype;
	} else {
		return false;
	}
	if (opc != f->u.opc.opc)
		return false;
	if (opc == NVME_ADM_FABRICS) /* on admin and I/O queues alike */
		return !f->u.opc.fctype_known || fctype == f->u.opc.fctype;
	return !f->u.opc.admin_known || (ev->admin != 0) == f->u.opc.admin;
}

static bool match_lba(const struct nvmedump_filter *f, const struct fdr_rec_event *ev)
{
	uint64_t slba, last;
	uint32_t nlb;

	if (ev->kind != FDR_REC_CMD || ev->admin || !nvme_io_opc_has_lba(ev->u.cmd.sqe.opc))
		return false;
	slba = (uint64_t)ev->u.cmd.sqe.cdw10 | (uint64_t)ev->u.cmd.sqe.cdw11 << 32;
	nlb = (ev->u.cmd.sqe.cdw12 & 0xffff) + 1u;
	last = slba > UINT64_MAX - (nlb - 1) ? UINT64_MAX : slba + (nlb - 1);
	return slba <= f->u.lba.b && last >= f->u.lba.a;
}

bool nvmedump_filter_match(const struct nvmedump_filter *f, const struct fdr_rec_event *ev)
{
	if (!f)
		return true;
	switch (f->type) {
	case N_TRUE:
		return true;
	case N_AND:
		return nvmedump_filter_match(f->l, ev) && nvmedump_filter_match(f->r, ev);
	case N_OR:
		return nvmedump_filter_match(f->l, ev) || nvmedump_filter_match(f->r, ev);
	case N_NOT:
		return !nvmedump_filter_match(f->l, ev);
	case N_QID:
		return match_qid(f, ev);
	case N_NS:
		return ev->kind == FDR_REC_CMD && ev->u.cmd.sqe.opc != NVME_ADM_FABRICS &&
		       ev->u.cmd.sqe.nsid == f->u.num;
	case N_CTRL:
		return ev->cntlid == f->u.num;
	case N_OPC:
		return match_opc(f, ev);
	case N_ADMIN:
		return has(ev, QUEUE_KINDS) && ev->admin;
	case N_IO:
		return has(ev, QUEUE_KINDS) && !ev->admin;
	case N_STATUS: {
		uint16_t sts;

		if (ev->kind != FDR_REC_CPL)
			return false;
		sts = (uint16_t)(ev->u.cpl.cqe.status >> 1);
		return compare(f->u.status.cmp, sts & f->u.status.mask, f->u.status.value);
	}
	case N_LBA:
		return match_lba(f, ev);
	case N_LATENCY:
		return ev->kind == FDR_REC_CPL && compare(f->u.lat.cmp, ev->u.cpl.latency_ns, f->u.lat.ns);
	case N_KIND:
		return has(ev, f->u.kinds);
	case N_XPORT:
		return ev->xport == f->u.xport.xport &&
		       (f->u.xport.any || FDR_REC_PCI_BDF(ev->conn) == f->u.xport.bdf);
	case N_DOORBELL: {
		uint32_t idx;

		return is_doorbell(bar0_of(ev, &idx));
	}
	case N_VECTOR:
		return match_vector(f, ev);
	}
	return false;
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The listening socket.  reactors[0] accepts; each new socket is handed to
 * the next reactor round robin as a posted message, and the connection
 * lives there for good.  The listener keeps a per-reactor list of its
 * connections (each touched only by its reactor) so that closing it can
 * reach them all, and a reference count so that it outlives the messages
 * and connections that point at it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "tcp_internal.h"

#define ACCEPTS_PER_WAKEUP 32
#define ACCEPT_RETRY_NS (100ull * 1000000) /* after running out of descriptors */
#define CLOSE_WAIT_S 10

struct listener_slot {
	struct fdr_tcp_listener *l;
	struct fdr_reactor *r;
	unsigned idx;
	struct fdr_tcp_conn *conns; /* touched on r only */
};

struct fdr_tcp_listener {
	struct fdr_handler h; /* the listening socket, on reactors[0] */
	struct fdr_timer retry_timer;
	struct fdr_target *t;
	struct fdr_port *port;
	struct fdr_tcp_opts opts;
	uint16_t bound_port;
	char name[96]; /* "addr:port" for logs */
	unsigned nr;
	unsigned next;
	struct listener_slot *slots;
	bool closing; /* atomic */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned refs; /* under lock: owner, live connections, posted messages */
};

struct accept_msg {
	struct fdr_tcp_listener *l;
	unsigned slot;
	int fd;
	char peer[64];
};

static void listener_get(struct fdr_tcp_listener *l)
{
	pthread_mutex_lock(&l->lock);
	l->refs++;
	pthread_mutex_unlock(&l->lock);
}

static void listener_destroy(struct fdr_tcp_listener *l)
{
	pthread_cond_destroy(&l->cond);
	pthread_mutex_destroy(&l->lock);
	free(l->slots);
	free(l);
}

static void listener_put(struct fdr_tcp_listener *l)
{
	unsigned left;

	pthread_mutex_lock(&l->lock);
	left = --l->refs;
	pthread_cond_broadcast(&l->cond);
	pthread_mutex_unlock(&l->lock);
	if (left == 0)
		listener_destroy(l);
}

static bool listener_closing(const struct fdr_tcp_listener *l)
{
	return __atomic_load_n(&l->closing, __ATOMIC_ACQUIRE);
}

static void format_peer(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char addr[INET6_ADDRSTRLEN] = "?";

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
		inet_ntop(AF_INET, &in->sin_addr, addr, sizeof(addr));
		snprintf(buf, len, "%s:%u", addr, ntohs(in->sin_port));
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
		inet_ntop(AF_INET6, &in6->sin6_addr, addr, sizeof(addr));
		snprintf(buf, len, "[%s]:%u", addr, ntohs(in6->sin6_port));
	} else {
		snprintf(buf, len, "?");
	}
}

/* On the chosen reactor: the socket becomes a connection. */
static void accept_msg_run(void *arg)
{
	struct accept_msg *m = arg;
	struct fdr_tcp_listener *l = m->l;
	struct listener_slot *s = &l->slots[m->slot];
	struct fdr_tcp_conn *c = NULL;

	/* closing is set before the close message is posted here, so a
	 * connection that misses it is one that close already saw. */
	if (listener_closing(l))
		close(m->fd);
	else
		c = fdr_tcp_conn_create(l->t, l->port, s->r, m->fd, m->peer, &l->opts, l, m->slot);
	if (c) {
		/* The message's reference now belongs to the connection. */
		c->lprev = NULL;
		c->lnext = s->conns;
		if (s->conns)
			s->conns->lprev = c;
		s->conns = c;
	} else {
		listener_put(l);
	}
	free(m);
}

void fdr_tcp_listener_conn_gone(struct fdr_tcp_listener *l, struct fdr_tcp_conn *c)
{
	struct listener_slot *s = &l->slots[c->slot];

	if (c->lprev)
		c->lprev->lnext = c->lnext;
	else if (s->conns == c)
		s->conns = c->lnext;
	if (c->lnext)
		c->lnext->lprev = c->lprev;
	c->lprev = c->lnext = NULL;
	listener_put(l);
}

static void hand_over(struct fdr_tcp_listener *l, int fd, const struct sockaddr_storage *ss)
{
	struct accept_msg *m = malloc(sizeof(*m));
	unsigned slot = l->next++ % l->nr;
	int one = 1;

	if (!m) {
		fdr_warn("nvme-tcp %s: out of memory, dropping a connection", l->name);
		close(fd);
		return;
	}
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0)
		fdr_debug("nvme-tcp %s: TCP_NODELAY: %s", l->name, strerror(errno));
	m->l = l;
	m->slot = slot;
	m->fd = fd;
	format_peer(ss, m->peer, sizeof(m->peer));
	listener_get(l);
	if (fdr_reactor_post(l->slots[slot].r, accept_msg_run, m) < 0) {
		fdr_warn("nvme-tcp %s: cannot hand %s to a reactor", l->name, m->peer);
		close(fd);
		free(m);
		listener_put(l);
	}
}

static void accept_retry(struct fdr_timer *tm)
{
	struct fdr_tcp_listener *l =
		(struct fdr_tcp_listener *)((char *)tm - offsetof(struct fdr_tcp_listener, retry_timer));

	if (!listener_closing(l) && l->h.fd >= 0)
		fdr_reactor_add(l->slots[0].r, &l->h, EPOLLIN);
}

static void listener_event(struct fdr_handler *h, uint32_t events)
{
	struct fdr_tcp_listener *l = (struct fdr_tcp_listener *)h;

	(void)events;
	for (int i = 0; i < ACCEPTS_PER_WAKEUP && !listener_closing(l); i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		int fd = accept4(h->fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd >= 0) {
			hand_over(l, fd, &ss);
			continue;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return;
		if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO)
			continue;
		switch (errno) {
		case EMFILE:
		case ENFILE:
		case ENOBUFS:
		case ENOMEM:
			/* The pending connection keeps the socket readable:
			 * stop watching it for a moment instead of spinning. */
			fdr_warn("nvme-tcp %s: accept: %s; pausing", l->name, strerror(errno));
			fdr_reactor_del(l->slots[0].r, &l->h);
			fdr_timer_arm(l->slots[0].r, &l->retry_timer, ACCEPT_RETRY_NS);
			return;
		default:
			fdr_warn("nvme-tcp %s: accept: %s", l->name, strerror(errno));
			return;
		}
	}
}

static int parse_addr(const struct fdr_port *port, struct sockaddr_storage *ss, socklen_t *sl,
		      char *err, size_t errlen)
{
	struct addrinfo hints = {
		.ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_STREAM,
		.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE,
	};
	struct addrinfo *ai = NULL;
	char host[64];
	char *end;
	unsigned long pnum;
	size_t n;
	int rc;

	errno = 0;
	pnum = strtoul(port->trsvcid, &end, 10);
	if (!port->trsvcid[0] || *end || errno || pnum > 65535) {
		snprintf(err, errlen, "invalid TCP port '%s'", port->trsvcid);
		return -1;
	}
	/* Accept "[v6]" as well as a bare IPv6 literal (with a %scope). */
	snprintf(host, sizeof(host), "%s", port->traddr);
	n = strlen(host);
	if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
		memmove(host, host + 1, n - 2);
		host[n - 2] = '\0';
	}
	/* Numeric only: a name would make the discovery log ambiguous. */
	rc = getaddrinfo(host, port->trsvcid, &hints, &ai);
	if (rc || !ai || ai->ai_addrlen > sizeof(*ss)) {
		snprintf(err, errlen, "invalid IP address '%s' (IPv4 or IPv6 literal expected)",
			 port->traddr);
		if (ai)
			freeaddrinfo(ai);
		return -1;
	}
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*sl = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

struct fdr_tcp_listener *fdr_tcp_listen(struct fdr_target *t, struct fdr_port *port,
					struct fdr_reactor **reactors, unsigned nr,
					const struct fdr_tcp_opts *opts, char *err, size_t errlen)
{
	struct fdr_tcp_listener *l;
	struct sockaddr_storage ss;
	socklen_t sl;
	int one = 1, fd, rc;

	if (!port || !reactors || nr == 0) {
		snprintf(err, errlen, "no port or no reactors");
		return NULL;
	}
	if (parse_addr(port, &ss, &sl, err, errlen) < 0)
		return NULL;
	if (opts && opts->maxh2cdata && opts->maxh2cdata < FDR_TCP_MIN_MAXH2CDATA) {
		snprintf(err, errlen, "maxh2cdata %u is below the minimum of %u", opts->maxh2cdata,
			 FDR_TCP_MIN_MAXH2CDATA);
		return NULL;
	}
	l = calloc(1, sizeof(*l));
	if (l)
		l->slots = calloc(nr, sizeof(*l->slots));
	if (!l || !l->slots) {
		snprintf(err, errlen, "out of memory");
		if (l)
			free(l);
		return NULL;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		goto fail;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0) {
		snprintf(err, errlen, "bind %s:%s: %s", port->traddr, port->trsvcid,
			 strerror(errno));
		goto fail_fd;
	}
	if (listen(fd, SOMAXCONN) < 0) {
		snprintf(err, errlen, "listen: %s", strerror(errno));
		goto fail_fd;
	}
	sl = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
		l->bound_port = ntohs(ss.ss_family == AF_INET
					      ? ((struct sockaddr_in *)&ss)->sin_port
					      : ((struct sockaddr_in6 *)&ss)->sin6_port);
	if (strcmp(port->trsvcid, "0") == 0)
		/* The discovery log must report where we really listen. */
		snprintf(port->trsvcid, sizeof(port->trsvcid), "%u", l->bound_port);

	l->h.fn = listener_event;
	l->h.fd = fd;
	l->retry_timer.fn = accept_retry;
	l->t = t;
	l->port = port;
	if (opts)
		l->opts = *opts;
	l->nr = nr;
	for (unsigned i = 0; i < nr; i++) {
		l->slots[i].l = l;
		l->slots[i].r = reactors[i];
		l->slots[i].idx = i;
	}
	snprintf(l->name, sizeof(l->name), "%s:%u", port->traddr, l->bound_port);
	pthread_mutex_init(&l->lock, NULL);
	pthread_cond_init(&l->cond, NULL);
	l->refs = 1;
	/* epoll_ctl is thread safe; the accepts run on reactors[0]. */
	rc = fdr_reactor_add(reactors[0], &l->h, EPOLLIN);
	if (rc < 0) {
		snprintf(err, errlen, "epoll: %s", strerror(-rc));
		pthread_cond_destroy(&l->cond);
		pthread_mutex_destroy(&l->lock);
		goto fail_fd;
	}
	fdr_info("nvme-tcp: listening on %s (%u reactors)", l->name, nr);
	return l;

fail_fd:
	close(fd);
fail:
	free(l->slots);
	free(l);
	return NULL;
}

uint16_t fdr_tcp_listener_port(const struct fdr_tcp_listener *l)
{
	return l->bound_port;
}

/* On reactors[0]. */
static void stop_listening_run(void *arg)
{
	struct fdr_tcp_listener *l = arg;

	fdr_timer_cancel(l->slots[0].r, &l->retry_timer);
	fdr_reactor_del(l->slots[0].r, &l->h);
	close(l->h.fd);
	l->h.fd = -1;
	fdr_info("nvme-tcp: stopped listening on %s", l->name);
	listener_put(l);
}

/* On each reactor: drop the connections that live there. */
static void close_conns_run(void *arg)
{
	struct listener_slot *s = arg;
	struct fdr_tcp_listener *l = s->l;

	/* Closing does not unlink (that happens at free), so the walk is safe. */
	for (struct fdr_tcp_conn *c = s->conns; c; c = c->lnext)
		fdr_tcp_conn_shutdown(c, "listener closed");
	listener_put(l);
}

void fdr_tcp_listener_close(struct fdr_tcp_listener *l)
{
	struct fdr_reactor *self = fdr_reactor_self();
	bool on_reactor = false;

	if (!l)
		return;
	__atomic_store_n(&l->closing, true, __ATOMIC_RELEASE);
	listener_get(l);
	if (fdr_reactor_post(l->slots[0].r, stop_listening_run, l) < 0)
		listener_put(l); /* leaves the socket open; out of memory anyway */
	for (unsigned i = 0; i < l->nr; i++) {
		if (l->slots[i].r == self)
			on_reactor = true;
		listener_get(l);
		if (fdr_reactor_post(l->slots[i].r, close_conns_run, &l->slots[i]) < 0)
			listener_put(l);
	}
	if (!on_reactor) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += CLOSE_WAIT_S;
		pthread_mutex_lock(&l->lock);
		while (l->refs > 1)
			if (pthread_cond_timedwait(&l->cond, &l->lock, &ts) == ETIMEDOUT)
				break;
		if (l->refs > 1)
			fdr_warn("nvme-tcp %s: connections still draining after %d s", l->name,
				 CLOSE_WAIT_S);
		pthread_mutex_unlock(&l->lock);
	}
	listener_put(l);
}

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NVMe/TCP target transport (NVM Express TCP Transport Specification 1.0):
 * what the frankendrive tool needs to serve a port over TCP.
 */
#ifndef FDR_TCP_H
#define FDR_TCP_H

#include <stddef.h>
#include <stdint.h>

struct fdr_target;
struct fdr_port;
struct fdr_reactor;

#define FDR_TCP_DEFAULT_MAXH2CDATA (128u * 1024)
#define FDR_TCP_MIN_MAXH2CDATA 4096u
#define FDR_TCP_DEFAULT_ICREQ_TIMEOUT_MS 10000u

struct fdr_tcp_opts {
	uint32_t maxh2cdata;       /* MAXH2CDATA offered in ICResp; 0: default, >= 4096 */
	uint32_t icreq_timeout_ms; /* a connection must send ICReq in time; 0: default */
};

struct fdr_tcp_listener;

/*
 * Listens on port->traddr:port->trsvcid (IPv4 or IPv6 literal; trsvcid "0"
 * picks a free port and writes it back into port->trsvcid).  The listening
 * socket is served by reactors[0]; accepted connections are spread round
 * robin over reactors[0..nr-1].  opts may be NULL.  Returns NULL with a
 * reason in err on failure.
 */
struct fdr_tcp_listener *fdr_tcp_listen(struct fdr_target *t, struct fdr_port *port,
					struct fdr_reactor **reactors, unsigned nr,
					const struct fdr_tcp_opts *opts, char *err, size_t errlen);

/* The TCP port actually bound (useful with trsvcid "0"). */
uint16_t fdr_tcp_listener_port(const struct fdr_tcp_listener *l);

/*
 * Stops accepting and closes every connection of l on its reactor; the
 * reactors must be running.  Called from a thread that is not one of l's
 * reactors it waits (up to a few seconds) until those connections are
 * gone, i.e. their queues drained; from a reactor thread it returns at
 * once.  l must not be used afterwards.
 */
void fdr_tcp_listener_close(struct fdr_tcp_listener *l);

#endif

/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The control socket: a Unix stream socket through which `frankendrive ctl`
 * lists, loads and unloads plug-ins and adds, removes and lists fault rules
 * while the drive runs.  See docs/ctl.md for the protocol.
 *
 * One request per line (text), one JSON object per reply line:
 * {"ok":true,...} or {"ok":false,"error":"..."}.  The server runs on a
 * thread of its own, not on a reactor: loading a plug-in or changing the
 * rules may block while taps synchronize with the reactors.
 */
#ifndef FDR_CTL_H
#define FDR_CTL_H

#include <stddef.h>

/* Longest request line, newline excluded; longer ones get an error reply. */
#define FDR_CTL_MAX_LINE 4096
/* Port whose socket `frankendrive ctl` talks to when given neither
 * --socket nor --port (the drive's default listen port). */
#define FDR_CTL_DEFAULT_PORT "4420"

struct fdr_ctl;

/*
 * The default socket path of the drive whose first listener is on port:
 *   /run/frankendrive/<port>.sock             when /run is writable,
 *   $XDG_RUNTIME_DIR/frankendrive/<port>.sock when that is set and writable,
 *   /tmp/frankendrive-<port>.sock             otherwise.
 * The drive and the client compute it the same way, so a client run by the
 * drive's user finds the drive's socket.  port NULL or "" means 4420.
 */
/* The drive's run directory file for port PORT with extension ext, e.g.
 * /run/frankendrive/4420.ring (see docs/ctl.md for the choice of directory). */
void fdr_run_default_path(const char *port, const char *ext, char *buf, size_t len);
void fdr_ctl_default_path(const char *port, char *buf, size_t len);

/*
 * Create the socket at path (mode 0600; its directory is created if it is
 * missing, one level only) and start serving it.  A socket file left by a
 * drive that is gone is replaced; if a drive still listens there, or path
 * is something other than a socket, start fails.  Returns NULL with the
 * reason in err.
 */
struct fdr_ctl *fdr_ctl_start(const char *path, char *err, size_t errlen);
/* Stop serving, close every client, remove the socket file.  NULL is fine. */
void fdr_ctl_stop(struct fdr_ctl *c);
/* The path being served. */
const char *fdr_ctl_path(const struct fdr_ctl *c);

#endif

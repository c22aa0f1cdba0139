/* SPDX-License-Identifier: BSD-2-Clause */
/* `frankendrive ctl`: talk to a running drive's control socket. */
#ifndef FDR_TOOL_CTL_CLIENT_H
#define FDR_TOOL_CTL_CLIENT_H

/*
 * argv[0] is "ctl" (main passes argc - 1, argv + 1), then
 * [--socket PATH | --port PORT] [--json] [--timeout SEC] COMMAND ARGS...
 * Returns the exit status: 0 the drive said ok, 1 it replied with an
 * error, 2 usage or connection error.
 */
int fdr_ctl_main(int argc, char **argv);

#endif

#!/usr/bin/env python3
"""Host-side checks of the capture scenario (capture.sh).

The drive's flight recorder ring is what the drive executed.  nvmedump
prints it as text (the reference) and writes it as pcapng; Debian's stock
tshark must then report the same commands and completions.

  capture_check.py --ring R --out DIR --builddir B TEST [ARGS]

Prints one line (the guest shows it); exit status 0 = pass.
"""
import argparse
import os
import re
import subprocess
import sys

# Opcode names as nvmedump prints them -> (fabrics?, number).  Written out
# here, not taken from the drive, so the test has its own oracle.
ADMIN = {"Delete IO SQ": 0x00, "Create IO SQ": 0x01, "Get Log Page": 0x02,
         "Delete IO CQ": 0x04, "Create IO CQ": 0x05, "Identify": 0x06,
         "Abort": 0x08, "Set Features": 0x09, "Get Features": 0x0a,
         "Async Event Request": 0x0c, "Keep Alive": 0x18, "Format NVM": 0x80}
IO = {"Flush": 0x00, "Write": 0x01, "Read": 0x02, "Write Uncorrectable": 0x04,
      "Compare": 0x05, "Write Zeroes": 0x08, "Dataset Management": 0x09}
FABRICS = {"Property Set": 0x00, "Connect": 0x01, "Property Get": 0x04,
           "Disconnect": 0x08}

CMD_RE = re.compile(r"^\[(\d+)\] \S+ \S+ (ADM|IO) SQ=(\d+) CID=([0-9a-fA-F]{4}) OPC=(.+?)(?= [A-Za-z0-9]+=| \(|$)")
CPL_RE = re.compile(r"^\[(\d+)\] \S+ \S+ CPL SQ=(\d+) CID=([0-9a-fA-F]{4}) P=\d STS=0x([0-9a-fA-F]{4}).* OPC=(.+)$")
QID_RE = re.compile(r" QID=(\d+)")

FIELDS = ["frame.number", "nvme-tcp.type", "nvme-tcp.cmd.qid", "nvme.cmd.opc",
          "nvme.cmd.cid", "nvme.cmd.nsid", "nvme.cmd.slba", "nvme.fabrics.cmd.fctype",
          "nvme.fabrics.cmd.cid", "nvme.cqe.status",
          "nvme.cmd_pkt", "nvme.fabrics.cmd_pkt", "nvme.cqe_pkt", "nvme.fabrics.cqe_pkt",
          "nvme.cmd_latency", "nvme.fabrics.cmd_latency", "frame.comment"]


class Fail(Exception):
    pass


def run(argv):
    p = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        raise Fail("%s exited %d: %s" % (" ".join(argv[:3]), p.returncode,
                                         " ".join(p.stderr.split())[:300]))
    return p.stdout


def num(s):
    return int(s, 0) if s else None


def status_of(v):
    """CQE status field (bits 31:16 of DW3, phase bit 0) -> SCT<<8 | SC"""
    return ((v >> 9) & 0x7) << 8 | ((v >> 1) & 0xff)


class Ctx:
    def __init__(self, a):
        self.a = a
        self.nvmedump = os.path.join(a.builddir, "tools", "nvmedump", "nvmedump")
        self.lua = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..",
                                "tools", "nvmedump", "frankendrive.lua")

    def ring_events(self, expr=()):
        """(cmds, cpls) from nvmedump's text of the ring"""
        cmds, cpls, connects = [], [], {}
        for line in run([self.nvmedump, "-r", self.a.ring] + list(expr)).splitlines():
            m = CMD_RE.match(line)
            if m:
                ev = dict(idx=int(m.group(1)), admin=m.group(2) == "ADM",
                          qid=int(m.group(3)), cid=int(m.group(4), 16), name=m.group(5), line=line)
                # An I/O queue's Connect is recorded before its queue is
                # known (SQ=0); Wireshark puts it on the queue it connects.
                q = QID_RE.search(line)
                if ev["name"] == "Connect" and q:
                    ev["qid"] = int(q.group(1))
                    connects[ev["cid"]] = ev["qid"]
                cmds.append(ev)
                continue
            m = CPL_RE.match(line)
            if m:
                ev = dict(idx=int(m.group(1)), qid=int(m.group(2)), cid=int(m.group(3), 16),
                          sts=int(m.group(4), 16), line=line)
                if m.group(5) == "Connect" and ev["cid"] in connects:
                    ev["qid"] = connects.pop(ev["cid"])
                cpls.append(ev)
        return cmds, cpls

    def pcap(self, name, expr=()):
        path = os.path.join(self.a.out, name)
        run([self.nvmedump, "-r", self.a.ring, "-w", path] + list(expr))
        return path

    def tshark(self, path, extra=()):
        argv = ["tshark", "-r", path, "-2", "-T", "fields", "-E", "occurrence=f"]
        for f in FIELDS:
            argv += ["-e", f]
        rows = []
        for line in run(argv + list(extra)).splitlines():
            v = line.split("\t")
            v += [""] * (len(FIELDS) - len(v))
            rows.append(dict(zip(FIELDS, v)))
        return rows

    def frames(self, path):
        """tshark's commands and responses, synthetic ones left out"""
        rows = self.tshark(path)
        cmds, rsps = [], []
        for r in rows:
            if r["frame.comment"].startswith("frankendrive: synthetic"):
                continue
            t = num(r["nvme-tcp.type"])
            if t == 4:
                fab = r["nvme.fabrics.cmd.fctype"] != ""
                cmds.append(dict(frame=int(r["frame.number"]), qid=num(r["nvme-tcp.cmd.qid"]),
                                 fabrics=fab,
                                 opc=num(r["nvme.fabrics.cmd.fctype"] if fab else r["nvme.cmd.opc"]),
                                 cid=num(r["nvme.fabrics.cmd.cid"] if fab else r["nvme.cmd.cid"]),
                                 slba=num(r["nvme.cmd.slba"]),
                                 rsp=num(r["nvme.fabrics.cqe_pkt"] or r["nvme.cqe_pkt"])))
            elif t == 5:
                fab = r["nvme.fabrics.cmd_pkt"] != ""
                cmdno = num(r["nvme.fabrics.cmd_pkt"] or r["nvme.cmd_pkt"])
                lat = r["nvme.fabrics.cmd_latency"] or r["nvme.cmd_latency"]
                sts = num(r["nvme.cqe.status"])
                rsps.append(dict(frame=int(r["frame.number"]), cmd=cmdno, fabrics=fab,
                                 sts=sts, latency=float(lat) if lat else None))
        # a response's queue and CID are its command's
        cmd_by_frame = {c["frame"]: c for c in cmds}
        for r in rsps:
            c = cmd_by_frame.get(r["cmd"]) if r["cmd"] else None
            r["qid"], r["cid"] = (c["qid"], c["cid"]) if c else (None, None)
        return cmds, rsps


def opc_of(ev):
    n = ev["name"]
    m = re.search(r"OPC=(?:Vendor Specific|Unknown) \(([0-9a-f]{2})h\)", ev["line"])
    if m:
        return False, int(m.group(1), 16)
    if n in FABRICS:
        return True, FABRICS[n]
    tab = ADMIN if ev["admin"] else IO
    if n not in tab:
        raise Fail("opcode name %r (%s) not in the test's table" % (n, ev["line"]))
    return False, tab[n]


def t_matches_ring(c, _args):
    rcmds, rcpls = c.ring_events()
    pcmds, prsps = c.frames(c.pcap("capture.pcapng"))
    if len(rcmds) < 20:
        raise Fail("only %d commands in the ring" % len(rcmds))
    if len(rcmds) != len(pcmds):
        raise Fail("ring has %d commands, tshark %d" % (len(rcmds), len(pcmds)))
    if len(rcpls) != len(prsps):
        raise Fail("ring has %d completions, tshark %d" % (len(rcpls), len(prsps)))
    for r, p in zip(rcmds, pcmds):
        fab, opc = opc_of(r)
        if (r["qid"], r["cid"], fab, opc) != (p["qid"], p["cid"], p["fabrics"], p["opc"]):
            raise Fail("frame %d: tshark qid=%s cid=%s opc=%s%s, ring: %s" % (
                p["frame"], p["qid"], p["cid"], p["opc"], " (fabrics)" if p["fabrics"] else "",
                r["line"]))
    nolat = 0
    for r, p in zip(rcpls, prsps):
        if p["cmd"] is None:
            raise Fail("response frame %d is linked to no command (ring: %s)" % (p["frame"], r["line"]))
        sts = status_of(p["sts"]) if p["sts"] is not None else None
        if (r["qid"], r["cid"], r["sts"] & 0x7ff) != (p["qid"], p["cid"], sts):
            raise Fail("response frame %d: tshark qid=%s cid=%s status=%s, ring: %s" % (
                p["frame"], p["qid"], p["cid"], sts, r["line"]))
        if p["latency"] is None:
            nolat += 1
    if nolat:
        raise Fail("%d responses without nvme.cmd_latency" % nolat)
    nio = sum(1 for r in rcmds if r["qid"] > 0)
    return "%d commands (%d on I/O queues) and %d completions agree" % (len(rcmds), nio, len(rcpls))


def t_failed_read(c, args):
    slba = int(args[0], 0)
    pcmds, prsps = c.frames(os.path.join(c.a.out, "capture.pcapng") if os.path.exists(
        os.path.join(c.a.out, "capture.pcapng")) else c.pcap("capture.pcapng"))
    rsp = {r["frame"]: r for r in prsps}
    hits = [p for p in pcmds if not p["fabrics"] and p["qid"] and p["opc"] == 0x02 and p["slba"] == slba]
    if not hits:
        raise Fail("no Read of SLBA %#x on an I/O queue in the capture" % slba)
    p = hits[-1]
    r = rsp.get(p["rsp"])
    if not r:
        raise Fail("the Read of SLBA %#x (frame %d) has no response" % (slba, p["frame"]))
    if status_of(r["sts"]) != 0x0080:
        raise Fail("the Read of SLBA %#x: status %#x, expected 0x80 (LBA Out of Range)" % (
            slba, status_of(r["sts"])))
    return "frame %d Read qid %d cid %#x SLBA %#x -> frame %d nvme.cqe.status %#06x (SC 80h)" % (
        p["frame"], p["qid"], p["cid"], slba, r["frame"], r["sts"])


def t_failed_admin(c, args):
    opc = int(args[0], 0)
    rcmds, rcpls = c.ring_events(["opc", "%#x" % opc])
    pcmds, prsps = c.frames(c.pcap("capture.pcapng"))
    rsp = {r["frame"]: r for r in prsps}
    hits = [p for p in pcmds if not p["fabrics"] and p["qid"] == 0 and p["opc"] == opc]
    if len(hits) != len(rcmds) or not hits:
        raise Fail("admin opcode %#x: %d in the ring, %d in the capture" % (opc, len(rcmds), len(hits)))
    r = rsp.get(hits[-1]["rsp"])
    if not r or status_of(r["sts"]) != 0x0001:
        raise Fail("admin opcode %#x: status %s, expected Invalid Opcode (0x1)" % (
            opc, hex(status_of(r["sts"])) if r else "missing"))
    if not rcpls or rcpls[-1]["sts"] & 0x7ff != 0x0001:
        raise Fail("the ring's completion of opcode %#x: %s" % (opc, rcpls[-1]["line"] if rcpls else "none"))
    return "frame %d admin opc %#x cid %#x -> nvme.cqe.status %#06x (Invalid Opcode), as in the ring" % (
        hits[-1]["frame"], opc, hits[-1]["cid"], r["sts"])


def t_qids_without_connect(c, _args):
    rcmds, _ = c.ring_events(["io"])
    pcmds, prsps = c.frames(c.pcap("io-only.pcapng", ["io"]))
    if not rcmds:
        raise Fail("no I/O commands in the ring")
    if len(rcmds) != len(pcmds):
        raise Fail("ring has %d I/O commands, tshark %d" % (len(rcmds), len(pcmds)))
    for r, p in zip(rcmds, pcmds):
        if (r["qid"], r["cid"]) != (p["qid"], p["cid"]):
            raise Fail("frame %d: tshark qid=%s cid=%s, ring: %s" % (p["frame"], p["qid"], p["cid"], r["line"]))
    return "%d I/O commands on qids %s, all as in the ring" % (
        len(pcmds), sorted({p["qid"] for p in pcmds}))


def t_lua_registers(c, _args):
    path = os.path.join(c.a.out, "capture.pcapng")
    if not os.path.exists(path):
        path = c.pcap("capture.pcapng")
    lua = os.path.normpath(c.lua)
    if not os.path.exists(lua):
        raise Fail("no Lua dissector at %s" % lua)
    out = run(["tshark", "-X", "lua_script:" + lua, "-r", path, "-Y", "frankendrive",
               "-T", "fields", "-e", "_ws.col.Info"])
    lines = out.splitlines()
    cc = [l for l in lines if l.startswith("CC write") and "EN=1" in l]
    if not cc:
        raise Fail("no 'CC write: ... EN=1' among %d frankendrive records: %s" % (
            len(lines), " / ".join(lines[:5])))
    return "%d frankendrive records; %s" % (len(lines), cc[0])


TESTS = {"tshark-matches-ring": t_matches_ring, "tshark-failed-read": t_failed_read,
         "tshark-failed-admin": t_failed_admin, "tshark-qids-without-connect": t_qids_without_connect,
         "lua-registers": t_lua_registers}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ring", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--builddir", required=True)
    ap.add_argument("test", choices=sorted(TESTS))
    ap.add_argument("args", nargs="*")
    a = ap.parse_args()
    try:
        print(TESTS[a.test](Ctx(a), a.args))
        return 0
    except Fail as e:
        print(str(e))
        return 1
    except (OSError, subprocess.TimeoutExpired, ValueError) as e:
        print("%s: %s" % (type(e).__name__, e))
        return 1


if __name__ == "__main__":
    sys.exit(main())

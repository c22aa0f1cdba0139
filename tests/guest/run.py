#!/usr/bin/env python3
"""frankendrive real-host test runner.

Boots Debian's own Linux kernel under QEMU/TCG with a small initramfs and
lets it use frankendrive (running here, on 127.0.0.1) as an NVMe/TCP disk.
Each scenario (tests/guest/scenarios/NAME.sh) is one boot that runs many
named checks; results are printed as TAP ("ok 3 - basic/smart-counters").

See docs/guest-tests.md. Only the Python standard library is used.
"""

import argparse
import os
import re
import select
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
SCEN_DIR = os.path.join(HERE, "scenarios")
DEFAULT_NQN = "nqn.2026-11.io.frankendrive:drive0"


CHILDREN = []      # processes to kill if we are interrupted


def spawn(argv, **kw):
    p = subprocess.Popen(argv, start_new_session=True, **kw)
    CHILDREN.append(p)
    return p


def kill_children(*_):
    for p in CHILDREN:
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except OSError:
                pass


def on_signal(signum, _frame):
    kill_children()
    print("# interrupted by signal %d" % signum, flush=True)
    os._exit(128 + signum)


def log(msg):
    print("guest: " + msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------- TAP
class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0
        self.passed = 0
        self.skipped = 0

    def result(self, status, name, reason="", diag=()):
        self.n += 1
        if status == "ok":
            self.passed += 1
            line = "ok %d - %s" % (self.n, name)
        elif status == "skip":
            self.skipped += 1
            line = "ok %d - %s # SKIP %s" % (self.n, name, reason or "skipped")
        else:
            self.failed += 1
            line = "not ok %d - %s" % (self.n, name)
        print(line, flush=True)
        if status == "fail" and reason:
            self.diag("reason: " + reason)
        for d in diag:
            self.diag(d)

    @staticmethod
    def diag(text):
        for l in str(text).splitlines() or [""]:
            print("# " + l, flush=True)

    def finish(self):
        print("1..%d" % self.n, flush=True)
        print("# %d passed, %d failed, %d skipped" % (self.passed, self.failed, self.skipped),
              flush=True)


# --------------------------------------------------------------- scenarios
class Scenario:
    """A guest script with '#@ key: value' header lines.

    keys: tests (declared test names, in order), ns (one or more --ns specs,
    space separated; file namespaces get a path under the run directory),
    nqn, model, serial, firmware, drive-args (extra drive arguments), smp,
    mem, timeout (seconds), targets (drive and/or nvmet), order.
    NAME.host next to it is the optional host-side hook (bash).
    """

    def __init__(self, path):
        self.path = path
        self.name = os.path.basename(path)[:-3]
        self.meta = {}
        with open(path) as f:
            for line in f:
                m = re.match(r"^#@\s*([\w-]+)\s*:\s*(.*?)\s*$", line)
                if m:
                    k = m.group(1).lower()
                    self.meta[k] = (self.meta[k] + " " + m.group(2)) if k in self.meta else m.group(2)
        self.tests = self.meta.get("tests", "").split()
        self.ns = self.meta.get("ns", "ram,size=1G,lba=512").split()
        self.nqn = self.meta.get("nqn", DEFAULT_NQN)
        self.model = self.meta.get("model", "")
        self.serial = self.meta.get("serial", "")
        self.firmware = self.meta.get("firmware", "")
        self.drive_args = shlex.split(self.meta.get("drive-args", ""))
        self.smp = int(self.meta.get("smp", "1"))
        self.mem = self.meta.get("mem", "1G")
        self.timeout = int(self.meta.get("timeout", "300"))
        self.targets = self.meta.get("targets", "drive nvmet").split()
        self.order = int(self.meta.get("order", "50"))
        # host identities (1-based) the drive admits with --allow-host
        self.allow_hosts = [int(x) for x in self.meta.get("allow-hosts", "").split()]
        hook = os.path.join(os.path.dirname(path), self.name + ".host")
        self.hook = hook if os.path.isfile(hook) else None


def load_scenarios(names):
    allsc = {}
    for fn in sorted(os.listdir(SCEN_DIR)):
        if fn.endswith(".sh"):
            sc = Scenario(os.path.join(SCEN_DIR, fn))
            allsc[sc.name] = sc
    if names:
        missing = [n for n in names if n not in allsc]
        if missing:
            raise SystemExit("unknown scenario(s): %s (have: %s)" % (" ".join(missing), " ".join(allsc)))
        return [allsc[n] for n in names]
    # scenarios whose name starts with '_' run only when named
    return sorted((s for s in allsc.values() if not s.name.startswith("_")),
                  key=lambda s: (s.order, s.name))


# ------------------------------------------------------------------ helpers
def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def tcp_sockets(port):
    """(state, remote) of host TCP sockets whose local port is `port`."""
    out = []
    for fn in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(fn) as f:
                next(f)
                for line in f:
                    parts = line.split()
                    lport = int(parts[1].rsplit(":", 1)[1], 16)
                    if lport == port:
                        out.append((parts[3], parts[2]))
        except OSError:
            pass
    return out


def listening(port):
    return any(st == "0A" for st, _ in tcp_sockets(port))


def established(port):
    return sum(1 for st, _ in tcp_sockets(port) if st == "01")


def tail(path, n=60):
    try:
        with open(path, errors="replace") as f:
            return f.read().splitlines()[-n:]
    except OSError as e:
        return ["(cannot read %s: %s)" % (path, e)]


def cpio_newc(entries):
    """entries: list of (name, bytes, mode). Returns a newc archive."""
    out = bytearray()
    ino = 1000

    def pad4(b):
        while len(b) % 4:
            b.append(0)

    for name, data, mode in entries + [("TRAILER!!!", b"", 0)]:
        nb = name.encode() + b"\0"
        hdr = "070701" + "".join("%08X" % v for v in (
            ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(nb), 0))
        out += hdr.encode() + nb
        pad4(out)
        out += data
        pad4(out)
        ino += 1
    return bytes(out)


def fmt_s(t):
    return "%.1fs" % t


# -------------------------------------------------------------------- drive
class Drive:
    def __init__(self, exe, argv, logpath, port):
        self.exe = exe
        self.argv = argv
        self.logpath = logpath
        self.port = port
        self.proc = None
        self.starts = 0
        self.unexpected_exit = None
        self.log_offset = 0

    def start(self, wait=15.0):
        self.starts += 1
        with open(self.logpath, "a") as lf:
            lf.write("=== harness: start #%d: %s\n" % (self.starts, " ".join(shlex.quote(a) for a in [self.exe] + self.argv)))
        self.log_offset = os.path.getsize(self.logpath)
        lf = open(self.logpath, "a")
        self.proc = spawn([self.exe] + self.argv, stdin=subprocess.DEVNULL,
                          stdout=lf, stderr=subprocess.STDOUT)
        lf.close()
        t0 = time.time()
        while time.time() - t0 < wait:
            if self.proc.poll() is not None:
                return "drive exited with status %s during start-up" % self.proc.returncode
            if listening(self.port):
                return None
            time.sleep(0.05)
        return "drive not listening on 127.0.0.1:%d after %.0fs" % (self.port, wait)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig, wait=15.0):
        if not self.alive():
            return None
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(wait)
        except subprocess.TimeoutExpired:
            return "timeout"

    def kill_hard(self):
        if self.alive():
            self.proc.kill()
            self.proc.wait()

    def log_count(self, regex, all_starts=False):
        try:
            with open(self.logpath, errors="replace") as f:
                if not all_starts:
                    f.seek(self.log_offset)
                rx = re.compile(regex)
                return sum(1 for l in f if rx.search(l))
        except (OSError, re.error) as e:
            return "error: %s" % e


# ----------------------------------------------------------------- one boot
class Run:
    def __init__(self, args, sc, base, tap):
        self.args = args
        self.sc = sc
        self.base = base
        self.tap = tap
        self.target = args.target
        self.out = os.path.join(args.out, sc.name)
        self.drive = None
        self.results = []           # (status, name, reason, diag, t)
        self.pending_diag = []
        self.logs = []
        self.done_rc = None
        self.ready_t = None
        self.t0 = None
        self.last_t = None
        self.timing = []

    # -- guest requests -------------------------------------------------
    def handle_req(self, action, rest):
        if action == "drive-kill":
            if not self.drive:
                return "err", "no host drive (target %s)" % self.target
            sig = getattr(signal, "SIG" + (rest or "KILL").upper().replace("SIG", ""), signal.SIGKILL)
            rc = self.drive.signal(sig)
            return "ok", "drive stopped by %s, status %s" % (sig.name, rc)
        if action == "drive-start":
            if not self.drive:
                return "err", "no host drive"
            if self.drive.alive():
                return "err", "drive already running"
            err = self.drive.start()
            return ("err", err) if err else ("ok", "drive restarted (start #%d)" % self.drive.starts)
        if action == "drive-log-count":
            if not self.drive:
                return "err", "no host drive"
            return "ok", str(self.drive.log_count(rest))
        if action == "drive-log-count-all":
            if not self.drive:
                return "err", "no host drive"
            return "ok", str(self.drive.log_count(rest, all_starts=True))
        if action == "host-tcp-established":
            if not self.drive:
                return "err", "no host drive"
            return "ok", str(established(self.drive.port))
        if action == "hook":
            if not self.sc.hook:
                return "err", "scenario has no host hook"
            return self.run_hook(shlex.split(rest))
        if action == "drive-ctl":
            # drive-ctl ARGS...: `frankendrive ctl --port PORT ARGS...` on the
            # host (@PLUGINDIR@ in ARGS is BUILDDIR/plugins); replies with its
            # output, ok iff it exited 0
            if not self.drive:
                return "err", "no host drive (target %s)" % self.target
            argv = [self.drive.exe, "ctl", "--port", str(self.drive.port)] + \
                shlex.split(self.expand(rest))
            try:
                p = subprocess.run(argv, capture_output=True, text=True, timeout=60)
            except subprocess.TimeoutExpired:
                return "err", "frankendrive ctl timed out"
            text = " ".join((p.stdout + " " + p.stderr).split())
            return ("ok" if p.returncode == 0 else "err"), text
        if action == "echo":
            return "ok", rest
        return "err", "unknown request %r" % action

    def plugin_dir(self):
        return os.path.join(os.path.abspath(self.args.builddir), "plugins")

    def expand(self, text):
        """@PLUGINDIR@ -> BUILDDIR/plugins (where the shipped plug-ins are)"""
        return text.replace("@PLUGINDIR@", self.plugin_dir())

    def hook_env(self):
        env = dict(os.environ)
        env.update(FDR_OUT=self.out, FDR_TARGET=self.target, FDR_SCENARIO=self.sc.name,
                   FDR_PLUGIN_DIR=self.plugin_dir(), FDR_DRIVE_EXE=self.args.drive,
                   FDR_BUILDDIR=os.path.abspath(self.args.builddir))
        if self.drive:
            env.update(FDR_DRIVE_PID=str(self.drive.proc.pid if self.drive.alive() else ""),
                       FDR_DRIVE_LOG=self.drive.logpath, FDR_PORT=str(self.drive.port))
        return env

    def run_hook(self, argv):
        try:
            cmd = [self.sc.hook] if os.access(self.sc.hook, os.X_OK) else ["bash", self.sc.hook]
            p = subprocess.run(cmd + argv, env=self.hook_env(), capture_output=True,
                               text=True, timeout=120)
        except subprocess.TimeoutExpired:
            return "err", "hook timed out"
        text = " ".join((p.stdout + (" " + p.stderr if p.returncode else "")).split())
        return ("ok" if p.returncode == 0 else "err"), text

    # -- main ------------------------------------------------------------
    def prepare(self):
        shutil.rmtree(self.out, ignore_errors=True)
        os.makedirs(self.out)
        sc = self.sc
        env = {
            "FDR_SCENARIO": sc.name,
            "FDR_TARGET": self.target,
            "FDR_NQN": sc.nqn,
            "FDR_NS": " ".join(sc.ns),
            "FDR_MODEL": sc.model,
            "FDR_SERIAL": sc.serial,
            "FDR_FIRMWARE": sc.firmware,
            "FDR_SMP": str(sc.smp),
        }
        # three host identities: 1 is the guest's default (/etc/nvme/hostnqn),
        # 2 and 3 are for tests with more controllers or refused hosts
        ids = [str(uuid.uuid4()) for _ in range(3)]
        nqns = ["nqn.2014-08.org.nvmexpress:uuid:" + i for i in ids]
        for n, (hid, hnqn) in enumerate(zip(ids, nqns), 1):
            sfx = "" if n == 1 else str(n)
            env["FDR_HOSTID" + sfx] = hid
            env["FDR_HOSTNQN" + sfx] = hnqn
        allowed = [nqns[i - 1] for i in sc.allow_hosts if 1 <= i <= 3]
        if allowed:
            env["FDR_ALLOW_HOSTS"] = " ".join(allowed)
        if self.target == "drive":
            port, dport = free_port(), free_port()
            while dport == port:
                dport = free_port()
            env.update(FDR_ADDR="10.0.2.2", FDR_PORT=str(port), FDR_DISC_PORT=str(dport))
            # The flight recorder's ring goes with the run's other logs.
            argv = ["--listen", "127.0.0.1:%d" % port, "--discovery-port", str(dport),
                    "--nqn", sc.nqn, "--record", os.path.join(self.out, "drive.ring")]
            for i, spec in enumerate(sc.ns, 1):
                if spec.startswith("file") and "path=" not in spec:
                    img = os.path.join(self.out, "ns%d.img" % i)
                    m = re.search(r"size=(\d+)([KMGT]?)", spec, re.I)
                    if m:
                        mult = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
                        with open(img, "wb") as f:
                            f.truncate(int(m.group(1)) * mult[m.group(2).upper()])
                    spec = spec + ",path=" + img
                argv += ["--ns", spec]
            for h in allowed:
                argv += ["--allow-host", h]
            for opt, val in (("--serial", sc.serial), ("--model", sc.model), ("--firmware", sc.firmware)):
                if val:
                    argv += [opt, val]
            if self.args.drive_log_level:
                argv += ["--log-level", self.args.drive_log_level]
            argv += [self.expand(a) for a in sc.drive_args]
            self.drive = Drive(self.args.drive, argv, os.path.join(self.out, "drive.log"), port)
        else:
            env.update(FDR_ADDR="127.0.0.1", FDR_PORT="4420", FDR_DISC_PORT="8009")
        for k, v in os.environ.items():          # pass-through knobs
            if k.startswith("FDR_G_"):
                env[k[6:] if k[6:].startswith("FDR_") else "FDR_" + k[6:]] = v
        if self.args.shell:
            env["FDR_SHELL"] = "1"
        envtxt = "".join("export %s=%s\n" % (k, shlex.quote(v)) for k, v in sorted(env.items()))
        with open(self.sc.path, "rb") as f:
            script = f.read()
        # the kernel unpacks concatenated archives; the small scenario one goes
        # first (should the base ever be compressed: an uncompressed archive
        # after a compressed one is rejected)
        scen = cpio_newc([("fdr", b"", 0o40755),
                          ("fdr/env", envtxt.encode(), 0o100644),
                          ("fdr/scenario.sh", script, 0o100755)])
        self.initrd = os.path.join(self.out, "initrd.img")
        with open(self.initrd, "wb") as f:
            f.write(scen)
            with open(os.path.join(self.base, "base.cpio"), "rb") as b:
                shutil.copyfileobj(b, f)
        with open(os.path.join(self.out, "env"), "w") as f:
            f.write(envtxt)

    def qemu_argv(self, sock):
        sc = self.sc
        append = ("console=ttyS0,115200 loglevel=6 panic=-1 oops=panic mitigations=off "
                  "random.trust_cpu=on nvme_core.multipath=Y rdinit=/init")
        return [self.args.qemu, "-nodefaults", "-no-user-config", "-display", "none",
                "-no-reboot", "-accel", self.args.accel, "-cpu", "max",
                "-smp", str(sc.smp), "-m", sc.mem,
                "-kernel", os.path.join(self.base, "vmlinuz"), "-initrd", self.initrd,
                "-append", append,
                ] + (["-chardev", "stdio,id=con,signal=off,logfile=" + os.path.join(self.out, "console.log"),
                      "-serial", "chardev:con"] if self.args.shell else
                     ["-serial", "file:" + os.path.join(self.out, "console.log")]) + [
                "-chardev", "socket,id=ctl,path=" + sock, "-serial", "chardev:ctl",
                "-netdev", "user,id=n0", "-device", "virtio-net-pci,netdev=n0"]

    def record(self, status, name, reason=""):
        now = time.time()
        dt = now - (self.last_t or self.t0)
        self.last_t = now
        full = "%s/%s" % (self.sc.name, name)
        self.results.append((status, name))
        self.timing.append((full, dt))
        self.tap.result(status, full, reason, self.pending_diag)
        self.pending_diag = []

    def run(self):
        sc = self.sc
        self.t0 = time.time()
        self.prepare()
        if self.drive:
            err = self.drive.start()
            if err:
                self.drive.kill_hard()
                why = "drive failed to start: " + err
                diag = ["drive log (%s):" % self.drive.logpath] + tail(self.drive.logpath, 40)
                for t in sc.tests:
                    self.tap.result("fail", "%s/%s" % (sc.name, t), why, diag)
                    diag = []
                self.tap.result("fail", "%s/drive-exit" % sc.name, why)
                return
        if sc.hook:
            st, txt = self.run_hook(["setup"])
            if st != "ok":
                log("%s: hook setup: %s" % (sc.name, txt))
        # unix socket paths are limited to ~107 bytes: keep it short
        sockdir = tempfile.mkdtemp(prefix="fdr-guest-")
        sock = os.path.join(sockdir, "ctl.sock")
        lsock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        lsock.bind(sock)
        lsock.listen(1)
        qlog = open(os.path.join(self.out, "qemu.log"), "w")
        argv = self.qemu_argv(sock)
        qlog.write(" ".join(shlex.quote(a) for a in argv) + "\n")
        qlog.flush()
        timeout = sc.timeout * self.args.timeout_scale + (86400 if self.args.shell else 0)
        deadline = self.t0 + timeout
        if self.args.shell:     # the console is this terminal
            qemu = spawn(argv, stdin=None, stdout=None, stderr=qlog)
        else:
            qemu = spawn(argv, stdin=subprocess.DEVNULL, stdout=qlog, stderr=subprocess.STDOUT)
        conn = None
        buf = b""
        ended = None
        console = os.path.join(self.out, "console.log")
        con_off = 0
        ctl_closed = False
        lsock.settimeout(0.2)
        try:
            while True:
                if self.args.verbose and not self.args.shell:
                    con_off = self.echo_console(console, con_off)
                if time.time() > deadline:
                    ended = "timeout after %ds" % timeout
                    break
                if qemu.poll() is not None:
                    if conn:
                        # drain whatever is still buffered
                        conn.setblocking(False)
                        try:
                            buf += conn.recv(65536)
                        except (BlockingIOError, OSError):
                            pass
                        buf = self.handle_lines(buf, conn)
                    if self.done_rc is None:
                        ended = "QEMU exited with status %s before the guest finished" % qemu.returncode
                    break
                if conn is None:
                    if ctl_closed:
                        time.sleep(0.2)
                        continue
                    try:
                        conn, _ = lsock.accept()
                    except socket.timeout:
                        continue
                    continue
                r, _, _ = select.select([conn], [], [], 0.2)
                if r:
                    data = conn.recv(65536)
                    if not data:          # QEMU closed the channel
                        conn.close()
                        conn = None
                        ctl_closed = True
                        continue
                    buf = self.handle_lines(buf + data, conn)
                if self.done_rc is not None:
                    try:
                        qemu.wait(30)
                    except subprocess.TimeoutExpired:
                        ended = "QEMU did not power off"
                    break
        finally:
            if qemu.poll() is None:
                qemu.terminate()
                try:
                    qemu.wait(10)
                except subprocess.TimeoutExpired:
                    qemu.kill()
                    qemu.wait()
            if conn:
                conn.close()
            lsock.close()
            shutil.rmtree(sockdir, ignore_errors=True)
            qlog.close()
            if self.args.verbose and not self.args.shell:
                self.echo_console(console, con_off)
        t_guest = time.time() - self.t0
        if not self.args.keep_initrd:
            try:
                os.unlink(self.initrd)     # ~100 MB, rebuilt for every boot
            except OSError:
                pass

        # tests the guest never reported
        reported = {n for _, n in self.results}
        missing = [t for t in sc.tests if t not in reported]
        why = ended or ("guest finished (rc %s) without reporting" % self.done_rc)
        for t in missing:
            self.tap.result("fail", "%s/%s" % (sc.name, t), "no result from the guest: " + why,
                            self.pending_diag)
            self.pending_diag = []
            self.results.append(("fail", t))

        if sc.hook:
            self.run_hook(["teardown"])
        # stop the drive: SIGTERM must give exit status 0
        if self.drive:
            if not self.drive.alive():
                rc = self.drive.proc.returncode
                self.tap.result("fail", "%s/drive-exit" % sc.name,
                                "drive was not running at the end (exit status %s)" % rc,
                                ["drive log (%s):" % self.drive.logpath] + tail(self.drive.logpath, 40))
                self.results.append(("fail", "drive-exit"))
            else:
                rc = self.drive.signal(signal.SIGTERM, wait=20)
                if rc == "timeout":
                    self.drive.kill_hard()
                if rc == 0:
                    self.tap.result("ok", "%s/drive-exit" % sc.name)
                    self.results.append(("ok", "drive-exit"))
                else:
                    self.tap.result("fail", "%s/drive-exit" % sc.name,
                                    "SIGTERM -> exit status %s (expected 0)" % rc,
                                    ["drive log (%s):" % self.drive.logpath] + tail(self.drive.logpath, 40))
                    self.results.append(("fail", "drive-exit"))

        failed = any(st == "fail" for st, _ in self.results)
        if ended:
            Tap.diag("%s: %s" % (sc.name, ended))
        if failed or ended:
            Tap.diag("---- %s: guest console (last 60 lines of %s)" % (sc.name, console))
            for l in tail(console, 60):
                Tap.diag("  " + l)
            if self.drive:
                Tap.diag("---- %s: drive log (last 40 lines of %s)" % (sc.name, self.drive.logpath))
                for l in tail(self.drive.logpath, 40):
                    Tap.diag("  " + l)
        boot = ("%.1fs" % (self.ready_t - self.t0)) if self.ready_t else "n/a"
        Tap.diag("timing: %s: boot-to-ready %s, whole boot %s (smp %d)" %
                 (sc.name, boot, fmt_s(t_guest), sc.smp))
        for name, dt in self.timing:
            Tap.diag("timing:   %-40s %s" % (name, fmt_s(dt)))
        return t_guest

    def echo_console(self, path, off):
        try:
            with open(path, "rb") as f:
                f.seek(off)
                data = f.read()
        except OSError:
            return off
        if data:
            sys.stderr.write(data.decode(errors="replace"))
            sys.stderr.flush()
        return off + len(data)

    def handle_lines(self, buf, conn):
        while b"\n" in buf:
            raw, buf = buf.split(b"\n", 1)
            line = raw.decode(errors="replace").strip("\r\0 ")
            if not line:
                continue
            kind, _, rest = line.partition(" ")
            if kind == "READY":
                self.ready_t = time.time()
                self.last_t = self.ready_t
            elif kind == "RESULT":
                parts = rest.split(" ", 2)
                if len(parts) >= 2:
                    st = {"ok": "ok", "fail": "fail", "skip": "skip"}.get(parts[0], "fail")
                    self.record(st, parts[1], parts[2] if len(parts) > 2 else "")
            elif kind == "DIAG":
                self.pending_diag.append(rest)
            elif kind == "LOG":
                Tap.diag("%s: %s" % (self.sc.name, rest))
            elif kind == "REQ":
                rid, _, cmd = rest.partition(" ")
                action, _, args = cmd.partition(" ")
                t = time.time()
                st, txt = self.handle_req(action, args)
                if self.args.verbose:
                    log("%s: request %s %s -> %s %s (%.1fs)" % (self.sc.name, action, args, st, txt,
                                                               time.time() - t))
                conn.sendall(("REP %s %s %s\n" % (rid, st, txt.replace("\n", " "))).encode())
            elif kind == "DONE":
                try:
                    self.done_rc = int(rest.split()[0])
                except (ValueError, IndexError):
                    self.done_rc = -1
        return buf


# --------------------------------------------------------------------- main
def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("scenarios", nargs="*", help="scenario names (default: all for the target)")
    ap.add_argument("--drive", default=os.environ.get("FDR_DRIVE"),
                    help="frankendrive executable (default: BUILDDIR/tools/frankendrive)")
    ap.add_argument("--builddir", default=os.environ.get("FDR_BUILDDIR"))
    ap.add_argument("--cache", default=os.environ.get("FDR_GUEST_CACHE"),
                    help="kernel/initramfs cache (default: BUILDDIR/guest-cache)")
    ap.add_argument("--out", default=os.environ.get("FDR_GUEST_OUT"),
                    help="per-scenario logs (default: BUILDDIR/guest-runs)")
    ap.add_argument("--target", choices=("drive", "nvmet"),
                    default=os.environ.get("FDR_GUEST_TARGET", "drive"),
                    help="drive: frankendrive on the host; nvmet: Linux's target inside the guest")
    ap.add_argument("--qemu", default=os.environ.get("FDR_QEMU", "qemu-system-x86_64"))
    ap.add_argument("--timeout-scale", type=float,
                    default=float(os.environ.get("FDR_GUEST_TIMEOUT_SCALE", "1")))
    ap.add_argument("--drive-log-level", default=os.environ.get("FDR_DRIVE_LOG_LEVEL", "info"),
                    help="--log-level passed to the drive ('' for none)")
    ap.add_argument("-v", "--verbose", action="store_true",
                    default=bool(os.environ.get("FDR_GUEST_VERBOSE")),
                    help="copy the guest console to stderr as it runs")
    ap.add_argument("--shell", action="store_true",
                    help="interactive: the guest console is this terminal and the guest "
                         "drops to a shell after the scenario (exit the shell to finish)")
    ap.add_argument("--list", action="store_true", help="list scenarios and their tests")
    ap.add_argument("--keep-initrd", action="store_true",
                    help="keep OUT/SCENARIO/initrd.img (to boot it again by hand)")
    ap.add_argument("--exit-zero", action="store_true",
                    help="exit 0 even when tests failed (meson judges the TAP stream)")
    ap.add_argument("--accel", default=os.environ.get("FDR_GUEST_ACCEL"),
                    help="QEMU accelerator (default tcg,thread=multi; 'kvm' where KVM works)")
    args = ap.parse_args()
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, on_signal)

    if not args.builddir:
        args.builddir = os.path.dirname(os.path.dirname(args.drive)) if args.drive else os.getcwd()
    if not args.drive:
        args.drive = os.path.join(args.builddir, "tools", "frankendrive")
    args.drive = os.path.abspath(args.drive)
    # TCG unless asked otherwise: a /dev/kvm node may exist where KVM does not work
    args.accel = args.accel or "tcg,thread=multi"
    args.cache = args.cache or os.path.join(args.builddir, "guest-cache")
    args.out = os.path.abspath(args.out or os.path.join(args.builddir, "guest-runs"))

    if not args.scenarios and os.environ.get("FDR_GUEST_SCENARIOS"):
        args.scenarios = os.environ["FDR_GUEST_SCENARIOS"].replace(",", " ").split()
    scenarios = [s for s in load_scenarios(args.scenarios) if args.target in s.targets]
    if args.list:
        for s in scenarios:
            print("%-14s smp=%d ns=%s targets=%s\n    tests: %s" %
                  (s.name, s.smp, " ".join(s.ns), " ".join(s.targets), " ".join(s.tests)))
        return 0

    tap = Tap()
    Tap.diag("guest suite: target=%s scenarios=%s" % (args.target, " ".join(s.name for s in scenarios)))

    def skip_all(reason):
        for s in scenarios:
            for t in s.tests + (["drive-exit"] if args.target == "drive" else []):
                tap.result("skip", "%s/%s" % (s.name, t), reason)
        tap.finish()
        return 0

    if not shutil.which(args.qemu):
        return skip_all("%s not found (run scripts/guest-deps.sh)" % args.qemu)
    if args.target == "drive" and not os.access(args.drive, os.X_OK):
        return skip_all("drive executable %s not found" % args.drive)

    t = time.time()
    p = subprocess.run([os.path.join(HERE, "build-base.sh"), args.cache],
                       capture_output=True, text=True)
    for l in p.stderr.splitlines():
        Tap.diag(l)
    if p.returncode != 0:
        reason = (p.stderr.strip().splitlines() or ["build-base.sh failed"])[-1]
        if p.returncode == 2:
            return skip_all(reason)
        # an unexpected failure of the harness itself is an error, not a skip
        tap.result("fail", "guest-base", reason)
        tap.finish()
        return 0 if args.exit_zero else 1
    base = p.stdout.strip().splitlines()[-1]
    Tap.diag("timing: guest base ready in %s (%s)" % (fmt_s(time.time() - t), base))

    os.makedirs(args.out, exist_ok=True)
    total = time.time()
    for s in scenarios:
        Run(args, s, base, tap).run()
    Tap.diag("timing: all boots %s" % fmt_s(time.time() - total))
    tap.finish()
    return 1 if tap.failed and not args.exit_zero else 0


if __name__ == "__main__":
    sys.exit(main())

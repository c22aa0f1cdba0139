#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# Live streaming: how many recorder events a live `nvmedump -i` consumes
# from a busy drive, how many it loses, and what it costs the drive.  One
# drive runs throughout; every repetition runs fdr_bench once per reader
# mode, alternating, so machine noise hits all modes alike:
#
#   none     no reader attached
#   text     nvmedump -i SOCK > /dev/null      (every event formatted)
#   filter   nvmedump -i SOCK kind aen         (every event read and
#                                               filtered, none printed)
#   pcapng   nvmedump -i SOCK -w /dev/null     (only if nvmedump has -w)
#
#   bench/stream.sh [BUILD_DIR] [REPS]         (default: ./build, 3)
#
# Environment:
#   TIME=5 RAMP=1        measured / unmeasured seconds per fdr_bench run
#   WORKLOAD=randread QD=32 QUEUES=1   the load
#   EVENTS=1000000       the drive's --record-events (ring slots)
#   DRIVE_CPU=0 BENCH_CPU=1 DUMP_CPU=1 CPU lists (taskset)
#   NICE=0               nvmedump's nice value (19: it gets only idle CPU)
#   MODES="none text filter pcapng"
#   IDLE=10              then seconds of a reader attached to the idle drive,
#                        for its CPU use and wake-ups (0: skip)
#
# Prints a markdown table: per run IOPS, the drive's CPU % and CPU time per
# I/O (if the reader slowed the drive's hot path, that would rise), events
# the drive recorded per second while the reader was attached, events
# nvmedump read per second, lost events, nvmedump's own CPU % and events
# read per second of its CPU time (what one core of it keeps up with; the
# time it spins waiting counts too, so this is a lower bound).
set -euo pipefail

BUILD=${1:-build}
REPS=${2:-3}
DRIVE=$BUILD/tools/frankendrive
BENCH=$BUILD/bench/fdr_bench
DUMP=$BUILD/tools/nvmedump/nvmedump
TIME=${TIME:-5}
RAMP=${RAMP:-1}
WORKLOAD=${WORKLOAD:-randread}
QD=${QD:-32}
QUEUES=${QUEUES:-1}
EVENTS=${EVENTS:-1000000}
DRIVE_CPU=${DRIVE_CPU:-0}
BENCH_CPU=${BENCH_CPU:-1}
DUMP_CPU=${DUMP_CPU:-1}
NICE=${NICE:-0}
MODES=${MODES:-"none text filter pcapng"}
IDLE=${IDLE:-10}
NQN=nqn.2026-11.io.frankendrive:stream

for f in "$DRIVE" "$BENCH" "$DUMP"; do
	[ -x "$f" ] || { echo "stream.sh: $f not found (build first, or pass the build dir)" >&2; exit 1; }
done
if ! "$DUMP" --help | grep -q -- '-w, --write'; then
	MODES=${MODES//pcapng/}
fi

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
PORT=$(free_port)
TMP=$(mktemp -d -t fdr-stream.XXXXXX)
DRIVE_PID=
DUMP_PID=
cleanup() {
	[ -n "$DUMP_PID" ] && kill -KILL "$DUMP_PID" 2>/dev/null || true
	if [ -n "$DRIVE_PID" ] && kill -0 "$DRIVE_PID" 2>/dev/null; then
		kill -TERM "$DRIVE_PID" 2>/dev/null || true
		wait "$DRIVE_PID" 2>/dev/null || true
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT

taskset -c "$DRIVE_CPU" "$DRIVE" -l "127.0.0.1:$PORT" --discovery-port 0 -n "$NQN" \
	--ns null,size=1G --cores 1 --queues 4 --queue-depth 128 --log-level warn \
	--ctl "$TMP/ctl.sock" --record "$TMP/ring" --record-events "$EVENTS" 2>"$TMP/drive.log" &
DRIVE_PID=$!
for _ in $(seq 100); do
	(exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
	kill -0 "$DRIVE_PID" 2>/dev/null || { echo "drive exited:" >&2; cat "$TMP/drive.log" >&2; exit 1; }
	sleep 0.1
done

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

run_one() { # mode -> one table row
	local mode=$1 args=() out res t0 t1 c0 c1 live
	case $mode in
	none) ;;
	text) args=() ;;
	filter) args=(kind aen) ;;
	pcapng) args=(-w /dev/null) ;;
	*) echo "unknown mode $mode" >&2; exit 1 ;;
	esac
	if [ "$mode" != none ]; then
		: >"$TMP/dump.err"
		taskset -c "$DUMP_CPU" nice -n "$NICE" "$DUMP" -i "$TMP/ctl.sock" "${args[@]}" \
			>/dev/null 2>"$TMP/dump.err" &
		DUMP_PID=$!
		for _ in $(seq 100); do
			grep -q 'listening on' "$TMP/dump.err" && break
			kill -0 "$DUMP_PID" 2>/dev/null || { cat "$TMP/dump.err" >&2; exit 1; }
			sleep 0.05
		done
		c0=$(cpu_ticks "$DUMP_PID")
	fi
	t0=$(date +%s.%N)
	out=$(taskset -c "$BENCH_CPU" "$BENCH" --port "$PORT" --nqn "$NQN" --workload "$WORKLOAD" \
		--bs 4096 --qd "$QD" --queues "$QUEUES" --time "$TIME" --ramp "$RAMP" \
		--cpus "$BENCH_CPU" --target-pid "$DRIVE_PID" 2>&1)
	t1=$(date +%s.%N)
	res=$(grep '^RESULT' <<<"$out") || { echo "| $mode | fdr_bench failed: $(tr '\n' ' ' <<<"$out" | cut -c1-100) |"; return; }
	if [ "$mode" = none ]; then
		printf '| %s | %s | %s | %s | - | - | - | - | - |\n' "$mode" "$(field iops "$res")" \
			"$(field cpu_target "$res")" \
			"$(python3 -c "print(f'{$(field cpu_target "$res")*1e4/max($(field iops "$res"),1):.2f}')")"
		return
	fi
	c1=$(cpu_ticks "$DUMP_PID")
	kill -INT "$DUMP_PID"
	wait "$DUMP_PID" || true
	DUMP_PID=
	live=$(grep '^live:' "$TMP/dump.err" || true)
	# live: seq A to B followed: R events read, L lost
	python3 - "$live" "$t0" "$t1" "$c0" "$c1" "$(getconf CLK_TCK)" "$mode" "$(field iops "$res")" \
		"$(field cpu_target "$res")" <<'EOF'
import re, sys
live, t0, t1, c0, c1, hz, mode, iops, cpu = sys.argv[1:]
m = re.search(r'seq (\d+) to (\d+) followed: (\d+) events read, (\d+) lost', live)
dt = float(t1) - float(t0)
if not m:
    print(f'| {mode} | {iops} | {cpu} | no live line: {live!r} |')
    sys.exit(0)
a, b, rd, lost = map(int, m.groups())
total = b - a + 1
dcpu = 100.0 * (int(c1) - int(c0)) / int(hz) / dt
per_io = float(cpu) * 1e4 / max(int(iops), 1)
per_cpu = f'{rd / dt / (dcpu / 100.0):,.0f}' if dcpu > 0 else '-'
print(f'| {mode} | {iops} | {cpu} | {per_io:.2f} | {total/dt:,.0f} | {rd/dt:,.0f} '
      f'| {lost} ({100.0*lost/max(total,1):.2f} %) | {dcpu:.1f} | {per_cpu} |')
EOF
}

echo "# live streaming: $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')); drive CPU $DRIVE_CPU (--cores 1, null, --record-events $EVENTS), fdr_bench CPU $BENCH_CPU ($WORKLOAD 4 KiB QD $QD x $QUEUES, ${RAMP}+${TIME} s), nvmedump CPU $DUMP_CPU (nice $NICE); load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| reader | IOPS | drive CPU % | drive CPU us/IO | events/s recorded | events/s read | lost | nvmedump CPU % | events per nvmedump CPU-s |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
for _ in $(seq "$REPS"); do
	for mode in $MODES; do
		run_one "$mode"
	done
done

if [ "$IDLE" != 0 ]; then
	taskset -c "$DUMP_CPU" "$DUMP" -i "$TMP/ctl.sock" >/dev/null 2>"$TMP/dump.err" &
	DUMP_PID=$!
	sleep 1 # past the spin and the first back-off steps
	c0=$(cpu_ticks "$DUMP_PID")
	w0=$(awk '/^voluntary_ctxt_switches/ {print $2}' "/proc/$DUMP_PID/status")
	sleep "$IDLE"
	c1=$(cpu_ticks "$DUMP_PID")
	w1=$(awk '/^voluntary_ctxt_switches/ {print $2}' "/proc/$DUMP_PID/status")
	kill -INT "$DUMP_PID"
	wait "$DUMP_PID" || true
	DUMP_PID=
	echo
	echo "Idle drive, reader attached for ${IDLE} s: nvmedump CPU $(python3 -c "print(round(100.0*($c1-$c0)/$(getconf CLK_TCK)/$IDLE, 2))") %, $(( (w1 - w0) / IDLE )) wake-ups/s"
fi
kill -TERM "$DRIVE_PID"
wait "$DRIVE_PID" || { echo "drive exited with an error:" >&2; cat "$TMP/drive.log" >&2; exit 1; }
DRIVE_PID=

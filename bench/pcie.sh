#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# PCIe benchmark: the drive's NVMe PCIe function over vfio-user, driven by
# fdr_pcie_bench (the project's own vfio-user client, no SPDK).  Starts the
# drive with a RAM namespace, preconditions it with one sequential write
# pass (the RAM namespace is sparse: unwritten reads and first writes
# measure something else), runs 4 KiB randread/randwrite x QD 1/32 and
# prints a markdown table.  "drive CPU %" is the drive's utime + stime over
# the measured window / wall time, so the doorbell poller's cost shows.
#
#   bench/pcie.sh [BUILD_DIR]          (default: ./build)
#
# Environment:
#   TIME=10        measured seconds per run (plus RAMP)
#   RAMP=1         unmeasured seconds before each run
#   DRIVE_CPU=0    CPU list for the drive (taskset), one reactor (--cores 1)
#   BENCH_CPU=1    CPU for fdr_pcie_bench
#   WORKLOADS="randread randwrite"  QDS="1 32"  QUEUES="1"  BS=4096
#   NS_SIZE=1G     RAM namespace size
#   PRECOND=1      0: no sequential write pass first
#   EXTRA_DRIVE_ARGS, EXTRA_BENCH_ARGS   appended to the command lines
set -euo pipefail

BUILD=${1:-build}
DRIVE=$BUILD/tools/frankendrive
BENCH=$BUILD/bench/fdr_pcie_bench
TIME=${TIME:-10}
RAMP=${RAMP:-1}
DRIVE_CPU=${DRIVE_CPU:-0}
BENCH_CPU=${BENCH_CPU:-1}
WORKLOADS=${WORKLOADS:-"randread randwrite"}
QDS=${QDS:-"1 32"}
QUEUES=${QUEUES:-"1"}
BS=${BS:-4096}
NS_SIZE=${NS_SIZE:-1G}
PRECOND=${PRECOND:-1}
EXTRA_DRIVE_ARGS=${EXTRA_DRIVE_ARGS:-}
EXTRA_BENCH_ARGS=${EXTRA_BENCH_ARGS:-}

for f in "$DRIVE" "$BENCH"; do
	[ -x "$f" ] || { echo "pcie.sh: $f not found (build first, or pass the build dir)" >&2; exit 1; }
done

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
# The drive always has an NVMe/TCP listener; keep it off the default port.
PORT=${PORT:-$(free_port)}

TMP=$(mktemp -d -t fdr-pcie-bench.XXXXXX)
VFU=$TMP/vfu
LOG=$TMP/drive.log
DRIVE_PID=
cleanup() {
	if [ -n "$DRIVE_PID" ] && kill -0 "$DRIVE_PID" 2>/dev/null; then
		kill -TERM "$DRIVE_PID" 2>/dev/null || true
		wait "$DRIVE_PID" 2>/dev/null || true
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT

start_drive() {
	# shellcheck disable=SC2086
	taskset -c "$DRIVE_CPU" "$DRIVE" -l "127.0.0.1:$PORT" --discovery-port 0 \
		--ns "ram,size=$NS_SIZE" --cores 1 --log-level warn --no-ctl \
		--record "$TMP/ring" --vfio-user "$VFU" $EXTRA_DRIVE_ARGS 2>>"$LOG" &
	DRIVE_PID=$!
	for _ in $(seq 100); do
		[ -S "$VFU/cntrl" ] && return 0
		kill -0 "$DRIVE_PID" 2>/dev/null || { echo "drive exited; log:" >&2; cat "$LOG" >&2; exit 1; }
		sleep 0.1
	done
	echo "drive did not create $VFU/cntrl" >&2
	exit 1
}

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

load=$(cut -d' ' -f1-3 /proc/loadavg)
echo "# frankendrive PCIe (vfio-user) benchmark: $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), load average at start $load, drive on CPU $DRIVE_CPU (--cores 1, RAM namespace $NS_SIZE${EXTRA_DRIVE_ARGS:+, $EXTRA_DRIVE_ARGS}), fdr_pcie_bench on CPU $BENCH_CPU, ${TIME}s per run after ${RAMP}s ramp"
echo
status=0
start_drive
if [ "$PRECOND" != 0 ]; then
	out=$(taskset -c "$BENCH_CPU" "$BENCH" --fill --time 0 --bs 131072 --qd 32 "$VFU" 2>&1) || {
		echo "precondition failed: $out" >&2
		exit 1
	}
	echo "Precondition: one sequential pass of 128 KiB writes, QD 32: ${out#fdr_pcie_bench: }"
	echo
fi
echo "| workload | bs | QD | queues | IOPS | MiB/s | mean us | p50 us | p99 us | p99.9 us | errors | bench CPU % | drive CPU % |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for wl in $WORKLOADS; do
	for qd in $QDS; do
		for nq in $QUEUES; do
			# shellcheck disable=SC2086
			out=$(taskset -c "$BENCH_CPU" "$BENCH" --workload "$wl" --bs "$BS" --qd "$qd" \
				--queues "$nq" --time "$TIME" --ramp "$RAMP" \
				--target-pid "$DRIVE_PID" $EXTRA_BENCH_ARGS "$VFU" 2>&1) || status=1
			res=$(grep '^RESULT' <<<"$out" || true)
			if [ -z "$res" ]; then
				echo "| $wl | $BS | $qd | $nq | failed: $(tr '\n' ' ' <<<"$out" | cut -c1-160) |"
				status=1
				continue
			fi
			printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' \
				"$wl" "$BS" "$qd" "$nq" "$(field iops "$res")" "$(field mibs "$res")" \
				"$(field mean_us "$res")" "$(field p50_us "$res")" "$(field p99_us "$res")" \
				"$(field p999_us "$res")" "$(field errors "$res")" \
				"$(field cpu_bench "$res")" "$(field cpu_target "$res")"
		done
	done
done
stop_drive
exit $status

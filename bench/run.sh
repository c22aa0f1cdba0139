#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# Run the standard benchmark matrix against the drive and print a markdown
# table: 4 KiB randread/randwrite x QD 1/32 x 1/4 queues x ram/null backend.
#
#   bench/run.sh [BUILD_DIR]          (default: ./build)
#
# Environment:
#   TIME=10        measured seconds per run (plus RAMP)
#   RAMP=1         unmeasured seconds before each run
#   DRIVE_CPU=0    CPU list for the drive (taskset), one reactor (--cores 1)
#   BENCH_CPU=1    CPU list for fdr_bench
#   BACKENDS="ram null"  WORKLOADS="randread randwrite"  QDS="1 32"  QUEUES="1 4"
#   PORT=<free>    listener port
#   EXTRA_DRIVE_ARGS, EXTRA_BENCH_ARGS   appended to the command lines
set -euo pipefail

BUILD=${1:-build}
DRIVE=$BUILD/tools/frankendrive
BENCH=$BUILD/bench/fdr_bench
TIME=${TIME:-10}
RAMP=${RAMP:-1}
DRIVE_CPU=${DRIVE_CPU:-0}
BENCH_CPU=${BENCH_CPU:-1}
BACKENDS=${BACKENDS:-"ram null"}
WORKLOADS=${WORKLOADS:-"randread randwrite"}
QDS=${QDS:-"1 32"}
QUEUES=${QUEUES:-"1 4"}
NQN=nqn.2026-11.io.frankendrive:bench
EXTRA_DRIVE_ARGS=${EXTRA_DRIVE_ARGS:-}
EXTRA_BENCH_ARGS=${EXTRA_BENCH_ARGS:-}

for f in "$DRIVE" "$BENCH"; do
	[ -x "$f" ] || { echo "run.sh: $f not found (build first, or pass the build dir)" >&2; exit 1; }
done

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
PORT=${PORT:-$(free_port)}

LOG=$(mktemp -t fdr-bench-drive.XXXXXX)
DRIVE_PID=
cleanup() {
	if [ -n "$DRIVE_PID" ] && kill -0 "$DRIVE_PID" 2>/dev/null; then
		kill -TERM "$DRIVE_PID" 2>/dev/null || true
		wait "$DRIVE_PID" 2>/dev/null || true
	fi
}
trap cleanup EXIT

start_drive() {
	local backend=$1 spec
	case $backend in
	ram) spec="ram,size=1G" ;;
	null) spec="null,size=1G" ;;
	*) echo "unknown backend $backend" >&2; exit 1 ;;
	esac
	# shellcheck disable=SC2086
	taskset -c "$DRIVE_CPU" "$DRIVE" -l "127.0.0.1:$PORT" --discovery-port 0 -n "$NQN" \
		--ns "$spec" --cores 1 --queues 4 --queue-depth 128 --log-level warn \
		--no-ctl --record "$LOG.ring" \
		$EXTRA_DRIVE_ARGS 2>>"$LOG" &
	DRIVE_PID=$!
	for _ in $(seq 100); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
			return 0
		fi
		kill -0 "$DRIVE_PID" 2>/dev/null || { echo "drive exited; log:" >&2; cat "$LOG" >&2; exit 1; }
		sleep 0.1
	done
	echo "drive did not start listening on $PORT" >&2
	exit 1
}

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

echo "# frankendrive benchmark: $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), drive on CPU $DRIVE_CPU (--cores 1), fdr_bench on CPU $BENCH_CPU, ${TIME}s per run"
echo
echo "| backend | workload | QD | queues | IOPS | MiB/s | p50 us | p99 us | p99.9 us | bench CPU % | drive CPU % |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
status=0
for backend in $BACKENDS; do
	start_drive "$backend"
	for wl in $WORKLOADS; do
		for qd in $QDS; do
			for nq in $QUEUES; do
				# shellcheck disable=SC2086
				out=$(taskset -c "$BENCH_CPU" "$BENCH" --port "$PORT" --nqn "$NQN" \
					--workload "$wl" --bs 4096 --qd "$qd" --queues "$nq" \
					--time "$TIME" --ramp "$RAMP" --cpus "$BENCH_CPU" \
					--target-pid "$DRIVE_PID" $EXTRA_BENCH_ARGS 2>&1) || status=1
				res=$(grep '^RESULT' <<<"$out" || true)
				if [ -z "$res" ]; then
					echo "| $backend | $wl | $qd | $nq | failed: $(tr '\n' ' ' <<<"$out" | cut -c1-120) |"
					status=1
					continue
				fi
				printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' \
					"$backend" "$wl" "$qd" "$nq" "$(field iops "$res")" \
					"$(field mibs "$res")" "$(field p50_us "$res")" \
					"$(field p99_us "$res")" "$(field p999_us "$res")" \
					"$(field cpu_bench "$res")" "$(field cpu_target "$res")"
			done
		done
	done
	stop_drive
done
rm -f "$LOG" "$LOG.ring"
exit $status

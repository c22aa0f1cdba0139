#!/usr/bin/env bash
# Compare two builds of the drive in one run, alternating them point by
# point, so machine noise hits both alike.  Reports IOPS and IOPS per
# percent of the drive's core (the CPU-normalised figure is steadier than
# IOPS on a shared machine).
#
#   bench/ab.sh BUILD_A BUILD_B [REPS]
#   TIME=4 WORKLOADS="randread:32:1 randwrite:32:4" bench/ab.sh build-old build
#
# The load generator is BUILD_B's fdr_bench for both.  Drive on CPU 0
# (--cores 1, null namespace), fdr_bench on CPU 1.
set -euo pipefail
A=${1:?usage: bench/ab.sh BUILD_A BUILD_B [REPS]}
B=${2:?usage: bench/ab.sh BUILD_A BUILD_B [REPS]}
REPS=${3:-5}
TIME=${TIME:-4}
WORKLOADS=${WORKLOADS:-"randread:32:1 randwrite:32:4"}
BENCH=$B/bench/fdr_bench

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

run_one() { # build workload qd queues -> "iops cpu"
	local port pid out
	port=$(free_port)
	# Builds from before the control socket have no --no-ctl.
	local extra=()
	"$1/tools/frankendrive" --help | grep -q -- --no-ctl && extra=(--no-ctl)
	# The recorder (where built in) keeps its ring out of /run.
	"$1/tools/frankendrive" --help | grep -q -- --record && extra+=(--record "/tmp/fdr-ab-$port.ring")
	taskset -c 0 "$1/tools/frankendrive" --cores 1 --listen "127.0.0.1:$port" --discovery-port 0 \
		"${extra[@]}" --ns null,size=1G --log-level warn 2>/dev/null &
	pid=$!
	for _ in $(seq 50); do
		(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
		sleep 0.1
	done
	out=$("$BENCH" --port "$port" --workload "$2" --qd "$3" --queues "$4" --time "$TIME" \
		--ramp 1 --cpus 1 --target-pid "$pid" | grep '^RESULT')
	kill -TERM "$pid"
	wait "$pid" || true
	rm -f "/tmp/fdr-ab-$port.ring"
	echo "$out" | sed -E 's/.*iops=([0-9]+).*cpu_target=([0-9.]+).*/\1 \2/'
}

printf '| workload | build | IOPS (each run) | IOPS per %% core, mean |\n|---|---|---|---:|\n'
for w in $WORKLOADS; do
	IFS=: read -r wl qd nq <<<"$w"
	declare -A iops=() eff=()
	for _ in $(seq "$REPS"); do
		for b in "$A" "$B"; do
			read -r i c < <(run_one "$b" "$wl" "$qd" "$nq")
			iops[$b]+="$i "
			eff[$b]+="$(python3 -c "print($i/$c if $c>0 else 0)") "
		done
	done
	for b in "$A" "$B"; do
		mean=$(python3 -c "v=[float(x) for x in '${eff[$b]}'.split()]; print(round(sum(v)/len(v)))")
		printf '| %s QD%s x%s | %s | %s | %s |\n' "$wl" "$qd" "$nq" "$b" "${iops[$b]}" "$mean"
	done
	unset iops eff
done

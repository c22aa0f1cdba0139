# frankendrive guest helper library (busybox ash). Sourced by /init and by
# every scenario script.
#
# Control channel protocol (fd 7 = /dev/ttyS1 <-> host runner), one line each:
#   guest -> host: READY <uptime> <ncpu> | RESULT ok|fail|skip NAME [reason]
#                  DIAG <text> (evidence for the next RESULT) | LOG <text>
#                  REQ <id> <action> [args] | DONE <rc>
#   host -> guest: REP <id> ok|err <text>
#
# Test results: t_ok / t_fail / t_skip / t_run, or for multi-check tests
# t_begin NAME; t_check DESC CMD...; t_eq DESC GOT WANT; ...; t_end.

: "${FDR_TARGET:=drive}" "${FDR_ADDR:=10.0.2.2}" "${FDR_PORT:=4420}"
: "${FDR_DISC_PORT:=8009}" "${FDR_NQN:=nqn.2026-11.io.frankendrive:drive0}"
: "${FDR_NS:=ram,size=1G,lba=512}"

jq() { command jq -M "$@"; }     # never colour, even on the console

fdr_send() { printf '%s\n' "$*" >&7 2>/dev/null; }

# ---------------------------------------------------------------- results
t_diag() {          # evidence lines for the next result (also on the console)
    local l
    printf '%s\n' "$*" | while IFS= read -r l; do
        echo "  | $l"
        fdr_send "DIAG $l"
    done
}
t_evidence() {      # t_evidence FILE [MAXLINES]: tail of a file as evidence
    [ -f "$1" ] || return 0
    tail -n "${2:-40}" "$1" | while IFS= read -r l; do
        echo "  | $l"
        fdr_send "DIAG $l"
    done
}
t_ok()   { echo "PASS: $1${2:+ ($2)}"; fdr_send "RESULT ok $1${2:+ $2}"; }
t_fail() { local n=$1; shift; echo "FAIL: $n: $*"; fdr_send "RESULT fail $n $*"; }
t_skip() { local n=$1; shift; echo "SKIP: $n: $*"; fdr_send "RESULT skip $n $*"; }

# t_run NAME CMD... : one command, pass iff it exits 0 (output is evidence)
t_run() {
    local n=$1 rc; shift
    "$@" >/tmp/t_run.out 2>&1
    rc=$?
    if [ $rc -eq 0 ]; then
        t_ok "$n"
    else
        t_evidence /tmp/t_run.out
        t_fail "$n" "'$*' exited $rc"
    fi
}

# multi-check tests
t_begin() { _T_NAME=$1; _T_ERR=0; _T_T0=$(cut -d' ' -f1 /proc/uptime); echo "---- $1"; }
t_bad()   { _T_ERR=$((_T_ERR + 1)); t_diag "$*"; }
# t_check DESC CMD... : the command must exit 0; its output is evidence if not
t_check() {
    local d=$1 rc; shift
    "$@" >/tmp/t_check.out 2>&1
    rc=$?
    [ $rc -eq 0 ] && return 0
    t_bad "check failed: $d: '$*' exited $rc"
    t_evidence /tmp/t_check.out 20
    return 1
}
# t_check_fails DESC CMD... : the command must exit non-zero
t_check_fails() {
    local d=$1; shift
    if "$@" >/tmp/t_check.out 2>&1; then
        t_bad "check failed: $d: '$*' succeeded but should have failed"
        t_evidence /tmp/t_check.out 20
        return 1
    fi
    return 0
}
t_eq() {            # t_eq DESC GOT WANT
    [ "$2" = "$3" ] && return 0
    t_bad "mismatch: $1: got '$2', expected '$3'"
    return 1
}
t_end() {
    local dt
    dt=$(awk -v a="$_T_T0" -v b="$(cut -d' ' -f1 /proc/uptime)" 'BEGIN{printf "%.1f", b-a}')
    if [ "$_T_ERR" -eq 0 ]; then t_ok "$_T_NAME" "${dt}s"
    else t_fail "$_T_NAME" "$_T_ERR check(s) failed (${dt}s)"; fi
    [ "$_T_ERR" -eq 0 ]
}

# ---------------------------------------------------------------- host requests
_FDR_REQ=0
# host_req ACTION [ARGS]: ask the host runner; prints the reply text,
# returns 0 if the host said ok. Timeout: $FDR_REQ_TIMEOUT (default 120 s).
host_req() {
    _FDR_REQ=$((_FDR_REQ + 1))
    local id=$_FDR_REQ line
    fdr_send "REQ $id $*"
    while IFS= read -r -t "${FDR_REQ_TIMEOUT:-120}" line <&7; do
        line=$(printf '%s' "$line" | tr -d '\r')
        case $line in
            "REP $id ok"*)  echo "${line#REP $id ok}" | sed 's/^ //'; return 0 ;;
            "REP $id err"*) echo "${line#REP $id err}" | sed 's/^ //'; return 1 ;;
        esac
    done
    echo "no reply from host for request $id ($*)"
    return 1
}
fdr_log() { echo "fdr: $*"; fdr_send "LOG $*"; }

# drive control, the same for the host drive and for the in-guest nvmet
drive_kill()    { if [ "$FDR_TARGET" = nvmet ]; then nvmet_port_down; else host_req drive-kill "${1:-KILL}"; fi; }
drive_start()   { if [ "$FDR_TARGET" = nvmet ]; then nvmet_port_up; else host_req drive-start; fi; }
# drive_ctl ARGS...: `frankendrive ctl ARGS...` against the host drive
# (@PLUGINDIR@ = the build's plugins/ directory); prints its output
drive_ctl()     { host_req drive-ctl "$*"; }
drive_log_count() { if [ "$FDR_TARGET" = nvmet ]; then echo -1; else host_req drive-log-count "$1"; fi; }

# ---------------------------------------------------------------- utilities
uptime_s() { cut -d' ' -f1 /proc/uptime; }
# wait_until TIMEOUT_S CMD... : poll every 0.2 s
wait_until() {
    local t=$1 i=0; shift
    local n=$((t * 5))
    while [ $i -lt $n ]; do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.2; i=$((i + 1))
    done
    return 1
}
to_bytes() {        # 1G, 256M, 4096, 64K -> bytes (binary units)
    local v=$1
    case $v in
        *[kK]) echo $(( ${v%?} * 1024 )) ;;
        *[mM]) echo $(( ${v%?} * 1024 * 1024 )) ;;
        *[gG]) echo $(( ${v%?} * 1024 * 1024 * 1024 )) ;;
        *[tT]) echo $(( ${v%?} * 1024 * 1024 * 1024 * 1024 )) ;;
        *) echo "$v" ;;
    esac
}
# ns_field N KEY: field of the N-th (1-based) --ns spec in $FDR_NS
ns_field() {
    local spec
    spec=$(echo "$FDR_NS" | tr ' ' '\n' | sed -n "${1}p")
    case $2 in
        kind) echo "${spec%%,*}" ;;
        *) echo "$spec" | tr ',' '\n' | sed -n "s/^$2=//p" | head -1 ;;
    esac
}
ns_count() { echo "$FDR_NS" | tr ' ' '\n' | grep -c .; }
ns_size()  { to_bytes "$(ns_field "$1" size)"; }
ns_lba()   { local l; l=$(ns_field "$1" lba); echo "${l:-512}"; }

# ---------------------------------------------------------------- nvme host side
# fdr_ctrl: the nvme controller (nvmeX) connected to $FDR_NQN, if any
fdr_ctrl() {
    local c
    for c in /sys/class/nvme/nvme*; do
        [ -e "$c/subsysnqn" ] || continue
        [ "$(cat "$c/subsysnqn")" = "$FDR_NQN" ] || continue
        [ "$(cat "$c/transport" 2>/dev/null)" = tcp ] || continue
        echo "${c##*/}"; return 0
    done
    return 1
}
ctrl_state() { cat "/sys/class/nvme/$1/state" 2>/dev/null; }
ctrl_live()  { [ "$(ctrl_state "$1")" = live ]; }
# fdr_ns_dev NSID: block device name (nvmeXnY) for a namespace of $FDR_NQN
fdr_ns_dev() {
    local b
    for b in /sys/block/nvme*n*; do
        case ${b##*/} in nvme*c*n*) continue ;; esac
        [ "$(cat "$b/device/subsysnqn" 2>/dev/null)" = "$FDR_NQN" ] || continue
        [ "$(cat "$b/nsid" 2>/dev/null)" = "$1" ] || continue
        [ -b "/dev/${b##*/}" ] || continue
        echo "${b##*/}"; return 0
    done
    return 1
}
# fdr_connect [nvme-connect args]: connect and wait for all namespaces.
# Sets FDR_CTRL (nvmeX) and FDR_DEV1..FDR_DEVn, FDR_DEV (= FDR_DEV1).
fdr_connect() {
    nvme connect -t tcp -a "$FDR_ADDR" -s "$FDR_PORT" -n "$FDR_NQN" "$@" \
        >/tmp/connect.out 2>&1 || { cat /tmp/connect.out; return 1; }
    wait_until 20 fdr_ctrl || { echo "no controller for $FDR_NQN appeared"; return 1; }
    FDR_CTRL=$(fdr_ctrl)
    wait_until 20 ctrl_live "$FDR_CTRL" || { echo "$FDR_CTRL not live: $(ctrl_state "$FDR_CTRL")"; return 1; }
    fdr_find_devs 20
}
fdr_find_devs() {
    local i=1 n
    n=$(ns_count)
    while [ $i -le "$n" ]; do
        wait_until "${1:-20}" fdr_ns_dev $i || { echo "namespace $i did not appear"; return 1; }
        eval "FDR_DEV$i=$(fdr_ns_dev $i)"
        i=$((i + 1))
    done
    FDR_DEV=$FDR_DEV1
    return 0
}
# fabrics_connect [extra,options]: connect through /dev/nvme-fabrics directly
# (nvme-cli 2.3 refuses a second connect to the same target even with another
# --hostnqn). Prints the kernel's answer (instance=N,cntlid=M); fails with the
# write error if the connect failed.
fabrics_connect() {
    local r opts="transport=tcp,traddr=$FDR_ADDR,trsvcid=$FDR_PORT,nqn=$FDR_NQN${1:+,$1}"
    exec 3<>/dev/nvme-fabrics || return 1
    if ! printf '%s' "$opts" >&3; then exec 3>&-; return 1; fi
    read -r r <&3; exec 3>&-
    echo "$r"
}
fdr_disconnect() {
    nvme disconnect -n "$FDR_NQN" >/tmp/disconnect.out 2>&1 || { cat /tmp/disconnect.out; return 1; }
    wait_until 20 fdr_gone
}
fdr_gone() { ! fdr_ctrl >/dev/null; }
# smart counters of the controller: "dur duw hrc hwc" (decimal)
smart_counters() {
    nvme smart-log "/dev/$1" -o json 2>/dev/null |
        jq -r '"\(.data_units_read) \(.data_units_written) \(.host_read_commands) \(.host_write_commands)"'
}
# random pattern file of N KiB
make_pattern() { dd if=/dev/urandom of="$1" bs=1024 count="$2" 2>/dev/null; }
# dmesg lines since the marker written by dmesg_mark
_DMESG_N=0
dmesg_mark()  { _DMESG_N=$((_DMESG_N + 1)); echo "fdr: mark $_DMESG_N." > /dev/kmsg; }
dmesg_since() {   # kernel messages after the last dmesg_mark (marker excluded)
    dmesg | awk -v m="fdr: mark $_DMESG_N." 'f { print } index($0, m) { f = 1 }'
}

[ -f /fdr/nvmet.sh ] && . /fdr/nvmet.sh

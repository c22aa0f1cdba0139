#@ tests: connect-with-reconnect kill-recover data-persists kill-inflight-io
#@ tests: term-while-connected
#@ ns: file,size=256M,lba=512
#@ smp: 2
#@ mem: 768M
#@ timeout: 300
#@ order: 20
#
# Crash and restart of the drive while the kernel is connected:
# the host-side runner kills (SIGKILL) and restarts the drive on the same
# port when asked over the control channel; the kernel's reconnect logic
# (--reconnect-delay=1 --ctrl-loss-tmo=60) must bring the same device back.
# A file namespace is used so that data flushed before the crash must still
# be there afterwards.

NSZ=$(ns_size 1); LBA=$(ns_lba 1)

wait_state() {   # CTRL REGEX TIMEOUT: wait for the controller state to match
    local i=0 n=$(($3 * 5))
    while [ $i -lt $n ]; do
        ctrl_state "$1" | grep -qE "$2" && return 0
        sleep 0.2; i=$((i + 1))
    done
    return 1
}

t_begin connect-with-reconnect
if fdr_connect --reconnect-delay=1 --ctrl-loss-tmo=60 >/tmp/conn.out 2>&1; then
    CTRL=$FDR_CTRL; DEV=$FDR_DEV; BDEV=/dev/$DEV
    t_eq "reconnect_delay" "$(cat /sys/class/nvme/$CTRL/reconnect_delay)" 1
    t_eq "ctrl_loss_tmo" "$(cat /sys/class/nvme/$CTRL/ctrl_loss_tmo)" 60
    t_eq "size" "$(( $(cat /sys/block/$DEV/size) * 512 ))" "$NSZ"
else
    t_bad "connect failed"; t_evidence /tmp/conn.out
fi
t_end || exit 1
sleep 1

# ------------------------------------------------------------- kill + restart
make_pattern /tmp/pk 2048
t_begin kill-recover
t_check "write 2 MiB" dd if=/tmp/pk of=$BDEV bs=64k seek=16 oflag=direct conv=fsync
t_check "flush" nvme flush $BDEV
dmesg_mark
T0=$(uptime_s)
r=$(drive_kill KILL) || t_bad "drive-kill request failed: $r"
echo "host: $r"
if wait_state $CTRL 'connecting|resetting' 20; then
    echo "controller went to '$(ctrl_state $CTRL)' after the kill"
else
    t_bad "controller did not leave 'live' after the drive was killed (state $(ctrl_state $CTRL))"
fi
sleep 2       # a few reconnect attempts against a closed port
r=$(drive_start) || t_bad "drive-start request failed: $r"
echo "host: $r"
if wait_state $CTRL '^live$' 60; then
    T1=$(uptime_s)
    echo "controller live again $(awk -v a=$T0 -v b=$T1 'BEGIN{printf "%.1f", b-a}')s after the kill"
else
    t_bad "controller not live within 60 s after the restart (state $(ctrl_state $CTRL))"
fi
[ "$(fdr_ns_dev 1)" = "$DEV" ] || t_bad "namespace device changed: $(fdr_ns_dev 1) (was $DEV)"
dmesg_since > /tmp/dm_kill
echo "dmesg around the kill:"; cat /tmp/dm_kill
make_pattern /tmp/pk2 512
t_check "write after recovery" dd if=/tmp/pk2 of=$BDEV bs=4096 seek=20000 oflag=direct
t_check "read after recovery" dd if=$BDEV of=/tmp/rk2 bs=4096 skip=20000 count=128 iflag=direct
t_check "I/O works after recovery" cmp /tmp/pk2 /tmp/rk2
t_end

t_begin data-persists
t_check "read data written before the kill" dd if=$BDEV of=/tmp/rk bs=64k skip=16 count=32 iflag=direct
t_check "flushed data survives SIGKILL + restart" cmp /tmp/pk /tmp/rk
t_end

# ------------------------------------------------------------- kill during I/O
# fio writes (rate-limited so that it spans the outage) and verifies; the
# kernel must requeue the I/O that was in flight and fio must see no error.
t_begin kill-inflight-io
fio --name=inflight --filename=$BDEV --ioengine=libaio --direct=1 --iodepth=8 \
    --rw=randwrite --bs=16k --size=24M --offset=64M --rate=3m \
    --verify=crc32c --verify_fatal=1 --do_verify=1 \
    --output-format=json --output=/tmp/inflight.json >/tmp/inflight.out 2>&1 &
FIO=$!
sleep 3
r=$(drive_kill KILL) || t_bad "drive-kill request failed: $r"
wait_state $CTRL 'connecting|resetting' 20 || t_bad "controller did not notice the kill"
sleep 1
r=$(drive_start) || t_bad "drive-start request failed: $r"
wait_state $CTRL '^live$' 60 || t_bad "controller not live again (state $(ctrl_state $CTRL))"
if wait $FIO; then
    t_eq "fio error" "$(jq '.jobs[0].error' /tmp/inflight.json)" 0
    echo "fio: $(jq -c '.jobs[0] | {w: .write.total_ios, r: .read.total_ios, err: .error}' /tmp/inflight.json)"
else
    t_bad "fio failed across the drive restart"; t_evidence /tmp/inflight.out 20
fi
t_end

# ------------------------------------------------------------- SIGTERM
# a clean shutdown (SIGTERM) while a host is connected must exit 0
t_begin term-while-connected
if [ "$FDR_TARGET" = nvmet ]; then
    t_skip term-while-connected "host drive only"
else
    r=$(host_req drive-kill TERM)
    echo "host: $r"
    case $r in *"status 0"*) ;; *) t_bad "SIGTERM while connected: $r (expected exit status 0)" ;; esac
    wait_state $CTRL 'connecting|resetting' 20 || t_bad "controller did not notice the shutdown"
    r=$(drive_start) || t_bad "drive-start request failed: $r"
    wait_state $CTRL '^live$' 60 || t_bad "controller not live after restart"
    t_check "read after restart" dd if=$BDEV of=/tmp/rk bs=64k skip=16 count=32 iflag=direct
    t_check "data survives SIGTERM + restart" cmp /tmp/pk /tmp/rk
    t_check "disconnect" fdr_disconnect
    t_end
fi

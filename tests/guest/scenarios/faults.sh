#@ tests: connect sum-passthru ext4-write-errors aen-in-guest-log raid1-ro-fail
#@ tests: dropped-command
#@ ns: ram,size=128M,lba=512
#@ drive-args: --plugin @PLUGINDIR@/sum.so
#@ targets: drive
#@ smp: 1
#@ mem: 768M
#@ timeout: 300
#@ order: 60
#
# Plug-ins and fault rules seen from a real Linux host. The drive starts with
# the sum plug-in; everything else is switched on and off while the guest is
# connected, through the drive's control socket (`host_req drive-ctl ...`
# runs `frankendrive ctl --port PORT ...` on the host; @PLUGINDIR@ is the
# build's plugins/ directory):
#   sum-passthru       vendor admin opcode 80h returns CDW10+CDW11, data intact
#   aen-in-guest-log   rule aen=smart:ro / aen=notice:ns-changed -> the kernel
#                      gets the events (trace event, smart-log, "rescanning")
#   raid1-ro-fail      md raid1 (brd + frankendrive); ro_fail mode=error loaded
#                      at run time -> the NVMe member is failed, data survives
#   ext4-write-errors  ro_fail mode=error under a mounted ext4 -> NVMe errors
#                      01h/82h in dmesg, fsync fails, ext4 goes read-only
#   dropped-command    rule drop on one read -> I/O timeout, error recovery,
#                      reconnect; the read is retried and succeeds
# Order matters: the drop test resets the controller, so it runs last.
#
# FDR_G_FAULTS_DRY=1 on the host (FDR_FAULTS_DRY in the guest) sends no
# drive-ctl request: every fault test must then fail (a test of the tests).
if [ -n "$FDR_FAULTS_DRY" ]; then
    drive_ctl() { echo "dry run, not sent: $*"; }
fi

LBA=$(ns_lba 1)

t_begin connect
if fdr_connect --reconnect-delay=1 --ctrl-loss-tmo=60 >/tmp/conn.out 2>&1; then
    CTRL=$FDR_CTRL; CDEV=/dev/$FDR_CTRL; DEV=$FDR_DEV; BDEV=/dev/$FDR_DEV
    t_eq "LBA size" "$(cat /sys/block/$DEV/queue/logical_block_size)" "$LBA"
else
    t_bad "connect failed"; t_evidence /tmp/conn.out
fi
t_end || exit 1
# the hidden per-path device (nvme_core.multipath=Y) carries the requests
PDEV=$(cd /sys/block && ls -d ${CTRL}c*n1 2>/dev/null | head -1)
echo "controller $CTRL, namespace $DEV, path device ${PDEV:-none}"
IODEV=${PDEV:-$DEV}    # the kernel logs I/O errors against the path device

# ------------------------------------------------------------------ sum
t_begin sum-passthru
make_pattern /tmp/sp 1024
t_check "write 1 MiB pattern" dd if=/tmp/sp of=$BDEV bs=64k seek=32 oflag=direct conv=fsync
if t_check "admin-passthru opcode 0x80" \
        nvme admin-passthru $CDEV --opcode=0x80 --cdw10=10 --cdw11=5 -r; then
    t_diag "$(cat /tmp/t_check.out)"
    # nvme-cli 2.x: "NVMe command result:0000000f"; older: "result: 0xf"
    res=$(sed -n 's/.*result: *\(0x\)\{0,1\}\([0-9a-fA-F]*\).*/\2/p' /tmp/t_check.out | head -1)
    t_eq "CDW0 (10 + 5)" "$(( 0x${res:-bad} ))" 15
fi
if t_check "admin-passthru 0x80 cdw10=0xfffffff0 cdw11=0x20 (wraps)" \
        nvme admin-passthru $CDEV --opcode=0x80 --cdw10=0xfffffff0 --cdw11=0x20 -r; then
    res=$(sed -n 's/.*result: *\(0x\)\{0,1\}\([0-9a-fA-F]*\).*/\2/p' /tmp/t_check.out | head -1)
    t_eq "CDW0 (32-bit wrap)" "$(( 0x${res:-bad} ))" 16
fi
t_check "read the pattern back" dd if=$BDEV of=/tmp/sr bs=64k skip=32 count=16 iflag=direct
t_check "data unchanged after opcode 80h (no Format ran)" cmp /tmp/sp /tmp/sr
t_eq "namespace size" "$(( $(cat /sys/block/$DEV/size) * 512 ))" "$(ns_size 1)"
t_end

# ------------------------------------------------------------------ ext4
t_begin ext4-write-errors
MNT=/mnt/fd; mkdir -p $MNT
t_check "mkfs.ext4" mkfs.ext4 -q -F -b 4096 $BDEV
if t_check "mount (errors=remount-ro)" mount -t ext4 -o errors=remount-ro $BDEV $MNT; then
    make_pattern /tmp/e1 512
    t_check "write a file while healthy" dd if=/tmp/e1 of=$MNT/before bs=64k conv=fsync
    dmesg_mark
    r=$(drive_ctl plugin load @PLUGINDIR@/ro_fail.so,n=0,mode=error) || t_bad "plugin load: $r"
    echo "ctl: $r"
    make_pattern /tmp/e2 1024
    t_check_fails "write + fsync a file while writes fail (must report an error)" \
        dd if=/tmp/e2 of=$MNT/after bs=64k conv=fsync
    echo "dd: $(tail -2 /tmp/t_check.out | tr '\n' ' ')"
    grep -q "Input/output error" /tmp/t_check.out || t_bad "dd did not fail with EIO: $(cat /tmp/t_check.out)"
    T_EXT4_FAULT=$(uptime_s)
    for i in 1 2 3; do dd if=/tmp/e2 of=$MNT/more$i bs=64k count=4 2>/dev/null; done
    sync; sleep 1; sync
    # ext4 commits its journal every 5 s by default; wait for the abort
    wait_until 20 sh -c "dmesg | grep -q 'Remounting filesystem read-only'"
    dmesg_since > /tmp/dm_ext4
    grep -E 'nvme|EXT4|I/O error|Buffer I/O|JBD2' /tmp/dm_ext4 | head -15
    grep -q "$IODEV: I/O Cmd(0x1) @ LBA [0-9]*, [0-9]* blocks, .*(sct 0x1 / sc 0x82) DNR" /tmp/dm_ext4 ||
        { t_bad "no NVMe write error with sct 0x1 / sc 0x82 for $DEV in dmesg"; t_evidence /tmp/dm_ext4 15; }
    grep -q "error, dev $IODEV, sector [0-9]* op 0x1:(WRITE)" /tmp/dm_ext4 ||
        { t_bad "no block layer I/O error for $DEV in dmesg"; t_evidence /tmp/dm_ext4 15; }
    grep -q "EXT4-fs.*$DEV" /tmp/dm_ext4 ||
        { t_bad "ext4 logged nothing about $DEV"; t_evidence /tmp/dm_ext4 15; }
    grep -q "EXT4-fs ($DEV): Remounting filesystem read-only" /tmp/dm_ext4 ||
        { t_bad "ext4 did not remount read-only"; t_evidence /tmp/dm_ext4 15; }
    # 6.1 stable no longer sets SB_RDONLY on errors (/proc/mounts stays rw)
    # but refuses every change after the journal abort
    t_check_fails "creating a file fails after the abort" touch $MNT/new
    t_check "the file written while healthy is still readable" cmp /tmp/e1 $MNT/before
    r=$(drive_ctl plugin unload ro_fail) || t_bad "plugin unload: $r"
    umount $MNT || umount -l $MNT
    t_check "drive takes writes again after unload" dd if=/tmp/e1 of=$BDEV bs=64k seek=1024 count=1 oflag=direct
fi
t_end

# ------------------------------------------------------------------ AEN
t_begin aen-in-guest-log
TR=/sys/kernel/debug/tracing
[ -d $TR/events ] || mount -t tracefs tracefs $TR 2>/dev/null
if [ -e $TR/events/nvme/nvme_async_event/enable ]; then
    echo > $TR/trace
    echo 1 > $TR/events/nvme/nvme_async_event/enable
    HAVE_TRACE=1
else
    HAVE_TRACE=0; t_bad "no nvme_async_event trace event (tracefs) in this kernel"
fi
# Linux enables only the notice events it handles (AEC = OAES bits); SMART
# critical warnings are reported only if AEC bits 7:0 are set: enable them
aec=$(nvme get-feature $CDEV -f 0xb 2>/dev/null | sed -n 's/.*[Cc]urrent value: *\(0x[0-9a-fA-F]*\).*/\1/p')
echo "async event configuration set by Linux: ${aec:-?}"
t_check "enable SMART critical warning events" \
    nvme set-feature $CDEV -f 0xb -v $(( ${aec:-0x100} | 0xff ))
dmesg_mark
r=$(drive_ctl rule add name=aen1,opc=write,times=1,aen=smart:ro) || t_bad "rule add: $r"
echo "ctl: $r"
make_pattern /tmp/ap 4
t_check "write (fires aen=smart:ro)" dd if=/tmp/ap of=$BDEV bs=4k seek=1000 oflag=direct
# type 1 (SMART/health), info 0, log page 02h: result 0x00020001
if [ $HAVE_TRACE = 1 ]; then
    wait_until 10 grep -q 'nvme_async_event: .*NVME_AEN=0x0*20001' $TR/trace ||
        { t_bad "no SMART async event in the kernel's trace"; t_evidence $TR/trace 10; }
    grep nvme_async_event $TR/trace | tail -3
fi
n=$(drive_log_count 'asynchronous event 00020001')
[ "${n:-0}" -ge 1 ] 2>/dev/null || t_bad "drive log: no SMART event 00020001 sent to the host ($n)"
cw=$(nvme smart-log $CDEV -o json 2>/dev/null | jq -r .critical_warning)
echo "smart-log critical_warning: $cw"
t_eq "critical warning: media read-only (bit 3)" "$(( ${cw:-0} & 8 ))" 8
r=$(drive_ctl rule add name=aen2,opc=write,times=1,aen=notice:ns-changed) || t_bad "rule add: $r"
t_check "write (fires aen=notice:ns-changed)" dd if=/tmp/ap of=$BDEV bs=4k seek=1001 oflag=direct
# (dmesg_since is a shell function: poll in this shell)
i=0; until dmesg_since | grep -q "$CTRL: rescanning namespaces"; do
    i=$((i + 1)); [ $i -ge 75 ] && break; sleep 0.2
done
dmesg_since | grep -q "$CTRL: rescanning namespaces" ||
    t_bad "the kernel did not log 'rescanning namespaces' after a Namespace Attribute Changed event"
if [ $HAVE_TRACE = 1 ]; then
    # type 2 (notice), info 0, log page 04h: 0x00040002
    grep -q 'nvme_async_event: .*NVME_AEN=0x0*40002' $TR/trace ||
        { t_bad "no notice async event in the kernel's trace"; t_evidence $TR/trace 10; }
    echo 0 > $TR/events/nvme/nvme_async_event/enable
fi
dmesg_since > /tmp/dm_aen; echo "dmesg:"; cat /tmp/dm_aen
r=$(drive_ctl rule list) ; echo "rules: $r"
r=$(drive_ctl rule clear) || t_bad "rule clear: $r"
t_check "device still there after the rescan" test -b $BDEV
t_check "read after the events" dd if=$BDEV of=/tmp/ar bs=4k skip=1000 count=1 iflag=direct
t_check "data of the event write" cmp /tmp/ap /tmp/ar
t_end

# ------------------------------------------------------------------ raid1
t_begin raid1-ro-fail
rmmod brd 2>/dev/null
modprobe brd rd_nr=1 rd_size=16384 2>/tmp/brd.out || insmod "$(modinfo -n brd)" rd_nr=1 rd_size=16384 2>>/tmp/brd.out
t_check "brd ramdisk /dev/ram0" test -b /dev/ram0 || t_evidence /tmp/brd.out
echo "ram0: $(( $(cat /sys/block/ram0/size 2>/dev/null || echo 0) / 2048 )) MiB"
MD=/dev/md0
# the kernel rate-limits NVMe error lines per call site (10 per 5 s): let the
# window of the ext4 test pass so that this test's errors are logged
sleep "$(awk -v a=${T_EXT4_FAULT:-0} -v b=$(uptime_s) 'BEGIN{d=a+5.5-b; print (d>0?d:0)}')"
t_check "mdadm --create raid1 ram0 + $DEV" \
    mdadm --create $MD --run --level=1 --raid-devices=2 --metadata=1.2 /dev/ram0 $BDEV
wait_until 10 test -b $MD
t_check "initial resync" mdadm --wait $MD
cat /proc/mdstat
grep -q '\[UU\]' /proc/mdstat || t_bad "array not [UU] after the resync: $(cat /proc/mdstat)"
make_pattern /tmp/m1 2048; make_pattern /tmp/m2 2048
t_check "write 2 MiB to the healthy array" dd if=/tmp/m1 of=$MD bs=64k seek=16 oflag=direct
dmesg_mark
r=$(drive_ctl plugin load @PLUGINDIR@/ro_fail.so,n=0,mode=error) || t_bad "plugin load: $r"
echo "ctl: $r"
# raid1 completes a write when one mirror took it: the write must succeed
t_check "write 2 MiB to the array while the NVMe member fails writes" \
    dd if=/tmp/m2 of=$MD bs=64k seek=96 oflag=direct conv=fsync
wait_until 15 grep -q '(F)' /proc/mdstat
cat /proc/mdstat
grep -q '\[U_\]\|\[_U\]' /proc/mdstat || t_bad "array not degraded: $(tr '\n' ' ' </proc/mdstat)"
grep -q "$DEV\[[0-9]*\](F)" /proc/mdstat || t_bad "$DEV not marked (F) in /proc/mdstat"
mdadm --detail $MD >/tmp/mdd 2>&1
grep -E 'State :|faulty|active sync' /tmp/mdd
grep -q 'State :.*degraded' /tmp/mdd || { t_bad "mdadm --detail: not degraded"; t_evidence /tmp/mdd 20; }
grep -q "faulty.*$BDEV" /tmp/mdd || { t_bad "mdadm --detail: $BDEV not faulty"; t_evidence /tmp/mdd 20; }
dmesg_since > /tmp/dm_md
grep -E 'md/raid1|nvme|I/O error' /tmp/dm_md | head -12
grep -q "md/raid1:md0: Disk failure on $DEV" /tmp/dm_md ||
    { t_bad "no 'md/raid1:md0: Disk failure on $DEV' in dmesg"; t_evidence /tmp/dm_md 15; }
grep -q "$IODEV: I/O Cmd(0x1) @ LBA [0-9]*, [0-9]* blocks, .*(sct 0x1 / sc 0x82) DNR" /tmp/dm_md ||
    { t_bad "no NVMe write error (sc 0x82) for $DEV in dmesg"; t_evidence /tmp/dm_md 15; }
echo 3 > /proc/sys/vm/drop_caches
t_check "read the healthy-time data from the array" dd if=$MD of=/tmp/r1 bs=64k skip=16 count=32 iflag=direct
t_check "data written before the fault" cmp /tmp/m1 /tmp/r1
t_check "read the degraded-time data from the array" dd if=$MD of=/tmp/r2 bs=64k skip=96 count=32 iflag=direct
t_check "data written while the member failed" cmp /tmp/m2 /tmp/r2
r=$(drive_ctl plugin unload ro_fail) || t_bad "plugin unload: $r"
mdadm --stop $MD >/dev/null 2>&1
mdadm --zero-superblock /dev/ram0 >/dev/null 2>&1
mdadm --zero-superblock $BDEV >/dev/null 2>&1
t_end

# ------------------------------------------------------------------ drop
t_begin dropped-command
XLBA=200000          # LBA, well inside the 128 MiB namespace, nothing else reads it
make_pattern /tmp/d1 4
t_check "write the block" dd if=/tmp/d1 of=$BDEV bs=512 seek=$XLBA count=8 oflag=direct
for d in $DEV $PDEV; do
    [ -w /sys/block/$d/queue/io_timeout ] && echo 5000 > /sys/block/$d/queue/io_timeout
done
echo "io_timeout: $(cat /sys/block/${PDEV:-$DEV}/queue/io_timeout 2>/dev/null) ms"
r=$(drive_ctl rule add name=drop1,opc=read,lba=$XLBA-$XLBA,times=1,drop) || t_bad "rule add: $r"
echo "ctl: $r"
dmesg_mark
T0=$(uptime_s)
t_check "O_DIRECT read of the dropped LBA completes (retried after recovery)" \
    dd if=$BDEV of=/tmp/d2 bs=512 skip=$XLBA count=8 iflag=direct
T1=$(uptime_s)
dt=$(awk -v a=$T0 -v b=$T1 'BEGIN{printf "%.1f", b-a}')
echo "read took ${dt}s"
t_check "data of the retried read" cmp /tmp/d1 /tmp/d2
awk -v d=$dt 'BEGIN{exit !(d >= 4)}' || t_bad "read took ${dt}s: the drop did not delay it (timeout 5 s)"
wait_until 30 ctrl_live $CTRL || t_bad "controller not live again: $(ctrl_state $CTRL)"
dmesg_since > /tmp/dm_drop
grep -E 'nvme|timeout' /tmp/dm_drop | head -12
grep -q "$CTRL: queue [1-9][0-9]*: timeout " /tmp/dm_drop ||
    { t_bad "no I/O timeout for the Read in dmesg"; t_evidence /tmp/dm_drop 15; }
grep -q "$CTRL: starting error recovery" /tmp/dm_drop ||
    { t_bad "no 'starting error recovery' in dmesg"; t_evidence /tmp/dm_drop 15; }
grep -q "$CTRL: Successfully reconnected" /tmp/dm_drop ||
    { t_bad "no 'Successfully reconnected' in dmesg"; t_evidence /tmp/dm_drop 15; }
r=$(drive_ctl --json rule list); echo "rules: $r"
echo "$r" | jq -e '.rules[] | select(.name == "drop1") | .fired == 1' >/dev/null ||
    t_bad "rule drop1 did not fire exactly once: $r"
t_check "second read of the same LBA" dd if=$BDEV of=/tmp/d3 bs=512 skip=$XLBA count=8 iflag=direct
t_check "second read data" cmp /tmp/d1 /tmp/d3
r=$(drive_ctl rule clear) || t_bad "rule clear: $r"
n=$(drive_log_count 'AddressSanitizer|runtime error|Segmentation|Assertion')
t_eq "drive log: crash/assert lines" "$n" 0
t_check "disconnect" fdr_disconnect
t_end

#@ tests: discover-io-port discover-disc-port connect-unknown-nqn connect
#@ tests: admin-cmds json-output
#@ tests: fabrics-properties get-features set-features num-queues-after-connect
#@ tests: smart-counters
#@ tests: dd-integrity nvme-flush nvme-write-zeroes nvme-dsm nvme-compare
#@ tests: lba-out-of-range error-log fio-verify-libaio fio-verify-io_uring ext4
#@ tests: multiqueue ctrl-reset keep-alive-idle dmesg-clean reconnect digests
#@ ns: ram,size=1G,lba=512
#@ model: FrankenDrive Guest-Model 7
#@ serial: FDRG-SN-0421
#@ firmware: FW4.2.1
#@ smp: 2
#@ mem: 1G
#@ timeout: 420
#@ order: 10
#
# The main real-host scenario: one guest with 2 CPUs, one 1 GiB RAM namespace
# with 512-byte LBAs, distinctive identity strings. Tests run in this order
# (smart-counters before anything that starts background I/O, ext4 after the
# raw-device tests, reconnect last).

CTRL= DEV=
NSZ=$(ns_size 1); LBA=$(ns_lba 1); NBLK=$((NSZ / LBA))
CDEV=    # /dev/nvmeX (controller char device)
BDEV=    # /dev/nvmeXnY

# ------------------------------------------------------------- discovery
# the discovery log must list our subsystem, reachable over tcp at the I/O port
check_discovery() {   # NAME PORT
    t_begin "$1"
    if t_check "nvme discover -s $2" nvme discover -t tcp -a "$FDR_ADDR" -s "$2" -o json; then
        cp /tmp/t_check.out /tmp/disc.json
        if t_check "discovery log is JSON" jq -e . /tmp/disc.json; then
            local rec
            rec=$(jq -c --arg n "$FDR_NQN" '[.records[] | select(.subnqn == $n)][0]' /tmp/disc.json)
            if [ "$rec" = null ] || [ -z "$rec" ]; then
                t_bad "subsystem $FDR_NQN not in the discovery log"
                t_evidence /tmp/disc.json
            else
                t_eq "trtype" "$(echo "$rec" | jq -r .trtype)" tcp
                # the entry must point at the I/O port (nvmet only lists the
                # port that was queried)
                local want=$FDR_PORT
                [ "$FDR_TARGET" = nvmet ] && want=$2
                t_eq "trsvcid" "$(echo "$rec" | jq -r .trsvcid | tr -d ' ')" "$want"
                t_eq "subtype" "$(echo "$rec" | jq -r .subtype)" "nvme subsystem"
            fi
        fi
    fi
    t_end
}
check_discovery discover-io-port "$FDR_PORT"
check_discovery discover-disc-port "$FDR_DISC_PORT"

# ------------------------------------------------------------- connect
# a subsystem the drive does not have: the connect fails, nothing appears
t_begin connect-unknown-nqn
dmesg_mark
t_check_fails "connect to an unknown NQN" nvme connect -t tcp -a "$FDR_ADDR" -s "$FDR_PORT" \
    -n nqn.2026-11.io.frankendrive:no-such-subsystem
echo "unknown NQN: $(cat /tmp/t_check.out)"
sleep 1
[ -z "$(ls /sys/class/nvme/ 2>/dev/null)" ] || t_bad "controllers exist: $(ls /sys/class/nvme/)"
dmesg_since | tee /tmp/dm_unk
grep -qiE 'not allowed|connect.*(invalid|fail)' /tmp/dm_unk ||
    { t_bad "no Connect failure in the kernel log"; t_evidence /tmp/dm_unk; }
t_end

echo "fdr: dmesg-clean starts here" > /dev/kmsg
t_begin connect
if fdr_connect >/tmp/conn.out 2>&1; then
    CTRL=$FDR_CTRL; DEV=$FDR_DEV; CDEV=/dev/$CTRL; BDEV=/dev/$DEV
    t_eq "size of $DEV in bytes" "$(( $(cat /sys/block/$DEV/size) * 512 ))" "$NSZ"
    t_eq "logical block size" "$(cat /sys/block/$DEV/queue/logical_block_size)" "$LBA"
    t_eq "blockdev --getsize64" "$(blockdev --getsize64 $BDEV)" "$NSZ"
    t_eq "controller state" "$(ctrl_state $CTRL)" live
    t_eq "controller transport" "$(cat /sys/class/nvme/$CTRL/transport)" tcp
else
    t_bad "connect failed"; t_evidence /tmp/conn.out
    t_diag "$(dmesg | tail -20)"
fi
t_end
if [ -z "$DEV" ]; then
    echo "no device: remaining tests cannot run"
    exit 1
fi
# let the kernel's own I/O (partition scan) finish
sleep 1

# ------------------------------------------------------------- admin commands
trimmed() { jq -r "$1" "$2" | sed 's/[[:space:]]*$//'; }
t_begin admin-cmds
t_check "id-ctrl" nvme id-ctrl $CDEV -o json && cp /tmp/t_check.out /tmp/idctrl.json
t_check "id-ns" nvme id-ns $BDEV -o json && cp /tmp/t_check.out /tmp/idns.json
t_check "ns-descs" nvme ns-descs $BDEV -o json && cp /tmp/t_check.out /tmp/nsdescs.json
t_check "list-ns" nvme list-ns $CDEV -o json && cp /tmp/t_check.out /tmp/listns.json
t_check "smart-log" nvme smart-log $CDEV -o json && cp /tmp/t_check.out /tmp/smart.json
t_check "error-log" nvme error-log $CDEV -e 8 -o json && cp /tmp/t_check.out /tmp/errlog.json
t_check "fw-log" nvme fw-log $CDEV -o json && cp /tmp/t_check.out /tmp/fwlog.json
t_check "nvme list" nvme list -o json && cp /tmp/t_check.out /tmp/list.json
if [ -f /tmp/idctrl.json ]; then
    want_fw=$FDR_FIRMWARE
    [ "$FDR_TARGET" = nvmet ] && want_fw=$(uname -r | cut -c1-8)
    [ -n "$FDR_MODEL" ] && t_eq "id-ctrl mn" "$(trimmed .mn /tmp/idctrl.json)" "$FDR_MODEL"
    [ -n "$FDR_SERIAL" ] && t_eq "id-ctrl sn" "$(trimmed .sn /tmp/idctrl.json)" "$FDR_SERIAL"
    [ -n "$want_fw" ] && t_eq "id-ctrl fr" "$(trimmed .fr /tmp/idctrl.json)" "$want_fw"
    t_eq "id-ctrl subnqn" "$(trimmed .subnqn /tmp/idctrl.json)" "$FDR_NQN"
    t_eq "sysfs model" "$(sed 's/[[:space:]]*$//' /sys/class/nvme/$CTRL/model)" "$FDR_MODEL"
    t_eq "id-ctrl nn >= 1" "$(jq '.nn >= 1' /tmp/idctrl.json)" true
fi
if [ -f /tmp/idns.json ]; then
    t_eq "id-ns nsze" "$(jq .nsze /tmp/idns.json)" "$NBLK"
    t_eq "id-ns ncap" "$(jq .ncap /tmp/idns.json)" "$NBLK"
    ds=$(jq '.lbafs[.flbas % 16].ds' /tmp/idns.json)
    t_eq "id-ns LBA data size (2^ds)" "$((1 << ds))" "$LBA"
fi
if [ -f /tmp/nsdescs.json ]; then
    t_eq "ns-descs has a uuid, nguid or eui64" \
        "$(jq '[."ns-descs"[] | select(.type == "uuid" or .type == "nguid" or .type == "eui64")] | length > 0' /tmp/nsdescs.json)" true
fi
[ -f /tmp/listns.json ] &&
    t_eq "list-ns" "$(jq -c '[.nsid_list[].nsid]' /tmp/listns.json)" "[1]"
[ -f /tmp/list.json ] &&
    t_eq "nvme list shows $BDEV" "$(jq --arg d $BDEV '[.Devices[] | select(.DevicePath == $d)] | length' /tmp/list.json)" 1
t_end

t_begin json-output
for f in idctrl idns nsdescs listns smart errlog fwlog list; do
    [ -f /tmp/$f.json ] || { t_bad "$f: no output"; continue; }
    jq -e . /tmp/$f.json >/dev/null 2>&1 || { t_bad "$f output is not valid JSON"; t_evidence /tmp/$f.json 10; }
done
t_end

# ------------------------------------------------------------- properties
# Fabrics Property Get of CAP, VS, CC, CSTS
prop() { nvme get-property $CDEV -o $1 2>&1 | sed -n 's/.*value: *\(0x\)\{0,1\}\([0-9a-fA-F]*\).*/0x\2/p' | head -1; }
t_begin fabrics-properties
for o in 0 8 0x14 0x1c; do
    t_check "get-property $o" nvme get-property $CDEV -o $o && echo "property $o: $(cat /tmp/t_check.out)"
done
vs=$(prop 8); cc=$(prop 0x14); csts=$(prop 0x1c); cap=$(prop 0)
echo "CAP=$cap VS=$vs CC=$cc CSTS=$csts"
[ $((vs)) -ge $((0x10300)) ] || t_bad "VS $vs < 1.3"
t_eq "CC.EN" "$(( cc & 1 ))" 1
t_eq "CSTS.RDY" "$(( csts & 1 ))" 1
t_eq "CSTS.CFS" "$(( (csts >> 1) & 1 ))" 0
# CAP.MQES (0-based) must allow the queue size the host uses (sysfs sqsize)
[ $(( (cap & 0xffff) + 1 )) -ge $(cat /sys/class/nvme/$CTRL/sqsize) ] ||
    t_bad "CAP.MQES $((cap & 0xffff)) < sqsize $(cat /sys/class/nvme/$CTRL/sqsize)"
# (nvme-cli 2.3's show-regs is broken on fabrics controllers, even against
# nvmet: it prints garbage, so it is not used here)
t_end

# ------------------------------------------------------------- features
t_begin get-features
vwc=$(jq '.vwc % 2' /tmp/idctrl.json 2>/dev/null)
for f in 1 2 4 5 7 8 0xb 0xf 6; do
    if [ $f = 6 ] && [ "$vwc" != 1 ]; then
        t_check_fails "get-feature 6 without a volatile write cache" nvme get-feature $CDEV -f 6
        continue
    fi
    if [ "$FDR_TARGET" = nvmet ]; then
        # Linux 6.1 nvmet implements only 6, 7, 0xb, 0xf (and host id)
        case $f in 1|2|4|5|8)
            nvme get-feature $CDEV -f $f 2>&1 | sed "s/^/nvmet feature $f: /"; continue ;;
        esac
    fi
    t_check "get-feature $f" nvme get-feature $CDEV -f $f || continue
    # nvme-cli prints "%#0*x": zero comes out as 00000000, without 0x
    val=0x$(sed -n 's/.*Current value: *\(0x\)\{0,1\}\([0-9a-fA-F]*\).*/\2/p' /tmp/t_check.out | head -1)
    echo "feature $f: $(head -1 /tmp/t_check.out)"
    [ "$val" != 0x ] || t_bad "get-feature $f: no value in: $(head -1 /tmp/t_check.out)"
    case $f in
        0xf) t_eq "keep-alive timer (ms) = kato" "$((val))" "$(( $(cat /sys/class/nvme/$CTRL/kato) * 1000 ))" ;;
        7)   # NCQA/NSQA (0-based) must cover the I/O queues the host created
             nq=$(( $(cat /sys/class/nvme/$CTRL/queue_count) - 1 ))
             [ $(( (val & 0xffff) + 1 )) -ge $nq ] && [ $(( (val >> 16) + 1 )) -ge $nq ] ||
                 t_bad "number of queues $val < $nq I/O queues in use" ;;
    esac
done
t_end

# Set Features round trip: temperature threshold, async event config and
# (when there is one) the volatile write cache
t_begin set-features
if [ "$FDR_TARGET" = nvmet ]; then
    t_skip set-features "Linux 6.1 nvmet has no changeable temperature threshold"
else
    getf() { nvme get-feature $CDEV -f $1 2>&1 | sed -n 's/.*Current value: *\(0x\)\{0,1\}\([0-9a-fA-F]*\).*/0x\2/p'; }
    old4=$(getf 4)
    t_check "set-feature 4 (temperature threshold 0x160)" nvme set-feature $CDEV -f 4 -v 0x160
    t_eq "temperature threshold after set" "$(( $(getf 4) ))" $((0x160))
    t_check "restore temperature threshold" nvme set-feature $CDEV -f 4 -v $old4
    t_eq "temperature threshold restored" "$(( $(getf 4) ))" "$(( old4 ))"
    oldb=$(getf 0xb)
    t_check "set-feature 0xb" nvme set-feature $CDEV -f 0xb -v 0x100
    t_eq "async event config after set" "$(( $(getf 0xb) ))" $((0x100))
    t_check "restore async event config" nvme set-feature $CDEV -f 0xb -v $oldb
    if [ "$vwc" = 1 ]; then
        t_check "disable volatile write cache" nvme set-feature $CDEV -f 6 -v 0
        t_eq "vwc after disable" "$(( $(getf 6) ))" 0
        t_check "enable volatile write cache" nvme set-feature $CDEV -f 6 -v 1
        t_eq "vwc after enable" "$(( $(getf 6) ))" 1
    fi
    t_end
fi

# Number of Queues may only be set before any I/O queue exists; afterwards
# the command must fail with Command Sequence Error (NVMe base spec, Number
# of Queues feature). Connect created the I/O queues already.
t_begin num-queues-after-connect
if [ "$FDR_TARGET" = nvmet ]; then
    t_skip num-queues-after-connect "Linux 6.1 nvmet accepts it"
else
    if t_check_fails "set-feature 7 after the I/O queues were created" nvme set-feature $CDEV -f 7 -v 0x00030003; then
        grep -qi 'sequence' /tmp/t_check.out ||
            t_bad "expected Command Sequence Error, got: $(cat /tmp/t_check.out)"
    fi
    echo "set-feature 7: $(cat /tmp/t_check.out)"
    t_end
fi

# ------------------------------------------------------------- SMART counters
# Data units are thousands of 512-byte units, rounded up: moving the total by
# an exact multiple of 1000 units moves the counter by exactly that/1000,
# whatever the starting value. 1250 x 4 KiB = 10000 units = 10 data units.
t_begin smart-counters
smart_counters $CTRL > /tmp/s0
sleep 1
smart_counters $CTRL > /tmp/s1
if ! cmp -s /tmp/s0 /tmp/s1; then
    t_diag "counters moved while idle: $(cat /tmp/s0) -> $(cat /tmp/s1)"
fi
make_pattern /tmp/p5m 5000
read dur0 duw0 hrc0 hwc0 < /tmp/s1
t_check "dd write 1250 x 4k" dd if=/tmp/p5m of=$BDEV bs=4096 count=1250 seek=2048 oflag=direct
smart_counters $CTRL > /tmp/s2; read dur1 duw1 hrc1 hwc1 < /tmp/s2
t_check "dd read 1250 x 4k" dd if=$BDEV of=/tmp/r5m bs=4096 count=1250 skip=2048 iflag=direct
t_check "dd read 2 x 512000" dd if=$BDEV of=/dev/null bs=512000 count=2 skip=30 iflag=direct
smart_counters $CTRL > /tmp/s3; read dur2 duw2 hrc2 hwc2 < /tmp/s3
echo "smart: $(cat /tmp/s1) -> $(cat /tmp/s2) -> $(cat /tmp/s3)"
t_eq "data units written after 5 MB written" "$((duw1 - duw0))" 10
t_eq "host write commands after 1250 writes" "$((hwc1 - hwc0))" 1250
t_eq "data units read after nothing read" "$((dur1 - dur0))" 0
t_eq "data units read after 5.12 MB + 1.024 MB read" "$((dur2 - dur1))" 12
# 512000-byte reads may be split by the host (max_sectors_kb) into more commands
# (the kernel splits I/O at max_sectors_kb: 1000 sectors -> ceil(1000 / (2 * kb)))
mskb=$(cat /sys/block/$DEV/queue/max_sectors_kb)
echo "max_sectors_kb=$mskb max_hw_sectors_kb=$(cat /sys/block/$DEV/queue/max_hw_sectors_kb)"
per=$(( (1000 + 2 * mskb - 1) / (2 * mskb) ))
t_eq "host read commands (1250 x 4k + 2 x 512000 in $per pieces each)" "$((hrc2 - hrc1))" $((1250 + 2 * per))
t_eq "data units written while reading" "$((duw2 - duw1))" 0
t_eq "host write commands while reading" "$((hwc2 - hwc1))" 0
t_end

# ------------------------------------------------------------- dd integrity
t_begin dd-integrity
make_pattern /tmp/p4m 4096
# 4 MiB at byte offset 37 MiB + 12 KiB, then 1 MiB in 512-byte blocks near the end
t_check "dd write 4M" dd if=/tmp/p4m of=$BDEV bs=4096 seek=$((37 * 256 + 3)) oflag=direct conv=fsync
t_check "dd read 4M" dd if=$BDEV of=/tmp/r4m bs=4096 skip=$((37 * 256 + 3)) count=1024 iflag=direct
t_eq "sha256 of 4 MiB at 37M+12K" "$(sha256sum < /tmp/r4m)" "$(sha256sum < /tmp/p4m)"
head -c 1048576 /tmp/p4m > /tmp/p1m
endoff=$(( NSZ / 512 - 2048 - 7 ))
t_check "dd write 1M bs=512 near the end" dd if=/tmp/p1m of=$BDEV bs=512 seek=$endoff oflag=direct
t_check "dd read 1M near the end" dd if=$BDEV of=/tmp/r1m bs=512 skip=$endoff count=2048 iflag=direct
t_eq "sha256 of 1 MiB near the end" "$(sha256sum < /tmp/r1m)" "$(sha256sum < /tmp/p1m)"
# the last block of the device
head -c 512 /tmp/p1m > /tmp/plast
t_check "dd write last block" dd if=/tmp/plast of=$BDEV bs=512 seek=$((NSZ / 512 - 1)) oflag=direct
t_check "dd read last block" dd if=$BDEV of=/tmp/rlast bs=512 skip=$((NSZ / 512 - 1)) count=1 iflag=direct
t_check "last block matches" cmp /tmp/plast /tmp/rlast
# large single commands (host max_sectors_kb, several R2T/H2C PDUs each)
t_check "dd write 4M in 1M blocks" dd if=/tmp/p4m of=$BDEV bs=1M seek=200 oflag=direct
t_check "dd read 4M in 1M blocks" dd if=$BDEV of=/tmp/r4m2 bs=1M skip=200 count=4 iflag=direct
t_eq "sha256 of 4 MiB in 1 MiB I/Os" "$(sha256sum < /tmp/r4m2)" "$(sha256sum < /tmp/p4m)"
t_end

# ------------------------------------------------------------- nvme I/O commands
SLBA=$(( 300 * 1048576 / LBA ))       # scratch area at 300 MiB
t_begin nvme-flush
t_check "nvme flush" nvme flush $BDEV
t_check "nvme flush -n 1 on the controller" nvme flush $CDEV -n 1
t_end

t_begin nvme-write-zeroes
make_pattern /tmp/p64k 64
t_check "write 128 blocks of pattern" dd if=/tmp/p64k of=$BDEV bs=$LBA seek=$SLBA count=$((65536 / LBA)) oflag=direct
# zero blocks 16..47 (nlb is 0-based)
t_check "nvme write-zeroes" nvme write-zeroes $BDEV -s $((SLBA + 16)) -c 31
t_check "read back" dd if=$BDEV of=/tmp/rwz bs=$LBA skip=$SLBA count=$((65536 / LBA)) iflag=direct
head -c $((16 * LBA)) /tmp/p64k > /tmp/exp_wz
head -c $((32 * LBA)) /dev/zero >> /tmp/exp_wz
tail -c +$((48 * LBA + 1)) /tmp/p64k >> /tmp/exp_wz
if ! cmp /tmp/exp_wz /tmp/rwz >/tmp/cmp.out 2>&1; then
    t_bad "write-zeroes result differs (zeroed range must be blocks 16..47 only)"
    t_evidence /tmp/cmp.out 3
fi
t_end

t_begin nvme-dsm
t_check "write 128 blocks" dd if=/tmp/p64k of=$BDEV bs=$LBA seek=$((SLBA + 1024)) count=$((65536 / LBA)) oflag=direct
t_check "nvme dsm --ad" nvme dsm $BDEV --ad -s $((SLBA + 1024)) -b $((65536 / LBA))
t_check "nvme dsm --ad two ranges" nvme dsm $BDEV --ad -s $((SLBA + 2048)),$((SLBA + 4096)) -b 8,16
dlfeat=$(jq .dlfeat /tmp/idns.json 2>/dev/null)
t_check "read deallocated range" dd if=$BDEV of=/tmp/rdsm bs=$LBA skip=$((SLBA + 1024)) count=$((65536 / LBA)) iflag=direct
if [ $(( ${dlfeat:-0} & 7 )) = 1 ]; then
    head -c 65536 /dev/zero > /tmp/z64k
    t_check "DLFEAT says deallocated blocks read as zeroes" cmp /tmp/z64k /tmp/rdsm
else
    echo "dlfeat=$dlfeat: deallocated content not specified, not checked"
fi
t_check "blkdiscard (kernel discard path)" blkdiscard -o $((SLBA * LBA + 8 * 1048576)) -l 1048576 $BDEV
t_end

t_begin nvme-compare
oncs=$(jq .oncs /tmp/idctrl.json 2>/dev/null)
if [ $(( ${oncs:-0} & 1 )) = 0 ]; then
    if [ "$FDR_TARGET" = nvmet ]; then
        t_skip nvme-compare "target does not support Compare (ONCS=$oncs)"
    else
        t_bad "ONCS=$oncs: Compare not supported"; t_end
    fi
else
    head -c $((8 * LBA)) /tmp/p64k > /tmp/pcmp
    t_check "write 8 blocks" dd if=/tmp/pcmp of=$BDEV bs=$LBA seek=$((SLBA + 8192)) oflag=direct
    t_check "compare matching data succeeds" nvme compare $BDEV -s $((SLBA + 8192)) -c 7 -z $((8 * LBA)) -d /tmp/pcmp
    cp /tmp/pcmp /tmp/pcmp2
    printf 'X' | dd of=/tmp/pcmp2 bs=1 seek=$((5 * LBA + 77)) conv=notrunc 2>/dev/null
    if t_check_fails "compare of different data fails" nvme compare $BDEV -s $((SLBA + 8192)) -c 7 -z $((8 * LBA)) -d /tmp/pcmp2; then
        grep -qi 'compare' /tmp/t_check.out ||
            { t_bad "miscompare did not report COMPARE FAILURE status"; t_evidence /tmp/t_check.out 5; }
        echo "miscompare: $(cat /tmp/t_check.out)"
    fi
    # 64 KiB: more than fits in a command capsule (data goes via R2T/H2CData)
    t_check "write 64 KiB" dd if=/tmp/p64k of=$BDEV bs=65536 seek=$(( (SLBA + 16384) * LBA / 65536 )) oflag=direct
    t_check "compare 64 KiB matching" nvme compare $BDEV -s $((SLBA + 16384)) -c $((65536 / LBA - 1)) -z 65536 -d /tmp/p64k
    cp /tmp/p64k /tmp/p64k2
    printf 'Y' | dd of=/tmp/p64k2 bs=1 seek=65535 conv=notrunc 2>/dev/null
    t_check_fails "compare 64 KiB, last byte differs" nvme compare $BDEV -s $((SLBA + 16384)) -c $((65536 / LBA - 1)) -z 65536 -d /tmp/p64k2 &&
        { grep -qi compare /tmp/t_check.out || t_bad "64 KiB miscompare status: $(cat /tmp/t_check.out)"; }
    t_end
fi

# ------------------------------------------------------------- out-of-range + error log
errmax() { nvme error-log $CDEV -e 64 -o json 2>/dev/null | jq '[.errors[].error_count] | max // 0'; }
nerr() { nvme smart-log $CDEV -o json 2>/dev/null | jq '.num_err_log_entries | tonumber'; }
E0=$(errmax); N0=$(nerr)
t_begin lba-out-of-range
oor_check() {   # DESC SLBA NLB0
    if t_check_fails "$1" nvme read $BDEV -s $2 -c $3 -z $(( ($3 + 1) * LBA )) -d /tmp/oor.bin; then
        echo "$1: $(cat /tmp/t_check.out)"
        if ! grep -qi 'LBA_RANGE\|out of range\|exceeds the size' /tmp/t_check.out; then
            if [ "$FDR_TARGET" = nvmet ]; then
                echo "(nvmet bdev backend reports $(cat /tmp/t_check.out))"
            else
                t_bad "$1: expected LBA Out of Range status"; t_evidence /tmp/t_check.out 3
            fi
        fi
    fi
}
oor_check "read at slba = capacity" $NBLK 0
oor_check "read straddling the end" $((NBLK - 1)) 1
oor_check "read far beyond the end" $((NBLK * 4 + 12345)) 7
t_check "read of the last block still works" nvme read $BDEV -s $((NBLK - 1)) -c 0 -z $LBA -d /tmp/last.bin
t_end

t_begin error-log
nvme error-log $CDEV -e 64 -o json > /tmp/errlog2.json 2>&1
E1=$(jq '[.errors[].error_count] | max // 0' /tmp/errlog2.json 2>/dev/null)
echo "error count $E0 -> $E1"
if [ "$((E1 - E0))" -lt 3 ] 2>/dev/null; then
    t_bad "error-log error_count moved from $E0 to $E1, expected +3 for the 3 failed reads"
    t_evidence /tmp/errlog2.json 30
else
    ent=$(jq -c --argjson c "$E1" '.errors[] | select(.error_count == $c)' /tmp/errlog2.json)
    echo "newest entry: $ent"
    sc=$(( $(echo "$ent" | jq .status_field) & 0x7ff ))
    if [ "$FDR_TARGET" = nvmet ]; then
        [ $sc != 0 ] || t_bad "newest entry has no status"
    else
        t_eq "newest entry status (SCT/SC)" "$(printf 0x%03x $sc)" 0x080
    fi
    t_eq "newest entry nsid" "$(echo "$ent" | jq .nsid)" 1
    N1=$(nerr)
    [ $((N1 - N0)) -ge 3 ] 2>/dev/null ||
        t_bad "smart-log num_err_log_entries moved from $N0 to $N1, expected +3"
    [ "$(echo "$ent" | jq .sqid)" != 0 ] || t_bad "newest entry should name an I/O queue (sqid != 0)"
fi
t_end

# ------------------------------------------------------------- fio
fio_verify() {   # NAME ENGINE FIO-ARGS...
    local n=$1 eng=$2; shift 2
    t_begin $n
    if fio --name=$n --filename=$BDEV --ioengine=$eng --direct=1 --iodepth=16 \
        --verify=crc32c --verify_fatal=1 --do_verify=1 --group_reporting \
        --output-format=json --output=/tmp/$n.json "$@" >/tmp/$n.out 2>&1; then
        jq -c '.jobs[0] | {write_bw_kib: .write.bw, write_ios: .write.total_ios, read_ios: .read.total_ios, err: .error}' /tmp/$n.json
        t_eq "fio job error" "$(jq '[.jobs[].error] | add' /tmp/$n.json)" 0
        [ "$(jq '[.jobs[].write.total_ios] | add' /tmp/$n.json)" -gt 0 ] || t_bad "no writes done"
        [ "$(jq '[.jobs[].read.total_ios] | add' /tmp/$n.json)" -gt 0 ] || t_bad "no verify reads done"
    else
        t_bad "fio failed"; t_evidence /tmp/$n.out 30; t_evidence /tmp/$n.json 20
    fi
    t_end
}
fio_verify fio-verify-libaio libaio --rw=randwrite --bsrange=4k-64k --size=64M --offset=400M
fio_verify fio-verify-io_uring io_uring --rw=write --bs=256k --size=32M --offset=500M

# ------------------------------------------------------------- ext4
t_begin ext4
MNT=/mnt/fdr; mkdir -p $MNT
if t_check "mkfs.ext4" mkfs.ext4 -F -q -E lazy_itable_init=0,lazy_journal_init=0 $BDEV &&
   t_check "mount" mount -t ext4 $BDEV $MNT; then
    mkdir -p $MNT/d
    make_pattern $MNT/big 12288
    i=0; while [ $i -lt 64 ]; do make_pattern $MNT/d/f$i $((i + 1)); i=$((i + 1)); done
    ( cd $MNT && find . -type f | sort | xargs sha256sum ) > /tmp/ext4.sums
    sync
    t_check "umount" umount $MNT
    echo 3 > /proc/sys/vm/drop_caches
    t_check "fsck clean" e2fsck -fn $BDEV
    if t_check "remount" mount -t ext4 $BDEV $MNT; then
        ( cd $MNT && find . -type f | sort | xargs sha256sum ) > /tmp/ext4.sums2
        t_check "file checksums after remount" cmp /tmp/ext4.sums /tmp/ext4.sums2
        t_eq "file count" "$(wc -l < /tmp/ext4.sums2)" 65
        t_check "fstrim" fstrim $MNT
        t_check "final umount" umount $MNT
    fi
fi
t_end

# ------------------------------------------------------------- multiqueue
t_begin multiqueue
qc=$(cat /sys/class/nvme/$CTRL/queue_count)
ncpu=$(nproc)
echo "queue_count=$qc (admin + I/O), $ncpu CPUs"
[ "$qc" -ge 3 ] || t_bad "queue_count $qc: expected admin + at least 2 I/O queues with $ncpu CPUs"
t_eq "I/O queues = CPUs" "$((qc - 1))" "$ncpu"
porthex=$(printf '%04X' $FDR_PORT)
conns=$(awk -v p=":$porthex" 'NR > 1 && substr($3, length($3) - 4) == p && $4 == "01"' /proc/net/tcp | wc -l)
t_eq "guest TCP connections to the target" "$conns" "$qc"
if [ "$FDR_TARGET" = drive ]; then
    hc=$(host_req host-tcp-established)
    t_eq "TCP connections seen by the host on the drive port" "$hc" "$qc"
fi
# bytes carried by each TCP connection to the target (ss -ti), "port bytes"
conn_bytes() {
    ss -tinH state established "( dport = :$FDR_PORT )" 2>/dev/null | awk '
        /^ *[0-9]/ || /ESTAB/ { for (i = 1; i <= NF; i++) if ($i ~ /:[0-9]+$/) { n = split($i, a, ":"); lp = a[n]; break } }
        /bytes_sent:/ { s = 0; r = 0
            for (i = 1; i <= NF; i++) { if ($i ~ /^bytes_sent:/) s = substr($i, 12); if ($i ~ /^bytes_received:/) r = substr($i, 16) }
            print lp, s + r }' | sort
}
conn_bytes > /tmp/cb0
if fio --name=mq --filename=$BDEV --ioengine=libaio --direct=1 --iodepth=8 --numjobs=2 \
        --cpus_allowed=0-$((ncpu - 1)) --cpus_allowed_policy=split --rw=randrw --bs=4k \
        --size=16M --offset=600M --group_reporting --output-format=json --output=/tmp/mq.json >/tmp/mq.out 2>&1; then
    conn_bytes > /tmp/cb1
    echo "bytes per connection before: $(tr '\n' ' ' < /tmp/cb0)"
    echo "bytes per connection after:  $(tr '\n' ' ' < /tmp/cb1)"
    # each job moves ~16 MB; a queue counts as used if it carried > 2 MB
    awk 'NR == FNR { a[$1] = $2; next } { print $1, a[$1] + 0, $2 }' /tmp/cb0 /tmp/cb1 > /tmp/cb
    used=$(awk '$3 - $2 > 2000000' /tmp/cb | wc -l)
    [ "$used" -ge 2 ] || { t_bad "fio numjobs=2 used $used connection(s) (queues), expected >= 2"
                           t_diag "$(cat /tmp/cb)"; }
    [ "$FDR_TARGET" = drive ] && echo "drive log lines mentioning queue connects: $(drive_log_count '[Cc]onnect')"
else
    t_bad "fio numjobs=2 failed"; t_evidence /tmp/mq.out 20
fi
t_end

# ------------------------------------------------------------- controller reset
t_begin ctrl-reset
dmesg_mark
make_pattern /tmp/prs 256
t_check "write before reset" dd if=/tmp/prs of=$BDEV bs=4096 seek=5000 oflag=direct
if t_check "nvme reset" nvme reset $CDEV; then
    wait_until 30 ctrl_live $CTRL || t_bad "controller not live after reset: $(ctrl_state $CTRL)"
fi
t_eq "I/O queues after reset" "$(cat /sys/class/nvme/$CTRL/queue_count)" "$qc"
t_check "read after reset" dd if=$BDEV of=/tmp/rrs bs=4096 skip=5000 count=64 iflag=direct
t_check "data survives a controller reset" cmp /tmp/prs /tmp/rrs
echo "dmesg during reset:"; dmesg_since
t_end

# ------------------------------------------------------------- keep-alive
# idle for more than two keep-alive timeouts: the host's keep-alives must be
# answered and the drive must not time the controller out
t_begin keep-alive-idle
kato=$(cat /sys/class/nvme/$CTRL/kato)
dmesg_mark
sleep $((2 * kato + 2))
t_eq "state after ${kato}s x2 idle" "$(ctrl_state $CTRL)" live
dmesg_since > /tmp/dm_ka
grep -iE 'keep.?alive|recovery|reconnect' /tmp/dm_ka && { t_bad "keep-alive trouble"; t_evidence /tmp/dm_ka; }
t_check "I/O after idle" dd if=$BDEV of=/dev/null bs=4096 count=16 iflag=direct
t_end

# ------------------------------------------------------------- kernel log
# nothing since the (good) connect should have made the kernel complain
# (passthrough errors from nvme-cli are not logged by the kernel)
t_begin dmesg-clean
dmesg | awk 'f { print } /fdr: dmesg-clean starts here/ { f = 1 }' > /tmp/dm_all
if grep -E 'nvme.*([Ee]rror|[Tt]imeout|[Ff]ailed|[Aa]bort|recovery)|I/O error|critical|WARNING:|BUG:|Call Trace' /tmp/dm_all > /tmp/dm_bad; then
    t_bad "kernel complaints:"; t_evidence /tmp/dm_bad 30
fi
t_end

# ------------------------------------------------------------- disconnect + reconnect
t_begin reconnect
make_pattern /tmp/prc 1024
t_check "write pattern before disconnect" dd if=/tmp/prc of=$BDEV bs=4096 seek=1000 oflag=direct
dmesg_mark
if t_check "nvme disconnect" fdr_disconnect; then
    [ -e $BDEV ] && t_bad "$BDEV still exists after disconnect"
    [ -e $CDEV ] && t_bad "$CDEV still exists after disconnect"
fi
dmesg_since > /tmp/dm_disc
echo "dmesg during disconnect:"; cat /tmp/dm_disc
if grep -iE 'error|fail|timeout|warn|bug|call trace' /tmp/dm_disc > /tmp/dm_bad; then
    t_bad "kernel complained during disconnect"; t_evidence /tmp/dm_bad 20
fi
if t_check "nvme connect again" fdr_connect; then
    CTRL=$FDR_CTRL; DEV=$FDR_DEV; CDEV=/dev/$CTRL; BDEV=/dev/$DEV
    t_check "read pattern after reconnect" dd if=$BDEV of=/tmp/rrc bs=4096 skip=1000 count=256 iflag=direct
    t_check "data survives disconnect/connect" cmp /tmp/prc /tmp/rrc
    t_eq "size after reconnect" "$(( $(cat /sys/block/$DEV/size) * 512 ))" "$NSZ"
    make_pattern /tmp/prc2 1024
    t_check "write after reconnect" dd if=/tmp/prc2 of=$BDEV bs=4096 seek=3000 oflag=direct
    t_check "read after reconnect" dd if=$BDEV of=/tmp/rrc2 bs=4096 skip=3000 count=256 iflag=direct
    t_check "I/O after reconnect" cmp /tmp/prc2 /tmp/rrc2
    t_check "final disconnect" fdr_disconnect
fi
t_end

# ------------------------------------------------------------- digests
# NVMe/TCP header and data digests (CRC32C) negotiated at connect time (the
# Linux host refuses an ICResp that does not grant the digests it asked for,
# so a successful connect proves the negotiation)
t_begin digests
if fdr_connect --hdr-digest --data-digest >/tmp/conn.out 2>&1; then
    CTRL=$FDR_CTRL; DEV=$FDR_DEV; BDEV=/dev/$DEV
    dmesg | grep -i digest | tail -3
    t_check "dd read with digests (data written without)" dd if=$BDEV of=/tmp/rdg bs=4096 skip=3000 count=256 iflag=direct
    t_check "data matches" cmp /tmp/prc2 /tmp/rdg
    if fio --name=dg --filename=$BDEV --ioengine=libaio --direct=1 --iodepth=16 \
            --rw=randwrite --bsrange=512-128k --size=16M --offset=700M \
            --verify=crc32c --verify_fatal=1 --output-format=json --output=/tmp/dg.json >/tmp/dg.out 2>&1; then
        t_eq "fio error" "$(jq '.jobs[0].error' /tmp/dg.json)" 0
    else
        t_bad "fio with digests failed"; t_evidence /tmp/dg.out 20
    fi
    t_check "disconnect" fdr_disconnect
else
    t_bad "connect with --hdr-digest --data-digest failed"; t_evidence /tmp/conn.out
fi
t_end

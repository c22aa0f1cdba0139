#@ tests: connect-two-ns identify-two-ns io-ns1 io-ns2 no-crosstalk
#@ tests: file-backend-contents fio-both-ns md-raid1 host-not-allowed
#@ tests: two-controllers
#@ allow-hosts: 1 2
#@ ns: ram,size=256M,lba=512 file,size=128M,lba=4096
#@ nqn: nqn.2026-11.io.frankendrive:two-ns
#@ smp: 1
#@ mem: 768M
#@ timeout: 300
#@ order: 30
#
# One RAM namespace (512-byte LBAs) and one file namespace (4 KiB LBAs)
# behind one subsystem: both appear with the right geometry, are usable,
# don't write into each other, the file namespace really lands in its file
# (checked on the host by the .host hook) and md raid1 runs across both.
# The drive admits only host identities 1 and 2 (--allow-host): identity 3
# is refused; identity 2 gets a second controller in the same subsystem,
# and the kernel's native multipath sees both namespaces through both.

t_begin connect-two-ns
if fdr_connect >/tmp/conn.out 2>&1; then
    CTRL=$FDR_CTRL; CDEV=/dev/$CTRL
    for i in 1 2; do
        eval d=\$FDR_DEV$i
        t_eq "ns$i size ($d)" "$(( $(cat /sys/block/$d/size) * 512 ))" "$(ns_size $i)"
        t_eq "ns$i logical block size" "$(cat /sys/block/$d/queue/logical_block_size)" "$(ns_lba $i)"
    done
else
    t_bad "connect failed"; t_evidence /tmp/conn.out
fi
t_end || exit 1
D1=/dev/$FDR_DEV1 D2=/dev/$FDR_DEV2
sleep 1

t_begin identify-two-ns
if t_check "list-ns" nvme list-ns $CDEV -o json; then
    t_eq "active namespaces" "$(jq -c '[.nsid_list[].nsid]' /tmp/t_check.out)" "[1,2]"
fi
i=1
for d in $D1 $D2; do
    if t_check "id-ns $d" nvme id-ns $d -o json; then
        lba=$(ns_lba $i)
        t_eq "ns$i nsze" "$(jq .nsze /tmp/t_check.out)" "$(( $(ns_size $i) / lba ))"
        ds=$(jq '.lbafs[.flbas % 16].ds' /tmp/t_check.out)
        t_eq "ns$i LBA size" "$((1 << ds))" "$lba"
    fi
    t_check "ns-descs $d" nvme ns-descs $d -o json && cp /tmp/t_check.out /tmp/desc$i.json
    i=$((i + 1))
done
u1=$(jq -c '[."ns-descs"[] | select(.type != "csi")]' /tmp/desc1.json 2>/dev/null)
u2=$(jq -c '[."ns-descs"[] | select(.type != "csi")]' /tmp/desc2.json 2>/dev/null)
[ "$u1" != "$u2" ] || t_bad "both namespaces report the same identifiers: $u1"
t_check "id-ctrl nn >= 2" sh -c "[ \$(nvme id-ctrl $CDEV -o json | jq .nn) -ge 2 ]"
t_end

io_check() {   # NAME DEV BS
    t_begin $1
    make_pattern /tmp/pat_$1 3072
    t_check "write 3 MiB" dd if=/tmp/pat_$1 of=$2 bs=$3 seek=$((5 * 1048576 / $3)) oflag=direct conv=fsync
    t_check "read 3 MiB" dd if=$2 of=/tmp/rd_$1 bs=$3 skip=$((5 * 1048576 / $3)) count=$((3 * 1048576 / $3)) iflag=direct
    t_check "data matches" cmp /tmp/pat_$1 /tmp/rd_$1
    t_end
}
io_check io-ns1 $D1 512
io_check io-ns2 $D2 4096

# different data at the same offsets of both namespaces
t_begin no-crosstalk
make_pattern /tmp/x1 1024; make_pattern /tmp/x2 1024
t_check "write ns1" dd if=/tmp/x1 of=$D1 bs=4096 seek=4096 oflag=direct
t_check "write ns2" dd if=/tmp/x2 of=$D2 bs=4096 seek=4096 oflag=direct
t_check "read ns1" dd if=$D1 of=/tmp/y1 bs=4096 skip=4096 count=256 iflag=direct
t_check "read ns2" dd if=$D2 of=/tmp/y2 bs=4096 skip=4096 count=256 iflag=direct
t_check "ns1 has its own data" cmp /tmp/x1 /tmp/y1
t_check "ns2 has its own data" cmp /tmp/x2 /tmp/y2
t_end

# the file namespace's data must be in its backing file at LBA * 4096
t_begin file-backend-contents
t_check "flush ns2" nvme flush $D2
sum=$(sha256sum < /tmp/x2 | cut -d' ' -f1)
if [ "$FDR_TARGET" = nvmet ]; then
    got=$(dd if=/tmp/nvmet/ns2.img bs=4096 skip=4096 count=256 2>/dev/null | sha256sum | cut -d' ' -f1)
    t_eq "backing file contents" "$got" "$sum"
else
    r=$(host_req hook check-file 2 $((4096 * 4096)) 1048576 $sum) ||
        t_bad "host: backing file check failed: $r"
    echo "host: $r"
fi
t_end

t_begin fio-both-ns
if fio --ioengine=libaio --direct=1 --iodepth=16 --verify=crc32c --verify_fatal=1 \
       --rw=randwrite --bs=4k --size=16M --offset=32M --output-format=json --output=/tmp/fb.json \
       --name=ns1 --filename=$D1 --name=ns2 --filename=$D2 >/tmp/fb.out 2>&1; then
    t_eq "fio errors" "$(jq '[.jobs[].error] | add' /tmp/fb.json)" 0
else
    t_bad "fio on both namespaces failed"; t_evidence /tmp/fb.out 30
fi
t_end

# md raid1 across the two namespaces (different LBA sizes: md uses 4096)
t_begin md-raid1
if t_check "mdadm --create" mdadm --create /dev/md0 --run --level=1 --raid-devices=2 \
        --metadata=1.2 --size=32768 --bitmap=none $D1 $D2; then
    # initial resync: copies ns1 to ns2 over the wire
    wait_until 180 sh -c '[ "$(cat /sys/block/md0/md/sync_action)" = idle ]' ||
        t_bad "md resync did not finish: $(cat /proc/mdstat)"
    make_pattern /tmp/md 8192
    cat /proc/mdstat
    t_check "write 8 MiB to md0" dd if=/tmp/md of=/dev/md0 bs=64k oflag=direct conv=fsync
    echo 3 > /proc/sys/vm/drop_caches
    t_check "read md0" dd if=/dev/md0 of=/tmp/mdr bs=64k count=128 iflag=direct
    t_check "md0 data" cmp /tmp/md /tmp/mdr
    echo check > /sys/block/md0/md/sync_action
    wait_until 120 sh -c '[ "$(cat /sys/block/md0/md/sync_action)" = idle ]' ||
        t_bad "md check did not finish"
    t_eq "md mismatch_cnt after check" "$(cat /sys/block/md0/md/mismatch_cnt)" 0
    t_eq "md degraded" "$(cat /sys/block/md0/md/degraded)" 0
    t_check "mdadm --stop" mdadm --stop /dev/md0
fi
t_end

# ------------------------------------------------------------- host access
nctrls() {  # controllers of $FDR_NQN
    local n=0 c
    for c in /sys/class/nvme/nvme*; do
        [ "$(cat $c/subsysnqn 2>/dev/null)" = "$FDR_NQN" ] && n=$((n + 1))
    done
    echo $n
}
t_begin host-not-allowed
t_eq "controllers before" "$(nctrls)" 1
dmesg_mark
t_check_fails "connect as a host that is not allowed" \
    fabrics_connect "hostnqn=$FDR_HOSTNQN3,hostid=$FDR_HOSTID3,duplicate_connect"
sleep 1
dmesg_since > /tmp/dm_na
echo "refused: $(cat /tmp/t_check.out)"; cat /tmp/dm_na
# the refusal must come from the target's Connect response
grep -qiE 'not allowed|connect.*(invalid|fail)|rejected' /tmp/dm_na ||
    { t_bad "no Connect failure in the kernel log"; t_evidence /tmp/dm_na; }
t_eq "controllers after the refused connect" "$(nctrls)" 1
t_check "discovery still works for an allowed host" nvme discover -t tcp -a "$FDR_ADDR" -s "$FDR_PORT"
t_end

t_begin two-controllers
if t_check "connect as a second host" fabrics_connect "hostnqn=$FDR_HOSTNQN2,hostid=$FDR_HOSTID2"; then
    echo "second controller: $(cat /tmp/t_check.out)"
    # path devices of head nvmeSnN are the hidden disks nvmeScCnN
    npaths() { ls -d /sys/block/${1%n*}c*n${1##*n} 2>/dev/null | wc -l; }
    wait_until 20 sh -c "[ \$(ls -d /sys/block/${FDR_DEV1%n*}c*n${FDR_DEV1##*n} | wc -l) -ge 2 ]"
    t_eq "controllers" "$(nctrls)" 2
    ids=$(for c in /sys/class/nvme/nvme*; do [ "$(cat $c/subsysnqn)" = "$FDR_NQN" ] && cat $c/cntlid; done | sort -u | wc -l)
    t_eq "distinct controller ids" "$ids" 2
    for i in 1 2; do
        eval d=\$FDR_DEV$i
        t_eq "paths to ns$i ($d)" "$(npaths $d)" 2
    done
    echo "paths: $(cd /sys/block && ls -d nvme*c*n* | tr '\n' ' ')"
    t_eq "id-ctrl CMIC multi-controller bit" "$(( $(nvme id-ctrl /dev/$CTRL -o json | jq .cmic) & 2 ))" 2
    t_eq "id-ns NMIC shared bit" "$(( $(nvme id-ns $D1 -o json | jq .nmic) & 1 ))" 1
    # take the first controller away: I/O continues over the second one
    make_pattern /tmp/mp 512
    t_check "write through the head device" dd if=/tmp/mp of=$D1 bs=4096 seek=9000 oflag=direct
    t_check "disconnect the first controller" nvme disconnect -d $CTRL
    sleep 1
    t_eq "controllers left" "$(nctrls)" 1
    t_eq "paths left to ns1" "$(npaths $FDR_DEV1)" 1
    t_check "read over the second controller" dd if=$D1 of=/tmp/mpr bs=4096 skip=9000 count=128 iflag=direct
    t_check "data via the other controller" cmp /tmp/mp /tmp/mpr
    t_check "I/O on ns2 via the second controller" dd if=$D2 of=/dev/null bs=4096 count=64 iflag=direct
fi
t_check "disconnect all" fdr_disconnect
t_end

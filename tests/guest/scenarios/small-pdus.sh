#@ tests: connect-limited-queues fio-verify-r2t dd-integrity-r2t queue-depth-overload
#@ ns: ram,size=256M,lba=512
#@ drive-args: --queues 1 --queue-depth 16 --inline-data 0 --maxh2cdata 4096
#@ targets: drive
#@ smp: 2
#@ mem: 768M
#@ timeout: 240
#@ order: 40
#
# The drive limited to one I/O queue of 16 entries, no in-capsule data and
# 4 KiB H2CData PDUs: every write goes through R2T and large writes are
# split into many H2CData PDUs; the host has 2 CPUs but must settle for the
# one I/O queue the drive grants, and must not overrun the queue. Header and
# data digests are on, so every one of those PDUs carries CRC32Cs.

NSZ=$(ns_size 1)
t_begin connect-limited-queues
if fdr_connect --hdr-digest --data-digest >/tmp/conn.out 2>&1; then
    CTRL=$FDR_CTRL; DEV=$FDR_DEV; BDEV=/dev/$DEV
    t_eq "queue_count (admin + granted I/O queues)" "$(cat /sys/class/nvme/$CTRL/queue_count)" 2
    sq=$(cat /sys/class/nvme/$CTRL/sqsize)
    [ "$sq" -le 16 ] || t_bad "host sqsize $sq > drive queue depth 16"
    echo "sqsize=$sq"
    t_eq "size" "$(( $(cat /sys/block/$DEV/size) * 512 ))" "$NSZ"
else
    t_bad "connect failed"; t_evidence /tmp/conn.out
fi
t_end || exit 1
sleep 1

t_begin fio-verify-r2t
if fio --name=r2t --filename=$BDEV --ioengine=libaio --direct=1 --iodepth=16 \
        --rw=randwrite --bsrange=512-256k --size=32M --offset=16M \
        --verify=crc32c --verify_fatal=1 --output-format=json --output=/tmp/r2t.json >/tmp/r2t.out 2>&1; then
    t_eq "fio error" "$(jq '.jobs[0].error' /tmp/r2t.json)" 0
    echo "fio: $(jq -c '.jobs[0] | {w: .write.total_ios, r: .read.total_ios, wbw: .write.bw}' /tmp/r2t.json)"
else
    t_bad "fio failed"; t_evidence /tmp/r2t.out 20
fi
t_end

t_begin dd-integrity-r2t
make_pattern /tmp/p 4096
t_check "write 4 MiB in 1 MiB writes" dd if=/tmp/p of=$BDEV bs=1M seek=100 oflag=direct
t_check "write 1 block" dd if=/tmp/p of=$BDEV bs=512 count=1 seek=1 oflag=direct
t_check "read back" dd if=$BDEV of=/tmp/r bs=1M skip=100 count=4 iflag=direct
t_check "4 MiB match" cmp /tmp/p /tmp/r
t_end

# more I/O in flight than the queue holds: the kernel must queue, the drive
# must never see more than its depth, nothing may fail
t_begin queue-depth-overload
if fio --name=qd --filename=$BDEV --ioengine=io_uring --direct=1 --iodepth=64 --numjobs=2 \
        --rw=randrw --bs=4k --size=8M --offset=64M --group_reporting \
        --output-format=json --output=/tmp/qd.json >/tmp/qd.out 2>&1; then
    t_eq "fio errors" "$(jq '[.jobs[].error] | add' /tmp/qd.json)" 0
else
    t_bad "fio failed"; t_evidence /tmp/qd.out 20
fi
dmesg | grep -E 'nvme.*([Ee]rror|[Tt]imeout|recovery)' > /tmp/dm_bad && { t_bad "kernel complaints"; t_evidence /tmp/dm_bad; }
t_check "disconnect" fdr_disconnect
t_end

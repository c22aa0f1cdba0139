#@ tests: connect io-and-failures tshark-matches-ring tshark-failed-read
#@ tests: tshark-failed-admin tshark-qids-without-connect lua-registers
#@ ns: ram,size=64M,lba=512
#@ drive-args: --record-events 100000 --record-snaplen 512
#@ targets: drive
#@ smp: 1
#@ mem: 768M
#@ timeout: 300
#@ order: 70
#
# A real host's session, captured: the guest does known I/O and two commands
# that must fail, then the host-side hook (capture.host -> capture_check.py)
# turns the drive's flight recorder ring into pcapng with nvmedump -w and
# reads it with Debian's stock tshark (no plug-in):
#   tshark-matches-ring          every command and completion the drive
#                                recorded (qid, CID, opcode, status) is in
#                                the capture, in order, each response linked
#                                to its command with a latency
#   tshark-failed-read           the Read past the end: its SLBA and status
#                                LBA Out of Range (0x80)
#   tshark-failed-admin          vendor admin opcode C5h: Invalid Opcode
#   tshark-qids-without-connect  a dump of I/O commands only (the real
#                                Connects filtered out): qids still right,
#                                from nvmedump's synthetic Connects
#   lua-registers                the project's Lua dissector names the
#                                Property Set of CC (EN=1) the kernel did

NSZ=$(ns_size 1); LBA=$(ns_lba 1); NBLK=$((NSZ / LBA))

t_begin connect
if fdr_connect >/tmp/conn.out 2>&1; then
    CTRL=$FDR_CTRL; CDEV=/dev/$FDR_CTRL; BDEV=/dev/$FDR_DEV
    t_eq "logical block size" "$(cat /sys/block/$FDR_DEV/queue/logical_block_size)" "$LBA"
else
    t_bad "connect failed"; t_evidence /tmp/conn.out
fi
t_end || exit 0

t_begin io-and-failures
make_pattern /tmp/pat 16
t_check "write 16 KiB at LBA 64" dd if=/tmp/pat of="$BDEV" bs=4096 count=4 seek=8 oflag=direct
t_check "read it back" dd if="$BDEV" of=/tmp/back bs=4096 count=4 skip=8 iflag=direct
cmp -s /tmp/pat /tmp/back || t_bad "data read back differs"
# one block past the end: LBA Out of Range
t_check_fails "read past the end" nvme read "$BDEV" --start-block="$NBLK" --block-count=0 \
    --data-size="$LBA" --data=/tmp/past
grep -qiE 'LBA|range|0x80|status' /tmp/t_check.out ||
    { t_bad "no NVMe status in nvme-cli's output"; t_evidence /tmp/t_check.out; }
# a vendor admin opcode nothing claims: Invalid Command Opcode
t_check_fails "admin opcode c5h" nvme admin-passthru "$CDEV" --opcode=0xc5
t_end

check() {   # check TEST ARGS...: the host hook's verdict on the capture
    local out
    t_begin "$1"
    if out=$(host_req hook check "$@"); then
        echo "host: $out"
    else
        t_bad "$out"
    fi
    t_end
}
check tshark-matches-ring
check tshark-failed-read "$NBLK"
check tshark-failed-admin 0xc5
check tshark-qids-without-connect
check lua-registers

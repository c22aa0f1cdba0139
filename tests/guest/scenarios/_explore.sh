#@ tests: explore
#@ smp: 2
#@ model: FDR-TEST-MODEL
#@ serial: FDRSERIAL0001
#@ ns: ram,size=256M,lba=512
set -x
fdr_connect
echo CTRL=$FDR_CTRL DEV=$FDR_DEV
ls /sys/class/nvme/$FDR_CTRL/
cat /sys/class/nvme/$FDR_CTRL/queue_count /sys/class/nvme/$FDR_CTRL/sqsize /sys/class/nvme/$FDR_CTRL/kato
ls /sys/block/
ls /sys/kernel/debug/block/
ls /sys/kernel/debug/block/*/ | head -30
cat /sys/block/$FDR_DEV/queue/max_sectors_kb /sys/block/$FDR_DEV/queue/max_hw_sectors_kb
nvme discover -t tcp -a $FDR_ADDR -s $FDR_DISC_PORT -o json
nvme smart-log /dev/$FDR_CTRL -o json
nvme error-log /dev/$FDR_CTRL -e 2 -o json
nvme get-feature /dev/$FDR_CTRL -f 7 -o json
nvme get-feature /dev/$FDR_CTRL -f 0xf
nvme get-feature /dev/$FDR_CTRL -f 6
nvme id-ctrl /dev/$FDR_CTRL -o json | jq -c '{mn,sn,fr,subnqn,oncs,vwc,mdts,sgls}'
nvme id-ns /dev/$FDR_DEV -o json | jq -c '{nsze,ncap,nuse,flbas,dlfeat,lbafs}'
nvme ns-descs /dev/$FDR_DEV -o json
nvme list-ns /dev/$FDR_CTRL -o json
nvme fw-log /dev/$FDR_CTRL -o json
nvme read /dev/$FDR_DEV -s 524288 -c 0 -z 512 -d /dev/null; echo rc=$?
nvme read /dev/$FDR_DEV -s 524287 -c 1 -z 1024 -d /dev/null; echo rc=$?
nvme error-log /dev/$FDR_CTRL -e 2 -o json
nvme list -o json
nvme compare /dev/$FDR_DEV -s 0 -c 0 -z 512 -d /dev/zero; echo rc=$?
cat /proc/net/tcp
t_ok explore

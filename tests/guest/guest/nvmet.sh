# Linux's own NVMe/TCP target (nvmet) inside the guest, configured like the
# drive would be (FDR_NQN, FDR_NS, FDR_MODEL, FDR_SERIAL) on 127.0.0.1.
# Used with FDR_TARGET=nvmet to validate the harness and the scenarios
# against a reference implementation. Sourced by lib.sh users.
#
#   ram,size=S,lba=512   -> loop device over a sparse tmpfs file (bdev backend)
#   ram|file,size=S,lba=4096 -> tmpfs file, nvmet file backend (buffered_io)
#   file,size=S,lba=512  -> loop device over a sparse tmpfs file

NVMET=/sys/kernel/config/nvmet

nvmet_setup() {
    local s=$NVMET/subsystems/$FDR_NQN i=1 n kind size lba img dev
    [ -d $NVMET ] || { echo "nvmet configfs missing"; return 1; }
    mkdir -p /tmp/nvmet
    mkdir "$s" || return 1
    if [ -n "$FDR_ALLOW_HOSTS" ]; then
        echo 0 > "$s/attr_allow_any_host"
        for h in $FDR_ALLOW_HOSTS; do
            mkdir -p "$NVMET/hosts/$h"
            ln -s "$NVMET/hosts/$h" "$s/allowed_hosts/$h"
        done
    else
        echo 1 > "$s/attr_allow_any_host"
    fi
    [ -n "$FDR_MODEL" ] && echo "$FDR_MODEL" > "$s/attr_model"
    [ -n "$FDR_SERIAL" ] && echo "$FDR_SERIAL" > "$s/attr_serial"
    n=$(ns_count)
    while [ $i -le "$n" ]; do
        kind=$(ns_field $i kind); size=$(ns_size $i); lba=$(ns_lba $i)
        img=/tmp/nvmet/ns$i.img
        truncate -s "$size" "$img" || return 1
        mkdir "$s/namespaces/$i" || return 1
        if [ "$lba" = 512 ]; then
            dev=$(losetup -f) && losetup "$dev" "$img" || return 1
            echo "$dev" > "$s/namespaces/$i/device_path"
        elif [ "$lba" = 4096 ]; then
            echo "$img" > "$s/namespaces/$i/device_path"
            echo 1 > "$s/namespaces/$i/buffered_io"
        else
            echo "nvmet emulation: lba $lba not supported"; return 1
        fi
        echo 1 > "$s/namespaces/$i/enable" || return 1
        i=$((i + 1))
    done
    # I/O port (also serves discovery) and a discovery-only port
    mkdir $NVMET/ports/1 $NVMET/ports/2
    for p in 1 2; do
        echo tcp > $NVMET/ports/$p/addr_trtype
        echo ipv4 > $NVMET/ports/$p/addr_adrfam
        echo 127.0.0.1 > $NVMET/ports/$p/addr_traddr
    done
    echo "$FDR_PORT" > $NVMET/ports/1/addr_trsvcid
    echo "$FDR_DISC_PORT" > $NVMET/ports/2/addr_trsvcid
    # an nvmet port only listens once a subsystem is linked to it
    ln -s "$NVMET/subsystems/$FDR_NQN" "$NVMET/ports/2/subsystems/$FDR_NQN"
    nvmet_port_up
}
nvmet_port_up() {
    ln -s "$NVMET/subsystems/$FDR_NQN" "$NVMET/ports/1/subsystems/$FDR_NQN" && echo ok
}
# removing the subsystem from the port tears down its controllers, like a
# crashed target; re-adding it lets the host's reconnect logic succeed.
nvmet_port_down() {
    rm -f "$NVMET/ports/1/subsystems/$FDR_NQN" && echo ok
}

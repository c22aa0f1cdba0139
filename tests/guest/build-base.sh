#!/bin/bash
# Build (or reuse from cache) the guest "base": Debian's kernel (bzImage) and
# an initramfs holding busybox, nvme-cli, fio, mdadm, e2fsprogs, jq, kmod,
# their shared libraries, the kernel modules the scenarios need (decompressed,
# with a depmod index and a precomputed load order), /init and the guest-side
# helper library.
#
# usage: build-base.sh CACHE_DIR
# prints, on success, the directory holding vmlinuz + base.cpio + kver.
# Exit status 2 means "cannot build here" (message on stderr), which the
# runner turns into SKIP lines.
set -euo pipefail

CACHE=${1:?usage: build-base.sh CACHE_DIR}
HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$CACHE"
CACHE=$(cd "$CACHE" && pwd)
# one builder at a time per cache
if command -v flock >/dev/null; then
    exec 9>"$CACHE/.lock"
    flock -w 600 9 || { echo "build-base: cache $CACHE locked for 10 min" >&2; exit 1; }
fi

log() { echo "build-base: $*" >&2; }
cant() { echo "build-base: cannot build guest base: $*" >&2; exit 2; }

# ---- tools we need on the host -------------------------------------------
for t in dpkg-deb cpio gzip depmod modprobe ldd; do
    command -v "$t" >/dev/null || cant "host tool '$t' missing (run scripts/guest-deps.sh)"
done
BUSYBOX=${FDR_GUEST_BUSYBOX:-/bin/busybox}
[ -x "$BUSYBOX" ] || cant "busybox missing (package busybox-static)"
if ldd "$BUSYBOX" >/dev/null 2>&1; then
    cant "$BUSYBOX is dynamically linked; install busybox-static"
fi
GUEST_BINS=(/usr/sbin/nvme /usr/bin/fio /usr/sbin/mdadm /usr/sbin/mke2fs
            /usr/sbin/e2fsck /usr/bin/jq /usr/bin/kmod /usr/bin/ss)
for b in "${GUEST_BINS[@]}"; do
    [ -x "$b" ] || cant "$b missing (run scripts/guest-deps.sh)"
done

# ---- which kernel ---------------------------------------------------------
# FDR_GUEST_KPKG overrides the kernel package (e.g. linux-image-6.1.0-56-amd64).
KPKG=${FDR_GUEST_KPKG:-}
if [ -z "$KPKG" ]; then
    KPKG=$(apt-cache depends linux-image-amd64 2>/dev/null |
           awk '/Depends: linux-image-[0-9]/ {print $2; exit}') || true
fi
if [ -z "$KPKG" ]; then
    # offline fallback: newest package already downloaded into the cache
    KPKG=$(cd "$CACHE/kernel" 2>/dev/null && ls -1d */.done 2>/dev/null |
           sed 's|/.done$||' | sort -V | tail -1 || true)
fi
[ -n "$KPKG" ] || cant "cannot resolve linux-image-amd64 (apt-get update?) and no cached kernel"

# The cache keeps the .deb (~70 MB); it is unpacked (~400 MB) only while a
# base is being built.
KDIR=$CACHE/kernel/$KPKG
if [ ! -f "$KDIR/.done" ] || [ ! -f "$KDIR/kernel.deb" ]; then
    log "fetching $KPKG"
    rm -rf "$KDIR"; mkdir -p "$KDIR"
    if ! ( cd "$KDIR" && apt-get download "$KPKG" >&2 2>"$KDIR/apt.err" ); then
        err=$(grep -v '^W:' "$KDIR/apt.err" | tail -2 | tr '\n' ' ')
        rm -rf "$KDIR"
        cant "apt-get download $KPKG failed: $err"
    fi
    deb=$(ls -1 "$KDIR"/*.deb 2>/dev/null | head -1)
    [ -n "$deb" ] || { rm -rf "$KDIR"; cant "apt-get download $KPKG produced no .deb"; }
    mv "$deb" "$KDIR/kernel.deb"
    touch "$KDIR/.done"
fi
KDEB=$KDIR/kernel.deb
KVER=${KPKG#linux-image-}
# ---- cache key for the base -------------------------------------------------
key_src() {
    echo "$KPKG $KVER"
    dpkg-query -W -f '${Package} ${Version}\n' busybox-static nvme-cli fio \
        mdadm e2fsprogs jq kmod iproute2 2>/dev/null || true
    sha256sum "$HERE/build-base.sh" "$HERE/guest/init" "$HERE/guest/lib.sh" \
        "$HERE/guest/nvmet.sh" | awk '{print $1}'
    for b in "${GUEST_BINS[@]}" "$BUSYBOX"; do stat -Lc '%n %s %Y' "$b"; done
}
KEY=$(key_src | sha256sum | cut -c1-16)
OUT=$CACHE/base-$KEY
if [ -f "$OUT/.done" ]; then
    echo "$OUT"
    exit 0
fi

log "building base $KEY for kernel $KVER"
T0=$(date +%s.%N)
rm -rf "$OUT"; mkdir -p "$OUT"
KR=$OUT/kernel-root
dpkg-deb -x "$KDEB" "$KR" || { rm -rf "$KDIR" "$OUT"; cant "dpkg-deb -x $KDEB failed (removed it)"; }
[ -d "$KR/lib/modules/$KVER" ] || cant "$KPKG has no lib/modules/$KVER"
VMLINUZ=$KR/boot/vmlinuz-$KVER
[ -f "$VMLINUZ" ] || cant "no vmlinuz in $KPKG"
ST=$OUT/stage
mkdir -p "$ST"/usr/{bin,sbin,lib,lib64} "$ST"/{dev,proc,sys,tmp,run,mnt,etc/nvme,root,var}
ln -s usr/bin "$ST/bin"; ln -s usr/sbin "$ST/sbin"
ln -s usr/lib "$ST/lib"; ln -s usr/lib64 "$ST/lib64"

# -- binaries and their libraries
copy_file() { # host path -> same path inside stage (following symlinks)
    local src=$1 dst=$ST$1
    [ -e "$dst" ] && return 0
    mkdir -p "$(dirname "$dst")"
    cp -L "$src" "$dst"
}
for b in "${GUEST_BINS[@]}"; do
    # /sbin and /usr/sbin are the same in the stage (merged /usr)
    dst=$ST/usr/${b#/usr/}
    mkdir -p "$(dirname "$dst")"; cp -L "$b" "$dst"
    ldd "$b" | awk '$3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' |
    while read -r lib; do
        case $lib in /lib/*|/lib64/*) lib=/usr$lib ;; esac
        copy_file "$lib"
    done
done
ln -s mke2fs "$ST/usr/sbin/mkfs.ext4"
ln -s e2fsck "$ST/usr/sbin/fsck.ext4"
[ -f /etc/mke2fs.conf ] && cp /etc/mke2fs.conf "$ST/etc/"
# busybox and its applets (never shadowing a real binary copied above)
cp "$BUSYBOX" "$ST/usr/bin/busybox"
"$BUSYBOX" --list-full | while read -r app; do
    case $app in
        bin/*|sbin/*) app=usr/$app ;;
    esac
    [ -e "$ST/$app" ] || [ -L "$ST/$app" ] || ln -s /usr/bin/busybox "$ST/$app"
done
echo "root:x:0:0:root:/root:/bin/sh" > "$ST/etc/passwd"
echo "root:x:0:" > "$ST/etc/group"

# -- kernel modules: the closure of what the scenarios need, in load order
MODS="virtio_pci virtio_net crc32c_generic crc32c-intel nvme-tcp nvme-fabrics
      nvme-core ext4 md-mod raid1 brd loop configfs nvmet nvmet-tcp tcp_diag"
[ -f "$KR/lib/modules/$KVER/modules.dep" ] || depmod -b "$KR" "$KVER"
ORDER=$OUT/modules.order.tmp
: > "$ORDER"
for m in $MODS; do
    modprobe -C /dev/null -d "$KR" -S "$KVER" --show-depends "$m" 2>/dev/null |
        awk '$1 == "insmod" {print $2}' >> "$ORDER" ||
        log "warning: module $m not found"
done
MDST=$ST/lib/modules/$KVER
mkdir -p "$MDST"
: > "$ST/etc/modules.load"
awk '!seen[$0]++' "$ORDER" | while read -r path; do
    rel=${path#*/lib/modules/$KVER/}
    mkdir -p "$(dirname "$MDST/$rel")"
    case $rel in
        *.ko.xz)  xz -dc "$path" > "$MDST/${rel%.xz}"; rel=${rel%.xz} ;;
        *.ko.zst) zstd -qdc "$path" > "$MDST/${rel%.zst}"; rel=${rel%.zst} ;;
        *.ko.gz)  gzip -dc "$path" > "$MDST/${rel%.gz}"; rel=${rel%.gz} ;;
        *)        cp "$path" "$MDST/$rel" ;;
    esac
    echo "/lib/modules/$KVER/$rel" >> "$ST/etc/modules.load"
done
cp "$KR/lib/modules/$KVER"/modules.{order,builtin,builtin.modinfo} "$MDST/" 2>/dev/null || true
depmod -b "$ST" "$KVER"
[ -s "$MDST/modules.dep" ] || cant "depmod produced no modules.dep"
rm -f "$ORDER"

# -- init and guest helpers
cp "$HERE/guest/init" "$ST/init"; chmod 755 "$ST/init"
mkdir -p "$ST/fdr"
cp "$HERE/guest/lib.sh" "$HERE/guest/nvmet.sh" "$ST/fdr/"
echo "$KVER" > "$ST/etc/fdr-kver"

# -- pack, uncompressed: under TCG the kernel needs ~1.5 s longer to boot
#    from a gzip'ed (or zstd) archive than from a plain one of ~100 MB
( cd "$ST" && find . -mindepth 1 | LC_ALL=C sort |
  cpio -o -H newc --quiet -R 0:0 ) > "$OUT/base.cpio"
cp "$VMLINUZ" "$OUT/vmlinuz"
echo "$KVER" > "$OUT/kver"
echo "$KPKG" > "$OUT/kpkg"
du -sb "$ST" | awk '{print $1}' > "$OUT/stage.bytes"
rm -rf "$ST" "$KR"
touch "$OUT/.done"
T1=$(date +%s.%N)
log "base built in $(awk -v a="$T0" -v b="$T1" 'BEGIN{printf "%.1f", b-a}') s:" \
    "$(du -h "$OUT/base.cpio" | cut -f1) initramfs"
# keep only the newest two bases
ls -1dt "$CACHE"/base-* 2>/dev/null | tail -n +3 | xargs -r rm -rf
echo "$OUT"

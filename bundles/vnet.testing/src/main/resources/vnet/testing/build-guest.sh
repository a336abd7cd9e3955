#!/bin/bash
# Builds the tiny Linux guest used by vnet's real-peer tests:
#   <dir>/vmlinuz    Debian cloud kernel
#   <dir>/initrd.gz  busybox + virtio-net modules + /init driven by vnet.* kernel args
# Usage: build-guest.sh [dir]   (default /var/tmp/vnet-guest). Idempotent: a second run
# with the same script exits at once. Also installs qemu-system-x86 (needed to run guests).
#
# Kernel arguments understood by /init (all optional):
#   vnet.name=NAME           hostname
#   vnet.ip=A.B.C.D/N        address of eth0; vnet.ip1=... for eth1, and so on up to eth7
#   vnet.mac=MAC vnet.mtu=N  per interface too (vnet.mac1, vnet.mtu1, ...)
#   vnet.gw=A.B.C.D          default route
#   vnet.mode=ping|wait|serve|cmd (default: cmd if vnet.cmd64 is given, else wait)
#     ping:  ping vnet.peer, retrying up to vnet.timeout s (default 60) for a first reply,
#            then vnet.count pings (default 5, vnet.interval s apart, size vnet.size);
#            prints "VNET-RESULT ping sent=N received=M"
#     wait:  stay up vnet.wait s (default 30; 0 = until killed), answering pings
#     serve: like wait, plus busybox httpd on :80 and a TCP echo server on :7
#     cmd:   run the vnet.cmd64 script; prints "VNET-RESULT cmd rc=N"
#   vnet.cmd64=BASE64        shell script run after VNET-READY in every mode
#   vnet.deadline=S          power off after S seconds whatever happens
# Console lines: "VNET-READY ..." once the interfaces are configured, "VNET-RESULT ...",
# "VNET-ERROR ..." and finally "VNET-DONE"; then the guest reboots (QEMU -no-reboot exits).
set -euo pipefail
trap 'echo "build-guest.sh: failed at line $LINENO" >&2' ERR

OUT=${1:-/var/tmp/vnet-guest}
HASH=$(sha256sum "$0" | cut -d' ' -f1)
MODULES="virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci failover net_failover virtio_net"

built() {
    [[ -s $OUT/vmlinuz && -s $OUT/initrd.gz && -f $OUT/stamp ]] && [[ $(head -n1 "$OUT/stamp") == "$HASH" ]]
}
ready() { built && command -v qemu-system-x86_64 >/dev/null; }
done_msg() { echo "vnet guest ready: $OUT/vmlinuz $OUT/initrd.gz ($(sed -n 2p "$OUT/stamp"))"; }

mkdir -p "$OUT"
if ready; then done_msg; exit 0; fi
# Serialise concurrent builders (several test JVMs may start at once).
exec 9>"$OUT/.lock"
flock -w 900 9
if ready; then done_msg; exit 0; fi

export DEBIAN_FRONTEND=noninteractive
APT=(-o DPkg::Lock::Timeout=600 -o Acquire::Retries=2 -o APT::Sandbox::User=root)
UPDATED=0
apt_update_once() {
    if [[ $UPDATED == 0 ]]; then timeout 600 apt-get "${APT[@]}" update -qq; UPDATED=1; fi
}
apt_install() {
    local missing=() p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
    done
    [[ ${#missing[@]} == 0 ]] && return 0
    timeout 900 apt-get "${APT[@]}" install -y -qq --no-install-recommends "${missing[@]}" \
        || { apt_update_once; timeout 900 apt-get "${APT[@]}" install -y -qq --no-install-recommends "${missing[@]}"; }
}
kernel_pkg() {
    apt-cache depends linux-image-cloud-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}'
}

apt_install qemu-system-x86 busybox-static cpio
if built; then done_msg; exit 0; fi   # only QEMU was missing

KPKG=$(kernel_pkg)
if [[ -z $KPKG ]]; then apt_update_once; KPKG=$(kernel_pkg); fi
[[ -n $KPKG ]] || { echo "cannot resolve linux-image-cloud-amd64" >&2; exit 1; }

WORK=$OUT/work
rm -rf "$WORK"
mkdir -p "$WORK/deb" "$WORK/root"
(cd "$WORK/deb" && { timeout 600 apt-get "${APT[@]}" -qq download "$KPKG" \
    || { apt_update_once; timeout 600 apt-get "${APT[@]}" -qq download "$KPKG"; }; })
dpkg -x "$WORK"/deb/*.deb "$WORK/x"

VMLINUZ=$(ls "$WORK"/x/boot/vmlinuz-* | head -n1)
KVER=${VMLINUZ##*/vmlinuz-}
MODDIR=
for d in "$WORK/x/lib/modules/$KVER" "$WORK/x/usr/lib/modules/$KVER"; do [[ -d $d ]] && MODDIR=$d && break; done
[[ -n $MODDIR ]] || { echo "no modules for $KVER in $KPKG" >&2; exit 1; }

# initramfs tree
R=$WORK/root
mkdir -p "$R"/{bin,dev,proc,sys,tmp,run,www,lib/modules}
cp /bin/busybox "$R/bin/busybox"
: > "$R/lib/modules/order"
for m in $MODULES; do
    f=$(find "$MODDIR/kernel" \( -name "$m.ko" -o -name "$m.ko.xz" -o -name "$m.ko.zst" \) | head -n1)
    if [[ -z $f ]]; then
        # built into this kernel: nothing to load
        grep -q "/$m.ko" "$MODDIR/modules.builtin" 2>/dev/null && continue
        echo "module $m not found in $KPKG" >&2; exit 1
    fi
    case $f in
        *.xz) xz -dc "$f" > "$R/lib/modules/$m.ko" ;;
        *.zst) zstd -qdc "$f" > "$R/lib/modules/$m.ko" ;;
        *) cp "$f" "$R/lib/modules/$m.ko" ;;
    esac
    echo "$m" >> "$R/lib/modules/order"
done

cat > "$R/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t tmpfs tmpfs /tmp

# arg NAME [DEFAULT]: value of vnet.NAME= on the kernel command line
arg() {
    for w in $(cat /proc/cmdline); do
        case "$w" in "vnet.$1="*) echo "${w#*=}"; return ;; esac
    done
    echo "${2:-}"
}
now() { cut -d. -f1 /proc/uptime; }
finish() {
    echo "VNET-DONE"
    sync
    sleep 0.3   # let the serial port drain
    reboot -f
}

dl=$(arg deadline 0)
if [ "$dl" -gt 0 ]; then (sleep "$dl"; echo "VNET-ERROR deadline"; finish) & fi

hostname "$(arg name vnet-guest)"
for m in $(cat /lib/modules/order); do
    insmod "/lib/modules/$m.ko" || echo "VNET-ERROR insmod $m"
done
ip link set lo up

# configure eth0..eth7 from vnet.ip / vnet.ipN
ready=""
for n in 0 1 2 3 4 5 6 7; do
    sfx=$n; [ "$n" = 0 ] && sfx=""
    addr=$(arg "ip$sfx"); mac=$(arg "mac$sfx"); mtu=$(arg "mtu$sfx")
    [ -z "$addr$mac$mtu" ] && continue
    i=0
    while [ ! -e "/sys/class/net/eth$n" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
    if [ ! -e "/sys/class/net/eth$n" ]; then echo "VNET-ERROR no eth$n"; continue; fi
    [ -n "$mac" ] && ip link set "eth$n" address "$mac"
    [ -n "$mtu" ] && ip link set "eth$n" mtu "$mtu"
    ip link set "eth$n" up
    [ -n "$addr" ] && ip addr add "$addr" dev "eth$n"
    ready="$ready eth$n=${addr:-up}"
done
gw=$(arg gw); [ -n "$gw" ] && ip route add default via "$gw"
echo "VNET-READY$ready"

cmd64=$(arg cmd64)
mode=$(arg mode); [ -z "$mode" ] && { [ -n "$cmd64" ] && mode=cmd || mode=wait; }
rc=0
if [ -n "$cmd64" ]; then
    echo "$cmd64" | base64 -d > /tmp/cmd.sh
    sh /tmp/cmd.sh; rc=$?
fi

stay() {
    w=$(arg wait 30)
    if [ "$w" = 0 ]; then while :; do sleep 3600; done; fi
    sleep "$w"
}

case "$mode" in
ping)
    peer=$(arg peer); count=$(arg count 5); interval=$(arg interval 1); size=$(arg size 56)
    end=$(( $(now) + $(arg timeout 60) ))
    until ping -c 1 -W 1 -s "$size" "$peer" >/dev/null 2>&1; do
        [ "$(now)" -ge "$end" ] && { echo "VNET-ERROR no reply from $peer"; break; }
        sleep 0.5   # unreachable errors return at once: do not spin
    done
    out=$(ping -c "$count" -i "$interval" -W 2 -s "$size" "$peer" 2>&1)
    sent=$(echo "$out" | sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p')
    recv=$(echo "$out" | sed -n 's/.* \([0-9]*\) packets received.*/\1/p')
    avg=$(echo "$out" | sed -n 's|^round-trip min/avg/max = [^/]*/\([^/]*\)/.*|\1|p')
    echo "VNET-RESULT ping sent=${sent:-0} received=${recv:-0}${avg:+ avg_ms=$avg}"
    ;;
wait) stay ;;
serve)
    echo "$(hostname)" > /www/index.html
    httpd -p 80 -h /www
    nc -ll -p 7 -e cat &
    stay
    ;;
cmd) echo "VNET-RESULT cmd rc=$rc" ;;
*) echo "VNET-ERROR unknown mode $mode" ;;
esac
finish
INIT
chmod 755 "$R/init" "$R/bin/busybox"

(cd "$R" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet | gzip -9 > "$OUT/initrd.gz.tmp")
cp "$VMLINUZ" "$OUT/vmlinuz.tmp"
mv -f "$OUT/initrd.gz.tmp" "$OUT/initrd.gz"
mv -f "$OUT/vmlinuz.tmp" "$OUT/vmlinuz"
rm -rf "$WORK"
printf '%s\n%s\n' "$HASH" "$KPKG" > "$OUT/stamp"
done_msg

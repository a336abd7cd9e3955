#!/usr/bin/env bash
# Boots two tiny Linux guests (QEMU, TCG) on the default p2p link of a running vnet
# (java -jar runtime/target/vnet.jar): guest b (192.0.2.2) waits, guest a (192.0.2.1) pings it
# 5 times and prints "VNET-RESULT ping sent=5 received=5". QEMU gets the arguments vnet prints.
# The guest (a Debian cloud kernel + busybox) is built once by the project's build-guest.sh,
# which also installs qemu-system-x86 with apt-get (run as root).
#   VNET_RUNTIME_DIR  vnet's runtime directory (default /tmp/vnet, as vnet's vnet.runtime.dir)
#   VNET_GUEST_DIR    where the guest image is kept (default /var/tmp/vnet-guest)
set -euo pipefail
RUN=${VNET_RUNTIME_DIR:-/tmp/vnet}
IMG=${VNET_GUEST_DIR:-/var/tmp/vnet-guest}
ROOT=$(cd "$(dirname "$0")/.." && pwd)

bash "$ROOT/bundles/vnet.testing/src/main/resources/vnet/testing/build-guest.sh" "$IMG" >&2
for p in a b; do
    [[ -S $RUN/default/$p.sock ]] || { echo "no $RUN/default/$p.sock: is vnet running (java -jar runtime/target/vnet.jar)?" >&2; exit 1; }
done

guest() { # name mac kernel-args...
    local name=$1 mac=$2
    shift 2
    # exec: the background job's PID is timeout's, which passes SIGTERM on to QEMU. stdin is not the terminal,
    # so QEMU leaves the terminal's modes alone (and SeaBIOS's reset sequence goes to the log or through grep).
    exec timeout --signal=KILL 300 qemu-system-x86_64 -name "$name" -accel tcg -nographic -nodefaults -no-user-config \
        -serial stdio -no-reboot -kernel "$IMG/vmlinuz" -initrd "$IMG/initrd.gz" \
        -append "console=ttyS0 panic=-1 acpi=off quiet vnet.name=$name vnet.deadline=240 $*" \
        -m 256M -object memory-backend-memfd,id=mem,size=256M,share=on -numa node,memdev=mem \
        -chardev "socket,id=vnet-$name-chr,path=$RUN/default/$name.sock,reconnect=1" \
        -netdev "vhost-user,id=vnet-$name,chardev=vnet-$name-chr" \
        -device "virtio-net-pci,netdev=vnet-$name,vectors=0,romfile=,mac=$mac" < /dev/null
}

LOG_A=$(mktemp /tmp/vnet-guest-a.XXXXXX.log)
LOG_B=$(mktemp /tmp/vnet-guest-b.XXXXXX.log)
A= B=
# On every exit (also Ctrl-C, SIGTERM): stop both QEMUs and wait for them, then remove their console logs.
cleanup() {
    for pid in $A $B; do kill "$pid" 2>/dev/null || true; done
    for pid in $A $B; do wait "$pid" 2>/dev/null || true; done
    rm -f "$LOG_A" "$LOG_B"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
guest b 02:00:00:00:00:02 vnet.ip=192.0.2.2/24 vnet.mode=wait vnet.wait=120 > "$LOG_B" 2>&1 &
B=$!
echo "guest b: 192.0.2.2 on $RUN/default/b.sock" >&2
echo "guest a: 192.0.2.1 on $RUN/default/a.sock, pinging 192.0.2.2" >&2
guest a 02:00:00:00:00:01 vnet.ip=192.0.2.1/24 vnet.mode=ping vnet.peer=192.0.2.2 vnet.count=5 > "$LOG_A" 2>&1 &
A=$!
# wait (not a foreground pipeline) so that a signal is handled at once.
wait "$A" || true
A=
# The console's lines without carriage returns and terminal control sequences (SeaBIOS's reset, ESC c, comes first).
tr -d '\r' < "$LOG_A" | sed -e 's/\x1b\[[0-9;?]*[A-Za-z]//g' -e 's/\x1b.//g' | grep -E 'VNET-(READY|RESULT|ERROR)' || true
if ! grep -q 'VNET-RESULT ping sent=5 received=5' "$LOG_A"; then
    echo "no 5 of 5 pings; guest b's console ends with:" >&2
    tr -d '\r' < "$LOG_B" | sed -e 's/\x1b\[[0-9;?]*[A-Za-z]//g' -e 's/\x1b.//g' | tail -n 20 >&2
    exit 1
fi

#!/usr/bin/env bash
# The forwarding benchmark of issue 9: a DPDK testpmd generator with two net_virtio_user ports circulates
# frames (start tx_first 32) through a forwarder's two vhost-user sockets, and the generator's Rx-pps (both
# ports together) is the forwarder's rate. Forwarders, side by side in one run:
#   dpdk    a second testpmd, two net_vhost ports, io forwarding, one forwarding core
#   p2p     a vnet p2p link, two ports with ds-max=8
#   switch  a vnet 2-port learning switch, ports with their MACs (the generator sets them as sources)
# The generator runs in --forward-mode=mac with --eth-peer for every forwarder, so only the forwarder changes.
# For each frame size, each pair (round) runs the three forwarders back to back in a rotating order; the table
# gives the median over the rounds and the medians of the per-round ratios vnet / DPDK (the machine may be busy:
# only ratios taken within one round count). Each run's rate is its best one-second window (all windows are kept
# in <work dir>/<kind>-<size>-<round>/windows): other work on a shared machine only ever lowers a window.
#
#   runtime/bench/forwarding.sh [rounds=3] [sizes="64 1500"] [windows=5]
# Environment: VNET_JAR (the runtime jar, default runtime/target/vnet.jar), VNET_POLL (vnet's -p, default 0), VNET_BUSY (1 = vnet busy-poll mode), JAVA (default java),
# VNET_KINDS (forwarders, default "dpdk p2p switch"; a vnet kind may carry +busy (busy-poll mode) and +before (run
# with the jar VNET_JAR_BEFORE; +jN, N a digit: with the jar VNET_JAR_N, for more variants in one run) and +wN (N workers, --workers N), e.g. "dpdk p2p+before p2p+busy switch+before switch+busy"
# for a before/after run),
# VNET_CPUS (cores for the vnet JVM, default 1: the DPDK forwarder's lcore), VNET_JAVA_OPTS (extra JVM options for the vnet forwarder, e.g. a JFR recording), VNET_BENCH_DIR (work dir),
# VNET_AB (1 = A/B in one run: every vnet JVM gets -Dvnet.ab=<work dir>/ab, whose content (0 or 1) flips with each
# window, first 0 in even rounds and 1 in odd ones; a change put behind vnet.virtqueue.AbSwitch.b is then measured
# against the code without it in the same machine state, and each run's mean of its B windows over its A windows is
# reported; README "A/B in one run"),
# VNET_HUGE (1 = both testpmd processes on 2 MB hugepages, --in-memory --single-file-segments, as DPDK is deployed;
# reserves them in /proc/sys/vm/nr_hugepages when fewer are free and gives them back at the end).
# Needs root (testpmd); installs dpdk-dev with apt-get if dpdk-testpmd is missing; builds the runtime jar if missing.
set -euo pipefail
ROUNDS=${1:-3}
SIZES=${2:-"64 1500"}
SECONDS_MEASURED=${3:-5}
WARMUP=${VNET_WARMUP:-4}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
JAR=${VNET_JAR:-$ROOT/runtime/target/vnet.jar}
JAVA=${JAVA:-java}
TESTPMD=/usr/bin/dpdk-testpmd
DPDK_MEM=(--no-huge -m 1024)
HUGEPAGES_BEFORE=
if [[ ${VNET_HUGE:-0} == 1 ]]; then
    DPDK_MEM=(--in-memory --single-file-segments -m 1024)
    HUGEPAGES_BEFORE=$(cat /proc/sys/vm/nr_hugepages)
    free=$(awk '/HugePages_Free/ { print $2 }' /proc/meminfo)
    if ((free < 1100)); then # 1024 MB for each of the two testpmd processes, and some to spare
        echo $((HUGEPAGES_BEFORE + 1100 - free)) > /proc/sys/vm/nr_hugepages
    fi
fi
WORK=${VNET_BENCH_DIR:-$(mktemp -d /tmp/vnet-bench.XXXXXX)}
mkdir -p "$WORK"
MAC0=02:00:00:00:b0:01
MAC1=02:00:00:00:b0:02

if [[ ! -x $TESTPMD ]]; then
    echo "installing dpdk-dev (dpdk-testpmd) with apt-get" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q dpdk-dev >&2 \
        || { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q dpdk-dev >&2; }
fi
if [[ ! -f $JAR ]]; then
    echo "building $JAR" >&2
    (cd "$ROOT" && ./mvnw -B -q package -DskipTests) >&2
fi

FWD_PID=
GEN_PID=
stop() { # pid: TERM, then KILL after 5 s
    local pid=$1
    [[ -n $pid ]] || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}
cleanup() {
    exec 3>&-
    stop "$GEN_PID"; GEN_PID=
    stop "$FWD_PID"; FWD_PID=
    [[ -z $HUGEPAGES_BEFORE ]] || echo "$HUGEPAGES_BEFORE" > /proc/sys/vm/nr_hugepages
}
trap cleanup EXIT

await_sockets() { # dir
    for _ in $(seq 300); do
        [[ -S $1/a.sock && -S $1/b.sock ]] && return 0
        sleep 0.1
    done
    echo "no sockets in $1 (forwarder log: $1/fwd.log)" >&2
    return 1
}

start_forwarder() { # kind dir
    local kind=$1 dir=$2
    case $kind in
    dpdk)
        mkfifo "$dir/fwd.in"
        timeout --signal=KILL 300 "$TESTPMD" -l 0,1 --main-lcore 0 "${DPDK_MEM[@]}" --no-pci \
            --file-prefix "vnet-bench-fwd-$$" \
            --vdev "net_vhost0,iface=$dir/a.sock,queues=1" --vdev "net_vhost1,iface=$dir/b.sock,queues=1" \
            -- -i --auto-start --no-mlockall --forward-mode=io --total-num-mbufs=32768 \
            < "$dir/fwd.in" > "$dir/fwd.log" 2>&1 &
        exec 4> "$dir/fwd.in" # its interactive prompt waits on this until the forwarder stops
        ;;
    p2p* | switch*)
        local link=bench opts=() base=${kind%%+*} jar=$JAR
        [[ ${VNET_POLL:-0} != 0 ]] && opts+=(-p "$VNET_POLL")
        [[ ${VNET_BUSY:-0} == 1 || $kind == *+busy* ]] && opts+=(--busy-poll)
        [[ $kind == *+before* ]] && jar=${VNET_JAR_BEFORE:?"kind $kind needs VNET_JAR_BEFORE"}
        if [[ $kind =~ \+j([0-9]) ]]; then
            local var=VNET_JAR_${BASH_REMATCH[1]}
            jar=${!var:?"kind $kind needs $var"}
        fi
        [[ $kind =~ \+w([0-9]+) ]] && opts+=(--workers "${BASH_REMATCH[1]}")
        local jopts=${VNET_JAVA_OPTS:-}
        [[ ${VNET_AB:-0} == 1 ]] && jopts+=" -Dvnet.ab=$WORK/ab"
        {
            echo "vnet:create $base $link ${opts[*]}"
            echo "vnet:create port $link a ds-max=8 mac=$MAC0 --socket $dir/a.sock"
            echo "vnet:create port $link b ds-max=8 mac=$MAC1 --socket $dir/b.sock"
        } > "$dir/setup.gosh"
        # shellcheck disable=SC2086
        # on core 1 like the DPDK forwarder's lcore (the generator polls core 0)
        timeout --signal=KILL 300 taskset -c "${VNET_CPUS:-1}" "$JAVA" $jopts -Dvnet.default=false \
            -Dvnet.runtime.dir="$dir/rt" -Dorg.osgi.framework.storage="$dir/state" \
            -Dgosh.args="--noshutdown --nointeractive $dir/setup.gosh" -jar "$jar" < /dev/null > "$dir/fwd.log" 2>&1 &
        ;;
    esac
    FWD_PID=$!
    await_sockets "$dir"
}

# Prints the generator's Rx-pps summed over both ports: the best of SECONDS_MEASURED one-second windows after WARMUP.
# With VNET_AB=1 the A/B file flips with every window, starting at variant $3 (and every half second in the warm-up,
# so that both variants are compiled before the windows).
measure() { # dir size [first variant]
    local dir=$1 size=$2 ab=${3:-0}
    mkfifo "$dir/gen.in"
    # the generator forwards on core 0, the DPDK forwarder on core 1 (two busy-polling lcores on one core
    # would take turns by the scheduler's time slice)
    timeout --signal=KILL 120 "$TESTPMD" -l 1,0 --main-lcore 1 "${DPDK_MEM[@]}" --no-pci \
        --file-prefix "vnet-bench-gen-$$" \
        --vdev "net_virtio_user0,path=$dir/a.sock,queues=1,mac=$MAC0" \
        --vdev "net_virtio_user1,path=$dir/b.sock,queues=1,mac=$MAC1" \
        -- -i --no-mlockall --forward-mode=mac --eth-peer=0,$MAC1 --eth-peer=1,$MAC0 \
        --txpkts="$size" --total-num-mbufs=32768 < "$dir/gen.in" > "$dir/gen.log" 2>&1 &
    GEN_PID=$!
    exec 3> "$dir/gen.in"
    # frames sent before both links are up are lost for good (nothing makes new ones): wait for them
    for _ in $(seq 300); do grep -q 'Checking link statuses...' "$dir/gen.log" && break; sleep 0.1; done
    sleep 2
    echo "start tx_first 32" >&3
    if [[ ${VNET_AB:-0} == 1 ]]; then
        for ((i = 0; i < WARMUP * 2; i++)); do echo $((i % 2)) > "$WORK/ab"; sleep 0.5; done
        echo "$ab" > "$WORK/ab"
    else
        sleep "$WARMUP"
    fi
    echo "show port stats all" >&3 # starts the first window
    for ((i = 0; i < SECONDS_MEASURED; i++)); do
        sleep 1
        [[ ${VNET_AB:-0} == 1 ]] && echo $(((i + 1 + ab) % 2)) > "$WORK/ab"
        echo "show port stats all" >&3
    done
    sleep 0.5
    echo "stop" >&3
    echo "quit" >&3
    exec 3>&-
    for _ in $(seq 50); do kill -0 "$GEN_PID" 2>/dev/null || break; sleep 0.1; done
    stop "$GEN_PID"; GEN_PID=
    # each "show port stats all" gives both ports' Rx-pps over the window since the previous one: skip the first,
    # sum the ports of each window, keep the best window (the one other work on the machine disturbed least)
    grep -E 'Rx-pps:' "$dir/gen.log" | awk '{ w = int((NR - 1) / 2); s[w] += $2 } END { best = 0; for (i = 1; i in s; i++) { printf "%d ", s[i] > "/dev/stderr"; if (s[i] > best) best = s[i] }; print best }' 2>> "$dir/windows"
}

run() { # kind size round: sets PPS[kind,size,round]
    local dir=$WORK/$1-$2-$3
    rm -rf "$dir"; mkdir -p "$dir"
    start_forwarder "$1" "$dir"
    measure "$dir" "$2" $(($3 % 2)) > "$dir/pps"
    exec 4>&-
    stop "$FWD_PID"; FWD_PID=
    PPS[$1,$2,$3]=$(cat "$dir/pps")
}

median() { sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print 0; else if (NR % 2) print a[(NR + 1) / 2]; else printf "%.6f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

read -r -a KINDS <<< "${VNET_KINDS:-dpdk p2p switch}"
echo "vnet forwarding benchmark: $ROUNDS rounds, ${SECONDS_MEASURED}s each after ${WARMUP}s warm-up, poll=${VNET_POLL:-0} busy=${VNET_BUSY:-0}, work dir $WORK" >&2
declare -A PPS AB
for size in $SIZES; do
    for ((r = 0; r < ROUNDS; r++)); do
        for ((k = 0; k < ${#KINDS[@]}; k++)); do
            kind=${KINDS[(k + r) % ${#KINDS[@]}]} # rotate who goes first
            run "$kind" "$size" "$r"
            pps=${PPS[$kind,$size,$r]}
            printf '  %5s B round %d %-18s %6.2f Mpps' "$size" "$r" "$kind" "$(echo "$pps / 1000000" | bc -l)" >&2
            if [[ ${VNET_AB:-0} == 1 && $kind != dpdk ]]; then # the windows' variants: (window + first) % 2
                AB[$kind,$size,$r]=$(awk -v f=$((r % 2)) '{ for (i = 1; i <= NF; i++) { v = (i - 1 + f) % 2; s[v] += $i; n[v]++ } }
                    END { printf "%.4f", (s[1] / n[1]) / (s[0] / n[0]) }' "$WORK/$kind-$size-$r/windows")
                printf '  B/A %s' "${AB[$kind,$size,$r]}" >&2
            fi
            echo >&2
        done
    done
done

echo
if [[ " ${KINDS[*]} " != *" dpdk "* ]]; then # no anchor: its column reads 0 and the ratios –
    for size in $SIZES; do for ((r = 0; r < ROUNDS; r++)); do PPS[dpdk,$size,$r]=0; done; done
fi
header="| frame | DPDK testpmd |"; rule="|---|---|"; ratios=""
for kind in "${KINDS[@]}"; do
    [[ $kind == dpdk ]] && continue
    header+=" vnet $kind |"; rule+="---|"; ratios+=" $kind / DPDK |"
done
for kind in "${KINDS[@]}"; do [[ $kind == dpdk ]] || rule+="---|"; done
echo "$header$ratios"
echo "$rule"
mpps() { printf '%.2f Mpps' "$(echo "$1 / 1000000" | bc -l)"; }
for size in $SIZES; do
    d=()
    for ((r = 0; r < ROUNDS; r++)); do d+=("${PPS[dpdk,$size,$r]}"); done
    line="| $size B | $(mpps "$(printf '%s\n' "${d[@]}" | median)") |"; tail=""
    for kind in "${KINDS[@]}"; do
        [[ $kind == dpdk ]] && continue
        v=(); q=()
        for ((r = 0; r < ROUNDS; r++)); do
            v+=("${PPS[$kind,$size,$r]}")
            [[ ${PPS[dpdk,$size,$r]} == 0 ]] || q+=("$(echo "${PPS[$kind,$size,$r]} / ${PPS[dpdk,$size,$r]}" | bc -l)")
        done
        line+=" $(mpps "$(printf '%s\n' "${v[@]}" | median)") |"
        if ((${#q[@]} == 0)); then tail+=" – |"; else tail+=" $(printf '%.2f×' "$(printf '%s\n' "${q[@]}" | median)") |"; fi
    done
    echo "$line$tail"
done
echo "(median of $ROUNDS rounds of the best 1 s window; ratios: median of the per-round ratios; Rx-pps of the generator, both ports)"
# The machine's two speeds (README "Two speeds") decide each run; the best round of each kind shows the fast one.
best() { # kind size: the kind's best round
    local r v=()
    for ((r = 0; r < ROUNDS; r++)); do v+=("${PPS[$1,$2,$r]}"); done
    printf '%s\n' "${v[@]}" | sort -g | tail -1
}
echo
header="| frame | DPDK testpmd |"; rule="|---|---|"
for kind in "${KINDS[@]}"; do [[ $kind == dpdk ]] || { header+=" vnet $kind |"; rule+="---|"; }; done
echo "$header"
echo "$rule"
for size in $SIZES; do
    line="| $size B | $(mpps "$(best dpdk "$size")") |"
    for kind in "${KINDS[@]}"; do [[ $kind == dpdk ]] || line+=" $(mpps "$(best "$kind" "$size")") |"; done
    echo "$line"
done
echo "(the best round of each kind)"
if [[ ${VNET_AB:-0} == 1 ]]; then
    echo
    for size in $SIZES; do
        for kind in "${KINDS[@]}"; do
            [[ $kind == dpdk ]] && continue
            q=(); for ((r = 0; r < ROUNDS; r++)); do q+=("${AB[$kind,$size,$r]}"); done
            printf '%s B %s: B/A median %.3f (runs: %s)\n' "$size" "$kind" "$(printf '%s\n' "${q[@]}" | median)" "${q[*]}"
        done
    done
    echo "(A/B in one run: each run's mean Rx-pps of its B windows over its A windows)"
fi

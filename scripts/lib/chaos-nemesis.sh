# The nemesis of scripts/chaos (sourced; uses its variables and functions: nodes, faults, dir,
# control, history, disk_node, disk_fault_possible, start_node, wait_node_ready, node_pid,
# node_alive, stop_pid, log, nemesis_event, http_port). One fault at a time: apply, hold for a
# seeded while, heal, stay quiet for a seeded while. $RANDOM is seeded by the caller, so the
# schedule of faults, victims and hold times replays from --seed.

paused_nodes=""
zookeeper_stopped=0

hold_seconds() { echo $(( fault_hold_seconds_min + RANDOM % (fault_hold_seconds_spread + 1) )); }
random_node() { echo $(( 1 + RANDOM % nodes )); }

# The node ids 1..nodes in a seeded random order.
shuffled_nodes() {
    local list=() i j tmp
    for i in $(seq 1 "$nodes"); do list+=("$i"); done
    for ((i = ${#list[@]} - 1; i > 0; i--)); do
        j=$(( RANDOM % (i + 1) ))
        tmp=${list[$i]}; list[$i]=${list[$j]}; list[$j]=$tmp
    done
    echo "${list[@]}"
}

# The leader of partition $1 of the chaos topic as some live node reports it, or nothing.
partition_leader() {
    local partition="$1" i leaders
    for i in $(seq 1 "$nodes"); do
        node_alive "$i" || continue
        leaders="$(curl -sf --max-time 2 "http://127.0.0.1:$(http_port "$i")/v1/topics/chaos" 2>/dev/null | grep -o '"leader":[0-9-]*' | cut -d: -f2)" || continue
        leaders="$(echo "$leaders" | sed -n "$((partition + 1))p")"
        if [ -n "$leaders" ] && [ "$leaders" -gt 0 ] 2>/dev/null; then echo "$leaders"; return 0; fi
    done
}

# Blocks every link between the two groups (space-separated node ids) through the proxy.
block_between() {
    local a b
    : > "$control.next"
    for a in $1; do for b in $2; do if [ "$a" != "$b" ]; then echo "$a $b" >> "$control.next"; fi; done; done
    mv "$control.next" "$control"
}
unblock_all() { : > "$control.next"; mv "$control.next" "$control"; }

restart_if_dead() {
    local i="$1"
    node_alive "$i" && return 0
    start_node "$i"
    wait_node_ready "$i" || log "node $i not ready ${ready_wait_seconds_max}s after its restart; see $dir/node$i.log"
}

fault_kill() {
    local victim="$1" label="$2"
    [ -n "$victim" ] || { log "$label: no victim (no leader known)"; return 0; }
    node_alive "$victim" || return 0
    log "$label: kill -9 node $victim"
    nemesis_event "$label" "$victim"
    kill -KILL "$(node_pid "$victim")" 2>/dev/null || true
    wait "$(node_pid "$victim")" 2>/dev/null || true
    sleep "$(hold_seconds)"
    restart_if_dead "$victim"
}

fault_pause() {
    local victim; victim="$(random_node)"
    node_alive "$victim" || return 0
    log "pause: SIGSTOP node $victim"
    nemesis_event pause "$victim"
    paused_nodes="$paused_nodes $victim"
    kill -STOP "$(node_pid "$victim")"
    sleep "$(hold_seconds)"
    kill -CONT "$(node_pid "$victim")" 2>/dev/null || true
    paused_nodes=""
}

fault_restart() {
    local victim; victim="$(random_node)"
    node_alive "$victim" || return 0
    log "restart: SIGTERM node $victim, then start it"
    nemesis_event restart "$victim"
    stop_pid "$(node_pid "$victim")" TERM
    restart_if_dead "$victim"
}

fault_partition() {
    local order mode minority majority leader
    order=($(shuffled_nodes))
    mode=$(( RANDOM % 4 ))
    case "$mode" in
        0) minority="${order[0]}"; majority="${order[*]:1}"; log "partition: node $minority isolated" ;;
        1) if [ "$nodes" = 5 ]; then minority="${order[*]:0:2}"; majority="${order[*]:2}"; else minority="${order[0]}"; majority="${order[*]:1}"; fi
           log "partition: minority {$minority} | majority {$majority}" ;;
        2) if [ "$nodes" = 5 ]; then minority="${order[*]:0:2}"; majority="${order[*]:3}"; else minority="${order[0]}"; majority="${order[2]}"; fi
           log "partition: bridge: {$minority} and {$majority} only meet through node ${order[*]:$(( nodes == 5 ? 2 : 1 )):1}" ;;
        3) leader="$(partition_leader $(( RANDOM % partitions )))"
           [ -n "$leader" ] || leader="${order[0]}"
           minority="$leader"; majority="$(for i in $(seq 1 "$nodes"); do if [ "$i" != "$leader" ]; then printf '%s ' "$i"; fi; done)"
           log "partition: leader node $leader isolated" ;;
    esac
    nemesis_event "partition" 0
    block_between "$minority" "$majority"
    sleep "$(( $(hold_seconds) + 3 ))"
    unblock_all
}

fault_zookeeper() {
    log "zookeeper: stop"
    nemesis_event zookeeper 0
    zookeeper_stopped=1
    scripts/zookeeper stop --dir "$dir/zookeeper" >/dev/null 2>&1 || true
    sleep "$(hold_seconds)"
    scripts/zookeeper start --port "$zookeeper_port" --dir "$dir/zookeeper" >/dev/null 2>&1 || log "zookeeper: restart failed"
    zookeeper_stopped=0
}

fault_disk_full() {
    [ "$disk_fault_possible" = 1 ] || return 0
    local path="$dir/node$disk_node/data" available
    available="$(df --output=avail -B1 "$path" | tail -n 1 | tr -d ' ')"
    log "disk-full: fill the ${disk_megabytes} MB data directory of node $disk_node ($available bytes free)"
    nemesis_event disk-full "$disk_node"
    fallocate -l "$available" "$path/filler" 2>/dev/null || dd if=/dev/zero of="$path/filler" bs=1M status=none 2>/dev/null || true
    sleep "$(( $(hold_seconds) + 3 ))"
    rm -f "$path/filler"
    # A replica whose log write failed stays stopped on its node until the node restarts (the
    # replication host's rule: never vote or ack on a log it could not write), so the heal is
    # the operator's: free space, restart the node.
    log "disk-full: space freed; restarting node $disk_node"
    stop_pid "$(node_pid "$disk_node")" TERM
    restart_if_dead "$disk_node"
}

# Applies seeded faults until $1 (a value of $SECONDS), at most 10,000 of them.
nemesis_loop() {
    local until="$1" list count=0 fault i j tmp
    list=(${faults//,/ })
    # A seeded order, then round robin: every fault type comes once per ${#list[@]} faults, so
    # even a short run (the CI smoke) covers most of them.
    for ((i = ${#list[@]} - 1; i > 0; i--)); do
        j=$(( RANDOM % (i + 1) ))
        tmp=${list[$i]}; list[$i]=${list[$j]}; list[$j]=$tmp
    done
    while [ "$SECONDS" -lt "$until" ] && [ "$count" -lt 10000 ]; do
        fault="${list[$(( count % ${#list[@]} ))]}"
        case "$fault" in
            kill) fault_kill "$(random_node)" kill ;;
            kill-leader) fault_kill "$(partition_leader $(( RANDOM % partitions )))" kill-leader ;;
            pause) fault_pause ;;
            restart) fault_restart ;;
            partition) fault_partition ;;
            zookeeper) fault_zookeeper ;;
            disk-full) fault_disk_full ;;
        esac
        count=$((count + 1))
        sleep "$(( quiet_seconds_min + RANDOM % (quiet_seconds_spread + 1) ))"
    done
    log "nemesis: $count faults applied"
}

# Whether ZooKeeper answers its readiness probe within $1 seconds (one probe a second).
zookeeper_ready_within() {
    local attempt
    for ((attempt = 0; attempt < $1; attempt++)); do
        scripts/zookeeper status --port "$zookeeper_port" --dir "$dir/zookeeper" >/dev/null 2>&1 && return 0
        sleep 1
    done
    return 1
}

# Undoes whatever may still be in effect and waits until every node is ready.
heal_all() {
    local i
    unblock_all
    for i in $paused_nodes; do kill -CONT "$(node_pid "$i")" 2>/dev/null || true; done
    if [ "$zookeeper_stopped" = 1 ] || ! scripts/zookeeper status --port "$zookeeper_port" --dir "$dir/zookeeper" >/dev/null 2>&1; then
        # `start` refuses while the server lives: a live one that missed a readiness probe
        # under load is waited for, not reported as a failed start.
        scripts/zookeeper start --port "$zookeeper_port" --dir "$dir/zookeeper" >/dev/null 2>&1 \
            || zookeeper_ready_within 30 || log "heal: zookeeper not ready after 30 s"
    fi
    rm -f "$dir/node$disk_node/data/filler"
    for i in $(seq 1 "$nodes"); do restart_if_dead "$i"; done
}

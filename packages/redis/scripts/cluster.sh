#!/usr/bin/env bash
# A throwaway Redis Cluster on loopback: 3 masters with one replica each (6 redis-server processes).
#   bash scripts/cluster.sh start       start it, print the seed list (REDIS_CLUSTER_NODES)
#   bash scripts/cluster.sh stop        stop the nodes by their own pids and remove the data dir
#   bash scripts/cluster.sh run -- CMD  start, run CMD with REDIS_CLUSTER_NODES set, always stop
#   bash scripts/cluster.sh kill-node PORT   SIGKILL one node (failover tests)
#   bash scripts/cluster.sh start-node PORT  start a killed node again; it rejoins from its nodes.conf
# REDIS_CLUSTER_PORT (default 7300) is the first of six consecutive ports; REDIS_CLUSTER_DIR
# (default /tmp/sessile-redis-cluster-<port>) holds each node's config, log and pid file.
set -euo pipefail

PORT=${REDIS_CLUSTER_PORT:-7300}
DIR=${REDIS_CLUSTER_DIR:-/tmp/sessile-redis-cluster-$PORT}
PORTS=()
for i in 0 1 2 3 4 5; do PORTS+=($((PORT + i))); done
NODES=$(printf 'redis://127.0.0.1:%s,' "${PORTS[@]}")
NODES=${NODES%,}

stop() {
  [[ -d "$DIR" ]] || return 0
  for p in "${PORTS[@]}"; do
    # Only a redis-server of this data dir: a reused pid must not be killed.
    local pid
    pid=$(node_pid "$p")
    if [[ -n "$pid" ]]; then
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
    fi
  done
  rm -rf "$DIR"
  echo "cluster on ports ${PORTS[0]}-${PORTS[5]} stopped, $DIR removed"
}

node_pid() { # port: the pid of this data dir's live redis-server on that port, or nothing
  local f="$DIR/$1/redis.pid" pid
  [[ -f "$f" ]] || return 0
  pid=$(cat "$f")
  if [[ -r "/proc/$pid/cmdline" ]] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q "redis-server.*:$1"; then
    echo "$pid"
  fi
}

start_node() { # port
  local p=$1
  mkdir -p "$DIR/$p"
  # No persistence (a test cluster); a short node timeout so a killed master fails over in seconds.
  redis-server --port "$p" --bind 127.0.0.1 --protected-mode yes --daemonize yes \
    --dir "$DIR/$p" --pidfile "$DIR/$p/redis.pid" --logfile "$DIR/$p/redis.log" \
    --cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout 2000 \
    --save '' --appendonly no --maxmemory-policy noeviction
  for _ in $(seq 50); do redis-cli -p "$p" ping >/dev/null 2>&1 && break; sleep 0.1; done
}

synced() { # port: a replica's link to its master is up, or a master has its replica
  local info
  info=$(redis-cli -p "$1" info replication)
  if grep -q 'role:slave' <<<"$info"; then
    grep -q 'master_link_status:up' <<<"$info" && ! grep -q 'master_sync_in_progress:1' <<<"$info"
  else
    grep -q 'connected_slaves:1' <<<"$info" && grep -q 'state=online' <<<"$info"
  fi
}

start() {
  command -v redis-server >/dev/null || { echo "redis-server is not installed" >&2; exit 1; }
  stop >/dev/null
  mkdir -p "$DIR"
  for p in "${PORTS[@]}"; do start_node "$p"; done
  local hosts=()
  for p in "${PORTS[@]}"; do hosts+=("127.0.0.1:$p"); done
  redis-cli --cluster create "${hosts[@]}" --cluster-replicas 1 --cluster-yes >"$DIR/create.log"
  for p in "${PORTS[@]}"; do
    for _ in $(seq 100); do
      redis-cli -p "$p" cluster info | grep -q 'cluster_state:ok' && break
      sleep 0.1
    done
    redis-cli -p "$p" cluster info | grep -q 'cluster_state:ok' || { echo "node $p is not ok" >&2; exit 1; }
  done
  # A replica whose first sync has not finished cannot be promoted: a master killed that early
  # (the failover test kills one 2 s in) leaves its slots down. Wait for every link.
  for p in "${PORTS[@]}"; do
    for _ in $(seq 200); do synced "$p" && break; sleep 0.1; done
    synced "$p" || { echo "node $p has no replication link up" >&2; exit 1; }
  done
  echo "cluster up: REDIS_CLUSTER_NODES=$NODES"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  run)
    shift
    [[ "${1:-}" == "--" ]] && shift
    trap stop EXIT
    trap 'exit 130' INT TERM
    start
    REDIS_CLUSTER_NODES=$NODES REDIS_CLUSTER_DIR=$DIR REDIS_CLUSTER_PORT=$PORT "$@"
    ;;
  kill-node)
    pid=$(node_pid "${2:?port}")
    [[ -n "$pid" ]] || { echo "no node of $DIR runs on port $2" >&2; exit 1; }
    kill -9 "$pid"
    ;;
  start-node) start_node "${2:?port}" ;;
  *)
    echo "usage: $0 start|stop|run -- command|kill-node PORT|start-node PORT" >&2
    exit 2
    ;;
esac

#!/usr/bin/env bash
# A 3-node MariaDB Galera cluster on loopback, for the cluster suites and the cluster benchmark.
#
#   scripts/galera-cluster.sh start           start nodes 1..3, wait until all three are Synced
#   scripts/galera-cluster.sh stop            stop every node (by its own pid) and remove the data
#   scripts/galera-cluster.sh kill N          SIGKILL node N (fault tests)
#   scripts/galera-cluster.sh rejoin N        start node N again; it rejoins by state transfer
#   scripts/galera-cluster.sh wait-synced [K] wait until K nodes (default 3) are Synced
#   scripts/galera-cluster.sh status          print each node's state
#   scripts/galera-cluster.sh urls            print the nodes' mysql:// URLs, comma-separated
#
# Node N listens for SQL on 127.0.0.1:(GALERA_PORT_BASE + N - 1), default 13306..13308, as root
# with no password, database `test`. Data lives in GALERA_DIR (default /tmp/sessile-galera-<base>),
# owned by mysql: state transfer (rsync) runs as the server's user and fails as root, and a
# directory under /root is out of its reach. Buffers are small: the machine is shared.
set -euo pipefail

BASE=${GALERA_PORT_BASE:-13306}
DIR=${GALERA_DIR:-/tmp/sessile-galera-${BASE}}
NODES=3
PROVIDER=${GALERA_PROVIDER:-/usr/lib/galera/libgalera_smm.so}

sql_port() { echo $((BASE + $1 - 1)); }
gcomm_port() { echo $((BASE + 1000 + $1 - 1)); }
ist_port() { echo $((BASE + 1010 + $1 - 1)); }
sst_port() { echo $((BASE + 1020 + $1 - 1)); }
node_dir() { echo "${DIR}/n$1"; }
pid_of() { cat "$(node_dir "$1")/node.pid" 2>/dev/null || true; }
alive() { local p; p=$(pid_of "$1"); [[ -n "$p" ]] && kill -0 "$p" 2>/dev/null; }
q() { mariadb --no-defaults -uroot --socket="$(node_dir "$1")/mysqld.sock" -N -B -e "$2" 2>/dev/null; }
state_of() { q "$1" "SHOW STATUS LIKE 'wsrep_local_state_comment'" | awk '{print $2}'; }

cluster_address() {
  local a=() n
  for ((n = 1; n <= NODES; n++)); do a+=("127.0.0.1:$(gcomm_port "$n")"); done
  (IFS=,; echo "gcomm://${a[*]}")
}

write_cnf() { # node
  local n=$1 d
  d=$(node_dir "$n")
  cat >"$d/my.cnf" <<EOF
[mysqld]
datadir=$d/data
socket=$d/mysqld.sock
pid-file=$d/mysqld.pid
log-error=$d/error.log
port=$(sql_port "$n")
bind-address=127.0.0.1
skip-name-resolve
performance_schema=OFF
innodb_buffer_pool_size=64M
innodb_log_file_size=16M
innodb_log_buffer_size=4M
innodb_flush_log_at_trx_commit=2
max_connections=200
binlog_format=ROW
default_storage_engine=InnoDB
innodb_autoinc_lock_mode=2
wsrep_on=ON
wsrep_provider=$PROVIDER
wsrep_cluster_name=sessile-${BASE}
wsrep_cluster_address=$(cluster_address)
wsrep_node_name=n$n
wsrep_node_address=127.0.0.1
wsrep_provider_options="gmcast.listen_addr=tcp://127.0.0.1:$(gcomm_port "$n");ist.recv_addr=127.0.0.1:$(ist_port "$n");gcache.size=32M;gcs.fc_limit=64"
wsrep_sst_method=rsync
wsrep_sst_receive_address=127.0.0.1:$(sst_port "$n")
wsrep_slave_threads=2
EOF
}

launch() { # node [extra args...]
  local n=$1 d
  shift
  d=$(node_dir "$n")
  # setsid: the node outlives this script and a Ctrl-C of the caller's terminal.
  setsid /usr/sbin/mariadbd --defaults-file="$d/my.cnf" --user=mysql "$@" </dev/null >>"$d/stdout.log" 2>&1 &
  echo $! >"$d/node.pid"
}

wait_state() { # node seconds
  local n=$1 secs=$2 i
  for ((i = 0; i < secs * 2; i++)); do
    if ! alive "$n"; then
      echo "node $n exited; last lines of its log:" >&2
      tail -n 30 "$(node_dir "$n")/error.log" >&2 || true
      return 1
    fi
    [[ "$(state_of "$n")" == Synced ]] && return 0
    sleep 0.5
  done
  echo "node $n not Synced after ${secs}s" >&2
  tail -n 30 "$(node_dir "$n")/error.log" >&2 || true
  return 1
}

start() {
  if alive 1 || alive 2 || alive 3; then
    echo "a cluster already runs in $DIR (stop it first)" >&2
    return 1
  fi
  rm -rf "$DIR"
  mkdir -p "$DIR"
  local n
  for ((n = 1; n <= NODES; n++)); do
    mkdir -p "$(node_dir "$n")/data"
    write_cnf "$n"
  done
  chown -R mysql:mysql "$DIR"
  chmod 755 "$DIR"
  # Only the first node needs a system database; the others receive node 1's by state transfer.
  # normal root authentication: tests connect over TCP as root without a password (loopback only).
  mariadb-install-db --defaults-file="$(node_dir 1)/my.cnf" --user=mysql \
    --auth-root-authentication-method=normal --skip-test-db >"$DIR/install.log" 2>&1
  launch 1 --wsrep-new-cluster
  wait_state 1 60
  q 1 "CREATE DATABASE IF NOT EXISTS test"
  for ((n = 2; n <= NODES; n++)); do
    launch "$n"
    wait_state "$n" 90
  done
  wait_synced "$NODES" 30
  echo "Galera cluster of $NODES nodes Synced in $DIR: $(urls)"
}

wait_synced() { # count seconds
  local want=${1:-$NODES} secs=${2:-90} i n synced
  for ((i = 0; i < secs * 2; i++)); do
    synced=0
    for ((n = 1; n <= NODES; n++)); do
      if alive "$n" && [[ "$(state_of "$n")" == Synced ]]; then synced=$((synced + 1)); fi
    done
    ((synced >= want)) && return 0
    sleep 0.5
  done
  echo "only $synced of $want nodes Synced after ${secs}s" >&2
  return 1
}

stop_node() { # node
  local n=$1 p i
  p=$(pid_of "$n")
  [[ -z "$p" ]] && return 0
  if kill -0 "$p" 2>/dev/null; then
    kill -TERM "$p" 2>/dev/null || true
    for ((i = 0; i < 60; i++)); do
      kill -0 "$p" 2>/dev/null || break
      sleep 0.5
    done
    kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null || true
  fi
  rm -f "$(node_dir "$n")/node.pid"
}

stop() {
  local n
  # Joiners first, the bootstrap node last: each leaves a cluster that still has a primary.
  for ((n = NODES; n >= 1; n--)); do stop_node "$n"; done
  # The rsync daemons of a state transfer in progress belong to the node: match this cluster's
  # own directory only.
  [[ -d "$DIR" ]] && rm -rf "$DIR"
  echo "Galera cluster in $DIR stopped and removed"
}

kill_node() { # node
  local p
  p=$(pid_of "$1")
  [[ -n "$p" ]] && kill -KILL "$p" 2>/dev/null || true
  for ((i = 0; i < 40; i++)); do
    kill -0 "$p" 2>/dev/null || break
    sleep 0.25
  done
  rm -f "$(node_dir "$1")/node.pid"
}

rejoin() { # node
  local n=$1
  alive "$n" && return 0
  # A killed node left its socket and (possibly) the state transfer's leftovers behind.
  rm -f "$(node_dir "$n")/mysqld.sock" "$(node_dir "$n")/mysqld.pid"
  launch "$n"
  wait_state "$n" 120
}

status() {
  local n
  for ((n = 1; n <= NODES; n++)); do
    if alive "$n"; then
      echo "n$n pid $(pid_of "$n") port $(sql_port "$n") $(state_of "$n")"
    else
      echo "n$n down"
    fi
  done
}

urls() {
  local a=() n
  for ((n = 1; n <= NODES; n++)); do a+=("mysql://root@127.0.0.1:$(sql_port "$n")/test"); done
  (IFS=,; echo "${a[*]}")
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  kill) kill_node "${2:?node number}" ;;
  rejoin) rejoin "${2:?node number}" ;;
  wait-synced) wait_synced "${2:-$NODES}" "${3:-90}" ;;
  status) status ;;
  urls) urls ;;
  *)
    sed -n '2,12p' "$0" >&2
    exit 2
    ;;
esac

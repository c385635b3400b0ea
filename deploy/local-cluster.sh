#!/usr/bin/env bash
# A local StreamGrains cluster on one machine: the standalone embedded Kafka broker, a throwaway PostgreSQL, and
# several silo processes on their own ports that find each other through PostgreSQL.
#
#   deploy/local-cluster.sh start [silos (default 3)]   # prints every silo's address; the first one runs the demo traffic
#   deploy/local-cluster.sh stop                        # stops everything and removes the cluster's data
#
# State and logs live under .local-cluster/ in the repository (logs: .local-cluster/*.log); PostgreSQL's data directory
# lives under /tmp (short socket paths, and reachable by the postgres user when run as root). If start-up fails, what
# started is stopped again and the logs are kept in .local-cluster-failed/.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
dir="$root/.local-cluster"
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

fail() { echo "$*" >&2; exit 1; }

# Shows the end of a log on standard error.
show_log() { echo "--- last lines of $1:" >&2; tail -n 20 "$1" >&2 || true; }

# On a failed start: keeps the logs in .local-cluster-failed/ and stops what started.
start_failed() {
  local code=$?
  [ "$code" = 0 ] && return 0
  echo "Start-up failed; stopping what started. Logs: .local-cluster-failed/" >&2
  cp -r "$dir" "$root/.local-cluster-failed" 2> /dev/null || true
  if [ -f "$dir/pg_dir" ]; then cp "$(cat "$dir/pg_dir")/server.log" "$root/.local-cluster-failed/postgres.log" 2> /dev/null || true; fi
  stop > /dev/null 2>&1 || true
  exit "$code"
}

start() {
  local silos=${1:-3}
  [[ "$silos" =~ ^[1-9][0-9]*$ ]] || fail "usage: $0 start [silos]: silos must be a positive number, was '$silos'"
  [ -d "$dir" ] && fail "A local cluster is already running (or left over): deploy/local-cluster.sh stop first."
  for tool in dotnet python3 curl; do
    command -v "$tool" > /dev/null || fail "$tool is needed and not installed (apt-get install $tool)."
  done
  [ -n "$pg_bin" ] || fail "PostgreSQL is not installed: apt-get install postgresql"

  mkdir -p "$dir"
  rm -rf "$root/.local-cluster-failed"
  # Whatever fails from here on, what started is stopped again; the logs stay for a look.
  trap start_failed EXIT

  echo "Building..."
  dotnet build "$root/src/Silo" -v quiet -nologo > "$dir/build.log" 2>&1 || { show_log "$dir/build.log"; exit 1; }
  dotnet build "$root/src/KafkaBroker" -v quiet -nologo >> "$dir/build.log" 2>&1 || { show_log "$dir/build.log"; exit 1; }
  local silo_dll="$root/src/Silo/bin/Debug/net10.0/StreamGrains.Silo.dll"
  local broker_dll="$root/src/KafkaBroker/bin/Debug/net10.0/StreamGrains.KafkaBroker.dll"

  echo "Starting the Kafka broker..."
  nohup dotnet "$broker_dll" --brokers 1 --partitions 8 --bootstrap-file "$dir/bootstrap" < /dev/null > "$dir/broker.log" 2>&1 &
  local broker=$!
  echo "$broker" > "$dir/broker.pid"
  for _ in $(seq 1 120); do
    [ -s "$dir/bootstrap" ] && break
    kill -0 "$broker" 2> /dev/null || { show_log "$dir/broker.log"; fail "The Kafka broker exited."; }
    sleep 0.5
  done
  [ -s "$dir/bootstrap" ] || { show_log "$dir/broker.log"; fail "The Kafka broker did not start within 60 s."; }
  local kafka; kafka=$(cat "$dir/bootstrap")

  echo "Starting PostgreSQL..."
  local pg_port pg_dir
  pg_port=$(free_port)
  pg_dir=$(mktemp -d /tmp/streamgrains-pg.XXXXXX)
  echo "$pg_dir" > "$dir/pg_dir"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$pg_dir"
  as_postgres "$pg_bin/initdb" -D "$pg_dir/data" -A trust -U postgres -E UTF8 --no-sync > "$dir/initdb.log" 2>&1 || { show_log "$dir/initdb.log"; fail "initdb failed."; }
  printf "listen_addresses = '127.0.0.1'\nport = %s\nunix_socket_directories = '%s'\nmax_connections = 300\n" "$pg_port" "$pg_dir" >> "$pg_dir/data/postgresql.conf"
  as_postgres "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/server.log" -w start > /dev/null || { show_log "$pg_dir/server.log"; fail "PostgreSQL did not start."; }
  local connection="Host=127.0.0.1;Port=$pg_port;Username=postgres;Database=postgres"
  echo "$connection" > "$dir/connection"
  dotnet "$silo_dll" migrate --ConnectionStrings:StreamGrains "$connection" > "$dir/migrate.log" 2>&1 || { show_log "$dir/migrate.log"; fail "The schema migration failed."; }

  local pids=()
  for i in $(seq 0 $((silos - 1))); do
    local http=$((5000 + i)) silo=$((11111 + i)) gateway=$((30000 + i)) demo=false
    [ "$i" = 0 ] && demo=true
    nohup dotnet "$silo_dll" --urls "http://127.0.0.1:$http" --silo-port "$silo" --gateway-port "$gateway" \
      --kafka "$kafka" --storage postgres --ConnectionStrings:StreamGrains "$connection" \
      --StreamGrains:Cluster:AdvertisedAddress 127.0.0.1 --demo "$demo" < /dev/null > "$dir/silo-$i.log" 2>&1 &
    pids+=($!)
    echo $! >> "$dir/silos.pid"
  done

  for i in $(seq 0 $((silos - 1))); do
    local http=$((5000 + i)) ready=no
    for _ in $(seq 1 240); do
      if curl -sf --max-time 2 "http://127.0.0.1:$http/health/ready" > /dev/null; then ready=yes; break; fi
      kill -0 "${pids[$i]}" 2> /dev/null || { show_log "$dir/silo-$i.log"; fail "Silo $i exited."; }
      sleep 0.5
    done
    [ "$ready" = yes ] || { show_log "$dir/silo-$i.log"; fail "Silo $i did not become ready within 120 s."; }
  done

  trap - EXIT
  echo
  echo "StreamGrains local cluster: $silos silos, Kafka at $kafka, PostgreSQL at 127.0.0.1:$pg_port"
  for i in $(seq 0 $((silos - 1))); do
    echo "  silo $i: http://127.0.0.1:$((5000 + i))   (dashboard /dashboard/, info /api/info, archive /api/events)"
  done
  echo "  stop:   deploy/local-cluster.sh stop"
}

stop() {
  [ -d "$dir" ] || { echo "No local cluster is running."; return 0; }
  if [ -f "$dir/silos.pid" ]; then
    while read -r pid; do kill "$pid" 2> /dev/null || true; done < "$dir/silos.pid"
    for _ in $(seq 1 60); do
      alive=0
      while read -r pid; do kill -0 "$pid" 2> /dev/null && alive=1; done < "$dir/silos.pid"
      [ "$alive" = 0 ] && break
      sleep 0.5
    done
    while read -r pid; do kill -9 "$pid" 2> /dev/null || true; done < "$dir/silos.pid"
  fi
  if [ -f "$dir/broker.pid" ]; then kill "$(cat "$dir/broker.pid")" 2> /dev/null || true; fi
  if [ -f "$dir/pg_dir" ]; then
    local pg_dir; pg_dir=$(cat "$dir/pg_dir")
    if [ -n "$pg_bin" ] && [ -f "$pg_dir/data/postmaster.pid" ]; then
      as_postgres "$pg_bin/pg_ctl" -D "$pg_dir/data" -m fast -w stop > /dev/null || true
    fi
    case "$pg_dir" in /tmp/streamgrains-pg.*) rm -rf "$pg_dir" ;; esac
  fi
  rm -rf "$dir"
  echo "Stopped."
}

case "${1:-}" in
  start) start "${2:-3}" ;;
  stop) stop ;;
  *) echo "usage: $0 start [silos] | stop" >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# A local StreamGrains cluster on one machine: the standalone embedded Kafka broker, a throwaway PostgreSQL, and
# several silo processes on their own ports that find each other through PostgreSQL.
#
#   deploy/local-cluster.sh start [silos (default 3)]   # prints every silo's address; the first one runs the demo traffic
#   deploy/local-cluster.sh stop                        # stops everything and removes the cluster's data
#
# Everything lives under .local-cluster/ in the repository (logs: .local-cluster/*.log).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
dir="$root/.local-cluster"
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start() {
  local silos=${1:-3}
  if [ -d "$dir" ]; then
    echo "A local cluster is already running (or left over): deploy/local-cluster.sh stop first." >&2
    exit 1
  fi
  if [ -z "$pg_bin" ]; then
    echo "PostgreSQL is not installed: apt-get install postgresql" >&2
    exit 1
  fi

  mkdir -p "$dir"
  echo "Building..."
  dotnet build "$root/src/Silo" -v quiet -nologo > "$dir/build.log" 2>&1 || { cat "$dir/build.log" >&2; exit 1; }
  dotnet build "$root/src/KafkaBroker" -v quiet -nologo >> "$dir/build.log" 2>&1 || { cat "$dir/build.log" >&2; exit 1; }
  local silo_dll="$root/src/Silo/bin/Debug/net10.0/StreamGrains.Silo.dll"
  local broker_dll="$root/src/KafkaBroker/bin/Debug/net10.0/StreamGrains.KafkaBroker.dll"

  echo "Starting the Kafka broker..."
  nohup dotnet "$broker_dll" --brokers 1 --partitions 8 --bootstrap-file "$dir/bootstrap" < /dev/null > "$dir/broker.log" 2>&1 &
  echo $! > "$dir/broker.pid"
  for _ in $(seq 1 120); do [ -s "$dir/bootstrap" ] && break; sleep 0.5; done
  local kafka; kafka=$(cat "$dir/bootstrap")

  echo "Starting PostgreSQL..."
  local pg_port; pg_port=$(free_port)
  mkdir -p "$dir/pg"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir/pg" "$dir"
  as_postgres "$pg_bin/initdb" -D "$dir/pg" -A trust -U postgres -E UTF8 --no-sync > "$dir/initdb.log"
  printf "listen_addresses = '127.0.0.1'\nport = %s\nunix_socket_directories = '%s'\nmax_connections = 300\n" "$pg_port" "$dir/pg" >> "$dir/pg/postgresql.conf"
  as_postgres "$pg_bin/pg_ctl" -D "$dir/pg" -l "$dir/pg/server.log" -w start > /dev/null
  local connection="Host=127.0.0.1;Port=$pg_port;Username=postgres;Database=postgres"
  echo "$connection" > "$dir/connection"
  dotnet "$silo_dll" migrate --ConnectionStrings:StreamGrains "$connection" > "$dir/migrate.log" 2>&1

  for i in $(seq 0 $((silos - 1))); do
    local http=$((5000 + i)) silo=$((11111 + i)) gateway=$((30000 + i)) demo=false
    [ "$i" = 0 ] && demo=true
    nohup dotnet "$silo_dll" --urls "http://127.0.0.1:$http" --silo-port "$silo" --gateway-port "$gateway" \
      --kafka "$kafka" --storage postgres --ConnectionStrings:StreamGrains "$connection" \
      --StreamGrains:Cluster:AdvertisedAddress 127.0.0.1 --demo "$demo" < /dev/null > "$dir/silo-$i.log" 2>&1 &
    echo $! >> "$dir/silos.pid"
  done

  for i in $(seq 0 $((silos - 1))); do
    local http=$((5000 + i)) ready=no
    for _ in $(seq 1 240); do
      if curl -sf "http://127.0.0.1:$http/health/ready" > /dev/null; then ready=yes; break; fi
      sleep 0.5
    done
    [ "$ready" = yes ] || { echo "Silo $i did not become ready; see $dir/silo-$i.log" >&2; exit 1; }
  done

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
  [ -f "$dir/broker.pid" ] && kill "$(cat "$dir/broker.pid")" 2> /dev/null || true
  if [ -n "$pg_bin" ] && [ -f "$dir/pg/postmaster.pid" ]; then
    as_postgres "$pg_bin/pg_ctl" -D "$dir/pg" -m fast -w stop > /dev/null || true
  fi
  rm -rf "$dir"
  echo "Stopped."
}

case "${1:-}" in
  start) start "${2:-3}" ;;
  stop) stop ;;
  *) echo "usage: $0 start [silos] | stop" >&2; exit 2 ;;
esac

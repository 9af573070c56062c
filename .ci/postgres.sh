# Source this: starts a throwaway PostgreSQL 15 on loopback and exports LANEWATCH_TEST_PG.
# initdb and pg_ctl run as the postgres user when we are root (PostgreSQL refuses root).
bindir=$(pg_config --bindir)
pg_root=$(mktemp -d /tmp/lanewatch-pg.XXXXXX)
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" = 0 ] && chown postgres: "$pg_root"
pg_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# passwords over TCP (as a shared store is reached), so the tests prove a password is taken from the keyring
echo postgres > "$pg_root/pw" && [ "$(id -u)" = 0 ] && chown postgres: "$pg_root/pw"
as_pg "$bindir/initdb" -D "$pg_root/data" -U postgres --auth-local=trust --auth-host=scram-sha-256 --pwfile="$pg_root/pw" \
  --no-sync -E UTF8 >"$pg_root/initdb.log"
as_pg "$bindir/pg_ctl" -D "$pg_root/data" -l "$pg_root/server.log" -w \
  -o "-p $pg_port -k $pg_root -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" start >/dev/null
stop_postgres() { as_pg "$bindir/pg_ctl" -D "$pg_root/data" -m fast stop >/dev/null 2>&1; rm -rf "$pg_root"; }
trap stop_postgres EXIT
export LANEWATCH_TEST_PG="postgresql://postgres:postgres@127.0.0.1:$pg_port/postgres"
echo "PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$pg_port for the tests"

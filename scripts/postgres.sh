#!/usr/bin/env bash
# Print a PostgreSQL admin URL that answers (for the tests' TEST_PG_ADMIN_URL): $TEST_PG_ADMIN_URL
# if set and alive, else postgres@127.0.0.1:5432/test (Debian's own cluster, trust auth), else a
# private cluster made with initdb under var/pg on a free port (stopped by the caller with
# scripts/postgres.sh stop). As root the cluster runs as the `postgres` system user.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$PWD/var/pg
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
as_pg=()
[ "$(id -u)" -eq 0 ] && as_pg=(runuser -u postgres --)
if [ "${1:-}" = stop ]; then
  [ -f "$dir/data/postmaster.pid" ] && "${as_pg[@]}" "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
  exit 0
fi
alive() { .venv/bin/python -c "import sqlalchemy as s,sys; s.create_engine(sys.argv[1], connect_args={'connect_timeout': 2}).connect().close()" "$1" 2>/dev/null; }
if [ -n "${TEST_PG_ADMIN_URL:-}" ] && alive "$TEST_PG_ADMIN_URL"; then echo "$TEST_PG_ADMIN_URL"; exit 0; fi
url=postgresql+psycopg2://postgres@127.0.0.1:5432/test
if alive "$url"; then echo "$url"; exit 0; fi
if [ -z "$bin" ]; then
  echo "no PostgreSQL answers on 127.0.0.1:5432 and its server is not installed: apt-get install postgresql" >&2
  exit 1
fi
mkdir -p "$dir"
[ ${#as_pg[@]} -gt 0 ] && chown postgres "$dir"
if [ ! -f "$dir/data/PG_VERSION" ]; then
  "${as_pg[@]}" "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 >/dev/null
fi
port=$(.venv/bin/python -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])")
"${as_pg[@]}" "$bin/pg_ctl" -D "$dir/data" -w -l "$dir/log" \
  -o "-p $port -k $dir -c listen_addresses=127.0.0.1" start >/dev/null
echo "postgresql+psycopg2://postgres@127.0.0.1:$port/postgres"

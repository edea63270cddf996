#!/usr/bin/env bash
# Print a Redis URL that answers: $REDIS_URL if set and alive, else 127.0.0.1:6379 if alive,
# else a private redis-server started under var/redis on a free port (stopped by the caller
# with: kill "$(cat var/redis/redis.pid)").
set -euo pipefail
cd "$(dirname "$0")/.."
alive() { .venv/bin/python -c "import redis,sys; redis.Redis.from_url(sys.argv[1], socket_connect_timeout=1).ping()" "$1" 2>/dev/null; }
if [ -n "${REDIS_URL:-}" ] && alive "$REDIS_URL"; then echo "$REDIS_URL"; exit 0; fi
if alive redis://127.0.0.1:6379/0; then echo redis://127.0.0.1:6379/0; exit 0; fi
if ! command -v redis-server >/dev/null; then
  echo "no Redis answers and redis-server is not installed: apt-get install redis-server" >&2
  exit 1
fi
mkdir -p var/redis
port=$(.venv/bin/python -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])")
redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --daemonize yes \
  --dir "$PWD/var/redis" --pidfile "$PWD/var/redis/redis.pid" --logfile "$PWD/var/redis/redis.log" >&2
for _ in $(seq 50); do alive "redis://127.0.0.1:$port/0" && break; sleep 0.1; done
echo "redis://127.0.0.1:$port/0"

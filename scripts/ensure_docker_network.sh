#!/usr/bin/env bash
# Create the external Docker network the compose files join (docker-compose.yml `networks`),
# unless it exists: safe to run before every `docker compose up`. The name comes from
# PROSAAS_NETWORK (default prosaas), the same variable docker-compose.yml reads.
# Usage: scripts/ensure_docker_network.sh
set -euo pipefail
network="${PROSAAS_NETWORK:-prosaas}"
command -v docker >/dev/null || { echo "ensure_docker_network: docker is not installed" >&2; exit 1; }
if docker network inspect "$network" >/dev/null 2>&1; then
  echo "ensure_docker_network: network $network exists"
else
  # Two runs racing: the loser's create fails, but the network then exists, which is the goal.
  docker network create --driver bridge "$network" >/dev/null \
    || docker network inspect "$network" >/dev/null 2>&1 \
    || { echo "ensure_docker_network: could not create network $network" >&2; exit 1; }
  echo "ensure_docker_network: created network $network"
fi

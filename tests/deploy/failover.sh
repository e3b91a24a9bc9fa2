#!/usr/bin/env bash
# Failover through nginx in front of three inferd replicas (tests/deploy/failover.py says
# what is checked). CTest label `slow`: about 25 s, plus nginx-light's install the first time.
# Usage: tests/deploy/failover.sh [INFERD_BINARY]   (default: $INFERD_BIN, else build/inferd)
# Extra settings: FAILOVER_SECONDS (20), FAILOVER_CLIENTS (32).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
bin="${1:-${INFERD_BIN:-$root/build/inferd}}"
[ -x "$bin" ] || { echo "no inferd binary at $bin (build it, or pass its path)" >&2; exit 1; }

# Debian's nginx-light: the smallest nginx with the upstream and proxy modules. Installed
# here rather than by scripts/setup.sh because only this test needs it; its package starts
# no service where there is no init system, and the test runs its own instance anyway.
nginx="$(command -v nginx || true)"
[ -n "$nginx" ] || [ ! -x /usr/sbin/nginx ] || nginx=/usr/sbin/nginx
if [ -z "$nginx" ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get install -y -qq --no-install-recommends nginx-light >/dev/null ||
    { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends nginx-light >/dev/null; }
  nginx=/usr/sbin/nginx
fi
"$nginx" -v

exec python3 "$root/tests/deploy/failover.py" --inferd "$bin" --nginx "$nginx" \
  --conf "$root/deploy/nginx/inferd.conf" --models "$root/models/squeezenet" --images "$root/images" \
  --seconds "${FAILOVER_SECONDS:-20}" --clients "${FAILOVER_CLIENTS:-32}"

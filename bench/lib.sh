# Shell helpers shared by the bench/ scripts; source it: . "$(dirname "$0")/lib.sh"

# wait_ready PORT: returns once the inferd server on localhost:PORT answers its readiness
# probe; fails (naming the port) after 30 s, so a server that died at start-up stops the
# benchmark instead of being measured as a stream of connection errors.
wait_ready() {
  local port=$1
  for _ in $(seq 1 300); do
    curl -sf "localhost:$port/v2/health/ready" >/dev/null && return 0
    sleep 0.1
  done
  echo "the server on port $port was not ready after 30 s" >&2
  return 1
}

# Shell helpers shared by the bench/ scripts; source it: . "$(dirname "$0")/lib.sh"

# wait_ready PORT [SECONDS]: returns once the inferd server on localhost:PORT answers its
# readiness probe; fails (naming the port) after SECONDS (default 30), so a server that died
# at start-up stops the benchmark instead of being measured as a stream of connection errors.
wait_ready() {
  local port=$1 seconds=${2:-30}
  for _ in $(seq 1 $((seconds * 10))); do
    curl -sf "localhost:$port/v2/health/ready" >/dev/null && return 0
    sleep 0.1
  done
  echo "the server on port $port was not ready after $seconds s" >&2
  return 1
}

# wait_listening PORT: the same for hosts without curl (the GPU device machine): inferd
# binds its port only once its models are loaded, so a connection accepted means ready.
wait_listening() {
  local port=$1
  for _ in $(seq 1 600); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "nothing listened on port $port after 60 s" >&2
  return 1
}

# nginx_noop_conf DIR PORT WORKERS: writes DIR/nginx.conf (DIR absolute) for an nginx with
# WORKERS worker processes answering every request on 127.0.0.1:PORT with 200 and "{}", the
# body /v1/noop answers: the HTTP baseline the server benchmarks compare inferd's path with.
nginx_noop_conf() {
  local dir=$1 port=$2 workers=$3
  mkdir -p "$dir"
  cat > "$dir/nginx.conf" <<NGINX
worker_processes $workers;
pid $dir/nginx.pid;
error_log $dir/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $dir;
  server { listen 127.0.0.1:$port; location / { return 200 "{}"; } }
}
NGINX
}

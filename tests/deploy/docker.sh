#!/usr/bin/env bash
# Builds the CPU image (deploy/docker/Dockerfile), runs it, classifies the rabbit through
# it, checks /metrics and the HEALTHCHECK, stops it with `docker stop` (a graceful drain
# must exit 0) and reports the image's size (failing above INFERD_IMAGE_MAX_MB, 150).
# CTest label `docker`: not in the default run nor CI (it needs root, a running dockerd and
# minutes of building). Only --network host and 127.0.0.1 are used, for the build too.
# Usage: tests/deploy/docker.sh        (INFERD_IMAGE=inferd:test-cpu by default)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
image="${INFERD_IMAGE:-inferd:test-cpu}"
max_mb="${INFERD_IMAGE_MAX_MB:-150}"
expected="n02328150 Angora, Angora rabbit"
command -v docker >/dev/null || { echo "docker is not installed" >&2; exit 1; }
docker info >/dev/null 2>&1 || { echo "no Docker daemon answers (start dockerd as root)" >&2; exit 1; }

bash deploy/docker/make-base-images.sh
t0=$(date +%s)
docker build --network host -f deploy/docker/Dockerfile -t "$image" .
echo "build: $(( $(date +%s) - t0 )) s"

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
name="inferd-test-$$"
trap 'docker rm -f "$name" >/dev/null 2>&1 || true' EXIT
docker run -d --name "$name" --network host -e INFERD_HEALTH_PORT="$port" "$image" \
  --model-repository /models --host 127.0.0.1 --port "$port" >/dev/null
url="http://127.0.0.1:$port"
for _ in $(seq 1 600); do
  curl -sf "$url/v2/health/ready" >/dev/null && break
  [ "$(docker inspect --format '{{.State.Running}}' "$name")" = true ] || { docker logs "$name"; exit 1; }
  sleep 0.2
done
curl -sf "$url/v2/health/ready" >/dev/null || { docker logs "$name"; echo "FAIL: not ready" >&2; exit 1; }

fail() { echo "FAIL: $*" >&2; docker logs "$name" 2>&1 | tail -20 >&2; exit 1; }
answer="$(curl -sf -XPOST --data-binary @images/1.jpg -H 'Content-Type: image/jpeg' "$url/classify?top=1")" ||
  fail "POST /classify did not answer 200"
echo "classify images/1.jpg: $answer"
top="$(printf '%s' "$answer" | python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["label"])')"
[ "$top" = "$expected" ] || fail "top-1 is '$top', expected '$expected'"

metrics="$(curl -sf "$url/metrics")" || fail "GET /metrics did not answer 200"
grep -q '^inferd_requests_total{model="squeezenet",code="200"} 1$' <<<"$metrics" ||
  fail "/metrics does not count the one classification: $(grep inferd_requests_total <<<"$metrics")"
grep -q '^inferd_inflight_requests ' <<<"$metrics" || fail "/metrics has no inferd_inflight_requests"

# The HEALTHCHECK (every 10 s) must find the server ready on INFERD_HEALTH_PORT.
health=""
for _ in $(seq 1 40); do
  health="$(docker inspect --format '{{.State.Health.Status}}' "$name")"
  [ "$health" = healthy ] && break
  sleep 1
done
[ "$health" = healthy ] || fail "HEALTHCHECK status is '$health', not healthy"

# docker stop sends SIGTERM; inferd drains and exits 0 well within the 40 s given.
t1=$(date +%s.%N)
docker stop -t 40 "$name" >/dev/null
code="$(docker inspect --format '{{.State.ExitCode}}' "$name")"
stop_s="$(python3 -c "print(round($(date +%s.%N) - $t1, 2))")"
[ "$code" = 0 ] || fail "exit code after docker stop is $code, not 0"
docker logs "$name" 2>&1 | grep -q 'event=server_stopped' || fail "no server_stopped in the log"
echo "docker stop: exit 0 after ${stop_s} s"

bytes="$(docker image inspect --format '{{.Size}}' "$image")"
mb="$(( bytes / 1000000 ))"
echo "image $image: $mb MB (limit $max_mb MB)"
docker history --format '{{.Size}}\t{{.CreatedBy}}' "$image" | cut -c1-120
[ "$mb" -le "$max_mb" ] || { echo "FAIL: image is $mb MB, over $max_mb MB" >&2; exit 1; }
echo "docker: PASS"

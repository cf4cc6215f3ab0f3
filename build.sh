#!/usr/bin/env bash
# DistLock's entry point on a fresh machine that has only the .NET SDK.
#   ./build.sh test   install redis-server if missing, then run every test
#   ./build.sh demo   distlock demo: worker processes contend for one lock, on an embedded
#                     server unless --redis HOST:PORT is given (extra arguments go to the demo)
set -euo pipefail
cd "$(dirname "$0")"

ensure_redis() {
  if command -v redis-server >/dev/null 2>&1; then
    return
  fi
  echo "redis-server not found: installing the Debian package redis-server" >&2
  local sudo=""
  if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq redis-server >/dev/null
  # The package starts a system service on port 6379; the tests start their own servers.
  $sudo systemctl disable --now redis-server >/dev/null 2>&1 || true
}

case "${1:-}" in
  test)
    shift
    ensure_redis
    results=$(mktemp -d)
    status=0
    # One test project at a time (-m:1): they start processes and servers of their own, and on a
    # 2-core machine running them side by side turns timeouts into noise.
    dotnet test DistLock.slnx --configuration Release -m:1 --logger trx --results-directory "$results" "$@" || status=$?
    # One closing line over every test project: "N passed, N failed".
    cat "$results"/*.trx 2>/dev/null | grep -o '<Counters [^>]*' | awk '
      { for (i = 1; i <= NF; i++) { split($i, kv, "=\""); gsub(/"/, "", kv[2]);
          if (kv[1] == "passed") p += kv[2]; if (kv[1] == "failed") f += kv[2] } }
      END { printf "%d passed, %d failed\n", p, f }'
    rm -rf "$results"
    exit "$status"
    ;;
  demo)
    shift
    # The embedded server (Garnet) needs nothing installed; --redis points it at a real Redis.
    dotnet run --project src/DistLock.Cli --configuration Release -- demo "$@"
    ;;
  *)
    echo "usage: ./build.sh test|demo [args]" >&2
    exit 2
    ;;
esac

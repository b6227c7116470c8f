#!/usr/bin/env bash
# N locator instances (gunicorn) on consecutive loopback ports, Debian's nginx
# balancing across them, all on one register (LOCATOR_DATABASE_URL, PostGIS).
#
#   LOCATOR_DATABASE_URL=postgresql://locator:…@db-host/locator deploy/run.sh -n 3 -p 8001 -l 8000
#
# Options: -n instances (2), -p first instance port (8001), -l nginx port (8000),
# -b bind address (127.0.0.1), -d run folder for configs, logs and pids (kept;
# default: a temporary folder, removed on exit). WEB_WORKERS (2) and WEB_THREADS (4) size each instance.
# LOCATOR_PROXY_FIX_X_FOR defaults to 1 here (nginx is the one trusted proxy: the app
# sees each client's own address and scheme). Every other LOCATOR_* variable reaches the app unchanged. Runs in the
# foreground; Ctrl-C or SIGTERM stops nginx and every instance. Prints
# "ready: http://…" once nginx and every instance answer.
# An instance that exits (gunicorn halts it when a worker cannot boot, e.g. the database is down and no
# local snapshot exists yet) is started again after 1, 2, 4, 5, 5 … s while nginx and the other instances keep
# serving (nginx stops sending to it after max_fails errors); only nginx exiting stops the whole script.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
N=2 BASE=8001 LISTEN=8000 BIND=127.0.0.1 RUN=""
while getopts "n:p:l:b:d:h" opt; do
  case $opt in
    n) N=$OPTARG ;; p) BASE=$OPTARG ;; l) LISTEN=$OPTARG ;; b) BIND=$OPTARG ;; d) RUN=$OPTARG ;;
    *) sed -n '2,17p' "$0"; exit 2 ;;
  esac
done
VENV_BIN=${VENV_BIN:-$ROOT/.venv/bin}
NGINX=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
[ -x "$NGINX" ] || { echo "deploy/run.sh: nginx not found (apt-get install nginx)" >&2; exit 2; }
[ -x "$VENV_BIN/gunicorn" ] || { echo "deploy/run.sh: $VENV_BIN/gunicorn not found (make test installs it)" >&2; exit 2; }
if [ -z "${LOCATOR_DATABASE_URL:-}" ]; then
  echo "deploy/run.sh: warning: LOCATOR_DATABASE_URL is not set; the instances share the SQLite file" \
       "of the instance folder, which works on one machine only" >&2
fi
export LOCATOR_PROXY_FIX_X_FOR=${LOCATOR_PROXY_FIX_X_FOR:-1}
made_run=""
[ -n "$RUN" ] || { RUN=$(mktemp -d /tmp/locator-deploy.XXXXXX); made_run=1; }
mkdir -p "$RUN/tmp"
chmod 755 "$RUN"

pids=()
stop() {
  trap - EXIT INT TERM
  touch "$RUN/stopping"
  kill "$(cat "$RUN/nginx.pid" 2>/dev/null)" 2>/dev/null || true
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ -z "$made_run" ] || rm -rf "$RUN"  # a temporary run folder goes; one given with -d stays
}
trap stop EXIT
trap 'exit 0' INT TERM

# A one-shot start first: migrations and (on an empty register) the seed run once, here.
"$VENV_BIN/python" -c "from locator import create_app; create_app()" >/dev/null

rm -f "$RUN/stopping"
# One instance, started again whenever it exits, until the script stops (a subshell per instance; it
# passes SIGTERM on to its gunicorn, which finishes the requests in flight).
supervise() {
  local port=$1 delay=1 child rc
  trap 'kill "$child" 2>/dev/null; wait "$child" 2>/dev/null; exit 0' TERM INT
  while [ ! -e "$RUN/stopping" ]; do
    # the same worker and hooks as `locator serve`: a thread per request only once its headers are in;
    # the register loaded once in the master and shared by the forked workers
    "$VENV_BIN/gunicorn" --bind "$BIND:$port" --workers "${WEB_WORKERS:-2}" --threads "${WEB_THREADS:-4}" \
      --worker-class locator.web.worker.HeaderBufferingWorker --config python:locator.cli.gunicorn_hooks --timeout 30 \
      --chdir "$ROOT" --log-level warning --error-logfile "$RUN/instance-$port.log" "locator:create_app()" &
    child=$!
    started=$SECONDS
    rc=0; wait "$child" || rc=$?
    [ ! -e "$RUN/stopping" ] || break
    [ $((SECONDS - started)) -lt 60 ] || delay=1  # it ran a while: a fresh failure, start again soon
    echo "deploy/run.sh: instance $port exited (status $rc); starting it again in ${delay} s" >&2
    echo "$(date -u +%FT%TZ) restart $port status $rc" >> "$RUN/restarts.log"
    sleep "$delay" & wait $! || true
    delay=$((delay * 2 > 5 ? 5 : delay * 2))
  done
}

upstreams=""
for ((i = 0; i < N; i++)); do
  port=$((BASE + i))
  supervise "$port" &
  pids+=($!)
  upstreams+="        server $BIND:$port max_fails=2 fail_timeout=5s;"$'\n'
done

user=""
[ "$(id -u)" = 0 ] && user="user nobody nogroup;"  # nginx's workers never run as root
awk -v run="$RUN" -v listen="$BIND:$LISTEN" -v user="$user" -v ups="${upstreams%$'\n'}" '
  { gsub("@RUN@", run); gsub("@LISTEN@", listen); gsub("@USER@", user); gsub("@UPSTREAMS@", ups); print }
' "$ROOT/deploy/nginx.conf.template" > "$RUN/nginx.conf"
"$NGINX" -t -q -c "$RUN/nginx.conf" -p "$RUN" -g "daemon off;"
"$NGINX" -c "$RUN/nginx.conf" -p "$RUN" -g "daemon off;" &
nginx_pid=$!
pids+=($nginx_pid)

ready() { PIDS="${pids[*]}" "$VENV_BIN/python" - "$@" <<'PY'
import os, sys, time, urllib.request
deadline = time.monotonic() + 120
for url in sys.argv[1:]:
    while True:
        for pid in os.environ["PIDS"].split():
            if not os.path.exists(f"/proc/{pid}") or open(f"/proc/{pid}/stat").read().split()[2] == "Z":
                sys.exit(f"deploy/run.sh: process {pid} exited before {url} was ready (see the run folder's logs)")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if time.monotonic() > deadline:
            sys.exit(f"deploy/run.sh: {url} not ready in 120 s")
        time.sleep(0.1)
PY
}
urls=()
for ((i = 0; i < N; i++)); do urls+=("http://$BIND:$((BASE + i))/readyz"); done
ready "${urls[@]}" "http://$BIND:$LISTEN/readyz"
echo "ready: http://$BIND:$LISTEN/ -> $N instances on ports $BASE-$((BASE + N - 1)); run folder $RUN"
wait "$nginx_pid" || true  # instances restart themselves; nginx exiting ends the deployment
echo "deploy/run.sh: nginx exited; stopping" >&2
exit 1

#!/usr/bin/env bash
# Render the systemd units and the log rotation of deploy/ for this checkout.
#
#   deploy/install-systemd.sh [-u USER] [-g GROUP] [-l LOGDIR] [-o OUTDIR]
#
# Defaults: user and group `locator`, logs in /var/log/locator, units written to
# /etc/systemd/system and the rotation to /etc/logrotate.d/locator. With -o, everything
# is written to OUTDIR instead (to inspect it, or for `systemd-analyze verify`), and
# nothing on the system is touched. Then, as root:
#   systemctl daemon-reload && systemctl enable --now locator@8001 locator@8002 locator.target
# and put nginx in front (deploy/nginx.conf.template shows the proxy settings).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
USER_=locator GROUP_=locator LOGDIR=/var/log/locator OUT=""
while getopts "u:g:l:o:h" opt; do
  case $opt in
    u) USER_=$OPTARG ;; g) GROUP_=$OPTARG ;; l) LOGDIR=$OPTARG ;; o) OUT=$OPTARG ;;
    *) sed -n '2,12p' "$0"; exit 2 ;;
  esac
done
render() {
  sed -e "s|@ROOT@|$ROOT|g" -e "s|@USER@|$USER_|g" -e "s|@GROUP@|$GROUP_|g" -e "s|@LOGDIR@|$LOGDIR|g" "$1"
}
if [ -n "$OUT" ]; then
  mkdir -p "$OUT"
  for unit in "$ROOT"/deploy/systemd/*; do render "$unit" > "$OUT/$(basename "$unit")"; done
  render "$ROOT/deploy/logrotate.conf" > "$OUT/logrotate-locator"
  echo "written to $OUT"
  exit 0
fi
[ "$(id -u)" = 0 ] || { echo "deploy/install-systemd.sh: run as root, or pass -o OUTDIR" >&2; exit 2; }
id "$USER_" >/dev/null 2>&1 || { echo "deploy/install-systemd.sh: no user $USER_ (useradd --system $USER_)" >&2; exit 2; }
install -d -o "$USER_" -g "$GROUP_" -m 0750 "$LOGDIR" "$ROOT/instance"
for unit in "$ROOT"/deploy/systemd/*; do render "$unit" > "/etc/systemd/system/$(basename "$unit")"; done
render "$ROOT/deploy/logrotate.conf" > /etc/logrotate.d/locator
systemctl daemon-reload
echo "installed; now: systemctl enable --now locator@8001 locator@8002 locator.target"

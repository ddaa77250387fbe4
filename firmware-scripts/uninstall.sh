#!/usr/bin/env bash
# Removes the EdgeLoop agent installed by install.sh. Keeps the prediction buffer
# (/var/lib/edgeloop) and the config (/etc/edgeloop) unless --purge, so a reinstall picks up
# where the device left off: unsynced predictions still reach the fleet. Safe to run again.
set -Eeuo pipefail

usage() {
  cat <<'EOF'
usage: sudo firmware-scripts/uninstall.sh [--purge] [--root DIR]

  --purge      also delete /var/lib/edgeloop (unsynced predictions, models), /etc/edgeloop and
               the edgeloop system user
  --root DIR   remove from a staging root made with install.sh --root (no systemctl, no userdel)
  -h, --help   this help
EOF
}

say() { printf '[edgeloop uninstall] %s\n' "$*"; }
die() { printf '[edgeloop uninstall] error: %s\n' "$*" >&2; exit 1; }
would() { say "skipped with --root, would run: $*"; }
trap 'die "unexpected failure at line $LINENO; fix the cause above and re-run (the uninstaller is idempotent)"' ERR

UNIT_NAME=edgeloop-agent.service
USER_NAME=edgeloop
R="" STAGED=0 PURGE=0

while [[ $# -gt 0 ]]; do
  case $1 in
    --purge) PURGE=1; shift ;;
    --root)
      [[ $# -ge 2 && -n $2 ]] || die "--root needs a directory (see --help)"
      [[ -d $2 ]] || die "--root $2 is not a directory"
      R=$(cd "$2" && pwd) STAGED=1
      [[ $R != / ]] || R=""
      shift 2
      ;;
    -h | --help) usage; exit 0 ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
done

if [[ $STAGED -eq 0 && $(id -u) -ne 0 ]]; then
  die "run as root (sudo $0 ...), or pass --root DIR for a staging root"
fi

# Stop before deleting the code the service runs from.
if [[ $STAGED -eq 1 ]]; then
  would "systemctl disable --now $UNIT_NAME"
elif command -v systemctl >/dev/null 2>&1 && systemctl cat "$UNIT_NAME" >/dev/null 2>&1; then
  say "stopping and disabling $UNIT_NAME (the agent flushes its buffer on SIGTERM)"
  systemctl disable --now --quiet "$UNIT_NAME" || die "could not stop $UNIT_NAME; check: systemctl status $UNIT_NAME"
else
  say "$UNIT_NAME is not installed in systemd; nothing to stop"
fi

say "removing $R/etc/systemd/system/$UNIT_NAME and $R/opt/edgeloop"
rm -f "$R/etc/systemd/system/$UNIT_NAME"
rm -rf "$R/opt/edgeloop"
if [[ $STAGED -eq 1 ]]; then
  would "systemctl daemon-reload"
elif command -v systemctl >/dev/null 2>&1; then
  systemctl daemon-reload
fi

if [[ $PURGE -eq 0 ]]; then
  say "kept $R/var/lib/edgeloop (buffer, models) and $R/etc/edgeloop (config) and the user $USER_NAME; re-run with --purge to delete them"
  say "done"
  exit 0
fi

say "purging $R/var/lib/edgeloop and $R/etc/edgeloop (unsynced predictions are lost)"
rm -rf "$R/var/lib/edgeloop" "$R/etc/edgeloop"
if [[ $STAGED -eq 1 ]]; then
  would "userdel $USER_NAME"
elif id -u "$USER_NAME" >/dev/null 2>&1; then
  # userdel also removes the user's own group (useradd --user-group made it).
  userdel "$USER_NAME" || die "could not delete the user $USER_NAME (see above); remove it with: userdel $USER_NAME"
  say "deleted the system user $USER_NAME"
fi
say "done"

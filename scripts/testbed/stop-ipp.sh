#!/bin/bash
# stop-ipp.sh [STATE_DIR] - stop ippeveprinter and its private dbus-daemon
D=${1:-/tmp/rds-testbed/ipp}
for f in "$D/ippeveprinter.pid" "$D/dbus.pid"; do
  [ -f "$f" ] || continue
  P=$(cat "$f"); kill "$P" 2>/dev/null
  for i in $(seq 1 100); do kill -0 "$P" 2>/dev/null || break; sleep 0.05; done
  rm -f "$f"
done
exit 0

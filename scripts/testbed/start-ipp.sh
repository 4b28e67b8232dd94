#!/bin/bash
# start-ipp.sh [STATE_DIR] - run CUPS' ippeveprinter as a simulated IPP Everywhere
# printer on localhost:IPP_PORT (binds 127.0.0.1 and ::1 only).
#   needs: apt package cups-ipp-utils (and dbus-daemon; install-deps.sh installs both)
#   env:   IPP_PORT (default 8631), IPP_NAME (default "Test Printer"), IPP_MAKE, IPP_MODEL
# Pitfalls:
# - ippeveprinter 2.4.2 (Debian 12) is built with Avahi and aborts without a D-Bus system
#   bus: a private dbus-daemon is started and passed via DBUS_SYSTEM_BUS_ADDRESS.
# - "-r off" disables DNS-SD registration (no avahi-daemon, nothing multicast).
# - "-n localhost" (not 127.0.0.1) makes it bind loopback v4+v6; with -n 127.0.0.1 it dies
#   with "Unable to create IPv6 listener".
# Change supplies at run time (a state change for the tests):
#   curl 'http://localhost:PORT/supplies?supply0=95&supply1=3'
set -eu
D=${1:-/tmp/rds-testbed/ipp}
PORT=${IPP_PORT:-8631}
NAME=${IPP_NAME:-Test Printer}
for b in ippeveprinter dbus-daemon; do
  command -v "$b" >/dev/null || {
    echo "start-ipp.sh: '$b' not found; run scripts/testbed/install-deps.sh (as root)" >&2; exit 127; }
done
mkdir -p "$D/spool" "$D/home"
D=$(cd "$D" && pwd)
dbus-daemon --session --address="unix:path=$D/bus" --fork --print-pid > "$D/dbus.pid"
HOME="$D/home" DBUS_SYSTEM_BUS_ADDRESS="unix:path=$D/bus" \
  ippeveprinter -p "$PORT" -n localhost -r off -d "$D/spool" \
    -M "${IPP_MAKE:-SpikeCo}" -m "${IPP_MODEL:-LaserJet Sim}" "$NAME" \
    </dev/null >>"$D/ippeveprinter.log" 2>&1 &
echo $! > "$D/ippeveprinter.pid"
for i in $(seq 1 200); do
  (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
  kill -0 "$(cat "$D/ippeveprinter.pid")" 2>/dev/null || { cat "$D/ippeveprinter.log" >&2; exit 1; }
  sleep 0.05
done
(exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null || { echo "start-ipp.sh: nothing listens on $PORT" >&2; cat "$D/ippeveprinter.log" >&2; exit 1; }
echo "ippeveprinter pid $(cat "$D/ippeveprinter.pid") at ipp://localhost:$PORT/ipp/print"

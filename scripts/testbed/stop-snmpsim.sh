#!/bin/bash
# stop-snmpsim.sh [STATE_DIR] - stop the snmpsimd started by start-snmpsim.sh
export PATH="$PATH:/usr/sbin:/sbin"
# alive PID: exists and is not a zombie (kill -0 succeeds on a zombie)
alive() {
  s=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)
  [ -n "$s" ] && [ "$s" != Z ]
}
D=${1:-/tmp/rds-testbed/snmpsim}
F="$D/cache/snmpsimd.pid"
[ -f "$F" ] || exit 0
P=$(cat "$F"); kill "$P" 2>/dev/null
for i in $(seq 1 100); do alive "$P" || break; sleep 0.05; done
rm -f "$F"

#!/bin/bash
# stop-snmp.sh [STATE_DIR] - stop the snmpd started by start-snmp.sh (by its pid file)
export PATH="$PATH:/usr/sbin:/sbin"
# alive PID: exists and is not a zombie (kill -0 succeeds on a zombie)
alive() {
  s=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)
  [ -n "$s" ] && [ "$s" != Z ]
}
D=${1:-/tmp/rds-testbed/snmp}
[ -f "$D/snmpd.pid" ] || exit 0
P=$(cat "$D/snmpd.pid")
kill "$P" 2>/dev/null
for i in $(seq 1 100); do alive "$P" || break; sleep 0.05; done
rm -f "$D/snmpd.pid"

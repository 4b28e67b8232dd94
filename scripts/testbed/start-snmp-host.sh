#!/bin/bash
# start-snmp-host.sh - run a real net-snmp snmpd that serves THIS machine's
# HOST-RESOURCES-MIB (RFC 2790: hrStorage, hrDevice/hrProcessor, hrSWRun,
# hrSWInstalled) like a PC or server would, on one or more loopback addresses.
# hrSystem (1.3.6.1.2.1.25.1: uptime, date, users, processes) is served from a
# .snmprec data file by snmp-pass-persist.mjs instead of snmpd's own module, so a
# test can make the uptime go back (a restart) by rewriting that file.
#
#   usage: start-snmp-host.sh STATE_DIR [SYSTEM.snmprec]   (needs: apt install snmpd)
#   env:   SNMP_PORT (default 1163), SNMP_COMMUNITY (default public),
#          SNMP_ADDRESSES (default 127.0.0.1; comma list of 127.x addresses only)
# Prints the snmpd PID; stop with stop-snmp.sh STATE_DIR.
# hrProcessorLoad (a one-minute average) appears only after snmpd ran a minute.
set -eu
export PATH="$PATH:/usr/sbin:/sbin"
for b in snmpd node; do
  command -v "$b" >/dev/null || {
    echo "start-snmp-host.sh: '$b' not found; run scripts/testbed/install-deps.sh (as root)" >&2; exit 127; }
done
HERE=$(cd "$(dirname "$0")" && pwd)
D=${1:?usage: start-snmp-host.sh STATE_DIR [SYSTEM.snmprec]}
mkdir -p "$D/persist"
D=$(cd "$D" && pwd)
DATA=${2:-$D/system.snmprec}
if [ ! -f "$DATA" ]; then
  up=$(cut -d' ' -f1 /proc/uptime | tr -d .)
  printf '1.3.6.1.2.1.25.1.1.0|67|%s\n1.3.6.1.2.1.25.1.5.0|66|1\n1.3.6.1.2.1.25.1.6.0|66|100\n' "$up" > "$DATA"
fi
DATA=$(cd "$(dirname "$DATA")" && pwd)/$(basename "$DATA")
PORT=${SNMP_PORT:-1163}
COMMUNITY=${SNMP_COMMUNITY:-public}
ADDRESSES=${SNMP_ADDRESSES:-127.0.0.1}
NODE=$(command -v node)
listen=""
for a in ${ADDRESSES//,/ }; do
  case "$a" in 127.*) ;; *) echo "start-snmp-host.sh: $a is not a loopback address" >&2; exit 2;; esac
  listen="${listen:+$listen,}udp:$a:$PORT"
done

cat > "$D/snmpd.conf" <<EOF2
agentAddress $listen
rocommunity $COMMUNITY 127.0.0.0/8
sysDescr    Linux test host (rds host-resources testbed)
sysName     rds-test-host
sysContact  test@example.test
sysLocation test lab
sysServices 72
dontLogTCPWrappersConnects yes
pass_persist .1.3.6.1.2.1.25.1 $NODE $HERE/snmp-pass-persist.mjs $DATA .1.3.6.1.2.1.25.1
EOF2

rm -f "$D/snmpd.pid"
# -I -hr_system: hrSystem comes from the data file (see above); everything else is real
SNMP_PERSISTENT_DIR="$D/persist" MIBS= \
  snmpd -C -c "$D/snmpd.conf" -Lf "$D/snmpd.log" -p "$D/snmpd.pid" -I -hr_system \
  </dev/null >/dev/null 2>&1

for i in $(seq 1 400); do [ -s "$D/snmpd.pid" ] && break; sleep 0.05; done
[ -s "$D/snmpd.pid" ] || { echo "snmpd did not start:" >&2; cat "$D/snmpd.log" >&2; exit 1; }
echo "snmpd pid $(cat "$D/snmpd.pid") on $listen community $COMMUNITY system data $DATA"

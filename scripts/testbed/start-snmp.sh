#!/bin/bash
# start-snmp.sh - run a real net-snmp snmpd on 127.0.0.1:PORT that impersonates
# a printer: Printer-MIB (1.3.6.1.2.1.43) and the printer parts of
# HOST-RESOURCES-MIB (hrDeviceTable 25.3.2, hrPrinterTable 25.3.5) are served
# by snmp-pass-persist.mjs from a .snmprec data file that is re-read whenever
# it changes (rewrite it to change values at run time; use write+rename).
#
#   usage: start-snmp.sh [STATE_DIR] [DATAFILE]   (needs: apt install snmpd)
#   env:   SNMP_PORT (default 1161), SNMP_COMMUNITY (default public),
#          SNMP_ADDRESSES (default 127.0.0.1; comma list of 127.x addresses only)
# Prints the snmpd PID; stop with stop-snmp.sh STATE_DIR.
# Pitfalls: without "-I -hr_device,..." snmpd's own host-resources modules hide
# the printer values; set SNMP_PERSISTENT_DIR (else it writes /var/lib/snmp);
# give the port in one place only (agentAddress, not also on the command line).
set -eu
export PATH="$PATH:/usr/sbin:/sbin"
for b in snmpd node; do
  command -v "$b" >/dev/null || {
    echo "start-snmp.sh: '$b' not found; run scripts/testbed/install-deps.sh (as root)" >&2; exit 127; }
done
HERE=$(cd "$(dirname "$0")" && pwd)
D=${1:-/tmp/rds-testbed/snmp}
mkdir -p "$D/persist"
D=$(cd "$D" && pwd)
DATA=${2:-$D/printer.snmprec}
[ -f "$DATA" ] || cp "$HERE/printer.snmprec" "$DATA"
DATA=$(cd "$(dirname "$DATA")" && pwd)/$(basename "$DATA")
PORT=${SNMP_PORT:-1161}
COMMUNITY=${SNMP_COMMUNITY:-public}
ADDRESSES=${SNMP_ADDRESSES:-127.0.0.1}
listen=""
for a in ${ADDRESSES//,/ }; do
  case "$a" in 127.*) ;; *) echo "start-snmp.sh: $a is not a loopback address" >&2; exit 2;; esac
  listen="${listen:+$listen,}udp:$a:$PORT"
done
NODE=$(command -v node)
PP="$NODE $HERE/snmp-pass-persist.mjs $DATA"

sysval() { grep -E "^1\.3\.6\.1\.2\.1\.1\.$1\.0\|" "$DATA" | head -n1 | cut -d'|' -f3-; }

cat > "$D/snmpd.conf" <<EOF
agentAddress $listen
rocommunity $COMMUNITY 127.0.0.0/8
sysDescr    $(sysval 1)
sysName     $(sysval 5)
sysObjectID .$(sysval 2)
sysContact  test@example.test
sysLocation test lab
sysServices 72
dontLogTCPWrappersConnects yes
pass_persist .1.3.6.1.2.1.43       $PP .1.3.6.1.2.1.43
pass_persist .1.3.6.1.2.1.25.3.2   $PP .1.3.6.1.2.1.25.3.2
pass_persist .1.3.6.1.2.1.25.3.5   $PP .1.3.6.1.2.1.25.3.5
EOF

rm -f "$D/snmpd.pid"
# -C: ignore /etc/snmp; -Lf: log file; -p: pid file (snmpd daemonizes itself)
# SNMP_PERSISTENT_DIR: keep snmpd from writing /var/lib/snmp
# MIBS= : don't try to load (non-free, absent) MIB text files
# -I -...: drop snmpd's own hrDevice/hrPrinter implementations, which would
#          otherwise shadow our pass_persist for 25.3.2 / 25.3.5 with the
#          CI machine's CPUs and NICs
SNMP_PERSISTENT_DIR="$D/persist" MIBS= \
  snmpd -C -c "$D/snmpd.conf" -Lf "$D/snmpd.log" -p "$D/snmpd.pid" \
  -I -hr_device,hr_disk,hr_network,hr_other,hr_partition,hr_print,hr_proc,hrh_filesys \
  </dev/null >/dev/null 2>&1

for i in $(seq 1 400); do [ -s "$D/snmpd.pid" ] && break; sleep 0.05; done
[ -s "$D/snmpd.pid" ] || { echo "snmpd did not start:" >&2; cat "$D/snmpd.log" >&2; exit 1; }
echo "snmpd pid $(cat "$D/snmpd.pid") on $listen community $COMMUNITY data $DATA"

#!/bin/bash
# start-snmpsim.sh [STATE_DIR] [DATA_DIR] - serve every DATA_DIR/<name>.snmprec as
# a separate simulated SNMP agent on ONE port, selected by community "<name>".
#   needs: apt install snmpsim (Debian 12: snmpsim 0.4.5, python3-pysnmp4)
#   env:   SNMPSIM_PORT (default 1162), SNMPSIM_LOG (null|file, default null)
# Runtime changes: rewrite DATA_DIR/<name>.snmprec, then set its mtime >= 2 s
# in the future (touch -d '+2 seconds' FILE); snmpsim compares whole-second
# mtimes of data file vs. its index and silently serves stale data otherwise.
# Pitfalls: snmpsimd refuses to run as root (it drops to nobody), so the cache
# dir must be writable by nobody and every parent of STATE_DIR/DATA_DIR must be
# enterable by nobody (mkdtemp gives 0700).
set -eu
export PATH="$PATH:/usr/sbin:/sbin"
for b in snmpsimd snmpget; do
  command -v "$b" >/dev/null || {
    echo "start-snmpsim.sh: '$b' not found; run scripts/testbed/install-deps.sh (as root)" >&2; exit 127; }
done
D=${1:-/tmp/rds-testbed/snmpsim}
DATA=${2:-$D/data}
PORT=${SNMPSIM_PORT:-1162}
mkdir -p "$D/cache" "$DATA"
D=$(cd "$D" && pwd); DATA=$(cd "$DATA" && pwd)
chmod 0755 "$D" "$DATA"
for dir in "$D" "$DATA"; do
  p=$(dirname "$dir")
  while [ "$p" != / ]; do
    if [ "$(( 0$(stat -c %a "$p") & 01 ))" = 0 ]; then
      echo "start-snmpsim.sh: chmod o+x $p (user nobody must traverse it)" >&2
      chmod o+x "$p"
    fi
    p=$(dirname "$p")
  done
done
ls "$DATA"/*.snmprec >/dev/null 2>&1 || { echo "start-snmpsim.sh: no .snmprec files in $DATA" >&2; exit 1; }
chmod -R a+rX "$DATA"
# snmpsimd refuses to run as root; it drops to nobody, so cache (index .dbm
# files), pid file and log must be writable by nobody
chown nobody:nogroup "$D/cache"
LOG=null; [ "${SNMPSIM_LOG:-null}" = file ] && LOG="file:$D/cache/snmpsimd.log"
rm -f "$D/cache/snmpsimd.pid"
snmpsimd --data-dir="$DATA" --cache-dir="$D/cache" \
  --agent-udpv4-endpoint="127.0.0.1:$PORT" \
  --process-user=nobody --process-group=nogroup \
  --logging-method="$LOG" --daemonize --pid-file="$D/cache/snmpsimd.pid" \
  </dev/null >/dev/null 2>&1
# wait for the pid file, then for the agent to answer (first data file's community)
first=$(cd "$DATA" && ls *.snmprec | head -n1); first=${first%.snmprec}
for i in $(seq 1 400); do [ -s "$D/cache/snmpsimd.pid" ] && break; sleep 0.05; done
[ -s "$D/cache/snmpsimd.pid" ] || { echo "snmpsimd did not start (try SNMPSIM_LOG=file)" >&2; exit 1; }
up=0
for i in $(seq 1 200); do
  if SNMP_PERSISTENT_DIR="$D/cache" MIBS= snmpget -v2c -c "$first" -t 0.2 -r 0 \
      "127.0.0.1:$PORT" 1.3.6.1.2.1.1.1.0 >/dev/null 2>&1; then up=1; break; fi
  kill -0 "$(cat "$D/cache/snmpsimd.pid")" 2>/dev/null || break
  sleep 0.05
done
if [ $up = 0 ]; then
  echo "snmpsimd on udp:127.0.0.1:$PORT does not answer community '$first' (port taken? try SNMPSIM_LOG=file)" >&2
  kill "$(cat "$D/cache/snmpsimd.pid")" 2>/dev/null || true
  exit 1
fi
echo "snmpsimd pid $(cat "$D/cache/snmpsimd.pid") on udp:127.0.0.1:$PORT, communities: $(ls "$DATA" | grep -c '\.snmprec$') data files in $DATA"

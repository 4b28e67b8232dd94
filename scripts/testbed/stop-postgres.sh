#!/bin/bash
# stop-postgres.sh STATE_DIR - stop the test PostgreSQL started by start-postgres.sh
# (immediate: a test server's data is thrown away); KEEP_STATE=1 keeps STATE_DIR.
set -u
export PATH="$PATH:/usr/sbin:/sbin"
BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)}
D=${1:?usage: stop-postgres.sh STATE_DIR}
if [ -f "$D/data/postmaster.pid" ]; then
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$BIN/pg_ctl" -D "$D/data" -m immediate -w stop >/dev/null 2>&1
  else "$BIN/pg_ctl" -D "$D/data" -m immediate -w stop >/dev/null 2>&1; fi || true
fi
[ "${KEEP_STATE:-0}" = 1 ] || rm -rf "$D"

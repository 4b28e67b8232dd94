#!/bin/bash
# start-postgres.sh STATE_DIR - a private PostgreSQL (Debian 12: postgresql 15) for the
# tests: initdb in STATE_DIR/data, listening on 127.0.0.1:$PG_PORT only, its socket in
# STATE_DIR/sock, password (scram) auth over TCP for every user.
#   needs: apt install postgresql (binaries in /usr/lib/postgresql/<v>/bin; the system
#          cluster is neither configured nor started)
#   env:   PG_PORT (default 55432), PG_USER (superuser, default rds), PG_PASSWORD (required)
# Pitfalls: postgres refuses to run as root, so it runs as the user postgres (the Debian
# package makes it): STATE_DIR is chowned to it and every parent must be enterable (o+x).
# The cluster is C-collated and runs with fsync off: a test server, not a real one.
set -eu
export PATH="$PATH:/usr/sbin:/sbin"
BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)}
[ -n "$BIN" ] && [ -x "$BIN/initdb" ] || {
  echo "start-postgres.sh: PostgreSQL not found in /usr/lib/postgresql/*/bin; run scripts/testbed/install-deps.sh (as root)" >&2; exit 127; }
: "${PG_PASSWORD:?start-postgres.sh: set PG_PASSWORD}"
D=${1:?usage: start-postgres.sh STATE_DIR}
PORT=${PG_PORT:-55432}
USER_NAME=${PG_USER:-rds}
RUNAS=postgres
id "$RUNAS" >/dev/null 2>&1 || { echo "start-postgres.sh: no user '$RUNAS' (install the postgresql package)" >&2; exit 127; }
as() { if [ "$(id -u)" = 0 ]; then runuser -u "$RUNAS" -- "$@"; else "$@"; fi; }
mkdir -p "$D"
D=$(cd "$D" && pwd)
p=$(dirname "$D")
while [ "$p" != / ]; do
  if [ "$(( 0$(stat -c %a "$p") & 01 ))" = 0 ]; then chmod o+x "$p"; fi
  p=$(dirname "$p")
done
mkdir -p "$D/sock"
chmod 0700 "$D" "$D/sock"
umask 077
printf '%s\n' "$PG_PASSWORD" >"$D/pw"
[ "$(id -u)" = 0 ] && chown -R "$RUNAS" "$D"
as "$BIN/initdb" -D "$D/data" -U "$USER_NAME" --pwfile="$D/pw" --auth-local=scram-sha-256 --auth-host=scram-sha-256 \
  --locale=C --encoding=UTF8 -N >"$D/initdb.log" 2>&1 || { cat "$D/initdb.log" >&2; exit 1; }
rm -f "$D/pw"
as "$BIN/pg_ctl" -D "$D/data" -l "$D/postgres.log" -w -t 60 -o \
  "-p $PORT -k $D/sock -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
  start >/dev/null || { echo "start-postgres.sh: postgres did not start on 127.0.0.1:$PORT (port taken?)" >&2; tail -n 20 "$D/postgres.log" >&2; exit 1; }
echo "postgres $("$BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PORT (user $USER_NAME, data $D/data)"

#!/bin/bash
# stop-mail.sh [STATE_DIR] - stop the Postfix + Dovecot started by start-mail.sh
# (only the instances whose config lives in STATE_DIR; found by their pid files).
# Removes STATE_DIR afterwards unless KEEP_STATE=1.
#
# Both masters get SIGTERM; whatever is left of their process group after
# STOP_GRACE_MS (default 500) gets SIGKILL. A graceful stop is slow and buys
# nothing for a throw-away instance: `postfix stop` polls in 1 s steps and the
# Dovecot master sleeps 3-8 s on shutdown.
export PATH="$PATH:/usr/sbin:/sbin"
D=${1:-/tmp/rds-testbed/mail}
[ -d "$D" ] || exit 0
D=$(cd "$D" && pwd)
GRACE=$(( ${STOP_GRACE_MS:-500} / 50 ))

# alive PID: exists and is not a zombie (init here may reap late, and kill -0
# succeeds on a zombie)
alive() {
  s=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)
  [ -n "$s" ] && [ "$s" != Z ]
}

# stop_master PIDFILE: the pid must still be a master of THIS instance (its
# command line or environment names STATE_DIR), so a recycled pid is never hit
stop_master() {
  [ -f "$1" ] || return 0
  P=$(tr -d ' \n' < "$1")
  [ -n "$P" ] && alive "$P" || return 0
  cat "/proc/$P/cmdline" "/proc/$P/environ" 2>/dev/null | tr '\0' '\n' | grep -qF "$D" || return 0
  kill -TERM "$P" 2>/dev/null
  for _ in $(seq 1 "$GRACE"); do alive "$P" || return 0; sleep 0.05; done
  # both masters call setsid(): their process group id is their pid
  kill -KILL -- "-$P" 2>/dev/null
  for _ in $(seq 1 40); do alive "$P" || return 0; sleep 0.05; done
  echo "stop-mail.sh: pid $P (from $1) did not go away" >&2
  return 1
}
rc=0
stop_master "$D/spool/pid/master.pid" & p1=$!
stop_master "$D/dovecot-run/master.pid" & p2=$!
wait $p1 || rc=1
wait $p2 || rc=1
[ "${KEEP_STATE:-0}" = 1 ] || rm -rf "$D"
exit $rc

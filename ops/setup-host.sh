#!/bin/sh
# docs/deployment.md §1 as one script: run it as root on the host, once. It creates the
# `rds` user the systemd units and cron lines run as, the folders it must own, the host's
# config/keys/state (rds init, run AS that user so every file is its own), and the cron
# log folder. Tested by test/cli/deployment-guide.test.ts, which runs it as written.
#
#   RDS_ADDRESS=rds@center.example \
#   RDS_SMTP='smtps://rds%40center.example@mail.center.example:465' \
#   RDS_IMAP='imaps://rds%40center.example@mail.center.example:993' \
#   sh "$(npm root -g)/rds/ops/setup-host.sh"
#
# Optional: RDS_USER (rds), RDS_ETC (/etc/rds), RDS_VAR (/var/lib/rds), RDS_LOG_DIR
# (/var/log/rds), RDS_TLS_CA (a PEM of a private CA), RDS_KEY_PASSPHRASE (advised).
set -eu
: "${RDS_ADDRESS:?set RDS_ADDRESS, the host's mail address}"
: "${RDS_SMTP:?set RDS_SMTP, the submission URL (smtps://user@server:465)}"
: "${RDS_IMAP:?set RDS_IMAP, the mailbox URL (imaps://user@server:993)}"
user=${RDS_USER:-rds}
etc=${RDS_ETC:-/etc/rds}
var=${RDS_VAR:-/var/lib/rds}
logs=${RDS_LOG_DIR:-/var/log/rds}

# the system user (and its group) the units run as: User=rds, Group=rds
id -u "$user" >/dev/null 2>&1 || useradd --system --user-group --home-dir "$var" --shell /usr/sbin/nologin "$user"
# config and keys in $etc, the store in $var/state, cron's log in $logs: all the user's, 0700
install -d -m 0700 -o "$user" -g "$user" "$etc" "$var" "$logs"

set -- --role host --id HOST --address "$RDS_ADDRESS" --smtp "$RDS_SMTP" --imap "$RDS_IMAP" \
  --dir "$etc" --state-dir "$var/state"
[ -n "${RDS_TLS_CA:-}" ] && set -- "$@" --tls-ca "$RDS_TLS_CA"
# as the user, so config.json, keys/ and state/ are its own (0600/0700) from the start;
# runuser keeps the environment, so an exported RDS_KEY_PASSPHRASE reaches init (never argv)
runuser -u "$user" -- rds init "$@"

echo "host set up: RDS_CONFIG=$etc/config.json; check it with:"
echo "  runuser -u $user -- env RDS_CONFIG=$etc/config.json rds agents list"

#!/bin/bash
# start-mail.sh - start a throw-away Postfix + Dovecot pair on 127.0.0.1 only.
#
#   usage: start-mail.sh [STATE_DIR]         (default /tmp/rds-testbed/mail)
#   needs: root; apt packages postfix dovecot-imapd dovecot-lmtpd dovecot-pop3d openssl
#          (scripts/testbed/install-deps.sh installs them)
#
# Everything (config, queue, maildirs, logs, sockets, TLS cert) lives in
# STATE_DIR; nothing under /etc is modified and the system instances
# (if any) are not touched.  stop-mail.sh STATE_DIR tears it down.
#
# Ports (override with env vars):
#   SMTP_PORT   2525  plain SMTP, no auth needed from 127.0.0.1, STARTTLS offered
#   SUBMIT_PORT 2587  submission: AUTH PLAIN/LOGIN required, STARTTLS offered
#   SMTPS_PORT  2465  submission over implicit TLS, AUTH required
#   IMAP_PORT   2143  IMAP (STARTTLS offered, plaintext auth allowed)
#   IMAPS_PORT  2993  IMAP over implicit TLS
#   POP3_PORT   2110  POP3 (STLS offered, plaintext login allowed), same users and Maildirs
#   POP3S_PORT  2995  POP3 over implicit TLS
#   LMTP_PORT   2424  Dovecot LMTP (Postfix -> Dovecot; also usable directly)
#   AUTH_PORT   2412  Dovecot SASL for Postfix (internal)
# Users: MAIL_USERS (space separated local parts) @ MAIL_DOMAIN, all with
# password MAIL_PASSWORD (default: host agent1..agent20 @ example.test / secret).
#
# Pitfalls met while building this (each cost time):
# - Postfix prints nothing on error when stderr is not a terminal; on failure
#   this script re-runs `postfix check` under script(1) to show why. Its log
#   file must sit under maillog_file_prefixes.
# - Users postfix and mail must be able to enter every parent folder of
#   STATE_DIR (mkdtemp gives 0700): see the chmod o+x loop below.
# - Dovecot refuses to store mail as root: mail is owned by uid 8 (mail).
# - Daemons must not keep the caller's stdout/stderr open, or a Node spawn
#   waiting on "close" hangs: every daemon start below redirects its stdio.
set -eu
export PATH="$PATH:/usr/sbin:/sbin"

for b in postfix dovecot doveadm openssl; do
  command -v "$b" >/dev/null || {
    echo "start-mail.sh: '$b' not found; run scripts/testbed/install-deps.sh (as root)" >&2; exit 127; }
done
[ "$(id -u)" = 0 ] || { echo "start-mail.sh: must run as root" >&2; exit 1; }

D=${1:-/tmp/rds-testbed/mail}
SMTP_PORT=${SMTP_PORT:-2525}
SUBMIT_PORT=${SUBMIT_PORT:-2587}
SMTPS_PORT=${SMTPS_PORT:-2465}
IMAP_PORT=${IMAP_PORT:-2143}
IMAPS_PORT=${IMAPS_PORT:-2993}
POP3_PORT=${POP3_PORT:-2110}
POP3S_PORT=${POP3S_PORT:-2995}
LMTP_PORT=${LMTP_PORT:-2424}
AUTH_PORT=${AUTH_PORT:-2412}
MAIL_DOMAIN=${MAIL_DOMAIN:-example.test}
MAIL_PASSWORD=${MAIL_PASSWORD:-secret}
if [ -z "${MAIL_USERS:-}" ]; then
  MAIL_USERS="host"; i=1
  while [ $i -le 20 ]; do MAIL_USERS="$MAIL_USERS agent$i"; i=$((i+1)); done
fi
# Mail files are owned by the stock Debian "mail" user (uid 8, gid 8);
# Dovecot refuses to run mail processes as root.
VUSER=${VMAIL_USER:-mail}
VUID=$(id -u "$VUSER"); VGID=$(id -g "$VUSER")

mkdir -p "$D"
D=$(cd "$D" && pwd)
# Postfix (user postfix) and Dovecot mail processes (user mail) must be able
# to traverse every ancestor of $D; mkdtemp() dirs are 0700 -> add o+x there.
chmod 0755 "$D"
p=$(dirname "$D")
while [ "$p" != / ]; do
  if [ "$(( 0$(stat -c %a "$p") & 01 ))" = 0 ]; then
    echo "start-mail.sh: chmod o+x $p (postfix/mail users must traverse it)" >&2
    chmod o+x "$p"
  fi
  p=$(dirname "$p")
done
mkdir -p "$D/postfix" "$D/spool" "$D/pfdata" "$D/dovecot" "$D/dovecot-run" \
         "$D/dovecot-state" "$D/tls" "$D/mailboxes" "$D/log"
chown "$VUID:$VGID" "$D/mailboxes"
chown postfix:postfix "$D/pfdata"

# ---- self-signed TLS cert for localhost / 127.0.0.1 -----------------------
if [ ! -s "$D/tls/cert.pem" ]; then
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 \
    -keyout "$D/tls/key.pem" -out "$D/tls/cert.pem" \
    -subj "/CN=localhost" \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
    -addext "basicConstraints=critical,CA:TRUE" 2>/dev/null
  chmod 0644 "$D/tls/cert.pem"; chmod 0600 "$D/tls/key.pem"
fi

# ---- Dovecot: users ------------------------------------------------------
: > "$D/dovecot/users"
: > "$D/postfix/vmailbox"
for u in $MAIL_USERS; do
  echo "$u@$MAIL_DOMAIN:{PLAIN}$MAIL_PASSWORD::::::" >> "$D/dovecot/users"
  echo "$u@$MAIL_DOMAIN OK" >> "$D/postfix/vmailbox"
done
chmod 0644 "$D/dovecot/users"

# ---- Dovecot: config (self-contained, does not read /etc/dovecot) --------
cat > "$D/dovecot/dovecot.conf" <<EOF
instance_name = dovecot-test-$(echo "$D" | md5sum | cut -c1-8)
base_dir = $D/dovecot-run
state_dir = $D/dovecot-state
protocols = imap lmtp pop3
listen = 127.0.0.1
log_path = $D/log/dovecot.log
ssl = yes
ssl_cert = <$D/tls/cert.pem
ssl_key = <$D/tls/key.pem
ssl_dh = </usr/share/dovecot/dh.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
first_valid_uid = $VUID
last_valid_uid = $VUID
mail_location = maildir:~/Maildir
mail_fsync = never
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%Lu $D/dovecot/users
}
userdb {
  driver = passwd-file
  args = username_format=%Lu $D/dovecot/users
  default_fields = uid=$VUID gid=$VGID home=$D/mailboxes/%Ld/%Ln
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $IMAP_PORT
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $IMAPS_PORT
    ssl = yes
  }
}
service pop3-login {
  inet_listener pop3 {
    address = 127.0.0.1
    port = $POP3_PORT
  }
  inet_listener pop3s {
    address = 127.0.0.1
    port = $POP3S_PORT
    ssl = yes
  }
}
# Maildir UIDLs that stay the same across sessions and Dovecot restarts
pop3_uidl_format = %08Xu%08Xv
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = $LMTP_PORT
  }
}
service auth {
  inet_listener {
    address = 127.0.0.1
    port = $AUTH_PORT
  }
}
protocol lmtp {
  postmaster_address = postmaster@$MAIL_DOMAIN
}
EOF

# ---- Postfix: main.cf / master.cf in our own config_directory ------------
cat > "$D/postfix/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $D/spool
data_directory = $D/pfdata
meta_directory = /etc/postfix
maillog_file = $D/log/postfix.log
# postlogd refuses a maillog_file outside these prefixes (silently, see above)
maillog_file_prefixes = $D
myhostname = mail.$MAIL_DOMAIN
mydomain = $MAIL_DOMAIN
myorigin = \$mydomain
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relayhost =
# never try to deliver anywhere except our Dovecot
default_transport = error:outbound delivery disabled in test instance
relay_transport = error:outbound delivery disabled in test instance
virtual_mailbox_domains = $MAIL_DOMAIN
virtual_mailbox_maps = texthash:$D/postfix/vmailbox
virtual_transport = lmtp:inet:127.0.0.1:$LMTP_PORT
# test-friendly tuning
in_flow_delay = 0
smtpd_error_sleep_time = 0
biff = no
append_dot_mydomain = no
alias_maps =
alias_database =
local_recipient_maps =
readme_directory = no
# SASL via Dovecot over TCP (no socket permission games)
smtpd_sasl_type = dovecot
smtpd_sasl_path = inet:127.0.0.1:$AUTH_PORT
smtpd_sasl_auth_enable = no
smtpd_tls_cert_file = $D/tls/cert.pem
smtpd_tls_key_file = $D/tls/key.pem
smtpd_tls_security_level = may
smtp_tls_security_level = none
EOF

cat > "$D/postfix/master.cf" <<EOF
# service type  private unpriv  chroot  wakeup  maxproc command + args
127.0.0.1:$SMTP_PORT inet n - n - - smtpd
127.0.0.1:$SUBMIT_PORT inet n - n - - smtpd
  -o syslog_name=postfix/submission
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_tls_auth_only=no
  -o smtpd_client_restrictions=permit_sasl_authenticated,reject
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
127.0.0.1:$SMTPS_PORT inet n - n - - smtpd
  -o syslog_name=postfix/smtps
  -o smtpd_tls_wrappermode=yes
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_client_restrictions=permit_sasl_authenticated,reject
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
chmod 0644 "$D/postfix/main.cf" "$D/postfix/master.cf" "$D/postfix/vmailbox"

# ---- refuse to start if a port is taken ---------------------------------
# (otherwise the readiness check below would happily talk to someone else's
# server, e.g. a previous run that was killed before its teardown)
for p in $IMAP_PORT $IMAPS_PORT $POP3_PORT $POP3S_PORT $LMTP_PORT $AUTH_PORT $SMTP_PORT $SUBMIT_PORT $SMTPS_PORT; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
    echo "start-mail.sh: 127.0.0.1:$p is already in use (a testbed left running? stop it with stop-mail.sh STATE_DIR)" >&2
    exit 1
  fi
done

# ---- start ---------------------------------------------------------------
# daemons must not inherit our stdout/stderr (a caller reading our pipes
# until EOF, e.g. Node spawn + "close" event, would otherwise hang)
dovecot -c "$D/dovecot/dovecot.conf" </dev/null >>"$D/log/dovecot.stderr" 2>&1
postfix -c "$D/postfix" check </dev/null >/dev/null 2>&1 || true  # creates queue dirs (faster than letting start do it)
if ! postfix -c "$D/postfix" start </dev/null >>"$D/log/postfix.stderr" 2>&1; then
  echo "start-mail.sh: postfix did not start; postfix check says:" >&2
  if command -v script >/dev/null; then
    script -qc "postfix -c '$D/postfix' check" /dev/null </dev/null >&2 || true
  fi
  cat "$D/log/postfix.stderr" >&2
  doveadm -c "$D/dovecot/dovecot.conf" stop >/dev/null 2>&1 || true
  exit 1
fi

# ---- wait until every port answers ----------------------------------------
wait_port() {
  n=0
  until (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; do
    n=$((n+1))
    if [ $n -gt 600 ]; then
      echo "port $1 not up after 30 s; logs:" >&2
      tail -n 20 "$D"/log/* >&2
      exit 1
    fi
    sleep 0.05
  done
}
for p in $IMAP_PORT $IMAPS_PORT $POP3_PORT $POP3S_PORT $LMTP_PORT $AUTH_PORT $SMTP_PORT $SUBMIT_PORT $SMTPS_PORT; do
  wait_port "$p"
done
echo "mail servers up in $D (smtp $SMTP_PORT, submission $SUBMIT_PORT, smtps $SMTPS_PORT, imap $IMAP_PORT, imaps $IMAPS_PORT, pop3 $POP3_PORT, pop3s $POP3S_PORT)"

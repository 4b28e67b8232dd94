#!/bin/bash
# install-deps.sh - Debian 12 packages for the real-server tests (run as root).
#
#   postfix dovecot-imapd dovecot-lmtpd   mail: SMTP/submission -> LMTP -> IMAP
#   snmpd snmp snmpsim                    SNMP agent, snmpget, simulated printer fleet
#   openssl gnupg                         test TLS certificates, OpenPGP interop checks
#   dovecot-pop3d                         POP3 inbox (same Dovecot, same Maildirs)
#   cups-ipp-utils dbus                   ippeveprinter: a real IPP Everywhere printer
#   chromium                              headless browser for the HTML report tests
#   postgresql                            the host's PostgreSQL store (projects pg, cli-pg;
#                                         start-postgres.sh runs a private cluster)
#
# Idempotent: does nothing (no apt-get at all) when every binary is present.
# The system instances of postfix/dovecot/snmpd are neither configured nor
# started: the tests run private instances (see start-*.sh).
set -eu
export PATH="$PATH:/usr/sbin:/sbin"

PACKAGES="openssl gnupg postfix dovecot-imapd dovecot-lmtpd dovecot-pop3d snmpd snmp snmpsim cups-ipp-utils dbus chromium postgresql"
# binary (name on PATH, or absolute path) -> checked to decide whether to install
BINARIES="openssl gpg postfix dovecot doveadm /usr/lib/dovecot/imap /usr/lib/dovecot/lmtp /usr/lib/dovecot/pop3 snmpd snmpget snmpsimd ippeveprinter dbus-daemon chromium"

missing=""
for b in $BINARIES; do
  case "$b" in
    /*) [ -x "$b" ] || missing="$missing $b" ;;
    *) command -v "$b" >/dev/null 2>&1 || missing="$missing $b" ;;
  esac
done
# PostgreSQL's binaries are versioned (/usr/lib/postgresql/15/bin on Debian 12)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$missing postgresql(initdb)"
if [ -z "$missing" ]; then
  echo "install-deps.sh: all test server binaries present"
  exit 0
fi
echo "install-deps.sh: missing:$missing"
if [ "$(id -u)" != 0 ]; then
  echo "install-deps.sh: must run as root to install: apt-get install $PACKAGES" >&2
  exit 2
fi

export DEBIAN_FRONTEND=noninteractive
# Postfix: no debconf prompt and no /etc/postfix/main.cf (system instance stays unconfigured)
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
# don't let maintainer scripts start the *system* dovecot/snmpd/postfix (Docker images
# usually already ship this file; on a systemd VM we add it temporarily)
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
t0=$(date +%s)
apt-get update -qq
apt-get install -y -q --no-install-recommends $PACKAGES
echo "install-deps.sh: installed in $(( $(date +%s) - t0 )) s"

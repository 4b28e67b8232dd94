/** The end of `rds --help`: what a new administrator needs before any sub-command's help. */
export const ROOT_HELP = `
Examples:
  rds demo                                   the whole story on an embedded mail system
  rds init --role host --id HOST --address rds@center.example --smtp smtps://… --imap imaps://… --dir /etc/rds
  RDS_CONFIG=/etc/rds/config.json rds agents list
  rds pack-update --software-version 1.0.02-0 --script install.sh --module main.cgi=1.0.02:build/main.cgi -o u.rdsu
  rds push-all u.rdsu && rds verify --wait 30m
  rds outbox list                            mail still queued, refused for good, or sent lately
  rds doctor                                 check config, keys, mail servers and devices: ok/FAIL and the fix
  rds agents show AGENT0000007               one agent: versions, rollouts, why an install failed, open faults
  rds quarantine list                        mail the checks refused, and why
  rds supplies list --due 14d                what to ship: supplies forecast to run out within 14 days
  rds <command> --help                       options and examples of one command

Exit codes:
  0  done
  1  done, but something failed (an agent failed verification, an install rolled back,
     a mail was refused for good, …)
  2  usage or config error (also: SMTP login refused, TLS failed, not an SMTP port)
  3  transient: a mail server or device could not be reached, or deferred (4xx); nothing
     lost, the mail stays queued, try again
  4  rejected for security: bad signature, wrong sender, replay, tampered package, …

Config: --config FILE, else $RDS_CONFIG. Logs: one line per event on stderr (a timestamp
in front unless stderr is the systemd journal).
Docs: README.md, docs/deployment.md, docs/formats.md, docs/service.md and SECURITY.md in the package
(npm root -g)/rds/, and \`man rds\`.
`;

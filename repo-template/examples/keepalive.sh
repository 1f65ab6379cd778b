#!/bin/sh
# Example (adapt it): keep a published TUF repository alive from cron.
#
#   17 * * * *  /srv/signing-repo/examples/keepalive.sh
#
# 1. `trustroot online refresh` re-signs timestamp (and snapshot when due) with the online
#    key and switches the published tree atomically; it does nothing when nothing is due,
#    and fails at once if another refresh or a publish holds the repository lock.
# 2. `trustroot expiry --within 30d` alerts when a role needing a ceremony (root, targets,
#    delegated roles) expires within 30 days. Exit codes: 0 fine, 1 within the window,
#    3 already expired, 2 error.
# 3. `trustroot ceremony start --due` opens a signing round for the offline roles inside
#    their signing period (once: a round waiting for signatures is not duplicated). A
#    Sigstore payload or lint error in what it would stage opens no round: it prints the
#    findings and exits 1, and the alert below fires.
set -u
REPO="${TRUSTROOT_REPO:-/srv/signing-repo}"
ALERT="${TRUSTROOT_ALERT:-logger -t trustroot}"

if ! trustroot online refresh --repo "$REPO"; then
  $ALERT "trustroot online refresh failed in $REPO"
fi

trustroot expiry "$REPO" --within 30d
case $? in
  0) ;;
  1) $ALERT "a role of $REPO expires within 30 days: start a ceremony (trustroot ceremony start)" ;;
  3) $ALERT "a role of $REPO has EXPIRED: clients refuse the repository" ;;
  *) $ALERT "trustroot expiry could not read $REPO" ;;
esac

due=$(trustroot ceremony start --due --json --repo "$REPO") || $ALERT "trustroot ceremony start --due failed in $REPO"
case $due in
  *'"action": "opened"'*) $ALERT "a signing round is open in $REPO: keyholders, run trustroot ceremony request" ;;
esac

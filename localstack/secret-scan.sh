#!/usr/bin/env bash
# Secret scan, run by `make test` (localstack/test.sh) and so by CI: fails, naming file and line,
# when a secret (AWS keys, private keys, JWTs, the FCM service account or legacy server key, generic
# high-entropy tokens) is
#   1. in a tracked file, as it is in the working tree (so uncommitted edits count too), or
#   2. anywhere in the git history (every ref): a secret once committed stays readable there.
# Tool: gitleaks, built by localstack/setup.sh from the Go module proxy into .local/bin (pinned
# there); rules and the reasoned, narrow allowlist are in .gitleaks.toml at the repository root.
# Before scanning, a self-check plants fakes (an AWS key pair, a PEM private key, a JWT, a service
# account) in a throwaway git repository and requires both scans to report each one, with its file
# and line: a scanner that silently finds nothing fails.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$ROOT"

GITLEAKS="$LOCAL/bin/gitleaks"
CONFIG="$ROOT/.gitleaks.toml"
LEAKS=3 # gitleaks' exit status when it finds something; any other failure exits 1
start=$SECONDS

[ -x "$GITLEAKS" ] || die "secret scan: $GITLEAKS is missing: run localstack/setup.sh"
[ -f "$CONFIG" ] || die "secret scan: $CONFIG is missing"
# Exceptions go in .gitleaks.toml, each with its reason; a .gitleaksignore lists bare fingerprints.
if git ls-files --error-unmatch .gitleaksignore >/dev/null 2>&1; then
  die "secret scan: .gitleaksignore is tracked; put exceptions in .gitleaks.toml, with a reason"
fi

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
# One line per finding, never the secret itself.
cat >"$WORK/report.tmpl" <<'TMPL'
{{- range . }}{{ .File }}:{{ .StartLine }}: {{ .RuleID }}{{ with .Commit }} in commit {{ trunc 12 . }}{{ end }}
{{ end -}}
TMPL

# scan tree|history REPO REPORT: 0 when clean, 1 when something was found (lines in REPORT).
scan() {
  local mode=$1 repo=$2 report=$3 status=0
  local common=(--config "$CONFIG" --no-banner --no-color --redact --log-level error --exit-code "$LEAKS"
    --report-format template --report-template "$WORK/report.tmpl" --report-path "$report")
  if [ "$mode" = tree ]; then
    # The tracked files only (not target/, .local/ or other ignored or untracked files), copied so
    # gitleaks reports paths relative to the repository root.
    local tree; tree="$(mktemp -d -p "$WORK")"
    git -C "$repo" ls-files -z --cached | tar -C "$repo" --null --verbatim-files-from -T - --ignore-failed-read -cf - 2>/dev/null \
      | tar -C "$tree" -xf -
    (cd "$tree" && "$GITLEAKS" dir "${common[@]}" .) >"$report.log" 2>&1 || status=$?
  else
    "$GITLEAKS" git "${common[@]}" --log-opts="--all" "$repo" >"$report.log" 2>&1 || status=$?
  fi
  case $status in
    0) return 0 ;;
    "$LEAKS") [ -s "$report" ] || { cat "$report.log" >&2; die "secret scan: gitleaks found leaks but reported none"; }
              return 1 ;;
    *) cat "$report.log" >&2; die "secret scan: gitleaks failed ($mode scan of $repo, exit $status)" ;;
  esac
}

self_check() {
  local repo="$WORK/self-check" dashes="-----" mode
  git init -q "$repo"
  # Assembled here so that this script itself does not hold a key-shaped string.
  local fake_id="AKIA""Q3MZ7XRT2VWLK5NB" fake_sk="wJ8rTq2LmZ9xVb4Nc7Kd1""Fh6Gs3Pa5Ye0Ui8Oo2R"
  printf 'AWS_ACCESS_KEY_ID=%s\nAWS_SECRET_ACCESS_KEY=%s\n' "$fake_id" "$fake_sk" >"$repo/aws.env"
  {
    echo "${dashes}BEGIN RSA PRIVATE KEY${dashes}"
    printf 'weelo secret-scan self-check, not a key. %.0s' {1..12} | base64 -w 64
    echo
    echo "${dashes}END RSA PRIVATE KEY${dashes}"
  } >"$repo/dev.pem"
  b64url() { printf '%s' "$1" | base64 -w 0 | tr '+/' '-_' | tr -d '='; }
  printf 'Authorization: Bearer %s.%s.%s\n' "$(b64url '{"alg":"RS256","typ":"JWT","kid":"weelo-local-1"}')" \
    "$(b64url '{"sub":"self-check","aud":"weelo-local-app","exp":4102444800}')" \
    "$(b64url 'self-check signature, not a real one: 7f3a9c')" >"$repo/curl.txt"
  printf '{\n  "type": "%s",\n  "project_id": "self-check"\n}\n' service_account >"$repo/fcm.json"
  git -C "$repo" add aws.env dev.pem curl.txt fcm.json
  git -C "$repo" -c user.name=self-check -c user.email=self-check@localhost -c commit.gpgsign=false \
    commit -q -m "planted fake secrets"
  for mode in tree history; do
    if scan "$mode" "$repo" "$WORK/self-check.$mode"; then
      die "secret scan self-check: the $mode scan missed the planted fake secrets (gitleaks or .gitleaks.toml broken)"
    fi
    local expected
    for expected in "aws.env:1: aws-access-token" "aws.env:2: aws-secret-access-key" \
      "dev.pem:1: private-key" "dev.pem:1: private-key-header" "curl.txt:1: jwt" \
      "fcm.json:2: gcp-service-account"; do
      grep -qxE "$expected( in commit [0-9a-f]+)?" "$WORK/self-check.$mode" || {
        cat "$WORK/self-check.$mode" >&2
        die "secret scan self-check: the $mode scan did not report '$expected'"
      }
    done
  done
}

self_check

found=0
scan tree "$ROOT" "$WORK/tree" || found=1
scan history "$ROOT" "$WORK/history" || found=1
if [ "$found" = 1 ]; then
  {
    echo "secret scan: possible secrets found (file:line: rule):"
    [ -s "$WORK/tree" ] && { echo "  in tracked files:"; sed 's/^/    /' "$WORK/tree"; }
    [ -s "$WORK/history" ] && { echo "  in git history:"; sed 's/^/    /' "$WORK/history"; }
    echo "A real secret: revoke and rotate it, remove it, and if it was committed rewrite the history"
    echo "(every clone has a copy). Not a secret: add the narrowest allowlist entry, with its reason,"
    echo "to .gitleaks.toml. See a finding: .local/bin/gitleaks dir -c .gitleaks.toml -v FILE, or git show COMMIT."
  } >&2
  die "secret scan failed"
fi

files=$(git ls-files | wc -l)
commits=$(git rev-list --all --count)
shallow=""
[ "$(git rev-parse --is-shallow-repository)" = true ] && shallow=" (shallow clone: history incomplete)"
say "secret scan: no secrets in $files tracked files or $commits commits$shallow; self-check ok ($("$GITLEAKS" version), $((SECONDS - start)) s)"

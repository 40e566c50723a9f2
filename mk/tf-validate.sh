#!/usr/bin/env bash
# tf-validate.sh [PROVIDER_BINARY]
#
# `terraform init` + `terraform validate` of every module, environment and
# example against Floe's provider schema (source lxc/incus, mk/tf-cli-config.sh).
# Works on a copy in a temp dir: nothing is written into the checkout.
# Prints one line per directory and exits non-zero if any fails.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
[[ -f "$repo/scripts/env.sh" ]] && source "$repo/scripts/env.sh"
TERRAFORM="${TERRAFORM:-terraform}"
work="$(mktemp -d /tmp/floe-tf-validate.XXXXXX)"
trap 'rm -rf "$work"' EXIT
export TF_CLI_CONFIG_FILE
TF_CLI_CONFIG_FILE="$("$repo/mk/tf-cli-config.sh" "$work/tf" "${1:-}")"
export TF_IN_AUTOMATION=1
cp -r "$repo/modules" "$repo/environments" "$repo/examples" "$work/"
failed=0
while IFS= read -r dir; do
  rel="${dir#"$work/"}"
  if ! (cd "$dir" && "$TERRAFORM" init -input=false -backend=false -no-color >"$work/init.log" 2>&1); then
    echo "FAIL init     $rel"; sed 's/^/    /' "$work/init.log"; failed=1; continue
  fi
  if out="$(cd "$dir" && "$TERRAFORM" validate -no-color 2>&1)"; then
    echo "ok   validate $rel"
  else
    echo "FAIL validate $rel"; sed 's/^/    /' <<<"$out"; failed=1
  fi
done < <(find "$work/modules" "$work/environments" "$work/examples" -name '*.tf' -not -path '*/.terraform/*' -printf '%h\n' | sort -u)
exit "$failed"

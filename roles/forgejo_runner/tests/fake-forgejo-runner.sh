#!/bin/sh
# A stand-in for the forgejo-runner binary, for offline tests of the role only.
# It implements the three commands the role uses, with the real CLI's flags:
#   forgejo-runner --version
#   forgejo-runner register --no-interactive --instance URL --token TOKEN --name NAME --labels L1,L2 [--config FILE]
#       writes .runner (JSON) in the working directory, like the real one
#   forgejo-runner daemon [--config FILE]
#       refuses to start without .runner, then idles (a real runner polls Forgejo)
set -eu
VERSION="6.3.1"
cmd="${1:-}"; [ $# -gt 0 ] && shift
case "$cmd" in
  --version|-v|version) echo "forgejo-runner version v$VERSION (floe offline stand-in)" ;;
  register)
    instance=""; token=""; name=""; labels=""; noninteractive=0
    while [ $# -gt 0 ]; do
      case "$1" in
        --no-interactive) noninteractive=1 ;;
        --instance) instance="$2"; shift ;;
        --token) token="$2"; shift ;;
        --name) name="$2"; shift ;;
        --labels) labels="$2"; shift ;;
        --config|-c) shift ;;
        *) echo "register: unknown flag $1" >&2; exit 2 ;;
      esac
      shift
    done
    [ "$noninteractive" = 1 ] || { echo "register: only --no-interactive is supported" >&2; exit 2; }
    [ -n "$instance" ] && [ -n "$token" ] && [ -n "$name" ] || { echo "register: --instance, --token and --name are required" >&2; exit 1; }
    [ -e .runner ] && { echo "register: already registered (.runner exists)" >&2; exit 1; }
    uuid="$(cat /proc/sys/kernel/random/uuid)"
    # The real runner stores the runner token the server returns, never the
    # registration token; the stand-in stores a hash of it.
    secret="$(printf '%s' "$token$uuid" | sha256sum | cut -d' ' -f1)"
    labels_json="$(printf '%s' "$labels" | awk -F, '{for(i=1;i<=NF;i++){printf "%s\"%s\"", (i>1?",":""), $i}}')"
    umask 077
    printf '{\n  "WARNING": "written by the floe stand-in",\n  "id": 1,\n  "uuid": "%s",\n  "name": "%s",\n  "token": "%s",\n  "address": "%s",\n  "labels": [%s]\n}\n' \
      "$uuid" "$name" "$secret" "$instance" "$labels_json" > .runner
    echo "Runner registered successfully."
    ;;
  daemon)
    [ -e .runner ] || { echo "daemon: not registered (.runner missing in $(pwd))" >&2; exit 1; }
    echo "runner $(sed -n 's/.*"name": "\(.*\)".*/\1/p' .runner) polling $(sed -n 's/.*"address": "\(.*\)".*/\1/p' .runner)"
    exec sleep infinity
    ;;
  *) echo "usage: forgejo-runner --version | register ... | daemon" >&2; exit 2 ;;
esac

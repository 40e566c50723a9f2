#!/usr/bin/env bash
# veth.sh — a veth pair to stand in for a physical NIC (this kernel has no dummy driver).
# The first end is meant as `parent` of an Incus `physical` network: attaching that network
# to an instance moves the interface into the container, and it comes back on detach. The
# peer stays on the host, so the host can talk to whatever is on the other side.
#
#   scripts/veth.sh add NAME [PEER]   create NAME <-> PEER (default PEER = NAMEp), both up;
#                                     already present with that peer: no change
#   scripts/veth.sh del NAME          delete the pair (either end may be given); absent: no-op
# Names are Linux interface names: at most 15 characters.
set -euo pipefail
die() { printf '[veth] ERROR: %s\n' "$*" >&2; exit 1; }
[[ $(id -u) == 0 ]] || die "must run as root"

cmd=${1:-}; name=${2:-}
[[ -n $cmd && -n $name ]] || { echo "usage: $0 add NAME [PEER] | del NAME" >&2; exit 2; }
((${#name} <= 15)) || die "interface name '$name' is longer than 15 characters"

case $cmd in
  add)
    peer=${3:-${name}p}
    ((${#peer} <= 15)) || die "peer name '$peer' is longer than 15 characters (give a shorter PEER)"
    if ip link show "$name" >/dev/null 2>&1; then
      # Present: fine if it is our veth with the expected peer, an error otherwise.
      [[ $(ip -o -d link show "$name") == *" veth "* ]] || die "$name exists and is not a veth"
      ip link show "$peer" >/dev/null 2>&1 || die "$name exists but its peer $peer does not"
    else
      ip link add "$name" type veth peer name "$peer"
    fi
    ip link set "$name" up
    ip link set "$peer" up
    ;;
  del)
    # Deleting one end removes both. If the interface sits in a container right now it is not
    # visible here; deleting the peer removes it there too.
    ip link del "$name" 2>/dev/null || ip link del "${name}p" 2>/dev/null || true
    ;;
  *) echo "usage: $0 add NAME [PEER] | del NAME" >&2; exit 2 ;;
esac

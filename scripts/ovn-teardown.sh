#!/usr/bin/env bash
# ovn-teardown.sh — undo scripts/ovn-setup.sh and leave the shared Incus daemon responsive.
#
#   scripts/ovn-teardown.sh           delete the uplink, stop ovn-controller, ovn-northd and OVS
#   scripts/ovn-teardown.sh --purge   also delete the OVS/OVN databases and purge the packages
#
# Safety on a shared daemon:
#   - OVN networks on our uplink named floe-* are leftovers of this project's tests: they are
#     deleted (with their load balancers and forwards). Any other OVN network on our uplink
#     belongs to someone else: the script stops and changes nothing.
#   - If OVN networks on *other* uplinks exist, the uplink is removed but the OVS/OVN daemons
#     keep running (stopping them would break those networks).
#
# Why the last step matters: incusd caches its OVS client. Once OVS is stopped, any API call
# that consults OVS (e.g. GET /1.0/networks/<unmanaged interface of unknown type>, which
# `incus network list` does) blocks forever, for every user of the daemon. Setting
# network.ovs.connection to a non-default value makes incusd drop the client; with OVS down the
# reconnect fails fast, nothing is stored, and the client stays unset.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=ovn-env.sh
source "$here/ovn-env.sh"

PURGE=no
case "${1:-}" in
  "") ;;
  --purge) PURGE=yes ;;
  *) echo "usage: $0 [--purge]" >&2; exit 2 ;;
esac

T0=$(date +%s%N)
elapsed() { local ms=$(( ($(date +%s%N) - T0) / 1000000 )); printf '%d.%03ds' $((ms / 1000)) $((ms % 1000)); }
log() { printf '[ovn-teardown %s] %s\n' "$(elapsed)" "$*" >&2; }
die() { printf '[ovn-teardown] ERROR: %s\n' "$*" >&2; exit 1; }
[[ $(id -u) == 0 ]] || die "must run as root"

q() { timeout 30 incus query "$@"; }
have_ovs_tools=no; command -v ovs-vsctl >/dev/null && [[ -x $OVS_CTL ]] && have_ovs_tools=yes

# ------------------------------------------------------------------ 1. Incus objects
# "project name" of every OVN network, and of those on our uplink.
all_nets=$(q '/1.0/networks?recursion=1&all-projects=true') || die "cannot list networks (is incusd responsive?)"
ovn_on_uplink=$(jq -r --arg u "$FLOE_OVN_UPLINK" '.[] | select(.type=="ovn" and .config.network==$u) | "\(.project) \(.name)"' <<<"$all_nets")
foreign=$(awk '$2 !~ /^floe-/' <<<"$ovn_on_uplink" | sed '/^$/d')
[[ -z $foreign ]] || die "OVN networks not created by this project use $FLOE_OVN_UPLINK (project name): $(tr '\n' ';' <<<"$foreign") — delete them first"

while read -r project net; do
  [[ -n $net ]] || continue
  for lb in $(q "/1.0/networks/$net/load-balancers?project=$project" | jq -r '.[]' | xargs -rn1 basename); do
    incus network load-balancer delete "$net" "$lb" --project "$project" && log "deleted load balancer $lb on $project/$net"
  done
  for fw in $(q "/1.0/networks/$net/forwards?project=$project" | jq -r '.[]' | xargs -rn1 basename); do
    incus network forward delete "$net" "$fw" --project "$project" && log "deleted forward $fw on $project/$net"
  done
  incus network delete "$net" --project "$project" || die "cannot delete leftover OVN network $project/$net (instances still attached?)"
  log "deleted leftover OVN network $project/$net"
done <<<"$ovn_on_uplink"

if incus network show "$FLOE_OVN_UPLINK" >/dev/null 2>&1; then
  incus network delete "$FLOE_OVN_UPLINK" || die "cannot delete network $FLOE_OVN_UPLINK"
  log "deleted Incus network $FLOE_OVN_UPLINK"
fi

# ------------------------------------------------------------------ 2. host side of the uplink
br=$FLOE_OVN_UPLINK_BRIDGE
for r in ${FLOE_OVN_ROUTES//,/ }; do ip route del "$r" dev "$br" 2>/dev/null && log "removed host route $r"; done
if [[ $have_ovs_tools == yes ]] && ovs-vsctl --timeout=5 br-exists "$br" 2>/dev/null; then
  ovs-vsctl --timeout=10 del-br "$br" && log "deleted OVS bridge $br"
fi

# ------------------------------------------------------------------ 3. daemons
others=$(jq -r '.[] | select(.type=="ovn") | "\(.project)/\(.name)"' <<<"$(q '/1.0/networks?recursion=1&all-projects=true')")
if [[ -n $others ]]; then
  log "other OVN networks exist ($(tr '\n' ' ' <<<"$others")): OVS/OVN daemons and Incus' OVN settings left running"
  log "done"
  exit 0
fi
if [[ $(incus config get network.ovn.northbound_connection) == "$FLOE_OVN_NB" ]]; then
  incus config unset network.ovn.northbound_connection && log "unset Incus network.ovn.northbound_connection"
fi
if [[ $have_ovs_tools == yes ]]; then
  "$OVN_CTL" status_controller >/dev/null 2>&1 && "$OVN_CTL" stop_controller >/dev/null 2>&1 && log "stopped ovn-controller"
  "$OVN_CTL" status_northd >/dev/null 2>&1 && "$OVN_CTL" stop_northd >/dev/null 2>&1 && log "stopped ovn-northd and the OVN databases"
  ovs_status=$("$OVS_CTL" status 2>/dev/null || true)
  if [[ $ovs_status == *"is running"* ]]; then "$OVS_CTL" stop >/dev/null 2>&1 && log "stopped ovs-vswitchd and ovsdb-server"; fi
fi
# The userspace datapath creates persistent tap devices that outlive ovs-vswitchd.
for l in br-int ovs-netdev "$br"; do ip link del "$l" 2>/dev/null && log "removed leftover interface $l"; done

# ------------------------------------------------------------------ 4. incusd's OVS client
# Expected to fail ("Failed to connect to OVS") with OVS down; what matters is the side effect.
incus config set network.ovs.connection unix:/var/run/openvswitch/db.sock >/dev/null 2>&1 || true
incus config unset network.ovs.connection >/dev/null 2>&1 || true
if timeout 20 incus network list >/dev/null 2>&1; then
  log "incus network list answers"
else
  die "incus network list still hangs: incusd holds a stale OVS client (restart incusd, or start OVS again)"
fi

# ------------------------------------------------------------------ 5. optional purge
if [[ $PURGE == yes ]]; then
  # /etc/openvswitch/conf.db is a symlink to /var/lib/openvswitch/conf.db on Debian.
  rm -f /var/lib/openvswitch/conf.db /var/lib/openvswitch/.conf.db.~lock~ \
        /etc/openvswitch/conf.db /etc/openvswitch/.conf.db.~lock~ /etc/openvswitch/system-id.conf \
        /var/lib/ovn/ovnnb_db.db /var/lib/ovn/ovnsb_db.db /var/lib/ovn/.ovnnb_db.db.~lock~ /var/lib/ovn/.ovnsb_db.db.~lock~
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 purge -y -qq \
    ovn-central ovn-host ovn-common openvswitch-switch openvswitch-common >/dev/null 2>&1 \
    || die "apt-get purge failed"
  log "databases removed and packages purged"
fi
log "done"

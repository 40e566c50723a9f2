#!/usr/bin/env bash
# ovn-setup.sh — make the (shared) Incus daemon on this host able to run OVN networks.
# Idempotent: every step checks first and only acts when something is missing, so a second
# run changes nothing and takes well under a second. Undo with scripts/ovn-teardown.sh.
#
#   1. apt-get install openvswitch-switch ovn-central ovn-host (only the missing ones)
#   2. start ovsdb-server + ovs-vswitchd, the OVN NB/SB databases + ovn-northd and
#      ovn-controller by hand (ovs-ctl / ovn-ctl; there is no systemd here)
#   3. point Incus at the northbound DB (network.ovn.northbound_connection)
#   4. create the uplink: an Incus `physical` network on an OVS bridge that carries the host
#      address, with ipv4.ovn.ranges (OVN routers' addresses) and ipv4.routes (listen
#      addresses of load balancers / forwards), plus the host route to those listen addresses
#
# Why it looks the way it does (measured on this kernel, see the OVN note in the repo history):
#   - The kernel has no openvswitch module, so OVS runs its userspace datapath
#     (datapath_type=netdev). Two consequences are handled here: OVN must create br-int with
#     ovn-bridge-datapath-type=netdev, and userspace-tso-enable=true is needed or TCP checksums
#     over veths are wrong (ICMP works, TCP silently does not). With the module present the
#     system datapath is used and neither is set.
#   - A *physical* uplink on a pre-made OVS bridge: Incus then only adds an ovn-bridge-mapping.
#     A *bridge* uplink would make Incus create an OVS bridge without datapath_type, which
#     fails on a netdev-only host.
#   - incusd caches its OVS client; after ovsdb-server is (re)started with a new database that
#     client is stale, so whenever this script starts ovsdb-server it makes incusd reconnect.
#
# Output: progress on stderr; on success, KEY=VALUE lines on stdout for tests
# (FLOE_OVN_UPLINK, FLOE_OVN_ROUTES, ...). Exit status non-zero with a reason on failure.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=ovn-env.sh
source "$here/ovn-env.sh"

T0=$(date +%s%N)
elapsed() { local ms=$(( ($(date +%s%N) - T0) / 1000000 )); printf '%d.%03ds' $((ms / 1000)) $((ms % 1000)); }
log() { printf '[ovn-setup %s] %s\n' "$(elapsed)" "$*" >&2; }
die() { printf '[ovn-setup] ERROR: %s\n' "$*" >&2; exit 1; }
CHANGES=()
changed() { CHANGES+=("$1"); log "$1"; }

[[ $(id -u) == 0 ]] || die "must run as root (installs packages, starts daemons, creates interfaces)"
command -v incus >/dev/null || die "the incus client is not installed (run scripts/testbed.sh first)"
timeout 120 incus info >/dev/null 2>&1 || die "the Incus daemon does not answer within 120 s (run scripts/testbed.sh first)"

# ------------------------------------------------------------------ 1. packages
pkg_installed() { [[ $(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) == 'install ok installed' ]]; }
missing=()
for p in openvswitch-switch ovn-central ovn-host; do pkg_installed "$p" || missing+=("$p"); done
if ((${#missing[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  # Packages must not try to start services (no systemd): ovs-ctl/ovn-ctl below do that.
  # policy-rc.d is normally present in this image; the install is fine without it too,
  # because the init scripts' failures are not fatal for dpkg here.
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  changed "installed ${missing[*]}"
fi

# ------------------------------------------------------------------ 2. datapath
if [[ -d /sys/module/openvswitch ]]; then DP=system; else DP=netdev; fi

# ------------------------------------------------------------------ 3. Open vSwitch
vsctl() { ovs-vsctl --timeout=10 "$@"; }
# (output captured first: with pipefail, `grep -q` closing the pipe early would fail the check)
ovs_running() { local out; out=$("$OVS_CTL" status 2>/dev/null || true); [[ $out == *"$1 is running"* ]]; }

started_ovsdb=no
if ! ovs_running ovsdb-server; then
  "$OVS_CTL" --system-id=random --no-ovs-vswitchd --no-mlockall start >/dev/null
  started_ovsdb=yes
  changed "started ovsdb-server"
fi
tso_changed=no
if [[ $DP == netdev ]]; then
  cur=$(vsctl --if-exists get Open_vSwitch . other_config:userspace-tso-enable 2>/dev/null | tr -d '"' || true)
  if [[ $cur != true ]]; then
    # --no-wait: a plain `ovs-vsctl set` waits for ovs-vswitchd, which may not be running yet.
    vsctl --no-wait set Open_vSwitch . other_config:userspace-tso-enable=true
    tso_changed=yes
    changed "enabled userspace TSO (correct TCP checksums on the userspace datapath)"
  fi
fi
if ! ovs_running ovs-vswitchd; then
  "$OVS_CTL" --system-id=random --no-ovsdb-server --no-mlockall start >/dev/null 2>&1
  changed "started ovs-vswitchd"
elif [[ $tso_changed == yes ]]; then
  "$OVS_CTL" --system-id=random --no-ovsdb-server --no-mlockall restart >/dev/null 2>&1
  changed "restarted ovs-vswitchd to apply userspace TSO"
fi
vsctl show >/dev/null || die "ovsdb-server does not answer (see /var/log/openvswitch/)"

if [[ $started_ovsdb == yes ]]; then
  # incusd keeps one OVS client for its lifetime. Setting network.ovs.connection to a value
  # different from the default (same socket, other spelling) makes it drop and re-create the
  # client; unsetting it goes back to the default socket with a fresh client.
  incus config set network.ovs.connection unix:/var/run/openvswitch/db.sock
  incus config unset network.ovs.connection
  changed "made incusd reconnect to the new ovsdb-server"
fi

# ------------------------------------------------------------------ 4. OVN
set_external_id() { # only write when different, so a re-run is a true no-op
  local cur
  cur=$(vsctl --if-exists get Open_vSwitch . "external_ids:$1" 2>/dev/null | tr -d '"' || true)
  if [[ $cur != "$2" ]]; then
    vsctl set Open_vSwitch . "external_ids:$1=$2"
    changed "OVS external_ids:$1=$2"
  fi
}

started_northd=no
if ! "$OVN_CTL" status_northd >/dev/null 2>&1; then
  "$OVN_CTL" start_northd >/dev/null
  started_northd=yes
  changed "started the OVN databases and ovn-northd"
fi
set_external_id ovn-remote "$FLOE_OVN_SB"
set_external_id ovn-encap-type geneve
set_external_id ovn-encap-ip 127.0.0.1
[[ $DP == netdev ]] && set_external_id ovn-bridge-datapath-type netdev
if ! "$OVN_CTL" status_controller >/dev/null 2>&1; then
  "$OVN_CTL" start_controller >/dev/null
  changed "started ovn-controller"
fi
for _ in $(seq 1 100); do [[ -e /sys/class/net/br-int ]] && break; sleep 0.1; done
[[ -e /sys/class/net/br-int ]] || die "br-int did not appear within 10 s (see /var/log/ovn/ovn-controller.log)"
ovn-nbctl --timeout=10 show >/dev/null || die "the OVN northbound DB does not answer (see /var/log/ovn/)"
has_chassis() { [[ $(ovn-sbctl --timeout=10 show) == *Chassis* ]]; }
for _ in $(seq 1 50); do has_chassis && break; sleep 0.1; done
has_chassis || die "ovn-controller did not register a chassis in the southbound DB"

# ------------------------------------------------------------------ 5. Incus -> OVN
cur_nb=$(incus config get network.ovn.northbound_connection)
if [[ $cur_nb != "$FLOE_OVN_NB" ]]; then
  incus config set network.ovn.northbound_connection "$FLOE_OVN_NB"
  changed "Incus network.ovn.northbound_connection=$FLOE_OVN_NB"
elif [[ $started_northd == yes ]]; then
  # Same value, new database process: make Incus reconnect (unset + set again).
  incus config unset network.ovn.northbound_connection
  incus config set network.ovn.northbound_connection "$FLOE_OVN_NB"
  changed "made incusd reconnect to the new northbound DB"
fi

# ------------------------------------------------------------------ 6. uplink
br=$FLOE_OVN_UPLINK_BRIDGE
if ! vsctl br-exists "$br"; then
  vsctl add-br "$br" -- set bridge "$br" datapath_type="$DP"
  changed "created OVS bridge $br ($DP datapath)"
fi
for _ in $(seq 1 50); do [[ -e /sys/class/net/$br ]] && break; sleep 0.1; done
[[ -e /sys/class/net/$br ]] || die "OVS bridge $br has no kernel interface"
if [[ " $(ip -4 -o addr show dev "$br") " != *" $FLOE_OVN_UPLINK_CIDR "* ]]; then
  ip addr replace "$FLOE_OVN_UPLINK_CIDR" dev "$br"
  changed "host address $FLOE_OVN_UPLINK_CIDR on $br"
fi
if [[ ! $(ip -o link show dev "$br") =~ [\<,]UP[,\>] ]]; then
  ip link set "$br" up
  changed "set $br up"
fi

gw_ip=${FLOE_OVN_UPLINK_CIDR%/*}
declare -A want=(
  [parent]=$br
  [ipv4.gateway]=$FLOE_OVN_UPLINK_CIDR
  [ipv4.ovn.ranges]=$FLOE_OVN_RANGES
  [ipv4.routes]=$FLOE_OVN_ROUTES
  [dns.nameservers]=$gw_ip
)
if ! incus network show "$FLOE_OVN_UPLINK" >/dev/null 2>&1; then
  args=()
  for k in "${!want[@]}"; do args+=("$k=${want[$k]}"); done
  incus network create "$FLOE_OVN_UPLINK" --type=physical "${args[@]}" >/dev/null
  changed "created Incus network $FLOE_OVN_UPLINK (physical, parent $br)"
else
  [[ $(incus query "/1.0/networks/$FLOE_OVN_UPLINK" | jq -r .type) == physical ]] \
    || die "network $FLOE_OVN_UPLINK exists but is not a physical network; delete it or set FLOE_OVN_UPLINK"
  for k in "${!want[@]}"; do
    if [[ $(incus network get "$FLOE_OVN_UPLINK" "$k") != "${want[$k]}" ]]; then
      incus network set "$FLOE_OVN_UPLINK" "$k=${want[$k]}"
      changed "network $FLOE_OVN_UPLINK: $k=${want[$k]}"
    fi
  done
fi
# Incus adds no host route for a physical uplink's ipv4.routes; the OVN router answers ARP for
# listen addresses, so an on-link route through the uplink bridge is all the host needs.
for r in ${FLOE_OVN_ROUTES//,/ }; do
  if [[ " $(ip route show "$r") " != *" dev $br "* ]]; then
    ip route replace "$r" dev "$br"
    changed "host route $r dev $br"
  fi
done

if ((${#CHANGES[@]})); then log "done, ${#CHANGES[@]} change(s), $DP datapath"; else log "done, nothing to change"; fi
cat <<EOF
FLOE_OVN_UPLINK=$FLOE_OVN_UPLINK
FLOE_OVN_UPLINK_BRIDGE=$FLOE_OVN_UPLINK_BRIDGE
FLOE_OVN_UPLINK_CIDR=$FLOE_OVN_UPLINK_CIDR
FLOE_OVN_RANGES=$FLOE_OVN_RANGES
FLOE_OVN_ROUTES=$FLOE_OVN_ROUTES
FLOE_OVN_DATAPATH=$DP
FLOE_OVN_CHANGES=${#CHANGES[@]}
EOF

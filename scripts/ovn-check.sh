#!/usr/bin/env bash
# ovn-check.sh — prove the OVN setup works end to end with the incus CLI alone (no provider):
# an OVN network on the uplink, a container on it, and a network load balancer whose listen
# address (from the uplink's ipv4.routes) answers HTTP from the host with the container's
# reply. Everything it creates is named floe-ovncheck-* and removed on exit, also on failure.
#
#   scripts/ovn-setup.sh && scripts/ovn-check.sh
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=env.sh
source "$here/env.sh"
# shellcheck source=ovn-env.sh
source "$here/ovn-env.sh"

NET=floe-ovncheck-net
CT=floe-ovncheck-c1
INT_GW=10.251.30.1          # the OVN network's router address
CT_IP=10.251.30.10          # static: the image has no working DHCP client
LB_IP=${FLOE_OVN_ROUTES%%/*}; LB_IP=${LB_IP%.*}.10   # first usable-looking address of the routes

T0=$(date +%s%N)
elapsed() { local ms=$(( ($(date +%s%N) - T0) / 1000000 )); printf '%d.%03ds' $((ms / 1000)) $((ms % 1000)); }
log() { printf '[ovn-check %s] %s\n' "$(elapsed)" "$*" >&2; }

cleanup() {
  incus delete -f "$CT" >/dev/null 2>&1 || true
  incus network load-balancer delete "$NET" "$LB_IP" >/dev/null 2>&1 || true
  incus network delete "$NET" >/dev/null 2>&1 || true
}
[[ ${KEEP:-0} == 1 ]] || trap cleanup EXIT
cleanup

incus network create "$NET" --type=ovn network="$FLOE_OVN_UPLINK" \
  ipv4.address="$INT_GW/24" ipv4.nat=true ipv6.address=none >/dev/null
log "OVN network $NET on $FLOE_OVN_UPLINK"
incus init "$FLOE_IMAGE" "$CT" --network "$NET" -q
incus config device set "$CT" eth0 ipv4.address="$CT_IP"
incus start "$CT"
incus exec "$CT" -- sh -ec "ip link set eth0 up; ip addr replace $CT_IP/24 dev eth0; ip route replace default via $INT_GW"
# A plain TCPServer: `python3 -m http.server` does a reverse DNS lookup at bind (10 s here).
# Not in /tmp: systemd mounts a tmpfs there while the container boots, hiding the file.
incus exec "$CT" -- sh -c "mkdir -p /srv/www; echo floe-ovn-ok > /srv/www/index.html; cd /srv/www; nohup python3 -c 'import http.server as h, socketserver as s; s.TCPServer((\"\", 8080), h.SimpleHTTPRequestHandler).serve_forever()' >/dev/null 2>&1 &"
log "container $CT at $CT_IP serving on :8080"

incus network load-balancer create "$NET" "$LB_IP" -q
incus network load-balancer backend add "$NET" "$LB_IP" b1 "$CT_IP" 8080 -q
incus network load-balancer port add "$NET" "$LB_IP" tcp 80 b1 -q
log "load balancer $LB_IP:80 -> $CT_IP:8080"

for _ in $(seq 1 40); do
  if [[ $(curl -s -m 2 "http://$LB_IP/" || true) == floe-ovn-ok ]]; then
    log "host -> load balancer -> container: ok"
    exit 0
  fi
  sleep 0.5
done
log "FAIL: http://$LB_IP/ did not answer with the container's page"
incus exec "$CT" -- sh -c 'ip -4 addr show eth0; ip route; grep -c ":1F90 " /proc/net/tcp' >&2 || true
ip neigh show "$LB_IP" >&2 || true
exit 1

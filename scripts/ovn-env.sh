# ovn-env.sh — names and addresses of the OVN test setup, sourced by ovn-setup.sh,
# ovn-teardown.sh and ovn-check.sh. Tests read the same values from the KEY=VALUE lines
# ovn-setup.sh prints on stdout, so there is one place to change them.
# Addresses are in 10.251.0.0/16, private to this project's test setup.
export FLOE_OVN_UPLINK="${FLOE_OVN_UPLINK:-floe-uplink}"             # Incus physical network used as OVN uplink
export FLOE_OVN_UPLINK_BRIDGE="${FLOE_OVN_UPLINK_BRIDGE:-floe-upbr}" # OVS bridge carrying it (<= 15 chars)
export FLOE_OVN_UPLINK_CIDR="${FLOE_OVN_UPLINK_CIDR:-10.251.10.1/24}" # host address = uplink gateway
export FLOE_OVN_RANGES="${FLOE_OVN_RANGES:-10.251.10.100-10.251.10.199}" # OVN routers' uplink addresses
export FLOE_OVN_ROUTES="${FLOE_OVN_ROUTES:-10.251.20.0/24}"          # load-balancer / forward listen addresses
# The northbound DB as Incus should reach it. The /var/run spelling is the same socket as the
# default (unix:/run/ovn/ovnnb_db.sock) but a different string, so Incus stores it and
# reconnects whenever it is set; setting a key to its default value is a no-op in Incus.
export FLOE_OVN_NB="${FLOE_OVN_NB:-unix:/var/run/ovn/ovnnb_db.sock}"
export FLOE_OVN_SB="${FLOE_OVN_SB:-unix:/run/ovn/ovnsb_db.sock}"
OVS_CTL=/usr/share/openvswitch/scripts/ovs-ctl
OVN_CTL=/usr/share/ovn/scripts/ovn-ctl

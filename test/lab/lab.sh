#!/usr/bin/env bash
# pairctl NAT lab: network namespaces standing in for "the internet" and two home networks.
#
#   lab.sh up            tear down any previous lab, then build it (needs root)
#   lab.sh down          stop the lab's processes and delete its namespaces
#   lab.sh status        list namespaces, processes and rtrA's nft ruleset
#   lab.sh nat-b plain|random   rtrB masquerade: port-preserving cone or symmetric (random ports)
#   lab.sh nat-a plain|random   the same for rtrA
#   lab.sh upnp off             stop rtrA's miniupnpd (no port mapping anywhere); `upnp on` starts it again
#   lab.sh loss PERCENT         drop PERCENT % of the packets each way on both routers (0: none)
#   lab.sh browse SERVICE       what avahi (in rtrA, on the LAN of hostA and hostC) resolves for a DNS-SD type
#   lab.sh exec NODE cmd...     run a command in pub|rtrA|rtrB|hostA|hostB|hostC
#
# Topology (spec/portmap.md §8, facts from /work/shared/notes/natlab.md):
#
#   pub    br0 203.0.113.1/24 + 203.0.113.4  coturn STUN on both addresses, ports 3478/3479
#    |-- rtrA  wan 203.0.113.2  lan 192.168.1.1  masquerade, WAN input dropped, miniupnpd (UPnP/NAT-PMP/PCP)
#    |    |-- hostA 192.168.1.2
#    |    `-- hostC 192.168.1.3   (hostA's LAN neighbour, on the same bridge)
#    `-- rtrB  wan 203.0.113.3  lan 192.168.2.1  masquerade (plain or random), WAN input dropped
#         `-- hostB 192.168.2.2
#
# Nothing leaves the namespaces: pub has no uplink. Namespace names carry a prefix so several labs or
# other tools never clash; only PIDs the lab recorded, or that run inside its own namespaces, are killed.
set -euo pipefail

PREFIX=${PCTL_LAB_PREFIX:-pctl}
RUN=${PCTL_LAB_RUN:-${TMPDIR:-/tmp}/${PREFIX}-lab}
NODES=(pub rtrA rtrB hostA hostB hostC)
PACKAGES=(iproute2 nftables conntrack coturn stun-client miniupnpd-nftables miniupnpc natpmpc avahi-daemon avahi-utils dbus-daemon)
COMMANDS=(ip nft conntrack turnserver stun miniupnpd upnpc natpmpc avahi-daemon avahi-browse dbus-daemon)

ns() { echo "${PREFIX}-$1"; }
in_ns() { local node=$1; shift; ip netns exec "$(ns "$node")" "$@"; }
log() { echo "lab: $*" >&2; }
ns_exists() { ip netns list | awk '{print $1}' | grep -qxF "$(ns "$1")"; }

require_root() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "lab: must run as root (network namespaces, nftables)" >&2
    exit 1
  fi
}

ensure_packages() {
  local missing=0 cmd
  for cmd in "${COMMANDS[@]}"; do command -v "$cmd" >/dev/null 2>&1 || missing=1; done
  [ "$missing" -eq 0 ] && return 0
  log "installing ${PACKAGES[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null
  # The packages may start a system-wide miniupnpd and avahi; the lab runs its own instances only.
  systemctl disable --now miniupnpd avahi-daemon avahi-daemon.socket >/dev/null 2>&1 || true
}

# --- namespaces and links ---------------------------------------------------------------------------

add_node() {
  local node=$1
  ip netns add "$(ns "$node")"
  in_ns "$node" ip link set lo up
  # IPv6 off (the lab is IPv4); a kernel without IPv6 has nothing to turn off.
  in_ns "$node" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 2>/dev/null || true
}

# veth between two namespaces, created inside them directly so no name ever exists in the root namespace.
link() {
  local a=$1 ifa=$2 b=$3 ifb=$4
  ip link add "$ifa" netns "$(ns "$a")" type veth peer name "$ifb" netns "$(ns "$b")"
  in_ns "$a" ip link set "$ifa" up
  in_ns "$b" ip link set "$ifb" up
}

build_pub() {
  add_node pub
  in_ns pub ip link add br0 type bridge
  in_ns pub ip addr add 203.0.113.1/24 dev br0
  in_ns pub ip addr add 203.0.113.4/24 dev br0
  in_ns pub ip link set br0 up
}

# build_router NODE WAN_ADDR LAN_PREFIX(e.g. 192.168.1) HOST: the LAN is a bridge named `lan` in the
# router (so more hosts can join it, add_lan_host), HOST at LAN_PREFIX.2.
build_router() {
  local node=$1 wan=$2 lan=$3 host=$4
  add_node "$node"
  link "$node" wan pub "$node"
  in_ns pub ip link set "$node" master br0
  in_ns "$node" ip addr add "$wan/24" dev wan
  in_ns "$node" ip route add default via 203.0.113.1
  in_ns "$node" ip link add lan type bridge
  in_ns "$node" ip addr add "$lan.1/24" dev lan
  in_ns "$node" ip link set lan up
  # Where br_netfilter is loaded, bridged frames would go through the router's forward chain, which
  # drops LAN-to-LAN traffic: a home switch does not filter, so neither does this bridge.
  in_ns "$node" sysctl -qw net.bridge.bridge-nf-call-iptables=0 net.bridge.bridge-nf-call-ip6tables=0 \
    net.bridge.bridge-nf-call-arptables=0 2>/dev/null || true
  add_lan_host "$node" "$lan" "$host" 2
  in_ns "$node" sysctl -qw net.ipv4.ip_forward=1
  router_ruleset "$lan" "${5:-}" | in_ns "$node" nft -f -
}

# add_lan_host ROUTER LAN_PREFIX HOST N: HOST at LAN_PREFIX.N on ROUTER's LAN bridge, routed through it.
add_lan_host() {
  local router=$1 lan=$2 host=$3 n=$4
  add_node "$host"
  link "$router" "lan-$host" "$host" eth0
  in_ns "$router" ip link set "lan-$host" master lan
  in_ns "$host" ip addr add "$lan.$n/24" dev eth0
  in_ns "$host" ip route add default via "$lan.1"
}

# A home router: NAT out of wan, unsolicited WAN input dropped, forwarding only lan->wan and replies,
# plus the three chains miniupnpd fills (it jumps nowhere itself; we jump to its chains).
router_ruleset() {
  local lan=$1 masq=${2:-}
  cat <<EOF
table inet ${PREFIX} {
  chain input {
    type filter hook input priority 0; policy accept;
    iifname "wan" ct state established,related accept
    iifname "wan" jump miniupnpd
    iifname "wan" drop
  }
  chain forward {
    type filter hook forward priority 0; policy drop;
    ct state established,related accept
    iifname "lan" oifname "wan" accept
    jump miniupnpd
  }
  chain miniupnpd {
  }
  chain prerouting {
    type nat hook prerouting priority -100; policy accept;
    jump prerouting_miniupnpd
  }
  chain postrouting {
    type nat hook postrouting priority 100; policy accept;
    jump postrouting_miniupnpd
    jump masq
  }
  chain masq {
    oifname "wan" ip saddr $lan.0/24 masquerade $masq
  }
  chain prerouting_miniupnpd {
  }
  chain postrouting_miniupnpd {
  }
}
EOF
}

# --- servers ----------------------------------------------------------------------------------------

# start NAME NODE cmd...: runs in the background in NODE, records its PID in $RUN/NAME.pid.
start() {
  local name=$1 node=$2; shift 2
  in_ns "$node" "$@" >"$RUN/$name.log" 2>&1 &
  echo $! >"$RUN/$name.pid"
}

# wait_listen NODE PROTO PORT: until something listens there (ss), at most 20 s (miniupnpd first
# runs its STUN probes against coturn, a few seconds).
wait_listen() {
  local node=$1 proto=$2 port=$3 i
  for i in $(seq 1 400); do
    if in_ns "$node" ss -Hln "-$proto" "sport = :$port" 2>/dev/null | grep -q .; then return 0; fi
    sleep 0.05
  done
  log "nothing listens on port $port/$proto in $node; log:"
  cat "$RUN"/*.log >&2 || true
  return 1
}

start_coturn() {
  start turnserver pub turnserver -n --stun-only --no-cli --no-tls --no-dtls \
    -L 203.0.113.1 -L 203.0.113.4 -p 3478 --alt-listening-port 3479 \
    --log-file stdout --simple-log --pidfile "$RUN/turnserver.own.pid"
  wait_listen pub u 3478
  wait_listen pub u 3479
}

miniupnpd_conf() {
  cat <<EOF
ext_ifname=wan
listening_ip=lan
http_port=5000
enable_upnp=yes
enable_natpmp=yes
secure_mode=yes
ipv6_disable=yes
system_uptime=yes
notify_interval=60
uuid=9b1c1d2e-0000-4000-8000-00000000000a
friendly_name=pairctl lab rtrA
ext_perform_stun=yes
ext_stun_host=203.0.113.1
ext_stun_port=3478
upnp_table_name=${PREFIX}
upnp_nat_table_name=${PREFIX}
upnp_forward_chain=miniupnpd
upnp_nat_chain=prerouting_miniupnpd
upnp_nat_postrouting_chain=postrouting_miniupnpd
allow 1024-65535 192.168.1.0/24 1024-65535
deny 0-65535 0.0.0.0/0 0-65535
EOF
}

start_miniupnpd() {
  miniupnpd_conf >"$RUN/miniupnpd.conf"
  start miniupnpd rtrA miniupnpd -d -f "$RUN/miniupnpd.conf" -P "$RUN/miniupnpd.own.pid"
  wait_listen rtrA t 5000
  wait_listen rtrA u 5351
}

# avahi-daemon in rtrA on its LAN bridge, on a message bus of the lab's own (never the system's), so
# that `browse` shows what a stock DNS-SD browser sees of hostA's and hostC's announcements.
avahi_conf() {
  cat <<EOF
[server]
host-name=${PREFIX}-rtra
use-ipv4=yes
use-ipv6=no
allow-interfaces=lan
enable-dbus=yes
[publish]
publish-addresses=no
publish-hinfo=no
publish-workstation=no
EOF
}

bus_conf() {
  cat <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=$RUN/bus.sock</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
EOF
}

start_avahi() {
  bus_conf >"$RUN/bus.conf"
  avahi_conf >"$RUN/avahi.conf"
  start dbus rtrA dbus-daemon --nofork --config-file="$RUN/bus.conf"
  for _ in $(seq 1 100); do [ -S "$RUN/bus.sock" ] && break; sleep 0.05; done
  # avahi's pid file has a fixed path: a private /run/avahi-daemon keeps it from meeting a system avahi.
  mkdir -p /run/avahi-daemon
  DBUS_SYSTEM_BUS_ADDRESS="unix:path=$RUN/bus.sock" start avahi rtrA unshare --mount sh -c \
    'mount -t tmpfs tmpfs /run/avahi-daemon && exec avahi-daemon --no-drop-root --no-chroot --no-rlimits --no-proc-title -f "$0"' \
    "$RUN/avahi.conf"
  wait_listen rtrA u 5353
}

# browse SERVICE: one resolved line per instance (`=;lan;IPv4;NAME;TYPE;local;HOST;ADDRESS;PORT;TXT`).
browse() {
  [ -f "$RUN/avahi.pid" ] && kill -0 "$(cat "$RUN/avahi.pid")" 2>/dev/null || start_avahi
  DBUS_SYSTEM_BUS_ADDRESS="unix:path=$RUN/bus.sock" in_ns rtrA avahi-browse -rtp "$1"
}

# --- commands ---------------------------------------------------------------------------------------

up() {
  require_root
  down
  ensure_packages
  mkdir -p "$RUN"
  build_pub
  build_router rtrA 203.0.113.2 192.168.1 hostA
  add_lan_host rtrA 192.168.1 hostC 3
  build_router rtrB 203.0.113.3 192.168.2 hostB
  start_coturn
  start_miniupnpd
  log "up (run dir $RUN)"
}

# Kills the recorded PIDs, then anything still running inside our own namespaces, then the namespaces.
down() {
  require_root
  local f pid node
  for f in "$RUN"/*.pid; do
    [ -f "$f" ] || continue
    pid=$(cat "$f")
    [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  done
  for node in "${NODES[@]}"; do
    ns_exists "$node" || continue
    for pid in $(ip netns pids "$(ns "$node")" 2>/dev/null); do kill "$pid" 2>/dev/null || true; done
  done
  sleep 0.1
  for node in "${NODES[@]}"; do
    ns_exists "$node" || continue
    for pid in $(ip netns pids "$(ns "$node")" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
    ip netns del "$(ns "$node")"
  done
  rm -rf "$RUN"
}

status() {
  local node
  for node in "${NODES[@]}"; do
    echo "$(ns "$node"): pids $(ip netns pids "$(ns "$node")" 2>/dev/null | tr '\n' ' ')"
  done
  in_ns rtrA nft list table inet "$PREFIX"
}

# nat ROUTER LAN_PREFIX plain|random: the router's masquerade, port-preserving cone or symmetric.
nat() {
  local router=$1 lan=$2 mode=$3 masq=
  case $mode in
    plain) ;;
    random) masq=random ;;
    *) echo "usage: lab.sh nat-a|nat-b plain|random" >&2; exit 2 ;;
  esac
  in_ns "$router" nft flush chain inet "$PREFIX" masq
  in_ns "$router" nft add rule inet "$PREFIX" masq oifname wan ip saddr "$lan.0/24" masquerade $masq
  in_ns "$router" conntrack -F >/dev/null 2>&1 || true
}

upnp() {
  case ${1:-} in
    on) [ -f "$RUN/miniupnpd.pid" ] && kill -0 "$(cat "$RUN/miniupnpd.pid")" 2>/dev/null || start_miniupnpd ;;
    off)
      # The wrapper's pid (miniupnpd.pid) is a subshell; miniupnpd's own pid file names the daemon.
      local f pid
      for f in "$RUN/miniupnpd.own.pid" "$RUN/miniupnpd.pid"; do
        [ -f "$f" ] || continue
        pid=$(cat "$f")
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
        rm -f "$f"
      done
      in_ns rtrA conntrack -F >/dev/null 2>&1 || true
      ;;
    *) echo "usage: lab.sh upnp on|off" >&2; exit 2 ;;
  esac
}

# loss PERCENT: a raw-priority prerouting chain on both routers drops that share of every packet, each way
# (the kernel has no netem; natlab.md).
loss() {
  local percent=${1:-} router
  [[ $percent =~ ^[0-9]+$ ]] && [ "$percent" -le 100 ] || { echo "usage: lab.sh loss PERCENT" >&2; exit 2; }
  for router in rtrA rtrB; do
    in_ns "$router" nft delete table inet "${PREFIX}_loss" 2>/dev/null || true
    [ "$percent" -eq 0 ] && continue
    in_ns "$router" nft -f - <<EOF
table inet ${PREFIX}_loss {
  chain prerouting {
    type filter hook prerouting priority raw; policy accept;
    numgen random mod 100 < $percent counter drop
  }
}
EOF
  done
}

case ${1:-} in
  up) up ;;
  down) down ;;
  status) status ;;
  nat-a) nat rtrA 192.168.1 "${2:-}" ;;
  nat-b) nat rtrB 192.168.2 "${2:-}" ;;
  upnp) upnp "${2:-}" ;;
  loss) loss "${2:-}" ;;
  browse) browse "${2:?usage: lab.sh browse SERVICE}" ;;
  exec) shift; node=$1; shift; in_ns "$node" "$@" ;;
  *) echo "usage: lab.sh up|down|status|nat-a|nat-b plain|random|upnp on|off|loss PERCENT|browse SERVICE|exec NODE cmd..." >&2; exit 2 ;;
esac

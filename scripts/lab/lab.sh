#!/usr/bin/env bash
# pingscope network lab: network namespaces that tests and benchmarks probe instead of real hosts.
#
#   lab.sh up [silent|unreachable|chain|lossy|sites ...]   (re)build those parts, all by default
#   lab.sh down [part ...]                            remove those parts, everything of this instance by default
#   lab.sh status                                     show what is up
#
# `up` and `status` print progress on stderr and one JSON summary as the last line of stdout.
# Environment: LAB_ID (0..15, instance number), LAB_DELAY_MS, LAB_LOSS, LAB_SEED, LAB_LOSS_BLOCK,
# LAB_SITE_A_DELAY_MS, LAB_SITE_B_DELAY_MS, LAB_STATE_DIR, LAB_NODE. See scripts/lab/README.md for the layout and the safety rules.
set -euo pipefail

die() { echo "lab.sh: $*" >&2; exit 1; }
log() { echo "lab.sh: $*" >&2; }

LAB_ID=${LAB_ID:-0}
[[ $LAB_ID =~ ^([0-9]|1[0-5])$ ]] || die "LAB_ID must be an integer 0..15 (got '$LAB_ID')"
# The prefix ends in '-' so that instance 1 (psl1-) never matches instance 12 (psl12-).
if ((LAB_ID == 0)); then P=psl-; else P=psl${LAB_ID}-; fi
# Each instance owns sixteen /24s in 10.201/16 and sixteen in 10.202/16.
B=$((LAB_ID * 16))

DELAY_MS=${LAB_DELAY_MS:-20}
LOSS=${LAB_LOSS:-0.10}
SEED=${LAB_SEED:-1}
LOSS_BLOCK=${LAB_LOSS_BLOCK:-100}
SITE_A_DELAY_MS=${LAB_SITE_A_DELAY_MS:-2}
SITE_B_DELAY_MS=${LAB_SITE_B_DELAY_MS:-7}
NODE=${LAB_NODE:-node}
STATE_DIR=${LAB_STATE_DIR:-/run/pingscope-lab}/$LAB_ID
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
ALL_PARTS=(silent unreachable chain lossy sites)

# Namespaces, root-side links and root routes, per part.
NS_SILENT=${P}silent NS_UNR=${P}unr NS_LOSSY=${P}lossy
NS_CHAIN=("${P}r1" "${P}r2" "${P}r3" "${P}end")
LINK_SILENT=${P}sil LINK_UNR=${P}unr LINK_LOSSY=${P}los LINK_CHAIN=${P}ch
SILENT_NET=10.201.$((B + 1)) UNR_NET=10.201.$((B + 2)) LOSSY_NET=10.201.$((B + 3))
UNR_PREFIX=10.201.$((B + 7)).0/24 UNR_ADDR=10.201.$((B + 7)).1
CHAIN_NETS=("10.202.$((B + 1))" "10.202.$((B + 2))" "10.202.$((B + 3))" "10.202.$((B + 4))")
CHAIN_PREFIX=10.202.$B.0/20
# Sites: one lab host and two site namespaces, each on a link of its own to the host, none to the root.
NS_SITES_HOST=${P}sh NS_SITE_A=${P}sa NS_SITE_B=${P}sb
SITE_A_NET=10.201.$((B + 4)) SITE_B_NET=10.201.$((B + 5)) SITES_HOST=10.201.$((B + 6)).1

ns_exists() { [[ -e /run/netns/$1 ]]; }
link_exists() { ip link show dev "$1" >/dev/null 2>&1; }

# A namespace with lo up and ICMP error rate limits off: with the defaults, time-exceeded and
# unreachable replies are rate limited and show up as timeouts. These sysctls are per namespace.
ns_add() {
  ip netns add "$1"
  ip -n "$1" link set lo up
  ip netns exec "$1" sysctl -qw net.ipv4.icmp_ratelimit=0 net.ipv4.icmp_msgs_per_sec=100000 \
    net.ipv4.icmp_msgs_burst=10000
}
ns_del() { if ns_exists "$1"; then ip netns del "$1"; fi; }
link_del() { if link_exists "$1"; then ip link del "$1"; fi; }
route_del() { ip route del "$1" 2>/dev/null || true; }

# A veth from the root namespace (<net>.1 on $1) to namespace $2 (<net>.2 on eth0). No default
# route in lab namespaces: they can only answer addresses of the lab's own subnets.
veth_to_ns() {
  local link=$1 ns=$2 net=$3
  ip link add "$link" type veth peer name eth0 netns "$ns"
  ip addr add "$net.1/24" dev "$link"
  ip link set "$link" up
  ip -n "$ns" addr add "$net.2/24" dev eth0
  ip -n "$ns" link set eth0 up
}

up_silent() {
  ns_add "$NS_SILENT"
  ip netns exec "$NS_SILENT" sysctl -qw net.ipv4.icmp_echo_ignore_all=1
  veth_to_ns "$LINK_SILENT" "$NS_SILENT" "$SILENT_NET"
}
down_silent() { link_del "$LINK_SILENT"; ns_del "$NS_SILENT"; }

# Pings to the prefix are forwarded to a router whose routing table says "unreachable", so it
# answers ICMP destination-unreachable (host unreachable).
up_unreachable() {
  ns_add "$NS_UNR"
  ip netns exec "$NS_UNR" sysctl -qw net.ipv4.ip_forward=1
  veth_to_ns "$LINK_UNR" "$NS_UNR" "$UNR_NET"
  ip -n "$NS_UNR" route add unreachable "$UNR_PREFIX"
  ip route add "$UNR_PREFIX" via "$UNR_NET.2" dev "$LINK_UNR"
}
down_unreachable() { route_del "$UNR_PREFIX"; link_del "$LINK_UNR"; ns_del "$NS_UNR"; }

# root -> r1 -> r2 -> r3 -> end, one /24 per link; traceroute to the end shows four hops.
up_chain() {
  local ns prev=""
  for ns in "${NS_CHAIN[@]}"; do ns_add "$ns"; done
  for ns in "${NS_CHAIN[@]:0:3}"; do ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1; done
  ip link add "$LINK_CHAIN" type veth peer name up0 netns "${NS_CHAIN[0]}"
  ip addr add "${CHAIN_NETS[0]}.1/24" dev "$LINK_CHAIN"
  ip link set "$LINK_CHAIN" up
  local i
  for i in 0 1 2 3; do
    ns=${NS_CHAIN[$i]}
    if ((i > 0)); then
      ip -n "$prev" link add dn0 type veth peer name up0 netns "$ns"
      ip -n "$prev" addr add "${CHAIN_NETS[$i]}.1/24" dev dn0
      ip -n "$prev" link set dn0 up
    fi
    ip -n "$ns" addr add "${CHAIN_NETS[$i]}.2/24" dev up0
    ip -n "$ns" link set up0 up
    prev=$ns
  done
  # Each hop sends the instance's /20 onwards (towards the end host) or back (towards the root);
  # the connected /24s are more specific.
  local r1=${NS_CHAIN[0]} r2=${NS_CHAIN[1]} r3=${NS_CHAIN[2]} end=${NS_CHAIN[3]}
  ip -n "$r1" route add "$CHAIN_PREFIX" via "${CHAIN_NETS[1]}.2"
  ip -n "$r2" route add "$CHAIN_PREFIX" via "${CHAIN_NETS[1]}.1"
  ip -n "$r2" route add "${CHAIN_NETS[3]}.0/24" via "${CHAIN_NETS[2]}.2"
  ip -n "$r3" route add "$CHAIN_PREFIX" via "${CHAIN_NETS[2]}.1"
  ip -n "$end" route add "$CHAIN_PREFIX" via "${CHAIN_NETS[3]}.1"
  ip route add "$CHAIN_PREFIX" via "${CHAIN_NETS[0]}.2" dev "$LINK_CHAIN"
}
down_chain() {
  local ns
  route_del "$CHAIN_PREFIX"
  link_del "$LINK_CHAIN"
  for ns in "${NS_CHAIN[@]}"; do ns_del "$ns"; done
}

# The kernel ignores echo requests there; responder.ts answers them after LAB_DELAY_MS and drops
# exactly round(LAB_LOSS * LAB_LOSS_BLOCK) of every LAB_LOSS_BLOCK requests.
lossy_config() {
  printf '"delayMs":%s,"loss":%s,"block":%s,"seed":%s' "$DELAY_MS" "$LOSS" "$LOSS_BLOCK" "$SEED"
}

# start_responder <namespace> <name> [responder.ts options]: runs responder.ts in the namespace, its pid
# in $STATE_DIR/<name>.pid and its output in $STATE_DIR/<name>.log; returns once it is listening.
start_responder() {
  local ns=$1 name=$2
  shift 2
  mkdir -p "$STATE_DIR"
  rm -f "$STATE_DIR/$name.pid"
  # All three fds are redirected, so a caller reading our stdout (execFile) does not wait for it.
  (cd "$REPO" && exec ip netns exec "$ns" "$NODE" --import tsx scripts/lab/responder.ts "$@" \
    --pid-file "$STATE_DIR/$name.pid") </dev/null >"$STATE_DIR/$name.log" 2>&1 &
  local bg=$! i
  # The responder writes its pid file once its raw socket is open.
  for ((i = 0; i < 200; i++)); do
    [[ -s $STATE_DIR/$name.pid ]] && return 0
    running "$bg" || break
    sleep 0.05
  done
  kill "$bg" 2>/dev/null || true
  die "$name did not start: $(tail -n 5 "$STATE_DIR/$name.log" 2>/dev/null)"
}

up_lossy() {
  ns_add "$NS_LOSSY"
  ip netns exec "$NS_LOSSY" sysctl -qw net.ipv4.icmp_echo_ignore_all=1
  veth_to_ns "$LINK_LOSSY" "$NS_LOSSY" "$LOSSY_NET"
  mkdir -p "$STATE_DIR"
  lossy_config >"$STATE_DIR/lossy.config"
  start_responder "$NS_LOSSY" responder --delay-ms "$DELAY_MS" --loss "$LOSS" --block "$LOSS_BLOCK" --seed "$SEED"
}

# True while $1 runs. A zombie counts as gone: the responder's parent is init once `up` has
# exited, and some inits (a container's or a VM's) take a second or more to reap it.
running() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [[ ${stat%% *} != Z ]]
}

# stop_responder <namespace> <name>: stops only the responder we started, the pid from our pid file,
# and only if it runs in our namespace.
stop_responder() {
  local ns=$1 pidfile=$STATE_DIR/$2.pid pid i
  [[ -s $pidfile ]] || return 0
  pid=$(<"$pidfile")
  if [[ $pid =~ ^[0-9]+$ ]] && running "$pid" &&
    [[ $(ip netns identify "$pid" 2>/dev/null) == "$ns" ]]; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 40; i++)); do
      running "$pid" || break
      sleep 0.05
    done
    if running "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
  fi
  rm -f "$pidfile"
}
down_lossy() {
  stop_responder "$NS_LOSSY" responder
  link_del "$LINK_LOSSY"
  ns_del "$NS_LOSSY"
  rm -f "$STATE_DIR/lossy.config"
}

# Two vantage points on one host: site a (<prefix>sa, 10.201.<B+4>.2) and site b (<prefix>sb,
# 10.201.<B+5>.2) each have a link of their own to the host (<prefix>sh), whose one address
# 10.201.<B+6>.1 is on its lo. The kernel ignores echo requests there; responder.ts answers those from
# site a after LAB_SITE_A_DELAY_MS and those from site b after LAB_SITE_B_DELAY_MS, none lost. Nothing
# connects these namespaces to the root namespace: only processes run inside a site (ip netns exec)
# reach the host.
sites_config() {
  printf '"a":{"ns":"%s","address":"%s.2","delayMs":%s},"b":{"ns":"%s","address":"%s.2","delayMs":%s}' \
    "$NS_SITE_A" "$SITE_A_NET" "$SITE_A_DELAY_MS" "$NS_SITE_B" "$SITE_B_NET" "$SITE_B_DELAY_MS"
}

up_sites() {
  local site ns net
  ns_add "$NS_SITES_HOST"
  ip netns exec "$NS_SITES_HOST" sysctl -qw net.ipv4.icmp_echo_ignore_all=1
  ip -n "$NS_SITES_HOST" addr add "$SITES_HOST/32" dev lo
  for site in a b; do
    if [[ $site == a ]]; then ns=$NS_SITE_A net=$SITE_A_NET; else ns=$NS_SITE_B net=$SITE_B_NET; fi
    ns_add "$ns"
    ip -n "$NS_SITES_HOST" link add "site_$site" type veth peer name eth0 netns "$ns"
    ip -n "$NS_SITES_HOST" addr add "$net.1/24" dev "site_$site"
    ip -n "$NS_SITES_HOST" link set "site_$site" up
    # Replies to the site leave from the host's address (the probed one), not from the link's.
    ip -n "$NS_SITES_HOST" route replace "$net.0/24" dev "site_$site" proto kernel scope link src "$SITES_HOST"
    ip -n "$ns" addr add "$net.2/24" dev eth0
    ip -n "$ns" link set eth0 up
    ip -n "$ns" route add "$SITES_HOST/32" via "$net.1" dev eth0
  done
  mkdir -p "$STATE_DIR"
  sites_config >"$STATE_DIR/sites.config"
  start_responder "$NS_SITES_HOST" sites-responder --delay-ms 0 --loss 0 \
    --delay-by-source "$SITE_A_NET.0/24=$SITE_A_DELAY_MS,$SITE_B_NET.0/24=$SITE_B_DELAY_MS"
}
down_sites() {
  stop_responder "$NS_SITES_HOST" sites-responder
  # The links go with the host namespace.
  ns_del "$NS_SITES_HOST"
  ns_del "$NS_SITE_A"
  ns_del "$NS_SITE_B"
  rm -f "$STATE_DIR/sites.config"
}

# Anything else left with our prefix (an interrupted `up`, a part renamed since).
sweep() {
  local name
  for name in $(ip -o link show | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }'); do
    [[ $name == "$P"* ]] && link_del "$name"
  done
  for name in $(ip netns list | awk '{ print $1 }'); do
    [[ $name == "$P"* ]] && ns_del "$name"
  done
  return 0
}

json_str() { if [[ -n $1 ]]; then printf '"%s"' "$1"; else printf 'null'; fi; }

summary() {
  local silent="" unr="" unr_router="" chain=null lossy=null sites=null pid="" config=""
  ns_exists "$NS_SILENT" && silent=$SILENT_NET.2
  if ns_exists "$NS_UNR"; then unr=$UNR_ADDR unr_router=$UNR_NET.2; fi
  if ns_exists "${NS_CHAIN[3]}"; then
    chain=$(printf '{"end":"%s.2","hops":["%s.2","%s.2","%s.2","%s.2"]}' "${CHAIN_NETS[3]}" "${CHAIN_NETS[@]}")
  fi
  if ns_exists "$NS_LOSSY"; then
    # The settings the responder was started with, not the current environment's.
    [[ -s $STATE_DIR/responder.pid ]] && pid=$(<"$STATE_DIR/responder.pid")
    if [[ -s $STATE_DIR/lossy.config ]]; then config=$(<"$STATE_DIR/lossy.config"); else config=$(lossy_config); fi
    lossy=$(printf '{"address":"%s.2",%s,"pid":%s}' "$LOSSY_NET" "$config" "${pid:-null}")
  fi
  if ns_exists "$NS_SITES_HOST"; then
    pid=""
    [[ -s $STATE_DIR/sites-responder.pid ]] && pid=$(<"$STATE_DIR/sites-responder.pid")
    if [[ -s $STATE_DIR/sites.config ]]; then config=$(<"$STATE_DIR/sites.config"); else config=$(sites_config); fi
    sites=$(printf '{"host":"%s",%s,"pid":%s}' "$SITES_HOST" "$config" "${pid:-null}")
  fi
  printf '{"id":%d,"prefix":"%s","silent":%s,"unreachable":%s,"unreachableRouter":%s,"chain":%s,"lossy":%s,"sites":%s}\n' \
    "$LAB_ID" "$P" "$(json_str "$silent")" "$(json_str "$unr")" "$(json_str "$unr_router")" "$chain" "$lossy" "$sites"
}

parse_parts() {
  local part
  PARTS=()
  if (($# == 0)); then set -- "${ALL_PARTS[@]}"; fi
  for part in "$@"; do
    case $part in
      silent | unreachable | chain | lossy | sites) PARTS+=("$part") ;;
      all) PARTS+=("${ALL_PARTS[@]}") ;;
      *) die "unknown part '$part' (expected: ${ALL_PARTS[*]})" ;;
    esac
  done
}

check_env() {
  ((EUID == 0)) || die "must run as root (network namespaces need CAP_NET_ADMIN)"
  ip netns list >/dev/null 2>&1 || die "'ip netns' is not available"
  [[ $DELAY_MS =~ ^(0|[1-9][0-9]*)(\.[0-9]+)?$ ]] || die "LAB_DELAY_MS must be a number of ms (got '$DELAY_MS')"
  [[ $LOSS =~ ^(0(\.[0-9]+)?|1(\.0+)?)$ ]] || die "LAB_LOSS must be a fraction 0..1 (got '$LOSS')"
  [[ $LOSS_BLOCK =~ ^[1-9][0-9]*$ ]] || die "LAB_LOSS_BLOCK must be a positive integer (got '$LOSS_BLOCK')"
  [[ $SEED =~ ^(0|[1-9][0-9]*)$ ]] || die "LAB_SEED must be a non-negative integer (got '$SEED')"
  [[ $SITE_A_DELAY_MS =~ ^(0|[1-9][0-9]*)(\.[0-9]+)?$ ]] || die "LAB_SITE_A_DELAY_MS must be a number of ms (got '$SITE_A_DELAY_MS')"
  [[ $SITE_B_DELAY_MS =~ ^(0|[1-9][0-9]*)(\.[0-9]+)?$ ]] || die "LAB_SITE_B_DELAY_MS must be a number of ms (got '$SITE_B_DELAY_MS')"
}

cmd_up() {
  parse_parts "$@"
  local part
  # On any failure, remove what this call was building; parts it did not touch stay as they were.
  trap 'if (($? != 0)); then log "up failed, removing ${PARTS[*]}"; for p in "${PARTS[@]}"; do "down_$p" || true; done; fi' EXIT
  for part in "${PARTS[@]}"; do
    "down_$part"
    "up_$part"
    log "up: $part"
  done
  summary
}

cmd_down() {
  local part
  parse_parts "$@"
  for part in "${PARTS[@]}"; do "down_$part"; done
  if (($# == 0)); then sweep; fi
  log "down: ${PARTS[*]}"
}

cmd_status() {
  local name
  for name in $(ip netns list | awk '{ print $1 }'); do
    [[ $name == "$P"* ]] && log "namespace $name"
  done
  summary
}

check_env
cmd=${1:-}
shift || true
case $cmd in
  up) cmd_up "$@" ;;
  # `down` must not fail because something is already gone.
  down) cmd_down "$@" || true ;;
  status) cmd_status ;;
  *) die "usage: lab.sh up|down|status [silent|unreachable|chain|lossy|sites ...]" ;;
esac

#!/usr/bin/env bash
# Installs the EdgeLoop agent as a hardened systemd service on Raspberry Pi OS (arm64, armv7),
# NVIDIA Jetson (L4T) and, for development, x86-64 Linux. Running it again upgrades the code,
# keeps the config (unless --force-config) and restarts the service.
# With --root DIR everything is staged under DIR instead of / (tests, image builders): no user,
# no chown, no systemctl; the script prints what it would have done instead.
set -Eeuo pipefail

usage() {
  cat <<'EOF'
usage: sudo firmware-scripts/install.sh --mqtt-url URL --trusted-key KEY [options]
   or: sudo firmware-scripts/install.sh --fleet URL --token T [options]   (enroll with the fleet)

  --fleet URL         the fleet server's HTTP address, e.g. http://fleet.local:8460; with --token
                      the device enrolls there and gets its broker URL, credentials and trusted keys
  --token T           enrollment token from the fleet operator (edgeloop tokens create)
  --ca-fingerprint F  with --fleet https://…: the fleet CA's sha256:… fingerprint (printed by
                      edgeloop tokens create); the device trusts only that CA from then on
  --insecure          with --fleet: allow plain http:// to another machine (clear text!)
  --mqtt-url URL      without --fleet: the fleet's MQTT broker, e.g. mqtt://fleet.local:18830
  --trusted-key KEY   without --fleet: base64 ed25519 public key of the fleet server (printed by
                      `edgeloop serve`, publicKey in /api/v1/health); repeat for several
  --device-id ID      device id: 1-64 of A-Z a-z 0-9 _ . - (default: the hostname)
  --api-port N        port of the local prediction API (default 8470)
  --source DIR        EdgeLoop checkout to install from (default: the one this script is in)
  --root DIR          stage into DIR instead of / (no user, no chown, no systemctl)
  --no-deps           skip `npm ci` (tests: the staged agent cannot run without dependencies)
  --with-wasm         also install the WASM backend (onnxruntime-web, ~140 MB) on a 64-bit device,
                      for runtime.backend "wasm" or as the fallback should the native one not load;
                      32-bit ARM always gets it, since ONNX Runtime has no native build there
  --force-config      rewrite /etc/edgeloop/agent.json although it exists
  -h, --help          this help

EDGELOOP_SYSROOT=DIR reads /proc/device-tree/model and /etc/nv_tegra_release under DIR, and
EDGELOOP_MACHINE overrides `uname -m` (tests fake a Pi or a Jetson this way).
EOF
}

say() { printf '[edgeloop install] %s\n' "$*"; }
die() { printf '[edgeloop install] error: %s\n' "$*" >&2; exit 1; }
# --root mode describes the privileged steps instead of doing them.
would() { say "skipped with --root, would run: $*"; }
trap 'die "unexpected failure at line $LINENO; fix the cause above and re-run (the installer is idempotent)"' ERR
# The temporary esbuild of build_bundle goes whichever way the script ends.
trap '[[ -z $BUILD_TOOLS ]] || rm -rf "$BUILD_TOOLS"' EXIT

# Paths as the device sees them; $R (the --root prefix, empty for /) goes in front when writing.
APP_DIR=/opt/edgeloop/agent
CONFIG=/etc/edgeloop/agent.json
STATE_DIR=/var/lib/edgeloop
UNIT=/etc/systemd/system/edgeloop-agent.service
USER_NAME=edgeloop
# What the agent needs from a checkout: its workspace (with the backend workspaces under
# agent/backends), the protocol it imports, and the workspace root (npm resolves @edgeloop/*
# through it). Nothing else: npm ci installs the dependencies of every workspace present in the
# copy that the agent's tests use (models would bring protobufjs), see lay_down_code.
SOURCE_ITEMS=(package.json package-lock.json agent protocol)
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NODE_HELP="install Node.js 20 LTS or newer system-wide: on Raspberry Pi OS and Jetson (Ubuntu) with NodeSource (https://github.com/nodesource/distributions: curl -fsSL https://deb.nodesource.com/setup_20.x | sudo -E bash - && sudo apt-get install -y nodejs) or the official linux-arm64 / linux-armv7l tarball from https://nodejs.org/en/download, then re-run this script"

SOURCE=$(dirname "$SCRIPT_DIR") ROOT="" R="" DEVICE_ID="" MQTT_URL="" TOKEN="" FLEET="" API_PORT="" CA_FINGERPRINT=""
INSECURE=0 NO_DEPS=0 FORCE_CONFIG=0 STAGED=0 PLATFORM=generic RUNNER="" WITH_WASM=0 BUILD_TOOLS=""
# The ONNX Runtime backends this CPU gets (see ort_backends): names of agent/backends/* workspaces.
BACKENDS=()
TRUSTED_KEYS=()

need_value() { [[ $# -ge 2 && -n $2 && $2 != --* ]] || die "$1 needs a value (see --help)"; }
while [[ $# -gt 0 ]]; do
  case $1 in
    --mqtt-url) need_value "$@"; MQTT_URL=$2; shift 2 ;;
    --trusted-key) need_value "$@"; TRUSTED_KEYS+=("$2"); shift 2 ;;
    --device-id) need_value "$@"; DEVICE_ID=$2; shift 2 ;;
    --token) need_value "$@"; TOKEN=$2; shift 2 ;;
    --fleet) need_value "$@"; FLEET=$2; shift 2 ;;
    --ca-fingerprint) need_value "$@"; CA_FINGERPRINT=$2; shift 2 ;;
    --insecure) INSECURE=1; shift ;;
    --api-port) need_value "$@"; API_PORT=$2; shift 2 ;;
    --source) need_value "$@"; SOURCE=$2; shift 2 ;;
    --root) need_value "$@"; ROOT=$2; STAGED=1; shift 2 ;;
    --no-deps) NO_DEPS=1; shift ;;
    --with-wasm) WITH_WASM=1; shift ;;
    --force-config) FORCE_CONFIG=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
done

preflight() {
  if [[ $STAGED -eq 1 ]]; then
    mkdir -p "$ROOT" || die "cannot create --root $ROOT"
    R=$(cd "$ROOT" && pwd)
    [[ $R != / ]] || R=""
    say "staging into ${R:-/} (--root): no user, no chown, no systemctl"
  elif [[ $(id -u) -ne 0 ]]; then
    die "run as root (sudo $0 ...), or pass --root DIR to stage into a directory"
  elif ! command -v systemctl >/dev/null 2>&1; then
    die "systemctl not found: this installer needs systemd (Raspberry Pi OS and L4T have it); use --root DIR to only stage the files"
  fi
  local item
  for item in "${SOURCE_ITEMS[@]}" agent/bin/edgeloop-agent.js; do
    [[ -e $SOURCE/$item ]] || die "$SOURCE is not a complete EdgeLoop checkout (no $item); pass --source DIR"
  done
  SOURCE=$(cd "$SOURCE" && pwd)

  if [[ -n $TOKEN && -z $FLEET ]]; then die "--token needs --fleet URL: the fleet server's HTTP address to enroll with, e.g. --fleet http://fleet.local:8460"; fi
  if [[ -n $FLEET && -z $TOKEN ]]; then die "--fleet needs --token T: an enrollment token from the fleet operator (edgeloop tokens create)"; fi
  if [[ -n $CA_FINGERPRINT && -z $FLEET ]]; then die "--ca-fingerprint goes with --fleet https://… --token T: it pins the fleet's CA at enrollment"; fi
  if [[ -z $FLEET && ( ! -e $R$CONFIG || $FORCE_CONFIG -eq 1 ) ]]; then
    [[ -n $MQTT_URL ]] || die "--mqtt-url URL is required for a new config (or enroll: --fleet URL --token T): the fleet's MQTT broker, e.g. --mqtt-url mqtt://fleet.local:18830"
    [[ ${#TRUSTED_KEYS[@]} -gt 0 ]] || die "--trusted-key KEY is required for a new config (or enroll: --fleet URL --token T): the fleet server's public key (printed by 'edgeloop serve', publicKey in /api/v1/health)"
  fi
  if [[ -z $DEVICE_ID ]]; then
    DEVICE_ID=$(hostname 2>/dev/null || cat /proc/sys/kernel/hostname)
    say "device id: $DEVICE_ID (the hostname; pass --device-id to choose another)"
  fi
}

# Reads the version through `<node> --version`, so a too-old node never gets to run our code.
require_node() {
  local version major minor
  version=$("$1" --version 2>/dev/null) || die "'$1 --version' failed; $NODE_HELP"
  [[ $version =~ ^v([0-9]+)\.([0-9]+)\. ]] || die "cannot read a Node.js version from '$version'; $NODE_HELP"
  major=${BASH_REMATCH[1]} minor=${BASH_REMATCH[2]}
  if ((major < 20 || (major == 20 && minor < 9))); then
    die "Node.js $version ($1) is too old, EdgeLoop needs 20.9 or newer; $NODE_HELP"
  fi
  say "Node.js $version ($1)"
}

check_node() {
  local node
  node=$(command -v node) || die "node not found on PATH; $NODE_HELP"
  require_node "$node"
  [[ $STAGED -eq 0 ]] || return 0
  # The unit starts `/usr/bin/env node` with systemd's PATH and ProtectHome=true, so a node that
  # works here (nvm in a home directory, /opt/...) may not be the one the service gets.
  local dir service_node=""
  for dir in /usr/local/bin /usr/bin /bin; do
    if [[ -x $dir/node ]]; then service_node=$dir/node; break; fi
  done
  [[ -n $service_node ]] || die "systemd will not find $node (not in /usr/local/bin or /usr/bin); $NODE_HELP"
  case $(readlink -f "$service_node") in
    /home/* | /root/* | /run/user/*) die "$service_node points into a home directory, which the service cannot see (ProtectHome=true); $NODE_HELP" ;;
  esac
  if [[ $(readlink -f "$service_node") != $(readlink -f "$node") ]]; then require_node "$service_node"; fi
}

detect_platform() {
  local sysroot=${EDGELOOP_SYSROOT:-} model="" release="" machine
  if [[ -r $sysroot/proc/device-tree/model ]]; then model=$(tr -d '\0' <"$sysroot/proc/device-tree/model"); fi
  if [[ -e $sysroot/etc/nv_tegra_release || $model == *"NVIDIA Jetson"* ]]; then
    PLATFORM=jetson
    if [[ -r $sysroot/etc/nv_tegra_release ]]; then
      # First line looks like "# R35 (release), REVISION: 4.1, GCID: ..."
      release=$(sed -n '1s/^# R\([0-9]*\) (release), REVISION: \([0-9.]*\).*/ L4T R\1.\2/p' "$sysroot/etc/nv_tegra_release")
    fi
    say "platform: NVIDIA Jetson${model:+ ($model)}$release"
    say "note: on Jetson the agent runs ONNX Runtime on the CPU (the npm build has no CUDA/TensorRT for arm64)"
  elif [[ $model == *"Raspberry Pi"* ]]; then
    PLATFORM=raspberrypi
    say "platform: $model"
  else
    say "platform: generic Linux (no Raspberry Pi or Jetson in $sysroot/proc/device-tree/model or $sysroot/etc/nv_tegra_release)"
  fi
  machine=${EDGELOOP_MACHINE:-$(uname -m)}
  case $machine in
    aarch64 | arm64) say "architecture: arm64" ;;
    armv7l | armv8l)
      say "architecture: armv7 (32-bit)"
      say "note: ONNX Runtime has no native armv7 build, so the agent will use its WASM backend (onnxruntime-web): slower than a 64-bit OS on the same board"
      ;;
    x86_64 | amd64) say "architecture: x86-64: fine for development machines; devices are arm64 or armv7" ;;
    *) die "unsupported CPU architecture '$machine': EdgeLoop runs on aarch64, armv7l and x86_64 (a Pi Zero/1 is armv6: use a Pi 2 or newer)" ;;
  esac
  ort_backends "$machine"
}

# Which ONNX Runtime package(s) this CPU gets, as the agent/backends/* workspaces that depend on
# them: the native one (onnxruntime-node) where it has a binary, otherwise the WASM build
# (onnxruntime-web). Installing only that one keeps ~140 MB off a 64-bit device's card, and a
# 32-bit one never downloads a native package it cannot load.
ort_backends() {
  case $1 in
    armv7l | armv8l)
      BACKENDS=(wasm)
      say "ONNX Runtime backend: onnxruntime-web (WASM)"
      ;;
    *)
      BACKENDS=(native)
      if [[ $WITH_WASM -eq 1 ]]; then
        BACKENDS+=(wasm)
        say "ONNX Runtime backends: onnxruntime-node (native) and onnxruntime-web (WASM, --with-wasm)"
      else
        say "ONNX Runtime backend: onnxruntime-node (native; --with-wasm adds the WASM one)"
      fi
      ;;
  esac
}

ensure_user() {
  if [[ $STAGED -eq 1 ]]; then
    would "useradd --system --user-group --no-create-home --home-dir $STATE_DIR --shell /usr/sbin/nologin $USER_NAME"
    if [[ $PLATFORM != generic ]]; then would "usermod -aG video $USER_NAME"; fi
    return 0
  fi
  # The unit's SupplementaryGroups=video fails the start if the group does not exist.
  if ! getent group video >/dev/null; then groupadd --system video && say "created group video"; fi
  if id -u "$USER_NAME" >/dev/null 2>&1; then
    say "system user $USER_NAME exists"
  else
    useradd --system --user-group --no-create-home --home-dir "$STATE_DIR" --shell /usr/sbin/nologin "$USER_NAME" ||
      die "could not create the system user $USER_NAME (see above); create it by hand and re-run"
    say "created system user $USER_NAME"
  fi
  if [[ $PLATFORM != generic ]]; then
    usermod -aG video "$USER_NAME"
    say "added $USER_NAME to group video (camera access)"
  fi
}

# Copies the workspaces the agent needs into APP_DIR.new, installs its dependencies there and
# only then swaps it in, so a failed npm ci leaves the previous installation untouched.
lay_down_code() {
  local dest=$R$APP_DIR new=$R$APP_DIR.new
  local items=("${SOURCE_ITEMS[@]}")
  if [[ -f $SOURCE/.npmrc ]]; then items+=(.npmrc); fi
  say "copying the agent from $SOURCE to $dest"
  rm -rf "$new"
  mkdir -p "$new"
  # agent/dist: a bundle the checkout built may be stale; the device's own is built below.
  tar -C "$SOURCE" --exclude=node_modules --exclude='*.test.ts' --exclude=.edgeloop --exclude=agent/dist -cf - "${items[@]}" |
    tar -C "$new" --no-same-owner -xf -
  # npm ci installs a package that a workspace present in the copy depends on, whatever the
  # --workspace filter says: the filter follows the agent's development edges too (its tests use
  # both ONNX Runtime builds and the models workspace), and --omit=dev drops only what no present
  # workspace needs. So the backend workspaces this CPU does not use leave the copy.
  local backend_dir
  for backend_dir in "$new"/agent/backends/*; do
    if [[ " ${BACKENDS[*]} " != *" ${backend_dir##*/} "* ]]; then rm -rf "$backend_dir"; fi
  done
  if [[ $NO_DEPS -eq 1 ]]; then
    say "skipping npm ci (--no-deps): the agent in $dest cannot run until its dependencies are installed"
  else
    command -v npm >/dev/null 2>&1 || die "npm not found (it comes with Node.js); $NODE_HELP"
    say "installing runtime dependencies with npm ci (native modules can take minutes on a Pi)"
    # Only the agent's workspace, the protocol it imports and the backend for this CPU, without
    # development dependencies (esbuild, tsx, the other ONNX Runtime build): the lockfile still
    # pins every version. @edgeloop/protocol is named too, so that its own dependencies
    # (tweetnacl, msgpackr, better-sqlite3) are installed with it.
    # ONNXRUNTIME_NODE_INSTALL=skip: onnxruntime-node's install script would fetch CUDA libraries
    # from nuget.org on x86-64 (the agent runs the CPU build in the package); npm 10 runs it.
    local workspaces=(--workspace @edgeloop/agent --workspace @edgeloop/protocol) backend
    for backend in "${BACKENDS[@]}"; do workspaces+=(--workspace "@edgeloop/agent-backend-$backend"); done
    (cd "$new" && ONNXRUNTIME_NODE_INSTALL=skip npm ci --omit=dev "${workspaces[@]}" --no-audit --no-fund) ||
      die "npm ci failed (see above); nothing was replaced. Check the network and the npm registry; if better-sqlite3 or sharp failed to build, run: sudo apt-get install -y build-essential python3; then re-run"
    "$SCRIPT_DIR/prune-node-modules.sh" "$new/node_modules" "$(node -p process.arch)" ||
      die "pruning $new/node_modules failed (see above); nothing was replaced"
    build_bundle "$new"
  fi
  rm -rf "$dest.old"
  if [[ -d $dest ]]; then mv "$dest" "$dest.old"; fi
  mv "$new" "$dest"
  rm -rf "$dest.old"
}

# Bundles the agent into one file in $1. esbuild is a development dependency, so it is fetched
# into a temporary directory for this build only, at the version the lockfile pins, and removed
# afterwards (~10 MB the device does not keep). --ignore-scripts: its postinstall only checks the
# binary, which the build does anyway.
build_bundle() {
  local new=$1 version
  version=$(node -e 'const lock = require(process.argv[1]); process.stdout.write(lock.packages["node_modules/esbuild"]?.version ?? "")' "$new/package-lock.json") ||
    die "cannot read $new/package-lock.json (see above); re-run with a complete checkout"
  [[ -n $version ]] || die "$new/package-lock.json pins no esbuild version; re-run with a complete checkout"
  BUILD_TOOLS=$(mktemp -d "${TMPDIR:-/tmp}/edgeloop-build-tools.XXXXXX")
  say "fetching esbuild $version to bundle the agent (temporary, not kept)"
  npm install --prefix "$BUILD_TOOLS" --no-save --no-package-lock --ignore-scripts --no-audit --no-fund "esbuild@$version" >/dev/null ||
    die "could not fetch esbuild $version (see above); nothing was replaced. Check the network and the npm registry, then re-run"
  say "bundling the agent into one file (no TypeScript loader at run time, less memory)"
  (cd "$new" && node agent/build.mjs --esbuild "$BUILD_TOOLS") ||
    die "bundling the agent failed (see above); nothing was replaced. Re-run; if it persists, report it with the output above"
  rm -rf "$BUILD_TOOLS"
  BUILD_TOOLS=""
}

# The CLI that writes the config: the installed copy if it was bundled (it then runs the bundle,
# having no tsx), otherwise the source checkout's (--no-deps), which runs its sources through tsx;
# either way with the node on PATH that was just checked.
pick_runner() {
  if [[ -f $R$APP_DIR/agent/dist/edgeloop-agent.mjs ]]; then
    RUNNER=$R$APP_DIR
  elif [[ -d $SOURCE/node_modules/tsx ]]; then
    RUNNER=$SOURCE
  else
    die "no dependencies to run edgeloop-agent with: run without --no-deps, or 'npm ci' in $SOURCE first"
  fi
}
agent_cli() { node "$RUNNER/agent/bin/edgeloop-agent.js" "$@"; }

write_config() {
  local conf=$R$CONFIG out key
  install -d -m 0750 "$R/etc/edgeloop"
  if [[ -e $conf && $FORCE_CONFIG -eq 0 ]]; then
    if [[ -n $TOKEN ]]; then
      say "keeping the existing config $conf and its credentials; --token is not used (pass --force-config to enroll again)"
    else
      say "keeping the existing config $conf (pass --force-config to rewrite it)"
    fi
  elif [[ -n $FLEET ]]; then
    local args=(enroll --fleet "$FLEET" --token "$TOKEN" --config "$conf" --device-id "$DEVICE_ID" --data "$STATE_DIR")
    if [[ -n $API_PORT ]]; then args+=(--api-port "$API_PORT"); fi
    if [[ -n $CA_FINGERPRINT ]]; then args+=(--ca-fingerprint "$CA_FINGERPRINT"); fi
    if [[ $INSECURE -eq 1 ]]; then args+=(--insecure); fi
    if [[ -e $conf ]]; then args+=(--force); fi
    local ok=1 line reason=""
    out=$(agent_cli "${args[@]}" 2>&1) || ok=0
    while IFS= read -r line; do
      if [[ $line == "error: "* ]]; then reason=${line#error: }; else say "$line"; fi
    done <<<"$out"
    # The agent's reason already says what to do (new token, check --fleet, ...).
    [[ $ok -eq 1 ]] || die "enrollment failed: ${reason:-see above}"
  else
    # init validates every setting as the agent will at start (the keys decoded with the same
    # function), so a typo fails the install and not the service.
    local args=(init --config "$conf" --device-id "$DEVICE_ID" --mqtt-url "$MQTT_URL" --data "$STATE_DIR")
    for key in "${TRUSTED_KEYS[@]}"; do args+=(--trusted-key "$key"); done
    if [[ -n $API_PORT ]]; then args+=(--api-port "$API_PORT"); fi
    if [[ -e $conf ]]; then args+=(--force); fi
    out=$(agent_cli "${args[@]}" 2>&1) || die "the agent refused the settings: ${out#error: }; correct the option and re-run"
    say "wrote $conf (device $DEVICE_ID, broker $MQTT_URL, data $STATE_DIR)"
  fi
  # Readable by the agent's group only: an enrolled config holds the broker password.
  chmod 0640 "$conf"
  # The fleet CA pinned at enrollment (fleet.ca): the agent must read it, nobody may swap it.
  local ca_file
  ca_file="$(dirname "$conf")/fleet-ca.pem"
  if [[ -e $ca_file ]]; then chmod 0640 "$ca_file"; fi
  if [[ $STAGED -eq 1 ]]; then
    would "chown root:$USER_NAME /etc/edgeloop $CONFIG${CA_FINGERPRINT:+ /etc/edgeloop/fleet-ca.pem}"
  else
    chown "root:$USER_NAME" "$R/etc/edgeloop" "$conf"
    if [[ -e $ca_file ]]; then chown "root:$USER_NAME" "$ca_file"; fi
  fi
}

prepare_state_dir() {
  install -d -m 0750 "$R$STATE_DIR"
  if [[ $STAGED -eq 1 ]]; then
    would "chown $USER_NAME:$USER_NAME $STATE_DIR"
  else
    chown "$USER_NAME:$USER_NAME" "$R$STATE_DIR"
  fi
  say "state directory $R$STATE_DIR (0750)"
}

install_unit() {
  install -D -m 0644 "$SCRIPT_DIR/systemd/edgeloop-agent.service" "$R$UNIT"
  say "installed the systemd unit $R$UNIT"
}

start_service() {
  if [[ $STAGED -eq 1 ]]; then
    would "systemctl daemon-reload && systemctl enable edgeloop-agent && systemctl restart edgeloop-agent"
    say "done: staged into ${R:-/}; nothing was started"
    return 0
  fi
  systemctl daemon-reload
  systemctl enable --quiet edgeloop-agent.service
  # restart, not `enable --now`: on a re-run the running agent must pick up the new code.
  systemctl restart edgeloop-agent.service ||
    die "edgeloop-agent did not start; see: journalctl -u edgeloop-agent -n 50"
  sleep 3
  systemctl is-active --quiet edgeloop-agent.service ||
    die "edgeloop-agent stopped right after starting; see: journalctl -u edgeloop-agent -n 50, fix $CONFIG (or re-run with --force-config), then: systemctl restart edgeloop-agent"
  say "done: edgeloop-agent is running; logs: journalctl -u edgeloop-agent -f"
}

preflight
check_node
detect_platform
ensure_user
lay_down_code
pick_runner
write_config
prepare_state_dir
install_unit
start_service

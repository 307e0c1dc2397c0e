#!/usr/bin/env bash
# rampart's container image, built from a built binary and smoke-tested
# with podman from the system packages: the image alone (a hunt over the
# bundled samples), then deploy/compose.yml (seed 001's pipeline and the
# web console) brought up, checked over HTTP and taken down.
# Usage: scripts/container.sh build|smoke [BINARY]   (target/release/rampart)
set -euo pipefail
cd "$(dirname "$0")/.."
action=${1:-smoke}
binary=${2:-target/release/rampart}
image=localhost/rampart:local
work=$(mktemp -d)
project=rampart-smoke-$$
trap 'podman-compose -p "$project" -f deploy/compose.yml down -v >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

# Containers inherit the host's limits and run under runc where it is
# installed: hosts that may not raise limits or mix cgroup versions (CI
# sandboxes) refuse podman's defaults otherwise.
{
    echo '[containers]'
    echo 'default_ulimits = []'
    if command -v runc >/dev/null; then
        echo '[engine]'
        echo 'runtime = "runc"'
    fi
} >"$work/containers.conf"
export CONTAINERS_CONF=$work/containers.conf

build() {
    local root=$work/context/rootfs
    mkdir -p "$root/usr/local/bin" "$root/usr/share/rampart" "$root/data" "$root/tmp"
    objcopy --strip-debug "$binary" "$root/usr/local/bin/rampart"
    # The C libraries the binary links, where its loader looks for them.
    for lib in $(ldd "$binary" | grep -o '/[^ ]*'); do
        mkdir -p "$root$(dirname "$lib")"
        cp -L "$lib" "$root$lib"
    done
    cp -r examples fixtures feeds "$root/usr/share/rampart/"
    cp deploy/Containerfile "$work/context/"
    podman build -q -t "$image" "$work/context" >/dev/null
    echo "built $image ($(podman image inspect "$image" --format '{{.Size}}') bytes)"
}

smoke() {
    podman run --rm "$image" --version
    local alerts
    alerts=$(podman run --rm "$image" hunt /usr/share/rampart/fixtures --year 2025 \
        --intel /usr/share/rampart/feeds/ipsum.txt -q --format jsonl | wc -l)
    [ "$alerts" -gt 50 ] || { echo "hunt in the container raised $alerts alerts" >&2; exit 1; }
    echo "hunt in the container: $alerts alerts"

    local port token answer
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    token=$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')
    RAMPART_TOKEN=$token RAMPART_PORT=$port SEED1_EVENTS=5000 \
        podman-compose -p "$project" -f deploy/compose.yml up -d >/dev/null 2>&1
    # The console answers once the pipeline has stored the generator's lines.
    local stored=0
    for _ in $(seq 1 90); do
        answer=$(curl -s --max-time 5 -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/overview" || true)
        stored=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1]).get("alerts", 0))' "$answer" 2>/dev/null || echo 0)
        if [ "$stored" -gt 0 ]; then
            local refused
            refused=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/api/overview")
            [ "$refused" = 401 ] || { echo "compose: the console answered $refused without the token" >&2; exit 1; }
            echo "compose: the console on port $port shows $stored alerts from seed 001's pipeline; without the token: 401"
            return 0
        fi
        sleep 2
    done
    echo "compose: the console never showed the pipeline's alerts; last answer: ${answer:0:300}" >&2
    podman-compose -p "$project" -f deploy/compose.yml logs >&2 || true
    exit 1
}

case $action in
build) build ;;
smoke) build && smoke ;;
*) echo "usage: $0 build|smoke [BINARY]" >&2; exit 2 ;;
esac

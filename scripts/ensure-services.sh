#!/usr/bin/env bash
# Make sure the PostgreSQL and Redis servers the tests use are reachable on loopback:
# start them when installed but stopped, install them from Debian when missing.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

port_open() {  # host port
    python3 - "$1" "$2" <<'PY'
import socket, sys
s = socket.socket()
s.settimeout(1.0)
try:
    s.connect((sys.argv[1], int(sys.argv[2])))
except OSError:
    sys.exit(1)
PY
}

apt_updated=""
apt_install() {
    if [ -z "$apt_updated" ]; then $SUDO apt-get update -qq; apt_updated=1; fi
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
}

wait_port() {  # host port what
    for _ in $(seq 1 60); do
        if port_open "$1" "$2"; then return 0; fi
        sleep 0.5
    done
    echo "ensure-services: $3 did not come up on $1:$2" >&2
    return 1
}

# --- PostgreSQL -------------------------------------------------------------
if ! port_open 127.0.0.1 5432; then
    if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
        echo "ensure-services: installing PostgreSQL"
        apt_install postgresql
    fi
    version="$(ls /etc/postgresql | sort -V | tail -1)"
    conf="/etc/postgresql/$version/main"
    # Loopback trust auth for the test database only; the machine has no other users.
    if ! grep -q "trunkline-tests" "$conf/pg_hba.conf"; then
        $SUDO sed -i '1i host all all 127.0.0.1/32 trust # trunkline-tests\nhost all all ::1/128 trust # trunkline-tests' "$conf/pg_hba.conf"
    fi
    echo "ensure-services: starting PostgreSQL $version"
    $SUDO pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    wait_port 127.0.0.1 5432 PostgreSQL
fi
if command -v psql >/dev/null 2>&1; then
    if ! psql -h 127.0.0.1 -U postgres -tAc "select 1 from pg_database where datname='test'" 2>/dev/null | grep -q 1; then
        psql -h 127.0.0.1 -U postgres -c "create database test" >/dev/null 2>&1 || true
    fi
fi

# --- Redis ------------------------------------------------------------------
if ! port_open 127.0.0.1 6379; then
    if ! command -v redis-server >/dev/null 2>&1; then
        echo "ensure-services: installing Redis"
        apt_install redis-server
    fi
    echo "ensure-services: starting Redis"
    mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" \
        --appendonly no --dir /var/lib/redis --logfile /var/log/redis/trunkline-tests.log
    wait_port 127.0.0.1 6379 Redis
fi
echo "ensure-services: PostgreSQL and Redis are reachable"

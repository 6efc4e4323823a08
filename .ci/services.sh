#!/usr/bin/env bash
# Brings up what the service tests talk to: PostgreSQL on 127.0.0.1:5432 (trust auth for local
# connections, user postgres) and Redis on 127.0.0.1:6379. Leaves running services alone; installs
# Debian's packages when a server is missing; exits non-zero, saying which, if one stays down.
set -uo pipefail

postgres_ready() { pg_isready --quiet --host 127.0.0.1 --port 5432 >/dev/null 2>&1; }
redis_ready() { [ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = "PONG" ]; }

apt_install() {
  echo "services: installing $*" >&2
  apt-get update -qq >/dev/null 2>&1
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null 2>&1
}

start_postgres() {
  command -v pg_ctlcluster >/dev/null 2>&1 || apt_install postgresql
  local version
  version=$(find /etc/postgresql -mindepth 1 -maxdepth 1 -type d -printf '%f\n' 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$version" ]; then
    echo "services: no PostgreSQL cluster found under /etc/postgresql" >&2
    return 1
  fi
  local hba="/etc/postgresql/$version/main/pg_hba.conf"
  # The tests connect as postgres over TCP without a password, as CI's machine allows.
  if [ -w "$hba" ] && ! grep -Eq '^host[[:space:]]+all[[:space:]]+all[[:space:]]+127\.0\.0\.1/32[[:space:]]+trust' "$hba"; then
    printf 'host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\n' | cat - "$hba" >"$hba.new" && mv "$hba.new" "$hba"
  fi
  pg_ctlcluster --skip-systemctl-redirect "$version" main start >/dev/null 2>&1 ||
    pg_ctlcluster --skip-systemctl-redirect "$version" main reload >/dev/null 2>&1
}

start_redis() {
  command -v redis-server >/dev/null 2>&1 || apt_install redis-server
  mkdir -p /var/lib/redis /var/log/redis
  # Nothing is persisted: the tests' queues are disposable.
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log >/dev/null 2>&1
}

postgres_ready || start_postgres
redis_ready || start_redis

for _ in $(seq 100); do
  postgres_ready && redis_ready && break
  sleep 0.1
done
postgres_ready || { echo "services: PostgreSQL does not answer on 127.0.0.1:5432" >&2; exit 1; }
redis_ready || { echo "services: Redis does not answer on 127.0.0.1:6379" >&2; exit 1; }
echo "services: PostgreSQL and Redis are up"

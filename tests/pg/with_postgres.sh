#!/usr/bin/env bash
# Runs a command with a throwaway PostgreSQL server for the catalog's PostgreSQL tests, which find it in
# TUNELENS_TEST_PG (a libpq URI); make test runs ctest under it.
#
#   tests/pg/with_postgres.sh ctest --preset release -R Catalog
#
# The server (Debian postgresql: initdb, pg_ctl) runs from a temporary folder, its data there and its socket there
# (no TCP port), as the user running this or, when that is root (CI), as the unprivileged user tunelens-pg
# (created when missing): PostgreSQL refuses to run as root. It is stopped and the folder removed on exit. Without
# a server (not installed, or it does not start) the command runs without TUNELENS_TEST_PG, and the PostgreSQL
# tests skip, saying so. A TUNELENS_TEST_PG already set is left as it is (a server of your own).
set -uo pipefail

note() { echo "with_postgres: $*" >&2; }

if [ -n "${TUNELENS_TEST_PG:-}" ]; then exec "$@"; fi
bin=""
for candidate in /usr/lib/postgresql/*/bin; do
  [ -x "$candidate/initdb" ] && [ -x "$candidate/pg_ctl" ] && bin=$candidate
done
if [ -z "$bin" ]; then
  note "no PostgreSQL server installed (Debian postgresql): the PostgreSQL tests are skipped"
  exec "$@"
fi

folder=$(mktemp -d /tmp/tunelens-pg.XXXXXX)
as_server=()
user=$(id -un)
if [ "$(id -u)" -eq 0 ]; then
  user=tunelens-pg
  if ! id -u "$user" >/dev/null 2>&1; then
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$user" ||
      note "cannot create the user $user"
  fi
  chown "$user" "$folder"
  as_server=(runuser -u "$user" --)
fi

stop() {
  [ -f "$folder/data/postmaster.pid" ] && "${as_server[@]}" "$bin/pg_ctl" -D "$folder/data" -m immediate stop >/dev/null 2>&1
  rm -rf "$folder"
}
trap stop EXIT

# Unsafe settings made for speed: the data is thrown away anyway.
port=5432
if "${as_server[@]}" "$bin/initdb" -D "$folder/data" -U "$user" --auth=trust -E UTF8 --no-locale >"$folder/initdb.log" 2>&1 &&
  "${as_server[@]}" "$bin/pg_ctl" -D "$folder/data" -l "$folder/server.log" -w -t 60 \
    -o "-k $folder -c listen_addresses= -p $port -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    start >/dev/null 2>&1 &&
  "${as_server[@]}" "$bin/createdb" -h "$folder" -p "$port" -U "$user" tunelens_test >/dev/null 2>&1; then
  export TUNELENS_TEST_PG="postgresql:///tunelens_test?host=$folder&port=$port&user=$user"
  note "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on $TUNELENS_TEST_PG"
else
  note "the PostgreSQL server did not start (its logs follow): the PostgreSQL tests are skipped"
  cat "$folder"/*.log >&2 2>/dev/null
fi
"$@"
exit $?

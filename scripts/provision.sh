# shellcheck shell=bash
# What the tests need from the machine, made available by `scripts/test` (this file is sourced, not run):
#   PostgreSQL (running, with a database the tests may use), Debian's Chromium, poppler-utils (pdftotext,
#   pdftoppm), Node's npm with axe-core (`npm ci`, pinned in package-lock.json), and a Java runtime for Spark.
# As root on Debian, missing pieces are installed from Debian's packages and started. Elsewhere nothing is
# installed: each missing piece is named with the command that would provide it, and the tests that need it
# are skipped with that reason (pytest counts them). When everything is there, RUECKENLOTSE_REQUIRE_ALL=1 is
# exported: from then on a test that finds something missing fails instead of skipping.

provision_missing=()
_apt_updated=""

_can_install() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; }

_apt_install() { # _apt_install PACKAGE... : true when installed
  _can_install || return 1
  if [ -z "$_apt_updated" ]; then
    apt-get update -qq >/dev/null 2>&1 || true
    _apt_updated=1
  fi
  echo "== installing Debian packages: $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

_need_command() { # _need_command COMMAND PACKAGE WHAT
  command -v "$1" >/dev/null && return 0
  _apt_install "$2" && command -v "$1" >/dev/null && return 0
  provision_missing+=("$3: apt-get install $2")
  return 1
}

# ---- PostgreSQL -------------------------------------------------------------------------------------
_pg_host=127.0.0.1
_pg_port=5432
_pg_up() { command -v pg_isready >/dev/null && pg_isready -q -h "$_pg_host" -p "$_pg_port"; }
_pg_works() { psql "$1" -Atqc 'SELECT 1' >/dev/null 2>&1; }

_pg_start() {
  local version
  if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
    _apt_install postgresql || return 1
  fi
  echo "== starting PostgreSQL"
  for version in $(ls /etc/postgresql 2>/dev/null); do
    pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null || true
  done
  for _ in $(seq 1 30); do _pg_up && return 0; sleep 1; done
  return 1
}

_provision_postgres() {
  if [ -n "${TEST_DATABASE_URL:-}" ]; then
    _pg_works "$TEST_DATABASE_URL" && return 0
    provision_missing+=("PostgreSQL at TEST_DATABASE_URL does not answer")
    return 1
  fi
  if ! _pg_up && ! _pg_start; then
    provision_missing+=("PostgreSQL: run as root on Debian, or set TEST_DATABASE_URL to a server the tests may use")
    return 1
  fi
  local url="postgresql://postgres@$_pg_host:$_pg_port/test"
  if ! _pg_works "$url" && [ "$(id -u)" = 0 ] && command -v runuser >/dev/null; then
    # A fresh Debian server asks for a password over TCP and has no database "test": make a role and a
    # database only for the tests (superuser: the backup tests run pg_dump and pg_restore as the README does).
    echo "== creating the PostgreSQL role and database rueckenlotse_test"
    runuser -u postgres -- psql -q -c "DO \$\$ BEGIN
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'rueckenlotse_test') THEN
          CREATE ROLE rueckenlotse_test LOGIN SUPERUSER PASSWORD 'rueckenlotse_test';
        END IF; END \$\$" >/dev/null
    runuser -u postgres -- createdb -O rueckenlotse_test rueckenlotse_test 2>/dev/null || true
    url="postgresql://rueckenlotse_test:rueckenlotse_test@$_pg_host:$_pg_port/rueckenlotse_test"
  fi
  if _pg_works "$url"; then
    export TEST_DATABASE_URL="$url"
    return 0
  fi
  provision_missing+=("PostgreSQL runs but $url does not accept the tests: set TEST_DATABASE_URL")
  return 1
}

# ---- the browser, PDFs, accessibility, Spark ----------------------------------------------------------
_provision_chromium() {
  [ -x /usr/bin/chromium ] && return 0
  _apt_install chromium && [ -x /usr/bin/chromium ] && return 0
  provision_missing+=("Debian's Chromium (/usr/bin/chromium), for the browser tests: apt-get install chromium")
  return 1
}

_provision_axe() {
  _need_command npm npm "npm, for axe-core in the accessibility tests" || return 1
  if [ ! -f node_modules/axe-core/axe.min.js ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    echo "== installing axe-core (npm ci, pinned in package-lock.json)"
    if ! npm ci --no-audit --no-fund --loglevel=error; then
      provision_missing+=("axe-core: npm ci failed")
      return 1
    fi
  fi
}

_provision_harfbuzz_subset() {
  # WeasyPrint subsets the PDF's fonts with HarfBuzz when it finds the library, else with fontTools in
  # Python (several times slower and a warning on each PDF). Chromium pulls it in; ask for it by name.
  ldconfig -p 2>/dev/null | grep -q 'libharfbuzz-subset\.so\.0' && return 0
  _apt_install libharfbuzz-subset0 && return 0
  provision_missing+=("HarfBuzz subsetting, for fast PDF reports: apt-get install libharfbuzz-subset0")
  return 1
}

provision() {
  # Each step records what it could not provide and the run goes on: one report lists everything missing.
  _provision_postgres || true
  _provision_chromium || true
  _need_command pdftotext poppler-utils "pdftotext, pdftoppm and pdfimages, for the PDF tests" || true
  _provision_harfbuzz_subset || true
  _provision_axe || true
  _need_command java default-jre-headless "Java, for the Spark engine of the batch tests" || true
  if [ "${#provision_missing[@]}" -eq 0 ]; then
    export RUECKENLOTSE_REQUIRE_ALL=1
    echo "== provisioned: PostgreSQL ($TEST_DATABASE_URL), Chromium, poppler-utils, HarfBuzz, axe-core, Java"
    return 0
  fi
  echo "== missing on this machine (the tests that need it are skipped and counted):" >&2
  printf '   - %s\n' "${provision_missing[@]}" >&2
  if [ -n "${CI:-}" ]; then
    echo "CI needs all of it" >&2
    return 1
  fi
}

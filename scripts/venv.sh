# Sourced by scripts/serve, scripts/sandan and scripts/test: a project virtualenv with pinned
# dependencies. One install at a time: `./scripts/serve & ./scripts/sandan demo` on a fresh
# clone has the second wait for the first's install instead of finding half a .venv.
ensure_venv() {
  local extras="${1:-}"
  local stamp=".venv/.installed${extras:+-$extras}"
  # flock(2) through python3 (macOS has no flock command): the lock belongs to the open file
  # on descriptor 9, which this shell keeps until the install is done.
  exec 9>".venv.lock"
  python3 -c 'import fcntl; fcntl.flock(9, fcntl.LOCK_EX)'
  if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
  fi
  if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    echo "installing Sandan into .venv (once) ..." >&2
    .venv/bin/python -m pip install --quiet --upgrade pip >/dev/null 2>&1 || true
    .venv/bin/python -m pip install --quiet -e ".${extras:+[$extras]}"
    touch "$stamp"
  fi
  exec 9>&-
}

# Shared by script/server and script/test (sourced, not run). Creates the virtualenv when it is
# missing and installs a requirements file when it changed since the last install.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
cd "$ROOT"

log() { printf '==> %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
is_root() { [ "$(id -u)" -eq 0 ]; }

find_python() {
  local candidate
  for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
      "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      command -v "$candidate"
      return 0
    fi
  done
  return 1
}

apt_install() {
  is_root || return 1
  log "Installing Debian packages: $*"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

ensure_venv() {
  if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c 'import pip' 2>/dev/null; then
    return 0
  fi
  local python
  python="$(find_python)" || die "Python 3.11 or newer is needed (python3 --version)."
  log "Creating virtualenv in .venv with $("$python" --version)"
  rm -rf "$VENV"
  if ! "$python" -m venv "$VENV" 2>/dev/null; then
    # Debian ships venv separately from python3.
    rm -rf "$VENV"
    apt_install python3-venv ||
      die "python3 -m venv failed. Install Debian's python3-venv (sudo apt-get install python3-venv) and run again."
    "$python" -m venv "$VENV"
  fi
  "$VENV/bin/python" -m pip install --quiet --upgrade pip
}

# install_requirements FILE: pip-installs FILE unless the same files were installed already.
install_requirements() {
  local file="$1" stamp="$VENV/.installed-$(basename "$1")" digest
  digest="$(cat "$file" requirements.txt | sha256sum | cut -d' ' -f1)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$digest" ]; then
    return 0
  fi
  log "Installing $file"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$file"
  echo "$digest" >"$stamp"
}

# ensure_package COMMAND PACKAGE...: installs Debian's PACKAGEs when COMMAND (a name on PATH or
# an absolute path) is missing. Not root: prints the apt-get command and returns 1.
ensure_package() {
  local command="$1"
  shift
  if command -v "$command" >/dev/null 2>&1 || [ -x "$command" ]; then
    return 0
  fi
  if is_root; then
    apt_install "$@"
    return 0
  fi
  printf 'warning: %s is missing. Install it with: sudo apt-get install %s\n' "$command" "$*" >&2
  return 1
}

# install_node_packages DIR: `npm ci` in DIR (its committed package-lock.json, into DIR's own
# node_modules) unless that lock file was installed already.
install_node_packages() {
  local dir="$1" stamp="$1/node_modules/.installed-lock" digest
  digest="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$digest" ]; then
    return 0
  fi
  log "Installing node packages in $dir"
  npm ci --prefix "$dir" --no-audit --no-fund --ignore-scripts --loglevel=error >/dev/null
  echo "$digest" >"$stamp"
}

# ensure_orthanc: Orthanc and its DICOMweb plugin (the PACS tests and the demo PACS), installed
# as root when missing. Not root: prints the apt-get command and returns 1.
ensure_orthanc() {
  local plugin=/usr/share/orthanc/plugins/libOrthancDicomWeb.so
  ensure_package Orthanc orthanc orthanc-dicomweb || return 1
  [ -e "$plugin" ] || ensure_package "$plugin" orthanc-dicomweb
}

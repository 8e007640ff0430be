# Sourced by the setup scripts: `apt_ensure WHO WHAT COMMAND:PACKAGE…` installs, with apt-get, the
# packages whose command is missing. Where apt-get is absent or this is not root it installs
# nothing and says what is missing (the tests that need them then say so themselves).
apt_ensure() {
  local who=$1 what=$2
  shift 2
  local missing=() pair
  for pair in "$@"; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "$who: missing ${missing[*]}; install them (apt-get install -y ${missing[*]}) to run $what" >&2
    return 0
  fi
  echo "$who: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

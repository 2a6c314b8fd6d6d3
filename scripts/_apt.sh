# Sourced by the install scripts: `apt_install PACKAGE...` as root, or through `sudo -n`.
apt_install() {
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        if ! command -v sudo >/dev/null 2>&1; then
            echo "$(basename "$0"): need root (or sudo) to apt-get install $*" >&2
            return 1
        fi
        sudo="sudo -n"
    fi
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -q
    $sudo apt-get install -y -q --no-install-recommends "$@"
}

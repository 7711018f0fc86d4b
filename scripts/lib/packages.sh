# Shared by scripts/test, scripts/run and friends: install the Debian packages MOM needs.
MOM_DEBIAN_PACKAGES=(libzookeeper-mt-dev zookeeper libsqlite3-dev libssl-dev netcat-openbsd python3-yaml)

mom_ensure_packages() {
    local missing=()
    local package
    for package in "${MOM_DEBIAN_PACKAGES[@]}" "$@"; do
        if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
            missing+=("$package")
        fi
    done
    if [ ${#missing[@]} -gt 0 ]; then
        echo "== installing Debian packages: ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq "${missing[@]}"
    fi
}

#!/usr/bin/env bash
# Installs MOM on a Debian machine for systemd (docs/operations.md): the Debian packages, the
# momd and momctl binaries in /usr/local/bin, the `mom` system user, /etc/mom and /var/lib/mom
# with tight modes, /etc/mom/momd.env with a generated MOM_SECRET_KEY (only if absent), the
# momd@.service template unit, and optionally a node's JSON config and the ZooKeeper unit.
#
# Idempotent: every step checks what is there and changes only what differs; a second run
# reports "0 changes". It never overwrites the secret or an existing node config.
#
# usage: config/install.sh [--dry-run] [--root DIR] [--binaries DIR] [--skip-packages]
#                          [--node-id N --http-listen IP:PORT --raft-listen IP:PORT
#                           [--zookeeper H:P,H:P,H:P] [--meta-replicas 1,2,3]]
#                          [--with-zookeeper-unit]
#   --dry-run        print what would change, change nothing
#   --root DIR       install under DIR instead of / (packages, user creation, chown and
#                    systemctl are skipped): for tests and image building
#   --binaries DIR   copy momd and momctl from DIR instead of building them (swift build -c release)
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$here")"
root=""
dry_run=0
binaries=""
skip_packages=0
node_id=""
http_listen=""
raft_listen=""
zookeeper=""
meta_replicas=""
with_zookeeper_unit=0

usage() { sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
while [ $# -gt 0 ]; do
    case "$1" in
        --dry-run) dry_run=1 ;;
        --root) root="${2:?--root needs a directory}"; shift ;;
        --binaries) binaries="${2:?--binaries needs a directory}"; shift ;;
        --skip-packages) skip_packages=1 ;;
        --node-id) node_id="${2:?--node-id needs a number}"; shift ;;
        --http-listen) http_listen="${2:?}"; shift ;;
        --raft-listen) raft_listen="${2:?}"; shift ;;
        --zookeeper) zookeeper="${2:?}"; shift ;;
        --meta-replicas) meta_replicas="${2:?}"; shift ;;
        --with-zookeeper-unit) with_zookeeper_unit=1 ;;
        -h|--help) usage ;;
        *) echo "install.sh: unknown argument '$1'" >&2; usage ;;
    esac
    shift
done
if [ -n "$node_id" ] && ! [[ "$node_id" =~ ^[1-9][0-9]*$ ]]; then
    echo "install.sh: --node-id must be a positive number (it names the momd@N instance)" >&2; exit 2
fi
# The listen addresses are also what the node advertises in ZooKeeper, so peers and forwarded
# requests dial them: they must be this machine's own address, never 0.0.0.0.
if [ -n "$node_id" ] && { [ -z "$http_listen" ] || [ -z "$raft_listen" ]; }; then
    echo "install.sh: --node-id needs --http-listen IP:PORT and --raft-listen IP:PORT (this machine's address: peers dial what the node advertises)" >&2; exit 2
fi
if [ -n "$root" ]; then
    if [ "$dry_run" = 0 ]; then mkdir -p "$root"; fi
    root="$(cd "$root" 2>/dev/null && pwd || echo "$root")"
fi
if [ -z "$root" ] && [ "$dry_run" = 0 ] && [ "$(id -u)" != 0 ]; then
    echo "install.sh: run as root (or use --dry-run / --root DIR)" >&2; exit 1
fi

changes=0
say() { echo "install.sh: $*"; }
# Records a change and runs it, unless this is a dry run.
change() {
    local what="$1"; shift
    changes=$((changes + 1))
    if [ "$dry_run" = 1 ]; then say "would $what"; else say "$what"; "$@"; fi
}
owned() { [ -z "$root" ]; }  # chown only on the real machine, where the user exists

ensure_dir() { # path mode owner:group
    local path="$root$1" mode="$2" owner="$3"
    if [ ! -d "$path" ]; then
        change "create $1 ($mode $owner)" install -d -m "$mode" "$path"
        if owned && [ "$dry_run" = 0 ]; then chown "$owner" "$path"; fi
        return
    fi
    [ "$(stat -c %a "$path")" = "${mode#0}" ] || change "set mode $mode on $1" chmod "$mode" "$path"
    if owned && [ "$(stat -c %U:%G "$path")" != "$owner" ]; then change "set owner $owner on $1" chown "$owner" "$path"; fi
}

ensure_file() { # source destination mode owner:group (replaced when its content differs)
    local source="$1" path="$root$2" mode="$3" owner="$4"
    if [ ! -f "$path" ] || ! cmp -s "$source" "$path"; then
        change "install $2" install -m "$mode" "$source" "$path"
        if owned && [ "$dry_run" = 0 ]; then chown "$owner" "$path"; fi
        return
    fi
    [ "$(stat -c %a "$path")" = "${mode#0}" ] || change "set mode $mode on $2" chmod "$mode" "$path"
    if owned && [ "$(stat -c %U:%G "$path")" != "$owner" ]; then change "set owner $owner on $2" chown "$owner" "$path"; fi
}

# 1. Debian packages (the same list scripts/test uses), on the real machine only.
if [ "$skip_packages" = 0 ] && [ -z "$root" ]; then
    source "$repo/scripts/lib/packages.sh"
    missing=()
    for package in "${MOM_DEBIAN_PACKAGES[@]}" systemd; do
        [[ "$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null)" == *'install ok installed'* ]] || missing+=("$package")
    done
    if [ ${#missing[@]} -gt 0 ]; then change "install Debian packages: ${missing[*]}" mom_ensure_packages systemd; fi
fi

# 2. Binaries: copied from --binaries, or built here in release mode.
if [ -z "$binaries" ]; then
    binaries="$repo/.build/release"
    if [ "$dry_run" = 0 ]; then
        say "building momd and momctl (swift build -c release)"
        (cd "$repo" && swift build -c release --product momd >&2 && swift build -c release --product momctl >&2)
    fi
fi
ensure_dir /usr/local/bin 0755 root:root
for binary in momd momctl; do
    if [ -x "$binaries/$binary" ]; then
        ensure_file "$binaries/$binary" "/usr/local/bin/$binary" 0755 root:root
    elif [ "$dry_run" = 1 ]; then
        change "install /usr/local/bin/$binary (after building it)" true
    else
        echo "install.sh: $binaries/$binary is missing" >&2; exit 1
    fi
done

# 3. The system user the daemon runs as (no login, no home of its own beyond the data root).
if [ -z "$root" ] && ! getent passwd mom >/dev/null; then
    change "create system user mom" useradd --system --user-group --home-dir /var/lib/mom --no-create-home --shell /usr/sbin/nologin mom
fi

# 4. Directories: configs are world-readable but root-owned; data is the daemon's alone.
ensure_dir /etc/mom 0755 root:root
ensure_dir /var/lib/mom 0750 mom:mom
if [ -n "$node_id" ]; then ensure_dir "/var/lib/mom/$node_id" 0750 mom:mom; fi
ensure_dir /usr/local/share/doc/mom 0755 root:root
ensure_dir /etc/systemd/system 0755 root:root

# 5. The secret: generated once, never printed, never replaced (every node must share it:
#    copy this file to the other machines, see docs/operations.md).
write_secret() {
    local secret
    if command -v openssl >/dev/null; then secret="$(openssl rand -hex 32)"; else secret="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"; fi
    (umask 077 && printf '# Written by config/install.sh; identical on every node. See momd.env.example.\nMOM_SECRET_KEY=%s\n' "$secret" > "$root/etc/mom/momd.env")
}
if [ ! -f "$root/etc/mom/momd.env" ]; then
    change "create /etc/mom/momd.env with a new random MOM_SECRET_KEY (0600)" write_secret
else
    [ "$(stat -c %a "$root/etc/mom/momd.env")" = 600 ] || change "set mode 0600 on /etc/mom/momd.env" chmod 0600 "$root/etc/mom/momd.env"
    if owned && [ "$(stat -c %U:%G "$root/etc/mom/momd.env")" != root:root ]; then change "set owner root:root on /etc/mom/momd.env" chown root:root "$root/etc/mom/momd.env"; fi
fi

# 6. A node's config, written once from the flags (edit it afterwards; a rerun keeps it).
write_node_config() {
    local meta="${meta_replicas:-$node_id}"
    {
        printf '{\n'
        printf '  "http-listen": "%s",\n  "raft-listen": "%s",\n' "$http_listen" "$raft_listen"
        if [ -n "$zookeeper" ]; then printf '  "zookeeper": "%s",\n  "zk-root": "/mom",\n' "$zookeeper"; fi
        printf '  "users-db": "/var/lib/mom/users.db",\n  "cluster-id": "mom",\n  "meta-replicas": [%s]\n}\n' "$meta"
    } > "$root/etc/mom/momd-$node_id.json"
    chmod 0644 "$root/etc/mom/momd-$node_id.json"
}
if [ -n "$node_id" ] && [ ! -f "$root/etc/mom/momd-$node_id.json" ]; then
    change "create /etc/mom/momd-$node_id.json" write_node_config
fi

# 7. Units and docs.
ensure_file "$here/momd@.service" "/etc/systemd/system/momd@.service" 0644 root:root
ensure_file "$here/momd.env.example" "/etc/mom/momd.env.example" 0644 root:root
if [ "$with_zookeeper_unit" = 1 ]; then ensure_file "$here/zookeeper.service" "/etc/systemd/system/zookeeper.service" 0644 root:root; fi
ensure_file "$repo/docs/operations.md" "/usr/local/share/doc/mom/operations.md" 0644 root:root
if [ -z "$root" ] && [ "$dry_run" = 0 ] && [ "$changes" -gt 0 ] && [ -d /run/systemd/system ]; then
    systemctl daemon-reload
fi

say "$changes changes$([ "$dry_run" = 1 ] && echo ' (dry run: nothing was changed)')"
if [ -n "$node_id" ] && [ "$dry_run" = 0 ]; then
    say "next: check /etc/mom/momd-$node_id.json, then: systemctl enable --now momd@$node_id"
fi

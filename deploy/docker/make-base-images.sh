#!/usr/bin/env bash
# Makes the base images deploy/docker/Dockerfile starts from, debian:12 and debian:12-slim,
# on a machine whose Docker daemon cannot reach a registry: debootstrap --variant=minbase
# of Debian 12 from the mirror this machine's apt sources name (about 45 s), imported with
# `docker import`. Does nothing for an image that is already there, so where a registry is
# reachable, `docker pull debian:12 debian:12-slim` first and this script is a no-op.
# The slim one drops documentation, manual pages and locales as Docker's official
# debian:12-slim does. Needs root (debootstrap) and a running dockerd.
set -euo pipefail

have() { docker image inspect "$1" >/dev/null 2>&1; }
if have debian:12 && have debian:12-slim; then
  echo "debian:12 and debian:12-slim are present: nothing to do"
  exit 0
fi
[ "$(id -u)" -eq 0 ] || { echo "make-base-images.sh: debootstrap needs root" >&2; exit 1; }

# The first Debian (not security) mirror of the apt sources, deb822 or one-line format.
mirror="$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null |
  awk '/^URIs:/ {for (i = 2; i <= NF; i++) if ($i !~ /security/) {print $i; exit}}')"
if [ -z "$mirror" ]; then
  mirror="$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
    awk '$1 == "deb" && $2 !~ /security/ {print $2; exit}')"
fi
[ -n "$mirror" ] || { echo "make-base-images.sh: no Debian mirror in the apt sources" >&2; exit 1; }

if ! command -v debootstrap >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null ||
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null; }
fi

work="$(mktemp -d /tmp/inferd-base-XXXXXX)"
trap 'rm -rf "$work"' EXIT
rootfs="$work/rootfs"
echo "debootstrap bookworm (minbase) from $mirror"
time debootstrap --variant=minbase --arch=amd64 bookworm "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 ||
  { tail -20 "$work/debootstrap.log" >&2; exit 1; }

# The image gets this machine's apt sources (the same mirror, updates and security
# suites) so that `apt-get install` in the Dockerfile finds the versions this host has.
rm -f "$rootfs/etc/apt/sources.list"
if ls /etc/apt/sources.list.d/*.sources >/dev/null 2>&1; then
  cp /etc/apt/sources.list.d/*.sources "$rootfs/etc/apt/sources.list.d/"
else
  cp /etc/apt/sources.list "$rootfs/etc/apt/sources.list"
fi
# As Docker's Debian images: no package caches kept, no recommended packages.
cat >"$rootfs/etc/apt/apt.conf.d/docker-clean" <<'CONF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache ""; Dir::Cache::srcpkgcache "";
CONF
echo 'APT::Install-Recommends "false";' >"$rootfs/etc/apt/apt.conf.d/docker-no-recommends"
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/* "$rootfs"/var/log/* "$rootfs"/tmp/*

import_image() {  # import_image ROOTFS TAG
  tar --numeric-owner -C "$1" -c . |
    docker import --change 'CMD ["bash"]' \
      --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' - "$2" >/dev/null
  echo "imported $2: $(docker image inspect --format '{{.Size}}' "$2" | awk '{printf "%.1f MB", $1 / 1e6}')"
}
have debian:12 || import_image "$rootfs" debian:12

if ! have debian:12-slim; then
  # What debian:12-slim leaves out, now and for packages installed later (dpkg excludes).
  cat >"$rootfs/etc/dpkg/dpkg.cfg.d/docker-slim" <<'CONF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
CONF
  find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
  find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete
  rm -rf "$rootfs"/usr/share/{man,groff,info,locale,lintian,linda}/*
  import_image "$rootfs" debian:12-slim
fi

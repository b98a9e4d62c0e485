#!/bin/sh
# packaging/build.sh deb|rpm [OUTDIR]: build the host package
# (libvirt-ssh-proxy-go) and the guest package (libvirt-ssh-proxy-guest) in
# one format into OUTDIR (default build/pkg), reproducibly: the same commit
# gives the same bytes (SOURCE_DATE_EPOCH = the last commit's time, fixed
# modes and build host, gzip -n, a -trimpath binary).
set -eu
fmt=${1:?usage: packaging/build.sh deb|rpm [OUTDIR]}
cd "$(dirname "$0")/.."
out=${2:-build/pkg}
GO=${GO:-go}
# pinned in go.mod (a tool directive)
NFPM=${NFPM:-$GO tool nfpm}

SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct)}
if [ -z "${PKG_VERSION:-}" ]; then
  tag=$(git describe --tags --exact-match --match 'v[0-9]*' 2>/dev/null || true)
  if [ -n "$tag" ]; then
    PKG_VERSION=${tag#v}
  else
    PKG_VERSION=0.0~git$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y%m%d).$(git rev-parse --short=12 HEAD)
  fi
fi
PKG_ARCH=${PKG_ARCH:-$($GO env GOARCH)}
case $fmt in
  deb) ZSHDIR=/usr/share/zsh/vendor-completions ;;
  rpm) ZSHDIR=/usr/share/zsh/site-functions ;;
  *) echo "packaging/build.sh: unknown format $fmt (want deb or rpm)" >&2; exit 2 ;;
esac
export SOURCE_DATE_EPOCH PKG_VERSION PKG_ARCH ZSHDIR

# Stage exactly what `make install` installs, with this format's paths.
STAGE=$(pwd)/build/stage/$fmt
rm -rf "$STAGE"
# The binary is always rebuilt (-B), so that it reports the package's
# version, into build/ rather than bin/: bin/ stays the user's own build.
make --no-print-directory -B install BIN="build/bin-$fmt/libvirt-ssh-proxy" VERSION="$PKG_VERSION" \
  DESTDIR="$STAGE" PREFIX=/usr SYSCONFDIR=/etc ZSHCOMPDIR="$ZSHDIR" GO="$GO" >/dev/null
gzip -9n "$STAGE/usr/share/man/man1/libvirt-ssh-proxy.1"

mkdir -p "$out"
STAGE=$STAGE $NFPM package --config packaging/nfpm.yaml --packager "$fmt" --target "$out/"
$NFPM package --config packaging/guest/nfpm.yaml --packager "$fmt" --target "$out/"

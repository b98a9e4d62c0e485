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
NFPM=${NFPM:-$GO run github.com/goreleaser/nfpm/v2/cmd/nfpm@v2.44.0}

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
  deb) LIBEXEC=/usr/lib/libvirt-ssh-proxy ZSHDIR=/usr/share/zsh/vendor-completions ;;
  rpm) LIBEXEC=/usr/libexec/libvirt-ssh-proxy ZSHDIR=/usr/share/zsh/site-functions ;;
  *) echo "packaging/build.sh: unknown format $fmt (want deb or rpm)" >&2; exit 2 ;;
esac
export SOURCE_DATE_EPOCH PKG_VERSION PKG_ARCH LIBEXEC ZSHDIR

# Stage exactly what `make install` installs, with this format's paths.
STAGE=$(pwd)/build/stage/$fmt
rm -rf "$STAGE"
# The binary is always rebuilt, so that it reports the package's version.
make --no-print-directory -B bin/libvirt-ssh-proxy VERSION="$PKG_VERSION" GO="$GO" >/dev/null
make --no-print-directory install DESTDIR="$STAGE" PREFIX=/usr SYSCONFDIR=/etc \
  LIBEXECDIR="$LIBEXEC" ZSHCOMPDIR="$ZSHDIR" GO="$GO" >/dev/null
gzip -9n "$STAGE/usr/share/man/man1/libvirt-ssh-proxy.1"

mkdir -p "$out"
STAGE=$STAGE $NFPM package --config packaging/nfpm.yaml --packager "$fmt" --target "$out/"
$NFPM package --config packaging/guest/nfpm.yaml --packager "$fmt" --target "$out/"

#!/bin/sh
# libvirt-ssh-proxy-go preinst (deb) / %pre (rpm): refuse, before anything is
# unpacked, to install over the two files in /etc that `make install` writes.
# They are this package's conffiles: dpkg would stop to ask about them (rpm
# would set them aside) and purging the package would delete them. Files of a
# package (ours when upgrading, libvirt's libvirt-ssh-proxy being replaced)
# are fine.
set -e
for f in /etc/ssh/ssh_config.d/30-libvirt-ssh-proxy.conf /etc/bash_completion.d/libvirt-ssh-proxy; do
  [ -e "$f" ] || continue
  if command -v dpkg-query >/dev/null 2>&1 && dpkg-query -S "$f" >/dev/null 2>&1; then continue; fi
  if command -v rpm >/dev/null 2>&1 && rpm -qf "$f" >/dev/null 2>&1; then continue; fi
  echo "libvirt-ssh-proxy-go: $f belongs to no package (make install wrote it?): run 'sudo make uninstall' in the source tree first, or move it away; nothing was changed" >&2
  exit 1
done
exit 0

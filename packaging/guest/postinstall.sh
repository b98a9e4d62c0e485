#!/bin/sh
# After installing libvirt-ssh-proxy-guest: on first install, enable the
# socket as the preset says (80-libvirt-ssh-proxy-guest.preset: enable) and
# start it if systemd runs. deb: "configure" with no old version; rpm: 1.
set -e
first=no
case "$1" in
  configure) [ -z "$2" ] && first=yes ;;
  1) first=yes ;;
esac
if [ -d /run/systemd/system ]; then
  systemctl daemon-reload || true
fi
if [ "$first" = yes ]; then
  systemctl preset libvirt-sshd-vsock.socket >/dev/null 2>&1 || true
  if [ -d /run/systemd/system ]; then
    systemctl start libvirt-sshd-vsock.socket || true
  fi
fi
exit 0

#!/bin/sh
# Before removing libvirt-ssh-proxy-guest (not on upgrade): stop and disable
# the socket. deb: "remove"; rpm: 0 when the last version goes.
set -e
case "$1" in
  remove | 0)
    systemctl --no-reload disable libvirt-sshd-vsock.socket >/dev/null 2>&1 || true
    if [ -d /run/systemd/system ]; then
      systemctl stop libvirt-sshd-vsock.socket || true
    fi
    ;;
esac
exit 0

#!/bin/sh
# After removing libvirt-ssh-proxy-guest: let a running systemd forget the units.
set -e
if [ -d /run/systemd/system ]; then
  systemctl daemon-reload || true
fi
exit 0

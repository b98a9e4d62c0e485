# shellcheck shell=bash
# Sourced by run.sh (the L2 initramfs) and lib.sh (the L1 listeners): one
# sshd configuration for every guest sshd of the rig.

# sshd_config FILE KEYDIR ENV: host key and authorized keys from KEYDIR, an
# sftp subsystem, and ENV (NAME=VALUE) set in each session, which is how a
# check tells which sshd served it.
sshd_config() {
  cat > "$1" <<EOC
HostKey $2/hostkey
AuthorizedKeysFile $2/authorized_keys
StrictModes no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
UsePAM no
UseDNS no
PidFile none
Subsystem sftp /usr/lib/openssh/sftp-server
SetEnv $3
LogLevel VERBOSE
EOC
}

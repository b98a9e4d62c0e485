# shellcheck shell=bash
# Sourced by run.sh (the L2 initramfs) and lib.sh (the L1 listeners): one
# sshd configuration for every guest sshd of the rig.

# sshd_config FILE KEYDIR ENV: host key and authorized keys from KEYDIR, an
# sftp subsystem, and ENV (NAME=VALUE) set in each session, which is how a
# check tells which sshd served it. No login grace time: on a 2-vCPU host
# whose syscalls are dear, three parallel logins to a freshly booted L2
# guest under nested TCG outlasted sshd's default 120 s before
# authentication, and sshd hung up on all three ("Connection closed", the
# monitor gone: mm_log_handler: write: Broken pipe); the clients' own
# ConnectTimeout and timeout (600 s) bound a login instead.
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
LoginGraceTime 0
EOC
}

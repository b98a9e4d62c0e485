# bash completion for libvirt-ssh-proxy                      -*- shell-script -*-
#
# Two parts, one file (installed twice):
#  - in bash-completion's completions/ directory it completes the helper's own
#    subcommands, options and HOST argument (loaded on first use);
#  - in /etc/bash_completion.d/ (sourced when bash-completion starts) it wraps
#    the known-hosts function ssh, scp, sftp and rsync complete hosts with
#    (_known_hosts_real; _comp_compgen_known_hosts__impl from 2.12 on), so
#    that a host word starting with "q" also gets qemu/NAME (scp and rsync:
#    qemu%NAME:) for every running libvirt domain, and nobody gets the
#    drop-in's Host patterns cut at their wildcard (qemu/, qemu:), which
#    bash-completion would offer as host names.
#
# The names come from `libvirt-ssh-proxy complete-hosts WORD`, which searches
# what the helper would: its defaults, or LIBVIRT_SSH_PROXY_CONNECT's URIs.

_libvirt_ssh_proxy_bin=@BINDIR@/libvirt-ssh-proxy

# _libvirt_ssh_proxy_hosts WORD: the completions of WORD, one a line.
_libvirt_ssh_proxy_hosts()
{
    "$_libvirt_ssh_proxy_bin" complete-hosts --timeout 2 -- "$1" 2>/dev/null
}

# The helper's own command line. Its options, which of them take a value,
# and its subcommands are read from its --help, so that new ones complete
# without a change here.
_libvirt_ssh_proxy()
{
    local cur prev words cword
    _init_completion -n : || return

    local help
    help=$("${words[0]}" --help 2>&1) || return
    local valopts commands
    valopts=" $(sed -nE 's/^ +(-[A-Za-z]), (--[a-z-]+) [A-Z].*/\1 \2/p; s/^ +(--[a-z-]+) [A-Z].*/\1/p' <<<"$help" | tr '\n' ' ')"
    commands=" $(sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p' <<<"$help" | tr '\n' ' ')"
    [[ $valopts == *" $prev "* ]] && return
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$(grep -oE -- '--[a-z][a-z-]*' <<<"$help" | sort -u)" -- "$cur"))
        return
    fi
    local i cmd="" nargs=0
    for ((i = 1; i < cword; i++)); do
        if [[ $valopts == *" ${words[i]} "* ]]; then
            ((i++))
        elif [[ ${words[i]} == -* ]]; then
            :
        elif [[ -z $cmd && $nargs == 0 && $commands == *" ${words[i]} "* ]]; then
            cmd=${words[i]}
        else
            ((nargs++))
        fi
    done
    if [[ -z $cmd && $nargs == 0 ]]; then
        COMPREPLY=($(compgen -W "$commands" -- "$cur"))
    fi
    # HOST: the first argument; every argument of ssh-config; none for list.
    if [[ $cmd != complete-hosts && $cmd != list && ($nargs == 0 || $cmd == ssh-config) ]]; then
        local IFS=$'\n'
        COMPREPLY+=($(_libvirt_ssh_proxy_hosts "$cur"))
        __ltrim_colon_completions "$cur"
    fi
} &&
    complete -F _libvirt_ssh_proxy libvirt-ssh-proxy

# _libvirt_ssh_proxy_args [-ac46] [-F FILE] [-p PREFIX] CWORD: reads the
# arguments of bash-completion's known-hosts function into the caller's
# prefix, suffix, cur and trim: how that function spells its entries (PREFIX
# and a user@ before, ':' after with -c), and the part up to the last ':' of
# the word that it removes when bash splits words there.
_libvirt_ssh_proxy_args()
{
    local flag OPTIND=1
    prefix="" suffix="" trim=""
    while getopts "ac46F:p:" flag "$@"; do
        case $flag in
            c) suffix=: ;;
            p) prefix=$OPTARG ;;
            *) ;; # -a -4 -6 -F: for the known-hosts function only
        esac
    done
    cur=${!OPTIND-}
    [[ $cur == *@* ]] && prefix=$prefix${cur%@*}@ && cur=${cur#*@}
    if [[ $prefix$cur == *:* && $COMP_WORDBREAKS == *:* ]]; then
        trim=${prefix}${cur%"${cur##*:}"}
    fi
}

# _libvirt_ssh_proxy_qemu_hosts ARGS...: takes the arguments of
# bash-completion's known-hosts function and prints, one a line, the qemu
# host names that complete its CWORD, spelled as that function spells its
# own (scp, rsync: the %-spelling, as they take "a/b:path" for a local
# path). Words not starting with "q" get nothing, and cost nothing.
_libvirt_ssh_proxy_qemu_hosts()
{
    local prefix suffix cur trim
    _libvirt_ssh_proxy_args "$@"
    [[ $cur == q* ]] || return 0
    local word=$cur
    [[ $suffix && qemu% == "$cur"* ]] && word=qemu%
    local h IFS=$'\n'
    for h in $(_libvirt_ssh_proxy_hosts "$word"); do
        h=$prefix$h$suffix
        printf '%s\n' "${h#"$trim"}"
    done
}

# The drop-in's Host patterns cut at their first wildcard, as bash-completion
# offers every Host pattern of the ssh configs it reads (qemu%* gives "qemu",
# qemu/* gives "qemu/"): names that reach nothing.
_libvirt_ssh_proxy_stems=" qemu/ qemu:system/ qemu:session/ qemu vsock/ vsock unix/ unix vsock-mux/ vsock-mux "

# _libvirt_ssh_proxy_drop_stems ARRAY ARGS...: removes from ARRAY the
# entries the known-hosts function called with ARGS made of the drop-in's
# Host patterns.
_libvirt_ssh_proxy_drop_stems()
{
    local -n _lsp_entries=$1
    shift
    local prefix suffix cur trim i e
    _libvirt_ssh_proxy_args "$@"
    for i in "${!_lsp_entries[@]}"; do
        e=$trim${_lsp_entries[i]}
        e=${e#"$prefix"}
        e=${e%"$suffix"}
        [[ $_libvirt_ssh_proxy_stems == *" $e "* ]] && unset -v '_lsp_entries[i]'
    done
    _lsp_entries=("${_lsp_entries[@]}")
}

# Wrap bash-completion's known-hosts function, once per shell: up to 2.11
# _known_hosts_real adds to COMPREPLY; from 2.12 on
# _comp_compgen_known_hosts__impl fills the caller's known_hosts array.
if declare -F _comp_compgen_known_hosts__impl >/dev/null &&
    ! declare -F _libvirt_ssh_proxy_known_hosts_impl >/dev/null; then
    eval "_libvirt_ssh_proxy_known_hosts_impl()
$(declare -f _comp_compgen_known_hosts__impl | tail -n +2)"

    _comp_compgen_known_hosts__impl()
    {
        _libvirt_ssh_proxy_known_hosts_impl "$@"
        _libvirt_ssh_proxy_drop_stems known_hosts "$@"
        local h IFS=$'\n'
        for h in $(_libvirt_ssh_proxy_qemu_hosts "$@"); do
            known_hosts+=("$h")
        done
        ((${#known_hosts[@]}))
    }
elif declare -F _known_hosts_real >/dev/null &&
    ! declare -F _libvirt_ssh_proxy_known_hosts_real >/dev/null; then
    eval "_libvirt_ssh_proxy_known_hosts_real()
$(declare -f _known_hosts_real | tail -n +2)"

    _known_hosts_real()
    {
        _libvirt_ssh_proxy_known_hosts_real "$@"
        local ret=$? h IFS=$'\n'
        _libvirt_ssh_proxy_drop_stems COMPREPLY "$@"
        for h in $(_libvirt_ssh_proxy_qemu_hosts "$@"); do
            COMPREPLY+=("$h")
        done
        return $ret
    }
fi

# ex: filetype=sh

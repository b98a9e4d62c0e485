# bash completion for libvirt-ssh-proxy                      -*- shell-script -*-
#
# Two parts, one file (installed twice):
#  - in bash-completion's completions/ directory it completes the helper's own
#    subcommands, options and HOST argument (loaded on first use);
#  - in /etc/bash_completion.d/ (sourced when bash-completion starts) it wraps
#    the known-hosts function ssh, scp, sftp and rsync complete hosts with
#    (_known_hosts_real; _comp_compgen_known_hosts__impl from 2.12 on), so
#    that a host word starting with "q" also gets qemu/NAME (scp and rsync:
#    qemu%NAME:) for every running libvirt domain. Other words are untouched.
#
# The names come from `libvirt-ssh-proxy complete-hosts WORD`, which searches
# what the helper would: its defaults, or LIBVIRT_SSH_PROXY_CONNECT's URIs.

_libvirt_ssh_proxy_bin=@LIBEXECDIR@/libvirt-ssh-proxy

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

# _libvirt_ssh_proxy_qemu_hosts [-ac46] [-F FILE] [-p PREFIX] CWORD: takes
# the arguments of bash-completion's known-hosts function and prints, one a
# line, the qemu host names that complete CWORD, spelled as that function
# spells its own: PREFIX and a user@ before, ':' after with -c (scp, rsync:
# also the %-spelling, as they take "a/b:path" for a local path), and the
# part up to the last ':' of the word removed when bash splits words there.
# Words not starting with "q" get nothing, and cost nothing.
_libvirt_ssh_proxy_qemu_hosts()
{
    local flag prefix="" suffix="" OPTIND=1
    while getopts "ac46F:p:" flag "$@"; do
        case $flag in
            c) suffix=: ;;
            p) prefix=$OPTARG ;;
            *) ;; # -a -4 -6 -F: for the known-hosts function only
        esac
    done
    local cur=${!OPTIND-}
    [[ $cur == *@* ]] && prefix=$prefix${cur%@*}@ && cur=${cur#*@}
    [[ $cur == q* ]] || return 0
    local word=$cur trim=""
    [[ $suffix && qemu% == "$cur"* ]] && word=qemu%
    if [[ $prefix$cur == *:* && $COMP_WORDBREAKS == *:* ]]; then
        trim=${prefix}${cur%"${cur##*:}"}
    fi
    local h IFS=$'\n'
    for h in $(_libvirt_ssh_proxy_hosts "$word"); do
        h=$prefix$h$suffix
        printf '%s\n' "${h#"$trim"}"
    done
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
        local ret=$? h IFS=$'\n'
        for h in $(_libvirt_ssh_proxy_qemu_hosts "$@"); do
            known_hosts+=("$h")
            ret=0
        done
        return $ret
    }
elif declare -F _known_hosts_real >/dev/null &&
    ! declare -F _libvirt_ssh_proxy_known_hosts_real >/dev/null; then
    eval "_libvirt_ssh_proxy_known_hosts_real()
$(declare -f _known_hosts_real | tail -n +2)"

    _known_hosts_real()
    {
        _libvirt_ssh_proxy_known_hosts_real "$@"
        local ret=$? h IFS=$'\n'
        for h in $(_libvirt_ssh_proxy_qemu_hosts "$@"); do
            COMPREPLY+=("$h")
        done
        return $ret
    }
fi

# ex: filetype=sh

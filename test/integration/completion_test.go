//go:build integration

package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// completionDomains are the domains the completion tests list: running ones
// with plain, mixed-case and colon names, one whose name ssh refuses, and
// one shut off.
var completionDomains = []Domain{
	{Name: "web01", CID: 40},
	{Name: "web02", CID: 41},
	{Name: "Dev-Box", CID: 42},
	{Name: "db:1", CID: 43},
	{Name: "has space", CID: 44},
	{Name: "wasted", CID: 45, Stopped: true},
}

// guardedHelperDir makes a directory holding "libvirt-ssh-proxy", a script
// that runs the built helper under the nofsock guard: what the completion
// files run in place of @BINDIR@/libvirt-ssh-proxy.
func guardedHelperDir(t testing.TB) string {
	t.Helper()
	needHelper(t)
	dir := shortTempDir(t)
	writeFile(t, filepath.Join(dir, "libvirt-ssh-proxy"),
		fmt.Sprintf("#!/bin/sh\nexec %s -- %s \"$@\"\n", nofsockBin, helperBin), 0o755)
	return dir
}

// renderCompletion writes the repository's completion file src to dst with
// @BINDIR@ replaced by a guardedHelperDir, which it returns, and gives
// the user a host of their own in home/.ssh/config, which the stock
// completion must still offer, and the drop-in, as an installed system has
// it: its Host patterns must not come out as host names.
func renderCompletion(t testing.TB, src, dst, home string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "completion", src))
	if err != nil {
		t.Fatal(err)
	}
	bin := guardedHelperDir(t)
	for _, d := range []string{filepath.Dir(dst), filepath.Join(home, ".ssh")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, dst, strings.ReplaceAll(string(b), "@BINDIR@", bin), 0o644)
	dropin := DropIn(t, filepath.Join(home, ".ssh"))
	writeFile(t, filepath.Join(home, ".ssh", "config"), "Include "+dropin+"\nHost quux-known\n    HostName 192.0.2.1\n", 0o600)
	return bin
}

// TestCompleteHosts runs the command the shells call.
func TestCompleteHosts(t *testing.T) {
	d := StartLibvirtd(t, HostXML(completionDomains...))
	uri := d.URI()
	tests := []struct {
		word string
		want []string
	}{
		{"", []string{"qemu/Dev-Box", "qemu/db:1", "qemu/web01", "qemu/web02"}},
		{"qemu/w", []string{"qemu/web01", "qemu/web02"}},
		{"alice@qemu/D", []string{"alice@qemu/Dev-Box"}},
		{"qemu%", []string{"qemu%Dev-Box", "qemu%web01", "qemu%web02"}},
		{"qemu:s", []string{"qemu:system/Dev-Box", "qemu:system/db:1", "qemu:system/web01", "qemu:system/web02"}},
		{"qemu%session%web", []string{"qemu%session%web01", "qemu%session%web02"}},
		{"qemu/x", nil},
		{"example.com", nil},
	}
	for _, tt := range tests {
		r := runHelper(t, "complete-hosts", "-c", uri, tt.word)
		if r.Code != 0 || r.Stderr != "" {
			t.Errorf("complete-hosts %q: %s", tt.word, r)
			continue
		}
		if got := strings.Fields(r.Stdout); !slices.Equal(got, tt.want) {
			t.Errorf("complete-hosts %q = %q, want %q", tt.word, got, tt.want)
		}
	}
	// Two URIs with the same domains: each name once. One unreachable URI
	// among reachable ones is not an error; all unreachable is exit 3.
	dead := DeadSocket(t, shortTempDir(t))
	r := runHelper(t, "complete-hosts", "-c", URIFor(d.HostXML, dead), "-c", uri, "-c", uri, "qemu/web")
	if r.Code != 0 || strings.Join(strings.Fields(r.Stdout), " ") != "qemu/web01 qemu/web02" {
		t.Errorf("complete-hosts with a dead URI and a URI twice: %s", r)
	}
	expectExit(t, runHelper(t, "complete-hosts", "-c", URIFor(d.HostXML, dead), "qemu/"), 3, "connect")
	// A hung daemon costs a Tab --timeout, not forever: exit 9.
	hung := HungDaemon(t, shortTempDir(t))
	r = runHelper(t, "complete-hosts", "-t", "1", "-c", URIFor(d.HostXML, hung), "qemu/")
	expectExit(t, r, 9, "timed out")
	if r.Elapsed > 5*time.Second {
		t.Errorf("complete-hosts against a hung daemon took %v with --timeout 1", r.Elapsed)
	}
	// The URI list is the helper's own: aliases are looked up (an unknown
	// one is a usage error), and a word that is no qemu form asks nothing.
	expectExit(t, runHelper(t, "complete-hosts", "-c", "nosuchalias", "qemu/"), 2, "uri_aliases")
	if r := runHelper(t, "complete-hosts", "-c", "nosuchalias", "example.com"); r.Code != 0 || r.Stdout != "" {
		t.Errorf("complete-hosts example.com: %s", r)
	}
}

// bashCompletion is a bash with bash-completion and our completion file
// loaded as a distribution loads it: our file in the compat directory, which
// bash_completion sources at start.
type bashCompletion struct {
	dir, home string
	env       []string
}

func newBashCompletion(t testing.TB, connect string) *bashCompletion {
	t.Helper()
	requireBins(t, "bash", "ssh")
	const main = "/usr/share/bash-completion/bash_completion"
	if _, err := os.Stat(main); err != nil {
		t.Fatal("bash-completion not installed; install with: apt-get install -y --no-install-recommends bash-completion")
	}
	b := &bashCompletion{dir: shortTempDir(t)}
	compat := filepath.Join(b.dir, "compat")
	b.home = filepath.Join(b.dir, "home")
	bin := renderCompletion(t, "libvirt-ssh-proxy.bash", filepath.Join(compat, "libvirt-ssh-proxy"), b.home)
	b.env = []string{
		"HOME=" + b.home, "PATH=" + bin + ":/usr/bin:/bin:/usr/sbin:/sbin", "TERM=dumb", "LC_ALL=C.UTF-8",
		"BASH_COMPLETION_COMPAT_DIR=" + compat, "BASH_COMPLETION_USER_DIR=" + filepath.Join(b.dir, "user"),
		"LIBVIRT_SSH_PROXY_CONNECT=" + connect,
	}
	return b
}

// complete completes the last of words (COMP_WORDS as bash splits the line,
// so "qemu:system/x" is three words) with the function bash-completion has
// for words[0], in an interactive bash, and returns COMPREPLY.
func (b *bashCompletion) complete(t *testing.T, words ...string) []string {
	t.Helper()
	quote := func(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
	quoted := make([]string, len(words))
	line := ""
	for i, w := range words {
		quoted[i] = quote(w)
		if i > 0 && w != ":" && words[i-1] != ":" {
			line += " "
		}
		line += w
	}
	script := fmt.Sprintf(`
source /usr/share/bash-completion/bash_completion || exit 97
COMP_WORDS=(%s)
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
COMP_LINE=%s
COMP_POINT=${#COMP_LINE}
cmd=${COMP_WORDS[0]}
complete -p "$cmd" >/dev/null 2>&1 || __load_completion "$cmd" || exit 98
fn=$(complete -p "$cmd" | sed -n 's/.* -F \([^ ]*\) .*/\1/p')
[ -n "$fn" ] || exit 99
COMPREPLY=()
"$fn" "$cmd" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
printf '%%s\n' "${COMPREPLY[@]}"
`, strings.Join(quoted, " "), quote(line))
	cmd := execCmd(mustBin(t, "bash"), "--norc", "--noprofile", "-i", "-c", script)
	cmd.Env = b.env
	cmd.Dir = b.dir
	r := runCmd(t, 30*time.Second, cmd)
	if r.Code != 0 {
		t.Fatalf("bash completion of %q: %s", words, r)
	}
	var out []string
	for _, l := range strings.Split(r.Stdout, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	slices.Sort(out)
	return out
}

// TestBashCompletion: ssh, sftp, scp and rsync complete qemu host names of
// running domains through bash-completion's own _ssh, _scp and _rsync, the
// stock host completion still works, and the helper's own arguments complete.
func TestBashCompletion(t *testing.T) {
	d := StartLibvirtd(t, HostXML(completionDomains...))
	b := newBashCompletion(t, d.URI())
	tests := []struct {
		words []string
		want  []string
	}{
		{[]string{"ssh", "qemu/w"}, []string{"qemu/web01", "qemu/web02"}},
		{[]string{"ssh", "q"}, []string{"qemu/Dev-Box", "qemu/db:1", "qemu/web01", "qemu/web02", "quux-known"}},
		{[]string{"ssh", "alice@qemu/D"}, []string{"alice@qemu/Dev-Box"}},
		{[]string{"ssh", "-p", "2222", "qemu/web0"}, []string{"qemu/web01", "qemu/web02"}},
		// bash splits at ':' (COMP_WORDBREAKS): the replies are trimmed to
		// the part after it, as bash-completion does for its own.
		{[]string{"ssh", "qemu", ":", "system/w"}, []string{"system/web01", "system/web02"}},
		{[]string{"ssh", "qemu", ":", "s"}, []string{"system/Dev-Box", "system/db:1", "system/web01", "system/web02"}},
		{[]string{"ssh", "alice@qemu"}, []string{"alice@qemu/Dev-Box", "alice@qemu/db:1", "alice@qemu/web01", "alice@qemu/web02"}},
		// The drop-in's patterns cut at the wildcard (vsock/, vsock-mux)
		// are no host names.
		{[]string{"ssh", "vsock"}, nil},
		{[]string{"sftp", "qemu/Dev"}, []string{"qemu/Dev-Box"}},
		// scp and rsync: the %-spelling with the ':' that starts the path.
		{[]string{"scp", "notes.txt", "qemu"}, []string{"qemu%Dev-Box:", "qemu%web01:", "qemu%web02:"}},
		{[]string{"scp", "notes.txt", "alice@qemu%w"}, []string{"alice@qemu%web01:", "alice@qemu%web02:"}},
		{[]string{"scp", "notes.txt", "qemu%s"}, []string{"qemu%system%Dev-Box:", "qemu%system%web01:", "qemu%system%web02:"}},
		{[]string{"scp", "notes.txt", "qemu", ":", "s"}, nil},
		{[]string{"rsync", "-a", "dir/", "qemu%system%web"}, []string{"qemu%system%web01:", "qemu%system%web02:"}},
		// Not ours: untouched.
		{[]string{"ssh", "quux"}, []string{"quux-known"}},
		{[]string{"ssh", "qemu/nothing"}, nil},
		// The helper's own command line.
		{[]string{"libvirt-ssh-proxy", "--con"}, []string{"--connect"}},
		{[]string{"libvirt-ssh-proxy", "res"}, []string{"resolve"}},
		{[]string{"libvirt-ssh-proxy", "resolve", "qemu/web"}, []string{"qemu/web01", "qemu/web02"}},
		{[]string{"libvirt-ssh-proxy", "resolve", "--json", "qemu/Dev"}, []string{"qemu/Dev-Box"}},
		{[]string{"libvirt-ssh-proxy", "resolve", "qemu/web01", "2"}, nil},
		// Options with a value (read from --help) are skipped with it.
		{[]string{"libvirt-ssh-proxy", "-t", "2", "resolve", "qemu/web"}, []string{"qemu/web01", "qemu/web02"}},
		{[]string{"libvirt-ssh-proxy", "--timeout", "2", "r"}, []string{"resolve"}},
		{[]string{"libvirt-ssh-proxy", "--connect", "q"}, nil},
		{[]string{"libvirt-ssh-proxy", "ssh-config", "qemu/web01", "qemu/D"}, []string{"qemu/Dev-Box"}},
		{[]string{"libvirt-ssh-proxy", "list", "q"}, nil},
		{[]string{"libvirt-ssh-proxy", "-F", "cfg", "doctor", "qemu/w"}, []string{"qemu/web01", "qemu/web02"}},
	}
	for _, tt := range tests {
		if got := b.complete(t, tt.words...); !slices.Equal(got, tt.want) {
			t.Errorf("completing %q: got %q, want %q", tt.words, got, tt.want)
		}
	}
}

// BenchmarkCompleteHosts measures `complete-hosts qemu/` (wall time, exec to
// exit, under the guard) against a private libvirtd running 1,000 domains:
// what a Tab costs. Target: under 200 ms.
//
//	go test -tags integration -run '^$' -bench CompleteHosts -benchtime 20x ./test/integration/
func BenchmarkCompleteHosts(b *testing.B) {
	needHelper(b)
	requireBins(b, "libvirtd")
	_, uri := manyDomains(b, 1000)
	b.Run("helper", func(b *testing.B) {
		benchExec(b, 0, func() Result {
			r := runCmd(b, helperLimit, guarded(context.Background(), helperBin, "complete-hosts", "-c", uri, "qemu/"))
			if n := strings.Count(r.Stdout, "\n"); n != 1001 { // and test:///default's own "test"
				b.Fatalf("complete-hosts listed %d names, want 1001: %s", n, r)
			}
			return r
		})
	})
	// The whole Tab in bash: bash-completion's _ssh for "ssh qemu/vm-009",
	// timed inside one interactive bash (no bash start-up counted).
	b.Run("bash-ssh-tab", func(b *testing.B) {
		bc := newBashCompletion(b, uri)
		script := fmt.Sprintf(`
source /usr/share/bash-completion/bash_completion || exit 97
__load_completion ssh || exit 98
COMP_WORDS=(ssh qemu/vm-009); COMP_CWORD=1; COMP_LINE="ssh qemu/vm-009"; COMP_POINT=${#COMP_LINE}
for ((i = 0; i < %d; i++)); do
    COMPREPLY=()
    t0=$EPOCHREALTIME
    _ssh ssh qemu/vm-009 ssh
    t1=$EPOCHREALTIME
    echo "$(( (${t1/./} - ${t0/./}) )) ${#COMPREPLY[@]}"
done
`, b.N)
		cmd := execCmd(mustBin(b, "bash"), "--norc", "--noprofile", "-i", "-c", script)
		cmd.Env, cmd.Dir = bc.env, bc.dir
		b.ResetTimer()
		r := runCmd(b, 10*time.Minute, cmd)
		b.StopTimer()
		var us []int
		for _, l := range strings.Split(strings.TrimSpace(r.Stdout), "\n") {
			var t, n int
			if _, err := fmt.Sscan(l, &t, &n); err != nil || n != 100 {
				b.Fatalf("want 100 completions per Tab: %q in %s", l, r)
			}
			us = append(us, t)
		}
		if r.Code != 0 || len(us) != b.N {
			b.Fatalf("bash: %s", r)
		}
		slices.Sort(us)
		b.ReportMetric(float64(us[len(us)/2])/1000, "median-ms")
		b.ReportMetric(float64(us[len(us)*9/10])/1000, "p90-ms")
	})
}

// zshComplete types line and a Tab into an interactive zsh (driven through
// zsh/zpty) that has our completion first in $fpath, as site-functions is,
// and returns every match the completion functions added.
func zshComplete(t *testing.T, connect, line string) []string {
	t.Helper()
	requireBins(t, "zsh")
	dir := shortTempDir(t)
	fdir := filepath.Join(dir, "site-functions")
	bin := renderCompletion(t, "_libvirt-ssh-proxy", filepath.Join(fdir, "_libvirt-ssh-proxy"), dir)
	matches := filepath.Join(dir, "matches")
	// compadd is wrapped to record what each call adds (-O: the matches
	// only); the Tab is followed by a line that prints DONE, which zle
	// reads only once the completion has finished. The markers are typed
	// as RE""ADY and DO""NE: a busy shell's terminal echoes typed-ahead
	// text at once, and the echo must not pass for the output.
	script := `zmodload zsh/zpty
zpty z 'zsh -f -i'
zpty -w z "PS1='>'; fpath=(${(q)1} \$fpath); autoload -Uz compinit; compinit -D -u"
zpty -w z "compadd() { local -a __m; builtin compadd -O __m \"\$@\"; print -rl -- \$__m >> ${(q)2}; builtin compadd \"\$@\"; }"
zpty -w z 'print RE""ADY'
zpty -r -m z x '*READY*' || exit 97
zpty -w -n z "$3"$'\t'
zpty -w z $'\C-e\C-u print DO""NE'
zpty -r -m z x '*DONE*' || exit 98
zpty -d z
`
	writeFile(t, filepath.Join(dir, "drive.zsh"), script, 0o644)
	cmd := execCmd(mustBin(t, "zsh"), "-f", filepath.Join(dir, "drive.zsh"), fdir, matches, line)
	cmd.Env = []string{"HOME=" + dir, "PATH=" + bin + ":/usr/bin:/bin", "TERM=dumb", "LC_ALL=C.UTF-8",
		"LIBVIRT_SSH_PROXY_CONNECT=" + connect}
	cmd.Dir = dir
	if r := runCmd(t, 30*time.Second, cmd); r.Code != 0 {
		t.Fatalf("zsh completion of %q: %s", line, r)
	}
	b, _ := os.ReadFile(matches)
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if l != "" && !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	slices.Sort(out)
	return out
}

// TestZshCompletion: ssh, scp and rsync complete qemu host names through
// zsh's own _ssh and _rsync, the user's hosts still come, and the helper's
// own arguments complete.
func TestZshCompletion(t *testing.T) {
	d := StartLibvirtd(t, HostXML(completionDomains...))
	tests := []struct {
		line string
		want []string
	}{
		{"ssh qemu/w", []string{"qemu/web01", "qemu/web02"}},
		{"ssh alice@qemu/D", []string{"qemu/Dev-Box"}},
		{"ssh qu", []string{"quux-known"}},
		{"ssh q", []string{"qemu/Dev-Box", "qemu/db:1", "qemu/web01", "qemu/web02", "quux-known"}},
		{"scp notes.txt qemu", []string{"qemu%Dev-Box", "qemu%web01", "qemu%web02"}},
		{"scp notes.txt qemu%s", []string{"qemu%system%Dev-Box", "qemu%system%web01", "qemu%system%web02"}},
		{"sftp qemu/D", []string{"qemu/Dev-Box"}},
		{"rsync -a dir/ qemu%system%w", []string{"qemu%system%web01", "qemu%system%web02"}},
		{"libvirt-ssh-proxy --con", []string{"--connect"}},
		{"libvirt-ssh-proxy resolve qemu/web", []string{"qemu/web01", "qemu/web02"}},
		{"libvirt-ssh-proxy -t 2 resolve qemu/web", []string{"qemu/web01", "qemu/web02"}},
		{"libvirt-ssh-proxy --timeout 2 r", []string{"resolve"}},
		{"libvirt-ssh-proxy ssh-config qemu/web01 qemu/D", []string{"qemu/Dev-Box"}},
	}
	for _, tt := range tests {
		got := zshComplete(t, d.URI(), tt.line)
		// The completion gives the helper 2 s (--timeout 2): on a machine
		// loaded far past its cores that can run out, and zsh then offers
		// nothing. Such a miss is retried; a wrong answer is not.
		for try := 1; len(got) == 0 && try < 3; try++ {
			t.Logf("zsh: completing %q gave nothing (try %d), trying again", tt.line, try)
			got = zshComplete(t, d.URI(), tt.line)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("zsh: completing %q: got %q, want %q", tt.line, got, tt.want)
		}
	}
}

// TestBashCompletion212 checks the wrapper for bash-completion 2.12 and
// later (Debian 13, Fedora 40), where ssh's completion calls
// _comp_compgen_known_hosts, whose _impl fills the caller's known_hosts
// array with finished entries (prefix, suffix, colon-trimmed) and returns 1
// when it has none. This machine has 2.11, so the two functions here are
// stand-ins written to that contract, not bash-completion's own code.
func TestBashCompletion212(t *testing.T) {
	requireBins(t, "bash")
	d := StartLibvirtd(t, HostXML(completionDomains...))
	dir := shortTempDir(t)
	file := filepath.Join(dir, "libvirt-ssh-proxy")
	renderCompletion(t, "libvirt-ssh-proxy.bash", file, dir)
	script := `
_comp_compgen_known_hosts__impl() {
    known_hosts=()
    [[ quux-known == "${!#}"* ]] && known_hosts=(quux-known)
    # the drop-in's Host pattern qemu/* cut at its wildcard, as 2.12 offers it
    [[ qemu/ == "${!#}"* ]] && known_hosts+=(qemu/)
    ((${#known_hosts[@]}))
}
_comp_compgen_known_hosts() {
    local known_hosts
    _comp_compgen_known_hosts__impl "$@" || return
    COMPREPLY+=("${known_hosts[@]}")
}
source "$1" || exit 97
for args in "-a -- qemu/w" "-a -- q" "-c -a -- alice@qemu" "-a -- qemu:system/D" "-a -- quux" "-a -- qemu/none"; do
    COMPREPLY=()
    _comp_compgen_known_hosts $args
    echo "$? ${COMPREPLY[*]}"
done
`
	cmd := execCmd(mustBin(t, "bash"), "--norc", "--noprofile", "-c", script, "bash", file)
	cmd.Env = []string{"PATH=/usr/bin:/bin", "LIBVIRT_SSH_PROXY_CONNECT=" + d.URI()}
	r := runCmd(t, 30*time.Second, cmd)
	want := "0 qemu/web01 qemu/web02\n" +
		"0 quux-known qemu/Dev-Box qemu/db:1 qemu/web01 qemu/web02\n" +
		"0 alice@qemu%Dev-Box: alice@qemu%web01: alice@qemu%web02:\n" +
		"0 system/Dev-Box\n" +
		"0 quux-known\n" +
		"1 \n"
	if r.Code != 0 || r.Stdout != want {
		t.Errorf("bash-completion 2.12 contract:\n got %q\nwant %q\n%s", r.Stdout, want, r)
	}
}

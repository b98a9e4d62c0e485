// Command testsum runs `go test -json ...` and prints what `go test` prints
// without -v (a line per package, the output of what failed), then how many
// tests ran, in the closing form "NAME: N passed, N failed". A skipped test
// counts as failed, with its reason: in this project a test that cannot run
// fails, and a smaller run is asked for by naming it (make check-quick), not
// by tests skipping themselves.
//
//	go run ./test/testsum NAME go test -json -count=1 ./...
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
)

// event is one line of `go test -json` (cmd/test2json).
type event struct {
	Action     string
	Package    string
	Test       string
	Elapsed    float64
	Output     string
	ImportPath string // build-output events
}

// tally is what one run counted.
type tally struct {
	passed, failed, skipped int
	// badPackages failed as a whole (build error, panic outside a test, exit
	// status), which no test event may show.
	badPackages int
}

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: testsum NAME go test -json ARGS...")
		os.Exit(2)
	}
	name := os.Args[1]
	cmd := exec.Command(os.Args[2], os.Args[3:]...)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		fmt.Fprintf(os.Stderr, "testsum: %v\n", err)
		os.Exit(1)
	}
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "testsum: starting %s: %v\n", strings.Join(os.Args[2:], " "), err)
		os.Exit(1)
	}
	t, serr := summarize(stdout, os.Stdout)
	werr := cmd.Wait()
	fmt.Printf("%s: %d passed, %d failed\n", name, t.passed, t.failed+t.skipped)
	code := 0
	switch {
	case serr != nil:
		fmt.Fprintf(os.Stderr, "testsum: reading go test's output: %v\n", serr)
		code = 1
	case t.failed+t.skipped+t.badPackages > 0:
		code = 1
	case werr != nil:
		// go test failed, and no test or package said why: say so.
		var ee *exec.ExitError
		if !errors.As(werr, &ee) {
			fmt.Fprintf(os.Stderr, "testsum: %v\n", werr)
		}
		code = 1
	case t.passed == 0:
		fmt.Fprintf(os.Stderr, "testsum: %s ran no test\n", name)
		code = 1
	}
	os.Exit(code)
}

// summarize reads go test -json from r and writes the short form to w.
func summarize(r io.Reader, w io.Writer) (tally, error) {
	var t tally
	out := map[string][]string{} // package + "\x00" + test -> its output so far
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil {
			fmt.Fprintf(w, "%s\n", line) // not an event: pass it on
			continue
		}
		key := e.Package + "\x00" + e.Test
		switch e.Action {
		case "build-output":
			fmt.Fprint(w, e.Output)
		case "output":
			out[key] = append(out[key], e.Output)
		case "pass":
			if e.Test != "" {
				t.passed++
			} else {
				fmt.Fprintf(w, "ok  \t%s\t%.1fs\n", e.Package, e.Elapsed)
			}
			delete(out, key)
		case "skip":
			if e.Test != "" {
				t.skipped++
				fmt.Fprintf(w, "--- SKIP counts as a failure: %s %s\n", e.Package, e.Test)
				fmt.Fprint(w, strings.Join(out[key], ""))
			} else if len(out[key]) > 0 && strings.Contains(strings.Join(out[key], ""), "[no test files]") {
				// a package with no tests: nothing ran, nothing to say
			} else {
				fmt.Fprintf(w, "?   \t%s\t[no tests ran]\n", e.Package)
			}
			delete(out, key)
		case "fail":
			if e.Test != "" {
				t.failed++
			} else {
				t.badPackages++
				fmt.Fprintf(w, "FAIL\t%s\t%.1fs\n", e.Package, e.Elapsed)
			}
			fmt.Fprint(w, strings.Join(out[key], ""))
			delete(out, key)
		}
	}
	return t, sc.Err()
}

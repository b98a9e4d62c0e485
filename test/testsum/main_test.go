package main

import (
	"strings"
	"testing"
)

// TestSummarize: tests and subtests are counted, a skip counts as a failure
// and shows its reason, a failed test shows its output, a passed one does not.
func TestSummarize(t *testing.T) {
	const p = `"Package":"example/p"`
	for _, tt := range []struct {
		name      string
		in        string
		want      tally
		show, not []string
	}{
		{"pass", `{"Action":"run",` + p + `,"Test":"TestA"}
{"Action":"output",` + p + `,"Test":"TestA","Output":"=== RUN   TestA\n"}
{"Action":"pass",` + p + `,"Test":"TestA/sub"}
{"Action":"pass",` + p + `,"Test":"TestA"}
{"Action":"pass",` + p + `,"Elapsed":0.5}
`, tally{passed: 2}, []string{"ok  \texample/p\t0.5s"}, []string{"=== RUN"}},
		{"skip is a failure", `{"Action":"output",` + p + `,"Test":"TestB","Output":"    x_test.go:9: no zsh\n"}
{"Action":"skip",` + p + `,"Test":"TestB"}
`, tally{skipped: 1}, []string{"SKIP counts as a failure: example/p TestB", "no zsh"}, nil},
		{"fail", `{"Action":"output",` + p + `,"Test":"TestC","Output":"    x_test.go:9: boom\n"}
{"Action":"fail",` + p + `,"Test":"TestC"}
{"Action":"output",` + p + `,"Output":"FAIL\n"}
{"Action":"fail",` + p + `,"Elapsed":1}
`, tally{failed: 1, badPackages: 1}, []string{"boom", "FAIL\texample/p\t1.0s"}, nil},
		{"no test files", `{"Action":"output",` + p + `,"Output":"?   \texample/p\t[no test files]\n"}
{"Action":"skip",` + p + `}
`, tally{}, nil, []string{"no tests ran"}},
		{"build failure", `{"ImportPath":"example/p","Action":"build-output","Output":"p.go:1: syntax error\n"}
not json at all
`, tally{}, []string{"syntax error", "not json at all"}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out strings.Builder
			got, err := summarize(strings.NewReader(tt.in), &out)
			if err != nil || got != tt.want {
				t.Errorf("summarize = %+v, %v; want %+v", got, err, tt.want)
			}
			for _, s := range tt.show {
				if !strings.Contains(out.String(), s) {
					t.Errorf("output lacks %q:\n%s", s, out.String())
				}
			}
			for _, s := range tt.not {
				if strings.Contains(out.String(), s) {
					t.Errorf("output has %q:\n%s", s, out.String())
				}
			}
		})
	}
}

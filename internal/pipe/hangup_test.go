//go:build linux

package pipe

import (
	"os"
	"testing"
	"time"
)

func TestHungUp(t *testing.T) {
	tests := []struct {
		name  string
		data  bool          // bytes left queued in the pipe
		close time.Duration // when the writer closes; <0: never
		want  bool
	}{
		{"writer already gone", false, 0, true},
		{"writer gone, data still queued", true, 0, true},
		{"writer goes within the wait", false, 20 * time.Millisecond, true},
		{"writer stays", false, -1, false},
		{"writer stays, data queued", true, -1, false},
		{"writer goes too late", false, time.Second, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			defer w.Close()
			if tt.data {
				w.Write([]byte("left over"))
			}
			switch {
			case tt.close == 0:
				w.Close()
			case tt.close > 0:
				timer := time.AfterFunc(tt.close, func() { w.Close() })
				defer timer.Stop()
			}
			if got := HungUp(r, 200*time.Millisecond); got != tt.want {
				t.Errorf("HungUp = %v, want %v", got, tt.want)
			}
		})
	}
}

package libvirturi

import (
	"reflect"
	"testing"
)

func TestConnectList(t *testing.T) {
	tests := []struct {
		flags []string
		env   string
		want  []string
	}{
		{nil, "", nil},
		{nil, "qemu:///system", []string{"qemu:///system"}},
		{nil, " hv1, qemu:///session ,,test:///default\thv2 ", []string{"hv1", "qemu:///session", "test:///default", "hv2"}},
		{nil, " , ", nil},
		{[]string{"qemu:///session"}, "hv1 hv2", []string{"qemu:///session"}}, // --connect wins whole
		{[]string{"a,b"}, "", []string{"a,b"}},                                // --connect values are not split
	}
	for _, tt := range tests {
		getenv := func(k string) string {
			if k == ConnectEnv {
				return tt.env
			}
			return ""
		}
		if got := ConnectList(tt.flags, getenv); len(got)+len(tt.want) > 0 && !reflect.DeepEqual(got, tt.want) {
			t.Errorf("--connect %q, %s=%q: got %q, want %q", tt.flags, ConnectEnv, tt.env, got, tt.want)
		}
	}
}

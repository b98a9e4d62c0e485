package vsockmux

import (
	"bytes"
	"errors"
	"io"
	"os"
	"strings"
	"syscall"
	"testing"
	"testing/iotest"
)

func TestRequest(t *testing.T) {
	for port, want := range map[uint32]string{22: "CONNECT 22\n", 4294967294: "CONNECT 4294967294\n", 1: "CONNECT 1\n"} {
		if got := string(Request(port)); got != want {
			t.Errorf("Request(%d) = %q, want %q", port, got, want)
		}
	}
}

func TestParseReply(t *testing.T) {
	tests := []struct {
		reply string
		ok    bool
	}{
		{"OK 1073741824\n", true}, // Firecracker, Cloud Hypervisor: a host-side port
		{"OK 22\n", true},         // vhost-device-vsock: the guest port
		{"OK\n", true},
		{"OK \n", true},
		{"OK whatever the mux says\n", true},
		{"OK 22", false},
		{"ok 22\n", false},
		{"OK22\n", false},
		{"ERR no such port\n", false},
		{"\n", false},
		{"", false},
		{"OK 1\nOK 2\n", false},
		{"SSH-2.0-OpenSSH_9.2\r\n", false},
	}
	for _, tt := range tests {
		err := ParseReply([]byte(tt.reply))
		if (err == nil) != tt.ok {
			t.Errorf("ParseReply(%q) = %v, want ok=%v", tt.reply, err, tt.ok)
		}
		var re *ReplyError
		if err != nil && !errors.As(err, &re) {
			t.Errorf("ParseReply(%q) error %T, want *ReplyError", tt.reply, err)
		}
	}
}

func TestReadReply(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    string
		wantErr string // substring; "" = no error
		noReply bool   // want ErrNoAnswer
	}{
		{"firecracker", "OK 1073741824\nSSH-2.0-banner\r\n", "OK 1073741824\n", "", false},
		{"vhost-device-vsock", "OK 22\n", "OK 22\n", "", false},
		{"silent close", "", "", "", true},
		{"no newline", "OK 22", "", "cut short", false},
		{"too long", strings.Repeat("x", 100), "", "no newline in the first 32 bytes", false},
		{"newline at 32", strings.Repeat("x", 31) + "\n", strings.Repeat("x", 31) + "\n", "", false},
		{"newline at 33", strings.Repeat("x", 32) + "\n", "", "no newline", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := strings.NewReader(tt.in)
			got, err := ReadReply(r)
			switch {
			case tt.noReply:
				if !errors.Is(err, ErrNoAnswer) {
					t.Fatalf("err = %v, want ErrNoAnswer", err)
				}
			case tt.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
			case err != nil:
				t.Fatal(err)
			case string(got) != tt.want:
				t.Fatalf("got %q, want %q", got, tt.want)
			}
			// Nothing past the newline may be consumed: it belongs to the guest.
			if err == nil {
				rest, _ := io.ReadAll(r)
				if want := strings.TrimPrefix(tt.in, tt.want); string(rest) != want {
					t.Fatalf("left %q unread, want %q", rest, want)
				}
			}
		})
	}
	// A read error other than EOF is reported as such.
	if _, err := ReadReply(iotest.ErrReader(errors.New("boom"))); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("read error: got %v", err)
	}
}

// conn is a fake multiplexer connection: it records what was written and
// serves reply to reads.
type conn struct {
	io.Reader
	wrote  bytes.Buffer
	writes int
}

func (c *conn) Write(p []byte) (int, error) { c.writes++; return c.wrote.Write(p) }

func TestHandshake(t *testing.T) {
	c := &conn{Reader: strings.NewReader("OK 1073741824\nbanner")}
	if err := Handshake(c, 2222); err != nil {
		t.Fatal(err)
	}
	if c.wrote.String() != "CONNECT 2222\n" || c.writes != 1 {
		t.Fatalf("sent %q in %d writes, want %q in one", c.wrote.String(), c.writes, "CONNECT 2222\n")
	}
	if err := Handshake(&conn{Reader: strings.NewReader("")}, 22); !errors.Is(err, ErrNoAnswer) {
		t.Fatalf("silent close: %v", err)
	}
	if err := Handshake(&conn{Reader: strings.NewReader("NO\n")}, 22); err == nil {
		t.Fatal("garbage accepted")
	}
}

func FuzzParseReply(f *testing.F) {
	for _, s := range []string{"OK 1073741824\n", "OK 22\n", "OK\n", "", "\n", "OK 22", "ERR\n", "OK 1\nOK\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, reply []byte) {
		line, err := ReadReply(bytes.NewReader(reply))
		if err != nil {
			return
		}
		if len(line) > MaxReply || !bytes.HasSuffix(line, []byte("\n")) || !bytes.HasPrefix(reply, line) {
			t.Fatalf("ReadReply(%q) = %q", reply, line)
		}
		if ParseReply(line) == nil && !bytes.HasPrefix(line, []byte("OK")) {
			t.Fatalf("ParseReply accepted %q", line)
		}
	})
}

// BenchmarkHandshake: CONNECT and a Firecracker reply over a real unix
// socket pair, the reply read one byte per read(2) as the helper does.
func BenchmarkHandshake(b *testing.B) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		b.Fatal(err)
	}
	ours, mux := os.NewFile(uintptr(fds[0]), "ours"), os.NewFile(uintptr(fds[1]), "mux")
	defer ours.Close()
	defer mux.Close()
	go func() {
		buf := make([]byte, 64)
		for {
			if _, err := mux.Read(buf); err != nil {
				return
			}
			mux.Write([]byte("OK 1073741824\n"))
		}
	}()
	for b.Loop() {
		if err := Handshake(ours, 22); err != nil {
			b.Fatal(err)
		}
	}
}

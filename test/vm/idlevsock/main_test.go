package main

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// frontEnd is QEMU's side of the connection, driven by the test.
type frontEnd struct {
	t *testing.T
	c *net.UnixConn
}

// pair connects a front end to serve over a socketpair; done yields serve's result.
func pair(t *testing.T, cid uint64) (*frontEnd, <-chan error) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	conn := func(fd int) *net.UnixConn {
		f := os.NewFile(uintptr(fd), "socketpair")
		defer f.Close()
		c, err := net.FileConn(f)
		if err != nil {
			t.Fatal(err)
		}
		return c.(*net.UnixConn)
	}
	fe, be := conn(fds[0]), conn(fds[1])
	t.Cleanup(func() { fe.Close(); be.Close() })
	done := make(chan error, 1)
	go func() { done <- serve(be, cid, t.Logf) }()
	return &frontEnd{t, fe}, done
}

// send writes one message (version 1 flags unless given) with fds attached.
func (f *frontEnd) send(req uint32, payload []byte, fds ...int) {
	f.t.Helper()
	f.sendFlags(req, flagVersion, payload, fds...)
}

func (f *frontEnd) sendFlags(req, flags uint32, payload []byte, fds ...int) {
	f.t.Helper()
	b := binary.LittleEndian.AppendUint32(nil, req)
	b = binary.LittleEndian.AppendUint32(b, flags)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(payload)))
	b = append(b, payload...)
	var oob []byte
	if len(fds) > 0 {
		oob = unix.UnixRights(fds...)
	}
	if _, _, err := f.c.WriteMsgUnix(b, oob, nil); err != nil {
		f.t.Fatal(err)
	}
}

// reply reads one reply to req and returns its payload.
func (f *frontEnd) reply(req uint32) []byte {
	f.t.Helper()
	f.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	hdr := make([]byte, hdrSize)
	if _, err := io.ReadFull(f.c, hdr); err != nil {
		f.t.Fatalf("reading the reply to %s: %v", reqName(req), err)
	}
	if r, fl := binary.LittleEndian.Uint32(hdr), binary.LittleEndian.Uint32(hdr[4:]); r != req || fl != flagVersion|flagReply {
		f.t.Fatalf("reply header: request %d flags %#x, want %d and %#x", r, fl, req, flagVersion|flagReply)
	}
	p := make([]byte, binary.LittleEndian.Uint32(hdr[8:]))
	if _, err := io.ReadFull(f.c, p); err != nil {
		f.t.Fatalf("reading the reply payload of %s: %v", reqName(req), err)
	}
	return p
}

func state(i, n uint32) []byte {
	return binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(nil, i), n)
}

// configReq is a GET_CONFIG request: offset, size, flags and size bytes to fill.
func configReq(off, size uint32) []byte { return configReply(off, size) }

// configReply is the reply to configReq(off, size): the config bytes data
// there, zeros after them.
func configReply(off, size uint32, data ...byte) []byte {
	b := binary.LittleEndian.AppendUint32(nil, off)
	b = binary.LittleEndian.AppendUint32(b, size)
	b = binary.LittleEndian.AppendUint32(b, 0)
	return append(b, append(data, make([]byte, int(size)-len(data))...)...)
}

// TestReplies: what QEMU asks a vhost-user-vsock back end from realize to stop,
// in its order, and what it must read back.
func TestReplies(t *testing.T) {
	f, done := pair(t, 1000)
	for _, tc := range []struct {
		name    string
		req     uint32
		payload []byte
		want    []byte // nil: no reply expected
	}{
		{"features: virtio 1.0 and protocol features", reqGetFeatures, nil, u64(1<<32 | 1<<30)},
		{"protocol features: config", reqGetProtocolFeatures, nil, u64(1 << 9)},
		{"set protocol features", reqSetProtocolFeatures, u64(1 << 9), nil},
		{"set owner", reqSetOwner, nil, nil},
		{"config: guest_cid", reqGetConfig, configReq(0, 8), configReply(0, 8, 0xe8, 0x03)},
		{"config: its upper half, then zeros", reqGetConfig, configReq(4, 8), configReply(4, 8)},
		{"config: one byte in", reqGetConfig, configReq(1, 2), configReply(1, 2, 0x03)},
		{"config: past its end", reqGetConfig, configReq(16, 4), configReply(16, 4)},
		{"set features", reqSetFeatures, u64(1<<32 | 1<<30), nil},
		{"set ring 0 size", reqSetVringNum, state(0, 128), nil},
		{"set ring 0 base", reqSetVringBase, state(0, 7), nil},
		{"set ring 1 base", reqSetVringBase, state(1, 3), nil},
		{"enable ring 0", reqSetVringEnable, state(0, 1), nil},
		{"unknown request: ignored, no reply", 99, []byte("abc"), nil},
		{"ring 0 base at stop: nothing consumed", reqGetVringBase, state(0, 0), state(0, 7)},
		{"ring 1 base at stop", reqGetVringBase, state(1, 0), state(1, 3)},
		{"ring 2 was never set", reqGetVringBase, state(2, 0), state(2, 0)},
	} {
		f.send(tc.req, tc.payload)
		if tc.want == nil {
			continue
		}
		if got := f.reply(tc.req); string(got) != string(tc.want) {
			t.Errorf("%s: reply % x, want % x", tc.name, got, tc.want)
		}
	}
	f.c.Close()
	if err := <-done; err != nil {
		t.Errorf("serve after the front end closed: %v, want nil", err)
	}
}

// TestClosesFDs: the memory and eventfd descriptors QEMU passes are closed,
// never kept: the write end of a pipe sent along reads EOF once the back end
// has handled the message.
func TestClosesFDs(t *testing.T) {
	for _, req := range []uint32{reqSetMemTable, reqSetVringKick, reqSetVringCall, reqSetVringErr, 77} {
		t.Run(reqName(req), func(t *testing.T) {
			f, _ := pair(t, 3)
			var p [2]int
			if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
				t.Fatal(err)
			}
			r := os.NewFile(uintptr(p[0]), "pipe")
			defer r.Close()
			f.send(req, make([]byte, 8), p[1], p[1])
			unix.Close(p[1])
			r.SetReadDeadline(time.Now().Add(10 * time.Second))
			if n, err := r.Read(make([]byte, 1)); n != 0 || !errors.Is(err, io.EOF) {
				t.Errorf("the pipe's read end: %d, %v; want EOF (the back end kept a descriptor)", n, err)
			}
		})
	}
}

// TestBroken: a stream that is not vhost-user ends serve with an error naming it.
func TestBroken(t *testing.T) {
	for _, tc := range []struct {
		name string
		send func(f *frontEnd)
		want string
	}{
		{"version 2 header", func(f *frontEnd) { f.sendFlags(reqGetFeatures, 0x2, nil) }, "not vhost-user version 1"},
		{"huge payload", func(f *frontEnd) {
			f.c.Write(append(binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(nil, reqSetConfig), flagVersion), 0, 0, 1, 0))
		}, "payload of 65536 bytes"},
		{"short state", func(f *frontEnd) { f.send(reqGetVringBase, []byte{1}) }, "GET_VRING_BASE: payload of 1 bytes, want 8"},
		{"short config request", func(f *frontEnd) { f.send(reqGetConfig, make([]byte, 8)) }, "GET_CONFIG: payload of 8 bytes, want 12"},
		{"cut inside the payload", func(f *frontEnd) {
			f.c.Write(append(binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(nil, reqSetFeatures), flagVersion), 8, 0, 0, 0, 1, 2))
			f.c.CloseWrite()
		}, "unexpected EOF"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, done := pair(t, 3)
			tc.send(f)
			select {
			case err := <-done:
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("serve: %v, want an error with %q", err, tc.want)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("serve still runs")
			}
		})
	}
}

// TestRun: the socket path appears only once it listens, one front end is
// served, and the path is gone after; bad arguments are refused.
func TestRun(t *testing.T) {
	for _, tc := range []struct {
		cid  uint64
		args []string
		want string
	}{
		{2, []string{"s"}, "-cid 2: a guest CID is 3 to 4294967294"},
		{0xffffffff, []string{"s"}, "-cid 4294967295"},
		{3, nil, "usage"},
		{3, []string{"/nonexistent/dir/s"}, `listening on "/nonexistent/dir/s.tmp"`},
	} {
		if err := run(tc.cid, tc.args); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("run(%d, %q): %v, want %q", tc.cid, tc.args, err, tc.want)
		}
	}
	path := filepath.Join(t.TempDir(), "vsock.sock")
	done := make(chan error, 1)
	go func() { done <- run(1000, []string{path}) }()
	var c net.Conn
	for deadline := time.Now().Add(10 * time.Second); ; {
		var err error
		if c, err = net.Dial("unix", path); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no listener at %s: %v", path, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	f := &frontEnd{t, c.(*net.UnixConn)}
	f.send(reqGetConfig, configReq(0, 8))
	if got := binary.LittleEndian.Uint64(f.reply(reqGetConfig)[configHdrSize:]); got != 1000 {
		t.Errorf("guest_cid %d, want 1000", got)
	}
	c.Close()
	if err := <-done; err != nil {
		t.Errorf("run: %v", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s after run: %v, want it gone", path, err)
	}
}

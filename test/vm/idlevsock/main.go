// Command idlevsock is the vhost-user back end of an idle virtio-vsock device,
// for tier 3 of the nested-VM test rig (test/vm/run.sh). It runs on the machine
// that runs the rig, next to L1's QEMU, which gets it as
//
//	-chardev socket,id=CHR,path=SOCKET -device vhost-user-vsock-pci,chardev=CHR
//
// The device gives L1 a guest-to-host vsock transport (the kernel's
// vmw_vsock_virtio_transport) and a local CID, the config space's guest_cid,
// which is what systemd-ssh-generator asks for before it puts sshd on vsock.
// That is all it is for: the device carries nothing. Nothing in L1 talks to
// this machine over vsock, and the back end never reads or writes a virtqueue
// (a packet L1 sends to CID 2 is never taken off its ring, so such a connect
// times out in L1). It never creates an AF_VSOCK socket either: on this machine
// every vsock connect leaves it (run.sh runs it under test/nofsock -k, which
// would kill it for trying). All it touches is its unix socket and the memory
// and eventfd descriptors QEMU passes over it, which it closes unused.
//
//	idlevsock -cid CID SOCKET
//
// It listens on SOCKET (the path appears only once it listens: it binds a
// temporary name and renames it, so the caller waits for the path), serves one
// front end, QEMU, and exits 0 when QEMU closes the connection. Every request
// is logged on stderr, one line each; requests it does not know are logged and
// get no reply (it offers no protocol feature that would make QEMU wait for
// one). It answers the vhost-user control messages QEMU sends a vsock device
// from realize to stop: GET_FEATURES (VIRTIO_F_VERSION_1 and
// VHOST_USER_F_PROTOCOL_FEATURES), GET_PROTOCOL_FEATURES (CONFIG),
// GET_CONFIG (the 8-byte guest_cid) and GET_VRING_BASE (the base QEMU set:
// nothing was consumed); the rest are acknowledged by doing nothing.
package main

import (
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// vhost-user requests (QEMU's docs/interop/vhost-user.rst, front end to back end).
const (
	reqGetFeatures         = 1
	reqSetFeatures         = 2
	reqSetOwner            = 3
	reqResetOwner          = 4
	reqSetMemTable         = 5
	reqSetVringNum         = 8
	reqSetVringAddr        = 9
	reqSetVringBase        = 10
	reqGetVringBase        = 11
	reqSetVringKick        = 12
	reqSetVringCall        = 13
	reqSetVringErr         = 14
	reqGetProtocolFeatures = 15
	reqSetProtocolFeatures = 16
	reqSetVringEnable      = 18
	reqGetConfig           = 24
	reqSetConfig           = 25
	reqResetDevice         = 34
)

var reqNames = map[uint32]string{
	reqGetFeatures: "GET_FEATURES", reqSetFeatures: "SET_FEATURES", reqSetOwner: "SET_OWNER",
	reqResetOwner: "RESET_OWNER", reqSetMemTable: "SET_MEM_TABLE", reqSetVringNum: "SET_VRING_NUM",
	reqSetVringAddr: "SET_VRING_ADDR", reqSetVringBase: "SET_VRING_BASE", reqGetVringBase: "GET_VRING_BASE",
	reqSetVringKick: "SET_VRING_KICK", reqSetVringCall: "SET_VRING_CALL", reqSetVringErr: "SET_VRING_ERR",
	reqGetProtocolFeatures: "GET_PROTOCOL_FEATURES", reqSetProtocolFeatures: "SET_PROTOCOL_FEATURES",
	reqSetVringEnable: "SET_VRING_ENABLE", reqGetConfig: "GET_CONFIG", reqSetConfig: "SET_CONFIG",
	reqResetDevice: "RESET_DEVICE",
}

const (
	// header flags: the version (bits 0-1) and "this is a reply"
	flagVersion = 0x1
	flagReply   = 0x4
	hdrSize     = 12
	// QEMU's largest message is a memory table (8 regions) or a config read
	// (256 bytes of config space); anything far larger is a broken stream
	maxPayload = 4096
	// at most one fd per memory region (VHOST_MEMORY_BASELINE_NREGIONS)
	maxFDs = 8

	featVersion1        = uint64(1) << 32 // VIRTIO_F_VERSION_1: a modern device
	featProtocolFeature = uint64(1) << 30 // VHOST_USER_F_PROTOCOL_FEATURES
	protoConfig         = uint64(1) << 9  // VHOST_USER_PROTOCOL_F_CONFIG: GET_CONFIG
	configHdrSize       = 12              // GET_CONFIG: offset, size, flags (u32 each)
)

// message is one vhost-user message with the descriptors that came with it.
type message struct {
	req, flags uint32
	payload    []byte
	fds        []int
}

func main() {
	cid := flag.Uint64("cid", 0, "the guest CID the device reports (3 or more)")
	flag.Parse()
	if err := run(*cid, flag.Args()); err != nil {
		fmt.Fprintf(os.Stderr, "idlevsock: %v\n", err)
		os.Exit(1)
	}
}

func run(cid uint64, args []string) error {
	if len(args) != 1 {
		return errors.New("usage: idlevsock -cid CID SOCKET")
	}
	if err := checkCID(cid); err != nil {
		return err
	}
	path := args[0]
	tmp := path + ".tmp"
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: tmp, Net: "unix"})
	if err != nil {
		return fmt.Errorf("listening on %s: %w", strconv.Quote(tmp), err)
	}
	// the socket file is renamed below: Close must not remove a path it no longer has
	l.SetUnlinkOnClose(false)
	defer os.Remove(path)
	if err := os.Rename(tmp, path); err != nil {
		l.Close()
		os.Remove(tmp)
		return fmt.Errorf("publishing the socket %s: %w", strconv.Quote(path), err)
	}
	logf("listening on %s, guest CID %d", path, cid)
	c, err := l.AcceptUnix()
	l.Close()
	if err != nil {
		return fmt.Errorf("accepting QEMU's connection on %s: %w", strconv.Quote(path), err)
	}
	defer c.Close()
	if err := serve(c, cid, logf); err != nil {
		return err
	}
	logf("QEMU closed the connection")
	return nil
}

func logf(f string, a ...any) { fmt.Fprintf(os.Stderr, "idlevsock: "+f+"\n", a...) }

// checkCID refuses the reserved CIDs (0-2 and -1 are any, hypervisor, local,
// host; a guest_cid is 32 bits in practice).
func checkCID(cid uint64) error {
	if cid < 3 || cid >= 0xffffffff {
		return fmt.Errorf("-cid %d: a guest CID is 3 to 4294967294", cid)
	}
	return nil
}

// serve answers the front end on c until it closes the connection (nil) or
// sends something that is not vhost-user (an error).
func serve(c *net.UnixConn, cid uint64, log func(string, ...any)) error {
	var config [8]byte // struct virtio_vsock_config: le64 guest_cid
	binary.LittleEndian.PutUint64(config[:], cid)
	bases := map[uint32]uint32{} // SET_VRING_BASE per ring: what GET_VRING_BASE returns
	for {
		m, err := readMessage(c)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		reply, note, err := handle(m, config[:], bases)
		closeAll(m.fds)
		if err != nil {
			return fmt.Errorf("%s: %w", reqName(m.req), err)
		}
		if len(m.fds) > 0 {
			note += fmt.Sprintf(" (%d fd(s) closed unused)", len(m.fds))
		}
		log("%s%s", reqName(m.req), note)
		if reply != nil {
			if err := writeReply(c, m.req, reply); err != nil {
				return fmt.Errorf("replying to %s: %w", reqName(m.req), err)
			}
		}
	}
}

func reqName(r uint32) string {
	if n, ok := reqNames[r]; ok {
		return n
	}
	return fmt.Sprintf("request %d", r)
}

// handle returns the reply payload (nil: none) and a note for the log.
func handle(m message, config []byte, bases map[uint32]uint32) ([]byte, string, error) {
	p := m.payload
	switch m.req {
	case reqGetFeatures:
		return u64(featVersion1 | featProtocolFeature), "", nil
	case reqGetProtocolFeatures:
		return u64(protoConfig), "", nil
	case reqSetFeatures, reqSetProtocolFeatures:
		if len(p) < 8 {
			return nil, "", shortPayload(p, 8)
		}
		return nil, fmt.Sprintf(" %#x", binary.LittleEndian.Uint64(p)), nil
	case reqSetVringBase:
		if len(p) < 8 {
			return nil, "", shortPayload(p, 8)
		}
		i, n := binary.LittleEndian.Uint32(p), binary.LittleEndian.Uint32(p[4:])
		bases[i] = n
		return nil, fmt.Sprintf(" ring %d base %d", i, n), nil
	case reqGetVringBase:
		if len(p) < 8 {
			return nil, "", shortPayload(p, 8)
		}
		i := binary.LittleEndian.Uint32(p)
		r := make([]byte, 8)
		binary.LittleEndian.PutUint32(r, i)
		binary.LittleEndian.PutUint32(r[4:], bases[i])
		return r, fmt.Sprintf(" ring %d: %d", i, bases[i]), nil
	case reqGetConfig:
		if len(p) < configHdrSize {
			return nil, "", shortPayload(p, configHdrSize)
		}
		off, size := binary.LittleEndian.Uint32(p), binary.LittleEndian.Uint32(p[4:])
		if uint64(size) > maxPayload-configHdrSize {
			return nil, "", fmt.Errorf("config read of %d bytes", size)
		}
		r := make([]byte, configHdrSize+int(size))
		copy(r, p[:configHdrSize])
		// past the 8-byte vsock config the space reads as zeros
		if uint64(off) < uint64(len(config)) {
			copy(r[configHdrSize:], config[off:])
		}
		return r, fmt.Sprintf(" offset %d size %d", off, size), nil
	case reqSetOwner, reqResetOwner, reqResetDevice, reqSetMemTable, reqSetVringNum, reqSetVringAddr,
		reqSetVringKick, reqSetVringCall, reqSetVringErr, reqSetVringEnable, reqSetConfig:
		// the rings are never run: nothing to set up, map or poll
		return nil, "", nil
	}
	return nil, fmt.Sprintf(" (%d bytes): unknown, ignored without a reply", len(p)), nil
}

func shortPayload(p []byte, want int) error {
	return fmt.Errorf("payload of %d bytes, want %d", len(p), want)
}

func u64(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }

// readMessage reads one message; the descriptors ride on its header's bytes.
func readMessage(c *net.UnixConn) (message, error) {
	hdr := make([]byte, hdrSize)
	oob := make([]byte, unix.CmsgSpace(maxFDs*4))
	n, oobn, flags, _, err := c.ReadMsgUnix(hdr, oob)
	if err != nil {
		return message{}, fmt.Errorf("reading a message header: %w", err)
	}
	if n == 0 {
		return message{}, io.EOF
	}
	var m message
	if m.fds, err = parseFDs(oob[:oobn]); err != nil {
		return m, err
	}
	if flags&unix.MSG_CTRUNC != 0 {
		closeAll(m.fds)
		return m, fmt.Errorf("more than %d descriptors with one message", maxFDs)
	}
	if _, err := io.ReadFull(c, hdr[n:]); err != nil {
		closeAll(m.fds)
		return m, fmt.Errorf("reading a message header: %w", noEOF(err))
	}
	m.req, m.flags = binary.LittleEndian.Uint32(hdr), binary.LittleEndian.Uint32(hdr[4:])
	size := binary.LittleEndian.Uint32(hdr[8:])
	if m.flags&0x3 != flagVersion {
		closeAll(m.fds)
		return m, fmt.Errorf("%s: header flags %#x: not vhost-user version 1", reqName(m.req), m.flags)
	}
	if size > maxPayload {
		closeAll(m.fds)
		return m, fmt.Errorf("%s: payload of %d bytes", reqName(m.req), size)
	}
	m.payload = make([]byte, size)
	if _, err := io.ReadFull(c, m.payload); err != nil {
		closeAll(m.fds)
		return m, fmt.Errorf("reading the payload of %s: %w", reqName(m.req), noEOF(err))
	}
	return m, nil
}

// noEOF: a stream that ends inside a message is cut short, not closed.
func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

func parseFDs(oob []byte) ([]int, error) {
	if len(oob) == 0 {
		return nil, nil
	}
	cms, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, fmt.Errorf("parsing the descriptors of a message: %w", err)
	}
	var fds []int
	for _, cm := range cms {
		f, err := unix.ParseUnixRights(&cm)
		if err != nil {
			closeAll(fds)
			return nil, fmt.Errorf("parsing the descriptors of a message: %w", err)
		}
		fds = append(fds, f...)
	}
	return fds, nil
}

func closeAll(fds []int) {
	for _, fd := range fds {
		unix.Close(fd)
	}
}

func writeReply(c *net.UnixConn, req uint32, payload []byte) error {
	b := make([]byte, hdrSize, hdrSize+len(payload))
	binary.LittleEndian.PutUint32(b, req)
	binary.LittleEndian.PutUint32(b[4:], flagVersion|flagReply)
	binary.LittleEndian.PutUint32(b[8:], uint32(len(payload)))
	_, err := c.Write(append(b, payload...))
	return err
}

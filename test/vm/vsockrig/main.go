// Command vsockrig is the guest-side AF_VSOCK tool of the nested-VM test rig
// (test/vm). It runs only inside the rig's QEMU guests: it refuses to start
// unless the kernel command line carries the rig's marker (libvirt-ssh-proxy.rig=),
// because on the outer host every vsock connect() would leave the machine.
//
//	vsockrig serve [-ready FILE] [-banner PORT] PORT CMD [ARGS...]
//	    listen on vsock PORT; per connection run CMD with the connected socket
//	    itself as stdin and stdout (inetd / systemd Accept=yes style, so
//	    `sshd -i` sees a real AF_VSOCK socket). -banner also listens on a
//	    second port that writes "VSOCKRIG-READY\n" and closes (a cheap
//	    readiness probe that does not spawn CMD). FILE is created once every
//	    listener is bound.
//	vsockrig wait [-registered] CID PORT SECONDS
//	    dial until a line can be read (default) or, with -registered, until
//	    the dial fails with anything but ENODEV (the CID exists on this host);
//	    prints the elapsed time.
//	vsockrig dial CID PORT
//	    one dial; prints "connected" or the errno name; exit 0/1.
//	vsockrig cid
//	    prints the local CID.
//	vsockrig rpc SOCKET URI
//	    what a libvirt daemon's unix SOCKET asks of a client before it opens
//	    URI read-only, on two connections: AUTH_LIST's answer; and
//	    CONNECT_OPEN sent first, without AUTH_LIST. Prints each answer and
//	    its time (no vsock: the rig's view of issue 14's round trips).
//	vsockrig handoff CMD [ARGS...]
//	    what ssh does with ProxyUseFdpass: run CMD with one end of a unix
//	    socket pair as its stdin and stdout and receive the connection it
//	    passes back (SCM_RIGHTS); prints the time from exec to the fd's
//	    arrival in milliseconds and the first line the fd reads (the guest
//	    sshd's banner), then closes it.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/libvirt-ssh-proxy/libvirt-ssh-proxy/internal/libvirtrpc"
	"github.com/mdlayher/vsock"
)

func main() {
	log := func(f string, a ...any) { fmt.Fprintf(os.Stderr, "vsockrig: "+f+"\n", a...) }
	if b, err := os.ReadFile("/proc/cmdline"); err != nil || !strings.Contains(string(b), "libvirt-ssh-proxy.rig=") {
		log("refusing to run: not inside a test/vm rig guest (no libvirt-ssh-proxy.rig= on the kernel command line)")
		os.Exit(3)
	}
	if len(os.Args) < 2 {
		log("usage: vsockrig serve|wait|dial|cid ...")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "serve":
		fs := flag.NewFlagSet("serve", flag.ExitOnError)
		ready := fs.String("ready", "", "file to create once listening")
		banner := fs.Int("banner", 0, "also answer this port with a ready banner")
		fs.Parse(os.Args[2:])
		a := fs.Args()
		if len(a) < 2 {
			log("usage: vsockrig serve [-ready FILE] [-banner PORT] PORT CMD [ARGS...]")
			os.Exit(2)
		}
		port := u32(a[0])
		l, err := vsock.Listen(port, nil)
		if err != nil {
			log("listen %d: %v", port, err)
			os.Exit(1)
		}
		if *banner != 0 {
			bl, err := vsock.Listen(uint32(*banner), nil)
			if err != nil {
				log("listen %d: %v", *banner, err)
				os.Exit(1)
			}
			go func() {
				for {
					c, err := bl.Accept()
					if err != nil {
						log("accept: %v", err)
						time.Sleep(100 * time.Millisecond)
						continue
					}
					c.SetDeadline(time.Now().Add(10 * time.Second))
					fmt.Fprintf(c, "VSOCKRIG-READY %s\n", c.LocalAddr())
					c.Close()
				}
			}()
		}
		log("listening on %s (banner port %d) for %q", l.Addr(), *banner, a[1:])
		if *ready != "" {
			if err := os.WriteFile(*ready, []byte("ready\n"), 0o644); err != nil {
				log("ready file: %v", err)
				os.Exit(1)
			}
		}
		for {
			c, err := l.Accept()
			if err != nil {
				log("accept: %v", err)
				time.Sleep(100 * time.Millisecond)
				continue
			}
			go spawn(c.(*vsock.Conn), a[1:], log)
		}
	case "wait":
		fs := flag.NewFlagSet("wait", flag.ExitOnError)
		registered := fs.Bool("registered", false, "wait until the CID exists (dial error other than ENODEV)")
		fs.Parse(os.Args[2:])
		a := fs.Args()
		if len(a) != 3 {
			log("usage: vsockrig wait [-registered] CID PORT SECONDS")
			os.Exit(2)
		}
		cid, port := u32(a[0]), u32(a[1])
		sec, _ := strconv.Atoi(a[2])
		t0 := time.Now()
		last := ""
		for n := 1; ; n++ {
			c, err := vsock.Dial(cid, port, nil)
			if err == nil {
				if *registered {
					c.Close()
					fmt.Printf("vsockrig: cid %d registered (connected) after %v\n", cid, since(t0))
					return
				}
				c.SetDeadline(time.Now().Add(60 * time.Second))
				line, rerr := bufio.NewReader(c).ReadString('\n')
				c.Close()
				if rerr == nil {
					fmt.Printf("vsockrig: %d:%d answered after %v (%d dials): %q\n", cid, port, since(t0), n, line)
					return
				}
				err = fmt.Errorf("read: %w", rerr)
			} else if *registered && !errors.Is(err, syscall.ENODEV) {
				fmt.Printf("vsockrig: cid %d registered after %v (%d dials): %s\n", cid, since(t0), n, errnoName(err))
				return
			}
			if s := errnoName(err); s != last {
				fmt.Printf("vsockrig: wait %d:%d: dial %d at %v: %s (%v)\n", cid, port, n, since(t0), s, err)
				last = s
			}
			if time.Since(t0) > time.Duration(sec)*time.Second {
				fmt.Printf("vsockrig: wait %d:%d: gave up after %v\n", cid, port, since(t0))
				os.Exit(1)
			}
			time.Sleep(100 * time.Millisecond)
		}
	case "dial":
		if len(os.Args) != 4 {
			log("usage: vsockrig dial CID PORT")
			os.Exit(2)
		}
		t0 := time.Now()
		c, err := vsock.Dial(u32(os.Args[2]), u32(os.Args[3]), nil)
		if err != nil {
			fmt.Printf("%s after %v\n", errnoName(err), since(t0))
			os.Exit(1)
		}
		c.Close()
		fmt.Printf("connected after %v\n", since(t0))
	case "handoff":
		if len(os.Args) < 3 {
			log("usage: vsockrig handoff CMD [ARGS...]")
			os.Exit(2)
		}
		if err := handoff(os.Args[2:]); err != nil {
			log("handoff: %v", err)
			os.Exit(1)
		}
	case "rpc":
		if len(os.Args) != 4 {
			log("usage: vsockrig rpc SOCKET URI")
			os.Exit(2)
		}
		if err := rpcProbe(os.Args[2], os.Args[3]); err != nil {
			log("rpc: %v", err)
			os.Exit(1)
		}
	case "cid":
		c, err := vsock.ContextID()
		if err != nil {
			log("%v", err)
			os.Exit(1)
		}
		fmt.Println(c)
	default:
		log("unknown command %q", os.Args[1])
		os.Exit(2)
	}
}

// rpcProbe asks the daemon at sock for its authentication types, then, on
// a new connection, opens uri read-only without asking first, and prints
// both answers with their times. The second connection ends as a client's
// should (CONNECT_CLOSE) when its open worked, else by hanging up.
func rpcProbe(sock, uri string) error {
	nc, err := net.Dial("unix", sock)
	if err != nil {
		return err
	}
	t0 := time.Now()
	types, err := libvirtrpc.New(nc).AuthList().Wait()
	fmt.Printf("AUTH_LIST: %v err=%v in %v\n", types, err, time.Since(t0))
	nc.Close()
	if nc, err = net.Dial("unix", sock); err != nil {
		return err
	}
	c := libvirtrpc.New(nc)
	t0 = time.Now()
	_, err = c.ConnectOpen(uri, libvirtrpc.ReadOnly).Wait()
	fmt.Printf("CONNECT_OPEN without AUTH_LIST: err=%v in %v\n", err, time.Since(t0))
	if err == nil {
		return c.Close()
	}
	return nc.Close()
}

// handoff runs argv as ssh runs a ProxyCommand with ProxyUseFdpass and times
// exec -> fd received.
func handoff(argv []string) error {
	sp, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("socketpair: %w", err)
	}
	ours, theirs := os.NewFile(uintptr(sp[0]), "ssh end"), os.NewFile(uintptr(sp[1]), "helper end")
	defer ours.Close()
	var stderr strings.Builder
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = theirs, theirs, &stderr
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", argv[0], err)
	}
	theirs.Close()
	buf, oob := make([]byte, 1), make([]byte, syscall.CmsgSpace(4))
	_, oobn, _, _, rerr := syscall.Recvmsg(sp[0], buf, oob, 0)
	took := time.Since(t0)
	werr := cmd.Wait()
	if rerr != nil || oobn == 0 {
		return fmt.Errorf("no fd received (recvmsg: %v; %s: %v; stderr: %q)", rerr, argv[0], werr, stderr.String())
	}
	msgs, err := syscall.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		return fmt.Errorf("parse control message: %v (%d messages)", err, len(msgs))
	}
	fds, err := syscall.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		return fmt.Errorf("parse SCM_RIGHTS: %v (%d fds)", err, len(fds))
	}
	conn := os.NewFile(uintptr(fds[0]), "passed")
	defer conn.Close()
	if werr != nil {
		return fmt.Errorf("%s after passing the fd: %v (stderr: %q)", argv[0], werr, stderr.String())
	}
	conn.SetReadDeadline(time.Now().Add(120 * time.Second))
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return fmt.Errorf("read the passed connection: %w", err)
	}
	fmt.Printf("%.2f %s\n", float64(took.Microseconds())/1000, strings.TrimSpace(line))
	return nil
}

// spawn runs argv with the connection's own socket as fd 0 and 1.
func spawn(c *vsock.Conn, argv []string, log func(string, ...any)) {
	defer c.Close()
	rc, err := c.SyscallConn()
	if err != nil {
		log("syscallconn: %v", err)
		return
	}
	nfd := -1
	rc.Control(func(fd uintptr) { nfd, err = syscall.Dup(int(fd)) })
	if err != nil || nfd < 0 {
		log("dup: %v", err)
		return
	}
	syscall.CloseOnExec(nfd)
	// the child gets a blocking socket, like one from inetd or systemd
	if err := syscall.SetNonblock(nfd, false); err != nil {
		log("setnonblock: %v", err)
	}
	f := os.NewFile(uintptr(nfd), "vsock")
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = f, f, os.Stderr
	cmd.Env = append(os.Environ(), "VSOCKRIG_PEER="+c.RemoteAddr().String())
	if err := cmd.Start(); err != nil {
		log("start %q: %v", argv, err)
		f.Close()
		return
	}
	f.Close()
	c.Close()
	err = cmd.Wait()
	log("%s: %s exited: %v", c.RemoteAddr(), argv[0], err)
}

func u32(s string) uint32 {
	v, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		fmt.Fprintf(os.Stderr, "vsockrig: bad number %q\n", s)
		os.Exit(2)
	}
	return uint32(v)
}

func since(t time.Time) time.Duration { return time.Since(t).Round(time.Millisecond) }

func errnoName(err error) string {
	var e syscall.Errno
	if !errors.As(err, &e) {
		return "no-errno"
	}
	switch e {
	case syscall.ECONNRESET:
		return "ECONNRESET"
	case syscall.ECONNREFUSED:
		return "ECONNREFUSED"
	case syscall.ENODEV:
		return "ENODEV"
	case syscall.ETIMEDOUT:
		return "ETIMEDOUT"
	case syscall.EHOSTUNREACH:
		return "EHOSTUNREACH"
	case syscall.ENETUNREACH:
		return "ENETUNREACH"
	case syscall.EAFNOSUPPORT:
		return "EAFNOSUPPORT"
	}
	return fmt.Sprintf("errno-%d", int(e))
}

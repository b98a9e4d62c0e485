package libvirtrpc

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// FuzzReadMessage: any byte stream from the daemon frames into messages or
// stops with an error; never a panic, never a body other than the length
// word says.
func FuzzReadMessage(f *testing.F) {
	f.Add(frame(header{program, version, procConnectOpen, typeReply, 1, statusOK}, nil))
	f.Add(frame(header{program, version, procDomainLookupByName, typeReply, 2, statusError}, errorBody(CodeNoDomain, "no")))
	f.Add(words(28, 0, 0, 0, 0, 0, 0))
	f.Add(words(1<<31, 0, 0, 0, 0, 0, 0))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bytes.NewReader(data)
		for {
			off := len(data) - r.Len()
			_, body, err := readMessage(r)
			if err != nil {
				return
			}
			if want := int(binary.BigEndian.Uint32(data[off:])) - 4 - headerSize; len(body) != want {
				t.Fatalf("body of %d bytes, length word says %d", len(body), want)
			}
		}
	})
}

// FuzzDecodeReply: every result decoder, and the error decoder, take any
// body without panicking; what decodes cleanly re-encodes where there is an
// encoder to compare with (domains).
func FuzzDecodeReply(f *testing.F) {
	f.Add(uint8(0), domainBody(testDomain))
	f.Add(uint8(1), words(2, 2, 0))
	f.Add(uint8(2), append(words(1), domainBody(testDomain)...))
	f.Add(uint8(3), append(append(words(1), domainBody(testDomain)...), append(words(1, 11), "state.state\x00"...)...))
	f.Add(uint8(4), append(append(words(1, 5), "vnet0\x00\x00\x00"...), words(0, 1, 0, 9)...))
	f.Add(uint8(5), errorBody(CodeNoDomain, "Domain not found"))
	f.Add(uint8(6), append(words(9), "<domain/>\x00\x00\x00"...))
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		d := NewDecoder(body)
		switch which % 8 {
		case 0:
			dom := decodeDomain(d)
			if d.Finish() == nil {
				var e Encoder
				e.Domain(dom)
				if !bytes.Equal(e.Bytes(), body) {
					t.Fatalf("%+v re-encodes as %x, not %x", dom, e.Bytes(), body)
				}
			}
		case 1:
			decodeAuthList(d)
		case 2:
			decodeDomains(d)
		case 3:
			decodeStats(d)
		case 4:
			decodeInterfaces(d)
		case 5:
			if decodeError(body) == nil {
				t.Fatal("an error reply decoded as no error")
			}
		case 6:
			d.Str()
		case 7:
			decodeState(d)
		}
		d.Finish()
	})
}

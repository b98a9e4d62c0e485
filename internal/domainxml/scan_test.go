package domainxml

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/beevik/etree"
)

// etreeCID and etreeMACs are CIDFromXML and MACsFromXML as they were on
// etree (a DOM on encoding/xml): the reference the scanner is held to.
func etreeCID(xml string) (uint32, error) {
	doc := etree.NewDocument()
	if err := doc.ReadFromString(xml); err != nil {
		return 0, err
	}
	if doc.FindElement("/domain") == nil {
		return 0, errors.New("parse domain XML: no <domain> root element")
	}
	vsock := doc.FindElement("/domain/devices/vsock")
	if vsock == nil {
		return 0, ErrNoVsock
	}
	cid := vsock.FindElement("cid")
	if cid == nil {
		return 0, ErrNoCID
	}
	addr := cid.SelectAttr("address")
	if addr == nil {
		return 0, ErrNoCID
	}
	n, err := strconv.ParseUint(addr.Value, 10, 32)
	if err != nil || n == 1<<32-1 {
		return 0, errors.New("parse domain XML: vsock cid address " + strconv.Quote(addr.Value) + " is not a CID")
	}
	return uint32(n), nil
}

func etreeMACs(xml string) ([]string, error) {
	doc := etree.NewDocument()
	if err := doc.ReadFromString(xml); err != nil {
		return nil, err
	}
	var macs []string
	for _, m := range doc.FindElements("/domain/devices/interface/mac[@address]") {
		macs = append(macs, m.SelectAttrValue("address", ""))
	}
	return macs, nil
}

// checkAgainstEtree fails t when the scanner's answer for xml is not
// etree's: whatever the scanner accepts, etree must accept with the same
// CID or the same reason for none, and the same MACs. Where the scanner
// refuses the XML, etree may have read it (the scanner reads a subset).
func checkAgainstEtree(t *testing.T, xml string) {
	t.Helper()
	cid, err := CIDFromXML(xml)
	rcid, rerr := etreeCID(xml)
	parseErr := err != nil && !errors.Is(err, ErrNoVsock) && !errors.Is(err, ErrNoCID) &&
		!strings.Contains(err.Error(), "is not a CID") && !strings.Contains(err.Error(), "no <domain>")
	switch {
	case err == nil && (rerr != nil || rcid != cid):
		t.Fatalf("CIDFromXML(%q) = %d, etree: %d, %v", xml, cid, rcid, rerr)
	case err != nil && !parseErr && (rerr == nil || err.Error() != rerr.Error()):
		t.Fatalf("CIDFromXML(%q): %v, etree: %d, %v", xml, err, rcid, rerr)
	}
	macs, err := MACsFromXML(xml)
	rmacs, rerr := etreeMACs(xml)
	if err == nil && (rerr != nil || !slices.Equal(macs, rmacs)) {
		t.Fatalf("MACsFromXML(%q) = %q, etree: %q, %v", xml, macs, rmacs, rerr)
	}
}

// TestDomainXMLAgainstEtree: the inputs of both XML fuzz corpora (what
// the fuzzer found interesting for etree) and libvirt-shaped documents
// give etree's answer.
func TestDomainXMLAgainstEtree(t *testing.T) {
	live, err := os.ReadFile("testdata/live-qemu.xml")
	if err != nil {
		t.Fatal(err)
	}
	inputs := []string{string(live), strings.ReplaceAll(string(live), "'", `"`), strings.ReplaceAll(string(live), "\n", "\r\n")}
	for _, dir := range []string{"FuzzCIDFromXML", "FuzzMACsFromXML", "FuzzDomainXMLAgainstEtree"} {
		files, _ := filepath.Glob(filepath.Join("testdata/fuzz", dir, "*"))
		for _, f := range files {
			inputs = append(inputs, corpusString(t, f))
		}
	}
	accepted := 0
	for _, in := range inputs {
		checkAgainstEtree(t, in)
		if _, err := MACsFromXML(in); err == nil {
			accepted++
		}
	}
	t.Logf("%d inputs, %d read by the scanner", len(inputs), accepted)
	if cid, err := CIDFromXML(string(live)); err != nil || cid != 3 {
		t.Fatalf("the live QEMU XML: %d, %v", cid, err)
	}
	if macs, err := MACsFromXML(string(live)); err != nil || !slices.Equal(macs, []string{"52:54:00:6b:3c:58"}) {
		t.Fatalf("the live QEMU XML: %q, %v", macs, err)
	}
}

// corpusString reads a one-string input of a Go fuzz corpus file.
func corpusString(t *testing.T, file string) string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	_, arg, ok := strings.Cut(strings.TrimSpace(string(b)), "\nstring(")
	s, err := strconv.Unquote(strings.TrimSuffix(arg, ")"))
	if !ok || err != nil {
		t.Fatalf("%s: not a one-string corpus file", file)
	}
	return s
}

// TestScanXMLSubset: what the scanner reads and refuses, case by case.
func TestScanXMLSubset(t *testing.T) {
	tests := []struct {
		name, xml string
		wantErr   string // "" when it reads
	}{
		{"entities and references", `<domain a='&lt;&gt;&amp;&apos;&quot;&#65;&#x42;'>x &amp; y</domain>`, ""},
		{"comment and CDATA", `<domain><!-- a - b --><![CDATA[<devices>]]></domain>`, ""},
		{"prefixes", `<x:domain xmlns:x='u'><x:devices/></x:domain>`, ""},
		{"space around =", `<domain a = "1"/>`, ""},
		{"text outside", " \n<domain/>\n", ""},
		{"unknown entity", `<domain>&nbsp;</domain>`, "unknown entity"},
		{"bad reference", `<domain a='&#0;'/>`, "not allowed in XML"},
		{"reference too big", `<domain a='&#x110000;'/>`, "out of range"},
		{"bare ampersand", `<domain>a & b</domain>`, "unterminated entity"},
		{"lt in a value", `<domain a='<'/>`, "'<' in the value"},
		{"double dash", `<domain><!-- a -- b --></domain>`, `"--"`},
		{"cdata end in text", `<domain>]]></domain>`, `"]]>"`},
		{"mismatched", `<domain></devices>`, "unexpected end tag"},
		{"unclosed", `<domain><devices>`, "not closed"},
		{"attribute without value", `<domain a/>`, "without a value"},
		{"unquoted", `<domain a=1/>`, "unquoted"},
		{"repeated attribute", `<domain a='1' a='2'/>`, "repeated"},
		{"no space between attributes", `<domain a='1'b='2'/>`, "no space"},
		{"two colons", `<a:b:c/>`, "malformed start tag"},
		{"declaration", `<?xml version="1.0"?><domain/>`, "processing instruction"},
		{"doctype", `<!DOCTYPE domain><domain/>`, "processing instruction"},
		{"control character", "<domain>\x01</domain>", "not allowed"},
		{"invalid UTF-8", "<domain>\xff</domain>", "invalid UTF-8"},
		{"too deep", strings.Repeat("<a>", maxXMLDepth+1), "too deep"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := scanXML(tt.xml, func([]string, []int, []xmlAttr) {})
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("scanXML: %v, want %q", err, tt.wantErr)
			}
			checkAgainstEtree(t, tt.xml)
		})
	}
}

// FuzzDomainXMLAgainstEtree: on any input, the scanner gives etree's
// answer or refuses the input as outside its subset.
func FuzzDomainXMLAgainstEtree(f *testing.F) {
	f.Add("<domain><devices><vsock><cid auto='no' address='42'/></vsock><interface><mac address='52:54:00:aa:bb:01'/></interface></devices></domain>")
	f.Add("<domain><devices><vsock/><vsock><cid address='5'/></vsock></devices></domain>")
	f.Add("<a/><x:domain><devices><vsock><cid x:address='&#52;2'/></vsock></devices></x:domain>")
	f.Fuzz(checkAgainstEtree)
}

// BenchmarkCIDFromXML: reading the CID from a 5 KB live QEMU domain XML,
// once per ProxyCommand run (etree took about 0.5 ms here).
func BenchmarkCIDFromXML(b *testing.B) {
	live, err := os.ReadFile("testdata/live-qemu.xml")
	if err != nil {
		b.Fatal(err)
	}
	xml := string(live)
	for b.Loop() {
		if _, err := CIDFromXML(xml); err != nil {
			b.Fatal(err)
		}
	}
}

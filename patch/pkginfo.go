package patch

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Limits on PKGINFO.meta itself, so that a hostile file cannot make the
// parser allocate without bound before the archive caps apply.
const (
	maxXMLDepth = 8
	maxXMLNodes = 100000
)

// ParseManifest reads PKGINFO.meta in any accepted form: XML format 1
// (<Package format="1">), the original XML (format 0: Name, Version,
// Architecture, Description) or the original INI ([Package] section). It only
// parses; ValidateManifest checks the values.
func ParseManifest(data []byte) (*Manifest, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // a BOM, as Windows editors write
	if !utf8.Valid(data) {
		return nil, formatErr(ManifestName, "not valid utf-8")
	}
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if bytes.HasPrefix(trimmed, []byte("<")) {
		return ParseXML(data)
	}
	return ParseINI(data)
}

// xmlNode is one element of PKGINFO.meta. The file is read into this small
// tree first so that unknown elements, unknown attributes, repeated
// elements and stray text can all be refused in one place.
type xmlNode struct {
	name     string
	attrs    []xml.Attr
	text     strings.Builder
	children []*xmlNode
	line     int
}

// ParseXML reads the XML forms of PKGINFO.meta, strictly: DOCTYPEs,
// namespaces, unknown elements or attributes, repeated single elements, text
// where none belongs and anything after </Package> are errors.
func ParseXML(data []byte) (*Manifest, error) {
	root, err := readXMLTree(data)
	if err != nil {
		return nil, err
	}
	return xmlToManifest(root)
}

func xmlErr(line int, format string, args ...any) error {
	return formatErr(ManifestName, "line %d: %s", line, fmt.Sprintf(format, args...))
}

func readXMLTree(data []byte) (*xmlNode, error) {
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	// No CharsetReader: anything but UTF-8 is refused by the decoder.
	var (
		stack []*xmlNode
		root  *xmlNode
		nodes int
	)
	for {
		line, _ := d.InputPos()
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, formatErr(ManifestName, "malformed xml: %v", err)
		}
		switch t := tok.(type) {
		case xml.ProcInst:
			if t.Target != "xml" || root != nil || len(stack) > 0 {
				return nil, xmlErr(line, "unexpected processing instruction <?%s?>", t.Target)
			}
		case xml.Directive:
			return nil, xmlErr(line, "DOCTYPE and other <!...> directives are not allowed")
		case xml.Comment:
		case xml.CharData:
			if len(stack) == 0 {
				if len(bytes.TrimSpace(t)) > 0 {
					if root != nil {
						return nil, xmlErr(line, "trailing data after </%s>", root.name)
					}
					return nil, xmlErr(line, "text outside the root element")
				}
				continue
			}
			top := stack[len(stack)-1]
			if top.text.Len()+len(t) > 64<<10 {
				return nil, xmlErr(line, "<%s> text longer than 64 KiB", top.name)
			}
			top.text.Write(t)
		case xml.StartElement:
			if root != nil && len(stack) == 0 {
				return nil, xmlErr(line, "trailing data after </%s>: a second root element <%s>", root.name, t.Name.Local)
			}
			if t.Name.Space != "" {
				return nil, xmlErr(line, "namespaced element <%s:%s> is not allowed", t.Name.Space, t.Name.Local)
			}
			if len(stack) >= maxXMLDepth {
				return nil, xmlErr(line, "elements nested deeper than %d", maxXMLDepth)
			}
			if nodes++; nodes > maxXMLNodes {
				return nil, xmlErr(line, "more than %d elements", maxXMLNodes)
			}
			for _, a := range t.Attr {
				if a.Name.Space != "" {
					return nil, xmlErr(line, "<%s>: namespaced attribute %s:%s is not allowed", t.Name.Local, a.Name.Space, a.Name.Local)
				}
			}
			n := &xmlNode{name: t.Name.Local, attrs: t.Attr, line: line}
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				p.children = append(p.children, n)
			} else {
				root = n
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		}
	}
	if root == nil {
		return nil, formatErr(ManifestName, "no root element")
	}
	return root, nil
}

// attrs reads n's attributes into the names allowed; any other is an error.
func (n *xmlNode) attrMap(allowed ...string) (map[string]string, error) {
	m := map[string]string{}
	for _, a := range n.attrs {
		ok := false
		for _, k := range allowed {
			if a.Name.Local == k {
				ok = true
			}
		}
		if !ok {
			if len(allowed) == 0 {
				return nil, xmlErr(n.line, "<%s> takes no attributes, found %q", n.name, a.Name.Local)
			}
			return nil, xmlErr(n.line, "<%s>: unknown attribute %q (allowed: %s)", n.name, a.Name.Local, strings.Join(allowed, ", "))
		}
		if _, dup := m[a.Name.Local]; dup {
			return nil, xmlErr(n.line, "<%s>: attribute %q given twice", n.name, a.Name.Local)
		}
		m[a.Name.Local] = a.Value
	}
	return m, nil
}

// leaf returns the text of an element that must hold only text.
func (n *xmlNode) leaf() (string, error) {
	if len(n.children) > 0 {
		return "", xmlErr(n.children[0].line, "<%s> holds only text, found <%s>", n.name, n.children[0].name)
	}
	if _, err := n.attrMap(); err != nil {
		return "", err
	}
	return strings.TrimSpace(n.text.String()), nil
}

// container checks that an element holds only child elements.
func (n *xmlNode) container() error {
	if strings.TrimSpace(n.text.String()) != "" {
		return xmlErr(n.line, "<%s> holds elements, not text", n.name)
	}
	return nil
}

func xmlToManifest(root *xmlNode) (*Manifest, error) {
	if root.name != "Package" {
		return nil, xmlErr(root.line, "root element is <%s>, want <Package>", root.name)
	}
	at, err := root.attrMap("format")
	if err != nil {
		return nil, err
	}
	m := &Manifest{}
	if f, ok := at["format"]; ok {
		switch f {
		case "0":
		case "1":
			m.Format = 1
		default:
			return nil, xmlErr(root.line, "<Package format=%q>: unsupported format (this clp reads 0 and 1)", f)
		}
	}
	if err := root.container(); err != nil {
		return nil, err
	}
	text := map[string]*string{
		"Name": &m.Name, "Version": &m.Version, "Architecture": &m.Architecture,
		"Description": &m.Description,
	}
	if m.Format == 0 {
		// One of the original readers spelt it this way.
		text["Architechture"] = &m.Architecture
	} else {
		text["Author"] = &m.Author
		text["Date"] = &m.Date
		text["Severity"] = &m.Severity
	}
	seen := map[string]bool{}
	for _, c := range root.children {
		key := c.name
		if key == "Architechture" {
			key = "Architecture"
		}
		if seen[key] {
			return nil, xmlErr(c.line, "<%s> given twice", c.name)
		}
		seen[key] = true
		if dst, ok := text[c.name]; ok {
			if *dst, err = c.leaf(); err != nil {
				return nil, err
			}
			continue
		}
		if m.Format == 0 {
			return nil, xmlErr(c.line, "unknown element <%s> in a format 0 PKGINFO.meta (format 0 knows Name, Version, Architecture, Description; write <Package format=\"1\"> for more)", c.name)
		}
		switch c.name {
		case "AppliesTo":
			err = readAppliesTo(c, m)
		case "Files":
			err = readFiles(c, m)
		case "Packages":
			err = readPackages(c, m)
		case "Scripts":
			err = readScripts(c, m)
		default:
			err = xmlErr(c.line, "unknown element <%s> in <Package>", c.name)
		}
		if err != nil {
			return nil, err
		}
	}
	return m, nil
}

func readAppliesTo(n *xmlNode, m *Manifest) error {
	if err := n.container(); err != nil {
		return err
	}
	if _, err := n.attrMap(); err != nil {
		return err
	}
	for _, c := range n.children {
		switch c.name {
		case "Architecture":
			v, err := c.leaf()
			if err != nil {
				return err
			}
			m.AppliesTo.Architectures = append(m.AppliesTo.Architectures, v)
		case "Installed", "NotInstalled":
			allowed := []string{"name", "version"}
			if c.name == "NotInstalled" {
				allowed = allowed[:1]
			}
			a, err := c.attrMap(allowed...)
			if err != nil {
				return err
			}
			if err := empty(c); err != nil {
				return err
			}
			m.AppliesTo.Packages = append(m.AppliesTo.Packages, PackageCondition{
				Name: a["name"], Constraint: a["version"], Absent: c.name == "NotInstalled",
			})
		default:
			return xmlErr(c.line, "unknown element <%s> in <AppliesTo> (Architecture, Installed, NotInstalled)", c.name)
		}
	}
	return nil
}

func empty(n *xmlNode) error {
	if len(n.children) > 0 || strings.TrimSpace(n.text.String()) != "" {
		return xmlErr(n.line, "<%s> must be empty (its data are attributes)", n.name)
	}
	return nil
}

var fileOps = map[string]string{"Add": OpAdd, "Replace": OpReplace, "Remove": OpRemove, "Mode": OpMode, "Owner": OpOwner}

func readFiles(n *xmlNode, m *Manifest) error {
	if err := n.container(); err != nil {
		return err
	}
	if _, err := n.attrMap(); err != nil {
		return err
	}
	for _, c := range n.children {
		op, ok := fileOps[c.name]
		if !ok {
			return xmlErr(c.line, "unknown element <%s> in <Files> (Add, Replace, Remove, Mode, Owner)", c.name)
		}
		a, err := c.attrMap("target", "payload", "sha256", "expect", "mode", "owner", "group")
		if err != nil {
			return err
		}
		if err := empty(c); err != nil {
			return err
		}
		m.Files = append(m.Files, FileAction{
			Op: op, Target: a["target"], Payload: a["payload"], SHA256: a["sha256"],
			Expect: a["expect"], Mode: a["mode"], Owner: a["owner"], Group: a["group"],
		})
	}
	return nil
}

func readPackages(n *xmlNode, m *Manifest) error {
	if err := n.container(); err != nil {
		return err
	}
	if _, err := n.attrMap(); err != nil {
		return err
	}
	for _, c := range n.children {
		var p PackageAction
		switch c.name {
		case "Downgrade":
			a, err := c.attrMap("name", "version", "file", "payload", "sha256")
			if err != nil {
				return err
			}
			p = PackageAction{Op: OpDowngrade, Name: a["name"], Version: a["version"], File: a["file"], Payload: a["payload"], SHA256: a["sha256"]}
		case "Pin":
			a, err := c.attrMap("name", "until")
			if err != nil {
				return err
			}
			p = PackageAction{Op: OpPin, Name: a["name"], Until: a["until"]}
		default:
			return xmlErr(c.line, "unknown element <%s> in <Packages> (Downgrade, Pin)", c.name)
		}
		if err := empty(c); err != nil {
			return err
		}
		m.Packages = append(m.Packages, p)
	}
	return nil
}

func readScripts(n *xmlNode, m *Manifest) error {
	if err := n.container(); err != nil {
		return err
	}
	if _, err := n.attrMap(); err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, c := range n.children {
		var dst *string
		switch c.name {
		case "Install":
			dst = &m.InstallScript
		case "Remove":
			dst = &m.RemoveScript
		default:
			return xmlErr(c.line, "unknown element <%s> in <Scripts> (Install, Remove)", c.name)
		}
		if seen[c.name] {
			return xmlErr(c.line, "<%s> given twice", c.name)
		}
		seen[c.name] = true
		v, err := c.leaf()
		if err != nil {
			return err
		}
		if v == "" {
			return xmlErr(c.line, "<%s> is empty", c.name)
		}
		*dst = v
	}
	return nil
}

// ParseINI reads the original INI form of PKGINFO.meta:
//
//	[Package]
//	Name=CLP1250101
//	Version=1
//	Architecture=x86_64
//	Description=...
//
// Keys are case-insensitive; the misspelling Architechture= is accepted;
// "#" and ";" start comments. Unknown sections and keys are errors, so a
// typo cannot silently drop a field. The result is format 0.
func ParseINI(data []byte) (*Manifest, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	m := &Manifest{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	line, section := 0, ""
	seen := map[string]bool{}
	for sc.Scan() {
		line++
		s := strings.TrimSpace(sc.Text())
		if s == "" || s[0] == '#' || s[0] == ';' {
			continue
		}
		if strings.HasPrefix(s, "[") {
			if !strings.HasSuffix(s, "]") {
				return nil, formatErr(ManifestName, "line %d: unterminated section header %q", line, s)
			}
			section = strings.TrimSpace(s[1 : len(s)-1])
			if !strings.EqualFold(section, "Package") {
				return nil, formatErr(ManifestName, "line %d: unknown section [%s] (want [Package])", line, section)
			}
			if seen["[package]"] {
				return nil, formatErr(ManifestName, "line %d: second [Package] section", line)
			}
			seen["[package]"] = true
			continue
		}
		if section == "" {
			return nil, formatErr(ManifestName, "line %d: %q before the [Package] section (PKGINFO.meta is XML <Package> or INI [Package])", line, s)
		}
		k, v, ok := strings.Cut(s, "=")
		if !ok {
			return nil, formatErr(ManifestName, "line %d: expected Key=Value, got %q", line, s)
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if len(v) >= 2 && (v[0] == '"' && v[len(v)-1] == '"' || v[0] == '\'' && v[len(v)-1] == '\'') {
			v = v[1 : len(v)-1]
		}
		key := strings.ToLower(k)
		if key == "architechture" {
			key = "architecture"
		}
		var dst *string
		switch key {
		case "name":
			dst = &m.Name
		case "version":
			dst = &m.Version
		case "architecture":
			dst = &m.Architecture
		case "description":
			dst = &m.Description
		default:
			return nil, formatErr(ManifestName, "line %d: unknown key %q (Name, Version, Architecture, Description)", line, k)
		}
		if seen[key] {
			return nil, formatErr(ManifestName, "line %d: %s given twice", line, k)
		}
		seen[key] = true
		*dst = v
	}
	if err := sc.Err(); err != nil {
		return nil, formatErr(ManifestName, "line %d: %v", line+1, err)
	}
	if !seen["[package]"] {
		return nil, formatErr(ManifestName, "neither XML (<Package>) nor INI ([Package] section)")
	}
	return m, nil
}

// MarshalManifest writes m as XML format 1 (or format 0 when m.Format is 0
// and m has nothing format 0 cannot say), in the layout docs/clp-format.md
// shows. ParseXML(MarshalManifest(m)) gives m back.
func MarshalManifest(m *Manifest) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(xml.Header)
	esc := func(s string) string {
		var e bytes.Buffer
		_ = xml.EscapeText(&e, []byte(s))
		return e.String()
	}
	elem := func(indent, name, v string) {
		if v != "" {
			fmt.Fprintf(&b, "%s<%s>%s</%s>\n", indent, name, esc(v), name)
		}
	}
	attrs := func(kv ...string) string {
		var s strings.Builder
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] != "" {
				fmt.Fprintf(&s, " %s=\"%s\"", kv[i], esc(kv[i+1]))
			}
		}
		return s.String()
	}
	if m.Format == 0 {
		if len(m.Files)+len(m.Packages)+len(m.AppliesTo.Architectures)+len(m.AppliesTo.Packages) > 0 ||
			m.Author != "" || m.Date != "" || m.Severity != "" || m.InstallScript != "" || m.RemoveScript != "" {
			return nil, fmt.Errorf("format 0 cannot carry actions, author, date, severity or scripts")
		}
		b.WriteString("<Package>\n")
	} else {
		fmt.Fprintf(&b, "<Package format=\"%d\">\n", m.Format)
	}
	elem("  ", "Name", m.Name)
	elem("  ", "Version", m.Version)
	elem("  ", "Architecture", m.Architecture)
	elem("  ", "Description", m.Description)
	elem("  ", "Author", m.Author)
	elem("  ", "Date", m.Date)
	elem("  ", "Severity", m.Severity)
	if len(m.AppliesTo.Architectures)+len(m.AppliesTo.Packages) > 0 {
		b.WriteString("  <AppliesTo>\n")
		for _, a := range m.AppliesTo.Architectures {
			elem("    ", "Architecture", a)
		}
		for _, c := range m.AppliesTo.Packages {
			if c.Absent {
				fmt.Fprintf(&b, "    <NotInstalled%s/>\n", attrs("name", c.Name))
			} else {
				fmt.Fprintf(&b, "    <Installed%s/>\n", attrs("name", c.Name, "version", c.Constraint))
			}
		}
		b.WriteString("  </AppliesTo>\n")
	}
	if len(m.Files) > 0 {
		b.WriteString("  <Files>\n")
		for _, f := range m.Files {
			el := ""
			for k, v := range fileOps {
				if v == f.Op {
					el = k
				}
			}
			if el == "" {
				return nil, fmt.Errorf("file action %q: unknown operation %q", f.Target, f.Op)
			}
			fmt.Fprintf(&b, "    <%s%s/>\n", el, attrs("target", f.Target, "payload", f.Payload, "sha256", f.SHA256,
				"expect", f.Expect, "mode", f.Mode, "owner", f.Owner, "group", f.Group))
		}
		b.WriteString("  </Files>\n")
	}
	if len(m.Packages) > 0 {
		b.WriteString("  <Packages>\n")
		for _, p := range m.Packages {
			switch p.Op {
			case OpDowngrade:
				fmt.Fprintf(&b, "    <Downgrade%s/>\n", attrs("name", p.Name, "version", p.Version, "file", p.File, "payload", p.Payload, "sha256", p.SHA256))
			case OpPin:
				fmt.Fprintf(&b, "    <Pin%s/>\n", attrs("name", p.Name, "until", p.Until))
			default:
				return nil, fmt.Errorf("package action %q: unknown operation %q", p.Name, p.Op)
			}
		}
		b.WriteString("  </Packages>\n")
	}
	if m.InstallScript != "" || m.RemoveScript != "" {
		b.WriteString("  <Scripts>\n")
		elem("    ", "Install", m.InstallScript)
		elem("    ", "Remove", m.RemoveScript)
		b.WriteString("  </Scripts>\n")
	}
	b.WriteString("</Package>\n")
	return b.Bytes(), nil
}

package providers

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/switchyard-dev/switchyard/scripting"
	"github.com/switchyard-dev/switchyard/storage"
)

// Template is a ready-made provider for one sender: a match script and the
// secrets and properties it reads. Users pick one instead of writing a
// match script (POST /providers {"template": "github", "secrets": {...}}).
//
// Each template is a file templates/<name>.js, embedded in the binary. Its
// leading comment block carries its metadata, one tag a line:
//
//	// @name GitHub
//	// @description Webhooks from GitHub.com and GitHub Enterprise Server,
//	//   signed with the webhook's secret.
//	// @secret secret: the webhook's Secret, as typed in GitHub (required)
//	// @property tolerance: seconds a request may be old (default 300)
//
// A tag goes on over the following comment lines indented by more than
// one space. @name (the title) and @description appear once. @secret and
// @property are "<name>: <description>" followed by any of these notes in
// parentheses, at the end:
//
//	(required)                   the provider cannot be created without it
//	(required when auth is basic) required only when the property auth is basic
//	(default X-Signature)        properties only: the value when none is given
//	(one of hex, base64)         properties only: the values allowed
//
// A template may have a handshake script beside it,
// templates/<name>.handshake.js, which answers the sender's URL
// verification (see storage.Provider.HandshakeScript); its PROPERTIES
// count with the match script's.
//
// The rest of the block, and the code, are for people: they say why.
// Templates read secrets and properties alike from PROPERTIES, and must
// declare every name they read. A malformed template is left out of the
// library and reported by TemplatesError, which the tests check.
type Template struct {
	Name        string // the id, from the file name: "github"
	Title       string // @name: "GitHub"; the default name of a provider made from it
	Description string // @description
	Script      string // the whole file, metadata included
	Handshake   string // the handshake script, "" when there is none
	Secrets     []Param
	Properties  []Param
}

// Param is a secret or a property a template reads.
type Param struct {
	Name         string
	Description  string
	Default      string     // properties only; "" when there is none
	Required     bool       // always required
	RequiredWhen *Condition // required only when a property has a value
	OneOf        []string   // properties only: the values allowed; nil for any
}

// Condition is "the property Property is Value".
type Condition struct {
	Property string
	Value    string
}

func (c Condition) String() string { return c.Property + " is " + c.Value }

//go:embed templates/*.js
var templateFiles embed.FS

// templates are the well-formed embedded templates, sorted by name;
// templatesErr says what is wrong with the others.
var templates, templatesErr = loadTemplates(templateFiles, "templates")

// TemplatesError is nil when every embedded template is well-formed. A
// malformed one is left out of Templates and named here; the package's
// tests fail on it, so it never ships.
func TemplatesError() error { return templatesErr }

// loadTemplates parses every dir/*.js of fsys, sorted by name. It returns
// the well-formed ones, and an error naming each malformed one.
func loadTemplates(fsys fs.FS, dir string) ([]Template, error) {
	files, err := fs.Glob(fsys, path.Join(dir, "*.js"))
	files = slices.DeleteFunc(files, func(f string) bool { return strings.HasSuffix(f, handshakeSuffix) })
	if err == nil && len(files) == 0 {
		err = fmt.Errorf("no templates in %s", dir)
	}
	if err != nil {
		return nil, err
	}
	slices.Sort(files)
	var list []Template
	var errs []error
	for _, f := range files {
		src, err := fs.ReadFile(fsys, f)
		var handshake []byte
		if err == nil {
			handshake, err = fs.ReadFile(fsys, strings.TrimSuffix(f, ".js")+handshakeSuffix)
			if errors.Is(err, fs.ErrNotExist) {
				err = nil
			}
		}
		if err == nil {
			var t Template
			if t, err = ParseTemplateWithHandshake(strings.TrimSuffix(path.Base(f), ".js"), string(src), string(handshake)); err == nil {
				list = append(list, t)
				continue
			}
		}
		errs = append(errs, fmt.Errorf("template %s: %w", f, err))
	}
	return list, errors.Join(errs...)
}

// Templates returns every template, sorted by name.
func Templates() []Template {
	out := make([]Template, len(templates))
	for i, t := range templates {
		out[i] = t.clone()
	}
	return out
}

// TemplateByName returns the template with that name (its id, "github").
func TemplateByName(name string) (Template, bool) {
	for _, t := range templates {
		if t.Name == name {
			return t.clone(), true
		}
	}
	return Template{}, false
}

// TemplateNames returns the names of every template, sorted.
func TemplateNames() []string {
	names := make([]string, len(templates))
	for i, t := range templates {
		names[i] = t.Name
	}
	return names
}

// clone copies t deeply enough that callers cannot change the library.
func (t Template) clone() Template {
	t.Secrets = cloneParams(t.Secrets)
	t.Properties = cloneParams(t.Properties)
	return t
}

func cloneParams(ps []Param) []Param {
	if ps == nil {
		return nil
	}
	out := slices.Clone(ps)
	for i := range out {
		out[i].OneOf = slices.Clone(out[i].OneOf)
		if c := out[i].RequiredWhen; c != nil {
			cc := *c
			out[i].RequiredWhen = &cc
		}
	}
	return out
}

// Provider makes a provider from the template: named after its title,
// active, with the template's script, the given secrets, and the given
// properties with the template's defaults filled in. A secret given as ""
// counts as not given. It refuses, with an error wrapping
// storage.ErrInvalid that names them, secrets or properties the template
// does not take, missing required ones, and property values outside the
// allowed ones.
func (t Template) Provider(secrets, properties map[string]string) (storage.Provider, error) {
	p := storage.Provider{
		Name:            t.Title,
		Description:     "Created from the " + t.Title + " template.",
		Active:          true,
		MatchScript:     t.Script,
		HandshakeScript: t.Handshake,
		Properties:      map[string]string{},
		Secrets:         map[string]string{},
	}
	var problems []string
	for _, k := range sortedKeys(secrets) {
		switch {
		case t.secret(k) != nil:
			if secrets[k] != "" {
				p.Secrets[k] = secrets[k]
			}
		case t.property(k) != nil:
			problems = append(problems, fmt.Sprintf("%q is a property of this template, not a secret: send it in properties", k))
		default:
			problems = append(problems, fmt.Sprintf("unknown secret %q (this template takes %s)", k, paramList(t.Secrets)))
		}
	}
	for _, k := range sortedKeys(properties) {
		switch {
		case t.property(k) != nil:
			p.Properties[k] = properties[k]
		case t.secret(k) != nil:
			problems = append(problems, fmt.Sprintf("%q is a secret of this template, not a property: send it in secrets, which are encrypted and never shown", k))
		default:
			problems = append(problems, fmt.Sprintf("unknown property %q (this template takes %s)", k, paramList(t.Properties)))
		}
	}
	for _, prop := range t.Properties {
		v, given := p.Properties[prop.Name]
		if !given && prop.Default != "" {
			v, given = prop.Default, true
			p.Properties[prop.Name] = v
		}
		if given && prop.OneOf != nil && !slices.Contains(prop.OneOf, v) {
			problems = append(problems, fmt.Sprintf("property %q must be one of %s, not %q", prop.Name, strings.Join(prop.OneOf, ", "), v))
		}
	}
	var missing []string
	need := func(kind string, prm Param, have bool) {
		switch {
		case have:
		case prm.Required:
			missing = append(missing, fmt.Sprintf("%s %q (%s)", kind, prm.Name, prm.Description))
		case prm.RequiredWhen != nil && p.Properties[prm.RequiredWhen.Property] == prm.RequiredWhen.Value:
			missing = append(missing, fmt.Sprintf("%s %q (%s; required when %s)", kind, prm.Name, prm.Description, prm.RequiredWhen))
		}
	}
	for _, prm := range t.Secrets {
		_, have := p.Secrets[prm.Name]
		need("secret", prm, have)
	}
	for _, prm := range t.Properties {
		need("property", prm, p.Properties[prm.Name] != "")
	}
	if len(missing) > 0 {
		problems = append(problems, "needs "+strings.Join(missing, ", "))
	}
	if len(problems) > 0 {
		return storage.Provider{}, fmt.Errorf("%w: the %s template: %s", storage.ErrInvalid, t.Title, strings.Join(problems, "; "))
	}
	return p, nil
}

func (t Template) secret(name string) *Param   { return findParam(t.Secrets, name) }
func (t Template) property(name string) *Param { return findParam(t.Properties, name) }

func findParam(ps []Param, name string) *Param {
	for i := range ps {
		if ps[i].Name == name {
			return &ps[i]
		}
	}
	return nil
}

// paramList names params for a message: "secret, token" or "none".
func paramList(ps []Param) string {
	if len(ps) == 0 {
		return "none"
	}
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = p.Name
	}
	return strings.Join(names, ", ")
}

func sortedKeys(m map[string]string) []string {
	return slices.Sorted(maps.Keys(m))
}

var (
	templateNameRE = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	paramNameRE    = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	// propertiesRE finds what a script reads: PROPERTIES.name or
	// PROPERTIES["name"].
	propertiesRE = regexp.MustCompile(`PROPERTIES(?:\.([A-Za-z_$][\w$]*)|\[\s*["']([^"']*)["']\s*\])`)
)

// ParseTemplate reads a template's metadata from its leading comment block
// (see Template) and checks it: the tags are known and complete, every name
// is declared once, notes agree with each other, the script compiles, and
// the script reads exactly the secrets and properties it declares. name is
// the template's id, its file name without ".js".
func ParseTemplate(name, src string) (Template, error) {
	return ParseTemplateWithHandshake(name, src, "")
}

// handshakeSuffix ends the file name of a template's handshake script.
const handshakeSuffix = ".handshake.js"

// ParseTemplateWithHandshake is ParseTemplate for a template with a
// handshake script ("" for none), which must compile too; the secrets and
// properties the two read together are those declared.
func ParseTemplateWithHandshake(name, src, handshake string) (Template, error) {
	t := Template{Name: name, Script: src, Handshake: handshake}
	if !templateNameRE.MatchString(name) {
		return t, fmt.Errorf("name %q: use lower-case letters, digits and dashes", name)
	}
	tags, err := headerTags(src)
	if err != nil {
		return t, err
	}
	seen := map[string]int{} // param name -> line
	for _, tg := range tags {
		switch tg.tag {
		case "name", "description":
			field := &t.Title
			if tg.tag == "description" {
				field = &t.Description
			}
			if *field != "" {
				return t, fmt.Errorf("line %d: @%s appears twice", tg.line, tg.tag)
			}
			if tg.text == "" {
				return t, fmt.Errorf("line %d: @%s is empty", tg.line, tg.tag)
			}
			*field = tg.text
		case "secret", "property":
			p, err := parseParam(tg)
			if err != nil {
				return t, err
			}
			if l, dup := seen[p.Name]; dup {
				return t, fmt.Errorf("line %d: %q is already declared on line %d", tg.line, p.Name, l)
			}
			seen[p.Name] = tg.line
			if tg.tag == "secret" {
				t.Secrets = append(t.Secrets, p)
			} else {
				t.Properties = append(t.Properties, p)
			}
		default:
			return t, fmt.Errorf("line %d: unknown tag @%s (use @name, @description, @secret, @property)", tg.line, tg.tag)
		}
	}
	if t.Title == "" {
		return t, fmt.Errorf("no @name line")
	}
	if t.Description == "" {
		return t, fmt.Errorf("no @description line")
	}
	for _, p := range append(slices.Clone(t.Secrets), t.Properties...) {
		c := p.RequiredWhen
		if c == nil {
			continue
		}
		on := t.property(c.Property)
		if on == nil {
			return t, fmt.Errorf("%q is required when %s, but %q is not a property", p.Name, c, c.Property)
		}
		if on.OneOf != nil && !slices.Contains(on.OneOf, c.Value) {
			return t, fmt.Errorf("%q is required when %s, but %q is never %q (one of %s)", p.Name, c, c.Property, c.Value, strings.Join(on.OneOf, ", "))
		}
	}
	if _, err := scripting.Compile("template:"+name, src); err != nil {
		return t, fmt.Errorf("script: %w", err)
	}
	if handshake != "" {
		if _, err := scripting.Compile("template:"+name+":handshake", handshake); err != nil {
			return t, fmt.Errorf("handshake script: %w", err)
		}
	}
	read := map[string]bool{}
	for _, m := range propertiesRE.FindAllStringSubmatch(src+"\n"+handshake, -1) {
		read[m[1]+m[2]] = true
	}
	for _, n := range slices.Sorted(maps.Keys(read)) {
		if _, ok := seen[n]; !ok {
			return t, fmt.Errorf("the script reads PROPERTIES.%s, which is not declared with @secret or @property", n)
		}
	}
	for _, n := range slices.Sorted(maps.Keys(seen)) {
		if !read[n] {
			return t, fmt.Errorf("%q is declared but the script never reads PROPERTIES.%s", n, n)
		}
	}
	return t, nil
}

// tag is one @tag of a template's header, continuation lines joined.
type tag struct {
	line int // 1-based
	tag  string
	text string
}

// headerTags returns the @tags of the leading comment block: the lines
// from the first that start with "//". A line whose text is indented by
// more than one space after "//" continues the tag above it.
func headerTags(src string) ([]tag, error) {
	var tags []tag
	cont := false // the previous line was a tag or its continuation
	for i, line := range strings.Split(src, "\n") {
		line = strings.TrimRight(line, " \t\r")
		rest, ok := strings.CutPrefix(line, "//")
		if !ok {
			break
		}
		switch {
		case strings.HasPrefix(rest, " @"):
			name, text, _ := strings.Cut(rest[2:], " ")
			tags = append(tags, tag{line: i + 1, tag: name, text: strings.TrimSpace(text)})
			cont = true
		case cont && strings.HasPrefix(rest, "  ") && strings.TrimSpace(rest) != "":
			last := &tags[len(tags)-1]
			last.text = strings.TrimSpace(last.text + " " + strings.TrimSpace(rest))
		default:
			if strings.HasPrefix(strings.TrimSpace(rest), "@") {
				return nil, fmt.Errorf("line %d: a tag is written \"// @tag text\", with one space", i+1)
			}
			cont = false
		}
	}
	if len(tags) == 0 {
		return nil, fmt.Errorf("no metadata: the file must start with // @name and // @description lines")
	}
	return tags, nil
}

// parseParam reads "<name>: <description> (note) (note)".
func parseParam(tg tag) (Param, error) {
	name, text, ok := strings.Cut(tg.text, ":")
	if !ok {
		return Param{}, fmt.Errorf("line %d: @%s must be \"<name>: <description>\"", tg.line, tg.tag)
	}
	p := Param{Name: strings.TrimSpace(name)}
	if !paramNameRE.MatchString(p.Name) {
		return p, fmt.Errorf("line %d: @%s name %q: use lower-case letters, digits and _, starting with a letter", tg.line, tg.tag, p.Name)
	}
	text = strings.TrimSpace(text)
	errf := func(format string, args ...any) error {
		return fmt.Errorf("line %d: %s %q: %s", tg.line, tg.tag, p.Name, fmt.Sprintf(format, args...))
	}
	// Notes are read from the end; the first group that is not a note is
	// part of the description ("(Basic Information, App Credentials)").
notes:
	for strings.HasSuffix(text, ")") {
		open := strings.LastIndexByte(text, '(')
		if open < 0 {
			break
		}
		note := text[open+1 : len(text)-1]
		switch {
		case note == "required":
			p.Required = true
		case strings.HasPrefix(note, "required when "):
			prop, value, ok := strings.Cut(strings.TrimPrefix(note, "required when "), " is ")
			if !ok || !paramNameRE.MatchString(prop) || value == "" {
				return p, errf("write the note as (required when <property> is <value>)")
			}
			p.RequiredWhen = &Condition{Property: prop, Value: value}
		case strings.HasPrefix(note, "default "):
			if tg.tag == "secret" {
				return p, errf("a secret has no default")
			}
			p.Default = strings.TrimSpace(strings.TrimPrefix(note, "default "))
		case strings.HasPrefix(note, "one of "):
			if tg.tag == "secret" {
				return p, errf("a secret has no list of values")
			}
			for v := range strings.SplitSeq(strings.TrimPrefix(note, "one of "), ",") {
				if v = strings.TrimSpace(v); v == "" {
					return p, errf("empty value in (one of ...)")
				}
				p.OneOf = append(p.OneOf, v)
			}
		default:
			break notes
		}
		text = strings.TrimSpace(text[:open])
	}
	p.Description = text
	switch {
	case p.Description == "":
		return p, errf("no description")
	case p.Required && p.RequiredWhen != nil:
		return p, errf("both (required) and (required when ...)")
	case p.Required && p.Default != "":
		return p, errf("both (required) and a default: a default makes it never missing")
	case p.Default != "" && p.OneOf != nil && !slices.Contains(p.OneOf, p.Default):
		return p, errf("the default %q is not one of %s", p.Default, strings.Join(p.OneOf, ", "))
	}
	return p, nil
}

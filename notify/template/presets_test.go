package template

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// hostileVars are values that try to break out of their JSON strings.
func hostileVars() []Vars {
	vals := []string{
		`"}]}, "x": {"`, `\`, `\"`, "line\nbreak\r\n\ttab\x00nul", "{{title}} {{data}}", "\u2028\u2029 é 中文 🚀",
		"\xff\xfe invalid utf8", `<@everyone> **bold** _it_ <font color="red">`, "",
	}
	var out []Vars
	for _, s := range vals {
		out = append(out, Vars{
			ID: s, Type: s, Title: s, SubTitle: s, Message: s, Logo: s, Image: s, Sign: s,
			Time: "2024-06-01T12:00:00Z", Timestamp: "1717243200000",
			Data: map[string]any{"s": s, "o": map[string]any{s: s}},
		})
	}
	return out
}

func TestPresets(t *testing.T) {
	t.Parallel()
	ps := Presets()
	var names []string
	for _, p := range ps {
		names = append(names, p.Name)
	}
	if want := []string{"dingtalk", "discord", "feishu", "slack", "teams", "wecom"}; !slices.Equal(names, want) {
		t.Fatalf("preset names = %q, want %q", names, want)
	}
	for _, p := range ps {
		t.Run(p.Name, func(t *testing.T) {
			t.Parallel()
			if p.Title == "" || p.Description == "" {
				t.Error("title or description missing")
			}
			switch p.Verify.Type {
			case "", "status", "contains":
			default:
				t.Errorf("verify type %q", p.Verify.Type)
			}
			if p.Verify.Type != "" && p.Verify.Value == "" {
				t.Error("verify without a value")
			}
			got, ok := PresetByName(p.Name)
			if !ok || got.Name != p.Name || got.Body != p.Body {
				t.Errorf("PresetByName(%q) = %v, %v", p.Name, got.Name, ok)
			}
			tpl, err := Parse(p.Body)
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range []string{"title", "subTitle", "message", "time"} {
				if !slices.Contains(tpl.Names(), n) {
					t.Errorf("body does not use {{%s}}", n)
				}
			}
			for _, v := range hostileVars() {
				b, err := tpl.JSON(v)
				if err != nil {
					t.Fatalf("title %q: %v", v.Title, err)
				}
				var doc map[string]any
				if err := json.Unmarshal(b, &doc); err != nil {
					t.Fatalf("title %q: %s: %v", v.Title, b, err)
				}
				if v.Title != "" && !containsString(doc, string([]rune(v.Title))) {
					t.Errorf("title %q not found in %s", v.Title, b)
				}
				if p.Name == "discord" && len(doc) != 3 || p.Name != "discord" && len(doc) != 2 {
					t.Errorf("top-level keys of %s: %d", b, len(doc))
				}
			}
		})
	}
	if _, ok := PresetByName("nope"); ok {
		t.Error(`PresetByName("nope") found something`)
	}
}

func TestPresetShapes(t *testing.T) {
	t.Parallel()
	v := testVars()
	render := func(name string) map[string]any {
		p, _ := PresetByName(name)
		tpl, err := Parse(p.Body)
		if err != nil {
			t.Fatal(err)
		}
		b, err := tpl.JSON(v)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	get := func(m any, path ...any) any {
		for _, p := range path {
			switch k := p.(type) {
			case string:
				m = m.(map[string]any)[k]
			case int:
				m = m.([]any)[k]
			}
		}
		return m
	}
	slack := render("slack")
	if got := get(slack, "blocks", 0, "text", "text"); got != "*Host \"db-1\" lost*\nprod\nline 1\nline 2\t\\ end" {
		t.Errorf("slack section text = %q", got)
	}
	if get(slack, "blocks", 0, "text", "type") != "mrkdwn" || get(slack, "text") == "" {
		t.Errorf("slack body %v", slack)
	}
	teams := render("teams")
	if get(teams, "type") != "message" || get(teams, "attachments", 0, "contentType") != "application/vnd.microsoft.card.adaptive" ||
		get(teams, "attachments", 0, "content", "type") != "AdaptiveCard" || get(teams, "attachments", 0, "content", "body", 0, "weight") != "Bolder" {
		t.Errorf("teams body %v", teams)
	}
	discord := render("discord")
	if get(discord, "embeds", 0, "timestamp") != v.Time || get(discord, "content") != "**"+v.Title+"**" ||
		len(get(discord, "allowed_mentions", "parse").([]any)) != 0 {
		t.Errorf("discord body %v", discord)
	}
	ding := render("dingtalk")
	if get(ding, "msgtype") != "markdown" || get(ding, "markdown", "title") != v.Title ||
		!strings.HasPrefix(get(ding, "markdown", "text").(string), "**"+v.Title+"**") {
		t.Errorf("dingtalk body %v", ding)
	}
	feishu := render("feishu")
	if get(feishu, "msg_type") != "post" || get(feishu, "content", "post", "zh_cn", "title") != v.Title ||
		get(feishu, "content", "post", "zh_cn", "content", 1, 0, "text") != v.Message {
		t.Errorf("feishu body %v", feishu)
	}
	wecom := render("wecom")
	if get(wecom, "msgtype") != "markdown" || !strings.HasPrefix(get(wecom, "markdown", "content").(string), "**"+v.Title+"**\nprod\n") {
		t.Errorf("wecom body %v", wecom)
	}
}

func TestPresetsAreCopies(t *testing.T) {
	t.Parallel()
	ps := Presets()
	ps[0].Body = "changed"
	if p, _ := PresetByName(ps[0].Name); p.Body == "changed" {
		t.Error("Presets shares its slice")
	}
}

// containsString says whether any string in the decoded JSON doc
// contains s.
func containsString(doc any, s string) bool {
	switch x := doc.(type) {
	case string:
		return strings.Contains(x, s)
	case map[string]any:
		for _, e := range x {
			if containsString(e, s) {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if containsString(e, s) {
				return true
			}
		}
	}
	return false
}

func TestKnownValid(t *testing.T) {
	t.Parallel()
	for _, p := range Presets() {
		if tpl, _ := Parse(p.Body); !tpl.knownValid {
			t.Errorf("preset %s: output not known valid, so JSON checks it on every render", p.Name)
		}
	}
	for _, src := range []string{`{"a": {{data.x}}}`, `{"a": {{timestamp}}}`, `{"a": "\{{title}}"}`, `{{title}} x`, ``} {
		if tpl, _ := Parse(src); tpl.knownValid {
			t.Errorf("%q: known valid", src)
		}
	}
}

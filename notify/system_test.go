package notify

import (
	"strings"
	"testing"

	"github.com/switchyard-dev/switchyard/storage"
)

// TestUnmatchedTexts: message.unmatched says which of its two cases it is,
// in its data and in its texts in every language.
func TestUnmatchedTexts(t *testing.T) {
	base := map[string]any{"uri": "git/push", "remote_addr": "203.0.113.9"}
	cases := []struct {
		name    string
		outcome storage.Outcome
		reason  string
		en, zh  string
	}{
		{"no provider", storage.Outcome{Status: storage.StatusUnmatched}, UnmatchedNoProvider,
			"No provider matched a webhook to git/push", "没有匹配任何提供方"},
		{"no function", storage.Outcome{Status: storage.StatusUnmatched, ProviderID: "p1", ProviderName: "GitHub"}, UnmatchedNoFunction,
			"Provider GitHub matched a webhook to git/push", "匹配了提供方 GitHub"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := unmatchedReason(c.outcome); got != c.reason {
				t.Fatalf("reason = %q, want %q", got, c.reason)
			}
			data := map[string]any{"reason": c.reason, "provider_name": c.outcome.ProviderName}
			for k, v := range base {
				data[k] = v
			}
			ev := systemEvent(MessageUnmatched, data)
			if !strings.Contains(ev.Message, c.en) {
				t.Errorf("en message = %q, want it to contain %q", ev.Message, c.en)
			}
			if zh := localize(ev, "zh"); !strings.Contains(zh.Message, c.zh) {
				t.Errorf("zh message = %q, want it to contain %q", zh.Message, c.zh)
			}
		})
	}
}

// TestExactOnly: message.succeeded matches only its own name; the other
// system events still match wildcards.
func TestExactOnly(t *testing.T) {
	cases := []struct {
		patterns []string
		typ      string
		want     bool
	}{
		{[]string{"message.succeeded"}, MessageSucceeded, true},
		{[]string{"alarm.*", "message.succeeded"}, MessageSucceeded, true},
		{[]string{"*"}, MessageSucceeded, false},
		{[]string{"message.*"}, MessageSucceeded, false},
		{[]string{"*.succeeded"}, MessageSucceeded, false},
		{[]string{"message.succeede*"}, MessageSucceeded, false},
		{[]string{"*"}, MessageFailed, true},
		{[]string{"message.*"}, MessageUnmatched, true},
	}
	for _, c := range cases {
		if got := Subscribed(c.patterns, c.typ); got != c.want {
			t.Errorf("Subscribed(%q, %q) = %v, want %v", c.patterns, c.typ, got, c.want)
		}
	}
}

// TestSucceededTexts: message.succeeded has its title and message in
// every language, with the summary when the message has one.
func TestSucceededTexts(t *testing.T) {
	cases := []struct {
		name             string
		data             map[string]any
		en, zh           string
		enTitle, zhTitle string
	}{
		{"summary", map[string]any{"uri": "ci/build", "provider_name": "CI", "summary": "built 42"},
			"A webhook to ci/build from CI was processed: built 42", "来自 CI 的 Webhook（ci/build）处理成功：built 42", "Webhook processed", "Webhook 处理成功"},
		{"no summary, no provider", map[string]any{"uri": "ci/build"},
			"A webhook to ci/build from an unknown sender was processed.", "来自 未知来源 的 Webhook（ci/build）处理成功。", "Webhook processed", "Webhook 处理成功"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ev := systemEvent(MessageSucceeded, c.data)
			if ev.Title != c.enTitle || ev.Message != c.en {
				t.Errorf("en = %q / %q, want %q / %q", ev.Title, ev.Message, c.enTitle, c.en)
			}
			zh := localize(ev, "zh")
			if zh.Title != c.zhTitle || zh.Message != c.zh {
				t.Errorf("zh = %q / %q, want %q / %q", zh.Title, zh.Message, c.zhTitle, c.zh)
			}
		})
	}
	for typ, langs := range systemTexts {
		for _, lang := range []string{"en", "zh"} {
			if langs[lang] == nil {
				t.Errorf("system event %s has no %s texts", typ, lang)
			}
		}
	}
}

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

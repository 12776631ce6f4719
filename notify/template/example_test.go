package template_test

import (
	"fmt"

	"github.com/switchyard-dev/switchyard/notify/template"
)

func ExampleTemplate_JSON() {
	t, err := template.Parse(`{"text": "*{{title}}*: {{ message }}", "commit": {{data.commits.0}}, "ts": {{timestamp}}}`)
	if err != nil {
		panic(err)
	}
	body, err := t.JSON(template.Vars{
		Title:     `Deploy "api"`,
		Message:   "done\nin 42s",
		Timestamp: "1717243200000",
		Data:      map[string]any{"commits": []any{map[string]any{"id": "c0ffee"}}},
	})
	fmt.Println(string(body), err)
	fmt.Println(t.Names())
	// Output:
	// {"text": "*Deploy \"api\"*: done\nin 42s", "commit": {"id":"c0ffee"}, "ts": 1717243200000} <nil>
	// [title message data.commits.0 timestamp]
}

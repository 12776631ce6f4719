package template

import (
	"maps"
	"slices"
	"strings"

	"github.com/switchyard-dev/switchyard/storage"
)

// Preset is a ready-made endpoint for a chat tool's incoming webhook:
// what an endpoint created from it starts with (notify.EndpointChange's
// Preset).
type Preset struct {
	Name        string            `json:"name"`
	Title       string            `json:"title"`
	Description string            `json:"description"`
	Body        string            `json:"body_template"`
	Verify      storage.Verify    `json:"verify"`
	Headers     map[string]string `json:"headers,omitempty"`
}

// presets are kept sorted by name. Each body shows the title in bold, the
// sub title, the message and the time. Templates have no conditionals, so
// an empty sub title leaves an empty line (never empty markup such as
// "__", which chat tools would show literally).
var presets = []Preset{
	{
		Name:  "dingtalk",
		Title: "DingTalk (custom robot)",
		Description: "Add a custom robot to a DingTalk group and use its Webhook URL (https://oapi.dingtalk.com/robot/send?access_token=...). " +
			`With the "signature" security setting, append &timestamp={{timestamp}}&sign={{sign}} to the URL and set the robot's secret as the signing secret. DingTalk answers 200 with {"errcode":0,"errmsg":"ok"}.`,
		Body: `{
  "msgtype": "markdown",
  "markdown": {
    "title": "{{title}}",
    "text": "**{{title}}**\n\n{{subTitle}}\n\n{{message}}\n\n> {{time}}"
  }
}`,
		Verify: storage.Verify{Type: "contains", Value: `"errcode":0`},
	},
	{
		Name:  "discord",
		Title: "Discord (channel webhook)",
		Description: "In a Discord channel's settings, Integrations → Webhooks → New Webhook, then Copy Webhook URL (https://discord.com/api/webhooks/...). " +
			"Discord answers 204 No Content; mentions in event text are not pinged.",
		Body: `{
  "content": "**{{title}}**",
  "embeds": [
    {
      "title": "{{title}}",
      "description": "{{subTitle}}\n{{message}}",
      "timestamp": "{{time}}"
    }
  ],
  "allowed_mentions": {"parse": []}
}`,
	},
	{
		Name:  "feishu",
		Title: "Feishu / Lark (custom bot)",
		Description: "Add a custom bot to a Feishu or Lark group and use its webhook address (https://open.feishu.cn/open-apis/bot/v2/hook/... or open.larksuite.com). " +
			`Use keyword or IP security: its signature check wants a timestamp in seconds. Feishu answers 200 with {"code":0,...}.`,
		Body: `{
  "msg_type": "post",
  "content": {
    "post": {
      "zh_cn": {
        "title": "{{title}}",
        "content": [
          [{"tag": "text", "text": "{{subTitle}}"}],
          [{"tag": "text", "text": "{{message}}"}],
          [{"tag": "text", "text": "{{time}}"}]
        ]
      }
    }
  }
}`,
		Verify: storage.Verify{Type: "contains", Value: `"code":0`},
	},
	{
		Name:  "slack",
		Title: "Slack (incoming webhook)",
		Description: "Create a Slack app with Incoming Webhooks turned on, add a webhook to a channel and use its URL (https://hooks.slack.com/services/...). " +
			`Slack answers 200 with the text "ok"; a section's text is limited to 3000 characters.`,
		Body: `{
  "text": "*{{title}}*\n{{message}}",
  "blocks": [
    {
      "type": "section",
      "text": {"type": "mrkdwn", "text": "*{{title}}*\n{{subTitle}}\n{{message}}"}
    },
    {
      "type": "context",
      "elements": [{"type": "mrkdwn", "text": "{{type}} · {{time}}"}]
    }
  ]
}`,
		Verify: storage.Verify{Type: "status", Value: "200"},
	},
	{
		Name:  "teams",
		Title: "Microsoft Teams (Workflows)",
		Description: `In Teams, add the Workflows template "Post to a channel when a webhook request is received" and use the HTTP POST URL it gives. ` +
			"The flow answers 202 Accepted and posts the Adaptive Card.",
		Body: `{
  "type": "message",
  "attachments": [
    {
      "contentType": "application/vnd.microsoft.card.adaptive",
      "contentUrl": null,
      "content": {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": [
          {"type": "TextBlock", "text": "{{title}}", "weight": "Bolder", "size": "Medium", "wrap": true},
          {"type": "TextBlock", "text": "{{subTitle}}", "isSubtle": true, "spacing": "None", "wrap": true},
          {"type": "TextBlock", "text": "{{message}}", "wrap": true},
          {"type": "TextBlock", "text": "{{time}}", "isSubtle": true, "size": "Small", "wrap": true}
        ]
      }
    }
  ]
}`,
	},
	{
		Name:  "wecom",
		Title: "WeCom (group robot)",
		Description: "Add a group robot to a WeCom (WeChat Work) group chat and use its Webhook address (https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=...). " +
			`WeCom answers 200 with {"errcode":0,"errmsg":"ok"}; markdown content is limited to 4096 bytes.`,
		Body: `{
  "msgtype": "markdown",
  "markdown": {
    "content": "**{{title}}**\n{{subTitle}}\n{{message}}\n<font color=\"comment\">{{time}}</font>"
  }
}`,
		Verify: storage.Verify{Type: "contains", Value: `"errcode":0`},
	},
}

// Presets lists the presets, sorted by name. The caller may change the
// result.
func Presets() []Preset {
	out := make([]Preset, len(presets))
	for i, p := range presets {
		out[i] = clonePreset(p)
	}
	return out
}

// PresetByName finds a preset by name ("slack", "teams", ...).
func PresetByName(name string) (Preset, bool) {
	i, ok := slices.BinarySearchFunc(presets, name, func(p Preset, n string) int { return strings.Compare(p.Name, n) })
	if !ok {
		return Preset{}, false
	}
	return clonePreset(presets[i]), true
}

func clonePreset(p Preset) Preset {
	p.Headers = maps.Clone(p.Headers)
	return p
}

package notify

import (
	"context"
	"fmt"

	"github.com/switchyard-dev/switchyard/storage"
)

// Event types Switchyard publishes itself.
const (
	MessageFailed    = "message.failed"
	MessageUnmatched = "message.unmatched"
	// MessageSucceeded is published when a message's functions all ran
	// to SUCCESS, only to endpoints that name it (ExactOnly).
	MessageSucceeded = "message.succeeded"
	EndpointDisabled = "endpoint.disabled"
	// TestType is the event of POST /endpoints/{id}/test.
	TestType = "switchyard.test"
	// ValidateType is the event validate_on_create sends.
	ValidateType = "VALIDATE"
	// CallbackType is the event type of a NOTIFY.webhook callback.
	CallbackType = "callback"
	validateText = "This is a validate message."
)

// The reasons a message.unmatched event gives in its data's "reason":
// no provider's match script matched, or one did but none of its active
// functions has the message's URI.
const (
	UnmatchedNoProvider = "no_provider"
	UnmatchedNoFunction = "no_function"
)

// ExactOnly reports whether eventType reaches only the endpoints that
// name it exactly, not those whose wildcards ("*", "message.*") match it:
// message.succeeded, one event per successful webhook, which the many
// endpoints subscribed to "*" for failures did not ask for.
func ExactOnly(eventType string) bool {
	return eventType == MessageSucceeded
}

// texts are the system-generated title and message of a system event in
// one language. data holds the event's data.
type texts func(data map[string]any) (title, message string)

// systemTexts: for each system event type and language, its texts.
var systemTexts = map[string]map[string]texts{
	MessageFailed: {
		"en": func(d map[string]any) (string, string) {
			return "Webhook failed", fmt.Sprintf("A webhook to %s from %s failed: %s", str(d, "uri"), orUnknown(str(d, "provider_name"), "an unknown sender"), str(d, "error"))
		},
		"zh": func(d map[string]any) (string, string) {
			return "Webhook 处理失败", fmt.Sprintf("来自 %s 的 Webhook（%s）处理失败：%s", orUnknown(str(d, "provider_name"), "未知来源"), str(d, "uri"), str(d, "error"))
		},
	},
	MessageSucceeded: {
		"en": func(d map[string]any) (string, string) {
			msg := fmt.Sprintf("A webhook to %s from %s was processed", str(d, "uri"), orUnknown(str(d, "provider_name"), "an unknown sender"))
			if sum := str(d, "summary"); sum != "" {
				return "Webhook processed", msg + ": " + sum
			}
			return "Webhook processed", msg + "."
		},
		"zh": func(d map[string]any) (string, string) {
			msg := fmt.Sprintf("来自 %s 的 Webhook（%s）处理成功", orUnknown(str(d, "provider_name"), "未知来源"), str(d, "uri"))
			if sum := str(d, "summary"); sum != "" {
				return "Webhook 处理成功", msg + "：" + sum
			}
			return "Webhook 处理成功", msg + "。"
		},
	},
	MessageUnmatched: {
		"en": func(d map[string]any) (string, string) {
			if str(d, "reason") == UnmatchedNoFunction {
				return "Webhook not routed", fmt.Sprintf("Provider %s matched a webhook to %s from %s, but none of its active functions has that URI.", str(d, "provider_name"), str(d, "uri"), str(d, "remote_addr"))
			}
			return "Webhook not recognised", fmt.Sprintf("No provider matched a webhook to %s from %s.", str(d, "uri"), str(d, "remote_addr"))
		},
		"zh": func(d map[string]any) (string, string) {
			if str(d, "reason") == UnmatchedNoFunction {
				return "Webhook 未路由", fmt.Sprintf("来自 %s 的 Webhook（%s）匹配了提供方 %s，但它没有该 URI 的启用函数。", str(d, "remote_addr"), str(d, "uri"), str(d, "provider_name"))
			}
			return "Webhook 未匹配", fmt.Sprintf("来自 %s 的 Webhook（%s）没有匹配任何提供方。", str(d, "remote_addr"), str(d, "uri"))
		},
	},
	EndpointDisabled: {
		"en": func(d map[string]any) (string, string) {
			return "Endpoint disabled", fmt.Sprintf("Outbound endpoint %q was disabled: %s", str(d, "endpoint_name"), str(d, "reason"))
		},
		"zh": func(d map[string]any) (string, string) {
			return "推送地址已停用", fmt.Sprintf("推送地址“%s”已停用：%s", str(d, "endpoint_name"), str(d, "reason"))
		},
	},
	TestType: {
		"en": func(map[string]any) (string, string) {
			return "Test event", "This is a test event from Switchyard."
		},
		"zh": func(map[string]any) (string, string) {
			return "测试事件", "这是一条来自 Switchyard 的测试消息。"
		},
	},
}

// systemEvent builds a system event with its English texts.
func systemEvent(eventType string, data map[string]any) storage.Event {
	ev := storage.Event{Type: eventType, Data: data, Source: "system"}
	ev.Title, ev.Message = systemTexts[eventType]["en"](data)
	return ev
}

// localize gives a system event its texts in lang; other events are
// returned as they are.
func localize(ev storage.Event, lang string) storage.Event {
	if ev.Source != "system" || lang == "en" {
		return ev
	}
	if f, ok := systemTexts[ev.Type][lang]; ok {
		ev.Title, ev.Message = f(ev.Data)
	}
	return ev
}

func str(d map[string]any, k string) string {
	if v, ok := d[k]; ok && v != nil {
		return fmt.Sprint(v)
	}
	return ""
}

func orUnknown(s, unknown string) string {
	if s == "" {
		return unknown
	}
	return s
}

// Finished publishes message.failed, message.unmatched or
// message.succeeded for a message that ended so (it implements
// functions.Reporter; a function that timed out is FAILED like one that
// threw). A SUCCESS answered by a handshake script ran no function and
// publishes nothing. Nothing is built or written unless an endpoint
// subscribes; for a SUCCESS, the check is one atomic load.
func (e *Engine) Finished(ctx context.Context, m storage.Message, o storage.Outcome) {
	var typ string
	switch o.Status {
	case storage.StatusFailed:
		typ = MessageFailed
	case storage.StatusUnmatched:
		typ = MessageUnmatched
	case storage.StatusSuccess:
		if len(o.Executions) == 0 {
			return
		}
		typ = MessageSucceeded
	default:
		return
	}
	if !e.wanted(typ) {
		return
	}
	data := map[string]any{
		"message_id": m.ID, "uri": m.URI, "method": m.Method, "remote_addr": m.RemoteAddr,
		"status": o.Status, "provider_id": o.ProviderID, "provider_name": o.ProviderName,
	}
	if o.Summary != "" {
		data["summary"] = o.Summary
	}
	switch typ {
	case MessageUnmatched:
		data["reason"] = unmatchedReason(o)
	case MessageSucceeded:
		fns := make([]map[string]any, len(o.Executions))
		for i, x := range o.Executions {
			fns[i] = map[string]any{"function_id": x.FunctionID, "function_name": x.FunctionName, "duration_ms": x.DurationMS}
		}
		data["functions"] = fns
		data["duration_ms"] = o.DurationMS
	}
	var failed []map[string]any
	for _, x := range o.Executions {
		if x.Status == storage.StatusFailed {
			failed = append(failed, map[string]any{"function_id": x.FunctionID, "function_name": x.FunctionName, "error": x.Error})
			if _, ok := data["error"]; !ok {
				data["error"] = x.FunctionName + ": " + x.Error
			}
		}
	}
	if failed != nil {
		data["failed_functions"] = failed
	}
	if _, ok := data["error"]; !ok && typ == MessageFailed {
		data["error"] = lastError(o.Logs)
	}
	if _, _, err := e.Publish(ctx, systemEvent(typ, data)); err != nil {
		e.log.Error("publishing a system event", "type", typ, "message_id", m.ID, "err", err)
	}
}

// unmatchedReason says why an UNMATCHED message was: the dispatcher
// records the provider that matched (functions.evaluate) even when no
// function of it has the URI.
func unmatchedReason(o storage.Outcome) string {
	if o.ProviderID != "" {
		return UnmatchedNoFunction
	}
	return UnmatchedNoProvider
}

// lastError is the text of the last error line of a message's own log.
func lastError(logs []storage.LogLine) string {
	for i := len(logs) - 1; i >= 0; i-- {
		if logs[i].Level == storage.LevelSevere {
			return logs[i].Text
		}
	}
	return "see the message's log"
}

// wanted reports whether some enabled endpoint subscribes to eventType.
func (e *Engine) wanted(eventType string) bool {
	if eventType == MessageSucceeded {
		return e.endpoints.succeeded.Load()
	}
	for _, t := range e.endpoints.all() {
		if t.ep.Enabled && Subscribed(t.ep.EventTypes, eventType) {
			return true
		}
	}
	return false
}

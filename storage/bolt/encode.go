package bolt

import (
	"strconv"
	"time"

	"github.com/switchyard-dev/switchyard/internal/jsonesc"
	"github.com/switchyard-dev/switchyard/storage"
)

// Outcomes and execution details are written for every message, and
// encoding/json's reflection was most of what recording one cost (5 % of
// all CPU in bench/ingest.sh). These fixed shapes are encoded by hand,
// from the storage types but under the disk names of records.go, after
// the format-version byte (newRecord); encoding/json decodes them into the
// disk types (encode_test.go checks that it reads back exactly what went
// in, and the same as json.Marshal of the disk type would give).

func (o *outcomeRecord) appendJSON(b []byte) []byte {
	b = append(b, `{"status":`...)
	b = appendString(b, o.Status)
	if o.ProviderID != "" {
		b = append(b, `,"provider_id":`...)
		b = appendString(b, o.ProviderID)
	}
	if o.ProviderName != "" {
		b = append(b, `,"provider_name":`...)
		b = appendString(b, o.ProviderName)
	}
	if o.ProviderVersion != 0 {
		b = append(b, `,"provider_version":`...)
		b = strconv.AppendInt(b, int64(o.ProviderVersion), 10)
	}
	if o.Summary != "" {
		b = append(b, `,"message":`...)
		b = appendString(b, o.Summary)
	}
	b = append(b, `,"completed_at":`...)
	b = appendTime(b, o.CompletedAt)
	b = append(b, `,"duration_ms":`...)
	b = strconv.AppendFloat(b, o.DurationMS, 'g', -1, 64)
	return append(b, '}')
}

// appendDetailJSON encodes a detailRecord of these logs and executions.
func appendDetailJSON(b []byte, logs []storage.LogLine, execs []storage.Execution) []byte {
	b = append(b, '{')
	if len(logs) > 0 {
		b = append(b, `"logs":`...)
		b = appendLogs(b, logs)
	}
	if len(execs) > 0 {
		if len(logs) > 0 {
			b = append(b, ',')
		}
		b = append(b, `"executions":[`...)
		for i := range execs {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendExecution(b, &execs[i])
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

func appendExecution(b []byte, e *storage.Execution) []byte {
	b = append(b, `{"function_id":`...)
	b = appendString(b, e.FunctionID)
	b = append(b, `,"function_name":`...)
	b = appendString(b, e.FunctionName)
	b = append(b, `,"version":`...)
	b = strconv.AppendInt(b, int64(e.Version), 10)
	b = append(b, `,"status":`...)
	b = appendString(b, e.Status)
	if e.Error != "" {
		b = append(b, `,"error":`...)
		b = appendString(b, e.Error)
	}
	b = append(b, `,"started_at":`...)
	b = appendTime(b, e.StartedAt)
	b = append(b, `,"duration_ms":`...)
	b = strconv.AppendFloat(b, e.DurationMS, 'g', -1, 64)
	b = append(b, `,"logs":`...)
	return append(appendLogs(b, e.Logs), '}')
}

func appendLogs(b []byte, logs []storage.LogLine) []byte {
	if logs == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i := range logs {
		l := &logs[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"time":`...)
		b = appendTime(b, l.Time)
		b = append(b, `,"level":`...)
		b = appendString(b, l.Level)
		b = append(b, `,"text":`...)
		b = appendString(b, l.Text)
		if l.Source != "" {
			b = append(b, `,"source":`...)
			b = appendString(b, l.Source)
		}
		b = append(b, '}')
	}
	return append(b, ']')
}

func appendTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

// appendString appends s as a JSON string, as encoding/json does: invalid
// UTF-8 becomes U+FFFD, control characters and <, >, & are escaped, and so
// are U+2028 and U+2029.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	b = jsonesc.Append(b, s, true)
	return append(b, '"')
}

// appendMessageJSON encodes a message's record (a diskMessage) as
// AppendMessage stores it: the request's metadata. Outcome fields are not
// part of it (they live in the outcomes bucket), so they are left out.
func appendMessageJSON(b []byte, m *storage.Message) []byte {
	b = append(b, `{"id":`...)
	b = appendString(b, m.ID)
	b = append(b, `,"received_at":`...)
	b = appendTime(b, m.ReceivedAt)
	b = append(b, `,"method":`...)
	b = appendString(b, m.Method)
	b = append(b, `,"uri":`...)
	b = appendString(b, m.URI)
	if len(m.Headers) > 0 {
		b = append(b, `,"headers":{`...)
		first := true
		for k, v := range m.Headers {
			if !first {
				b = append(b, ',')
			}
			first = false
			b = append(appendString(b, k), ':')
			b = appendString(b, v)
		}
		b = append(b, '}')
	}
	if len(m.Query) > 0 {
		b = append(b, `,"query":{`...)
		first := true
		for k, vs := range m.Query {
			if !first {
				b = append(b, ',')
			}
			first = false
			b = append(appendString(b, k), ':')
			if vs == nil {
				b = append(b, "null"...)
				continue
			}
			b = append(b, '[')
			for i, v := range vs {
				if i > 0 {
					b = append(b, ',')
				}
				b = appendString(b, v)
			}
			b = append(b, ']')
		}
		b = append(b, '}')
	}
	b = append(b, `,"remote_addr":`...)
	b = appendString(b, m.RemoteAddr)
	b = append(b, `,"remote_host":`...)
	b = appendString(b, m.RemoteHost)
	if m.ContentType != "" {
		b = append(b, `,"content_type":`...)
		b = appendString(b, m.ContentType)
	}
	b = append(b, `,"size":`...)
	b = strconv.AppendInt(b, int64(m.Size), 10)
	b = append(b, `,"status":`...)
	b = appendString(b, m.Status)
	if m.ResubmitOf != "" {
		b = append(b, `,"resubmit_of":`...)
		b = appendString(b, m.ResubmitOf)
	}
	return append(b, '}')
}

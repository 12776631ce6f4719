package bolt

import (
	"bytes"
	"fmt"
	"strings"

	bolt "go.etcd.io/bbolt"

	"github.com/switchyard-dev/switchyard/internal/redact"
	"github.com/switchyard-dev/switchyard/storage"
)

// search is one list page's check of the filters that need more than a
// message's metadata (FunctionID, Text): it reads the message's details
// and, for a deep Text, its payload, counting the payload bytes it read.
type search struct {
	f       *storage.MessageFilter
	details *bolt.Bucket
	bodies  *bolt.Bucket
	bytes   int // payload bytes searched
}

// full reports whether the page has read, after scanned messages, what
// storage.SearchScan and storage.SearchBytes allow.
func (s *search) full(scanned int) bool {
	return scanned >= storage.SearchScan || s.bytes >= storage.SearchBytes
}

// matches reports whether the message m at k passes FunctionID and Text.
func (s *search) matches(k []byte, m *storage.Message) (bool, error) {
	det, err := s.detail(k)
	if err != nil {
		return false, err
	}
	if s.f.FunctionID != "" && !ranFunction(det, s.f.FunctionID) {
		return false, nil
	}
	if s.f.Text == "" {
		return true, nil
	}
	q := s.f.Text
	if strings.Contains(m.Summary, q) || strings.Contains(m.URI, q) {
		return true, nil
	}
	if !s.f.Deep {
		return false, nil
	}
	if headersHold(m.Headers, q) || detailHolds(det, q) {
		return true, nil
	}
	return s.payloadHolds(k, q)
}

// detail decodes the message's logs and executions, if any.
func (s *search) detail(k []byte) (*detailRecord, error) {
	var det detailRecord
	raw := s.details.Get(k)
	if raw == nil {
		return &det, nil
	}
	// Most messages do not name the function: skip decoding those.
	if s.f.Text == "" && !bytes.Contains(raw, []byte(s.f.FunctionID)) {
		return &det, nil
	}
	if err := decodeRecord(raw, &det); err != nil {
		return nil, fmt.Errorf("message %s details: %w", idOf(k), err)
	}
	return &det, nil
}

func ranFunction(det *detailRecord, id string) bool {
	for i := range det.Executions {
		if det.Executions[i].FunctionID == id {
			return true
		}
	}
	return false
}

// headersHold: a header's name holds q, or its value does unless it is a
// credential (searching those would let a caller guess them).
func headersHold(h map[string]string, q string) bool {
	for name, v := range h {
		if strings.Contains(name, q) || (!redact.CredentialHeader(name) && strings.Contains(v, q)) {
			return true
		}
	}
	return false
}

// detailHolds: a log line of the message or of an execution, or an
// execution's error, holds q.
func detailHolds(det *detailRecord, q string) bool {
	if linesHold(det.Logs, q) {
		return true
	}
	for i := range det.Executions {
		if strings.Contains(det.Executions[i].Error, q) || linesHold(det.Executions[i].Logs, q) {
			return true
		}
	}
	return false
}

func linesHold(lines []diskLogLine, q string) bool {
	for i := range lines {
		if strings.Contains(lines[i].Text, q) {
			return true
		}
	}
	return false
}

// payloadHolds searches the message's body, counting its bytes.
func (s *search) payloadHolds(k []byte, q string) (bool, error) {
	raw := s.bodies.Get(k)
	if raw == nil {
		return false, nil
	}
	body, err := decodePayload(raw)
	if err != nil {
		return false, fmt.Errorf("message %s payload: %w", idOf(k), err)
	}
	s.bytes += len(body)
	return bytes.Contains(body, []byte(q)), nil
}

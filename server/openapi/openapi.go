// Package openapi holds the admin API's OpenAPI 3.1 document. It is
// written by hand in YAML (openapi.yaml, beside this file), which is easier
// to read and review than JSON, and served as JSON at
// GET /api/v1/openapi.json. server/openapi_test.go checks it against the
// official OpenAPI 3.1 schema and against the server's own routes and
// answers.
package openapi

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"sync"

	"go.yaml.in/yaml/v3"
)

//go:embed openapi.yaml
var source []byte

// JSON returns the document as JSON. It is converted once; an error means
// the embedded YAML is broken, which the tests catch before a release.
func JSON() ([]byte, error) { return converted() }

var converted = sync.OnceValues(func() ([]byte, error) { return toJSON(source) })

// toJSON converts a YAML document (anchors and aliases resolved) to JSON.
func toJSON(src []byte) ([]byte, error) {
	var doc any
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, fmt.Errorf("openapi.yaml: %w", err)
	}
	doc, err := jsonValue(doc)
	if err != nil {
		return nil, fmt.Errorf("openapi.yaml: %w", err)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("openapi.yaml: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// jsonValue makes what the YAML decoder gives JSON's: every mapping key
// must be a string (write `'200':`, not `200:`).
func jsonValue(v any) (any, error) {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			c, err := jsonValue(e)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			v[k] = c
		}
		return v, nil
	case map[any]any:
		return nil, fmt.Errorf("a mapping has a key that is not a string; quote it")
	case []any:
		for i, e := range v {
			c, err := jsonValue(e)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			v[i] = c
		}
		return v, nil
	case string, bool, int, int64, uint64, float64, nil:
		return v, nil
	default:
		return nil, fmt.Errorf("%v (%T) has no JSON form; quote it", v, v)
	}
}

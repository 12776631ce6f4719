// Package client calls Switchyard's admin API (/api/v1) over HTTP: the
// CLI's commands and config as code (export, apply) go through it, so
// they are held by the same rules, permissions and audit as the UI.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// TokenEnv is the environment variable the CLI reads the API token from
// when --token is not given.
const TokenEnv = "SWITCHYARD_TOKEN"

// maxAnswer bounds what the client reads of one answer; the API's
// largest (a message with its payload) stays well below it.
const maxAnswer = 64 << 20

// Client is one server and one bearer token. Its methods are safe for
// concurrent use.
type Client struct {
	base  *url.URL
	token string
	http  *http.Client
}

// New returns a client of the server at base ("http://localhost:8080";
// a path below it, as behind a reverse proxy, is kept).
func New(base, token string) (*Client, error) {
	if base == "" {
		return nil, errors.New("no server: give --server (for example --server http://localhost:8080)")
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("server %q is not an http:// or https:// URL", base)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	return &Client{base: u, token: token, http: &http.Client{Timeout: 60 * time.Second}}, nil
}

// Error is an answer of 400 or above: the status and the server's
// {"error": ...} message.
type Error struct {
	Status  int
	Method  string
	Path    string
	Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s %s: %d %s: %s", e.Method, e.Path, e.Status, http.StatusText(e.Status), e.Message)
}

// IsStatus reports whether err is an API answer with this status.
func IsStatus(err error, status int) bool {
	var e *Error
	return errors.As(err, &e) && e.Status == status
}

// Get decodes the JSON answer of GET path (below /api/v1) into out.
func (c *Client) Get(ctx context.Context, path string, query url.Values, out any) error {
	return c.Do(ctx, http.MethodGet, path, query, nil, out)
}

// Post sends in as JSON and decodes the answer into out (nil: ignored).
func (c *Client) Post(ctx context.Context, path string, in, out any) error {
	return c.Do(ctx, http.MethodPost, path, nil, in, out)
}

// Put sends in as JSON and decodes the answer into out (nil: ignored).
func (c *Client) Put(ctx context.Context, path string, in, out any) error {
	return c.Do(ctx, http.MethodPut, path, nil, in, out)
}

// Delete calls DELETE path.
func (c *Client) Delete(ctx context.Context, path string) error {
	return c.Do(ctx, http.MethodDelete, path, nil, nil, nil)
}

// Do calls method path (below /api/v1, as "/providers") with query, in
// as a JSON body when it is not nil, and decodes a JSON answer into out
// when out is not nil. An answer of 400 or above is an *Error. The path
// is sent as given, so a name in it must be escaped once by the caller
// (url.PathEscape).
func (c *Client) Do(ctx context.Context, method, path string, query url.Values, in, out any) error {
	plain, err := url.PathUnescape(path)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	u := *c.base
	u.RawPath = u.EscapedPath() + "/api/v1" + path
	u.Path += "/api/v1" + plain
	u.RawQuery = query.Encode()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("%s %s: %w", method, path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, maxAnswer))
	if err != nil {
		return fmt.Errorf("%s %s: reading the answer: %w", method, path, err)
	}
	if res.StatusCode >= 400 {
		e := &Error{Status: res.StatusCode, Method: method, Path: path}
		var eb struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(data, &eb) == nil && eb.Error != "" {
			e.Message = eb.Error
		} else {
			e.Message = strings.TrimSpace(string(data))
		}
		return e
	}
	if out == nil || len(data) == 0 {
		return nil
	}
	if raw, ok := out.(*json.RawMessage); ok {
		*raw = append((*raw)[:0], data...)
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s %s: the answer is not the JSON expected: %w", method, path, err)
	}
	return nil
}

package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/switchyard-dev/switchyard/server"
)

// health probes a running server.
func health(ctx context.Context, args []string, cio cmdIO) int {
	c := newCommand("health", "", `Ask a running Switchyard whether it is ready: exit 0 when URL answers
200, 1 otherwise. Made for container health checks, where there may be no
shell and no curl. The default URL is /readyz on the address in
SWITCHYARD_LISTEN (127.0.0.1 when it listens on every address), else on
`+server.DefaultListen+`.`,
		[]string{"switchyard health", "switchyard health --url http://127.0.0.1:8080/healthz"}, cio)
	target := c.fs.String("url", "", "the URL to ask (default: /readyz on SWITCHYARD_LISTEN's address)")
	timeout := c.fs.Duration("timeout", 5*time.Second, "how long to wait for the answer")
	rest, code, ok := c.parse(args)
	if !ok {
		return code
	}
	if len(rest) > 0 {
		return c.usageError("unexpected argument %q", rest[0])
	}
	getenv, stdout, stderr := cio.getenv, cio.stdout, cio.stderr
	if *target == "" {
		u, err := readyURL(getenv("SWITCHYARD_LISTEN"))
		if err != nil {
			fmt.Fprintf(stderr, "switchyard health: %v\n", err)
			return 2
		}
		*target = u
	}
	if u, err := url.Parse(*target); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		fmt.Fprintf(stderr, "switchyard health: --url must be an http(s) URL, not %q\n", *target)
		return 2
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *target, nil)
	if err != nil {
		fmt.Fprintf(stderr, "switchyard health: %v\n", err)
		return 2
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintf(stderr, "switchyard health: %v\n", err)
		return 1
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(stderr, "switchyard health: %s answered %d %s\n", *target, resp.StatusCode, bytes.TrimSpace(body))
		return 1
	}
	fmt.Fprintf(stdout, "%s\n", bytes.TrimSpace(body))
	return 0
}

// readyURL is /readyz on the address the server listens on: listen as
// --listen takes it, empty for the default; an unspecified host (every
// address) is asked on loopback.
func readyURL(listen string) (string, error) {
	if listen == "" {
		listen = server.DefaultListen
	}
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "", fmt.Errorf("SWITCHYARD_LISTEN %q is not host:port: %w", listen, err)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/readyz", nil
}

package server

import (
	"net"
	"testing"
)

func TestUIURL(t *testing.T) {
	t.Parallel()
	for addr, want := range map[string]string{
		"127.0.0.1:8080": "http://127.0.0.1:8080/ui/",
		"0.0.0.0:9000":   "http://localhost:9000/ui/",
		"[::]:9000":      "http://localhost:9000/ui/",
		"[::1]:43000":    "http://[::1]:43000/ui/",
		"10.0.0.5:80":    "http://10.0.0.5:80/ui/",
	} {
		a, err := net.ResolveTCPAddr("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		if got := uiURL(a); got != want {
			t.Errorf("%s: %s, want %s", addr, got, want)
		}
	}
}

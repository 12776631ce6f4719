package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The crash test re-runs this test binary as a real Switchyard process
// (TestMain below turns it into `switchyard serve`), kills it with SIGKILL
// under load, and checks that every acknowledged message survived.

const childEnv = "SWITCHYARD_TEST_CHILD_ARGS"

func TestMain(m *testing.M) {
	if args := os.Getenv(childEnv); args != "" {
		var argv []string
		if err := json.Unmarshal([]byte(args), &argv); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		os.Exit(run(context.Background(), argv, os.Getenv, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

const crashToken = "crash-test-token"

type child struct {
	cmd  *exec.Cmd
	url  string
	logs *bytes.Buffer
	mu   *sync.Mutex
}

// startChild runs `switchyard serve` on dataDir and waits until it listens.
func startChild(t *testing.T, dataDir string) *child {
	t.Helper()
	return startServe(t, nil, "--data", dataDir)
}

// startServe runs `switchyard serve` on a free loopback port with args,
// and env added to this process's environment, and waits until it
// listens. The admin token is crashToken.
func startServe(t *testing.T, env []string, args ...string) *child {
	t.Helper()
	argv, _ := json.Marshal(append([]string{"serve", "--listen", "127.0.0.1:0"}, args...))
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+string(argv), "SWITCHYARD_ADMIN_TOKEN="+crashToken)
	cmd.Env = append(cmd.Env, env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, logs: &bytes.Buffer{}, mu: &sync.Mutex{}}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addr := make(chan string, 1)
	re := regexp.MustCompile(`msg="switchyard listening" addr=(\S+)`)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			c.mu.Lock()
			c.logs.WriteString(line + "\n")
			c.mu.Unlock()
			if m := re.FindStringSubmatch(line); m != nil {
				addr <- m[1]
			}
		}
		close(addr)
	}()
	select {
	case a, ok := <-addr:
		if !ok {
			t.Fatalf("child exited before listening:\n%s", c.log())
		}
		c.url = "http://" + a
	case <-time.After(30 * time.Second):
		t.Fatalf("child did not listen within 30s:\n%s", c.log())
	}
	return c
}

func (c *child) log() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.logs.String()
}

func (c *child) api(t *testing.T, method, path, body string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, c.url+"/api/v1"+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+crashToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// route creates a provider that matches everything and one function on
// uri, and returns the function's id.
func (c *child) route(t *testing.T, uri, script string) string {
	t.Helper()
	code, body := c.api(t, "POST", "/providers", `{"name": "any", "match_script": "return true"}`)
	if code != 201 {
		t.Fatalf("create provider: %d %s", code, body)
	}
	var p struct{ ID string }
	json.Unmarshal(body, &p)
	fn, _ := json.Marshal(map[string]string{"name": "f", "provider_id": p.ID, "uri": uri, "script": script})
	if code, body = c.api(t, "POST", "/functions", string(fn)); code != 201 {
		t.Fatalf("create function: %d %s", code, body)
	}
	var f struct{ ID string }
	json.Unmarshal(body, &f)
	return f.ID
}

// waitSuccess polls a message until it is SUCCESS and returns its summary.
func (c *child) waitSuccess(t *testing.T, id string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, body := c.api(t, "GET", "/messages/"+id, "")
		if code != 200 {
			t.Fatalf("message %s lost: %d %s", id, code, body)
		}
		var d struct{ Status, Message string }
		json.Unmarshal(body, &d)
		if d.Status == "SUCCESS" {
			return d.Message
		}
		if d.Status != "PENDING" || time.Now().After(deadline) {
			t.Fatalf("message %s: %s, want SUCCESS within 30s", id, d.Status)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// load posts webhooks {"n": N} to uri from workers clients, each N new,
// until stop is closed or the server is gone, and calls acked with the id
// and N of every message acknowledged (202). Wait on the group it returns.
func (c *child) load(uri string, workers int, stop <-chan struct{}, acked func(id string, n int)) *sync.WaitGroup {
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 10 * time.Second}
	for w := range workers {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				n := w*100000 + i
				resp, err := client.Post(c.url+"/webhooks/v1/"+uri, "application/json", strings.NewReader(fmt.Sprintf(`{"n": %d}`, n)))
				if err != nil {
					return // the server is gone
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusAccepted {
					continue
				}
				var a struct{ ID string }
				if json.Unmarshal(b, &a) == nil && a.ID != "" {
					acked(a.ID, n)
				}
			}
		})
	}
	return &wg
}

func TestKill9UnderLoadLosesNoAcknowledgedMessage(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test runs real processes")
	}
	dir := t.TempDir()
	c := startChild(t, dir)
	c.route(t, "crash", "LOG.setMessage('n=' + PAYLOAD.n); return PAYLOAD.n")

	// Load from 16 clients; every 202 is an acknowledgement we hold the
	// server to. Kill the process once enough have been acknowledged, while
	// requests are still in flight.
	var (
		mu    sync.Mutex
		acked = map[string]int{}
	)
	stop := make(chan struct{})
	wg := c.load("crash", 16, stop, func(id string, n int) {
		mu.Lock()
		acked[id] = n
		mu.Unlock()
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 600 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d acknowledgements in 30s:\n%s", n, c.log())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := c.cmd.Process.Kill(); err != nil { // SIGKILL: no shutdown code runs
		t.Fatal(err)
	}
	c.cmd.Wait()
	close(stop)
	wg.Wait()
	t.Logf("killed after %d acknowledged messages", len(acked))

	c2 := startChild(t, dir)
	for id, n := range acked {
		if got := c2.waitSuccess(t, id); got != fmt.Sprintf("n=%d", n) {
			t.Fatalf("message %s summary %q, want n=%d", id, got, n)
		}
	}
}

func TestSIGTERMStopsGracefullyAndKeepsAcceptedWork(t *testing.T) {
	if testing.Short() {
		t.Skip("runs real processes")
	}
	dir := t.TempDir()
	c := startChild(t, dir)
	// A function slow enough that messages are still queued at SIGTERM.
	c.route(t, "slow", "var t = Date.now(); while (Date.now() - t < 20) {} return 1")
	var ids []string
	for i := range 50 {
		resp, err := http.Post(c.url+"/webhooks/v1/slow", "application/json", strings.NewReader(fmt.Sprintf(`{"i": %d}`, i)))
		if err != nil {
			t.Fatal(err)
		}
		var a struct{ ID string }
		json.NewDecoder(resp.Body).Decode(&a)
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("status %d", resp.StatusCode)
		}
		ids = append(ids, a.ID)
	}
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- c.cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, c.log())
		}
	case <-time.After(40 * time.Second):
		t.Fatalf("no exit within 40s of SIGTERM:\n%s", c.log())
	}
	if !strings.Contains(c.log(), "switchyard stopped") {
		t.Fatalf("no orderly stop in the log:\n%s", c.log())
	}
	c2 := startChild(t, dir)
	for _, id := range ids {
		c2.waitSuccess(t, id)
	}
}

// Package deploy_test checks the packaging: the Dockerfile (its build
// command run here, and the image built and started where Docker runs),
// deploy/compose.yaml and deploy/switchyard.service.
package deploy_test

import (
	"bufio"
	"bytes"
	"context"
	"debug/elf"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// root is the repository's root, the Docker build context.
const root = ".."

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, path))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// dockerfileBuild is the Dockerfile's RUN line that builds the binary,
// continuation lines joined.
func dockerfileBuild(t *testing.T, dockerfile string) string {
	t.Helper()
	joined := strings.ReplaceAll(dockerfile, "\\\n", " ")
	for _, line := range strings.Split(joined, "\n") {
		if cmd, ok := strings.CutPrefix(strings.TrimSpace(line), "RUN "); ok && strings.Contains(cmd, "go build") {
			return strings.Join(strings.Fields(cmd), " ")
		}
	}
	t.Fatal("the Dockerfile has no RUN ... go build")
	return ""
}

// The Dockerfile says what the issue asks for: Go of go.mod, a static
// build without local paths, distroless as non-root, a volume, the port
// and a health check that needs no shell.
func TestDockerfile(t *testing.T) {
	t.Parallel()
	df := read(t, "Dockerfile")
	goLine := regexp.MustCompile(`(?m)^go (\S+)$`).FindStringSubmatch(read(t, "go.mod"))
	if goLine == nil {
		t.Fatal("go.mod has no go line")
	}
	build := dockerfileBuild(t, df)
	for _, want := range []string{
		"ARG GO_VERSION=" + goLine[1] + "\n",
		"FROM golang:${GO_VERSION} AS build\n",
		"FROM gcr.io/distroless/static-debian12:nonroot\n",
		"COPY --from=build --chown=65532:65532 /out/data /data\n",
		"USER 65532:65532\n",
		`VOLUME ["/data"]` + "\n",
		"EXPOSE 8080\n",
		`CMD ["/usr/local/bin/switchyard", "health"]` + "\n",
		`ENTRYPOINT ["/usr/local/bin/switchyard"]` + "\n",
	} {
		if !strings.Contains(df, want) {
			t.Errorf("the Dockerfile lacks %q", want)
		}
	}
	for _, want := range []string{"CGO_ENABLED=0 go build", "-trimpath", "-X main.version=${VERSION}", "./cmd/switchyard"} {
		if !strings.Contains(build, want) {
			t.Errorf("the build command %q lacks %q", build, want)
		}
	}
	// What the builder needs is in the context; secrets and .git are not.
	ignore := read(t, ".dockerignore")
	for _, want := range []string{".git\n", "deploy/.env\n"} {
		if !strings.Contains(ignore, want) {
			t.Errorf(".dockerignore lacks %q", want)
		}
	}
	for _, kept := range []string{"web/static", "go.mod", "go.sum", "cmd", "storage", "server"} {
		if regexp.MustCompile(`(?m)^/?` + regexp.QuoteMeta(kept) + `/?$`).MatchString(ignore) {
			t.Errorf(".dockerignore leaves out %s, which the build needs", kept)
		}
	}
}

// The Dockerfile's own build command, run here, makes a static binary
// that serves, and the image's HEALTHCHECK command (switchyard health,
// with the image's SWITCHYARD_LISTEN) passes against it: what the image
// does, without Docker.
func TestDockerfileBuildCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary (-short)")
	}
	t.Parallel()
	out := t.TempDir()
	build := strings.ReplaceAll(dockerfileBuild(t, read(t, "Dockerfile")), "/out/", out+"/")
	cmd := exec.Command("sh", "-c", build)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "VERSION=v9.8.7-docker")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", build, err, b)
	}
	bin := filepath.Join(out, "switchyard")
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Fatal("the binary has a dynamic loader: it is not static")
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Fatalf("the binary needs %v", libs)
	}
	f.Close()
	if st, err := os.Stat(filepath.Join(out, "data")); err != nil || !st.IsDir() {
		t.Fatalf("the build stage makes no data directory for the volume: %v", err)
	}
	if b, err := exec.Command(bin, "version").CombinedOutput(); err != nil || !strings.HasPrefix(string(b), "switchyard v9.8.7-docker\n") {
		t.Fatalf("version: %v %s", err, b)
	}

	// serve as the image runs it: on 127.0.0.1 here, on a port of its own.
	ctx, cancel := context.WithCancel(context.Background())
	serve := exec.CommandContext(ctx, bin, "serve")
	serve.Env = append(os.Environ(), "SWITCHYARD_LISTEN=127.0.0.1:0", "SWITCHYARD_DATA="+t.TempDir())
	logs := &lockedBuffer{}
	stderr, err := serve.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); _ = serve.Wait() })
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			logs.WriteString(sc.Text() + "\n")
			if m := regexp.MustCompile(`msg="switchyard listening" addr=(\S+)`).FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
	}()
	var listen string
	select {
	case listen = <-addr:
	case <-time.After(60 * time.Second):
		t.Fatalf("serve did not start within 60s:\n%s", logs.String())
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		health := exec.Command(bin, "health")
		health.Env = append(os.Environ(), "SWITCHYARD_LISTEN="+listen)
		b, err := health.CombinedOutput()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("switchyard health still fails after 60s: %v %s\nserve's log:\n%s", err, b, logs.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	if !strings.Contains(logs.String(), "version=v9.8.7-docker") {
		t.Errorf("the start line does not name the version:\n%s", logs.String())
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) WriteString(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b.WriteString(s)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Where a Docker daemon answers, the image builds, starts, and its
// /readyz answers 200; elsewhere the test says why it skips.
func TestDockerImage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds an image (-short)")
	}
	if _, err := exec.LookPath("docker"); err != nil {
		t.Skip("no docker command on this machine: the image is not built here")
	}
	if b, err := exec.Command("docker", "info", "--format", "{{.ServerVersion}}").CombinedOutput(); err != nil {
		t.Skipf("no Docker daemon answers (docker info: %v: %s): the image is not built here", err, bytes.TrimSpace(b))
	}
	tag := fmt.Sprintf("switchyard-test:%d", time.Now().UnixNano())
	docker := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("docker", args...)
		cmd.Dir = root
		b, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, b)
		}
		return strings.TrimSpace(string(b))
	}
	docker("build", "--build-arg", "VERSION=v0.0.0-imagetest", "-t", tag, ".")
	t.Cleanup(func() { _ = exec.Command("docker", "rmi", "-f", tag).Run() })
	id := docker("run", "-d", "-p", "127.0.0.1::8080", tag)
	t.Cleanup(func() { _ = exec.Command("docker", "rm", "-f", "-v", id).Run() })
	port := docker("port", id, "8080/tcp")
	port = port[strings.LastIndex(port, ":")+1:]
	url := "http://127.0.0.1:" + strings.TrimSpace(strings.SplitN(port, "\n", 2)[0]) + "/readyz"
	deadline := time.Now().Add(2 * time.Minute)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			logs, _ := exec.Command("docker", "logs", id).CombinedOutput()
			t.Fatalf("%s did not answer 200 within 2 minutes (%v)\n%s", url, err, logs)
		}
		time.Sleep(500 * time.Millisecond)
	}
	if v := docker("run", "--rm", tag, "version"); !strings.HasPrefix(v, "switchyard v0.0.0-imagetest") {
		t.Fatalf("version in the image: %s", v)
	}
	if u := docker("inspect", "--format", "{{.Config.User}}", tag); u != "65532:65532" {
		t.Fatalf("the image runs as %q", u)
	}
}

// compose.yaml is valid YAML with two nodes on PostgreSQL 15, one secrets
// key, and a balancer that checks /readyz; `docker compose config` accepts
// it where Docker Compose is installed.
func TestCompose(t *testing.T) {
	t.Parallel()
	var c struct {
		Services map[string]struct {
			Image       string            `yaml:"image"`
			Environment map[string]string `yaml:"environment"`
			Volumes     []string          `yaml:"volumes"`
			Healthcheck struct {
				Test []string `yaml:"test"`
			} `yaml:"healthcheck"`
			Networks yaml.Node `yaml:"networks"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal([]byte(read(t, "deploy/compose.yaml")), &c); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	if img := c.Services["postgres"].Image; img != "postgres:15" {
		t.Errorf("postgres image %q", img)
	}
	key := ""
	for _, name := range []string{"switchyard-1", "switchyard-2"} {
		s, ok := c.Services[name]
		if !ok {
			t.Fatalf("no service %s", name)
		}
		env := s.Environment
		if !strings.HasPrefix(env["SWITCHYARD_STORE"], "postgres://") || env["SWITCHYARD_LISTEN"] != "0.0.0.0:8080" || env["SWITCHYARD_ADVERTISE"] != name+":8080" {
			t.Errorf("%s: environment %v", name, env)
		}
		if key == "" {
			key = env["SWITCHYARD_SECRET_KEY"]
		}
		if !strings.HasPrefix(key, "${SWITCHYARD_SECRET_KEY:?") || env["SWITCHYARD_SECRET_KEY"] != key {
			t.Errorf("%s: the secrets key %q is not the one shared key from deploy/.env", name, env["SWITCHYARD_SECRET_KEY"])
		}
		if !strings.Contains(env["SWITCHYARD_TRUSTED_PROXIES"], "172.30.0.10") {
			t.Errorf("%s does not trust the balancer's X-Forwarded-For", name)
		}
		if strings.Join(s.Healthcheck.Test, " ") != "CMD /usr/local/bin/switchyard health" {
			t.Errorf("%s: health check %v", name, s.Healthcheck.Test)
		}
	}
	lb := c.Services["lb"]
	if !strings.HasPrefix(lb.Image, "caddy:") || len(lb.Volumes) == 0 || !strings.HasPrefix(lb.Volumes[0], "./Caddyfile:") {
		t.Errorf("lb: %+v", lb)
	}
	caddy := read(t, "deploy/Caddyfile")
	for _, want := range []string{"reverse_proxy switchyard-1:8080 switchyard-2:8080", "health_uri /readyz", "health_status 200"} {
		if !strings.Contains(caddy, want) {
			t.Errorf("Caddyfile lacks %q", want)
		}
	}
	example := read(t, "deploy/env.example")
	for _, v := range []string{"POSTGRES_PASSWORD=", "SWITCHYARD_SECRET_KEY=", "SWITCHYARD_ADMIN_TOKEN="} {
		if !strings.Contains(example, "\n"+v+"\n") {
			t.Errorf("env.example lacks an empty %s", v)
		}
	}

	if exec.Command("docker", "compose", "version").Run() != nil {
		t.Log("docker compose is not installed: compose.yaml checked as YAML only")
		return
	}
	cmd := exec.Command("docker", "compose", "-f", "compose.yaml", "config", "--quiet")
	cmd.Env = append(os.Environ(), "POSTGRES_PASSWORD=x", "SWITCHYARD_SECRET_KEY=x", "SWITCHYARD_ADMIN_TOKEN=x")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("docker compose config: %v\n%s", err, b)
	}
}

// The systemd unit has its hardening, and systemd-analyze verify (where
// installed) finds nothing to say about it.
func TestSystemdUnit(t *testing.T) {
	t.Parallel()
	unit := read(t, "deploy/switchyard.service")
	for _, want := range []string{
		"ExecStart=/usr/local/bin/switchyard serve",
		"EnvironmentFile=-/etc/switchyard/switchyard.env",
		"DynamicUser=yes", "StateDirectory=switchyard", "Restart=on-failure", "LimitNOFILE=",
		"NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes", "PrivateDevices=yes",
		"ProtectKernelTunables=yes", "ProtectKernelModules=yes", "ProtectKernelLogs=yes", "ProtectControlGroups=yes",
		"RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX", "SystemCallFilter=@system-service",
		"CapabilityBoundingSet=\n", "MemoryDenyWriteExecute=yes",
	} {
		if !strings.Contains(unit, "\n"+want) {
			t.Errorf("the unit lacks %q", want)
		}
	}
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Log("systemd-analyze is not installed: the unit is checked as text only")
		return
	}
	// verify wants ExecStart's program to exist: the test's own binary
	// stands in for /usr/local/bin/switchyard.
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "switchyard.service")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(unit, "/usr/local/bin/switchyard", self)), 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := exec.Command("systemd-analyze", "verify", path).CombinedOutput()
	// Unknown keys are only warned about: any word on the unit is a finding.
	if err != nil || strings.Contains(string(b), "switchyard.service") {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, b)
	}
}

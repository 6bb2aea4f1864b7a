package faults

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/load"
	"github.com/gatehouse/gatehouse/provision"
	"github.com/gatehouse/gatehouse/storetest"
)

// The gatehouse binary the tests run, built once per test run into a
// temporary directory that TestMain removes.
var (
	buildOnce sync.Once
	buildDir  string
	binary    string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// gatehouseBinary returns the path of the gatehouse binary, building it
// with `go build` on first use.
func gatehouseBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		if buildDir, buildErr = os.MkdirTemp("", "gatehouse-faults-"); buildErr != nil {
			return
		}
		binary = filepath.Join(buildDir, "gatehouse")
		out, err := exec.Command("go", "build", "-o", binary, "github.com/gatehouse/gatehouse/cmd/gatehouse").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binary
}

// storage is where a node keeps its data: the flags of serve and tenant
// create that say so.
type storage struct {
	flags      []string
	sqlitePath string // the SQLite database, "" for PostgreSQL
}

func sqliteStorage(t *testing.T) storage {
	dir := t.TempDir()
	return storage{flags: []string{"--data-dir", dir}, sqlitePath: filepath.Join(dir, "gatehouse.db")}
}

// postgresStorage is a fresh schema of the database at
// GATEHOUSE_TEST_DATABASE_URL; it skips the test without one.
func postgresStorage(t *testing.T) storage {
	return postgresAt(storetest.PostgresURL(t))
}

func postgresAt(url string) storage {
	return storage{flags: []string{"--database-url", url, "--encryption-key", newKey()}}
}

func newKey() string {
	k := make([]byte, 32)
	rand.Read(k)
	return base64.StdEncoding.EncodeToString(k)
}

// engines are the storages a fault test runs on.
var engines = []struct {
	name string
	open func(*testing.T) storage
}{{"sqlite", sqliteStorage}, {"postgres", postgresStorage}}

// freeAddr returns a loopback address whose port nothing listens on now,
// for a server that must keep its address across restarts.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// node is one `gatehouse serve` process.
type node struct {
	name string
	addr string // where it listens
	cmd  *exec.Cmd
	logs *syncBuffer
	done chan struct{} // closed when the process has exited
}

// startNode runs `gatehouse serve` on addr with public as its public URL
// and st as its storage, and returns once /readyz answers 200. The process
// is killed when the test ends, and its log shown if the test failed.
func startNode(t *testing.T, name, addr, public string, st storage, extra ...string) *node {
	t.Helper()
	args := append([]string{"serve", "--addr", addr, "--public-url", public, "--log-format", "json"}, st.flags...)
	n := &node{name: name, addr: addr, logs: &syncBuffer{}, done: make(chan struct{})}
	n.cmd = exec.Command(gatehouseBinary(t), append(args, extra...)...)
	n.cmd.Env = []string{"PATH=" + os.Getenv("PATH")} // nothing else of the environment
	n.cmd.Stdout, n.cmd.Stderr = n.logs, n.logs
	if err := n.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { n.cmd.Wait(); close(n.done) }()
	t.Cleanup(func() {
		n.kill()
		if t.Failed() {
			t.Logf("log of %s:\n%s", n.name, n.logs.tail(60))
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		if code, _ := status(t.Context(), "http://"+addr+"/readyz"); code == http.StatusOK {
			return n
		}
		select {
		case <-n.done:
			t.Fatalf("%s exited before it was ready: %v\n%s", name, n.cmd.ProcessState, n.logs.tail(40))
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s was not ready within 60 s:\n%s", name, n.logs.tail(40))
		}
	}
}

// kill sends SIGKILL (kill -9) and waits for the process to exit.
func (n *node) kill() {
	select {
	case <-n.done:
		return
	default:
	}
	n.cmd.Process.Signal(syscall.SIGKILL)
	<-n.done
}

// running reports whether the process has not exited.
func (n *node) running() bool {
	select {
	case <-n.done:
		return false
	default:
		return true
	}
}

// status returns the status code of a GET of url.
func status(ctx context.Context, url string) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// createTenant runs `gatehouse tenant create acme` on st for the public
// URL public.
func createTenant(t *testing.T, public string, st storage) *provision.Result {
	t.Helper()
	cmd := exec.Command(gatehouseBinary(t), append([]string{"tenant", "create", "acme", "--admin-email", "admin@acme.example",
		"--public-url", public, "--json"}, st.flags...)...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tenant create: %v\n%s", err, stderr.String())
	}
	var tn provision.Result
	if err := json.Unmarshal(out, &tn); err != nil {
		t.Fatalf("tenant create printed %s: %v", out, err)
	}
	return &tn
}

const userPassword = "correct horse battery staple"

// setUp creates users users, an application and its user flow in the
// tenant (load setup), and returns them with a load client of the
// application.
func setUp(t *testing.T, tn *provision.Result, users int) (*load.Setup, *load.Client) {
	t.Helper()
	s, err := load.RunSetup(t.Context(), load.SetupConfig{Issuer: tn.Issuer, ClientID: tn.AutomationClient.ClientID,
		ClientSecret: tn.AutomationClient.ClientSecret, Users: users, Password: userPassword})
	if err != nil {
		t.Fatal(err)
	}
	return s, appClient(t, s)
}

func appClient(t *testing.T, s *load.Setup) *load.Client {
	t.Helper()
	c, err := load.New(t.Context(), load.Config{Issuer: s.Issuer, ClientID: s.ClientID, ClientSecret: s.ClientSecret, RedirectURI: s.RedirectURI, Timeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// admin calls a tenant's admin API as its automation client.
type admin struct {
	base   string
	client *http.Client
	token  string
}

func newAdmin(t *testing.T, tn *provision.Result) *admin {
	t.Helper()
	c, err := load.New(t.Context(), load.Config{Issuer: tn.Issuer, ClientID: tn.AutomationClient.ClientID, ClientSecret: tn.AutomationClient.ClientSecret})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	tok, err := c.ClientCredentials(t.Context(), tn.AutomationClient.Scope, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &admin{base: tn.AdminAPI, client: &http.Client{Timeout: 20 * time.Second}, token: tok.AccessToken}
}

// call sends body (JSON, when not nil) to the admin API path (or absolute
// URL) and returns the status and the body.
func (a *admin) call(ctx context.Context, method, path string, body any) (int, []byte, error) {
	var in io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		in = bytes.NewReader(raw)
	}
	if !strings.HasPrefix(path, "http") {
		path = a.base + path
	}
	req, err := http.NewRequestWithContext(ctx, method, path, in)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := a.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	return resp.StatusCode, out, err
}

// syncBuffer is a bytes.Buffer safe for concurrent writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// tail returns the last n lines written.
func (b *syncBuffer) tail(n int) string {
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// waitFor polls cond every 20 ms until it holds, failing the test with
// what after timeout.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, timeout)
		}
		select {
		case <-tick.C:
		case <-t.Context().Done():
			t.Fatal(t.Context().Err())
		}
	}
}

package faults

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/load"
)

// recoveryBound is how soon after PostgreSQL answers again Gatehouse's
// errors must have stopped.
const recoveryBound = 5 * time.Second

// failurePause is how long a client of FT-2 waits after a failure.
const failurePause = 100 * time.Millisecond

// ft2Workers is how many clients FT-2 runs.
const ft2Workers = 6

// TestFT2PostgresRestartedUnderLoad: the PostgreSQL server of a running
// Gatehouse restarts (pg_ctl restart -m fast) while clients sign in and
// get tokens. The requests that fail are counted; they stop within a few
// seconds of the database answering again, and the same Gatehouse process
// is ready again and signs people in.
func TestFT2PostgresRestartedUnderLoad(t *testing.T) {
	pg := startPostgres(t)
	addr := freeAddr(t)
	public := "http://" + addr
	st := postgresAt(pg.url)
	tn := createTenant(t, public, st)
	n := startNode(t, "gatehouse", addr, public, st)
	setup, app := setUp(t, tn, 8)
	tokens, err := load.New(t.Context(), load.Config{Issuer: tn.Issuer, ClientID: tn.AutomationClient.ClientID, ClientSecret: tn.AutomationClient.ClientSecret})
	if err != nil {
		t.Fatal(err)
	}
	defer tokens.Close()

	// The load: 4 sign-in workers, each with users of its own, and 2
	// token workers, recording when each request ended and how.
	type outcome struct {
		end time.Time
		err error
	}
	var (
		mu       sync.Mutex
		outcomes []outcome
		stop     atomic.Bool
		wg       sync.WaitGroup
	)
	// A client pauses after a failure, as load.Run's workers do, so that
	// the failures a worker sees are bounded by the time things fail.
	record := func(err error) {
		mu.Lock()
		outcomes = append(outcomes, outcome{time.Now(), err})
		mu.Unlock()
		if err != nil {
			<-time.After(failurePause)
		}
	}
	for w := range ft2Workers - 2 {
		wg.Go(func() {
			for k := 0; !stop.Load(); k++ {
				_, err := app.SignIn(t.Context(), load.UserMail(setup.UserPrefix, 1+w+4*(k%2)), userPassword, nil)
				record(err)
			}
		})
	}
	for range 2 {
		wg.Go(func() {
			tick := time.NewTicker(10 * time.Millisecond)
			defer tick.Stop()
			for !stop.Load() {
				_, err := tokens.ClientCredentials(t.Context(), tn.AutomationClient.Scope, nil)
				record(err)
				<-tick.C
			}
		})
	}
	since := func(t0 time.Time) (ok, failed int) {
		mu.Lock()
		defer mu.Unlock()
		for _, o := range outcomes {
			if o.end.After(t0) && o.err == nil {
				ok++
			} else if o.end.After(t0) {
				failed++
			}
		}
		return ok, failed
	}
	begin := time.Now()
	waitFor(t, 30*time.Second, "sign-ins before the restart", func() bool { ok, _ := since(begin); return ok >= 20 })

	restartAt := time.Now()
	pg.ctl(t, "restart", "-m", "fast")
	up := time.Now() // pg_ctl -w returns once the server accepts connections
	t.Logf("PostgreSQL restarted in %v", up.Sub(restartAt).Round(time.Millisecond))

	// Load goes on until Gatehouse has served a good while without error.
	waitFor(t, 60*time.Second, "sign-ins and tokens after the restart", func() bool {
		ok, _ := since(up.Add(recoveryBound))
		return ok >= 40
	})
	stop.Store(true)
	wg.Wait()

	var first, last time.Time
	kinds := map[string]int{}
	failed := 0
	for _, o := range outcomes {
		if o.err != nil {
			failed++
			kinds[errKind(o.err)]++
			if first.IsZero() || o.end.Before(first) {
				first = o.end
			}
			if o.end.After(last) {
				last = o.end
			}
		}
	}
	t.Logf("%d requests, %d failed: %v; failures from %v after the restart began to %v after PostgreSQL answered again (restart: %v)",
		len(outcomes), failed, kinds, first.Sub(restartAt).Round(time.Millisecond), last.Sub(up).Round(time.Millisecond), up.Sub(restartAt).Round(time.Millisecond))
	if failed > 0 && first.Before(restartAt) {
		t.Errorf("a request failed %v before the restart: %v", restartAt.Sub(first), kinds)
	}
	if failed > 0 && last.After(up.Add(recoveryBound)) {
		t.Errorf("a request failed %v after PostgreSQL answered again, want errors to stop within %v", last.Sub(up), recoveryBound)
	}
	// Each client fails at most once per pause while the failures last
	// (and once more for the request in flight when they end).
	if bound := ft2Workers * (int(last.Sub(restartAt)/failurePause) + 2); failed > 0 && failed > bound {
		t.Errorf("%d requests failed in %v, want at most %d: one per client and pause", failed, last.Sub(restartAt), bound)
	}
	if !n.running() {
		t.Fatalf("Gatehouse exited: %v", n.cmd.ProcessState)
	}
	if code, err := status(t.Context(), public+"/readyz"); code != 200 {
		t.Errorf("/readyz after the restart = %d, %v; want 200", code, err)
	}
	if _, err := app.SignIn(t.Context(), load.UserMail(setup.UserPrefix, 1), userPassword, nil); err != nil {
		t.Errorf("a new sign-in after the restart: %v", err)
	}
}

// errKind names the kind of a load error: "step: kind".
func errKind(err error) string {
	var se *load.StepError
	if errors.As(err, &se) {
		return se.Step + ": " + se.Kind
	}
	return err.Error()
}

// postgres is a PostgreSQL cluster of one test.
type postgres struct {
	bin, data, log string
	port           int
	url            string
	asUser         string // run its commands as this user ("" for the current one)
}

// startPostgres initializes a cluster in a temporary directory with the
// binaries of /usr/lib/postgresql/*/bin, starts it on a free port of
// 127.0.0.1 and stops it when the test ends. PostgreSQL refuses to run as
// root: as root, it runs the cluster as the user postgres (with runuser).
// It skips the test, saying why, when it cannot.
func startPostgres(t *testing.T) *postgres {
	t.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(bins) == 0 {
		t.Skip("FT-2 needs PostgreSQL's server binaries (initdb, pg_ctl) in /usr/lib/postgresql/VERSION/bin: apt-get install postgresql")
	}
	sort.Strings(bins)
	pg := &postgres{bin: filepath.Dir(bins[len(bins)-1])}
	dir := t.TempDir()
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Skip("FT-2 runs PostgreSQL, which refuses root: run the test as another user, or create the user postgres (the postgresql package does)")
		}
		if _, err := exec.LookPath("runuser"); err != nil {
			t.Skip("FT-2 runs PostgreSQL as the user postgres when run as root, with runuser (util-linux), which is missing")
		}
		pg.asUser = "postgres"
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		// The user must reach the directory: open its parents for
		// traversal, and give it the directory.
		for p := dir; p != os.TempDir() && p != "/"; p = filepath.Dir(p) {
			os.Chmod(p, 0o711)
		}
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	pg.data, pg.log = filepath.Join(dir, "data"), filepath.Join(dir, "postgres.log")
	pg.port = freePort(t)
	pg.url = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", pg.port)
	pg.run(t, "initdb", "-D", pg.data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
	pg.ctl(t, "start")
	t.Cleanup(func() { pg.run(t, "pg_ctl", "-D", pg.data, "-m", "immediate", "-w", "stop") })
	return pg
}

// ctl runs pg_ctl with the cluster's settings, waiting for it to finish.
func (pg *postgres) ctl(t *testing.T, args ...string) {
	t.Helper()
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off", pg.port, filepath.Dir(pg.data))
	pg.run(t, "pg_ctl", append([]string{"-D", pg.data, "-l", pg.log, "-o", opts, "-w", "-t", "60"}, args...)...)
}

func (pg *postgres) run(t *testing.T, name string, args ...string) {
	t.Helper()
	path := filepath.Join(pg.bin, name)
	cmd := exec.Command(path, args...)
	if pg.asUser != "" {
		cmd = exec.Command("runuser", append([]string{"-u", pg.asUser, "--", path}, args...)...)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		log, _ := os.ReadFile(pg.log)
		t.Fatalf("%s %s: %v\n%s\n%s", name, strings.Join(args, " "), err, out.String(), log)
	}
}

func freePort(t *testing.T) int {
	_, port, _ := strings.Cut(freeAddr(t), ":")
	n, _ := strconv.Atoi(port)
	return n
}

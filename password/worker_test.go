package password

import (
	"bytes"
	"encoding/binary"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"
)

// workerEnv makes this test binary a hash worker (TestMain).
const workerEnv = "GATEHOUSE_PASSWORD_TEST_WORKER"

func TestMain(m *testing.M) {
	if os.Getenv(workerEnv) == "1" {
		if err := ServeHashes(os.Stdin, os.Stdout); err != nil {
			os.Exit(2)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// testWorkers starts n worker processes: this test binary as a worker.
func testWorkers(t *testing.T, n int) *Workers {
	t.Helper()
	ws, err := StartWorkers(n, func() *exec.Cmd {
		cmd := exec.Command(os.Args[0])
		cmd.Env = append(os.Environ(), workerEnv+"=1", "GOMAXPROCS=1")
		return cmd
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	return ws
}

// TestProcessHasher: hashes made in worker processes verify in this one
// and the other way round, concurrently on every worker; a wrong password
// is refused; PW-2's cap still holds before any worker is asked.
func TestProcessHasher(t *testing.T) {
	ws := testWorkers(t, 2)
	ph := NewProcessHasher(DefaultParams, 8, ws)
	local := NewHasher(DefaultParams, 2, 8)
	ctx := t.Context()
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			pw := "correct horse battery staple " + string(rune('a'+i))
			from, to := ph, local
			if i%2 == 1 {
				from, to = local, ph
			}
			enc, err := from.Hash(ctx, pw)
			if err != nil {
				t.Errorf("Hash: %v", err)
				return
			}
			if ok, _, err := to.Verify(ctx, enc, pw); !ok || err != nil {
				t.Errorf("Verify(the right password) = %v, %v", ok, err)
			}
			if ok, _, err := to.Verify(ctx, enc, pw+"!"); ok || err != nil {
				t.Errorf("Verify(a wrong password) = %v, %v", ok, err)
			}
		})
	}
	wg.Wait()
	// Two hashes and two pairs of verifications each side: 6 by ph.
	if got := ph.Computed(); got != 6 {
		t.Errorf("the process hasher computed %d hashes, want 6", got)
	}
	before := ph.Computed()
	if _, err := ph.Hash(ctx, string(make([]byte, MaxInputBytes+1))); err == nil {
		t.Error("a password over the cap was hashed")
	}
	if ph.Computed() != before {
		t.Error("a password over the cap reached a worker")
	}
}

// TestWorkerReplaced: a worker process that dies fails the hash it was
// running, and the next hash runs on a new one.
func TestWorkerReplaced(t *testing.T) {
	ws := testWorkers(t, 1)
	ph := NewProcessHasher(DefaultParams, 1, ws)
	ctx := t.Context()
	enc, err := ph.Hash(ctx, "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	p := <-ws.idle
	p.cmd.Process.Kill()
	p.cmd.Wait()
	ws.idle <- p
	if _, _, err := ph.Verify(ctx, enc, "correct horse battery staple"); err == nil {
		t.Fatal("Verify on a killed worker succeeded")
	}
	if ok, _, err := ph.Verify(ctx, enc, "correct horse battery staple"); !ok || err != nil {
		t.Fatalf("Verify after the worker was replaced = %v, %v", ok, err)
	}
}

// TestServeHashes: the worker's loop answers each request with
// argon2id's key and ends at the end of its input; a request past the
// bounds ends it with an error, unanswered.
func TestServeHashes(t *testing.T) {
	req := func(pw, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte {
		var b []byte
		b = binary.BigEndian.AppendUint32(b, uint32(len(pw)))
		b = append(b, pw...)
		b = binary.BigEndian.AppendUint32(b, uint32(len(salt)))
		b = append(b, salt...)
		b = binary.BigEndian.AppendUint32(b, time)
		b = binary.BigEndian.AppendUint32(b, memory)
		b = append(b, threads)
		return binary.BigEndian.AppendUint32(b, keyLen)
	}
	salt := bytes.Repeat([]byte{7}, 16)
	in := append(req([]byte("pw one"), salt, 1, 64, 1, 32), req([]byte("pw two"), salt[:8], 2, 32, 2, 16)...)
	var out bytes.Buffer
	if err := ServeHashes(bytes.NewReader(in), &out); err != nil {
		t.Fatalf("ServeHashes: %v", err)
	}
	want := append(argon2.IDKey([]byte("pw one"), salt, 1, 64, 1, 32), argon2.IDKey([]byte("pw two"), salt[:8], 2, 32, 2, 16)...)
	if !bytes.Equal(out.Bytes(), want) {
		t.Errorf("ServeHashes wrote %x, want %x", out.Bytes(), want)
	}
	for name, bad := range map[string][]byte{
		"memory over 1 GiB": req([]byte("pw"), salt, 1, maxMemory+1, 1, 32),
		"no passes":         req([]byte("pw"), salt, 0, 64, 1, 32),
		"short salt":        req([]byte("pw"), salt[:4], 1, 64, 1, 32),
		"long key":          req([]byte("pw"), salt, 1, 64, 1, maxKeyLen+1),
		"truncated":         req([]byte("pw"), salt, 1, 64, 1, 32)[:10],
	} {
		out.Reset()
		if err := ServeHashes(bytes.NewReader(bad), &out); err == nil || out.Len() != 0 {
			t.Errorf("%s: ServeHashes = %v, wrote %d bytes; want an error and nothing", name, err, out.Len())
		}
	}
}

// TestWorkersCheck: Check passes for real workers and names the problem
// of a command that is not one: one that exits at once, one that answers
// garbage, and one that never answers.
func TestWorkersCheck(t *testing.T) {
	if err := testWorkers(t, 2).Check(); err != nil {
		t.Fatalf("Check of real workers: %v", err)
	}
	short := 50 * time.Millisecond
	old := timeAfter
	timeAfter = func(time.Duration) <-chan time.Time { return time.After(short) }
	t.Cleanup(func() { timeAfter = old })
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"exits", []string{"-c", "exit 0"}, "hash worker 1 of 1"},
		{"garbage", []string{"-c", "head -c 40 /dev/zero; cat > /dev/null"}, "wrong key"},
		{"silent", []string{"-c", "cat > /dev/null"}, "did not answer within"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ws, err := StartWorkers(1, func() *exec.Cmd { return exec.Command("/bin/sh", tc.args...) })
			if err != nil {
				t.Fatal(err)
			}
			defer ws.Close()
			err = ws.Check()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Check = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// TestWorkerTimeout: a worker that does not answer a hash in time is
// killed and replaced; the hash fails saying so, and the next one runs on
// the new worker.
func TestWorkerTimeout(t *testing.T) {
	old := workerTimeout
	workerTimeout = 100 * time.Millisecond
	t.Cleanup(func() { workerTimeout = old })
	var started atomic.Int64
	ws, err := StartWorkers(1, func() *exec.Cmd {
		if started.Add(1) == 1 {
			return exec.Command("/bin/sh", "-c", "cat > /dev/null") // never answers
		}
		cmd := exec.Command(os.Args[0])
		cmd.Env = append(os.Environ(), workerEnv+"=1", "GOMAXPROCS=1")
		return cmd
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	pw, salt := []byte("correct horse battery staple"), []byte("0123456789abcdef")
	_, err = ws.key(pw, salt, 1, 64, 1, 32)
	if err == nil || !strings.Contains(err.Error(), "did not answer within") {
		t.Fatalf("a hash on a silent worker = %v, want a timeout", err)
	}
	key, err := ws.key(pw, salt, 1, 64, 1, 32)
	if err != nil || !bytes.Equal(key, argon2.IDKey(pw, salt, 1, 64, 1, 32)) {
		t.Fatalf("the next hash, on the replaced worker = %x, %v", key, err)
	}
}

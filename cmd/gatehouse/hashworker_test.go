package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/password"
)

// TestMain lets this test binary be serve's hash worker processes
// (--hash-processes starts os.Executable() hash-worker).
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == hashWorkerCommand {
		if err := run(context.Background(), os.Args, os.Getenv, os.Stdin, os.Stdout, os.Stderr); err != nil {
			os.Exit(2)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestServeHashProcesses: with --hash-processes serve's hasher runs its
// hashes in worker processes of this program (gatehouse hash-worker), one
// per core unless --hash-workers says otherwise, and they verify like the
// hashes of the server's own pool.
func TestServeHashProcesses(t *testing.T) {
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	h, stop, err := newServeHasher(&config{HashProcesses: true, HashWorkers: 2}, logger)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	local := password.NewHasher(password.DefaultParams, 1, 1)
	enc, err := h.Hash(t.Context(), "correct horse battery staple")
	if err != nil {
		t.Fatalf("Hash in a worker process: %v", err)
	}
	if ok, _, err := local.Verify(t.Context(), enc, "correct horse battery staple"); !ok || err != nil {
		t.Errorf("the worker's hash does not verify here: %v, %v", ok, err)
	}
	if ok, _, err := h.Verify(t.Context(), enc, "wrong horse battery staple"); ok || err != nil {
		t.Errorf("Verify(a wrong password) in a worker = %v, %v", ok, err)
	}
	if h.Computed() != 2 {
		t.Errorf("the process hasher computed %d hashes, want 2", h.Computed())
	}
}

// TestServeHashDefaults: serve hashes in worker processes at nice 10
// unless told otherwise, by flag or environment.
func TestServeHashDefaults(t *testing.T) {
	for _, tc := range []struct {
		args      []string
		env       map[string]string
		processes bool
		nice      int
	}{
		{nil, nil, true, 10},
		{[]string{"--hash-processes=false"}, nil, false, 10},
		{nil, map[string]string{"GATEHOUSE_HASH_PROCESSES": "false"}, false, 10},
		{[]string{"--hash-nice", "0"}, nil, true, 0},
		{nil, map[string]string{"GATEHOUSE_HASH_NICE": "19"}, true, 19},
	} {
		c, err := parse(serveCommand(), tc.args, mapenv(tc.env), io.Discard)
		if err != nil {
			t.Fatalf("%q %v: %v", tc.args, tc.env, err)
		}
		if c.HashProcesses != tc.processes || c.HashNice != tc.nice {
			t.Errorf("%q %v: hash processes %v at nice %d, want %v at %d", tc.args, tc.env, c.HashProcesses, c.HashNice, tc.processes, tc.nice)
		}
	}
}

// TestServeHashProcessesFallBack: when the worker processes cannot be
// started (here a program that is not a hash worker), serve hashes in its
// own process and says so in the log, unless --hash-processes was asked
// for, when it refuses to start and says why.
func TestServeHashProcessesFallBack(t *testing.T) {
	old := hashWorkerProgram
	hashWorkerProgram = func() (string, error) { return "/bin/true", nil }
	t.Cleanup(func() { hashWorkerProgram = old })

	var log strings.Builder
	logger := slog.New(slog.NewTextHandler(&log, nil))
	c, err := parse(serveCommand(), nil, mapenv(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	h, stop, err := newServeHasher(c, logger)
	if err != nil {
		t.Fatalf("serve with the default --hash-processes: %v", err)
	}
	defer stop()
	if _, err := h.Hash(t.Context(), "correct horse battery staple"); err != nil {
		t.Errorf("Hash after falling back to the server's process: %v", err)
	}
	if !strings.Contains(log.String(), "password hashes run in the server's process") || !strings.Contains(log.String(), "hash worker 1 of") {
		t.Errorf("the log does not say the hashes fell back, and why:\n%s", log.String())
	}

	c, err = parse(serveCommand(), []string{"--hash-processes"}, mapenv(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := newServeHasher(c, logger); err == nil || !strings.Contains(err.Error(), "--hash-processes") {
		t.Errorf("serve --hash-processes with workers that cannot start = %v, want an error naming --hash-processes", err)
	}
}

// TestServeGCPercent: serve runs the garbage collector at serveGCPercent
// unless GOGC is set, and restores the previous target when it returns.
func TestServeGCPercent(t *testing.T) {
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	before := debug.SetGCPercent(150)
	defer debug.SetGCPercent(before)
	restore := tuneGC(func(string) string { return "" }, logger)
	if got := debug.SetGCPercent(serveGCPercent); got != serveGCPercent {
		t.Errorf("GOGC unset: the collector's target is %d, want %d", got, serveGCPercent)
	}
	restore()
	if got := debug.SetGCPercent(150); got != 150 {
		t.Errorf("after serve: the target is %d, want the previous 150", got)
	}
	tuneGC(func(k string) string {
		if k == "GOGC" {
			return "50"
		}
		return ""
	}, logger)()
	if got := debug.SetGCPercent(150); got != 150 {
		t.Errorf("with GOGC set, serve changed the target to %d", got)
	}
}

package main

import (
	"context"
	"io"
	"log/slog"
	"os"
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

package web_test

import (
	"os"
	"os/exec"
	"testing"

	"github.com/gatehouse/gatehouse/password"
)

// hashWorkerEnv makes this test binary a password hash worker process
// (password.ServeHashes), for the benchmarks that hash in processes.
const hashWorkerEnv = "GATEHOUSE_WEB_TEST_HASH_WORKER"

// hashNice is the nice value of the worker processes: serve's default
// (--hash-nice).
const hashNice = 10

func TestMain(m *testing.M) {
	if os.Getenv(hashWorkerEnv) == "1" {
		if err := password.LowerPriority(hashNice); err != nil {
			os.Exit(3)
		}
		if err := password.ServeHashes(os.Stdin, os.Stdout); err != nil {
			os.Exit(2)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// hashWorkers starts n hash worker processes: this test binary, at
// hashNice.
func hashWorkers(tb testing.TB, n int) *password.Workers {
	tb.Helper()
	ws, err := password.StartWorkers(n, func() *exec.Cmd {
		cmd := exec.Command(os.Args[0])
		cmd.Env = append(os.Environ(), hashWorkerEnv+"=1", "GOMAXPROCS=1")
		return cmd
	})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ws.Close() })
	return ws
}

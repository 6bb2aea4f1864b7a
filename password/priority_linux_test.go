package password

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// priorityEnv makes this test binary lower its own priority and print
// every thread's nice value (TestLowerPriority).
const priorityEnv = "GATEHOUSE_PASSWORD_TEST_NICE"

func init() {
	v := os.Getenv(priorityEnv)
	if v == "" {
		return
	}
	n, _ := strconv.Atoi(v)
	if err := LowerPriority(n); err != nil {
		os.Stderr.WriteString(err.Error())
		os.Exit(3)
	}
	tids, err := threads()
	if err != nil {
		os.Exit(4)
	}
	for _, tid := range tids {
		stat, err := os.ReadFile("/proc/self/task/" + strconv.Itoa(tid) + "/stat")
		if err != nil {
			continue // the thread has ended
		}
		// Field 19 is the nice value; field 2, the name, is in
		// parentheses and may hold spaces.
		f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		os.Stdout.WriteString(f[16] + "\n")
	}
	os.Exit(0)
}

// TestLowerPriority: every thread of a process that called LowerPriority
// has the nice value, not only the one that called it; values out of
// range are refused.
func TestLowerPriority(t *testing.T) {
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), priorityEnv+"=7")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("the child failed: %v", err)
	}
	lines := strings.Fields(string(out))
	if len(lines) < 2 {
		t.Fatalf("the child listed %d threads, want several (a Go process has more than one): %q", len(lines), out)
	}
	for i, v := range lines {
		if v != "7" {
			t.Errorf("thread %d of %d has nice %s, want 7", i+1, len(lines), v)
		}
	}
	for _, n := range []int{-1, 20} {
		if err := LowerPriority(n); err == nil {
			t.Errorf("LowerPriority(%d) succeeded", n)
		}
	}
}

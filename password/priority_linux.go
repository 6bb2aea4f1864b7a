package password

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"syscall"
)

// LowerPriority sets the nice value of every thread of this process to
// nice (0 to 19; higher runs later), as a hash worker process does at its
// start: then the server's own threads, at nice 0, run as soon as they
// wake, and the hashes take the CPU time they leave. On Linux a nice value
// belongs to a thread, and a new thread inherits its creator's, so once
// every thread has it every later one does too; the threads are listed
// again until no new one appeared.
func LowerPriority(nice int) error {
	if nice < 0 || nice > 19 {
		return fmt.Errorf("password: nice value %d is not from 0 to 19", nice)
	}
	var done []int
	for range 10 {
		tids, err := threads()
		if err != nil {
			return err
		}
		fresh := false
		for _, tid := range tids {
			if slices.Contains(done, tid) {
				continue
			}
			if err := syscall.Setpriority(syscall.PRIO_PROCESS, tid, nice); err != nil && err != syscall.ESRCH {
				return fmt.Errorf("password: lower the priority of thread %d: %w", tid, err)
			}
			done, fresh = append(done, tid), true
		}
		if !fresh {
			return nil
		}
	}
	return fmt.Errorf("password: this process kept starting threads while its priority was lowered")
}

// threads lists the IDs of this process's threads.
func threads() ([]int, error) {
	entries, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return nil, fmt.Errorf("password: list this process's threads: %w", err)
	}
	tids := make([]int, 0, len(entries))
	for _, e := range entries {
		if tid, err := strconv.Atoi(e.Name()); err == nil {
			tids = append(tids, tid)
		}
	}
	return tids, nil
}

package password

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"sync"
	"time"

	"golang.org/x/crypto/argon2"
)

// Worker processes. argon2id is a few tens of milliseconds of CPU that
// the Go scheduler cannot interrupt but every 10 ms: when hashes hold
// every P of the process, a token or JWKS request that arrives waits for
// a preemption, several times over, and its p99 grows from milliseconds
// to a hundred (docs/benchmarks.md). In processes of their own the hashes
// are threads the kernel schedules, and a request's thread is run as soon
// as it wakes. Workers keeps such processes, one hash at a time each,
// speaking a small binary protocol over their standard input and output:
//
//	request:  u32 len(pw) | pw | u32 len(salt) | salt | u32 time | u32 memory | u8 threads | u32 keyLen
//	response: keyLen bytes of key
//
// all integers big-endian. A worker that answers anything else, or dies,
// is replaced, and the hash it was running fails.

// Bounds a worker checks before hashing: a request past them ends the
// worker (its parent never sends one).
const (
	maxWorkerPassword = 64 << 10 // bytes, after NFKC (which can expand MaxInputBytes)
)

// ServeHashes answers hash requests read from r with keys written to w,
// one at a time, until r ends (nil) or a request is malformed. It is the
// whole of a worker process: `gatehouse hash-worker` calls it on its
// standard input and output.
func ServeHashes(r io.Reader, w io.Writer) error {
	br, bw := bufio.NewReader(r), bufio.NewWriter(w)
	for {
		pw, salt, p, n, err := readRequest(br)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if _, err := bw.Write(argon2.IDKey(pw, salt, p.Time, p.Memory, p.Threads, n)); err != nil {
			return err
		}
		if err := bw.Flush(); err != nil {
			return err
		}
	}
}

func readRequest(r *bufio.Reader) (pw, salt []byte, p Params, keyLen uint32, err error) {
	var n uint32
	if err = binary.Read(r, binary.BigEndian, &n); err != nil {
		return // io.EOF at a request's start: the parent closed the pipe
	}
	bad := func(what string) error { return fmt.Errorf("password: hash request: %s", what) }
	if n > maxWorkerPassword {
		return nil, nil, p, 0, bad("password too long")
	}
	pw = make([]byte, n)
	if _, err = io.ReadFull(r, pw); err != nil {
		return nil, nil, p, 0, bad("truncated")
	}
	if err = binary.Read(r, binary.BigEndian, &n); err != nil || n < minSaltLen || n > maxSaltLen {
		return nil, nil, p, 0, bad("salt length")
	}
	salt = make([]byte, n)
	var tail struct {
		Time, Memory uint32
		Threads      uint8
		KeyLen       uint32
	}
	if _, err = io.ReadFull(r, salt); err != nil {
		return nil, nil, p, 0, bad("truncated")
	}
	if err = binary.Read(r, binary.BigEndian, &tail); err != nil {
		return nil, nil, p, 0, bad("truncated")
	}
	p = Params{Memory: tail.Memory, Time: tail.Time, Threads: tail.Threads}
	if p.Memory < 8*uint32(max(p.Threads, 1)) || p.Memory > maxMemory || p.Time < 1 || p.Time > maxTime || p.Threads < 1 ||
		tail.KeyLen < minKeyLen || tail.KeyLen > maxKeyLen {
		return nil, nil, p, 0, bad("parameters out of bounds")
	}
	return pw, salt, p, tail.KeyLen, nil
}

// Workers is a pool of worker processes for a Hasher
// (NewProcessHasher). Its processes are started by command, which must
// return a new, unstarted command that runs ServeHashes on its standard
// input and output (`gatehouse hash-worker`).
type Workers struct {
	command func() *exec.Cmd
	idle    chan *workerProc

	mu     sync.Mutex
	all    map[*workerProc]bool
	closed bool
}

type workerProc struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
}

// StartWorkers starts n worker processes (at least one) with command.
func StartWorkers(n int, command func() *exec.Cmd) (*Workers, error) {
	n = max(n, 1)
	ws := &Workers{command: command, idle: make(chan *workerProc, n), all: map[*workerProc]bool{}}
	for range n {
		p, err := ws.start()
		if err != nil {
			ws.Close()
			return nil, err
		}
		ws.idle <- p
	}
	return ws, nil
}

// checkTimeout bounds Check: a worker that has not answered a small hash
// by then is not working.
const checkTimeout = 10 * time.Second

// Check asks every worker for a small hash (64 KiB, one pass) and
// compares the answer with this process's own, so that a command that is
// not a hash worker, or one that dies at its start, is found before the
// first sign-in rather than by it. After an error, Close ws: a worker
// that did not answer may still hold a goroutine of Check.
func (ws *Workers) Check() error {
	pw, salt := []byte("gatehouse hash worker check"), []byte("check-salt-16byt")
	const passes, memory, threads, keyLen = 1, 64, 1, 32
	want := argon2.IDKey(pw, salt, passes, memory, threads, keyLen)
	for i := range ws.Len() {
		done := make(chan error, 1)
		go func() {
			key, err := ws.key(pw, salt, passes, memory, threads, keyLen)
			if err == nil && !bytes.Equal(key, want) {
				err = errors.New("it answered a wrong key")
			}
			done <- err
		}()
		select {
		case err := <-done:
			if err != nil {
				return fmt.Errorf("password: hash worker %d of %d: %w", i+1, ws.Len(), err)
			}
		case <-timeAfter(checkTimeout):
			return fmt.Errorf("password: hash worker %d of %d did not answer within %s", i+1, ws.Len(), checkTimeout)
		}
	}
	return nil
}

// timeAfter is time.After, replaced in tests.
var timeAfter = time.After

// Len returns how many processes ws has.
func (ws *Workers) Len() int { return cap(ws.idle) }

func (ws *Workers) start() (*workerProc, error) {
	cmd := ws.command()
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("password: hash worker: %w", err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("password: hash worker: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("password: start hash worker: %w", err)
	}
	p := &workerProc{cmd: cmd, in: in, out: bufio.NewReader(out)}
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if ws.closed {
		p.stop()
		return nil, errors.New("password: hash workers closed")
	}
	ws.all[p] = true
	return p, nil
}

// stop ends the process: closing its input ends ServeHashes; Kill covers
// a worker that hangs.
func (p *workerProc) stop() {
	p.in.Close()
	p.cmd.Process.Kill()
	p.cmd.Wait()
}

// workerTimeout is how long a worker may take for a hash beyond the
// hash's own work (workerTimePerKiB for each KiB of each pass: some
// twenty times what argon2id takes here); a worker slower than that is
// killed, and the hash fails. Replaced in tests.
var workerTimeout = 30 * time.Second

const workerTimePerKiB = 10 * time.Microsecond

// key runs one hash on an idle worker. The Hasher's pool lets at most
// Len hashes run at once, so a worker is always idle. A worker that does
// not answer in time is killed, which ends the hash with an error.
func (ws *Workers) key(pw, salt []byte, passes, memory uint32, threads uint8, keyLen uint32) ([]byte, error) {
	p := <-ws.idle
	var timer *time.Timer
	limit := workerTimeout + time.Duration(passes)*time.Duration(memory)*workerTimePerKiB
	if p.cmd != nil {
		proc := p.cmd.Process
		timer = time.AfterFunc(limit, func() { proc.Kill() })
	}
	key, err := p.hash(pw, salt, passes, memory, threads, keyLen)
	if timer != nil && !timer.Stop() {
		// Killed: even if it answered just then, the next hash would
		// meet a dead process, so it is replaced now.
		err = fmt.Errorf("it did not answer within %s and was killed", limit)
	}
	if err == nil {
		ws.idle <- p
		return key, nil
	}
	// Replace the worker; its hash fails.
	ws.mu.Lock()
	delete(ws.all, p)
	ws.mu.Unlock()
	if p.cmd != nil {
		p.stop()
	}
	np, serr := ws.start()
	if serr != nil {
		// Keep the slot: the next hash tries to start one again.
		np = &workerProc{}
	}
	ws.idle <- np
	return nil, fmt.Errorf("password: hash worker failed: %w", err)
}

func (p *workerProc) hash(pw, salt []byte, time, memory uint32, threads uint8, keyLen uint32) ([]byte, error) {
	if p.cmd == nil {
		return nil, errors.New("no worker process running")
	}
	req := make([]byte, 0, 4+len(pw)+4+len(salt)+13)
	req = binary.BigEndian.AppendUint32(req, uint32(len(pw)))
	req = append(req, pw...)
	req = binary.BigEndian.AppendUint32(req, uint32(len(salt)))
	req = append(req, salt...)
	req = binary.BigEndian.AppendUint32(req, time)
	req = binary.BigEndian.AppendUint32(req, memory)
	req = append(req, threads)
	req = binary.BigEndian.AppendUint32(req, keyLen)
	_, err := p.in.Write(req)
	clear(req) // the password
	if err != nil {
		return nil, err
	}
	key := make([]byte, keyLen)
	if _, err := io.ReadFull(p.out, key); err != nil {
		return nil, err
	}
	return key, nil
}

// Close stops every worker process. Hashes running then fail.
func (ws *Workers) Close() error {
	ws.mu.Lock()
	ws.closed = true
	procs := make([]*workerProc, 0, len(ws.all))
	for p := range ws.all {
		procs = append(procs, p)
	}
	clear(ws.all)
	ws.mu.Unlock()
	for _, p := range procs {
		p.stop()
	}
	return nil
}

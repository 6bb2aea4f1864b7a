package password

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/gatehouse/gatehouse"
	"golang.org/x/crypto/argon2"
)

// Params are argon2id cost parameters.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8  // lanes
}

// DefaultParams are the OWASP minimum for argon2id (PW-10): 19 MiB, two
// passes, one lane. A Hasher never uses less.
var DefaultParams = Params{Memory: 19456, Time: 2, Threads: 1}

const (
	saltLen = 16 // bytes, 128 bits
	keyLen  = 32 // bytes

	// Bounds on the parameters of a stored hash, so that a damaged or
	// planted hash cannot make one verification take unbounded memory or
	// time.
	maxMemory  = 1 << 20 // KiB: 1 GiB
	maxTime    = 100
	minSaltLen = 8
	maxSaltLen = 64
	minKeyLen  = 16
	maxKeyLen  = 64
)

// Hasher hashes and verifies passwords with argon2id in a bounded pool:
// at most workers hashes run at once (each holds Params.Memory of memory)
// and at most queue calls wait for a worker; past that, Hash and Verify
// fail at once with EBUSY. It is safe for concurrent use.
type Hasher struct {
	params Params
	admit  chan struct{} // one token per call running or waiting
	run    chan struct{} // one token per running hash
	busy   atomic.Int64
	wait   atomic.Int64
	done   atomic.Int64 // hashes computed
	// key derives the hash: argon2.IDKey in this process, or in a worker
	// process (NewProcessHasher), or a stand-in in tests.
	key func(pw, salt []byte, time, memory uint32, threads uint8, keyLen uint32) ([]byte, error)
}

// NewHasher returns a Hasher with parameters p, each raised to
// DefaultParams' if it is lower, running at most workers hashes at once
// (runtime.GOMAXPROCS(0) if workers <= 0) and letting at most queue more
// calls wait.
func NewHasher(p Params, workers, queue int) *Hasher {
	p.Memory = max(p.Memory, DefaultParams.Memory)
	p.Time = max(p.Time, DefaultParams.Time)
	p.Threads = max(p.Threads, DefaultParams.Threads)
	return newHasher(p, workers, queue)
}

func newHasher(p Params, workers, queue int) *Hasher {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	queue = max(queue, 0)
	return &Hasher{
		params: p,
		admit:  make(chan struct{}, workers+queue),
		run:    make(chan struct{}, workers),
		key:    inProcess,
	}
}

func inProcess(pw, salt []byte, time, memory uint32, threads uint8, keyLen uint32) ([]byte, error) {
	return argon2.IDKey(pw, salt, time, memory, threads, keyLen), nil
}

// NewProcessHasher is NewHasher with the hashes run by ws's worker
// processes (worker.go), as many at once as ws has processes.
func NewProcessHasher(p Params, queue int, ws *Workers) *Hasher {
	h := NewHasher(p, ws.Len(), queue)
	h.key = ws.key
	return h
}

// Params returns the parameters h hashes with.
func (h *Hasher) Params() Params { return h.params }

// Stats returns how many hashes are running and how many calls wait for a
// worker, for metrics.
func (h *Hasher) Stats() (busy, waiting int) {
	return int(h.busy.Load()), int(h.wait.Load())
}

// Computed returns how many hashes h has computed, Hash's and Verify's
// alike, for metrics: a counter of argon2id runs.
func (h *Hasher) Computed() int64 { return h.done.Load() }

// Hash returns the PHC string of argon2id over the NFKC form of pw with a
// random 16-byte salt:
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>
//
// It returns an EINVALID error (Reason ReasonTooLong) for a pw longer than
// MaxInputBytes without hashing it, EBUSY when the pool is full, and
// ctx's error if ctx ends while it waits for a worker. Hash does not apply
// a Policy.
func (h *Hasher) Hash(ctx context.Context, pw string) (string, error) {
	if len(pw) > MaxInputBytes {
		return "", errInputTooLong()
	}
	salt := make([]byte, saltLen)
	rand.Read(salt)
	key, err := h.derive(ctx, []byte(Normalize(pw)), salt, h.params, keyLen)
	if err != nil {
		return "", err
	}
	return encode(h.params, salt, key), nil
}

// Verify reports whether pw, after NFKC normalisation, matches encoded, a
// PHC string from Hash, comparing in constant time. needsRehash is true
// when pw matches and encoded's parameters, salt or hash length are below
// h's: the caller should then store Hash(pw).
//
// An empty encoded stands for an unknown account: Verify runs a full hash
// with h's parameters and returns false, so that unknown and known
// accounts take the same time (RL-4). A malformed encoded is an internal
// error. Verify returns the same EINVALID, EBUSY and ctx errors as Hash.
func (h *Hasher) Verify(ctx context.Context, encoded, pw string) (ok, needsRehash bool, err error) {
	if len(pw) > MaxInputBytes {
		return false, false, errInputTooLong()
	}
	if encoded == "" {
		salt := make([]byte, saltLen)
		_, err := h.derive(ctx, []byte(Normalize(pw)), salt, h.params, keyLen)
		return false, false, err
	}
	p, salt, want, err := decode(encoded)
	if err != nil {
		return false, false, err
	}
	got, err := h.derive(ctx, []byte(Normalize(pw)), salt, p, uint32(len(want)))
	if err != nil {
		return false, false, err
	}
	ok = subtle.ConstantTimeCompare(got, want) == 1
	weaker := p.Memory < h.params.Memory || p.Time < h.params.Time || p.Threads < h.params.Threads ||
		len(salt) < saltLen || len(want) < keyLen
	return ok, ok && weaker, nil
}

// derive runs argon2id in the pool.
func (h *Hasher) derive(ctx context.Context, pw, salt []byte, p Params, n uint32) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	select {
	case h.admit <- struct{}{}:
	default:
		return nil, gatehouse.Errorf(gatehouse.EBUSY, "The server is busy; try again in a moment.")
	}
	defer func() { <-h.admit }()

	h.wait.Add(1)
	select {
	case h.run <- struct{}{}:
		h.wait.Add(-1)
	case <-ctx.Done():
		h.wait.Add(-1)
		return nil, ctx.Err()
	}
	h.busy.Add(1)
	defer func() {
		h.busy.Add(-1)
		<-h.run
	}()
	key, err := h.key(pw, salt, p.Time, p.Memory, p.Threads, n)
	if err != nil {
		return nil, err
	}
	h.done.Add(1)
	return key, nil
}

func errInputTooLong() error {
	return policyError(ReasonTooLong, "The password is longer than %d bytes.", MaxInputBytes)
}

var b64 = base64.RawStdEncoding.Strict()

func encode(p Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// decode parses a PHC string written by encode. Its errors are internal:
// they mean the stored hash is damaged, not that the password is wrong.
func decode(s string) (p Params, salt, key []byte, err error) {
	malformed := func(what string) error {
		return fmt.Errorf("password: malformed password hash: %s", what)
	}
	if strings.IndexFunc(s, func(r rune) bool { return r <= ' ' || r > '~' }) >= 0 {
		return p, nil, nil, malformed("unexpected characters") // base64 decoding skips line breaks
	}
	f := strings.Split(s, "$")
	if len(f) != 6 || f[0] != "" {
		return p, nil, nil, malformed("not a PHC string")
	}
	if f[1] != "argon2id" {
		return p, nil, nil, malformed(fmt.Sprintf("algorithm %.20q is not argon2id", f[1]))
	}
	if f[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, nil, nil, malformed(fmt.Sprintf("version %.20q is not supported", f[2]))
	}
	ps := strings.Split(f[3], ",")
	if len(ps) != 3 {
		return p, nil, nil, malformed("parameters are not m,t,p")
	}
	var v [3]uint64
	for i, name := range []string{"m=", "t=", "p="} {
		num, found := strings.CutPrefix(ps[i], name)
		if !found {
			return p, nil, nil, malformed("parameters are not m,t,p")
		}
		if v[i], err = strconv.ParseUint(num, 10, 32); err != nil || (len(num) > 1 && num[0] == '0') {
			return p, nil, nil, malformed("parameter " + name + " is not a number")
		}
	}
	p = Params{Memory: uint32(v[0]), Time: uint32(v[1]), Threads: uint8(v[2])}
	switch {
	case v[2] < 1 || v[2] > 255:
		return p, nil, nil, malformed("parallelism out of range")
	case v[1] < 1 || v[1] > maxTime:
		return p, nil, nil, malformed("time out of range")
	case v[0] < 8*v[2] || v[0] > maxMemory:
		return p, nil, nil, malformed("memory out of range")
	}
	if salt, err = b64.DecodeString(f[4]); err != nil || len(salt) < minSaltLen || len(salt) > maxSaltLen {
		return p, nil, nil, malformed("bad salt")
	}
	if key, err = b64.DecodeString(f[5]); err != nil || len(key) < minKeyLen || len(key) > maxKeyLen {
		return p, nil, nil, malformed("bad hash")
	}
	return p, salt, key, nil
}

const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// Generate returns a random 20-character password of letters and digits
// (about 119 bits) that passes the default Policy.
func Generate() (string, error) {
	const n = 20
	limit := 256 - 256%len(alphabet) // reject bytes that would bias the choice
	for {
		out := make([]byte, 0, n)
		buf := make([]byte, 2*n)
		for len(out) < n {
			if _, err := rand.Read(buf); err != nil {
				return "", fmt.Errorf("password: %w", err)
			}
			for _, b := range buf {
				if int(b) < limit && len(out) < n {
					out = append(out, alphabet[int(b)%len(alphabet)])
				}
			}
		}
		if pw := string(out); (Policy{}).Check(pw) == nil {
			return pw, nil
		}
	}
}

package password

import (
	"context"
	"crypto/rand"
	"errors"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/gatehouse/gatehouse"
	"golang.org/x/crypto/argon2"
)

var phcRE = regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)

func TestHashFormat(t *testing.T) {
	h := NewHasher(DefaultParams, 0, 0)
	ctx := t.Context()
	enc, err := h.Hash(ctx, "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if !phcRE.MatchString(enc) {
		t.Fatalf("Hash = %q, want a PHC string matching %s", enc, phcRE)
	}
	// The hash is argon2id over the password with the parameters and salt
	// the string names, computed here independently of decode.
	f := strings.Split(enc, "$")
	salt, _ := b64.DecodeString(f[4])
	want := b64.EncodeToString(argon2.IDKey([]byte("correct horse battery staple"), salt, 2, 19456, 1, 32))
	if f[5] != want {
		t.Errorf("hash field = %s, want argon2id(pw, salt) = %s", f[5], want)
	}
	again, err := h.Hash(ctx, "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if again == enc || strings.Split(again, "$")[4] == f[4] {
		t.Errorf("two hashes of one password share a salt: %q, %q", enc, again)
	}
}

func TestVerify(t *testing.T) {
	h := NewHasher(DefaultParams, 0, 0)
	ctx := t.Context()
	long := strings.Repeat("x", 72)
	hash := func(pw string) string {
		t.Helper()
		enc, err := h.Hash(ctx, pw)
		if err != nil {
			t.Fatal(err)
		}
		return enc
	}
	for _, tc := range []struct {
		name   string
		stored string // password hashed and stored
		given  string // password presented
		want   bool
	}{
		{"same", "correct horse battery staple", "correct horse battery staple", true},
		{"wrong", "correct horse battery staple", "correct horse battery stapler", false},
		{"case matters", "Correct Horse", "correct horse", false},
		{"empty given", "correct horse battery staple", "", false},
		// PW-5: no truncation at 72 bytes (as bcrypt would).
		{"equal in the first 72 bytes", long + "A", long + "B", false},
		{"72-byte prefix only", long + "A", long, false},
		// PW-6: NFKC-equivalent forms verify.
		{"ligature vs letters", "\ufb01nally-secret", "finally-secret", true},
		{"letters vs ligature", "finally-secret", "\ufb01nally-secret", true},
		{"full width vs ASCII", "ｓｅｃｒｅｔ-ｐａｓｓ", "secret-pass", true},
		{"decomposed vs composed", "caf\u0065\u0301-latte", "caf\u00e9-latte", true},
		{"1024 bytes", strings.Repeat("z", MaxInputBytes), strings.Repeat("z", MaxInputBytes), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ok, rehash, err := h.Verify(ctx, hash(tc.stored), tc.given)
			if err != nil {
				t.Fatal(err)
			}
			if ok != tc.want || rehash {
				t.Errorf("Verify = %v, %v; want %v, false", ok, rehash, tc.want)
			}
		})
	}
}

// countingHasher returns a Hasher whose key derivation is counted and
// records the parameters it was called with.
func countingHasher(p Params, calls *[]Params) *Hasher {
	h := newHasher(p, 1, 0)
	h.key = func(pw, salt []byte, time, memory uint32, threads uint8, n uint32) ([]byte, error) {
		*calls = append(*calls, Params{Memory: memory, Time: time, Threads: threads})
		return argon2.IDKey(pw, salt, time, memory, threads, n), nil
	}
	return h
}

func TestInputTooLongRefusedBeforeHashing(t *testing.T) {
	var calls []Params
	h := countingHasher(DefaultParams, &calls)
	ctx := t.Context()
	stored, err := h.Hash(ctx, "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	calls = nil
	tooLong := strings.Repeat("a", MaxInputBytes+1)

	_, err = h.Hash(ctx, tooLong)
	checkTooLong(t, "Hash", err)
	for _, enc := range []string{stored, ""} {
		ok, _, err := h.Verify(ctx, enc, tooLong)
		if ok {
			t.Errorf("Verify(%q, 1025 bytes) = true", enc)
		}
		checkTooLong(t, "Verify", err)
	}
	if len(calls) != 0 {
		t.Errorf("argon2 ran %d times for over-long inputs, want 0", len(calls))
	}
}

func checkTooLong(t *testing.T, what string, err error) {
	t.Helper()
	var e *gatehouse.Error
	if !errors.As(err, &e) || e.Code != gatehouse.EINVALID || e.Reason != ReasonTooLong {
		t.Errorf("%s(1025 bytes) error = %v, want EINVALID %s", what, err, ReasonTooLong)
	}
}

func TestVerifyUnknownAccount(t *testing.T) {
	var calls []Params
	p := Params{Memory: 32768, Time: 3, Threads: 2}
	h := countingHasher(p, &calls)
	for _, pw := range []string{"", "correct horse battery staple"} {
		calls = nil
		ok, rehash, err := h.Verify(t.Context(), "", pw)
		if ok || rehash || err != nil {
			t.Errorf("Verify(\"\", %q) = %v, %v, %v; want false, false, nil", pw, ok, rehash, err)
		}
		// A full hash with the current parameters, as for a known account.
		if len(calls) != 1 || calls[0] != p {
			t.Errorf("Verify(\"\", %q) ran argon2 with %v, want once with %v", pw, calls, p)
		}
	}
}

func TestVerifyNeedsRehash(t *testing.T) {
	h := NewHasher(DefaultParams, 0, 0)
	const pw = "correct horse battery staple"
	stored := func(p Params, saltLen, keyLen int) string {
		salt := make([]byte, saltLen)
		rand.Read(salt)
		return encode(p, salt, argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, uint32(keyLen)))
	}
	d := DefaultParams
	for _, tc := range []struct {
		name   string
		stored string
		given  string
		ok     bool
		rehash bool
	}{
		{"current", stored(d, 16, 32), pw, true, false},
		{"less memory", stored(Params{Memory: 4096, Time: 2, Threads: 1}, 16, 32), pw, true, true},
		{"fewer passes", stored(Params{Memory: 19456, Time: 1, Threads: 1}, 16, 32), pw, true, true},
		{"short salt", stored(d, 8, 32), pw, true, true},
		{"short hash", stored(d, 16, 16), pw, true, true},
		{"more memory", stored(Params{Memory: 24576, Time: 2, Threads: 1}, 16, 32), pw, true, false},
		{"more passes", stored(Params{Memory: 19456, Time: 3, Threads: 1}, 16, 32), pw, true, false},
		{"more lanes", stored(Params{Memory: 19456, Time: 2, Threads: 2}, 16, 32), pw, true, false},
		{"weak but wrong password", stored(Params{Memory: 4096, Time: 1, Threads: 1}, 16, 32), "wrong", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ok, rehash, err := h.Verify(t.Context(), tc.stored, tc.given)
			if err != nil {
				t.Fatal(err)
			}
			if ok != tc.ok || rehash != tc.rehash {
				t.Errorf("Verify = %v, %v; want %v, %v", ok, rehash, tc.ok, tc.rehash)
			}
		})
	}

	// More lanes on the hasher make stored single-lane hashes out of date.
	h2 := newHasher(Params{Memory: 19456, Time: 2, Threads: 2}, 0, 0)
	if ok, rehash, err := h2.Verify(t.Context(), stored(d, 16, 32), pw); !ok || !rehash || err != nil {
		t.Errorf("Verify with a 2-lane hasher = %v, %v, %v; want true, true, nil", ok, rehash, err)
	}
}

func TestVerifyMalformed(t *testing.T) {
	var calls []Params
	h := countingHasher(DefaultParams, &calls)
	salt := b64.EncodeToString(make([]byte, 16))
	key := b64.EncodeToString(make([]byte, 32))
	phc := func(alg, v, params, salt, key string) string {
		return "$" + alg + "$" + v + "$" + params + "$" + salt + "$" + key
	}
	good := phc("argon2id", "v=19", "m=19456,t=2,p=1", salt, key)
	if _, _, _, err := decode(good); err != nil {
		t.Fatalf("decode(%q): %v", good, err)
	}
	for _, enc := range []string{
		"garbage",
		"$argon2id$",
		"$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",
		good[1:],
		good + "$",
		good + "\n",
		phc("argon2i", "v=19", "m=19456,t=2,p=1", salt, key),
		phc("argon2d", "v=19", "m=19456,t=2,p=1", salt, key),
		phc("ARGON2ID", "v=19", "m=19456,t=2,p=1", salt, key),
		phc("argon2id", "v=16", "m=19456,t=2,p=1", salt, key),
		phc("argon2id", "", "m=19456,t=2,p=1", salt, key),
		phc("argon2id", "v=19", "t=2,m=19456,p=1", salt, key),
		phc("argon2id", "v=19", "m=19456,t=2", salt, key),
		phc("argon2id", "v=19", "m=19456,t=2,p=1,k=1", salt, key),
		phc("argon2id", "v=19", "m=0,t=2,p=1", salt, key),
		phc("argon2id", "v=19", "m=7,t=1,p=1", salt, key),
		phc("argon2id", "v=19", "m=19456,t=0,p=1", salt, key),
		phc("argon2id", "v=19", "m=19456,t=2,p=0", salt, key),
		phc("argon2id", "v=19", "m=19456,t=2,p=256", salt, key),
		phc("argon2id", "v=19", "m=4294967295,t=2,p=1", salt, key), // 4 TiB
		phc("argon2id", "v=19", "m=19456,t=1000000,p=1", salt, key),
		phc("argon2id", "v=19", "m=19456,t=-2,p=1", salt, key),
		phc("argon2id", "v=19", "m=+19456,t=2,p=1", salt, key),
		phc("argon2id", "v=19", "m=019456,t=2,p=1", salt, key),
		phc("argon2id", "v=19", "m=19456,t=2,p=1", "", key),
		phc("argon2id", "v=19", "m=19456,t=2,p=1", salt+"==", key),
		phc("argon2id", "v=19", "m=19456,t=2,p=1", "!!!!", key),
		phc("argon2id", "v=19", "m=19456,t=2,p=1", b64.EncodeToString(make([]byte, 7)), key),
		phc("argon2id", "v=19", "m=19456,t=2,p=1", salt, ""),
		phc("argon2id", "v=19", "m=19456,t=2,p=1", salt, b64.EncodeToString(make([]byte, 15))),
		phc("argon2id", "v=19", "m=19456,t=2,p=1", salt, b64.EncodeToString(make([]byte, 65))),
	} {
		calls = nil
		ok, rehash, err := h.Verify(t.Context(), enc, "password")
		if ok || rehash || err == nil {
			t.Errorf("Verify(%q) = %v, %v, %v; want an error", enc, ok, rehash, err)
			continue
		}
		if code := gatehouse.ErrorCode(err); code != gatehouse.EINTERNAL {
			t.Errorf("Verify(%q) error code = %q, want %q", enc, code, gatehouse.EINTERNAL)
		}
		if len(calls) != 0 {
			t.Errorf("Verify(%q) ran argon2 %v", enc, calls)
		}
	}
}

func TestNewHasherRaisesParams(t *testing.T) {
	for _, tc := range []struct{ in, want Params }{
		{Params{}, DefaultParams},
		{Params{Memory: 1024, Time: 1, Threads: 1}, DefaultParams},
		{Params{Memory: 65536}, Params{Memory: 65536, Time: 2, Threads: 1}},
		{Params{Memory: 47104, Time: 1, Threads: 4}, Params{Memory: 47104, Time: 2, Threads: 4}},
	} {
		if got := NewHasher(tc.in, 1, 0).Params(); got != tc.want {
			t.Errorf("NewHasher(%+v).Params() = %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

// gatedHasher returns a Hasher whose every hash announces itself on the
// returned channel and then blocks until the channel it sent is closed.
func gatedHasher(workers, queue int) (*Hasher, chan chan struct{}) {
	h := newHasher(DefaultParams, workers, queue)
	calls := make(chan chan struct{})
	h.key = func(pw, salt []byte, time, memory uint32, threads uint8, n uint32) ([]byte, error) {
		release := make(chan struct{})
		calls <- release
		<-release
		return make([]byte, n), nil
	}
	return h, calls
}

type result struct {
	hash string
	err  error
}

func goHash(ctx context.Context, h *Hasher) chan result {
	c := make(chan result, 1)
	go func() {
		hash, err := h.Hash(ctx, "correct horse battery staple")
		c <- result{hash, err}
	}()
	return c
}

func checkStats(t *testing.T, h *Hasher, busy, waiting int) {
	t.Helper()
	if b, w := h.Stats(); b != busy || w != waiting {
		t.Errorf("Stats() = %d, %d; want %d, %d", b, w, busy, waiting)
	}
}

// waitForWaiters yields until n calls wait for a worker. It does not sleep:
// a call that never starts waiting makes the test time out.
func waitForWaiters(h *Hasher, n int) {
	for {
		if _, w := h.Stats(); w == n {
			return
		}
		runtime.Gosched()
	}
}

func checkBusy(t *testing.T, err error) {
	t.Helper()
	if code := gatehouse.ErrorCode(err); code != gatehouse.EBUSY {
		t.Errorf("error = %v, want code %s", err, gatehouse.EBUSY)
	}
}

func TestPoolFullIsBusy(t *testing.T) {
	h, calls := gatedHasher(1, 0)
	ctx := t.Context()
	checkStats(t, h, 0, 0)

	a := goHash(ctx, h)
	releaseA := <-calls // a holds the only worker
	checkStats(t, h, 1, 0)

	_, err := h.Hash(ctx, "correct horse battery staple")
	checkBusy(t, err)
	_, _, err = h.Verify(ctx, "", "correct horse battery staple")
	checkBusy(t, err)
	checkStats(t, h, 1, 0)

	close(releaseA)
	if r := <-a; r.err != nil {
		t.Fatalf("the running Hash failed: %v", r.err)
	}
	checkStats(t, h, 0, 0)

	// The worker is free again.
	b := goHash(ctx, h)
	close(<-calls)
	if r := <-b; r.err != nil {
		t.Errorf("Hash after the pool drained: %v", r.err)
	}
}

func TestPoolQueue(t *testing.T) {
	h, calls := gatedHasher(1, 1)
	ctx := t.Context()

	a := goHash(ctx, h)
	releaseA := <-calls

	// b waits for the worker and can give up.
	ctxB, cancelB := context.WithCancel(ctx)
	b := goHash(ctxB, h)
	waitForWaiters(h, 1)
	checkStats(t, h, 1, 1)
	_, err := h.Hash(ctx, "correct horse battery staple") // worker busy, queue full
	checkBusy(t, err)
	cancelB()
	if r := <-b; !errors.Is(r.err, context.Canceled) {
		t.Errorf("cancelled waiting Hash = %q, %v; want context.Canceled", r.hash, r.err)
	}
	checkStats(t, h, 1, 0)

	// c takes b's place in the queue and runs when a finishes.
	c := goHash(ctx, h)
	waitForWaiters(h, 1)
	close(releaseA)
	if r := <-a; r.err != nil {
		t.Fatalf("a: %v", r.err)
	}
	close(<-calls)
	if r := <-c; r.err != nil || !strings.HasPrefix(r.hash, "$argon2id$") {
		t.Errorf("queued Hash = %q, %v; want a hash", r.hash, r.err)
	}
	checkStats(t, h, 0, 0)
}

func TestCancelledContext(t *testing.T) {
	var calls []Params
	h := countingHasher(DefaultParams, &calls)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := h.Hash(ctx, "correct horse battery staple"); !errors.Is(err, context.Canceled) {
		t.Errorf("Hash with a cancelled context = %v, want context.Canceled", err)
	}
	if _, _, err := h.Verify(ctx, "", "correct horse battery staple"); !errors.Is(err, context.Canceled) {
		t.Errorf("Verify with a cancelled context = %v, want context.Canceled", err)
	}
	if len(calls) != 0 {
		t.Errorf("argon2 ran %d times with a cancelled context", len(calls))
	}
}

func TestPoolConcurrent(t *testing.T) {
	// Many callers, few workers, a queue that holds them all: every call
	// completes and at most `workers` hashes ever run at once.
	const workers, callers = 2, 32
	h := newHasher(DefaultParams, workers, callers)
	var mu sync.Mutex
	running, peak := 0, 0
	h.key = func(pw, salt []byte, time, memory uint32, threads uint8, n uint32) ([]byte, error) {
		mu.Lock()
		running++
		peak = max(peak, running)
		mu.Unlock()
		runtime.Gosched()
		mu.Lock()
		running--
		mu.Unlock()
		return argon2.IDKey(pw, salt, 1, 8, 1, n), nil
	}
	var wg sync.WaitGroup
	for range callers {
		wg.Go(func() {
			enc, err := h.Hash(t.Context(), "correct horse battery staple")
			if err != nil {
				t.Errorf("Hash: %v", err)
				return
			}
			if ok, _, err := h.Verify(t.Context(), enc, "correct horse battery staple"); !ok || err != nil {
				t.Errorf("Verify = %v, %v", ok, err)
			}
		})
	}
	wg.Wait()
	if peak > workers || peak == 0 {
		t.Errorf("peak concurrent hashes = %d, want 1..%d", peak, workers)
	}
	checkStats(t, h, 0, 0)
}

// BenchmarkHash measures raw argon2id with DefaultParams on one core.
func BenchmarkHash(b *testing.B) {
	pw := []byte("correct horse battery staple")
	salt := make([]byte, saltLen)
	p := DefaultParams
	n := 0
	for b.Loop() {
		argon2.IDKey(pw, salt, p.Time, p.Memory, p.Threads, keyLen)
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "hashes/s")
}

// BenchmarkHasherParallel measures Hash through the pool with one worker
// per core: the sign-in capacity of one node.
func BenchmarkHasherParallel(b *testing.B) {
	h := NewHasher(DefaultParams, 0, 1<<16)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := h.Hash(context.Background(), "correct horse battery staple"); err != nil {
				b.Error(err)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "hashes/s")
}

// TestComputedCountsHashes: Computed counts every argon2id run, of Hash
// and of Verify, known and unknown accounts alike, and nothing else.
func TestComputedCountsHashes(t *testing.T) {
	var calls []Params
	h := countingHasher(DefaultParams, &calls)
	ctx := t.Context()
	stored, err := h.Hash(ctx, "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	for _, enc := range []string{stored, ""} {
		if _, _, err := h.Verify(ctx, enc, "correct horse battery staple"); err != nil {
			t.Fatal(err)
		}
	}
	_, _, _ = h.Verify(ctx, stored, strings.Repeat("a", MaxInputBytes+1))
	if got := h.Computed(); got != 3 || len(calls) != 3 {
		t.Errorf("Computed() = %d after %d argon2 runs, want 3 and 3", got, len(calls))
	}

	g, gate := gatedHasher(1, 0)
	a := goHash(ctx, g)
	release := <-gate
	if _, err := g.Hash(ctx, "correct horse battery staple"); gatehouse.ErrorCode(err) != gatehouse.EBUSY {
		t.Fatalf("Hash on a full pool: %v, want EBUSY", err)
	}
	if got := g.Computed(); got != 0 {
		t.Errorf("Computed() = %d while the only hash runs and another was refused, want 0", got)
	}
	close(release)
	<-a
	if got := g.Computed(); got != 1 {
		t.Errorf("Computed() = %d after one hash, want 1", got)
	}
}

package web

import (
	"context"
	"crypto/rand"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/storetest"
	"github.com/gatehouse/gatehouse/vault"
)

// TestTryEmailCodeConcurrent submits one code many times at once, each
// submission from the same state of the sign-in (as requests that loaded it
// before any of them finished): exactly one is accepted (EO-3), and the
// sign-in moves on once.
func TestTryEmailCodeConcurrent(t *testing.T) {
	for _, eng := range storetest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			ctx := context.Background()
			key := make([]byte, 32)
			_, _ = rand.Read(key)
			v, err := vault.New(key)
			if err != nil {
				t.Fatal(err)
			}
			st := eng.Open(t)
			s := &server{Options: Options{Store: st, Vault: v, Now: time.Now, Logger: slog.New(slog.DiscardHandler)}}
			tn := &gatehouse.Tenant{Name: "acme"}
			ar := &gatehouse.AuthRequest{ClientID: "app", RedirectURI: "https://app.example/cb", Mail: "ada@example.com",
				Step: stepSignUpCode, MaxAge: -1, ExpiresAt: time.Now().Add(time.Hour)}
			err = st.Update(ctx, func(tx gatehouse.Tx) error {
				if err := tx.CreateTenant(ctx, tn); err != nil {
					return err
				}
				ar.TenantID = tn.ID
				if err := tx.CreateAuthRequest(ctx, ar); err != nil {
					return err
				}
				return tx.CreateEmailCode(ctx, &gatehouse.EmailCode{TenantID: tn.ID, Purpose: gatehouse.CodeSignUp, Binding: ar.ID,
					Mail: "ada@example.com", CodeHash: s.emailCodeHash(ar.ID, "12345678"), ExpiresAt: time.Now().Add(time.Minute)})
			})
			if err != nil {
				t.Fatal(err)
			}

			const n = 10
			var wg sync.WaitGroup
			outcomes := make(chan codeOutcome, n)
			advanced := make(chan struct{}, n)
			for range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					p := &flowPage{t: tn, ar: ar}
					o, err := s.tryEmailCode(ctx, p, gatehouse.CodeSignUp, "12345678", func(a *gatehouse.AuthRequest) {
						a.Step = stepSignUpDetails
					})
					if err != nil {
						t.Errorf("tryEmailCode: %v", err)
						return
					}
					if o == codeAccepted && p.ar.Step == stepSignUpDetails {
						advanced <- struct{}{}
					}
					outcomes <- o
				}()
			}
			wg.Wait()
			close(outcomes)
			counts := map[codeOutcome]int{}
			for o := range outcomes {
				counts[o]++
			}
			if counts[codeAccepted] != 1 || counts[codeGone] != n-1 || len(advanced) != 1 {
				t.Errorf("outcomes of %d concurrent tries: %v (advanced %d); want 1 accepted, the rest gone", n, counts, len(advanced))
			}
		})
	}
}

package load

import "context"

// Accounts are the users of a load: N users with the addresses
// UserMail(Prefix, 1…N) and one Password, as Setup creates them.
type Accounts struct {
	Prefix   string
	N        int
	Password string
}

// mail returns the address worker signs in with at its k-th iteration.
// With at least as many users as workers, each worker has users of its
// own (w+1, w+1+workers, …) and takes them in turn, so that no account
// sees concurrent sign-ins, which its throttling (RL-1) would count as
// failures in flight; with fewer, workers share them.
func (a Accounts) mail(worker, workers, k int) string {
	n := max(a.N, 1)
	if n < workers {
		return UserMail(a.Prefix, worker%n+1)
	}
	own := (n - worker + workers - 1) / workers // users worker+1+j*workers ≤ n
	return UserMail(a.Prefix, worker+1+(k%own)*workers)
}

// SignIns is the sign-in load (LD-1): each iteration is a complete
// sign-in (Client.SignIn) of one of the accounts.
func SignIns(c *Client, a Accounts, workers int) Scenario {
	return SignInsWith(c, a, workers, SignInOptions{})
}

// SignInsWith is SignIns with options: with acr_values "2" and an
// EmailCode that reads a MailSink, the sign-in load with an email second
// factor (LD-2).
func SignInsWith(c *Client, a Accounts, workers int, o SignInOptions) Scenario {
	k := make([]int, workers) // iterations per worker, each touched by its own worker only
	return func(ctx context.Context, w int, rec *Recorder) error {
		mail := a.mail(w, workers, k[w])
		k[w]++
		_, err := c.SignInWith(ctx, mail, a.Password, o, rec.Observe)
		return err
	}
}

// Refreshes is the refresh load (LD-4): each worker signs one of the
// accounts in once (again after a failed refresh), and each iteration
// redeems the worker's refresh token for the next one.
func Refreshes(c *Client, a Accounts, workers int) Scenario {
	tokens := make([]string, workers) // each touched by its own worker only
	return func(ctx context.Context, w int, rec *Recorder) error {
		if tokens[w] == "" {
			tok, err := c.SignIn(ctx, a.mail(w, workers, 0), a.Password, rec.Observe)
			if err != nil {
				return err
			}
			if tok.RefreshToken == "" {
				return failf(StepToken, "no refresh token", "the sign-in returned no refresh token: ask for offline_access")
			}
			tokens[w] = tok.RefreshToken
		}
		tok, err := c.Refresh(ctx, tokens[w], rec.Observe)
		if err != nil {
			tokens[w] = ""
			return err
		}
		tokens[w] = tok.RefreshToken
		return nil
	}
}

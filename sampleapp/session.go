package sampleapp

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// Limits of the session store.
const (
	// cookiePrefix begins the name of the session cookie, which ends with
	// the app's port: browsers share cookies across the ports of a host,
	// and two sample apps on one machine must not share a session.
	cookiePrefix = "sampleapp_session"
	// sessionIdle is how long a session lives without a request.
	sessionIdle = 8 * time.Hour
	// attemptLifetime is how long a sign-in may take, from the redirect
	// to Gatehouse to the callback.
	attemptLifetime = 10 * time.Minute
	// maxAttempts is how many sign-ins one browser may have in progress
	// (one per tab, say); the oldest is dropped beyond it.
	maxAttempts = 8
	// maxSessions bounds the memory the store may use; the least recently
	// used session is dropped beyond it.
	maxSessions = 10000
)

// attempt is a sign-in in progress: what the callback must find again.
// None of it is ever trusted from the browser.
type attempt struct {
	state    string
	nonce    string
	verifier string // the PKCE code verifier
	created  time.Time
}

// claim is one claim of an ID token or userinfo response, ready to show.
type claim struct {
	Name  string
	Value string
	// Time is the claim as a readable time, for the NumericDate claims.
	Time string
	// Parts are the members of a claim that is a JSON object of strings,
	// such as address (OpenID Connect Core 5.1.1), shown one per line
	// instead of Value.
	Parts []claim
}

// signedIn is what the app knows of its signed-in user.
type signedIn struct {
	Subject     string
	Name        string
	Email       string
	AMR         []string
	AuthTime    string // readable; "" if the token has no auth_time
	Claims      []claim
	Userinfo    []claim
	UserinfoErr string
	RawIDToken  string
	// AccessTokenExpiry is when the access token expires, readable.
	AccessTokenExpiry string
	HasRefreshToken   bool
}

// session is one browser's state, found by the hash of its cookie.
type session struct {
	csrf     string // the token of the sign-out form
	lastSeen time.Time
	attempts []attempt
	user     *signedIn
	// logoutState is the state of the RP-initiated logout under way.
	logoutState string
}

// sessions is the in-memory session store. Its cookie values are random
// (130 bits) and kept only as hashes.
type sessions struct {
	now    func() time.Time
	name   string // the cookie's name
	secure bool   // Secure cookies (the app is served over https)

	mu sync.Mutex
	m  map[string]*session
}

// newSessions returns the session store of the app at baseURL.
func newSessions(now func() time.Time, baseURL string) *sessions {
	s := &sessions{now: now, name: cookiePrefix, m: map[string]*session{}}
	if u, err := url.Parse(baseURL); err == nil {
		s.secure = u.Scheme == "https"
		if p := u.Port(); p != "" {
			s.name += "_" + p
		}
	}
	return s
}

func hashID(v string) string {
	h := sha256.Sum256([]byte(v))
	return hex.EncodeToString(h[:])
}

// get returns a copy of the browser's live session, or false.
func (s *sessions) get(r *http.Request) (session, bool) {
	c, err := r.Cookie(s.name)
	if err != nil || c.Value == "" {
		return session{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	se := s.live(hashID(c.Value))
	if se == nil {
		return session{}, false
	}
	se.lastSeen = s.now()
	cp := *se
	cp.attempts = append([]attempt(nil), se.attempts...)
	return cp, true
}

// live returns the session with the hashed ID if it has not expired.
// s.mu must be held.
func (s *sessions) live(id string) *session {
	se := s.m[id]
	if se == nil {
		return nil
	}
	if s.now().Sub(se.lastSeen) > sessionIdle {
		delete(s.m, id)
		return nil
	}
	return se
}

// update calls fn with the browser's session, creating one (and setting its
// cookie) if it has none.
func (s *sessions) update(w http.ResponseWriter, r *http.Request, fn func(*session)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var se *session
	if c, err := r.Cookie(s.name); err == nil && c.Value != "" {
		se = s.live(hashID(c.Value))
	}
	if se == nil {
		se = s.create(w)
	}
	se.lastSeen = s.now()
	fn(se)
}

// modify calls fn with the browser's session if it has one and reports
// whether it had.
func (s *sessions) modify(r *http.Request, fn func(*session)) bool {
	c, err := r.Cookie(s.name)
	if err != nil || c.Value == "" {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	se := s.live(hashID(c.Value))
	if se == nil {
		return false
	}
	se.lastSeen = s.now()
	fn(se)
	return true
}

// rotate replaces the browser's session with a new one under a new cookie
// (no session fixation across a sign-in) and calls fn with it.
func (s *sessions) rotate(w http.ResponseWriter, r *http.Request, fn func(*session)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, err := r.Cookie(s.name); err == nil {
		delete(s.m, hashID(c.Value))
	}
	se := s.create(w)
	fn(se)
}

// create adds a new session and sets its cookie. s.mu must be held.
func (s *sessions) create(w http.ResponseWriter) *session {
	now := s.now()
	if len(s.m) >= maxSessions {
		s.evict(now)
	}
	value := rand.Text()
	se := &session{csrf: rand.Text(), lastSeen: now}
	s.m[hashID(value)] = se
	http.SetCookie(w, &http.Cookie{
		Name: s.name, Value: value, Path: "/",
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode,
	})
	return se
}

// evict drops expired sessions and, if the store is still full, the least
// recently used one. s.mu must be held.
func (s *sessions) evict(now time.Time) {
	var oldestID string
	var oldest time.Time
	for id, se := range s.m {
		if now.Sub(se.lastSeen) > sessionIdle {
			delete(s.m, id)
			continue
		}
		if oldestID == "" || se.lastSeen.Before(oldest) {
			oldestID, oldest = id, se.lastSeen
		}
	}
	if len(s.m) >= maxSessions {
		delete(s.m, oldestID)
	}
}

// addAttempt records a sign-in in progress in the browser's session.
func (s *sessions) addAttempt(w http.ResponseWriter, r *http.Request, a attempt) {
	s.update(w, r, func(se *session) {
		se.attempts = append(se.attempts, a)
		if len(se.attempts) > maxAttempts {
			se.attempts = se.attempts[len(se.attempts)-maxAttempts:]
		}
	})
}

// takeAttempt removes and returns the sign-in in progress of the browser's
// session whose state is state. It reports false when the browser has no
// session or no sign-in with that state; an expired sign-in is returned
// (and removed) with expired set.
func (s *sessions) takeAttempt(r *http.Request, state string) (a attempt, found, expired bool) {
	s.modify(r, func(se *session) {
		for i, x := range se.attempts {
			if subtle.ConstantTimeCompare([]byte(x.state), []byte(state)) == 1 {
				a, found = x, true
				se.attempts = append(se.attempts[:i:i], se.attempts[i+1:]...)
				return
			}
		}
	})
	if found && s.now().Sub(a.created) > attemptLifetime {
		expired = true
	}
	return a, found, expired
}

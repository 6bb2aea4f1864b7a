package policy

import (
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/signin"
)

// Input is what a sign-in tells about itself: who, to which application,
// with what, from where, how risky. A What If question is an Input too.
type Input struct {
	UserID string
	// GroupIDs are the groups the user is a member of.
	GroupIDs []string
	// RoleIDs are the template IDs of the user's directory roles.
	RoleIDs []string
	// AppID is the appId of the application signing in; Resources are
	// further applications the sign-in yields tokens for
	// (gatehouse.AdminAPIAppID when it asks for the admin API). A policy
	// applies when one of them is included and not excluded.
	AppID     string
	Resources []string
	// ClientAppType is gatehouse.ClientBrowser (the default, for "") or
	// gatehouse.ClientMobileDesktop.
	ClientAppType string
	// Platform is one of the gatehouse.Platform… values, as ParsePlatform
	// tells it from the User-Agent; "" is gatehouse.PlatformUnknown.
	Platform string
	// IP is the client address (the zero Addr is in no IP location), and
	// Country its ISO 3166-1 code as GeoIP tells it, "" when unknown.
	IP      netip.Addr
	Country string
	// SignInRisk and UserRisk are the risk levels ("" is none).
	SignInRisk gatehouse.RiskLevel
	UserRisk   gatehouse.RiskLevel
}

// Reasons a policy applies or not: the first condition that did not
// match, as Graph's whatIfAnalysisReasons names them.
const (
	ReasonApplies     = "notSet" // the policy applies
	ReasonNotEnabled  = "policyNotEnabled"
	ReasonUsers       = "users"
	ReasonApplication = "application"
	ReasonClientApps  = "clientApps"
	ReasonPlatform    = "devicePlatform"
	ReasonLocation    = "location"
	ReasonSignInRisk  = "signInRisk"
	ReasonUserRisk    = "userRisk"
)

// Result is one policy's part in a decision.
type Result struct {
	Policy *gatehouse.Policy
	// Applies reports whether the sign-in meets every condition of the
	// policy (a disabled policy applies to nothing).
	Applies bool
	// Reason is ReasonApplies or the first condition that did not match;
	// Detail says it for people.
	Reason string
	Detail string
	c      *demand
}

// Enforced reports whether the policy applies and is enabled: its
// controls are demanded of the sign-in.
func (r *Result) Enforced() bool { return r.Applies && r.Policy.State == gatehouse.PolicyEnabled }

// Requirement is what the policy demands of a sign-in it applies to (for
// a report-only policy, what it would demand).
func (r *Result) Requirement() signin.Requirement { return r.c.req }

// Decision is Evaluate's answer for a sign-in.
type Decision struct {
	// Blocked is the first enforced policy that blocks, or nil.
	Blocked *gatehouse.Policy
	// Requirements are the enforced policies' demands, for signin.Next:
	// every one must be met; a Block refuses. Report-only policies never
	// contribute.
	Requirements []signin.Requirement
	// Session is what the enforced policies' session controls make of the
	// sign-in's session.
	Session Session

	set   *Set
	codes []outcome // one per policy of the set
}

// Len returns the number of policies the decision judged: the Set's.
func (d *Decision) Len() int { return len(d.codes) }

// Result returns the i-th policy's part in the decision, in the Set's
// order.
func (d *Decision) Result(i int) Result {
	o := outcomes[d.codes[i]]
	c := &d.set.demands[i]
	return Result{Policy: c.p, Applies: d.codes[i] == applies, Reason: o.reason, Detail: o.detail, c: c}
}

// Results returns every policy's part in the decision, in the Set's
// order.
func (d *Decision) Results() []Result {
	out := make([]Result, d.Len())
	for i := range out {
		out[i] = d.Result(i)
	}
	return out
}

// Session is the combined session controls of the enforced policies.
type Session struct {
	// PersistentBrowser is gatehouse.PersistentAlways or
	// gatehouse.PersistentNever, or "" when no policy says; never wins.
	PersistentBrowser string
	// SignInFrequency is the shortest sign-in frequency (0 for none);
	// EveryTime is set when a policy asks for a fresh authentication
	// every time.
	SignInFrequency time.Duration
	EveryTime       bool
}

// CookieLifetime returns how long the browser should keep the session
// cookie of a session that lasts lifetime on the server: the whole
// lifetime for a persistent browser session ("always"), and otherwise 0,
// a cookie that ends when the browser closes (Gatehouse's default, which
// "never" keeps).
func (s Session) CookieLifetime(lifetime time.Duration) time.Duration {
	if s.PersistentBrowser == gatehouse.PersistentAlways {
		return lifetime
	}
	return 0
}

// bitset is a set of policy (or location) indexes.
type bitset []uint64

func (b bitset) has(i int) bool { return b[i>>6]&(1<<(uint(i)&63)) != 0 }
func (b bitset) set(i int)      { b[i>>6] |= 1 << (uint(i) & 63) }
func (b bitset) or(o bitset) {
	for i := range o {
		b[i] |= o[i]
	}
}

// index maps an ID to the policies that name it in one list.
type index map[string]bitset

func (x index) add(id string, i, words int) {
	b, ok := x[id]
	if !ok {
		b = make(bitset, words)
		x[id] = b
	}
	b.set(i)
}

// compiled is a policy's conditions prepared for evaluation (what
// Evaluate reads of every policy, kept small).
type compiled struct {
	enabled bool // enabled or report-only
	enforce bool // enabled
	// clients are the Gatehouse client app types the policy includes.
	clients uint8
	// platforms: set when the condition is configured; the masks hold a
	// bit per platform (platformBit).
	platforms          bool
	platInc, platExc   uint16
	locations          bool
	locAll, locTrusted bool // include All, include AllTrusted
	exTrusted          bool // exclude AllTrusted
	locInc, locExc     []int
	signInRisk         uint8 // bits by rank; 0: not configured
	userRisk           uint8
}

// demand is what a policy demands of a sign-in it applies to.
type demand struct {
	p            *gatehouse.Policy
	req          signin.Requirement
	block        bool
	grantNames   []string
	sessionNames []string
}

// Set is a tenant's policies and named locations, compiled.
type Set struct {
	policies []compiled
	demands  []demand // by policy
	words    int
	allUsers bitset
	allApps  bitset
	// The policies that name each user, group, role or application in
	// one of their lists.
	userInc, userExc   index
	groupInc, groupExc index
	roleInc, roleExc   index
	appInc, appExc     index
	locations          []location
	locWords           int
}

// location is a named location prepared for matching.
type location struct {
	ip             bool
	trusted        bool
	prefixes       []netip.Prefix
	countries      []string
	includeUnknown bool
}

const (
	clientBrowser uint8 = 1 << iota
	clientMobile
)

// platformBits numbers the platforms of a sign-in.
var platformBits = []string{gatehouse.PlatformAndroid, gatehouse.PlatformIOS, gatehouse.PlatformWindows,
	gatehouse.PlatformWindowsPhone, gatehouse.PlatformMacOS, gatehouse.PlatformLinux, gatehouse.PlatformUnknown}

func platformBit(p string) uint16 {
	if p == "" {
		p = gatehouse.PlatformUnknown
	}
	i := slices.Index(platformBits, p)
	if i < 0 {
		i = len(platformBits) - 1 // unknown
	}
	return 1 << i
}

func platformMask(list []string) uint16 {
	var m uint16
	for _, p := range list {
		if p == gatehouse.PlatformAll {
			return 1<<len(platformBits) - 1
		}
		if i := slices.Index(platformBits, p); i >= 0 {
			m |= 1 << i
		}
	}
	return m
}

func riskMask(levels []gatehouse.RiskLevel) uint8 {
	var m uint8
	for _, l := range levels {
		m |= 1 << l.Rank()
	}
	return m
}

// Compile prepares the policies and the named locations they refer to
// for evaluation. The policies are kept in the order given (the Results
// of a decision follow it); a policy's lists are expected as
// gatehouse.Policy.Normalize leaves them. Compile does not change or
// keep copies of them: they must not change while the Set is used.
func Compile(policies []*gatehouse.Policy, locations []*gatehouse.NamedLocation) *Set {
	n := len(policies)
	words := (n + 63) / 64
	s := &Set{policies: make([]compiled, n), demands: make([]demand, n), words: words, allUsers: make(bitset, words), allApps: make(bitset, words),
		userInc: index{}, userExc: index{}, groupInc: index{}, groupExc: index{}, roleInc: index{}, roleExc: index{},
		appInc: index{}, appExc: index{}}
	// Only the locations the policies name, and the trusted ones when a
	// policy names AllTrusted, are matched against sign-ins.
	named, trustedUsed := map[string]bool{}, false
	for _, p := range policies {
		if l := p.Conditions.Locations; l != nil {
			for _, id := range slices.Concat(l.Include, l.Exclude) {
				named[id] = true
				trustedUsed = trustedUsed || id == gatehouse.ConditionAllTrusted
			}
		}
	}
	locIndex := map[string]int{}
	for _, l := range locations {
		if !named[l.ID] && !(l.Trusted && trustedUsed) {
			continue
		}
		locIndex[l.ID] = len(s.locations)
		s.locations = append(s.locations, location{ip: l.Kind == gatehouse.LocationIP, trusted: l.Trusted,
			prefixes: l.Prefixes(), countries: l.Countries, includeUnknown: l.IncludeUnknown})
	}
	s.locWords = (len(s.locations) + 63) / 64
	for i, p := range policies {
		c := &s.policies[i]
		c.enabled = p.State == gatehouse.PolicyEnabled || p.State == gatehouse.PolicyReportOnly
		c.enforce = p.State == gatehouse.PolicyEnabled
		u := p.Conditions.Users
		for _, id := range u.IncludeUsers {
			if id == gatehouse.ConditionAll {
				s.allUsers.set(i)
			} else if id != gatehouse.ConditionNone {
				s.userInc.add(id, i, words)
			}
		}
		for _, l := range []struct {
			x   index
			ids []string
		}{{s.userExc, u.ExcludeUsers}, {s.groupInc, u.IncludeGroups}, {s.groupExc, u.ExcludeGroups},
			{s.roleInc, u.IncludeRoles}, {s.roleExc, u.ExcludeRoles}} {
			for _, id := range l.ids {
				l.x.add(id, i, words)
			}
		}
		for _, id := range p.Conditions.Applications.Include {
			switch id {
			case gatehouse.ConditionAll:
				s.allApps.set(i)
			case gatehouse.ConditionNone:
			default:
				for _, app := range appsOf(id) {
					s.appInc.add(app, i, words)
				}
			}
		}
		for _, id := range p.Conditions.Applications.Exclude {
			for _, app := range appsOf(id) {
				s.appExc.add(app, i, words)
			}
		}
		for _, t := range p.Conditions.ClientAppTypes {
			switch t {
			case gatehouse.ClientAll:
				c.clients |= clientBrowser | clientMobile
			case gatehouse.ClientBrowser:
				c.clients |= clientBrowser
			case gatehouse.ClientMobileDesktop:
				c.clients |= clientMobile
			}
		}
		if len(p.Conditions.ClientAppTypes) == 0 {
			c.clients = clientBrowser | clientMobile
		}
		if pl := p.Conditions.Platforms; pl != nil && len(pl.Include) > 0 {
			c.platforms, c.platInc, c.platExc = true, platformMask(pl.Include), platformMask(pl.Exclude)
		}
		if l := p.Conditions.Locations; l != nil && len(l.Include) > 0 {
			c.locations = true
			for _, id := range l.Include {
				switch id {
				case gatehouse.ConditionAll:
					c.locAll = true
				case gatehouse.ConditionAllTrusted:
					c.locTrusted = true
				default:
					if j, ok := locIndex[id]; ok {
						c.locInc = append(c.locInc, j)
					}
				}
			}
			for _, id := range l.Exclude {
				switch id {
				case gatehouse.ConditionAllTrusted:
					c.exTrusted = true
				default:
					if j, ok := locIndex[id]; ok {
						c.locExc = append(c.locExc, j)
					}
				}
			}
		}
		c.signInRisk, c.userRisk = riskMask(p.Conditions.SignInRisk), riskMask(p.Conditions.UserRisk)
		dm := &s.demands[i]
		dm.p = p
		dm.req, dm.block, dm.grantNames, dm.sessionNames = controls(p)
	}
	return s
}

// appsOf returns the applications an application condition value names:
// the admin portal and the admin API for the admin portals keyword.
func appsOf(v string) []string {
	if v == gatehouse.ConditionAdminPortals {
		return []string{gatehouse.AdminPortalAppID, gatehouse.AdminAPIAppID}
	}
	return []string{strings.ToLower(v)}
}

// Len returns the number of policies in the set.
func (s *Set) Len() int { return len(s.policies) }

// Evaluate decides the sign-in in describes.
func Evaluate(policies []*gatehouse.Policy, locations []*gatehouse.NamedLocation, in Input) Decision {
	return Compile(policies, locations).Evaluate(in)
}

// Evaluate decides the sign-in in describes: each policy's result, and
// what the enforced ones demand.
func (s *Set) Evaluate(in Input) Decision {
	w := s.words
	buf := make(bitset, 6*w+s.locWords)
	e := env{userIn: buf[:w], exUser: buf[w : 2*w], exGroup: buf[2*w : 3*w], exRole: buf[3*w : 4*w], appIn: buf[4*w : 5*w],
		appEx: buf[5*w : 6*w], inLoc: buf[6*w:]}
	copy(e.userIn, s.allUsers)
	copy(e.appIn, s.allApps)
	mark(s.userInc, s.userExc, in.UserID, e.userIn, e.exUser)
	for _, g := range in.GroupIDs {
		mark(s.groupInc, s.groupExc, g, e.userIn, e.exGroup)
	}
	for _, r := range in.RoleIDs {
		mark(s.roleInc, s.roleExc, r, e.userIn, e.exRole)
	}
	// A policy applies to the sign-in when it applies to one of its
	// applications: included there, and not excluded there.
	if len(in.Resources) == 0 {
		s.markApp(e.appIn, e.appEx, in.AppID)
	} else {
		s.markApps(e.appIn, e.appEx, append([]string{in.AppID}, in.Resources...))
	}
	e.trusted = s.locate(in.IP, in.Country, e.inLoc)
	e.client = clientBrowser
	if in.ClientAppType == gatehouse.ClientMobileDesktop {
		e.client = clientMobile
	}
	e.platform = platformBit(in.Platform)
	e.signInRisk = uint8(1) << riskOf(in.SignInRisk).Rank()
	e.userRisk = uint8(1) << riskOf(in.UserRisk).Rank()

	d := Decision{set: s, codes: make([]outcome, len(s.policies))}
	enforced := 0
	for i := range s.policies {
		c := &s.policies[i]
		o := c.check(i, &e)
		d.codes[i] = o
		if o == applies && c.enforce {
			enforced++
		}
	}
	if enforced == 0 {
		return d
	}
	d.Requirements = make([]signin.Requirement, 0, enforced)
	for i, o := range d.codes {
		if o != applies || !s.policies[i].enforce {
			continue
		}
		dm := &s.demands[i]
		d.Requirements = append(d.Requirements, dm.req)
		if dm.block && d.Blocked == nil {
			d.Blocked = dm.p
		}
		if sc := dm.p.Session; sc != nil {
			d.Session.add(sc)
		}
	}
	return d
}

// env is what Evaluate knows of the sign-in, for checking each policy:
// the policies that include and exclude its user and applications, the
// named locations it is in, and its client, platform and risks as bits.
type env struct {
	userIn, exUser, exGroup, exRole bitset
	appIn, appEx                    bitset
	inLoc                           bitset
	trusted                         bool
	client                          uint8
	platform                        uint16
	signInRisk, userRisk            uint8
}

// lower returns an ID in lower case (IDs usually are: no copy then).
func lower(id string) string {
	for i := 0; i < len(id); i++ {
		if 'A' <= id[i] && id[i] <= 'Z' {
			return strings.ToLower(id)
		}
	}
	return id
}

// riskOf returns the level, none for "".
func riskOf(l gatehouse.RiskLevel) gatehouse.RiskLevel {
	if l == "" {
		return gatehouse.RiskNone
	}
	return l
}

// markApp adds the policies that include and exclude the application.
func (s *Set) markApp(in, ex bitset, appID string) { mark(s.appInc, s.appExc, appID, in, ex) }

// mark adds to in and ex the policies whose lists of inc and exc name id.
func mark(inc, exc index, id string, in, ex bitset) {
	id = lower(id)
	if b, ok := inc[id]; ok {
		in.or(b)
	}
	if b, ok := exc[id]; ok {
		ex.or(b)
	}
}

// markApps sets in to the policies that include one of the
// applications, and ex to those of them that exclude every application
// they include.
func (s *Set) markApps(in, ex bitset, appIDs []string) {
	w := s.words
	scratch := make(bitset, 3*w)
	inc, exc, ok := scratch[:w], scratch[w:2*w], scratch[2*w:]
	for _, a := range appIDs {
		copy(inc, s.allApps)
		clear(exc)
		s.markApp(inc, exc, a)
		for i := range inc {
			in[i] |= inc[i]
			ok[i] |= inc[i] &^ exc[i]
		}
	}
	for i := range in {
		ex[i] = in[i] &^ ok[i]
	}
}

// locate marks in inLoc the named locations the address and country are
// in, and reports whether one of them is trusted.
func (s *Set) locate(ip netip.Addr, country string, inLoc bitset) bool {
	ip = ip.Unmap()
	trusted := false
	for j := range s.locations {
		l := &s.locations[j]
		in := false
		if l.ip {
			if ip.IsValid() {
				for _, p := range l.prefixes {
					if p.Contains(ip) {
						in = true
						break
					}
				}
			}
		} else if country == "" {
			in = l.includeUnknown
		} else {
			in = slices.Contains(l.countries, strings.ToUpper(country))
		}
		if in {
			inLoc.set(j)
			trusted = trusted || l.trusted
		}
	}
	return trusted
}

// outcome is how a policy fared with a sign-in: that it applies, or
// the first condition it did not match and how.
type outcome uint8

const (
	applies outcome = iota
	disabled
	excludedUser
	excludedGroup
	excludedRole
	userNotIncluded
	appExcluded
	appNotIncluded
	legacyClients
	clientNotIncluded
	platformExcluded
	platformNotIncluded
	locationExcluded
	locationNotIncluded
	signInRiskNotIncluded
	userRiskNotIncluded
)

// outcomes are the reason and the sentence of each outcome.
var outcomes = [...]struct{ reason, detail string }{
	applies:               {ReasonApplies, "The sign-in meets every condition of the policy."},
	disabled:              {ReasonNotEnabled, "The policy is disabled."},
	excludedUser:          {ReasonUsers, "The user is excluded: they are listed in the policy's excludeUsers."},
	excludedGroup:         {ReasonUsers, "The user is excluded: they are a member of a group in the policy's excludeGroups."},
	excludedRole:          {ReasonUsers, "The user is excluded: they hold a directory role in the policy's excludeRoles."},
	userNotIncluded:       {ReasonUsers, "The user is not included: the policy's includeUsers, includeGroups and includeRoles do not hold them."},
	appExcluded:           {ReasonApplication, "The application is excluded by the policy's excludeApplications."},
	appNotIncluded:        {ReasonApplication, "The application is not in the policy's includeApplications."},
	legacyClients:         {ReasonClientApps, "The policy applies only to legacy authentication clients, which Gatehouse does not serve."},
	clientNotIncluded:     {ReasonClientApps, "The client app type of the sign-in is not in the policy's clientAppTypes."},
	platformExcluded:      {ReasonPlatform, "The device platform of the sign-in is in the policy's excludePlatforms."},
	platformNotIncluded:   {ReasonPlatform, "The device platform of the sign-in is not in the policy's includePlatforms."},
	locationExcluded:      {ReasonLocation, "The sign-in comes from a location in the policy's excludeLocations."},
	locationNotIncluded:   {ReasonLocation, "The sign-in does not come from a location in the policy's includeLocations."},
	signInRiskNotIncluded: {ReasonSignInRisk, "The sign-in risk is not one of the policy's signInRiskLevels."},
	userRiskNotIncluded:   {ReasonUserRisk, "The user risk is not one of the policy's userRiskLevels."},
}

// check returns how the policy, the set's i-th, fares with the sign-in:
// the first condition it does not meet, in Entra's order (users,
// applications, client apps, platforms, locations, sign-in risk, user
// risk), or applies.
func (c *compiled) check(i int, e *env) outcome {
	switch {
	case !c.enabled:
		return disabled
	case e.exUser.has(i):
		return excludedUser
	case e.exGroup.has(i):
		return excludedGroup
	case e.exRole.has(i):
		return excludedRole
	case !e.userIn.has(i):
		return userNotIncluded
	case e.appEx.has(i):
		return appExcluded
	case !e.appIn.has(i):
		return appNotIncluded
	case c.clients == 0:
		return legacyClients
	case c.clients&e.client == 0:
		return clientNotIncluded
	case c.platforms && c.platExc&e.platform != 0:
		return platformExcluded
	case c.platforms && c.platInc&e.platform == 0:
		return platformNotIncluded
	}
	if c.locations {
		if c.exTrusted && e.trusted || anyIn(c.locExc, e.inLoc) {
			return locationExcluded
		}
		if !c.locAll && !(c.locTrusted && e.trusted) && !anyIn(c.locInc, e.inLoc) {
			return locationNotIncluded
		}
	}
	switch {
	case c.signInRisk != 0 && c.signInRisk&e.signInRisk == 0:
		return signInRiskNotIncluded
	case c.userRisk != 0 && c.userRisk&e.userRisk == 0:
		return userRiskNotIncluded
	}
	return applies
}

func anyIn(locs []int, in bitset) bool {
	for _, j := range locs {
		if in.has(j) {
			return true
		}
	}
	return false
}

// add combines one policy's session controls into s: never beats always,
// the shortest frequency wins, every time beats any frequency.
func (s *Session) add(sc *gatehouse.SessionControls) {
	switch sc.PersistentBrowser {
	case gatehouse.PersistentNever:
		s.PersistentBrowser = gatehouse.PersistentNever
	case gatehouse.PersistentAlways:
		if s.PersistentBrowser == "" {
			s.PersistentBrowser = gatehouse.PersistentAlways
		}
	}
	if f := sc.SignInFrequency; f != nil {
		if f.EveryTime {
			s.EveryTime = true
		} else if d := f.Duration(); s.SignInFrequency == 0 || d < s.SignInFrequency {
			s.SignInFrequency = d
		}
	}
}

// The names of controls in a sign-in log's enforcedGrantControls and
// enforcedSessionControls, as Entra writes them.
const (
	GrantBlock                  = "Block"
	GrantMFA                    = "Mfa"
	GrantPasswordChange         = "PasswordChange"
	GrantAuthenticationStrength = "RequireAuthenticationStrength"
	SessionSignInFrequency      = "SignInFrequency"
	SessionPersistentBrowser    = "PersistentBrowserSessionMode"
)

// controls returns what the policy demands of a sign-in it applies to, as
// one requirement, whether it blocks, and the names of its grant and
// session controls.
//
// With the AND operator every control counts: the strongest level of mfa
// (multifactor) and the authentication strength, and a password change.
// With OR one control is enough, and the sign-in is asked for the weakest
// alternative Gatehouse enforces: the lowest level among mfa and the
// strength; a password change only when it is the one control. (Entra's
// rules, which gatehouse.Policy.Validate applies, leave one control to an
// OR: block stands alone, mfa and a strength exclude each other, and
// passwordChange needs AND.) A policy with session controls only demands
// what its sign-in frequency does, of any authentication.
func controls(p *gatehouse.Policy) (req signin.Requirement, block bool, grant, session []string) {
	req = signin.Requirement{Source: `Conditional Access policy "` + p.DisplayName + `"`, Essential: true, Level: gatehouse.LevelSingleFactor}
	grant, session = []string{}, []string{}
	if g := p.Grant; g != nil {
		var levels []gatehouse.Level
		change := false
		for _, c := range g.BuiltIn {
			switch c {
			case gatehouse.ControlBlock:
				block = true
				grant = append(grant, GrantBlock)
			case gatehouse.ControlMFA:
				levels = append(levels, gatehouse.LevelMultiFactor)
				grant = append(grant, GrantMFA)
			case gatehouse.ControlPasswordChange:
				change = true
				grant = append(grant, GrantPasswordChange)
			}
		}
		if st, ok := gatehouse.StrengthByID(g.Strength); ok {
			levels = append(levels, st.Level)
			grant = append(grant, GrantAuthenticationStrength)
		}
		switch {
		case block:
			req = signin.Requirement{Source: req.Source, Block: true, Reason: "Access is blocked by the Conditional Access policy \"" + p.DisplayName + "\"."}
			return req, true, grant, session
		case g.Operator == "OR" && len(levels) > 0:
			req.Level = slices.Min(levels)
		case len(levels) > 0:
			req.Level = slices.Max(levels)
			req.PasswordChange = change
		default:
			req.PasswordChange = change
		}
	}
	if s := p.Session; s != nil {
		if f := s.SignInFrequency; f != nil {
			req.Fresh, req.MaxAge = f.EveryTime, f.Duration()
			session = append(session, SessionSignInFrequency)
		}
		if s.PersistentBrowser != "" {
			session = append(session, SessionPersistentBrowser)
		}
	}
	return req, false, grant, session
}

// AuthenticationRequirement returns the sign-in log's
// authenticationRequirement of the decision: multifactor when an
// enforced policy demands multifactor authentication or more.
func (d *Decision) AuthenticationRequirement() string {
	for _, r := range d.Requirements {
		if !r.Block && r.Level >= gatehouse.LevelMultiFactor {
			return gatehouse.AuthMultiFactor
		}
	}
	return gatehouse.AuthSingleFactor
}

package policy

// Needs says which facts of a sign-in the Set's policies look at, so
// that a caller gathers only those: a user's groups and roles, risk
// levels and the address's country each cost a read or a lookup.
type Needs struct {
	Groups     bool
	Roles      bool
	SignInRisk bool
	UserRisk   bool
	// Country: a country named location is used, so the sign-in's
	// country must be looked up.
	Country bool
}

// Needs returns which facts of a sign-in the Set's policies (enabled or
// report-only) look at. Without policies it needs nothing.
func (s *Set) Needs() Needs {
	var n Needs
	n.Groups = len(s.groupInc)+len(s.groupExc) > 0
	n.Roles = len(s.roleInc)+len(s.roleExc) > 0
	for i := range s.policies {
		c := &s.policies[i]
		if !c.enabled {
			continue
		}
		n.SignInRisk = n.SignInRisk || c.signInRisk != 0
		n.UserRisk = n.UserRisk || c.userRisk != 0
	}
	for _, l := range s.locations {
		n.Country = n.Country || !l.ip
	}
	return n
}

// Package password holds everything Gatehouse does with passwords: the
// policy a new password must meet (length in code points after NFKC
// normalisation and an embedded list of common passwords, no composition
// rules), argon2id hashing in PHC string format with rehash detection, and
// a bounded worker pool in front of argon2 so that a flood of sign-ins
// costs bounded memory and is answered with EBUSY instead of queueing
// without limit (SECURITY.md PW-1 to PW-12).
//
// The web package checks a new password with Policy.Check and stores
// Hasher.Hash's result; at sign-in it calls Hasher.Verify, with an empty
// hash for an unknown account so both cost the same, and rehashes when
// Verify reports that the stored parameters are out of date.
package password

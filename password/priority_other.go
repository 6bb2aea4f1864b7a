//go:build !linux

package password

// LowerPriority does nothing outside Linux, where a hash worker process
// keeps the priority it was started with.
func LowerPriority(nice int) error { return nil }

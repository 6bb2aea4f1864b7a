package main

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
)

// version is the release version, set at build time with
// -ldflags "-X main.version=v1.2.3". Without it the module version from the
// build information is used.
var version = ""

// versionString returns the version of this binary.
func versionString() string {
	if version != "" {
		return version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && v == "(devel)" {
			v += " " + s.Value
		}
	}
	return v
}

func versionCommand() *command {
	return &command{
		name:    "version",
		usage:   "version",
		summary: "Print the version.",
		help:    "Prints the version of Gatehouse and of the Go toolchain that built it.",
		args:    noArgs,
		run: func(ctx context.Context, e *env, c *config) error {
			fmt.Fprintf(e.stdout, "gatehouse %s %s %s/%s\n", versionString(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return nil
		},
	}
}

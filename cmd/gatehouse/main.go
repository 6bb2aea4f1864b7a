// Command gatehouse runs the Gatehouse identity server and administers its
// tenants. It is the only place that wires the packages together.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/password"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args, os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "gatehouse: %s\n", err)
		os.Exit(1)
	}
}

// env is what a command may use of its process besides its configuration.
type env struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

// command is one (sub)command of gatehouse.
type command struct {
	name    string // "serve", "tenant create"
	usage   string // the usage line after "gatehouse "
	summary string // one line for the command list
	help    string // the full description
	options []option
	// args checks the positional arguments.
	args func(args []string) error
	run  func(ctx context.Context, e *env, c *config) error
}

// commands lists every command in the order help shows them.
func commands() []*command {
	return []*command{
		serveCommand(),
		demoCommand(),
		sampleAppCommand(),
		tenantCreateCommand(),
		tenantRotateKeysCommand(),
		migrateCommand(),
		loadSetupCommand(), loadSignInCommand(), loadTokenCommand(), loadRefreshCommand(), loadStuffCommand(), loadOTPFloodCommand(),
		versionCommand(),
	}
}

const overview = `Gatehouse is a self-hosted customer identity server: OpenID Connect and
OAuth 2.0 for your apps, per-tenant directories, and a Microsoft Graph-shaped
admin API. One binary; SQLite by default, PostgreSQL to scale out.`

func printOverview(w io.Writer) {
	fmt.Fprintf(w, "%s\n\nUsage: gatehouse COMMAND [ARGS] [FLAGS]\n\nCommands:\n", overview)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-40s %s\n", strings.TrimSuffix(c.usage, " [flags]"), c.summary)
	}
	fmt.Fprintf(w, "  %-40s %s\n", "help [COMMAND]", "Explain a command, its flags and environment variables.")
	fmt.Fprintf(w, "\nRun 'gatehouse help COMMAND' or 'gatehouse COMMAND -h' for a command's flags\nand environment variables.\n")
}

func commandNames() string {
	var names []string
	for _, c := range commands() {
		names = append(names, c.name)
	}
	return strings.Join(append(names, "help"), ", ")
}

// lookup finds the command named by the first words of args and returns it
// with the remaining arguments. For "tenant" without a known subcommand it
// returns an error that lists the subcommands.
func lookup(args []string) (*command, []string, error) {
	if len(args) == 0 {
		return nil, nil, fmt.Errorf("no command given; commands: %s", commandNames())
	}
	for _, c := range commands() {
		words := strings.Fields(c.name)
		if len(args) >= len(words) && strings.Join(args[:len(words)], " ") == c.name {
			return c, args[len(words):], nil
		}
	}
	if args[0] == "tenant" {
		if len(args) == 1 || strings.HasPrefix(args[1], "-") {
			return nil, nil, errors.New("tenant: a subcommand is required: tenant create NAME, tenant rotate-keys NAME")
		}
		return nil, nil, fmt.Errorf("tenant: unknown subcommand %q; subcommands: create, rotate-keys", args[1])
	}
	return nil, nil, fmt.Errorf("unknown command %q; commands: %s", args[0], commandNames())
}

// run runs gatehouse with the command line args (args[0] is the program
// name), reading the environment through getenv. It returns when the
// command is done or, for the commands that serve (serve, demo,
// sample-app), when ctx is cancelled and the servers have shut down.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	e := &env{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	if len(args) > 0 {
		args = args[1:]
	}
	if len(args) == 0 {
		printOverview(stderr)
		return fmt.Errorf("no command given; commands: %s", commandNames())
	}
	switch args[0] {
	case hashWorkerCommand:
		// Not a command for people: the password hash worker processes of
		// serve --hash-processes (password.ServeHashes), started with the
		// nice value of --hash-nice.
		if len(args) > 1 {
			nice, err := strconv.Atoi(args[1])
			if err != nil {
				return fmt.Errorf("hash-worker: the nice value %q is not a number", args[1])
			}
			if err := password.LowerPriority(nice); err != nil {
				return err
			}
		}
		return password.ServeHashes(stdin, stdout)
	case "help", "-h", "-help", "--help":
		return runHelp(args[1:], stdout)
	case "-version", "--version":
		args = []string{"version"}
	case "tenant":
		if len(args) > 1 && isHelpFlag(args[1]) {
			printTenantHelp(stderr)
			return nil
		}
	}
	cmd, rest, err := lookup(args)
	if err != nil {
		return err
	}
	c, err := parse(cmd, rest, getenv, stderr)
	if errors.Is(err, errHelp) {
		return nil
	} else if err != nil {
		return err
	}
	if err := cmd.args(c.Args); err != nil {
		return fmt.Errorf("%s: %w (run 'gatehouse %s -h' for help)", cmd.name, err, cmd.name)
	}
	if err := cmd.run(ctx, e, c); err != nil {
		return fmt.Errorf("%s: %s", cmd.name, describe(err))
	}
	return nil
}

// runHelp prints the overview, or the help of the command named by args.
func runHelp(args []string, stdout io.Writer) error {
	if len(args) == 0 {
		printOverview(stdout)
		return nil
	}
	if len(args) == 1 && args[0] == "tenant" {
		printTenantHelp(stdout)
		return nil
	}
	if len(args) == 1 && slices.Contains([]string{"help", "-h", "-help", "--help"}, args[0]) {
		fmt.Fprintf(stdout, "Usage: gatehouse help [COMMAND]\n\nExplains a command, its flags and environment variables.\n")
		return nil
	}
	cmd, _, err := lookup(args)
	if err != nil {
		return fmt.Errorf("help: %w", err)
	}
	printCommandHelp(stdout, cmd)
	return nil
}

func printTenantHelp(w io.Writer) {
	fmt.Fprintf(w, "Usage: gatehouse tenant SUBCOMMAND\n\nSubcommands:\n")
	for _, c := range []*command{tenantCreateCommand(), tenantRotateKeysCommand()} {
		fmt.Fprintf(w, "  %-40s %s\n", strings.TrimSuffix(c.usage, " [flags]"), c.summary)
	}
	fmt.Fprintf(w, "\nRun 'gatehouse tenant SUBCOMMAND -h' for its flags and environment variables.\n")
}

func isHelpFlag(s string) bool {
	return s == "-h" || s == "--h" || s == "-help" || s == "--help"
}

// describe returns the text of err for an operator: the message of a
// gatehouse error meant for people, or the whole error chain otherwise.
func describe(err error) string {
	var ge *gatehouse.Error
	if errors.As(err, &ge) && ge.Code != gatehouse.EINTERNAL {
		return ge.Message
	}
	return err.Error()
}

// noArgs accepts no positional arguments.
func noArgs(args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("unexpected argument %q", args[0])
	}
	return nil
}

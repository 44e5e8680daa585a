package main

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/spf13/pflag"
)

// helpWidth is the width flag help is wrapped to.
const helpWidth = 100

// newFlags returns the FlagSet of one command. Commands parse their own
// flags (parse), so each stays a plain func(ctx, a, args) error; flags
// may come anywhere on the line, snake_case spellings are read as their
// kebab-case flags, and -h prints the command's help on standard output.
func newFlags(a *app, name, synopsis string) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SortFlags = false
	fs.SetNormalizeFunc(kebab)
	fs.SetOutput(a.stdout)
	fs.Usage = func() {
		fmt.Fprintf(a.stdout, "usage: %s\n\nflags:\n%s", synopsis, fs.FlagUsagesWrapped(helpWidth))
	}
	if a.describeTo != nil {
		*a.describeTo = fs
		a.synopsis = synopsis
		describing.Store(fs, true)
	}
	return fs
}

// kebab reads total_timesteps as total-timesteps, so the seed's and
// CleanRL's spellings work on the command line while help lists one.
func kebab(_ *pflag.FlagSet, name string) pflag.NormalizedName {
	return pflag.NormalizedName(strings.ReplaceAll(name, "_", "-"))
}

// describing holds the FlagSets built only so the command tree learns a
// command's flags (for shell completion); parse stops those commands.
var describing sync.Map

// errHelpShown ends a command whose help was asked for and printed;
// nthost exits 0.
var errHelpShown = errors.New("help shown")

// errDescribed ends a command that was started only to learn its flags.
var errDescribed = errors.New("flags described")

// parse parses args and rejects stray positional arguments unless the
// command takes some (extra >= 0 allows that many, -1 any number). A
// mistyped flag is one line naming the flags it may have meant.
func parse(fs *pflag.FlagSet, args []string, extra int) error {
	if _, ok := describing.Load(fs); ok {
		return errDescribed
	}
	if err := fs.Parse(prepareArgs(fs, args)); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return errHelpShown // fs.Usage printed it
		}
		return flagError(fs, err)
	}
	if extra >= 0 && fs.NArg() > extra {
		return fmt.Errorf("%s: unexpected argument %q (`nthost %s -h` lists what it takes)", fs.Name(), fs.Arg(extra), fs.Name())
	}
	return nil
}

// flagError words a parse error as one line, with suggestions for an
// unknown flag.
func flagError(fs *pflag.FlagSet, err error) error {
	var ne *pflag.NotExistError
	if errors.As(err, &ne) && ne.GetSpecifiedName() != "" {
		name := ne.GetSpecifiedName()
		msg := fmt.Sprintf("%s: unknown flag --%s", fs.Name(), name)
		if s := suggestFlags(fs, name); len(s) > 0 {
			msg += "; did you mean " + strings.Join(s, " or ") + "?"
		}
		return errors.New(msg + fmt.Sprintf(" (`nthost %s -h` lists the flags)", fs.Name()))
	}
	return fmt.Errorf("%s: %v", fs.Name(), err)
}

// suggestFlags returns the listed flags within two edits of name, or
// that start with it or it with them.
func suggestFlags(fs *pflag.FlagSet, name string) []string {
	name = string(kebab(fs, name))
	type cand struct {
		name string
		d    int
	}
	var cs []cand
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		d := editDistance(name, f.Name)
		if d <= 2 || (len(name) > 2 && (strings.HasPrefix(f.Name, name) || strings.HasPrefix(name, f.Name))) {
			cs = append(cs, cand{f.Name, d})
		}
	})
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].d < cs[j].d })
	var out []string
	for i, c := range cs {
		if i == 3 {
			break
		}
		out = append(out, "--"+c.name)
	}
	return out
}

// editDistance is the Levenshtein distance of a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// prepareArgs accepts two spellings pflag would not: a long flag with
// one dash (-maxdim 1, as Go's flag package and older scripts write it)
// and a switch with its value as the next argument (--capture-video
// true, the seed's and CleanRL's form). Values of flags that take one are
// left alone, so --run-dir true keeps a directory named true and
// --target-kl -0.5 keeps its number.
func prepareArgs(fs *pflag.FlagSet, args []string) []string {
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return append(append(out, a), args[i+1:]...)
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			out = append(out, a)
			continue
		}
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		f := fs.Lookup(name)
		if f != nil && !strings.HasPrefix(a, "--") && len(name) > 1 {
			a = "-" + a // -maxdim -> --maxdim
		}
		out = append(out, a)
		if f == nil || hasValue || i+1 >= len(args) || len(name) == 1 && !strings.HasPrefix(a, "--") {
			continue
		}
		if f.NoOptDefVal != "" {
			if _, err := strconv.ParseBool(args[i+1]); err == nil {
				out[len(out)-1] = a + "=" + args[i+1]
				i++
			}
			continue
		}
		out = append(out, args[i+1]) // the value of a flag that takes one
		i++
	}
	return out
}

// paramFlag registers a repeatable NAME=VALUE flag and returns the map it
// fills.
func paramFlag(fs *pflag.FlagSet, name, usage string) map[string]string {
	m := map[string]string{}
	fs.Func(name, usage, func(v string) error {
		k, val, ok := strings.Cut(v, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return fmt.Errorf("%q is not NAME=VALUE", v)
		}
		m[strings.TrimSpace(k)] = strings.TrimSpace(val)
		return nil
	})
	return m
}

// pluginParamUsage is the help of a --KIND-param flag.
func pluginParamUsage(kind string) string {
	// pflag shows the back-quoted word as the flag's argument.
	return fmt.Sprintf("a `NAME=VALUE` parameter of the %s plugin, repeatable (nthost plugins NAME lists a plugin's parameters)", kind)
}

// flagSet reports whether the flag name was given.
func flagSet(fs *pflag.FlagSet, name string) bool {
	return fs.Changed(name)
}

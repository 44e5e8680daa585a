package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/spf13/pflag"

	"github.com/neuraltopology/neuraltopology/core/classify"
	"github.com/neuraltopology/neuraltopology/core/config"
	"github.com/neuraltopology/neuraltopology/core/provenance"
	"github.com/neuraltopology/neuraltopology/core/report"
	runcore "github.com/neuraltopology/neuraltopology/core/run"
	"github.com/neuraltopology/neuraltopology/core/runstore"
	"github.com/neuraltopology/neuraltopology/sdk"
)

// cmdRun is the main job: train with topology snapshots. Every key of the
// config (the seed's YAML keys) is also a flag, in kebab-case (the
// seed's snake_case is read too); flags override --config.
func cmdRun(ctx context.Context, a *app, args []string) error {
	var c common
	fs := newFlags(a, "run", "")
	c.register(fs)
	cfgFile := fs.String("config", "", "YAML config; the seed's files work as they are")
	resume := fs.String("resume", "", "continue the run in this directory from its last checkpoint")
	inline := fs.Bool("inline-snapshots", false, "compute snapshots inside the training loop instead of beside it")
	noReport := fs.Bool("no-report", false, "skip plots and report.html at the end")
	snapNice := fs.Int("snapshot-nice", 10, "niceness added to the dist and ph plugin processes so homology yields the CPU to training (0 on a busy shared machine; not with --in-process)")
	inProcess := fs.Bool("in-process", false, "run the built-in env, algo, dist and ph in this process instead of as plugin processes (faster with few environments)")
	for name, g := range map[string]config.Group{
		"plugin-dir": config.GroupPlugins, "plugin-lock": config.GroupPlugins, "in-process": config.GroupPlugins,
		"config": config.GroupRuntime, "resume": config.GroupRuntime, "inline-snapshots": config.GroupTopology,
		"snapshot-nice": config.GroupTopology, "no-report": config.GroupOutput,
		"log-format": config.GroupRuntime, "log-level": config.GroupRuntime,
	} {
		_ = fs.SetAnnotation(name, helpGroup, []string{string(g)})
	}
	// Every config key as a flag; the value is applied after the file.
	set := map[string]string{}
	def := config.Default()
	var order []string // keys in the order given, so repeated params add up
	for _, k := range config.Keys() {
		key := k
		setKey := func(v string) error {
			if config.Kind(key) == "params" && set[key] != "" {
				v = set[key] + "," + v // --dist-param a=1 --dist-param b=2
			}
			if _, seen := set[key]; !seen {
				order = append(order, key)
			}
			set[key] = v
			return nil
		}
		doc, _ := config.Doc(key)
		name := dash(key)
		if kind, isMap := paramKind(key); isMap {
			// --dist-param is the spelling every command shares;
			// --dist-params (the key's own) is read too.
			name = kind + "-param"
			fs.Var(&keyFlag{typ: "NAME=VALUE", set: setKey}, dash(key), "")
			_ = fs.MarkHidden(dash(key))
			doc.Meaning += ", repeatable (nthost plugins NAME lists them)"
		}
		f := fs.VarPF(&keyFlag{def: def.Get(key), typ: config.Kind(key), set: setKey}, name, "", doc.Meaning)
		if config.IsBool(key) {
			f.NoOptDefVal = "true"
		}
		_ = fs.SetAnnotation(name, helpGroup, []string{string(doc.Group)})
	}
	fs.Usage = func() { runHelp(a.stdout, fs) }
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	if *snapNice < 0 || *snapNice > 19 {
		return fmt.Errorf("--snapshot-nice %d: want 0 to 19", *snapNice)
	}
	if err := a.setup(c); err != nil {
		return err
	}

	resuming := fs.Changed("resume")
	cfg := config.Default()
	dir := ""
	if resuming {
		if *resume == "" {
			return fmt.Errorf("--resume needs the run directory to continue, got an empty path")
		}
		dir = *resume
		if *cfgFile != "" {
			return fmt.Errorf("--resume uses the run's own config.yaml; drop --config")
		}
		*cfgFile = filepath.Join(dir, runstore.ConfigFile)
	}
	given := map[string]bool{}
	if *cfgFile != "" {
		keys, err := cfg.Load(*cfgFile)
		if err != nil {
			return err
		}
		for _, k := range keys {
			given[k] = true
		}
	}
	stored := cfg
	if err := kAgrees(set); err != nil {
		return err
	}
	for _, k := range order {
		if err := cfg.Set(k, set[k]); err != nil {
			return fmt.Errorf("--%s: %v", dash(k), err)
		}
	}
	if resuming {
		if err := checkResumeOverrides(stored, cfg, set); err != nil {
			return fmt.Errorf("--resume %s: %w", dir, err)
		}
	}
	if cfg.Data != "" {
		// A supervised run (core/classify): the paper's defaults for what
		// was not given, then its own job.
		if resuming {
			return fmt.Errorf("--resume: a --data run trains one network in minutes and has no checkpoints; start it again")
		}
		for k := range set {
			given[k] = true
		}
		if err := classify.ApplyDefaults(&cfg, given); err != nil {
			return err
		}
		if err := cfg.Validate(); err != nil {
			return err
		}
		return runClassify(ctx, a, cfg, *inProcess, *snapNice, *noReport)
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	if dir == "" {
		dir = cfg.RunDir
	}
	if dir == "" {
		dir = runcore.DefaultDir(cfg, time.Now())
	}
	var store *runstore.Store
	var from *runcore.Resumption
	if resuming {
		// Lock the run and check its checkpoint before starting anything,
		// and before writing anything.
		var err error
		if store, err = runstore.OpenExisting(dir); err != nil {
			return err
		}
		defer store.Close()
		if from, err = runcore.CheckResume(store, cfg); err != nil {
			return err
		}
	} else if err := runstore.CheckNew(dir); err != nil {
		return err
	}

	// Start every plugin before any work, so a missing or mismatched one
	// is reported at once.
	var p runcore.Plugins
	infos := map[sdk.Kind]sdk.Info{}
	transports := map[sdk.Kind]string{}
	clients := map[sdk.Kind]*sdk.Client{}
	if *inProcess {
		sdk.UseLogger(pluginLogger(a.log).Named("in-process"))
	}
	for _, want := range []struct {
		kind sdk.Kind
		name string
	}{{sdk.KindEnv, cfg.Env}, {sdk.KindAlgo, cfg.Algo}, {sdk.KindDist, cfg.Dist}, {sdk.KindPH, cfg.PH}} {
		var impl sdk.Describer
		if *inProcess {
			b, err := builtin(want.kind, want.name)
			if err != nil {
				return err
			}
			impl = b
			info, err := b.Describe(ctx)
			if err != nil {
				return err
			}
			infos[want.kind] = info
			transports[want.kind] = "in-process"
		} else {
			nice := 0
			if want.kind == sdk.KindDist || want.kind == sdk.KindPH {
				nice = *snapNice
			}
			cl, err := a.openNice(ctx, want.kind, want.name, nice)
			if err != nil {
				return err
			}
			impl = cl.Plugin()
			clients[want.kind] = cl
			infos[want.kind] = cl.Info
			transports[want.kind] = cl.Transport()
		}
		var ok bool
		switch want.kind {
		case sdk.KindEnv:
			p.Env, ok = impl.(sdk.Environment)
		case sdk.KindAlgo:
			p.Algo, ok = impl.(sdk.Algorithm)
		case sdk.KindDist:
			p.Dist, ok = impl.(sdk.Distance)
		case sdk.KindPH:
			p.PH, ok = impl.(sdk.Homology)
		}
		if !ok {
			return fmt.Errorf("%s plugin %q does not implement the %s interface", want.kind, want.name, want.kind)
		}
	}

	// The algorithm plugin steps the environment plugin itself when both
	// can (sdk.Link), which takes this process off the per-step path.
	if ec, ac := clients[sdk.KindEnv], clients[sdk.KindAlgo]; ec != nil && ac != nil {
		algo, err := sdk.Link(ctx, ec, ac)
		if err != nil {
			return err
		}
		p.Algo = algo
		transports[sdk.KindEnv], transports[sdk.KindAlgo] = ec.Transport(), ac.Transport()
	}

	_, kFlag := set["k"]
	if err := (runCheck{cfg: &cfg, kFlag: kFlag}).check(infos); err != nil {
		return err
	}

	prov := runProvenance(infos, clients, transports)
	opt := runcore.Options{Dir: dir, Resume: resuming, Store: store, From: from, Inline: *inline, Log: a.log, Stop: a.stopRequests(), Transports: transports, Provenance: &prov}
	if f, ok := a.stderr.(*os.File); ok && isatty.IsTerminal(f.Fd()) {
		opt.Progress = f
	}
	if !*noReport {
		opt.Report = func(dir string) error { return report.Build([]string{dir}, filepath.Join(dir, runstore.ReportFile)) }
	}
	a.log.Info().Str("dir", dir).Str("env_id", cfg.EnvID).Int("steps", cfg.TotalTimesteps).
		Int64("seed", cfg.Seed).Str("dist", cfg.Dist).Str("ph", cfg.PH).
		Str("env_transport", transports[sdk.KindEnv]).Str("algo_transport", transports[sdk.KindAlgo]).Msg("run starting")
	if n := cfg.TrackNotice(dir); n != "" {
		a.log.Warn().Msg(n)
	}
	res, err := runcore.Run(ctx, p, cfg, opt)
	if err != nil {
		return fmt.Errorf("run %s: %w", dir, err)
	}
	a.log.Info().Str("dir", res.Dir).Int("steps", res.Steps).Int("snapshots", res.Snapshots).
		Float64("return", res.LastReturn).Float64("seconds", res.Timings["total"]).
		Float64("homology_seconds", res.Timings["homology_and_distances"]).Msg("run finished")
	if !*noReport {
		fmt.Fprintf(a.stdout, "report: %s\n", filepath.Join(res.Dir, runstore.ReportFile))
	}
	return nil
}

// runProvenance describes this host and the run's plugins: a plugin
// process by its binary's SHA-256 (and a script's declared code file by
// file), a linked-in one (--in-process) by this binary's.
func runProvenance(infos map[sdk.Kind]sdk.Info, clients map[sdk.Kind]*sdk.Client, transports map[sdk.Kind]string) provenance.Record {
	rec := provenance.Collect(time.Now())
	self, _ := os.Executable()
	for _, k := range []sdk.Kind{sdk.KindEnv, sdk.KindAlgo, sdk.KindDist, sdk.KindPH} {
		info, ok := infos[k]
		if !ok {
			continue
		}
		p := provenance.Plugin{Kind: string(k), Name: info.Name, Version: info.Version, Transport: transports[k], Path: self}
		if cl := clients[k]; cl != nil {
			p.Path = cl.Path
		}
		if p.Path != "" {
			p.SHA256, _ = sdk.FileSHA256(p.Path)
			// A script's code, which the lock also hashes; a file that
			// cannot be read leaves the list empty rather than failing
			// a run the lock already let start.
			code, _ := sdk.PluginCode(p.Path)
			for _, f := range code {
				p.Code = append(p.Code, provenance.CodeFile{Path: f.Path, SHA256: f.SHA256})
			}
		}
		rec.Plugins = append(rec.Plugins, p)
	}
	return rec
}

// kAgrees refuses --k N beside --dist-param k=M with M != N: they are
// one setting, and the later would silently win.
func kAgrees(set map[string]string) error {
	k, ok := set["k"]
	if !ok {
		return nil
	}
	for _, kv := range strings.Split(set["dist_params"], ",") {
		if name, v, _ := strings.Cut(kv, "="); strings.TrimSpace(name) == "k" && strings.TrimSpace(v) != strings.TrimSpace(k) {
			return fmt.Errorf("--k %s and --dist-param k=%s disagree: they are one setting; give one", k, strings.TrimSpace(v))
		}
	}
	return nil
}

// paramKind tells whether a config key holds a plugin's parameters, and
// for which kind.
func paramKind(key string) (string, bool) {
	for kind, k := range config.ParamKeys {
		if k == key {
			return kind, true
		}
	}
	return "", false
}

// checkResumeOverrides refuses flags that would make a resumed run
// another run: a key may be repeated with the run's own value, and only
// keys that do not change results (runcore.ResumeOverridable) may change.
func checkResumeOverrides(stored, cfg config.Config, set map[string]string) error {
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if slices.Contains(runcore.ResumeOverridable, k) || stored.Get(k) == cfg.Get(k) {
			continue
		}
		allowed := make([]string, len(runcore.ResumeOverridable))
		for i, o := range runcore.ResumeOverridable {
			allowed[i] = "--" + dash(o)
		}
		return fmt.Errorf("--%s %s differs from the run's %s; a resumed run keeps its config (it may change only %s)",
			dash(k), set[k], stored.Get(k), strings.Join(allowed, ", "))
	}
	return nil
}

// dash turns a YAML key into its flag spelling: total_timesteps ->
// total-timesteps.
func dash(key string) string {
	b := []byte(key)
	for i := range b {
		if b[i] == '_' {
			b[i] = '-'
		}
	}
	return string(b)
}

// helpGroup is the flag annotation naming the section of `nthost run -h`
// a flag is listed in.
const helpGroup = "group"

// keyFlag is one config key on the command line. Its String is the
// key's default, so help shows it; the value is kept as text and applied
// over the config file after parsing.
type keyFlag struct {
	def, typ string
	set      func(string) error
}

func (f *keyFlag) String() string     { return f.def }
func (f *keyFlag) Set(s string) error { return f.set(s) }
func (f *keyFlag) Type() string       { return f.typ }

// runHelp is `nthost run -h`: the flags in sections, one spelling each,
// with meaning and default.
func runHelp(w io.Writer, fs *pflag.FlagSet) {
	fmt.Fprint(w, `usage: nthost [run] [--config FILE] [--KEY VALUE ...]
       nthost [run] --resume RUN_DIR

Trains with topology snapshots. Every key of a --config YAML file is also a
flag; flags override the file. The seed's snake_case spellings of these
flags are read too.
`)
	byGroup := map[string][]*pflag.Flag{}
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		g := "runtime"
		if v := f.Annotations[helpGroup]; len(v) > 0 {
			g = v[0]
		}
		byGroup[g] = append(byGroup[g], f)
	})
	for _, g := range config.Groups {
		flags := byGroup[string(g)]
		if len(flags) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n%s:\n", g)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, f := range flags {
			arg := f.Value.Type()
			switch arg {
			case "bool":
				arg = ""
			case "text", "string":
				arg = "TEXT"
			case "int":
				arg = "N"
			case "float", "float64":
				arg = "X"
			case "NAME=VALUE", "params":
				arg = "NAME=VALUE"
			}
			usage := f.Usage
			if f.DefValue != "" {
				usage += " (default " + f.DefValue + ")"
			}
			fmt.Fprintf(tw, "  --%s %s\t%s\n", f.Name, arg, usage)
		}
		tw.Flush()
	}
}

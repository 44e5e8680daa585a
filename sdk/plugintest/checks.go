package plugintest

import (
	"github.com/neuraltopology/neuraltopology/sdk"
)

// T is what a check needs of a test: *testing.T and *testing.B satisfy
// it, and so does the reporter of `nthost plugin test` (RunReport). Fatalf
// must stop the check (runtime.Goexit, as testing does). A T that also
// has a method Context() context.Context (testing.T since Go 1.24, the
// reporter) bounds every call a check makes by that context.
type T interface {
	Helper()
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
	Logf(format string, args ...any)
	Cleanup(func())
}

// Check is one conformance check, named for reports.
type Check struct {
	Name string
	Run  func(t T, c *sdk.Client)
}

// Checks returns the checks that apply to a plugin, chosen by its kind and
// what it declares: the triangle inequality only for a distance declaring
// metric=true; H1 only for a homology backend with max_dim >= 1; points
// input only if input lists points; each declared coefficient field; each
// declared task.
func Checks(info sdk.Info) []Check {
	cs := []Check{{"describe", func(t T, c *sdk.Client) { CheckDescribe(t, c.Info) }}}
	add := func(name string, f func(t T, c *sdk.Client)) { cs = append(cs, Check{name, f}) }
	// Every plugin's socket must refuse clients without the host's
	// certificate; with TLS turned off for the host there is nothing to ask.
	if sdk.PluginTLS() {
		add("private-channel", func(t T, c *sdk.Client) { CheckPrivateChannel(t, c) })
	}
	switch info.Kind {
	case sdk.KindDist:
		add("distance", func(t T, c *sdk.Client) { CheckDistance(t, dist(t, c)) })
		add("distance/params", func(t T, c *sdk.Client) { CheckDistanceParams(t, dist(t, c), c.Info) })
		if sdk.Metric(info) {
			add("distance/triangle-inequality", func(t T, c *sdk.Client) { CheckDistanceMetric(t, dist(t, c)) })
		}
		add("distance/32MB-result", func(t T, c *sdk.Client) { CheckDistanceLarge(t, dist(t, c)) })
	case sdk.KindPH:
		add("homology/H0", func(t T, c *sdk.Client) { CheckHomologyH0(t, ph(t, c)) })
		if d, ok := sdk.MaxDim(info); ok && d >= 1 {
			add("homology/H1-circle", func(t T, c *sdk.Client) { CheckHomologyCircle(t, ph(t, c)) })
		}
		add("homology/bad-input", func(t T, c *sdk.Client) { CheckHomologyBadInput(t, ph(t, c), c.Info) })
		add("homology/coefficients", func(t T, c *sdk.Client) { CheckHomologyCoefficients(t, ph(t, c), c.Info) })
		add("homology/params", func(t T, c *sdk.Client) { CheckHomologyParams(t, ph(t, c), c.Info) })
		if sdk.TakesInput(info, "points") {
			add("homology/points", func(t T, c *sdk.Client) { CheckHomologyPoints(t, ph(t, c)) })
		}
		if sdk.TakesInput(info, "edges") {
			add("homology/edges", func(t T, c *sdk.Client) { CheckHomologyEdges(t, ph(t, c)) })
		}
		add("homology/32MB-request", func(t T, c *sdk.Client) { CheckHomologyLarge(t, ph(t, c)) })
	case sdk.KindEnv:
		add("environment/unknown-task", func(t T, c *sdk.Client) { CheckEnvUnknownTask(t, env(t, c), c.Info) })
		for _, task := range sdk.Tasks(info) {
			task := task
			add("environment/"+task, func(t T, c *sdk.Client) { CheckEnvTask(t, env(t, c), c.Info, task) })
		}
	case sdk.KindAlgo:
		if info.Capabilities[sdk.CapSupervised] == "true" {
			add("algorithm/supervised", func(t T, c *sdk.Client) { CheckSupervised(t, classifier(t, c)) })
		} else {
			add("algorithm", func(t T, c *sdk.Client) { CheckAlgo(t, algo(t, c)) })
		}
	case sdk.KindData:
		add("data", func(t T, c *sdk.Client) { CheckData(t, data(t, c), c.Info) })
	}
	// Last, when every other check had its chance to print.
	add("quiet-stdout", func(t T, c *sdk.Client) { CheckQuietStdout(t, c) })
	return cs
}

func dist(t T, c *sdk.Client) sdk.Distance {
	d, err := c.Dist()
	if err != nil {
		t.Fatalf("%v", err)
	}
	return d
}

func ph(t T, c *sdk.Client) sdk.Homology {
	h, err := c.PH()
	if err != nil {
		t.Fatalf("%v", err)
	}
	return h
}

func env(t T, c *sdk.Client) sdk.Environment {
	e, err := c.Env()
	if err != nil {
		t.Fatalf("%v", err)
	}
	return e
}

func algo(t T, c *sdk.Client) sdk.Algorithm {
	a, err := c.Algo()
	if err != nil {
		t.Fatalf("%v", err)
	}
	return a
}

func classifier(t T, c *sdk.Client) sdk.Classifier {
	a, err := c.Algo()
	if err != nil {
		t.Fatalf("%v", err)
	}
	cl, ok := a.(sdk.Classifier)
	if !ok {
		t.Fatalf("plugin declares %s but is not a Classifier", sdk.CapSupervised)
	}
	return cl
}

func data(t T, c *sdk.Client) sdk.Data {
	d, err := c.Data()
	if err != nil {
		t.Fatalf("%v", err)
	}
	return d
}

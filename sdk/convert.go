package sdk

import (
	"fmt"
	"math"

	"github.com/neuraltopology/neuraltopology/sdk/pb"
)

// Conversions between the Go types of this package and their protobuf
// messages. They copy slices only where the types differ.

func toPBMatrix(m Matrix) *pb.Matrix {
	return &pb.Matrix{Rows: int32(m.Rows), Cols: int32(m.Cols), Data: m.Data}
}

func fromPBMatrix(m *pb.Matrix) Matrix {
	if m == nil {
		return Matrix{}
	}
	return Matrix{Rows: int(m.Rows), Cols: int(m.Cols), Data: m.Data}
}

func optPBMatrix(m *Matrix) *pb.Matrix {
	if m == nil {
		return nil
	}
	return toPBMatrix(*m)
}

func optMatrix(m *pb.Matrix) *Matrix {
	if m == nil {
		return nil
	}
	x := fromPBMatrix(m)
	return &x
}

func optPBEdges(e *Edges) *pb.Edges {
	if e == nil {
		return nil
	}
	return &pb.Edges{N: int32(e.N), I: e.I, J: e.J, D: e.D}
}

func optEdges(e *pb.Edges) *Edges {
	if e == nil {
		return nil
	}
	return &Edges{N: int(e.N), I: e.I, J: e.J, D: e.D}
}

func toPBInfo(i Info) *pb.Info {
	return &pb.Info{
		Name: i.Name, Kind: string(i.Kind), Version: i.Version,
		Protocol: int32(i.Protocol), Description: i.Description,
		Capabilities: i.Capabilities, Params: toPBParams(i.Params),
	}
}

func toPBParams(ps []ParamSpec) []*pb.ParamSpec {
	out := make([]*pb.ParamSpec, len(ps))
	for k, p := range ps {
		out[k] = &pb.ParamSpec{Name: p.Name, Type: string(p.Type), DefaultValue: p.Default, Doc: p.Doc, Choices: p.Choices,
			Min: p.Min, Max: p.Max, MinExclusive: p.MinExclusive, MaxExclusive: p.MaxExclusive}
	}
	return out
}

func fromPBParams(ps []*pb.ParamSpec) []ParamSpec {
	var out []ParamSpec
	for _, p := range ps {
		out = append(out, ParamSpec{Name: Printable(p.GetName()), Type: ParamType(Printable(p.GetType())), Default: Printable(p.GetDefaultValue()), Doc: Printable(p.GetDoc()), Choices: printableAll(p.GetChoices()),
			Min: Printable(p.GetMin()), Max: Printable(p.GetMax()), MinExclusive: p.GetMinExclusive(), MaxExclusive: p.GetMaxExclusive()})
	}
	return out
}

// fromPBInfo converts a plugin's Info, with its text made Printable: it
// is shown in terminals (nthost plugins, errors naming the plugin).
func fromPBInfo(i *pb.Info) Info {
	return Info{
		Name: Printable(i.GetName()), Kind: Kind(Printable(i.GetKind())), Version: Printable(i.GetVersion()),
		Protocol: int(i.GetProtocol()), Description: Printable(i.GetDescription()),
		Capabilities: printableMap(i.GetCapabilities()), Params: fromPBParams(i.GetParams()),
	}
}

func toPBEnvSpec(s EnvSpec) *pb.EnvSpec {
	return &pb.EnvSpec{
		TaskId: s.TaskID, NumEnvs: int32(s.NumEnvs),
		ObsDim: int32(s.ObsDim), ActDim: int32(s.ActDim),
		ObsLow: s.ObsLow, ObsHigh: s.ObsHigh, ActLow: s.ActLow, ActHigh: s.ActHigh,
		MaxEpisodeSteps: int32(s.MaxEpisodeSteps), Dt: s.DT, InfoKeys: s.InfoKeys,
	}
}

func fromPBEnvSpec(s *pb.EnvSpec) EnvSpec {
	return EnvSpec{
		TaskID: s.GetTaskId(), NumEnvs: int(s.GetNumEnvs()),
		ObsDim: int(s.GetObsDim()), ActDim: int(s.GetActDim()),
		ObsLow: s.GetObsLow(), ObsHigh: s.GetObsHigh(), ActLow: s.GetActLow(), ActHigh: s.GetActHigh(),
		MaxEpisodeSteps: int(s.GetMaxEpisodeSteps()), DT: s.GetDt(), InfoKeys: s.GetInfoKeys(),
	}
}

func toPBStep(r StepResult) *pb.StepResult {
	out := &pb.StepResult{
		Obs: toPBMatrix(r.Obs), Reward: r.Reward,
		Terminated: r.Terminated, Truncated: r.Truncated,
		FinalObs: toPBMatrix(r.FinalObs),
	}
	for _, e := range r.Episodes {
		out.Episodes = append(out.Episodes, &pb.EpisodeStat{Env: int32(e.Env), Return: e.Return, Length: int32(e.Length)})
	}
	if len(r.Info) > 0 {
		out.Info = make(map[string]*pb.Floats, len(r.Info))
		for k, v := range r.Info {
			out.Info[k] = &pb.Floats{Values: v}
		}
	}
	return out
}

func fromPBStep(r *pb.StepResult) StepResult {
	out := StepResult{
		Obs: fromPBMatrix(r.GetObs()), Reward: r.GetReward(),
		Terminated: r.GetTerminated(), Truncated: r.GetTruncated(),
		FinalObs: fromPBMatrix(r.GetFinalObs()),
	}
	for _, e := range r.GetEpisodes() {
		out.Episodes = append(out.Episodes, EpisodeStat{Env: int(e.Env), Return: e.Return, Length: int(e.Length)})
	}
	if len(r.GetInfo()) > 0 {
		out.Info = make(map[string][]float64, len(r.Info))
		for k, v := range r.Info {
			out.Info[k] = v.GetValues()
		}
	}
	return out
}

func toPBOutcome(o *Outcome) *pb.Outcome {
	if o == nil {
		return nil
	}
	return &pb.Outcome{Reward: o.Reward, Terminated: o.Terminated, Truncated: o.Truncated, FinalObs: toPBMatrix(o.FinalObs)}
}

func fromPBOutcome(o *pb.Outcome) *Outcome {
	if o == nil {
		return nil
	}
	return &Outcome{Reward: o.Reward, Terminated: o.Terminated, Truncated: o.Truncated, FinalObs: fromPBMatrix(o.FinalObs)}
}

func toPBDiagrams(ds []Diagram) []*pb.Diagram {
	out := make([]*pb.Diagram, len(ds))
	for i, d := range ds {
		p := &pb.Diagram{Dim: int32(d.Dim), Births: make([]float64, len(d.Pairs)), Deaths: make([]float64, len(d.Pairs))}
		for j, bd := range d.Pairs {
			p.Births[j], p.Deaths[j] = bd[0], bd[1]
		}
		for _, c := range d.Cocycles {
			p.Cocycles = append(p.Cocycles, &pb.Cocycle{I: c.I, J: c.J, V: c.V})
		}
		out[i] = p
	}
	return out
}

func fromPBDiagrams(ds []*pb.Diagram) ([]Diagram, error) {
	out := make([]Diagram, len(ds))
	for i, d := range ds {
		if len(d.Births) != len(d.Deaths) {
			return nil, fmt.Errorf("dimension %d has %d births but %d deaths", d.Dim, len(d.Births), len(d.Deaths))
		}
		n := len(d.Births)
		x := Diagram{Dim: int(d.Dim), Pairs: make([][2]float64, n)}
		for j := 0; j < n; j++ {
			x.Pairs[j] = [2]float64{d.Births[j], d.Deaths[j]}
		}
		for _, c := range d.Cocycles {
			x.Cocycles = append(x.Cocycles, Cocycle{I: c.I, J: c.J, V: c.V})
		}
		out[i] = x
	}
	return out, nil
}

// threshold maps the wire's "0 means no threshold" to +Inf; every other
// value, including bad ones, is passed on for the backend to judge.
func threshold(t float64) float64 {
	if t == 0 {
		return math.Inf(1)
	}
	return t
}

func toPBActResult(res ActResult) *pb.ActResult {
	out := &pb.ActResult{Actions: toPBMatrix(res.Actions)}
	if u := res.Update; u != nil {
		out.Update = &pb.UpdateStats{Update: int32(u.Update), Step: int64(u.Step), Stats: u.Stats}
	}
	return out
}

package plugintest

import (
	"slices"

	"github.com/neuraltopology/neuraltopology/sdk"
)

// CheckData generates a small split of every data set a data plugin
// declares and checks that it is a valid labelled cloud of the size asked
// for, with every class present; that the same request gives the same
// points bit for bit and another seed or split other points; and that an
// unknown data set or split is an error, not a crash.
func CheckData(t T, d sdk.Data, info sdk.Info) {
	ids := sdk.Datasets(info)
	if len(ids) == 0 {
		t.Fatalf("a data plugin must declare its data sets (capability %s)", sdk.CapDatasets)
	}
	for _, id := range ids {
		req := sdk.DataRequest{DatasetID: id, Seed: 1, Split: sdk.SplitTrain, Samples: 360}
		a, err := d.Generate(ctx(t), req)
		if err != nil {
			t.Fatalf("%s: generate: %v", id, err)
		}
		if err := a.Validate(); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		if a.Points.Rows != 360 {
			t.Errorf("%s: asked for 360 points, got %d", id, a.Points.Rows)
		}
		for c := range a.Classes {
			if !slices.Contains(a.Labels, c) {
				t.Errorf("%s: class %d (%s) has no point", id, c, a.Classes[c])
			}
		}
		b, err := d.Generate(ctx(t), req)
		if err != nil || !equalBits(a.Points.Data, b.Points.Data) || !slices.Equal(a.Labels, b.Labels) {
			t.Errorf("%s: the same request gave other points (err %v)", id, err)
		}
		for _, other := range []sdk.DataRequest{
			{DatasetID: id, Seed: 2, Split: sdk.SplitTrain, Samples: 360},
			{DatasetID: id, Seed: 1, Split: sdk.SplitHomology, Samples: 360},
		} {
			o, err := d.Generate(ctx(t), other)
			if err != nil {
				t.Fatalf("%s: generate seed %d split %s: %v", id, other.Seed, other.Split, err)
			}
			if equalBits(a.Points.Data, o.Points.Data) {
				t.Errorf("%s: seed %d split %s gave the points of seed 1 split train", id, other.Seed, other.Split)
			}
		}
	}
	if _, err := d.Generate(ctx(t), sdk.DataRequest{DatasetID: "no-such-data-set", Seed: 1, Split: sdk.SplitTrain}); err == nil {
		t.Errorf("an unknown data set must be an error")
	}
	if _, err := d.Generate(ctx(t), sdk.DataRequest{DatasetID: ids[0], Seed: 1, Split: "no-such-split"}); err == nil {
		t.Errorf("an unknown split must be an error")
	}
}

// CheckSupervised fits a supervised learner on two separable blobs in the
// plane and checks that it reaches 100% training accuracy, reports its
// epochs in order, answers Activations for the layers Init named, and
// refuses labels outside its classes.
func CheckSupervised(t T, a sdk.Classifier) {
	spec := sdk.EnvSpec{TaskID: "blobs", ObsDim: 2, ActDim: 2}
	as, err := a.Init(ctx(t), sdk.AlgoConfig{Env: spec, Seed: 1, Hyper: map[string]string{"hidden_size": "8,8"}})
	if err != nil {
		t.Fatalf("init: %v", err)
	}
	if len(as.Layers) == 0 {
		t.Fatalf("init must name the hidden layers; got %+v", as)
	}
	pts := RandomCloud(200, 2, 5)
	labels := make([]int, 200)
	for i := range labels {
		if i >= 100 {
			labels[i] = 1
			pts.Row(i)[0] += 6 // far apart: any learner separates them
		}
	}
	res, err := a.Fit(ctx(t), sdk.FitRequest{Points: pts, Labels: labels, Classes: 2, TargetAccuracy: 1, MaxEpochs: 2000})
	if err != nil {
		t.Fatalf("fit: %v", err)
	}
	if !res.Reached || len(res.Epochs) == 0 || res.Epochs[len(res.Epochs)-1].Accuracy != 1 {
		t.Fatalf("fit on separable blobs did not reach 100%% training accuracy: %d epochs, reached %v", len(res.Epochs), res.Reached)
	}
	for i, e := range res.Epochs {
		if e.Epoch != i+1 {
			t.Fatalf("epoch %d reported as %d", i+1, e.Epoch)
		}
	}
	ls, err := a.Activations(ctx(t), pts, nil)
	if err != nil || len(ls) != len(as.Layers) {
		t.Fatalf("activations: %v (%d layers for %d named)", err, len(ls), len(as.Layers))
	}
	for i, l := range ls {
		if l.Name != as.Layers[i] || l.Values.Rows != 200 || l.Values.Validate(true) != nil {
			t.Fatalf("layer %d: %q %dx%d", i, l.Name, l.Values.Rows, l.Values.Cols)
		}
	}
	bad := append([]int(nil), labels...)
	bad[3] = 7
	if _, err := a.Fit(ctx(t), sdk.FitRequest{Points: pts, Labels: bad, Classes: 2, MaxEpochs: 1}); err == nil {
		t.Errorf("a label outside the classes must be an error")
	}
}

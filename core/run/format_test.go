package run

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/neuraltopology/neuraltopology/core/config"

	"github.com/neuraltopology/neuraltopology/core/summary"
	"github.com/neuraltopology/neuraltopology/core/train"
	"github.com/neuraltopology/neuraltopology/sdk/statebin"
)

// TestCheckpointFormats: checkpoints of format 1 (before episodes were
// kept) still decode, and the current format keeps its episodes.
func TestCheckpointFormats(t *testing.T) {
	old, err := statebin.Marshal(&checkpointV1{Format: 1, Identity: "id", Update: 3, Step: 700, Snapshots: 1, Stopped: true,
		Train: train.State{Update: 3, Step: 700}, Analysis: []byte{1, 2}})
	if err != nil {
		t.Fatal(err)
	}
	ck, err := decodeCheckpoint(old)
	if err != nil || ck.Identity != "id" || ck.Step != 700 || !ck.Stopped || ck.Train.Step != 700 || len(ck.Analysis) != 2 || ck.Episodes != nil {
		t.Fatalf("format 1: %+v, %v", ck, err)
	}
	now, err := encodeCheckpoint(checkpoint{Format: checkpointFormat, Identity: "id", Episodes: []summary.Episode{{Step: 9, Return: 1.5, Length: 9}}})
	if err != nil {
		t.Fatal(err)
	}
	if ck, err = decodeCheckpoint(now); err != nil || len(ck.Episodes) != 1 || ck.Episodes[0].Return != 1.5 {
		t.Fatalf("format %d: %+v, %v", checkpointFormat, ck, err)
	}
	if _, err := decodeCheckpoint([]byte("junk")); err == nil {
		t.Error("junk decoded")
	}
}

// TestIdentityIgnoresTrackerKeys: the tracker's keys change no result, so
// neither the identity; and a config without them (a run written before
// they were keys) hashes as before.
func TestIdentityIgnoresTrackerKeys(t *testing.T) {
	a := config.Default()
	b := a
	b.Track, b.WandbProjectName, b.WandbEntity = true, "p", "e"
	if Identity(a) != Identity(b) {
		t.Error("tracker keys change the identity")
	}
	plain := config.Default()
	plain.SnapshotJobs = 0
	var old []string
	for _, l := range strings.SplitAfter(string(plain.YAML()), "\n") {
		if !strings.HasPrefix(l, "track:") && !strings.HasPrefix(l, "wandb_") {
			old = append(old, l)
		}
	}
	sum := sha256.Sum256([]byte(strings.Join(old, "")))
	if Identity(config.Default()) != hex.EncodeToString(sum[:]) {
		t.Error("identity of a config without tracker keys changed")
	}
}

package run

import (
	"testing"

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

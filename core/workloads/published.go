package workloads

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"

	"github.com/neuraltopology/neuraltopology/core/matio"
)

// data holds Ripser's published example files (data/README.md).
//
//go:embed data/o3_1024.txt data/sphere_3_192.lower_distance_matrix
var data embed.FS

// publishedFile is one of Ripser's example files: its name in data/, its
// ripser format and its SHA-256.
type publishedFile struct {
	file, format, sha256 string
}

var published = map[string]publishedFile{
	"sphere_3_192": {"sphere_3_192.lower_distance_matrix", matio.RipserLower, "cd858ae13495cfc402c508fa59e2ea5188cd369f8c4864ed143b71e2e030e033"},
	"o3_1024":      {"o3_1024.txt", matio.RipserPoints, "fe48136f1da0ef449ce2e417ed256144397c5a337187799ab866b2a1234c2f8d"},
}

// PublishedNames lists the published datasets Published reads.
var PublishedNames = []string{"sphere_3_192", "o3_1024"}

// Published reads one of Ripser's published example files by dataset
// name, after checking its checksum.
func Published(name string) (matio.RipserInput, error) {
	p, ok := published[name]
	if !ok {
		return matio.RipserInput{}, fmt.Errorf("no published dataset %q (have %v)", name, PublishedNames)
	}
	b, err := data.ReadFile("data/" + p.file)
	if err != nil {
		return matio.RipserInput{}, err
	}
	if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != p.sha256 {
		return matio.RipserInput{}, fmt.Errorf("data/%s: SHA-256 %x, want %s", p.file, sum, p.sha256)
	}
	in, err := matio.ReadRipser(bytes.NewReader(b), p.format)
	if err != nil {
		return matio.RipserInput{}, fmt.Errorf("data/%s: %w", p.file, err)
	}
	return in, nil
}

// PublishedBytes returns a published file's text as Ripser reads it, so a
// benchmark can hand ripser the original file.
func PublishedBytes(name string) ([]byte, string, error) {
	p, ok := published[name]
	if !ok {
		return nil, "", fmt.Errorf("no published dataset %q", name)
	}
	b, err := data.ReadFile("data/" + p.file)
	return b, p.format, err
}

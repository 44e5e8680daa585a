package rollout

import (
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/neuraltopology/neuraltopology/core/runstore"
	"github.com/neuraltopology/neuraltopology/sdk"
)

// GIFEncoder turns RGB frames into one animated GIF. The palette is chosen
// from the first frame (the 256 most common colours at 5 bits per
// channel), which suits a rollout's frames: same scene, moving robot.
// Later frames map each colour to its nearest palette entry through a
// 32x32x32 lookup table, filled on first use.
type GIFEncoder struct {
	g     gif.GIF
	delay int
	pal   color.Palette
	lut   []int16 // 5-bit RGB -> palette index, -1 until computed
}

// NewGIFEncoder starts an animation whose frames each last delay
// hundredths of a second.
func NewGIFEncoder(delay int) *GIFEncoder { return &GIFEncoder{delay: delay} }

// Add appends one frame; all frames must have the first frame's size.
func (e *GIFEncoder) Add(f sdk.Frame) error {
	if f.Width < 1 || f.Height < 1 || len(f.Pix) != 3*f.Width*f.Height {
		return fmt.Errorf("gif: frame %dx%d has %d bytes, want %d", f.Width, f.Height, len(f.Pix), 3*f.Width*f.Height)
	}
	if len(e.g.Image) > 0 {
		if b := e.g.Image[0].Bounds(); b.Dx() != f.Width || b.Dy() != f.Height {
			return fmt.Errorf("gif: frame %dx%d differs from the first frame's %dx%d", f.Width, f.Height, b.Dx(), b.Dy())
		}
	}
	if e.pal == nil {
		e.pal = popularPalette(f)
		e.lut = make([]int16, 1<<15)
		for i := range e.lut {
			e.lut[i] = -1
		}
	}
	img := image.NewPaletted(image.Rect(0, 0, f.Width, f.Height), e.pal)
	for p := range f.Width * f.Height {
		r, g, b := f.Pix[3*p], f.Pix[3*p+1], f.Pix[3*p+2]
		k := int(r>>3)<<10 | int(g>>3)<<5 | int(b>>3)
		if e.lut[k] < 0 {
			e.lut[k] = int16(e.pal.Index(color.RGBA{r, g, b, 255}))
		}
		img.Pix[p] = uint8(e.lut[k])
	}
	e.g.Image = append(e.g.Image, img)
	e.g.Delay = append(e.g.Delay, e.delay)
	return nil
}

// Len is the number of frames added.
func (e *GIFEncoder) Len() int { return len(e.g.Image) }

// Encode writes the animation.
func (e *GIFEncoder) Encode(w io.Writer) error {
	if len(e.g.Image) == 0 {
		return fmt.Errorf("gif: no frames")
	}
	return gif.EncodeAll(w, &e.g)
}

// popularPalette picks the 256 most frequent 5-bit colour cells of f,
// each represented by the mean of its pixels.
func popularPalette(f sdk.Frame) color.Palette {
	type cell struct{ n, r, g, b int }
	cells := make(map[int]*cell)
	for p := range f.Width * f.Height {
		r, g, b := int(f.Pix[3*p]), int(f.Pix[3*p+1]), int(f.Pix[3*p+2])
		k := r>>3<<10 | g>>3<<5 | b>>3
		c := cells[k]
		if c == nil {
			c = &cell{}
			cells[k] = c
		}
		c.n++
		c.r += r
		c.g += g
		c.b += b
	}
	list := make([]*cell, 0, len(cells))
	for _, c := range cells {
		list = append(list, c)
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].n != list[j].n {
			return list[i].n > list[j].n
		}
		return list[i].r+list[i].g<<8+list[i].b<<16 < list[j].r+list[j].g<<8+list[j].b<<16
	})
	pal := color.Palette{}
	for _, c := range list[:min(len(list), 248)] {
		pal = append(pal, color.RGBA{uint8(c.r / c.n), uint8(c.g / c.n), uint8(c.b / c.n), 255})
	}
	// A few pure colours keep things that appear later (a robot walking
	// into a frame that started empty) from mapping to the background.
	for _, c := range []color.RGBA{{0, 0, 0, 255}, {255, 255, 255, 255}, {255, 0, 0, 255}, {0, 160, 0, 255}, {0, 0, 255, 255}, {220, 160, 100, 255}, {128, 128, 128, 255}, {255, 255, 0, 255}} {
		pal = append(pal, c)
	}
	return pal
}

// gifFile writes a GIF to a temporary file beside its final path.
type gifFile struct {
	*GIFEncoder
	path string
}

func createGIF(path string, delay int) (*gifFile, error) {
	dir := filepath.Dir(path)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("rollout: gif %s: folder %s does not exist", path, dir)
	}
	return &gifFile{GIFEncoder: NewGIFEncoder(delay), path: path}, nil
}

func (g *gifFile) add(f sdk.Frame) error { return g.Add(f) }

// commit encodes through runstore.WriteAtomic: renamed into place, or
// in place for a device such as /dev/null.
func (g *gifFile) commit() error {
	if err := runstore.WriteAtomic(g.path, g.Encode); err != nil {
		return fmt.Errorf("rollout: gif: %w", err)
	}
	return nil
}

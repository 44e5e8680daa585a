package ppo

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"
)

// dense is one fully connected layer y = x W + b. W is stored in x out,
// row-major, so a batch forward pass is one matrix product X W with the
// batch as rows. Its slices are views into the learner's flat parameter
// and gradient vectors, so Adam, gradient clipping and checkpoints see one
// vector.
type dense struct {
	in, out int
	w, b    []float64
	gw, gb  []float64
}

// mlp is a stack of dense layers with tanh after every layer but the last.
type mlp struct {
	layers []dense
}

// mlpSize returns the number of parameters of an mlp with the given widths
// (input, hidden..., output).
func mlpSize(widths []int) int {
	n := 0
	for i := 0; i+1 < len(widths); i++ {
		n += widths[i]*widths[i+1] + widths[i+1]
	}
	return n
}

// newMLP lays an mlp over params and grads (each of length mlpSize).
func newMLP(widths []int, params, grads []float64) mlp {
	var m mlp
	off := 0
	for i := 0; i+1 < len(widths); i++ {
		in, out := widths[i], widths[i+1]
		d := dense{in: in, out: out}
		d.w, d.gw = params[off:off+in*out], grads[off:off+in*out]
		off += in * out
		d.b, d.gb = params[off:off+out], grads[off:off+out]
		off += out
		m.layers = append(m.layers, d)
	}
	return m
}

// orthoInit fills each layer with a scaled random orthogonal matrix and
// zero biases, as torch.nn.init.orthogonal_ does: QR of a Gaussian matrix
// with the signs of R's diagonal folded into Q. gains holds one gain per
// layer.
func (m mlp) orthoInit(rnd normalSource, gains []float64) {
	for li, d := range m.layers {
		// torch's weight is out x in; we store its transpose.
		rows, cols := d.out, d.in
		tall := rows >= cols
		r, c := rows, cols
		if !tall {
			r, c = cols, rows
		}
		g := mat.NewDense(r, c, nil)
		for i := 0; i < r; i++ {
			for j := 0; j < c; j++ {
				g.Set(i, j, rnd.NormFloat64())
			}
		}
		var qr mat.QR
		qr.Factorize(g)
		var q, rr mat.Dense
		qr.QTo(&q)
		qr.RTo(&rr)
		for i := 0; i < r; i++ {
			for j := 0; j < c; j++ {
				// Column j of the thin Q, sign-corrected.
				v := q.At(i, j)
				if rr.At(j, j) < 0 {
					v = -v
				}
				v *= gains[li]
				// Element (i, j) of the r x c orthogonal matrix is torch's
				// weight (i, j) if tall, else its (j, i).
				wo, wi := i, j
				if !tall {
					wo, wi = j, i
				}
				d.w[wi*d.out+wo] = v
			}
		}
		for j := range d.b {
			d.b[j] = 0
		}
	}
}

// normalSource is the part of *rand.Rand that initialisation needs.
type normalSource interface{ NormFloat64() float64 }

// work is the scratch space of one mlp for batches of up to cap rows: the
// input and every layer's output (post-tanh for hidden layers), and the
// gradient with respect to every layer's pre-activation.
type work struct {
	cap   int
	acts  [][]float64 // acts[0] input, acts[l+1] output of layer l
	delta [][]float64 // delta[l] gradient w.r.t. layer l's pre-activation
}

func newWork(m mlp, rows int) *work {
	w := &work{cap: rows}
	w.acts = append(w.acts, make([]float64, rows*m.layers[0].in))
	for _, d := range m.layers {
		w.acts = append(w.acts, make([]float64, rows*d.out))
		w.delta = append(w.delta, make([]float64, rows*d.out))
	}
	return w
}

// input returns the input buffer for n rows, to be filled by the caller.
func (w *work) input(n, cols int) []float64 { return w.acts[0][:n*cols] }

// output returns the last layer's output for n rows.
func (w *work) output(n int, m mlp) []float64 {
	return w.acts[len(m.layers)][:n*m.layers[len(m.layers)-1].out]
}

// hidden returns the post-tanh output of hidden layer l (0-based) for n rows.
func (w *work) hidden(l, n int, m mlp) []float64 {
	return w.acts[l+1][:n*m.layers[l].out]
}

func general(rows, cols int, data []float64) blas64.General {
	return blas64.General{Rows: rows, Cols: cols, Stride: cols, Data: data[:rows*cols]}
}

// forward runs n rows of w's input through m.
func (m mlp) forward(w *work, n int) {
	last := len(m.layers) - 1
	for l, d := range m.layers {
		x := w.acts[l][:n*d.in]
		y := w.acts[l+1][:n*d.out]
		for i := 0; i < n; i++ {
			copy(y[i*d.out:(i+1)*d.out], d.b)
		}
		gemm(blas.NoTrans, blas.NoTrans, 1, general(n, d.in, x), general(d.in, d.out, d.w), 1, general(n, d.out, y))
		if l < last {
			tanhInPlace(y)
		}
	}
}

// backward accumulates into m's gradients the gradient of a loss whose
// gradient with respect to the n x out outputs of the last forward pass is
// dOut (which may alias w.delta[last]).
func (m mlp) backward(w *work, n int, dOut []float64) {
	last := len(m.layers) - 1
	copy(w.delta[last][:n*m.layers[last].out], dOut[:n*m.layers[last].out])
	for l := last; l >= 0; l-- {
		d := m.layers[l]
		x := w.acts[l][:n*d.in]
		dz := w.delta[l][:n*d.out]
		// dW += X^T dZ; db += column sums of dZ.
		gemm(blas.Trans, blas.NoTrans, 1, general(n, d.in, x), general(n, d.out, dz), 1, general(d.in, d.out, d.gw))
		colSums(d.gb, dz, n)
		if l == 0 {
			break
		}
		// dH = dZ W^T, then through tanh: dZ_prev = dH (1 - H^2).
		dh := w.delta[l-1][:n*d.in]
		gemm(blas.NoTrans, blas.Trans, 1, general(n, d.out, dz), general(d.in, d.out, d.w), 0, general(n, d.in, dh))
		tanhGrad(dh, x)
	}
}

// gemm computes c = alpha op(a) op(b) + beta c. It is gonum's pure-Go
// Dgemm unless a faster backend (gemm_cblas.go) replaces it at init.
var gemm = blas64.Gemm

// gemmBackend names the matrix-product implementation in use (once
// loadGemm has succeeded).
var gemmBackend = "gonum"

// loadGemm prepares gemm; a backend that loads a library replaces it.
// newLearner calls it, so the library loads with the first learner (and
// its failure is an error there) rather than at program start.
var loadGemm = func() error { return nil }

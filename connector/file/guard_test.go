package file

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"pgregory.net/rapid"
)

// byteGuard is recordGuard as first written, a byte at a time: the
// reference the line-at-a-time one must agree with.
type byteGuard struct{ recordGuard }

func (g *byteGuard) Read(p []byte) (int, error) {
	n, err := g.r.Read(p)
	for i, c := range p[:n] {
		if g.n == 0 {
			g.start = g.line
		}
		g.n++
		switch c {
		case '"':
			g.quoted = !g.quoted
		case '\r':
			if !g.crOnly {
				break
			}
			p[i] = '\n'
			fallthrough
		case '\n':
			g.line++
			if !g.quoted {
				g.n = 0
			}
		}
		if g.n > g.max {
			return 0, g.tooLong()
		}
	}
	return n, err
}

// chunks reads its text in the given sizes, as a decoder might hand it on.
type chunks struct {
	text  []byte
	sizes []int
}

func (c *chunks) Read(p []byte) (int, error) {
	if len(c.text) == 0 {
		return 0, io.EOF
	}
	n := min(len(p), len(c.text), max(1, c.sizes[0]))
	c.sizes = append(c.sizes[1:], c.sizes[0])
	copy(p, c.text[:n])
	c.text = c.text[n:]
	return n, nil
}

// The guard passes on the same text, fails at the same read with the same
// message, and ends on the same line as the byte-at-a-time reference.
func TestRecordGuardAgreesWithTheByteAtATimeOne(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		text := []byte(rapid.StringOf(rapid.SampledFrom([]rune{'a', 'b', ';', '"', '\n', '\r'})).Draw(t, "text"))
		sizes := rapid.SliceOfN(rapid.IntRange(1, 40), 1, 8).Draw(t, "read sizes")
		crOnly := rapid.Bool().Draw(t, "cr only")
		limit := rapid.IntRange(1, 30).Draw(t, "max")
		bufSize := rapid.IntRange(1, 64).Draw(t, "buffer")
		read := func(r io.Reader) ([]byte, error) {
			var out []byte
			buf := make([]byte, bufSize)
			for {
				n, err := r.Read(buf)
				out = append(out, buf[:n]...)
				if errors.Is(err, io.EOF) {
					return out, nil
				}
				if err != nil {
					return out, err
				}
			}
		}
		want := &byteGuard{recordGuard{r: &chunks{bytes.Clone(text), sizes}, max: limit, crOnly: crOnly, line: 1}}
		got := &recordGuard{r: &chunks{bytes.Clone(text), sizes}, max: limit, crOnly: crOnly, line: 1}
		wantOut, wantErr := read(want)
		gotOut, gotErr := read(got)
		if !bytes.Equal(gotOut, wantOut) || (gotErr == nil) != (wantErr == nil) || (gotErr != nil && gotErr.Error() != wantErr.Error()) {
			t.Fatalf("got %q, %v\nwant %q, %v", gotOut, gotErr, wantOut, wantErr)
		}
		if wantErr == nil && (got.line != want.line || got.quoted != want.quoted || got.n != want.n) {
			t.Fatalf("ended on line %d (quoted %v, %d bytes), want line %d (quoted %v, %d bytes)", got.line, got.quoted, got.n, want.line, want.quoted, want.n)
		}
	})
}

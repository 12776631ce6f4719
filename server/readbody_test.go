package server

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"testing"
	"testing/iotest"
)

// readGrowing returns the body byte for byte whatever its size, whether
// the size was announced or not, and refuses more than max.
func TestReadGrowing(t *testing.T) {
	t.Parallel()
	const max = 100 << 10
	for _, size := range []int{0, 1, firstBodyBuffer - 1, firstBodyBuffer, firstBodyBuffer + 1, 3*firstBodyBuffer + 7, max} {
		body := bytes.Repeat([]byte{0, 1, 2, 0xff, 'x'}, size/5+1)[:size]
		for _, announced := range []int64{int64(size), -1} {
			// One byte per read: the worst a sender can do to the buffer.
			r := http.MaxBytesReader(nil, io.NopCloser(iotest.OneByteReader(bytes.NewReader(body))), max)
			got, err := readGrowing(r, announced, max)
			if err != nil || !bytes.Equal(got, body) {
				t.Fatalf("size %d announced %d: %d bytes, %v", size, announced, len(got), err)
			}
			if cap(got) > 2*size+firstBodyBuffer {
				t.Errorf("size %d announced %d: a buffer of %d bytes", size, announced, cap(got))
			}
		}
	}
	r := http.MaxBytesReader(nil, io.NopCloser(bytes.NewReader(make([]byte, max+1))), max)
	var mbe *http.MaxBytesError
	if _, err := readGrowing(r, -1, max); !errors.As(err, &mbe) {
		t.Fatalf("over max: %v", err)
	}
	// A reader that gives more than announced is read on, within max.
	got, err := readGrowing(io.LimitReader(bytes.NewReader(make([]byte, 50)), 50), 10, max)
	if err != nil || len(got) != 50 {
		t.Fatalf("more than announced: %d, %v", len(got), err)
	}
}

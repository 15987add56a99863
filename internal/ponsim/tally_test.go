package ponsim

import (
	"fmt"
	"sync"
	"testing"
)

// Adds from several goroutines, big enough to fold many times, sum
// exactly; a reader meanwhile never sees either count go backwards.
func TestTallyFoldsWithoutLoss(t *testing.T) {
	var c tally
	const workers, adds, size = 4, 1 << 17, 1<<20 + 3 // 2^39 bytes every 2^19 adds: folds
	stop := make(chan struct{})
	readerDone := make(chan error, 1)
	go func() {
		var lastF, lastB uint64
		for {
			f, b := c.load()
			if f < lastF || b < lastB {
				readerDone <- fmt.Errorf("a read went backwards: %d frames, %d bytes after %d, %d", f, b, lastF, lastB)
				return
			}
			lastF, lastB = f, b
			select {
			case <-stop:
				readerDone <- nil
				return
			default:
			}
		}
	}()
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range adds {
				c.add(size)
			}
		})
	}
	wg.Wait()
	close(stop)
	if err := <-readerDone; err != nil {
		t.Fatal(err)
	}
	f, b := c.load()
	if f != workers*adds || b != workers*adds*size {
		t.Fatalf("counted %d frames, %d bytes; want %d, %d", f, b, workers*adds, workers*adds*size)
	}
	if c.frames == 0 {
		t.Fatal("no fold happened: the test does not reach the fold threshold")
	}
	c.set(7, 700)
	c.add(10)
	if f, b := c.load(); f != 8 || b != 710 {
		t.Fatalf("after set(7, 700) and one frame of 10: %d, %d", f, b)
	}
}

// addFrames counts n empty frames (tests that set counts by hand).
func (t *tally) addFrames(n int) {
	for range n {
		t.add(0)
	}
}

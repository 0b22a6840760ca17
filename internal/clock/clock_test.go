package clock

import (
	"testing"
	"time"
)

func TestFakeMovesOnlyWhenTold(t *testing.T) {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	f := NewFake(start)
	if !f.Now().Equal(start) {
		t.Fatalf("Now = %v, want %v", f.Now(), start)
	}
	f.Advance(90 * time.Minute)
	if want := start.Add(90 * time.Minute); !f.Now().Equal(want) {
		t.Fatalf("after Advance Now = %v, want %v", f.Now(), want)
	}
	later := start.Add(48 * time.Hour)
	f.Set(later)
	if !f.Now().Equal(later) {
		t.Fatalf("after Set Now = %v, want %v", f.Now(), later)
	}
	if Real.Now(Real{}).Location() != time.UTC {
		t.Fatal("Real clock is not UTC")
	}
}

package clock

import (
	"testing"
	"time"
)

func TestServer_IsLocalUntilMeasured(t *testing.T) {
	local := NewFake(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	s := NewServer(local)
	if _, known := s.Offset(); known {
		t.Fatal("offset known before any response")
	}
	if !s.Now().Equal(local.Now()) {
		t.Fatalf("Now = %v, want the local %v", s.Now(), local.Now())
	}
}

func TestServer_Observe(t *testing.T) {
	base := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ms := time.Millisecond
	for _, tc := range []struct {
		name           string
		sent, received time.Time
		date           time.Time
		want           time.Duration
		wantKnown      bool
	}{
		// Same clock, a response stamped in the second the request was sent: Date's truncation alone explains it.
		{name: "agree, fraction truncated", sent: base.Add(700 * ms), received: base.Add(900 * ms), date: base, want: 0, wantKnown: true},
		// The server's second ticked over during the round trip.
		{name: "agree, second ticked during round trip", sent: base.Add(900 * ms), received: base.Add(1100 * ms), date: base.Add(time.Second), want: 0, wantKnown: true},
		// The local clock is an hour behind: the server's date is an hour past what we received at.
		{name: "local an hour behind", sent: base, received: base.Add(200 * ms), date: base.Add(time.Hour), want: time.Hour - 200*ms, wantKnown: true},
		// The local clock is an hour ahead.
		{name: "local an hour ahead", sent: base, received: base.Add(200 * ms), date: base.Add(-time.Hour), want: -time.Hour + time.Second, wantKnown: true},
		// A slow round trip widens the interval; a small disagreement inside it is not corrected.
		{name: "slow round trip hides small skew", sent: base, received: base.Add(30 * time.Second), date: base.Add(20 * time.Second), want: 0, wantKnown: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := NewServer(NewFake(base))
			s.Observe(tc.sent, tc.received, tc.date)
			got, known := s.Offset()
			if got != tc.want || known != tc.wantKnown {
				t.Fatalf("offset = %v (known %v), want %v (known %v)", got, known, tc.want, tc.wantKnown)
			}
		})
	}
}

func TestServer_IgnoresUnusableObservations(t *testing.T) {
	base := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	s := NewServer(NewFake(base))
	s.Observe(base, base, base.Add(time.Hour))
	s.Observe(base, base, time.Time{})                           // no Date header
	s.Observe(base.Add(time.Second), base, base.Add(-time.Hour)) // received before sent: a clock jumped back mid-call
	if got, _ := s.Offset(); got != time.Hour {
		t.Fatalf("offset = %v, want the last usable measurement 1h", got)
	}
}

func TestServer_NowFollowsServerAsLocalMoves(t *testing.T) {
	base := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	local := NewFake(base)
	s := NewServer(local)
	s.Observe(base, base, base.Add(-time.Hour))
	local.Advance(10 * time.Minute)
	// Local is at most a second ahead after the correction: the truncated Date cannot tell more.
	if got, want := s.Now(), base.Add(10*time.Minute-time.Hour); got.Before(want) || got.After(want.Add(time.Second)) {
		t.Fatalf("Now = %v, want within a second after %v", got, want)
	}
}

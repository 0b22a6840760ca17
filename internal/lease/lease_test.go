package lease

import (
	"testing"
	"time"
)

func TestLease_Arithmetic(t *testing.T) {
	t0 := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	iamLease := func() *Lease {
		return &Lease{Kind: IAMUser, TTL: time.Hour, IssuedAt: t0, ExpiresAt: t0.Add(time.Hour), MaxExpiresAt: t0.Add(4 * time.Hour)}
	}
	const window = 10 * time.Minute
	for _, tc := range []struct {
		name             string
		lease            func() *Lease
		now              time.Time
		renewable, due   bool
		needsReplacement bool
		renewed          time.Time // RenewedExpiry(now, TTL)
	}{
		{"fresh", iamLease, t0, true, false, false, t0.Add(time.Hour)},
		{"just outside the window", iamLease, t0.Add(49*time.Minute + 59*time.Second), true, false, false, t0.Add(109*time.Minute + 59*time.Second)},
		{"window opens", iamLease, t0.Add(50 * time.Minute), true, true, false, t0.Add(110 * time.Minute)},
		{"one second before expiry", iamLease, t0.Add(time.Hour - time.Second), true, true, false, t0.Add(2*time.Hour - time.Second)},
		{"at expiry", iamLease, t0.Add(time.Hour), false, true, true, t0.Add(2 * time.Hour)},
		{"past expiry", iamLease, t0.Add(2 * time.Hour), false, true, true, t0.Add(3 * time.Hour)},
		{"renewal would be capped inside the window", func() *Lease {
			l := iamLease()
			l.ExpiresAt = t0.Add(4*time.Hour - time.Minute)
			return l
		}, t0.Add(4*time.Hour - 5*time.Minute), true, true, true, t0.Add(4 * time.Hour)},
		{"renewal capped but past the window", func() *Lease {
			l := iamLease()
			l.ExpiresAt = t0.Add(3*time.Hour + 30*time.Minute)
			return l
		}, t0.Add(3*time.Hour + 25*time.Minute), true, true, false, t0.Add(4 * time.Hour)},
		{"at max", func() *Lease {
			l := iamLease()
			l.ExpiresAt = l.MaxExpiresAt
			return l
		}, t0.Add(4*time.Hour - time.Minute), false, true, true, t0.Add(4 * time.Hour)},
		{"sts inside its window", func() *Lease {
			l := iamLease()
			l.Kind = AssumedRole
			return l
		}, t0.Add(55 * time.Minute), false, true, true, t0.Add(115 * time.Minute)},
		{"sts outside its window", func() *Lease {
			l := iamLease()
			l.Kind = FederationToken
			return l
		}, t0, false, false, false, t0.Add(time.Hour)},
		{"subseconds dropped", iamLease, t0.Add(500 * time.Millisecond), true, false, false, t0.Add(time.Hour)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := tc.lease()
			if got := l.Renewable(tc.now); got != tc.renewable {
				t.Errorf("Renewable = %v, want %v", got, tc.renewable)
			}
			if got := l.Due(tc.now, window); got != tc.due {
				t.Errorf("Due = %v, want %v", got, tc.due)
			}
			if got := l.NeedsReplacement(tc.now, window); got != tc.needsReplacement {
				t.Errorf("NeedsReplacement = %v, want %v", got, tc.needsReplacement)
			}
			if got := l.RenewedExpiry(tc.now, l.TTL); !got.Equal(tc.renewed) {
				t.Errorf("RenewedExpiry = %s, want %s", got, tc.renewed)
			}
		})
	}
}

func TestLease_MarshalRoundTrip(t *testing.T) {
	t0 := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	l := &Lease{ID: "lease-1", Kind: IAMUser, Role: "deploy", UserName: "u", AccessKeyID: "AKIA",
		PolicyARNs: []string{"arn:aws:iam::aws:policy/ReadOnlyAccess"}, InlinePolicies: []string{GuardPolicyName},
		Groups: []string{"g"}, TTL: time.Hour, IssuedAt: t0, ExpiresAt: t0.Add(time.Hour), MaxExpiresAt: t0.Add(2 * time.Hour)}
	b, err := l.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != l.ID || got.UserName != l.UserName || !got.ExpiresAt.Equal(l.ExpiresAt) || len(got.PolicyARNs) != 1 ||
		got.TTL != l.TTL {
		t.Errorf("round trip = %+v, want %+v", got, l)
	}
}

// TestLease_Decide is the one renewal decision: keep outside the window, renew inside it while renewing helps,
// replace once expired or when renewal would not carry the lease past its window; RenewAt only for renewable leases.
func TestLease_Decide(t *testing.T) {
	t0 := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	l := &Lease{Kind: IAMUser, TTL: time.Hour, IssuedAt: t0, ExpiresAt: t0.Add(time.Hour), MaxExpiresAt: t0.Add(4 * time.Hour)}
	window := l.RenewWindow(0)
	if window != 20*time.Minute {
		t.Fatalf("default window = %s, want a third of the TTL", window)
	}
	if got := l.RenewWindow(5 * time.Minute); got != 5*time.Minute {
		t.Fatalf("configured window = %s", got)
	}
	for _, tc := range []struct {
		now  time.Time
		want Action
	}{
		{t0, Keep},
		{t0.Add(39 * time.Minute), Keep},
		{t0.Add(40 * time.Minute), Renew},
		{t0.Add(59 * time.Minute), Renew},
		{t0.Add(time.Hour), Replace},
	} {
		d := l.Decide(tc.now, window)
		if d.Action != tc.want {
			t.Errorf("at +%s: %v, want %v", tc.now.Sub(t0), d.Action, tc.want)
		}
		if tc.want != Replace && !d.RenewAt.Equal(t0.Add(40*time.Minute)) {
			t.Errorf("at +%s: RenewAt %s, want expiry less the window", tc.now.Sub(t0), d.RenewAt)
		}
	}
	near := *l
	near.ExpiresAt = t0.Add(4*time.Hour - time.Minute) // renewal is capped at the maximum, inside the window
	if d := near.Decide(t0.Add(4*time.Hour-5*time.Minute), window); d.Action != Replace {
		t.Errorf("near the maximum: %v, want Replace", d.Action)
	}
	sts := *l
	sts.Kind = AssumedRole
	if d := sts.Decide(t0, window); d.Action != Keep || !d.RenewAt.IsZero() {
		t.Errorf("STS lease outside its window: %+v, want Keep and no RenewAt", d)
	}
	if d := sts.Decide(t0.Add(45*time.Minute), window); d.Action != Replace {
		t.Errorf("STS lease inside its window: %v, want Replace", d.Action)
	}
}

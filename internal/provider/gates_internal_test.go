package provider

import (
	"testing"
	"time"
)

// The ephemeral resource's gates: Close forgets a lease's gate, so a long run does not keep one per credential, and
// a Renew already waiting on the gate still sees it closed.
func TestLeaseGates_ForgetKeepsTheHolderClosed(t *testing.T) {
	g := &leaseGates{gates: map[string]*leaseGate{}}
	gate, unlock := g.lock("lease-1")
	seen := make(chan bool)
	go func() { // a Renew that arrived while Close holds the gate
		waiting, release := g.lock("lease-1")
		seen <- waiting.closed
		release()
	}()
	time.Sleep(10 * time.Millisecond) // let it reach the gate's lock
	gate.closed = true
	g.forget("lease-1")
	unlock()
	if !<-seen {
		t.Error("a Renew waiting on the gate did not see it closed")
	}
	if n := len(g.gates); n != 0 {
		t.Errorf("%d gates left after Close forgot the lease", n)
	}
}

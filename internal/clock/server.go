package clock

import (
	"sync"
	"time"
)

// DateResolution is the precision of the HTTP Date header a server stamps its responses with: whole seconds,
// truncated.
const DateResolution = time.Second

// Server is a clock that follows a server's time: the local clock plus the offset last measured from a response.
// Until a response has been measured it is the local clock. Safe for concurrent use.
//
// AWS enforces a lease's expiry guard with its own aws:CurrentTime, so that, not the runner's clock, is the time
// the guard, the expiry tag and the sweep must agree with.
type Server struct {
	local Clock

	mu     sync.Mutex
	offset time.Duration
	known  bool
}

// NewServer returns a Server clock on top of local (nil: Real).
func NewServer(local Clock) *Server {
	if local == nil {
		local = Real{}
	}
	return &Server{local: local}
}

// Local is the clock the offset is measured against.
func (s *Server) Local() Clock { return s.local }

// Now is the server's time as best known: local now plus the measured offset.
func (s *Server) Now() time.Time {
	off, _ := s.Offset()
	return s.local.Now().Add(off)
}

// Offset is how far the server's clock is ahead of the local one (negative: behind); known is false until a
// response has been observed.
func (s *Server) Offset() (offset time.Duration, known bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.offset, s.known
}

// Observe records one exchange: the request left at local time sent, the response arrived at local time
// received, and carried the server's Date header date.
//
// The server stamped its time somewhere between sent and received, and Date drops the fraction of its second, so
// the true offset lies in [date-received, date+1s-sent]. Observe keeps the value of that interval closest to zero:
// no correction when the clocks agree within what one response can tell, and otherwise the smallest correction
// that explains the response (never more than a second and a round trip short of the truth).
func (s *Server) Observe(sent, received, date time.Time) {
	if date.IsZero() || received.Before(sent) {
		return
	}
	lo := date.Sub(received)
	hi := date.Add(DateResolution).Sub(sent)
	var off time.Duration
	switch {
	case lo > 0:
		off = lo
	case hi < 0:
		off = hi
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.offset, s.known = off, true
}

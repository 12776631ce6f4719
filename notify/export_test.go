package notify

import "time"

// Rounds is how many times the delivery loop has looked for due
// deliveries.
func Rounds(e *Engine) uint64 { return e.sched.rounds.Load() }

// CachedEvents is how many events the engine holds in memory.
func CachedEvents(e *Engine) int { return e.events.len() }

// SetClock sets the clock OAuth 2.0 tokens expire by.
func SetClock(e *Engine, now func() time.Time) { e.reach.now = now }

// RoutedClients is how many endpoints have a client of their own.
func RoutedClients(e *Engine) int {
	e.reach.mu.Lock()
	defer e.reach.mu.Unlock()
	return len(e.reach.clients)
}

package notify

// Rounds is how many times the delivery loop has looked for due
// deliveries.
func Rounds(e *Engine) uint64 { return e.sched.rounds.Load() }

// CachedEvents is how many events the engine holds in memory.
func CachedEvents(e *Engine) int { return e.events.len() }

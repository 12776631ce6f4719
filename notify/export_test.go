package notify

// Rounds is how many times the delivery loop has looked for due
// deliveries.
func Rounds(e *Engine) uint64 { return e.rounds.Load() }

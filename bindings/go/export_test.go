package smtp

// LiveHandles is how many runtime/cgo handles the package holds (SASL
// calls in progress, trace functions of live Clients).
func LiveHandles() int64 { return liveHandles.Load() }

package smtp

// LiveHandles is how many runtime/cgo handles the package holds (SASL
// calls in progress, trace functions of live Clients).
func LiveHandles() int64 { return liveHandles.Load() }

// LibraryCodes is every result code of the library with its C name.
func LibraryCodes() map[Code]string { return libraryCodes() }

// CodeNames is the Go name of each result code this package defines.
func CodeNames() map[Code]string { return codeNames }

// CarriesReply is the library's smtp_result_has_reply, as the package uses it.
func CarriesReply(c Code) bool { return carriesReply(c) }

package smtp

// LiveHandles is how many runtime/cgo handles the package holds (SASL
// calls in progress, trace functions of live Clients, reader attachments
// of live Messages).
func LiveHandles() int64 { return liveHandles.Load() }

// LibraryCodes is every result code of the library with its C name.
func LibraryCodes() map[Code]string { return libraryCodes() }

// CodeNames is the Go name of each result code this package defines.
func CodeNames() map[Code]string { return codeNames }

// CarriesReply is the library's smtp_result_has_reply, as the package uses it.
func CarriesReply(c Code) bool { return carriesReply(c) }

// HeaderConstants maps each macro of smtp.h the package mirrors to its Go
// constant, for the test that checks the values against the header.
var HeaderConstants = map[string]int64{
	"SMTP_KIND_SMTP": int64(SMTP), "SMTP_KIND_SMTP_SSL": int64(SMTPSSL), "SMTP_KIND_LMTP": int64(LMTP),
	"SMTP_TIMEOUT_CONNECT": int64(TimeoutConnect), "SMTP_TIMEOUT_IO": int64(TimeoutIO),
	"SMTP_TIMEOUT_REPLY": int64(TimeoutReply), "SMTP_TIMEOUT_GREETING": int64(TimeoutGreeting),
	"SMTP_TIMEOUT_MAIL": int64(TimeoutMail), "SMTP_TIMEOUT_RCPT": int64(TimeoutRcpt),
	"SMTP_TIMEOUT_DATA": int64(TimeoutData), "SMTP_TIMEOUT_DATA_BLOCK": int64(TimeoutDataBlock),
	"SMTP_TIMEOUT_FINAL_DOT": int64(TimeoutFinalDot), "SMTP_TIMEOUT_CALL": int64(TimeoutCall),
	"SMTP_TIMEOUT_ALL": int64(TimeoutAll),
	"SMTP_TRACE_INFO":  int64(TraceInfo), "SMTP_TRACE_SEND": int64(TraceSend), "SMTP_TRACE_RECV": int64(TraceRecv),
	"SMTP_MSG_NORMALIZE": int64(Normalize), "SMTP_MSG_RAW": int64(Raw), "SMTP_MSG_REJECT_BARE_EOL": int64(RejectBareEOL),
	"SMTP_DSN_RET_FULL": int64(DSNRetFull), "SMTP_DSN_RET_HDRS": int64(DSNRetHeaders),
	"SMTP_DSN_NOTIFY_SUCCESS": int64(NotifySuccess), "SMTP_DSN_NOTIFY_FAILURE": int64(NotifyFailure),
	"SMTP_DSN_NOTIFY_DELAY": int64(NotifyDelay), "SMTP_DSN_NOTIFY_NEVER": int64(NotifyNever),
	"SMTP_BODY_7BIT": int64(Body7Bit), "SMTP_BODY_8BITMIME": int64(Body8BitMIME),
	"SMTP_BODY_BINARYMIME":          int64(BodyBinaryMIME),
	"SMTP_AUTH_NO_INITIAL_RESPONSE": int64(NoInitialResponse), "SMTP_AUTH_ALLOW_CLEARTEXT": int64(AllowCleartext),
	"SMTP_ROOTS_MOZILLA": int64(RootsMozilla), "SMTP_ROOTS_SYSTEM": int64(RootsSystem),
	"SMTP_POOL_STARTTLS": int64(PoolStartTLS), "SMTP_POOL_MAX_MESSAGES": int64(PoolMaxMessages),
	"SMTP_POOL_MAX_IDLE_MS": int64(PoolMaxIdleMS), "SMTP_POOL_PROBE_IDLE_MS": int64(PoolProbeIdleMS),
	"SMTP_POOL_RATE": int64(PoolRate), "SMTP_POOL_MAX_CONNECTIONS": int64(PoolMaxConnections),
	"SMTP_POOL_STAT_OPENED": int64(PoolOpened), "SMTP_POOL_STAT_OPEN": int64(PoolOpen),
	"SMTP_POOL_STAT_IDLE": int64(PoolIdle), "SMTP_POOL_STAT_SENT": int64(PoolSent),
	"SMTP_POOL_STAT_RETRIED": int64(PoolRetried), "SMTP_POOL_STAT_PROBED": int64(PoolProbed),
	"SMTP_POOL_STAT_PROBE_FAILED": int64(PoolProbeFailed), "SMTP_POOL_STAT_RETIRED": int64(PoolRetired),
	"SMTP_POOL_STAT_UNKNOWN": int64(PoolUnknown),
	"SMTP_DKIM_SIMPLE":       int64(DKIMSimple), "SMTP_DKIM_RELAXED": int64(DKIMRelaxed),
}

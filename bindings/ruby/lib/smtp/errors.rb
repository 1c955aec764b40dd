# frozen_string_literal: true

module Smtp
  # Mixed into every exception the binding raises for a result code:
  # #result is the SMTP_ERR_* number and #result_str its description.
  module ResultError
    attr_reader :result

    def result_str
      result && Smtp.result_str(result)
    end
  end

  # smtplib's SMTPException: the base of every protocol and transport error
  # (and itself raised for SMTP_ERR_SMTP, "another protocol failure", such as
  # "No suitable authentication method found.").
  class SMTPException < StandardError
    include ResultError

    def initialize(message = nil, result: nil)
      super(message)
      @result = result
    end
  end

  # smtplib's SMTPResponseException: an error that carries the server's
  # reply, as smtp_code (Integer; -1 when the server sent no number) and
  # smtp_error (String).
  class SMTPResponseException < SMTPException
    attr_reader :smtp_code, :smtp_error

    def initialize(message = nil, smtp_code: nil, smtp_error: nil, result: nil)
      super(message || "(#{smtp_code}, #{smtp_error.inspect})", result: result)
      @smtp_code = smtp_code
      @smtp_error = smtp_error
    end
  end

  # SMTP_ERR_SERVER_DISCONNECTED: not connected, or the server closed.
  class SMTPServerDisconnected < SMTPException; end
  # SMTP_ERR_NOT_SUPPORTED: the server does not offer what the call needs.
  class SMTPNotSupportedError < SMTPException; end
  # SMTP_ERR_CONNECT_REPLY: the greeting was not 220.
  class SMTPConnectError < SMTPResponseException; end
  # SMTP_ERR_HELO: both EHLO and HELO were refused.
  class SMTPHeloError < SMTPResponseException; end
  # SMTP_ERR_AUTH: authentication was refused.
  class SMTPAuthenticationError < SMTPResponseException; end
  # SMTP_ERR_AUTH_ABORTED: the client cancelled the exchange ("*"): the
  # block returned nil to a challenge, or the server's challenge was not
  # base64. (A block that raised re-raises its own exception instead.)
  class SMTPAuthenticationAborted < SMTPAuthenticationError; end
  # SMTP_ERR_DATA: DATA or the message was refused.
  class SMTPDataError < SMTPResponseException; end

  # SMTP_ERR_SENDER_REFUSED: MAIL FROM was refused; #sender is the address.
  class SMTPSenderRefused < SMTPResponseException
    attr_reader :sender

    def initialize(message = nil, sender: nil, **kw)
      super(message, **kw)
      @sender = sender
    end
  end

  # SMTP_ERR_RECIPIENTS_REFUSED: every recipient was refused (or a 421 came
  # during RCPT); #recipients is {address => [code, message]}.
  class SMTPRecipientsRefused < SMTPException
    attr_reader :recipients

    def initialize(message = nil, recipients: {}, result: nil)
      super(message, result: result)
      @recipients = recipients
    end
  end

  # SMTP_ERR_TOO_LARGE: the message is over the server's SIZE; nothing sent.
  class SMTPMessageTooLarge < SMTPException; end
  # SMTP_ERR_NOT_ENCRYPTED: the call would send a secret in clear; nothing sent.
  class SMTPNotEncryptedError < SMTPException; end
  # SMTP_ERR_BAD_STATE: a call from inside one of the session's callbacks,
  # a poisoned session, or (binding) a session already freed.
  class SMTPBadStateError < SMTPException; end
  # SMTP_ERR_PANIC: the library panicked; the session is poisoned.
  class SMTPPanicError < SMTPException; end

  # Transport failures (smtplib raises OSError for these).
  class SMTPTransportError < SMTPException; end
  # SMTP_ERR_CONNECT: the connection could not be made.
  class SMTPConnectionFailed < SMTPTransportError; end
  # SMTP_ERR_TIMEOUT: one of the session's limits fired (Session::TIMEOUTS);
  # the connection is closed.
  class SMTPTimeoutError < SMTPTransportError; end
  # SMTP_ERR_IO: another I/O error; the connection is closed.
  class SMTPIOError < SMTPTransportError; end
  # SMTP_ERR_TLS: TLS failed.
  class SMTPTLSError < SMTPTransportError; end
  # SMTP_ERR_CANCELLED: Session#cancel (from another thread, or from one of
  # the session's own blocks) ended the call. As after a timeout, the
  # connection is closed (connect again) and a message whose final reply
  # was not read counts as not sent. A transport error like the timeout,
  # but not a SMTPTimeoutError: `rescue SMTPTimeoutError` does not catch it.
  class SMTPCancelledError < SMTPTransportError; end
  # SMTP_ERR_OUTCOME_UNKNOWN: the message went out in full, then the
  # connection ended before the reply that decides it (a pool's call).
  class SMTPOutcomeUnknown < SMTPTransportError; end
  # The short name of SMTPCancelledError (the same class).
  CancelledError = SMTPCancelledError

  # SMTP_ERR_INVALID_ARGUMENT (smtplib: ValueError): an argument refused
  # before anything was sent (CR/LF/NUL in a command line, bad UTF-8, an
  # unknown constant, ...). A subclass of Ruby's ::ArgumentError.
  class ArgumentError < ::ArgumentError
    include ResultError

    def initialize(message = nil, result: 2)
      super(message)
      @result = result
    end
  end

  # SMTP_ERR_NULL_ARGUMENT: a required argument was missing (nil).
  class NullArgumentError < ArgumentError; end

  # The class for each result code, by its C name.
  ERROR_NAMES = {
    'SMTP_ERR_NULL_ARGUMENT' => NullArgumentError,
    'SMTP_ERR_INVALID_ARGUMENT' => ArgumentError,
    'SMTP_ERR_BAD_STATE' => SMTPBadStateError,
    'SMTP_ERR_PANIC' => SMTPPanicError,
    'SMTP_ERR_CONNECT' => SMTPConnectionFailed,
    'SMTP_ERR_TIMEOUT' => SMTPTimeoutError,
    'SMTP_ERR_IO' => SMTPIOError,
    'SMTP_ERR_TLS' => SMTPTLSError,
    'SMTP_ERR_SERVER_DISCONNECTED' => SMTPServerDisconnected,
    'SMTP_ERR_NOT_ENCRYPTED' => SMTPNotEncryptedError,
    'SMTP_ERR_CANCELLED' => SMTPCancelledError,
    'SMTP_ERR_OUTCOME_UNKNOWN' => SMTPOutcomeUnknown,
    'SMTP_ERR_RESPONSE' => SMTPResponseException,
    'SMTP_ERR_CONNECT_REPLY' => SMTPConnectError,
    'SMTP_ERR_HELO' => SMTPHeloError,
    'SMTP_ERR_NOT_SUPPORTED' => SMTPNotSupportedError,
    'SMTP_ERR_AUTH' => SMTPAuthenticationError,
    'SMTP_ERR_AUTH_ABORTED' => SMTPAuthenticationAborted,
    'SMTP_ERR_SENDER_REFUSED' => SMTPSenderRefused,
    'SMTP_ERR_RECIPIENTS_REFUSED' => SMTPRecipientsRefused,
    'SMTP_ERR_DATA' => SMTPDataError,
    'SMTP_ERR_SMTP' => SMTPException,
    'SMTP_ERR_TOO_LARGE' => SMTPMessageTooLarge
  }.freeze

  # Result code => exception class, one to one: the library's numbers
  # (Smtp::RESULTS) for the names above.
  ERRORS = RESULTS.filter_map { |name, code| [code, ERROR_NAMES[name]] if ERROR_NAMES.key?(name) }.to_h.freeze

  # The exception class for result code +code+ (SMTPException for a code
  # this binding does not know yet).
  def self.error_class(code)
    ERRORS.fetch(code, SMTPException)
  end
end

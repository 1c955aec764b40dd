# frozen_string_literal: true

require 'monitor'

module Smtp
  # One SMTP, SMTP_SSL or LMTP session: smtplib's SMTP / SMTP_SSL / LMTP
  # object over libsmtp's smtp_session.
  #
  # Methods that smtplib returns (code, message) from return [code, message]
  # (message: a String, UTF-8 when valid, else binary); failures raise the
  # exception mapped from the result code (see Smtp::ERRORS). The native
  # session is freed by the garbage collector (FFI::AutoPointer) or at once
  # by #free; #close only drops the connection, as smtplib's close.
  #
  # One session must not be used by two threads at once: each call holds the
  # session's monitor, so concurrent calls wait for each other. The one
  # exception is #cancel, which takes no monitor: any thread may call it
  # while another waits inside a call, and that call then raises
  # SMTPCancelledError. Network calls release the GVL while they wait.
  class Session
    KINDS = {
      smtp: Native::KIND_SMTP,
      smtp_ssl: Native::KIND_SMTP_SSL,
      ssl: Native::KIND_SMTP_SSL,
      lmtp: Native::KIND_LMTP
    }.freeze

    # The limits of #set_timeout / #timeout, by name (SMTP_TIMEOUT_* of
    # smtp.h, whose doc comment of smtp_session_set_timeout_ms() gives the
    # rule). Every wait of a call ends at the earliest of: :call after the
    # call began; :io after the last byte sent or received (:data_block
    # while message data waits to be written); while a reply is awaited,
    # that reply's own limit (:greeting, :mail, :rcpt, :data, :final_dot,
    # else :reply) however slowly the server trickles it; while connecting,
    # :connect for the name lookup and each address. :all stands for every
    # one of them but :call.
    TIMEOUTS = {
      connect: Native::TIMEOUT_CONNECT,
      io: Native::TIMEOUT_IO,
      reply: Native::TIMEOUT_REPLY,
      greeting: Native::TIMEOUT_GREETING,
      mail: Native::TIMEOUT_MAIL,
      rcpt: Native::TIMEOUT_RCPT,
      data: Native::TIMEOUT_DATA,
      data_block: Native::TIMEOUT_DATA_BLOCK,
      final_dot: Native::TIMEOUT_FINAL_DOT,
      call: Native::TIMEOUT_CALL,
      all: Native::TIMEOUT_ALL
    }.freeze

    # The library's defaults, in milliseconds (smtp.h; 0: no limit).
    DEFAULT_TIMEOUT_MS = {
      connect: 30_000, io: 300_000, reply: 600_000, greeting: 300_000, mail: 300_000, rcpt: 300_000,
      data: 120_000, data_block: 180_000, final_dot: 600_000, call: 0
    }.freeze

    # The limits :all (and so #timeout=) sets: every single wait, not :call.
    PER_WAIT_TIMEOUTS = (DEFAULT_TIMEOUT_MS.keys - [:call]).freeze

    # How often #cancel repeats itself until the call it aimed at has
    # ended (see #cancel), in seconds.
    CANCEL_REPEAT = 0.01

    # One recipient of the last transaction (smtp_session_rcpt_*).
    Recipient = Struct.new(:addr, :code, :text, :refused, :status, :data_code, :data_text, :data_status) do
      alias_method :refused?, :refused
    end

    @next_id = 0
    @id_lock = Mutex.new

    class << self
      # The block form (smtplib's `with SMTP(host, port) as s:`): opens the
      # session, yields it, and QUITs at the end however the block ends,
      # then closes. A block that raises keeps its exception (a failing QUIT
      # is then ignored); otherwise a QUIT answered with other than 221
      # raises SMTPResponseException, as smtplib's __exit__. Without a block
      # it returns the open session. Returns the block's value.
      def start(host = nil, port = 0, kind: :smtp, **opts)
        session = new(kind, host: host, port: port, **opts)
        return session unless block_given?

        error = nil
        begin
          yield session
        rescue Exception => e # rubocop:disable Lint/RescueException -- noted, then re-raised
          error = e
          raise
        ensure
          session.__send__(:finish, !error.nil?)
        end
      end

      # How the native handle is released: by the finalizer or #free. The
      # proc holds only the id, never the session.
      def releaser(id)
        proc do |ptr|
          Callbacks::Trace.unregister(id)
          Native.smtp_session_free(ptr)
        end
      end

      def next_id
        @id_lock.synchronize { @next_id += 1 }
      end
    end

    # smtplib's SMTP(host, port, local_hostname, timeout, source_address).
    # kind: :smtp, :smtp_ssl (:ssl) or :lmtp. With host, connects at once
    # (smtp_session_open(): a greeting other than 220 raises
    # SMTPConnectError). timeout: seconds, the bound on every single wait
    # (as #timeout=; nil: the library's defaults). timeouts: a Hash of
    # #set_timeout limits ({greeting: 30, call: 120}), applied after
    # timeout. source_address: "host" or [host, port]. tls_config: an
    # Smtp::TLSConfig for SMTP_SSL and STARTTLS. debuglevel: as
    # #set_debuglevel.
    def initialize(kind = :smtp, host: nil, port: 0, local_hostname: nil, timeout: nil, timeouts: nil,
                   source_address: nil, tls_config: nil, debuglevel: nil)
      kind_code = kind.is_a?(Integer) ? kind : KINDS[kind]
      raise Smtp::ArgumentError.new("unknown session kind #{kind.inspect}", result: 2) if kind_code.nil?

      ptr = Native.smtp_session_new(kind_code)
      raise Smtp::ArgumentError.new("unknown session kind #{kind.inspect}", result: 2) if ptr.null?

      @id = Session.next_id
      @handle = FFI::AutoPointer.new(ptr, Session.releaser(@id))
      @lock = Monitor.new
      @depth = 0
      @trace_block = nil
      # #cancel's state, guarded by @cancel_lock (never held across a
      # blocking call): the number of the running call (nil: none), the
      # last number given out, and the call a repeater thread is after.
      @cancel_lock = Mutex.new
      @running_call = nil
      @call_seq = 0
      @repeating_for = nil
      begin
        self.local_hostname = local_hostname if local_hostname
        self.timeout = timeout if timeout
        timeouts&.each { |which, seconds| set_timeout(which, seconds) }
        self.source_address = source_address if source_address
        self.tls_config = tls_config if tls_config
        set_debuglevel(debuglevel) if debuglevel
        self.open(host, port) if host
      rescue Exception # rubocop:disable Lint/RescueException
        free
        raise
      end
    end

    # --- connection -------------------------------------------------------

    # smtplib's connect: connect and read the greeting; returns [code, msg]
    # (a greeting other than 220 is not an error here). Port 0: a
    # "host:port" suffix, else the kind's default. A host starting with "/"
    # is a Unix socket.
    def connect(host = 'localhost', port = 0, source_address: nil)
      self.source_address = source_address if source_address
      c_host = Args.cstr(host, 'host')
      with_code { |h, code| Native.smtp_session_connect(h, c_host, port, code) }
    end

    # smtplib's SMTP(host, port): as #connect, and a greeting other than
    # 220 raises SMTPConnectError (connection closed).
    def open(host, port = 0)
      c_host = Args.cstr(host, 'host')
      with_code { |h, code| Native.smtp_session_open(h, c_host, port, code) }
    end

    # smtplib's quit: QUIT, forget the EHLO state, close. [code, msg].
    # Not connected: SMTPServerDisconnected.
    def quit
      with_code { |h, code| Native.smtp_session_quit(h, code) }
    end

    # smtplib's close: drop the connection without QUIT. The session stays
    # usable (connect again). Safe to call any number of times, also after
    # #free.
    def close
      @lock.synchronize do
        return nil if @handle.nil?

        check(native { Native.smtp_session_close(@handle) })
      end
      nil
    end

    # Release the native session now (closing without QUIT). Idempotent;
    # any later call but #close, #free and #freed? raises SMTPBadStateError.
    def free
      @lock.synchronize do
        return nil if @handle.nil?
        if @depth.positive?
          raise SMTPBadStateError.new('cannot free a session from inside its own callback', result: 3)
        end

        handle = @handle
        # Under @cancel_lock: a #cancel on another thread is never inside
        # smtp_session_cancel() on a freed session.
        @cancel_lock.synchronize { @handle = nil }
        handle.free
      end
      nil
    end
    alias dispose free

    def freed?
      @handle.nil?
    end

    def connected?
      getter { |h| Native.smtp_session_is_connected(h) == 1 }
    end

    def encrypted?
      getter { |h| Native.smtp_session_is_encrypted(h) == 1 }
    end

    def tls_version
      getter { |h| Native.text(Native.smtp_session_tls_version(h)) }
    end

    def tls_cipher
      getter { |h| Native.text(Native.smtp_session_tls_cipher(h)) }
    end

    # --- settings ---------------------------------------------------------

    # smtplib's local_hostname: the name EHLO/HELO/LHLO send by default.
    def local_hostname=(name)
      c_name = Args.cstr(name, 'local_hostname')
      call_checked { |h| Native.smtp_session_set_local_hostname(h, c_name) }
    end

    # smtplib's timeout, in seconds: no single wait lasts longer, whatever
    # it waits for (connect, the greeting and every reply however slowly
    # the server trickles it, sending the message): set_timeout(:all, s).
    # The whole call is bounded only by :call. 0 means no limit; nil
    # restores the library's defaults of every limit but :call.
    def timeout=(seconds)
      if seconds.nil?
        PER_WAIT_TIMEOUTS.each { |which| set_timeout(which, DEFAULT_TIMEOUT_MS[which] / 1000.0) }
      else
        set_timeout(:all, seconds)
      end
    end

    # A timeout in seconds, nil when it has no limit; with no argument,
    # :all: the longest single wait the limits allow (nil when one of them
    # is unlimited). See #get_timeout.
    def timeout(which = :all)
      get_timeout(which)
    end

    # Set one limit (a key of TIMEOUTS: :connect, :io, :reply, :greeting,
    # :mail, :rcpt, :data, :data_block, :final_dot, :call, or :all for
    # every one but :call) in seconds; 0 means no limit. Applies from the
    # next call. An unknown name, a negative, non-finite or too large value
    # raises Smtp::ArgumentError (an ::ArgumentError); a positive value
    # under a millisecond counts as one millisecond, never as no limit.
    def set_timeout(which, seconds)
      index = timeout_index(which)
      ms = timeout_ms(seconds)
      call_checked { |h| Native.smtp_session_set_timeout_ms(h, index, ms) }
    end

    # One limit (as #set_timeout) in seconds, nil when it has no limit.
    # :all gives the longest single wait the limits allow.
    def get_timeout(which)
      index = timeout_index(which)
      ms = getter { |h| Native.smtp_session_timeout_ms(h, index) }
      raise Smtp::ArgumentError.new("unknown timeout #{which.inspect}", result: 2) if ms.negative?

      ms.zero? ? nil : ms / 1000.0
    end

    # --- cancel -----------------------------------------------------------

    # End the call running on this session, from any thread (and from a
    # Signal.trap handler, or from inside one of the session's own blocks):
    # that call raises SMTPCancelledError within 100 ms, at once when it
    # waits on the network (a SASL or trace block that is running finishes
    # first), and the connection is closed: connect again before the next
    # command. A message whose final reply was not read counts as not sent.
    #
    # A call runs from when it has the session's monitor until it returns.
    # When none runs, cancel does nothing: it does not cancel the next call,
    # and it is harmless on a closed or freed session. Returns true when it
    # cancelled a running call, false when none ran; nil from a trap
    # handler, where it cancels from a new thread (a Mutex cannot be taken
    # there).
    #
    # Thread#raise, Thread#kill and Interrupt (Ctrl-C) reach a thread
    # waiting in the library only when its call returns; cancel is how to
    # end the wait.
    def cancel
      target = @cancel_lock.synchronize do
        return false if @handle.nil? || @running_call.nil?

        Native.smtp_session_cancel(@handle)
        repeat = @repeating_for != @running_call
        @repeating_for = @running_call
        repeat && @running_call
      end
      repeat_cancel(target) if target
      true
    rescue ThreadError
      raise unless in_trap_context?

      Thread.new { cancel }
      nil
    end

    # smtplib's source_address: "host", [host, port], or nil to remove.
    def source_address=(addr)
      host, port = addr.is_a?(Array) ? addr : [addr, 0]
      c_host = Args.cstr(host, 'source_address')
      call_checked { |h| Native.smtp_session_set_source_address(h, c_host, port || 0) }
    end

    # smtplib's set_debuglevel: 0 quiet, 1 every command and reply, 2 with
    # timestamps. Lines go to stderr, or to the #set_trace block.
    def set_debuglevel(level)
      call_checked { |h| Native.smtp_session_set_debuglevel(h, Integer(level)) }
    end
    alias debuglevel= set_debuglevel

    # Receive the debug trace lines (while the debug level is above 0):
    # the block gets the direction (:info, :send, :recv) and the line. An
    # exception it raises is re-raised when the current call returns. With
    # no block, lines go to stderr again.
    def set_trace(&block)
      @lock.synchronize do
        if block
          Callbacks::Trace.register(@id, block)
          call_checked { |h| Native.smtp_session_set_trace(h, Callbacks::Trace.function, FFI::Pointer.new(@id)) }
        else
          call_checked { |h| Native.smtp_session_set_trace(h, nil, nil) }
          Callbacks::Trace.unregister(@id)
        end
        @trace_block = block
      end
    end

    # Show AUTH payloads in the trace (test servers only).
    def debug_secrets=(show)
      call_checked { |h| Native.smtp_session_set_debug_secrets(h, show ? 1 : 0) }
    end

    # Whether loopback counts as protecting secrets (default true).
    def trust_loopback=(trust)
      call_checked { |h| Native.smtp_session_set_trust_loopback(h, trust ? 1 : 0) }
    end

    # Refuse sendmail, login and auth unless the connection is TLS.
    def require_tls=(on)
      call_checked { |h| Native.smtp_session_set_require_tls(h, on ? 1 : 0) }
    end

    # The mechanisms #login tries, in order (Array or space-separated
    # String); nil restores CRAM-MD5 PLAIN LOGIN.
    def auth_mechanisms=(list)
      list = list.join(' ') if list.is_a?(Array)
      c_list = Args.cstr(list, 'auth_mechanisms')
      call_checked { |h| Native.smtp_session_set_auth_mechanisms(h, c_list) }
    end

    # The TLS configuration (Smtp::TLSConfig) for SMTP_SSL and STARTTLS;
    # nil restores the default (Mozilla roots, verification on).
    def tls_config=(config)
      call_checked { |h| Native.smtp_session_set_tls_config(h, config ? config.to_ptr : nil) }
    end

    # --- state ------------------------------------------------------------

    # What the last call did ("no error" after success).
    def errmsg
      getter { |h| Native.text(Native.smtp_session_errmsg(h)) }
    end

    def last_reply_code
      getter { |h| Native.smtp_session_last_reply_code(h) }
    end

    def last_reply_text
      getter { |h| Native.text(Native.smtp_session_last_reply_text(h)) }
    end

    # smtplib's ehlo_resp / helo_resp (nil when none).
    def ehlo_resp
      getter { |h| Native.text(Native.smtp_session_ehlo_resp(h)) }
    end

    def helo_resp
      getter { |h| Native.text(Native.smtp_session_helo_resp(h)) }
    end

    # smtplib's does_esmtp.
    def does_esmtp?
      getter { |h| Native.smtp_session_does_esmtp(h) == 1 }
    end
    alias does_esmtp does_esmtp?

    # smtplib's has_extn (case-insensitive).
    def has_extn?(name)
      arg = Args.cstr(name, 'name')
      getter { |h| Native.smtp_session_has_extn(h, arg) == 1 }
    end
    alias has_extn has_extn?

    # smtplib's esmtp_features: {"size" => "33554432", "8bitmime" => "", ...}
    # in the server's order.
    def esmtp_features
      getter do |h|
        (0...Native.smtp_session_feature_count(h)).to_h do |i|
          [Native.text(Native.smtp_session_feature_name(h, i)), Native.text(Native.smtp_session_feature_params(h, i))]
        end
      end
    end

    # The recipients of the last transaction, as Recipient structs.
    def recipients
      getter do |h|
        (0...Native.smtp_session_rcpt_count(h)).map do |i|
          Recipient.new(
            Native.text(Native.smtp_session_rcpt_addr(h, i)),
            Native.smtp_session_rcpt_code(h, i),
            Native.text(Native.smtp_session_rcpt_text(h, i)),
            Native.smtp_session_rcpt_refused(h, i) == 1,
            Native.text(Native.smtp_session_rcpt_status(h, i)),
            Native.smtp_session_rcpt_data_code(h, i),
            Native.text(Native.smtp_session_rcpt_data_text(h, i)),
            Native.text(Native.smtp_session_rcpt_data_status(h, i))
          )
        end
      end
    end

    # smtplib's refused dict of the last transaction: {addr => [code, msg]}.
    # On LMTP a recipient refused after the data has that reply.
    def refused_recipients
      recipients.select(&:refused?).to_h do |r|
        if r.data_code.nonzero? && [250, 251].include?(r.code)
          [r.addr, [r.data_code, r.data_text]]
        else
          [r.addr, [r.code, r.text]]
        end
      end
    end

    # --- commands ---------------------------------------------------------

    # smtplib's helo: HELO name (default: local_hostname). [code, msg].
    def helo(name = nil)
      c_name = Args.cstr(name, 'name')
      with_code { |h, code| Native.smtp_session_helo(h, c_name, code) }
    end

    # smtplib's ehlo (LHLO on LMTP). [code, msg]; a refusal is a code, not
    # an exception.
    def ehlo(name = nil)
      c_name = Args.cstr(name, 'name')
      with_code { |h, code| Native.smtp_session_ehlo(h, c_name, code) }
    end

    # smtplib's ehlo_or_helo_if_needed; both refused raises SMTPHeloError.
    def ehlo_or_helo_if_needed
      call_checked { |h| Native.smtp_session_ehlo_or_helo_if_needed(h) }
      nil
    end

    # smtplib's docmd: "cmd args". [code, msg].
    def docmd(cmd, args = '')
      c_cmd = Args.cstr(cmd, 'cmd')
      c_args = Args.cstr(args, 'args')
      with_code { |h, code| Native.smtp_session_docmd(h, c_cmd, c_args, code) }
    end

    def noop
      with_code { |h, code| Native.smtp_session_noop(h, code) }
    end

    def rset
      with_code { |h, code| Native.smtp_session_rset(h, code) }
    end

    # smtplib's help: the reply text.
    def help(args = nil)
      c_args = Args.cstr(args, 'args')
      with_code { |h, code| Native.smtp_session_help(h, c_args, code) }[1]
    end

    # smtplib's verify: VRFY address. [code, msg].
    def verify(address)
      c_addr = Args.address(address, 'address')
      with_code { |h, code| Native.smtp_session_verify(h, c_addr, code) }
    end
    alias vrfy verify

    # smtplib's expn: EXPN address. [code, msg].
    def expn(address)
      c_addr = Args.address(address, 'address')
      with_code { |h, code| Native.smtp_session_expn(h, c_addr, code) }
    end

    # smtplib's mail: MAIL FROM:<sender> options. [code, msg].
    def mail(sender, options = [])
      c_sender = Args.address(sender, 'sender')
      opts, n, keep = Args.cstr_array(options, 'options')
      with_code(keep) { |h, code| Native.smtp_session_mail(h, c_sender, opts, n, code) }
    end

    # smtplib's rcpt: RCPT TO:<recip> options. [code, msg].
    def rcpt(recip, options = [])
      c_recip = Args.address(recip, 'recip')
      opts, n, keep = Args.cstr_array(options, 'options')
      with_code(keep) { |h, code| Native.smtp_session_rcpt(h, c_recip, opts, n, code) }
    end

    # smtplib's data: DATA and the message. [code, msg]; a reply to DATA
    # other than 354 raises SMTPDataError. line_endings: see #sendmail.
    def data(msg, line_endings: :normalize)
      buf, len = Args.bytes(msg)
      flags = Args.msg_flags(line_endings)
      with_code(buf) { |h, code| Native.smtp_session_data(h, buf, len, flags, code) }
    end

    # smtplib's sendmail: returns the refused recipients, {addr => [code,
    # msg]} ({} when all were accepted). to_addrs: an address or a list.
    # msg: a String, sent as its bytes; line_endings: :normalize (lone CR
    # and LF become CRLF, smtplib's str), :raw (as given, smtplib's bytes)
    # or :reject_bare_eol. Raises SMTPHeloError, SMTPSenderRefused (with
    # #sender), SMTPRecipientsRefused (with #recipients), SMTPDataError,
    # SMTPNotSupportedError, SMTPMessageTooLarge, Smtp::ArgumentError
    # (checked before anything is sent).
    def sendmail(from_addr, to_addrs, msg, mail_options = [], rcpt_options = [], line_endings: :normalize)
      from = Args.address(from_addr, 'from_addr')
      to, n_to, keep_to = Args.cstr_array(to_addrs, 'to_addrs', address: true)
      mopts, n_mopts, keep_m = Args.cstr_array(mail_options, 'mail_options')
      ropts, n_ropts, keep_r = Args.cstr_array(rcpt_options, 'rcpt_options')
      buf, len = Args.bytes(msg)
      flags = Args.msg_flags(line_endings)
      transaction(from_addr, [from, keep_to, keep_m, keep_r, buf]) do |h|
        Native.smtp_session_sendmail(h, from, to, n_to, buf, len, mopts, n_mopts, ropts, n_ropts, flags, nil, nil)
      end
    end

    # smtplib's send_message on a raw RFC 5322 message (a String): the
    # envelope comes from its Sender/From, To, Cc and Bcc fields (Resent-*
    # with one Resent-Date) unless from_addr / to_addrs are given; Bcc is
    # not sent. Returns and raises as #sendmail.
    def send_message(msg, from_addr = nil, to_addrs = nil, mail_options = [], rcpt_options = [],
                     line_endings: :normalize)
      from = Args.address(from_addr, 'from_addr')
      to, n_to, keep_to = to_addrs.nil? ? [nil, 0, nil] : Args.cstr_array(to_addrs, 'to_addrs', address: true)
      mopts, n_mopts, keep_m = Args.cstr_array(mail_options, 'mail_options')
      ropts, n_ropts, keep_r = Args.cstr_array(rcpt_options, 'rcpt_options')
      buf, len = Args.bytes(msg)
      flags = Args.msg_flags(line_endings)
      transaction(from_addr, [from, keep_to, keep_m, keep_r, buf]) do |h|
        Native.smtp_session_send_message(h, buf, len, from, to, n_to, mopts, n_mopts, ropts, n_ropts, flags, nil)
      end
    end

    # --- authentication ---------------------------------------------------

    # smtplib's login: EHLO if needed, then CRAM-MD5, PLAIN, LOGIN (see
    # #auth_mechanisms=) as advertised. [code, msg]. Raises
    # SMTPNotSupportedError (no AUTH), SMTPAuthenticationError,
    # SMTPException (no suitable mechanism), SMTPNotEncryptedError.
    def login(user, password, initial_response_ok: true, allow_cleartext: false)
      flags = auth_flags(initial_response_ok, allow_cleartext)
      c_user = Args.cstr(user, 'user')
      c_password = Args.cstr(password, 'password')
      with_code { |h, _code| Native.smtp_session_login(h, c_user, c_password, flags) }
    end

    # smtplib's auth(mechanism, authobject) with the block as authobject:
    # it is called with nil for the initial response (unless
    # initial_response_ok: false), then with each decoded challenge (a
    # binary String), and returns the raw response (a String) or nil (no
    # initial response; for a challenge: cancel, SMTPAuthenticationAborted).
    # An exception raised in the block cancels the exchange and is
    # re-raised here once the library has returned; the session stays
    # usable. Without a block, a built-in mechanism (CRAM-MD5, PLAIN, LOGIN,
    # SCRAM-SHA-256, XOAUTH2, OAUTHBEARER) with user: and secret:.
    # Returns [code, msg] (235 or 503).
    def auth(mechanism, user: nil, secret: nil, initial_response_ok: true, allow_cleartext: false, &authobject)
      flags = auth_flags(initial_response_ok, allow_cleartext)
      mech = Args.cstr(mechanism, 'mechanism')
      unless authobject
        if user.nil? || secret.nil?
          raise ::ArgumentError, 'auth needs a block (the authobject), or user: and secret: for a built-in mechanism'
        end

        c_user = Args.cstr(user, 'user')
        c_secret = Args.cstr(secret, 'secret')
        return with_code { |h, _code| Native.smtp_session_auth_builtin(h, mech, c_user, c_secret, flags) }
      end

      bridge = Callbacks::Sasl.new(authobject)
      fn = bridge.function
      begin
        with_code(fn, bridge) { |h, _code| Native.smtp_session_auth(h, mech, fn, nil, flags) }
      ensure
        fn.free # referenced until here: the library no longer holds it
      end
    end

    # smtplib's starttls: EHLO if needed, STARTTLS, the handshake (with
    # context, an Smtp::TLSConfig, else the session's); the session then
    # forgets the EHLO state. [code, msg]. Raises SMTPNotSupportedError,
    # SMTPResponseException (a reply other than 220), SMTPTLSError.
    def starttls(context: nil)
      with_code(context) { |h, code| Native.smtp_session_starttls(h, context&.to_ptr, code) }
    end

    def inspect
      return "#<#{self.class} freed>" if freed?

      "#<#{self.class} connected=#{connected?} esmtp=#{does_esmtp?}>"
    end

    private

    def timeout_index(which)
      TIMEOUTS.fetch(which) { raise Smtp::ArgumentError.new("unknown timeout #{which.inspect}", result: 2) }
    end

    # Seconds (what Float() takes) as the library's milliseconds.
    def timeout_ms(seconds)
      value = begin
        Float(seconds)
      rescue TypeError, ::ArgumentError
        raise Smtp::ArgumentError.new("timeout must be a number of seconds, not #{seconds.inspect}", result: 2)
      end
      unless value.finite? && value >= 0 && (ms = (value * 1000).round) <= 0xFFFF_FFFF
        raise Smtp::ArgumentError.new("timeout #{seconds.inspect} out of range", result: 2)
      end

      ms.zero? && value.positive? ? 1 : ms
    end

    # The call #cancel aimed at may not have entered the library yet (the
    # monitor is taken, the C function not yet begun): a cancel then does
    # nothing there. So repeat it until that call has ended. Once it runs
    # in the library, a repeat does nothing more: it is cancelled already.
    def repeat_cancel(target)
      Thread.new do
        loop do
          sleep CANCEL_REPEAT
          still_running = @cancel_lock.synchronize do
            next false if @handle.nil? || @running_call != target

            Native.smtp_session_cancel(@handle)
            true
          end
          break unless still_running
        end
      end
    end

    def in_trap_context?
      Mutex.new.synchronize { false }
    rescue ThreadError
      true
    end

    def auth_flags(initial_response_ok, allow_cleartext)
      (initial_response_ok ? 0 : Native::AUTH_NO_INITIAL_RESPONSE) |
        (allow_cleartext ? Native::AUTH_ALLOW_CLEARTEXT : 0)
    end

    # The live handle; SMTPBadStateError once freed.
    def handle!
      @handle or raise SMTPBadStateError.new('the session has been freed', result: 3)
    end

    # Run one C call under the lock, counting depth (for #free from a
    # callback) and raising what a trace block raised during it.
    def native
      @lock.synchronize do
        handle!
        outermost = @depth.zero?
        @depth += 1
        begin
          # The call #cancel may end (a call from inside a callback is part
          # of the outer one).
          @cancel_lock.synchronize { @running_call = (@call_seq += 1) } if outermost
          rc = yield
        ensure
          @depth -= 1
          @cancel_lock.synchronize { @running_call = nil } if outermost
        end
        if @trace_block && (error = Callbacks::Trace.take_error(@id))
          raise error
        end

        rc
      end
    end

    # A const getter. From inside one of the session's callbacks the
    # library answers getters with its NULL-session defaults, so refuse.
    def getter
      @lock.synchronize do
        h = handle!
        raise SMTPBadStateError.new(IN_CALLBACK, result: 3) if @depth.positive?

        yield h
      end
    end

    IN_CALLBACK = 'the session cannot be used from inside its own callback'

    def call_checked
      @lock.synchronize do
        rc = native { yield @handle }
        check(rc)
      end
      nil
    end

    # A call with an int *code out-parameter; returns [code, reply text].
    # keep: objects to hold until the call returns. bridge: a SASL bridge
    # whose block's exception is re-raised first.
    def with_code(_keep = nil, bridge = nil)
      @lock.synchronize do
        code = FFI::MemoryPointer.new(:int)
        rc = native { yield @handle, code }
        raise bridge.error if bridge&.error

        check(rc)
        value = code.read_int
        value = Native.smtp_session_last_reply_code(@handle) if value.zero? # calls without int *code
        [value, Native.text(Native.smtp_session_last_reply_text(@handle))]
      end
    end

    # sendmail / send_message: the refused dict, or the mapped exception.
    def transaction(sender, _keep)
      @lock.synchronize do
        rc = native { yield @handle }
        check(rc, sender: sender)
        refused_recipients
      end
    end

    def check(rc, sender: nil)
      return if rc.zero?

      raise build_error(rc, sender: sender)
    end

    def build_error(rc, sender: nil)
      klass = Smtp.error_class(rc)
      # Inside a callback of an outer call the session's state is not
      # readable (see #getter); the result code says enough.
      return klass.new("#{Smtp.result_str(rc)}: #{IN_CALLBACK}", result: rc) if @depth.positive?

      msg = Native.text(Native.smtp_session_errmsg(@handle))
      if klass <= SMTPSenderRefused
        klass.new(msg, sender: sender, result: rc, **reply_kw)
      elsif klass <= SMTPRecipientsRefused
        klass.new(msg, recipients: refused_recipients, result: rc)
      elsif Smtp.result_has_reply?(rc) # the library's answer (smtp_result_has_reply)
        klass.new(msg, result: rc, **reply_kw)
      else
        klass.new(msg, result: rc)
      end
    end

    def reply_kw
      { smtp_code: Native.smtp_session_last_reply_code(@handle),
        smtp_error: Native.text(Native.smtp_session_last_reply_text(@handle)) }
    end

    # End of the block form: QUIT, then close. With the block failing
    # (failed), QUIT errors are swallowed so the block's exception wins.
    def finish(failed)
      return if freed?

      begin
        code, msg = quit
        if code != 221 && !failed
          raise SMTPResponseException.new(smtp_code: code, smtp_error: msg, result: 20)
        end
      rescue SMTPServerDisconnected
        nil # already closed: smtplib's __exit__ ignores it too
      rescue SMTPException, ::ArgumentError
        raise unless failed
      ensure
        close
      end
    end
  end
end

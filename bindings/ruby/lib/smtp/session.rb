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
  # Threads. One session must not be used by two threads at once: each call
  # holds the session's monitor, so concurrent calls on one session queue
  # (they wait for each other, in turn). A call that may wait on the network
  # runs on a worker thread without the GVL while the calling thread waits
  # for it interruptibly: other Ruby threads keep running, and Thread#raise,
  # Thread#kill, Timeout.timeout or Ctrl-C on the calling thread end the
  # call within 100 ms (the library's cancel), the connection closed as
  # after #cancel, before the exception goes on. #cancel, which takes no
  # monitor, ends the running call from any thread with SMTPCancelledError.
  # The session's blocks (trace, SASL, read) run on that worker thread.
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
    # #set_debuglevel. proxy: as #proxy=. envelope: as #envelope=.
    # pipelining, chunking: as #pipelining=, #chunking= (nil: the default).
    def initialize(kind = :smtp, host: nil, port: 0, local_hostname: nil, timeout: nil, timeouts: nil,
                   source_address: nil, tls_config: nil, debuglevel: nil, proxy: nil, envelope: nil,
                   pipelining: nil, chunking: nil)
      kind_code = kind.is_a?(Integer) ? kind : KINDS[kind]
      raise Smtp::ArgumentError.new("unknown session kind #{kind.inspect}", result: 2) if kind_code.nil?

      ptr = Native.smtp_session_new(kind_code)
      raise Smtp::ArgumentError.new("unknown session kind #{kind.inspect}", result: 2) if ptr.null?

      @kind = KINDS.key(kind_code)
      @id = Session.next_id
      @handle = FFI::AutoPointer.new(ptr, Session.releaser(@id))
      @lock = Monitor.new
      @depth = 0
      @trace_block = nil
      @call_thread = nil # the worker thread of the running network call
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
        self.proxy = proxy if proxy
        self.envelope = envelope if envelope
        self.pipelining = pipelining unless pipelining.nil?
        self.chunking = chunking unless chunking.nil?
        self.open(host, port) if host
      rescue Exception # rubocop:disable Lint/RescueException
        free
        raise
      end
    end

    # :smtp, :smtp_ssl or :lmtp.
    attr_reader :kind

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

    # Run the session over a stream socket the caller connected (TCP or
    # Unix): an IO (Socket, TCPSocket, UNIXSocket, ...) or an Integer
    # descriptor; then read the greeting as #connect ([code, msg]; for
    # :smtp_ssl the TLS handshake comes first). An IO stays the caller's:
    # the library gets a duplicate of its descriptor (close the IO when you
    # like). An Integer is given up to the library, which closes it. host:
    # the name TLS checks the certificate against. No proxy is used.
    def connect_fd(socket, host = nil)
      fd = socket.is_a?(Integer) ? socket : Args.dup_fd(socket)
      c_host = Args.cstr(host, 'host')
      with_code { |h, code| Native.smtp_session_connect_fd(h, fd, c_host, code) }
    end
    alias connect_socket connect_fd

    # smtplib's quit: QUIT, forget the EHLO state, close. [code, msg].
    # Not connected: SMTPServerDisconnected.
    def quit
      with_code { |h, code| Native.smtp_session_quit(h, code) }
    end

    # smtplib's close: drop the connection without QUIT. The session stays
    # usable (connect again). Safe to call any number of times, also after
    # #free.
    def close
      synchronize do
        return nil if @handle.nil?

        check(native { Native.smtp_session_close(@handle) })
      end
      nil
    end

    # Release the native session now (closing without QUIT). Idempotent;
    # any later call but #close, #free and #freed? raises SMTPBadStateError.
    def free
      synchronize do
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
    # Interrupting the calling thread (Thread#raise, #kill, Timeout) ends
    # its call the same way, with that exception instead.
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

    def inspect
      return "#<#{self.class} #{@kind} freed>" if freed?

      "#<#{self.class} #{@kind} connected=#{connected?} esmtp=#{does_esmtp?}>"
    end

    private

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

require_relative 'session/calls'
require_relative 'session/settings'
require_relative 'session/state'
require_relative 'session/commands'
require_relative 'session/messages'
require_relative 'session/composed'

# frozen_string_literal: true

module Smtp
  # Connections to one server shared by many threads (smtp_pool): each
  # call borrows an idle connection (probed with NOOP when it sat long),
  # else opens one (and authenticates it), else waits for one; a message
  # whose connection died before its data went out is sent again on a new
  # one, and one whose data went out without a deciding reply raises
  # SMTPOutcomeUnknown: delivered at most once, reported sent only when
  # the server said so.
  #
  #   pool = Smtp::Pool.new('mail.example.com', 587, max_connections: 8, timeout: 30,
  #                         tls_config: Smtp::TLSConfig.new, options: { starttls: 1 })
  #   pool.set_login('user', 'secret')
  #   threads = 20.times.map { |i| Thread.new { pool.sendmail(from, to, message(i)) } }
  #
  # A call runs on a session of the calling thread (#session, made on first
  # use with the pool's keywords, so its timeouts, envelope and switches
  # apply; or the session: given), through that session's machinery: it
  # can be cancelled (Session#cancel) or interrupted (Thread#raise,
  # Timeout) like any session call, and its results read from the session.
  class Pool
    OPTIONS = {
      starttls: Native::POOL_STARTTLS,
      max_messages: Native::POOL_MAX_MESSAGES,
      max_idle_ms: Native::POOL_MAX_IDLE_MS,
      probe_idle_ms: Native::POOL_PROBE_IDLE_MS,
      rate: Native::POOL_RATE,
      max_connections: Native::POOL_MAX_CONNECTIONS
    }.freeze

    STATS = {
      opened: Native::POOL_STAT_OPENED, open: Native::POOL_STAT_OPEN, idle: Native::POOL_STAT_IDLE,
      sent: Native::POOL_STAT_SENT, retried: Native::POOL_STAT_RETRIED, probed: Native::POOL_STAT_PROBED,
      probe_failed: Native::POOL_STAT_PROBE_FAILED, retired: Native::POOL_STAT_RETIRED,
      unknown: Native::POOL_STAT_UNKNOWN
    }.freeze

    # The block form: yields the pool and frees it at the end.
    def self.open(host, port = 0, **opts)
      pool = new(host, port, **opts)
      return pool unless block_given?

      begin
        yield pool
      ensure
        pool.free
      end
    end

    # A pool of at most max_connections connections to host:port (0: the
    # kind's default), opened on demand. kind: :smtp, :smtp_ssl or :lmtp.
    # session_opts: Session.new's keywords (local_hostname, source_address,
    # proxy, tls_config, timeout, timeouts, envelope, pipelining, chunking,
    # ...): the connections are opened with them, and the sessions the pool
    # makes for its calling threads get them. options: set_option values
    # ({starttls: 1, max_messages: 100, ...}).
    def initialize(host, port = 0, max_connections: 4, kind: :smtp, options: nil, **session_opts)
      @kind = kind
      @session_opts = session_opts
      @key = :"__libsmtp_pool_#{object_id}"
      @state = Mutex.new
      @idle = ConditionVariable.new
      @active = 0
      @auth_fns = [] # every auth callback given to the library, alive until the pool is freed
      like = Session.new(kind, **session_opts)
      out = FFI::MemoryPointer.new(:pointer)
      c_host = Args.cstr(host, 'host')
      rc = Native.smtp_pool_new(like.native_handle, c_host, port, Integer(max_connections), out)
      like.check_result(rc)
      @handle = FFI::AutoPointer.new(out.read_pointer, Native.method(:smtp_pool_free))
      like.free
      options&.each { |name, value| set_option(name, value) }
    end

    attr_reader :kind

    # The calling thread's session for this pool's calls (made on first use).
    def session
      Thread.current.thread_variable_get(@key) ||
        Thread.current.thread_variable_set(@key, Session.new(@kind, **@session_opts))
    end

    # Session#sendmail through the pool.
    def sendmail(from_addr, to_addrs, msg, mail_options = [], rcpt_options = [], line_endings: :normalize,
                 session: nil)
      use do |p|
        (session || self.session).sendmail_via(p, from_addr, to_addrs, msg, mail_options, rcpt_options, line_endings)
      end
    end

    # Session#send_message through the pool.
    def send_message(msg, from_addr = nil, to_addrs = nil, mail_options = [], rcpt_options = [],
                     line_endings: :normalize, session: nil)
      use do |p|
        (session || self.session).send_message_via(p, msg, from_addr, to_addrs, mail_options, rcpt_options,
                                                   line_endings)
      end
    end

    # Session#send_composed through the pool. Sent again on a new
    # connection, the message is written again: files re-read, IO
    # attachments rewound (one that cannot be makes that attempt fail).
    def send_composed(message, mail_options = [], rcpt_options = [], session: nil)
      use { |p| (session || self.session).send_composed_via(p, message, mail_options, rcpt_options) }
    end

    # Session#sendmail_batch through the pool: the messages go on one
    # borrowed connection.
    def sendmail_batch(messages, session: nil)
      use { |p| (session || self.session).batch_via(p, messages) }
    end

    # Authenticate every new connection as Session#login does; nil user
    # removes it. The pool keeps (and wipes, when replaced) a copy.
    def set_login(user, password, initial_response_ok: true, allow_cleartext: false)
      flags = Args.auth_flags(initial_response_ok, allow_cleartext)
      c_user = Args.cstr(user, 'user')
      c_password = Args.cstr(password, 'password')
      use { |p| check(Native.smtp_pool_set_login(p, c_user, c_password, flags)) }
      nil
    end

    # Authenticate every new connection with +mechanism+ and the block as
    # Session#auth's authobject; no block removes it. The block runs on the
    # worker thread of whichever pool call opens a connection, on several
    # at once when several open: it must be thread-safe. An exception it
    # raises aborts that exchange and is raised by that pool call.
    def set_auth(mechanism, initial_response_ok: true, allow_cleartext: false, &authobject)
      flags = Args.auth_flags(initial_response_ok, allow_cleartext)
      mech = Args.cstr(mechanism, 'mechanism')
      fn = authobject && Callbacks::PoolSasl.new(authobject).function
      @state.synchronize { @auth_fns << fn } if fn
      use { |p| check(Native.smtp_pool_set_auth_step(p, mech, fn, nil, flags)) }
      nil
    end

    # Set an option (a key of OPTIONS) for the calls that start after it.
    def set_option(name, value)
      which = OPTIONS.fetch(name) { raise Smtp::ArgumentError.new("unknown pool option #{name.inspect}", result: 2) }
      value = value ? 1 : 0 if [true, false].include?(value)
      use { |p| check(Native.smtp_pool_set_option(p, which, Integer(value))) }
      nil
    end

    # A counter (a key of STATS).
    def stat(name)
      which = STATS.fetch(name) { raise Smtp::ArgumentError.new("unknown pool statistic #{name.inspect}", result: 2) }
      use { |p| Native.smtp_pool_stat(p, which) }
    end

    # Every counter, {opened: 3, open: 2, ...}.
    def stats
      STATS.keys.to_h { |name| [name, stat(name)] }
    end

    # Free the pool now, closing its idle connections (without QUIT); waits
    # for the calls running on it. Idempotent.
    def free
      handle = @state.synchronize do
        @idle.wait(@state) while @active.positive?
        h = @handle
        @handle = nil
        h
      end
      handle&.free
      @state.synchronize { @auth_fns.clear }
      nil
    end

    def freed?
      @handle.nil?
    end

    def inspect
      return "#<#{self.class} freed>" if freed?

      "#<#{self.class} #{@kind} #{stats.select { |k, _| %i[open idle sent].include?(k) }}>"
    end

    private

    # A setter's result: its arguments were refused.
    def check(rc)
      raise Smtp.error_class(rc).new(Smtp.result_str(rc), result: rc) unless rc.zero?
    end

    # Run a call on the pool (counted, so that #free waits for it) with
    # the pool pointer.
    def use
      @state.synchronize do
        raise SMTPBadStateError.new('the pool has been freed', result: 3) if @handle.nil?

        @active += 1
      end
      begin
        yield @handle
      ensure
        @state.synchronize do
          @active -= 1
          @idle.broadcast if @active.zero?
        end
      end
    end
  end
end

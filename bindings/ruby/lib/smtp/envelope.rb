# frozen_string_literal: true

module Smtp
  # Envelope options for the MAIL and RCPT commands (smtp_envelope): DSN
  # (RFC 3461), SMTPUTF8 (RFC 6531), REQUIRETLS (RFC 8689), BODY (RFC 6152,
  # RFC 3030), MT-PRIORITY (RFC 6710) and DELIVERBY (RFC 2852). Give it to
  # Session#envelope= (or Session.new(envelope:), Pool.new(envelope:));
  # the session keeps a copy, so one Envelope may serve many sessions. The
  # library checks every value here, and when sending, that the server
  # offers the extension (SMTPNotSupportedError when not).
  #
  #   env = Smtp::Envelope.new(ret: :hdrs, envid: 'QQ314159', notify: %i[failure delay],
  #                            rcpt: { 'bob@example.com' => { notify: :never, orcpt: 'bob@old.example' } })
  #   session.envelope = env
  class Envelope
    RET = { full: Native::DSN_RET_FULL, hdrs: Native::DSN_RET_HDRS, headers: Native::DSN_RET_HDRS }.freeze

    NOTIFY = {
      success: Native::DSN_NOTIFY_SUCCESS, failure: Native::DSN_NOTIFY_FAILURE,
      delay: Native::DSN_NOTIFY_DELAY, never: Native::DSN_NOTIFY_NEVER
    }.freeze

    BODY = {
      '7bit': Native::BODY_7BIT, '8bitmime': Native::BODY_8BITMIME, binarymime: Native::BODY_BINARYMIME
    }.freeze

    # ret: :full or :hdrs (DSN RET). envid: the DSN ENVID (1 to 100
    # characters). notify: DSN NOTIFY for every recipient without its own:
    # :never, or an Array of :success, :failure, :delay. rcpt: per-recipient
    # DSN, {address => {notify: ..., orcpt: "original@address"}}.
    # smtputf8, requiretls: true to ask for them. body: :'7bit', :'8bitmime'
    # or :binarymime. mt_priority: -9 to 9. deliver_by: seconds (return the
    # message when late), or {seconds:, notify: true (send a delay notice
    # instead), trace: true}. A value the library refuses raises
    # Smtp::ArgumentError with its reason.
    def initialize(ret: nil, envid: nil, notify: nil, rcpt: nil, smtputf8: false, requiretls: false, body: nil,
                   mt_priority: nil, deliver_by: nil)
      @handle = FFI::AutoPointer.new(Native.smtp_envelope_new, Native.method(:smtp_envelope_free))
      set { |e| Native.smtp_envelope_set_dsn_ret(e, lookup(RET, ret, 'ret')) } if ret
      set { |e| Native.smtp_envelope_set_dsn_envid(e, Args.cstr(envid, 'envid')) } if envid
      set { |e| Native.smtp_envelope_set_dsn_notify(e, notify_bits(notify)) } if notify
      rcpt&.each do |addr, opts|
        bits = opts[:notify] ? notify_bits(opts[:notify]) : 0
        c_addr = Args.cstr(addr, 'rcpt')
        c_orcpt = Args.cstr(opts[:orcpt], 'orcpt')
        set { |e| Native.smtp_envelope_set_rcpt_dsn(e, c_addr, bits, c_orcpt) }
      end
      set { |e| Native.smtp_envelope_set_smtputf8(e, 1) } if smtputf8
      set { |e| Native.smtp_envelope_set_requiretls(e, 1) } if requiretls
      set { |e| Native.smtp_envelope_set_body(e, lookup(BODY, body, 'body')) } if body
      set { |e| Native.smtp_envelope_set_mt_priority(e, Integer(mt_priority)) } if mt_priority
      self.deliver_by = deliver_by if deliver_by
    end

    # For FFI: the smtp_envelope pointer.
    def to_ptr
      @handle
    end

    private

    def deliver_by=(value)
      opts = value.is_a?(Hash) ? value : { seconds: value }
      seconds = Integer(opts.fetch(:seconds) { raise ::ArgumentError, 'deliver_by needs :seconds' })
      set { |e| Native.smtp_envelope_set_deliver_by(e, seconds, opts[:notify] ? 1 : 0, opts[:trace] ? 1 : 0) }
    end

    def notify_bits(notify)
      Array(notify).sum { |n| lookup(NOTIFY, n, 'notify') }
    end

    def lookup(table, key, what)
      table.fetch(key.is_a?(String) ? key.downcase.to_sym : key) do
        raise Smtp::ArgumentError.new(
          "#{what} must be one of #{table.keys.map(&:inspect).join(', ')}, not #{key.inspect}", result: 2
        )
      end
    end

    def set
      rc = yield @handle
      return if rc.zero?

      raise Smtp.error_class(rc).new(Native.text(Native.smtp_envelope_errmsg(@handle)), result: rc)
    end
  end
end

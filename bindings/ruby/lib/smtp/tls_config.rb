# frozen_string_literal: true

module Smtp
  # An immutable TLS configuration (smtp_tls_config), built once and shared
  # by any number of sessions (Session.new(tls_config:), #tls_config=,
  # #starttls(context:)); smtplib's SSLContext. Freed by the garbage
  # collector; sessions keep their own reference.
  class TLSConfig
    # ca_file / ca_dir: more trust anchors (a path or a list of paths);
    # default_roots: false trusts only those; client_cert + client_key: PEM
    # paths; server_name: checked (and sent as SNI) instead of the host;
    # dangerous_disable_verification: accept any certificate (tests only).
    # roots: which built-in stores to trust beside the added CAs: :mozilla
    # (the default: the Mozilla roots built into libsmtp, the same
    # everywhere), :system (the operating system's store, loaded now), an
    # Array of both, or [] (only the added CAs); #roots_report says what
    # the system store gave. Raises SMTPTLSError or Smtp::ArgumentError with
    # the builder's message.
    def initialize(ca_file: nil, ca_dir: nil, default_roots: true, roots: nil, client_cert: nil, client_key: nil,
                   server_name: nil, dangerous_disable_verification: false)
      builder = Native.smtp_tls_config_builder_new
      begin
        Array(ca_file).each do |path|
          step(builder) { Native.smtp_tls_config_builder_add_ca_file(builder, Args.cstr(path, 'ca_file')) }
        end
        Array(ca_dir).each do |path|
          step(builder) { Native.smtp_tls_config_builder_add_ca_dir(builder, Args.cstr(path, 'ca_dir')) }
        end
        step(builder) { Native.smtp_tls_config_builder_set_default_roots(builder, default_roots ? 1 : 0) }
        unless roots.nil?
          step(builder) { Native.smtp_tls_config_builder_set_roots(builder, roots_bits(roots)) }
          @roots_report = Native.text(Native.smtp_tls_config_builder_errmsg(builder))
        end
        if client_cert || client_key
          chain = Args.cstr(client_cert, 'client_cert')
          key = Args.cstr(client_key, 'client_key')
          step(builder) { Native.smtp_tls_config_builder_set_client_cert(builder, chain, key) }
        end
        if server_name
          name = Args.cstr(server_name, 'server_name')
          step(builder) { Native.smtp_tls_config_builder_set_server_name(builder, name) }
        end
        if dangerous_disable_verification
          step(builder) { Native.smtp_tls_config_builder_dangerous_disable_verification(builder) }
        end
        out = FFI::MemoryPointer.new(:pointer)
        step(builder) { Native.smtp_tls_config_builder_build(builder, out) }
        @handle = FFI::AutoPointer.new(out.read_pointer, Native.method(:smtp_tls_config_free))
      ensure
        Native.smtp_tls_config_builder_free(builder)
      end
    end

    ROOTS = { mozilla: Native::ROOTS_MOZILLA, system: Native::ROOTS_SYSTEM }.freeze

    # After roots: with :system, how many certificates were loaded and from
    # where (and which failed); nil when roots: was not given.
    attr_reader :roots_report

    # For FFI: the smtp_tls_config pointer.
    def to_ptr
      @handle
    end

    private

    def roots_bits(roots)
      Array(roots).sum do |r|
        ROOTS.fetch(r) do
          raise Smtp::ArgumentError.new("roots must be :mozilla, :system, both or [], not #{r.inspect}", result: 2)
        end
      end
    end

    def step(builder)
      rc = yield
      return if rc.zero?

      raise Smtp.error_class(rc).new(Native.text(Native.smtp_tls_config_builder_errmsg(builder)), result: rc)
    end
  end
end

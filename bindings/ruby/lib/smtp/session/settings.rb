# frozen_string_literal: true

module Smtp
  class Session
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

    # smtplib's source_address: "host", [host, port], or nil to remove.
    def source_address=(addr)
      host, port = addr.is_a?(Array) ? addr : [addr, 0]
      c_host = Args.cstr(host, 'source_address')
      call_checked { |h| Native.smtp_session_set_source_address(h, c_host, port || 0) }
    end

    # Connect through a proxy from the next #connect / #open on:
    # "socks5://[user:password@]host[:port]" (names resolved here),
    # "socks5h://..." (names resolved by the proxy) or
    # "http://[user:password@]host[:port]" (HTTP CONNECT); nil or "" to
    # connect directly. TLS runs end to end through it. A bad URL raises
    # Smtp::ArgumentError and leaves the setting unchanged.
    def proxy=(url)
      c_url = Args.cstr(url, 'proxy')
      call_checked { |h| Native.smtp_session_set_proxy(h, c_url) }
    end

    # With false, sendmail waits for each reply even when the server offers
    # PIPELINING (RFC 2920); true (the default) sends MAIL, every RCPT and
    # DATA in one write. The results are the same either way.
    def pipelining=(on)
      call_checked { |h| Native.smtp_session_set_pipelining(h, on ? 1 : 0) }
    end

    # With false, messages go by DATA even when the server offers CHUNKING
    # (RFC 3030); true (the default) sends BDAT chunks then.
    def chunking=(on)
      call_checked { |h| Native.smtp_session_set_chunking(h, on ? 1 : 0) }
    end

    # The envelope options (an Smtp::Envelope, or a Hash of its keywords)
    # of every following sendmail, send_message, stream, batch and pool
    # call on this session; nil removes them. The session keeps a copy.
    def envelope=(envelope)
      envelope = Envelope.new(**envelope) if envelope.is_a?(Hash)
      call_checked { |h| Native.smtp_session_set_envelope(h, envelope&.to_ptr) }
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
      synchronize do
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
      call_checked { |h| Native.smtp_session_set_tls_config(h, config&.to_ptr) }
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
  end
end

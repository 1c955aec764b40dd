# frozen_string_literal: true

module Smtp
  # A DKIM signer (RFC 6376; smtp_dkim): a private key, the signing domain
  # (d=) and selector (s=), the header fields to sign and the
  # canonicalization. The algorithm follows the key: rsa-sha256 for an RSA
  # key of 2048 bits or more, ed25519-sha256 (RFC 8463) for an Ed25519 one.
  #
  #   signer = Smtp::DKIM.new(key: File.read('dkim.pem'), domain: 'example.com', selector: 'mail')
  #   message.dkim = signer                      # Smtp::Message: every write and send is signed
  #   session.send_message(signer.sign(raw))     # a raw message: the DKIM-Signature field + raw
  #   signer.dns_record                          # => "v=DKIM1; k=rsa; p=..." for mail._domainkey.example.com
  #
  # Safe to share between threads (a Mutex serializes its calls, as the C
  # signer is one thread at a time); a message given it keeps a copy of its
  # settings. Freed by the garbage collector or at once by #free; the
  # library wipes the key then. #inspect never shows the key.
  class DKIM
    CANONICALIZATIONS = { simple: Native::DKIM_SIMPLE, relaxed: Native::DKIM_RELAXED }.freeze

    # key: PEM text (PKCS#1 "RSA PRIVATE KEY" or PKCS#8 "PRIVATE KEY", RSA
    # or Ed25519, unencrypted). domain, selector: d= and s=. headers: the
    # field names to sign (From always is); nil: RFC 6376 5.4.1's list plus
    # Message-ID and the MIME fields. canonicalization: see
    # #canonicalization= (default relaxed/relaxed). What the library
    # refuses raises Smtp::ArgumentError with its reason.
    def initialize(key: nil, domain: nil, selector: nil, headers: nil, canonicalization: nil)
      @handle = FFI::AutoPointer.new(Native.smtp_dkim_new, Native.method(:smtp_dkim_free))
      @lock = Mutex.new
      @domain = nil
      @selector = nil
      self.key = key if key
      self.domain = domain if domain
      self.selector = selector if selector
      self.headers = headers if headers
      self.canonicalization = canonicalization if canonicalization
    end

    # What #domain= and #selector= set (nil before).
    attr_reader :domain, :selector

    # The private key, PEM text. The library keeps the parsed key only;
    # the binding's own copy of the text is zeroed once given.
    def key=(pem)
      text = String.try_convert(pem)
      raise TypeError, "key must be a PEM String, not #{pem.class}" unless text

      buf, len = Args.bytes(text, 'key')
      begin
        call { |d| Native.smtp_dkim_set_key_pem(d, buf, len) }
      ensure
        buf.clear if len.positive?
      end
    end

    def domain=(domain)
      c_domain = Args.cstr(domain, 'domain')
      call { |d| Native.smtp_dkim_set_domain(d, c_domain) }
      @domain = domain
    end

    def selector=(selector)
      c_selector = Args.cstr(selector, 'selector')
      call { |d| Native.smtp_dkim_set_selector(d, c_selector) }
      @selector = selector
    end

    # The header fields to sign (h=), names in any case; every instance
    # present is signed. nil or [] restores the default list.
    def headers=(names)
      array, count, _keep = Args.cstr_array(names, 'headers')
      call { |d| Native.smtp_dkim_set_headers(d, array, count) }
    end

    # The header and body canonicalization (RFC 6376 3.4): [header, body]
    # of :simple / :relaxed, or the c= tag's text ("relaxed/simple"; one
    # name alone is the header's, the body's then simple, RFC 6376 3.5).
    def canonicalization=(value)
      header, body = case value
                     when Array then value
                     when String then value.split('/', 2).then { |h, b| [h, b || 'simple'] }
                     else raise TypeError, "canonicalization must be [header, body] or a String, not #{value.class}"
                     end
      codes = [header, body].map { |c| canonicalization_code(c) }
      call { |d| Native.smtp_dkim_set_canonicalization(d, *codes) }
    end

    # The DKIM-Signature field for a raw message (a String, its bytes),
    # folded and ending in CRLF, to put before its first line. Line ends
    # are read as Session#send_message sends them with line_endings:
    # :normalize (a lone LF or CR is a line end): send the signed message
    # so, and unchanged.
    def signature(message)
      buf, len = Args.bytes(message, 'message')
      out = FFI::MemoryPointer.new(:pointer)
      field = nil
      call do |d|
        rc = Native.smtp_dkim_sign(d, buf, len, out)
        # Read under the lock: the field lives until the signer's next call.
        field = Native.text(out.read_pointer) if rc.zero?
        rc
      end
      field
    end

    # The signed message: #signature(message) followed by the message's
    # bytes (a binary String), ready for Session#send_message or #sendmail.
    def sign(message)
      field = signature(message)
      field.b << String(message).b
    end

    # The DNS TXT record publishing the key ("v=DKIM1; k=rsa; p=..."), for
    # <selector>._domainkey.<domain>. Smtp::ArgumentError before a key is set.
    def dns_record
      out = FFI::MemoryPointer.new(:pointer)
      record = nil
      call do |d|
        rc = Native.smtp_dkim_dns_record(d, out)
        record = Native.text(out.read_pointer) if rc.zero?
        rc
      end
      record
    end

    # What the signer's last call did ("no error", or why it failed).
    def errmsg
      @lock.synchronize { Native.text(Native.smtp_dkim_errmsg(handle!)) }
    end

    # Release the signer now (its key wiped). Idempotent; later calls raise
    # SMTPBadStateError. Messages given it keep their copies.
    def free
      @lock.synchronize do
        @handle&.free
        @handle = nil
      end
      nil
    end

    def freed?
      @handle.nil?
    end

    def inspect
      return "#<#{self.class} freed>" if freed?

      "#<#{self.class} d=#{@domain.inspect} s=#{@selector.inspect}>"
    end

    # @api private (Message#dkim=): the smtp_dkim pointer, under the lock.
    def with_handle
      @lock.synchronize { yield handle! }
    end

    private

    def handle!
      @handle or raise SMTPBadStateError.new('the DKIM signer has been freed', result: 3)
    end

    # Run one C call under the lock; raise its result's exception with the
    # signer's message.
    def call
      @lock.synchronize do
        d = handle!
        rc = yield d
        raise Smtp.error_class(rc).new(Native.text(Native.smtp_dkim_errmsg(d)), result: rc) unless rc.zero?
      end
      nil
    end

    def canonicalization_code(name)
      CANONICALIZATIONS.fetch(name.to_s.downcase.to_sym) do
        raise Smtp::ArgumentError.new("canonicalization must be simple or relaxed, not #{name.inspect}", result: 2)
      end
    end
  end
end

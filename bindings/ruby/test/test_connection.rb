# frozen_string_literal: true

require_relative 'test_helper'

# How a session reaches the server and talks to it beyond smtplib's
# commands: the caller's socket, proxies, raw send/getreply, the
# pipelining and chunking switches, trust roots, and the library facts.
class TestConnection < Minitest::Test
  include SmtpTestHelpers

  # --- the caller's socket --------------------------------------------------

  def test_connect_fd_from_a_socket_or_a_descriptor
    sock = TCPSocket.new(HOST, sink_port)
    s = Smtp::Session.new(timeout: 5)
    assert_equal 220, s.connect_fd(sock)[0]
    assert_equal 250, s.noop[0]
    refute sock.closed?, 'the caller keeps its IO'
    sock.close # the library has its own descriptor
    assert_equal 250, s.noop[0]
    fd = s.fileno
    assert_kind_of Integer, fd
    peer = Socket.for_fd(fd).tap { |io| io.autoclose = false }.remote_address
    assert_equal sink_port, peer.ip_port
    assert_equal 221, s.quit[0]
    assert_nil s.fileno

    raw = TCPSocket.new(HOST, sink_port)
    raw.autoclose = false # the descriptor is given up to the library
    assert_equal 220, s.connect_socket(raw.fileno)[0]
    assert_equal 250, s.noop[0]
    s.close

    File.open(__FILE__) do |f|
      e = assert_raises(Smtp::ArgumentError) { s.connect_fd(f) }
      assert_match(/socket/, e.message)
    end
    assert_raises(TypeError) { s.connect_fd('nope') }
  ensure
    s&.free
  end

  # --- proxies -----------------------------------------------------------------

  def proxy_url(scheme, server)
    user, password = TestServers::SPEC['vars']['proxy_auth'].split(':', 2)
    "#{scheme}://#{user}:#{password.gsub('@', '%40')}@#{server.address}"
  end

  def test_through_socks5_and_http_proxies
    { 'socks5' => :socks, 'socks5h' => :socks, 'http' => :httpproxy }.each do |scheme, name|
      url = proxy_url(scheme, TestServers[name])
      got = TestServers.deliveries do
        Smtp::Session.start(HOST, sink_port, proxy: url, timeout: 10) do |s|
          s.sendmail('alice@example.com', 'bob@example.com', MESSAGE)
        end
      end
      assert_equal [MESSAGE], got.map(&:first), scheme
    end
    s = Smtp::Session.new(timeout: 5)
    s.proxy = proxy_url('socks5', TestServers[:socks]).sub('s3cret', 'wrong')
    e = assert_raises(Smtp::SMTPConnectionFailed) { s.connect(HOST, sink_port) }
    refute_match(/s3cret|wrong/, e.message, 'proxy credentials in an error message')
    assert_raises(Smtp::ArgumentError) { s.proxy = 'ftp://127.0.0.1:21' }
    s.proxy = nil
    assert_equal 220, s.connect(HOST, sink_port)[0]
  ensure
    s&.free
  end

  # --- raw commands --------------------------------------------------------

  def test_send_raw_and_getreply
    Smtp::Session.start(HOST, sink_port) do |s|
      assert_nil s.send_raw("NOOP\r\n")
      assert_equal 250, s.getreply[0]
      s.send_raw("HELP\r\n".b)
      code, = s.getreply
      assert_operator code, :>=, 200
      assert_raises(TypeError) { s.send_raw(42) }
    end
    assert_raises(Smtp::SMTPServerDisconnected) { Smtp::Session.new.send_raw("NOOP\r\n") }
  end

  def test_state_getters
    Smtp::Session.start(HOST, sink_port) do |s|
      assert_equal :smtp, s.kind
      s.ehlo
      assert_equal '', s.feature('8bitmime')
      assert_nil s.feature('x-nothing')
      refute s.utf8_commands?
      assert_equal 'ascii', s.command_encoding
      assert_nil s.sender
      s.mail('alice@example.com', ['SMTPUTF8'])
      assert s.utf8_commands?
      assert_equal 'utf-8', s.command_encoding
      s.rset
      refute s.utf8_commands?
    end
    assert_equal :lmtp, Smtp::Session.new(:lmtp).kind
  end

  # --- pipelining and chunking switches -------------------------------------

  # A server scripted here (no servers.json server offers PIPELINING or
  # CHUNKING): it offers both, answers every command, and records the
  # command lines of each read. Returns [port, reads].
  def recording_server
    server = TCPServer.new(HOST, 0)
    reads = Queue.new
    @thread = Thread.new do
      client = server.accept
      client.write("220 scripted\r\n")
      buffer = +''
      until client.closed?
        chunk = client.readpartial(65_536)
        buffer << chunk
        lines = []
        while (line = buffer.slice!(/\A[^\n]*\n/))
          lines << line.chomp.upcase
          reply = answer(client, line, buffer)
          client.write(reply) if reply
          client.close if line.upcase.start_with?('QUIT')
        end
        reads << lines.grep(/\A[A-Z]{4}/).map { |l| l[0, 4] }
      end
    rescue IOError, SystemCallError
      nil
    ensure
      server.close
    end
    [server.addr[1], reads]
  end

  def answer(client, line, buffer)
    case line.upcase
    when /\AEHLO/ then "250-scripted\r\n250-PIPELINING\r\n250-CHUNKING\r\n250 8BITMIME\r\n"
    when /\ADATA/
      client.write("354 go on\r\n")
      buffer << client.readpartial(65_536) until buffer.include?("\r\n.\r\n")
      buffer.slice!(/\A.*?\r\n\.\r\n/m)
      "250 queued\r\n"
    when /\ABDAT (\d+)/i
      size = Integer(Regexp.last_match(1))
      buffer << client.readpartial(65_536) while buffer.bytesize < size
      buffer.slice!(0, size)
      "250 chunk\r\n"
    when /\AQUIT/ then "221 bye\r\n"
    else "250 ok\r\n"
    end
  end

  def commands_by_read(pipelining:, chunking:)
    port, reads = recording_server
    Smtp::Session.start(HOST, port, timeout: 5, pipelining: pipelining, chunking: chunking) do |s|
      assert_equal({}, s.sendmail('alice@example.com', %w[bob@example.com carol@example.com], MESSAGE))
    end
    @thread.join(5)
    Array.new(reads.size) { reads.pop }.reject(&:empty?)
  end

  def test_pipelining_switch
    on = commands_by_read(pipelining: true, chunking: false)
    assert_includes on, %w[MAIL RCPT RCPT DATA], 'MAIL, RCPTs and DATA were not sent together'
    off = commands_by_read(pipelining: false, chunking: false)
    assert_equal [%w[EHLO], %w[MAIL], %w[RCPT], %w[RCPT], %w[DATA], %w[QUIT]], off
  end

  def test_chunking_switch
    on = commands_by_read(pipelining: true, chunking: true).flatten
    assert_includes on, 'BDAT'
    refute_includes on, 'DATA'
    off = commands_by_read(pipelining: true, chunking: false).flatten
    assert_includes off, 'DATA'
    refute_includes off, 'BDAT'
  end

  # --- TLS roots and library facts -------------------------------------------

  def test_roots
    server = TestServers[:starttls]
    only_ours = Smtp::TLSConfig.new(roots: [], ca_file: TestServers.ca_file)
    Smtp::Session.start(server.host, server.port, tls_config: only_ours) do |s|
      assert_equal 220, s.starttls[0]
      assert s.encrypted?
    end
    mozilla = Smtp::TLSConfig.new(roots: :mozilla) # the built-in roots alone: not our test CA
    Smtp::Session.start(server.host, server.port) do |s|
      assert_raises(Smtp::SMTPTLSError) { s.starttls(context: mozilla) }
    end
    begin
      system_store = Smtp::TLSConfig.new(roots: %i[mozilla system])
      assert_match(/certificate/i, system_store.roots_report)
    rescue Smtp::SMTPTLSError => e # a machine without a CA bundle
      refute_empty e.message
    end
    assert_raises(Smtp::ArgumentError) { Smtp::TLSConfig.new(roots: :everything) }
  end

  def test_library_facts
    major, minor, patch = Smtp.lib_version.split('.').map { |x| Integer(x) }
    assert_equal (major << 16) | (minor << 8) | patch, Smtp.lib_version_number
    assert_nil Smtp.result_exception(0)
    # Where the library names the smtplib exception, this binding's class
    # is that one or one of its subclasses. Where smtplib would raise an
    # OSError-like error (or SMTPServerDisconnected for a dead connection)
    # this binding raises a SMTPTransportError; ValueError and TypeError
    # are Smtp::ArgumentError.
    transport = %w[OSError TimeoutError SSLError SMTPServerDisconnected]
    Smtp::RESULTS.each_value do |code|
      next if code.zero?

      name = Smtp.result_exception(code)
      klass = Smtp.error_class(code)
      if %w[ValueError TypeError].include?(name)
        assert_operator klass, :<=, Smtp::ArgumentError, name
      elsif transport.include?(name) && klass <= Smtp::SMTPTransportError
        pass
      else
        assert_operator klass, :<=, Smtp.const_get(name), "code #{code}: #{name}"
      end
    end
  end
end

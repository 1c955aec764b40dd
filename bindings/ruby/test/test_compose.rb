# frozen_string_literal: true

require_relative 'test_helper'
require 'digest'
require 'open3'
require 'pathname'
require 'stringio'
require 'tempfile'
require 'timeout'

# Smtp::Message and Smtp::DKIM: messages built, sent to the sink and read
# back by an independent parser (Python's email package,
# tests/compose/parse_message.py); DKIM signatures checked by an
# independent verifier (dkimpy, tests/compose/dkim_verify.py) with the
# public records of tests/compose/keys, made by OpenSSL.
class TestCompose < Minitest::Test
  include SmtpTestHelpers

  KEYS = File.join(TestServers::ROOT, 'tests/compose/keys')
  HELPERS = File.join(TestServers::ROOT, 'tests/compose')
  TEXT = "Hello Bob,\nthe report is attached. Grüße, Zoë.\n.a line starting with a dot\n"
  HTML = "<p>Hello <b>Bob</b>, see the logo: <img src=\"cid:logo@example.com\"></p>\n"

  def setup
    @threads = []
    @servers = []
  end

  def teardown
    @threads.each do |t|
      t.kill.join(1)
    rescue Exception # rubocop:disable Lint/RescueException -- the thread's own end, checked by its test
      nil
    end
    @servers.each(&:close)
  end

  # Pseudo-random bytes, so that base64 has every value to carry.
  def noise(size, seed)
    Random.new(seed).bytes(size)
  end

  def session(&block)
    Smtp::Session.start(HOST, sink_port, timeout: 10, &block)
  end

  # Python's reading of +eml+ (parse_message.py's JSON).
  def parse(eml)
    JSON.parse(python('parse_message.py', eml))
  end

  # dkimpy's verdict on +eml+ with the public record of +key+.
  def dkim_verifies?(eml, key)
    out = python('dkim_verify.py', eml, File.join(KEYS, "#{key}.txt"), check: false)
    out.strip == 'pass'
  end

  def python(script, eml, *args, check: true)
    Tempfile.create(['message', '.eml']) do |f|
      f.binmode
      f.write(eml)
      f.close
      out, err, status = Open3.capture3(TestServers::PYTHON, File.join(HELPERS, script), f.path, *args)
      assert status.success?, "#{script}: #{out}#{err}" if check
      out
    end
  end

  def signer(key, **opts)
    Smtp::DKIM.new(key: File.read(File.join(KEYS, "#{key}.pem")), domain: 'example.com', selector: 'test', **opts)
  end

  def test_a_built_message_arrives_as_built
    png = noise(5000, 7)
    csv = "name;städte\nZoë;Köln\n" * 500
    big = noise(200_000, 42)
    file = Tempfile.new(['report', '.pdf'])
    file.binmode
    file.write("%PDF-1.4 not really\n")
    file.close
    m = Smtp::Message.new(from: 'Zoë Example <zoe@example.com>', to: ['bob@example.com', 'Carol <carol@example.com>'],
                          cc: 'dave@example.com', bcc: 'eve@example.com', reply_to: 'replies@example.com',
                          subject: 'Quarterly report — Köln', text: TEXT, html: HTML,
                          headers: { 'X-Campaign' => 'q3' })
    m.attach(big, filename: 'big.bin')
     .attach(StringIO.new(csv), filename: 'données.csv', content_type: 'text/csv')
     .attach_file(file.path, filename: 'report.pdf')
     .add_inline(png, 'logo@example.com', content_type: 'image/png')
    got = TestServers.deliveries do
      session do |s|
        assert_equal({}, s.send_composed(m))
        assert_equal 'zoe@example.com', s.sender
        assert_equal %w[bob@example.com carol@example.com dave@example.com eve@example.com], s.recipients.map(&:addr)
      end
    end
    assert_equal 1, got.size
    eml, envelope = got.first
    assert_equal 'zoe@example.com', envelope['mail_from']
    assert_equal %w[bob@example.com carol@example.com dave@example.com eve@example.com], envelope['rcpt_tos']
    # Date and Message-ID were made at the send and kept: the same bytes.
    assert_equal eml, m.to_s
    out = StringIO.new(+'', 'wb')
    assert_equal eml.bytesize, m.write(out)
    assert_equal eml, out.string
    pieces = []
    m.write { |piece| pieces << piece }
    assert_equal eml, pieces.join
    assert(pieces.all? { |p| p.bytesize <= 65_536 })

    parsed = parse(eml)
    assert_empty parsed['defects']
    assert_equal 'Quarterly report — Köln', parsed['subject']
    assert_equal [['Zoë Example', 'zoe@example.com']], parsed['from']
    assert_equal [['', 'bob@example.com'], ['Carol', 'carol@example.com']], parsed['to']
    assert_equal [['', 'dave@example.com']], parsed['cc']
    assert_equal [['', 'replies@example.com']], parsed['reply_to']
    refute parsed['bcc_present'], 'Bcc must not be written'
    assert_equal 'multipart/mixed', parsed['content_type']
    assert_equal TEXT, parsed['text']
    assert_equal HTML, parsed['html']
    assert_match(/^X-Campaign: q3\r$/, eml)
    parts = parsed['parts'].to_h { |p| [p['filename'] || p['content_id'], p] }
    assert_equal Digest::SHA256.hexdigest(big), parts['big.bin']['sha256']
    assert_equal 'application/octet-stream', parts['big.bin']['content_type']
    assert_equal Digest::SHA256.hexdigest(csv), parts['données.csv']['sha256']
    assert_equal 'text/csv', parts['données.csv']['content_type']
    assert_equal Digest::SHA256.hexdigest("%PDF-1.4 not really\n"), parts['report.pdf']['sha256']
    assert_equal 'application/pdf', parts['report.pdf']['content_type']
    assert_equal Digest::SHA256.hexdigest(png), parts['<logo@example.com>']['sha256']
    assert_equal 'image/png', parts['<logo@example.com>']['content_type']
    assert_equal 4, parts.size
    assert_operator parsed['max_line'], :<=, 998
    assert_equal 0, parsed['bare_lf']
  ensure
    file&.unlink
  end

  def test_fields_set_one_by_one
    m = Smtp::Message.new
    m.from = 'alice@example.com'
    m.sender = 'secretary@example.com'
    m.add_to('bob@example.com, carol@example.com')
    m.subject = 'by setters'
    m.date = Time.new(2024, 5, 6, 7, 8, 9, '+05:30')
    m.message_id = 'fixed-1@example.com'
    m.add_header('In-Reply-To', '<earlier@example.com>')
    m.text = "first\n"
    m.text = nil # removed again
    m.html = '<p>only html</p>'
    m.attach(Pathname.new(__FILE__), content_type: 'text/plain')
    eml = m.to_s
    assert_match(/^Date: Mon, 06 May 2024 07:08:09 \+0530\r$/, eml)
    assert_match(/^Message-ID: <fixed-1@example\.com>\r$/, eml)
    assert_match(/^Sender: secretary@example\.com\r$/, eml)
    assert_match(/^In-Reply-To: <earlier@example\.com>\r$/, eml)
    parsed = parse(eml)
    assert_nil parsed['text']
    assert_equal '<p>only html</p>', parsed['html']
    assert_equal [File.basename(__FILE__)], parsed['parts'].map { |p| p['filename'] }
    assert_equal Digest::SHA256.hexdigest(File.binread(__FILE__)), parsed['parts'][0]['sha256']
    got = TestServers.deliveries { session { |s| s.send_composed(m) } }
    assert_equal 'secretary@example.com', got[0][1]['mail_from'] # Sender, not From
    assert_equal %w[bob@example.com carol@example.com], got[0][1]['rcpt_tos']
    assert_equal eml, got[0][0]
  end

  def test_dkim_signed_messages_verify
    %w[rsa2048 ed25519].each do |key|
      m = Smtp::Message.new(from: 'alice@example.com', to: 'bob@example.com', subject: "signed #{key}",
                            text: "normalized text\n", dkim: signer(key))
      # An IO attachment is read twice (body hash, then the bytes): rewound.
      m.attach(StringIO.new(noise(10_000, 3)), filename: 'noise.bin')
      got = TestServers.deliveries { session { |s| s.send_composed(m) } }
      eml = got[0][0]
      assert_match(/\ADKIM-Signature: v=1; a=#{key == 'rsa2048' ? 'rsa' : 'ed25519'}-sha256;/, eml)
      assert dkim_verifies?(eml, key), "#{key}: the signature must verify"
      refute dkim_verifies?(eml.sub('normalized', 'normalised'), key), "#{key}: a changed body must not verify"
      refute dkim_verifies?(eml.sub("signed #{key}", 'resigned'), key), "#{key}: a changed subject must not verify"
    end
  end

  def test_dkim_signs_raw_messages
    raw = "From: alice@example.com\nTo: bob@example.com\nSubject: raw\n\nnormalized body\n"
    %w[rsa2048 ed25519].each do |key|
      d = signer(key, canonicalization: 'relaxed/simple', headers: %w[From To Subject])
      assert_equal File.read(File.join(KEYS, "#{key}.txt")).strip, d.dns_record
      field = d.signature(raw)
      assert_match(/\ADKIM-Signature: .*c=relaxed\/simple;.*\r\n\z/m, field)
      assert_match(/h=from:to:subject;/, field.delete("\r\n "))
      signed = d.sign(raw)
      assert signed.start_with?('DKIM-Signature: ')
      assert signed.end_with?(raw)
      got = TestServers.deliveries { session { |s| s.send_message(signed) } }
      assert dkim_verifies?(got[0][0], key), key
      refute dkim_verifies?(got[0][0].sub('normalized', 'normalised'), key), key
    end
  end

  def test_pool_send_composed
    m = Smtp::Message.new(from: 'alice@example.com', to: 'bob@example.com', subject: 'pooled', text: "x\n")
    m.attach(StringIO.new('through the pool'), filename: 'p.txt')
    got = TestServers.deliveries do
      Smtp::Pool.open(HOST, sink_port, max_connections: 2, timeout: 10) do |pool|
        assert_equal({}, pool.send_composed(m))
        assert_equal({}, pool.send_composed(m, session: Smtp::Session.new))
        assert_equal 2, pool.stat(:sent)
      end
    end
    assert_equal 2, got.size
    assert_equal got[0][0], got[1][0] # written twice, the attachment rewound
    assert_equal Digest::SHA256.hexdigest('through the pool'), parse(got[0][0])['parts'][0]['sha256']
  end

  def test_arguments_are_checked
    m = Smtp::Message.new
    e = assert_raises(Smtp::ArgumentError) { m.to_s }
    assert_match(/from/i, e.message)
    assert_raises(Smtp::ArgumentError) { m.add_header('Bcc', 'x@example.com') }
    assert_raises(Smtp::ArgumentError) { m.add_header('X-A', "v\nw") }
    assert_raises(Smtp::ArgumentError) { m.subject = "a\r\nBcc: x@example.com" }
    assert_raises(Smtp::ArgumentError) { m.add_to('not an address') }
    assert_raises(Smtp::ArgumentError) { m.add_to }
    assert_raises(Smtp::ArgumentError) { m.from = "a\0@example.com" }
    assert_raises(Smtp::ArgumentError) { m.text = "\xFF".b }
    assert_match(/UTF-8/, m.errmsg)
    assert_raises(TypeError) { m.attach(42) }
    assert_raises(TypeError) { m.date = 'yesterday' }
    assert_raises(TypeError) { m.dkim = 'a signer' }
    assert_raises(Smtp::ArgumentError) { m.dkim = Smtp::DKIM.new(domain: 'example.com') } # no key, no selector
    assert_raises(Smtp::ArgumentError) { Smtp::DKIM.new(key: "-----BEGIN PRIVATE KEY-----\nnope\n") }
    assert_raises(Smtp::ArgumentError) { Smtp::DKIM.new(canonicalization: %i[relaxed loose]) }
    assert_raises(Smtp::ArgumentError) { Smtp::DKIM.new.dns_record }
    d = signer('ed25519')
    refute_match(/PRIVATE|KEY/, d.inspect)
    d.free
    assert_raises(Smtp::SMTPBadStateError) { d.sign('x') }
    session { |s| assert_raises(TypeError) { s.send_composed("From: a@example.com\r\n\r\n") } }
    # No From: refused before anything is sent, the reason on the session.
    got = TestServers.deliveries do
      session do |s|
        assert_raises(Smtp::ArgumentError) { s.send_composed(Smtp::Message.new(to: 'bob@example.com')) }
        assert_match(/from/i, s.errmsg)
        assert_equal 250, s.noop[0]
      end
    end
    assert_equal [], got
  end

  def test_a_source_that_can_be_read_once
    reader, writer = IO.pipe
    writer.write('once only')
    writer.close
    m = Smtp::Message.new(from: 'alice@example.com', to: 'bob@example.com', text: "x\n")
    m.attach(reader, filename: 'pipe.txt')
    m.dkim = signer('ed25519')
    assert_raises(Smtp::ArgumentError) { m.to_s } # DKIM reads it twice; a pipe cannot be rewound
    m.dkim = nil
    assert_equal Digest::SHA256.hexdigest('once only'), parse(m.to_s)['parts'][0]['sha256']
    # And only once: the library refuses a second write before writing.
    e = assert_raises(Smtp::ArgumentError) { m.to_s }
    assert_match(/pipe\.txt.*was read already/, e.message)
  ensure
    reader&.close
  end

  def test_failures_while_sending_deliver_nothing
    calls = 0
    failing = Object.new
    failing.define_singleton_method(:read) { |n| (calls += 1) == 1 ? 'x' * [n, 100].min : raise(IOError, 'disk gone') }
    broken = Smtp::Message.new(from: 'alice@example.com', to: 'bob@example.com', text: "x\n")
    broken.attach(failing, filename: 'f.bin')
    missing = Smtp::Message.new(from: 'alice@example.com', to: 'bob@example.com', text: "x\n")
    missing.attach_file('/nonexistent/libsmtp-test.pdf')
    got = TestServers.deliveries do
      session do |s|
        e = assert_raises(IOError) { s.send_composed(broken) }
        assert_equal 'disk gone', e.message
        refute s.connected?, 'the connection must be closed mid-message'
        s.connect(HOST, sink_port)
        # A missing file is found before anything is sent.
        assert_raises(Smtp::ArgumentError) { s.send_composed(missing) }
        assert_match(/libsmtp-test\.pdf/, s.errmsg)
        assert s.connected?
      end
    end
    assert_equal [], got
    # The sink raising: the write stops, its exception goes on.
    ok = Smtp::Message.new(from: 'alice@example.com', to: 'bob@example.com', text: "x\n")
    pieces = 0
    assert_raises(Errno::ENOSPC) do
      ok.write do |_|
        pieces += 1
        raise Errno::ENOSPC
      end
    end
    assert_equal 1, pieces, 'the write must stop at the first failure'
  end

  def test_one_call_at_a_time
    m = Smtp::Message.new(from: 'alice@example.com', to: 'bob@example.com', text: "x\n")
    inner = nil
    source = Object.new
    source.define_singleton_method(:read) do |_n|
      inner ||= begin
        m.subject = 'from inside'
        :no_error
      rescue Smtp::SMTPBadStateError => e
        e
      end
      nil
    end
    m.attach(source, filename: 'empty.bin')
    m.to_s
    assert_instance_of Smtp::SMTPBadStateError, inner
    # Sent from the session's worker thread: the same rule.
    m2 = Smtp::Message.new(from: 'alice@example.com', to: 'bob@example.com', text: "x\n")
    inner = nil
    source2 = Object.new
    source2.define_singleton_method(:read) do |_n|
      inner ||= begin
        m2.to_s
      rescue Smtp::SMTPBadStateError => e
        e
      end
      nil
    end
    m2.attach(source2)
    TestServers.deliveries { session { |s| s.send_composed(m2) } }
    assert_instance_of Smtp::SMTPBadStateError, inner
    m2.free
    assert m2.freed?
    assert_raises(Smtp::SMTPBadStateError) { m2.to_s }
    m2.free # idempotent
  end

  # A server that greets, answers EHLO, then reads and never replies.
  def mute_server
    server = TCPServer.new(HOST, 0)
    @servers << server
    @threads << Thread.new do
      client = server.accept
      client.write("220 mute\r\n")
      client.gets
      client.write("250 mute\r\n")
      nil while client.readpartial(4096)
    rescue IOError, SystemCallError
      nil
    ensure
      client&.close
    end
    server.addr[1]
  end

  def test_cancel_and_interrupt
    m = Smtp::Message.new(from: 'alice@example.com', to: 'bob@example.com', text: "x\n")
    s = Smtp::Session.new
    s.connect(HOST, mute_server)
    worker = Thread.new { s.send_composed(m) }
    worker.report_on_exception = false
    @threads << worker
    # cancel is true once the call runs (false before: nothing to cancel).
    deadline = now + 5
    sleep 0.01 until s.cancel || now > deadline
    assert_raises(Smtp::SMTPCancelledError) { worker.value }
    refute s.connected?
    s.connect(HOST, mute_server)
    t0 = now
    assert_raises(Timeout::Error) { Timeout.timeout(0.3) { s.send_composed(m) } }
    assert_operator now - t0, :<, 1.5
    # Neither call left the message in use.
    assert_match(/^From: alice@example\.com\r$/, m.to_s)
  ensure
    s&.free
  end
end

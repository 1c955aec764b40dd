# frozen_string_literal: true

require_relative 'test_helper'
require 'stringio'
require 'tempfile'

# The message forms beyond sendmail: streaming from an IO (or anything
# with #read or #each), batches, envelope options, and the per-recipient
# record and sender the library reports.
class TestMessages < Minitest::Test
  include SmtpTestHelpers

  TEXT = "From: alice@example.com\nTo: bob@example.com\nSubject: stream\n\n.dot line\nbody\n"
  CRLF = TEXT.gsub("\n", "\r\n")

  def session(&block)
    Smtp::Session.start(HOST, sink_port, timeout: 10, &block)
  end

  def test_recipients_carry_the_deciding_reply
    session do |s|
      refused = s.sendmail('alice@example.com', %w[bob@example.com refuse-1@example.com], MESSAGE)
      assert_equal ['refuse-1@example.com'], refused.keys
      assert_equal 550, refused['refuse-1@example.com'][0]
      bob, bad = s.recipients
      assert_equal ['bob@example.com', false, 250, 250], [bob.addr, bob.refused?, bob.code, bob.final_code]
      assert_equal ['refuse-1@example.com', true, 550, 550], [bad.addr, bad.refused?, bad.code, bad.final_code]
      assert_match(/Recipient address rejected/, bad.final_text)
      assert_equal 0, bad.data_code # not LMTP: no reply after the data
      assert_equal 'alice@example.com', s.sender
    end
  end

  def test_send_message_reports_the_sender_it_chose
    raw = "From: Carol <carol@example.com>\r\nTo: bob@example.com\r\n\r\nx\r\n"
    session do |s|
      e = assert_raises(Smtp::SMTPSenderRefused) { s.send_message(raw, nil, nil, ['X-UNKNOWN=1']) }
      assert_equal 'carol@example.com', e.sender # from the headers, as the library chose it
      assert_equal 'carol@example.com', s.sender
      assert_equal({}, s.send_message(raw))
    end
  end

  # --- streaming ----------------------------------------------------------

  def test_stream_from_io_like_sources
    file = Tempfile.new('msg')
    file.binmode
    file.write(TEXT)
    file.flush
    file.rewind
    reader, writer = IO.pipe
    feeder = Thread.new do
      TEXT.each_char.each_slice(7) { |c| writer.write(c.join) }
      writer.close
    end
    piecewise = Object.new
    chunks = TEXT.scan(/.{1,5}/m)
    piecewise.define_singleton_method(:read) { |_n| chunks.shift }
    sources = [StringIO.new(TEXT), file, reader, TEXT.scan(/.{1,9}/m), TEXT.each_line, piecewise]
    got = TestServers.deliveries do
      session do |s|
        sources.each { |src| assert_equal({}, s.sendmail_stream('alice@example.com', 'bob@example.com', src)) }
        # sendmail takes anything with #read as a stream too.
        assert_equal({}, s.sendmail('alice@example.com', ['bob@example.com'], StringIO.new(TEXT)))
      end
    end
    feeder.join
    assert_equal [CRLF] * (sources.size + 1), got.map(&:first)
  ensure
    file&.close!
  end

  def test_stream_announces_the_size_it_knows
    session do |s|
      sent = record_commands(s)
      s.sendmail_stream('alice@example.com', 'bob@example.com', StringIO.new(CRLF), line_endings: :raw)
      s.sendmail_stream('alice@example.com', 'bob@example.com', [CRLF], line_endings: :raw)
      s.sendmail_stream('alice@example.com', 'bob@example.com', [CRLF], size: 4000, line_endings: :raw)
      mails = sent.grep(/\Amail from/i)
      assert_equal ["mail from:<alice@example.com> size=#{CRLF.bytesize}", 'mail from:<alice@example.com>',
                    'mail from:<alice@example.com> size=4000'], mails
    end
  end

  def test_stream_source_that_raises_sends_nothing
    failing = Object.new
    calls = 0
    failing.define_singleton_method(:read) do |_n|
      (calls += 1) == 1 ? "Subject: half\r\n\r\nthe first part\r\n" : raise(IOError, 'disk gone')
    end
    got = TestServers.deliveries do
      session do |s|
        e = assert_raises(IOError) { s.sendmail_stream('alice@example.com', 'bob@example.com', failing) }
        assert_equal 'disk gone', e.message
        refute s.connected?, 'the connection must be closed mid-message'
        s.connect(HOST, sink_port)
        s.ehlo # the EHLO state outlives the connection (smtplib's close)
        assert_raises(TypeError) { s.sendmail_stream('alice@example.com', 'bob@example.com', 42) }
        assert_raises(TypeError) { s.sendmail_stream('alice@example.com', 'bob@example.com', [42]) }
        s.connect(HOST, sink_port)
      end
    end
    assert_equal [], got
  end

  # --- batch ----------------------------------------------------------------

  def test_batch
    messages = [
      ['alice@example.com', 'bob@example.com', "Subject: 1\r\n\r\none\r\n"],
      { from: 'alice@example.com', to: %w[refuse-a@example.com refuse-b@example.com], msg: "Subject: 2\r\n\r\n" },
      { from: 'alice@example.com', to: %w[carol@example.com refuse-c@example.com], msg: "Subject: 3\n\nthree\n" }
    ]
    results = nil
    got = TestServers.deliveries { session { |s| results = s.sendmail_batch(messages) } }
    assert_equal ["Subject: 1\r\n\r\none\r\n", "Subject: 3\r\n\r\nthree\r\n"], got.map(&:first)
    assert_equal [true, false, true], results.map(&:ok?)
    assert_instance_of Smtp::SMTPRecipientsRefused, results[1].error
    assert_equal 27, results[1].error.result
    assert_equal({ 'refuse-a@example.com' => 550, 'refuse-b@example.com' => 550 }, results[1].rcpt_codes)
    assert_equal 2, results[1].refused_count
    assert_equal({ 'carol@example.com' => 250, 'refuse-c@example.com' => 550 }, results[2].rcpt_codes)
    assert_equal 1, results[2].refused_count
    assert_equal 0, results[0].refused_count
  end

  def test_batch_with_a_bad_argument_sends_nothing
    got = TestServers.deliveries do
      session do |s|
        bad = [['alice@example.com', 'bob@example.com', 'x'], ["a\r\n@example.com", 'bob@example.com', 'y']]
        assert_raises(Smtp::ArgumentError) { s.sendmail_batch(bad) }
        assert_raises(TypeError) { s.sendmail_batch([42]) }
        assert_equal [], s.sendmail_batch([])
        assert_equal 250, s.noop[0]
      end
    end
    assert_equal [], got
  end

  # --- envelope options -----------------------------------------------------

  def test_envelope_options_on_a_dsn_server
    dsn = TestServers[:dsn]
    env = Smtp::Envelope.new(ret: :hdrs, envid: 'QQ314159', notify: %i[failure delay],
                             rcpt: { 'carol@example.com' => { notify: :never, orcpt: 'carol@old.example' } })
    got = TestServers.deliveries_in(dsn.dir) do
      Smtp::Session.start(dsn.host, dsn.port, envelope: env) do |s|
        s.sendmail('alice@example.com', %w[bob@example.com carol@example.com], MESSAGE)
        s.envelope = nil
        s.sendmail('alice@example.com', 'bob@example.com', MESSAGE)
        s.envelope = { ret: :full } # a Hash of Envelope's keywords
        s.sendmail('alice@example.com', 'bob@example.com', MESSAGE)
      end
    end
    assert_equal 3, got.size
    mail, bob, carol = got[0][1]['raw']
    assert_match(/RET=HDRS/, mail)
    assert_match(/ENVID=QQ314159/, mail)
    assert_match(/NOTIFY=FAILURE,DELAY/, bob)
    assert_match(/NOTIFY=NEVER/, carol)
    assert_match(/ORCPT=rfc822;carol@old\.example/, carol)
    refute_match(/RET=|ENVID=/, got[1][1]['raw'][0])
    refute_match(/NOTIFY=/, got[1][1]['raw'][1])
    assert_match(/RET=FULL/, got[2][1]['raw'][0])
  end

  def test_envelope_checks
    assert_raises(Smtp::ArgumentError) { Smtp::Envelope.new(mt_priority: 42) }
    assert_raises(Smtp::ArgumentError) { Smtp::Envelope.new(notify: %i[never success]) }
    assert_raises(Smtp::ArgumentError) { Smtp::Envelope.new(ret: :everything) }
    assert_raises(Smtp::ArgumentError) { Smtp::Envelope.new(envid: 'x' * 101) }
    assert_raises(Smtp::ArgumentError) { Smtp::Envelope.new(deliver_by: 0) }
    e = assert_raises(Smtp::ArgumentError) { Smtp::Envelope.new(body: :ebcdic) }
    assert_match(/binarymime/, e.message)
    Smtp::Envelope.new(smtputf8: true, requiretls: true, body: :'8bitmime', mt_priority: -3,
                       deliver_by: { seconds: 3600, notify: true, trace: true })
    # Options the server does not offer: refused before the message goes.
    got = TestServers.deliveries do
      session do |s|
        s.envelope = Smtp::Envelope.new(ret: :full)
        assert_raises(Smtp::SMTPNotSupportedError) { s.sendmail('alice@example.com', 'bob@example.com', MESSAGE) }
      end
    end
    assert_equal [], got
  end
end

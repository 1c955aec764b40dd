# frozen_string_literal: true

require_relative 'test_helper'

# Sessions against tests/servers/sink.py.
class TestSession < Minitest::Test
  include SmtpTestHelpers

  def test_message_arrives_byte_identical
    refused = nil
    got = TestServers.deliveries do
      Smtp::Session.start(HOST, sink_port) do |s|
        refused = s.sendmail('alice@example.com', ['bob@example.com'], MESSAGE)
      end
    end
    assert_equal({}, refused)
    assert_equal 1, got.size
    eml, env = got.first
    assert_equal MESSAGE, eml, 'the stored message differs from what was sent'
    assert_equal 'alice@example.com', env['mail_from']
    assert_equal ['bob@example.com'], env['rcpt_tos']
  end

  def test_raw_line_endings_kept_and_normalized
    msg = "Subject: eol\r\n\r\nlone LF\nlone CR\rend\r\n"
    got = TestServers.deliveries do
      Smtp::Session.start(HOST, sink_port) do |s|
        s.sendmail('a@example.com', 'b@example.com', msg, line_endings: :raw)
        s.sendmail('a@example.com', 'b@example.com', msg)
        assert_raises(Smtp::ArgumentError) do
          s.sendmail('a@example.com', 'b@example.com', msg, line_endings: :reject_bare_eol)
        end
        assert_raises(Smtp::ArgumentError) { s.sendmail('a@example.com', 'b@example.com', msg, line_endings: :bogus) }
      end
    end
    assert_equal [msg.b, "Subject: eol\r\n\r\nlone LF\r\nlone CR\r\nend\r\n".b], got.map(&:first)
  end

  def test_refused_recipients_returned
    got = TestServers.deliveries do
      Smtp::Session.start(HOST, sink_port) do |s|
        refused = s.sendmail('alice@example.com',
                             ['bob@example.com', 'refuse-1@example.com', 'carol@example.com', 'refuse-2@example.com'],
                             MESSAGE)
        assert_equal %w[refuse-1@example.com refuse-2@example.com], refused.keys
        refused.each do |addr, (code, text)|
          assert_equal 550, code
          assert_includes text, "<#{addr}>: Recipient address rejected"
        end
        assert_equal refused, s.refused_recipients
        assert_equal [250, 550, 250, 550], s.recipients.map(&:code)
      end
    end
    assert_equal 1, got.size
    assert_equal %w[bob@example.com carol@example.com], got.first[1]['rcpt_tos']
  end

  def test_all_recipients_refused_raises
    got = TestServers.deliveries do
      Smtp::Session.start(HOST, sink_port) do |s|
        e = assert_raises(Smtp::SMTPRecipientsRefused) do
          s.sendmail('alice@example.com', ['refuse-a@example.com', 'refuse-b@example.com'], MESSAGE)
        end
        assert_kind_of Smtp::SMTPException, e
        assert_equal 27, e.result
        assert_equal %w[refuse-a@example.com refuse-b@example.com], e.recipients.keys
        assert_equal [550, 550], e.recipients.values.map(&:first)
        assert_match(/refuse-b@example\.com/, e.message)
        # The transaction was reset; the session goes on.
        assert_equal 250, s.noop[0]
        assert_equal({}, s.sendmail('alice@example.com', 'bob@example.com', MESSAGE))
      end
    end
    assert_equal 1, got.size
  end

  def test_sender_refused
    Smtp::Session.start(HOST, sink_port) do |s|
      # aiosmtpd refuses MAIL parameters it does not know (501 or 555).
      e = assert_raises(Smtp::SMTPSenderRefused) do
        s.sendmail('alice@example.com', ['bob@example.com'], MESSAGE, ['X-UNKNOWN=1'])
      end
      assert_kind_of Smtp::SMTPResponseException, e
      assert_equal 26, e.result
      assert_equal 'alice@example.com', e.sender
      assert_includes [501, 555], e.smtp_code
      refute_empty e.smtp_error
      assert_equal 250, s.noop[0]
    end
  end

  def test_closed_port_raises
    port = closed_port
    e = assert_raises(Smtp::SMTPConnectionFailed) { Smtp::Session.new(host: HOST, port: port) }
    assert_kind_of Smtp::SMTPTransportError, e
    assert_equal 10, e.result
    yielded = false
    assert_raises(Smtp::SMTPConnectionFailed) { Smtp::Session.start(HOST, port) { yielded = true } }
    refute yielded
    s = Smtp::Session.new
    assert_raises(Smtp::SMTPConnectionFailed) { s.connect(HOST, port) }
    refute s.connected?
    assert_raises(Smtp::SMTPServerDisconnected) { s.noop }
  end

  def test_block_form_quits
    name = unique_name('quit')
    session = nil
    sent = nil
    value = Smtp::Session.start(HOST, sink_port, local_hostname: name) do |s|
      session = s
      sent = record_commands(s)
      assert_equal 250, s.ehlo[0]
      assert s.connected?
      :block_value
    end
    assert_equal :block_value, value
    refute session.connected?
    assert_equal ["ehlo #{name}", 'quit'], sent
  end

  def test_block_form_quits_when_the_block_raises
    name = unique_name('quit-raise')
    session = nil
    sent = nil
    error = Class.new(StandardError)
    assert_raises(error) do
      Smtp::Session.start(HOST, sink_port, local_hostname: name) do |s|
        session = s
        sent = record_commands(s)
        s.ehlo
        raise error, 'from the block'
      end
    end
    refute session.connected?
    assert_equal ["ehlo #{name}", 'quit'], sent
  end

  def test_block_form_after_server_side_quit
    # The block quits itself: the block form's QUIT finds no connection
    # and that is not an error (smtplib's __exit__).
    Smtp::Session.start(HOST, sink_port) do |s|
      assert_equal 221, s.quit[0]
    end
  end

  def test_send_message
    raw = "From: Alice <alice@example.com>\r\n" \
          "To: Bob <bob@example.com>, refuse-x@example.com\r\n" \
          "Cc: \"Carol, C.\" <carol@example.com>\r\n" \
          "Bcc: hidden@example.com\r\n" \
          "Subject: send_message\r\n" \
          "\r\n" \
          "Body.\r\n"
    refused = nil
    got = TestServers.deliveries do
      Smtp::Session.start(HOST, sink_port) { |s| refused = s.send_message(raw) }
    end
    assert_equal ['refuse-x@example.com'], refused.keys
    eml, env = got.first
    assert_equal raw.sub("Bcc: hidden@example.com\r\n", ''), eml
    assert_equal 'alice@example.com', env['mail_from']
    # To, then Bcc, then Cc (smtplib's order).
    assert_equal %w[bob@example.com hidden@example.com carol@example.com], env['rcpt_tos']

    # Explicit envelope.
    got = TestServers.deliveries do
      Smtp::Session.start(HOST, sink_port) { |s| s.send_message(raw, 'other@example.com', 'dave@example.com') }
    end
    assert_equal 'other@example.com', got.first[1]['mail_from']
    assert_equal ['dave@example.com'], got.first[1]['rcpt_tos']

    Smtp::Session.start(HOST, sink_port) do |s|
      e = assert_raises(Smtp::ArgumentError) { s.send_message("To: <unterminated\r\n\r\nx\r\n") }
      assert_equal 2, e.result
    end
  end

  def test_invalid_input_raises_before_sending
    name = unique_name('invalid')
    all = nil
    got = TestServers.deliveries do
      Smtp::Session.start(HOST, sink_port, local_hostname: name) do |s|
        all = record_commands(s)
        s.ehlo
        sent = []
        s.set_trace { |dir, line| (dir == :send) && (sent << line) && (all << command_of(line)) }
        bad = [
          -> { s.sendmail("alice@example.com\r\nRCPT TO:<evil@example.com>", ['bob@example.com'], MESSAGE) },
          -> { s.sendmail('alice@example.com', ["bob@example.com\nDATA"], MESSAGE) },
          -> { s.sendmail('alice@example.com', ['bob@example.com'], MESSAGE, ["X=1\r\nRSET"]) },
          -> { s.sendmail('alice@example.com', [], MESSAGE) },
          -> { s.mail("a@example.com\rx") },
          -> { s.rcpt("b@example.com\r\n") },
          -> { s.docmd("NOOP\r\nQUIT") },
          -> { s.verify("x\ny") },
          -> { s.sendmail("alice\0@example.com", ['bob@example.com'], MESSAGE) },
          -> { s.mail("caf\xC3(@example.com".b) }
        ]
        bad.each_with_index do |call, i|
          e = assert_raises(ArgumentError, "case #{i}") { call.call }
          assert_kind_of Smtp::ArgumentError, e
          assert_equal 2, e.result
        end
        assert_equal [], sent, 'something was sent for an invalid argument'
        assert_equal 250, s.noop[0]
      end
    end
    assert_equal [], got
    assert_equal ["ehlo #{name}", 'noop', 'quit'], all
  end

  def test_commands
    Smtp::Session.start(HOST, sink_port) do |s|
      refute s.does_esmtp?
      assert_nil s.ehlo_resp
      code, msg = s.ehlo('client.test')
      assert_equal 250, code
      assert_match(/\Asink\.test/, msg)
      assert_equal msg, s.ehlo_resp
      assert s.does_esmtp?
      assert s.has_extn?('SIZE')
      assert s.has_extn?('8bitmime')
      refute s.has_extn?('STARTTLS')
      features = s.esmtp_features
      assert_kind_of Hash, features
      assert_equal '', features['8bitmime']
      assert_match(/\A\d+\z/, features['size'])
      assert_equal [250, 'OK'], s.noop
      assert_equal [250, 'OK'], s.rset
      assert_match(/Supported commands/, s.help)
      assert_equal 252, s.verify('Jane <jane@example.com>')[0]
      assert_equal 502, s.expn('list@example.com')[0]
      assert_equal 250, s.docmd('NOOP')[0]
      assert_equal 500, s.docmd('BOGUS', 'x')[0]
      assert_equal 500, s.last_reply_code
      assert_equal 'no error', s.errmsg
      assert_nil s.ehlo_or_helo_if_needed
      assert_equal 250, s.helo('client.test')[0]
      refute s.encrypted?
      assert_nil s.tls_version
    end
  end

  def test_mail_rcpt_data
    got = TestServers.deliveries do
      Smtp::Session.start(HOST, sink_port) do |s|
        s.ehlo
        assert_equal 250, s.mail('alice@example.com', ['BODY=8BITMIME'])[0]
        assert_equal 250, s.rcpt('bob@example.com')[0]
        assert_equal 550, s.rcpt('refuse@example.com')[0]
        assert_equal [false, true], s.recipients.map(&:refused?)
        code, msg = s.data(MESSAGE)
        assert_equal 250, code
        assert_match(/queued/, msg)
        assert_raises(Smtp::SMTPDataError) { s.data(MESSAGE) } # DATA without MAIL: 503
      end
    end
    assert_equal MESSAGE, got.first[0]
    assert_equal ['BODY=8BITMIME'], got.first[1]['mail_options']
  end

  def test_lifecycle_close_and_free
    s = Smtp::Session.new(:smtp, host: HOST, port: sink_port, timeout: 5)
    assert_equal 5.0, s.timeout
    assert_equal 5.0, s.get_timeout(:connect)
    s.set_timeout(:reply, 0)
    assert_nil s.get_timeout(:reply)
    assert s.connected?
    s.close
    s.close
    refute s.connected?
    assert_raises(Smtp::SMTPServerDisconnected) { s.noop }
    assert_equal 220, s.connect(HOST, sink_port)[0] # usable again after close
    s.free
    s.free
    s.close
    assert s.freed?
    e = assert_raises(Smtp::SMTPBadStateError) { s.noop }
    assert_equal 3, e.result
    assert_raises(Smtp::ArgumentError) { Smtp::Session.new(:bogus) }
    assert_raises(Smtp::ArgumentError) { Smtp::Session.new.local_hostname = 'two words' }
  end

  def test_sessions_released_by_the_garbage_collector
    50.times do
      s = Smtp::Session.new(host: HOST, port: sink_port)
      s.set_debuglevel(1)
      s.set_trace { |_d, _l| nil }
    end
    GC.start
    GC.start
    Smtp::Session.start(HOST, sink_port) { |s| assert_equal 250, s.noop[0] }
  end

  def test_trace_block
    lines = []
    Smtp::Session.start(HOST, sink_port) do |s|
      s.set_debuglevel(1)
      s.set_trace { |dir, line| lines << [dir, line] }
      s.noop
      boom = Class.new(StandardError)
      s.set_trace { |_dir, _line| raise boom, 'in trace' }
      assert_raises(boom) { s.noop }
      s.set_trace
      s.set_debuglevel(0)
      assert_equal 250, s.noop[0]
    end
    assert_includes lines.map(&:first), :send
    assert_includes lines.map(&:first), :recv
    assert(lines.any? { |_, l| l.include?('noop') })
  end

  def test_threads_use_their_own_sessions
    results = Array.new(4) do |i|
      Thread.new do
        Smtp::Session.start(HOST, sink_port) do |s|
          s.sendmail('alice@example.com', "thread-#{i}@example.com", MESSAGE)
        end
      end
    end.map(&:value)
    assert_equal [{}] * 4, results
  end
end

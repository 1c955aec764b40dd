# frozen_string_literal: true

require_relative 'test_helper'

# LMTP (RFC 2033) against the runner's lmtp server (servers.json:
# scripted.py's mini LMTP): 550 at RCPT for refuse*, 452 after the data for
# late-fail*, one reply per accepted recipient; over TCP and a Unix socket.
class TestLmtp < Minitest::Test
  MSG = "Subject: lmtp\r\n\r\nhello\r\n"

  def lmtp = TestServers[:lmtp]

  def test_one_reply_per_recipient_after_the_data
    s = Smtp::Session.new(:lmtp, host: lmtp.host, port: lmtp.port, timeout: 10)
    begin
      assert_equal 250, s.ehlo.first
      refused = s.sendmail('a@example.com', %w[ok@example.com late-fail@example.com refuse@example.com], MSG)
      assert_equal({ 'late-fail@example.com' => [452, '4.2.2 mailbox full'],
                     'refuse@example.com' => [550, '5.1.1 no such user'] }, refused)
      rs = s.recipients
      assert_equal [[250, 250, false], [250, 452, true], [550, 0, true]],
                   rs.map { |r| [r.code, r.data_code, r.refused] }
      # Every recipient refused after the data: SMTPDataError, still in step.
      e = assert_raises(Smtp::SMTPDataError) do
        s.sendmail('a@example.com', %w[late-fail-1@example.com late-fail-2@example.com], MSG)
      end
      assert_equal 452, e.smtp_code
      assert_equal 250, s.noop.first
    ensure
      s.close
    end
  end

  def test_over_a_unix_socket
    s = Smtp::Session.new(:lmtp, host: File.join(lmtp.dir, 'lmtp.sock'), timeout: 10)
    begin
      assert_equal({}, s.sendmail('a@example.com', ['ok@example.com'], MSG))
    ensure
      s.close
    end
  end
end

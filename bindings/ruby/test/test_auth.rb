# frozen_string_literal: true

require_relative 'test_helper'

# login and auth (the SASL block bridge) against tests/servers/auth_server.py.
class TestAuth < Minitest::Test
  include SmtpTestHelpers

  def with_auth_session(&block)
    Smtp::Session.start(HOST, auth_port) do |s|
      s.ehlo
      block.call(s)
    end
  end

  def test_login
    with_auth_session do |s|
      assert_includes s.esmtp_features['auth'], 'X-TOKEN'
      assert_equal [235, '2.7.0 Authentication successful'], s.login('alice', 's3cret')
    end
    with_auth_session do |s|
      assert_equal 235, s.login('jörg', 'pässword')[0]
    end
  end

  def test_login_refused
    with_auth_session do |s|
      e = assert_raises(Smtp::SMTPAuthenticationError) { s.login('alice', 'wrong') }
      assert_kind_of Smtp::SMTPResponseException, e
      assert_equal 24, e.result
      assert_equal 535, e.smtp_code
      assert_match(/credentials invalid/, e.smtp_error)
      assert_equal 235, s.login('alice', 's3cret')[0]
    end
  end

  def test_login_without_auth_extension
    Smtp::Session.start(HOST, sink_port) do |s|
      # The sink offers no AUTH.
      e = assert_raises(Smtp::SMTPNotSupportedError) { s.login('alice', 's3cret') }
      assert_equal 23, e.result
    end
  end

  def test_custom_mechanism_through_the_block
    with_auth_session do |s|
      seen = []
      reply = s.auth('X-TOKEN') do |challenge|
        seen << challenge
        challenge.nil? ? nil : 'open sesame'
      end
      assert_equal [235, '2.7.0 Authentication successful'], reply
      assert_equal [nil, 'token?'], seen
      assert_equal Encoding::BINARY, seen.last.encoding
    end
  end

  def test_custom_mechanism_without_initial_response
    with_auth_session do |s|
      seen = []
      s.auth('X-TOKEN', initial_response_ok: false) { |c| seen << c and 'open sesame' }
      assert_equal ['token?'], seen
    end
  end

  def test_plain_through_the_block_with_initial_response
    with_auth_session do |s|
      calls = 0
      assert_equal 235, s.auth('PLAIN') { |c| calls += 1 and (c.nil? ? "\0alice\0s3cret" : raise('no challenge expected')) }[0]
      assert_equal 1, calls
    end
  end

  def test_wrong_answer_is_an_authentication_error
    with_auth_session do |s|
      e = assert_raises(Smtp::SMTPAuthenticationError) { s.auth('X-TOKEN') { |c| c && 'wrong' } }
      refute_kind_of Smtp::SMTPAuthenticationAborted, e
      assert_equal 535, e.smtp_code
    end
  end

  def test_raising_block_is_aborted_and_reraised
    with_auth_session do |s|
      error_class = Class.new(StandardError)
      error = error_class.new('from the authobject')
      raised = assert_raises(error_class) do
        s.auth('X-TOKEN') { |c| c.nil? ? nil : raise(error) }
      end
      assert_same error, raised
      assert_match(/test_auth\.rb/, raised.backtrace.first)
      # The exchange was cancelled ("*"): the session is in step and usable.
      assert_equal [250, 'OK'], s.noop
      assert_equal 235, s.auth('X-TOKEN') { |c| c && 'open sesame' }[0]
    end
  end

  def test_non_standard_errors_are_reraised_too
    with_auth_session do |s|
      assert_raises(Interrupt) { s.auth('X-TOKEN') { |c| c && raise(Interrupt) } }
      assert_equal 250, s.noop[0]
      assert_raises(TypeError) { s.auth('X-TOKEN') { |c| c && 42 } }
      assert_equal 250, s.noop[0]
    end
  end

  def test_break_and_throw_do_not_cross_c
    with_auth_session do |s|
      e = assert_raises(LocalJumpError) { s.auth('X-TOKEN') { |c| break :out if c } }
      assert_match(/cannot pass through the C library/, e.message)
      assert_equal 250, s.noop[0]
      assert_raises(LocalJumpError) { catch(:tag) { s.auth('X-TOKEN') { |c| throw :tag if c } } }
      assert_equal 250, s.noop[0]
    end
  end

  def test_nil_to_a_challenge_aborts
    with_auth_session do |s|
      e = assert_raises(Smtp::SMTPAuthenticationAborted) { s.auth('X-TOKEN') { |_c| nil } }
      assert_kind_of Smtp::SMTPAuthenticationError, e
      assert_equal 25, e.result
      assert_equal 250, s.noop[0]
    end
  end

  def test_session_calls_from_inside_the_block
    with_auth_session do |s|
      e = assert_raises(Smtp::SMTPBadStateError) { s.auth('X-TOKEN') { |c| c && s.noop } }
      assert_equal 3, e.result
      assert_raises(Smtp::SMTPBadStateError) { s.auth('X-TOKEN') { |c| c && s.free } }
      refute s.freed?
      assert_raises(Smtp::SMTPBadStateError) { s.auth('X-TOKEN') { |c| c && s.last_reply_code } }
      assert_equal 250, s.noop[0]
    end
  end

  def test_response_larger_than_the_first_buffer
    # Over 1024 bytes (the old fixed buffer): smtp_sasl_respond takes a
    # response of any length, and the block is asked once per step. The
    # server refuses the long line; what matters is the bytes sent.
    with_auth_session do |s|
      sent = []
      s.set_debuglevel(1)
      s.debug_secrets = true
      s.set_trace { |dir, line| sent << line if dir == :send }
      seen = []
      big = 'x' * 3000
      assert_raises(Smtp::SMTPAuthenticationError) { s.auth('X-TOKEN') { |c| (seen << c) && c && big } }
      assert_equal [nil, 'token?'], seen
      assert(sent.any? { |l| l.include?([big].pack('m0')) }, 'the whole response was not sent')
      s.set_trace
      s.set_debuglevel(0)
      assert_equal 250, s.noop[0]
    end
  end

  def test_builtin_mechanism_and_flags
    with_auth_session do |s|
      assert_raises(ArgumentError) { s.auth('PLAIN') }
      assert_equal 235, s.auth('PLAIN', user: 'alice', secret: 's3cret')[0]
    end
    with_auth_session do |s|
      s.trust_loopback = false
      assert_raises(Smtp::SMTPNotEncryptedError) { s.login('alice', 's3cret') }
      assert_equal 235, s.login('alice', 's3cret', allow_cleartext: true)[0]
    end
    with_auth_session do |s|
      s.auth_mechanisms = %w[LOGIN]
      assert_equal 235, s.login('alice', 's3cret')[0]
      assert_raises(Smtp::ArgumentError) { s.auth_mechanisms = 'NOPE' }
    end
  end
end

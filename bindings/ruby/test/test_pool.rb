# frozen_string_literal: true

require_relative 'test_helper'

# Smtp::Pool: connections shared by threads, each call on the calling
# thread's own session.
class TestPool < Minitest::Test
  include SmtpTestHelpers

  def mail_text(i)
    "From: alice@example.com\r\nTo: bob@example.com\r\nSubject: pool #{i}\r\n\r\nmessage #{i}\r\n"
  end

  def test_threads_share_the_connections
    Smtp::Pool.open(HOST, sink_port, max_connections: 2, timeout: 10) do |pool|
      got = TestServers.deliveries do
        threads = Array.new(4) do |t|
          Thread.new do
            Array.new(3) { |i| pool.sendmail('alice@example.com', 'bob@example.com', mail_text((t * 3) + i)) }
          end
        end
        assert_equal [{}] * 12, threads.flat_map(&:value)
      end
      assert_equal (0...12).map { |i| mail_text(i) }.sort, got.map(&:first).sort
      stats = pool.stats
      assert_equal 12, stats[:sent]
      assert_operator stats[:opened], :<=, 2
      assert_equal stats[:open], stats[:idle]
      refute_same pool.session, Thread.new { pool.session }.value, 'one session per thread'
      assert_same pool.session, pool.session
    end
  end

  def test_pool_forms_and_results
    Smtp::Pool.open(HOST, sink_port, options: { max_messages: 2 }) do |pool|
      got = TestServers.deliveries do
        refused = pool.sendmail('alice@example.com', %w[bob@example.com refuse-x@example.com], mail_text(1))
        assert_equal ['refuse-x@example.com'], refused.keys
        assert_equal %w[bob@example.com refuse-x@example.com], pool.session.recipients.map(&:addr)
        assert_equal({}, pool.send_message(mail_text(2)))
        results = pool.sendmail_batch([['alice@example.com', 'bob@example.com', mail_text(3)],
                                       ['alice@example.com', 'refuse-y@example.com', mail_text(4)]])
        assert_equal [true, false], results.map(&:ok?)
        assert_instance_of Smtp::SMTPRecipientsRefused, results[1].error
        mine = Smtp::Session.new(timeout: 5)
        assert_equal({}, pool.sendmail('alice@example.com', 'bob@example.com', mail_text(5), session: mine))
        mine.free
        e = assert_raises(Smtp::SMTPRecipientsRefused) do
          pool.sendmail('alice@example.com', 'refuse-z@example.com', mail_text(6))
        end
        assert_equal ['refuse-z@example.com'], e.recipients.keys
      end
      assert_equal [1, 2, 3, 5].map { |i| mail_text(i) }, got.map(&:first)
      assert_operator pool.stat(:retired), :>=, 1 # max_messages 2
      assert_raises(Smtp::ArgumentError) { pool.set_option(:bogus, 1) }
      assert_raises(Smtp::ArgumentError) { pool.stat(:bogus) }
      pool.set_option(:starttls, false)
      pool.set_option(:rate, 0)
    end
  end

  def test_login_and_auth_for_new_connections
    pool = Smtp::Pool.new(HOST, auth_port, timeout: 10)
    pool.set_login('alice', 'wrong')
    assert_raises(Smtp::SMTPAuthenticationError) { pool.sendmail('alice@example.com', 'bob@example.com', mail_text(1)) }
    pool.set_login('alice', 's3cret')
    assert_equal({}, pool.sendmail('alice@example.com', 'bob@example.com', mail_text(1)))
    pool.free

    pool = Smtp::Pool.new(HOST, auth_port, timeout: 10)
    challenges = Queue.new
    pool.set_auth('X-TOKEN') { |c| (challenges << c) && c && 'open sesame' }
    assert_equal({}, pool.sendmail('alice@example.com', 'bob@example.com', mail_text(2)))
    assert_equal [nil, 'token?'], [challenges.pop, challenges.pop]
    pool.free

    pool = Smtp::Pool.new(HOST, auth_port, timeout: 10)
    failure = Class.new(StandardError)
    pool.set_auth('X-TOKEN') { |c| c ? raise(failure, 'no token today') : nil }
    e = assert_raises(failure) { pool.sendmail('alice@example.com', 'bob@example.com', mail_text(3)) }
    assert_equal 'no token today', e.message
    pool.set_auth('X-TOKEN') { |c| c && 'open sesame' } # replaced: the next connection works
    assert_equal({}, pool.sendmail('alice@example.com', 'bob@example.com', mail_text(4)))
  ensure
    pool&.free
  end

  def test_interrupting_a_pool_call
    slow = TestServers[:slow]
    pool = Smtp::Pool.new(slow.host, slow.port, timeout: 10)
    t = Thread.new { pool.sendmail('alice@example.com', 'bob@example.com', mail_text(1)) }
    t.report_on_exception = false
    sleep 0.3 # opening a connection: the greeting is 2 s away
    started = now
    t.raise(Interrupt)
    begin
      t.join(5)
    rescue Interrupt
      nil
    end
    elapsed = now - started
    puts format('timing: %-58s %6.1f ms', 'Thread#raise on a pool call opening a connection', elapsed * 1000)
    assert_operator elapsed, :<, 0.1
    refute t.alive?
  ensure
    pool&.free
  end

  def test_free
    pool = Smtp::Pool.new(HOST, sink_port)
    pool.sendmail('alice@example.com', 'bob@example.com', mail_text(1))
    pool.free
    pool.free # idempotent
    assert pool.freed?
    assert_raises(Smtp::SMTPBadStateError) { pool.sendmail('alice@example.com', 'bob@example.com', mail_text(2)) }
    assert_raises(Smtp::SMTPConnectionFailed, Smtp::SMTPTimeoutError) do
      Smtp::Pool.new(HOST, closed_port).sendmail('alice@example.com', 'bob@example.com', mail_text(3))
    end
  end
end

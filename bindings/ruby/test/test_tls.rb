# frozen_string_literal: true

require_relative 'test_helper'

# STARTTLS and implicit TLS against tests/servers/tls_server.py.
class TestTLS < Minitest::Test
  include SmtpTestHelpers

  def trusted
    @trusted ||= Smtp::TLSConfig.new(ca_file: TestServers.ca_file, default_roots: false)
  end

  def test_starttls_then_send
    server = TestServers[:starttls]
    got = TestServers.deliveries_in(server.dir) do
      Smtp::Session.start(HOST, server.port) do |s|
        s.ehlo
        assert s.has_extn?('starttls')
        refute s.encrypted?
        assert_equal 220, s.starttls(context: trusted)[0]
        assert s.encrypted?
        assert_match(/\ATLSv1\.[23]\z/, s.tls_version)
        refute_nil s.tls_cipher
        refute s.does_esmtp?, 'EHLO state must be forgotten after STARTTLS'
        assert_equal({}, s.sendmail('alice@example.com', 'bob@example.com', MESSAGE))
      end
    end
    assert_equal [MESSAGE], got.map(&:first)
  end

  def test_untrusted_certificate
    server = TestServers[:starttls]
    s = Smtp::Session.new(host: HOST, port: server.port)
    e = assert_raises(Smtp::SMTPTLSError) { s.starttls }
    assert_kind_of Smtp::SMTPTransportError, e
    assert_equal 13, e.result
    refute s.connected?
  ensure
    s&.free
  end

  def test_implicit_tls
    server = TestServers[:implicit]
    Smtp::Session.start(HOST, server.port, kind: :smtp_ssl, tls_config: trusted) do |s|
      assert s.encrypted?
      assert_equal 250, s.ehlo[0]
    end
    assert_raises(Smtp::SMTPTLSError) { Smtp::Session.new(:smtp_ssl, host: HOST, port: server.port) }
  end

  def test_config_errors
    assert_raises(Smtp::SMTPTLSError) { Smtp::TLSConfig.new(ca_file: '/nonexistent/ca.pem') }
    assert_raises(Smtp::ArgumentError) { Smtp::TLSConfig.new(server_name: 'not a name') }
    assert_raises(Smtp::SMTPTLSError) { Smtp::TLSConfig.new(default_roots: false) }
  end
end

# frozen_string_literal: true

require_relative 'test_helper'
require 'open3'
require 'rbconfig'

# The exception mapping and how the library is found.
class TestErrorsAndLoading < Minitest::Test
  include SmtpTestHelpers

  # Every code of the library but SMTP_OK (Smtp::RESULTS comes from it).
  CODES = Smtp::RESULTS.values.reject(&:zero?).freeze

  def test_one_class_per_result_code
    assert_equal 0, Smtp::RESULTS['SMTP_OK']
    assert_equal 11, Smtp::RESULTS['SMTP_ERR_TIMEOUT'] # ABI: fixed numbers
    assert_equal 30, Smtp::RESULTS['SMTP_ERR_TOO_LARGE']
    assert_equal Smtp::RESULTS.keys.reject { |n| n == 'SMTP_OK' }.sort, Smtp::ERROR_NAMES.keys.sort,
                 'a class for every code of the library, and no other'
    classes = CODES.map { |c| Smtp.error_class(c) }
    assert_equal classes.uniq.size, CODES.size, 'two result codes share an exception class'
    assert_equal CODES.sort, Smtp::ERRORS.keys.sort
    CODES.each do |code|
      refute_equal 'unknown result code', Smtp.result_str(code), "code #{code} unknown to the library"
    end
    assert_equal 'unknown result code', Smtp.result_str(31), 'the library has a code this binding does not map'
  end

  # The codes whose error carries the server's reply are the library's
  # answer; each has a class that can hold one.
  def test_reply_codes_from_the_library
    with = Smtp::RESULTS.select { |_, code| Smtp.result_has_reply?(code) }.keys.sort
    assert_equal %w[SMTP_ERR_AUTH SMTP_ERR_AUTH_ABORTED SMTP_ERR_CONNECT_REPLY SMTP_ERR_DATA SMTP_ERR_HELO
                    SMTP_ERR_RECIPIENTS_REFUSED SMTP_ERR_RESPONSE SMTP_ERR_SENDER_REFUSED], with
    with.each do |name|
      klass = Smtp::ERROR_NAMES.fetch(name)
      assert klass <= Smtp::SMTPResponseException || klass <= Smtp::SMTPRecipientsRefused, name
    end
    refute Smtp.result_has_reply?(1000)
  end

  def test_smtplib_hierarchy
    assert_operator Smtp::SMTPException, :<, StandardError
    {
      Smtp::SMTPServerDisconnected => Smtp::SMTPException,
      Smtp::SMTPResponseException => Smtp::SMTPException,
      Smtp::SMTPSenderRefused => Smtp::SMTPResponseException,
      Smtp::SMTPRecipientsRefused => Smtp::SMTPException,
      Smtp::SMTPDataError => Smtp::SMTPResponseException,
      Smtp::SMTPConnectError => Smtp::SMTPResponseException,
      Smtp::SMTPHeloError => Smtp::SMTPResponseException,
      Smtp::SMTPNotSupportedError => Smtp::SMTPException,
      Smtp::SMTPAuthenticationError => Smtp::SMTPResponseException,
      Smtp::SMTPTimeoutError => Smtp::SMTPTransportError,
      Smtp::SMTPCancelledError => Smtp::SMTPTransportError,
      Smtp::SMTPTransportError => Smtp::SMTPException,
      Smtp::ArgumentError => ::ArgumentError
    }.each { |sub, sup| assert_operator sub, :<, sup }
    refute_operator Smtp::SMTPCancelledError, :<=, Smtp::SMTPTimeoutError
    assert_same Smtp::SMTPCancelledError, Smtp::CancelledError
    assert_same Smtp::SMTPCancelledError, Smtp.error_class(16)
    refute_operator Smtp::SMTPRecipientsRefused, :<, Smtp::SMTPResponseException
    assert_equal Smtp::SMTPException, Smtp.error_class(29)
    e = Smtp::SMTPResponseException.new(smtp_code: 554, smtp_error: 'no')
    assert_equal [554, 'no'], [e.smtp_code, e.smtp_error]
    assert_equal 'x@example.com', Smtp::SMTPSenderRefused.new('m', sender: 'x@example.com').sender
  end

  def test_not_connected
    s = Smtp::Session.new
    e = assert_raises(Smtp::SMTPServerDisconnected) { s.ehlo }
    assert_equal 14, e.result
    assert_match(/connect/, e.message)
    assert_raises(Smtp::SMTPServerDisconnected) { s.quit }
  end

  def run_ruby(env, code)
    Open3.capture3(env, RbConfig.ruby, '-I', File.expand_path('../lib', __dir__), '-e', code)
  end

  def test_library_path_from_pkg_config_and_env
    libdir = IO.popen(%w[pkg-config --variable=libdir smtp], &:read).strip
    skip 'pkg-config does not know smtp' if libdir.empty?

    assert_equal File.join(libdir, 'libsmtp.so'), Smtp.library_path unless ENV['LIBSMTP_PATH']
    show = 'require "smtp"; puts Smtp.library_path; puts Smtp.lib_version'
    out, err, st = run_ruby({ 'LIBSMTP_PATH' => File.join(libdir, 'libsmtp.so.0') }, show)
    assert st.success?, err
    assert_equal [File.join(libdir, 'libsmtp.so.0'), Smtp.lib_version], out.lines(chomp: true)

    _out, err, st = run_ruby({ 'LIBSMTP_PATH' => '/nonexistent/libsmtp.so' }, show)
    refute st.success?
    assert_match(%r{/nonexistent/libsmtp\.so}, err)

    # Without LIBSMTP_PATH and without pkg-config's answer: the loader's
    # search path ('smtp').
    env = { 'LIBSMTP_PATH' => nil, 'PKG_CONFIG_PATH' => '/nonexistent', 'PKG_CONFIG_LIBDIR' => '/nonexistent',
            'LD_LIBRARY_PATH' => libdir }
    out, err, st = run_ruby(env, show)
    assert st.success?, err
    assert_equal 'smtp', out.lines(chomp: true).first
  end

  # A copy of lib/ with +bundled+ (a file's bytes) as the gem's library.
  def lib_with_bundled(dir, bundled)
    FileUtils.cp_r(File.expand_path('../lib', __dir__), dir)
    File.binwrite(File.join(dir, 'lib/smtp/libsmtp.so.0'), bundled)
    File.join(dir, 'lib')
  end

  def test_bundled_library_first_then_the_installed_one
    libdir = IO.popen(%w[pkg-config --variable=libdir smtp], &:read).strip
    skip 'pkg-config does not know smtp' if libdir.empty?

    real = File.binread(File.join(libdir, 'libsmtp.so.0'))
    show = 'require "smtp"; puts Smtp.loaded_library; puts Smtp.lib_version'
    Dir.mktmpdir do |dir|
      lib = lib_with_bundled(dir, real)
      # The bundled library wins over LIBSMTP_PATH, even a wrong one.
      out, err, st = Open3.capture3({ 'LIBSMTP_PATH' => '/nonexistent/libsmtp.so' }, RbConfig.ruby, '-I', lib,
                                    '-e', show)
      assert st.success?, err
      assert_equal [File.join(lib, 'smtp/libsmtp.so.0'), Smtp.lib_version], out.lines(chomp: true)
    end
    Dir.mktmpdir do |dir|
      # A bundled library that does not load (here: not an ELF file; in
      # life: a glibc older than it needs) falls back to the installed one.
      lib = lib_with_bundled(dir, 'not a library')
      out, err, st = Open3.capture3({ 'LIBSMTP_PATH' => File.join(libdir, 'libsmtp.so.0') }, RbConfig.ruby,
                                    '-I', lib, '-e', show)
      assert st.success?, err
      assert_equal File.join(libdir, 'libsmtp.so.0'), out.lines(chomp: true).first
    end
  end
end

# frozen_string_literal: true

# The gem libsmtp. Built by dist.sh (`sh bindings/ruby/dist.sh OUTDIR` from
# the repository root after `make stage`), which puts the release library
# at lib/smtp/libsmtp.so.0 first: the gem is then a platform gem (the
# build machine's, e.g. x86_64-linux) that loads its own library. Built
# without it (`gem build` here), it is a pure gem that finds an installed
# libsmtp (LIBSMTP_PATH, pkg-config, the loader).
require_relative 'lib/smtp/version'

Gem::Specification.new do |spec|
  spec.name = 'libsmtp'
  spec.version = Smtp::VERSION
  spec.summary = "An SMTP and LMTP client with Python smtplib's semantics (libsmtp, through ffi)"
  spec.description = <<~TEXT
    Ruby binding of libsmtp, an SMTP/LMTP client library written in Rust with a C ABI: smtplib's
    API (sendmail, send_message, login, STARTTLS, ...) plus streaming from an IO, batches, a
    connection pool, DSN and other envelope options, proxies and per-phase timeouts, and a MIME
    message builder with DKIM signing (Smtp::Message, Smtp::DKIM). Calls release
    the GVL and can be interrupted (Thread#raise, Timeout, Ctrl-C) or cancelled.
  TEXT
  spec.authors = ['The libsmtp authors']
  spec.licenses = ['MIT', 'Apache-2.0'] # MIT OR Apache-2.0, as the library
  spec.required_ruby_version = '>= 3.0'
  spec.metadata = { 'rubygems_mfa_required' => 'true' }

  bundled = 'lib/smtp/libsmtp.so.0'
  spec.files = Dir.chdir(__dir__) { Dir['lib/**/*.rb', 'sig/**/*.rbs', 'README.md'] }
  if File.exist?(File.join(__dir__, bundled))
    spec.files << bundled
    spec.platform = Gem::Platform.local
  end
  spec.require_paths = ['lib']

  spec.add_dependency 'ffi', '>= 1.15', '< 2'
end

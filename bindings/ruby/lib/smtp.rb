# frozen_string_literal: true

# libsmtp for Ruby: an SMTP/LMTP client with Python smtplib's semantics,
# over the C library through the ffi gem.
#
#   require 'libsmtp'   # or require 'smtp'
#   Smtp::Session.start('localhost', 25) do |s|
#     refused = s.sendmail('alice@example.com', ['bob@example.com'], message)
#     s.send_composed(Smtp::Message.new(from: 'alice@example.com', to: 'bob@example.com',
#                                       subject: 'Hi', text: "Hello.\n"))
#   end
#
# The library is the one bundled in the gem, else found through
# ENV['LIBSMTP_PATH'], pkg-config or the dynamic loader (see
# Smtp.library_path).
module Smtp
end

require_relative 'smtp/version'
require_relative 'smtp/native'
require_relative 'smtp/errors'
require_relative 'smtp/args'
require_relative 'smtp/callbacks'
require_relative 'smtp/callbacks/compose'
require_relative 'smtp/tls_config'
require_relative 'smtp/envelope'
require_relative 'smtp/session'
require_relative 'smtp/pool'
require_relative 'smtp/dkim'
require_relative 'smtp/message'

# frozen_string_literal: true

module Smtp
  # The binding's (and the gem's) version; the library's is Smtp.lib_version.
  VERSION = '0.1.0'
end

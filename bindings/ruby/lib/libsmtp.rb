# frozen_string_literal: true

# The gem is named libsmtp; its module is Smtp (require 'smtp' works too).
require_relative 'smtp'

module github.com/libsmtp/libsmtp/bindings/go

go 1.19

//go:build !libsmtp_static

package smtp

// The default link: libsmtp.so, found through pkg-config module "smtp"
// (PKG_CONFIG_PATH=PREFIX/lib/pkgconfig for a prefix pkg-config does not
// search). The binary then needs libsmtp.so.0 at run time: on the loader's
// path, or an rpath (CGO_LDFLAGS=-Wl,-rpath,PREFIX/lib). The build tag
// libsmtp_static links libsmtp.a instead (link_static.go).
//
// This is the package's only #cgo directive: cgo joins the directives of
// every file of a package, so the other files only #include <smtp.h>.

// #cgo pkg-config: smtp
import "C"

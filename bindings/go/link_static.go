//go:build libsmtp_static

package smtp

// The static link (go build -tags libsmtp_static): libsmtp.a goes into
// the binary, which then needs no libsmtp.so at run time (ldd lists none).
//
// pkg-config --static gives the include path, -L PREFIX/lib, -lsmtp and
// the system libraries libsmtp.a needs (its Libs.private). -lsmtp alone
// would pick libsmtp.so, which sits beside libsmtp.a: so libsmtp.a is
// named first, by file name (-l:libsmtp.a, found through that -L; cgo
// puts #cgo LDFLAGS before pkg-config's flags), and --as-needed keeps the
// later -lsmtp from recording libsmtp.so as needed, since by then
// libsmtp.a has defined every smtp_ symbol. The system libraries stay
// shared (glibc's libc, libpthread, libdl, libm, librt, libutil).

// #cgo LDFLAGS: -l:libsmtp.a -Wl,--as-needed
// #cgo pkg-config: --static smtp
import "C"

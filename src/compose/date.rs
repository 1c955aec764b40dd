//! The Date field (RFC 5322 3.3) from a Unix time and a UTC offset, and
//! unique tokens for Message-ID (3.6.4) and MIME boundaries, with no
//! clock or calendar crate (the calendar is the certificate reports'
//! civil-from-days).

use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch, now.
pub fn now() -> i64 {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    }
}

/// `Mon, 02 Jan 2006 15:04:05 -0700` for `unix` seconds at `offset_min`
/// minutes east of UTC.
pub fn rfc5322(unix: i64, offset_min: i32) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let local = unix + i64::from(offset_min) * 60;
    let days = local.div_euclid(86_400);
    let secs = local.rem_euclid(86_400);
    let (y, m, d) = crate::tls::describe::civil_from_days(days);
    let sign = if offset_min < 0 { '-' } else { '+' };
    let off = offset_min.unsigned_abs();
    format!(
        "{}, {d:02} {} {y:04} {:02}:{:02}:{:02} {sign}{:02}{:02}",
        DAYS[days.rem_euclid(7) as usize],
        MONTHS[m as usize - 1],
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
        off / 60,
        off % 60
    )
}

/// 16 random bytes as 32 hex digits (the system's random source; a clock
/// and counter when it fails, which still differs per call).
pub fn token() -> String {
    let mut b = [0u8; 16];
    if getrandom::getrandom(&mut b).is_err() {
        use std::sync::atomic::{AtomicU64, Ordering};
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let t = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
        b[..8].copy_from_slice(&t.to_be_bytes());
        b[8..]
            .copy_from_slice(&(COUNTER.fetch_add(1, Ordering::Relaxed) ^ u64::from(std::process::id())).to_be_bytes());
    }
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(rfc5322(0, 0), "Thu, 01 Jan 1970 00:00:00 +0000");
        assert_eq!(rfc5322(1_136_239_445, -420), "Mon, 02 Jan 2006 15:04:05 -0700");
        assert_eq!(rfc5322(951_782_400, 0), "Tue, 29 Feb 2000 00:00:00 +0000");
        assert_eq!(rfc5322(1_700_000_000, 330), "Wed, 15 Nov 2023 03:43:20 +0530");
        assert_eq!(rfc5322(-1, 0), "Wed, 31 Dec 1969 23:59:59 +0000");
    }

    #[test]
    fn tokens_differ() {
        let (a, b) = (token(), token());
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
    }
}

//! Who the client is: the socket's peer address, or, when that peer is the
//! proxy named by `--trust-proxy`, the address it put last in
//! `X-Forwarded-For` (the one it saw; earlier entries are the client's say).

use axum::http::HeaderMap;
use std::net::IpAddr;

/// The client's address for rate limits and session shares.
pub fn client_addr(
    peer: Option<IpAddr>,
    headers: &HeaderMap,
    trust: Option<IpAddr>,
) -> Option<IpAddr> {
    let peer = peer?;
    if trust != Some(peer) {
        return Some(peer);
    }
    let forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .last()
        .and_then(|a| a.trim().parse::<IpAddr>().ok());
    Some(forwarded.unwrap_or(peer))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in xff {
            h.append("x-forwarded-for", HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn forwarded_only_from_the_trusted_proxy() {
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let other: IpAddr = "192.0.2.7".parse().unwrap();
        let h = headers(&["203.0.113.9, 198.51.100.4"]);
        // Not configured, or another peer: the socket's address.
        assert_eq!(client_addr(Some(proxy), &h, None), Some(proxy));
        assert_eq!(client_addr(Some(other), &h, Some(proxy)), Some(other));
        // The trusted proxy: the last address, the one it saw.
        assert_eq!(
            client_addr(Some(proxy), &h, Some(proxy)),
            "198.51.100.4".parse().ok()
        );
        let two = headers(&["203.0.113.9", "198.51.100.5"]);
        assert_eq!(
            client_addr(Some(proxy), &two, Some(proxy)),
            "198.51.100.5".parse().ok()
        );
        // Missing or garbage: the proxy itself.
        assert_eq!(
            client_addr(Some(proxy), &headers(&[]), Some(proxy)),
            Some(proxy)
        );
        assert_eq!(
            client_addr(Some(proxy), &headers(&["not an address"]), Some(proxy)),
            Some(proxy)
        );
        assert_eq!(client_addr(None, &h, Some(proxy)), None);
    }
}
